package canonicaljson

// The fast path for canonical input and the parser behind it, for the tests of
// package canonicaljson_test that compare the two.
var (
	AlreadyCanonical   = alreadyCanonical
	ParseAppend        = parseAppend
	ParseAppendIndexed = parseAppendIndexed
	ParseValid         = parseValid
)

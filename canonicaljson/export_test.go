package canonicaljson

// The fast path for canonical input and the parser behind it, for the tests of
// package canonicaljson_test that compare the two.
var (
	AlreadyCanonical = alreadyCanonical
	ParseAppend      = parseAppend
	ParseValid       = parseValid
)

// ParseAppendIndexed is AppendIndexed without the fast path for canonical input.
func ParseAppendIndexed(dst, data []byte, opts Options, idx *Index) ([]byte, error) {
	return parseAppendIndexedMode(dst, data, opts, idx, false)
}

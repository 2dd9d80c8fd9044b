package canonicaljson

import (
	"errors"
	"strconv"
)

// Sentinel errors, matched with errors.Is against any error this package
// returns. Every returned error is a *SyntaxError whose Err field holds one of
// them. The split follows the Matrix error codes: ErrSyntax (and the errors
// that are also ErrSyntax: ErrTrailingData, ErrInvalidUTF8) mean the bytes are
// not JSON at all (M_NOT_JSON); the strict-mode errors ErrFloat,
// ErrNegativeZero, ErrIntegerRange, ErrDuplicateKey and ErrLoneSurrogate mean
// the bytes are JSON but break the restrictions of the appendix "Canonical
// JSON" that room versions 6 and later enforce (M_BAD_JSON); ErrTooDeep is the
// package's own nesting limit.
var (
	// ErrSyntax reports malformed JSON (RFC 8259): a bad token, a missing
	// separator, an unterminated string, leading zeros, comments, trailing
	// commas and the like. errors.Is(err, ErrSyntax) also holds for
	// ErrTrailingData and ErrInvalidUTF8.
	ErrSyntax = errors.New("malformed JSON")

	// ErrTrailingData reports bytes other than whitespace after the top-level
	// value. It is a kind of ErrSyntax.
	ErrTrailingData = errors.New("data after the top-level value")

	// ErrFloat reports, in strict mode, a number with a fraction or an
	// exponent, which "Canonical JSON" (appendices) forbids: numbers are
	// "represented without exponents or decimal places".
	ErrFloat = errors.New("number with a fraction or exponent")

	// ErrNegativeZero reports, in strict mode, the number -0, which
	// "Canonical JSON" (appendices) says "MUST NOT appear".
	ErrNegativeZero = errors.New("negative zero")

	// ErrIntegerRange reports, in strict mode, an integer outside
	// [-(2**53)+1, (2**53)-1], the range "Canonical JSON" (appendices) allows.
	ErrIntegerRange = errors.New("integer out of range [-(2**53)+1, (2**53)-1]")

	// ErrDuplicateKey reports, in strict mode, an object that holds the same
	// key twice. Keys are compared after unescaping, so "a" and "\u0061" are
	// the same key.
	ErrDuplicateKey = errors.New("duplicate object key")

	// ErrLoneSurrogate reports, in strict mode, a \uXXXX escape of a UTF-16
	// surrogate that is not part of a high-low pair: it names no Unicode code
	// point, so it has no UTF-8 encoding.
	ErrLoneSurrogate = errors.New("unpaired UTF-16 surrogate escape")

	// ErrInvalidUTF8 reports bytes that are not well-formed UTF-8 (including
	// overlong forms and UTF-8-encoded surrogates), in either mode.
	// "Canonical JSON" (appendices) is UTF-8. It is a kind of ErrSyntax.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")

	// ErrTooDeep reports arrays and objects nested deeper than
	// Options.MaxDepth, in either mode.
	ErrTooDeep = errors.New("nesting too deep")
)

// SyntaxError is the one error type of this package, for JSON that is
// malformed or breaks the rules of "Canonical JSON" (appendices). Offset is
// the byte offset in the input at which the problem was found, Err is one of
// the sentinel errors (ErrSyntax, ErrFloat, ...), and Msg says in words what
// is wrong.
type SyntaxError struct {
	Offset int64  // byte offset in the input
	Err    error  // the sentinel: ErrSyntax, ErrTrailingData, ErrFloat, ...
	Msg    string // what was wrong, e.g. "invalid character 'x' looking for beginning of value"
}

// Error names the offset and what is wrong.
func (e *SyntaxError) Error() string {
	return "canonicaljson: " + e.Msg + " at offset " + strconv.FormatInt(e.Offset, 10)
}

// Unwrap returns the sentinel error held in Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrSyntax) hold for ErrTrailingData and
// ErrInvalidUTF8 as well: both mean the input is not JSON.
func (e *SyntaxError) Is(target error) bool {
	return target == ErrSyntax && (e.Err == ErrTrailingData || e.Err == ErrInvalidUTF8)
}

func newError(off int, sentinel error, msg string) *SyntaxError {
	return &SyntaxError{Offset: int64(off), Err: sentinel, Msg: msg}
}

// quoteChar describes the byte c for an error message.
func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

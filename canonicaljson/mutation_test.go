package canonicaljson

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"errors"
	"strings"
	"testing"
)

// TestMutationDuplicateKeyMessage: the error for a duplicate key quotes at most 64 bytes of
// the key, then "...".
func TestMutationDuplicateKeyMessage(t *testing.T) {
	tests := []struct {
		mutant string
		key    string
		want   string
	}{
		{"canonicaljson/canonical.go:599 '64' -> '65' (65 bytes: cut)", strings.Repeat("k", 65), `duplicate key "` + strings.Repeat("k", 64) + `"... in object`},
		{"(64 bytes: whole)", strings.Repeat("k", 64), `duplicate key "` + strings.Repeat("k", 64) + `" in object`},
	}
	for _, tt := range tests {
		_, err := CanonicalStrict([]byte(`{"` + tt.key + `":1,"` + tt.key + `":2}`))
		if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrDuplicateKey with %q", tt.mutant, err, tt.want)
		}
	}
}

// TestMutationLeadingZeroFastPath: a number with a leading zero followed by seven more bytes
// (the eight-byte fast path of the canonical check) is not canonical JSON, nor JSON.
func TestMutationLeadingZeroFastPath(t *testing.T) {
	// canonicaljson/check.go:106 '1' -> '2' ("01" taken as a canonical number)
	for _, in := range []string{"[01,0,0,0,0]", "[-01,0,0,0,0]", "[0012345,0]"} {
		for name, f := range map[string]func([]byte) ([]byte, error){"Canonical": Canonical, "CanonicalStrict": CanonicalStrict} {
			out, err := f([]byte(in))
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("%s(%s) = %q, %v; want ErrSyntax", name, in, out, err)
			}
		}
	}
}

// TestMutationErrorMessages: exact error texts the other tests did not pin.
func TestMutationErrorMessages(t *testing.T) {
	tests := []struct {
		mutant string
		in     string
		want   string
	}{
		{"canonicaljson/errors.go:98 '0x7f' -> '128' (DEL is a byte, not a character)", "\x7f",
			"canonicaljson: invalid character byte 0x7f looking for beginning of value at offset 0"},
		{"(the last printable ASCII byte)", "~",
			"canonicaljson: invalid character '~' looking for beginning of value at offset 0"},
		{"canonicaljson/number.go:207 '40' -> '41' (a 41-byte token is cut to 40)", strings.Repeat("9", 41),
			"canonicaljson: integer " + strings.Repeat("9", 40) + "... is outside [-(2**53)+1, (2**53)-1] at offset 0"},
		{"(a 40-byte token is whole)", strings.Repeat("9", 40),
			"canonicaljson: integer " + strings.Repeat("9", 40) + " is outside [-(2**53)+1, (2**53)-1] at offset 0"},
	}
	for _, tt := range tests {
		_, err := CanonicalStrict([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: %v, want %s", tt.mutant, err, tt.want)
		}
	}
}

package roomversion

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import "testing"

// TestMutationUnknownVersionErrorText: the two texts of UnknownVersionError.
func TestMutationUnknownVersionErrorText(t *testing.T) {
	// roomversion/roomversion.go:239 'e.Altered' -> '!(e.Altered)'
	for _, tt := range []struct {
		e    UnknownVersionError
		want string
	}{
		{UnknownVersionError{ID: "x"}, `roomversion: unknown room version "x"`},
		{UnknownVersionError{ID: "10", Altered: true}, `roomversion: room version "10" with rules other than its own`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
}

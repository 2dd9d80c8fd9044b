package serveracl

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation2.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import "testing"

// TestMutationIPLiteralNine: the digit 9 is a digit of an IPv4 literal.
// serveracl/serveracl.go:179 '<=' -> '<' ("9.9.9.9" was not an IP literal)
func TestMutationIPLiteralNine(t *testing.T) {
	for host, want := range map[string]bool{"9.9.9.9": true, "1.2.3.9": true, "199.99.249.0": true, "1.2.3.256": false, "9.9.9": false} {
		if got := IsIPLiteral(host); got != want {
			t.Errorf("IsIPLiteral(%q) = %v, want %v", host, got, want)
		}
	}
}

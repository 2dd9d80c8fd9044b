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

// TestMutationNonUTF8Byte (round three, /work/logs/audit-mutation3.md): a byte that is not
// UTF-8 (here 0x80) is a character of its own in a pattern: it matches itself, and it does not
// match the last byte of a name's multi-byte character ("Ā" is C4 80).
func TestMutationNonUTF8Byte(t *testing.T) {
	for _, tt := range []struct {
		mutant, pattern, name string
		want                  bool
	}{
		{"serveracl/match.go:64 '<' -> '<=' (0x80 read as an ASCII character: index out of range)", "a\x80*", "a\x80b", true},
		{"serveracl/serveracl.go:209 '>=' -> '>' (0x80 as plain ASCII: the suffix shortcut matched inside Ā)", "*\x80", "Ā", false},
	} {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("%s: Match(%q, %q) = %v, want %v", tt.mutant, tt.pattern, tt.name, got, tt.want)
		}
	}
}

// TestMutationMatcherReuse (round four, /work/logs/audit-mutation4.md): ACL.Allowed matches one
// name against every pattern with one matcher, built once; the second glob pattern must see
// the same name as the first.
func TestMutationMatcherReuse(t *testing.T) {
	// serveracl/match.go:92 'm.built = true' -> '' (built again for each pattern, counting the
	// name's characters twice)
	for _, tt := range []struct {
		acl  ACL
		want bool
	}{
		{ACL{Deny: []string{"x?z"}, Allow: []string{"a?c"}}, true},
		{ACL{Deny: []string{"x?z", "a*c"}, Allow: []string{"*"}}, false},
		{ACL{Allow: []string{"b?c", "z*", "?b?"}}, true},
	} {
		if got := tt.acl.Allowed("abc"); got != tt.want {
			t.Errorf("%+v.Allowed(\"abc\") = %v, want %v", tt.acl, got, tt.want)
		}
	}
}

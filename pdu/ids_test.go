package pdu

import (
	"strings"
	"testing"
)

// TestValidServerName walks the grammar of appendices "Server Name" branch by branch.
func TestValidServerName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		// dns-name = 1*255dns-char
		{"example.org", true},
		{"a", true},
		{"EXAMPLE-1.org", true},
		{"-.-", true}, // the grammar has no label rules
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), false},
		{"", false},
		{"exa_mple.org", false},
		{"exämple.org", false},
		{"example.org ", false},
		{"user@example.org", false},
		// IPv4address: matched by dns-name as well
		{"1.2.3.4", true},
		{"1.2.3.4:8448", true},
		// port = 1*5DIGIT
		{"example.org:0", true},
		{"example.org:99999", true},
		{"example.org:123456", false},
		{"example.org:", false},
		{"example.org:8a", false},
		{"example.org:+1", false},
		{"example.org:80:80", false},
		{":80", false},
		// "[" IPv6address "]", IPv6address = 2*45IPv6char
		{"[::1]", true},
		{"[::1]:8448", true},
		{"[2001:DB8::a]", true},
		{"[::ffff:1.2.3.4]", true},
		{"[" + strings.Repeat("a", 45) + "]", true},
		{"[" + strings.Repeat("a", 46) + "]", false},
		{"[:]", false}, // one IPv6char: the grammar wants two
		{"[]", false},
		{"[::1", false},
		{"[::g]", false},
		{"[::1]x", false},
		{"[::1]:", false},
		{"[::1]:123456", false},
		{"[[::1]]", false},
		{"::1", false}, // unbracketed: host "" before the first ':'
	} {
		if got := ValidServerName(tc.in); got != tc.want {
			t.Errorf("ValidServerName(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

package claimsb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roomproto/roomproto/serveracl"
)

// decisions.md (Server ACLs) 1, 6; go doc serveracl.IsIPLiteral.
func TestACLIsIPLiteral(t *testing.T) {
	for h, want := range map[string]bool{
		"1.2.3.4": true, "01.2.3.4": true, "255.255.255.255": true, "256.1.1.1": false,
		"1.2.3": false, "127.1": false, "16909060": false, "0001.2.3.4": false,
		"[::1]": true, "[..]": true, "[1a]": true, "[1.2.3.4]": true,
		"[evil.com]": false, "[::1": false, "[]": false, "evil.com": false,
		"[" + strings.Repeat("a", 45) + "]": true, "[" + strings.Repeat("a", 46) + "]": false, "[a]": false,
	} {
		if got := serveracl.IsIPLiteral(h); got != want {
			t.Errorf("IsIPLiteral(%q) = %v, want %v", h, got, want)
		}
	}
}

// go doc serveracl.Host.
func TestACLHost(t *testing.T) {
	for in, want := range map[string]string{
		"evil.com:8448": "evil.com", "evil.com": "evil.com", "[::1]:8448": "[::1]", "[::1]": "[::1]",
		"a:b:c": "a", "[x]y:1": "[x]", "[::1": "[::1",
	} {
		if got := serveracl.Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
	for _, s := range []string{"a:b:c", "[x]y:1:2", "[:::]:]", "]:[", "[", ":", "[]:"} {
		if h := serveracl.Host(s); serveracl.Host(h) != h {
			t.Errorf("Host(Host(%q)) = %q != %q", s, serveracl.Host(h), h)
		}
	}
}

// go doc serveracl.Match; decisions.md (Server ACLs) 2.
func TestACLMatch(t *testing.T) {
	for _, c := range []struct {
		p, n string
		want bool
	}{
		{"*", "", true}, {"?", "", false}, {"?", "é", true}, {"??", "é", false},
		{"?", "\xff", true}, {"a?c", "a\xffc", true},
		{"evil.com", "EVIL.com", false}, {"evil.com", "evil.com.", false},
		{"*.evil.com", "a.evil.com", true}, {"*.evil.com", "evil.com", false},
		{"ev*l.c?m", "evXXl.com", true}, {"a*b*c", "abbbbc", true}, {"a*b*c", "abbbb", false},
	} {
		if got := serveracl.Match(c.p, c.n); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.p, c.n, got, c.want)
		}
	}
}

// decisions.md (Server ACLs) 5: linear time and memory; a 1 MB name does not exhaust memory.
func TestACLMatchLinear(t *testing.T) {
	name := strings.Repeat("a", 1<<20)
	pat := strings.Repeat("*a", 200) + "b*"
	start := time.Now()
	if serveracl.Match(pat, name) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	names := strings.Repeat("éa", 1<<18)
	if serveracl.Match("*é?b*", names) {
		t.Fatal("matched non-ASCII")
	}
}

// go doc serveracl.Parse; decisions.md (Server ACLs) 4.
func TestACLParse(t *testing.T) {
	for _, c := range []struct {
		content string
		ip      bool
		allow   int
		deny    int
		notObj  bool
	}{
		{`{}`, true, 0, 0, false},
		{`{"allow_ip_literals":false}`, false, 0, 0, false},
		{`{"allow_ip_literals":"false"}`, true, 0, 0, false},
		{`{"allow_ip_literals":0}`, true, 0, 0, false},
		{`{"allow":["*",5,null,"a"],"deny":{"x":1}}`, true, 2, 0, false},
		{`{"allow":"*"}`, true, 0, 0, false},
		{`[]`, true, 0, 0, true},
		{`"x"`, true, 0, 0, true},
	} {
		a, err := serveracl.Parse([]byte(c.content))
		if c.notObj {
			if !errors.Is(err, serveracl.ErrNotObject) {
				t.Errorf("Parse(%s): %v", c.content, err)
			}
			continue
		}
		if err != nil || a.AllowIPLiterals != c.ip || len(a.Allow) != c.allow || len(a.Deny) != c.deny {
			t.Errorf("Parse(%s) = %+v, %v", c.content, a, err)
		}
	}
}

// go doc serveracl.ACL.Allowed, Allowed, Of; decisions.md (Server ACLs) 1-4, 6.
func TestACLAllowed(t *testing.T) {
	for _, c := range []struct {
		content string
		name    string
		want    bool
	}{
		{`{"allow":["*"],"deny":["evil.com"]}`, "evil.com", false},
		{`{"allow":["*"],"deny":["evil.com"]}`, "evil.com:8448", false},
		{`{"allow":["*"],"deny":["evil.com"]}`, "EVIL.com", true},
		{`{"allow":["*"],"deny":["evil.com"]}`, "evil.com.", true},
		{`{"allow":["*"],"deny":["evil.com"]}`, "evil.com:8448:80", false},
		{`{"allow":["*"]}`, "", false},
		{`{"allow":["*"]}`, "[x]y", false},
		{`{"allow":["*"]}`, "a.example:123456", false},
		{`{"allow":["*"]}`, "[..]", true},
		{`{"allow":["*"],"allow_ip_literals":false}`, "[..]", false},
		{`{"allow":["*"],"allow_ip_literals":false}`, "[1.2.3.4]:80", false},
		{`{"allow":["*"],"allow_ip_literals":false}`, "1.2.3.4", false},
		{`{"allow":["*"],"allow_ip_literals":false}`, "01.2.3.4", false},
		{`{"allow":["*"],"allow_ip_literals":false}`, "127.1", true},
		{`{"allow":["*"],"allow_ip_literals":false}`, "256.1.1.1", true},
		{`{"allow":["*"],"allow_ip_literals":"no"}`, "1.2.3.4", true},
		{`{"allow":"*"}`, "good.example", false},
		{`{"allow":["*"],"deny":[5,"evil.com"]}`, "evil.com", false},
		{`{"deny":["x"]}`, "good.example", false},
		{`{"allow":["*.example"],"deny":["bad.*"]}`, "bad.example", false},
	} {
		a, err := serveracl.Parse([]byte(c.content))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Allowed(c.name); got != c.want {
			t.Errorf("%s Allowed(%q) = %v, want %v", c.content, c.name, got, c.want)
		}
	}
	// Allowed on a State: no ACL allows every name, even one that is not a server name
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	s := r.state(t)
	if !serveracl.Allowed(s, "evil.com:8448:80") {
		t.Error("no ACL must allow every name")
	}
	if _, ok := serveracl.Of(s); ok {
		t.Error("Of without ACL")
	}
	acl := ev(t, v, M{"type": "m.room.server_acl", "state_key": "", "content": M{"allow": []any{"*"}, "deny": []any{"evil.com"}}})
	s2 := r.state(t, acl)
	if a, ok := serveracl.Of(s2); !ok || len(a.Deny) != 1 {
		t.Errorf("Of = %+v %v", a, ok)
	}
	if serveracl.Allowed(s2, "evil.com") || !serveracl.Allowed(s2, "good.com") {
		t.Error("Allowed on state")
	}
	// an ACL under another state key is not the room's
	other := ev(t, v, M{"type": "m.room.server_acl", "state_key": "x", "content": M{"allow": []any{}}})
	if !serveracl.Allowed(r.state(t, other), "good.com") {
		t.Error("ACL with non-empty state key counted")
	}
}

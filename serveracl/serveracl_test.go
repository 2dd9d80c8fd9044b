package serveracl_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
)

type aclCase struct {
	Name    string          `json:"name"`
	Source  string          `json:"source"`
	Content json.RawMessage `json:"content"`
	Checks  map[string]bool `json:"checks"` // server name -> allowed
}

// TestAllowedFixtures runs testdata/serveracl/allowed.json: each case is the content of an
// m.room.server_acl event and the exact verdict for some server names, through Parse and
// ACL.Allowed, and through a room state (Of, Allowed).
func TestAllowedFixtures(t *testing.T) {
	data, err := os.ReadFile("../testdata/serveracl/allowed.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []aclCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	v, _ := roomversion.Lookup("10")
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			acl, err := serveracl.Parse(tc.Content)
			if err != nil {
				t.Fatal(err)
			}
			s := stateWith(t, v, string(tc.Content))
			for server, want := range tc.Checks {
				if got := acl.Allowed(server); got != want {
					t.Errorf("Allowed(%q) = %v, want %v (ACL %+v)", server, got, want, acl)
				}
				if got := serveracl.Allowed(s, server); got != want {
					t.Errorf("state: Allowed(%q) = %v, want %v", server, got, want)
				}
			}
		})
	}
}

// stateWith returns a room state whose m.room.server_acl has the given content ("" for none).
func stateWith(t *testing.T, v roomversion.Version, content string) *authrules.State {
	t.Helper()
	event := func(typ, content string) *pdu.Event {
		raw := `{"type":"` + typ + `","state_key":"","sender":"@a:a.example","room_id":"!r:a.example","depth":1,` +
			`"origin_server_ts":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{},"content":` + content + `}`
		ev, err := pdu.Parse(v, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	events := []*pdu.Event{event(pdu.TypeCreate, `{"creator":"@a:a.example"}`)}
	if content != "" {
		events = append(events, event(serveracl.EventType, content))
	}
	s, err := authrules.NewState(v, events)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNoACL: a room without m.room.server_acl allows every server, IP literals included.
func TestNoACL(t *testing.T) {
	v, _ := roomversion.Lookup("10")
	s := stateWith(t, v, "")
	if acl, ok := serveracl.Of(s); ok || acl.Allow != nil {
		t.Fatalf("Of = %+v, %v", acl, ok)
	}
	for _, server := range []string{"a.example", "evil.com:8448", "1.2.3.4", "[::1]", ""} {
		if !serveracl.Allowed(s, server) || !serveracl.Allowed(nil, server) {
			t.Errorf("Allowed(%q) = false without an ACL", server)
		}
	}
}

// TestParse pins Parse's reading of the content.
func TestParse(t *testing.T) {
	cases := []struct {
		content string
		want    serveracl.ACL
		err     error
	}{
		{`{}`, serveracl.ACL{AllowIPLiterals: true}, nil},
		{`{"allow_ip_literals":false,"allow":["a","b"],"deny":["c"]}`, serveracl.ACL{Allow: []string{"a", "b"}, Deny: []string{"c"}}, nil},
		{`{"allow_ip_literals":0}`, serveracl.ACL{AllowIPLiterals: true}, nil},
		{`{"allow":["\u002a",5,"x\ny"]}`, serveracl.ACL{AllowIPLiterals: true, Allow: []string{"*", "x\ny"}}, nil},
		{`[]`, serveracl.ACL{}, serveracl.ErrNotObject},
		{`"x"`, serveracl.ACL{}, serveracl.ErrNotObject},
		{`{`, serveracl.ACL{}, serveracl.ErrNotObject},
	}
	for _, c := range cases {
		got, err := serveracl.Parse([]byte(c.content))
		if err != c.err || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", c.want) {
			t.Errorf("Parse(%s) = %#v, %v; want %#v, %v", c.content, got, err, c.want, c.err)
		}
	}
}

// TestHostAndIPLiteral pins the port stripping and the IP literal grammar.
func TestHostAndIPLiteral(t *testing.T) {
	hosts := map[string]string{
		"a.example": "a.example", "a.example:8448": "a.example", "[::1]": "[::1]", "[::1]:8448": "[::1]",
		"1.2.3.4:80": "1.2.3.4", "": "", "[::1": "[::1", ":8448": "",
	}
	hosts["0::"], hosts["a:b:c"] = "0", "a"
	for in, want := range hosts {
		if got := serveracl.Host(in); got != want || serveracl.Host(got) != got {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
	literals := map[string]bool{
		"1.2.3.4": true, "255.255.255.255": true, "01.02.003.4": true, "[::1]": true,
		"[1234:5678::abcd]": true, "[::ffff:1.2.3.4]": true, "[1:]": true, // decision 6: the grammar
		// Not bracketed IPv6 literals (tools/aclref, class B):
		"[": false, "[:": false, "[]": false, "[::1": false, "[zz]": false, "[evil.com]": false, "[1]": false,
		"999.0.0.1": false, "256.0.0.1": false, "1.2.3.300": false,
		"1.2.3": false, "1.2.3.4.5": false, "1..2.3": false, ".1.2.3": false, "1.2.3.": false,
		"1.2.3.4a": false, "1234.1.1.1": false, "a.example": false, "": false,
	}
	for in, want := range literals {
		if got := serveracl.IsIPLiteral(in); got != want {
			t.Errorf("IsIPLiteral(%q) = %v, want %v", in, got, want)
		}
	}
}

// globRegexp is an independent reading of appendices "Glob-style matching" for
// TestMatchAgreesWithRegexp: the pattern as a regular expression over the whole name.
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

// TestMatchAgreesWithRegexp compares Match with a regular-expression reading of the glob rules
// on random patterns and names over a small alphabet (valid UTF-8, so that both count code
// points alike).
func TestMatchAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "A", ".", "é", "*", "?"}
	word := func(n int, wild bool) string {
		var b strings.Builder
		for range rng.IntN(n + 1) {
			s := alphabet[rng.IntN(len(alphabet))]
			if !wild && (s == "*" || s == "?") {
				s = "a"
			}
			b.WriteString(s)
		}
		return b.String()
	}
	for range 50000 {
		pattern, name := word(7, true), word(8, false)
		if got, want := serveracl.Match(pattern, name), globRegexp(pattern).MatchString(name); got != want {
			t.Fatalf("Match(%q, %q) = %v, regexp says %v", pattern, name, got, want)
		}
	}
	// Long names, whose position sets span several words, against patterns that end in
	// literals so that the carries between words decide.
	for range 20000 {
		name := strings.Repeat("a", rng.IntN(200)) + word(6, false)
		pattern := word(3, true) + "*" + word(3, true) + strings.Repeat("?", rng.IntN(70)) + word(3, false)
		if got, want := serveracl.Match(pattern, name), globRegexp(pattern).MatchString(name); got != want {
			t.Fatalf("Match(%q, %q) = %v, regexp says %v", pattern, name, got, want)
		}
	}
}

// TestMatchLongNames: Match takes memory linear in the name, whatever its characters, and
// time linear in the pattern for each word of the name's position set (the ACL check itself
// only meets server names, at most 261 bytes).
func TestMatchLongNames(t *testing.T) {
	var distinct strings.Builder // 60,000 different non-ASCII characters
	for r := rune(0x4e00); distinct.Len() < 180000; r++ {
		distinct.WriteRune(r)
	}
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*.evil.*", strings.Repeat("a", 1<<20) + ".evil.x", true},
		{"*.evil.?", strings.Repeat("a", 1<<20) + ".evil.xy", false},
		{"*\u4e01*\u4e02?", distinct.String(), false},
		{"\u4e00*", distinct.String(), true},
		{"*\u4e00?\u4e02*", distinct.String(), true},
	}
	for _, c := range cases {
		allocs := testing.AllocsPerRun(1, func() {
			if got := serveracl.Match(c.pattern, c.name); got != c.want {
				t.Errorf("Match(%.20q, %d bytes) = %v, want %v", c.pattern, len(c.name), got, c.want)
			}
		})
		if allocs > 100000 {
			t.Errorf("Match(%.20q): %v allocations", c.pattern, allocs)
		}
	}
}

// TestMatchInvalidUTF8: a byte that is not UTF-8 is one character, equal only to itself.
func TestMatchInvalidUTF8(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"a\xff*", "a\xff.example", true},
		{"a\xfe*", "a\xff.example", false},
		{"a?*", "a\xff.example", true},
		{"a??.example", "a\xff.example", false},
		{"*\xef\xbf\xbd*", "a\xff.example", false}, // U+FFFD does not match an invalid byte
		{"*é?", "xé\xff", true},
		{"*é", "xe\xcc\x81", false}, // composed and decomposed forms differ
	}
	for _, c := range cases {
		if got := serveracl.Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

// FuzzAllowed: for any content and server name, Parse and Allowed neither panic nor disagree
// with the schema's order: a name that matches a deny pattern is denied, the port never matters,
// and Match agrees with the regular-expression reading.
func FuzzAllowed(f *testing.F) {
	f.Add([]byte(`{"allow":["*"],"deny":["evil.com"]}`), "evil.com:8448")
	f.Add([]byte(`{"allow":["*.a?c"],"allow_ip_literals":false}`), "1.2.3.4")
	f.Add([]byte(`{"allow":["[::1]"]}`), "[::1]:80")
	f.Add([]byte(`{"allow":["**é*"]}`), "xéy")
	f.Fuzz(func(t *testing.T, content []byte, server string) {
		acl, err := serveracl.Parse(content)
		if err != nil {
			return
		}
		got := acl.Allowed(server)
		if !pdu.ValidServerName(server) {
			if got {
				t.Fatalf("%q is no server name but is allowed", server)
			}
			return
		}
		host := serveracl.Host(server)
		if got != acl.Allowed(host) || got != acl.Allowed(host+":8448") {
			t.Fatalf("the port changes the verdict on %q", server)
		}
		for _, p := range acl.Deny {
			if serveracl.Match(p, host) && got {
				t.Fatalf("%q matches deny %q but is allowed", server, p)
			}
		}
		if len(acl.Allow) > 0 && utf8Valid(acl.Allow[0]) && utf8Valid(host) && len(acl.Allow[0]) < 64 && len(host) < 64 {
			if serveracl.Match(acl.Allow[0], host) != globRegexp(acl.Allow[0]).MatchString(host) {
				t.Fatalf("Match(%q, %q) disagrees with the regexp", acl.Allow[0], host)
			}
		}
	})
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

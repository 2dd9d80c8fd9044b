package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/sirupsen/logrus"
)

func init() { logrus.SetOutput(io.Discard) }

// contentOf reads a JSON object into the generator's representation (members in order,
// duplicates kept), for the reproducers.
func contentOf(t *testing.T, text string) content {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object", text)
	}
	var c content
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
		key := tok.(string)
		c.members = append(c.members, member{key: key, klit: quote(key, nil), v: valueOf(t, raw)})
	}
	return c
}

func valueOf(t *testing.T, raw json.RawMessage) jv {
	t.Helper()
	switch canonicaljson.KindOf(raw) {
	case canonicaljson.Null:
		return jNull()
	case canonicaljson.Bool:
		return jv{kind: 'b', lit: string(raw)}
	case canonicaljson.Number:
		return jNum(string(raw))
	case canonicaljson.String:
		s, err := canonicaljson.Unquote(raw)
		if err != nil {
			t.Fatal(err)
		}
		return jv{kind: 's', s: s, lit: string(raw)}
	case canonicaljson.Array:
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			t.Fatal(err)
		}
		v := jArr()
		for _, e := range elems {
			v.elems = append(v.elems, valueOf(t, e))
		}
		return v
	}
	return jObj(string(raw))
}

// The minimal reproducer of each class of area allowed diverges and falls in its class.
func TestAllowedReproducers(t *testing.T) {
	for _, c := range []struct{ content, name, class string }{
		{`{"allow":["*"],"Deny":["evil.com"]}`, "evil.com", "D-case-insensitive-keys"},
		{`{"allow":["*"],"allow_ip_literals":true,"allow_ip_literal\u017f":false}`, "1.2.3.4", "D-case-insensitive-keys"},
		{`{"allow":["*"],"deny":["evil.com"],"allow_ip_literals":"false"}`, "evil.com", "D-ip-literals-mistyped-drops-acl"},
		{`{"allow":["*"]}`, "1.2.3.4", "D-ip-literals-default-false"},
		{`{"allow":["*"],"allow_ip_literals":null}`, "[::1]:8448", "D-ip-literals-default-false"},
		{`{"allow":"*"}`, "a.example", "C-list-not-array"},
		{`{"allow":["*"],"deny":["evil.com",5]}`, "evil.com", "C-entry-not-string"},
		{`{"allow":["*"],"deny":[null]}`, "good.example", "C-null-entry"},
		{`{"allow":["*"]}`, "evil.com:", "C-invalid-name-denied"},
		{`{"allow":["*"],"allow_ip_literals":true}`, "::1", "C-invalid-name-denied"},
		{`{"allow":["*"],"allow_ip_literals":false}`, "01.2.3.4", "C-ipv4-leading-zeros"},
		{`{"allow":["*"],"allow_ip_literals":false}`, "[::1]", "D-bracketed-ipv6-not-literal"},
		{`{"allow":["[::1]"],"allow_ip_literals":true}`, "[::1]:8448", "D-port-strips-ipv6-brackets"},
		{`{"allow":["*"],"allow_ip_literals":false}`, "[..]:80", "D-port-strips-ipv6-brackets"},
		{`{"allow":["*"],"deny":["evil.com"],"allow_ip_literals":true}`, "notevil.com", "D-unanchored-patterns"},
		{`{"allow":["*"],"deny":["evil.com"],"allow_ip_literals":true}`, "evil.com.", "D-unanchored-patterns"},
		{`{"allow":["good.org"],"allow_ip_literals":true}`, "evil-good.org.x", "D-unanchored-patterns"},
	} {
		ct := contentOf(t, c.content)
		acl, err := serveracl.Parse([]byte(c.content))
		if err != nil {
			t.Fatal(err)
		}
		rp, dv := acl.Allowed(c.name), newDendriteACL([]byte(c.content), true).allowed(c.name)
		if rp == dv {
			t.Errorf("%s %q: both sides say %s", c.content, c.name, verdict(rp))
			continue
		}
		if got, sig := classifyAllowed(ct, acl, c.name, rp); got != c.class {
			t.Errorf("%s %q: class %q (%s), want %q", c.content, c.name, got, sig, c.class)
		}
	}
}

// Where the spec is plain, both sides agree: the port is set aside, the match is
// case-sensitive, deny wins, IP literals are denied on request, an ACL without allow denies
// everyone, and a room without an ACL allows everyone.
func TestAllowedAgreements(t *testing.T) {
	for _, c := range []struct {
		content string
		want    map[string]bool
	}{
		{`{"allow":["*"],"deny":["evil.com","*.evil.com"],"allow_ip_literals":false}`, map[string]bool{
			"evil.com": false, "evil.com:8448": false, "chat.evil.com:1234": false, "EVIL.com": true, "chat.EVIL.com": true,
			"good.org": true, "1.2.3.4": false, "1.2.3.4:8448": false, "[::1]:8448": false, "256.1.1.1": true,
		}},
		{`{"allow":["*.good.org","a?c.example"],"allow_ip_literals":true}`, map[string]bool{
			"chat.good.org": true, "chat.good.org:8448": true, "abc.example": true, "a.c.example": true,
			"1.2.3.4": false,
		}},
		{`{"deny":[]}`, map[string]bool{"a.example": false, "1.2.3.4": false}},
		{`{"allow":["a+b.example","(x)|y.example","[a-z].example","^a$.example"],"allow_ip_literals":true}`, map[string]bool{
			"aab.example": false, "x.example": false, "y.example": false, "q.example": false,
		}},
	} {
		acl, err := serveracl.Parse([]byte(c.content))
		if err != nil {
			t.Fatal(err)
		}
		d := newDendriteACL([]byte(c.content), true)
		for name, want := range c.want {
			if rp, dv := acl.Allowed(name), d.allowed(name); rp != want || dv != want {
				t.Errorf("%s %q: roomproto %s, Dendrite %s, want %s", c.content, name, verdict(rp), verdict(dv), verdict(want))
			}
		}
	}
	noACL := newDendriteACL(nil, false)
	for _, name := range []string{"a.example", "1.2.3.4", "[::1]", ""} {
		if !noACL.allowed(name) || !serveracl.Allowed(roomState("", false), name) {
			t.Errorf("no ACL: %q denied", name)
		}
	}
}

func TestParseReproducers(t *testing.T) {
	for _, c := range []struct {
		content, class string
	}{
		{`{"ALLOW":["*"]}`, "D-case-insensitive-keys"},
		{`{"allow_ip_literals":0}`, "D-ip-literals-mistyped-drops-acl"},
		{`{}`, "D-ip-literals-default-false"},
		{`{"deny":5,"allow_ip_literals":true}`, "C-list-not-array"},
		{`{"allow":[5],"allow_ip_literals":true}`, "C-entry-not-string"},
		{`{"allow":[null],"allow_ip_literals":true}`, "C-null-entry"},
		{`{"allow_ip_literals":true,"deny":["\ud800"]}`, "C-lone-surrogate"},
		{`null`, "D-null-content"},
		{"{\"allow\":[\"\xff\"]}", "C-content-not-json"},
		{`{"allow":["*"],"x":` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `}`, "C-content-not-json"},
	} {
		var ct content
		if c.class == "D-null-content" || c.class == "C-content-not-json" { // as the generator makes them
			ct = content{isRaw: true, raw: c.content}
		} else {
			ct = contentOf(t, c.content)
		}
		rp, dr := roomprotoReading(c.content), dendriteReading(c.content)
		if rp.equal(dr) {
			t.Errorf("%s: both read %s", c.content, rp)
			continue
		}
		if got, sig := classifyParse(ct, rp, dr); got != c.class {
			t.Errorf("%s: class %q (%s), want %q", c.content, got, sig, c.class)
		}
	}
}

func TestMatchReproducers(t *testing.T) {
	for _, c := range []struct{ pattern, name, class string }{
		{"evil.com", "notevil.com", "D-unanchored-patterns"},
		{"", "a", "D-unanchored-patterns"},
		{"a?b", "a\nb", "D-wildcard-skips-newline"},
		{"a*b", "a\nb", "D-wildcard-skips-newline"},
		{"a\uFFFDb", "a\xffb", "C-invalid-utf8-byte"},
	} {
		rp := serveracl.Match(c.pattern, c.name)
		dv := newDendriteACL([]byte(`{"allow_ip_literals":true,"allow":[`+quote(c.pattern, nil)+`]}`), true).allowed(c.name)
		if rp == dv {
			t.Errorf("%q %q: both say %v", c.pattern, c.name, rp)
			continue
		}
		if got, sig := classifyMatch(c.pattern, c.name, rp, dv); got != c.class {
			t.Errorf("%q %q: class %q (%s), want %q", c.pattern, c.name, got, sig, c.class)
		}
	}
}

// The reference glob reads appendices "Glob-style matching" as the whole name, code points as
// characters, bytes that are not UTF-8 as characters of their own.
func TestReferenceGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "", true}, {"?", "", false}, {"", "", true}, {"", "a", false}, {"evil.com", "notevil.com", false},
		{"*evil.com", "notevil.com", true}, {"ev?l.com", "evil.com", true}, {"ev?l.com", "evl.com", false},
		{"?", "é", true}, {"??", "é", false}, {"a*b*c", "abbbc", true}, {"a*b*c", "acb", false},
		{"a.b", "axb", false}, {"[a-z]", "a", false}, {"[a-z]", "[a-z]", true}, {"a?b", "a\nb", true},
		{"a\uFFFDb", "a\xffb", false}, {"a?b", "a\xffb", true}, {strings.Repeat("?", 70) + "*", strings.Repeat("x", 70), true},
		{strings.Repeat("?", 70) + "*", strings.Repeat("x", 69), false},
	} {
		if got := refMatch(c.pattern, c.name, matchOpts{}); got != c.want {
			t.Errorf("refMatch(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		want bool
	}{
		{"a.example", true}, {"a.example:8448", true}, {"1.2.3.4:1", true}, {"[::1]", true}, {"[::1]:99999", true},
		{"", false}, {"a.example:", false}, {"a.example:123456", false}, {"a:1:2", false}, {"[::1]:", false},
		{"[::1", false}, {"[::1]x", false}, {"[g::1]", false}, {"[1]", false}, {"évil.com", false}, {"a_b", false},
		{strings.Repeat("a", 255), true}, {strings.Repeat("a", 256), false},
	} {
		if got := refValidServerName(c.name); got != c.want {
			t.Errorf("refValidServerName(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

// The model with no switch is Dendrite, on every combination of a few well-typed ACLs and the
// generator's hostnames, ports and strings that are no server names.
func TestModelIsDendrite(t *testing.T) {
	var names []string
	for _, b := range bases {
		names = append(names, b, b+":8448", flipCase(caseRand(), b)+".")
	}
	names = append(names, badNames...)
	for _, a := range []refACL{
		{allowIP: false, allow: []string{"*"}},
		{allowIP: true, allow: []string{"*"}, deny: []string{"evil.com", "[::1]", "::1", "*.b", ""}},
		{allowIP: false, allow: []string{"?.b", "[*]", "*1*", "ab", "a+b.com", "1.2.3.*"}},
	} {
		content := canonicalContent(serveracl.ACL{AllowIPLiterals: a.allowIP, Allow: a.allow, Deny: a.deny}).String()
		d := newDendriteACL([]byte(content), true)
		for _, name := range names {
			if got, want := modelAllowed(a, name, fixNone), d.allowed(name); got != want {
				t.Errorf("%s %q: model %s, Dendrite %s", content, name, verdict(got), verdict(want))
			}
		}
	}
}

// Small runs of the areas classify everything, and the same seed gives the same report.
func TestSmallRuns(t *testing.T) {
	small := map[string]int{"allowed": 400, "parse": 3000, "match": 10000}
	for _, a := range areas {
		t.Run(a.Name, func(t *testing.T) {
			for _, p := range difftool.CheckRun(a, small[a.Name], 7, true) {
				t.Error(p)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"nosuch"}, &out, &errb); code != 2 {
		t.Errorf("unknown area: exit %d, want 2", code)
	}
	if code := run([]string{"allowed", "-n", "20", "-seed", "3", "-j", "1"}, &out, &errb); code != 0 {
		t.Errorf("allowed -n 20: exit %d, want 0\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "OK: every divergence falls in a known class") {
		t.Errorf("no OK line:\n%s", out.String())
	}
	out.Reset()
	if code := run([]string{"-classes"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "| `D-unanchored-patterns` | b |") {
		t.Errorf("-classes: exit %d\n%s", code, out.String())
	}
}

// caseRand returns a fixed random source for the case flips of the tests.
func caseRand() *rand.Rand { return rand.New(rand.NewSource(2)) }

package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"regexp"
	"strings"
	"unicode"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// gen draws server names, glob patterns and ACL contents adversarially: patterns are mostly
// made from a name of the same case (wildcards put in place of its characters, a letter's case
// changed, a port or brackets added), so that matches and near-misses are frequent.
type gen struct{ r *rand.Rand }

func (g *gen) pick(xs ...string) string { return difftool.Pick(g.r, xs...) }

// label draws a DNS label from a small alphabet, so that names and patterns collide.
func (g *gen) label() string {
	const al = "abevilAEo0123-"
	if g.r.Intn(30) == 0 { // characters that are not ASCII, and bytes that are not UTF-8
		return g.pick("é", "ß", "\u00e9", "😀", "a\u0301", "\xff", "\xe2\x82", "\xc3", "ÉVIL", "\u212a")
	}
	n := 1 + g.r.Intn(4)
	if g.r.Intn(12) == 0 {
		n = 6 + g.r.Intn(20)
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(al[g.r.Intn(len(al))])
	}
	return b.String()
}

func (g *gen) dns() string {
	switch g.r.Intn(10) {
	case 0:
		return g.pick("evil.com", "matrix.org", "example.org", "a.example", "b.example", "EVIL.com",
			"evil.com.", "localhost", "a", "x-", "-x", "..", ".", "a..b", "evil.co", "evil.comm")
	}
	n := 1 + g.r.Intn(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.label()
	}
	if g.r.Intn(3) == 0 {
		parts = append(parts, g.pick("com", "org", "example"))
	}
	return strings.Join(parts, ".")
}

func (g *gen) octet() string {
	switch g.r.Intn(12) {
	case 0:
		return g.pick("256", "999", "300")
	case 1:
		return g.pick("00", "01", "010", "007", "000")
	case 2:
		return g.pick("0001", "1234")
	case 3:
		return "255"
	}
	return fmt.Sprint(g.r.Intn(256))
}

func (g *gen) ipv4() string {
	n := 4
	if g.r.Intn(15) == 0 {
		n = g.pick2(3, 5)
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.octet()
	}
	return strings.Join(parts, ".")
}

func (g *gen) pick2(a, b int) int {
	if g.r.Intn(2) == 0 {
		return a
	}
	return b
}

func (g *gen) hex16() string {
	const hx = "0123456789abcdefABCDEF"
	n := 1 + g.r.Intn(4)
	if g.r.Intn(20) == 0 {
		n = 5
	}
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(hx[g.r.Intn(len(hx))])
	}
	return b.String()
}

// ipv6 draws the inside of an IPv6 literal: the RFC 3513 forms and near-misses.
func (g *gen) ipv6() string {
	switch g.r.Intn(8) {
	case 0:
		return g.pick("::1", "::", "1234:5678::abcd", "::ffff:1.2.3.4", "fe80::1", "1::", "::1.2.3.4",
			"2001:db8::8:800:200c:417a", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4")
	case 1: // near-misses
		return g.pick("1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", ":1",
			"1:", "::256.1.1.1", "::1.2.3", "g::1", "1.2.3.4", "::1%eth0", "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7",
			"1::2:3:4:5:6:7", "1:2:3:4:5:6:7:1.2.3.4", "::01.2.3.4")
	}
	n := 2 + g.r.Intn(7)
	gs := make([]string, n)
	for i := range gs {
		gs[i] = g.hex16()
	}
	if g.r.Intn(2) == 0 {
		i := g.r.Intn(n)
		gs[i] = ""
		if i == 0 || i == n-1 {
			if i == 0 {
				gs = append([]string{""}, gs...)
			} else {
				gs = append(gs, "")
			}
		}
	}
	if g.r.Intn(6) == 0 {
		gs[len(gs)-1] = g.ipv4()
	}
	return strings.Join(gs, ":")
}

// host draws a hostname: a DNS name, an IPv4 literal or a bracketed IPv6 literal, or a near-miss.
func (g *gen) host() string {
	switch g.r.Intn(20) {
	case 0, 1, 2, 3:
		return g.ipv4()
	case 4, 5, 6:
		return "[" + g.ipv6() + "]"
	case 7:
		return g.ipv6() // unbracketed
	case 8:
		return g.pick("", " ", "evil.com ", "é.com", "evil_com", "ev*l.com", "ev?l.com", "[evil.com]",
			"[::1", "::1]", "evil.com/x", "evil.com\x00", "a\u200b.com", "\xff.com", "1.2.3.4.",
			"[]", "[:]", "[1]", "1.2.3.4]")
	case 9:
		return strings.Repeat(g.label()+".", 40+g.r.Intn(40)) + "com" // long
	}
	return g.dns()
}

// name draws a server name: a hostname with, at times, a port or a malformed port.
func (g *gen) name() string {
	h := g.host()
	switch g.r.Intn(10) {
	case 0, 1, 2:
		return h + ":" + g.pick("8448", "1234", "80", "0", "99999", "65536", "00080", "1")
	case 3:
		return h + g.pick(":", ":123456", ":abc", ":8448:8448", ": 80", "::80", ":-1", ":+80", ":٣")
	}
	return h
}

// patternFrom makes a glob pattern from a name: its host mostly, with characters replaced by `?`,
// runs replaced by `*`, `*` inserted, the case of a letter changed, a port or brackets added.
func (g *gen) patternFrom(name string) string {
	h := name
	if g.r.Intn(5) != 0 {
		if i := strings.LastIndexByte(name, ':'); i >= 0 && !strings.HasSuffix(name, "]") {
			h = name[:i]
		}
	}
	rs := []rune(h)
	edits := g.r.Intn(4)
	for e := 0; e < edits; e++ {
		switch g.r.Intn(9) {
		case 0, 1:
			if len(rs) > 0 {
				rs[g.r.Intn(len(rs))] = '?'
			}
		case 2, 3:
			if len(rs) > 0 {
				i := g.r.Intn(len(rs))
				j := i + g.r.Intn(len(rs)-i+1)
				rs = append(append(append([]rune{}, rs[:i]...), '*'), rs[j:]...)
			}
		case 4:
			i := g.r.Intn(len(rs) + 1)
			rs = append(append(append([]rune{}, rs[:i]...), '*'), rs[i:]...)
		case 5:
			if len(rs) > 0 {
				i := g.r.Intn(len(rs))
				if unicode.IsLower(rs[i]) {
					rs[i] = unicode.ToUpper(rs[i])
				} else {
					rs[i] = unicode.ToLower(rs[i])
				}
			}
		case 6:
			if len(rs) > 0 { // drop a character, or add one: off by one for `?`
				i := g.r.Intn(len(rs))
				if g.r.Intn(2) == 0 {
					rs = append(rs[:i:i], rs[i+1:]...)
				} else {
					rs = append(append(append([]rune{}, rs[:i]...), '?'), rs[i:]...)
				}
			}
		case 7:
			rs = append(rs, []rune(g.pick(":8448", ":*", "*", "?", ".", "]", ":?"))...)
		case 8:
			rs = append([]rune(g.pick("*.", "*", "?", "[", "\\", "[a-z]", "**")), rs...)
		}
	}
	return string(rs)
}

// suffixPattern makes `*` + a suffix of name (often from a '.'), the `*.domain` form, with at
// times a wildcard in the suffix too.
func (g *gen) suffixPattern(name string) string {
	if name == "" {
		return "*"
	}
	i := g.r.Intn(len(name) + 1)
	if dots := strings.Count(name, "."); dots > 0 && g.r.Intn(3) != 0 {
		k := g.r.Intn(dots)
		i = 0
		for j := 0; j <= k; j++ {
			i += strings.IndexByte(name[i:], '.') + 1
		}
		i-- // keep the dot
	}
	suf := name[i:]
	if g.r.Intn(5) == 0 && len(suf) > 1 {
		b := []byte(suf)
		b[1+g.r.Intn(len(b)-1)] = "?*"[g.r.Intn(2)]
		suf = string(b)
	}
	return g.pick("*", "*", "*", "**", "?", "*?") + suf
}

// wordName makes a name whose length is near a multiple of 64 (a matcher working on 64-bit
// sets of positions has its edges there), and a pattern for it.
func (g *gen) wordName() (string, string) {
	n := 64*(1+g.r.Intn(4)) + g.r.Intn(5) - 2
	al := []rune("aab.")
	if g.r.Intn(3) == 0 { // characters of two to four bytes: edges in characters and in bytes
		al = []rune("aé.b😀")
	}
	b := make([]rune, n)
	for i := range b {
		b[i] = al[g.r.Intn(len(al))]
	}
	if g.r.Intn(3) == 0 {
		b[n-1] = 'c'
	}
	name := string(b)
	var p string
	switch g.r.Intn(4) {
	case 0:
		p = g.suffixPattern(name)
	case 1: // a `?` or `*` at a position next to a word edge
		pb := []rune(name)
		e := 64*g.r.Intn(n/64+1) + g.r.Intn(3) - 1
		if e >= 0 && e < len(pb) {
			pb[e] = []rune("?*")[g.r.Intn(2)]
		}
		p = string(pb)
	case 2:
		p = strings.Repeat("*a", 1+g.r.Intn(8)) + g.pick("", "*", "c", "?", "*c", "b?")
	default:
		p = g.patternFrom(name)
	}
	return name, p
}

// pattern draws a pattern for a name.
func (g *gen) pattern(name string) string {
	if g.r.Intn(6) == 0 {
		return g.suffixPattern(name)
	}
	switch g.r.Intn(12) {
	case 0:
		return g.pick("*", "", "?", "*.*", "**", "*?", "?*", "*.com", "*.evil.com", "evil.com", "[*]",
			"*:*", "*]", "\\*", "EVIL.COM", "*1*", "[::1]", "::1", "1.2.3.4", "*.*.*.*", "???????")
	case 1:
		return g.dns()
	case 2:
		return strings.Repeat(g.pick("*", "*a", "a*", "?*", "*?"), 1+g.r.Intn(60)) + g.pick("", "b", "a", "?")
	}
	return g.patternFrom(name)
}

// listValue draws the value of `allow` or `deny`: usually a list of patterns (strings), at
// times with entries that are not strings, or a value that is not a list.
func (g *gen) listValue(names []string) any {
	switch g.r.Intn(25) {
	case 0:
		return g.pick("*", "", "evil.com")
	case 1:
		return difftool.Pick[any](g.r, nil, true, 5, M{"0": "*"}, M{})
	}
	n := g.r.Intn(4)
	out := []any{}
	for i := 0; i < n; i++ {
		if g.r.Intn(12) == 0 {
			out = append(out, difftool.Pick[any](g.r, nil, 1, false, []any{"*"}, M{"p": "*"}, 1.5))
			continue
		}
		out = append(out, g.pattern(names[g.r.Intn(len(names))]))
	}
	if g.r.Intn(5) == 0 {
		out = append(out, "*")
	}
	return out
}

// content draws the JSON text of an ACL event's content for the names of the case.
func (g *gen) content(names []string) string {
	switch g.r.Intn(40) {
	case 0:
		return g.pick(`[]`, `"*"`, `null`, `5`, `true`, `["*"]`, `"allow"`)
	case 1:
		return `{}`
	}
	c := M{}
	if g.r.Intn(8) != 0 {
		c["allow"] = g.listValue(names)
	}
	if g.r.Intn(3) != 0 {
		c["deny"] = g.listValue(names)
	}
	switch g.r.Intn(6) {
	case 0:
		c["allow_ip_literals"] = false
	case 1:
		c["allow_ip_literals"] = true
	case 2:
		c["allow_ip_literals"] = difftool.Pick[any](g.r, "false", 0, nil, "no", []any{false}, M{}, 0.0, "true", 1)
	}
	if g.r.Intn(10) == 0 {
		c["com.example.extra"] = []any{"*"}
	}
	b := difftool.Enc(c)
	switch g.r.Intn(30) {
	case 0: // a key given twice: the first occurrence added in front
		k := g.pick("allow", "deny", "allow_ip_literals")
		dup := difftool.Enc(M{k: difftool.Pick[any](g.r, []any{"*"}, []any{}, false, true, "x")})
		if len(b) > 2 {
			b = append(append(append([]byte{}, dup[:len(dup)-1]...), ','), b[1:]...)
		}
	case 1: // an escaped key, the same key to JSON
		b = bytes.Replace(b, []byte(`"allow`), []byte(`"\u0061llow`), 1)
	case 2: // keys in another case: other keys
		b = bytes.Replace(b, []byte(g.pick(`"allow"`, `"deny"`, `"allow_ip_literals"`)), []byte(g.pick(`"Allow"`, `"DENY"`, `"allow_ip_literal"`)), 1)
	case 3: // not JSON, or not only JSON
		b = append(b, []byte(g.pick(" x", "}", ",", "\xff", " {}"))...)
	case 4: // bytes that are not UTF-8 in a string, or JSON's other numbers
		b = bytes.Replace(b, []byte(`*`), []byte(g.pick("\xff", "\xc3", "*\xe2\x82")), 1)
		if g.r.Intn(2) == 0 {
			b = bytes.Replace(b, []byte(`false`), []byte(g.pick("NaN", "-0", "0.0", "1e2")), 1)
		}
	}
	if g.r.Intn(10) == 0 { // equivalent JSON, not canonical: spaces and escapes
		b = bytes.ReplaceAll(b, []byte(`":`), []byte(`" : `))
		b = bytes.ReplaceAll(b, []byte(`*`), []byte(`\u002a`))
	}
	return string(b)
}

// aclEvent is an ACL event of a case's room state.
type aclEvent struct {
	StateKey string `json:"state_key"`
	Content  string `json:"content"`
}

// stateEvents adds ACL events (or none) to a generated room: zero, one or two, with the empty
// state key or another one, and at times an event of another type holding ACL content.
func (g *gen) stateEvents(names []string) ([]aclEvent, string) {
	var evs []aclEvent
	var typ = "m.room.server_acl"
	switch g.r.Intn(10) {
	case 0: // no ACL
	case 1: // an ACL with a state key that is not empty, and maybe the room's ACL too
		evs = append(evs, aclEvent{g.pick(" ", "x", "@a:a.example", "\u200b", "0"), g.content(names)})
		if g.r.Intn(2) == 0 {
			evs = append(evs, aclEvent{"", g.content(names)})
		}
	case 2: // ACL content in an event of another type
		typ = g.pick("m.room.server_acl ", "m.room.Server_acl", "m.room.server_acls", "m.server_acl")
		evs = append(evs, aclEvent{"", g.content(names)})
	default:
		evs = append(evs, aclEvent{"", g.content(names)})
	}
	return evs, typ
}

// mkState builds the events of a room of version vid holding evs (of type typ) and parses them.
// It returns the parsed events, or the reason pdu.Parse refused one.
func mkState(r *rand.Rand, vid string, evs []aclEvent, typ string) ([]*pdu.Event, string) {
	b := &authgen.Builder{V: authgen.Version(vid), Ver: difftool.VerNum(vid), R: r}
	rm := b.GenRoom()
	raws := [][]byte{}
	for _, e := range rm.Order {
		raws = append(raws, e.Raw)
	}
	creator := authgen.Users[0]
	for i, e := range evs {
		marker := fmt.Sprintf("aclref-marker-%d", i)
		sk := e.StateKey
		ev := b.Mk(typ, creator, &sk, M{marker: 1}, nil, authgen.Opts{})
		raw := bytes.Replace(ev.Raw, []byte(`{"`+marker+`":1}`), []byte(e.Content), 1)
		raws = append(raws, raw)
	}
	var out []*pdu.Event
	for _, raw := range raws {
		pe, err := pdu.Parse(authgen.Version(vid), raw)
		if err != nil {
			return nil, "pdu.Parse: " + offsetRe.ReplaceAllString(err.Error(), "")
		}
		out = append(out, pe)
	}
	return out, ""
}

// offsetRe is the position in pdu.Parse errors, left out of the coverage keys.
var offsetRe = regexp.MustCompile(` at offset [0-9]+`)

func firstWords(s string) string {
	if i := strings.IndexAny(s, "\":"); i > 0 {
		return s[:i]
	}
	return s
}

// fixedCase is a case written from the spec text (the schema's description and examples).
type fixedCase struct{ content, name string }

// fixedCases are the spec's own statements as cases: "evil.com, evil.com:8448, and
// evil.com:1234 would all match rules that apply to evil.com"; `allow` "defaults to an empty
// list ... effectively disallowing every server"; allow_ip_literals "Defaults to true if
// missing or otherwise not a boolean"; the order IP literal, deny, allow, otherwise deny.
func fixedCases() []fixedCase {
	contents := []string{
		`{"allow":["*"],"deny":["evil.com"]}`,
		`{"allow":["*"],"deny":["*.evil.com","evil.com"],"allow_ip_literals":false}`,
		`{"allow":["*"],"deny":["evil.com"],"allow_ip_literals":"false"}`,
		`{"allow":["*"],"deny":["evil.com"],"allow_ip_literals":0}`,
		`{"deny":["evil.com"]}`,
		`{}`,
		`{"allow":[]}`,
		`{"allow":["evil.com"],"deny":["evil.com"]}`,
		`{"allow":["1.2.3.4","[1234:5678::abcd]","*"],"allow_ip_literals":false}`,
		`{"allow":["1.2.3.4","[1234:5678::abcd]"],"allow_ip_literals":true}`,
		`{"allow":["*.matrix.org","matrix.org"]}`,
		`{"allow":["?atrix.org","m?trix.org:*"]}`,
		`{"allow":["MATRIX.ORG"]}`,
	}
	names := []string{"evil.com", "evil.com:8448", "evil.com:1234", "sub.evil.com", "notevil.com",
		"EVIL.com", "matrix.org", "matrix.org:8888", "1.2.3.4", "1.2.3.4:1234", "[1234:5678::abcd]",
		"[1234:5678::abcd]:5678", "matrix.org.", "xmatrix.org", "a.matrix.org:443"}
	var out []fixedCase
	for _, c := range contents {
		for _, nm := range names {
			out = append(out, fixedCase{c, nm})
		}
	}
	return out
}

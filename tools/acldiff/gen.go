package main

import (
	"math/rand"
	"strings"
)

// bases are the hostnames patterns and server names are made from: DNS names, IPv4 literals
// in and out of the spec's range, bracketed IPv6 literals (also ones that are no RFC 3513
// address), and hostnames that are no server name.
var bases = []string{
	"evil.com", "good.org", "matrix.example", "sub.evil.com", "evil.community", "notevil.com",
	"a.b", "x-y.z", "a", "ab", "localhost", "chat.good.org", "evil.com.au",
	"1.2.3.4", "10.0.0.1", "255.255.255.255", "0.0.0.0", "01.2.3.4", "1.2.3.004", "127.1", "256.1.1.1", "1.2.3", "1234.1.1.1",
	"[::1]", "[2001:db8::1]", "[::ffff:1.2.3.4]", "[2001:DB8::A]", "[1.2.3.4]", "[..]", "[::::]",
	"a+b.com", "évil.com", "ex_ample.com",
}

// fixedPatterns hold the regular-expression metacharacters, the IP and port forms, the empty
// pattern, an unpaired surrogate (WTF-8, written \ud800), long runs of wildcards that cross
// the 64-position words of roomproto's matcher.
var fixedPatterns = []string{
	"*", "?", "", "**", "*?*", "evil.com", "*.evil.com", "*evil.com", "evil.*", "ev?l.com", "EVIL.com", "evil.com.",
	"evil.com:8448", "*:8448", "1.2.3.4", "1.2.3.*", "01.2.3.4", "[::1]", "::1", "*::1*", "[*]", "[2001:db8::*]",
	"a+b.com", "(evil).com", "[a-z].com", "^evil", "evil$", "e|x.com", `\`, `\*`, `\?`, ".*", "é*", "evil.c?m",
	"*.évil.com", "\xed\xa0\x80", "\uFFFD", "a.b", "a?b", "?.com", "*-*", "*.", "*.*", "?*?", "{a,b}.com",
	strings.Repeat("?", 70) + "*", "*" + strings.Repeat("a", 66) + "*", "*" + strings.Repeat("?", 63) + "m",
}

// metas are inserted into patterns derived from a hostname.
var metas = []string{"+", "(", ")", "[", "]", "^", "$", "|", `\`, ".", "{", "}", "*", "?", ":8448", "é", "Σ"}

// patAlphabet makes random patterns.
var patAlphabet = []string{"a", "b", "e", "v", "i", "l", ".", "-", "*", "?", "*", "E", "1", ":", "[", "]", "+", "(", "^", "$", "|", `\`, "é", "com", "evil"}

func flipCase(r *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if r.Intn(3) == 0 {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = c - 32
			case c >= 'A' && c <= 'Z':
				b[i] = c + 32
			}
		}
	}
	return string(b)
}

// genPattern returns one glob pattern.
func genPattern(r *rand.Rand) string {
	switch k := r.Intn(10); {
	case k < 3:
		return fixedPatterns[r.Intn(len(fixedPatterns))]
	case k < 7:
		p := bases[r.Intn(len(bases))]
		for range r.Intn(3) {
			switch r.Intn(7) {
			case 0:
				p = "*." + p
			case 1:
				p = "*" + p
			case 2:
				if len(p) > 0 {
					i := r.Intn(len(p))
					p = p[:i] + "?" + p[i+1:]
				}
			case 3:
				p = flipCase(r, p)
			case 4:
				p += "*"
			case 5:
				i := r.Intn(len(p) + 1)
				p = p[:i] + metas[r.Intn(len(metas))] + p[i:]
			case 6:
				p += ":8448"
			}
		}
		return p
	default:
		var b strings.Builder
		for range r.Intn(9) {
			b.WriteString(patAlphabet[r.Intn(len(patAlphabet))])
		}
		return b.String()
	}
}

// instantiate returns a string the pattern matches: each `*` replaced by a few characters
// (maybe none), each `?` by one.
func instantiate(r *rand.Rand, p string) string {
	fill := []string{"", "a", "x", "evil", "sub.", ".", "-", "1", "é"}
	var b strings.Builder
	for _, c := range p {
		switch c {
		case '*':
			for range r.Intn(3) {
				b.WriteString(fill[r.Intn(len(fill))])
			}
		case '?':
			b.WriteString(fill[1+r.Intn(len(fill)-1)][:1])
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

var ports = []string{":8448", ":1", ":99999", ":0", ":443"}

// badNames are strings that are no server name by appendices "Server Name".
var badNames = []string{
	"", ":8448", "evil.com:", "evil.com:123456", "evil.com:80:80", "evil.com:abc", "evil.com: 80", "[::1", "::1",
	"2001:db8::1", "[::1]x", "[::1]:", "[::1]:80:80", "[]", "[:]", "[g::1]", "évil.com", "evil com", "evil.com\n",
	"a_b.com", "evil.com/x", "[::1%eth0]", strings.Repeat("a", 256), "[" + strings.Repeat("1", 46) + "]", "1.2.3.4:",
	"*", "?", "evil.*",
}

// genName returns a server name to check against an ACL with the patterns.
func genName(r *rand.Rand, patterns []string) string {
	var n string
	switch k := r.Intn(20); {
	case k < 2:
		return badNames[r.Intn(len(badNames))]
	case k < 8 || len(patterns) == 0:
		n = bases[r.Intn(len(bases))]
	default:
		n = instantiate(r, patterns[r.Intn(len(patterns))])
		if i := strings.IndexAny(n, ":"); i >= 0 && !strings.HasPrefix(n, "[") && r.Intn(2) == 0 {
			n = n[:i] // a pattern with a port: its hostname
		}
	}
	switch r.Intn(8) {
	case 0:
		n = flipCase(r, n)
	case 1:
		n += "."
	case 2:
		n = "not" + n
	case 3:
		n += ".au"
	}
	if r.Intn(3) == 0 {
		n += ports[r.Intn(len(ports))]
	}
	return n
}

// The keys of the content, their variants that encoding/json folds onto them (ſ is U+017F,
// which folds to s) and keys nobody reads.
var (
	aclKeys     = []string{"allow", "deny", "allow_ip_literals"}
	variantKeys = []string{"Allow", "ALLOW", "Deny", "DENY", "Allow_IP_Literals", "allow_ip_literalS", "allow_ip_literal\u017f", "ALLOW_IP_LITERALS"}
	otherKeys   = []string{"allowed", "denied", "allow ", "ip_literals", "m.allow"}
)

// genList returns the value of allow or deny: mostly an array of patterns, some of its
// entries not strings; sometimes not an array.
func genList(r *rand.Rand) jv {
	if r.Intn(20) == 0 {
		return []jv{jNull(), jStr("*"), jNum("5"), jBool(true), jObj(`{"a":1}`), jObj(`{}`)}[r.Intn(6)]
	}
	var e []jv
	for range r.Intn(6) {
		if r.Intn(30) == 0 {
			e = append(e, []jv{jNull(), jNum("5"), jNum("1e400"), jBool(false), jObj(`{}`), jArr(jStr("*"))}[r.Intn(6)])
			continue
		}
		p := genPattern(r)
		e = append(e, jv{kind: 's', s: p, lit: quote(p, r)})
	}
	if e == nil {
		return jArr()
	}
	return jArr(e...)
}

// genIP returns a value of allow_ip_literals.
func genIP(r *rand.Rand) jv {
	if r.Intn(6) > 0 {
		return jBool(r.Intn(3) == 0) // false twice as often as true
	}
	return []jv{jBool(true), jBool(false), jNull(), jStr("false"), jStr("true"), jNum("0"), jNum("1"), jObj(`{}`), jArr()}[r.Intn(9)]
}

func keyLit(r *rand.Rand, k string) string {
	if r.Intn(10) == 0 && k != "" {
		return quote(k, r)
	}
	return quote(k, nil)
}

// genContent returns an m.room.server_acl content (an object).
func genContent(r *rand.Rand) content {
	c := content{spaced: r.Intn(4) == 0}
	add := func(k string, v jv) { c.members = append(c.members, member{key: k, klit: keyLit(r, k), v: v}) }
	if r.Intn(10) < 7 {
		add("allow_ip_literals", genIP(r))
	}
	if r.Intn(20) < 17 {
		add("allow", genList(r))
	}
	if r.Intn(10) < 7 {
		add("deny", genList(r))
	}
	if r.Intn(8) == 0 {
		k := variantKeys[r.Intn(len(variantKeys))]
		if strings.HasPrefix(strings.ToLower(k), "allow_") || strings.HasSuffix(k, "\u017f") {
			add(k, genIP(r))
		} else {
			add(k, genList(r))
		}
	}
	if r.Intn(12) == 0 && len(c.members) > 0 {
		m := c.members[r.Intn(len(c.members))]
		if m.key == "allow_ip_literals" {
			add(m.key, genIP(r))
		} else {
			add(m.key, genList(r))
		}
	}
	if r.Intn(10) == 0 {
		add(otherKeys[r.Intn(len(otherKeys))], genList(r))
	}
	if r.Intn(3) == 0 {
		r.Shuffle(len(c.members), func(i, j int) { c.members[i], c.members[j] = c.members[j], c.members[i] })
	}
	return c
}

// patternsOf returns the string entries of every list in the content (to make names from).
func patternsOf(c content) []string {
	var out []string
	for _, m := range c.members {
		for _, e := range m.v.elems {
			if e.kind == 's' {
				out = append(out, e.s)
			}
		}
	}
	return out
}

package main

import (
	"fmt"
	"math/rand"
	"strings"
	"unicode/utf8"

	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var matchArea = &difftool.Area{
	Name:     "match",
	Title:    "serveracl.Match vs Dendrite's glob (an ACL allowing the pattern alone, a name without ':' so no port is cut)",
	Unit:     "(pattern, name) pairs",
	DefaultN: 100000,
	Classes: []*difftool.Class{
		{ID: "D-unanchored-patterns", Cat: difftool.OracleDeparts,
			Desc: "Dendrite's pattern is an unanchored regular expression: it matches when it matches any part of the name",
			Spec: specGlob + " (the whole name: * is what matches \"zero or more characters\"); " + specSchema},
		{ID: "D-wildcard-skips-newline", Cat: difftool.OracleDeparts,
			Desc: "* and ? do not match a line feed in Dendrite (the regular expression . without the s flag); no server name holds one, so no ACL verdict changes",
			Spec: specGlob + " (\"* matches zero or more characters\", \"? matches exactly one character\": any character)"},
		{ID: "C-invalid-utf8-byte", Cat: difftool.SpecSilent,
			Desc: "a name byte that is not UTF-8: Go's regexp reads it as U+FFFD, which a U+FFFD of the pattern then matches; roomproto takes it as a character of its own (no server name holds one)",
			Spec: specGlob + " (characters); decisions.md (server ACLs) 2 \"a byte that is not UTF-8 is one character\""},
	},
	Run: runMatch,
}

// The switches of the match model, in the classifier's order.
var matchFixes = []struct {
	class string
	opts  matchOpts
}{
	{"D-unanchored-patterns", matchOpts{newlineBlocks: true, invalidIsFFFD: true}},
	{"D-wildcard-skips-newline", matchOpts{invalidIsFFFD: true}},
	{"C-invalid-utf8-byte", matchOpts{}},
}

var nameAlphabet = []string{"a", "b", "e", "v", "i", "l", ".", "-", "E", "1", "é", "\uFFFD", "\xff", "\n", "[", "]", "+", "evil", "com", "Σ"}

// genMatchPair returns a pattern (valid UTF-8: it travels through JSON to Dendrite) and a name
// without ':'.
func genMatchPair(r *rand.Rand) (pattern, name string) {
	for {
		pattern = genPattern(r)
		if r.Intn(6) == 0 {
			pattern += "\uFFFD" + genPattern(r)
		}
		if utf8.ValidString(pattern) {
			break
		}
	}
	switch k := r.Intn(10); {
	case k < 5:
		name = instantiate(r, pattern)
	case k < 7:
		name = bases[r.Intn(len(bases))]
	default:
		var b strings.Builder
		for range r.Intn(10) {
			b.WriteString(nameAlphabet[r.Intn(len(nameAlphabet))])
		}
		name = b.String()
	}
	switch r.Intn(8) {
	case 0:
		name = strings.Repeat("a", 50+r.Intn(200)) + name
	case 1:
		name = nameAlphabet[r.Intn(len(nameAlphabet))] + name
	case 2:
		name += nameAlphabet[r.Intn(len(nameAlphabet))]
	case 3:
		name = flipCase(r, name)
	}
	if strings.Contains(name, "\uFFFD") && r.Intn(2) == 0 {
		name = strings.Replace(name, "\uFFFD", "\xff", 1) // the character Go's regexp reads the byte as
	}
	if r.Intn(30) == 0 {
		i := r.Intn(len(name) + 1)
		name = name[:i] + "\n" + name[i:]
	}
	return pattern, strings.ReplaceAll(name, ":", ".")
}

func runMatch(t *difftool.Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	for range n {
		p, name := genMatchPair(r)
		compareMatch(t, p, name)
	}
}

func compareMatch(t *difftool.Tally, p, name string) {
	rp := serveracl.Match(p, name)
	ex := fmt.Sprintf("pattern %q, name %q: roomproto %v", p, name, rp)
	if want := refMatch(p, name, matchOpts{}); want != rp {
		t.Problem("roomproto's Match differs from the reference glob", fmt.Sprintf("%s, reference %v", ex, want))
	}
	content := `{"allow_ip_literals":true,"allow":[` + quote(p, nil) + `]}`
	dv := newDendriteACL([]byte(content), true).allowed(name)
	if dv == rp {
		t.Agree()
		return
	}
	class, sig := classifyMatch(p, name, rp, dv)
	t.Diverge(class, sig, fmt.Sprintf("%s, Dendrite %v", ex, dv))
}

func classifyMatch(p, name string, rp, dv bool) (class, sig string) {
	if refMatch(p, name, dendriteOpts) != dv {
		return "", "harness: the model of Dendrite's glob differs from Dendrite"
	}
	for _, f := range matchFixes {
		if refMatch(p, name, f.opts) == rp {
			return f.class, fmt.Sprintf("roomproto %v", rp)
		}
	}
	return "", fmt.Sprintf("no known cause: roomproto %v", rp)
}

package main

// Area canon: roomproto canonicaljson.Canonical / CanonicalStrict against GMSL CanonicalJSON /
// EnforcedCanonicalJSON(x, "6"), on single fragments in context, random combinations and
// random events.

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var canonArea = &Area{
	Name:     "canon",
	Title:    "canonicaljson.Canonical/CanonicalStrict vs GMSL CanonicalJSON/EnforcedCanonicalJSON(\"6\")",
	Unit:     "random documents (plus every fragment in 22 contexts and n/4 random events)",
	DefaultN: 20000,
	Run:      runCanon,
	Classes:  canonClasses,
}

var canonClasses = []*Class{
	{ID: "C1-strict-float-accepted", Cat: GMSLDeparts, Desc: "strict mode: 1E10, 2E0, 0.0, -0.0, 0e0, 1e-400 are refused by roomproto, accepted by GMSL (it looks for a lower-case e, and skips zero values)",
		Spec: "appendices.md \"Canonical JSON\" \"represented without exponents or decimal places\", \"Float values are not permitted\"; rooms/fragments/v6-canonical-json.md \"MUST strictly enforce\""},
	{ID: "C2-sign-dropped", Cat: GMSLDeparts, Desc: "lenient mode: GMSL's CompactJSON drops the minus before a 0 (-0.5 -> 0.5, -0.0 -> 0.0): the value changes",
		Spec: "RFC 8259 numbers; appendices.md \"Canonical JSON\""},
	{ID: "C2-number-form", Cat: SpecSilent, Desc: "lenient mode: GMSL keeps exponents (1e10), roomproto writes the integer the spec example shows",
		Spec: "appendices.md \"Canonical JSON\" example {\"a\": -0, \"b\": 1e10} -> {\"a\":0,\"b\":10000000000}; decisions.md (canonicaljson) 10"},
	{ID: "C3-duplicate-keys", Cat: SpecSilent, Desc: "duplicate keys: GMSL keeps both members (strict check passes); roomproto keeps the last (lenient) or refuses (strict)",
		Spec: "spec silent (RFC 8259 leaves it undefined); decisions.md (canonicaljson) 7, 11"},
	{ID: "C4-lone-surrogate", Cat: SpecSilent, Desc: "lone surrogate escapes: GMSL drops them and can swallow the next escape; roomproto keeps the escape (lenient) or refuses (strict)",
		Spec: "spec silent (canonical JSON is UTF-8); decisions.md (canonicaljson) 8, 12"},
	{ID: "C5-invalid-utf8", Cat: SpecSilent, Desc: "invalid UTF-8 (overlong, CESU surrogates, truncated, > U+10FFFF): roomproto refuses, GMSL copies the bytes",
		Spec: "appendices.md \"the shortest UTF-8 JSON encoding\"; decisions.md (canonicaljson) 13"},
	{ID: "C6-too-deep", Cat: SpecSilent, Desc: "nesting deeper than 127: roomproto refuses, GMSL accepts",
		Spec: "spec sets no limit; decisions.md (canonicaljson) 20"},
}

type frag struct{ kind, text string }

// valueFrags are placed where a JSON value goes.
var valueFrags = []frag{
	{"esc", `"\/"`}, {"esc", `"\u0041"`}, {"esc", `"\u00E9"`}, {"esc", `"\u00e9"`}, {"esc", `"\ud83d\ude00"`},
	{"esc", `"\uD83D\uDE00"`}, {"esc", `"\u0000"`}, {"esc", `"\u001F"`}, {"esc", `"\u007f"`}, {"esc", `"\u2028"`},
	{"esc", `"\b\f\n\r\t"`}, {"esc", `"\u0008\u000c\u000a\u000d\u0009"`}, {"esc", `"\u0022\u005c"`}, {"esc", `"\u003c\u003e\u0026"`},
	{"esc", `"\uFFFF"`}, {"esc", `"\uFEFF"`}, {"esc", `"\u0020"`}, {"esc", `"\u001b"`}, {"esc", `"\u00"`}, {"esc", `"\x41"`}, {"esc", `"\'"`},
	{"esc", `"\uZZZZ"`}, {"esc", `"\"`},
	{"surrogate", `"\ud800"`}, {"surrogate", `"\udc00"`}, {"surrogate", `"\ud800x"`}, {"surrogate", `"\ud800\u0041"`},
	{"surrogate", `"\ud800\ud800"`}, {"surrogate", `"\udc00\ud800"`}, {"surrogate", `"a\ud83d"`}, {"surrogate", `"\ud83d\n"`},
	{"surrogate", `"\ud83d\\"`}, {"surrogate", `"\uDBFF\uDFFF"`}, {"surrogate", `"\ud800\udbff"`}, {"surrogate", `"\ud83d\u00e9"`},
	{"raw", `"é"`}, {"raw", `"😀"`}, {"raw", "\"\uffff\""}, {"raw", "\"\u2028\""}, {"raw", "\"\u007f\""}, {"raw", "\"\ufeff\""},
	{"badutf8", "\"\xff\""}, {"badutf8", "\"\xc0\xaf\""}, {"badutf8", "\"\xed\xa0\x80\""}, {"badutf8", "\"\xe2\x82\""}, {"badutf8", "\"\xf4\x90\x80\x80\""},
	{"ctrl", "\"\x01\""}, {"ctrl", "\"\t\""}, {"ctrl", "\"\n\""}, {"ctrl", "\"\x00\""},
	{"num", `-0`}, {"num", `-0.0`}, {"num", `0.0`}, {"num", `-0.5`}, {"num", `1.0`}, {"num", `1.5`}, {"num", `1e10`}, {"num", `1E10`},
	{"num", `1e+2`}, {"num", `1e-2`}, {"num", `0e0`}, {"num", `9007199254740991`}, {"num", `9007199254740992`}, {"num", `-9007199254740991`},
	{"num", `-9007199254740992`}, {"num", `1e400`}, {"num", `-1e400`}, {"num", `100e-2`}, {"num", `0.5e1`}, {"num", `12345678901234567890`},
	{"num", `-0e5`}, {"num", `1e16`}, {"num", `1.25e2`}, {"num", `0.1`}, {"num", `-1`}, {"num", `-10.5e-1`}, {"num", `1e-400`}, {"num", `2E0`},
	{"num", `0.000`}, {"num", `-0.000e3`},
	{"badnum", `01`}, {"badnum", `+1`}, {"badnum", `.5`}, {"badnum", `1.`}, {"badnum", `-`}, {"badnum", `1e`}, {"badnum", `0x10`},
	{"badnum", `NaN`}, {"badnum", `Infinity`}, {"badnum", `-01`}, {"badnum", `00`}, {"badnum", `1.e2`},
	{"lit", `True`}, {"lit", `nul`}, {"lit", `tru`}, {"lit", `'x'`}, {"lit", `undefined`},
	{"dup", `{"a":1,"a":2}`}, {"dup", `{"a":1,"\u0061":2}`}, {"dup", `{"a":{"b":1},"a":{"c":2}}`}, {"dup", `{"a":2,"a":1}`},
	{"dup", `{"b":1,"a":1,"b":1}`}, {"dup", `{"é":1,"\u00e9":2}`},
	{"order", `{"b":1,"\u0061":2}`}, {"order", "{\"\uffff\":1,\"😀\":2}"}, {"order", `{"\uffff":1,"\ud83d\ude00":2}`},
	{"order", `{"a\"":1,"a#":2}`}, {"order", `{"":1,"a":2}`}, {"order", `{"B":1,"a":2,"A":3}`}, {"order", `{"a\u0000":1,"a":2}`},
	{"order", `{"\u00e9":1,"f":2,"z":3}`}, {"order", `{"aa":1,"a":2,"a\t":3}`}, {"order", `{"\ud800":1,"\ue000":2,"\ud7ff":3}`},
	{"struct", `[1,]`}, {"struct", `{"a":1,}`}, {"struct", `[1 2]`}, {"struct", `{"a" 1}`}, {"struct", `{'a':1}`}, {"struct", `{a:1}`},
	{"struct", `[/*c*/1]`}, {"struct", `[1]//c`}, {"struct", `{"a":1}}`}, {"struct", `[[]`}, {"struct", `[]]`}, {"struct", `{"a"}`},
	{"struct", "[\f1]"}, {"struct", "[\u00a01]"}, {"struct", "[\v1]"}, {"struct", "[\r\n1 ]"}, {"struct", "[ ]"}, {"struct", "{ }"},
}

// topFrags are whole inputs.
var topFrags = func() []frag {
	fs := []frag{
		{"top", `1`}, {"top", `"x"`}, {"top", `[]`}, {"top", `null`}, {"top", `true`}, {"top", ` {} `}, {"top", "\ufeff{}"},
		{"top", `{} {}`}, {"top", `{}x`}, {"top", `{}]`}, {"top", ``}, {"top", ` `}, {"top", "{}\n"}, {"top", "\t{\"a\":1}\r\n"}, {"top", `-0`},
		{"top", `{"a":1} `}, {"top", `{"a":1}/`},
	}
	for _, n := range []int{64, 126, 127, 128, 129, 200, 1000, 5000} {
		fs = append(fs, frag{"deep", strings.Repeat("[", n) + strings.Repeat("]", n)})
		fs = append(fs, frag{"deep", strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)})
	}
	return fs
}()

func canonBoth(strict bool, in []byte) bytesOutcome {
	var o bytesOutcome
	if strict {
		o.rp, o.rerr = canonicaljson.CanonicalStrict(in)
		o.g, o.gerr = safe(func() ([]byte, error) { return gmsl.EnforcedCanonicalJSON(in, "6") })
	} else {
		o.rp, o.rerr = canonicaljson.Canonical(in)
		o.g, o.gerr = safe(func() ([]byte, error) { return gmsl.CanonicalJSON(in) })
	}
	return o
}

func runCanon(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	g := jsonGen{r: r, noDupes: true}
	one := func(in string) {
		b := []byte(in)
		lo, so := canonBoth(false, b), canonBoth(true, b)
		for _, x := range []struct {
			mode string
			o    bytesOutcome
		}{{"lenient", lo}, {"strict", so}} {
			if x.o.agree() {
				t.Agree()
				continue
			}
			cls, sig := classifyCanon(x.mode == "strict", b, x.o)
			t.Diverge(cls, x.mode+": "+sig, fmt.Sprintf("%s %q\n%s", x.mode, in, x.o))
		}
	}
	// 1. Every fragment alone, bare and in contexts.
	for _, f := range append(append([]frag{}, valueFrags...), topFrags...) {
		one(f.text)
		if f.kind == "top" || f.kind == "deep" {
			continue
		}
		one(`{"k":` + f.text + `}`)
		one(`[` + f.text + `]`)
		for i := 0; i < 20; i++ {
			one(baseObject(g, f.text))
		}
	}
	// 2. Random combinations of 1-3 fragments, nested in each other.
	for i := 0; i < n; i++ {
		doc := "«HOLE»"
		for j := 1 + r.Intn(3); j > 0; j-- {
			f := difftool.Pick(r, valueFrags...)
			doc = strings.Replace(doc, "«HOLE»", baseObject(g, "["+f.text+",«HOLE»]"), 1)
		}
		one(strings.Replace(doc, "«HOLE»", "0", 1))
	}
	// 3. Random events (lenient and strict numbers).
	for i := 0; i < n/4; i++ {
		one(g.event(r.Intn(2) == 0))
	}
}

// baseObject returns a small object with one member (or array element, or nested member)
// holding hole.
func baseObject(g jsonGen, hole string) string {
	r := g.r
	keys := []string{"type", "content", "a", "b", "z", "é", "m.room.name", "users"}
	var parts []string
	n := r.Intn(4)
	pos := r.Intn(n + 1)
	for i := 0; i <= n; i++ {
		if i == pos {
			switch r.Intn(3) {
			case 0:
				parts = append(parts, `"hole":`+hole)
			case 1:
				parts = append(parts, `"arr":[1,`+hole+`,"x"]`)
			default:
				parts = append(parts, `"nest":{"y":{"k":`+hole+`}}`)
			}
			continue
		}
		parts = append(parts, fmt.Sprintf(`"%s%d":`, difftool.Pick(r, keys...), i)+g.value(2, true))
	}
	ws := difftool.Pick(r, "", " ", "\n  ", "\t")
	return "{" + ws + strings.Join(parts, ","+ws) + ws + "}"
}

// classifyCanon names the class of a canonical JSON divergence.
func classifyCanon(strict bool, in []byte, o bytesOutcome) (string, string) {
	switch {
	case o.rerr != nil && o.gerr == nil:
		name := rpErrName(o.rerr)
		switch {
		case errors.Is(o.rerr, canonicaljson.ErrFloat) && strict:
			return "C1-strict-float-accepted", "rp " + name
		case errors.Is(o.rerr, canonicaljson.ErrDuplicateKey):
			return "C3-duplicate-keys", "rp " + name
		case errors.Is(o.rerr, canonicaljson.ErrLoneSurrogate):
			return "C4-lone-surrogate", "rp " + name
		case errors.Is(o.rerr, canonicaljson.ErrInvalidUTF8):
			return "C5-invalid-utf8", "rp " + name
		case errors.Is(o.rerr, canonicaljson.ErrTooDeep):
			return "C6-too-deep", "rp " + name
		}
		return "", "roomproto refuses (" + name + "), GMSL accepts"
	case o.rerr == nil && o.gerr != nil:
		return "", "GMSL refuses (" + clip(o.gerr.Error(), 50) + "), roomproto accepts"
	}
	if hasDuplicateKey(in) && !hasLoneSurrogate(string(in)) {
		// Run again with the last occurrence of each key only.
		v, err := decodeAny(in)
		if err == nil {
			in2 := difftool.Enc(v)
			o2 := canonBoth(strict, in2)
			if o2.agree() {
				return "C3-duplicate-keys", "duplicate keys"
			}
			return classifyCanon(strict, in2, o2)
		}
	}
	items, err := jsonDiff(o.rp, o.g)
	if err != nil {
		if hasLoneSurrogate(string(in)) {
			return "C4-lone-surrogate", "GMSL output not JSON"
		}
		return "", "outputs not JSON"
	}
	if len(items) == 0 {
		switch {
		case hasDuplicateKey(in):
			return "C3-duplicate-keys", "same values"
		case hasLoneSurrogate(string(in)):
			return "C4-lone-surrogate", "same values"
		}
		if c, err := canonicaljson.Canonical(o.g); err == nil && string(c) == string(o.rp) {
			return "C2-number-form", "same values"
		}
		return "", "same values, different bytes"
	}
	best := -1
	var unexplained []string
	for _, it := range items {
		cls := ""
		a, b, nums := numbersOf(it)
		switch {
		case nums && signDropped(a, b):
			cls = "C2-sign-dropped"
		case nums && numCmp(a, b) == 0:
			cls = "C2-number-form"
		case !nums && hasLoneSurrogate(string(in)):
			cls = "C4-lone-surrogate"
		case hasDuplicateKey(in):
			cls = "C3-duplicate-keys" // the two sides kept different occurrences
		}
		if cls == "" {
			unexplained = append(unexplained, it.String())
			continue
		}
		if i := classIndex(canonClasses, cls); best < 0 || i < best {
			best = i
		}
	}
	if len(unexplained) > 0 {
		return "", "outputs differ: " + clip(strings.Join(unexplained, "; "), 80)
	}
	return canonClasses[best].ID, ""
}

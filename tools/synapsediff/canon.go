package main

// Area canon: canonicaljson.Canonical (room versions 1-5) and CanonicalStrict (6+) against
// Synapse's reading (UTF-8, json.JSONDecoder, validate_canonicaljson for 6+) followed by
// canonicaljson.encode_canonical_json. Also checks that roomproto reproduces, byte for byte,
// every canonical text Synapse writes (decisions.md (canonicaljson) 10: "keeps signatures made
// by Synapse valid").

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
)

var canonClasses = []*Class{
	{ID: "P1-float-repr", Cat: SpecSilent,
		Desc: "lenient mode: Synapse reads a number with a fraction or exponent as a Python float and writes its repr (1e10 -> 10000000000.0, 1.50 -> 1.5, -0e5 -> -0.0, 9007199254740993.0 -> 9007199254740992.0); roomproto writes integral exponent forms as integers and copies other numbers verbatim",
		Spec: "appendices.md \"Canonical JSON\": only integers have a canonical form (\"Float values are not permitted\"), the example {\"b\": 1e10} -> 10000000000; decisions.md (canonicaljson) 10"},
	{ID: "P2-float-out-of-range", Cat: SpecSilent,
		Desc: "lenient mode: a number beyond float64 (1e400) becomes inf in Python and encode_canonical_json refuses it (allow_nan=False); roomproto copies it verbatim",
		Spec: "appendices.md \"Canonical JSON\" warning: v1-5 servers \"SHOULD be capable of handling JSON which is considered invalid by these restrictions where possible\"; decisions.md (canonicaljson) 10"},
	{ID: "P3-int-too-long", Cat: SpecSilent,
		Desc: "lenient mode: an integer of more than 4300 digits: Python's int() refuses it (sys.int_info.default_max_str_digits), roomproto copies it",
		Spec: "appendices.md \"Canonical JSON\" warning (\"integers might not be in the range\"); decisions.md (canonicaljson) 10 \"Integers in grammar form are copied whatever their size\""},
	{ID: "P4-lone-surrogate", Cat: SpecSilent,
		Desc: "lenient mode: an unpaired surrogate escape: Python decodes it but cannot encode it to UTF-8 (UnicodeEncodeError); roomproto writes a \\udxxx escape",
		Spec: "spec silent (canonical JSON is UTF-8, a lone surrogate has no UTF-8 form); decisions.md (canonicaljson) 12"},
	{ID: "P5-too-deep", Cat: SpecSilent,
		Desc: "nesting deeper than 127: roomproto refuses, Python accepts up to its recursion limit (about 1000)",
		Spec: "spec sets no limit; decisions.md (canonicaljson) 20"},
	{ID: "S1-negative-zero-accepted", Cat: OracleDeparts,
		Desc: "strict mode: -0 is refused by roomproto; Synapse reads it as the integer 0, which validate_canonicaljson accepts",
		Spec: "appendices.md \"Canonical JSON\" \"negative zero -0 MUST NOT appear\"; rooms/fragments/v6-canonical-json.md \"MUST strictly enforce\"; decisions.md (canonicaljson) 5"},
	{ID: "S2-duplicate-keys", Cat: SpecSilent,
		Desc: "strict mode: duplicate keys (also escape-equivalent ones, \"a\" and \"\\u0061\"): roomproto refuses, Synapse keeps the last",
		Spec: "spec silent (RFC 8259 leaves duplicates undefined); decisions.md (canonicaljson) 7"},
}

var canonArea = &Area{
	Name:     "canon",
	Title:    "canonicaljson.Canonical/CanonicalStrict vs Synapse (json + validate_canonicaljson) + canonicaljson.encode_canonical_json",
	Unit:     "generated texts, each in both modes, plus the fixed-point check on Synapse's output",
	DefaultN: 20000,
	Classes:  canonClasses,
	Run:      runCanon,
}

// canonFixed is the extra check: roomproto on Synapse's canonical output must give it back.
const fixedPointSig = "roomproto does not reproduce Synapse's canonical bytes"

// canonSentinels name roomproto's errors, most specific first.
var canonSentinels = []struct {
	name string
	err  error
}{
	{"ErrTooDeep", canonicaljson.ErrTooDeep}, {"ErrInvalidUTF8", canonicaljson.ErrInvalidUTF8},
	{"ErrTrailingData", canonicaljson.ErrTrailingData}, {"ErrSyntax", canonicaljson.ErrSyntax},
	{"ErrFloat", canonicaljson.ErrFloat}, {"ErrNegativeZero", canonicaljson.ErrNegativeZero},
	{"ErrIntegerRange", canonicaljson.ErrIntegerRange}, {"ErrDuplicateKey", canonicaljson.ErrDuplicateKey},
	{"ErrLoneSurrogate", canonicaljson.ErrLoneSurrogate},
}

func errName(err error) string {
	for _, s := range canonSentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	return "other error"
}

// canonOutcome is one input's answers on both sides.
type canonOutcome struct {
	rp   []byte
	rerr error
	py   pyAnswer
}

func (o canonOutcome) agree() bool {
	if o.rerr != nil || o.py.Err != "" {
		return o.rerr != nil && o.py.Err != ""
	}
	return bytes.Equal(o.rp, o.py.out())
}

func (o canonOutcome) String() string {
	var b strings.Builder
	if o.rerr != nil {
		fmt.Fprintf(&b, "roomproto: error %v", o.rerr)
	} else {
		fmt.Fprintf(&b, "roomproto: %s", o.rp)
	}
	if o.py.Err != "" {
		fmt.Fprintf(&b, "\nSynapse:   error %s", o.py.Err)
	} else {
		fmt.Fprintf(&b, "\nSynapse:   %s", o.py.out())
	}
	return b.String()
}

func canonBoth(py *oracle, in []byte, strict bool) canonOutcome {
	var o canonOutcome
	if strict {
		o.rp, o.rerr = canonicaljson.CanonicalStrict(in)
	} else {
		o.rp, o.rerr = canonicaljson.Canonical(in)
	}
	o.py = py.canon(in, strict)
	return o
}

func modeName(strict bool) string {
	if strict {
		return "strict"
	}
	return "lenient"
}

// compareCanon compares one input in one mode and records it in t, then, when Synapse wrote
// bytes, records the fixed-point check.
func compareCanon(t *Tally, py *oracle, in []byte, strict bool) {
	o := canonBoth(py, in, strict)
	mode := modeName(strict)
	if o.agree() {
		t.Agree()
	} else {
		cls, sig := classifyCanon(py, strict, in, o)
		t.Diverge(cls, mode+": "+sig, fmt.Sprintf("%s %q\n%s", mode, in, o))
	}
	if o.py.Err == "" {
		out := o.py.out()
		var again []byte
		var err error
		if strict {
			again, err = canonicaljson.CanonicalStrict(out)
		} else {
			again, err = canonicaljson.Canonical(out)
		}
		switch {
		case err == nil && bytes.Equal(again, out):
			t.Agree()
		case errors.Is(err, canonicaljson.ErrTooDeep):
			t.Diverge("P5-too-deep", mode+": fixed point: roomproto refuses Synapse's output (ErrTooDeep)", fmt.Sprintf("%s: Synapse wrote %q\nroomproto: %v", mode, out, err))
		default:
			t.Diverge("", mode+": "+fixedPointSig, fmt.Sprintf("%s: Synapse wrote %q\nroomproto: %q %v", mode, out, again, err))
		}
	}
}

// classifyCanon names the class of a divergence (empty when none explains it) and a signature.
func classifyCanon(py *oracle, strict bool, in []byte, o canonOutcome) (string, string) {
	switch {
	case o.rerr != nil: // Synapse accepts
		name := errName(o.rerr)
		sig := "roomproto refuses (" + name + "), Synapse accepts"
		if strict && !errors.Is(o.rerr, canonicaljson.ErrDuplicateKey) {
			// A duplicate key may hide the cause from Synapse (which keeps the last value):
			// run again without duplicates.
			if d, dups := dedup(in); dups {
				o2 := canonBoth(py, d, strict)
				if o2.agree() {
					return "S2-duplicate-keys", sig + " (duplicate keys hide the cause)"
				}
				cls, sig2 := classifyCanon(py, strict, d, o2)
				return cls, sig2 + " (after removing duplicates)"
			}
		}
		switch {
		case errors.Is(o.rerr, canonicaljson.ErrTooDeep):
			return "P5-too-deep", sig
		case strict && errors.Is(o.rerr, canonicaljson.ErrNegativeZero):
			return "S1-negative-zero-accepted", sig
		case strict && errors.Is(o.rerr, canonicaljson.ErrDuplicateKey):
			return "S2-duplicate-keys", sig
		}
		return "", sig
	case o.py.Err != "": // roomproto accepts
		sig := "Synapse refuses (" + pyErrKind(o.py) + "), roomproto accepts"
		switch {
		case strict:
		case o.py.Stage == "encode" && strings.Contains(o.py.Err, "UnicodeEncodeError") && strings.Contains(o.py.Err, "surrogates not allowed"):
			return "P4-lone-surrogate", sig
		case o.py.Stage == "encode" && strings.Contains(o.py.Err, "Out of range float values"):
			return "P2-float-out-of-range", sig
		case o.py.Stage == "parse" && strings.Contains(o.py.Err, "Exceeds the limit") && strings.Contains(o.py.Err, "integer string conversion"):
			return "P3-int-too-long", sig
		}
		return "", sig
	}
	// Both wrote bytes.
	diffs, err := numberDiffs(o.rp, o.py.out())
	switch {
	case err != nil:
		return "", "outputs differ: " + err.Error()
	case len(diffs) == 0:
		return "", "same value, different bytes"
	}
	for _, d := range diffs {
		if !d.sameFloat {
			return "", "outputs differ: " + d.String()
		}
	}
	if strict {
		return "", "strict: numbers differ"
	}
	return "P1-float-repr", "numbers differ"
}

func pyErrKind(a pyAnswer) string {
	e := a.Err
	if i := strings.Index(e, ": "); i >= 0 {
		e = e[i+2:]
	}
	if i := strings.Index(e, ":"); i >= 0 {
		e = e[:i]
	}
	return a.Stage + " " + e
}

// leafDiff is a place where two JSON values differ.
type leafDiff struct {
	path      string
	a, b      any
	sameFloat bool // both numbers, equal as float64
}

func (d leafDiff) String() string { return fmt.Sprintf("%s: %v vs %v", d.path, d.a, d.b) }

func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// numberDiffs decodes two JSON texts and lists where their values differ.
func numberDiffs(a, b []byte) ([]leafDiff, error) {
	va, err := decodeNumbers(a)
	if err != nil {
		return nil, fmt.Errorf("roomproto output: %v", err)
	}
	vb, err := decodeNumbers(b)
	if err != nil {
		return nil, fmt.Errorf("the output of Synapse: %v", err)
	}
	var out []leafDiff
	walkDiff("$", va, vb, &out)
	return out, nil
}

func walkDiff(path string, a, b any, out *[]leafDiff) {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			*out = append(*out, leafDiff{path: path, a: a, b: b})
			return
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				*out = append(*out, leafDiff{path: path + "." + k, a: v, b: nil})
				continue
			}
			walkDiff(path+"."+strconv.Quote(k), v, w, out)
		}
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			*out = append(*out, leafDiff{path: path, a: a, b: b})
			return
		}
		for i := range x {
			walkDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i], out)
		}
	case json.Number:
		y, ok := b.(json.Number)
		if ok && x == y {
			return
		}
		d := leafDiff{path: path, a: a, b: b}
		if ok {
			fa, ea := strconv.ParseFloat(string(x), 64)
			fb, eb := strconv.ParseFloat(string(y), 64)
			d.sameFloat = ea == nil && eb == nil && fa == fb
		}
		*out = append(*out, d)
	default:
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, leafDiff{path: path, a: a, b: b})
		}
	}
}

// canonFixedTexts are hand-written inputs every run starts with.
var canonFixedTexts = []string{
	`{}`, `{"one":1,"two":"Two"}`, `{"b":"2","a":"1"}`, `{"a":"\u65E5"}`, `{"本":2,"日":1}`, `{"a": -0, "b": 1e10}`,
	`{"\uffff":1,"😀":2,"\ue000":3}`, `{"\ud83d\ude00":1,"\uFFFF":2}`, `["\u2028\u2029\u007f"]`, `"\u001F\b\/"`,
	`{"a":1,"\u0061":2}`, `{"a":1,"a":2}`, `[9007199254740991,-9007199254740991,9007199254740992]`,
	`[1e10]`, `[1.0]`, `[-0.0]`, `[1e400]`, `["\ud800"]`, `["\udc00\ud800"]`, `[NaN]`, "\ufeff{}", " {} ",
	"{\"a\":\t1\r\n}", "[\f1]", `[1,]`, `{"a":1}x`, "[\"\x7f\"]", "[\"\xff\"]", "[\"\xed\xa0\x80\"]",
	`[123456789012345678901234567890]`, `[-0]`, `[0e0]`, `[2E0]`, `[1E16]`, `[9007199254740993.0]`,
}

func runCanon(t *Tally, n int, seed int64) {
	py := theOracle()
	for _, s := range canonFixedTexts {
		for _, strict := range []bool{false, true} {
			compareCanon(t, py, []byte(s), strict)
		}
	}
	r := rand.New(rand.NewSource(seed))
	g := &jgen{r: r, bad: 20, floats: true, surrogates: true, dups: true}
	for i := 0; i < n; i++ {
		in := []byte(g.doc())
		for _, strict := range []bool{false, true} {
			compareCanon(t, py, in, strict)
		}
	}
}

// dedup rewrites the JSON text in with every object keeping only the last occurrence of each
// key (values otherwise as written: numbers keep their spelling), and reports whether there
// was a duplicate. Keys are re-encoded (a lone surrogate in a key becomes U+FFFD).
func dedup(in []byte) ([]byte, bool) {
	dups := false
	var walk func(v []byte) []byte
	walk = func(v []byte) []byte {
		switch canonicaljson.KindOf(v) {
		case canonicaljson.Object:
			var keys []string
			vals := map[string][]byte{}
			_ = canonicaljson.EachMember(v, func(k string, val []byte) error {
				if _, ok := vals[k]; ok {
					dups = true
				} else {
					keys = append(keys, k)
				}
				vals[k] = walk(val)
				return nil
			})
			out := []byte("{")
			for i, k := range keys {
				if i > 0 {
					out = append(out, ',')
				}
				out = canonicaljson.AppendString(out, k)
				out = append(out, ':')
				out = append(out, vals[k]...)
			}
			return append(out, '}')
		case canonicaljson.Array:
			out := []byte("[")
			first := true
			_ = canonicaljson.EachElement(v, func(e []byte) error {
				if !first {
					out = append(out, ',')
				}
				first = false
				out = append(out, walk(e)...)
				return nil
			})
			return append(out, ']')
		}
		return bytes.TrimSpace(v)
	}
	out := walk(bytes.TrimSpace(in))
	return out, dups
}

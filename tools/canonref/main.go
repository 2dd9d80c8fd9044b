// Command canonref compares the whole API of roomproto's canonicaljson package with an
// independent Python reference written from the spec text only (canonref.py in this directory):
// the appendix "Canonical JSON" (definition, grammar, examples), the room version fragments
// v1-canonical-json and v6-canonical-json, and RFC 8259.
//
//	go run ./tools/canonref -n 20000 -seed 1 [-decisions] [-out DIR] [-v]
//
// Each case draws adversarial JSON text (escapes of every kind, colliding and oddly sorting
// keys, numbers at every edge, every whitespace, invalid UTF-8, trailing data, nesting around
// the depth limit, mutations) and options (Strict, MaxDepth), and compares with the reference:
// Append (into a fresh or a non-empty dst), AppendIndexed with one Index reused across all
// cases (every Member of Members and Nested), Valid, Canonical and CanonicalStrict, the error
// kind (the sentinel) and its offset; EachMember or EachElement (calls, keys, raw values,
// errors, stopping early); Unquote of a drawn string literal; KindOf; AppendString of drawn Go
// string bytes; and Marshal of a drawn Go value (maps, slices, tagged structs, integers of every
// size, floats, json.RawMessage, json.Number, nil, pointers, a json.Marshaler).
//
// Divergences are grouped; each group is printed with its smallest example (-v adds the first;
// DIR/divergences.jsonl has both). Exit status 1 on any divergence or harness error, 2 when the
// reference cannot be started.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// refReq is a request to canonref.py.
type refReq struct {
	Op       string `json:"op"`
	In       string `json:"in,omitempty"`
	Strict   bool   `json:"strict,omitempty"`
	MaxDepth int    `json:"maxdepth,omitempty"`
	V        desc   `json:"v,omitempty"`
}

// refAns is the reference's answer (see canonref.py).
type refAns struct {
	OK      *string    `json:"ok"`
	Members [][]any    `json:"members"`
	Nested  [][]any    `json:"nested"`
	Err     string     `json:"err"`
	Kinds   []string   `json:"kinds"`
	Off     int64      `json:"off"`
	Alt     []int64    `json:"alt"`
	Amb     []string   `json:"amb"`
	Calls   [][]string `json:"calls"`
	Kind    string     `json:"kind"`
	Error   string     `json:"error"`
}

// example is one divergent case as printed and written to divergences.jsonl.
type example struct {
	Func     string   `json:"func"`
	Input    string   `json:"input"` // Go-quoted
	Strict   bool     `json:"strict,omitempty"`
	MaxDepth int      `json:"maxdepth,omitempty"`
	RP       string   `json:"roomproto"`
	Ref      string   `json:"reference"`
	Labels   []string `json:"labels,omitempty"`
	Amb      []string `json:"amb,omitempty"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return []byte("<bad base64 from the reference>")
	}
	return b
}

var sentinels = []struct {
	err  error
	name string
}{
	{canonicaljson.ErrTrailingData, "trailing"}, {canonicaljson.ErrInvalidUTF8, "utf8"},
	{canonicaljson.ErrFloat, "float"}, {canonicaljson.ErrNegativeZero, "negzero"},
	{canonicaljson.ErrIntegerRange, "range"}, {canonicaljson.ErrDuplicateKey, "dup"},
	{canonicaljson.ErrLoneSurrogate, "surrogate"}, {canonicaljson.ErrTooDeep, "deep"},
	{canonicaljson.ErrSyntax, "syntax"},
}

// errKind names the sentinel held by a *SyntaxError, and its offset; "other" for other errors.
func errKind(err error) (string, int64) {
	var se *canonicaljson.SyntaxError
	if !errors.As(err, &se) {
		return "other: " + err.Error(), -1
	}
	for _, s := range sentinels {
		if se.Err == s.err {
			if !errors.Is(err, s.err) {
				return s.name + " (errors.Is fails)", se.Offset
			}
			return s.name, se.Offset
		}
	}
	return fmt.Sprintf("unknown sentinel %v", se.Err), se.Offset
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	k, off := errKind(err)
	return fmt.Sprintf("%s@%d", k, off)
}

func refErrText(a refAns) string {
	s := fmt.Sprintf("%s@%d", strings.Join(a.Kinds, "|"), a.Off)
	if len(a.Alt) > 0 {
		s += fmt.Sprintf(" (alt %v)", a.Alt)
	}
	return s
}

// run holds the state of one run.
type run struct {
	ref      *pyref.Process
	groups   pyref.Groups[*example]
	coverage map[string]int
	harness  int
	divs     int
	idx      canonicaljson.Index // reused by every AppendIndexed call
	verbose  bool
	again    bool // canonicalising a canonical output
	seen     []seenCase
	labels   []string
	caseDiv  bool
}

func (rn *run) ask(req refReq) (refAns, bool) {
	var a refAns
	if err := rn.ref.MustAsk(req, &a); err != nil {
		a.Error = err.Error()
	}
	if a.Error != "" {
		rn.harness++
		fmt.Fprintln(os.Stderr, "reference error:", a.Error, "on", req.Op, strings.TrimSpace(string(unb64(req.In))))
		return a, false
	}
	return a, true
}

// diverge records one divergence of the current case under key.
func (rn *run) diverge(fn, key, input string, strict bool, md int, rp, ref string, amb []string) {
	ex := &example{Func: fn, Input: input, Strict: strict, MaxDepth: md, RP: rp, Ref: ref, Labels: rn.labels, Amb: amb}
	k := fn + " " + key
	if len(amb) > 0 && !strings.HasPrefix(key, "OFFSET") && !strings.HasPrefix(key, "KIND") {
		k += " amb=" + strings.Join(amb, ",")
	}
	rn.groups.Add(k, "", ex, len(input)+len(rp))
	rn.caseDiv = true
}

func main() {
	n := flag.Int("n", 20000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings (CANONREF_DECISIONS=1)")
	outDir := flag.String("out", "", "directory for tally.tsv, coverage.txt and divergences.jsonl (none if empty)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	flag.Parse()

	rn := &run{
		ref:      pyref.MustStart(pyref.Beside("canonref.py"), pyref.Env(*decisions, "CANONREF_DECISIONS=1")...),
		groups:   pyref.Groups[*example]{},
		coverage: map[string]int{},
		verbose:  *verbose,
	}
	r := rand.New(rand.NewSource(*seed))
	g := &gen{r: r}
	rn.fixed()
	for i := 0; i < *n; i++ {
		g.labels = map[string]bool{}
		data, md := g.draw()
		rn.labels = difftool.SortedKeys(g.labels)
		rn.caseDiv = false
		strict := r.Intn(2) == 0
		rn.canon(r, data, strict, md)
		if r.Intn(3) == 0 {
			rn.canon(r, data, !strict, md)
		}
		switch canonicaljson.KindOf(data) {
		case canonicaljson.Object:
			rn.each(r, data, "members")
		case canonicaljson.Array:
			rn.each(r, data, "elements")
		default:
			if r.Intn(5) == 0 {
				rn.each(r, data, g.pick("members", "elements"))
			}
		}
		rn.kindOf(data)
		lit := g.ws() + g.str(r.Intn(3) == 0) + g.ws()
		if r.Intn(5) == 0 {
			lit = g.mutate(lit)
		}
		rn.unquote([]byte(lit))
		rn.appendString(g.goBytes())
		v, d := g.goValue(3)
		rn.marshal(v, d)
		if rn.caseDiv {
			rn.divs++
		}
	}
	rn.ref.Close()
	rn.concurrent()

	var tally strings.Builder
	fmt.Fprintf(&tally, "cases\t%d\n", *n)
	var cov strings.Builder
	for _, k := range difftool.SortedKeys(rn.coverage) {
		fmt.Fprintf(&cov, "%d\t%s\n", rn.coverage[k], k)
	}
	if err := pyref.WriteRun(*outDir, tally.String(), cov.String(), rn.groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	rn.groups.Print(os.Stdout, *verbose, nil)
	fmt.Printf("compared %d cases, harness errors %d, divergences %d, groups %d\n",
		*n, rn.harness, rn.divs, len(rn.groups))
	if rn.harness > 0 || len(rn.groups) > 0 {
		os.Exit(1)
	}
}

// fixed runs the appendix's examples, each a fixed case in both modes.
func (rn *run) fixed() {
	examples := [][2]string{
		{`{}`, `{}`},
		{"{\n    \"one\": 1,\n    \"two\": \"Two\"\n}", `{"one":1,"two":"Two"}`},
		{"{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}", `{"a":"1","b":"2"}`},
		{`{"b":"2","a":"1"}`, `{"a":"1","b":"2"}`},
		{`{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`, `{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}`},
		{"{\n    \"a\": \"日本語\"\n}", `{"a":"日本語"}`},
		{"{\n    \"本\": 2,\n    \"日\": 1\n}", `{"日":1,"本":2}`},
		{"{\n    \"a\": \"\\u65E5\"\n}", `{"a":"日"}`},
		{"{\n    \"a\": null\n}", `{"a":null}`},
		{"{\n    \"a\": -0,\n    \"b\": 1e10\n}", `{"a":0,"b":10000000000}`},
	}
	rn.labels = []string{"appendix example"}
	for _, ex := range examples {
		out, err := canonicaljson.Canonical([]byte(ex[0]))
		if err != nil || string(out) != ex[1] {
			rn.diverge("Canonical", "APPENDIX-EXAMPLE", ex[0], false, 0, string(out)+" "+errText(err), ex[1], nil)
		}
		rn.coverage["appendix example"]++
		a, ok := rn.ask(refReq{Op: "canon", In: b64(ex[0])})
		if ok && (a.OK == nil || string(unb64(*a.OK)) != ex[1]) {
			rn.harness++
			fmt.Fprintln(os.Stderr, "reference fails the appendix example", ex[0])
		}
		r := rand.New(rand.NewSource(int64(len(ex[0]))))
		rn.canon(r, []byte(ex[0]), false, 0)
		rn.canon(r, []byte(ex[0]), true, 0)
	}
	rn.labels = []string{"limits"}
	r := rand.New(rand.NewSource(7))
	deep := func(d int) []byte {
		return []byte(strings.Repeat("[", d) + strings.Repeat("]", d))
	}
	for _, c := range []struct{ d, md int }{{127, 0}, {128, 0}, {127, -5}, {128, -1}, {4096, 1 << 40},
		{4097, 1 << 40}, {4096, 4097}, {4097, 5000}, {1, 1}, {2, 1}, {3, 3}, {4, 3}} {
		rn.canon(r, deep(c.d), false, c.md)
		rn.canon(r, deep(c.d), true, c.md)
	}
	// EachMember and EachElement: DefaultMaxDepth with the container itself at depth 1
	rn.each(r, []byte(`{"k":`+string(deep(126))+`}`), "members")
	rn.each(r, []byte(`{"k":`+string(deep(127))+`}`), "members")
	rn.each(r, []byte(`[`+string(deep(126))+`]`), "elements")
	rn.each(r, []byte(`[`+string(deep(127))+`]`), "elements")

	// Index.Reset lets go of an index grown past 1,024 members in all; reuse after it is exact.
	var big strings.Builder
	big.WriteString("{")
	for i := 0; i < 1500; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		fmt.Fprintf(&big, `"k%04d":{"x":%d}`, 1499-i, i)
	}
	big.WriteString("}")
	rn.again = true // no fed-back or mutated case after this one: the Index must be its
	rn.canon(r, []byte(big.String()), true, 0)
	rn.again = false
	if len(rn.idx.Members) == 1500 {
		rn.coverage["Index.Reset of 1500+1500 members"]++
		rn.idx.Reset()
		if c := cap(rn.idx.Members) + cap(rn.idx.Nested); c > 1024 {
			rn.diverge("Index.Reset", "KEEPS-MEMORY", "(an index of 1500+1500 members)", false, 0,
				fmt.Sprintf("cap %d after Reset", c), "at most 1024", nil)
		}
	} else {
		rn.diverge("AppendIndexed", "BIG-INDEX", "(1500 members)", false, 0, fmt.Sprint(len(rn.idx.Members)), "1500", nil)
	}
	// a big object to reorder (scratch buffers past 64 KiB), then small ones (pool reuse)
	var huge strings.Builder
	huge.WriteString("{")
	for i := 0; i < 400; i++ {
		if i > 0 {
			huge.WriteString(",")
		}
		fmt.Fprintf(&huge, `"%03d":{"z":"%s\n","y":[%d,"\u00e9"]}`, 399-i, strings.Repeat("x\u0001é", 60), i)
	}
	huge.WriteString("}")
	for _, strict := range []bool{false, true} {
		rn.canon(r, []byte(huge.String()), strict, 0)
	}
	for _, s := range []string{`{"b":{"y":1,"x":{"q":1}},"a":[{"z":1}]}`, `{"a":1.5}`, `[{"a":{"b":1}}]`,
		`{"a":{"b":{"c":1}},"a":{}}`, `{"a":`,
		// lenient duplicates whose dropped value had nested members: none may stay in Nested
		`{"b":{"x":1},"a":1,"b":{"y":2}}`, `{"b":{"x":1},"b":2}`, `{"b":1,"b":{"x":{"q":1},"w":2},"a":{"z":1}}`,
		`{"c":{"k":1},"a":{"m":1,"m":2},"c":{"j":1,"i":2},"b":{}}`, `{"a":{"x":1},"\u0061":{"y":1}}`, `"x"`, `{}`, `{"a":{}}`, `{"c":{"z":1},"a":{"y":2,"x":1}}`} {
		rn.canon(r, []byte(s), true, 0)
		rn.canon(r, []byte(s), false, 0)
	}
	rn.labels = nil
}

// canon compares Append, AppendIndexed, Valid, Canonical and CanonicalStrict on one input.
func (rn *run) canon(r *rand.Rand, data []byte, strict bool, md int) {
	a, ok := rn.ask(refReq{Op: "canon", In: b64(string(data)), Strict: strict, MaxDepth: md})
	if !ok {
		return
	}
	in := fmt.Sprintf("%q", data)
	mode := "lenient"
	if strict {
		mode = "strict"
	}
	if a.OK != nil {
		rn.coverage["canon "+mode+" ok"]++
	} else {
		rn.coverage["canon "+mode+" error "+a.Err]++
	}
	for _, f := range a.Amb {
		rn.coverage["amb "+f]++
	}
	for _, l := range rn.labels {
		rn.coverage["label "+l]++
	}
	opts := canonicaljson.Options{Strict: strict, MaxDepth: md}
	div := func(fn, key, rp, ref string) { rn.diverge(fn, key, in, strict, md, rp, ref, a.Amb) }

	var dst []byte
	switch r.Intn(3) {
	case 1:
		dst = []byte("PREFIX")
	case 2:
		dst = make([]byte, 3, 64)
		copy(dst, "abc")
	}
	saved := slices.Clone(dst)
	out, err := canonicaljson.Append(dst, data, opts)
	if len(rn.seen) < 400 {
		rn.seen = append(rn.seen, seenCase{data, opts, slices.Clone(out[len(dst):]), errText(err)})
	}
	verr := canonicaljson.Valid(data, opts)
	dst2 := slices.Clone(dst)
	if r.Intn(4) == 0 {
		rn.idx.Reset()
		if len(rn.idx.Members) != 0 || len(rn.idx.Nested) != 0 {
			div("Index.Reset", "RESET-NOT-EMPTY", fmt.Sprintf("%d members %d nested", len(rn.idx.Members), len(rn.idx.Nested)), "0 0")
		}
	}
	out2, err2 := canonicaljson.AppendIndexed(dst2, data, opts, &rn.idx)
	if !bytes.Equal(dst[:len(saved)], saved) {
		div("Append", "DST-PREFIX-CHANGED", string(dst), string(saved))
	}

	if a.OK != nil {
		want := unb64(*a.OK)
		switch {
		case err != nil:
			div("Append", fmt.Sprintf("VERDICT: roomproto %s, reference ok", pyref.StripDetail(errKindOnly(err))), errText(err), string(want))
		case !bytes.Equal(out[:len(saved)], saved) || !bytes.Equal(out[len(saved):], want):
			div("Append", "BYTES", fmt.Sprintf("%q", out), fmt.Sprintf("%q", append(slices.Clone(saved), want...)))
		}
		if verr != nil {
			div("Valid", fmt.Sprintf("VERDICT: roomproto %s, reference ok", errKindOnly(verr)), errText(verr), "ok")
		}
		if err2 != nil {
			div("AppendIndexed", fmt.Sprintf("VERDICT: roomproto %s, reference ok", errKindOnly(err2)), errText(err2), "ok")
		} else if !bytes.Equal(out2[len(saved):], want) {
			div("AppendIndexed", "BYTES", fmt.Sprintf("%q", out2), fmt.Sprintf("%q", want))
		} else {
			rn.checkIndex(out2, len(saved), a, div)
		}
		if !rn.again && r.Intn(2) == 0 {
			// the canonical output is its own canonical form (the fast path of input that is
			// already canonical), in both modes, with the same Index
			rn.again = true
			rn.canon(r, want, r.Intn(2) == 0, md)
			if r.Intn(2) == 0 {
				// near-canonical text: the fast path's checker must send it to the parser
				rn.canon(r, mutateCanonical(r, want), r.Intn(2) == 0, md)
			}
			rn.again = false
		}
	} else {
		rn.cmpErr("Append", err, a, div)
		if err != nil && !bytes.Equal(out, saved) {
			div("Append", "ERROR-DST-CHANGED", fmt.Sprintf("%q", out), fmt.Sprintf("%q", saved))
		}
		if errText(verr) != errText(err) {
			div("Valid", "NOT-APPEND'S-ERROR", errText(verr), errText(err))
		}
	}
	if err == nil && err2 != nil || err != nil && errText(err) != errText(err2) {
		div("AppendIndexed", "NOT-APPEND'S-ERROR", errText(err2), errText(err))
	}
	if md == 0 {
		var o3 []byte
		var e3 error
		fn := "Canonical"
		if strict {
			fn = "CanonicalStrict"
			o3, e3 = canonicaljson.CanonicalStrict(data)
		} else {
			o3, e3 = canonicaljson.Canonical(data)
		}
		o4, e4 := canonicaljson.Append(nil, data, opts)
		if !bytes.Equal(o3, o4) || errText(e3) != errText(e4) {
			div(fn, "NOT-APPEND", fmt.Sprintf("%q %s", o3, errText(e3)), fmt.Sprintf("%q %s", o4, errText(e4)))
		}
	}
}

// cmpErr compares an error with the reference's: verdict, kind (one of the reference's
// acceptable kinds), offset (the reference's, or one of its alternatives: another class).
func (rn *run) cmpErr(fn string, e error, a refAns, div func(fn, key, rp, ref string)) {
	rk := strings.Join(a.Kinds, "|")
	if e == nil {
		div(fn, fmt.Sprintf("VERDICT: roomproto ok, reference %s", rk), "ok", refErrText(a))
		return
	}
	k, off := errKind(e)
	switch {
	case !slices.Contains(a.Kinds, k):
		div(fn, fmt.Sprintf("KIND: roomproto %s, reference %s", k, rk), errText(e), refErrText(a))
	case off == a.Off:
	case slices.Contains(a.Alt, off):
		div(fn, fmt.Sprintf("OFFSET %s: roomproto at the reference's alternative offset", k), errText(e), refErrText(a))
	default:
		div(fn, fmt.Sprintf("OFFSET %s: roomproto %+d from the reference's", k, off-a.Off), errText(e), refErrText(a))
	}
}

func errKindOnly(err error) string {
	k, _ := errKind(err)
	return k
}

// checkIndex compares the reused Index after a successful AppendIndexed with the reference's
// parse of the output: keys, offsets (into out, dst included), key order, grouping and sizes.
func (rn *run) checkIndex(out []byte, base int, a refAns, div func(fn, key, rp, ref string)) {
	idx := &rn.idx
	rn.coverage[fmt.Sprintf("index members>0 %v nested>0 %v", len(a.Members) > 0, len(a.Nested) > 0)]++
	if len(idx.Members) != len(a.Members) || len(idx.Nested) != len(a.Nested) {
		div("AppendIndexed", "INDEX-SIZE", fmt.Sprintf("%d members, %d nested", len(idx.Members), len(idx.Nested)),
			fmt.Sprintf("%d members, %d nested", len(a.Members), len(a.Nested)))
		return
	}
	num := func(x any) int {
		f, _ := x.(float64)
		return int(f)
	}
	cmp := func(what string, m canonicaljson.Member, ref []any, top bool) {
		key := unb64(ref[0].(string))
		s, v, e := num(ref[1])+base, num(ref[2])+base, num(ref[3])+base
		if m.Start != s || m.Value != v || m.End != e {
			div("AppendIndexed", "INDEX-OFFSETS "+what, fmt.Sprintf("%d %d %d", m.Start, m.Value, m.End), fmt.Sprintf("%d %d %d key %q", s, v, e, key))
			return
		}
		if !bytes.Equal(m.Key(out), out[m.Start+1:m.Value-2]) {
			div("AppendIndexed", "MEMBER-KEY "+what, fmt.Sprintf("%q", m.Key(out)), fmt.Sprintf("%q", out[m.Start+1:m.Value-2]))
		}
		if top {
			ns, ne := num(ref[4]), num(ref[5])
			if ns != ne && (m.NestedStart != ns || m.NestedEnd != ne) {
				div("AppendIndexed", "INDEX-NESTED-RANGE", fmt.Sprintf("%d:%d", m.NestedStart, m.NestedEnd), fmt.Sprintf("%d:%d", ns, ne))
			}
			if ns == ne && m.NestedStart != m.NestedEnd {
				div("AppendIndexed", "INDEX-NESTED-RANGE not empty", fmt.Sprintf("%d:%d", m.NestedStart, m.NestedEnd), "empty")
			}
		} else if m.NestedStart != m.NestedEnd {
			div("AppendIndexed", "INDEX-NESTED-RANGE of a nested member not empty", fmt.Sprintf("%d:%d", m.NestedStart, m.NestedEnd), "empty")
		}
	}
	for i, m := range idx.Members {
		cmp("members", m, a.Members[i], true)
	}
	for i, m := range idx.Nested {
		cmp("nested", m, a.Nested[i], false)
	}
}

var errStop = errors.New("stop here")

// each compares EachMember or EachElement, sometimes stopping at a drawn call.
func (rn *run) each(r *rand.Rand, data []byte, op string) {
	a, ok := rn.ask(refReq{Op: op, In: b64(string(data))})
	if !ok {
		return
	}
	stop := -1
	if r.Intn(4) == 0 {
		stop = r.Intn(4)
	}
	var calls [][]string
	fn := func(key string, value []byte) error {
		if op == "members" {
			calls = append(calls, []string{b64(key), b64(string(value))})
		} else {
			calls = append(calls, []string{b64(string(value))})
		}
		if len(calls)-1 == stop {
			return errStop
		}
		return nil
	}
	var err error
	name := "EachMember"
	if op == "members" {
		err = canonicaljson.EachMember(data, fn)
	} else {
		name = "EachElement"
		err = canonicaljson.EachElement(data, func(v []byte) error { return fn("", v) })
	}
	in := fmt.Sprintf("%q", data)
	div := func(key, rp, ref string) { rn.diverge(name, key, in, false, 0, rp, ref, a.Amb) }
	show := func(cs [][]string) string {
		var parts []string
		for _, c := range cs {
			var p []string
			for _, x := range c {
				p = append(p, fmt.Sprintf("%q", unb64(x)))
			}
			parts = append(parts, strings.Join(p, ":"))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	want := a.Calls
	stopped := stop >= 0 && len(a.Calls) > stop
	if stopped {
		want = a.Calls[:stop+1]
	}
	rn.coverage[fmt.Sprintf("%s err=%v stopped=%v", name, a.Err != "", stopped)]++
	if len(calls) != len(want) || !slices.EqualFunc(calls, want, slices.Equal[[]string]) {
		k := "CALLS"
		if len(calls) != len(want) {
			k = fmt.Sprintf("CALLS count roomproto %+d (ref err %s)", len(calls)-len(want), a.Err)
		}
		div(k, show(calls)+" "+errText(err), show(want)+" "+a.Err)
		return
	}
	switch {
	case stopped:
		if err != errStop {
			div("STOP-ERROR-NOT-RETURNED", errText(err), "fn's error")
		}
	case a.Err == "" && err != nil:
		div("VERDICT: roomproto "+errKindOnly(err)+", reference ok", errText(err), "ok")
	case a.Err != "":
		rn.cmpErr(name, err, a, func(_, key, rp, ref string) { div(key, rp, ref) })
	}
}

func (rn *run) kindOf(data []byte) {
	a, ok := rn.ask(refReq{Op: "kind", In: b64(string(data))})
	if !ok {
		return
	}
	got := canonicaljson.KindOf(data).String()
	rn.coverage["KindOf "+a.Kind]++
	if got != a.Kind {
		rn.diverge("KindOf", "KIND: roomproto "+got+", reference "+a.Kind, fmt.Sprintf("%q", data), false, 0, got, a.Kind, nil)
	}
}

func (rn *run) unquote(lit []byte) {
	a, ok := rn.ask(refReq{Op: "unquote", In: b64(string(lit))})
	if !ok {
		return
	}
	s, err := canonicaljson.Unquote(lit)
	in := fmt.Sprintf("%q", lit)
	div := func(key, rp, ref string) { rn.diverge("Unquote", key, in, false, 0, rp, ref, a.Amb) }
	rn.coverage[fmt.Sprintf("Unquote ok=%v", a.OK != nil)]++
	switch {
	case a.OK != nil && err != nil:
		div("VERDICT: roomproto "+errKindOnly(err)+", reference ok", errText(err), fmt.Sprintf("%q", unb64(*a.OK)))
	case a.OK != nil && s != string(unb64(*a.OK)):
		div("BYTES", fmt.Sprintf("%q", s), fmt.Sprintf("%q", unb64(*a.OK)))
	case a.OK == nil:
		rn.cmpErr("Unquote", err, a, func(_, key, rp, ref string) { div(key, rp, ref) })
	}
}

func (rn *run) appendString(s []byte) {
	a, ok := rn.ask(refReq{Op: "string", In: b64(string(s))})
	if !ok || a.OK == nil {
		return
	}
	got := canonicaljson.AppendString([]byte("x"), string(s))
	rn.coverage["AppendString"]++
	if want := append([]byte("x"), unb64(*a.OK)...); !bytes.Equal(got, want) {
		rn.diverge("AppendString", "BYTES", fmt.Sprintf("%q", s), false, 0, fmt.Sprintf("%q", got), fmt.Sprintf("%q", want), nil)
	}
}

func (rn *run) marshal(v any, d desc) {
	a, ok := rn.ask(refReq{Op: "marshal", V: d})
	if !ok {
		return
	}
	out, err := canonicaljson.Marshal(v)
	jd, _ := json.Marshal(d)
	in := fmt.Sprintf("%#v", v)
	if len(in) > 300 {
		in = in[:300] + "..."
	}
	in += " desc " + string(jd)
	div := func(key, rp, ref string) { rn.diverge("Marshal", key, in, false, 0, rp, ref, nil) }
	kind := "json"
	if err != nil {
		if k, _ := errKind(err); !strings.HasPrefix(k, "other") {
			kind = k
		}
	}
	rn.coverage[fmt.Sprintf("Marshal ok=%v", a.OK != nil)]++
	switch {
	case a.OK != nil && err != nil:
		div("VERDICT: roomproto "+kind+", reference ok", errText(err), fmt.Sprintf("%q", unb64(*a.OK)))
	case a.OK != nil && !bytes.Equal(out, unb64(*a.OK)):
		div("BYTES", fmt.Sprintf("%q", out), fmt.Sprintf("%q", unb64(*a.OK)))
	case a.OK == nil && err == nil:
		div("VERDICT: roomproto ok, reference "+strings.Join(a.Kinds, "|"), fmt.Sprintf("%q", out), strings.Join(a.Kinds, "|"))
	case a.OK == nil && !slices.Contains(a.Kinds, kind):
		div("KIND: roomproto "+kind+", reference "+strings.Join(a.Kinds, "|"), errText(err), strings.Join(a.Kinds, "|"))
	}
}

// seenCase is an input and what Append gave for it, replayed by concurrent.
type seenCase struct {
	data []byte
	opts canonicaljson.Options
	out  []byte
	err  string
}

// concurrent replays the first cases of the run from two goroutines at once, each with its own
// Index ("All functions are safe for concurrent use"; pooled scratch buffers must not leak).
func (rn *run) concurrent() {
	type bad struct {
		c   seenCase
		got string
	}
	res := make(chan []bad, 2)
	for w := 0; w < 2; w++ {
		go func(w int) {
			var bads []bad
			var idx canonicaljson.Index
			for rep := 0; rep < 5; rep++ {
				for k := range rn.seen {
					c := rn.seen[(k*(w+1)+rep)%len(rn.seen)]
					out, err := canonicaljson.AppendIndexed(nil, c.data, c.opts, &idx)
					if !bytes.Equal(out, c.out) || errText(err) != c.err {
						bads = append(bads, bad{c, fmt.Sprintf("%q %s", out, errText(err))})
					}
				}
			}
			res <- bads
		}(w)
	}
	for w := 0; w < 2; w++ {
		for _, b := range <-res {
			rn.diverge("AppendIndexed", "CONCURRENT", fmt.Sprintf("%q", b.c.data), b.c.opts.Strict, b.c.opts.MaxDepth,
				b.got, fmt.Sprintf("%q %s", b.c.out, b.c.err), nil)
		}
	}
}

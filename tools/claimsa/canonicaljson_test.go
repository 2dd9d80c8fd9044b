package claimsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roomproto/roomproto/canonicaljson"
)

// cjCase is one canonicalisation claim: input, mode, and either the exact output or the
// error sentinel (and offset, when the claim fixes one).
type cjCase struct {
	claim  string
	in     string
	strict bool
	out    string // expected output when err is nil
	err    error  // expected sentinel
	off    int64  // expected offset when >= 0 and err != nil
	known  string // finding ID when the case fails
}

func runCJ(t *testing.T, cases []cjCase) {
	t.Helper()
	for i, c := range cases {
		name := fmt.Sprintf("%d-%s", i, c.claim)
		t.Run(name, func(t *testing.T) {
			opts := canonicaljson.Options{Strict: c.strict}
			got, err := canonicaljson.Append(nil, []byte(c.in), opts)
			verr := canonicaljson.Valid([]byte(c.in), opts)
			fail := func(format string, args ...any) {
				t.Helper()
				if c.known != "" {
					knownFinding(t, c.known)
				}
				t.Errorf("%s: in %q strict=%v: "+format, append([]any{c.claim, c.in, c.strict}, args...)...)
			}
			if c.err == nil {
				if err != nil || string(got) != c.out {
					fail("got %q, %v; want %q", got, err, c.out)
				}
				if verr != nil {
					fail("Valid = %v, want nil", verr)
				}
				// Fixed point.
				if again, err := canonicaljson.Append(nil, got, opts); err != nil || string(again) != string(got) {
					fail("output not a fixed point: %q, %v", again, err)
				}
				return
			}
			var se *canonicaljson.SyntaxError
			if !errors.Is(err, c.err) || !errors.As(err, &se) || se.Err != c.err {
				fail("got %q, %v; want %v", got, err, c.err)
				return
			}
			if c.off >= 0 && se.Offset != c.off {
				fail("offset %d, want %d (%v)", se.Offset, c.off, err)
			}
			var vse *canonicaljson.SyntaxError
			if !errors.As(verr, &vse) || vse.Err != se.Err || vse.Offset != se.Offset {
				fail("Valid = %v, Append = %v; decision 9: Valid returns exactly the error Append would", verr, err)
			}
		})
	}
}

// TestCanonicalOutput checks decisions.md canonicaljson 1-3, 10-13 and go doc canonicaljson
// (package doc "Strict and lenient rules", "Strings").
func TestCanonicalOutput(t *testing.T) {
	L, S := false, true
	_ = S
	cases := []cjCase{
		{claim: "cj1 keys sorted by code point", in: `{"b":1,"a":{"d":1,"c":2}}`, out: `{"a":{"c":2,"d":1},"b":1}`},
		{claim: "cj1 astral after U+FFFF", in: `{"😀":1,"\uffff":2,"\ue000":3}`, out: `{"` + "\ue000" + `":3,"` + "\uffff" + `":2,"😀":1}`},
		{claim: "cj1 a\" before a#", in: `{"a#":1,"a\"":2}`, out: `{"a\"":2,"a#":1}`},
		{claim: "cj1 escaped key sorts by value", in: `{"b":1,"\u0061":2}`, out: `{"a":2,"b":1}`},
		{claim: "cj1 whitespace removed", in: " {\n\t\"a\" : [ 1 , 2 ] ,\r\"b\":true}\n", out: `{"a":[1,2],"b":true}`},
		{claim: "cj2 short escapes", in: `"\u0008\u0009\u000a\u000c\u000d"`, out: `"\b\t\n\f\r"`},
		{claim: "cj2 other controls lowercase \\u00xx", in: `"\u0001\u001F\u000B"`, out: `"\u0001\u001f\u000b"`},
		{claim: "cj2 U+007F raw", in: `"\u007f"`, out: "\"\x7f\""},
		{claim: "cj2 U+2028/2029 raw", in: `"\u2028\u2029"`, out: "\"\u2028\u2029\""},
		{claim: "cj2 html escapes decoded", in: `"\u003c\u003e\u0026"`, out: `"<>&"`},
		{claim: "cj2 \\/ decoded", in: `"a\/b"`, out: `"a/b"`},
		{claim: "cj2 uppercase hex decoded", in: `"\u00E9"`, out: `"é"`},
		{claim: "cj2 \\u0041 decoded", in: `"\u0041"`, out: `"A"`},
		{claim: "cj2 surrogate pair one char", in: `"\ud83d\ude00"`, out: `"😀"`},
		{claim: "cj2 surrogate pair upper hex", in: `"\uD83D\uDE00"`, out: `"😀"`, strict: true},
		{claim: "cj2 quote and backslash kept", in: `"\"\\"`, out: `"\"\\"`},
		{claim: "cj3 any top-level value: string", in: ` "x" `, out: `"x"`},
		{claim: "cj3 any top-level value: number", in: `12`, out: `12`},
		{claim: "cj3 any top-level value: array", in: `[ ]`, out: `[]`},
		{claim: "cj3 any top-level value: null", in: "\tnull\n", out: `null`},
		{claim: "cj3 trailing data", in: `{} {}`, err: canonicaljson.ErrTrailingData, off: 3},
		{claim: "cj3 trailing data after number", in: `1 x`, err: canonicaljson.ErrTrailingData, off: 2},
		// Lenient numbers (10).
		{claim: "cj10 big integers copied", in: `123456789012345678901234567890`, out: `123456789012345678901234567890`},
		{claim: "cj10 -0 -> 0", in: `-0`, out: `0`},
		{claim: "cj10 1e10", in: `1e10`, out: `10000000000`},
		{claim: "cj10 1.5e1", in: `1.5e1`, out: `15`},
		{claim: "cj10 100e-2", in: `100e-2`, out: `1`},
		{claim: "cj10 1E2", in: `1E2`, out: `100`},
		{claim: "cj10 1e+2", in: `1e+2`, out: `100`},
		{claim: "cj10 -1e2", in: `-1e2`, out: `-100`},
		{claim: "cj10 0e5", in: `0e5`, out: `0`},
		{claim: "cj10 -0e0 (integer 0 in exponent notation)", in: `-0e0`, out: `0`},
		{claim: "cj10 9007199254740991e0 in range", in: `9007199254740991e0`, out: `9007199254740991`},
		{claim: "cj10 9007199254740992e0 out of range verbatim", in: `9007199254740992e0`, out: `9007199254740992e0`},
		{claim: "cj10 1.0 verbatim", in: `1.0`, out: `1.0`},
		{claim: "cj10 1.5 verbatim", in: `1.5`, out: `1.5`},
		{claim: "cj10 -0.0 verbatim", in: `-0.0`, out: `-0.0`},
		{claim: "cj10 1e16 verbatim", in: `1e16`, out: `1e16`},
		{claim: "cj10 1e-5 verbatim", in: `1e-5`, out: `1e-5`},
		{claim: "cj10 1e400 verbatim", in: `1e400`, out: `1e400`},
		{claim: "cj10 spec example", in: `{"a": -0, "b": 1e10}`, out: `{"a":0,"b":10000000000}`},
		// Lenient duplicates (11), surrogates (12).
		{claim: "cj11 last wins, key once", in: `{"a":1,"b":2,"a":3}`, out: `{"a":3,"b":2}`},
		{claim: "cj11 values not merged", in: `{"a":{"x":1},"a":{"y":2}}`, out: `{"a":{"y":2}}`},
		{claim: "cj11 escaped duplicate", in: `{"a":1,"\u0061":2}`, out: `{"a":2}`},
		{claim: "cj12 lone high surrogate lowercase", in: `"\uD800"`, out: `"\ud800"`},
		{claim: "cj12 lone low surrogate", in: `"\uDC00x"`, out: `"\udc00x"`},
		{claim: "cj12 surrogate key sorts after U+D7FF before U+E000", in: `{"\ue000":1,"\ud800":2,"\ud7ff":3}`, out: `{"` + "\ud7ff" + `":3,"\ud800":2,"` + "\ue000" + `":1}`},
		// Refused in both modes (13).
		{claim: "cj13 overlong", in: "\"\xc0\xaf\"", err: canonicaljson.ErrInvalidUTF8, off: 1},
		{claim: "cj13 utf8 surrogate", in: "\"a\xed\xa0\x80\"", err: canonicaljson.ErrInvalidUTF8, off: 2},
		{claim: "cj13 truncated", in: "\"\xe2\x82\"", err: canonicaljson.ErrInvalidUTF8, off: 1},
		{claim: "cj13 above U+10FFFF", in: "\"\xf4\x90\x80\x80\"", err: canonicaljson.ErrInvalidUTF8, off: 1},
		{claim: "cj13 invalid utf8 in key", in: "{\"\xff\":1}", err: canonicaljson.ErrInvalidUTF8, off: 2},
		{claim: "cj13 leading zero", in: `01`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 plus", in: `+1`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 .5", in: `.5`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 1.", in: `1.`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 NaN", in: `NaN`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 Infinity", in: `[Infinity]`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 trailing comma", in: `[1,]`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 trailing comma object", in: `{"a":1,}`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 comment", in: `{/*x*/}`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 single quotes", in: `{'a':1}`, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 raw control char", in: "\"a\tb\"", err: canonicaljson.ErrSyntax, off: 2},
		{claim: "cj13 BOM", in: "\xef\xbb\xbf{}", err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 vertical tab whitespace", in: "{\v}", err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 NBSP whitespace", in: "[1,\u00a02]", err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 empty input", in: ``, err: canonicaljson.ErrSyntax, off: -1},
		{claim: "cj13 only whitespace", in: ` `, err: canonicaljson.ErrSyntax, off: -1},
		// Offsets inside strings (19a).
		{claim: "cj19a bad escape at backslash", in: `"ab\x"`, err: canonicaljson.ErrSyntax, off: 3},
		{claim: "cj19a bad hex at backslash", in: `"ab\u12G4"`, err: canonicaljson.ErrSyntax, off: 3},
		{claim: "cj19a short hex at backslash", in: `"\u12"`, err: canonicaljson.ErrSyntax, off: 1},
		{claim: "cj19a backslash ends input", in: `"ab\`, err: canonicaljson.ErrSyntax, off: 4},
		{claim: "cj19a unterminated string at end", in: `"abc`, err: canonicaljson.ErrSyntax, off: 4},
		{claim: "cj19a raw control at itself", in: "[\"ab\x01\"]", err: canonicaljson.ErrSyntax, off: 4},
		{claim: "cj19a strict lone high then malformed", in: `"x\ud800\u12"`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 2},
		{claim: "cj19a strict lone high then end", in: `"x\ud800`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 2},
	}
	for i := range cases {
		if cases[i].err == nil {
			cases[i].strict = cases[i].strict && true
		}
	}
	_ = L
	runCJ(t, cases)
}

// TestCanonicalStrict checks decisions.md canonicaljson 4-9 and the strict sentinels.
func TestCanonicalStrict(t *testing.T) {
	cases := []cjCase{
		{claim: "cj4 1.0", in: `1.0`, strict: true, err: canonicaljson.ErrFloat, off: 0},
		{claim: "cj4 1e2", in: `[1e2]`, strict: true, err: canonicaljson.ErrFloat, off: 1},
		{claim: "cj4 1.5e1", in: `1.5e1`, strict: true, err: canonicaljson.ErrFloat, off: 0},
		{claim: "cj4 0e0", in: `0e0`, strict: true, err: canonicaljson.ErrFloat, off: 0},
		{claim: "cj5 -0", in: `{"a":-0}`, strict: true, err: canonicaljson.ErrNegativeZero, off: 5},
		{claim: "cj5 2^53-1 ok", in: `9007199254740991`, strict: true, out: `9007199254740991`},
		{claim: "cj5 -(2^53-1) ok", in: `-9007199254740991`, strict: true, out: `-9007199254740991`},
		{claim: "cj5 2^53 range", in: `9007199254740992`, strict: true, err: canonicaljson.ErrIntegerRange, off: 0},
		{claim: "cj5 -2^53 range", in: `-9007199254740992`, strict: true, err: canonicaljson.ErrIntegerRange, off: 0},
		{claim: "cj5 huge range", in: `[1,123456789012345678901234567890]`, strict: true, err: canonicaljson.ErrIntegerRange, off: 3},
		{claim: "cj6 spec example is ErrNegativeZero", in: `{"a": -0, "b": 1e10}`, strict: true, err: canonicaljson.ErrNegativeZero, off: 6},
		{claim: "cj7 duplicate, offset of second", in: `{"a":1,"a":2}`, strict: true, err: canonicaljson.ErrDuplicateKey, off: 7},
		{claim: "cj7 duplicate after unescaping", in: `{"a":1,"\u0061":2}`, strict: true, err: canonicaljson.ErrDuplicateKey, off: 7},
		{claim: "cj8 lone high", in: `"\ud800"`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 1},
		{claim: "cj8 lone low", in: `"\udc00"`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 1},
		{claim: "cj8 high then non-low escape", in: `"\ud800\u0041"`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 1},
		{claim: "cj8 high then char", in: `"\ud800a"`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 1},
		{claim: "cj9 first error left to right", in: `[1.5,-0]`, strict: true, err: canonicaljson.ErrFloat, off: 1},
		{claim: "cj9 smallest duplicate key reported", in: `{"b":1,"b":2,"a":1,"a":2}`, strict: true, err: canonicaljson.ErrDuplicateKey, off: 19},
		{claim: "cj9 inner duplicates before outer", in: `{"a":1,"a":{"x":1,"x":2}}`, strict: true, err: canonicaljson.ErrDuplicateKey, off: 18},
		{claim: "cj9 duplicates found at close: later float first", in: `{"a":1,"a":2,"b":1.5}`, strict: true, err: canonicaljson.ErrFloat, off: 17},
		{claim: "cj13 strict invalid utf8", in: "\"\xff\"", strict: true, err: canonicaljson.ErrInvalidUTF8, off: 1},
		{claim: "cj strict canonical passes", in: `{"a":[1,-2,"x"],"b":null}`, strict: true, out: `{"a":[1,-2,"x"],"b":null}`},
	}
	runCJ(t, cases)
}

// TestCanonicalErrorKinds checks decisions.md canonicaljson 14 and go doc SyntaxError.Is.
func TestCanonicalErrorKinds(t *testing.T) {
	type k struct {
		in        string
		strict    bool
		sentinel  error
		isSyntax  bool
		isTooDeep bool
	}
	deep := strings.Repeat("[", 128) + strings.Repeat("]", 128)
	cases := []k{
		{`{`, false, canonicaljson.ErrSyntax, true, false},
		{`1 2`, false, canonicaljson.ErrTrailingData, true, false},
		{"\"\xff\"", false, canonicaljson.ErrInvalidUTF8, true, false},
		{`1.5`, true, canonicaljson.ErrFloat, false, false},
		{`-0`, true, canonicaljson.ErrNegativeZero, false, false},
		{`9007199254740992`, true, canonicaljson.ErrIntegerRange, false, false},
		{`{"a":1,"a":1}`, true, canonicaljson.ErrDuplicateKey, false, false},
		{`"\ud800"`, true, canonicaljson.ErrLoneSurrogate, false, false},
		{deep, false, canonicaljson.ErrTooDeep, false, true},
	}
	for _, c := range cases {
		_, err := canonicaljson.Append(nil, []byte(c.in), canonicaljson.Options{Strict: c.strict})
		var se *canonicaljson.SyntaxError
		if !errors.As(err, &se) || se.Err != c.sentinel {
			t.Errorf("%q: %v, want *SyntaxError{Err:%v}", c.in, err, c.sentinel)
			continue
		}
		if errors.Is(err, canonicaljson.ErrSyntax) != c.isSyntax {
			t.Errorf("%q: errors.Is(ErrSyntax) = %v, want %v (decision 14)", c.in, !c.isSyntax, c.isSyntax)
		}
		if errors.Is(err, canonicaljson.ErrTooDeep) != c.isTooDeep {
			t.Errorf("%q: errors.Is(ErrTooDeep) wrong", c.in)
		}
		if se.Unwrap() != c.sentinel {
			t.Errorf("%q: Unwrap() = %v", c.in, se.Unwrap())
		}
		if se.Msg == "" || !strings.Contains(se.Error(), fmt.Sprint(se.Offset)) {
			t.Errorf("%q: Error() %q should name the offset and Msg", c.in, se.Error())
		}
	}
}

// TestCanonicalAppend checks decisions.md canonicaljson 15 and go doc Append, Canonical,
// CanonicalStrict, AppendIndexed.
func TestCanonicalAppend(t *testing.T) {
	dst := make([]byte, 3, 64)
	copy(dst, "xyz")
	out, err := canonicaljson.Append(dst, []byte(`{"b":1,"a":2}`), canonicaljson.Options{})
	if err != nil || string(out) != `xyz{"a":2,"b":1}` {
		t.Errorf("Append appends: %q, %v", out, err)
	}
	out, err = canonicaljson.Append(dst, []byte(`{"b":1,"a":}`), canonicaljson.Options{})
	if err == nil || len(out) != 3 || string(out) != "xyz" || &out[0] != &dst[0] {
		t.Errorf("Append on error must return dst itself unchanged (cj15): %q, %v", out, err)
	}
	if b, err := canonicaljson.Canonical([]byte(`{`)); b != nil || err == nil {
		t.Errorf("Canonical on error: %q, %v; want nil", b, err)
	}
	if b, err := canonicaljson.CanonicalStrict([]byte(`1.5`)); b != nil || err == nil {
		t.Errorf("CanonicalStrict on error: %q, %v; want nil", b, err)
	}
	if b, err := canonicaljson.Canonical([]byte(`1.5`)); err != nil || string(b) != "1.5" {
		t.Errorf("Canonical is lenient: %q %v", b, err)
	}
	// Canonical input returned as it is: Append of canonical input equals it.
	in := []byte(`{"a":{"b":[1,"\n"]},"c":null}`)
	if b, err := canonicaljson.Append(nil, in, canonicaljson.Options{Strict: true}); err != nil || string(b) != string(in) {
		t.Errorf("canonical input: %q %v", b, err)
	}
	// AppendIndexed: same output and errors, Members/Nested locate members.
	var idx canonicaljson.Index
	in2 := []byte(`{"z":1,"content":{"y":2,"x":[1]},"a":{},"h":"s"}`)
	o1, e1 := canonicaljson.Append(nil, in2, canonicaljson.Options{})
	o2, e2 := canonicaljson.AppendIndexed(nil, in2, canonicaljson.Options{}, &idx)
	if e1 != nil || e2 != nil || string(o1) != string(o2) {
		t.Fatalf("AppendIndexed differs from Append: %q %v / %q %v", o1, e1, o2, e2)
	}
	var keys []string
	for _, m := range idx.Members {
		keys = append(keys, string(m.Key(o2))+"="+string(o2[m.Value:m.End]))
		if string(o2[m.Start:m.End]) != `"`+string(m.Key(o2))+`":`+string(o2[m.Value:m.End]) {
			t.Errorf("member text %q", o2[m.Start:m.End])
		}
	}
	if strings.Join(keys, " ") != `a={} content={"x":[1],"y":2} h="s" z=1` {
		t.Errorf("Index.Members = %v", keys)
	}
	var nested []string
	for _, m := range idx.Members {
		if m.NestedEnd-m.NestedStart > 0 {
			for _, n := range idx.Nested[m.NestedStart:m.NestedEnd] {
				nested = append(nested, string(m.Key(o2))+"."+string(n.Key(o2)))
			}
		}
	}
	if strings.Join(nested, " ") != "content.x content.y" {
		t.Errorf("Index.Nested = %v (empty object {} has none, doc Member.NestedStart)", nested)
	}
	// Not an object: Members empty.
	if _, err := canonicaljson.AppendIndexed(nil, []byte(`[1]`), canonicaljson.Options{}, &idx); err != nil || len(idx.Members) != 0 {
		t.Errorf("array: Members = %v, %v", idx.Members, err)
	}
	if _, err := canonicaljson.AppendIndexed(nil, []byte(`{}`), canonicaljson.Options{}, &idx); err != nil || len(idx.Members) != 0 {
		t.Errorf("{}: Members = %v, %v", idx.Members, err)
	}
	// nil idx makes it Append.
	if o, err := canonicaljson.AppendIndexed(nil, in2, canonicaljson.Options{}, nil); err != nil || string(o) != string(o1) {
		t.Errorf("nil idx: %q %v", o, err)
	}
	// Key with escapes: "as written (canonical escapes included)".
	o3, _ := canonicaljson.AppendIndexed(nil, []byte(`{"a\u0001":1}`), canonicaljson.Options{}, &idx)
	if len(idx.Members) != 1 || string(idx.Members[0].Key(o3)) != `a\u0001` {
		t.Errorf("Key with escape: %q", idx.Members[0].Key(o3))
	}
	idx.Reset()
	if len(idx.Members) != 0 || len(idx.Nested) != 0 {
		t.Errorf("Reset does not empty")
	}
}

// TestCanonicalDepth checks decisions.md canonicaljson 20 and go doc Options.MaxDepth.
func TestCanonicalDepth(t *testing.T) {
	nest := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	nestObj := func(n int) []byte { return []byte(strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1)) }
	cases := []struct {
		in    []byte
		max   int
		ok    bool
		claim string
	}{
		{nest(1), 1, true, "[] is depth 1"},
		{nest(2), 1, false, "[[]] is depth 2"},
		{nest(127), 0, true, "default 127"},
		{nest(128), 0, false, "default refuses 128"},
		{nestObj(127), 0, true, "default 127 objects"},
		{nestObj(128), 0, false, "default refuses 128 objects"},
		{nest(127), -5, true, "negative means 127"},
		{nest(128), -5, false, "negative means 127 (refuses 128)"},
		{nest(4096), 100000, true, "above HardMaxDepth capped: 4096 ok"},
		{nest(4097), 100000, false, "above HardMaxDepth capped: 4097 refused"},
		{nest(200), 200, true, "MaxDepth 200"},
		{nest(201), 200, false, "MaxDepth 200 refuses 201"},
	}
	for _, c := range cases {
		for _, strict := range []bool{false, true} {
			_, err := canonicaljson.Append(nil, c.in, canonicaljson.Options{Strict: strict, MaxDepth: c.max})
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, canonicaljson.ErrTooDeep)) {
				t.Errorf("%s (strict=%v): err = %v", c.claim, strict, err)
			}
		}
	}
	if canonicaljson.DefaultMaxDepth != 127 || canonicaljson.HardMaxDepth != 4096 {
		t.Errorf("constants")
	}
	// EachMember uses DefaultMaxDepth with the object itself at depth 1.
	ok := []byte(`{"a":` + string(nest(126)) + `}`)
	bad := []byte(`{"a":` + string(nest(127)) + `}`)
	if err := canonicaljson.EachMember(ok, func(string, []byte) error { return nil }); err != nil {
		t.Errorf("EachMember depth 127: %v", err)
	}
	if err := canonicaljson.EachMember(bad, func(string, []byte) error { return nil }); !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("EachMember depth 128: %v, want ErrTooDeep (cj18)", err)
	}
	okA := []byte(`[` + string(nest(126)) + `]`)
	badA := []byte(`[` + string(nest(127)) + `]`)
	if err := canonicaljson.EachElement(okA, func([]byte) error { return nil }); err != nil {
		t.Errorf("EachElement depth 127: %v", err)
	}
	if err := canonicaljson.EachElement(badA, func([]byte) error { return nil }); !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("EachElement depth 128: %v, want ErrTooDeep", err)
	}
}

// TestCanonicalMarshal checks decisions.md canonicaljson 16 and go doc Marshal.
func TestCanonicalMarshal(t *testing.T) {
	good := []struct {
		v   any
		out string
	}{
		{map[string]any{"b": 3.0, "a": "<&>"}, `{"a":"<&>","b":3}`},
		{int64(1<<53 - 1), `9007199254740991`},
		{json.RawMessage(`{"b" : 1, "a":2}`), `{"a":2,"b":1}`},
		{"\u2028", "\"\u2028\""},
	}
	for _, c := range good {
		b, err := canonicaljson.Marshal(c.v)
		if err != nil || string(b) != c.out {
			t.Errorf("Marshal(%#v) = %q, %v; want %q", c.v, b, err, c.out)
		}
	}
	bad := []struct {
		v   any
		err error
	}{
		{1.5, canonicaljson.ErrFloat},
		{1e21, canonicaljson.ErrFloat},
		{int64(1 << 53), canonicaljson.ErrIntegerRange},
		{uint64(1 << 60), canonicaljson.ErrIntegerRange},
		{int64(-(1 << 53)), canonicaljson.ErrIntegerRange},
		{json.RawMessage(`{"a":1,"a":2}`), canonicaljson.ErrDuplicateKey},
		{json.RawMessage(`-0`), canonicaljson.ErrNegativeZero},
	}
	for _, c := range bad {
		_, err := canonicaljson.Marshal(c.v)
		var se *canonicaljson.SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, c.err) {
			t.Errorf("Marshal(%#v) err = %v, want *SyntaxError %v", c.v, err, c.err)
		}
	}
	// A value encoding/json cannot encode gives encoding/json's error.
	_, err := canonicaljson.Marshal(make(chan int))
	var ute *json.UnsupportedTypeError
	if !errors.As(err, &ute) {
		t.Errorf("Marshal(chan) = %v, want *json.UnsupportedTypeError", err)
	}
}

// TestCanonicalStrings checks go doc AppendString, Unquote, KindOf and decisions.md
// canonicaljson 17-19.
func TestCanonicalStrings(t *testing.T) {
	as := []struct{ in, out string }{
		{"a\"\\\b\t\n\f\r\x01\x1f\x7f\u2028\u2029é😀", `"a\"\\\b\t\n\f\r\u0001\u001f` + "\x7f\u2028\u2029é😀\""},
		{"a\xffb", "\"a\ufffdb\""},
		{"\xed\xa0\x80", "\"\ufffd\ufffd\ufffd\""},
		{"", `""`},
		{"<>&", `"<>&"`},
	}
	for _, c := range as {
		if got := string(canonicaljson.AppendString([]byte("p"), c.in)); got != "p"+c.out {
			t.Errorf("AppendString(%q) = %q, want %q", c.in, got, "p"+c.out)
		}
	}
	uq := []struct {
		in, out string
		ok      bool
	}{
		{`"a\u0041\/"`, "aA/", true},
		{` "x" `, "x", true},
		{`"\ud800"`, "\xed\xa0\x80", true},
		{`"\udc00"`, "\xed\xb0\x80", true},
		{`"\ufffd"`, "\ufffd", true},
		{`"\ud83d\ude00"`, "😀", true},
		{`"a" x`, "", false},
		{`"a`, "", false},
		{"\"\xff\"", "", false},
		{`a`, "", false},
		{`"\x"`, "", false},
	}
	for _, c := range uq {
		got, err := canonicaljson.Unquote([]byte(c.in))
		if (err == nil) != c.ok || (c.ok && got != c.out) {
			t.Errorf("Unquote(%q) = %q, %v; want %q ok=%v", c.in, got, err, c.out, c.ok)
		}
		if err != nil {
			var se *canonicaljson.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("Unquote(%q) error %T is not *SyntaxError (package doc: every error)", c.in, err)
			}
		}
	}
	if s, _ := canonicaljson.Unquote([]byte(`"\ud800"`)); utf8.ValidString(s) {
		t.Errorf("surrogate must fail utf8.ValidString (cj18)")
	}
	kinds := map[string]canonicaljson.Kind{
		` {`: canonicaljson.Object, "\n[": canonicaljson.Array, `"`: canonicaljson.String, `-x`: canonicaljson.Number,
		`7`: canonicaljson.Number, `tx`: canonicaljson.Bool, `f`: canonicaljson.Bool, `nope`: canonicaljson.Null,
		``: canonicaljson.Invalid, `  `: canonicaljson.Invalid, `x`: canonicaljson.Invalid, `+1`: canonicaljson.Invalid,
	}
	for in, want := range kinds {
		if got := canonicaljson.KindOf([]byte(in)); got != want {
			t.Errorf("KindOf(%q) = %v, want %v (cj19: first byte only)", in, got, want)
		}
	}
	names := map[canonicaljson.Kind]string{canonicaljson.Object: "object", canonicaljson.Array: "array",
		canonicaljson.String: "string", canonicaljson.Number: "number", canonicaljson.Bool: "bool", canonicaljson.Null: "null"}
	for k, n := range names {
		if k.String() != n {
			t.Errorf("Kind(%d).String() = %q, want %q", k, k.String(), n)
		}
	}
}

// TestEachMember checks go doc EachMember/EachElement and decisions.md canonicaljson 18.
func TestEachMember(t *testing.T) {
	var got []string
	err := canonicaljson.EachMember([]byte(` {"b" : 1 , "a":[ 1 ], "b":"\u0041", "\ud800":2} `), func(k string, v []byte) error {
		got = append(got, k+"="+string(v))
		return nil
	})
	want := `b=1|a=[ 1 ]|b="\u0041"|` + "\xed\xa0\x80" + `=2`
	if err != nil || strings.Join(got, "|") != want {
		t.Errorf("EachMember: %q %v, want %q (input order, duplicates each time, raw values, WTF-8 keys)", strings.Join(got, "|"), err, want)
	}
	// fn called before a later syntax error.
	n := 0
	err = canonicaljson.EachMember([]byte(`{"a":1,"b":}`), func(string, []byte) error { n++; return nil })
	if n != 1 || !errors.Is(err, canonicaljson.ErrSyntax) {
		t.Errorf("EachMember validates as it goes: n=%d err=%v", n, err)
	}
	// fn's error unwrapped.
	sentinel := errors.New("stop")
	n = 0
	err = canonicaljson.EachMember([]byte(`{"a":1,"b":2}`), func(string, []byte) error { n++; return sentinel })
	if err != sentinel || n != 1 {
		t.Errorf("EachMember fn error: %v (n=%d), want it as it is", err, n)
	}
	for _, in := range []string{`[1]`, `"x"`, `{"a":1} x`, `{"a":1.5e}`} {
		if err := canonicaljson.EachMember([]byte(in), func(string, []byte) error { return nil }); err == nil {
			t.Errorf("EachMember(%q) = nil, want an error", in)
		}
	}
	// Lenient: floats, -0, big integers accepted.
	if err := canonicaljson.EachMember([]byte(`{"a":1.5,"b":-0,"c":1e400}`), func(string, []byte) error { return nil }); err != nil {
		t.Errorf("EachMember lenient: %v", err)
	}
	var els []string
	err = canonicaljson.EachElement([]byte(` [ 1 , {"b":1,"a":2} ,"x" ] `), func(v []byte) error { els = append(els, string(v)); return nil })
	if err != nil || strings.Join(els, "|") != `1|{"b":1,"a":2}|"x"` {
		t.Errorf("EachElement: %q %v", els, err)
	}
	err = canonicaljson.EachElement([]byte(`[1,2]`), func([]byte) error { return sentinel })
	if err != sentinel {
		t.Errorf("EachElement fn error: %v", err)
	}
	for _, in := range []string{`{}`, `[1,]`, `[1] 2`} {
		if err := canonicaljson.EachElement([]byte(in), func([]byte) error { return nil }); err == nil {
			t.Errorf("EachElement(%q) = nil", in)
		}
	}
}

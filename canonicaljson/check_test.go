package canonicaljson_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

// TestCheckerCases pins which texts the fast path for canonical input takes: every canonical
// form it knows, and every way of falling just outside it (whitespace, key order, number and
// escape forms, depth). What it declines goes to the parser, so the public functions' answer is
// checked too.
func TestCheckerCases(t *testing.T) {
	long := strings.Repeat("k", 20)
	cases := []struct {
		in     string
		depth  int  // MaxDepth; 0 for the default
		accept bool // the fast path takes it
		valid  bool // strict Append accepts it (the output is then the input exactly when accept)
	}{
		{`{}`, 0, true, true},
		{`[]`, 0, true, true},
		{`{"a":1,"b":2}`, 0, true, true},
		{`{"a":{"b":[1,"x",true,false,null,{}]},"c":[]}`, 0, true, true},
		{`{"":1,"a":2}`, 0, true, true},
		{`{"ab":1,"abc":2}`, 0, true, true},
		{`{"abcdefghij":1,"abcdefghik":2}`, 0, true, true},
		{`{"` + long + `":1,"` + long + `a":2}`, 0, true, true},
		{`{"z":1,"é":2}`, 0, true, true},        // U+00E9 sorts after 'z'
		{`{"é":1,"😀":2,"日":0}`, 0, false, true}, // U+1F600 sorts after U+65E5
		{`{"é":1,"日":0,"😀":2}`, 0, true, true},  // code point order
		{`{"b":1,"a":2}`, 0, false, true},       // out of order
		{`{"abc":1,"ab":2}`, 0, false, true},    // a prefix sorts first
		{`{"abcdefghik":1,"abcdefghij":2}`, 0, false, true},
		// Keys whose first eight bytes are the same, compared in full.
		{`{"abcdefghij":1,"abcdefghij":2}`, 0, false, false},
		{`{"abcdefghijk":1,"abcdefghij":2}`, 0, false, true},
		{`{"abcdefgh":1,"abcdefghé":2,"abcdefgh日":3}`, 0, true, true},
		{`{"abcdefghA":1,"abcdefghB":2,"abcdefghB":3}`, 0, false, false},
		{`{"x":{"abcdefghA":1,"abcdefghB":{"abcdefgh":1,"abcdefgh":2}}}`, 0, false, false},
		{`{"ab":1,"ab":2}`, 0, false, false},
		{`{"é":1,"z":2}`, 0, false, true},
		{`{"a":1,"":2}`, 0, false, true},
		{`{"a":1,"a":1}`, 0, false, false}, // duplicate
		{`{"a":{"x":1,"x":2}}`, 0, false, false},
		{`{"\\":1}`, 0, false, true}, // a key with an escape: the parser sorts it
		{`{"\u0061":1}`, 0, false, true},
		{`{"a" :1}`, 0, false, true}, // whitespace
		{`{"a": 1}`, 0, false, true},
		{` 1`, 0, false, true},
		{`1 `, 0, false, true},
		{"[1,\n2]", 0, false, true},
		{`0`, 0, true, true},
		{`-1`, 0, true, true},
		{`1234567`, 0, true, true},
		{`12345678`, 0, true, true},
		{`[12345678901]`, 0, true, true},
		{`9007199254740991`, 0, true, true},
		{`-9007199254740991`, 0, true, true},
		{`9007199254740992`, 0, false, false},
		{`-9007199254740992`, 0, false, false},
		{`[9007199254740991,1]`, 0, true, true},
		{`-0`, 0, false, false},
		{`01`, 0, false, false},
		{`-`, 0, false, false},
		{`1.0`, 0, false, false},
		{`[1e2]`, 0, false, false},
		{`[1E2]`, 0, false, false},
		// Integers as member values, which the object loop reads itself.
		{`{"a":0,"b":10,"c":1234567,"d":12345678,"e":-5}`, 0, true, true},
		{`{"a":1.5}`, 0, false, false},
		{`{"a":1e5}`, 0, false, false},
		{`{"a":1E5,"b":1}`, 0, false, false},
		{`{"a":1234567e1}`, 0, false, false},
		{`{"a":1234567.0}`, 0, false, false},
		{`{"a":12345678.5}`, 0, false, false},
		{`{"a":01}`, 0, false, false},
		{`{"a":1700000000000,"b":-1700000000000,"c":9007199254740991}`, 0, true, true},
		{`{"a":17000000000000000}`, 0, false, false},
		{`{"a":1700000000000.5}`, 0, false, false},
		{`{"a":1700000000000e1}`, 0, false, false},
		{`12345678901`, 0, true, true},
		{`1234567890123456`, 0, true, true},
		{`12345678901234567`, 0, false, false},
		{`{"a":00}`, 0, false, false},
		{`{"a":0.5}`, 0, false, false},
		{`{"a":-1.5}`, 0, false, false},
		{`{"a":1 }`, 0, false, true},
		{`{"a":1x}`, 0, false, false},
		{`true`, 0, true, true},
		{`false`, 0, true, true},
		{`null`, 0, true, true},
		{`tru`, 0, false, false},
		{`nul`, 0, false, false},
		{``, 0, false, false},
		{`"`, 0, false, false},
		{`"abc`, 0, false, false},
		{`[1,]`, 0, false, false},
		{`{"a":1,}`, 0, false, false},
		{`{"a":1`, 0, false, false},
		{`{"a"}`, 0, false, false},
		{`[1}`, 0, false, false},
		{`"\" \\ \b \f \n \r \t"`, 0, true, true},
		{`"\u0000\u0001\u000b\u000e\u001f"`, 0, true, true},
		{`"\u001F"`, 0, false, true}, // uppercase hex
		{`"\u000a"`, 0, false, true}, // has a short escape
		{`"\u0008"`, 0, false, true},
		{`"\u0009"`, 0, false, true},
		{`"\u000c"`, 0, false, true},
		{`"\u000d"`, 0, false, true},
		{`"\u0020"`, 0, false, true},
		{`"\u0041"`, 0, false, true},
		{`"\u00e9"`, 0, false, true},
		{`"\/"`, 0, false, true},
		{`"\ud83d\ude00"`, 0, false, true},
		{`"\ud800"`, 0, false, false},
		{`"\x"`, 0, false, false},
		{`"\u00"`, 0, false, false},
		{"\"a\tb\"", 0, false, false}, // a raw control character
		{"\"\x7f\"", 0, true, true},
		{"\"\u2028\u2029\"", 0, true, true},
		{"\"\xff\"", 0, false, false},
		{"\"\xed\xa0\x80\"", 0, false, false}, // an encoded surrogate
		{"\"\xc3\"", 0, false, false},
		{"\"Grüße 日本 😀\"", 0, true, true},
		{`[[[]]]`, 3, true, true},
		{`[[[]]]`, 2, false, false},
		{`{"a":{"b":{}}}`, 3, true, true},
		{`{"a":{"b":{}}}`, 2, false, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			data := []byte(c.in)
			opts := canonicaljson.Options{Strict: true, MaxDepth: c.depth}
			var ix canonicaljson.Index
			if got := canonicaljson.AlreadyCanonical(data, optsDepth(opts), &ix, 0); got != c.accept {
				t.Fatalf("fast path takes it: %v, want %v", got, c.accept)
			}
			out, err := canonicaljson.Append(nil, data, opts)
			if (err == nil) != c.valid {
				t.Fatalf("Append = %q, %v; want valid %v", out, err, c.valid)
			}
			if c.valid && bytes.Equal(out, data) != c.accept && !strings.Contains(c.in, `\`) {
				t.Fatalf("Append = %q: canonical %v, but the fast path's verdict is %v", out, bytes.Equal(out, data), c.accept)
			}
			checkAgreement(t, data, c.depth)
		})
	}
}

// optsDepth is the depth limit Options.depth gives (the tests cannot call it).
func optsDepth(o canonicaljson.Options) int {
	switch {
	case o.MaxDepth <= 0:
		return canonicaljson.DefaultMaxDepth
	case o.MaxDepth > canonicaljson.HardMaxDepth:
		return canonicaljson.HardMaxDepth
	}
	return o.MaxDepth
}

// checkAgreement asserts what makes the fast path safe, for data and the depth limit maxDepth
// (0: the default): when it takes data, the parser alone also returns data unchanged, without
// error, in both modes, and records the same Index after a prefix; Valid agrees. It returns
// whether the fast path took data.
func checkAgreement(t testing.TB, data []byte, maxDepth int) bool {
	t.Helper()
	prefix := []byte(`{"x":`)
	var fast, slow canonicaljson.Index
	opts := canonicaljson.Options{MaxDepth: maxDepth}
	taken := canonicaljson.AlreadyCanonical(data, optsDepth(opts), &fast, len(prefix))
	for _, strict := range []bool{true, false} {
		opts.Strict = strict
		want, werr := canonicaljson.ParseAppend(nil, data, opts)
		got, gerr := canonicaljson.Append(nil, data, opts)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !bytes.Equal(got, want) {
			t.Fatalf("strict %v: Append(%q) = %q, %v; the parser gives %q, %v", strict, data, got, gerr, want, werr)
		}
		if verr, perr := canonicaljson.Valid(data, opts), canonicaljson.ParseValid(data, opts); fmt.Sprint(verr) != fmt.Sprint(perr) {
			t.Fatalf("strict %v: Valid(%q) = %v; the parser gives %v", strict, data, verr, perr)
		}
		if !taken {
			continue
		}
		if werr != nil || !bytes.Equal(want, data) {
			t.Fatalf("strict %v: the fast path takes %q, whose canonical form is %q, %v", strict, data, want, werr)
		}
		out, err := canonicaljson.ParseAppendIndexed(bytes.Clone(prefix), data, opts, &slow)
		if err != nil || !bytes.Equal(out[len(prefix):], data) {
			t.Fatalf("strict %v: parser's AppendIndexed(%q) = %q, %v", strict, data, out, err)
		}
		if !reflect.DeepEqual(nonNil(fast.Members), nonNil(slow.Members)) || !reflect.DeepEqual(nonNil(fast.Nested), nonNil(slow.Nested)) {
			t.Fatalf("index of %q:\nfast path %+v %+v\nparser    %+v %+v", data, fast.Members, fast.Nested, slow.Members, slow.Nested)
		}
	}
	return taken
}

// TestCheckerAgreesWithParser runs checkAgreement on every fixture, generated document and
// benchmark event, and on their canonical forms, which the fast path must take unless a key
// holds an escape.
func TestCheckerAgreesWithParser(t *testing.T) {
	taken := 0
	for _, in := range fixtureInputs(t, 23, 2000) {
		checkAgreement(t, in, 0)
		checkAgreement(t, in, 3)
		for _, strict := range []bool{true, false} {
			canon, err := canonicaljson.ParseAppend(nil, in, canonicaljson.Options{Strict: strict})
			if err != nil {
				continue
			}
			took := checkAgreement(t, canon, 0)
			if took {
				taken++
			}
			if strict && !took && !keyHasEscape(t, canon) {
				t.Fatalf("the fast path declines %q, canonical with no escaped key", canon)
			}
		}
	}
	if taken < 1000 {
		t.Fatalf("the fast path took only %d canonical forms", taken)
	}
}

// keyHasEscape reports whether some object key in the JSON value data is written with an escape.
func keyHasEscape(t testing.TB, data []byte) bool {
	t.Helper()
	found := false
	var walk func(v []byte)
	walk = func(v []byte) {
		switch canonicaljson.KindOf(v) {
		case canonicaljson.Object:
			if err := canonicaljson.EachMember(v, func(k string, w []byte) error {
				walk(w)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			found = found || memberKeyEscaped(v)
		case canonicaljson.Array:
			if err := canonicaljson.EachElement(v, func(w []byte) error {
				walk(w)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	walk(data)
	return found
}

// memberKeyEscaped reports whether a key of the canonical object obj, at its own level, has an
// escape: the canonical index locates the keys as written.
func memberKeyEscaped(obj []byte) bool {
	var ix canonicaljson.Index
	out, err := canonicaljson.ParseAppendIndexed(nil, obj, canonicaljson.Options{}, &ix)
	if err != nil {
		return true
	}
	for _, m := range ix.Members {
		if bytes.IndexByte(m.Key(out), '\\') >= 0 {
			return true
		}
	}
	return false
}

// FuzzCheckerAgrees: whatever the input, the fast path for canonical input takes it only when
// the parser would return it unchanged, in both modes, with the same Index.
func FuzzCheckerAgrees(f *testing.F) {
	addSeeds(f)
	g := newDocGen(29)
	for i := 0; i < 50; i++ {
		doc, _ := g.doc()
		if canon, err := canonicaljson.CanonicalStrict(doc); err == nil {
			f.Add(canon)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgreement(t, data, 0)
		checkAgreement(t, data, 4)
	})
}

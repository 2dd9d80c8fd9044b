package canonicaljson_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/jsonscan"
)

// referenceIndex computes, by scanning out (canonical JSON) with internal/jsonscan, the index
// AppendIndexed must record for the value at out[start:].
func referenceIndex(t testing.TB, out []byte, start int) canonicaljson.Index {
	t.Helper()
	var ix canonicaljson.Index
	if start >= len(out) || out[start] != '{' {
		return ix
	}
	end := jsonscan.EachMember(out, start, func(_ []byte, ks, vs int) int {
		ve := jsonscan.SkipValue(out, vs)
		m := canonicaljson.Member{Start: ks, Value: vs, End: ve, NestedStart: len(ix.Nested)}
		if out[vs] == '{' {
			if jsonscan.EachMember(out, vs, func(_ []byte, ks2, vs2 int) int {
				ve2 := jsonscan.SkipValue(out, vs2)
				ix.Nested = append(ix.Nested, canonicaljson.Member{Start: ks2, Value: vs2, End: ve2})
				return ve2
			}) != ve {
				t.Fatalf("nested object at %d of %q does not scan", vs, out)
			}
		}
		m.NestedEnd = len(ix.Nested)
		ix.Members = append(ix.Members, m)
		return ve
	})
	if end != len(out) {
		t.Fatalf("output %q does not scan as one object", out[start:])
	}
	return ix
}

// checkIndexed asserts that AppendIndexed(prefix, data, opts, ix) gives Append's output and
// error, and, on success, the index that a scan of the output finds. ix is reused, as callers
// do, so that state left by one call must not leak into the next.
func checkIndexed(t testing.TB, ix *canonicaljson.Index, prefix, data []byte, opts canonicaljson.Options) {
	t.Helper()
	want, werr := canonicaljson.Append(bytes.Clone(prefix), data, opts)
	got, gerr := canonicaljson.AppendIndexed(bytes.Clone(prefix), data, opts, ix)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("AppendIndexed(%q): error %v, Append's %v", data, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendIndexed(%q) = %q, Append gives %q", data, got, want)
	}
	if gerr != nil {
		if len(ix.Members)+len(ix.Nested) != 0 {
			t.Fatalf("AppendIndexed(%q) failed but left an index", data)
		}
		checkCanonicalIndexed(t, ix, prefix, data, opts, nil, werr)
		checkIndexedUnsorted(t, ix, prefix, data, opts, nil, werr)
		return
	}
	ref := referenceIndex(t, got, len(prefix))
	if !reflect.DeepEqual(nonNil(ix.Members), nonNil(ref.Members)) || !reflect.DeepEqual(nonNil(ix.Nested), nonNil(ref.Nested)) {
		t.Fatalf("AppendIndexed(%q) = %q\nindex   %+v %+v\nscanned %+v %+v", data, got, ix.Members, ix.Nested, ref.Members, ref.Nested)
	}
	if !ix.Sorted() {
		t.Fatalf("AppendIndexed(%q): Sorted() is false", data)
	}
	checkCanonicalIndexed(t, ix, prefix, data, opts, want[len(prefix):], werr)
	checkIndexedUnsorted(t, ix, prefix, data, opts, want, werr)
}

// checkIndexedUnsorted asserts that AppendIndexedUnsorted(prefix, data, opts, ix) gives the
// error werr of Append, and on success an output that differs from Append's output want only
// in the order of the members of the two levels the index records: it is written after prefix,
// it has Append's output as its canonical form, the index is what a scan of it finds, and every
// key and every value of those members is in canonical form (so that everything below them
// is as Append writes it).
func checkIndexedUnsorted(t testing.TB, ix *canonicaljson.Index, prefix, data []byte, opts canonicaljson.Options, want []byte, werr error) {
	t.Helper()
	got, gerr := canonicaljson.AppendIndexedUnsorted(bytes.Clone(prefix), data, opts, ix)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("AppendIndexedUnsorted(%q): error %v, Append's %v", data, gerr, werr)
	}
	if gerr != nil {
		if !bytes.Equal(got, prefix) || len(ix.Members)+len(ix.Nested) != 0 || !ix.Sorted() {
			t.Fatalf("AppendIndexedUnsorted(%q) failed but returned %q and an index of %d members (Sorted: %v)", data, got, len(ix.Members)+len(ix.Nested), ix.Sorted())
		}
		return
	}
	if !bytes.Equal(got[:len(prefix)], prefix) {
		t.Fatalf("AppendIndexedUnsorted(%q) = %q, not written after %q", data, got, prefix)
	}
	out := got[len(prefix):]
	// Sorted must not claim key order that is not there; and in strict mode, where no object
	// left as written can be dropped again as a duplicate, it must not deny it either.
	if sorted := bytes.Equal(got, want); ix.Sorted() && !sorted || opts.Strict && ix.Sorted() != sorted {
		t.Fatalf("AppendIndexedUnsorted(%q) = %q: Sorted() is %v, but the output is Append's: %v", data, out, ix.Sorted(), sorted)
	}
	if canon, err := canonicaljson.Append(nil, out, opts); err != nil || !bytes.Equal(canon, want[len(prefix):]) {
		t.Fatalf("AppendIndexedUnsorted(%q) = %q, whose canonical form is %q (%v), not Append's %q", data, out, canon, err, want[len(prefix):])
	}
	ref := referenceIndex(t, got, len(prefix))
	if !reflect.DeepEqual(nonNil(ix.Members), nonNil(ref.Members)) || !reflect.DeepEqual(nonNil(ix.Nested), nonNil(ref.Nested)) {
		t.Fatalf("AppendIndexedUnsorted(%q) = %q\nindex   %+v %+v\nscanned %+v %+v", data, out, ix.Members, ix.Nested, ref.Members, ref.Nested)
	}
	canonical := func(what string, text []byte) {
		if c, err := canonicaljson.Append(nil, text, opts); err != nil || !bytes.Equal(c, text) {
			t.Fatalf("AppendIndexedUnsorted(%q) = %q: %s %q is not in canonical form (%q, %v)", data, out, what, text, c, err)
		}
	}
	for _, m := range ix.Members {
		canonical("key", got[m.Start:m.Value-1])
		if m.NestedStart == m.NestedEnd {
			canonical("value", got[m.Value:m.End])
		}
		for _, n := range ix.Nested[m.NestedStart:m.NestedEnd] {
			canonical("key", got[n.Start:n.Value-1])
			canonical("value", got[n.Value:n.End])
		}
	}
}

// checkCanonicalIndexed asserts that CanonicalIndexed(prefix, data, opts, ix) gives the output
// want and error werr of Append, and the index a scan of the output finds: data itself when it
// reports same, otherwise written after prefix.
func checkCanonicalIndexed(t testing.TB, ix *canonicaljson.Index, prefix, data []byte, opts canonicaljson.Options, want []byte, werr error) {
	t.Helper()
	buf := bytes.Clone(prefix)
	got, same, gerr := canonicaljson.CanonicalIndexed(buf, data, opts, ix)
	if fmt.Sprint(werr) != fmt.Sprint(gerr) {
		t.Fatalf("CanonicalIndexed(%q): error %v, Append's %v", data, gerr, werr)
	}
	if gerr != nil {
		if same || !bytes.Equal(got, prefix) {
			t.Fatalf("CanonicalIndexed(%q) failed but returned %q, same %v", data, got, same)
		}
		return
	}
	start := len(prefix)
	if same {
		if len(got) == 0 || &got[0] != &data[0] || len(got) != len(data) {
			t.Fatalf("CanonicalIndexed(%q) reports same but returns %q", data, got)
		}
		start = 0
	} else if !bytes.Equal(got[:len(prefix)], prefix) {
		t.Fatalf("CanonicalIndexed(%q) = %q, not written after %q", data, got, prefix)
	}
	if !bytes.Equal(got[start:], want) {
		t.Fatalf("CanonicalIndexed(%q) = %q, Append gives %q", data, got[start:], want)
	}
	ref := referenceIndex(t, got, start)
	if !reflect.DeepEqual(nonNil(ix.Members), nonNil(ref.Members)) || !reflect.DeepEqual(nonNil(ix.Nested), nonNil(ref.Nested)) {
		t.Fatalf("CanonicalIndexed(%q) = %q\nindex   %+v %+v\nscanned %+v %+v", data, got, ix.Members, ix.Nested, ref.Members, ref.Nested)
	}
	if !ix.Sorted() {
		t.Fatalf("CanonicalIndexed(%q): Sorted() is false", data)
	}
}

func nonNil(m []canonicaljson.Member) []canonicaljson.Member {
	if m == nil {
		return []canonicaljson.Member{}
	}
	return m
}

// TestAppendIndexedCases pins the index on the shapes where it is easy to get wrong: a
// reordered top level whose members carry nested objects (their positions move), a duplicate
// top-level key whose dropped occurrence had nested members (lenient), escaped keys, objects one
// level too deep to be indexed, arrays, and values that are not objects.
func TestAppendIndexedCases(t *testing.T) {
	cases := []struct {
		name, in string
		members  [][3]int // Start, Value, End of each top-level member in the output
		nested   []string // the nested members' text, "|"-separated per top-level member
		lenient  bool
	}{
		{name: "sorted", in: `{"a":1,"b":{"c":2,"d":[3]}}`,
			members: [][3]int{{1, 5, 6}, {7, 11, 26}}, nested: []string{"", `"c":2|"d":[3]`}},
		{name: "reordered, nested moved", in: ` { "z" : { "y" : 1 , "x" : {"w":2} } , "a" : [ {"v":3} ] } `,
			members: [][3]int{{1, 5, 14}, {15, 19, 38}}, nested: []string{"", `"x":{"w":2}|"y":1`}},
		{name: "escaped keys", in: `{"b\"":{"\\":1,"\u0001":2},"a":{}}`,
			members: [][3]int{{1, 5, 7}, {8, 14, 33}}, nested: []string{"", `"\u0001":2|"\\":1`}},
		{name: "duplicate top-level key, last kept", lenient: true, in: `{"b":{"x":1},"a":{"q":0},"b":{"y":2,"z":3}}`,
			members: [][3]int{{1, 5, 12}, {13, 17, 30}}, nested: []string{`"q":0`, `"y":2|"z":3`}},
		{name: "duplicate nested key, last kept", lenient: true, in: `{"c":{"k":1,"j":0,"k":2}}`,
			members: [][3]int{{1, 5, 18}}, nested: []string{`"j":0|"k":2`}},
		{name: "empty", in: `{}`},
		{name: "array", in: `[{"a":{"b":1}}]`},
		{name: "string", in: `"{}"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := []byte("prefix")
			var ix canonicaljson.Index
			out, err := canonicaljson.AppendIndexed(prefix, []byte(c.in), canonicaljson.Options{Strict: !c.lenient}, &ix)
			if err != nil {
				t.Fatal(err)
			}
			var members [][3]int
			var nested []string
			for _, m := range ix.Members {
				members = append(members, [3]int{m.Start - len(prefix), m.Value - len(prefix), m.End - len(prefix)})
				var texts []string
				for _, n := range ix.Nested[m.NestedStart:m.NestedEnd] {
					texts = append(texts, string(out[n.Start:n.End]))
					if n.NestedStart != 0 || n.NestedEnd != 0 {
						t.Errorf("nested member %q has a nested range", out[n.Start:n.End])
					}
				}
				nested = append(nested, join(texts))
			}
			if !reflect.DeepEqual(members, c.members) || !reflect.DeepEqual(nested, c.nested) {
				t.Errorf("%s\nmembers %v nested %q\nwant    %v nested %q", out[len(prefix):], members, nested, c.members, c.nested)
			}
			checkIndexed(t, &ix, prefix, []byte(c.in), canonicaljson.Options{Strict: !c.lenient})
		})
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(x)
	}
	return b.String()
}

// TestAppendIndexedFixtures checks the index of every fixture, generated document and
// benchmark event, in both modes, after a prefix and with one reused Index.
func TestAppendIndexedFixtures(t *testing.T) {
	var ix canonicaljson.Index
	for _, in := range fixtureInputs(t, 11, 500) {
		for _, strict := range []bool{true, false} {
			checkIndexed(t, &ix, []byte("[1,"), in, canonicaljson.Options{Strict: strict})
			checkIndexed(t, &ix, nil, in, canonicaljson.Options{Strict: strict, MaxDepth: 3})
		}
	}
}

func FuzzAppendIndexed(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var ix canonicaljson.Index
		for _, strict := range []bool{true, false} {
			checkIndexed(t, &ix, nil, data, canonicaljson.Options{Strict: strict})
			checkIndexed(t, &ix, []byte("{"), data, canonicaljson.Options{Strict: strict, MaxDepth: 2})
		}
	})
}

// TestIndexReset: Reset empties an Index and keeps its memory for the next event, unless an input
// of more than 1,024 members made it grow, in which case the memory is let go.
func TestIndexReset(t *testing.T) {
	object := func(members, nested int) []byte {
		var b bytes.Buffer
		b.WriteString(`{"content":{`)
		for i := range nested {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d":%d`, i, i)
		}
		b.WriteString(`}`)
		for i := range members {
			fmt.Fprintf(&b, `,"m%d":%d`, i, i)
		}
		b.WriteString(`}`)
		return b.Bytes()
	}
	for _, tc := range []struct {
		name            string
		members, nested int
		keeps           bool
	}{
		{"event-sized", 12, 20, true},
		{"a few hundred", 300, 10, true},
		{"many top-level members", 1100, 0, false},
		{"many nested members", 2, 1100, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ix canonicaljson.Index
			if _, err := canonicaljson.AppendIndexed(nil, object(tc.members, tc.nested), canonicaljson.Options{Strict: true}, &ix); err != nil {
				t.Fatal(err)
			}
			if got, want := len(ix.Members), tc.members+1; got != want {
				t.Fatalf("%d members indexed, want %d", got, want)
			}
			ix.Reset()
			if len(ix.Members) != 0 || len(ix.Nested) != 0 || !ix.Sorted() {
				t.Fatalf("after Reset: %d members, %d nested, Sorted() %v", len(ix.Members), len(ix.Nested), ix.Sorted())
			}
			if kept := cap(ix.Members) > 0; kept != tc.keeps {
				t.Errorf("memory kept: %v, want %v (cap %d members, %d nested)", kept, tc.keeps, cap(ix.Members), cap(ix.Nested))
			}
			// The Index is still usable, and indexes the next event completely.
			out, err := canonicaljson.AppendIndexed(nil, []byte(`{"b":{"y":1,"x":2},"a":1}`), canonicaljson.Options{Strict: true}, &ix)
			if err != nil {
				t.Fatal(err)
			}
			checkIndexed(t, &ix, nil, []byte(`{"b":{"y":1,"x":2},"a":1}`), canonicaljson.Options{Strict: true})
			if string(out) != `{"a":1,"b":{"x":2,"y":1}}` {
				t.Errorf("output %s", out)
			}
			// Reset also forgets that AppendIndexedUnsorted left an object out of key order.
			if _, err := canonicaljson.AppendIndexedUnsorted(nil, []byte(`{"b":1,"a":2}`), canonicaljson.Options{Strict: true}, &ix); err != nil || ix.Sorted() {
				t.Fatalf("AppendIndexedUnsorted: %v, Sorted() %v", err, ix.Sorted())
			}
			if ix.Reset(); !ix.Sorted() {
				t.Error("after Reset, Sorted() is false")
			}
		})
	}
}

// TestAppendIndexedUnsortedCases pins which objects AppendIndexedUnsorted leaves in input order:
// the top level and the objects that are its members' values, when their keys are distinct and
// they have at most 32 members; everything else in key order as Append writes it.
func TestAppendIndexedUnsortedCases(t *testing.T) {
	members := func(n int, reverse bool) string {
		var b bytes.Buffer
		b.WriteByte('{')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			k := i
			if reverse {
				k = n - 1 - i
			}
			fmt.Fprintf(&b, `"k%02d":%d`, k, k)
		}
		b.WriteByte('}')
		return b.String()
	}
	cases := []struct {
		name, in, want string
		lenient        bool
	}{
		{name: "two levels left, the third sorted",
			in:   `{"b":1,"a":{"d":{"z":1,"y":2},"c":[{"x":1,"w":2}]}}`,
			want: `{"b":1,"a":{"d":{"y":2,"z":1},"c":[{"w":2,"x":1}]}}`},
		{name: "whitespace and escapes still canonical", in: " { \"b\" : \"\\u0041\\/\" ,\n \"a\" : 1.0E2 } ",
			want: `{"b":"A/","a":100}`, lenient: true},
		{name: "duplicate key, lenient: key order, last kept", in: `{"b":1,"a":2,"b":3}`, want: `{"a":2,"b":3}`, lenient: true},
		{name: "escape-equal duplicate, lenient", in: `{"c":{"b":1,"\u0062":2,"a":0}}`, want: `{"c":{"a":0,"b":2}}`, lenient: true},
		// "k15" and "k40" hash to the same bit of distinctKeys's bitmap: the pairs are compared.
		{name: "keys sharing a bit of the bitmap, distinct: left", in: `{"k40":1,"k15":2}`, want: `{"k40":1,"k15":2}`},
		{name: "keys sharing a bit of the bitmap, one twice: sorted", in: `{"k40":1,"k15":2,"k40":3}`, want: `{"k15":2,"k40":3}`, lenient: true},
		{name: "keys with the same first eight bytes, distinct: left", in: `{"abcdefghZ":1,"abcdefghA":2}`, want: `{"abcdefghZ":1,"abcdefghA":2}`},
		{name: "32 members left", in: `{"x":` + members(32, true) + `}`, want: `{"x":` + members(32, true) + `}`},
		{name: "33 members sorted", in: `{"x":` + members(33, true) + `}`, want: `{"x":` + members(33, false) + `}`},
		{name: "canonical input", in: `{"a":{"b":1,"c":2},"d":3}`, want: `{"a":{"b":1,"c":2},"d":3}`},
		{name: "top-level array: nothing indexed, all sorted", in: `[{"b":1,"a":{"d":1,"c":2}}]`, want: `[{"a":{"c":2,"d":1},"b":1}]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ix canonicaljson.Index
			opts := canonicaljson.Options{Strict: !c.lenient}
			out, err := canonicaljson.AppendIndexedUnsorted([]byte("prefix"), []byte(c.in), opts, &ix)
			if err != nil || string(out) != "prefix"+c.want {
				t.Fatalf("got %s, %v\nwant prefix%s", out, err, c.want)
			}
			checkIndexed(t, &ix, []byte("prefix"), []byte(c.in), opts)
		})
	}
}

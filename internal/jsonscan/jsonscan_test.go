package jsonscan_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/jsonscan"
)

func TestSkip(t *testing.T) {
	for _, tc := range []struct {
		in    string
		i     int
		str   int // SkipString
		value int // SkipValue
	}{
		{`"abc"`, 0, 5, 5},
		{`"a\"b",1`, 0, 6, 6},
		{`"a\\"x`, 0, 5, 5},
		{`"0123456789\"0123456789"`, 0, 24, 24},
		{`"01234567\\"`, 0, 12, 12},
		{`"unterminated`, 0, -1, -1},
		{`"ends in backslash\`, 0, -1, -1},
		{`{"a":[1,{"b":"}"}],"c":"]"}`, 0, -1, 27},
		{`[[],{},"[",-12]`, 0, -1, 15},
		{`[""]`, 0, -1, 4},
		{`["\"]"]`, 0, -1, 7},
		{`["\\"]`, 0, -1, 6},
		{`["a\\\"]",1]`, 0, -1, 12},
		{`["\"]`, 0, -1, -1},
		{`["]`, 0, -1, -1},
		{`123,`, 0, -1, 3},
		{`true}`, 0, -1, 4},
		{`null`, 0, -1, 4},
		{`{"a":1`, 0, -1, -1},
		{`x,"y"`, 2, 5, 5},
		{`,`, 0, -1, -1},
		{``, 0, -1, -1},
		{`"a"`, 7, -1, -1},
		{`"a"`, -1, -1, -1},
		// The closing quote is the first one after an even run of backslashes.
		{`""`, 0, 2, 2},
		{`"\"`, 0, -1, -1},
		{`"\\"`, 0, 4, 4},
		{`"\\\"`, 0, -1, -1},
		{`"\\\\"x"`, 0, 6, 6},
		{`"\\\\\""`, 0, 8, 8},
		{`"a\\b\"c"`, 0, 9, 9},
		{`"\\\"\\"`, 0, 8, 8},
		{`\""`, 1, 3, 3},    // a backslash before the opening quote escapes nothing
		{`"\\"\"`, 0, 4, 4}, // nor look at what follows
		{`"x\`, 0, -1, -1},
		{`"x\"`, 0, -1, -1},
		{`"` + strings.Repeat("a", 100) + `\"` + strings.Repeat("b", 40) + `"`, 0, 144, 144},
	} {
		if got := jsonscan.SkipString([]byte(tc.in), tc.i); got != tc.str {
			t.Errorf("SkipString(%s, %d) = %d, want %d", tc.in, tc.i, got, tc.str)
		}
		if got := jsonscan.SkipValue([]byte(tc.in), tc.i); got != tc.value {
			t.Errorf("SkipValue(%s, %d) = %d, want %d", tc.in, tc.i, got, tc.value)
		}
	}
}

// skipStringForward is the forward scan SkipString must agree with on any bytes: each backslash
// takes the byte after it as escaped, and the first quote not taken so ends the literal.
func skipStringForward(b []byte, i int) int {
	if i < 0 || i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return -1
}

// TestSkipStringExhaustive compares SkipString with the forward scan on every string of up to 9
// bytes over '"', '\\' and 'a', from every start.
func TestSkipStringExhaustive(t *testing.T) {
	eachString([]byte{'"', '\\', 'a'}, 9, func(b []byte) {
		for i := -1; i <= len(b); i++ {
			if got, want := jsonscan.SkipString(b, i), skipStringForward(b, i); got != want {
				t.Fatalf("SkipString(%s, %d) = %d, want %d", b, i, got, want)
			}
		}
	})
}

// eachString calls fn with every string of up to maxLen bytes over alphabet (the same slice,
// overwritten between calls).
func eachString(alphabet []byte, maxLen int, fn func([]byte)) {
	b := make([]byte, 0, maxLen)
	var walk func()
	walk = func() {
		fn(b)
		if len(b) == cap(b) {
			return
		}
		for _, c := range alphabet {
			b = append(b, c)
			walk()
			b = b[:len(b)-1]
		}
	}
	walk()
}

// skipValueForward is SkipValue as it was before its fast path for strings, which it must agree
// with on any bytes.
func skipValueForward(b []byte, i int) int {
	if i < 0 || i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipStringForward(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipStringForward(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
}

// TestSkipValueExhaustive compares SkipValue with skipValueForward on every string of up to 6
// bytes over '"', '\\', '[', ']', '{', '}', ',' and 'a', from every start.
func TestSkipValueExhaustive(t *testing.T) {
	eachString([]byte(`"\[]{},a`), 6, func(b []byte) {
		for i := -1; i <= len(b); i++ {
			if got, want := jsonscan.SkipValue(b, i), skipValueForward(b, i); got != want {
				t.Fatalf("SkipValue(%s, %d) = %d, want %d", b, i, got, want)
			}
		}
	})
}

func TestMembersAndElements(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // key=value;... or "!" when the scan fails
	}{
		{`{}`, ""},
		{`{"a":1}`, "a=1;"},
		{`{"a":{"x":[1,2]},"b\"c":"d","e":null}`, `a={"x":[1,2]};b\"c="d";e=null;`},
		{`{"a":1,}`, "a=1;!"},
		{`{"a":1}x`, "a=1;!"},
		{`{"a"}`, "!"},
		{`{"a":}`, "!"},
		{`[1]`, "!"},
		{`{`, "!"},
	} {
		var b strings.Builder
		ok := jsonscan.Members([]byte(tc.in), func(k, v []byte) bool {
			b.WriteString(string(k) + "=" + string(v) + ";")
			return true
		})
		if !ok {
			b.WriteString("!")
		}
		if b.String() != tc.want {
			t.Errorf("Members(%s) = %q, want %q", tc.in, b.String(), tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want string
	}{
		{`[]`, ""},
		{`[1,"a",[2],{"b":3}]`, `1;"a";[2];{"b":3};`},
		{`[1,]`, "1;!"},
		{`[1]]`, "1;!"},
		{`[`, "!"},
		{`{}`, "!"},
		{`[]x`, "!"},
	} {
		var b strings.Builder
		ok := jsonscan.Elements([]byte(tc.in), func(v []byte) bool {
			b.WriteString(string(v) + ";")
			return true
		})
		if !ok {
			b.WriteString("!")
		}
		if b.String() != tc.want {
			t.Errorf("Elements(%s) = %q, want %q", tc.in, b.String(), tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		i    int
		want string // elements;end
	}{
		{`[]`, 0, "2"},
		{`[1,"a",[2],{"b":"]"}]`, 0, `1;"a";[2];{"b":"]"};21`},
		{`x[1]`, 1, "1;4"},
		{`[[1],2],3`, 0, "[1];2;7"},
		{`[[1],2],3`, 1, "1;4"},
		{`[1,]`, 0, "1;-1"},
		{`[1 ]`, 0, "1 ;4"}, // a number ends at the first ',', '}' or ']'
		{`[1}`, 0, "1;-1"},
		{`[1`, 0, "-1"},
		{`[`, 0, "-1"},
		{`{}`, 0, "-1"},
		{`[]`, -1, "-1"},
		{`[]`, 2, "-1"},
	} {
		var b strings.Builder
		in := []byte(tc.in)
		end := jsonscan.EachElement(in, tc.i, func(vs int) int {
			ve := jsonscan.SkipValue(in, vs)
			if ve >= 0 && ve < len(in) {
				b.WriteString(string(in[vs:ve]) + ";")
			}
			return ve
		})
		fmt.Fprint(&b, end)
		if b.String() != tc.want {
			t.Errorf("EachElement(%s, %d) = %q, want %q", tc.in, tc.i, b.String(), tc.want)
		}
	}
	// fn's -1 stops the scan.
	n := 0
	if end := jsonscan.EachElement([]byte(`[1,2]`), 0, func(int) int { n++; return -1 }); end != -1 || n != 1 {
		t.Errorf("EachElement did not stop at fn's -1 (end %d, calls %d)", end, n)
	}
	// A false from fn stops the scan and is reported.
	n = 0
	if jsonscan.Members([]byte(`{"a":1,"b":2}`), func(k, v []byte) bool { n++; return false }) || n != 1 {
		t.Errorf("Members did not stop at fn's false (calls %d)", n)
	}
}

// FuzzScanMatchesCanonicaljson: on canonicaljson's own output the scanner reads exactly the
// members and elements that the validating canonicaljson.EachMember / EachElement read; on any
// other bytes it must not panic or hang.
func FuzzScanMatchesCanonicaljson(f *testing.F) {
	for _, s := range []string{`{"b":1,"a":[1,{"c":"\u0000\"\\"}]}`, `[1,"x",{}]`, `{"a\"":{"":[]}}`, `"s"`, `{"a":1`} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		// Arbitrary bytes: only termination and bounds matter.
		for i := -1; i <= len(data) && i < 64; i++ {
			if got, want := jsonscan.SkipString(data, i), skipStringForward(data, i); got != want {
				t.Fatalf("SkipString(%q, %d) = %d, the forward scan %d", data, i, got, want)
			}
			if got, want := jsonscan.SkipValue(data, i), skipValueForward(data, i); got != want {
				t.Fatalf("SkipValue(%q, %d) = %d, the forward scan %d", data, i, got, want)
			}
		}
		jsonscan.Members(data, func(k, v []byte) bool { return true })
		jsonscan.Elements(data, func(v []byte) bool { return true })
		for i := -1; i <= len(data) && i < 64; i++ {
			jsonscan.EachElement(data, i, func(vs int) int { return jsonscan.SkipValue(data, vs) })
			jsonscan.EachMember(data, i, func(_ []byte, _, vs int) int { return jsonscan.SkipValue(data, vs) })
		}

		canon, err := canonicaljson.Append(nil, data, canonicaljson.Options{Strict: strict})
		if err != nil {
			return
		}
		if end := jsonscan.SkipValue(canon, 0); end != len(canon) {
			t.Fatalf("SkipValue(%s) = %d, want %d", canon, end, len(canon))
		}
		switch canonicaljson.KindOf(canon) {
		case canonicaljson.Object:
			var want, got [][2][]byte
			if err := canonicaljson.EachMember(canon, func(k string, v []byte) error {
				want = append(want, [2][]byte{canonicaljson.AppendString(nil, k), v})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !jsonscan.Members(canon, func(k, v []byte) bool {
				got = append(got, [2][]byte{append(append([]byte{'"'}, k...), '"'), v})
				return true
			}) {
				t.Fatalf("Members(%s) failed", canon)
			}
			compare(t, canon, want, got)
		case canonicaljson.Array:
			var want, got [][2][]byte
			if err := canonicaljson.EachElement(canon, func(v []byte) error {
				want = append(want, [2][]byte{nil, v})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !jsonscan.Elements(canon, func(v []byte) bool {
				got = append(got, [2][]byte{nil, v})
				return true
			}) {
				t.Fatalf("Elements(%s) failed", canon)
			}
			compare(t, canon, want, got)
			got = got[:0]
			if end := jsonscan.EachElement(canon, 0, func(vs int) int {
				ve := jsonscan.SkipValue(canon, vs)
				if ve >= 0 {
					got = append(got, [2][]byte{nil, canon[vs:ve]})
				}
				return ve
			}); end != len(canon) {
				t.Fatalf("EachElement(%s) = %d, want %d", canon, end, len(canon))
			}
			compare(t, canon, want, got)
		}
	})
}

func compare(t *testing.T, canon []byte, want, got [][2][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d entries scanned, canonicaljson reads %d", canon, len(got), len(want))
	}
	for i := range want {
		// Keys: EachMember unescapes and AppendString re-escapes canonically; the scanner
		// returns the canonical spelling as written. Lone surrogates are the one exception:
		// EachMember reads them as WTF-8 bytes, which AppendString does not write back.
		if !bytes.Equal(want[i][0], got[i][0]) && !bytes.Contains(got[i][0], []byte(`\ud`)) {
			t.Fatalf("%s: key %d is %s, canonicaljson reads %s", canon, i, got[i][0], want[i][0])
		}
		if !bytes.Equal(want[i][1], got[i][1]) {
			t.Fatalf("%s: value %d is %s, canonicaljson reads %s", canon, i, got[i][1], want[i][1])
		}
	}
}

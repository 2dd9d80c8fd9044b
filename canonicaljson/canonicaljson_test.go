package canonicaljson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

func TestErrorOffsetsAndMessages(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		opts   canonicaljson.Options
		err    error
		offset int64
		msg    string // substring of Error()
	}{
		{"bad value", `{"a": x}`, canonicaljson.Options{}, canonicaljson.ErrSyntax, 6, `invalid character 'x' looking for beginning of value`},
		{"trailing", `{} x`, canonicaljson.Options{}, canonicaljson.ErrTrailingData, 3, `after top-level value`},
		{"float", `{"a": [1, 2.5]}`, canonicaljson.Options{Strict: true}, canonicaljson.ErrFloat, 10, `number 2.5 has a fraction or exponent`},
		{"negative zero", `[-0]`, canonicaljson.Options{Strict: true}, canonicaljson.ErrNegativeZero, 1, `negative zero`},
		{"range", ` 9007199254740992`, canonicaljson.Options{Strict: true}, canonicaljson.ErrIntegerRange, 1, `integer 9007199254740992 is outside`},
		{"duplicate reports the second key", `{"a":1, "\u0061":2}`, canonicaljson.Options{Strict: true}, canonicaljson.ErrDuplicateKey, 8, `duplicate key "a"`},
		{"lone surrogate", `"ab\ud800"`, canonicaljson.Options{Strict: true}, canonicaljson.ErrLoneSurrogate, 3, `unpaired surrogate escape \ud800`},
		{"invalid utf-8", "\"ab\xff\"", canonicaljson.Options{}, canonicaljson.ErrInvalidUTF8, 3, `invalid UTF-8`},
		{"too deep", `[[[1]]]`, canonicaljson.Options{MaxDepth: 2}, canonicaljson.ErrTooDeep, 2, `nested deeper than the limit of 2`},
		{"end of input", `{"a":`, canonicaljson.Options{}, canonicaljson.ErrSyntax, 5, `unexpected end of input`},
		{"leading zero", `[012]`, canonicaljson.Options{}, canonicaljson.ErrSyntax, 2, `leading zero`},
		{"control character", "\"a\nb\"", canonicaljson.Options{}, canonicaljson.ErrSyntax, 2, `control characters must be escaped`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := canonicaljson.Append(nil, []byte(tt.in), tt.opts)
			var se *canonicaljson.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want a *SyntaxError", err, err)
			}
			if se.Err != tt.err || se.Offset != tt.offset {
				t.Errorf("got %v (offset %d), want %v at offset %d", se.Err, se.Offset, tt.err, tt.offset)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), fmt.Sprintf("at offset %d", tt.offset)) {
				t.Errorf("message %q does not contain %q and the offset", err.Error(), tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "canonicaljson: ") {
				t.Errorf("message %q lacks the package prefix", err.Error())
			}
		})
	}
}

func TestErrorFamilies(t *testing.T) {
	notJSON := []error{canonicaljson.ErrSyntax, canonicaljson.ErrTrailingData, canonicaljson.ErrInvalidUTF8}
	for _, s := range notJSON {
		err := error(&canonicaljson.SyntaxError{Err: s, Msg: "x"})
		if !errors.Is(err, canonicaljson.ErrSyntax) {
			t.Errorf("%v is not ErrSyntax", s)
		}
	}
	notCanonical := []error{canonicaljson.ErrFloat, canonicaljson.ErrNegativeZero, canonicaljson.ErrIntegerRange,
		canonicaljson.ErrDuplicateKey, canonicaljson.ErrLoneSurrogate, canonicaljson.ErrTooDeep}
	for _, s := range notCanonical {
		err := error(&canonicaljson.SyntaxError{Err: s, Msg: "x"})
		if errors.Is(err, canonicaljson.ErrSyntax) {
			t.Errorf("%v must not be ErrSyntax: the input is JSON", s)
		}
		if !errors.Is(err, s) || errors.Unwrap(err) != s {
			t.Errorf("%v does not unwrap to itself", s)
		}
	}
	if errors.Is(&canonicaljson.SyntaxError{Err: canonicaljson.ErrTrailingData}, canonicaljson.ErrInvalidUTF8) {
		t.Error("ErrTrailingData is ErrInvalidUTF8")
	}
}

func TestMaxDepthOptions(t *testing.T) {
	deep := func(n int) []byte {
		return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	tests := []struct {
		name     string
		maxDepth int
		depth    int
		ok       bool
	}{
		{"zero means default: at limit", 0, canonicaljson.DefaultMaxDepth, true},
		{"zero means default: past limit", 0, canonicaljson.DefaultMaxDepth + 1, false},
		{"negative means default: at limit", -5, canonicaljson.DefaultMaxDepth, true},
		{"negative means default: past limit", -5, canonicaljson.DefaultMaxDepth + 1, false},
		{"raised limit", 200, 200, true},
		{"raised limit exceeded", 200, 201, false},
		{"hard limit honoured", math.MaxInt, canonicaljson.HardMaxDepth, true},
		{"hard limit caps larger values", math.MaxInt, canonicaljson.HardMaxDepth + 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, strict := range []bool{false, true} {
				opts := canonicaljson.Options{Strict: strict, MaxDepth: tt.maxDepth}
				in := deep(tt.depth)
				out, err := canonicaljson.Append(nil, in, opts)
				if tt.ok {
					if err != nil || !bytes.Equal(out, in) {
						t.Errorf("strict=%v: got %v", strict, err)
					}
				} else if !errors.Is(err, canonicaljson.ErrTooDeep) {
					t.Errorf("strict=%v: got %v, want ErrTooDeep", strict, err)
				}
				if verr := canonicaljson.Valid(in, opts); (verr == nil) != tt.ok {
					t.Errorf("strict=%v: Valid = %v", strict, verr)
				}
			}
		})
	}
	// A huge unclosed nesting fails fast at the limit, not at the end.
	huge := bytes.Repeat([]byte(`{"a":[`), 1<<16)
	if err := canonicaljson.Valid(huge, canonicaljson.Options{MaxDepth: math.MaxInt}); !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("huge nesting: %v", err)
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"plain", "hello", `"hello"`},
		{"short escapes", "\"\\\b\f\n\r\t", `"\"\\\b\f\n\r\t"`},
		{"other controls", "\x00\x01\x0b\x1f", `"\u0000\u0001\u000b\u001f"`},
		{"DEL and separators raw", "\x7f\u2028\u2029", "\"\x7f\u2028\u2029\""},
		{"solidus and HTML raw", "</script>&", `"</script>&"`},
		{"non-ASCII raw", "日本語 é 😀", `"日本語 é 😀"`},
		{"invalid UTF-8 becomes U+FFFD per byte", "a\xffb\xe6\x97", "\"a\uFFFDb\uFFFD\uFFFD\""},
		{"UTF-8 encoded surrogate becomes U+FFFD per byte", "\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := canonicaljson.AppendString([]byte("x"), tt.in)
			if string(got) != "x"+tt.want {
				t.Errorf("AppendString(%q) = %q, want %q", tt.in, got[1:], tt.want)
			}
			if ref := referenceStringOf(tt.in); ref != tt.want {
				t.Errorf("reference disagrees: %q", ref)
			}
			if out, err := canonicaljson.CanonicalStrict(got[1:]); err != nil || !bytes.Equal(out, got[1:]) {
				t.Errorf("output is not canonical: %q, %v", out, err)
			}
		})
	}
	// Every code point up to U+10FFFF (but surrogates) round-trips through
	// Unquote and agrees with the reference.
	var sb strings.Builder
	for r := rune(0); r <= 0x10ffff; r++ {
		if r >= 0xd800 && r < 0xe000 {
			continue
		}
		sb.WriteRune(r)
	}
	all := sb.String()
	enc := canonicaljson.AppendString(nil, all)
	if string(enc) != referenceStringOf(all) {
		t.Error("AppendString disagrees with the reference over all code points")
	}
	dec, err := canonicaljson.Unquote(enc)
	if err != nil || dec != all {
		t.Errorf("Unquote(AppendString(all code points)) failed: %v", err)
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"plain", `"abc"`, "abc", nil},
		{"whitespace around", " \n\"abc\"\t", "abc", nil},
		{"escapes", `"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t", nil},
		{"unicode escapes", `"\u0041\u00e9\u65E5\ud83d\ude00"`, "Aé日😀", nil},
		{"lone surrogates become their WTF-8 bytes", `"a\ud800b\udc00"`, "a\xed\xa0\x80b\xed\xb0\x80", nil},
		{"U+FFFD stays distinct from a lone surrogate", `"\ufffd\uDBFF"`, "\uFFFD\xed\xaf\xbf", nil},
		{"raw non-ASCII", `"日本語"`, "日本語", nil},
		{"empty", `""`, "", nil},
		{"not a string", `123`, "", canonicaljson.ErrSyntax},
		{"empty input", ``, "", canonicaljson.ErrSyntax},
		{"unterminated", `"abc`, "", canonicaljson.ErrSyntax},
		{"trailing data", `"a" "b"`, "", canonicaljson.ErrTrailingData},
		{"bad escape", `"\q"`, "", canonicaljson.ErrSyntax},
		{"raw control", "\"\x01\"", "", canonicaljson.ErrSyntax},
		{"invalid UTF-8", "\"\xc0\xaf\"", "", canonicaljson.ErrInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonicaljson.Unquote([]byte(tt.in))
			if tt.err != nil {
				var se *canonicaljson.SyntaxError
				if !errors.As(err, &se) || se.Err != tt.err {
					t.Fatalf("Unquote(%q) error = %v, want %v", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Unquote(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

type memberSeen struct{ key, value string }

func TestEachMember(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []memberSeen
		err  error // sentinel; nil for success
	}{
		{"empty object", ` { } `, nil, nil},
		{"input order and raw values", "{\"b\" : [1, 2] ,\n\"a\":{\"y\": 1.50, \"x\":-0}, \"c\":\"\\u0041\"}",
			[]memberSeen{{"b", "[1, 2]"}, {"a", `{"y": 1.50, "x":-0}`}, {"c", `"\u0041"`}}, nil},
		{"keys are unescaped", `{"\u0061\/\ud83d\ude00":true,"\ud800":null}`,
			[]memberSeen{{"a/😀", "true"}, {"\xed\xa0\x80", "null"}}, nil},
		{"duplicates are passed through", `{"a":1,"a":2}`, []memberSeen{{"a", "1"}, {"a", "2"}}, nil},
		{"lenient numbers", `{"n":1e400}`, []memberSeen{{"n", "1e400"}}, nil},
		{"not an object", `[1]`, nil, canonicaljson.ErrSyntax},
		{"empty input", ``, nil, canonicaljson.ErrSyntax},
		{"syntax error after the first member", `{"a":1,"b":}`, []memberSeen{{"a", "1"}}, canonicaljson.ErrSyntax},
		{"bad nested value", `{"a":[1,}`, nil, canonicaljson.ErrSyntax},
		{"trailing data after all members", `{"a":1} x`, []memberSeen{{"a", "1"}}, canonicaljson.ErrTrailingData},
		{"trailing comma", `{"a":1,}`, []memberSeen{{"a", "1"}}, canonicaljson.ErrSyntax},
		{"missing colon", `{"a" 1}`, nil, canonicaljson.ErrSyntax},
		{"invalid UTF-8 in a key", "{\"\xff\":1}", nil, canonicaljson.ErrInvalidUTF8},
		{"too deep", `{"a":` + strings.Repeat("[", canonicaljson.DefaultMaxDepth) + strings.Repeat("]", canonicaljson.DefaultMaxDepth) + `}`,
			nil, canonicaljson.ErrTooDeep},
		{"at the depth limit", `{"a":` + strings.Repeat("[", canonicaljson.DefaultMaxDepth-1) + strings.Repeat("]", canonicaljson.DefaultMaxDepth-1) + `}`,
			[]memberSeen{{"a", strings.Repeat("[", canonicaljson.DefaultMaxDepth-1) + strings.Repeat("]", canonicaljson.DefaultMaxDepth-1)}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []memberSeen
			err := canonicaljson.EachMember([]byte(tt.in), func(k string, v []byte) error {
				got = append(got, memberSeen{k, string(v)})
				return nil
			})
			if tt.err == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.err != nil {
				var se *canonicaljson.SyntaxError
				if !errors.As(err, &se) || se.Err != tt.err {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("members = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("callback error stops iteration and is returned as is", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := canonicaljson.EachMember([]byte(`{"a":1,"b":2,"c":3}`), func(k string, v []byte) error {
			calls++
			if k == "b" {
				return stop
			}
			return nil
		})
		if err != stop || calls != 2 {
			t.Errorf("err = %v after %d calls, want stop after 2", err, calls)
		}
	})
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		in   string
		want canonicaljson.Kind
	}{
		{`{}`, canonicaljson.Object}, {" \n\t\r[1]", canonicaljson.Array}, {`"s"`, canonicaljson.String},
		{`-1`, canonicaljson.Number}, {`0`, canonicaljson.Number}, {`9`, canonicaljson.Number},
		{`true`, canonicaljson.Bool}, {`false`, canonicaljson.Bool}, {`null`, canonicaljson.Null},
		{``, canonicaljson.Invalid}, {`   `, canonicaljson.Invalid}, {`x`, canonicaljson.Invalid},
		{`+1`, canonicaljson.Invalid}, {`.5`, canonicaljson.Invalid}, {`'a'`, canonicaljson.Invalid},
		{"\x0c{}", canonicaljson.Invalid}, {"]", canonicaljson.Invalid},
	}
	for _, tt := range tests {
		if got := canonicaljson.KindOf([]byte(tt.in)); got != tt.want {
			t.Errorf("KindOf(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	names := map[canonicaljson.Kind]string{canonicaljson.Invalid: "invalid", canonicaljson.Object: "object",
		canonicaljson.Array: "array", canonicaljson.String: "string", canonicaljson.Number: "number",
		canonicaljson.Bool: "bool", canonicaljson.Null: "null", canonicaljson.Kind(42): "Kind(42)", canonicaljson.Kind(-1): "Kind(-1)"}
	for k, want := range names {
		if k.String() != want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), want)
		}
	}
}

func TestMarshal(t *testing.T) {
	type event struct {
		Type    string         `json:"type"`
		Content map[string]any `json:"content"`
		Depth   int64          `json:"depth"`
		Unset   *string        `json:"unset,omitempty"`
	}
	tests := []struct {
		name string
		in   any
		want string
		err  error
	}{
		{"struct with map, keys sorted", event{Type: "m.room.message", Content: map[string]any{"body": "<b>hi</b> & é", "msgtype": "m.text"}, Depth: 12},
			`{"content":{"body":"<b>hi</b> & é","msgtype":"m.text"},"depth":12,"type":"m.room.message"}`, nil},
		{"integral float64", map[string]float64{"a": 3}, `{"a":3}`, nil},
		{"largest safe integer", []int64{1<<53 - 1, -(1<<53 - 1)}, `[9007199254740991,-9007199254740991]`, nil},
		{"U+2028 is raw, not escaped as encoding/json does", "\u2028", "\"\u2028\"", nil},
		{"raw message is canonicalised", json.RawMessage(`{ "b" : 1, "a" : [ ] }`), `{"a":[],"b":1}`, nil},
		{"fraction", 1.5, "", canonicaljson.ErrFloat},
		{"large float uses an exponent", 1e21, "", canonicaljson.ErrFloat},
		{"negative zero float", math.Copysign(0, -1), "", canonicaljson.ErrNegativeZero},
		{"int64 out of range", int64(1) << 53, "", canonicaljson.ErrIntegerRange},
		{"raw message with duplicate keys", json.RawMessage(`{"a":1,"a":2}`), "", canonicaljson.ErrDuplicateKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonicaljson.Marshal(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("Marshal = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := canonicaljson.Marshal(make(chan int)); err == nil {
		t.Error("Marshal(chan) succeeded")
	}
}

// TestConcurrent runs the canonicaliser from many goroutines over the corpus
// and the fixtures; with -race it checks that there is no shared state but
// the pool.
func TestConcurrent(t *testing.T) {
	inputs := [][]byte{messageEvent(), powerLevelsEvent()}
	if _, err := os.Stat(corpusPath); err == nil {
		inputs = append(inputs, corpusEvents(t)...)
	}
	for _, c := range loadCases(t) {
		inputs = append(inputs, c.input(t))
	}
	want := make([][]byte, len(inputs))
	wantErr := make([]error, len(inputs))
	for i, in := range inputs {
		want[i], wantErr[i] = canonicaljson.Canonical(in)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for n := 0; n < 20; n++ {
				for i, in := range inputs {
					got, err := canonicaljson.Canonical(in)
					if !bytes.Equal(got, want[i]) || (err == nil) != (wantErr[i] == nil) {
						t.Errorf("goroutine %d: input %d differs", g, i)
						return
					}
					_ = canonicaljson.Valid(in, canonicaljson.Options{Strict: g%2 == 0})
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestAllocations(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocation counts: not in -short or -race runs")
	}
	ev := powerLevelsEvent() // many members, unsorted, nested objects
	// Warm the pool.
	if _, err := canonicaljson.Canonical(ev); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = canonicaljson.Canonical(ev) }); n > 1 {
		t.Errorf("Canonical allocates %v times per run, want at most 1 (the output)", n)
	}
	buf := make([]byte, 0, 4*len(ev))
	if n := testing.AllocsPerRun(100, func() { _, _ = canonicaljson.Append(buf[:0], ev, canonicaljson.Options{Strict: true}) }); n > 0 {
		t.Errorf("Append into a large enough buffer allocates %v times per run, want 0", n)
	}
	for _, strict := range []bool{false, true} {
		if n := testing.AllocsPerRun(100, func() { _ = canonicaljson.Valid(ev, canonicaljson.Options{Strict: strict}) }); n > 0 {
			t.Errorf("Valid(strict=%v) allocates %v times per run, want 0", strict, n)
		}
	}
}

// TestLargeInputs checks inputs far larger than any event: long strings,
// wide objects and arrays, in time and memory linear in their size.
func TestLargeInputs(t *testing.T) {
	long := strings.Repeat("日本語 <b>x</b> \\n ", 1<<16)
	in := []byte(`{"s":"` + long + `"}`)
	out, err := canonicaljson.CanonicalStrict(in)
	if err != nil || !bytes.Equal(out, in) { // already canonical: nothing changes
		t.Fatalf("long string: %v (len %d vs %d)", err, len(out), len(in))
	}
	// A wide object in reverse order, with every key unique.
	var b bytes.Buffer
	b.WriteByte('{')
	const n = 50000
	for i := n; i > 0; i-- {
		fmt.Fprintf(&b, `"k%06d":%d`, i, i)
		if i > 1 {
			b.WriteByte(',')
		}
	}
	b.WriteByte('}')
	out, err = canonicaljson.CanonicalStrict(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := referenceCanonical(b.Bytes())
	if err != nil || !bytes.Equal(out, ref) {
		t.Fatalf("wide object differs from the reference: %v", err)
	}
}

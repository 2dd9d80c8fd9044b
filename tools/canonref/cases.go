package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// gen draws JSON text adversarially: every kind of escape, keys that collide after unescaping
// or sort differently by UTF-16 and by code point, numbers at every edge, every JSON whitespace,
// and nesting around a depth limit. It records in labels what it drew that matters.
type gen struct {
	r      *rand.Rand
	labels map[string]bool
}

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *gen) ws() string {
	if g.r.Intn(4) != 0 {
		return ""
	}
	var b strings.Builder
	for k := g.r.Intn(3) + 1; k > 0; k-- {
		b.WriteString(g.pick(" ", "\t", "\n", "\r", "  "))
	}
	return b.String()
}

// numbers at the edges of the strict range and of JSON's number grammar.
var numbers = []string{
	"0", "1", "-1", "42", "-0", "9007199254740991", "-9007199254740991", "9007199254740992",
	"-9007199254740992", "9007199254740993", "18446744073709551616", "-9223372036854775809",
	"123456789012345678901234567890", "1.0", "1.5", "-0.0", "0.0", "1e2", "1E+2", "1e-2", "0.1e1",
	"1e10", "-1e10", "1e400", "1e-400", "9.007199254740991e15", "9.007199254740992e15", "0e0", "-0e0",
	"1.5e1", "100e-2", "1E0", "1e+0", "12.5E-1", "-9007199254740991e0", "1e999999999999", "5e-324",
	"1e18446744073709551616", "1e-18446744073709551617", "0e99999999999999999999", "90071992547409910e-1",
	"9007199254740991.0e0", "1.000000000000000000000000001e0", "-0.000e-5", "0.00000000000000000001e20",
}

// numbers that are not JSON.
var badNumbers = []string{"01", "-01", "+1", ".5", "1.", "1.e2", "1e", "1e+", "-", "--1", "0x10",
	"NaN", "Infinity", "-Infinity", "1_000", "00", "-"}

// string pieces as they appear between the quotes of a JSON string.
var strPieces = []string{
	"a", "b", "hello", " ", "日本語", "é", "😀", "\U0010FFFF", "\uFFFF", "\uE000", "\u2028", "\u2029",
	"\x7f", "/", "<>&", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000",
	"\\u0001", "\\u001f", "\\u001F", "\\u000b", "\\u000e", "\\u0008", "\\u0009", "\\u000a", "\\u000C",
	"\\u000d", "\\u007f", "\\u007F", "\\u0020", "\\u0022", "\\u005c", "\\u002f", "\\u0041", "\\u0061",
	"\\u00e9", "\\u00E9", "\\u65E5", "\\u2028", "\\uffff", "\\ufffd", "\\ud83d\\ude00", "\\uD83D\\uDE00",
	"\\udbff\\udfff", "\\ud800\\udc00", "\\ud800", "\\udc00", "\\udbff", "\\uDFFF", "\\ud800x",
	"\\ud800\\u0041", "\\ud800\\ud800\\udc00", "\\udc00\\ud800", "\\ud83d😀",
}

// string pieces that are not JSON.
var badStrPieces = []string{"\\u00", "\x00", "\x1f", "\t", "\n", "\\x", "\\U0041", "\\u12G4", "\\'", "\\a",
	"\\", "\\0", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80",
	"\xf5\x80\x80\x80", "\x80", "\xbf", "\xff", "\xfe", "\xe6\x97", "\xf0\x9f\x98", "\xc2",
	"\xc1\xbf", "\xf0\x80\x80\x80", "\xf8\x88\x80\x80\x80"}

// keys: some collide once unescaped ("a" and "\u0061"), some sort differently by UTF-16 and
// by code point (U+E000, U+FFFF against U+1F600), some are those of an event.
var keys = []string{
	"a", "\\u0061", "b", "A", "", "aa", "a\\u0000", "日", "本", "\\u65E5", "😀", "\\ud83d\\ude00",
	"\uE000", "\\ue000", "\uFFFF", "\U0010FFFF", "\uFFFD", "\\ud800", "\\udc00", "\\ud800\\udc00",
	"content", "hashes", "signatures", "unsigned", "type", "\\/", "/", "\\u002f", "é", "e\u0301",
	"\\u00e9", "\\n", "\\u000a", "\x7f", "\\u007f", "\\\"", "\\\\",
	// escaped and unescaped orders differ: '"' < '#' but '\\' > '#'; U+0007 < U+0008 but "u" > "b"
	// keys around the 8-byte prefix the sort may pack: NUL padding, equal prefixes
	"abcdefgh", "abcdefg", "abcdefghi", "abcdefgh\\u0000", "abcdefg\\u0000", "\\u0000", "\\u0000\\u0000",
	"abcdefgh\\u00e9", "abcdefgh\uFFFF", "abcdefgh😀", "abcdefgh\\ud800", "abcdefg\\u0061", "abcdefgh\\u0061",
	"a\\\"", "a#", "a]", "a\\\\", "\\u0007", "\\b", "\\t", "\\u000b", "\\u001f", " ",
}

// str draws a JSON string literal (quotes included); bad allows pieces that are not JSON.
func (g *gen) str(bad bool) string {
	var b strings.Builder
	b.WriteByte('"')
	n := g.r.Intn(4)
	if g.r.Intn(4) == 0 {
		// long strings: runs of plain bytes of every length between the pieces, so that each
		// piece meets every alignment of an 8-byte word
		g.labels["long-string"] = true
		n = g.r.Intn(30)
	}
	for k := n; k > 0; k-- {
		if n > 3 && g.r.Intn(2) == 0 {
			b.WriteString(strings.Repeat(g.pick("a", "~", " ", "!", "#", "[", "]", "é", "\u0041"), g.r.Intn(18)))
			continue
		}
		if bad && g.r.Intn(12) == 0 {
			b.WriteString(g.pick(badStrPieces...))
			g.labels["bad-string"] = true
			continue
		}
		p := g.pick(strPieces...)
		if strings.Contains(p, "\\ud8") || strings.Contains(p, "\\udc") || strings.Contains(p, "\\udb") ||
			strings.Contains(p, "\\uD") || strings.Contains(p, "\\uDFFF") {
			g.labels["surrogate-escape"] = true
		}
		b.WriteString(p)
	}
	b.WriteByte('"')
	return b.String()
}

func (g *gen) key() string {
	if g.r.Intn(3) == 0 {
		return g.str(false)
	}
	return `"` + g.pick(keys...) + `"`
}

func (g *gen) number(bad bool) string {
	if bad && g.r.Intn(10) == 0 {
		g.labels["bad-number"] = true
		return g.pick(badNumbers...)
	}
	return g.pick(numbers...)
}

// value draws a value nested at most depth more levels.
func (g *gen) value(depth int, bad bool) string {
	k := g.r.Intn(10)
	if depth <= 0 && k < 5 {
		k += 5
	}
	switch {
	case k < 3:
		var b strings.Builder
		b.WriteString("{" + g.ws())
		n := g.r.Intn(5)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(g.ws() + "," + g.ws())
			}
			b.WriteString(g.key() + g.ws() + ":" + g.ws() + g.value(depth-1, bad))
		}
		b.WriteString(g.ws() + "}")
		return b.String()
	case k < 5:
		var b strings.Builder
		b.WriteString("[" + g.ws())
		n := g.r.Intn(4)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(g.ws() + "," + g.ws())
			}
			b.WriteString(g.value(depth-1, bad))
		}
		b.WriteString(g.ws() + "]")
		return b.String()
	case k < 7:
		return g.str(bad)
	case k < 9:
		return g.number(bad)
	}
	if bad && g.r.Intn(15) == 0 {
		return g.pick("tru", "nul", "True", "NULL", "fals", "truex", "'a'", "undefined")
	}
	return g.pick("true", "false", "null")
}

// deep nests arrays and objects d levels deep (the innermost [] or {} counts as a level).
func (g *gen) deep(d int) string {
	inner := g.pick("1", `"x"`, "[]", "{}", "1.5")
	levels := d
	if inner == "[]" || inner == "{}" {
		levels--
	}
	var open, close strings.Builder
	for i := 0; i < levels; i++ {
		if g.r.Intn(2) == 0 {
			open.WriteString("[")
			close.WriteString("]")
		} else {
			open.WriteString(`{"k":`)
			close.WriteString("}")
		}
	}
	return open.String() + inner + reverse(close.String())
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// mutate breaks or pads the text in one of many ways.
func (g *gen) mutate(s string) string {
	switch g.r.Intn(16) {
	case 0:
		g.labels["truncated"] = true
		if len(s) == 0 {
			return s
		}
		return s[:g.r.Intn(len(s))]
	case 1:
		g.labels["trailing"] = true
		return s + g.ws() + g.pick("x", "1", "{}", ",", "]", "}", "\x00", "\xef\xbb\xbf", "\u00a0", "\xff", "//c", `"`)
	case 2:
		g.labels["insert"] = true
		i := g.r.Intn(len(s) + 1)
		return s[:i] + g.pick(",", "]", "}", ":", `"`, "\\", "\x00", "\x80", "\xff", "\u00a0", "\ufeff", "/*c*/", "'", "+", "\x0b", "\x0c") + s[i:]
	case 3:
		g.labels["bom-or-nbsp"] = true
		return g.pick("\ufeff", "\u00a0", "\x0b", "\x0c", "\u2028", "\u3000") + s
	case 4:
		g.labels["trailing-comma"] = true
		if i := strings.LastIndexAny(s, "]}"); i > 0 {
			return s[:i] + "," + s[i:]
		}
		return s
	case 5:
		g.labels["delete"] = true
		if len(s) == 0 {
			return s
		}
		i := g.r.Intn(len(s))
		return s[:i] + s[i+1:]
	case 6:
		g.labels["ws-around"] = true
		return g.pick(" ", "\t", "\n", "\r", " \r\n\t") + s + g.pick(" ", "\t", "\n", "\r\n", "")
	}
	return s
}

// draw returns the input of one case, its labels and the MaxDepth to use.
func (g *gen) draw() ([]byte, int) {
	maxDepth := 0
	switch g.r.Intn(10) {
	case 0:
		maxDepth = g.r.Intn(5) + 1
	case 1:
		maxDepth = g.pick2(-1, 127, 128, 4096, 5000, 1<<40)
	}
	var s string
	switch k := g.r.Intn(20); {
	case k == 0:
		// depth at the limit, one past, one short
		lim := maxDepth
		if lim <= 0 {
			lim = 127
		} else if lim > 4096 {
			lim = 4096
		}
		d := lim + g.r.Intn(3) - 1
		g.labels[fmt.Sprintf("deep %+d", d-lim)] = true
		s = g.deep(d)
	case k == 1:
		s = g.pick("", " ", "\n", "\ufeff{}", "{}", "[]", `""`, "null", "0", "-0", `{"a": -0, "b": 1e10}`,
			`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"\ud800":1}`, `{"\uE000":1,"\ud83d\ude00":2}`,
			`[1,2,]`, `{"a":1,}`, `// c`+"\n1", `/*c*/1`, "'a'", `{'a':1}`, `[01]`, "1 2", "\u00a01")
		g.labels["fixed"] = true
	case k < 5:
		g.labels["object-of-objects"] = true
		var b strings.Builder
		b.WriteString("{")
		n := g.r.Intn(6)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(g.key() + ":" + g.ws() + g.value(3, g.r.Intn(4) == 0))
		}
		b.WriteString("}")
		s = b.String()
	default:
		s = g.ws() + g.value(4, g.r.Intn(3) == 0) + g.ws()
	}
	if g.r.Intn(4) == 0 {
		s = g.mutate(s)
	}
	return []byte(s), maxDepth
}

func (g *gen) pick2(xs ...int) int { return xs[g.r.Intn(len(xs))] }

// goBytes draws the bytes of a Go string for AppendString and Marshal: valid UTF-8 of every
// kind and ill-formed sequences.
func (g *gen) goBytes() []byte {
	var b bytes.Buffer
	n := g.r.Intn(5)
	if g.r.Intn(3) == 0 {
		n = g.r.Intn(40)
	}
	for k := n; k > 0; k-- {
		switch g.r.Intn(5) {
		case 4:
			b.WriteString(strings.Repeat(g.pick("a", "~", " ", "é", "\x7f"), g.r.Intn(18)))
		case 0:
			b.WriteByte(byte(g.r.Intn(0x20)))
		case 1:
			b.WriteString(g.pick(badStrPieces[11:]...))
		default:
			b.WriteString(g.pick("a", "\"", "\\", "/", "\x7f", "\u2028", "\u2029", "<", ">", "&", "é", "😀",
				"\U0010FFFF", "\uFFFD", "\uFEFF", "日本"))
		}
	}
	return b.Bytes()
}

// --- Marshal ------------------------------------------------------------------------------

// desc is the reference's description of a Go value: the JSON value encoding/json gives it.
type desc = map[string]any

// marshaler is a json.Marshaler returning fixed bytes.
type marshaler []byte

// MarshalJSON returns the bytes as they are.
func (m marshaler) MarshalJSON() ([]byte, error) { return m, nil }

// tagged is a struct with JSON tags: renamed, omitted when empty, skipped, a pointer.
type tagged struct {
	B     int            `json:"b"`
	A     string         `json:"a,omitempty"`
	Skip  int            `json:"-"`
	Z     *int64         `json:"z"`
	Inner map[string]any `json:"inner,omitempty"`
	Plain bool
}

// goValue draws a Go value and its description.
func (g *gen) goValue(depth int) (any, desc) {
	k := g.r.Intn(16)
	if depth <= 0 && k < 4 {
		k += 4
	}
	switch k {
	case 0:
		m := map[string]any{}
		var ms []any
		for n := g.r.Intn(4); n > 0; n-- {
			key := string(g.goBytes())
			if g.r.Intn(2) == 0 {
				key = g.pick("a", "b", "A", "", "😀", "\uE000", "\uFFFF", "content")
			}
			if _, dup := m[key]; dup {
				continue
			}
			v, d := g.goValue(depth - 1)
			m[key] = v
			ms = append(ms, []any{b64(key), d})
		}
		// encoding/json writes a map's members sorted by the bytes of their keys
		slices.SortFunc(ms, func(x, y any) int {
			return strings.Compare(string(unb64(x.([]any)[0].(string))), string(unb64(y.([]any)[0].(string))))
		})
		return m, desc{"t": "obj", "v": orEmpty(ms)}
	case 1:
		var xs []any
		var ds []any
		for n := g.r.Intn(4); n > 0; n-- {
			v, d := g.goValue(depth - 1)
			xs = append(xs, v)
			ds = append(ds, d)
		}
		if xs == nil && g.r.Intn(2) == 0 {
			return []any(nil), desc{"t": "null"}
		}
		if xs == nil {
			xs = []any{}
		}
		return xs, desc{"t": "arr", "v": orEmpty(ds)}
	case 2:
		t := tagged{B: g.r.Intn(3), A: g.pick("", "x"), Skip: 7, Plain: g.r.Intn(2) == 0}
		var ms []any
		if t.A != "" {
			ms = append(ms, []any{b64("a"), desc{"t": "str", "b": b64("x")}})
		}
		ms = append(ms, []any{b64("b"), desc{"t": "int", "v": strconv.Itoa(t.B)}})
		zd := desc{"t": "null"}
		if g.r.Intn(2) == 0 {
			z := g.pick64(0, 9007199254740991, 9007199254740992, math.MinInt64)
			t.Z = &z
			zd = desc{"t": "int", "v": strconv.FormatInt(z, 10)}
		}
		ms = append(ms, []any{b64("z"), zd})
		if g.r.Intn(2) == 0 {
			v, d := g.goValue(depth - 1)
			t.Inner = map[string]any{"q": v}
			ms = append(ms, []any{b64("inner"), desc{"t": "obj", "v": []any{[]any{b64("q"), d}}}})
		}
		ms = append(ms, []any{b64("Plain"), desc{"t": "bool", "v": t.Plain}})
		if g.r.Intn(2) == 0 {
			return &t, desc{"t": "obj", "v": ms}
		}
		return t, desc{"t": "obj", "v": ms}
	case 3:
		var ks []int
		m := map[int]string{}
		for n := g.r.Intn(4); n > 0; n-- {
			x := g.r.Intn(30) - 10
			if _, ok := m[x]; !ok {
				ks = append(ks, x)
			}
			m[x] = "v"
		}
		var ms []any
		slices.SortFunc(ks, func(x, y int) int { return strings.Compare(strconv.Itoa(x), strconv.Itoa(y)) })
		for _, x := range ks {
			ms = append(ms, []any{b64(strconv.Itoa(x)), desc{"t": "str", "b": b64("v")}})
		}
		return m, desc{"t": "obj", "v": orEmpty(ms)}
	case 4, 5:
		s := g.goBytes()
		return string(s), desc{"t": "str", "b": b64(string(s))}
	case 6:
		// integers of every size
		switch g.r.Intn(10) {
		case 0:
			v := int8(g.pick64(math.MinInt8, math.MaxInt8, 0, -1))
			return v, desc{"t": "int", "v": strconv.FormatInt(int64(v), 10)}
		case 1:
			v := int16(g.pick64(math.MinInt16, math.MaxInt16))
			return v, desc{"t": "int", "v": strconv.FormatInt(int64(v), 10)}
		case 2:
			v := int32(g.pick64(math.MinInt32, math.MaxInt32))
			return v, desc{"t": "int", "v": strconv.FormatInt(int64(v), 10)}
		case 3:
			v := uint8(255)
			return v, desc{"t": "int", "v": "255"}
		case 4:
			v := uint16(65535)
			return v, desc{"t": "int", "v": "65535"}
		case 5:
			v := uint32(math.MaxUint32)
			return v, desc{"t": "int", "v": strconv.FormatUint(uint64(v), 10)}
		case 6:
			v := uint64(g.pick64(0, 1<<53-1, 1<<53, math.MaxInt64))
			if g.r.Intn(3) == 0 {
				v = math.MaxUint64
			}
			return v, desc{"t": "int", "v": strconv.FormatUint(v, 10)}
		case 7:
			v := uint(1<<53 - 1)
			return v, desc{"t": "int", "v": strconv.FormatUint(uint64(v), 10)}
		default:
			v := g.pick64(0, -1, 1<<53-1, -(1<<53 - 1), 1<<53, -(1 << 53), math.MaxInt64, math.MinInt64)
			if g.r.Intn(2) == 0 {
				return int(v), desc{"t": "int", "v": strconv.FormatInt(v, 10)}
			}
			return v, desc{"t": "int", "v": strconv.FormatInt(v, 10)}
		}
	case 7:
		f := g.pickf(0, math.Copysign(0, -1), 1, -1, 1.5, 0.1, 1e20, 1e21, 1e300, 9007199254740991,
			9007199254740992, -9007199254740991, 123456789, 5e-324, math.NaN(), math.Inf(1), 1e15, 1e16)
		if g.r.Intn(3) == 0 {
			f32 := float32(f)
			return f32, desc{"t": "float", "v": fmtFloat(float64(f32), 32)}
		}
		return f, desc{"t": "float", "v": fmtFloat(f, 64)}
	case 8:
		src := g.pick(`{"b":1, "a":[true,null]}`, `1.5`, `-0`, `9007199254740992`, `{"a":1,"a":2}`,
			`"\ud800"`, `"\u0041\/"`, `[1,]`, `{"x":"<&>"}`, ` 12 `, `"\u2028"`, `{"\u0061":1,"a":2}`)
		if g.r.Intn(3) == 0 {
			src = g.value(2, false)
		}
		if g.r.Intn(2) == 0 {
			return json.RawMessage(src), desc{"t": "raw", "b": b64(src)}
		}
		return marshaler(src), desc{"t": "raw", "b": b64(src)}
	case 9:
		n := g.pick("0", "-0", "12", "1.0", "1e2", "9007199254740992", "", "abc", "01", "+1", "1.", "-9007199254740991")
		return json.Number(n), desc{"t": "number", "v": n}
	case 10:
		return nil, desc{"t": "null"}
	case 11:
		var p *int
		if g.r.Intn(2) == 0 {
			x := 5
			p = &x
			return p, desc{"t": "int", "v": "5"}
		}
		return p, desc{"t": "null"}
	case 12:
		var m map[string]int
		return m, desc{"t": "null"}
	case 13:
		b := g.goBytes()
		if b == nil {
			return b, desc{"t": "null"} // encoding/json writes a nil []byte as null
		}
		return b, desc{"t": "str", "b": b64(b64(string(b)))}
	}
	v := g.r.Intn(2) == 0
	return v, desc{"t": "bool", "v": v}
}

func orEmpty(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

func (g *gen) pick64(xs ...int64) int64    { return xs[g.r.Intn(len(xs))] }
func (g *gen) pickf(xs ...float64) float64 { return xs[g.r.Intn(len(xs))] }

func fmtFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// mutateCanonical changes canonical text a little, byte-wise: a byte replaced, inserted or
// deleted, two bytes swapped, a member repeated, a digit made -0 or out of range, an escape
// made uppercase; so that text which is almost canonical reaches the already-canonical check.
func mutateCanonical(r *rand.Rand, b []byte) []byte {
	b = slices.Clone(b)
	if len(b) == 0 {
		return b
	}
	i := r.Intn(len(b))
	repl := []string{"\x00", "\x7f", "\x80", "\xc0", "\xed", "\xff", " ", "\n", "-", "0", "1", "e",
		".", "\\", "\"", ",", ":", "{", "}", "[", "]", "/", "a", "A", "\u00e9", "\U0001F600", "\uE000"}
	pick := func() []byte {
		s, _ := strconv.Unquote(`"` + repl[r.Intn(len(repl))] + `"`)
		return []byte(s)
	}
	switch r.Intn(8) {
	case 0:
		return slices.Concat(b[:i], pick(), b[i+1:])
	case 1:
		return slices.Concat(b[:i], pick(), b[i:])
	case 2:
		return slices.Concat(b[:i], b[i+1:])
	case 3:
		if i+1 < len(b) {
			b[i], b[i+1] = b[i+1], b[i]
		}
		return b
	case 4:
		// repeat the first member of the first object: {"k":v,...} -> {"k":v,"k":v,...}
		if j := bytes.IndexByte(b, '{'); j >= 0 && j+1 < len(b) && b[j+1] == '"' {
			if k := bytes.IndexAny(b[j+1:], ",}"); k > 0 {
				m := b[j+1 : j+1+k]
				return slices.Concat(b[:j+1], m, []byte(","), b[j+1:])
			}
		}
		return b
	case 5:
		for k, c := range b {
			if c >= '0' && c <= '9' && (k == 0 || b[k-1] == ':' || b[k-1] == '[' || b[k-1] == ',') {
				v := []string{"-0", "9007199254740992", "-9007199254740991", "00", "0.0", "1e1"}[r.Intn(6)]
				return slices.Concat(b[:k], []byte(v), b[k+1:])
			}
		}
		return b
	case 6:
		if k := bytes.Index(b, []byte(`\u00`)); k >= 0 && k+5 < len(b) {
			b[k+5] = byte(unicode.ToUpper(rune(b[k+5])))
		}
		return b
	}
	return append(b, pick()...)
}

package main

// Generated JSON texts for canonical JSON and signing: valid JSON most of the time, with the
// tricky spellings (escapes, surrogates, number forms, duplicate keys, whitespace, depth) the
// two sides may read or write differently.

import (
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// strPieces are pieces of string literals (inside the quotes), valid JSON unless marked.
var strPieces = []string{
	"a", "hello world", "é", "日本語", "😀", "\U0010FFFF", "\uffff", "\ufeff", "\ue000", "<>&",
	`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u0000`, `\u001F`, `\u001f`, `\u000B`, `\u007f`, "\x7f",
	`\u0041`, `\u00e9`, `\u00E9`, `\u003c`, `\u2028`, `\u2029`, "\u2028", "\u2029", `\uFEFF`, `\uffff`,
	`\uD83D\uDE00`, `\ud83d\ude00`, `\uDBFF\uDFFF`, `\ud800\udc00`, `\uE000`,
}

// surrogatePieces hold unpaired surrogate escapes (valid JSON, no Unicode meaning).
var surrogatePieces = []string{`\ud800`, `\udc00`, `\uDFFF`, `\udc00\ud800`, `\ud800\u0041`, `\ud83d\n`, `\ud800\ud800`}

// badStrPieces make the literal invalid JSON or invalid UTF-8.
var badStrPieces = []string{"\x01", "\t", "\n", "\xff", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", `\x41`, `\u12`, `\'`, `\U0041`}

// keyPieces are object keys chosen to stress ordering (code point order beyond the BMP,
// escape-equivalent spellings) and duplicates.
var keyPieces = []string{
	"a", "b", "A", "B", "", "aa", `a\"`, "a#", "é", `\u00e9`, "\uffff", "😀", `\ud83d\ude00`, `\uD83D\uDE00`, "\ue000",
	"\U0010FFFF", `\u0061`, `a\u0000`, "signatures", "unsigned", "content", "日", "本", "\u2028", "z", "\x7f",
}

// goodNumbers are JSON numbers; intNumbers are those in grammar form (no fraction, no exponent).
var intNumbers = []string{
	"0", "-0", "1", "-1", "42", "9007199254740991", "-9007199254740991", "9007199254740992", "-9007199254740992",
	"9007199254740993", "18446744073709551616", "-9223372036854775809", "123456789012345678901234567890",
	"1700000000000",
}

var floatNumbers = []string{
	"1.0", "-1.0", "1.5", "-0.5", "0.1", "1.50", "0.0", "-0.0", "1e10", "1E10", "1e+2", "1e-2", "1E2", "2E0",
	"0e0", "-0e5", "1e16", "1e22", "1e-5", "0.1e1", "100e-2", "1.25e2", "9007199254740993.0", "9007199254740991.0",
	"1e400", "-1e400", "2.5e-400", "123456789.123456789e5", "1.7976931348623157e308", "5e-324", "1e-7", "12345.678",
}

var badNumbers = []string{"01", "+1", ".5", "1.", "-", "1e", "NaN", "Infinity", "-Infinity", "0x10", "-01", "1.e2"}

var wsGood = []string{"", "", "", "", " ", "\n", "\t", "\r\n  ", "  "}
var wsBad = []string{"\f", "\v", "\u00a0", "\ufeff"}

// jgen writes random JSON texts. bad is the chance, in thousandths, of each invalid feature.
type jgen struct {
	r   *rand.Rand
	bad int
	// floats and surrogates allow those features (valid JSON the two sides read differently).
	floats, surrogates, dups bool
}

func (g *jgen) chance(permille int) bool { return g.r.Intn(1000) < permille }

func (g *jgen) ws() string {
	if g.chance(g.bad / 4) {
		return difftool.Pick(g.r, wsBad...)
	}
	return difftool.Pick(g.r, wsGood...)
}

func (g *jgen) strBody() string {
	var b strings.Builder
	for i := g.r.Intn(4); i >= 0; i-- {
		switch {
		case g.chance(g.bad / 2):
			b.WriteString(difftool.Pick(g.r, badStrPieces...))
		case g.surrogates && g.chance(40):
			b.WriteString(difftool.Pick(g.r, surrogatePieces...))
		default:
			b.WriteString(difftool.Pick(g.r, strPieces...))
		}
	}
	return b.String()
}

func (g *jgen) key() string {
	if g.r.Intn(3) == 0 {
		return `"` + g.strBody() + `"`
	}
	k := difftool.Pick(g.r, keyPieces...)
	if g.surrogates && g.chance(30) {
		k += difftool.Pick(g.r, surrogatePieces...)
	}
	return `"` + k + `"`
}

func (g *jgen) number() string {
	switch {
	case g.chance(g.bad / 2):
		return difftool.Pick(g.r, badNumbers...)
	case g.floats && g.r.Intn(3) == 0:
		return difftool.Pick(g.r, floatNumbers...)
	case g.chance(3):
		return strings.Repeat("9", 4290+g.r.Intn(20)) // around Python's 4300-digit limit
	}
	return difftool.Pick(g.r, intNumbers...)
}

func (g *jgen) value(depth int) string {
	k := g.r.Intn(12)
	if depth <= 0 && k >= 8 {
		k = g.r.Intn(8)
	}
	switch {
	case k < 3:
		return `"` + g.strBody() + `"`
	case k < 5:
		return g.number()
	case k == 5:
		if g.chance(g.bad / 2) {
			return difftool.Pick(g.r, "True", "nul", "'x'", "undefined")
		}
		return difftool.Pick(g.r, "true", "false", "null")
	case k < 8 && depth > 0:
		return g.array(depth - 1)
	case k < 8:
		return `""`
	default:
		return g.object(depth - 1)
	}
}

func (g *jgen) array(depth int) string {
	n := g.r.Intn(4)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = g.ws() + g.value(depth) + g.ws()
	}
	s := "[" + strings.Join(parts, ",") + g.ws() + "]"
	if n > 0 && g.chance(g.bad/4) {
		s = "[" + strings.Join(parts, ",") + ",]"
	}
	return s
}

func (g *jgen) object(depth int) string {
	n := g.r.Intn(5)
	parts := make([]string, 0, n+1)
	keys := make([]string, 0, n+1)
	for i := 0; i < n; i++ {
		k := g.key()
		keys = append(keys, k)
		parts = append(parts, g.ws()+k+g.ws()+":"+g.ws()+g.value(depth)+g.ws())
	}
	if g.dups && n > 0 && g.chance(60) {
		// A duplicate: the same spelling, or an escape-equivalent one.
		k := difftool.Pick(g.r, keys...)
		if k == `"a"` && g.r.Intn(2) == 0 {
			k = `"\u0061"`
		} else if k == `"é"` {
			k = `"\u00e9"`
		}
		parts = append(parts, k+":"+g.value(depth))
	}
	g.r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + g.ws() + strings.Join(parts, ",") + g.ws() + "}"
}

// deepDepths are nesting depths around roomproto's limit (127) and Python's (about 1000).
var deepDepths = []int{100, 126, 127, 128, 129, 300, 900, 990, 1100, 3000}

// doc returns one generated text: mostly an object, sometimes another value, deeply nested or
// with something around it.
func (g *jgen) doc() string {
	var s string
	switch k := g.r.Intn(100); {
	case k < 3:
		d := difftool.Pick(g.r, deepDepths...)
		if g.r.Intn(2) == 0 {
			s = strings.Repeat("[", d) + g.value(1) + strings.Repeat("]", d)
		} else {
			s = strings.Repeat(`{"a":`, d) + g.value(1) + strings.Repeat("}", d)
		}
	case k < 10:
		s = g.value(3)
	default:
		s = g.object(1 + g.r.Intn(3))
	}
	switch {
	case g.chance(g.bad / 4):
		s = "\ufeff" + s
	case g.chance(g.bad / 4):
		s += difftool.Pick(g.r, "x", "}", " {}", "//")
	}
	return g.ws() + s + g.ws()
}

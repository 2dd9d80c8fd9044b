package main

import (
	"fmt"
	"math/rand"
	"strings"
	"unicode/utf16"
)

// jv is a JSON value written by this generator: jobj (ordered members, duplicates allowed),
// jarr, jstr, or jlit (a literal written as it is: numbers, true, false, null).
type jv any

type kv struct {
	k string
	v jv
}

type jobj []kv
type jarr []jv
type jstr string
type jlit string

// style says how a value is written: canonical, or with spaces and escapes a canonical encoder
// removes.
type style struct {
	r      *rand.Rand
	spaces bool
	escape bool
	shuf   bool
}

var strPool = []string{"a", "b", "one", "two", "Two", "body", "é", "日本", "😀", "x y", "/", "<&>",
	"\"q\"", "back\\slash", "\x00", "\x1f", "\x7f", "\u2028", "tab\t", "line\n", "", "signatures",
	"unsigned", "ed25519:1", "content", "hashes", "\u00e9\u0301", "\ufeff", "A"}

func (g *gen) str() string {
	n := 1 + g.r.Intn(3)
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(difftoolPick(g.r, strPool))
	}
	return b.String()
}

func difftoolPick(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

var intPool = []string{"0", "1", "-1", "42", "1000000", "9007199254740991", "-9007199254740991"}
var oddNumPool = []string{"9007199254740992", "-9007199254740992", "123456789012345678901234567890",
	"1.5", "2.0", "1e3", "1E10", "-0", "0.1", "-2.5e-3"}

// value draws a JSON value; odd numbers (floats, -0, big integers) only when odd.
func (g *gen) value(depth int, odd bool) jv {
	k := g.r.Intn(12)
	if depth > 2 && k < 4 {
		k += 4
	}
	switch {
	case k < 2:
		return g.object(depth+1, odd)
	case k < 4:
		n := g.r.Intn(4)
		a := jarr{}
		for i := 0; i < n; i++ {
			a = append(a, g.value(depth+1, odd))
		}
		return a
	case k < 7:
		return jstr(g.str())
	case k < 10:
		if odd && g.r.Intn(4) == 0 {
			return jlit(difftoolPick(g.r, oddNumPool))
		}
		return jlit(difftoolPick(g.r, intPool))
	default:
		return jlit(difftoolPick(g.r, []string{"true", "false", "null"}))
	}
}

// object draws an object whose keys are distinct and none of "signatures", "unsigned".
func (g *gen) object(depth int, odd bool) jobj {
	n := g.r.Intn(5)
	if depth > 2 {
		n = g.r.Intn(2)
	}
	o := jobj{}
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		k := g.str()
		if seen[k] || (depth == 0 && (k == "signatures" || k == "unsigned")) {
			continue
		}
		seen[k] = true
		o = append(o, kv{k, g.value(depth, odd)})
	}
	return o
}

// write encodes v in style s.
func (s style) write(b *strings.Builder, v jv) {
	sp := func() {
		if s.spaces && s.r.Intn(3) == 0 {
			b.WriteString(difftoolPick(s.r, []string{" ", "\n", "\t", "  ", "\r\n"}))
		}
	}
	switch t := v.(type) {
	case jobj:
		order := make([]int, len(t))
		for i := range order {
			order[i] = i
		}
		if s.shuf {
			s.r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		b.WriteByte('{')
		for n, i := range order {
			if n > 0 {
				b.WriteByte(',')
			}
			sp()
			s.writeStr(b, t[i].k)
			sp()
			b.WriteByte(':')
			sp()
			s.write(b, t[i].v)
			sp()
		}
		b.WriteByte('}')
	case jarr:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			sp()
			s.write(b, x)
		}
		b.WriteByte(']')
	case jstr:
		s.writeStr(b, string(t))
	case jlit:
		b.WriteString(string(t))
	case string:
		s.writeStr(b, t)
	default:
		panic(fmt.Sprintf("jsongen: %T", v)) // invariant: only the generator's own types are written
	}
}

func (s style) writeStr(b *strings.Builder, str string) {
	b.WriteByte('"')
	for _, c := range str {
		esc := s.escape && s.r.Intn(4) == 0
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '/' && esc:
			b.WriteString(`\/`)
		case c < 0x20:
			short := map[rune]string{'\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}[c]
			if short != "" && !esc {
				b.WriteString(short)
			} else if s.escape && s.r.Intn(2) == 0 {
				fmt.Fprintf(b, `\u%04X`, c)
			} else {
				fmt.Fprintf(b, `\u%04x`, c)
			}
		case esc && c > 0xFFFF:
			r1, r2 := utf16.EncodeRune(c)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		case esc:
			fmt.Fprintf(b, `\u%04x`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
}

// text writes v canonically (sorted keys, no spaces, minimal escapes) or, one time in three,
// in a non-canonical style.
func (g *gen) text(v jv) string {
	s := style{r: g.r}
	if g.r.Intn(3) == 0 {
		s.spaces, s.escape, s.shuf = g.r.Intn(2) == 0, g.r.Intn(2) == 0, g.r.Intn(2) == 0
	} else {
		v = sortObj(v)
	}
	var b strings.Builder
	s.write(&b, v)
	return b.String()
}

// sortObj sorts the members of every object by key (UTF-16 order differs from code point order
// only above U+FFFF, which the pool's keys reach with "😀" only after other characters).
func sortObj(v jv) jv {
	switch t := v.(type) {
	case jobj:
		o := make(jobj, len(t))
		copy(o, t)
		for i := range o {
			o[i].v = sortObj(o[i].v)
		}
		for i := 1; i < len(o); i++ {
			for j := i; j > 0 && o[j].k < o[j-1].k; j-- {
				o[j], o[j-1] = o[j-1], o[j]
			}
		}
		return o
	case jarr:
		a := make(jarr, len(t))
		for i, x := range t {
			a[i] = sortObj(x)
		}
		return a
	}
	return v
}

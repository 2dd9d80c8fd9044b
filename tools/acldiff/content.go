package main

import (
	"fmt"
	"math/rand"
	"strings"
	"unicode/utf8"
)

// jv is a JSON value as the generator writes it, so that the classifier can rewrite one part
// of a content and write it again.
type jv struct {
	kind  byte   // 'n' null, 'b' boolean, 'f' number, 's' string, 'a' array, 'o' object
	lit   string // the literal of a scalar or of an object
	s     string // a string's value as roomproto decodes it (an unpaired surrogate in WTF-8)
	elems []jv   // an array's elements
}

func jNull() jv          { return jv{kind: 'n', lit: "null"} }
func jBool(b bool) jv    { return jv{kind: 'b', lit: fmt.Sprint(b)} }
func jNum(lit string) jv { return jv{kind: 'f', lit: lit} }
func jObj(lit string) jv { return jv{kind: 'o', lit: lit} }
func jArr(e ...jv) jv    { return jv{kind: 'a', elems: e} }
func jStr(s string) jv   { return jv{kind: 's', s: s, lit: quote(s, nil)} }

func (v jv) render(b *strings.Builder, spaced bool) {
	if v.kind != 'a' {
		b.WriteString(v.lit)
		return
	}
	b.WriteByte('[')
	for i, e := range v.elems {
		if i > 0 {
			b.WriteByte(',')
			if spaced {
				b.WriteByte(' ')
			}
		}
		e.render(b, spaced)
	}
	b.WriteByte(']')
}

func (v jv) clone() jv {
	if v.elems != nil {
		v.elems = append([]jv(nil), v.elems...)
	}
	return v
}

// member is one member of a content object: the key (decoded) and its literal.
type member struct {
	key, klit string
	v         jv
}

// content is an m.room.server_acl content: its members in order, duplicates kept.
type content struct {
	members []member
	spaced  bool // ", " and ": " between tokens
	raw     string
	isRaw   bool // raw holds the whole content (not an object, or not JSON: area parse only)
}

func (c content) String() string {
	if c.isRaw {
		return c.raw
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range c.members {
		if i > 0 {
			b.WriteByte(',')
			if c.spaced {
				b.WriteByte(' ')
			}
		}
		b.WriteString(m.klit)
		b.WriteByte(':')
		if c.spaced {
			b.WriteByte(' ')
		}
		m.v.render(&b, c.spaced)
	}
	b.WriteByte('}')
	return b.String()
}

func (c content) clone() content {
	c.members = append([]member(nil), c.members...)
	for i := range c.members {
		c.members[i].v = c.members[i].v.clone()
	}
	return c
}

// quote writes s as a JSON string literal. The three bytes of an unpaired surrogate in WTF-8
// (ED A0..BF 80..BF) become a \udxxx escape; other bytes that are not UTF-8 become U+FFFD.
// With r, some ASCII characters are written as \u escapes (which must not change the value).
func quote(s string, r *rand.Rand) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		if i+2 < len(s) && s[i] == 0xed && s[i+1] >= 0xa0 && s[i+1] <= 0xbf && s[i+2] >= 0x80 && s[i+2] <= 0xbf {
			cp := 0xd000 | int(s[i+1]&0x3f)<<6 | int(s[i+2]&0x3f)
			fmt.Fprintf(&b, `\u%04x`, cp)
			i += 3
			continue
		}
		c, w := utf8.DecodeRuneInString(s[i:])
		i += w
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		case r != nil && c < 0x80 && r.Intn(8) == 0:
			fmt.Fprintf(&b, `\u%04X`, c)
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

package canonicaljson

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// plain[c] is true for the ASCII bytes that stand for themselves both in JSON
// input and in canonical output: U+0020..U+007F except '"' and '\'.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// plainMask flags, in bit 7 of each byte, the bytes packed in x that end a
// run of plain ASCII string bytes: '"', '\\', a control character below
// U+0020, or a byte of 0x80 and above (the start or continuation of a
// multi-byte UTF-8 sequence, which the callers check apart). Each test is the
// classic "has a zero byte" / "has a byte less than n": (v - 0x01..01) & ^v &
// 0x80..80 is nonzero exactly when v has a zero byte, and its lowest flagged
// byte is exact (higher ones may be false positives after a borrow); and
// (v - 0x21..21) | x has bit 7 of a byte set when the byte of v is below 0x21
// (which wraps) or that of x at least 0x80, exactly for the lowest such byte.
// With v = x ^ 0x02..02, which maps '"' (0x22) to 0x20, the control
// characters to control characters and every other byte below 0x80 to one of
// 0x21 and above, the second test also finds the quotes; the first finds the
// backslashes. A borrow starts only at a byte that is flagged, so the lowest
// flagged byte of the whole mask is exactly the first byte that ends the run.
func plainMask(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	b := x ^ (lo * '\\')
	return ((x ^ (lo * 0x02)) - lo*0x21 | x | (b-lo)&^b) & hi
}

// utf8SeqLen returns the length of the well-formed UTF-8 sequence of two to
// four bytes starting at d[i] (d[i] >= 0x80), or 0 if there is none: overlong
// forms, surrogates (U+D800..U+DFFF), code points above U+10FFFF and
// truncated sequences are not well formed (Unicode table 3-7).
func utf8SeqLen(d []byte, i int) int {
	c := d[i]
	switch {
	case c < 0xc2:
		return 0
	case c < 0xe0:
		if i+1 < len(d) && d[i+1]&0xc0 == 0x80 {
			return 2
		}
		return 0
	case c < 0xf0:
		if i+2 >= len(d) {
			return 0
		}
		c1, c2 := d[i+1], d[i+2]
		lo, hi := byte(0x80), byte(0xbf)
		if c == 0xe0 {
			lo = 0xa0
		} else if c == 0xed {
			hi = 0x9f
		}
		if c1 >= lo && c1 <= hi && c2&0xc0 == 0x80 {
			return 3
		}
		return 0
	case c < 0xf5:
		if i+3 >= len(d) {
			return 0
		}
		c1, c2, c3 := d[i+1], d[i+2], d[i+3]
		lo, hi := byte(0x80), byte(0xbf)
		if c == 0xf0 {
			lo = 0x90
		} else if c == 0xf4 {
			hi = 0x8f
		}
		if c1 >= lo && c1 <= hi && c2&0xc0 == 0x80 && c3&0xc0 == 0x80 {
			return 4
		}
		return 0
	}
	return 0
}

// plainEnd returns the index of the first byte at or after j in d that is a
// stop byte ('"', '\\' or a control character) or not ASCII, or len(d): the
// end of the run of plain string bytes starting at j. It looks at eight bytes
// at a time: the lowest byte flagged in plainMask(x) is exactly the first
// byte that is either such a stop byte or not ASCII.
func plainEnd(d []byte, j int) int {
	for j+8 <= len(d) {
		if m := plainMask(binary.LittleEndian.Uint64(d[j : j+8])); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
		j += 8
	}
	for j < len(d) && d[j] < utf8.RuneSelf && plain[d[j]] {
		j++
	}
	return j
}

// str parses the string literal at p.pos, writing its canonical encoding when
// p.emit. It reports whether the literal contained any escape.
func (p *parser) str(out []byte) (_ []byte, escaped bool, err error) {
	d := p.data
	i := p.pos + 1
	run := p.pos // start of the bytes not yet copied, from the opening quote
	for {
		// Fast path: skip ASCII bytes that are copied as they are (all but
		// '"', '\\' and control characters) eight at a time, as plainEnd
		// does (written out here: plainEnd is too large to inline).
		for i+8 <= len(d) {
			if m := plainMask(binary.LittleEndian.Uint64(d[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(d) {
			p.pos = i
			return out, escaped, p.eof("in string literal")
		}
		c := d[i]
		switch {
		case c >= utf8.RuneSelf:
			// A multi-byte UTF-8 sequence (which holds no stop byte), and
			// the ones that follow it directly.
			for {
				// Two-byte sequences (Latin, Greek, Cyrillic, ...) are
				// checked here; utf8SeqLen takes the others.
				if c := d[i]; c >= 0xc2 && c < 0xe0 && i+1 < len(d) && d[i+1]&0xc0 == 0x80 {
					i += 2
				} else if c >= 0xe1 && c < 0xf0 && c != 0xed && i+2 < len(d) && d[i+1]&0xc0 == 0x80 && d[i+2]&0xc0 == 0x80 {
					// Three bytes (CJK, ...), lead bytes whose second byte
					// may be any continuation byte: not 0xe0 (overlong forms)
					// or 0xed (surrogates), which utf8SeqLen takes.
					i += 3
				} else {
					n := utf8SeqLen(d, i)
					if n == 0 {
						return out, escaped, newError(i, ErrInvalidUTF8, "invalid UTF-8 in string")
					}
					i += n
				}
				if i >= len(d) || d[i] < utf8.RuneSelf {
					break
				}
			}
		case c == '"':
			if p.emit {
				out = append(out, d[run:i+1]...)
			}
			p.pos = i + 1
			return out, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 < len(d) {
				switch d[i+1] {
				case '"', '\\', 'b', 'f', 'n', 'r', 't':
					// Canonical as it is: part of the run.
					i += 2
					continue
				}
			}
			if p.emit {
				out = append(out, d[run:i]...)
			}
			if out, i, err = p.escape(out, i); err != nil {
				return out, escaped, err
			}
			run = i
		case c < 0x20:
			return out, escaped, newError(i, ErrSyntax, "invalid character "+quoteChar(c)+" in string literal (control characters must be escaped)")
		default:
			// Plain ASCII among the last seven bytes of the input.
			i++
		}
	}
}

// escape handles the escape sequence whose backslash is at d[i] and returns
// the offset after it.
func (p *parser) escape(out []byte, i int) ([]byte, int, error) {
	d := p.data
	if i+1 >= len(d) {
		p.pos = len(d)
		return out, i, p.eof("in string escape")
	}
	var r rune
	switch c := d[i+1]; c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		if p.emit {
			switch c {
			case '/':
				out = append(out, '/') // "\/" is a redundant escape
			default:
				out = append(out, '\\', c)
			}
		}
		return out, i + 2, nil
	case 'u':
		var ok bool
		if r, ok = hex4(d, i+2); !ok {
			return out, i, newError(i, ErrSyntax, "invalid \\u escape in string literal")
		}
	default:
		return out, i, newError(i, ErrSyntax, "invalid escape character "+quoteChar(c)+" in string literal")
	}
	next := i + 6
	if r >= 0xd800 && r < 0xe000 {
		if r < 0xdc00 && next+1 < len(d) && d[next] == '\\' && d[next+1] == 'u' {
			if lo, ok := hex4(d, next+2); ok && lo >= 0xdc00 && lo < 0xe000 {
				r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				if p.emit {
					out = utf8.AppendRune(out, r)
				}
				return out, next + 6, nil
			}
		}
		if p.strict {
			return out, i, newError(i, ErrLoneSurrogate, "unpaired surrogate escape \\u"+string(d[i+2:i+6])+" in string literal")
		}
		if p.emit {
			out = append(out, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		}
		return out, next, nil
	}
	if p.emit {
		out = appendRune(out, r)
	}
	return out, next, nil
}

// hex4 decodes the four hex digits at d[i:i+4].
func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	a, b, c, e := hexValue[d[i]], hexValue[d[i+1]], hexValue[d[i+2]], hexValue[d[i+3]]
	if (a|b|c|e)&0x80 != 0 {
		return 0, false
	}
	return rune(a)<<12 | rune(b)<<8 | rune(c)<<4 | rune(e), true
}

// hexValue maps '0'-'9', 'a'-'f' and 'A'-'F' to their values and every other
// byte to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// appendRune appends the canonical encoding of the code point r (not a
// surrogate) inside a string literal: the grammar of "Canonical JSON"
// (appendices) escapes only '"', '\' and U+0000..U+001F, with the short
// escapes where they exist and \u00XX (lowercase) otherwise.
func appendRune(dst []byte, r rune) []byte {
	if r >= 0x20 && r != '"' && r != '\\' {
		if r < utf8.RuneSelf {
			return append(dst, byte(r))
		}
		return utf8.AppendRune(dst, r)
	}
	switch r {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\b':
		return append(dst, '\\', 'b')
	case '\t':
		return append(dst, '\\', 't')
	case '\n':
		return append(dst, '\\', 'n')
	case '\f':
		return append(dst, '\\', 'f')
	case '\r':
		return append(dst, '\\', 'r')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
}

// appendUnescaped appends the decoded contents of a string literal body
// (without its quotes) that str has already validated. An unpaired surrogate
// escape becomes the three-byte generalised UTF-8 (WTF-8) form of the
// surrogate, so that distinct literals decode to distinct bytes and byte order
// stays code point order (for sorting keys).
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		switch e := s[i+1]; e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(s, i+2)
			i += 6
			if r >= 0xd800 && r < 0xe000 {
				if r < 0xdc00 && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if lo, ok := hex4(s, i+2); ok && lo >= 0xdc00 && lo < 0xe000 {
						dst = utf8.AppendRune(dst, 0x10000+(r-0xd800)<<10+(lo-0xdc00))
						i += 6
						continue
					}
				}
				dst = append(dst, byte(0xe0|r>>12), byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
				continue
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
		i += 2
	}
	return dst
}

// AppendString appends to dst the canonical encoding of s as a JSON string
// literal, as "Canonical JSON" (appendices) defines it: '"' and '\' are
// escaped, U+0008, U+0009, U+000A, U+000C and U+000D use their short escapes,
// the other code points below U+0020 use a lowercase \u00XX escape, and every
// other character, including U+007F, U+2028 and U+2029, is written as raw
// UTF-8. Each byte of s that is not part of valid UTF-8 is written as U+FFFD,
// as encoding/json does.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	run := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			dst = append(dst, s[run:i]...)
			dst = appendRune(dst, rune(c))
			i++
			run = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[run:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			run = i
			continue
		}
		i += size
	}
	dst = append(dst, s[run:]...)
	return append(dst, '"')
}

// Unquote decodes the JSON string literal raw (the bytes of the literal,
// including its quotes, optionally surrounded by whitespace) into a Go string.
// It accepts what "Canonical JSON" (appendices) and RFC 8259 accept, with the
// tolerant rules of room versions 1-5: an unpaired surrogate escape such as
// \ud800 becomes the three bytes of its generalised UTF-8 (WTF-8) form, ED A0
// 80, which are not valid UTF-8. So two different literals never decode to the
// same string (U+FFFD in their place would make "\ud800" equal "\ufffd"), and
// a string holding a surrogate fails utf8.ValidString, as a user ID with a
// surrogate must fail validation (appendices "Historical User IDs"). Malformed
// literals, invalid UTF-8 and trailing data are errors.
func Unquote(raw []byte) (string, error) {
	p := parser{data: raw}
	p.skipSpace()
	if p.pos >= len(raw) {
		return "", p.eof("looking for beginning of string")
	}
	if raw[p.pos] != '"' {
		return "", newError(p.pos, ErrSyntax, "invalid character "+quoteChar(raw[p.pos])+" looking for beginning of string")
	}
	start := p.pos
	_, escaped, err := p.str(nil)
	if err != nil {
		return "", err
	}
	end := p.pos
	p.skipSpace()
	if p.pos < len(raw) {
		return "", newError(p.pos, ErrTrailingData, "invalid character "+quoteChar(raw[p.pos])+" after string literal")
	}
	body := raw[start+1 : end-1]
	if !escaped {
		return string(body), nil
	}
	return string(appendUnescaped(make([]byte, 0, len(body)), body)), nil
}

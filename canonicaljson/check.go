package canonicaljson

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Input that is already canonical.
//
// Servers send events in canonical JSON: Synapse encodes its federation
// request bodies with encode_canonical_json, and gomatrixserverlib writes the
// events it builds in canonical form. For such input the canonical form is the input
// itself, and checking that it is takes much less work than writing it anew:
// no member needs to be recorded, since keys in strictly increasing order
// can neither be out of order nor repeat, and nothing is written. Append,
// AppendIndexed and Valid therefore first run the checker below, and only
// when it gives up parse the input in full.
//
// The checker accepts a subset of the canonical texts: one JSON value with no
// whitespace; object keys without escapes, in strictly increasing byte order
// (code point order, as UTF-8 preserves it); strings of well-formed UTF-8
// whose escapes are exactly those canonical JSON writes (\" \\ \b \f \n \r
// \t, and \u00xx in lowercase for the other control characters); integers
// without sign of zero, leading zero, fraction or exponent, within
// ±((2**53)-1); true, false and null; nesting within the limit. For every
// such text both modes of Append return the text unchanged and no error, and
// AppendIndexed records the same Index (FuzzCheckerAgrees). Anything else,
// canonical or not (a key with an escape, say), is left to the parser, whose
// answer is the same either way: the checker changes how fast an answer
// comes, never what it is.

// checker walks data for the fast path. It allocates nothing. Its methods
// take the offset to start at and return the offset after what they checked,
// or -1 when they give up.
type checker struct {
	data     []byte
	depth    int
	maxDepth int
	// index, when not nil, receives the members of the top-level object and
	// of the objects that are its members' values, at their offsets in data
	// plus base (the output starts with base bytes of dst).
	index *Index
	base  int
}

// alreadyCanonical reports whether data is one of the canonical texts the
// checker accepts (see above), nested at most maxDepth deep; maxDepth must be
// an Options.depth() (at most HardMaxDepth), which bounds the recursion as it
// bounds the parser's. When it is and
// idx is not nil, idx holds what AppendIndexed would record for the output
// append(dst, data...) with len(dst) == base; when it is not, idx holds
// nothing of use.
func alreadyCanonical(data []byte, maxDepth int, idx *Index, base int) bool {
	c := checker{data: data, maxDepth: maxDepth, index: idx, base: base}
	return c.value(0, false) == len(data)
}

// value checks the value at d[i]. nested is set for the values of the
// top-level object's members, whose members an Index records.
func (c *checker) value(i int, nested bool) int {
	d := c.data
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '{':
		return c.object(i, nested)
	case '[':
		return c.array(i)
	case '"':
		end, _ := c.str(i + 1)
		return end
	case 't':
		return literal(d, i, "true")
	case 'f':
		return literal(d, i, "false")
	case 'n':
		return literal(d, i, "null")
	default:
		return number(d, i)
	}
}

// literal checks the literal lit (true, false or null) at d[i].
func literal(d []byte, i int, lit string) int {
	if !bytes.HasPrefix(d[i:], []byte(lit)) {
		return -1
	}
	return i + len(lit)
}

// number checks that the value at d[i] (any byte that starts no other kind
// of value) is an integer in canonical form: an optional '-', then 0 or a digit
// run without leading zero, no fraction or exponent, not -0, and at most
// (2**53)-1 in magnitude.
func number(d []byte, i int) int {
	neg := d[i] == '-'
	if neg {
		i++
	}
	if i <= len(d)-8 {
		// Most integers in events are short: up to seven digits in one load.
		if n := digitRun(binary.LittleEndian.Uint64(d[i : i+8])); n > 0 && n < 8 {
			if d[i] == '0' && (n > 1 || neg) {
				return -1
			}
			if b := d[i+n]; b == '.' || b|0x20 == 'e' {
				return -1
			}
			return i + n
		}
	}
	start := i
	// Longer ones (timestamps have 13 digits) eight digits at a time, then
	// byte by byte.
	for i <= len(d)-8 {
		n := digitRun(binary.LittleEndian.Uint64(d[i : i+8]))
		i += n
		if n < 8 {
			break
		}
	}
	for i < len(d) && isDigit(d[i]) {
		i++
	}
	switch digits := d[start:i]; {
	case len(digits) == 0,
		digits[0] == '0' && (len(digits) > 1 || neg),
		!inSafeRange(digits):
		return -1
	}
	if i < len(d) {
		if b := d[i]; b == '.' || b|0x20 == 'e' {
			return -1
		}
	}
	return i
}

// str checks the string literal whose body starts at d[i] (after the opening
// quote). It returns the offset after the closing quote, or -1 if the literal
// is not in the canonical form the checker accepts, and whether it holds an
// escape. Its loops are those of the parser's str, which writes the same
// literal.
func (c *checker) str(i int) (end int, escaped bool) {
	d := c.data
	for {
		// Plain ASCII, eight bytes at a time (plainEnd, written out: it is
		// too large to inline).
		for i <= len(d)-8 {
			if m := plainMask(binary.LittleEndian.Uint64(d[i : i+8])); m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(d) {
			return -1, false
		}
		switch b := d[i]; {
		case b == '"':
			return i + 1, escaped
		case b >= utf8.RuneSelf:
			// A multi-byte UTF-8 sequence and the ones that follow it directly.
			for {
				if b := d[i]; b >= 0xc2 && b < 0xe0 && i+1 < len(d) && d[i+1]&0xc0 == 0x80 {
					i += 2
				} else if b >= 0xe1 && b < 0xf0 && b != 0xed && i+2 < len(d) && d[i+1]&0xc0 == 0x80 && d[i+2]&0xc0 == 0x80 {
					i += 3 // as the parser's str
				} else {
					n := utf8SeqLen(d, i)
					if n == 0 {
						return -1, false
					}
					i += n
				}
				if i >= len(d) || d[i] < utf8.RuneSelf {
					break
				}
			}
		case b == '\\':
			if i+1 >= len(d) {
				return -1, false
			}
			escaped = true
			switch d[i+1] {
			case '"', '\\', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				// Only a control character without a short escape, in lowercase.
				if i+6 > len(d) || d[i+2] != '0' || d[i+3] != '0' || d[i+4] > '1' || d[i+4] < '0' {
					return -1, false
				}
				v := hexValue[d[i+5]]
				if v > 0xf || d[i+5] >= 'A' && d[i+5] <= 'F' {
					return -1, false
				}
				if r := (d[i+4]-'0')<<4 | v; r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t' {
					return -1, false
				}
				i += 6
			default:
				return -1, false
			}
		case b < 0x20:
			// A control character: never canonical, and not JSON.
			return -1, false
		default:
			// Plain ASCII among the last seven bytes of the input.
			i++
		}
	}
}

// array checks the array at d[i] ('[').
func (c *checker) array(i int) int {
	if c.depth++; c.depth > c.maxDepth {
		return -1
	}
	d := c.data
	i++ // '['
	if i < len(d) && d[i] == ']' {
		c.depth--
		return i + 1
	}
	for {
		if i = c.value(i, false); i < 0 || i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i++
		case ']':
			c.depth--
			return i + 1
		default:
			return -1
		}
	}
}

// What the index records of an object's members (see checker.index).
const (
	recordNone   = iota
	recordTop    // the top-level object: each member, with where its own members are
	recordNested // the value of a top-level member: each member
)

// object checks the object at d[i] ('{'): each key without escapes and after
// the one before it, each value canonical. It records the members in the
// index when the object is the top-level one, or, with nested, a value of
// one of its members.
//
// The loop keeps few values live (the previous key as its start alone, the
// index read from c where a member is recorded): with more, Go spills and
// reloads them around the key scan, for every member.
func (c *checker) object(i int, nested bool) int {
	if c.depth++; c.depth > c.maxDepth {
		return -1
	}
	d := c.data
	i++ // '{'
	if i < len(d) && d[i] == '}' {
		c.depth--
		return i + 1
	}
	record := recordNone
	if c.index != nil {
		if c.depth == 1 {
			record = recordTop
		} else if nested {
			record = recordNested
		}
	}
	var prevPrefix uint64
	prevStart := -1 // where the previous key starts (after its quote); -1 before the first
	for {
		if i >= len(d) || d[i] != '"' {
			return -1
		}
		keyStart := i + 1
		// A key of plain ASCII is checked here, eight bytes at a time, as
		// str would check it: no call, so nothing live is spilled around one
		// (objects are mostly such keys). Anything else goes to str.
		keyEnd, escaped := keyStart, false
		for keyEnd <= len(d)-8 {
			if m := plainMask(binary.LittleEndian.Uint64(d[keyEnd : keyEnd+8])); m != 0 {
				keyEnd += bits.TrailingZeros64(m) / 8
				break
			}
			keyEnd += 8
		}
		if keyEnd < len(d) && d[keyEnd] == '"' {
			keyEnd++
		} else {
			keyEnd, escaped = c.str(keyStart)
		}
		// A key with an escape sorts by its unescaped text: the parser's business.
		if keyEnd < 0 || escaped || keyEnd >= len(d) || d[keyEnd] != ':' {
			return -1
		}
		keyEnd-- // the closing quote
		var prefix uint64
		if keyStart <= len(d)-8 {
			prefix = binary.BigEndian.Uint64(d[keyStart : keyStart+8])
			if n := keyEnd - keyStart; n < 8 {
				s := uint(8-n) * 8
				prefix = prefix >> s << s
			}
		} else {
			prefix = keyPrefix(d[keyStart:keyEnd])
		}
		// Strictly after the previous key. Keys hold no NUL byte (it would
		// need an escape), so a key that is a proper prefix of another has the
		// smaller zero-padded prefix, as it sorts first. A larger prefix
		// settles it at once; keyAfter decides the rest.
		if prefix <= prevPrefix && !keyAfter(d, prefix, prevPrefix, prevStart, keyStart, keyEnd) {
			return -1
		}
		prevPrefix, prevStart = prefix, keyStart
		valueOff := keyEnd + 2
		nestedStart := 0
		if record == recordTop {
			nestedStart = len(c.index.Nested)
		}
		// Integers, the usual values of the larger objects of events (the
		// users and events of power levels, often 0), skip the dispatch; one
		// that is not negative, of up to seven digits, is read here as number
		// would read it, but for the byte after it, which the loop requires to
		// be ',' or '}' (so not a fraction or an exponent) as for any value.
		if valueOff <= len(d)-8 && d[valueOff]-'0' <= 9 {
			if n := digitRun(binary.LittleEndian.Uint64(d[valueOff : valueOff+8])); n < 8 {
				if d[valueOff] == '0' && n > 1 {
					return -1
				}
				i = valueOff + n
			} else {
				i = number(d, valueOff)
			}
		} else if valueOff < len(d) && d[valueOff]-'0' <= 9 {
			i = number(d, valueOff)
		} else if valueOff < len(d) && d[valueOff] == '"' {
			i, _ = c.str(valueOff + 1) // as value would, without its dispatch
		} else {
			i = c.value(valueOff, record == recordTop)
		}
		if i < 0 {
			return -1
		}
		switch record {
		case recordTop:
			ix := c.index
			ix.Members = append(ix.Members, Member{Start: c.base + keyStart - 1, Value: c.base + valueOff, End: c.base + i,
				NestedStart: nestedStart, NestedEnd: len(ix.Nested)})
		case recordNested:
			ix := c.index
			ix.Nested = append(ix.Nested, Member{Start: c.base + keyStart - 1, Value: c.base + valueOff, End: c.base + i})
		}
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case ',':
			i++
		case '}':
			c.depth--
			return i + 1
		default:
			return -1
		}
	}
}

// keyAfter reports whether the key d[keyStart:keyEnd], whose prefix (its first
// eight bytes, as keyPrefix packs them) is not above prevPrefix, that of the key
// before it in its object, sorts strictly after that key: when it is the first
// key (prevStart is -1, prevPrefix 0), or the prefixes are the same and so is
// the rest of the order. The key before starts at d[prevStart] and, having no
// escape, ends at the first quote after that.
func keyAfter(d []byte, prefix, prevPrefix uint64, prevStart, keyStart, keyEnd int) bool {
	switch {
	case prevStart < 0:
		return true
	case prefix < prevPrefix:
		return false
	}
	n := bytes.IndexByte(d[prevStart:keyStart], '"')
	if n < 0 {
		return false // invariant: the previous key was checked up to its quote; give up
	}
	return bytes.Compare(d[prevStart:prevStart+n], d[keyStart:keyEnd]) < 0
}

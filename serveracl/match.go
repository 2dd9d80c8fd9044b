package serveracl

import (
	"strings"
	"unicode/utf8"
)

// nameMatcher matches glob-style patterns against one name. The patterns ACLs hold are mostly
// "host.example" and "*.host.example", which it compares directly. Any other pattern is run
// over the set of the name's positions (character indexes 0 to n) that the pattern's prefix
// read so far can end at, a bit set of n+1 bits: a literal character shifts the set by one and
// keeps the positions after that character, `?` shifts it, `*` adds every position after the
// first one. Each step costs n/64 word operations, so a pattern costs time linear in its
// length (for a server name, at most 255 characters, four words a step): the slowest ACL an
// event of the size limit can hold takes about a millisecond per check. A backtracking matcher
// takes time proportional to the name's length times the pattern's, which an ACL of hundreds
// of patterns such as "*aaa…ab*" makes a tenth of a second per check.
type nameMatcher struct {
	name  string
	built bool
	n     int // number of characters of name
	words int // words of a position set: n+1 bits
	// ascii[c] holds, for each ASCII byte c, the set of positions i+1 such that character i
	// of name is c. other holds, for the other characters (keyed by their bytes; nil when
	// name is ASCII), those positions as a list, from which match makes the set when a
	// pattern needs it: the memory stays linear in the name's length whatever its characters.
	ascii [128][]uint64
	other map[string][]int
	store []uint64 // three working sets, then ascii's sets
}

// match reports whether name matches pattern (see Match).
func (m *nameMatcher) match(pattern string) bool {
	name := m.name
	if isPlainASCII(pattern) {
		return name == pattern
	}
	if pattern[0] == '*' && isPlainASCII(pattern[1:]) {
		// An ASCII suffix starts at a character boundary of name wherever it matches.
		return strings.HasSuffix(name, pattern[1:])
	}
	if !m.built {
		m.build()
	}
	w := m.words
	set, next, scratch := m.store[:w], m.store[w:2*w], m.store[2*w:3*w]
	clear(set)
	set[0] = 1 // position 0: nothing read yet
	for i := 0; i < len(pattern); {
		c := pattern[i]
		cw := charWidth(pattern, i)
		switch {
		case c == '*':
			for i < len(pattern) && pattern[i] == '*' {
				i++ // a run of stars is one star
			}
			fillFrom(set, m.n)
			continue
		case c == '?':
			shiftLeft(next, set)
			keep(next, m.n)
		default:
			var mask []uint64
			if c < utf8.RuneSelf {
				mask = m.ascii[c]
			} else if positions := m.other[pattern[i:i+cw]]; positions != nil {
				mask = scratch
				clear(mask)
				for _, p := range positions {
					mask[p/64] |= 1 << (p % 64)
				}
			}
			if mask == nil {
				return false // a character the name does not have
			}
			shiftLeft(next, set)
			for j := range next {
				next[j] &= mask[j]
			}
		}
		i += cw
		set, next = next, set
		if isEmpty(set) {
			return false
		}
	}
	return set[m.n/64]&(1<<(m.n%64)) != 0
}

// build makes the position sets and lists of name's characters.
func (m *nameMatcher) build() {
	m.built = true
	name := m.name
	var seen [128]bool
	distinct := 0 // ASCII characters
	for i := 0; i < len(name); i += charWidth(name, i) {
		m.n++
		if c := name[i]; c < utf8.RuneSelf && !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	w := (m.n + 1 + 63) / 64
	m.words = w
	// The capacity is never exceeded, so the sets made earlier keep sharing the store.
	m.store = make([]uint64, 3*w, (3+distinct)*w)
	pos := 0
	for i := 0; i < len(name); {
		cw := charWidth(name, i)
		pos++ // the character ends at position pos
		if c := name[i]; c < utf8.RuneSelf {
			set := m.ascii[c]
			if set == nil {
				start := len(m.store)
				m.store = m.store[:start+w]
				set = m.store[start : start+w : start+w]
				m.ascii[c] = set
			}
			set[pos/64] |= 1 << (pos % 64)
		} else {
			if m.other == nil {
				m.other = map[string][]int{}
			}
			key := name[i : i+cw]
			m.other[key] = append(m.other[key], pos)
		}
		i += cw
	}
}

// shiftLeft sets dst to src shifted up by one position.
func shiftLeft(dst, src []uint64) {
	var carry uint64
	for j := range src {
		dst[j] = src[j]<<1 | carry
		carry = src[j] >> 63
	}
}

// keep clears the positions above n.
func keep(set []uint64, n int) {
	if r := (n + 1) % 64; r != 0 {
		set[len(set)-1] &= 1<<r - 1
	}
}

// fillFrom adds every position from the lowest in set up to n (a star after a prefix that can
// end at position p can end anywhere from p on). set is not empty.
func fillFrom(set []uint64, n int) {
	for j := range set {
		if set[j] != 0 {
			set[j] |= ^(set[j]&-set[j] - 1) // the lowest bit and every bit above it
			for k := j + 1; k < len(set); k++ {
				set[k] = ^uint64(0)
			}
			keep(set, n)
			return
		}
	}
}

// isEmpty reports whether set holds no position.
func isEmpty(set []uint64) bool {
	for _, w := range set {
		if w != 0 {
			return false
		}
	}
	return true
}

// charWidth returns the length in bytes of the character at s[i]: 1 for ASCII and for a byte
// that does not start a UTF-8 sequence.
func charWidth(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, w := utf8.DecodeRuneInString(s[i:])
	return w
}

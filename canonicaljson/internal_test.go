package canonicaljson

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// firstStopSlow is the byte-by-byte definition plainMask must match: the index
// of the first byte of b that ends a run of plain ASCII string bytes ('"',
// '\\', a control character, or a byte of 0x80 and above), or -1.
func firstStopSlow(b []byte) int {
	for i, c := range b {
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return i
		}
	}
	return -1
}

// checkPlainMask: plainMask flags a byte exactly when b has a byte that ends
// the run, and its lowest flagged byte is the first of them (str relies on
// that).
func checkPlainMask(t *testing.T, b []byte) {
	t.Helper()
	m := plainMask(binary.LittleEndian.Uint64(b))
	first := -1
	if m != 0 {
		first = bits.TrailingZeros64(m) / 8
	}
	if want := firstStopSlow(b); first != want {
		t.Fatalf("plainMask(% x): first flagged byte %d, want %d", b, first, want)
	}
}

func TestPlainMask(t *testing.T) {
	// Every byte value at every position among neighbours of every kind:
	// plain, stops, and bytes with the high bit set.
	for _, fill := range []byte{'a', 0x20, 0x21, 0x7f, 0x80, 0xff, 0xe6, 0x5d, 0x23, 0x00, 0x1f, '"', '\\'} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				b := bytes.Repeat([]byte{fill}, 8)
				b[pos] = byte(c)
				checkPlainMask(t, b)
			}
		}
	}
	// Every pair of byte values at two positions among plain neighbours.
	for c := 0; c < 256; c++ {
		for d := 0; d < 256; d++ {
			b := []byte("abcdefgh")
			b[2], b[5] = byte(c), byte(d)
			checkPlainMask(t, b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1_000_000; i++ {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], r.Uint64())
		checkPlainMask(t, b[:])
	}
}

func TestUTF8SeqLen(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		r, size := utf8.DecodeRune(b)
		want := size
		if r == utf8.RuneError && size == 1 {
			want = 0
		}
		if got := utf8SeqLen(b, 0); got != want {
			t.Fatalf("utf8SeqLen(% x) = %d, want %d", b, got, want)
		}
	}
	for c0 := 0x80; c0 < 0x100; c0++ {
		check([]byte{byte(c0)})
		for c1 := 0; c1 < 0x100; c1++ {
			check([]byte{byte(c0), byte(c1)})
			if c0 >= 0xe0 {
				for _, c2 := range []byte{0x00, 0x41, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xff} {
					check([]byte{byte(c0), byte(c1), c2})
					if c0 >= 0xf0 {
						for _, c3 := range []byte{0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xff} {
							check([]byte{byte(c0), byte(c1), c2, c3})
						}
					}
				}
			}
		}
	}
}

func TestExactSafeInteger(t *testing.T) {
	tests := []struct {
		intPart, frac, exp string
		neg                bool
		want               uint64
		ok                 bool
	}{
		{"1", "", "10", false, 10000000000, true},
		{"1", "5", "1", false, 15, true},
		{"1", "25", "1", false, 0, false},
		{"100", "", "2", true, 1, true},
		{"0", "000", "0", false, 0, true},
		{"9", "007199254740991", "15", false, 1<<53 - 1, true},
		{"9", "007199254740992", "15", false, 0, false},
		{"1", "", "16", false, 0, false},
		{"1", "", "99999999999999999999999", false, 0, false},
		{"1", "", "99999999999999999999999", true, 0, false},
		{"12300", "", "3", true, 0, false},
		{"12300", "", "2", true, 123, true},
	}
	for _, tt := range tests {
		got, ok := exactSafeInteger([]byte(tt.intPart), []byte(tt.frac), []byte(tt.exp), tt.neg)
		if got != tt.want || ok != tt.ok {
			t.Errorf("exactSafeInteger(%s.%se%v%s) = %d, %v; want %d, %v", tt.intPart, tt.frac, map[bool]string{true: "-"}[tt.neg], tt.exp, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKeyPrefixOrder(t *testing.T) {
	keys := [][]byte{nil, {0}, {0, 0}, []byte("a"), []byte("a\x00"), []byte("ab"), []byte("abcdefgh"), []byte("abcdefgh\x00"),
		[]byte("abcdefghi"), []byte("\xef\xbf\xbf"), []byte("\xf0\x9f\x98\x80"), []byte("\xff")}
	for _, a := range keys {
		for _, b := range keys {
			pa, pb := keyPrefix(a), keyPrefix(b)
			if pa != pb && (pa < pb) != (bytes.Compare(a, b) < 0) {
				t.Errorf("prefix order of %q and %q disagrees with byte order", a, b)
			}
		}
	}
}

func TestScratchPoolBounded(t *testing.T) {
	// A huge unsorted object must not leave huge buffers in the pool.
	var b bytes.Buffer
	b.WriteString(`{"z":0`)
	for i := 0; i < 20000; i++ {
		b.WriteString(`,"k`)
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(itoa(i))
		b.WriteString(`":"` + string(bytes.Repeat([]byte("x"), 10)) + `"`)
	}
	b.WriteString(`}`)
	p := parser{data: b.Bytes(), emit: true, track: true, maxDepth: DefaultMaxDepth}
	if _, err := p.top(nil); err != nil {
		t.Fatal(err)
	}
	st := p.st
	p.release()
	if cap(st.tmp) > maxPooled || cap(st.members) > maxPooled/64 || cap(st.keys) > maxPooled {
		t.Errorf("pooled scratch keeps %d/%d/%d bytes", cap(st.tmp), cap(st.members), cap(st.keys))
	}
}

// scanStringSlow is the byte-by-byte definition str must match for string
// literals whose escapes are all canonical as they are or "\/": the canonical
// output, or the offset and sentinel of the first fault.
func scanStringSlow(d []byte) (out []byte, off int, sentinel error) {
	out = []byte{'"'}
	for i := 1; ; {
		if i >= len(d) {
			return nil, len(d), ErrSyntax
		}
		c := d[i]
		switch {
		case c == '"':
			return append(out, '"'), 0, nil
		case c == '\\':
			if i+1 >= len(d) {
				return nil, len(d), ErrSyntax
			}
			if d[i+1] == '/' {
				out = append(out, '/')
			} else {
				out = append(out, c, d[i+1])
			}
			i += 2
		case c < 0x20:
			return nil, i, ErrSyntax
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, i, ErrInvalidUTF8
			}
			out = append(out, d[i:i+n]...)
			i += n
		}
	}
}

// TestStringScanAgainstBytewise runs str over strings made of up to three
// pieces (ASCII, valid and invalid UTF-8, control characters, escapes) at
// every alignment against the eight-byte words it reads, with and without a
// closing quote and with zero to nine bytes after it, and compares output,
// error kind and error offset with scanStringSlow.
func TestStringScanAgainstBytewise(t *testing.T) {
	pieces := []string{"a", "abcdefgh", "é", "日", "😀", "\xff", "\x80", "\xe6\x97", "\xf0\x9f\x98",
		"\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\x01", "\x1f", "\x7f", `\"`, `\n`, `\/`, `\\`}
	var bodies []string
	var build func(prefix string, n int)
	build = func(prefix string, n int) {
		bodies = append(bodies, prefix)
		if n == 0 {
			return
		}
		for _, pc := range pieces {
			build(prefix+pc, n-1)
		}
	}
	build("", 3)
	checked := 0
	for _, body := range bodies {
		for pad := 0; pad < 8; pad++ {
			for _, closed := range []bool{true, false} {
				for after := 0; after < 10; after++ {
					lit := `"` + strings.Repeat("x", pad) + body
					if closed {
						lit += `"`
					}
					data := []byte(lit + strings.Repeat(" ", after))
					want, wantOff, wantErr := scanStringSlow(data)
					p := parser{data: data, emit: true}
					got, _, err := p.str(nil)
					if wantErr == nil {
						if err != nil || !bytes.Equal(got, want) {
							t.Fatalf("str(%q) = %q, %v; want %q", data, got, err, want)
						}
					} else {
						se, ok := err.(*SyntaxError)
						if !ok || se.Err != wantErr || se.Offset != int64(wantOff) {
							t.Fatalf("str(%q) error %v; want %v at offset %d", data, err, wantErr, wantOff)
						}
					}
					checked++
				}
			}
		}
	}
	if checked < 1_000_000 {
		t.Fatalf("checked only %d literals", checked)
	}
}

// TestDigitRun checks digitRun against counting digits byte by byte: every byte value in
// every position among digits, and random words biased towards digits and their neighbours.
func TestDigitRun(t *testing.T) {
	slow := func(b []byte) int {
		for i, c := range b {
			if c < '0' || c > '9' {
				return i
			}
		}
		return len(b)
	}
	check := func(b []byte) {
		t.Helper()
		if got, want := digitRun(binary.LittleEndian.Uint64(b)), slow(b); got != want {
			t.Fatalf("digitRun(%q) = %d, want %d", b, got, want)
		}
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("12345678")
			b[pos] = byte(c)
			check(b)
		}
	}
	rng := rand.New(rand.NewPCG(3, 5))
	pool := []byte("0123456789/:.eE-\x00\xff\x80\xb0\xb9\x3a\x2f\x20\x10\x1a")
	for range 200000 {
		var b [8]byte
		for i := range b {
			b[i] = pool[rng.IntN(len(pool))]
		}
		check(b[:])
	}
}

// TestHex4 checks hex4 against strconv.ParseUint on every value in lower and upper case, and on
// every byte value at every position among valid digits.
func TestHex4(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, err := strconv.ParseUint(s, 16, 16)
		if len(s) != 4 || strings.ContainsAny(s, "+-_xX") {
			err = strconv.ErrSyntax // ParseUint accepts forms hex4 must not
		}
		got, ok := hex4([]byte("\\u"+s), 2)
		if ok != (err == nil) || ok && got != rune(want) {
			t.Fatalf("hex4(%q) = %#x, %v; want %#x, %v", s, got, ok, want, err == nil)
		}
	}
	for v := 0; v < 1<<16; v++ {
		check(fmt.Sprintf("%04x", v))
		check(fmt.Sprintf("%04X", v))
	}
	for pos := 0; pos < 4; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("a0F9")
			b[pos] = byte(c)
			check(string(b))
		}
	}
	if _, ok := hex4([]byte("\\u12"), 2); ok {
		t.Fatal("hex4 accepted a truncated escape")
	}
}

// TestIndexResetBoundsPending: Reset also lets go of the lists AppendIndexed uses on the way,
// which can be long while the index itself is short: under the lenient rules, a key given 40
// times with an object of 50 members leaves one member and 50 nested ones in the index, but all
// 2,000 nested members passed through pending.
func TestIndexResetBoundsPending(t *testing.T) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range 40 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"a":{`)
		for j := range 50 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"k%d":%d`, j, j)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	var ix Index
	if _, err := AppendIndexed(nil, b.Bytes(), Options{}, &ix); err != nil {
		t.Fatal(err)
	}
	if len(ix.Members) != 1 || len(ix.Nested) != 50 || cap(ix.pending) < 2000 {
		t.Fatalf("index of %d members, %d nested, pending capacity %d", len(ix.Members), len(ix.Nested), cap(ix.pending))
	}
	ix.Reset()
	if cap(ix.pending) != 0 || cap(ix.Members) != 0 {
		t.Errorf("after Reset: pending capacity %d, members capacity %d", cap(ix.pending), cap(ix.Members))
	}
}

// TestStringUTF8Paths checks the UTF-8 handling of both string readers (the
// checker's and the parser's, with their inline two- and three-byte cases)
// against utf8.Valid on every three-byte sequence that starts with a lead
// byte of 0xe0..0xef, and on every two-byte sequence, each first in its run of
// non-ASCII bytes and after a two-byte character.
func TestStringUTF8Paths(t *testing.T) {
	opts := Options{Strict: true}
	check := func(seq []byte) {
		for _, prefix := range []string{`"abcdefgh`, `"é`} {
			s := append(append([]byte(prefix), seq...), 'x', '"')
			want := utf8.Valid(s)
			if got := alreadyCanonical(s, opts.depth(), nil, 0); got != want {
				t.Fatalf("checker on % x: %v, want %v", s, got, want)
			}
			_, err := parseAppend(nil, s, opts)
			if (err == nil) != want || err != nil && !errors.Is(err, ErrInvalidUTF8) && !errors.Is(err, ErrSyntax) {
				t.Fatalf("parser on % x: %v, want valid=%v", s, err, want)
			}
		}
	}
	for b0 := 0xc0; b0 < 0xf0; b0++ {
		for b1 := 0; b1 < 0x100; b1++ {
			if b1 == '"' || b1 == '\\' {
				continue // a stop byte: another test
			}
			if b0 < 0xe0 {
				check([]byte{byte(b0), byte(b1)})
				continue
			}
			for b2 := 0; b2 < 0x100; b2++ {
				if b2 != '"' && b2 != '\\' {
					check([]byte{byte(b0), byte(b1), byte(b2)})
				}
			}
		}
	}
}

// TestSkipSpaceRuns checks the whitespace skipping on runs of every length up to 20 (and so at
// every distance from the end of the input) between every token: the output is the compact
// text, and a byte that is not whitespace inside a run (a vertical tab, a NUL) is refused at its
// exact offset.
func TestSkipSpaceRuns(t *testing.T) {
	const want = `{"a":[1,"x"],"b":{}}`
	tokens := []string{"{", `"a"`, ":", "[", "1", ",", `"x"`, "]", ",", `"b"`, ":", "{", "}", "}"}
	for _, lead := range []string{"", "\n", "\r\n", "\t", " \n"} {
		for n := 0; n <= 20; n++ {
			ws := lead + strings.Repeat(" ", n)
			for gap := 0; gap <= len(tokens); gap++ {
				var in strings.Builder
				for i, tok := range tokens {
					if i == gap {
						in.WriteString(ws)
					}
					in.WriteString(tok)
				}
				if gap == len(tokens) {
					in.WriteString(ws)
				}
				got, err := CanonicalStrict([]byte(in.String()))
				if err != nil || string(got) != want {
					t.Fatalf("CanonicalStrict(%q) = %q, %v; want %q", in.String(), got, err, want)
				}
				for _, bad := range []byte{'\v', 0, 0xa0} {
					if n == 0 {
						continue
					}
					pos := len(lead) + n/2
					b := []byte(ws)
					b[pos] = bad
					text := strings.Join(tokens[:min(gap, len(tokens))], "") + string(b) + strings.Join(tokens[min(gap, len(tokens)):], "")
					_, err := CanonicalStrict([]byte(text))
					var se *SyntaxError
					wantOff := int64(len(strings.Join(tokens[:min(gap, len(tokens))], "")) + pos)
					if !errors.As(err, &se) || se.Offset != wantOff {
						t.Fatalf("CanonicalStrict(%q) = %v; want a SyntaxError at offset %d", text, err, wantOff)
					}
				}
			}
		}
	}
}

package canonicaljson

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"slices"
	"sync"

	"github.com/roomproto/roomproto/internal/alias"
)

// Options controls canonicalisation as described in the appendix
// "Canonical JSON" and the room version fragments v1-canonical-json (room
// versions 1-5) and v6-canonical-json (room versions 6 and later).
type Options struct {
	// Strict enforces the restrictions of "Canonical JSON" (appendices), as
	// room versions 6 and later require: integers only, in
	// [-(2**53)+1, (2**53)-1], without fraction, exponent or -0; no duplicate
	// keys; no unpaired surrogate escapes. Without Strict (room versions 1-5,
	// whose servers "MUST NOT strictly enforce" the format) those are
	// tolerated as the package documentation describes.
	Strict bool

	// MaxDepth is the maximum nesting of arrays and objects: [] and {} are
	// depth 1, [[]] is depth 2. Zero or a negative value means
	// DefaultMaxDepth; values above HardMaxDepth mean HardMaxDepth.
	MaxDepth int
}

// DefaultMaxDepth is the nesting limit used when Options.MaxDepth is zero.
// The appendix "Canonical JSON" sets no limit; this one guards against
// hostile input (SECURITY.md, "Limits").
//
// Matrix events are shallow: the deepest structures the spec defines (an
// event's signatures, power level maps, m.relates_to, third-party invites)
// are four to six levels deep, and the 65536-byte PDU limit would otherwise
// allow about 32000 levels. 127 is the most serde_json (ruma, so conduwuit and
// its kin) accepts: its recursion limit of 128 refuses the 128th level. Every
// other decoder homeservers use allows at least that much (Python's recursion
// limit: about 1000; Go's encoding/json: 10000), so no event another server
// accepts is refused here unless ruma refuses it too. The recursion, and so
// the goroutine stack, stays small. A caller can change the limit with
// Options.MaxDepth.
const DefaultMaxDepth = 127

// HardMaxDepth is the largest nesting limit this package honours: a larger
// Options.MaxDepth is treated as HardMaxDepth, so that no input can make the
// recursive parser exhaust the goroutine stack.
const HardMaxDepth = 4096

// Canonical returns the canonical JSON encoding, as defined in "Canonical
// JSON" (appendices), of the JSON value in data, with the tolerant rules of
// room versions 1-5 (fragment v1-canonical-json). It is Append(nil, data,
// Options{}).
func Canonical(data []byte) ([]byte, error) {
	out, err := Append(make([]byte, 0, len(data)), data, Options{})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CanonicalStrict returns the canonical JSON encoding, as defined in
// "Canonical JSON" (appendices), of the JSON value in data, enforcing the
// restrictions that room versions 6 and later require (fragment
// v6-canonical-json). It is Append(nil, data, Options{Strict: true}).
func CanonicalStrict(data []byte) ([]byte, error) {
	out, err := Append(make([]byte, 0, len(data)), data, Options{Strict: true})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Append appends to dst the canonical JSON encoding ("Canonical JSON",
// appendices) of the JSON value in data and returns the extended buffer. The
// value may be of any JSON type and may be surrounded by whitespace. On error
// it returns dst unchanged (its first len(dst) bytes are untouched) and a
// *SyntaxError. dst may share memory with data (Append(buf[:0], buf, opts) canonicalises buf
// in place): the output is then made apart and copied into dst only on success, so that an
// error leaves data as it was.
func Append(dst, data []byte, opts Options) ([]byte, error) {
	if alreadyCanonical(data, opts.depth(), nil, 0) {
		return append(dst, data...), nil
	}
	if alias.SpareOverlaps(dst, data) {
		out, err := parseAppend(make([]byte, 0, len(data)), data, opts)
		if err != nil {
			return dst, err
		}
		return append(dst, out...), nil
	}
	return parseAppend(dst, data, opts)
}

// parseAppend is Append without the fast path for canonical input: the
// parser, which handles every input.
func parseAppend(dst, data []byte, opts Options) ([]byte, error) {
	p := parser{data: data, emit: true, track: true, strict: opts.Strict, maxDepth: opts.depth()}
	out, err := p.top(dst)
	p.release()
	if err != nil {
		return dst, err
	}
	return out, nil
}

// Valid reports whether data holds one JSON value that can be canonicalised
// under opts ("Canonical JSON", appendices; strict for room versions 6+),
// with the same verdict and error as Append but without building the output:
// it allocates only the error it returns.
func Valid(data []byte, opts Options) error {
	if alreadyCanonical(data, opts.depth(), nil, 0) {
		return nil
	}
	return parseValid(data, opts)
}

// parseValid is Valid without the fast path for canonical input.
func parseValid(data []byte, opts Options) error {
	p := parser{data: data, strict: opts.Strict, maxDepth: opts.depth()}
	// Without output, member spans are only needed to find duplicate keys.
	p.track = opts.Strict
	_, err := p.top(nil)
	p.release()
	return err
}

// Marshal returns the canonical JSON encoding ("Canonical JSON", appendices)
// of v. It encodes v with encoding/json and canonicalises the result with the
// strict rules, so that every output is valid in every room version: a
// float64 holding an integer in range encodes as that integer, while a
// fraction or exponent (1.5, 1e+21), -0, an integer outside
// [-(2**53)+1, (2**53)-1] (an int64 of 2**53, say) or a json.RawMessage that
// breaks the strict rules is a *SyntaxError (its offset is into the
// encoding/json output). A value encoding/json cannot encode gives
// encoding/json's error. To encode values outside those rules for room
// versions 1-5, call json.Marshal and then Canonical.
func Marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return CanonicalStrict(b)
}

func (o Options) depth() int {
	switch {
	case o.MaxDepth <= 0:
		return DefaultMaxDepth
	case o.MaxDepth > HardMaxDepth:
		return HardMaxDepth
	}
	return o.MaxDepth
}

// member is one object member seen by the parser: where its unescaped key is
// and where its canonical "key":value text starts and ends in the output.
type member struct {
	keyStart, keyEnd int  // unescaped key: data[keyStart:keyEnd], or scratch.keys[...] when inKeys
	inKeys           bool // the key had escapes and was unescaped into scratch.keys
	inOff            int  // input offset of the key's opening quote (for errors)
	outStart, outEnd int  // "key":value in the output
	outValue         int  // where the value starts in the output
}

// sortEntry is what reorder sorts: small, so that moving it is cheap.
type sortEntry struct {
	prefix uint64 // the key's first eight bytes, big-endian, zero-padded
	idx    int    // index of the member in the object, i.e. input order
}

// scratch is per-call working memory, reused through scratchPool.
type scratch struct {
	members []member    // a stack: each open object owns a suffix
	prefix  []uint64    // members[i]'s key prefix, same stack
	keys    []byte      // unescaped keys that had escapes, also a stack
	order   []sortEntry // reorder's permutation
	tmp     []byte      // copy of an object body while its members are reordered
	// dropped is set by reorder when it left out a superseded duplicate (lenient mode), so
	// that indexObject looks for them only then.
	dropped bool
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooled bounds the buffers kept in scratchPool so that one huge input
// does not pin memory for the life of the process.
const maxPooled = 1 << 16

// parser is the state of one call. The output buffer is passed through the
// parsing functions and returned rather than kept here, so that appending
// to it writes only to the stack.
type parser struct {
	data     []byte
	pos      int
	emit     bool // write output (otherwise out stays nil)
	track    bool // record object members (to sort them or find duplicates)
	strict   bool
	maxDepth int
	depth    int
	st       *scratch
	// index, when not nil, receives the members of the top-level object and,
	// when nested is set (the top-level value is an object), those of the
	// objects at depth 2 (AppendIndexed).
	index  *Index
	nested bool
	// inputOrder leaves the objects index records in input order when their
	// keys are distinct (AppendIndexedUnsorted).
	inputOrder bool
}

func (p *parser) scratch() *scratch {
	if p.st == nil {
		p.st = scratchPool.Get().(*scratch)
	}
	return p.st
}

func (p *parser) release() {
	st := p.st
	if st == nil {
		return
	}
	p.st = nil
	if cap(st.tmp) > maxPooled {
		st.tmp = nil
	}
	if cap(st.keys) > maxPooled {
		st.keys = nil
	}
	if cap(st.members) > maxPooled/64 {
		st.members, st.prefix, st.order = nil, nil, nil
	}
	st.members, st.prefix, st.keys, st.order, st.tmp = st.members[:0], st.prefix[:0], st.keys[:0], st.order[:0], st.tmp[:0]
	scratchPool.Put(st)
}

func (p *parser) top(out []byte) ([]byte, error) {
	p.skipSpace()
	out, err := p.value(out)
	if err != nil {
		return out, err
	}
	return out, p.end()
}

// isSpace reports JSON's insignificant whitespace (RFC 8259 section 2).
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func (p *parser) skipSpace() {
	d, i := p.data, p.pos
	// Every whitespace byte is at most ' ', so one comparison settles the
	// bytes that are not (the usual case: canonical input has none).
	for i < len(d) && d[i] <= ' ' && isSpace(d[i]) {
		i++
	}
	p.pos = i
}

// skipIndent skips where indented JSON text has a newline and a run of spaces
// (after a comma or an opening bracket) the newline and up to eight spaces in one step: the first
// byte of x ^ "        " that is not zero is the first that is not a space.
// skipSpace takes what whitespace is left.
func (p *parser) skipIndent() {
	const spaces = 0x2020202020202020
	if i := p.pos; i+9 <= len(p.data) && p.data[i] == '\n' {
		x := binary.LittleEndian.Uint64(p.data[i+1:i+9]) ^ spaces
		p.pos = i + 1 + bits.TrailingZeros64(x)/8
	}
}

func (p *parser) eof(what string) error {
	return newError(p.pos, ErrSyntax, "unexpected end of input "+what)
}

// value parses the value starting at p.pos (whitespace already skipped).
func (p *parser) value(out []byte) ([]byte, error) {
	if p.pos >= len(p.data) {
		return out, p.eof("looking for beginning of value")
	}
	switch c := p.data[p.pos]; c {
	case '{':
		return p.object(out)
	case '[':
		return p.array(out)
	case '"':
		out, _, err := p.str(out)
		return out, err
	case 't':
		return p.literal(out, "true")
	case 'f':
		return p.literal(out, "false")
	case 'n':
		return p.literal(out, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number(out)
		}
		return out, newError(p.pos, ErrSyntax, "invalid character "+quoteChar(c)+" looking for beginning of value")
	}
}

func (p *parser) literal(out []byte, lit string) ([]byte, error) {
	d := p.data[p.pos:]
	for i := 0; i < len(lit); i++ {
		if i >= len(d) {
			p.pos += i
			return out, p.eof("in literal " + lit)
		}
		if d[i] != lit[i] {
			return out, newError(p.pos+i, ErrSyntax, "invalid character "+quoteChar(d[i])+" in literal "+lit)
		}
	}
	if p.emit {
		out = append(out, lit...)
	}
	p.pos += len(lit)
	return out, nil
}

func (p *parser) array(out []byte) ([]byte, error) {
	if p.depth++; p.depth > p.maxDepth {
		return out, newError(p.pos, ErrTooDeep, "array nested deeper than the limit of "+itoa(p.maxDepth))
	}
	p.pos++ // '['
	if p.emit {
		out = append(out, '[')
	}
	p.skipIndent()
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		if p.emit {
			out = append(out, ']')
		}
		p.depth--
		return out, nil
	}
	for {
		var err error
		if out, err = p.value(out); err != nil {
			return out, err
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return out, p.eof("after array element")
		}
		switch c := p.data[p.pos]; c {
		case ',':
			p.pos++
			if p.emit {
				out = append(out, ',')
			}
			p.skipIndent()
			p.skipSpace()
		case ']':
			p.pos++
			if p.emit {
				out = append(out, ']')
			}
			p.depth--
			return out, nil
		default:
			return out, newError(p.pos, ErrSyntax, "invalid character "+quoteChar(c)+" after array element")
		}
	}
}

func (p *parser) object(out []byte) ([]byte, error) {
	if p.depth++; p.depth > p.maxDepth {
		return out, newError(p.pos, ErrTooDeep, "object nested deeper than the limit of "+itoa(p.maxDepth))
	}
	p.pos++ // '{'
	if p.emit {
		out = append(out, '{')
	}
	bodyStart := len(out)
	p.skipIndent()
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		if p.emit {
			out = append(out, '}')
		}
		p.depth--
		return out, nil
	}
	var st *scratch
	var base, keysBase int
	if p.track {
		st = p.scratch()
		base, keysBase = len(st.members), len(st.keys)
	}
	sorted := true
	var prevPrefix uint64
	n := 0
	for {
		if p.pos >= len(p.data) {
			return out, p.eof("looking for object key")
		}
		if p.data[p.pos] != '"' {
			return out, newError(p.pos, ErrSyntax, "invalid character "+quoteChar(p.data[p.pos])+" looking for beginning of object key string")
		}
		if n > 0 && p.emit {
			out = append(out, ',')
		}
		// The member's fields are kept in scalars and stored one by one into
		// its slot: a member struct kept across the calls below (or a
		// composite literal) is built on the stack field by field and then
		// copied in 16-byte moves, which stall on store forwarding.
		inOff, outStart := p.pos, len(out)
		keyStart, keyEnd := p.pos+1, 0
		var escaped bool
		var err error
		if j := plainEnd(p.data, keyStart); j+1 < len(p.data) && p.data[j] == '"' && p.data[j+1] == ':' {
			// Fast path: a key of plain ASCII bytes (no escape, no control
			// character, nothing to check as UTF-8) with the colon right
			// after it, written as it is with the colon. str would write the
			// same.
			if p.emit {
				out = append(out, p.data[inOff:j+2]...)
			}
			keyEnd = j
			p.pos = j + 2
		} else {
			if out, escaped, err = p.str(out); err != nil {
				return out, err
			}
			keyEnd = p.pos - 1
			p.skipSpace()
			if p.pos >= len(p.data) {
				return out, p.eof("after object key")
			}
			if p.data[p.pos] != ':' {
				return out, newError(p.pos, ErrSyntax, "invalid character "+quoteChar(p.data[p.pos])+" after object key")
			}
			p.pos++
			if p.emit {
				out = append(out, ':')
			}
		}
		var prefix uint64
		if p.track {
			if escaped {
				keyStart = len(st.keys)
				st.keys = appendUnescaped(st.keys, p.data[inOff+1:keyEnd])
				keyEnd = len(st.keys)
				prefix = keyPrefix(st.keys[keyStart:keyEnd])
			} else if keyStart+8 <= len(p.data) {
				// The eight bytes from the key's start, those after its end
				// shifted out: keyPrefix without its byte loop.
				prefix = binary.BigEndian.Uint64(p.data[keyStart : keyStart+8])
				if n := keyEnd - keyStart; n < 8 {
					s := uint(8-n) * 8
					prefix = prefix >> s << s
				}
			} else {
				prefix = keyPrefix(p.data[keyStart:keyEnd])
			}
		}
		p.skipSpace()
		outValue := len(out)
		// Integers, the usual values of the larger objects of events,
		// skip the dispatch.
		if d, i := p.data, p.pos; i+8 <= len(d) && d[i]-'0' <= 9 {
			// number's fast path, inline: a non-negative integer of at
			// most 7 digits without a leading zero that no fraction or
			// exponent follows.
			if n := digitRun(binary.LittleEndian.Uint64(d[i : i+8])); n < 8 && (d[i] != '0' || n == 1) && d[i+n] != '.' && d[i+n]|0x20 != 'e' {
				if p.pos = i + n; p.emit && n == 1 {
					out = append(out, d[i]) // no copy call
				} else if p.emit {
					out = append(out, d[i:i+n]...)
				}
			} else {
				out, err = p.number(out)
			}
		} else if p.pos < len(p.data) && p.data[p.pos]-'0' <= 9 {
			out, err = p.number(out)
		} else {
			out, err = p.value(out)
		}
		if err != nil {
			return out, err
		}
		if p.track {
			if len(st.members) == cap(st.members) {
				st.members = slices.Grow(st.members, 1)
			}
			st.members = st.members[:len(st.members)+1]
			m := &st.members[len(st.members)-1] // every field is set below
			m.keyStart, m.keyEnd, m.inKeys = keyStart, keyEnd, escaped
			m.inOff, m.outStart, m.outEnd, m.outValue = inOff, outStart, len(out), outValue
			st.prefix = append(st.prefix, prefix)
			// Still in order? Compare with the previous key: by prefix, and
			// only when the prefixes are equal by the whole key.
			if sorted && n > 0 && (prefix < prevPrefix ||
				prefix == prevPrefix && bytes.Compare(p.key(&st.members[len(st.members)-2]), p.key(&st.members[len(st.members)-1])) >= 0) {
				sorted = false
			}
			prevPrefix = prefix
		}
		n++
		p.skipSpace()
		if p.pos >= len(p.data) {
			return out, p.eof("after object key:value pair")
		}
		c := p.data[p.pos]
		if c == ',' {
			p.pos++
			p.skipIndent()
			p.skipSpace()
			continue
		}
		if c != '}' {
			return out, newError(p.pos, ErrSyntax, "invalid character "+quoteChar(c)+" after object key:value pair")
		}
		p.pos++
		break
	}
	if p.track {
		indexed := p.index != nil && (p.depth == 1 || p.depth == 2 && p.nested)
		if !sorted && indexed && p.inputOrder && p.distinctKeys(base) {
			sorted = true // left as it is: the index records input order
			p.index.unsorted = true
		}
		if !sorted {
			var err error
			if out, err = p.reorder(out, base, bodyStart); err != nil {
				return out, err
			}
		}
		if indexed {
			p.indexObject(out, base, bodyStart, !sorted)
		}
		st.members = st.members[:base]
		st.prefix = st.prefix[:base]
		st.keys = st.keys[:keysBase]
	}
	if p.emit {
		out = append(out, '}')
	}
	p.depth--
	return out, nil
}

// key returns the unescaped key of m, as UTF-8 (WTF-8 for lone surrogates),
// whose byte order is Unicode code point order.
func (p *parser) key(m *member) []byte {
	if m.inKeys {
		return p.st.keys[m.keyStart:m.keyEnd]
	}
	return p.data[m.keyStart:m.keyEnd]
}

// keyPrefix packs the first eight bytes of k, big-endian and zero-padded, so
// that comparing prefixes as integers agrees with comparing keys byte-wise
// whenever the prefixes differ.
func keyPrefix(k []byte) uint64 {
	if len(k) >= 8 {
		return binary.BigEndian.Uint64(k)
	}
	var x uint64
	for i := 0; i < 8; i++ {
		x <<= 8
		if i < len(k) {
			x |= uint64(k[i])
		}
	}
	return x
}

// reorder sorts the members of the object whose body starts at bodyStart in
// the output (its members are st.members[base:]), settles duplicate keys and
// rewrites the body in key order.
func (p *parser) reorder(out []byte, base, bodyStart int) ([]byte, error) {
	st := p.st
	ms := st.members[base:]
	// order is sized once and filled in place, and the insertion sort
	// below loads each entry it passes once: appends and a loop condition
	// that indexed order[j-1] twice cost about 2% of the instructions
	// Append executes on an indented event (BENCHMARKS.md, nineteenth).
	prefixes := st.prefix[base:]
	order := slices.Grow(st.order[:0], len(prefixes))[:len(prefixes)]
	for i := range order {
		order[i] = sortEntry{prefix: prefixes[i], idx: i}
	}
	st.order = order
	// Order by key in code point order; equal keys stay in input order.
	cmp := func(a, b sortEntry) int {
		if a.prefix != b.prefix {
			if a.prefix < b.prefix {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(p.key(&ms[a.idx]), p.key(&ms[b.idx])); c != 0 {
			return c
		}
		return a.idx - b.idx
	}
	if len(order) <= 32 {
		// Insertion sort, comparing prefixes inline: an event's objects
		// are small, and most pairs differ in their first eight bytes.
		for i := 1; i < len(order); i++ {
			e := order[i]
			j := i
			for ; j > 0; j-- {
				prev := order[j-1]
				if e.prefix > prev.prefix || e.prefix == prev.prefix && cmp(e, prev) >= 0 {
					break
				}
				order[j] = prev
			}
			order[j] = e
		}
	} else {
		slices.SortFunc(order, cmp)
	}
	if p.emit {
		st.tmp = append(st.tmp[:0], out[bodyStart:]...)
		out = out[:bodyStart]
	}
	first := true
	st.dropped = false
	for i, e := range order {
		m := &ms[e.idx]
		// Equal keys are adjacent, in input order. Strict: refuse. Lenient:
		// keep the last occurrence, as encoding/json and Python's json do.
		// (superseded, written out: it does not inline.)
		if i+1 < len(order) && order[i+1].prefix == e.prefix && bytes.Equal(p.key(m), p.key(&ms[order[i+1].idx])) {
			if p.strict {
				next := &ms[order[i+1].idx]
				return out, newError(next.inOff, ErrDuplicateKey, "duplicate key "+quoteKey(p.key(next))+" in object")
			}
			st.dropped = true
			continue
		}
		if !p.emit {
			continue
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, st.tmp[m.outStart-bodyStart:m.outEnd-bodyStart]...)
	}
	return out, nil
}

// distinctKeys reports whether the object whose members are p.st.members[base:]
// has at most maxInputOrderMembers members and no two of them have the same key.
// Each key's prefix is hashed to one bit of 512: while no two share a bit, no
// two keys are equal, which settles most objects in one pass (an event's 13
// top-level keys share none with probability 0.86). Only when two share one are
// all pairs compared: their prefixes, and the whole keys where those are equal.
func (p *parser) distinctKeys(base int) bool {
	st := p.st
	prefixes := st.prefix[base:]
	if len(prefixes) > maxInputOrderMembers {
		return false
	}
	var seen [8]uint64
	for _, x := range prefixes {
		h := x * 0x9e3779b97f4a7c15 >> 55 // the top 9 bits of Fibonacci hashing
		w, bit := h>>6, uint64(1)<<(h&63)
		if seen[w]&bit != 0 {
			return p.distinctKeysPairwise(base)
		}
		seen[w] |= bit
	}
	return true
}

// distinctKeysPairwise is distinctKeys by comparing every pair of members.
func (p *parser) distinctKeysPairwise(base int) bool {
	st := p.st
	prefixes := st.prefix[base:]
	for i := 1; i < len(prefixes); i++ {
		for j := 0; j < i; j++ {
			if prefixes[i] == prefixes[j] && bytes.Equal(p.key(&st.members[base+i]), p.key(&st.members[base+j])) {
				return false
			}
		}
	}
	return true
}

// superseded reports whether the member order[i] of the members ms, sorted
// by reorder, has the same key as the next one: a duplicate key, of which
// only the last occurrence is written (lenient mode).
func (p *parser) superseded(ms []member, order []sortEntry, i int) bool {
	return i+1 < len(order) && order[i+1].prefix == order[i].prefix && bytes.Equal(p.key(&ms[order[i].idx]), p.key(&ms[order[i+1].idx]))
}

// quoteKey renders a key for an error message, cut to a sensible length.
func quoteKey(k []byte) string {
	const max = 64
	cut := len(k) > max
	if cut {
		k = k[:max]
	}
	s := string(AppendString(nil, string(k)))
	if cut {
		s += "..."
	}
	return s
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

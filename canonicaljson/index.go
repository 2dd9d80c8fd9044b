package canonicaljson

import "github.com/roomproto/roomproto/internal/alias"

// Member locates one member of an object in canonical JSON written by
// AppendIndexed: its text `"key":value` is out[Start:End], where out is the
// slice AppendIndexed returned, and its value is out[Value:End]. The key, as
// written (canonical escapes included, quotes excluded), is
// out[Start+1:Value-2].
type Member struct {
	// Start, Value and End are offsets in out: of the opening quote of the key, of the
	// value's first byte, and just past the value's last byte.
	Start, Value, End int
	// NestedStart and NestedEnd are the range of Index.Nested that holds the members of the value,
	// in output order: Index.Nested[NestedStart:NestedEnd]. It is empty unless
	// the member is one of Index.Members and its value is a non-empty object.
	NestedStart, NestedEnd int
}

// Index is where AppendIndexed records the members of the top-level object
// and of the objects that are the values of those members: for an event, its
// top-level keys and the keys of `content`, `hashes`, `signatures` and
// `unsigned`. Callers that select or remove members of an event (redaction,
// content hashes, parsers) use it to find them without scanning the output
// again. The zero value is ready to use, and an Index can be reused: each
// call overwrites it, keeping its memory. An Index must not be used by two
// calls at once.
type Index struct {
	// Members are the members of the top-level object in output order, which
	// is key order. It is empty when the value is not an object, or is {}.
	Members []Member
	// Nested are the members of the objects that are values of Members,
	// grouped by member in the order of Members, each group in key order.
	Nested []Member

	// pending are the members of the second-level objects as their objects
	// were written, before the top-level object was put in key order, and
	// runs groups them by parent (indexObject).
	pending []Member
	runs    [][2]int
	// unsorted is set when AppendIndexedUnsorted left an object out of key
	// order (Sorted).
	unsorted bool
}

// Sorted reports whether every object in the output idx describes is in key
// order: it is true after AppendIndexed and CanonicalIndexed, and after
// AppendIndexedUnsorted unless that left the top level or one of its members'
// objects out of key order (false is also possible when such an object was
// then dropped as a duplicate key's earlier value, in lenient mode). A caller
// of AppendIndexedUnsorted that needs some of those objects in key order need
// not check them when Sorted is true.
func (idx *Index) Sorted() bool { return !idx.unsorted }

// maxRetainedMembers is the most members, over all of an Index's lists, whose memory Reset keeps:
// an event has a few dozen members at the two levels an Index records.
const maxRetainedMembers = 1024

// Reset empties idx for reuse, as AppendIndexed does, and also lets go of its memory when it
// grew past what events need (room for more than 1,024 members in all, which only a hostile or
// unusual input makes it need), so that an Index kept for reuse, in a sync.Pool say, does not pin the memory of one
// huge input.
func (idx *Index) Reset() {
	// runs has one entry per top-level member, pending one per nested member.
	if max(cap(idx.Members), cap(idx.runs))+max(cap(idx.Nested), cap(idx.pending)) > maxRetainedMembers {
		*idx = Index{}
		return
	}
	idx.Members, idx.Nested, idx.pending, idx.runs, idx.unsorted = idx.Members[:0], idx.Nested[:0], idx.pending[:0], idx.runs[:0], false
}

// Key returns the key of m as written in out (canonical escapes included,
// quotes excluded). Keys made of plain ASCII, as all keys the specification
// defines are, need no escapes and so compare equal to their text.
func (m Member) Key(out []byte) []byte { return out[m.Start+1 : m.Value-2] }

// AppendIndexed is Append that also records in idx where the members of the
// top-level object, and those of the objects that are its members' values,
// are in the returned slice (see Index). Its output and errors are Append's.
// After an error idx holds nothing of use. A nil idx makes it Append.
func AppendIndexed(dst, data []byte, opts Options, idx *Index) ([]byte, error) {
	return appendIndexed(dst, data, opts, idx, false)
}

// appendIndexed is AppendIndexed, or with inputOrder AppendIndexedUnsorted.
func appendIndexed(dst, data []byte, opts Options, idx *Index, inputOrder bool) ([]byte, error) {
	if idx == nil {
		return Append(dst, data, opts)
	}
	idx.Members, idx.Nested, idx.unsorted = idx.Members[:0], idx.Nested[:0], false // the checker appends to them
	if alreadyCanonical(data, opts.depth(), idx, len(dst)) {
		return append(dst, data...), nil
	}
	return appendIndexedParsed(dst, data, opts, idx, inputOrder)
}

// maxInputOrderMembers is the most members an object may have for AppendIndexedUnsorted to
// leave it in input order: in the worst case it looks for duplicate keys by comparing every
// pair of members.
const maxInputOrderMembers = 32

// AppendIndexedUnsorted is [AppendIndexed] for a caller that reads the top-level object, and
// the objects that are the values of its members, only through idx, member by member, as
// redaction does: it may leave the members of those objects in the order the input gives them,
// where AppendIndexed puts them in key order, and so saves sorting them and moving their text.
// Everything else is written as AppendIndexed writes it: every key and every value in canonical
// form, every object deeper down in key order; duplicate keys are refused (strict) or settled
// (lenient: the last occurrence kept), and the errors are AppendIndexed's. idx lists the
// members in output order, which is input order for the objects left unsorted. An object with
// a duplicate key or more than 32 members is written in key order, as is the whole value when
// data is already in canonical form. So the output becomes AppendIndexed's once the members of
// those two levels are put in key order. idx.Sorted reports whether any object was left out of
// key order (an object whose keys came in key order is in key order either way).
func AppendIndexedUnsorted(dst, data []byte, opts Options, idx *Index) ([]byte, error) {
	return appendIndexed(dst, data, opts, idx, true)
}

// appendIndexedParsed is AppendIndexed once the fast check has given up: the
// parser writes the output, leaving the objects the index records in input
// order when inputOrder is set (AppendIndexedUnsorted).
func appendIndexedParsed(dst, data []byte, opts Options, idx *Index, inputOrder bool) ([]byte, error) {
	if alias.SpareOverlaps(dst, data) {
		// As Append: the output is made apart, and the index moved by len(dst).
		out, err := parseAppendIndexedMode(make([]byte, 0, len(data)), data, opts, idx, inputOrder)
		if err != nil {
			return dst, err
		}
		for _, list := range [][]Member{idx.Members, idx.Nested} {
			for i := range list {
				list[i].Start += len(dst)
				list[i].Value += len(dst)
				list[i].End += len(dst)
			}
		}
		return append(dst, out...), nil
	}
	return parseAppendIndexedMode(dst, data, opts, idx, inputOrder)
}

// CanonicalIndexed returns the canonical JSON of data with AppendIndexed's
// index of it in idx, as AppendIndexed(buf, data, opts, idx) does, except
// that when data is already in canonical form, as the fast check for such
// input sees it (see check.go), it returns data itself (same is true) rather
// than a copy of it appended to buf: a caller that keeps data when it is
// canonical then need not copy it, nor compare the copy with data. same is
// false whenever the output was written into buf, which happens for some
// canonical texts too (a key with an escape), so it is no verdict on data.
// Errors are AppendIndexed's. idx must not be nil.
func CanonicalIndexed(buf, data []byte, opts Options, idx *Index) (out []byte, same bool, err error) {
	idx.Members, idx.Nested, idx.unsorted = idx.Members[:0], idx.Nested[:0], false // the checker appends to them
	if alreadyCanonical(data, opts.depth(), idx, 0) {
		return data, true, nil
	}
	out, err = appendIndexedParsed(buf, data, opts, idx, false)
	return out, false, err
}

// parseAppendIndexedMode is AppendIndexed without the fast path for canonical
// input, or with inputOrder AppendIndexedUnsorted without it.
func parseAppendIndexedMode(dst, data []byte, opts Options, idx *Index, inputOrder bool) ([]byte, error) {
	idx.Members, idx.Nested, idx.pending, idx.unsorted = idx.Members[:0], idx.Nested[:0], idx.pending[:0], false
	p := parser{data: data, emit: true, track: true, strict: opts.Strict, maxDepth: opts.depth(), index: idx, inputOrder: inputOrder}
	p.nested = KindOf(data) == Object // objects at depth 2 are then members' values
	out, err := p.top(dst)
	p.release()
	if err != nil {
		idx.Members, idx.Nested, idx.pending, idx.unsorted = idx.Members[:0], idx.Nested[:0], idx.pending[:0], false
		return dst, err
	}
	return out, nil
}

// indexObject records the members of the object just written at depth (1:
// the top level; 2: the value of a top-level member) whose members are
// p.st.members[base:], in output order: that of p.st.order, less the
// superseded duplicates, when reordered; input order otherwise. Their text
// is consecutive from bodyStart, separated by commas.
func (p *parser) indexObject(out []byte, base, bodyStart int, reordered bool) {
	st, ix := p.st, p.index
	ms := st.members[base:]
	n := len(ms)
	if reordered {
		n = len(st.order)
	}
	if p.depth == 2 {
		// The top-level object's members are st.members[0:] (it is the first
		// object), so base is the input index of the member whose value this
		// object is: pending notes it in NestedStart until the top level is
		// indexed.
		pos, written := bodyStart, 0
		for i := 0; i < n; i++ {
			m := &ms[i]
			if reordered {
				if st.dropped && p.superseded(ms, st.order, i) {
					continue
				}
				m = &ms[st.order[i].idx]
			}
			if written++; written > 1 {
				pos++ // ','
			}
			start := pos
			pos += m.outEnd - m.outStart
			ix.pending = append(ix.pending, Member{Start: start, Value: start + m.outValue - m.outStart, End: pos, NestedStart: base})
		}
		return
	}
	// The top level. pending holds the nested members grouped by parent, in
	// input order, at the positions they had before this object was put in
	// key order.
	if !reordered {
		// The members stand where they were written, in input order, as do
		// pending's groups: each group follows its member as it stands.
		k := 0
		for i := range ms {
			m := &ms[i]
			e := Member{Start: m.outStart, Value: m.outValue, End: m.outEnd, NestedStart: len(ix.Nested)}
			for ; k < len(ix.pending) && ix.pending[k].NestedStart == i; k++ {
				c := &ix.pending[k]
				ix.Nested = append(ix.Nested, Member{Start: c.Start, Value: c.Value, End: c.End})
			}
			e.NestedEnd = len(ix.Nested)
			ix.Members = append(ix.Members, e)
		}
		return
	}
	// runs[i] is the group of ms[i].
	runs := ix.runs[:0]
	for range ms {
		runs = append(runs, [2]int{})
	}
	for j := 0; j < len(ix.pending); {
		parent, k := ix.pending[j].NestedStart, j+1
		for k < len(ix.pending) && ix.pending[k].NestedStart == parent {
			k++
		}
		runs[parent] = [2]int{j, k}
		j = k
	}
	ix.runs = runs
	pos, written := bodyStart, 0
	for i := 0; i < n; i++ {
		idx := i
		if reordered {
			if st.dropped && p.superseded(ms, st.order, i) {
				continue
			}
			idx = st.order[i].idx
		}
		m := &ms[idx]
		if written++; written > 1 {
			pos++ // ','
		}
		start := pos
		pos += m.outEnd - m.outStart
		shift := start - m.outStart
		e := Member{Start: start, Value: m.outValue + shift, End: pos, NestedStart: len(ix.Nested)}
		for _, c := range ix.pending[runs[idx][0]:runs[idx][1]] {
			ix.Nested = append(ix.Nested, Member{Start: c.Start + shift, Value: c.Value + shift, End: c.End + shift})
		}
		e.NestedEnd = len(ix.Nested)
		ix.Members = append(ix.Members, e)
	}
}

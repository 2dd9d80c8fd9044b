package claimsg

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// pduGo is the file of the EventBuffer doc comments.
const pduGo = "pdu/pdu.go"

// compareParse parses c with pdu.ParseIndexed and with buf.ParseIndexed (into idx, which may be
// nil or hold anything) and fails unless both give the same: the same error (type, text,
// sentinels, fields), or Events equal in every field (reflect.DeepEqual, unexported fields
// included), Raw() of the same array (data itself, or not), and the same index. It returns
// the buffer's Event and error.
func compareParse(t *testing.T, label string, c input, buf *pdu.EventBuffer, idx *canonicaljson.Index) (*pdu.Event, error) {
	t.Helper()
	var refIdx canonicaljson.Index
	want, werr := pdu.ParseIndexed(c.v, c.data, &refIdx)
	got, gerr := buf.ParseIndexed(c.v, c.data, idx)
	if errKey(werr) != errKey(gerr) {
		t.Fatalf("%s %s: error\n  EventBuffer %s\n  ParseIndexed %s", label, c.name, errKey(gerr), errKey(werr))
	}
	if werr != nil {
		if got != nil {
			t.Fatalf("%s %s: an error and an Event %s", label, c.name, snap(got))
		}
		return got, gerr
	}
	if got == nil || snap(got) != snap(want) || !reflect.DeepEqual(*got, *want) {
		t.Fatalf("%s %s: Event\n  EventBuffer  %s\n  ParseIndexed %s", label, c.name, snap(got), snap(want))
	}
	if sameArray(want.Raw(), c.data) != sameArray(got.Raw(), c.data) {
		t.Fatalf("%s %s: Raw() is the input's array for one and not the other (ParseIndexed: %v)", label, c.name, sameArray(want.Raw(), c.data))
	}
	if idx != nil && (!slices.Equal(idx.Members, refIdx.Members) || !slices.Equal(idx.Nested, refIdx.Nested)) {
		t.Fatalf("%s %s: index\n  EventBuffer  %+v %+v\n  ParseIndexed %+v %+v", label, c.name, idx.Members, idx.Nested, refIdx.Members, refIdx.Nested)
	}
	return got, gerr
}

// TestEventBufferSameResultsAndErrors: "ParseIndexed is [ParseIndexed] (with the same results
// and errors)": over the pdu fixtures (v1-12), the shared corpus in file and wire form, roomgen
// rooms (v8-12), synthetic events of every version with none to 200 signatures and their
// damaged forms, and the zero and a renamed Version; with a zero buffer per event, and with one
// buffer (and one Index) for all of them in four orders, so that every event follows events of
// other sizes, versions and outcomes.
func TestEventBufferSameResultsAndErrors(t *testing.T) {
	claimkit.WantText(t, pduGo, "ParseIndexed is [ParseIndexed] (with the same results and errors) that returns an Event held by b")
	in := allInputs(t)
	var shared pdu.EventBuffer
	var sharedIdx canonicaljson.Index
	accepted, refused, canonical := 0, 0, 0
	kinds := map[string]bool{}
	orders := [][]input{in, reversed(in), shuffled(in, 1), shuffled(in, 2)}
	if raceEnabled { // the race detector slows each call: two orders
		orders = [][]input{in, shuffled(in, 1)}
	}
	for oi, order := range orders {
		for _, c := range order {
			if oi == 0 {
				var fresh pdu.EventBuffer
				ev, err := compareParse(t, "zero buffer", c, &fresh, &canonicaljson.Index{})
				if err != nil {
					refused++
					for _, s := range pduSentinels {
						if errors.Is(err, s) {
							kinds[s.Error()] = true
						}
					}
				} else {
					accepted++
					if sameArray(ev.Raw(), c.data) {
						canonical++
					}
				}
			}
			compareParse(t, fmt.Sprintf("shared buffer, order %d", oi), c, &shared, &sharedIdx)
		}
	}
	t.Logf("%d inputs: %d accepted (%d kept as given), %d refused; error kinds %d", len(in), accepted, canonical, refused, len(kinds))
	// The comparison means something only if both sides are exercised.
	if accepted < 300 || refused < 200 || canonical < 150 || accepted-canonical < 150 || len(kinds) < 14 {
		t.Fatalf("too few cases: %d accepted (%d canonical), %d refused, %d error kinds %v", accepted, canonical, refused, len(kinds), kinds)
	}
}

// reversed returns a reversed copy of in.
func reversed(in []input) []input {
	out := slices.Clone(in)
	slices.Reverse(out)
	return out
}

// seqEvents are events of room version 10 for the reuse sequences: each canonical and indented.
func seqEvents(t *testing.T) (v roomversion.Version, ev map[string][]byte) {
	v = claimkit.Ver(t, "10")
	sh := shapes()
	ev = map[string][]byte{
		"bare":     synth(t, v, sh[0], 1),
		"small":    synth(t, v, sh[1], 2),
		"full":     synth(t, v, sh[2], 3),
		"fifty":    synth(t, v, sh[3], 4),
		"large":    synth(t, v, sh[4], 5),
		"nine":     synth(t, v, sh[5], 6),
		"eight":    synth(t, v, sh[7], 7),
		"unsigned": synth(t, v, shape{prev: 1, auth: 1, sigs: 2, unsigned: M{"age": 1, "x": M{"y": []int{1}}}}, 8),
	}
	for _, k := range slices.Sorted(mapsKeys(ev)) {
		ev[k+" indented"] = indent(t, ev[k])
	}
	ev["bad depth"] = bytes.Replace(ev["small"], []byte(`"depth":`), []byte(`"depth":1.5,"x":`), 1)
	ev["bad sender"] = bytes.Replace(ev["small"], []byte(`"sender":"`), []byte(`"sender":5,"x":"`), 1)
	ev["too large"] = bytes.Replace(ev["small"], []byte(`"content":{`), []byte(`"content":{"big":"`+strings.Repeat("x", pdu.MaxEventSize)+`",`), 1)
	ev["too large indented"] = append([]byte(" "), ev["too large"]...)
	ev["not json"] = []byte(`{"content":`)
	return v, ev
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestEventBufferReuseSequences: the same results as ParseIndexed in the sequences where reused
// memory could show through: a small event after a large one, few references and signatures
// after many, none after some, canonical input after other and back, failures between
// successes; and "its strings may be kept": the strings of every earlier Event, copied out when
// it was returned, still read as that event's after all the calls that followed (when the
// canonical copy they were read from has been overwritten too).
func TestEventBufferReuseSequences(t *testing.T) {
	claimkit.WantText(t, pduGo, "Its strings may be kept (*StateKey too, copied out).")
	v, ev := seqEvents(t)
	seqs := [][]string{
		{"large", "small", "bare", "large", "bare"},
		{"full", "bare", "small", "full", "small"},
		{"fifty", "small", "nine", "eight", "bare", "large", "eight"},
		{"large indented", "small indented", "small", "full indented", "bare indented", "unsigned indented", "bare"},
		{"unsigned", "bare indented", "unsigned indented", "full", "fifty indented", "small indented"},
		{"full", "bad depth", "full", "too large", "small indented", "too large indented", "bare", "not json", "bad sender", "eight indented"},
		{"large indented", "too large indented", "small indented"},
	}
	for si, seq := range seqs {
		var buf pdu.EventBuffer
		var idx canonicaljson.Index
		type kept struct {
			name string
			s    strs
		}
		var keep []kept
		for _, name := range seq {
			data := ev[name]
			if data == nil {
				t.Fatalf("no event %q", name)
			}
			got, err := compareParse(t, fmt.Sprintf("sequence %d", si), input{name, v, data}, &buf, &idx)
			if err == nil {
				keep = append(keep, kept{name, keepStrings(got)})
			}
			for _, k := range keep {
				ref, err := pdu.Parse(v, ev[k.name])
				if err != nil {
					t.Fatal(err)
				}
				if want := keepStrings(ref); want.String() != k.s.String() {
					t.Fatalf("sequence %d: after %s the kept strings of %s read\n  %s\nnot\n  %s", si, name, k.name, k.s, want)
				}
			}
		}
	}
}

// TestEventBufferClearedFirst: "The Event b held before is cleared first, also when the call
// fails": after a failed call the Event the previous call returned is the zero Event, whatever
// the failure (the version check, the size limit before and after canonicalisation, the JSON,
// a field), and the call returns no Event.
func TestEventBufferClearedFirst(t *testing.T) {
	claimkit.WantText(t, pduGo, "The Event b held before is cleared first, also when the call fails.")
	v, ev := seqEvents(t)
	fails := map[string]input{
		"zero version":      {"zero version", roomversion.Version{}, ev["small"]},
		"bad depth":         {"bad depth", v, ev["bad depth"]},
		"bad sender":        {"bad sender", v, ev["bad sender"]},
		"too large":         {"too large", v, ev["too large"]},
		"too large spaced":  {"too large spaced", v, ev["too large indented"]},
		"over six times":    {"over six times", v, []byte(`{"content":"` + strings.Repeat("x", 7*pdu.MaxEventSize) + `"}`)},
		"not json":          {"not json", v, ev["not json"]},
		"empty":             {"empty", v, nil},
		"lenient too large": {"lenient too large", claimkit.Ver(t, "3"), []byte(`{"a":[` + strings.Repeat("1e15,", 20000) + `1]}`)},
	}
	n := 0
	for _, name := range slices.Sorted(mapsKeys(fails)) {
		c := fails[name]
		for _, before := range []string{"full", "full indented", "fifty", "unsigned indented"} {
			var buf pdu.EventBuffer
			prev, err := buf.ParseIndexed(v, ev[before], nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := compareParse(t, "after "+before, c, &buf, nil)
			if err == nil {
				t.Fatalf("%s is accepted", name)
			}
			if got != nil || !reflect.DeepEqual(*prev, pdu.Event{}) {
				t.Fatalf("after %s, %s (%v): the previous Event reads %s", before, name, err, snap(prev))
			}
			n++
		}
	}
	if n != 36 {
		t.Fatalf("%d cases", n)
	}
}

// TestEventBufferValidUntilNextCall: the Event "is valid until the next call of ParseIndexed or
// Reset on b, which overwrite it" (README: "valid until buf's next call"): it is one Event,
// returned by every call, which after the next call reads as the next event, and after Reset as
// the zero Event.
func TestEventBufferValidUntilNextCall(t *testing.T) {
	claimkit.WantText(t, pduGo, "it is valid until the next call of ParseIndexed or Reset on b, which overwrite it")
	claimkit.WantText(t, "README.md", "ev, err = buf.ParseIndexed(v, data, &idx) // valid until buf's next call (a verifier's loop)")
	v, ev := seqEvents(t)
	var buf pdu.EventBuffer
	first, err := buf.ParseIndexed(v, ev["full"], nil)
	if err != nil {
		t.Fatal(err)
	}
	firstSnap := snap(first)
	for _, name := range []string{"small", "bare indented", "large", "full"} {
		next, err := buf.ParseIndexed(v, ev[name], nil)
		if err != nil {
			t.Fatal(err)
		}
		if next != first {
			t.Fatalf("%s: a new Event %p, not the buffer's %p", name, next, first)
		}
		ref, _ := pdu.Parse(v, ev[name])
		if snap(first) != snap(ref) {
			t.Fatalf("%s: the earlier Event reads %s", name, snap(first))
		}
	}
	if snap(first) != firstSnap {
		t.Fatal("the last event, the first's again, reads differently")
	}
	buf.Reset()
	if !reflect.DeepEqual(*first, pdu.Event{}) {
		t.Fatalf("after Reset the Event reads %s", snap(first))
	}
}

// TestEventBufferReusesMemory: ParseIndexed "writes the Event into the buffer, reusing the memory
// of the one before: the Event, the arrays of its lists and the canonical copy of an event not
// received in canonical form". The next event's lists start in the earlier event's arrays when
// they fit, and its Raw in the earlier canonical copy; a canonical event's Raw is its input.
func TestEventBufferReusesMemory(t *testing.T) {
	claimkit.WantText(t, pduGo, "reusing the memory of the one before: the Event, the arrays of its lists and the canonical copy of an event not received in canonical form")
	v, ev := seqEvents(t)
	var buf pdu.EventBuffer
	a, _ := buf.ParseIndexed(v, ev["full indented"], nil) // 20 + 10 references, 2 signatures
	prevA, sigsA, rawA := a.PrevEvents, a.Signatures, a.Raw()
	keptContent := a.Content // Content too is in b's memory
	cs, _ := a.RawContentSpan()
	if sameArray(rawA, ev["full indented"]) {
		t.Fatal("the indented event's Raw is its input")
	}
	b, err := buf.ParseIndexed(v, ev["unsigned indented"], nil) // 1 + 1, 2
	if err != nil {
		t.Fatal(err)
	}
	if b != a || !sameArray(b.PrevEvents, prevA) || !sameArray(b.Signatures, sigsA) || !sameArray(b.Raw(), rawA) {
		t.Fatalf("memory not reused: event %v, lists %v, signatures %v, canonical copy %v",
			b == a, sameArray(b.PrevEvents, prevA), sameArray(b.Signatures, sigsA), sameArray(b.Raw(), rawA))
	}
	// What the caller kept of a (which it must not) now reads b: the slices are b's memory.
	if !bytes.HasPrefix(rawA, b.Raw()) || prevA[0] != b.PrevEvents[0] || !sameArray(keptContent, rawA[cs:]) {
		t.Fatalf("the kept slices of a do not read b's memory: %.40q", rawA)
	}
	c, _ := buf.ParseIndexed(v, ev["small"], nil)
	if !sameArray(c.Raw(), ev["small"]) {
		t.Fatal("a canonical event's Raw is not its input")
	}
	if !sameArray(c.PrevEvents, prevA) {
		t.Fatal("the lists' array is not reused after a canonical event")
	}
}

// TestEventBufferZeroValue: "The zero value is ready to use": a zero EventBuffer (declared, new,
// or a field of a struct) parses; so does one after Reset on a zero buffer.
func TestEventBufferZeroValue(t *testing.T) {
	claimkit.WantText(t, pduGo, "The zero value is ready to use.")
	v, ev := seqEvents(t)
	var holder struct {
		n   int
		buf pdu.EventBuffer
	}
	bufs := []*pdu.EventBuffer{new(pdu.EventBuffer), &holder.buf, {}}
	bufs[2].Reset()
	for i, b := range bufs {
		for _, name := range []string{"small", "full indented"} {
			compareParse(t, fmt.Sprintf("zero buffer %d", i), input{name, v, ev[name]}, b, nil)
		}
	}
}

// TestEventBufferResetClears: Reset "clears the Event b holds, so that b no longer refers to the
// event's bytes or strings": the Event reads as the zero Event; the arrays b keeps for its lists
// hold no string of the event (a slice of them kept by the caller, which it must not keep,
// reads empty strings); and the canonical bytes the event was parsed from are no longer
// reachable through b (a cleanup on them runs while b lives, which it does not before Reset).
func TestEventBufferResetClears(t *testing.T) {
	claimkit.WantText(t, pduGo, "Reset clears the Event b holds, so that b no longer refers to the event's bytes or strings")
	v, ev := seqEvents(t)
	var buf pdu.EventBuffer
	e, _ := buf.ParseIndexed(v, ev["full"], nil)
	prev, auth, sigs := e.PrevEvents, e.AuthEvents, e.Signatures
	buf.Reset()
	if !reflect.DeepEqual(*e, pdu.Event{}) {
		t.Fatalf("after Reset: %s", snap(e))
	}
	for i := range prev {
		if prev[i] != "" {
			t.Fatalf("b's array still holds prev_events[%d] %q", i, prev[i])
		}
	}
	if auth[0] != "" || sigs[0] != (pdu.Signature{}) || sigs[1] != (pdu.Signature{}) {
		t.Fatalf("b's arrays still hold %q %v", auth[0], sigs)
	}

	if got := collectedWhileBufferLives(t, v, ev["unsigned"], false); got {
		t.Fatal("control: the input was collected while the buffer's Event referred to it")
	}
	if got := collectedWhileBufferLives(t, v, ev["unsigned"], true); !got {
		t.Fatal("after Reset the buffer still keeps the event's bytes alive")
	}
}

// collectedWhileBufferLives parses a copy of data (canonical: the Event keeps it) into a buffer,
// calls Reset when reset, drops the copy and reports whether the collector frees it while the
// buffer is still in use.
func collectedWhileBufferLives(t *testing.T, v roomversion.Version, data []byte, reset bool) bool {
	buf := new(pdu.EventBuffer)
	freed := parseAndWatch(t, buf, v, data)
	if reset {
		buf.Reset()
	}
	ok := collected(freed)
	runtime.KeepAlive(buf)
	return ok
}

//go:noinline
func parseAndWatch(t *testing.T, buf *pdu.EventBuffer, v roomversion.Version, data []byte) <-chan struct{} {
	mine := make([]byte, len(data))
	copy(mine, data)
	ev, err := buf.ParseIndexed(v, mine, nil)
	if err != nil || !sameArray(ev.Raw(), mine) {
		t.Fatalf("the canonical input is not kept: %v", err)
	}
	return watch(mine)
}

// watch returns a channel closed when the array of b has been collected.
func watch(b []byte) <-chan struct{} {
	ch := make(chan struct{})
	runtime.AddCleanup(&b[0], func(ch chan struct{}) { close(ch) }, ch)
	return ch
}

// collected runs the collector up to five times and reports whether ch was closed.
func collected(ch <-chan struct{}) bool {
	for range 5 {
		runtime.GC()
		select {
		case <-ch:
			return true
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// TestEventBufferResetLetsGo: Reset "lets go of its arrays when an event with unusually many
// references or signatures grew them": after an event of 50 or 200 signatures, the next event's
// lists are in new arrays, and the big arrays were not cleared (b let them go rather than keep
// them); after an event of one or two signatures the arrays are kept (and cleared). An event
// has at most 30 references, so only signatures can grow them unusually.
func TestEventBufferResetLetsGo(t *testing.T) {
	claimkit.WantText(t, pduGo, "and lets go of its arrays when an event with unusually many references or signatures grew them.")
	v, ev := seqEvents(t)
	for _, c := range []struct {
		first string
		kept  bool
	}{{"small", true}, {"full", true}, {"unsigned", true}, {"eight", true}, {"fifty", false}, {"large", false}, {"fifty indented", false}} {
		var buf pdu.EventBuffer
		a, _ := buf.ParseIndexed(v, ev[c.first], nil)
		sigs, prev, refs := a.Signatures, a.PrevEvents, len(a.PrevEvents)+len(a.AuthEvents)
		want := slices.Clone(sigs)
		buf.Reset()
		cleared := sigs[len(sigs)-1] == (pdu.Signature{})
		b, err := buf.ParseIndexed(v, ev["small"], nil)
		if err != nil {
			t.Fatal(err)
		}
		reused := sameArray(b.Signatures, sigs)
		if reused != c.kept || cleared != c.kept || (len(prev) > 0 && refs >= 3 && sameArray(b.PrevEvents, prev) != c.kept) {
			t.Fatalf("after %s (%d signatures): signatures' array reused %v, cleared %v; want %v", c.first, len(sigs), reused, cleared, c.kept)
		}
		if !c.kept && !slices.Equal(sigs, want) {
			t.Fatal("a let-go array was changed")
		}
	}
}

// TestEventBufferResetKeepsCanonicalCopy records what Reset leaves (observation O1): the
// canonical copy of an event not received in canonical form stays in the buffer's memory, byte
// for byte, for the next such event to overwrite; only its Event and list arrays are cleared. It
// is the buffer's own memory (no caller's bytes are pinned, TestEventBufferResetClears), but
// "b no longer refers to the event's bytes" holds only in that sense: a pooled buffer keeps the
// last such event's content.
func TestEventBufferResetKeepsCanonicalCopy(t *testing.T) {
	v, ev := seqEvents(t)
	var buf pdu.EventBuffer
	a, _ := buf.ParseIndexed(v, ev["unsigned indented"], nil)
	raw := a.Raw()
	want := bytes.Clone(raw)
	buf.Reset()
	if !bytes.Equal(raw, want) {
		t.Fatal("Reset cleared the canonical copy")
	}
	b, _ := buf.ParseIndexed(v, ev["small indented"], nil)
	if !sameArray(b.Raw(), raw) {
		t.Fatal("the canonical copy's memory was not reused after Reset")
	}
}

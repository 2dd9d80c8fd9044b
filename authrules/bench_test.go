package authrules_test

import (
	"os"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// corpus is the project's copy of the shared benchmark corpus (../shared/bench/README.md): 18
// signed events of a v9 room with a 50-user m.room.power_levels, a restricted m.room.join_rules
// and restricted joins.
type corpus struct {
	v      roomversion.Version
	keys   signing.KeyRing
	events []*pdu.Event
	byID   map[string]*pdu.Event
}

func loadCorpus(tb testing.TB) *corpus {
	tb.Helper()
	data, err := os.ReadFile(benchcorpus.Path)
	if err != nil {
		tb.Skipf("benchmark corpus not available: %v", err)
	}
	raw, err := benchcorpus.Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	c := &corpus{byID: map[string]*pdu.Event{}}
	if c.v, err = roomversion.Lookup(raw.RoomVersion); err != nil {
		tb.Fatal(err)
	}
	if c.keys, err = signing.ParseKeyRing(raw.Keys); err != nil {
		tb.Fatal(err)
	}
	for i, r := range raw.Events {
		ev, err := signing.ParseEvent(c.v, r)
		if err != nil {
			tb.Fatalf("event %d: %v", i, err)
		}
		if ev.EventID != raw.EventIDs[i] {
			tb.Fatalf("event %d: ID %s, corpus says %s", i, ev.EventID, raw.EventIDs[i])
		}
		c.events = append(c.events, ev)
		c.byID[ev.EventID] = ev
	}
	return c
}

// state returns the state made of the corpus events with the given indices.
func (c *corpus) state(tb testing.TB, idx ...int) *authrules.State {
	var evs []*pdu.Event
	for _, i := range idx {
		evs = append(evs, c.events[i])
	}
	s, err := authrules.NewState(c.v, evs)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (c *corpus) authEvents(ev *pdu.Event) []*pdu.Event {
	var out []*pdu.Event
	for _, id := range ev.AuthEvents {
		out = append(out, c.byID[id])
	}
	return out
}

// Corpus indices: 0 create, 1 alice's join, 2 power levels (50 users), 3 restricted join
// rules, 4-6 history visibility / name / topic, 7-8 restricted joins of bob and carol, 9 dave's
// join, 10-16 messages, 17 a redaction.
var stateBeforeCarol = []int{0, 1, 2, 3, 4, 5, 6, 7, 9}

func TestCorpusAgainstState(t *testing.T) {
	c := loadCorpus(t)
	s := c.state(t, stateBeforeCarol...)
	for _, i := range []int{10, 11, 12, 13, 14, 15, 16, 17} {
		if i == 11 || i == 15 { // carol is not joined in this state
			if err := s.Check(c.events[i], c.keys); !authrules.Rejected(err) {
				t.Errorf("event %d from carol before her join: want rule 5, got %v", i, err)
			}
			continue
		}
		if err := s.Check(c.events[i], c.keys); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	if err := s.Check(c.events[8], c.keys); err != nil {
		t.Errorf("carol's restricted join: %v", err)
	}
	if err := s.Check(c.events[8], nil); err != nil {
		t.Errorf("carol's restricted join, no keys: %v", err)
	}
}

// TestCorpusAgainstAuthEvents records how the corpus events fare against their own
// auth_events (check 4). The corpus was made independently: its messages do not list the
// sender's m.room.member among their auth events, so rule 5 rejects them.
func TestCorpusAgainstAuthEvents(t *testing.T) {
	c := loadCorpus(t)
	for i, ev := range c.events {
		err := authrules.Check(c.v, ev, c.authEvents(ev), c.keys)
		switch {
		case i <= 8 || i == 17:
			if err != nil {
				t.Errorf("event %d (%s): %v", i, ev.Type, err)
			}
		case i == 9: // dave's unauthorised join lists alice's member event
			if !authrules.Rejected(err) {
				t.Errorf("event 9: want a rejection, got nil")
			}
		default: // messages without the sender's member event
			if !authrules.Rejected(err) {
				t.Errorf("event %d: want rule 5, got nil", i)
			}
		}
	}
}

func BenchmarkStateCheckMessage(b *testing.B) {
	c := loadCorpus(b)
	s := c.state(b, stateBeforeCarol...)
	ev := c.events[10]
	if err := s.Check(ev, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Check(ev, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStateCheckRestrictedJoin checks carol's restricted join without keys: rule 4.2.1
// then only requires the authorising server's signature to be present (the signature itself
// is verified with the event's other signatures, see BenchmarkStateCheckRestrictedJoinKeys).
func BenchmarkStateCheckRestrictedJoin(b *testing.B) {
	c := loadCorpus(b)
	s := c.state(b, stateBeforeCarol...)
	ev := c.events[8]
	if err := s.Check(ev, nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Check(ev, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStateCheckRestrictedJoinKeys includes the ed25519 verification of rule 4.2.1.
func BenchmarkStateCheckRestrictedJoinKeys(b *testing.B) {
	c := loadCorpus(b)
	s := c.state(b, stateBeforeCarol...)
	ev := c.events[8]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Check(ev, c.keys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckAuthEventsRedaction checks the corpus redaction against its three auth events
// (create, 50-user power levels, sender's join): the state is built from them on every call.
func BenchmarkCheckAuthEventsRedaction(b *testing.B) {
	c := loadCorpus(b)
	ev := c.events[17]
	auth := c.authEvents(ev)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := authrules.Check(c.v, ev, auth, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckAuthEventsRestrictedJoin checks bob's restricted join against its four auth
// events, without keys.
func BenchmarkCheckAuthEventsRestrictedJoin(b *testing.B) {
	c := loadCorpus(b)
	ev := c.events[7]
	auth := c.authEvents(ev)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := authrules.Check(c.v, ev, auth, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewState(b *testing.B) {
	c := loadCorpus(b)
	var evs []*pdu.Event
	for _, i := range stateBeforeCarol {
		evs = append(evs, c.events[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := authrules.NewState(c.v, evs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAuthEventsNeeded(b *testing.B) {
	c := loadCorpus(b)
	ev := c.events[8]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := authrules.AuthEventsNeeded(c.v, ev); err != nil {
			b.Fatal(err)
		}
	}
}

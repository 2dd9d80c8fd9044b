package authrules

import (
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/pdu"
)

// TestChainWorkerCachesAreBounded feeds a chainWorker more distinct power levels and join rules
// events than maxCachedDerived and checks that its own caches never hold more than that, that
// every State it builds, cached or not, derives the values of its own events, and that the
// table of the call (parsedEvents) holds each event once: bounded by the input, read once.
func TestChainWorkerCachesAreBounded(t *testing.T) {
	v := mustVersion(t, "9")
	b := newBuilder(t, v, "!r:a.example")
	create, err := b.Build([]byte(`"create"`), nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3*maxCachedDerived + 5
	var pls, jrs []*pdu.Event
	for i := 0; i < n; i++ {
		pl, err := b.Build([]byte(fmt.Sprintf(`{"__base":"pl","content":{"users_default":%d}}`, i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		rule := []string{"public", "invite", "knock"}[i%3]
		jr, err := b.Build([]byte(fmt.Sprintf(`{"__base":"jr_restricted","content":{"join_rule":%q},"depth":%d}`, rule, 1000+i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		pls, jrs = append(pls, pl), append(jrs, jr)
	}
	w := newChainWorker(v, newParsedEvents())
	// Twice over, so that the second round meets both hits and emptied caches.
	for round := 0; round < 2; round++ {
		for i := 0; i < n; i++ {
			s, _ := w.build(v, []*pdu.Event{create, pls[i], jrs[i]}, create)
			if got := s.pl.UsersDefault(); got != int64(i) {
				t.Fatalf("round %d, event %d: users_default %d", round, i, got)
			}
			if got, want := s.joinRules.Rule, []string{"public", "invite", "knock"}[i%3]; got != want {
				t.Fatalf("round %d, event %d: join rule %q, want %q", round, i, got, want)
			}
			if len(w.pls) > maxCachedDerived || len(w.jrs) > maxCachedDerived || len(w.creates) > maxCachedDerived {
				t.Fatalf("caches hold %d power levels, %d join rules, %d creates; bound %d", len(w.pls), len(w.jrs), len(w.creates), maxCachedDerived)
			}
		}
	}
	// The table shared by the workers of a call read each event once, whatever the order:
	// the second round, which found the worker's own caches emptied, read nothing again.
	if len(w.parsed.pls) != n || len(w.parsed.jrs) != n || len(w.parsed.creates) != 1 {
		t.Fatalf("shared table holds %d power levels, %d join rules, %d creates; want %d, %d, 1",
			len(w.parsed.pls), len(w.parsed.jrs), len(w.parsed.creates), n, n)
	}
}

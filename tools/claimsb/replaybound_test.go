package claimsb

import (
	"strings"
	"testing"
)

// decisions.md (bulk) 9: "Replay keeps at most 1,024 such states after prev events ...; past
// that the dump's state so far stands in, with a note."
func TestReplayStateBound(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	ae := refs(v, r.create, r.pl, r.join)
	n := 1100
	var evs [][]byte
	evs = append(evs, rawsOf(r.events()...)...)
	prev := r.jr
	var ms []string
	for i := 0; i < n; i++ {
		e := ev(t, v, M{"content": M{"body": "m"}, "auth_events": ae, "prev_events": refs(v, prev), "depth": 5 + i})
		evs = append(evs, e.Raw())
		ms = append(ms, e.EventID)
		prev = e
	}
	for i := 0; i < n; i++ {
		e := ev(t, v, M{"content": M{"body": "n"}, "auth_events": ae, "prev_events": []any{ms[i]}, "depth": 5 + n + i})
		evs = append(evs, e.Raw())
	}
	lines := replayLines(t, dumpOf(t, "10", evs...))
	if len(lines) != 2+4+2*n {
		t.Fatalf("lines %d", len(lines))
	}
	plain, noted := 0, 0
	for _, l := range lines[1+4+n+1 : len(lines)-1] { // the N rows except the first
		if !strings.Contains(l, "accepted") {
			t.Fatalf("row %q", l)
		}
		if !strings.Contains(l, "(") { // "accepted rule 10", no note
			plain++
		} else {
			noted++
		}
	}
	t.Logf("rows without note %d, with note %d; example: %q", plain, noted, lines[len(lines)-2])
	if plain < 1000 || noted == 0 {
		t.Errorf("expected about 1,024 rows checked against a kept state and a note on the rest")
	}
}

package authgen

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// gen generates n rooms and candidates of version vid and returns every event built, the finals
// last in each room.
func gen(t *testing.T, vid string, n int, seed int64, hv bool, realFrom int) [][]*Event {
	t.Helper()
	v, err := roomversion.Lookup(vid)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(seed))
	var out [][]*Event
	for i := 0; i < n; i++ {
		b := &Builder{V: v, Ver: difftool.VerNum(vid), R: r, N: i * 1000, Focus: r.Intn(2) == 0, Edge: r.Intn(3) == 0,
			HistoryVisibility: hv, RealSignFrom: realFrom}
		rm := b.GenRoom()
		final, auth, _, err := b.Assemble(rm, b.GenCand(rm), r.Intn(3) == 0)
		if err != nil {
			continue
		}
		out = append(out, append(append(append([]*Event{}, rm.Order...), auth...), final))
	}
	return out
}

func TestGeneratedEvents(t *testing.T) {
	keys := signing.KeyRing{}
	for _, s := range Servers {
		keys[s] = map[string]signing.PublicKey{"ed25519:1": {Key: KeyFor(s, "1").Public()}}
	}
	for _, vid := range []string{"1", "3", "6", "8", "10", "11", "12"} {
		t.Run("v"+vid, func(t *testing.T) {
			v, _ := roomversion.Lookup(vid)
			rooms := gen(t, vid, 60, 1, false, 3)
			if len(rooms) < 50 {
				t.Fatalf("%d of 60 candidates assembled", len(rooms))
			}
			real := 0
			for _, evs := range rooms {
				create := evs[0]
				hasRoomID := bytes.Contains(create.Raw, []byte(`"room_id"`))
				if create.Type != "m.room.create" || hasRoomID != (vid != "12") {
					t.Fatalf("create event %s", create.Raw)
				}
				for _, e := range evs {
					if e.Type == "m.room.history_visibility" && e.StateKey != nil && *e.StateKey == "" && e != evs[len(evs)-1] {
						t.Errorf("history visibility without HistoryVisibility: %s", e.Raw)
					}
					if _, err := pdu.Parse(v, e.Raw); err != nil && !strings.Contains(string(e.Raw), "!other:b.example") {
						t.Errorf("not a PDU: %v: %s", err, e.Raw)
					}
				}
				final := evs[len(evs)-1]
				if !bytes.Contains(final.Raw, []byte(DummySig)) {
					real++
					// The authoriser's (or an invite target's) signature may be missing on purpose.
					if err := signing.VerifyEvent(v, final.Raw, keys); err != nil && !strings.Contains(err.Error(), "missing signature") {
						t.Errorf("event signed for real does not verify: %v: %s", err, final.Raw)
					}
				}
			}
			t.Logf("%d rooms, %d candidates signed for real", len(rooms), real)
		})
	}
}

// The same seed gives the same events; HistoryVisibility and RealSignFrom change only what
// they are about.
func TestDeterministic(t *testing.T) {
	dump := func(rooms [][]*Event) string {
		var b strings.Builder
		for _, evs := range rooms {
			for _, e := range evs {
				fmt.Fprintf(&b, "%s %s\n", e.ID, e.Raw)
			}
		}
		return b.String()
	}
	a, b := dump(gen(t, "9", 40, 5, true, 8)), dump(gen(t, "9", 40, 5, true, 8))
	if a != b {
		t.Fatal("two runs with the same seed differ")
	}
	if !strings.Contains(a, `"m.room.history_visibility","state_key":""`) && !strings.Contains(a, "history_visibility\":\"") {
		t.Error("HistoryVisibility: no m.room.history_visibility event in 40 rooms")
	}
	if c := dump(gen(t, "9", 40, 5, true, 0)); strings.Count(c, DummySig) <= strings.Count(a, DummySig) {
		t.Error("RealSignFrom 0 signs as many events for real as RealSignFrom 8")
	}
}

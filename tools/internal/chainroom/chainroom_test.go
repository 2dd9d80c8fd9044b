package chainroom

import (
	"bytes"
	"math/rand"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// TestGen: a drawn room of every version starts with its create event and the creator's join,
// has between MinSteps and MaxSteps events after its first join rules, cites as auth events only
// earlier events of the room, and the same seed and Config draw the same events byte for byte.
func TestGen(t *testing.T) {
	cfg := Config{Real: true, Restricted: 1, MinSteps: 2, MaxSteps: 5,
		Weights:    Weights{Member: 10, PowerLevels: 3, JoinRules: 1, OtherState: 3},
		AuthVia:    func(r *rand.Rand) (string, bool) { return authgen.Creator, r.Intn(2) == 0 },
		Redactions: true}
	for _, vid := range []string{"1", "2", "3", "7", "8", "10", "11", "12"} {
		for seed := int64(1); seed <= 5; seed++ {
			g := Gen(rand.New(rand.NewSource(seed)), vid, cfg)
			if len(g.Evs) < 2+cfg.MinSteps || len(g.Evs) > 4+cfg.MaxSteps {
				t.Fatalf("v%s seed %d: %d events", vid, seed, len(g.Evs))
			}
			if g.State[Key{"m.room.create", ""}] != g.Evs[0] || g.Evs[1].Type != "m.room.member" {
				t.Fatalf("v%s seed %d: the room does not start with its create and join", vid, seed)
			}
			var seen []string
			for i, e := range g.Evs {
				auth, _ := difftool.Decode(e.Raw)["auth_events"].([]any)
				for _, a := range auth {
					id, ok := a.(string)
					if !ok { // v1-2: [ID, hashes]
						id, _ = a.([]any)[0].(string)
					}
					if !slices.Contains(seen, id) {
						t.Fatalf("v%s seed %d event %d: auth event %s is not an earlier event", vid, seed, i, id)
					}
				}
				seen = append(seen, e.ID)
			}
			again := Gen(rand.New(rand.NewSource(seed)), vid, cfg)
			if len(again.Evs) != len(g.Evs) || !bytes.Equal(again.Evs[len(g.Evs)-1].Raw, g.Evs[len(g.Evs)-1].Raw) {
				t.Fatalf("v%s seed %d: the same seed drew another room", vid, seed)
			}
		}
	}
}

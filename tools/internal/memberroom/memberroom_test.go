package memberroom

import (
	"math/rand"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// TestGen: a drawn room of every version has its create event in its state, every event of the
// state verifies with KeyRing, the same seed draws the same room, and knock draws a knocking
// join rule.
func TestGen(t *testing.T) {
	for _, vid := range []string{"1", "2", "3", "6", "7", "8", "10", "11", "12"} {
		knock := difftool.VerNum(vid) >= 7 // knocking exists from v7
		rm := Gen(rand.New(rand.NewSource(3)), vid, knock)
		if rm.State.Create() == nil || len(rm.Raws) != len(rm.IDs) || len(rm.Raws) != rm.State.Len() {
			t.Fatalf("v%s: create %v, %d events, %d IDs, state of %d", vid, rm.State.Create(), len(rm.Raws), len(rm.IDs), rm.State.Len())
		}
		for i, raw := range rm.Raws {
			if err := signing.VerifyEvent(rm.V, raw, KeyRing()); err != nil {
				t.Fatalf("v%s event %d: %v", vid, i, err)
			}
		}
		again := Gen(rand.New(rand.NewSource(3)), vid, knock)
		if len(again.IDs) != len(rm.IDs) || again.IDs[len(again.IDs)-1] != rm.IDs[len(rm.IDs)-1] {
			t.Fatalf("v%s: the same seed drew another room", vid)
		}
		if knock && rm.Rule != "knock" && rm.Rule != "knock_restricted" && rm.Rule != "(none)" {
			t.Fatalf("v%s: join rule %q with knock", vid, rm.Rule)
		}
	}
}

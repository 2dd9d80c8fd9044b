package claimroom

import (
	"bytes"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestNew: a default room of every version holds its four events, each verifying with
// authfixture's keys, in v12 with the room ID of its create event; the same calls build the
// same events.
func TestNew(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := New(t, vid, Options{})
		r.Member(t, "@bob:b.example", "join")
		if r.State.Len() != 5 || len(r.ByID) != 6 || r.N != 6 {
			t.Fatalf("v%s: state of %d, %d events made, N %d", vid, r.State.Len(), len(r.ByID), r.N)
		}
		for _, ev := range r.State.Events() {
			if err := signing.VerifyEvent(r.V, ev.Raw(), ring); err != nil {
				t.Fatalf("v%s %s: %v", vid, ev.Type, err)
			}
		}
		if r.V.Format.RoomIDFromCreateEvent && r.ID != "!"+r.State.Create().EventID[1:] {
			t.Fatalf("v%s: room ID %s", vid, r.ID)
		}
		again := New(t, vid, Options{})
		again.Member(t, "@bob:b.example", "join")
		if !bytes.Equal(again.ByID[again.Last].Raw(), r.ByID[r.Last].Raw()) {
			t.Fatalf("v%s: the same calls built another event", vid)
		}
	}
}

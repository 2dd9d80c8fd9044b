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

// TestBuild: a fixture room has its create event (with the create content), the members with
// the senders buildRoom uses, events that verify with KeyRing, and in v12 the create event's room.
func TestBuild(t *testing.T) {
	spec := Spec{Creator: "@mod:r.example", PowerLevels: []byte(`{"users":{"@mod:r.example":100},"invite":50}`),
		JoinRules: []byte(`{"join_rule":"knock"}`), CreateContent: map[string]any{"m.federate": false},
		Members: map[string]string{"@joe:a.example": "invite", "@bea:b.example": "knock", "@kim:b.example": "ban"}}
	for _, vid := range []string{"1", "7", "10", "12"} {
		rm, err := Build(vid, spec)
		if err != nil {
			t.Fatal(err)
		}
		for u, m := range spec.Members {
			if got := rm.State.Membership(u); got != m || rm.Ms[u] != m {
				t.Errorf("v%s: %s is %q (%q), want %q", vid, u, got, rm.Ms[u], m)
			}
		}
		if rm.State.Get("m.room.member", "@joe:a.example").Sender != "@mod:r.example" || rm.State.Get("m.room.member", "@bea:b.example").Sender != "@bea:b.example" {
			t.Errorf("v%s: member senders", vid)
		}
		if rm.Rule != "knock" || rm.State.CheckFederation("@joe:a.example") == nil || rm.State.Room() != rm.RoomID {
			t.Errorf("v%s: rule %q, federation, room %q / %q", vid, rm.Rule, rm.State.Room(), rm.RoomID)
		}
		for i, raw := range rm.Raws {
			if err := signing.VerifyEvent(rm.V, raw, KeyRing()); err != nil {
				t.Fatalf("v%s event %d: %v", vid, i, err)
			}
		}
	}
	if _, err := Build("10", Spec{Creator: "@mod:r.example", PowerLevels: []byte(`[`)}); err == nil {
		t.Error("Build accepts power levels that are not JSON")
	}
}

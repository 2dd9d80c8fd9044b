package memberroom

import (
	"math/rand"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
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

// TestSpecRefs: with SpecRefs a v1-2 reference carries the dummy hash and a v12 event lists no
// auth events; without it, {} and the create event; StateEvents keeps the last event of each
// (type, state_key) in the order of the first.
func TestSpecRefs(t *testing.T) {
	for _, vid := range []string{"2", "12"} {
		for _, spec := range []bool{false, true} {
			rm := &Room{V: authgen.Version(vid), VID: vid, Ver: difftool.VerNum(vid), Ms: map[string]string{},
				RoomID: "!room:r.example", SpecRefs: spec}
			rm.Add("m.room.create", "@mod:r.example", "", M{"room_version": vid})
			rm.Add("m.room.name", "@mod:r.example", "", M{"name": "a"})
			rm.Add("m.room.topic", "@mod:r.example", "", M{"topic": "t"})
			rm.Add("m.room.name", "@mod:r.example", "", M{"name": "b"})
			ev := difftool.Decode(rm.Raws[1])
			auth := string(difftool.Enc(ev["auth_events"]))
			var want string
			switch {
			case vid == "2" && spec:
				want = `[["` + rm.IDs[0] + `",{"sha256":"` + authgen.DummyHash + `"}]]`
			case vid == "2":
				want = `[["` + rm.IDs[0] + `",{}]]`
			case spec:
				want = `[]`
			default:
				want = `["` + rm.IDs[0] + `"]`
			}
			if auth != want {
				t.Errorf("v%s SpecRefs=%v: auth_events %s, want %s", vid, spec, auth, want)
			}
			evs, raws, ids, err := rm.StateEvents()
			if err != nil || len(evs) != 3 || len(raws) != 3 || ids[0] != rm.IDs[0] || ids[1] != rm.IDs[3] || ids[2] != rm.IDs[2] {
				t.Errorf("v%s SpecRefs=%v: StateEvents %d events, IDs %v of %v, %v", vid, spec, len(evs), ids, rm.IDs, err)
			}
		}
	}
}

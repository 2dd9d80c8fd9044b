package scenarios

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// TestV12Room: the room ID is the create event's ID with the sigil '!', the create event has
// no room_id and is never an auth event, the creators (sender and additional_creators) have
// infinite power and may not appear in power levels.
func TestV12Room(t *testing.T) {
	r := newRoomWith(t, "12", "invite", map[string]any{"additional_creators": []any{"@bob:b.example"}}, "b.example", "c.example")
	v := r.f.v
	a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
	r.inviteAndJoin(t, "@mod:b.example")
	r.inviteAndJoin(t, "@bob:b.example")
	r.inviteAndJoin(t, "@carol:c.example")
	create := a.createEvent()
	if create.HasKey("room_id") || create.RoomID != "" {
		t.Errorf("the create event has a room_id")
	}
	if want := "!" + strings.TrimPrefix(create.EventID, "$"); r.f.roomID != want || create.Room() != want {
		t.Errorf("room ID %s, create.Room() %s, want %s", r.f.roomID, create.Room(), want)
	}
	for id, e := range a.store {
		if slices.Contains(e.AuthEvents, create.EventID) {
			t.Errorf("%s (%s) lists the create event among its auth events", id, e.Type)
		}
	}
	st := a.State(t)
	if got := st.Creators(); !slices.Equal(got, []string{"@alice:a.example", "@bob:b.example"}) {
		t.Errorf("Creators %v", got)
	}
	pl := st.PowerLevels()
	for _, u := range []string{"@alice:a.example", "@bob:b.example"} {
		if pl.UserLevel(u) != authrules.InfiniteLevel || !pl.IsCreator(u) {
			t.Errorf("%s: level %d", u, pl.UserLevel(u))
		}
		if _, set := pl.UserLevelSet(u); set {
			t.Errorf("%s is in users", u)
		}
	}
	if got := membership.Authorisers(st, "b.example"); len(got) == 0 || got[0] != "@bob:b.example" {
		t.Errorf("Authorisers(b) %v: the creator first", got)
	}
	// The additional creator, absent from users, kicks the moderator (50).
	b.send(t, draft{Type: pdu.TypeMember, Sender: "@bob:b.example", StateKey: str("@mod:b.example"), Content: member("leave")})
	// Power levels naming a creator: rule 10.4.
	raw := a.build(t, draft{Type: pdu.TypePowerLevels, Sender: r.creator, StateKey: str(""), Content: map[string]any{"users": map[string]any{"@bob:b.example": 100}}})
	if rc := c.receive(t, "a.example", raw); rc.Outcome != RejectedAuth || rc.Rule != "10.4" || !errors.Is(rc.Err, authrules.ErrPowerLevelsInvalid) {
		t.Errorf("power levels naming a creator: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
	}
	// An event that lists the create event among its auth events: rule 3.2.
	raw = edit(t, c.build(t, msg("@carol:c.example", "x")), func(m map[string]any) {
		m["auth_events"] = append(m["auth_events"].([]any), create.EventID)
		delete(m, "signatures")
		delete(m, "hashes")
	})
	raw, err := signing.SignEvent(v, raw, "c.example", c.key)
	if err != nil {
		t.Fatal(err)
	}
	if rc := a.receive(t, "c.example", raw); rc.Outcome != RejectedAuth || rc.Rule != "3.2" || !errors.Is(rc.Err, authrules.ErrAuthEventUnexpected) {
		t.Errorf("create among the auth events: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
	}
	// An event whose room_id names no create event: rule 2.
	other := edit(t, c.build(t, msg("@carol:c.example", "y")), func(m map[string]any) {
		m["room_id"] = "!" + strings.Repeat("A", 43)
		delete(m, "signatures")
		delete(m, "hashes")
	})
	other, _ = signing.SignEvent(v, other, "c.example", c.key)
	ev, err := signing.ParseEvent(v, other)
	if err != nil {
		t.Fatal(err)
	}
	err = authrules.CheckWithOptions(v, ev, authEventsOf(t, a, other), authrules.Options{Keys: r.f.keys, Create: create})
	if ruleOf(err) != "2" || !errors.Is(err, authrules.ErrRoomIDNotCreate) {
		t.Errorf("room_id of no create event: %v", err)
	}
	// A create event with a room_id: rule 1.2.
	bad, _ := signing.SignEvent(v, []byte(`{"type":"m.room.create","state_key":"","sender":"@x:c.example","room_id":"!x:c.example","content":{"room_version":"12"},"depth":1,"prev_events":[],"auth_events":[],"origin_server_ts":1}`), "c.example", c.key)
	if rc := b.receive(t, "c.example", bad); rc.Outcome != RejectedAuth || rc.Rule != "1.2" || !errors.Is(rc.Err, authrules.ErrCreateRoomID) {
		t.Errorf("create with a room_id: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
	}
}

// TestV12CreatorAuthorises: in a v12 restricted room, an additional creator (absent from
// power levels, infinite power) is the first authoriser of its server and its authorisation
// passes rule 5.3.5.3 on every server.
func TestV12CreatorAuthorises(t *testing.T) {
	r := newRoomWith(t, "12", "restricted", map[string]any{"additional_creators": []any{"@bob:b.example"}}, "b.example", "c.example")
	r.inviteAndJoin(t, "@mod:b.example")
	r.inviteAndJoin(t, "@bob:b.example")
	a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
	join, raw := joinOver(t, r, b, c, "@carol:c.example", space)
	if got, _ := join.ContentString(signing.ContentJoinAuthorisedViaUsersServer); got != "@bob:b.example" {
		t.Errorf("authoriser %q, want the creator @bob:b.example", got)
	}
	for _, s := range []*server{b, a, c} {
		if rc := s.receive(t, "b.example", raw); rc.Outcome != Accepted || rc.Rule != "5.3.5.3" {
			t.Errorf("%s: %v rule %s %v", s.name, rc.Outcome, rc.Rule, rc.Err)
		}
	}
}

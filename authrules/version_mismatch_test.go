package authrules

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestEventsOfAnotherRoomVersion: an event parsed for another room version than the one its
// rules are asked for (pdu.Event.Version) is refused, never judged under rules it was not read
// for (its event ID, `redacts`, room ID and strictness follow its own version): Check,
// CheckWithOptions and State.Check answer a fatal rejection matching ErrMalformed, for the
// event, an auth event or Options.Create; NewState and State.Apply an error matching
// ErrInvalidState; AuthEventsNeeded a fatal rejection. docs/decisions.md (authrules), "Events
// parsed for another room version".
func TestEventsOfAnotherRoomVersion(t *testing.T) {
	v8, v9, v12 := mustVersion(t, "8"), mustVersion(t, "9"), mustVersion(t, "12")
	b8, b9 := newBuilder(t, v8, "!r:a.example"), newBuilder(t, v9, "!r:a.example")
	build := func(b *builder, raw string, auth ...string) *pdu.Event {
		t.Helper()
		ids := []any{}
		for _, id := range auth {
			ids = append(ids, id)
		}
		ev, err := b.Build(json.RawMessage(raw), ids)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	create9 := build(b9, `"create"`)
	join9 := build(b9, `"alice_join"`, create9.EventID)
	msg9 := build(b9, `{"type":"m.room.message","sender":"@alice:a.example","content":{}}`, create9.EventID, join9.EventID)
	create8 := build(b8, `"create"`)
	join8 := build(b8, `"alice_join"`, create8.EventID)
	msg8 := build(b8, `{"type":"m.room.message","sender":"@alice:a.example","content":{}}`, create8.EventID, join8.EventID)

	if err := Check(v9, msg9, []*pdu.Event{create9, join9}, nil); err != nil {
		t.Fatalf("the v9 events themselves: %v", err)
	}
	fatal := func(name string, err error, want string) {
		t.Helper()
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Severity != SeverityFatal || !errors.Is(err, ErrMalformed) || !strings.Contains(rej.Reason, want) {
			t.Errorf("%s: %v, want a fatal rejection (ErrMalformed) saying %q", name, err, want)
		}
	}
	fatal("Check of a v8 event under v9", Check(v9, msg8, []*pdu.Event{create8, join8}, nil), `parsed for room version "8", not "9"`)
	fatal("Check with a v8 auth event", Check(v9, msg9, []*pdu.Event{create9, join8}, nil), `auth event 1 was parsed for room version "8"`)
	fatal("Check of a v9 create under v12", Check(v12, create9, nil, nil), `parsed for room version "9", not "12"`)
	msg12 := build(newBuilder(t, v12, "!r:a.example"), `{"type":"m.room.message","sender":"@alice:a.example","content":{}}`)
	fatal("CheckWithOptions with a v9 Options.Create under v12", CheckWithOptions(v12, msg12, nil, Options{Create: create9}), `Options.Create was parsed for room version "9"`)

	s12, err := NewState(v12, nil)
	if err != nil {
		t.Fatal(err)
	}
	fatal("State.CheckWithOptions with a v9 Options.Create under v12", s12.CheckWithOptions(msg12, Options{Create: create9}), `Options.Create was parsed for room version "9"`)
	s9, err := NewState(v9, []*pdu.Event{create9, join9})
	if err != nil {
		t.Fatal(err)
	}
	fatal("State.Check of a v8 event", s9.Check(msg8, nil), `parsed for room version "8", not "9"`)
	fatal("State.CheckWithOptions of a v8 event", s9.CheckWithOptions(msg8, Options{}), `parsed for room version "8", not "9"`)
	if _, err := NewState(v9, []*pdu.Event{create9, join8}); !errors.Is(err, ErrInvalidState) || !strings.Contains(err.Error(), `parsed for room version "8"`) {
		t.Errorf("NewState with a v8 event: %v", err)
	}
	if err := s9.Apply(join8); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Apply of a v8 event: %v", err)
	}
	if _, err := AuthEventsNeeded(v9, msg8); err == nil {
		t.Error("AuthEventsNeeded of a v8 event under v9: no error")
	} else {
		fatal("AuthEventsNeeded", err, `parsed for room version "8"`)
	}
	if _, err := s9.AuthEvents(msg8); err == nil {
		t.Error("State.AuthEvents of a v8 event: no error")
	}
	// An Event made by hand (zero Version), as membership.MakeJoin builds its templates, is
	// read as an event of the version asked.
	sk := "@bob:b.example"
	if keys, err := AuthEventsNeeded(v9, &pdu.Event{Type: pdu.TypeMember, Sender: sk, StateKey: &sk, Membership: "join", Content: []byte(`{"membership":"join"}`)}); err != nil || len(keys) == 0 {
		t.Errorf("a hand-made event: %v %v", keys, err)
	}
}

// TestEventOfAnotherRoomAgainstState: State.Check of an event of another room than the state's
// (its `room_id`) is refused in room versions 1-11 with a fatal rejection matching
// ErrMalformed, as NewState and Apply refuse such an event; in v12 rule 2 (the room ID names the
// create event) rejects it. docs/decisions.md (authrules), "Events of another room against a
// State".
func TestEventOfAnotherRoomAgainstState(t *testing.T) {
	for _, id := range []string{"1", "9", "11", "12"} {
		t.Run("v"+id, func(t *testing.T) {
			v := mustVersion(t, id)
			b := newBuilder(t, v, "!r:a.example")
			create, err := b.Build(json.RawMessage(`"create"`), nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Format.RoomIDFromCreateEvent {
				b.RoomID = "!" + create.EventID[1:]
			}
			join, err := b.Build(json.RawMessage(`"alice_join"`), nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := NewState(v, []*pdu.Event{create, join})
			if err != nil {
				t.Fatal(err)
			}
			same, err := b.Build(json.RawMessage(`{"type":"m.room.message","sender":"@alice:a.example","content":{}}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(same, nil); err != nil {
				t.Fatalf("an event of the state's room: %v", err)
			}
			other, err := b.Build(json.RawMessage(`{"type":"m.room.message","sender":"@alice:a.example","content":{},"room_id":"!other:a.example"}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Check(other, nil)
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("an event of another room: %v, want a rejection", err)
			}
			if v.Format.RoomIDFromCreateEvent {
				if rej.Rule != "2" || rej.Severity != SeverityError {
					t.Errorf("v12: %v, want rule 2", rej)
				}
				return
			}
			if rej.Severity != SeverityFatal || !errors.Is(err, ErrMalformed) || !strings.Contains(rej.Reason, `of room "!other:a.example", not of the state's room "!r:a.example"`) {
				t.Errorf("%v, want a fatal rejection naming both rooms", err)
			}
		})
	}
}

// TestAnotherRoomIsRefusedEverywhere: State.AuthEvents refuses an event of another room; a v12
// State without its create (a partial state) refuses an event of another room given that
// room's Options.Create, and a v12 State refuses an Options.Create of another room;
// DefaultPowerLevels of the zero Version grants no creator (tools/misuse M5, M6, M11, M12).
func TestAnotherRoomIsRefusedEverywhere(t *testing.T) {
	fatal := func(name string, err error, want string) {
		t.Helper()
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Severity != SeverityFatal || !errors.Is(err, ErrMalformed) || !strings.Contains(rej.Reason, want) {
			t.Errorf("%s: %v, want a fatal rejection (ErrMalformed) saying %q", name, err, want)
		}
	}
	v9, v12 := mustVersion(t, "9"), mustVersion(t, "12")
	b := newBuilder(t, v9, "!r:a.example")
	create, _ := b.Build(json.RawMessage(`"create"`), nil)
	join, _ := b.Build(json.RawMessage(`"alice_join"`), nil)
	s, err := NewState(v9, []*pdu.Event{create, join})
	if err != nil {
		t.Fatal(err)
	}
	if s.Room() != "!r:a.example" {
		t.Errorf("Room() = %q", s.Room())
	}
	other, _ := b.Build(json.RawMessage(`{"type":"m.room.member","sender":"@bob:b.example","state_key":"@bob:b.example","content":{"membership":"join"},"room_id":"!other:a.example"}`), nil)
	_, err = s.AuthEvents(other)
	fatal("State.AuthEvents of another room", err, `of room "!other:a.example", not of the state's room "!r:a.example"`)
	sk := "@bob:b.example"
	if got, err := s.AuthEvents(&pdu.Event{Type: pdu.TypeMember, Sender: sk, StateKey: &sk, Membership: "join", Content: []byte(`{"membership":"join"}`)}); err != nil || len(got) == 0 {
		t.Errorf("an event being built, without room_id: %v, %v", got, err)
	}

	// v12: rooms X and Y.
	room12 := func() (*pdu.Event, *pdu.Event, *builder) {
		b := newBuilder(t, v12, "")
		c, err := b.Build(json.RawMessage(`"create12"`), nil)
		if err != nil {
			t.Fatal(err)
		}
		b.RoomID = "!" + c.EventID[1:]
		j, err := b.Build(json.RawMessage(`"alice_join"`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return c, j, b
	}
	cx, jx, _ := room12()
	cy, _, by := room12()
	_ = by
	if cx.EventID == cy.EventID {
		// the builder numbers depths per builder: make Y's create differ
		cy, _ = by.Build(json.RawMessage(`{"__base":"create12","origin_server_ts":5}`), nil)
	}
	partial, err := NewState(v12, []*pdu.Event{jx}) // room X's state without its create
	if err != nil {
		t.Fatal(err)
	}
	byY := newBuilder(t, v12, "!"+cy.EventID[1:])
	evY, err := byY.Build(json.RawMessage(`{"type":"m.room.member","sender":"@bob:b.example","state_key":"@bob:b.example","content":{"membership":"join"}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	fatal("v12 partial state, event and Create of room Y", partial.CheckWithOptions(evY, Options{Create: cy}), `Options.Create is of room`)
	full, err := NewState(v12, []*pdu.Event{cx, jx})
	if err != nil {
		t.Fatal(err)
	}
	bx := newBuilder(t, v12, "!"+cx.EventID[1:])
	evX, err := bx.Build(json.RawMessage(`{"type":"m.room.message","sender":"@alice:a.example","content":{}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := full.CheckWithOptions(evX, Options{Create: cx}); err != nil {
		t.Errorf("the state's own create as Options.Create: %v", err)
	}
	fatal("v12 Options.Create of another room", full.CheckWithOptions(evX, Options{Create: cy}), `Options.Create is of room`)

	if pl := DefaultPowerLevels(roomversion.Version{}, []string{"@c:a.example"}); pl.UserLevel("@c:a.example") != 0 {
		t.Errorf("DefaultPowerLevels(zero Version): creator at %d, want 0", pl.UserLevel("@c:a.example"))
	}
}

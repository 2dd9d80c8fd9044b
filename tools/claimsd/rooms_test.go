package claimsd

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// docs/decisions.md authrules "Events of another room against a State": "State.Check and
// State.CheckWithOptions refuse an event whose room_id is not the room of the state's events
// (State.Room) with a fatal rejection matching ErrMalformed; in v12, when the state holds its
// create event, rule 2 ... rejects it first, as before." State.Check's doc says the same.
func TestStateRefusesOtherRoom(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		r, o := buildRoom(t, id, ""), buildRoom(t, id, "!other:a.example")
		s, err := authrules.NewState(r.v, r.state())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			ev   *pdu.Event
		}{
			{"message", o.msg}, {"member", o.bob}, {"power levels", o.pl},
		} {
			t.Run("v"+id+"/"+c.name, func(t *testing.T) {
				for _, check := range []func() error{
					func() error { return s.Check(c.ev, nil) },
					func() error { return s.CheckWithOptions(c.ev, authrules.Options{}) },
				} {
					err := check()
					if r.v.Format.RoomIDFromCreateEvent {
						var rej *authrules.Rejection
						if !errors.As(err, &rej) || rej.Rule != "2" {
							t.Errorf("v12 with its create: %v, want rule 2", err)
						}
						continue
					}
					fatalMalformed(t, err, "")
				}
			})
		}
		// The exception (finding D2, settled in the text): "except an m.room.create, which rule 1
		// judges on its own (it reads no state), so that State.Check and Check give every
		// create the same verdict".
		t.Run("v"+id+"/create of another room", func(t *testing.T) {
			want := authrules.Check(r.v, o.create, nil, nil)
			if got := s.Check(o.create, nil); (got == nil) != (want == nil) {
				t.Errorf("State.Check %v, Check %v: want the same verdict", got, want)
			}
		})
	}
}

// The same entry for v12 creates and hand-made events: "State.Check ... refuse an event whose
// room_id is not the room of the state's events"; a v12 m.room.create names its room by its
// event ID (NewState's doc).
func TestStateOtherRoomEdges(t *testing.T) {
	r, o := buildRoom(t, "12", ""), buildRoom(t, "12", "!other:a.example")
	s, _ := authrules.NewState(r.v, r.state())
	t.Run("v12 create of another room", func(t *testing.T) {
		// A create event is judged by rule 1 alone (finding D2, settled in the text).
		if err := s.Check(o.create, nil); err != nil {
			t.Errorf("a valid v12 create of another room: %v, want allowed by rule 1", err)
		}
	})
	for _, id := range claimkit.VersionIDs() {
		r, o := buildRoom(t, id, ""), buildRoom(t, id, "!other:a.example")
		s, _ := authrules.NewState(r.v, r.state())
		t.Run("v"+id+" hand-made event of another room", func(t *testing.T) {
			err := s.Check(handMade(o.msg), nil)
			if r.v.Format.RoomIDFromCreateEvent {
				var rej *authrules.Rejection
				if !errors.As(err, &rej) || rej.Rule != "2" {
					t.Errorf("%v, want rule 2", err)
				}
				return
			}
			fatalMalformed(t, err, "")
		})
	}
}

// The same entry, v12 partial state: "A v12 Options.Create of another room than the state's is
// refused the same way (it counts only for a state without its create: a partial state)";
// Options.Create's doc: "[State.CheckWithOptions] ... refuses one of another room than the
// state's events". And "Until 2026-12-01 ... a v12 state without its create given another
// room's create, judged an event of any room".
func TestV12PartialStateOptionsCreate(t *testing.T) {
	r, o := buildRoom(t, "12", ""), buildRoom(t, "12", "!other:a.example")
	partial, err := authrules.NewState(r.v, r.state()[1:])
	if err != nil {
		t.Fatal(err)
	}
	full, _ := authrules.NewState(r.v, r.state())
	cases := []struct {
		name string
		s    *authrules.State
		ev   *pdu.Event
		opts authrules.Options
		want string // "ok", "fatal", "rule 2"
	}{
		{"partial, own create", partial, r.msg, authrules.Options{Create: r.create}, "ok"},
		{"partial, another room's create, own event", partial, r.msg, authrules.Options{Create: o.create}, "fatal"},
		{"partial, another room's create, its event", partial, o.msg, authrules.Options{Create: o.create}, "fatal"},
		{"partial, own create, another room's event", partial, o.msg, authrules.Options{Create: r.create}, "rule 2"},
		{"partial, no create, another room's event", partial, o.msg, authrules.Options{}, "fatal-or-rule2"},
		{"full, another room's create", full, r.msg, authrules.Options{Create: o.create}, "fatal"},
		{"full, own create", full, r.msg, authrules.Options{Create: r.create}, "ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.s.CheckWithOptions(c.ev, c.opts)
			var rej *authrules.Rejection
			errors.As(err, &rej)
			switch c.want {
			case "ok":
				if err != nil {
					t.Errorf("%v, want allowed", err)
				}
			case "fatal":
				fatalMalformed(t, err, "")
			case "rule 2":
				if rej == nil || rej.Rule != "2" {
					t.Errorf("%v, want rule 2", err)
				}
			case "fatal-or-rule2":
				if rej == nil || !(rej.Rule == "2" || (rej.Rule == "" && rej.Severity == authrules.SeverityFatal)) {
					t.Errorf("%v, want a refusal", err)
				}
			}
		})
	}
}

// State.Room's doc: "the ID of the room the state's events belong to (the room of its first
// event ...), "" for an empty or nil State."
func TestStateRoom(t *testing.T) {
	var nilState *authrules.State
	if got := nilState.Room(); got != "" {
		t.Errorf("nil State: %q", got)
	}
	for _, id := range claimkit.VersionIDs() {
		r := buildRoom(t, id, "")
		empty, _ := authrules.NewState(r.v, nil)
		if got := empty.Room(); got != "" {
			t.Errorf("v%s empty: %q", id, got)
		}
		s, _ := authrules.NewState(r.v, r.state())
		if got := s.Room(); got != r.id {
			t.Errorf("v%s: Room() = %q, want %q", id, got, r.id)
		}
		// the first event decides, also when it is not the create
		s2, _ := authrules.NewState(r.v, []*pdu.Event{r.bob})
		if got := s2.Room(); got != r.id {
			t.Errorf("v%s state of bob's join: Room() = %q, want %q", id, got, r.id)
		}
		// Apply of the first event of an empty state sets it
		if err := empty.Apply(r.jr); err != nil || empty.Room() != r.id {
			t.Errorf("v%s Apply into empty: %v, Room() = %q", id, err, empty.Room())
		}
	}
}

// State.AuthEvents's doc: "An event whose room_id is set and is not the room of the state's
// events is refused (a fatal [*Rejection] matching [ErrMalformed]), as [State.Check] refuses
// it"; decisions: "(an event being built may leave room_id empty)".
func TestStateAuthEventsOtherRoom(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		r, o := buildRoom(t, id, ""), buildRoom(t, id, "!other:a.example")
		s, _ := authrules.NewState(r.v, r.state())
		t.Run("v"+id+"/another room", func(t *testing.T) {
			_, err := s.AuthEvents(o.msg)
			fatalMalformed(t, err, "")
		})
		t.Run("v"+id+"/empty room_id", func(t *testing.T) {
			hm := handMade(r.msg)
			hm.RoomID = ""
			got, err := s.AuthEvents(hm)
			if err != nil || len(got) == 0 {
				t.Errorf("%v, %d events; want the auth events", err, len(got))
			}
		})
		t.Run("v"+id+"/own room", func(t *testing.T) {
			if _, err := s.AuthEvents(r.msg); err != nil {
				t.Error(err)
			}
		})
		t.Run("v"+id+"/create of another room", func(t *testing.T) {
			if r.v.Format.RoomIDFromCreateEvent {
				t.Skip("a v12 create has no room_id")
			}
			// State.AuthEvents' doc: "An event other than an m.room.create (which has no auth
			// events) ... is refused" (finding D3: the text named no exception).
			got, err := s.AuthEvents(o.create)
			if err != nil || len(got) != 0 {
				t.Errorf("AuthEvents of another room's create: %v, %v; want none, no error", got, err)
			}
		})
	}
}

// decisions: "policyserver.Check refuses an event of another room or room version than the
// state's (ErrMalformed)"; policyserver.Check's doc: "An event of another room than the
// state's, or parsed for another room version, is refused ([ErrMalformed])"; Error.Err's doc:
// "ErrMalformed (AddSignature, and Check given an event of another room or room version ...)".
func TestPolicyServerCheckOtherRoomOrVersion(t *testing.T) {
	for _, p := range pairs {
		asked, parsed := buildRoom(t, p[0], ""), buildRoom(t, p[1], "")
		other := buildRoom(t, p[0], "!other:a.example")
		s, _ := authrules.NewState(asked.v, asked.state())
		for _, c := range []struct {
			name string
			ev   *pdu.Event
		}{{"version " + p[1], parsed.msg}, {"another room", other.msg}} {
			t.Run("v"+p[0]+"/"+c.name, func(t *testing.T) {
				err := policyserver.Check(s, c.ev)
				var pe *policyserver.Error
				if !errors.As(err, &pe) || !errors.Is(err, policyserver.ErrMalformed) || pe.Err != policyserver.ErrMalformed {
					t.Errorf("%v (%T), want *policyserver.Error with Err ErrMalformed", err, err)
				}
			})
		}
		t.Run("v"+p[0]+"/own event, hand-made", func(t *testing.T) {
			if err := policyserver.Check(s, handMade(asked.msg)); err != nil {
				t.Errorf("%v, want nil (no Policy Server)", err)
			}
		})
	}
}

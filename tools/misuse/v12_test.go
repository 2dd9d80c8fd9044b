package misuse

import (
	"errors"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// room12 builds a v12 public room created by sender; it returns its events
// (create first) and its room ID.
func room12(t testing.TB, sender string, ts int64) ([]*pdu.Event, string) {
	t.Helper()
	v := claimkit.Ver(t, "12")
	c := ev(t, v, obj{"type": "m.room.create", "state_key": "", "sender": sender, "origin_server_ts": ts, "content": obj{"room_version": "12"}})
	id := c.Room()
	out := []*pdu.Event{c}
	for _, e := range []obj{
		{"type": "m.room.member", "state_key": sender, "sender": sender, "room_id": id, "content": obj{"membership": "join"}},
		{"type": "m.room.power_levels", "state_key": "", "sender": sender, "room_id": id, "content": obj{"users": obj{}}},
		{"type": "m.room.join_rules", "state_key": "", "sender": sender, "room_id": id, "content": obj{"join_rule": "public"}},
	} {
		out = append(out, ev(t, v, e))
	}
	return out, id
}

func TestV12(t *testing.T) {
	v12 := claimkit.Ver(t, "12")
	x, xid := room12(t, "@alice:a.example", 1)
	y, yid := room12(t, "@alice:a.example", 2)
	sX := stateOf(t, v12, x)
	bobJoin := func(roomID string, authEvents ...*pdu.Event) *pdu.Event {
		ids := []any{}
		for _, a := range authEvents {
			ids = append(ids, a.EventID)
		}
		return ev(t, v12, obj{"type": "m.room.member", "state_key": "@bob:c.example", "sender": "@bob:c.example", "room_id": roomID,
			"auth_events": ids, "content": obj{"membership": "join"}})
	}
	runProbes(t, []probe{
		{"State.Check/baseline", "", func(t *testing.T) {
			if err := sX.Check(bobJoin(xid), nil); err != nil {
				t.Fatal(err)
			}
			if err := authrules.Check(v12, bobJoin(xid, x[2], x[3]), []*pdu.Event{x[0], x[2], x[3]}, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"State.Check/event-of-another-room", "", func(t *testing.T) {
			if err := sX.Check(bobJoin(yid), nil); !authrules.Rejected(err) {
				t.Fatal(err)
			}
		}},
		{"State.CheckWithOptions/Create-of-another-room-ignored", "", func(t *testing.T) {
			// The event is of room X, the state is X's (with its create), but Options.Create is
			// Y's create. The docs ("When nil, ... State.CheckWithOptions uses the state's")
			// imply a non-nil Create is used; it is silently ignored when the state has a
			// create. Expected: refuse the contradiction, or document that the state's wins.
			err := sX.CheckWithOptions(bobJoin(xid), authrules.Options{Create: y[0]})
			if !authrules.Rejected(err) {
				t.Fatalf("Options.Create of another room silently ignored: %v", err)
			}
		}},
		{"State.CheckWithOptions/state-without-create-Create-and-event-of-another-room", "", func(t *testing.T) {
			// A partial state of room X (no create), and an event and Create of room Y: X's
			// members and power levels would judge Y's event.
			s := stateOf(t, v12, x[1:])
			err := s.CheckWithOptions(bobJoin(yid), authrules.Options{Create: y[0]})
			if !authrules.Rejected(err) {
				t.Fatalf("room Y's event judged by room X's partial state: %v", err)
			}
		}},
		{"State.CheckWithOptions/Create-and-event-of-another-room", "", func(t *testing.T) {
			// Event and Create of room Y against X's state: X's power levels, members and
			// join rules would judge Y's event.
			err := sX.CheckWithOptions(bobJoin(yid), authrules.Options{Create: y[0]})
			if !authrules.Rejected(err) {
				t.Fatalf("room Y's event judged by room X's state: %v", err)
			}
		}},
		{"Check/Options.Create-of-another-room", "", func(t *testing.T) {
			err := authrules.CheckWithOptions(v12, bobJoin(xid, x[2], x[3]), []*pdu.Event{x[2], x[3]}, authrules.Options{Create: y[0]})
			if !authrules.Rejected(err) {
				t.Fatalf("accepted with another room's create: %v", err)
			}
		}},
		{"Check/Options.Create-not-a-create", "", func(t *testing.T) {
			err := authrules.CheckWithOptions(v12, bobJoin(xid, x[2], x[3]), []*pdu.Event{x[2], x[3]}, authrules.Options{Create: x[1]})
			if !authrules.Rejected(err) {
				t.Fatalf("accepted with a member event as create: %v", err)
			}
		}},
		{"NewState/events-of-two-v12-rooms", "", func(t *testing.T) {
			if _, err := authrules.NewState(v12, append(slices.Clone(x), y[1])); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if _, err := authrules.NewState(v12, []*pdu.Event{x[0], y[0]}); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
		}},
		{"State.Apply/create-of-another-room", "", func(t *testing.T) {
			s := stateOf(t, v12, x[1:]) // no create yet
			if err := s.Apply(y[0]); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatalf("state of room X took room Y's create: %v", err)
			}
		}},
		{"Room/hand-made-v12-create-without-EventID", "", func(t *testing.T) {
			c := &pdu.Event{Type: "m.room.create", Version: v12}
			if c.Room() != "" {
				t.Fatal(c.Room())
			}
		}},
		{"AuthEventsNeeded/zero-version", "", func(t *testing.T) {
			if _, err := authrules.AuthEventsNeeded(roomversion.Version{}, x[1]); err == nil {
				t.Fatal("no error")
			}
		}},
	})
}

package authrules

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/pdu"
)

// TestCheckFederation: State.CheckFederation answers rule 3 (v12: rule 4) for a user before any
// event of theirs exists, exactly as State.Check answers it on that user's join to a public
// room: m.federate false refuses users of any server but the create event's; true, absent or
// a non-boolean value refuses no one (only JSON false counts). Found missing by tools/scenarios
// S6: membership's make_join and knock decisions offered templates the rules then rejected.
func TestCheckFederation(t *testing.T) {
	for _, id := range []string{"1", "6", "10", "11", "12"} {
		v := mustVersion(t, id)
		for _, c := range []struct {
			name     string
			federate string // the m.federate member of the create content, "" for none
			user     string
			refused  bool
		}{
			{"false, another server", `,"m.federate":false`, "@bob:b.example", true},
			{"false, the creator's server", `,"m.federate":false`, "@amy:a.example", false},
			{"false, a port is another server", `,"m.federate":false`, "@amy:a.example:8448", true},
			{"true, another server", `,"m.federate":true`, "@bob:b.example", false},
			{"absent, another server", "", "@bob:b.example", false},
			{"a string \"false\", another server", `,"m.federate":"false"`, "@bob:b.example", false},
		} {
			t.Run("v"+id+"/"+c.name, func(t *testing.T) {
				b := newBuilder(t, v, "!r:a.example")
				create, err := b.Build(json.RawMessage(`{"type":"m.room.create","state_key":"","sender":"@alice:a.example",
					"content":{"creator":"@alice:a.example","room_version":"`+id+`"`+c.federate+`}}`), nil)
				if err != nil {
					t.Fatal(err)
				}
				if v.Format.RoomIDFromCreateEvent {
					b.RoomID = "!" + create.EventID[1:]
				}
				var evs []*pdu.Event
				for _, tmpl := range []string{`"alice_join"`, `"jr_public"`} {
					ev, err := b.Build(json.RawMessage(tmpl), nil)
					if err != nil {
						t.Fatal(err)
					}
					evs = append(evs, ev)
				}
				s, err := NewState(v, append([]*pdu.Event{create}, evs...))
				if err != nil {
					t.Fatal(err)
				}
				fedErr := s.CheckFederation(c.user)
				err = fedErr
				var rej *Rejection
				wantRule := "3"
				if v.Format.RoomIDFromCreateEvent {
					wantRule = "4"
				}
				switch {
				case !c.refused && err != nil:
					t.Fatalf("refused: %v", err)
				case c.refused && (!errors.As(err, &rej) || rej.Rule != wantRule || !errors.Is(err, ErrNotFederated) || rej.Severity != SeverityError):
					t.Fatalf("%v, want a rule %s rejection matching ErrNotFederated", err, wantRule)
				}
				join, err := b.Build(json.RawMessage(`{"type":"m.room.member","state_key":"`+c.user+`","sender":"`+c.user+`","content":{"membership":"join"}}`), nil)
				if err != nil {
					t.Fatal(err)
				}
				got := s.Check(join, nil)
				if (got != nil) != c.refused || (c.refused && got.Error() != fedErr.Error()) {
					t.Errorf("State.Check of the user's join: %v; CheckFederation: %v", got, fedErr)
				}
			})
		}
	}
	var nilState *State
	if err := nilState.CheckFederation("@bob:b.example"); !errors.Is(err, ErrInvalidState) {
		t.Errorf("nil State: %v, want ErrInvalidState", err)
	}
}

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

func stateOf(t testing.TB, v roomversion.Version, evs []*pdu.Event) *authrules.State {
	t.Helper()
	s, err := authrules.NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func isFatalMalformed(t *testing.T, err error) {
	t.Helper()
	var r *authrules.Rejection
	if !errors.As(err, &r) || r.Severity != authrules.SeverityFatal || !errors.Is(err, authrules.ErrMalformed) {
		t.Fatalf("got %v, want a fatal ErrMalformed rejection", err)
	}
}

func TestAuthrules(t *testing.T) {
	v8, v9 := claimkit.Ver(t, "8"), claimkit.Ver(t, "9")
	a9 := room(t, v9, roomA)
	b9 := room(t, v9, roomB)
	a8 := room(t, v8, roomA)
	join := func(v roomversion.Version, roomID, user string) *pdu.Event {
		return ev(t, v, obj{"type": "m.room.member", "state_key": user, "sender": user, "room_id": roomID, "content": obj{"membership": "join"}})
	}
	topic := func(v roomversion.Version, roomID string) *pdu.Event {
		return ev(t, v, obj{"type": "m.room.topic", "state_key": "", "sender": "@alice:a.example", "room_id": roomID, "content": obj{"topic": "t"}})
	}
	snapshot := func(s *authrules.State) []string {
		var out []string
		for _, e := range s.Events() {
			out = append(out, e.EventID)
		}
		return out
	}
	runProbes(t, []probe{
		{"NewState/mixed-rooms", "", func(t *testing.T) {
			if _, err := authrules.NewState(v9, append(slices.Clone(a9), topic(v9, roomB))); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
		}},
		{"NewState/mixed-versions", "", func(t *testing.T) {
			if _, err := authrules.NewState(v9, append(slices.Clone(a9[:4]), a8[4])); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
		}},
		{"NewState/all-events-of-another-version-than-v", "", func(t *testing.T) {
			if _, err := authrules.NewState(v9, a8); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
		}},
		{"NewState/zero-version", "", func(t *testing.T) {
			if _, err := authrules.NewState(roomversion.Version{}, a9); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"NewState/nil-event-in-slice", "", func(t *testing.T) {
			if _, err := authrules.NewState(v9, append(slices.Clone(a9), nil)); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
		}},
		{"NewState/input-slice-reuse", "", func(t *testing.T) {
			in := slices.Clone(a9)
			s := stateOf(t, v9, in)
			before := snapshot(s)
			for i := range in {
				in[i] = b9[i]
			}
			if !slices.Equal(before, snapshot(s)) || s.Membership("@alice:a.example") != "join" {
				t.Fatal("State shares the caller's slice")
			}
		}},
		{"Events/mutate-and-append-on-result", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			before := snapshot(s)
			got := s.Events()
			got[0] = b9[0]
			_ = append(got[:1], b9[1])
			if !slices.Equal(before, snapshot(s)) {
				t.Fatal("Events shares state")
			}
		}},
		{"Creators-Members/mutate-result", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			c := s.Creators()
			c[0] = "@evil:c.example"
			m := s.Members("join")
			m[0] = "@evil:c.example"
			if s.Creators()[0] != "@alice:a.example" || !slices.Contains(s.Members("join"), "@alice:a.example") {
				t.Fatal("shared")
			}
		}},
		{"PowerLevels/Users-is-a-copy", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			s.PowerLevels().Users()["@evil:c.example"] = 100
			if s.PowerLevels().UserLevel("@evil:c.example") != 0 {
				t.Fatal("Users shares state")
			}
		}},
		{"JoinRules/Allow-is-a-copy", "", func(t *testing.T) {
			jr := ev(t, v9, obj{"type": "m.room.join_rules", "state_key": "", "sender": "@alice:a.example", "room_id": roomA,
				"content": obj{"join_rule": "restricted", "allow": []any{obj{"type": "m.room_membership", "room_id": "!x:a.example"}}}})
			s := stateOf(t, v9, append(slices.Clone(a9[:3]), jr))
			s.JoinRules().Allow[0].RoomID = "!evil:c.example"
			if s.JoinRules().Allow[0].RoomID != "!x:a.example" {
				t.Fatal("shared")
			}
		}},
		{"Apply/event-of-another-room-leaves-state-unchanged", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			before := snapshot(s)
			if err := s.Apply(join(v9, roomB, "@bob:c.example")); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if !slices.Equal(before, snapshot(s)) || s.Membership("@bob:c.example") != "" {
				t.Fatal("failed Apply changed the state")
			}
		}},
		{"Apply/event-of-another-version-leaves-state-unchanged", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			before := snapshot(s)
			if err := s.Apply(join(v8, roomA, "@bob:c.example")); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if !slices.Equal(before, snapshot(s)) || s.Membership("@bob:c.example") != "" {
				t.Fatal("failed Apply changed the state")
			}
		}},
		{"Apply/non-state-event-and-nil", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			before := snapshot(s)
			msg := ev(t, v9, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA})
			if err := s.Apply(msg); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if err := s.Apply(nil); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if !slices.Equal(before, snapshot(s)) {
				t.Fatal("changed")
			}
		}},
		{"Apply/second-create-of-another-room-in-empty-state", "", func(t *testing.T) {
			s := stateOf(t, v9, nil)
			if err := s.Apply(topic(v9, roomA)); err != nil {
				t.Fatal(err)
			}
			if err := s.Apply(b9[0]); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatalf("an empty state took room A, then accepted B's create: %v", err)
			}
		}},
		{"State.Check/event-of-another-room (fixed 2026-12-01)", "", func(t *testing.T) {
			isFatalMalformed(t, stateOf(t, v9, a9).Check(join(v9, roomB, "@bob:c.example"), ring()))
		}},
		{"State.Check/event-of-another-version (fixed 2026-12-01)", "", func(t *testing.T) {
			isFatalMalformed(t, stateOf(t, v9, a9).Check(join(v8, roomA, "@bob:c.example"), ring()))
		}},
		{"State.Check/nil-event", "", func(t *testing.T) {
			isFatalMalformed(t, stateOf(t, v9, a9).Check(nil, nil))
		}},
		{"State.Check/hand-made-event-read-as-state-version", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.message", Sender: "@alice:a.example", RoomID: roomA, Content: []byte(`{}`)}
			if err := stateOf(t, v9, a9).Check(e, nil); err != nil {
				t.Fatalf("hand-made event: %v", err)
			}
		}},
		{"State.Check/hand-made-event-nil-Content", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.member", Sender: "@bob:c.example", RoomID: roomA, StateKey: ptr("@bob:c.example"), Membership: "join"}
			err := stateOf(t, v9, a9).Check(e, nil)
			t.Logf("hand-made join with nil Content: %v", err)
		}},
		{"State.AuthEvents/event-of-another-version", "", func(t *testing.T) {
			_, err := stateOf(t, v9, a9).AuthEvents(join(v8, roomA, "@bob:c.example"))
			isFatalMalformed(t, err)
		}},
		{"State.AuthEvents/event-of-another-room", "", func(t *testing.T) {
			// State.Check refuses an event of another room (v1-11); the auth events of this
			// room's state are not the auth events of an event of another room.
			got, err := stateOf(t, v9, a9).AuthEvents(join(v9, roomB, "@bob:c.example"))
			if err == nil {
				t.Fatalf("AuthEvents picked %d events of room A for an event of room B", len(got))
			}
		}},
		{"State.AuthEvents/nil-event", "", func(t *testing.T) {
			_, err := stateOf(t, v9, a9).AuthEvents(nil)
			isFatalMalformed(t, err)
		}},
		{"nil-State/methods", "", func(t *testing.T) {
			var s *authrules.State
			if err := s.Check(a9[1], nil); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if err := s.Apply(a9[1]); !errors.Is(err, authrules.ErrInvalidState) {
				t.Fatal(err)
			}
			if s.Len() != 0 || s.Create() != nil || s.PowerLevels() == nil || s.JoinRules().Rule != "invite" {
				t.Fatal("nil state")
			}
			for range s.AllMembers("join") {
				t.Fatal("member")
			}
			if s.Version().ID != "" {
				t.Fatal("version")
			}
		}},
		{"Check/zero-version", "", func(t *testing.T) {
			if err := authrules.Check(roomversion.Version{}, a9[1], a9, nil); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"Check/event-of-another-version (fixed 2026-12-01)", "", func(t *testing.T) {
			isFatalMalformed(t, authrules.Check(v9, a8[1], a8, nil))
		}},
		{"Check/authEvents-slice-not-modified", "", func(t *testing.T) {
			in := slices.Clone(a9)
			authrules.Check(v9, join(v9, roomA, "@bob:c.example"), in, nil)
			if !slices.Equal(in, a9) {
				t.Fatal("reordered")
			}
		}},
		{"CheckWithOptions/Rejected-map-not-modified", "", func(t *testing.T) {
			m := map[string]bool{"$x": true}
			authrules.CheckWithOptions(v9, a9[1], a9, authrules.Options{Rejected: m})
			if len(m) != 1 {
				t.Fatal("modified")
			}
		}},
		{"CheckAuthChain/zero-version", "", func(t *testing.T) {
			if _, err := authrules.CheckAuthChain(roomversion.Version{}, a9, nil); err == nil {
				t.Fatal("no error")
			}
		}},
		{"CheckAuthChain/mixed-versions-and-nil", "", func(t *testing.T) {
			in := []*pdu.Event{a9[0], a8[1], nil}
			res, err := authrules.CheckAuthChain(v9, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Verdicts[0].Accepted() || res.Verdicts[1].Accepted() || res.Verdicts[2].Accepted() {
				t.Fatalf("%+v", res.Verdicts)
			}
			if in[1] != a8[1] {
				t.Fatal("input modified")
			}
		}},
		{"ParsePowerLevels/zero-version", "", func(t *testing.T) {
			if _, err := authrules.ParsePowerLevels(roomversion.Version{}, []byte(`{}`)); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"ParsePowerLevels/content-not-aliased", "", func(t *testing.T) {
			c := []byte(`{"users":{"@a:a.example":75},"ban":60}`)
			pl, err := authrules.ParsePowerLevels(v9, c)
			if err != nil {
				t.Fatal(err)
			}
			scribble(c)
			if pl.UserLevel("@a:a.example") != 75 || pl.BanLevel() != 60 {
				t.Fatal("PowerLevels aliases content")
			}
		}},
		{"DefaultPowerLevels/zero-version", "", func(t *testing.T) {
			// Every other function refuses the zero Version; this one cannot return an error.
			// Expected: the documented v1-11 answer is not given for "no version"; at least
			// the docs should say what a zero Version gives.
			pl := authrules.DefaultPowerLevels(roomversion.Version{}, []string{"@c:a.example"})
			if pl.UserLevel("@c:a.example") != 0 {
				t.Fatalf("zero Version reads as a version: creator level %d", pl.UserLevel("@c:a.example"))
			}
		}},
		{"DefaultPowerLevels/creators-not-aliased", "", func(t *testing.T) {
			c := []string{"@c:a.example"}
			pl := authrules.DefaultPowerLevels(v9, c)
			c[0] = "@evil:a.example"
			if pl.UserLevel("@c:a.example") != 100 || pl.UserLevel("@evil:a.example") != 0 {
				t.Fatal("aliased")
			}
		}},
		{"AuthEventsNeeded/hand-made-nil-Content-member", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.member", Sender: "@b:c.example", StateKey: ptr("@b:c.example"), Membership: "join"}
			keys, err := authrules.AuthEventsNeeded(v9, e)
			t.Logf("nil Content: %v %v", keys, err)
		}},
		{"MembershipRule/ParseJoinRules-zero", "", func(t *testing.T) {
			if authrules.MembershipRule(roomversion.Version{}, "join") != "" {
				t.Fatal("rule")
			}
			if authrules.ParseJoinRules(nil).Rule != "" {
				t.Fatal("nil content")
			}
		}},
	})
}

func ptr(s string) *string { return &s }

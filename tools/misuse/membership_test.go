package misuse

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func isMemberErr(t *testing.T, err error, reason error) {
	t.Helper()
	var me *membership.Error
	if !errors.As(err, &me) || (reason != nil && !errors.Is(err, reason)) {
		t.Fatalf("got %v, want *membership.Error %v", err, reason)
	}
}

func TestMembership(t *testing.T) {
	v8, v9 := claimkit.Ver(t, "8"), claimkit.Ver(t, "9")
	a9 := room(t, v9, roomA)
	sA := stateOf(t, v9, a9)
	knockRules := func(roomID string) obj {
		return obj{"type": "m.room.join_rules", "state_key": "", "sender": "@alice:a.example", "room_id": roomID, "content": obj{"join_rule": "knock"}}
	}
	joinBytes := func(v roomversion.Version, roomID, user string) []byte {
		return raw(t, v, obj{"type": "m.room.member", "state_key": user, "sender": user, "room_id": roomID, "content": obj{"membership": "join"}})
	}
	knockBytes := func(v roomversion.Version, roomID, user string) []byte {
		return raw(t, v, obj{"type": "m.room.member", "state_key": user, "sender": user, "room_id": roomID, "content": obj{"membership": "knock"}})
	}
	leaveBytes := func(v roomversion.Version, roomID, user string) []byte {
		return raw(t, v, obj{"type": "m.room.member", "state_key": user, "sender": user, "room_id": roomID, "content": obj{"membership": "leave"}})
	}
	sendLeave := func(s *authrules.State, evb []byte, auth []*pdu.Event) (membership.SendLeaveResult, error) {
		return membership.SendLeave(membership.SendLeaveRequest{State: s, Origin: "b.example", Event: evb, Keys: ring(), AuthEvents: auth})
	}
	sendJoin := func(s *authrules.State, evb []byte) (membership.SendJoinResult, error) {
		return membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Event: evb, Key: key("a.example"), Keys: ring()})
	}
	runProbes(t, []probe{
		{"SendJoin/baseline", "", func(t *testing.T) {
			if _, err := sendJoin(sA, joinBytes(v9, roomA, "@bob:c.example")); err != nil {
				t.Fatal(err)
			}
		}},
		{"SendJoin/event-of-another-room-than-State", "", func(t *testing.T) {
			_, err := sendJoin(sA, joinBytes(v9, roomB, "@bob:c.example"))
			isMemberErr(t, err, nil)
		}},
		{"SendJoin/event-of-another-version-than-State", "", func(t *testing.T) {
			// bytes valid for v8 and v9 alike: SendJoin parses them for the State's version.
			res, err := sendJoin(sA, joinBytes(v8, roomA, "@bob:c.example"))
			if err == nil && res.Parsed.Version.ID != "9" {
				t.Fatalf("parsed for %s", res.Parsed.Version.ID)
			}
		}},
		{"SendJoin/AuthEvents-of-another-room", "", func(t *testing.T) {
			b9 := room(t, v9, roomB)
			_, err := membership.SendJoin(membership.SendJoinRequest{State: sA, ResidentServer: "a.example",
				Event: joinBytes(v9, roomA, "@bob:c.example"), Key: key("a.example"), Keys: ring(), AuthEvents: b9})
			isMemberErr(t, err, nil)
		}},
		{"SendJoin/AuthEvents-of-another-version", "", func(t *testing.T) {
			a8 := room(t, v8, roomA)
			_, err := membership.SendJoin(membership.SendJoinRequest{State: sA, ResidentServer: "a.example",
				Event: joinBytes(v9, roomA, "@bob:c.example"), Key: key("a.example"), Keys: ring(), AuthEvents: a8})
			isMemberErr(t, err, nil)
		}},
		{"SendJoin/input-not-modified", "", func(t *testing.T) {
			b := joinBytes(v9, roomA, "@bob:c.example")
			in := clone(b)
			res, err := sendJoin(sA, in)
			if err != nil || !bytes.Equal(in, b) {
				t.Fatal(err)
			}
			keep := clone(res.Event)
			scribble(in)
			if !bytes.Equal(res.Event, keep) || !bytes.Equal(res.Parsed.Raw(), keep) {
				t.Fatal("result aliases the request body")
			}
		}},
		{"SendJoin/zero-Key", "", func(t *testing.T) {
			_, err := membership.SendJoin(membership.SendJoinRequest{State: sA, ResidentServer: "a.example", Event: joinBytes(v9, roomA, "@bob:c.example"), Keys: ring()})
			isMemberErr(t, err, nil)
		}},
		{"SendJoin/nil-State-and-nil-Keys", "", func(t *testing.T) {
			_, err := membership.SendJoin(membership.SendJoinRequest{ResidentServer: "a.example", Event: joinBytes(v9, roomA, "@bob:c.example"), Key: key("a.example")})
			isMemberErr(t, err, membership.ErrBadInput)
		}},
		{"SendKnock/event-of-another-room-than-State", "", func(t *testing.T) {
			evs := room(t, v9, roomA)
			evs[3] = ev(t, v9, knockRules(roomA))
			s := stateOf(t, v9, evs)
			if _, err := membership.SendKnock(membership.SendKnockRequest{State: s, Event: knockBytes(v9, roomA, "@bob:c.example"), Keys: ring()}); err != nil {
				t.Fatalf("baseline: %v", err)
			}
			_, err := membership.SendKnock(membership.SendKnockRequest{State: s, Event: knockBytes(v9, roomB, "@bob:c.example"), Keys: ring()})
			isMemberErr(t, err, nil)
		}},
		{"SendKnock/nil-State", "", func(t *testing.T) {
			_, err := membership.SendKnock(membership.SendKnockRequest{Event: knockBytes(v9, roomA, "@bob:c.example"), Keys: ring()})
			isMemberErr(t, err, membership.ErrBadInput)
		}},
		{"SendLeave/baseline", "", func(t *testing.T) {
			if _, err := sendLeave(sA, leaveBytes(v9, roomA, "@mod:b.example"), nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"SendLeave/event-of-another-room-than-State", "", func(t *testing.T) {
			_, err := sendLeave(sA, leaveBytes(v9, roomB, "@mod:b.example"), nil)
			isMemberErr(t, err, nil)
		}},
		{"SendLeave/AuthEvents-of-another-room", "", func(t *testing.T) {
			_, err := sendLeave(sA, leaveBytes(v9, roomA, "@mod:b.example"), room(t, v9, roomB))
			isMemberErr(t, err, nil)
		}},
		{"SendLeave/AuthEvents-of-another-version", "", func(t *testing.T) {
			_, err := sendLeave(sA, leaveBytes(v9, roomA, "@mod:b.example"), room(t, v8, roomA))
			isMemberErr(t, err, nil)
		}},
		{"SendLeave/a-user-not-in-the-room", "", func(t *testing.T) {
			_, err := sendLeave(sA, leaveBytes(v9, roomA, "@zed:b.example"), nil)
			isMemberErr(t, err, nil)
		}},
		{"SendLeave/input-not-modified", "", func(t *testing.T) {
			b := leaveBytes(v9, roomA, "@mod:b.example")
			in := clone(b)
			res, err := sendLeave(sA, in, nil)
			if err != nil || !bytes.Equal(in, b) {
				t.Fatal(err)
			}
			keep := clone(res.Parsed.Raw())
			scribble(in)
			if !bytes.Equal(res.Parsed.Raw(), keep) || string(res.JSON()) != "{}" {
				t.Fatal("result aliases the request body")
			}
		}},
		{"SendLeave/nil-State", "", func(t *testing.T) {
			_, err := sendLeave(nil, leaveBytes(v9, roomA, "@mod:b.example"), nil)
			isMemberErr(t, err, membership.ErrBadInput)
		}},
		{"DecideLeave-MakeLeave/nil-State", "", func(t *testing.T) {
			isMemberErr(t, membership.DecideLeave(nil, "@mod:b.example"), nil)
			_, err := membership.MakeLeave(nil, "@mod:b.example", membership.TemplateOptions{})
			isMemberErr(t, err, nil)
		}},
		{"DecideJoin-MakeJoin-MakeKnock-DecideKnock/nil-State", "", func(t *testing.T) {
			_, err := membership.DecideJoin(membership.JoinRequest{UserID: "@bob:c.example", ResidentServer: "a.example"})
			isMemberErr(t, err, membership.ErrBadInput)
			_, _, err = membership.MakeJoin(membership.JoinRequest{UserID: "@bob:c.example", ResidentServer: "a.example"}, membership.TemplateOptions{})
			isMemberErr(t, err, membership.ErrBadInput)
			_, err = membership.MakeKnock(nil, "@bob:c.example", membership.TemplateOptions{})
			isMemberErr(t, err, nil)
			err = membership.DecideKnock(nil, "@bob:c.example")
			isMemberErr(t, err, nil)
		}},
		{"CheckTransition/nil-State", "", func(t *testing.T) {
			_, err := membership.CheckTransition(nil, "@a:a.example", "@a:a.example", "join")
			isMemberErr(t, err, nil)
		}},
		{"State-readers/nil-State", "", func(t *testing.T) {
			if membership.StrippedState(nil) != nil || membership.AuthorisedServers(nil) != nil || membership.Authorisers(nil, "a.example") != nil {
				t.Fatal("non-nil")
			}
		}},
		{"MakeJoin/template-of-the-State's-room", "", func(t *testing.T) {
			_, tpl, err := membership.MakeJoin(membership.JoinRequest{State: sA, UserID: "@bob:c.example", ResidentServer: "a.example"},
				membership.TemplateOptions{Origin: "a.example", PrevEvents: []string{a9[4].EventID}, Depth: 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := membership.CheckJoinTemplate(roomA, "@bob:c.example", tpl.Event); err != nil {
				t.Fatal(err)
			}
		}},
		{"MakeJoin/PrevEvents-not-aliased", "", func(t *testing.T) {
			prev := []string{a9[4].EventID}
			_, tpl, err := membership.MakeJoin(membership.JoinRequest{State: sA, UserID: "@bob:c.example", ResidentServer: "a.example"},
				membership.TemplateOptions{Origin: "a.example", PrevEvents: prev, Depth: 2})
			if err != nil {
				t.Fatal(err)
			}
			keep := clone(tpl.Event)
			prev[0] = "$evil"
			if !bytes.Equal(keep, tpl.Event) {
				t.Fatal("aliased")
			}
		}},
		{"StripEvent/nil", "", func(t *testing.T) {
			if _, err := membership.StripEvent(nil); err == nil {
				t.Fatal("nil")
			}
		}},
		{"KnockAccepted/nil-event", "", func(t *testing.T) {
			if membership.KnockAccepted("knock", nil) {
				t.Fatal("true")
			}
		}},
		{"ClassifyMemberEvent/nil-event", "", func(t *testing.T) {
			if _, ok := membership.ClassifyMemberEvent(v9, "", nil, "public"); ok {
				t.Fatal("nil")
			}
		}},
		{"ClassifyMemberEvent/zero-version", "", func(t *testing.T) {
			j := parse(t, v9, joinBytes(v9, roomA, "@bob:c.example"))
			if tr, ok := membership.ClassifyMemberEvent(roomversion.Version{}, "", j, "public"); ok {
				t.Fatalf("zero Version classified: %+v", tr)
			}
		}},
		{"ClassifyMemberEvent/event-of-another-version", "", func(t *testing.T) {
			// A knock parsed for v9 classified under v6 rules (no knocking): the answer
			// depends on which version the caller passes; the event says v9. Expected
			// as in authrules: refuse (ok=false) an event parsed for another version.
			k := parse(t, v9, knockBytes(v9, roomA, "@bob:c.example"))
			v6 := claimkit.Ver(t, "6")
			j := parse(t, v9, joinBytes(v9, roomA, "@bob:c.example"))
			if tr, ok := membership.ClassifyMemberEvent(v6, "", j, "public"); ok {
				t.Fatalf("v9 join classified under v6: %+v", tr.Meaning)
			}
			_ = k
		}},
		{"Transitions/mutating-result-Levels", "", func(t *testing.T) {
			ts := membership.Transitions(v9)
			for i := range ts {
				for j := range ts[i].Levels {
					ts[i].Levels[j] = "evil"
				}
				for j := range ts[i].JoinRules {
					ts[i].JoinRules[j] = "evil"
				}
			}
			for _, tr := range membership.Transitions(v9) {
				if slices.Contains(tr.Levels, "evil") || slices.Contains(tr.JoinRules, "evil") {
					t.Fatalf("Transitions shares its inner slices: %+v", tr)
				}
			}
		}},
		{"FindTransition/mutating-result-Levels", "", func(t *testing.T) {
			tr, ok := membership.FindTransition(v9, "leave", "ban", false, "public")
			if !ok || len(tr.Levels) == 0 {
				t.Fatal("no ban")
			}
			tr.Levels[0] = "evil"
			tr2, _ := membership.FindTransition(v9, "leave", "ban", false, "public")
			if tr2.Levels[0] == "evil" {
				t.Fatal("FindTransition shares the table")
			}
			ts := membership.Transitions(v9)
			for _, x := range ts {
				if slices.Contains(x.Levels, "evil") {
					t.Fatal("shared with Transitions")
				}
			}
		}},
		{"Transitions/zero-version", "", func(t *testing.T) {
			if ts := membership.Transitions(roomversion.Version{}); len(ts) != 0 {
				t.Fatalf("%d transitions for the zero Version, first %+v", len(ts), ts[0])
			}
		}},
		{"FindTransition/zero-version", "", func(t *testing.T) {
			if tr, ok := membership.FindTransition(roomversion.Version{}, "leave", "join", true, "public"); ok {
				t.Fatalf("found %+v", tr)
			}
		}},
		{"JoinRuleSupported/zero-version", "", func(t *testing.T) {
			if membership.JoinRuleSupported(roomversion.Version{}, "public") {
				t.Fatal("zero Version supports the public join rule")
			}
		}},
		{"KnockAllowedByJoinRule/zero-version", "", func(t *testing.T) {
			if membership.KnockAllowedByJoinRule(roomversion.Version{}, "knock") {
				t.Fatal("zero Version allows knocking")
			}
		}},
		{"StripEvent/hand-made-nil-Content", "", func(t *testing.T) {
			// The stripped form's content must be an object (client-server-api "Stripped
			// state"); a hand-made event with nil Content gives "content":null.
			out, err := membership.StripEvent(&pdu.Event{Type: "m.room.name", Sender: "@a:a.example", StateKey: ptr("")})
			if err == nil && bytes.Contains(out, []byte(`"content":null`)) {
				t.Fatalf("%s", out)
			}
		}},
		{"EvaluateConditions/nil-RoomMemberships", "", func(t *testing.T) {
			r := membership.EvaluateConditions([]membership.AllowCondition{{Type: "m.room_membership", RoomID: "!x:a.example"}}, "@b:c.example", nil, false)
			if r.Met || len(r.Unverifiable) != 1 {
				t.Fatalf("%+v", r)
			}
		}},
		{"SignInvite/zero-version-and-zero-key", "", func(t *testing.T) {
			inv := raw(t, v9, obj{"type": "m.room.member", "state_key": "@bob:c.example", "sender": "@alice:a.example", "room_id": roomA, "content": obj{"membership": "invite"}})
			_, err := membership.SignInvite(membership.InviteRequest{Event: inv, LocalServer: "c.example", Key: key("c.example"), Keys: ring(), RoomState: membership.StrippedStateSkip})
			isMemberErr(t, err, nil)
			_, err = membership.SignInvite(membership.InviteRequest{RoomVersion: v9, Event: inv, LocalServer: "c.example", Keys: ring(), RoomState: membership.StrippedStateSkip})
			isMemberErr(t, err, nil)
		}},
		{"SignInvite/RoomState-of-another-room-is-a-problem", "", func(t *testing.T) {
			inv := raw(t, v9, obj{"type": "m.room.member", "state_key": "@bob:c.example", "sender": "@alice:a.example", "room_id": roomA, "content": obj{"membership": "invite"}})
			b9 := room(t, v9, roomB)
			res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: v9, Event: inv, LocalServer: "c.example", Key: key("c.example"), Keys: ring(),
				InviteRoomState: []json.RawMessage{b9[0].Raw()}, RoomState: membership.StrippedStateWarn})
			if err != nil || len(res.RoomState) != 0 || len(res.Warnings) == 0 {
				t.Fatalf("%v %+v", err, res)
			}
		}},
		{"SignInvite/input-not-modified", "", func(t *testing.T) {
			inv := raw(t, v9, obj{"type": "m.room.member", "state_key": "@bob:c.example", "sender": "@alice:a.example", "room_id": roomA, "content": obj{"membership": "invite"}})
			in := clone(inv)
			res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: v9, Event: in, LocalServer: "c.example", Key: key("c.example"), Keys: ring(), RoomState: membership.StrippedStateSkip})
			if err != nil || !bytes.Equal(in, inv) {
				t.Fatal(err)
			}
			keep := clone(res.Event)
			scribble(in)
			if !bytes.Equal(res.Event, keep) {
				t.Fatal("aliased")
			}
		}},
		{"CheckStrippedState/zero-version", "", func(t *testing.T) {
			valid, problems := membership.CheckStrippedState(roomversion.Version{}, roomA, []json.RawMessage{a9[0].Raw()}, ring())
			if len(valid) != 0 || len(problems) == 0 {
				t.Fatalf("%v %v", valid, problems)
			}
		}},
		{"CheckSendJoinResponse/zero-version-nil-keys", "", func(t *testing.T) {
			b := joinBytes(v9, roomA, "@bob:c.example")
			_, err := membership.CheckSendJoinResponse(roomversion.Version{}, b, b, "a.example", nil)
			isMemberErr(t, err, nil)
			_, err = membership.CheckSendJoinResponse(v9, b, b, "a.example", nil)
			isMemberErr(t, err, nil)
		}},
		{"CheckSendJoinResponse/mixed-sent-of-another-room", "", func(t *testing.T) {
			sent := joinBytes(v9, roomA, "@bob:c.example")
			other := joinBytes(v9, roomB, "@bob:c.example")
			ret, _ := signing.CountersignEvent(v9, other, "a.example", key("a.example"))
			_, err := membership.CheckSendJoinResponse(v9, sent, ret, "a.example", ring())
			isMemberErr(t, err, membership.ErrResponseMismatch)
		}},
		{"SignTemplate/zero-version-zero-key", "", func(t *testing.T) {
			tpl := []byte(`{"type":"m.room.member","state_key":"@bob:c.example","sender":"@bob:c.example","room_id":"!a:a.example","content":{"membership":"join"},"auth_events":[],"prev_events":[],"depth":2}`)
			if _, err := membership.SignTemplate(roomversion.Version{}, tpl, "c.example", 1, "", "c.example", key("c.example")); err == nil {
				t.Fatal("zero version")
			}
			if _, err := membership.SignTemplate(v9, tpl, "c.example", 1, "", "c.example", signing.SigningKey{}); err == nil {
				t.Fatal("zero key")
			}
		}},
		{"ParseAllowConditions-CheckJoinTemplate/nil", "", func(t *testing.T) {
			if _, err := membership.ParseAllowConditions(nil); err == nil {
				t.Fatal("nil content")
			}
			isMemberErr(t, membership.CheckJoinTemplate(roomA, "@b:c.example", nil), membership.ErrBadTemplate)
		}},
		{"Transition.RequiredLevel/nil-pl", "", func(t *testing.T) {
			tr, _ := membership.FindTransition(v9, "leave", "ban", false, "public")
			if tr.RequiredLevel(nil) != 50 {
				t.Fatal(tr.RequiredLevel(nil))
			}
		}},
	})
}

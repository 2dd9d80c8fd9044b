package membership

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// FuzzJoinDecision feeds arbitrary bytes to the join-decision input parser and, when they
// parse, to DecideJoin and DecisionJSON, and with the same state and user to DecideKnock,
// MakeKnock, DecideLeave, MakeLeave and CheckTransition (every membership, by the user and by
// the room's first member): no panic, every error an *Error, every output JSON.
func FuzzJoinDecision(f *testing.F) {
	var cases []joinCase
	loadCases(f, "join_decision.json", &cases)
	for i, c := range cases {
		if i%6 == 0 {
			f.Add(joinInput(f, c))
		}
	}
	f.Add([]byte(`{"room_version":"9","state":[],"user_id":"@a:b","resident_server":"b","rooms":{}}`))
	f.Add([]byte(`{"room_version":"99"}`))
	f.Add([]byte(`{"room_version":"9","state":[],"user_id":"@a:b","resident_server":"b","ver":["1","9"],"origin":"c"}`))
	f.Add([]byte(`{"room_version":"9","state":[{}],"user_id":"@a:b","resident_server":"b","rooms":{"!r":{"@a:b":1}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseJoinRequest(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || !errors.Is(err, ErrBadInput) {
				t.Fatalf("parse error %T %v", err, err)
			}
			return
		}
		d, err := DecideJoin(req)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("decision error %T %v", err, err)
			}
		}
		if !json.Valid(DecisionJSON(d, err)) {
			t.Fatalf("invalid output %s", DecisionJSON(d, err))
		}
		isError := func(what string, err error) {
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("%s error %T %v", what, err, err)
			}
		}
		isError("DecideKnock", DecideKnock(req.State, req.UserID))
		isError("DecideLeave", DecideLeave(req.State, req.UserID))
		opts := TemplateOptions{Origin: req.ResidentServer, OriginServerTS: 1, PrevEvents: []string{"$prev"}, Depth: 1}
		for what, mk := range map[string]func(*authrules.State, string, TemplateOptions) (Template, error){"MakeKnock": MakeKnock, "MakeLeave": MakeLeave} {
			if tm, err := mk(req.State, req.UserID, opts); err == nil {
				if !json.Valid(tm.Event) {
					t.Fatalf("%s template is not JSON: %s", what, tm.Event)
				}
			} else {
				isError(what, err)
			}
		}
		senders := []string{req.UserID}
		if members := req.State.Members("join"); len(members) > 0 {
			senders = append(senders, members[0])
		}
		for _, sender := range senders {
			for _, to := range []string{"join", "invite", "leave", "ban", "knock", "x"} {
				tr, err := CheckTransition(req.State, sender, req.UserID, to)
				isError("CheckTransition", err)
				if err == nil && tr.To != to {
					t.Fatalf("CheckTransition to %q gave a transition to %q", to, tr.To)
				}
			}
		}
	})
}

// FuzzParseAllowConditions: arbitrary join rules content.
func FuzzParseAllowConditions(f *testing.F) {
	f.Add([]byte(`{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!a:b"}]}`))
	f.Add([]byte(`{"allow":[1,null,{"type":"m.room_membership"},{"room_id":"x","type":"m.room_membership","room_id":5}]}`))
	f.Add([]byte(`{"allow":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		conds, err := ParseAllowConditions(data)
		if err != nil {
			return
		}
		if len(conds) > len(data)/42 { // the shortest valid condition, {"type":"m.room_membership","room_id":"!"}, is 42 bytes
			t.Fatalf("%d conditions from %d bytes", len(conds), len(data))
		}
		for _, c := range conds {
			if c.Type != ConditionRoomMembership || !strings.HasPrefix(c.RoomID, "!") {
				t.Fatalf("invalid condition kept: %+v", c)
			}
		}
		_ = EvaluateConditions(conds, "@u:s", KnownRooms{"!a:b": {"@u:s": "join"}}, false)
	})
}

// FuzzCheckJoinTemplate: arbitrary make_join responses.
func FuzzCheckJoinTemplate(f *testing.F) {
	f.Add([]byte(`{"type":"m.room.member","room_id":"!r:a","sender":"@z:z","state_key":"@z:z","content":{"membership":"join"}}`))
	f.Add([]byte(`{"content":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckJoinTemplate("!r:a", "@z:z", data)
		if err != nil && !errors.Is(err, ErrBadTemplate) {
			t.Fatalf("error %v", err)
		}
		if err == nil {
			// A template that passes can be signed.
			v := mustVersion(t, "10")
			if _, err := SignTemplate(v, data, "z", 1, "", "z", serverKey(t, "z")); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("SignTemplate: %T %v", err, err)
				}
			}
		}
	})
}

// FuzzSendJoin: arbitrary /send_join bodies against a restricted room.
func FuzzSendJoin(f *testing.F) {
	b, rooms, tmpl, signed := restrictedJoinF(f)
	f.Add(signed)
	f.Add(tmpl.Event)
	f.Add([]byte(`{}`))
	s := b.stateOf()
	key := serverKey(f, resident)
	keys := keyRing(f, joinSrv)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := SendJoin(SendJoinRequest{State: s, ResidentServer: resident, Rooms: rooms, Event: data, Key: key, Keys: keys})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 403) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if err := signing.VerifyEventSignature(res.Parsed, resident, keyRing(t, resident)); err != nil {
			t.Fatalf("accepted event without a valid resident signature: %v", err)
		}
		sameButSignatures(t, s.Version(), data, res.Event)
	})
}

// FuzzSendLeave: arbitrary /send_leave bodies against a room where joiner is invited, and the
// same bytes as a make_leave response (CheckLeaveTemplate, then SignTemplate when it passes). No
// panic; every refusal an *Error of status 400 or 403 (502 for a template); an accepted leave is
// the body itself (the resident adds nothing), a leave of its sender, signed by the sender's
// server, that the auth rules accept against the state.
func FuzzSendLeave(f *testing.F) {
	b, s, tmpl, signed := leaveSetup(f, "10")
	f.Add(signed)
	var pretty bytes.Buffer // the signed leave indented: valid too (tools/claimsf F6)
	if err := json.Indent(&pretty, signed, "", "  "); err != nil {
		f.Fatal(err)
	}
	f.Add(pretty.Bytes())
	f.Add(tmpl.Event)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"type":"m.room.member","content":{"membership":"leave"}}`))
	roomID, _ := roomIDOf(s)
	keys := keyRing(f, joinSrv)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckLeaveTemplate(roomID, joiner, data); err == nil {
			if _, err := SignTemplate(b.v, data, joinSrv, 1, "", joinSrv, serverKey(t, joinSrv)); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("SignTemplate: %T %v", err, err)
				}
			}
		} else if !errors.Is(err, ErrBadTemplate) {
			t.Fatalf("CheckLeaveTemplate: %v", err)
		}
		res, err := SendLeave(SendLeaveRequest{State: s, RoomID: roomID, Origin: joinSrv, Event: data, Keys: keys})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 403) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		ev := res.Parsed
		// The accepted leave is the body in canonical form (a validly signed body need not be
		// canonical: the signatures cover the canonical form).
		canon, cerr := canonicaljson.Append(nil, data, canonicaljson.Options{Strict: s.Version().Format.StrictCanonicalJSON})
		if cerr != nil || !bytes.Equal(ev.Raw(), canon) || ev.Membership != "leave" || !ev.StateKeyEquals(ev.Sender) || serverOf(ev.Sender) != joinSrv {
			t.Fatalf("accepted %s", ev.Raw())
		}
		if err := signing.VerifyEventSignature(ev, joinSrv, keys); err != nil {
			t.Fatalf("accepted a leave without a valid signature of its sender's server: %v", err)
		}
		if err := s.Check(ev, keys); err != nil {
			t.Fatalf("accepted a leave the auth rules reject: %v", err)
		}
	})
}

// sameButSignatures fails unless out, a countersigned event, is in its canonical form equal
// to in but for `signatures`, and has in's event ID.
func sameButSignatures(t *testing.T, v roomversion.Version, in, out []byte) {
	t.Helper()
	a, err1 := withoutSignatures(v, in)
	b, err2 := withoutSignatures(v, out)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Fatalf("event changed beyond its signatures (%v, %v):\n%s\n%s", err1, err2, a, b)
	}
	idIn, err1 := signing.EventID(v, in)
	idOut, err2 := signing.EventID(v, out)
	if err1 != nil || err2 != nil || idIn != idOut {
		t.Fatalf("event ID %s became %s (%v, %v)", idIn, idOut, err1, err2)
	}
}

func restrictedRoomF(f *testing.F) *builder {
	return restrictedRoom(f, mustVersion(f, "10"), "restricted", nil)
}

// restrictedJoinF returns a restricted room, the rooms that let joiner in, the make_join
// template for joiner and that template signed by joiner's server: what /send_join receives.
func restrictedJoinF(f *testing.F) (*builder, KnownRooms, Template, []byte) {
	b := restrictedRoomF(f)
	rooms := KnownRooms{spaceID: {joiner: "join"}}
	_, tmpl, err := MakeJoin(JoinRequest{State: b.stateOf(), UserID: joiner, ResidentServer: resident, Rooms: rooms}, templateOpts(b))
	if err != nil {
		f.Fatal(err)
	}
	signed, err := SignTemplate(b.v, tmpl.Event, joinSrv, 1, "", joinSrv, serverKey(f, joinSrv))
	if err != nil {
		f.Fatal(err)
	}
	return b, rooms, tmpl, signed
}

// FuzzSignInvite: arbitrary invite events.
func FuzzSignInvite(f *testing.F) {
	b := knockRoom(f, "10", "invite", nil)
	sk := joiner
	inv := b.raw("m.room.member", "@alice:a.example", &sk, map[string]any{"membership": "invite"}, nil)
	f.Add(inv.Raw())
	f.Add([]byte(`{"type":"m.room.member"}`))
	key := serverKey(f, joinSrv)
	keys := keyRing(f, resident)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := SignInvite(InviteRequest{RoomVersion: b.v, Event: data, LocalServer: joinSrv, Key: key, Keys: keys, RoomState: StrippedStateSkip})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		sameButSignatures(t, b.v, data, res.Event)
	})
}

// FuzzResponsesAndStrippedState feeds arbitrary bytes to the checks a joining or knocking
// server runs on what a resident server returns — CheckKnockTemplate, CheckSendJoinResponse
// (against a correctly signed join), CheckStrippedState — and, when the bytes parse as an
// event, to StripEvent, ClassifyMemberEvent and KnockAccepted. No panic; every error an *Error
// with a 4xx/5xx status; StripEvent's output canonical JSON; CheckSendJoinResponse accepts only
// an event that verifies.
func FuzzResponsesAndStrippedState(f *testing.F) {
	b, rooms, tmpl, sent := restrictedJoinF(f)
	res, err := SendJoin(SendJoinRequest{State: b.stateOf(), ResidentServer: resident, Rooms: rooms, Event: sent, Key: serverKey(f, resident), Keys: keyRing(f, joinSrv)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(res.Event)
	f.Add(sent)
	f.Add(tmpl.Event)
	f.Add([]byte(`{"type":"m.room.member","content":{"membership":"knock"}}`))
	f.Add([]byte(`[]`))
	keys := keyRing(f, joinSrv, resident)
	f.Fuzz(func(t *testing.T, data []byte) {
		statusOK := func(what string, err error) {
			t.Helper()
			if err == nil {
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 599 {
				t.Fatalf("%s: error %T %v", what, err, err)
			}
		}
		statusOK("CheckKnockTemplate", CheckKnockTemplate(b.roomID, joiner, data))
		ev, err := CheckSendJoinResponse(b.v, sent, data, resident, keys)
		statusOK("CheckSendJoinResponse", err)
		if err == nil {
			if verr := signing.VerifyParsedEvent(ev, keys); verr != nil {
				t.Fatalf("accepted a response that does not verify: %v", verr)
			}
		}
		valid, problems := CheckStrippedState(b.v, b.roomID, []json.RawMessage{data, res.Event}, keys)
		for _, p := range problems {
			statusOK("CheckStrippedState", p)
		}
		if len(valid)+len(problems) == 0 {
			t.Fatal("CheckStrippedState reported nothing")
		}
		parsed, err := signing.ParseEvent(b.v, data)
		if err != nil {
			return
		}
		if out, err := StripEvent(parsed); err == nil {
			if c, cerr := canonicaljson.CanonicalStrict(out); cerr != nil || string(c) != string(out) {
				t.Fatalf("StripEvent output not canonical: %s (%v)", out, cerr)
			}
		}
		for _, from := range []string{"", "invite", "join", "leave", "ban", "knock"} {
			ClassifyMemberEvent(b.v, from, parsed, "restricted")
			KnockAccepted(from, parsed)
		}
	})
}

package membership

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// decisionCase is one case of testdata/membership/knock_decision.json or leave_decision.json.
type decisionCase struct {
	Name        string   `json:"name"`
	Spec        string   `json:"spec"`
	RoomVersion string   `json:"room_version"`
	Room        roomSpec `json:"room"`
	UserID      string   `json:"user_id"`
	Expect      struct {
		Decision string `json:"decision"`
		Status   int    `json:"status"`
		ErrCode  string `json:"errcode"`
		Reason   string `json:"reason"`
	} `json:"expect"`
}

// wantError fails unless err is an *Error with the status, errcode and reason.
func wantError(t *testing.T, what string, err error, status int, errcode string, reason error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != status || e.ErrCode != errcode || !errors.Is(err, reason) {
		t.Fatalf("%s: got %v, want %d %s %v", what, err, status, errcode, reason)
	}
	return e
}

// signLeave signs a leave template as the user's server, with a v1-2 event ID of that server.
func signLeave(t *testing.T, v roomversion.Version, template []byte, user string) ([]byte, *pdu.Event) {
	t.Helper()
	srv := serverOf(user)
	signed, err := SignTemplate(v, template, srv, 1700000300000, "$leave1:"+srv, srv, serverKey(t, srv))
	if err != nil {
		t.Fatalf("SignTemplate of a leave: %v", err)
	}
	ev, err := signing.ParseEvent(v, signed)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, signed)
	}
	return signed, ev
}

// authEventsOf returns the events of s that ev lists in its auth_events.
func authEventsOf(t *testing.T, s *authrules.State, ev *pdu.Event) []*pdu.Event {
	t.Helper()
	var out []*pdu.Event
	for _, id := range ev.AuthEvents {
		for _, se := range s.Events() {
			if se.EventID == id {
				out = append(out, se)
			}
		}
	}
	if len(out) != len(ev.AuthEvents) {
		t.Fatalf("auth events %v not all in the state", ev.AuthEvents)
	}
	return out
}

// TestLeaveDecisionFixtures runs testdata/membership/leave_decision.json through the whole
// handshake: DecideLeave and MakeLeave give the expected answer; for an allowed leave the
// template passes CheckLeaveTemplate, is signed by the leaving server (SignTemplate) and is
// accepted by SendLeave (with its auth events), as a self-leave by the auth rules; for a
// refused one, a leave signed by the user's server is refused by SendLeave with the same error.
func TestLeaveDecisionFixtures(t *testing.T) {
	var cases []decisionCase
	loadCases(t, "leave_decision.json", &cases)
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	var allowed, refused int
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Spec == "" {
				t.Fatal("case without spec section")
			}
			b := buildRoom(t, mustVersion(t, c.RoomVersion), c.Room)
			s := b.stateOf()
			roomID, _ := roomIDOf(s)
			errDecide := DecideLeave(s, c.UserID)
			tmpl, errMake := MakeLeave(s, c.UserID, templateOpts(b))
			if c.Expect.Decision == "allow" {
				allowed++
				if errDecide != nil || errMake != nil {
					t.Fatalf("refused: %v / %v", errDecide, errMake)
				}
				if tmpl.RoomVersion != c.RoomVersion {
					t.Fatalf("template room version %q", tmpl.RoomVersion)
				}
				if err := CheckLeaveTemplate(roomID, c.UserID, tmpl.Event); err != nil {
					t.Fatalf("CheckLeaveTemplate: %v\n%s", err, tmpl.Event)
				}
				signed, ev := signLeave(t, b.v, tmpl.Event, c.UserID)
				srv := serverOf(c.UserID)
				res, err := SendLeave(SendLeaveRequest{State: s, RoomID: roomID, EventID: ev.EventID, Origin: srv,
					Event: signed, Keys: keyRing(t, srv), AuthEvents: authEventsOf(t, s, ev)})
				if err != nil {
					t.Fatalf("SendLeave: %v", err)
				}
				// The resident accepts the event as it is: it adds no signature.
				if res.Parsed.EventID != ev.EventID || res.Parsed.Membership != pdu.MembershipLeave || string(res.Parsed.Raw()) != string(signed) {
					t.Fatalf("SendLeave accepted %s (%s):\n%s\nsent\n%s", res.Parsed.EventID, res.Parsed.Membership, res.Parsed.Raw(), signed)
				}
				from := s.Membership(c.UserID)
				tr, ok := ClassifyMemberEvent(b.v, from, res.Parsed, s.JoinRules().Rule)
				if !ok || tr.Action != ActionLeave || !tr.BySelf {
					t.Fatalf("ClassifyMemberEvent: %+v %v", tr, ok)
				}
				return
			}
			refused++
			reason := reasons[c.Expect.Reason]
			if reason == nil {
				t.Fatalf("unknown reason %q", c.Expect.Reason)
			}
			e := wantError(t, "DecideLeave", errDecide, c.Expect.Status, c.Expect.ErrCode, reason)
			wantError(t, "MakeLeave", errMake, c.Expect.Status, c.Expect.ErrCode, reason)
			if e.TryAnotherServer() {
				t.Fatal("a refused leave must not send the leaving server elsewhere")
			}
			if errMake.Error() != errDecide.Error() {
				t.Fatalf("MakeLeave says %q, DecideLeave %q", errMake, errDecide)
			}
			if reason == ErrBadInput {
				return
			}
			// The same leave, made as the resident would have, is refused by send_leave alike.
			hand, err := buildTemplate(s, c.UserID, map[string]string{"membership": pdu.MembershipLeave}, templateOpts(b))
			if err != nil {
				t.Fatal(err)
			}
			signed, ev := signLeave(t, b.v, hand.Event, c.UserID)
			srv := serverOf(c.UserID)
			_, err = SendLeave(SendLeaveRequest{State: s, RoomID: roomID, EventID: ev.EventID, Origin: srv, Event: signed, Keys: keyRing(t, srv)})
			wantError(t, "SendLeave", err, c.Expect.Status, c.Expect.ErrCode, reason)
			// And the auth rules agree that the event cannot pass.
			if s.Check(ev, keyRing(t, srv)) == nil {
				t.Fatal("the auth rules accept a leave DecideLeave refuses")
			}
		})
	}
	if allowed < 25 || refused < 15 {
		t.Fatalf("%d allowed and %d refused cases", allowed, refused)
	}
}

// TestDecideLeaveMessages: the refusals say what the user's membership is, which memberships a
// leave is possible from in the room version, and the rule, not the join rule.
func TestDecideLeaveMessages(t *testing.T) {
	for _, c := range []struct {
		version, membership, want string
	}{
		{"1", "", "@zed:z.example is not a member, so cannot leave: a user leaves only from invite or join in room version 1 (auth rule 5.4.1)"},
		{"6", "knock", "@zed:z.example is knocking, so cannot leave: a user leaves only from invite or join in room version 6 (auth rule 4.4.1)"},
		{"7", "ban", "@zed:z.example is banned, so cannot leave: a user leaves only from invite, join or knock in room version 7 (auth rule 4.4.1)"},
		{"10", "leave", "@zed:z.example is not a member, so cannot leave: a user leaves only from invite, join or knock in room version 10 (auth rule 4.5.1)"},
		{"12", "ban", "@zed:z.example is banned, so cannot leave: a user leaves only from invite, join or knock in room version 12 (auth rule 5.5.1)"},
	} {
		members := map[string]string{}
		if c.membership != "" {
			members[joiner] = c.membership
		}
		s := knockRoom(t, c.version, "public", members).stateOf()
		err := DecideLeave(s, joiner)
		var e *Error
		if !errors.As(err, &e) || e.Message != c.want {
			t.Errorf("v%s %q: %v\nwant %s", c.version, c.membership, err, c.want)
		}
	}
}

// TestLeaveBadInput: no state, the zero State (no room version) and a user ID that is not one are
// 400 M_INVALID_PARAM (ErrBadInput) from DecideLeave, MakeLeave and SendLeave, never a verdict.
func TestLeaveBadInput(t *testing.T) {
	room := knockRoom(t, "10", "invite", map[string]string{joiner: "invite"}).stateOf()
	for _, c := range []struct {
		name    string
		s       *authrules.State
		user    string
		unknown bool
	}{
		{"nil state", nil, joiner, false},
		{"zero State", &authrules.State{}, joiner, true},
		{"user ID without @", room, "zed:z.example", false},
		{"empty user ID", room, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := DecideLeave(c.s, c.user)
			wantError(t, "DecideLeave", err, 400, ErrCodeInvalidParam, ErrBadInput)
			if c.unknown && !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Errorf("zero State: %v does not match roomversion.ErrUnknownVersion", err)
			}
			_, err = MakeLeave(c.s, c.user, TemplateOptions{Origin: resident, PrevEvents: []string{"$prev"}, Depth: 1})
			wantError(t, "MakeLeave", err, 400, ErrCodeInvalidParam, ErrBadInput)
		})
	}
	_, err := SendLeave(SendLeaveRequest{Event: []byte(`{}`)})
	wantError(t, "SendLeave without state", err, 400, ErrCodeInvalidParam, ErrBadInput)
	// The zero State is the resident's fault, not the body's (tools/claimsf F7): the same
	// answer from the three send_* handlers, the body not even read.
	_, err = SendLeave(SendLeaveRequest{State: &authrules.State{}, Event: []byte(`{}`)})
	wantError(t, "SendLeave with the zero State", err, 400, ErrCodeInvalidParam, ErrBadInput)
	_, err = SendKnock(SendKnockRequest{State: &authrules.State{}, Event: []byte(`{}`)})
	wantError(t, "SendKnock with the zero State", err, 400, ErrCodeInvalidParam, ErrBadInput)
	_, err = SendJoin(SendJoinRequest{State: &authrules.State{}, Event: []byte(`{}`)})
	wantError(t, "SendJoin with the zero State", err, 400, ErrCodeInvalidParam, ErrBadInput)
	if !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("SendJoin with the zero State: %v does not match roomversion.ErrUnknownVersion", err)
	}
}

// TestMakeLeaveTemplateBytes: the make_leave template is exactly the event the spec's example
// shows (leaving-v1.yaml), completed with the auth events selection (create event but in v12,
// power levels, the user's membership), prev_events and depth from the options, and the
// response body is {"event":...,"room_version":...}; in every room version.
func TestMakeLeaveTemplateBytes(t *testing.T) {
	for n := 1; n <= 12; n++ {
		version := fmt.Sprint(n)
		t.Run("v"+version, func(t *testing.T) {
			b := knockRoom(t, version, "invite", map[string]string{joiner: "invite"})
			s := b.stateOf()
			tmpl, err := MakeLeave(s, joiner, TemplateOptions{Origin: resident, OriginServerTS: 1700000100000, PrevEvents: []string{b.prev}, Depth: 42})
			if err != nil {
				t.Fatal(err)
			}
			ref := func(id string) string {
				if b.v.Format.ReferencePairs {
					return `["` + id + `",{}]`
				}
				return `"` + id + `"`
			}
			var auth []string
			if n < 12 {
				auth = append(auth, ref(b.byKey[[2]string{pdu.TypeCreate, ""}].EventID))
			}
			auth = append(auth, ref(b.byKey[[2]string{pdu.TypePowerLevels, ""}].EventID), ref(b.byKey[[2]string{pdu.TypeMember, joiner}].EventID))
			want := `{"auth_events":[` + strings.Join(auth, ",") + `],"content":{"membership":"leave"},"depth":42,` +
				`"origin":"a.example","origin_server_ts":1700000100000,"prev_events":[` + ref(b.prev) + `],` +
				`"room_id":"` + b.roomID + `","sender":"@zed:z.example","state_key":"@zed:z.example","type":"m.room.member"}`
			if string(tmpl.Event) != want {
				t.Fatalf("template\n%s\nwant\n%s", tmpl.Event, want)
			}
			if body := string(tmpl.JSON()); body != `{"event":`+want+`,"room_version":"`+version+`"}` {
				t.Fatalf("response body %s", body)
			}
		})
	}
}

// TestCheckLeaveTemplate: the leaving server's MUST checks of leaving-v1.yaml, each field
// wrong or missing in turn; a join or knock template is not a leave template, and a leave
// template is neither of those.
func TestCheckLeaveTemplate(t *testing.T) {
	const room = "!r:a.example"
	good := `{"content":{"membership":"leave"},"room_id":"!r:a.example","sender":"@zed:z.example","state_key":"@zed:z.example","type":"m.room.member"}`
	if err := CheckLeaveTemplate(room, joiner, []byte(good)); err != nil {
		t.Fatalf("good template: %v", err)
	}
	for _, c := range []struct{ name, template string }{
		{"room_id", strings.Replace(good, `"room_id":"!r:a.example"`, `"room_id":"!other:a.example"`, 1)},
		{"no room_id", strings.Replace(good, `"room_id":"!r:a.example",`, ``, 1)},
		{"sender", strings.Replace(good, `"sender":"@zed:z.example"`, `"sender":"@eve:z.example"`, 1)},
		{"state_key", strings.Replace(good, `"state_key":"@zed:z.example"`, `"state_key":"@eve:z.example"`, 1)},
		{"no state_key", strings.Replace(good, `"state_key":"@zed:z.example",`, ``, 1)},
		{"state_key not a string", strings.Replace(good, `"state_key":"@zed:z.example"`, `"state_key":null`, 1)},
		{"type", strings.Replace(good, `"type":"m.room.member"`, `"type":"m.room.message"`, 1)},
		{"membership join", strings.Replace(good, `"leave"`, `"join"`, 1)},
		{"membership knock", strings.Replace(good, `"leave"`, `"knock"`, 1)},
		{"membership ban", strings.Replace(good, `"leave"`, `"ban"`, 1)},
		{"no membership", strings.Replace(good, `{"membership":"leave"}`, `{}`, 1)},
		{"content not an object", strings.Replace(good, `{"membership":"leave"}`, `"leave"`, 1)},
		{"not an object", `["m.room.member"]`},
		{"not JSON", `{"type":`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := wantError(t, "CheckLeaveTemplate", CheckLeaveTemplate(room, joiner, []byte(c.template)), 502, ErrCodeUnknown, ErrBadTemplate)
			if !e.TryAnotherServer() {
				t.Fatal("a malformed make_leave response should let the caller try another server")
			}
			if !strings.HasPrefix(e.Message, "make_leave template: ") {
				t.Fatalf("message %q", e.Message)
			}
		})
	}
	for _, m := range []string{"join", "knock"} {
		other := strings.Replace(good, `"leave"`, `"`+m+`"`, 1)
		if CheckLeaveTemplate(room, joiner, []byte(other)) == nil {
			t.Errorf("a %s template passes CheckLeaveTemplate", m)
		}
	}
	if CheckJoinTemplate(room, joiner, []byte(good)) == nil || CheckKnockTemplate(room, joiner, []byte(good)) == nil {
		t.Error("a leave template passes CheckJoinTemplate or CheckKnockTemplate")
	}
}

// leaveSetup is a v10 invite room with joiner invited, the make_leave template for joiner and
// that template signed by joiner's server: what /send_leave receives.
func leaveSetup(t testing.TB, version string) (*builder, *authrules.State, Template, []byte) {
	t.Helper()
	b := knockRoom(t, version, "invite", map[string]string{joiner: "invite"})
	s := b.stateOf()
	tmpl, err := MakeLeave(s, joiner, templateOpts(b))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignTemplate(b.v, tmpl.Event, joinSrv, 1700000300000, "$leave1:"+joinSrv, joinSrv, serverKey(t, joinSrv))
	if err != nil {
		t.Fatal(err)
	}
	return b, s, tmpl, signed
}

// TestSendLeaveRefusals: the body checks of leaving-v2.yaml (400 M_INVALID_PARAM), the
// decision (403) and the auth rules (403, ErrAuthRules), each with its exact status, errcode
// and reason.
func TestSendLeaveRefusals(t *testing.T) {
	b, s, _, signed := leaveSetup(t, "10")
	v := b.v
	ev, _ := signing.ParseEvent(v, signed)
	content := func(m map[string]any) map[string]any { return m["content"].(map[string]any) }
	banned := knockRoom(t, "10", "invite", map[string]string{joiner: "ban"}).stateOf()
	left := knockRoom(t, "10", "invite", map[string]string{joiner: "leave"}).stateOf()
	never := knockRoom(t, "10", "invite", nil).stateOf()
	unfederated := buildRoom(t, v, roomSpec{Creator: "@alice:a.example", JoinRules: json.RawMessage(`{"join_rule":"invite"}`),
		Members: map[string]string{joiner: "invite"}, CreateContent: map[string]any{"m.federate": false}}).stateOf()
	createOnly := []*pdu.Event{b.byKey[[2]string{pdu.TypeCreate, ""}], b.byKey[[2]string{pdu.TypePowerLevels, ""}]}

	type tc struct {
		name    string
		event   []byte
		edit    func(*SendLeaveRequest)
		status  int
		errcode string
		reason  error
	}
	cases := []tc{
		{name: "accepted"},
		{name: "not JSON", event: []byte(`{"type":`), status: 400, errcode: ErrCodeNotJSON, reason: ErrBadEvent},
		{name: "JSON but not an event", event: []byte(`{"type":"m.room.member"}`), status: 400, errcode: ErrCodeBadJSON, reason: ErrBadEvent},
		{name: "type is not m.room.member", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["type"] = "m.room.message" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "membership join in the body", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { content(m)["membership"] = "join" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "membership knock in the body", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { content(m)["membership"] = "knock" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "no membership in the body", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["content"] = map[string]any{} }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "state_key is another user (a kick)", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["state_key"] = "@alice:a.example" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "sender is another user", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["sender"] = "@eve:z.example" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "sender and state_key a user not in the room", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			m["sender"], m["state_key"] = "@eve:z.example", "@eve:z.example"
		}), status: 403, errcode: ErrCodeForbidden, reason: ErrNotPossible},
		{name: "sender not a user ID", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["sender"], m["state_key"] = "zed:z.example", "zed:z.example" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "sender not of the origin", event: signed, edit: func(r *SendLeaveRequest) { r.Origin = "evil.example" }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "room ID differs from the path", event: signed, edit: func(r *SendLeaveRequest) { r.RoomID = "!elsewhere:a.example" }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "event ID differs from the path", event: signed, edit: func(r *SendLeaveRequest) { r.EventID = "$nope" }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "signed by another server's key", event: mutate(t, v, signed, "evil.example", func(map[string]any) {}), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadSignature},
		{name: "leaving server's key unknown", event: signed, edit: func(r *SendLeaveRequest) { r.Keys = signing.KeyRing{} }, status: 400, errcode: ErrCodeInvalidParam, reason: signing.ErrUnknownKey},
		{name: "content changed after signing (content hash)", event: []byte(strings.Replace(string(signed), `"membership":"leave"`, `"membership":"leave","reason":"changed"`, 1)), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadSignature},
		{name: "banned since make_leave", event: signed, edit: func(r *SendLeaveRequest) { r.State = banned }, status: 403, errcode: ErrCodeForbidden, reason: ErrBanned},
		{name: "already left", event: signed, edit: func(r *SendLeaveRequest) { r.State = left }, status: 403, errcode: ErrCodeForbidden, reason: ErrNotPossible},
		{name: "never in the room", event: signed, edit: func(r *SendLeaveRequest) { r.State = never }, status: 403, errcode: ErrCodeForbidden, reason: ErrNotPossible},
		{name: "m.federate false", event: signed, edit: func(r *SendLeaveRequest) { r.State = unfederated; r.RoomID = "" }, status: 403, errcode: ErrCodeForbidden, reason: ErrNotFederated},
		{name: "auth events without the user's membership", event: signed, edit: func(r *SendLeaveRequest) { r.AuthEvents = createOnly }, status: 403, errcode: ErrCodeForbidden, reason: ErrAuthRules},
		{name: "an authoriser on a leave, unsigned by its server", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			content(m)["join_authorised_via_users_server"] = "@alice:a.example"
		}), edit: func(r *SendLeaveRequest) { r.Keys = keyRing(t, joinSrv, resident) }, status: 403, errcode: ErrCodeForbidden, reason: ErrAuthRules},
		{name: "no state", event: signed, edit: func(r *SendLeaveRequest) { r.State = nil }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			event := c.event
			if event == nil {
				event = signed
			}
			id, _ := signing.EventID(v, event)
			req := SendLeaveRequest{State: s, RoomID: ev.RoomID, EventID: id, Origin: joinSrv, Event: event, Keys: keyRing(t, joinSrv)}
			if c.edit != nil {
				c.edit(&req)
			}
			res, err := SendLeave(req)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(res.JSON()) != `{}` {
					t.Fatalf("JSON %s", res.JSON())
				}
				return
			}
			e := wantError(t, "SendLeave", err, c.status, c.errcode, c.reason)
			if res.Parsed != nil {
				t.Fatal("a refusal with a result")
			}
			if e.TryAnotherServer() {
				t.Fatal("TryAnotherServer on a send_leave refusal")
			}
		})
	}
}

// TestSendKnockAndSendLeaveShareTheirChecks: the body checks of send_knock and send_leave are
// one code (acceptOwnMember): a leave sent to send_knock and a knock sent to send_leave are
// refused alike, and each accepts its own.
func TestSendKnockAndSendLeaveShareTheirChecks(t *testing.T) {
	b := knockRoom(t, "10", "knock", map[string]string{joiner: "knock"})
	s := b.stateOf()
	leave, err := MakeLeave(s, joiner, templateOpts(b))
	if err != nil {
		t.Fatal(err)
	}
	knock, err := MakeKnock(s, joiner, templateOpts(b))
	if err != nil {
		t.Fatal(err)
	}
	signedLeave, _ := SignTemplate(b.v, leave.Event, joinSrv, 1, "", joinSrv, serverKey(t, joinSrv))
	signedKnock, _ := SignTemplate(b.v, knock.Event, joinSrv, 1, "", joinSrv, serverKey(t, joinSrv))
	keys := keyRing(t, joinSrv)
	if _, err := SendLeave(SendLeaveRequest{State: s, Origin: joinSrv, Event: signedLeave, Keys: keys}); err != nil {
		t.Fatalf("retracting the knock: %v", err)
	}
	if _, err := SendKnock(SendKnockRequest{State: s, Origin: joinSrv, Event: signedKnock, Keys: keys}); err != nil {
		t.Fatalf("knocking again: %v", err)
	}
	_, errL := SendLeave(SendLeaveRequest{State: s, Origin: joinSrv, Event: signedKnock, Keys: keys})
	_, errK := SendKnock(SendKnockRequest{State: s, Origin: joinSrv, Event: signedLeave, Keys: keys})
	wantError(t, "knock to send_leave", errL, 400, ErrCodeInvalidParam, ErrBadEvent)
	wantError(t, "leave to send_knock", errK, 400, ErrCodeInvalidParam, ErrBadEvent)
	if !strings.Contains(errL.Error(), `content.membership is "knock", not leave`) || !strings.Contains(errK.Error(), `content.membership is "leave", not knock`) {
		t.Fatalf("messages: %v / %v", errL, errK)
	}
}

// TestSendLeaveResultJSON: v2's body is {} (leaving-v2.yaml), and v1's, [200, {}], is made of it.
func TestSendLeaveResultJSON(t *testing.T) {
	var r SendLeaveResult
	if got := string(r.JSON()); got != `{}` {
		t.Fatalf("JSON %s", got)
	}
	v1 := `[200,` + string(r.JSON()) + `]`
	var body []any
	if err := json.Unmarshal([]byte(v1), &body); err != nil || len(body) != 2 || body[0] != float64(200) {
		t.Fatalf("v1 body %s: %v", v1, err)
	}
	a, b := r.JSON(), r.JSON()
	a[0] = 'x'
	if string(b) != `{}` {
		t.Fatal("JSON returns shared bytes")
	}
}

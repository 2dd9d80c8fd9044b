package membership

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

func TestKnockDecisionFixtures(t *testing.T) {
	var cases []decisionCase
	loadCases(t, "knock_decision.json", &cases)
	if len(cases) < 10 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Spec == "" {
				t.Fatal("case without spec section")
			}
			s := buildRoom(t, mustVersion(t, c.RoomVersion), c.Room).stateOf()
			err := DecideKnock(s, c.UserID)
			if c.Expect.Decision == "allow" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != c.Expect.Status || e.ErrCode != c.Expect.ErrCode || !errors.Is(err, reasons[c.Expect.Reason]) {
				t.Fatalf("got %v, want %d %s %s", err, c.Expect.Status, c.Expect.ErrCode, c.Expect.Reason)
			}
			if e.TryAnotherServer() {
				t.Fatal("a 403 must not send the knocking server elsewhere")
			}
		})
	}
	if _, err := SendKnock(SendKnockRequest{}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("nil state: %v", err)
	}
	if err := DecideKnock(nil, joiner); !errors.Is(err, ErrBadInput) {
		t.Fatalf("nil state: %v", err)
	}
}

// knockRoom builds a knock room (v10) with name, topic, avatar and canonical alias.
func knockRoom(t testing.TB, version, rule string, members map[string]string) *builder {
	t.Helper()
	b := buildRoom(t, mustVersion(t, version), roomSpec{
		Creator:     "@alice:a.example",
		JoinRules:   json.RawMessage(`{"join_rule":"` + rule + `"}`),
		PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":100}}`),
		Members:     members,
	})
	b.state(pdu.TypeName, "", "@alice:a.example", map[string]any{"name": "Knock knock"})
	b.state(pdu.TypeTopic, "", "@alice:a.example", map[string]any{"topic": "Who's there?"})
	b.state(pdu.TypeAvatar, "", "@alice:a.example", map[string]any{"url": "mxc://a.example/door"})
	b.state(pdu.TypeCanonicalAlias, "", "@alice:a.example", map[string]any{"alias": "#door:a.example"})
	b.state("m.room.history_visibility", "", "@alice:a.example", map[string]any{"history_visibility": "shared"})
	return b
}

// TestKnockHandshakeRoundTrip: make_knock, the knocking server's signing, send_knock and the
// stripped state, with real signatures.
func TestKnockHandshakeRoundTrip(t *testing.T) {
	for _, c := range []struct{ version, rule string }{{"7", "knock"}, {"10", "knock"}, {"10", "knock_restricted"}, {"12", "knock_restricted"}} {
		t.Run("v"+c.version+"/"+c.rule, func(t *testing.T) {
			b := knockRoom(t, c.version, c.rule, nil)
			s := b.stateOf()
			tmpl, err := MakeKnock(s, joiner, templateOpts(b))
			if err != nil {
				t.Fatalf("MakeKnock: %v", err)
			}
			roomID, _ := roomIDOf(s)
			if err := CheckKnockTemplate(roomID, joiner, tmpl.Event); err != nil {
				t.Fatalf("CheckKnockTemplate: %v", err)
			}
			signed, err := SignTemplate(b.v, tmpl.Event, joinSrv, 1700000300000, "", joinSrv, serverKey(t, joinSrv))
			if err != nil {
				t.Fatal(err)
			}
			ev, _ := signing.ParseEvent(b.v, signed)
			res, err := SendKnock(SendKnockRequest{State: s, RoomID: roomID, EventID: ev.EventID, Origin: joinSrv, Event: signed, Keys: keyRing(t, joinSrv)})
			if err != nil {
				t.Fatalf("SendKnock: %v", err)
			}
			var types []string
			for _, e := range res.KnockRoomState {
				types = append(types, e.Type)
			}
			want := "m.room.create m.room.name m.room.avatar m.room.topic m.room.join_rules m.room.canonical_alias"
			if strings.Join(types, " ") != want {
				t.Fatalf("knock_room_state types %v, want %s", types, want)
			}
			var body struct {
				KnockRoomState []json.RawMessage `json:"knock_room_state"`
			}
			if err := json.Unmarshal(res.JSON(), &body); err != nil || len(body.KnockRoomState) != len(types) {
				t.Fatalf("response %s: %v", res.JSON(), err)
			}
			// The knocking server checks the stripped state it gets back.
			valid, problems := CheckStrippedState(b.v, roomID, body.KnockRoomState, keyRing(t, resident))
			if len(problems) != 0 || len(valid) != len(types) {
				t.Fatalf("CheckStrippedState: %v", problems)
			}
			// Accepting the knock: an invite by another user.
			b.state(pdu.TypeMember, joiner, joiner, map[string]any{"membership": "knock"})
			inv := b.state(pdu.TypeMember, joiner, "@alice:a.example", map[string]any{"membership": "invite"})
			if !KnockAccepted(pdu.MembershipKnock, inv) {
				t.Fatal("invite after a knock is not an acceptance")
			}
			tr, ok := ClassifyMemberEvent(b.v, pdu.MembershipKnock, inv, c.rule)
			if !ok || tr.Meaning != "accept the knock" {
				t.Fatalf("ClassifyMemberEvent: %+v %v", tr, ok)
			}
		})
	}
}

// knockSetup is a room version 10 room with join rule knock that joiner is not in, and joiner's
// knock on it: the MakeKnock template signed by joinSrv.
func knockSetup(t testing.TB) (*builder, *authrules.State, []byte) {
	t.Helper()
	b := knockRoom(t, "10", "knock", nil)
	s := b.stateOf()
	tmpl, err := MakeKnock(s, joiner, templateOpts(b))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignTemplate(b.v, tmpl.Event, joinSrv, 1, "", joinSrv, serverKey(t, joinSrv))
	if err != nil {
		t.Fatal(err)
	}
	return b, s, signed
}

func TestSendKnockRefusals(t *testing.T) {
	b, s, signed := knockSetup(t)
	joinEv := mutate(t, b.v, signed, joinSrv, func(m map[string]any) { m["content"] = map[string]any{"membership": "join"} })
	banned := knockRoom(t, "10", "knock", map[string]string{joiner: "ban"}).stateOf()
	inviteOnly := knockRoom(t, "10", "invite", nil).stateOf()
	for _, c := range []struct {
		name   string
		state  *authrules.State
		event  []byte
		status int
		reason error
	}{
		{"join sent to send_knock", s, joinEv, 400, ErrBadEvent},
		{"banned", banned, signed, 403, ErrBanned},
		{"join rule no longer knock", inviteOnly, signed, 403, ErrKnockNotAllowed},
		{"unsigned", s, mutate(t, b.v, signed, "evil.example", func(map[string]any) {}), 400, ErrBadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := SendKnock(SendKnockRequest{State: c.state, Event: c.event, Origin: joinSrv, Keys: keyRing(t, joinSrv)})
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status || !errors.Is(err, c.reason) {
				t.Fatalf("got %v, want %d %v", err, c.status, c.reason)
			}
		})
	}
}

package scenarios

import (
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// TestRejectInviteOverFederation: dave of d.example, invited over /invite, rejects the invite
// through the leave handshake (server-server-api "Leaving Rooms (Rejecting Invites)":
// make_leave, sign, send_leave), which membership has no function for (finding S3): the
// resident builds the template by hand from the auth events selection, the leaving server
// signs it with SignTemplate, and the resident checks send_leave with VerifyEvent and the auth
// rules. The leave is then accepted everywhere as rule 4.5 (the sender is the target).
func TestRejectInviteOverFederation(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := newRoom(t, ver, "invite", "b.example")
			r.inviteAndJoin(t, "@mod:b.example")
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			v := r.f.v
			d := r.f.addServer("d.example")
			delete(r.f.servers, "d.example") // d.example is not in the room
			user := "@dave:d.example"
			inviteOver(t, r, d, user)
			// make_leave on a.example: the template, by hand.
			st := a.State(t)
			ext := a.store[a.extremity]
			content := []byte(`{"membership":"leave"}`)
			hand := &pdu.Event{Type: pdu.TypeMember, Sender: user, StateKey: str(user), Membership: "leave", Content: content, RoomID: r.f.roomID}
			auth, err := st.AuthEvents(hand)
			if err != nil {
				t.Fatal(err)
			}
			authRefs := []any{}
			prevRefs := []any{}
			for _, e := range auth {
				authRefs = append(authRefs, a.ref(e.EventID))
			}
			prevRefs = append(prevRefs, a.ref(ext.EventID))
			tmpl := map[string]any{"type": pdu.TypeMember, "sender": user, "state_key": user, "room_id": r.f.roomID,
				"content": map[string]any{"membership": "leave"}, "origin": "a.example", "origin_server_ts": r.f.now(),
				"depth": ext.Depth + 1, "prev_events": prevRefs, "auth_events": authRefs}
			tmplJSON, _ := json.Marshal(tmpl)
			// The leaving server: check (by hand: CheckJoinTemplate wants a join) and sign.
			signed, err := membership.SignTemplate(v, tmplJSON, "d.example", r.f.now(), "$leave1:d.example", "d.example", d.key)
			if err != nil {
				t.Fatalf("SignTemplate of a leave: %v", err)
			}
			// send_leave on a.example: by hand.
			ev, err := signing.ParseEvent(v, signed)
			if err != nil {
				t.Fatal(err)
			}
			if err := signing.VerifyParsedEvent(ev, r.f.keys); err != nil {
				t.Fatalf("send_leave: %v", err)
			}
			if ev.Membership != "leave" || !ev.StateKeyEquals(ev.Sender) {
				t.Fatal("send_leave: not a leave of its sender")
			}
			var rule string
			if err := st.CheckWithOptions(ev, authrules.Options{Keys: r.f.keys, Allowed: func(s string) { rule = s }}); err != nil {
				t.Fatalf("send_leave: %v", err)
			}
			if tr, ok := membership.ClassifyMemberEvent(v, "invite", ev, "invite"); !ok || tr.Action != membership.ActionLeave || !tr.BySelf {
				t.Errorf("ClassifyMemberEvent: %+v %v", tr, ok)
			}
			for _, s := range []*server{a, b} {
				rc := s.receive(t, "a.example", signed)
				if rc.Outcome != Accepted || rc.Rule != rule {
					t.Errorf("%s: %v rule %s (send_leave: %s) %v", s.name, rc.Outcome, rc.Rule, rule, rc.Err)
				}
				if got := s.State(t).Membership(user); got != "leave" {
					t.Errorf("%s: dave is %q", s.name, got)
				}
			}
		})
	}
}

// TestLeaveHandshakeFunctions: the leave handshake (make_leave, send_leave; also how a
// knock is retracted by a server not in the room) has no function of its own in membership,
// unlike join and knock (finding S3): there is no MakeLeave to build the template, no
// CheckLeaveTemplate for the leaving server's MUST checks, no SendLeave for the resident's;
// the nearest, CheckJoinTemplate and CheckKnockTemplate, refuse a leave template.
func TestLeaveHandshakeFunctions(t *testing.T) {
	tmpl := []byte(`{"type":"m.room.member","room_id":"!r:a.example","sender":"@d:d.example","state_key":"@d:d.example","content":{"membership":"leave"}}`)
	errJoin := membership.CheckJoinTemplate("!r:a.example", "@d:d.example", tmpl)
	errKnock := membership.CheckKnockTemplate("!r:a.example", "@d:d.example", tmpl)
	if errJoin == nil || errKnock == nil {
		t.Fatalf("a leave template passes a join or knock template check: %v %v", errJoin, errKnock)
	}
	knownFinding(t, "S3")
	t.Error("membership has no MakeLeave, CheckLeaveTemplate or SendLeave: TestRejectInviteOverFederation builds them by hand")
}

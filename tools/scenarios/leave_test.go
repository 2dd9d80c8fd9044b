package scenarios

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// leaveRule is the rule that allows a leave by its sender: 5.4.1 in the v1 and v3 texts (rule 4
// is m.room.aliases there), 4.4.1 in v6-7, 4.5.1 in v8-11 and 5.5.1 in v12 ("If the sender
// matches state_key, allow if and only if that user's current membership state is invite, join,
// or knock").
func leaveRule(r *room) string {
	switch r.f.v.Auth.RuleSet {
	case "v1", "v3":
		return "5.4.1"
	case "v6", "v7":
		return "4.4.1"
	}
	return ruleNo(r.f.v, "4.5.1")
}

// leaveOver runs the leave handshake of server-server-api "Leaving Rooms (Rejecting Invites)"
// for user of leaver through resident: the resident's make_leave (CheckMakeRequest without
// `ver`, MakeLeave), the leaving server's checks of the template (CheckLeaveTemplate), its
// signature (SignTemplate: in v1-2 the event ID is its own), and the resident's send_leave
// (SendLeave, with the leave's auth events). It returns the signed leave and the rule the
// resident's own check of it against its current state allowed it by.
func leaveOver(t *testing.T, r *room, resident, leaver *server, user string) ([]byte, string) {
	t.Helper()
	v := r.f.v
	if err := membership.CheckMakeRequest(v, user, leaver.name, nil); err != nil {
		t.Fatalf("make_leave request: %v", err)
	}
	st := resident.State(t)
	ext := resident.store[resident.extremity]
	tmpl, err := membership.MakeLeave(st, user, membership.TemplateOptions{Origin: resident.name, OriginServerTS: r.f.now(), PrevEvents: []string{ext.EventID}, Depth: ext.Depth + 1})
	if err != nil {
		t.Fatalf("make_leave: %v", err)
	}
	if tmpl.RoomVersion != v.ID {
		t.Fatalf("make_leave room version %q", tmpl.RoomVersion)
	}
	if err := membership.CheckLeaveTemplate(r.f.roomID, user, tmpl.Event); err != nil {
		t.Fatalf("CheckLeaveTemplate: %v", err)
	}
	signed, err := membership.SignTemplate(v, tmpl.Event, leaver.name, r.f.now(), "$leave1:"+leaver.name, leaver.name, leaver.key)
	if err != nil {
		t.Fatalf("SignTemplate: %v", err)
	}
	id, err := signing.EventID(v, signed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := membership.SendLeave(membership.SendLeaveRequest{State: st, RoomID: r.f.roomID, EventID: id, Origin: leaver.name,
		Event: signed, Keys: r.f.keys, AuthEvents: authEventsOf(t, resident, signed)})
	if err != nil {
		t.Fatalf("send_leave: %v", err)
	}
	if res.Parsed.EventID != id || string(res.Parsed.Raw()) != string(signed) || res.Parsed.Signatures.Signed(resident.name) {
		t.Fatalf("send_leave changed or countersigned the leave")
	}
	if string(res.JSON()) != `{}` {
		t.Errorf("send_leave v2 body %s", res.JSON())
	}
	var rule string
	if err := st.CheckWithOptions(res.Parsed, authrules.Options{Keys: r.f.keys, Allowed: func(s string) { rule = s }}); err != nil {
		t.Fatalf("the resident's state rejects the leave send_leave accepted: %v", err)
	}
	return signed, rule
}

// acceptedEverywhere has the servers receive the leave from a.example, the resident, and fails
// unless each accepts it by rule (the rule of the resident's own check) and then holds user's
// membership as leave.
func acceptedEverywhere(t *testing.T, signed []byte, rule, user string, servers ...*server) {
	t.Helper()
	for _, s := range servers {
		rc := s.receive(t, "a.example", signed)
		if rc.Outcome != Accepted || rc.Rule != rule {
			t.Errorf("%s: %v rule %s (send_leave: %s) %v", s.name, rc.Outcome, rc.Rule, rule, rc.Err)
		}
		if got := s.State(t).Membership(user); got != "leave" {
			t.Errorf("%s: %s is %q", s.name, user, got)
		}
	}
}

// TestRejectInviteOverFederation: dave of d.example, invited over /invite, rejects the invite
// through the leave handshake (make_leave, sign, send_leave; leaveOver) with a.example, the
// inviting server, as the resident. The leave is then accepted by every server of the room by
// the self-leave rule, the one the resident's check gave, and classified as a leave by the user.
// A second make_leave is refused (403, ErrNotPossible): dave is no longer in the room.
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
			signed, rule := leaveOver(t, r, a, d, user)
			if rule != leaveRule(r) {
				t.Errorf("the resident allowed the leave by rule %s, want %s", rule, leaveRule(r))
			}
			ev, _ := signing.ParseEvent(v, signed)
			if tr, ok := membership.ClassifyMemberEvent(v, "invite", ev, "invite"); !ok || tr.Action != membership.ActionLeave || !tr.BySelf || tr.Meaning != "reject the invite" {
				t.Errorf("ClassifyMemberEvent: %+v %v", tr, ok)
			}
			acceptedEverywhere(t, signed, rule, user, a, b)
			_, err := membership.MakeLeave(a.State(t), user, membership.TemplateOptions{Origin: "a.example", OriginServerTS: r.f.now(), PrevEvents: []string{a.extremity}, Depth: 99})
			var e *membership.Error
			if !errors.As(err, &e) || e.Status != 403 || e.ErrCode != membership.ErrCodeForbidden || !errors.Is(err, membership.ErrNotPossible) {
				t.Errorf("make_leave after the leave: %v", err)
			}
		})
	}
}

// TestLeaveHandshakeFunctions: the leave handshake's own functions (finding S3, settled) end
// to end where no invite is involved: frank of d.example knocks through b.example and then
// retracts the knock through a.example (leaveOver: MakeLeave → CheckLeaveTemplate +
// SignTemplate → SendLeave), which every server accepts by the self-leave rule and classifies as
// "retract the knock"; a banned user's make_leave and send_leave are refused (403, ErrBanned),
// as the auth rules refuse the event. The join and knock template checks still refuse a leave
// template, and CheckLeaveTemplate refuses theirs.
func TestLeaveHandshakeFunctions(t *testing.T) {
	tmpl := []byte(`{"type":"m.room.member","room_id":"!r:a.example","sender":"@d:d.example","state_key":"@d:d.example","content":{"membership":"leave"}}`)
	if membership.CheckJoinTemplate("!r:a.example", "@d:d.example", tmpl) == nil || membership.CheckKnockTemplate("!r:a.example", "@d:d.example", tmpl) == nil {
		t.Fatal("a leave template passes a join or knock template check")
	}
	if err := membership.CheckLeaveTemplate("!r:a.example", "@d:d.example", tmpl); err != nil {
		t.Fatalf("CheckLeaveTemplate: %v", err)
	}
	for _, m := range []string{"join", "knock"} {
		other := []byte(`{"type":"m.room.member","room_id":"!r:a.example","sender":"@d:d.example","state_key":"@d:d.example","content":{"membership":"` + m + `"}}`)
		if err := membership.CheckLeaveTemplate("!r:a.example", "@d:d.example", other); !errors.Is(err, membership.ErrBadTemplate) {
			t.Errorf("CheckLeaveTemplate of a %s template: %v", m, err)
		}
	}
	for _, ver := range knockVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := knockRoom(t, ver, "knock")
			v := r.f.v
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			d := r.f.addServer("d.example")
			delete(r.f.servers, "d.example") // d.example is not in the room
			user := "@frank:d.example"
			// frank knocks through b.example.
			st := b.State(t)
			ext := b.store[b.extremity]
			kt, err := membership.MakeKnock(st, user, membership.TemplateOptions{Origin: "b.example", OriginServerTS: r.f.now(), PrevEvents: []string{ext.EventID}, Depth: ext.Depth + 1})
			if err != nil {
				t.Fatalf("make_knock: %v", err)
			}
			knock, err := membership.SignTemplate(v, kt.Event, "d.example", r.f.now(), "", "d.example", d.key)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := membership.SendKnock(membership.SendKnockRequest{State: st, Origin: "d.example", Event: knock, Keys: r.f.keys}); err != nil {
				t.Fatalf("send_knock: %v", err)
			}
			for _, s := range []*server{b, a} {
				if rc := s.receive(t, "b.example", knock); rc.Outcome != Accepted {
					t.Fatalf("%s: knock %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			// ... and retracts it through a.example.
			signed, rule := leaveOver(t, r, a, d, user)
			if rule != leaveRule(r) {
				t.Errorf("the resident allowed the leave by rule %s, want %s", rule, leaveRule(r))
			}
			ev, _ := signing.ParseEvent(v, signed)
			if tr, ok := membership.ClassifyMemberEvent(v, pdu.MembershipKnock, ev, "knock"); !ok || tr.Action != membership.ActionLeave || tr.Meaning != "retract the knock" {
				t.Errorf("ClassifyMemberEvent: %+v %v", tr, ok)
			}
			acceptedEverywhere(t, signed, rule, user, a, b)
			// A banned user cannot leave: make_leave and send_leave refuse, as the rules do.
			a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str(user), Content: member("ban")})
			st = a.State(t)
			_, err = membership.MakeLeave(st, user, membership.TemplateOptions{Origin: "a.example", OriginServerTS: r.f.now(), PrevEvents: []string{a.extremity}, Depth: 99})
			isBanned := func(what string, err error) {
				t.Helper()
				var e *membership.Error
				if !errors.As(err, &e) || e.Status != 403 || e.ErrCode != membership.ErrCodeForbidden || !errors.Is(err, membership.ErrBanned) {
					t.Errorf("%s of a banned user: %v", what, err)
				}
			}
			isBanned("make_leave", err)
			again := d.build(t, draft{Type: pdu.TypeMember, Sender: user, StateKey: str(user), Content: member("leave"),
				Prev: []string{a.extremity}, AuthFrom: a.current}) // as a.example's make_leave would have made it
			_, err = membership.SendLeave(membership.SendLeaveRequest{State: st, RoomID: r.f.roomID, Origin: "d.example", Event: again, Keys: r.f.keys})
			isBanned("send_leave", err)
			if rc := a.receive(t, "d.example", again); rc.Outcome != RejectedAuth || rc.Rule != leaveRule(r) {
				t.Errorf("a.example receiving the banned user's leave: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
			}
		})
	}
}

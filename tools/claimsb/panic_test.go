package claimsb

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// noPanic runs f and reports a panic.
func noPanic(name string, f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprintf("%s: panic: %v", name, r)
		}
	}()
	f()
	return ""
}

// go doc membership (package): "Nothing in this package panics on bad input".
func TestMembershipNoPanic(t *testing.T) {
	v := ver("10")
	var zero roomversion.Version
	var nilEv *pdu.Event
	bad := []byte(`{"a":1}`)
	calls := map[string]func(){
		"Authorisers(nil)":       func() { membership.Authorisers(nil, "a.example") },
		"AuthorisedServers(nil)": func() { membership.AuthorisedServers(nil) },
		"StrippedState(nil)":     func() { membership.StrippedState(nil) },
		"DecideKnock(nil)":       func() { _ = membership.DecideKnock(nil, "@b:b.example") },
		"CheckTransition(nil)":   func() { _, _ = membership.CheckTransition(nil, "@a:a.example", "@b:b.example", "join") },
		"MakeKnock(nil)":         func() { _, _ = membership.MakeKnock(nil, "@b:b.example", membership.TemplateOptions{}) },
		"MakeJoin(nil state)": func() {
			_, _, _ = membership.MakeJoin(membership.JoinRequest{UserID: "@b:b.example"}, membership.TemplateOptions{})
		},
		"SendJoin(nil state)":         func() { _, _ = membership.SendJoin(membership.SendJoinRequest{Event: bad}) },
		"SendKnock(nil state)":        func() { _, _ = membership.SendKnock(membership.SendKnockRequest{Event: bad}) },
		"SignInvite(zero)":            func() { _, _ = membership.SignInvite(membership.InviteRequest{}) },
		"SignInvite(zero version)":    func() { _, _ = membership.SignInvite(membership.InviteRequest{RoomVersion: zero, Event: bad}) },
		"ClassifyMemberEvent(nil)":    func() { _, _ = membership.ClassifyMemberEvent(v, "", nilEv, "public") },
		"KnockAccepted(nil)":          func() { membership.KnockAccepted("knock", nilEv) },
		"StripEvent(nil)":             func() { _, _ = membership.StripEvent(nilEv) },
		"CheckStrippedState(nil)":     func() { membership.CheckStrippedState(v, roomID, []json.RawMessage{nil, json.RawMessage("null")}, nil) },
		"CheckStrippedState(zero)":    func() { membership.CheckStrippedState(zero, roomID, nil, nil) },
		"CheckSendJoinResponse(zero)": func() { _, _ = membership.CheckSendJoinResponse(zero, bad, bad, "a.example", nil) },
		"CheckSendJoinResponse(junk)": func() { _, _ = membership.CheckSendJoinResponse(v, nil, []byte("x"), "", nil) },
		"CheckJoinTemplate(nil)":      func() { _ = membership.CheckJoinTemplate("", "", nil) },
		"SignTemplate(junk)":          func() { _, _ = membership.SignTemplate(v, []byte("[]"), "", 0, "", "", signing.SigningKey{}) },
		"Transitions(zero)":           func() { membership.Transitions(zero) },
		"FindTransition(zero)":        func() { membership.FindTransition(zero, "", "join", true, "public") },
		"ClassifyMemberEvent(zero)": func() {
			_, _ = membership.ClassifyMemberEvent(zero, "", ev(t, v, M{"type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "join"}}), "public")
		},
		"RequiredLevel(nil)":    func() { membership.Transition{Levels: []membership.Level{membership.LevelBan}}.RequiredLevel(nil) },
		"DecisionJSON(zero)":    func() { membership.DecisionJSON(membership.JoinDecision{}, nil) },
		"ParseJoinRequest(nil)": func() { _, _ = membership.ParseJoinRequest(nil) },
		"EvaluateConditions(nil)": func() {
			membership.EvaluateConditions([]membership.AllowCondition{{Type: "m.room_membership", RoomID: "!a:x"}}, "@b:b.example", nil, false)
		},
		"Error(nil).JSON":              func() { var e *membership.Error; _ = e.JSON() },
		"Error(nil).TryAnotherServer":  func() { var e *membership.Error; _ = e.TryAnotherServer() },
		"Error(nil).Error":             func() { var e *membership.Error; _ = e.Error() },
		"KnownRooms(nil)":              func() { membership.KnownRooms(nil).RoomMembership("!a:x", "@b:b.example") },
		"ParseAllowConditions(nil)":    func() { _, _ = membership.ParseAllowConditions(nil) },
		"JoinRuleSupported(zero)":      func() { _ = membership.JoinRuleSupported(zero, "restricted") },
		"KnockAllowedByJoinRule(zero)": func() { _ = membership.KnockAllowedByJoinRule(zero, "knock") },
	}
	var panics []string
	for name, f := range calls {
		if m := noPanic(name, f); m != "" {
			panics = append(panics, m)
		}
	}
	if len(panics) > 0 {
		sort.Strings(panics)
		for _, p := range panics {
			t.Log(p)
		}
		t.Errorf("%d calls panic (go doc membership: nothing panics on bad input)", len(panics))
	}
}

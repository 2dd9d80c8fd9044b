package claimsb

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// go doc authrules (sentinel errors): each sentinel with the rule its comment names.
func TestAuthSentinels(t *testing.T) {
	v := ver("10")
	pl := M{"users": M{"@alice:a.example": 100, "@mod:a.example": 50}, "invite": 50}
	r := newRoom(t, v, "knock", pl)
	mem := func(sender, target, m string, c M) *pdu.Event {
		if c == nil {
			c = M{}
		}
		c["membership"] = m
		return ev(t, v, M{"sender": sender, "type": "m.room.member", "state_key": target, "content": c})
	}
	mod := mem("@mod:a.example", "@mod:a.example", "join", nil)
	bob := mem("@bob:b.example", "@bob:b.example", "join", nil)
	banned := mem("@alice:a.example", "@eve:e.example", "ban", nil)
	s := r.state(t, mod, bob, banned)
	cases := []struct {
		name string
		ev   *pdu.Event
		rule string
		err  error
	}{
		{"invite banned target 4.4.3", mem("@alice:a.example", "@eve:e.example", "invite", nil), "4.4.3", authrules.ErrBanned},
		{"invite joined target 4.4.3", mem("@alice:a.example", "@bob:b.example", "invite", nil), "4.4.3", authrules.ErrTargetJoined},
		{"invite by non-member 4.4.2", mem("@zed:z.example", "@x:x.example", "invite", nil), "4.4.2", authrules.ErrSenderNotJoined},
		{"invite by low power 4.4.5", mem("@bob:b.example", "@x:x.example", "invite", nil), "4.4.5", authrules.ErrInsufficientPower},
		{"join banned 4.3.3", mem("@eve:e.example", "@eve:e.example", "join", nil), "4.3.3", authrules.ErrBanned},
		{"join other 4.3.2", mem("@alice:a.example", "@x:x.example", "join", nil), "4.3.2", authrules.ErrSenderNotTarget},
		{"self leave from ban 4.5.1", mem("@eve:e.example", "@eve:e.example", "leave", nil), "4.5.1", authrules.ErrLeaveNotAllowed},
		{"kick by non-member 4.5.2", mem("@zed:z.example", "@bob:b.example", "leave", nil), "4.5.2", authrules.ErrSenderNotJoined},
		{"unban by low power 4.5.3", mem("@bob:b.example", "@eve:e.example", "leave", nil), "4.5.3", authrules.ErrInsufficientPower},
		{"kick higher 4.5.5", mem("@mod:a.example", "@alice:a.example", "leave", nil), "4.5.5", authrules.ErrInsufficientPower},
		{"ban by non-member 4.6.1", mem("@zed:z.example", "@bob:b.example", "ban", nil), "4.6.1", authrules.ErrSenderNotJoined},
		{"ban by low power 4.6.3", mem("@bob:b.example", "@mod:a.example", "ban", nil), "4.6.3", authrules.ErrInsufficientPower},
		{"knock other 4.7.2", mem("@alice:a.example", "@x:x.example", "knock", nil), "4.7.2", authrules.ErrSenderNotTarget},
		{"knock banned 4.7.4", mem("@eve:e.example", "@eve:e.example", "knock", nil), "4.7.4", authrules.ErrKnockNotAllowed},
		{"knock joined 4.7.4", mem("@bob:b.example", "@bob:b.example", "knock", nil), "4.7.4", authrules.ErrKnockNotAllowed},
		{"unknown membership 4.8", mem("@bob:b.example", "@bob:b.example", "foo", nil), "4.8", authrules.ErrUnknownMembership},
		{"message by non-member 5", ev(t, v, M{"sender": "@zed:z.example"}), "5", authrules.ErrSenderNotJoined},
		{"3pid invite event by low power 6.1", ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.third_party_invite", "state_key": "t", "content": M{}}), "6.1", authrules.ErrInsufficientPower},
		{"state by low power 7", ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.name", "state_key": "", "content": M{}}), "7", authrules.ErrInsufficientPower},
		{"state key other user 8", ev(t, v, M{"sender": "@mod:a.example", "type": "m.x", "state_key": "@bob:b.example", "content": M{}}), "8", authrules.ErrStateKeyNotSender},
		{"create with prev_events 1.1", ev(t, v, M{"type": "m.room.create", "state_key": "", "content": M{"creator": "@alice:a.example"}, "prev_events": []any{"$x"}}), "1.1", authrules.ErrCreatePrevEvents},
		{"restricted authoriser not joined 4.3.5.2", nil, "", nil},
	}
	for _, c := range cases {
		if c.ev == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) { wantRejection(t, s.Check(c.ev, nil), c.rule, c.err) })
	}
	// 4.3.5.2
	rr, rs := restrictedRoom(t, v, "restricted", []any{cond("!x:x.example")})
	_ = rr
	j := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join", "join_authorised_via_users_server": "@nobody:a.example"}}, "a.example")
	wantRejection(t, rs.Check(j, nil), "4.3.5.2", authrules.ErrRestrictedAuthoriser)
	// v1-5 aliases rule 4
	v5 := ver("5")
	r5 := newRoom(t, v5, "public", nil)
	s5 := r5.state(t)
	wantRejection(t, s5.Check(ev(t, v5, M{"type": "m.room.aliases", "content": M{}}), nil), "4.1", authrules.ErrAliases)
	wantRejection(t, s5.Check(ev(t, v5, M{"type": "m.room.aliases", "state_key": "b.example", "content": M{}}), nil), "4.2", authrules.ErrAliases)
	// v12 power levels naming a creator: 10.4
	v12 := ver("12")
	r12 := newRoom(t, v12, "public", nil)
	np := ev(t, v12, M{"room_id": r12.id(), "type": "m.room.power_levels", "state_key": "", "content": M{"users": M{"@alice:a.example": 100}}})
	wantRejection(t, r12.state(t).Check(np, nil), "10.4", authrules.ErrPowerLevelsInvalid)
	// Check rule 2.x: duplicate, unexpected, rejected, no create
	msg := func(ae ...*pdu.Event) *pdu.Event {
		return ev(t, v, M{"auth_events": refs(v, ae...), "prev_events": refs(v, r.jr), "depth": 5})
	}
	pl2 := ev(t, v, M{"type": "m.room.power_levels", "state_key": "", "content": pl})
	wantRejection(t, authrules.Check(v, msg(r.create, r.pl, pl2, r.join), []*pdu.Event{r.create, r.pl, pl2, r.join}, nil), "2.1", authrules.ErrAuthEventDuplicate)
	wantRejection(t, authrules.Check(v, msg(r.create, r.pl, r.jr, r.join), []*pdu.Event{r.create, r.pl, r.jr, r.join}, nil), "2.2", authrules.ErrAuthEventUnexpected)
	err := authrules.CheckWithOptions(v, msg(r.create, r.pl, r.join), []*pdu.Event{r.create, r.pl, r.join}, authrules.Options{Rejected: map[string]bool{r.pl.EventID: true}})
	wantRejection(t, err, "2.3", authrules.ErrAuthEventRejected)
	wantRejection(t, authrules.Check(v, msg(r.pl, r.join), []*pdu.Event{r.pl, r.join}, nil), "2.4", authrules.ErrAuthEventNoCreate)
}

// go doc AuthEventsNeeded: the authoriser's member only from v8; State.AuthEvents order.
func TestAuthEventsNeededVersions(t *testing.T) {
	e := &pdu.Event{Type: "m.room.member", Sender: "@b:b.example", StateKey: sk("@b:b.example"), Membership: "join", Content: []byte(`{"membership":"join","join_authorised_via_users_server":"@a:a.example"}`)}
	for vid, n := range map[string]int{"7": 4, "8": 5} {
		got, err := authrules.AuthEventsNeeded(ver(vid), e)
		if err != nil || len(got) != n {
			t.Errorf("v%s: %v %v", vid, got, err)
		}
	}
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	s := r.state(t)
	got, err := s.AuthEvents(&pdu.Event{Type: "m.room.member", Sender: "@alice:a.example", StateKey: sk("@alice:a.example"), Membership: "join", Content: []byte(`{"membership":"join"}`)})
	if err != nil || len(got) != 4 || got[0] != r.create || got[1] != r.pl || got[2] != r.join || got[3] != r.jr {
		t.Errorf("State.AuthEvents order: %v", err)
	}
}

// decisions.md (membership) 5 (no join rules follows authrules), 9 (local failures 500),
// 12 (knock transitions).
func TestMembershipMore(t *testing.T) {
	v := ver("10")
	bob := "@bob:b.example"
	r := newRoom(t, v, "", nil)
	_, err := membership.DecideJoin(membership.JoinRequest{State: r.state(t), UserID: bob, ResidentServer: "a.example"})
	wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrNotInvited)
	r.jr = ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": 5}})
	inv := ev(t, v, M{"type": "m.room.member", "state_key": bob, "content": M{"membership": "invite"}})
	_, err = membership.DecideJoin(membership.JoinRequest{State: r.state(t, inv), UserID: bob, ResidentServer: "a.example"})
	wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrUnknownJoinRule)
	// 9: unusable signing key is 500 M_UNKNOWN
	rp, sp := restrictedRoom(t, v, "public", nil)
	j := raw(t, v, M{"room_id": rp.id(), "sender": bob, "type": "m.room.member", "state_key": bob, "content": M{"membership": "join"}, "auth_events": refs(v, rp.create, rp.pl, rp.jr), "prev_events": refs(v, rp.jr), "depth": 5})
	_, err = membership.SendJoin(membership.SendJoinRequest{State: sp, ResidentServer: "a.example", Event: j, Keys: ring})
	wantErr(t, err, 500, membership.ErrCodeUnknown, nil)
	// 12
	for _, c := range []struct {
		from, to, rule string
		self, ok, auth bool
	}{
		{"knock", "join", "knock_restricted", true, true, true},
		{"knock", "join", "knock", true, false, false},
		{"knock", "join", "public", true, true, false},
		{"knock", "leave", "knock", false, true, false},
		{"knock", "leave", "knock", true, true, false},
	} {
		tr, ok := membership.FindTransition(v, c.from, c.to, c.self, c.rule)
		if ok != c.ok || (ok && tr.Authoriser != c.auth) {
			t.Errorf("FindTransition(%s→%s self=%v %s) = %+v %v", c.from, c.to, c.self, c.rule, tr, ok)
		}
		if ok && !c.self && c.to == "leave" && (tr.Action != membership.ActionKick || !tr.OutranksTarget) {
			t.Errorf("reject knock: %+v", tr)
		}
	}
	// MakeKnock: refusal and template
	rk, sk2 := restrictedRoom(t, v, "knock", nil)
	_ = rk
	tm, err := membership.MakeKnock(sk2, bob, membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1, PrevEvents: []string{"$x"}, Depth: 5})
	if err != nil || membership.CheckKnockTemplate(rk.id(), bob, tm.Event) != nil {
		t.Errorf("MakeKnock %v", err)
	}
	_, sp2 := restrictedRoom(t, v, "public", nil)
	_, err = membership.MakeKnock(sp2, bob, membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1, PrevEvents: []string{"$x"}, Depth: 5})
	wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrKnockNotAllowed)
}

// go doc serveracl (package): ACLs never change the auth rules' verdict.
func TestACLNotAuth(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	acl := ev(t, v, M{"type": "m.room.server_acl", "state_key": "", "content": M{"allow": []any{"a.example"}}})
	s := r.state(t, acl)
	if serveracl.Allowed(s, "b.example") {
		t.Fatal("b.example allowed")
	}
	if err := s.Check(ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}}), nil); err != nil {
		t.Errorf("join of a denied server's user rejected by the auth rules: %v", err)
	}
}

// decisions.md (bulk) 3, 4: VerifyEvents/ParseAndVerifyEvents return exactly VerifyEvent's error;
// event IDs equal ParseEvent's.
func TestBulkSameVerdicts(t *testing.T) {
	for _, vid := range []string{"1", "3", "5", "10", "12"} {
		v := ver(vid)
		good := raw(t, v, M{"content": M{"body": "x"}})
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		var evs [][]byte
		evs = append(evs, good)
		m2 := clone(m)
		m2["content"] = M{"body": "y"}
		evs = append(evs, claimkit.Marshal(t, m2))
		m3 := clone(m)
		m3["signatures"] = M{"a.example": M{"ed25519:1": authgen.DummySig}}
		evs = append(evs, claimkit.Marshal(t, m3))
		m4 := clone(m)
		m4["sender"] = "@z:z.example"
		evs = append(evs, claimkit.Marshal(t, m4))
		m5 := clone(m)
		delete(m5, "hashes")
		evs = append(evs, claimkit.Marshal(t, m5))
		evs = append(evs, []byte(`{"a":1}`), []byte(`[`))
		m6 := clone(m)
		m6["signatures"] = M{"a.example": M{"ed25519:1": "!!"}}
		evs = append(evs, claimkit.Marshal(t, m6))
		errs := signing.VerifyEvents(v, evs, ring, &signing.BatchOptions{Workers: 2})
		pe, perrs := signing.ParseAndVerifyEvents(v, evs, ring, nil)
		for i, b := range evs {
			want := signing.VerifyEvent(v, b, ring)
			if !reflect.DeepEqual(errs[i], want) || fmt.Sprint(errs[i]) != fmt.Sprint(want) {
				t.Errorf("v%s event %d: VerifyEvents %v, VerifyEvent %v", vid, i, errs[i], want)
			}
			if fmt.Sprint(perrs[i]) != fmt.Sprint(want) {
				t.Errorf("v%s event %d: ParseAndVerifyEvents %v, VerifyEvent %v", vid, i, perrs[i], want)
			}
			p, err := signing.ParseEvent(v, b)
			if (err == nil) != (pe[i] != nil) || (p != nil && pe[i] != nil && p.EventID != pe[i].EventID) {
				t.Errorf("v%s event %d: ParseAndVerifyEvents event differs from ParseEvent", vid, i)
			}
		}
		if signing.VerdictOf(errs[0]) != signing.VerdictValid {
			t.Errorf("v%s VerdictOf valid", vid)
		}
		if errors.Is(errs[1], signing.ErrContentHashMismatch) && signing.VerdictOf(errs[1]).String() != "redact" {
			t.Errorf("v%s VerdictOf redact: %v", vid, signing.VerdictOf(errs[1]))
		}
		nk := signing.VerifyEvents(v, evs[:1], signing.KeyRing{}, nil)[0]
		if signing.VerdictOf(nk).String() != "need-key" || fmt.Sprint(nk) != fmt.Sprint(signing.VerifyEvent(v, evs[0], signing.KeyRing{})) {
			t.Errorf("v%s VerdictOf unknown key: %v (%v)", vid, signing.VerdictOf(nk), nk)
		}
		if signing.VerdictOf(errs[2]).String() != "reject" {
			t.Errorf("v%s VerdictOf bad sig: %v", vid, signing.VerdictOf(errs[2]))
		}
	}
}

func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

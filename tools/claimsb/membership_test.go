package claimsb

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// wantErr asserts err is a *membership.Error with the status, errcode and reason.
func wantErr(t *testing.T, err error, status int, code string, reason error) *membership.Error {
	t.Helper()
	var me *membership.Error
	if !errors.As(err, &me) {
		t.Fatalf("want *membership.Error %d %s %v, got %v", status, code, reason, err)
	}
	if me.Status != status || me.ErrCode != code || (reason != nil && !errors.Is(err, reason)) {
		t.Fatalf("want %d %s %v, got %d %s %v (%v)", status, code, reason, me.Status, me.ErrCode, me.Reason, err)
	}
	return me
}

// restrictedRoom: v10 room, restricted with the given allow list, alice (100) of a.example.
func restrictedRoom(t *testing.T, v roomversion.Version, rule string, allow []any, more ...*pdu.Event) (*room, *authrules.State) {
	t.Helper()
	r := newRoom(t, v, "", nil)
	c := M{"join_rule": rule}
	if allow != nil {
		c["allow"] = allow
	}
	r.jr = ev(t, v, M{"room_id": r.id(), "type": "m.room.join_rules", "state_key": "", "content": c})
	return r, r.state(t, more...)
}

func cond(room string) M { return M{"type": "m.room_membership", "room_id": room} }

// decisions.md (membership) 1-5, 19; go doc membership.DecideJoin.
func TestMembershipDecideJoin(t *testing.T) {
	v := ver("10")
	bob := "@bob:b.example"
	// A membership of the room, built for the case's room version (authrules refuses a state
	// holding an event parsed for another version).
	type member struct{ user, membership string }
	mem := func(u, m string) member { return member{u, m} }
	twoRooms := []any{cond("!known:x.example"), cond("!unknown:x.example")}
	known := membership.KnownRooms{"!known:x.example": {}}
	type c struct {
		name     string
		vid      string
		rule     string
		allow    []any
		more     []member
		user     string
		rooms    membership.RoomMemberships
		status   int
		code     string
		reason   error
		basis    membership.Basis
		authUser string
	}
	cases := []c{
		{"1 mix unknown+known", "10", "restricted", twoRooms, nil, bob, known, 400, membership.ErrCodeUnableToAuthoriseJoin, membership.ErrUnverifiable, 0, ""},
		{"1 all known none joined", "10", "restricted", twoRooms, nil, bob, membership.KnownRooms{"!known:x.example": {}, "!unknown:x.example": {bob: "leave"}}, 403, membership.ErrCodeForbidden, membership.ErrNoCondition, 0, ""},
		{"2 local joiner unknown rooms", "10", "restricted", twoRooms, nil, "@carol:a.example", nil, 403, membership.ErrCodeForbidden, membership.ErrNoCondition, 0, ""},
		{"3 banned before unverifiable", "10", "restricted", twoRooms, []member{mem(bob, "ban")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrBanned, 0, ""},
		{"3 banned in public", "10", "public", nil, []member{mem(bob, "ban")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrBanned, 0, ""},
		{"4 knock in restricted needs condition", "10", "restricted", twoRooms, []member{mem(bob, "knock")}, bob, membership.KnownRooms{"!known:x.example": {bob: "join"}}, 0, "", nil, membership.BasisCondition, "@alice:a.example"},
		{"4 knock in knock room", "10", "knock", nil, []member{mem(bob, "knock")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrNotInvited, 0, ""},
		{"5 restricted in v7 invited", "7", "restricted", twoRooms, []member{mem(bob, "invite")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrUnknownJoinRule, 0, ""},
		{"5 knock_restricted in v9 joined", "9", "knock_restricted", twoRooms, []member{mem(bob, "join")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrUnknownJoinRule, 0, ""},
		{"5 private invited", "10", "private", nil, []member{mem(bob, "invite")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrUnknownJoinRule, 0, ""},
		{"5 knock in v6", "6", "knock", nil, []member{mem(bob, "invite")}, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrUnknownJoinRule, 0, ""},
		{"6 no valid condition", "10", "restricted", []any{cond("r1"), M{"type": "m.room_membership"}}, nil, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrNoCondition, 0, ""},
		{"19 joined in restricted", "10", "restricted", twoRooms, []member{mem(bob, "join")}, bob, nil, 0, "", nil, membership.BasisJoined, ""},
		{"19 invited in restricted", "10", "restricted", twoRooms, []member{mem(bob, "invite")}, bob, nil, 0, "", nil, membership.BasisInvited, ""},
		{"public", "10", "public", nil, nil, bob, nil, 0, "", nil, membership.BasisPublic, ""},
		{"invite room", "10", "invite", nil, nil, bob, nil, 403, membership.ErrCodeForbidden, membership.ErrNotInvited, 0, ""},
		{"satisfied", "10", "knock_restricted", twoRooms, nil, bob, membership.KnownRooms{"!unknown:x.example": {bob: "join"}}, 0, "", nil, membership.BasisCondition, "@alice:a.example"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vv := ver(c.vid)
			var more []*pdu.Event
			for _, m := range c.more {
				more = append(more, ev(t, vv, M{"type": "m.room.member", "state_key": m.user, "content": M{"membership": m.membership}}))
			}
			_, s := restrictedRoom(t, vv, c.rule, c.allow, more...)
			d, err := membership.DecideJoin(membership.JoinRequest{State: s, UserID: c.user, ResidentServer: "a.example", Rooms: c.rooms})
			if c.status != 0 {
				wantErr(t, err, c.status, c.code, c.reason)
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if d.Basis != c.basis || d.AuthorisingUser != c.authUser {
				t.Fatalf("got %+v", d)
			}
		})
	}
	// no able authoriser: 400 M_UNABLE_TO_GRANT_JOIN
	r := newRoom(t, v, "", M{"users": M{"@alice:a.example": 100}, "invite": 101})
	r.jr = ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": "restricted", "allow": twoRooms}})
	_, err := membership.DecideJoin(membership.JoinRequest{State: r.state(t), UserID: bob, ResidentServer: "a.example", Rooms: membership.KnownRooms{"!known:x.example": {bob: "join"}}})
	me := wantErr(t, err, 400, membership.ErrCodeUnableToGrantJoin, membership.ErrNoAuthoriser)
	if !me.TryAnotherServer() {
		t.Error("TryAnotherServer for UNABLE_TO_GRANT_JOIN")
	}
	// bad input
	_, err = membership.DecideJoin(membership.JoinRequest{UserID: bob, ResidentServer: "a.example"})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
	_, s := restrictedRoom(t, v, "public", nil)
	_, err = membership.DecideJoin(membership.JoinRequest{State: s, UserID: "bob", ResidentServer: "a.example"})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
	// satisfied condition reported is the first in allow order
	_, s = restrictedRoom(t, v, "restricted", []any{cond("!r1:x.example"), cond("!r2:x.example")})
	d, err := membership.DecideJoin(membership.JoinRequest{State: s, UserID: bob, ResidentServer: "a.example", Rooms: membership.KnownRooms{"!r1:x.example": {bob: "join"}, "!r2:x.example": {bob: "join"}}})
	if err != nil || d.Condition.RoomID != "!r1:x.example" {
		t.Errorf("first satisfied condition: %+v %v", d, err)
	}
}

// go doc membership.DecideJoin / CheckMakeRequest; decisions.md (membership) 16.
func TestMembershipCheckMakeRequest(t *testing.T) {
	v := ver("10")
	err := membership.CheckMakeRequest(v, "@bob:b.example", "c.example", []string{"9"})
	me := wantErr(t, err, 400, membership.ErrCodeIncompatibleRoomVersion, membership.ErrIncompatibleVersion)
	if me.RoomVersion != "10" || !bytes.Contains(me.JSON(), []byte(`"room_version":"10"`)) {
		t.Errorf("RoomVersion %q, JSON %s", me.RoomVersion, me.JSON())
	}
	if me.TryAnotherServer() {
		t.Error("incompatible version must not mean try another server")
	}
	wantErr(t, membership.CheckMakeRequest(v, "@bob:b.example", "b.example:8448", nil), 403, membership.ErrCodeForbidden, membership.ErrNotFromOrigin)
	wantErr(t, membership.CheckMakeRequest(v, "@bob:b.example", "B.example", []string{"10"}), 403, membership.ErrCodeForbidden, membership.ErrNotFromOrigin)
	wantErr(t, membership.CheckMakeRequest(v, "bob", "b.example", nil), 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
	if err := membership.CheckMakeRequest(v, "@bob:b.example", "", nil); err != nil {
		t.Errorf("both skipped: %v", err)
	}
	if err := membership.CheckMakeRequest(v, "@bob:b.example", "b.example", []string{"1", "10"}); err != nil {
		t.Errorf("ok: %v", err)
	}
	// empty non-nil ver: the version is not in it
	wantErr(t, membership.CheckMakeRequest(v, "@bob:b.example", "", []string{}), 400, membership.ErrCodeIncompatibleRoomVersion, membership.ErrIncompatibleVersion)
	// DecideJoin: a banned user of a server lacking the version hears about the version
	_, s := restrictedRoom(t, v, "public", nil, ev(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "ban"}}))
	_, err = membership.DecideJoin(membership.JoinRequest{State: s, UserID: "@bob:b.example", ResidentServer: "a.example", Ver: []string{"1"}, Origin: "c.example"})
	wantErr(t, err, 400, membership.ErrCodeIncompatibleRoomVersion, membership.ErrIncompatibleVersion)
}

// decisions.md (membership) 6; go doc membership.ParseAllowConditions.
func TestMembershipParseAllowConditions(t *testing.T) {
	for _, c := range []struct {
		content string
		want    string
		err     bool
	}{
		{`{"join_rule":"restricted"}`, "", false},
		{`{"allow":null}`, "", false},
		{`{"allow":{}}`, "", false},
		{`{"allow":[1,"x",null,{"type":"m.room_membership","room_id":"!a:x"},{"type":"m.room_membership","room_id":"r1"},{"type":"m.room_membership","room_id":""},{"type":"m.room_membership","room_id":"#a:x"},{"type":"m.room_membership"},{"type":"m.room_membership","room_id":5},{"type":"other","room_id":"!b:x"},{"type":"m.room_membership","room_id":"!"},{"type":"m.room_membership","room_id":"!c"}]}`, "!a:x,!,!c", false},
		{`{"allow":[{"type":"m.room_membership","room_id":"r1","room_id":"!d:x"}]}`, "!d:x", false},
		{`{"allow":[{"type":"m.room_membership","room_id":"!d:x","room_id":5}]}`, "", false},
		{`{"allow":[],"allow":[{"type":"m.room_membership","room_id":"!e:x"}]}`, "!e:x", false},
		{`[]`, "", true},
	} {
		got, err := membership.ParseAllowConditions([]byte(c.content))
		if c.err != (err != nil) {
			t.Errorf("%s: err %v", c.content, err)
			continue
		}
		var ids []string
		for _, a := range got {
			if a.Type != membership.ConditionRoomMembership {
				t.Errorf("%s: type %q", c.content, a.Type)
			}
			ids = append(ids, a.RoomID)
		}
		if strings.Join(ids, ",") != c.want {
			t.Errorf("%s: got %v want %s", c.content, ids, c.want)
		}
	}
	// more than 1024 entries: a condition after them still counts
	var b strings.Builder
	b.WriteString(`{"allow":[`)
	for i := 0; i < 2000; i++ {
		b.WriteString(`1,`)
	}
	b.WriteString(`{"type":"m.room_membership","room_id":"!late:x"}]}`)
	got, err := membership.ParseAllowConditions([]byte(b.String()))
	if err != nil || len(got) != 1 {
		t.Errorf("late condition: %v %v", got, err)
	}
}

// decisions.md (membership) 7; go doc Authorisers, AuthorisedServers.
func TestMembershipAuthorisers(t *testing.T) {
	v := ver("9")
	pl := M{"users": M{"@alice:a.example": 100, "@zed:a.example": 100, "@amy:a.example": 50, "@low:a.example": 0, "@big:a.example": "99999999999999999999", "@c1:c.example": 60, "@d1:d.example": 100}, "invite": 50}
	r := newRoom(t, v, "public", pl)
	var more []*pdu.Event
	for _, u := range []string{"@zed:a.example", "@amy:a.example", "@low:a.example", "@big:a.example", "@c1:c.example", "@d1:d.example"} {
		more = append(more, ev(t, v, M{"sender": u, "type": "m.room.member", "state_key": u, "content": M{"membership": "join"}}))
	}
	more = append(more, ev(t, v, M{"sender": "@x:a.example", "type": "m.room.member", "state_key": "mod:a.example", "content": M{"membership": "join"}}))
	s := r.state(t, more...)
	got := membership.Authorisers(s, "a.example")
	if strings.Join(got, ",") != "@big:a.example,@alice:a.example,@zed:a.example,@amy:a.example" {
		t.Errorf("Authorisers = %v", got)
	}
	srv := membership.AuthorisedServers(s)
	if strings.Join(srv, ",") != "a.example,d.example,c.example" {
		t.Errorf("AuthorisedServers = %v", srv)
	}
	// v12: creators first
	v12 := ver("12")
	r12 := newRoom(t, v12, "public", M{"users": M{"@bob:a.example": 100}})
	bj := ev(t, v12, M{"room_id": r12.id(), "sender": "@bob:a.example", "type": "m.room.member", "state_key": "@bob:a.example", "content": M{"membership": "join"}})
	s12 := r12.state(t, bj)
	if got := membership.Authorisers(s12, "a.example"); strings.Join(got, ",") != "@alice:a.example,@bob:a.example" {
		t.Errorf("v12 Authorisers = %v", got)
	}
}

// go doc ShouldTryAnotherServer, Error.TryAnotherServer, Error.Error, Error.JSON; decisions.md 9, 15.
func TestMembershipErrors(t *testing.T) {
	for _, c := range []struct {
		s    int
		code string
		want bool
	}{{400, "M_UNABLE_TO_AUTHORISE_JOIN", true}, {400, "M_UNABLE_TO_GRANT_JOIN", true}, {403, "M_FORBIDDEN", false}, {400, "M_INVALID_PARAM", false}, {403, "M_UNABLE_TO_GRANT_JOIN", false}, {400, "M_CANNOT_ALLOW", false}} {
		if got := membership.ShouldTryAnotherServer(c.s, c.code); got != c.want {
			t.Errorf("ShouldTryAnotherServer(%d, %s) = %v", c.s, c.code, got)
		}
	}
	if membership.ErrCodeUnableToGrantJoin != "M_UNABLE_TO_GRANT_JOIN" {
		t.Error("15")
	}
	e := &membership.Error{Status: 403, ErrCode: "M_FORBIDDEN", Message: "no", Reason: membership.ErrBanned}
	if e.Error() != "membership: 403 M_FORBIDDEN: no" {
		t.Errorf("Error() = %q", e.Error())
	}
	if string(e.JSON()) != `{"errcode":"M_FORBIDDEN","error":"no"}` {
		t.Errorf("JSON() = %s", e.JSON())
	}
	if j, err := json.Marshal(e); err != nil || !bytes.Equal(j, e.JSON()) {
		t.Errorf("MarshalJSON %s %v", j, err)
	}
	// templates: 502 M_UNKNOWN, try another server
	tmpl := claimkit.Marshal(t, M{"room_id": roomID, "sender": "@bob:b.example", "state_key": "@bob:b.example", "type": "m.room.member", "content": M{"membership": "join"}})
	if err := membership.CheckJoinTemplate(roomID, "@bob:b.example", tmpl); err != nil {
		t.Errorf("good template: %v", err)
	}
	for name, tm := range map[string][]byte{
		"wrong membership": bytes.Replace(tmpl, []byte(`"join"`), []byte(`"knock"`), 1),
		"wrong room":       bytes.Replace(tmpl, []byte(roomID), []byte("!x:a.example"), 1),
		"wrong state key":  bytes.Replace(tmpl, []byte(`"state_key":"@bob:b.example"`), []byte(`"state_key":"@bo:b.example"`), 1),
		"not json":         []byte("{"),
	} {
		err := membership.CheckJoinTemplate(roomID, "@bob:b.example", tm)
		me := wantErr(t, err, 502, membership.ErrCodeUnknown, membership.ErrBadTemplate)
		if !me.TryAnotherServer() {
			t.Errorf("%s: TryAnotherServer false", name)
		}
	}
	kt := bytes.Replace(tmpl, []byte(`"join"`), []byte(`"knock"`), 1)
	if err := membership.CheckKnockTemplate(roomID, "@bob:b.example", kt); err != nil {
		t.Errorf("knock template: %v", err)
	}
	wantErr(t, membership.CheckKnockTemplate(roomID, "@bob:b.example", tmpl), 502, membership.ErrCodeUnknown, membership.ErrBadTemplate)
}

// go doc JoinRuleSupported, KnockAllowedByJoinRule, DecideKnock; decisions.md (membership) 5.
func TestMembershipKnock(t *testing.T) {
	for _, c := range []struct {
		v, rule string
		join    bool
		knock   bool
	}{
		{"6", "knock", false, false}, {"7", "knock", true, true}, {"7", "restricted", false, false}, {"8", "restricted", true, false},
		{"9", "knock_restricted", false, false}, {"10", "knock_restricted", true, true}, {"10", "private", false, false},
		{"1", "public", true, false}, {"1", "invite", true, false},
	} {
		if got := membership.JoinRuleSupported(ver(c.v), c.rule); got != c.join {
			t.Errorf("JoinRuleSupported(%s, %s) = %v", c.v, c.rule, got)
		}
		if got := membership.KnockAllowedByJoinRule(ver(c.v), c.rule); got != c.knock {
			t.Errorf("KnockAllowedByJoinRule(%s, %s) = %v", c.v, c.rule, got)
		}
	}
	v := ver("10")
	bob := "@bob:b.example"
	for _, c := range []struct {
		rule, m string
		reason  error
	}{
		{"knock", "ban", membership.ErrBanned}, {"knock", "invite", membership.ErrKnockNotAllowed}, {"knock", "join", membership.ErrKnockNotAllowed},
		{"knock", "leave", nil}, {"knock", "knock", nil}, {"knock", "", nil}, {"knock_restricted", "", nil},
		{"public", "", membership.ErrKnockNotAllowed}, {"invite", "", membership.ErrKnockNotAllowed},
	} {
		var more []*pdu.Event
		if c.m != "" {
			more = append(more, ev(t, v, M{"type": "m.room.member", "state_key": bob, "content": M{"membership": c.m}}))
		}
		_, s := restrictedRoom(t, v, c.rule, nil, more...)
		err := membership.DecideKnock(s, bob)
		if c.reason == nil {
			if err != nil {
				t.Errorf("%s/%s: %v", c.rule, c.m, err)
			}
			continue
		}
		var me *membership.Error
		if !errors.As(err, &me) || me.Status != 403 || me.ErrCode != "M_FORBIDDEN" || !errors.Is(err, c.reason) {
			t.Errorf("%s/%s: %v", c.rule, c.m, err)
		}
	}
	// knock in v6 knock room: 403, not incompatible room version
	_, s := restrictedRoom(t, ver("6"), "knock", nil)
	wantErr(t, membership.DecideKnock(s, bob), 403, membership.ErrCodeForbidden, membership.ErrKnockNotAllowed)
}

// decisions.md (membership) 10; go doc StrippedState, StripEvent, StrippedStateTypes.
func TestMembershipStrippedState(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	topic := ev(t, v, M{"type": "m.room.topic", "state_key": "", "content": M{"topic": "t"}})
	name := ev(t, v, M{"type": "m.room.name", "state_key": "", "content": M{"name": "n"}})
	enc := ev(t, v, M{"type": "m.room.encryption", "state_key": "", "content": M{"algorithm": "x"}})
	odd := ev(t, v, M{"type": "m.room.name", "state_key": "x", "content": M{"name": "n"}})
	s := r.state(t, topic, name, enc, odd)
	got := membership.StrippedState(s)
	var types []string
	for _, e := range got {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "m.room.create,m.room.name,m.room.topic,m.room.join_rules,m.room.encryption" {
		t.Errorf("StrippedState types %v", types)
	}
	b, err := membership.StripEvent(topic)
	if err != nil || string(b) != `{"content":{"topic":"t"},"sender":"@alice:a.example","state_key":"","type":"m.room.topic"}` {
		t.Errorf("StripEvent %s %v", b, err)
	}
	if len(membership.StrippedStateTypes) != 7 {
		t.Error("7 types")
	}
}

// decisions.md (membership) 12; go doc Transitions, FindTransition, ClassifyMemberEvent,
// KnockAccepted, CheckTransition, RequiredLevel.
func TestMembershipTransitions(t *testing.T) {
	v := ver("10")
	tr, ok := membership.FindTransition(v, "ban", "leave", false, "")
	if !ok || tr.Action != membership.ActionUnban || len(tr.Levels) != 2 {
		t.Errorf("unban %+v %v", tr, ok)
	}
	pl, _ := authrules.ParsePowerLevels(v, []byte(`{"kick":30,"ban":70}`))
	if tr.RequiredLevel(pl) != 70 {
		t.Errorf("RequiredLevel unban %d", tr.RequiredLevel(pl))
	}
	for _, c := range []struct {
		from, to string
		self     bool
		rule     string
		ok       bool
		act      membership.Action
		inDiag   bool
	}{
		{"invite", "invite", false, "public", true, membership.ActionInvite, false},
		{"join", "join", true, "public", true, membership.ActionJoin, false},
		{"invite", "leave", false, "public", true, membership.ActionKick, false},
		{"knock", "knock", true, "knock", true, membership.ActionKnock, false},
		{"knock", "join", true, "public", true, membership.ActionJoin, false},
		{"ban", "ban", false, "public", true, membership.ActionBan, false},
		{"leave", "leave", false, "public", true, membership.ActionKick, false},
		{"", "join", true, "public", true, membership.ActionJoin, true},
		{"", "join", true, "invite", false, "", false},
		{"knock", "invite", false, "knock", true, membership.ActionInvite, true},
		{"", "knock", true, "knock", true, membership.ActionKnock, true},
		{"ban", "join", true, "public", false, "", false},
	} {
		tr, ok := membership.FindTransition(v, c.from, c.to, c.self, c.rule)
		if ok != c.ok || (ok && (tr.Action != c.act || tr.InDiagram != c.inDiag)) {
			t.Errorf("FindTransition(%s→%s self=%v %s) = %+v %v", c.from, c.to, c.self, c.rule, tr, ok)
		}
	}
	// no knock transitions before v7
	for _, tr := range membership.Transitions(ver("6")) {
		if tr.To == "knock" || tr.From == "knock" {
			t.Errorf("v6 has knock transition %+v", tr)
		}
	}
	// Transitions returns a new slice
	a := membership.Transitions(v)
	a[0].Action = "x"
	if membership.Transitions(v)[0].Action == "x" {
		t.Error("Transitions shares its slice")
	}
	// ClassifyMemberEvent: restricted join without jauvs is no transition
	j := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}})
	if tr, ok := membership.ClassifyMemberEvent(v, "", j, "restricted"); ok {
		t.Errorf("restricted join without authoriser classified %+v", tr)
	}
	ja := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}})
	if tr, ok := membership.ClassifyMemberEvent(v, "", ja, "restricted"); !ok || !tr.Authoriser {
		t.Errorf("restricted join with authoriser %+v %v", tr, ok)
	}
	if tr, ok := membership.ClassifyMemberEvent(v, "invite", j, "restricted"); !ok || tr.Authoriser {
		t.Errorf("invited join in restricted %+v %v", tr, ok)
	}
	if _, ok := membership.ClassifyMemberEvent(v, "", ev(t, v, M{}), "public"); ok {
		t.Error("message classified")
	}
	// KnockAccepted: an invite by someone else, even without reference
	inv := ev(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite"}})
	if !membership.KnockAccepted("knock", inv) {
		t.Error("KnockAccepted invite")
	}
	if membership.KnockAccepted("leave", inv) {
		t.Error("KnockAccepted from leave")
	}
	kick := ev(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "leave"}})
	if tr, ok := membership.ClassifyMemberEvent(v, "knock", kick, "knock"); !ok || tr.Action != membership.ActionKick {
		t.Errorf("reject knock %+v %v", tr, ok)
	}
	// CheckTransition: unban needs kick and ban levels
	r := newRoom(t, v, "public", M{"users": M{"@alice:a.example": 100, "@mod:a.example": 50}, "kick": 40, "ban": 60})
	mj := ev(t, v, M{"sender": "@mod:a.example", "type": "m.room.member", "state_key": "@mod:a.example", "content": M{"membership": "join"}})
	bb := ev(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "ban"}})
	s := r.state(t, mj, bb)
	_, err := membership.CheckTransition(s, "@mod:a.example", "@bob:b.example", "leave")
	wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrInsufficientPower)
	if tr, err := membership.CheckTransition(s, "@alice:a.example", "@bob:b.example", "leave"); err != nil || tr.Action != membership.ActionUnban {
		t.Errorf("alice unban %+v %v", tr, err)
	}
	_, err = membership.CheckTransition(s, "@bob:b.example", "@bob:b.example", "join")
	wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrBanned)
	_, err = membership.CheckTransition(s, "@mod:a.example", "@mod:a.example", "invite")
	wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrNotPossible)
}

// decisions.md (membership) 14; go doc ParseJoinRequest, DecisionJSON.
func TestMembershipParseJoinRequest(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	var st []json.RawMessage
	for _, e := range r.events() {
		st = append(st, json.RawMessage(e.Raw()))
	}
	base := func() M {
		return M{"room_version": "10", "state": st, "user_id": "@bob:b.example", "resident_server": "a.example"}
	}
	req, err := membership.ParseJoinRequest(claimkit.Marshal(t, base()))
	if err != nil {
		t.Fatalf("good request: %v", err)
	}
	if d, err := membership.DecideJoin(req); err != nil || d.Basis != membership.BasisPublic {
		t.Fatalf("decide: %+v %v", d, err)
	}
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	noCreate := base()
	noCreate["state"] = st[1:]
	for _, c := range []struct {
		name string
		data []byte
		code string
		ver  bool
	}{
		{"not json", []byte(`{"room_version":`), membership.ErrCodeNotJSON, false},
		{"empty", []byte(``), membership.ErrCodeNotJSON, false},
		{"too deep", []byte(`{"x":` + deep + `}`), membership.ErrCodeBadJSON, false},
		{"null origin", claimkit.Marshal(t, with(base(), "origin", nil)), membership.ErrCodeBadJSON, false},
		{"null ver", claimkit.Marshal(t, with(base(), "ver", nil)), membership.ErrCodeBadJSON, false},
		{"null rooms", claimkit.Marshal(t, with(base(), "rooms", nil)), membership.ErrCodeBadJSON, false},
		{"room mapped to null", claimkit.Marshal(t, with(base(), "rooms", M{"!a:x": nil})), membership.ErrCodeBadJSON, false},
		{"user not user id", claimkit.Marshal(t, with(base(), "user_id", "bob")), membership.ErrCodeInvalidParam, false},
		{"resident not server", claimkit.Marshal(t, with(base(), "resident_server", "a example")), membership.ErrCodeInvalidParam, false},
		{"resident empty", claimkit.Marshal(t, with(base(), "resident_server", "")), membership.ErrCodeInvalidParam, false},
		{"no create", claimkit.Marshal(t, noCreate), membership.ErrCodeBadJSON, false},
		{"unknown version", claimkit.Marshal(t, with(base(), "room_version", "99")), membership.ErrCodeBadJSON, true},
		{"not object", []byte(`[]`), membership.ErrCodeBadJSON, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := membership.ParseJoinRequest(c.data)
			wantErr(t, err, 400, c.code, membership.ErrBadInput)
			if c.ver && !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Errorf("not ErrUnknownVersion: %v", err)
			}
		})
	}
	// null inside the deep nesting path: JSON nested beyond the limit inside "rooms"
	// DecisionJSON
	if got := string(membership.DecisionJSON(membership.JoinDecision{Basis: membership.BasisPublic}, nil)); got != `{"decision":"allow"}` {
		t.Errorf("DecisionJSON allow %s", got)
	}
	if got := string(membership.DecisionJSON(membership.JoinDecision{Basis: membership.BasisInvited, AuthorisingUser: "@m:a.example"}, nil)); got != `{"authorising_user":"@m:a.example","decision":"allow"}` {
		t.Errorf("DecisionJSON authoriser %s", got)
	}
	var nilErr *membership.Error
	got := string(membership.DecisionJSON(membership.JoinDecision{}, nilErr))
	if !strings.Contains(got, `"errcode":"M_UNKNOWN"`) || !strings.Contains(got, `"status":500`) || !strings.Contains(got, `"decision":"reject"`) {
		t.Errorf("DecisionJSON nil *Error %s", got)
	}
	got = string(membership.DecisionJSON(membership.JoinDecision{}, errors.New("x")))
	if !strings.Contains(got, `"status":500`) {
		t.Errorf("DecisionJSON other error %s", got)
	}
	got = string(membership.DecisionJSON(membership.JoinDecision{}, &membership.Error{Status: 403, ErrCode: "M_FORBIDDEN", Message: "m"}))
	if got != `{"decision":"reject","errcode":"M_FORBIDDEN","error":"m","status":403}` {
		t.Errorf("DecisionJSON reject %s", got)
	}
}

func with(m M, k string, v any) M {
	if v == nil {
		m[k] = json.RawMessage("null")
	} else {
		m[k] = v
	}
	return m
}

var ring = signing.KeyRing{
	"a.example": {"ed25519:1": {Key: authgen.KeyFor("a.example", "1").Public()}},
	"b.example": {"ed25519:1": {Key: authgen.KeyFor("b.example", "1").Public()}},
	"c.example": {"ed25519:1": {Key: authgen.KeyFor("c.example", "1").Public()}},
}

// decisions.md (membership) 8, 17, 18; go doc SendJoin, MakeJoin.
func TestMembershipSendJoin(t *testing.T) {
	v := ver("10")
	allow := []any{cond("!r1:x.example")}
	r, s := restrictedRoom(t, v, "restricted", allow)
	rooms := membership.KnownRooms{"!r1:x.example": {"@bob:b.example": "join"}}
	d, tmpl, err := membership.MakeJoin(membership.JoinRequest{State: s, UserID: "@bob:b.example", ResidentServer: "a.example", Rooms: rooms},
		membership.TemplateOptions{Origin: "a.example", OriginServerTS: 5, PrevEvents: []string{r.jr.EventID}, Depth: 6})
	if err != nil || d.AuthorisingUser != "@alice:a.example" {
		t.Fatalf("MakeJoin: %+v %v", d, err)
	}
	if !bytes.Contains(tmpl.Event, []byte(`"join_authorised_via_users_server":"@alice:a.example"`)) || tmpl.RoomVersion != "10" {
		t.Errorf("template %s", tmpl.Event)
	}
	var te struct {
		AuthEvents []string `json:"auth_events"`
	}
	_ = json.Unmarshal(tmpl.Event, &te)
	if len(te.AuthEvents) != 4 { // create, power levels, join rules, alice's member (bob has none)
		t.Errorf("template auth events %v", te.AuthEvents)
	}
	if err := membership.CheckJoinTemplate(r.id(), "@bob:b.example", tmpl.Event); err != nil {
		t.Fatalf("CheckJoinTemplate own template: %v", err)
	}
	signed, err := membership.SignTemplate(v, tmpl.Event, "b.example", 10, "", "b.example", authgen.KeyFor("b.example", "1"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Rooms: rooms, Origin: "b.example", Event: signed, Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	if err != nil {
		t.Fatalf("SendJoin: %v", err)
	}
	id0, _ := signing.EventID(v, signed)
	if res.Parsed.EventID != id0 || res.Decision.AuthorisingUser != "@alice:a.example" {
		t.Errorf("SendJoin result %+v", res.Decision)
	}
	if _, err := membership.CheckSendJoinResponse(v, signed, res.Event, "a.example", ring); err != nil {
		t.Errorf("CheckSendJoinResponse: %v", err)
	}
	// 17: a second hash algorithm is kept, event ID unchanged
	var evm map[string]any
	_ = json.Unmarshal(signed, &evm)
	evm["hashes"].(map[string]any)["sha512"] = "abc"
	delete(evm, "signatures")
	two, err := signing.CountersignEvent(v, claimkit.Marshal(t, evm), "b.example", authgen.KeyFor("b.example", "1"))
	if err != nil {
		t.Fatal(err)
	}
	res2, err := membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Rooms: rooms, Event: two, Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	if err != nil {
		t.Fatalf("SendJoin two hashes: %v", err)
	}
	idTwo, _ := signing.EventID(v, two)
	if res2.Parsed.EventID != idTwo || !bytes.Contains(res2.Event, []byte(`"sha512":"abc"`)) {
		t.Errorf("17: hashes not kept: %s", res2.Event)
	}
	// 8: authoriser of another server: 400 M_INVALID_PARAM
	other := raw(t, v, M{"room_id": r.id(), "sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join", "join_authorised_via_users_server": "@carol:c.example"}, "auth_events": te.AuthEvents, "prev_events": []any{r.jr.EventID}, "depth": 6})
	_, err = membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Rooms: rooms, Event: other, Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	// 8: no authoriser while one could: 403 ErrAuthRules
	none := raw(t, v, M{"room_id": r.id(), "sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": te.AuthEvents, "prev_events": []any{r.jr.EventID}, "depth": 6})
	_, err = membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Rooms: rooms, Event: none, Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	me := wantErr(t, err, 403, membership.ErrCodeForbidden, membership.ErrAuthRules)
	var rj *authrules.Rejection
	if !errors.As(me, &rj) || rj.Rule != "4.3.5.2" {
		t.Errorf("rejection %v", rj)
	}
	// content hash mismatch on send_join: 400, not a redaction
	_ = json.Unmarshal(signed, &evm)
	evm["content"].(map[string]any)["displayname"] = "x"
	bad := claimkit.Marshal(t, evm)
	_, err = membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Rooms: rooms, Event: bad, Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	// not JSON / bad JSON
	_, err = membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Event: []byte("{"), Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeNotJSON, nil)
	_, err = membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Event: []byte(`{"a":1}`), Key: authgen.KeyFor("a.example", "1"), Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeBadJSON, nil)
}

// decisions.md (membership) 18: v1-2 event ID domain; resident's own domain refused.
func TestMembershipSendJoinV1EventID(t *testing.T) {
	v := ver("2")
	r := newRoom(t, v, "public", nil)
	s := r.state(t)
	mk := func(id string, signers ...string) []byte {
		return raw(t, v, M{"event_id": id, "sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": refs(v, r.create, r.pl, r.jr), "prev_events": refs(v, r.jr), "depth": 5}, signers...)
	}
	req := func(b []byte) membership.SendJoinRequest {
		return membership.SendJoinRequest{State: s, ResidentServer: "a.example", Event: b, Key: authgen.KeyFor("a.example", "1"), Keys: ring}
	}
	if _, err := membership.SendJoin(req(mk("$j1:b.example"))); err != nil {
		t.Errorf("own domain: %v", err)
	}
	_, err := membership.SendJoin(req(mk("$j2:c.example")))
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	if _, err := membership.SendJoin(req(mk("$j3:c.example", "c.example"))); err != nil {
		t.Errorf("c.example signed: %v", err)
	}
	_, err = membership.SendJoin(req(mk("$j4:a.example", "a.example")))
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
}

// decisions.md (membership) 11, 17; go doc SignInvite, CheckStrippedState.
func TestMembershipSignInvite(t *testing.T) {
	for _, vid := range []string{"10", "12"} {
		t.Run("v"+vid, func(t *testing.T) {
			v := ver(vid)
			r := newRoom(t, v, "invite", nil)
			inv := raw(t, v, M{"room_id": r.id(), "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite"}, "auth_events": refs(v, r.pl, r.join), "prev_events": refs(v, r.jr), "depth": 5})
			rs := []json.RawMessage{r.create.Raw(), r.jr.Raw()}
			req := membership.InviteRequest{RoomVersion: v, Origin: "a.example", Event: inv, InviteRoomState: rs, LocalServer: "b.example", Key: authgen.KeyFor("b.example", "1"), Keys: ring}
			res, err := membership.SignInvite(req)
			if err != nil {
				t.Fatalf("SignInvite: %v", err)
			}
			id0, _ := signing.EventID(v, inv)
			if res.Parsed.EventID != id0 || len(res.RoomState) != 2 || len(res.Warnings) != 0 {
				t.Errorf("result: %s %d %v", res.Parsed.EventID, len(res.RoomState), res.Warnings)
			}
			if err := signing.VerifyEvent(v, res.Event, ring); err != nil {
				t.Errorf("signed invite does not verify: %v", err)
			}
			// missing create: error v12, warning v10
			req.InviteRoomState = rs[1:]
			res, err = membership.SignInvite(req)
			if vid == "12" {
				wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
			} else if err != nil || len(res.Warnings) != 1 {
				t.Errorf("v10 missing create: %v %v", err, res.Warnings)
			}
			// policies
			req.RoomState = membership.StrippedStateError
			_, err = membership.SignInvite(req)
			wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
			req.RoomState = membership.StrippedStateSkip
			if res, err = membership.SignInvite(req); err != nil || len(res.Warnings) != 0 {
				t.Errorf("skip: %v %v", err, res.Warnings)
			}
			req.RoomState = membership.StrippedStateWarn
			if _, err = membership.SignInvite(req); err != nil {
				t.Errorf("warn: %v", err)
			}
			// not an invite / sender not of origin / target not local
			req.RoomState = membership.StrippedStateDefault
			req.InviteRoomState = rs
			req.Origin = "c.example"
			_, err = membership.SignInvite(req)
			wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
			req.Origin = "a.example"
			req.LocalServer = "c.example"
			req.Key = authgen.KeyFor("c.example", "1")
			_, err = membership.SignInvite(req)
			wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
		})
	}
}

// decisions.md (membership) 11; go doc CheckStrippedState, MaxStrippedState.
func TestMembershipCheckStrippedState(t *testing.T) {
	v := ver("12")
	r := newRoom(t, v, "invite", nil)
	topic := raw(t, v, M{"room_id": r.id(), "type": "m.room.topic", "state_key": "", "content": M{"topic": "secret"}})
	// a redacted copy: content emptied, hashes and signatures kept
	var tm map[string]any
	_ = json.Unmarshal(topic, &tm)
	tm["content"] = M{}
	redacted := claimkit.Marshal(t, tm)
	valid, problems := membership.CheckStrippedState(v, r.id(), []json.RawMessage{r.create.Raw(), redacted}, ring)
	if len(problems) != 0 || len(valid) != 2 {
		t.Errorf("redacted topic: %d valid, problems %v", len(valid), problems)
	}
	// unknown key: a problem wrapping signing.ErrUnknownKey
	foreign := raw(t, v, M{"room_id": r.id(), "sender": "@z:z.example", "type": "m.room.name", "state_key": "", "content": M{"name": "n"}})
	_, problems = membership.CheckStrippedState(v, r.id(), []json.RawMessage{r.create.Raw(), foreign}, ring)
	if len(problems) != 1 || !errors.Is(problems[0], signing.ErrUnknownKey) {
		t.Errorf("unknown key: %v", problems)
	}
	var me *membership.Error
	if len(problems) == 1 && (!errors.As(problems[0], &me) || me.Status != 400 || me.ErrCode != membership.ErrCodeInvalidParam) {
		t.Errorf("problem type %v", problems[0])
	}
	// v12 create with a room_id: a problem
	withRoom := raw(t, v, M{"room_id": r.id(), "type": "m.room.create", "state_key": "", "content": M{"room_version": "12"}})
	_, problems = membership.CheckStrippedState(v, r.id(), []json.RawMessage{withRoom}, ring)
	if len(problems) == 0 {
		t.Error("v12 create with room_id: no problem")
	}
	// 300 entries before the create event: still found
	var many []json.RawMessage
	jr := r.jr.Raw()
	for i := 0; i < 300; i++ {
		many = append(many, jr)
	}
	many = append(many, r.create.Raw())
	valid, problems = membership.CheckStrippedState(v, r.id(), many, ring)
	if len(problems) != 0 || len(valid) != membership.MaxStrippedState+1 && len(valid) != membership.MaxStrippedState {
		t.Errorf("300 entries then create: %d valid, %d problems", len(valid), len(problems))
	}
	// v11: a create of the room sent by another server fails rule 1
	v11 := ver("11")
	cr := raw(t, v11, M{"sender": "@eve:b.example", "type": "m.room.create", "state_key": "", "content": M{"room_version": "11"}})
	_, problems = membership.CheckStrippedState(v11, roomID, []json.RawMessage{cr}, ring)
	if len(problems) == 0 {
		t.Error("v11 create by b.example of !room:a.example accepted")
	}
}

// go doc membership (package): zero Version refused with ErrUnknownVersion.
func TestMembershipZeroVersion(t *testing.T) {
	err := membership.CheckMakeRequest(roomversion.Version{}, "@bob:b.example", "", []string{"1"})
	if !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("CheckMakeRequest zero version: %v", err)
	}
	if _, err := membership.SignTemplate(roomversion.Version{}, []byte(`{}`), "b.example", 1, "", "b.example", authgen.KeyFor("b.example", "1")); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("SignTemplate zero version: %v", err)
	}
	if membership.JoinRuleSupported(roomversion.Version{}, "public") {
		t.Log("JoinRuleSupported(zero, public) = true (not an error-returning function)")
	}
}

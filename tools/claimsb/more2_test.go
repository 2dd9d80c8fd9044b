package claimsb

import (
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
)

// decisions.md (authrules) "Creators": v1-10 content.creator only when it is a string.
func TestCreatorNotString(t *testing.T) {
	v := ver("10")
	cr := ev(t, v, M{"type": "m.room.create", "state_key": "", "content": M{"room_version": "10", "creator": 5}})
	if err := authrules.Check(v, cr, nil, nil); err != nil {
		t.Errorf("creator 5: %v", err)
	}
	s, _ := authrules.NewState(v, []*pdu.Event{cr})
	if len(s.Creators()) != 0 {
		t.Errorf("Creators %v", s.Creators())
	}
	if len(s.PowerLevels().Users()) != 0 {
		t.Errorf("Users %v", s.PowerLevels().Users())
	}
}

// go doc membership.EvaluateConditions, ConditionsResult.
func TestEvaluateConditions(t *testing.T) {
	c := func(ids ...string) []membership.AllowCondition {
		var out []membership.AllowCondition
		for _, id := range ids {
			out = append(out, membership.AllowCondition{Type: membership.ConditionRoomMembership, RoomID: id})
		}
		return out
	}
	rooms := membership.KnownRooms{"!k:x": {"@b:b.example": "leave"}, "!j:x": {"@b:b.example": "join"}, "!i:x": {"@b:b.example": "invite"}}
	r := membership.EvaluateConditions(c("!u1:x", "!u2:x", "!u1:x", "!k:x", "!i:x"), "@b:b.example", rooms, false)
	if r.Met || strings.Join(r.Unverifiable, ",") != "!u1:x,!u2:x" {
		t.Errorf("unverifiable %+v", r)
	}
	r = membership.EvaluateConditions(c("!u1:x", "!j:x", "!u2:x"), "@b:b.example", rooms, false)
	if !r.Met || r.Satisfied.RoomID != "!j:x" || len(r.Unverifiable) != 0 {
		t.Errorf("met %+v", r)
	}
	r = membership.EvaluateConditions(c("!u1:x", "!k:x"), "@b:b.example", rooms, true)
	if r.Met || len(r.Unverifiable) != 0 {
		t.Errorf("knowsOwnUsers %+v", r)
	}
	r = membership.EvaluateConditions(c("!u1:x"), "@b:b.example", nil, false)
	if r.Met || len(r.Unverifiable) != 1 {
		t.Errorf("nil rooms %+v", r)
	}
}

// go doc membership.Transitions, Transition.Rule ("as in authrules rejections").
func TestTransitionRulesAndJoinRules(t *testing.T) {
	for _, tr := range membership.Transitions(ver("7")) {
		if slices.Contains(tr.JoinRules, "restricted") || slices.Contains(tr.JoinRules, "knock_restricted") {
			t.Errorf("v7 transition with an undefined join rule: %+v", tr)
		}
	}
	for _, tr := range membership.Transitions(ver("9")) {
		if slices.Contains(tr.JoinRules, "knock_restricted") {
			t.Errorf("v9 transition with knock_restricted: %+v", tr)
		}
	}
	// Rule numbers compared with the rule authrules cites for the same membership.
	for _, c := range []struct {
		v, from, to, rule string
		self              bool
	}{
		{"10", "join", "leave", "4.5", true},
		{"10", "", "invite", "4.4", false},
		{"10", "join", "ban", "4.6", false},
		{"10", "", "knock", "4.7", true},
		{"10", "", "join", "4.3", true},
		{"7", "", "knock", "4.6", true},
		{"12", "join", "leave", "5.5", true},
		{"12", "join", "ban", "5.6", false},
		{"12", "", "join", "5.3", true},
		{"1", "join", "leave", "5.4", true},
	} {
		jr := "public"
		if c.to == "knock" {
			jr = "knock"
		}
		tr, ok := membership.FindTransition(ver(c.v), c.from, c.to, c.self, jr)
		if !ok || tr.Rule != c.rule {
			t.Errorf("v%s %s→%s: Rule %q, want %q", c.v, c.from, c.to, tr.Rule, c.rule)
		}
	}
}

// The rule numbers used above, as authrules cites them (to keep the table honest).
func TestTransitionRuleNumbersFromAuthrules(t *testing.T) {
	for _, c := range []struct{ v, want string }{{"10", "4.5.5"}, {"12", "5.5.5"}, {"1", "5.4.5"}} {
		v := ver(c.v)
		r := newRoom(t, v, "public", M{"users": M{}, "kick": 50})
		if !v.AdditionalCreators() {
			r = newRoom(t, v, "public", M{"users": M{"@alice:a.example": 100, "@bob:b.example": 100}, "kick": 50})
		}
		mod := ev(t, v, M{"room_id": r.id(), "sender": "@mod:m.example", "type": "m.room.member", "state_key": "@mod:m.example", "content": M{"membership": "join"}})
		kick := ev(t, v, M{"room_id": r.id(), "sender": "@mod:m.example", "type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "leave"}})
		err := r.state(t, mod).Check(kick, nil)
		var rj *authrules.Rejection
		if !asRejection(err, &rj) || rj.Rule != c.want {
			t.Errorf("v%s kick: %v", c.v, err)
		}
	}
}

func asRejection(err error, rj **authrules.Rejection) bool {
	r, ok := err.(*authrules.Rejection)
	*rj = r
	return ok
}

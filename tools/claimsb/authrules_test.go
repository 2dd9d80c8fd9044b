package claimsb

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// decisions.md (authrules) "Rule numbers are the ones the published spec displays":
// v12 auth event from another room is 3.4.
func TestAuthRuleNumbersV12AnotherRoom(t *testing.T) {
	v := ver("12")
	r := newRoom(t, v, "public", nil)
	other := newRoom(t, v, "public", nil)
	// bob's message citing a power levels event of another room
	msg := ev(t, v, M{"room_id": r.id(), "type": "m.room.message", "auth_events": refs(v, other.pl, r.join), "prev_events": refs(v, r.join), "depth": 5})
	err := authrules.CheckWithOptions(v, msg, []*pdu.Event{other.pl, r.join}, authrules.Options{Create: r.create})
	wantRejection(t, err, "3.4", authrules.ErrAuthEventWrongRoom)
}

// decisions.md (authrules) "The otherwise rule is cited": v8 invite room, join without invite: 4.3.7.
func TestAuthOtherwiseRule(t *testing.T) {
	v := ver("8")
	r := newRoom(t, v, "invite", nil)
	j := r.member(t, "@bob:b.example", "@bob:b.example", "join", nil)
	wantRejection(t, r.state(t).Check(j, nil), "4.3.7", authrules.ErrJoinNotAllowed)
}

// decisions.md (authrules) "Rule 4.2.1 applies to every membership": a leave carrying a
// non-string or invalid join_authorised_via_users_server is rejected under 4.2.1.
func TestAuth421EveryMembership(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "invite", nil)
	bobJoin := r.member(t, "@bob:b.example", "@bob:b.example", "join", nil)
	r.extra = append(r.extra, bobJoin)
	s := r.state(t)
	for name, val := range map[string]any{"number": 5, "not user id": "bob", "unsigned server": "@carol:c.example"} {
		t.Run(name, func(t *testing.T) {
			l := r.member(t, "@bob:b.example", "@bob:b.example", "leave", M{"join_authorised_via_users_server": val})
			wantRejection(t, s.Check(l, nil), "4.2.1", authrules.ErrAuthoriserSignature)
		})
	}
	// signed by c.example: without keys, allowed with a warning
	l := r.member(t, "@bob:b.example", "@bob:b.example", "leave", M{"join_authorised_via_users_server": "@carol:c.example"}, "c.example")
	var warns []*authrules.Rejection
	err := s.CheckWithOptions(l, authrules.Options{Warn: func(r *authrules.Rejection) { warns = append(warns, r) }})
	if err != nil {
		t.Fatalf("leave signed by c.example without keys: %v", err)
	}
	if len(warns) != 1 || warns[0].Severity != authrules.SeverityWarn {
		t.Fatalf("want one warn, got %v", warns)
	}
	if authrules.Rejected(warns[0]) {
		t.Fatal("Rejected(warn) must be false")
	}
}

// decisions.md (authrules) "No m.room.join_rules event, or no join_rule, means invite";
// go doc authrules.JoinRules: non-string join_rule is "", joins fall to 4.3.7, knocks to 4.7.1.
func TestAuthJoinRuleDefaults(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "", nil)
	s := r.state(t)
	if got := s.JoinRules().Rule; got != "invite" {
		t.Fatalf("no join rules: %q", got)
	}
	if got := authrules.ParseJoinRules([]byte(`{}`)).Rule; got != "invite" {
		t.Fatalf("no join_rule: %q", got)
	}
	if got := authrules.ParseJoinRules([]byte(`{"join_rule":5}`)).Rule; got != "" {
		t.Fatalf("non-string: %q", got)
	}
	if got := authrules.ParseJoinRules([]byte(`[1]`)).Rule; got != "" {
		t.Fatalf("not an object: %q", got)
	}
	jr := ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": 5}})
	s2 := r.state(t, jr)
	wantRejection(t, s2.Check(r.member(t, "@bob:b.example", "@bob:b.example", "join", nil), nil), "4.3.7", authrules.ErrJoinNotAllowed)
	wantRejection(t, s2.Check(r.member(t, "@bob:b.example", "@bob:b.example", "knock", nil), nil), "4.7.1", authrules.ErrKnockNotAllowed)
	// join without join rules event: invite rule -> 4.3.7
	wantRejection(t, s.Check(r.member(t, "@bob:b.example", "@bob:b.example", "join", nil), nil), "4.3.7", authrules.ErrJoinNotAllowed)
}

// go doc authrules.JoinRules.Allow: objects kept in order, non-string type/room_id read as "".
func TestAuthJoinRulesAllow(t *testing.T) {
	jr := authrules.ParseJoinRules([]byte(`{"join_rule":"restricted","allow":[1,{"type":"m.room_membership","room_id":"!a:x"},{"type":5,"room_id":null}]}`))
	if jr.Rule != "restricted" || len(jr.Allow) != 2 || jr.Allow[0].RoomID != "!a:x" || jr.Allow[1].Type != "" || jr.Allow[1].RoomID != "" {
		t.Fatalf("%+v", jr)
	}
	if jr := authrules.ParseJoinRules([]byte(`{"join_rule":"restricted","allow":{}}`)); len(jr.Allow) != 0 {
		t.Fatalf("%+v", jr)
	}
}

// decisions.md (authrules) "m.federate: only JSON false stops federation".
func TestAuthFederate(t *testing.T) {
	v := ver("10")
	for _, c := range []struct {
		val  any
		stop bool
	}{{false, true}, {"false", false}, {0, false}, {true, false}} {
		cc := M{"room_version": "10", "creator": "@alice:a.example", "m.federate": c.val}
		create := ev(t, v, M{"type": "m.room.create", "state_key": "", "content": cc})
		j := ev(t, v, M{"type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "join"}})
		jr := ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": "public"}})
		s, err := authrules.NewState(v, []*pdu.Event{create, j, jr})
		if err != nil {
			t.Fatal(err)
		}
		bj := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}})
		err = s.Check(bj, nil)
		if c.stop {
			wantRejection(t, err, "3", authrules.ErrNotFederated)
		} else if err != nil {
			t.Fatalf("m.federate %v: %v", c.val, err)
		}
	}
}

// decisions.md (authrules) "Power level values before v10".
func TestAuthPowerLevelValues(t *testing.T) {
	type c struct {
		name, v, content string
		ok               bool
		rule             string
		user             string
		level            int64
	}
	cases := []c{
		{"string with spaces and sign", "9", `{"users":{"@b:b.example":" +10 "}}`, true, "", "@b:b.example", 10},
		{"leading zeros", "9", `{"users":{"@b:b.example":"007"}}`, true, "", "@b:b.example", 7},
		{"underscore refused", "9", `{"users":{"@b:b.example":"1_0"}}`, false, "9.1", "", 0},
		{"non-ASCII digit refused", "9", `{"users":{"@b:b.example":"\u0663"}}`, false, "9.1", "", 0},
		{"float string refused", "9", `{"users":{"@b:b.example":"50.5"}}`, false, "9.1", "", 0},
		{"two signs refused", "9", `{"users":{"@b:b.example":"+-5"}}`, false, "9.1", "", 0},
		{"unicode whitespace (U+2003) accepted", "9", `{"users":{"@b:b.example":"\u20035"}}`, true, "", "@b:b.example", 5},
		{"U+001C whitespace accepted", "9", `{"users":{"@b:b.example":"\u001c5"}}`, true, "", "@b:b.example", 5},
		{"float truncated v5", "5", `{"users":{"@b:b.example":50.9}}`, true, "", "@b:b.example", 50},
		{"negative float truncated toward zero v5", "5", `{"users":{"@b:b.example":-50.9}}`, true, "", "@b:b.example", -50},
		{"float exponent v5", "5", `{"users":{"@b:b.example":5.114698E4}}`, true, "", "@b:b.example", 51146},
		{"binary64 nearest v5", "5", `{"users":{"@b:b.example":9007199254740993.0}}`, true, "", "@b:b.example", 9007199254740992},
		{"1e23 saturates in getter v5", "5", `{"users":{"@b:b.example":1e23}}`, true, "", "@b:b.example", math.MaxInt64},
		{"1e400 invalid v5", "5", `{"users":{"@b:b.example":1e400}}`, false, "10.1", "", 0},
		{"float refused v6", "6", `{"users":{"@b:b.example":50.5}}`, false, "", "", 0},
		{"dup users key last wins", "9", `{"users":{"@b:b.example":null,"@b:b.example":50}}`, true, "", "@b:b.example", 50},
		{"dup users key last invalid", "9", `{"users":{"@b:b.example":50,"@b:b.example":null}}`, false, "9.1", "", 0},
		{"boolean refused", "9", `{"users":{"@b:b.example":true}}`, false, "9.1", "", 0},
		{"named level invalid v8 rule 9", "8", `{"ban":"x"}`, false, "9", "", 0},
		{"named level invalid v5 rule 10", "5", `{"ban":"x"}`, false, "10", "", 0},
		{"events value invalid v8 rule 9", "8", `{"events":{"m.x":null}}`, false, "9", "", 0},
		{"notifications ignored v5", "5", `{"notifications":{"room":"x"}}`, true, "", "", 0},
		{"notifications invalid v8", "8", `{"notifications":{"room":"x"}}`, false, "9", "", 0},
		{"string refused v10", "10", `{"users":{"@b:b.example":"10"}}`, false, "", "", 0},
		{"beyond int64 string v9 saturates", "9", `{"users":{"@b:b.example":"99999999999999999999"}}`, true, "", "@b:b.example", math.MaxInt64},
		{"invalid user id key", "9", `{"users":{"bob":10}}`, false, "9.1", "", 0},
		{"empty localpart user id key", "9", `{"users":{"@:b.example":10}}`, true, "", "@:b.example", 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pl, err := authrules.ParsePowerLevels(ver(c.v), []byte(c.content))
			if !c.ok {
				if err == nil {
					t.Fatalf("accepted")
				}
				if !errors.Is(err, authrules.ErrPowerLevelsInvalid) {
					t.Fatalf("want ErrPowerLevelsInvalid, got %v", err)
				}
				if c.rule != "" {
					var rj *authrules.Rejection
					if !errors.As(err, &rj) || rj.Rule != c.rule {
						t.Fatalf("want rule %s, got %v", c.rule, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.user != "" {
				if got := pl.UserLevel(c.user); got != c.level {
					t.Fatalf("level %d, want %d", got, c.level)
				}
			}
		})
	}
}

// decisions.md (authrules) "Power level values": beyond int64 compared exactly.
func TestAuthPowerLevelsExactCompare(t *testing.T) {
	pl, err := authrules.ParsePowerLevels(ver("9"), []byte(`{"users":{"@a:a.example":"9223372036854775812","@b:b.example":"9223372036854775817"},"invite":"9223372036854775813"}`))
	if err != nil {
		t.Fatal(err)
	}
	if pl.CompareUsers("@a:a.example", "@b:b.example") != -1 || pl.CompareUsers("@b:b.example", "@a:a.example") != 1 {
		t.Fatal("CompareUsers not exact")
	}
	if c, ok := pl.CompareUserTo("@a:a.example", "invite"); !ok || c != -1 {
		t.Fatalf("CompareUserTo %d %v", c, ok)
	}
	if _, ok := pl.CompareUserTo("@a:a.example", "redaction"); ok {
		t.Fatal("unknown name must be !ok")
	}
	if pl.InviteLevel() != math.MaxInt64 {
		t.Fatal("getter must saturate")
	}
}

// decisions.md (authrules) "Added, changed or removed compares the integer values" and
// "Power level changes: an added or removed named level has no value on the other side".
func TestAuthPowerLevelChanges(t *testing.T) {
	for _, c := range []struct {
		name     string
		old, new M
		ok       bool
	}{
		{"add kick 40 at 40", M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}}, M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}, "kick": 40}, true},
		{"remove kick 30 at 40", M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}, "kick": 30}, M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}}, true},
		{"add kick 60 at 40", M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}}, M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}, "kick": 60}, false},
		{"string 50 replacing 50 not a change", M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}, "ban": 50}, M{"users": M{"@alice:a.example": 100, "@bob:b.example": 40}, "ban": "50"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := ver("9")
			c.old["state_default"] = 0
			c.new["state_default"] = 0
			r := newRoom(t, v, "public", c.old)
			bj := r.member(t, "@bob:b.example", "@bob:b.example", "join", nil)
			s := r.state(t, bj)
			np := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.power_levels", "state_key": "", "content": c.new})
			err := s.Check(np, nil)
			if c.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !c.ok {
				wantRejection(t, err, "9.3.2", authrules.ErrInsufficientPower)
			}
		})
	}
}

// decisions.md (authrules) "users keys: valid user IDs"; go doc authrules.ValidUserID.
func TestAuthValidUserID(t *testing.T) {
	long := "@" + strings.Repeat("a", 244) + ":b.example" // 255 bytes
	for s, want := range map[string]bool{
		"@a:b.example":         true,
		"@:b.example":          true,
		"@a b\u00e9:b.example": true,
		"@a\x00:b.example":     false,
		"a:b.example":          false,
		"@a:b.example:99":      true,
		"@a:b.example:123456":  false,
		"@a:b_c":               false,
		"@a:[::1]:8448":        true,
		"@a:":                  false,
		long:                   true,
		long + "x":             false,
		"@a\xff:b.example":     false,
	} {
		if got := authrules.ValidUserID(s); got != want {
			t.Errorf("ValidUserID(%q) = %v, want %v", s, got, want)
		}
	}
}

// decisions.md (authrules) "Rule 1.4 (v12): additional_creators is checked, the create event's
// sender is not".
func TestAuthV12CreateSender(t *testing.T) {
	v := ver("12")
	cr := ev(t, v, M{"room_id": nil, "sender": "x:a.example", "type": "m.room.create", "state_key": "", "content": M{"room_version": "12"}})
	if err := authrules.Check(v, cr, nil, nil); err != nil {
		t.Fatalf("create with sender x:a.example: %v", err)
	}
	bad := ev(t, v, M{"room_id": nil, "type": "m.room.create", "state_key": "", "content": M{"room_version": "12", "additional_creators": []any{"bob"}}})
	wantRejection(t, authrules.Check(v, bad, nil, nil), "1.4", authrules.ErrCreateAdditionalCreators)
	withRoom := ev(t, v, M{"type": "m.room.create", "state_key": "", "content": M{"room_version": "12"}})
	wantRejection(t, authrules.Check(v, withRoom, nil, nil), "1.2", authrules.ErrCreateRoomID)
}

// decisions.md (authrules) "Rule 1.3: room_version must be a string naming a known version";
// absent means version 1 with a warning.
func TestAuthRule13(t *testing.T) {
	v := ver("10")
	for _, rv := range []any{10, "99"} {
		cr := ev(t, v, M{"type": "m.room.create", "state_key": "", "content": M{"room_version": rv, "creator": "@alice:a.example"}})
		wantRejection(t, authrules.Check(v, cr, nil, nil), "1.3", authrules.ErrCreateRoomVersion)
	}
	cr := ev(t, v, M{"type": "m.room.create", "state_key": "", "content": M{"creator": "@alice:a.example"}})
	var warns int
	if err := authrules.CheckWithOptions(v, cr, nil, authrules.Options{Warn: func(*authrules.Rejection) { warns++ }}); err != nil {
		t.Fatalf("absent room_version: %v", err)
	}
	if warns != 1 {
		t.Fatalf("want a warning, got %d", warns)
	}
}

// decisions.md (authrules) "Rule 1.2 (v1-11): both IDs must have a domain, compared exactly".
func TestAuthRule12(t *testing.T) {
	v := ver("10")
	for name, f := range map[string]M{
		"room without domain": {"room_id": "!room"},
		"case differs":        {"room_id": "!room:A.example"},
		"port differs":        {"room_id": "!room:a.example:8448"},
	} {
		f["type"] = "m.room.create"
		f["state_key"] = ""
		f["content"] = M{"room_version": "10", "creator": "@alice:a.example"}
		cr := ev(t, v, f)
		t.Run(name, func(t *testing.T) {
			wantRejection(t, authrules.Check(v, cr, nil, nil), "1.2", authrules.ErrCreateRoomID)
		})
	}
}

// decisions.md (authrules) "Severity": member without membership is fatal 4.1; create without
// creator (v1-10) fatal 1.4; go doc Severity.String.
func TestAuthSeverity(t *testing.T) {
	v := ver("10")
	cr := ev(t, v, M{"type": "m.room.create", "state_key": "", "content": M{"room_version": "10"}})
	err := authrules.Check(v, cr, nil, nil)
	wantRejection(t, err, "1.4", authrules.ErrCreateNoCreator)
	var rj *authrules.Rejection
	errors.As(err, &rj)
	if rj.Severity != authrules.SeverityFatal {
		t.Fatalf("create without creator: severity %v", rj.Severity)
	}
	r := newRoom(t, v, "public", nil)
	m := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{}})
	err = r.state(t).Check(m, nil)
	wantRejection(t, err, "4.1", nil)
	errors.As(err, &rj)
	if rj.Severity != authrules.SeverityFatal || !errors.Is(err, authrules.ErrRejected) {
		t.Fatalf("member without membership: %v %v", rj.Severity, err)
	}
	if authrules.SeverityFatal.String() != "fatal" || authrules.SeverityError.String() != "error" || authrules.SeverityWarn.String() != "warn" {
		t.Fatal("Severity.String")
	}
	if got := rj.Error(); got != "authrules: rule 4.1: "+rj.Reason {
		t.Fatalf("Error() = %q", got)
	}
	if authrules.Rejected(nil) {
		t.Fatal("Rejected(nil)")
	}
	// ordinary rejection is SeverityError
	err = r.state(t).Check(ev(t, v, M{"sender": "@bob:b.example"}), nil)
	errors.As(err, &rj)
	if rj.Severity != authrules.SeverityError || rj.Rule != "5" {
		t.Fatalf("message of non-member: %v", err)
	}
}

// decisions.md (authrules) "Missing auth events"; go doc authrules.Check.
func TestAuthMissingAuthEvents(t *testing.T) {
	for _, c := range []struct{ v, rule string }{{"10", "2"}, {"12", "3"}} {
		v := ver(c.v)
		r := newRoom(t, v, "public", nil)
		ae := refs(v, r.pl, r.join)
		if !v.AdditionalCreators() {
			ae = refs(v, r.create, r.pl, r.join)
		}
		msg := ev(t, v, M{"room_id": r.id(), "auth_events": ae, "prev_events": refs(v, r.pl), "depth": 4})
		supplied := []*pdu.Event{r.join}
		if !v.AdditionalCreators() {
			supplied = append(supplied, r.create)
		}
		err := authrules.CheckWithOptions(v, msg, supplied, authrules.Options{Create: r.create})
		wantRejection(t, err, c.rule, authrules.ErrAuthEventMissing)
		// all supplied plus an unlisted one: allowed with a warning
		supplied = append(supplied, r.pl, r.jr)
		var warns int
		if err := authrules.CheckWithOptions(v, msg, supplied, authrules.Options{Create: r.create, Warn: func(*authrules.Rejection) { warns++ }}); err != nil {
			t.Fatalf("v%s: %v", c.v, err)
		}
		if warns == 0 {
			t.Fatalf("v%s: unlisted supplied event: no warning", c.v)
		}
	}
}

// decisions.md (authrules) "v12: where the create event comes from".
func TestAuthV12CreateSource(t *testing.T) {
	v := ver("12")
	r := newRoom(t, v, "public", nil)
	msg := ev(t, v, M{"room_id": r.id(), "auth_events": refs(v, r.pl, r.join), "prev_events": refs(v, r.pl), "depth": 4})
	// found among supplied events
	if err := authrules.Check(v, msg, []*pdu.Event{r.pl, r.join, r.create}, nil); err != nil {
		t.Fatalf("create among supplied: %v", err)
	}
	// none known: rule 2
	wantRejection(t, authrules.Check(v, msg, []*pdu.Event{r.pl, r.join}, nil), "2", authrules.ErrRoomIDNotCreate)
	// rejected create: rule 2
	err := authrules.CheckWithOptions(v, msg, []*pdu.Event{r.pl, r.join}, authrules.Options{Create: r.create, Rejected: map[string]bool{r.create.EventID: true}})
	wantRejection(t, err, "2", authrules.ErrRoomIDNotCreate)
	// IDs differ
	other := newRoom(t, v, "public", nil)
	err = authrules.CheckWithOptions(v, msg, []*pdu.Event{r.pl, r.join}, authrules.Options{Create: other.create})
	wantRejection(t, err, "2", authrules.ErrRoomIDNotCreate)
	// create listed in auth_events: 3.2
	msg2 := ev(t, v, M{"room_id": r.id(), "auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.pl), "depth": 4})
	wantRejection(t, authrules.Check(v, msg2, []*pdu.Event{r.pl, r.join, r.create}, nil), "3.2", authrules.ErrAuthEventUnexpected)
}

// decisions.md (authrules) "Creators"; go doc DefaultPowerLevels, Users, UserLevelSet, IsCreator.
func TestAuthCreators(t *testing.T) {
	pl := authrules.DefaultPowerLevels(ver("10"), []string{"@alice:a.example"})
	if pl.Exists() || pl.UserLevel("@alice:a.example") != 100 || pl.UserLevel("@bob:b.example") != 0 || pl.StateDefault() != 50 {
		t.Fatalf("v10 defaults wrong")
	}
	if u := pl.Users(); len(u) != 1 || u["@alice:a.example"] != 100 {
		t.Fatalf("v10 Users %v", u)
	}
	if l, ok := pl.UserLevelSet("@alice:a.example"); !ok || l != 100 {
		t.Fatal("v10 UserLevelSet")
	}
	pl12 := authrules.DefaultPowerLevels(ver("12"), []string{"@alice:a.example", "@carol:c.example"})
	if len(pl12.Users()) != 0 {
		t.Fatalf("v12 Users %v", pl12.Users())
	}
	if _, ok := pl12.UserLevelSet("@alice:a.example"); ok {
		t.Fatal("v12 creator has a users entry")
	}
	if pl12.UserLevel("@carol:c.example") != authrules.InfiniteLevel || !pl12.IsCreator("@carol:c.example") || pl12.IsCreator("@bob:b.example") {
		t.Fatal("v12 creators")
	}
	if pl12.CompareUsers("@alice:a.example", "@carol:c.example") != 0 || pl12.CompareUsers("@alice:a.example", "@bob:b.example") != 1 {
		t.Fatal("v12 creator comparisons")
	}
	// two v12 creators: one cannot kick the other
	v := ver("12")
	create := ev(t, v, M{"room_id": nil, "type": "m.room.create", "state_key": "", "content": M{"room_version": "12", "additional_creators": []any{"@carol:c.example"}}})
	rid := "!" + strings.TrimPrefix(create.EventID, "$")
	aj := ev(t, v, M{"room_id": rid, "type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "join"}})
	cj := ev(t, v, M{"room_id": rid, "sender": "@carol:c.example", "type": "m.room.member", "state_key": "@carol:c.example", "content": M{"membership": "join"}})
	s, err := authrules.NewState(v, []*pdu.Event{create, aj, cj})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Creators(); len(got) != 2 || got[0] != "@alice:a.example" || got[1] != "@carol:c.example" {
		t.Fatalf("Creators %v", got)
	}
	kick := ev(t, v, M{"room_id": rid, "type": "m.room.member", "state_key": "@carol:c.example", "content": M{"membership": "leave"}})
	wantRejection(t, s.Check(kick, nil), "5.5.5", authrules.ErrInsufficientPower)
	// v11 creator is the sender, v10 content.creator
	v11 := ver("11")
	cr11 := ev(t, v11, M{"type": "m.room.create", "state_key": "", "content": M{"room_version": "11", "creator": "@zed:a.example"}})
	s11, _ := authrules.NewState(v11, []*pdu.Event{cr11})
	if got := s11.Creators(); len(got) != 1 || got[0] != "@alice:a.example" {
		t.Fatalf("v11 Creators %v", got)
	}
	v10 := ver("10")
	cr10 := ev(t, v10, M{"type": "m.room.create", "state_key": "", "content": M{"room_version": "10", "creator": "@zed:a.example"}})
	s10, _ := authrules.NewState(v10, []*pdu.Event{cr10})
	if got := s10.Creators(); len(got) != 1 || got[0] != "@zed:a.example" {
		t.Fatalf("v10 Creators %v", got)
	}
	if s10.PowerLevels().UserLevel("@zed:a.example") != 100 {
		t.Fatal("v10 creator level without pl")
	}
	var empty *authrules.State
	empty, _ = authrules.NewState(v10, nil)
	if empty.Creators() != nil || empty.Create() != nil {
		t.Fatal("Creators of empty state")
	}
}

// decisions.md (authrules) "Auth events selection: events the rules will reject";
// go doc AuthEventsNeeded.
func TestAuthEventsNeeded(t *testing.T) {
	v := ver("10")
	key := func(ks []authrules.StateKey) string {
		var b strings.Builder
		for _, k := range ks {
			b.WriteString(k.Type + "|" + k.StateKey + ";")
		}
		return b.String()
	}
	cases := []struct {
		name string
		ev   *pdu.Event
		want string
	}{
		{"create", &pdu.Event{Type: "m.room.create", StateKey: sk(""), Sender: "@a:a.example", Content: []byte(`{}`)}, ""},
		{"create no state key", &pdu.Event{Type: "m.room.create", Sender: "@a:a.example", Content: []byte(`{}`)}, ""},
		{"member no state key join", &pdu.Event{Type: "m.room.member", Sender: "@a:a.example", Membership: "join", Content: []byte(`{"membership":"join"}`)},
			"m.room.create|;m.room.power_levels|;m.room.member|@a:a.example;m.room.join_rules|;"},
		{"third party token empty", &pdu.Event{Type: "m.room.member", Sender: "@a:a.example", StateKey: sk("@b:b.example"), Membership: "invite", Content: []byte(`{"membership":"invite","third_party_invite":{"signed":{"token":""}}}`)},
			"m.room.create|;m.room.power_levels|;m.room.member|@a:a.example;m.room.member|@b:b.example;m.room.join_rules|;m.room.third_party_invite|;"},
		{"jauvs empty", &pdu.Event{Type: "m.room.member", Sender: "@b:b.example", StateKey: sk("@b:b.example"), Membership: "join", Content: []byte(`{"membership":"join","join_authorised_via_users_server":""}`)},
			"m.room.create|;m.room.power_levels|;m.room.member|@b:b.example;m.room.join_rules|;m.room.member|;"},
		{"jauvs non-string", &pdu.Event{Type: "m.room.member", Sender: "@b:b.example", StateKey: sk("@b:b.example"), Membership: "join", Content: []byte(`{"membership":"join","join_authorised_via_users_server":5}`)},
			"m.room.create|;m.room.power_levels|;m.room.member|@b:b.example;m.room.join_rules|;"},
		{"leave: no join rules", &pdu.Event{Type: "m.room.member", Sender: "@b:b.example", StateKey: sk("@c:b.example"), Membership: "leave", Content: []byte(`{"membership":"leave"}`)},
			"m.room.create|;m.room.power_levels|;m.room.member|@b:b.example;m.room.member|@c:b.example;"},
	}
	for _, c := range cases {
		got, err := authrules.AuthEventsNeeded(v, c.ev)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if key(got) != c.want {
			t.Errorf("%s: got %s want %s", c.name, key(got), c.want)
		}
	}
	// v12 never selects the create
	got, _ := authrules.AuthEventsNeeded(ver("12"), &pdu.Event{Type: "m.room.message", Sender: "@a:a.example", Content: []byte(`{}`)})
	if key(got) != "m.room.power_levels|;m.room.member|@a:a.example;" {
		t.Errorf("v12: %s", key(got))
	}
	// nil event: fatal rejection
	_, err := authrules.AuthEventsNeeded(v, nil)
	var rj *authrules.Rejection
	if !errors.As(err, &rj) || rj.Severity != authrules.SeverityFatal {
		t.Errorf("nil event: %v", err)
	}
	// zero Version: ErrUnknownVersion
	if _, err := authrules.AuthEventsNeeded(roomversion.Version{}, cases[2].ev); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("zero version: %v", err)
	}
}

// decisions.md (authrules) "The current-state check skips rule 2": a state without create
// rejects with ErrAuthEventNoCreate citing 2.4.
func TestAuthStateWithoutCreate(t *testing.T) {
	v := ver("10")
	j := ev(t, v, M{"type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "join"}})
	s, err := authrules.NewState(v, []*pdu.Event{j})
	if err != nil {
		t.Fatal(err)
	}
	wantRejection(t, s.Check(ev(t, v, M{}), nil), "2.4", authrules.ErrAuthEventNoCreate)
}

// decisions.md (authrules) "Auth events supplied twice: the first counts" (v1).
func TestAuthDuplicateSuppliedFirstCounts(t *testing.T) {
	v := ver("1")
	r := newRoom(t, v, "public", nil)
	// a second event claiming the power levels' ID, giving bob nothing: no, give a
	// different content so that the verdict depends on which counts.
	fake := ev(t, v, M{"event_id": r.pl.EventID, "type": "m.room.power_levels", "state_key": "", "content": M{"users": M{"@alice:a.example": 100}, "events_default": 100}})
	msg := ev(t, v, M{"auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.pl), "depth": 4})
	if err := authrules.Check(v, msg, []*pdu.Event{r.create, r.pl, fake, r.join}, nil); err != nil {
		t.Fatalf("genuine first: %v", err)
	}
	// fake first: alice (100) still may send at 100; use bob instead
	bj := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}})
	msgB := ev(t, v, M{"sender": "@bob:b.example", "auth_events": refs(v, r.create, r.pl, bj), "prev_events": refs(v, r.pl), "depth": 4})
	if err := authrules.Check(v, msgB, []*pdu.Event{r.create, r.pl, fake, bj}, nil); err != nil {
		t.Fatalf("genuine first (bob): %v", err)
	}
	wantRejection(t, authrules.Check(v, msgB, []*pdu.Event{r.create, fake, r.pl, bj}, nil), "8", authrules.ErrInsufficientPower)
}

// decisions.md (authrules) "A State is of one room"; go doc NewState, Apply.
func TestAuthStateOneRoom(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	foreign := ev(t, v, M{"room_id": "!other:a.example", "type": "m.room.topic", "state_key": "", "content": M{"topic": "x"}})
	if _, err := authrules.NewState(v, append(r.events(), foreign)); !errors.Is(err, authrules.ErrInvalidState) {
		t.Fatalf("NewState two rooms: %v", err)
	}
	s := r.state(t)
	n := s.Len()
	if err := s.Apply(foreign); !errors.Is(err, authrules.ErrInvalidState) {
		t.Fatalf("Apply foreign: %v", err)
	}
	if s.Len() != n || s.Get("m.room.topic", "") != nil {
		t.Fatal("state changed")
	}
	// v12: a second create of another room
	v12 := ver("12")
	r12 := newRoom(t, v12, "public", nil)
	o12 := newRoom(t, v12, "public", nil)
	s12 := r12.state(t)
	if err := s12.Apply(o12.create); !errors.Is(err, authrules.ErrInvalidState) {
		t.Fatalf("v12 Apply foreign create: %v", err)
	}
	// duplicate (type,state_key) in NewState refused
	dup := ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": "invite"}})
	if _, err := authrules.NewState(v, append(r.events(), dup)); !errors.Is(err, authrules.ErrInvalidState) {
		t.Fatalf("NewState duplicate key: %v", err)
	}
	// empty state: first event sets the room
	e, _ := authrules.NewState(v, nil)
	if err := e.Apply(foreign); err != nil {
		t.Fatal(err)
	}
	if err := e.Apply(r.create); !errors.Is(err, authrules.ErrInvalidState) {
		t.Fatalf("empty state then other room: %v", err)
	}
}

// go doc authrules (package): zero Version refused with ErrUnknownVersion; Check nil event.
func TestAuthZeroVersionAndNil(t *testing.T) {
	v := ver("10")
	msg := ev(t, v, M{})
	if err := authrules.Check(roomversion.Version{}, msg, nil, nil); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("Check zero version: %v", err)
	}
	renamed := v
	renamed.ID = "10-custom"
	if err := authrules.Check(renamed, msg, nil, nil); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("Check renamed version: %v", err)
	}
	if _, err := authrules.NewState(roomversion.Version{}, nil); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("NewState zero version: %v", err)
	}
	err := authrules.Check(v, nil, nil, nil)
	var rj *authrules.Rejection
	if !errors.As(err, &rj) || !errors.Is(err, authrules.ErrMalformed) || rj.Severity != authrules.SeverityFatal {
		t.Errorf("Check nil event: %v", err)
	}
	if _, err := authrules.CheckAuthChain(roomversion.Version{}, nil, nil); !errors.Is(err, authrules.ErrChainInput) && !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("CheckAuthChain zero version: %v", err)
	}
}

// decisions.md (authrules) "Rule 11 (v1-2): event ID domains".
func TestAuthRule11V1(t *testing.T) {
	v := ver("1")
	r := newRoom(t, v, "public", M{"users": M{"@alice:a.example": 100}, "redact": 50})
	bj := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}})
	s := r.state(t, bj)
	same := ev(t, v, M{"sender": "@bob:b.example", "event_id": "$r1:b.example", "type": "m.room.redaction", "redacts": "$x:b.example"})
	if err := s.Check(same, nil); err != nil {
		t.Fatalf("same domain: %v", err)
	}
	diff := ev(t, v, M{"sender": "@bob:b.example", "event_id": "$r2:b.example", "type": "m.room.redaction", "redacts": "$x:B.example"})
	wantRejection(t, s.Check(diff, nil), "11.3", authrules.ErrRedactionNotAllowed)
}

// go doc authrules.State: Members sorted, Membership "" for none, Events sorted, Get.
func TestAuthStateAccessors(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	z := ev(t, v, M{"sender": "@zed:b.example", "type": "m.room.member", "state_key": "@zed:b.example", "content": M{"membership": "join"}})
	b := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}})
	odd := ev(t, v, M{"sender": "@odd:b.example", "type": "m.room.member", "state_key": "@odd:b.example", "content": M{"membership": 5}})
	s := r.state(t, z, b, odd)
	m := s.Members("join")
	if strings.Join(m, ",") != "@alice:a.example,@bob:b.example,@zed:b.example" {
		t.Errorf("Members %v", m)
	}
	if s.Membership("@odd:b.example") != "" || s.Membership("@none:b.example") != "" {
		t.Error("Membership non-string / none")
	}
	evs := s.Events()
	for i := 1; i < len(evs); i++ {
		a, c := evs[i-1], evs[i]
		if a.Type > c.Type || (a.Type == c.Type && *a.StateKey > *c.StateKey) {
			t.Errorf("Events not sorted at %d", i)
		}
	}
	if s.Get("m.room.member", "@bob:b.example") != b || s.Get("m.room.member", "@x:b.example") != nil {
		t.Error("Get")
	}
	n := 0
	for range s.AllMembers("join") {
		n++
	}
	if n != 3 {
		t.Errorf("AllMembers %d", n)
	}
}

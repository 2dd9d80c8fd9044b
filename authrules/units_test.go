package authrules

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

func mustVersion(t testing.TB, id string) roomversion.Version {
	t.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSeverityAndRejection(t *testing.T) {
	for s, want := range map[Severity]string{SeverityFatal: "fatal", SeverityError: "error", SeverityWarn: "warn", 9: "Severity(9)"} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
	r := &Rejection{Rule: "4.3.5.2", Severity: SeverityError, Reason: "because", Err: ErrRestrictedAuthoriser}
	if got := r.Error(); got != "authrules: rule 4.3.5.2: because" {
		t.Errorf("Error() = %q", got)
	}
	var err error = r
	if !errors.Is(err, ErrRestrictedAuthoriser) || !errors.Is(err, ErrRejected) || errors.Is(err, ErrBanned) || !Rejected(err) {
		t.Errorf("errors.Is does not match as documented")
	}
	w := &Rejection{Rule: "4.2.1", Severity: SeverityWarn, Reason: "x", Err: ErrAuthoriserSignature}
	if errors.Is(w, ErrRejected) || Rejected(w) || Rejected(nil) {
		t.Errorf("a warning or nil must not count as a rejection")
	}
	if (&Rejection{Reason: "no event"}).Error() != "authrules: no event" {
		t.Errorf("rule-less Error()")
	}
}

// TestRuleNumbers spot-checks the numbering of every rule set against the spec texts.
func TestRuleNumbers(t *testing.T) {
	tests := []struct {
		set  string
		r    rule
		want string
	}{
		{"v1", rAliasesDomain, "4.2"}, {"v1", rMemberMalformed, "5.1"}, {"v1", rJoinOtherwise, "5.2.6"},
		{"v1", rInvite3pSignature, "5.3.1.7"}, {"v1", rMemberUnknown, "5.6"}, {"v1", rSenderNotJoined, "6"},
		{"v1", rThirdPartyInvite, "7.1"}, {"v1", rRequiredPower, "8"}, {"v1", rStateKey, "9"}, {"v1", rPLUsers, "10.1"},
		{"v1", rPLUsersNew, "10.7.1"}, {"v1", rPLAllow, "10.8"}, {"v1", rRedactionOtherwise, "11.3"}, {"v1", rAllow, "12"},
		{"v3", rRedactionLevel, ""}, {"v3", rAllow, "11"}, {"v3", rAliasesAllow, "4.3"},
		{"v6", rAliasesDomain, ""}, {"v6", rMemberUnknown, "4.6"}, {"v6", rPLMapOld, "9.4.1"}, {"v6", rAllow, "10"},
		{"v7", rKnockJoinRule, "4.6.1"}, {"v7", rKnockAllow, "4.6.3"}, {"v7", rMemberUnknown, "4.7"}, {"v7", rLeaveSelf, "4.4.1"},
		{"v7", rJoinRestrictedAuthoriser, ""}, {"v7", rJoinOtherwise, "4.2.6"},
		{"v8", rAuthoriserSignature, "4.2.1"}, {"v8", rJoinRestrictedAuthoriser, "4.3.5.2"}, {"v8", rJoinOtherwise, "4.3.7"},
		{"v8", rInvite3pOtherwise, "4.4.1.8"}, {"v8", rInviteOtherwise, "4.4.5"}, {"v8", rLeaveOtherwise, "4.5.5"},
		{"v8", rBanOtherwise, "4.6.3"}, {"v8", rKnockOtherwise, "4.7.4"}, {"v8", rMemberUnknown, "4.8"},
		{"v8", rPLNamedType, "9"}, {"v8", rPLUsers, "9.1"}, {"v8", rPLNoPrevious, "9.2"}, {"v8", rPLAllow, "9.8"},
		{"v8", rCreateCreator, "1.4"}, {"v8", rCreateAllow, "1.5"}, {"v8", rAuthWrongRoom, "2.5"},
		{"v10", rPLNamedType, "9.1"}, {"v10", rPLMapsType, "9.2"}, {"v10", rPLUsers, "9.3"}, {"v10", rPLNoPrevious, "9.4"},
		{"v10", rPLNamedOld, "9.5.1"}, {"v10", rPLUsersNew, "9.9.1"}, {"v10", rPLAllow, "9.10"},
		{"v11", rCreateCreator, ""}, {"v11", rCreateAllow, "1.4"},
		{"v12", rCreateAdditional, "1.4"}, {"v12", rCreateAllow, "1.5"}, {"v12", rRoomID, "2"}, {"v12", rAuthUnexpected, "3.2"},
		{"v12", rAuthNoCreate, ""}, {"v12", rAuthWrongRoom, "3.4"}, {"v12", rFederate, "4"}, {"v12", rJoinRestrictedAuthoriser, "5.3.5.2"},
		{"v12", rKnockJoinRule, "5.7.1"}, {"v12", rSenderNotJoined, "6"}, {"v12", rPLCreators, "10.4"}, {"v12", rPLNoPrevious, "10.5"},
		{"v12", rPLUsersNew, "10.10.1"}, {"v12", rPLAllow, "10.11"}, {"v12", rAllow, "11"},
	}
	for _, tt := range tests {
		if got := ruleNumberOf(tt.set, tt.r); got != tt.want {
			t.Errorf("%s rule %d: %q, want %q", tt.set, tt.r, got, tt.want)
		}
	}
	if ruleNumberOf("v99", rAllow) != "" || ruleNumberOf("v8", numRules) != "" {
		t.Errorf("unknown rule set or rule must give \"\"")
	}
	for _, v := range roomversion.All() {
		if numbersFor(v.Auth.RuleSet) == nil {
			t.Errorf("room version %s: no rule numbers for rule set %q", v.ID, v.Auth.RuleSet)
		}
	}
}

func TestParseStringLevel(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100", 100, true}, {"000100", 100, true}, {"+100", 100, true}, {"-100", -100, true}, {" 100 ", 100, true},
		{" 00100 ", 100, true}, {" +100 ", 100, true}, {" -100 ", -100, true}, {"\t\n100\r\v\f", 100, true},
		{"\u00a0\u2003100\u3000", 100, true}, {"\x1c7\x1f", 7, true}, {"-0", 0, true},
		{"99999999999999999999", math.MaxInt64, true}, {"-99999999999999999999", math.MinInt64, true},
		{"", 0, false}, {" ", 0, false}, {"+", 0, false}, {"-", 0, false}, {"+-1", 0, false}, {"--1", 0, false},
		{"1_000", 0, false}, {"1.0", 0, false}, {"1e2", 0, false}, {"0x10", 0, false}, {"١٢", 0, false},
		{"1 0", 0, false}, {"\u200b1", 0, false}, {"abc", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseStringLevel(tt.in)
		if got.n != tt.want || ok != tt.ok {
			t.Errorf("parseStringLevel(%q) = %d, %v; want %d, %v", tt.in, got.n, ok, tt.want, tt.ok)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		version, raw string
		want         int64
		ok           bool
	}{
		{"1", `50`, 50, true}, {"1", `"50"`, 50, true}, {"1", `50.9`, 50, true}, {"1", `-50.9`, -50, true},
		{"1", `5.114698E4`, 51146, true}, {"1", `1e400`, 0, false}, {"1", `1e-400`, 0, true},
		{"1", `123456789012345678901234567890`, math.MaxInt64, true}, {"1", `1e300`, math.MaxInt64, true},
		{"5", `50.5`, 50, true}, {"6", `50.5`, 0, false}, {"6", `"50"`, 50, true}, {"9", `" 5 "`, 5, true},
		{"10", `"50"`, 0, false}, {"10", `50`, 50, true}, {"10", `-9007199254740991`, -9007199254740991, true},
		{"8", `true`, 0, false}, {"8", `null`, 0, false}, {"8", `{}`, 0, false}, {"8", `[1]`, 0, false},
	}
	for _, tt := range tests {
		got, ok := parseLevel(mustVersion(t, tt.version), []byte(tt.raw))
		if got.n != tt.want || ok != tt.ok {
			t.Errorf("v%s parseLevel(%s) = %d, %v; want %d, %v", tt.version, tt.raw, got.n, ok, tt.want, tt.ok)
		}
	}
}

// TestLevelText: rejection messages call a level infinite only for a v12 creator, and write
// every other level exactly, including one beyond the int64 range (long runs of digits
// abbreviated).
func TestLevelText(t *testing.T) {
	tests := []struct {
		l    levelValue
		want string
	}{
		{creatorLevel, "infinite (room creator)"},
		{levelValue{n: 100}, "100"},
		{levelValue{n: -5}, "-5"},
		{levelValue{n: math.MaxInt64}, "9223372036854775807"},
		{levelValue{n: math.MinInt64}, "-9223372036854775808"},
		{levelValue{n: math.MaxInt64, beyond: new("100000000000000000005")}, "100000000000000000005"},
		{levelValue{n: math.MinInt64, beyond: new("9223372036854775809")}, "-9223372036854775809"},
		{levelValue{n: math.MaxInt64, beyond: new("1" + strings.Repeat("0", 300))}, "1" + strings.Repeat("0", 63) + "…(301 digits)"},
	}
	for _, tt := range tests {
		if got := tt.l.text(); got != tt.want {
			t.Errorf("{%d %s}.text() = %q, want %q", tt.l.n, digitsOf(tt.l), got, tt.want)
		}
	}
}

func TestValidUserID(t *testing.T) {
	valid := []string{"@a:b", "@alice:example.org", "@alice:example.org:8448", "@:example.org", "@Alice Ü:example.org",
		"@a:1.2.3.4", "@a:[1234:5678::abcd]", "@a:[::1]:8448", "@a:EXAMPLE.org", "@a=b/c+d:x-y.z"}
	invalid := []string{"", "@", "@a", "a:b", "#a:b", "@a:", "@a:b_c", "@a:b:", "@a:b:123456", "@a:b:port", "@a:[1234",
		"@a:[]", "@a:[zz]", "@a:b c", "@a\x00b:c", "@a:" + strings.Repeat("x", 260), "@\xff:b"}
	for _, s := range valid {
		if !ValidUserID(s) {
			t.Errorf("ValidUserID(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if ValidUserID(s) {
			t.Errorf("ValidUserID(%q) = true", s)
		}
	}
}

func TestPowerLevelsDefaults(t *testing.T) {
	v9 := mustVersion(t, "9")
	pl, err := ParsePowerLevels(v9, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{pl.UserLevel("@x:y"), pl.UsersDefault(), pl.EventsDefault(), pl.StateDefault(), pl.BanLevel(), pl.KickLevel(),
		pl.RedactLevel(), pl.InviteLevel(), pl.EventLevel("m.room.message", false), pl.EventLevel("m.room.name", true),
		pl.NotificationLevel("room")}
	want := []int64{0, 0, 0, 50, 50, 50, 50, 0, 0, 50, 50}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults %v, want %v", got, want)
	}
	if !pl.Exists() {
		t.Errorf("parsed levels must exist")
	}
	def := DefaultPowerLevels(v9, []string{"@creator:a"})
	if def.Exists() || def.UserLevel("@creator:a") != 100 || def.UserLevel("@x:a") != 0 || def.StateDefault() != 50 {
		t.Errorf("v9 defaults without an event: creator %d, other %d", def.UserLevel("@creator:a"), def.UserLevel("@x:a"))
	}
	v12 := mustVersion(t, "12")
	def12 := DefaultPowerLevels(v12, []string{"@c1:a", "@c2:b"})
	if def12.UserLevel("@c1:a") != InfiniteLevel || def12.UserLevel("@c2:b") != InfiniteLevel || def12.UserLevel("@x:a") != 0 {
		t.Errorf("v12 creators must be infinite")
	}
	pl12, err := ParsePowerLevels(v12, []byte(`{"users":{"@x:a":75},"users_default":5,"events":{"m.room.name":20},"notifications":{"room":10,"x":3},"invite":7,"kick":8,"ban":9,"redact":10,"state_default":11,"events_default":12}`))
	if err != nil {
		t.Fatal(err)
	}
	withC := pl12.withCreators(v12, []string{"@c1:a"})
	got = []int64{withC.UserLevel("@c1:a"), withC.UserLevel("@x:a"), withC.UserLevel("@y:a"), withC.InviteLevel(), withC.KickLevel(),
		withC.BanLevel(), withC.RedactLevel(), withC.StateDefault(), withC.EventsDefault(), withC.EventLevel("m.room.name", true),
		withC.EventLevel("m.room.topic", true), withC.EventLevel("m.x", false), withC.NotificationLevel("room"), withC.NotificationLevel("x"),
		withC.NotificationLevel("other")}
	want = []int64{InfiniteLevel, 75, 5, 7, 8, 9, 10, 11, 12, 20, 11, 12, 10, 3, 50}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("v12 levels %v, want %v", got, want)
	}
	if pl12.UserLevel("@c1:a") != 5 || !withC.IsCreator("@c1:a") || pl12.IsCreator("@c1:a") {
		t.Errorf("creators must only come from withCreators")
	}
	if u := withC.Users(); len(u) != 1 || u["@x:a"] != 75 {
		t.Errorf("Users() = %v", u)
	}
	if lvl, ok := withC.UserLevelSet("@x:a"); !ok || lvl != 75 {
		t.Errorf("UserLevelSet")
	}
	// Duplicate keys: the last occurrence wins (v1-5 may carry them).
	v1 := mustVersion(t, "1")
	dup, err := ParsePowerLevels(v1, []byte(`{"users":{"@a:b":10,"@a:b":"20"},"ban":1,"ban":2}`))
	if err != nil || dup.UserLevel("@a:b") != 20 || dup.BanLevel() != 2 {
		t.Errorf("duplicates: %v %v", dup, err)
	}
}

func TestParsePowerLevelsErrors(t *testing.T) {
	tests := []struct{ version, content, rule string }{
		{"8", `{"users":{"nope":1}}`, "9.1"}, {"8", `{"users":5}`, "9.1"}, {"8", `{"ban":"x"}`, "9"},
		{"8", `{"events":[]}`, "9"}, {"8", `{"notifications":{"room":"x"}}`, "9"}, {"5", `{"notifications":{"room":"x"}}`, ""},
		{"5", `{"users":{"@a:b":"1.5"}}`, "10.1"}, {"10", `{"ban":"1"}`, "9.1"}, {"10", `{"events":{"a":true}}`, "9.2"},
		{"10", `{"users":{"@a:b":"1"}}`, "9.3"}, {"12", `{"kick":null}`, "10.1"}, {"12", `{"users":{"@a:b":1}}`, ""},
		// v1-9 check users first (9.1); v10 checks the named levels first (9.1).
		{"9", `{"ban":"x","users":{"bad":1}}`, "9.1"}, {"10", `{"users":{"bad":1},"ban":"x"}`, "9.1"},
	}
	for _, tt := range tests {
		_, err := ParsePowerLevels(mustVersion(t, tt.version), []byte(tt.content))
		if tt.rule == "" {
			if err != nil {
				t.Errorf("v%s %s: %v", tt.version, tt.content, err)
			}
			continue
		}
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Rule != tt.rule || !errors.Is(err, ErrPowerLevelsInvalid) {
			t.Errorf("v%s %s: %v, want rule %s", tt.version, tt.content, err, tt.rule)
		}
	}
}

func TestParseJoinRules(t *testing.T) {
	tests := []struct {
		content string
		want    JoinRules
	}{
		{`{"join_rule":"public"}`, JoinRules{Rule: "public"}},
		{`{}`, JoinRules{Rule: "invite"}},
		{`{"join_rule":5}`, JoinRules{Rule: ""}},
		{`{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!a:b"},5,{"type":1},{"room_id":"!c:d"}]}`,
			JoinRules{Rule: "restricted", Allow: []AllowCondition{{"m.room_membership", "!a:b"}, {"", ""}, {"", "!c:d"}}}},
		{`{"join_rule":"restricted","allow":"x"}`, JoinRules{Rule: "restricted"}},
		{`not json`, JoinRules{}},
	}
	for _, tt := range tests {
		if got := ParseJoinRules([]byte(tt.content)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseJoinRules(%s) = %+v, want %+v", tt.content, got, tt.want)
		}
	}
}

// stateFixture builds the events of the named templates for room version id.
func stateFixture(t testing.TB, id string, names ...string) []*pdu.Event {
	t.Helper()
	b := newBuilder(t, mustVersion(t, id), "!r:a.example")
	var out []*pdu.Event
	for _, n := range names {
		ev, err := b.Build([]byte(`"`+n+`"`), nil)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if b.V.Format.RoomIDFromCreateEvent && ev.Type == pdu.TypeCreate {
			b.RoomID = "!" + ev.EventID[1:]
		}
		out = append(out, ev)
	}
	return out
}

func TestState(t *testing.T) {
	v := mustVersion(t, "9")
	evs := stateFixture(t, "9", "create", "alice_join", "pl", "jr_restricted", "mod_join", "bob_invite", "carol_ban")
	s, err := NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version().ID != "9" || s.Len() != 7 || s.Create() != evs[0] || s.Get(pdu.TypePowerLevels, "") != evs[2] {
		t.Errorf("accessors")
	}
	if got := s.Creators(); !reflect.DeepEqual(got, []string{"@alice:a.example"}) {
		t.Errorf("Creators() = %v", got)
	}
	if got := s.Members("join"); !reflect.DeepEqual(got, []string{"@alice:a.example", "@mod:a.example"}) {
		t.Errorf("Members(join) = %v", got)
	}
	if s.Membership("@bob:b.example") != "invite" || s.Membership("@carol:c.example") != "ban" || s.Membership("@x:y") != "" {
		t.Errorf("Membership")
	}
	if jr := s.JoinRules(); jr.Rule != "restricted" || len(jr.Allow) != 1 || jr.Allow[0].RoomID != "!space:a.example" {
		t.Errorf("JoinRules() = %+v", jr)
	}
	if s.PowerLevels().UserLevel("@mod:a.example") != 50 {
		t.Errorf("PowerLevels")
	}
	if got := s.Events(); len(got) != 7 || got[0].Type != "m.room.create" {
		t.Errorf("Events() order")
	}
	join := stateFixture(t, "9", "bob_join")[0]
	auth, err := s.AuthEvents(join)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, a := range auth {
		types = append(types, a.Type+"|"+*a.StateKey)
	}
	if want := []string{"m.room.create|", "m.room.power_levels|", "m.room.member|@bob:b.example", "m.room.join_rules|"}; !reflect.DeepEqual(types, want) {
		t.Errorf("AuthEvents = %v, want %v", types, want)
	}
	if err := s.Check(join, nil); err != nil {
		t.Errorf("invited join: %v", err)
	}
	// Apply: bob joins, then the join rules change.
	if err := s.Apply(join); err != nil || s.Membership("@bob:b.example") != "join" {
		t.Errorf("Apply(join): %v", err)
	}
	pub := stateFixture(t, "9", "jr_public")[0]
	if err := s.Apply(pub); err != nil || s.JoinRules().Rule != "public" {
		t.Errorf("Apply(join rules): %v", err)
	}
	pl := stateFixture(t, "9", "pl_invite50")[0]
	if err := s.Apply(pl); err != nil || s.PowerLevels().InviteLevel() != 50 {
		t.Errorf("Apply(power levels): %v", err)
	}
	if s.Apply(stateFixture(t, "9", "message")[0]) == nil || s.Apply(nil) == nil {
		t.Errorf("Apply of a non-state event must fail")
	}

	// Without power levels and join rules: defaults.
	s2, err := NewState(v, evs[:2])
	if err != nil {
		t.Fatal(err)
	}
	if s2.JoinRules().Rule != "invite" || s2.PowerLevels().UserLevel("@alice:a.example") != 100 || s2.PowerLevels().Exists() {
		t.Errorf("defaults of a state without power levels / join rules")
	}
	// Errors.
	if _, err := NewState(v, []*pdu.Event{nil}); !errors.Is(err, ErrInvalidState) {
		t.Errorf("nil event: %v", err)
	}
	if _, err := NewState(v, []*pdu.Event{stateFixture(t, "9", "message")[0]}); !errors.Is(err, ErrInvalidState) {
		t.Errorf("non-state event: %v", err)
	}
	if _, err := NewState(v, []*pdu.Event{evs[0], evs[0]}); !errors.Is(err, ErrInvalidState) {
		t.Errorf("duplicate: %v", err)
	}
	bad := v
	bad.Auth.RuleSet = "v0"
	if _, err := NewState(bad, nil); !errors.Is(err, ErrInvalidState) {
		t.Errorf("unknown rule set: %v", err)
	}
	if err := s.Check(nil, nil); !Rejected(err) {
		t.Errorf("nil event must be rejected")
	}
	if err := Check(v, nil, nil, nil); !Rejected(err) {
		t.Errorf("nil event must be rejected")
	}
	// A copy of a version with a rule changed is no room version (roomversion.Version.Check):
	// an error, not a verdict.
	if err := Check(bad, join, nil, nil); !errors.Is(err, roomversion.ErrUnknownVersion) || Rejected(err) {
		t.Errorf("unknown rule set: %v, want ErrUnknownVersion", err)
	}
	if err := Check(v, join, []*pdu.Event{nil}, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("nil auth event: %v", err)
	}
	// At most maxSuppliedAuthEvents events may be supplied.
	many := make([]*pdu.Event, maxSuppliedAuthEvents+1)
	for i := range many {
		many[i] = evs[0]
	}
	var rej *Rejection
	if err := Check(v, join, many, nil); !errors.As(err, &rej) || rej.Severity != SeverityFatal || !errors.Is(err, ErrMalformed) {
		t.Errorf("%d auth events: %v", len(many), err)
	}
}

func TestStateV12Creators(t *testing.T) {
	v := mustVersion(t, "12")
	evs := stateFixture(t, "12", "create12", "alice_join", "pl12", "carol_join")
	s, err := NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Creators(); !reflect.DeepEqual(got, []string{"@alice:a.example", "@carol:c.example"}) {
		t.Errorf("Creators() = %v", got)
	}
	pl := s.PowerLevels()
	if pl.UserLevel("@alice:a.example") != InfiniteLevel || pl.UserLevel("@carol:c.example") != InfiniteLevel || pl.UserLevel("@bob:b.example") != 100 {
		t.Errorf("v12 levels")
	}
	// The create event supplied through Options to a state without it.
	s2, err := NewState(v, evs[1:])
	if err != nil {
		t.Fatal(err)
	}
	msg := stateFixture(t, "12", "create12", "message")[1]
	if err := s2.Check(msg, nil); !errors.Is(err, ErrRoomIDNotCreate) {
		t.Errorf("without create: %v", err)
	}
	if err := s2.CheckWithOptions(msg, Options{Create: evs[0]}); !errors.Is(err, ErrSenderNotJoined) {
		t.Errorf("with Options.Create, bob is not joined: %v", err)
	}
	if s2.Create() != nil {
		t.Errorf("CheckWithOptions must not modify the state")
	}
}

func TestAuthEventsNeeded(t *testing.T) {
	type sk = StateKey
	create, pl := sk{"m.room.create", ""}, sk{"m.room.power_levels", ""}
	jr := sk{"m.room.join_rules", ""}
	mem := func(u string) sk { return sk{"m.room.member", u} }
	const bob, alice = "@bob:b.example", "@alice:a.example"
	tests := []struct {
		version, event string
		want           []StateKey
	}{
		{"9", `"message"`, []sk{create, pl, mem(bob)}},
		{"12", `"message"`, []sk{pl, mem(bob)}},
		{"9", `"create"`, nil},
		{"12", `"create12"`, nil},
		{"9", `"bob_join"`, []sk{create, pl, mem(bob), jr}},
		{"9", `"bob_invite"`, []sk{create, pl, mem(alice), mem(bob), jr}},
		{"9", `"bob_leave"`, []sk{create, pl, mem(bob)}},
		{"9", `"bob_ban"`, []sk{create, pl, mem(alice), mem(bob)}},
		{"9", `"bob_knock"`, []sk{create, pl, mem(bob), jr}},
		{"6", `"bob_knock"`, []sk{create, pl, mem(bob), jr}},
		{"9", `"tp_invite"`, []sk{create, pl, mem(alice), mem(bob), jr, {"m.room.third_party_invite", "tok123"}}},
		{"9", `"restricted_join"`, []sk{create, pl, mem(bob), jr, mem(alice)}},
		{"7", `"restricted_join"`, []sk{create, pl, mem(bob), jr}},
		{"12", `"restricted_join"`, []sk{pl, mem(bob), jr, mem(alice)}},
		{"9", `{"__base":"restricted_join","content":{"membership":"join","join_authorised_via_users_server":"@bob:b.example"}}`, []sk{create, pl, mem(bob), jr}},
		{"9", `{"__base":"restricted_join","content":{"membership":"join","join_authorised_via_users_server":5}}`, []sk{create, pl, mem(bob), jr}},
		{"9", `{"__base":"restricted_join","content":{"membership":"leave","join_authorised_via_users_server":"@alice:a.example"}}`, []sk{create, pl, mem(bob)}},
		{"9", `{"__base":"tp_invite","content":{"membership":"invite","third_party_invite":{"signed":{"token":7}}}}`, []sk{create, pl, mem(alice), mem(bob), jr}},
		{"9", `{"type":"m.room.member","sender":"@bob:b.example","content":{"membership":"join"}}`, []sk{create, pl, mem(bob), jr}},
	}
	for _, tt := range tests {
		v := mustVersion(t, tt.version)
		b := newBuilder(t, v, "!r:a.example")
		ev, err := b.Build([]byte(tt.event), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.event, err)
		}
		got, err := AuthEventsNeeded(v, ev)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("v%s %s: %v %v, want %v", tt.version, tt.event, got, err, tt.want)
		}
		// The same event being built, made by hand with only the fields the doc names.
		draft := &pdu.Event{Version: v, Type: ev.Type, Sender: ev.Sender, StateKey: ev.StateKey,
			Membership: ev.Membership, Content: ev.Content}
		if got, err := AuthEventsNeeded(v, draft); err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("v%s %s, by hand: %v %v, want %v", tt.version, tt.event, got, err, tt.want)
		}
	}
	if _, err := AuthEventsNeeded(mustVersion(t, "9"), nil); !Rejected(err) {
		t.Errorf("nil event")
	}
}

// TestConcurrentChecks runs State.Check from many goroutines (run with -race).
func TestConcurrentChecks(t *testing.T) {
	v := mustVersion(t, "9")
	evs := stateFixture(t, "9", "create", "alice_join", "pl", "jr_restricted", "mod_join", "bob_join")
	s, err := NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	probes := stateFixture(t, "9", "message", "restricted_join", "bob_leave", "tp_invite")
	keys := testKeyRing(t)
	want := make([]error, len(probes))
	for i, p := range probes {
		want[i] = s.Check(p, keys)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				for j, p := range probes {
					got := s.Check(p, keys)
					if (got == nil) != (want[j] == nil) {
						t.Errorf("probe %d: %v vs %v", j, got, want[j])
					}
					_ = CheckWithOptions(v, p, evs, Options{})
				}
			}
		}()
	}
	wg.Wait()
}

// TestAllocations pins the allocation counts of the hot paths.
func TestAllocations(t *testing.T) {
	v := mustVersion(t, "9")
	evs := stateFixture(t, "9", "create", "alice_join", "pl", "jr_restricted", "mod_join", "bob_join")
	s, err := NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	msg := stateFixture(t, "9", "message")[0]
	b := newBuilder(t, v, "!r:a.example")
	join, err := b.Build([]byte(`{"__base":"restricted_join","sender":"@dave:d.example","state_key":"@dave:d.example","__sign":["d.example","a.example"]}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(join, nil); err != nil {
		t.Fatalf("restricted join: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Check(msg, nil) }); n > 0 {
		t.Errorf("State.Check(message): %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s.Check(join, nil) }); n > 10 {
		t.Errorf("State.Check(restricted join): %v allocations", n)
	}
	evs12 := stateFixture(t, "12", "create12", "alice_join", "pl12", "bob_join", "message")
	s12, err := NewState(mustVersion(t, "12"), evs12[:4])
	if err != nil {
		t.Fatal(err)
	}
	if err := s12.Check(evs12[4], nil); err != nil {
		t.Fatalf("v12 message: %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = s12.Check(evs12[4], nil) }); n > 0 {
		t.Errorf("v12 State.Check(message): %v allocations", n)
	}
}

// TestLoneSurrogateUserIDs: in room versions 1-5, which tolerate unpaired surrogate escapes, a
// `users` key holding one is not a valid user ID (appendices "Historical User IDs": "any legal
// non-surrogate Unicode code points"), while U+FFFD itself is an ordinary code point.
func TestLoneSurrogateUserIDs(t *testing.T) {
	for _, vid := range []string{"1", "3", "5"} {
		v, _ := roomversion.Lookup(vid)
		for _, c := range []struct {
			content string
			ok      bool
		}{
			{`{"users":{"@b\ufffd:example.org":50}}`, true},
			{`{"users":{"@b\ud800:example.org":50}}`, false},
			{`{"users":{"@b\udc00:example.org":50}}`, false},
			{`{"users":{"@b\ud83d\ude00:example.org":50}}`, true}, // a pair is one code point
		} {
			_, err := ParsePowerLevels(v, []byte(c.content))
			if (err == nil) != c.ok || err != nil && !errors.Is(err, ErrPowerLevelsInvalid) {
				t.Errorf("v%s %s: %v, want ok=%v", vid, c.content, err, c.ok)
			}
		}
	}
}

// TestOptionsCreateBeforeV12: before room version 12, Options.Create is ignored by both entry
// points: a state without a create event gives the same verdict with and without it, as
// CheckWithOptions does when the create event is not among the auth events.
func TestOptionsCreateBeforeV12(t *testing.T) {
	for _, id := range []string{"1", "6", "11"} {
		t.Run("v"+id, func(t *testing.T) {
			v := mustVersion(t, id)
			evs := stateFixture(t, id, "create", "alice_join", "bob_join", "message")
			create, msg := evs[0], evs[3]
			s, err := NewState(v, evs[1:3]) // no create event
			if err != nil {
				t.Fatal(err)
			}
			plain := s.Check(msg, nil)
			withOpt := s.CheckWithOptions(msg, Options{Create: create})
			if plain == nil || withOpt == nil || withOpt.Error() != plain.Error() {
				t.Fatalf("State.Check: %v; with Options.Create: %v", plain, withOpt)
			}
		})
	}
}

// TestOptionsCreateV12MatchesState: in room version 12, a state without its create event
// checked with Options.Create gives the verdict of the same state holding the create event.
func TestOptionsCreateV12MatchesState(t *testing.T) {
	v := mustVersion(t, "12")
	names := []string{"create12", "alice_join", "pl12", "jr_restricted", "mod_join", "carol_join", "tpi",
		"message", "bob_join", "bob_invite", "bob_leave", "bob_ban", "bob_knock", "carol_ban", "pl", "pl12",
		"jr_public", "restricted_join", "tp_invite", "user_join"}
	evs := stateFixture(t, "12", names...)
	create := evs[0]
	for _, base := range [][]*pdu.Event{evs[1:3], evs[1:5], evs[1:7]} {
		with, err := NewState(v, append([]*pdu.Event{create}, base...))
		if err != nil {
			t.Fatal(err)
		}
		without, err := NewState(v, base)
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range evs[1:] {
			want := with.Check(ev, nil)
			got := without.CheckWithOptions(ev, Options{Create: create})
			if (want == nil) != (got == nil) || want != nil && want.Error() != got.Error() {
				t.Errorf("state of %d events, %s: with the create event %v; with Options.Create %v", len(base), names[i+1], want, got)
			}
		}
	}
}

// TestStateOneRoom: a State holds the events of one room: NewState and Apply refuse an event of
// another room (its room_id; in v12 also a create event whose ID gives another room ID) with
// ErrInvalidState and leave the state as it was (docs/decisions.md authrules "one room"; found by
// tools/powerref, D4).
func TestStateOneRoom(t *testing.T) {
	foreign := func(id, name string) *pdu.Event {
		b := newBuilder(t, mustVersion(t, id), "!other:m.example")
		ev, err := b.Build([]byte(`"`+name+`"`), nil)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	// A v12 create of another room: the same template at another time.
	otherCreate := func() *pdu.Event {
		create := stateFixture(t, "12", "create12")[0]
		raw := strings.Replace(string(create.Raw()), `"origin_server_ts":`, `"origin_server_ts":1`, 1)
		ev, err := pdu.Parse(mustVersion(t, "12"), []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	// A v12 create with another state key: rules 1 and 2 go by type alone, so it is the create
	// event of a room of its own (pdu.Event.Room).
	createX := func() *pdu.Event {
		create := stateFixture(t, "12", "create12")[0]
		raw := strings.Replace(string(create.Raw()), `"state_key":""`, `"state_key":"x"`, 1)
		ev, err := pdu.Parse(mustVersion(t, "12"), []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	for _, c := range []struct {
		name, version string
		state         []*pdu.Event
		add           *pdu.Event
	}{
		{"v12 create with state key x", "12", stateFixture(t, "12", "create12", "alice_join", "pl12"), createX()},
		{"v9 power levels of another room", "9", stateFixture(t, "9", "create", "alice_join", "pl"), foreign("9", "pl")},
		{"v9 create of another room", "9", stateFixture(t, "9", "create", "alice_join"), foreign("9", "create")},
		{"v1 member of another room", "1", stateFixture(t, "1", "create", "alice_join"), foreign("1", "bob_invite")},
		{"v12 create of another room", "12", stateFixture(t, "12", "create12", "alice_join", "pl12"), otherCreate()},
		{"v12 member of another room", "12", stateFixture(t, "12", "create12", "alice_join"), foreign("12", "bob_invite")},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := mustVersion(t, c.version)
			s, err := NewState(v, c.state)
			if err != nil {
				t.Fatal(err)
			}
			before := s.Events()
			creators := s.Creators()
			if err := s.Apply(c.add); !errors.Is(err, ErrInvalidState) || !strings.Contains(err.Error(), "is of room \"!") {
				t.Errorf("Apply: %v, want ErrInvalidState (another room)", err)
			}
			if !reflect.DeepEqual(s.Events(), before) || !reflect.DeepEqual(s.Creators(), creators) {
				t.Errorf("Apply changed the state")
			}
			if _, err := NewState(v, append(append([]*pdu.Event(nil), c.state...), c.add)); !errors.Is(err, ErrInvalidState) {
				t.Errorf("NewState: %v, want ErrInvalidState", err)
			}
			// The foreign event alone, or first, is a state of its own room.
			if _, err := NewState(v, []*pdu.Event{c.add}); err != nil {
				t.Errorf("NewState of the foreign event alone: %v", err)
			}
			empty, _ := NewState(v, nil)
			if err := empty.Apply(c.add); err != nil {
				t.Errorf("Apply to an empty state: %v", err)
			}
			if err := empty.Apply(c.state[0]); !errors.Is(err, ErrInvalidState) {
				t.Errorf("then an event of the first room: %v, want ErrInvalidState", err)
			}
		})
	}
}

// TestNilReceivers: a nil *State answers as an empty state, its error-returning methods with
// ErrInvalidState (no verdict); a nil *PowerLevels reads as the defaults of a room without
// power levels. Nothing panics.
func TestNilReceivers(t *testing.T) {
	var s *State
	ev := stateFixture(t, "9", "alice_join")[0]
	for name, err := range map[string]error{
		"Check":            s.Check(ev, nil),
		"CheckWithOptions": s.CheckWithOptions(ev, Options{}),
		"Apply":            s.Apply(ev),
	} {
		if !errors.Is(err, ErrInvalidState) || Rejected(err) {
			t.Errorf("%s: %v, want ErrInvalidState and no verdict", name, err)
		}
	}
	if evs, err := s.AuthEvents(ev); !errors.Is(err, ErrInvalidState) || evs != nil {
		t.Errorf("AuthEvents: %v %v", evs, err)
	}
	if s.Len() != 0 || s.Events() != nil || s.Get(pdu.TypeCreate, "") != nil || s.Create() != nil ||
		s.Creators() != nil || s.Membership("@a:a.example") != "" || s.Members("join") != nil ||
		s.Version().ID != "" || s.JoinRules().Rule != JoinRuleInvite {
		t.Errorf("accessors of a nil State")
	}
	for range s.AllMembers("join") {
		t.Errorf("AllMembers of a nil State yields")
	}
	for _, pl := range []*PowerLevels{nil, s.PowerLevels()} {
		if pl.Exists() || pl.IsCreator("@a:a.example") || pl.UserLevel("@a:a.example") != 0 ||
			pl.UsersDefault() != 0 || pl.InviteLevel() != 0 || pl.KickLevel() != 50 || pl.BanLevel() != 50 ||
			pl.RedactLevel() != 50 || pl.StateDefault() != 50 || pl.EventsDefault() != 0 ||
			pl.EventLevel("m.room.name", true) != 50 || pl.EventLevel("m.room.message", false) != 0 ||
			pl.NotificationLevel("room") != DefaultNotificationLevel || len(pl.Users()) != 0 ||
			pl.CompareUsers("@a:a.example", "@b:a.example") != 0 {
			t.Errorf("getters of nil / a nil State's power levels")
		}
		if _, ok := pl.UserLevelSet("@a:a.example"); ok {
			t.Errorf("UserLevelSet of nil power levels")
		}
		if c, ok := pl.CompareUserTo("@a:a.example", "kick"); !ok || c != -1 {
			t.Errorf("CompareUserTo(kick) = %d %v, want -1 true", c, ok)
		}
	}
}

// TestJoinRulesIsACopy: State.JoinRules returns memory of its own, so a caller that changes
// the result's Allow conditions changes neither the state nor another reader's result.
func TestJoinRulesIsACopy(t *testing.T) {
	v := mustVersion(t, "9")
	const rest = `"auth_events":[],"prev_events":[],"depth":1,"origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"room_id":"!r:a.example","sender":"@a:a.example"`
	var evs []*pdu.Event
	for _, raw := range []string{
		`{"type":"m.room.create","state_key":"","content":{"creator":"@a:a.example","room_version":"9"},` + rest + `}`,
		`{"type":"m.room.join_rules","state_key":"","content":{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!space:a.example"}]},` + rest + `}`,
	} {
		ev, err := pdu.Parse(v, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	s, err := NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	jr := s.JoinRules()
	jr.Allow[0].RoomID = "!changed:x.example"
	if got := s.JoinRules().Allow[0].RoomID; got != "!space:a.example" {
		t.Errorf("the state's allow condition changed through a returned value: %q", got)
	}
}

// TestMembershipRule: the number of the m.room.member rule for each membership, per room
// version text (rooms/fragments/v1-auth-rules.md, v6, v7, v8-auth-rules.md, rooms/v12.md); a
// membership the version has no rule for is the "otherwise, the membership is unknown" rule.
func TestMembershipRule(t *testing.T) {
	for _, c := range []struct {
		version                              string
		join, invite, leave, ban, knock, foo string
	}{
		{"1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.6"},
		{"5", "5.2", "5.3", "5.4", "5.5", "5.6", "5.6"},
		{"6", "4.2", "4.3", "4.4", "4.5", "4.6", "4.6"},
		{"7", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7"},
		{"8", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8"},
		{"11", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8"},
		{"12", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8"},
	} {
		v := mustVersion(t, c.version)
		for m, want := range map[string]string{"join": c.join, "invite": c.invite, "leave": c.leave, "ban": c.ban, "knock": c.knock, "foo": c.foo} {
			if got := MembershipRule(v, m); got != want {
				t.Errorf("v%s %s: %q, want %q", c.version, m, got, want)
			}
		}
	}
	if got := MembershipRule(roomversion.Version{}, "join"); got != "" {
		t.Errorf("zero Version: %q", got)
	}
}

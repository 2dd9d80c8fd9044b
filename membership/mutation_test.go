package membership

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// TestMutationExactNote: the note about saturated levels is added only in room versions
// 1-9, for two equal levels at the int64 limit.
func TestMutationExactNote(t *testing.T) {
	// membership/transitions.go:286 '&&' -> '||'
	v9, _ := roomversion.Lookup("9")
	v10, _ := roomversion.Lookup("10")
	const note = " (levels beyond the int64 range are shown saturated and compared exactly)"
	for _, tt := range []struct {
		v    roomversion.Version
		a, b int64
		want string
	}{
		{v9, 50, 100, ""},
		{v9, 100, 100, ""},
		{v9, math.MaxInt64, math.MaxInt64, note},
		{v9, math.MinInt64, math.MinInt64, note},
		{v10, math.MaxInt64, math.MaxInt64, ""},
	} {
		if got := exactNote(tt.v, tt.a, tt.b); got != tt.want {
			t.Errorf("v%s %d %d: %q, want %q", tt.v.ID, tt.a, tt.b, got, tt.want)
		}
	}
}

// TestMutationStrippedStateBound: CheckStrippedState reports the problems of the first
// MaxStrippedState (256) entries; past them it only looks for the create event, so 300
// entries that are not events give 256 problems and the missing create event.
func TestMutationStrippedStateBound(t *testing.T) {
	// membership/stripped.go:30 '256' -> '257'
	v, _ := roomversion.Lookup("10")
	entries := make([]json.RawMessage, 300)
	for i := range entries {
		entries[i] = json.RawMessage(`{"x":1}`)
	}
	valid, problems := CheckStrippedState(v, "!r:a.example", entries, nil)
	if len(valid) != 0 || len(problems) != MaxStrippedState+1 {
		t.Fatalf("%d valid, %d problems; want 0 and %d", len(valid), len(problems), MaxStrippedState+1)
	}
	for i, p := range problems {
		if !errors.Is(p, ErrBadEvent) {
			t.Errorf("problem %d: %v, want ErrBadEvent", i, p)
		}
	}
	if !strings.Contains(problems[255].Error(), "stripped state entry 255 ") || !strings.Contains(problems[256].Error(), "stripped state has no valid m.room.create event") {
		t.Errorf("last problems: %v; %v", problems[255], problems[256])
	}
}

// TestMutationStateEventsLimit: a join request's state may hold MaxStateEvents (100,000)
// entries; one more is refused for its size, before any entry is read.
func TestMutationStateEventsLimit(t *testing.T) {
	// membership/input.go:19 '100000' -> '100001'; membership/input.go:182 '>' -> '>=' (round
	// five: 100,000 entries were refused for their size, "state holds 100000 events", which
	// the test did not see as it looked for "100001")
	for _, tt := range []struct {
		n       int
		limited bool
	}{{MaxStateEvents, false}, {MaxStateEvents + 1, true}} {
		state := "[" + strings.Repeat("0,", tt.n-1) + "0]"
		_, err := ParseJoinRequest([]byte(`{"resident_server":"a.example","room_version":"10","state":` + state + `,"user_id":"@u:b.example"}`))
		limited := err != nil && strings.Contains(err.Error(), "state holds ")
		if limited && err.Error() != "membership: 400 M_BAD_JSON: state holds 100001 events, limit 100000" {
			t.Errorf("%d entries: %v", tt.n, err)
		}
		if err == nil || limited != tt.limited {
			t.Errorf("%d entries: %v; want the size limit: %v", tt.n, err, tt.limited)
		}
	}
}

// TestMutationRoundTwo (round two, /work/logs/audit-mutation2.md): survivors of the second
// sample.
func TestMutationRoundTwo(t *testing.T) {
	// membership/decide.go:84 'newError(400, ErrCodeInvalidParam, ErrBadInput, err, "%v", err)' -> 'nil'
	err := CheckMakeRequest(roomversion.Version{ID: "99"}, "@u:b.example", "b.example", nil)
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || e.ErrCode != ErrCodeInvalidParam || !errors.Is(err, ErrBadInput) || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("CheckMakeRequest of room version 99: %v, want 400 M_INVALID_PARAM, ErrBadInput", err)
	}

	// membership/input.go:21 '10000' -> '10001' (MaxKnownRooms)
	b, _, _ := inviteSetup(t, "10")
	var state []string
	for _, ev := range b.current() {
		state = append(state, string(ev.Raw()))
	}
	for _, n := range []int{MaxKnownRooms, MaxKnownRooms + 1} {
		var rooms strings.Builder
		for i := range n {
			if i > 0 {
				rooms.WriteByte(',')
			}
			fmt.Fprintf(&rooms, `"!r%d:a.example":{}`, i)
		}
		_, err := ParseJoinRequest([]byte(`{"resident_server":"a.example","room_version":"10","rooms":{` + rooms.String() + `},"state":[` + strings.Join(state, ",") + `],"user_id":"@u:b.example"}`))
		limited := err != nil && strings.Contains(err.Error(), "rooms holds more than 10000 rooms")
		if limited != (n > MaxKnownRooms) {
			t.Errorf("%d rooms: %v; want the limit: %v", n, err, n > MaxKnownRooms)
		}
	}

	// membership/transitions.go:173 '||' -> '&&' (a member event without a state key, made
	// by hand, was read through its nil StateKey)
	if tr, ok := ClassifyMemberEvent(b.v, pdu.MembershipLeave, &pdu.Event{Type: pdu.TypeMember, Sender: "@u:b.example", Membership: pdu.MembershipJoin}, "public"); ok {
		t.Errorf("member event without state key: %+v, want not ok", tr)
	}

	// membership/transitions.go:258 '==' -> '!=' (the user and another user swapped in the text)
	s := b.stateOf()
	for _, tt := range []struct{ sender, to, want string }{
		{joiner, pdu.MembershipJoin, `membership: 403 M_FORBIDDEN: no membership change from leave to join by the user under join rule "invite" in room version 10 (auth rule 4.3)`},
		{"@alice:a.example", pdu.MembershipKnock, `membership: 403 M_FORBIDDEN: no membership change from leave to knock by another user under join rule "invite" in room version 10 (auth rule 4.7)`},
	} {
		if _, err := CheckTransition(s, tt.sender, joiner, tt.to); err == nil || err.Error() != tt.want || !errors.Is(err, ErrNotPossible) {
			t.Errorf("%s to %s by %s: %v, want %s", joiner, tt.to, tt.sender, err, tt.want)
		}
	}
}

// TestMutationStrippedCreatePastBound: past MaxStrippedState entries only the create event is
// looked for; a valid one found there completes the stripped state, and the problems of
// invalid ones are reported when none is valid.
func TestMutationStrippedCreatePastBound(t *testing.T) {
	b, inv, irs := inviteSetup(t, "10")
	ev, err := signing.ParseEvent(b.v, inv)
	if err != nil {
		t.Fatal(err)
	}
	var create json.RawMessage
	for _, raw := range irs {
		if e, _ := signing.ParseEvent(b.v, raw); e != nil && e.Is(pdu.TypeCreate, "") {
			create = raw
		}
	}
	entries := make([]json.RawMessage, MaxStrippedState, MaxStrippedState+1)
	for i := range entries {
		entries[i] = json.RawMessage(`{"x":1}`)
	}
	entries = append(entries, create)
	// membership/stripped.go:117 'true' -> 'false' (the valid create past the bound was
	// taken as missing)
	valid, problems := CheckStrippedState(b.v, ev.RoomID, entries, keyRing(t, resident))
	if len(valid) != 1 || len(problems) != MaxStrippedState {
		t.Errorf("valid create past the bound: %d valid, %d problems; want 1, %d", len(valid), len(problems), MaxStrippedState)
	}
	// membership/stripped.go:131 'problems = append(problems, pastProblems...)' -> '' (the
	// create past the bound whose key is unknown was not reported)
	valid, problems = CheckStrippedState(b.v, ev.RoomID, entries, keyRing(t, joinSrv))
	if len(valid) != 0 || len(problems) != MaxStrippedState+2 || !errors.Is(problems[MaxStrippedState], signing.ErrUnknownKey) ||
		!strings.Contains(problems[MaxStrippedState+1].Error(), "stripped state has no valid m.room.create event") {
		t.Errorf("unverifiable create past the bound: %d valid, %d problems; want 0, %d (the create's unknown key, then no create)", len(valid), len(problems), MaxStrippedState+2)
	}
}

// TestMutationSendJoinAuthEvents (round three, /work/logs/audit-mutation3.md): a send_join
// whose event passes against the current state but not against the AuthEvents given (one of
// the auth events the event names is left out) is refused with 403 M_FORBIDDEN, ErrAuthRules.
func TestMutationSendJoinAuthEvents(t *testing.T) {
	// membership/handshake.go:208 'authError(err, "against its auth events")' -> 'nil'
	v, _ := roomversion.Lookup("9")
	b := restrictedRoom(t, v, "restricted", nil)
	rooms := KnownRooms{spaceID: {joiner: "join"}}
	_, _, signed := joinOnce(t, b, rooms)
	ev, err := signing.ParseEvent(v, signed)
	if err != nil {
		t.Fatal(err)
	}
	s := b.stateOf()
	var authEvents []*pdu.Event
	for _, id := range ev.AuthEvents {
		for _, se := range s.Events() {
			if se.EventID == id {
				authEvents = append(authEvents, se)
			}
		}
	}
	if len(authEvents) != len(ev.AuthEvents) || len(authEvents) < 2 {
		t.Fatalf("auth events %v not all in the state", ev.AuthEvents)
	}
	req := SendJoinRequest{State: s, ResidentServer: resident, Rooms: rooms, RoomID: ev.RoomID, EventID: ev.EventID,
		Origin: joinSrv, Event: signed, Key: serverKey(t, resident), Keys: keyRing(t, joinSrv), AuthEvents: authEvents}
	if _, err := SendJoin(req); err != nil {
		t.Fatalf("SendJoin with every auth event: %v", err)
	}
	req.AuthEvents = authEvents[1:]
	_, err = SendJoin(req)
	var e *Error
	var rej *authrules.Rejection
	if !errors.As(err, &e) || e.Status != 403 || e.ErrCode != ErrCodeForbidden || !errors.Is(err, ErrAuthRules) ||
		!errors.As(err, &rej) || !errors.Is(err, authrules.ErrAuthEventMissing) ||
		!strings.Contains(err.Error(), "the event fails the authorization rules against its auth events: rule "+rej.Rule+": ") {
		t.Errorf("SendJoin without the auth event %s: %v; want 403 M_FORBIDDEN, ErrAuthRules, ErrAuthEventMissing against its auth events", authEvents[0].EventID, err)
	}
}

// TestMutationSendJoinSenderNotUser (round four, /work/logs/audit-mutation4.md): a send_join
// event whose sender (and state_key) is no user ID is a bad event, 400 M_INVALID_PARAM.
func TestMutationSendJoinSenderNotUser(t *testing.T) {
	// membership/handshake.go:137 'invalidParam(ErrBadEvent, nil, "sender %q is not a user I...' -> 'nil'
	v, _ := roomversion.Lookup("9")
	b := restrictedRoom(t, v, "restricted", nil)
	for _, sender := range []string{"@bob", "bob:c.example"} {
		raw := fmt.Sprintf(`{"auth_events":[],"content":{"membership":"join"},"depth":5,"hashes":{"sha256":"x"},`+
			`"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":%q,"signatures":{},"state_key":%q,"type":"m.room.member"}`, sender, sender)
		_, err := SendJoin(SendJoinRequest{State: b.stateOf(), ResidentServer: resident, Event: []byte(raw),
			Key: serverKey(t, resident), Keys: keyRing(t, joinSrv)})
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || e.ErrCode != ErrCodeInvalidParam || !errors.Is(err, ErrBadEvent) ||
			!strings.Contains(err.Error(), fmt.Sprintf("sender %q is not a user ID", sender)) {
			t.Errorf("sender %q: %v; want 400 M_INVALID_PARAM, ErrBadEvent, not a user ID", sender, err)
		}
	}
}

// TestMutationKnownMembersLimit (round four): a join request's `rooms` with more than
// MaxKnownMembers memberships is refused. (The memberships are one user's, repeated: rooms is
// read leniently, a repeated user ID counts each time, and the test stays quick.)
func TestMutationKnownMembersLimit(t *testing.T) {
	// membership/input.go:224 'badInput(nil, "rooms holds more than %d memberships", Max...' -> 'nil'
	b, _, _ := inviteSetup(t, "10")
	var state []string
	for _, ev := range b.current() {
		state = append(state, string(ev.Raw()))
	}
	rooms := `{"!r:a.example":{` + strings.TrimSuffix(strings.Repeat(`"@u:b.example":"join",`, MaxKnownMembers+1), ",") + `}}`
	_, err := ParseJoinRequest([]byte(`{"resident_server":"a.example","room_version":"10","rooms":` + rooms + `,"state":[` + strings.Join(state, ",") + `],"user_id":"@u:b.example"}`))
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || !errors.Is(err, ErrBadInput) || err.Error() != "membership: 400 M_BAD_JSON: rooms holds more than 1000000 memberships" {
		t.Errorf("%d memberships: %v; want 400 M_BAD_JSON, rooms holds more than 1000000 memberships", MaxKnownMembers+1, err)
	}
}

// TestMutationRoundFourHandshakes (round four): an invite whose sender is no user ID, and a
// knock that DecideKnock allows but whose auth events, as given, lack one.
func TestMutationRoundFourHandshakes(t *testing.T) {
	// membership/invite.go:99 'invalidParam(ErrBadEvent, nil, "sender %q is not a user I...' -> 'nil'
	v := mustVersion(t, "10")
	for _, sender := range []string{"@bob", "bob:a.example"} {
		raw := fmt.Sprintf(`{"auth_events":[],"content":{"membership":"invite"},"depth":5,"hashes":{"sha256":"x"},`+
			`"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":%q,"signatures":{},"state_key":%q,"type":"m.room.member"}`, sender, joiner)
		_, err := SignInvite(InviteRequest{RoomVersion: v, Event: []byte(raw), LocalServer: joinSrv, Key: serverKey(t, joinSrv), Keys: keyRing(t, resident)})
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || e.ErrCode != ErrCodeInvalidParam || !errors.Is(err, ErrBadEvent) ||
			!strings.Contains(err.Error(), fmt.Sprintf("sender %q is not a user ID", sender)) {
			t.Errorf("invite by %q: %v; want 400 M_INVALID_PARAM, ErrBadEvent, not a user ID", sender, err)
		}
	}

	// membership/knock.go:113 'err' -> 'nil' (send_knock: the knock must pass the rules
	// against the auth events given)
	b, s, signed := knockSetup(t)
	ev, err := signing.ParseEvent(b.v, signed)
	if err != nil {
		t.Fatal(err)
	}
	var authEvents []*pdu.Event
	for _, id := range ev.AuthEvents {
		for _, se := range s.Events() {
			if se.EventID == id {
				authEvents = append(authEvents, se)
			}
		}
	}
	if len(authEvents) != len(ev.AuthEvents) || len(authEvents) < 2 {
		t.Fatalf("auth events %v not all in the state", ev.AuthEvents)
	}
	req := SendKnockRequest{State: s, Event: signed, Origin: joinSrv, Keys: keyRing(t, joinSrv), AuthEvents: authEvents}
	if _, err := SendKnock(req); err != nil {
		t.Fatalf("SendKnock with every auth event: %v", err)
	}
	req.AuthEvents = authEvents[1:]
	_, err = SendKnock(req)
	var e *Error
	if !errors.As(err, &e) || e.Status != 403 || e.ErrCode != ErrCodeForbidden || !errors.Is(err, ErrAuthRules) || !errors.Is(err, authrules.ErrAuthEventMissing) {
		t.Errorf("SendKnock without the auth event %s: %v; want 403 M_FORBIDDEN, ErrAuthRules, ErrAuthEventMissing", authEvents[0].EventID, err)
	}
}

// TestMutationTemplates (round four): SignTemplate replaces the template's origin_server_ts,
// and a template is not built from a state without an m.room.create.
func TestMutationTemplates(t *testing.T) {
	// membership/template.go:259 'set("origin_server_ts", ts)' -> '' (the template carries the
	// resident's time, 1700000100000; the signed event has the joining server's)
	b := knockRoom(t, "10", "knock", nil)
	tmpl, err := MakeKnock(b.stateOf(), joiner, templateOpts(b))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignTemplate(b.v, tmpl.Event, joinSrv, 1700000200000, "", joinSrv, serverKey(t, joinSrv))
	if err != nil {
		t.Fatal(err)
	}
	if ev, err := signing.ParseEvent(b.v, signed); err != nil || ev.OriginServerTS != 1700000200000 || ev.Origin != joinSrv {
		t.Errorf("signed template: %v, origin_server_ts %d, origin %q; want 1700000200000, %s", err, ev.OriginServerTS, ev.Origin, joinSrv)
	}

	// membership/template.go:151 'invalidParam(ErrBadInput, nil, "the room state has no m.r...' -> 'nil'
	v := mustVersion(t, "10")
	rules, err := signing.ParseEvent(v, []byte(`{"auth_events":[],"content":{"join_rule":"knock"},"depth":2,"hashes":{"sha256":"x"},`+
		`"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@alice:a.example","signatures":{},"state_key":"","type":"m.room.join_rules"}`))
	if err != nil {
		t.Fatal(err)
	}
	noCreate, err := authrules.NewState(v, []*pdu.Event{rules})
	if err != nil {
		t.Fatal(err)
	}
	_, err = MakeKnock(noCreate, joiner, TemplateOptions{Origin: resident, OriginServerTS: 1, PrevEvents: []string{rules.EventID}, Depth: 3})
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 || !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "the room state has no m.room.create event") {
		t.Errorf("MakeKnock in a state without create: %v; want 400, ErrBadInput, no m.room.create", err)
	}
}

// TestMutationRoundFive (round five, /work/logs/audit-mutation5.md): an invite whose state_key
// is a user of another server, or no user ID, is refused for that reason (the request names no
// event ID, which would refuse the edited event first); SignTemplate drops the signatures a
// template carried; the ban of a user who is not in the room needs the sender to outrank them;
// EvaluateConditions lists an unverifiable room once; SignInvite with a key that cannot sign
// and StripEvent of a content that cannot be encoded are errors.
func TestMutationRoundFive(t *testing.T) {
	// membership/invite.go:105 '||' -> '&&'
	b, inv, irs := inviteSetup(t, "12")
	v := b.v
	for _, tt := range []struct{ target, want string }{
		{"@zed:y.example", fmt.Sprintf("state_key %q is not a user of %s", "@zed:y.example", joinSrv)},
		{"zed:" + joinSrv, fmt.Sprintf("state_key %q is not a user of %s", "zed:"+joinSrv, joinSrv)},
		{joiner, ""},
	} {
		event := mutate(t, v, inv, resident, func(m map[string]any) { m["state_key"] = tt.target })
		_, err := SignInvite(InviteRequest{RoomVersion: v, Origin: resident, Event: event, InviteRoomState: irs,
			LocalServer: joinSrv, Key: serverKey(t, joinSrv), Keys: keyRing(t, resident)})
		var e *Error
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("invite of %s: %v, want it signed", tt.target, err)
		case tt.want != "" && (!errors.As(err, &e) || e.Status != 400 || e.ErrCode != ErrCodeInvalidParam || !errors.Is(err, ErrBadEvent) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("invite of %s: %v; want 400 M_INVALID_PARAM, ErrBadEvent, %s", tt.target, err, tt.want)
		}
	}

	// membership/template.go:264 'delete(fields, "signatures")' -> '' (the resident's
	// signature of the template was kept beside the knocking server's)
	kb := knockRoom(t, "10", "knock", nil)
	tmpl, err := MakeKnock(kb.stateOf(), joiner, templateOpts(kb))
	if err != nil {
		t.Fatal(err)
	}
	withSigs := strings.Replace(string(tmpl.Event), `"sender":`, `"signatures":{"a.example":{"ed25519:9":"abc"}},"sender":`, 1)
	if withSigs == string(tmpl.Event) {
		t.Fatal("no signatures added")
	}
	for _, template := range []string{string(tmpl.Event), withSigs} {
		signed, err := SignTemplate(kb.v, []byte(template), joinSrv, 1700000200000, "", joinSrv, serverKey(t, joinSrv))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := signing.ParseEvent(kb.v, signed)
		if err != nil {
			t.Fatal(err)
		}
		if servers := slices.Collect(ev.Signatures.Servers()); len(servers) != 1 || servers[0] != joinSrv {
			t.Errorf("SignTemplate of %s: signatures of %v, want only %s's", template, servers, joinSrv)
		}
	}

	// membership/transitions.go:84 'true' -> 'false' (OutranksTarget of "ban a user who is not
	// in the room": a moderator may not ban an absent admin, auth rule 4.6 of v10)
	v10 := mustVersion(t, "10")
	rb := buildRoom(t, v10, roomSpec{Creator: "@alice:a.example",
		PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":100,"@mod:a.example":50,"@boss:b.example":100,"@peer:b.example":50},"ban":50}`),
		Members:     map[string]string{"@mod:a.example": "join"}})
	for _, tt := range []struct{ target, want string }{
		{"@boss:b.example", "membership: 403 M_FORBIDDEN: @mod:a.example (power level 50) does not outrank @boss:b.example (power level 100) (auth rule 4.6)"},
		{"@peer:b.example", "membership: 403 M_FORBIDDEN: @mod:a.example (power level 50) does not outrank @peer:b.example (power level 50) (auth rule 4.6)"},
		{"@nobody:b.example", ""},
	} {
		tr, err := CheckTransition(rb.stateOf(), "@mod:a.example", tt.target, pdu.MembershipBan)
		var e *Error
		switch {
		case tr.Meaning != "ban a user who is not in the room" || !tr.OutranksTarget:
			t.Errorf("ban of %s: transition %+v", tt.target, tr)
		case tt.want == "" && err != nil:
			t.Errorf("ban of %s: %v, want it allowed", tt.target, err)
		case tt.want != "" && (!errors.As(err, &e) || e.Status != 403 || e.ErrCode != ErrCodeForbidden || err.Error() != tt.want):
			t.Errorf("ban of %s: %v, want %s", tt.target, err, tt.want)
		}
	}

	// membership/allow.go:232 'true' -> 'false' (a room of several conditions is listed once
	// among the unverifiable ones)
	conds := []AllowCondition{{ConditionRoomMembership, "!a:x.example"}, {ConditionRoomMembership, "!b:x.example"}, {ConditionRoomMembership, "!a:x.example"}, {ConditionRoomMembership, "!b:x.example"}}
	res := EvaluateConditions(conds, joiner, KnownRooms{}, false)
	if res.Met || !slices.Equal(res.Unverifiable, []string{"!a:x.example", "!b:x.example"}) {
		t.Errorf("EvaluateConditions with unknown rooms: %+v, want unverifiable [!a:x.example !b:x.example]", res)
	}

	// membership/invite.go:124 'err' -> 'nil' (SignInvite with a key that cannot sign gave
	// no event and no error)
	for _, tt := range []struct {
		key  signing.SigningKey
		want string
	}{
		{signing.SigningKey{}, `membership: 500 M_UNKNOWN: signing the event: signing: invalid key "ed25519:": no ed25519 private key`},
		{signing.SigningKey{Version: "1"}, `membership: 500 M_UNKNOWN: signing the event: signing: invalid key "ed25519:1": no ed25519 private key`},
	} {
		res, err := SignInvite(InviteRequest{RoomVersion: v, Origin: resident, Event: inv, InviteRoomState: irs,
			LocalServer: joinSrv, Key: tt.key, Keys: keyRing(t, resident)})
		var e *Error
		if res.Event != nil || !errors.As(err, &e) || e.Status != 500 || e.ErrCode != ErrCodeUnknown || !errors.Is(err, ErrBadInput) || err.Error() != tt.want {
			t.Errorf("SignInvite with key %q: %s, %v; want %s", tt.key.Version, res.Event, err, tt.want)
		}
	}

	// membership/stripped.go:81 'invalidParam(ErrBadInput, err, "stripping %s: %v", ...)' ->
	// 'nil' and membership/template.go:140 'err' -> 'nil' (StripEvent of a hand-made event
	// whose content cannot be encoded gave no bytes and no error)
	stateKey := ""
	for _, tt := range []struct{ content, want string }{
		{`{bad}`, "membership: 400 M_INVALID_PARAM: stripping m.room.name: json: error calling MarshalJSON for type json.RawMessage: invalid character 'b' looking for beginning of object key string"},
		{`{"a":1.5}`, "membership: 400 M_INVALID_PARAM: stripping m.room.name: canonicaljson: number 1.5 has a fraction or exponent (canonical JSON allows integers only) at offset 16"},
		{`{"a":"\ud800"}`, `membership: 400 M_INVALID_PARAM: stripping m.room.name: canonicaljson: unpaired surrogate escape \ud800 in string literal at offset 17`},
	} {
		ev := &pdu.Event{Version: v10, Type: pdu.TypeName, StateKey: &stateKey, Sender: "@a:a.example", Content: []byte(tt.content)}
		out, err := StripEvent(ev)
		var e *Error
		if out != nil || !errors.As(err, &e) || e.Status != 400 || !errors.Is(err, ErrBadInput) || err.Error() != tt.want {
			t.Errorf("StripEvent of content %s: %q, %v; want %s", tt.content, out, err, tt.want)
		}
	}
}

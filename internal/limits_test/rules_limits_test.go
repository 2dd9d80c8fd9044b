package limitstest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// The limits of packages authrules and membership (SECURITY.md "Limits").

// room is a small room of version v: create, Alice's join, power levels, restricted join rules.
type room struct {
	v                             roomversion.Version
	create, join, pl, joinRules   *pdu.Event
	createRaw, joinRaw, plRaw, jr []byte
}

func newRoom(tb testing.TB, id string) *room {
	tb.Helper()
	v := version(tb, id)
	r := &room{v: v}
	ev := func(kv ...any) fields {
		f := baseEvent(v).with(kv...)
		if v.Format.HasEventIDField {
			f["event_id"] = fmt.Sprintf("$%s:a.example", kv[1])
		}
		return f
	}
	createContent := fields{"creator": "@alice:a.example", "room_version": id}
	create := ev("type", "m.room.create", "state_key", "", "content", createContent, "depth", 1)
	if v.Format.RoomIDFromCreateEvent {
		create = create.with("room_id", nil)
	}
	r.createRaw = sign(tb, v, create.bytes(tb), "a.example")
	r.create = mustParse(tb, v, r.createRaw)
	roomID := "!room:a.example"
	if v.Format.RoomIDFromCreateEvent {
		roomID = "!" + r.create.EventID[1:]
	}
	authOf := func(evs ...*pdu.Event) []any {
		var out []any
		for _, e := range evs {
			if v.Format.RoomIDFromCreateEvent && e.Type == pdu.TypeCreate {
				continue
			}
			if v.Format.ReferencePairs {
				out = append(out, []any{e.EventID, fields{"sha256": "aGFzaA"}})
			} else {
				out = append(out, e.EventID)
			}
		}
		if out == nil {
			out = []any{}
		}
		return out
	}
	// The creator's join follows the create event directly (prev_events), as the rules for
	// the creator's first join require, so that the room is a valid auth chain.
	prevCreate := []any{r.create.EventID}
	if v.Format.ReferencePairs {
		prevCreate = []any{[]any{r.create.EventID, fields{"sha256": "aGFzaA"}}}
	}
	r.joinRaw = sign(tb, v, ev("type", "m.room.member", "state_key", "@alice:a.example", "room_id", roomID,
		"content", fields{"membership": "join"}, "auth_events", authOf(r.create), "prev_events", prevCreate,
		"depth", 2).bytes(tb), "a.example")
	r.join = mustParse(tb, v, r.joinRaw)
	users := fields{"@alice:a.example": 100}
	if v.Auth.InfiniteCreatorPower {
		users = fields{} // v12: the creator's power is infinite and must not be listed (rule 10.4)
	}
	r.plRaw = sign(tb, v, ev("type", "m.room.power_levels", "state_key", "", "room_id", roomID,
		"content", fields{"users": users, "invite": 0},
		"auth_events", authOf(r.create, r.join), "depth", 3).bytes(tb), "a.example")
	r.pl = mustParse(tb, v, r.plRaw)
	rule := "invite"
	if v.Auth.RestrictedJoinRule {
		rule = "restricted"
	}
	r.jr = sign(tb, v, ev("type", "m.room.join_rules", "state_key", "", "room_id", roomID,
		"content", fields{"join_rule": rule, "allow": []any{fields{"type": "m.room_membership", "room_id": "!space:a.example"}}},
		"auth_events", authOf(r.create, r.join, r.pl), "depth", 4).bytes(tb), "a.example")
	r.joinRules = mustParse(tb, v, r.jr)
	return r
}

func (r *room) roomID() string {
	if r.v.Format.RoomIDFromCreateEvent {
		return "!" + r.create.EventID[1:]
	}
	return "!room:a.example"
}

func (r *room) ref(e *pdu.Event) any {
	if r.v.Format.ReferencePairs {
		return []any{e.EventID, fields{"sha256": "aGFzaA"}}
	}
	return e.EventID
}

// message returns Alice's message, listing the auth events the selection picks.
func (r *room) message(tb testing.TB) *pdu.Event {
	tb.Helper()
	auth := []any{r.ref(r.pl), r.ref(r.join)}
	if r.v.Auth.SelectCreateEvent {
		auth = append([]any{r.ref(r.create)}, auth...)
	}
	f := baseEvent(r.v).with("room_id", r.roomID(), "auth_events", auth, "depth", 6)
	return mustParse(tb, r.v, sign(tb, r.v, f.bytes(tb), "a.example"))
}

func (r *room) state(tb testing.TB, extra ...*pdu.Event) *authrules.State {
	tb.Helper()
	s, err := authrules.NewState(r.v, append([]*pdu.Event{r.create, r.join, r.pl, r.joinRules}, extra...))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestCheckSuppliedAuthEvents: authrules.Check takes at most 4×pdu.MaxAuthEvents (40) supplied
// events; more is a fatal rejection under the auth events rule (ErrMalformed).
func TestCheckSuppliedAuthEvents(t *testing.T) {
	const limit = 4 * pdu.MaxAuthEvents
	for _, id := range []string{"1", "6", "9", "12"} {
		r := newRoom(t, id)
		t.Run("v"+id, func(t *testing.T) {
			msg := r.message(t)
			supplied := []*pdu.Event{r.create, r.pl, r.join}
			for len(supplied) < limit {
				supplied = append(supplied, r.joinRules) // not listed: ignored, with a warning
			}
			if err := authrules.Check(r.v, msg, supplied, nil); err != nil {
				t.Fatalf("%d supplied auth events: %v", len(supplied), err)
			}
			err := authrules.Check(r.v, msg, append(supplied, r.joinRules), nil)
			var rej *authrules.Rejection
			if !errors.As(err, &rej) || !errors.Is(err, authrules.ErrMalformed) || rej.Severity != authrules.SeverityFatal || !authrules.Rejected(err) {
				t.Fatalf("%d supplied auth events: %v, want a fatal Rejection wrapping ErrMalformed", limit+1, err)
			}
			wantRule := "2"
			if r.v.Format.RoomIDFromCreateEvent {
				wantRule = "3"
			}
			if r.v.Auth.RuleSet != "" && rej.Rule != wantRule {
				t.Errorf("rule %q, want %q (the auth events rule)", rej.Rule, wantRule)
			}
		})
	}
}

// TestCheckListedAuthEvents: an event built by hand (not by pdu.Parse) listing more than
// pdu.MaxAuthEvents auth events is refused, not read past the limit.
func TestCheckListedAuthEvents(t *testing.T) {
	r := newRoom(t, "9")
	msg := r.message(t)
	for _, n := range []int{pdu.MaxAuthEvents, pdu.MaxAuthEvents + 1} {
		ev := *msg
		ev.AuthEvents = nil
		supplied := []*pdu.Event{}
		for i := 0; i < n; i++ {
			e := *r.joinRules
			e.EventID = fmt.Sprintf("$jr%d", i)
			ev.AuthEvents = append(ev.AuthEvents, e.EventID)
			supplied = append(supplied, &e)
		}
		err := authrules.Check(r.v, &ev, supplied, nil)
		var rej *authrules.Rejection
		if !errors.As(err, &rej) || !authrules.Rejected(err) {
			t.Fatalf("%d listed: %v, want a rejection", n, err)
		}
		if n > pdu.MaxAuthEvents && (!errors.Is(err, authrules.ErrMalformed) || rej.Severity != authrules.SeverityFatal) {
			t.Fatalf("%d listed: %v, want fatal ErrMalformed", n, err)
		}
		if n == pdu.MaxAuthEvents && errors.Is(err, authrules.ErrMalformed) {
			t.Fatalf("%d listed: %v, want the ordinary rule 2 verdict", n, err)
		}
	}
}

func TestValidUserIDLength(t *testing.T) {
	if !authrules.ValidUserID(idOfLen("@", 255)) {
		t.Error("255-byte user ID refused")
	}
	if authrules.ValidUserID(idOfLen("@", 256)) {
		t.Error("256-byte user ID accepted")
	}
}

// TestAllowConditionsUnbounded: membership reads every `allow` entry, as the spec asks ("must
// ensure that the joining server satisfies at least one of the conditions"): more than 1,024
// valid conditions are all kept, and a valid condition after 1,024 entries that are not
// conditions still counts (a bound on the entries read once made both a 403).
func TestAllowConditionsUnbounded(t *testing.T) {
	content := func(junk, valid int) []byte {
		var allow []any
		for i := 0; i < junk; i++ {
			allow = append(allow, 0)
		}
		for i := 0; i < valid; i++ {
			allow = append(allow, fields{"type": "m.room_membership", "room_id": fmt.Sprintf("!r%d:a.example", i)})
		}
		b, _ := json.Marshal(fields{"join_rule": "restricted", "allow": allow})
		return b
	}
	for _, c := range []struct{ junk, valid int }{{0, 1025}, {1024, 1}, {5000, 3}} {
		conds, err := membership.ParseAllowConditions(content(c.junk, c.valid))
		if err != nil {
			t.Fatal(err)
		}
		if len(conds) != c.valid {
			t.Fatalf("%d junk and %d valid entries: %d conditions", c.junk, c.valid, len(conds))
		}
		if last := conds[len(conds)-1].RoomID; last != fmt.Sprintf("!r%d:a.example", c.valid-1) {
			t.Fatalf("last condition %s", last)
		}
	}
}

func joinRequest(tb testing.TB, r *room, state, rooms string) []byte {
	tb.Helper()
	if state == "" {
		state = "[" + string(r.createRaw) + "," + string(r.joinRaw) + "," + string(r.plRaw) + "," + string(r.jr) + "]"
	}
	return []byte(fmt.Sprintf(`{"room_version":%q,"user_id":"@zed:z.example","resident_server":"a.example","state":%s,"rooms":%s}`,
		r.v.ID, state, rooms))
}

func wantBadInput(tb testing.TB, err error, mention string) {
	tb.Helper()
	var me *membership.Error
	if !errors.As(err, &me) || !errors.Is(err, membership.ErrBadInput) || me.Status != 400 {
		tb.Fatalf("got %v, want a 400 *membership.Error with ErrBadInput", err)
	}
	if !strings.Contains(me.Message, mention) {
		tb.Fatalf("message %q does not mention %q", me.Message, mention)
	}
}

func TestJoinRequestLimits(t *testing.T) {
	r := newRoom(t, "9")
	t.Run("MaxStateEvents", func(t *testing.T) {
		many := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("{},", n), ",") + "]" }
		_, err := membership.ParseJoinRequest(joinRequest(t, r, many(membership.MaxStateEvents), "{}"))
		wantBadInput(t, err, "state[0]") // counted, then parsed: the first entry is not an event
		_, err = membership.ParseJoinRequest(joinRequest(t, r, many(membership.MaxStateEvents+1), "{}"))
		wantBadInput(t, err, fmt.Sprintf("limit %d", membership.MaxStateEvents))
	})
	t.Run("MaxKnownRooms", func(t *testing.T) {
		rooms := func(n int) string {
			var b strings.Builder
			b.WriteByte('{')
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"!r%d:x":{}`, i)
			}
			return b.String() + "}"
		}
		req, err := membership.ParseJoinRequest(joinRequest(t, r, "", rooms(membership.MaxKnownRooms)))
		if err != nil || len(req.Rooms.(membership.KnownRooms)) != membership.MaxKnownRooms {
			t.Fatalf("%d rooms: %v", membership.MaxKnownRooms, err)
		}
		_, err = membership.ParseJoinRequest(joinRequest(t, r, "", rooms(membership.MaxKnownRooms+1)))
		wantBadInput(t, err, fmt.Sprintf("more than %d rooms", membership.MaxKnownRooms))
	})
	t.Run("MaxKnownMembers", func(t *testing.T) {
		if testing.Short() || raceEnabled {
			t.Skip("builds a 20 MB request; skipped with -short and -race")
		}
		members := func(n int) string {
			var b strings.Builder
			b.Grow(n * 24)
			b.WriteString(`{"!a:x":{`)
			for i := 0; i < n; i++ {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"@u%d:x":"join"`, i)
			}
			return b.String() + "}}"
		}
		if _, err := membership.ParseJoinRequest(joinRequest(t, r, "", members(membership.MaxKnownMembers))); err != nil {
			t.Fatalf("%d memberships: %v", membership.MaxKnownMembers, err)
		}
		_, err := membership.ParseJoinRequest(joinRequest(t, r, "", members(membership.MaxKnownMembers+1)))
		wantBadInput(t, err, fmt.Sprintf("more than %d memberships", membership.MaxKnownMembers))
	})
}

// TestMaxStrippedState: CheckStrippedState reads MaxStrippedState entries and ignores the rest
// without a problem, except a create event past them (the spec sets no bound: neither the number
// nor the order of the entries is a reason to refuse an invite).
func TestMaxStrippedState(t *testing.T) {
	r := newRoom(t, "9")
	for _, n := range []int{membership.MaxStrippedState, membership.MaxStrippedState + 1, membership.MaxStrippedState + 50} {
		entries := []json.RawMessage{r.createRaw}
		for len(entries) < n {
			entries = append(entries, r.jr)
		}
		valid, problems := membership.CheckStrippedState(r.v, r.roomID(), entries, ring("a.example"))
		if len(valid) != membership.MaxStrippedState || len(problems) != 0 {
			t.Fatalf("%d entries: %d valid, problems %v", n, len(valid), problems)
		}
	}
	// An entry past the bound is not read: a bad one is no problem, a create there is not found.
	entries := []json.RawMessage{r.createRaw}
	for len(entries) < membership.MaxStrippedState {
		entries = append(entries, r.jr)
	}
	entries = append(entries, json.RawMessage(`{"not":"an event"}`))
	if _, problems := membership.CheckStrippedState(r.v, r.roomID(), entries, ring("a.example")); len(problems) != 0 {
		t.Fatalf("entry past the bound reported: %v", problems)
	}
	// The create event past the bound is still found (the order of the entries is no reason
	// to refuse), and nothing else past the bound is returned.
	entries = append([]json.RawMessage{}, entries[1:membership.MaxStrippedState]...)
	entries = append(entries, r.jr, json.RawMessage(`{"not":"an event"}`), r.createRaw, r.jr)
	valid, problems := membership.CheckStrippedState(r.v, r.roomID(), entries, ring("a.example"))
	if len(problems) != 0 || len(valid) != membership.MaxStrippedState+1 || !valid[len(valid)-1].Is(pdu.TypeCreate, "") {
		t.Fatalf("create past the bound: %d valid, problems %v", len(valid), problems)
	}
	// An invalid create past the bound does not hide a valid one after it.
	badCreate := json.RawMessage(bytes.Replace(r.createRaw, []byte(`"@alice:a.example"`), []byte(`"@mallory:a.example"`), 1))
	withBad := append(append([]json.RawMessage{}, entries[:membership.MaxStrippedState]...), badCreate, r.createRaw)
	if _, problems := membership.CheckStrippedState(r.v, r.roomID(), withBad, ring("a.example")); len(problems) != 0 {
		t.Fatalf("invalid then valid create past the bound: problems %v", problems)
	}
	// However many create events lie past the bound, at most MaxStrippedState of them are
	// checked: the signature work stays bounded.
	hostile := append([]json.RawMessage{}, entries[:membership.MaxStrippedState]...)
	for range 5000 {
		hostile = append(hostile, badCreate)
	}
	lookups := &counting{KeyLookup: ring("a.example")}
	_, problems = membership.CheckStrippedState(r.v, r.roomID(), hostile, lookups)
	if lookups.n > 2*membership.MaxStrippedState || len(problems) != membership.MaxStrippedState+1 {
		t.Fatalf("5,000 bad creates past the bound: %d key lookups, %d problems", lookups.n, len(problems))
	}
	// Without a create event anywhere, that is the one problem.
	entries = entries[:membership.MaxStrippedState+1]
	if _, problems := membership.CheckStrippedState(r.v, r.roomID(), entries, ring("a.example")); len(problems) != 1 || !strings.Contains(problems[0].Error(), "no valid m.room.create") {
		t.Fatalf("no create: problems %v", problems)
	}
}

// TestChainLimit: authrules.CheckAuthChain refuses more than MaxChainEvents events up front
// (ErrChainInput). Only the far side of the edge is tested: ten million events do not fit a
// unit test.
func TestChainLimit(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("allocates an 80 MB slice; skipped with -short and -race")
	}
	_, err := authrules.CheckAuthChain(version(t, "9"), make([]*pdu.Event, authrules.MaxChainEvents+1), nil)
	if !errors.Is(err, authrules.ErrChainInput) {
		t.Fatalf("%d events: %v, want ErrChainInput", authrules.MaxChainEvents+1, err)
	}
}

// TestThirdPartyInviteWorkIsBounded: rule 4.4.1.7 ("If any signature in signed matches any
// public key in the m.room.third_party_invite event, allow") must not try every signature
// against every key when there are too many: both lists are attacker-chosen and bounded only by
// the 64 KiB event size, about 1,000 keys and 600 signatures, which is 600,000 ed25519
// verifications (about half a minute of CPU) for one invite. The test builds 200 keys and 100
// signatures (20,000 combinations, above MaxThirdPartyInviteChecks, none matching) and expects
// the rejection of the bound.
func TestThirdPartyInviteWorkIsBounded(t *testing.T) {
	const nKeys, nSigs = 200, 100
	r := newRoom(t, "9")
	var keys []any
	for i := 0; i < nKeys; i++ {
		pub, _, _ := ed25519.GenerateKey(nil)
		keys = append(keys, fields{"public_key": base64.RawStdEncoding.EncodeToString(pub)})
	}
	tpi := mustParse(t, r.v, baseEvent(r.v).with("type", "m.room.third_party_invite", "state_key", "tok",
		"content", fields{"display_name": "z", "key_validity_url": "https://id.example", "public_key": "", "public_keys": keys}).bytes(t))
	_, priv, _ := ed25519.GenerateKey(nil)
	sigs := fields{}
	for i := 0; i < nSigs; i++ {
		sigs[fmt.Sprintf("ed25519:%d", i)] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(priv, []byte{byte(i)}))
	}
	invite := mustParse(t, r.v, baseEvent(r.v).with("type", "m.room.member", "state_key", "@zed:z.example",
		"content", fields{"membership": "invite", "third_party_invite": fields{"display_name": "z",
			"signed": fields{"mxid": "@zed:z.example", "token": "tok", "signatures": fields{"id.example": sigs}}}}).bytes(t))
	state := r.state(t, tpi)

	// Refused by the bound, before any signature is checked: the rejection says so. (How long
	// the bounded checks take is measured by authrules' BenchmarkThirdPartyInviteScale, not
	// here: timing belongs in benchmarks.)
	err := state.Check(invite, nil)
	if !errors.Is(err, authrules.ErrThirdPartyInvite) {
		t.Fatalf("Check: %v, want ErrThirdPartyInvite", err)
	}
	if want := fmt.Sprintf("%d public keys × %d signatures exceed the limit of %d signature checks", nKeys, nSigs, authrules.MaxThirdPartyInviteChecks); !strings.Contains(err.Error(), want) {
		t.Fatalf("Check: %v, want the rejection of the bound (%q): the work of rule 4.4.1.7 grows with keys × signatures", err, want)
	}
}

// thirdPartyInvite returns a state holding an m.room.third_party_invite with nKeys public keys
// and an invite whose `signed` carries nSigs ed25519 signatures; the last key and the last
// signature match, so the invite is allowed by rule 4.4.1.7 when the work is within the limit.
// With matchFirst the first key and the first signature match instead, so that a check within
// the limit is quick.
func thirdPartyInvite(t *testing.T, r *room, nKeys, nSigs int, matchFirst bool) (*authrules.State, *pdu.Event) {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	var keys []any
	for i := 0; i < nKeys-1; i++ {
		other, _, _ := ed25519.GenerateKey(nil)
		keys = append(keys, fields{"public_key": base64.RawStdEncoding.EncodeToString(other)})
	}
	match := fields{"public_key": base64.RawStdEncoding.EncodeToString(pub)}
	if matchFirst {
		keys = append([]any{match}, keys...)
	} else {
		keys = append(keys, match)
	}
	tpi := mustParse(t, r.v, baseEvent(r.v).with("room_id", r.roomID(), "type", "m.room.third_party_invite", "state_key", "tok",
		"content", fields{"display_name": "z", "key_validity_url": "https://id.example", "public_key": "", "public_keys": keys}).bytes(t))
	signed := fields{"mxid": "@zed:z.example", "token": "tok"}
	msg, _ := json.Marshal(signed)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	sigs := fields{}
	for i := 0; i < nSigs-1; i++ {
		sigs[fmt.Sprintf("ed25519:a%d", i)] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(otherPriv, msg))
	}
	matchID := "ed25519:z" // after every ed25519:a<i> in the order signatures are tried
	if matchFirst {
		matchID = "ed25519:0"
	}
	sigs[matchID] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(priv, msg))
	sigs["other:1"] = "not an ed25519 signature, not counted"
	signed["signatures"] = fields{"id.example": sigs}
	invite := mustParse(t, r.v, baseEvent(r.v).with("room_id", r.roomID(), "type", "m.room.member", "state_key", "@zed:z.example",
		"content", fields{"membership": "invite", "third_party_invite": fields{"display_name": "z", "signed": signed}}).bytes(t))
	return r.state(t, tpi), invite
}

// TestMaxThirdPartyInviteChecks: rule 4.4.1.7 does at most MaxThirdPartyInviteChecks (8,192)
// signature checks (public keys × ed25519 signatures); an invite needing more is rejected
// (ErrThirdPartyInvite) even when a signature would match. Cases within the limit put the match
// first, except small ones, which put it last so that every pair is tried.
func TestMaxThirdPartyInviteChecks(t *testing.T) {
	if authrules.MaxThirdPartyInviteChecks != 8192 {
		t.Fatalf("MaxThirdPartyInviteChecks = %d; SECURITY.md says 8,192", authrules.MaxThirdPartyInviteChecks)
	}
	for _, id := range []string{"1", "9", "12"} {
		r := newRoom(t, id)
		for _, c := range []struct{ keys, sigs int }{
			{1000, 1}, {1, 500}, {1000, 8}, {1024, 8}, {1025, 8}, {16, 512}, {16, 513}, {64, 128}, {64, 129}, {91, 90}, {20, 20},
		} {
			state, invite := thirdPartyInvite(t, r, c.keys, c.sigs, c.keys*c.sigs > 400)
			err := state.Check(invite, nil)
			if c.keys*c.sigs <= authrules.MaxThirdPartyInviteChecks {
				if err != nil {
					t.Errorf("v%s %d keys × %d signatures: %v, want allowed", id, c.keys, c.sigs, err)
				}
				continue
			}
			var rej *authrules.Rejection
			if !errors.As(err, &rej) || !errors.Is(err, authrules.ErrThirdPartyInvite) || !authrules.Rejected(err) {
				t.Errorf("v%s %d keys × %d signatures: %v, want a rejection wrapping ErrThirdPartyInvite", id, c.keys, c.sigs, err)
			}
		}
	}
}

// TestRestrictedJoinSignatureWorkIsBounded: rule 4.2.1 checks the authorising server's
// signatures, and only that server's.
func TestRestrictedJoinSignatureWorkIsBounded(t *testing.T) {
	r := newRoom(t, "9")
	auth := []any{r.ref(r.create), r.ref(r.pl), r.ref(r.joinRules), r.ref(r.join)}
	f := baseEvent(r.v).with("type", "m.room.member", "sender", "@zed:z.example", "state_key", "@zed:z.example",
		"content", fields{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}, "auth_events", auth)
	signed := sign(t, r.v, f.bytes(t), "z.example", "a.example")
	ev := mustParse(t, r.v, signed)
	keys := &counting{KeyLookup: ring("a.example", "z.example")}
	if err := authrules.Check(r.v, ev, []*pdu.Event{r.create, r.pl, r.joinRules, r.join}, keys); err != nil {
		t.Fatalf("restricted join: %v", err)
	}
	if keys.n != 1 {
		t.Fatalf("%d key lookups for rule 4.2.1", keys.n)
	}
	if err := signing.VerifyEvent(r.v, signed, keys); err != nil {
		t.Fatal(err)
	}
}

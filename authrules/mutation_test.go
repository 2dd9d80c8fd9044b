package authrules

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// mutEvent parses an unsigned event of room version v made of fields, with the fields every
// event needs filled in when absent (the rules do not read hashes or signatures).
func mutEvent(t *testing.T, v roomversion.Version, fields map[string]any) *pdu.Event {
	t.Helper()
	base := map[string]any{
		"depth": 1, "origin_server_ts": 1, "prev_events": []string{}, "auth_events": []string{},
		"hashes": map[string]string{"sha256": "x"}, "signatures": map[string]any{},
		"room_id": "!r:a.example", "sender": "@alice:a.example",
	}
	for k, val := range fields {
		if val == nil {
			delete(base, k)
			continue
		}
		base[k] = val
	}
	raw, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := signing.ParseEvent(v, raw)
	if err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return ev
}

// mutVerdict checks that err is a *Rejection of rule with sentinel want.
func mutVerdict(t *testing.T, name string, err error, rule string, want error) {
	t.Helper()
	var rej *Rejection
	if !errors.As(err, &rej) || rej.Rule != rule || !errors.Is(err, want) {
		t.Errorf("%s: verdict %v, want rule %s (%v)", name, err, rule, want)
	}
}

// TestMutationRules: single events whose verdict (rule number and error kind) a mutant changed
// without any other test noticing.
func TestMutationRules(t *testing.T) {
	v10 := mustVersion(t, "10")
	msg := func(body string) *pdu.Event {
		return mutEvent(t, v10, map[string]any{"type": "m.room.message", "content": map[string]any{"body": body}})
	}
	create := mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "",
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}})
	createNoKey := mutEvent(t, v10, map[string]any{"type": "m.room.create",
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}})
	m1, m2 := msg("one"), msg("two")
	ids := func(evs ...*pdu.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.EventID)
		}
		return out
	}
	tests := []struct {
		mutant string
		v      roomversion.Version
		ev     *pdu.Event
		auth   []*pdu.Event
		rule   string
		err    error
	}{
		{
			mutant: "authrules/check.go:391 '||' -> '&&' (room_id without domain, sender with an empty one)",
			v:      v10,
			ev: mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "", "room_id": "!abc", "sender": "@a:",
				"content": map[string]any{"creator": "@a:", "room_version": "10"}}),
			rule: "1.2", err: ErrCreateRoomID,
		},
		{
			mutant: "authrules/check.go:369 '==' -> '!=' (two auth events of one type, neither with a state_key: duplicates)",
			v:      v10,
			ev:     mutEvent(t, v10, map[string]any{"type": "m.room.message", "content": map[string]any{}, "auth_events": ids(m1, m2)}),
			auth:   []*pdu.Event{m1, m2},
			rule:   "2.1", err: ErrAuthEventDuplicate,
		},
		{
			mutant: "authrules/check.go:369 '==' -> '!=' (one type, with and without state_key: not duplicates, 2.2)",
			v:      v10,
			ev:     mutEvent(t, v10, map[string]any{"type": "m.room.message", "content": map[string]any{}, "auth_events": ids(createNoKey, create)}),
			auth:   []*pdu.Event{createNoKey, create},
			rule:   "2.2", err: ErrAuthEventUnexpected,
		},
	}
	for _, tt := range tests {
		mutVerdict(t, tt.mutant, Check(tt.v, tt.ev, tt.auth, nil), tt.rule, tt.err)
	}
}

// TestMutationCreateWarnings: a create event whose content.room_version is the version it is
// checked as gets no warning; one of another version gets exactly one (rule 1.3).
func TestMutationCreateWarnings(t *testing.T) {
	// authrules/check.go:423 '&&' -> '||'
	v10 := mustVersion(t, "10")
	for _, tt := range []struct {
		version string
		want    []string
	}{{"10", nil}, {"9", []string{"1.3"}}} {
		create := mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "",
			"content": map[string]any{"creator": "@alice:a.example", "room_version": tt.version}})
		var got []string
		err := CheckWithOptions(v10, create, nil, Options{Warn: func(r *Rejection) { got = append(got, r.Rule) }})
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("room_version %q: %v, warnings %v, want nil and %v", tt.version, err, got, tt.want)
		}
	}
}

// TestMutationChainParallel: a level of the auth graph large enough to be split between
// workers (2 x minPerWorker events) gets the verdicts of one worker. The generated rooms of
// the other chain tests have no level that large, so their Workers > 1 runs are sequential.
func TestMutationChainParallel(t *testing.T) {
	// authrules/chain.go:439 's.create = create' -> '' (a second worker found the create
	// event parsed by the first and kept a nil create: every member event it checked failed
	// rule 2.4)
	for _, vid := range []string{"10", "12"} {
		room, evs := ctRoom(t, roomgen.Config{RoomVersion: vid, Events: 60, Seed: 5, MessageShare: -1})
		var inv *pdu.Event
		for _, ev := range evs {
			if ev.Type == pdu.TypeMember && ev.Membership == pdu.MembershipInvite {
				inv = ev
				break
			}
		}
		if inv == nil {
			t.Fatal("no invite in the generated room")
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(inv.Raw(), &m); err != nil {
			t.Fatal(err)
		}
		all := append([]*pdu.Event(nil), evs...)
		for i := range 3 * minPerWorker {
			m["state_key"], _ = json.Marshal(fmt.Sprintf("@mut%d:example.org", i))
			raw, _ := json.Marshal(m)
			ev, err := signing.ParseEvent(room.Version, raw)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ev)
		}
		for _, workers := range []int{1, 4} {
			res, err := CheckAuthChain(room.Version, all, &ChainOptions{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != len(all) || res.Rejected != 0 {
				for i, vd := range res.Verdicts {
					if !vd.Accepted() {
						t.Errorf("v%s, %d workers: event %d: %v", vid, workers, i, vd.Err)
						break
					}
				}
				t.Errorf("v%s, %d workers: %d accepted, %d rejected, want all %d accepted", vid, workers, res.Accepted, res.Rejected, len(all))
			}
		}
	}
}

// mutPLState is the state of a v10 room whose creator alice has power level alice and whose
// power levels are pl (alice's level is set in users).
func mutPLState(t *testing.T, pl map[string]any) (*State, roomversion.Version) {
	t.Helper()
	v := mustVersion(t, "10")
	s, err := NewState(v, []*pdu.Event{
		mutEvent(t, v, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}}),
		mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example", "content": map[string]any{"membership": "join"}}),
		mutEvent(t, v, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": pl}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// TestMutationPowerLevelChanges: power level changes whose verdict, or whose Reason naming
// the offending key, a mutant changed.
func TestMutationPowerLevelChanges(t *testing.T) {
	tests := []struct {
		mutant string
		prev   map[string]any
		next   map[string]any
		rule   string // "" when allowed
		reason string // substring of the Reason
	}{
		{
			mutant: "authrules/check.go:1061 'false' -> 'true' (a removed events key has no new value, which a negative sender level would be below)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": -10}, "events": map[string]any{"m.room.power_levels": -20, "x": -15}, "state_default": -20},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": -10}, "events": map[string]any{"m.room.power_levels": -20}, "state_default": -20},
		},
		{
			mutant: "authrules/check.go:1066 'false' -> 'true' (an added events key has no old value, which a negative sender level would be below)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": -10}, "events": map[string]any{"m.room.power_levels": -20}, "state_default": -20},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": -10}, "events": map[string]any{"m.room.power_levels": -20, "x": -15}, "state_default": -20},
		},
		{
			mutant: "authrules/check.go:1031 'false' -> 'true' (the first events key above the sender is named)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"a": 60, "b": 70}, "state_default": 0},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"a": 10, "b": 10}, "state_default": 0},
			rule:   "9.6.1", reason: `events["a"] is changed from 60`,
		},
		{
			mutant: "authrules/check.go:1019 '==' -> '!=' (notifications named as such)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "notifications": map[string]any{"room": 60}, "state_default": 0},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "notifications": map[string]any{"room": 10}, "state_default": 0},
			rule:   "9.6.1", reason: `notifications["room"] is changed from 60`,
		},
		{
			mutant: "authrules/check.go:1066 'true' -> 'false' (round four: every events key changed is checked, not only up to the first one the sender may change)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"a": 10, "b": 60}, "state_default": 0},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"a": 20, "b": 10}, "state_default": 0},
			rule:   "9.6.1", reason: `events["b"] is changed from 60, above sender level 50`,
		},
		{
			mutant: "authrules/check.go:1094 '!fn(ps[i].key, ...)' -> '!(!fn(...))' (round four: the diff goes on after a removed key)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"a": 10, "b": 60}, "state_default": 0},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"b": 10}, "state_default": 0},
			rule:   "9.6.1", reason: `events["b"] is changed from 60, above sender level 50`,
		},
		{
			mutant: "authrules/check.go:1028 'false' -> 'true' (round four: rule 9.8.1 names the first users entry not below the sender, not the last)",
			prev:   map[string]any{"users": map[string]any{"@alice:a.example": 50, "@b:a.example": 50, "@c:a.example": 60}, "state_default": 0},
			next:   map[string]any{"users": map[string]any{"@alice:a.example": 50, "@b:a.example": 0, "@c:a.example": 0}, "state_default": 0},
			rule:   "9.8.1", reason: `users["@b:a.example"] is changed from 50, not below sender level 50`,
		},
	}
	for _, tt := range tests {
		s, v := mutPLState(t, tt.prev)
		ev := mutEvent(t, v, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": tt.next})
		err := s.Check(ev, nil)
		var rej *Rejection
		switch {
		case tt.rule == "" && err != nil:
			t.Errorf("%s: %v, want allowed", tt.mutant, err)
		case tt.rule != "" && (!errors.As(err, &rej) || rej.Rule != tt.rule || !errors.Is(err, ErrInsufficientPower) || !strings.Contains(rej.Reason, tt.reason)):
			t.Errorf("%s: %v, want rule %s, ErrInsufficientPower, reason with %q", tt.mutant, err, tt.rule, tt.reason)
		}
	}
}

// TestMutationThirdPartyInviteLimit: the bound of MaxThirdPartyInviteChecks (public keys x
// signatures) on a third-party invite whose signature is valid: 9 x 910 = 8190 checks are
// allowed (rule 4.4.1.7), 9 x 911 = 8199 rejected (4.4.1.8).
func TestMutationThirdPartyInviteLimit(t *testing.T) {
	// authrules/check.go:864 'true' -> 'false' (countPublicKeys counts one key)
	// authrules/check.go:878 '_ = canonicaljson.EachMember(server, ...' -> '' (no signature counted)
	v := mustVersion(t, "10")
	key, err := signing.NewSigningKey("1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	signedRaw, err := signing.SignJSON([]byte(`{"mxid":"@bob:b.example","token":"tok"}`), "id.example", key)
	if err != nil {
		t.Fatal(err)
	}
	var signed map[string]any
	if err := json.Unmarshal(signedRaw, &signed); err != nil {
		t.Fatal(err)
	}
	sigs := signed["signatures"].(map[string]any)["id.example"].(map[string]any)
	for i := 2; i <= 9; i++ { // eight more signatures, over other bytes
		sigs[fmt.Sprintf("ed25519:%d", i)] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(key.Private, []byte{byte(i)}))
	}
	invite := mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": "@bob:b.example",
		"content": map[string]any{"membership": "invite", "third_party_invite": map[string]any{"display_name": "b", "signed": signed}}})
	for _, tt := range []struct {
		keys int
		rule string
	}{{910, "4.4.1.7"}, {911, "4.4.1.8"}} {
		var keys []any
		for i := 1; i < tt.keys; i++ {
			keys = append(keys, map[string]string{"public_key": fmt.Sprintf("%043d", i)})
		}
		tpi := mutEvent(t, v, map[string]any{"type": "m.room.third_party_invite", "state_key": "tok",
			"content": map[string]any{"display_name": "b", "key_validity_url": "https://x",
				"public_key": base64.RawStdEncoding.EncodeToString(key.Public()), "public_keys": keys}})
		s, err := NewState(v, []*pdu.Event{
			mutEvent(t, v, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}}),
			mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example", "content": map[string]any{"membership": "join"}}),
			tpi,
		})
		if err != nil {
			t.Fatal(err)
		}
		var allowed string
		err = s.CheckWithOptions(invite, Options{Allowed: func(r string) { allowed = r }})
		var rej *Rejection
		switch {
		case tt.rule == "4.4.1.7" && (err != nil || allowed != tt.rule):
			t.Errorf("%d keys: %v, allowed by %q, want allowed by %s", tt.keys, err, allowed, tt.rule)
		case tt.rule == "4.4.1.8" && (!errors.As(err, &rej) || rej.Rule != tt.rule || !errors.Is(err, ErrThirdPartyInvite)):
			t.Errorf("%d keys: %v, want rule %s", tt.keys, err, tt.rule)
		}
	}
}

// TestMutationValidUserID: the length bounds of ValidUserID (appendices "User Identifiers":
// at most 255 bytes; "@", a possibly empty historical localpart, ":", a server name).
func TestMutationValidUserID(t *testing.T) {
	tests := []struct {
		mutant string
		id     string
		want   bool
	}{
		{"authrules/ids.go:12 '255' -> '256' (255 bytes)", "@" + strings.Repeat("a", 255-len("@:a.example")) + ":a.example", true},
		{"authrules/ids.go:12 '255' -> '256' (256 bytes)", "@" + strings.Repeat("a", 256-len("@:a.example")) + ":a.example", false},
		{"authrules/ids.go:37 '3' -> '4' (shortest: 3 bytes)", "@:a", true},
		{"authrules/ids.go:37 '3' -> '4' (2 bytes)", "@:", false},
	}
	for _, tt := range tests {
		if got := ValidUserID(tt.id); got != tt.want {
			t.Errorf("%s: ValidUserID(%d bytes) = %v, want %v", tt.mutant, len(tt.id), got, tt.want)
		}
	}
}

// TestMutationAuthEventsNeeded: exact selections the other tests did not pin.
func TestMutationAuthEventsNeeded(t *testing.T) {
	v := mustVersion(t, "10")
	tests := []struct {
		mutant  string
		content map[string]any
		want    string
	}{
		{
			"authrules/selection.go:54 'false' -> 'true' (third_party_invite without signed selects no m.room.third_party_invite)",
			map[string]any{"membership": "invite", "third_party_invite": map[string]any{"display_name": "b"}},
			"[{m.room.create } {m.room.power_levels } {m.room.member @alice:a.example} {m.room.member @bob:b.example} {m.room.join_rules }]",
		},
		{
			"(with signed.token the m.room.third_party_invite is selected)",
			map[string]any{"membership": "invite", "third_party_invite": map[string]any{"display_name": "b", "signed": map[string]any{"token": "tok", "mxid": "@bob:b.example"}}},
			"[{m.room.create } {m.room.power_levels } {m.room.member @alice:a.example} {m.room.member @bob:b.example} {m.room.join_rules } {m.room.third_party_invite tok}]",
		},
	}
	for _, tt := range tests {
		ev := mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": "@bob:b.example", "content": tt.content})
		got, err := AuthEventsNeeded(v, ev)
		if err != nil || fmt.Sprint(got) != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.mutant, got, err, tt.want)
		}
	}
}

// TestMutationAllMembers: AllMembers yields every user of the membership, and stops when the
// loop breaks; Members lists them sorted (the members are added in reverse order).
func TestMutationAllMembers(t *testing.T) {
	// authrules/state.go:326 'm == membership && !yield(u)' -> '!(m == membership && !yield(u))'
	// authrules/state.go:344 'sort.Strings(out)' -> ''
	v := mustVersion(t, "10")
	evs := []*pdu.Event{
		mutEvent(t, v, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}}),
	}
	for _, m := range []struct{ user, membership string }{
		{"@erin:e.example", "join"}, {"@dan:d.example", "leave"}, {"@carol:c.example", "join"}, {"@bob:b.example", "invite"}, {"@alice:a.example", "join"},
	} {
		evs = append(evs, mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": m.user, "sender": m.user,
			"content": map[string]any{"membership": m.membership}}))
	}
	s, err := NewState(v, evs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for u := range s.AllMembers("join") {
		got = append(got, u)
	}
	slices.Sort(got)
	if want := "[@alice:a.example @carol:c.example @erin:e.example]"; fmt.Sprint(got) != want {
		t.Errorf("AllMembers(join) = %v, want %s", got, want)
	}
	if got, want := fmt.Sprint(s.Members("join")), "[@alice:a.example @carol:c.example @erin:e.example]"; got != want {
		t.Errorf("Members(join) = %s, want %s", got, want)
	}
	n := 0
	for range s.AllMembers("join") {
		n++
		break
	}
	if n != 1 {
		t.Errorf("a loop that breaks at once saw %d members", n)
	}
}

// TestMutationStringyLevelSpaces: before v10 a level may be a string that Python's int()
// reads, which strips Python's whitespace: U+2000..U+200A are spaces, U+200B is not.
func TestMutationStringyLevelSpaces(t *testing.T) {
	// authrules/powerlevels.go:649 '<=' -> '<' (U+200A HAIR SPACE)
	v := mustVersion(t, "9")
	for _, tt := range []struct {
		ban  string
		want int64
		ok   bool
	}{{"\u200a42", 42, true}, {"\u200042\u2000", 42, true}, {"\u200b42", 0, false}} {
		content, _ := json.Marshal(map[string]any{"ban": tt.ban})
		pl, err := ParsePowerLevels(v, content)
		if (err == nil) != tt.ok || (tt.ok && pl.BanLevel() != tt.want) {
			t.Errorf("ban %q: %v, %v; want ok=%v, %d", tt.ban, pl, err, tt.ok, tt.want)
		}
	}
}

// TestMutationPowerLevelUsers (round two, /work/logs/audit-mutation2.md): changes of users
// entries (rules 9.8.1 and 9.9.1 of v10) where the offending entry comes
// after an allowed change in key order, or is the first of two offending entries.
func TestMutationPowerLevelUsers(t *testing.T) {
	users := func(a, b int) map[string]any {
		return map[string]any{"users": map[string]any{"@alice:a.example": 50, "@a:a.example": a, "@b:a.example": b}, "state_default": 0}
	}
	tests := []struct {
		mutant     string
		prev, next map[string]any
		rule       string
		reason     string // the whole Reason
	}{
		{
			mutant: "authrules/check.go:1027 'true' -> 'false' (an allowed change of @a before @b at the sender's level)",
			prev:   users(10, 50), next: users(20, 40),
			rule: "9.8.1", reason: `users["@b:a.example"] is changed from 50, not below sender level 50`,
		},
		{
			mutant: "authrules/check.go:1039 'true' -> 'false' (an allowed change of @a before @b set above the sender)",
			prev:   users(10, 10), next: users(20, 60),
			rule: "9.9.1", reason: `users["@b:a.example"] is set to 60, above sender level 50`,
		},
		{
			mutant: "authrules/check.go:1037 'false' -> 'true' (the first users entry set above the sender is named)",
			prev:   users(10, 10), next: users(60, 70),
			rule: "9.9.1", reason: `users["@a:a.example"] is set to 60, above sender level 50`,
		},
	}
	for _, tt := range tests {
		s, v := mutPLState(t, tt.prev)
		ev := mutEvent(t, v, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": tt.next})
		err := s.Check(ev, nil)
		var rej *Rejection
		if !errors.As(err, &rej) || rej.Rule != tt.rule || !errors.Is(err, ErrInsufficientPower) || rej.Reason != tt.reason {
			t.Errorf("%s: %v, want rule %s, ErrInsufficientPower, reason %q", tt.mutant, err, tt.rule, tt.reason)
		}
	}
}

// TestMutationChainSignaturesVerified: with SignaturesVerified, CheckAuthChain does not
// verify the authorising server's signature of a restricted join again (it is a required
// signer, already verified): an empty key ring must not change any verdict of the example room.
func TestMutationChainSignaturesVerified(t *testing.T) {
	// authrules/chain.go:313 'o.Keys = nil' -> '' (bob's restricted join was rejected: rule
	// 4.2.1 verified mod's signature without the key)
	room, err := roomgen.ExampleRoom()
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]*pdu.Event, len(room.Events))
	for i, raw := range room.Events {
		if evs[i], err = signing.ParseEvent(room.Version, raw); err != nil {
			t.Fatal(err)
		}
	}
	res, err := CheckAuthChain(room.Version, evs, &ChainOptions{Keys: signing.KeyRing{}, SignaturesVerified: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	joins := 0
	for i, want := range room.Expect {
		got := res.Verdicts[i]
		var rej *Rejection
		switch {
		case want.Rejected && (!errors.As(got.Err, &rej) || rej.Rule != want.Rule):
			t.Errorf("event %d (%s): %v, want rule %s", i, want.Note, got.Err, want.Rule)
		case !want.Rejected && got.Err != nil:
			t.Errorf("event %d (%s): %v, want accepted", i, want.Note, got.Err)
		}
		if want.Note == "restricted join via an authoriser" {
			joins++
		}
	}
	if joins != 1 {
		t.Errorf("%d restricted joins via an authoriser in the example room, want 1", joins)
	}
}

// TestMutationRoundTwoMisc: single verdicts and errors of round two's survivors.
func TestMutationRoundTwoMisc(t *testing.T) {
	// authrules/powerlevels.go:649 '0x2000' -> '8191' (U+1FFF is not a Python space)
	content, _ := json.Marshal(map[string]any{"ban": "\u1fff42"})
	if pl, err := ParsePowerLevels(mustVersion(t, "9"), content); err == nil {
		t.Errorf("ban %q: level %d, want refused", "\u1fff42", pl.BanLevel())
	}

	// authrules/powerlevels.go:569 '>' -> '>=' (a value of exactly 40 bytes is quoted whole)
	s, v10 := mutPLState(t, map[string]any{"users": map[string]any{"@alice:a.example": 100}})
	forty := strings.Repeat("x", 38) // 40 bytes with its quotes
	ev := mutEvent(t, v10, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": map[string]any{
		"users": map[string]any{"@alice:a.example": 100, "@b:a.example": forty}}})
	err := s.Check(ev, nil)
	var rej *Rejection
	if want := `power levels users["@b:a.example"] is "` + forty + `", not an integer`; !errors.As(err, &rej) || rej.Rule != "9.3" || rej.Reason != want || !errors.Is(err, ErrPowerLevelsInvalid) {
		t.Errorf("40-byte level: %v, want rule 9.3, reason %q", err, want)
	}
}

// TestMutationRoundThree: single verdicts of round three's survivors (tools/mutcheck -seed 3,
// /work/logs/audit-mutation3.md).
func TestMutationRoundThree(t *testing.T) {
	// authrules/check.go:90 'opts = &Options{Keys: keys}' -> '' (State.Check with keys verifies
	// the authorising server's signature of a restricted join, rule 4.2.1): bob's restricted
	// join of the example room (allowed by 4.3.5.3 through @mod:b.example) with b.example's
	// signature replaced by one that does not verify.
	room, err := roomgen.ExampleRoom()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewState(room.Version, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range room.Events[:7] {
		ev, err := signing.ParseEvent(room.Version, raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	var join map[string]any
	if err := json.Unmarshal(room.Events[7], &join); err != nil {
		t.Fatal(err)
	}
	join["signatures"].(map[string]any)["b.example"] = map[string]any{"ed25519:1": strings.Repeat("A", 86)}
	raw, _ := json.Marshal(join)
	forged, err := signing.ParseEvent(room.Version, raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(forged, nil); err != nil {
		t.Errorf("forged authoriser signature, no keys: %v, want allowed (only its presence is checked)", err)
	}
	mutVerdict(t, "State.Check with keys, forged authoriser signature", s.Check(forged, room.Keys), "4.2.1", ErrAuthoriserSignature)

	// authrules/check.go:660 '>' -> '>=' (rule 4.3.1 reads the first creator only when there is
	// one): a v10 create without content.creator and a join with one prev event (the create)
	// got an index out of range.
	v10 := mustVersion(t, "10")
	create := mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"room_version": "10"}})
	noCreator, err := NewState(v10, []*pdu.Event{create})
	if err != nil {
		t.Fatal(err)
	}
	aliceJoin := mutEvent(t, v10, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example",
		"content": map[string]any{"membership": "join"}, "prev_events": []string{create.EventID}})
	mutVerdict(t, "join in a room without creator", noCreator.Check(aliceJoin, nil), "4.3.7", ErrJoinNotAllowed)

	// authrules/check.go:1077 'false' -> 'true' (rule 9.7.1 names the first events entry set
	// above the sender, not the last)
	pls, _ := mutPLState(t, map[string]any{"users": map[string]any{"@alice:a.example": 50}})
	ev := mutEvent(t, v10, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": map[string]any{
		"users": map[string]any{"@alice:a.example": 50}, "events": map[string]any{"a.type": 60, "b.type": 70}}})
	var rej *Rejection
	if err := pls.Check(ev, nil); !errors.As(err, &rej) || rej.Rule != "9.7.1" || rej.Reason != `events["a.type"] is set to 60, above sender level 50` {
		t.Errorf("two events entries above the sender: %v, want rule 9.7.1 naming a.type", err)
	}

	// authrules/exactlevel.go:153 '>' -> '>=' (a level of exactly maxLevelDigits digits is
	// written whole in a Reason; 65 digits are abbreviated)
	v9 := mustVersion(t, "9")
	s9, err := NewState(v9, []*pdu.Event{
		mutEvent(t, v9, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"creator": "@alice:a.example", "room_version": "9"}}),
		mutEvent(t, v9, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example", "content": map[string]any{"membership": "join"}}),
		mutEvent(t, v9, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": map[string]any{"users": map[string]any{"@alice:a.example": 100}}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ digits, text string }{
		{strings.Repeat("1", 64), strings.Repeat("1", 64)},
		{strings.Repeat("1", 65), strings.Repeat("1", 64) + "…(65 digits)"},
	} {
		ev := mutEvent(t, v9, map[string]any{"type": "m.room.power_levels", "state_key": "", "content": map[string]any{
			"users": map[string]any{"@alice:a.example": 100, "@b:a.example": tt.digits}}})
		want := `users["@b:a.example"] is set to ` + tt.text + `, above sender level 100`
		if err := s9.Check(ev, nil); !errors.As(err, &rej) || rej.Rule != "9.7.1" || rej.Reason != want {
			t.Errorf("%d-digit level: %v, want rule 9.7.1, reason %q", len(tt.digits), err, want)
		}
	}

	// authrules/chain.go:280 '!=' -> '==' (CheckAuthChain's last Progress call has done ==
	// total, also when an event ID occurs twice and its copy is not checked again)
	evs := make([]*pdu.Event, 0, len(room.Events)+1)
	for _, raw := range append(room.Events, room.Events[0]) {
		ev, err := signing.ParseEvent(room.Version, raw)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	var calls [][2]int
	if _, err := CheckAuthChain(room.Version, evs, &ChainOptions{Keys: room.Keys, Workers: 1,
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }}); err != nil {
		t.Fatal(err)
	}
	if n := len(evs); len(calls) == 0 || calls[len(calls)-1] != [2]int{n, n} {
		t.Errorf("Progress calls %v, want the last (%d, %d)", calls, n, n)
	}

	// authrules/ids.go:42 'false' -> 'true' (no ':', no server name: no user ID)
	if ValidUserID("@alice.a.example") {
		t.Error(`ValidUserID("@alice.a.example") = true, want false`)
	}
}

// TestMutationThirdPartyInviteCount: rule 4.4.1.7's bound counts the signatures
// HasValidSignature tries, ed25519 ones: a signature under another algorithm does not count.
// 910 public keys x 9 ed25519 signatures = 8190 checks, allowed by 4.4.1.7 (the first key
// verifies, so the check is quick), also with a tenth signature "curve25519:1".
func TestMutationThirdPartyInviteCount(t *testing.T) {
	// authrules/check.go:912 '&&' -> '||' (every key ID, or a non-string value, was counted)
	v := mustVersion(t, "10")
	key, err := signing.NewSigningKey("1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	signedRaw, err := signing.SignJSON([]byte(`{"mxid":"@bob:b.example","token":"tok"}`), "id.example", key)
	if err != nil {
		t.Fatal(err)
	}
	var signed map[string]any
	if err := json.Unmarshal(signedRaw, &signed); err != nil {
		t.Fatal(err)
	}
	sigs := signed["signatures"].(map[string]any)["id.example"].(map[string]any)
	for i := 2; i <= 9; i++ {
		sigs[fmt.Sprintf("ed25519:%d", i)] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(key.Private, []byte{byte(i)}))
	}
	sigs["curve25519:1"] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(key.Private, []byte{1}))
	invite := mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": "@bob:b.example",
		"content": map[string]any{"membership": "invite", "third_party_invite": map[string]any{"display_name": "b", "signed": signed}}})
	var keys []any
	for i := 1; i < 910; i++ {
		keys = append(keys, map[string]string{"public_key": fmt.Sprintf("%043d", i)})
	}
	tpi := mutEvent(t, v, map[string]any{"type": "m.room.third_party_invite", "state_key": "tok",
		"content": map[string]any{"display_name": "b", "key_validity_url": "https://x",
			"public_key": base64.RawStdEncoding.EncodeToString(key.Public()), "public_keys": keys}})
	s, err := NewState(v, []*pdu.Event{
		mutEvent(t, v, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}}),
		mutEvent(t, v, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example", "content": map[string]any{"membership": "join"}}),
		tpi,
	})
	if err != nil {
		t.Fatal(err)
	}
	var allowed string
	if err := s.CheckWithOptions(invite, Options{Allowed: func(r string) { allowed = r }}); err != nil || allowed != "4.4.1.7" {
		t.Errorf("910 keys, 9 ed25519 signatures and a curve25519 one: %v, allowed by %q, want allowed by 4.4.1.7", err, allowed)
	}
}

// TestMutationRoundFour (/work/logs/audit-mutation4.md): supplied auth events at the limit and
// the warnings about them, the Reason of an unknown membership, and the domain of an ID
// without a sigil.
func TestMutationRoundFour(t *testing.T) {
	v10 := mustVersion(t, "10")
	create := mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "",
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}})
	join := mutEvent(t, v10, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example",
		"content": map[string]any{"membership": "join"}, "auth_events": []string{create.EventID}, "prev_events": []string{create.EventID}})
	msg := mutEvent(t, v10, map[string]any{"type": "m.room.message", "content": map[string]any{"body": "hi"},
		"auth_events": []string{create.EventID, join.EventID}, "prev_events": []string{join.EventID}})

	// authrules/check.go:240 '>' -> '>=' (exactly maxSuppliedAuthEvents supplied events are
	// accepted; one more is refused, units_test.go)
	many := []*pdu.Event{create, join}
	for len(many) < maxSuppliedAuthEvents {
		many = append(many, create)
	}
	if err := Check(v10, msg, many, nil); err != nil {
		t.Errorf("%d supplied auth events: %v, want allowed", len(many), err)
	}

	// authrules/check.go:308 '||' -> '&&' (a supplied event that auth_events lists gives no
	// warning; an unlisted one gives one, ErrAuthEventUnexpected)
	var warnings []string
	opts := Options{Warn: func(r *Rejection) { warnings = append(warnings, r.Reason) }}
	if err := CheckWithOptions(v10, msg, []*pdu.Event{create, join}, opts); err != nil || len(warnings) != 0 {
		t.Errorf("listed auth events: %v, warnings %q; want allowed, none", err, warnings)
	}
	other := mutEvent(t, v10, map[string]any{"type": "m.room.topic", "state_key": "", "content": map[string]any{"topic": "t"}})
	warnings = nil
	want := "supplied event " + other.EventID + " is not in auth_events; ignored"
	if err := CheckWithOptions(v10, msg, []*pdu.Event{create, join, other}, opts); err != nil || len(warnings) != 1 || warnings[0] != want {
		t.Errorf("an unlisted auth event: %v, warnings %q; want allowed, [%q]", err, warnings, want)
	}

	// authrules/check.go:627 'ev.Membership == ""' -> negated (the Reason quotes an unknown
	// membership string, and says "not a string" for another JSON value)
	s, err := NewState(v10, []*pdu.Event{create, join})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		membership any
		reason     string
	}{
		{"foo", `membership "foo" is unknown in room version 10`},
		{7, `membership not a string is unknown in room version 10`},
	} {
		ev := mutEvent(t, v10, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example",
			"content": map[string]any{"membership": tt.membership}})
		var rej *Rejection
		if err := s.Check(ev, nil); !errors.As(err, &rej) || !errors.Is(err, ErrUnknownMembership) || rej.Reason != tt.reason {
			t.Errorf("membership %v: %v, want ErrUnknownMembership, reason %q", tt.membership, err, tt.reason)
		}
	}

	// authrules/ids.go:19 '0' -> '1' (domainOf: the domain is what follows the first ':',
	// also when it is the first byte): a v10 create whose room_id ":a.example" has no sigil
	// still has the sender's domain (rule 1.2 does not reject it)
	bare := mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "", "room_id": ":a.example",
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}})
	var allowed string
	if err := CheckWithOptions(v10, bare, nil, Options{Allowed: func(r string) { allowed = r }}); err != nil || allowed != "1.5" {
		t.Errorf(`create with room_id ":a.example": %v, allowed by %q; want allowed by 1.5`, err, allowed)
	}
}

// TestMutationRoundFourState: the error of NewState for an event of another room names the
// event by its ID, and Check refuses a supplied event whose ID it cannot compute.
func TestMutationRoundFourState(t *testing.T) {
	v10 := mustVersion(t, "10")
	create := mutEvent(t, v10, map[string]any{"type": "m.room.create", "state_key": "",
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}})
	foreign := mutEvent(t, v10, map[string]any{"type": "m.room.topic", "state_key": "", "room_id": "!other:a.example",
		"content": map[string]any{"topic": "t"}})

	// authrules/state.go:189 'ev.EventID != ""' -> negated (the event's ID comes first)
	_, err := NewState(v10, []*pdu.Event{create, foreign})
	want := foreign.EventID + ` (m.room.topic, "") is of room "!other:a.example", not of the state's room "!r:a.example"`
	if !errors.Is(err, ErrInvalidState) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("an event of another room: %v, want ErrInvalidState ending in %q", err, want)
	}

	// authrules/state.go:457 'err' -> 'nil' (eventIDOf: an event not made by the parser, with
	// no EventID and no bytes, has no ID: fatal ErrMalformed, not an ID "")
	msg := mutEvent(t, v10, map[string]any{"type": "m.room.message", "content": map[string]any{"body": "hi"},
		"auth_events": []string{create.EventID}})
	var rej *Rejection
	err = Check(v10, msg, []*pdu.Event{{Type: pdu.TypeCreate}}, nil)
	if !errors.As(err, &rej) || rej.Severity != SeverityFatal || !errors.Is(err, ErrMalformed) ||
		!strings.HasPrefix(rej.Reason, "auth event 0: cannot compute its event ID: ") {
		t.Errorf("a hand-made auth event without ID: %v, want fatal ErrMalformed, cannot compute its event ID", err)
	}
}

// TestMutationRoundFive (round five, /work/logs/audit-mutation5.md): an ID that
// ChainOptions.Rejected maps to false is not rejected: the verdicts are those without the map
// (the power levels event and the events citing it are accepted). A v12 create event with
// several bad additional_creators is refused naming the first; so is a power levels content
// with several users keys that are not user IDs, and one that is no JSON object is refused
// under the power levels rule; a join_authorised_via_users_server that is no user ID fails
// rule 4.2.1.
func TestMutationRoundFive(t *testing.T) {
	// authrules/chain.go:207 'r' -> '!(r)' (the IDs mapped to false were taken as rejected,
	// and the events citing the power levels failed rule 2.3)
	room, evs := ctRoom(t, roomgen.Config{Events: 200, Seed: 1})
	pl := evs[2]
	if pl.Type != pdu.TypePowerLevels {
		t.Fatalf("event 2 is %s", pl.Type)
	}
	base, err := CheckAuthChain(room.Version, evs, nil)
	if err != nil {
		t.Fatal(err)
	}
	citing := 0
	for i, ev := range evs {
		if slices.Contains(ev.AuthEvents, pl.EventID) {
			citing++
			if !base.Verdicts[i].Accepted() {
				t.Fatalf("event %d, citing the power levels: %v", i, base.Verdicts[i].Err)
			}
		}
	}
	if citing == 0 || !base.Verdicts[2].Accepted() {
		t.Fatalf("%d events cite the power levels, accepted %v", citing, base.Verdicts[2].Accepted())
	}
	res, err := CheckAuthChain(room.Version, evs, &ChainOptions{Rejected: map[string]bool{pl.EventID: false, "$elsewhere": false}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != base.Accepted || res.Rejected != base.Rejected {
		t.Errorf("accepted %d, rejected %d; want %d, %d", res.Accepted, res.Rejected, base.Accepted, base.Rejected)
	}
	for i := range evs {
		got, want := res.Verdicts[i], base.Verdicts[i]
		if got.PreRejected != want.PreRejected || got.Accepted() != want.Accepted() || fmt.Sprint(got.Err) != fmt.Sprint(want.Err) {
			t.Errorf("event %d: %+v, want %+v", i, got, want)
		}
	}

	// authrules/check.go:477 'errStop' -> 'nil' (the iteration went on: the last bad entry
	// was named)
	v12 := mustVersion(t, "12")
	for _, tt := range []struct {
		additional []any
		want       string
	}{
		{[]any{5, "x"}, "authrules: rule 1.4: content.additional_creators entry 5 is not a valid user ID"},
		{[]any{"@b:a.example", "x", 5}, `authrules: rule 1.4: content.additional_creators entry "x" is not a valid user ID`},
	} {
		create := mutEvent(t, v12, map[string]any{"type": "m.room.create", "state_key": "", "room_id": nil,
			"content": map[string]any{"room_version": "12", "additional_creators": tt.additional}})
		err := Check(v12, create, nil, nil)
		if mutVerdict(t, fmt.Sprint(tt.additional), err, "1.4", ErrCreateAdditionalCreators); err == nil || err.Error() != tt.want {
			t.Errorf("additional_creators %v: %v, want %s", tt.additional, err, tt.want)
		}
	}

	// authrules/rules.go:222 'n[rPowerLevels] = p' -> '' (a content that is not a JSON object
	// is refused under the power levels rule as a whole) and authrules/powerlevels.go:447
	// 'errStop' -> 'nil' (the first users key that is not a user ID is named, not the last)
	for _, tt := range []struct {
		v, content, rule, want string
		err                    error
	}{
		{"1", `[]`, "10", "authrules: rule 10: power levels content: canonicaljson: invalid character '[' looking for beginning of object at offset 0", ErrMalformed},
		{"9", `{"users":`, "9", "authrules: rule 9: power levels content: canonicaljson: unexpected end of input looking for beginning of value at offset 9", ErrMalformed},
		{"12", `5`, "10", "authrules: rule 10: power levels content: canonicaljson: invalid character '5' looking for beginning of object at offset 0", ErrMalformed},
		{"1", `{"users":{"bad1":1,"bad2":2}}`, "10.1", `authrules: rule 10.1: power levels users key "bad1" is not a valid user ID`, ErrPowerLevelsInvalid},
		{"10", `{"users":{"@a:b":1,"bad2":2,"bad1":3}}`, "9.3", `authrules: rule 9.3: power levels users key "bad2" is not a valid user ID`, ErrPowerLevelsInvalid},
	} {
		_, err := ParsePowerLevels(mustVersion(t, tt.v), []byte(tt.content))
		if mutVerdict(t, "v"+tt.v+" "+tt.content, err, tt.rule, tt.err); err == nil || err.Error() != tt.want {
			t.Errorf("ParsePowerLevels(v%s, %s): %v, want %s", tt.v, tt.content, err, tt.want)
		}
	}

	// authrules/check.go:635 '||' -> '&&' (a join_authorised_via_users_server that is a string
	// but no user ID fails rule 4.2.1 as such, signed by its "server" or not)
	jv := mustVersion(t, "10")
	js, err := NewState(jv, []*pdu.Event{
		mutEvent(t, jv, map[string]any{"type": "m.room.create", "state_key": "", "content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}}),
		mutEvent(t, jv, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example", "content": map[string]any{"membership": "join"}}),
		mutEvent(t, jv, map[string]any{"type": "m.room.join_rules", "state_key": "", "content": map[string]any{"join_rule": "restricted",
			"allow": []any{map[string]any{"type": "m.room_membership", "room_id": "!s:a.example"}}}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ authoriser, want string }{
		{"alice:a.example", `authrules: rule 4.2.1: join_authorised_via_users_server "alice:a.example" is not a valid user ID`},
		{"@alice", `authrules: rule 4.2.1: join_authorised_via_users_server "@alice" is not a valid user ID`},
		{"@alice:a.example", ""},
	} {
		join := mutEvent(t, jv, map[string]any{"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@bob:b.example",
			"content":    map[string]any{"membership": "join", "join_authorised_via_users_server": tt.authoriser},
			"signatures": map[string]any{"a.example": map[string]string{"ed25519:1": "x"}, "b.example": map[string]string{"ed25519:1": "x"}}})
		err := js.Check(join, nil)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("join authorised by %s: %v, want it allowed", tt.authoriser, err)
		case tt.want != "":
			if mutVerdict(t, tt.authoriser, err, "4.2.1", ErrAuthoriserSignature); err == nil || err.Error() != tt.want {
				t.Errorf("join authorised by %s: %v, want %s", tt.authoriser, err, tt.want)
			}
		}
	}
}

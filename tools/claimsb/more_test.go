package claimsb

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// decisions.md (hostile input) 3a: "those of auth and policy-check keep the order of DESIGN.md's
// example (allowed, rule, severity, reason)".
func TestCLIPolicyCheckKeys(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	var st []json.RawMessage
	for _, e := range r.events() {
		st = append(st, e.Raw())
	}
	stFile := file(t, "st.json", claimkit.Marshal(t, st))
	o, e, c := cli(t, raw(t, v, M{}), "policy-check", "--room-version", "10", "--state", stFile)
	if c != 0 || e != "" {
		t.Fatalf("policy-check: %d %q", c, e)
	}
	// decisions.md hostile input 3a (settled by B3): recommended, policy_server, then reason.
	if !strings.HasPrefix(o, `{"recommended":`) || !strings.Contains(o, `,"policy_server":`) {
		t.Errorf("policy-check output %q: want the keys recommended, policy_server (README order)", o)
	}
}

// README / DESIGN.md order for auth rejections: allowed, rule, severity, reason.
func TestCLIAuthOrder(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "invite", nil)
	j := raw(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": refs(v, r.create, r.pl, r.jr), "prev_events": refs(v, r.jr), "depth": 5})
	ae := file(t, "ae.json", claimkit.Marshal(t, []json.RawMessage{r.create.Raw(), r.pl.Raw(), r.jr.Raw()}))
	o, e, c := cli(t, j, "auth", "--room-version", "10", "--auth-events", ae)
	if c != 0 || e != "" || !strings.HasPrefix(o, `{"allowed":false,"rule":"4.3.7","severity":"error","reason":"`) || !strings.HasSuffix(o, "}\n") {
		t.Errorf("auth rejection %d %q %q", c, o, e)
	}
	// join-decision output is canonical
	var st []json.RawMessage
	rr, _ := restrictedRoom(t, v, "restricted", []any{cond("!x:x.example")})
	for _, ev := range rr.events() {
		st = append(st, ev.Raw())
	}
	in := claimkit.Marshal(t, M{"room_version": "10", "state": st, "user_id": "@bob:b.example", "resident_server": "a.example", "rooms": M{"!x:x.example": M{"@bob:b.example": "join"}}})
	o, e, c = cli(t, in, "join-decision")
	if c != 0 || o != `{"authorising_user":"@alice:a.example","decision":"allow"}`+"\n" {
		t.Errorf("join-decision %d %q %q", c, o, e)
	}
}

// signing decision 2 / hostile 3a: "The --key file is one line".
func TestCLIKeyFile(t *testing.T) {
	seed := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("a.example", "1").Private.Seed())
	obj := []byte(`{"a":1}`)
	for _, c := range []struct {
		name, content string
		ok            bool
	}{
		{"one line", "ed25519 1 " + seed + "\n", true},
		{"no newline", "ed25519 1 " + seed, true},
		{"surrounding whitespace", "  ed25519 1 " + seed + "  \n\n", true},
		{"two lines", "ed25519 1 " + seed + "\ned25519 2 " + seed + "\n", false},
	} {
		o, e, code := cli(t, obj, "sign", "--server-name", "a.example", "--key", file(t, "k", []byte(c.content)))
		if c.ok && (code != 0 || !strings.Contains(o, `"ed25519:1"`)) {
			t.Errorf("%s: %d %q %q", c.name, code, o, e)
		}
		if !c.ok {
			unusable(t, c.name, o, e, code)
		}
	}
}

// decisions.md (authrules) "Severity": third-party invite without mxid/token is fatal;
// aliases without state_key is fatal.
func TestAuthSeverityMore(t *testing.T) {
	for _, c := range []struct {
		name   string
		signed any
		rule   string
		sev    authrules.Severity
	}{
		{"no mxid", M{"token": "tok", "signatures": M{}}, "4.4.1.3", authrules.SeverityFatal},
		{"no token", M{"mxid": "@bob:b.example", "signatures": M{}}, "4.4.1.3", authrules.SeverityFatal},
		{"mxid mismatch", M{"mxid": "@carl:b.example", "token": "tok", "signatures": M{}}, "4.4.1.4", authrules.SeverityError},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := tpCheck(t, M{"public_key": idPub(base64.RawStdEncoding)}, c.signed)
			var rj *authrules.Rejection
			if !errors.As(err, &rj) || rj.Rule != c.rule || rj.Severity != c.sev {
				t.Fatalf("want %s %v, got %v (%v)", c.rule, c.sev, rj, err)
			}
		})
	}
	v5 := ver("5")
	r5 := newRoom(t, v5, "public", nil)
	err := r5.state(t).Check(ev(t, v5, M{"type": "m.room.aliases", "content": M{}}), nil)
	var rj *authrules.Rejection
	if !errors.As(err, &rj) || rj.Severity != authrules.SeverityFatal {
		t.Errorf("aliases without state_key: %v", err)
	}
}

// decisions.md (authrules) "Rule 4.2.1 without keys" / with keys.
func TestAuth421WithKeys(t *testing.T) {
	v := ver("10")
	_, s := restrictedRoom(t, v, "restricted", []any{cond("!x:x.example")})
	fakeA, _ := signing.NewSigningKey("1", []byte("0123456789abcdef0123456789abcdef"))
	b := raw(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}})
	bad, _ := signing.CountersignEvent(v, b, "a.example", fakeA)
	good, _ := signing.CountersignEvent(v, b, "a.example", authgen.KeyFor("a.example", "1"))
	if err := s.Check(parseAnyT(t, bad), ring); !errors.Is(err, authrules.ErrAuthoriserSignature) {
		t.Errorf("bad signature with keys: %v", err)
	}
	var warns int
	if err := s.CheckWithOptions(parseAnyT(t, bad), authrules.Options{Warn: func(*authrules.Rejection) { warns++ }}); err != nil || warns != 1 {
		t.Errorf("bad signature without keys: %v, %d warnings", err, warns)
	}
	warns = 0
	if err := s.CheckWithOptions(parseAnyT(t, good), authrules.Options{Keys: ring, Warn: func(*authrules.Rejection) { warns++ }}); err != nil || warns != 0 {
		t.Errorf("good signature with keys: %v, %d warnings", err, warns)
	}
	if err := s.Check(parseAnyT(t, b), nil); !errors.Is(err, authrules.ErrAuthoriserSignature) {
		t.Errorf("no signature without keys: %v", err)
	}
}

// go doc membership.CheckStrippedState: another room's entry; missing create is 400 M_INVALID_PARAM.
func TestStrippedStateMore(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "invite", nil)
	foreign := raw(t, v, M{"room_id": "!other:a.example", "type": "m.room.name", "state_key": "", "content": M{"name": "n"}})
	valid, problems := membership.CheckStrippedState(v, roomID, []json.RawMessage{r.create.Raw(), foreign}, ring)
	if len(problems) != 1 || len(valid) != 1 {
		t.Errorf("foreign entry: %d valid, %v", len(valid), problems)
	}
	_, problems = membership.CheckStrippedState(v, roomID, []json.RawMessage{r.jr.Raw()}, ring)
	if len(problems) != 1 {
		t.Fatalf("missing create: %v", problems)
	}
	var me *membership.Error
	if !errors.As(problems[0], &me) || me.Status != 400 || me.ErrCode != membership.ErrCodeInvalidParam {
		t.Errorf("missing create: %v", problems[0])
	}
	// SignInvite with RoomID/EventID mismatch
	inv := raw(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite"}})
	req := membership.InviteRequest{RoomVersion: v, RoomID: "!other:a.example", Origin: "a.example", Event: inv, InviteRoomState: []json.RawMessage{r.create.Raw()}, LocalServer: "b.example", Key: authgen.KeyFor("b.example", "1"), Keys: ring}
	_, err := membership.SignInvite(req)
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	req.RoomID = ""
	req.EventID = "$nope"
	_, err = membership.SignInvite(req)
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	// 17: an invite with a second hash algorithm keeps it
	var m map[string]any
	_ = json.Unmarshal(inv, &m)
	m["hashes"].(map[string]any)["sha512"] = "abc"
	delete(m, "signatures")
	two, _ := signing.CountersignEvent(v, claimkit.Marshal(t, m), "a.example", authgen.KeyFor("a.example", "1"))
	req.EventID = ""
	req.Event = two
	res, err := membership.SignInvite(req)
	id, _ := signing.EventID(v, two)
	if err != nil || res.Parsed.EventID != id || !strings.Contains(string(res.Event), `"sha512":"abc"`) {
		t.Errorf("invite with two hashes: %v", err)
	}
	if !strings.HasPrefix(string(res.JSON()), `{"event":{`) {
		t.Errorf("InviteResult.JSON %s", res.JSON())
	}
	// an invite with the invited server's domain event ID (v1-2) is refused
	_ = os.Getenv
}

func parseAnyT(t *testing.T, b []byte) *pdu.Event {
	t.Helper()
	e, err := signing.ParseEvent(ver("10"), b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// decisions.md (Policy servers) 6: a via with a port and a member of that server.
func TestPolicyViaPort(t *testing.T) {
	_, s := policyRoom(t, M{"via": "policy.example:8448", "public_keys": M{"ed25519": psPub()}}, "@ps:policy.example:8448")
	if ps, ok := policyserver.Of(s); !ok || ps.Name != "policy.example:8448" {
		t.Errorf("via with port: %+v %v", ps, ok)
	}
}

// decisions.md (bulk) 9: keys for rule 4.2.1 from the dump's keys member; warnings printed.
func TestReplayKeys(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "", nil)
	r.jr = ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": "restricted", "allow": []any{cond("!x:x.example")}}, "auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.pl), "depth": 4})
	base := refs(v, r.create, r.pl, r.jr, r.join)
	j := raw(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}, "auth_events": base, "prev_events": refs(v, r.jr), "depth": 5}, "a.example")
	evs := append(rawsOf(r.events()...), j)
	var raws []json.RawMessage
	for _, e := range evs {
		raws = append(raws, e)
	}
	pub := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("a.example", "1").Public())
	withKeys := claimkit.Marshal(t, M{"room_version": "10", "events": raws, "keys": M{"a.example": M{"ed25519:1": pub}}})
	noKeys := claimkit.Marshal(t, M{"room_version": "10", "events": raws})
	other := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("a.example", "7").Public())
	wrongKeys := claimkit.Marshal(t, M{"room_version": "10", "events": raws, "keys": M{"a.example": M{"ed25519:1": other}}})
	lw := replayLines(t, withKeys)
	ln := replayLines(t, noKeys)
	lx := replayLines(t, wrongKeys)
	if !strings.Contains(lw[5], "accepted") || lw[5] == ln[5] {
		t.Errorf("with keys %q / without %q", lw[5], ln[5])
	}
	if !strings.Contains(ln[5], "accepted") || !strings.Contains(strings.ToLower(ln[5]), "warn") && !strings.Contains(ln[5], "not verified") {
		t.Errorf("without keys, a warning beside the verdict: %q", ln[5])
	}
	if !strings.Contains(lx[5], "rejected rule 4.2.1") {
		t.Errorf("wrong key: %q", lx[5])
	}
}

// decisions.md (Cross-package) v1-2 event_id: replay quotes cells holding control characters.
func TestReplayQuotesControl(t *testing.T) {
	v := ver("1")
	r := newRoom(t, v, "public", nil)
	m := raw(t, v, M{"event_id": "$a\x01b:a.example", "auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.jr), "depth": 5})
	lines := replayLines(t, dumpOf(t, "1", append(rawsOf(r.events()...), m)...))
	if strings.Contains(lines[5], "\x01") || !strings.Contains(lines[5], `"$a\u0001b:a.example"`) && !strings.Contains(lines[5], `"$a\x01b:a.example"`) {
		t.Errorf("control character cell not quoted: %q", lines[5])
	}
}

package claimsc

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// README "### canonicaljson": the snippet, as written, and its comments: CanonicalStrict is
// "room versions 6+: refuses floats, -0, out-of-range integers, duplicate keys"; Canonical is
// "room versions 1-5: lenient"; AppendIndexed records "where the top-level and second-level
// members are in out, without a second scan".
func TestReadmeSnippetCanonicaljson(t *testing.T) {
	data := []byte(` {"b":{"y":1,"x":[2]}, "a":"\u00e9"} `)
	out, err := canonicaljson.CanonicalStrict(data) // room versions 6+: refuses floats, -0, out-of-range integers, duplicate keys
	if err != nil || string(out) != `{"a":"é","b":{"x":[2],"y":1}}` {
		t.Fatalf("CanonicalStrict = %s, %v", out, err)
	}
	out, err = canonicaljson.Canonical(data) // room versions 1-5: lenient (see docs/decisions.md)
	if err != nil || string(out) != `{"a":"é","b":{"x":[2],"y":1}}` {
		t.Fatalf("Canonical = %s, %v", out, err)
	}
	var idx canonicaljson.Index                                                                  // where the top-level and second-level members are in out,
	out, err = canonicaljson.AppendIndexed(nil, data, canonicaljson.Options{Strict: true}, &idx) // without a second scan
	if err != nil || string(out) != `{"a":"é","b":{"x":[2],"y":1}}` {
		t.Fatalf("AppendIndexed = %s, %v", out, err)
	}
	if len(idx.Members) != 2 || len(idx.Nested) != 2 {
		t.Errorf("index: %d members, %d nested, want 2 and 2", len(idx.Members), len(idx.Nested))
	}
	for _, c := range []struct {
		in     string
		strict bool // refused by CanonicalStrict
		lenOut string
	}{
		{`{"a":1.5}`, true, `{"a":1.5}`},
		{`{"a":-0}`, true, `{"a":0}`},
		{`{"a":9007199254740992}`, true, `{"a":9007199254740992}`},
		{`{"a":1,"a":2}`, true, `{"a":2}`},
	} {
		if _, err := canonicaljson.CanonicalStrict([]byte(c.in)); err == nil {
			t.Errorf("CanonicalStrict(%s) accepted", c.in)
		}
		if out, err := canonicaljson.Canonical([]byte(c.in)); err != nil || string(out) != c.lenOut {
			t.Errorf("Canonical(%s) = %s, %v; want %s (lenient)", c.in, out, err, c.lenOut)
		}
	}
}

// README "### roomversion and pdu": "unknown versions are an error, never a default";
// pdu.Parse "*pdu.FormatError on a malformed event"; signing.ParseEvent "the same, with the
// event ID computed (v3+)"; "signatures: a list in canonical order".
func TestReadmeSnippetRoomversionPdu(t *testing.T) {
	p := example(t)
	data := p.raw[7]
	v, err := roomversion.Lookup("9") // unknown versions are an error, never a default
	if err != nil {
		t.Fatal(err)
	}
	ev, err := pdu.Parse(v, data) // *pdu.FormatError on a malformed event
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != "" {
		t.Errorf("pdu.Parse set the event ID %q in v9", ev.EventID)
	}
	ev, err = signing.ParseEvent(v, data) // the same, with the event ID computed (v3+)
	if err != nil || ev.EventID != p.evs[7].EventID {
		t.Fatalf("ParseEvent: %v %q", err, ev.EventID)
	}
	sig, ok := ev.Signatures.Get("b.example", "ed25519:1") // signatures: a list in canonical order
	if !ok || sig != p.sig(7, "b.example") {
		t.Errorf("Signatures.Get = %q, %v", sig, ok)
	}
	var servers []string
	for s := range ev.Signatures.Servers() {
		servers = append(servers, s)
	}
	if strings.Join(servers, ",") != "b.example,c.example" {
		t.Errorf("servers in order %v", servers)
	}
	for _, id := range []string{"", "0", "13", "9 ", "v9", "1.0"} {
		if _, err := roomversion.Lookup(id); !errors.Is(err, roomversion.ErrUnknownVersion) {
			t.Errorf("Lookup(%q) = %v, want ErrUnknownVersion", id, err)
		}
	}
	for _, bad := range []string{`{}`, `{"type":5}`, `[]`, `{"room_id":"!r:a","sender":"@a:a","type":"t","content":{},"depth":1,"prev_events":[],"auth_events":[],"origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"depth":-1}`} {
		_, err := pdu.Parse(v, []byte(bad))
		var fe *pdu.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("pdu.Parse(%s) = %v, want a *pdu.FormatError", bad, err)
		}
		_, err = signing.ParseEvent(v, []byte(bad))
		if !errors.As(err, &fe) {
			t.Errorf("signing.ParseEvent(%s) = %v, want a *pdu.FormatError (\"the same\")", bad, err)
		}
	}
}

// README "### redaction": Redact gives the "canonical JSON of the redacted event";
// AppendSignedBytes gives "what signatures cover, from a parsed event".
func TestReadmeSnippetRedaction(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	data := p.raw[10]
	ev := p.evs[10]
	buf := make([]byte, 0, 64)
	redacted, err := redaction.Redact(v, data) // canonical JSON of the redacted event
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := canonicaljson.CanonicalStrict(redacted); !bytes.Equal(c, redacted) {
		t.Errorf("Redact output is not canonical JSON")
	}
	if bytes.Contains(redacted, []byte("Hello")) {
		t.Errorf("the message's body survived redaction")
	}
	msg, err := redaction.AppendSignedBytes(buf[:0], v, ev.Raw()) // what signatures cover, from a parsed event
	if err != nil {
		t.Fatal(err)
	}
	// what signatures cover: the signature of c.example verifies over msg
	s, _ := base64.RawStdEncoding.DecodeString(p.sig(10, "c.example"))
	if ok := ed25519Verify(authgen.KeyFor("c.example", "1").Public(), msg, s); !ok {
		t.Errorf("c.example's signature does not cover AppendSignedBytes' output %s", msg)
	}
}

// README "### signing": the snippet, as written.
func TestReadmeSnippetSigning(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	seed := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("example.org", "1").Private.Seed())
	key, _ := signing.ParseSigningKey([]byte("ed25519 1 " + seed))
	event := p.mutate(t, 10, func(m M) {
		delete(m, "hashes")
		delete(m, "signatures")
		m["sender"] = "@bob:example.org"
	})
	join := p.raw[7]
	keyRing := keyRing("example.org", "a.example", "b.example", "c.example", "d.example")
	signed, err := signing.SignEvent(v, event, "example.org", key) // as the event's origin: hashes, then signs
	if err != nil {
		t.Fatal(err)
	}
	joinSigned, err := signing.CountersignEvent(v, join, "example.org", key) // another server's event: adds our signature, nothing else
	if err != nil {
		t.Fatal(err)
	}
	id, err := signing.EventID(v, signed)
	if err != nil || !strings.HasPrefix(id, "$") {
		t.Fatalf("EventID = %q, %v", id, err)
	}
	// "adds our signature, nothing else": the event ID and the other signatures hold.
	if jid, _ := signing.EventID(v, joinSigned); jid != p.evs[7].EventID {
		t.Errorf("CountersignEvent changed the event ID")
	}
	if err := signing.VerifyEvent(v, joinSigned, keyRing); err != nil {
		t.Errorf("countersigned join: %v", err)
	}
	verdict := func(ev []byte) signing.Verdict {
		err = signing.VerifyEvent(v, ev, keyRing)
		switch signing.VerdictOf(err) {
		case signing.VerdictValid: // keep the event
		case signing.VerdictRedact: // content hash mismatch: keep the redacted form
		case signing.VerdictNeedKey: // unknown or expired key: fetch the server's keys, verify again
		case signing.VerdictReject: // drop it
		}
		return signing.VerdictOf(err)
	}
	if got := verdict(signed); got != signing.VerdictValid {
		t.Errorf("signed event: %v", got)
	}
	var m M
	json.Unmarshal(signed, &m)
	m["content"].(M)["body"] = "changed"
	if got := verdict(claimkit.Marshal(t, m)); got != signing.VerdictRedact {
		t.Errorf("content changed: %v, want redact", got)
	}
	delete(keyRing, "example.org")
	if got := verdict(signed); got != signing.VerdictNeedKey {
		t.Errorf("unknown key: %v, want need key", got)
	}
	keyRing = keyRing2(keyRing, "example.org")
	m["content"].(M)["body"] = "Hello, room!"
	m["signatures"].(M)["example.org"].(M)["ed25519:1"] = p.sig(7, "c.example")
	if got := verdict(claimkit.Marshal(t, m)); got != signing.VerdictReject {
		t.Errorf("bad signature: %v, want reject", got)
	}
	manyEvents := append(append([][]byte{}, p.raw...), signed, claimkit.Marshal(t, m))
	errs := signing.VerifyEvents(v, manyEvents, keyRing, nil) // all cores; per event exactly VerifyEvent's verdict
	for i, e := range manyEvents {
		want := signing.VerifyEvent(v, e, keyRing)
		if signing.VerdictOf(errs[i]) != signing.VerdictOf(want) || (errs[i] == nil) != (want == nil) ||
			errs[i] != nil && errs[i].Error() != want.Error() {
			t.Errorf("event %d: VerifyEvents %v, VerifyEvent %v", i, errs[i], want)
		}
	}
}

func ed25519Verify(pub ed25519.PublicKey, msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }

func keyRing2(r signing.KeyRing, servers ...string) signing.KeyRing {
	for s, k := range keyRing(servers...) {
		r[s] = k
	}
	return r
}

// README "### authrules": the snippet, as written.
func TestReadmeSnippetAuthrules(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	keyRing := keyRing("a.example", "b.example", "c.example", "d.example")
	currentStateEvents := p.state()
	byID := map[string]*pdu.Event{}
	for _, e := range p.evs {
		byID[e.EventID] = e
	}
	ev := p.evs[8] // carol's join through bob, who cannot invite
	var authEvents []*pdu.Event
	for _, id := range ev.AuthEvents {
		authEvents = append(authEvents, byID[id])
	}
	create := p.evs[0]
	stateAndAuthChain := p.evs

	state, err := authrules.NewState(v, currentStateEvents) // parse power levels, join rules… once
	if err != nil {
		t.Fatal(err)
	}
	err = state.Check(ev, keyRing) // nil, or *authrules.Rejection{Rule: "4.3.5.2", …}
	var rej *authrules.Rejection
	if !errors.As(err, &rej) || rej.Rule != "4.3.5.2" {
		t.Errorf("State.Check = %v, want rule 4.3.5.2", err)
	}
	err = authrules.Check(v, ev, authEvents, keyRing) // against the event's own auth events
	if !errors.As(err, &rej) || rej.Rule != "4.3.5.2" {
		t.Errorf("Check = %v, want rule 4.3.5.2", err)
	}
	err = authrules.CheckWithOptions(v, ev, authEvents, // v12: auth_events never list the create
		authrules.Options{Keys: keyRing, Create: create}) // event; pass it (the room ID names it)
	if !errors.As(err, &rej) || rej.Rule != "4.3.5.2" {
		t.Errorf("CheckWithOptions = %v, want rule 4.3.5.2", err)
	}
	needed, err := authrules.AuthEventsNeeded(v, ev)
	if err != nil || len(needed) == 0 {
		t.Errorf("AuthEventsNeeded = %v, %v", needed, err)
	}
	// "a send_join response, in any order"
	rev := append([]*pdu.Event{}, stateAndAuthChain...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	res, err := authrules.CheckAuthChain(v, stateAndAuthChain, nil) // a send_join response, in any order
	if err != nil {
		t.Fatal(err)
	}
	res2, err := authrules.CheckAuthChain(v, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != res2.Accepted || res.Rejected != res2.Rejected || res.Accepted != 12 {
		t.Errorf("CheckAuthChain: %d/%d accepted in order, %d reversed; want 12 (replay's count)", res.Accepted, res.Rejected, res2.Accepted)
	}
	// "State resolution is not part of roomproto ... roomversion only names each version's
	// algorithm (Version.StateRes)".
	_ = v.StateRes
}

// README "### membership": the snippet, "the example room of replay": an authoriser, and the
// *membership.Error "ready to send".
func TestReadmeSnippetMembership(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	state, err := authrules.NewState(v, p.state())
	if err != nil {
		t.Fatal(err)
	}
	d, err := membership.DecideJoin(membership.JoinRequest{ // the example room of `replay`
		State: state, UserID: "@joiner:remote.example", ResidentServer: "b.example",
		Rooms:  membership.KnownRooms{"!space:a.example": {"@joiner:remote.example": "join"}},
		Origin: "remote.example", Ver: []string{"9", "10"}, // the make_join request: its origin and ?ver=
	})
	// d.AuthorisingUser is the user to put in join_authorised_via_users_server.
	if err != nil || d.AuthorisingUser != "@mod:b.example" {
		t.Fatalf("DecideJoin = %+v, %v; want authoriser @mod:b.example", d, err)
	}
	// A refusal is a *membership.Error, ready to send: 403 M_FORBIDDEN, 400
	// M_UNABLE_TO_AUTHORISE_JOIN, M_UNABLE_TO_GRANT_JOIN, M_INCOMPATIBLE_ROOM_VERSION, or
	// M_INVALID_PARAM for a malformed request.
	for name, c := range map[string]struct {
		req    membership.JoinRequest
		status int
		code   string
	}{
		"not a member":   {membership.JoinRequest{State: state, UserID: "@joiner:remote.example", ResidentServer: "b.example", Rooms: membership.KnownRooms{"!space:a.example": {}}}, 403, "M_FORBIDDEN"},
		"room unknown":   {membership.JoinRequest{State: state, UserID: "@joiner:remote.example", ResidentServer: "b.example"}, 400, "M_UNABLE_TO_AUTHORISE_JOIN"},
		"no power":       {membership.JoinRequest{State: state, UserID: "@joiner:remote.example", ResidentServer: "z.example", Rooms: membership.KnownRooms{"!space:a.example": {"@joiner:remote.example": "join"}}}, 400, "M_UNABLE_TO_GRANT_JOIN"},
		"version":        {membership.JoinRequest{State: state, UserID: "@joiner:remote.example", ResidentServer: "b.example", Ver: []string{"10"}}, 400, "M_INCOMPATIBLE_ROOM_VERSION"},
		"malformed user": {membership.JoinRequest{State: state, UserID: "joiner", ResidentServer: "b.example"}, 400, "M_INVALID_PARAM"},
		"wrong origin":   {membership.JoinRequest{State: state, UserID: "@joiner:remote.example", ResidentServer: "b.example", Origin: "evil.example"}, 403, "M_FORBIDDEN"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := membership.DecideJoin(c.req)
			var me *membership.Error
			if !errors.As(err, &me) {
				t.Fatalf("err %v, want *membership.Error", err)
			}
			w := httptest.NewRecorder()
			w.WriteHeader(me.Status) // w: the make_join request's http.ResponseWriter
			w.Write(me.JSON())       // {"errcode":"M_FORBIDDEN","error":"..."}
			var body struct {
				ErrCode string `json:"errcode"`
				Error   string `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.ErrCode != c.code || body.Error == "" || w.Code != c.status {
				t.Errorf("%d %s, want %d %s", w.Code, w.Body, c.status, c.code)
			}
		})
	}
}

// README "### policyserver": the snippet, with its comments: Of "m.room.policy names it and it
// has a joined user"; AddSignature "checks it too".
func TestReadmeSnippetPolicyserver(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	psKey, _ := signing.NewSigningKey("policy_server", authgen.KeyFor("ps.example", "1").Private.Seed())
	policy := p.resign(t, 15, func(m M) {
		m["type"] = "m.room.policy"
		m["content"] = M{"via": "ps.example", "public_keys": M{"ed25519": base64.RawStdEncoding.EncodeToString(psKey.Public())}}
	}, "a.example")
	psJoin := p.resign(t, 1, func(m M) { m["sender"], m["state_key"] = "@policy:ps.example", "@policy:ps.example" }, "ps.example")
	psInvite := p.resign(t, 1, func(m M) {
		m["state_key"] = "@policy:ps.example"
		m["content"] = M{"membership": "invite"}
	}, "a.example")
	parse := func(b []byte) *pdu.Event {
		e, err := signing.ParseEvent(v, b)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	mk := func(extra ...[]byte) *authrules.State {
		evs := p.state()
		for _, b := range extra {
			evs = append(evs, parse(b))
		}
		s, err := authrules.NewState(v, evs)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, ok := policyserver.Of(mk()); ok {
		t.Errorf("Of: a room without m.room.policy uses a Policy Server")
	}
	if _, ok := policyserver.Of(mk(policy, psInvite)); ok {
		t.Errorf("Of: a Policy Server without a joined user is used")
	}
	currentState := mk(policy, psJoin)
	event := p.raw[10]
	ev := p.evs[10]
	ps, ok := policyserver.Of(currentState) // m.room.policy names it and it has a joined user
	if !ok {
		t.Fatal("Of: no Policy Server")
	}
	switch err := ps.Check(ev); {
	case errors.Is(err, policyserver.ErrMissingSignature), errors.Is(err, policyserver.ErrBadSignature):
		cs, err := signing.CountersignEvent(v, event, "ps.example", psKey)
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := parse(cs).Signatures.Get("ps.example", "ed25519:policy_server")
		responseBody := []byte(`{"ps.example":{"ed25519:policy_server":"` + sig + `"}}`)
		signed, err := policyserver.AddSignature(v, event, ps, responseBody) // checks it too
		if err != nil {
			t.Fatalf("AddSignature: %v", err)
		}
		if err := ps.Check(parse(signed)); err != nil {
			t.Errorf("Check after AddSignature: %v", err)
		}
		bad := []byte(`{"ps.example":{"ed25519:policy_server":"` + p.sig(10, "c.example") + `"}}`)
		if _, err := policyserver.AddSignature(v, event, ps, bad); !errors.Is(err, policyserver.ErrBadSignature) {
			t.Errorf("AddSignature of a bad signature: %v, want ErrBadSignature (\"checks it too\")", err)
		}
	default:
		t.Fatalf("Check of an unsigned message = %v, want ErrMissingSignature", err)
	}
}

// README "### serveracl": Allowed on the current state; Of, then acl.Allowed(origin).
func TestReadmeSnippetServeracl(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	acl := p.resign(t, 15, func(m M) {
		m["type"] = "m.room.server_acl"
		m["content"] = M{"allow": []any{"*"}, "deny": []any{"evil.example"}, "allow_ip_literals": false}
	}, "a.example")
	ae, err := signing.ParseEvent(v, acl)
	if err != nil {
		t.Fatal(err)
	}
	noACL, _ := authrules.NewState(v, p.state())
	currentState, _ := authrules.NewState(v, append(p.state(), ae))
	for origin, want := range map[string]bool{"good.example": true, "evil.example": false, "1.2.3.4": false, "good.example:8448": true} {
		if got := serveracl.Allowed(currentState, origin); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", origin, got, want)
		}
		a, ok := serveracl.Of(currentState) // or parse once and check many origins: acl.Allowed(origin)
		if !ok || a.Allowed(origin) != want {
			t.Errorf("Of(...).Allowed(%q) = %v, %v", origin, ok, a.Allowed(origin))
		}
		if !serveracl.Allowed(noACL, origin) {
			t.Errorf("no ACL denies %q", origin)
		}
	}
}

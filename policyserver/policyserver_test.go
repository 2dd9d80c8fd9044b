package policyserver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// Test servers: the room is created on a.example; @bob:b.example sends the events checked;
// policy.example is the Policy Server, whose user is @ps:policy.example.
const (
	creator  = "@alice:a.example"
	sender   = "@bob:b.example"
	psServer = "policy.example"
	psUser   = "@ps:policy.example"
)

// serverKey is the published signing key of a server (version "1", seed sha256 of its name).
func serverKey(t testing.TB, server string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// policyKey is a key of version "policy_server" made from seed; "room policy key" is the one
// the room's m.room.policy event names.
func policyKey(t testing.TB, seed string) signing.SigningKey {
	s := sha256.Sum256([]byte(seed))
	k, err := signing.NewSigningKey(policyserver.KeyVersion, s[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// roomKey is the Policy Server key of the test room.
func roomKey(t testing.TB) signing.SigningKey { return policyKey(t, "room policy key") }

// room builds signed events of one room of version v.
type room struct {
	t      testing.TB
	v      roomversion.Version
	roomID string
	events []*pdu.Event
	n      int
}

func newRoom(t testing.TB, version string) *room {
	v, err := roomversion.Lookup(version)
	if err != nil {
		t.Fatal(err)
	}
	r := &room{t: t, v: v, roomID: "!room:a.example"}
	create := r.add("m.room.create", ptr(""), creator, fmt.Sprintf(`{"creator":%q,"room_version":%q}`, creator, version))
	if v.Format.RoomIDFromCreateEvent {
		r.roomID = create.Room()
	}
	r.add("m.room.member", ptr(creator), creator, `{"membership":"join"}`)
	r.add("m.room.member", ptr(sender), sender, `{"membership":"join"}`)
	return r
}

func ptr(s string) *string { return &s }

// raw returns the signed JSON of a new event of the room, signed by its sender's server.
func (r *room) raw(typ string, stateKey *string, from, content string) []byte {
	r.n++
	server, _ := signing.ServerName(from)
	fields := map[string]any{
		"type": typ, "sender": from, "content": json.RawMessage(content),
		"depth": r.n, "origin_server_ts": 1700000000000 + r.n,
		"prev_events": []any{}, "auth_events": []any{},
	}
	if stateKey != nil {
		fields["state_key"] = *stateKey
	}
	isCreate := typ == "m.room.create" && stateKey != nil && *stateKey == ""
	if !(r.v.Format.RoomIDFromCreateEvent && isCreate) {
		fields["room_id"] = r.roomID
	}
	if r.v.Format.HasEventIDField {
		fields["event_id"] = fmt.Sprintf("$e%d:%s", r.n, server)
		// v1-2 reference lists are [id, hashes] pairs; empty ones do here.
	}
	data, err := json.Marshal(fields)
	if err != nil {
		r.t.Fatal(err)
	}
	signed, err := signing.SignEvent(r.v, data, server, serverKey(r.t, server))
	if err != nil {
		r.t.Fatal(err)
	}
	return signed
}

// parse parses a signed event of the room, with its event ID.
func (r *room) parse(data []byte) *pdu.Event {
	ev, err := signing.ParseEvent(r.v, data)
	if err != nil {
		r.t.Fatalf("%v\n%s", err, data)
	}
	return ev
}

// add makes a state event of the room and keeps it as state.
func (r *room) add(typ string, stateKey *string, from, content string) *pdu.Event {
	ev := r.parse(r.raw(typ, stateKey, from, content))
	r.events = append(r.events, ev)
	return ev
}

func (r *room) state() *authrules.State {
	s, err := authrules.NewState(r.v, r.events)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// editJSON decodes an event, lets edit change it and encodes it again.
func editJSON(t testing.TB, data []byte, edit func(m map[string]any)) []byte {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addPolicySignature adds the Policy Server's signature by key to the signed event raw, beside
// the signatures already there (CountersignEvent alone would replace those of policy.example,
// which the Policy Server has when it also sends the event), as a homeserver does with the
// answer of POST /_matrix/policy/v1/sign.
func addPolicySignature(t testing.TB, v roomversion.Version, raw []byte, key signing.SigningKey) ([]byte, error) {
	countersigned, err := signing.CountersignEvent(v, raw, psServer, key)
	if err != nil {
		return nil, err
	}
	sig := policySignatureOf(t, countersigned)
	return editJSON(t, raw, func(m map[string]any) {
		sigs := m["signatures"].(map[string]any)
		if sigs[psServer] == nil {
			sigs[psServer] = map[string]any{}
		}
		sigs[psServer].(map[string]any)[policyserver.KeyID] = sig
	}), nil
}

// policySignatureOf returns the Policy Server's signature (policy.example, ed25519:policy_server)
// in a signed event.
func policySignatureOf(t testing.TB, signed []byte) string {
	var sig string
	editJSON(t, signed, func(m map[string]any) {
		sig, _ = m["signatures"].(map[string]any)[psServer].(map[string]any)[policyserver.KeyID].(string)
	})
	if sig == "" {
		t.Fatalf("no policy signature in %s", signed)
	}
	return sig
}

type checkCase struct {
	Name         string          `json:"name"`
	Spec         string          `json:"spec"`
	RoomVersion  string          `json:"room_version"`
	Policy       json.RawMessage `json:"policy"`        // absent: a valid policy naming policy.example; null: none
	PSMembership *string         `json:"ps_membership"` // absent: "join"; "": no member event for @ps
	ExtraJoined  string          `json:"extra_joined"`  // another user who joins
	Event        *struct {
		Type     string          `json:"type"`
		StateKey *string         `json:"state_key"`
		Sender   string          `json:"sender"`
		Content  json.RawMessage `json:"content"`
	} `json:"event"` // absent: a message from @bob:b.example
	Sign   string `json:"sign"`   // how the Policy Server signed the event
	Tamper string `json:"tamper"` // a field changed after signing
	Expect string `json:"expect"` // not-in-use, recommended, missing, bad, invalid-key
}

// TestCheckFixtures runs testdata/policyserver/check.json: each case builds a room, signs an
// event the way the case says, and checks Of, Check and Server.Check against the exact
// expected outcome (and that signing.VerifyEvent, with the servers' published keys, is not
// disturbed by a Policy Server signature).
func TestCheckFixtures(t *testing.T) {
	data, err := os.ReadFile("../testdata/policyserver/check.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []checkCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	key := roomKey(t)
	pub := base64.RawStdEncoding.EncodeToString(key.Public())
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			version := tc.RoomVersion
			if version == "" {
				version = "10"
			}
			r := newRoom(t, version)
			if tc.PSMembership == nil {
				tc.PSMembership = ptr("join")
			}
			if *tc.PSMembership != "" {
				r.add("m.room.member", ptr(psUser), psUser, fmt.Sprintf(`{"membership":%q}`, *tc.PSMembership))
			}
			if tc.ExtraJoined != "" {
				r.add("m.room.member", ptr(tc.ExtraJoined), tc.ExtraJoined, `{"membership":"join"}`)
			}
			policy := string(tc.Policy)
			if tc.Policy == nil {
				policy = `{"via":"policy.example","public_keys":{"ed25519":"$POLICY_KEY"}}`
			}
			if policy != "null" {
				r.add(policyserver.EventType, ptr(""), creator, strings.ReplaceAll(policy, "$POLICY_KEY", pub))
			}
			state := r.state()

			typ, stateKey, from, content := "m.room.message", (*string)(nil), sender, `{"msgtype":"m.text","body":"hello"}`
			if e := tc.Event; e != nil {
				typ, stateKey, content = e.Type, e.StateKey, string(e.Content)
				if e.Sender != "" {
					from = e.Sender
				}
			}
			raw := r.raw(typ, stateKey, from, content)
			var err error
			switch tc.Sign {
			case "none":
			case "policy":
				raw, err = addPolicySignature(t, r.v, raw, key)
			case "published":
				raw, err = signing.CountersignEvent(r.v, raw, psServer, serverKey(t, psServer))
			case "other-server":
				raw, err = signing.CountersignEvent(r.v, raw, "other.example", key)
			case "wrong-key":
				raw, err = signing.CountersignEvent(r.v, raw, psServer, policyKey(t, "another key"))
			case "garbage":
				raw, err = addPolicySignature(t, r.v, raw, key)
				raw = editJSON(t, raw, func(m map[string]any) {
					m["signatures"].(map[string]any)[psServer].(map[string]any)[policyserver.KeyID] = "!!not base64!!"
				})
			default:
				t.Fatalf("unknown sign %q", tc.Sign)
			}
			if err != nil {
				t.Fatal(err)
			}
			switch tc.Tamper {
			case "":
			case "origin_server_ts":
				raw = editJSON(t, raw, func(m map[string]any) { m["origin_server_ts"] = json.Number("1") })
			case "content":
				raw = editJSON(t, raw, func(m map[string]any) { m["content"].(map[string]any)["body"] = "changed" })
			default:
				t.Fatalf("unknown tamper %q", tc.Tamper)
			}
			ev := r.parse(raw)

			ps, inUse := policyserver.Of(state)
			got := policyserver.Check(state, ev)
			switch tc.Expect {
			case "not-in-use":
				if inUse || ps != (policyserver.Server{}) {
					t.Fatalf("Of = %+v, %v; want no Policy Server", ps, inUse)
				}
				if got != nil {
					t.Fatalf("Check = %v, want nil", got)
				}
				return
			case "recommended":
				if got != nil {
					t.Fatalf("Check = %v, want nil", got)
				}
			case "missing", "bad", "invalid-key":
				want := map[string]error{"missing": policyserver.ErrMissingSignature, "bad": policyserver.ErrBadSignature,
					"invalid-key": policyserver.ErrInvalidKey}[tc.Expect]
				var pe *policyserver.Error
				if !errors.As(got, &pe) || pe.Err != want || pe.Server != psServer || pe.EventID != ev.EventID || !errors.Is(got, want) {
					t.Fatalf("Check = %#v (%v), want an *Error with %v from %s on %s", got, got, want, psServer, ev.EventID)
				}
			default:
				t.Fatalf("unknown expect %q", tc.Expect)
			}
			if !inUse || ps.Name != psServer {
				t.Fatalf("Of = %+v, %v; want %s", ps, inUse, psServer)
			}
			if again := ps.Check(ev); fmt.Sprint(again) != fmt.Sprint(got) {
				t.Fatalf("Server.Check = %v, Check = %v", again, got)
			}

			// The servers' published keys verify the event whatever the Policy Server signed:
			// its key is not published, so VerifyEvent skips it (server-server-api "Validating
			// hashes and signatures on received events").
			keys := signing.KeyRing{}
			for _, s := range []string{"a.example", "b.example", psServer} {
				keys[s] = map[string]signing.PublicKey{"ed25519:1": {Key: serverKey(t, s).Public()}}
			}
			verr := signing.VerifyEvent(r.v, raw, keys)
			switch tc.Tamper {
			case "":
				if verr != nil {
					t.Fatalf("VerifyEvent = %v", verr)
				}
			case "content":
				if !errors.Is(verr, signing.ErrContentHashMismatch) {
					t.Fatalf("VerifyEvent = %v, want a content hash mismatch", verr)
				}
			default:
				if !errors.Is(verr, signing.ErrBadSignature) {
					t.Fatalf("VerifyEvent = %v, want a bad signature", verr)
				}
			}
		})
	}
}

// TestOfReadsCurrentState: the Policy Server stops counting once its last user leaves, and the
// room can turn it off by emptying the m.room.policy content; both through State.Apply.
func TestOfReadsCurrentState(t *testing.T) {
	r := newRoom(t, "10")
	r.add("m.room.member", ptr(psUser), psUser, `{"membership":"join"}`)
	pub := base64.RawStdEncoding.EncodeToString(roomKey(t).Public())
	r.add(policyserver.EventType, ptr(""), creator, fmt.Sprintf(`{"via":"policy.example","public_keys":{"ed25519":%q}}`, pub))
	s := r.state()
	if ps, ok := policyserver.Of(s); !ok || ps != (policyserver.Server{Name: psServer, PublicKey: pub}) {
		t.Fatalf("Of = %+v, %v", ps, ok)
	}
	leave := r.parse(r.raw("m.room.member", ptr(psUser), psUser, `{"membership":"leave"}`))
	if err := s.Apply(leave); err != nil {
		t.Fatal(err)
	}
	if ps, ok := policyserver.Of(s); ok {
		t.Fatalf("after the leave: Of = %+v, true", ps)
	}
	join := r.parse(r.raw("m.room.member", ptr(psUser), psUser, `{"membership":"join"}`))
	if err := s.Apply(join); err != nil {
		t.Fatal(err)
	}
	if _, ok := policyserver.Of(s); !ok {
		t.Fatal("after the join: no Policy Server")
	}
	off := r.parse(r.raw(policyserver.EventType, ptr(""), creator, `{}`))
	if err := policyserver.Check(s, off); err != nil {
		t.Fatalf("the unsigned m.room.policy event that turns it off: %v", err)
	}
	if err := s.Apply(off); err != nil {
		t.Fatal(err)
	}
	if ps, ok := policyserver.Of(s); ok {
		t.Fatalf("after emptying m.room.policy: Of = %+v, true", ps)
	}
}

// TestNil: no state, no event: no panic.
func TestNil(t *testing.T) {
	if ps, ok := policyserver.Of(nil); ok || ps != (policyserver.Server{}) {
		t.Errorf("Of(nil) = %+v, %v", ps, ok)
	}
	if err := policyserver.Check(nil, nil); err != nil {
		t.Errorf("Check(nil, nil) = %v", err)
	}
	ps := policyserver.Server{Name: psServer, PublicKey: "x"}
	if err := ps.Check(nil); !errors.Is(err, policyserver.ErrMissingSignature) {
		t.Errorf("Server.Check(nil) = %v", err)
	}
	if policyserver.Exempt(nil) {
		t.Error("Exempt(nil)")
	}
}

// TestViaMustBeAServerName: a `via` that is not a server name names no server, even when a
// joined user's ID has that text after its first ':' (docs/decisions.md (policy servers) 1).
func TestViaMustBeAServerName(t *testing.T) {
	for _, via := range []string{"policy_example", "policy example", ""} {
		r := newRoom(t, "10")
		user := "@ps:" + via
		ev := r.parse(editJSON(t, r.raw("m.room.member", ptr(psUser), psUser, `{"membership":"join"}`), func(m map[string]any) {
			m["state_key"], m["sender"] = user, user
		}))
		r.events = append(r.events, ev)
		pub := base64.RawStdEncoding.EncodeToString(roomKey(t).Public())
		r.add(policyserver.EventType, ptr(""), creator, fmt.Sprintf(`{"via":%q,"public_keys":{"ed25519":%q}}`, via, pub))
		s := r.state()
		if got := s.Membership(user); got != pdu.MembershipJoin {
			t.Fatalf("%q: membership %q", user, got)
		}
		if ps, ok := policyserver.Of(s); ok {
			t.Errorf("via %q: Of = %+v, true", via, ps)
		}
	}
}

// TestErrorText pins the message format and Unwrap of *Error.
func TestErrorText(t *testing.T) {
	cause := errors.New("cause")
	cases := []struct {
		err  *policyserver.Error
		want string
	}{
		{&policyserver.Error{Server: "p.example", Err: policyserver.ErrMissingSignature},
			"policyserver: no Policy Server signature (policy server p.example)"},
		{&policyserver.Error{Server: "p.example", EventID: "$x", Err: policyserver.ErrBadSignature, Detail: "d", Cause: cause},
			"policyserver: invalid Policy Server signature (policy server p.example) on $x: d"},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
		if !errors.Is(c.err, c.err.Err) || (c.err.Cause != nil) != errors.Is(c.err, cause) {
			t.Errorf("Unwrap of %q", c.want)
		}
	}
}

// FuzzPolicyContent: whatever the content of the m.room.policy event and whatever the
// Policy Server signature on an event, Of and Check neither panic nor disagree: Check is nil
// when Of finds no Policy Server, and otherwise an *Error with one of the sentinels or nil.
func FuzzPolicyContent(f *testing.F) {
	r := newRoom(f, "10")
	r.add("m.room.member", ptr(psUser), psUser, `{"membership":"join"}`)
	key := roomKey(f)
	pub := base64.RawStdEncoding.EncodeToString(key.Public())
	msg := r.raw("m.room.message", nil, sender, `{"body":"hi"}`)
	signed, err := addPolicySignature(f, r.v, msg, key)
	if err != nil {
		f.Fatal(err)
	}
	sig := policySignatureOf(f, signed)
	f.Add([]byte(`{"via":"policy.example","public_keys":{"ed25519":"`+pub+`"}}`), sig)
	f.Add([]byte(`{"via":"policy.example","public_keys":{"ed25519":"`+pub+`"}}`), "")
	f.Add([]byte(`{"via":"policy.example:8448","public_keys":{"ed25519":"`+pub+`="}}`), sig+"=")
	f.Add([]byte(`{"via":"[::1]","public_keys":{"ed25519":"x"}}`), "x")
	f.Add([]byte(`{"via":"policy.example","public_keys":{"\u0065d25519":"`+pub+`"}}`), sig)
	f.Add([]byte(`{}`), "")
	f.Fuzz(func(t *testing.T, content []byte, signature string) {
		policyRaw := append(append([]byte(`{"type":"m.room.policy","state_key":"","sender":"@alice:a.example","room_id":"!room:a.example",`+
			`"depth":9,"origin_server_ts":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{},"content":`), content...), '}')
		policy, err := pdu.Parse(r.v, policyRaw)
		if err != nil {
			return
		}
		s, err := authrules.NewState(r.v, append(append([]*pdu.Event{}, r.events...), policy))
		if err != nil {
			t.Fatal(err)
		}
		ev := r.parse(editJSON(t, signed, func(m map[string]any) {
			m["signatures"].(map[string]any)[psServer].(map[string]any)[policyserver.KeyID] = signature
		}))
		ps, inUse := policyserver.Of(s)
		got := policyserver.Check(s, ev)
		if !inUse {
			if got != nil || ps != (policyserver.Server{}) {
				t.Fatalf("no Policy Server, but Of = %+v and Check = %v", ps, got)
			}
			return
		}
		switch ps.Name {
		case "a.example", "b.example", psServer: // the servers with a joined user
		default:
			t.Fatalf("Of = %+v, but %s has no joined user", ps, ps.Name)
		}
		var pe *policyserver.Error
		if got != nil && (!errors.As(got, &pe) || (pe.Err != policyserver.ErrMissingSignature && pe.Err != policyserver.ErrBadSignature && pe.Err != policyserver.ErrInvalidKey)) {
			t.Fatalf("Check = %v", got)
		}
		if got == nil {
			// Only the Policy Server's signature verifies (written in any base64 the signing
			// package reads), only under its name, and only with its key.
			norm := strings.TrimRight(strings.NewReplacer("-", "+", "_", "/").Replace(signature), "=")
			dec, err := base64.RawStdEncoding.DecodeString(norm)
			want, _ := base64.RawStdEncoding.DecodeString(sig)
			pk, kerr := signing.DecodePublicKey(ps.PublicKey)
			if err != nil || !bytes.Equal(dec, want) || ps.Name != psServer || kerr != nil || !bytes.Equal(pk, key.Public()) {
				t.Fatalf("Check = nil with %+v and signature %q", ps, signature)
			}
		}
	})
}

// TestAddSignature: the answer of /sign is added beside the signatures already there (the
// Policy Server's own published-key signature when it sends the event too), the result is
// canonical and recommended, and refusals, bad signatures and malformed input are told apart.
func TestAddSignature(t *testing.T) {
	for _, version := range []string{"1", "10", "12"} {
		t.Run("v"+version, func(t *testing.T) {
			r := newRoom(t, version)
			key := roomKey(t)
			ps := policyserver.Server{Name: psServer, PublicKey: base64.RawStdEncoding.EncodeToString(key.Public())}
			// The Policy Server sends an event itself: its published key has signed it already.
			raw := r.raw("m.room.message", nil, psUser, `{"body":"<b>&</b>","n":9007199254740991}`)
			signedByPS, err := addPolicySignature(t, r.v, raw, key)
			if err != nil {
				t.Fatal(err)
			}
			sig := policySignatureOf(t, signedByPS)
			response := []byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, sig))
			out, err := policyserver.AddSignature(r.v, raw, ps, response)
			if err != nil {
				t.Fatal(err)
			}
			want := r.parse(signedByPS).Raw()
			if !bytes.Equal(out, want) {
				t.Fatalf("AddSignature:\n%s\nwant\n%s", out, want)
			}
			ev := r.parse(out)
			if len(ev.Signatures.Server(psServer)) != 2 {
				t.Fatalf("signatures %v", ev.Signatures)
			}
			keys := signing.KeyRing{psServer: {"ed25519:1": {Key: serverKey(t, psServer).Public()}}}
			if err := signing.VerifyEvent(r.v, out, keys); err != nil {
				t.Fatalf("VerifyEvent: %v", err)
			}

			wrong, err := addPolicySignature(t, r.v, raw, policyKey(t, "another key"))
			if err != nil {
				t.Fatal(err)
			}
			wrongSig := policySignatureOf(t, wrong)
			cases := []struct {
				name            string
				event, response string
				want            error
			}{
				{"refused", string(raw), `{}`, policyserver.ErrMissingSignature},
				{"another server's signature", string(raw), fmt.Sprintf(`{"other.example":{%q:%q}}`, policyserver.KeyID, sig), policyserver.ErrMissingSignature},
				{"another key ID", string(raw), fmt.Sprintf(`{%q:{"ed25519:1":%q}}`, psServer, sig), policyserver.ErrMissingSignature},
				{"not a string", string(raw), fmt.Sprintf(`{%q:{%q:1}}`, psServer, policyserver.KeyID), policyserver.ErrMalformed},
				{"server entry not an object", string(raw), fmt.Sprintf(`{%q:null}`, psServer), policyserver.ErrMalformed},
				{"signature longer than any", string(raw), fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, strings.Repeat("A", 89)), policyserver.ErrBadSignature},
				{"malformed event, refusal", `{`, `{}`, policyserver.ErrMalformed},
				{"wrong key", string(raw), fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, wrongSig), policyserver.ErrBadSignature},
				{"response not JSON", string(raw), `{`, policyserver.ErrMalformed},
				{"response not an object", string(raw), `[]`, policyserver.ErrMalformed},
				{"event not JSON", `{`, string(response), policyserver.ErrMalformed},
				{"event not an object", `[]`, string(response), policyserver.ErrMalformed},
				{"signatures not an object of objects", strings.Replace(string(raw), `"signatures":{`, `"signatures":{"x":1,`, 1), string(response), policyserver.ErrMalformed},
				{"event of another format", `{"type":"m.room.message"}`, string(response), policyserver.ErrMalformed},
			}
			for _, c := range cases {
				_, err := policyserver.AddSignature(r.v, []byte(c.event), ps, []byte(c.response))
				var pe *policyserver.Error
				if !errors.As(err, &pe) || pe.Err != c.want {
					t.Errorf("%s: %v, want %v", c.name, err, c.want)
				}
			}
			// No name, no server.
			if _, err := policyserver.AddSignature(r.v, raw, policyserver.Server{PublicKey: ps.PublicKey}, response); !errors.Is(err, policyserver.ErrMalformed) {
				t.Errorf("empty server name: %v", err)
			}
			// The exempt m.room.policy event still gets only a valid signature.
			policy := r.raw(policyserver.EventType, ptr(""), creator, `{}`)
			if _, err := policyserver.AddSignature(r.v, policy, ps, []byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, wrongSig))); !errors.Is(err, policyserver.ErrBadSignature) {
				t.Errorf("exempt event, wrong signature: %v", err)
			}
			// A stale signature under the key ID is replaced.
			again, err := policyserver.AddSignature(r.v, out, ps, response)
			if err != nil || !bytes.Equal(again, out) {
				t.Errorf("adding the same signature again: %v\n%s", err, again)
			}
			if _, err := policyserver.AddSignature(r.v, wrong, ps, response); err != nil {
				t.Errorf("replacing a bad signature: %v", err)
			}
		})
	}
}

// TestAddSignatureKeepsTheBytes: in room versions 1-5, where canonical JSON keeps unpaired
// surrogate escapes, large integers and floats, the event comes back byte for byte but for the
// new signature: same event ID, same content hash, the other signatures intact (a first
// version decoded keys with encoding/json, which turned \ud800 into U+FFFD: review remark).
func TestAddSignatureKeepsTheBytes(t *testing.T) {
	for _, version := range []string{"1", "3", "5"} {
		r := newRoom(t, version)
		key := roomKey(t)
		ps := policyserver.Server{Name: psServer, PublicKey: base64.RawStdEncoding.EncodeToString(key.Public())}
		raw := r.raw("m.room.message", nil, sender, `{"body":"x\ud800y","big":123456789012345678901234567890,"f":1.5,"<&>":"\u2028"}`)
		raw = bytes.Replace(raw, []byte(`"signatures":{`), []byte(`"x\ud800":1,"signatures":{"z\ud800":{"ed25519:1":"a"},"z\udc00":{"ed25519:1":"b"},`), 1)
		signed, err := addPolicySignature(t, r.v, raw, key)
		if err != nil {
			t.Fatal(err)
		}
		sig := policySignatureOf(t, signed)
		out, err := policyserver.AddSignature(r.v, raw, ps, []byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, sig)))
		if err != nil {
			t.Fatalf("v%s: %v", version, err)
		}
		for _, want := range []string{`"x\ud800":1`, `"z\ud800":{"ed25519:1":"a"}`, `"z\udc00":{"ed25519:1":"b"}`, `"body":"x\ud800y"`, `123456789012345678901234567890`} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("v%s: %s lost:\n%s", version, want, out)
			}
		}
		idIn, _ := signing.EventID(r.v, raw)
		idOut, _ := signing.EventID(r.v, out)
		hIn, _ := signing.ContentHash(r.v, raw)
		hOut, _ := signing.ContentHash(r.v, out)
		if idIn != idOut || hIn != hOut {
			t.Errorf("v%s: event ID %s → %s, content hash changed: %v", version, idIn, idOut, hIn != hOut)
		}
		// The members added after the sender signed break the content hash (not the
		// signature): the same verdict, before and after.
		keys := signing.KeyRing{"b.example": {"ed25519:1": {Key: serverKey(t, "b.example").Public()}}}
		before, after := signing.VerifyEvent(r.v, raw, keys), signing.VerifyEvent(r.v, out, keys)
		if !errors.Is(before, signing.ErrContentHashMismatch) || fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("v%s: VerifyEvent %v, then %v", version, before, after)
		}
	}
}

// FuzzAddSignature: whatever the event and the response, in a strict (v10) or a lenient (v5)
// room, AddSignature neither panics nor returns an event that is not canonical and recommended,
// or whose event ID or content hash differs from the input's.
func FuzzAddSignature(f *testing.F) {
	key := roomKey(f)
	ps := policyserver.Server{Name: psServer, PublicKey: base64.RawStdEncoding.EncodeToString(key.Public())}
	rooms := []*room{newRoom(f, "10"), newRoom(f, "5")}
	for _, r := range rooms {
		raw := r.raw("m.room.message", nil, sender, `{"body":"hi"}`)
		signed, err := addPolicySignature(f, r.v, raw, key)
		if err != nil {
			f.Fatal(err)
		}
		sig := policySignatureOf(f, signed)
		lenient := r.v.ID == "5"
		f.Add(lenient, raw, []byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, sig)))
		f.Add(lenient, raw, []byte(`{}`))
		f.Add(lenient, signed, []byte(fmt.Sprintf(`{%q:{%q:%q},"x":[]}`, psServer, policyserver.KeyID, sig)))
		f.Add(lenient, bytes.Replace(raw, []byte(`"signatures":{`), []byte(`"x\ud800":1.5e3,"signatures":{"z\udc00":{},`), 1),
			[]byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, sig)))
	}
	f.Fuzz(func(t *testing.T, lenient bool, event, response []byte) {
		r := rooms[0]
		if lenient {
			r = rooms[1]
		}
		out, err := policyserver.AddSignature(r.v, event, ps, response)
		if err != nil {
			var pe *policyserver.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		ev, perr := signing.ParseEvent(r.v, out)
		if perr != nil || !bytes.Equal(ev.Raw(), out) {
			t.Fatalf("output is not a canonical event: %v\n%s", perr, out)
		}
		if err := ps.Check(ev); err != nil {
			t.Fatalf("output not recommended: %v", err)
		}
		idIn, err1 := signing.EventID(r.v, event)
		idOut, err2 := signing.EventID(r.v, out)
		hIn, err3 := signing.ContentHash(r.v, event)
		hOut, err4 := signing.ContentHash(r.v, out)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || idIn != idOut || hIn != hOut {
			t.Fatalf("the event changed: %s → %s, hashes equal %v (%v %v %v %v)", idIn, idOut, hIn == hOut, err1, err2, err3, err4)
		}
	})
}

// TestCheckRefusesAnotherRoomOrVersion: Check answers for the state's room only: an event of
// another room, or parsed for another room version, is refused with ErrMalformed, whether or
// not the room uses a Policy Server (docs/decisions.md, authrules "Events of another room
// against a State"; tools/misuse M10).
func TestCheckRefusesAnotherRoomOrVersion(t *testing.T) {
	r := newRoom(t, "10")
	s := r.state()
	msg := r.parse(r.raw("m.room.message", nil, sender, `{"body":"hi"}`))
	if err := policyserver.Check(s, msg); err != nil {
		t.Fatalf("an event of the room, no Policy Server: %v", err)
	}
	other := newRoom(t, "10")
	other.roomID = "!other:a.example"
	elsewhere := other.parse(other.raw("m.room.message", nil, sender, `{"body":"hi"}`))
	r9 := newRoom(t, "9")
	v9 := r9.parse(r9.raw("m.room.message", nil, sender, `{"body":"hi"}`))
	for name, ev := range map[string]*pdu.Event{"another room": elsewhere, "another room version": v9} {
		err := policyserver.Check(s, ev)
		var pe *policyserver.Error
		if !errors.As(err, &pe) || !errors.Is(err, policyserver.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestCountersignEvent: CountersignEvent adds one signature and changes nothing else. The
// events carry two hash algorithms, which SignEvent would have replaced by sha256 alone.
func TestCountersignEvent(t *testing.T) {
	for _, id := range []string{"1", "3", "5", "9", "11", "12"} {
		t.Run("v"+id, func(t *testing.T) {
			v := version(t, id)
			event := []byte(`{"room_id":"!r:a.example","sender":"@alice:a.example","type":"m.room.member","state_key":"@bob:b.example",
				"content":{"membership":"invite","displayname":"Bob"},"origin_server_ts":1700000000000,"depth":3,"prev_events":[],
				"auth_events":[],"origin":"a.example","unsigned":{"age_ts":5}}`)
			if v.Format.HasEventIDField {
				event = setFields(t, event, map[string]json.RawMessage{"event_id": json.RawMessage(`"$inv:a.example"`)})
			}
			sum, err := ContentHash(v, event)
			if err != nil {
				t.Fatal(err)
			}
			hashes := `{"sha256":"` + encodeBase64(sum[:]) + `","sha512":"AAAA"}`
			event = setFields(t, event, map[string]json.RawMessage{"hashes": json.RawMessage(hashes)})
			event = signKeepingHashes(t, v, event, "a.example")
			before, err := pdu.Parse(v, event)
			if err != nil {
				t.Fatal(err)
			}

			_, key := testKey(t, "b.example")
			out, err := CountersignEvent(v, event, "b.example", key)
			if err != nil {
				t.Fatal(err)
			}
			if err := canonicaljson.Valid(out, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}); err != nil {
				t.Fatal(err)
			}
			if got, _ := canonicaljson.Canonical(out); !bytes.Equal(got, out) {
				t.Fatalf("not canonical: %s", out)
			}
			after, err := pdu.Parse(v, out)
			if err != nil {
				t.Fatal(err)
			}
			if after.EventID != before.EventID {
				t.Fatalf("event ID %s, was %s", after.EventID, before.EventID)
			}
			if string(field(t, out, "hashes")) != hashes {
				t.Fatalf("hashes %s, want %s", field(t, out, "hashes"), hashes)
			}
			if string(field(t, out, "unsigned")) != `{"age_ts":5}` {
				t.Fatalf("unsigned %s", field(t, out, "unsigned"))
			}
			a := setFields(t, event, map[string]json.RawMessage{"signatures": json.RawMessage(`{}`)})
			b := setFields(t, out, map[string]json.RawMessage{"signatures": json.RawMessage(`{}`)})
			if !sameJSON(t, a, b) {
				t.Fatalf("changed beyond its signatures:\n%s\n%s", a, b)
			}
			keys := KeyRing{
				"a.example": {"ed25519:1": {Key: testPublic(t, "a.example")}},
				"b.example": {"ed25519:1": {Key: testPublic(t, "b.example")}},
			}
			for _, server := range []string{"a.example", "b.example"} {
				if err := VerifyEventSignature(after, server, keys); err != nil {
					t.Fatalf("%s: %v", server, err)
				}
			}
			if err := VerifyParsedEvent(after, keys); err != nil {
				t.Fatal(err)
			}
			// Countersigning again with the same key gives the same bytes.
			again, err := CountersignEvent(v, out, "b.example", key)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("second countersignature changed the event (%v)", err)
			}
		})
	}
}

func TestCountersignEventErrors(t *testing.T) {
	v9, v1 := version(t, "9"), version(t, "1")
	_, key := testKey(t, "b.example")
	cases := []struct {
		name  string
		event string
		key   SigningKey
		want  error
	}{
		{"not JSON", `{"type":`, key, ErrMalformed},
		{"not an object", `[1]`, key, ErrMalformed},
		{"a float in v9", `{"type":"m.room.message","depth":1.5}`, key, ErrMalformed},
		{"signatures not an object", `{"type":"m.room.message","signatures":[]}`, key, ErrMalformed},
		{"no private key", `{"type":"m.room.message"}`, SigningKey{Version: "1"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CountersignEvent(v9, []byte(c.event), "b.example", c.key)
			if c.want == nil {
				var ke *KeyError
				if !errors.As(err, &ke) {
					t.Fatalf("got %v, want a *KeyError", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// Lenient versions take what they tolerate.
	if _, err := CountersignEvent(v1, []byte(`{"type":"m.room.message","depth":1.5}`), "b.example", key); err != nil {
		t.Fatalf("v1: %v", err)
	}
}

// FuzzCountersignEvent: CountersignEvent never panics; when it succeeds its output is
// canonical, equal to the input's canonical form but for `signatures`, and carries a
// signature of the redacted form that verifies.
func FuzzCountersignEvent(f *testing.F) {
	key, keys := fuzzSignerSetup(f)
	f.Fuzz(func(t *testing.T, vb byte, data []byte) {
		v, out, ok := fuzzSignerOutput(t, CountersignEvent, key, vb, data)
		if !ok {
			return
		}
		canon, err := canonicaljson.Append(nil, data, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
		if err != nil {
			t.Fatalf("accepted input that is not canonicalisable: %v", err)
		}
		a, _, err1 := appendStripped(nil, canon, dropSignatures)
		b, _, err2 := appendStripped(nil, out, dropSignatures)
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Fatalf("changed beyond its signatures (%v, %v):\n%s\n%s", err1, err2, a, b)
		}
		// Every other member of `signatures` is kept as it is; b.example's entry is replaced,
		// but for its Policy Server signature.
		want := signatureMembers(t, data)
		got := signatureMembers(t, out)
		ps, hasPS := want["b.example"]["ed25519:policy_server"]
		want["b.example"] = map[string]string{"ed25519:1": got["b.example"]["ed25519:1"]}
		if hasPS {
			want["b.example"]["ed25519:policy_server"] = ps
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("signatures changed:\n%v\n%v", want, got)
		}
		fuzzSignatureVerifies(t, v, out, keys)
	})
}

// fuzzSignerSetup adds the fuzz seeds (a room version byte and an event) and returns
// b.example's signing key and a key ring holding its public key, for FuzzSignEvent and
// FuzzCountersignEvent.
func fuzzSignerSetup(f *testing.F) (SigningKey, KeyRing) {
	for i, s := range fuzzSeeds(f) {
		f.Add(byte(i), s)
	}
	_, key := testKey(f, "b.example")
	return key, KeyRing{"b.example": {"ed25519:1": {Key: key.Public()}}}
}

// fuzzSignerOutput signs data as b.example with sign (SignEvent or CountersignEvent) under
// the room version vb picks, and checks what both promise of any input: a refusal matches
// ErrMalformed, and an output is canonical JSON. ok is false when sign refused the input.
func fuzzSignerOutput(t *testing.T, sign func(roomversion.Version, []byte, string, SigningKey) ([]byte, error),
	key SigningKey, vb byte, data []byte) (v roomversion.Version, out []byte, ok bool) {
	t.Helper()
	v = fuzzVersion(vb)
	out, err := sign(v, data, "b.example", key)
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("error without ErrMalformed: %v", err)
		}
		return v, nil, false
	}
	strict := canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}
	if again, err := canonicaljson.Append(nil, out, strict); err != nil || !bytes.Equal(again, out) {
		t.Fatalf("output not canonical (%v): %s", err, out)
	}
	return v, out, true
}

// fuzzSignatureVerifies checks, when out parses as an event of v, that b.example's signature
// of it verifies with keys.
func fuzzSignatureVerifies(t *testing.T, v roomversion.Version, out []byte, keys KeyRing) {
	t.Helper()
	if ev, err := pdu.Parse(v, out); err == nil {
		if err := VerifyEventSignature(ev, "b.example", keys); err != nil {
			t.Fatalf("b.example's signature does not verify: %v", err)
		}
	}
}

// TestCountersignEventReplacesOwnSignatures: signatures already under the countersigning
// server (here a bogus one under another of its key IDs, which a joining server could add) are
// replaced, so that a receiver knowing that key does not reject the event for it; the origin's
// signatures stay.
func TestCountersignEventReplacesOwnSignatures(t *testing.T) {
	v := version(t, "9")
	event := []byte(`{"room_id":"!r:a.example","sender":"@zed:z.example","type":"m.room.member","state_key":"@zed:z.example",
		"content":{"membership":"join"},"origin_server_ts":1700000000000,"depth":3,"prev_events":[],"auth_events":[]}`)
	_, zKey := testKey(t, "z.example")
	signed, err := SignEvent(v, event, "z.example", zKey)
	if err != nil {
		t.Fatal(err)
	}
	sigs := `{"z.example":` + string(field(t, field(t, signed, "signatures"), "z.example")) + `,"a.example":{"ed25519:old":"AAAA"}}`
	signed = setFields(t, signed, map[string]json.RawMessage{"signatures": json.RawMessage(sigs)})
	_, aKey := testKey(t, "a.example")
	out, err := CountersignEvent(v, signed, "a.example", aKey)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]string
	if err := json.Unmarshal(field(t, out, "signatures"), &m); err != nil {
		t.Fatal(err)
	}
	if len(m["a.example"]) != 1 || m["a.example"]["ed25519:1"] == "" || len(m["z.example"]) != 1 {
		t.Fatalf("signatures %s", field(t, out, "signatures"))
	}
	keys := KeyRing{
		"a.example": {"ed25519:1": {Key: testPublic(t, "a.example")}, "ed25519:old": {Key: testPublic(t, "a.example:old")}},
		"z.example": {"ed25519:1": {Key: testPublic(t, "z.example")}},
	}
	ev, err := ParseEvent(v, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyEventSignature(ev, "a.example", keys); err != nil {
		t.Fatalf("a.example: %v", err)
	}
	if err := VerifyEventSignature(ev, "z.example", keys); err != nil {
		t.Fatalf("z.example: %v", err)
	}
}

// FuzzSignEvent: SignEvent never panics, refuses with ErrMalformed only, and what it accepts it
// returns as canonical JSON whose content hash checks, whose other servers' signatures are
// kept, which signing again leaves unchanged (the hash and the deterministic signature are the
// same), and, when it parses as an event, whose new signature verifies.
func FuzzSignEvent(f *testing.F) {
	key, keys := fuzzSignerSetup(f)
	f.Fuzz(func(t *testing.T, vb byte, data []byte) {
		v, out, ok := fuzzSignerOutput(t, SignEvent, key, vb, data)
		if !ok {
			return
		}
		if err := CheckContentHash(v, out); err != nil {
			t.Fatalf("content hash of the output: %v", err)
		}
		want := signatureMembers(t, data)
		got := signatureMembers(t, out)
		if want["b.example"] == nil {
			want["b.example"] = map[string]string{}
		}
		want["b.example"]["ed25519:1"] = got["b.example"]["ed25519:1"]
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("signatures changed:\n%v\n%v", want, got)
		}
		if twice, err := SignEvent(v, out, "b.example", key); err != nil || !bytes.Equal(twice, out) {
			t.Fatalf("signing the output again changed it (%v):\n%s\n%s", err, out, twice)
		}
		fuzzSignatureVerifies(t, v, out, keys)
	})
}

// TestCountersignEventKeepsPolicyServerSignature: a server that is also the room's Policy Server
// countersigns (send_join, /invite) an event that already carries its Policy Server signature:
// the `ed25519:policy_server` signature stays beside the new one (server-server-api "Validating
// Policy Server signatures": it "appears alongside the normal event signatures"; the key ID is
// "*always* ed25519:policy_server"), while its other stale signatures are still replaced.
// Found by tools/scenarios (S4): SendJoin's answer lost the signature and
// CheckSendJoinResponse refused it.
func TestCountersignEventKeepsPolicyServerSignature(t *testing.T) {
	v := version(t, "10")
	event := []byte(`{"room_id":"!r:a.example","sender":"@zed:z.example","type":"m.room.member","state_key":"@zed:z.example",
		"content":{"membership":"join"},"origin_server_ts":1700000000000,"depth":3,"prev_events":[],"auth_events":[]}`)
	_, zKey := testKey(t, "z.example")
	signed, err := SignEvent(v, event, "z.example", zKey)
	if err != nil {
		t.Fatal(err)
	}
	_, psKey := testKey(t, "b.example:policy_server") // key ID ed25519:policy_server
	withPS, err := CountersignEvent(v, signed, "b.example", psKey)
	if err != nil {
		t.Fatal(err)
	}
	psSig := signatureMembers(t, withPS)["b.example"]["ed25519:policy_server"]
	// A stale signature under b.example, which must go.
	withPS = setFields(t, withPS, map[string]json.RawMessage{"signatures": json.RawMessage(
		`{"b.example":{"ed25519:old":"AAAA","ed25519:policy_server":` + psSig + `},"z.example":` +
			string(field(t, field(t, withPS, "signatures"), "z.example")) + `}`)})
	_, bKey := testKey(t, "b.example")
	out, err := CountersignEvent(v, withPS, "b.example", bKey)
	if err != nil {
		t.Fatal(err)
	}
	got := signatureMembers(t, out)["b.example"]
	if len(got) != 2 || got["ed25519:policy_server"] != psSig || got["ed25519:1"] == "" {
		t.Fatalf("b.example's signatures %v; want its new ed25519:1 and the Policy Server's %s", got, psSig)
	}
	ev, err := ParseEvent(v, out)
	if err != nil {
		t.Fatal(err)
	}
	keys := KeyRing{"b.example": {"ed25519:1": {Key: bKey.Public()}, "ed25519:policy_server": {Key: psKey.Public()}}}
	if err := VerifyEventSignature(ev, "b.example", keys); err != nil {
		t.Fatalf("b.example's signatures do not verify: %v", err)
	}
}

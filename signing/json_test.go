package signing

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
)

// TestVerifyJSON runs verify_json.json: VerifyJSON with the CLI `verify` semantics.
func TestVerifyJSON(t *testing.T) {
	var cases []struct {
		Name      string          `json:"name"`
		Spec      string          `json:"spec"`
		Input     json.RawMessage `json:"input"`
		InputText string          `json:"input_text"`
		Keys      json.RawMessage `json:"keys"`
		Error     string          `json:"error"`
	}
	loadFixture(t, "verify_json.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			in := []byte(c.Input)
			if c.InputText != "" {
				in = []byte(c.InputText)
			}
			ring, err := ParseKeyRing(c.Keys)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, VerifyJSON(in, ring), c.Error)
		})
	}
}

func TestVerifyJSONServer(t *testing.T) {
	sv, key := loadSpecVectors(t)
	signed := []byte(sv.JSONSigning[1].Expect)
	ring := KeyRing{"domain": {"ed25519:1": {Key: key.Public()}}}
	wantErr(t, VerifyJSONServer(signed, "domain", ring), "")
	wantErr(t, VerifyJSONServer(signed, "other", ring), "ErrMissingSignature")
	wantErr(t, VerifyJSONServer(signed, "domain", KeyRing{}), "ErrUnknownKey")
	other := testPublic(t, "z.example:1")
	wantErr(t, VerifyJSONServer(signed, "domain", KeyRing{"domain": {"ed25519:1": {Key: other}}}), "ErrBadSignature")
	// A key of the wrong length is unusable, not a panic.
	wantErr(t, VerifyJSONServer(signed, "domain", KeyRing{"domain": {"ed25519:1": {Key: other[:31]}}}), "ErrUnknownKey")
	// Validity periods do not apply to plain JSON.
	wantErr(t, VerifyJSONServer(signed, "domain", KeyRing{"domain": {"ed25519:1": {Key: key.Public(), ValidUntilTS: 1}}}), "")

	// Only the entity's entry is read (appendices "Checking for a Signature" steps 1-2): other
	// servers' entries and other algorithms' values may hold anything; the entity's own entry
	// must be an object, and a known key's signature a string.
	var obj map[string]any
	if err := json.Unmarshal(signed, &obj); err != nil {
		t.Fatal(err)
	}
	good := obj["signatures"].(map[string]any)["domain"].(map[string]any)["ed25519:1"]
	for _, c := range []struct {
		name string
		sigs any
		err  string
	}{
		{"another server's entry a number", map[string]any{"domain": map[string]any{"ed25519:1": good}, "a.notary": 5}, ""},
		{"another server's signature an array", map[string]any{"domain": map[string]any{"ed25519:1": good}, "z.notary": map[string]any{"ed25519:1": []any{}}}, ""},
		{"another algorithm's value an object", map[string]any{"domain": map[string]any{"curve25519:1": map[string]any{}, "ed25519:1": good}}, ""},
		{"an unknown key's value a number", map[string]any{"domain": map[string]any{"ed25519:0": 1, "ed25519:1": good}}, ""},
		{"the entity's entry a string", map[string]any{"domain": good}, "ErrMalformed"},
		{"the known key's signature a number", map[string]any{"domain": map[string]any{"ed25519:1": 1}}, "ErrBadSignature"},
		{"signatures an array", []any{}, "ErrMalformed"},
	} {
		obj["signatures"] = c.sigs
		in, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(c.name, func(t *testing.T) { wantErr(t, VerifyJSONServer(in, "domain", ring), c.err) })
	}
}

// TestSignJSONSignaturesKept: the `signatures` SignJSON writes: every other server's signatures
// kept, an empty object of another server kept (as Synapse's signedjson and gomatrixserverlib
// keep it), the signer's other keys kept and its own key's signature replaced. "NEW" stands for
// the new signature.
func TestSignJSONSignaturesKept(t *testing.T) {
	_, a := testKey(t, "a.example:1")
	for _, c := range []struct {
		name, sigs string
		want       map[string]map[string]string
	}{
		{"none", ``, map[string]map[string]string{"a.example": {"ed25519:1": "NEW"}}},
		{"empty", `{}`, map[string]map[string]string{"a.example": {"ed25519:1": "NEW"}}},
		{"the signer's object empty", `{"a.example":{}}`, map[string]map[string]string{"a.example": {"ed25519:1": "NEW"}}},
		{"another server's object empty", `{"b.example":{}, "0.example":{}}`,
			map[string]map[string]string{"0.example": {}, "a.example": {"ed25519:1": "NEW"}, "b.example": {}}},
		{"the signer's key replaced, its other keys kept", `{"a.example":{"ed25519:1":"old","ed25519:0":"k0","x":"y"}}`,
			map[string]map[string]string{"a.example": {"ed25519:0": "k0", "ed25519:1": "NEW", "x": "y"}}},
		{"servers before and after", `{"c.example":{"k":"c"},"a.examplf":{},"a.exampl":{"k":"x"}}`,
			map[string]map[string]string{"a.exampl": {"k": "x"}, "a.example": {"ed25519:1": "NEW"}, "a.examplf": {}, "c.example": {"k": "c"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := `{"x":1}`
			if c.sigs != "" {
				in = `{"x":1,"signatures":` + c.sigs + `}`
			}
			out, err := SignJSON([]byte(in), "a.example", a)
			if err != nil {
				t.Fatal(err)
			}
			if canon, err := canonicaljson.Append(nil, out, canonicaljson.Options{Strict: true}); err != nil || !bytes.Equal(canon, out) {
				t.Fatalf("output is not canonical: %s", out)
			}
			var got struct {
				Signatures map[string]map[string]string `json:"signatures"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			sig := got.Signatures["a.example"]["ed25519:1"]
			want := map[string]map[string]string{}
			for server, keys := range c.want {
				want[server] = map[string]string{}
				for k, v := range keys {
					if v == "NEW" {
						v = sig
					}
					want[server][k] = v
				}
			}
			if len(sig) != 86 || !reflect.DeepEqual(got.Signatures, want) {
				t.Fatalf("signatures = %v, want %v", got.Signatures, want)
			}
		})
	}
}

// TestSignJSONKeepsSignatures: SignJSON keeps `unsigned` and other signatures, and replaces
// its own key's (appendices "Signing Details").
func TestSignJSONKeepsSignatures(t *testing.T) {
	_, a := testKey(t, "a.example:1")
	_, b := testKey(t, "b.example:1")
	in := []byte(`{"x": 1, "unsigned": {"u": true}, "signatures": {"a.example": {"ed25519:1": "old", "ed25519:9": "keep"}}}`)
	once, err := SignJSON(in, "a.example", a)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := SignJSON(once, "b.example", b)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		X          int                          `json:"x"`
		Unsigned   map[string]bool              `json:"unsigned"`
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if err := json.Unmarshal(twice, &got); err != nil {
		t.Fatal(err)
	}
	if got.X != 1 || !got.Unsigned["u"] || got.Signatures["a.example"]["ed25519:9"] != "keep" ||
		got.Signatures["a.example"]["ed25519:1"] == "old" || len(got.Signatures["b.example"]) != 1 {
		t.Fatalf("SignJSON twice = %s", twice)
	}
	ring := KeyRing{"a.example": {"ed25519:1": {Key: a.Public()}}, "b.example": {"ed25519:1": {Key: b.Public()}}}
	wantErr(t, VerifyJSON(twice, ring), "")
	for _, bad := range []string{`[]`, `{"signatures": []}`, `{"signatures": {"a.example": 1}}`, `{"signatures": {"a.example": []}}`, `{`} {
		if _, err := SignJSON([]byte(bad), "a.example", a); err == nil {
			t.Errorf("SignJSON(%s) succeeded", bad)
		} else {
			wantErr(t, err, "ErrMalformed")
		}
	}
}

// TestHasValidSignature: the third-party invite check (auth rule 4.4.1.7).
func TestHasValidSignature(t *testing.T) {
	_, id := testKey(t, "id.example:0")
	signed, err := SignJSON([]byte(`{"mxid":"@carol:c.example","token":"abc"}`), "id.example", id)
	if err != nil {
		t.Fatal(err)
	}
	other := testPublic(t, "z.example:1")
	for _, c := range []struct {
		name string
		obj  []byte
		pub  ed25519.PublicKey
		want bool
		err  string
	}{
		{"signed by the key", signed, id.Public(), true, ""},
		{"another key", signed, other, false, ""},
		{"short key", signed, id.Public()[:5], false, ""},
		{"changed token", setFields(t, signed, map[string]json.RawMessage{"token": json.RawMessage(`"abd"`)}), id.Public(), false, ""},
		{"unsigned ignored", setFields(t, signed, map[string]json.RawMessage{"unsigned": json.RawMessage(`{"a":1}`)}), id.Public(), true, ""},
		{"no signatures", []byte(`{"mxid":"@carol:c.example","token":"abc"}`), id.Public(), false, ""},
		{"garbage signature", []byte(`{"mxid":"@carol:c.example","signatures":{"id.example":{"ed25519:0":"!!"}}}`), id.Public(), false, ""},
		{"not an object", []byte(`[]`), id.Public(), false, "ErrMalformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, err := HasValidSignature(c.obj, c.pub)
			wantErr(t, err, c.err)
			if ok != c.want {
				t.Fatalf("HasValidSignature = %v, want %v", ok, c.want)
			}
		})
	}
}

// TestHashCases runs hash_cases.json: EventID, ContentHash, ReferenceHash, CheckContentHash.
func TestHashCases(t *testing.T) {
	var cases []struct {
		Name        string          `json:"name"`
		Spec        string          `json:"spec"`
		Func        string          `json:"func"`
		RoomVersion string          `json:"room_version"`
		Input       json.RawMessage `json:"input"`
		InputText   string          `json:"input_text"`
		Expect      string          `json:"expect"`
		Error       string          `json:"error"`
	}
	loadFixture(t, "hash_cases.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			v := version(t, c.RoomVersion)
			in := []byte(c.Input)
			if c.InputText != "" {
				in = []byte(c.InputText)
			}
			var (
				got string
				err error
				sum [32]byte
			)
			switch c.Func {
			case "event_id":
				got, err = EventID(v, in)
			case "content_hash":
				sum, err = ContentHash(v, in)
				got = base64.RawStdEncoding.EncodeToString(sum[:])
			case "reference_hash":
				sum, err = ReferenceHash(v, in)
				got = base64.RawStdEncoding.EncodeToString(sum[:])
			case "check_content_hash":
				err = CheckContentHash(v, in)
			default:
				t.Fatalf("unknown func %q", c.Func)
			}
			wantErr(t, err, c.Error)
			if c.Error == "" && c.Expect != "" && got != c.Expect {
				t.Fatalf("got %q, want %q", got, c.Expect)
			}
		})
	}
	if _, err := EventID(roomversion.Version{ID: "none"}, []byte(`{}`)); err == nil {
		t.Fatal("EventID with no event ID format succeeded")
	}
}

// TestNotJSONIsASyntaxError: input that is not JSON at all carries the canonicaljson syntax
// error whatever its first byte, so callers (the CLI) can tell it from JSON that is merely not
// an object.
func TestNotJSONIsASyntaxError(t *testing.T) {
	keys := KeyRing{}
	for _, in := range []string{"", "not json", "nul", "[1,", `"abc`, "\xff", "\xef\xbb\xbf{}", "{", `{"a":1} x`} {
		err := VerifyJSON([]byte(in), keys)
		if !errors.Is(err, ErrMalformed) || !errors.Is(err, canonicaljson.ErrSyntax) {
			t.Errorf("VerifyJSON(%q) = %v, want ErrMalformed wrapping a canonicaljson syntax error", in, err)
		}
	}
	for _, in := range []string{"[]", "null", `"abc"`, "5"} {
		err := VerifyJSON([]byte(in), keys)
		if !errors.Is(err, ErrMalformed) || errors.Is(err, canonicaljson.ErrSyntax) {
			t.Errorf("VerifyJSON(%q) = %v, want ErrMalformed without a syntax error", in, err)
		}
	}
}

// TestVerifyJSONServerEmptyName: the server name "" names the entry "" and nothing else; it does
// not stand for every server.
func TestVerifyJSONServerEmptyName(t *testing.T) {
	_, key := testKey(t, "a.example:1")
	signed, err := SignJSON([]byte(`{"a":1}`), "a.example", key)
	if err != nil {
		t.Fatal(err)
	}
	ring := KeyRing{"": {"ed25519:1": {Key: key.Public()}}, "a.example": {"ed25519:1": {Key: key.Public()}}}
	wantErr(t, VerifyJSONServer(signed, "", ring), "ErrMissingSignature")
	wantErr(t, VerifyJSONServer([]byte(`{"a":1,"signatures":{"":5}}`), "", ring), "ErrMalformed")
	wantErr(t, VerifyJSONServer(signed, "a.example", ring), "")
}

// TestSignRefusesNamesThatAreNotUTF8: a server name or key ID that is not valid UTF-8 would be
// written as another name (U+FFFD in its place), beside or over another server's signatures.
func TestSignRefusesNamesThatAreNotUTF8(t *testing.T) {
	_, key := testKey(t, "a.example:1")
	in := []byte(`{"a":1,"signatures":{"\ufffd\ufffd\ufffd":{"ed25519:1":"another server's"}}}`)
	v10 := version(t, "10")
	event := []byte(`{"room_id":"!r:a.example","sender":"@u:a.example","type":"m.t","content":{},"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[]}`)
	for _, name := range []string{"\xed\xa0\x80", "\xff", "a.example\x80"} {
		if _, err := SignJSON(in, name, key); !errors.Is(err, ErrMalformed) {
			t.Errorf("SignJSON as %q: %v, want ErrMalformed", name, err)
		}
		if _, err := SignEvent(v10, event, name, key); !errors.Is(err, ErrMalformed) {
			t.Errorf("SignEvent as %q: %v, want ErrMalformed", name, err)
		}
	}
	bad := key
	bad.Version = "\xff"
	var ke *KeyError
	if _, err := SignJSON(in, "a.example", bad); !errors.As(err, &ke) {
		t.Errorf("SignJSON with key ID %q: %v, want a *KeyError", bad.KeyID(), err)
	}
}

// TestSignEventKeepsTheEventFormat: SignEvent and CountersignEvent refuse an event whose
// `signatures` the event format refuses (pdu.Parse would refuse their output), while SignJSON
// keeps such members of a plain object as they are.
func TestSignEventKeepsTheEventFormat(t *testing.T) {
	_, key := testKey(t, "b.example:1")
	for _, sigs := range []string{`{"relay.example":5}`, `{"relay.example":{"ed25519:1":[]}}`, `[]`} {
		for _, id := range []string{"3", "10"} {
			v := version(t, id)
			event := []byte(`{"room_id":"!r:a.example","sender":"@u:a.example","type":"m.t","content":{},"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":` + sigs + `}`)
			if _, err := SignEvent(v, event, "b.example", key); !errors.Is(err, ErrMalformed) {
				t.Errorf("v%s SignEvent with signatures %s: %v, want ErrMalformed", id, sigs, err)
			}
			if _, err := CountersignEvent(v, event, "b.example", key); !errors.Is(err, ErrMalformed) {
				t.Errorf("v%s CountersignEvent with signatures %s: %v, want ErrMalformed", id, sigs, err)
			}
		}
	}
	out, err := SignJSON([]byte(`{"a":1,"signatures":{"relay.example":5}}`), "b.example", key)
	if err != nil || !bytes.Contains(out, []byte(`"relay.example":5`)) {
		t.Fatalf("SignJSON: %s, %v", out, err)
	}
}

// TestWrongLengthKeyIsUnknown: a PublicKey whose Key is not 32 bytes (only Go code can make one)
// counts as unknown: the signature it would check is skipped (docs/decisions.md signing 17;
// tools/keysref F3).
func TestWrongLengthKeyIsUnknown(t *testing.T) {
	k1, err := NewSigningKey("1", bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := NewSigningKey("2", bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := SignJSON([]byte(`{"a":1}`), "a.example", k1)
	if err != nil {
		t.Fatal(err)
	}
	both, err := SignJSON(obj, "a.example", k2)
	if err != nil {
		t.Fatal(err)
	}
	pub2 := k2.Private.Public().(ed25519.PublicKey)
	for _, c := range []struct {
		name string
		obj  []byte
		ring KeyRing
		want Verdict
	}{
		{"31 bytes", obj, KeyRing{"a.example": {"ed25519:1": {Key: make([]byte, 31)}}}, VerdictNeedKey},
		{"33 bytes", obj, KeyRing{"a.example": {"ed25519:1": {Key: make([]byte, 33)}}}, VerdictNeedKey},
		{"empty", obj, KeyRing{"a.example": {"ed25519:1": {}}}, VerdictNeedKey},
		{"beside a key that verifies", both, KeyRing{"a.example": {"ed25519:1": {Key: make([]byte, 31)}, "ed25519:2": {Key: pub2}}}, VerdictValid},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := VerifyJSON(c.obj, c.ring)
			if got := VerdictOf(err); got != c.want {
				t.Errorf("VerifyJSON: %v (verdict %v), want verdict %v", err, got, c.want)
			}
			if c.want == VerdictNeedKey && !errors.Is(err, ErrUnknownKey) {
				t.Errorf("VerifyJSON: %v, want ErrUnknownKey", err)
			}
		})
	}
}

// TestNilSignedObjectHasNoValidSignature: the nil *SignedObject a failed ParseSignedObject
// returns answers false rather than panicking (tools/misuse M4).
func TestNilSignedObjectHasNoValidSignature(t *testing.T) {
	o, err := ParseSignedObject([]byte(`[]`))
	if err == nil || o != nil {
		t.Fatalf("ParseSignedObject([]) = %v, %v", o, err)
	}
	if o.HasValidSignature(make([]byte, 32)) {
		t.Error("a nil SignedObject has a valid signature")
	}
}

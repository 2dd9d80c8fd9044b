package signing

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestMutationHandMadeEvent: an Event made by hand, without a room version or bytes, is
// malformed for VerifyParsedEvent, naming the unknown version.
func TestMutationHandMadeEvent(t *testing.T) {
	// signing/event.go:329 'malformed(err, "%v", err)' -> 'nil'
	ev := &pdu.Event{Sender: "@a:b.example", Type: "m.room.message", RoomID: "!r:b.example"}
	err := VerifyParsedEvent(ev, KeyRing{})
	if !errors.Is(err, ErrMalformed) || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("%v, want ErrMalformed and roomversion.ErrUnknownVersion", err)
	}
}

// TestMutationSignaturesShape: the exact error for a `signatures` of the wrong shape in a
// signed object.
func TestMutationSignaturesShape(t *testing.T) {
	// signing/json.go:234 'errors.As(err, &ve)' -> '!(errors.As(err, &ve))' (the message
	// gained a "signatures: " prefix)
	pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
	for _, tt := range []struct{ obj, want string }{
		{`{"a":1,"signatures":{"x.example":5}}`, `signing: malformed input: signatures of "x.example" must be an object`},
		{`{"a":1,"signatures":{"x.example":{"ed25519:1":5}}}`, `signing: malformed input: signature "ed25519:1" of "x.example" must be a string`},
	} {
		ok, err := HasValidSignature([]byte(tt.obj), pub)
		var ve *VerificationError
		if ok || !errors.As(err, &ve) || !errors.Is(err, ErrMalformed) || err.Error() != tt.want {
			t.Errorf("%s: %v, %v; want false, %s", tt.obj, ok, err, tt.want)
		}
	}
}

// TestMutationSignatureLength: a signature must be the unpadded base64 of exactly 64 bytes: a
// valid signature with base64 characters appended does not verify, and a short one is
// reported as such.
func TestMutationSignatureLength(t *testing.T) {
	// signing/json.go:582 '||' -> '&&' (a decoding failure after 64 bytes was verified
	// with the 64 bytes; a short signature was reported as not verifying)
	key, err := NewSigningKey("1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	signed, err := SignJSON([]byte(`{"a":1}`), "s.example", key)
	if err != nil {
		t.Fatal(err)
	}
	ring := KeyRing{"s.example": {"ed25519:1": {Key: key.Public()}}}
	if err := VerifyJSON(signed, ring); err != nil {
		t.Fatalf("the untouched signature: %v", err)
	}
	const sig = "gpT8p2c0h9H+KtyGX3ZUOcHXjq7mr2EjpTuR9rYu30sc32Dyt0fO9n1Q46x3AfqAl5Rayvv17BwaxjgjU6SZAQ"
	if !bytes.Contains(signed, []byte(sig)) {
		t.Fatalf("signature changed: %s", signed)
	}
	for _, bad := range []string{sig + "AA", sig + "AAAA", sig[:84]} {
		obj := bytes.Replace(signed, []byte(sig), []byte(bad), 1)
		if ok, err := HasValidSignature(obj, key.Public()); ok || err != nil {
			t.Errorf("HasValidSignature with signature %q: %v, %v; want false, nil", bad, ok, err)
		}
		err := VerifyJSON(obj, ring)
		var ve *VerificationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrBadSignature) || ve.Detail != "signature is not the base64 of 64 bytes" {
			t.Errorf("VerifyJSON with signature %q: %v; want ErrBadSignature: signature is not the base64 of 64 bytes", bad, err)
		}
	}
}

// TestMutationKeyErrorText: KeyError.Error names the key and its server; Unwrap gives
// ErrInvalidKey and the cause.
func TestMutationKeyErrorText(t *testing.T) {
	// signing/keys.go:38 'where = fmt.Sprintf(" %q of %q", e.KeyID, e.Server)' -> ''
	for _, tt := range []struct {
		e    KeyError
		want string
	}{
		{KeyError{Server: "s.example", KeyID: "ed25519:1", Detail: "bad"}, `signing: invalid key "ed25519:1" of "s.example": bad`},
		{KeyError{KeyID: "ed25519:1", Detail: "bad"}, `signing: invalid key "ed25519:1": bad`},
		{KeyError{Detail: "bad"}, `signing: invalid key: bad`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
	// signing/keys.go:47 'e.Cause != nil' -> '!(e.Cause != nil)': Unwrap gives the cause too.
	cause := errors.New("the cause")
	withCause := &KeyError{Detail: "bad", Cause: cause}
	if !errors.Is(withCause, ErrInvalidKey) || !errors.Is(withCause, cause) {
		t.Errorf("KeyError with a cause: Is(ErrInvalidKey) %v, Is(cause) %v", errors.Is(withCause, ErrInvalidKey), errors.Is(withCause, cause))
	}
	if u := (&KeyError{Detail: "bad"}).Unwrap(); len(u) != 1 || u[0] != ErrInvalidKey {
		t.Errorf("KeyError without a cause: Unwrap = %v, want [ErrInvalidKey]", u)
	}
}

// TestMutationEscapedServerKey: SignJSON adds its signature under its own server name, not into
// an entry whose key is written with an escape.
func TestMutationEscapedServerKey(t *testing.T) {
	// signing/json.go:413 '&&' -> '||' (every escaped key that unquotes was taken for the signer's)
	key, err := NewSigningKey("1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	out, err := SignJSON([]byte(`{"a":1,"signatures":{"\u0001":{"ed25519:k":"x"}}}`), "s.example", key)
	want := `{"a":1,"signatures":{"\u0001":{"ed25519:k":"x"},"s.example":{"ed25519:1":"gpT8p2c0h9H+KtyGX3ZUOcHXjq7mr2EjpTuR9rYu30sc32Dyt0fO9n1Q46x3AfqAl5Rayvv17BwaxjgjU6SZAQ"}}}`
	if err != nil || string(out) != want {
		t.Errorf("%s, %v\nwant %s", out, err, want)
	}
}

// TestMutationVerificationErrorText: VerificationError.Error names the server, and the key
// only when there is one.
func TestMutationVerificationErrorText(t *testing.T) {
	// signing/signing.go:103 'e.KeyID != ""' -> '!(e.KeyID != "")'
	for _, tt := range []struct {
		e    VerificationError
		want string
	}{
		{VerificationError{Err: ErrBadSignature, Server: "s.example", KeyID: "ed25519:1", Detail: "d"}, `signing: bad signature (server "s.example", key "ed25519:1"): d`},
		{VerificationError{Err: ErrBadSignature, Server: "s.example", Detail: "d"}, `signing: bad signature (server "s.example"): d`},
		{VerificationError{Err: ErrMalformed}, `signing: malformed input`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
}

// TestMutationServerKeyExpiry: VerifyJSONServer does not check key validity periods (its
// documentation), not even a valid_until_ts below zero.
// signing/json.go:478 'false' -> 'true' (the key counted as expired at ts 0)
func TestMutationServerKeyExpiry(t *testing.T) {
	key, err := NewSigningKey("1", bytes.Repeat([]byte{3}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := SignJSON([]byte(`{"a":1}`), "a.example", key)
	if err != nil {
		t.Fatal(err)
	}
	for _, until := range []int64{-1, 0, 1} {
		ring := KeyRing{"a.example": {key.KeyID(): {Key: key.Public(), ValidUntilTS: until}}}
		if err := VerifyJSONServer(obj, "a.example", ring); err != nil {
			t.Errorf("valid_until_ts %d: %v, want verified", until, err)
		}
	}
}

// TestMutationRoundThree: exact results of round three's survivors (tools/mutcheck -seed 3,
// /work/logs/audit-mutation3.md).
func TestMutationRoundThree(t *testing.T) {
	// signing/event.go:125 '0' -> '1' (everything after the first ':', also when it is the
	// first byte)
	if s, ok := ServerName(":a.example"); s != "a.example" || !ok {
		t.Errorf(`ServerName(":a.example") = %q, %v, want "a.example", true`, s, ok)
	}

	// signing/event.go:185 'malformed(nil, "event_id %q has no domain", ...)' -> 'nil' (a
	// hand-made v1 event whose event ID has no domain: RequiredSigners documents ErrMalformed)
	v1, err := roomversion.Lookup("1")
	if err != nil {
		t.Fatal(err)
	}
	ev := &pdu.Event{Version: v1, EventID: "$abc", Sender: "@a:b.example", Type: "m.room.message", RoomID: "!r:b.example"}
	if signers, err := RequiredSigners(ev); !errors.Is(err, ErrMalformed) || err.Error() != `signing: malformed input: event_id "$abc" has no domain` {
		t.Errorf("RequiredSigners, event ID without domain: %v, %v; want ErrMalformed", signers, err)
	}

	// signing/json.go:560 'false' -> 'true' (HasValidSignature reads the object leniently:
	// its error is only for a non-object or a `signatures` of the wrong shape, not a float)
	if ok, err := HasValidSignature([]byte(`{"a":1.5,"mxid":"@b:b.example","signatures":{}}`), make([]byte, ed25519.PublicKeySize)); ok || err != nil {
		t.Errorf("HasValidSignature of an object with a float: %v, %v; want false, nil", ok, err)
	}

	// signing/keys.go:81 '>=' -> '>' (a key version may hold 'A')
	seed := bytes.Repeat([]byte{'A'}, 43)
	if k, err := ParseSigningKey(append([]byte("ed25519 A "), seed...)); err != nil || k.KeyID() != "ed25519:A" {
		t.Errorf(`ParseSigningKey("ed25519 A ..."): %v, %v; want key ID ed25519:A`, k.KeyID(), err)
	}

	// signing/keys.go:299 '40' -> '39' (a value of 40 bytes is quoted whole, 41 cut at 40)
	for _, tt := range []struct{ alg, quoted string }{
		{string(bytes.Repeat([]byte{'a'}, 40)), string(bytes.Repeat([]byte{'a'}, 40))},
		{string(bytes.Repeat([]byte{'a'}, 41)), string(bytes.Repeat([]byte{'a'}, 40)) + "…"},
	} {
		_, err := ParseSigningKey(append([]byte(tt.alg+" 1 "), seed...))
		if want := `signing: invalid key: algorithm "` + tt.quoted + `", want "ed25519"`; err == nil || err.Error() != want {
			t.Errorf("%d-byte algorithm: %v, want %q", len(tt.alg), err, want)
		}
	}
}

// TestMutationRoundFour (/work/logs/audit-mutation4.md): SignEvent of an object with no member
// but `hashes`, and VerifyEventSignature of an event without bytes.
func TestMutationRoundFour(t *testing.T) {
	v10, err := roomversion.Lookup("10")
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewSigningKey("1", make([]byte, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}

	// signing/event.go:71 '1' -> '0' (no ',' before the new `hashes` when the object without
	// them is empty): `{}` and `{"hashes":...}` are signed, the content hash of `{}`
	wantHash := mutContentHash(t, v10, []byte(`{}`))
	for _, in := range []string{`{}`, `{"hashes":{"sha256":"x"}}`} {
		out, err := SignEvent(v10, []byte(in), "a.example", key)
		if err != nil {
			t.Errorf("SignEvent(%s): %v", in, err)
			continue
		}
		if !bytes.HasPrefix(out, []byte(`{"hashes":{"sha256":"`+wantHash+`"},"signatures":{"a.example":{"ed25519:1":"`)) {
			t.Errorf("SignEvent(%s) = %s", in, out)
		}
	}

	// signing/hash.go:241 'malformed(err, "%v", err)' -> 'nil' (EventID of room version 1 is
	// ErrMalformed for input that is not a JSON object, also after an event_id; the error is
	// canonicaljson's)
	v1, err := roomversion.Lookup("1")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{`{"event_id":"$a:b.example","x":`, `{"event_id":"$a:b.example",}`} {
		if id, err := EventID(v1, []byte(in)); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "canonicaljson: ") {
			t.Errorf("EventID(v1, %s) = %q, %v; want ErrMalformed from canonicaljson", in, id, err)
		}
	}

	// signing/event.go:382 'err' -> 'nil' (an event without bytes, not made by pdu.Parse, is
	// malformed: its signed form cannot be made)
	ev := &pdu.Event{Version: v10, Sender: "@a:a.example", Type: "m.room.message", RoomID: "!r:a.example"}
	if err := VerifyEventSignature(ev, "a.example", KeyRing{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("VerifyEventSignature of an event without bytes: %v, want ErrMalformed", err)
	}
}

// mutContentHash is the unpadded base64 content hash of event (a helper of TestMutationRoundFour).
func mutContentHash(t *testing.T, v roomversion.Version, event []byte) string {
	t.Helper()
	sum, err := ContentHash(v, event)
	if err != nil {
		t.Fatal(err)
	}
	return encodeBase64(sum[:])
}

// TestMutationRoundFive (round five, /work/logs/audit-mutation5.md): when a required signer
// and the third-party invite's check both fail for want of a key, the failure returned is the
// required signer's ("among failures of one kind, the first in the order of signers, then the
// invite's"): a room version 1 third-party invite whose event ID's domain, z.example, is a
// required signer, signed by z.example and c.example (c.example comes first in `signatures`),
// with no key known. A public key's "key" that is not a string is refused as such. A KeyCache
// holds at most 1,024 keys.
func TestMutationRoundFive(t *testing.T) {
	// signing/event.go:310 '!needsKey(err)' -> '!(!needsKey(err))' (the invite's failure,
	// c.example's, was returned)
	v1, err := roomversion.Lookup("1")
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"auth_events":[],"content":{"membership":"invite","third_party_invite":{"display_name":"x","signed":{"mxid":"@b:b.example","signatures":{},"token":"t"}}},` +
		`"depth":1,"event_id":"$e:z.example","origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","state_key":"@b:b.example","type":"m.room.member"}`)
	for _, s := range []string{"z.example", "c.example"} {
		if raw, err = SignEvent(v1, raw, s, btKey(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		keys KeyRing
		want string
	}{
		{"no key known", KeyRing{}, `signing: no known key for the signature (server "z.example", key "ed25519:1"): the server signed with no known key: "ed25519:1"`},
		{"c.example's key known", KeyRing{"c.example": {"ed25519:1": {Key: btKey("c.example").Public()}}}, `signing: no known key for the signature (server "z.example", key "ed25519:1"): the server signed with no known key: "ed25519:1"`},
		{"both keys known", KeyRing{"c.example": {"ed25519:1": {Key: btKey("c.example").Public()}}, "z.example": {"ed25519:1": {Key: btKey("z.example").Public()}}}, ""},
	} {
		err := VerifyEvent(v1, raw, tt.keys)
		var ve *VerificationError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want nil", tt.name, err)
		case tt.want != "" && (!errors.As(err, &ve) || !errors.Is(err, ErrUnknownKey) || ve.Server != "z.example" || err.Error() != tt.want):
			t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
		}
	}

	// signing/keys.go:282 '||' -> '&&' (a "key" that is not a string was handed to Unquote,
	// whose error became the detail)
	for _, in := range []string{`{"key":5}`, `{"key":null}`, `{"key":{"k":"x"}}`, `{}`} {
		_, err := ParseKeyRing([]byte(`{"a.example":{"ed25519:1":` + in + `}}`))
		var ke *KeyError
		if want := `signing: invalid key "ed25519:1" of "a.example": key must be a base64 string`; !errors.As(err, &ke) || !errors.Is(err, ErrInvalidKey) || err.Error() != want {
			t.Errorf("ParseKeyRing with key %s: %v, want %s", in, err, want)
		}
	}

	// signing/batch.go:117 '1024' -> '1025' (a KeyCache holds at most 1,024 prepared keys)
	var c KeyCache
	fk := newFastKey(btKey("a.example").Public())
	for i := 0; i < 1100; i++ {
		var k [ed25519.PublicKeySize]byte
		k[0], k[1] = byte(i), byte(i>>8)
		if got := c.store(k, fk); got != fk {
			t.Fatalf("store of key %d returned %p, want %p", i, got, fk)
		}
	}
	if c.Len() != 1024 {
		t.Errorf("a KeyCache given 1,100 keys holds %d, want 1024", c.Len())
	}
}

// TestMutationPutScratch (round seven; hash.go:39, :40 deleted): putScratch, which returns a call's working memory to the
// pool, clears the Event it parsed (the pool must not keep the caller's event, or its bytes,
// alive) and bounds the index as Index.Reset does.
func TestMutationPutScratch(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	s := new(scratch)
	ev, err := s.events.ParseIndexed(v, []byte(`{"auth_events":[],"content":{},"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{},"type":"m.room.message"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.index.Members = make([]canonicaljson.Member, 3, 2000) // more than an Index keeps
	putScratch(s)
	if ev.Raw() != nil || ev.Sender != "" {
		t.Errorf("the pooled scratch still holds the event: %q from %s", ev.Raw(), ev.Sender)
	}
	if cap(s.index.Members) != 0 {
		t.Errorf("the pooled scratch keeps an index of %d members", cap(s.index.Members))
	}
}

package signing_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// signedMessage returns a room version 9 message signed by a.example with key ed25519:1 (a
// zero seed), the version and the key.
func signedMessage(t *testing.T) (roomversion.Version, []byte, signing.SigningKey) {
	t.Helper()
	key, err := signing.NewSigningKey("1", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := roomversion.Lookup("9")
	ev := []byte(`{"room_id":"!r:a.example","sender":"@u:a.example","type":"m.room.message","content":{"body":"x"},"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[]}`)
	signed, err := signing.SignEvent(v, ev, "a.example", key)
	if err != nil {
		t.Fatal(err)
	}
	return v, signed, key
}

// TestNilKeyLookup: a nil KeyLookup means "no keys known", never a panic.
func TestNilKeyLookup(t *testing.T) {
	v, signed, key := signedMessage(t)
	if err := signing.VerifyEvent(v, signed, nil); !errors.Is(err, signing.ErrUnknownKey) {
		t.Errorf("VerifyEvent with nil keys = %v, want ErrUnknownKey", err)
	}
	parsed, err := signing.ParseEvent(v, signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyEventSignature(parsed, "a.example", nil); !errors.Is(err, signing.ErrUnknownKey) {
		t.Errorf("VerifyEventSignature with nil keys = %v, want ErrUnknownKey", err)
	}
	obj, err := signing.SignJSON([]byte(`{"a":1}`), "a.example", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyJSON(obj, nil); !errors.Is(err, signing.ErrUnknownKey) {
		t.Errorf("VerifyJSON with nil keys = %v, want ErrUnknownKey", err)
	}
}

// TestNilEvent: the functions that take a parsed event return ErrMalformed for a nil one, as
// VerifyParsedEvents does for a nil element, rather than panic.
func TestNilEvent(t *testing.T) {
	if err := signing.VerifyParsedEvent(nil, signing.KeyRing{}); !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("VerifyParsedEvent(nil) = %v, want ErrMalformed", err)
	}
	if s, err := signing.RequiredSigners(nil); s != nil || !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("RequiredSigners(nil) = %v, %v, want ErrMalformed", s, err)
	}
	if err := signing.VerifyEventSignature(nil, "a.example", signing.KeyRing{}); !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("VerifyEventSignature(nil) = %v, want ErrMalformed", err)
	}
	if signing.IsThirdPartyInvite(nil) {
		t.Error("IsThirdPartyInvite(nil) = true")
	}
}

// TestUnknownKeyNamesTheKeys: ErrUnknownKey carries the first unknown key ID in KeyID (the key
// to fetch) and names up to four in Detail.
func TestUnknownKeyNamesTheKeys(t *testing.T) {
	v, signed, _ := signedMessage(t)
	var err error
	extra := bytes.Replace(signed, []byte(`"ed25519:1":`),
		[]byte(`"ed25519:0":"x","ed25519:2":"x","ed25519:3":"x","ed25519:4":"x","ed25519:5":"x","other:9":"x","ed25519:1":`), 1)
	cases := []struct {
		name, event, keyID, detail string
	}{
		{"one", string(signed), "ed25519:1", `the server signed with no known key: "ed25519:1"`},
		{"six", string(extra), "ed25519:0", `the server signed with no known key: "ed25519:0", "ed25519:1", "ed25519:2", "ed25519:3" and 2 more`},
	}
	// A relay can put a key ID of any length in: the error keeps it whole in KeyID (the key to
	// fetch) and prints it cut short.
	long := "ed25519:" + strings.Repeat("k", 60000)
	longEvent := bytes.Replace(signed, []byte(`"ed25519:1":`), []byte(`"`+long+`":"x","ed25519:1":`), 1)
	err = signing.VerifyEvent(v, longEvent, signing.KeyRing{})
	var lve *signing.VerificationError
	if !errors.As(err, &lve) || lve.KeyID != "ed25519:1" {
		t.Fatalf("long key ID: %v", err)
	}
	err = signing.VerifyEvent(v, bytes.Replace(longEvent, []byte(`"ed25519:1":`), []byte(`"ed25519:~":`), 1), signing.KeyRing{})
	if !errors.As(err, &lve) || lve.KeyID != long || len(err.Error()) > 400 {
		t.Fatalf("long key ID first: KeyID of %d bytes, message of %d bytes", len(lve.KeyID), len(err.Error()))
	}
	for _, c := range cases {
		err := signing.VerifyEvent(v, []byte(c.event), signing.KeyRing{})
		var ve *signing.VerificationError
		if !errors.As(err, &ve) || ve.Err != signing.ErrUnknownKey || ve.Server != "a.example" || ve.KeyID != c.keyID || ve.Detail != c.detail {
			t.Errorf("%s: %#v", c.name, err)
		}
	}
}

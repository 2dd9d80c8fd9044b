package misuse

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func TestSigning(t *testing.T) {
	v8, v9 := claimkit.Ver(t, "8"), claimkit.Ver(t, "9")
	msg := raw(t, v9, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA, "content": obj{"body": "hi"}})
	e9 := parse(t, v9, msg)
	isVE := func(t *testing.T, err error, sentinel error) {
		t.Helper()
		var ve *signing.VerificationError
		if !errors.As(err, &ve) || !errors.Is(err, sentinel) {
			t.Fatalf("got %v, want *VerificationError %v", err, sentinel)
		}
	}
	runProbes(t, []probe{
		{"SignEvent/zero-version", "", func(t *testing.T) {
			if _, err := signing.SignEvent(roomversion.Version{}, msg, "a.example", key("a.example")); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"SignEvent/zero-key", "", func(t *testing.T) {
			if _, err := signing.SignEvent(v9, msg, "a.example", signing.SigningKey{}); !errors.Is(err, signing.ErrInvalidKey) {
				t.Fatal(err)
			}
		}},
		{"SignJSON/hand-made-key-wrong-public-half", "", func(t *testing.T) {
			k := key("a.example")
			priv := bytes.Clone(k.Private)
			copy(priv[32:], key("b.example").Public())
			if _, err := signing.SignJSON([]byte(`{}`), "a.example", signing.SigningKey{Version: "1", Private: priv}); !errors.Is(err, signing.ErrInvalidKey) {
				t.Fatal(err)
			}
		}},
		{"SignEvent/input-not-modified", "", func(t *testing.T) {
			in := clone(msg)
			out, err := signing.SignEvent(v9, in, "b.example", key("b.example"))
			if err != nil || !bytes.Equal(in, msg) {
				t.Fatal(err)
			}
			keep := clone(out)
			scribble(in)
			if !bytes.Equal(out, keep) {
				t.Fatal("result aliases input")
			}
		}},
		{"CountersignEvent/input-not-modified-result-not-shared", "", func(t *testing.T) {
			in := clone(msg)
			out, err := signing.CountersignEvent(v9, in, "b.example", key("b.example"))
			if err != nil || !bytes.Equal(in, msg) {
				t.Fatal(err)
			}
			keep := clone(out)
			scribble(in)
			if !bytes.Equal(out, keep) {
				t.Fatal("result aliases input")
			}
		}},
		{"SignJSON/input-not-modified-result-not-shared", "", func(t *testing.T) {
			in := []byte(`{"b":1,"a":{"x":"y"}}`)
			keepIn := clone(in)
			out, err := signing.SignJSON(in, "a.example", key("a.example"))
			if err != nil || !bytes.Equal(in, keepIn) {
				t.Fatal(err)
			}
			keep := clone(out)
			scribble(in)
			if !bytes.Equal(out, keep) {
				t.Fatal("result aliases input")
			}
		}},
		{"NewSigningKey/seed-not-aliased", "", func(t *testing.T) {
			seed := sha256.Sum256([]byte("a.example"))
			s := seed[:]
			k, err := signing.NewSigningKey("1", s)
			if err != nil {
				t.Fatal(err)
			}
			pub := bytes.Clone(k.Public())
			scribble(s)
			if !bytes.Equal(k.Public(), pub) {
				t.Fatal("key aliases seed")
			}
			if _, err := signing.SignJSON([]byte(`{}`), "a.example", k); err != nil {
				t.Fatal(err)
			}
		}},
		{"ParseSigningKey/data-not-aliased", "", func(t *testing.T) {
			data := []byte("ed25519 1 " + "nW0Q6nDOuMXVb7Dn8rl2Dk3wjGBdfw6gPJ5dHWfbwk8")
			k, err := signing.ParseSigningKey(data)
			if err != nil {
				t.Fatal(err)
			}
			pub := bytes.Clone(k.Public())
			scribble(data)
			if k.Version != "1" || !bytes.Equal(k.Public(), pub) {
				t.Fatal("key aliases data")
			}
		}},
		{"ParseKeyRing/data-not-aliased", "", func(t *testing.T) {
			data := []byte(`{"a.example":{"ed25519:1":"` + b64(key("a.example").Public()) + `"}}`)
			r, err := signing.ParseKeyRing(data)
			if err != nil {
				t.Fatal(err)
			}
			scribble(data)
			if pk, ok := r.PublicKey("a.example", "ed25519:1"); !ok || !bytes.Equal(pk.Key, key("a.example").Public()) {
				t.Fatal("ring aliases data")
			}
		}},
		{"ParseEvent/zero-version", "", func(t *testing.T) {
			if _, err := signing.ParseEvent(roomversion.Version{}, msg); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"EventID/zero-version", "", func(t *testing.T) {
			if _, err := signing.EventID(roomversion.Version{}, msg); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"VerifyEvent/nil-KeyLookup", "", func(t *testing.T) {
			isVE(t, signing.VerifyEvent(v9, msg, nil), signing.ErrUnknownKey)
		}},
		{"VerifyEvent/typed-nil-KeyRing", "", func(t *testing.T) {
			isVE(t, signing.VerifyEvent(v9, msg, signing.KeyRing(nil)), signing.ErrUnknownKey)
		}},
		{"VerifyEvent/zero-version", "", func(t *testing.T) {
			if err := signing.VerifyEvent(roomversion.Version{}, msg, ring()); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"VerifyEvent/keys-of-another-server", "", func(t *testing.T) {
			r := signing.KeyRing{"a.example": {"ed25519:1": {Key: key("b.example").Public()}}}
			isVE(t, signing.VerifyEvent(v9, msg, r), signing.ErrBadSignature)
		}},
		{"VerifyParsedEvent/hand-made-event", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.message", Sender: "@alice:a.example", RoomID: roomA,
				Signatures: pdu.Signatures{{Server: "a.example", KeyID: "ed25519:1", Value: "x"}}}
			err := signing.VerifyParsedEvent(e, ring())
			if err == nil || signing.VerdictOf(err) == signing.VerdictValid {
				t.Fatalf("hand-made event verified: %v", err)
			}
		}},
		{"VerifyParsedEvent/nil-event", "", func(t *testing.T) {
			isVE(t, signing.VerifyParsedEvent(nil, ring()), signing.ErrMalformed)
		}},
		{"VerifyParsedEvent/Signatures-field-changed-after-parse", "", func(t *testing.T) {
			// The Event's Signatures field is exported; a caller that strips a server from it
			// (to hide an unwanted signature, say) changes what the verifier reads?
			e := parse(t, v9, clone(msg))
			e.Signatures = nil
			t.Logf("VerifyParsedEvent with Signatures cleared: %v", signing.VerifyParsedEvent(e, ring()))
		}},
		{"VerifyEventSignature/hand-made-event", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.message", Sender: "@alice:a.example"}
			if err := signing.VerifyEventSignature(e, "a.example", ring()); err == nil {
				t.Fatal("verified")
			}
		}},
		{"VerifyEventSignature/nil-event", "", func(t *testing.T) {
			isVE(t, signing.VerifyEventSignature(nil, "a.example", ring()), signing.ErrMalformed)
		}},
		{"RequiredSigners/nil-and-hand-made", "", func(t *testing.T) {
			if _, err := signing.RequiredSigners(nil); !errors.Is(err, signing.ErrMalformed) {
				t.Fatal(err)
			}
			s, err := signing.RequiredSigners(&pdu.Event{Sender: "@a:a.example"})
			t.Logf("hand-made: %v %v", s, err)
		}},
		{"RequiredSigners/result-not-shared", "", func(t *testing.T) {
			s, _ := signing.RequiredSigners(e9)
			s[0] = "evil.example"
			s2, _ := signing.RequiredSigners(e9)
			if s2[0] != "a.example" {
				t.Fatal("shared")
			}
		}},
		{"IsThirdPartyInvite/nil-and-hand-made", "", func(t *testing.T) {
			if signing.IsThirdPartyInvite(nil) {
				t.Fatal("nil is a 3pid invite")
			}
			if signing.IsThirdPartyInvite(&pdu.Event{Type: "m.room.member", Membership: "invite"}) {
				t.Fatal("hand-made")
			}
		}},
		{"HasValidSignature/short-public-key", "", func(t *testing.T) {
			obj, _ := signing.SignJSON([]byte(`{"a":1}`), "a.example", key("a.example"))
			ok, err := signing.HasValidSignature(obj, ed25519.PublicKey{1, 2, 3})
			if ok || err != nil {
				t.Fatalf("%v %v", ok, err)
			}
			ok, _ = signing.HasValidSignature(obj, nil)
			if ok {
				t.Fatal("nil key matched")
			}
		}},
		{"ParseSignedObject/obj-not-aliased", "", func(t *testing.T) {
			obj, _ := signing.SignJSON([]byte(`{"a":1}`), "a.example", key("a.example"))
			o, err := signing.ParseSignedObject(obj)
			if err != nil {
				t.Fatal(err)
			}
			scribble(obj)
			if !o.HasValidSignature(key("a.example").Public()) {
				t.Fatal("SignedObject aliases the object it was read from")
			}
		}},
		{"SignedObject/zero", "", func(t *testing.T) {
			if (&signing.SignedObject{}).HasValidSignature(key("a.example").Public()) {
				t.Fatal("zero")
			}
		}},
		{"SignedObject/nil-from-failed-ParseSignedObject", "", func(t *testing.T) {
			o, err := signing.ParseSignedObject([]byte(`[]`))
			if err == nil || o != nil {
				t.Fatal(o, err)
			}
			if o.HasValidSignature(key("a.example").Public()) {
				t.Fatal("nil")
			}
		}},
		{"VerifyParsedEvents/mixed-versions", "", func(t *testing.T) {
			e8 := parse(t, v8, raw(t, v8, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA}))
			errs := signing.VerifyParsedEvents([]*pdu.Event{e9, e8, nil}, ring(), nil)
			if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], signing.ErrMalformed) {
				t.Fatal(errs)
			}
		}},
		{"ParseAndVerifyEvents/zero-version", "", func(t *testing.T) {
			evs, errs := signing.ParseAndVerifyEvents(roomversion.Version{}, [][]byte{msg}, ring(), &signing.BatchOptions{Workers: -1})
			if len(evs) != 1 || evs[0] != nil || !errors.Is(errs[0], roomversion.ErrUnknownVersion) {
				t.Fatalf("%v %v", evs, errs)
			}
		}},
		{"VerifyEvents/zero-version-nil-keys", "", func(t *testing.T) {
			errs := signing.VerifyEvents(roomversion.Version{}, [][]byte{msg, nil}, nil, nil)
			if len(errs) != 2 || !errors.Is(errs[0], roomversion.ErrUnknownVersion) {
				t.Fatal(errs)
			}
		}},
		{"VerifyEvents/input-not-modified", "", func(t *testing.T) {
			in := clone(msg)
			signing.VerifyEvents(v9, [][]byte{in}, ring(), nil)
			if !bytes.Equal(in, msg) {
				t.Fatal("modified")
			}
		}},
		{"KeyRing/PublicKey-result-shares-ring", "", func(t *testing.T) {
			r := ring()
			pk, _ := r.PublicKey("a.example", "ed25519:1")
			pk.Key[0] ^= 1 // documented? KeyRing is a plain map of caller-owned keys
			pk2, _ := r.PublicKey("a.example", "ed25519:1")
			t.Logf("mutating a returned key changes the ring: %v", pk2.Key[0] != key("a.example").Public()[0])
		}},
		{"DecodePublicKey/empty", "", func(t *testing.T) {
			if _, err := signing.DecodePublicKey(""); !errors.Is(err, signing.ErrInvalidKey) {
				t.Fatal(err)
			}
		}},
		{"VerifyJSON/nil-obj", "", func(t *testing.T) {
			isVE(t, signing.VerifyJSON(nil, ring()), signing.ErrMalformed)
		}},
		{"ContentHash/CheckContentHash/ReferenceHash/zero-version", "", func(t *testing.T) {
			var z roomversion.Version
			if _, err := signing.ContentHash(z, msg); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal("ContentHash", err)
			}
			if err := signing.CheckContentHash(z, msg); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal("CheckContentHash", err)
			}
			if _, err := signing.ReferenceHash(z, msg); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal("ReferenceHash", err)
			}
		}},
	})
}

package signing

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/pdu"
)

// TestVerifyEventScenarios runs verify_event.json: each case signs an event as the listed
// servers ("server:key version"), optionally changes top-level fields, and verifies it against
// the listed keys ("of": whose public key to use; "valid_until_ts").
func TestVerifyEventScenarios(t *testing.T) {
	var cases []struct {
		Name        string          `json:"name"`
		Spec        string          `json:"spec"`
		RoomVersion string          `json:"room_version"`
		Event       json.RawMessage `json:"event"`
		Sign        []string        `json:"sign"`
		KeepHashes  bool            `json:"keep_hashes"`
		Keys        map[string]map[string]struct {
			Of           string `json:"of"`
			ValidUntilTS int64  `json:"valid_until_ts"`
		} `json:"keys"`
		Tamper      map[string]json.RawMessage `json:"tamper"`
		Error       string                     `json:"error"`
		ErrorServer string                     `json:"error_server"`
		ErrorKey    string                     `json:"error_key"`
	}
	loadFixture(t, "verify_event.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Spec == "" {
				t.Fatal("fixture without spec")
			}
			v := version(t, c.RoomVersion)
			event := []byte(c.Event)
			for _, s := range c.Sign {
				if c.KeepHashes {
					event = signKeepingHashes(t, v, event, s)
					continue
				}
				server, key := testKey(t, s)
				var err error
				if event, err = SignEvent(v, event, server, key); err != nil {
					t.Fatal(err)
				}
			}
			if c.Tamper != nil {
				event = setFields(t, event, c.Tamper)
			}
			ring := KeyRing{}
			for server, keys := range c.Keys {
				ring[server] = map[string]PublicKey{}
				for keyID, k := range keys {
					of := k.Of
					if of == "" {
						of = server + ":" + keyID[len("ed25519:"):]
					}
					ring[server][keyID] = PublicKey{Key: testPublic(t, of), ValidUntilTS: k.ValidUntilTS}
				}
			}
			err := VerifyEvent(v, event, ring)
			wantErr(t, err, c.Error)
			// The bulk paths give the same error.
			if got := VerifyEvents(v, [][]byte{event}, ring, nil)[0]; (got == nil) != (err == nil) || err != nil && got.Error() != err.Error() {
				t.Fatalf("VerifyEvents = %v, VerifyEvent = %v", got, err)
			}
			if _, errs := ParseAndVerifyEvents(v, [][]byte{event}, ring, nil); (errs[0] == nil) != (err == nil) || err != nil && errs[0].Error() != err.Error() {
				t.Fatalf("ParseAndVerifyEvents = %v, VerifyEvent = %v", errs[0], err)
			}
			var ve *VerificationError
			if errors.As(err, &ve) {
				if c.ErrorServer != "" && ve.Server != c.ErrorServer {
					t.Fatalf("error server %q, want %q (%v)", ve.Server, c.ErrorServer, err)
				}
				if c.ErrorKey != "" && ve.KeyID != c.ErrorKey {
					t.Fatalf("error key %q, want %q (%v)", ve.KeyID, c.ErrorKey, err)
				}
				if Redactable(err) != (c.Error == "ErrContentHashMismatch") {
					t.Fatalf("Redactable(%v) wrong", err)
				}
			}
			ev, perr := ParseEvent(v, event)
			if perr != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseEvent fails (%v) but VerifyEvent says %v", perr, err)
				}
				var fe *pdu.FormatError
				if c.Error == "ErrMalformed" && errors.As(err, &fe) != errors.As(perr, &fe) {
					t.Fatalf("format error not reachable with errors.As: %v", err)
				}
				return
			}
			// The parsed path gives the same verdict.
			if err2 := VerifyParsedEvent(ev, ring); (err2 == nil) != (err == nil) || (err != nil && err2.Error() != err.Error()) {
				t.Fatalf("VerifyParsedEvent = %v, VerifyEvent = %v", err2, err)
			}
			// A content hash mismatch leaves every required signature valid.
			if c.Error == "ErrContentHashMismatch" {
				signers, _ := RequiredSigners(ev)
				for _, s := range signers {
					if err := VerifyEventSignature(ev, s, ring); err != nil {
						t.Fatalf("VerifyEventSignature(%s) = %v", s, err)
					}
				}
			}
		})
	}
}

// TestVerifyEventSignatureExpiry: VerifyEventSignature applies key validity from v5 on.
func TestVerifyEventSignatureExpiry(t *testing.T) {
	c := loadCorpus(t)
	ev, err := ParseEvent(c.Version, c.Events[7])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		until int64
		want  string
	}{{0, ""}, {ev.OriginServerTS, ""}, {ev.OriginServerTS - 1, "ErrKeyExpired"}, {ev.OriginServerTS + 1, ""}} {
		ring := KeyRing{"a.example": {"ed25519:1": {Key: c.Keys["a.example"]["ed25519:1"].Key, ValidUntilTS: tc.until}}}
		wantErr(t, VerifyEventSignature(ev, "a.example", ring), tc.want)
	}
	wantErr(t, VerifyEventSignature(ev, "c.example", c.Keys), "ErrMissingSignature")
	wantErr(t, VerifyEventSignature(ev, "a.example", KeyRing{}), "ErrUnknownKey")
	wantErr(t, VerifyEventSignature(ev, "a.example", KeyRing{"a.example": {"ed25519:1": c.Keys["b.example"]["ed25519:1"]}}), "ErrBadSignature")
}

func TestContentHashPadded(t *testing.T) {
	c := loadCorpus(t)
	ev, err := pdu.Parse(c.Version, c.Events[10])
	if err != nil {
		t.Fatal(err)
	}
	for hash, want := range map[string]string{
		ev.ContentHash:        "",
		ev.ContentHash + "=":  "",
		ev.ContentHash + "==": "ErrContentHashMismatch", // not base64: the hash check fails
		ev.ContentHash[:42]:   "ErrContentHashMismatch",
		"":                    "ErrContentHashMismatch",
		ev.ContentHash + "\n": "ErrContentHashMismatch",
	} {
		sum, err := ContentHash(c.Version, c.Events[10])
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, compareContentHash(hash, sum), want)
	}
}

package signing_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// The spec's test vector key (appendices "Cryptographic Test Vectors").
const specKeyFile = "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n"

func ExampleSignEvent() {
	key, err := signing.ParseSigningKey([]byte(specKeyFile))
	if err != nil {
		panic(err)
	}
	v, _ := roomversion.Lookup("1")
	event := []byte(`{"room_id": "!x:domain", "sender": "@a:domain", "origin": "domain",
		"origin_server_ts": 1000000, "signatures": {}, "hashes": {}, "type": "X", "content": {},
		"prev_events": [], "auth_events": [], "depth": 3, "unsigned": {"age_ts": 1000000}}`)
	signed, err := signing.SignEvent(v, event, "domain", key)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(signed))
	// Output:
	// {"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","signatures":{"domain":{"ed25519:1":"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"}},"type":"X","unsigned":{"age_ts":1000000}}
}

func ExampleVerifyEvent() {
	seed := sha256.Sum256([]byte("a.example"))
	key, _ := signing.NewSigningKey("1", seed[:])
	keys := signing.KeyRing{"a.example": {key.KeyID(): {Key: key.Public()}}}
	v, _ := roomversion.Lookup("11")
	event := []byte(`{"room_id":"!r:a.example","sender":"@alice:a.example","type":"m.room.message",
		"content":{"msgtype":"m.text","body":"hi"},"origin_server_ts":1700000000000,"depth":3,
		"prev_events":[],"auth_events":[],"hashes":{},"signatures":{}}`)
	signed, _ := signing.SignEvent(v, event, "a.example", key)
	fmt.Println(signing.VerifyEvent(v, signed, keys))

	// A received copy whose content was changed (or redacted) keeps valid signatures but fails
	// the content hash: the receiver keeps the redacted form.
	changed := bytes.Replace(signed, []byte(`"body":"hi"`), []byte(`"body":"bye"`), 1)
	err := signing.VerifyEvent(v, changed, keys)
	fmt.Println(errors.Is(err, signing.ErrContentHashMismatch), signing.Redactable(err))

	// Without the server's key the caller learns whose key to fetch.
	var ve *signing.VerificationError
	if errors.As(signing.VerifyEvent(v, signed, signing.KeyRing{}), &ve) {
		fmt.Println(ve.Err, ve.Server)
	}
	// Output:
	// <nil>
	// true true
	// no known key for the signature a.example
}

func ExampleKeyCache() {
	seed := sha256.Sum256([]byte("a.example"))
	key, _ := signing.NewSigningKey("1", seed[:])
	keys := signing.KeyRing{"a.example": {key.KeyID(): {Key: key.Public()}}}
	v, _ := roomversion.Lookup("11")

	// One cache for all the events the server verifies as they arrive.
	var cache signing.KeyCache
	for i := range 3 {
		event := []byte(fmt.Sprintf(`{"room_id":"!r:a.example","sender":"@alice:a.example",
			"type":"m.room.message","content":{"msgtype":"m.text","body":"message %d"},
			"origin_server_ts":1700000000000,"depth":3,"prev_events":[],"auth_events":[],
			"hashes":{},"signatures":{}}`, i))
		signed, _ := signing.SignEvent(v, event, "a.example", key)
		fmt.Println(cache.VerifyEvent(v, signed, keys))
	}
	// The key was prepared at its second use; the calls that follow use it.
	fmt.Println(cache.Len())
	// Output:
	// <nil>
	// <nil>
	// <nil>
	// 1
}

func ExampleEventID() {
	v, _ := roomversion.Lookup("4")
	id, err := signing.EventID(v, []byte(`{"room_id":"!r:domain","sender":"@u:domain",
		"type":"m.room.message","content":{"body":"y5"},"origin_server_ts":1,"depth":1,
		"prev_events":[],"auth_events":[],"hashes":{"sha256":"h5"},"signatures":{}}`))
	fmt.Println(id, err)
	// Output:
	// $_lMFQ-v4ckFl2TVuKFmuQWHTz13dFlwySfapA-H6R-g <nil>
}

func ExampleCountersignEvent() {
	keyOf := func(server string) signing.SigningKey {
		seed := sha256.Sum256([]byte(server))
		key, _ := signing.NewSigningKey("1", seed[:])
		return key
	}
	v, _ := roomversion.Lookup("11")
	// An invite as the inviting server a.example sends it to b.example (invites-v2.yaml).
	invite, _ := signing.SignEvent(v, []byte(`{"room_id":"!r:a.example","sender":"@alice:a.example",
		"type":"m.room.member","state_key":"@bob:b.example","content":{"membership":"invite"},
		"origin_server_ts":1700000000000,"depth":3,"prev_events":[],"auth_events":[]}`), "a.example", keyOf("a.example"))
	before, _ := signing.EventID(v, invite)

	// b.example adds its signature and leaves everything else as it is.
	signed, err := signing.CountersignEvent(v, invite, "b.example", keyOf("b.example"))
	if err != nil {
		panic(err)
	}
	after, _ := signing.EventID(v, signed)
	keys := signing.KeyRing{
		"a.example": {"ed25519:1": {Key: keyOf("a.example").Public()}},
		"b.example": {"ed25519:1": {Key: keyOf("b.example").Public()}},
	}
	ev, _ := signing.ParseEvent(v, signed)
	fmt.Println(before == after, signing.VerifyEvent(v, signed, keys), signing.VerifyEventSignature(ev, "b.example", keys))
	// Output: true <nil> <nil>
}

// VerifyEvents verifies many events on all cores; each verdict is exactly VerifyEvent's, and
// VerdictOf says what to do with the event.
func ExampleVerifyEvents() {
	seed := sha256.Sum256([]byte("a.example"))
	key, _ := signing.NewSigningKey("1", seed[:])
	keys := signing.KeyRing{"a.example": {key.KeyID(): {Key: key.Public()}}}
	v, _ := roomversion.Lookup("11")
	var events [][]byte
	for _, body := range []string{"one", "two", "three"} {
		ev, _ := signing.SignEvent(v, []byte(`{"room_id":"!r:a.example","sender":"@alice:a.example",
			"type":"m.room.message","content":{"body":"`+body+`"},"origin_server_ts":1700000000000,
			"depth":3,"prev_events":[],"auth_events":[],"hashes":{},"signatures":{}}`), "a.example", key)
		events = append(events, ev)
	}
	events[1] = bytes.Replace(events[1], []byte(`"two"`), []byte(`"2"`), 1)           // content changed: redact
	events[2] = bytes.Replace(events[2], []byte(`"@alice:`), []byte(`"@mallory:`), 1) // signed field changed: reject
	for i, err := range signing.VerifyEvents(v, events, keys, nil) {
		fmt.Println(i, signing.VerdictOf(err))
	}
	// Output:
	// 0 valid
	// 1 redact
	// 2 reject
}

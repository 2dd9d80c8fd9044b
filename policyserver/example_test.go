package policyserver_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// exampleKey returns a signing key of the given version made from a seed (for examples only).
func exampleKey(version, seed string) signing.SigningKey {
	s := sha256.Sum256([]byte(seed))
	k, err := signing.NewSigningKey(version, s[:])
	if err != nil {
		panic(err)
	}
	return k
}

// exampleEvent returns an event of room !r:a.example (version 11), signed by its sender's server.
func exampleEvent(v roomversion.Version, depth int, typ, stateKey, sender, content string) []byte {
	fields := map[string]any{
		"room_id": "!r:a.example", "type": typ, "sender": sender, "content": json.RawMessage(content),
		"depth": depth, "origin_server_ts": 1700000000000 + depth, "prev_events": []string{}, "auth_events": []string{},
	}
	if stateKey != "-" {
		fields["state_key"] = stateKey
	}
	raw, _ := json.Marshal(fields)
	server, _ := signing.ServerName(sender)
	signed, err := signing.SignEvent(v, raw, server, exampleKey("1", server))
	if err != nil {
		panic(err)
	}
	return signed
}

// A receiving server checks whether an event is recommended for inclusion by the room's Policy
// Server, after the event has passed the authorization rules: an event that is not is soft
// failed (or first, when its signature is missing or invalid, sent to the Policy Server's
// /sign endpoint for a new one).
func ExampleCheck() {
	v, _ := roomversion.Lookup("11")
	policyKey := exampleKey(policyserver.KeyVersion, "policy key of policy.example")
	parse := func(raw []byte) *pdu.Event {
		ev, err := signing.ParseEvent(v, raw)
		if err != nil {
			panic(err)
		}
		return ev
	}
	// The room's current state: the Policy Server's user has joined, and m.room.policy names
	// it with its key.
	var state []*pdu.Event
	for i, e := range [][4]string{
		{"m.room.create", "", "@alice:a.example", `{"room_version":"11"}`},
		{"m.room.member", "@alice:a.example", "@alice:a.example", `{"membership":"join"}`},
		{"m.room.member", "@bob:b.example", "@bob:b.example", `{"membership":"join"}`},
		{"m.room.member", "@ps:policy.example", "@ps:policy.example", `{"membership":"join"}`},
		{"m.room.policy", "", "@alice:a.example", fmt.Sprintf(`{"via":"policy.example","public_keys":{"ed25519":%q}}`,
			base64.RawStdEncoding.EncodeToString(policyKey.Public()))},
	} {
		state = append(state, parse(exampleEvent(v, i+1, e[0], e[1], e[2], e[3])))
	}
	s, err := authrules.NewState(v, state)
	if err != nil {
		panic(err)
	}
	ps, ok := policyserver.Of(s)
	fmt.Println("policy server:", ps.Name, ok)

	// A message from b.example that nobody asked the Policy Server about...
	msg := exampleEvent(v, 6, "m.room.message", "-", "@bob:b.example", `{"msgtype":"m.text","body":"hi"}`)
	err = ps.Check(parse(msg))
	fmt.Println(errors.Is(err, policyserver.ErrMissingSignature), err)

	// ...and the same message once the Policy Server has signed it.
	signed, err := signing.CountersignEvent(v, msg, "policy.example", policyKey)
	if err != nil {
		panic(err)
	}
	fmt.Println(ps.Check(parse(signed)))
	// Output:
	// policy server: policy.example true
	// true policyserver: no Policy Server signature (policy server policy.example) on $zOZXwu4-tPdconUPgCRU_7-1gWcxPtDeCuRaHRty7EM: no ed25519:policy_server signature of policy.example
	// <nil>
}

package pdu_test

import (
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// Parse reads an event once into the fields the rules need and keeps its canonical form,
// which every hash and signature is computed over; a malformed event is a *FormatError that
// names the field.
func ExampleParse() {
	v, _ := roomversion.Lookup("10")
	ev, err := pdu.Parse(v, []byte(`{
		"room_id": "!room:a.example", "sender": "@alice:a.example", "type": "m.room.member",
		"state_key": "@alice:a.example", "content": {"membership": "join", "displayname": "Alice"},
		"depth": 2, "origin_server_ts": 1700000000000, "prev_events": [], "auth_events": [],
		"hashes": {"sha256": "x"}, "signatures": {}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Type, *ev.StateKey, ev.Membership, ev.IsState())
	fmt.Println(string(ev.Content))
	fmt.Println(len(ev.Raw()), "canonical bytes")

	// Room versions 6+ refuse floats (strict canonical JSON).
	_, err = pdu.Parse(v, []byte(`{"room_id":"!room:a.example","sender":"@alice:a.example","type":"m.room.message",
		"content":{},"depth":2.5,"origin_server_ts":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{}}`))
	var fe *pdu.FormatError
	fmt.Println(errors.As(err, &fe), errors.Is(err, pdu.ErrNotJSON))
	fmt.Println(err)
	// Output:
	// m.room.member @alice:a.example join true
	// {"displayname":"Alice","membership":"join"}
	// 282 canonical bytes
	// true true
	// pdu: event: not valid JSON for this room version: canonicaljson: number 2.5 has a fraction or exponent (canonical JSON allows integers only) at offset 105
}

// Event.Signatures lists an event's signatures in canonical order; a server's signatures are
// found by name.
func ExampleSignatures() {
	v, _ := roomversion.Lookup("10")
	ev, err := pdu.Parse(v, []byte(`{
		"room_id": "!room:a.example", "sender": "@alice:a.example", "type": "m.room.message",
		"content": {}, "depth": 2, "origin_server_ts": 1700000000000, "prev_events": [], "auth_events": [],
		"hashes": {"sha256": "x"},
		"signatures": {"b.example": {"ed25519:k": "c2ln"}, "a.example": {"ed25519:2": "YQ", "ed25519:1": "Yg"}}}`))
	if err != nil {
		panic(err)
	}
	for server := range ev.Signatures.Servers() {
		fmt.Println(server, len(ev.Signatures.Server(server)))
	}
	sig, ok := ev.Signatures.Get("a.example", "ed25519:2")
	fmt.Println(sig, ok, ev.Signatures.Signed("c.example"))
	// Output:
	// a.example 2
	// b.example 1
	// YQ true false
}

// ParseIndexed also says where each member is in the event's canonical bytes, so that code which
// goes on to copy or hash members (redaction, content hashes) need not scan the bytes again.
func ExampleParseIndexed() {
	v, _ := roomversion.Lookup("10")
	var idx canonicaljson.Index
	ev, err := pdu.ParseIndexed(v, []byte(`{
		"room_id": "!room:a.example", "sender": "@alice:a.example", "type": "m.room.message",
		"content": {"msgtype": "m.text", "body": "hi"}, "unsigned": {"age": 5},
		"depth": 3, "origin_server_ts": 1700000000000, "prev_events": [], "auth_events": [],
		"hashes": {"sha256": "x"}, "signatures": {}}`), &idx)
	if err != nil {
		panic(err)
	}
	raw := ev.Raw()
	for _, m := range idx.Members {
		if key := string(m.Key(raw)); key == "content" || key == "unsigned" {
			fmt.Printf("%s = %s\n", key, raw[m.Value:m.End])
			for _, n := range idx.Nested[m.NestedStart:m.NestedEnd] {
				fmt.Printf("  %s = %s\n", n.Key(raw), raw[n.Value:n.End])
			}
		}
	}
	// Output:
	// content = {"body":"hi","msgtype":"m.text"}
	//   body = "hi"
	//   msgtype = "m.text"
	// unsigned = {"age":5}
	//   age = 5
}

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

// An EventBuffer parses events one at a time into reused memory, for a loop that is done with
// each event before it parses the next (a verifier's, say): the Event it returns is the
// buffer's, overwritten by the next call (and cleared when that call fails), but its strings
// may be kept.
func ExampleEventBuffer() {
	v, _ := roomversion.Lookup("10")
	events := [][]byte{
		[]byte(`{"auth_events":["$a"],"content":{"body":"hi","msgtype":"m.text"},"depth":3,"hashes":{"sha256":"x"},"origin_server_ts":1700000000000,"prev_events":["$p"],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{"a.example":{"ed25519:1":"c2ln"}},"type":"m.room.message"}`),
		[]byte(`{"type": "m.room.topic", "state_key": "", "sender": "@bob:b.example", "room_id": "!room:a.example",
			"content": {"topic": "Welcome"}, "depth": 4, "origin_server_ts": 1700000000001,
			"prev_events": [], "auth_events": [], "hashes": {"sha256": "y"}, "signatures": {}}`),
		[]byte(`{"type": "m.room.message"}`),
	}
	var buf pdu.EventBuffer
	var idx canonicaljson.Index
	var first *pdu.Event
	var senders []string
	for i, data := range events {
		ev, err := buf.ParseIndexed(v, data, &idx)
		if err != nil {
			fmt.Println(i, "refused:", errors.Is(err, pdu.ErrMissingField), err)
			continue
		}
		if first == nil {
			first = ev
		}
		senders = append(senders, ev.Sender) // a string: kept safely
		fmt.Println(i, ev.Type, string(ev.Content), len(ev.Signatures), "signature(s),", len(idx.Members), "members")
	}
	fmt.Println(senders)
	fmt.Printf("first event now: %q\n", first.Type) // cleared by the failed call
	// Output:
	// 0 m.room.message {"body":"hi","msgtype":"m.text"} 1 signature(s), 10 members
	// 1 m.room.topic {"topic":"Welcome"} 0 signature(s), 11 members
	// 2 refused: true pdu: event field sender: required field missing
	// [@alice:a.example @bob:b.example]
	// first event now: ""
}

package pdu_test

import (
	"errors"
	"fmt"

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

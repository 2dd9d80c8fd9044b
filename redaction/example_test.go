package redaction_test

import (
	"fmt"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

func ExampleRedact() {
	v, _ := roomversion.Lookup("9")
	event := []byte(`{
		"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@bob:b.example",
		"room_id": "!room:a.example", "origin_server_ts": 1700000000000, "depth": 12,
		"content": {"membership": "join", "displayname": "Bob",
		            "join_authorised_via_users_server": "@mod:a.example"},
		"unsigned": {"age": 1234}
	}`)
	redacted, err := redaction.Redact(v, event)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(redacted))
	// Output:
	// {"content":{"join_authorised_via_users_server":"@mod:a.example","membership":"join"},"depth":12,"origin_server_ts":1700000000000,"room_id":"!room:a.example","sender":"@bob:b.example","state_key":"@bob:b.example","type":"m.room.member"}
}

func ExampleDecide() {
	v, _ := roomversion.Lookup("11")
	common := `"room_id":"!room:a.example","auth_events":[],"prev_events":[],"depth":3,` +
		`"origin_server_ts":1700000000000,"hashes":{"sha256":"x"},"signatures":{}`
	target, _ := pdu.Parse(v, []byte(`{"type":"m.room.message","sender":"@alice:a.example",`+
		`"content":{"body":"oops"},`+common+`}`))
	target.EventID = "$target" // signing.ParseEvent sets the reference-hash ID
	red, _ := pdu.Parse(v, []byte(`{"type":"m.room.redaction","sender":"@alice2:a.example",`+
		`"content":{"redacts":"$target"},`+common+`}`))

	fmt.Println(redaction.Decide(v, red, nil, 0, 50))
	fmt.Println(redaction.Decide(v, red, target, 0, 50))
	// Output:
	// wait-for-target target event $target not received yet
	// apply sender of the same domain as the target's sender
}

func ExampleApplyRedaction() {
	v, _ := roomversion.Lookup("11")
	common := `"room_id":"!room:a.example","auth_events":[],"prev_events":[],"depth":3,` +
		`"origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{}`
	target, _ := pdu.Parse(v, []byte(`{"type":"m.room.message","sender":"@alice:a.example",`+
		`"content":{"body":"oops"},"unsigned":{"age":5},`+common+`}`))
	target.EventID = "$target"
	red, _ := pdu.Parse(v, []byte(`{"type":"m.room.redaction","sender":"@alice:a.example",`+
		`"content":{"redacts":"$target"},`+common+`}`))
	out, err := redaction.ApplyRedaction(target, red)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{},"type":"m.room.message","unsigned":{"redacted_because":{"auth_events":[],"content":{"redacts":"$target"},"depth":3,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{},"type":"m.room.redaction"}}}
}

func ExampleAppendSignedBytes() {
	v, _ := roomversion.Lookup("10")
	ev, err := pdu.Parse(v, []byte(`{"type":"m.room.message","sender":"@alice:a.example",
		"room_id":"!room:a.example","content":{"body":"hello"},"auth_events":[],"prev_events":[],
		"depth":3,"origin_server_ts":1700000000000,"hashes":{"sha256":"x"},
		"signatures":{"a.example":{"ed25519:1":"sig"}},"unsigned":{"age":5}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The bytes a.example's signature covers: redacted, without signatures and unsigned.
	msg, err := redaction.AppendSignedBytes(nil, v, ev.Raw())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(msg))
	// Output:
	// {"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"x"},"origin_server_ts":1700000000000,"prev_events":[],"room_id":"!room:a.example","sender":"@alice:a.example","type":"m.room.message"}
}

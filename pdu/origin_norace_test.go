//go:build !race

package pdu_test

import (
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestOriginOfAnyTypeAllocatesNothing: `origin`, which no event format defines, is read only
// when it is a string; an event whose `origin` is a number, an object, null or an array parses
// with the allocations of one without `origin` (no error is built for it and dropped), and its
// Origin is empty. (Not under -race, whose sync.Pool drops items at random.)
func TestOriginOfAnyTypeAllocatesNothing(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	const head = `{"auth_events":[],"content":{},"depth":1,"hashes":{"sha256":"aGFzaA"},`
	const tail = `"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{},"type":"m.room.message"}`
	var buf pdu.EventBuffer
	parse := func(data []byte) *pdu.Event {
		ev, err := buf.ParseIndexed(v, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	parse([]byte(head + `"origin":"a.example",` + tail)) // warm the buffer
	bare := []byte(head + tail)
	want := testing.AllocsPerRun(100, func() { parse(bare) })
	for _, origin := range []string{`5`, `{"a":1}`, `null`, `["a.example"]`, `true`} {
		data := []byte(head + `"origin":` + origin + `,` + tail)
		if ev := parse(data); ev.Origin != "" {
			t.Errorf("origin %s: Origin = %q, want empty", origin, ev.Origin)
		}
		if got := testing.AllocsPerRun(100, func() { parse(data) }); got != want {
			t.Errorf("origin %s: %v allocations per parse, want %v (as without origin)", origin, got, want)
		}
	}
	if ev := parse([]byte(head + `"origin":"a.example",` + tail)); ev.Origin != "a.example" {
		t.Errorf("string origin: Origin = %q, want a.example", ev.Origin)
	}
}

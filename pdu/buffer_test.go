package pdu_test

import (
	"bytes"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// bufferEvents are two events not in canonical form (their members out of order, with
// whitespace), so that parsing either writes its canonical form into some buffer: Parse's pooled
// one (and then a copy the Event keeps) or an EventBuffer's.
var bufferEvents = [2]string{
	`{ "type": "m.room.message", "sender": "@a:a.example", "room_id": "!r:a.example", "content": {"body": "first"}, "depth": 1, "origin_server_ts": 1, "prev_events": [], "auth_events": [], "hashes": {"sha256": "x"}, "signatures": {} }`,
	`{ "type": "m.room.topic", "state_key": "", "sender": "@b:b.example", "room_id": "!s:b.example", "content": {"topic": "the second event, longer than the first"}, "depth": 2, "origin_server_ts": 2, "prev_events": ["$p"], "auth_events": ["$a"], "hashes": {"sha256": "y"}, "signatures": {"b.example": {"ed25519:1": "s"}} }`,
}

// TestParsedEventsKeepTheirBytes: an Event that Parse returns owns its canonical bytes, and one
// an EventBuffer holds lives in the buffer's memory: neither is overwritten by the next Parse,
// which reuses the pooled buffer the canonical form was first written into (the copy Parse makes,
// and the EventBuffer's own memory, are what this checks: mutcheck round seven).
func TestParsedEventsKeepTheirBytes(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	var want [2][]byte
	for i, e := range bufferEvents {
		if want[i], err = canonicaljson.CanonicalStrict([]byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	// Parse, then Parse again: the first Event's bytes are its own.
	first, err := pdu.Parse(v, []byte(bufferEvents[0]))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := pdu.Parse(v, []byte(bufferEvents[1])); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(first.Raw(), want[0]) || string(first.Content) != `{"body":"first"}` {
		t.Errorf("Parse's Event changed when Parse ran again: Raw %s, Content %s", first.Raw(), first.Content)
	}
	// An EventBuffer's Event, then Parse (the pooled buffer): the buffer's Event is unchanged.
	var buf pdu.EventBuffer
	held, err := buf.ParseIndexed(v, []byte(bufferEvents[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := pdu.Parse(v, []byte(bufferEvents[1])); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(held.Raw(), want[0]) || string(held.Content) != `{"body":"first"}` {
		t.Errorf("the EventBuffer's Event changed when Parse ran: Raw %s, Content %s", held.Raw(), held.Content)
	}
	// And the other way round: Parse's Event is unchanged by an EventBuffer's next event.
	for range 3 {
		if _, err := buf.ParseIndexed(v, []byte(bufferEvents[1]), nil); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(first.Raw(), want[0]) {
		t.Errorf("Parse's Event changed when an EventBuffer parsed: %s", first.Raw())
	}
}

// TestCanonicalInputIsKept: Raw is "the bytes Parse was given when they were already canonical",
// also for canonical text that the fast check leaves to the parser (a key with an escape, which
// canonicaljson writes anew and finds equal): the Event's Raw is the caller's slice itself, with
// Parse and with an EventBuffer.
func TestCanonicalInputIsKept(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"auth_events":[],"content":{"a\nb":1,"body":"x"},"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{},"type":"m.room.message"}`)
	if c, err := canonicaljson.CanonicalStrict(data); err != nil || !bytes.Equal(c, data) {
		t.Fatalf("the test event is not canonical: %s, %v", c, err)
	}
	var buf pdu.EventBuffer
	for name, parse := range map[string]func() (*pdu.Event, error){
		"Parse":                    func() (*pdu.Event, error) { return pdu.Parse(v, data) },
		"EventBuffer.ParseIndexed": func() (*pdu.Event, error) { return buf.ParseIndexed(v, data, nil) },
	} {
		ev, err := parse()
		if err != nil {
			t.Fatal(name, err)
		}
		if raw := ev.Raw(); len(raw) != len(data) || &raw[0] != &data[0] {
			t.Errorf("%s: Raw is a copy of canonical input", name)
		}
	}
}

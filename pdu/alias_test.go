package pdu_test

import (
	"bytes"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestAppendToSlicesLeavesTheEvent: the slices an Event hands out (Raw, Content, Unsigned, a
// ContentField value) end their capacity with them, so appending to one allocates: the event's
// bytes and the caller's buffer beyond the event stay as they were (docs/decisions.md,
// Cross-package "Slices handed out are capped"; tools/misuse M2, M3).
func TestAppendToSlicesLeavesTheEvent(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	event := `{"auth_events":[],"content":{"body":"hi","n":{"x":1}},"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!a:a.example","sender":"@a:a.example","signatures":{},"type":"m.room.message","unsigned":{"age":5}}`
	for _, tt := range []struct {
		name   string
		append func(ev *pdu.Event) []byte
	}{
		{"Raw", func(ev *pdu.Event) []byte { return append(ev.Raw(), "ZZZZ"...) }},
		{"Content", func(ev *pdu.Event) []byte { return append(ev.Content, "ZZZZ"...) }},
		{"Unsigned", func(ev *pdu.Event) []byte { return append(ev.Unsigned, "ZZZZ"...) }},
		{"ContentField", func(ev *pdu.Event) []byte { return append(ev.ContentField("body"), "ZZZZ"...) }},
		{"ContentField nested", func(ev *pdu.Event) []byte { return append(ev.ContentField("n"), "ZZZZ"...) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			buf := append([]byte(event), "tail"...) // canonical: Parse keeps these very bytes
			ev, err := pdu.Parse(v, buf[:len(event)])
			if err != nil {
				t.Fatal(err)
			}
			tt.append(ev)
			if !bytes.Equal(ev.Raw(), []byte(event)) {
				t.Errorf("Raw changed: %s", ev.Raw())
			}
			if string(buf) != event+"tail" {
				t.Errorf("the caller's buffer changed: %s", buf)
			}
			if string(ev.Content) != `{"body":"hi","n":{"x":1}}` || string(ev.Unsigned) != `{"age":5}` {
				t.Errorf("Content %s, Unsigned %s", ev.Content, ev.Unsigned)
			}
		})
	}
}

package redaction_test

import (
	"bytes"
	"testing"

	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// TestAppendSignedBytesInPlace: AppendSignedBytes into the memory of its own input gives what
// it gives into a fresh buffer (docs/decisions.md, Cross-package "Slices handed out are capped;
// Append functions may write over their input").
func TestAppendSignedBytesInPlace(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	canon := []byte(`{"auth_events":[],"content":{"body":"hi"},"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!a:a.example","sender":"@a:a.example","signatures":{"a.example":{"ed25519:1":"s"}},"type":"m.room.message","unsigned":{"age":5}}`)
	want, err := redaction.AppendSignedBytes(nil, v, canon)
	if err != nil {
		t.Fatal(err)
	}
	buf := bytes.Clone(canon)
	got, err := redaction.AppendSignedBytes(buf[:0], v, buf)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("in place: %s, %v; want %s", got, err, want)
	}
}

package limitstest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// TestVersionNotFromLookup: every function that takes a room version refuses one that Lookup
// would not return — the zero Version, or one whose ID the spec does not define — with an error
// matching roomversion.ErrUnknownVersion, instead of reading it as a version without rules (the
// zero Version redacted, hashed and selected auth events, and pdu.Parse reported "depth 1 outside
// [0, 0]").
func TestVersionNotFromLookup(t *testing.T) {
	v9, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	event := []byte(`{"auth_events":[],"content":{"body":"hi"},"depth":1,"hashes":{"sha256":"x"},` +
		`"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{},"type":"m.room.message"}`)
	ev, err := pdu.Parse(v9, event)
	if err != nil {
		t.Fatal(err)
	}
	renamed := v9
	renamed.ID = "org.example.nine"
	for _, v := range []roomversion.Version{{}, renamed} {
		calls := []struct {
			name string
			call func() error
		}{
			{"pdu.Parse", func() error { _, err := pdu.Parse(v, event); return err }},
			{"redaction.Redact", func() error { _, err := redaction.Redact(v, event); return err }},
			{"redaction.RedactCanonical", func() error { _, err := redaction.RedactCanonical(v, event); return err }},
			{"redaction.AppendSignedBytes", func() error { _, err := redaction.AppendSignedBytes(nil, v, event); return err }},
			{"redaction.AppendSignedBytesIndexed", func() error {
				var idx canonicaljson.Index
				canon, err := canonicaljson.AppendIndexed(nil, event, canonicaljson.Options{Strict: true}, &idx)
				if err != nil {
					return nil
				}
				_, err = redaction.AppendSignedBytesIndexed(nil, v, canon, &idx)
				return err
			}},
			{"signing.ContentHash", func() error { _, err := signing.ContentHash(v, event); return err }},
			{"signing.CheckContentHash", func() error { return signing.CheckContentHash(v, event) }},
			{"signing.ReferenceHash", func() error { _, err := signing.ReferenceHash(v, event); return err }},
			{"signing.EventID", func() error { _, err := signing.EventID(v, event); return err }},
			{"signing.ParseEvent", func() error { _, err := signing.ParseEvent(v, event); return err }},
			{"signing.VerifyEvent", func() error { return signing.VerifyEvent(v, event, signing.KeyRing{}) }},
			{"signing.VerifyEvents", func() error { return signing.VerifyEvents(v, [][]byte{event}, signing.KeyRing{}, nil)[0] }},
			{"authrules.AuthEventsNeeded", func() error { _, err := authrules.AuthEventsNeeded(v, ev); return err }},
			{"authrules.Check", func() error { return authrules.Check(v, ev, nil, nil) }},
			{"authrules.NewState", func() error { _, err := authrules.NewState(v, nil); return err }},
			{"authrules.ParsePowerLevels", func() error { _, err := authrules.ParsePowerLevels(v, []byte(`{}`)); return err }},
			{"authrules.CheckAuthChain", func() error { _, err := authrules.CheckAuthChain(v, []*pdu.Event{ev}, nil); return err }},
			{"membership.CheckMakeRequest", func() error { return membership.CheckMakeRequest(v, "@a:a.example", "a.example", nil) }},
		}
		for _, c := range calls {
			t.Run(c.name+"/"+v.ID, func(t *testing.T) {
				var err error
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("panicked: %v", r)
						}
					}()
					err = c.call()
				}()
				if err == nil {
					t.Fatalf("no error for room version %q", v.ID)
				}
				if !errors.Is(err, roomversion.ErrUnknownVersion) {
					t.Errorf("%v: does not match roomversion.ErrUnknownVersion", err)
				}
			})
		}
	}
	// A nil Index makes AppendIndexed Append.
	got, err := canonicaljson.AppendIndexed([]byte("x"), event, canonicaljson.Options{Strict: true}, nil)
	want, _ := canonicaljson.Append([]byte("x"), event, canonicaljson.Options{Strict: true})
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("AppendIndexed with a nil Index: %q, %v; want Append's %q", got, err, want)
	}
}

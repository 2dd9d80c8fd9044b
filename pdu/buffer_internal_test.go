package pdu

import (
	"reflect"
	"testing"
)

// TestEventBufferResetBounds: Reset clears the Event and the arrays an EventBuffer keeps (their
// strings are the last event's), keeps arrays up to the sizes events need, and lets go of larger
// ones: the canonical copy past 2*MaxEventSize, the references past MaxPrevEvents+MaxAuthEvents
// (both arrays go together), the signatures past maxRetainedSignatures (8).
func TestEventBufferResetBounds(t *testing.T) {
	refs := MaxPrevEvents + MaxAuthEvents
	for _, tt := range []struct {
		raw, ids, sigs      int
		keepRaw, keepArrays bool
	}{
		{2 * MaxEventSize, refs, 8, true, true}, // maxRetainedSignatures is 8
		{2*MaxEventSize + 1, 1, 1, false, true},
		{1, refs + 1, 1, true, false},
		{1, 1, 9, true, false},
		{1, refs + 1, 9, true, false},
	} {
		var b EventBuffer
		b.raw = make([]byte, 0, tt.raw)
		b.ids = make([]string, tt.ids)
		for i := range b.ids {
			b.ids[i] = "$event"
		}
		b.sigs = make(Signatures, tt.sigs)
		for i := range b.sigs {
			b.sigs[i] = Signature{Server: "a.example", KeyID: "ed25519:1", Value: "sig"}
		}
		ids, sigs := b.ids, b.sigs
		b.ev.ev.Sender, b.ev.stateKey = "@a:a.example", "x"
		b.Reset()
		if !reflect.DeepEqual(b.ev, eventAlloc{}) {
			t.Errorf("%+v: the Event is not cleared", tt)
		}
		if got := b.raw != nil; got != tt.keepRaw {
			t.Errorf("%+v: canonical copy of capacity %d kept %v, want %v", tt, tt.raw, got, tt.keepRaw)
		}
		if got := b.ids != nil && b.sigs != nil; got != tt.keepArrays {
			t.Errorf("%+v: arrays of %d references and %d signatures kept %v, want %v", tt, tt.ids, tt.sigs, got, tt.keepArrays)
		}
		if tt.keepArrays && (b.ids == nil) != (b.sigs == nil) {
			t.Errorf("%+v: one array kept without the other", tt)
		}
		for i := range ids[:cap(ids)] {
			if tt.keepArrays && ids[i] != "" {
				t.Fatalf("%+v: reference %d still holds %q", tt, i, ids[i])
			}
		}
		for i := range sigs[:cap(sigs)] {
			if tt.keepArrays && sigs[i] != (Signature{}) {
				t.Fatalf("%+v: signature %d still holds %+v", tt, i, sigs[i])
			}
		}
	}
}

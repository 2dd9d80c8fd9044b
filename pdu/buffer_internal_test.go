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

// TestWalkBufKeepBounds (round eight, tools/mutcheck/README.md): keep takes back the memory of
// parseCanonical's walk for the next event, emptied: the strings and both lists whatever their
// size, and the signatures' array up to maxRetainedSignatures (8) keys; a larger one is let go
// and the array kept before stays.
//
//	pdu/pdu.go:688 '<=' -> '<' (an array of exactly 8 keys let go)
func TestWalkBufKeepBounds(t *testing.T) {
	for _, tt := range []struct {
		keys int
		keep bool
	}{
		{0, true}, {1, true}, {maxRetainedSignatures, true}, {maxRetainedSignatures + 1, false}, {64, false},
	} {
		old := make([]sigKey, 0, 2)
		m := walkBuf{keys: old}
		w := fieldWalk{
			buf:  make([]byte, 5, 4096),
			prev: make([]strRef, 3, MaxPrevEvents),
			auth: make([]strRef, 1, 2*MaxAuthEvents),
			keys: make([]sigKey, tt.keys),
		}
		m.keep(&w)
		if len(m.strs) != 0 || cap(m.strs) != 4096 || len(m.prev) != 0 || cap(m.prev) != MaxPrevEvents ||
			len(m.auth) != 0 || cap(m.auth) != 2*MaxAuthEvents {
			t.Errorf("%d keys: strings %d/%d, prev %d/%d, auth %d/%d; want all taken back, emptied",
				tt.keys, len(m.strs), cap(m.strs), len(m.prev), cap(m.prev), len(m.auth), cap(m.auth))
		}
		switch {
		case tt.keep && (len(m.keys) != 0 || cap(m.keys) != tt.keys):
			t.Errorf("%d keys: keys %d/%d, want the walk's array, emptied", tt.keys, len(m.keys), cap(m.keys))
		case !tt.keep && (len(m.keys) != 0 || cap(m.keys) != cap(old)):
			t.Errorf("%d keys: keys %d/%d, want the array kept before (0/%d)", tt.keys, len(m.keys), cap(m.keys), cap(old))
		}
	}
}

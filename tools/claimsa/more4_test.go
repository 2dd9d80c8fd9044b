package claimsa

import (
	"encoding/base64"
	"math/big"
	"slices"
	"testing"
	"unsafe"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestIndexTwoLevels checks decisions.md canonicaljson 25 / go doc Index: two levels only.
func TestIndexTwoLevels(t *testing.T) {
	var idx canonicaljson.Index
	out, err := canonicaljson.AppendIndexed(nil, []byte(`{"a":{"b":{"c":1,"d":2}},"e":[{"f":1}]}`), canonicaljson.Options{}, &idx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range idx.Members {
		keys = append(keys, string(m.Key(out)))
		for _, n := range idx.Nested[m.NestedStart:m.NestedEnd] {
			keys = append(keys, string(m.Key(out))+"."+string(n.Key(out)))
		}
	}
	if !slices.Equal(keys, []string{"a", "a.b", "e"}) || len(idx.Nested) != 1 {
		t.Errorf("index = %v (Nested %d), want [a a.b e]", keys, len(idx.Nested))
	}
}

// TestSmallOrderBulk checks decisions.md signing 11 for VerifyEvent and the bulk path
// (VerifyEvents, "the prepared keys of the bulk path"): an event whose signature has R the
// identity point (S = k·a, which satisfies the cofactorless equation) is ErrBadSignature.
func TestSmallOrderBulk(t *testing.T) {
	for _, id := range []string{"3", "10", "12"} {
		v := claimkit.Ver(t, id)
		k := skey(t, "a.example", "1")
		e := signedEvent(t, id, []string{"a.example"})
		canon, _ := canonicaljson.Append(nil, e, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
		msg, err := redaction.AppendSignedBytes(nil, v, canon)
		if err != nil {
			t.Fatal(err)
		}
		a := clampScalar(sha512sum(k.Private.Seed())[:32])
		R := make([]byte, 32)
		R[0] = 1
		S := new(big.Int).Mul(challenge(R, k.Public(), msg), a)
		S.Mod(S, groupL)
		sig := append(slices.Clone(R), leBytes(S)...)
		forged := setTop(t, e, "signatures", `{"a.example":{"ed25519:1":"`+base64.RawStdEncoding.EncodeToString(sig)+`"}}`)
		r := ring(t, "a.example", "1")
		verr(t, "v"+id+" VerifyEvent identity R", signing.VerifyEvent(v, forged, r), signing.ErrBadSignature, "")
		for i, err := range signing.VerifyEvents(v, [][]byte{forged, e, forged}, r, &signing.BatchOptions{Workers: 2}) {
			want := signing.ErrBadSignature
			if i == 1 {
				want = nil
			}
			verr(t, "v"+id+" VerifyEvents identity R", err, want, "")
		}
	}
}

// TestStringFieldsShareOneString checks go doc pdu.Parse: the Event's string fields are
// substrings of one string made per event, of at most the total length of those fields.
func TestStringFieldsShareOneString(t *testing.T) {
	ev, err := pdu.Parse(claimkit.Ver(t, "10"), mkEvent("10", kv{"type", `"m.room.member"`}, kv{"state_key", `"@u:a.example"`},
		kv{"content", `{"membership":"join"}`}, kv{"prev_events", `["$p1","$p2"]`}))
	if err != nil {
		t.Fatal(err)
	}
	strs := []string{ev.RoomID, ev.Sender, ev.Type, *ev.StateKey, ev.ContentHash, ev.Membership}
	strs = append(strs, ev.PrevEvents...)
	strs = append(strs, ev.AuthEvents...)
	for _, s := range ev.Signatures {
		strs = append(strs, s.Server, s.KeyID, s.Value)
	}
	lo, hi, total := ^uintptr(0), uintptr(0), 0
	for _, s := range strs {
		if s == "" {
			continue
		}
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		lo, hi, total = min(lo, p), max(hi, p+uintptr(len(s))), total+len(s)
	}
	if int(hi-lo) > total {
		t.Errorf("string fields span %d bytes, more than their total length %d", hi-lo, total)
	}
}

package claimsf

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// lookupFunc is a KeyLookup made of a function.
type lookupFunc func(server, keyID string) (signing.PublicKey, bool)

func (f lookupFunc) PublicKey(s, k string) (signing.PublicKey, bool) { return f(s, k) }

// counting wraps a KeyLookup and counts its calls.
type counting struct {
	keys signing.KeyLookup
	n    atomic.Int64
}

func (c *counting) PublicKey(s, k string) (signing.PublicKey, bool) {
	c.n.Add(1)
	return c.keys.PublicKey(s, k)
}

// seedKey returns the i-th key of a family of distinct signing keys (key version "1").
func seedKey(i int) signing.SigningKey {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	seed := sha256.Sum256(append([]byte("claimsf"), b[:]...))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		panic(err) // a 32-byte seed and version "1" always make a key
	}
	return k
}

// v12Room is a room ID of the v12 form ("!" and an event ID's hash).
const v12Room = "!AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"

// message returns a message event of room version v with body n, not yet signed (empty hashes
// and signatures), sent by alice of a.example.
func message(t testing.TB, v roomversion.Version, n int) M {
	t.Helper()
	e := M{"room_id": "!r:a.example", "sender": creator, "type": "m.room.message",
		"content": M{"msgtype": "m.text", "body": fmt.Sprintf("message %d", n)}, "origin_server_ts": int64(1_700_000_000_000 + n),
		"depth": int64(3 + n), "prev_events": []any{}, "auth_events": []any{}, "origin": "a.example"}
	if v.Format.RoomIDFromCreateEvent {
		e["room_id"] = v12Room
	}
	if v.Format.HasEventIDField {
		e["event_id"] = fmt.Sprintf("$m%d:a.example", n)
	}
	return e
}

// signAs signs e as server with key.
func signAs(t testing.TB, v roomversion.Version, e M, server string, key signing.SigningKey) []byte {
	t.Helper()
	out, err := signing.SignEvent(v, claimkit.Marshal(t, e), server, key)
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	return out
}

// editJSON decodes b, applies f and encodes the result.
func editJSON(t testing.TB, b []byte, f func(M)) []byte {
	t.Helper()
	var m M
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return claimkit.Marshal(t, m)
}

// damaged returns events of room version v, each with the damage its name says, signed by
// a.example with authfixture's key (and some by b.example).
func damaged(t testing.TB, v roomversion.Version, n int) map[string][]byte {
	t.Helper()
	a := authfixture.Key("a.example")
	good := signAs(t, v, message(t, v, n), "a.example", a)
	out := map[string][]byte{
		"valid": good,
		"bad signature": editJSON(t, good, func(m M) {
			sig := m["signatures"].(map[string]any)["a.example"].(map[string]any)
			s := []byte(sig["ed25519:1"].(string))
			s[3] ^= 'A' ^ 'B'
			if s[3] == s[4] {
				s[3] = 'C'
			}
			sig["ed25519:1"] = string(s)
		}),
		"no signature":       editJSON(t, good, func(m M) { m["signatures"] = M{} }),
		"unknown key ID":     signAs(t, v, message(t, v, n), "a.example", mustKey(t, "zz", a)),
		"other server's key": signAs(t, v, message(t, v, n), "a.example", authfixture.Key("b.example")),
		"content changed":    editJSON(t, good, func(m M) { m["content"].(map[string]any)["body"] = "changed" }),
		"no hashes":          editJSON(t, good, func(m M) { delete(m, "hashes") }),
		"truncated":          good[:len(good)/2],
		"two servers": editJSON(t, signAs(t, v, message(t, v, n), "a.example", a), func(m M) {
			other := editJSON(t, signAs(t, v, message(t, v, n), "b.example", authfixture.Key("b.example")), func(M) {})
			var o M
			_ = json.Unmarshal(other, &o)
			m["signatures"].(map[string]any)["b.example"] = o["signatures"].(map[string]any)["b.example"]
		}),
		"extra bad signature of a.example": editJSON(t, good, func(m M) {
			m["signatures"].(map[string]any)["a.example"].(map[string]any)["ed25519:2"] = "AAAA"
		}),
	}
	if v.Format.HasEventIDField {
		e := message(t, v, n)
		e["event_id"] = fmt.Sprintf("$m%d:c.example", n)
		out["event ID of another domain"] = signAs(t, v, e, "a.example", a)
	}
	return out
}

// mustKey returns key under another key version.
func mustKey(t testing.TB, version string, key signing.SigningKey) signing.SigningKey {
	t.Helper()
	k, err := signing.NewSigningKey(version, key.Private.Seed())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// lookups are the key sets the differential cases verify against: authfixture's ring, one
// whose a.example key expired before every event, one whose a.example key has the wrong length,
// none at all, and a lookup that answers b.example's key for a.example.
func lookups() map[string]signing.KeyLookup {
	expired := authfixture.KeyRing()
	expired["a.example"] = map[string]signing.PublicKey{"ed25519:1": {Key: authfixture.Key("a.example").Public(), ValidUntilTS: 1}}
	short := authfixture.KeyRing()
	short["a.example"] = map[string]signing.PublicKey{"ed25519:1": {Key: authfixture.Key("a.example").Public()[:31]}}
	swapped := authfixture.KeyRing()
	swapped["a.example"] = map[string]signing.PublicKey{"ed25519:1": {Key: authfixture.Key("b.example").Public()}}
	return map[string]signing.KeyLookup{"ring": ring, "expired": expired, "short key": short, "nil": nil,
		"KeyRing(nil)": signing.KeyRing(nil), "swapped": swapped}
}

// sameError fails unless got is exactly want: both nil, or both *VerificationError with the
// same sentinel, server, key ID, detail and text, matching the same sentinels.
func sameError(t testing.TB, what string, got, want error) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if got == nil {
		return
	}
	var g, w *signing.VerificationError
	if !errors.As(got, &g) || !errors.As(want, &w) {
		t.Fatalf("%s: %T %v / %T %v: not *VerificationError", what, got, got, want, want)
	}
	if g.Err != w.Err || g.Server != w.Server || g.KeyID != w.KeyID || g.Detail != w.Detail || got.Error() != want.Error() {
		t.Fatalf("%s:\n got  %#v (%v)\n want %#v (%v)", what, g, got, w, want)
	}
	for _, s := range []error{signing.ErrMalformed, signing.ErrMissingSignature, signing.ErrBadSignature, signing.ErrUnknownKey,
		signing.ErrKeyExpired, signing.ErrContentHashMismatch, signing.ErrNoContentHash, roomversion.ErrUnknownVersion} {
		if errors.Is(got, s) != errors.Is(want, s) {
			t.Fatalf("%s: errors.Is(%v) differs: %v / %v", what, s, got, want)
		}
	}
	if signing.VerdictOf(got) != signing.VerdictOf(want) {
		t.Fatalf("%s: verdict %v, want %v", what, signing.VerdictOf(got), signing.VerdictOf(want))
	}
}

// parsed returns the event pdu.Parse makes of raw for v, nil when it fails.
func parsed(v roomversion.Version, raw []byte) *pdu.Event {
	ev, err := pdu.Parse(v, raw)
	if err != nil {
		return nil
	}
	return ev
}

package limitstest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

func version(tb testing.TB, id string) roomversion.Version {
	tb.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// versions are the room versions the tests run through: both JSON regimes (lenient 1-5,
// strict 6+), both reference formats (pairs in 1-2) and every event ID format.
var versions = []string{"1", "3", "5", "6", "9", "11", "12"}

// fields is an event under construction: top-level key → Go value (json.RawMessage for raw
// JSON).
type fields map[string]any

// baseEvent returns the fields of a valid message event of room version v.
func baseEvent(v roomversion.Version) fields {
	f := fields{
		"room_id":          "!room:a.example",
		"sender":           "@alice:a.example",
		"type":             "m.room.message",
		"content":          fields{"body": "hello", "msgtype": "m.text"},
		"depth":            5,
		"origin_server_ts": 1700000000000,
		"prev_events":      []any{},
		"auth_events":      []any{},
		"hashes":           fields{"sha256": "aGFzaA"},
		"signatures":       fields{},
	}
	if v.Format.HasEventIDField {
		f["event_id"] = "$1:a.example"
	}
	return f
}

// with returns a copy of f with the given changes; a nil value deletes the key.
func (f fields) with(kv ...any) fields {
	out := fields{}
	for k, v := range f {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// bytes returns the canonical JSON of f.
func (f fields) bytes(tb testing.TB) []byte {
	tb.Helper()
	raw, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := canonicaljson.Canonical(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// refs returns n references in v's format: event IDs, or [ID, hashes] pairs in v1-2.
func refs(v roomversion.Version, n, idLen int) []any {
	out := make([]any, n)
	for i := range out {
		id := fmt.Sprintf("$%d", i)
		if v.Format.HasEventIDField {
			id += ":a.example"
		}
		if idLen > 0 {
			id = id + strings.Repeat("x", idLen-len(id))
		}
		if v.Format.ReferencePairs {
			out[i] = []any{id, fields{"sha256": "aGFzaA"}}
		} else {
			out[i] = id
		}
	}
	return out
}

// seed is the benchmark corpus convention: sha256 of the server name.
func seed(server string) []byte {
	s := sha256.Sum256([]byte(server))
	return s[:]
}

func signingKey(tb testing.TB, server string) signing.SigningKey {
	tb.Helper()
	k, err := signing.NewSigningKey("1", seed(server))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// ring returns the public keys (key ID ed25519:1) of the servers.
func ring(servers ...string) signing.KeyRing {
	r := signing.KeyRing{}
	for _, s := range servers {
		priv := ed25519.NewKeyFromSeed(seed(s))
		r[s] = map[string]signing.PublicKey{"ed25519:1": {Key: priv.Public().(ed25519.PublicKey)}}
	}
	return r
}

// sign hashes and signs the event as each server in turn.
func sign(tb testing.TB, v roomversion.Version, raw []byte, servers ...string) []byte {
	tb.Helper()
	for _, s := range servers {
		var err error
		if raw, err = signing.SignEvent(v, raw, s, signingKey(tb, s)); err != nil {
			tb.Fatalf("SignEvent(%s): %v", s, err)
		}
	}
	return raw
}

// wantFormatErr checks that err is a *pdu.FormatError for field with the sentinel.
func wantFormatErr(tb testing.TB, err error, field string, sentinel error) {
	tb.Helper()
	var fe *pdu.FormatError
	if !errors.As(err, &fe) || !errors.Is(err, sentinel) {
		tb.Fatalf("got %v (%T), want a *pdu.FormatError wrapping %v", err, err, sentinel)
	}
	if fe.Field != field {
		tb.Fatalf("FormatError.Field = %q, want %q (%v)", fe.Field, field, err)
	}
}

// mustParse parses raw for v or fails the test.
func mustParse(tb testing.TB, v roomversion.Version, raw []byte) *pdu.Event {
	tb.Helper()
	ev, err := signing.ParseEvent(v, raw)
	if err != nil {
		tb.Fatalf("room version %s: %v\n%.300s", v.ID, err, raw)
	}
	return ev
}

// counting is a KeyLookup that counts its lookups.
type counting struct {
	signing.KeyLookup
	n int
}

func (c *counting) PublicKey(server, keyID string) (signing.PublicKey, bool) {
	c.n++
	return c.KeyLookup.PublicKey(server, keyID)
}

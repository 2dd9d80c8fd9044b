// Package misuse probes the API contracts of roomproto's library packages:
// what each exported function does with inputs its callers get wrong
// (aliasing, mixed room versions and rooms, zero values, reuse). See README.md.
package misuse

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// knownFinding skips a case that fails because of a reported finding (see
// /work/logs/audit-misuse.md and README.md) unless MISUSE_KNOWN=1.
func knownFinding(t *testing.T, id string) { t.Helper(); claimkit.KnownFinding(t, "misuse", id) }

// noPanic runs f and turns a panic into a test failure naming it.
func noPanic(t *testing.T, f func()) (panicked bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("panic: %v", r)
			panicked = true
		}
	}()
	f()
	return false
}

func key(server string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

var servers = []string{"a.example", "b.example", "c.example", "policy.example"}

func ring() signing.KeyRing {
	r := signing.KeyRing{}
	for _, s := range servers {
		r[s] = map[string]signing.PublicKey{"ed25519:1": {Key: key(s).Public()}}
	}
	return r
}

// obj is an event being built.
type obj map[string]any

// raw signs ev (filling the usual fields) for room version v as the sender's
// server and returns its canonical bytes.
func raw(t testing.TB, v roomversion.Version, ev obj) []byte {
	t.Helper()
	e := obj{"origin_server_ts": int64(1000), "depth": int64(1), "prev_events": []any{}, "auth_events": []any{}, "content": obj{}}
	for k, x := range ev {
		e[k] = x
	}
	if v.Format.EventID == roomversion.EventIDOpaque {
		if _, ok := e["event_id"]; !ok {
			e["event_id"] = fmt.Sprintf("$%x:a.example", sha256.Sum256(mustJSON(t, ev)))
		}
	}
	b := mustJSON(t, e)
	sender, _ := e["sender"].(string)
	srv, _ := signing.ServerName(sender)
	if srv == "" {
		srv = "a.example"
	}
	out, err := signing.SignEvent(v, b, srv, key(srv))
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	return out
}

func mustJSON(t testing.TB, x any) []byte {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parse(t testing.TB, v roomversion.Version, b []byte) *pdu.Event {
	t.Helper()
	ev, err := signing.ParseEvent(v, b)
	if err != nil {
		t.Fatalf("ParseEvent(%s): %v\n%s", v.ID, err, b)
	}
	return ev
}

// ev builds, signs and parses an event.
func ev(t testing.TB, v roomversion.Version, e obj) *pdu.Event {
	t.Helper()
	return parse(t, v, raw(t, v, e))
}

const roomA, roomB = "!a:a.example", "!b:a.example"

// room returns the basic state events of a public room of version v (1-11)
// with room ID roomID created by @alice:a.example, who is joined, plus
// @mod:b.example joined; and extra events.
func room(t testing.TB, v roomversion.Version, roomID string, extra ...obj) []*pdu.Event {
	t.Helper()
	sk := ""
	events := []obj{
		{"type": "m.room.create", "state_key": sk, "sender": "@alice:a.example", "room_id": roomID,
			"content": obj{"creator": "@alice:a.example", "room_version": v.ID}},
		{"type": "m.room.member", "state_key": "@alice:a.example", "sender": "@alice:a.example", "room_id": roomID,
			"content": obj{"membership": "join"}},
		{"type": "m.room.power_levels", "state_key": sk, "sender": "@alice:a.example", "room_id": roomID,
			"content": obj{"users": obj{"@alice:a.example": 100, "@mod:b.example": 50}, "invite": 0}},
		{"type": "m.room.join_rules", "state_key": sk, "sender": "@alice:a.example", "room_id": roomID,
			"content": obj{"join_rule": "public"}},
		{"type": "m.room.member", "state_key": "@mod:b.example", "sender": "@mod:b.example", "room_id": roomID,
			"content": obj{"membership": "join"}},
	}
	events = append(events, extra...)
	out := make([]*pdu.Event, len(events))
	for i, e := range events {
		out[i] = ev(t, v, e)
	}
	return out
}

func clone(b []byte) []byte { return bytes.Clone(b) }

// scribble overwrites every byte of b.
func scribble(b []byte) {
	for i := range b {
		b[i] = 'X'
	}
}

func signingCountersign(t testing.TB, v roomversion.Version, b []byte, server string) ([]byte, error) {
	t.Helper()
	out, err := signing.CountersignEvent(v, b, server, key(server))
	if err != nil {
		t.Fatal(err)
	}
	return out, nil
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

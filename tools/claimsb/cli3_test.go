package claimsb

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// DESIGN.md CLI contract: verify skips unknown servers/keys; valid when at least one known-key
// signature and every known-key signature holds. auth-events prints [type, state_key] pairs.
func TestCLIVerifyContract(t *testing.T) {
	keys := keysFile(t, "a.example")
	obj, _ := signing.SignJSON([]byte(`{"a":1}`), "a.example", authgen.KeyFor("a.example", "1"))
	var m map[string]any
	_ = json.Unmarshal(obj, &m)
	m["signatures"].(map[string]any)["c.example"] = M{"ed25519:1": authgen.DummySig}
	m["signatures"].(map[string]any)["a.example"].(map[string]any)["ed25519:zz"] = authgen.DummySig
	o, _, c := cli(t, claimkit.Marshal(t, m), "verify", "--keys", keys)
	if c != 0 || o != `{"valid":true}`+"\n" {
		t.Errorf("unknown servers and keys skipped: %q", o)
	}
	m["signatures"].(map[string]any)["a.example"].(map[string]any)["ed25519:1"] = authgen.DummySig
	o, _, c = cli(t, claimkit.Marshal(t, m), "verify", "--keys", keys)
	if c != 0 || !strings.HasPrefix(o, `{"reason":"`) || !strings.HasSuffix(o, `,"valid":false}`+"\n") {
		t.Errorf("bad known-key signature: %q", o)
	}
	o, _, c = cli(t, []byte(`{"a":1,"signatures":{"c.example":{"ed25519:1":"x"}}}`), "verify", "--keys", keys)
	if c != 0 || !strings.Contains(o, `"valid":false`) {
		t.Errorf("no known-key signature: %q", o)
	}
	v := ver("10")
	e := raw(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@carol:c.example", "content": M{"membership": "invite"}})
	o, _, c = cli(t, e, "auth-events", "--room-version", "10")
	var pairs [][2]string
	if err := json.Unmarshal([]byte(o), &pairs); c != 0 || err != nil || len(pairs) != 5 {
		t.Errorf("auth-events %q", o)
	}
}

// decisions.md (bulk) 10: each event counted once, under its first problem: format, signature,
// authorisation, then redaction.
func TestVerifyRoomCountOrder(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	msg := raw(t, v, M{"sender": "@bob:b.example", "content": M{"body": "hi"}, "auth_events": refs(v, r.create, r.pl), "prev_events": refs(v, r.jr), "depth": 5})
	var m map[string]any
	_ = json.Unmarshal(msg, &m)
	m["content"] = M{"body": "changed"}
	hashBadRejected := claimkit.Marshal(t, m)
	malformed := []byte(`{"room_id":"!room:a.example","sender":"@alice:a.example"}`)
	var evs []json.RawMessage
	for _, e := range r.events() {
		evs = append(evs, e.Raw())
	}
	evs = append(evs, hashBadRejected, malformed)
	o, e, c := cli(t, claimkit.Marshal(t, M{"room_version": "10", "events": evs}), "verify-room", "--keys", keysFile(t, "a.example", "b.example"), "--quiet")
	if c != 0 || e != "" {
		t.Fatalf("%d %q", c, e)
	}
	if !strings.Contains(o, `"rejected":1`) || !strings.Contains(o, `"redacted":0`) || !strings.Contains(o, `"malformed":1`) || !strings.Contains(o, `"valid":4`) {
		t.Errorf("counts:\n%s", o)
	}
}

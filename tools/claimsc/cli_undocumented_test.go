package claimsc

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// README "The command-line tool" and docs/decisions.md (cmd) 3b: `roomproto replay [--keys FILE]
// [FILE]` (its key set replaces the dump's), `verify-room --keys FILE [--quiet] [FILE]`, a room
// dump's optional "keys" member (the built-in example room carries its keys, so its restricted
// join's 4.2.1 signature is verified: no warning), and a --keys key given as {"key": ...,
// "valid_until_ts": ...}. (Finding C5: these were undocumented; the texts now say them.)
func TestReadmeDocumentedFlags(t *testing.T) {
	p := example(t)
	_, room := loadExample(t)
	var noKeys M
	json.Unmarshal(room, &noKeys)
	delete(noKeys, "keys")
	dir := writeFiles(t, map[string][]byte{"keys": p.keys, "room": room, "nokeys": claimkit.Marshal(t, noKeys), "empty": []byte(`{}`)})
	t.Run("replay --keys verifies with the file's keys", func(t *testing.T) {
		if l := strings.Split(run(t, dir, nil, "replay", "--keys", "keys", "nokeys").ok(t), "\n")[8]; strings.Contains(l, "warning") || !strings.Contains(l, "accepted rule 4.3.5.3") {
			t.Errorf("line %q: want the restricted join accepted by 4.3.5.3, verified", l)
		}
		if l := strings.Split(run(t, dir, nil, "replay", "--keys", "empty", "room").ok(t), "\n")[8]; !strings.Contains(l, "rejected rule 4.2.1") {
			t.Errorf("line %q: --keys {} replaces the dump's keys: want rule 4.2.1", l)
		}
	})
	t.Run("verify-room --quiet", func(t *testing.T) {
		r := run(t, dir, nil, "verify-room", "--quiet", "--keys", "keys", "room")
		if r.code != 0 || r.stderr != "" {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("the built-in room carries its keys: no 4.2.1 warning", func(t *testing.T) {
		out := run(t, dir, nil, "replay").ok(t)
		if l := strings.Split(out, "\n")[8]; strings.Contains(l, "warning") || !strings.Contains(l, "accepted rule 4.3.5.3") {
			t.Errorf("line %q: want the restricted join accepted, verified", l)
		}
	})
	t.Run("--keys takes {key, valid_until_ts} objects", func(t *testing.T) {
		d := writeFiles(t, map[string][]byte{"k": []byte(`{"c.example":{"ed25519:1":{"key":"` + base64Pub("c.example") + `","valid_until_ts":5}}}`)})
		r := run(t, d, p.raw[10], "verify-event", "--room-version", "9", "--keys", "k")
		if r.code != 0 {
			t.Errorf("exit %d, stderr %q: the object form is refused", r.code, r.stderr)
		}
	})
	// A dump without keys gets the warning.
	if l := strings.Split(run(t, dir, nil, "replay", "nokeys").ok(t), "\n")[8]; !strings.Contains(l, "warning, rule 4.2.1") {
		t.Errorf("dump without keys: %q, want the 4.2.1 warning", l)
	}
}

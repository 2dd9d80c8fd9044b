package claimsc

import (
	"encoding/json"
	"strings"
	"testing"
)

// README "The command-line tool" lists each command's flags (`roomproto replay [FILE]`,
// `roomproto verify-room --keys FILE [FILE]`), `roomproto help` repeats them, and DESIGN.md
// gives replay's input as `{"room_version":"9","events":[...]}`. README: "replay prints the
// warning beside the verdict" (no keys: 4.2.1 presence only). Two flags and one member of the
// dump are in none of them: `replay --keys FILE`, `verify-room --quiet`, and the dump's "keys"
// (which the built-in example room carries, so that its restricted join is verified).
func TestReadmeUndocumentedFlags(t *testing.T) {
	p := example(t)
	ex, room := loadExample(t)
	var noKeys M
	json.Unmarshal(room, &noKeys)
	delete(noKeys, "keys")
	dir := writeFiles(t, map[string][]byte{"keys": p.keys, "room": room, "nokeys": marshal(t, noKeys)})
	_ = ex
	t.Run("replay --keys is not a flag", func(t *testing.T) {
		knownFinding(t, "C5")
		run(t, dir, nil, "replay", "--keys", "keys", "nokeys").usageError(t, "roomproto replay: ", "keys")
	})
	t.Run("verify-room --quiet is not a flag", func(t *testing.T) {
		knownFinding(t, "C5")
		run(t, dir, nil, "verify-room", "--quiet", "--keys", "keys", "room").usageError(t, "roomproto verify-room: ", "quiet")
	})
	t.Run("the built-in room, like a dump without keys, warns on its restricted join", func(t *testing.T) {
		knownFinding(t, "C5")
		out := run(t, dir, nil, "replay").ok(t)
		if l := strings.Split(out, "\n")[8]; !strings.Contains(l, "warning, rule 4.2.1") {
			t.Errorf("line %q: no 4.2.1 warning; the built-in room's \"keys\" verified the signature", l)
		}
	})
	t.Run("--keys takes only {server: {key ID: unpadded base64}}", func(t *testing.T) {
		knownFinding(t, "C5")
		d := writeFiles(t, map[string][]byte{"k": []byte(`{"c.example":{"ed25519:1":{"key":"` + base64Pub("c.example") + `","valid_until_ts":5}}}`)})
		run(t, d, p.raw[10], "verify-event", "--room-version", "9", "--keys", "k").usageError(t, "roomproto verify-event: ")
	})
	// What holds: a dump without keys gets the warning.
	if l := strings.Split(run(t, dir, nil, "replay", "nokeys").ok(t), "\n")[8]; !strings.Contains(l, "warning, rule 4.2.1") {
		t.Errorf("dump without keys: %q, want the 4.2.1 warning", l)
	}
}

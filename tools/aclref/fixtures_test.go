package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestFixturesAgree runs testdata/serveracl/allowed.json through the spec-only reference with
// docs/decisions.md's readings (ACLREF_DECISIONS=1): for each ACL content and server name, the
// reference's verdict on the content (op allowed) and on a room state holding the event (op
// state) must be the fixture's.
func TestFixturesAgree(t *testing.T) {
	pyref.Require(t)
	b, err := os.ReadFile("../../testdata/serveracl/allowed.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string          `json:"name"`
		Content json.RawMessage `json:"content"`
		Checks  map[string]bool `json:"checks"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	ref, err := pyref.Start(pyref.Beside("aclref.py"), "ACLREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	compared := 0
	for _, c := range cases {
		content := hex.EncodeToString(c.Content)
		for server, want := range c.Checks {
			compared++
			var a, s struct {
				Allowed bool   `json:"allowed"`
				HasACL  bool   `json:"has_acl"`
				Error   string `json:"error"`
			}
			name := hex.EncodeToString([]byte(server))
			if err := ref.Ask(map[string]any{"op": "allowed", "content": content, "name": name}, &a); err != nil {
				t.Fatal(err)
			}
			events := []map[string]string{{"type": "m.room.server_acl", "state_key": "", "content": content}}
			if err := ref.Ask(map[string]any{"op": "state", "events": events, "name": name}, &s); err != nil {
				t.Fatal(err)
			}
			if a.Error != "" || s.Error != "" {
				t.Errorf("%s/%q: reference error: %s %s", c.Name, server, a.Error, s.Error)
				continue
			}
			if a.Allowed != want || s.Allowed != want || !s.HasACL {
				t.Errorf("%s: Allowed(%q): fixture %v; reference %v (state: %v, has ACL %v)", c.Name, server, want, a.Allowed, s.Allowed, s.HasACL)
			}
		}
	}
	if len(cases) < 25 || compared < 80 {
		t.Errorf("compared %d server names of %d cases: want at least 80 of 25", compared, len(cases))
	}
	t.Logf("compared %d server names of %d cases", compared, len(cases))
}

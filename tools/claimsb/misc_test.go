package claimsb

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/roomproto/roomproto/membership"
)

// decisions.md (membership) 13: v1-2 template auth_events/prev_events are [event_id, {}] pairs.
func TestTemplateV2Pairs(t *testing.T) {
	v := ver("2")
	r := newRoom(t, v, "public", nil)
	_, tm, err := membership.MakeJoin(membership.JoinRequest{State: r.state(t), UserID: "@bob:b.example", ResidentServer: "a.example"},
		membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1, PrevEvents: []string{r.jr.EventID}, Depth: 5})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		AuthEvents [][]json.RawMessage `json:"auth_events"`
		PrevEvents [][]json.RawMessage `json:"prev_events"`
	}
	if err := json.Unmarshal(tm.Event, &m); err != nil || len(m.AuthEvents) != 3 || len(m.PrevEvents) != 1 {
		t.Fatalf("template %s: %v", tm.Event, err)
	}
	for _, p := range append(m.AuthEvents, m.PrevEvents...) {
		if len(p) != 2 || string(p[1]) != "{}" {
			t.Errorf("pair %s", p)
		}
	}
}

// decisions.md (hostile input) 10 (settled by B4): "No generated corpus is committed:
// internal/limits_test/testdata/fuzz/ holds only the regression inputs of two past failures".
func TestNoFuzzCorpus(t *testing.T) {
	if _, err := os.Stat("../../cmd/roomproto/testdata/fuzz"); err == nil {
		t.Errorf("cmd/roomproto/testdata/fuzz exists")
	}
	n := 0
	_ = filepath.WalkDir("../../internal/limits_test/testdata/fuzz", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n != 3 {
		t.Errorf("internal/limits_test/testdata/fuzz holds %d files, the entry says the three regression inputs", n)
	}
}

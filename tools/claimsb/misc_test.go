package claimsb

import (
	"encoding/json"
	"os"
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

// decisions.md (hostile input) 10: "No testdata/fuzz/ corpus is committed" (limits fuzz targets
// and FuzzCLIInput).
func TestNoFuzzCorpus(t *testing.T) {
	for _, d := range []string{"../../internal/limits_test/testdata/fuzz", "../../cmd/roomproto/testdata/fuzz"} {
		if _, err := os.Stat(d); err == nil {
			t.Logf("%s exists", d)
			knownFinding(t, "B4")
		}
	}
}

package claimsc

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// SECURITY.md "Known issues", fixed on 2026-11-29: "events refused by roomproto alone: ...
// nesting of 65-127 levels, v1-2 event IDs with control characters, and v1-2 reference pairs
// whose second element is a string; and, the other way round, v1-5 depth and origin_server_ts
// written as 5e0, which roomproto alone accepted"; "Events and third-party invites' signed keep
// the stricter shape their schemas give signatures"; a v1-2 event ID with a line break is not
// printed by `roomproto event-id`.
func TestSecurityKnownIssuesFixed(t *testing.T) {
	v1, v5, v9 := claimkit.Ver(t, "1"), claimkit.Ver(t, "5"), claimkit.Ver(t, "9")
	if _, err := pdu.Parse(v1, claimkit.Marshal(t, baseEvent(v1, M{"prev_events": []any{[]any{"$a:a.example", "x"}}}))); err != nil {
		t.Errorf("v1 reference pair with a string: %v", err)
	}
	for _, f := range []string{"depth", "origin_server_ts"} {
		in := strings.Replace(string(claimkit.Marshal(t, baseEvent(v5, nil))), `"`+f+`":1`, `"`+f+`":1e0`, 1)
		_, err := pdu.Parse(v5, []byte(in))
		wantFormat(t, "v5 "+f+" 1e0", err, f, pdu.ErrWrongType)
	}
	for _, id := range []string{"$a\x01b:a.example", "$a\nb:a.example", "$a\x7fb:a.example"} {
		if _, err := pdu.Parse(v1, claimkit.Marshal(t, baseEvent(v1, M{"event_id": id}))); err != nil {
			t.Errorf("v1 event_id %q: %v", id, err)
		}
	}
	lf := claimkit.Marshal(t, baseEvent(v1, M{"event_id": "$a\nb:a.example"}))
	run(t, "", lf, "event-id", "--room-version", "1").usageError(t, "roomproto event-id: ", "line break")
	_, err := pdu.Parse(v9, claimkit.Marshal(t, baseEvent(v9, M{"signatures": M{"relay.example": "junk"}})))
	if !errors.Is(err, pdu.ErrNotObject) {
		t.Errorf("v9 event whose signatures hold a string entry: %v, want refused", err)
	}
}

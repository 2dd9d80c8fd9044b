package claimse

import (
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// signing.CountersignEvent's doc: "The one exception is a signature by the key ID
// `ed25519:policy_server`, kept as it is"; decisions.md (signing), (membership) 18.
func TestCountersignKeepsPolicyServer(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			ev := M{"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@bob:b.example",
				"room_id": "!room:a.example", "origin_server_ts": 1, "depth": 3, "content": M{"membership": "join"},
				"prev_events": []any{}, "auth_events": []any{}}
			if v.Format.HasEventIDField {
				ev["event_id"] = "$join:b.example"
				ev["origin"] = "b.example"
			}
			raw, _ := json.Marshal(ev)
			signed, err := signing.SignEvent(v, raw, "b.example", authfixture.Key("b.example"))
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := json.Unmarshal(signed, &obj); err != nil {
				t.Fatal(err)
			}
			sigs := obj["signatures"].(map[string]any)
			sigs["a.example"] = M{"ed25519:policy_server": "cHM", "ed25519:old": "b2xk", "ed25519:1": "c3RhbGU"}
			in, _ := json.Marshal(obj)
			out, err := signing.CountersignEvent(v, in, "a.example", authfixture.Key("a.example"))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Signatures map[string]map[string]string `json:"signatures"`
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatal(err)
			}
			a := got.Signatures["a.example"]
			if a["ed25519:policy_server"] != "cHM" {
				t.Errorf("policy_server signature: %q, want kept", a["ed25519:policy_server"])
			}
			if _, ok := a["ed25519:old"]; ok {
				t.Errorf("ed25519:old kept: %v (every other signature under serverName is replaced)", a)
			}
			if a["ed25519:1"] == "c3RhbGU" || a["ed25519:1"] == "" || len(a) != 2 {
				t.Errorf("a.example: %v", a)
			}
			if len(got.Signatures["b.example"]) != 1 {
				t.Errorf("origin's signatures: %v", got.Signatures["b.example"])
			}
			// "changes nothing else ... so the event ID does not change"
			p1, err := pdu.Parse(v, signed)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := pdu.Parse(v, out)
			if err != nil {
				t.Fatal(err)
			}
			if p1.EventID != p2.EventID {
				t.Errorf("event ID %s -> %s", p1.EventID, p2.EventID)
			}
		})
	}
}

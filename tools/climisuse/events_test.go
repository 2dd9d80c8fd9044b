package climisuse

import (
	"strings"
	"testing"

	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
)

// has wants exit 0, empty stderr and a stdout holding each of subs.
func has(subs ...string) want {
	return okOut(func(s string) string {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return "want it to hold " + sub
			}
		}
		if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
			return "want one line"
		}
		return ""
	})
}

// TestEventFormats: each event command given an event of the format of another room version,
// a redacted event, and events whose unsigned, signatures or hashes have the wrong type.
func TestEventFormats(t *testing.T) {
	fixtures(t)
	sev := file(t, "sev.json")
	redacted, err := redaction.Redact(ver("9"), sev)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, "redacted.json", redacted)
	idOf := func(rv string, ev []byte) string {
		id, err := signing.EventID(ver(rv), ev)
		if err != nil {
			t.Fatal(err)
		}
		return id + "\n"
	}
	fatal := func(has string) want {
		return okOut(func(s string) string {
			if !strings.HasPrefix(s, `{"allowed":false,"severity":"fatal","reason":"`) || !strings.Contains(s, has) {
				return "want the fatal verdict naming " + has
			}
			return ""
		})
	}
	invalid := func(has string) want {
		return okOut(func(s string) string {
			if !strings.HasPrefix(s, `{"reason":"`) || !strings.HasSuffix(s, `","valid":false}`+"\n") || !strings.Contains(s, has) {
				return "want {\"valid\":false} naming " + has
			}
			return ""
		})
	}
	vev := func(rv, f string) []string {
		return []string{"verify-event", "--room-version", rv, "--keys", "keys.json", f}
	}
	auth := func(rv, f string) []string {
		return []string{"auth", "--room-version", rv, "--auth-events", "nokeys-array.json", f}
	}
	writeFile(t, "nokeys-array.json", []byte(`[]`))
	cases := []cliCase{
		// v1-2 events (with event_id) read as v9, v9 events read as v1, the v12 create
		// (no room_id) read as v9 and the v9 create (with room_id) read as v12.
		{name: "event-id: v1 event as v9 is hashed", args: []string{"event-id", "--room-version", "9", "sev_v1.json"}, want: ok(idOf("9", file(t, "sev_v1.json")))},
		{name: "event-id: v1 event as v1 is its event_id", args: []string{"event-id", "--room-version", "1", "sev_v1.json"}, want: ok("$abc:a.example\n")},
		{name: "event-id: v9 event as v1", args: []string{"event-id", "--room-version", "1", "sev.json"}, want: fails("no event_id")},
		{name: "auth-events: v9 event as v1", args: []string{"auth-events", "--room-version", "1", "sev.json"}, want: fails("event_id")},
		{name: "verify-event: v9 event as v1", args: vev("1", "sev.json"), want: invalid("event_id")},
		{name: "auth: v9 event as v1", args: auth("1", "sev.json"), want: fatal("event_id")},
		{name: "policy-check: v9 event as v1", args: []string{"policy-check", "--room-version", "1", "--state", "nokeys-array.json", "sev.json"}, want: fails("event_id")},
		{name: "verify-event: v1 event as v9", args: vev("9", "sev_v1.json"), want: ok(`{"valid":true}` + "\n")},
		{name: "verify-event: v12 create as v9", args: vev("9", "sev12.json"), want: invalid("room_id")},
		{name: "auth: v12 create as v9", args: auth("9", "sev12.json"), want: fatal("room_id")},
		{name: "auth-events: v12 create as v9", args: []string{"auth-events", "--room-version", "9", "sev12.json"}, want: fails("room_id")},
		{name: "auth: v9 create as v12", args: auth("12", "sev.json"), want: has(`"allowed":false`, `"rule":"1.2"`)},
		{name: "verify-event: v9 create as v12", args: vev("12", "sev.json"), want: invalid("bad signature")},
		{name: "verify-event: v12 create as v12", args: vev("12", "sev12.json"), want: ok(`{"valid":true}` + "\n")},
		{name: "event-id: v12 create", args: []string{"event-id", "--room-version", "12", "sev12.json"}, want: ok(idOf("12", file(t, "sev12.json")))},

		// A redacted event: its content hash no longer matches (redact, not reject).
		{name: "verify-event: redacted event", args: vev("9", "redacted.json"), want: invalid("content hash mismatch")},
		{name: "event-id: redacted event keeps its ID", args: []string{"event-id", "--room-version", "9", "redacted.json"}, want: ok(idOf("9", sev))},
		{name: "redact: redacting twice", args: []string{"redact", "--room-version", "9", "redacted.json"}, want: ok(string(redacted) + "\n")},
		{name: "auth: redacted create", args: auth("9", "redacted.json"), want: ok(`{"allowed":true}` + "\n")},
	}
	// Wrong types of unsigned, signatures and hashes: the hash and ID functions take any
	// object (docs/decisions.md, cross-package "Command line"); the PDU readers refuse.
	for _, w := range []struct{ name, key, val, pduErr string }{
		{"unsigned a string", "unsigned", `"x"`, "unsigned"},
		{"unsigned null", "unsigned", `null`, "unsigned"},
		{"signatures an array", "signatures", `[]`, "signatures"},
		{"signature a number", "signatures", `{"a.example":{"ed25519:1":5}}`, "signatures"},
		{"hashes a string", "hashes", `"x"`, "hashes"},
		{"hashes.sha256 a number", "hashes", `{"sha256":5}`, "hashes"},
	} {
		f := writeFile(t, "wrong-"+strings.ReplaceAll(w.name, " ", "-")+".json", setField(sev, w.key, w.val))
		cases = append(cases,
			cliCase{name: "verify-event: " + w.name, args: vev("9", f), want: invalid(w.pduErr)},
			cliCase{name: "auth: " + w.name, args: auth("9", f), want: fatal(w.pduErr)},
			cliCase{name: "auth-events: " + w.name, args: []string{"auth-events", "--room-version", "9", f}, want: fails(w.pduErr)},
			cliCase{name: "content-hash: " + w.name, args: []string{"content-hash", f}, want: has(`{"sha256":"`)},
		)
	}
	runCases(t, cases)
}

package redaction_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// handlingCase is one fixture of testdata/redaction/handling.json.
type handlingCase struct {
	name, spec          string
	versions            []string
	redaction, target   []byte // target nil: not received
	power, level        int64
	decision, reason    string
	applied, applyError string
}

func loadHandling(t *testing.T) []handlingCase { return loadHandlingTB(t) }

func loadHandlingTB(t testing.TB) []handlingCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "redaction", "handling.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	get := func(m map[string]json.RawMessage, k string, dst any) {
		if v, ok := m[k]; ok {
			if err := json.Unmarshal(v, dst); err != nil {
				t.Fatalf("field %s: %v", k, err)
			}
		}
	}
	var out []handlingCase
	for _, m := range raw {
		var c handlingCase
		get(m, "name", &c.name)
		get(m, "spec", &c.spec)
		get(m, "versions", &c.versions)
		get(m, "sender_power_level", &c.power)
		get(m, "redact_level", &c.level)
		get(m, "decision", &c.decision)
		get(m, "reason", &c.reason)
		get(m, "applied", &c.applied)
		get(m, "apply_error", &c.applyError)
		c.redaction = m["redaction"]
		if t := m["target"]; string(t) != "null" {
			c.target = t
		}
		if c.name == "" || c.spec == "" || len(c.versions) == 0 || c.redaction == nil || c.decision == "" {
			t.Fatalf("incomplete case %q", c.name)
		}
		if c.decision == "apply" && c.applied == "" && c.applyError == "" {
			t.Fatalf("case %q: an applied redaction needs its expected output", c.name)
		}
		out = append(out, c)
	}
	return out
}

// parseWithID parses an event for v and sets its event ID from its `event_id` field, as
// signing.ParseEvent does with the reference hash from room version 3.
func parseWithID(t *testing.T, v roomversion.Version, data []byte) *pdu.Event {
	t.Helper()
	e, err := pdu.Parse(v, data)
	if err != nil {
		t.Fatalf("pdu.Parse: %v", err)
	}
	if e.EventID == "" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if id, ok := m["event_id"]; ok {
			if err := json.Unmarshal(id, &e.EventID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

func TestDecideFixtures(t *testing.T) {
	cases := loadHandling(t)
	if len(cases) < 20 {
		t.Fatalf("only %d fixtures", len(cases))
	}
	for _, c := range cases {
		for _, id := range c.versions {
			v := lookup(t, id)
			t.Run(c.name+"/v"+id, func(t *testing.T) {
				red := parseWithID(t, v, c.redaction)
				var target *pdu.Event
				if c.target != nil {
					target = parseWithID(t, v, c.target)
				}
				d, reason := redaction.Decide(v, red, target, c.power, c.level)
				if d.String() != c.decision || reason != c.reason {
					t.Fatalf("got %s %q, want %s %q", d, reason, c.decision, c.reason)
				}
				// DecideCompared answers the same from any value of the comparison's sign.
				cmp := 0
				switch {
				case c.power < c.level:
					cmp = -7
				case c.power > c.level:
					cmp = 3
				}
				if d2, reason2 := redaction.DecideCompared(v, red, target, cmp); d2 != d || reason2 != reason {
					t.Fatalf("DecideCompared(%d): %s %q, Decide: %s %q", cmp, d2, reason2, d, reason)
				}
				if target == nil {
					return
				}
				applied, err := redaction.ApplyRedaction(target, red)
				switch c.applyError {
				case "":
					if c.decision != "apply" {
						return // ApplyRedaction checks only the match; nothing to compare
					}
					if err != nil {
						t.Fatalf("ApplyRedaction: %v", err)
					}
					if string(applied) != c.applied {
						t.Fatalf("ApplyRedaction:\ngot  %s\nwant %s", applied, c.applied)
					}
					checkApplied(t, v, target, applied)
				case "wrong_target", "not_redaction":
					want := map[string]error{"wrong_target": redaction.ErrWrongTarget, "not_redaction": redaction.ErrNotRedaction}[c.applyError]
					var re *redaction.Error
					if !errors.Is(err, want) || !errors.As(err, &re) || applied != nil {
						t.Fatalf("ApplyRedaction: got %q, %v; want %s", applied, err, c.applyError)
					}
				default:
					t.Fatalf("unknown apply_error %q", c.applyError)
				}
			})
		}
	}
}

// checkApplied asserts that an applied redaction is canonical and keeps the target's reference
// hash: the client-facing copy is still the same event.
func checkApplied(t *testing.T, v roomversion.Version, target *pdu.Event, applied []byte) {
	t.Helper()
	canon, err := canonicaljson.Append(nil, applied, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	if err != nil || string(canon) != string(applied) {
		t.Fatalf("not canonical: %v", err)
	}
	h1, err := referenceHash(v, target.Raw())
	if err != nil {
		t.Fatal(err)
	}
	h2, err := referenceHash(v, applied)
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 {
		t.Fatal("applying the redaction changed the reference hash")
	}
}

func TestDecideNilAndStrings(t *testing.T) {
	v := lookup(t, "10")
	if d, reason := redaction.Decide(v, nil, nil, 100, 0); d != redaction.Ignore || reason != "not an m.room.redaction event" {
		t.Fatalf("nil redaction: %s %q", d, reason)
	}
	for d, want := range map[redaction.Decision]string{
		redaction.Apply: "apply", redaction.WaitForTarget: "wait-for-target", redaction.Ignore: "ignore", 0: "Decision(0)",
	} {
		if d.String() != want {
			t.Errorf("%d: %q, want %q", int(d), d.String(), want)
		}
	}
	if _, err := redaction.ApplyRedaction(nil, nil); !errors.Is(err, redaction.ErrWrongTarget) {
		t.Fatalf("nil events: %v", err)
	}
}

// TestApplyRedactionTargetWithoutID checks that a target whose event ID was never set (pdu.Parse
// in room version 3+) is refused rather than matched blindly.
func TestApplyRedactionTargetWithoutID(t *testing.T) {
	v := lookup(t, "11")
	fill := `"auth_events":[],"prev_events":[],"depth":1,"origin_server_ts":1,"hashes":{"sha256":"h"},"signatures":{}`
	target, err := pdu.Parse(v, []byte(`{"room_id":"!r:a","sender":"@a:a","type":"m.room.message","content":{},`+fill+`}`))
	if err != nil {
		t.Fatal(err)
	}
	red, err := pdu.Parse(v, []byte(`{"room_id":"!r:a","sender":"@a:a","type":"m.room.redaction","content":{"redacts":"$x"},`+fill+`}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := redaction.ApplyRedaction(target, red); !errors.Is(err, redaction.ErrWrongTarget) {
		t.Fatalf("got %v", err)
	}
	if d, reason := redaction.Decide(v, red, target, 100, 0); d != redaction.Ignore || reason != "target event ID unknown (parse the target with its event ID)" {
		t.Fatalf("got %s %q", d, reason)
	}
}

// TestDecideComparedBeyondInt64 shows why DecideCompared exists: in a v9 room whose power levels
// are strings beyond the int64 range (rooms/fragments/v1-stringy-power-levels.md), a sender at
// 2**63+5 is below a redact level of 2**63+10, though both saturate to the same int64. With the
// exact comparison, the redaction of another server's event is ignored; with the saturated levels
// Decide would apply it.
func TestDecideComparedBeyondInt64(t *testing.T) {
	v := lookup(t, "9")
	var c *handlingCase
	cases := loadHandling(t)
	for i := range cases {
		if cases[i].name == "sender at the redact level may redact another server's event (v3-v10)" {
			c = &cases[i]
		}
	}
	if c == nil {
		t.Fatal("fixture not found")
	}
	red, target := parseWithID(t, v, c.redaction), parseWithID(t, v, c.target)
	pl, err := authrules.ParsePowerLevels(v, []byte(`{"redact":"9223372036854775818","users":{"@mod:b.example":"9223372036854775813"}}`))
	if err != nil {
		t.Fatal(err)
	}
	sender, redact := pl.UserLevel(red.Sender), pl.RedactLevel()
	if sender != redact {
		t.Fatalf("levels %d and %d: expected both saturated", sender, redact)
	}
	if d, _ := redaction.Decide(v, red, target, sender, redact); d != redaction.Apply {
		t.Fatalf("saturated levels: %s, want apply", d)
	}
	cmp, ok := pl.CompareUserTo(red.Sender, "redact")
	if !ok || cmp != -1 {
		t.Fatalf("CompareUserTo = %d, %v", cmp, ok)
	}
	d, reason := redaction.DecideCompared(v, red, target, cmp)
	if d != redaction.Ignore || reason != "sender below the redact level and of another domain than the target's sender" {
		t.Fatalf("exact comparison: %s %q", d, reason)
	}
}

// TestDecideVersionMismatch: events parsed for one room version are not judged or applied under
// another. A v10 redaction carries `redacts` at the top level; judged under v11, whose
// redactions carry it in `content`, it would be read from the wrong field.
func TestDecideVersionMismatch(t *testing.T) {
	v10, v11 := lookup(t, "10"), lookup(t, "11")
	fill := `"auth_events":[],"prev_events":[],"depth":1,"origin_server_ts":1,"hashes":{"sha256":"h"},"signatures":{}`
	target := parseWithID(t, v11, []byte(`{"event_id":"$t","room_id":"!r:a.example","sender":"@a:a.example","type":"m.room.message","content":{},`+fill+`}`))
	target10 := parseWithID(t, v10, []byte(`{"event_id":"$t","room_id":"!r:a.example","sender":"@a:a.example","type":"m.room.message","content":{},`+fill+`}`))
	red10 := parseWithID(t, v10, []byte(`{"room_id":"!r:a.example","sender":"@m:a.example","type":"m.room.redaction","redacts":"$t","content":{},`+fill+`}`))
	for _, c := range []struct {
		name           string
		v              roomversion.Version
		target         *pdu.Event
		want           redaction.Decision
		reasonContains string
	}{
		{"v10 redaction judged under v11", v11, target, redaction.Ignore, `parsed for room version "10", not "11"`},
		{"v10 redaction of a v11 target under v10", v10, target, redaction.Ignore, `different room versions ("11", "10")`},
		{"both v10, judged under v10", v10, target10, redaction.Apply, "redact level"},
	} {
		d, reason := redaction.Decide(c.v, red10, c.target, 100, 50)
		if d != c.want || !strings.Contains(reason, c.reasonContains) {
			t.Errorf("%s: %s (%s), want %s (%s)", c.name, d, reason, c.want, c.reasonContains)
		}
	}
	if _, err := redaction.ApplyRedaction(target, red10); !errors.Is(err, redaction.ErrWrongTarget) {
		t.Errorf("ApplyRedaction of a v10 redaction to a v11 target: %v, want ErrWrongTarget", err)
	}
	if _, err := redaction.ApplyRedaction(target10, red10); err != nil {
		t.Errorf("ApplyRedaction, both v10: %v", err)
	}
}

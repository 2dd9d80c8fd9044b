package climisuse

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/tools/internal/clitest"
)

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// replaySummary wants replay's last line to be exactly summary.
func replaySummary(summary string) want {
	return okOut(func(s string) string {
		if got := lastLine(s); got != summary {
			return "summary " + got + "\nwant    " + summary
		}
		return ""
	})
}

// vrSummary wants verify-room's summary, timing left out (finding C3), to be exactly summary.
func vrSummary(summary string) want {
	return okOut(func(s string) string {
		if got := stripTiming(lastLine(s)); got != summary {
			return "summary " + got + "\nwant    " + summary
		}
		return ""
	})
}

// TestDumps: replay and verify-room given dumps that are out of order, duplicated, missing
// auth events, of several rooms, or declaring another version than their create event.
func TestDumps(t *testing.T) {
	fixtures(t)
	ex := loadExample()
	ev := ex.Events
	// The example room's create, signed anew for another room ID, and its name event (which
	// cites this room's auth events) moved to the other room.
	otherCreate := json.RawMessage(signEvent("9", setField(ev[0], "room_id", `"!other:a.example"`)))
	otherName := json.RawMessage(signEvent("9", setField(setField(ev[15], "room_id", `"!other:a.example"`), "content", `{"name":"foreign"}`)))
	cat := func(parts ...[]json.RawMessage) []json.RawMessage {
		var out []json.RawMessage
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	rev := make([]json.RawMessage, len(ev))
	for i := range ev {
		rev[i] = ev[len(ev)-1-i]
	}
	d := func(name string, rv string, events []json.RawMessage) string {
		return writeFile(t, "dump-"+name+".json", dump(rv, true, events...))
	}
	const exampleSummary = `summary: room version 9, 16 events, 12 accepted, 4 rejected (rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1)`
	const exampleVR = `{"summary":{"bad_signature":0,"events":16,"malformed":0,"missing_key":0,"redacted":0,"rejected":4,"rejected_by_rule":{"4.3.5.2":1,"4.7.1":1,"5":1,"9.7.1":1},"valid":12}}`
	vr := func(f string) []string { return []string{"verify-room", "--quiet", "--keys", "erkeys.json", f} }
	cases := []cliCase{
		{name: "replay: the example room", args: []string{"replay", "room.json"}, want: replaySummary(exampleSummary)},
		{name: "replay: no FILE is the example room", args: []string{"replay"}, stdin: []byte("ignored"), want: replaySummary(exampleSummary)},
		{name: "verify-room: the example room", args: vr("room.json"), want: vrSummary(exampleVR)},
		{name: "replay: empty dump", args: []string{"replay", d("empty", "9", []json.RawMessage{})}, want: replaySummary("summary: room version 9, 0 events, 0 accepted, 0 rejected")},
		{name: "verify-room: empty dump", args: vr("dump-empty.json"), want: vrSummary(`{"summary":{"bad_signature":0,"events":0,"malformed":0,"missing_key":0,"redacted":0,"rejected":0,"rejected_by_rule":{},"valid":0}}`)},

		// Order: replay takes the dump in order (DESIGN.md); verify-room orders by auth events.
		{name: "replay: reversed", args: []string{"replay", d("reversed", "9", rev)}, want: replaySummary("summary: room version 9, 16 events, 1 accepted, 15 rejected (rule 2.4: 15)")},
		{name: "verify-room: reversed is the same room", args: vr("dump-reversed.json"), want: vrSummary(exampleVR)},

		// Duplicates keep the first copy's verdict.
		{name: "replay: duplicated events", args: []string{"replay", d("dup", "9", cat(ev, ev[:3]))}, want: replaySummary(`summary: room version 9, 19 events, 15 accepted, 4 rejected (rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1)`)},
		{name: "verify-room: duplicated events", args: vr("dump-dup.json"), want: vrSummary(`{"summary":{"bad_signature":0,"events":19,"malformed":0,"missing_key":0,"redacted":0,"rejected":4,"rejected_by_rule":{"4.3.5.2":1,"4.7.1":1,"5":1,"9.7.1":1},"valid":15}}`)},

		// A missing auth event (alice's join).
		{name: "verify-room: missing auth event", args: vr(d("missing", "9", cat(ev[:1], ev[2:]))), want: vrSummary(`{"summary":{"bad_signature":0,"events":15,"malformed":0,"missing_key":0,"redacted":0,"rejected":14,"rejected_by_rule":{"2":6,"2.3":8},"valid":1}}`)},
		{name: "replay: no create", args: []string{"replay", d("nocreate", "9", ev[1:])}, want: replaySummary("summary: room version 9, 15 events, 0 accepted, 15 rejected (rule 2.4: 15)")},

		// Entries that are no events.
		{name: "replay: non-object entries", args: []string{"replay", d("nonobj", "9", cat(ev[:3], []json.RawMessage{json.RawMessage(`5`), json.RawMessage(`"x"`), json.RawMessage(`null`)}, ev[3:]))}, want: replaySummary(`summary: room version 9, 19 events, 12 accepted, 7 rejected (rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1, unparsable: 3)`)},
		{name: "verify-room: non-object entries", args: vr("dump-nonobj.json"), want: vrSummary(`{"summary":{"bad_signature":0,"events":19,"malformed":3,"missing_key":0,"redacted":0,"rejected":4,"rejected_by_rule":{"4.3.5.2":1,"4.7.1":1,"5":1,"9.7.1":1},"valid":12}}`)},

		// Events of another room.
		{name: "replay: another room's create first", args: []string{"replay", d("othercreate", "9", cat([]json.RawMessage{otherCreate}, ev))}, want: replaySummary(`summary: room version 9, 17 events, 12 accepted, 5 rejected (another room: 1, rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1)`)},
		{name: "replay: another room's event citing this room", args: []string{"replay", d("othername", "9", cat(ev, []json.RawMessage{otherName}))}, want: replaySummary(`summary: room version 9, 17 events, 12 accepted, 5 rejected (another room: 1, rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1)`)},
		{name: "verify-room: another room's event citing this room", args: vr("dump-othername.json"), want: vrSummary(`{"summary":{"bad_signature":0,"events":17,"malformed":0,"missing_key":0,"redacted":0,"rejected":5,"rejected_by_rule":{"":1,"4.3.5.2":1,"4.7.1":1,"5":1,"9.7.1":1},"valid":12}}`)},
		{name: "verify-room: another room's create", args: vr("dump-othercreate.json"), want: okOut(func(s string) string {
			if !strings.Contains(s, `{"index":0,`) {
				return "another room's create (index 0) is not reported (replay: \"another room\")"
			}
			return ""
		})},
		{name: "verify-room: two whole v12 rooms", args: vr12(t), want: okOut(func(s string) string {
			if strings.Contains(s, `"valid":60`) {
				return "both rooms' 60 events valid in one room dump (replay: 30 accepted, 30 rejected, \"another room\" and rule 2)"
			}
			return ""
		})},
		{name: "replay: two whole v12 rooms", args: []string{"replay", "dump-two12.json"}, want: replaySummary("summary: room version 12, 60 events, 30 accepted, 30 rejected (another room: 1, rule 2: 29)")},

		// Another version than the events': v1 needs event_id, v12 redacts otherwise.
		{name: "replay: v9 events declared v1", args: []string{"replay", d("v1", "1", ev)}, want: replaySummary("summary: room version 1, 16 events, 0 accepted, 16 rejected (unparsable: 16)")},
		{name: "verify-room: v9 events declared v1", args: vr("dump-v1.json"), want: vrSummary(`{"summary":{"bad_signature":0,"events":16,"malformed":16,"missing_key":0,"redacted":0,"rejected":0,"rejected_by_rule":{},"valid":0}}`)},
		{name: "replay: unknown version", args: []string{"replay", d("v99", "99", ev)}, want: fails(`unknown room version "99"`)},
		{name: "replay: version a number", args: []string{"replay", writeFile(t, "dump-vnum.json", []byte(`{"room_version":9,"events":[]}`))}, want: fails("room_version must be a string")},
		{name: "verify-room: no events member", args: vr(writeFile(t, "dump-noevents.json", []byte(`{"room_version":"9"}`))), want: fails("events")},
		{name: "replay: events an object", args: []string{"replay", writeFile(t, "dump-evobj.json", []byte(`{"room_version":"9","events":{}}`))}, want: fails("events")},
		{name: "replay: a bare event array", args: []string{"replay", writeFile(t, "dump-array.json", mustJSON(ev))}, want: fails("room dump must be a JSON object")},
	}
	runCases(t, cases)

	// The declared version differs from the create event's content.room_version: refused, or
	// at least said, as replay says it (a warning beside the create's verdict); verify-room
	// says it in its summary's "warnings" (finding C5, fixed: it used to judge silently).
	for _, c := range []struct{ name, file string }{
		{"v9 room declared v10", d("v10", "10", ev)},
	} {
		for _, args := range [][]string{{"replay", c.file}, vr(c.file)} {
			t.Run(args[0]+": "+c.name, func(t *testing.T) {
				r := run(t, nil, args...)
				if !mentionsVersionMismatch(r) {
					t.Errorf("exit %d, stdout %.300q, stderr %q: want the mismatch of room versions refused (exit 1) or said", r.Code, lastLine(r.Stdout), r.Stderr)
				}
			})
		}
	}
}

// vr12 writes a dump of two generated v12 rooms of 30 events each, one after the other, with
// the keys of both, and returns the verify-room command line for it.
func vr12(t *testing.T) []string {
	t.Helper()
	var events []json.RawMessage
	keys := map[string]map[string]string{}
	for _, seed := range []uint64{1, 2} {
		r, err := roomgen.Generate(roomgen.Config{RoomVersion: "12", Events: 30, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Events {
			events = append(events, e)
		}
		var k map[string]map[string]string
		if err := json.Unmarshal(r.KeysJSON(), &k); err != nil {
			t.Fatal(err)
		}
		for s, ids := range k {
			if keys[s] == nil {
				keys[s] = map[string]string{}
			}
			for id, key := range ids {
				keys[s][id] = key
			}
		}
	}
	writeFile(t, "dump-two12.json", mustJSON(map[string]any{"room_version": "12", "events": events}))
	return []string{"verify-room", "--quiet", "--keys", writeFile(t, "keys-two12.json", mustJSON(keys)), "dump-two12.json"}
}

// mentionsVersionMismatch: exit 1 naming room_version, or exit 0 with output that says so.
func mentionsVersionMismatch(r clitest.Result) bool {
	if r.Code == 1 {
		return r.Stdout == "" && strings.Contains(r.Stderr, "room_version")
	}
	return r.Code == 0 && strings.Contains(r.Stdout, "room_version")
}

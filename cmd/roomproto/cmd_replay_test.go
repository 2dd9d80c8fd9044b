package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// rpRun runs the tool and returns its exit status, stdout and stderr.
func rpRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExampleRoomUpToDate(t *testing.T) {
	room, err := roomgen.ExampleRoom()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(room.ReplayFile(), exampleRoom) {
		t.Fatal("cmd/roomproto/exampleroom.json is stale: run go generate ./cmd/roomproto")
	}
}

func TestReplayExampleRoom(t *testing.T) {
	code, out, errOut := rpRun(t, "", "replay")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 18 || !strings.HasPrefix(lines[0], "#") || !strings.HasPrefix(lines[17], "summary: room version 9, 16 events, 12 accepted, 4 rejected") {
		t.Fatalf("output:\n%s", out)
	}
	room, _ := roomgen.ExampleRoom()
	// The rule that allowed each accepted event (rooms/fragments/v8-auth-rules.md numbering,
	// room version 9): the create event, the creator's join, power levels without previous
	// ones, the "otherwise allow" of other events, an invite, a join of an invited user, the
	// restricted join through an authorising user, a ban.
	allowedBy := []string{"1.5", "4.3.1", "9.2", "10", "10", "4.4.4", "4.3.5.1", "4.3.5.3", "", "", "10", "", "10", "4.6.2", "", "10"}
	for i, want := range room.Expect {
		line := lines[i+1]
		if !strings.Contains(line, room.EventIDs[i]) {
			t.Errorf("line %d lacks the event ID: %s", i+1, line)
		}
		ok := strings.HasSuffix(line, "accepted rule "+allowedBy[i])
		if want.Rejected {
			ok = strings.Contains(line, "rejected rule "+want.Rule+": ")
		}
		if !ok {
			t.Errorf("%s: verdict %q", want.Note, line)
		}
	}
	// Columns are aligned: the verdict starts at the same offset on every line.
	col := strings.Index(lines[0], "VERDICT")
	for _, l := range lines[1:17] {
		if !strings.HasPrefix(l[col:], "accepted") && !strings.HasPrefix(l[col:], "rejected") {
			t.Fatalf("misaligned: %q", l)
		}
	}
}

func TestReplayFileAndErrors(t *testing.T) {
	for _, vid := range []string{"9", "12"} {
		t.Run("v"+vid, func(t *testing.T) { testReplayFile(t, vid) })
	}
}

// testReplayFile replays a generated room of version vid from a file and from standard input,
// with and without keys, and checks every verdict and rule against the generator's.
func testReplayFile(t *testing.T, vid string) {
	room, err := roomgen.Generate(roomgen.Config{RoomVersion: vid, Events: 400, Seed: 5, Rejected: 40})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "room.json")
	if err := os.WriteFile(path, room.ReplayJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keys, room.KeysJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for _, o := range room.Expect {
		if o.Rejected {
			rejected++
		}
	}
	for _, args := range [][]string{{"replay", path}, {"replay", "--keys", keys, path}} {
		code, out, errOut := rpRun(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 402 {
			t.Fatalf("%d lines", len(lines))
		}
		for i, want := range room.Expect {
			if got := strings.Contains(lines[i+1], "rejected rule "+want.Rule+":"); want.Rejected && !got {
				t.Fatalf("event %d (%s): %s", i, want.Note, lines[i+1])
			}
			if !want.Rejected && !strings.Contains(lines[i+1], "accepted") {
				t.Fatalf("event %d (%s): %s", i, want.Note, lines[i+1])
			}
		}
		if !strings.Contains(lines[401], ", 400 events") {
			t.Fatalf("summary %q", lines[401])
		}
	}
	// Standard input with "-".
	if code, out, _ := rpRun(t, string(room.ReplayJSON()), "replay", "-"); code != 0 || strings.Count(out, "\n") != 402 {
		t.Fatalf("stdin: exit %d", code)
	}
}

func TestReplayErrors(t *testing.T) {
	for _, c := range []struct{ name, in string }{
		{"not JSON", `{"room_version":`},
		{"not an object", `[]`},
		{"no version", `{"events":[]}`},
		{"unknown version", `{"room_version":"99","events":[]}`},
		{"version not a string", `{"room_version":9,"events":[]}`},
		{"no events", `{"room_version":"9"}`},
		{"bad keys", `{"room_version":"9","events":[],"keys":{"a":{"x":"y"}}}`},
	} {
		code, _, errOut := rpRun(t, c.in, "replay", "-")
		if code != 1 || !strings.HasPrefix(errOut, "roomproto replay: ") || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", c.name, code, errOut)
		}
	}
	if code, _, _ := rpRun(t, "", "replay", "a", "b"); code != 1 {
		t.Fatalf("two files: exit %d", code)
	}
	if code, _, _ := rpRun(t, "", "replay", filepath.Join(t.TempDir(), "absent.json")); code != 1 {
		t.Fatalf("absent file: exit %d", code)
	}
}

// TestReplayDisagreement: an event whose own auth events allow it but the state before it does
// not (a banned user citing his old join) is rejected, with a note saying so; an event with an
// unparsable body is reported on its line.
func TestReplayDisagreement(t *testing.T) {
	dump, events := exampleDump(t)
	room, _ := roomgen.ExampleRoom()
	// Auth events: create, power levels, and bob's join (event 8, before his ban).
	stale := `{"auth_events":["` + room.EventIDs[0] + `","` + room.EventIDs[2] + `","` + room.EventIDs[7] + `"],` +
		`"content":{"body":"I was here first","msgtype":"m.text"},"depth":99,"hashes":{"sha256":"x"},` +
		`"origin_server_ts":1800000000000,"prev_events":["` + room.EventIDs[15] + `"],"room_id":"!example:a.example",` +
		`"sender":"@bob:c.example","signatures":{},"type":"m.room.message"}`
	events = append(events, json.RawMessage(stale), json.RawMessage(`{"type":1}`))
	lines := replayLines(t, dump, events)
	if !strings.Contains(lines[17], "rejected rule 5:") || !strings.Contains(lines[17], "its auth events allow it; the state before it does not") {
		t.Fatalf("stale auth events: %s", lines[17])
	}
	if !strings.Contains(lines[18], "rejected: pdu:") || !strings.Contains(lines[19], "unparsable: 1") {
		t.Fatalf("unparsable event: %s / %s", lines[18], lines[19])
	}
}

func TestSplitTop(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`[1]`, []string{`1`}},
		{`[ 1 , "a,]}" , {"b":[1,2,{"c":"\"]"}]} ,null,true, [ [] ] ]`, []string{`1`, `"a,]}"`, `{"b":[1,2,{"c":"\"]"}]}`, `null`, `true`, `[ [] ]`}},
		{"[\n{\"a\":\"\\\\\"},\n2\n]", []string{`{"a":"\\"}`, `2`}},
	} {
		got := splitTop([]byte(c.in))
		if len(got) != len(c.want) {
			t.Fatalf("%s: %q", c.in, got)
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Fatalf("%s: element %d is %q, want %q", c.in, i, got[i], c.want[i])
			}
		}
	}
}

// FuzzReplayDump: any bytes as a room dump give an error or a replay, never a panic.
func FuzzReplayDump(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input, which is slow on the whole example
	// room. The first three events of the example room, then a few odd dumps.
	room, err := roomgen.ExampleRoom()
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"room_version":"9","events":[` + string(room.Events[0]) + "," + string(room.Events[1]) + "," + string(room.Events[3]) + `]}`))
	f.Add([]byte(`{"room_version":"9","events":[{"type":"m.room.create"}]}`))
	f.Add([]byte(`{"room_version":"1","events":[]}`))
	f.Add([]byte(`{"room_version":"12","events":[1,"x",null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseRoomDump(data)
		if err != nil {
			return
		}
		// The splitter gives the elements encoding/json sees.
		var top map[string]json.RawMessage
		var want []json.RawMessage
		if json.Unmarshal(data, &top) == nil && json.Unmarshal(top["events"], &want) == nil {
			if len(want) != len(d.events) {
				t.Fatalf("%d events, encoding/json sees %d", len(d.events), len(want))
			}
			for i := range want {
				if !bytes.Equal(want[i], d.events[i]) {
					t.Fatalf("event %d: %q, encoding/json: %q", i, d.events[i], want[i])
				}
			}
		}
		if len(d.events) > 64 {
			return
		}
		d.keys = nil // signature checks under coverage instrumentation make fuzzing crawl
		verdicts, err := replayRoom(d)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := printReplay(&out, d, verdicts); err != nil {
			t.Fatal(err)
		}
		if strings.Count(out.String(), "\n") != len(d.events)+2 {
			t.Fatalf("%d lines for %d events", strings.Count(out.String(), "\n"), len(d.events))
		}
	})
}

// TestCell: replay table cells stay one column of one line whatever an ID, type or state key
// holds.
func TestCell(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", `""`},
		{"@alice:a.example", "@alice:a.example"},
		{"m.room.message", "m.room.message"},
		{"é.中", "é.中"},
		{"a b", `"a b"`},
		{"a\tb", `"a\tb"`},
		{"$e\x01v:a.example", `"$e\x01v:a.example"`},
		{"x\ny", `"x\ny"`},
		{"\xed\xa0\x80", `"\xed\xa0\x80"`},
		{"\u2028", `"\u2028"`},
		{"-", `"-"`},     // not the mark of no state key
		{`""`, `"\"\""`}, // not the empty state key
		{`"x`, `"\"x"`},
		{"a-b", "a-b"},
	} {
		if got := cell(tt.in); got != tt.want {
			t.Errorf("cell(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestReplayDumpEdges: events that are one event's problem stay that event's problem. An event
// nested as deep as an event may be is replayed (the dump's two extra levels do not count
// against it), and a deeper one is a rejected row, not an unusable dump; an event of another
// room (v1-11, where no rule reads room_id) is rejected and kept out of the state; a second
// copy of an event ID has the first copy's verdict and is not checked again.
func TestReplayDumpEdges(t *testing.T) {
	dump, events := exampleDump(t)
	room, _ := roomgen.ExampleRoom()
	nested := func(levels int) string { // an object `levels` deep
		return strings.Repeat(`{"a":`, levels-1) + `{}` + strings.Repeat(`}`, levels-1)
	}
	message := func(roomID, content string, depth int) json.RawMessage {
		return json.RawMessage(`{"auth_events":["` + room.EventIDs[0] + `","` + room.EventIDs[2] + `","` + room.EventIDs[1] + `"],` +
			`"content":` + content + `,"depth":` + fmt.Sprint(depth) + `,"hashes":{"sha256":"x"},"origin_server_ts":1800000000000,` +
			`"prev_events":["` + room.EventIDs[15] + `"],"room_id":"` + roomID + `","sender":"@alice:a.example",` +
			`"signatures":{},"type":"m.room.message"}`)
	}
	events = append(events,
		message("!example:a.example", nested(126), 97),          // 17: the event is 127 deep: accepted
		message("!example:a.example", nested(200), 98),          // 18: too deep for an event
		message("!other:a.example", `{"body":"elsewhere"}`, 99), // 19: another room
		events[0], // 20: the create event again
		message("!example:a.example", `{"body":"still here"}`, 100), // 21: accepted
		// 22: the same event ID (a message's content is redacted, so it is not part of the
		// ID) with other content: another event claiming 21's ID.
		message("!example:a.example", `{"body":"changed"}`, 100),
	)
	lines := replayLines(t, dump, events)
	for _, c := range []struct {
		line int
		want string
	}{
		{17, "accepted"},
		{18, "rejected: pdu: event: not valid JSON for this room version: canonicaljson: object nested deeper than the limit of 127"},
		{19, `rejected: an event of another room: room_id "!other:a.example", but the dump's room is "!example:a.example"`},
		{20, "accepted rule 1.5 (a copy of event 1, whose verdict it has: not checked again)"},
		{21, "accepted"},
		{22, "rejected: event 21, a different event, has this event ID: the first is kept"},
		{23, "summary: room version 9, 22 events, 15 accepted, 7 rejected (another room: 1, event ID taken: 1, rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1, unparsable: 1)"},
	} {
		if !strings.Contains(lines[c.line], c.want) {
			t.Errorf("line %d: %q, want %q in it", c.line, lines[c.line], c.want)
		}
	}
	if !strings.Contains(lines[20], room.EventIDs[0]) {
		t.Errorf("line 20 is not the create event's copy: %s", lines[20])
	}
}

func TestSplitMember(t *testing.T) {
	for _, c := range []struct{ in, key, value string }{
		{`"a":1`, "a", "1"},
		{`"a" : [1, 2] `, "a", "[1, 2]"},
		{`"k\"\\e\u0079" :{"x":"\""}`, `k"\ey`, `{"x":"\""}`},
	} {
		key, value, err := splitMember([]byte(c.in))
		if err != nil || key != c.key || string(value) != c.value {
			t.Errorf("%s: %q %q %v", c.in, key, value, err)
		}
	}
	got := splitTop([]byte(`{ "a" : 1 , "b":{"c":[1,"}"]} }`))
	if len(got) != 2 || string(got[0]) != `"a" : 1` || string(got[1]) != `"b":{"c":[1,"}"]}` {
		t.Fatalf("object members %q", got)
	}
}

// TestReplayForeignFirstEvent: the dump's room is the one most of its events name, so events of
// another room placed first (a create event among them) or a malformed one do not make the real
// room "another room".
func TestReplayForeignFirstEvent(t *testing.T) {
	dump, events := exampleDump(t)
	foreign := json.RawMessage(`{"auth_events":[],"content":{"body":"hi"},"depth":1,"hashes":{"sha256":"x"},` +
		`"origin_server_ts":1,"prev_events":[],"room_id":"!other:b.example","sender":"@mallory:b.example",` +
		`"signatures":{},"type":"m.room.message"}`)
	foreignCreate := json.RawMessage(`{"auth_events":[],"content":{"creator":"@mallory:b.example"},"depth":1,` +
		`"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!other:b.example",` +
		`"sender":"@mallory:b.example","signatures":{},"state_key":"","type":"m.room.create"}`)
	events = append([]json.RawMessage{foreignCreate, json.RawMessage(`{"type":1}`), foreign}, events...)
	lines := replayLines(t, dump, events)
	for _, i := range []int{1, 3} {
		if !strings.Contains(lines[i], `rejected: an event of another room: room_id "!other:b.example", but the dump's room is "!example:a.example"`) {
			t.Fatalf("line %d: %s", i, lines[i])
		}
	}
	if want := "summary: room version 9, 19 events, 12 accepted, 7 rejected (another room: 2, rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1, unparsable: 1)"; lines[len(lines)-1] != want {
		t.Fatalf("summary %q, want %q", lines[len(lines)-1], want)
	}
}

// exampleDump returns the built-in example room's dump, its members and its events, for tests
// that change it.
func exampleDump(t *testing.T) (map[string]json.RawMessage, []json.RawMessage) {
	t.Helper()
	var dump map[string]json.RawMessage
	var events []json.RawMessage
	if err := json.Unmarshal(exampleRoom, &dump); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dump["events"], &events); err != nil {
		t.Fatal(err)
	}
	return dump, events
}

// replayLines replays the dump with events as its events and returns the output lines.
func replayLines(t *testing.T, dump map[string]json.RawMessage, events []json.RawMessage) []string {
	t.Helper()
	dump["events"], _ = json.Marshal(events)
	in, _ := json.Marshal(dump)
	code, out, errOut := rpRun(t, string(in), "replay", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	return strings.Split(strings.TrimSpace(out), "\n")
}

// TestReplaySoftFailure: an event whose only prev event is an earlier event of the dump than the
// line before it is checked against the state after that prev event (check 5) and against the
// room's current state (check 6): the spec's example of a banned user's message whose prev event
// is from before the ban passes the first and fails the second, so it is soft failed, not
// rejected (server-server-api "Soft failure"); a message by someone never joined is rejected by
// check 5; alice's message from the same point is accepted.
func TestReplaySoftFailure(t *testing.T) {
	dump, events := exampleDump(t)
	room, _ := roomgen.ExampleRoom()
	msg := func(sender, join, body string) json.RawMessage {
		// Auth events: create, power levels and the sender's join; the prev event is event 13,
		// the redaction before bob's ban (event 14).
		auth := `"` + room.EventIDs[0] + `","` + room.EventIDs[2] + `"`
		if join != "" {
			auth += `,"` + join + `"`
		}
		return json.RawMessage(`{"auth_events":[` + auth + `],` +
			`"content":{"body":"` + body + `","msgtype":"m.text"},"depth":14,"hashes":{"sha256":"x"},` +
			`"origin_server_ts":1700000009000,"prev_events":["` + room.EventIDs[12] + `"],"room_id":"!example:a.example",` +
			`"sender":"` + sender + `","signatures":{},"type":"m.room.message"}`)
	}
	events = append(events,
		msg("@bob:c.example", room.EventIDs[7], "sent before I saw the ban"),
		msg("@alice:a.example", room.EventIDs[1], "still here"),
		msg("@zed:z.example", "", "never joined"))
	lines := replayLines(t, dump, events)
	for _, c := range []struct {
		line int
		want string
	}{
		{17, `soft-failed rule 5: sender "@bob:c.example" has membership "ban" (the state at the event allows it; the room's current state does not)`},
		{18, "accepted"},
		{19, "rejected rule 5:"},
	} {
		if !strings.Contains(lines[c.line], c.want) {
			t.Errorf("line %d: %s\nwant %q", c.line, lines[c.line], c.want)
		}
	}
	if want := "summary: room version 9, 19 events, 13 accepted, 1 soft-failed, 5 rejected (rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 2, rule 9.7.1: 1)"; lines[len(lines)-1] != want {
		t.Errorf("summary %q\nwant %q", lines[len(lines)-1], want)
	}
}

// TestReplayWarnsWithoutKeys: without keys, rule 4.2.1 only sees that the authorising server
// signed a restricted join; replay prints the rule's warning beside "accepted" so that the reader
// knows the signature was not verified (found by tools/replayref).
func TestReplayWarnsWithoutKeys(t *testing.T) {
	dump, events := exampleDump(t)
	delete(dump, "keys")
	lines := replayLines(t, dump, events)
	// Line 8 is bob's restricted join, authorised by @mod:b.example.
	if want := `accepted rule 4.3.5.3 (warning, rule 4.2.1: signature by "b.example" present but not verified`; !strings.Contains(lines[8], want) {
		t.Fatalf("line 8: %s\nwant %q", lines[8], want)
	}
	dump, events = exampleDump(t)
	if lines := replayLines(t, dump, events); strings.Contains(strings.Join(lines, "\n"), "warning") {
		t.Fatalf("a warning with the dump's keys:\n%s", strings.Join(lines, "\n"))
	}
}

// TestReplayBranchStatesBounded: replay keeps at most maxBranchStates copies of the state for
// events whose prev event is not the line before them; past that the dump's state so far stands
// in, with a note, so a hostile dump cannot make it copy the state for every event.
func TestReplayBranchStatesBounded(t *testing.T) {
	dump, events := exampleDump(t)
	room, _ := roomgen.ExampleRoom()
	v, _ := roomversion.Lookup("9")
	ids := append([]string(nil), room.EventIDs...)
	n := maxBranchStates + 20
	for k := 0; k < n; k++ {
		// Each message's prev event is the event two lines up: a branch point every line.
		raw := `{"auth_events":["` + room.EventIDs[0] + `","` + room.EventIDs[2] + `","` + room.EventIDs[1] + `"],` +
			`"content":{"body":"` + strconv.Itoa(k) + `","msgtype":"m.text"},"depth":20,"hashes":{"sha256":"x"},` +
			`"origin_server_ts":1700000009000,"prev_events":["` + ids[len(ids)-2] + `"],"room_id":"!example:a.example",` +
			`"sender":"@alice:a.example","signatures":{},"type":"m.room.message"}`
		id, err := signing.EventID(v, []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		events = append(events, json.RawMessage(raw))
	}
	lines := replayLines(t, dump, events)
	notKept := 0
	for _, l := range lines[17 : 17+n] {
		if !strings.Contains(l, "accepted") {
			t.Fatalf("line: %s", l)
		}
		if strings.Contains(l, "was not kept") {
			notKept++
		}
	}
	// The branch points are the example room's 15th and 16th events and every message but the
	// last two: n of them; the first maxBranchStates get their state kept.
	if want := n - maxBranchStates; notKept != want {
		t.Fatalf("%d lines checked against the dump's state, want %d", notKept, want)
	}
}

// TestReplayContentHashNote: replay checks an event whose content hash fails as it is, with a
// note (check 3 is verify-room's to act on; docs/decisions.md bulk 9 "Content hashes"), and a
// genuine event that comes after a forged copy of it says that the kept copy fails its hash
// (found by tools/replayref, F5).
func TestReplayContentHashNote(t *testing.T) {
	const note = "(content hash mismatch: checked unredacted here; a server, as verify-room, would redact it first)"
	dump, events := exampleDump(t)
	// Event 11 is a message: change its body (the content hash covers it, the event ID does
	// not), and put the forged copy before the genuine one.
	i := 10
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(events[i], &ev); err != nil {
		t.Fatal(err)
	}
	if string(ev["type"]) != `"m.room.message"` {
		t.Fatalf("event 11 is %s, not a message", ev["type"])
	}
	ev["content"] = json.RawMessage(`{"body":"forged","msgtype":"m.text"}`)
	forged, _ := json.Marshal(ev)
	events = append(events[:i:i], append([]json.RawMessage{forged}, events[i:]...)...)
	lines := replayLines(t, dump, events)
	for _, c := range []struct {
		line int
		want string
		note bool
	}{
		{10, "rejected rule 4.7.1", false},
		{11, "accepted rule 10 " + note, true},
		{12, "rejected: event 11, a different event, has this event ID: the first is kept (event 11 fails its content hash, this one does not: a server that has event 11 keeps its redacted form)", false},
		{13, "", false},
	} {
		if !strings.Contains(lines[c.line], c.want) || strings.Contains(lines[c.line], note) != c.note {
			t.Errorf("line %d: %s\nwant %q, note %v", c.line, lines[c.line], c.want, c.note)
		}
	}
	if want := "summary: room version 9, 17 events, 12 accepted, 5 rejected (event ID taken: 1, rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1)"; lines[len(lines)-1] != want {
		t.Errorf("summary %q\nwant %q", lines[len(lines)-1], want)
	}
}

// TestReplayV12ForeignCreate: in room version 12 a create event names no room; its event ID
// gives it. A create event of another room, first in the dump or later, is "another room" and
// does not replace the room's create in the state (authrules refuses a State of two rooms; replay
// exited 1 on such a dump, and before that took the second create as the room's).
func TestReplayV12ForeignCreate(t *testing.T) {
	room, err := roomgen.Generate(roomgen.Config{RoomVersion: "12", Events: 30, Seed: 3, Rejected: 3})
	if err != nil {
		t.Fatal(err)
	}
	var dump map[string]json.RawMessage
	var events []json.RawMessage
	if err := json.Unmarshal(room.ReplayFile(), &dump); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(dump["events"], &events); err != nil {
		t.Fatal(err)
	}
	plain := replayLines(t, dump, events)
	foreign := json.RawMessage(`{"auth_events":[],"content":{"room_version":"12"},"depth":1,"hashes":{"sha256":"x"},` +
		`"origin_server_ts":1,"prev_events":[],"sender":"@mallory:m.example","signatures":{},"state_key":"","type":"m.room.create"}`)
	withForeign := append([]json.RawMessage{foreign}, events[:10]...)
	withForeign = append(withForeign, foreign)
	withForeign = append(withForeign, events[10:]...)
	lines := replayLines(t, dump, withForeign)
	if len(lines) != len(plain)+2 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(plain)+2, strings.Join(lines, "\n"))
	}
	verdict := func(l string) string { return strings.Join(strings.Fields(l)[4:], " ") }
	for _, i := range []int{1, 12} {
		if !strings.Contains(lines[i], "rejected: the create event of another room: its event ID gives room") {
			t.Errorf("line %d: %s", i, lines[i])
		}
	}
	for i := 1; i < len(plain)-1; i++ {
		j := i + 1 // after the first foreign create
		if i > 10 {
			j++ // and the second
		}
		if verdict(lines[j]) != verdict(plain[i]) {
			t.Errorf("event %d: %q, without the foreign creates %q", i, verdict(lines[j]), verdict(plain[i]))
		}
	}
}

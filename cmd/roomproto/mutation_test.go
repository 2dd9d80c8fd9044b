package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomproto/roomproto/internal/roomgen"
)

// Tests that kill mutants of tools/mutcheck (round three, /work/logs/audit-mutation3.md) that
// the other tests of the command let survive. Each names the mutant(s) it kills.

// wantUnusable checks an exit status of 1 with nothing on stdout and exactly stderr (one line).
func wantUnusable(t *testing.T, code int, stdout, stderr, want string) {
	t.Helper()
	if code != 1 || stdout != "" || stderr != want+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, stderr %q", code, stdout, stderr, want)
	}
}

// TestMutationFileErrors: a --keys or --key file that cannot be read or parsed, and an event
// file that cannot be read, are unusable input (exit 1, one line on stderr), not an empty
// success.
//
//	cmd/roomproto/cmd_replay.go:473 'err' -> 'nil' (replay --keys: unreadable file)
//	cmd/roomproto/cmd_replay.go:476 'err' -> 'nil' (replay --keys: not a key ring)
//	cmd/roomproto/cmd_signing.go:194 'err' -> 'nil' (sign, sign-event --key: unreadable file)
//	cmd/roomproto/cmd_signing.go:53 'err' -> 'nil' (event-id of an input file that does not exist)
func TestMutationFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := rpRun(t, "", "replay", "--keys", missing)
	wantUnusable(t, code, out, errOut, "roomproto replay: open "+missing+": no such file or directory")
	code, out, errOut = rpRun(t, "", "replay", "--keys", bad)
	wantUnusable(t, code, out, errOut, "roomproto replay: signing: invalid key: key ring must be a JSON object {server: {key ID: key}}")
	code, out, errOut = rpRun(t, "{}", "sign", "--server-name", "s.example", "--key", missing)
	wantUnusable(t, code, out, errOut, "roomproto sign: open "+missing+": no such file or directory")
	code, out, errOut = rpRun(t, "{}", "sign-event", "--room-version", "9", "--server-name", "s.example", "--key", missing)
	wantUnusable(t, code, out, errOut, "roomproto sign-event: open "+missing+": no such file or directory")
	code, out, errOut = rpRun(t, "{}", "event-id", "--room-version", "9", missing)
	wantUnusable(t, code, out, errOut, "roomproto event-id: open "+missing+": no such file or directory")
}

// failingWriter is a standard output that cannot be written (a closed pipe, a full disk).
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, errors.New("write: no space left on device")
}

// TestMutationWriteError: when the output cannot be written the command fails (exit 1) and says
// why on stderr.
//
//	cmd/roomproto/cmd_signing.go:65 'err' -> 'nil' (event-id)
func TestMutationWriteError(t *testing.T) {
	var errOut strings.Builder
	code := run([]string{"event-id", "--room-version", "9"}, strings.NewReader("{}"), failingWriter{}, &errOut)
	if want := "roomproto event-id: write: no space left on device\n"; code != 1 || errOut.String() != want {
		t.Errorf("exit %d, stderr %q; want exit 1, stderr %q", code, errOut.String(), want)
	}
}

// replayVerdicts replays the dump with events as its events and returns the VERDICT column of
// each event's line.
func replayVerdicts(t *testing.T, dump map[string]json.RawMessage, events []json.RawMessage) []string {
	t.Helper()
	lines := replayLines(t, dump, events)
	col := strings.Index(lines[0], "VERDICT")
	var out []string
	for _, l := range lines[1 : len(lines)-1] {
		out = append(out, l[col:])
	}
	return out
}

// withMember returns ev (a JSON object) with its member key set to value.
func withMember(t *testing.T, ev json.RawMessage, key, value string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(ev, &m); err != nil {
		t.Fatal(err)
	}
	m[key] = json.RawMessage(value)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const hashNote = " (content hash mismatch: checked unredacted here; a server, as verify-room, would redact it first)"

// TestMutationReplayNotes: the exact verdicts of an event with two prev events, an event of
// another room and an event that takes an earlier event's ID.
//
//	cmd/roomproto/cmd_replay.go:352 '1' -> '2' (exactly two prev events get the state resolution note)
//	cmd/roomproto/cmd_replay.go:572 '||' -> '&&' (no "auth events not all in the dump" note for an
//	event of another room or one whose ID is taken: it was not checked at all)
func TestMutationReplayNotes(t *testing.T) {
	dump, events := exampleDump(t)
	var ids []string
	for _, ev := range events {
		var m struct {
			Prev []string `json:"prev_events"`
		}
		if err := json.Unmarshal(ev, &m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, strings.Join(m.Prev, ","))
	}
	// Event 16 (m.room.name) with a second prev event; event 11 (a message) again with another
	// body: the same event ID in v9 (the body is redacted away), another event; a copy of event
	// 11 in another room.
	last := withMember(t, events[15], "prev_events", `["`+strings.ReplaceAll(ids[15], ",", `","`)+`","`+strings.Split(ids[12], ",")[0]+`"]`)
	taken := withMember(t, events[10], "content", `{"body":"changed","msgtype":"m.text"}`)
	other := withMember(t, events[10], "room_id", `"!other:x.example"`)
	got := replayVerdicts(t, dump, append(append([]json.RawMessage{}, events[:15]...), last, taken, other))
	want := map[int]string{
		15: "accepted rule 10 (2 prev events: the state at the event needs state resolution; checked against the dump's state so far)" + hashNote,
		16: "rejected: event 11, a different event, has this event ID: the first is kept" + hashNote,
		17: `rejected: an event of another room: room_id "!other:x.example", but the dump's room is "!example:a.example"` + hashNote,
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("event %d: %q\nwant %q", i+1, got[i], w)
		}
	}
}

// TestMutationProgressBarOneStep: a stage of one step, done, is a full bar.
//
//	cmd/roomproto/cmd_verifyroom.go:356 '0' -> '1' (total > 0)
func TestMutationProgressBarOneStep(t *testing.T) {
	var buf syncBuffer
	p := startProgress(&buf, 0)
	p.set("authorising", 1, 1)
	const want = "verify-room: authorising [##############################] 1/1\n"
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(buf.String(), want) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	p.stop()
	if !strings.Contains(buf.String(), want) {
		t.Fatalf("progress %q, want a line %q", buf.String(), want)
	}
}

// TestMutationReplayAllowedByAuthEvents (round four, /work/logs/audit-mutation4.md): an
// accepted event's verdict names the rule of check 4 (its auth events) when checks 4 and 5
// (the state before it) allow it by different rules. Mod's join (event 7) without the join
// rules among its auth events: they default to invite, so check 4 allows the invited user by
// rule 4.3.4; the state's join rules are restricted, rule 4.3.5.1.
//
//	cmd/roomproto/cmd_replay.go:351 'opts.Allowed = func(rule string) { r.allowAuth = rule }' -> ''
//	cmd/roomproto/cmd_replay.go:351 'r.allowAuth = rule' -> ''
func TestMutationReplayAllowedByAuthEvents(t *testing.T) {
	dump, events := exampleDump(t)
	room, err := roomgen.ExampleRoom()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(events[6], &m); err != nil {
		t.Fatal(err)
	}
	auth, err := json.Marshal([]string{room.EventIDs[0], room.EventIDs[2], room.EventIDs[5]})
	if err != nil {
		t.Fatal(err)
	}
	if want := `["` + room.EventIDs[0] + `","` + room.EventIDs[2] + `","` + room.EventIDs[5] + `","` + room.EventIDs[3] + `"]`; string(m["auth_events"]) != want {
		t.Fatalf("event 7's auth events %s, want %s", m["auth_events"], want)
	}
	join := withMember(t, events[6], "auth_events", string(auth))
	got := replayVerdicts(t, dump, append(append([]json.RawMessage{}, events[:6]...), join))
	if want := "accepted rule 4.3.4" + hashNote; got[6] != want {
		t.Errorf("mod's join without the join rules in its auth events: %q\nwant %q", got[6], want)
	}
}

// TestMutationReplayExampleRoomExact (round four): the whole table of `replay` of the example
// room, byte for byte: the STATE KEY column of state events, and no "the state check says" note
// where both checks reject by the same rule.
//
//	cmd/roomproto/cmd_replay.go:501 'sk = cell(*r.ev.StateKey)' -> ''
//	cmd/roomproto/cmd_replay.go:593 '!=' -> '==' (the note only when the two rules differ)
func TestMutationReplayExampleRoomExact(t *testing.T) {
	code, out, errOut := rpRun(t, "", "replay")
	if code != 0 || errOut != "" || out != replayExampleGolden {
		t.Errorf("exit %d, stderr %q, output:\n%s\nwant:\n%s", code, errOut, out, replayExampleGolden)
	}
}

const replayExampleGolden = `#   EVENT ID                                      TYPE                       STATE KEY         VERDICT
1   $0DyXkUao1qBxkufq1Q4pgu23fGY0xb3K6Rbnre0QKNM  m.room.create              ""                accepted rule 1.5
2   $9CTFyUuPdTbupkqrpT6s_nD7BGX5G02snJ9dp_djnnU  m.room.member              @alice:a.example  accepted rule 4.3.1
3   $Z6fPU1s_MFFR7YqVFjU8p3TLNRK29GoUdCRttgTM9OA  m.room.power_levels        ""                accepted rule 9.2
4   $-5Gwp_pEVFf1NU161rI2h-rrLw9iXuounw9NbPI3gGQ  m.room.join_rules          ""                accepted rule 10
5   $cR8KPmRjUYHliB4-tDrh7Dfop8DfNIzftB2o8tN26CI  m.room.history_visibility  ""                accepted rule 10
6   $VqPt7PrkHFLDvZTeks90noGC9Qc1apbVGXu4LyJ_E0I  m.room.member              @mod:b.example    accepted rule 4.4.4
7   $l8Ce0aSucDE-DpiY7Akz0vu_UTiknU5v2UpywRpyf0s  m.room.member              @mod:b.example    accepted rule 4.3.5.1
8   $zIX20AsMQcPqskgjhH_tQ5m2g8QSaB7dEbuyXS6DwRQ  m.room.member              @bob:c.example    accepted rule 4.3.5.3
9   $MGZkh2E3XmUmr_1Cie9rlKxeiHW4oxi-u0nXoOjuWJs  m.room.member              @carol:d.example  rejected rule 4.3.5.2: authorising user "@bob:c.example" has level 0, below the invite level 50
10  $Ttx1oTQRYiY4WXuBXKj6oHtFwrvxC9g8ouilFxyVa_U  m.room.member              @dave:d.example   rejected rule 4.7.1: join rule "restricted" does not allow knocking
11  $AMSlawhfhWzU0InBT3Ssa0HaTvPDlmeDPeW4iqUcp1Y  m.room.message             -                 accepted rule 10
12  $IX62LsPRVWT5oTFxYjRCysnEQfg9N70As3AGDuU9nI8  m.room.power_levels        ""                rejected rule 9.7.1: users["@mod:b.example"] is set to 100, above sender level 50
13  $IQ7y9CxSFH1BoBlO87GvjsGHam2hHY5K7C9skkkC9UE  m.room.redaction           -                 accepted rule 10
14  $MTpftSlb0JneWynPhkyg3UQKm_R1RYK-u_ZHWEu6mPg  m.room.member              @bob:c.example    accepted rule 4.6.2
15  $l4Rpuch8zpX1GeqtZclH7CCcFEZz5n6YNBLVsiZLl-I  m.room.message             -                 rejected rule 5: sender "@bob:c.example" has membership "ban"
16  $At2PT3dvaorQqExDG5BgLFSzVW1hNWkuFR5j1mRGGRw  m.room.name                ""                accepted rule 10
summary: room version 9, 16 events, 12 accepted, 4 rejected (rule 4.3.5.2: 1, rule 4.7.1: 1, rule 5: 1, rule 9.7.1: 1)
`

// TestMutationProgressBarTerminal (round four): on a terminal the bar redraws one line, "\r"
// before and "\x1b[K" (erase to the end of the line) after it, and stop erases a bar that was
// drawn. (A bar is made by hand with tty set: a test's stderr is no terminal.)
//
//	cmd/roomproto/cmd_verifyroom.go:441 'end = "\x1b[K"' -> ''
//	cmd/roomproto/cmd_verifyroom.go:445 'p.shown.Store(true)' -> ''
func TestMutationProgressBarTerminal(t *testing.T) {
	var buf syncBuffer
	p := &progressBar{w: &buf, tty: true, quit: make(chan struct{}), finished: make(chan struct{})}
	go p.run(time.Hour)
	p.set("authorising", 1, 2)
	p.draw()
	p.stop()
	const want = "\rverify-room: authorising [###############...............] 1/2\x1b[K\r\x1b[K"
	if got := buf.String(); got != want {
		t.Errorf("terminal progress %q, want %q", got, want)
	}
}

// TestMutationReadFileLimit (round four): a regular file of exactly the limit is read whole;
// one byte more is refused.
//
//	cmd/roomproto/io.go:173 '>' -> '>='
func TestMutationReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(path, []byte(`{"a":"bc"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := readFile(path, 10); err != nil || string(got) != `{"a":"bc"}` {
		t.Errorf("readFile of 10 bytes, limit 10: %q, %v", got, err)
	}
	if got, err := readFile(path, 9); err == nil || err.Error() != "input larger than 9 bytes" {
		t.Errorf("readFile of 10 bytes, limit 9: %q, %v; want input larger than 9 bytes", got, err)
	}
}

// TestMutationVerifyRoomEdges (round four): verify-room of a dump whose only event does not
// parse (no event reaches the auth chain check), and of dumps with a first m.room.create that is
// not the room's (another room; a non-empty state key) naming another room version: the room's
// own create gives the version, and there is no warning.
//
//	cmd/roomproto/cmd_verifyroom.go:140 'rc.rep[i] = -1' -> '' (an unparsed event stands for no chain verdict)
//	cmd/roomproto/cmd_verifyroom.go:162 '||' -> '&&' (versionWarning skips those creates)
func TestMutationVerifyRoomEdges(t *testing.T) {
	room, err := roomgen.ExampleRoom()
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keys, room.KeysJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := rpRun(t, `{"room_version":"9","events":[{"x":1}]}`, "verify-room", "--quiet", "--keys", keys)
	want := `{"index":0,"problem":"malformed","reason":"signing: malformed input: pdu: event field type: required field missing"}` + "\n" +
		`{"summary":{"bad_signature":0,"events":1,"malformed":1,"missing_key":0,"redacted":0,"rejected":0,"rejected_by_rule":{},"valid":0}}` + "\n"
	if code != 0 || errOut != "" || out != want {
		t.Errorf("one unparsable event: exit %d, stderr %q, output\n%s\nwant\n%s", code, errOut, out, want)
	}

	const summary = `{"summary":{"bad_signature":1,"events":17,"malformed":0,"missing_key":0,"redacted":0,"rejected":4,` +
		`"rejected_by_rule":{"4.3.5.2":1,"4.7.1":1,"5":1,"9.7.1":1},"valid":12}}`
	for name, edit := range map[string]func(m map[string]json.RawMessage){
		"another room's create":     func(m map[string]json.RawMessage) { m["room_id"] = json.RawMessage(`"!other:x.example"`) },
		"a create with state key x": func(m map[string]json.RawMessage) { m["state_key"] = json.RawMessage(`"x"`) },
	} {
		first := vrEdit(t, room.Events[0], func(m map[string]json.RawMessage) {
			edit(m)
			m["content"] = json.RawMessage(`{"creator":"@alice:a.example","room_version":"10"}`)
		})
		events := append([][]byte{first}, room.Events...)
		dump := `{"room_version":"9","events":[` + string(bytes.Join(events, []byte(","))) + `]}`
		code, out, errOut := rpRun(t, dump, "verify-room", "--quiet", "--keys", keys)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if code != 0 || errOut != "" || lines[len(lines)-1] != summary {
			t.Errorf("%s first: exit %d, stderr %q, summary\n%s\nwant\n%s", name, code, errOut, lines[len(lines)-1], summary)
		}
	}
}

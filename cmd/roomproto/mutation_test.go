package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

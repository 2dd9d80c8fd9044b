package claimse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/signing"
)

type dumpFile struct {
	RoomVersion string            `json:"room_version"`
	Keys        json.RawMessage   `json:"keys,omitempty"`
	Events      []json.RawMessage `json:"events"`
}

func genRoom(t *testing.T, id string, n int, seed uint64) *roomgen.Room {
	t.Helper()
	r, err := roomgen.Generate(roomgen.Config{RoomVersion: id, Events: n, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dumpOf(t *testing.T, r *roomgen.Room) dumpFile {
	t.Helper()
	var d dumpFile
	if err := json.Unmarshal(r.ReplayFile(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func writeJSON(t *testing.T, dir, name string, x any) string {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// keysOf writes the union of the rooms' keys.
func keysOf(t *testing.T, dir string, rooms ...*roomgen.Room) string {
	t.Helper()
	all := map[string]json.RawMessage{}
	for _, r := range rooms {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(r.KeysJSON(), &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			all[k] = v
		}
	}
	return writeJSON(t, dir, "keys.json", all)
}

type summary struct {
	Events, Valid, Redacted, Rejected, BadSignature, MissingKey, Malformed int
	RejectedByRule                                                         map[string]int
	Warnings                                                               []string
	raw                                                                    map[string]json.RawMessage
}

func lastSummary(t *testing.T, out string) summary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var w struct {
		Summary map[string]json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &w); err != nil || w.Summary == nil {
		t.Fatalf("no summary in %q", out)
	}
	var s summary
	s.raw = w.Summary
	get := func(k string, p any) {
		if v, ok := w.Summary[k]; ok {
			if err := json.Unmarshal(v, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	get("events", &s.Events)
	get("valid", &s.Valid)
	get("redacted", &s.Redacted)
	get("rejected", &s.Rejected)
	get("bad_signature", &s.BadSignature)
	get("missing_key", &s.MissingKey)
	get("malformed", &s.Malformed)
	get("rejected_by_rule", &s.RejectedByRule)
	get("warnings", &s.Warnings)
	if s.Valid+s.Redacted+s.Rejected+s.BadSignature+s.MissingKey+s.Malformed != s.Events {
		t.Errorf("decisions.md (CLI) 10: counts do not add up: %s", lines[len(lines)-1])
	}
	return s
}

// decisions.md (CLI) 10a "Timing on request"; README "adds "milliseconds" and
// "events_per_second" to its summary under --timing".
func TestVerifyRoomTiming(t *testing.T) {
	d := t.TempDir()
	r := genRoom(t, "10", 40, 0)
	dump := writeJSON(t, d, "dump.json", dumpOf(t, r))
	keys := keysOf(t, d, r)
	a := cli.Run(t, d, nil, "verify-room", "--keys", keys, dump)
	b := cli.Run(t, d, nil, "verify-room", "--keys", keys, dump)
	if a.Code != 0 || a.Stdout != b.Stdout {
		t.Errorf("two runs differ:\n%s\n%s", a.Stdout, b.Stdout)
	}
	s := lastSummary(t, a.Stdout)
	for _, k := range []string{"milliseconds", "events_per_second", "warnings"} {
		if _, ok := s.raw[k]; ok {
			t.Errorf("%q without --timing: %s", k, a.Stdout)
		}
	}
	tm := cli.Run(t, d, nil, "verify-room", "--keys", keys, "--timing", dump)
	st := lastSummary(t, tm.Stdout)
	for _, k := range []string{"milliseconds", "events_per_second"} {
		if !regexp.MustCompile(`^[0-9]+$`).Match(st.raw[k]) {
			t.Errorf("--timing: %q = %s", k, st.raw[k])
		}
	}
	if tm.Code != 0 || st.Valid != s.Valid || st.Events != 40 {
		t.Errorf("--timing: %+v", tm)
	}
}

// decisions.md (CLI) 10a "One room, as replay" (v1-11: roomgen makes 8-11).
func TestVerifyRoomOneRoom(t *testing.T) {
	for _, id := range []string{"8", "9", "10", "11"} {
		t.Run("v"+id, func(t *testing.T) {
			d := t.TempDir()
			a, b := genRoom(t, id, 12, 0), genRoom(t, id, 10, 7)
			if a.RoomID == b.RoomID {
				t.Fatal("same room")
			}
			da, db := dumpOf(t, a), dumpOf(t, b)
			// the smaller room first: "the room most of its events are of"
			two := dumpFile{RoomVersion: id, Events: append(append([]json.RawMessage{}, db.Events...), da.Events...)}
			dump := writeJSON(t, d, "two.json", two)
			keys := keysOf(t, d, a, b)
			r := cli.Run(t, d, nil, "verify-room", "--quiet", "--keys", keys, dump)
			s := lastSummary(t, r.Stdout)
			if r.Code != 0 || s.Events != 22 || s.Rejected != 10 || s.RejectedByRule[""] != 10 || s.Valid != 12 {
				t.Errorf("two rooms: %s", r.Stdout)
			}
			n := strings.Count(r.Stdout, `"reason":"an event of another room: `)
			for _, l := range strings.Split(r.Stdout, "\n") {
				if strings.Contains(l, "an event of another room") && strings.Contains(l, `"rule":`) {
					t.Errorf("\"a rejected line without a rule\": %s", l)
				}
			}
			if n != 10 {
				t.Errorf("%d lines of another room, want 10:\n%s", n, r.Stdout)
			}
			// "as replay"
			rp := cli.Run(t, d, nil, "replay", "--keys", keys, dump)
			if rp.Code != 0 || !strings.Contains(rp.Stdout, "22 events, 12 accepted, 10 rejected") {
				t.Errorf("replay: %s", rp.Stdout)
			}
		})
	}
}

// decisions.md (CLI) 10a: "an event citing it fails rule 2.3" (an event of the dump's room
// citing an event of another room, re-signed by its sender's server).
func TestVerifyRoomCitingAnotherRoom(t *testing.T) {
	d := t.TempDir()
	a, b := genRoom(t, "10", 12, 0), genRoom(t, "10", 10, 7)
	da, db := dumpOf(t, a), dumpOf(t, b)
	last := len(da.Events) - 1
	var ev map[string]any
	if err := json.Unmarshal(da.Events[last], &ev); err != nil {
		t.Fatal(err)
	}
	delete(ev, "signatures")
	delete(ev, "hashes")
	delete(ev, "unsigned")
	typeOf := func(raw json.RawMessage) string {
		var x struct{ Type string }
		_ = json.Unmarshal(raw, &x)
		return x.Type
	}
	types := map[string]string{}
	for i, e := range da.Events {
		types[a.EventIDs[i]] = typeOf(e)
	}
	bPL := -1
	for i, e := range db.Events {
		if typeOf(e) == "m.room.power_levels" {
			bPL = i
			break
		}
	}
	// b's power levels in place of a's: no duplicate (2.1), a selected type (2.2).
	auth := ev["auth_events"].([]any)
	replaced := false
	for i, x := range auth {
		if types[x.(string)] == "m.room.power_levels" {
			auth[i] = b.EventIDs[bPL]
			replaced = true
		}
	}
	if !replaced {
		t.Fatalf("no power levels among %v", auth)
	}
	raw, _ := json.Marshal(ev)
	origin := strings.SplitN(ev["sender"].(string), ":", 2)[1]
	signed, err := signing.SignEvent(a.Version, raw, origin, roomgen.TestKey(origin))
	if err != nil {
		t.Fatal(err)
	}
	da.Events[last] = signed
	dump := dumpFile{RoomVersion: "10", Events: append(append([]json.RawMessage{}, db.Events[bPL]), da.Events...)}
	p := writeJSON(t, d, "cite.json", dump)
	r := cli.Run(t, d, nil, "verify-room", "--quiet", "--keys", keysOf(t, d, a, b), p)
	s := lastSummary(t, r.Stdout)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if s.RejectedByRule[""] != 1 || s.RejectedByRule["2.3"] != 1 || !strings.Contains(lines[len(lines)-2], `"rule":"2.3"`) {
		t.Errorf("citing another room's create: %s", r.Stdout)
	}
}

// decisions.md (CLI) 10a: "a v12 create event whose ID gives another room, is a rejected line
// without a rule ...; In v12 the other events of another room fail the rules on their own
// (rule 2)".
func TestVerifyRoomOneRoomV12(t *testing.T) {
	d := t.TempDir()
	a, b := genRoom(t, "12", 12, 0), genRoom(t, "12", 10, 7)
	da, db := dumpOf(t, a), dumpOf(t, b)
	two := dumpFile{RoomVersion: "12", Events: append(append([]json.RawMessage{}, da.Events...), db.Events...)}
	r := cli.Run(t, d, nil, "verify-room", "--quiet", "--keys", keysOf(t, d, a, b), writeJSON(t, d, "two.json", two))
	s := lastSummary(t, r.Stdout)
	if r.Code != 0 || s.RejectedByRule[""] != 1 || s.Rejected != 10 || s.Valid != 12 {
		t.Errorf("v12 two rooms: %s", r.Stdout)
	}
	for k := range s.RejectedByRule {
		if k != "" && !strings.HasPrefix(k, "2") {
			t.Errorf("v12 another room's event rejected by rule %q, want rule 2", k)
		}
	}
}

// decisions.md (CLI) 10a "The version warning, as replay"; README "adds "warnings" when the
// dump's room_version is not its create event's".
func TestVerifyRoomWarnings(t *testing.T) {
	d := t.TempDir()
	r := genRoom(t, "10", 12, 0)
	dump := dumpOf(t, r)
	dump.RoomVersion = "9"
	p := writeJSON(t, d, "ver.json", dump)
	keys := keysOf(t, d, r)
	out := cli.Run(t, d, nil, "verify-room", "--quiet", "--keys", keys, p)
	s := lastSummary(t, out.Stdout)
	want := `event ` + r.EventIDs[0] + ` (m.room.create), rule 1.3: content.room_version is "10" but the event is checked as room version "9"`
	if out.Code != 0 || len(s.Warnings) != 1 || s.Warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", s.Warnings, want)
	}
	// "(replay prints the same warning beside the create's verdict)"
	t.Run("replay the same warning", func(t *testing.T) {
		rp := cli.Run(t, d, nil, "replay", "--keys", keys, p)
		if !strings.Contains(rp.Stdout, `rule 1.3: content.room_version is "10" but the event is checked as room version "9"`) {
			t.Errorf("replay's warning is not verify-room's:\n%s", strings.SplitN(rp.Stdout, "\n", 3)[1])
		}
	})
}

// decisions.md (CLI) 10a "Keys from --keys only": verify-room "never reads the dump's "keys"
// member, so a malformed one does not make the dump unusable; replay --keys FILE does not read
// the member it replaces either".
func TestDumpKeysMember(t *testing.T) {
	d := t.TempDir()
	r := genRoom(t, "10", 12, 0)
	good := dumpOf(t, r)
	keys := keysOf(t, d, r)
	gp := writeJSON(t, d, "good.json", good)
	for name, bad := range map[string]string{"number": `5`, "bad key": `{"hs0.example":{"ed25519:1":"!!"}}`, "array": `[]`, "null": `null`} {
		t.Run(name, func(t *testing.T) {
			dump := good
			dump.Keys = json.RawMessage(bad)
			bp := writeJSON(t, d, "bad.json", dump)
			for _, args := range [][]string{{"verify-room", "--quiet", "--keys", keys}, {"replay", "--keys", keys}} {
				want := cli.Run(t, d, nil, append(args, gp)...)
				got := cli.Run(t, d, nil, append(args, bp)...)
				if want.Code != 0 || got != want {
					t.Errorf("%v with keys %s: %+v, want %+v", args, bad, got, want)
				}
			}
		})
	}
	// "verify-room requires --keys"
	out := cli.Run(t, d, nil, "verify-room", gp)
	if out.Code != 1 || !oneLine(out.Stderr) {
		t.Errorf("verify-room without --keys: %+v", out)
	}
}

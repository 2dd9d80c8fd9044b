package claimsc

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// README "Quick start": `go run ./cmd/roomproto replay` — "replay prints every event of a
// signed room-version-9 restricted room with its verdict and the spec rule that decided it
// (for an accepted event the rule that allowed it, such as 4.3.5.3 for a restricted join
// through an authorising user): the creator's join, a restricted join through an authorising
// user, one refused because the authoriser lacks invite power (4.3.5.2), a knock refused
// because the join rule is restricted, a ban, a refused power-levels change and a redaction."
// DESIGN.md: "one line per event: its ID, type, state key and verdict with the rule".
func TestReadmeQuickStartReplay(t *testing.T) {
	out := run(t, "", nil, "replay").ok(t)
	ex, _ := loadExample(t)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(ex.Events)+2 {
		t.Fatalf("%d lines, want header + %d events + summary:\n%s", len(lines), len(ex.Events), out)
	}
	if !strings.HasPrefix(lines[len(lines)-1], "summary: room version 9, 16 events") {
		t.Errorf("summary %q", lines[len(lines)-1])
	}
	v := claimkit.Ver(t, "9")
	// "signed": every event verifies with the room's keys.
	ring, err := signing.ParseKeyRing(claimkit.Marshal(t, ex.Keys))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^(\d+) +(\$\S+) +(\S+) +(\S+) +(accepted|rejected|soft-failed) rule (\d+(?:\.\d+)*)`)
	type row struct{ id, typ, sk, verdict, rule, text string }
	var rows []row
	for i, raw := range ex.Events {
		if err := signing.VerifyEvent(v, raw, ring); err != nil {
			t.Errorf("event %d does not verify: %v", i+1, err)
		}
		m := line.FindStringSubmatch(lines[i+1])
		if m == nil {
			t.Fatalf("line %q: want index, event ID, type, state key, verdict and rule", lines[i+1])
		}
		id, _ := signing.EventID(v, raw)
		if m[2] != id {
			t.Errorf("line %d: ID %s, want %s", i+1, m[2], id)
		}
		var e struct {
			Type     string  `json:"type"`
			StateKey *string `json:"state_key"`
			Content  M       `json:"content"`
		}
		json.Unmarshal(raw, &e)
		if m[3] != e.Type {
			t.Errorf("line %d: type %s, want %s", i+1, m[3], e.Type)
		}
		rows = append(rows, row{m[2], m[3], m[4], m[5], m[6], lines[i+1]})
		if e.Type == "m.room.join_rules" && e.Content["join_rule"] != "restricted" {
			t.Errorf("join rule %v, want restricted", e.Content["join_rule"])
		}
	}
	has := func(what string, f func(r row) bool) {
		for _, r := range rows {
			if f(r) {
				return
			}
		}
		t.Errorf("replay shows no %s", what)
	}
	has("creator's join", func(r row) bool { return r.typ == "m.room.member" && r.verdict == "accepted" && r.rule == "4.3.1" })
	has("restricted join through an authoriser (4.3.5.3)", func(r row) bool { return r.verdict == "accepted" && r.rule == "4.3.5.3" })
	has("join refused 4.3.5.2", func(r row) bool { return r.verdict == "rejected" && r.rule == "4.3.5.2" })
	has("knock refused for the restricted join rule", func(r row) bool {
		return r.verdict == "rejected" && strings.HasPrefix(r.rule, "4.7") && strings.Contains(r.text, `"restricted"`)
	})
	has("ban", func(r row) bool {
		return r.typ == "m.room.member" && r.verdict == "accepted" && strings.HasPrefix(r.rule, "4.6")
	})
	has("refused power levels change", func(r row) bool { return r.typ == "m.room.power_levels" && r.verdict == "rejected" })
	has("redaction", func(r row) bool { return r.typ == "m.room.redaction" })
	if rows[0].typ != "m.room.create" {
		t.Errorf("first event %s", rows[0].typ)
	}
}

// README "The command-line tool": the fourteen usage lines, and "roomproto help lists the
// commands" (cmd/roomproto doc: "prints the list of commands (exit 0)").
var usageLines = []struct {
	cmd   string
	flags []string // flags the usage line requires, with a value
}{
	{"canonical", nil},
	{"redact", []string{"--room-version"}},
	{"content-hash", nil},
	{"event-id", []string{"--room-version"}},
	{"sign", []string{"--server-name", "--key"}},
	{"sign-event", []string{"--room-version", "--server-name", "--key"}},
	{"verify", []string{"--keys"}},
	{"verify-event", []string{"--room-version", "--keys"}},
	{"auth-events", []string{"--room-version"}},
	{"auth", []string{"--room-version", "--auth-events"}},
	{"join-decision", nil},
	{"policy-check", []string{"--room-version", "--state"}},
	{"verify-room", []string{"--keys"}},
	{"replay", nil},
}

func TestReadmeHelpListsTheCommands(t *testing.T) {
	out := run(t, "", nil, "help").ok(t)
	for _, u := range usageLines {
		re := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(u.cmd) + ` +(.*)$`)
		m := re.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("help does not list %s:\n%s", u.cmd, out)
			continue
		}
		// The help line names the command's required flags, as the README's usage line does.
		for _, f := range u.flags {
			if !strings.Contains(m[1], f) {
				t.Errorf("help line of %s (%q) does not name %s", u.cmd, m[1], f)
			}
		}
	}
	if n := strings.Count(out, "\n  "); n != len(usageLines) {
		t.Errorf("help lists %d commands, the README %d", n, len(usageLines))
	}
}

// cmd/roomproto doc: "1 when the input is unusable (... missing or bad flag ...)" and
// README "1 for unusable input (... a missing flag, no or an unknown command) with one line
// on standard error". Each required flag of each usage line, left out.
func TestReadmeMissingFlag(t *testing.T) {
	ex, _ := loadExample(t)
	dir := writeFiles(t, map[string][]byte{
		"key": keyFile("a.example"), "keys.json": keysFile(t, "a.example"), "ev.json": ex.Events[10],
		"auth.json": []byte("[]"), "state.json": []byte("[]"),
	})
	val := map[string]string{"--room-version": "9", "--server-name": "a.example", "--key": "key",
		"--keys": "keys.json", "--auth-events": "auth.json", "--state": "state.json"}
	for _, u := range usageLines {
		for _, missing := range u.flags {
			t.Run(u.cmd+" without "+missing, func(t *testing.T) {
				args := []string{u.cmd}
				for _, f := range u.flags {
					if f != missing {
						args = append(args, f, val[f])
					}
				}
				args = append(args, "ev.json")
				run(t, dir, nil, args...).usageError(t, "roomproto "+u.cmd+": ", "missing "+missing)
			})
			t.Run(u.cmd+" "+missing+" without its value", func(t *testing.T) {
				args := []string{u.cmd}
				for _, f := range u.flags {
					if f != missing {
						args = append(args, f, val[f])
					}
				}
				args = append(args, missing)
				run(t, dir, ex.Events[10], args...).usageError(t, "roomproto "+u.cmd+": ")
			})
		}
		t.Run(u.cmd+" unknown flag", func(t *testing.T) {
			run(t, dir, ex.Events[10], u.cmd, "--no-such-flag").usageError(t, "roomproto "+u.cmd+": ", "no-such-flag")
		})
		t.Run(u.cmd+" -h", func(t *testing.T) {
			// README: "`roomproto <command> -h` prints the command's usage and flags" (exit 0).
			r := run(t, dir, nil, u.cmd, "-h")
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: roomproto "+u.cmd+": ") {
				t.Errorf("exit %d, stdout %q, stderr %q: want the usage on stdout, exit 0", r.code, r.stdout, r.stderr)
			}
			for _, f := range u.flags {
				if !strings.Contains(r.stdout, "  -"+strings.TrimLeft(f, "-")) {
					t.Errorf("flag %s not in the help %q", f, r.stdout)
				}
			}
		})
		t.Run(u.cmd+" unreadable FILE", func(t *testing.T) {
			args := []string{u.cmd}
			for _, f := range u.flags {
				args = append(args, f, val[f])
			}
			run(t, dir, nil, append(args, "no-such-file.json")...).usageError(t, "roomproto "+u.cmd+": ", "no-such-file.json")
		})
		t.Run(u.cmd+" two FILEs", func(t *testing.T) {
			args := []string{u.cmd}
			for _, f := range u.flags {
				args = append(args, f, val[f])
			}
			run(t, dir, nil, append(args, "ev.json", "ev.json")...).usageError(t, "roomproto "+u.cmd+": ")
		})
	}
	t.Run("no command", func(t *testing.T) { run(t, "", nil).usageError(t, "roomproto: ", "roomproto help") })
	t.Run("unknown command", func(t *testing.T) { run(t, "", nil, "frobnicate").usageError(t, "roomproto: ", "frobnicate") })
}

// The `--room-version` values: README "every room version (1 to 12)", "unknown room
// version" is unusable input (exit 1); roomversion: "An unknown version is an error, never a
// default". Every command that takes the flag, with 1..12 and with bad values.
func TestReadmeRoomVersionValues(t *testing.T) {
	dir := writeFiles(t, map[string][]byte{
		"key": keyFile("a.example"), "keys.json": keysFile(t, "a.example"),
		"auth.json": []byte("[]"), "state.json": []byte("[]"),
	})
	cmds := map[string][]string{
		"redact":       {"redact"},
		"event-id":     {"event-id"},
		"sign-event":   {"sign-event", "--server-name", "a.example", "--key", "key"},
		"verify-event": {"verify-event", "--keys", "keys.json"},
		"auth-events":  {"auth-events"},
		"auth":         {"auth", "--auth-events", "auth.json"},
		"policy-check": {"policy-check", "--state", "state.json"},
	}
	for name, args := range cmds {
		for _, v := range roomversion.All() {
			t.Run(name+" v"+v.ID, func(t *testing.T) {
				fields := M{"room_id": "!r:a.example", "sender": "@a:a.example", "type": "m.room.message",
					"content": M{"body": "x"}, "prev_events": []any{}, "auth_events": []any{}, "depth": 1,
					"origin_server_ts": 1}
				if v.ID == "1" || v.ID == "2" {
					fields["event_id"] = "$e:a.example"
				}
				ev := signed(t, v, fields, "a.example")
				r := run(t, dir, ev, append(append([]string{}, args...), "--room-version", v.ID)...)
				if r.code != 0 || r.stderr != "" {
					t.Errorf("exit %d stderr %q", r.code, r.stderr)
				}
			})
		}
		for _, bad := range []string{"0", "13", "", " 9", "9 ", "v9", "09", "9.0", "1.1", "-1", "org.matrix.msc2176"} {
			t.Run(name+" bad "+bad, func(t *testing.T) {
				r := run(t, dir, []byte(`{}`), append(append([]string{}, args...), "--room-version", bad)...)
				r.usageError(t, "roomproto "+name+": ")
				if bad != "" && !strings.Contains(r.stderr, "unknown room version") {
					t.Errorf("stderr %q: want it to say unknown room version", r.stderr)
				}
			})
		}
	}
}

// README: "Input is JSON from FILE or standard input (no FILE, or `-`; but `replay` without
// FILE replays its built-in example room: `replay -` reads standard input). Flags may come
// before or after FILE; `--` ends them."
func TestReadmeInputForms(t *testing.T) {
	ex, room := loadExample(t)
	ev := ex.Events[10]
	dir := writeFiles(t, map[string][]byte{"ev.json": ev, "room.json": room, "--room-version": ev})
	want := run(t, dir, nil, "event-id", "--room-version", "9", "ev.json").ok(t)
	for name, c := range map[string]struct {
		stdin []byte
		args  []string
	}{
		"stdin, no FILE":           {ev, []string{"event-id", "--room-version", "9"}},
		"stdin, -":                 {ev, []string{"event-id", "--room-version", "9", "-"}},
		"flag after FILE":          {nil, []string{"event-id", "ev.json", "--room-version", "9"}},
		"flag=value form":          {nil, []string{"event-id", "--room-version=9", "ev.json"}},
		"single dash flag":         {nil, []string{"event-id", "-room-version", "9", "ev.json"}},
		"-- ends the flags":        {nil, []string{"event-id", "--room-version", "9", "--", "--room-version"}},
		"- after flags":            {ev, []string{"event-id", "--room-version", "9", "--", "-"}},
		"FILE between flag values": {nil, []string{"event-id", "ev.json", "--room-version=9"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := run(t, dir, c.stdin, c.args...).ok(t); got != want {
				t.Errorf("stdout %q, want %q", got, want)
			}
		})
	}
	builtin := run(t, dir, nil, "replay").ok(t)
	t.Run("replay -", func(t *testing.T) {
		if got := run(t, dir, room, "replay", "-").ok(t); got != builtin {
			t.Errorf("replay - of the example room differs from the built-in replay")
		}
	})
	t.Run("replay FILE", func(t *testing.T) {
		if got := run(t, dir, nil, "replay", "room.json").ok(t); got != builtin {
			t.Errorf("replay FILE of the example room differs from the built-in replay")
		}
	})
	t.Run("replay ignores stdin without FILE", func(t *testing.T) {
		if got := run(t, dir, []byte("not json"), "replay").ok(t); got != builtin {
			t.Errorf("replay without FILE read stdin")
		}
	})
}

// The room version of a room dump (replay, verify-room) and of a join-decision request: README
// "unknown room version" is unusable input (exit 1, one line).
func TestReadmeRoomVersionInInput(t *testing.T) {
	p := example(t)
	dir := writeFiles(t, map[string][]byte{"keys": p.keys})
	for _, v := range roomversion.All() {
		dump := []byte(`{"room_version":"` + v.ID + `","events":[]}`)
		run(t, dir, dump, "replay", "-").ok(t)
		run(t, dir, dump, "verify-room", "--keys", "keys").ok(t)
	}
	for _, bad := range []string{`"13"`, `"0"`, `""`, `"9 "`, `"v9"`, `9`, `null`} {
		dump := []byte(`{"room_version":` + bad + `,"events":[]}`)
		for _, r := range []result{run(t, dir, dump, "replay", "-"), run(t, dir, dump, "verify-room", "--keys", "keys")} {
			r.usageError(t, "roomproto ")
			if !strings.Contains(r.stderr, "room_version") && !strings.Contains(r.stderr, "unknown room version") {
				t.Errorf("stderr %q does not name the room version", r.stderr)
			}
		}
		req := []byte(`{"room_version":` + bad + `,"state":[],"user_id":"@a:b.example","resident_server":"b.example"}`)
		run(t, dir, req, "join-decision").usageError(t, "roomproto join-decision: ", "room_version")
	}
}

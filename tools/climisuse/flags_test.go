package climisuse

import (
	"strings"
	"testing"
)

// TestFlags: missing, unknown, repeated and misplaced flags, and room versions written
// another way.
func TestFlags(t *testing.T) {
	fixtures(t)
	idV9 := run(t, nil, "event-id", "--room-version", "9", "sev.json")
	if idV9.Code != 0 {
		t.Fatalf("event-id: %+v", idV9)
	}
	id := idV9.Stdout
	cases := []cliCase{
		// Missing required flags: exit 1 naming the flag.
		{name: "redact without --room-version", args: []string{"redact", "sev.json"}, want: fails("missing --room-version")},
		{name: "event-id without --room-version", args: []string{"event-id", "sev.json"}, want: fails("missing --room-version")},
		{name: "auth-events without --room-version", args: []string{"auth-events", "msg.json"}, want: fails("missing --room-version")},
		{name: "sign without --server-name", args: []string{"sign", "--key", "a.key", "obj.json"}, want: fails("missing --server-name")},
		{name: "sign without --key", args: []string{"sign", "--server-name", "a.example", "obj.json"}, want: fails("missing --key")},
		{name: "sign-event without --room-version", args: []string{"sign-event", "--server-name", "a.example", "--key", "a.key", "ev.json"}, want: fails("missing --room-version")},
		{name: "verify without --keys", args: []string{"verify", "sev.json"}, want: fails("missing --keys")},
		{name: "verify-event without --keys", args: []string{"verify-event", "--room-version", "9", "sev.json"}, want: fails("missing --keys")},
		{name: "auth without --auth-events", args: []string{"auth", "--room-version", "9", "msg.json"}, want: fails("missing --auth-events")},
		{name: "auth without --room-version", args: []string{"auth", "--auth-events", "ae3.json", "msg.json"}, want: fails("missing --room-version")},
		{name: "policy-check without --state", args: []string{"policy-check", "--room-version", "9", "msg.json"}, want: fails("missing --state")},
		{name: "verify-room without --keys", args: []string{"verify-room", "room.json"}, want: fails("missing --keys")},
		{name: "empty --room-version is missing", args: []string{"event-id", "--room-version=", "sev.json"}, want: fails("missing --room-version")},
		{name: "flag without its value", args: []string{"event-id", "sev.json", "--room-version"}, want: fails("flag needs an argument", "room-version")},

		// Unknown flags, also those of other commands.
		{name: "unknown flag", args: []string{"event-id", "--room-version", "9", "--bogus", "sev.json"}, want: fails("not defined", "bogus")},
		{name: "content-hash takes no --room-version", args: []string{"content-hash", "--room-version", "9", "sev.json"}, want: fails("not defined", "room-version")},
		{name: "join-decision takes no --room-version", args: []string{"join-decision", "--room-version", "9", "jd.json"}, want: fails("not defined")},
		{name: "canonical takes no --quiet", args: []string{"canonical", "--quiet", "obj.json"}, want: fails("not defined")},
		{name: "unknown flag wins over -h", args: []string{"event-id", "--bogus", "-h"}, want: fails("not defined")},

		// Spellings of one flag.
		{name: "--flag=value", args: []string{"event-id", "--room-version=9", "sev.json"}, want: ok(id)},
		{name: "-flag value", args: []string{"event-id", "-room-version", "9", "sev.json"}, want: ok(id)},
		{name: "flags after the file", args: []string{"event-id", "sev.json", "--room-version", "9"}, want: ok(id)},
		{name: "flags around the file", args: []string{"sign-event", "--room-version", "9", "ev.json", "--server-name", "a.example", "--key=a.key"}, want: okOut(func(s string) string {
			if !strings.Contains(s, `"signatures":{"a.example":{"ed25519:1":`) {
				return "not signed"
			}
			return ""
		})},
		{name: "-- ends the flags", args: []string{"event-id", "--room-version", "9", "--", "sev.json"}, want: ok(id)},
		{name: "after -- a flag is a file", args: []string{"event-id", "--room-version", "9", "--", "--room-version"}, want: fails("open --room-version")},
		{name: "- before the flags", stdin: file(t, "sev.json"), args: []string{"event-id", "-", "--room-version", "9"}, want: ok(id)},
		{name: "bool flag =false", args: []string{"canonical", "--strict=false", "obj.json"}, want: ok(`{"a":1}`)},
		{name: "bool flag takes no separate value", args: []string{"canonical", "--strict", "false"}, want: fails("open false")},
		{name: "two files after flags", args: []string{"event-id", "--room-version", "9", "sev.json", "sev.json"}, want: fails("at most one input file, got 2")},
		{name: "replay two files", args: []string{"replay", "room.json", "room.json"}, want: fails("at most one room file, got 2")},

		// A value "--" is a value, not the end of the flags (finding C2).
		{name: "a flag value -- is not the end of the flags", args: []string{"sign", "--server-name", "--", "obj.json", "--key", "a.key"}, want: okOut(func(s string) string {
			if !strings.Contains(s, `"signatures":{"--":`) {
				return `want a signature by server "--"`
			}
			return ""
		})},

		// Room versions written another way are unknown, not read as the nearest version.
		{name: "unknown room version", args: []string{"event-id", "--room-version", "99", "sev.json"}, want: fails(`unknown room version "99"`)},
		{name: "padded room version", args: []string{"event-id", "--room-version", " 9", "sev.json"}, want: fails(`unknown room version " 9"`)},
		{name: "room version with a newline", args: []string{"event-id", "--room-version", "9\n", "sev.json"}, want: fails(`unknown room version "9\n"`)},
		{name: "room version V9", args: []string{"event-id", "--room-version", "V9", "sev.json"}, want: fails(`unknown room version "V9"`)},
		{name: "room version 09", args: []string{"event-id", "--room-version", "09", "sev.json"}, want: fails(`unknown room version "09"`)},
		{name: "room version 9.0", args: []string{"event-id", "--room-version", "9.0", "sev.json"}, want: fails(`unknown room version "9.0"`)},
		{name: "room version of an MSC", args: []string{"redact", "--room-version", "org.matrix.msc2176", "sev.json"}, want: fails("unknown room version")},
		{name: "room version bad in auth", args: []string{"auth", "--room-version", "X", "--auth-events", "ae3.json", "msg.json"}, want: fails("unknown room version")},
		{name: "room version checked before the input", args: []string{"redact", "--room-version", "X", "no-such.json"}, want: fails("unknown room version")},

		// A flag given twice: refused, or at least documented (finding C7: the last one
		// silently wins; --keys twice drops the first key set).
		{name: "--room-version twice", args: []string{"event-id", "--room-version", "1", "--room-version", "9", "sev.json"}, want: fails("room-version")},
		{name: "--keys twice", args: []string{"verify-event", "--room-version", "9", "--keys", "keys.json", "--keys", "nokeys.json", "sev.json"}, want: fails("keys")},

		// "-" for the files of flags (finding C9: only FILE reads standard input).
		{name: "--keys - reads stdin", stdin: file(t, "keys.json"), args: []string{"verify-event", "--room-version", "9", "--keys", "-", "sev.json"}, want: ok(`{"valid":true}` + "\n")},

		// Help.
		{name: "help lists every command", args: []string{"help"}, want: okOut(func(s string) string {
			for _, c := range allCommands {
				if !strings.Contains(s, "\n  "+c.args[0]+" ") {
					return "no " + c.args[0]
				}
			}
			return ""
		})},
		{name: "help of a command", args: []string{"help", "event-id"}, want: okOut(func(s string) string {
			if !strings.HasPrefix(s, "usage: roomproto event-id") {
				return "want the usage of event-id, as `roomproto event-id -h` prints it"
			}
			return ""
		})},
		{name: "-- -h is a file", args: []string{"canonical", "--", "-h"}, want: fails("open -h")},
		{name: "no command", args: []string{}, want: fails("no command")},
		{name: "unknown command", args: []string{"event_id"}, want: fails("unknown command")},
	}
	for _, c := range allCommands {
		n := c.args[0]
		cases = append(cases, cliCase{name: n + " -h", args: []string{n, "-h"}, want: okOut(func(s string) string {
			if !strings.HasPrefix(s, "usage: roomproto "+n+": ") {
				return "no usage line"
			}
			return ""
		})})
	}
	// The "no command" case has no args[0]: run it apart.
	for i, c := range cases {
		if len(c.args) == 0 {
			cases = append(cases[:i], cases[i+1:]...)
			t.Run(c.name, func(t *testing.T) {
				r := run(t, nil)
				c.want.check(t, "", r)
				if !strings.HasPrefix(r.Stderr, "roomproto: no command") {
					t.Errorf("stderr %q", r.Stderr)
				}
			})
			break
		}
	}
	runCases(t, cases)
}

package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestCommandHelp: `roomproto <command> -h` (or --help) prints the command's usage line and,
// for a command with flags, each flag, on standard output with exit status 0 and nothing on
// standard error; it reads no input.
func TestCommandHelp(t *testing.T) {
	wantFlags := map[string][]string{
		"canonical": {"-strict"}, "redact": {"-room-version"}, "content-hash": nil,
		"event-id": {"-room-version"}, "sign": {"-server-name", "-key"},
		"sign-event": {"-room-version", "-server-name", "-key"}, "verify": {"-keys"},
		"verify-event": {"-room-version", "-keys"}, "auth-events": {"-room-version"},
		"auth": {"-room-version", "-auth-events", "-keys"}, "replay": {"-keys"},
		"join-decision": nil, "policy-check": {"-room-version", "-state"},
		"verify-room": {"-keys", "-quiet", "-timing"},
	}
	cmds := commands()
	if len(cmds) != len(wantFlags) {
		t.Fatalf("%d commands, the table has %d", len(cmds), len(wantFlags))
	}
	for name, flags := range wantFlags {
		for _, h := range []string{"-h", "--help"} {
			var stdout, stderr bytes.Buffer
			code := run([]string{name, h}, strings.NewReader("not read"), &stdout, &stderr)
			out := stdout.String()
			if code != 0 || stderr.Len() != 0 {
				t.Errorf("%s %s: exit %d, stderr %q", name, h, code, stderr.String())
			}
			if want := "usage: roomproto " + name + ": " + cmds[name].summary + "\n"; !strings.HasPrefix(out, want) {
				t.Errorf("%s %s: stdout %q, want it to start with %q", name, h, out, want)
			}
			if strings.Contains(out, "flags:") != (len(flags) > 0) {
				t.Errorf("%s %s: stdout %q: flags section wrong", name, h, out)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, " value\n") {
				t.Errorf("%s %s: stdout %q: the flag package could not read a flag's value", name, h, out)
			}
			for _, f := range flags {
				if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
					t.Errorf("%s %s: flag %s not listed in %q", name, h, f, out)
				}
			}
		}
	}
}

// TestCommandHelpExact: the whole help of one command with a string and two boolean flags, as
// `roomproto help verify-room` and `roomproto verify-room -h` print it. (The wrappers that refuse
// a flag given twice once leaked into it: "-keys value" and a "panic calling String method"
// line per flag.)
func TestCommandHelpExact(t *testing.T) {
	want := "usage: roomproto verify-room: verify and authorise a whole room dump --keys FILE [--quiet] [--timing] [FILE]\n" +
		"flags:\n" +
		"  -keys string\n" +
		"    \tpublic keys {server: {key ID: key}} (required)\n" +
		"  -quiet\n" +
		"    \tno progress bar on standard error\n" +
		"  -timing\n" +
		"    \tadd \"milliseconds\" and \"events_per_second\" to the summary (they change from run to run)\n"
	for _, args := range [][]string{{"verify-room", "-h"}, {"help", "verify-room"}, {"verify-room", "--keys", "k", "--help"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 || stdout.String() != want || stderr.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", args, code, stdout.String(), stderr.String(), want)
		}
	}
}

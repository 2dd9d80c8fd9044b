package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliFuzzTarget is one way FuzzCLIInput feeds bytes to the tool: a command line with valid
// flags and files, and where the fuzzed bytes go (standard input, or the file named into).
type cliFuzzTarget struct {
	args []string // "@NAME" is the path of a valid file NAME (cliFuzzFiles) or of the fuzzed bytes
	into string   // "" for standard input, else the @NAME that receives the fuzzed bytes
}

var cliFuzzTargets = []cliFuzzTarget{
	{args: []string{"canonical"}},
	{args: []string{"canonical", "--strict"}},
	{args: []string{"redact", "--room-version", "1"}},
	{args: []string{"redact", "--room-version", "5"}},
	{args: []string{"redact", "--room-version", "9"}},
	{args: []string{"redact", "--room-version", "12"}},
	{args: []string{"content-hash"}},
	{args: []string{"event-id", "--room-version", "1"}},
	{args: []string{"event-id", "--room-version", "3"}},
	{args: []string{"event-id", "--room-version", "9"}},
	{args: []string{"sign", "--server-name", "domain", "--key", "@key"}},
	{args: []string{"sign-event", "--room-version", "1", "--server-name", "domain", "--key", "@key"}},
	{args: []string{"sign-event", "--room-version", "11", "--server-name", "domain", "--key", "@key"}},
	{args: []string{"verify", "--keys", "@keys"}},
	{args: []string{"verify-event", "--room-version", "5", "--keys", "@keys"}},
	{args: []string{"verify-event", "--room-version", "9", "--keys", "@keys"}},
	{args: []string{"auth-events", "--room-version", "9"}},
	{args: []string{"auth-events", "--room-version", "12"}},
	{args: []string{"auth", "--room-version", "9", "--auth-events", "@auth", "--keys", "@keys"}},
	{args: []string{"join-decision"}},
	{args: []string{"verify-room", "--quiet", "--keys", "@keys"}},
	{args: []string{"replay", "-"}},
	// The fuzzed bytes as a file the command reads.
	{args: []string{"auth", "--room-version", "9", "--auth-events", "@fuzz", "--keys", "@keys", "@event"}, into: "fuzz"},
	{args: []string{"verify", "--keys", "@fuzz", "@signed"}, into: "fuzz"},
	{args: []string{"sign", "--server-name", "domain", "--key", "@fuzz", "@signed"}, into: "fuzz"},
	{args: []string{"replay", "@fuzz"}, into: "fuzz"},
	{args: []string{"canonical", "@fuzz"}, into: "fuzz"},
	{args: []string{"policy-check", "--room-version", "9", "--state", "@pstate"}},
	{args: []string{"policy-check", "--room-version", "9", "--state", "@fuzz", "@psevent"}, into: "fuzz"},
}

// cliFuzzFiles are the valid files the targets name, taken from testdata/cli/cases.json.
func cliFuzzFiles(tb testing.TB, cases []cliCase) map[string]string {
	tb.Helper()
	find := func(caseName, file string) string {
		for _, c := range cases {
			if c.Name == caseName {
				if s, ok := c.Files[file]; ok {
					return s
				}
				if file == "stdin" {
					return c.Stdin
				}
			}
		}
		tb.Fatalf("testdata/cli/cases.json has no case %q with %s", caseName, file)
		return ""
	}
	return map[string]string{
		"key":     find("sign: spec JSON vector 1", "key"),
		"keys":    find("verify-event: corpus event 7", "keys"),
		"auth":    find("auth: restricted join via a joined authoriser is allowed", "auth"),
		"event":   find("auth: restricted join via a joined authoriser is allowed", "stdin"),
		"signed":  find("verify: spec JSON vector 2", "stdin"),
		"pstate":  find("policy-check: signed by the Policy Server", "state"),
		"psevent": find("policy-check: signed by the Policy Server", "stdin"),
	}
}

// FuzzCLIInput feeds arbitrary bytes to every command (target picks the command line, with
// valid flags and files): the tool never panics, exits 0 or 1, writes exactly one line to
// stderr and nothing to stdout when it exits 1, and nothing to stderr when it exits 0. On
// success, canonical's output is a fixed point and --strict agrees with the lenient mode.
func FuzzCLIInput(f *testing.F) {
	cases := loadCLICases(f)
	files := cliFuzzFiles(f, cases)
	dir := f.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			f.Fatal(err)
		}
	}
	// Seeds: the standard input of every case, sent to each target of its command. The big
	// benchmark-corpus dumps are left out: the fuzzer minimises every seed it keeps.
	for _, c := range cases {
		if len(c.Args) == 0 || len(c.Stdin) > 8<<10 {
			continue
		}
		for i, tg := range cliFuzzTargets {
			if tg.args[0] == c.Args[0] && tg.into == "" {
				f.Add(uint8(i), []byte(c.Stdin))
			}
		}
	}
	for i, tg := range cliFuzzTargets {
		if tg.into != "" {
			for _, seed := range []string{files["auth"], files["keys"], files["key"], files["pstate"], `{"room_version":"9","events":[]}`, "{}"} {
				if len(seed) <= 8<<10 {
					f.Add(uint8(i), []byte(seed))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, target uint8, data []byte) {
		tg := cliFuzzTargets[int(target)%len(cliFuzzTargets)]
		stdin := data
		own := dir
		if tg.into != "" {
			own = t.TempDir()
			if err := os.WriteFile(filepath.Join(own, tg.into), data, 0o600); err != nil {
				t.Fatal(err)
			}
			stdin = nil
		}
		args := make([]string, len(tg.args))
		for i, a := range tg.args {
			if strings.HasPrefix(a, "@") {
				name := a[1:]
				if name == tg.into {
					a = filepath.Join(own, name)
				} else {
					a = filepath.Join(dir, name)
				}
			}
			args[i] = a
		}
		code, stdout, stderr := runCLI(args, stdin)
		switch code {
		case 0:
			if stderr != "" {
				t.Fatalf("%v: exit 0 with stderr %q", tg.args, stderr)
			}
		case 1:
			if !isOneLine(stderr) {
				t.Fatalf("%v: exit 1, stderr must be one line: %q", tg.args, stderr)
			}
			if stdout != "" {
				t.Fatalf("%v: exit 1 with stdout %q", tg.args, stdout)
			}
			return
		default:
			t.Fatalf("%v: exit %d (want 0 or 1), stderr %q", tg.args, code, stderr)
		}
		switch tg.args[0] {
		case "canonical":
			again, out2, err2 := runCLI([]string{"canonical"}, []byte(stdout))
			if again != 0 || out2 != stdout {
				t.Fatalf("canonical output is not a fixed point: %q -> exit %d %q %q", stdout, again, out2, err2)
			}
			if len(tg.args) > 1 && tg.args[1] == "--strict" {
				if c, lenient, _ := runCLI([]string{"canonical"}, stdin); c != 0 || lenient != stdout {
					t.Fatalf("strict and lenient canonical forms differ: %q vs %q", stdout, lenient)
				}
			}
		case "redact", "content-hash", "sign", "sign-event", "verify", "verify-event", "auth-events", "auth", "join-decision", "policy-check":
			if !isOneLine(stdout) || !json.Valid([]byte(stdout)) {
				t.Fatalf("%v: output is not one JSON line: %q", tg.args, stdout)
			}
		case "verify-room":
			for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
				if !json.Valid([]byte(line)) {
					t.Fatalf("verify-room line is not JSON: %q", line)
				}
			}
		}
		if tg.args[0] == "redact" {
			// Redaction is idempotent: the output redacts to itself.
			again, out2, err2 := runCLI(tg.args, bytes.TrimSuffix([]byte(stdout), []byte("\n")))
			if again != 0 || out2 != stdout {
				t.Fatalf("redact is not idempotent: %q -> exit %d %q %q", stdout, again, out2, err2)
			}
		}
	})
}

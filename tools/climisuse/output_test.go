package climisuse

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestOutputShape: every JSON output is canonical where docs/decisions.md (hostile input 3a)
// says so, ends with exactly one newline (canonical: none), and is the same on a second run.
func TestOutputShape(t *testing.T) {
	fixtures(t)
	canonicalOut := map[string]bool{"canonical": true, "redact": true, "content-hash": true, "sign": true,
		"sign-event": true, "verify": true, "verify-event": true, "auth-events": true, "join-decision": true}
	for _, c := range allCommands {
		name := c.args[0]
		t.Run(name, func(t *testing.T) {
			first := run(t, file(t, c.input), c.args...)
			second := run(t, file(t, c.input), c.args...)
			if first.Code != 0 || first.Stderr != "" {
				t.Fatalf("%+v", first)
			}
			out := first.Stdout
			if name == "canonical" {
				if strings.HasSuffix(out, "\n") {
					t.Errorf("canonical output %q ends with a newline", out)
				}
			} else if !strings.HasSuffix(out, "\n") || strings.HasSuffix(out, "\n\n") {
				t.Errorf("output %q does not end with exactly one newline", out)
			}
			if canonicalOut[name] {
				line := strings.TrimSuffix(out, "\n")
				if c, err := canonicaljson.Canonical([]byte(line)); err != nil || string(c) != line {
					t.Errorf("output %q is not canonical JSON (%v)", line, err)
				}
			}
			if name == "verify-room" {
				for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
					if _, err := canonicaljson.Canonical([]byte(l)); err != nil {
						t.Errorf("verify-room line %q is not JSON: %v", l, err)
					}
				}
			}
			if second.Stdout != first.Stdout {
				t.Errorf("two runs differ:\n%q\n%q", first.Stdout, second.Stdout)
			}
		})
	}
}

// TestVerifyRoomTimingDocumented: the summary's milliseconds and events_per_second are in the
// contract's documents (finding C3: only the command's Go comment names them).
func TestVerifyRoomTimingDocumented(t *testing.T) {
	var docs []byte
	for _, f := range []string{"README.md", "docs/decisions.md"} {
		b, err := os.ReadFile(claimkit.Root() + "/" + f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b...)
	}
	for _, m := range []string{"milliseconds", "events_per_second"} {
		if !bytes.Contains(docs, []byte(m)) {
			t.Errorf("neither README.md nor docs/decisions.md names verify-room's %q", m)
		}
	}
}

// runToFull runs the binary with standard output on /dev/full.
func runToFull(t *testing.T, stdin []byte, args ...string) (int, string) {
	t.Helper()
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	cmd := exec.Command(cli.Build(t), args...)
	cmd.Dir = fixtures(t)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Stdout = full
	var e bytes.Buffer
	cmd.Stderr = &e
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, e.String()
}

// TestWriteErrors: output that cannot be written is an error (exit 1, one line on stderr),
// for every command and for the help texts (finding C1: help and -h exit 0).
func TestWriteErrors(t *testing.T) {
	fixtures(t)
	type wcase struct {
		name    string
		stdin   []byte
		args    []string
		finding string
	}
	cases := []wcase{
		{name: "help", args: []string{"help"}},
		{name: "event-id -h", args: []string{"event-id", "-h"}},
		{name: "replay without FILE", args: []string{"replay"}},
	}
	for _, c := range allCommands {
		cases = append(cases, wcase{name: c.args[0], stdin: file(t, c.input), args: c.args})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.finding != "" {
				knownFinding(t, c.finding)
			}
			code, stderr := runToFull(t, c.stdin, c.args...)
			if code != 1 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "no space left on device") {
				t.Errorf("stdout on /dev/full: exit %d, stderr %q; want exit 1 and one line saying the write failed", code, stderr)
			}
		})
	}
}

package climisuse

import (
	"bytes"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runRusage runs the binary with stdin and returns its exit status, stdout, stderr, peak
// resident memory in bytes and wall time.
func runRusage(t *testing.T, stdin []byte, args ...string) (int, string, string, int64, time.Duration) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("peak memory is read from Linux's rusage")
	}
	cmd := exec.Command(cli.Build(t), args...)
	cmd.Dir = fixtures(t)
	cmd.Stdin = bytes.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Skip("no rusage")
	}
	return code, o.String(), e.String(), ru.Maxrss * 1024, took // Linux: Maxrss in KiB
}

// bigEvent is a JSON object of about n bytes with the fields of a message event.
func bigEvent(n int) []byte {
	head := `{"type":"m.room.message","sender":"@a:a.example","room_id":"!r:a.example","content":{"body":"`
	return []byte(head + strings.Repeat("x", n-len(head)-3) + `"}}`)
}

// TestOversizedEvent: a command that reads one event (at most 65,536 bytes of canonical JSON,
// and strict input of more than 6 × 65,536 bytes is refused unread: SECURITY.md) answers an
// oversized one without holding several times the input in memory. Finding C8 (fixed): the
// CLI read every input up to its 1 GiB limit first, and peaked at 2.5-3 times the input; a
// command that reads one event now stops at 128 × 65,536 bytes (exit 1).
func TestOversizedEvent(t *testing.T) {
	fixtures(t)
	const size = 64 << 20
	in := bigEvent(size)
	for _, c := range []struct {
		args  []string
		code  int
		reply string
	}{
		{[]string{"verify-event", "--room-version", "9", "--keys", "keys.json"}, 1, "input larger than 8388608 bytes"},
		{[]string{"auth-events", "--room-version", "9"}, 1, "input larger than 8388608 bytes"},
		{[]string{"auth", "--room-version", "9", "--auth-events", "ae3.json"}, 1, "input larger than 8388608 bytes"},
	} {
		t.Run(c.args[0], func(t *testing.T) {
			// Linux counts the parent's peak (this test, which holds the input) in a child's
			// ru_maxrss, as the child shares its memory until exec: the same command on a
			// small input, run now, gives that floor.
			_, _, _, floor, _ := runRusage(t, []byte(`{}`), c.args...)
			code, out, errOut, rss, took := runRusage(t, in, c.args...)
			if code != c.code || !strings.Contains(out+errOut, c.reply) {
				t.Fatalf("exit %d, stdout %.200q, stderr %.200q; want exit %d and %q", code, out, errOut, c.code, c.reply)
			}
			t.Logf("%s on %d MiB: peak RSS %d MiB (%d MiB on a small input), %v", c.args[0], size>>20, rss>>20, floor>>20, took.Round(time.Millisecond))
			if rss-floor > 32<<20 {
				t.Errorf("peak RSS %d MiB above the small input's for a %d MiB input that cannot be an event", (rss-floor)>>20, size>>20)
			}
		})
	}
}

package pyref

import (
	"os/exec"
	"strings"
	"testing"
)

// RunSeeds is the small run a reference harness's test makes: `go run .` in the test's directory
// with args and "-seed 1", then "-seed 2"; each run must exit with status 0 and print want (the
// harness's summary line with no divergence). It skips when python3, or one of the Python
// modules named, is not installed, and with -short.
func RunSeeds(t *testing.T, want string, modules []string, args ...string) {
	t.Helper()
	Require(t, modules...)
	if testing.Short() {
		t.Skip("runs the tool")
	}
	for _, seed := range []string{"1", "2"} {
		out, err := exec.Command("go", append([]string{"run", ".", "-seed", seed}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("seed %s: %v\n%s", seed, err, out)
		}
		if !strings.Contains(string(out), want) {
			t.Fatalf("seed %s: unexpected summary:\n%s", seed, out)
		}
	}
}

// Require skips the test when python3, or one of the Python modules named, is not installed:
// the reference cannot run.
func Require(t *testing.T, modules ...string) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the reference cannot run")
	}
	for _, m := range modules {
		if err := exec.Command("python3", "-c", "import "+m).Run(); err != nil {
			t.Skipf("python3 has no %s module: the reference cannot run", m)
		}
	}
}

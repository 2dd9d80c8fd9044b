package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSmallRunAgrees runs the comparison on 400 cases of each of two seeds over every room
// version, with the reference adopting docs/decisions.md's readings (-decisions): roomproto and
// the reference must agree on every verdict and error kind.
func TestSmallRunAgrees(t *testing.T) {
	if err := exec.Command("python3", "-c", "import cryptography").Run(); err != nil {
		t.Skip("python3 with the cryptography package is not installed: the reference cannot run")
	}
	if testing.Short() {
		t.Skip("runs the tool")
	}
	for _, seed := range []string{"1", "2"} {
		out, err := exec.Command("go", "run", ".", "-n", "400", "-seed", seed, "-decisions", "-q", "-out", t.TempDir()).CombinedOutput()
		if err != nil {
			t.Fatalf("seed %s: %v\n%s", seed, err, out)
		}
		if !strings.Contains(string(out), "harness errors 0, groups 0") {
			t.Fatalf("seed %s: unexpected summary:\n%s", seed, out)
		}
	}
}

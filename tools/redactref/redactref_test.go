package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds with the reference
// adopting docs/decisions.md's readings: roomproto and the reference must agree on every
// decision, reason category, event ID and ApplyRedaction output (exit status 0).
func TestSmallRunAgrees(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed: the reference cannot run")
	}
	if testing.Short() {
		t.Skip("runs the tool")
	}
	for _, seed := range []string{"1", "2"} {
		out, err := exec.Command("go", "run", ".", "-n", "400", "-seed", seed, "-decisions").CombinedOutput()
		if err != nil {
			t.Fatalf("seed %s: %v\n%s", seed, err, out)
		}
		if !strings.Contains(string(out), "harness errors 0, divergences 0, groups 0") {
			t.Fatalf("seed %s: unexpected summary:\n%s", seed, out)
		}
	}
}

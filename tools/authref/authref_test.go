package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of every room version with the
// reference adopting docs/decisions.md's readings: roomproto and the reference must agree on
// every verdict and rule number (exit status 0), as in the audit's 462,091 cases.
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, groups 0", []string{"cryptography"}, "-n", "400", "-decisions", "-out", t.TempDir())
}

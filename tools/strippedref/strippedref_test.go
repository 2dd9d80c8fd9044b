package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds with the reference
// adopting docs/decisions.md's readings: roomproto and the reference must agree on every verdict,
// status and errcode, and roomproto's outputs (the entries that pass, the warnings, the signed
// invite, the stripped events) must pass the reference's checks (exit status 0).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"}, "-n", "300", "-decisions")
}

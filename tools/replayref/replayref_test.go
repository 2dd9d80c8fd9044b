package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees builds cmd/roomproto and runs `replay` and `verify-room` on 48 generated
// dumps of two seeds (every room version) with the reference adopting docs/decisions.md's
// readings: every event's verdict and rule, and the summaries, must agree (exit status 0).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"}, "-n", "4", "-decisions")
}

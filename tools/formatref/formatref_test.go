package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds with the reference
// adopting docs/decisions.md's readings: roomproto and the reference must agree on every verdict,
// error kind and event ID (exit status 0). The audit's three findings are settled (README.md,
// "Findings"), so none is allowed.
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"},
		"-n", "600", "-decisions")
}

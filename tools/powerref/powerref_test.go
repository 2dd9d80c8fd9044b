package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds with the reference
// adopting docs/decisions.md's readings: roomproto and the reference must agree on every value
// (exit status 0). (The audit's finding B1, ParsePowerLevels validating every occurrence of a
// key duplicated inside `users`, `events` or `notifications`, is fixed: -known is not needed.)
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", nil, "-n", "500", "-decisions")
}

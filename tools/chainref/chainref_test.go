package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on 300 sets of each of two seeds with the reference
// adopting docs/decisions.md's readings: every divergence must be one of the known findings
// (README.md, "Findings"; exit status 0), the order-invariance, Order and Progress checks
// included (exit status 0 also needs no harness error).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "unknown groups 0", []string{"cryptography"}, "-n", "300", "-decisions")
}

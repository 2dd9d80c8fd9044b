package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds (and a batch signed
// by 1,400 distinct keys) with the reference adopting docs/decisions.md's readings: roomproto and
// the reference must agree on every outcome, and every batch path must return exactly the
// single-event error (exit status 0). The audit's findings F1-F3 (README) are fixed or settled,
// so no divergence is accepted.
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"}, "-n", "300", "-decisions")
}

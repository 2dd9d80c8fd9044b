package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds with the reference
// adopting docs/decisions.md's readings: roomproto and the reference must agree on every field,
// method, Index and refusal (exit status 0).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"},
		"-n", "600", "-decisions")
}

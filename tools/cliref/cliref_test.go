package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs a few hundred invocations of cmd/roomproto for two seeds with the
// reference adopting docs/decisions.md's readings: stdout, exit status and stderr must match what
// the reference derives from the CLI contract and the spec (the audit's findings are settled:
// README.md).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"},
		"-n", "300", "-decisions")
}

package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on 400 cases of each of two seeds over every room
// version, with the reference adopting docs/decisions.md's readings (-decisions): roomproto and
// the reference must agree on every verdict and error kind.
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, groups 0", []string{"cryptography"}, "-n", "400", "-decisions", "-q", "-out", t.TempDir())
}

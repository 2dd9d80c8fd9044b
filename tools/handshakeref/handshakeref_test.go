package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on 500 cases of each of two seeds (about 60 of them in
// rooms with m.federate false, 40 leaves with AuthEvents) with the reference adopting
// docs/decisions.md's readings: roomproto and the reference must agree on every verdict, status
// and errcode, and roomproto's outputs must pass the reference's checks (exit status 0).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", nil, "-n", "500", "-decisions")
}

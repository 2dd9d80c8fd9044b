package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestSmallRunAgrees runs the comparison on a few thousand cases of two seeds with the reference
// adopting docs/decisions.md's readings (and roomproto's offset convention for malformed
// escapes): every output byte, Index member, error kind and offset, EachMember/EachElement
// call, Unquote, KindOf, AppendString and Marshal result must agree (exit status 0).
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", nil, "-n", "3000", "-decisions")
}

package main

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// openFindings are the amb tags of the audit's open findings (README.md, "Findings"): spec-silent
// corners docs/decisions.md does not settle yet. Remove a tag once the lead settles it (and, if
// roomproto's reading is adopted, teach pduref.py's -decisions mode that reading).
const openFindings = "redacts-non-redaction,v12-create-not-state-empty,haskey-escaped-key"

// TestSmallRunAgrees runs the comparison on a few hundred cases of two seeds with the reference
// adopting docs/decisions.md's readings: roomproto and the reference must agree on every field,
// method, Index and refusal (exit status 0), apart from the open findings.
func TestSmallRunAgrees(t *testing.T) {
	pyref.RunSeeds(t, "harness errors 0, divergences 0, groups 0", []string{"cryptography"},
		"-n", "600", "-decisions", "-allow", openFindings)
}

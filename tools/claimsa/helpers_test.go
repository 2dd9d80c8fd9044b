package claimsa

import (
	"testing"

	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// knownFinding marks a case that fails and is reported in /work/logs/audit-claims-a.md
// under id. The case is skipped unless CLAIMSA_KNOWN is set, so that the lead can see it
// fail and remove the marker once the code or the text is fixed.
func knownFinding(t *testing.T, id string) { t.Helper(); claimkit.KnownFinding(t, "claimsa", id) }

// inRange reports whether version id n (1-12) lies in [lo, hi].
func inRange(id string, lo, hi int) bool {
	n := 0
	for _, c := range id {
		n = n*10 + int(c-'0')
	}
	return n >= lo && n <= hi
}

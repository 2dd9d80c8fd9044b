package misuse

import "testing"

// probe is one table case: run asserts the documented (or, where the docs
// are silent, the expected) behaviour; finding names the reported finding
// that makes it fail today ("" when it passes).
type probe struct {
	name    string
	finding string
	run     func(t *testing.T)
}

func runProbes(t *testing.T, probes []probe) {
	t.Helper()
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			if p.finding != "" {
				knownFinding(t, p.finding)
			}
			noPanic(t, func() { p.run(t) })
		})
	}
}

package difftool

import "bytes"

// CheckRun runs area a on n inputs with the seed, as the tools' tests do, and returns what is
// wrong: unclassified divergences (with the area's report), nothing compared, and, when twice is
// set, a second run with the same seed whose report differs from the first.
func CheckRun(a *Area, n int, seed int64, twice bool) []string {
	var probs []string
	t1 := NewTally(a)
	a.Run(t1, n, seed)
	if t1.Unclassified() > 0 {
		var b bytes.Buffer
		t1.Print(&b, false)
		probs = append(probs, "unclassified divergences:\n"+b.String())
	}
	if t1.Compared == 0 {
		probs = append(probs, "nothing compared")
	}
	if twice {
		t2 := NewTally(a)
		a.Run(t2, n, seed)
		if Report([]*Tally{t1}) != Report([]*Tally{t2}) {
			probs = append(probs, "two runs with the same seed differ")
		}
	}
	return probs
}

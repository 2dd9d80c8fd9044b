package pyref

import "testing"

// TestOpTally: the lines in version order (not string order), by operation within a version,
// and the totals.
func TestOpTally(t *testing.T) {
	tl := NewOpTally("ok")
	tl.Case("10", "join", true)
	tl.Case("9", "knock", false)
	tl.Case("9", "join", true).Diverge++
	tl.Case("9", "join", false)
	text, cases, divs := tl.Table()
	want := "version_op\tcases\tok\tdiverge\n" +
		"v9 join\t2\t1\t1\n" +
		"v9 knock\t1\t0\t0\n" +
		"v10 join\t1\t1\t0\n"
	if text != want || cases != 4 || divs != 1 {
		t.Errorf("Table() = %q, %d, %d; want %q, 4, 1", text, cases, divs, want)
	}
}

package pyref

import (
	"fmt"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// OpCounts are the cases of one room version and operation.
type OpCounts struct {
	// Cases counts the cases compared.
	Cases int
	// Pos counts those whose reference outcome is the one the tally names (allowed, ok, ...).
	Pos int
	// Diverge counts those that diverged.
	Diverge int
}

// OpTally counts a run's cases per room version and operation ("v12 join"), as tally.tsv of
// WriteRun lists them. The zero value is not usable: use NewOpTally.
type OpTally struct {
	pos string
	m   map[string]*OpCounts
}

// NewOpTally returns an empty tally whose Pos column is named pos ("allowed", "ok").
func NewOpTally(pos string) *OpTally {
	return &OpTally{pos: pos, m: map[string]*OpCounts{}}
}

// Case counts a case of room version vid and operation op, in Pos too when pos is set, and
// returns its counts (for Diverge).
func (t *OpTally) Case(vid, op string, pos bool) *OpCounts {
	k := "v" + vid + " " + op
	c := t.m[k]
	if c == nil {
		c = &OpCounts{}
		t.m[k] = c
	}
	c.Cases++
	if pos {
		c.Pos++
	}
	return c
}

// Table returns the tally as tally.tsv has it (a header, then a line per room version and
// operation, in version order, and by operation within a version), with the number of cases
// and of divergences in all.
func (t *OpTally) Table() (text string, cases, divergences int) {
	keys := difftool.SortedKeys(t.m)
	sort.SliceStable(keys, func(i, j int) bool {
		vi := difftool.VerNum(strings.Fields(keys[i])[0][1:])
		vj := difftool.VerNum(strings.Fields(keys[j])[0][1:])
		return vi < vj
	})
	var b strings.Builder
	fmt.Fprintf(&b, "version_op\tcases\t%s\tdiverge\n", t.pos)
	for _, k := range keys {
		c := t.m[k]
		cases += c.Cases
		divergences += c.Diverge
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\n", k, c.Cases, c.Pos, c.Diverge)
	}
	return b.String(), cases, divergences
}

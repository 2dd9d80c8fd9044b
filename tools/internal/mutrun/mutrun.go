// Package mutrun holds what the two harnesses that compare roomproto's reading of mutated events
// with a Python reference (tools/formatref and tools/pduref) share around
// tools/internal/eventmut: their common command-line flags, the names of the pdu error sentinels
// that both they and the references give a refusal, and their tally of the cases per room
// version and per mutation class (tally.tsv and coverage.txt of pyref.WriteRun) and of the
// divergence groups.
package mutrun

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/eventmut"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// Flags are the flags both harnesses take: those of pyref.Flags (-n, -seed, -versions,
// -decisions, -v and -out) and their own. Define them with Define before flag.Parse and read
// them after.
type Flags struct {
	pyref.Flags
	// Only is -only: only mutations whose label starts with it.
	Only string
	// Allow is -allow: comma-separated entries whose divergences are counted as known (Allowed).
	Allow string
	// Dump is -dump: the file every generated case is written to ("": none).
	Dump string
}

// Define defines the flags on fs: n is -n's default, env the environment variable whose value
// "1" turns -decisions on by default (FORMATREF_DECISIONS, say), allowHelp -allow's help text.
func (f *Flags) Define(fs *flag.FlagSet, n int, env, allowHelp string) {
	f.Flags.Define(fs, n, env, os.Getenv(env) == "1", pyref.VerboseHelp)
	f.DefineOut(fs)
	fs.StringVar(&f.Only, "only", "", "only mutations whose label starts with this")
	fs.StringVar(&f.Allow, "allow", "", allowHelp)
	fs.StringVar(&f.Dump, "dump", "", "write every generated case to this file as JSON lines (index, version, label, base64 bytes); for checking that a change to the generator draws the same cases")
}

// Allowed returns -allow split at its commas, nil when it is empty.
func (f *Flags) Allowed() []string {
	if f.Allow == "" {
		return nil
	}
	return strings.Split(f.Allow, ",")
}

// Draw draws case i of a run: a room version of versions, an event of a room of that version
// (eventmut.NewCase) and one of muts whose label starts with only (-only); the case is written
// to dump. raw is nil when no mutation of that prefix applied: the case is not compared.
func Draw(r *rand.Rand, versions []string, i int, muts []eventmut.Mutation, only string, dump *pyref.Dump) (v string, raw []byte, label string) {
	v = versions[r.Intn(len(versions))]
	c := eventmut.NewCase(r, v, i)
	raw, label = c.Mutate(muts, only)
	dump.Add(i, v, label, raw)
	return v, raw, label
}

// Finish ends a run after its last case: it closes the reference and the dump (a dump that
// could not be written ends the program with status 2) and returns the tally as tally.tsv (its
// last column named divergences) and coverage.txt have it.
func (t *Tally) Finish(ref *pyref.Process, dump *pyref.Dump, divergences string) (tb, cov string) {
	ref.Close()
	if err := dump.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return t.Table(divergences), t.Coverage()
}

// WriteRun writes the run's files into dir (pyref.WriteRun: tb, cov and the groups gs; a
// failure ends the program with status 2) and prints how many cases -allow counted as known,
// when there are any.
func WriteRun[E any](dir, tb, cov string, gs []*pyref.Group[E], known int) {
	if err := pyref.WriteRun(dir, tb, cov, gs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if known > 0 {
		fmt.Printf("\nknown (-allow) %d\n", known)
	}
}

// sentinels are the error kinds roomproto's refusals are matched against, by name.
var sentinels = []struct {
	name string
	err  error
}{
	{"notjson", pdu.ErrNotJSON}, {"notobject", pdu.ErrNotObject}, {"missing", pdu.ErrMissingField},
	{"wrongtype", pdu.ErrWrongType}, {"toolarge", pdu.ErrTooLarge}, {"toomany", pdu.ErrTooMany},
	{"outofrange", pdu.ErrOutOfRange},
}

// Kinds names the sentinels err matches (errors.Is), in a fixed order: notjson, notobject,
// missing, wrongtype, toolarge, toomany, outofrange. It returns nil when err matches none.
func Kinds(err error) []string {
	var out []string
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			out = append(out, s.name)
		}
	}
	return out
}

// counts are the cases of one version or mutation class.
type counts struct{ cases, accept, refuse, diverge int }

// Tally counts a run's cases per room version and per mutation class (what roomproto accepted
// and refused, and the divergences not known), and the amb tags, the spec-silent corners, that
// the reference went through. The zero value is not usable: use NewTally.
type Tally struct {
	byVer, byMut map[string]*counts
	amb          map[string]int
}

// NewTally returns an empty tally.
func NewTally() *Tally {
	return &Tally{byVer: map[string]*counts{}, byMut: map[string]*counts{}, amb: map[string]int{}}
}

// get returns m[k], made on first use.
func get(m map[string]*counts, k string) *counts {
	if m[k] == nil {
		m[k] = new(counts)
	}
	return m[k]
}

// Case counts a case of room version v and mutation class mut that roomproto accepted (or
// refused).
func (t *Tally) Case(v, mut string, accept bool) {
	for _, c := range []*counts{get(t.byVer, v), get(t.byMut, mut)} {
		c.cases++
		if accept {
			c.accept++
		} else {
			c.refuse++
		}
	}
}

// Diverge counts a divergence, not a known one, of a case of room version v and mutation
// class mut.
func (t *Tally) Diverge(v, mut string) {
	get(t.byVer, v).diverge++
	get(t.byMut, mut).diverge++
}

// Amb counts each of the amb tags the reference went through.
func (t *Tally) Amb(tags ...string) {
	for _, a := range tags {
		t.amb[a]++
	}
}

// Table returns the tally as tally.tsv has it: a header (whose last column, the divergences,
// is named divergences), then a line per room version, in version order, and per mutation
// class, sorted.
func (t *Tally) Table(divergences string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "what\tname\tcases\taccept\trefuse\t%s\n", divergences)
	for _, k := range difftool.SortedVersions(t.byVer) {
		c := t.byVer[k]
		fmt.Fprintf(&b, "version\t%s\t%d\t%d\t%d\t%d\n", k, c.cases, c.accept, c.refuse, c.diverge)
	}
	for _, k := range difftool.SortedKeys(t.byMut) {
		c := t.byMut[k]
		fmt.Fprintf(&b, "mutation\t%s\t%d\t%d\t%d\t%d\n", k, c.cases, c.accept, c.refuse, c.diverge)
	}
	return b.String()
}

// Coverage returns the amb tags seen as coverage.txt has them: "amb", the tag and its count, a
// line each, sorted by tag.
func (t *Tally) Coverage() string {
	var b strings.Builder
	for _, k := range difftool.SortedKeys(t.amb) {
		fmt.Fprintf(&b, "amb\t%s\t%d\n", k, t.amb[k])
	}
	return b.String()
}

// Known starts the key of a divergence group that -allow counts as known: printed, not counted.
const Known = "KNOWN "

// Divergences returns the groups, most cases first (in key order among equals), and counts
// the cases of the groups that are not Known, how many such groups there are, and the cases of
// the Known ones.
func Divergences[E any](groups pyref.Groups[E]) (gs []*pyref.Group[E], divergences, ngroups, known int) {
	gs = groups.Sorted()
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].Count > gs[j].Count })
	for _, g := range gs {
		if strings.HasPrefix(g.Key, Known) {
			known += g.Count
		} else {
			divergences += g.Count
			ngroups++
		}
	}
	return gs, divergences, ngroups, known
}

package mutrun

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/eventmut"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestFlags: the defaults, the environment's -decisions and the parsed lists.
func TestFlags(t *testing.T) {
	t.Setenv("MUTRUN_DECISIONS", "")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f Flags
	f.Define(fs, 300, "MUTRUN_DECISIONS", "known")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if f.N != 300 || f.Seed != 1 || f.Decisions || f.Allowed() != nil || len(f.VersionList()) != 12 {
		t.Errorf("defaults: %+v, versions %v, allowed %v", f, f.VersionList(), f.Allowed())
	}
	if fl := fs.Lookup("decisions"); fl.Usage != "the reference adopts docs/decisions.md readings (MUTRUN_DECISIONS=1)" {
		t.Errorf("-decisions usage %q", fl.Usage)
	}
	if fs.Lookup("allow").Usage != "known" {
		t.Errorf("-allow usage %q", fs.Lookup("allow").Usage)
	}

	t.Setenv("MUTRUN_DECISIONS", "1")
	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	f = Flags{}
	f.Define(fs, 300, "MUTRUN_DECISIONS", "known")
	if err := fs.Parse([]string{"-n", "7", "-seed", "3", "-versions", "1,12", "-allow", "a,label:b", "-v", "-only", "size", "-out", "d", "-dump", "f"}); err != nil {
		t.Fatal(err)
	}
	if f.N != 7 || f.Seed != 3 || !f.Decisions || !f.Verbose || f.Only != "size" || f.Out != "d" || f.Dump != "f" ||
		!slices.Equal(f.VersionList(), []string{"1", "12"}) || !slices.Equal(f.Allowed(), []string{"a", "label:b"}) {
		t.Errorf("parsed: %+v, versions %v, allowed %v", f, f.VersionList(), f.Allowed())
	}
}

// TestTally: versions in version order, mutation classes and amb tags sorted.
func TestTally(t *testing.T) {
	tl := NewTally()
	tl.Case("10", "size", true)
	tl.Case("9", "size", false)
	tl.Case("9", "depth", false)
	tl.Diverge("9", "depth")
	tl.Amb("b", "a")
	tl.Amb("b")
	want := "what\tname\tcases\taccept\trefuse\tdivergent\n" +
		"version\t9\t2\t0\t2\t1\n" +
		"version\t10\t1\t1\t0\t0\n" +
		"mutation\tdepth\t1\t0\t1\t1\n" +
		"mutation\tsize\t2\t1\t1\t0\n"
	if got := tl.Table("divergent"); got != want {
		t.Errorf("Table:\n%s\nwant\n%s", got, want)
	}
	if got, want := tl.Coverage(), "amb\ta\t1\namb\tb\t2\n"; got != want {
		t.Errorf("Coverage %q, want %q", got, want)
	}
	if got := NewTally().Table("divergences"); got != "what\tname\tcases\taccept\trefuse\tdivergences\n" {
		t.Errorf("empty Table %q", got)
	}
}

// TestKinds names the sentinels matched, wrapped or joined, in the fixed order.
func TestKinds(t *testing.T) {
	if k := Kinds(errors.New("x")); k != nil {
		t.Errorf("Kinds(other) = %v", k)
	}
	if k := Kinds(fmt.Errorf("depth: %w", pdu.ErrOutOfRange)); !slices.Equal(k, []string{"outofrange"}) {
		t.Errorf("Kinds(wrapped) = %v", k)
	}
	if k := Kinds(errors.Join(pdu.ErrTooMany, pdu.ErrNotJSON)); !slices.Equal(k, []string{"notjson", "toomany"}) {
		t.Errorf("Kinds(joined) = %v", k)
	}
}

// TestDivergences: most cases first, key order among equals; Known groups counted apart.
func TestDivergences(t *testing.T) {
	g := pyref.Groups[string]{}
	for _, k := range []string{"b", "a", Known + "c", "b", Known + "c", Known + "c", "d"} {
		g.Add(k, "9", k, 1)
	}
	gs, divergences, ngroups, known := Divergences(g)
	var keys []string
	for _, x := range gs {
		keys = append(keys, x.Key)
	}
	if want := []string{Known + "c", "b", "a", "d"}; !slices.Equal(keys, want) {
		t.Errorf("order %q, want %q", keys, want)
	}
	if divergences != 4 || ngroups != 3 || known != 3 {
		t.Errorf("divergences %d, groups %d, known %d; want 4, 3, 3", divergences, ngroups, known)
	}
}

// TestDrawFinishWriteRun: Draw is the same for the same seed and gives nil when -only keeps no
// mutation; Finish closes the dump and returns the tables; WriteRun writes the files.
func TestDrawFinishWriteRun(t *testing.T) {
	muts := eventmut.FormatMutations()
	dir := t.TempDir()
	dump := pyref.OpenDump(filepath.Join(dir, "dump"))
	var got [2][]string
	for k := range got {
		r := rand.New(rand.NewSource(5))
		for i := range 3 {
			v, raw, label := Draw(r, []string{"3", "12"}, i, muts, "", dump)
			if raw == nil || label == "" || (v != "3" && v != "12") {
				t.Fatalf("Draw %d: v %q, label %q, raw %q", i, v, label, raw)
			}
			got[k] = append(got[k], v+" "+label+" "+string(raw))
		}
	}
	if !slices.Equal(got[0], got[1]) {
		t.Error("Draw differs for the same seed")
	}
	if _, raw, _ := Draw(rand.New(rand.NewSource(5)), []string{"12"}, 0, muts, "nosuchprefix", dump); raw != nil {
		t.Errorf("Draw with an -only that keeps nothing: %q", raw)
	}
	if _, err := exec.LookPath("python3"); err == nil {
		script := filepath.Join(dir, "x.py")
		if err := os.WriteFile(script, []byte("import sys\nsys.stdin.read()\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		tl := NewTally()
		tl.Case("12", "size", true)
		tb, cov := tl.Finish(pyref.MustStart(script), dump, "divergent")
		if tb != tl.Table("divergent") || cov != tl.Coverage() {
			t.Errorf("Finish: %q, %q", tb, cov)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "dump")); err != nil || strings.Count(string(b), "\n") != 7 {
			t.Errorf("dump after Finish: %v\n%s", err, b)
		}
	}
	WriteRun(filepath.Join(dir, "out"), "tb\n", "cov\n", []*pyref.Group[string]{}, 0)
	if b, err := os.ReadFile(filepath.Join(dir, "out", "tally.tsv")); err != nil || string(b) != "tb\n" {
		t.Errorf("WriteRun: tally.tsv %q, %v", b, err)
	}
}

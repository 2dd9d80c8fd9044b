package difftool

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Tool is a differential command: its name, its oracle and its areas. Run parses the command
// line, runs the selected areas and prints the report.
type Tool struct {
	// Name is the command's name, e.g. "gmsldiff".
	Name string
	// Banner follows the name on the first line of the output, e.g. "roomproto vs
	// gomatrixserverlib".
	Banner string
	// Areas lists every area in the order of the output.
	Areas []*Area
	// Flags, when set, registers the tool's own flags.
	Flags func(fs *flag.FlagSet)
	// Setup, when set, runs once after the flags are parsed and before any area runs (not for
	// -classes).
	Setup func()
}

// Run runs the tool on the arguments (area names and flags, in any order) and returns the exit
// status: 0 when every divergence falls in a known class, 1 when some divergence is
// unclassified, 2 on bad usage.
func (tl *Tool) Run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(tl.Name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 0, "number of generated inputs per area (0: each area's default; the unit differs per area)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same run")
	jobs := fs.Int("j", runtime.NumCPU(), "areas run at the same time (the output does not depend on it)")
	verbose := fs.Bool("v", false, "also list, for each class, the signatures of the divergences it holds")
	md := fs.Bool("md", false, "print the figures as Markdown tables (for README.md)")
	classes := fs.Bool("classes", false, "print the known classes of the areas as Markdown tables, and run nothing")
	if tl.Flags != nil {
		tl.Flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run . [area ...] [-n N] [-seed S] [-j J] [-v] [-md] [-classes]\nareas: all")
		for _, a := range tl.Areas {
			fmt.Fprintf(stderr, ", %s", a.Name)
		}
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	// Flags may follow the area names.
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	selected, err := SelectAreas(tl.Areas, names)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fs.Usage()
		return 2
	}
	if *classes {
		for _, a := range selected {
			fmt.Fprintf(stdout, "### %s\n\n%s.\n\n", a.Name, a.Title)
			a.ClassTable(stdout)
			fmt.Fprintln(stdout)
		}
		return 0
	}
	if tl.Setup != nil {
		tl.Setup()
	}

	start := time.Now()
	tallies := RunAreas(selected, *n, *seed, max(*jobs, 1))
	fmt.Fprintf(stdout, "%s: %s, seed %d\n\n", tl.Name, tl.Banner, *seed)
	bad := 0
	for _, t := range tallies {
		if *md {
			t.Markdown(stdout)
		} else {
			t.Print(stdout, *verbose)
		}
		bad += t.Unclassified()
	}
	fmt.Fprintln(stdout, "summary:")
	for _, t := range tallies {
		fmt.Fprintf(stdout, "  %-8s compared %8d  agreed %8d  classified %7d  unclassified %d\n",
			t.area.Name, t.Compared, t.Agreed, t.Classified(), t.Unclassified())
	}
	fmt.Fprintf(stdout, "  time %s\n", time.Since(start).Round(time.Second))
	if bad > 0 {
		fmt.Fprintf(stdout, "FAIL: %d divergences fall in no known class\n", bad)
		return 1
	}
	fmt.Fprintln(stdout, "OK: every divergence falls in a known class")
	return 0
}

// SelectAreas returns the areas named (all of them for no name or "all"), in the order of
// areas, or an error naming an unknown area.
func SelectAreas(areas []*Area, names []string) ([]*Area, error) {
	if len(names) == 0 {
		return areas, nil
	}
	want := map[string]bool{}
	for _, nm := range names {
		if nm == "all" {
			return areas, nil
		}
		found := false
		for _, a := range areas {
			if a.Name == nm {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown area %q", nm)
		}
		want[nm] = true
	}
	var out []*Area
	for _, a := range areas {
		if want[a.Name] {
			out = append(out, a)
		}
	}
	return out, nil
}

// RunAreas runs the areas, up to jobs at a time, n inputs each (each area's DefaultN when n is
// not positive). Each area is sequential, so the results do not depend on jobs.
func RunAreas(selected []*Area, n int, seed int64, jobs int) []*Tally {
	tallies := make([]*Tally, len(selected))
	sem := make(chan struct{}, max(jobs, 1))
	var wg sync.WaitGroup
	for i, a := range selected {
		tallies[i] = NewTally(a)
		wg.Add(1)
		go func(t *Tally, a *Area) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			an := n
			if an <= 0 {
				an = a.DefaultN
			}
			a.Run(t, an, seed)
		}(tallies[i], a)
	}
	wg.Wait()
	return tallies
}

// Report renders the figures of the tallies as text, without the summary (for tests that
// compare two runs).
func Report(ts []*Tally) string {
	var b bytes.Buffer
	for _, t := range ts {
		t.Print(&b, false)
	}
	return strings.TrimSpace(b.String())
}

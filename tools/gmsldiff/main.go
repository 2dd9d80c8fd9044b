// Command gmsldiff runs roomproto and gomatrixserverlib (GMSL) side by side on generated
// inputs and sorts every divergence into a known class. GMSL is an oracle, not an authority:
// the Matrix spec is. A known class is either a place where GMSL departs from the spec (b) or
// one where the spec is silent and roomproto's reading is recorded in docs/decisions.md (c).
//
// Usage, from tools/gmsldiff:
//
//	go run . [area ...] [-n N] [-seed S] [-j J]
//
// The areas are auth, redact, canon, hash, sign, join, select, format, jsonsig, and all (the
// default). The exit status is 0 when every divergence falls in a known class, 1 when some
// divergence is unclassified (its smallest examples are printed): a sign that a change of
// roomproto (or of the harness) moved a verdict. 2 means bad usage.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// areas lists every area in the order of the output.
var areas = []*Area{authArea, redactArea, canonArea, hashArea, signArea, joinArea, selectArea, formatArea, jsonsigArea}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gmsldiff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 0, "number of generated inputs per area (0: each area's default; the unit differs per area)")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same run")
	jobs := fs.Int("j", runtime.NumCPU(), "areas run at the same time (the output does not depend on it)")
	verbose := fs.Bool("v", false, "also list, for each class, the signatures of the divergences it holds")
	md := fs.Bool("md", false, "print the figures as Markdown tables (for README.md)")
	classes := fs.Bool("classes", false, "print the known classes of the areas as Markdown tables, and run nothing")
	fs.StringVar(&corpusPath, "corpus", corpusPath, "the signing corpus (areas hash and sign)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run . [area ...] [-n N] [-seed S] [-j J] [-v] [-md] [-classes]\nareas: all")
		for _, a := range areas {
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
	selected, err := selectAreas(names)
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
	logrus.SetOutput(io.Discard) // GMSL logs refusals through logrus

	start := time.Now()
	tallies := runAreas(selected, *n, *seed, max(*jobs, 1))
	fmt.Fprintf(stdout, "gmsldiff: roomproto vs gomatrixserverlib, seed %d\n\n", *seed)
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

func selectAreas(names []string) ([]*Area, error) {
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

// runAreas runs the areas, up to jobs at a time; each area is sequential, so the results do not
// depend on jobs.
func runAreas(selected []*Area, n int, seed int64, jobs int) []*Tally {
	tallies := make([]*Tally, len(selected))
	sem := make(chan struct{}, jobs)
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

// report renders the figures of a run as text (for tests).
func report(ts []*Tally) string {
	var b bytes.Buffer
	for _, t := range ts {
		t.Print(&b, false)
	}
	return strings.TrimSpace(b.String())
}

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// Counts is the tally of one package's results in the log.
type Counts struct {
	Made, Killed, Timeout, Invalid, Survived int
	Seconds                                  float64
}

// summarize prints per-package counts of the log's results (for the package's own tests) and
// lists the survivors; results of -target runs are listed after them.
func summarize(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	per := map[string]*Counts{}
	var order []string
	var survivors, rechecks []Result
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return err
		}
		if r.Target != "./"+r.Pkg {
			rechecks = append(rechecks, r)
			continue
		}
		c := per[r.Pkg]
		if c == nil {
			c = &Counts{}
			per[r.Pkg] = c
			order = append(order, r.Pkg)
		}
		c.Made++
		c.Seconds += r.Seconds
		switch r.Status {
		case "killed":
			c.Killed++
		case "timeout":
			c.Timeout++
		case "invalid":
			c.Invalid++
		case "survived":
			c.Survived++
			survivors = append(survivors, r)
		}
	}
	fmt.Fprintf(w, "%-14s %5s %6s %7s %7s %8s %7s\n", "package", "made", "killed", "timeout", "invalid", "survived", "seconds")
	var tot Counts
	for _, p := range order {
		c := per[p]
		fmt.Fprintf(w, "%-14s %5d %6d %7d %7d %8d %7.0f\n", p, c.Made, c.Killed, c.Timeout, c.Invalid, c.Survived, c.Seconds)
		tot.Made += c.Made
		tot.Killed += c.Killed
		tot.Timeout += c.Timeout
		tot.Invalid += c.Invalid
		tot.Survived += c.Survived
		tot.Seconds += c.Seconds
	}
	fmt.Fprintf(w, "%-14s %5d %6d %7d %7d %8d %7.0f\n", "total", tot.Made, tot.Killed, tot.Timeout, tot.Invalid, tot.Survived, tot.Seconds)
	sort.SliceStable(survivors, func(i, j int) bool {
		a, b := survivors[i], survivors[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Start < b.Start
	})
	fmt.Fprintln(w, "\nsurvivors:")
	for _, r := range survivors {
		fmt.Fprintf(w, "%-48s %-26s %s\n", r.ID, r.Func, r.Describe())
	}
	if len(rechecks) > 0 {
		fmt.Fprintln(w, "\nrechecks with other targets:")
		for _, r := range rechecks {
			fmt.Fprintf(w, "%-8s %-22s %s\n", r.Status, r.Target, r.ID)
		}
	}
	return nil
}

// Command mutcheck is a small mutation tester for roomproto's library packages: it makes one
// single-site change (a mutant) of a non-test source file at a time, runs that package's tests
// against it through `go test -overlay`, and records whether a test failed (killed), all passed
// (survived), or the mutant did not build (invalid). See README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Result is one line of the progress log: a mutant and what its test run gave.
type Result struct {
	Mutant
	Status  string  `json:"status"` // killed, survived, invalid, timeout
	Seconds float64 `json:"seconds"`
	Target  string  `json:"target"`           // the package whose tests ran
	Detail  string  `json:"detail,omitempty"` // first failing test or build error line
}

// defaultPkgs is the priority order of the audit.
var defaultPkgs = "authrules,redaction,canonicaljson,signing,pdu,membership,roomversion,serveracl,policyserver"

func main() {
	var (
		root    = flag.String("root", ".", "repository root")
		pkgs    = flag.String("pkgs", defaultPkgs, "comma-separated package directories")
		seed    = flag.Int64("seed", 1, "sampling seed")
		budget  = flag.String("budget", "", "mutants per package, e.g. authrules=200,signing=40 (default: all); at least one per function")
		hardMax = flag.Int("max", 0, "if > 0, at most this many mutants per package, even if some functions then get none")
		logPath = flag.String("log", "mutcheck.jsonl", "progress log (JSON lines)")
		resume  = flag.Bool("resume", false, "skip mutants already in the log")
		list    = flag.Bool("list", false, "only print the selected mutants")
		only    = flag.String("only", "", "run only these mutant IDs (comma-separated), e.g. to recheck")
		target  = flag.String("target", "", "run this package's tests instead of the mutant's own (e.g. ./tools/authref)")
		timeout = flag.Duration("timeout", 120*time.Second, "go test -timeout")
		runRE   = flag.String("run", "", "go test -run pattern, to check that given tests kill given mutants (not for the audit run)")
		summary = flag.Bool("summary", false, "print per-package counts and the survivors of the log, and exit")
		exclude = flag.String("exclude", "", "comma-separated logs of earlier runs whose mutants are left out before sampling")
		random  = flag.Bool("random", false, "with -budget: sample at random, without the one-mutant-per-function step")
	)
	flag.Parse()
	if *summary {
		check(summarize(os.Stdout, *logPath))
		return
	}
	absRoot, err := filepath.Abs(*root)
	check(err)

	budgets := parseBudget(*budget)
	var all []Mutant
	for _, pkg := range strings.Split(*pkgs, ",") {
		ms, err := enumeratePkg(absRoot, pkg)
		check(err)
		if *exclude != "" {
			ms = Exclude(ms, readPrevious(strings.Split(*exclude, ",")))
		}
		if n, ok := budgets[pkg]; ok {
			if *random {
				ms = Cap(ms, n, *seed)
			} else {
				ms = Sample(ms, n, *seed)
			}
		}
		if *hardMax > 0 {
			ms = Cap(ms, *hardMax, *seed)
		}
		all = append(all, ms...)
	}
	if *only != "" {
		want := map[string]bool{}
		for _, id := range strings.Split(*only, ",") {
			want[id] = true
		}
		var sel []Mutant
		for _, m := range all {
			if want[m.ID] {
				sel = append(sel, m)
			}
		}
		all = sel
	}
	if *list {
		for _, m := range all {
			fmt.Printf("%-50s %-10s %-30s %s\n", m.ID, m.Op, m.Func, m.Describe())
		}
		return
	}
	done := map[string]bool{}
	if *resume {
		done = readDone(*logPath, *target)
	}
	lf, err := os.OpenFile(*logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	check(err)
	defer lf.Close()
	tmp, err := os.MkdirTemp("", "mutcheck-")
	check(err)
	defer os.RemoveAll(tmp)
	for i, m := range all {
		if done[m.ID] {
			continue
		}
		r := run(absRoot, tmp, m, *target, *runRE, *timeout)
		b, _ := json.Marshal(r)
		_, err := lf.Write(append(b, '\n'))
		check(err)
		fmt.Fprintf(os.Stderr, "[%d/%d] %-8s %5.1fs %s %s\n", i+1, len(all), r.Status, r.Seconds, m.ID, m.Describe())
	}
}

// parseBudget reads -budget: "pkg=n,..." (pkg a package directory, e.g. cmd/roomproto).
func parseBudget(s string) map[string]int {
	budgets := map[string]int{}
	if s == "" {
		return budgets
	}
	for _, kv := range strings.Split(s, ",") {
		var v int
		k, vs, _ := strings.Cut(kv, "=")
		_, err := fmt.Sscan(vs, &v)
		check(err)
		budgets[k] = v
	}
	return budgets
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutcheck:", err)
		os.Exit(1)
	}
}

// enumeratePkg returns the mutants of every non-test .go file of the package directory pkg.
func enumeratePkg(root, pkg string) ([]Mutant, error) {
	files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Mutant
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(root, f)
		ms, err := Enumerate(pkg, filepath.ToSlash(rel), src)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// Sample picks n of ms deterministically for seed: first one mutant of every function (so
// every function is covered once), then others at random, returned in source order. If n is
// below the number of functions, every function still gets its one mutant.
func Sample(ms []Mutant, n int, seed int64) []Mutant {
	if n >= len(ms) {
		return ms
	}
	rng := rand.New(rand.NewSource(seed))
	perm := rng.Perm(len(ms))
	pick := map[int]bool{}
	seenFunc := map[string]bool{}
	for _, i := range perm {
		k := ms[i].File + ":" + ms[i].Func
		if !seenFunc[k] {
			seenFunc[k] = true
			pick[i] = true
		}
	}
	for _, i := range perm {
		if len(pick) >= n {
			break
		}
		pick[i] = true
	}
	var out []Mutant
	for i, m := range ms {
		if pick[i] {
			out = append(out, m)
		}
	}
	return out
}

// Cap returns at most n of ms, chosen at random for seed, in source order.
func Cap(ms []Mutant, n int, seed int64) []Mutant {
	if n >= len(ms) {
		return ms
	}
	pick := rand.New(rand.NewSource(seed)).Perm(len(ms))[:n]
	sort.Ints(pick)
	out := make([]Mutant, n)
	for k, i := range pick {
		out[k] = ms[i]
	}
	return out
}

func readDone(path, target string) map[string]bool {
	done := map[string]bool{}
	f, err := os.Open(path)
	if err != nil {
		return done
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r Result
		if json.Unmarshal(sc.Bytes(), &r) == nil && (target == "" || r.Target == target) {
			done[r.ID] = true
		}
	}
	return done
}

// run applies m through an overlay and runs the tests of its package (or of target).
func run(root, tmp string, m Mutant, target, runRE string, timeout time.Duration) Result {
	res := Result{Mutant: m, Target: target}
	if target == "" {
		res.Target = "./" + m.Pkg
	}
	orig := filepath.Join(root, filepath.FromSlash(m.File))
	src, err := os.ReadFile(orig)
	check(err)
	h := fnv.New32a()
	h.Write([]byte(m.ID))
	mut := filepath.Join(tmp, fmt.Sprintf("%x.go", h.Sum32()))
	check(os.WriteFile(mut, m.Apply(src), 0o644))
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {orig: mut}})
	ovPath := filepath.Join(tmp, "overlay.json")
	check(os.WriteFile(ovPath, ov, 0o644))

	ctx, cancel := context.WithTimeout(context.Background(), timeout+60*time.Second)
	defer cancel()
	if runRE != "" {
		res.Target += " -run " + runRE
	}
	cmd := testCommand(ctx, root, ovPath, res.Target, timeout)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err = cmd.Run()
	res.Seconds = time.Since(start).Seconds()
	text := out.String()
	switch {
	case err == nil:
		res.Status = "survived"
	case strings.Contains(text, "[build failed]") || strings.Contains(text, "[setup failed]"):
		res.Status = "invalid"
		res.Detail = firstLine(text, func(l string) bool { return strings.Contains(l, ".go:") })
	case strings.Contains(text, "test timed out") || ctx.Err() != nil:
		res.Status = "timeout" // counted as killed
	default:
		res.Status = "killed"
		res.Detail = firstLine(text, func(l string) bool {
			return strings.HasPrefix(strings.TrimSpace(l), "--- FAIL") || strings.HasPrefix(l, "panic:")
		})
	}
	os.Remove(mut)
	return res
}

// testCommand is the `go test` of one mutant: target is the package and any flags ("./authrules",
// "./tools/cliref -run X"). The overlay is passed on the command line and also in GOFLAGS, so that
// a `go build` or `go run` the tests start themselves (tools/cliref and tools/internal/clitest
// build cmd/roomproto that way) builds the mutant too, not the unchanged file.
func testCommand(ctx context.Context, root, ovPath, target string, timeout time.Duration) *exec.Cmd {
	args := []string{"-n", "19", "go", "test", "-count=1", "-vet=off", "-failfast", "-timeout", timeout.String(), "-overlay", ovPath}
	pkg, flags, _ := strings.Cut(target, " ")
	args = append(append(args, strings.Fields(flags)...), pkg)
	cmd := exec.CommandContext(ctx, "nice", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-p=1 -overlay="+ovPath)
	return cmd
}

func firstLine(text string, ok func(string) bool) string {
	for _, l := range strings.Split(text, "\n") {
		if ok(l) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// readPrevious returns the mutants recorded in the logs (of any target).
func readPrevious(paths []string) []Mutant {
	var out []Mutant
	for _, p := range paths {
		f, err := os.Open(p)
		check(err)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var r Result
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.ID != "" {
				out = append(out, r.Mutant)
			}
		}
		f.Close()
	}
	return out
}

// excludeNear is how far (in lines) a mutant of an earlier log may have moved, when its file
// changed since, and still be recognised as the same site.
const excludeNear = 60

// Exclude drops from ms every mutant of prev: the same ID, or, for a mutant of prev whose ID
// no longer exists (its file was edited since and its line or column moved), the nearest
// mutant of ms with the same file, function, operator, original and replacement text within
// excludeNear lines (each earlier mutant drops at most one).
func Exclude(ms, prev []Mutant) []Mutant {
	cur := map[string]bool{}
	for _, m := range ms {
		cur[m.ID] = true
	}
	drop := map[string]bool{}
	key := func(m Mutant) string {
		return m.File + "\x00" + m.Func + "\x00" + m.Op + "\x00" + m.Orig + "\x00" + m.Repl
	}
	var moved []Mutant
	for _, p := range prev {
		if cur[p.ID] {
			drop[p.ID] = true
		} else {
			moved = append(moved, p)
		}
	}
	for _, p := range moved {
		best, bestDist := "", excludeNear+1
		for _, m := range ms {
			if drop[m.ID] || key(m) != key(p) {
				continue
			}
			d := m.Line - p.Line
			if d < 0 {
				d = -d
			}
			if d < bestDist {
				best, bestDist = m.ID, d
			}
		}
		if best != "" {
			drop[best] = true
		}
	}
	var out []Mutant
	for _, m := range ms {
		if !drop[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

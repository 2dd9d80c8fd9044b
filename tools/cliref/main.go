// Command cliref checks the command-line tool cmd/roomproto as a black box against the CLI
// contract of DESIGN.md and the spec: it builds the binary once, draws invocations (every
// command of the contract, room versions 1-12 and others, events signed for real, arbitrary
// JSON, input forms a checker may use: file or stdin, indented, BOM, CRLF, trailing garbage,
// empty, non-UTF-8; key files and keys files in several forms; flags as --f v and --f=v,
// missing or unknown), runs them with os/exec and compares stdout bytes, exit status and
// stderr with what the Python reference cliref.py (written from the contract and the spec
// only) says the command must print.
//
//	go run ./tools/cliref -n 2000 -seed 1 [-decisions] [-v] [-bin PATH]
//
// Exit status 1 on any divergence or harness error, 2 when the binary or the reference cannot
// be started.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// Want is the reference's answer: what the invocation must print.
type Want struct {
	Exit   int                        `json:"exit"`
	Either bool                       `json:"either"`
	Cmp    string                     `json:"cmp"`
	Out    string                     `json:"out"`
	Fields map[string]json.RawMessage `json:"fields"`
	Free   []string                   `json:"free"`
	Alts   map[string][]string        `json:"alts"`
	Amb    []string                   `json:"amb"`
	Why    string                     `json:"why"`
	Error  string                     `json:"error"`
}

// Got is what the binary did.
type Got struct {
	Exit           int
	Stdout, Stderr []byte
}

// example is a case of a divergence group: the invocation, what the reference wants and what the
// binary did.
type example struct {
	Label   string   `json:"label"`
	Args    []string `json:"args"`
	Stdin   string   `json:"stdin"`
	Files   M        `json:"files"`
	Want    Want     `json:"want"`
	GotExit int      `json:"got_exit"`
	GotOut  string   `json:"got_out"`
	GotErr  string   `json:"got_err"`
}

func run(bin, dir string, c Case) (Got, []string) {
	args := make([]string, 0, len(c.Args))
	for _, a := range c.Args {
		if strings.HasPrefix(a, "@") {
			a = filepath.Join(dir, a[1:])
		} else if i := strings.Index(a, "=@"); i > 0 && strings.HasPrefix(a, "-") {
			a = a[:i+1] + filepath.Join(dir, a[i+2:])
		}
		args = append(args, a)
	}
	for name, b := range c.Files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(c.Stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return Got{code, out.Bytes(), errb.Bytes()}, args
}

// canonicalOf re-encodes JSON with sorted keys and no spaces (no HTML escaping).
func canonicalOf(b []byte) ([]byte, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil, false
	}
	var o bytes.Buffer
	e := json.NewEncoder(&o)
	e.SetEscapeHTML(false)
	if e.Encode(v) != nil {
		return nil, false
	}
	return bytes.TrimRight(o.Bytes(), "\n"), true
}

func jsonEq(a, b []byte) bool {
	ca, ok1 := canonicalOf(a)
	cb, ok2 := canonicalOf(b)
	return ok1 && ok2 && bytes.Equal(ca, cb)
}

// compare returns the divergence classes of one case ("" none).
func compare(cmd string, w Want, g Got, decisions bool) []string {
	var cls []string
	if decisions && g.Exit == 0 && w.Cmp != "any" && cmd != "canonical" && !bytes.HasSuffix(g.Stdout, []byte("\n")) {
		// Hostile input decision 2: one trailing newline after every command but canonical.
		cls = append(cls, "no-trailing-newline")
	}
	stderrLines := stderrLinesOf(g.Stderr)
	if g.Exit != 0 && g.Exit != 1 {
		return []string{fmt.Sprintf("exit-%d", g.Exit)}
	}
	if g.Exit == 1 {
		if len(g.Stdout) != 0 {
			cls = append(cls, "exit1-with-stdout")
		}
		if len(bytes.TrimSpace(g.Stderr)) == 0 || stderrLines != 1 {
			cls = append(cls, fmt.Sprintf("exit1-stderr-%d-lines", stderrLines))
		}
		if w.Exit == 0 && !w.Either {
			cls = append(cls, "exit1-want-0")
		}
		return cls
	}
	// exit 0
	if w.Exit == 1 && !w.Either {
		return append(cls, "exit0-want-1")
	}
	if len(g.Stderr) != 0 {
		cls = append(cls, "exit0-with-stderr")
	}
	out := g.Stdout
	if w.Cmp != "any" {
		if bytes.HasSuffix(out, []byte("\n")) {
			cls = append(cls, "trailing-newline")
			out = bytes.TrimSuffix(out, []byte("\n"))
		}
	}
	switch w.Cmp {
	case "any":
	case "bytes":
		want := []byte(w.Out)
		switch {
		case bytes.Equal(out, want):
		case cmd == "event-id" && string(out) == `"`+w.Out+`"`:
			cls = append(cls, "event-id-json-quoted")
		case jsonEq(out, want):
			cls = append(cls, "not-canonical")
		default:
			cls = append(cls, "wrong-output")
		}
	case "set":
		var got, want [][]any
		if json.Unmarshal(out, &got) != nil || json.Unmarshal([]byte(w.Out), &want) != nil {
			return append(cls, "wrong-output")
		}
		key := func(xs [][]any) []string {
			var s []string
			for _, x := range xs {
				b, _ := json.Marshal(x)
				s = append(s, string(b))
			}
			sort.Strings(s)
			return s
		}
		if !reflect.DeepEqual(key(got), key(want)) {
			cls = append(cls, "wrong-set")
		}
		if c, ok := canonicalOf(out); !ok || !bytes.Equal(c, out) {
			cls = append(cls, "not-canonical")
		}
	case "verdict":
		var got map[string]json.RawMessage
		if json.Unmarshal(out, &got) != nil {
			return append(cls, "not-json")
		}
		allowed := map[string]bool{}
		for k, v := range w.Fields {
			allowed[k] = true
			if !jsonEq(got[k], v) {
				cls = append(cls, fmt.Sprintf("%s=%s want %s", k, got[k], v))
			}
		}
		for k, vs := range w.Alts {
			allowed[k] = true
			var s string
			if json.Unmarshal(got[k], &s) != nil || !contains(vs, s) {
				cls = append(cls, fmt.Sprintf("%s=%s want one of %v", k, got[k], vs))
			}
		}
		for _, k := range w.Free {
			allowed[k] = true
			var s string
			if json.Unmarshal(got[k], &s) != nil || s == "" {
				cls = append(cls, k+"-missing")
			}
		}
		for k := range got {
			if !allowed[k] {
				cls = append(cls, "extra-key-"+k)
			}
		}
		order := keyOrder(out)
		verdictOrders[cmd+" "+order]++
		if c, ok := canonicalOf(out); !ok || !bytes.Equal(c, out) {
			if !contractOrder[order] {
				cls = append(cls, "not-canonical")
			}
		}
	}
	return cls
}

func stderrLinesOf(b []byte) int {
	return strings.Count(strings.TrimRight(string(b), "\n"), "\n") + 1
}

// verdictOrders counts the key orders of the verdict objects printed.
var verdictOrders = map[string]int{}

// contractOrder holds the key orders of the contract's examples (DESIGN.md), which are not
// canonical JSON's: a verdict in one of them is not reported, only counted.
var contractOrder = map[string]bool{
	"valid,reason": true, "allowed,rule,severity,reason": true, "decision,authorising_user": true,
	"decision,status,errcode,error": true,
}

// keyOrder lists the top-level keys of a JSON object in the order they appear.
func keyOrder(b []byte) string {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return "?"
	}
	var keys []string
	for d.More() {
		t, err := d.Token()
		if err != nil {
			break
		}
		keys = append(keys, fmt.Sprint(t))
		var skip json.RawMessage
		if d.Decode(&skip) != nil {
			break
		}
	}
	return strings.Join(keys, ",")
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func main() {
	n := flag.Int("n", 2000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings (CLIREF_DECISIONS=1)")
	verbose := flag.Bool("v", false, "print the first example of each group")
	bin := flag.String("bin", "", "the roomproto binary (default: built once into a temporary directory)")
	strictNL := flag.Bool("strict-newline", false, "report a trailing newline after every command's output, not only canonical's")
	out := flag.String("out", "", "directory for tally.tsv, coverage.txt, divergences.jsonl")
	accept := flag.String("accept", "", "comma-separated reference flags (amb) of findings reported in README.md: such cases are counted, not failed")
	flag.Parse()
	accepted := map[string]bool{}
	for _, a := range strings.Split(*accept, ",") {
		if a != "" {
			accepted[strings.TrimSpace(a)] = true
		}
	}

	tmp, err := os.MkdirTemp("", "cliref-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer os.RemoveAll(tmp)
	if *bin == "" {
		*bin = filepath.Join(tmp, "roomproto")
		b := exec.Command("go", "build", "-o", *bin, "github.com/roomproto/roomproto/cmd/roomproto")
		b.Stderr = os.Stderr
		if err := b.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "cliref: cannot build cmd/roomproto:", err)
			os.Exit(2)
		}
	}
	ref, err := pyref.Start(pyref.Beside("cliref.py"), pyref.Env(*decisions, "CLIREF_DECISIONS=1")...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer ref.Close()

	g := &gen{r: rand.New(rand.NewSource(*seed))}
	groups := pyref.Groups[*example]{}
	tally := map[string]int{}
	newline := map[string]int{}
	coverage := map[string]int{}
	compared, harness, diverged, acceptedN := 0, 0, 0, 0
	for i := 0; i < *n; i++ {
		c := g.draw()
		dir := filepath.Join(tmp, fmt.Sprint(i%4))
		_ = os.MkdirAll(dir, 0o755)
		got, args := run(*bin, dir, c)
		files := map[string]string{}
		for name, b := range c.Files {
			files[filepath.Join(dir, name)] = base64.StdEncoding.EncodeToString(b)
		}
		var w Want
		if err := ref.Ask(M{"args": args, "stdin": base64.StdEncoding.EncodeToString(c.Stdin), "files": files}, &w); err != nil || w.Error != "" {
			harness++
			fmt.Fprintf(os.Stderr, "harness: %v %s (%s)\n", err, w.Error, c.Label)
			continue
		}
		compared++
		cmd := c.Args[0]
		tally[cmd]++
		for _, tok := range strings.Fields(c.Label)[1:] {
			coverage[cmd+" "+tok]++
		}
		coverage[fmt.Sprintf("%s want exit %d either %v cmp %s", cmd, w.Exit, w.Either, w.Cmp)]++
		if w.Exit == 1 {
			coverage[cmd+" exit 1: "+w.Why]++
		}
		if w.Fields["decision"] != nil {
			coverage[fmt.Sprintf("%s decision %s %s authoriser %v", cmd, w.Fields["decision"], w.Fields["errcode"], w.Alts["authorising_user"] != nil)]++
		}
		if w.Fields["valid"] != nil {
			coverage[fmt.Sprintf("%s valid %s", cmd, w.Fields["valid"])]++
		}
		if w.Fields["allowed"] != nil {
			coverage[fmt.Sprintf("%s allowed %s", cmd, w.Fields["allowed"])]++
		}
		if w.Fields["rule"] != nil {
			coverage[fmt.Sprintf("%s rule %s", cmd, w.Fields["rule"])]++
		}
		cls := compare(cmd, w, got, *decisions)
		if len(cls) > 0 && slices.ContainsFunc(w.Amb, func(a string) bool { return accepted[a] }) {
			acceptedN++
			cls = nil
		}
		if cmd != "canonical" && !*strictNL {
			// The contract says "no trailing newline" for canonical only: a final newline
			// after the other commands' output is counted, not reported.
			k := 0
			for _, c := range cls {
				if c == "trailing-newline" {
					newline[cmd]++
					continue
				}
				cls[k] = c
				k++
			}
			cls = cls[:k]
		}
		if len(cls) == 0 {
			continue
		}
		diverged++
		sort.Strings(cls)
		tag := ""
		if len(w.Amb) > 0 {
			tag = " [amb " + strings.Join(w.Amb, ",") + "]"
		}
		key := cmd + ": " + strings.Join(cls, "; ") + tag
		fs := M{}
		size := len(c.Stdin)
		for k, b := range c.Files {
			fs[k] = string(b)
			size += len(b)
		}
		for _, a := range c.Args {
			size += len(a)
		}
		ex := &example{Label: c.Label, Args: c.Args, Stdin: string(c.Stdin), Files: fs, Want: w,
			GotExit: got.Exit, GotOut: string(got.Stdout), GotErr: string(got.Stderr)}
		groups.Add(key, "", ex, size) // a command, not a room version
	}
	list := groups.Sorted()
	for _, gr := range list {
		fmt.Printf("%5d  %s\n", gr.Count, gr.Key)
		if *verbose {
			b, _ := json.MarshalIndent(gr.First, "       ", "  ")
			fmt.Printf("       %s\n", clip(string(b), 3000))
		}
	}
	var tl []string
	for k, v := range tally {
		tl = append(tl, fmt.Sprintf("%s\t%d", k, v))
	}
	sort.Strings(tl)
	var cv []string
	for _, k := range difftool.SortedKeys(coverage) {
		cv = append(cv, fmt.Sprintf("%6d  %s", coverage[k], k))
	}
	if err := pyref.WriteRun(*out, strings.Join(tl, "\n")+"\n", strings.Join(cv, "\n")+"\n", list); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	for _, k := range difftool.SortedKeys(verdictOrders) {
		fmt.Printf("verdict key order: %-45s %d\n", k, verdictOrders[k])
	}
	if len(newline) > 0 {
		fmt.Printf("outputs ending in a newline (not reported): %v\n", newline)
	}
	if acceptedN > 0 {
		fmt.Printf("divergences of accepted findings (-accept %s): %d\n", *accept, acceptedN)
	}
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", compared, harness, diverged, len(list))
	if harness > 0 || diverged > 0 {
		os.Exit(1)
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

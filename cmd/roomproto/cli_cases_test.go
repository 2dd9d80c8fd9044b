package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// cliCase is one case of testdata/cli/cases.json (written by testdata/cli/gen_cases.py, whose
// docstring describes the format). Expected outputs there are computed independently of this
// module: the spec's appendix vectors, the shared benchmark corpus and a Python oracle.
type cliCase struct {
	Name        string            `json:"name"`
	Source      string            `json:"source"`
	Args        []string          `json:"args"`
	Files       map[string]string `json:"files"`
	Stdin       string            `json:"stdin"`
	StdinBase64 string            `json:"stdin_base64"`
	Expect      cliExpect         `json:"expect"`
}

type cliExpect struct {
	Exit           int            `json:"exit"`
	Stdout         *string        `json:"stdout"`
	JSONSet        [][]string     `json:"json_set"`
	JSONFields     map[string]any `json:"json_fields"`
	Absent         []string       `json:"absent"`
	Nonempty       []string       `json:"nonempty"`
	Lines          *int           `json:"lines"`
	StdoutContains []string       `json:"stdout_contains"`
	StderrContains string         `json:"stderr_contains"`
}

func loadCLICases(tb testing.TB) []cliCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cli", "cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var cases []cliCase
	if err := dec.Decode(&cases); err != nil {
		tb.Fatalf("testdata/cli/cases.json: %v", err)
	}
	if len(cases) == 0 {
		tb.Fatal("testdata/cli/cases.json has no cases")
	}
	return cases
}

// materialise writes the case's files to dir and returns its command line and stdin.
func (c *cliCase) materialise(tb testing.TB, dir string) ([]string, []byte) {
	tb.Helper()
	for name, content := range c.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		if strings.HasPrefix(a, "@") {
			a = filepath.Join(dir, a[1:]) // absent from Files: a path that does not exist
		}
		args[i] = a
	}
	stdin := []byte(c.Stdin)
	if c.StdinBase64 != "" {
		var err error
		if stdin, err = base64.StdEncoding.DecodeString(c.StdinBase64); err != nil {
			tb.Fatal(err)
		}
	}
	return args, stdin
}

// runCLI runs the tool in-process.
func runCLI(args []string, stdin []byte) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// isOneLine reports whether s is exactly one non-empty line ending in a newline.
func isOneLine(s string) bool {
	return len(s) > 1 && strings.Count(s, "\n") == 1 && strings.HasSuffix(s, "\n") && strings.TrimSpace(s) != ""
}

// TestCLICases runs every case of testdata/cli/cases.json through run, the tool's entry point:
// every command of DESIGN.md on its happy path with the exact expected output, and the
// unusable inputs (malformed JSON, unknown room version, missing flag, unreadable file) that
// must exit 1 with one line on standard error.
func TestCLICases(t *testing.T) {
	for _, c := range loadCLICases(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			args, stdin := c.materialise(t, t.TempDir())
			code, stdout, stderr := runCLI(args, stdin)
			checkCLIResult(t, &c, code, stdout, stderr)
		})
	}
}

func checkCLIResult(t *testing.T, c *cliCase, code int, stdout, stderr string) {
	t.Helper()
	e := &c.Expect
	if code != e.Exit {
		t.Fatalf("%s\nexit %d, want %d\nstdout %.400q\nstderr %.400q", c.Source, code, e.Exit, stdout, stderr)
	}
	switch e.Exit {
	case 0:
		if stderr != "" {
			t.Errorf("exit 0 with stderr %q", stderr)
		}
	default:
		if !isOneLine(stderr) {
			t.Errorf("exit %d: stderr must be exactly one line, got %q", e.Exit, stderr)
		}
		if e.StderrContains != "" && !strings.Contains(stderr, e.StderrContains) {
			t.Errorf("stderr %q does not mention %q", stderr, e.StderrContains)
		}
		if e.Exit == 1 && stdout != "" {
			t.Errorf("exit 1 with output on stdout: %.200q", stdout)
		}
	}
	if e.Stdout != nil && stdout != *e.Stdout {
		t.Errorf("%s\nstdout %.600q\nwant   %.600q", c.Source, stdout, *e.Stdout)
	}
	if e.Lines != nil {
		if n := strings.Count(stdout, "\n"); n != *e.Lines || !strings.HasSuffix(stdout, "\n") {
			t.Errorf("%d lines on stdout, want %d:\n%s", n, *e.Lines, stdout)
		}
	}
	for _, s := range e.StdoutContains {
		if !strings.Contains(stdout, s) {
			t.Errorf("stdout lacks %q:\n%.2000s", s, stdout)
		}
	}
	if e.JSONSet != nil {
		var got [][]string
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("stdout is not a JSON array of string arrays: %v: %q", err, stdout)
		}
		if !sameSet(got, e.JSONSet) {
			t.Errorf("stdout %s, want %v in any order", stdout, e.JSONSet)
		}
	}
	if e.JSONFields != nil || e.Nonempty != nil || e.Absent != nil {
		lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
		var obj map[string]any
		dec := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("last line of stdout is not a JSON object: %v: %q", err, stdout)
		}
		for path, want := range e.JSONFields {
			got, ok := lookupPath(obj, path)
			if !ok || !jsonEqual(got, want) {
				t.Errorf("%s = %v (present %v), want %v; stdout %.600s", path, got, ok, want, stdout)
			}
		}
		for _, f := range e.Nonempty {
			if s, ok := obj[f].(string); !ok || s == "" {
				t.Errorf("%s must be a non-empty string, got %v", f, obj[f])
			}
		}
		for _, f := range e.Absent {
			if v, ok := obj[f]; ok {
				t.Errorf("%s must be absent, got %v", f, v)
			}
		}
	}
}

// lookupPath finds "a.b.c" in obj, trying the longest member name first so that names holding
// dots ("2.2" in rejected_by_rule) are found.
func lookupPath(obj map[string]any, path string) (any, bool) {
	if v, ok := obj[path]; ok {
		return v, true
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if inner, ok := obj[path[:i]].(map[string]any); ok {
			if v, ok := lookupPath(inner, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// jsonEqual compares a decoded (UseNumber) value with an expected one from cases.json.
func jsonEqual(got, want any) bool {
	if n, ok := got.(json.Number); ok {
		w, ok := want.(float64)
		f, err := n.Float64()
		return ok && err == nil && f == w && !strings.ContainsAny(n.String(), ".eE")
	}
	return reflect.DeepEqual(got, want)
}

func sameSet(a, b [][]string) bool {
	key := func(x [][]string) []string {
		out := make([]string, len(x))
		for i, p := range x {
			out[i] = strings.Join(p, "\x00")
		}
		sort.Strings(out)
		return out
	}
	return reflect.DeepEqual(key(a), key(b))
}

// TestCLICasesCoverEveryCommand keeps cases.json in step with the command table: every command
// has a happy path (exit 0) and an unusable input (exit 1), and every flag-taking command a
// case for each missing required flag.
func TestCLICasesCoverEveryCommand(t *testing.T) {
	ok, bad := map[string]bool{}, map[string]bool{}
	for _, c := range loadCLICases(t) {
		if len(c.Args) == 0 {
			continue
		}
		switch c.Expect.Exit {
		case 0:
			ok[c.Args[0]] = true
		case 1:
			bad[c.Args[0]] = true
		}
	}
	for name := range commands() {
		if !ok[name] {
			t.Errorf("command %s has no happy-path case in testdata/cli/cases.json", name)
		}
		if !bad[name] {
			t.Errorf("command %s has no unusable-input case in testdata/cli/cases.json", name)
		}
	}
}

package pyref

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestAsk(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	script := filepath.Join(t.TempDir(), "echo.py")
	os.WriteFile(script, []byte(`import json, os, sys
for line in sys.stdin:
    req = json.loads(line)
    if req["n"] < 0:
        print("not json", flush=True)
        continue
    print(json.dumps({"twice": 2 * req["n"], "flag": os.environ.get("PYREF_FLAG", "")}), flush=True)
`), 0o644)
	if Env(false, "PYREF_FLAG=on") != nil {
		t.Fatal("Env(false) gave an entry")
	}
	p := MustStart(script, Env(true, "PYREF_FLAG=on")...)
	type req struct {
		N int `json:"n"`
	}
	var resp struct {
		Twice int
		Flag  string
	}
	for _, n := range []int{1, 21} {
		if err := p.Ask(req{n}, &resp); err != nil || resp.Twice != 2*n || resp.Flag != "on" {
			t.Fatalf("Ask(%d) = %+v, %v", n, resp, err)
		}
	}
	if err := p.Ask(req{-1}, &resp); !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("bad answer: %v, want ErrBadAnswer", err)
	}
	if err := p.Ask(req{2}, &resp); err != nil || resp.Twice != 4 {
		t.Fatalf("after a bad answer: %+v, %v", resp, err)
	}
	note := "kept"
	if p.MustAskNote(req{3}, &resp, &note); resp.Twice != 6 || note != "kept" {
		t.Fatalf("MustAskNote(3) = %+v, note %q", resp, note)
	}
	if p.MustAskNote(req{-1}, &resp, &note); !strings.HasPrefix(note, ErrBadAnswer.Error()) {
		t.Fatalf("MustAskNote on a bad answer: note %q", note)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := Beside("x.py"); filepath.Base(got) != "x.py" || filepath.Base(filepath.Dir(got)) != "pyref" {
		t.Fatalf("Beside = %q", got)
	}
}

func TestWriteRun(t *testing.T) {
	if err := WriteRun("", "t", "c", []int{1}); err != nil {
		t.Fatalf("empty dir: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	type g struct{ Key string }
	if err := WriteRun(dir, "tally\n", "cov\n", []g{{"a"}, {"b"}}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"tally.tsv": "tally\n", "coverage.txt": "cov\n",
		"divergences.jsonl": "{\"Key\":\"a\"}\n{\"Key\":\"b\"}\n"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
}

package pyref

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// TestFlags: the defaults, the help texts, the parsed values and the script's environment.
func TestFlags(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f Flags
	f.Define(fs, 300, "PYREF_FLAG", false, "")
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if f.N != 300 || f.Seed != 1 || f.Decisions || f.Verbose || !slices.Equal(f.VersionList(), Versions) {
		t.Errorf("defaults: %+v, versions %v", f, f.VersionList())
	}
	if fs.Lookup("out") != nil {
		t.Error("-out defined without DefineOut")
	}
	if u := fs.Lookup("decisions").Usage; u != "the reference adopts docs/decisions.md readings (PYREF_FLAG=1)" {
		t.Errorf("-decisions usage %q", u)
	}
	if u := fs.Lookup("v").Usage; u != VerboseHelp {
		t.Errorf("-v usage %q", u)
	}
	if f.Rand().Int63() != f.Rand().Int63() {
		t.Error("Rand is not seeded with -seed")
	}

	fs = flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f = Flags{}
	f.Define(fs, 300, "PYREF_FLAG", true, "more")
	f.DefineOut(fs)
	if err := fs.Parse([]string{"-n", "7", "-seed", "3", "-versions", "1,12", "-v", "-out", "d"}); err != nil {
		t.Fatal(err)
	}
	if f.N != 7 || f.Seed != 3 || !f.Decisions || !f.Verbose || f.Out != "d" || !slices.Equal(f.VersionList(), []string{"1", "12"}) {
		t.Errorf("parsed: %+v, versions %v", f, f.VersionList())
	}
	if fs.Lookup("v").Usage != "more" || fs.Lookup("decisions").DefValue != "true" {
		t.Errorf("-v usage %q, -decisions default %q", fs.Lookup("v").Usage, fs.Lookup("decisions").DefValue)
	}

	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	script := filepath.Join(t.TempDir(), "env.py")
	if err := os.WriteFile(script, []byte(`import json, os, sys
for line in sys.stdin:
    print(json.dumps({"flag": os.environ.get("PYREF_FLAG", "")}), flush=True)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		t.Setenv("PYREF_FLAG", "")
		f.Decisions = on
		p := f.Start(script)
		var resp struct{ Flag string }
		if err := p.Ask(1, &resp); err != nil || (resp.Flag == "1") != on {
			t.Errorf("-decisions %v: the script saw %q (%v)", on, resp.Flag, err)
		}
		p.Close()
	}
}

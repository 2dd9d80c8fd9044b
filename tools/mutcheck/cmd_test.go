package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCommandPackage checks that a command's package (a directory two levels down, package
// main, like cmd/roomproto) can be mutated, and that a test which builds the command with its
// own `go build` (as tools/cliref and tools/internal/clitest do) builds the mutant: the overlay
// reaches it through GOFLAGS.
func TestCommandPackage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a small module three times")
	}
	if _, err := exec.LookPath("nice"); err != nil {
		t.Skip("no nice")
	}
	root := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.22\n",
		"cmd/tool/main.go": `package main

import "os"

func main() { os.Exit(code()) }

func code() int {
	if len(os.Args) > 5 {
		return 2
	}
	return 0
}
`,
		"cmd/tool/main_test.go": `package main

import "testing"

func TestCode(t *testing.T) {
	if code() != 0 {
		t.Fatal("code")
	}
}
`,
		// A reference that only runs the built command, as tools/cliref does.
		"ref/ref_test.go": `package ref

import (
	"os/exec"
	"path/filepath"
	"testing"
)

func TestBuiltCommand(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tool")
	if out, err := exec.Command("go", "build", "-o", bin, "example.com/m/cmd/tool").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := exec.Command(bin).Run(); err != nil {
		t.Fatal(err)
	}
}
`,
	}
	for name, text := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := enumeratePkg(root, "cmd/tool")
	if err != nil {
		t.Fatal(err)
	}
	var m Mutant
	for _, x := range ms {
		if x.Op == "negate-if" {
			m = x
		}
	}
	if m.ID != "cmd/tool/main.go:8:5:negate-if#1" || m.Pkg != "cmd/tool" || m.Func != "code" {
		t.Fatalf("mutant %+v", m)
	}
	if b := parseBudget("cmd/tool=3,ref=1"); b["cmd/tool"] != 3 || b["ref"] != 1 {
		t.Errorf("budget %v", b)
	}
	t.Setenv("GOFLAGS", "")
	tmp := t.TempDir()
	for _, c := range []struct{ target, want string }{
		{"", "killed"},                // cmd/tool's own test
		{"./ref", "killed"},           // the command built by the test itself
		{"./ref -run ^$", "survived"}, // flags after the package are kept
	} {
		r := run(root, tmp, m, c.target, "", 60*time.Second)
		if r.Status != c.want {
			t.Errorf("target %q: %s (%s), want %s", c.target, r.Status, r.Detail, c.want)
		}
		if c.target == "" && r.Target != "./cmd/tool" {
			t.Errorf("target %q", r.Target)
		}
	}
	cmd := testCommand(t.Context(), root, "/x/overlay.json", "./ref -run X", time.Second)
	if got := strings.Join(cmd.Args, " "); !strings.HasSuffix(got, "-overlay /x/overlay.json -run X ./ref") {
		t.Errorf("args %s", got)
	}
	if env := cmd.Env[len(cmd.Env)-1]; env != "GOFLAGS=-p=1 -overlay=/x/overlay.json" {
		t.Errorf("env %s", env)
	}
}

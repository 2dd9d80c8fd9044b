package claimsc

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func exists(p string) bool { _, err := os.Stat(filepath.Join(claimkit.Root(), p)); return err == nil }

func grepDir(t testing.TB, dir string, re *regexp.Regexp) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(claimkit.Root(), dir, "*.go"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if re.Match(b) {
			return true
		}
	}
	return false
}

// sharedFlags matches a command's use of the Flags of a tools/internal package (mutrun.Flags:
// the flags formatref and pduref share, defined with Define on flag.CommandLine; pyref.Flags:
// those of most spec-only references, which mutrun.Flags embeds).
var sharedFlags = regexp.MustCompile(`\b(\w+)\.Flags\b`)

// grepTool reports whether re matches the Go files of the command in dir or, when they define
// their flags with a tools/internal package's Flags, the non-test Go files of that package (and
// of the packages whose Flags it builds on).
func grepTool(t testing.TB, dir string, re *regexp.Regexp) bool {
	t.Helper()
	if grepDir(t, dir, re) {
		return true
	}
	files, _ := filepath.Glob(filepath.Join(claimkit.Root(), dir, "*.go"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if !strings.HasSuffix(f, "_test.go") && bytes.Contains(b, []byte("flag.CommandLine")) {
			if grepFlags(b, re, map[string]bool{}) {
				return true
			}
		}
	}
	return false
}

// grepFlags reports whether re matches the non-test Go files of a tools/internal package whose
// Flags the source b names, or of one whose Flags those files name in turn.
func grepFlags(b []byte, re *regexp.Regexp, seen map[string]bool) bool {
	for _, m := range sharedFlags.FindAllSubmatch(b, -1) {
		name := string(m[1])
		if seen[name] {
			continue
		}
		seen[name] = true
		pkg, _ := filepath.Glob(filepath.Join(claimkit.Root(), "tools", "internal", name, "*.go"))
		for _, g := range pkg {
			if c, _ := os.ReadFile(g); !strings.HasSuffix(g, "_test.go") && (re.Match(c) || grepFlags(c, re, seen)) {
				return true
			}
		}
	}
	return false
}

// README.md: the differential and reference tools, how to run them and what they are.
func TestReadmeTools(t *testing.T) {
	// "It is a separate module" (gmsldiff; mautrixdiff and acldiff "like tools/gmsldiff");
	// synapsediff "is part of roomproto's module (it needs no Go dependency)".
	for _, m := range []string{"gmsldiff", "mautrixdiff", "acldiff"} {
		if !exists("tools/" + m + "/go.mod") {
			t.Errorf("tools/%s is not a separate module", m)
		}
	}
	if exists("tools/synapsediff/go.mod") {
		t.Errorf("tools/synapsediff has its own go.mod")
	}
	// "its README lists the classes"
	for _, d := range []string{"gmsldiff", "mautrixdiff", "acldiff", "synapsediff"} {
		b, err := os.ReadFile(filepath.Join(claimkit.Root(), "tools", d, "README.md"))
		if err != nil || !strings.Contains(strings.ToLower(string(b)), "class") {
			t.Errorf("tools/%s/README.md lists no classes (%v)", d, err)
		}
	}
	// `go run ./tools/NAME -n N -decisions` for each spec-only reference.
	nFlag := regexp.MustCompile(`Int\("n"|IntVar\([^,]+, "n"`)
	decFlag := regexp.MustCompile(`"decisions"`)
	for _, n := range []string{"authref", "memberref", "verifyref", "handshakeref", "policyref", "redactref", "chainref",
		"formatref", "transitionref", "cliref", "replayref", "strippedref", "canonref", "powerref", "keysref", "aclref",
		"condref", "signref", "pduref"} {
		if !exists("tools/" + n + "/main.go") {
			t.Errorf("tools/%s has no main.go (go run ./tools/%s)", n, n)
			continue
		}
		if !grepTool(t, "tools/"+n, nFlag) || !grepTool(t, "tools/"+n, decFlag) {
			t.Errorf("tools/%s does not define -n and -decisions", n)
		}
	}
	// "a reference written in Python from the spec text alone (authref.py ...)", memberref.py
	// "standard library only", verifyref.py "with the cryptography package for ed25519".
	for _, py := range []string{"authref/authref.py", "memberref/memberref.py", "verifyref/verifyref.py"} {
		if !exists("tools/" + py) {
			t.Errorf("tools/%s missing", py)
		}
	}
	b, _ := os.ReadFile(filepath.Join(claimkit.Root(), "tools/memberref/memberref.py"))
	stdlib := map[string]bool{"json": true, "os": true, "re": true, "sys": true, "decimal": true, "itertools": true, "collections": true,
		"functools": true, "typing": true, "dataclasses": true, "math": true, "hashlib": true, "base64": true, "unicodedata": true, "argparse": true}
	for _, m := range regexp.MustCompile(`(?m)^(?:import|from) ([a-zA-Z_]+)`).FindAllStringSubmatch(string(b), -1) {
		if !stdlib[m[1]] {
			t.Errorf("memberref.py imports %s (README: standard library only)", m[1])
		}
	}
	vb, _ := os.ReadFile(filepath.Join(claimkit.Root(), "tools/verifyref/verifyref.py"))
	if !strings.Contains(string(vb), "cryptography") {
		t.Errorf("verifyref.py does not use the cryptography package")
	}
	// "go run ./tools/synapsediff"; "cd tools/acldiff && go run . -j 1": the shared -j flag
	if !exists("tools/synapsediff/main.go") || !exists("tools/acldiff/main.go") || !exists("tools/gmsldiff/main.go") || !exists("tools/mautrixdiff/main.go") {
		t.Errorf("a differential tool has no main.go")
	}
	// "Its tests skip when the Python modules are missing."
	if !grepDir(t, "tools/synapsediff", regexp.MustCompile(`t\.Skip`)) {
		t.Errorf("tools/synapsediff tests never skip")
	}
	// claimsa and claimsb
	for _, d := range []string{"claimsa", "claimsb"} {
		if !exists("tools/" + d) {
			t.Errorf("tools/%s missing", d)
		}
	}
}

// README "Quick start": CI (.ci/run) "runs go vet ./..., go test -race ./..., the CLI contract
// check, the tests of the two differential tools below (when the Go module proxy can be reached)
// and every fuzz target for a short time; scripts/fuzz runs the fuzz targets for longer (10
// minutes each by default)"; SECURITY.md "scripts/fuzz runs every target (10 minutes each by
// default); .ci/run runs each for 3 s"; "scripts/instructions counts the instructions of one
// benchmark iteration (with valgrind)".
func TestReadmeCIAndScripts(t *testing.T) {
	ci := readDoc(t, ".ci/run")
	for _, want := range []string{"go vet ./...", "go test -race", "../shared/contract/check", "cd tools/gmsldiff", "cd tools/mautrixdiff", `FUZZTIME="${FUZZTIME:-3s}" scripts/fuzz`} {
		if !strings.Contains(ci, want) {
			t.Errorf(".ci/run lacks %q", want)
		}
	}
	if sec := readDoc(t, "SECURITY.md"); !strings.Contains(sec, "`.ci/run` runs each for 3 s") {
		t.Errorf("SECURITY.md does not say that .ci/run fuzzes each target for 3 s")
	}
	fz := readDoc(t, "scripts/fuzz")
	if !strings.Contains(fz, `fuzztime="${FUZZTIME:-10m}"`) {
		t.Errorf("scripts/fuzz: the default is not 10 minutes")
	}
	ins := readDoc(t, "scripts/instructions")
	if !strings.Contains(ins, "valgrind") {
		t.Errorf("scripts/instructions does not use valgrind")
	}
}

package claimsd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// README: "The fixture table the authrules tests use (testdata/authrules, 746 cases: every
// numbered rule of every room version's text, each with an allowed and a rejected case, save
// the power levels rule's own number from v10, where only its sub-rules decide)".
func TestAuthFixtureTable(t *testing.T) {
	cases, err := authfixture.Load(filepath.Join(claimkit.Root(), "testdata", "authrules"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 746 {
		t.Errorf("%d cases, README says 746", len(cases))
	}
	// "each with an allowed and a rejected case" is not checked: the table gives the deciding
	// rule of a case and the rules it covers, and an "allow" rule (1.5, 10, ...) can decide no
	// rejection, so the pairing the sentence means cannot be read from the table alone (see
	// README.md, claims not checkable).
	versions := map[string]bool{}
	for _, c := range cases {
		versions[c.RoomVersion] = true
	}
	for _, id := range claimkit.VersionIDs() {
		if id == "2" {
			continue // v2's text is v1's auth rules (rooms/v2.md): "every room version's text" holds through v1
		}
		if !versions[id] {
			t.Errorf("no case of room version %s", id)
		}
	}
}

// README: "Every fixture table under testdata/ is also run through its spec-only reference
// (TestFixturesAgree in tools/authref, redactref, canonref, signref, keysref, pduref, memberref,
// transitionref, condref, aclref, policyref, cliref, and handshakeref for the leave decisions)".
func TestFixturesAgreeNamed(t *testing.T) {
	for _, tool := range []string{"authref", "redactref", "canonref", "signref", "keysref", "pduref", "memberref", "transitionref", "condref", "aclref", "policyref", "cliref", "handshakeref"} {
		t.Run(tool, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(claimkit.Root(), "tools", tool, "fixtures_test.go"))
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`func Test\w*FixturesAgree\(`).Match(b) { // finding D7: README names the others now
				t.Errorf("tools/%s has no TestFixturesAgree (%v)", tool, regexp.MustCompile(`func (Test\w*Agree)\(`).FindAllStringSubmatch(string(b), -1))
			}
		})
	}
	// every fixture table: each JSON file under testdata/ is read by some tools/*ref test
	// (testdata/authrules as a whole through internal/authfixture by tools/authref).
	refs := ""
	matches, _ := filepath.Glob(filepath.Join(claimkit.Root(), "tools", "*ref", "*.go"))
	for _, m := range matches {
		b, _ := os.ReadFile(m)
		refs += string(b)
	}
	files, _ := filepath.Glob(filepath.Join(claimkit.Root(), "testdata", "*", "*.json*"))
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(claimkit.Root(), "testdata"), f)
		if strings.HasPrefix(rel, "authrules/") || strings.HasPrefix(rel, "bulk/") || strings.HasPrefix(rel, "roomversion/") {
			// authrules: through internal/authfixture; bulk: external vectors and libsodium's
			// verdicts; roomversion: the spec's feature matrix itself (README, finding D8).
			continue
		}
		t.Run(rel, func(t *testing.T) {
			if !strings.Contains(refs, filepath.Base(f)) {
				t.Errorf("testdata/%s is read by no tools/*ref", rel)
			}
		})
	}
}

// README: "CI (.ci/run) runs go vet ./..., a gofmt check, go test -race ./..., the CLI contract
// check, the tests of the three differential tools in nested modules (tools/gmsldiff,
// tools/mautrixdiff, tools/acldiff, when the Go module proxy can be reached), tools/synapsediff's
// tests and a short run of it, and every fuzz target for a short time".
func TestCIRuns(t *testing.T) {
	ci := claimkit.ReadRoot(t, ".ci/run")
	for _, want := range []string{
		"go vet ./...", "gofmt -l", "go test -race -count=1 ./...", "../shared/contract/check",
		"cd tools/gmsldiff && go vet . && go test", "cd tools/mautrixdiff && GOEXPERIMENT=jsonv2 go vet ./... && GOEXPERIMENT=jsonv2 go test",
		"cd tools/acldiff && go vet . && go test", "go test -race -count=1 ./tools/synapsediff", "go run ./tools/synapsediff -n",
		"scripts/fuzz",
	} {
		if !strings.Contains(ci, want) {
			t.Errorf(".ci/run lacks %q", want)
		}
	}
	for _, mod := range []string{"gmsldiff", "mautrixdiff", "acldiff"} {
		if _, err := os.Stat(filepath.Join(claimkit.Root(), "tools", mod, "go.mod")); err != nil {
			t.Errorf("tools/%s is not a nested module: %v", mod, err)
		}
	}
	if _, err := os.Stat(filepath.Join(claimkit.Root(), "tools", "synapsediff", "go.mod")); err == nil {
		t.Errorf("tools/synapsediff is a nested module (README: not among them)")
	}
}

// README: "tools/mutcheck mutates the library's code ... every gap it found has a test in the
// package's mutation_test.go"; "tools/misuse probes every exported function ...
// (go test ./tools/misuse)"; "tools/claimsc does the same for this README, the CLI's help and
// contract, SECURITY.md and BENCHMARKS.md". decisions: "internal/ holds, besides the shared
// helpers (jsonscan, roomgen, cpubench, alias ..., authfixture ...)".
func TestNamedToolsAndPackagesExist(t *testing.T) {
	for _, p := range []string{
		"tools/mutcheck/main.go", "tools/misuse", "tools/claimsc", "internal/alias/alias.go", "internal/authfixture/authfixture.go",
		"internal/jsonscan", "internal/roomgen", "internal/cpubench", "internal/limits_test",
	} {
		if _, err := os.Stat(filepath.Join(claimkit.Root(), p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, pkg := range []string{"authrules", "canonicaljson", "membership", "pdu", "policyserver", "redaction", "roomversion", "signing"} {
		if _, err := os.Stat(filepath.Join(claimkit.Root(), pkg, "mutation_test.go")); err != nil {
			t.Errorf("%s has no mutation_test.go", pkg)
		}
	}
	// "authfixture for the authorization fixtures that the authrules tests and tools/authref both run"
	for _, dir := range []string{"authrules", "tools/authref"} {
		found := false
		files, _ := filepath.Glob(filepath.Join(claimkit.Root(), dir, "*_test.go"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if strings.Contains(string(b), "internal/authfixture\"") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s does not use internal/authfixture", dir)
		}
	}
	// "alias for the Append functions of canonicaljson and redaction"
	for _, f := range []string{"canonicaljson/canonical.go", "canonicaljson/index.go", "redaction/redaction.go"} {
		if !strings.Contains(claimkit.ReadRoot(t, f), "internal/alias\"") {
			t.Errorf("%s does not import internal/alias", f)
		}
	}
}

// docs/decisions.md canonicaljson (escape offsets): "Pinned by the "escape offset" cases of
// testdata/canonicaljson/cases.json (TestCases) and by tools/canonref (its class B)".
func TestEscapeOffsetCasesPinned(t *testing.T) {
	cases := claimkit.ReadRoot(t, "testdata/canonicaljson/cases.json")
	if n := strings.Count(strings.ToLower(cases), "escape offset"); n == 0 {
		t.Errorf("no \"escape offset\" case in testdata/canonicaljson/cases.json")
	}
	found := false
	files, _ := filepath.Glob(filepath.Join(claimkit.Root(), "canonicaljson", "*_test.go"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if strings.Contains(string(b), "func TestCases(") {
			found = true
		}
	}
	if !found {
		t.Errorf("canonicaljson has no TestCases")
	}
}

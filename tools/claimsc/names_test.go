package claimsc

import (
	"bufio"
	"compress/gzip"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// testFuncs maps every Test/Benchmark/Fuzz/Example function of the repository's _test.go files
// (tools/claimsc excluded: it names them in strings) to the directories that declare it.
func testFuncs(t testing.TB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	re := regexp.MustCompile(`^func ((?:Test|Benchmark|Fuzz|Example)[A-Za-z0-9_]*)\(`)
	filepath.WalkDir(claimkit.Root(), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(claimkit.Root(), p)
		if d.IsDir() && (rel == "tools/claimsc" || strings.HasPrefix(d.Name(), ".")) && rel != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				out[m[1]] = append(out[m[1]], filepath.Dir(rel))
			}
		}
		return nil
	})
	return out
}

func readDoc(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(claimkit.Root(), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// SECURITY.md, BENCHMARKS.md, README.md, testdata/bulk/README.md and docs/decisions.md name
// tests, benchmarks and fuzz targets as evidence ("Tested in TestDuplicateKeysOneReading",
// "FuzzCheckerAgrees", "BenchmarkDecideJoinScale", ...): each named one must exist.
func TestDocsNamedTestsExist(t *testing.T) {
	funcs := testFuncs(t)
	re := regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz)[A-Z][A-Za-z0-9_]*`)
	known := map[string]string{} // finding C1 (TestEscapeErrorOffsets) fixed in the text
	for _, doc := range []string{"README.md", "SECURITY.md", "BENCHMARKS.md", "testdata/bulk/README.md", "docs/decisions.md"} {
		seen := map[string]bool{}
		for _, n := range re.FindAllString(readDoc(t, doc), -1) {
			if seen[n] {
				continue
			}
			seen[n] = true
			t.Run(doc+"/"+n, func(t *testing.T) {
				if id, ok := known[n]; ok {
					knownFinding(t, id)
				}
				if len(funcs[n]) == 0 {
					t.Errorf("%s names %s, which no _test.go declares", doc, n)
				}
			})
		}
	}
}

// Where the texts say a test lives.
func TestDocsNamedTestsLocation(t *testing.T) {
	funcs := testFuncs(t)
	for _, c := range []struct{ claim, name, dir string }{
		{"SECURITY.md: (internal/limits_test: TestBytesPathMatchesParsedPath, FuzzOneReading)", "TestBytesPathMatchesParsedPath", "internal/limits_test"},
		{"SECURITY.md: (internal/limits_test: TestBytesPathMatchesParsedPath, FuzzOneReading)", "FuzzOneReading", "internal/limits_test"},
		{"SECURITY.md: pdu FuzzParse", "FuzzParse", "pdu"},
		{"SECURITY.md: authrules FuzzCheck", "FuzzCheck", "authrules"},
		{"SECURITY.md: policyserver FuzzAddSignature", "FuzzAddSignature", "policyserver"},
		{"SECURITY.md: the CLI's FuzzCLIInput", "FuzzCLIInput", "cmd/roomproto"},
		{"SECURITY.md: CLI input ... TestReadAtMost", "TestReadAtMost", "cmd/roomproto"},
		{"SECURITY.md: TestHugeStrictInputRefusedUnread (limits table, in internal/limits_test)", "TestHugeStrictInputRefusedUnread", "internal/limits_test"},
		{"testdata/bulk/README.md: Fixtures of signing/batch_test.go ... TestFastVerifyEdgeVectors", "TestFastVerifyEdgeVectors", "signing"},
		{"SECURITY.md: canonicaljson ... FuzzCheckerAgrees", "FuzzCheckerAgrees", "canonicaljson"},
		{"SECURITY.md: FuzzScanMatchesCanonicaljson compares the scanner (internal/jsonscan)", "FuzzScanMatchesCanonicaljson", "internal/jsonscan"},
		{"BENCHMARKS.md: BenchmarkVerifyOverhead (thread CPU) in signing", "BenchmarkVerifyOverhead", "signing"},
		{"README.md: go test -bench Speedup ./canonicaljson", "BenchmarkSpeedupVsReference", "canonicaljson"},
		{"README.md: go test -bench Speedup ./redaction", "BenchmarkSpeedupVsNaive", "redaction"},
	} {
		found := false
		for _, d := range funcs[c.name] {
			found = found || d == c.dir
		}
		if !found {
			t.Errorf("%s: %s is declared in %v, not %s", c.claim, c.name, funcs[c.name], c.dir)
		}
	}
}

// SECURITY.md "Resource exhaustion": "No input makes any package panic (every package has fuzz
// targets; ...)"; DESIGN.md: "a Fuzz... target for every function that takes untrusted bytes".
func TestSecurityEveryPackageHasFuzzTargets(t *testing.T) {
	funcs := testFuncs(t)
	for _, pkg := range []string{"canonicaljson", "roomversion", "pdu", "redaction", "signing", "authrules", "membership", "policyserver", "serveracl", "cmd/roomproto"} {
		t.Run(pkg, func(t *testing.T) {
			for n, dirs := range funcs {
				for _, d := range dirs {
					if d == pkg && strings.HasPrefix(n, "Fuzz") {
						return
					}
				}
			}
			t.Errorf("package %s has no fuzz target", pkg)
		})
	}
}

// README "## Packages": "Imports point one way, down this list"; DESIGN.md: canonicaljson and
// roomversion have "no imports from this module".
func TestReadmeImportsPointDown(t *testing.T) {
	order := []string{"canonicaljson", "roomversion", "pdu", "redaction", "signing", "authrules", "membership", "policyserver", "serveracl", "cmd/roomproto"}
	const mod = "github.com/roomproto/roomproto/"
	cmd := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}"}, func() []string {
		var a []string
		for _, p := range order {
			a = append(a, "./"+p)
		}
		return a
	}()...)...)
	cmd.Dir = claimkit.Root()
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, p := range order {
		pos[p] = i
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		from := strings.TrimPrefix(f[0], mod)
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			to := strings.TrimPrefix(imp, mod)
			if strings.HasPrefix(to, "internal/") {
				continue
			}
			if pos[to] >= pos[from] {
				t.Errorf("%s imports %s, which is not above it in the README's list", from, to)
			}
			if from == "canonicaljson" || from == "roomversion" {
				t.Errorf("%s imports %s (DESIGN.md: no imports from this module)", from, to)
			}
		}
	}
}

// testdata/bulk/README.md: the two vector files (C2SP ed25519vectors, the twelve cases of
// "Taming the many EdDSAs"); "libsodium_verdicts.json — libsodium's verdict on each of those
// vectors (in the order of the two files; null where a key or signature has the wrong length)";
// "Case 4 is a signature that cofactored (batch) verification accepts and crypto/ed25519
// rejects". SECURITY.md: "all 780 C2SP and "Taming the many EdDSAs" vectors".
func TestBulkTestdataReadme(t *testing.T) {
	load := func(name string, v any) {
		f, err := os.Open(filepath.Join(claimkit.Root(), "testdata/bulk", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var r interface{ Read([]byte) (int, error) } = f
		if strings.HasSuffix(name, ".gz") {
			g, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			r = g
		}
		if err := json.NewDecoder(r).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var c2sp []struct{ A, R, S, M string }
	var spec []struct {
		Message   string `json:"message"`
		PubKey    string `json:"pub_key"`
		Signature string `json:"signature"`
	}
	var verdicts struct {
		Verdicts []*bool `json:"verdicts"`
	}
	load("ed25519vectors.json.gz", &c2sp)
	load("speccheck_cases.json.gz", &spec)
	load("libsodium_verdicts.json", &verdicts)
	if len(spec) != 12 {
		t.Errorf("%d Taming cases, want twelve", len(spec))
	}
	if n := len(c2sp) + len(spec); n != 780 || len(verdicts.Verdicts) != n {
		t.Errorf("%d + %d vectors, %d verdicts; want 780 of each", len(c2sp), len(spec), len(verdicts.Verdicts))
	}
	for i, s := range spec {
		pub, _ := hex.DecodeString(s.PubKey)
		msg, _ := hex.DecodeString(s.Message)
		sig, _ := hex.DecodeString(s.Signature)
		wrongLen := len(pub) != 32 || len(sig) != 64
		if v := verdicts.Verdicts[len(c2sp)+i]; (v == nil) != wrongLen {
			t.Errorf("case %d: verdict %v, key %d bytes, signature %d bytes", i, v, len(pub), len(sig))
		}
		if wrongLen {
			continue
		}
		std := ed25519.Verify(pub, msg, sig)
		cof := voi.VerifyWithOptions(pub, msg, sig, &voi.Options{Verify: voi.VerifyOptionsZIP_215})
		if i == 4 && !(cof && !std) {
			t.Errorf("case 4: cofactored %v, crypto/ed25519 %v; want accepted and rejected", cof, std)
		}
		if cof && !std && i != 4 {
			t.Logf("case %d also: cofactored accepts, crypto/ed25519 rejects", i)
		}
	}
	for i, v := range c2sp {
		a, _ := hex.DecodeString(v.A)
		r, _ := hex.DecodeString(v.R)
		s, _ := hex.DecodeString(v.S)
		wrongLen := len(a) != 32 || len(r)+len(s) != 64
		if (verdicts.Verdicts[i] == nil) != wrongLen {
			t.Errorf("C2SP vector %d: verdict %v, lengths %d %d %d", i, verdicts.Verdicts[i], len(a), len(r), len(s))
		}
	}
}

// SECURITY.md "Resource exhaustion": "the CLI's FuzzCLIInput feeds arbitrary bytes to every
// command": each command of the README's usage lines is one of its targets.
func TestSecurityFuzzCLIInputCoversEveryCommand(t *testing.T) {
	src := readDoc(t, "cmd/roomproto/cli_fuzz_test.go")
	i := strings.Index(src, "var cliFuzzTargets")
	if i < 0 {
		t.Fatal("no cliFuzzTargets table")
	}
	table := src[i:]
	table = table[:strings.Index(table, "\n}\n")]
	for _, u := range usageLines {
		if !strings.Contains(table, `{args: []string{"`+u.cmd+`"`) {
			t.Errorf("FuzzCLIInput has no target for %s", u.cmd)
		}
	}
}

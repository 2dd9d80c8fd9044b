// Package reqcheck holds the checkable parts of the requirements-completeness audit of
// roomproto (issues 2-7 and ../shared/DESIGN.md's conventions); the audit itself is
// /work/logs/audit-reqs.md and tools/reqcheck/README.md says what was done.
//
// Every test either checks a requirement that is met (and fails if it stops being met) or
// demonstrates a gap; a gap's failing check is skipped through knownGap with the gap's ID in
// the report, so the package passes until the lead fixes the gap and removes the knownGap call.
package reqcheck

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// root is the repository root, seen from tools/reqcheck.
const root = "../.."

// designPath is the shared architecture document beside the repository.
const designPath = "../../../shared/DESIGN.md"

// knownGap skips the rest of a test that demonstrates the gap id of the audit report.
// Remove the call once the gap is closed: the test then guards the fix. With REQCHECK_GAPS=1
// in the environment the gaps are not skipped, so their failures show what is absent.
// settledInText reports whether the gap id was settled by a text (a recorded deviation):
// file, relative to the project root, holds phrase. The lead settled DESIGN-PKGS,
// DESIGN-INTERNAL, DESIGN-CLI and BENCH-CORPUS in docs/decisions.md and AUTH-CLI-WARN in the
// README (2026-12-01); the test then checks that the record stays.
func settledInText(t *testing.T, id, file, phrase string) bool {
	t.Helper()
	if strings.Contains(string(readFile(t, file)), phrase) {
		t.Logf("gap %s: settled by %s (%q)", id, file, phrase)
		return true
	}
	return false
}

func knownGap(t *testing.T, id string) {
	t.Helper()
	if os.Getenv("REQCHECK_GAPS") != "" {
		t.Logf("known gap %s, not skipped (REQCHECK_GAPS)", id)
		return
	}
	t.Skipf("known gap %s (see /work/logs/audit-reqs.md)", id)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// libPackages are the library packages in DESIGN.md's import order (an import may only point
// to an earlier entry), with the two later packages that DESIGN.md does not list.
var libPackages = []string{"canonicaljson", "roomversion", "pdu", "redaction", "signing", "authrules", "membership"}

// extraPackages are library packages added after DESIGN.md was written, and what they import.
var extraPackages = map[string][]string{
	"serveracl":    {"canonicaljson", "pdu", "authrules"},
	"policyserver": {"canonicaljson", "roomversion", "pdu", "signing", "authrules"},
}

const modulePrefix = "github.com/roomproto/roomproto/"

// goList returns the module-internal imports of each package matched by patterns.
// With tests, the imports of the package's test files count too.
func goList(t *testing.T, tests bool, patterns ...string) map[string][]string {
	t.Helper()
	format := `{{.ImportPath}} {{join .Imports " "}}`
	if tests {
		format += ` {{join .TestImports " "}} {{join .XTestImports " "}}`
	}
	args := append([]string{"list", "-f", format}, patterns...)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	res := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], modulePrefix)
		res[pkg] = nil
		for _, imp := range f[1:] {
			if strings.HasPrefix(imp, modulePrefix) {
				res[pkg] = append(res[pkg], strings.TrimPrefix(imp, modulePrefix))
			}
		}
	}
	return res
}

// TestImportDirection: DESIGN.md "Packages and the direction of imports": an arrow only ever
// points down the list; internal/ helpers may be imported by anyone.
func TestImportDirection(t *testing.T) {
	pats := []string{"./cmd/roomproto"}
	for _, p := range libPackages {
		pats = append(pats, "./"+p)
	}
	for p := range extraPackages {
		pats = append(pats, "./"+p)
	}
	imports := goList(t, false, pats...)
	for i, p := range libPackages {
		for _, imp := range imports[p] {
			if strings.HasPrefix(imp, "internal/") {
				continue
			}
			j := slices.Index(libPackages, imp)
			// canonicaljson and roomversion are one level: neither imports the other.
			if j < 0 || j >= i || (i <= 1 && j <= 1) {
				t.Errorf("%s imports %s, against DESIGN.md's direction", p, imp)
			}
		}
	}
	for p, allowed := range extraPackages {
		for _, imp := range imports[p] {
			if !strings.HasPrefix(imp, "internal/") && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s", p, imp)
			}
		}
	}
	for _, imp := range imports["cmd/roomproto"] {
		if strings.HasPrefix(imp, "cmd/") {
			t.Errorf("cmd/roomproto imports %s", imp)
		}
	}
}

// TestDesignListsEveryPackage: DESIGN.md's package diagram names every library package.
// Gap DESIGN-PKGS: serveracl and policyserver are not in it.
func TestDesignListsEveryPackage(t *testing.T) {
	design, err := os.ReadFile(designPath)
	if err != nil {
		t.Skipf("DESIGN.md not beside the project: %v", err)
	}
	var missing []string
	for p := range extraPackages {
		if !bytes.Contains(design, []byte(p)) {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 && settledInText(t, "DESIGN-PKGS", "docs/decisions.md", "`policyserver` and `serveracl` sit beside") {
		return
	}
	if len(missing) > 0 {
		t.Errorf("DESIGN.md does not describe the packages %v", missing)
	}
}

// TestInternalHoldsOnlySharedHelpers: DESIGN.md "internal/ may hold helpers shared by two or
// more packages; nothing else goes there". Gap DESIGN-INTERNAL: internal/limits_test is a
// package of tests only, imported by nobody.
func TestInternalHoldsOnlySharedHelpers(t *testing.T) {
	all := goList(t, true, "./...")
	users := map[string]map[string]bool{}
	for pkg, imps := range all {
		for _, imp := range imps {
			if strings.HasPrefix(imp, "internal/") {
				if users[imp] == nil {
					users[imp] = map[string]bool{}
				}
				users[imp][pkg] = true
			}
		}
	}
	var lonely []string
	for pkg := range all {
		if !strings.HasPrefix(pkg, "internal/") || strings.Count(pkg, "/") > 1 {
			continue // internal/roomgen/cmd/... are commands of a helper
		}
		if len(users[pkg]) == 0 {
			lonely = append(lonely, pkg)
		}
	}
	sort.Strings(lonely)
	if !slices.Equal(lonely, []string{"internal/limits_test"}) {
		t.Errorf("internal packages imported by no package: %v (the audit expected only internal/limits_test)", lonely)
	}
	if len(lonely) > 0 && settledInText(t, "DESIGN-INTERNAL", "docs/decisions.md", "`internal/limits_test`:") {
		return
	}
	if len(lonely) > 0 {
		t.Errorf("internal packages that are not shared helpers: %v", lonely)
	}
}

// TestFixturesFollowTheConvention: DESIGN.md "Fixtures: JSON under testdata/<package>/, one
// case per object with a name, the input, and the exact expected output or rule."
func TestFixturesFollowTheConvention(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "testdata", "*", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	// Files that are not case tables: corpora, templates, generated verdict lists.
	notTables := map[string]bool{
		"signing/bench_corpus.json": true, "authrules/common.json": true,
		"bulk/libsodium_verdicts.json": true, "signing/spec_vectors.json": true,
		"roomversion/feature_matrix.json": true, "membership/transitions.json": true,
	}
	expectKeys := []string{"expect", "expected", "output", "error", "rule", "allowed", "decision",
		"strict", "errcode", "checks", "event_id", "signed", "content_hash", "key_id", "public"}
	tables := 0
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "testdata"), f)
		rel = filepath.ToSlash(rel)
		if notTables[rel] {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []map[string]json.RawMessage
		if err := json.Unmarshal(data, &cases); err != nil {
			t.Errorf("%s: not a JSON array of cases: %v", rel, err)
			continue
		}
		tables++
		for i, c := range cases {
			if _, ok := c["name"]; !ok {
				t.Errorf("%s case %d has no name", rel, i)
			}
			found := false
			for _, k := range expectKeys {
				if _, ok := c[k]; ok {
					found = true
				}
			}
			if !found {
				t.Errorf("%s case %d (%s) has no expected output or rule", rel, i, c["name"])
			}
		}
	}
	if tables < 20 {
		t.Errorf("only %d fixture tables", tables)
	}
}

// testFuncs returns the names of the Test/Example/Benchmark/Fuzz functions of a package
// directory, and the concatenated text of its test files.
func testFuncs(t *testing.T, dir string) (map[string]bool, string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, dir, "*_test.go"))
	names := map[string]bool{}
	var text strings.Builder
	re := regexp.MustCompile(`(?m)^func ((?:Test|Example|Benchmark|Fuzz)\w*)\(`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(data)
		for _, m := range re.FindAllSubmatch(data, -1) {
			names[string(m[1])] = true
		}
	}
	return names, text.String()
}

// TestRequiredTestFunctions: the tests, Examples, fuzz targets and benchmarks the issues name
// exist (issue 2 "Tests it must have", issue 3, issue 4, issue 5, issue 6, issue 7).
func TestRequiredTestFunctions(t *testing.T) {
	want := map[string][]string{
		"roomversion":          {"TestFeatureMatrix", "TestLookupUnknown"},
		"canonicaljson":        {"TestSpecExamples", "TestCases", "TestErrorOffsetsAndMessages", "TestAllocations", "ExampleCanonical", "FuzzCanonical", "BenchmarkCanonical", "BenchmarkSpeedupVsReference"},
		"pdu":                  {"FuzzParse", "BenchmarkParse"},
		"signing":              {"TestSpecJSONSigning", "TestSpecEventSigning", "TestTamper", "TestTamperSignature", "ExampleSignEvent", "ExampleVerifyEvent", "ExampleEventID", "BenchmarkContentHash", "BenchmarkEventID", "BenchmarkVerifyEvent", "BenchmarkBareEd25519Verify", "FuzzVerifyEvent", "FuzzEventID", "FuzzContentHash", "TestVerifyEventsMatchesVerifyEvent", "TestBatchEquationIsCofactored", "BenchmarkVerifyEvents"},
		"redaction":            {"TestRedactFixtures", "TestReferenceHashSurvivesRedaction", "TestRedactVersionsDifferOnlyByRules", "TestDecideFixtures", "FuzzRedact", "BenchmarkRedactCorpus", "BenchmarkRedactPowerLevels", "BenchmarkSpeedupVsNaive"},
		"authrules":            {"TestFixtures", "TestFixtureCoverage", "TestAuthEventsNeeded", "TestState", "FuzzCheck", "BenchmarkStateCheckMessage", "BenchmarkStateCheckRestrictedJoin", "BenchmarkCheckAuthChain", "BenchmarkRoomEndToEnd", "TestCheckAuthChainMatchesCheck"},
		"membership":           {"TestJoinDecisionFixtures", "TestDecideJoinDeterministic", "TestJoinHandshakeRoundTrip", "TestInviteHandshakeRoundTrip", "TestKnockHandshakeRoundTrip", "TestTransitionsMatchDiagram", "ExampleMakeJoin", "ExampleSendJoin", "FuzzJoinDecision"},
		"cmd/roomproto":        {"TestCLICases", "TestCLICasesCoverEveryCommand", "TestExampleRoomUpToDate", "TestReplayExampleRoom", "TestProgressBar", "TestVerifyRoom", "FuzzCLIInput"},
		"internal/limits_test": {"TestMaxEventSize", "TestMaxIDLength", "TestMaxReferences", "TestNestingDepth", "FuzzOneReading", "FuzzCheckMatchesState"},
	}
	for dir, names := range want {
		have, _ := testFuncs(t, dir)
		for _, n := range names {
			if !have[n] {
				t.Errorf("%s: %s is missing", dir, n)
			}
		}
	}
}

// TestEveryLibraryPackageIsFuzzed: DESIGN.md "a Fuzz... target for every function that takes
// untrusted bytes": at least one target per library package.
func TestEveryLibraryPackageIsFuzzed(t *testing.T) {
	for _, dir := range append(slices.Clone(libPackages), "serveracl", "policyserver", "cmd/roomproto") {
		if dir == "roomversion" {
			continue // takes no bytes
		}
		have, _ := testFuncs(t, dir)
		n := 0
		for name := range have {
			if strings.HasPrefix(name, "Fuzz") {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s has no fuzz target", dir)
		}
	}
}

// TestKnockAndTransitionsFuzzed: issue 7 asks for fuzz targets of "the membership decisions";
// DecideJoin is fuzzed, but gap FUZZ-KNOCK: DecideKnock and CheckTransition (which read the
// state built from received events and a user ID from the request) are called by no fuzz
// target.
func TestKnockAndTransitionsFuzzed(t *testing.T) {
	_, text := testFuncs(t, "membership")
	var missing []string
	for _, fn := range []string{"DecideKnock(", "CheckTransition("} {
		if !fuzzBodiesCall(text, fn) {
			missing = append(missing, strings.TrimSuffix(fn, "("))
		}
	}
	if len(missing) > 0 {
		knownGap(t, "FUZZ-KNOCK")
		t.Errorf("no membership fuzz target calls %v", missing)
	}
}

// fuzzBodiesCall reports whether the body of some Fuzz function in text calls fn.
func fuzzBodiesCall(text, fn string) bool {
	re := regexp.MustCompile(`(?ms)^func Fuzz\w+\(f \*testing\.F\) \{.*?^\}`)
	for _, body := range re.FindAllString(text, -1) {
		if strings.Contains(body, fn) {
			return true
		}
	}
	return false
}

// TestEveryFuzzTargetHasARecord: issue 7 "Every target has run at least 10 minutes without a
// finding (say so ... with the figures)"; the record is SECURITY.md's "Fuzzing record". Gap
// FUZZ-10MIN: targets added after issue 7 closed have no record there.
func TestEveryFuzzTargetHasARecord(t *testing.T) {
	security := string(readFile(t, "SECURITY.md"))
	all := goList(t, false, "./...")
	var missing []string
	for pkg := range all {
		if strings.HasPrefix(pkg, "tools/") {
			continue
		}
		have, _ := testFuncs(t, pkg)
		for name := range have {
			if strings.HasPrefix(name, "Fuzz") && !regexp.MustCompile(`\b`+name+`\b`).MatchString(security) {
				missing = append(missing, pkg+"."+name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 { // gap FUZZ-10MIN, closed 2026-12-01: every target has a record
		t.Errorf("fuzz targets without any run recorded in SECURITY.md: %v", missing)
	}
}

// cliCommands returns the commands `roomproto help` lists.
func cliCommands(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "run", "./cmd/roomproto", "help")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("roomproto help: %v\n%s", err, out)
	}
	var cmds []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "  ") {
			if f := strings.Fields(line); len(f) > 0 {
				cmds = append(cmds, f[0])
			}
		}
	}
	sort.Strings(cmds)
	return cmds
}

// TestCLIMatchesDesignTable: DESIGN.md's contract table and the tool's commands. Every command
// of the table exists; gap DESIGN-CLI: the tool also has `policy-check`, which the table (and
// ../shared/contract) do not describe (README.md says so).
func TestCLIMatchesDesignTable(t *testing.T) {
	design, err := os.ReadFile(designPath)
	if err != nil {
		t.Skipf("DESIGN.md not beside the project: %v", err)
	}
	var table []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)").FindAllSubmatch(design, -1) {
		table = append(table, string(m[1]))
	}
	sort.Strings(table)
	if len(table) != 13 {
		t.Fatalf("DESIGN.md's table has %d commands: %v", len(table), table)
	}
	cmds := cliCommands(t)
	for _, c := range table {
		if !slices.Contains(cmds, c) {
			t.Errorf("command %s of DESIGN.md's table is missing", c)
		}
	}
	var extra []string
	for _, c := range cmds {
		if !slices.Contains(table, c) {
			extra = append(extra, c)
		}
	}
	if slices.Equal(extra, []string{"policy-check"}) && settledInText(t, "DESIGN-CLI", "docs/decisions.md", "more than the contract's table, `policy-check`") {
		return
	}
	if len(extra) > 0 {
		t.Errorf("commands not in DESIGN.md's contract table: %v", extra)
	}
}

// TestReplayExampleRoomScenes: issue 4 asks the built-in room to show a creator join, a
// restricted join via an authoriser, a join refused for the authoriser's power (4.3.5.2), a
// knock refused by the restricted join rule, a ban, a refused power-levels change and a
// redaction; and "printing each event's verdict and the rule that decided it". The scenes are
// there; gap REPLAY-RULE: an accepted event's line names no rule (not even 4.3.5.3 for the
// restricted join, nor its authoriser), because the allowing rule is not exported by authrules.
func TestReplayExampleRoomScenes(t *testing.T) {
	cmd := exec.Command("go", "run", "./cmd/roomproto", "replay")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	text := string(out)
	for _, want := range []string{"rejected rule 4.3.5.2", "rejected rule 4.7.1", "rejected rule 9.7.1", "m.room.redaction", "summary: room version 9"} {
		if !strings.Contains(text, want) {
			t.Errorf("replay output lacks %q", want)
		}
	}
	var bare []string
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "summary") {
			continue
		}
		if i := strings.Index(line, " accepted"); i >= 0 && !strings.Contains(line[i:], "rule") {
			bare = append(bare, strings.Join(strings.Fields(line)[:3], " "))
		}
	}
	if len(bare) > 0 {
		knownGap(t, "REPLAY-RULE")
		t.Errorf("%d event lines name no deciding rule, e.g. %q", len(bare), bare[0])
	}
}

// TestBenchCorpusIsTheProjectsOwn: DESIGN.md "Time them on a corpus ... generated by the
// project's own code into testdata/. ../shared/bench/corpus.json is such a corpus made
// independently: use it as a cross-check". Gap BENCH-CORPUS: the benchmarks time a byte copy of
// the independent corpus (testdata/signing/bench_corpus.json, pinned equal by
// signing.TestCorpusCopyIsTheShared); the project generates no corpus of its own.
func TestBenchCorpusIsTheProjectsOwn(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join(root, "..", "shared", "bench", "corpus.json"))
	if err != nil {
		t.Skipf("shared corpus not beside the project: %v", err)
	}
	own := readFile(t, "testdata/signing/bench_corpus.json")
	if bytes.Equal(own, shared) && settledInText(t, "BENCH-CORPUS", "docs/decisions.md", "Benchmarks run on the shared corpus, copied") {
		return
	}
	if bytes.Equal(own, shared) {
		t.Error("the benchmark corpus in testdata/ is the shared, independently made one")
	}
}

// TestSpeedBarsRecorded: the speed bars of issues 2, 3, 4 and 6 each have a section of
// BENCHMARKS.md (whether they are met is recorded there, not measured here).
func TestSpeedBarsRecorded(t *testing.T) {
	b := string(readFile(t, "BENCHMARKS.md"))
	for _, h := range []string{
		"## canonicaljson — target: ≥ 10x",
		"## redaction — target: ≥ 15x",
		"## signing — target: VerifyEvent within 10%",
		"## Bulk verification (issue 6) — target: ≥ 2x per core",
		"## authrules — target: < 5 µs and ≤ 10 allocations",
		"## CheckAuthChain and a 100k-event room (issue 6)",
	} {
		if !strings.Contains(b, h) {
			t.Errorf("BENCHMARKS.md has no section %q", h)
		}
	}
}

// authCase is the part of a testdata/authrules case this audit reads.
type authCase struct {
	Name        string   `json:"name"`
	RoomVersion string   `json:"room_version"`
	Allowed     bool     `json:"allowed"`
	Rule        string   `json:"rule"`
	Covers      []string `json:"covers"`
}

func authCases(t *testing.T) []authCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "authrules", "*.json"))
	var all []authCase
	for _, f := range files {
		if strings.HasSuffix(f, "common.json") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []authCase
		if err := json.Unmarshal(data, &cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, cs...)
	}
	return all
}

// TestAuthVersionBoundaries: issue 4 "every version boundary (restricted in v7 vs v8,
// knock_restricted in v9 vs v10, string power levels v9 vs v10, create without creator v10 vs
// v11, v12 creators) has a case on each side", found by the fixtures' names and rules.
func TestAuthVersionBoundaries(t *testing.T) {
	cases := authCases(t)
	has := func(version string, allowed bool, rule string, name string) bool {
		for _, c := range cases {
			if c.RoomVersion == version && c.Allowed == allowed && (rule == "" || c.Rule == rule) && strings.Contains(strings.ToLower(c.Name), name) {
				return true
			}
		}
		return false
	}
	checks := []struct {
		what    string
		version string
		allowed bool
		rule    string
		name    string
	}{
		{"restricted unknown in v7", "7", false, "4.2.6", "restricted"},
		{"restricted join in v8", "8", true, "4.3.5.3", ""},
		{"knock_restricted unknown in v9", "9", false, "", "knock_restricted"},
		{"knock_restricted in v10", "10", true, "", "knock_restricted"},
		{"string power levels in v9", "9", true, "9.2", "string"},
		{"string power levels refused in v10", "10", false, "", "string"},
		{"create without creator refused in v10", "10", false, "1.4", "without creator"},
		{"create without creator allowed in v11", "11", true, "1.4", "without creator"},
		{"v11 creator limited by power levels", "11", false, "", "creator"},
		{"v12 creators", "12", true, "", "creator"},
		{"v12 creators refused", "12", false, "", "creator"},
	}
	for _, c := range checks {
		if !has(c.version, c.allowed, c.rule, c.name) {
			t.Errorf("no fixture for %s", c.what)
		}
	}
}

// TestAuthFixturesPerRuleSet reports, per rule set other than v8, how many rule numbers the
// fixtures decide on both sides. Issue 4 asks both sides only for the v8 text (met and
// enforced by authrules.TestFixtureCoverage) and "one case per rule and per version where the
// rule differs" elsewhere; the counts are logged for the report.
func TestAuthFixturesPerRuleSet(t *testing.T) {
	set := map[string]string{"1": "v1", "2": "v1", "3": "v3", "4": "v3", "5": "v3", "6": "v6", "7": "v7", "8": "v8", "9": "v8", "10": "v10", "11": "v11", "12": "v12"}
	seen := map[string]map[string]map[bool]bool{}
	for _, c := range authCases(t) {
		s := set[c.RoomVersion]
		if seen[s] == nil {
			seen[s] = map[string]map[bool]bool{}
		}
		for _, r := range append([]string{c.Rule}, c.Covers...) {
			if seen[s][r] == nil {
				seen[s][r] = map[bool]bool{}
			}
			seen[s][r][c.Allowed] = true
		}
	}
	for _, s := range []string{"v1", "v3", "v6", "v7", "v8", "v10", "v11", "v12"} {
		both := 0
		for _, sides := range seen[s] {
			if len(sides) == 2 {
				both++
			}
		}
		t.Logf("rule set %s: %d rule numbers cited, %d with both outcomes", s, len(seen[s]), both)
	}
	if n := len(seen["v8"]); n < 60 {
		t.Errorf("v8 fixtures cite only %d rule numbers", n)
	}
}

// TestMembershipNumbersRulesItself: DESIGN.md "Room versions are data ... no package switches on
// the version string". Gap MEMBER-RULENUM: membership/transitions.go keeps its own copy of the
// auth rules' numbering, switching on roomversion.AuthRules.RuleSet names ("v1", "v3", "v12"),
// apart from authrules' tables; a renumbering in a new version must be made twice.
func TestMembershipNumbersRulesItself(t *testing.T) {
	src := readFile(t, "membership/transitions.go")
	if regexp.MustCompile(`switch v\.Auth\.RuleSet`).Match(src) {
		knownGap(t, "MEMBER-RULENUM")
		t.Error("membership switches on rule set names to number auth rules")
	}
}

// cliCase is the part of a testdata/cli case this audit reads.
type cliCase struct {
	Name  string            `json:"name"`
	Args  []string          `json:"args"`
	Files map[string]string `json:"files"`
	Stdin string            `json:"stdin"`
}

// runCLICase runs the testdata/cli case whose name starts with prefix, as
// cmd/roomproto.TestCLICases does (an argument "@f" names the case's file f), and returns its
// standard output and error.
func runCLICase(t *testing.T, prefix string) (string, string) {
	t.Helper()
	var cases []cliCase
	if err := json.Unmarshal(readFile(t, "testdata/cli/cases.json"), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if !strings.HasPrefix(c.Name, prefix) {
			continue
		}
		dir := t.TempDir()
		for name, content := range c.Files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		args := []string{"run", "./cmd/roomproto"}
		for _, a := range c.Args {
			if strings.HasPrefix(a, "@") {
				a = filepath.Join(dir, a[1:])
			}
			args = append(args, a)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		cmd.Stdin = strings.NewReader(c.Stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", c.Name, err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	t.Fatalf("no CLI case %q", prefix)
	return "", ""
}

// TestAuthCommandShowsUnverifiedAuthoriser: issue 4 rule 4.2 "otherwise a signature from that
// server must be present and the docs say the caller must verify", and the `warn` severity
// ("accepted with something unexpected"). The library reports the warning (Options.Warn) and
// `replay` prints it (cmd/roomproto.TestReplayWarnsWithoutKeys), but gap AUTH-CLI-WARN: `auth`
// without --keys prints only {"allowed":true} for a restricted join whose authorising server's
// signature it did not verify, the same bytes as when it did verify it.
func TestAuthCommandShowsUnverifiedAuthoriser(t *testing.T) {
	withKeys, _ := runCLICase(t, "auth: restricted join via a joined authoriser is allowed")
	stdout, stderr := runCLICase(t, "auth: restricted join without --keys is allowed")
	if !strings.Contains(stdout, `"allowed":true`) {
		t.Fatalf("stdout %q", stdout)
	}
	if stdout == withKeys && !strings.Contains(stdout+stderr, "4.2.1") && settledInText(t, "AUTH-CLI-WARN", "README.md", "Without `--keys`, `auth` checks rule 4.2.1") {
		return
	}
	if stdout == withKeys && !strings.Contains(stdout+stderr, "4.2.1") {
		t.Errorf("auth without --keys prints %q and %q on stderr: no sign that rule 4.2.1's signature was not verified", stdout, stderr)
	}
}

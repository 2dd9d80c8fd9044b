package claimsc

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

var (
	benchOnce sync.Once
	benchOut  string
	benchErr  error
)

// benchNames runs, once, the benchmarks BENCHMARKS.md and README.md name, one iteration each,
// and returns their output.
func benchRun(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs benchmarks (one iteration each)")
	}
	benchOnce.Do(func() {
		cmd := exec.Command("go", "test", "-run", "^$", "-bench",
			"^Benchmark(Speedup.*|VerifySteps|VerifyEvent|ParseScale|ParseTooLargeScale|VerifyOverheadPhases|AppendStrict|SignEventScale)$",
			"-benchtime", "1x", "./canonicaljson", "./redaction", "./signing", "./pdu")
		cmd.Dir = claimkit.Root()
		out, err := cmd.CombinedOutput()
		benchOut, benchErr = string(out), err
	})
	if benchErr != nil {
		t.Fatalf("go test -bench: %v\n%s", benchErr, benchOut)
	}
	return benchOut
}

// README: "go test -bench Speedup ./canonicaljson ./redaction prints the speed bars as ratios of
// process CPU time (each for the corpus events as the file holds them, indented, and as servers
// send them, in canonical JSON ...)". BENCHMARKS.md bar table: "canonical JSON ≥ 10x |
// BenchmarkSpeedupVsReference, strict / lenient | message; power levels; corpus | file form |
// wire form"; "Redact ≥ 15x (power levels) | BenchmarkSpeedupVsNaive, json.Marshal /
// canonicaljson.Marshal baseline | file form | wire form"; "VerifyEvent within 10% |
// BenchmarkVerifyOverheadPhases, message / power levels / join / restricted join";
// "VerifyParsedEvent within 10% | the same"; and the sub-benchmarks the text names:
// VerifySteps/parse, VerifySteps/canon, BenchmarkVerifyEvent/power_levels_wire,
// BenchmarkParseScale/signatures/15 and /1500, BenchmarkParseTooLargeScale/v10_dense,
// BenchmarkSignEventScale /15 (SignEvent of a small event).
func TestBenchmarksNamedAndMeasured(t *testing.T) {
	out := benchRun(t)
	names := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.HasPrefix(f[0], "Benchmark") {
			names[regexp.MustCompile(`-\d+$`).ReplaceAllString(f[0], "")] = l
		}
	}
	want := []string{
		"BenchmarkVerifyEvent/power_levels_wire",
		"BenchmarkParseScale/signatures/15", "BenchmarkParseScale/signatures/1500",
		"BenchmarkSignEventScale/SignEvent/15",
	}
	for _, mode := range []string{"strict", "lenient"} {
		for _, in := range []string{"message_1KB", "power_levels_50_users", "corpus_18_events"} {
			want = append(want, "BenchmarkSpeedupVsReference/"+mode+"/"+in, "BenchmarkSpeedupVsReference/"+mode+"/"+in+"_wire")
		}
	}
	for _, b := range []string{"json.Marshal", "canonical", "wire/json.Marshal", "wire/canonical"} {
		want = append(want, "BenchmarkSpeedupVsNaive/"+b)
	}
	for _, fn := range []string{"VerifyEvent", "VerifyParsedEvent"} {
		for _, ev := range []string{"message", "power_levels", "join", "restricted_join"} {
			want = append(want, "BenchmarkVerifyOverheadPhases/"+fn+"/"+ev, "BenchmarkVerifyOverheadPhases/"+fn+"/"+ev+"_wire")
		}
	}
	for _, step := range []string{"parse", "canon"} {
		for _, ev := range []string{"message", "power_levels", "join", "restricted_join"} {
			want = append(want, "BenchmarkVerifySteps/"+step+"/"+ev)
		}
	}
	for _, w := range want {
		if _, ok := names[w]; !ok {
			t.Errorf("no benchmark %s", w)
		}
	}
	hasPrefix := func(p string) bool {
		for n := range names {
			if strings.HasPrefix(n, p) {
				return true
			}
		}
		return false
	}
	if !hasPrefix("BenchmarkParseTooLargeScale/v10_dense") {
		t.Errorf("no BenchmarkParseTooLargeScale/v10_dense")
	}
	// "prints the speed bars as ratios of process CPU time"
	for n, l := range names {
		if strings.HasPrefix(n, "BenchmarkSpeedup") && (!strings.Contains(l, "speedup-x") || !strings.Contains(l, "ours-cpu-ns/op") || !strings.Contains(l, "ref-cpu-ns/op")) {
			t.Errorf("%s prints no CPU-time ratio: %s", n, l)
		}
	}
}

// BENCHMARKS.md "Inputs: the shared corpus (../shared/bench/corpus.json, 18 signed events of a v9
// room: 1 KB message bodies, a 50-user m.room.power_levels, restricted joins)"; DESIGN.md: "every
// event ID there must match yours, every signature must verify".
func TestBenchmarksCorpus(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(claimkit.Root(), "../shared/bench/corpus.json"))
	if err != nil {
		t.Skipf("no shared corpus: %v", err)
	}
	c, err := benchcorpus.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.RoomVersion != "9" || len(c.Events) != 18 {
		t.Errorf("room version %s, %d events; want 9 and 18", c.RoomVersion, len(c.Events))
	}
	v := claimkit.Ver(t, "9")
	ring, err := signing.ParseKeyRing(c.Keys)
	if err != nil {
		t.Fatal(err)
	}
	kb, pl50, restricted := false, false, false
	for i, raw := range c.Events {
		if err := signing.VerifyEvent(v, raw, ring); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
		if id, err := signing.EventID(v, raw); err != nil || id != c.EventIDs[i] {
			t.Errorf("event %d: ID %s, corpus %s (%v)", i, id, c.EventIDs[i], err)
		}
		var e struct {
			Type    string `json:"type"`
			Content struct {
				Body  string         `json:"body"`
				Users map[string]any `json:"users"`
				Auth  string         `json:"join_authorised_via_users_server"`
			} `json:"content"`
		}
		json.Unmarshal(raw, &e)
		kb = kb || e.Type == "m.room.message" && len(e.Content.Body) >= 900 && len(e.Content.Body) <= 1200
		pl50 = pl50 || e.Type == "m.room.power_levels" && len(e.Content.Users) == 50
		restricted = restricted || e.Content.Auth != ""
	}
	if !kb || !pl50 || !restricted {
		t.Errorf("1 KB message %v, 50-user power levels %v, restricted join %v", kb, pl50, restricted)
	}
}

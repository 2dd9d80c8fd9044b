// Command replayref compares the room-level commands of the roomproto CLI, `replay` and
// `verify-room`, with replayref.py, an independent reference written from the spec text
// ("Checks performed on receipt of a PDU", checks 1-5): it generates signed room dumps of room
// versions 1-12, mutates them, runs the built binary on each and compares the verdict and rule
// of every event and the summary counts.
//
//	go run ./tools/replayref -n 200 -seed 1 [-decisions] [-versions 8,9] [-v]
//
// Exit status 1 on a divergence (or a harness error), 0 otherwise.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// refEvent is the reference's verdict on one event of a dump.
type refEvent struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	StateKey *string  `json:"state_key"`
	Status   string   `json:"status"`
	Rule     *string  `json:"rule"`
	Check    *int     `json:"check"`
	Redacted bool     `json:"redacted"`
	Alt      []string `json:"alt"`
	Amb      []string `json:"amb"`
	Why      string   `json:"why"`
	InOrder  []any    `json:"inorder"`
}

// refAnswer is the reference's answer for one dump.
type refAnswer struct {
	Events    []refEvent `json:"events"`
	Accepted  int        `json:"accepted"`
	Rejected  int        `json:"rejected"`
	Dropped   int        `json:"dropped"`
	Duplicate int        `json:"duplicate"`
	Redacted  int        `json:"redacted"`
	Error     string     `json:"error"`
	TB        string     `json:"tb"`
}

// cliEvent is one event as the CLI reports it.
type cliEvent struct {
	Status string // accepted, rejected, or the verify-room problem
	Rule   string
	Text   string
}

// group collects the divergences of one kind with the smallest example.
type group struct {
	kind  string
	count int
	ex    string
	size  int
}

var (
	groups  = map[string]*group{}
	binPath string
	tmpDir  string
	verbose bool
)

func note(kind string, c *replayCase, detail string) {
	g := groups[kind]
	if g == nil {
		g = &group{kind: kind, size: 1 << 30}
		groups[kind] = g
	}
	g.count++
	if len(c.events) < g.size {
		g.size = len(c.events)
		g.ex = fmt.Sprintf("version %s, %d events, labels %s, keys %s\n%s", c.vid, len(c.events), c.label(), c.keysMode, detail)
		dir := filepath.Join(tmpDir, "ex")
		_ = os.MkdirAll(dir, 0o755)
		name := strings.NewReplacer(" ", "_", "/", "_", ":", "_", "=", "_", ",", "_", "[", "", "]", "").Replace(kind)
		_ = os.WriteFile(filepath.Join(dir, name+".json"), c.dump(true), 0o644)
		g.ex += "\n  dump: " + filepath.Join(dir, name+".json")
	}
}

func run(args []string, stdin []byte) (string, string, int) {
	cmd := exec.Command(binPath, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		rc = -1
	}
	return out.String(), errb.String(), rc
}

// parseReplay reads the table of `replay`: "#  EVENT ID  TYPE  STATE KEY  VERDICT", one line
// per event, then "summary: ...".
func parseReplay(out string) (map[int]cliEvent, string) {
	evs := map[int]cliEvent{}
	summary := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "summary:") {
			summary = line
			continue
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		i, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		ce := cliEvent{Status: strings.TrimSuffix(f[4], ":"), Text: strings.Join(f[4:], " ")}
		if (ce.Status == "rejected" || ce.Status == "soft-failed") && len(f) > 6 && f[5] == "rule" {
			ce.Rule = strings.TrimSuffix(f[6], ":")
		}
		evs[i-1] = ce
	}
	return evs, summary
}

func refRule(e refEvent) string {
	if e.Rule == nil {
		return ""
	}
	return *e.Rule
}

func ambKey(amb []string) string {
	keep := []string{}
	for _, a := range amb {
		switch a {
		case "missing-auth-event", "out-of-order", "duplicate-id", "conflicting-duplicate-id", "foreign-room",
			"unknown-key", "authvia-no-keys", "authvia-unknown-key", "auth-event-dropped", "auth-cycle",
			"join-rules-absent", "soft-fail", "prev-not-last", "up:join-rules-absent", "up:missing-auth-event":
			keep = append(keep, a)
		}
	}
	return strings.Join(keep, ",")
}

func compareReplay(ref *pyref.Process, c *replayCase) map[int]cliEvent {
	var args []string
	var keys any
	withKeys := false
	switch c.keysMode {
	case "flag":
		kf := filepath.Join(tmpDir, "keys.json")
		_ = os.WriteFile(kf, difftool.Enc(c.keys), 0o644)
		args = append(args, "--keys", kf)
		keys = c.keys
	case "dump":
		withKeys = true
		keys = c.keys
	}
	// replay without FILE replays the built-in example room, whatever stdin holds: the dump goes
	// in a file.
	df := filepath.Join(tmpDir, "dump.json")
	_ = os.WriteFile(df, c.dump(withKeys), 0o644)
	out, errs, rc := run(append(append([]string{"replay"}, args...), df), nil)
	texts := []string{}
	for _, e := range c.events {
		texts = append(texts, string(e))
	}
	var a refAnswer
	if err := ref.Ask(map[string]any{"v": c.vid, "events": texts, "keys": keys, "mode": "replay"}, &a); err != nil || a.Error != "" {
		note("harness: reference error", c, fmt.Sprint(err, a.Error, a.TB))
		return nil
	}
	if rc != 0 {
		note(fmt.Sprintf("replay: exit %d", rc), c, errs)
		return nil
	}
	cli, summary := parseReplay(out)
	counts := map[string]int{}
	prefix := cascade(a.Events)
	for i, e := range a.Events {
		ce, ok := cli[i]
		if !ok {
			note("replay: event line missing", c, fmt.Sprintf("event %d ref %s", i+1, e.Status))
			continue
		}
		counts[ce.Status]++
		rs := e.Status
		if rs == "dropped" {
			// no contract: report what the CLI says
			if ce.Status != rs {
				note(fmt.Sprintf("replay: ref %s, cli %s [%s]", rs, ce.Status, prefix[i]), c,
					fmt.Sprintf("  event %d %s %s: ref %s (%s), cli %q", i+1, e.ID, e.Type, rs, e.Why, ce.Text))
			}
			continue
		}
		if rs != ce.Status || refRule(e) != ce.Rule {
			ck := 0
			if e.Check != nil {
				ck = *e.Check
			}
			kind := fmt.Sprintf("replay: ref %s %s (check %d), cli %s %s [%s]", rs, ruleClass(refRule(e)), ck, ce.Status,
				ruleClass(ce.Rule), prefix[i])
			note(kind, c, fmt.Sprintf("  event %d %s %s: ref %s %s check %d (%s) amb %v; cli %q", i+1, e.ID, e.Type, rs,
				refRule(e), ck, e.Why, e.Amb, ce.Text))
		}
	}
	if len(cli) != len(a.Events) {
		note("replay: line count", c, fmt.Sprintf("cli %d lines, %d events", len(cli), len(a.Events)))
	}
	want := fmt.Sprintf("%d events, %d accepted, %d rejected", len(c.events), counts["accepted"], counts["rejected"])
	if counts["soft-failed"] > 0 {
		want = fmt.Sprintf("%d events, %d accepted, %d soft-failed, %d rejected", len(c.events), counts["accepted"], counts["soft-failed"], counts["rejected"])
	}
	if !strings.Contains(summary, want) {
		note("replay: summary counts disagree with the lines", c, summary+"\n  lines: "+want)
	}
	return cli
}

// cascade returns, per event, its own spec-silent flags or else "after <flags>": the flags of
// the events before it in the dump, whose verdicts shape its state and auth events.
func cascade(evs []refEvent) []string {
	out := make([]string, len(evs))
	acc := map[string]bool{}
	for i, e := range evs {
		if k := ambKey(e.Amb); k != "" {
			out[i] = k
		} else if len(acc) > 0 {
			out[i] = "after " + strings.Join(difftool.SortedKeys(acc), ",")
		}
		for _, f := range strings.Split(ambKey(e.Amb), ",") {
			if f != "" {
				acc[f] = true
			}
		}
	}
	return out
}

// ruleClass keeps the top-level rule and, for membership rules, the membership sub-rule.
func ruleClass(r string) string {
	if r == "" {
		return "-"
	}
	return r
}

// vrLine is one line of verify-room's output.
type vrLine struct {
	Index   *int   `json:"index"`
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Problem string `json:"problem"`
	Rule    string `json:"rule"`
	Reason  string `json:"reason"`
	Summary *struct {
		Events         int            `json:"events"`
		Valid          int            `json:"valid"`
		Redacted       int            `json:"redacted"`
		Rejected       int            `json:"rejected"`
		BadSignature   int            `json:"bad_signature"`
		MissingKey     int            `json:"missing_key"`
		Malformed      int            `json:"malformed"`
		RejectedByRule map[string]int `json:"rejected_by_rule"`
	} `json:"summary"`
}

func compareVerifyRoom(ref *pyref.Process, c *replayCase) map[int][]vrLine {
	kf := filepath.Join(tmpDir, "keys.json")
	_ = os.WriteFile(kf, difftool.Enc(c.keys), 0o644)
	df := filepath.Join(tmpDir, "dump.json")
	_ = os.WriteFile(df, c.dump(false), 0o644)
	out, errs, rc := run([]string{"verify-room", "--keys", kf, df}, nil)
	texts := []string{}
	for _, e := range c.events {
		texts = append(texts, string(e))
	}
	var a refAnswer
	if err := ref.Ask(map[string]any{"v": c.vid, "events": texts, "keys": c.keys, "mode": "verify-room"}, &a); err != nil || a.Error != "" {
		note("harness: reference error (verify-room)", c, fmt.Sprint(err, a.Error, a.TB))
		return nil
	}
	if rc != 0 {
		note(fmt.Sprintf("verify-room: exit %d", rc), c, errs)
		return nil
	}
	probs := map[int][]vrLine{}
	var sum *vrLine
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l vrLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			note("verify-room: unparsable line", c, line)
			continue
		}
		if l.Summary != nil {
			ll := l
			sum = &ll
			continue
		}
		if l.Index != nil {
			probs[*l.Index] = append(probs[*l.Index], l)
		}
	}
	prefix := cascade(a.Events)
	base := 0 // "index" counts from 0 (the doc comment of runVerifyRoom does not say; observed)
	for i, e := range a.Events {
		ls := probs[i+base]
		cliProb := []string{}
		cliRule := ""
		for _, l := range ls {
			cliProb = append(cliProb, l.Problem)
			if l.Problem == "rejected" {
				cliRule = l.Rule
				if strings.HasPrefix(l.Reason, "(redacted") {
					cliProb = append(cliProb, "+redacted")
				}
			}
		}
		// one problem per event: dropped, redacted (and accepted), or rejected (+redacted when the
		// event was redacted first: the CLI says so in the reason)
		refProb := []string{}
		switch {
		case e.Status == "dropped":
			refProb = append(refProb, "dropped")
		case e.Status == "rejected":
			refProb = append(refProb, "rejected")
			if e.Redacted {
				refProb = append(refProb, "+redacted")
			}
		case e.Redacted:
			refProb = append(refProb, "redacted")
		}
		// map the CLI's problems to the reference's words
		cliMapped := []string{}
		for _, p := range cliProb {
			switch p {
			case "bad_signature", "missing_key", "malformed":
				cliMapped = append(cliMapped, "dropped")
			default:
				cliMapped = append(cliMapped, p)
			}
		}
		if strings.Join(refProb, ",") != strings.Join(cliMapped, ",") || refRule(e) != cliRule {
			inorder := ""
			if e.InOrder != nil {
				inorder = fmt.Sprint(" in-order:", e.InOrder)
			}
			kind := fmt.Sprintf("verify-room: ref [%s] %s, cli [%s] %s [%s]", strings.Join(refProb, ","), ruleClass(refRule(e)),
				strings.Join(cliProb, ","), ruleClass(cliRule), prefix[i])
			reasons := []string{}
			for _, l := range ls {
				reasons = append(reasons, l.Reason)
			}
			note(kind, c, fmt.Sprintf("  event %d %s %s: ref %s %s (%s) amb %v%s; cli %v %q", i+1, e.ID, e.Type, e.Status,
				refRule(e), e.Why, e.Amb, inorder, cliProb, reasons))
		} else if e.Status == "accepted" && e.InOrder != nil && e.InOrder[0] == "rejected" && verbose {
			fmt.Printf("note: verify-room accepts event %d (%s) which the in-order checks reject: %v\n", i+1, e.Type, e.InOrder)
		}
	}
	if sum == nil {
		note("verify-room: no summary line", c, out)
		return nil
	}
	s := sum.Summary
	if s.Events != len(c.events) {
		note("verify-room: summary events count", c, fmt.Sprintf("summary %d, dump %d", s.Events, len(c.events)))
	}
	rejected, dropped := 0, 0
	for _, e := range a.Events {
		switch e.Status {
		case "rejected":
			rejected++
		case "dropped":
			dropped++
		}
	}
	redactedOK := 0
	for _, e := range a.Events {
		if e.Redacted && e.Status == "accepted" {
			redactedOK++
		}
	}
	if s.Rejected != rejected || s.BadSignature+s.MissingKey+s.Malformed != dropped || s.Redacted != redactedOK {
		note("verify-room: summary counts", c, fmt.Sprintf("cli %+v; ref rejected(not redacted) %d dropped %d redacted %d", *s, rejected, dropped, a.Redacted))
	}
	if s.Valid+s.Redacted+s.Rejected+s.BadSignature+s.MissingKey+s.Malformed != s.Events {
		note("verify-room: summary counts do not add up", c, fmt.Sprintf("%+v", *s))
	}
	return probs
}

// crossTally counts events on which the two commands give different answers for the same dump
// (not a divergence from the reference: both follow their documented readings).
var crossTally = map[string]int{}
var crossEx = map[string]string{}

func crossCheck(c *replayCase, rp map[int]cliEvent, vr map[int][]vrLine) {
	if rp == nil || vr == nil {
		return
	}
	for i := range c.events {
		r, ok := rp[i]
		if !ok || strings.Contains(string(c.events[i]), "join_authorised_via_users_server") {
			continue
		}
		v := "valid"
		vrule := ""
		for _, l := range vr[i] {
			v = l.Problem
			vrule = l.Rule
		}
		k := ""
		switch {
		case r.Status == "accepted" && strings.Contains(r.Text, "checked against the state only") && v == "rejected":
			k = "replay accepts (state only, auth events missing); verify-room rejects rule " + vrule
		case r.Status == "rejected" && strings.Contains(r.Text, "its auth events allow it; the state before it does not") && v == "valid":
			k = "replay rejects by the state before it (check 5); verify-room finds no problem"
		case r.Status == "accepted" && v == "rejected" && !strings.Contains(r.Text, "copy of"):
			k = "replay accepts; verify-room rejects rule " + vrule
		case r.Status == "rejected" && v == "valid":
			k = "replay rejects; verify-room finds no problem"
		}
		if k != "" {
			crossTally[k]++
			if _, ok := crossEx[k]; !ok {
				crossEx[k] = fmt.Sprintf("version %s, labels %s, event %d: replay %q", c.vid, c.label(), i+1, r.Text)
			}
		}
	}
}

func main() {
	n := flag.Int("n", 100, "cases per room version")
	seed := flag.Int64("seed", 1, "seed")
	dec := flag.Bool("decisions", os.Getenv("REPLAYREF_DECISIONS") == "1", "adopt docs/decisions.md readings")
	vers := flag.String("versions", "1,2,3,4,5,6,7,8,9,10,11,12", "room versions")
	bin := flag.String("bin", "", "the roomproto binary (default: built into a temporary directory)")
	flag.BoolVar(&verbose, "v", false, "print every divergence's notes")
	flag.Parse()
	var err error
	tmpDir, err = os.MkdirTemp("", "replayref")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binPath = *bin
	if binPath == "" {
		binPath = filepath.Join(tmpDir, "roomproto")
		b := exec.Command("go", "build", "-o", binPath, "github.com/roomproto/roomproto/cmd/roomproto")
		b.Stderr = os.Stderr
		if err := b.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build:", err)
			os.Exit(2)
		}
	}
	ref, err := pyref.Start(pyref.Beside("replayref.py"), pyref.Env(*dec, "REPLAYREF_DECISIONS=1")...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer ref.Close()
	r := rand.New(rand.NewSource(*seed))
	total, events := 0, 0
	labels := map[string]int{}
	for k := 0; k < *n; k++ {
		for _, vid := range strings.Split(*vers, ",") {
			c := drawCase(r, vid)
			rp := compareReplay(ref, c)
			vr := compareVerifyRoom(ref, c)
			crossCheck(c, rp, vr)
			total++
			events += len(c.events)
			for _, l := range c.labels {
				labels[l]++
			}
		}
	}
	fmt.Printf("replayref: seed %d, %d dumps (%d events), decisions=%v, mutations %v\n", *seed, total, events, *dec, labels)
	for _, k := range difftool.SortedKeys(crossTally) {
		fmt.Printf("cross-command x%d: %s\n  e.g. %s\n", crossTally[k], k, crossEx[k])
	}
	kinds := make([]string, 0, len(groups))
	for k := range groups {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		g := groups[k]
		fmt.Printf("\nDIVERGENCE x%d: %s\n  %s\n", g.count, k, g.ex)
	}
	herr, div := 0, 0
	for k, g := range groups {
		if strings.HasPrefix(k, "harness") {
			herr += g.count
		} else {
			div += g.count
		}
	}
	fmt.Printf("\nharness errors %d, divergences %d, groups %d\n", herr, div, len(groups))
	if len(groups) > 0 {
		fmt.Printf("examples in %s\n", filepath.Join(tmpDir, "ex"))
		os.Exit(1)
	}
	_ = os.RemoveAll(tmpDir)
}

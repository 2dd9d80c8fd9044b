// Command chainref compares roomproto's authrules.CheckAuthChain — authorising every event of a
// set (the state and auth chain of a send_join response) against its own auth events found in
// the set — with an independent Python reference written from the spec text only (chainref.py in
// this directory, which imports tools/authref/authref.py for the single-event rules).
//
//	go run ./tools/chainref -n 2000 -seed 1 [-decisions] [-versions 1,2,12] [-out dir] [-v]
//
// It draws rooms of room versions 1-12 whose events cite the auth events the spec's selection
// algorithm picks from the generator's running state (so rejected events and chains of events
// citing them come naturally), then mutates the set: auth events dropped (missing), events
// listed in ChainOptions.Rejected (present or absent), duplicated entries and conflicting event
// IDs, auth cycles (two events, one event, and an event downstream of a cycle), events parsed for
// another room version or without an event ID, auth events of a (type, state_key) the selection
// does not name, duplicated auth event IDs, events of another room and events citing them, nil
// entries, v12 room IDs naming no create event, create events citing auth events; the input order
// is shuffled. Per event it compares accepted or not and the rule number of the rejection (and
// PreRejected); per set the Accepted/Rejected/ByRule counts and whether Order puts every event
// after its in-set auth events; and it runs CheckAuthChain again on another shuffle with another
// worker count, which must give the same verdicts. Exit status 1 on any divergence or harness
// error, 2 when the reference cannot be started.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// refVerdict is the reference's verdict on one entry of the set.
type refVerdict struct {
	OK    bool     `json:"ok"`
	Rule  *string  `json:"rule"`
	Pre   bool     `json:"pre"`
	Fatal bool     `json:"fatal"`
	Alt   []string `json:"alt"`
	Amb   []string `json:"amb"`
	Why   string   `json:"why"`
}

// refAnswer is the reference's answer on one set.
type refAnswer struct {
	Verdicts   []refVerdict   `json:"verdicts"`
	Accepted   int            `json:"accepted"`
	Rejected   int            `json:"rejected"`
	ByRule     map[string]int `json:"by_rule"`
	OrderOK    bool           `json:"order_ok"`
	OrderWhy   string         `json:"order_why"`
	OrderNotes []string       `json:"order_notes"`
	InCycle    []int          `json:"in_cycle"`
	Error      string         `json:"error"`
}

// example is the printed instance of a divergence group.
type example struct {
	Version string   `json:"version"`
	Labels  string   `json:"labels"`
	Entry   int      `json:"entry,omitempty"`
	RP      string   `json:"roomproto"`
	Ref     string   `json:"reference"`
	Amb     []string `json:"amb,omitempty"`
	Set     []string `json:"set"`
}

var (
	groups    = pyref.Groups[*example]{}
	tally     = map[string]int{}
	outcomes  = map[string]int{}
	ambSeen   = map[string]int{}
	notes     = map[string]int{}
	harness   int
	diverged  int
	knownDiv  int
	compared  int
	decisions bool
)

// describe renders a set compactly: index, ID, type/state_key, sender, auth IDs, and both verdicts.
func describe(c *chainCase, res *authrules.ChainResult, ref *refAnswer) []string {
	var out []string
	for i, it := range c.items {
		if it.ev == nil {
			out = append(out, fmt.Sprintf("#%d nil", i))
			continue
		}
		e := it.ev
		sk := "-"
		if e.StateKey != nil {
			sk = fmt.Sprintf("%q", *e.StateKey)
		}
		s := fmt.Sprintf("#%d %s v%s %s/%s by %s ms=%s room=%s auth=%v", i, e.EventID, e.Version.ID, e.Type, sk, e.Sender,
			e.Membership, e.RoomID, e.AuthEvents)
		if c.rejected[e.EventID] {
			s += " [listed rejected]"
		}
		if res != nil && i < len(res.Verdicts) {
			s += " rp=" + rpString(res.Verdicts[i])
		}
		if ref != nil && i < len(ref.Verdicts) {
			s += " ref=" + refString(ref.Verdicts[i])
		}
		out = append(out, s)
	}
	var abs []string
	for id := range c.rejected {
		abs = append(abs, id)
	}
	sort.Strings(abs)
	out = append(out, "listed rejected: "+strings.Join(abs, " "))
	return out
}

func rpRule(v authrules.ChainVerdict) string {
	if v.Err == nil {
		return ""
	}
	var rj *authrules.Rejection
	if errors.As(v.Err, &rj) {
		return rj.Rule
	}
	return "(not *Rejection)"
}

func rpString(v authrules.ChainVerdict) string {
	switch {
	case v.Accepted():
		return "ACCEPT"
	case v.PreRejected:
		return "PRE-REJECTED"
	}
	var rj *authrules.Rejection
	if errors.As(v.Err, &rj) {
		return fmt.Sprintf("REJECT %q %s (%s)", rj.Rule, rj.Severity, difftool.Clip(rj.Reason, 120))
	}
	return "REJECT (" + difftool.Clip(v.Err.Error(), 120) + ")"
}

func refString(v refVerdict) string {
	switch {
	case v.OK:
		return "ACCEPT"
	case v.Pre:
		return "PRE-REJECTED"
	}
	r := ""
	if v.Rule != nil {
		r = *v.Rule
	}
	s := fmt.Sprintf("REJECT %q", r)
	if v.Fatal {
		s += " fatal"
	}
	if len(v.Alt) > 0 {
		s += " alt=" + strings.Join(v.Alt, "|")
	}
	return s + " (" + difftool.Clip(v.Why, 120) + ")"
}

// known names the findings of this audit already reported (README.md, "Findings") that a
// divergence matches, or "" for a new one. A run exits 0 when every divergence is known, unless
// -strict; remove an entry once roomproto or docs/decisions.md settles it.
func known(kind string, amb []string) string {
	// F1 (a create event behind an auth cycle) was fixed and F2 (a listed-rejected auth event
	// absent from the set) settled by decisions.md (bulk) 6: no known divergence is left.
	return ""
}

func report(kind string, c *chainCase, entry int, rp, ref string, amb []string, set []string) {
	diverged++
	if k := known(kind, amb); k != "" {
		knownDiv++
		kind = "KNOWN(" + k + ") " + kind
	}
	size := 0
	for _, s := range set {
		size += len(s)
	}
	ex := &example{Version: c.vid, Labels: label(c), Entry: entry, RP: rp, Ref: ref, Set: set}
	var own []string // the group key names the entry's own corners; the example lists all
	for _, f := range amb {
		if !strings.HasPrefix(f, "up:") {
			own = append(own, f)
		}
	}
	if len(own) < len(amb) {
		own = append(own, "up:...")
	}
	ex.Amb = amb
	key := fmt.Sprintf("%s rp=%s ref=%s amb=%s", kind, pyref.StripDetail(rp), pyref.StripDetail(ref), strings.Join(own, ","))
	groups.Add(key, c.vid, ex, size)
}

// compare runs one case through roomproto and the reference.
func compare(r *rand.Rand, ref *pyref.Process, c *chainCase) {
	events := make([]*pdu.Event, len(c.items))
	for i, it := range c.items {
		events[i] = it.ev
	}
	workers := 1 + r.Intn(4)
	var prog [][2]int
	res, err := authrules.CheckAuthChain(c.v, events, &authrules.ChainOptions{Rejected: c.rejected, Workers: workers,
		Progress: func(done, total int) { prog = append(prog, [2]int{done, total}) }})
	if err != nil {
		report("ERROR", c, -1, "error "+err.Error(), "a result", nil, describe(c, nil, nil))
		return
	}
	// ChainOptions.Progress: done never decreases and the last call has done == total.
	for j := range prog {
		if (j > 0 && prog[j][0] < prog[j-1][0]) || prog[j][1] != prog[0][1] || (j == len(prog)-1 && prog[j][0] != prog[j][1]) {
			report("PROGRESS", c, -1, fmt.Sprint(prog), "non-decreasing, last done == total", nil, describe(c, res, nil))
			break
		}
	}
	tally["progress calls"] += len(prog)
	var reqEvents []M
	for _, it := range c.items {
		if it.ev == nil {
			reqEvents = append(reqEvents, M{"ev": nil, "id": "", "ver": c.vid})
			continue
		}
		reqEvents = append(reqEvents, M{"ev": difftool.Decode(it.raw), "id": it.ev.EventID, "ver": it.ev.Version.ID})
	}
	var rejected []string
	for id := range c.rejected {
		rejected = append(rejected, id)
	}
	sort.Strings(rejected)
	req := M{"op": "chain", "v": c.vid, "events": reqEvents, "rejected": rejected, "order": res.Order}
	var a refAnswer
	if err := ref.MustAsk(req, &a); err != nil || a.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", err, difftool.Clip(a.Error, 3000))
		return
	}
	if len(a.Verdicts) != len(c.items) || len(res.Verdicts) != len(c.items) {
		report("COUNT", c, -1, fmt.Sprint(len(res.Verdicts), " verdicts"), fmt.Sprint(len(a.Verdicts), " verdicts"), nil, describe(c, res, &a))
		return
	}
	for _, n := range a.OrderNotes {
		notes["order: "+n]++
	}
	tally["v"+c.vid+" sets"]++
	for _, l := range c.labels {
		tally["mutation "+l]++
	}
	entryDiv := false
	for i := range c.items {
		compared++
		tally["v"+c.vid+" events"]++
		rv, fv := res.Verdicts[i], a.Verdicts[i]
		oc := "accept"
		if !rv.Accepted() {
			oc = "reject " + rpRule(rv)
			if rv.PreRejected {
				oc = "pre-rejected"
			}
		}
		outcomes[oc]++
		for _, f := range fv.Amb {
			ambSeen[f]++
		}
		refRule := ""
		if fv.Rule != nil {
			refRule = *fv.Rule
		}
		kind := ""
		switch {
		case rv.Accepted() != fv.OK:
			kind = "VERDICT"
		case rv.PreRejected != fv.Pre:
			kind = "PRE"
		case !fv.OK && !fv.Pre && rpRule(rv) != refRule && !contains(fv.Alt, rpRule(rv)):
			kind = "RULE"
		}
		if kind != "" {
			entryDiv = true
			report(kind, c, i, rpString(rv), refString(fv), fv.Amb, describe(c, res, &a))
		}
	}
	if !entryDiv {
		byRule := map[string]int{}
		for k, n := range res.ByRule {
			byRule[k] = n
		}
		refBy := a.ByRule
		if !entryDivAltOnly(res, &a) && (res.Accepted != a.Accepted || res.Rejected != a.Rejected || fmt.Sprint(byRule) != fmt.Sprint(sortedMap(refBy))) {
			report("COUNTS", c, -1, fmt.Sprintf("acc=%d rej=%d by=%v", res.Accepted, res.Rejected, byRule),
				fmt.Sprintf("acc=%d rej=%d by=%v", a.Accepted, a.Rejected, refBy), nil, describe(c, res, &a))
		}
	}
	if !a.OrderOK {
		report("ORDER", c, -1, fmt.Sprint("order ", res.Order), "order invalid: "+a.OrderWhy, nil, describe(c, res, &a))
	}
	// The same set in another order with another worker count must give the same verdicts.
	if !c.conflict {
		perm := r.Perm(len(c.items))
		ev2 := make([]*pdu.Event, len(perm))
		for j, p := range perm {
			ev2[j] = c.items[p].ev
		}
		w2 := 1 + (workers+r.Intn(3))%4
		res2, err := authrules.CheckAuthChain(c.v, ev2, &authrules.ChainOptions{Rejected: c.rejected, Workers: w2})
		tally["invariance reruns"]++
		if err != nil {
			report("INVARIANCE", c, -1, "error on rerun: "+err.Error(), "same result", nil, describe(c, res, &a))
			return
		}
		for j, p := range perm {
			x, y := res.Verdicts[p], res2.Verdicts[j]
			if x.Accepted() != y.Accepted() || x.PreRejected != y.PreRejected || rpRule(x) != rpRule(y) {
				report("INVARIANCE", c, p, fmt.Sprintf("workers %d: %s", workers, rpString(x)),
					fmt.Sprintf("workers %d, shuffled: %s", w2, rpString(y)), nil, describe(c, res, &a))
				break
			}
		}
	}
}

// entryDivAltOnly tells whether some entry agreed only through an alternative rule number, in
// which case the ByRule counts legitimately differ from the reference's preferred numbering.
func entryDivAltOnly(res *authrules.ChainResult, a *refAnswer) bool {
	for i, v := range res.Verdicts {
		f := a.Verdicts[i]
		if !v.Accepted() && !v.PreRejected && f.Rule != nil && rpRule(v) != *f.Rule {
			return true
		}
	}
	return false
}

func sortedMap(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func main() {
	n := flag.Int("n", 2000, "cases (sets)")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", strings.Join(pyref.Versions, ","), "room versions")
	flag.BoolVar(&decisions, "decisions", false, "the reference adopts docs/decisions.md readings (CHAINREF_DECISIONS=1)")
	outDir := flag.String("out", "", "directory for tally.tsv, coverage.txt and divergences.jsonl (none if empty)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	strict := flag.Bool("strict", false, "exit 1 on the known findings too")
	flag.Parse()
	if os.Getenv("CHAINREF_DECISIONS") == "1" {
		decisions = true
	}

	ref := pyref.MustStart(pyref.Beside("chainref.py"), pyref.Env(decisions, "CHAINREF_DECISIONS=1")...)
	versions := strings.Split(*vers, ",")
	r := rand.New(rand.NewSource(*seed))
	for i := 0; i < *n; i++ {
		vid := difftool.Pick(r, versions...)
		compare(r, ref, drawCase(r, vid))
	}
	ref.Close()

	var tallyText, covText strings.Builder
	for _, k := range difftool.SortedKeys(tally) {
		fmt.Fprintf(&tallyText, "%d\t%s\n", tally[k], k)
		fmt.Printf("%7d  %s\n", tally[k], k)
	}
	for _, k := range difftool.SortedKeys(outcomes) {
		fmt.Fprintf(&covText, "%d\toutcome %s\n", outcomes[k], k)
		fmt.Printf("%7d  outcome %s\n", outcomes[k], k)
	}
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Fprintf(&covText, "%d\tamb %s\n", ambSeen[k], k)
		fmt.Printf("%7d  amb %s\n", ambSeen[k], k)
	}
	for _, k := range difftool.SortedKeys(notes) {
		fmt.Printf("%7d  note %s\n", notes[k], k)
	}
	groups.Print(os.Stdout, *verbose, nil)
	if err := pyref.WriteRun(*outDir, tallyText.String(), covText.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		harness++
	}
	unknown := 0
	for k := range groups {
		if !strings.HasPrefix(k, "KNOWN(") {
			unknown++
		}
	}
	fmt.Printf("compared %d, harness errors %d, divergences %d (known %d), groups %d, unknown groups %d\n",
		compared, harness, diverged, knownDiv, len(groups), unknown)
	if harness > 0 || unknown > 0 || (*strict && len(groups) > 0) {
		os.Exit(1)
	}
}

// Command powerref compares roomproto's power levels and room state API — authrules.ParsePowerLevels,
// authrules.DefaultPowerLevels and every PowerLevels getter and comparison, authrules.NewState,
// State.Apply and the State accessors (Get, Membership, Members, AllMembers, Creators, JoinRules,
// PowerLevels, AuthEvents, Len, Events), authrules.ParseJoinRules, and membership.Authorisers /
// membership.AuthorisedServers — with an independent Python reference written from the spec text
// only (powerref.py in this directory).
//
//	go run ./tools/powerref -n 5000 -seed 1 [-decisions] [-versions 1,9,12] [-v] [-out DIR]
//
// Each case draws a room version 1-12 and one operation: power levels content (authgen's levels
// with integer strings, floats, huge values, non-integers, non-object maps, invalid user IDs),
// default levels for a list of creators, a room state built by NewState and a sequence of Apply
// calls (malformed memberships, duplicates, events of another room, non-state events, second
// creates, join rules of every shape), or join rules content. Every answer is compared key by key
// with the reference's; divergences are grouped by operation, answer kind and the reference's
// spec-silence tags. Exit status 1 on any divergence or harness error, 2 when python3 cannot be
// started.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// refResp is the reference's answer.
type refResp struct {
	OK     *bool                      `json:"ok"`
	Values map[string]json.RawMessage `json:"values"`
	Amb    map[string][]string        `json:"amb"`
	Tags   []string                   `json:"tags"`
	Why    string                     `json:"why"`
	Error  string                     `json:"error"`
}

// example is one divergent case, as printed and written to divergences.jsonl.
type example struct {
	Version   string `json:"version"`
	Op        string `json:"op"`
	Key       string `json:"key"`
	Roomproto string `json:"roomproto"`
	Reference string `json:"reference"`
	Amb       string `json:"amb,omitempty"`
	Input     string `json:"input"`
}

var (
	ref      *pyref.Process
	groups   = pyref.Groups[*example]{}
	tally    = map[string]int{}
	coverage = map[string]int{}
	harness  int
	diverged int
	compared int
	knownDiv int
	// knownFindings are the findings of the audit report (-known) whose cases are expected to
	// diverge until roomproto is fixed.
	knownFindings = map[string]bool{}
)

func ask(req any) refResp {
	var r refResp
	if err := ref.MustAsk(req, &r); err != nil {
		r.Error = err.Error()
	}
	return r
}

// norm re-encodes a JSON value so that equal values compare equal as strings.
func norm(b []byte) string {
	if b == nil {
		return "(absent)"
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return "(bad json " + string(b) + ")"
	}
	return string(difftool.Enc(x))
}

var argRE = regexp.MustCompile(`\(.*\)|#\d+`)

// family is a value key without its arguments: "UserLevel(@a:b)" -> "UserLevel".
func family(key string) string { return argRE.ReplaceAllString(key, "") }

// compare compares roomproto's values with the reference's, key by key.
func compare(vid, op string, rp map[string]any, rv refResp, input string) {
	compareKnown(vid, op, rp, rv, input, "")
}

// compareKnown is compare for a case of a known finding (named by -known, "" for none): its
// divergences are grouped under KNOWN and do not fail the run.
func compareKnown(vid, op string, rp map[string]any, rv refResp, input, known string) {
	keys := map[string]bool{}
	for k := range rp {
		keys[k] = true
	}
	for k := range rv.Values {
		keys[k] = true
	}
	for _, k := range difftool.SortedKeys(keys) {
		compared++
		a := "(absent)"
		if x, ok := rp[k]; ok {
			a = norm(difftool.Enc(x))
		}
		b := norm(rv.Values[k])
		for _, t := range rv.Amb[k] {
			coverage["amb "+op+" "+family(k)+" "+t]++
		}
		if a == b {
			continue
		}
		amb := strings.Join(rv.Amb[k], ",")
		gk := fmt.Sprintf("%s %s amb=%s", op, family(k), amb)
		if known != "" {
			knownDiv++
			gk = "KNOWN[" + known + "] " + gk
		} else {
			diverged++
		}
		ex := &example{Version: vid, Op: op, Key: k, Roomproto: difftool.Clip(a, 400), Reference: difftool.Clip(b, 400), Amb: amb, Input: difftool.Clip(input, 3000)}
		groups.Add(gk, vid, ex, len(input)+len(a))
	}
}

// plValues asks everything of a PowerLevels, under the reference's key names.
func plValues(pl *authrules.PowerLevels, p probe, prefix string, out map[string]any) {
	put := func(k string, v any) { out[prefix+k] = v }
	put("Exists", pl.Exists())
	put("UsersDefault", pl.UsersDefault())
	put("EventsDefault", pl.EventsDefault())
	put("StateDefault", pl.StateDefault())
	put("BanLevel", pl.BanLevel())
	put("KickLevel", pl.KickLevel())
	put("InviteLevel", pl.InviteLevel())
	put("RedactLevel", pl.RedactLevel())
	for _, u := range p.Users {
		put("UserLevel("+u+")", pl.UserLevel(u))
		n, ok := pl.UserLevelSet(u)
		put("UserLevelSet("+u+")", []any{n, ok})
		put("IsCreator("+u+")", pl.IsCreator(u))
	}
	us := pl.Users()
	if us == nil {
		us = map[string]int64{}
	}
	put("Users", us)
	for _, e := range p.Events {
		t, st := e[0].(string), e[1].(bool)
		kind := "msg"
		if st {
			kind = "state"
		}
		put(fmt.Sprintf("EventLevel(%s,%s)", t, kind), pl.EventLevel(t, st))
	}
	for _, k := range p.Notifs {
		put("NotificationLevel("+k+")", pl.NotificationLevel(k))
	}
	for _, pr := range p.Pairs {
		put(fmt.Sprintf("CompareUsers(%s,%s)", pr[0], pr[1]), pl.CompareUsers(pr[0], pr[1]))
	}
	n := min(3, len(p.Users))
	for _, u := range p.Users[:n] {
		for _, name := range append(slices.Clone(authgen.NamedLevels), "bogus") {
			c, ok := pl.CompareUserTo(u, name)
			put(fmt.Sprintf("CompareUserTo(%s,%s)", u, name), []any{c, ok})
		}
	}
}

func rawStrings(evs []*pdu.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, string(e.Raw()))
	}
	return out
}

// brief shows events as "type|state_key|sender|content|event ID" (and the room when it is
// another), enough to rebuild a case by hand.
func brief(evs []*pdu.Event) []string {
	out := []string{}
	for _, e := range evs {
		sk := "(none)"
		if e.StateKey != nil {
			sk = *e.StateKey
		}
		s := fmt.Sprintf("%s|%s|%s|%s|%s", e.Type, sk, e.Sender, e.Content, e.EventID)
		if e.RoomID != "" {
			s += "|room=" + e.RoomID
		}
		out = append(out, s)
	}
	return out
}

func ids(evs []*pdu.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.EventID)
	}
	return out
}

func runPL(r *rand.Rand, vid string) {
	v := authgen.Version(vid)
	b := &authgen.Builder{V: v, Ver: difftool.VerNum(vid), R: r, Edge: true}
	c := genPLContent(r, b)
	if b.Ver <= 9 && r.Intn(5) == 0 {
		c = genHugeContent(r, b.Ver)
	}
	content := difftool.Enc(c)
	known := ""
	if r.Intn(4) == 0 {
		s, nestedDup := rawPLContent(r, b.Ver)
		content = []byte(s)
		if nestedDup && knownFindings["nested-dup"] {
			known = "nested-dup"
		}
	}
	p := newProbe(r)
	rv := ask(map[string]any{"op": "pl", "v": vid, "content": string(content), "probe": p})
	if rv.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(rv.Error, 2000))
		return
	}
	pl, err := authrules.ParsePowerLevels(v, content)
	out := map[string]any{}
	refOK := rv.OK != nil && *rv.OK
	tally["v"+vid+" ParsePowerLevels"]++
	coverage[fmt.Sprintf("ParsePowerLevels valid=%v", err == nil)]++
	if (err == nil) != refOK {
		out["ParsePowerLevels"] = err == nil
		if err != nil {
			out["ParsePowerLevels"] = "invalid: " + err.Error()
		}
		rv.Values = map[string]json.RawMessage{"ParsePowerLevels": json.RawMessage(difftool.Enc(refOK))}
		if !refOK {
			rv.Values["ParsePowerLevels"] = json.RawMessage(difftool.Enc("invalid: " + rv.Why))
		}
		rv.Amb = map[string][]string{"ParsePowerLevels": rv.Tags}
		compareKnown(vid, "pl", out, rv, string(content), known)
		return
	}
	if err != nil {
		compared++
		return
	}
	plValues(pl, p, "", out)
	compareKnown(vid, "pl", out, rv, string(content), known)
}

// sweepContents are the contents of the deterministic sweep: every edge level in every kind of
// slot (a named level, a users entry, an events entry, a notifications entry), and every space
// code point before and after an integer string.
func sweepContents() []string {
	var out []string
	for _, l := range append(slices.Clone(edgeLevels), hugeStrings...) {
		out = append(out, `{"kick":`+l+`}`, `{"users":{"@bob:b.example":`+l+`}}`,
			`{"events":{"m.room.name":`+l+`}}`, `{"notifications":{"room":`+l+`}}`)
	}
	for _, l := range hugeNumbers {
		out = append(out, `{"users":{"@bob:b.example":`+l+`},"users_default":"9223372036854775808"}`)
	}
	for _, sp := range spaceRunes {
		for _, f := range []string{"%c42", "42%c", "%c-42%c", "%c+042"} {
			s, _ := json.Marshal(strings.ReplaceAll(f, "%c", string(sp)))
			out = append(out, `{"users":{"@bob:b.example":`+string(s)+`},"ban":`+string(s)+`}`)
		}
	}
	return out
}

// runSweep runs ParsePowerLevels on every sweep content in room version vid.
func runSweep(r *rand.Rand, vid string, content string) {
	v := authgen.Version(vid)
	p := probe{Users: []string{"@bob:b.example", "@alice:a.example"}, Events: probeEvents[:2], Notifs: probeNotifs[:1],
		Pairs: [][2]string{{"@bob:b.example", "@alice:a.example"}}}
	rv := ask(map[string]any{"op": "pl", "v": vid, "content": content, "probe": p})
	if rv.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(rv.Error, 2000))
		return
	}
	tally["v"+vid+" ParsePowerLevels (sweep)"]++
	pl, err := authrules.ParsePowerLevels(v, []byte(content))
	out := map[string]any{}
	refOK := rv.OK != nil && *rv.OK
	if (err == nil) != refOK {
		out["ParsePowerLevels"] = err == nil
		if err != nil {
			out["ParsePowerLevels"] = "invalid: " + err.Error()
		}
		rv.Values = map[string]json.RawMessage{"ParsePowerLevels": json.RawMessage(difftool.Enc(refOK))}
		if !refOK {
			rv.Values["ParsePowerLevels"] = json.RawMessage(difftool.Enc("invalid: " + rv.Why))
		}
		rv.Amb = map[string][]string{"ParsePowerLevels": rv.Tags}
		compare(vid, "sweep", out, rv, content)
		return
	}
	if err != nil {
		compared++
		return
	}
	plValues(pl, p, "", out)
	compare(vid, "sweep", out, rv, content)
}

func runDefault(r *rand.Rand, vid string) {
	v := authgen.Version(vid)
	var creators []string
	for _, u := range authgen.Users {
		if r.Intn(3) == 0 {
			creators = append(creators, u)
		}
	}
	p := newProbe(r)
	rv := ask(map[string]any{"op": "default", "v": vid, "creators": creators, "probe": p})
	if rv.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(rv.Error, 2000))
		return
	}
	tally["v"+vid+" DefaultPowerLevels"]++
	out := map[string]any{}
	plValues(authrules.DefaultPowerLevels(v, creators), p, "", out)
	compare(vid, "default", out, rv, string(difftool.Enc(creators)))
}

func runJoinRules(r *rand.Rand, vid string) {
	c := difftool.Pick(r, `{"join_rule":"public"}`, `{"join_rule":5}`, `{}`, `[]`, `"x"`, `null`,
		`{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!a:b.c"}]}`,
		`{"join_rule":"restricted","allow":[5,{"type":5},{"room_id":"!a:b.c"},{"type":"m.room_membership","room_id":null}]}`,
		`{"join_rule":"knock_restricted","allow":{"type":"m.room_membership"}}`, `{"join_rule":"invite","allow":null}`,
		`{"join_rule":"x","join_rule":"public"}`, `{"join_rule":""}`, `not json`)
	rv := ask(map[string]any{"op": "joinrules", "v": vid, "content": c})
	if rv.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(rv.Error, 2000))
		return
	}
	tally["v"+vid+" ParseJoinRules"]++
	out := map[string]any{"ParseJoinRules": jrValue(authrules.ParseJoinRules([]byte(c)))}
	compare(vid, "joinrules", out, rv, c)
}

func jrValue(j authrules.JoinRules) map[string]any {
	allow := [][2]string{}
	for _, a := range j.Allow {
		allow = append(allow, [2]string{a.Type, a.RoomID})
	}
	return map[string]any{"rule": j.Rule, "allow": allow}
}

func runState(r *rand.Rand, vid string) {
	v := authgen.Version(vid)
	sc := genState(r, vid)
	var extra []string
	p := newProbe(r, "notauser", "@zoe:z.example", "@x:c.example")
	for _, e := range append(slices.Clone(sc.Init), sc.Apply...) {
		if e.StateKey != nil {
			p.Get = append(p.Get, [2]string{e.Type, *e.StateKey})
		}
	}
	p.Get = append(p.Get, [2]string{"m.room.create", "x"}, [2]string{"m.room.member", ""})
	_ = extra
	servers := append(slices.Clone(authgen.Servers), "z.example", "nope.example")

	s, err := authrules.NewState(v, sc.Init)
	out := map[string]any{"NewState": err == nil}
	var rpApply []bool
	if err == nil {
		for i, e := range sc.Apply {
			aerr := s.Apply(e)
			rpApply = append(rpApply, aerr == nil)
			out[fmt.Sprintf("Apply#%d", i)] = aerr == nil
			kind := "same room"
			switch {
			case e.StateKey == nil:
				kind = "non-state"
			case e.RoomID != sc.Room && !(e.Type == pdu.TypeCreate && *e.StateKey == "" && "!"+e.EventID[1:] == sc.Room):
				kind = "other room"
				if e.RoomID == "" {
					kind = "v12 create of another room"
				}
			}
			coverage[fmt.Sprintf("Apply %s -> ok=%v", kind, aerr == nil)]++
		}
	} else {
		coverage["NewState error"]++
	}
	req := map[string]any{"op": "state", "v": vid, "room": sc.Room,
		"init": rawStrings(sc.Init), "init_ids": ids(sc.Init), "apply": rawStrings(sc.Apply), "apply_ids": ids(sc.Apply),
		"rp_init": err == nil, "rp_apply": rpApply, "probe": p, "cands": rawStrings(sc.Cands), "servers": servers}
	if rpApply == nil {
		req["rp_apply"] = []bool{}
	}
	rv := ask(req)
	if rv.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(rv.Error, 2000))
		return
	}
	tally["v"+vid+" State"]++
	coverage[fmt.Sprintf("NewState ok=%v", err == nil)]++
	for _, l := range sc.Labels {
		coverage["state event "+l]++
	}
	input := string(difftool.Enc(map[string]any{"room": sc.Room, "init": brief(sc.Init), "apply": brief(sc.Apply), "cands": brief(sc.Cands)}))
	if err != nil {
		compare(vid, "state", out, rv, input)
		return
	}
	evs := [][]string{}
	for _, e := range s.Events() {
		evs = append(evs, []string{e.Type, *e.StateKey, e.EventID})
	}
	out["Len"] = s.Len()
	out["Events"] = evs
	for _, g := range p.Get {
		var id any
		if e := s.Get(g[0], g[1]); e != nil {
			id = e.EventID
		}
		out[fmt.Sprintf("Get(%s,%s)", g[0], g[1])] = id
	}
	for _, u := range p.Users {
		out["Membership("+u+")"] = s.Membership(u)
	}
	for _, m := range []string{"join", "invite", "leave", "ban", "knock", "bogus"} {
		ms := s.Members(m)
		if ms == nil {
			ms = []string{}
		}
		out["Members("+m+")"] = ms
		all := []string{}
		for u := range s.AllMembers(m) {
			all = append(all, u)
		}
		sort.Strings(all)
		out["AllMembers("+m+")"] = all
	}
	cr := s.Creators()
	if cr == nil && s.Create() != nil {
		cr = []string{} // a create event naming no creator: the same JSON as the reference's
	}
	out["Creators"] = cr
	out["JoinRules"] = jrValue(s.JoinRules())
	plValues(s.PowerLevels(), p, "PL.", out)
	for i, c := range sc.Cands {
		ae, aerr := s.AuthEvents(c)
		if aerr != nil {
			out[fmt.Sprintf("AuthEvents#%d", i)] = "error: " + aerr.Error()
			continue
		}
		out[fmt.Sprintf("AuthEvents#%d", i)] = ids(ae)
	}
	for _, srv := range servers {
		a := membership.Authorisers(s, srv)
		if a == nil {
			a = []string{}
		}
		out["Authorisers("+srv+")"] = a
	}
	as := membership.AuthorisedServers(s)
	if as == nil {
		as = []string{}
	}
	out["AuthorisedServers"] = as
	compare(vid, "state", out, rv, input)
}

// knownGroups counts the groups of known findings.
func knownGroups() int {
	n := 0
	for k := range groups {
		if strings.HasPrefix(k, "KNOWN[") {
			n++
		}
	}
	return n
}

func main() {
	n := flag.Int("n", 3000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", strings.Join(pyref.Versions, ","), "room versions")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings (POWERREF_DECISIONS=1)")
	outDir := flag.String("out", "", "directory for tally.tsv, coverage.txt and divergences.jsonl (none if empty)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	sweep := flag.Bool("sweep", true, "also run the deterministic sweep of edge levels and space code points in every version")
	known := flag.String("known", "", "comma-separated known findings whose divergences do not fail the run: nested-dup")
	flag.Parse()
	for _, k := range strings.Split(*known, ",") {
		if k != "" {
			knownFindings[k] = true
		}
	}

	ref = pyref.MustStart(pyref.Beside("powerref.py"), pyref.Env(*decisions, "POWERREF_DECISIONS=1")...)
	versions := strings.Split(*vers, ",")
	r := rand.New(rand.NewSource(*seed))
	if *sweep {
		contents := sweepContents()
		for _, vid := range versions {
			for _, c := range contents {
				runSweep(r, vid, c)
			}
		}
	}
	for i := 0; i < *n; i++ {
		vid := difftool.Pick(r, versions...)
		switch x := r.Float64(); {
		case x < 0.5:
			runPL(r, vid)
		case x < 0.58:
			runDefault(r, vid)
		case x < 0.63:
			runJoinRules(r, vid)
		default:
			runState(r, vid)
		}
	}
	if err := ref.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		harness++
	}

	var tb strings.Builder
	for _, k := range difftool.SortedKeys(tally) {
		fmt.Fprintf(&tb, "%s\t%d\n", k, tally[k])
	}
	var cb strings.Builder
	for _, k := range difftool.SortedKeys(coverage) {
		fmt.Fprintf(&cb, "%6d  %s\n", coverage[k], k)
	}
	if err := pyref.WriteRun(*outDir, tb.String(), cb.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Print(tb.String())
	groups.Print(os.Stdout, *verbose, nil)
	if knownDiv > 0 {
		fmt.Printf("divergences of known findings (-known): %d\n", knownDiv)
	}
	fmt.Printf("cases %d, values compared %d, harness errors %d, divergences %d, groups %d\n", *n, compared, harness, diverged, len(groups)-knownGroups())
	if harness > 0 || diverged > 0 {
		os.Exit(1)
	}
}

// Command authref compares roomproto's authrules.CheckWithOptions with an independent
// Python reference of the Matrix authorization rules (authref.py in this directory, written
// from the spec text only) on rooms and candidate events from tools/internal/authgen, plus
// content mutations of its own (mutate.go).
//
//	go run ./tools/authref -n 20000 -seed 1 [-versions 1,6,8,10,11,12] [-out /tmp/authref]
//
// It prints a tally per room version and event kind and writes every divergence (grouped,
// with the first and the smallest example) to -out/divergences.jsonl. Exit status 1 when the
// harness failed on a case, or, with -decisions, when any divergence remains; 2 when the
// Python reference cannot be started.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

type refReq struct {
	V        string            `json:"v"`
	Ev       json.RawMessage   `json:"ev"`
	EvID     string            `json:"ev_id"`
	Auth     []json.RawMessage `json:"auth"`
	AuthIDs  []string          `json:"auth_ids"`
	Create   json.RawMessage   `json:"create"`
	CreateID *string           `json:"create_id"`
	NoRule2  bool              `json:"no_rule2,omitempty"`
	Op       string            `json:"op,omitempty"`
	Rejected []string          `json:"rejected_ids,omitempty"`
}

type refResp struct {
	Allow bool         `json:"allow"`
	Rule  *string      `json:"rule"`
	Why   string       `json:"why"`
	Amb   []string     `json:"amb"`
	Error string       `json:"error"`
	Keys  [][2]*string `json:"keys"`
}

type verdict struct {
	Allow bool   `json:"allow"`
	Rule  string `json:"rule,omitempty"`
	Why   string `json:"why,omitempty"`
}

type example struct {
	Version string            `json:"version"`
	Label   string            `json:"label"`
	Pert    string            `json:"pert,omitempty"`
	Mut     string            `json:"mutation,omitempty"`
	Event   json.RawMessage   `json:"event"`
	Auth    []json.RawMessage `json:"auth_events"`
	Create  json.RawMessage   `json:"create,omitempty"`
	RP      verdict           `json:"roomproto"`
	Ref     verdict           `json:"reference"`
	Amb     []string          `json:"amb,omitempty"`
	size    int
}

func main() {
	n := flag.Int("n", 20000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", "1,2,3,4,5,6,7,8,9,10,11,12", "room versions")
	outDir := flag.String("out", "/tmp/authref", "output directory")
	mutP := flag.Float64("mut", 0.35, "probability of a content mutation")
	stateP := flag.Float64("statemut", 0.3, "probability of a room state mutation")
	statePath := flag.Bool("state", true, "also compare State.CheckWithOptions (NewState over the auth events) on unperturbed cases")
	only := flag.String("only", "", "draw candidates until their authgen label contains this (e.g. +3pid, member:knock)")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings (AUTHREF_DECISIONS=1)")
	flag.Parse()

	ref := pyref.MustStart(pyref.Beside("authref.py"), pyref.Env(*decisions, "AUTHREF_DECISIONS=1")...)
	ask := func(req refReq) refResp {
		var r refResp
		ref.MustAsk(req, &r)
		return r
	}

	versions := strings.Split(*vers, ",")
	r := rand.New(rand.NewSource(*seed))
	type tally struct{ cases, agree, ruleSame, diverge int }
	tallies := map[string]*tally{}
	groups := pyref.Groups[*example]{}
	var skipped, harness int
	ambSeen := map[string]int{}
	ruleSeen := map[string]int{}
	for i := 0; i < *n; i++ {
		vid := difftool.Pick(r, versions...)
		b := &authgen.Builder{V: authgen.Version(vid), Ver: difftool.VerNum(vid), R: r, N: i * 1000,
			Focus: r.Intn(2) == 0, Edge: r.Intn(3) == 0, HistoryVisibility: r.Intn(2) == 0}
		perturbed := r.Intn(4) == 0
		rm := b.GenRoom()
		c := b.GenCand(rm)
		for tries := 0; *only != "" && !strings.Contains(c.Label, *only) && tries < 500; tries++ {
			b.RoomID = ""
			rm = b.GenRoom()
			c = b.GenCand(rm)
		}
		final, auth, pert, err := b.Assemble(rm, c, perturbed)
		if err != nil {
			skipped++
			continue
		}
		mut := ""
		if r.Float64() < *mutP {
			var c2 authgen.Cand
			c2, mut = mutate(b, rm, c)
			if mut != "" {
				var ids []string
				for _, a := range auth {
					ids = append(ids, a.ID)
				}
				final = b.Mk(c2.Type, c2.Sender, c2.StateKey, difftool.CopyM(c2.Content), ids, c2.Opts)
				c = c2
			}
		}
		if r.Float64() < *stateP {
			var lab string
			auth, lab = mutateState(b, rm, auth)
			if lab != "" {
				var ids []string
				for _, a := range auth {
					ids = append(ids, a.ID)
				}
				final = b.Mk(c.Type, c.Sender, c.StateKey, difftool.CopyM(c.Content), ids, c.Opts)
				if mut != "" {
					mut += ","
				}
				mut += lab
			}
		}
		createEv := rm.Create
		if b.Ver >= 12 && r.Intn(40) == 0 {
			if c.Type == "m.room.create" {
				m := difftool.Decode(final.Raw)
				m["room_id"] = b.Pick(b.Room(), "!x:a.example").(string)
				raw := difftool.Enc(m)
				id, _ := signing.EventID(b.V, raw)
				final = &authgen.Event{Raw: raw, ID: id, Type: final.Type, StateKey: final.StateKey}
				mut += ",v12-create-room_id"
			} else {
				createEv = b.Mk("m.room.create", authgen.Users[r.Intn(3)], authgen.Sp(""), M{"room_version": "12"}, nil, authgen.Opts{})
				mut += ",v12-other-create"
			}
		}
		var rejected []string
		if r.Intn(30) == 0 {
			if b.Ver >= 12 && r.Intn(3) == 0 {
				rejected = append(rejected, createEv.ID)
			} else if len(auth) > 0 {
				rejected = append(rejected, auth[r.Intn(len(auth))].ID)
			}
			if len(rejected) > 0 {
				mut += ",rejected"
			}
		}
		pv, perr := runRP(b, createEv, final, auth, rejected)
		if perr != nil {
			skipped++ // not a PDU (format) for roomproto: not compared
			continue
		}
		req := refReq{V: vid, Ev: final.Raw, EvID: final.ID, Rejected: rejected}
		for _, a := range auth {
			req.Auth = append(req.Auth, a.Raw)
			req.AuthIDs = append(req.AuthIDs, a.ID)
		}
		if req.Auth == nil {
			req.Auth = []json.RawMessage{}
			req.AuthIDs = []string{}
		}
		var createRaw json.RawMessage
		if b.Ver >= 12 && c.Type != "m.room.create" {
			createRaw = createEv.Raw
			req.Create = createRaw
			id := createEv.ID
			req.CreateID = &id
		}
		rv := ask(req)
		if rv.Error != "" {
			harness++
			fmt.Fprintln(os.Stderr, "reference error:", rv.Error, string(final.Raw))
			continue
		}
		for _, f := range rv.Amb {
			ambSeen[f]++
		}
		if rv.Rule != nil {
			ruleSeen["v"+vid+" "+*rv.Rule]++
		}
		if c.Type != "m.room.create" {
			if d := compareSelection(b, final, ask, req); d != "" {
				key := "SELECTION v" + vid + " " + kindOf(c.Label) + " " + d
				groups.Add(key, vid, &example{Version: vid, Label: c.Label, Mut: mut, Event: final.Raw}, 0)
			}
		}
		kind := kindOf(c.Label)
		tk := "v" + vid + " " + kind
		t := tallies[tk]
		if t == nil {
			t = &tally{}
			tallies[tk] = t
		}
		t.cases++
		ref := verdict{Allow: rv.Allow, Why: rv.Why}
		if rv.Rule != nil {
			ref.Rule = *rv.Rule
		}
		stateDiv := false
		var sv, stateRef verdict
		var stateAmb []string
		if pert == "" && *statePath {
			var serr error
			sv, serr = runRPState(b, createEv, final, auth, rejected)
			if serr != nil {
				sv = verdict{Rule: "state-error", Why: serr.Error()}
			}
			req2 := req
			req2.NoRule2 = true
			rv2 := ask(req2)
			// NewState refuses a state whose events are of two rooms (an error, not a
			// rejection): then only the verdict is compared.
			if sv.Allow != rv2.Allow || sv.Rule != "state-error" && (rv2.Rule == nil || sv.Rule != *rv2.Rule) {
				stateDiv = true
				ref2 := verdict{Allow: rv2.Allow, Why: rv2.Why}
				if rv2.Rule != nil {
					ref2.Rule = *rv2.Rule
				}
				stateRef = ref2
				stateAmb = rv2.Amb
			}
		}
		if stateDiv {
			ex := &example{Version: vid, Label: c.Label, Pert: pert, Mut: mut, Event: final.Raw, Create: createRaw,
				RP: sv, Ref: stateRef, Amb: stateAmb}
			ex.addAuth(auth)
			key := fmt.Sprintf("STATE v%s %s rp=%s ref=%s amb=%s", vid, kindOf(c.Label), short(sv), short(stateRef), strings.Join(stateAmb, ","))
			groups.Add(key, vid, ex, ex.size)
		}
		if pv.Allow == ref.Allow {
			t.agree++
			if pv.Rule == ref.Rule { // the rule that allowed or rejected
				t.ruleSame++
				continue
			}
		} else {
			t.diverge++
		}
		ex := &example{Version: vid, Label: c.Label, Pert: pert, Mut: mut, Event: final.Raw, Create: createRaw,
			RP: pv, Ref: ref, Amb: rv.Amb}
		ex.size = len(final.Raw)
		ex.addAuth(auth)
		what := "VERDICT"
		if pv.Allow == ref.Allow {
			what = "rule-only"
		}
		key := fmt.Sprintf("%s v%s %s rp=%s ref=%s amb=%s", what, vid, kind, short(pv), short(ref), strings.Join(rv.Amb, ","))
		groups.Add(key, vid, ex, ex.size)
	}
	ref.Close()

	var keys []string
	for k := range tallies {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		vi, vj := difftool.VerNum(strings.Fields(keys[i])[0][1:]), difftool.VerNum(strings.Fields(keys[j])[0][1:])
		if vi != vj {
			return vi < vj
		}
		return keys[i] < keys[j]
	})
	var tallyText strings.Builder
	fmt.Fprintf(&tallyText, "version_kind\tcases\tverdict_agree\trule_agree\tverdict_diverge\n")
	total := 0
	for _, k := range keys {
		t := tallies[k]
		total += t.cases
		fmt.Fprintf(&tallyText, "%s\t%d\t%d\t%d\t%d\n", k, t.cases, t.agree, t.ruleSame, t.diverge)
	}
	var covText strings.Builder
	for _, m := range []map[string]int{ambSeen, ruleSeen} {
		for _, k := range difftool.SortedKeys(m) {
			fmt.Fprintf(&covText, "%d\t%s\n", m[k], k)
		}
	}
	gs := groups.Sorted()
	if err := pyref.WriteRun(*outDir, tallyText.String(), covText.String(), gs); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	for _, g := range gs {
		fmt.Printf("%5d  %s\n", g.Count, g.Key)
	}
	fmt.Printf("compared %d, skipped %d (not PDUs), harness errors %d, groups %d\n", total, skipped, harness, len(gs))
	// With the decisions adopted the two must agree everywhere; without them the divergences
	// are the spec-silent corners, each tagged with its amb flag.
	if harness > 0 || (*decisions && len(gs) > 0) {
		os.Exit(1)
	}
}

func kindOf(label string) string {
	parts := strings.SplitN(label, ":", 3)
	if parts[0] == "member" && len(parts) > 1 {
		k := "member:" + parts[1]
		if strings.Contains(label, "+3pid") {
			k += "+3pid"
		}
		if strings.Contains(label, "+authvia") {
			k += "+authvia"
		}
		return k
	}
	return parts[0]
}

func short(v verdict) string {
	if v.Allow {
		return "ALLOW"
	}
	return "REJECT:" + v.Rule
}

// addAuth records the auth events of an example and counts their bytes in its size.
func (ex *example) addAuth(auth []*authgen.Event) {
	for _, a := range auth {
		ex.Auth = append(ex.Auth, a.Raw)
		ex.size += len(a.Raw)
	}
}

// parseAll parses generated events for the builder's room version, with their event IDs.
func parseAll(b *authgen.Builder, events []*authgen.Event) ([]*pdu.Event, error) {
	var out []*pdu.Event
	for _, a := range events {
		pe, err := signing.ParseEvent(b.V, a.Raw)
		if err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	return out, nil
}

func runRP(b *authgen.Builder, create *authgen.Event, final *authgen.Event, auth []*authgen.Event, rejected []string) (verdict, error) {
	e, err := signing.ParseEvent(b.V, final.Raw)
	if err != nil {
		return verdict{}, err
	}
	aes, err := parseAll(b, auth)
	if err != nil {
		return verdict{}, fmt.Errorf("auth event: %w", err)
	}
	var allowedBy string
	opts := authrules.Options{Allowed: func(rule string) { allowedBy = rule }}
	if len(rejected) > 0 {
		opts.Rejected = map[string]bool{}
		for _, id := range rejected {
			opts.Rejected[id] = true
		}
	}
	if b.Ver >= 12 && e.Type != "m.room.create" {
		ce, err := signing.ParseEvent(b.V, create.Raw)
		if err != nil {
			return verdict{}, err
		}
		opts.Create = ce
	}
	err = authrules.CheckWithOptions(b.V, e, aes, opts)
	if err == nil {
		return verdict{Allow: true, Rule: allowedBy}, nil
	}
	var rj *authrules.Rejection
	if errors.As(err, &rj) {
		return verdict{Rule: rj.Rule, Why: rj.Reason}, nil
	}
	return verdict{Rule: "error", Why: err.Error()}, nil
}

func runRPState(b *authgen.Builder, create *authgen.Event, final *authgen.Event, auth []*authgen.Event, rejected []string) (verdict, error) {
	e, err := signing.ParseEvent(b.V, final.Raw)
	if err != nil {
		return verdict{}, err
	}
	evs, err := parseAll(b, auth)
	if err != nil {
		return verdict{}, err
	}
	if b.Ver >= 12 && e.Type != "m.room.create" {
		ce, err := signing.ParseEvent(b.V, create.Raw)
		if err != nil {
			return verdict{}, err
		}
		evs = append(evs, ce)
	}
	st, err := authrules.NewState(b.V, evs)
	if err != nil {
		return verdict{}, err
	}
	var allowedBy string
	opts := authrules.Options{Allowed: func(rule string) { allowedBy = rule }}
	if len(rejected) > 0 {
		opts.Rejected = map[string]bool{}
		for _, id := range rejected {
			opts.Rejected[id] = true
		}
	}
	err = st.CheckWithOptions(e, opts)
	if err == nil {
		return verdict{Allow: true, Rule: allowedBy}, nil
	}
	var rj *authrules.Rejection
	if errors.As(err, &rj) {
		return verdict{Rule: rj.Rule, Why: rj.Reason}, nil
	}
	return verdict{Rule: "error", Why: err.Error()}, nil
}

// compareSelection compares authrules.AuthEventsNeeded with the reference's auth events
// selection; it returns "" when they agree.
func compareSelection(b *authgen.Builder, final *authgen.Event, ask func(refReq) refResp, req refReq) string {
	e, err := signing.ParseEvent(b.V, final.Raw)
	if err != nil {
		return ""
	}
	need, err := authrules.AuthEventsNeeded(b.V, e)
	if err != nil {
		return "rp-error " + err.Error()
	}
	var rp []string
	for _, k := range need {
		rp = append(rp, k.Type+"|"+k.StateKey)
	}
	sort.Strings(rp)
	req.Op = "select"
	rv := ask(req)
	var ref []string
	for _, k := range rv.Keys {
		if k[0] == nil || k[1] == nil {
			ref = append(ref, "<nil>")
			continue
		}
		ref = append(ref, *k[0]+"|"+*k[1])
	}
	sort.Strings(ref)
	if strings.Join(rp, ",") == strings.Join(ref, ",") {
		return ""
	}
	return "rp=[" + strings.Join(rp, ",") + "] ref=[" + strings.Join(ref, ",") + "]"
}

// Command redactref compares roomproto's handling of a received m.room.redaction
// (redaction.Decide, redaction.DecideCompared and redaction.ApplyRedaction) with an independent
// Python reference written from the spec text only (redactref.py in this directory).
//
//	go run ./tools/redactref -n 20000 -seed 1 [-decisions] [-versions 1,2,11] [-out DIR] [-v]
//
// It draws random redaction/target pairs over room versions 1-12: senders of the same or
// another server than the target's sender, power levels around the redact level, missing
// targets, mismatched IDs and rooms, every kind of target (messages, state events, the create
// event, other redactions) and odd `redacts` values (absent, misplaced, not a string, empty,
// not an event ID). Per case it compares: the decision (Apply, WaitForTarget, Ignore) of
// Decide and of DecideCompared with the reference's, the category of the reason, the event IDs,
// and, when the target is there, the bytes or error category of ApplyRedaction.
//
// Divergences are grouped; each group is printed with its smallest example (-v adds the first;
// DIR/divergences.jsonl has both). Exit status 1 on any divergence or harness error, 2 when the
// reference cannot be started.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

var (
	// servers of the senders: a port makes another server name, and server names are
	// case-sensitive (appendices "Server Name").
	servers  = []string{"a.example", "b.example", "a.example:8448", "A.example", "c.example"}
	locals   = []string{"alice", "bob", "carol"}
	msgTypes = []string{"m.room.message", "m.room.encrypted", "m.reaction", "com.example.event",
		"m.room.power_levels", "m.room.member", "m.room.redaction"}
	stateTypes = []string{"m.room.member", "m.room.power_levels", "m.room.join_rules",
		"m.room.history_visibility", "m.room.aliases", "m.room.name", "m.room.topic",
		"m.room.server_acl", "m.room.third_party_invite", "com.example.state", "m.room.create",
		"m.room.redaction"}
)

type refReq struct {
	Op         string  `json:"op"`
	V          string  `json:"v,omitempty"`
	Redaction  string  `json:"redaction,omitempty"`
	RedactionV string  `json:"redaction_v,omitempty"`
	Target     *string `json:"target"`
	TargetV    string  `json:"target_v,omitempty"`
	Cmp        int     `json:"cmp"`
	// TargetIDUnset: the target was parsed with pdu.Parse, which leaves EventID empty from v3.
	TargetIDUnset bool   `json:"target_id_unset,omitempty"`
	Event         string `json:"event,omitempty"`
}

type refResp struct {
	Decision    string   `json:"decision"`
	Why         string   `json:"why"`
	Whys        []string `json:"whys"`
	Amb         []string `json:"amb"`
	RedactionID string   `json:"redaction_id"`
	TargetID    string   `json:"target_id"`
	OK          *string  `json:"ok"`
	Err         string   `json:"err"`
	Errs        []string `json:"errs"`
	ID          string   `json:"id"`
	Error       string   `json:"error"`
}

type example struct {
	Version   string   `json:"version"`
	Label     string   `json:"label"`
	Redaction string   `json:"redaction"`
	Target    *string  `json:"target"`
	TargetV   string   `json:"target_v,omitempty"`
	Levels    [2]int64 `json:"sender_and_redact_level"`
	RP        string   `json:"roomproto"`
	Ref       string   `json:"reference"`
	Amb       []string `json:"amb,omitempty"`
}

// tcase is one generated pair.
type tcase struct {
	v, tv       string
	callV       string     // the version Decide is called with (the redaction's, but 1 time in 50)
	red, tgt    *pdu.Event // tgt nil: not received
	spl, rl     int64
	label       string
	parseFailed string
	// the events were parsed with pdu.Parse: from v3 their EventID is empty
	redIDUnset, tgtIDUnset bool
}

func main() {
	var fl pyref.Flags
	fl.Define(flag.CommandLine, 20000, "REDACTREF_DECISIONS", false, "")
	fl.DefineOut(flag.CommandLine)
	flag.Parse()

	ref := fl.Start(pyref.Beside("redactref.py"))
	ask := func(req refReq) (r refResp) {
		ref.MustAskNote(req, &r, &r.Error)
		return r
	}

	versions := fl.VersionList()
	r := fl.Rand()
	type tally struct{ cases, apply, wait, ignore, applied, diverge int }
	tallies := map[string]*tally{}
	groups := pyref.Groups[*example]{}
	coverage := map[string]int{}
	reasons := map[string]map[string]int{} // reference category -> roomproto reason -> count
	var skipped, harness, total, divs int
	for i := 0; i < fl.N; i++ {
		vid := difftool.Pick(r, versions...)
		c := genCase(r, vid, i)
		if c.parseFailed != "" {
			skipped++
			coverage["skipped (pdu.Parse): "+c.parseFailed]++
			continue
		}
		total++
		t := tallies[vid]
		if t == nil {
			t = &tally{}
			tallies[vid] = t
		}
		t.cases++
		req := refReq{Op: "decide", V: c.callV, Redaction: string(c.red.Raw()), RedactionV: c.v, Cmp: cmp64(c.spl, c.rl)}
		if c.tgt != nil {
			s := string(c.tgt.Raw())
			req.Target = &s
			req.TargetV = c.tv
			req.TargetIDUnset = c.tgtIDUnset
		}
		rv := ask(req)
		if rv.Error != "" {
			harness++
			fmt.Fprintln(os.Stderr, "reference error:", rv.Error)
			continue
		}
		ver := authgen.Version(c.callV)
		d1, why1 := redaction.Decide(ver, c.red, c.tgt, c.spl, c.rl)
		d2, why2 := redaction.DecideCompared(ver, c.red, c.tgt, cmp64(c.spl, c.rl)*(1+r.Intn(1000)))
		rp := decName(d1)
		switch rv.Decision {
		case "apply":
			t.apply++
		case "wait":
			t.wait++
		default:
			t.ignore++
		}
		coverage["decision "+rv.Decision+" ("+rv.Why+")"]++
		for _, f := range rv.Amb {
			coverage["amb "+f]++
		}
		if reasons[rv.Why] == nil {
			reasons[rv.Why] = map[string]int{}
		}
		reasons[rv.Why][category(why1)]++

		var diffs []string // kind, roomproto, reference
		add := func(kind, a, b string) { diffs = append(diffs, kind, a, b) }
		if rp != rv.Decision {
			add("DECISION", rp+" ("+why1+")", rv.Decision+" ("+rv.Why+")")
		}
		if cat := category(why1); rp == rv.Decision && !slices.Contains(rv.Whys, cat) {
			add("REASON", rp+" ("+cat+": "+why1+")", rv.Decision+" ("+strings.Join(rv.Whys, "|")+")")
		}
		if d2 != d1 {
			add("DECIDE-vs-COMPARED", decName(d1)+" ("+why1+")", decName(d2)+" ("+why2+")")
		}
		if c.red.EventID != rv.RedactionID && !c.redIDUnset {
			add("EVENTID redaction", c.red.EventID, rv.RedactionID)
		}
		if c.tgt != nil && c.tgt.EventID != rv.TargetID && !c.tgtIDUnset {
			add("EVENTID target", c.tgt.EventID, rv.TargetID)
		}
		if c.tgt != nil {
			req.Op = "apply"
			av := ask(req)
			if av.Error != "" {
				harness++
				fmt.Fprintln(os.Stderr, "reference error:", av.Error)
				continue
			}
			for _, f := range av.Amb {
				coverage["apply amb "+f]++
			}
			out, err := redaction.ApplyRedaction(c.tgt, c.red)
			rpA, refA := applyName(out, err), "error "+av.Err
			if av.OK != nil {
				refA = "ok"
				if rv.Decision == "apply" {
					t.applied++
				}
			}
			coverage["apply "+refA]++
			switch {
			case rpA != refA:
				add("APPLY", rpA, refA+" "+strings.Join(av.Errs, "+"))
			case av.OK != nil && string(out) != *av.OK:
				add("APPLY-BYTES", string(out), *av.OK)
			}
		}
		if len(diffs) == 0 {
			continue
		}
		t.diverge++
		divs++
		for k := 0; k < len(diffs); k += 3 {
			ex := &example{Version: c.v, Label: c.label, Redaction: string(c.red.Raw()), Target: req.Target,
				Levels: [2]int64{c.spl, c.rl}, RP: diffs[k+1], Ref: diffs[k+2], Amb: rv.Amb}
			if c.tv != c.v {
				ex.TargetV = c.tv
			}
			size := len(ex.Redaction) + len(ex.RP)
			if ex.Target != nil {
				size += len(*ex.Target)
			}
			key := diffs[k]
			switch key {
			case "REASON":
				key += fmt.Sprintf(": roomproto %s, reference %s", category(why1), strings.Join(rv.Whys, "|"))
			case "DECISION", "DECIDE-vs-COMPARED", "APPLY":
				key += fmt.Sprintf(": roomproto %s, reference %s", pyref.StripDetail(diffs[k+1]), diffs[k+2])
			case "APPLY-BYTES":
				key += " target=" + c.tgt.Type
			}
			if len(rv.Amb) > 0 {
				key += " amb=" + strings.Join(rv.Amb, ",")
			}
			groups.Add(key, c.v, ex, size)
		}
	}
	ref.Close()

	keys := difftool.SortedKeys(tallies)
	sort.Slice(keys, func(i, j int) bool { return difftool.VerNum(keys[i]) < difftool.VerNum(keys[j]) })
	var tallyText strings.Builder
	fmt.Fprintf(&tallyText, "version\tcases\tapply\twait\tignore\tapplied_bytes\tdiverge\n")
	for _, k := range keys {
		t := tallies[k]
		fmt.Fprintf(&tallyText, "v%s\t%d\t%d\t%d\t%d\t%d\t%d\n", k, t.cases, t.apply, t.wait, t.ignore, t.applied, t.diverge)
	}
	var covText strings.Builder
	for _, k := range difftool.SortedKeys(coverage) {
		fmt.Fprintf(&covText, "%d\t%s\n", coverage[k], k)
	}
	for _, w := range difftool.SortedKeys(reasons) {
		for _, s := range difftool.SortedKeys(reasons[w]) {
			fmt.Fprintf(&covText, "%d\treason %s <- roomproto %q\n", reasons[w][s], w, s)
		}
	}
	if err := pyref.WriteRun(fl.Out, tallyText.String(), covText.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	groups.Print(os.Stdout, fl.Verbose, nil)
	fmt.Printf("compared %d, skipped %d (not a PDU), harness errors %d, divergences %d, groups %d\n",
		total, skipped, harness, divs, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func decName(d redaction.Decision) string {
	switch d {
	case redaction.Apply:
		return "apply"
	case redaction.WaitForTarget:
		return "wait"
	case redaction.Ignore:
		return "ignore"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

func applyName(out []byte, err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, redaction.ErrNotRedaction):
		return "error not-redaction"
	case errors.Is(err, redaction.ErrWrongTarget):
		return "error wrong-target"
	}
	return "error other: " + err.Error()
}

// reasonCategories maps the words of Decide's reasons to the reference's categories; the
// reasons were seen in runs (they are not documented), and one that matches none is "other".
var reasonCategories = []struct{ words, cat string }{
	{"different room versions", "version"},
	{"was parsed for room version", "version"},
	{"not an m.room.redaction", "not-redaction"},
	{"no redacts", "no-redacts"},
	{"rule 11.3", "rule-11"},
	{"rule 11.2", "event-id-domain"},
	{"not received yet", "no-target"},
	{"is not the redacted event", "other-id"},
	{"target event ID unknown", "other-id"},
	{"in another room", "other-room"},
	{"at or above the redact level", "power"},
	{"of the same domain as the target's sender", "same-domain"},
	{"of another domain than the target's sender", "not-allowed"},
}

// category is the reference's category of a reason of Decide.
func category(why string) string {
	for _, c := range reasonCategories {
		if strings.Contains(why, c.words) {
			return c.cat
		}
	}
	return "other"
}

// --- generation --------------------------------------------------------------------------------

// gen builds the events of one case.
type gen struct {
	r   *rand.Rand
	ver int
	n   int
}

func (g *gen) hashID(s string) string {
	h := sha256.Sum256([]byte(s))
	if g.ver == 3 {
		return "$" + difftool.B64(h[:])
	}
	return "$" + difftool.B64URL(h[:])
}

// refs is a prev_events / auth_events list of one ID in the version's format.
func (g *gen) refs(tag string) []any {
	if g.ver <= 2 {
		return []any{[]any{"$" + tag + ":a.example", M{"sha256": authgen.DummyHash}}}
	}
	return []any{g.hashID(tag)}
}

// event returns an event of version g.ver; idDomain is the domain of a v1-2 event_id.
func (g *gen) event(typ, sender string, sk *string, content M, room, idDomain string) M {
	g.n++
	ev := M{
		"type": typ, "sender": sender, "content": content,
		"origin_server_ts": int64(1700000000000 + g.n), "depth": g.n + 1,
		"hashes":      M{"sha256": authgen.DummyHash},
		"signatures":  M{difftool.DomainOf(sender): M{"ed25519:1": authgen.DummySig}},
		"prev_events": g.refs(fmt.Sprintf("p%d", g.n)),
		"auth_events": g.refs(fmt.Sprintf("a%d", g.n)),
	}
	if room != "" {
		ev["room_id"] = room
	}
	if sk != nil {
		ev["state_key"] = *sk
	}
	if g.ver <= 2 {
		ev["event_id"] = fmt.Sprintf("$e%d_%d:%s", g.n, g.r.Intn(1000), idDomain)
	}
	if g.ver <= 10 && g.r.Intn(4) == 0 {
		ev["origin"] = difftool.DomainOf(sender)
	}
	if g.r.Intn(4) == 0 {
		ev["unsigned"] = M{"age": 5, "transaction_id": "t1"}
	}
	if g.r.Intn(10) == 0 {
		ev["prev_state"] = []any{}
	}
	if g.r.Intn(10) == 0 {
		ev["membership"] = "join"
	}
	return ev
}

func (g *gen) user() string {
	return "@" + difftool.Pick(g.r, locals...) + ":" + difftool.Pick(g.r, servers...)
}

// content draws the content of a target of type typ, with kept and stripped keys.
func (g *gen) content(typ, sender string) M {
	c := M{"body": "hello", "x": M{"nested": []any{1, "two"}}}
	switch typ {
	case "m.room.member":
		c["membership"] = difftool.Pick(g.r, "join", "leave", "invite", "ban", "knock")
		c["displayname"] = "Name"
		if g.r.Intn(3) == 0 {
			c["join_authorised_via_users_server"] = "@alice:a.example"
		}
		if g.r.Intn(3) == 0 {
			c["third_party_invite"] = M{"display_name": "x", "signed": M{"mxid": sender, "token": "t"}}
		}
	case "m.room.create":
		c["creator"] = sender
		c["room_version"] = fmt.Sprint(g.ver)
		c["m.federate"] = true
	case "m.room.power_levels":
		for _, k := range []string{"ban", "kick", "redact", "invite", "events_default", "state_default", "users_default"} {
			if g.r.Intn(2) == 0 {
				c[k] = g.r.Intn(101)
			}
		}
		c["users"] = M{sender: 100}
		c["events"] = M{"m.room.name": 50}
		c["notifications"] = M{"room": 50}
	case "m.room.join_rules":
		c["join_rule"] = "restricted"
		c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!o:b.example"}}
	case "m.room.history_visibility":
		c["history_visibility"] = "shared"
	case "m.room.aliases":
		c["aliases"] = []any{"#a:a.example"}
	case "m.room.redaction":
		c["redacts"] = g.hashID("other")
		c["reason"] = "spam"
	}
	if typ == "m.room.member" && g.r.Intn(4) == 0 {
		c["third_party_invite"] = difftool.Pick[any](g.r, M{"display_name": "x"}, "str", M{"signed": "s", "x": 1}, nil)
	}
	if g.r.Intn(10) == 0 {
		// characters whose escaping canonical JSON fixes
		c["text"] = "caf\u00e9 <b>&amp;</b> \u2028 \u0001 \"q\" \\ \U0001F600 \t/ \u007f"
	}
	if g.r.Intn(8) == 0 {
		return M{}
	}
	return c
}

func sp(s string) *string { return &s }

// genCase draws one redaction/target pair of room version vid.
func genCase(r *rand.Rand, vid string, i int) tcase {
	ver := difftool.VerNum(vid)
	g := &gen{r: r, ver: ver, n: i * 100}
	c := tcase{v: vid, tv: vid, callV: vid}
	var labels []string

	creator := g.user()
	room := "!room:a.example"
	createContent := M{"room_version": vid, "creator": creator}
	if ver >= 11 {
		delete(createContent, "creator")
	}
	createRaw := g.event("m.room.create", creator, sp(""), createContent, "", difftool.DomainOf(creator))
	if ver < 12 {
		createRaw["room_id"] = room
	} else {
		ev, err := signing.ParseEvent(authgen.Version(vid), difftool.Enc(createRaw))
		if err != nil {
			c.parseFailed = "create: " + firstLine(err)
			return c
		}
		room = "!" + ev.EventID[1:]
	}

	// the target
	tsender := g.user()
	var tgtRaw M
	switch k := r.Intn(20); {
	case k < 2:
		tgtRaw = createRaw
		tsender = creator
		labels = append(labels, "target=room create")
	case k < 10:
		typ := difftool.Pick(r, msgTypes...)
		tgtRaw = g.event(typ, tsender, nil, g.content(typ, tsender), room, difftool.DomainOf(tsender))
		labels = append(labels, "target="+typ)
		if typ == "m.room.redaction" && (ver <= 10 || r.Intn(3) == 0) {
			tgtRaw["redacts"] = g.hashID("redacted-by-target")
		}
	default:
		typ := difftool.Pick(r, stateTypes...)
		key := ""
		if typ == "m.room.member" || r.Intn(6) == 0 {
			key = tsender
		}
		troom := room
		if typ == "m.room.create" && ver >= 12 {
			troom = "" // v12 rule 1.2: a create event with a room_id is rejected; this one is of another room
		}
		tgtRaw = g.event(typ, tsender, sp(key), g.content(typ, tsender), troom, difftool.DomainOf(tsender))
		labels = append(labels, "target="+typ+" (state)")
	}
	if r.Intn(25) == 0 && tgtRaw["room_id"] != nil {
		tgtRaw["room_id"] = "!elsewhere:b.example"
		labels = append(labels, "target in another room")
	}
	if ver <= 2 && r.Intn(6) == 0 {
		tgtRaw["event_id"] = fmt.Sprintf("$t%d:%s", i, difftool.Pick(r, servers...))
		labels = append(labels, "target event_id of another domain")
	}
	if ver >= 3 && r.Intn(20) == 0 {
		tgtRaw["event_id"] = "$ignored:a.example" // not a v3+ field, but kept by redaction
		labels = append(labels, "target with event_id")
	}
	tgtBytes := nonCanonical(r, difftool.Enc(tgtRaw))
	tgt, err := signing.ParseEvent(authgen.Version(vid), tgtBytes)
	if err != nil {
		c.parseFailed = "target: " + firstLine(err)
		return c
	}
	tid := tgt.EventID

	// the redaction
	rsender := tsender
	switch k := r.Intn(6); {
	case k < 2:
		rsender = "@" + difftool.Pick(r, locals...) + ":" + difftool.DomainOf(tsender)
		labels = append(labels, "same server")
	default:
		for rsender == tsender {
			rsender = g.user()
		}
		if difftool.DomainOf(rsender) == difftool.DomainOf(tsender) {
			labels = append(labels, "same server")
		} else {
			labels = append(labels, "other server")
		}
	}
	redacts := any(tid)
	switch k := r.Intn(30); {
	case k == 0:
		redacts = nil
		labels = append(labels, "redacts absent")
	case k == 1:
		redacts = difftool.Pick[any](r, json.Number("5"), nil, true, M{"id": tid}, []any{tid})
		labels = append(labels, "redacts not a string")
	case k == 2:
		redacts = ""
		labels = append(labels, "redacts empty")
	case k == 3:
		redacts = difftool.Pick(r, "not-an-id", "!room:a.example", strings.ToUpper(tid), tid+" ", "$")
		labels = append(labels, "redacts odd string")
	case k < 7:
		if ver <= 2 {
			redacts = fmt.Sprintf("$other%d:%s", r.Intn(9), difftool.Pick(r, servers...))
		} else {
			redacts = g.hashID(fmt.Sprint("x", r.Intn(9)))
		}
		labels = append(labels, "redacts another event")
	}
	rcontent := M{}
	if r.Intn(2) == 0 {
		rcontent["reason"] = "spam"
	}
	place := "right"
	switch k := r.Intn(12); {
	case k == 0:
		place = "wrong"
	case k == 1:
		place = "both"
	}
	idDomain := difftool.DomainOf(rsender)
	if ver <= 2 && r.Intn(4) == 0 {
		idDomain = difftool.Pick(r, servers...)
		labels = append(labels, "redaction event_id domain "+idDomain)
	}
	rtype := "m.room.redaction"
	if r.Intn(30) == 0 {
		rtype = difftool.Pick(r, "m.room.message", "m.room.Redaction", "m.room.redaction ")
		labels = append(labels, "not a redaction")
	}
	var rsk *string
	if r.Intn(25) == 0 {
		rsk = sp("")
		labels = append(labels, "state redaction")
	}
	rroom := room
	if r.Intn(25) == 0 {
		rroom = "!elsewhere:b.example"
		labels = append(labels, "redaction in another room")
	}
	redRaw := g.event(rtype, rsender, rsk, rcontent, rroom, idDomain)
	putTop := (place == "right") == (ver <= 10)
	if place == "both" {
		// the other place names another event
		other := any(g.hashID("decoy"))
		if ver <= 2 {
			other = "$decoy:a.example"
		}
		if ver <= 10 {
			redRaw["redacts"] = redacts
			rcontent["redacts"] = other
		} else {
			rcontent["redacts"] = redacts
			redRaw["redacts"] = other
		}
		labels = append(labels, "redacts in both places")
	} else if redacts != nil || r.Intn(2) == 0 {
		if putTop {
			redRaw["redacts"] = redacts
		} else {
			rcontent["redacts"] = redacts
		}
		if place == "wrong" {
			labels = append(labels, "redacts misplaced")
		}
	}
	if ver <= 2 && r.Intn(20) == 0 {
		// IDs without a domain, or with an empty one
		d := difftool.Pick(r, "$nodomain", "$empty:")
		redRaw["event_id"] = d
		if r.Intn(2) == 0 {
			redRaw["redacts"] = difftool.Pick(r, "$other", "$other:")
		}
		labels = append(labels, "redaction event_id "+d)
	}
	if ver <= 2 && r.Intn(40) == 0 && redRaw["redacts"] != nil {
		redRaw["event_id"] = redRaw["redacts"] // a redaction that names itself
		labels = append(labels, "self")
	}
	red, err := signing.ParseEvent(authgen.Version(vid), nonCanonical(r, difftool.Enc(redRaw)))
	if err != nil {
		c.parseFailed = "redaction: " + firstLine(err)
		return c
	}
	c.red = red
	if strings.Contains(strings.Join(labels, ","), "self") {
		tgt = red
	}
	c.tgt = tgt
	if r.Intn(7) == 0 {
		c.tgt = nil
		labels = append(labels, "no target")
	} else if r.Intn(40) == 0 {
		// the same target bytes parsed for another room version
		ov := difftool.Pick(r, pyref.Versions...)
		if ov != vid {
			if t2, err := signing.ParseEvent(authgen.Version(ov), tgtBytes); err == nil {
				c.tgt, c.tv = t2, ov
				labels = append(labels, "target parsed for v"+ov)
			}
		}
	}

	if ver >= 3 && c.tgt != nil && r.Intn(40) == 0 {
		if t2, err := pdu.Parse(authgen.Version(c.tv), c.tgt.Raw()); err == nil {
			c.tgt, c.tgtIDUnset = t2, true
			labels = append(labels, "target parsed by pdu.Parse (no EventID)")
		}
	}
	if ver >= 3 && r.Intn(40) == 0 {
		if r2, err := pdu.Parse(authgen.Version(vid), c.red.Raw()); err == nil {
			c.red, c.redIDUnset = r2, true
			labels = append(labels, "redaction parsed by pdu.Parse (no EventID)")
		}
	}

	if r.Intn(50) == 0 {
		c.callV = difftool.Pick(r, pyref.Versions...)
		if c.callV != vid {
			labels = append(labels, "Decide called for v"+c.callV)
		}
	}

	// power levels
	rl := difftool.Pick[int64](r, 50, 50, 50, 0, 100, -10, 1<<53, math.MaxInt64, math.MinInt64)
	var spl int64
	switch k := r.Intn(6); {
	case k < 3:
		d := int64(k - 1)
		spl = rl + d
		if (rl == math.MinInt64 && d < 0) || (rl == math.MaxInt64 && d > 0) {
			spl = rl // do not wrap around
		}
	default:
		spl = difftool.Pick[int64](r, 0, 0, 0, 50, 100, -1, math.MaxInt64, math.MinInt64)
	}
	c.spl, c.rl = spl, rl
	c.label = strings.Join(labels, ", ")
	return c
}

// nonCanonical sometimes rewrites canonical event bytes into an equivalent non-canonical form
// (whitespace, escaped characters), which roomproto must canonicalise.
func nonCanonical(r *rand.Rand, b []byte) []byte {
	if r.Intn(8) != 0 {
		return b
	}
	s := string(b)
	s = strings.ReplaceAll(s, "caf\u00e9", `caf\u00e9`)
	s = strings.ReplaceAll(s, `"content":`, `"content" : `)
	s = strings.ReplaceAll(s, `"type":"m.room.`, `"type":"m.room\u002e`)
	s = strings.ReplaceAll(s, "/", `\/`)
	return []byte(" " + s + "\n")
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

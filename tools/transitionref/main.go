// Command transitionref compares roomproto's membership transitions — Transitions,
// FindTransition, CheckTransition, Transition.RequiredLevel, ClassifyMemberEvent, KnockAccepted —
// and the auth-event side of the join and knock handshakes — the auth_events of MakeJoin and
// MakeKnock templates, SendJoin and SendKnock given AuthEvents, and joins after a third-party
// invite — with an independent Python reference written from the spec text only
// (transitionref.py in this directory).
//
//	go run ./tools/transitionref -n 3000 -seed 1 [-decisions] [-pending] [-versions 8,10,12] [-out DIR] [-v]
//
// Rooms of versions 1-12 are drawn with every event signed for real (signing.SignEvent): power
// levels in every form the version allows (strings in v1-9, floats and integers beyond int64
// in v1-5), v12 additional creators, every join rule (absent 1 time in 12), members with every
// membership, an earlier join rules event and an m.room.third_party_invite. Exit status 1 on any
// divergence or harness error, 2 when the reference cannot be started.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/membercmp"
	"github.com/roomproto/roomproto/tools/internal/memberroom"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

const resident = "r.example"

var (
	servers    = []string{"r.example", "a.example", "b.example"}
	users      = []string{"@mod:r.example", "@rob:r.example", "@low:r.example", "@joe:a.example", "@ann:a.example", "@bea:b.example", "@kim:b.example", "@ace:b.example"}
	otherRooms = []string{"!o1:a.example", "!o2:b.example"}
	keyRing    = signing.KeyRing{}
	refKeys    = map[string]map[string]string{}
)

func init() {
	for _, s := range servers {
		k := authgen.KeyFor(s, "1")
		keyRing[s] = map[string]signing.PublicKey{"ed25519:1": {Key: k.Public()}}
		refKeys[s] = map[string]string{"ed25519:1": difftool.B64(k.Public())}
	}
}

// room is a generated room (memberroom.Room with SpecRefs) with what the cases need besides.
// Before build, Raws holds every event added; after it, the current state plus the events
// added since.
type room struct {
	*memberroom.Room
	all      map[string][]byte // every event built, by ID (also replaced state)
	oldRule  string            // the join rule of an earlier m.room.join_rules event, "" if none
	oldJR    string            // its ID
	oldPL    string            // the ID of an earlier m.room.power_levels event (everyone at 0, invite 100), "" if none
	oldMem   map[string]string // user → the ID of an earlier m.room.member event of the user
	knockish bool              // the join rule was drawn among knock and knock_restricted
	creator  string
}

// add makes a state event (memberroom's Add), records it in all and returns its ID.
func (rm *room) add(typ, sender string, sk string, content M) string {
	rm.Add(typ, sender, sk, content)
	rm.all[rm.Last] = rm.Raws[len(rm.Raws)-1]
	return rm.Last
}

// build computes the state from the events added so far (Raws, State); false when roomproto
// refuses it (e.g. a power level form it does not accept), in which case the case is skipped.
func (rm *room) build() bool {
	evs, raws, ids, err := rm.StateEvents()
	if err != nil {
		tally["skipped: state event not parsed: "+difftool.Clip(err.Error(), 60)]++
		return false
	}
	st, err := authrules.NewState(rm.V, evs)
	if err != nil {
		tally["skipped: NewState: "+difftool.Clip(err.Error(), 60)]++
		return false
	}
	rm.State, rm.Raws, rm.IDs = st, raws, ids
	return true
}

// level draws a power level value in a form the room version accepts in state.
func (rm *room) level(base int) any {
	r := rm.R
	switch k := r.Intn(14); {
	case k == 0 && rm.Ver <= 9:
		return difftool.Pick(r, fmt.Sprint(base), " +"+fmt.Sprint(base), fmt.Sprint(base)+" ", "0"+fmt.Sprint(base))
	case k == 1 && rm.Ver <= 9:
		return difftool.Pick(r, "99999999999999999999", "-99999999999999999999", "9223372036854775808")
	case k == 2 && rm.Ver <= 5:
		return difftool.Pick[any](r, json.Number(fmt.Sprint(base)+".0"), json.Number(fmt.Sprint(base)+".7"),
			json.Number("99999999999999999999"), json.Number("-1e3"))
	case k == 3:
		return difftool.Pick(r, -10, 1, 49, 51, 99, 101)
	}
	return base
}

// genRoom draws a room.
func genRoom(r *rand.Rand, vid string, knockish bool) *room {
	rm := &room{Room: &memberroom.Room{V: authgen.Version(vid), VID: vid, Ver: difftool.VerNum(vid), R: r, Ms: map[string]string{},
		SpecRefs: true}, all: map[string][]byte{}, oldMem: map[string]string{}, knockish: knockish}
	creator := difftool.Pick(r, "@mod:r.example", "@mod:r.example", "@ann:a.example")
	rm.creator = creator
	rm.RoomID = "!room:" + difftool.DomainOf(creator)
	cc := M{"room_version": vid}
	if rm.Ver <= 10 {
		cc["creator"] = creator
		if r.Intn(6) == 0 {
			// v1-10: the creator is content.creator, which need not be the sender
			cc["creator"] = difftool.Pick(r, "@rob:r.example", "@joe:a.example")
		}
	}
	if rm.Ver >= 12 && r.Intn(3) == 0 {
		cc["additional_creators"] = []any{difftool.Pick(r, "@ace:b.example", "@rob:r.example")}
	}
	if r.Intn(10) == 0 {
		cc["m.federate"] = false // rule 3 (v12: 4) before every member rule (tools/scenarios S6)
	}
	rm.add("m.room.create", creator, "", cc)
	rm.add("m.room.member", creator, creator, M{"membership": "join"})
	rm.Ms[creator] = "join"
	creators := map[string]bool{creator: true}
	if ac, ok := cc["additional_creators"].([]any); ok {
		creators[ac[0].(string)] = true
	}
	if r.Intn(4) == 0 {
		old := M{"invite": 100, "kick": 100, "ban": 100, "users": M{}}
		if rm.Ver < 12 {
			old["users"] = M{creator: 100}
		}
		rm.oldPL = rm.add("m.room.power_levels", creator, "", old)
	}
	if r.Intn(10) != 0 {
		pl := M{}
		users := M{}
		if rm.Ver < 12 {
			users[creator] = rm.level(100)
		}
		for _, u := range []string{"@rob:r.example", "@low:r.example", "@joe:a.example", "@bea:b.example", "@kim:b.example"} {
			if creators[u] || r.Intn(3) == 0 {
				continue
			}
			users[u] = rm.level(difftool.Pick(r, 0, 50, 100, 75))
		}
		if rm.Ver >= 12 && r.Intn(10) == 0 {
			users[creator] = 50 // refused by rule 10.4 in a new event; creators stay infinite
		}
		pl["users"] = users
		if r.Intn(5) == 0 {
			// member events follow the membership rules, not the required power level
			pl["events"] = M{"m.room.member": difftool.Pick(r, 0, 100)}
			pl["state_default"] = difftool.Pick(r, 0, 100)
		}
		for _, k := range []string{"invite", "kick", "ban", "users_default"} {
			if r.Intn(2) == 0 {
				pl[k] = rm.level(difftool.Pick(r, 0, 50, 100, 75, 25))
			}
		}
		rm.add("m.room.power_levels", creator, "", pl)
	}
	rules := []string{"public", "invite", "knock", "restricted", "knock_restricted"}
	if r.Intn(15) == 0 {
		rules = []string{"private", "custom", "(number)", "(missing)"}
	}
	jc := func(rule string) M {
		c := M{"join_rule": rule}
		switch rule {
		case "(number)":
			c["join_rule"] = 5
		case "(missing)":
			delete(c, "join_rule")
		}
		if strings.Contains(rule, "restricted") {
			c["allow"] = []any{M{"type": "m.room_membership", "room_id": difftool.Pick(r, otherRooms...)}}
		}
		return c
	}
	if r.Intn(3) == 0 {
		rm.oldRule = difftool.Pick(r, "public", "invite", "restricted", "knock")
		rm.oldJR = rm.add("m.room.join_rules", creator, "", jc(rm.oldRule))
	}
	rm.Rule = difftool.Pick(r, rules...)
	if knockish {
		rm.Rule = difftool.Pick(r, "knock", "knock_restricted")
	}
	if r.Intn(12) != 0 {
		rm.add("m.room.join_rules", creator, "", jc(rm.Rule))
	} else {
		rm.Rule = "(none)"
		if rm.oldJR != "" {
			rm.Rule = rm.oldRule
		}
	}
	mships := []string{"join", "join", "join", "", "invite", "leave", "ban"}
	if rm.Ver >= 7 {
		mships = append(mships, "knock", "knock")
	}
	for _, u := range users {
		if u == creator {
			continue
		}
		m := difftool.Pick(r, mships...)
		if m == "" {
			continue
		}
		sender := u
		if m == "invite" || m == "ban" {
			sender = creator
		}
		if r.Intn(4) == 0 {
			pm := difftool.Pick(r, "invite", "leave", "join")
			ps := u
			if pm == "invite" {
				ps = creator
			}
			rm.oldMem[u] = rm.add("m.room.member", ps, u, M{"membership": pm})
		}
		rm.add("m.room.member", sender, u, M{"membership": m})
		rm.Ms[u] = m
	}
	if r.Intn(2) == 0 {
		rm.add("m.room.name", creator, "", M{"name": "n"})
	}
	return rm
}

// refAns is the reference's answer (the fields of every op).
type refAns struct {
	membercmp.Ans
	Reasons  []string          `json:"reasons"`
	Tr       *refTr            `json:"tr"`
	Required *json.Number      `json:"required_level"`
	Table    map[string]*refTr `json:"table"`
	Rules    []string          `json:"join_rules"`
	Ms       []string          `json:"memberships"`
	Accepted bool              `json:"accepted"`
	IDs      []string          `json:"ids"`
	Rule     *string           `json:"rule"`
	Auth4    map[string]any    `json:"auth4"`
}

// refTr is a transition as the reference describes it.
type refTr struct {
	From         string   `json:"from"`
	To           string   `json:"to"`
	BySelf       bool     `json:"by_self"`
	Action       string   `json:"action"`
	SenderJoined bool     `json:"sender_joined"`
	Levels       []string `json:"levels"`
	Outranks     bool     `json:"outranks"`
	Authoriser   bool     `json:"authoriser"`
	Rule         string   `json:"rule"`
	Words        []string `json:"meaning_words"`
}

var (
	ask       func(req M) refAns
	groups    = pyref.Groups[*membercmp.Example]{}
	tally     = map[string]int{}
	ambSeen   = map[string]int{}
	outcomes  = map[string]int{}
	harness   int
	diverged  int
	compared  int
	decisions bool
)

func report(kind, vid, op, label string, rp, ref string, input any, amb []string) {
	diverged++
	in := string(difftool.Enc(input))
	ex := &membercmp.Example{Version: vid, Op: op, Label: label, RP: rp, Ref: ref, Input: difftool.Clip(in, 3000)}
	key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", kind, op, pyref.StripDetail(rp), pyref.StripDetail(ref), strings.Join(amb, ","))
	groups.Add(key, vid, ex, len(in))
}

func call(req M) (refAns, bool) {
	a := ask(req)
	if a.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(a.Error, 2000))
		return a, false
	}
	if a.Invalid != "" {
		tally["skipped: "+a.Invalid]++
		return a, false
	}
	for _, f := range a.Amb {
		ambSeen[fmt.Sprint(req["op"])+" "+f]++
	}
	return a, true
}

func main() {
	n := flag.Int("n", 3000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", strings.Join(pyref.Versions, ","), "room versions")
	flag.BoolVar(&decisions, "decisions", false, "the reference adopts docs/decisions.md readings (TRANSITIONREF_DECISIONS=1)")
	pending := flag.Bool("pending", false, "the reference also adopts roomproto's reading of the corners not yet in docs/decisions.md (TRANSITIONREF_PENDING=1; README.md)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	out := flag.String("out", "", "directory for tally.tsv, coverage.txt, divergences.jsonl")
	flag.Parse()

	env := append(pyref.Env(decisions, "TRANSITIONREF_DECISIONS=1"), pyref.Env(*pending, "TRANSITIONREF_PENDING=1")...)
	ref := pyref.MustStart(pyref.Beside("transitionref.py"), env...)
	ask = func(req M) refAns {
		var a refAns
		if err := ref.MustAsk(req, &a); err != nil {
			a.Error = err.Error()
		}
		return a
	}

	versions := strings.Split(*vers, ",")
	for _, vid := range versions {
		compareTable(vid)
	}
	r := rand.New(rand.NewSource(*seed))
	for i := 0; i < *n; i++ {
		vid := difftool.Pick(r, versions...)
		k := r.Intn(20)
		rm := genRoom(r, vid, k >= 10 && k < 17 && r.Intn(3) == 0)
		if k >= 17 {
			caseThirdParty(r, rm)
			continue
		}
		if !rm.build() {
			continue
		}
		switch {
		case k < 7:
			caseCheckTransition(r, rm)
		case k < 10:
			caseClassify(r, rm)
		case k < 12:
			caseMake(r, rm)
		default:
			caseSendAuth(r, rm)
		}
	}
	ref.Close()

	var tallyTSV, cov strings.Builder
	for _, k := range difftool.SortedKeys(tally) {
		fmt.Printf("%7d  %s\n", tally[k], k)
		fmt.Fprintf(&tallyTSV, "%s\t%d\n", k, tally[k])
	}
	for _, k := range difftool.SortedKeys(outcomes) {
		fmt.Printf("%7d  outcome %s\n", outcomes[k], k)
		fmt.Fprintf(&cov, "outcome %s\t%d\n", k, outcomes[k])
	}
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Printf("%7d  amb %s\n", ambSeen[k], k)
		fmt.Fprintf(&cov, "amb %s\t%d\n", k, ambSeen[k])
	}
	groups.Print(os.Stdout, *verbose, nil)
	if err := pyref.WriteRun(*out, tallyTSV.String(), cov.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		harness++
	}
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", compared, harness, diverged, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

// trDiff lists the fields in which roomproto's transition differs from the reference's.
func trDiff(got membership.Transition, want *refTr, jr string) []string {
	var d []string
	if got.From != want.From {
		d = append(d, "From "+got.From+"≠"+want.From)
	}
	if got.To != want.To {
		d = append(d, "To "+got.To+"≠"+want.To)
	}
	if string(got.Action) != want.Action {
		d = append(d, "Action "+string(got.Action)+"≠"+want.Action)
	}
	if got.BySelf != want.BySelf {
		d = append(d, fmt.Sprintf("BySelf %v≠%v", got.BySelf, want.BySelf))
	}
	if got.SenderJoined != want.SenderJoined {
		d = append(d, fmt.Sprintf("SenderJoined %v≠%v", got.SenderJoined, want.SenderJoined))
	}
	var lv []string
	for _, l := range got.Levels {
		lv = append(lv, string(l))
	}
	sort.Strings(lv)
	if strings.Join(lv, ",") != strings.Join(want.Levels, ",") {
		d = append(d, fmt.Sprintf("Levels %v≠%v", lv, want.Levels))
	}
	if got.OutranksTarget != want.Outranks {
		d = append(d, fmt.Sprintf("OutranksTarget %v≠%v", got.OutranksTarget, want.Outranks))
	}
	if got.Authoriser != want.Authoriser {
		d = append(d, fmt.Sprintf("Authoriser %v≠%v", got.Authoriser, want.Authoriser))
	}
	if got.Rule != want.Rule {
		d = append(d, "Rule "+got.Rule+"≠"+want.Rule)
	}
	if jr != "" && (want.To == "join" || want.To == "knock") && got.JoinRules != nil && !slices.Contains(got.JoinRules, jr) {
		d = append(d, fmt.Sprintf("JoinRules %v lacks %s", got.JoinRules, jr))
	}
	if want.Words != nil {
		m := strings.ToLower(got.Meaning)
		if !slices.ContainsFunc(want.Words, func(w string) bool { return strings.Contains(m, w) }) {
			d = append(d, fmt.Sprintf("Meaning %q without %v", got.Meaning, want.Words))
		}
	}
	return d
}

func reasonOf(err error) string {
	switch {
	case err == nil:
		return "allow"
	case errors.Is(err, membership.ErrBanned):
		return "banned"
	case errors.Is(err, membership.ErrInsufficientPower):
		return "insufficient"
	case errors.Is(err, membership.ErrNotPossible):
		return "not_possible"
	case errors.Is(err, membership.ErrNotFederated):
		return "not_federated"
	}
	return "other"
}

func statusOf(err error) string {
	var me *membership.Error
	if errors.As(err, &me) {
		return fmt.Sprintf("%d:%s", me.Status, me.ErrCode)
	}
	return "(not *Error)"
}

// Command handshakeref compares roomproto's membership handshake functions — the joining side
// (CheckJoinTemplate, CheckKnockTemplate, SignTemplate, CheckSendJoinResponse), the resident
// side (MakeJoin templates, SendJoin, SendKnock), the invited side (SignInvite with
// CheckStrippedState), StrippedState/StripEvent and the membership transition table
// (FindTransition) — with an independent Python reference written from the spec text only
// (handshakeref.py in this directory).
//
//	go run ./tools/handshakeref -n 3000 -seed 1 [-decisions] [-versions 8,10,12] [-v]
//
// It draws rooms of room versions 1-12 whose events are signed for real (signing.SignEvent),
// a joining, knocking or inviting user, the template, the signed event and one mutation of it
// (wrong room_id, sender, state_key, membership, type, join_authorised_via_users_server
// missing, added, of another server or without invite power, origin mismatch, a missing or bad
// signature, a content hash mismatch, a wrong event ID, invalid user IDs, malformed JSON, stripped
// state entries of other types, rooms or shapes), and compares verdicts and status/errcode. Exit
// status 1 on any divergence or harness error, 2 when the reference cannot be started.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/memberroom"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

const (
	resident = "r.example"
	local    = "l.example" // the invited server
)

var (
	servers    = memberroom.Servers
	residents  = memberroom.Residents
	remotes    = memberroom.Remotes
	locals     = memberroom.Locals
	otherRooms = memberroom.OtherRooms
	allVers    = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
	keyRing    = memberroom.KeyRing()
	refKeys    = map[string]map[string]string{}
)

func init() {
	for _, s := range servers {
		k := authgen.KeyFor(s, "1")
		refKeys[s] = map[string]string{"ed25519:1": difftool.B64(k.Public())}
	}
}

// room is a room drawn by memberroom.Gen, with this harness's methods.
type room struct{ *memberroom.Room }

// genRoom draws a room (memberroom.Gen).
func genRoom(r *rand.Rand, vid string, knock bool) *room {
	return &room{memberroom.Gen(r, vid, knock)}
}

// refAns is the reference's answer.
type refAns struct {
	Allow       bool              `json:"allow"`
	Codes       [][]any           `json:"codes"`
	Why         string            `json:"why"`
	Amb         []string          `json:"amb"`
	Problems    []string          `json:"problems"`
	Warnings    bool              `json:"warnings"`
	Valid       int               `json:"valid"`
	IRSProblems []string          `json:"irs_problems"`
	Table       map[string]*refTr `json:"table"`
	Invalid     string            `json:"invalid"`
	Error       string            `json:"error"`
	Extra       map[string]any    `json:"-"`
}

type refTr struct {
	Levels       []string `json:"levels"`
	Outranks     bool     `json:"outranks"`
	SenderJoined bool     `json:"sender_joined"`
	Authoriser   bool     `json:"authoriser"`
}

type rpAns struct {
	Allow   bool
	Status  int
	ErrCode string
	Why     string
}

type example struct {
	Version string `json:"version"`
	Op      string `json:"op"`
	Label   string `json:"label"`
	RP      string `json:"roomproto"`
	Ref     string `json:"reference"`
	Input   string `json:"input"`
}

var (
	ask       func(req M) refAns
	groups    = pyref.Groups[*example]{}
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
	ex := &example{Version: vid, Op: op, Label: label, RP: rp, Ref: ref, Input: difftool.Clip(in, 1500)}
	key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", kind, op, pyref.StripDetail(rp), pyref.StripDetail(ref), strings.Join(amb, ","))
	groups.Add(key, vid, ex, len(in))
}

func rpOf(err error) rpAns {
	if err == nil {
		return rpAns{Allow: true}
	}
	var me *membership.Error
	if errors.As(err, &me) {
		return rpAns{Status: me.Status, ErrCode: me.ErrCode, Why: me.Message}
	}
	return rpAns{Status: -1, ErrCode: "(not *Error)", Why: err.Error()}
}

func (a rpAns) String() string {
	if a.Allow {
		return "ALLOW"
	}
	return fmt.Sprintf("%d:%s (%s)", a.Status, a.ErrCode, difftool.Clip(a.Why, 200))
}

func refString(a refAns) string {
	if a.Allow {
		if len(a.Problems) > 0 {
			return "ALLOW with problems (" + strings.Join(a.Problems, "; ") + ")"
		}
		return "ALLOW"
	}
	var cs []string
	for _, c := range a.Codes {
		cs = append(cs, fmt.Sprintf("%v:%v", c[0], c[1]))
	}
	if a.Codes == nil {
		cs = []string{"any refusal"}
	}
	return strings.Join(cs, "|") + " (" + difftool.Clip(a.Why, 300) + ")"
}

// verdict compares a roomproto verdict with the reference's.
func verdict(vid, op, label string, rp rpAns, ref refAns, input any) {
	compared++
	tally["v"+vid+" "+op]++
	oc := "ALLOW"
	if !rp.Allow {
		oc = fmt.Sprintf("%d:%s", rp.Status, rp.ErrCode)
	}
	outcomes[op+" "+oc]++
	if i := strings.Index(label, "mut="); i >= 0 {
		outcomes[op+" "+strings.Fields(label[i:])[0]+" -> "+oc]++
	}
	for _, f := range ref.Amb {
		ambSeen[op+" "+f]++
	}
	kind := ""
	switch {
	case rp.Allow != ref.Allow:
		kind = "VERDICT"
	case !rp.Allow && ref.Codes != nil && !slices.ContainsFunc(ref.Codes, func(c []any) bool {
		return fmt.Sprint(c[0]) == fmt.Sprint(rp.Status) && c[1] == rp.ErrCode
	}):
		kind = "ERRCODE"
	case rp.Allow && len(ref.Problems) > 0:
		kind = "OUTPUT"
	}
	if kind != "" {
		report(kind, vid, op, label, rp.String(), refString(ref), input, ref.Amb)
	}
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
	return a, true
}

func main() {
	n := flag.Int("n", 3000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", strings.Join(allVers, ","), "room versions")
	flag.BoolVar(&decisions, "decisions", false, "the reference adopts docs/decisions.md readings (HANDSHAKEREF_DECISIONS=1)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	flag.Parse()

	ref := pyref.MustStart(pyref.Beside("handshakeref.py"), pyref.Env(decisions, "HANDSHAKEREF_DECISIONS=1")...)
	ask = func(req M) refAns {
		var a refAns
		if err := ref.MustAsk(req, &a); err != nil {
			a.Error = err.Error()
		}
		return a
	}

	versions := strings.Split(*vers, ",")
	for _, vid := range versions {
		compareTransitions(vid)
	}
	r := rand.New(rand.NewSource(*seed))
	for i := 0; i < *n; i++ {
		vid := difftool.Pick(r, versions...)
		k := r.Intn(20)
		rm := genRoom(r, vid, k >= 8 && k < 11 && r.Intn(3) != 0)
		switch {
		case k < 8:
			caseJoin(r, rm)
		case k < 11:
			caseKnock(r, rm)
		case k < 16:
			caseInvite(r, rm)
		case k < 18:
			caseTemplate(r, rm)
		default:
			caseStripped(r, rm)
		}
	}
	ref.Close()

	keys := difftool.SortedKeys(tally)
	for _, k := range keys {
		fmt.Printf("%7d  %s\n", tally[k], k)
	}
	for _, k := range difftool.SortedKeys(outcomes) {
		fmt.Printf("%7d  outcome %s\n", outcomes[k], k)
	}
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Printf("%7d  amb %s\n", ambSeen[k], k)
	}
	groups.Print(os.Stdout, *verbose, nil)
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", compared, harness, diverged, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

// Command handshakeref compares roomproto's membership handshake functions — the joining side
// (CheckJoinTemplate, CheckKnockTemplate, CheckLeaveTemplate, SignTemplate,
// CheckSendJoinResponse), the resident side (MakeJoin, MakeKnock, their templates, SendJoin,
// SendKnock, MakeLeave, SendLeave), the invited side (SignInvite with CheckStrippedState),
// StrippedState/StripEvent and the membership transition table (FindTransition) — with an
// independent Python reference written from the spec text only (handshakeref.py in this
// directory).
//
//	go run ./tools/handshakeref -n 3000 -seed 1 [-decisions] [-versions 8,10,12] [-v]
//
// It draws rooms of room versions 1-12 whose events are signed for real (signing.SignEvent),
// one in 8 with m.federate false in its create event, a joining, knocking, leaving or inviting
// user, the make_join/make_knock/make_leave verdict, the template, the signed event (a leave
// with or without AuthEvents, right or wrong ones) and one mutation
// of it (wrong room_id, sender, state_key, membership, type, join_authorised_via_users_server
// missing, added, of another server or without invite power, origin mismatch, a missing or bad
// signature, a content hash mismatch, a wrong event ID, invalid user IDs, malformed JSON, stripped
// state entries of other types, rooms or shapes), and compares verdicts and status/errcode. Exit
// status 1 on any divergence or harness error, 2 when the reference cannot be started.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/membercmp"
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
type room struct {
	*memberroom.Room
	noFed bool // its create event sets m.federate to false (unfederated)
}

// genRoom draws a room (memberroom.Gen), 1 time in 8 with m.federate false (unfederated).
func genRoom(r *rand.Rand, vid string, knock bool) *room {
	rm := &room{Room: memberroom.Gen(r, vid, knock)}
	if r.Intn(8) == 0 {
		rm = unfederated(rm)
	}
	return rm
}

// noFed marks the labels (and so the outcomes) of cases in rooms whose create event sets
// m.federate to false.
const noFed = " m.federate=false"

// fed is the part of a case's label that says whether the room federates: empty when it does,
// else noFed and whether user (the sender of the event at stake; none for "") is of the create
// event's server ("/creator") or not ("/other", which auth rule 3 rejects).
func (rm *room) fed(user string) string {
	if !rm.noFed {
		return ""
	}
	if user == "" {
		return noFed
	}
	if difftool.DomainOf(user) == difftool.DomainOf(fmt.Sprint(decode(rm.Raws[0])["sender"])) {
		return noFed + "/creator"
	}
	return noFed + "/other"
}

// unfederated rebuilds rm with `"m.federate": false` in its create event's content: the same
// current state events, in the same order, signed again (the create event's ID changes, and in
// room version 12 the room ID with it). memberroom.Gen draws no such room.
func unfederated(rm *room) *room {
	nr := &memberroom.Room{V: rm.V, VID: rm.VID, Ver: rm.Ver, RoomID: rm.RoomID, Ms: rm.Ms, Rule: rm.Rule, R: rm.R}
	for i, raw := range rm.Raws {
		e := decode(raw)
		c, _ := e["content"].(M)
		if i == 0 {
			c["m.federate"] = false
		}
		nr.Add(e["type"].(string), e["sender"].(string), e["state_key"].(string), c)
	}
	var evs []*pdu.Event
	for _, raw := range nr.Raws {
		e, err := signing.ParseEvent(nr.V, raw)
		if err != nil {
			panic(err) // invariant: the harness built this room and its events itself
		}
		evs = append(evs, e)
	}
	st, err := authrules.NewState(nr.V, evs)
	if err != nil {
		panic(err) // invariant: as above
	}
	nr.State = st
	return &room{Room: nr, noFed: true}
}

// refAns is the reference's answer: the common part (membercmp.Ans) and what only this
// harness reads.
type refAns struct {
	membercmp.Ans
	Warnings    bool              `json:"warnings"`
	Valid       int               `json:"valid"`
	IRSProblems []string          `json:"irs_problems"`
	Table       map[string]*refTr `json:"table"`
	Extra       map[string]any    `json:"-"`
}

type refTr struct {
	Levels       []string `json:"levels"`
	Outranks     bool     `json:"outranks"`
	SenderJoined bool     `json:"sender_joined"`
	Authoriser   bool     `json:"authoriser"`
}

type rpAns = membercmp.RP

var (
	ask func(req M) refAns
	run = membercmp.NewRun()
)

func rpOf(err error) rpAns { return membercmp.RPOf(err) }

// verdict compares a roomproto verdict with the reference's.
func verdict(vid, op, label string, rp rpAns, ref refAns, input any) {
	// outcomes by m.federate (run.Verdict counts them by mut=) and by the AuthEvents drawn
	for _, mark := range []string{noFed, " auth="} {
		if i := strings.Index(label, mark); i >= 0 {
			oc := "ALLOW"
			if !rp.Allow {
				oc = fmt.Sprintf("%d:%s", rp.Status, rp.ErrCode)
			}
			run.Outcomes[op+" "+strings.Fields(label[i:])[0]+" -> "+oc]++
		}
	}
	run.Verdict(vid, op, label, rp, ref.Ans, input)
}

func report(kind, vid, op, label string, rp, ref string, input any, amb []string) {
	run.Report(kind, vid, op, label, rp, ref, input, amb)
}

func call(req M) (refAns, bool) {
	a := ask(req)
	return a, run.Usable(a.Ans)
}

func main() {
	var fl pyref.Flags
	fl.Define(flag.CommandLine, 3000, "HANDSHAKEREF_DECISIONS", false, "")
	flag.Parse()

	ref := fl.Start(pyref.Beside("handshakeref.py"))
	ask = func(req M) (a refAns) {
		ref.MustAskNote(req, &a, &a.Error)
		return a
	}

	versions := fl.VersionList()
	for _, vid := range versions {
		compareTransitions(vid)
	}
	r := fl.Rand()
	for i := 0; i < fl.N; i++ {
		vid := difftool.Pick(r, versions...)
		k := r.Intn(23)
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
		case k < 20:
			caseStripped(r, rm)
		default:
			caseLeave(r, rm)
		}
	}
	ref.Close()

	if run.Print(fl.Verbose) {
		os.Exit(1)
	}
}

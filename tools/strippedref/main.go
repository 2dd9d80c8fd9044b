// Command strippedref compares roomproto's stripped state functions (membership.StrippedState,
// StripEvent, CheckStrippedState) and the invited server's SignInvite, under each
// StrippedStatePolicy, with third-party invites and past MaxStrippedState, with an independent
// Python reference written from the spec text only (strippedref.py in this directory).
//
//	go run ./tools/strippedref -n 2000 -seed 1 [-decisions] [-versions 8,10,12] [-v]
//
// It draws rooms of room versions 1-12 whose events are signed for real (signing.SignEvent),
// lists of invite_room_state entries (every state event of the room, with and without state keys,
// duplicates, events of other rooms, forged signatures or hashes, unknown keys, client-stripped
// forms, v12 create events full, stripped or with a room_id, non-objects, more than
// MaxStrippedState entries), and invites (remote and local senders, local and remote targets,
// wrong room versions, memberships other than invite, missing or extra signatures, third-party
// invites with good and bad `signed` blocks), and compares verdicts, status/errcode, the entries
// that pass, the warnings and the signed invite. Exit status 1 on any divergence or harness
// error, 2 when the reference cannot be started.
package main

import (
	"errors"
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
	remotes    = memberroom.Remotes
	locals     = memberroom.Locals
	otherRooms = memberroom.OtherRooms
	allVers    = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
	keyRing    = memberroom.KeyRing()
	refKeys    = map[string]map[string]M{}
)

func init() {
	for _, s := range servers {
		k := authgen.KeyFor(s, "1")
		refKeys[s] = map[string]M{"ed25519:1": {"key": difftool.B64(k.Public()), "vu": nil}}
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
	Allow       bool           `json:"allow"`
	Codes       [][]any        `json:"codes"`
	Why         string         `json:"why"`
	Amb         []string       `json:"amb"`
	Problems    []string       `json:"problems"`
	Warnings    bool           `json:"warnings"`
	Valid       int            `json:"valid"`
	IRSProblems []string       `json:"irs_problems"`
	Invalid     string         `json:"invalid"`
	Error       string         `json:"error"`
	Extra       map[string]any `json:"-"`
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
	key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", kind, op, pyref.StripDetail(rp), refKey(ref), strings.Join(keyAmb(amb), ","))
	groups.Add(key, vid, ex, len(in))
}

// refKey is the reference's answer up to its first reason's first clause, for grouping.
func refKey(s string) string {
	w := pyref.StripDetail(s)
	if i := strings.Index(s, " ("); i >= 0 {
		rest := s[i+2:]
		if j := strings.IndexAny(rest, ":;)"); j >= 0 {
			rest = rest[:j]
		}
		w += " (" + difftool.Clip(rest, 60) + ")"
	}
	return w
}

// keyAmb keeps, for grouping, the spec-silent flags that decide verdicts or outputs; those that
// only describe the drawn input (duplicates, warnings in v1-11, ...) are left out.
func keyAmb(amb []string) []string {
	var out []string
	for _, a := range amb {
		switch a {
		case "irs-duplicate", "irs-warn-v1-11", "invite-origin-is-local", "invite-3pid", "verifyref:3pid-any-server",
			"irs-create-state-key", "irs-non-state", "irs-hash-mismatch", "irs-unknown-key":
			continue
		}
		out = append(out, a)
	}
	return out
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

func asErr(err error, me **membership.Error) bool { return errors.As(err, me) }

// summary prints the tallies and the divergence groups and exits 1 on any divergence.
func summary(verbose bool) {
	for _, k := range difftool.SortedKeys(tally) {
		fmt.Printf("%7d  %s\n", tally[k], k)
	}
	for _, k := range difftool.SortedKeys(outcomes) {
		fmt.Printf("%7d  outcome %s\n", outcomes[k], k)
	}
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Printf("%7d  amb %s\n", ambSeen[k], k)
	}
	groups.Print(os.Stdout, verbose, nil)
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", compared, harness, diverged, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

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
	"math/rand"
	"os"
	"strings"

	"github.com/roomproto/roomproto/membership"
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
	remotes    = memberroom.Remotes
	locals     = memberroom.Locals
	otherRooms = memberroom.OtherRooms
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

// refAns is the reference's answer: the common part (membercmp.Ans) and what only this
// harness reads.
type refAns struct {
	membercmp.Ans
	Warnings    bool           `json:"warnings"`
	Valid       int            `json:"valid"`
	IRSProblems []string       `json:"irs_problems"`
	Extra       map[string]any `json:"-"`
}

type rpAns = membercmp.RP

var (
	ask func(req M) refAns
	run = membercmp.NewRun()
)

func init() { run.RefKey, run.AmbKey = refKey, keyAmb }

func report(kind, vid, op, label string, rp, ref string, input any, amb []string) {
	run.Report(kind, vid, op, label, rp, ref, input, amb)
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

func rpOf(err error) rpAns { return membercmp.RPOf(err) }

// verdict compares a roomproto verdict with the reference's.
func verdict(vid, op, label string, rp rpAns, ref refAns, input any) {
	run.Verdict(vid, op, label, rp, ref.Ans, input)
}

func call(req M) (refAns, bool) {
	a := ask(req)
	return a, run.Usable(a.Ans)
}

func asErr(err error, me **membership.Error) bool { return errors.As(err, me) }

// summary prints the tallies and the divergence groups and exits 1 on any divergence.
func summary(verbose bool) {
	if run.Print(verbose) {
		os.Exit(1)
	}
}

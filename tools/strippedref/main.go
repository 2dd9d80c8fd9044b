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
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

const (
	resident = "r.example"
	local    = "l.example" // the invited server
)

var (
	servers    = []string{"r.example", "a.example", "b.example", "l.example"}
	residents  = []string{"@mod:r.example", "@rob:r.example", "@low:r.example", "@gone:r.example"}
	remotes    = []string{"@joe:a.example", "@ann:a.example", "@bea:b.example", "@kim:b.example"}
	locals     = []string{"@lou:l.example", "@lia:l.example"}
	otherRooms = []string{"!o1:a.example", "!o2:b.example"}
	allVers    = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
	keyRing    = signing.KeyRing{}
	refKeys    = map[string]map[string]M{}
)

func init() {
	for _, s := range servers {
		k := authgen.KeyFor(s, "1")
		keyRing[s] = map[string]signing.PublicKey{"ed25519:1": {Key: k.Public()}}
		refKeys[s] = map[string]M{"ed25519:1": {"key": difftool.B64(k.Public()), "vu": nil}}
	}
}

// room is a generated room whose events are really signed.
type room struct {
	v      roomversion.Version
	vid    string
	ver    int
	roomID string
	raws   [][]byte
	ids    []string
	state  *authrules.State
	ms     map[string]string
	rule   string
	n      int
	last   string
	r      *rand.Rand
}

func (rm *room) ref(id string) any {
	if rm.ver <= 2 {
		return []any{id, M{}}
	}
	return id
}

// mk builds and signs an event of the room (auth_events: the room's create, power levels and
// sender's membership when known; not checked by the state checks).
func (rm *room) mk(typ, sender string, sk *string, content M) []byte {
	rm.n++
	ev := M{"type": typ, "sender": sender, "content": content, "depth": rm.n,
		"origin_server_ts": 1_700_000_000_000 + int64(rm.n), "auth_events": []any{}, "prev_events": []any{}}
	if sk != nil {
		ev["state_key"] = *sk
	}
	if !(rm.ver >= 12 && typ == "m.room.create") {
		ev["room_id"] = rm.roomID
	}
	if rm.last != "" {
		ev["prev_events"] = []any{rm.ref(rm.last)}
		ev["auth_events"] = []any{rm.ref(rm.ids[0])}
	}
	srv := difftool.DomainOf(sender)
	if rm.ver <= 2 {
		ev["event_id"] = fmt.Sprintf("$e%d:%s", rm.n, srv)
	}
	out, err := signing.SignEvent(rm.v, difftool.Enc(ev), srv, authgen.KeyFor(srv, "1"))
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	return out
}

func (rm *room) add(typ, sender string, sk string, content M) {
	raw := rm.mk(typ, sender, &sk, content)
	id, err := signing.EventID(rm.v, raw)
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	if rm.ver >= 12 && typ == "m.room.create" {
		rm.roomID = "!" + id[1:]
	}
	rm.raws = append(rm.raws, raw)
	rm.ids = append(rm.ids, id)
	rm.last = id
}

// genRoom draws a room; knock biases its join rule towards knocking.
func genRoom(r *rand.Rand, vid string, knock bool) *room {
	rm := &room{v: authgen.Version(vid), vid: vid, ver: difftool.VerNum(vid), r: r, ms: map[string]string{}}
	creator := "@mod:r.example"
	if r.Intn(4) == 0 {
		creator = "@ann:a.example"
	}
	rm.roomID = "!room:" + difftool.DomainOf(creator)
	cc := M{"room_version": vid}
	if rm.ver <= 10 {
		cc["creator"] = creator
	}
	rm.add("m.room.create", creator, "", cc)
	rm.add("m.room.member", creator, creator, M{"membership": "join"})
	rm.ms[creator] = "join"
	pl := M{"users": M{}}
	users := pl["users"].(M)
	if rm.ver < 12 {
		users[creator] = 100
	}
	pl["invite"] = difftool.Pick(r, 0, 0, 50, 50, 100)
	for _, u := range residents[:3] {
		if u != creator {
			users[u] = difftool.Pick(r, 0, 50, 100)
		}
	}
	if r.Intn(6) == 0 {
		pl["users_default"] = difftool.Pick(r, 0, 50)
	}
	rm.add("m.room.power_levels", creator, "", pl)
	rules := []string{"public", "invite", "restricted", "restricted", "knock", "knock_restricted", "knock_restricted"}
	rm.rule = difftool.Pick(r, rules...)
	if knock {
		rm.rule = difftool.Pick(r, "knock", "knock_restricted")
	}
	jc := M{"join_rule": rm.rule}
	if strings.Contains(rm.rule, "restricted") {
		jc["allow"] = []any{M{"type": "m.room_membership", "room_id": difftool.Pick(r, otherRooms...)}}
	}
	if r.Intn(12) != 0 {
		rm.add("m.room.join_rules", creator, "", jc)
	} else {
		rm.rule = "(none)"
	}
	mships := []string{"join", "join", "join", "", "invite", "leave", "ban"}
	if rm.ver >= 7 {
		mships = append(mships, "knock")
	}
	for _, u := range append(append(append([]string{}, residents...), remotes...), locals...) {
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
		rm.add("m.room.member", sender, u, M{"membership": m})
		rm.ms[u] = m
	}
	for _, t := range []string{"m.room.name", "m.room.topic", "m.room.avatar", "m.room.canonical_alias",
		"m.room.encryption", "m.room.history_visibility", "com.example.x"} {
		if r.Intn(2) == 0 {
			sk := ""
			if r.Intn(8) == 0 {
				sk = "x"
			}
			rm.add(t, creator, sk, M{"v": t})
		}
	}
	// state: the last event of each (type, state_key)
	var evs []*pdu.Event
	seen := map[string]int{}
	var raws [][]byte
	var ids []string
	for i, raw := range rm.raws {
		e, err := signing.ParseEvent(rm.v, raw)
		if err != nil {
			panic(err) // invariant: the harness built this room and its events itself
		}
		k := e.Type + "|" + *e.StateKey
		if j, ok := seen[k]; ok {
			evs[j], raws[j], ids[j] = e, raw, rm.ids[i]
			continue
		}
		seen[k] = len(evs)
		evs = append(evs, e)
		raws = append(raws, raw)
		ids = append(ids, rm.ids[i])
	}
	st, err := authrules.NewState(rm.v, evs)
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	rm.state, rm.raws, rm.ids = st, raws, ids
	return rm
}

func (rm *room) stateJSON() []json.RawMessage {
	out := make([]json.RawMessage, len(rm.raws))
	for i, r := range rm.raws {
		out[i] = r
	}
	return out
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

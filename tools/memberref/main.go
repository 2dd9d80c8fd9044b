// Command memberref compares roomproto's membership.DecideJoin and membership.DecideKnock, the
// decisions of a resident server on /make_join, /send_join, /make_knock and /send_knock, with an
// independent Python reference written from the spec text only (memberref.py in this directory).
//
//	go run ./tools/memberref -n 20000 -seed 1 [-decisions] [-versions 8,10,12] [-out DIR]
//
// It draws random rooms (room versions 1-12: power levels with users, users_default and
// invite, join rules with random allow lists including malformed entries, members of several
// servers with every membership), a requesting user and server, a resident server, the
// resident's knowledge of the other rooms' memberships (membership.KnownRooms), and compares per
// case: allowed or not; the authorising user (roomproto's must be one the reference accepts,
// and be there exactly when the reference needs one); the HTTP status and errcode of a refusal.
//
// Divergences are grouped; each group is printed with its first and smallest example (also in
// DIR/divergences.jsonl with -out). Exit status 1 on any divergence or harness error, 2 when
// the reference cannot be started.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

const resident = "r.example"

var (
	// users of the generated rooms, on several servers; the resident's first.
	users = []string{
		"@alice:r.example", "@bob:r.example", "@carol:r.example", "@dan:r.example",
		"@erin:a.example", "@fay:a.example", "@gus:b.example", "@hal:c.example",
		"@ivy:r.example:8448",
	}
	// historical user IDs (appendices "Historical User IDs": servers "MUST accept user IDs with
	// localparts consisting of any legal non-surrogate Unicode code points except for : and
	// NUL ..., including other control characters and the empty string") and a user of an IPv6
	// literal server; some cases draw from them too.
	historical = []string{"@Zed:r.example", "@:r.example", "@old user:a.example", "@\u00fcber:b.example",
		"@tab\there:r.example", "@v6:[::1]:8448", "@x*y:r.example"}
	// servers that may send a request or be the resident.
	servers = []string{"r.example", "a.example", "b.example", "c.example", "r.example:8448", "z.example", "[::1]:8448"}
	// rooms allow conditions name (the room itself is added per room).
	otherRooms = []string{"!o1:a.example", "!o2:b.example", "!o3:r.example", "!o4:c.example",
		"!", "!Hx4hUSbVq0mM1Zy2TfyGbbM5Z7y1ZlvSYyVQuQ8Vg3g"}
)

type refReq struct {
	Op       string                       `json:"op"`
	V        string                       `json:"v"`
	State    []json.RawMessage            `json:"state"`
	UserID   string                       `json:"user_id"`
	Resident string                       `json:"resident_server,omitempty"`
	Origin   *string                      `json:"origin"`
	Ver      []string                     `json:"ver"`
	Rooms    map[string]map[string]string `json:"rooms"`
}

type refResp struct {
	Allow       bool     `json:"allow"`
	NeedsAuth   bool     `json:"needs_authoriser"`
	Authorisers []string `json:"authorisers"`
	Preferred   *string  `json:"preferred"`
	Status      int      `json:"status"`
	ErrCode     string   `json:"errcode"`
	Why         string   `json:"why"`
	Amb         []string `json:"amb"`
	Invalid     string   `json:"invalid"`
	Error       string   `json:"error"`
}

// answer is one side's decision in a comparable form.
type answer struct {
	Allow      bool     `json:"allow"`
	Authoriser string   `json:"authoriser,omitempty"`
	Able       []string `json:"able_authorisers,omitempty"`
	Status     int      `json:"status,omitempty"`
	ErrCode    string   `json:"errcode,omitempty"`
	Why        string   `json:"why,omitempty"`
}

type example struct {
	Version string         `json:"version"`
	Label   string         `json:"label"`
	Room    summary        `json:"room"`
	Request refReq         `json:"request"`
	RP      answer         `json:"roomproto"`
	Ref     answer         `json:"reference"`
	Amb     []string       `json:"amb,omitempty"`
	Vers    map[string]int `json:"-"`
}

func main() {
	var fl pyref.Flags
	fl.Define(flag.CommandLine, 20000, "MEMBERREF_DECISIONS", false, "print every example of every group (first and smallest)")
	fl.DefineOut(flag.CommandLine)
	flag.Parse()

	ref := fl.Start(pyref.Beside("memberref.py"))
	ask := func(req refReq) (r refResp) {
		ref.MustAskNote(req, &r, &r.Error)
		return r
	}

	versions := fl.VersionList()
	r := fl.Rand()
	tallies := pyref.NewOpTally("allowed")
	groups := pyref.Groups[*example]{}
	ambSeen := map[string]int{}
	outcomes := map[string]int{}
	var skipped, harness int
	for i := 0; i < fl.N; i++ {
		vid := difftool.Pick(r, versions...)
		c := genCase(r, vid, i)
		st, err := buildState(c)
		if err != nil {
			skipped++
			outcomes["skipped (roomproto): "+skipReason(err)]++
			continue
		}
		rv := ask(c.req)
		if rv.Error != "" {
			harness++
			fmt.Fprintln(os.Stderr, "reference error:", rv.Error)
			continue
		}
		if rv.Invalid != "" {
			skipped++
			outcomes["skipped (reference): "+rv.Invalid]++
			continue
		}
		rp := runRP(c, st)
		ref := answer{Allow: rv.Allow, Status: rv.Status, ErrCode: rv.ErrCode, Why: rv.Why}
		if rv.NeedsAuth {
			ref.Able = rv.Authorisers
			if rv.Preferred != nil {
				ref.Authoriser = *rv.Preferred
			}
		}
		for _, f := range rv.Amb {
			ambSeen[c.req.Op+" "+f]++
		}
		t := tallies.Case(vid, c.req.Op, ref.Allow)
		outcomes[c.req.Op+" "+short(ref)]++
		if strings.Contains(c.label, "historical") && slices.Contains(historical, c.req.UserID) {
			outcomes["historical joiner: "+c.req.Op+" "+short(ref)]++
		}
		d := compare(rp, ref, rv)
		if d == "" {
			continue
		}
		t.Diverge++
		ex := &example{Version: vid, Label: c.label, Room: summarize(c.raws), Request: c.req, RP: rp, Ref: ref, Amb: rv.Amb}
		b, _ := json.Marshal(c.req)
		key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", d, c.req.Op, short(rp), short(ref), strings.Join(rv.Amb, ","))
		groups.Add(key, vid, ex, len(b))
	}
	ref.Close()

	tallyText, total, divs := tallies.Table()
	var covText strings.Builder
	for _, m := range []map[string]int{outcomes, ambSeen} {
		for _, k := range difftool.SortedKeys(m) {
			fmt.Fprintf(&covText, "%d\t%s\n", m[k], k)
		}
	}
	if err := pyref.WriteRun(fl.Out, tallyText, covText.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	groups.Print(os.Stdout, fl.Verbose, func(ex *example) any {
		c := *ex
		c.Request.State = nil // the summary says what matters; the events are in -out
		return c
	})
	fmt.Printf("compared %d, skipped %d (state not valid), harness errors %d, divergences %d, groups %d\n",
		total, skipped, harness, divs, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

// compare returns "" when roomproto's answer is one the reference accepts, else the kind of
// divergence.
func compare(rp, ref answer, rv refResp) string {
	switch {
	case rp.Allow != ref.Allow:
		return "VERDICT"
	case !rp.Allow:
		if rp.Status != ref.Status || rp.ErrCode != ref.ErrCode {
			return "ERRCODE"
		}
	case rv.NeedsAuth && rp.Authoriser == "":
		return "AUTHORISER-missing"
	case !rv.NeedsAuth && rp.Authoriser != "":
		return "AUTHORISER-extra"
	case rv.NeedsAuth && !slices.Contains(rv.Authorisers, rp.Authoriser):
		return "AUTHORISER-not-able"
	case rv.NeedsAuth && rv.Preferred != nil && *rv.Preferred != rp.Authoriser:
		return "AUTHORISER-choice"
	}
	return ""
}

func short(a answer) string {
	if a.Allow {
		if a.Authoriser != "" || len(a.Able) > 0 {
			return "ALLOW+authoriser"
		}
		return "ALLOW"
	}
	return fmt.Sprintf("%d:%s", a.Status, a.ErrCode)
}

// tcase is one generated request.
type tcase struct {
	b     *authgen.Builder
	req   refReq
	raws  [][]byte
	label string
}

// genCase draws a room of version vid and a join or knock request on it.
func genCase(r *rand.Rand, vid string, i int) tcase {
	ver := difftool.VerNum(vid)
	b := &authgen.Builder{V: authgen.Version(vid), Ver: ver, R: r, N: i * 1000}
	var labels []string
	// focus: a restricted join with a satisfiable condition, where the authoriser is chosen
	focus := ver >= 8 && r.Intn(2) == 0
	op := "join"
	if !focus && r.Intn(10) < 4 {
		op = "knock"
	}
	knockFocus := op == "knock" && ver >= 7 && r.Intn(2) == 0
	if focus {
		labels = append(labels, "focus")
	}
	pool := users
	if r.Intn(8) == 0 {
		pool = append(append([]string{}, users...), historical...)
		labels = append(labels, "historical")
	}
	creator := users[0]
	if r.Intn(5) == 0 {
		creator = difftool.Pick(r, users[4:]...)
	}
	if ver < 12 {
		b.RoomID = "!room:" + difftool.DomainOf(creator)
	}
	// m.room.create
	cc := M{"room_version": vid}
	if ver <= 10 {
		cc["creator"] = creator
		if r.Intn(10) == 0 {
			cc["creator"] = difftool.Pick(r, users...) // content.creator need not be the sender
			labels = append(labels, "creator-field")
		}
	} else if ver == 11 && r.Intn(10) == 0 {
		cc["creator"] = difftool.Pick(r, users...) // ignored from v11
		labels = append(labels, "creator-field")
	}
	if r.Intn(10) == 0 {
		cc["m.federate"] = false // rule 3 (v12: 4) before every member rule (tools/scenarios S6)
		labels = append(labels, "no-federate")
	}
	var addl []string
	if ver >= 12 && r.Intn(3) == 0 {
		for _, u := range pool {
			if u != creator && r.Intn(4) == 0 {
				addl = append(addl, u)
			}
		}
		if len(addl) > 0 {
			cc["additional_creators"] = toAny(addl)
			labels = append(labels, "additional_creators")
		}
	}
	create := b.Mk("m.room.create", creator, authgen.Sp(""), cc, nil, authgen.Opts{})
	if ver >= 12 {
		b.RoomID = "!" + create.ID[1:]
	}
	raws := [][]byte{create.Raw}
	base := []string{create.ID}
	isCreator := map[string]bool{creator: true}
	if ver >= 12 {
		for _, u := range addl {
			isCreator[u] = true
		}
	}

	// memberships
	ms := map[string]string{}
	if r.Intn(12) != 0 {
		ms[creator] = "join"
	} else {
		ms[creator] = difftool.Pick(r, "leave", "ban")
	}
	mships := []string{"", "", "join", "join", "join", "invite", "leave", "ban"}
	if ver >= 7 {
		mships = append(mships, "knock")
	}
	for _, u := range pool {
		if u == creator {
			continue
		}
		if m := difftool.Pick(r, mships...); m != "" {
			ms[u] = m
		}
	}
	for _, u := range difftool.SortedKeys(ms) {
		sender := u
		if ms[u] == "invite" || ms[u] == "ban" {
			sender = creator
		}
		raws = append(raws, b.Mk("m.room.member", sender, authgen.Sp(u), M{"membership": ms[u]}, base, authgen.Opts{}).Raw)
	}

	// m.room.power_levels
	if r.Intn(8) != 0 {
		pl := M{}
		if r.Intn(3) != 0 {
			pl["invite"] = level(r, ver, 0, 0, 0, 10, 50, 50, 100, -10, 101)
		}
		if r.Intn(3) == 0 {
			pl["users_default"] = level(r, ver, 0, 0, 10, 50, -5, 100)
		}
		for _, k := range []string{"kick", "ban", "state_default"} {
			if r.Intn(3) == 0 {
				pl[k] = level(r, ver, 0, 50, 100)
			}
		}
		u := M{}
		for _, x := range pool {
			if ver >= 12 && isCreator[x] {
				continue // rule 10.4 (v12): creators cannot be in users
			}
			if x == creator && r.Intn(4) != 0 {
				u[x] = level(r, ver, 100, 100, 50)
				continue
			}
			if r.Intn(2) == 0 {
				u[x] = level(r, ver, 0, 0, 10, 49, 50, 50, 51, 100, -1)
			}
		}
		if r.Intn(10) != 0 {
			pl["users"] = u
		}
		raws = append(raws, b.Mk("m.room.power_levels", creator, authgen.Sp(""), pl, base, authgen.Opts{}).Raw)
	} else {
		labels = append(labels, "no-pl")
	}

	// m.room.join_rules
	rule := "(none)"
	if r.Intn(14) != 0 {
		rules := []string{"public", "invite", "knock", "restricted", "restricted", "restricted",
			"knock_restricted", "knock_restricted", "knock_restricted"}
		if r.Intn(10) == 0 {
			rules = []string{"private", "", "Restricted", "custom"}
		}
		jc := M{}
		rule = difftool.Pick(r, rules...)
		if knockFocus {
			rule = "knock"
			if ver >= 10 && r.Intn(2) == 0 {
				rule = "knock_restricted"
			}
		}
		if focus {
			rule = "restricted"
			if ver >= 10 && r.Intn(2) == 0 {
				rule = "knock_restricted"
			}
		}
		switch r.Intn(40) {
		case 0:
			rule = "(missing)"
		case 1:
			rule = "(number)"
			jc["join_rule"] = 1
		default:
			jc["join_rule"] = rule
		}
		if strings.Contains(rule, "estricted") || r.Intn(8) == 0 {
			a, lab := allowList(r, b.Room())
			if l, ok := a.([]any); focus && (ok || a == nil) {
				a = append(l, M{"type": "m.room_membership", "room_id": difftool.Pick(r, otherRooms[:4]...)})
			}
			if a != nil {
				jc["allow"] = a
				labels = append(labels, lab)
			}
		}
		raws = append(raws, b.Mk("m.room.join_rules", creator, authgen.Sp(""), jc, base, authgen.Opts{}).Raw)
	}

	// other state: the stripped state types (some with a non-empty state key) and others
	for _, t := range []string{"m.room.name", "m.room.topic", "m.room.avatar", "m.room.canonical_alias",
		"m.room.encryption", "m.room.history_visibility", "m.room.guest_access", "com.example.state"} {
		if r.Intn(3) == 0 {
			sk := ""
			if r.Intn(6) == 0 {
				sk = "x"
			}
			raws = append(raws, b.Mk(t, creator, authgen.Sp(sk), M{"v": t}, base, authgen.Opts{}).Raw)
		}
	}

	// the request
	user := difftool.Pick(r, pool...)
	if r.Intn(4) == 0 {
		user = "@new:" + difftool.Pick(r, servers...)
	}
	if focus || knockFocus {
		for tries := 0; tries < 5 && (ms[user] == "join" || ms[user] == "invite" || ms[user] == "ban"); tries++ {
			user = difftool.Pick(r, pool...)
		}
	}
	req := refReq{Op: op, V: vid, UserID: user}
	if op == "join" {
		req.Resident = resident
		if r.Intn(8) == 0 {
			req.Resident = difftool.Pick(r, servers...)
		}
	}
	if r.Intn(2) == 0 {
		o := difftool.DomainOf(user)
		if r.Intn(6) == 0 {
			o = difftool.Pick(r, servers...)
		}
		req.Origin = &o
	}
	if r.Intn(3) == 0 && (!focus || r.Intn(3) == 0) {
		switch r.Intn(8) {
		case 0, 1, 5, 6, 7:
			req.Ver = pyref.Versions
		case 2:
			req.Ver = []string{"1"} // a make_join without ver
		case 3:
			for _, v := range pyref.Versions {
				if v != vid {
					req.Ver = append(req.Ver, v)
				}
			}
		default:
			req.Ver = []string{}
			for _, v := range pyref.Versions {
				if r.Intn(2) == 0 {
					req.Ver = append(req.Ver, v)
				}
			}
		}
	}
	// what the resident knows of the rooms allow conditions may name
	req.Rooms = map[string]map[string]string{}
	if r.Intn(20) == 0 {
		req.Rooms = nil // knows no room (JoinRequest.Rooms nil)
	}
	for _, rid := range append(append([]string{}, otherRooms...), b.Room()) {
		if req.Rooms == nil || r.Intn(5) < 2 && !(focus && r.Intn(2) == 0) {
			continue // a room the resident does not participate in
		}
		mm := map[string]string{}
		m := difftool.Pick(r, "join", "join", "join", "", "leave", "invite", "ban", "knock")
		if focus && r.Intn(2) == 0 {
			m = "join"
		}
		if m != "" {
			mm[user] = m
		}
		if r.Intn(2) == 0 {
			mm[difftool.Pick(r, pool...)] = "join"
		}
		req.Rooms[rid] = mm
	}
	for _, raw := range raws {
		req.State = append(req.State, json.RawMessage(raw))
	}
	label := fmt.Sprintf("%s rule=%s user=%s", op, rule, ms[user])
	if len(labels) > 0 {
		label += " " + strings.Join(labels, ",")
	}
	return tcase{b: b, req: req, raws: raws, label: label}
}

func toAny(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// level returns one of xs, in a form the room version accepts: a string from v1-9, a float
// (with a fraction the spec truncates) in v1-5, sometimes beyond the int64 range in v1-9.
func level(r *rand.Rand, ver int, xs ...int) any {
	x := difftool.Pick(r, xs...)
	switch k := r.Intn(20); {
	case ver <= 9 && k < 3:
		signed := fmt.Sprintf("+%03d", x)
		if x < 0 {
			signed = fmt.Sprintf("-%03d", -x)
		}
		return difftool.Pick(r, fmt.Sprint(x), fmt.Sprintf(" %d ", x), signed, fmt.Sprintf("\t%d\n", x))
	case ver <= 5 && k < 5:
		return json.Number(difftool.Pick(r, fmt.Sprintf("%d.7", x), fmt.Sprintf("%de0", x), fmt.Sprintf("%d.0", x)))
	case ver <= 9 && k == 5:
		if x < 0 {
			return "-99999999999999999999"
		}
		return "99999999999999999999"
	}
	return x
}

// allowList returns a random `allow` value: valid conditions and malformed entries, or (rarely)
// not a list at all.
func allowList(r *rand.Rand, self string) (any, string) {
	switch r.Intn(25) {
	case 0:
		return nil, "" // no allow
	case 1:
		return difftool.Pick[any](r, M{}, "x", 1, nil), "allow-not-list"
	}
	var out []any
	bad := false
	if r.Intn(40) == 0 {
		// a long list: more than a thousand entries that are not conditions, then conditions
		for k := 1100 + r.Intn(200); k > 0; k-- {
			out = append(out, nil)
		}
		bad = true
	}
	for k := r.Intn(4); k >= 0; k-- {
		room := difftool.Pick(r, append(append([]string{}, otherRooms...), self)...)
		switch r.Intn(14) {
		case 0:
			out = append(out, M{"type": "m.room_membership"})
		case 1:
			out = append(out, M{"type": "m.room_membership", "room_id": 5})
		case 2:
			out = append(out, M{"type": "m.room_membership", "room_id": strings.TrimPrefix(room, "!")})
		case 3:
			out = append(out, M{"type": difftool.Pick(r, "m.space_membership", "M.ROOM_MEMBERSHIP", ""), "room_id": room})
		case 4:
			out = append(out, M{"room_id": room})
		case 5:
			out = append(out, difftool.Pick[any](r, room, nil, 3, []any{room}))
		case 6:
			out = append(out, M{"type": "m.room_membership", "room_id": room, "via": []any{"a.example"}})
		default:
			out = append(out, M{"type": "m.room_membership", "room_id": room})
			continue
		}
		bad = true
	}
	if out == nil {
		out = []any{}
	}
	if bad {
		return out, "allow-malformed"
	}
	return out, "allow"
}

// buildState parses the case's state events and builds the authrules.State.
func buildState(c tcase) (*authrules.State, error) {
	var evs []*pdu.Event
	for _, raw := range c.raws {
		e, err := signing.ParseEvent(c.b.V, raw)
		if err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return authrules.NewState(c.b.V, evs)
}

// runRP asks roomproto: DecideJoin with the request's origin and ver, or CheckMakeRequest (when
// the request has an origin or a ver) and then DecideKnock.
func runRP(c tcase, st *authrules.State) answer {
	origin := ""
	if c.req.Origin != nil {
		origin = *c.req.Origin
	}
	var err error
	var d membership.JoinDecision
	if c.req.Op == "join" {
		var rooms membership.RoomMemberships
		if c.req.Rooms != nil {
			rooms = membership.KnownRooms(c.req.Rooms)
		}
		d, err = membership.DecideJoin(membership.JoinRequest{State: st, UserID: c.req.UserID,
			ResidentServer: c.req.Resident, Rooms: rooms, Origin: origin, Ver: c.req.Ver})
	} else {
		if origin != "" || c.req.Ver != nil {
			err = membership.CheckMakeRequest(c.b.V, c.req.UserID, origin, c.req.Ver)
		}
		if err == nil {
			err = membership.DecideKnock(st, c.req.UserID)
		}
		if err == nil {
			if p := checkStripped(st); p != "" {
				return answer{Allow: true, Why: "knock_room_state: " + p}
			}
		}
	}
	if err == nil {
		return answer{Allow: true, Authoriser: d.AuthorisingUser, Why: d.Basis.String()}
	}
	var me *membership.Error
	if errors.As(err, &me) {
		return answer{Status: me.Status, ErrCode: me.ErrCode, Why: me.Message}
	}
	return answer{Status: 500, ErrCode: "(not a membership.Error)", Why: err.Error()}
}

// summary is the part of a room's state the decisions read, for printing examples.
type summary struct {
	Create      M                 `json:"create"`
	PowerLevels M                 `json:"power_levels,omitempty"`
	JoinRules   M                 `json:"join_rules,omitempty"`
	Members     map[string]string `json:"members"`
}

func summarize(raws [][]byte) summary {
	s := summary{Members: map[string]string{}}
	for _, raw := range raws {
		m := difftool.Decode(raw)
		c, _ := m["content"].(M)
		switch m["type"] {
		case "m.room.create":
			s.Create = M{"sender": m["sender"], "content": c}
		case "m.room.power_levels":
			s.PowerLevels = c
		case "m.room.join_rules":
			s.JoinRules = c
		case "m.room.member":
			ms, _ := c["membership"].(string)
			s.Members[m["state_key"].(string)] = ms
		}
	}
	return s
}

// checkStripped checks the knock_room_state roomproto would return for an allowed knock
// (membership.StrippedState) against what the spec requires of it: it "MUST contain the
// m.room.create event for the room" (knocks.yaml), and its events are the room's current state
// events of the types stripped state lists (client-server-api "Stripped state": "some or all
// of", and "The server might include events not described here as well", so any subset, and
// other current state events, comply). It returns "" when they comply.
func checkStripped(st *authrules.State) string {
	evs := membership.StrippedState(st)
	hasCreate := false
	seen := map[string]bool{}
	for _, e := range evs {
		if e.StateKey == nil {
			return "a non-state event " + e.Type
		}
		k := e.Type + "|" + *e.StateKey
		if seen[k] {
			return "twice " + k
		}
		seen[k] = true
		cur := st.Get(e.Type, *e.StateKey)
		if cur == nil || string(cur.Raw()) != string(e.Raw()) {
			return "not current state: " + k
		}
		if e.Type == "m.room.create" {
			hasCreate = true
		}
	}
	if !hasCreate {
		return "no m.room.create"
	}
	return ""
}

// skipReason is err's message without offsets, so skips group.
func skipReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " at offset"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

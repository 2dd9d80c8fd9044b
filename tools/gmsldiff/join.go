package main

// Area join: the membership handshakes. roomproto membership.MakeJoin / SendJoin / DecideKnock /
// SignInvite against GMSL HandleMakeJoin / HandleSendJoin (+ Allowed, as Dendrite inputs the
// event) / Allowed on a knock event / HandleInvite (after Dendrite's InviteV2 checks), on random
// rooms.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"time"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var joinArea = &Area{
	Name:     "join",
	Title:    "membership.MakeJoin/SendJoin/DecideKnock/SignInvite vs GMSL HandleMakeJoin/HandleSendJoin+Allowed/Allowed/HandleInvite",
	Unit:     "random rooms, each with 4 make_join, 4 send_join, 4 knock and 4 invite requests",
	DefaultN: 2500,
	Run:      runJoin,
	Classes:  joinClasses,
}

const ssRestricted = "server-server-api.md \"Restricted rooms\""

var joinClasses = []*Class{
	{ID: "B1-authoriser-from-allow-room", Cat: GMSLDeparts, Desc: "make_join: GMSL takes the authoriser from the local users of the allow room, filtered by level only, never checking they are joined here: it fails where an able user exists",
		Spec: "v8-auth-rules.md 4.3.5.2 (the authoriser must be a joined member able to invite); " + ssRestricted},
	{ID: "B2-no-unable-to-grant", Cat: GMSLDeparts, Desc: "GMSL never answers 400 M_UNABLE_TO_GRANT_JOIN (a condition is met but no local user can authorise)",
		Spec: ssRestricted + " \"The resident server uses a 400 M_UNABLE_TO_GRANT_JOIN ...\""},
	{ID: "B3-send_join-skips-conditions", Cat: GMSLDeparts, Desc: "send_join: GMSL does not check the allow conditions, only the auth rules (a join naming an able authoriser is accepted from anyone)",
		Spec: ssRestricted + " \"must ensure that the joining server satisfies at least one of the conditions\" (on /make_join and /send_join)"},
	{ID: "B4-undefined-join-rule", Cat: GMSLDeparts, Desc: "a join rule the room version does not define (knock < v7, restricted < v8, knock_restricted < v10, private): GMSL lets invited/joined users in or runs the restricted logic; roomproto refuses everyone",
		Spec: "v8-auth-rules.md 4.3.4-4.3.7 (\"Otherwise, reject\"); decisions.md (membership) 5"},
	{ID: "B5-knock-to-join-public", Cat: GMSLDeparts, Desc: "a user whose membership is knock may not join a public room in GMSL's auth rules",
		Spec: "v10 auth rules 4.3.6 \"If the join_rule is public, allow\""},
	{ID: "B6-allow-not-decodable", Cat: GMSLDeparts, Desc: "an allow list Go cannot decode (non-string room_id, non-object entry): GMSL's make_join answers 500 and its auth rules read the join rule as \"\"",
		Spec: ssRestricted + " \"none match the required schema\" (failed conditions, not an error); the join rule is read from join_rule only"},
	{ID: "B7-restricted-without-power-levels", Cat: GMSLDeparts, Desc: "a restricted room without m.room.power_levels: GMSL's make_join answers 500; the default levels apply",
		Spec: "m.room.power_levels.yaml defaults; v8-auth-rules.md (levels default when there is no event)"},
	{ID: "B8-knock_restricted-before-v10", Cat: GMSLDeparts, Desc: "GMSL lets users knock on knock_restricted rooms in v7-9",
		Spec: "rooms/fragments/v7 and v8 auth rules 4.7.1 \"If the join_rule is anything other than knock, reject\" (knock_restricted comes with v10)"},
	{ID: "B9-send_join-non-member", Cat: GMSLDeparts, Desc: "send_join accepts an event that is not m.room.member (Dendrite then inputs it; only the auth rules may refuse it)",
		Spec: "joins-v2.yaml \"servers SHOULD return M_INVALID_PARAM if ... The event type is not m.room.member\""},
	{ID: "B10-invite-checks-missing", Cat: GMSLDeparts, Desc: "invite: GMSL signs an invite whose membership is not invite, whose type is not m.room.member, or whose sender is not on the origin",
		Spec: "invites-v2.yaml \"Servers MUST apply certain validation to ensure they don't accidentally sign non-invite events\""},
	{ID: "B11-authoriser-checks", Cat: GMSLDeparts, Desc: "send_join: GMSL accepts join_authorised_via_users_server \"\" (v8+), and refuses (400 M_BAD_JSON) a join whose key is not a local user ID before it looks at the join, even in v1-7 where the key means nothing",
		Spec: "v8-auth-rules.md 4.2.1 (\"\" names no server that could sign); the key is added in v8 (m.room.member.yaml)"},
	{ID: "B12-error-codes", Cat: GMSLDeparts, Desc: "both refuse, GMSL with M_BAD_JSON or 403 where roomproto answers 400 M_INVALID_PARAM",
		Spec: "joins-v2.yaml / invites-v2.yaml \"servers SHOULD return M_INVALID_PARAM if ...\""},
	{ID: "C1-joined-user-needs-no-condition", Cat: SpecSilent, Desc: "a user already joined to a restricted room: roomproto allows the join (no authoriser); GMSL evaluates the conditions",
		Spec: "v8-auth-rules.md 4.3.5.1 \"If membership state is join or invite, allow\"; decisions.md (membership) 19"},
	{ID: "C2-banned-before-conditions", Cat: SpecSilent, Desc: "a banned user in a restricted room with unverifiable conditions: roomproto 403, GMSL 400 M_UNABLE_TO_AUTHORISE_JOIN",
		Spec: "rule 4.3.3 (banned) precedes 4.3.5; decisions.md (membership) 3"},
	{ID: "C3-local-joiner-unknown-room", Cat: SpecSilent, Desc: "a local joiner and allow rooms the resident does not know: roomproto 403 (it would know), GMSL 400",
		Spec: "decisions.md (membership) 2"},
	{ID: "C4-different-authoriser", Cat: SpecSilent, Desc: "both allow with different valid authorisers (roomproto: highest level, then user ID; GMSL: first in its list)",
		Spec: ssRestricted + " (\"an arbitrary user\"); decisions.md (membership) 7"},
	{ID: "C5-content-hash-broken", Cat: SpecSilent, Desc: "a broken content hash on send_join/invite: roomproto answers 400 M_INVALID_PARAM first; GMSL accepts, or refuses later for another reason",
		Spec: "joins-v2.yaml \"fails a signature check\" (links to validating hashes and signatures); decisions.md (membership) 8"},
	{ID: "C6-v1-event-id-domain", Cat: SpecSilent, Desc: "v1-2 join/invite whose event_id is in the resident's or a third server's domain: roomproto refuses it first, GMSL accepts or signs it (or refuses later for another reason)",
		Spec: "rooms/fragments/v1-event-ids.md; decisions.md (membership) 18"},
}

const (
	resident  = "res.test"
	joinRoom  = "!target:res.test"
	joinKeyID = "ed25519:1"
)

var (
	joinServers = []string{"res.test", "a.test", "j.test", "b.test"}
	joinUsers   = []string{"@c:res.test", "@r1:res.test", "@r2:res.test", "@r3:res.test", "@a1:a.test", "@a2:a.test", "@j:j.test", "@j2:j.test"}
	localUsers  = joinUsers[:4]
	joinCreator = joinUsers[0]
)

// joinRoomState is a generated room: GMSL's PDUs and roomproto's State of the same bytes.
type joinRoomState struct {
	ver    string
	g      gmsl.IRoomVersion
	v      roomversion.Version
	events []gmsl.PDU
	byKey  map[[2]string]gmsl.PDU
	rp     *authrules.State
	desc   []string
	ts     time.Time
}

func newJoinRoom(ver string) *joinRoomState {
	return &joinRoomState{ver: ver, g: gVersion(ver), v: authgen.Version(ver), byKey: map[[2]string]gmsl.PDU{}, ts: time.UnixMilli(1700000000000)}
}

func buildPDU(g gmsl.IRoomVersion, proto *gmsl.ProtoEvent, ts time.Time, signer string) (gmsl.PDU, error) {
	key := authgen.KeyFor(signer, "1")
	p, err := g.NewEventBuilderFromProtoEvent(proto).Build(ts, spec.ServerName(signer), joinKeyID, key.Private)
	if err != nil || g.EventIDFormat() != gmsl.EventIDFormatV1 {
		return p, err
	}
	// GMSL gives a v1-2 event a random event_id (util.RandomString, seeded by the clock), which
	// made the output differ between runs of one seed. Replace it by one derived from the rest of
	// the event, then sign again.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(p.JSON(), &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"event_id", "hashes", "signatures", "unsigned"} {
		delete(m, k)
	}
	sum := sha256.Sum256(difftool.Enc(m))
	m["event_id"] = difftool.Enc("$" + base64.RawURLEncoding.EncodeToString(sum[:12]) + ":" + signer)
	signed, err := signing.SignEvent(authgen.Version(string(g.Version())), difftool.Enc(m), signer, key)
	if err != nil {
		return nil, err
	}
	return g.NewEventFromTrustedJSON(signed, false)
}

func (r *joinRoomState) add(sender, typ, sk string, content []byte) {
	s := sk
	proto := gmsl.ProtoEvent{SenderID: sender, RoomID: joinRoom, Type: typ, StateKey: &s, Content: content, PrevEvents: []string{}, AuthEvents: []string{}}
	if len(r.events) > 0 {
		proto.PrevEvents = []string{r.events[len(r.events)-1].EventID()}
		proto.AuthEvents = []string{r.events[0].EventID()}
	}
	proto.Depth = int64(len(r.events) + 1)
	r.ts = r.ts.Add(time.Second)
	ev, err := buildPDU(r.g, &proto, r.ts, difftool.DomainOf(sender))
	if err != nil {
		panic(fmt.Sprintf("build %s: %v", typ, err)) // invariant: the harness built this input or table itself
	}
	r.events = append(r.events, ev)
	r.byKey[[2]string{typ, sk}] = ev
	if typ == "m.room.member" {
		r.desc = append(r.desc, sk+"="+r.membership(sk))
	} else if typ != "m.room.create" {
		r.desc = append(r.desc, typ+":"+string(content))
	}
}

func (r *joinRoomState) addJSON(sender, typ, sk string, content any) {
	r.add(sender, typ, sk, difftool.Enc(content))
}

func (r *joinRoomState) membership(u string) string {
	if e, ok := r.byKey[[2]string{"m.room.member", u}]; ok {
		m, _ := e.Membership()
		return m
	}
	return ""
}

func (r *joinRoomState) keys() [][2]string {
	ks := make([][2]string, 0, len(r.byKey))
	for k := range r.byKey {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i][0] < ks[j][0] || ks[i][0] == ks[j][0] && ks[i][1] < ks[j][1] })
	return ks
}

// finish builds roomproto's State from the same event bytes.
func (r *joinRoomState) finish() error {
	var evs []*pdu.Event
	for _, k := range r.keys() {
		e := r.byKey[k]
		p, err := signing.ParseEvent(r.v, e.JSON())
		if err != nil {
			return fmt.Errorf("roomproto parse %s: %w", e.Type(), err)
		}
		if p.EventID != e.EventID() {
			return fmt.Errorf("event ID %s (roomproto) vs %s (GMSL)", p.EventID, e.EventID())
		}
		evs = append(evs, p)
	}
	s, err := authrules.NewState(r.v, evs)
	r.rp = s
	return err
}

// template builds what GMSL's HandleMakeJoin needs from its BuildEventTemplate callback, as
// Dendrite does: auth events from the current state, the latest event as prev_events.
func (r *joinRoomState) template(proto *gmsl.ProtoEvent) (gmsl.PDU, []gmsl.PDU, error) {
	needed, err := gmsl.StateNeededForProtoEvent(proto)
	if err != nil {
		return nil, nil, err
	}
	state, ids := []gmsl.PDU{}, []string{}
	for _, t := range needed.Tuples() {
		if e, ok := r.byKey[[2]string{t.EventType, t.StateKey}]; ok {
			state = append(state, e)
			ids = append(ids, e.EventID())
		}
	}
	proto.AuthEvents = ids
	proto.PrevEvents = []string{r.events[len(r.events)-1].EventID()}
	proto.Depth = int64(len(r.events) + 1)
	ev, err := buildPDU(r.g, proto, r.ts.Add(time.Second), resident)
	return ev, state, err
}

// authEventsFor returns the state events GMSL's Allowed needs for an event.
func (r *joinRoomState) authEventsFor(ev gmsl.PDU) gmsl.AuthEventProvider {
	var st []gmsl.PDU
	for _, t := range gmsl.StateNeededForAuth([]gmsl.PDU{ev}).Tuples() {
		if e, ok := r.byKey[[2]string{t.EventType, t.StateKey}]; ok {
			st = append(st, e)
		}
	}
	ae := gmsl.NewAuthEvents(st)
	return &ae
}

// joinScenario is a room plus what the resident knows of the rooms of the allow list.
type joinScenario struct {
	room      *joinRoomState
	rule      string // "" without a join rules event
	jrRaw     string
	known     map[string]bool            // allow room -> the resident is in it
	joined    map[string]map[string]bool // allow room -> user -> joined
	localIn   map[string][]string        // allow room -> local users joined there (GMSL's JoinedUsers)
	memberPDU map[string]gmsl.PDU        // cache of the member events GMSL's querier returns
}

func genJoinScenario(rng *rand.Rand, ver string) *joinScenario {
	r := newJoinRoom(ver)
	cc := M{"room_version": ver}
	if difftool.VerNum(ver) < 11 {
		cc["creator"] = joinCreator
	}
	r.addJSON(joinCreator, "m.room.create", "", cc)
	if rng.Intn(100) < 85 {
		r.addJSON(joinCreator, "m.room.member", joinCreator, M{"membership": "join"})
	} else {
		r.addJSON(joinCreator, "m.room.member", joinCreator, M{"membership": "leave"})
	}
	if rng.Intn(100) < 90 {
		us := M{}
		if rng.Intn(100) < 75 {
			us[joinCreator] = 100
		}
		for _, u := range joinUsers[1:] {
			if rng.Intn(100) < 45 {
				us[u] = difftool.Pick(rng, 0, 49, 50, 100)
			}
		}
		pl := M{"users": us}
		if rng.Intn(4) != 0 {
			pl["invite"] = difftool.Pick(rng, 0, 50, 100)
		}
		if rng.Intn(3) == 0 {
			pl["users_default"] = difftool.Pick(rng, 0, 50)
		}
		r.addJSON(joinCreator, "m.room.power_levels", "", pl)
	}
	sc := &joinScenario{room: r, known: map[string]bool{}, joined: map[string]map[string]bool{}, localIn: map[string][]string{}, memberPDU: map[string]gmsl.PDU{}}
	if rng.Intn(100) < 92 {
		rule := difftool.Pick(rng, "public", "invite", "knock", "restricted", "restricted", "restricted", "knock_restricted", "knock_restricted", "private")
		jr := M{"join_rule": rule}
		if rng.Intn(100) < 85 {
			allow := []any{}
			for i := rng.Intn(4); i > 0; i-- {
				k := rng.Intn(100)
				room := fmt.Sprintf("!r%d:x.test", 1+rng.Intn(4))
				switch {
				case k < 82:
					allow = append(allow, M{"type": "m.room_membership", "room_id": room})
				case k < 86:
					allow = append(allow, M{"type": "m.other", "room_id": room})
				case k < 90:
					allow = append(allow, M{"type": "m.room_membership"})
				case k < 94:
					allow = append(allow, M{"type": "m.room_membership", "room_id": "r" + room[2:3]}) // no "!"
				case k < 97:
					allow = append(allow, M{"type": "m.room_membership", "room_id": 5})
				default:
					allow = append(allow, "m.room_membership")
				}
			}
			jr["allow"] = allow
		}
		sc.rule = rule
		sc.jrRaw = string(difftool.Enc(jr))
		r.add(joinCreator, "m.room.join_rules", "", []byte(sc.jrRaw))
	}
	for _, u := range joinUsers[1:] {
		m := difftool.Pick(rng, "", "", "join", "join", "invite", "leave", "ban", "knock")
		if m == "" {
			continue
		}
		sender := u
		if m == "invite" || m == "ban" {
			sender = joinCreator
		}
		r.addJSON(sender, "m.room.member", u, M{"membership": m})
	}
	var targetLocalJoined []string
	for _, u := range localUsers {
		if r.membership(u) == "join" {
			targetLocalJoined = append(targetLocalJoined, u)
		}
	}
	sameUsers := rng.Intn(100) < 70
	for k := 1; k <= 4; k++ {
		room := fmt.Sprintf("!r%d:x.test", k)
		if rng.Intn(100) >= 60 {
			continue
		}
		sc.known[room] = true
		sc.joined[room] = map[string]bool{}
		for _, u := range joinUsers {
			if rng.Intn(2) == 0 {
				sc.joined[room][u] = true
			}
		}
		var loc []string
		if sameUsers && len(targetLocalJoined) > 0 {
			loc = append(loc, targetLocalJoined...)
		} else {
			for _, u := range localUsers {
				if rng.Intn(2) == 0 {
					loc = append(loc, u)
				}
			}
			if len(loc) == 0 {
				loc = []string{localUsers[rng.Intn(4)]}
			}
		}
		// The local users joined to the allow room are the same in both models.
		for _, u := range localUsers {
			sc.joined[room][u] = contains(loc, u)
		}
		sc.localIn[room] = loc
	}
	if err := r.finish(); err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return sc
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (sc *joinScenario) knownRooms() membership.KnownRooms {
	kr := membership.KnownRooms{}
	for room := range sc.known {
		m := map[string]string{}
		for u, j := range sc.joined[room] {
			if j {
				m[u] = "join"
			}
		}
		kr[room] = m
	}
	return kr
}

// joinQuerier answers GMSL's questions about the rooms as Dendrite's roomserver would.
type joinQuerier struct{ sc *joinScenario }

// CurrentStateEvent implements gmsl.RestrictedRoomJoinQuerier.
func (q joinQuerier) CurrentStateEvent(_ context.Context, _ spec.RoomID, typ, sk string) (gmsl.PDU, error) {
	if e, ok := q.sc.room.byKey[[2]string{typ, sk}]; ok {
		return e, nil
	}
	return nil, nil
}

// InvitePending implements gmsl.RestrictedRoomJoinQuerier.
func (q joinQuerier) InvitePending(_ context.Context, _ spec.RoomID, s spec.SenderID) (bool, error) {
	return q.sc.room.membership(string(s)) == "invite", nil
}

// RestrictedRoomJoinInfo implements gmsl.RestrictedRoomJoinQuerier: nil for an unknown room,
// JoinedUsers the local users joined to the allow room (as Dendrite answers).
func (q joinQuerier) RestrictedRoomJoinInfo(_ context.Context, rid spec.RoomID, s spec.SenderID, _ spec.ServerName) (*gmsl.RestrictedRoomJoinInfo, error) {
	room := rid.String()
	if !q.sc.known[room] {
		return nil, nil
	}
	var evs []gmsl.PDU
	for _, u := range q.sc.localIn[room] {
		evs = append(evs, q.sc.memberOf(room, u))
	}
	return &gmsl.RestrictedRoomJoinInfo{LocalServerInRoom: len(q.sc.localIn[room]) > 0, UserJoinedToRoom: q.sc.joined[room][string(s)], JoinedUsers: evs}, nil
}

// CurrentMembership implements gmsl.MembershipQuerier.
func (q joinQuerier) CurrentMembership(_ context.Context, _ spec.RoomID, s spec.SenderID) (string, error) {
	if m := q.sc.room.membership(string(s)); m != "" {
		return m, nil
	}
	return "leave", nil
}

func (sc *joinScenario) memberOf(room, u string) gmsl.PDU {
	if e, ok := sc.memberPDU[room+u]; ok {
		return e
	}
	sk := u
	proto := gmsl.ProtoEvent{SenderID: u, RoomID: room, Type: "m.room.member", StateKey: &sk, Content: []byte(`{"membership":"join"}`), PrevEvents: []string{}, AuthEvents: []string{}, Depth: 5}
	ev, err := buildPDU(sc.room.g, &proto, sc.room.ts, difftool.DomainOf(u))
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	sc.memberPDU[room+u] = ev
	return ev
}

// errCode renders either side's error as its errcode ("ok", "500", "M_FORBIDDEN" ...).
func errCode(err error) string {
	if err == nil {
		return "ok"
	}
	var re *membership.Error
	if errors.As(err, &re) {
		return re.ErrCode
	}
	switch e := err.(type) {
	case spec.InternalServerError:
		return "500"
	case spec.MatrixError:
		return string(e.ErrCode)
	case spec.IncompatibleRoomVersionError:
		return string(e.ErrCode)
	}
	var m struct {
		ErrCode string `json:"errcode"`
	}
	if b, err := json.Marshal(err); err == nil && json.Unmarshal(b, &m) == nil && m.ErrCode != "" {
		return m.ErrCode
	}
	return fmt.Sprintf("ERR(%T)", err)
}

// rpReason is the sentinel reason of a roomproto membership error.
func rpReason(err error) error {
	var re *membership.Error
	if errors.As(err, &re) {
		return re.Reason
	}
	return nil
}

// validAuthoriser: a user of the resident, joined to the room, whose level reaches the invite
// level (rule 4.3.5.2).
func (sc *joinScenario) validAuthoriser(u string) bool {
	if u == "" || difftool.DomainOf(u) != resident || sc.room.rp.Membership(u) != "join" {
		return false
	}
	pl := sc.room.rp.PowerLevels()
	return pl.UserLevel(u) >= pl.InviteLevel()
}

func (sc *joinScenario) describe(user, origin string, ver []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%s user=%s origin=%s", sc.room.ver, user, origin)
	if len(ver) != len(versions) {
		fmt.Fprintf(&b, " ver=%v", ver)
	}
	fmt.Fprintf(&b, " state=[%s]", strings.Join(sc.room.desc, "; "))
	var rooms []string
	for k := 1; k <= 4; k++ {
		room := fmt.Sprintf("!r%d:x.test", k)
		switch {
		case !strings.Contains(sc.jrRaw, room):
		case !sc.known[room]:
			rooms = append(rooms, room+":unknown")
		default:
			rooms = append(rooms, fmt.Sprintf("%s:{user_joined=%v local_joined=%v}", room, sc.joined[room][user], sc.localIn[room]))
		}
	}
	fmt.Fprintf(&b, " rooms=%v", rooms)
	return b.String()
}

// joinFacts are the features of a scenario the classifier looks at.
type joinFacts struct {
	v              int
	rule           string
	ruleDefined    bool
	restrictedLike bool // GMSL's reading: the join rule string is restricted or knock_restricted
	allowBad       bool // Go cannot decode the join rules content
	noPL           bool
	member         string // the user's membership
	local          bool   // the user is on the resident
}

func (sc *joinScenario) facts(user string) joinFacts {
	f := joinFacts{v: difftool.VerNum(sc.room.ver), rule: sc.rule, member: sc.room.membership(user), local: difftool.DomainOf(user) == resident}
	switch sc.rule {
	case "public", "invite", "":
		f.ruleDefined = true
	case "knock":
		f.ruleDefined = f.v >= 7
	case "restricted":
		f.ruleDefined = f.v >= 8
	case "knock_restricted":
		f.ruleDefined = f.v >= 10
	}
	f.restrictedLike = sc.rule == "restricted" || sc.rule == "knock_restricted"
	var jr gmsl.JoinRuleContent
	f.allowBad = sc.jrRaw != "" && json.Unmarshal([]byte(sc.jrRaw), &jr) != nil
	_, hasPL := sc.room.byKey[[2]string{"m.room.power_levels", ""}]
	f.noPL = !hasPL
	return f
}

func runJoin(t *Tally, n int, seed int64) {
	gRing, rpRing := keyRings(joinServers...)
	j := &joinRun{t: t, gRing: gRing, rpRing: rpRing}
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < n; i++ {
		// Restricted joins need v8+: two thirds of the rooms are v8-11.
		ver := difftool.Pick(rng, versions...)
		if rng.Intn(3) > 0 {
			ver = difftool.Pick(rng, "8", "9", "10", "11")
		}
		sc := genJoinScenario(rng, ver)
		for q := 0; q < 4; q++ {
			j.makeJoin(rng, sc)
		}
		for q := 0; q < 4; q++ {
			j.sendJoin(rng, sc)
		}
		for q := 0; q < 4; q++ {
			j.knock(rng, sc)
		}
		for q := 0; q < 4; q++ {
			j.invite(rng, sc)
		}
	}
}

type joinRun struct {
	t      *Tally
	gRing  *gmsl.KeyRing
	rpRing signing.KeyRing
}

// ---- make_join ----

func (j *joinRun) makeJoin(rng *rand.Rand, sc *joinScenario) {
	user := difftool.Pick(rng, "@j:j.test", "@j:j.test", "@j:j.test", "@j2:j.test", "@a1:a.test", "@r3:res.test")
	origin := difftool.DomainOf(user)
	if rng.Intn(40) == 0 {
		origin = difftool.Pick(rng, "a.test", "j.test")
	}
	ver := versions
	if rng.Intn(30) == 0 {
		ver = []string{"1", "2", "3", "4", "5", "6"}
	}
	gCode, gAuth, gMsg := gmslMakeJoin(sc, user, origin, ver)
	last := sc.room.events[len(sc.room.events)-1]
	dec, _, err := membership.MakeJoin(membership.JoinRequest{State: sc.room.rp, UserID: user, ResidentServer: resident, Rooms: sc.knownRooms(), Origin: origin, Ver: ver},
		membership.TemplateOptions{Origin: resident, OriginServerTS: 1700000100000, PrevEvents: []string{last.EventID()}, Depth: int64(len(sc.room.events) + 1)})
	rCode, rAuth := errCode(err), dec.AuthorisingUser
	if gCode == rCode && gAuth == rAuth {
		j.t.Agree()
		return
	}
	ex := fmt.Sprintf("make_join %s\nroomproto: %s %s (%v)\nGMSL: %s %s (%s)", sc.describe(user, origin, ver), rCode, rAuth, err, gCode, gAuth, gMsg)
	f := sc.facts(user)
	cls := classifyMakeJoin(sc, f, user, rCode, gCode, rAuth, gAuth, rpReason(err))
	j.t.Diverge(cls, fmt.Sprintf("make_join rp=%s%s gmsl=%s%s rule=%s v%d member=%s local=%v", rCode, authMark(rAuth), gCode, authMark(gAuth), f.rule, f.v, f.member, f.local), ex)
}

func authMark(a string) string {
	if a != "" {
		return "(authoriser)"
	}
	return ""
}

func gmslMakeJoin(sc *joinScenario, user, origin string, ver []string) (code, auth, msg string) {
	type res struct{ code, auth, msg string }
	r, err := safe(func() (res, error) {
		uid, err := spec.NewUserID(user, true)
		if err != nil {
			return res{code: "baduser"}, nil
		}
		rid, _ := spec.NewRoomID(joinRoom)
		var rv []gmsl.RoomVersion
		for _, x := range ver {
			rv = append(rv, gmsl.RoomVersion(x))
		}
		out, err := gmsl.HandleMakeJoin(gmsl.HandleMakeJoinInput{
			Context: context.Background(), UserID: *uid, SenderID: spec.SenderID(user), RoomID: *rid,
			RoomVersion: gmsl.RoomVersion(sc.room.ver), RemoteVersions: rv, RequestOrigin: spec.ServerName(origin),
			LocalServerName: resident, LocalServerInRoom: true, RoomQuerier: joinQuerier{sc},
			UserIDQuerier: userIDForSender, BuildEventTemplate: sc.room.template,
		})
		if err != nil {
			return res{code: errCode(err), msg: err.Error()}, nil
		}
		var mc gmsl.MemberContent
		_ = json.Unmarshal(out.JoinTemplateEvent.Content, &mc)
		return res{code: "ok", auth: mc.AuthorisedVia}, nil
	})
	if err != nil {
		return "PANIC", "", err.Error()
	}
	return r.code, r.auth, r.msg
}

// gmslPick is the authoriser GMSL's restricted-join check picks (its CheckRestrictedJoin).
func gmslPick(sc *joinScenario, user string) string {
	rid, _ := spec.NewRoomID(joinRoom)
	a, _ := safe(func() (string, error) {
		return sc.room.g.CheckRestrictedJoin(context.Background(), resident, joinQuerier{sc}, *rid, spec.SenderID(user))
	})
	return a
}

const (
	mForbidden = "M_FORBIDDEN"
	mAuthorise = "M_UNABLE_TO_AUTHORISE_JOIN"
	mGrant     = "M_UNABLE_TO_GRANT_JOIN"
	mInvalid   = "M_INVALID_PARAM"
	mBadJSON   = "M_BAD_JSON"
)

func classifyMakeJoin(sc *joinScenario, f joinFacts, user, r, g, rAuth, gAuth string, reason error) string {
	switch {
	case f.allowBad:
		return "B6-allow-not-decodable"
	case g == "500" && f.v >= 8 && f.restrictedLike && f.noPL && f.member != "invite":
		return "B7-restricted-without-power-levels"
	case !f.ruleDefined && r == mForbidden && errors.Is(reason, membership.ErrUnknownJoinRule):
		return "B4-undefined-join-rule"
	case f.member == "join" && f.restrictedLike && r == "ok" && rAuth == "":
		return "C1-joined-user-needs-no-condition"
	case f.member == "ban" && r == mForbidden && g == mAuthorise:
		return "C2-banned-before-conditions"
	case f.local && r == mForbidden && g == mAuthorise && errors.Is(reason, membership.ErrNoCondition):
		return "C3-local-joiner-unknown-room"
	case f.member == "knock" && f.rule == "public" && r == "ok" && g == mForbidden:
		return "B5-knock-to-join-public"
	case r == mGrant && (g == mForbidden || g == mAuthorise):
		return "B2-no-unable-to-grant"
	case r == "ok" && sc.validAuthoriser(rAuth) && g == "ok" && sc.validAuthoriser(gAuth):
		return "C4-different-authoriser"
	case r == "ok" && sc.validAuthoriser(rAuth) && g != "ok" && !sc.validAuthoriser(gmslPick(sc, user)):
		return "B1-authoriser-from-allow-room"
	}
	return ""
}

// ---- send_join ----

type sendJoinCase struct {
	name      string
	event     []byte
	pathRoom  string
	pathEvent string
	origin    string
	user      string
}

// buildMember builds a member-like event on the current state, signed by signer.
func (r *joinRoomState) buildMember(sender, sk string, content M, signer, typ string) []byte {
	s := sk
	proto := gmsl.ProtoEvent{SenderID: sender, RoomID: joinRoom, Type: typ, StateKey: &s, Content: difftool.Enc(content)}
	ids := []string{}
	if needed, err := gmsl.StateNeededForProtoEvent(&proto); err == nil {
		for _, t := range needed.Tuples() {
			if e, ok := r.byKey[[2]string{t.EventType, t.StateKey}]; ok {
				ids = append(ids, e.EventID())
			}
		}
	} else {
		ids = append(ids, r.events[0].EventID())
	}
	proto.AuthEvents = ids
	proto.PrevEvents = []string{r.events[len(r.events)-1].EventID()}
	proto.Depth = int64(len(r.events) + 1)
	ev, err := buildPDU(r.g, &proto, r.ts.Add(time.Second), signer)
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return ev.JSON()
}

// resignWith applies f to an event, then signs it again as signer (the content hash too).
func resignWith(v roomversion.Version, js []byte, signer string, f func(m M)) []byte {
	m := difftool.Decode(js)
	delete(m, "signatures")
	delete(m, "hashes")
	f(m)
	out, err := signing.SignEvent(v, difftool.Enc(m), signer, authgen.KeyFor(signer, "1"))
	if err != nil {
		return difftool.Enc(m)
	}
	return out
}

func eventIDOf(r *joinRoomState, js []byte) string {
	if ev, err := r.g.NewEventFromUntrustedJSON(js); err == nil {
		return ev.EventID()
	}
	id, _ := signing.EventID(r.v, js)
	return id
}

func (j *joinRun) genSendJoin(rng *rand.Rand, sc *joinScenario) sendJoinCase {
	r := sc.room
	user := difftool.Pick(rng, "@j:j.test", "@j:j.test", "@j2:j.test", "@a1:a.test")
	origin := difftool.DomainOf(user)
	content := M{"membership": "join"}
	// The authoriser: roomproto's choice, a random local user, or none.
	dec, err := membership.DecideJoin(membership.JoinRequest{State: r.rp, UserID: user, ResidentServer: resident, Rooms: sc.knownRooms()})
	switch k := rng.Intn(10); {
	case err == nil && dec.AuthorisingUser != "" && k < 6:
		content["join_authorised_via_users_server"] = dec.AuthorisingUser
	case k < 8:
		content["join_authorised_via_users_server"] = difftool.Pick(rng, localUsers...)
	}
	mut := rng.Intn(20)
	name := "valid"
	sender, sk, signer, typ := user, user, origin, "m.room.member"
	var post func(m M)
	switch mut {
	case 1:
		name, sk = "state_key!=sender", difftool.Pick(rng, "@j2:j.test", "@a2:a.test", "@r1:res.test")
	case 2:
		name, origin = "origin!=sender server", difftool.Pick(rng, "a.test", "b.test")
	case 3:
		name = "membership!=join"
		content["membership"] = difftool.Pick(rng, "leave", "knock", "invite", "ban")
	case 4:
		name = "wrong path room"
	case 5:
		name = "wrong path event id"
	case 6:
		name, signer = "signed by other server", "b.test"
	case 7:
		name = "authoriser of other server"
		content["join_authorised_via_users_server"] = difftool.Pick(rng, "@a1:a.test", "@j:j.test")
	case 8:
		name = "authoriser not a user ID"
		content["join_authorised_via_users_server"] = difftool.Pick(rng, "notauser", "@nodomain", "")
	case 9:
		name = "no authoriser"
		delete(content, "join_authorised_via_users_server")
	case 10:
		name = "no membership"
		delete(content, "membership")
	case 11:
		name = "event id domain = resident (v1-2)"
		post = func(m M) {
			if _, ok := m["event_id"]; ok {
				m["event_id"] = "$forged:res.test"
			}
		}
	case 12:
		name = "event id domain other server (v1-2)"
		post = func(m M) {
			if _, ok := m["event_id"]; ok {
				m["event_id"] = "$other:b.test"
			}
		}
	case 13:
		name, typ = "not a member event", "m.room.topic"
	case 14:
		name = "room_id in event differs"
		post = func(m M) { m["room_id"] = "!other:res.test" }
	case 15:
		name, sk = "state_key empty", ""
	case 16:
		name = "content hash broken"
	}
	js := r.buildMember(sender, sk, content, signer, typ)
	if post != nil {
		js = resignWith(r.v, js, signer, post)
	}
	if mut == 16 {
		js = bytes.Replace(js, []byte(`"membership":"join"`), []byte(`"membership":"join","displayname":"x"`), 1)
	}
	c := sendJoinCase{name: name, event: js, pathRoom: joinRoom, pathEvent: eventIDOf(r, js), origin: origin, user: user}
	if mut == 4 {
		c.pathRoom = "!elsewhere:res.test"
	}
	if mut == 5 {
		c.pathEvent = "$wrong"
	}
	return c
}

func (j *joinRun) gmslSendJoin(sc *joinScenario, c sendJoinCase) (code, msg string) {
	type res struct{ code, msg string }
	out, err := safe(func() (res, error) {
		rid, err := spec.NewRoomID(c.pathRoom)
		if err != nil {
			return res{code: "badroom"}, nil
		}
		resp, err := gmsl.HandleSendJoin(gmsl.HandleSendJoinInput{
			Context: context.Background(), RoomID: *rid, EventID: c.pathEvent, JoinEvent: c.event,
			RoomVersion: gmsl.RoomVersion(sc.room.ver), RequestOrigin: spec.ServerName(c.origin), LocalServerName: resident,
			KeyID: joinKeyID, PrivateKey: authgen.KeyFor(resident, "1").Private, Verifier: j.gRing, MembershipQuerier: joinQuerier{sc},
			UserIDQuerier: userIDForSender, StoreSenderIDFromPublicID: func(context.Context, spec.SenderID, string, spec.RoomID) error { return nil },
		})
		if err != nil {
			return res{errCode(err), err.Error()}, nil
		}
		if resp.AlreadyJoined {
			return res{code: "ok"}, nil // Dendrite does not input the event again
		}
		// Dendrite then inputs the event, which runs the auth rules against the state.
		if err := gmsl.Allowed(resp.JoinEvent, sc.room.authEventsFor(resp.JoinEvent), userIDForSender); err != nil {
			return res{"M_FORBIDDEN(auth)", err.Error()}, nil
		}
		return res{code: "ok"}, nil
	})
	if err != nil {
		return "PANIC", err.Error()
	}
	return out.code, out.msg
}

func (j *joinRun) sendJoin(rng *rand.Rand, sc *joinScenario) {
	c := j.genSendJoin(rng, sc)
	g, gMsg := j.gmslSendJoin(sc, c)
	_, err := membership.SendJoin(membership.SendJoinRequest{
		State: sc.room.rp, ResidentServer: resident, Rooms: sc.knownRooms(), RoomID: c.pathRoom, EventID: c.pathEvent,
		Origin: c.origin, Event: c.event, Key: authgen.KeyFor(resident, "1"), Keys: j.rpRing,
	})
	r := errCode(err)
	if r == strings.TrimSuffix(g, "(auth)") { // a 403 from the auth rules when the event is input
		j.t.Agree()
		return
	}
	m := difftool.Decode(c.event)
	content, _ := m["content"].(M)
	ex := fmt.Sprintf("send_join [%s] %s\nevent: sender=%v state_key=%v type=%v content=%s event_id=%v path=(%s, %s)\nroomproto: %s (%v)\nGMSL: %s (%s)",
		c.name, sc.describe(c.user, c.origin, versions), m["sender"], m["state_key"], m["type"], difftool.Enc(content), m["event_id"], c.pathRoom, c.pathEvent, r, err, g, gMsg)
	f := sc.facts(c.user)
	cls := classifySendJoin(sc, f, c, content, r, g, gMsg, rpReason(err))
	j.t.Diverge(cls, fmt.Sprintf("send_join [%s] rp=%s gmsl=%s rule=%s v%d member=%s", c.name, r, g, f.rule, f.v, f.member), ex)
}

// rpFormatReason: roomproto refused the event itself (400), before deciding the join.
func rpFormatReason(reason error) bool {
	return errors.Is(reason, membership.ErrBadEvent) || errors.Is(reason, membership.ErrBadSignature)
}

func classifySendJoin(sc *joinScenario, f joinFacts, c sendJoinCase, content M, r, g, gMsg string, reason error) string {
	gRefuses := g != "ok"
	switch {
	// The event itself.
	case r == mInvalid && errors.Is(reason, membership.ErrBadSignature) && c.name == "content hash broken":
		return "C5-content-hash-broken"
	case r == mInvalid && strings.HasPrefix(c.name, "event id domain") && f.v <= 2:
		return "C6-v1-event-id-domain"
	case r == mInvalid && c.name == "not a member event" && (g == "ok" || g == "M_FORBIDDEN(auth)"):
		return "B9-send_join-non-member"
	case r == mInvalid && c.name == "authoriser not a user ID" && content["join_authorised_via_users_server"] == "" && f.v >= 8 && (g == "ok" || g == "M_FORBIDDEN(auth)"):
		return "B11-authoriser-checks"
	case r == mInvalid && rpFormatReason(reason) && gRefuses && g != "500" && g != "PANIC":
		return "B12-error-codes"
	case g == mBadJSON && strings.Contains(gMsg, "authorising username") && (f.v < 8 || r != "ok" && r != mInvalid):
		// GMSL checks the authoriser's form before anything else, in every version.
		return "B11-authoriser-checks"
	// The join decision.
	case f.allowBad && !rpFormatReason(reason):
		return "B6-allow-not-decodable"
	case !f.ruleDefined && r == mForbidden && errors.Is(reason, membership.ErrUnknownJoinRule):
		return "B4-undefined-join-rule"
	case f.member == "knock" && f.rule == "public" && r == "ok" && g == "M_FORBIDDEN(auth)":
		return "B5-knock-to-join-public"
	case f.restrictedLike && f.ruleDefined && (errors.Is(reason, membership.ErrNoCondition) || errors.Is(reason, membership.ErrUnverifiable) || errors.Is(reason, membership.ErrNoAuthoriser)):
		return "B3-send_join-skips-conditions"
	}
	return ""
}

// ---- knock ----

func (j *joinRun) knock(rng *rand.Rand, sc *joinScenario) {
	user := difftool.Pick(rng, joinUsers[1:]...)
	js := sc.room.buildMember(user, user, M{"membership": "knock"}, difftool.DomainOf(user), "m.room.member")
	g, gMsg := "ok", ""
	if ev, err := sc.room.g.NewEventFromUntrustedJSON(js); err != nil {
		g, gMsg = "parse", err.Error()
	} else if err := gmsl.Allowed(ev, sc.room.authEventsFor(ev), userIDForSender); err != nil {
		g, gMsg = mForbidden, err.Error()
	}
	err := membership.DecideKnock(sc.room.rp, user)
	r := errCode(err)
	if r == g {
		j.t.Agree()
		return
	}
	f := sc.facts(user)
	cls := ""
	switch {
	case f.allowBad:
		cls = "B6-allow-not-decodable"
	case f.rule == "knock_restricted" && f.v >= 7 && f.v < 10 && r == mForbidden && g == "ok":
		cls = "B8-knock_restricted-before-v10"
	}
	j.t.Diverge(cls, fmt.Sprintf("knock rp=%s gmsl=%s rule=%s v%d member=%s", r, g, f.rule, f.v, f.member),
		fmt.Sprintf("knock %s\nroomproto: %s (%v)\nGMSL: %s (%s)", sc.describe(user, difftool.DomainOf(user), versions), r, err, g, gMsg))
}

// ---- invite ----

// inviteRooms is what GMSL's HandleInvite needs to know: the room is unknown.
type inviteRooms struct{}

// IsKnownRoom implements gmsl.RoomQuerier.
func (inviteRooms) IsKnownRoom(context.Context, spec.RoomID) (bool, error) { return false, nil }

// GetAuthEvents implements gmsl.StateQuerier.
func (inviteRooms) GetAuthEvents(context.Context, gmsl.PDU) (gmsl.AuthEventProvider, error) {
	return nil, nil
}

// GetState implements gmsl.StateQuerier.
func (inviteRooms) GetState(context.Context, spec.RoomID, []gmsl.StateKeyTuple) ([]gmsl.PDU, error) {
	return nil, nil
}

// CurrentMembership implements gmsl.MembershipQuerier.
func (inviteRooms) CurrentMembership(context.Context, spec.RoomID, spec.SenderID) (string, error) {
	return "leave", nil
}

// gmslInvite runs Dendrite's InviteV2 checks (a state key that is a local user ID, the event ID
// of the path), then GMSL's HandleInvite.
func (j *joinRun) gmslInvite(r *joinRoomState, js []byte, pathRoom, pathEvent string) (string, string) {
	type res struct{ code, msg string }
	out, err := safe(func() (res, error) {
		ev, err := r.g.NewEventFromUntrustedJSON(js)
		if err != nil {
			return res{mBadJSON, err.Error()}, nil
		}
		if ev.StateKey() == nil {
			return res{mBadJSON, "no state key"}, nil
		}
		invited, err := spec.NewUserID(*ev.StateKey(), true)
		if err != nil {
			return res{mInvalid, "user ID invalid"}, nil
		}
		if invited.Domain() != resident {
			return res{mInvalid, "invited user not local"}, nil
		}
		if ev.EventID() != pathEvent {
			return res{mBadJSON, "event ID mismatch"}, nil
		}
		rid, err := spec.NewRoomID(pathRoom)
		if err != nil {
			return res{mBadJSON, "bad room"}, nil
		}
		_, err = gmsl.HandleInvite(context.Background(), gmsl.HandleInviteInput{
			RoomID: *rid, RoomVersion: gmsl.RoomVersion(r.ver), InvitedUser: *invited, InvitedSenderID: spec.SenderID(invited.String()),
			InviteEvent: ev, KeyID: joinKeyID, PrivateKey: authgen.KeyFor(resident, "1").Private, Verifier: j.gRing,
			RoomQuerier: inviteRooms{}, MembershipQuerier: inviteRooms{}, StateQuerier: inviteRooms{}, UserIDQuerier: userIDForSender,
		})
		if err != nil {
			return res{errCode(err), err.Error()}, nil
		}
		return res{code: "ok"}, nil
	})
	if err != nil {
		return "PANIC", err.Error()
	}
	return out.code, out.msg
}

func (j *joinRun) invite(rng *rand.Rand, sc *joinScenario) {
	r := sc.room
	var irs []json.RawMessage
	for _, k := range [][2]string{{"m.room.create", ""}, {"m.room.join_rules", ""}} {
		if e, ok := r.byKey[k]; ok {
			irs = append(irs, json.RawMessage(e.JSON()))
		}
	}
	sender := difftool.Pick(rng, "@a1:a.test", "@j:j.test", "@c:res.test")
	target := difftool.Pick(rng, "@r3:res.test", "@r2:res.test", "@new:res.test")
	signer, origin := difftool.DomainOf(sender), difftool.DomainOf(sender)
	content := M{"membership": "invite"}
	typ, pathRoom := "m.room.member", joinRoom
	mut := rng.Intn(12)
	name := "valid"
	var post func(M)
	switch mut {
	case 1:
		name, pathRoom = "wrong path room", "!elsewhere:res.test"
	case 2:
		name = "wrong path event id"
	case 3:
		name, signer = "signed by other server", "b.test"
	case 4:
		name, target = "state_key remote user", "@x:b.test"
	case 5:
		name = "membership not invite"
		content["membership"] = difftool.Pick(rng, "join", "leave", "ban")
	case 6:
		name, typ = "not a member event", "m.room.topic"
	case 7:
		name = "content hash broken"
	case 8:
		name, origin = "origin != sender server", "b.test"
	case 9:
		name = "event id in invited server's domain (v1-2)"
		post = func(m M) {
			if _, ok := m["event_id"]; ok {
				m["event_id"] = "$x:res.test"
			}
		}
	case 10:
		name = "room_id differs in event"
		post = func(m M) { m["room_id"] = "!other:res.test" }
	}
	js := r.buildMember(sender, target, content, signer, typ)
	if post != nil {
		js = resignWith(r.v, js, signer, post)
	}
	if mut == 7 {
		js = bytes.Replace(js, []byte(`"membership":"invite"`), []byte(`"membership":"invite","displayname":"x"`), 1)
	}
	pathEvent := eventIDOf(r, js)
	if mut == 2 {
		pathEvent = "$wrong"
	}
	g, gMsg := j.gmslInvite(r, js, pathRoom, pathEvent)
	_, err := membership.SignInvite(membership.InviteRequest{RoomVersion: r.v, RoomID: pathRoom, EventID: pathEvent, Origin: origin,
		Event: js, InviteRoomState: irs, LocalServer: resident, Key: authgen.KeyFor(resident, "1"), Keys: j.rpRing})
	rc := errCode(err)
	if rc == g {
		j.t.Agree()
		return
	}
	v := difftool.VerNum(r.ver)
	reason := rpReason(err)
	cls := ""
	switch {
	case rc == mInvalid && errors.Is(reason, membership.ErrBadSignature) && name == "content hash broken":
		cls = "C5-content-hash-broken"
	case rc == mInvalid && strings.HasPrefix(name, "event id in") && v <= 2:
		cls = "C6-v1-event-id-domain"
	case rc == mInvalid && g == "ok" && (name == "membership not invite" || name == "not a member event" || name == "origin != sender server"):
		cls = "B10-invite-checks-missing"
	case rc == mInvalid && g != "ok" && g != "PANIC":
		cls = "B12-error-codes"
	}
	j.t.Diverge(cls, fmt.Sprintf("invite [%s] rp=%s gmsl=%s", name, rc, g),
		fmt.Sprintf("invite [%s] v%s sender=%s target=%s origin=%s\nroomproto: %s (%v)\nGMSL: %s (%s)", name, r.ver, sender, target, origin, rc, err, g, gMsg))
}

package membership

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// Basis says on what grounds a join is allowed.
type Basis int

const (
	// BasisJoined: the user is already joined (the join is a profile update).
	BasisJoined Basis = iota + 1
	// BasisInvited: the user holds an invite.
	BasisInvited
	// BasisPublic: the join rule is public.
	BasisPublic
	// BasisCondition: the room is restricted and the user satisfies an allow condition; the
	// join needs an authorising user.
	BasisCondition
)

// String returns "joined", "invited", "public" or "condition".
func (b Basis) String() string {
	switch b {
	case BasisJoined:
		return "joined"
	case BasisInvited:
		return "invited"
	case BasisPublic:
		return "public"
	case BasisCondition:
		return "condition"
	}
	return "Basis(?)"
}

// JoinRequest is what a resident server knows when a user asks to join through it, on
// /make_join or /send_join (spec: server-server-api "Joining Rooms", "Restricted rooms").
type JoinRequest struct {
	// State is the current state of the room being joined.
	State *authrules.State
	// UserID is the joining user.
	UserID string
	// ResidentServer is the name of the server deciding, whose users may authorise the join.
	ResidentServer string
	// Rooms is what the resident knows of the memberships of the rooms named by allow
	// conditions; nil means it knows no room.
	Rooms RoomMemberships
	// Origin is the server that sent the request, as its request signature authenticates it;
	// when set, UserID must be one of its users ([CheckMakeRequest]). Empty skips the check,
	// for a caller that made it (or, on /send_join, one that checks the event's sender).
	Origin string
	// Ver is the `ver` query parameter of /make_join: the room versions the requesting server
	// supports. A request without the parameter supports version 1 only (joins-v1.yaml:
	// "Defaults to [1]"), so pass []string{"1"} for it. When not nil the room's version must
	// be in it ([CheckMakeRequest]); nil skips the check, as on /send_join, which has no `ver`.
	Ver []string
}

// CheckMakeRequest makes the checks of a /make_join, /make_knock or /make_leave request that
// come before the room's rules are looked at (joins-v1.yaml, knocks.yaml, leaving-v1.yaml), in
// the order other servers make them:
//
//   - when ver is not nil, the room version v must be in it, else 400
//     M_INCOMPATIBLE_ROOM_VERSION with [Error.RoomVersion] set (reason ErrIncompatibleVersion).
//     For make_join a request without `ver` supports version 1 only: pass []string{"1"};
//     make_knock requires the parameter; make_leave has none: pass nil.
//   - when origin is not empty, userID must be a user of origin, the server that sent the
//     request ("This MUST be a user ID on the origin server"), else 403 M_FORBIDDEN (reason
//     ErrNotFromOrigin); an invalid user ID is 400 M_INVALID_PARAM (reason ErrBadInput).
//
// [DecideJoin] and [MakeJoin] call it with [JoinRequest.Origin] and [JoinRequest.Ver];
// [MakeKnock] and [MakeLeave] do not, so a resident calls it first. Answering 404 for a room the
// resident is not in is the caller's part: without the room's state there is nothing to decide.
// So is the room's server ACL, which server-server-api "Server Access Control Lists" applies to
// /make_join, /send_join, /make_knock, /send_knock, /make_leave, /send_leave and /invite before
// anything else (403 M_FORBIDDEN): no function of this package reads `m.room.server_acl`; call
// serveracl.Allowed(state, origin) first.
func CheckMakeRequest(v roomversion.Version, userID, origin string, ver []string) error {
	if err := v.Check(); err != nil {
		return newError(400, ErrCodeInvalidParam, ErrBadInput, err, "%v", err)
	}
	if ver != nil && !slices.Contains(ver, v.ID) {
		e := newError(400, ErrCodeIncompatibleRoomVersion, ErrIncompatibleVersion, nil,
			"the room's version %q is not one the requesting server supports", v.ID)
		e.RoomVersion = v.ID
		return e
	}
	if origin == "" {
		return nil
	}
	if !authrules.ValidUserID(userID) {
		return invalidParam(ErrBadInput, nil, "%q is not a user ID", userID)
	}
	if srv := serverOf(userID); srv != origin {
		return forbidden(ErrNotFromOrigin, "%s is not a user of the requesting server %s", userID, origin)
	}
	return nil
}

// JoinDecision is a positive answer to a [JoinRequest].
type JoinDecision struct {
	// Basis says why the join is allowed.
	Basis Basis
	// AuthorisingUser is the user to put in the join event's
	// content.join_authorised_via_users_server; empty unless Basis is BasisCondition.
	AuthorisingUser string
	// Condition is the allow condition the user satisfied, when Basis is BasisCondition.
	Condition AllowCondition
}

// DecideJoin decides a join request as a resident server must on /make_join and /send_join,
// following the authorization rules for joins of the room's version (rule 4.3 of
// rooms/fragments/v8-auth-rules.md, rooms/v10.md) and server-server-api "Restricted rooms":
//
//   - first the request itself, when req.Ver or req.Origin are set ([CheckMakeRequest]): a
//     room version the requesting server does not support, 400 M_INCOMPATIBLE_ROOM_VERSION; a
//     user not of the requesting server, 403 M_FORBIDDEN;
//   - a room whose create event sets m.federate to false, for a user of another server than
//     the create event's: 403 M_FORBIDDEN, reason ErrNotFederated (rule 3, v12 rule 4, comes
//     before the membership rules: [authrules.State.CheckFederation]);
//   - a banned user: 403 M_FORBIDDEN (rule 4.3.3 comes before every join rule);
//   - a join rule the room version does not define (restricted before v8, knock_restricted
//     before v10, knock before v7, private, none): 403 M_FORBIDDEN, even for invited users
//     (rule 4.3.7 "Otherwise, reject");
//   - a joined or invited user: allowed without authoriser (rules 4.3.4, 4.3.5.1);
//   - public: allowed (rule 4.3.6);
//   - invite or knock: 403 M_FORBIDDEN (rule 4.3.4);
//   - restricted or knock_restricted: the valid allow conditions ([ParseAllowConditions]) are
//     checked in order. A satisfied one gives an authorising user ([Authorisers]: the joined
//     users of the resident server whose power level reaches the invite level, highest level
//     first, then by user ID) or, with none, 400 M_UNABLE_TO_GRANT_JOIN. With none satisfied,
//     a condition naming a room the resident does not know gives 400
//     M_UNABLE_TO_AUTHORISE_JOIN, and otherwise (also with no valid condition) 403
//     M_FORBIDDEN. A user whose membership is knock is treated as one with no membership: a
//     knock is not an invite.
//
// A user of the resident server itself cannot be in a room that server does not know, so for
// such a user an unknown room counts as a failed condition, not an unverifiable one. Every
// refusal is an [*Error]; a malformed request (no state, an invalid user ID) is
// a 400 M_INVALID_PARAM with reason ErrBadInput.
func DecideJoin(req JoinRequest) (JoinDecision, error) {
	s := req.State
	if s == nil {
		return JoinDecision{}, invalidParam(ErrBadInput, nil, "no room state given")
	}
	if !authrules.ValidUserID(req.UserID) {
		return JoinDecision{}, invalidParam(ErrBadInput, nil, "%q is not a user ID", req.UserID)
	}
	v := s.Version()
	if err := CheckMakeRequest(v, req.UserID, req.Origin, req.Ver); err != nil {
		return JoinDecision{}, err
	}
	if err := federationRefusal(s, req.UserID); err != nil {
		return JoinDecision{}, err
	}
	current := s.Membership(req.UserID)
	rule := s.JoinRules().Rule
	ruleNo := authrules.MembershipRule(v, pdu.MembershipJoin)

	if current == pdu.MembershipBan {
		return JoinDecision{}, forbidden(ErrBanned, "%s is banned from the room (auth rule %s.3)", req.UserID, ruleNo)
	}
	kind := classifyJoinRule(v, rule)
	if kind == ruleUnknown {
		return JoinDecision{}, forbidden(ErrUnknownJoinRule, "join rule %q is not one room version %s defines, so no one may join (auth rule %s)", rule, v.ID, ruleNo)
	}
	switch current {
	case pdu.MembershipJoin:
		return JoinDecision{Basis: BasisJoined}, nil
	case pdu.MembershipInvite:
		return JoinDecision{Basis: BasisInvited}, nil
	}
	switch kind {
	case rulePublic:
		return JoinDecision{Basis: BasisPublic}, nil
	case ruleInvite:
		return JoinDecision{}, forbidden(ErrNotInvited, "join rule %q requires an invite, which %s does not hold (auth rule %s.4)", rule, req.UserID, ruleNo)
	}

	// Restricted (rule 4.3.5 in v8-v11 numbering).
	var conds []AllowCondition
	if jr := s.Get(pdu.TypeJoinRules, ""); jr != nil {
		var err error
		if conds, err = ParseAllowConditions(jr.Content); err != nil {
			conds = nil // unreadable content has no valid condition
		}
	}
	if len(conds) == 0 {
		return JoinDecision{}, forbidden(ErrNoCondition, "the room is %s but has no valid allow condition, so it is invite-only", rule)
	}
	local := serverOf(req.UserID) == req.ResidentServer
	res := EvaluateConditions(conds, req.UserID, req.Rooms, local)
	if !res.Met {
		if len(res.Unverifiable) > 0 {
			return JoinDecision{}, newError(400, ErrCodeUnableToAuthoriseJoin, ErrUnverifiable, nil,
				"%s cannot check whether %s is joined to %s; try another server", req.ResidentServer, req.UserID, strings.Join(res.Unverifiable, ", "))
		}
		return JoinDecision{}, forbidden(ErrNoCondition, "%s is not joined to any room the join rules allow", req.UserID)
	}
	auth, ok := firstAuthoriser(s, req.ResidentServer)
	if !ok {
		return JoinDecision{}, newError(400, ErrCodeUnableToGrantJoin, ErrNoAuthoriser, nil,
			"%s satisfies the join rules, but no user of %s is joined with the power to invite; try another server", req.UserID, req.ResidentServer)
	}
	return JoinDecision{Basis: BasisCondition, AuthorisingUser: auth, Condition: res.Satisfied}, nil
}

// Authorisers returns the users of server who could authorise a restricted join: joined to
// the room, with a power level at least the invite level, so that an invite from them would
// pass the auth rules (rule 4.3.5.2 of v8-auth-rules.md: "a user with sufficient permission
// to invite other users" and "a joined member of the room"). They are ordered by power level,
// highest first (room creators of v12, whose level is infinite, before all others), then by
// user ID in byte order, so every call over the same state gives the same first choice.
// Levels are compared exactly, as the auth rules compare them, including the levels beyond
// the int64 range that room versions 1-9 allow ([authrules.PowerLevels.CompareUsers]).
func Authorisers(s *authrules.State, server string) []string {
	if s == nil {
		return nil
	}
	pl := s.PowerLevels()
	out := inviters(s, server, false)
	slices.SortFunc(out, func(a, b ranked) int { return rank(pl, a, b) })
	return users(out)
}

// firstAuthoriser returns the first of [Authorisers] without sorting them: one pass over the
// joined members, so that a decision in a room of n members costs O(n), not O(n log n).
func firstAuthoriser(s *authrules.State, server string) (string, bool) {
	pl := s.PowerLevels()
	invite := pl.InviteLevel()
	var best ranked
	found := false
	for u := range s.AllMembers(pdu.MembershipJoin) {
		if serverOf(u) != server || !authrules.ValidUserID(u) {
			continue
		}
		c := ranked{u, pl.UserLevel(u)}
		if reaches(pl, u, c.level, "invite", invite) && (!found || rank(pl, c, best) < 0) {
			best, found = c, true
		}
	}
	return best.user, found
}

// AuthorisedServers returns the servers with at least one joined user able to invite, in the
// order a joining server should try them for a restricted join: by the highest power level
// among their able users, then by name. Only these servers can put a valid
// join_authorised_via_users_server on a join (spec: server-server-api "Restricted rooms").
func AuthorisedServers(s *authrules.State) []string {
	if s == nil {
		return nil
	}
	pl := s.PowerLevels()
	best := map[string]ranked{}
	var out []string
	for _, c := range inviters(s, "", true) {
		srv := serverOf(c.user)
		if b, ok := best[srv]; !ok || rank(pl, c, b) < 0 {
			if !ok {
				out = append(out, srv)
			}
			best[srv] = c
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if c := byLevel(pl, best[a], best[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}

// ranked is a user with its power level as the int64 getters return it (saturated).
type ranked struct {
	user  string
	level int64
}

// byLevel orders a before b when a's power level is higher, exactly: by the saturated int64s
// and, when they are equal at an int64 limit (levels beyond the int64 range in room versions
// 1-9, or a v12 creator's InfiniteLevel), by authrules' exact comparison.
func byLevel(pl *authrules.PowerLevels, a, b ranked) int {
	if a.level != b.level || !saturated(a.level) {
		return cmp.Compare(b.level, a.level)
	}
	return pl.CompareUsers(b.user, a.user)
}

// saturated reports whether a level returned by the int64 getters of authrules.PowerLevels
// may stand for a value beyond the int64 range (or a v12 creator's infinite level), so that
// equal int64s need the exact comparison.
func saturated(n int64) bool { return n == math.MaxInt64 || n == math.MinInt64 }

// reaches reports whether user, whose saturated level is level, reaches the named level name
// (whose saturated value is need), exactly.
func reaches(pl *authrules.PowerLevels, user string, level int64, name string, need int64) bool {
	if level != need || !saturated(level) {
		return level >= need
	}
	c, ok := pl.CompareUserTo(user, name)
	return ok && c >= 0
}

func users(rs []ranked) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.user
	}
	return out
}

// inviters returns, in no particular order, the joined users of server (of every server when
// allServers) whose power level reaches the invite level (room creators of v12 have
// authrules.InfiniteLevel); levels compare exactly (reaches). Sort them with rank.
func inviters(s *authrules.State, server string, allServers bool) []ranked {
	pl := s.PowerLevels()
	invite := pl.InviteLevel()
	var out []ranked
	for u := range s.AllMembers(pdu.MembershipJoin) {
		if !allServers && serverOf(u) != server || !authrules.ValidUserID(u) {
			continue
		}
		if level := pl.UserLevel(u); reaches(pl, u, level, "invite", invite) {
			out = append(out, ranked{u, level})
		}
	}
	return out
}

// rank orders a before b when a is the better authoriser: higher power level (byLevel), then
// smaller user ID in byte order. User IDs are distinct, so no two users tie.
func rank(pl *authrules.PowerLevels, a, b ranked) int {
	if c := byLevel(pl, a, b); c != 0 {
		return c
	}
	return strings.Compare(a.user, b.user)
}

// serverOf returns the server name of a user ID: what follows the first ':' (spec:
// appendices "User Identifiers"; the server name may itself hold a ':' before a port).
func serverOf(userID string) string {
	if i := strings.IndexByte(userID, ':'); i >= 0 {
		return userID[i+1:]
	}
	return ""
}

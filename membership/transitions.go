package membership

import (
	"slices"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// Action is what a user does to move a membership from one state to another: the names of the
// client-server endpoints on the spec's membership diagram (client-server-api "Room
// membership", static/diagrams/membership.drawio).
type Action string

// The actions of the membership diagram.
const (
	ActionJoin   Action = "join"   // the user joins (self)
	ActionInvite Action = "invite" // another user invites the target
	ActionKnock  Action = "knock"  // the user knocks (self)
	ActionLeave  Action = "leave"  // the user leaves, rejects an invite or retracts a knock (self)
	ActionKick   Action = "kick"   // another user sets the target's membership to leave
	ActionBan    Action = "ban"    // another user bans the target
	ActionUnban  Action = "unban"  // another user lifts the target's ban (ban → leave)
)

// Level names a threshold of `m.room.power_levels` (spec: server-server-api "Definitions":
// invite level, kick level, ban level).
type Level string

// The power level thresholds membership changes need.
const (
	LevelInvite Level = "invite"
	LevelKick   Level = "kick"
	LevelBan    Level = "ban"
)

// Transition is one edge of the membership state machine: from the target's current
// membership to a new one, by an action, with what the sender needs. "leave" as From also
// stands for "no membership at all" (the diagram's "External (not a member)", which the auth
// rules treat exactly like leave).
type Transition struct {
	// From is the target's current membership: join, invite, knock, ban or leave.
	From string
	// To is the membership of the new m.room.member event.
	To string
	// Action is the action the transition is.
	Action Action
	// BySelf reports whether the sender is the target (join, knock, leave); otherwise the
	// sender acts on another user (invite, kick, ban, unban).
	BySelf bool
	// SenderJoined: the sender's own membership must be join.
	SenderJoined bool
	// Levels are the power levels the sender's level must reach (all of them).
	Levels []Level
	// OutranksTarget: the target's power level must be below the sender's.
	OutranksTarget bool
	// JoinRules, for join and knock, are the room join rules under which the transition
	// exists in the room version; nil means any.
	JoinRules []string
	// Authoriser: the join event must name, in join_authorised_via_users_server, a joined
	// user able to invite, and the user must satisfy an allow condition (restricted and
	// knock_restricted rooms).
	Authoriser bool
	// InDiagram reports whether the spec's membership diagram draws this edge; the others
	// are permitted by the authorization rules without being drawn (re-invites, profile
	// changes, revoking an invite, ...).
	InDiagram bool
	// Rule is the number of the authorization rule that governs the new membership in the
	// room version's rules (e.g. "4.5" for leave in v8-v11), as in authrules rejections.
	Rule string
	// Meaning says in words what the transition means (e.g. "accept the knock").
	Meaning string
}

// transitionTable is the membership state machine of the latest room version; Transitions
// narrows it to a given version. It is never modified.
var transitionTable = [...]Transition{
	{From: pdu.MembershipLeave, To: pdu.MembershipJoin, Action: ActionJoin, BySelf: true, JoinRules: []string{JoinRulePublic}, InDiagram: true, Meaning: "join a public room"},
	{From: pdu.MembershipLeave, To: pdu.MembershipJoin, Action: ActionJoin, BySelf: true, JoinRules: []string{JoinRuleRestricted, JoinRuleKnockRestricted}, Authoriser: true, InDiagram: true, Meaning: "join a restricted room through an allow condition"},
	{From: pdu.MembershipLeave, To: pdu.MembershipInvite, Action: ActionInvite, SenderJoined: true, Levels: []Level{LevelInvite}, InDiagram: true, Meaning: "invite the user"},
	{From: pdu.MembershipLeave, To: pdu.MembershipKnock, Action: ActionKnock, BySelf: true, JoinRules: []string{JoinRuleKnock, JoinRuleKnockRestricted}, InDiagram: true, Meaning: "knock: ask to be invited"},
	{From: pdu.MembershipLeave, To: pdu.MembershipBan, Action: ActionBan, SenderJoined: true, Levels: []Level{LevelBan}, OutranksTarget: true, InDiagram: true, Meaning: "ban a user who is not in the room"},
	{From: pdu.MembershipLeave, To: pdu.MembershipLeave, Action: ActionKick, SenderJoined: true, Levels: []Level{LevelKick}, OutranksTarget: true, Meaning: "kick a user who is not in the room (no change)"},

	{From: pdu.MembershipInvite, To: pdu.MembershipJoin, Action: ActionJoin, BySelf: true, JoinRules: []string{JoinRulePublic, JoinRuleInvite, JoinRuleKnock, JoinRuleRestricted, JoinRuleKnockRestricted}, InDiagram: true, Meaning: "accept the invite"},
	{From: pdu.MembershipInvite, To: pdu.MembershipLeave, Action: ActionLeave, BySelf: true, InDiagram: true, Meaning: "reject the invite"},
	{From: pdu.MembershipInvite, To: pdu.MembershipLeave, Action: ActionKick, SenderJoined: true, Levels: []Level{LevelKick}, OutranksTarget: true, Meaning: "revoke the invite"},
	{From: pdu.MembershipInvite, To: pdu.MembershipBan, Action: ActionBan, SenderJoined: true, Levels: []Level{LevelBan}, OutranksTarget: true, InDiagram: true, Meaning: "ban an invited user"},
	{From: pdu.MembershipInvite, To: pdu.MembershipInvite, Action: ActionInvite, SenderJoined: true, Levels: []Level{LevelInvite}, Meaning: "invite again"},

	{From: pdu.MembershipJoin, To: pdu.MembershipJoin, Action: ActionJoin, BySelf: true, JoinRules: []string{JoinRulePublic, JoinRuleInvite, JoinRuleKnock, JoinRuleRestricted, JoinRuleKnockRestricted}, Meaning: "change profile (display name, avatar)"},
	{From: pdu.MembershipJoin, To: pdu.MembershipLeave, Action: ActionLeave, BySelf: true, InDiagram: true, Meaning: "leave the room"},
	{From: pdu.MembershipJoin, To: pdu.MembershipLeave, Action: ActionKick, SenderJoined: true, Levels: []Level{LevelKick}, OutranksTarget: true, InDiagram: true, Meaning: "kick a member"},
	{From: pdu.MembershipJoin, To: pdu.MembershipBan, Action: ActionBan, SenderJoined: true, Levels: []Level{LevelBan}, OutranksTarget: true, InDiagram: true, Meaning: "ban a member"},

	{From: pdu.MembershipKnock, To: pdu.MembershipInvite, Action: ActionInvite, SenderJoined: true, Levels: []Level{LevelInvite}, InDiagram: true, Meaning: "accept the knock"},
	{From: pdu.MembershipKnock, To: pdu.MembershipLeave, Action: ActionLeave, BySelf: true, InDiagram: true, Meaning: "retract the knock"},
	{From: pdu.MembershipKnock, To: pdu.MembershipLeave, Action: ActionKick, SenderJoined: true, Levels: []Level{LevelKick}, OutranksTarget: true, InDiagram: true, Meaning: "reject the knock"},
	{From: pdu.MembershipKnock, To: pdu.MembershipBan, Action: ActionBan, SenderJoined: true, Levels: []Level{LevelBan}, OutranksTarget: true, InDiagram: true, Meaning: "reject the knock and ban the user"},
	{From: pdu.MembershipKnock, To: pdu.MembershipKnock, Action: ActionKnock, BySelf: true, JoinRules: []string{JoinRuleKnock, JoinRuleKnockRestricted}, Meaning: "knock again"},
	{From: pdu.MembershipKnock, To: pdu.MembershipJoin, Action: ActionJoin, BySelf: true, JoinRules: []string{JoinRulePublic}, Meaning: "join a room that became public while knocking"},
	{From: pdu.MembershipKnock, To: pdu.MembershipJoin, Action: ActionJoin, BySelf: true, JoinRules: []string{JoinRuleRestricted, JoinRuleKnockRestricted}, Authoriser: true, Meaning: "join through an allow condition instead of waiting for the knock to be accepted"},

	{From: pdu.MembershipBan, To: pdu.MembershipLeave, Action: ActionUnban, SenderJoined: true, Levels: []Level{LevelKick, LevelBan}, OutranksTarget: true, InDiagram: true, Meaning: "unban the user"},
	{From: pdu.MembershipBan, To: pdu.MembershipBan, Action: ActionBan, SenderJoined: true, Levels: []Level{LevelBan}, OutranksTarget: true, Meaning: "ban again (change the reason)"},
}

// Transitions returns the membership state machine of room version v: the spec's membership
// diagram (client-server-api "Room membership") completed with every other change the
// version's authorization rules permit, each with the action it is and what the sender needs.
// Knock transitions exist from version 7; join rules a version does not define are left out
// of JoinRules, and a transition left with no join rule is dropped. The result is a new slice
// the caller may modify; it is empty for a Version Lookup would not return (the zero Version).
func Transitions(v roomversion.Version) []Transition {
	if v.Check() != nil {
		return []Transition{}
	}
	out := make([]Transition, 0, len(transitionTable))
	for _, t := range transitionTable {
		if (t.From == pdu.MembershipKnock || t.To == pdu.MembershipKnock) && !v.Auth.Knocking {
			continue
		}
		if t.JoinRules != nil {
			var rules []string
			for _, r := range t.JoinRules {
				if JoinRuleSupported(v, r) {
					rules = append(rules, r)
				}
			}
			if len(rules) == 0 {
				continue
			}
			t.JoinRules = rules
		}
		t.Levels = slices.Clone(t.Levels)
		t.Rule = authrules.MembershipRule(v, t.To)
		out = append(out, t)
	}
	return out
}

// FindTransition returns the transition of room version v from membership from ("" for none)
// to membership to, by the target itself (bySelf) or by another user, in a room whose join
// rule is joinRule (used only for join and knock). ok is false when the authorization rules
// permit no such change.
func FindTransition(v roomversion.Version, from, to string, bySelf bool, joinRule string) (Transition, bool) {
	if from == "" {
		from = pdu.MembershipLeave
	}
	for _, t := range Transitions(v) {
		if t.From != from || t.To != to || t.BySelf != bySelf {
			continue
		}
		if t.JoinRules != nil && !slices.Contains(t.JoinRules, joinRule) {
			continue
		}
		return t, true
	}
	return Transition{}, false
}

// ClassifyMemberEvent says which transition an `m.room.member` event is, given the target's
// membership before it (from; "" for none) and the room's join rule at the time: for example
// an invite of a user whose membership was knock is "accept the knock", whether or not the
// invite refers to the knock (spec: client-server-api "Knocking on rooms": "The knocking
// homeserver should assume that an invite to the room means that the knock was accepted");
// a leave sent by another user over a knock is "reject the knock". ok is false for an event
// that is not a membership event or a change the rules do not permit, including a join that
// needs an authoriser (Transition.Authoriser: a restricted join through an allow condition) and
// names none: without a string `join_authorised_via_users_server` rule 4.3.5.2 (v8 numbering)
// rejects it whatever the room's state. Whether the named user may authorise is a question of
// state, left to the auth rules. ok is also false for an event parsed for another room
// version than v (one made by hand, with the zero Version, is read as an event of v).
func ClassifyMemberEvent(v roomversion.Version, from string, ev *pdu.Event, joinRule string) (Transition, bool) {
	if ev == nil || ev.Type != pdu.TypeMember || ev.StateKey == nil || ev.Membership == "" {
		return Transition{}, false
	}
	if ev.Version.ID != "" && ev.Version.ID != v.ID {
		return Transition{}, false
	}
	t, ok := FindTransition(v, from, ev.Membership, ev.Sender == *ev.StateKey, joinRule)
	if ok && t.Authoriser {
		if _, named := ev.ContentString(signing.ContentJoinAuthorisedViaUsersServer); !named {
			return Transition{}, false
		}
	}
	return t, ok
}

// knownMembership reports whether m is a membership the rules of v know: join, invite, leave,
// ban, and knock from room version 7.
func knownMembership(v roomversion.Version, m string) bool {
	switch m {
	case pdu.MembershipJoin, pdu.MembershipInvite, pdu.MembershipLeave, pdu.MembershipBan:
		return true
	case pdu.MembershipKnock:
		return v.Auth.Knocking
	}
	return false
}

// RequiredLevel returns the power level the sender of t needs under pl: the highest of the
// levels of t.Levels (for an unban both the kick and the ban level), 0 when t needs none. Like
// the getters of [authrules.PowerLevels] it saturates levels beyond the int64 range (room
// versions 1-9); [CheckTransition] compares the exact values. A nil pl reads as a room without
// power levels (the spec's defaults: invite 0, kick and ban 50).
func (t Transition) RequiredLevel(pl *authrules.PowerLevels) int64 {
	var need int64
	for i, l := range t.Levels {
		var x int64
		switch l {
		case LevelInvite:
			x = pl.InviteLevel()
		case LevelKick:
			x = pl.KickLevel()
		case LevelBan:
			x = pl.BanLevel()
		}
		if i == 0 || x > need {
			need = x
		}
	}
	return need
}

// CheckTransition says whether sender may set target's membership to `to` in a room whose
// current state is s, and as which transition ([Transitions]): the transition must exist for
// the target's current membership, the room's join rule and whether sender is target, the
// sender must be joined when the transition needs it, reach its power levels when it lists
// any ([Transition.RequiredLevel]) and outrank the target when it must (the m.room.member
// rules of the room version's authorization rules). Levels are compared exactly, as the rules
// compare them, including the levels beyond the int64 range that room versions 1-9 allow
// ([authrules.PowerLevels.CompareUserTo], [authrules.PowerLevels.CompareUsers]). A refusal is
// a 403 M_FORBIDDEN [*Error] with reason ErrNotPossible, ErrBanned or ErrInsufficientPower, or
// ErrNotFederated when the room's create event sets m.federate to false and sender is not of
// its server (auth rule 3, v12 rule 4, which comes before the member rules).
// For a join that needs an authoriser (t.Authoriser) the allow conditions are not checked
// here: use [DecideJoin]. Third-party invites are out of scope: their invites are authorised
// by a signature, not a power level.
func CheckTransition(s *authrules.State, sender, target, to string) (Transition, error) {
	if s == nil {
		return Transition{}, invalidParam(ErrBadInput, nil, "no room state given")
	}
	for _, u := range [...]string{sender, target} {
		if !authrules.ValidUserID(u) {
			return Transition{}, invalidParam(ErrBadInput, nil, "%q is not a user ID", u)
		}
	}
	if err := federationRefusal(s, sender); err != nil {
		return Transition{}, err
	}
	v := s.Version()
	from := s.Membership(target)
	if from == "" {
		from = pdu.MembershipLeave
	}
	rule := s.JoinRules().Rule
	t, ok := FindTransition(v, from, to, sender == target, rule)
	if !ok {
		switch {
		case !knownMembership(v, to):
			// The member rules end with "Otherwise, the membership is unknown. Reject."
			return Transition{}, forbidden(ErrNotPossible, "%q is not a membership of room version %s (auth rule %s)", to, v.ID, authrules.MembershipRule(v, to))
		case from == pdu.MembershipBan && sender == target:
			return Transition{}, forbidden(ErrBanned, "%s is banned (auth rule %s)", target, authrules.MembershipRule(v, to))
		}
		who := "another user"
		if sender == target {
			who = "the user"
		}
		return Transition{}, forbidden(ErrNotPossible, "no membership change from %s to %s by %s under join rule %q in room version %s (auth rule %s)", from, to, who, rule, v.ID, authrules.MembershipRule(v, to))
	}
	if t.SenderJoined && s.Membership(sender) != pdu.MembershipJoin {
		return t, forbidden(ErrInsufficientPower, "%s must be joined to %s %s (auth rule %s)", sender, t.Action, target, t.Rule)
	}
	pl := s.PowerLevels()
	have := pl.UserLevel(sender)
	// A transition without levels (join, leave, knock by the user) needs no power at all: the
	// member rules never read the sender's level for it, and levels below 0 are valid.
	for _, l := range t.Levels {
		if c, ok := pl.CompareUserTo(sender, string(l)); !ok || c < 0 {
			need := t.RequiredLevel(pl)
			return t, forbidden(ErrInsufficientPower, "%s has power level %d, %s needs %d%s (auth rule %s)", sender, have, t.Action, need, exactNote(v, have, need), t.Rule)
		}
	}
	if t.OutranksTarget && pl.CompareUsers(target, sender) >= 0 {
		tl := pl.UserLevel(target)
		return t, forbidden(ErrInsufficientPower, "%s (power level %d) does not outrank %s (power level %d)%s (auth rule %s)", sender, have, target, tl, exactNote(v, have, tl), t.Rule)
	}
	return t, nil
}

// exactNote explains a refusal between two equal saturated levels, which in room versions 1-9
// stand for different values beyond the int64 range.
func exactNote(v roomversion.Version, a, b int64) string {
	if v.Auth.StringPowerLevels && a == b && saturated(a) {
		return " (levels beyond the int64 range are shown saturated and compared exactly)"
	}
	return ""
}

package authrules

import (
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// rule names one rule of the authorization rules independently of its number, which differs
// between the texts of the room versions.
type rule int

const (
	rCreatePrev rule = iota
	rCreateRoomID
	rCreateVersion
	rCreateCreator    // v1-10: no creator
	rCreateAdditional // v12: additional_creators
	rRoomID           // v12 rule 2
	rAuth             // the auth events rule as a whole
	rAuthDuplicate
	rAuthUnexpected
	rAuthRejected
	rAuthNoCreate
	rAuthWrongRoom
	rFederate
	rAliasesNoStateKey
	rAliasesDomain
	rMemberMalformed
	rAuthoriserSignature
	rJoinCreator
	rJoinNotSelf
	rJoinBanned
	rJoinInvite
	rJoinRestrictedMember
	rJoinRestrictedAuthoriser
	rJoinRestrictedAllow
	rJoinPublic
	rJoinOtherwise
	rInvite3pBanned
	rInvite3pNoSigned
	rInvite3pNoMxidToken
	rInvite3pMxid
	rInvite3pNoEvent
	rInvite3pSender
	rInvite3pSignature
	rInvite3pOtherwise
	rInviteSenderNotJoined
	rInviteTarget
	rInvitePower
	rInviteOtherwise
	rLeaveSelf
	rLeaveSenderNotJoined
	rLeaveBan
	rLeaveKick
	rLeaveOtherwise
	rBanSenderNotJoined
	rBanPower
	rBanOtherwise
	rKnockJoinRule
	rKnockNotSelf
	rKnockAllow
	rKnockOtherwise
	rMemberUnknown
	rSenderNotJoined
	rThirdPartyInvite
	rRequiredPower
	rStateKey
	rPowerLevels // the power levels rule as a whole
	rPLNamedType // v10+: named levels must be integers
	rPLMapsType  // v10+: events / notifications values must be integers
	rPLUsers
	rPLCreators // v12
	rPLNoPrevious
	rPLNamedOld
	rPLNamedNew
	rPLMapOld
	rPLMapNew
	rPLUsersOld
	rPLUsersNew
	rRedactionLevel
	rRedactionDomain
	rRedactionOtherwise
	rCreateAllow
	rAliasesAllow
	rPLAllow
	rAllow // the final "Otherwise, allow"
	numRules
)

// ruleNumbers holds the number of every rule in one room version's text ("" when the text has
// no such rule).
type ruleNumbers [numRules]string

// layout describes where one text puts its rules; numbers derives every rule number from it.
type layout struct {
	roomID       string // v12: "2"
	auth         string
	authWrongSub int // sub-rule of rAuth for the foreign-room check
	noCreateSub  bool
	federate     string
	aliases      string // v1-5: "4"
	member       string
	authoriser   bool // v8+: rule M.2 is join_authorised_via_users_server, joins are M.3
	restricted   bool // v8+: rule M.J.5 is the restricted join rule
	knock        bool // v7+
	creatorRule  bool // v1-10: rule 1.4 requires content.creator
	additional   bool // v12: rule 1.4 checks additional_creators
	notJoined    string
	tpi          string
	required     string
	stateKey     string
	pl           string
	plTypeChecks bool // v10+: sub-rules 1 and 2 check the value types
	plCreators   bool // v12: sub-rule 4 forbids creators in users
	redaction    string
	allow        string // the final "Otherwise, allow"
}

func (l layout) numbers() *ruleNumbers {
	var n ruleNumbers
	sub := func(parent string, i int) string { return parent + "." + strconv.Itoa(i) }

	n[rCreatePrev] = "1.1"
	n[rCreateRoomID] = "1.2"
	n[rCreateVersion] = "1.3"
	if l.creatorRule {
		n[rCreateCreator] = "1.4"
	}
	n[rCreateAllow] = "1.5"
	if l.additional {
		n[rCreateAdditional] = "1.4"
	}
	if !l.creatorRule && !l.additional {
		n[rCreateAllow] = "1.4" // v11 removed rule 1.4 (creator)
	}
	n[rRoomID] = l.roomID
	n[rAuth] = l.auth
	n[rAuthDuplicate] = sub(l.auth, 1)
	n[rAuthUnexpected] = sub(l.auth, 2)
	n[rAuthRejected] = sub(l.auth, 3)
	if l.noCreateSub {
		n[rAuthNoCreate] = sub(l.auth, 4)
	}
	n[rAuthWrongRoom] = sub(l.auth, l.authWrongSub)
	n[rFederate] = l.federate
	if l.aliases != "" {
		n[rAliasesNoStateKey] = sub(l.aliases, 1)
		n[rAliasesDomain] = sub(l.aliases, 2)
		n[rAliasesAllow] = sub(l.aliases, 3)
	}

	m := l.member
	n[rMemberMalformed] = sub(m, 1)
	join := 2
	if l.authoriser {
		n[rAuthoriserSignature] = sub(sub(m, 2), 1)
		join = 3
	}
	j := sub(m, join)
	n[rJoinCreator] = sub(j, 1)
	n[rJoinNotSelf] = sub(j, 2)
	n[rJoinBanned] = sub(j, 3)
	n[rJoinInvite] = sub(j, 4)
	next := 5
	if l.restricted {
		r := sub(j, 5)
		n[rJoinRestrictedMember] = sub(r, 1)
		n[rJoinRestrictedAuthoriser] = sub(r, 2)
		n[rJoinRestrictedAllow] = sub(r, 3)
		next = 6
	}
	n[rJoinPublic] = sub(j, next)
	n[rJoinOtherwise] = sub(j, next+1)

	inv := sub(m, join+1)
	tp := sub(inv, 1)
	n[rInvite3pBanned] = sub(tp, 1)
	n[rInvite3pNoSigned] = sub(tp, 2)
	n[rInvite3pNoMxidToken] = sub(tp, 3)
	n[rInvite3pMxid] = sub(tp, 4)
	n[rInvite3pNoEvent] = sub(tp, 5)
	n[rInvite3pSender] = sub(tp, 6)
	n[rInvite3pSignature] = sub(tp, 7)
	n[rInvite3pOtherwise] = sub(tp, 8)
	n[rInviteSenderNotJoined] = sub(inv, 2)
	n[rInviteTarget] = sub(inv, 3)
	n[rInvitePower] = sub(inv, 4)
	n[rInviteOtherwise] = sub(inv, 5)

	leave := sub(m, join+2)
	n[rLeaveSelf] = sub(leave, 1)
	n[rLeaveSenderNotJoined] = sub(leave, 2)
	n[rLeaveBan] = sub(leave, 3)
	n[rLeaveKick] = sub(leave, 4)
	n[rLeaveOtherwise] = sub(leave, 5)

	ban := sub(m, join+3)
	n[rBanSenderNotJoined] = sub(ban, 1)
	n[rBanPower] = sub(ban, 2)
	n[rBanOtherwise] = sub(ban, 3)

	unknown := join + 4
	if l.knock {
		k := sub(m, join+4)
		n[rKnockJoinRule] = sub(k, 1)
		n[rKnockNotSelf] = sub(k, 2)
		n[rKnockAllow] = sub(k, 3)
		n[rKnockOtherwise] = sub(k, 4)
		unknown++
	}
	n[rMemberUnknown] = sub(m, unknown)

	n[rSenderNotJoined] = l.notJoined
	n[rThirdPartyInvite] = sub(l.tpi, 1)
	n[rRequiredPower] = l.required
	n[rStateKey] = l.stateKey

	p := l.pl
	n[rPowerLevels] = p
	users := 1
	if l.plTypeChecks {
		n[rPLNamedType] = sub(p, 1)
		n[rPLMapsType] = sub(p, 2)
		users = 3
	} else {
		// Before v10 the text has no numbered rule for the other values; see
		// docs/decisions.md (authrules) ("non-integer power levels before v10").
		n[rPLNamedType] = p
		n[rPLMapsType] = p
	}
	n[rPLUsers] = sub(p, users)
	noPrev := users + 1
	if l.plCreators {
		n[rPLCreators] = sub(p, users+1)
		noPrev++
	}
	n[rPLNoPrevious] = sub(p, noPrev)
	n[rPLNamedOld] = sub(sub(p, noPrev+1), 1)
	n[rPLNamedNew] = sub(sub(p, noPrev+1), 2)
	n[rPLMapOld] = sub(sub(p, noPrev+2), 1)
	n[rPLMapNew] = sub(sub(p, noPrev+3), 1)
	n[rPLUsersOld] = sub(sub(p, noPrev+4), 1)
	n[rPLUsersNew] = sub(sub(p, noPrev+5), 1)
	n[rPLAllow] = sub(p, noPrev+6)
	n[rAllow] = l.allow

	if l.redaction != "" {
		n[rRedactionLevel] = sub(l.redaction, 1)
		n[rRedactionDomain] = sub(l.redaction, 2)
		n[rRedactionOtherwise] = sub(l.redaction, 3)
	}
	return &n
}

// The layouts of the texts named by roomversion.AuthRules.RuleSet.
var (
	layoutV1 = layout{
		auth: "2", authWrongSub: 5, noCreateSub: true, federate: "3", aliases: "4", member: "5",
		creatorRule: true, notJoined: "6", tpi: "7", required: "8", stateKey: "9", pl: "10",
		redaction: "11", allow: "12",
	}
	layoutV3 = func() layout { l := layoutV1; l.redaction, l.allow = "", "11"; return l }()
	layoutV6 = func() layout {
		l := layoutV3
		l.aliases, l.member, l.notJoined, l.tpi, l.required, l.stateKey, l.pl = "", "4", "5", "6", "7", "8", "9"
		l.allow = "10"
		return l
	}()
	layoutV7  = func() layout { l := layoutV6; l.knock = true; return l }()
	layoutV8  = func() layout { l := layoutV7; l.authoriser, l.restricted = true, true; return l }()
	layoutV10 = func() layout { l := layoutV8; l.plTypeChecks = true; return l }()
	layoutV11 = func() layout { l := layoutV10; l.creatorRule = false; return l }()
	layoutV12 = func() layout {
		l := layoutV11
		l.roomID, l.auth, l.authWrongSub, l.noCreateSub, l.federate = "2", "3", 4, false, "4"
		l.member, l.notJoined, l.tpi, l.required, l.stateKey, l.pl = "5", "6", "7", "8", "9", "10"
		l.allow = "11"
		l.additional, l.plCreators = true, true
		return l
	}()
)

// Rule number tables, computed once at package initialisation and never modified.
var (
	numbersV1  = layoutV1.numbers()
	numbersV3  = layoutV3.numbers()
	numbersV6  = layoutV6.numbers()
	numbersV7  = layoutV7.numbers()
	numbersV8  = layoutV8.numbers()
	numbersV10 = layoutV10.numbers()
	numbersV11 = layoutV11.numbers()
	numbersV12 = layoutV12.numbers()
)

// numbersFor returns the rule numbers of a rule set, nil for an unknown one.
func numbersFor(ruleSet string) *ruleNumbers {
	switch ruleSet {
	case "v1":
		return numbersV1
	case "v3":
		return numbersV3
	case "v6":
		return numbersV6
	case "v7":
		return numbersV7
	case "v8":
		return numbersV8
	case "v10":
		return numbersV10
	case "v11":
		return numbersV11
	case "v12":
		return numbersV12
	}
	return nil
}

// ruleNumberOf returns the number rule r has in the text of rule set ruleSet ("" when that
// text has no such rule or the rule set is unknown).
func ruleNumberOf(ruleSet string, r rule) string {
	n := numbersFor(ruleSet)
	if n == nil || r < 0 || r >= numRules {
		return ""
	}
	return n[r]
}

// MembershipRule returns the number, in the authorization rules of room version v, of the rule
// for m.room.member events whose membership is membership: "4.3" for join in room versions
// 8-11 and "5.3" in 12, "4.4" for invite in 8-11, and so on (rooms/v*.md); for a membership the
// version has no rule for (knock before v7, an unknown word) the rule that rejects it,
// "Otherwise, the membership is unknown. Reject" ("5.6" in v1-5, "4.8" in v8-11). It is "" for
// a Version Lookup would not return.
func MembershipRule(v roomversion.Version, membership string) string {
	if v.Check() != nil {
		return ""
	}
	n := numbersFor(v.Auth.RuleSet)
	if n == nil {
		return ""
	}
	var sub rule
	switch membership {
	case pdu.MembershipJoin:
		sub = rJoinCreator
	case pdu.MembershipInvite:
		sub = rInviteSenderNotJoined
	case pdu.MembershipLeave:
		sub = rLeaveSelf
	case pdu.MembershipBan:
		sub = rBanSenderNotJoined
	case pdu.MembershipKnock:
		sub = rKnockJoinRule
	default:
		return n[rMemberUnknown]
	}
	if n[sub] == "" { // knock before v7
		return n[rMemberUnknown]
	}
	return parentRule(n[sub])
}

// parentRule returns the number of the rule a sub-rule belongs to: "4.3" for "4.3.1".
func parentRule(num string) string {
	if i := strings.LastIndexByte(num, '.'); i >= 0 {
		return num[:i]
	}
	return num
}

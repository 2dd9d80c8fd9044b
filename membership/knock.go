package membership

import (
	"bytes"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// DecideKnock decides whether userID may knock on the room, as a resident server must on
// /make_knock and /send_knock, following the knock rule of the authorization rules (rooms/v7.md
// rule 4.6, v8-auth-rules.md and rooms/v10.md rule 4.7) and client-server-api "Knocking on
// rooms" ("Users who are currently in the room, already invited, or banned cannot knock"):
//
//   - a room whose create event sets m.federate to false refuses a user of another server
//     than the create event's: 403 M_FORBIDDEN, reason ErrNotFederated (rule 3, v12 rule 4,
//     before the membership rules);
//   - the join rule must allow knocking ([KnockAllowedByJoinRule]: knock from v7,
//     knock_restricted from v10), else 403 M_FORBIDDEN (the room "is not set up for
//     receiving knocks", knocks.yaml);
//   - a banned, invited or joined user: 403 M_FORBIDDEN;
//   - a user with no membership, leave, or an earlier knock: allowed.
//
// Refusals are [*Error] values with reason ErrKnockNotAllowed, or ErrBanned for a banned user,
// or ErrNotFederated.
func DecideKnock(s *authrules.State, userID string) error {
	if s == nil {
		return invalidParam(ErrBadInput, nil, "no room state given")
	}
	if !authrules.ValidUserID(userID) {
		return invalidParam(ErrBadInput, nil, "%q is not a user ID", userID)
	}
	if err := federationRefusal(s, userID); err != nil {
		return err
	}
	v := s.Version()
	rule := s.JoinRules().Rule
	ruleNo := authrules.MembershipRule(v, pdu.MembershipKnock)
	if !v.Auth.Knocking {
		return forbidden(ErrKnockNotAllowed, "room version %s does not support knocking", v.ID)
	}
	if !KnockAllowedByJoinRule(v, rule) {
		return forbidden(ErrKnockNotAllowed, "join rule %q does not allow knocking in room version %s (auth rule %s.1)", rule, v.ID, ruleNo)
	}
	switch m := s.Membership(userID); m {
	case pdu.MembershipBan:
		return forbidden(ErrBanned, "%s is banned from the room (auth rule %s.3)", userID, ruleNo)
	case pdu.MembershipInvite, pdu.MembershipJoin:
		return forbidden(ErrKnockNotAllowed, "%s is already %s, so cannot knock (auth rule %s.3)", userID, membershipWord(m), ruleNo)
	}
	return nil
}

func membershipWord(m string) string {
	switch m {
	case pdu.MembershipInvite:
		return "invited"
	case pdu.MembershipJoin:
		return "joined"
	case pdu.MembershipBan:
		return "banned"
	case pdu.MembershipKnock:
		return "knocking"
	}
	return "not a member"
}

// SendKnockRequest is what a resident server has when a /send_knock request arrives (spec:
// knocks.yaml). [SendLeaveRequest] has the same fields, for /send_leave.
type SendKnockRequest struct {
	// State is the current state of the room.
	State *authrules.State
	// RoomID and EventID are the path parameters; empty skips the comparison.
	RoomID, EventID string
	// Origin is the requesting server; empty skips the check that the sender is its user.
	Origin string
	// Event is the request body: the knock event signed by the knocking server.
	Event []byte
	// Keys supplies the public keys of the knocking server.
	Keys signing.KeyLookup
	// AuthEvents, if not nil, are the knock's own auth events, to check it against as well.
	AuthEvents []*pdu.Event
}

// SendKnockResult is a successful /send_knock.
type SendKnockResult struct {
	// Parsed is the accepted knock event. It does not share memory with the request's Event
	// (docs/decisions.md (membership) 24).
	Parsed *pdu.Event
	// KnockRoomState is the stripped state to return ([StrippedState]): full events of the
	// room version, m.room.create first.
	KnockRoomState []*pdu.Event
}

// JSON returns the response body {"knock_room_state":[...]} (spec: knocks.yaml).
func (r SendKnockResult) JSON() []byte {
	b := append([]byte(nil), `{"knock_room_state":`...)
	b = appendEvents(b, r.KnockRoomState)
	return append(b, '}')
}

// SendKnock handles /send_knock as a resident server: the body must be a knock event of the
// room version, with the same checks as [SendJoin] makes for joins (400 M_INVALID_PARAM:
// type, membership knock, state_key the sender, a user of Origin, signature and content
// hash; knocks.yaml); the knock must be allowed ([DecideKnock], 403 M_FORBIDDEN) and pass the
// authorization rules (403 M_FORBIDDEN, reason ErrAuthRules). The resident does not sign a
// knock. It returns the stripped state for `knock_room_state`. No State, or one of no room
// version, is 400 M_INVALID_PARAM with reason ErrBadInput, before the body is read.
func SendKnock(req SendKnockRequest) (SendKnockResult, error) {
	ev, err := acceptOwnMember(req, pdu.MembershipKnock, DecideKnock)
	if err != nil {
		return SendKnockResult{}, err
	}
	return SendKnockResult{Parsed: ev, KnockRoomState: StrippedState(req.State)}, nil
}

// acceptOwnMember is the resident's part of /send_knock and /send_leave, whose event it accepts
// without signing it: the body checks of receiveMember for an event of the given membership
// whose state key is its sender (no server signs after them), decide on the sender, then the
// authorization rules against the state and, when given, the event's own auth events.
func acceptOwnMember(req SendKnockRequest, membership string, decide func(*authrules.State, string) error) (*pdu.Event, error) {
	s := req.State
	v, err := requestVersion(s)
	if err != nil {
		return nil, err
	}
	// A copy: the accepted event is returned, and must not share memory with the request body,
	// which the caller may reuse (pdu.Parse keeps canonical input as it is).
	ev, err := receiveMember(v, bytes.Clone(req.Event), membership, req.RoomID, req.EventID, req.Origin, "", req.Keys, true)
	if err != nil {
		return nil, err
	}
	if err := decide(s, ev.Sender); err != nil {
		return nil, err
	}
	if err := authorise(s, ev, req.AuthEvents, req.Keys); err != nil {
		return nil, err
	}
	return ev, nil
}

// KnockAccepted reports whether ev, an m.room.member event for a user whose membership was
// knock, accepts the knock: it is an invite of that user by someone else. "The knocking
// homeserver should assume that an invite to the room means that the knock was accepted,
// even if the invite is not explicitly related to the knock" (client-server-api "Knocking on
// rooms"; server-server-api "Inviting to a room"). Use [ClassifyMemberEvent] for the other
// outcomes (rejected: a leave by another user, which is a kick; retracted: a leave by the
// user; banned).
func KnockAccepted(previous string, ev *pdu.Event) bool {
	return previous == pdu.MembershipKnock && ev != nil && ev.Type == pdu.TypeMember &&
		ev.Membership == pdu.MembershipInvite && ev.StateKey != nil && *ev.StateKey != ev.Sender
}

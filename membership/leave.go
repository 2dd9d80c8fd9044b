package membership

import (
	"errors"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
)

// DecideLeave decides whether userID may leave the room by an event of their own, as a
// resident server must on /make_leave and /send_leave (spec: server-server-api "Leaving Rooms
// (Rejecting Invites)"; data/api/server-server/leaving-v1.yaml, leaving-v2.yaml). It is
// [CheckTransition] with userID as both sender and target and membership leave, that is the
// m.room.member rule "If the sender matches state_key, allow if and only if that user's current
// membership state is invite, join, or knock" (rooms/fragments/v8-auth-rules.md rule 4.5.1;
// "invite or join" before room version 7, fragments/v1-auth-rules.md rule 5.4.1):
//
//   - a room whose create event sets m.federate to false refuses a user of another server than
//     the create event's: 403 M_FORBIDDEN, reason ErrNotFederated (rule 3, v12 rule 4);
//   - an invited user (rejecting the invite), a joined user (leaving) and, from room version 7,
//     a knocking user (retracting the knock): allowed;
//   - a banned user: 403 M_FORBIDDEN, reason ErrBanned (a leave would lift the ban, which only
//     another user's unban can);
//   - a user with no membership, or whose membership is leave already (and a knock membership
//     in room versions 1-6, which know no knock): 403 M_FORBIDDEN, reason ErrNotPossible
//     (leaving-v1.yaml: "This could mean that the user is not in the room"; docs/decisions.md
//     (membership) 21 and 22).
//
// No state, a state of no room version (the zero authrules.State: the error also matches
// roomversion.ErrUnknownVersion), a userID that is not a user ID: 400 M_INVALID_PARAM, reason
// ErrBadInput.
func DecideLeave(s *authrules.State, userID string) error {
	if s != nil {
		if err := s.Version().Check(); err != nil {
			return invalidParam(ErrBadInput, err, "%v", err)
		}
	}
	_, err := CheckTransition(s, userID, userID, pdu.MembershipLeave)
	var e *Error
	if err == nil || !errors.As(err, &e) || (e.Reason != ErrNotPossible && e.Reason != ErrBanned) {
		return err
	}
	// CheckTransition's words name the join rule, which a leave does not depend on.
	v := s.Version()
	from := "invite or join"
	if v.Auth.Knocking {
		from = "invite, join or knock"
	}
	return forbidden(e.Reason, "%s is %s, so cannot leave: a user leaves only from %s in room version %s (auth rule %s.1)",
		userID, membershipWord(s.Membership(userID)), from, v.ID, authrules.MembershipRule(v, pdu.MembershipLeave))
}

// MakeLeave answers /make_leave as a resident server (spec: server-server-api "Leaving Rooms
// (Rejecting Invites)", leaving-v1.yaml): it decides the request ([DecideLeave]: an invited,
// joined or knocking user may leave; anyone else is refused with 403 M_FORBIDDEN) and builds the
// template as [MakeKnock] does: an `m.room.member` event with `membership` leave, sender and
// state key userID, the auth events the auth events selection picks from the current state, and
// opts. A refusal is the [*Error] to send. Like MakeKnock it does not see the request's origin:
// call [CheckMakeRequest] first, with a nil `ver` (make_leave has none), for the check that
// userID "MUST be a user ID on the origin server".
//
// The leaving server checks the template with [CheckLeaveTemplate], completes and signs it with
// [SignTemplate] and sends it to /send_leave ([SendLeave]).
func MakeLeave(s *authrules.State, userID string, opts TemplateOptions) (Template, error) {
	if err := DecideLeave(s, userID); err != nil {
		return Template{}, err
	}
	return buildTemplate(s, userID, map[string]string{"membership": pdu.MembershipLeave}, opts)
}

// SendLeaveRequest is what a resident server has when a /send_leave request arrives (spec:
// leaving-v1.yaml, leaving-v2.yaml): the fields of [SendKnockRequest], with Event the leave
// event signed by the leaving server and Keys the public keys of that server.
type SendLeaveRequest SendKnockRequest

// SendLeaveResult is a successful /send_leave: the leave is accepted into the room as it was
// received (the resident does not sign it) and is to be sent to the other servers of the room
// (server-server-api "Leaving Rooms (Rejecting Invites)": "The resident server will then send the
// event to other servers in the room").
type SendLeaveResult struct {
	// Parsed is the accepted leave event. It does not share memory with the request's Event
	// (docs/decisions.md (membership) 24).
	Parsed *pdu.Event
}

// JSON returns the body of a successful version 2 /send_leave, `{}` (leaving-v2.yaml: "An empty
// response to indicate the event was accepted into the graph by the receiving homeserver"). The
// deprecated version 1 endpoint answers `[200, {}]` (leaving-v1.yaml): its body is `[200,`, JSON()
// and `]` (docs/decisions.md (membership) 23).
func (r SendLeaveResult) JSON() []byte {
	return []byte(`{}`)
}

// SendLeave handles /send_leave as a resident server (spec: server-server-api "Leaving Rooms
// (Rejecting Invites)"; leaving-v1.yaml, leaving-v2.yaml), with the checks [SendKnock] makes for
// knocks: the body must be an event of the room version (400 M_NOT_JSON / M_BAD_JSON) and, as
// leaving-v2.yaml asks (400 M_INVALID_PARAM, reasons ErrBadEvent and ErrBadSignature): of type
// m.room.member with membership leave, whose state_key is its sender, a user of Origin, in room
// RoomID with ID EventID, validly signed by the sender's server (room versions 1-2: also by the
// event ID's domain when it differs) with a matching content hash. The leave must then be allowed
// ([DecideLeave], 403 M_FORBIDDEN) and pass the authorization rules against State, and against
// AuthEvents when given (403 M_FORBIDDEN, reason ErrAuthRules). The resident does not sign a
// leave. As for every handshake, the room's server ACL is the caller's ([CheckMakeRequest]). No
// State, or one of no room version, is 400 M_INVALID_PARAM with reason ErrBadInput, before the
// body is read.
func SendLeave(req SendLeaveRequest) (SendLeaveResult, error) {
	ev, err := acceptOwnMember(SendKnockRequest(req), pdu.MembershipLeave, DecideLeave)
	if err != nil {
		return SendLeaveResult{}, err
	}
	return SendLeaveResult{Parsed: ev}, nil
}

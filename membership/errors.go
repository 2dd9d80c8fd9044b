package membership

import (
	"errors"
	"fmt"
	"github.com/roomproto/roomproto/authrules"

	"github.com/roomproto/roomproto/canonicaljson"
)

// Matrix error codes this package answers with (spec: client-server-api "Standard error
// response" and "Common error codes"; server-server-api "Restricted rooms"; the 400 and 403
// responses of data/api/server-server/joins-v1.yaml, joins-v2.yaml, knocks.yaml and
// invites-v2.yaml).
const (
	// ErrCodeForbidden is M_FORBIDDEN (status 403): the room does not permit the user to join,
	// knock or leave, or the event fails the authorization rules.
	ErrCodeForbidden = "M_FORBIDDEN"
	// ErrCodeUnableToAuthoriseJoin is M_UNABLE_TO_AUTHORISE_JOIN (status 400): the resident
	// server cannot verify the restricted room's conditions, usually because it does not
	// participate in the rooms they name. The joining server should try another resident.
	ErrCodeUnableToAuthoriseJoin = "M_UNABLE_TO_AUTHORISE_JOIN"
	// ErrCodeUnableToGrantJoin is M_UNABLE_TO_GRANT_JOIN (status 400): the user satisfies a
	// condition but no user of the resident server could authorise the join. The joining
	// server should try another resident.
	ErrCodeUnableToGrantJoin = "M_UNABLE_TO_GRANT_JOIN"
	// ErrCodeInvalidParam is M_INVALID_PARAM (status 400): the event sent to /send_join,
	// /send_knock, /send_leave or /invite is not the kind of event the endpoint accepts, or
	// fails a signature check.
	ErrCodeInvalidParam = "M_INVALID_PARAM"
	// ErrCodeMissingParam is M_MISSING_PARAM (status 400): a required part of a request is
	// missing. This package does not return it (a missing m.room.create in invite_room_state is
	// M_INVALID_PARAM, as invites-v2.yaml says; docs/decisions.md, membership 11); it is here
	// for callers, e.g. a /make_knock request without `ver`.
	ErrCodeMissingParam = "M_MISSING_PARAM"
	// ErrCodeBadJSON is M_BAD_JSON (status 400): the event is JSON but not a well-formed event
	// of the room version.
	ErrCodeBadJSON = "M_BAD_JSON"
	// ErrCodeNotJSON is M_NOT_JSON (status 400): the bytes are not JSON at all.
	ErrCodeNotJSON = "M_NOT_JSON"
	// ErrCodeIncompatibleRoomVersion is M_INCOMPATIBLE_ROOM_VERSION (status 400): the joining
	// or knocking server does not support the room's version (its `ver` list, joins-v1.yaml,
	// knocks.yaml); [CheckMakeRequest] returns it, with [Error.RoomVersion] set. Knocking in a
	// room version without knocking is 403 M_FORBIDDEN (docs/decisions.md, membership 5).
	ErrCodeIncompatibleRoomVersion = "M_INCOMPATIBLE_ROOM_VERSION"
	// ErrCodeUnknown is M_UNKNOWN: used, with status 502, for errors the joining side finds
	// in a resident server's answer (a malformed template, a send_join event that is not the
	// one sent), and with status 500 for local failures such as an unusable signing key.
	ErrCodeUnknown = "M_UNKNOWN"
)

// Reasons: sentinel errors matched with errors.Is against an [*Error]. Each names why a
// request was refused, independently of the status and errcode sent back.
var (
	// ErrBanned: the user is banned from the room (auth rules 4.3.3 and 4.7.3 of v8 / v10).
	ErrBanned = errors.New("user is banned from the room")
	// ErrNotInvited: the join rule needs an invite the user does not hold (rule 4.3.4).
	ErrNotInvited = errors.New("join rule requires an invite")
	// ErrUnknownJoinRule: the join rule is not one the room version knows, so only the auth
	// rules' "otherwise, reject" applies (e.g. restricted in v7).
	ErrUnknownJoinRule = errors.New("join rule unknown to the room version")
	// ErrNoCondition: the room is restricted and the resident server knows the user satisfies
	// none of its allow conditions, or it has no valid ones (server-server "Restricted
	// rooms": 403 M_FORBIDDEN).
	ErrNoCondition = errors.New("user satisfies no allow condition")
	// ErrUnverifiable: the room is restricted, the user satisfies no condition the resident
	// can check, and some conditions name rooms the resident does not participate in (400
	// M_UNABLE_TO_AUTHORISE_JOIN).
	ErrUnverifiable = errors.New("allow conditions cannot be verified by this server")
	// ErrNoAuthoriser: the user satisfies a condition but no joined user of the resident
	// server can invite (400 M_UNABLE_TO_GRANT_JOIN).
	ErrNoAuthoriser = errors.New("no user of this server can authorise the join")
	// ErrKnockNotAllowed: the join rule does not allow knocking, or the user's membership
	// forbids it (invited, joined, banned).
	ErrKnockNotAllowed = errors.New("knocking not allowed")
	// ErrBadEvent: an event received in a handshake is not what the endpoint accepts (wrong
	// type, membership, sender, state key, room, event ID, or malformed).
	ErrBadEvent = errors.New("event not acceptable for this endpoint")
	// ErrBadSignature: a signature or content hash of a handshake event does not verify.
	ErrBadSignature = errors.New("event signature or hash check failed")
	// ErrAuthRules: the event fails the room version's authorization rules; Err holds the
	// authrules rejection.
	ErrAuthRules = errors.New("event rejected by the authorization rules")
	// ErrBadTemplate: a make_join, make_knock or make_leave response fails the checks the
	// joining, knocking or leaving server MUST make; the spec says to discard it and MAY try
	// another server.
	ErrBadTemplate = errors.New("make_join/make_knock/make_leave template malformed")
	// ErrResponseMismatch: the event returned by send_join is not the event that was sent
	// plus the resident server's valid signature.
	ErrResponseMismatch = errors.New("send_join response event differs from the event sent")
	// ErrIncompatibleVersion: the room's version is not in the `ver` list of the requesting
	// server (400 M_INCOMPATIBLE_ROOM_VERSION, joins-v1.yaml, knocks.yaml).
	ErrIncompatibleVersion = errors.New("room version not supported by the requesting server")
	// ErrNotFromOrigin: the user of a make_join, make_knock or make_leave request is not a user
	// of the server that sent it (403 M_FORBIDDEN; joins-v1.yaml, leaving-v1.yaml: "This MUST
	// be a user ID on the origin server").
	ErrNotFromOrigin = errors.New("user is not on the requesting server")
	// ErrBadInput: the caller's arguments are unusable (malformed user ID, missing state).
	ErrBadInput = errors.New("invalid input")
	// ErrNotPossible: no membership transition leads from the current membership to the
	// requested one for this sender; for [DecideLeave], the user is not in the room (no
	// membership, or leave already).
	ErrNotPossible = errors.New("membership transition not possible")
	// ErrInsufficientPower: the transition exists but the sender lacks the power level or
	// membership it needs.
	ErrInsufficientPower = errors.New("sender lacks the required power level or membership")
	// ErrNotFederated: the room's create event sets m.federate to false and the user is not
	// of the create event's server, so every event of the user fails auth rule 3 (rule 4 in
	// room version 12) before any membership rule is read (403 M_FORBIDDEN; Err holds the
	// authrules rejection, [authrules.State.CheckFederation]).
	ErrNotFederated = errors.New("room does not federate with the user's server")
)

// federationRefusal is the 403 for a user whose server the room does not federate with (auth
// rule 3, v12 4), nil when it does.
func federationRefusal(s *authrules.State, userID string) error {
	err := s.CheckFederation(userID)
	if err == nil {
		return nil
	}
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return newError(403, ErrCodeForbidden, ErrNotFederated, err, "%s (auth rule %s)", rej.Reason, rej.Rule)
	}
	return invalidParam(ErrBadInput, err, "%v", err)
}

// Error is the one error type of this package: a refusal ready to be sent as the Matrix error
// response (spec: client-server-api "Standard error response"): an HTTP status, an errcode
// and a message. Reason is one of the package's sentinel errors, Err the underlying cause (an
// authrules rejection, a pdu format error, a signing error) when there is one; errors.Is and
// errors.As see both. A refusal because a signature's key is not known to the caller's key
// lookup (SendJoin, SendKnock and SignInvite without the sending server's key,
// CheckSendJoinResponse without the resident's) matches signing.ErrUnknownKey (the
// signing.VerificationError names the server): fetch that server's keys and check again, as
// for a received PDU, rather than treat the answer as forged.
type Error struct {
	// Status is the HTTP status code: 400 or 403 for the request's faults, 502 for faults in
	// another server's answer and 500 for local ones (docs/decisions.md (membership) 9).
	Status int
	// ErrCode is the Matrix error code, one of the ErrCode constants.
	ErrCode string
	// Message is the human-readable `error` text.
	Message string
	// Reason is the sentinel saying why (ErrBanned, ErrNoAuthoriser, ...).
	Reason error
	// Err is the underlying error, if any.
	Err error
	// RoomVersion is the room's version, sent as `room_version` with
	// M_INCOMPATIBLE_ROOM_VERSION (joins-v1.yaml) so the requesting server learns what it
	// lacks; empty otherwise.
	RoomVersion string
}

// Error returns "membership: <status> <errcode>: <message>".
func (e *Error) Error() string {
	e = orNilError(e)
	return fmt.Sprintf("membership: %d %s: %s", e.Status, e.ErrCode, e.Message)
}

// Unwrap returns the reason and the cause.
func (e *Error) Unwrap() []error {
	if e == nil {
		return nil
	}
	out := make([]error, 0, 2)
	if e.Reason != nil {
		out = append(out, e.Reason)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// JSON returns the standard error response body, {"errcode":"...","error":"..."} (and
// "room_version" when RoomVersion is set), as canonical JSON (spec: client-server-api
// "Standard error response", joins-v1.yaml).
func (e *Error) JSON() []byte {
	e = orNilError(e)
	b := make([]byte, 0, 32+len(e.ErrCode)+len(e.Message))
	b = append(b, `{"errcode":`...)
	b = canonicaljson.AppendString(b, e.ErrCode)
	b = append(b, `,"error":`...)
	b = canonicaljson.AppendString(b, e.Message)
	if e.RoomVersion != "" {
		b = append(b, `,"room_version":`...)
		b = canonicaljson.AppendString(b, e.RoomVersion)
	}
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler with [Error.JSON].
func (e *Error) MarshalJSON() ([]byte, error) { return e.JSON(), nil }

// TryAnotherServer reports whether the joining server should repeat the handshake through a
// different resident server rather than give up: true for the two 400s of restricted rooms
// (M_UNABLE_TO_AUTHORISE_JOIN, M_UNABLE_TO_GRANT_JOIN) and for a malformed make_join or
// make_knock template (which the spec says to discard, after which the caller MAY try another
// server); false for 403 M_FORBIDDEN, which every resident would answer alike (spec:
// server-server-api "Restricted rooms", joins-v1.yaml).
func (e *Error) TryAnotherServer() bool {
	e = orNilError(e)
	return ShouldTryAnotherServer(e.Status, e.ErrCode) || errors.Is(e.Reason, ErrBadTemplate)
}

// nilError is what the methods of a nil *Error (a caller's slip, not a verdict) answer as:
// 500 M_UNKNOWN, as DecisionJSON answers it.
var nilError = Error{Status: 500, ErrCode: ErrCodeUnknown, Message: "nil *membership.Error"}

// orNilError returns e, or for a nil e a copy of nilError.
func orNilError(e *Error) *Error {
	if e == nil {
		c := nilError
		return &c
	}
	return e
}

// ShouldTryAnotherServer reports whether a make_join or send_join error response with the
// given status and errcode means "try a different resident server" (400
// M_UNABLE_TO_AUTHORISE_JOIN or M_UNABLE_TO_GRANT_JOIN) rather than "stop" (403 M_FORBIDDEN
// and everything else) (spec: server-server-api "Restricted rooms").
func ShouldTryAnotherServer(status int, errcode string) bool {
	return status == 400 && (errcode == ErrCodeUnableToAuthoriseJoin || errcode == ErrCodeUnableToGrantJoin)
}

func newError(status int, code string, reason, cause error, format string, args ...any) *Error {
	return &Error{Status: status, ErrCode: code, Message: fmt.Sprintf(format, args...), Reason: reason, Err: cause}
}

func forbidden(reason error, format string, args ...any) *Error {
	return newError(403, ErrCodeForbidden, reason, nil, format, args...)
}

func invalidParam(reason, cause error, format string, args ...any) *Error {
	return newError(400, ErrCodeInvalidParam, reason, cause, format, args...)
}

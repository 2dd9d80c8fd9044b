package authrules

import (
	"errors"
	"strconv"
)

// Severity grades a verdict, after the failure levels of the original server-server design
// (FATAL, ERROR, WARN).
type Severity int

const (
	// SeverityFatal: the event could not be parsed or misses a required field (an
	// `m.room.member` without `state_key` or `membership`, an `m.room.create` without
	// `creator` before v11, a third-party invite without `signed`, ...). The event is rejected.
	SeverityFatal Severity = iota + 1
	// SeverityError: the event parsed but an authorization rule rejected it.
	SeverityError
	// SeverityWarn: the event was accepted, but something about it was unexpected (for
	// example a restricted join whose authorising server's signature is present but was not
	// verified because no keys were given). Warnings are never returned as errors by the
	// Check functions; they are passed to [Options.Warn].
	SeverityWarn
)

// String returns "fatal", "error" or "warn".
func (s Severity) String() string {
	switch s {
	case SeverityFatal:
		return "fatal"
	case SeverityError:
		return "error"
	case SeverityWarn:
		return "warn"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// Rejection is the verdict of an authorization rule: the event is rejected (severity fatal or
// error) or accepted with a remark (severity warn, only ever passed to [Options.Warn]).
// errors.Is matches it against its sentinel (Err) and against [ErrRejected] when it rejects.
type Rejection struct {
	// Rule is the number of the rule in the room version's authorization rules text, e.g.
	// "4.3.5.2" (room versions 8 and 9, rooms/fragments/v8-auth-rules.md). The numbering is
	// the one the published spec displays (see docs/decisions.md (authrules)).
	Rule string
	// Severity grades the verdict.
	Severity Severity
	// Reason says what was compared, naming the values.
	Reason string
	// Err is one of the sentinel errors of this package.
	Err error
}

// Error returns "authrules: rule <Rule>: <Reason>".
func (r *Rejection) Error() string {
	if r.Rule == "" {
		return "authrules: " + r.Reason
	}
	return "authrules: rule " + r.Rule + ": " + r.Reason
}

// Unwrap returns the sentinel error.
func (r *Rejection) Unwrap() error { return r.Err }

// Is reports whether target is [ErrRejected] and the verdict rejects the event.
func (r *Rejection) Is(target error) bool {
	return target == ErrRejected && r.Severity != SeverityWarn
}

// Rejected reports whether err is a verdict that rejects the event: a [*Rejection] of
// severity fatal or error. It is false for nil.
func Rejected(err error) bool { return errors.Is(err, ErrRejected) }

// ErrRejected is matched (errors.Is) by every rejecting [*Rejection].
var ErrRejected = errors.New("authrules: event rejected")

// Sentinel errors, one per rule family; a [*Rejection] wraps exactly one of them. The rule
// numbers in the comments are those of room versions 8 and 9 unless said otherwise.
var (
	// ErrMalformed: the event misses a field the rules need or cannot be read (for example
	// a nil event). Severity fatal.
	ErrMalformed = errors.New("event is malformed")

	// ErrCreatePrevEvents: an m.room.create with prev_events (rule 1.1).
	ErrCreatePrevEvents = errors.New("m.room.create has prev_events")
	// ErrCreateRoomID: the room ID of an m.room.create is wrong: its domain differs from the
	// sender's (rule 1.2, v1-11), or it has a room_id at all (rule 1.2, v12).
	ErrCreateRoomID = errors.New("m.room.create room_id is not allowed")
	// ErrCreateRoomVersion: content.room_version is not a recognised version (rule 1.3).
	ErrCreateRoomVersion = errors.New("m.room.create names an unknown room version")
	// ErrCreateNoCreator: content.creator is missing (rule 1.4, v1-10).
	ErrCreateNoCreator = errors.New("m.room.create has no creator")
	// ErrCreateAdditionalCreators: additional_creators is not an array of valid user IDs
	// (rule 1.4, v12).
	ErrCreateAdditionalCreators = errors.New("m.room.create additional_creators is invalid")
	// ErrRoomIDNotCreate: the room_id is not the ID of an accepted m.room.create (rule 2,
	// v12), or the room's create event is unknown.
	ErrRoomIDNotCreate = errors.New("room_id does not name an accepted m.room.create")

	// ErrAuthEventDuplicate: two auth events share a type and state_key (rule 2.1).
	ErrAuthEventDuplicate = errors.New("duplicate auth event")
	// ErrAuthEventUnexpected: an auth event is not one the auth events selection picks
	// (rule 2.2).
	ErrAuthEventUnexpected = errors.New("auth event not selected by the auth events selection")
	// ErrAuthEventRejected: an auth event was itself rejected (rule 2.3).
	ErrAuthEventRejected = errors.New("auth event was rejected")
	// ErrAuthEventNoCreate: no m.room.create among the auth events (rule 2.4, v1-11).
	ErrAuthEventNoCreate = errors.New("no m.room.create among the auth events")
	// ErrAuthEventWrongRoom: an auth event belongs to another room (rule 2.5).
	ErrAuthEventWrongRoom = errors.New("auth event belongs to another room")
	// ErrAuthEventMissing: an auth event the event lists was not supplied (rule 2; the
	// spec assumes the server has fetched every auth event).
	ErrAuthEventMissing = errors.New("auth event not supplied")

	// ErrNotFederated: m.federate is false and the sender is from another server (rule 3).
	ErrNotFederated = errors.New("room does not federate")
	// ErrAliases: an m.room.aliases without state_key or whose state_key is not the
	// sender's domain (rule 4, v1-5).
	ErrAliases = errors.New("m.room.aliases state_key is not the sender's domain")

	// ErrAuthoriserSignature: the join is not validly signed by the server of
	// join_authorised_via_users_server (rule 4.2.1).
	ErrAuthoriserSignature = errors.New("not signed by the authorising user's server")
	// ErrSenderNotTarget: a join or knock whose sender is not the state_key (rules 4.3.2,
	// 4.7.2).
	ErrSenderNotTarget = errors.New("sender does not match state_key")
	// ErrBanned: the sender (joins) or the target (invites) is banned (rules 4.3.3, 4.4.1.1,
	// 4.4.3).
	ErrBanned = errors.New("user is banned")
	// ErrJoinNotAllowed: the join rule does not let the sender join (rule 4.3.7).
	ErrJoinNotAllowed = errors.New("join rule does not allow the join")
	// ErrRestrictedAuthoriser: the authorising user of a restricted join is missing, not
	// joined or lacks invite power (rule 4.3.5.2).
	ErrRestrictedAuthoriser = errors.New("authorising user may not authorise the join")
	// ErrThirdPartyInvite: a third-party invite fails its checks (rules 4.4.1.2-4.4.1.8).
	ErrThirdPartyInvite = errors.New("third-party invite is not valid")
	// ErrSenderNotJoined: the sender is not joined (rules 4.4.2, 4.5.2, 4.6.1, 5).
	ErrSenderNotJoined = errors.New("sender is not joined to the room")
	// ErrTargetJoined: the invited user is already joined (rule 4.4.3).
	ErrTargetJoined = errors.New("target user is already joined")
	// ErrInsufficientPower: the sender's power level is too low (rules 4.4.5, 4.5.3, 4.5.5,
	// 4.6.3, 6.1, 7, 9.3-9.7).
	ErrInsufficientPower = errors.New("insufficient power level")
	// ErrLeaveNotAllowed: a user leaves from a membership that allows no leave (rule 4.5.1).
	ErrLeaveNotAllowed = errors.New("leave not allowed from this membership")
	// ErrKnockNotAllowed: the join rule allows no knock, or the sender is already invited,
	// joined or banned (rules 4.7.1, 4.7.4).
	ErrKnockNotAllowed = errors.New("knock not allowed")
	// ErrUnknownMembership: the membership value is unknown in this room version (rule 4.8).
	ErrUnknownMembership = errors.New("unknown membership")

	// ErrStateKeyNotSender: a state_key starting with @ that is not the sender (rule 8).
	ErrStateKeyNotSender = errors.New("state_key names another user")
	// ErrPowerLevelsInvalid: an m.room.power_levels content value is not an integer (or an
	// integer string, where allowed), or users has an invalid user ID (rules 9.1; 10.1-10.3
	// from v10), or names a room creator (rule 10.4, v12).
	ErrPowerLevelsInvalid = errors.New("invalid power levels content")
	// ErrRedactionNotAllowed: an m.room.redaction by a user below the redact level for an
	// event of another server (rule 11, v1-2).
	ErrRedactionNotAllowed = errors.New("redaction not allowed")
)

// newRejection builds a rejecting verdict.
func newRejection(rule string, sev Severity, sentinel error, reason string) *Rejection {
	return &Rejection{Rule: rule, Severity: sev, Reason: reason, Err: sentinel}
}

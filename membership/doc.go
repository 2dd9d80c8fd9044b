// Package membership makes the decisions servers take around room membership — restricted
// joins, the join, knock, invite and leave handshakes, and membership transitions — as pure
// functions over what the caller knows, returning the answer and the exact error to send.
//
// Spec: server-server-api "Joining Rooms" (with "Restricted rooms"), "Knocking upon a room",
// "Inviting to a room", "Leaving Rooms (Rejecting Invites)"; client-server-api "Room
// membership", "Knocking on rooms", "Restricted rooms", "Stripped state";
// data/api/server-server/joins-v1.yaml, joins-v2.yaml, knocks.yaml, invites-v2.yaml,
// leaving-v1.yaml, leaving-v2.yaml; and the m.room.member rules of each room version's
// authorization rules.
//
// # Resident server
//
// [DecideJoin] decides a /make_join or /send_join request: already joined or invited, public,
// invite-only, or restricted with allow conditions ([ParseAllowConditions],
// [EvaluateConditions]) and an authorising user ([Authorisers]). [MakeJoin] also builds the
// template; [SendJoin] validates the joining server's signed event, decides again, adds the
// resident's signature and runs the authorization rules. [DecideKnock], [MakeKnock] and
// [SendKnock] do the same for knocks, returning the stripped state ([StrippedState]).
// [DecideLeave], [MakeLeave] and [SendLeave] do it for leaves through another server: rejecting
// an invite, retracting a knock, or leaving (an invited, joined or knocking user may leave).
//
// # Joining, knocking, leaving and invited servers
//
// [CheckJoinTemplate], [CheckKnockTemplate] and [CheckLeaveTemplate] make the checks the spec
// requires of a template, [SignTemplate] completes and signs it, and [CheckSendJoinResponse]
// checks the event send_join returns. [AuthorisedServers] lists the servers able to authorise a restricted
// join; [ShouldTryAnotherServer] and [Error.TryAnotherServer] say whether an error means "try
// another resident" (the two 400s) or "stop" (403). [SignInvite] validates an incoming invite
// for one of the server's users, checks its invite_room_state ([CheckStrippedState]) and adds
// the server's signature.
//
// # Membership transitions
//
// [Transitions] is the spec's membership diagram as a table for a room version, completed with
// every change the authorization rules permit; [FindTransition], [ClassifyMemberEvent],
// [KnockAccepted] and [CheckTransition] say which action a change is and what power it needs.
//
// # Errors
//
// Every refusal is an [*Error]: an HTTP status, a Matrix errcode and a message ([Error.JSON] is
// the response body), with a sentinel reason (ErrBanned, ErrNoAuthoriser, ...) and the
// underlying cause (an authrules rejection, a pdu or signing error) for errors.Is and errors.As.
// Nothing in this package panics on bad input, keeps global mutable state, or does I/O; all
// functions are safe for concurrent use. Readings the spec leaves open are recorded in
// docs/decisions.md (membership).
//
// A roomversion.Version must be one roomversion.Lookup or roomversion.All returns: the zero
// Version, or a copy renamed to an ID the spec does not define, is refused with an error
// matching roomversion.ErrUnknownVersion rather than read as a room version without rules.
package membership

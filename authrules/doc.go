// Package authrules applies the authorization rules of Matrix rooms: the auth events an event
// needs, power levels, join rules, and the verdict — allowed, or rejected under a numbered rule
// of the room version's text.
//
// The rules are those of spec rooms/fragments/v1-auth-rules.md (room versions 1-2),
// v3-auth-rules.md (3-5), the inline rules of rooms/v6.md and v7.md, v8-auth-rules.md (8-9),
// and the inline rules of rooms/v10.md, v11.md and v12.md. Which rules apply is read from the
// [roomversion.Version] flags, never from the version string; rejections cite the rule number
// of the text named by roomversion.AuthRules.RuleSet.
//
// Three entry points cover the checks of server-server-api "Checks performed on receipt of a
// PDU":
//
//   - [Check] / [CheckWithOptions]: check 4, the event against its own auth events, including
//     rule 2 about the auth events themselves;
//   - [State.Check] / [State.CheckWithOptions]: checks 5 and 6, the event against the state
//     before it or the current state (soft failure). A [State] parses the create event, power
//     levels, join rules and memberships once, so that checking many events against the same
//     state is cheap;
//   - [AuthEventsNeeded] / [State.AuthEvents]: the auth events selection.
//
// A verdict is nil (allowed) or a [*Rejection] carrying the rule number ("4.3.5.2"), a
// [Severity] and a reason, and matching a sentinel error with errors.Is. Spec-silent readings
// are recorded in docs/decisions.md (authrules).
//
// Event content is read with the canonicaljson package (exact keys, last duplicate wins),
// never decoded into Go structs. Everything in this package is safe for concurrent use, except
// that [State.Apply] must not run concurrently with other methods of the same State.
//
// A roomversion.Version must be one roomversion.Lookup or roomversion.All returns: the zero
// Version, or a copy renamed to an ID the spec does not define, is refused with an error
// matching roomversion.ErrUnknownVersion rather than read as a room version without rules.
package authrules

package redaction

import (
	"cmp"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// Decision is what a server does with a received `m.room.redaction` and the event it names
// (rooms/fragments/v3-handling-redactions.md; rooms/fragments/v1-auth-rules.md rule 11).
type Decision int

const (
	// Apply: redact the target (see [Redact] and [ApplyRedaction]) and send the redaction to
	// clients.
	Apply Decision = iota + 1
	// WaitForTarget: the target has not been received yet; decide again when it arrives, and
	// do not send the redaction to clients meanwhile.
	WaitForTarget
	// Ignore: do not apply the redaction to this target and do not send it to clients. Either
	// the pair does not match (not a redaction, no `redacts`, another event or another room),
	// or the sender may not redact this event. The spec has the server keep "waiting for a
	// valid partner event"; as neither event can change, no later check can give another
	// answer for this pair.
	Ignore
)

// String returns "apply", "wait-for-target" or "ignore".
func (d Decision) String() string {
	switch d {
	case Apply:
		return "apply"
	case WaitForTarget:
		return "wait-for-target"
	case Ignore:
		return "ignore"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Decide says whether the redaction event redaction may be applied to target now, must wait for
// target, or must be ignored, following "Handling redactions"
// (rooms/fragments/v3-handling-redactions.md) and, where the room version has one, the
// authorisation rule for redactions (rule 11 of rooms/fragments/v1-auth-rules.md, room versions
// 1 and 2). The reason says why, in a few words.
//
// target is the event named by the redaction's `redacts` (pdu.Event.Redacts, read from the top
// level before room version 11 and from `content` from version 11), or nil when it has not been
// received. target.EventID must be set (signing.ParseEvent does so; pdu.Parse does only for
// room versions 1 and 2): a target whose ID differs from `redacts`, or that is in another room,
// is ignored. Both events must have been parsed for v (pdu.Event.Version); a redaction parsed
// for another version is ignored, since its `redacts` was read by that version's rules, and so is
// a target parsed for a version other than the redaction's; with a v Lookup would not return (the
// zero Version) every redaction is ignored: there are no rules. Both events must already have passed
// the checks on receipt (format, signatures, authorisation); Decide does not repeat them.
//
// senderPowerLevel is the power level of the redaction's `sender` and redactLevel the room's
// *redact level*, both in the state the redaction event is authorised against (the authrules
// package computes them). Before room version 10 a level may lie beyond the int64 range, which
// the int64 getters of authrules.PowerLevels saturate; [DecideCompared] takes the exact
// comparison instead (authrules.PowerLevels.CompareUserTo(sender, "redact")). The redaction is
// applied when senderPowerLevel >= redactLevel, or:
//   - when the version authorises redactions by rule 11 (roomversion.AuthRules.RedactionRule):
//     the domain of the redaction's `event_id` equals the domain of the redacted event's ID
//     (rule 11.2). This does not need the target, so a redaction that fails it is ignored at
//     once, as rule 11.3 rejects it; one that passes still waits for its target to apply to.
//   - otherwise (room version 3 and later): the domain of the redaction's `sender` equals the
//     domain of the target's `sender` (condition 2).
//
// Domains are compared exactly; an ID without a domain matches nothing.
func Decide(v roomversion.Version, redaction, target *pdu.Event, senderPowerLevel, redactLevel int64) (Decision, string) {
	return DecideCompared(v, redaction, target, cmp.Compare(senderPowerLevel, redactLevel))
}

// DecideCompared is [Decide] given the comparison of the sender's power level with the redact
// level instead of the two levels: senderVsRedact is negative when the sender's level is below
// the redact level, zero when equal, positive when above, as
// authrules.PowerLevels.CompareUserTo(sender, "redact") returns it. That comparison is exact for
// the levels of room versions 1-9 beyond the int64 range (rooms/fragments/v1-stringy-power-levels.md),
// where comparing the saturated int64 values could answer differently from other servers.
func DecideCompared(v roomversion.Version, redaction, target *pdu.Event, senderVsRedact int) (Decision, string) {
	if redaction == nil || redaction.Type != pdu.TypeRedaction {
		return Ignore, "not an m.room.redaction event"
	}
	if v.Check() != nil {
		return Ignore, "no room version's rules (" + quote(v.ID) + " is not a room version roomversion.Lookup returns)"
	}
	// Redacts was read by the rules of the version the event was parsed for (top-level before
	// v11, content from v11): judged under another, it would be the wrong field.
	if redaction.Version.ID != v.ID {
		return Ignore, "the redaction was parsed for room version " + quote(redaction.Version.ID) + ", not " + quote(v.ID)
	}
	redacts := redaction.Redacts
	if redacts == "" {
		return Ignore, "redaction names no event (no redacts)"
	}
	powerful := senderVsRedact >= 0
	if v.Auth.RedactionRule && !powerful && !sameDomain(redaction.EventID, redacts) {
		return Ignore, "rule 11.3: sender below the redact level and event IDs of different domains"
	}
	if target == nil {
		return WaitForTarget, "target event " + redacts + " not received yet"
	}
	if reason := mismatch(redaction, target); reason != "" {
		return Ignore, reason
	}
	switch {
	case powerful:
		if v.Auth.RedactionRule {
			return Apply, "rule 11.1: sender at or above the redact level"
		}
		return Apply, "sender at or above the redact level"
	case v.Auth.RedactionRule:
		return Apply, "rule 11.2: event IDs of the same domain"
	case sameDomain(redaction.Sender, target.Sender):
		return Apply, "sender of the same domain as the target's sender"
	}
	return Ignore, "sender below the redact level and of another domain than the target's sender"
}

// mismatch returns why redaction does not apply to target, or "" when it names it.
func mismatch(redaction, target *pdu.Event) string {
	if target.EventID == "" {
		return "target event ID unknown (parse the target with its event ID)"
	}
	if target.EventID != redaction.Redacts {
		return "target " + target.EventID + " is not the redacted event " + redaction.Redacts
	}
	if target.Version.ID != redaction.Version.ID {
		return "the events were parsed for different room versions (" + quote(target.Version.ID) + ", " + quote(redaction.Version.ID) + ")"
	}
	if target.Room() != redaction.Room() {
		return "target is in another room than the redaction"
	}
	return ""
}

// domainOf returns the server name of a user or event ID: everything after the first colon
// (appendices "Common Identifier Format"), or "" when there is none.
func domainOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

func sameDomain(a, b string) bool {
	da := domainOf(a)
	return da != "" && da == domainOf(b)
}

// ApplyRedaction returns target redacted under its room version (as [Redact] does) and with the
// redaction recorded the way clients expect (client-server-api "Redactions": servers should
// include a copy of the `m.room.redaction` event under `unsigned` as `redacted_because`).
//
// The output is canonical JSON: the redacted target plus the single key
// `"unsigned":{"redacted_because":<redaction>}`, where <redaction> is the canonical form of the
// redaction event's received bytes (redaction.Raw()), unchanged. Nothing of the target's own
// `unsigned` survives. Since reference hashes and signatures ignore `unsigned`, the output still
// has the target's event ID and signatures. It is the form served to clients, not a PDU: the
// whole redaction under `unsigned` can take it past the 65,536-byte size limit, where
// signing.VerifyEvent and pdu.Parse refuse it; store, verify and send over federation the
// output of [Redact] instead (docs/decisions.md, redaction 12). The two events must have been parsed for the same
// room version ([ErrWrongTarget] otherwise, as for a target that is not the redacted event).
//
// It checks only that the two events match: redaction is an `m.room.redaction` whose `redacts`
// is target.EventID (which must be set) in the same room; otherwise the error is an [*Error]
// wrapping [ErrNotRedaction] or [ErrWrongTarget] ([ErrInvalidJSON] if either event's bytes are
// not valid for its room version, which cannot happen for events from pdu.Parse). Whether the
// redaction may be applied at all is [Decide]'s question. target.Version is the room version
// used for the target, redaction.Version for the copy of the redaction.
func ApplyRedaction(target, redaction *pdu.Event) ([]byte, error) {
	if target == nil || redaction == nil {
		return nil, &Error{Err: ErrWrongTarget, Detail: "missing event"}
	}
	if redaction.Type != pdu.TypeRedaction {
		return nil, &Error{Err: ErrNotRedaction, Detail: "type is " + quote(redaction.Type)}
	}
	v := target.Version
	if redaction.Redacts == "" {
		return nil, &Error{Err: ErrWrongTarget, Detail: "redaction names no event (no redacts)"}
	}
	if reason := mismatch(redaction, target); reason != "" {
		return nil, &Error{Err: ErrWrongTarget, Detail: reason}
	}
	red, err := Redact(v, target.Raw())
	if err != nil {
		return nil, err
	}
	// "unsigned" sorts after every key Redact keeps (the last of which is "type"), so it goes
	// just before the closing brace.
	out := red[:len(red)-1]
	out = append(out, `,"unsigned":{"redacted_because":`...)
	out, err = canonicaljson.Append(out, redaction.Raw(), canonicaljson.Options{Strict: redaction.Version.Format.StrictCanonicalJSON})
	if err != nil {
		return nil, &Error{Err: ErrInvalidJSON, Detail: "redaction event: " + err.Error(), Cause: err}
	}
	return append(out, '}', '}'), nil
}

func quote(s string) string { return string(canonicaljson.AppendString(nil, s)) }

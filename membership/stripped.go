package membership

import (
	"bytes"
	"encoding/json"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// StrippedStateTypes are the state event types of stripped state, in the order the spec
// lists them (client-server-api "Stripped state"): create (required since spec v1.16), name,
// avatar, topic, join rules, canonical alias, encryption.
var StrippedStateTypes = [...]string{
	pdu.TypeCreate, pdu.TypeName, pdu.TypeAvatar, pdu.TypeTopic,
	pdu.TypeJoinRules, pdu.TypeCanonicalAlias, pdu.TypeEncryption,
}

// MaxStrippedState bounds the number of entries [CheckStrippedState] checks (each costs a
// signature check); entries past it are parsed but ignored, neither returned nor reported as a
// problem, except the room's m.room.create: past the bound, up to MaxStrippedState create
// events are checked until a valid one is found, so that the number of entries before the
// room's create event is no reason to refuse an invite (the spec sets no bound). When none of
// them is valid, their problems are reported with the missing create event; a stripped state
// whose valid create event follows MaxStrippedState entries and MaxStrippedState invalid create
// events is refused. The state a server sends holds a handful of events (seven types in
// [StrippedStateTypes]).
const MaxStrippedState = 256

// StrippedState selects the events of the room's current state to send as `invite_room_state`
// (invites-v2.yaml) or `knock_room_state` (knocks.yaml): those of [StrippedStateTypes] with
// an empty state key that the state holds, in that order, as full events of the room version
// (required since spec v1.16; servers prune them to the client stripped form, [StripEvent],
// before handing them to clients).
func StrippedState(s *authrules.State) []*pdu.Event {
	if s == nil {
		return nil
	}
	var out []*pdu.Event
	for _, t := range StrippedStateTypes {
		if ev := s.Get(t, ""); ev != nil {
			out = append(out, ev)
		}
	}
	return out
}

// appendEvents appends a JSON array of the events' raw bytes.
func appendEvents(b []byte, evs []*pdu.Event) []byte {
	b = append(b, '[')
	for i, ev := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ev.Raw()...)
	}
	return append(b, ']')
}

// StripEvent returns the client form of a stripped state event: only `content`, `sender`,
// `state_key` and `type` (client-server-api "Stripped state"), as canonical JSON. An event
// whose Content is not a JSON object (one made by hand without it) is refused (ErrBadInput).
func StripEvent(ev *pdu.Event) ([]byte, error) {
	if ev == nil || ev.StateKey == nil {
		return nil, invalidParam(ErrBadInput, nil, "stripped state needs a state event")
	}
	if canonicaljson.KindOf(ev.Content) != canonicaljson.Object {
		return nil, invalidParam(ErrBadInput, nil, "stripped state needs a content object")
	}
	fields := map[string]any{
		"content":   json.RawMessage(ev.Content),
		"sender":    ev.Sender,
		"state_key": *ev.StateKey,
		"type":      ev.Type,
	}
	b, err := encodeObject(ev.Version, fields)
	if err != nil {
		return nil, invalidParam(ErrBadInput, err, "stripping %s: %v", ev.Type, err)
	}
	return b, nil
}

// CheckStrippedState validates `invite_room_state` or `knock_room_state` received for a room,
// as invites-v2.yaml describes (which servers MAY apply to room versions 1-11 and SHOULD apply
// to the others): it must contain the room's m.room.create event; every entry must be an event
// formatted for the room version, pass the signature check ([signing.VerifyParsedEvent]) and
// belong to roomID (for a room version 12 create event: its ID with the sigil '!'). It returns
// every problem found, each an [*Error] (400 M_INVALID_PARAM, which invites-v2.yaml names for all
// of them, a missing create event included), and the entries that passed, parsed from copies
// (they do not share memory with entries: docs/decisions.md (membership) 24). An entry whose
// signatures hold but whose content hash does not is a redacted copy (a redacted topic, say):
// it passes, and valid holds its redacted form (server-server-api "Validating hashes and
// signatures on received events"). An unknown signing key is a problem ([signing.ErrUnknownKey]
// in Err): fetch the key and check again.
func CheckStrippedState(v roomversion.Version, roomID string, entries []json.RawMessage, keys signing.KeyLookup) (valid []*pdu.Event, problems []error) {
	hasCreate, createsPast := false, 0
	var pastProblems []error
	for i, raw := range entries {
		past := i >= MaxStrippedState
		if past && (hasCreate || createsPast == MaxStrippedState) {
			break // see MaxStrippedState
		}
		ev, err := signing.ParseEvent(v, bytes.Clone(raw)) // valid ones are returned: not sharing entries' memory
		if past {
			// Past the bound only the room's create event is looked for, so that the order
			// of the entries cannot make a complete stripped state look incomplete: up to
			// MaxStrippedState create events are checked until a valid one is found, and the
			// problems of those that fail count only if none is.
			if err != nil || !ev.Is(pdu.TypeCreate, "") {
				continue
			}
			createsPast++
			n := len(problems)
			valid, problems = checkStrippedEntry(v, roomID, keys, i, ev, valid, problems)
			if len(problems) > n {
				pastProblems = append(pastProblems, problems[n:]...)
				problems = problems[:n]
				continue
			}
			hasCreate = true
			continue
		}
		if err != nil {
			problems = append(problems, invalidParam(ErrBadEvent, err, "stripped state entry %d is not a room version %s event: %v", i, v.ID, err))
			continue
		}
		n := len(valid)
		valid, problems = checkStrippedEntry(v, roomID, keys, i, ev, valid, problems)
		if len(valid) > n && ev.Is(pdu.TypeCreate, "") {
			hasCreate = true
		}
	}
	if !hasCreate {
		problems = append(problems, pastProblems...)
		problems = append(problems, invalidParam(ErrBadEvent, nil, "stripped state has no valid m.room.create event"))
	}
	return valid, problems
}

// checkStrippedEntry checks the parsed entry i of a stripped state: a state event of roomID
// whose signatures verify. It appends it to valid (in its redacted form when its content hash
// does not match), or its problem to problems.
func checkStrippedEntry(v roomversion.Version, roomID string, keys signing.KeyLookup, i int, ev *pdu.Event, valid []*pdu.Event, problems []error) ([]*pdu.Event, []error) {
	if !ev.IsState() {
		return valid, append(problems, invalidParam(ErrBadEvent, nil, "stripped state entry %d (%s) is not a state event", i, ev.Type))
	}
	if v.Format.RoomIDFromCreateEvent && ev.Is(pdu.TypeCreate, "") && ev.HasKey("room_id") {
		// Its room is its own ID, whatever room_id says; and a create event with a room_id
		// is rejected by auth rule 1.2, so it cannot be the create event of any room.
		return valid, append(problems, invalidParam(ErrBadEvent, nil, "stripped state entry %d (%s) has a room_id, which a room version %s create event must not have", i, ev.Type, v.ID))
	}
	if got := ev.Room(); got != roomID {
		return valid, append(problems, invalidParam(ErrBadEvent, nil, "stripped state entry %d (%s) belongs to room %q, not %q", i, ev.Type, got, roomID))
	}
	if ev.Is(pdu.TypeCreate, "") {
		// Auth rule 1 decides a create event on its own: one it rejects (prev events, in
		// v1-11 a sender of another domain than the room ID's, an unknown room version, ...)
		// is the create event of no room, whatever room it names; without this any server
		// could pose as the room's creator in v1-11.
		if err := authrules.Check(v, ev, nil, nil); err != nil {
			return valid, append(problems, invalidParam(ErrBadEvent, err, "stripped state entry %d (%s) cannot be the room's create event: %v", i, ev.Type, err))
		}
	}
	if err := signing.VerifyParsedEvent(ev, keys); err != nil {
		if !signing.Redactable(err) {
			return valid, append(problems, invalidParam(ErrBadSignature, err, "stripped state entry %d (%s): %v", i, ev.Type, err))
		}
		// The signatures hold and only the content hash does not: the entry is (or must be
		// taken as) a redacted copy, as the current state of a room holds any state event
		// that was redacted. That passes the "signature check" invites-v2.yaml names
		// (server-server-api "Validating hashes and signatures on received events": it
		// "should succeed whether we have been sent the full event or a redacted copy"), and
		// the copy to use is the redacted one (docs/decisions.md (membership) 11).
		redacted, rerr := redaction.Redact(v, ev.Raw())
		if rerr == nil {
			ev, rerr = signing.ParseEvent(v, redacted)
		}
		if rerr != nil { // invariant: a parsed event redacts to a parsable one
			return valid, append(problems, invalidParam(ErrBadEvent, rerr, "stripped state entry %d (%s): %v", i, ev.Type, rerr))
		}
	}
	return append(valid, ev), problems
}

// strictStrippedState reports whether the spec says invalid invite_room_state SHOULD be an
// error (room versions after 11) rather than a warning (1-11; server-server-api "Inviting to
// a room").
func strictStrippedState(v roomversion.Version) bool {
	return v.Format.StrictStrippedState
}

// StrippedStatePolicy says what [SignInvite] does with invalid invite_room_state.
type StrippedStatePolicy int

const (
	// StrippedStateDefault follows the spec: errors in room versions after 11, warnings in
	// versions 1 to 11 (server-server-api "Inviting to a room", spec v1.16 note).
	StrippedStateDefault StrippedStatePolicy = iota
	// StrippedStateWarn reports problems as warnings in every room version.
	StrippedStateWarn
	// StrippedStateError refuses the invite on any problem in every room version.
	StrippedStateError
	// StrippedStateSkip does not check invite_room_state.
	StrippedStateSkip
)

// firstError returns the first of errs, or nil.
func firstError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errs[0]
}

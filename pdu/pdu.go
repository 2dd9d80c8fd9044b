// Package pdu parses Matrix events (persistent data units) once, into the typed fields the
// room protocol's rules need, while keeping the event's bytes in canonical form.
//
// Hashes and signatures are always computed over the canonical JSON of the received event,
// never over a re-encoding of the struct (spec: server-server-api "Signing Events"), so an
// [Event] keeps it: see [Event.Raw]. The formats are those of spec data/api/server-server/definitions/pdu_v1.yaml
// (room versions 1-2), pdu_v3.yaml (3), pdu_v4.yaml (4-5), pdu_v6.yaml (6-10), pdu_v11.yaml (11)
// and pdu_v12.yaml (12), selected through the [roomversion.Version] given to [Parse].
//
// Keys are matched exactly as written (JSON object keys are case-sensitive); when a key occurs
// twice, which strict canonical JSON (room versions 6+) refuses, the last occurrence wins, the
// same reading as encoding/json and the canonicaljson package.
//
// A roomversion.Version must be one roomversion.Lookup or roomversion.All returns: the zero
// Version, or a copy renamed to an ID the spec does not define, is refused with an error
// matching roomversion.ErrUnknownVersion rather than read as a room version without rules.
package pdu

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/jsonscan"
	"github.com/roomproto/roomproto/roomversion"
)

// Limits from the spec (client-server-api "Size limits", appendices "Identifier Grammar",
// and the pdu_v*.yaml schemas).
const (
	// MaxEventSize is the largest permitted event, in bytes of its canonical JSON form.
	MaxEventSize = 65536
	// MaxIDLength is the largest permitted length in bytes of `event_id`, `room_id`, `sender`,
	// `type` and `state_key`.
	MaxIDLength = 255
	// MaxPrevEvents is the largest permitted number of `prev_events`.
	MaxPrevEvents = 20
	// MaxAuthEvents is the largest permitted number of `auth_events`.
	MaxAuthEvents = 10
)

// Event types named by the room protocol's rules.
const (
	TypeCreate            = "m.room.create"
	TypeMember            = "m.room.member"
	TypeJoinRules         = "m.room.join_rules"
	TypePowerLevels       = "m.room.power_levels"
	TypeThirdPartyInvite  = "m.room.third_party_invite"
	TypeRedaction         = "m.room.redaction"
	TypeAliases           = "m.room.aliases"
	TypeHistoryVisibility = "m.room.history_visibility"
	TypeCanonicalAlias    = "m.room.canonical_alias"
	TypeName              = "m.room.name"
	TypeTopic             = "m.room.topic"
	TypeAvatar            = "m.room.avatar"
	TypeEncryption        = "m.room.encryption"
	TypeMessage           = "m.room.message"
)

// Membership values of `m.room.member` events.
const (
	MembershipJoin   = "join"
	MembershipInvite = "invite"
	MembershipLeave  = "leave"
	MembershipBan    = "ban"
	MembershipKnock  = "knock"
)

// Event is one parsed event. The fields are the event's own values; the zero value of a field
// means the key was absent unless documented otherwise. An Event is never modified by the
// functions of roomproto and is safe for concurrent reads.
type Event struct {
	raw []byte
	// contentStart and contentEnd locate the `content` value in raw, as Parse found it.
	contentStart, contentEnd int

	// Version is the room version the event was parsed for.
	Version roomversion.Version
	// EventID is the event's ID. For room versions 1 and 2 it is the event's own `event_id`.
	// From version 3 the ID is the reference hash, which Parse does not compute: it is empty
	// unless the caller sets it (signing.ParseEvent does).
	EventID string
	// RoomID is `room_id`; empty for a version 12 `m.room.create`, which has none.
	RoomID string
	// Sender is `sender`.
	Sender string
	// Type is `type`.
	Type string
	// StateKey is `state_key`, nil when the event is not a state event.
	StateKey *string
	// Content is the JSON object `content`, in canonical form (a slice of [Event.Raw]).
	Content []byte
	// PrevEvents are the IDs in `prev_events` (for v1-2, the first element of each pair).
	PrevEvents []string
	// AuthEvents are the IDs in `auth_events` (for v1-2, the first element of each pair).
	AuthEvents []string
	// Depth is `depth`.
	Depth int64
	// OriginServerTS is `origin_server_ts`, in milliseconds.
	OriginServerTS int64
	// Origin is the deprecated top-level `origin` when it is a string. No event format defines
	// it (pdu_v*.yaml), so a value of another type is kept in the bytes and left out here.
	Origin string
	// Redacts is the ID of the event an `m.room.redaction` redacts: the top-level `redacts`
	// before room version 11, `content.redacts` from version 11 (rooms/v11.md). It is empty
	// for every other event type, whatever `redacts` it carries (pdu_v*.yaml: "For redaction
	// events").
	Redacts string
	// ContentHash is `hashes.sha256` as received (unpadded base64), which the format requires
	// (components/event_hash.yaml).
	ContentHash string
	// Signatures is `signatures`: server name → key ID → unpadded base64 signature, as a list in
	// canonical order, one entry per signature: len(ev.Signatures) counts signatures, not
	// servers (Signatures.Servers lists those). It is non-nil, empty or not.
	Signatures Signatures
	// Membership is `content.membership` of an `m.room.member` event when it is a string.
	Membership string
	// Unsigned is the raw JSON of `unsigned`, an object (components/pdu_base.yaml), nil if
	// absent.
	Unsigned []byte
}

// Raw returns the event's canonical JSON ("Canonical JSON", appendices; strict from room
// version 6): the bytes Parse was given when they were already canonical, otherwise its
// canonical copy of them. Hashes, redaction and signatures start from these bytes. The caller
// must not modify them.
func (e *Event) Raw() []byte { return e.raw }

// RawContentSpan returns where the `content` value is in [Event.Raw]: Raw()[start:end], as Parse
// found it (whatever Content has been set to since). It is 0, 0 for an Event not made by Parse.
func (e *Event) RawContentSpan() (start, end int) { return e.contentStart, e.contentEnd }

// IsState reports whether the event is a state event (has a `state_key`).
func (e *Event) IsState() bool { return e.StateKey != nil }

// StateKeyEquals reports whether the event is a state event with the given state key.
func (e *Event) StateKeyEquals(s string) bool { return e.StateKey != nil && *e.StateKey == s }

// Is reports whether the event is a state event of the given type and state key.
func (e *Event) Is(eventType, stateKey string) bool {
	return e.Type == eventType && e.StateKeyEquals(stateKey)
}

// Room returns the ID of the room the event belongs to: its `room_id`, except for the
// `m.room.create` event of a room version whose room ID is derived from the create event (room
// version 12: rooms/v12.md, appendices "Room IDs"), whose room is its own event ID with the sigil
// `!` instead of `$`, whatever `room_id` it carries (auth rule 1.2 rejects one that has any) and
// whatever its `state_key` (rules 1 and 2 go by type alone). Such a create event's room is ""
// while EventID is not set.
func (e *Event) Room() string {
	if e.Version.Format.RoomIDFromCreateEvent && e.Type == TypeCreate {
		if strings.HasPrefix(e.EventID, "$") {
			return "!" + e.EventID[1:]
		}
		return ""
	}
	return e.RoomID
}

// CreateEventID returns the event ID of the m.room.create event of the room roomID in room
// version v, where the room ID is derived from that event (room version 12, rooms/v12.md,
// appendices "Room IDs"): the room ID with the sigil `$` instead of `!`; the inverse of
// [Event.Room] for a create event. It reports false for a version whose room IDs do not name
// their create event (v1-11: `!opaque:server`) and for a room ID that is not `!` followed by
// something. It does not check that the rest is an event ID's hash.
func CreateEventID(v roomversion.Version, roomID string) (string, bool) {
	if !v.Format.RoomIDFromCreateEvent || len(roomID) < 2 || roomID[0] != '!' {
		return "", false
	}
	return "$" + roomID[1:], true
}

// HasKey reports whether the event has key at its top level, whatever its value (null
// included). It tells a key that is absent from one whose value reads as empty: a v12
// `m.room.create` with `"room_id": ""` has a room_id, which auth rule 1.2 of rooms/v12.md
// rejects, while its RoomID field is "" as for one without. key is the unescaped key, as
// [Event.ContentField] takes it: HasKey("\x01") finds a key written "\u0001".
func (e *Event) HasKey(key string) bool {
	found := false
	jsonscan.Members(e.Raw(), func(k, _ []byte) bool {
		if bytes.IndexByte(k, '\\') < 0 {
			found = string(k) == key
		} else {
			// Written with escapes (the canonical form escapes only control characters,
			// '"' and '\\', and unpaired surrogates in v1-5): compare it unescaped.
			q := make([]byte, 0, len(k)+2)
			u, err := canonicaljson.Unquote(append(append(append(q, '"'), k...), '"'))
			found = err == nil && u == key
		}
		return !found
	})
	return found
}

// Sentinel errors matched with errors.Is against a [*FormatError].
var (
	// ErrNotJSON: the bytes are not (canonical, for v6+) JSON; the FormatError wraps the
	// canonicaljson error too.
	ErrNotJSON = errors.New("not valid JSON for this room version")
	// ErrNotObject: the event or a field that must be an object is not one.
	ErrNotObject = errors.New("not a JSON object")
	// ErrMissingField: a required field is absent.
	ErrMissingField = errors.New("required field missing")
	// ErrWrongType: a field has the wrong JSON type.
	ErrWrongType = errors.New("field has the wrong type")
	// ErrTooLarge: the event or a field exceeds its size limit.
	ErrTooLarge = errors.New("exceeds size limit")
	// ErrTooMany: a list or map has more entries than permitted.
	ErrTooMany = errors.New("too many entries")
	// ErrOutOfRange: a number is outside its permitted range.
	ErrOutOfRange = errors.New("number out of range")
)

// FormatError reports an event that does not have the format of its room version. Such an event
// must be dropped (spec: server-server-api "Checks performed on receipt of a PDU", check 1).
type FormatError struct {
	// Field is the top-level key at fault ("" for the event as a whole).
	Field string
	// Err is one of the sentinel errors of this package.
	Err error
	// Detail says what exactly was wrong.
	Detail string
	// Cause is the underlying error (a canonicaljson error, say), if any.
	Cause error
}

// Error returns the field at fault, the kind of error and the detail.
func (e *FormatError) Error() string {
	where := "event"
	if e.Field != "" {
		where = "event field " + e.Field
	}
	if e.Detail != "" {
		return fmt.Sprintf("pdu: %s: %v: %s", where, e.Err, e.Detail)
	}
	return fmt.Sprintf("pdu: %s: %v", where, e.Err)
}

// Unwrap returns the sentinel error and the cause.
func (e *FormatError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func formatErr(field string, sentinel error, detail string, args ...any) *FormatError {
	return &FormatError{Field: field, Err: sentinel, Detail: fmt.Sprintf(detail, args...)}
}

// Parse parses and validates the event in data for room version v. It checks the JSON (strictly
// canonical JSON from room version 6), the size limits, that the required fields of the version's
// event format are present with the right types, the number of `prev_events` and `auth_events`,
// and the `depth` range. It does not check hashes, signatures or authorization.
//
// The JSON is read once, by the canonicaljson pass that validates it and writes its canonical
// form; the fields are then read from that form, which the returned Event keeps ([Event.Raw]).
// When data is already canonical the Event keeps data itself (not a copy), and the caller must
// not modify it afterwards; otherwise it keeps a canonical copy. The Event's string fields
// (IDs, type, state key, references, hash, signatures, membership, redacts) are substrings of
// one string made per event, so keeping any one of them keeps that string alive: at most the
// total length of those fields, less than the event's size.
func Parse(v roomversion.Version, data []byte) (*Event, error) {
	return parse(v, data, nil, nil)
}

// ParseIndexed is [Parse] that also leaves in idx where the members of the event are in
// [Event.Raw]: the top-level members, and the members of the objects that are their values
// (`content`, `hashes`, `signatures`, `unsigned`), as [canonicaljson.AppendIndexed] records
// them. Code that goes on to read those members (verification: redaction and the content hash)
// then need not scan the bytes again. A nil idx makes it Parse. On success idx describes the
// returned Event's Raw() (whatever it held before); on error it holds nothing of use.
func ParseIndexed(v roomversion.Version, data []byte, idx *canonicaljson.Index) (*Event, error) {
	return parse(v, data, idx, nil)
}

// EventBuffer is memory for parsing events one at a time, for code that reads each event only
// until it parses the next (verification, say): [EventBuffer.ParseIndexed] writes the Event into
// the buffer, reusing the memory of the one before: the Event, the arrays of its lists and the
// canonical copy of an event not received in canonical form. For an event of room version 3 or
// later with at most eight signatures, a string `origin` (or none) and string fields of less
// than 1 KiB in all, as events are, one allocation of Parse's remains: the string of the
// Event's string fields. Others allocate a little more: for the event ID of versions 1-2,
// string fields past 1 KiB, a non-string `origin`, or more than eight signatures (an array the
// buffer does not keep). The zero value is ready to use. An EventBuffer must not be used by two
// calls at once.
type EventBuffer struct {
	ev   eventAlloc
	raw  []byte     // the canonical form of an event that was not canonical as received
	ids  []string   // the array of PrevEvents and AuthEvents
	sigs Signatures // the array of Signatures
}

// ParseIndexed is [ParseIndexed] (with the same results and errors) that returns an Event held
// by b: it is valid until the next call of ParseIndexed or Reset on b, which overwrite it, and
// must not be kept beyond that, nor any of its slices (Raw, Content, Unsigned and the lists) or
// its StateKey pointer, which point into b; nor given to what keeps an Event (an
// authrules.State). Its strings may be kept (*StateKey too, copied out). The Event b held
// before is cleared first, also when the call fails.
func (b *EventBuffer) ParseIndexed(v roomversion.Version, data []byte, idx *canonicaljson.Index) (*Event, error) {
	b.Reset()
	return parse(v, data, idx, b)
}

// Reset clears the Event b holds, so that b no longer refers to the event's bytes or strings
// (an EventBuffer kept for reuse, in a sync.Pool say, then pins no event's memory), and lets go
// of its arrays when an event with unusually many references or signatures grew them.
func (b *EventBuffer) Reset() {
	b.ev = eventAlloc{}
	if cap(b.raw) > 2*MaxEventSize {
		b.raw = nil // as putCanon bounds the pooled buffers
	}
	if cap(b.ids) > MaxPrevEvents+MaxAuthEvents || cap(b.sigs) > maxRetainedSignatures {
		b.ids, b.sigs = nil, nil
	}
	clear(b.ids[:cap(b.ids)])
	clear(b.sigs[:cap(b.sigs)])
}

// maxRetainedSignatures is the most signatures whose array an EventBuffer keeps for the next
// event: an event has one or two (a relay may add any number).
const maxRetainedSignatures = 8

// event returns the memory for a parsed Event: b's, or a new allocation when b is nil (Parse).
func (b *EventBuffer) event() *eventAlloc {
	if b == nil {
		return &eventAlloc{}
	}
	return &b.ev
}

// references returns the array of n strings for an Event's PrevEvents and AuthEvents: b's when
// it has room, otherwise a new one (which b keeps for the next event). It is never nil, and
// its capacity is n, so appending to the Event's lists never writes into b.
func (b *EventBuffer) references(n int) []string {
	if b != nil && b.ids != nil && n <= cap(b.ids) {
		return b.ids[:n:n]
	}
	ids := make([]string, n)
	if b != nil {
		b.ids = ids
	}
	return ids
}

// signatures is references for an Event's Signatures.
func (b *EventBuffer) signatures(n int) Signatures {
	if b != nil && b.sigs != nil && n <= cap(b.sigs) {
		return b.sigs[:n:n]
	}
	sigs := make(Signatures, n)
	if b != nil {
		b.sigs = sigs
	}
	return sigs
}

// parse is Parse, recording the index in idx when it is not nil (otherwise in the pooled
// scratch), and writing the Event into into when it is not nil (otherwise into a new one).
func parse(v roomversion.Version, data []byte, idx *canonicaljson.Index, into *EventBuffer) (*Event, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	// Strict canonical JSON is never longer than its input but can be shorter (whitespace,
	// escapes), so the size limit applies to the canonical form. In lenient mode (v1-5) an
	// integer written with an exponent grows when written out (`1e15` is 16 digits).
	if v.Format.StrictCanonicalJSON && len(data) > maxStrictShrink*MaxEventSize {
		// Each input byte that is not whitespace yields at least a sixth of a byte of strict
		// canonical JSON (`\u0041` → `A` is the largest shrink), so input with more than six
		// times the limit of such bytes is too large whatever it holds: it is refused without
		// being canonicalised, which keeps memory bounded. (Lenient JSON can shrink without
		// bound, by duplicate keys or exponents, so v1-5 input is always canonicalised.)
		if limit := maxStrictShrink * MaxEventSize; nonSpaceOver(data, limit) {
			return nil, formatErr("", ErrTooLarge, "more than %d bytes besides whitespace: more than %d bytes of canonical JSON", limit, MaxEventSize)
		}
	}
	sc := canonPool.Get().(*canonScratch)
	if idx == nil {
		idx = &sc.index
	}
	// Input already in canonical form, as servers send events, is kept as it is (same): it is
	// neither copied nor compared with a copy. Otherwise the canonical form is written into the
	// pooled buffer, or with an EventBuffer into its memory, where the Event can keep it
	// without a copy.
	buf := sc.buf[:0]
	if into != nil {
		buf = into.raw[:0]
	}
	canon, same, err := canonicaljson.CanonicalIndexed(buf, data, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, idx)
	pooled := sc.buf // what goes back to the pool
	switch {
	case same: // canon is data: neither buffer was written
	case into != nil:
		into.raw = canon // into keeps the memory, grown or not, for the next event
	default:
		pooled = canon
	}
	if err != nil {
		putCanon(sc, pooled)
		return nil, &FormatError{Err: ErrNotJSON, Detail: err.Error(), Cause: err}
	}
	if len(canon) > MaxEventSize {
		putCanon(sc, pooled)
		return nil, formatErr("", ErrTooLarge, "%d bytes of canonical JSON, limit %d", len(canon), MaxEventSize)
	}
	raw := data
	if !same && !bytes.Equal(canon, data) {
		if !v.Format.StrictCanonicalJSON {
			if err := checkIntegerLiterals(data); err != nil {
				putCanon(sc, pooled)
				return nil, err
			}
		}
		raw = canon // into's memory
		if into == nil {
			raw = bytes.Clone(canon)
		}
	}
	// raw has canon's bytes, so the index locates its members too.
	e, err := parseCanonical(v, raw, idx, into, &sc.walk)
	putCanon(sc, pooled)
	return e, err
}

// checkIntegerLiterals refuses a `depth` or `origin_server_ts` written, in the received bytes
// of a room version 1-5 event, with a fraction or an exponent. The lenient canonical form
// writes an exponent integer such as `5e0` as `5` (docs/decisions.md (canonicaljson)), so the
// canonical form alone cannot tell; but the schemas make these fields integers, and every
// other implementation reads `5e0` as a float and drops the event (docs/decisions.md (pdu)
// "Integer fields"). The last occurrence of a key counts, as in the canonical form.
func checkIntegerLiterals(data []byte) error {
	var depth, ts []byte
	if err := canonicaljson.EachMember(data, func(key string, value []byte) error {
		switch key {
		case "depth":
			depth = value
		case "origin_server_ts":
			ts = value
		}
		return nil
	}); err != nil {
		return nil // not an object: parseCanonical reports it
	}
	for _, f := range [...]struct {
		name  string
		value []byte
	}{{"depth", depth}, {"origin_server_ts", ts}} {
		if canonicaljson.KindOf(f.value) == canonicaljson.Number && bytes.ContainsAny(f.value, ".eE") {
			return formatErr(f.name, ErrWrongType, "must be an integer, got %s", truncate(f.value))
		}
	}
	return nil
}

// maxStrictShrink is the most by which strict canonicalisation divides the length of the input
// bytes that are not whitespace: a six-byte escape `\u0041` becomes one byte.
const maxStrictShrink = 6

// nonSpaceOver reports whether more than limit bytes of data are not JSON whitespace (RFC 8259
// section 2). It stops reading at the byte that exceeds the limit, so refusing a huge input
// reads only a little more than limit bytes of it, whitespace aside.
func nonSpaceOver(data []byte, limit int) bool {
	n := 0
	for _, c := range data {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			if n++; n > limit {
				return true
			}
		}
	}
	return false
}

// canonScratch is Parse's working memory: the buffer it writes the canonical form into before it
// knows whether it must keep a copy, the index of that form, and the memory of parseCanonical's
// walk.
type canonScratch struct {
	buf   []byte
	index canonicaljson.Index
	walk  walkBuf
}

// canonPool holds canonScratch values for reuse.
var canonPool = sync.Pool{New: func() any { return &canonScratch{buf: make([]byte, 0, 4096)} }}

func putCanon(sc *canonScratch, buf []byte) {
	if cap(buf) > 2*MaxEventSize {
		return // one huge input must not pin memory
	}
	sc.index.Reset() // and bounds the index, as the check above bounds the buffer
	sc.buf = buf[:0]
	canonPool.Put(sc)
}

// parseCanonical reads the fields of the event whose canonical JSON (as canonicaljson.Append
// wrote it for v) is raw. The JSON is valid, compact, without duplicate keys, and every key and
// string needs an escape only for '"', '\\' and control characters, so top-level names are
// matched on the bytes as written. idx, when not nil, is the index canonicaljson.AppendIndexed
// made of raw, which locates the top-level members; otherwise they are found by a scan
// (internal/jsonscan).
//
// The walk checks the fields in the order of their keys and stops at the first error. It makes
// no string: it appends the decoded bytes of each string it reads (the IDs, references, hash,
// origin, signatures, and after the walk the content's `membership` or `redacts`) to one buffer
// and notes where they are ([strRef]). Once the event is known to be well-formed, the buffer
// becomes one string and each string field a substring of it, so that an event costs a few
// allocations (the Event, that string, the array of the references, the signature maps) instead
// of one or two per string. A field kept on its own keeps that whole string alive: at most the
// total length of these strings, less than the event's. The buffer and the lists the walk
// fills are mem's (nil: new ones), which the next event reuses.
func parseCanonical(v roomversion.Version, raw []byte, idx *canonicaljson.Index, into *EventBuffer, mem *walkBuf) (*Event, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, formatErr("", ErrNotObject, "the event must be a JSON object, got %v", canonicaljson.KindOf(raw))
	}
	if mem == nil {
		mem = new(walkBuf)
	}
	w := fieldWalk{raw: raw, indexed: idx != nil, pairs: v.Format.ReferencePairs,
		eventIDField: v.Format.HasEventIDField, redactsInContent: v.Format.RedactsInContent, maxDepth: v.Format.MaxDepth,
		buf: mem.strs[:0], prev: mem.prev[:0], auth: mem.auth[:0], keys: mem.keys[:0]}
	defer mem.keep(&w)
	end := -1
	if idx == nil {
		end = jsonscan.EachMember(raw, 0, func(rawKey []byte, _, vs int) int { return w.field(rawKey, vs, -1, nil) })
	} else {
		end = len(raw)
		for i := range idx.Members {
			// In place, and the key sliced as Member.Key does: a copy of each member (which a
			// call of Key, with its value receiver, makes) costs more than reading it.
			m := &idx.Members[i]
			if w.field(raw[m.Start+1:m.Value-2], m.Value, m.End, idx.Nested[m.NestedStart:m.NestedEnd]) != m.End {
				end = -1 // an error, or (invariant) a reader disagreeing with the index
				break
			}
		}
	}
	if err := w.err; err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, &FormatError{Err: ErrWrongType, Detail: err.Error(), Cause: err}
	}
	if end != len(raw) {
		return nil, errNoScan // invariant: raw is canonicaljson's output
	}

	if !(w.hasType && w.hasSender && w.hasContent && w.hasTS && w.hasDepth && w.hasPrev && w.hasAuth && w.hasHashes && w.hasSigs) {
		required := []struct {
			name string
			ok   bool
		}{
			{"type", w.hasType}, {"sender", w.hasSender}, {"content", w.hasContent},
			{"origin_server_ts", w.hasTS}, {"depth", w.hasDepth}, {"prev_events", w.hasPrev},
			{"auth_events", w.hasAuth}, {"hashes", w.hasHashes}, {"signatures", w.hasSigs},
		}
		for _, r := range required {
			if !r.ok {
				return nil, formatErr(r.name, ErrMissingField, "")
			}
		}
	}
	if v.Format.HasEventIDField && !w.hasEventID {
		return nil, formatErr("event_id", ErrMissingField, "room version %s events carry their event_id", v.ID)
	}
	buf, content := w.buf, w.content
	eventType := w.typ.bytes(buf)
	// A v12 create event has no room_id (auth rule 1.2 rejects one that has); every other
	// event needs one.
	if !w.hasRoom && !(v.Format.RoomIDFromCreateEvent && string(eventType) == TypeCreate) {
		return nil, formatErr("room_id", ErrMissingField, "")
	}

	var redacts, membership strRef
	var err error
	if v.Format.RedactsInContent {
		if string(eventType) == TypeRedaction {
			buf, redacts, err = contentLiteralIndexed(buf, raw, content, w.contentMembers, idx != nil, "redacts")
		}
	} else if string(eventType) == TypeRedaction {
		redacts = w.topRedacts
	}
	if err != nil {
		return nil, &FormatError{Field: "content", Err: ErrWrongType, Detail: err.Error(), Cause: err}
	}
	if string(eventType) == TypeMember {
		buf, membership, _ = contentLiteralIndexed(buf, raw, content, w.contentMembers, idx != nil, "membership")
	}

	// The event is well-formed: make its strings, all from one.
	strs := string(buf)
	a := into.event()
	e := &a.ev
	// Full slice expressions: appending to Raw(), Content or Unsigned (or to a value of
	// ContentField) allocates instead of writing into the event's bytes or the caller's buffer.
	raw = raw[:len(raw):len(raw)]
	content = content[:len(content):len(content)]
	unsigned := w.unsigned
	if unsigned != nil {
		unsigned = unsigned[:len(unsigned):len(unsigned)]
	}
	*e = Event{
		raw:            raw,
		contentStart:   w.contentStart,
		contentEnd:     w.contentStart + len(content),
		Version:        v,
		EventID:        w.eventID.in(strs),
		RoomID:         w.roomID.in(strs),
		Sender:         w.sender.in(strs),
		Type:           w.typ.in(strs),
		Content:        content,
		Depth:          w.depth,
		OriginServerTS: w.ts,
		Origin:         w.origin.in(strs),
		Redacts:        redacts.in(strs),
		ContentHash:    w.contentHash.in(strs),
		Membership:     membership.in(strs),
		Unsigned:       unsigned,
	}
	if w.hasStateKey {
		a.stateKey = w.stateKey.in(strs)
		e.StateKey = &a.stateKey
	}
	// One array holds both lists; each is capped at its length so that appending to one never
	// writes into the other. Both are non-nil, empty or not.
	prev, auth := w.prev, w.auth
	ids := into.references(len(prev) + len(auth))
	for i, r := range prev {
		ids[i] = r.in(strs)
	}
	for i, r := range auth {
		ids[len(prev)+i] = r.in(strs)
	}
	e.PrevEvents = ids[:len(prev):len(prev)]
	e.AuthEvents = ids[len(prev):]
	e.Signatures = into.signatures(len(w.keys))
	for i, key := range w.keys {
		e.Signatures[i] = Signature{Server: key.server.in(strs), KeyID: key.id.in(strs), Value: key.sig.in(strs)}
	}
	return e, nil
}

// fieldWalk is what parseCanonical's walk over the top-level members has read so far. Its
// method field reads one member; a method rather than a closure, as a closure that shares
// this many variables loads the address of each at every call.
type fieldWalk struct {
	raw     []byte
	indexed bool // the members come from an index (field's known and nested are set)
	err     error

	// What the walk needs of the room version.
	pairs, eventIDField, redactsInContent bool  // Format.ReferencePairs, HasEventIDField, RedactsInContent
	maxDepth                              int64 // Format.MaxDepth

	hasAuth, hasPrev, hasDepth, hasTS, hasHashes, hasSigs, hasRoom, hasSender, hasType, hasContent, hasEventID, hasStateKey bool

	eventID, roomID, sender, typ, stateKey, origin, topRedacts, contentHash strRef
	content, unsigned                                                       []byte
	contentStart                                                            int
	contentMembers                                                          []canonicaljson.Member
	depth, ts                                                               int64

	// The decoded strings and the lists, in a walkBuf's memory.
	buf  []byte
	prev []strRef // empty until `prev_events` is read
	auth []strRef // empty until `auth_events` is read
	keys []sigKey // empty until `signatures` is read
}

// walkBuf is memory for parseCanonical's walk, reused from one event to the next: the
// Event's strings and lists are copies of what the walk writes into it.
type walkBuf struct {
	strs []byte
	prev []strRef
	auth []strRef
	keys []sigKey
}

// keep takes back the memory of w's walk, grown or not, for the next event; not memory that
// an event with unusually many signatures grew (the other lists are bounded, and the strings
// by the event's size).
func (m *walkBuf) keep(w *fieldWalk) {
	m.strs, m.prev, m.auth = w.buf[:0], w.prev[:0], w.auth[:0]
	if cap(w.keys) <= maxRetainedSignatures {
		m.keys = w.keys[:0]
	}
}

// field reads the member rawKey whose value starts at raw[vs] and returns where the value
// ends, or -1 on error (in w.err, unless the bytes did not scan). known is that end when the
// index gave it, -1 otherwise. nested holds the members of the value as the index gives them
// (nil without an index).
func (w *fieldWalk) field(rawKey []byte, vs, known int, nested []canonicaljson.Member) int {
	raw := w.raw
	ve := -1
	var err error
	switch string(rawKey) { // no allocation
	// The lists and objects whose strings the event keeps are read as they are walked,
	// by readers that return the end of the value.
	case "prev_events":
		w.hasPrev = true
		w.buf, w.prev, ve, err = references(w.pairs, "prev_events", raw, vs, MaxPrevEvents, w.buf, w.prev[:0])
	case "auth_events":
		w.hasAuth = true
		w.buf, w.auth, ve, err = references(w.pairs, "auth_events", raw, vs, MaxAuthEvents, w.buf, w.auth[:0])
	case "hashes":
		w.hasHashes = true
		if w.indexed {
			w.buf, w.contentHash, ve, err = indexedHashes(w.buf, raw, vs, known, nested)
		} else {
			w.buf, w.contentHash, ve, err = hashes(w.buf, raw, vs)
		}
	case "signatures":
		w.hasSigs = true
		w.buf, w.keys, ve, err = signatures(w.buf, raw, vs, w.keys[:0])
	default:
		if ve = known; ve < 0 {
			if ve = jsonscan.SkipValue(raw, vs); ve < 0 {
				return -1
			}
		}
		value := raw[vs:ve]
		switch string(rawKey) {
		case "event_id":
			if !w.eventIDField {
				break // not part of the format; kept in the bytes, ignored by the rules
			}
			w.hasEventID = true
			if w.buf, w.eventID, err = idLiteral(w.buf, "event_id", value); err == nil {
				err = CheckOpaqueEventID(string(w.eventID.bytes(w.buf))) // v1-2 only: one allocation
			}
		case "room_id":
			w.hasRoom = true
			w.buf, w.roomID, err = idLiteral(w.buf, "room_id", value)
		case "sender":
			w.hasSender = true
			w.buf, w.sender, err = idLiteral(w.buf, "sender", value)
		case "type":
			w.hasType = true
			w.buf, w.typ, err = idLiteral(w.buf, "type", value)
		case "state_key":
			var s strRef
			if w.buf, s, err = idLiteral(w.buf, "state_key", value); err == nil {
				w.stateKey, w.hasStateKey = s, true
			}
		case "content":
			w.hasContent = true
			if value[0] != '{' {
				err = formatErr("content", ErrNotObject, "content must be an object")
				break
			}
			w.content = value
			w.contentStart = vs
			w.contentMembers = nested
		case "depth":
			w.hasDepth = true
			var depth int64
			if depth, err = integer("depth", value); err == nil && (depth < 0 || depth > w.maxDepth) {
				err = formatErr("depth", ErrOutOfRange, "depth %d outside [0, %d]", depth, w.maxDepth)
			}
			w.depth = depth
		case "origin_server_ts":
			w.hasTS = true
			w.ts, err = integer("origin_server_ts", value)
		case "origin":
			// No event format defines `origin` (pdu_v*.yaml): it is kept in the bytes
			// and read only when it is a string (for anything else stringLiteral would build
			// an error that is not reported).
			if value[0] == '"' {
				w.buf, w.origin, _ = stringLiteral(w.buf, "origin", value)
			}
		case "redacts":
			if w.redactsInContent {
				break // from v11 not part of the format (pdu_v11.yaml): any value
			}
			w.buf, w.topRedacts, err = stringLiteral(w.buf, "redacts", value)
		case "unsigned":
			if value[0] != '{' {
				err = formatErr("unsigned", ErrNotObject, "unsigned must be an object")
				break
			}
			w.unsigned = value
		}
	}
	if err != nil {
		w.err = err
		return -1
	}
	return ve
}

// eventAlloc holds an Event made by Parse with the string its StateKey points to, which are
// allocated together.
type eventAlloc struct {
	ev       Event
	stateKey string
}

// strRef locates a string read by parseCanonical in its buffer of decoded strings: buf[pos:end],
// and at the end the same span of the string made from that buffer. The zero strRef is "".
type strRef struct{ pos, end int }

func (r strRef) bytes(buf []byte) []byte { return buf[r.pos:r.end] }

func (r strRef) in(strs string) string { return strs[r.pos:r.end] }

// sigKey is a signature of `signatures`: its server name, key ID and signature.
type sigKey struct{ server, id, sig strRef }

// ContentString returns the string value of key in the event's content, and whether the key is
// present with a string value.
func (e *Event) ContentString(key string) (string, bool) {
	s, ok, err := contentString(e.Content, key)
	return s, ok && err == nil
}

// ContentField returns the raw JSON value of key in the event's content, or nil when absent.
func (e *Event) ContentField(key string) []byte {
	var out []byte
	_ = canonicaljson.EachMember(e.Content, func(k string, v []byte) error {
		if k == key {
			out = v[:len(v):len(v)] // last occurrence wins; appending to it allocates
		}
		return nil
	})
	return out
}

// contentString returns content[key] and true when it is a string; "" and false when absent or
// of another type. An error means the string could not be decoded.
func contentString(content []byte, key string) (string, bool, error) {
	var (
		out string
		ok  bool
	)
	err := canonicaljson.EachMember(content, func(k string, v []byte) error {
		if k != key {
			return nil
		}
		out, ok = "", false // last occurrence wins
		if canonicaljson.KindOf(v) == canonicaljson.String {
			s, err := canonicaljson.Unquote(v)
			if err != nil {
				return err
			}
			out, ok = s, true
		}
		return nil
	})
	return out, ok, err
}

// CheckOpaqueEventID checks the `event_id` of a room version 1-2 event against the grammar of
// rooms/fragments/v1-event-ids.md (`$opaque_id:domain`, the domain being "the server name of
// the homeserver which created the room": [ValidServerName]) and appendices "Event IDs" (at most
// 255 bytes including the sigil and the domain). The first `:` separates the domain, as in
// every identifier (appendices "Common Identifier Format"). The fragment calls the opaque part
// only "a locally-unique string"; roomproto holds it to the grammar the appendices give the
// same `opaque_id` of a room ID: "valid non-surrogate Unicode code points, including control
// characters, except `:` and `NUL`", possibly none. So it refuses NUL and anything that is not
// UTF-8 (an unpaired surrogate escape, which room versions 1-2 tolerate in JSON, decodes to
// such bytes). The error is a [*FormatError] for field `event_id`.
func CheckOpaqueEventID(id string) error {
	colon := strings.IndexByte(id, ':')
	switch {
	case len(id) > MaxIDLength:
		return formatErr("event_id", ErrTooLarge, "%d bytes, limit %d", len(id), MaxIDLength)
	case len(id) < 2 || id[0] != '$':
		return formatErr("event_id", ErrWrongType, "%q does not start with the sigil $", id)
	case colon < 0:
		return formatErr("event_id", ErrWrongType, "%q is not of the form $opaque_id:domain", id)
	case !ValidServerName(id[colon+1:]): // also refuses an empty domain or a trailing ':'
		return formatErr("event_id", ErrWrongType, "the domain of %q is not a server name", id)
	case strings.IndexByte(id, 0) >= 0:
		return formatErr("event_id", ErrWrongType, "%q contains NUL", id)
	case !utf8.ValidString(id):
		return formatErr("event_id", ErrWrongType, "%q is not valid UTF-8 (an unpaired surrogate?)", id)
	}
	return nil
}

// errNoScan reports canonical JSON that the scanner could not walk: an internal invariant broken,
// never the sender's fault.
var errNoScan = &FormatError{Err: ErrNotJSON, Detail: "internal error: the canonical form did not scan"}

// contentLiteral reads content[key] of the canonical content when it is a string: the first
// member named key, "" when it is absent or of another type. An error means the string could
// not be decoded.
func contentLiteral(buf, content []byte, key string) ([]byte, strRef, error) {
	var (
		out strRef
		err error
	)
	jsonscan.Members(content, func(k, v []byte) bool {
		if string(k) != key {
			return true
		}
		if v[0] == '"' {
			buf, out, err = appendUnquoted(buf, v)
		}
		return false
	})
	return buf, out, err
}

// contentLiteralIndexed is contentLiteral, reading the members from the index when indexed
// (members are then those of the content object in raw, as the index gives them).
func contentLiteralIndexed(buf, raw, content []byte, members []canonicaljson.Member, indexed bool, key string) ([]byte, strRef, error) {
	if !indexed {
		return contentLiteral(buf, content, key)
	}
	if value, ok := nestedValue(raw, members, key); ok && value[0] == '"' {
		return appendUnquoted(buf, value)
	}
	return buf, strRef{}, nil
}

// nestedValue returns the value of the member named key (as written in canonical JSON) among
// members, which the index gives for raw, and whether there is one.
func nestedValue(raw []byte, members []canonicaljson.Member, key string) ([]byte, bool) {
	for i := range members {
		if m := &members[i]; string(raw[m.Start+1:m.Value-2]) == key { // m.Key(raw), without a copy of m
			return raw[m.Value:m.End], true
		}
	}
	return nil, false
}

// appendUnquoted appends the decoded canonical JSON string literal value to buf: without
// escapes, its body as it is.
func appendUnquoted(buf, value []byte) ([]byte, strRef, error) {
	body := value[1 : len(value)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		s, err := canonicaljson.Unquote(value)
		if err != nil {
			return buf, strRef{}, err
		}
		return appendRef(buf, s)
	}
	return appendRef(buf, body)
}

// appendKey appends the decoded object key, as written in canonical JSON (without its quotes),
// to buf.
func appendKey(buf, key []byte) ([]byte, strRef, error) {
	if bytes.IndexByte(key, '\\') >= 0 {
		q := make([]byte, 0, len(key)+2)
		q = append(append(append(q, '"'), key...), '"')
		s, err := canonicaljson.Unquote(q)
		if err != nil {
			return buf, strRef{}, err
		}
		return appendRef(buf, s)
	}
	return appendRef(buf, key)
}

// appendRef appends s to buf.
func appendRef[T string | []byte](buf []byte, s T) ([]byte, strRef, error) {
	pos := len(buf)
	buf = append(buf, s...)
	return buf, strRef{pos, len(buf)}, nil
}

// stringLiteral reads a string field of the canonical JSON into buf.
func stringLiteral(buf []byte, field string, value []byte) ([]byte, strRef, error) {
	if len(value) < 2 || value[0] != '"' {
		return buf, strRef{}, formatErr(field, ErrWrongType, "must be a string")
	}
	buf, s, err := appendUnquoted(buf, value)
	if err != nil {
		return buf, strRef{}, &FormatError{Field: field, Err: ErrWrongType, Detail: err.Error(), Cause: err}
	}
	return buf, s, nil
}

// idLiteral reads a string field limited to MaxIDLength bytes into buf.
func idLiteral(buf []byte, field string, value []byte) ([]byte, strRef, error) {
	buf, s, err := stringLiteral(buf, field, value)
	if n := s.end - s.pos; err == nil && n > MaxIDLength {
		return buf, strRef{}, formatErr(field, ErrTooLarge, "%d bytes, limit %d", n, MaxIDLength)
	}
	return buf, s, err
}

// integer reads an integer field: a JSON number that is a plain integer (no fraction, no
// exponent: lenient canonical JSON keeps those that are not integers in the strict range) in the
// signed 64-bit range.
func integer(field string, value []byte) (int64, error) {
	if canonicaljson.KindOf(value) != canonicaljson.Number {
		return 0, formatErr(field, ErrWrongType, "must be an integer")
	}
	digits := value
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	// A fraction or an exponent (v1-5 allow them in JSON) is not an integer; an integer of the
	// JSON grammar beyond the signed 64-bit range, [-2**63, 2**63-1], is out of range.
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, formatErr(field, ErrWrongType, "must be an integer, got %s", truncate(value))
		}
	}
	if len(digits) == 0 {
		return 0, formatErr(field, ErrWrongType, "must be an integer, got %s", truncate(value))
	}
	var n uint64
	ok := len(digits) <= 19 // 19 digits fit in a uint64
	for i := 0; ok && i < len(digits); i++ {
		n = n*10 + uint64(digits[i]-'0')
	}
	if !ok || n > 1<<63 || n == 1<<63 && !neg {
		return 0, formatErr(field, ErrOutOfRange, "must be in the signed 64-bit range, got %s", truncate(value))
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// references parses `prev_events` / `auth_events`, the value at raw[i]: a list of event IDs,
// or with pairs (the v1-2 format, Format.ReferencePairs) a list of `[event_id, {hashes}]`
// pairs. The IDs go into buf and are appended to ids; end is the index just past the list.
func references(pairs bool, field string, raw []byte, i, limit int, buf []byte, ids []strRef) (_ []byte, _ []strRef, end int, err error) {
	if raw[i] != '[' {
		return buf, ids, -1, formatErr(field, ErrWrongType, "must be an array")
	}
	n0 := len(ids)
	end = jsonscan.EachElement(raw, i, func(vs int) int {
		ve := jsonscan.SkipValue(raw, vs)
		if ve < 0 {
			return -1
		}
		item := raw[vs:ve]
		i := len(ids) - n0
		if i >= limit {
			err = formatErr(field, ErrTooMany, "more than %d entries", limit)
			return -1
		}
		if pairs {
			var pair [2][]byte
			n := 0
			if item[0] == '[' {
				jsonscan.Elements(item, func(x []byte) bool {
					if n < 2 {
						pair[n] = x
					}
					n++
					return true
				})
			}
			if n != 2 {
				err = formatErr(field, ErrWrongType, "entry %d must be an [event_id, hashes] pair", i)
				return -1
			}
			// pdu_v1.yaml types each element of a pair "anyOf" a string and an event_hash
			// object; nothing reads the second, so its content is not checked.
			if pair[1][0] != '{' && pair[1][0] != '"' {
				err = formatErr(field, ErrWrongType, "entry %d: the second element must be a hashes object or a string", i)
				return -1
			}
			item = pair[0]
		}
		var (
			id   strRef
			ierr error
		)
		buf, id, ierr = idLiteral(buf, field, item)
		if ierr != nil {
			var fe *FormatError
			if errors.As(ierr, &fe) && fe.Err == ErrTooLarge {
				err = ierr
			} else {
				err = formatErr(field, ErrWrongType, "entry %d must be an event ID string", i)
			}
			return -1
		}
		ids = append(ids, id)
		return ve
	})
	if err != nil {
		return buf, ids, -1, err
	}
	if end < 0 {
		return buf, ids, -1, errNoScan
	}
	return buf, ids, end, nil
}

// hashes reads `hashes.sha256`, of the value at raw[i], into buf; end is the index just past the
// value.
func hashes(buf, raw []byte, i int) (_ []byte, sha strRef, end int, err error) {
	if raw[i] != '{' {
		return buf, strRef{}, -1, formatErr("hashes", ErrNotObject, "must be an object")
	}
	found := false
	end = jsonscan.EachMember(raw, i, func(k []byte, _, vs int) int {
		ve := jsonscan.SkipValue(raw, vs)
		if ve < 0 {
			return -1
		}
		if !found && string(k) == "sha256" {
			found = true
			if buf, sha, err = stringLiteral(buf, "hashes", raw[vs:ve]); err != nil {
				return -1
			}
		}
		return ve
	})
	switch {
	case err != nil:
		return buf, strRef{}, -1, err
	case !found:
		return buf, strRef{}, -1, formatErr("hashes", ErrMissingField, "hashes must hold sha256 (event_hash.yaml)")
	case end < 0:
		return buf, strRef{}, -1, errNoScan
	}
	return buf, sha, end, nil
}

// indexedHashes is hashes for the value raw[vs:ve] whose members the index gives.
func indexedHashes(buf, raw []byte, vs, ve int, members []canonicaljson.Member) (_ []byte, sha strRef, end int, err error) {
	if raw[vs] != '{' {
		return buf, strRef{}, -1, formatErr("hashes", ErrNotObject, "must be an object")
	}
	value, ok := nestedValue(raw, members, "sha256")
	if !ok {
		return buf, strRef{}, -1, formatErr("hashes", ErrMissingField, "hashes must hold sha256 (event_hash.yaml)")
	}
	if buf, sha, err = stringLiteral(buf, "hashes", value); err != nil {
		return buf, strRef{}, -1, err
	}
	return buf, sha, ve, nil
}

// signatures parses `signatures`, the value at raw[i]: server name → key ID → signature string.
// Any number of servers and key IDs is accepted (the event size bounds them): the spec sets no
// limit, `signatures` is covered by no signature, and appendices "Signing JSON" lets
// "intermediate entities" add signatures, so a limit here would let a relay, or an origin
// signing with many keys, make roomproto alone drop an event (docs/decisions.md (pdu)
// "Signature counts"). Verification looks only at the servers that must sign.
//
// The names and signatures go into buf; the signatures, in order, are appended to keys, from
// which parseCanonical makes [Event.Signatures]. end is the index just past the value.
func signatures(buf, raw []byte, i int, keys []sigKey) (_ []byte, _ []sigKey, end int, err error) {
	if raw[i] != '{' {
		return buf, keys, -1, formatErr("signatures", ErrNotObject, "must be an object")
	}
	end = jsonscan.EachMember(raw, i, func(rawServer []byte, _, vs int) int {
		var server strRef
		if buf, server, err = appendKey(buf, rawServer); err != nil {
			return -1
		}
		if raw[vs] != '{' {
			err = formatErr("signatures", ErrNotObject, "signatures of %q must be an object", string(server.bytes(buf)))
			return -1
		}
		return jsonscan.EachMember(raw, vs, func(rawKeyID []byte, _, svs int) int {
			ve := jsonscan.SkipValue(raw, svs)
			if ve < 0 {
				return -1
			}
			k := sigKey{server: server}
			if buf, k.id, err = appendKey(buf, rawKeyID); err != nil {
				return -1
			}
			if buf, k.sig, err = stringLiteral(buf, "signatures", raw[svs:ve]); err != nil {
				return -1
			}
			keys = append(keys, k)
			return ve
		})
	})
	if err != nil {
		return buf, keys, -1, err
	}
	if end < 0 {
		return buf, keys, -1, errNoScan
	}
	return buf, keys, end, nil
}

func truncate(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 32 {
		return string(b[:32]) + "…"
	}
	return string(b)
}

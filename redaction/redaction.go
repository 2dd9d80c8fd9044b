// Package redaction implements the redaction algorithm of every room version, and the rules that
// say when a received redaction is applied to the event it names.
//
// Redaction decides what every server hashes and signs: an event's reference hash and its
// signatures are computed over its redacted form (spec: server-server-api "Calculating the
// reference hash for an event", "Signing Events"). The algorithm differs between room versions
// (spec: rooms/fragments/v1-redactions.md for versions 1-5, v6-redactions.md for 6-7, the inline
// "Redactions" section of rooms/v8.md for 8, v9-redactions.md for 9-10 and v11-redactions.md for
// 11-12); [Redact] reads only the [roomversion.RedactionRules] of the version it is given and
// never the version's name.
//
// [Redact] works on the received bytes: it never decodes the event into Go values, and every value
// it keeps is copied in canonical form ("Canonical JSON", appendices), so `50` stays `50` and a
// string stays a string. [Decide] applies "Handling redactions"
// (rooms/fragments/v3-handling-redactions.md) and, for room versions 1 and 2, authorisation
// rule 11 (rooms/fragments/v1-auth-rules.md). [ApplyRedaction] produces the redacted event
// that servers serve to clients, with the redaction recorded in `unsigned.redacted_because`
// (client-server-api "Redactions").
//
// Everything in this package is a pure function and safe for concurrent use.
//
// A roomversion.Version must be one roomversion.Lookup or roomversion.All returns: the zero
// Version, or a copy renamed to an ID the spec does not define, is refused with an error
// matching roomversion.ErrUnknownVersion rather than read as a room version without rules.
package redaction

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sync"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/alias"
	"github.com/roomproto/roomproto/internal/jsonscan"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// Sentinel errors, matched with errors.Is against an [*Error].
var (
	// ErrInvalidJSON: the input is not JSON acceptable for the room version (strictly canonical
	// JSON from room version 6, rooms/fragments/v6-canonical-json.md). The [*Error] also wraps
	// the canonicaljson error, so errors.Is(err, canonicaljson.ErrFloat) and the like work.
	ErrInvalidJSON = errors.New("not valid JSON for this room version")
	// ErrNotObject: the input is JSON but not a JSON object, so it cannot be an event.
	ErrNotObject = errors.New("event is not a JSON object")
	// ErrNotRedaction: an event given as the redaction is not of type `m.room.redaction`.
	ErrNotRedaction = errors.New("event is not an m.room.redaction")
	// ErrWrongTarget: the redaction does not name the given target event (its `redacts` is
	// empty, differs from the target's event ID, or the two events are in different rooms).
	ErrWrongTarget = errors.New("redaction does not name this event")
)

// Error is the error type of this package: what went wrong ([Error.Err], one of the sentinel
// errors) and, for JSON errors, the underlying canonicaljson error ([Error.Cause]).
type Error struct {
	// Err is one of ErrInvalidJSON, ErrNotObject, ErrNotRedaction, ErrWrongTarget.
	Err error
	// Detail says what exactly was wrong.
	Detail string
	// Cause is the underlying error (a *canonicaljson.SyntaxError), if any.
	Cause error
}

// Error returns "redaction: " followed by the sentinel's text and the detail.
func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("redaction: %v: %s", e.Err, e.Detail)
	}
	return "redaction: " + e.Err.Error()
}

// Unwrap returns the sentinel error and the cause, so that errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// Top-level keys that any room version keeps, in canonical (byte-wise sorted) order, which is
// the order Redact writes them in (rooms/fragments/v1-redactions.md; v11-redactions.md drops
// `origin`, `membership` and `prev_state`).
const (
	kAuthEvents = iota
	kContent
	kDepth
	kEventID
	kHashes
	kMembership
	kOrigin
	kOriginServerTS
	kPrevEvents
	kPrevState
	kRoomID
	kSender
	kSignatures
	kStateKey
	kType
	numTop
)

// topKey returns the slot of a top-level key, or -1 when no room version keeps it.
func topKey(key []byte) int {
	switch string(key) {
	case "auth_events":
		return kAuthEvents
	case "content":
		return kContent
	case "depth":
		return kDepth
	case "event_id":
		return kEventID
	case "hashes":
		return kHashes
	case "membership":
		return kMembership
	case "origin":
		return kOrigin
	case "origin_server_ts":
		return kOriginServerTS
	case "prev_events":
		return kPrevEvents
	case "prev_state":
		return kPrevState
	case "room_id":
		return kRoomID
	case "sender":
		return kSender
	case "signatures":
		return kSignatures
	case "state_key":
		return kStateKey
	case "type":
		return kType
	}
	return -1
}

// keepTop reports whether room version rules r keep the top-level key of slot.
func keepTop(r roomversion.RedactionRules, slot int) bool {
	switch slot {
	case kOrigin, kMembership, kPrevState:
		return r.KeepOriginMembershipPrevState
	}
	return true
}

// contentRule says which keys of `content` survive for one event type in one room version.
type contentRule struct {
	all  bool   // keep the whole content (m.room.create from v11)
	keep uint32 // bit k set: keep the content key of index k (cAliases, ...)
}

func (c *contentRule) add(k int) { c.keep |= 1 << k }

func (c contentRule) keeps(k int) bool { return c.keep&(1<<k) != 0 }

// contentRuleFor returns the content rule of event type typ under rules r (the per-type lists of
// v1-redactions.md, v6-redactions.md, rooms/v8.md, v9-redactions.md and v11-redactions.md).
// `third_party_invite` stands for its `signed` member only (v11-redactions.md).
func contentRuleFor(r roomversion.RedactionRules, typ []byte) contentRule {
	var c contentRule
	switch string(typ) {
	case pdu.TypeMember:
		c.add(cMembership)
		if r.KeepJoinAuthorisedViaUsersServer {
			c.add(cJoinAuthorisedViaUsersServer)
		}
		if r.KeepThirdPartyInviteSigned {
			c.add(cThirdPartyInvite)
		}
	case pdu.TypeCreate:
		if r.KeepAllCreateContent {
			c.all = true
		} else if r.KeepCreateCreatorOnly {
			c.add(cCreator)
		}
	case pdu.TypeJoinRules:
		c.add(cJoinRule)
		if r.KeepJoinRulesAllow {
			c.add(cAllow)
		}
	case pdu.TypePowerLevels:
		for _, k := range [...]int{cBan, cEvents, cEventsDefault, cKick, cRedact, cStateDefault, cUsers, cUsersDefault} {
			c.add(k)
		}
		if r.KeepPowerLevelsInvite {
			c.add(cInvite)
		}
	case pdu.TypeAliases:
		if r.KeepAliases {
			c.add(cAliases)
		}
	case pdu.TypeHistoryVisibility:
		c.add(cHistoryVisibility)
	case pdu.TypeRedaction:
		if r.KeepRedactionRedacts {
			c.add(cRedacts)
		}
	}
	return c
}

// Redact returns the redacted form of the event in data under the redaction algorithm of room
// version v (rooms/fragments/v1-redactions.md, v6-redactions.md, rooms/v8.md "Redactions",
// v9-redactions.md, v11-redactions.md), as canonical JSON.
//
// data is the event as received: any JSON object, valid for v (strictly canonical JSON from room
// version 6, rooms/fragments/v6-canonical-json.md, including the keys that redaction removes),
// nested at most canonicaljson.DefaultMaxDepth deep; it need not be a valid PDU. Every top-level
// key not kept by v is removed, `unsigned` included; `content` is stripped of every key its event
// type does not keep. The kept values are copied in canonical form, never re-typed. The output
// always has a `content` object: `{}` when the event had none, or had a `content` that is not an
// object, or whose type keeps no content keys. A `type` that is not a string keeps no content
// keys. Under the lenient JSON of room versions 1-5 a key given twice counts with its last
// occurrence. Redact is idempotent: redacting its output returns the same bytes. Time and memory
// are linear in len(data).
//
// Errors are [*Error] values wrapping [ErrInvalidJSON] (and the canonicaljson error) or
// [ErrNotObject]. data is not modified and the result does not share memory with it.
func Redact(v roomversion.Version, data []byte) ([]byte, error) {
	if err := v.Check(); err != nil {
		return nil, err
	}
	// One pass of the canonicaljson parser validates the whole event and puts it in canonical
	// form: no whitespace, duplicates settled, values canonical, keys sorted below the top-level
	// objects. It also notes where the top-level members and those of `content` are, so what
	// follows only copies members of that trusted text: each byte of the event is read by one
	// parser, once. The parser leaves the members of the event and of its top-level objects in
	// input order (AppendIndexedUnsorted): the output is written member by member from the
	// index, in key order, which saves sorting what redaction drops and moving the text of what
	// it keeps. Only a kept object other than `content` (`hashes`, `signatures`), or a `content`
	// kept whole, is then put in key order (sortKept).
	sc := getScratch(len(data))
	defer putScratch(sc)
	opts := canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}
	canon, err := canonicaljson.AppendIndexedUnsorted(sc.buf[:0], data, opts, &sc.index)
	if err != nil {
		return nil, &Error{Err: ErrInvalidJSON, Detail: err.Error(), Cause: err}
	}
	sc.buf = canon
	if k := canonicaljson.KindOf(canon); k != canonicaljson.Object {
		return nil, &Error{Err: ErrNotObject, Detail: "got " + k.String()}
	}
	var loc located
	loc.fromIndex(canon, v.Redaction, &sc.index, !sc.index.Sorted())
	ok := loc.sortKept(canon, v.Redaction, opts, &sc.sorted)
	var out []byte
	if ok {
		out, ok = loc.assemble(nil, canon, v.Redaction, false)
	}
	if !ok {
		// invariant: a kept object of canonicaljson's output does not canonicalise to as many
		// bytes, a kept `third_party_invite` does not scan, or the output's size and its writer
		// disagree. Report it rather than emit a wrong redaction.
		return nil, &Error{Err: ErrInvalidJSON, Detail: "internal error: canonical form does not scan"}
	}
	return out, nil
}

// sortKept puts in key order, in place in b, every object value that assemble copies as it is
// and that fromIndex found out of key order (AppendIndexedUnsorted may leave it so): the value
// of a kept top-level member other than `content`, and `content` when its event type keeps it
// whole. The members of the rest of `content` are written one by one in key order, and those of
// the top level by slot. buf is working memory. It reports false if a value does not
// canonicalise to as many bytes (an invariant of canonicaljson's output).
func (loc *located) sortKept(b []byte, r roomversion.RedactionRules, opts canonicaljson.Options, buf *[]byte) bool {
	for unsorted := loc.unsorted; unsorted != 0; unsorted &= unsorted - 1 {
		i := bits.TrailingZeros32(unsorted)
		if i == kContent && !contentRuleFor(r, loc.eventType(b)).all {
			continue
		}
		value := b[loc.slots[i].value:loc.slots[i].end]
		sorted, err := canonicaljson.Append((*buf)[:0], value, opts)
		if err != nil || len(sorted) != len(value) {
			return false
		}
		*buf = sorted
		copy(value, sorted)
	}
	return true
}

// inKeyOrder reports whether the members of an object, as canonicaljson writes them in b, are
// in key order: every key after the first byte-wise greater than the one before it and free of
// escapes. An escaped character ('"', a backslash or a control character) is written from a
// backslash, which sorts after characters that the escaped one sorts before: `\"` after `A`. So
// an escape in a key may hide that it belongs before the key ahead of it. (In the key ahead it
// cannot: a key without escapes that is byte-wise greater differs from it before the escape, or
// at the backslash with a byte above it, which is above every escaped character.)
func inKeyOrder(b []byte, members []canonicaljson.Member) bool {
	for j := 1; j < len(members); j++ {
		key := members[j].Key(b)
		if bytes.IndexByte(key, '\\') >= 0 || bytes.Compare(members[j-1].Key(b), key) >= 0 {
			return false
		}
	}
	return true
}

// eventType returns the raw text of the event's `type` when it is a string, or nil: an escaped
// type equals no type with kept keys.
func (loc *located) eventType(b []byte) []byte {
	if t := loc.slots[kType]; t.present() && b[t.value] == '"' {
		return b[t.value+1 : t.end-1]
	}
	return nil
}

// RedactCanonical is Redact for an event that is already in canonical form: canon must be the
// output of canonicaljson.Append (strict for room versions 6+) for an object, as signing holds it
// while it verifies. It skips Redact's validating pass, so it must not be given received bytes:
// for anything else the result is unspecified (though never a panic). Errors: [ErrNotObject], or
// [ErrInvalidJSON] when canon does not scan as canonical JSON.
func RedactCanonical(v roomversion.Version, canon []byte) ([]byte, error) {
	return redactTrusted(nil, v, canon, false)
}

// redactTrusted is RedactCanonical and AppendSignedBytes: on error it returns dst unchanged.
func redactTrusted(dst []byte, v roomversion.Version, canon []byte, noSignatures bool) ([]byte, error) {
	if err := v.Check(); err != nil {
		return dst, err
	}
	if k := canonicaljson.KindOf(canon); k != canonicaljson.Object || canon[0] != '{' {
		return dst, &Error{Err: ErrNotObject, Detail: "got " + k.String()}
	}
	// In place, the output is made apart and copied into dst on success: it must not overwrite
	// what is still to read, nor leave canon half overwritten on an error.
	apart := alias.SpareOverlaps(dst, canon)
	to := dst
	if apart {
		to = nil
	}
	out, ok := redactCanonical(to, canon, v.Redaction, noSignatures)
	if !ok {
		return dst, &Error{Err: ErrInvalidJSON, Detail: "input is not in canonical form"}
	}
	if apart {
		out = append(dst, out...)
	}
	return out, nil
}

// AppendSignedBytes appends to dst the bytes that an event's signatures and its reference hash
// cover (server-server-api "Signing Events", "Calculating the reference hash for an event"): the
// redacted form of the event without `signatures` (redaction has already removed `unsigned`),
// in canonical JSON. It is RedactCanonical followed by the removal of `signatures`, in one step
// and without allocating when dst has room; like RedactCanonical it must be given
// canonicaljson's output (pdu.Event.Raw), not received bytes. On error dst is returned
// unchanged. dst may share memory with canon: the output is then made apart and copied into dst
// on success only.
func AppendSignedBytes(dst []byte, v roomversion.Version, canon []byte) ([]byte, error) {
	return redactTrusted(dst, v, canon, true)
}

// AppendSignedBytesIndexed is [AppendSignedBytes] for an event whose members idx locates, as
// canonicaljson.AppendIndexed or pdu.ParseIndexed recorded them for canon (then the Event's
// Raw()): it reads the members from idx instead of scanning canon for them. idx must describe
// canon exactly; given anything else the result is unspecified (though never a panic as long
// as idx's offsets lie within canon). A nil idx makes it AppendSignedBytes.
func AppendSignedBytesIndexed(dst []byte, v roomversion.Version, canon []byte, idx *canonicaljson.Index) ([]byte, error) {
	if idx == nil {
		return redactTrusted(dst, v, canon, true)
	}
	if err := v.Check(); err != nil {
		return dst, err
	}
	if k := canonicaljson.KindOf(canon); k != canonicaljson.Object || canon[0] != '{' {
		return dst, &Error{Err: ErrNotObject, Detail: "got " + k.String()}
	}
	if !indexFits(canon, idx) {
		return dst, &Error{Err: ErrInvalidJSON, Detail: "the index does not describe the event"}
	}
	var loc located
	loc.fromIndex(canon, v.Redaction, idx, false)
	apart := alias.SpareOverlaps(dst, canon) // in place: made apart, as in redactTrusted
	to := dst
	if apart {
		to = nil
	}
	out, ok := loc.assemble(to, canon, v.Redaction, true)
	if !ok {
		return dst, &Error{Err: ErrInvalidJSON, Detail: "input is not in canonical form"}
	}
	if apart {
		out = append(dst, out...)
	}
	return out, nil
}

// indexFits reports whether every member idx records lies within b, in the shape AppendIndexed
// gives it (a quoted key, a colon, then a non-empty value, a string with both its quotes), so
// that reading the members cannot go out of bounds whatever idx holds.
func indexFits(b []byte, idx *canonicaljson.Index) bool {
	// The members are read in place (here and in the other loops over an Index): a copy of each
	// costs more than the checks.
	fits := func(m *canonicaljson.Member) bool {
		return m.Start >= 0 && m.Start+3 <= m.Value && m.Value < m.End && m.End <= len(b) &&
			(b[m.Value] != '"' || m.End-m.Value >= 2) // a string has both its quotes
	}
	for i := range idx.Members {
		m := &idx.Members[i]
		if !fits(m) || m.NestedStart < 0 || m.NestedStart > m.NestedEnd || m.NestedEnd > len(idx.Nested) {
			return false
		}
	}
	for i := range idx.Nested {
		if !fits(&idx.Nested[i]) {
			return false
		}
	}
	return true
}

// maxPooled is the largest scratch buffer kept for reuse: the PDU size limit (pdu.MaxEventSize),
// so that one huge input does not pin memory.
const maxPooled = pdu.MaxEventSize

// scratch is Redact's working memory: the canonical form of the event, which never leaves
// Redact (the output is a separate, exactly sized allocation), its index, and room for the
// objects sortKept puts in order.
type scratch struct {
	buf    []byte
	index  canonicaljson.Index
	sorted []byte
}

// scratchPool holds scratch values for reuse.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch(n int) *scratch {
	sc := scratchPool.Get().(*scratch)
	if cap(sc.buf) < n {
		sc.buf = make([]byte, 0, n)
	}
	return sc
}

func putScratch(sc *scratch) {
	if cap(sc.buf) > maxPooled || cap(sc.sorted) > maxPooled {
		return
	}
	sc.index.Reset() // and bounds the index, as maxPooled bounds the buffer
	sc.buf = sc.buf[:0]
	scratchPool.Put(sc)
}

// span is one member of an object in canonical JSON: its key's opening quote is at start, its
// value is b[value:end].
type span struct{ start, value, end int }

func (s span) present() bool { return s.end > 0 }

// Content keys that some event type keeps in some room version (the union of the per-type
// lists). Redact records where each of them is while it scans the event once.
const (
	cAliases = iota
	cAllow
	cBan
	cCreator
	cEvents
	cEventsDefault
	cHistoryVisibility
	cInvite
	cJoinAuthorisedViaUsersServer
	cJoinRule
	cKick
	cMembership
	cRedact
	cRedacts
	cStateDefault
	cThirdPartyInvite
	cUsers
	cUsersDefault
	numContentKeys
)

// contentKey returns the index of a content key that may be kept, or -1.
func contentKey(key []byte) int {
	switch string(key) {
	case "aliases":
		return cAliases
	case "allow":
		return cAllow
	case "ban":
		return cBan
	case "creator":
		return cCreator
	case "events":
		return cEvents
	case "events_default":
		return cEventsDefault
	case "history_visibility":
		return cHistoryVisibility
	case "invite":
		return cInvite
	case "join_authorised_via_users_server":
		return cJoinAuthorisedViaUsersServer
	case "join_rule":
		return cJoinRule
	case "kick":
		return cKick
	case "membership":
		return cMembership
	case "redact":
		return cRedact
	case "redacts":
		return cRedacts
	case "state_default":
		return cStateDefault
	case "third_party_invite":
		return cThirdPartyInvite
	case "users":
		return cUsers
	case "users_default":
		return cUsersDefault
	}
	return -1
}

// redactCanonical redacts the event whose canonical JSON (an object) is b and appends the result
// to dst, or writes it into a new buffer of exactly the output's size when dst is nil; without
// `signatures` when noSignatures. It reports false if b does not scan as canonical JSON.
func redactCanonical(dst, b []byte, r roomversion.RedactionRules, noSignatures bool) ([]byte, bool) {
	var loc located
	if !loc.scan(b, r) {
		return nil, false
	}
	return loc.assemble(dst, b, r, noSignatures)
}

// located is where the members that redaction may keep are in the canonical JSON of an event:
// the top-level members by slot (kept ones and `content`) and, inside an object `content`, the
// members that some event type keeps.
type located struct {
	slots      [numTop]span
	candidates [numContentKeys]span
	unsorted   uint32 // bit i: the value of slot i is an object out of key order (fromIndex)
}

// scan locates the members in b with one scan, and reports false if b does not scan as
// canonical JSON. Canonical keys are sorted, unique and unescaped unless they hold '"', '\'
// or control characters, so a key equals one of ours exactly when its raw bytes do.
func (loc *located) scan(b []byte, r roomversion.RedactionRules) bool {
	end := eachMember(b, 0, func(key []byte, s span) int {
		i := topKey(key)
		if i < 0 || !(i == kContent || keepTop(r, i)) {
			return skipValue(b, s.value)
		}
		s.end = skipContent(b, i, s.value, &loc.candidates)
		loc.slots[i] = s
		return s.end
	})
	return end == len(b)
}

// fromIndex locates the members from the index canonicaljson.AppendIndexed made of b, without
// a scan. It matches keys as scan does. With checkOrder (an index of AppendIndexedUnsorted), it
// also notes in unsorted the slots whose values are objects out of key order.
func (loc *located) fromIndex(b []byte, r roomversion.RedactionRules, ix *canonicaljson.Index, checkOrder bool) {
	for j := range ix.Members {
		// In place, as in indexFits, and the key sliced as Member.Key does: a call of Key, with
		// its value receiver, copies the member.
		m := &ix.Members[j]
		i := topKey(b[m.Start+1 : m.Value-2])
		if i < 0 || !(i == kContent || keepTop(r, i)) {
			continue
		}
		loc.slots[i] = span{start: m.Start, value: m.Value, end: m.End}
		if checkOrder && m.NestedEnd-m.NestedStart > 1 && !inKeyOrder(b, ix.Nested[m.NestedStart:m.NestedEnd]) {
			loc.unsorted |= 1 << i
		}
		if i != kContent {
			continue
		}
		// Nested members exist only for a `content` that is a non-empty object, as in
		// skipContent.
		nested := ix.Nested[m.NestedStart:m.NestedEnd]
		for j := range nested {
			n := &nested[j]
			if k := contentKey(b[n.Start+1 : n.Value-2]); k >= 0 { // n.Key(b)
				loc.candidates[k] = span{start: n.Start, value: n.Value, end: n.End}
			}
		}
	}
}

// assemble writes the redacted event from the located members of b, as redactCanonical
// documents.
func (loc *located) assemble(dst, b []byte, r roomversion.RedactionRules, noSignatures bool) ([]byte, bool) {
	slots, candidates := &loc.slots, &loc.candidates
	if noSignatures {
		slots[kSignatures] = span{}
	}
	rule := contentRuleFor(r, loc.eventType(b))

	content := slots[kContent]
	keepContent := content.present() && b[content.value] == '{' && (rule.all || rule.keep != 0)
	var signed span // `signed` inside a kept third_party_invite
	if tpi := &candidates[cThirdPartyInvite]; keepContent && rule.keeps(cThirdPartyInvite) && tpi.present() {
		// v11-redactions.md: only the `signed` key of `third_party_invite` is kept. A
		// `third_party_invite` that is not an object has no such key and is dropped; an object
		// without `signed` stays as `{}` (rooms/v11.md: the key "is no longer redacted, but
		// will only contain the signed key").
		if b[tpi.value] != '{' {
			*tpi = span{}
		} else if eachMember(b, tpi.value, func(key []byte, s span) int {
			s.end = skipValue(b, s.value)
			if string(key) == "signed" {
				signed = s
			}
			return s.end
		}) < 0 {
			return nil, false
		}
	}
	c := keptContent{rule: rule, keep: keepContent, content: content, members: candidates, signed: signed}
	var piecesBuf [maxContentPieces][]byte
	contentPieces := c.pieces(b, &piecesBuf)

	// The top-level members to write, in canonical order, which is the order of the slots: runs
	// of b, each of kept members that follow each other in b with the commas between them, and
	// `content` (a run whose start is -1), which is written from its pieces. Each run holds at
	// least one slot, so there are at most numTop.
	var runs [numTop]span
	n := 0
	const contentKey = `"content":`
	size := 2 + len(contentKey) // { } and the content key
	for _, p := range contentPieces {
		size += len(p)
	}
	for i := range slots {
		s := &slots[i]
		switch {
		case i == kContent:
			runs[n] = span{start: -1}
			n++
		case !s.present():
		case n > 0 && runs[n-1].start >= 0 && s.start == runs[n-1].end+1:
			size += s.end - runs[n-1].end // b[runs[n-1].end] is the comma between the two
			runs[n-1].end = s.end
		default:
			runs[n] = span{start: s.start, end: s.end}
			n++
			size += s.end - s.start
		}
	}
	size += n - 1 // the commas between runs

	// Write it into memory of exactly that size.
	var out []byte
	if dst == nil {
		out = make([]byte, 0, size)
	} else {
		out = slices.Grow(dst, size)
	}
	base := len(out)
	out = append(out, '{')
	for k, run := range runs[:n] {
		if k > 0 {
			out = append(out, ',')
		}
		if run.start >= 0 {
			out = append(out, b[run.start:run.end]...)
			continue
		}
		out = append(out, contentKey...)
		for _, p := range contentPieces {
			out = append(out, p...)
		}
	}
	out = append(out, '}')
	if len(out)-base != size {
		return nil, false // invariant: the size computation and the writer agree
	}
	return out, true
}

// keptContent is what survives of `content`.
type keptContent struct {
	rule    contentRule
	keep    bool // content is an object of which something may survive
	content span
	members *[numContentKeys]span // where each content key that may be kept is, if present
	signed  span                  // `signed` inside `third_party_invite`, if present
}

// maxContentPieces bounds the pieces of a redacted content value: its braces, and for each kept
// key a comma and a run of members, with `third_party_invite` in four pieces (its key, its
// braces, `signed`).
const maxContentPieces = 2 + 2*numContentKeys + 3

// pieces returns the successive pieces of the redacted content value, in output order, in the
// memory of buf. They are slices of b or of the constant pieces below; written one after the
// other they are the value.
func (c *keptContent) pieces(b []byte, buf *[maxContentPieces][]byte) [][]byte {
	out := buf[:0]
	switch {
	case !c.keep:
		return append(out, emptyObject)
	case c.rule.all:
		return append(out, b[c.content.value:c.content.end])
	}
	out = append(out, emptyObject[:1]) // {
	// As in assemble, kept members that follow each other in b make one piece with the
	// commas between them: run is the piece not yet added.
	var run span
	for k := range c.members {
		m := &c.members[k]
		if !c.rule.keeps(k) || !m.present() {
			continue
		}
		if k != cThirdPartyInvite && run.present() && m.start == run.end+1 {
			run.end = m.end // b[run.end] is the comma between the two
			continue
		}
		if run.present() {
			out = append(out, b[run.start:run.end])
			run = span{}
		}
		if len(out) > 1 {
			out = append(out, comma)
		}
		if k == cThirdPartyInvite {
			out = append(out, b[m.start:m.value], emptyObject[:1]) // "third_party_invite":{
			if c.signed.present() {
				out = append(out, b[c.signed.start:c.signed.end])
			}
			out = append(out, emptyObject[1:])
			continue
		}
		run = span{start: m.start, end: m.end}
	}
	if run.present() {
		out = append(out, b[run.start:run.end])
	}
	return append(out, emptyObject[1:]) // }
}

// Constant JSON pieces; never modified.
var (
	emptyObject = []byte("{}")
	comma       = []byte(",")
)

// eachMember calls fn with the raw key and the span of each member of the object at b[i]
// ('{') of canonical JSON, whose end fn must find and return (skipValue, or -1 on failure). It
// returns the index just past the object, or -1 if it does not scan (internal/jsonscan).
func eachMember(b []byte, i int, fn func(key []byte, s span) int) int {
	return jsonscan.EachMember(b, i, func(key []byte, ks, vs int) int {
		return fn(key, span{start: ks, value: vs})
	})
}

// skipValue returns the index just past the canonical JSON value at b[i], or -1.
func skipValue(b []byte, i int) int { return jsonscan.SkipValue(b, i) }

// skipContent returns the end of the top-level value at b[i] of slot; when it is an object
// `content`, it records the members that may be kept in candidates on the way.
func skipContent(b []byte, slot, i int, candidates *[numContentKeys]span) int {
	if slot != kContent || i >= len(b) || b[i] != '{' {
		return skipValue(b, i)
	}
	return eachMember(b, i, func(key []byte, s span) int {
		s.end = skipValue(b, s.value)
		if k := contentKey(key); k >= 0 {
			candidates[k] = s
		}
		return s.end
	})
}

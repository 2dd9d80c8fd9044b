package signing

import (
	"crypto/sha256"
	"encoding/base64"
	"sync"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// scratch holds the working buffers of one call, reused through scratchPool so that hashing and
// verifying an event does not allocate them anew.
type scratch struct {
	canon []byte // canonical JSON of the whole event
	msg   []byte // the bytes a signature covers, or that are hashed
	hash  []byte // the bytes the content hash covers
	index canonicaljson.Index
	// events holds the Event VerifyEvent parses, which lives only as long as the call.
	events pdu.EventBuffer
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledBuf bounds the buffers kept in scratchPool: one huge input must not pin memory.
const maxPooledBuf = 1 << 17

func getScratch() *scratch { return scratchPool.Get().(*scratch) }

func putScratch(s *scratch) {
	for _, b := range []*[]byte{&s.canon, &s.msg, &s.hash} {
		if cap(*b) > maxPooledBuf {
			*b = nil
		}
		*b = (*b)[:0]
	}
	s.index.Reset()  // and bounds the index, as maxPooledBuf bounds the buffers
	s.events.Reset() // the pool must not keep the caller's event alive
	scratchPool.Put(s)
}

// ContentHash computes the content hash of an event (server-server-api "Calculating the content
// hash for an event"): the SHA-256 of the canonical JSON of the event without `unsigned`,
// `signatures` and `hashes`. The event need not be a valid PDU, only a JSON object; it is
// canonicalised with the rules of v (only v.Format.StrictCanonicalJSON is read: strict from room
// version 6, lenient before). Errors: [ErrMalformed] when event is not such a JSON object.
func ContentHash(v roomversion.Version, event []byte) ([32]byte, error) {
	if err := v.Check(); err != nil {
		return [32]byte{}, malformed(err, "%v", err)
	}
	sc := getScratch()
	defer putScratch(sc)
	var err error
	if sc.canon, err = canonicalObjectIndexed(sc.canon[:0], event, v.Format.StrictCanonicalJSON, &sc.index); err != nil {
		return [32]byte{}, err
	}
	sc.hash, _ = appendStrippedIndexed(sc.hash[:0], sc.canon, &sc.index, dropSignatures|dropUnsigned|dropHashes)
	return sha256.Sum256(sc.hash), nil
}

// contentHashOfCanonical hashes the canonical event canon, using sc.hash as its buffer.
func contentHashOfCanonical(sc *scratch, canon []byte) ([32]byte, error) {
	var err error
	if sc.hash, _, err = appendStripped(sc.hash[:0], canon, dropSignatures|dropUnsigned|dropHashes); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(sc.hash), nil
}

// contentHashOfEvent is contentHashOfCanonical for a parsed event, whose canonical bytes it
// need not scan up to the end of `content`: top-level keys are sorted and the three it drops
// (`hashes`, `signatures`, `unsigned`) all sort after "content", so everything up to the end of
// the `content` member (ev.RawContentSpan) is hashed as it is.
func contentHashOfEvent(sc *scratch, ev *pdu.Event, idx *canonicaljson.Index) ([32]byte, error) {
	canon := ev.Raw()
	if idx != nil {
		// pdu.ParseIndexed's index of canon: no scan at all.
		sc.hash, _ = appendStrippedIndexed(sc.hash[:0], canon, idx, dropSignatures|dropUnsigned|dropHashes)
		return sha256.Sum256(sc.hash), nil
	}
	_, end := ev.RawContentSpan()
	if end == 0 {
		return contentHashOfCanonical(sc, canon)
	}
	var err error
	if sc.hash, _, err = appendStrippedFrom(sc.hash[:0], canon, end, dropSignatures|dropUnsigned|dropHashes); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(sc.hash), nil
}

// CheckContentHash compares the event's `hashes.sha256` with its content hash ([ContentHash]).
// The received hash is decoded from base64 (unpadded as the spec writes it; padding and the
// URL-safe alphabet are accepted too: docs/decisions.md (signing) 1) and the bytes are compared. Errors
// ([*VerificationError]): [ErrMalformed] (not a JSON object), [ErrNoContentHash] (no
// `hashes.sha256` string), [ErrContentHashMismatch] (it is not base64 of the computed hash).
func CheckContentHash(v roomversion.Version, event []byte) error {
	if err := v.Check(); err != nil {
		return malformed(err, "%v", err)
	}
	sc := getScratch()
	defer putScratch(sc)
	var err error
	if sc.canon, err = canonicalObjectIndexed(sc.canon[:0], event, v.Format.StrictCanonicalJSON, &sc.index); err != nil {
		return err
	}
	var hashes []byte
	for _, m := range sc.index.Members {
		if string(m.Key(sc.canon)) == "hashes" {
			hashes = sc.canon[m.Value:m.End]
		}
	}
	received, err := contentHashOf(hashes)
	if err != nil {
		return err
	}
	sc.hash, _ = appendStrippedIndexed(sc.hash[:0], sc.canon, &sc.index, dropSignatures|dropUnsigned|dropHashes)
	return compareContentHash(received, sha256.Sum256(sc.hash))
}

// contentHashOf returns the `sha256` string of hashes, the value of an event's `hashes` (nil
// when the event has none).
func contentHashOf(hashes []byte) (string, error) {
	if canonicaljson.KindOf(hashes) != canonicaljson.Object {
		return "", &VerificationError{Err: ErrNoContentHash, Detail: "the event has no hashes object"}
	}
	var sha []byte
	if err := canonicaljson.EachMember(hashes, func(key string, value []byte) error {
		if key == "sha256" {
			sha = value
		}
		return nil
	}); err != nil {
		return "", malformed(err, "%v", err)
	}
	if canonicaljson.KindOf(sha) != canonicaljson.String {
		return "", &VerificationError{Err: ErrNoContentHash, Detail: "hashes.sha256 is absent or not a string"}
	}
	s, err := canonicaljson.Unquote(sha)
	if err != nil {
		return "", malformed(err, "hashes.sha256: %v", err)
	}
	return s, nil
}

// compareContentHash compares the received base64 hash with the computed one. Any string that
// does not decode to exactly the computed hash fails the hash check, empty, undecodable or of
// another length included: server-server-api "Validating hashes and signatures on received
// events" has the receiver decode and compare, and keep the redacted copy when "the hash check
// fails" (docs/decisions.md (signing) 7).
func compareContentHash(received string, got [32]byte) error {
	var want [sha256.Size]byte
	n, ok := decodeBase64(want[:], received)
	switch {
	case received == "":
		return mismatch("hashes.sha256 is empty", got)
	case !ok:
		return mismatch("hashes.sha256 "+truncate(received)+" is not base64 of at most 32 bytes", got)
	case n != len(want) || want != got:
		return mismatch("hashes.sha256 is "+truncate(received), got)
	}
	return nil
}

func mismatch(what string, got [32]byte) error {
	return &VerificationError{Err: ErrContentHashMismatch, Detail: what + ", the event hashes to " + encodeBase64(got[:])}
}

// ReferenceHash computes the reference hash of an event (server-server-api "Calculating the
// reference hash for an event"): the event is redacted with the algorithm of room version v
// (redaction.Redact), `signatures` and `unsigned` are removed, and the SHA-256 of the canonical
// JSON is taken. The event need not be a valid PDU, only a JSON object valid for v. Errors:
// [ErrMalformed], with the redaction error as Cause.
func ReferenceHash(v roomversion.Version, event []byte) ([32]byte, error) {
	sc := getScratch()
	defer putScratch(sc)
	return referenceHash(sc, v, event)
}

func referenceHash(sc *scratch, v roomversion.Version, event []byte) ([32]byte, error) {
	red, err := redaction.Redact(v, event)
	if err != nil {
		return [32]byte{}, malformed(err, "%v", err)
	}
	if sc.msg, _, err = appendStripped(sc.msg[:0], red, dropSignatures|dropUnsigned); err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(sc.msg), nil
}

// EventID returns the ID of an event in a room of version v, by v.Format.EventID:
//
//   - [roomversion.EventIDOpaque] (room versions 1-2, rooms/fragments/v1-event-ids.md): the
//     event's own `event_id` string; [ErrMalformed] when it has none.
//   - [roomversion.EventIDHashStd] (room version 3, rooms/v3.md "Event IDs"): "$" and the
//     unpadded standard base64 of the [ReferenceHash].
//   - [roomversion.EventIDHashURLSafe] (room versions 4+, rooms/fragments/v4-event-ids.md): "$"
//     and the unpadded URL-safe base64 of the reference hash.
//
// The event need not be a valid PDU; use [ParseEvent] to parse and identify one.
func EventID(v roomversion.Version, event []byte) (string, error) {
	if err := v.Check(); err != nil {
		return "", malformed(err, "%v", err)
	}
	if v.Format.EventID == roomversion.EventIDOpaque {
		return opaqueEventID(event)
	}
	enc := encodingFor(v)
	if enc == nil {
		return "", malformed(nil, "room version %q has no event ID format", v.ID)
	}
	sc := getScratch()
	defer putScratch(sc)
	sum, err := referenceHash(sc, v, event)
	if err != nil {
		return "", err
	}
	return hashEventID(enc, sum), nil
}

// hashEventID writes "$" and the base64 of a reference hash.
func hashEventID(enc *base64.Encoding, sum [32]byte) string {
	var buf [1 + 43]byte // RawEncodedLen(32) == 43
	buf[0] = '$'
	enc.Encode(buf[1:], sum[:])
	return string(buf[:])
}

// opaqueEventID returns the `event_id` string of a room version 1-2 event.
func opaqueEventID(event []byte) (string, error) {
	if canonicaljson.KindOf(event) != canonicaljson.Object {
		return "", malformed(nil, "want a JSON object")
	}
	var raw []byte
	err := canonicaljson.EachMember(event, func(key string, value []byte) error {
		if key == "event_id" {
			raw = value
		}
		return nil
	})
	if err != nil {
		return "", malformed(err, "%v", err)
	}
	if raw == nil {
		return "", malformed(nil, "the event has no event_id (room versions 1 and 2 carry it)")
	}
	if canonicaljson.KindOf(raw) != canonicaljson.String {
		return "", malformed(nil, "event_id must be a string")
	}
	id, err := canonicaljson.Unquote(raw)
	if err != nil {
		return "", malformed(err, "event_id: %v", err)
	}
	if err := pdu.CheckOpaqueEventID(id); err != nil {
		return "", malformed(err, "%v", err)
	}
	return id, nil
}

// encodingFor returns the base64 encoding of v's reference-hash event IDs (nil for opaque IDs).
func encodingFor(v roomversion.Version) *base64.Encoding {
	switch v.Format.EventID {
	case roomversion.EventIDHashStd:
		return base64.RawStdEncoding
	case roomversion.EventIDHashURLSafe:
		return base64.RawURLEncoding
	}
	return nil
}

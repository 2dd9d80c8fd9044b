package pdu

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/jsonscan"
	"github.com/roomproto/roomproto/roomversion"
)

// refParseCanonical is parseCanonical as it was before it made its strings from one buffer
// (commit 651bf0f), kept to check that nothing changed: it reads the fields of the event whose canonical JSON (as canonicaljson.Append
// wrote it for v) is raw. The JSON is valid, compact, without duplicate keys, and every key and
// string needs an escape only for '"', '\\' and control characters, so top-level names are
// matched on the bytes as written (internal/jsonscan).
func refParseCanonical(v roomversion.Version, raw []byte) (*Event, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, formatErr("", ErrNotObject, "the event must be a JSON object, got %v", canonicaljson.KindOf(raw))
	}
	e := &Event{raw: raw, Version: v}
	var (
		hasAuth, hasPrev, hasDepth, hasTS, hasHashes, hasSigs, hasRoom, hasSender, hasType, hasContent, hasEventID bool
		topRedacts                                                                                                 string
	)
	var err error
	scanned := jsonscan.Members(raw, func(rawKey, value []byte) bool {
		switch string(rawKey) { // no allocation
		case "event_id":
			if !v.Format.HasEventIDField {
				return true // not part of the format; kept in the bytes, ignored by the rules
			}
			hasEventID = true
			if e.EventID, err = refIdString("event_id", value); err == nil {
				err = CheckOpaqueEventID(e.EventID)
			}
		case "room_id":
			hasRoom = true
			e.RoomID, err = refIdString("room_id", value)
		case "sender":
			hasSender = true
			e.Sender, err = refIdString("sender", value)
		case "type":
			hasType = true
			e.Type, err = refIdString("type", value)
		case "state_key":
			var s string
			if s, err = refIdString("state_key", value); err == nil {
				e.StateKey = &s
			}
		case "content":
			hasContent = true
			if value[0] != '{' {
				err = formatErr("content", ErrNotObject, "content must be an object")
				return false
			}
			e.Content = value
			e.contentStart = cap(raw) - cap(value) // value is raw[start:end]
			e.contentEnd = e.contentStart + len(value)
		case "prev_events":
			hasPrev = true
			e.PrevEvents, err = refReferences(v, "prev_events", value, MaxPrevEvents)
		case "auth_events":
			hasAuth = true
			e.AuthEvents, err = refReferences(v, "auth_events", value, MaxAuthEvents)
		case "depth":
			hasDepth = true
			if e.Depth, err = integer("depth", value); err == nil && (e.Depth < 0 || e.Depth > v.Format.MaxDepth) {
				err = formatErr("depth", ErrOutOfRange, "depth %d outside [0, %d]", e.Depth, v.Format.MaxDepth)
			}
		case "origin_server_ts":
			hasTS = true
			e.OriginServerTS, err = integer("origin_server_ts", value)
		case "origin":
			// No event format defines `origin` (pdu_v*.yaml): it is kept in the bytes and
			// read only when it is a string.
			e.Origin, _ = refPlainString("origin", value)
		case "redacts":
			if v.Format.RedactsInContent {
				return true // from v11 not part of the format (pdu_v11.yaml): any value
			}
			topRedacts, err = refPlainString("redacts", value)
		case "hashes":
			hasHashes = true
			e.ContentHash, err = refHashes(value)
		case "signatures":
			hasSigs = true
			e.Signatures, err = refSignatures(value)
		case "unsigned":
			if value[0] != '{' {
				err = formatErr("unsigned", ErrNotObject, "unsigned must be an object")
				return false
			}
			e.Unsigned = value
		}
		return err == nil
	})
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			return nil, fe
		}
		return nil, &FormatError{Err: ErrWrongType, Detail: err.Error(), Cause: err}
	}
	if !scanned {
		return nil, errNoScan // invariant: raw is canonicaljson's output
	}

	required := []struct {
		name string
		ok   bool
	}{
		{"type", hasType}, {"sender", hasSender}, {"content", hasContent},
		{"origin_server_ts", hasTS}, {"depth", hasDepth}, {"prev_events", hasPrev},
		{"auth_events", hasAuth}, {"hashes", hasHashes}, {"signatures", hasSigs},
	}
	for _, r := range required {
		if !r.ok {
			return nil, formatErr(r.name, ErrMissingField, "")
		}
	}
	if v.Format.HasEventIDField && !hasEventID {
		return nil, formatErr("event_id", ErrMissingField, "room version %s events carry their event_id", v.ID)
	}
	// A v12 create event has no room_id (auth rule 1.2 rejects one that has); every other
	// event needs one.
	if !hasRoom && !(v.Format.RoomIDFromCreateEvent && e.Type == TypeCreate) {
		return nil, formatErr("room_id", ErrMissingField, "")
	}

	if v.Format.RedactsInContent {
		if e.Type == TypeRedaction {
			e.Redacts, _, err = refCanonicalContentString(e.Content, "redacts")
		}
	} else if e.Type == TypeRedaction {
		e.Redacts = topRedacts
	}
	if err != nil {
		return nil, &FormatError{Field: "content", Err: ErrWrongType, Detail: err.Error(), Cause: err}
	}
	if e.Type == TypeMember {
		e.Membership, _, _ = refCanonicalContentString(e.Content, "membership")
	}
	return e, nil
}

// canonicalContentString is contentString for the canonical content that Parse holds.
func refCanonicalContentString(content []byte, key string) (string, bool, error) {
	var (
		out string
		ok  bool
		err error
	)
	jsonscan.Members(content, func(k, v []byte) bool {
		if string(k) != key {
			return true
		}
		if v[0] == '"' {
			out, err = refUnquote(v)
			ok = err == nil
		}
		return false
	})
	return out, ok, err
}

// unquote decodes a canonical JSON string literal; without escapes, by copying its body.
func refUnquote(value []byte) (string, error) {
	body := value[1 : len(value)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), nil
	}
	return canonicaljson.Unquote(value)
}

// unquoteKey decodes an object key as written in canonical JSON (without its quotes).
func refUnquoteKey(key []byte) (string, error) {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key), nil
	}
	q := make([]byte, 0, len(key)+2)
	q = append(append(append(q, '"'), key...), '"')
	return canonicaljson.Unquote(q)
}

// plainString reads a string field of the canonical JSON.
func refPlainString(field string, value []byte) (string, error) {
	if len(value) < 2 || value[0] != '"' {
		return "", formatErr(field, ErrWrongType, "must be a string")
	}
	s, err := refUnquote(value)
	if err != nil {
		return "", &FormatError{Field: field, Err: ErrWrongType, Detail: err.Error(), Cause: err}
	}
	return s, nil
}

func refIdString(field string, value []byte) (string, error) {
	s, err := refPlainString(field, value)
	if err == nil && len(s) > MaxIDLength {
		return "", formatErr(field, ErrTooLarge, "%d bytes, limit %d", len(s), MaxIDLength)
	}
	return s, err
}

// references parses `prev_events` / `auth_events`: a list of event IDs, or for the v1-2 format
// a list of `[event_id, {hashes}]` pairs.
func refReferences(v roomversion.Version, field string, value []byte, limit int) ([]string, error) {
	if value[0] != '[' {
		return nil, formatErr(field, ErrWrongType, "must be an array")
	}
	var (
		ids []string
		err error
	)
	scanned := jsonscan.Elements(value, func(item []byte) bool {
		i := len(ids)
		if i >= limit {
			err = formatErr(field, ErrTooMany, "more than %d entries", limit)
			return false
		}
		if v.Format.ReferencePairs {
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
				return false
			}
			// pdu_v1.yaml types each element of a pair "anyOf" a string and an event_hash
			// object; nothing reads the second, so its content is not checked.
			if pair[1][0] != '{' && pair[1][0] != '"' {
				err = formatErr(field, ErrWrongType, "entry %d: the second element must be a hashes object or a string", i)
				return false
			}
			item = pair[0]
		}
		id, ierr := refIdString(field, item)
		if ierr != nil {
			var fe *FormatError
			if errors.As(ierr, &fe) && fe.Err == ErrTooLarge {
				err = ierr
			} else {
				err = formatErr(field, ErrWrongType, "entry %d must be an event ID string", i)
			}
			return false
		}
		if ids == nil {
			ids = make([]string, 0, 4)
		}
		ids = append(ids, id)
		return true
	})
	if err != nil {
		return nil, err
	}
	if !scanned {
		return nil, errNoScan
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

func refHashes(value []byte) (string, error) {
	if value[0] != '{' {
		return "", formatErr("hashes", ErrNotObject, "must be an object")
	}
	var (
		sha   string
		found bool
		err   error
	)
	jsonscan.Members(value, func(k, v []byte) bool {
		if string(k) != "sha256" {
			return true
		}
		found = true
		sha, err = refPlainString("hashes", v)
		return false
	})
	if err == nil && !found {
		err = formatErr("hashes", ErrMissingField, "hashes must hold sha256 (event_hash.yaml)")
	}
	return sha, err
}

// signatures parses `signatures`: server name → key ID → signature string. Any number of servers
// and key IDs is accepted (the event size bounds them): the spec sets no limit, `signatures` is
// covered by no signature, and appendices "Signing JSON" lets "intermediate entities" add
// signatures, so a limit here would let a relay, or an origin signing with many keys, make
// roomproto alone drop an event (docs/decisions.md (pdu) "Signature counts"). Verification
// looks only at the servers that must sign.
func refSignatures(value []byte) (Signatures, error) {
	if value[0] != '{' {
		return nil, formatErr("signatures", ErrNotObject, "must be an object")
	}
	out := Signatures{}
	var err error
	scanned := jsonscan.Members(value, func(rawServer, keys []byte) bool {
		var server string
		if server, err = refUnquoteKey(rawServer); err != nil {
			return false
		}
		if keys[0] != '{' {
			err = formatErr("signatures", ErrNotObject, "signatures of %q must be an object", server)
			return false
		}
		return jsonscan.Members(keys, func(rawKeyID, sig []byte) bool {
			var keyID, s string
			if keyID, err = refUnquoteKey(rawKeyID); err != nil {
				return false
			}
			if s, err = refPlainString("signatures", sig); err != nil {
				return false
			}
			out = append(out, Signature{Server: server, KeyID: keyID, Value: s})
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	if !scanned {
		return nil, errNoScan
	}
	// The input is canonical, so this changes nothing unless Parse's order is wrong: sorting
	// here makes the comparison with Parse check its order.
	slices.SortFunc(out, func(a, b Signature) int {
		if c := strings.Compare(a.Server, b.Server); c != 0 {
			return c
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	return out, nil
}

// Package policyserver implements what a receiving homeserver decides about Policy Servers
// (server-server-api "Policy Servers", added in spec v1.18): whether a room uses one ([Of],
// "Determining if a Policy Server is enabled in a room"), and whether an event carries the
// Policy Server signature by which it is recommended for inclusion ([Check], "Validating Policy
// Server signatures").
//
// An event that is not recommended is soft failed when it arrives over federation (check 7 of
// server-server-api "Checks performed on receipt of a PDU"), and a homeserver does not send a
// local event that its Policy Server refuses to sign. The recommendation never changes the
// authorization rules: an event is authorised (package authrules) whether or not it is
// recommended, and the verdicts of the two are independent.
//
// The package does no I/O. When [Check] reports a missing or invalid signature, the spec has the
// homeserver ask the Policy Server for a (new) signature (POST /_matrix/policy/v1/sign), add the
// returned signature to the event's `signatures` beside those already there ([AddSignature]),
// and check again; only an event that still has no valid signature is not recommended. (A Policy Server's
// signature is an ordinary event signature by a key of version [KeyVersion]: for an event of
// another server, [signing.CountersignEvent] makes it, but it replaces signatures already under
// the signing server's name.)
//
// Everything in this package is a pure function of its arguments and safe for concurrent use.
// The readings the spec leaves open are recorded in docs/decisions.md ("Policy servers").
package policyserver

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/jsonscan"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

const (
	// EventType is the type of the state event that names a room's Policy Server
	// (client-server-api `m.room.policy`); the one with an empty state key counts.
	EventType = "m.room.policy"
	// KeyID is the key ID of every Policy Server signature: "The Key ID for the ed25519 key in
	// m.room.policy is always ed25519:policy_server" (server-server-api "Validating Policy
	// Server signatures").
	KeyID = signing.AlgorithmEd25519 + ":" + KeyVersion
	// KeyVersion is the key version of KeyID, for a [signing.SigningKey] that signs as a
	// Policy Server.
	KeyVersion = "policy_server"
)

// Sentinel errors, matched with errors.Is against an [*Error]. Each means the event is not
// (yet) recommended for inclusion.
var (
	// ErrMissingSignature: the event has no `ed25519:policy_server` signature of the Policy
	// Server. Ask the Policy Server to sign it; if it refuses, the event is not recommended.
	ErrMissingSignature = errors.New("no Policy Server signature")
	// ErrBadSignature: the event's `ed25519:policy_server` signature of the Policy Server does
	// not verify with the public key of the room's m.room.policy event (or is not base64 of a
	// signature). Ask for a new signature: the Policy Server may have rotated its key.
	ErrBadSignature = errors.New("invalid Policy Server signature")
	// ErrInvalidKey: the m.room.policy event's `public_keys.ed25519` is a string but not the
	// base64 of an ed25519 public key, so no signature can be valid: the room uses a Policy
	// Server and no event it must sign is recommended until the room fixes the key
	// (docs/decisions.md (policy servers) 2).
	ErrInvalidKey = errors.New("the room's Policy Server key is not an ed25519 public key")
)

// Error is the error type of [Check] and [Server.Check]: why the event is not recommended.
type Error struct {
	// Server is the Policy Server's name (`via`).
	Server string
	// EventID is the event's ID when it is known (pdu.Event.EventID), otherwise "".
	EventID string
	// Err is ErrMissingSignature, ErrBadSignature, ErrInvalidKey or ErrMalformed (AddSignature,
	// and Check given an event of another room or room version than the state's).
	Err error
	// Detail says what exactly was wrong.
	Detail string
	// Cause is the underlying error (a *signing.VerificationError or *signing.KeyError), if
	// any.
	Cause error
}

// Error returns "policyserver: " followed by the sentinel's text, the server and the detail.
func (e *Error) Error() string {
	s := fmt.Sprintf("policyserver: %v (policy server %s)", e.Err, e.Server)
	if e.EventID != "" {
		s += " on " + e.EventID
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Unwrap returns the sentinel error and the cause, so that errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// Server is the Policy Server a room uses, read from its m.room.policy state event.
type Server struct {
	// Name is the Policy Server's server name: the event's `content.via`. Its signatures are
	// under this name in an event's `signatures`.
	Name string
	// PublicKey is the event's `content.public_keys.ed25519` as written (unpadded base64).
	PublicKey string
}

// Of returns the Policy Server the room uses, and false when it uses none. s must be the
// room's current state, as for soft failure (server-server-api "Determining if a Policy Server
// is enabled in a room": "Current state shares the same definition as soft failure"). A room
// uses a Policy Server when all of these hold:
//
//   - s has an m.room.policy state event with an empty state key whose content has a string
//     `via` and an object `public_keys` with a string `ed25519`;
//   - `via` is a server name (appendices "Server Name"; docs/decisions.md (policy servers) 1);
//   - a user of that server is joined in s: a member whose state key is a user ID
//     (authrules.ValidUserID: `@localpart:domain`, appendices "User Identifiers") with that
//     server name after its first ':'. A member event whose state key is not a user ID names
//     no user and does not count (docs/decisions.md (policy servers) 6).
//
// Of scans the joined members until it meets one of the Policy Server's: call it once per
// state and check many events with [Server.Check], rather than [Check] per event, in a large
// room.
func Of(s *authrules.State) (Server, bool) {
	if s == nil {
		return Server{}, false
	}
	ev := s.Get(EventType, "")
	if ev == nil {
		return Server{}, false
	}
	ps, ok := fromContent(ev)
	if !ok {
		return Server{}, false
	}
	for user := range s.AllMembers(pdu.MembershipJoin) {
		if server, ok := signing.ServerName(user); ok && server == ps.Name && authrules.ValidUserID(user) {
			return ps, true
		}
	}
	return Server{}, false
}

// fromContent reads the Policy Server named by a m.room.policy event's content, and reports
// false when the content is not valid for the spec (a string `via` that is a server name, an
// object `public_keys` with a string `ed25519`).
func fromContent(ev *pdu.Event) (Server, bool) {
	via, ok := ev.ContentString("via")
	if !ok || !pdu.ValidServerName(via) {
		return Server{}, false
	}
	keys := ev.ContentField("public_keys")
	if canonicaljson.KindOf(keys) != canonicaljson.Object {
		return Server{}, false
	}
	var (
		key    string
		hasKey bool
	)
	// Content is canonical JSON (pdu.Parse), so its members are unique and EachMember cannot
	// fail on it; a failure leaves hasKey false all the same.
	_ = canonicaljson.EachMember(keys, func(k string, value []byte) error {
		if k != signing.AlgorithmEd25519 || canonicaljson.KindOf(value) != canonicaljson.String {
			return nil
		}
		s, err := canonicaljson.Unquote(value)
		if err == nil {
			key, hasKey = s, true
		}
		return nil
	})
	if !hasKey {
		return Server{}, false
	}
	return Server{Name: via, PublicKey: key}, true
}

// Check reports whether ev is recommended for inclusion in the room whose current state is s
// (see [Of]): nil when it is, an [*Error] saying why not otherwise. It is [Of] followed by
// [Server.Check]; a room that uses no Policy Server recommends every event. An event of another
// room than the state's, or parsed for another room version, is refused ([ErrMalformed]): the
// question is about this room.
func Check(s *authrules.State, ev *pdu.Event) error {
	if ev != nil && s != nil {
		if ev.Version.ID != "" && ev.Version.ID != s.Version().ID {
			return &Error{EventID: ev.EventID, Err: ErrMalformed, Detail: "the event was parsed for room version " + strconv.Quote(ev.Version.ID) + ", not the state's " + strconv.Quote(s.Version().ID)}
		}
		if room := s.Room(); room != "" && ev.Room() != room {
			return &Error{EventID: ev.EventID, Err: ErrMalformed, Detail: "the event is of room " + strconv.Quote(ev.Room()) + ", not of the state's room " + strconv.Quote(room)}
		}
	}
	ps, ok := Of(s)
	if !ok {
		return nil
	}
	return ps.Check(ev)
}

// Exempt reports whether ev needs no Policy Server signature: an m.room.policy state event
// with an empty state key, which the Policy Server is not asked to sign so that a room can
// always change or remove its Policy Server (server-server-api "Validating Policy Server
// signatures"). Every other event needs one when the room uses a Policy Server, m.room.policy
// events with other state keys and non-state m.room.policy events included.
func Exempt(ev *pdu.Event) bool { return ev != nil && ev.Is(EventType, "") }

// Check reports whether ev is recommended for inclusion in a room that uses the Policy Server
// ps: nil when ev is [Exempt] or carries a valid signature of ps.Name by key
// [KeyID], checked with ps.PublicKey over the redacted event as any event signature is
// (server-server-api "Validating Policy Server signatures", "Signing Events"). The key has no
// validity period: the room's state is its authority. Otherwise it returns an [*Error] with
// [ErrMissingSignature] (also for a nil event), [ErrBadSignature] or [ErrInvalidKey]. A key that
// decodes but that no signature can verify with (a point of small order) shows as
// ErrBadSignature. It does not check the event's other signatures or its content hash
// (signing.VerifyEvent does).
func (ps Server) Check(ev *pdu.Event) error {
	if ev == nil {
		return &Error{Server: ps.Name, Err: ErrMissingSignature, Detail: "no event"}
	}
	if Exempt(ev) {
		return nil
	}
	return ps.verify(ev)
}

// verify is Check without the exemption: whether ev carries a valid signature of ps.
func (ps Server) verify(ev *pdu.Event) error {
	fail := func(sentinel error, detail string, cause error) error {
		return &Error{Server: ps.Name, EventID: ev.EventID, Err: sentinel, Detail: detail, Cause: cause}
	}
	pub, err := signing.DecodePublicKey(ps.PublicKey)
	if err != nil {
		return fail(ErrInvalidKey, "public_keys.ed25519 of the m.room.policy event: "+err.Error(), err)
	}
	err = signing.VerifyEventSignature(ev, ps.Name, policyKey{server: ps.Name, key: pub})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, signing.ErrMissingSignature), errors.Is(err, signing.ErrUnknownKey):
		// No signature of the server at all, or only by its other (published) keys.
		return fail(ErrMissingSignature, "no "+KeyID+" signature of "+ps.Name, err)
	default:
		// ErrBadSignature (the signature does not verify or decode); ErrMalformed cannot
		// happen for a parsed event (its redaction always succeeds) and is not a valid
		// signature either.
		return fail(ErrBadSignature, err.Error(), err)
	}
}

// policyKey is the KeyLookup of one Policy Server: it knows only the key KeyID of server.
type policyKey struct {
	server string
	key    ed25519.PublicKey
}

// PublicKey implements signing.KeyLookup. The key never expires (ValidUntilTS 0).
func (p policyKey) PublicKey(serverName, keyID string) (signing.PublicKey, bool) {
	if serverName != p.server || keyID != KeyID {
		return signing.PublicKey{}, false
	}
	return signing.PublicKey{Key: p.key}, true
}

// ErrMalformed is the error (in an [*Error]) of [AddSignature] for an event that is not a valid
// event of the room version (or that the signature would take past the size limit), a
// response that is not of the form of /sign's answer, or a Server whose Name is no server name.
var ErrMalformed = errors.New("malformed input")

// maxSignatureLength is the longest base64 an ed25519 signature (64 bytes) has: 88 characters
// with padding.
const maxSignatureLength = 88

// AddSignature adds the signature of the Policy Server ps, taken from response (the body of its
// answer to POST /_matrix/policy/v1/sign: `{"<ps.Name>": {"ed25519:policy_server": "<sig>"}}`),
// to event, beside the signatures already there (other keys of the same server included), and
// returns the event as canonical JSON of room version v once the signature verifies, with every
// other byte of the event's canonical form unchanged (so its event ID, content hash and other
// signatures too). The signature is checked even on the m.room.policy event that [Exempt]
// spares. Errors ([*Error]): [ErrMissingSignature] when response holds no such signature (a
// Policy Server that refuses to sign answers `{}`), [ErrBadSignature] when it does not verify,
// [ErrInvalidKey], and [ErrMalformed] (see there).
func AddSignature(v roomversion.Version, event []byte, ps Server, response []byte) ([]byte, error) {
	fail := func(sentinel error, detail string, cause error) error {
		return &Error{Server: ps.Name, Err: sentinel, Detail: detail, Cause: cause}
	}
	if !pdu.ValidServerName(ps.Name) {
		return nil, fail(ErrMalformed, "the Policy Server's name is not a server name", nil)
	}
	// The event first: pdu.Parse bounds the memory and work of any input, and its canonical
	// form is what the signature is spliced into.
	orig, err := signing.ParseEvent(v, event)
	if err != nil {
		return nil, fail(ErrMalformed, "event: "+err.Error(), err)
	}
	sig, err := signatureOf(response, ps.Name)
	if err != nil {
		return nil, fail(ErrMalformed, "response: "+err.Error(), err)
	}
	switch {
	case sig == nil:
		return nil, fail(ErrMissingSignature, "the response has no "+KeyID+" signature of "+ps.Name, nil)
	case len(sig) > maxSignatureLength+2: // quotes included
		return nil, fail(ErrBadSignature, "the signature is longer than the base64 of 64 bytes", nil)
	}
	spliced, ok := spliceSignature(orig.Raw(), ps.Name, sig)
	if !ok { // invariant: Raw is canonical JSON of an event, whose signatures is an object
		return nil, fail(ErrMalformed, "event: signatures does not scan", nil)
	}
	// Sort the new members into place; every other byte is canonical already and stays.
	out, err := canonicaljson.Append(nil, spliced, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	if err != nil {
		return nil, fail(ErrMalformed, err.Error(), err)
	}
	ev, err := signing.ParseEvent(v, out)
	if err != nil {
		return nil, fail(ErrMalformed, "event with the signature: "+err.Error(), err)
	}
	if err := ps.verify(ev); err != nil {
		return nil, err
	}
	return out, nil
}

// signatureOf returns the JSON string literal (quotes included, as written) of the KeyID
// signature of server in response, nil when there is none, and an error when response is not
// an object of objects of strings where it matters.
func signatureOf(response []byte, server string) ([]byte, error) {
	if canonicaljson.KindOf(response) != canonicaljson.Object {
		return nil, errors.New("not a JSON object")
	}
	var sig []byte
	err := canonicaljson.EachMember(response, func(name string, sigs []byte) error {
		if name != server {
			return nil
		}
		if canonicaljson.KindOf(sigs) != canonicaljson.Object {
			return fmt.Errorf("the value of %q is not an object", server)
		}
		return canonicaljson.EachMember(sigs, func(keyID string, value []byte) error {
			if keyID != KeyID {
				return nil
			}
			if canonicaljson.KindOf(value) != canonicaljson.String {
				return fmt.Errorf("the %s signature is not a string", KeyID)
			}
			sig = value
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if sig == nil {
		return nil, nil
	}
	// Re-encode the string canonically: value is as the response wrote it.
	s, err := canonicaljson.Canonical(sig)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// spliceSignature returns canon (the canonical JSON of an event) with the member KeyID: sig
// (sig a JSON string literal) in signatures[server], replacing one already there, without
// touching any other byte; the new members may be out of order. server is a server name, so
// its canonical key is its own text. It reports false if canon does not scan or has no
// `signatures` object.
func spliceSignature(canon []byte, server string, sig []byte) ([]byte, bool) {
	member := func(key string, value []byte) []byte {
		return append(append(canonicaljson.AppendString(nil, key), ':'), value...)
	}
	object := func(members []byte) []byte { return append(append([]byte{'{'}, members...), '}') }
	// insert returns b with piece inserted as a member of the object b[start:end].
	insert := func(b []byte, start, end int, piece []byte) []byte {
		out := append([]byte(nil), b[:end-1]...)
		if end-start > 2 {
			out = append(out, ',')
		}
		out = append(out, piece...)
		return append(out, b[end-1:]...)
	}
	replace := func(b []byte, start, end int, value []byte) []byte {
		out := append([]byte(nil), b[:start]...)
		out = append(out, value...)
		return append(out, b[end:]...)
	}
	ours := member(KeyID, sig)
	sigsStart, sigsEnd, ok := findMember(canon, 0, "signatures")
	if !ok || sigsStart < 0 { // every event has signatures (pdu.Parse requires it)
		return nil, false
	}
	srvStart, srvEnd, ok := findMember(canon, sigsStart, server)
	switch {
	case !ok:
		return nil, false
	case srvStart < 0:
		return insert(canon, sigsStart, sigsEnd, member(server, object(ours))), true
	}
	keyStart, keyEnd, ok := findMember(canon, srvStart, KeyID)
	switch {
	case !ok:
		return nil, false
	case keyStart >= 0:
		return replace(canon, keyStart, keyEnd, sig), true
	}
	return insert(canon, srvStart, srvEnd, ours), true
}

// findMember returns where the value of the member key of the object at b[obj] is, b[start:end]
// (-1, -1 when the object has no such member), and false when there is no object at b[obj] or it
// does not scan. b is canonical JSON, whose keys compare as written.
func findMember(b []byte, obj int, key string) (start, end int, ok bool) {
	if obj >= len(b) || b[obj] != '{' {
		return -1, -1, false
	}
	start, end = -1, -1
	ok = jsonscan.EachMember(b, obj, func(k []byte, _, vs int) int {
		ve := jsonscan.SkipValue(b, vs)
		if string(k) == key {
			start, end = vs, ve
		}
		return ve
	}) >= 0
	return start, end, ok
}

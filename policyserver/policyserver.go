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
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
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
	// Err is ErrMissingSignature, ErrBadSignature, ErrInvalidKey or (AddSignature only)
	// ErrMalformed.
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
//   - a user of that server (the part of the user ID after the first ':') is joined in s.
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
		if server, ok := signing.ServerName(user); ok && server == ps.Name {
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
// [Server.Check]; a room that uses no Policy Server recommends every event.
func Check(s *authrules.State, ev *pdu.Event) error {
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

// ErrMalformed is the error (in an [*Error]) of [AddSignature] for an event or a response that
// is not a JSON object of the room version's canonical JSON rules.
var ErrMalformed = errors.New("malformed input")

// AddSignature adds the signature of the Policy Server ps, taken from response (the body of its
// answer to POST /_matrix/policy/v1/sign: `{"<ps.Name>": {"ed25519:policy_server": "<sig>"}}`),
// to event, beside the signatures already there (other keys of the same server included), and
// returns the event as canonical JSON of room version v once [Server.Check] recommends it.
// Errors ([*Error]): [ErrMissingSignature] when response holds no such signature (a Policy
// Server that refuses to sign answers `{}`), [ErrBadSignature] when it does not verify,
// [ErrInvalidKey], and [ErrMalformed] for an event or response that is not a JSON object (an
// event that is not a valid event of room version v is ErrMalformed too).
func AddSignature(v roomversion.Version, event []byte, ps Server, response []byte) ([]byte, error) {
	fail := func(sentinel error, detail string, cause error) error {
		return &Error{Server: ps.Name, Err: sentinel, Detail: detail, Cause: cause}
	}
	sig, found := "", false
	err := canonicaljson.EachMember(response, func(server string, sigs []byte) error {
		if server != ps.Name {
			return nil
		}
		return canonicaljson.EachMember(sigs, func(keyID string, value []byte) error {
			if keyID == KeyID && canonicaljson.KindOf(value) == canonicaljson.String {
				s, err := canonicaljson.Unquote(value)
				sig, found = s, err == nil
			}
			return nil
		})
	})
	if err != nil {
		return nil, fail(ErrMalformed, "response: "+err.Error(), err)
	}
	if !found {
		return nil, fail(ErrMissingSignature, "the response has no "+KeyID+" signature of "+ps.Name, nil)
	}
	opts := canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}
	canon, err := canonicaljson.Append(nil, event, opts)
	if err != nil {
		return nil, fail(ErrMalformed, "event: "+err.Error(), err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(canon, &fields); err != nil {
		return nil, fail(ErrMalformed, "event: not a JSON object", err)
	}
	var sigs map[string]map[string]json.RawMessage
	if raw, ok := fields["signatures"]; ok {
		if err := json.Unmarshal(raw, &sigs); err != nil {
			return nil, fail(ErrMalformed, "event: signatures is not an object of objects", err)
		}
	}
	if sigs == nil {
		sigs = map[string]map[string]json.RawMessage{}
	}
	if sigs[ps.Name] == nil {
		sigs[ps.Name] = map[string]json.RawMessage{}
	}
	sigs[ps.Name][KeyID] = json.RawMessage(canonicaljson.AppendString(nil, sig))
	if fields["signatures"], err = json.Marshal(sigs); err != nil {
		return nil, fail(ErrMalformed, err.Error(), err)
	}
	joined, err := json.Marshal(fields)
	if err != nil {
		return nil, fail(ErrMalformed, err.Error(), err)
	}
	out, err := canonicaljson.Append(nil, joined, opts) // sorts the keys and undoes json's escapes
	if err != nil {
		return nil, fail(ErrMalformed, err.Error(), err)
	}
	ev, err := signing.ParseEvent(v, out)
	if err != nil {
		return nil, fail(ErrMalformed, "event: "+err.Error(), err)
	}
	if err := ps.Check(ev); err != nil {
		return nil, err
	}
	return out, nil
}

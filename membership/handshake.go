package membership

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// SendJoinRequest is what a resident server has when a /send_join request arrives (spec:
// joins-v2.yaml, server-server-api "Joining Rooms", "Restricted rooms").
type SendJoinRequest struct {
	// State is the current state of the room.
	State *authrules.State
	// ResidentServer is the name of the server answering; it signs the event.
	ResidentServer string
	// Rooms is what the resident knows of the rooms named by allow conditions (as for
	// [DecideJoin]: the decision is made again, the state may have changed since make_join).
	Rooms RoomMemberships
	// RoomID and EventID are the path parameters; empty skips the comparison.
	RoomID, EventID string
	// Origin is the requesting server, as authenticated by the request's signature; empty
	// skips the check that the sender is one of its users.
	Origin string
	// Event is the request body: the join event signed by the joining server.
	Event []byte
	// Key is the resident server's signing key.
	Key signing.SigningKey
	// Keys supplies the public keys of the joining server (and any other server whose
	// signature the auth rules check). The resident's own key is added automatically.
	Keys signing.KeyLookup
	// AuthEvents, if not nil, are the events the join lists in its auth_events, fetched by
	// the caller: the join is then also checked against them (server-server-api "Checks
	// performed on receipt of a PDU", check 4), besides the check against State (check 6).
	AuthEvents []*pdu.Event
}

// SendJoinResult is a successful /send_join.
type SendJoinResult struct {
	// Event is the join event with the resident server's signature added: the `event` field
	// of the response (joins-v2.yaml: "The membership event sent to other servers by the
	// resident server including a signature from the resident server").
	Event []byte
	// Parsed is Event parsed, with its EventID.
	Parsed *pdu.Event
	// Decision is the join decision the event was accepted under. When the join is allowed by
	// an allow condition, its AuthorisingUser is the user the event names in
	// join_authorised_via_users_server (the one the auth rules checked), which need not be
	// the one [DecideJoin] would choose.
	Decision JoinDecision
}

// requestVersion returns the room version of s, the state a resident server answers a
// send_join, send_knock or send_leave request from: no state, or a state of no room version
// (the zero authrules.State, whose error also matches roomversion.ErrUnknownVersion), is the
// resident's own fault, answered 400 M_INVALID_PARAM with reason ErrBadInput before the body is
// read (rather than blaming the requesting server's body).
func requestVersion(s *authrules.State) (roomversion.Version, error) {
	if s == nil {
		return roomversion.Version{}, invalidParam(ErrBadInput, nil, "no room state given")
	}
	v := s.Version()
	if err := v.Check(); err != nil {
		return v, invalidParam(ErrBadInput, err, "room state: %v", err)
	}
	return v, nil
}

// SendJoin handles /send_join as a resident server:
//
//  1. The body must be an event of the room version (400 M_NOT_JSON / M_BAD_JSON), and, as
//     joins-v2.yaml asks (400 M_INVALID_PARAM): an m.room.member with membership join, whose
//     state_key is its sender, a user of Origin, in room RoomID with ID EventID, validly
//     signed by the sender's server (room versions 1-2: also by the event ID's domain when it
//     differs, which must not be ResidentServer's) with a matching content hash.
//  2. The join is decided again with [DecideJoin] (403 / 400 errors as there).
//  3. A join_authorised_via_users_server must name a user of ResidentServer, which alone can
//     add the signature auth rule 4.2 requires (400 M_INVALID_PARAM otherwise).
//  4. The resident's signature is added ([signing.CountersignEvent]: nothing else changes,
//     `hashes` included, so the event ID stays), and the signed event must pass the authorization
//     rules against State (and AuthEvents when given): 403 M_FORBIDDEN with reason
//     ErrAuthRules and the authrules rejection as Err otherwise. This is where a restricted
//     join without authoriser, or with one who cannot invite, is refused.
//
// The joining server may name any able user of the resident, not necessarily the first of
// [Authorisers]. No State, or one of no room version (the zero authrules.State), is 400
// M_INVALID_PARAM with reason ErrBadInput, before the body is read.
func SendJoin(req SendJoinRequest) (SendJoinResult, error) {
	s := req.State
	v, err := requestVersion(s)
	if err != nil {
		return SendJoinResult{}, err
	}
	ev, err := receiveMember(v, req.Event, pdu.MembershipJoin, req.RoomID, req.EventID, req.Origin, req.ResidentServer, req.Keys, true)
	if err != nil {
		return SendJoinResult{}, err
	}
	d, err := DecideJoin(JoinRequest{State: s, UserID: ev.Sender, ResidentServer: req.ResidentServer, Rooms: req.Rooms})
	if err != nil {
		return SendJoinResult{}, err
	}
	if v.Auth.RestrictedJoinRule && ev.ContentField(signing.ContentJoinAuthorisedViaUsersServer) != nil {
		auth, ok := ev.ContentString(signing.ContentJoinAuthorisedViaUsersServer)
		if !ok {
			return SendJoinResult{}, invalidParam(ErrBadEvent, nil, "content.join_authorised_via_users_server must be a user ID string")
		}
		if srv, _ := signing.ServerName(auth); srv != req.ResidentServer {
			return SendJoinResult{}, invalidParam(ErrBadEvent, nil, "join_authorised_via_users_server %q is not a user of %s, which can only sign for its own users", auth, req.ResidentServer)
		}
		if d.Basis == BasisCondition {
			d.AuthorisingUser = auth
		}
	}
	signed, parsed, err := countersign(v, req.Event, req.ResidentServer, req.Key)
	if err != nil {
		return SendJoinResult{}, err
	}
	keys := ownKey{keys: req.Keys, server: req.ResidentServer, key: req.Key}
	if err := authorise(s, parsed, req.AuthEvents, keys); err != nil {
		return SendJoinResult{}, err
	}
	return SendJoinResult{Event: signed, Parsed: parsed, Decision: d}, nil
}

// receiveMember parses and validates a membership event received on a handshake endpoint.
// selfTargeted: the state key must be the sender. self is the server answering, when it
// signs the event next (send_join); empty when it does not (send_knock, send_leave).
func receiveMember(v roomversion.Version, body []byte, membership, roomID, eventID, origin, self string, keys signing.KeyLookup, selfTargeted bool) (*pdu.Event, error) {
	ev, err := parseEvent(v, body)
	if err != nil {
		return nil, err
	}
	switch {
	case ev.Type != pdu.TypeMember:
		return nil, invalidParam(ErrBadEvent, nil, "event type is %q, not %s", ev.Type, pdu.TypeMember)
	case ev.StateKey == nil:
		return nil, invalidParam(ErrBadEvent, nil, "event has no state_key")
	case ev.Membership != membership:
		return nil, invalidParam(ErrBadEvent, nil, "content.membership is %q, not %s", ev.Membership, membership)
	case selfTargeted && *ev.StateKey != ev.Sender:
		return nil, invalidParam(ErrBadEvent, nil, "state_key %q is not the sender %q", *ev.StateKey, ev.Sender)
	case roomID != "" && ev.RoomID != roomID:
		return nil, invalidParam(ErrBadEvent, nil, "room_id %q does not match the request's room %q", ev.RoomID, roomID)
	case eventID != "" && ev.EventID != eventID:
		return nil, invalidParam(ErrBadEvent, nil, "event ID %q does not match the request's event ID %q", ev.EventID, eventID)
	}
	senderServer, ok := signing.ServerName(ev.Sender)
	if !ok || !authrules.ValidUserID(ev.Sender) {
		return nil, invalidParam(ErrBadEvent, nil, "sender %q is not a user ID", ev.Sender)
	}
	if origin != "" && senderServer != origin {
		return nil, invalidParam(ErrBadEvent, nil, "sender %q is not a user of the requesting server %s", ev.Sender, origin)
	}
	// The servers that must have signed already: the sender's and, in room versions 1-2,
	// the event ID's domain if it differs (server-server-api "Validating hashes and signatures
	// on received events"). That domain may not be self's: the joining server mints the ID,
	// in its own domain, and self signs only after checking (as SignInvite refuses an invite
	// whose ID is in the invited server's domain, for want of that server's signature). The
	// other server a v8+ restricted join needs, the authoriser's, must be self (SendJoin
	// checks it), which signs last.
	servers := []string{senderServer}
	if v.Signing.EventIDDomainSigns {
		domain, ok := signing.ServerName(ev.EventID)
		switch {
		case !ok:
			return nil, invalidParam(ErrBadEvent, nil, "event ID %q has no domain", ev.EventID)
		case domain == self && domain != senderServer:
			return nil, invalidParam(ErrBadEvent, nil, "event ID %q is in the domain of %s, which did not make the event", ev.EventID, self)
		case domain != senderServer:
			servers = append(servers, domain)
		}
	}
	for _, server := range servers {
		if err := signing.VerifyEventSignature(ev, server, keys); err != nil {
			return nil, invalidParam(ErrBadSignature, err, "signature of %s: %v", server, err)
		}
	}
	if err := signing.CheckContentHash(v, body); err != nil {
		return nil, invalidParam(ErrBadSignature, err, "content hash: %v", err)
	}
	return ev, nil
}

// parseEvent parses an event received in a handshake, mapping format errors to 400s.
func parseEvent(v roomversion.Version, body []byte) (*pdu.Event, error) {
	ev, err := signing.ParseEvent(v, body)
	if err == nil {
		return ev, nil
	}
	if canonicaljson.Valid(body, canonicaljson.Options{}) != nil {
		return nil, newError(400, ErrCodeNotJSON, ErrBadEvent, err, "event is not JSON: %v", err)
	}
	return nil, newError(400, ErrCodeBadJSON, ErrBadEvent, err, "event is not a valid room version %s event: %v", v.ID, err)
}

// countersign adds serverName's signature to a verified event, leaving its hashes and
// everything else as they are (signing.CountersignEvent), and parses the result.
func countersign(v roomversion.Version, body []byte, serverName string, key signing.SigningKey) ([]byte, *pdu.Event, error) {
	signed, err := signing.CountersignEvent(v, body, serverName, key)
	if err != nil {
		return nil, nil, newError(500, ErrCodeUnknown, ErrBadInput, err, "signing the event: %v", err)
	}
	parsed, err := signing.ParseEvent(v, signed)
	if err != nil {
		return nil, nil, newError(500, ErrCodeUnknown, ErrBadInput, err, "parsing the signed event: %v", err)
	}
	return signed, parsed, nil
}

// authorise runs the authorization rules on ev against the current state and, when given,
// its own auth events.
func authorise(s *authrules.State, ev *pdu.Event, authEvents []*pdu.Event, keys signing.KeyLookup) error {
	if err := s.Check(ev, keys); err != nil {
		return authError(err, "against the current state")
	}
	if authEvents != nil {
		// From room version 12 the create event is not among the auth events: pass the state's.
		opts := authrules.Options{Keys: keys, Create: s.Create()}
		if err := authrules.CheckWithOptions(s.Version(), ev, authEvents, opts); err != nil {
			return authError(err, "against its auth events")
		}
	}
	return nil
}

func authError(err error, where string) error {
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return newError(403, ErrCodeForbidden, ErrAuthRules, err, "the event fails the authorization rules %s: rule %s: %s", where, rej.Rule, rej.Reason)
	}
	return newError(403, ErrCodeForbidden, ErrAuthRules, err, "the event fails the authorization rules %s: %v", where, err)
}

// ownKey is a KeyLookup that also knows one signing key of its own server.
type ownKey struct {
	keys   signing.KeyLookup
	server string
	key    signing.SigningKey
}

// PublicKey implements signing.KeyLookup.
func (o ownKey) PublicKey(server, keyID string) (signing.PublicKey, bool) {
	if server == o.server && keyID == o.key.KeyID() && o.key.Private != nil {
		return signing.PublicKey{Key: o.key.Public()}, true
	}
	if o.keys == nil {
		return signing.PublicKey{}, false
	}
	return o.keys.PublicKey(server, keyID)
}

// CheckSendJoinResponse checks, as the joining server, the `event` field of a /send_join
// response (spec: joins-v2.yaml; server-server-api "Joining Rooms": "The joining server
// receives ... the freshly signed membership event"): returned must be the event sent — the
// same JSON once `signatures` and `unsigned` are set aside — keep every signature of sent,
// carry a valid signature of residentServer, and pass [signing.VerifyEvent] (every server the
// room version requires, including the authorising user's server for a restricted join, and
// the content hash). It returns the parsed event, which does not share memory with returned
// (docs/decisions.md (membership) 24). Failures are [*Error] values with reason
// ErrResponseMismatch or ErrBadSignature and status 502.
func CheckSendJoinResponse(v roomversion.Version, sent, returned []byte, residentServer string, keys signing.KeyLookup) (*pdu.Event, error) {
	bad := func(reason, cause error, format string, args ...any) error {
		return newError(502, ErrCodeUnknown, reason, cause, format, args...)
	}
	ev, err := signing.ParseEvent(v, bytes.Clone(returned)) // returned, so not sharing the caller's memory
	if err != nil {
		return nil, bad(ErrResponseMismatch, err, "send_join response event: %v", err)
	}
	orig, err := signing.ParseEvent(v, sent)
	if err != nil {
		return nil, newError(400, ErrCodeBadJSON, ErrBadInput, err, "the event sent: %v", err)
	}
	a, err := withoutSignatures(v, sent)
	if err != nil {
		return nil, newError(400, ErrCodeBadJSON, ErrBadInput, err, "the event sent: %v", err)
	}
	b, err := withoutSignatures(v, returned)
	if err != nil {
		return nil, bad(ErrResponseMismatch, err, "send_join response event: %v", err)
	}
	if !bytes.Equal(a, b) {
		if ev.EventID == orig.EventID {
			// From v3 the event ID covers only the redacted form; in v1-2 it is the event's
			// own event_id: either way the ID does not show the change.
			return nil, bad(ErrResponseMismatch, nil, "send_join returned a changed copy of event %s (same event ID): not the event that was sent", ev.EventID)
		}
		return nil, bad(ErrResponseMismatch, nil, "send_join returned event %s, not the event %s that was sent", ev.EventID, orig.EventID)
	}
	for _, sig := range orig.Signatures {
		if got, ok := ev.Signatures.Get(sig.Server, sig.KeyID); !ok || got != sig.Value {
			return nil, bad(ErrResponseMismatch, nil, "send_join response dropped or changed the signature %s of %s", sig.KeyID, sig.Server)
		}
	}
	if residentServer != "" {
		if err := signing.VerifyEventSignature(ev, residentServer, keys); err != nil {
			return nil, bad(ErrBadSignature, err, "signature of the resident server %s: %v", residentServer, err)
		}
	}
	if err := signing.VerifyParsedEvent(ev, keys); err != nil {
		return nil, bad(ErrBadSignature, err, "send_join response event: %v", err)
	}
	return ev, nil
}

// withoutSignatures returns the canonical JSON of an event without `signatures` and
// `unsigned`.
func withoutSignatures(v roomversion.Version, event []byte) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	err := canonicaljson.EachMember(event, func(k string, value []byte) error {
		if k != "signatures" && k != "unsigned" {
			fields[k] = value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	return canonicaljson.Append(nil, b, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
}

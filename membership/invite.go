package membership

import (
	"encoding/json"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// InviteRequest is what the invited user's server has when a PUT /invite (v2) request arrives
// (spec: invites-v2.yaml, server-server-api "Inviting to a room").
type InviteRequest struct {
	// RoomVersion is the request's room_version.
	RoomVersion roomversion.Version
	// RoomID and EventID are the path parameters; empty skips the comparison.
	RoomID, EventID string
	// Origin is the inviting server, as authenticated by the request's signature; empty
	// skips the check that the sender is one of its users.
	Origin string
	// Event is the request's `event`.
	Event []byte
	// InviteRoomState is the request's `invite_room_state`.
	InviteRoomState []json.RawMessage
	// LocalServer is the name of the server answering: the invited user must be one of its
	// users, and it signs the invite.
	LocalServer string
	// Key is LocalServer's signing key.
	Key signing.SigningKey
	// Keys supplies the public keys of the inviting server and of the servers that signed
	// the invite_room_state events.
	Keys signing.KeyLookup
	// RoomState says what to do with invalid invite_room_state.
	RoomState StrippedStatePolicy
}

// InviteResult is a successfully signed invite.
type InviteResult struct {
	// Event is the invite with the invited server's signature added: the `event` of the
	// response (invites-v2.yaml: "The event with the invited server's signature added. All
	// other fields of the events should remain untouched").
	Event []byte
	// Parsed is Event parsed, with its EventID.
	Parsed *pdu.Event
	// RoomState are the invite_room_state entries that passed [CheckStrippedState].
	RoomState []*pdu.Event
	// Warnings are the invite_room_state problems tolerated under the policy (room versions
	// 1-11 by default: "servers SHOULD warn about invites which fail the validation rather
	// than error").
	Warnings []error
}

// JSON returns the response body {"event":...} (invites-v2.yaml).
func (r InviteResult) JSON() []byte {
	b := append([]byte(nil), `{"event":`...)
	b = append(b, r.Event...)
	return append(b, '}')
}

// SignInvite validates an invite for one of the server's users and adds the server's
// signature ([signing.CountersignEvent]: "All other fields of the events should remain
// untouched"), as invites-v2.yaml requires ("Servers MUST apply certain validation to ensure
// they don't accidentally sign non-invite events from a malicious server"; 400
// M_INVALID_PARAM if):
//
//   - the event fails a signature check ([signing.VerifyParsedEvent]: the sender's server, or
//     any server for a third-party invite, and the content hash);
//   - its type is not m.room.member or its membership is not invite;
//   - its sender is not a user of Origin;
//   - its state_key is not a user of LocalServer;
//
// and checks RoomID and EventID against the event. invite_room_state is checked with
// [CheckStrippedState] under req.RoomState: by default its problems refuse the invite in room
// versions after 11 and are returned as warnings before. The server's own policy (whether
// it accepts invites for this user at all: 403 M_FORBIDDEN) is the caller's.
func SignInvite(req InviteRequest) (InviteResult, error) {
	v := req.RoomVersion
	if v.ID == "" {
		return InviteResult{}, invalidParam(ErrBadInput, nil, "no room version given")
	}
	ev, err := parseEvent(v, req.Event)
	if err != nil {
		return InviteResult{}, err
	}
	switch {
	case ev.Type != pdu.TypeMember:
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "event type is %q, not %s", ev.Type, pdu.TypeMember)
	case ev.StateKey == nil:
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "event has no state_key")
	case ev.Membership != pdu.MembershipInvite:
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "content.membership is %q, not invite", ev.Membership)
	case req.RoomID != "" && ev.RoomID != req.RoomID:
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "room_id %q does not match the request's room %q", ev.RoomID, req.RoomID)
	case req.EventID != "" && ev.EventID != req.EventID:
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "event ID %q does not match the request's event ID %q", ev.EventID, req.EventID)
	}
	if !authrules.ValidUserID(ev.Sender) {
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "sender %q is not a user ID", ev.Sender)
	}
	if srv, _ := signing.ServerName(ev.Sender); req.Origin != "" && srv != req.Origin {
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "sender %q is not a user of the inviting server %s", ev.Sender, req.Origin)
	}
	target := *ev.StateKey
	if srv, _ := signing.ServerName(target); !authrules.ValidUserID(target) || srv != req.LocalServer {
		return InviteResult{}, invalidParam(ErrBadEvent, nil, "state_key %q is not a user of %s", target, req.LocalServer)
	}
	if err := signing.VerifyParsedEvent(ev, req.Keys); err != nil {
		return InviteResult{}, invalidParam(ErrBadSignature, err, "invite: %v", err)
	}

	var res InviteResult
	if req.RoomState != StrippedStateSkip {
		valid, problems := CheckStrippedState(v, ev.RoomID, req.InviteRoomState, req.Keys)
		res.RoomState = valid
		strict := req.RoomState == StrippedStateError || (req.RoomState == StrippedStateDefault && strictStrippedState(v))
		if strict && len(problems) > 0 {
			return InviteResult{}, firstError(problems)
		}
		res.Warnings = problems
	}
	signed, parsed, err := countersign(v, req.Event, req.LocalServer, req.Key)
	if err != nil {
		return InviteResult{}, err
	}
	res.Event, res.Parsed = signed, parsed
	return res, nil
}

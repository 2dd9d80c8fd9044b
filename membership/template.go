package membership

import (
	"encoding/json"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// TemplateOptions are the fields of a make_join, make_knock or make_leave template the resident
// server chooses (spec: joins-v1.yaml, knocks.yaml, leaving-v1.yaml "Event Template").
type TemplateOptions struct {
	// Origin is the resident server's name, put in the template's `origin`.
	Origin string
	// OriginServerTS is the resident's timestamp, in milliseconds.
	OriginServerTS int64
	// PrevEvents are the IDs of the room's current forward extremities: 1 to 20 IDs.
	PrevEvents []string
	// Depth is the depth of the new event: one more than the largest depth of PrevEvents.
	Depth int64
}

// Template is the body of a make_join, make_knock or make_leave response: `{"room_version": ...,
// "event": ...}` (spec: joins-v1.yaml, knocks.yaml, leaving-v1.yaml).
type Template struct {
	// RoomVersion is the room's version identifier.
	RoomVersion string
	// Event is the unsigned template event, canonical JSON.
	Event []byte
}

// JSON returns the response body {"event":...,"room_version":...} as canonical JSON.
func (t Template) JSON() []byte {
	b := make([]byte, 0, len(t.Event)+40)
	b = append(b, `{"event":`...)
	b = append(b, t.Event...)
	b = append(b, `,"room_version":`...)
	b = canonicaljson.AppendString(b, t.RoomVersion)
	return append(b, '}')
}

// MakeJoin answers /make_join as a resident server: it decides the request ([DecideJoin]) and
// builds the template: an `m.room.member` event with `membership` join, sender and state key
// the joining user, `join_authorised_via_users_server` set to the chosen authoriser when the
// join goes through an allow condition, the auth events the auth events selection picks from
// the current state (spec: server-server-api "Auth events selection", which includes the
// authoriser's membership), and opts. A refusal is the [*Error] to send.
func MakeJoin(req JoinRequest, opts TemplateOptions) (JoinDecision, Template, error) {
	d, err := DecideJoin(req)
	if err != nil {
		return d, Template{}, err
	}
	content := map[string]string{"membership": pdu.MembershipJoin}
	if d.AuthorisingUser != "" {
		content[signing.ContentJoinAuthorisedViaUsersServer] = d.AuthorisingUser
	}
	t, err := buildTemplate(req.State, req.UserID, content, opts)
	return d, t, err
}

// MakeKnock answers /make_knock as a resident server: it decides the request ([DecideKnock])
// and builds the template, an `m.room.member` event with `membership` knock (spec: knocks.yaml).
// It does not see the request's origin or `ver`: call [CheckMakeRequest] first.
func MakeKnock(s *authrules.State, userID string, opts TemplateOptions) (Template, error) {
	if err := DecideKnock(s, userID); err != nil {
		return Template{}, err
	}
	return buildTemplate(s, userID, map[string]string{"membership": pdu.MembershipKnock}, opts)
}

func buildTemplate(s *authrules.State, userID string, content map[string]string, opts TemplateOptions) (Template, error) {
	v := s.Version()
	if len(opts.PrevEvents) == 0 || len(opts.PrevEvents) > pdu.MaxPrevEvents {
		return Template{}, invalidParam(ErrBadInput, nil, "a template needs 1 to %d prev_events, got %d", pdu.MaxPrevEvents, len(opts.PrevEvents))
	}
	if opts.Depth < 0 || opts.Depth > v.Format.MaxDepth {
		return Template{}, invalidParam(ErrBadInput, nil, "depth %d outside [0, %d]", opts.Depth, v.Format.MaxDepth)
	}
	roomID, err := roomIDOf(s)
	if err != nil {
		return Template{}, err
	}
	contentJSON, err := json.Marshal(content)
	if err != nil {
		return Template{}, invalidParam(ErrBadInput, err, "template content: %v", err)
	}
	uid := userID
	probe := &pdu.Event{
		Version: v, RoomID: roomID, Sender: userID, Type: pdu.TypeMember, StateKey: &uid,
		Content: contentJSON, Membership: content["membership"],
	}
	authEvents, err := s.AuthEvents(probe)
	if err != nil {
		return Template{}, invalidParam(ErrBadInput, err, "selecting auth events: %v", err)
	}
	authIDs := make([]string, 0, len(authEvents))
	for _, e := range authEvents {
		authIDs = append(authIDs, e.EventID)
	}
	fields := map[string]any{
		"type":             pdu.TypeMember,
		"room_id":          roomID,
		"sender":           userID,
		"state_key":        userID,
		"origin":           opts.Origin,
		"origin_server_ts": opts.OriginServerTS,
		"depth":            opts.Depth,
		"content":          json.RawMessage(contentJSON),
		"auth_events":      references(v, authIDs),
		"prev_events":      references(v, opts.PrevEvents),
	}
	ev, err := encodeObject(v, fields)
	if err != nil {
		return Template{}, invalidParam(ErrBadInput, err, "encoding the template: %v", err)
	}
	return Template{RoomVersion: v.ID, Event: ev}, nil
}

// references formats event IDs for auth_events / prev_events: plain IDs from room version 3,
// [event_id, {}] pairs before (pdu_v1.yaml; the hashes object of a pair is not checked by
// any rule, and the resident does not vouch for it).
func references(v roomversion.Version, ids []string) any {
	if !v.Format.ReferencePairs {
		return ids
	}
	pairs := make([][2]any, len(ids))
	for i, id := range ids {
		pairs[i] = [2]any{id, struct{}{}}
	}
	return pairs
}

// encodeObject encodes fields as canonical JSON of room version v.
func encodeObject(v roomversion.Version, fields map[string]any) ([]byte, error) {
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	return canonicaljson.Append(nil, b, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
}

// roomIDOf returns the room's ID: the create event's room_id, or from room version 12 the
// create event's ID with the sigil '!' (appendices "Room IDs"; rooms/v12.md), as pdu.Event.Room
// reads it.
func roomIDOf(s *authrules.State) (string, error) {
	c := s.Create()
	if c == nil {
		return "", invalidParam(ErrBadInput, nil, "the room state has no m.room.create event")
	}
	if id := c.Room(); id != "" {
		return id, nil
	}
	return "", invalidParam(ErrBadInput, nil, "cannot tell the room ID from the m.room.create event")
}

// templateFields are the fields of a template event the joining server must check.
type templateFields struct {
	roomID, sender, stateKey, typ, membership string
	hasStateKey                               bool
}

func readTemplate(template []byte) (templateFields, error) {
	var f templateFields
	var content []byte
	err := canonicaljson.EachMember(template, func(key string, value []byte) error {
		switch key {
		case "room_id":
			f.roomID, _ = stringValue(value)
		case "sender":
			f.sender, _ = stringValue(value)
		case "state_key":
			f.stateKey, f.hasStateKey = stringValue(value)
		case "type":
			f.typ, _ = stringValue(value)
		case "content":
			content = value
		}
		return nil
	})
	if err != nil {
		return f, err
	}
	if canonicaljson.KindOf(content) == canonicaljson.Object {
		_ = canonicaljson.EachMember(content, func(key string, value []byte) error {
			if key == "membership" {
				f.membership, _ = stringValue(value)
			}
			return nil
		})
	}
	return f, nil
}

// CheckJoinTemplate makes the checks a joining server MUST make on the template of a
// /make_join response before signing it (spec: joins-v1.yaml): `room_id` is roomID, `sender`
// and `state_key` are userID, `type` is m.room.member and `content.membership` is join. A
// failure is an [*Error] with reason ErrBadTemplate (status 502: the resident answered
// wrongly); the spec says to discard the response, and the caller MAY try another server.
func CheckJoinTemplate(roomID, userID string, template []byte) error {
	return checkTemplate(roomID, userID, pdu.MembershipJoin, template)
}

// CheckKnockTemplate is [CheckJoinTemplate] for /make_knock, with membership knock (spec:
// knocks.yaml).
func CheckKnockTemplate(roomID, userID string, template []byte) error {
	return checkTemplate(roomID, userID, pdu.MembershipKnock, template)
}

// CheckLeaveTemplate is [CheckJoinTemplate] for /make_leave, with membership leave: the checks
// the leaving server MUST make before signing the template and calling /send_leave (spec:
// server-server-api "Leaving Rooms (Rejecting Invites)", leaving-v1.yaml: `room_id` is roomID,
// `sender` and `state_key` are userID, `type` is m.room.member, `content.membership` is leave;
// otherwise "the response MUST be treated as malformed and discarded. The caller MAY try to leave
// through another server"): 502 M_UNKNOWN, reason ErrBadTemplate, [Error.TryAnotherServer] true.
func CheckLeaveTemplate(roomID, userID string, template []byte) error {
	return checkTemplate(roomID, userID, pdu.MembershipLeave, template)
}

func checkTemplate(roomID, userID, membership string, template []byte) error {
	f, err := readTemplate(template)
	bad := func(format string, args ...any) error {
		return newError(502, ErrCodeUnknown, ErrBadTemplate, err, "make_%s template: "+format, append([]any{membership}, args...)...)
	}
	switch {
	case err != nil:
		return bad("not a JSON object: %v", err)
	case f.roomID != roomID:
		return bad("room_id %q, want %q", f.roomID, roomID)
	case f.sender != userID:
		return bad("sender %q, want %q", f.sender, userID)
	case !f.hasStateKey || f.stateKey != userID:
		return bad("state_key %q, want %q", f.stateKey, userID)
	case f.typ != pdu.TypeMember:
		return bad("type %q, want %q", f.typ, pdu.TypeMember)
	case f.membership != membership:
		return bad("content.membership %q, want %q", f.membership, membership)
	}
	return nil
}

// SignTemplate completes a checked make_join, make_knock or make_leave template as the joining
// (knocking, leaving) server (spec: server-server-api "Joining Rooms": "The joining server is
// expected to add or replace the origin, origin_server_ts, and event_id ... This event is then
// signed by the joining server"; "Leaving Rooms (Rejecting Invites)": "the leaving server signs
// the event and replaces the event_id with its own"): it sets `origin` and `origin_server_ts`,
// for room versions 1 and 2 sets `event_id` to eventID (ignored from version 3, where the ID is
// the reference hash), drops any `hashes`, `signatures` and `unsigned` the template carried, and
// hashes and signs the event with key as serverName. It reads no membership: check the template
// first ([CheckJoinTemplate], [CheckKnockTemplate], [CheckLeaveTemplate]). The result is the
// event to PUT to /send_join, /send_knock or /send_leave.
func SignTemplate(v roomversion.Version, template []byte, origin string, ts int64, eventID string, serverName string, key signing.SigningKey) ([]byte, error) {
	fields := map[string]json.RawMessage{}
	err := canonicaljson.EachMember(template, func(k string, value []byte) error {
		fields[k] = json.RawMessage(value)
		return nil
	})
	if err != nil {
		return nil, newError(502, ErrCodeUnknown, ErrBadTemplate, err, "template is not a JSON object: %v", err)
	}
	delete(fields, "hashes")
	delete(fields, "signatures")
	delete(fields, "unsigned")
	delete(fields, "event_id")
	set := func(k string, val any) {
		b, _ := json.Marshal(val) // strings and int64 always encode
		fields[k] = b
	}
	set("origin", origin)
	set("origin_server_ts", ts)
	if v.Format.HasEventIDField {
		set("event_id", eventID)
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, newError(502, ErrCodeUnknown, ErrBadTemplate, err, "template: %v", err)
	}
	signed, err := signing.SignEvent(v, b, serverName, key)
	if err != nil {
		return nil, newError(500, ErrCodeUnknown, ErrBadInput, err, "signing the template: %v", err)
	}
	return signed, nil
}

package membership

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// Limits of [ParseJoinRequest] against hostile input.
const (
	// MaxStateEvents is the largest number of state events a join request may hold.
	MaxStateEvents = 100000
	// MaxKnownRooms is the largest number of rooms in a join request's `rooms`.
	MaxKnownRooms = 10000
	// MaxKnownMembers is the largest total number of memberships in a join request's `rooms`,
	// counted as written: a user ID given twice in one room (the last one counts) or a room given
	// twice counts each time, so that the limit bounds the work of reading the input.
	MaxKnownMembers = 1000000
	// MaxVer is the largest number of entries in a join request's `ver` (there are a dozen
	// room versions).
	MaxVer = 1000
)

// ParseJoinRequest parses the JSON form of a join request, the input of the
// `roomproto join-decision` command:
//
//	{"room_version": "9", "state": [current state events], "user_id": "@joiner:remote.example",
//	 "resident_server": "resident.example",
//	 "rooms": {"!other:example.org": {"@joiner:remote.example": "join"}}}
//
// Two optional members describe the /make_join request itself: "origin", the requesting
// server ([JoinRequest.Origin]), and "ver", its `ver` list of room version strings
// ([JoinRequest.Ver]); absent, they are not checked, and a present "origin" must not be empty
// (400 M_BAD_JSON; docs/decisions.md (membership) 16).
// The state events are parsed for the room version with their event IDs
// ([signing.ParseEvent]) and must form a valid state ([authrules.NewState]: one event per
// type and state key). `rooms` (optional) maps each room the resident server participates in
// to the memberships it knows ([KnownRooms]); a room absent from it is one the server cannot
// verify. Keys are matched exactly; a key given twice counts once, the last time. An optional
// member is absent or of its type: `null` is refused, as is a room of `rooms` mapped to `null`.
// The state must hold the room's m.room.create (nothing can be decided without it), and
// `resident_server` must be a server name (appendices "Server Name"). Errors are [*Error] values
// with reason ErrBadInput: 400 M_NOT_JSON for text that is not JSON, M_INVALID_PARAM for a
// `user_id` that is not a user ID or a `resident_server` that is not a server name (as
// [DecideJoin] answers them), M_BAD_JSON for anything else (a missing member, a wrong type, a
// limit), wrapping roomversion.ErrUnknownVersion for an unknown version.
func ParseJoinRequest(data []byte) (JoinRequest, error) {
	var (
		version, user, resident, state, rooms, origin, ver []byte
	)
	err := canonicaljson.EachMember(data, func(key string, value []byte) error {
		switch key {
		case "room_version":
			version = value
		case "state":
			state = value
		case "user_id":
			user = value
		case "resident_server":
			resident = value
		case "rooms":
			rooms = value
		case "origin":
			origin = value
		case "ver":
			ver = value
		}
		return nil
	})
	if err != nil {
		code := ErrCodeBadJSON
		if verr := canonicaljson.Valid(data, canonicaljson.Options{MaxDepth: canonicaljson.HardMaxDepth}); errors.Is(verr, canonicaljson.ErrSyntax) {
			code = ErrCodeNotJSON // not JSON at all, rather than JSON of the wrong shape or beyond a limit
		}
		return JoinRequest{}, newError(400, code, ErrBadInput, err, "join request must be a JSON object: %v", err)
	}
	var req JoinRequest
	vid, err := requiredString("room_version", version)
	if err != nil {
		return JoinRequest{}, err
	}
	v, err := roomversion.Lookup(vid)
	if err != nil {
		return JoinRequest{}, newError(400, ErrCodeBadJSON, ErrBadInput, err, "room_version: %v", err)
	}
	if req.UserID, err = requiredString("user_id", user); err != nil {
		return JoinRequest{}, err
	}
	if !authrules.ValidUserID(req.UserID) {
		// As DecideJoin answers an invalid user ID: the value is JSON of the right type.
		return JoinRequest{}, newError(400, ErrCodeInvalidParam, ErrBadInput, nil, "user_id %q is not a user ID", req.UserID)
	}
	if req.ResidentServer, err = requiredString("resident_server", resident); err != nil {
		return JoinRequest{}, err
	}
	if !pdu.ValidServerName(req.ResidentServer) {
		return JoinRequest{}, newError(400, ErrCodeInvalidParam, ErrBadInput, nil, "resident_server %q is not a server name", req.ResidentServer)
	}
	if req.State, err = parseState(v, state); err != nil {
		return JoinRequest{}, err
	}
	known, err := parseRooms(rooms)
	if err != nil {
		return JoinRequest{}, err
	}
	req.Rooms = known
	if origin != nil {
		if req.Origin, err = requiredString("origin", origin); err != nil {
			return JoinRequest{}, err
		}
		if req.Origin == "" {
			return JoinRequest{}, badInput(nil, "origin is empty")
		}
	}
	if ver != nil {
		if req.Ver, err = parseVer(ver); err != nil {
			return JoinRequest{}, err
		}
	}
	return req, nil
}

// parseVer reads the `ver` member of a join request: an array of strings.
func parseVer(raw []byte) ([]string, error) {
	if canonicaljson.KindOf(raw) != canonicaljson.Array {
		return nil, badInput(nil, "ver must be an array of room version strings")
	}
	ver := []string{}
	err := canonicaljson.EachElement(raw, func(item []byte) error {
		if len(ver) == MaxVer {
			return fmt.Errorf("more than %d entries", MaxVer)
		}
		if canonicaljson.KindOf(item) != canonicaljson.String {
			return errors.New("an entry is not a string")
		}
		s, err := canonicaljson.Unquote(item)
		if err != nil {
			return err
		}
		ver = append(ver, s)
		return nil
	})
	if err != nil {
		return nil, badInput(err, "ver: %v", err)
	}
	return ver, nil
}

func badInput(cause error, format string, args ...any) *Error {
	return newError(400, ErrCodeBadJSON, ErrBadInput, cause, format, args...)
}

func requiredString(field string, raw []byte) (string, error) {
	if raw == nil {
		return "", newError(400, ErrCodeBadJSON, ErrBadInput, nil, "%s is missing", field)
	}
	s, ok := stringValue(raw)
	if !ok {
		return "", badInput(nil, "%s must be a string", field)
	}
	return s, nil
}

func parseState(v roomversion.Version, raw []byte) (*authrules.State, error) {
	if raw == nil {
		return nil, badInput(nil, "state is missing")
	}
	if canonicaljson.KindOf(raw) != canonicaljson.Array {
		return nil, badInput(nil, "state must be an array of events")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, badInput(err, "state: %v", err)
	}
	if len(items) > MaxStateEvents {
		return nil, badInput(nil, "state holds %d events, limit %d", len(items), MaxStateEvents)
	}
	events := make([]*pdu.Event, 0, len(items))
	for i, item := range items {
		ev, err := signing.ParseEvent(v, item)
		if err != nil {
			return nil, badInput(err, "state[%d]: %v", i, err)
		}
		if !ev.IsState() {
			return nil, badInput(nil, "state[%d] (%s) is not a state event", i, ev.Type)
		}
		events = append(events, ev)
	}
	s, err := authrules.NewState(v, events)
	if err != nil {
		return nil, badInput(err, "state: %v", err)
	}
	if s.Create() == nil {
		return nil, badInput(nil, "state has no m.room.create event")
	}
	return s, nil
}

func parseRooms(raw []byte) (KnownRooms, error) {
	known := KnownRooms{}
	if raw == nil {
		return known, nil
	}
	if canonicaljson.KindOf(raw) != canonicaljson.Object {
		return nil, badInput(nil, "rooms must be an object {room ID: {user ID: membership}}")
	}
	total := 0
	err := canonicaljson.EachMember(raw, func(room string, members []byte) error {
		if canonicaljson.KindOf(members) != canonicaljson.Object {
			return badInput(nil, "rooms[%s] must be an object {user ID: membership}", strconv.Quote(room))
		}
		m := map[string]string{}
		err := canonicaljson.EachMember(members, func(user string, membership []byte) error {
			s, ok := stringValue(membership)
			if !ok {
				return badInput(nil, "rooms[%s][%s] must be a membership string", strconv.Quote(room), strconv.Quote(user))
			}
			if total++; total > MaxKnownMembers {
				return badInput(nil, "rooms holds more than %d memberships", MaxKnownMembers)
			}
			m[user] = s
			return nil
		})
		if err != nil {
			return err
		}
		known[room] = m
		if len(known) > MaxKnownRooms {
			return badInput(nil, "rooms holds more than %d rooms", MaxKnownRooms)
		}
		return nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, badInput(err, "rooms: %v", err)
	}
	return known, nil
}

// DecisionJSON returns the JSON form of the answer to a join request, the output of the
// `roomproto join-decision` command, as canonical JSON:
//
//	{"authorising_user":"@mod:resident.example","decision":"allow"}
//	{"decision":"allow"}
//	{"decision":"reject","errcode":"M_FORBIDDEN","error":"...","status":403}
//
// err must be nil or an [*Error] as returned by [DecideJoin]; any other error, a nil *Error
// included, is reported as a 500 M_UNKNOWN rejection. With err nil, `authorising_user` is
// written when d.AuthorisingUser is set, whatever d.Basis ([DecideJoin] sets it only for
// [BasisCondition]).
func DecisionJSON(d JoinDecision, err error) []byte {
	if err == nil {
		if d.AuthorisingUser == "" {
			return []byte(`{"decision":"allow"}`)
		}
		b := append([]byte(nil), `{"authorising_user":`...)
		b = canonicaljson.AppendString(b, d.AuthorisingUser)
		return append(b, `,"decision":"allow"}`...)
	}
	var e *Error
	switch {
	case !errors.As(err, &e):
		e = &Error{Status: 500, ErrCode: ErrCodeUnknown, Message: err.Error()}
	case e == nil: // a nil *Error, maybe wrapped: a caller's slip, not a verdict
		e = orNilError(nil)
	}
	b := append([]byte(nil), `{"decision":"reject","errcode":`...)
	b = canonicaljson.AppendString(b, e.ErrCode)
	b = append(b, `,"error":`...)
	b = canonicaljson.AppendString(b, e.Message)
	if e.RoomVersion != "" {
		b = append(b, `,"room_version":`...)
		b = canonicaljson.AppendString(b, e.RoomVersion)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	return append(b, '}')
}

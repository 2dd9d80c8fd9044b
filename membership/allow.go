package membership

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
)

// Join rule values of `m.room.join_rules` (spec: client-server-api "Room membership").
const (
	JoinRulePublic          = "public"
	JoinRuleInvite          = "invite"
	JoinRuleKnock           = "knock"
	JoinRuleRestricted      = "restricted"
	JoinRuleKnockRestricted = "knock_restricted"
)

// ConditionRoomMembership is the only allow condition type the spec defines: the user must be
// joined to the condition's room_id (spec: client-server-api "Restricted rooms" ›
// "Conditions").
const ConditionRoomMembership = "m.room_membership"

// MaxAllowConditions was the number of `allow` entries [ParseAllowConditions] read.
//
// Deprecated: every entry is read now (docs/decisions.md (membership) 6); nothing uses it.
const MaxAllowConditions = 1024

// joinRuleKind is what a join rule means for joins in a room version, following auth rule
// 4.3 of the version's rules (v8-auth-rules.md, rooms/v10.md).
type joinRuleKind int

const (
	ruleUnknown    joinRuleKind = iota // "Otherwise, reject" (rule 4.3.7)
	rulePublic                         // rule 4.3.6
	ruleInvite                         // invite, and knock from v7 (rule 4.3.4)
	ruleRestricted                     // restricted from v8, knock_restricted from v10 (4.3.5)
)

// classifyJoinRule says which auth rule governs joins under rule in room version v. A join
// rule the version does not define (restricted before v8, knock_restricted before v10, knock
// before v7, "private", a missing join rules event) is ruleUnknown.
func classifyJoinRule(v roomversion.Version, rule string) joinRuleKind {
	switch rule {
	case JoinRulePublic:
		return rulePublic
	case JoinRuleInvite:
		return ruleInvite
	case JoinRuleKnock:
		if v.Auth.Knocking {
			return ruleInvite
		}
	case JoinRuleRestricted:
		if v.Auth.RestrictedJoinRule {
			return ruleRestricted
		}
	case JoinRuleKnockRestricted:
		if v.Auth.KnockRestrictedJoinRule {
			return ruleRestricted
		}
	}
	return ruleUnknown
}

// KnockAllowedByJoinRule reports whether join rule rule allows knocking in room version v:
// `knock` from version 7, `knock_restricted` from version 10 (spec: rooms/v7.md rule 4.6.1,
// rooms/v10.md rule 4.7.1).
func KnockAllowedByJoinRule(v roomversion.Version, rule string) bool {
	switch rule {
	case JoinRuleKnock:
		return v.Auth.Knocking
	case JoinRuleKnockRestricted:
		return v.Auth.KnockRestrictedJoinRule
	}
	return false
}

// JoinRuleSupported reports whether room version v defines join rule rule for joins: public
// and invite always, knock from v7, restricted from v8, knock_restricted from v10 (spec:
// rooms/_index.md "Feature matrix"). Under any other rule nobody can join, invited or not:
// the auth rules end with "Otherwise, reject" (rule 4.3.7 of v8-auth-rules.md). It is false for
// a Version Lookup would not return (the zero Version).
func JoinRuleSupported(v roomversion.Version, rule string) bool {
	return v.Check() == nil && classifyJoinRule(v, rule) != ruleUnknown
}

// AllowCondition is one valid entry of `allow` in the content of `m.room.join_rules` (spec:
// data/event-schemas/schema/m.room.join_rules.yaml; client-server-api "Restricted rooms" ›
// "Conditions").
type AllowCondition struct {
	// Type is the condition type; always ConditionRoomMembership for a valid condition.
	Type string
	// RoomID is the room the user must be joined to.
	RoomID string
}

// ParseAllowConditions returns the valid allow conditions in the content of an
// `m.room.join_rules` event, in order. A condition is valid when it is a JSON object whose
// `type` is the string "m.room_membership" and whose `room_id` is a string that starts with
// "!", the room ID sigil (the schema's `pattern: "^!"`); every other entry
// is ignored, and a missing, null or non-list `allow` yields no conditions. No conditions make
// a restricted room effectively invite-only: "If no conditions are available, or none match
// the required schema, then the joining server is considered to have failed all conditions"
// (spec: server-server-api "Restricted rooms"; m.room.join_rules.yaml `allow`). When a key
// occurs twice the last occurrence counts, as in package pdu. Only content that is not a JSON
// object is an error. Every entry is read: the work is linear in the size of content, which
// the event size limit (65,536 bytes) bounds for a received event.
func ParseAllowConditions(content []byte) ([]AllowCondition, error) {
	var allow []byte
	err := canonicaljson.EachMember(content, func(key string, value []byte) error {
		if key == "allow" {
			allow = value // last occurrence wins
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("membership: join rules content: %w", err)
	}
	if canonicaljson.KindOf(allow) != canonicaljson.Array {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(allow, &items); err != nil {
		return nil, fmt.Errorf("membership: join rules content: allow: %w", err)
	}
	var out []AllowCondition
	for _, item := range items {
		c, ok := parseCondition(item)
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func parseCondition(item []byte) (AllowCondition, bool) {
	if canonicaljson.KindOf(item) != canonicaljson.Object {
		return AllowCondition{}, false
	}
	var (
		typ, room       string
		hasType, hasRID bool
	)
	err := canonicaljson.EachMember(item, func(key string, value []byte) error {
		switch key {
		case "type":
			typ, hasType = stringValue(value)
		case "room_id":
			room, hasRID = stringValue(value)
		}
		return nil
	})
	// The schema's `room_id` is `format: mx-room-id` with `pattern: "^!"`. The full grammar of
	// a room ID depends on the version of the room it names, which the resident may not know,
	// so the sigil is what is checked (docs/decisions.md, membership 6).
	if err != nil || !hasType || !hasRID || typ != ConditionRoomMembership || !strings.HasPrefix(room, "!") {
		return AllowCondition{}, false
	}
	return AllowCondition{Type: typ, RoomID: room}, true
}

// stringValue decodes a JSON string value; ok is false for any other kind.
func stringValue(raw []byte) (string, bool) {
	if canonicaljson.KindOf(raw) != canonicaljson.String {
		return "", false
	}
	s, err := canonicaljson.Unquote(raw)
	return s, err == nil
}

// RoomMemberships is what a resident server knows of the memberships of other rooms: it
// answers for the rooms it participates in, and says when it does not know a room. A
// homeserver implements it over its database; [KnownRooms] implements it over a map.
type RoomMemberships interface {
	// RoomMembership returns userID's current membership in roomID ("join", "leave", ...,
	// or "" when the user has none), and known=false when the server does not participate
	// in roomID and so cannot tell.
	RoomMembership(roomID, userID string) (membership string, known bool)
}

// KnownRooms is a [RoomMemberships] backed by a map: room ID → user ID → membership. A room
// absent from the map is one the server cannot verify; a user absent from a present room has
// no membership there. This is the `rooms` object of the `join-decision` command.
type KnownRooms map[string]map[string]string

// RoomMembership implements [RoomMemberships].
func (k KnownRooms) RoomMembership(roomID, userID string) (string, bool) {
	members, ok := k[roomID]
	if !ok {
		return "", false
	}
	return members[userID], true
}

// ConditionsResult is the outcome of evaluating allow conditions for one user.
type ConditionsResult struct {
	// Satisfied is the first condition the user satisfies, if Met.
	Satisfied AllowCondition
	// Met reports whether some condition is satisfied.
	Met bool
	// Unverifiable lists, in order and without repeats, the rooms of conditions the server
	// could not check because it does not know them. Empty when Met.
	Unverifiable []string
}

// EvaluateConditions checks the user against conditions in order (spec: client-server-api
// "Restricted rooms" › "Conditions"): an m.room_membership condition is satisfied when the
// user's membership in its room is "join". A room rooms does not know is unverifiable, unless
// knowsOwnUsers is set (the user belongs to the deciding server, which necessarily knows every
// room its own users have joined: a room it does not know is one the user is not in).
// Evaluation stops at the first satisfied condition.
func EvaluateConditions(conditions []AllowCondition, userID string, rooms RoomMemberships, knowsOwnUsers bool) ConditionsResult {
	var res ConditionsResult
	seen := map[string]bool{}
	for _, c := range conditions {
		if c.Type != ConditionRoomMembership {
			continue
		}
		var (
			m     string
			known bool
		)
		if rooms != nil {
			m, known = rooms.RoomMembership(c.RoomID, userID)
		}
		switch {
		case known && m == "join":
			return ConditionsResult{Satisfied: c, Met: true}
		case !known && !knowsOwnUsers && !seen[c.RoomID]:
			seen[c.RoomID] = true
			res.Unverifiable = append(res.Unverifiable, c.RoomID)
		}
	}
	return res
}

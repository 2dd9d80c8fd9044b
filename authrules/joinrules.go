package authrules

import (
	"encoding/json"

	"github.com/roomproto/roomproto/canonicaljson"
)

// Join rule values of m.room.join_rules (event-schemas m.room.join_rules.yaml).
const (
	JoinRulePublic          = "public"
	JoinRuleInvite          = "invite"
	JoinRuleKnock           = "knock"
	JoinRuleRestricted      = "restricted"
	JoinRuleKnockRestricted = "knock_restricted"
	JoinRulePrivate         = "private"
)

// AllowConditionRoomMembership is the `type` of an allow condition satisfied by membership of
// another room (m.room.join_rules.yaml, `allow`).
const AllowConditionRoomMembership = "m.room_membership"

// JoinRules is a parsed m.room.join_rules content.
type JoinRules struct {
	// Rule is `join_rule`. It is "invite" when the room has no m.room.join_rules event or the
	// content has no `join_rule`, and "" when `join_rule` is not a string (which then matches
	// no rule: joins and knocks are rejected). See docs/decisions.md (authrules).
	Rule string
	// Allow holds the entries of `allow` that are objects, in order; a `type` or `room_id`
	// that is not a string is read as "". An `allow` that is not an array gives none
	// ("Improper or no allow conditions ... imply the room is effectively invite-only").
	Allow []AllowCondition
}

// AllowCondition is one entry of `allow` in m.room.join_rules.
type AllowCondition struct {
	// Type is the condition type, such as "m.room_membership".
	Type string
	// RoomID is the room whose membership satisfies an m.room_membership condition.
	RoomID string
}

// ParseJoinRules reads the content of an m.room.join_rules event leniently: the auth rules
// only compare `join_rule`, and `allow` matters to the resident server deciding a restricted
// join (server-server-api "Restricted rooms"). A content that is not a JSON object reads as
// Rule "".
func ParseJoinRules(content []byte) JoinRules {
	jr := JoinRules{Rule: JoinRuleInvite}
	var allow []byte
	err := canonicaljson.EachMember(content, func(key string, value []byte) error {
		switch key {
		case "join_rule":
			jr.Rule = stringValue(value)
		case "allow":
			allow = value
		}
		return nil
	})
	if err != nil {
		return JoinRules{}
	}
	if canonicaljson.KindOf(allow) == canonicaljson.Array {
		jr.Allow = parseAllow(allow)
	}
	return jr
}

func parseAllow(raw []byte) []AllowCondition {
	var out []AllowCondition
	_ = eachElement(raw, func(item []byte) error {
		if canonicaljson.KindOf(item) != canonicaljson.Object {
			return nil
		}
		var c AllowCondition
		if canonicaljson.EachMember(item, func(key string, value []byte) error {
			switch key {
			case "type":
				c.Type = stringValue(value)
			case "room_id":
				c.RoomID = stringValue(value)
			}
			return nil
		}) == nil {
			out = append(out, c)
		}
		return nil
	})
	return out
}

// stringValue returns the JSON string in raw, or "" when raw is not a valid string.
func stringValue(raw []byte) string {
	s, _ := stringValueOK(raw)
	return s
}

// stringValueOK returns the JSON string in raw and whether raw is one.
func stringValueOK(raw []byte) (string, bool) {
	if canonicaljson.KindOf(raw) != canonicaljson.String {
		return "", false
	}
	s, err := canonicaljson.Unquote(raw)
	if err != nil {
		return "", false
	}
	return s, true
}

// eachElement calls fn for each element of the JSON array in raw (raw bytes of the element).
// Only exact-shape decoding is used (a list of raw values), never a struct.
func eachElement(raw []byte, fn func(item []byte) error) error {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return err
	}
	for _, it := range items {
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

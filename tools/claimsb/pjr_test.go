package claimsb

import (
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// go doc ParseJoinRequest: "M_BAD_JSON for anything else (a missing member, a wrong type, a limit)".
func TestParseJoinRequestTypes(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	var st []json.RawMessage
	for _, e := range r.events() {
		st = append(st, e.Raw())
	}
	base := func() M {
		return M{"room_version": "10", "state": st, "user_id": "@bob:b.example", "resident_server": "a.example"}
	}
	for name, m := range map[string]M{
		"membership not string": with(base(), "rooms", M{"!a:x": M{"@b:b.example": 5}}),
		"room not object":       with(base(), "rooms", M{"!a:x": []any{}}),
		"ver entry not string":  with(base(), "ver", []any{1}),
		"ver not array":         with(base(), "ver", "10"),
		"origin not string":     with(base(), "origin", 5),
		"state not array":       with(base(), "state", M{}),
		"user_id not string":    with(base(), "user_id", 5),
		"no user_id":            with(base(), "user_id", nil),
		"room_version number":   with(base(), "room_version", 10),
		"state entry not event": with(base(), "state", append([]json.RawMessage{json.RawMessage(`{"a":1}`)}, st...)),
		"state duplicate":       with(base(), "state", append(append([]json.RawMessage{}, st...), st[0])),
	} {
		if name == "no user_id" {
			delete(m, "user_id")
		}
		_, err := membership.ParseJoinRequest(claimkit.Marshal(t, m))
		t.Run(name, func(t *testing.T) { wantErr(t, err, 400, membership.ErrCodeBadJSON, membership.ErrBadInput) })
	}
}

// go doc authrules (package): "exact keys, last duplicate wins".
func TestAuthLastDuplicateWins(t *testing.T) {
	if jr := authrulesParseJoinRules(`{"join_rule":"public","join_rule":"invite"}`); jr != "invite" {
		t.Errorf("ParseJoinRules dup: %q", jr)
	}
	pl, err := authrulesParsePL("8", `{"ban":"x","ban":70}`)
	if err != nil || pl != 70 {
		t.Errorf("ParsePowerLevels dup: %d %v", pl, err)
	}
	if _, err := authrulesParsePL("8", `{"ban":70,"ban":"x"}`); err == nil {
		t.Error("ParsePowerLevels dup, invalid last: accepted")
	}
	if jr := authrulesParseJoinRules(`{"Join_rule":"public"}`); jr != "invite" {
		t.Errorf("ParseJoinRules exact keys: %q", jr)
	}
}

//go:build goexperiment.jsonv2

package authcmp

import (
	"encoding/json"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// Adversarial mutations aimed at mautrix's code paths (applied on top of the gmsldiff generator).

var badUserIDs = []string{"notauser", "@bad", "@:a.example", "@x:exa mple", "@a:a.example:8448", "@a:[::1]:80",
	"@A:a.example", "@a:", "@" + strings.Repeat("x", 260) + ":a.example", "@a:b.example:c", "@\u00e9:a.example", "@a:a..example"}

// advRoom mutates a room's join rules or create event (before candidates are drawn).
func advRoom(b *authgen.Builder, rm *authgen.Room) string {
	switch b.R.Intn(6) {
	case 0, 1: // odd join_rules content
		if rm.JR == nil {
			return ""
		}
		var c M
		lab := ""
		switch b.R.Intn(4) {
		case 0:
			c = M{"join_rule": 5}
			lab = "jr-nonstring"
		case 1:
			c = M{}
			lab = "jr-missing"
		case 2:
			c = M{"join_rule": b.Pick("private", "Public", "knock_restricted", "restricted").(string)}
			lab = "jr-odd"
		default:
			c = M{"join_rule": "restricted", "allow": b.Pick([]any{}, "x", []any{M{"type": "m.room_membership"}}, nil)}
			lab = "jr-allow-odd"
		}
		for i, e := range rm.Order {
			if e == rm.JR {
				rm.JR = b.Mk("m.room.join_rules", authgen.Creator, authgen.Sp(""), c, []string{rm.Create.ID}, authgen.Opts{})
				rm.Order[i] = rm.JR
			}
		}
		if s, ok := c["join_rule"].(string); ok {
			rm.JoinRule = s
		} else {
			rm.JoinRule = "(odd)"
		}
		return lab
	case 2: // m.federate values that are not the literal false
		if b.Ver >= 12 { // the create event is the room ID: rebuilding it would move the room
			return ""
		}
		cc := authgen.ContentOf(rm.Create)
		cc["m.federate"] = b.Pick("false", 0, nil, false, M{})
		old := rm.Create
		rm.Create = b.Mk("m.room.create", authgen.Creator, authgen.Sp(""), cc, nil, authgen.Opts{})
		// the other events keep citing the old create: rebuild is not needed for the rules
		for i, e := range rm.Order {
			if e == old {
				rm.Order[i] = rm.Create
			}
		}
		return "federate-odd"
	}
	return ""
}

// advCand mutates a candidate.
func advCand(b *authgen.Builder, c *authgen.Cand, rm *authgen.Room) {
	switch c.Type {
	case "m.room.power_levels":
		switch b.R.Intn(10) {
		case 0:
			c.Content["events"] = b.Pick("x", []any{}, 5, nil)
			c.Label += "+events-nonobject"
		case 1:
			c.Content["notifications"] = b.Pick("x", []any{}, M{"room": "50"}, M{"room": true}, M{"room": nil}, M{"other": 5}, M{})
			c.Label += "+notifications-odd"
		case 2:
			c.Content["users"] = b.Pick("x", []any{}, 5)
			c.Label += "+users-nonobject"
		case 3:
			u, _ := c.Content["users"].(M)
			if u == nil {
				u = M{}
				c.Content["users"] = u
			}
			u[badUserIDs[b.R.Intn(len(badUserIDs))]] = 10
			c.Label += "+users-badkey"
		case 4, 5: // remove or lower another user's entry
			u, _ := c.Content["users"].(M)
			if u == nil {
				return
			}
			for _, k := range difftool.SortedKeys(u) {
				if k != c.Sender && b.R.Intn(2) == 0 {
					if b.R.Intn(2) == 0 {
						delete(u, k)
						c.Label += "+users-remove"
					} else {
						u[k] = b.Pick(0, 1, 49, 50, 100).(int)
						c.Label += "+users-change"
					}
					break
				}
			}
		case 6: // own entry
			u, _ := c.Content["users"].(M)
			if u == nil {
				u = M{}
				c.Content["users"] = u
			}
			if b.R.Intn(2) == 0 {
				delete(u, c.Sender)
				c.Label += "+own-remove"
			} else {
				u[c.Sender] = b.Pick(0, 50, 100, 101, "100", true)
				c.Label += "+own-change"
			}
		case 7: // booleans and odd strings as levels
			k := authgen.NamedLevels[b.R.Intn(len(authgen.NamedLevels))]
			c.Content[k] = b.Pick(true, false, "1_0", " 5", "+5", "-0", "0x5", json.Number("-0"))
			c.Label += "+named-odd"
		case 8: // events entries for types the rules read
			e, _ := c.Content["events"].(M)
			if e == nil {
				e = M{}
				c.Content["events"] = e
			}
			e[b.Pick("m.room.power_levels", "m.room.third_party_invite", "m.room.member", "m.room.redaction").(string)] = b.Pick(0, 50, 101, true, "75")
			c.Label += "+events-entry"
		default:
			delete(c.Content, b.Pick("users", "events", "ban", "state_default", "users_default").(string))
			c.Label += "+delete"
		}
	case "m.room.member":
		switch b.R.Intn(6) {
		case 0:
			delete(c.Content, "membership")
			c.Label += "+no-membership"
		case 1:
			c.Content["membership"] = b.Pick(5, nil, "JOIN", "join ", "")
			c.Label += "+membership-odd"
		case 2:
			c.StateKey = nil
			c.Label += "+no-statekey"
		case 3:
			c.Content["join_authorised_via_users_server"] = b.Pick(5, "notauser", "", "@x:nosig.example", M{})
			c.Label += "+authvia-odd"
		case 4:
			if tpi, ok := c.Content["third_party_invite"].(M); ok {
				signed, _ := tpi["signed"].(M)
				switch b.R.Intn(3) {
				case 0:
					delete(tpi, "signed")
				case 1:
					if signed != nil {
						delete(signed, b.Pick("mxid", "token").(string))
					}
				case 2:
					c.Content["third_party_invite"] = "x"
				}
				c.Label += "+3pid-odd"
			}
		}
	default:
		if c.StateKey != nil && b.R.Intn(3) == 0 {
			c.StateKey = authgen.Sp(b.Pick("@"+strings.TrimPrefix(c.Sender, "@"), "@", "@x", "@bob:b.example", "@alice:a.example").(string))
			c.Label += "+sk@"
		}
	}
}

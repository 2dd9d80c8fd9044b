//go:build goexperiment.jsonv2

package authcmp

import (
	"encoding/json"
	"strings"
)

// Adversarial mutations aimed at mautrix's code paths (applied on top of the gmsldiff generator).

var badUserIDs = []string{"notauser", "@bad", "@:a.example", "@x:exa mple", "@a:a.example:8448", "@a:[::1]:80",
	"@A:a.example", "@a:", "@" + strings.Repeat("x", 260) + ":a.example", "@a:b.example:c", "@\u00e9:a.example", "@a:a..example"}

// advRoom mutates a room's join rules or create event (before candidates are drawn).
func (b *authBuilder) advRoom(rm *authRoom) string {
	switch b.r.Intn(6) {
	case 0, 1: // odd join_rules content
		if rm.jr == nil {
			return ""
		}
		var c M
		lab := ""
		switch b.r.Intn(4) {
		case 0:
			c = M{"join_rule": 5}
			lab = "jr-nonstring"
		case 1:
			c = M{}
			lab = "jr-missing"
		case 2:
			c = M{"join_rule": b.pick("private", "Public", "knock_restricted", "restricted").(string)}
			lab = "jr-odd"
		default:
			c = M{"join_rule": "restricted", "allow": b.pick([]any{}, "x", []any{M{"type": "m.room_membership"}}, nil)}
			lab = "jr-allow-odd"
		}
		for i, e := range rm.order {
			if e == rm.jr {
				rm.jr = b.mk("m.room.join_rules", authCreator, sp(""), c, []string{rm.create.id}, authOpts{})
				rm.order[i] = rm.jr
			}
		}
		if s, ok := c["join_rule"].(string); ok {
			rm.joinRule = s
		} else {
			rm.joinRule = "(odd)"
		}
		return lab
	case 2: // m.federate values that are not the literal false
		if b.ver >= 12 { // the create event is the room ID: rebuilding it would move the room
			return ""
		}
		cc := contentOf(rm.create)
		cc["m.federate"] = b.pick("false", 0, nil, false, M{})
		old := rm.create
		rm.create = b.mk("m.room.create", authCreator, sp(""), cc, nil, authOpts{})
		// the other events keep citing the old create: rebuild is not needed for the rules
		for i, e := range rm.order {
			if e == old {
				rm.order[i] = rm.create
			}
		}
		return "federate-odd"
	}
	return ""
}

// advCand mutates a candidate.
func (b *authBuilder) advCand(c *authCand, rm *authRoom) {
	switch c.typ {
	case "m.room.power_levels":
		switch b.r.Intn(10) {
		case 0:
			c.content["events"] = b.pick("x", []any{}, 5, nil)
			c.label += "+events-nonobject"
		case 1:
			c.content["notifications"] = b.pick("x", []any{}, M{"room": "50"}, M{"room": true}, M{"room": nil}, M{"other": 5}, M{})
			c.label += "+notifications-odd"
		case 2:
			c.content["users"] = b.pick("x", []any{}, 5)
			c.label += "+users-nonobject"
		case 3:
			u, _ := c.content["users"].(M)
			if u == nil {
				u = M{}
				c.content["users"] = u
			}
			u[badUserIDs[b.r.Intn(len(badUserIDs))]] = 10
			c.label += "+users-badkey"
		case 4, 5: // remove or lower another user's entry
			u, _ := c.content["users"].(M)
			if u == nil {
				return
			}
			for _, k := range sortedKeys(u) {
				if k != c.sender && b.r.Intn(2) == 0 {
					if b.r.Intn(2) == 0 {
						delete(u, k)
						c.label += "+users-remove"
					} else {
						u[k] = b.pick(0, 1, 49, 50, 100).(int)
						c.label += "+users-change"
					}
					break
				}
			}
		case 6: // own entry
			u, _ := c.content["users"].(M)
			if u == nil {
				u = M{}
				c.content["users"] = u
			}
			if b.r.Intn(2) == 0 {
				delete(u, c.sender)
				c.label += "+own-remove"
			} else {
				u[c.sender] = b.pick(0, 50, 100, 101, "100", true)
				c.label += "+own-change"
			}
		case 7: // booleans and odd strings as levels
			k := namedLevels[b.r.Intn(len(namedLevels))]
			c.content[k] = b.pick(true, false, "1_0", " 5", "+5", "-0", "0x5", json.Number("-0"))
			c.label += "+named-odd"
		case 8: // events entries for types the rules read
			e, _ := c.content["events"].(M)
			if e == nil {
				e = M{}
				c.content["events"] = e
			}
			e[b.pick("m.room.power_levels", "m.room.third_party_invite", "m.room.member", "m.room.redaction").(string)] = b.pick(0, 50, 101, true, "75")
			c.label += "+events-entry"
		default:
			delete(c.content, b.pick("users", "events", "ban", "state_default", "users_default").(string))
			c.label += "+delete"
		}
	case "m.room.member":
		switch b.r.Intn(6) {
		case 0:
			delete(c.content, "membership")
			c.label += "+no-membership"
		case 1:
			c.content["membership"] = b.pick(5, nil, "JOIN", "join ", "")
			c.label += "+membership-odd"
		case 2:
			c.sk = nil
			c.label += "+no-statekey"
		case 3:
			c.content["join_authorised_via_users_server"] = b.pick(5, "notauser", "", "@x:nosig.example", M{})
			c.label += "+authvia-odd"
		case 4:
			if tpi, ok := c.content["third_party_invite"].(M); ok {
				signed, _ := tpi["signed"].(M)
				switch b.r.Intn(3) {
				case 0:
					delete(tpi, "signed")
				case 1:
					if signed != nil {
						delete(signed, b.pick("mxid", "token").(string))
					}
				case 2:
					c.content["third_party_invite"] = "x"
				}
				c.label += "+3pid-odd"
			}
		}
	default:
		if c.sk != nil && b.r.Intn(3) == 0 {
			c.sk = sp(b.pick("@"+strings.TrimPrefix(c.sender, "@"), "@", "@x", "@bob:b.example", "@alice:a.example").(string))
			c.label += "+sk@"
		}
	}
}

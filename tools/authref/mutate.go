package main

import (
	"encoding/json"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

type M = authgen.M

// mutate changes the candidate's content (or state key) to reach corners authgen does not
// draw often: it returns the changed candidate and a label, or "" when it changed nothing.
func mutate(b *authgen.Builder, rm *authgen.Room, c authgen.Cand) (authgen.Cand, string) {
	c.Content = difftool.CopyM(c.Content)
	r := b.R
	if r.Intn(6) == 0 {
		// another sender (v12: often an additional creator)
		old := c.Sender
		c.Sender = authgen.Users[r.Intn(len(authgen.Users))]
		if b.Ver >= 12 && r.Intn(2) == 0 {
			c.Sender = b.Pick("@bob:b.example", "@carol:c.example").(string)
		}
		if c.StateKey != nil && *c.StateKey == old && r.Intn(2) == 0 {
			sk := c.Sender
			c.StateKey = &sk
		}
		return c, "sender"
	}
	if b.Ver >= 12 && c.Type == "m.room.power_levels" && r.Intn(4) == 0 {
		u, _ := c.Content["users"].(M)
		u = difftool.CopyM(u)
		if u == nil {
			u = M{}
		}
		u[b.Pick("@alice:a.example", "@bob:b.example", "@carol:c.example").(string)] = 100
		c.Content["users"] = u
		return c, "pl-users-creator"
	}
	if r.Intn(12) == 0 && c.Type != "m.room.member" && c.Type != "m.room.create" {
		// state key oddities: none, "x", another user's, the sender's
		switch r.Intn(4) {
		case 0:
			c.StateKey = nil
		case 1:
			sk := "x"
			c.StateKey = &sk
		case 2:
			sk := authgen.Users[r.Intn(len(authgen.Users))]
			c.StateKey = &sk
		case 3:
			sk := c.Sender
			c.StateKey = &sk
		}
		return c, "state_key-odd"
	}
	switch c.Type {
	case "m.room.member":
		switch r.Intn(10) {
		case 0:
			c.Content["membership"] = b.Pick(5, nil, "JOIN", M{}, "")
			return c, "membership-odd"
		case 1:
			delete(c.Content, "membership")
			return c, "membership-absent"
		case 2:
			c.StateKey = nil
			return c, "member-no-state_key"
		case 3:
			c.Content["join_authorised_via_users_server"] = b.Pick("@nobody:c.example", "notauser", "@bob:b.example", 7)
			c.Opts.Signers = append(c.Opts.Signers, "b.example", "c.example")
			return c, "authvia-odd"
		case 4:
			if c.Content["membership"] == "invite" {
				tpi := b.Pick(
					M{"display_name": "x"},
					M{"display_name": "x", "signed": M{"mxid": *c.StateKey}},
					M{"display_name": "x", "signed": M{"token": "tok1"}},
					M{"display_name": "x", "signed": M{"mxid": *c.StateKey, "token": "nope", "signatures": M{}}},
					M{"display_name": "x", "signed": M{"mxid": *c.StateKey, "token": "tok1", "signatures": M{}}},
					"string", nil,
				)
				c.Content["third_party_invite"] = tpi
				return c, "3pid-odd"
			}
		case 7:
			if t, ok := c.Content["third_party_invite"].(M); ok {
				t = difftool.CopyM(t)
				if sg, ok := t["signed"].(M); ok {
					sg = difftool.CopyM(sg)
					sigs, _ := sg["signatures"].(M)
					sigs = difftool.CopyM(sigs)
					if sigs == nil {
						sigs = M{}
					}
					sigs[b.Pick("aaa.example", "zzz.example").(string)] = b.Pick("x", M{"ed25519:1": 5}, M{"ed25519:1": "AAAA"}, M{"other:1": "AAAA"})
					sg["signatures"] = sigs
					t["signed"] = sg
					c.Content["third_party_invite"] = t
					return c, "3pid-extra-sig"
				}
			}
		case 5:
			if c.Content["membership"] == "join" && rm.Create != nil && r.Intn(2) == 0 {
				c.Opts.Prev = []string{rm.Create.ID}
				return c, "prev-create"
			}
		case 6:
			sk := b.Pick("@Alice:a.example", "@alice:a.example:8448", "", "x").(string)
			c.StateKey = &sk
			return c, "member-odd-state_key"
		}
	case "m.room.power_levels":
		switch r.Intn(10) {
		case 0:
			delete(c.Content, "users")
			return c, "pl-no-users"
		case 1:
			c.Content["users"] = b.Pick(M{"@:a.example": 10}, M{"@Bob:b.example": 10}, M{"@bob:b_example": 10},
				M{"@bob:b.example:99999": 10}, M{"@bob:[::1]": 10}, M{"@bob:1.2.3.4": 10}, M{"@b\u00e9:b.example": 10},
				M{"@bob:": 10}, M{"@:": 10}, M{"@bob:a.example:": 10}, M{"@bob:[::1": 10}, M{"@bob:a..b": 10}, M{"@bob:-a": 10},
				M{"@bo:b:a.example": 10}, M{"@bob:b.example:123456": 10}, M{"@bob:[::1]:80": 10}, M{"@b\u0000b:b.example": 10},
				M{"bob:b.example": 10}, M{"@bob:B.EXAMPLE": 10}, M{"@bob:b.ex ample": 10}, M{"@bob:[gg::1]": 10},
				M{"@" + strings.Repeat("a", 240) + ":b.example": 10}, M{"@" + strings.Repeat("a", 250) + ":b.example": 10},
				[]any{}, "x", nil, M{"@bob:b.example": json.Number("1.5")})
			return c, "pl-users-odd"
		case 2:
			c.Content["events"] = b.Pick([]any{}, "x", nil, M{"m.room.name": nil}, M{"m.room.name": "50"}, M{"m.room.name": 1000})
			return c, "pl-events-odd"
		case 3:
			c.Content["notifications"] = b.Pick([]any{}, "x", nil, M{"room": "50"}, M{"room": 1000}, M{"room": true}, M{"other": 1000})
			return c, "pl-notifications-odd"
		case 4:
			k := authgen.NamedLevels[r.Intn(len(authgen.NamedLevels))]
			c.Content[k] = b.Pick("50", " 50 ", "+50", "-0", "\u00a050", "50.0", "abc", nil, true, 1000, -1000, json.Number("50.7"), json.Number("1e2"))
			if r.Intn(2) == 0 {
				c.Content[k] = oddLevel(b)
			}
			return c, "pl-named-odd"
		case 6:
			setOddLevel(b, c.Content, "users", authgen.Users[r.Intn(len(authgen.Users))])
			return c, "pl-users-oddlevel"
		case 7:
			setOddLevel(b, c.Content, "events", authgen.EventTypes[r.Intn(len(authgen.EventTypes))])
			return c, "pl-events-oddlevel"
		case 5:
			u, _ := c.Content["users"].(M)
			if u == nil {
				u = M{}
			}
			u = difftool.CopyM(u)
			u[c.Sender] = b.Pick(0, 10, 49, 50, 51, 100, 1000)
			c.Content["users"] = u
			return c, "pl-own-level"
		}
	case "m.room.create":
		if r.Intn(5) == 0 {
			if r.Intn(2) == 0 {
				c.StateKey = nil
			} else {
				sk := "x"
				c.StateKey = &sk
			}
			return c, "create-state_key"
		}
		switch r.Intn(4) {
		case 0:
			c.Content["room_version"] = b.Pick(1, nil, "1.0", " 1", "12", "11", "13")
			return c, "create-room_version-odd"
		case 1:
			c.Content["additional_creators"] = b.Pick([]any{}, []any{"@bob:b.example"}, []any{"bob"}, []any{5}, "x", nil, []any{"@Bob:b.example"})
			return c, "create-additional_creators"
		case 2:
			c.Content["creator"] = b.Pick(nil, 5, "", "@bob:b.example")
			return c, "create-creator-odd"
		}
	case "m.room.join_rules":
		c.Content["join_rule"] = b.Pick("restricted", "knock_restricted", "private", nil, 5)
		return c, "joinrules-odd"
	case "m.room.aliases":
		if r.Intn(2) == 0 {
			c.StateKey = nil
			return c, "aliases-no-state_key"
		}
	case "m.room.redaction":
		if b.Ver <= 2 && r.Intn(3) == 0 {
			c.Opts.Redacts = b.Pick("$x", "$x:a.example:1", "").(string)
			return c, "redacts-odd"
		}
	}
	return c, ""
}

// setOddLevel sets key of the object content[field] (a copy of it, or a new object when it is
// not one) to an odd power level.
func setOddLevel(b *authgen.Builder, content M, field, key string) {
	m, _ := content[field].(M)
	m = difftool.CopyM(m)
	if m == nil {
		m = M{}
	}
	m[key] = oddLevel(b)
	content[field] = m
}

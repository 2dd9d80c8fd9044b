package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// mutateState changes the content of one auth event (the room state the candidate is
// checked against) and returns the new auth list and a label, or "" when it changed nothing.
// The create event of a v12 room is left alone (its ID is the room ID).
func mutateState(b *authgen.Builder, rm *authgen.Room, auth []*authgen.Event) ([]*authgen.Event, string) {
	if len(auth) == 0 {
		return auth, ""
	}
	r := b.R
	i := r.Intn(len(auth))
	e := auth[i]
	m := difftool.Decode(e.Raw)
	typ, _ := m["type"].(string)
	sender, _ := m["sender"].(string)
	c, _ := m["content"].(M)
	if c == nil {
		return auth, ""
	}
	c = difftool.CopyM(c)
	lab := ""
	switch typ {
	case "m.room.member":
		c["membership"] = b.Pick("join", "invite", "leave", "ban", "knock", "", nil, 5)
		lab = "st-member"
	case "m.room.power_levels":
		odd := func() any {
			if r.Intn(2) == 0 {
				return b.Level(true)
			}
			return oddLevel(b)
		}
		switch r.Intn(4) {
		case 0:
			u, _ := c["users"].(M)
			u = difftool.CopyM(u)
			if u == nil {
				u = M{}
			}
			u[authgen.Users[r.Intn(len(authgen.Users))]] = odd()
			c["users"] = u
		case 1:
			c[authgen.NamedLevels[r.Intn(len(authgen.NamedLevels))]] = odd()
		case 2:
			c["users_default"] = b.Pick(0, 49, 50, 51, 100)
			c[authgen.NamedLevels[r.Intn(len(authgen.NamedLevels))]] = b.Pick(0, 49, 50, 51, 100)
		case 3:
			ev, _ := c["events"].(M)
			ev = difftool.CopyM(ev)
			if ev == nil {
				ev = M{}
			}
			ev[authgen.EventTypes[r.Intn(len(authgen.EventTypes))]] = odd()
			c["events"] = ev
		}
		lab = "st-pl"
	case "m.room.join_rules":
		if r.Intn(5) == 0 {
			delete(c, "join_rule")
		} else {
			c["join_rule"] = b.Pick("public", "invite", "knock", "restricted", "knock_restricted", "private", nil, 5)
		}
		lab = "st-jr"
	case "m.room.create":
		if b.Ver >= 12 {
			return auth, ""
		}
		switch r.Intn(3) {
		case 0:
			if r.Intn(4) == 0 {
				delete(c, "creator")
			} else {
				c["creator"] = b.Pick(authgen.Users[0], authgen.Users[1], authgen.Users[2], nil, 5)
			}
		case 1:
			c["m.federate"] = b.Pick(false, false, true, "false", 0, nil)
		case 2:
			if r.Intn(2) == 0 {
				delete(c, "room_version")
			} else {
				c["room_version"] = b.Pick("1", "99", 1)
			}
		}
		lab = "st-create"
	case "m.room.third_party_invite":
		if rm.TPIKey == nil {
			return auth, ""
		}
		pub := rm.TPIKey.Public().(ed25519.PublicKey)
		std := base64.RawStdEncoding.EncodeToString(pub)
		url := base64.RawURLEncoding.EncodeToString(pub)
		switch r.Intn(5) {
		case 0:
			delete(c, "public_key")
			c["public_keys"] = []any{M{"public_key": b.Pick(std, url)}}
		case 1:
			c["public_key"] = url
			delete(c, "public_keys")
		case 2:
			c["public_key"] = "AAAA"
			c["public_keys"] = []any{"x", M{"public_key": std}}
		case 3:
			delete(c, "public_key")
			delete(c, "public_keys")
		case 4:
			c["public_key"] = std + "=="
			delete(c, "public_keys")
		}
		lab = "st-tpi"
		if r.Intn(4) == 0 {
			sender = authgen.Users[r.Intn(len(authgen.Users))]
			lab += "+sender"
		}
	default:
		return auth, ""
	}
	var sk *string
	if s, ok := m["state_key"].(string); ok {
		sk = &s
	}
	ne := b.Mk(typ, sender, sk, c, []string{rm.Create.ID}, authgen.Opts{})
	out := append([]*authgen.Event{}, auth...)
	out[i] = ne
	return out, lab
}

// oddLevel is a power level value of an unusual form, valid or not for the room version
// (canonical JSON keeps floats and big numbers out of v6+ events: the harness skips those).
func oddLevel(b *authgen.Builder) any {
	xs := []any{"abc", "\u0665\u0660", "1_0", "\u00a050", "\u200b50", "50\u001c", "\u3000 75", " +050 ", "-0", "+0", "+-5",
		"99999999999999999999999", "-99999999999999999999999", "", " ", "0x10", "5e1", "50.0", true, false, nil, M{}, []any{},
		49, 50, 51, 100, -1}
	if b.Ver <= 5 {
		xs = append(xs, json.Number("1e400"), json.Number("-1e400"), json.Number("1.7e308"), json.Number("-0.5"),
			json.Number("-1.5"), json.Number("5.114698E4"), json.Number("1e-7"), json.Number("1.0e2"), json.Number("-0.0"),
			json.Number("50.999999999999999999"), json.Number("9007199254740993"), json.Number("123456789012345678901234567890"))
	}
	return xs[b.R.Intn(len(xs))]
}

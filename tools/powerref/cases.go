package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// raw is a JSON value written exactly as given.
type raw = json.RawMessage

// edgeLevels are power level values at the corners of the stringy, floaty and integer-only
// rules, written as raw JSON so that the Go and Python sides read the same bytes.
var edgeLevels = []string{
	// integer strings (v1-stringy-power-levels.md)
	`"100"`, `" 100 "`, `"000100"`, `"+100"`, `"-100"`, `" +100 "`, `" -100 "`, `" 00100 "`, `"\t-7\n"`,
	`"\r\n42\t"`, `"\u000b5"`, `"\f5"`, `"-0"`, `"+0"`, `"0"`,
	// whitespace outside ASCII, other digits, malformed
	`"\u00a05"`, `"\u20035"`, `"5\u3000"`, `"\u001c5"`, `"\u00855"`,
	`"+-5"`, `"++5"`, `"--5"`, `"5-"`, `""`, `" "`, `"+"`, `"-"`, `"1_000"`, `"\u0665\u0660"`,
	`"\uff15"`, `"0x10"`, `"1e2"`, `"5.0"`, `"5 5"`, `"+ 5"`, `"05a"`,
	// huge strings
	`"99999999999999999999"`, `"-99999999999999999999"`, `"9223372036854775807"`,
	`"9223372036854775808"`, `"-9223372036854775808"`, `"-9223372036854775809"`,
	`"9007199254740992"`, `"  -000000000000000000000000000000000000001  "`,
	// integers beyond the canonical JSON range and int64
	`9007199254740991`, `9007199254740992`, `-9007199254740992`, `9223372036854775807`,
	`9223372036854775808`, `-9223372036854775809`, `99999999999999999999`, `-99999999999999999999`,
	// floats (v1-floaty-power-levels.md)
	`50.5`, `50.57`, `-0.5`, `-0.0`, `1e2`, `5.114698E4`, `1e400`, `-1e400`, `1e308`,
	`9007199254740993.0`, `1e20`, `50.0`, `0.1e1`, `1E-5`, `-1.5e1`, `123456789012345678901234.9`,
	// not numbers
	`null`, `true`, `false`, `[]`, `{}`, `[50]`, `{"x":1}`,
	// plain
	`-0`, `0`, `100`, `50`, `-50`, `75`,
}

// probeUsers are the users whose levels are asked.
var probeUsers = append(slices.Clone(authgen.Users), "@zed:z.example", "@alice:z.example")

var probeEvents = [][2]any{
	{"m.room.name", true}, {"m.room.name", false}, {"m.room.message", false}, {"m.room.message", true},
	{"m.room.power_levels", true}, {"m.room.redaction", false}, {"com.example.state", true},
	{"m.room.topic", true}, {"m.room.member", true}, {"m.room.third_party_invite", true}, {"", false},
}

var probeNotifs = []string{"room", "other", ""}

// probe says what is asked of a PowerLevels (and, for a state, of the State).
type probe struct {
	Users  []string    `json:"users"`
	Events [][2]any    `json:"events"`
	Notifs []string    `json:"notifs"`
	Pairs  [][2]string `json:"pairs"`
	Get    [][2]string `json:"get"`
}

func newProbe(r *rand.Rand, extra ...string) probe {
	us := slices.Clone(probeUsers)
	for _, u := range extra {
		if !slices.Contains(us, u) {
			us = append(us, u)
		}
	}
	r.Shuffle(len(us), func(i, j int) { us[i], us[j] = us[j], us[i] })
	p := probe{Users: us, Events: probeEvents, Notifs: probeNotifs}
	for i := 0; i < 6; i++ {
		p.Pairs = append(p.Pairs, [2]string{us[r.Intn(len(us))], us[r.Intn(len(us))]})
	}
	return p
}

// hugeStrings and hugeNumbers are levels around and beyond the int64 range, close to each other,
// where saturated getters agree but the exact comparisons of the rules do not (v1-9; the numbers
// v1-5 only).
var (
	hugeStrings = []string{`"9223372036854775806"`, `"9223372036854775807"`, `"9223372036854775808"`,
		`"9223372036854775809"`, `"18446744073709551616"`, `"99999999999999999999"`, `"100000000000000000000"`,
		`"100000000000000000000000"`, `"-9223372036854775808"`, `"-9223372036854775809"`, `"-99999999999999999999"`,
		`" +009223372036854775809 "`}
	hugeNumbers = []string{`9223372036854775807`, `9223372036854775808`, `9223372036854775809`,
		`99999999999999999999`, `-9223372036854775809`, `1e19`, `1e20`, `1e23`, `9.3e18`, `-1e19`,
		`9223372036854775808.5`, `1.8e308`}
)

// huge returns a level for genHugeContent.
func huge(r *rand.Rand, ver int) raw {
	if ver <= 5 && r.Intn(2) == 0 {
		return raw(hugeNumbers[r.Intn(len(hugeNumbers))])
	}
	return raw(hugeStrings[r.Intn(len(hugeStrings))])
}

// genHugeContent draws v1-9 power levels whose users and named levels lie around and beyond the
// int64 range.
func genHugeContent(r *rand.Rand, ver int) M {
	u := M{}
	for _, x := range append(slices.Clone(authgen.Users), "@zed:z.example") {
		if r.Intn(4) > 0 {
			u[x] = huge(r, ver)
		}
	}
	c := M{"users": u}
	for _, k := range authgen.NamedLevels {
		if r.Intn(3) == 0 {
			c[k] = huge(r, ver)
		}
	}
	return c
}

// spaceRunes are the code points around "whitespace characters" (v1-stringy-power-levels.md):
// ASCII controls, Unicode White_Space, and near misses (U+180E, U+200B, U+FEFF, U+2060).
var spaceRunes = []rune{0, 1, 8, 9, 10, 11, 12, 13, 14, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x7f, 0x85, 0xa0, 0x1680, 0x180e,
	0x2000, 0x2001, 0x2002, 0x2005, 0x2009, 0x200a, 0x200b, 0x2028, 0x2029, 0x202f, 0x205f, 0x2060, 0x3000, 0xfeff}

// rawPLContent writes power levels content by hand, for what a map cannot hold: duplicate keys
// (the last wins, decisions pdu), escaped keys, one whitespace code point around an integer
// string. nestedDup reports a key given twice inside `users` or `events` (finding "nested-dup").
func rawPLContent(r *rand.Rand, ver int) (content string, nestedDup bool) {
	ws := string(spaceRunes[r.Intn(len(spaceRunes))])
	wsv, _ := json.Marshal(difftool.Pick(r, ws+"50", "50"+ws, ws+"-7"+ws, ws+ws+"+3"))
	lv := func() string {
		if r.Intn(3) == 0 {
			return string(edge(r))
		}
		return difftool.Pick(r, "10", "50", "100", `"75"`, string(wsv))
	}
	parts := []string{}
	switch r.Intn(7) {
	case 0: // duplicate named level
		parts = append(parts, `"ban":`+lv(), `"ban":`+lv())
	case 1: // duplicate user entry
		nestedDup = true
		parts = append(parts, `"users":{"@bob:b.example":`+lv()+`,"@bob:b.example":`+lv()+`}`)
	case 2: // duplicate users object
		parts = append(parts, `"users":{"@bob:b.example":`+lv()+`}`, `"users":`+difftool.Pick(r, `{"@carol:c.example":`+lv()+`}`, `5`, `[]`))
	case 3: // escaped keys
		parts = append(parts, `"ban":`+lv(), `"users":{"@bob:b.example":`+lv()+`}`, `"events":{"m.room.name":`+lv()+`}`)
	case 4: // duplicate events object / entry
		nestedDup = true
		parts = append(parts, `"events":{"m.room.name":`+lv()+`,"m.room.name":`+lv()+`}`)
	default: // whitespace around an integer string
		parts = append(parts, `"users":{"@bob:b.example":`+string(wsv)+`}`, `"kick":`+string(wsv))
	}
	if r.Intn(2) == 0 {
		parts = append(parts, `"users_default":`+lv())
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + strings.Join(parts, ",") + "}", nestedDup
}

// edge returns one of edgeLevels.
func edge(r *rand.Rand) raw { return raw(edgeLevels[r.Intn(len(edgeLevels))]) }

// genPLContent draws power levels content: authgen's (with its Edge values) with some values
// replaced by edge values, invalid user IDs as keys, non-object maps, v12 creators.
func genPLContent(r *rand.Rand, b *authgen.Builder) M {
	c := b.PLContent(r.Intn(2) == 0)
	p := r.Float64()
	for _, k := range authgen.NamedLevels {
		if r.Float64() < p*0.25 {
			c[k] = edge(r)
		}
	}
	if u, ok := c["users"].(M); ok {
		for k := range u {
			if r.Float64() < p*0.2 {
				u[k] = edge(r)
			}
		}
		if r.Float64() < 0.05 {
			u[difftool.Pick(r, "notauser", "@bad", "@x:", "@a:b.example:99999999", "", "@ok:z.example")] = 10
		}
		if r.Float64() < 0.1 {
			u["@zed:z.example"] = edge(r)
		}
	}
	if e, ok := c["events"].(M); ok {
		for k := range e {
			if r.Float64() < p*0.2 {
				e[k] = edge(r)
			}
		}
		if r.Float64() < 0.1 {
			e[""] = edge(r)
		}
	}
	if r.Float64() < 0.15 {
		n := M{"room": edge(r)}
		if r.Intn(2) == 0 {
			n["other"] = edge(r)
		}
		c["notifications"] = n
	}
	if r.Float64() < 0.06 {
		k := difftool.Pick(r, "users", "events", "notifications")
		c[k] = raw(difftool.Pick(r, `[]`, `null`, `5`, `"x"`, `[{"@a:b.c":1}]`, `true`))
	}
	if r.Float64() < 0.03 {
		delete(c, "users")
	}
	return c
}

// stateCase is a drawn sequence of state events: NewState of Init, then Apply of each of Apply.
type stateCase struct {
	Init, Apply []*pdu.Event
	Cands       []*pdu.Event
	Room        string
	Labels      []string
}

// parse parses a generated event, nil when pdu.Parse refuses it (then it is not used).
func parse(b *authgen.Builder, e *authgen.Event) *pdu.Event {
	ev, err := signing.ParseEvent(b.V, e.Raw)
	if err != nil {
		return nil
	}
	return ev
}

// withRoom returns e with another room_id (a foreign event).
func withRoom(b *authgen.Builder, e *authgen.Event, room string) *pdu.Event {
	m := difftool.Decode(e.Raw)
	m["room_id"] = room
	if b.Ver <= 2 {
		m["event_id"] = fmt.Sprintf("$foreign%d:a.example", b.N)
		b.N++
	}
	ev, err := signing.ParseEvent(b.V, difftool.Enc(m))
	if err != nil {
		return nil
	}
	return ev
}

// genState draws a room (authgen.GenRoom) and a sequence of further state events: power
// levels (valid or not for the version), members with malformed or odd memberships, creates,
// join rules of every shape, non-state events, events of another room, duplicates.
func genState(r *rand.Rand, vid string) *stateCase {
	v := authgen.Version(vid)
	b := &authgen.Builder{V: v, Ver: difftool.VerNum(vid), R: r, Focus: true, Edge: r.Intn(3) == 0}
	rm := b.GenRoom()
	sc := &stateCase{Room: b.Room()}
	var all []*pdu.Event
	add := func(ev *pdu.Event, label string) {
		if ev != nil {
			all = append(all, ev)
			sc.Labels = append(sc.Labels, label)
		}
	}
	for _, e := range rm.Order {
		add(parse(b, e), "room")
	}
	base := []string{rm.Create.ID}
	if b.Ver >= 12 {
		base = nil
	}
	extra := r.Intn(7)
	for i := 0; i < extra; i++ {
		switch k := r.Intn(12); k {
		case 0, 1:
			c := genPLContent(r, b)
			if b.Ver <= 9 && r.Intn(3) == 0 {
				c = genHugeContent(r, b.Ver)
			}
			add(parse(b, b.Mk("m.room.power_levels", authgen.Creator, authgen.Sp(""), c, base, authgen.Opts{})), "pl")
		case 2, 3:
			u := difftool.Pick(r, append(slices.Clone(authgen.Users), "@zed:z.example", "@zoe:z.example", "notauser", "@x:c.example")...)
			var content M
			switch r.Intn(6) {
			case 0:
				content = M{"membership": raw(difftool.Pick(r, `5`, `null`, `true`, `["join"]`, `{"a":1}`))}
			case 1:
				content = M{}
			case 2:
				content = M{"membership": difftool.Pick(r, "bogus", "JOIN", "")}
			default:
				content = M{"membership": difftool.Pick(r, "join", "join", "invite", "leave", "ban", "knock")}
			}
			add(parse(b, b.Mk("m.room.member", u, authgen.Sp(u), content, base, authgen.Opts{})), "member")
		case 4:
			cc := M{"room_version": vid}
			if b.Ver <= 10 {
				cc["creator"] = raw(difftool.Pick(r, `"@bob:b.example"`, `"@alice:a.example"`, `5`, `null`))
				if r.Intn(3) == 0 {
					delete(cc, "creator")
				}
			}
			if b.Ver >= 12 && r.Intn(2) == 0 {
				cc["additional_creators"] = raw(difftool.Pick(r, `["@carol:c.example"]`, `["@carol:c.example","@carol:c.example"]`,
					`["@alice:a.example"]`, `["notauser","@dave:a.example"]`, `"@bob:b.example"`, `[5]`, `[]`))
			}
			sender := difftool.Pick(r, authgen.Creator, authgen.Users[1])
			if b.Ver >= 12 {
				// a second create of a v12 room cannot carry the same room ID; keep the room's
				e := b.Mk("m.room.create", sender, authgen.Sp(""), cc, nil, authgen.Opts{})
				add(parse(b, e), "create2")
			} else {
				add(parse(b, b.Mk("m.room.create", sender, authgen.Sp(""), cc, nil, authgen.Opts{})), "create2")
			}
		case 5:
			var c M
			switch r.Intn(6) {
			case 0:
				c = M{"join_rule": raw(difftool.Pick(r, `5`, `null`, `["public"]`))}
			case 1:
				c = M{}
			case 2:
				c = M{"join_rule": "restricted", "allow": raw(difftool.Pick(r, `"x"`, `{}`, `null`, `[5, "x", null]`,
					`[{"type":5,"room_id":"!r:b.example"}]`, `[{"type":"m.room_membership","room_id":7}]`,
					`[{"type":"m.room_membership"}]`, `[{"room_id":"!r:b.example"}]`,
					`[{"type":"m.room_membership","room_id":"!r:b.example"},{"type":"x.other"}]`))}
			default:
				c = M{"join_rule": difftool.Pick(r, "public", "invite", "knock", "restricted", "knock_restricted", "private", "bogus", "")}
				if r.Intn(2) == 0 {
					c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
				}
			}
			add(parse(b, b.Mk("m.room.join_rules", authgen.Creator, authgen.Sp(""), c, base, authgen.Opts{})), "jr")
		case 6:
			add(parse(b, b.Mk("m.room.message", authgen.Creator, nil, M{"body": "x"}, base, authgen.Opts{})), "nonstate")
		case 7:
			add(withRoom(b, b.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "x"}, base, authgen.Opts{}), "!other:a.example"), "foreign")
		case 8:
			if len(all) > 0 {
				// a second event for an existing (type, state_key)
				e := all[r.Intn(len(all))]
				if e.StateKey != nil {
					add(parse(b, b.Mk(e.Type, e.Sender, authgen.Sp(*e.StateKey), difftool.Decode(e.Content), base, authgen.Opts{})), "dup")
				}
			}
		case 9:
			add(parse(b, b.Mk("com.example.state", authgen.Users[1], authgen.Sp(difftool.Pick(r, "", "x", "@bob:b.example")), M{}, base, authgen.Opts{})), "other")
		default:
			u := difftool.Pick(r, authgen.Users[1:]...)
			add(parse(b, b.Mk("m.room.member", u, authgen.Sp(u), M{"membership": "join"}, base, authgen.Opts{})), "join")
		}
	}
	// split: a prefix of the room's events to NewState (sometimes with a duplicate or, rarely,
	// one of the odd events), the rest to Apply
	nroom := len(rm.Order)
	k := min(nroom, len(all))
	if r.Intn(2) == 0 {
		k = r.Intn(k + 1)
	}
	sc.Init = slices.Clone(all[:k])
	sc.Apply = slices.Clone(all[k:])
	if r.Float64() < 0.1 && len(sc.Apply) > 0 {
		i := r.Intn(len(sc.Apply))
		sc.Init = append(sc.Init, sc.Apply[i])
		sc.Apply = slices.Delete(sc.Apply, i, i+1)
	}
	if r.Float64() < 0.05 && len(sc.Init) > 0 {
		sc.Init = append(sc.Init, sc.Init[r.Intn(len(sc.Init))])
	}
	if r.Float64() < 0.3 {
		r.Shuffle(len(sc.Init), func(i, j int) { sc.Init[i], sc.Init[j] = sc.Init[j], sc.Init[i] })
	}
	// candidates for the auth events selection
	for i := 0; i < 4; i++ {
		c := b.GenCand(rm)
		if r.Intn(5) == 0 {
			c = oddCand(r, b)
		}
		e := b.Mk(c.Type, c.Sender, c.StateKey, c.Content, nil, c.Opts)
		if ev := parse(b, e); ev != nil {
			sc.Cands = append(sc.Cands, ev)
		}
	}
	return sc
}

// oddCand is a membership candidate at the corners of the auth events selection.
func oddCand(r *rand.Rand, b *authgen.Builder) authgen.Cand {
	u := difftool.Pick(r, authgen.Users...)
	t := difftool.Pick(r, authgen.Users...)
	var c M
	switch r.Intn(6) {
	case 0:
		c = M{"membership": "invite", "third_party_invite": M{"signed": M{"token": raw(difftool.Pick(r, `"tok1"`, `5`, `null`, `"nope"`))}}}
	case 1:
		c = M{"membership": difftool.Pick(r, "join", "knock", "leave"), "third_party_invite": M{"signed": M{"token": "tok1"}}}
	case 2:
		c = M{"membership": difftool.Pick(r, "join", "invite", "leave"), "join_authorised_via_users_server": raw(difftool.Pick(r, `"@bob:b.example"`, `"@zed:z.example"`, `5`, `null`))}
	case 3:
		c = M{"membership": raw(difftool.Pick(r, `5`, `null`, `"JOIN"`))}
	case 4:
		c = M{"third_party_invite": M{"signed": M{"token": "tok1"}}}
	default:
		c = M{"membership": "join", "join_authorised_via_users_server": authgen.Users[r.Intn(len(authgen.Users))]}
		u = t
	}
	return authgen.Cand{Type: "m.room.member", Sender: u, StateKey: authgen.Sp(t), Content: c}
}

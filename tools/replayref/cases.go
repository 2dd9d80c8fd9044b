package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// replayCase is one drawn room dump and how the CLI is called on it.
type replayCase struct {
	vid    string
	events [][]byte
	// keys are the public keys of the servers (some left out by the unknown-key mutation).
	keys map[string]map[string]string
	// keysMode says where replay gets its keys: "none", "flag" (--keys) or "dump" (a "keys"
	// member of the dump). verify-room always gets --keys.
	keysMode string
	labels   []string
}

func (c *replayCase) label() string { return strings.Join(c.labels, "+") }

// dump returns the room dump in the replay format.
func (c *replayCase) dump(withKeys bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"room_version":%q,`, c.vid)
	if withKeys {
		fmt.Fprintf(&b, `"keys":%s,`, difftool.Enc(c.keys))
	}
	b.WriteString(`"events":[`)
	for i, e := range c.events {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.Write(e)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

var allServers = []string{"a.example", "b.example", "c.example", "d.example"}

func keysOf(servers []string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, s := range servers {
		k := authgen.KeyFor(s, "1")
		out[s] = map[string]string{"ed25519:1": base64.RawStdEncoding.EncodeToString(k.Public())}
	}
	return out
}

type key struct{ typ, sk string }

// gen builds the events of one room (v1-12) with the auth events the spec's selection picks
// from the generator's running state, which every state event updates, accepted or not (so
// events citing rejected ones come naturally). Every event is signed for real.
type gen struct {
	b     *authgen.Builder
	r     *rand.Rand
	ver   int
	state map[key]*authgen.Event
	evs   []*authgen.Event
	last  string
	pl    M
}

func selectAuth(ver int, state map[key]string, typ, sender string, sk *string, content M) []string {
	var ids []string
	add := func(k key) {
		if e, ok := state[k]; ok && !slices.Contains(ids, e) {
			ids = append(ids, e)
		}
	}
	if typ == "m.room.create" {
		return nil
	}
	if ver < 12 {
		add(key{"m.room.create", ""})
	}
	add(key{"m.room.power_levels", ""})
	add(key{"m.room.member", sender})
	if typ == "m.room.member" && sk != nil {
		add(key{"m.room.member", *sk})
		ms, _ := content["membership"].(string)
		if ms == "join" || ms == "invite" || ms == "knock" {
			add(key{"m.room.join_rules", ""})
		}
		if a, ok := content["join_authorised_via_users_server"].(string); ok && ms == "join" && ver >= 8 {
			add(key{"m.room.member", a})
		}
	}
	return ids
}

func (g *gen) ids() map[key]string {
	m := map[key]string{}
	for k, e := range g.state {
		m[k] = e.ID
	}
	return m
}

func (g *gen) mk(typ, sender string, sk *string, content M, o authgen.Opts) *authgen.Event {
	auth := selectAuth(g.ver, g.ids(), typ, sender, sk, content)
	if o.Prev == nil && g.last != "" {
		o.Prev = []string{g.last}
	}
	o.Real = true
	e := g.b.Mk(typ, sender, sk, content, auth, o)
	g.evs = append(g.evs, e)
	g.last = e.ID
	if sk != nil {
		g.state[key{typ, *sk}] = e
	}
	return e
}

func (g *gen) user() string { return authgen.Users[g.r.Intn(len(authgen.Users))] }

// genRoom draws a room: create, creator's join, power levels, join rules, then 4-16 events of
// random senders (memberships incl. bans, kicks and restricted joins, power levels and join
// rules changes, other state, messages).
func genRoom(r *rand.Rand, vid string) *gen {
	b := &authgen.Builder{V: authgen.Version(vid), Ver: difftool.VerNum(vid), R: r}
	g := &gen{b: b, r: r, ver: b.Ver, state: map[key]*authgen.Event{}}
	creator := authgen.Creator
	cc := M{"room_version": vid}
	if g.ver <= 10 {
		cc["creator"] = creator
	}
	if g.ver >= 12 && r.Intn(4) == 0 {
		cc["additional_creators"] = []any{"@bob:b.example"}
	}
	create := g.mk("m.room.create", creator, authgen.Sp(""), cc, authgen.Opts{Prev: []string{}})
	if g.ver >= 12 {
		b.RoomID = "!" + create.ID[1:]
	}
	g.mk("m.room.member", creator, authgen.Sp(creator), M{"membership": "join"}, authgen.Opts{})
	users := M{}
	if g.ver < 12 {
		users[creator] = 100
	}
	for _, u := range authgen.Users[1:] {
		if r.Intn(3) == 0 {
			users[u] = difftool.Pick(r, 0, 50, 100)
		}
	}
	g.pl = M{"users": users, "state_default": 50, "ban": 50, "kick": 50, "invite": difftool.Pick(r, 0, 50)}
	if r.Intn(10) != 0 {
		g.mk("m.room.power_levels", creator, authgen.Sp(""), difftool.CopyM(g.pl), authgen.Opts{})
	}
	rules := []string{"public", "invite", "public"}
	if g.ver >= 7 {
		rules = append(rules, "knock")
	}
	if g.ver >= 8 {
		rules = append(rules, "restricted", "restricted")
	}
	if r.Intn(10) != 0 {
		jr := difftool.Pick(r, rules...)
		c := M{"join_rule": jr}
		if jr == "restricted" {
			c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
		}
		g.mk("m.room.join_rules", creator, authgen.Sp(""), c, authgen.Opts{})
	}
	for k := 4 + r.Intn(13); k > 0; k-- {
		g.step()
	}
	return g
}

// step adds one random event.
func (g *gen) step() {
	r := g.r
	sender := g.user()
	if r.Intn(3) == 0 {
		sender = authgen.Creator
	}
	switch k := r.Intn(20); {
	case k < 10: // membership
		target := g.user()
		ms := difftool.Pick(r, "join", "join", "join", "invite", "leave", "ban", "knock")
		if ms == "knock" && g.ver < 7 {
			ms = "join"
		}
		c := M{"membership": ms}
		o := authgen.Opts{}
		switch ms {
		case "join", "knock":
			sender = target
			if ms == "join" && g.ver >= 8 && r.Intn(3) == 0 {
				auth := difftool.Pick(r, authgen.Creator, "@bob:b.example", "@carol:c.example")
				c["join_authorised_via_users_server"] = auth
				o.Signers = []string{difftool.DomainOf(auth)}
			}
		case "leave":
			if r.Intn(2) == 0 {
				sender = target
			}
		}
		g.mk("m.room.member", sender, authgen.Sp(target), c, o)
	case k < 13: // power levels change (by anyone: some are rejected, and so are their citers)
		pl := difftool.CopyM(g.pl)
		users := difftool.CopyM(pl["users"].(M))
		users[g.user()] = difftool.Pick(r, 0, 50, 100)
		pl["users"] = users
		if r.Intn(3) == 0 {
			pl["state_default"] = difftool.Pick(r, 0, 50, 100)
		}
		g.pl = pl
		g.mk("m.room.power_levels", sender, authgen.Sp(""), difftool.CopyM(pl), authgen.Opts{})
	case k < 14:
		jr := difftool.Pick(r, "public", "invite")
		g.mk("m.room.join_rules", sender, authgen.Sp(""), M{"join_rule": jr}, authgen.Opts{})
	case k < 17:
		t := difftool.Pick(r, "m.room.name", "m.room.topic", "com.example.state")
		g.mk(t, sender, authgen.Sp(""), M{"name": fmt.Sprint("n", g.b.N)}, authgen.Opts{})
	default:
		g.mk("m.room.message", sender, nil, M{"body": "hi"}, authgen.Opts{})
	}
}

// evInfo is what the mutations read of an event of the dump.
type evInfo struct {
	m   M
	id  string
	typ string
	sk  *string
}

func info(c *replayCase, raw []byte) evInfo {
	m := difftool.Decode(raw)
	v := authgen.Version(c.vid)
	id, err := signing.EventID(v, raw)
	if err != nil {
		id = ""
	}
	e := evInfo{m: m, id: id}
	e.typ, _ = m["type"].(string)
	if s, ok := m["state_key"].(string); ok {
		e.sk = &s
	}
	return e
}

// stateAt returns the state (type, state key) -> event ID after the first n events of the dump,
// every state event counted (accepted or not).
func stateAt(c *replayCase, n int) map[key]string {
	st := map[key]string{}
	for _, raw := range c.events[:n] {
		e := info(c, raw)
		if e.sk != nil {
			st[key{e.typ, *e.sk}] = e.id
		}
	}
	return st
}

func forgeSig(raw []byte, server string) []byte {
	m := difftool.Decode(raw)
	sigs, _ := m["signatures"].(map[string]any)
	if sigs == nil {
		return raw
	}
	sig := ed25519.Sign(authgen.KeyFor(server, "1").Private, []byte("not this event"))
	sigs[server] = M{"ed25519:1": base64.RawStdEncoding.EncodeToString(sig)}
	return difftool.Enc(m)
}

// mutations are the changes drawCase applies to a generated dump.
var mutations = []string{"swap", "move-late", "drop", "dup", "dup-unsigned", "conflict-id", "foreign", "stale-auth",
	"early-auth", "forge-sig", "forge-authvia", "strip-authvia", "tamper", "unknown-key", "cite-rejected", "ban-then-speak",
	"malform", "dup-tampered"}

// drawCase draws a room (authgen-style v1-12, or roomgen v8-12) and 0-3 mutations.
func drawCase(r *rand.Rand, vid string) *replayCase {
	c := &replayCase{vid: vid, keys: keysOf(allServers)}
	ver := difftool.VerNum(vid)
	b := &authgen.Builder{V: authgen.Version(vid), Ver: ver, R: r, N: 10000}
	if ver >= 8 && r.Intn(3) == 0 {
		rm, err := roomgen.Generate(roomgen.Config{RoomVersion: vid, Events: 10 + r.Intn(30), Servers: 3 + r.Intn(3),
			Seed: r.Uint64(), MessageShare: 20, BodyBytes: 8, Rejected: 150})
		if err != nil {
			panic(err) // invariant: the configuration is in roomgen's documented range
		}
		c.events = slices.Clone(rm.Events)
		c.keys = map[string]map[string]string{}
		for _, s := range rm.Servers {
			c.keys[s] = keysOf([]string{s})[s]
		}
		c.labels = append(c.labels, "roomgen")
		b.RoomID = rm.RoomID
	} else {
		g := genRoom(r, vid)
		for _, e := range g.evs {
			c.events = append(c.events, e.Raw)
		}
		c.labels = append(c.labels, "gen")
		b.RoomID = g.b.RoomID
	}
	c.keysMode = difftool.Pick(r, "none", "flag", "dump")
	nm := r.Intn(4)
	for m := 0; m < nm; m++ {
		mut := difftool.Pick(r, mutations...)
		if mutate(r, c, b, mut) {
			c.labels = append(c.labels, mut)
		}
	}
	return c
}

// senderOf returns a user that has a join at position i of the state (by the running state).
func joinedAt(c *replayCase, st map[key]string) []string {
	var out []string
	for k, id := range st {
		if k.typ != "m.room.member" {
			continue
		}
		for _, raw := range c.events {
			e := info(c, raw)
			if e.id == id {
				if ct, _ := e.m["content"].(map[string]any); ct != nil && ct["membership"] == "join" {
					out = append(out, k.sk)
				}
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func mutate(r *rand.Rand, c *replayCase, b *authgen.Builder, mut string) bool {
	n := len(c.events)
	if n < 3 {
		return false
	}
	nonCreate := func() int { return 1 + r.Intn(n-1) }
	mk := func(typ, sender string, sk *string, content M, auth []string, prev []string, o authgen.Opts) []byte {
		o.Real = true
		o.Prev = prev
		return b.Mk(typ, sender, sk, content, auth, o).Raw
	}
	lastID := func() []string { return []string{info(c, c.events[len(c.events)-1]).id} }
	switch mut {
	case "swap":
		i, j := nonCreate(), nonCreate()
		if i == j {
			return false
		}
		c.events[i], c.events[j] = c.events[j], c.events[i]
	case "move-late": // an event moved after the events that cite it
		i := nonCreate()
		e := c.events[i]
		c.events = append(slices.Delete(c.events, i, i+1), e)
	case "drop":
		i := nonCreate()
		c.events = slices.Delete(c.events, i, i+1)
	case "dup":
		i := r.Intn(n)
		j := i + 1 + r.Intn(n-i)
		c.events = slices.Insert(c.events, j, c.events[i])
	case "dup-unsigned": // the same event with other unsigned data: same ID, other bytes
		i := r.Intn(n)
		m := difftool.Decode(c.events[i])
		m["unsigned"] = M{"age": 5}
		c.events = append(c.events, difftool.Enc(m))
	case "conflict-id": // a different event with the ID of an earlier one (v1-2: its own event_id)
		if b.Ver > 2 {
			return false
		}
		i := nonCreate()
		e := info(c, c.events[i])
		st := stateAt(c, n)
		sender := authgen.Creator
		m := difftool.Decode(mk("m.room.topic", sender, authgen.Sp(""), M{"topic": "conflict"},
			selectAuth(b.Ver, st, "m.room.topic", sender, authgen.Sp(""), nil), lastID(), authgen.Opts{}))
		m["event_id"] = e.id
		delete(m, "signatures")
		c.events = append(c.events, authgen.SignAll(b.V, difftool.Enc(m), []string{"a.example"}))
	case "foreign": // an event of another room, citing this room's auth events
		st := stateAt(c, n)
		sender := authgen.Creator
		raw := mk("m.room.topic", sender, authgen.Sp(""), M{"topic": "elsewhere"},
			selectAuth(b.Ver, st, "m.room.topic", sender, authgen.Sp(""), nil), lastID(), authgen.Opts{})
		m := difftool.Decode(raw)
		if b.Ver >= 12 {
			m["room_id"] = "!" + strings.Repeat("A", 43)
		} else {
			m["room_id"] = "!other:a.example"
		}
		delete(m, "signatures")
		c.events = append(c.events, authgen.SignAll(b.V, difftool.Enc(m), []string{"a.example"}))
	case "stale-auth": // a message citing the state of an earlier point (check 4 vs check 5)
		q := 2 + r.Intn(n-2)
		st := stateAt(c, q)
		js := joinedAt(c, st)
		if len(js) == 0 {
			return false
		}
		sender := js[r.Intn(len(js))]
		prev := lastID()
		if r.Intn(2) == 0 { // sent on top of that point: prev_events names its last event
			prev = []string{info(c, c.events[q-1]).id}
		}
		c.events = append(c.events, mk("m.room.message", sender, nil, M{"body": "stale"},
			selectAuth(b.Ver, st, "m.room.message", sender, nil, nil), prev, authgen.Opts{}))
	case "early-auth": // a message by a user joined now, citing the state before the user joined
		st := stateAt(c, n)
		js := joinedAt(c, st)
		if len(js) == 0 {
			return false
		}
		sender := js[r.Intn(len(js))]
		early := stateAt(c, 1+r.Intn(2))
		c.events = append(c.events, mk("m.room.message", sender, nil, M{"body": "early"},
			selectAuth(b.Ver, early, "m.room.message", sender, nil, nil), lastID(), authgen.Opts{}))
	case "ban-then-speak": // the creator bans a joined user, who then speaks citing its join
		st := stateAt(c, n)
		js := joinedAt(c, st)
		var victims []string
		for _, u := range js {
			if u != authgen.Creator {
				victims = append(victims, u)
			}
		}
		if len(victims) == 0 {
			return false
		}
		u := victims[r.Intn(len(victims))]
		creator := info(c, c.events[0]).m["sender"].(string)
		before := lastID()
		ban := mk("m.room.member", creator, authgen.Sp(u), M{"membership": "ban"},
			selectAuth(b.Ver, st, "m.room.member", creator, authgen.Sp(u), M{"membership": "ban"}), lastID(), authgen.Opts{})
		c.events = append(c.events, ban)
		prev := lastID()
		if r.Intn(2) == 0 { // sent concurrently with the ban: prev_events before it
			prev = before
		}
		c.events = append(c.events, mk("m.room.message", u, nil, M{"body": "still here"},
			selectAuth(b.Ver, st, "m.room.message", u, nil, nil), prev, authgen.Opts{}))
	case "cite-rejected": // an unauthorised name change, then a message citing... its sender's state
		st := stateAt(c, n)
		js := joinedAt(c, st)
		if len(js) == 0 {
			return false
		}
		u := js[r.Intn(len(js))]
		// a member event of u by someone else for u (rejected: sender != state_key for a join)
		other := "@erin:b.example"
		if u == other {
			other = "@carol:c.example"
		}
		bad := mk("m.room.member", other, authgen.Sp(u), M{"membership": "join"},
			selectAuth(b.Ver, st, "m.room.member", other, authgen.Sp(u), M{"membership": "join"}), lastID(), authgen.Opts{})
		c.events = append(c.events, bad)
		st[key{"m.room.member", u}] = info(c, bad).id
		c.events = append(c.events, mk("m.room.message", u, nil, M{"body": "after"},
			selectAuth(b.Ver, st, "m.room.message", u, nil, nil), lastID(), authgen.Opts{}))
	case "forge-sig":
		i := r.Intn(n)
		e := info(c, c.events[i])
		s, _ := e.m["sender"].(string)
		c.events[i] = forgeSig(c.events[i], difftool.DomainOf(s))
	case "forge-authvia", "strip-authvia":
		var cands []int
		for i, raw := range c.events {
			if strings.Contains(string(raw), "join_authorised_via_users_server") {
				cands = append(cands, i)
			}
		}
		if len(cands) == 0 {
			return false
		}
		i := cands[r.Intn(len(cands))]
		e := info(c, c.events[i])
		ct, _ := e.m["content"].(map[string]any)
		a, _ := ct["join_authorised_via_users_server"].(string)
		d := difftool.DomainOf(a)
		s, _ := e.m["sender"].(string)
		if d == difftool.DomainOf(s) {
			return false
		}
		if mut == "forge-authvia" {
			c.events[i] = forgeSig(c.events[i], d)
		} else {
			delete(e.m["signatures"].(map[string]any), d)
			c.events[i] = difftool.Enc(e.m)
		}
	case "tamper": // content changed after signing: the hash fails, the signature may hold
		i := nonCreate()
		m := difftool.Decode(c.events[i])
		ct, _ := m["content"].(map[string]any)
		if ct == nil {
			return false
		}
		ct["tampered"] = true
		if r.Intn(3) == 0 {
			if _, ok := ct["body"]; ok {
				ct["body"] = "changed"
				delete(ct, "tampered")
			}
		}
		c.events[i] = difftool.Enc(m)
	case "dup-tampered": // a copy with content the redaction removes changed: same ID, hash fails
		i := nonCreate()
		m := difftool.Decode(c.events[i])
		ct, _ := m["content"].(map[string]any)
		if ct == nil {
			return false
		}
		ct["forged"] = "yes"
		j := i + 1 + r.Intn(n-i)
		if r.Intn(2) == 0 {
			j = i // the forged copy arrives first
		}
		c.events = slices.Insert(c.events, j, difftool.Enc(m))
	case "malform": // an event that is not a valid PDU (check 1): depth a string
		i := nonCreate()
		m := difftool.Decode(c.events[i])
		m["depth"] = "x"
		c.events[i] = difftool.Enc(m)
	case "unknown-key":
		servers := difftool.SortedKeys(c.keys)
		if len(servers) < 2 {
			return false
		}
		delete(c.keys, servers[1+r.Intn(len(servers)-1)])
	default:
		return false
	}
	return true
}

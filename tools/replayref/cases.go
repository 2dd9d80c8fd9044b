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
	"github.com/roomproto/roomproto/tools/internal/chainroom"
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

// roomConfig is how replayref draws its authgen-style rooms: every event signed for real, 4-16
// random events, restricted joins authorised by three different users.
var roomConfig = chainroom.Config{
	Real:       true,
	Restricted: 2,
	MinSteps:   4,
	MaxSteps:   16,
	Weights:    chainroom.Weights{Member: 10, PowerLevels: 3, JoinRules: 1, OtherState: 3},
	AuthVia: func(r *rand.Rand) (string, bool) {
		if r.Intn(3) != 0 {
			return "", false
		}
		return difftool.Pick(r, authgen.Creator, "@bob:b.example", "@carol:c.example"), true
	},
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
func stateAt(c *replayCase, n int) map[chainroom.Key]string {
	st := map[chainroom.Key]string{}
	for _, raw := range c.events[:n] {
		e := info(c, raw)
		if e.sk != nil {
			st[chainroom.Key{Type: e.typ, StateKey: *e.sk}] = e.id
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
		g := chainroom.Gen(r, vid, roomConfig)
		for _, e := range g.Evs {
			c.events = append(c.events, e.Raw)
		}
		c.labels = append(c.labels, "gen")
		b.RoomID = g.B.RoomID
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
func joinedAt(c *replayCase, st map[chainroom.Key]string) []string {
	var out []string
	for k, id := range st {
		if k.Type != "m.room.member" {
			continue
		}
		for _, raw := range c.events {
			e := info(c, raw)
			if e.id == id {
				if ct, _ := e.m["content"].(map[string]any); ct != nil && ct["membership"] == "join" {
					out = append(out, k.StateKey)
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
			chainroom.SelectAuth(b.Ver, st, "m.room.topic", sender, authgen.Sp(""), nil), lastID(), authgen.Opts{}))
		m["event_id"] = e.id
		delete(m, "signatures")
		c.events = append(c.events, authgen.SignAll(b.V, difftool.Enc(m), []string{"a.example"}))
	case "foreign": // an event of another room, citing this room's auth events
		st := stateAt(c, n)
		sender := authgen.Creator
		raw := mk("m.room.topic", sender, authgen.Sp(""), M{"topic": "elsewhere"},
			chainroom.SelectAuth(b.Ver, st, "m.room.topic", sender, authgen.Sp(""), nil), lastID(), authgen.Opts{})
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
			chainroom.SelectAuth(b.Ver, st, "m.room.message", sender, nil, nil), prev, authgen.Opts{}))
	case "early-auth": // a message by a user joined now, citing the state before the user joined
		st := stateAt(c, n)
		js := joinedAt(c, st)
		if len(js) == 0 {
			return false
		}
		sender := js[r.Intn(len(js))]
		early := stateAt(c, 1+r.Intn(2))
		c.events = append(c.events, mk("m.room.message", sender, nil, M{"body": "early"},
			chainroom.SelectAuth(b.Ver, early, "m.room.message", sender, nil, nil), lastID(), authgen.Opts{}))
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
			chainroom.SelectAuth(b.Ver, st, "m.room.member", creator, authgen.Sp(u), M{"membership": "ban"}), lastID(), authgen.Opts{})
		c.events = append(c.events, ban)
		prev := lastID()
		if r.Intn(2) == 0 { // sent concurrently with the ban: prev_events before it
			prev = before
		}
		c.events = append(c.events, mk("m.room.message", u, nil, M{"body": "still here"},
			chainroom.SelectAuth(b.Ver, st, "m.room.message", u, nil, nil), prev, authgen.Opts{}))
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
			chainroom.SelectAuth(b.Ver, st, "m.room.member", other, authgen.Sp(u), M{"membership": "join"}), lastID(), authgen.Opts{})
		c.events = append(c.events, bad)
		st[chainroom.Key{Type: "m.room.member", StateKey: u}] = info(c, bad).id
		c.events = append(c.events, mk("m.room.message", u, nil, M{"body": "after"},
			chainroom.SelectAuth(b.Ver, st, "m.room.message", u, nil, nil), lastID(), authgen.Opts{}))
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

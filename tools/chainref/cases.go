package main

import (
	"crypto/sha256"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// item is one entry of a drawn set: the event roomproto receives (nil for a nil entry) and
// what the reference is told about it.
type item struct {
	ev  *pdu.Event
	raw []byte
}

// chainCase is one drawn set with the options of its CheckAuthChain call.
type chainCase struct {
	vid      string
	v        roomversion.Version
	items    []item
	rejected map[string]bool
	labels   []string
	// conflict is set when two different events share an ID: which one is "first" then
	// depends on the input order, so the order-invariance check is skipped.
	conflict bool
}

type key struct{ typ, sk string }

// gen builds the events of one room with auth events chosen by the spec's selection
// algorithm (server-server-api "Auth events selection") against the state as the generator
// sees it: every state event updates it, accepted or not, so events whose auth events were
// rejected (and chains of them) come naturally.
type gen struct {
	b     *authgen.Builder
	r     *rand.Rand
	ver   int
	state map[key]*authgen.Event
	evs   []*authgen.Event
	last  string
	pl    M
}

func (g *gen) selectAuth(typ, sender string, sk *string, content M) []string {
	var ids []string
	add := func(k key) {
		if e := g.state[k]; e != nil && !slices.Contains(ids, e.ID) {
			ids = append(ids, e.ID)
		}
	}
	if typ == "m.room.create" {
		return nil
	}
	if g.ver < 12 {
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
		if a, ok := content["join_authorised_via_users_server"].(string); ok && ms == "join" && g.ver >= 8 {
			add(key{"m.room.member", a})
		}
	}
	return ids
}

// mk builds an event citing the selected auth events, and records it.
func (g *gen) mk(typ, sender string, sk *string, content M, o authgen.Opts) *authgen.Event {
	auth := g.selectAuth(typ, sender, sk, content)
	if o.Prev == nil && g.last != "" {
		o.Prev = []string{g.last}
	}
	e := g.b.Mk(typ, sender, sk, content, auth, o)
	g.evs = append(g.evs, e)
	g.last = e.ID
	if sk != nil {
		g.state[key{typ, *sk}] = e
	}
	return e
}

// fakeID returns a new event ID of no event (authgen's FakeID gives the same ID every time from
// v3: it keeps the first 43 characters of the base64 of "fake-event-<32 digits>", which do not
// reach the digits).
func (g *gen) fakeID() string {
	g.b.N++
	if g.ver <= 2 {
		return fmt.Sprintf("$fake%d:a.example", g.b.N)
	}
	h := sha256.Sum256([]byte(fmt.Sprint("fake ", g.b.N)))
	return "$" + difftool.B64URL(h[:])
}

func (g *gen) user() string { return authgen.Users[g.r.Intn(len(authgen.Users))] }

// genRoom draws a room: create, creator's join, power levels, join rules, then 3-14 events of
// random senders (memberships, power levels and join rules changes, other state, messages).
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
	if r.Intn(15) == 0 {
		cc["m.federate"] = false
	}
	if r.Intn(40) == 0 {
		cc["room_version"] = "99" // a create the rules reject (1.3): everything depending on it fails
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
		rules = append(rules, "restricted")
	}
	if r.Intn(10) != 0 {
		jr := difftool.Pick(r, rules...)
		c := M{"join_rule": jr}
		if jr == "restricted" {
			c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
		}
		g.mk("m.room.join_rules", creator, authgen.Sp(""), c, authgen.Opts{})
	}
	for k := 3 + r.Intn(12); k > 0; k-- {
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
	case k < 9: // membership
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
			if ms == "join" && g.ver >= 8 && r.Intn(4) == 0 {
				c["join_authorised_via_users_server"] = authgen.Creator
				o.Signers = []string{"a.example"}
			}
		case "leave":
			if r.Intn(2) == 0 {
				sender = target
			}
		}
		g.mk("m.room.member", sender, authgen.Sp(target), c, o)
	case k < 12: // power levels change (by anyone: some are rejected, and so are their citers)
		pl := difftool.CopyM(g.pl)
		users := difftool.CopyM(pl["users"].(M))
		users[g.user()] = difftool.Pick(r, 0, 50, 100)
		pl["users"] = users
		if r.Intn(3) == 0 {
			pl["state_default"] = difftool.Pick(r, 0, 50, 100)
		}
		g.pl = pl
		g.mk("m.room.power_levels", sender, authgen.Sp(""), difftool.CopyM(pl), authgen.Opts{})
	case k < 13:
		jr := difftool.Pick(r, "public", "invite")
		g.mk("m.room.join_rules", sender, authgen.Sp(""), M{"join_rule": jr}, authgen.Opts{})
	case k < 17:
		t := difftool.Pick(r, "m.room.name", "m.room.topic", "com.example.state")
		g.mk(t, sender, authgen.Sp(""), M{"name": fmt.Sprint("n", g.b.N)}, authgen.Opts{})
	default:
		if g.ver <= 2 && r.Intn(3) == 0 && len(g.evs) > 0 {
			tgt := g.evs[r.Intn(len(g.evs))].ID
			g.mk("m.room.redaction", sender, nil, M{}, authgen.Opts{Redacts: tgt})
			return
		}
		g.mk("m.room.message", sender, nil, M{"body": "hi"}, authgen.Opts{})
	}
}

// parse gives roomproto's parsed event, with the ID the generator knows.
func parse(v roomversion.Version, raw []byte, id string) *pdu.Event {
	ev, err := pdu.Parse(v, raw)
	if err != nil {
		return nil
	}
	ev.EventID = id
	return ev
}

// setField returns raw with a top-level field replaced.
func setField(raw []byte, k string, val any) []byte {
	m := difftool.Decode(raw)
	m[k] = val
	return difftool.Enc(m)
}

func (g *gen) authRef(id string) any {
	if g.ver <= 2 {
		return []any{id, M{"sha256": authgen.DummyHash}}
	}
	return id
}

// mutations draws 0-3 mutations of the set and returns the case.
func drawCase(r *rand.Rand, vid string) *chainCase {
	g := genRoom(r, vid)
	c := &chainCase{vid: vid, v: g.b.V, rejected: map[string]bool{}}
	type pend struct {
		raw []byte
		id  string
		v   roomversion.Version
		nid bool // no event ID
		nil bool
	}
	var set []pend
	for _, e := range g.evs {
		set = append(set, pend{raw: e.Raw, id: e.ID, v: g.b.V})
	}
	createID := g.evs[0].ID
	nonCreate := func() int { return 1 + r.Intn(len(set)-1) }
	muts := []string{"drop", "drop-create", "prerej", "prerej-absent", "dup", "conflict", "cycle", "self-cycle",
		"cycle-downstream", "otherver", "noid", "wrongkey", "dupauth", "extra-room", "foreign-auth", "nil",
		"v12-roomid", "create-auth", "create-cites-join", "reorder-only"}
	nm := r.Intn(4)
	if r.Intn(8) == 0 {
		nm = 0
	}
	for m := 0; m < nm; m++ {
		mut := difftool.Pick(r, muts...)
		if len(set) < 2 {
			break
		}
		switch mut {
		case "drop":
			i := nonCreate()
			set = slices.Delete(set, i, i+1)
		case "drop-create":
			if set[0].id != createID {
				continue
			}
			set = set[1:]
		case "prerej":
			c.rejected[set[r.Intn(len(set))].id] = true
		case "prerej-absent":
			i := nonCreate()
			c.rejected[set[i].id] = true
			set = slices.Delete(set, i, i+1)
		case "dup":
			set = append(set, set[r.Intn(len(set))])
		case "conflict":
			// another event with an ID already in the set (v1-2: its own event_id; v3+: an ID the
			// caller set that is not its hash)
			i := r.Intn(len(set))
			e := g.b.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "x"}, g.selectAuth("m.room.topic", authgen.Creator, authgen.Sp(""), nil), authgen.Opts{})
			raw := e.Raw
			if g.ver <= 2 {
				raw = setField(raw, "event_id", set[i].id)
			}
			set = append(set, pend{raw: raw, id: set[i].id, v: g.b.V})
			c.conflict = true
		case "cycle", "cycle-downstream":
			// X cites Y, Y cites X (on top of their selected auth events); downstream Z cites X.
			fx, fy := g.fakeID(), g.fakeID()
			auth := g.selectAuth("m.room.topic", authgen.Creator, authgen.Sp(""), nil)
			x := g.b.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "x"}, append(slices.Clone(auth), fy), authgen.Opts{})
			y := g.b.Mk("m.room.name", authgen.Creator, authgen.Sp(""), M{"name": "y"}, append(slices.Clone(auth), fx), authgen.Opts{})
			xr, yr := x.Raw, y.Raw
			if g.ver <= 2 {
				xr, yr = setField(xr, "event_id", fx), setField(yr, "event_id", fy)
			}
			set = append(set, pend{raw: xr, id: fx, v: g.b.V}, pend{raw: yr, id: fy, v: g.b.V})
			if mut == "cycle-downstream" {
				z := g.b.Mk("m.room.member", authgen.Creator, authgen.Sp(authgen.Creator), M{"membership": "join"}, []string{createID, fx}, authgen.Opts{})
				set = append(set, pend{raw: z.Raw, id: z.ID, v: g.b.V})
			}
		case "self-cycle":
			f := g.fakeID()
			auth := g.selectAuth("m.room.topic", authgen.Creator, authgen.Sp(""), nil)
			x := g.b.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "s"}, append(auth, f), authgen.Opts{})
			raw := x.Raw
			if g.ver <= 2 {
				raw = setField(raw, "event_id", f)
			}
			set = append(set, pend{raw: raw, id: f, v: g.b.V})
		case "otherver":
			i := r.Intn(len(set))
			o := difftool.Pick(r, allVers...)
			if o == vid {
				continue
			}
			set[i].v = authgen.Version(o)
		case "noid":
			set[nonCreate()].nid = true
		case "wrongkey":
			// a message citing the join rules too, or a member event citing another user's membership
			sel := g.selectAuth("m.room.message", authgen.Creator, nil, nil)
			extra := ""
			for _, k := range []key{{"m.room.join_rules", ""}, {"m.room.member", authgen.Users[1]}, {"m.room.name", ""}, {"m.room.topic", ""}} {
				if e := g.state[k]; e != nil && r.Intn(2) == 0 {
					extra = e.ID
					break
				}
			}
			if extra == "" {
				continue
			}
			e := g.b.Mk("m.room.message", authgen.Creator, nil, M{"body": "w"}, append(sel, extra), authgen.Opts{})
			set = append(set, pend{raw: e.Raw, id: e.ID, v: g.b.V})
		case "dupauth":
			sel := g.selectAuth("m.room.message", authgen.Creator, nil, nil)
			if len(sel) == 0 {
				continue
			}
			e := g.b.Mk("m.room.message", authgen.Creator, nil, M{"body": "d"}, append(sel, sel[r.Intn(len(sel))]), authgen.Opts{})
			set = append(set, pend{raw: e.Raw, id: e.ID, v: g.b.V})
		case "extra-room", "foreign-auth":
			// events of another room (its own create and join), and with foreign-auth an event of
			// this room citing the other room's join
			saved, savedN := g.b.RoomID, g.b.N
			g.b.RoomID = "!other:a.example"
			occ := M{"room_version": vid}
			if g.ver <= 10 {
				occ["creator"] = authgen.Creator
			}
			oc := g.b.Mk("m.room.create", authgen.Creator, authgen.Sp(""), occ, nil, authgen.Opts{})
			if g.ver >= 12 {
				g.b.RoomID = "!" + oc.ID[1:]
			}
			var oauth []string
			if g.ver < 12 {
				oauth = []string{oc.ID}
			}
			oj := g.b.Mk("m.room.member", authgen.Creator, authgen.Sp(authgen.Creator), M{"membership": "join"}, oauth, authgen.Opts{Prev: []string{oc.ID}})
			g.b.RoomID = saved
			_ = savedN
			set = append(set, pend{raw: oc.Raw, id: oc.ID, v: g.b.V}, pend{raw: oj.Raw, id: oj.ID, v: g.b.V})
			if mut == "foreign-auth" {
				sel := g.selectAuth("m.room.message", authgen.Creator, nil, nil)
				for j, a := range sel {
					if e := g.state[key{"m.room.member", authgen.Creator}]; e != nil && a == e.ID {
						sel[j] = oj.ID
					}
				}
				e := g.b.Mk("m.room.message", authgen.Creator, nil, M{"body": "f"}, sel, authgen.Opts{})
				set = append(set, pend{raw: e.Raw, id: e.ID, v: g.b.V})
			}
		case "nil":
			set = append(set, pend{nil: true})
		case "v12-roomid":
			if g.ver < 12 {
				continue
			}
			// an event whose room_id names a non-create event of the set, or no event at all
			sel := g.selectAuth("m.room.message", authgen.Creator, nil, nil)
			e := g.b.Mk("m.room.message", authgen.Creator, nil, M{"body": "r"}, sel, authgen.Opts{})
			rid := "!" + set[nonCreate()].id[1:]
			if r.Intn(2) == 0 {
				rid = "!" + g.fakeID()[1:]
			}
			raw := setField(e.Raw, "room_id", rid)
			id, err := signing.EventID(g.b.V, raw)
			if err != nil {
				continue
			}
			set = append(set, pend{raw: raw, id: id, v: g.b.V})
		case "create-auth":
			// a second create event (of another room) that cites auth events: rule 1 alone decides
			saved := g.b.RoomID
			g.b.RoomID = "!third:a.example"
			occ := M{"room_version": vid}
			if g.ver <= 10 {
				occ["creator"] = authgen.Creator
			}
			oc := g.b.Mk("m.room.create", authgen.Creator, authgen.Sp(""), occ, []string{set[r.Intn(len(set))].id, g.fakeID()}, authgen.Opts{})
			g.b.RoomID = saved
			set = append(set, pend{raw: oc.Raw, id: oc.ID, v: g.b.V})
		case "create-cites-join":
			// v1-2: the room's create event lists the creator's join (which lists the create) in its
			// auth_events; rule 1 does not look at them, so nothing changes for the rules
			if g.ver > 2 || set[0].id != createID || len(g.evs) < 2 {
				continue
			}
			set[0].raw = setField(set[0].raw, "auth_events", []any{g.authRef(g.evs[1].ID)})
		case "reorder-only":
		}
		c.labels = append(c.labels, mut)
	}
	if len(c.labels) == 0 {
		c.labels = []string{"none"}
	}
	r.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
	for _, p := range set {
		if p.nil {
			c.items = append(c.items, item{})
			continue
		}
		id := p.id
		if p.nid {
			id = ""
		}
		ev := parse(p.v, p.raw, id)
		if ev == nil {
			// the raw does not parse for the other version: keep this room's version
			ev = parse(g.b.V, p.raw, id)
		}
		if ev == nil {
			continue
		}
		c.items = append(c.items, item{ev: ev, raw: p.raw})
	}
	return c
}

func label(c *chainCase) string { return strings.Join(c.labels, "+") }

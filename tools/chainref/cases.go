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
	"github.com/roomproto/roomproto/tools/internal/chainroom"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
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

// gen is a drawn room (chainroom.Gen with roomConfig) with chainref's additions.
type gen struct{ *chainroom.Room }

// roomConfig is how chainref draws its rooms: 1 create in 15 with m.federate false and 1 in 40
// of an unknown room version (a create the rules reject (1.3): everything depending on it fails),
// 3-14 random events, restricted joins authorised by the creator, v1-2 redactions.
var roomConfig = chainroom.Config{
	CreateContent: func(r *rand.Rand, cc M) {
		if r.Intn(15) == 0 {
			cc["m.federate"] = false
		}
		if r.Intn(40) == 0 {
			cc["room_version"] = "99"
		}
	},
	Restricted: 1,
	MinSteps:   3,
	MaxSteps:   14,
	Weights:    chainroom.Weights{Member: 9, PowerLevels: 3, JoinRules: 1, OtherState: 4},
	AuthVia:    func(r *rand.Rand) (string, bool) { return authgen.Creator, r.Intn(4) == 0 },
	Redactions: true,
}

// fakeID returns a new event ID of no event (authgen's FakeID gives the same ID every time from
// v3: it keeps the first 43 characters of the base64 of "fake-event-<32 digits>", which do not
// reach the digits).
func (g *gen) fakeID() string {
	g.B.N++
	if g.Ver <= 2 {
		return fmt.Sprintf("$fake%d:a.example", g.B.N)
	}
	h := sha256.Sum256([]byte(fmt.Sprint("fake ", g.B.N)))
	return "$" + difftool.B64URL(h[:])
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
	if g.Ver <= 2 {
		return []any{id, M{"sha256": authgen.DummyHash}}
	}
	return id
}

// mutations draws 0-3 mutations of the set and returns the case.
func drawCase(r *rand.Rand, vid string) *chainCase {
	g := &gen{chainroom.Gen(r, vid, roomConfig)}
	c := &chainCase{vid: vid, v: g.B.V, rejected: map[string]bool{}}
	type pend struct {
		raw []byte
		id  string
		v   roomversion.Version
		nid bool // no event ID
		nil bool
	}
	var set []pend
	for _, e := range g.Evs {
		set = append(set, pend{raw: e.Raw, id: e.ID, v: g.B.V})
	}
	createID := g.Evs[0].ID
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
			e := g.B.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "x"}, g.SelectAuth("m.room.topic", authgen.Creator, authgen.Sp(""), nil), authgen.Opts{})
			raw := e.Raw
			if g.Ver <= 2 {
				raw = setField(raw, "event_id", set[i].id)
			}
			set = append(set, pend{raw: raw, id: set[i].id, v: g.B.V})
			c.conflict = true
		case "cycle", "cycle-downstream":
			// X cites Y, Y cites X (on top of their selected auth events); downstream Z cites X.
			fx, fy := g.fakeID(), g.fakeID()
			auth := g.SelectAuth("m.room.topic", authgen.Creator, authgen.Sp(""), nil)
			x := g.B.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "x"}, append(slices.Clone(auth), fy), authgen.Opts{})
			y := g.B.Mk("m.room.name", authgen.Creator, authgen.Sp(""), M{"name": "y"}, append(slices.Clone(auth), fx), authgen.Opts{})
			xr, yr := x.Raw, y.Raw
			if g.Ver <= 2 {
				xr, yr = setField(xr, "event_id", fx), setField(yr, "event_id", fy)
			}
			set = append(set, pend{raw: xr, id: fx, v: g.B.V}, pend{raw: yr, id: fy, v: g.B.V})
			if mut == "cycle-downstream" {
				z := g.B.Mk("m.room.member", authgen.Creator, authgen.Sp(authgen.Creator), M{"membership": "join"}, []string{createID, fx}, authgen.Opts{})
				set = append(set, pend{raw: z.Raw, id: z.ID, v: g.B.V})
			}
		case "self-cycle":
			f := g.fakeID()
			auth := g.SelectAuth("m.room.topic", authgen.Creator, authgen.Sp(""), nil)
			x := g.B.Mk("m.room.topic", authgen.Creator, authgen.Sp(""), M{"topic": "s"}, append(auth, f), authgen.Opts{})
			raw := x.Raw
			if g.Ver <= 2 {
				raw = setField(raw, "event_id", f)
			}
			set = append(set, pend{raw: raw, id: f, v: g.B.V})
		case "otherver":
			i := r.Intn(len(set))
			o := difftool.Pick(r, pyref.Versions...)
			if o == vid {
				continue
			}
			set[i].v = authgen.Version(o)
		case "noid":
			set[nonCreate()].nid = true
		case "wrongkey":
			// a message citing the join rules too, or a member event citing another user's membership
			sel := g.SelectAuth("m.room.message", authgen.Creator, nil, nil)
			extra := ""
			for _, k := range []chainroom.Key{{Type: "m.room.join_rules"}, {Type: "m.room.member", StateKey: authgen.Users[1]}, {Type: "m.room.name"}, {Type: "m.room.topic"}} {
				if e := g.State[k]; e != nil && r.Intn(2) == 0 {
					extra = e.ID
					break
				}
			}
			if extra == "" {
				continue
			}
			e := g.B.Mk("m.room.message", authgen.Creator, nil, M{"body": "w"}, append(sel, extra), authgen.Opts{})
			set = append(set, pend{raw: e.Raw, id: e.ID, v: g.B.V})
		case "dupauth":
			sel := g.SelectAuth("m.room.message", authgen.Creator, nil, nil)
			if len(sel) == 0 {
				continue
			}
			e := g.B.Mk("m.room.message", authgen.Creator, nil, M{"body": "d"}, append(sel, sel[r.Intn(len(sel))]), authgen.Opts{})
			set = append(set, pend{raw: e.Raw, id: e.ID, v: g.B.V})
		case "extra-room", "foreign-auth":
			// events of another room (its own create and join), and with foreign-auth an event of
			// this room citing the other room's join
			saved, savedN := g.B.RoomID, g.B.N
			g.B.RoomID = "!other:a.example"
			occ := M{"room_version": vid}
			if g.Ver <= 10 {
				occ["creator"] = authgen.Creator
			}
			oc := g.B.Mk("m.room.create", authgen.Creator, authgen.Sp(""), occ, nil, authgen.Opts{})
			if g.Ver >= 12 {
				g.B.RoomID = "!" + oc.ID[1:]
			}
			var oauth []string
			if g.Ver < 12 {
				oauth = []string{oc.ID}
			}
			oj := g.B.Mk("m.room.member", authgen.Creator, authgen.Sp(authgen.Creator), M{"membership": "join"}, oauth, authgen.Opts{Prev: []string{oc.ID}})
			g.B.RoomID = saved
			_ = savedN
			set = append(set, pend{raw: oc.Raw, id: oc.ID, v: g.B.V}, pend{raw: oj.Raw, id: oj.ID, v: g.B.V})
			if mut == "foreign-auth" {
				sel := g.SelectAuth("m.room.message", authgen.Creator, nil, nil)
				for j, a := range sel {
					if e := g.State[chainroom.Key{Type: "m.room.member", StateKey: authgen.Creator}]; e != nil && a == e.ID {
						sel[j] = oj.ID
					}
				}
				e := g.B.Mk("m.room.message", authgen.Creator, nil, M{"body": "f"}, sel, authgen.Opts{})
				set = append(set, pend{raw: e.Raw, id: e.ID, v: g.B.V})
			}
		case "nil":
			set = append(set, pend{nil: true})
		case "v12-roomid":
			if g.Ver < 12 {
				continue
			}
			// an event whose room_id names a non-create event of the set, or no event at all
			sel := g.SelectAuth("m.room.message", authgen.Creator, nil, nil)
			e := g.B.Mk("m.room.message", authgen.Creator, nil, M{"body": "r"}, sel, authgen.Opts{})
			rid := "!" + set[nonCreate()].id[1:]
			if r.Intn(2) == 0 {
				rid = "!" + g.fakeID()[1:]
			}
			raw := setField(e.Raw, "room_id", rid)
			id, err := signing.EventID(g.B.V, raw)
			if err != nil {
				continue
			}
			set = append(set, pend{raw: raw, id: id, v: g.B.V})
		case "create-auth":
			// a second create event (of another room) that cites auth events: rule 1 alone decides
			saved := g.B.RoomID
			g.B.RoomID = "!third:a.example"
			occ := M{"room_version": vid}
			if g.Ver <= 10 {
				occ["creator"] = authgen.Creator
			}
			oc := g.B.Mk("m.room.create", authgen.Creator, authgen.Sp(""), occ, []string{set[r.Intn(len(set))].id, g.fakeID()}, authgen.Opts{})
			g.B.RoomID = saved
			set = append(set, pend{raw: oc.Raw, id: oc.ID, v: g.B.V})
		case "create-cites-join":
			// v1-2: the room's create event lists the creator's join (which lists the create) in its
			// auth_events; rule 1 does not look at them, so nothing changes for the rules
			if g.Ver > 2 || set[0].id != createID || len(g.Evs) < 2 {
				continue
			}
			set[0].raw = setField(set[0].raw, "auth_events", []any{g.authRef(g.Evs[1].ID)})
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
			ev = parse(g.B.V, p.raw, id)
		}
		if ev == nil {
			continue
		}
		c.items = append(c.items, item{ev: ev, raw: p.raw})
	}
	return c
}

func label(c *chainCase) string { return strings.Join(c.labels, "+") }

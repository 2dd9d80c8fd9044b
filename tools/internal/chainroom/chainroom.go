// Package chainroom draws the rooms of the auth chain audits (tools/chainref, tools/replayref):
// rooms of every room version built with authgen.Builder whose events cite the auth events the
// spec's selection algorithm (server-server-api "Auth events selection") picks from the
// generator's running state. Every state event updates that state, accepted or not, so events
// whose auth events were rejected, and chains of them, come naturally.
//
// A room is the create event, the creator's join, power levels (absent 1 time in 10), join rules
// (absent 1 time in 10), then random events of random senders: memberships, power levels and join
// rules changes, other state, messages. What differs between the tools is set in a Config; the
// same seed and Config give the same events, byte for byte.
package chainroom

import (
	"fmt"
	"math/rand"
	"slices"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// Key is the (type, state_key) of a state event.
type Key struct{ Type, StateKey string }

// Weights are the shares, out of 20, of the kinds of random event drawn after the join rules:
// a membership, a power levels change, a join rules change (public or invite), another state
// event; the rest of the 20 are messages.
type Weights struct {
	Member, PowerLevels, JoinRules, OtherState int
}

// Config is what differs between the tools' rooms.
type Config struct {
	// Real signs every event for real (authgen.Opts.Real).
	Real bool
	// CreateContent, when set, may change the create event's content before it is built
	// (after creator and additional_creators are set); it draws from r.
	CreateContent func(r *rand.Rand, content M)
	// Restricted is how many times "restricted" stands, beside public (twice), invite and in v7+
	// knock, among the join rules the room's first join rules event draws from in v8+.
	Restricted int
	// MinSteps and MaxSteps bound the number of random events after the join rules.
	MinSteps, MaxSteps int
	// Weights are the shares of the kinds of random event.
	Weights Weights
	// AuthVia is asked for each join in v8+ whether it is a restricted join and by which
	// authoriser (its join_authorised_via_users_server; the authoriser's server signs it too);
	// it draws from r. Nil: no restricted joins.
	AuthVia func(r *rand.Rand) (authoriser string, ok bool)
	// Redactions makes a message 1 time in 3 an m.room.redaction of an earlier event in v1-2.
	Redactions bool
}

// Room is a drawn room.
type Room struct {
	// B builds the room's events (and any more a tool adds to its cases).
	B *authgen.Builder
	// Ver is the room version as a number.
	Ver int
	// State is the running state: the last event of each (type, state_key), accepted or not.
	State map[Key]*authgen.Event
	// Evs are the room's events in order.
	Evs []*authgen.Event

	r    *rand.Rand
	cfg  Config
	last string
	pl   M
}

// SelectAuth returns the IDs of the auth events the selection algorithm picks for an event
// (typ, sender, sk, content) of room version ver from state, a (type, state_key) → event ID map.
func SelectAuth(ver int, state map[Key]string, typ, sender string, sk *string, content M) []string {
	var ids []string
	add := func(k Key) {
		if e, ok := state[k]; ok && !slices.Contains(ids, e) {
			ids = append(ids, e)
		}
	}
	if typ == "m.room.create" {
		return nil
	}
	if ver < 12 {
		add(Key{"m.room.create", ""})
	}
	add(Key{"m.room.power_levels", ""})
	add(Key{"m.room.member", sender})
	if typ == "m.room.member" && sk != nil {
		add(Key{"m.room.member", *sk})
		ms, _ := content["membership"].(string)
		if ms == "join" || ms == "invite" || ms == "knock" {
			add(Key{"m.room.join_rules", ""})
		}
		if a, ok := content["join_authorised_via_users_server"].(string); ok && ms == "join" && ver >= 8 {
			add(Key{"m.room.member", a})
		}
	}
	return ids
}

// SelectAuth returns the IDs of the auth events the selection algorithm picks from the running
// state (State) for an event (typ, sender, sk, content).
func (g *Room) SelectAuth(typ, sender string, sk *string, content M) []string {
	ids := map[Key]string{}
	for k, e := range g.State {
		ids[k] = e.ID
	}
	return SelectAuth(g.Ver, ids, typ, sender, sk, content)
}

// mk builds an event citing the selected auth events and the last event, and records it.
func (g *Room) mk(typ, sender string, sk *string, content M, o authgen.Opts) *authgen.Event {
	auth := g.SelectAuth(typ, sender, sk, content)
	if o.Prev == nil && g.last != "" {
		o.Prev = []string{g.last}
	}
	if g.cfg.Real {
		o.Real = true
	}
	e := g.B.Mk(typ, sender, sk, content, auth, o)
	g.Evs = append(g.Evs, e)
	g.last = e.ID
	if sk != nil {
		g.State[Key{typ, *sk}] = e
	}
	return e
}

func (g *Room) user() string { return authgen.Users[g.r.Intn(len(authgen.Users))] }

// Gen draws a room of version vid as cfg says.
func Gen(r *rand.Rand, vid string, cfg Config) *Room {
	b := &authgen.Builder{V: authgen.Version(vid), Ver: difftool.VerNum(vid), R: r}
	g := &Room{B: b, r: r, cfg: cfg, Ver: b.Ver, State: map[Key]*authgen.Event{}}
	creator := authgen.Creator
	cc := M{"room_version": vid}
	if g.Ver <= 10 {
		cc["creator"] = creator
	}
	if g.Ver >= 12 && r.Intn(4) == 0 {
		cc["additional_creators"] = []any{"@bob:b.example"}
	}
	if cfg.CreateContent != nil {
		cfg.CreateContent(r, cc)
	}
	create := g.mk("m.room.create", creator, authgen.Sp(""), cc, authgen.Opts{Prev: []string{}})
	if g.Ver >= 12 {
		b.RoomID = "!" + create.ID[1:]
	}
	g.mk("m.room.member", creator, authgen.Sp(creator), M{"membership": "join"}, authgen.Opts{})
	users := M{}
	if g.Ver < 12 {
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
	if g.Ver >= 7 {
		rules = append(rules, "knock")
	}
	if g.Ver >= 8 {
		for range cfg.Restricted {
			rules = append(rules, "restricted")
		}
	}
	if r.Intn(10) != 0 {
		jr := difftool.Pick(r, rules...)
		c := M{"join_rule": jr}
		if jr == "restricted" {
			c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
		}
		g.mk("m.room.join_rules", creator, authgen.Sp(""), c, authgen.Opts{})
	}
	for k := cfg.MinSteps + r.Intn(cfg.MaxSteps-cfg.MinSteps+1); k > 0; k-- {
		g.step()
	}
	return g
}

// step adds one random event.
func (g *Room) step() {
	r, w := g.r, g.cfg.Weights
	sender := g.user()
	if r.Intn(3) == 0 {
		sender = authgen.Creator
	}
	switch k := r.Intn(20); {
	case k < w.Member:
		target := g.user()
		ms := difftool.Pick(r, "join", "join", "join", "invite", "leave", "ban", "knock")
		if ms == "knock" && g.Ver < 7 {
			ms = "join"
		}
		c := M{"membership": ms}
		o := authgen.Opts{}
		switch ms {
		case "join", "knock":
			sender = target
			if ms == "join" && g.Ver >= 8 && g.cfg.AuthVia != nil {
				if a, ok := g.cfg.AuthVia(r); ok {
					c["join_authorised_via_users_server"] = a
					o.Signers = []string{difftool.DomainOf(a)}
				}
			}
		case "leave":
			if r.Intn(2) == 0 {
				sender = target
			}
		}
		g.mk("m.room.member", sender, authgen.Sp(target), c, o)
	case k < w.Member+w.PowerLevels: // by anyone: some are rejected, and so are their citers
		pl := difftool.CopyM(g.pl)
		users := difftool.CopyM(pl["users"].(M))
		users[g.user()] = difftool.Pick(r, 0, 50, 100)
		pl["users"] = users
		if r.Intn(3) == 0 {
			pl["state_default"] = difftool.Pick(r, 0, 50, 100)
		}
		g.pl = pl
		g.mk("m.room.power_levels", sender, authgen.Sp(""), difftool.CopyM(pl), authgen.Opts{})
	case k < w.Member+w.PowerLevels+w.JoinRules:
		jr := difftool.Pick(r, "public", "invite")
		g.mk("m.room.join_rules", sender, authgen.Sp(""), M{"join_rule": jr}, authgen.Opts{})
	case k < w.Member+w.PowerLevels+w.JoinRules+w.OtherState:
		t := difftool.Pick(r, "m.room.name", "m.room.topic", "com.example.state")
		g.mk(t, sender, authgen.Sp(""), M{"name": fmt.Sprint("n", g.B.N)}, authgen.Opts{})
	default:
		if g.cfg.Redactions && g.Ver <= 2 && r.Intn(3) == 0 && len(g.Evs) > 0 {
			tgt := g.Evs[r.Intn(len(g.Evs))].ID
			g.mk("m.room.redaction", sender, nil, M{}, authgen.Opts{Redacts: tgt})
			return
		}
		g.mk("m.room.message", sender, nil, M{"body": "hi"}, authgen.Opts{})
	}
}

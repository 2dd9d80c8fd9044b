//go:build goexperiment.jsonv2

package v12cmp

import (
	"fmt"
	"math/rand"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

const (
	alice = "@alice:a.example" // create sender
	carol = "@carol:c.example" // additional creator (in some rooms)
	bob   = "@bob:b.example"   // level 100
	mod   = "@mod:b.example"   // level 50
	dave  = "@dave:d.example"  // level 0, joined
	erin  = "@erin:a.example"  // invited
	frank = "@frank:b.example" // banned
	mal   = "@mal:evil.example"
	zed   = "@zed:c.example" // never in the room
)

var users = []string{alice, carol, bob, mod, dave, erin, frank, mal, zed}

const maxLevel = int64(1)<<53 - 1

// room is a v12 (or v11) room built with both libraries' parsed forms.
type room struct {
	ver      roomversion.Version
	verS     string
	k        *keyring
	create   *evt
	roomID   string
	creators []string
	federate bool
	state    map[authrules.StateKey]*evt
	store    map[string]*evt // every event by ID (shared between rooms)
	last     string
	depth    int
	joinRule string
}

func (rm *room) put(e *evt) {
	rm.store[e.id] = e
	if e.rp.StateKey != nil {
		rm.state[authrules.StateKey{Type: e.rp.Type, StateKey: *e.rp.StateKey}] = e
	}
	rm.last = e.id
	rm.depth++
}

// authIDs is roomproto's auth events selection for m against the current state.
func (rm *room) authIDs(m M) []string {
	raw := difftool.Enc(withDefaults(rm, m))
	e, err := parseNoSig(rm.ver, raw)
	if err != nil {
		panic(fmt.Errorf("authIDs: %w %s", err, raw)) // invariant: the harness built this event itself
	}
	keys, err := authrules.AuthEventsNeeded(rm.ver, e)
	if err != nil {
		return nil
	}
	var ids []string
	for _, k := range keys {
		if s, ok := rm.state[k]; ok {
			ids = append(ids, s.id)
		}
	}
	return ids
}

func withDefaults(rm *room, m M) M {
	c := deep(m).(M)
	if _, ok := c["room_id"]; !ok && rm.roomID != "" {
		c["room_id"] = rm.roomID
	}
	if _, ok := c["prev_events"]; !ok {
		c["prev_events"] = A{rm.last}
	}
	if _, ok := c["auth_events"]; !ok {
		c["auth_events"] = A{}
	}
	if _, ok := c["depth"]; !ok {
		c["depth"] = rm.depth + 1
	}
	if _, ok := c["origin_server_ts"]; !ok {
		c["origin_server_ts"] = 1700000000000 + rm.depth
	}
	if _, ok := c["hashes"]; !ok {
		c["hashes"] = M{"sha256": "AAAA"}
	}
	if _, ok := c["signatures"]; !ok {
		c["signatures"] = M{}
	}
	return c
}

// build fills the defaults and the auth events, signs as the sender's server.
func (rm *room) build(m M) M {
	c := withDefaults(rm, m)
	if a, ok := m["auth_events"]; !ok || a == nil {
		ids := rm.authIDs(c)
		arr := A{}
		for _, id := range ids {
			arr = append(arr, id)
		}
		c["auth_events"] = arr
	}
	return c
}

func (rm *room) add(m M) *evt {
	c := rm.build(m)
	raw := rm.k.sign(rm.ver, c, serverOf(c["sender"].(string)))
	e := mustParse(rm.ver, raw)
	rm.put(e)
	return e
}

func member(sender, target, membership string) M {
	return M{"type": "m.room.member", "sender": sender, "state_key": target, "content": M{"membership": membership}}
}

// newRoom builds a room: create, creator join, power levels, join rules, members.
func newRoom(r *rand.Rand, k *keyring, verS string, store map[string]*evt, addCarol bool) *room {
	rm := &room{ver: authgen.Version(verS), verS: verS, k: k, state: map[authrules.StateKey]*evt{}, store: store, federate: true}
	cc := M{"room_version": verS}
	if verS == "12" && addCarol {
		cc["additional_creators"] = difftool.Pick(r, A{carol}, A{carol, carol}, A{alice, carol}, A{carol, "@carol:c.example"})
	}
	if r.Intn(6) == 0 {
		cc["m.federate"] = false
		rm.federate = false
	}
	cm := M{"type": "m.room.create", "sender": alice, "state_key": "", "content": cc, "prev_events": A{}, "auth_events": A{},
		"depth": 1, "origin_server_ts": 1700000000000 + r.Intn(1000), "hashes": M{"sha256": "AAAA"}}
	if verS != "12" {
		cm["room_id"] = fmt.Sprintf("!r%d:a.example", r.Intn(1e9))
	}
	raw := k.sign(rm.ver, cm, "a.example")
	rm.create = mustParse(rm.ver, raw)
	if verS == "12" {
		rm.roomID = "!" + rm.create.id[1:]
	} else {
		rm.roomID = cm["room_id"].(string)
	}
	rm.put(rm.create)
	rm.creators = []string{alice}
	if verS == "12" && addCarol {
		rm.creators = append(rm.creators, carol)
	}
	rm.add(member(alice, alice, "join"))
	// power levels
	lv := func() any { return difftool.Pick[any](r, 0, 50, 100, maxLevel) }
	pl := M{"users": M{bob: 100, mod: 50}}
	if verS != "12" {
		pl["users"].(M)[alice] = 100
	}
	if r.Intn(3) == 0 {
		pl["users"].(M)[dave] = difftool.Pick[any](r, 0, 10)
	}
	for _, key := range []string{"ban", "kick", "invite", "state_default", "events_default", "redact", "users_default"} {
		if r.Intn(4) == 0 {
			if key == "users_default" || key == "events_default" {
				pl[key] = difftool.Pick[any](r, 0, 0, 10, 60)
			} else {
				pl[key] = lv()
			}
		}
	}
	if r.Intn(2) == 0 {
		pl["events"] = M{"m.room.tombstone": difftool.Pick[any](r, 100, 150, maxLevel), "m.room.name": difftool.Pick[any](r, 0, 50, 100), "m.room.power_levels": difftool.Pick[any](r, 50, 100)}
	}
	if r.Intn(8) != 0 {
		rm.add(M{"type": "m.room.power_levels", "sender": alice, "state_key": "", "content": pl})
	}
	rm.joinRule = difftool.Pick(r, "public", "invite", "restricted", "knock", "knock_restricted", "")
	if rm.joinRule != "" {
		jc := M{"join_rule": rm.joinRule}
		if rm.joinRule == "restricted" || rm.joinRule == "knock_restricted" {
			jc["allow"] = A{M{"type": "m.room_membership", "room_id": "!other:a.example"}}
		}
		rm.add(M{"type": "m.room.join_rules", "sender": alice, "state_key": "", "content": jc})
	}
	// members: invited then joined (creators included)
	joiners := []string{bob, mod, dave, frank}
	if addCarol && verS == "12" {
		joiners = append([]string{carol}, joiners...)
	} else if r.Intn(2) == 0 {
		joiners = append([]string{carol}, joiners...) // carol as an ordinary member
	}
	for _, u := range joiners {
		if !rm.federate && serverOf(u) != "a.example" {
			continue
		}
		rm.add(member(alice, u, "invite"))
		rm.add(member(u, u, "join"))
	}
	if rm.federate || true {
		rm.add(member(alice, erin, "invite"))
	}
	if _, ok := rm.state[authrules.StateKey{Type: "m.room.member", StateKey: frank}]; ok {
		rm.add(member(alice, frank, "ban"))
	}
	return rm
}

func (rm *room) isCreator(u string) bool {
	for _, c := range rm.creators {
		if c == u {
			return true
		}
	}
	return false
}

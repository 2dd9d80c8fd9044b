//go:build goexperiment.jsonv2

package v12cmp

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"maunium.net/go/mautrix/federation/eventauth"
	mpdu "maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

func parseNoSig(v roomversion.Version, raw []byte) (*pdu.Event, error) { return pdu.Parse(v, raw) }

// candidate is one event to authorise, with the mutations applied.
type candidate struct {
	m        M
	tags     []string
	rejected map[string]bool // IDs treated as rejected
	authVia  string
}

func (c *candidate) tag(t string) { c.tags = append(c.tags, t) }
func (c *candidate) has(t string) bool {
	for _, x := range c.tags {
		if x == t || strings.HasPrefix(x, t+":") {
			return true
		}
	}
	return false
}

func randUser(r *rand.Rand) string { return difftool.Pick(r, users...) }

func randLevel(r *rand.Rand) any {
	return difftool.Pick[any](r, 0, 1, 49, 50, 51, 99, 100, 101, maxLevel, -1)
}

// genCandidate makes a plausible event in rm with a random sender, then maybe mutates it.
func genCandidate(r *rand.Rand, rm *room, other *room, rejRoom *room) *candidate {
	c := &candidate{rejected: map[string]bool{}}
	sender := randUser(r)
	if r.Intn(3) == 0 {
		sender = difftool.Pick(r, rm.creators...)
	}
	kind := difftool.Pick(r, "msg", "state", "state", "pl", "pl", "pl", "member", "member", "member", "member", "tpi", "redaction")
	c.tag("kind:" + kind)
	switch kind {
	case "msg":
		c.m = M{"type": "m.room.message", "sender": sender, "content": M{"body": "hi"}}
	case "state":
		t := difftool.Pick(r, "m.room.name", "m.room.tombstone", "x.custom", "m.room.topic", "m.room.join_rules")
		sk := ""
		if t == "x.custom" {
			sk = difftool.Pick(r, "", sender, difftool.Pick(r, users...))
		}
		content := M{"name": "x"}
		if t == "m.room.tombstone" {
			content = M{"body": "gone", "replacement_room": "!new"}
		}
		if t == "m.room.join_rules" {
			content = M{"join_rule": difftool.Pick(r, "public", "invite", "restricted")}
		}
		c.m = M{"type": t, "sender": sender, "state_key": sk, "content": content}
	case "redaction":
		c.m = M{"type": "m.room.redaction", "sender": sender, "content": M{"redacts": rm.last}}
	case "tpi":
		c.m = M{"type": "m.room.third_party_invite", "sender": sender, "state_key": "tok", "content": M{"display_name": "x", "public_key": "AAAA", "key_validity_url": "https://x"}}
	case "pl":
		var content M
		if e, ok := rm.state[authrules.StateKey{Type: "m.room.power_levels"}]; ok {
			content = difftool.Decode(e.rp.Content)
		} else {
			content = M{}
		}
		nmut := 1 + r.Intn(3)
		for i := 0; i < nmut; i++ {
			switch r.Intn(9) {
			case 0, 1, 2: // set a user's level
				u := difftool.Pick(r, append(users, rm.creators...)...)
				us, _ := content["users"].(M)
				if us == nil {
					us = M{}
					content["users"] = us
				}
				us[u] = randLevel(r)
				if rm.isCreator(u) {
					c.tag("pl-lists-creator")
				}
			case 3: // remove a user
				if us, ok := content["users"].(M); ok {
					for _, u := range []string{bob, mod, dave} {
						if _, ok := us[u]; ok && r.Intn(2) == 0 {
							delete(us, u)
						}
					}
				}
			case 4: // named level
				key := difftool.Pick(r, "ban", "kick", "invite", "state_default", "events_default", "redact", "users_default")
				if r.Intn(4) == 0 {
					delete(content, key)
				} else {
					content[key] = randLevel(r)
				}
			case 5: // events
				ev, _ := content["events"].(M)
				if ev == nil {
					ev = M{}
					content["events"] = ev
				}
				ev[difftool.Pick(r, "m.room.tombstone", "m.room.name", "m.room.power_levels", "x.y")] = randLevel(r)
			case 6: // bad user key
				us, _ := content["users"].(M)
				if us == nil {
					us = M{}
					content["users"] = us
				}
				bad := difftool.Pick(r, "@x", "bob", "@a:b c", "@:a.example", "@A:a.example", "@x:[::1]", "@x:a.example:8448", "@x:-bad", "@x:a_b.example")
				us[bad] = 0
				c.tag("pl-userkey:" + bad)
			case 7: // bad values
				key := difftool.Pick(r, "ban", "users_default")
				content[key] = difftool.Pick[any](r, "50", true, nil, A{50})
				c.tag("pl-badvalue")
			case 8: // notifications
				content["notifications"] = M{"room": randLevel(r)}
			}
		}
		c.m = M{"type": "m.room.power_levels", "sender": sender, "state_key": "", "content": content}
	case "member":
		target := difftool.Pick(r, users...)
		ms := difftool.Pick(r, "join", "join", "invite", "leave", "ban", "knock", "bogus")
		if ms == "join" || ms == "knock" {
			if r.Intn(3) != 0 {
				sender = target
			}
		}
		if ms == "leave" && r.Intn(2) == 0 {
			target = sender
		}
		if (ms == "leave" || ms == "ban") && r.Intn(2) == 0 {
			target = difftool.Pick(r, rm.creators...)
			c.tag("target-creator")
		}
		content := M{"membership": ms}
		if ms == "join" && r.Intn(3) == 0 {
			c.authVia = difftool.Pick(r, alice, carol, bob, mod, dave, mal, zed)
			content["join_authorised_via_users_server"] = c.authVia
			c.tag("authvia")
		}
		c.m = M{"type": "m.room.member", "sender": sender, "state_key": target, "content": content}
		if ms == "join" && target == alice && r.Intn(3) == 0 {
			c.m["prev_events"] = A{rm.create.id}
			c.tag("prev-create")
		}
	}
	c.m = rm.build(c.m)
	if r.Intn(3) == 0 {
		mutate(r, c, rm, other, rejRoom)
	}
	return c
}

func authList(m M) A {
	a, _ := m["auth_events"].(A)
	return a
}

func mutate(r *rand.Rand, c *candidate, rm, other, rejRoom *room) {
	switch r.Intn(14) {
	case 0, 1:
		c.m["auth_events"] = append(authList(c.m), rm.create.id)
		c.tag("mut:create-in-auth")
	case 2:
		a := authList(c.m)
		if len(a) > 0 {
			i := r.Intn(len(a))
			c.m["auth_events"] = append(append(A{}, a[:i]...), a[i+1:]...)
			c.tag("mut:drop-auth")
		}
	case 3:
		a := authList(c.m)
		if len(a) > 0 {
			c.m["auth_events"] = append(a, a[0])
			c.tag("mut:dup-auth")
		}
	case 4: // an unexpected auth event (join rules / another member)
		for _, k := range []authrules.StateKey{{Type: "m.room.join_rules"}, {Type: "m.room.member", StateKey: bob}, {Type: "m.room.member", StateKey: erin}} {
			if e, ok := rm.state[k]; ok {
				c.m["auth_events"] = append(authList(c.m), e.id)
				c.tag("mut:extra-auth")
				break
			}
		}
	case 5: // an auth event from the other room
		if e, ok := other.state[authrules.StateKey{Type: "m.room.power_levels"}]; ok {
			c.m["auth_events"] = append(authList(c.m), e.id)
			c.tag("mut:foreign-auth")
		}
	case 6:
		c.m["room_id"] = other.roomID
		c.tag("mut:roomid-other")
	case 7:
		rid := c.m["room_id"].(string)
		c.m["room_id"] = difftool.Pick(r, rid+":a.example", "!short", "$"+rid[1:], rid[:len(rid)-1]+"A", "!"+strings.Repeat("A", 43))
		c.tag("mut:roomid-bad")
	case 8:
		c.rejected[rm.create.id] = true
		c.tag("mut:create-rejected")
	case 9:
		a := authList(c.m)
		if len(a) > 0 {
			c.rejected[a[r.Intn(len(a))].(string)] = true
			c.tag("mut:auth-rejected")
		}
	case 10:
		c.m["room_id"] = rejRoom.roomID
		c.rejected[rejRoom.create.id] = true
		c.tag("mut:roomid-rejected-create")
	case 11: // room ID that names a non-create event of the room
		for _, k := range []authrules.StateKey{{Type: "m.room.power_levels"}, {Type: "m.room.member", StateKey: alice}} {
			if e, ok := rm.state[k]; ok {
				c.m["room_id"] = "!" + e.id[1:]
				c.tag("mut:roomid-noncreate")
				break
			}
		}
	case 12:
		c.m["prev_events"] = A{rm.create.id}
		c.tag("mut:prev-create")
	case 13: // the sender of an m.federate:false room from another server
		c.m["sender"] = mal
		if c.m["type"] == "m.room.member" && c.m["content"].(M)["membership"] == "join" {
			c.m["state_key"] = mal
		}
		c.tag("mut:sender-mal")
	}
}

// verdict of one side.
type verdict struct {
	allow bool
	rule  string
	msg   string
}

func (v verdict) String() string {
	if v.allow {
		return "ALLOW"
	}
	return "REJECT " + v.rule + ": " + v.msg
}

func rpVerdict(err error) verdict {
	if err == nil {
		return verdict{allow: true}
	}
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return verdict{rule: rej.Rule, msg: rej.Reason}
	}
	return verdict{rule: "?", msg: err.Error()}
}

func mxVerdict(err error) verdict {
	if err == nil {
		return verdict{allow: true}
	}
	var afe eventauth.AuthFailError
	if errors.As(err, &afe) {
		return verdict{rule: afe.Index, msg: stableErr(err.Error())}
	}
	return verdict{rule: "?", msg: stableErr(err.Error())}
}

// mxGetEvents returns mautrix's getEvents over the store. The first call of a v12 non-create
// check is the create lookup, where a missing event must give an empty list.
func mxGetEvents(store map[string]*evt, rejected map[string]bool) eventauth.GetEventsFunc {
	return func(ids []id.EventID) ([]*mpdu.PDU, error) {
		out := make([]*mpdu.PDU, 0, len(ids))
		for _, i := range ids {
			e, ok := store[string(i)]
			if !ok {
				out = append(out, nil)
				continue
			}
			p := e.mx.Clone()
			p.InternalMeta.Rejected = rejected[string(i)]
			out = append(out, p)
		}
		if len(ids) == 1 && out[0] == nil {
			return nil, nil
		}
		return out, nil
	}
}

func safeAuthorize(ver string, p *mpdu.PDU, pre []*mpdu.PDU, ge eventauth.GetEventsFunc, k *keyring) (err error) {
	defer func() {
		if x := recover(); x != nil {
			err = fmt.Errorf("PANIC: %v", x)
		}
	}()
	return eventauth.Authorize(id.RoomVersion(ver), p, pre, ge, k.mtxKey)
}

func runAuth(t *difftool.Tally, r *rand.Rand, n int) {
	k := newKeyring()
	perRoom := 60
	for i := 0; i < n; i++ {
		store := map[string]*evt{}
		verS := "12"
		if i%5 == 4 {
			verS = "11"
		}
		rm := newRoom(r, k, verS, store, r.Intn(3) != 0)
		other := newRoom(r, k, verS, store, false)
		rej := newRoom(r, k, verS, store, false)
		// roomproto's state, built once per room
		stEvents := []*pdu.Event{}
		for _, e := range rm.state {
			stEvents = append(stEvents, e.rp)
		}
		st, err := authrules.NewState(rm.ver, stEvents)
		if err != nil {
			panic(err) // invariant: the state holds events the harness built and parsed
		}
		for j := 0; j < perRoom; j++ {
			c := genCandidate(r, rm, other, rej)
			if c.authVia != "" && r.Intn(2) == 0 && serverOf(c.authVia) != serverOf(c.m["sender"].(string)) {
				c.tag("authvia-signed")
			}
			raw := k.sign(rm.ver, c.m, serverOf(c.m["sender"].(string)))
			if c.has("authvia-signed") {
				raw = k.countersign(rm.ver, raw, serverOf(c.authVia))
			}
			e, err := parseBoth(rm.ver, raw)
			if err != nil {
				area(t, "auth-parse").diverge("rp-parse-refused", string(raw), err.Error(), "(not parsed)")
				continue
			}
			compareAuthEvents(t, rm, c, e, k)
			compareState(t, rm, st, c, e, k)
		}
	}
}

// compareAuthEvents: check 4 (auth_events) on both sides.
func compareAuthEvents(t *difftool.Tally, rm *room, c *candidate, e *evt, k *keyring) {
	var supplied []*pdu.Event
	for _, a := range e.rp.AuthEvents {
		if s, ok := rm.store[a]; ok {
			supplied = append(supplied, s.rp)
		}
	}
	if rm.verS == "12" && strings.HasPrefix(e.rp.RoomID, "!") {
		if s, ok := rm.store["$"+e.rp.RoomID[1:]]; ok {
			supplied = append(supplied, s.rp)
		}
	}
	rv := rpVerdict(authrules.CheckWithOptions(rm.ver, e.rp, supplied, authrules.Options{Keys: k, Rejected: c.rejected}))
	mv := mxVerdict(safeAuthorize(rm.verS, e.mx.Clone(), nil, mxGetEvents(rm.store, c.rejected), k))
	record(t, "auth-events-v"+rm.verS, rm, c, e, rv, mv)
}

// compareState: checks 5/6 (against the room's current state) on both sides.
func compareState(t *difftool.Tally, rm *room, st *authrules.State, c *candidate, e *evt, k *keyring) {
	rv := rpVerdict(st.CheckWithOptions(e.rp, authrules.Options{Keys: k, Rejected: c.rejected}))
	pre := []*mpdu.PDU{}
	for _, sk := range e.mx.AuthEventSelection(id.RoomVersion(rm.verS)) {
		if s, ok := rm.state[authrules.StateKey{Type: sk.Type, StateKey: sk.StateKey}]; ok {
			p := s.mx.Clone()
			p.InternalMeta.Rejected = c.rejected[s.id]
			pre = append(pre, p)
		}
	}
	mv := mxVerdict(safeAuthorize(rm.verS, e.mx.Clone(), pre, mxGetEvents(rm.store, c.rejected), k))
	record(t, "state-v"+rm.verS, rm, c, e, rv, mv)
}

func record(t *difftool.Tally, areaName string, rm *room, c *candidate, e *evt, rv, mv verdict) {
	s := area(t, areaName)
	if rv.allow == mv.allow {
		s.ok()
		return
	}
	cls := classifyAuth(areaName, rm, c, e, rv, mv)
	input := fmt.Sprintf("tags=%v creators=%v joinrule=%q federate=%v event=%s", c.tags, rm.creators, rm.joinRule, rm.federate, jsonStr(e.raw))
	s.diverge(cls, input, rv.String(), mv.String())
}

// stableErr undoes encoding/json/v2's random choice between "cannot" and "unable to" in its
// error messages, so that the output does not depend on it.
func stableErr(s string) string { return strings.ReplaceAll(s, "json: unable to ", "json: cannot ") }

//go:build goexperiment.jsonv2

package v12cmp

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// runHand runs hand-written v12 scenarios whose inputs the random generators cannot reach.
func runHand(t *difftool.Tally, k *keyring) {
	r := rand.New(rand.NewSource(7))
	s := area(t, "hand-v12")
	// a plain v12 room
	store := map[string]*evt{}
	var rm *room
	for {
		rm = newRoom(r, k, "12", store, true)
		if _, ok := rm.state[authrules.StateKey{Type: "m.room.power_levels"}]; ok {
			break
		}
	}
	pl := rm.state[authrules.StateKey{Type: "m.room.power_levels"}]
	cmp := func(name string, m M, signer string, opts authrules.Options, want string) {
		raw := k.sign(v12, m, signer)
		e, err := parseBoth(v12, raw)
		if err != nil {
			s.diverge("hand-parse:"+name, string(raw), err.Error(), "")
			return
		}
		var supplied []*pdu.Event
		for _, a := range e.rp.AuthEvents {
			if x, ok := rm.store[a]; ok {
				supplied = append(supplied, x.rp)
			}
		}
		if len(e.rp.RoomID) > 1 {
			if x, ok := rm.store["$"+e.rp.RoomID[1:]]; ok {
				supplied = append(supplied, x.rp)
			}
		}
		if opts.Keys == nil {
			opts.Keys = k
		}
		rv := rpVerdict(authrules.CheckWithOptions(v12, e.rp, supplied, opts))
		mv := mxVerdict(safeAuthorize("12", e.mx.Clone(), nil, mxGetEvents(rm.store, opts.Rejected), k))
		input := fmt.Sprintf("[%s] %s", name, jsonStr(raw))
		if rv.allow == mv.allow {
			s.ok()
			return
		}
		cls := want
		if cls == "" {
			cls = "?" + name
		}
		s.diverge(cls, input, rv.String(), mv.String())
	}
	base := func(m M) M {
		m["depth"] = 50
		m["origin_server_ts"] = 1700000009999
		m["hashes"] = M{"sha256": "AAAA"}
		m["signatures"] = M{}
		return m
	}
	// H1: room_id names the power levels event (sent by the create's sender); a "first join".
	cmp("noncreate-as-create", base(M{"type": "m.room.member", "sender": alice, "state_key": alice, "content": M{"membership": "join"},
		"room_id": "!" + pl.id[1:], "prev_events": A{pl.id}, "auth_events": A{}}), "a.example", authrules.Options{}, "roomid-names-non-create-event")
	// H2: room_id with the '$' sigil; a first join of the real create.
	cmp("dollar-sigil-first-join", base(M{"type": "m.room.member", "sender": alice, "state_key": alice, "content": M{"membership": "join"},
		"room_id": "$" + rm.create.id[1:], "prev_events": A{rm.create.id}, "auth_events": A{}}), "a.example", authrules.Options{}, "roomid-wrong-sigil")
	// H2b: the proper first join, for reference (both allow)
	cmp("proper-first-join", base(M{"type": "m.room.member", "sender": alice, "state_key": alice, "content": M{"membership": "join"},
		"room_id": rm.roomID, "prev_events": A{rm.create.id}, "auth_events": A{}}), "a.example", authrules.Options{}, "")
	// H2c: the create listed in auth_events of the first join
	cmp("first-join-create-in-auth", base(M{"type": "m.room.member", "sender": alice, "state_key": alice, "content": M{"membership": "join"},
		"room_id": rm.roomID, "prev_events": A{rm.create.id}, "auth_events": A{rm.create.id}}), "a.example", authrules.Options{}, "")
	// H2d: first join with the create rejected
	cmp("first-join-create-rejected", base(M{"type": "m.room.member", "sender": alice, "state_key": alice, "content": M{"membership": "join"},
		"room_id": rm.roomID, "prev_events": A{rm.create.id}, "auth_events": A{}}), "a.example", authrules.Options{Rejected: map[string]bool{rm.create.id: true}}, "")

	// H3: a v12 room whose create has no room_version (or "11"), with an additional creator; no PL.
	for _, rvv := range []any{nil, "11"} {
		st := map[string]*evt{}
		cc := M{"additional_creators": A{carol}}
		if rvv != nil {
			cc["room_version"] = rvv
		}
		cm := base(M{"type": "m.room.create", "sender": alice, "state_key": "", "content": cc, "prev_events": A{}, "auth_events": A{}})
		cm["depth"] = 1
		c := mustParse(v12, k.sign(v12, cm, "a.example"))
		r2 := &room{ver: v12, verS: "12", k: k, state: map[authrules.StateKey]*evt{}, store: st, federate: true, create: c, roomID: "!" + c.id[1:]}
		r2.put(c)
		r2.creators = []string{alice, carol}
		r2.add(member(alice, alice, "join"))
		r2.add(M{"type": "m.room.join_rules", "sender": alice, "state_key": "", "content": M{"join_rule": "public"}})
		r2.add(member(carol, carol, "join"))
		old := rm
		rm = r2
		for _, u := range []string{alice, carol} {
			m := r2.build(M{"type": "m.room.name", "sender": u, "state_key": "", "content": M{"name": "n"}})
			cmp(fmt.Sprintf("create-room_version=%v-creator-state", rvv), m, serverOf(u), authrules.Options{}, "create-without-room-version-v12")
		}
		rm = old
	}

	// H4: a third-party invite validly signed by the key of the m.room.third_party_invite event.
	seed := sha256.Sum256([]byte("identity"))
	isk, _ := signing.NewSigningKey("0", seed[:])
	pub := base64.RawStdEncoding.EncodeToString(isk.Public())
	tpi := rm.add(M{"type": "m.room.third_party_invite", "sender": alice, "state_key": "tok", "content": M{"display_name": "z", "key_validity_url": "https://id.example/v", "public_key": pub}})
	_ = tpi
	signed, err := signing.SignJSON(difftool.Enc(M{"mxid": zed, "token": "tok"}), "id.example", isk)
	if err != nil {
		panic(err) // invariant: the harness built this object itself, with a valid key
	}
	inv := rm.build(M{"type": "m.room.member", "sender": alice, "state_key": zed, "content": M{"membership": "invite",
		"third_party_invite": M{"display_name": "z", "signed": difftool.Decode(signed)}}})
	cmp("third-party-invite-valid", inv, "a.example", authrules.Options{}, "tpi-keys-read-from-member-event")
}

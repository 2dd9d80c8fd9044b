//go:build goexperiment.jsonv2

package authcmp

// Generator of rooms and candidate events, adapted from roomproto's tools/gmsldiff/auth.go.

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

var (
	authUsers   = []string{"@alice:a.example", "@bob:b.example", "@carol:c.example", "@dave:a.example", "@erin:b.example"}
	authCreator = authUsers[0]
	authServers = []string{"a.example", "b.example", "c.example"}
)

const (
	authRoomID = "!room:a.example"
	dummyHash  = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
)

var dummySig = strings.Repeat("A", 86)

// authEv is an event of a generated room.
type authEv struct {
	raw []byte
	id  string
	typ string
	sk  *string
}

type authOpts struct {
	prev     []string
	idDomain string   // v1-2 event_id domain (default: the sender's)
	signers  []string // servers that sign besides the sender's
	real     bool     // sign for real (candidates where rule 4.2.1 applies); dummy signatures otherwise
	redacts  string
}

// authBuilder builds the events of one room and candidate.
type authBuilder struct {
	v      roomversion.Version
	ver    int
	r      *rand.Rand
	n      int
	focus  bool   // bias towards restricted joins, joined senders, membership and power levels
	edge   bool   // unusual power level values
	roomID string // v12: from the create event
}

func (b *authBuilder) room() string {
	if b.roomID != "" {
		return b.roomID
	}
	return authRoomID
}

func sp(s string) *string { return &s }

func (b *authBuilder) fakeID() string {
	b.n++
	if b.ver <= 2 {
		return fmt.Sprintf("$fake%d:a.example", b.n)
	}
	s := b64URL([]byte(fmt.Sprintf("fake-event-%032d", b.n)))
	return "$" + s[:43]
}

func (b *authBuilder) mk(typ, sender string, sk *string, content M, auth []string, o authOpts) *authEv {
	b.n++
	m := M{
		"room_id": b.room(), "sender": sender, "type": typ, "content": content,
		"depth": b.n, "origin_server_ts": 1000 + b.n, "hashes": M{"sha256": dummyHash},
	}
	if sk != nil {
		m["state_key"] = *sk
	}
	if b.ver >= 12 && typ == "m.room.create" {
		delete(m, "room_id")
	}
	if !o.real {
		sigs := M{}
		for _, s := range append([]string{domainOf(sender)}, o.signers...) {
			if s != "" {
				sigs[s] = M{"ed25519:1": dummySig}
			}
		}
		m["signatures"] = sigs
	}
	prev := o.prev
	if prev == nil {
		prev = []string{}
	}
	if auth == nil {
		auth = []string{}
	}
	var id string
	if b.ver <= 2 {
		d := o.idDomain
		if d == "" {
			d = domainOf(sender)
		}
		id = fmt.Sprintf("$e%d:%s", b.n, d)
		m["event_id"] = id
		m["origin"] = domainOf(sender)
		pairs := func(ids []string) []any {
			out := []any{}
			for _, x := range ids {
				out = append(out, []any{x, M{"sha256": dummyHash}})
			}
			return out
		}
		m["auth_events"] = pairs(auth)
		m["prev_events"] = pairs(prev)
	} else {
		m["auth_events"] = auth
		m["prev_events"] = prev
	}
	if o.redacts != "" {
		if b.ver >= 11 {
			content["redacts"] = o.redacts
		} else {
			m["redacts"] = o.redacts
		}
	}
	raw := enc(m)
	if o.real {
		raw = signAll(b.v, raw, append([]string{domainOf(sender)}, o.signers...))
	}
	if b.ver > 2 {
		var err error
		if id, err = signing.EventID(b.v, raw); err != nil {
			id = b.fakeID()
		}
	}
	return &authEv{raw: raw, id: id, typ: typ, sk: sk}
}

// signAll signs an event with the keyFor keys of the given servers (the first one computes the
// content hash).
func signAll(v roomversion.Version, raw []byte, servers []string) []byte {
	out, err := signing.SignEvent(v, raw, servers[0], keyFor(servers[0], "1"))
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	for _, s := range servers[1:] {
		if s == servers[0] {
			continue
		}
		if out, err = signing.CountersignEvent(v, out, s, keyFor(s, "1")); err != nil {
			panic(err) // invariant: the harness built this input or table itself
		}
	}
	return out
}

func (b *authBuilder) pick(xs ...any) any { return xs[b.r.Intn(len(xs))] }

func (b *authBuilder) level(forState bool) any {
	if b.edge && b.r.Float64() < 0.08 {
		var xs []any
		if b.ver <= 5 {
			xs = append(xs, json.Number("99999999999999999999"), json.Number("1e20"), json.Number("-1e20"), json.Number("50.999"), json.Number("9223372036854775808"))
		}
		if b.ver <= 9 {
			xs = append(xs, "\t50\n", "99999999999999999999", "50 ")
			if !forState {
				xs = append(xs, "1_0", "٥٠", "0x10", "", "5 0", "--5")
			}
		}
		if !forState {
			xs = append(xs, true, nil, M{}, []any{})
		}
		if len(xs) > 0 {
			return xs[b.r.Intn(len(xs))]
		}
	}
	r := b.r.Float64()
	switch {
	case r < 0.70:
		return b.pick(0, 0, 10, 25, 49, 50, 50, 51, 75, 99, 100, 100, 101)
	case r < 0.78:
		return b.pick(-1, -50, -100)
	case r < 0.83:
		if b.r.Intn(2) == 0 {
			return int64(9007199254740991)
		}
		return int64(-9007199254740991)
	case r < 0.93:
		if b.ver <= 9 || (!forState && b.r.Intn(4) == 0) {
			return b.pick("50", " 75 ", "+100", "-10", "0050", "100", "0", "49")
		}
		return b.pick(0, 50, 100)
	default:
		if b.ver <= 5 || (!forState && b.r.Intn(6) == 0) {
			return b.pick(50.0, 49.9, 100.5, -0.5, 1e2)
		}
		return b.pick(0, 50, 100)
	}
}

var (
	namedLevels = []string{"ban", "kick", "redact", "invite", "events_default", "state_default", "users_default"}
	authEvTypes = []string{"m.room.name", "m.room.power_levels", "m.room.topic", "m.room.redaction", "m.room.message", "m.room.join_rules", "m.room.member", "m.room.third_party_invite", "com.example.state", "m.room.history_visibility"}
)

func (b *authBuilder) plContent(forState bool) M {
	c := M{}
	for _, k := range namedLevels {
		if b.r.Float64() < 0.5 {
			c[k] = b.level(forState)
		}
	}
	if b.r.Float64() < 0.9 {
		u := M{}
		if b.r.Float64() < 0.92 {
			if b.ver < 12 || b.r.Float64() < 0.1 {
				u[authCreator] = b.pick(100, 100, 100, 50, int64(9007199254740991))
			}
		}
		for _, x := range authUsers[1:] {
			if b.r.Float64() < 0.5 {
				u[x] = b.level(forState)
			}
		}
		c["users"] = u
	}
	if b.r.Float64() < 0.6 {
		e := M{}
		for _, t := range authEvTypes {
			if b.r.Float64() < 0.25 {
				e[t] = b.level(forState)
			}
		}
		c["events"] = e
	}
	if b.r.Float64() < 0.3 {
		c["notifications"] = M{"room": b.level(forState)}
	}
	return c
}

// authRoom is a generated room state.
type authRoom struct {
	create, pl, jr *authEv
	members        map[string]*authEv
	tpi            *authEv
	tpiKey         ed25519.PrivateKey
	plContent      M
	joinRule       string
	order          []*authEv // every state event
}

func (b *authBuilder) genRoom() *authRoom {
	rm := &authRoom{members: map[string]*authEv{}}
	cc := M{}
	if b.ver > 1 || b.r.Intn(2) == 0 {
		cc["room_version"] = b.v.ID
	}
	if b.ver <= 10 {
		if b.r.Float64() < 0.93 {
			cc["creator"] = authCreator
		} else if b.r.Intn(2) == 0 {
			cc["creator"] = authUsers[1]
		}
	} else if b.r.Float64() < 0.15 {
		cc["creator"] = authUsers[b.r.Intn(2)]
	}
	if b.r.Float64() < 0.15 {
		cc["m.federate"] = b.r.Intn(2) == 0
	}
	if b.ver >= 12 && b.r.Float64() < 0.3 {
		cc["additional_creators"] = b.pick([]any{"@bob:b.example"}, []any{"@bob:b.example", "@carol:c.example"}) // only valid ones: an invalid create is rejected (1.4)
	}
	rm.create = b.mk("m.room.create", authCreator, sp(""), cc, nil, authOpts{})
	if b.ver >= 12 {
		b.roomID = "!" + rm.create.id[1:]
	}
	rm.order = append(rm.order, rm.create)
	base := []string{rm.create.id}
	cj := b.mk("m.room.member", authCreator, sp(authCreator), M{"membership": "join"}, base, authOpts{prev: []string{rm.create.id}})
	if b.r.Float64() < 0.07 {
		cj = b.mk("m.room.member", authCreator, sp(authCreator), M{"membership": "leave"}, base, authOpts{})
	}
	rm.members[authCreator] = cj
	rm.order = append(rm.order, cj)
	if b.r.Float64() < 0.88 {
		rm.plContent = b.plContent(true)
		rm.pl = b.mk("m.room.power_levels", authCreator, sp(""), rm.plContent, base, authOpts{})
		rm.order = append(rm.order, rm.pl)
	}
	if b.r.Float64() < 0.9 {
		rules := []string{"public", "invite"}
		if b.ver >= 7 {
			rules = append(rules, "knock")
		}
		if b.ver >= 8 {
			rules = append(rules, "restricted", "restricted")
		}
		if b.ver >= 10 {
			rules = append(rules, "knock_restricted", "knock_restricted")
		}
		if b.r.Float64() < 0.05 {
			rules = append(rules, "private", "knock_restricted", "restricted", "knock")
		}
		rm.joinRule = rules[b.r.Intn(len(rules))]
		if b.focus && b.ver >= 8 && b.r.Float64() < 0.5 {
			rm.joinRule = "restricted"
			if b.ver >= 10 && b.r.Intn(2) == 0 {
				rm.joinRule = "knock_restricted"
			}
		}
		c := M{"join_rule": rm.joinRule}
		if strings.Contains(rm.joinRule, "restricted") {
			c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
		}
		rm.jr = b.mk("m.room.join_rules", authCreator, sp(""), c, base, authOpts{})
		rm.order = append(rm.order, rm.jr)
	} else {
		rm.joinRule = "(none)"
	}
	if b.r.Float64() < 0.3 {
		hv := b.mk("m.room.history_visibility", authCreator, sp(""), M{"history_visibility": b.pick("shared", "joined", "invited", "world_readable").(string)}, base, authOpts{})
		rm.order = append(rm.order, hv)
	}
	mships := []string{"none", "none", "join", "join", "join", "invite", "leave", "ban"}
	if b.ver >= 7 {
		mships = append(mships, "knock")
	}
	for _, u := range authUsers[1:] {
		ms := mships[b.r.Intn(len(mships))]
		if ms == "none" {
			continue
		}
		sender := u
		if ms == "invite" || ms == "ban" || (ms == "leave" && b.r.Intn(3) == 0) {
			sender = authCreator
		}
		rm.members[u] = b.mk("m.room.member", sender, sp(u), M{"membership": ms}, base, authOpts{})
		rm.order = append(rm.order, rm.members[u])
	}
	if b.r.Float64() < 0.3 {
		seed := make([]byte, 32)
		b.r.Read(seed)
		rm.tpiKey = ed25519.NewKeyFromSeed(seed)
		pk := b64(rm.tpiKey.Public().(ed25519.PublicKey))
		c := M{"display_name": "x", "key_validity_url": "https://id.example/v", "public_key": pk}
		if b.r.Float64() < 0.85 {
			c["public_keys"] = []any{M{"public_key": pk, "key_validity_url": "https://id.example/v"}}
		}
		s := authCreator
		if b.r.Intn(4) == 0 {
			s = authUsers[1]
		}
		rm.tpi = b.mk("m.room.third_party_invite", s, sp("tok1"), c, base, authOpts{})
		rm.order = append(rm.order, rm.tpi)
	}
	return rm
}

func (rm *authRoom) lookup(k authrules.StateKey) *authEv {
	switch {
	case k.Type == "m.room.create" && k.StateKey == "":
		return rm.create
	case k.Type == "m.room.power_levels" && k.StateKey == "":
		return rm.pl
	case k.Type == "m.room.join_rules" && k.StateKey == "":
		return rm.jr
	case k.Type == "m.room.member":
		return rm.members[k.StateKey]
	case k.Type == "m.room.third_party_invite" && rm.tpi != nil && *rm.tpi.sk == k.StateKey:
		return rm.tpi
	}
	return nil
}

func (rm *authRoom) membership(u string) string {
	if e := rm.members[u]; e != nil {
		ms, _ := contentOf(e)["membership"].(string)
		return ms
	}
	return "none"
}

// authCand is a candidate event, before its auth events are known.
type authCand struct {
	typ     string
	sender  string
	sk      *string
	content M
	o       authOpts
	label   string
}

func (b *authBuilder) genCand(rm *authRoom) authCand {
	s := authUsers[b.r.Intn(len(authUsers))]
	other := authUsers[b.r.Intn(len(authUsers))]
	if b.focus && b.r.Float64() < 0.7 {
		var joined []string
		for _, u := range authUsers {
			if rm.membership(u) == "join" {
				joined = append(joined, u)
			}
		}
		if len(joined) > 0 {
			s = joined[b.r.Intn(len(joined))]
		}
	}
	prevDefault := []string{b.fakeID()}
	kind := b.r.Intn(100)
	if b.focus && b.r.Intn(2) == 0 {
		kind = b.r.Intn(62) // membership and power levels only
	}
	switch {
	case kind < 45: // membership
		target := s
		if b.r.Intn(2) == 0 {
			target = other
		}
		ms := b.pick("join", "join", "invite", "leave", "leave", "ban", "knock").(string)
		if b.r.Float64() < 0.02 {
			ms = "foo"
		}
		c := M{"membership": ms}
		o := authOpts{prev: prevDefault}
		lab := ""
		authoriser := func() {
			a := authUsers[b.r.Intn(len(authUsers))]
			c["join_authorised_via_users_server"] = a
			if b.r.Float64() < 0.9 {
				o.signers = append(o.signers, domainOf(a))
			}
			// mautrix verifies the authoriser's signature (in every room version): sign for
			// real (v3+; v1-2 events cannot be verified by mautrix's PDU type anyway).
			if b.ver >= 3 {
				o.real = true
				if ms == "invite" {
					o.signers = append(o.signers, domainOf(target))
				}
			}
			lab = "+authvia"
		}
		if ms == "join" {
			p := 0.1
			if strings.Contains(rm.joinRule, "restricted") {
				p = 0.7
			}
			if b.ver < 8 {
				p /= 3
			}
			if b.r.Float64() < p {
				authoriser()
			}
			if target == authCreator && b.r.Intn(3) == 0 {
				o.prev = []string{rm.create.id}
				lab += "+prevcreate"
			}
		} else if b.ver >= 8 && b.r.Float64() < 0.05 {
			authoriser()
		}
		if ms == "invite" && rm.tpi != nil && b.r.Float64() < 0.4 {
			signed := M{"mxid": target, "token": "tok1"}
			if b.r.Intn(8) == 0 {
				signed["mxid"] = other
			}
			key, _ := signing.NewSigningKey("0", rm.tpiKey.Seed())
			if b.r.Intn(8) == 0 {
				seed := make([]byte, 32)
				b.r.Read(seed)
				key, _ = signing.NewSigningKey("0", seed)
			}
			raw, _ := signing.SignJSON(enc(signed), "id.example", key)
			c["third_party_invite"] = M{"display_name": "x", "signed": decode(raw)}
			lab += "+3pid"
		}
		if b.r.Float64() < 0.05 {
			c["displayname"] = "X"
		}
		rel := "other"
		if target == s {
			rel = "self"
		}
		return authCand{"m.room.member", s, sp(target), c, o, fmt.Sprintf("member:%s:%s%s", ms, rel, lab)}
	case kind < 62: // power levels change
		base := M{}
		if rm.plContent != nil {
			base = copyM(rm.plContent)
		}
		if b.r.Float64() < 0.15 {
			base = b.plContent(false)
		}
		for i := 1 + b.r.Intn(3); i > 0; i-- {
			switch b.r.Intn(6) {
			case 0, 1:
				u, _ := base["users"].(M)
				if u == nil {
					u = M{}
					base["users"] = u
				}
				x := authUsers[b.r.Intn(len(authUsers))]
				if b.r.Intn(5) == 0 {
					delete(u, x)
				} else {
					u[x] = b.level(false)
				}
			case 2, 3:
				k := namedLevels[b.r.Intn(len(namedLevels))]
				if b.r.Intn(5) == 0 {
					delete(base, k)
				} else {
					base[k] = b.level(false)
				}
			case 4:
				e, _ := base["events"].(M)
				if e == nil {
					e = M{}
					base["events"] = e
				}
				t := authEvTypes[b.r.Intn(len(authEvTypes))]
				if b.r.Intn(4) == 0 {
					delete(e, t)
				} else {
					e[t] = b.level(false)
				}
			case 5:
				base["notifications"] = M{"room": b.level(false)}
			}
		}
		if b.r.Float64() < 0.02 {
			base["users"] = M{"notauser": 10}
		}
		return authCand{"m.room.power_levels", s, sp(""), base, authOpts{prev: prevDefault}, "pl"}
	case kind < 70: // redaction
		d := authServers[b.r.Intn(3)]
		o := authOpts{prev: prevDefault}
		if b.ver <= 2 {
			o.redacts = "$x:" + d
			if b.r.Intn(5) == 0 {
				o.idDomain = authServers[b.r.Intn(3)]
			}
		} else {
			o.redacts = b.fakeID()
		}
		return authCand{"m.room.redaction", s, nil, M{}, o, "redaction"}
	case kind < 75: // aliases
		d := domainOf(s)
		if b.r.Intn(3) == 0 {
			d = domainOf(other)
		}
		return authCand{"m.room.aliases", s, sp(d), M{"aliases": []any{"#x:" + d}}, authOpts{prev: prevDefault}, "aliases"}
	case kind < 78: // create
		c := M{}
		if b.r.Intn(4) != 0 {
			c["room_version"] = b.pick(b.v.ID, b.v.ID, "99", "1", "12").(string)
		}
		if b.r.Intn(4) != 0 {
			c["creator"] = s
		}
		o := authOpts{}
		if b.r.Intn(4) == 0 {
			o.prev = prevDefault
		}
		return authCand{"m.room.create", s, sp(""), c, o, "create"}
	case kind < 81:
		return authCand{"m.room.third_party_invite", s, sp("tok2"), M{"display_name": "y", "public_key": "AAAA"}, authOpts{prev: prevDefault}, "tpi-event"}
	case kind < 85:
		return authCand{"m.room.join_rules", s, sp(""), M{"join_rule": b.pick("public", "invite", "knock").(string)}, authOpts{prev: prevDefault}, "joinrules"}
	case kind < 93:
		t := b.pick("m.room.name", "m.room.topic", "com.example.state", "m.room.history_visibility").(string)
		key := b.pick("", "", "x", s, other, "@", "@nobody").(string)
		return authCand{t, s, sp(key), M{"name": "n"}, authOpts{prev: prevDefault}, "state"}
	default:
		return authCand{b.pick("m.room.message", "m.room.encrypted", "m.reaction").(string), s, nil, M{"body": "hi"}, authOpts{prev: prevDefault}, "message"}
	}
}

// perturb changes the auth event list: an extra, duplicated, missing, non-state or foreign
// event, or (3 times in 7) nothing.
func (b *authBuilder) perturb(rm *authRoom, auth []*authEv, c authCand) ([]*authEv, string) {
	switch b.r.Intn(7) {
	case 0:
		in := map[*authEv]bool{}
		for _, a := range auth {
			in[a] = true
		}
		var pool []*authEv
		for _, e := range rm.order {
			if !in[e] {
				pool = append(pool, e)
			}
		}
		if len(pool) == 0 {
			return auth, ""
		}
		e := pool[b.r.Intn(len(pool))]
		return append(append([]*authEv{}, auth...), e), "extra:" + e.typ
	case 1:
		if rm.pl != nil && b.r.Intn(2) == 0 {
			alt := b.mk("m.room.power_levels", authCreator, sp(""), b.plContent(true), []string{rm.create.id}, authOpts{})
			if b.r.Intn(2) == 0 {
				return append(append([]*authEv{}, auth...), alt), "dup:pl-after"
			}
			return append([]*authEv{alt}, auth...), "dup:pl-before"
		}
		alt := b.mk("m.room.member", c.sender, sp(c.sender), M{"membership": b.pick("join", "leave", "ban").(string)}, []string{rm.create.id}, authOpts{})
		return append(append([]*authEv{}, auth...), alt), "dup:sender-member"
	case 2:
		if len(auth) == 0 {
			return auth, ""
		}
		i := b.r.Intn(len(auth))
		return append(append([]*authEv{}, auth[:i]...), auth[i+1:]...), "missing:" + auth[i].typ
	case 3:
		msg := b.mk("m.room.message", c.sender, nil, M{"body": "x"}, []string{rm.create.id}, authOpts{})
		return append(append([]*authEv{}, auth...), msg), "extra:non-state"
	case 4:
		if len(auth) == 0 {
			return auth, ""
		}
		i := b.r.Intn(len(auth))
		m := decode(auth[i].raw)
		m["room_id"] = "!other:b.example"
		raw := enc(m)
		id := auth[i].id
		if b.ver > 2 {
			id, _ = signing.EventID(b.v, raw)
		}
		out := append([]*authEv{}, auth...)
		out[i] = &authEv{raw: raw, id: id, typ: auth[i].typ, sk: auth[i].sk}
		return out, "foreign:" + auth[i].typ
	}
	return auth, ""
}

func contentOf(e *authEv) M {
	if e == nil {
		return nil
	}
	c, _ := decode(e.raw)["content"].(M)
	return c
}

var _ = json.Number("")
var _ = ed25519.PublicKey(nil)
var _ roomversion.Version
var _ = strings.Contains
var _ = fmt.Sprint
var _ = rand.Int
var _ = signing.EventID
var _ authrules.StateKey

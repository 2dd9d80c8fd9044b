package main

// Area auth: roomproto authrules.Check against gomatrixserverlib Allowed, on random rooms and
// candidate events, with the auth events roomproto selects (or a perturbed list).

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

var authArea = &Area{
	Name:     "auth",
	Title:    "authrules.Check vs GMSL Allowed (plus VerifyEventSignatures where rule 4.2.1 applies)",
	Unit:     "candidate events",
	DefaultN: 50000,
	Run:      runAuth,
	Classes: []*Class{
		{ID: "G-auth-events-rule2", Cat: GMSLDeparts, Desc: "GMSL has no rule 2.1/2.2: duplicate or unselected auth events are tolerated (its map keeps the last duplicate)",
			Spec: "rooms/fragments/v8-auth-rules.md 2.1 \"duplicate entries for a given type and state_key\", 2.2 \"entries whose type and state_key don't match ... the auth events selection\""},
		{ID: "G-leave-from-none-or-leave", Cat: GMSLDeparts, Desc: "GMSL treats no membership as leave and allows leave -> leave (its NOTSPEC)",
			Spec: "v8-auth-rules.md 4.5.1 \"allow if and only if that user's current membership state is invite, join, or knock\""},
		{ID: "G-aliases-special-case-v6plus", Cat: GMSLDeparts, Desc: "GMSL keeps the m.room.aliases special case after v5",
			Spec: "rooms/v6.md \"Rule 4, which related specifically to events of type m.room.aliases, is removed\""},
		{ID: "G-3pid-ban-or-sender-unchecked", Cat: GMSLDeparts, Desc: "third-party invite: GMSL checks neither a banned target nor the sender of the m.room.third_party_invite",
			Spec: "v8-auth-rules.md 4.4.1.1 \"If target user is banned, reject\", 4.4.1.6 \"If sender does not match sender of the m.room.third_party_invite, reject\""},
		{ID: "G-pl-defaults-or-ge-compare", Cat: GMSLDeparts, Desc: "power level changes: GMSL compares defaulted values and uses >= for notifications (added/removed named levels: decisions.md (authrules) \"an added or removed named level\")",
			Spec: "v8-auth-rules.md 9.4-9.7 (\"each entry being changed in, or removed from\"; \"added to, or changed in\")"},
		{ID: "C-pl-value-beyond-int64", Cat: SpecSilent, Desc: "power level values beyond int64 (v1-9): GMSL fails to parse or wraps them; roomproto compares exactly",
			Spec: "rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md (no range); decisions.md (authrules) \"Power level values before v10\""},
		{ID: "G-first-join-needs-sender-eq-target", Cat: GMSLDeparts, Desc: "first join after the create event: GMSL also requires sender == state_key",
			Spec: "v8-auth-rules.md 4.3.1 \"If the only previous event is an m.room.create and the state_key is the creator, allow\""},
		{ID: "G-creator-is-create-sender", Cat: GMSLDeparts, Desc: "v1-10: GMSL takes the create event's sender as the creator, not content.creator",
			Spec: "v8-auth-rules.md 1.4/4.3.1 and m.room.power_levels.yaml (creator = content.creator before v11); decisions.md (authrules) \"Creators\""},
		{ID: "G-unban-ignores-kick-and-target", Cat: GMSLDeparts, Desc: "unban: GMSL checks only the ban level",
			Spec: "v8-auth-rules.md 4.5.3-4.5.5 and its note: unban needs the kick and ban levels and more than the target's level"},
		{ID: "G-authoriser-signature-joins-only", Cat: GMSLDeparts, Desc: "join_authorised_via_users_server on a non-join membership: GMSL requires the authoriser's signature on joins only",
			Spec: "v8-auth-rules.md 4.2.1 (under rule 4, before the membership cases); decisions.md (authrules) \"Rule 4.2.1 applies to every membership\""},
		{ID: "C-create-room-version-12", Cat: SpecSilent, Desc: "a create event with room_version \"12\": roomproto knows v12, this GMSL does not",
			Spec: "v8-auth-rules.md 1.3 \"not a recognised version\"; decisions.md (authrules) \"Rule 1.3\""},
		{ID: "G-users_default-unchecked", Cat: GMSLDeparts, Desc: "GMSL does not check changes of users_default",
			Spec: "v8-auth-rules.md 9.3 \"For the properties users_default, ... check if they were added, changed or removed\""},
		{ID: "G-join-matrix-invite-join-always-ok", Cat: GMSLDeparts, Desc: "GMSL lets an invited or joined user join under any join rule (private, undefined knock/knock_restricted)",
			Spec: "v8-auth-rules.md 4.3.4-4.3.7 (only invite/knock/restricted rules allow it; otherwise reject)"},
		{ID: "G-3pid-public_key-ignored", Cat: GMSLDeparts, Desc: "GMSL reads only public_keys, not the m.room.third_party_invite's public_key",
			Spec: "v8-auth-rules.md 4.4.1.7 \"A single public key in the public_key property\""},
		{ID: "G-join-matrix-knock-public-rejected", Cat: GMSLDeparts, Desc: "GMSL refuses knock -> join in a public room",
			Spec: "v8-auth-rules.md 4.3.6 \"If the join_rule is public, allow\""},
		{ID: "G-v1v2-redaction-domain", Cat: GMSLDeparts, Desc: "v1-2 redaction: GMSL compares the sender's domain, not the event IDs' domains",
			Spec: "rooms/fragments/v1-auth-rules.md 11.2 \"the domain of the event_id of the event being redacted is the same as the domain of the event_id of the m.room.redaction\""},
		{ID: "C-v1-5-notifications-not-validated", Cat: SpecSilent, Desc: "v1-5: GMSL refuses a power levels event whose notifications it cannot parse; no v1-5 rule reads notifications",
			Spec: "v1-auth-rules.md 10 (only users is validated); decisions.md (authrules) \"Power level values before v10\""},
		{ID: "G-events-third_party_invite-unchecked", Cat: GMSLDeparts, Desc: "GMSL skips events[\"m.room.third_party_invite\"] when checking power level changes",
			Spec: "v8-auth-rules.md 9.4/9.5 (every entry of events)"},
		{ID: "G-v11-create-not-checked", Cat: GMSLDeparts, Desc: "v11: GMSL does not check a create event's room_version",
			Spec: "rooms/v11.md \"If content.room_version is present and is not a recognised version, reject\""},
		{ID: "G-v10-null-level-accepted", Cat: GMSLDeparts, Desc: "v10+: GMSL accepts null power levels (json null into int64 is a no-op)",
			Spec: "rooms/v10.md 9.1/9.2 \"present and not an integer, reject\""},
		{ID: "G-v11-signature-over-tpi-signed", Cat: GMSLDeparts, Desc: "v11 invite with a third_party_invite (and a rule 4.2.1 signature check): GMSL's v11 redaction drops third_party_invite.signed, so the sender's signature fails",
			Spec: "rooms/fragments/v11-redactions.md \"it allows the signed key of the third_party_invite key\" (area redact, R1)"},
		{ID: "G-knock_restricted-before-v10", Cat: GMSLDeparts, Desc: "GMSL honours knock_restricted before v10",
			Spec: "v8-auth-rules.md 4.7.1 \"If the join_rule is anything other than knock, reject\" (knock_restricted is added in rooms/v10.md)"},
	},
}

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
	v     roomversion.Version
	ver   int
	r     *rand.Rand
	n     int
	focus bool // bias towards restricted joins, joined senders, membership and power levels
	edge  bool // unusual power level values
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
		"room_id": authRoomID, "sender": sender, "type": typ, "content": content,
		"depth": b.n, "origin_server_ts": 1000 + b.n, "hashes": M{"sha256": dummyHash},
	}
	if sk != nil {
		m["state_key"] = *sk
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
			u[authCreator] = b.pick(100, 100, 100, 50, int64(9007199254740991))
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
	rm.create = b.mk("m.room.create", authCreator, sp(""), cc, nil, authOpts{})
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
			// From v8 rule 4.2.1 asks for the authoriser's signature, which GMSL checks in
			// VerifyEventSignatures: sign for real, with every server GMSL needs but that one.
			if b.ver >= 8 {
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

// authVerdict is one side's answer.
type authVerdict struct {
	allow bool
	rule  string // roomproto's Rejection.Rule
	msg   string
}

// String renders the value for examples.
func (v authVerdict) String() string {
	switch {
	case v.allow:
		return "ALLOW"
	case v.rule != "":
		return "REJECT " + v.rule + " " + v.msg
	}
	return "REJECT " + v.msg
}

func runRPAuth(v roomversion.Version, raw []byte, auth []*authEv) (authVerdict, error) {
	e, err := pdu.Parse(v, raw)
	if err != nil {
		return authVerdict{}, err
	}
	var aes []*pdu.Event
	for _, a := range auth {
		pe, err := pdu.Parse(v, a.raw)
		if err != nil {
			return authVerdict{}, fmt.Errorf("auth event: %w", err)
		}
		aes = append(aes, pe)
	}
	err = authrules.Check(v, e, aes, nil)
	if err == nil {
		return authVerdict{allow: true}, nil
	}
	var rj *authrules.Rejection
	if errors.As(err, &rj) {
		return authVerdict{rule: rj.Rule, msg: rj.Reason}, nil
	}
	return authVerdict{}, err // not a rejection: an error of the harness
}

func runGMSLAuth(ver string, raw []byte, id string, auth []*authEv, verifySigs bool, ring *gmsl.KeyRing) (authVerdict, error) {
	return safe(func() (authVerdict, error) {
		e, err := gParseTrusted(ver, raw, id)
		if err != nil {
			return authVerdict{}, err
		}
		var aes []gmsl.PDU
		for _, a := range auth {
			pe, err := gParseTrusted(ver, a.raw, a.id)
			if err != nil {
				return authVerdict{}, fmt.Errorf("auth event: %w", err)
			}
			aes = append(aes, pe)
		}
		if verifySigs {
			if err := gmsl.VerifyEventSignatures(context.Background(), e, ring, userIDForSender); err != nil {
				return authVerdict{msg: "VerifyEventSignatures: " + err.Error()}, nil
			}
		}
		prov, err := gmsl.NewAuthEvents(aes), nil
		if err := gmsl.Allowed(e, &prov, userIDForSender); err != nil {
			return authVerdict{msg: err.Error()}, nil
		}
		return authVerdict{allow: true}, err
	})
}

// authCase is one comparison, for the classifier and the example.
type authCase struct {
	b     *authBuilder
	rm    *authRoom
	c     authCand
	final *authEv
	auth  []*authEv
	pert  string
	rp, g authVerdict
}

func runAuth(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	ring, _ := keyRings(authServers...)
	for i := 0; i < n; i++ {
		vid := pick(r, versions...)
		b := &authBuilder{v: rpVersion(vid), ver: verNum(vid), r: r, n: i * 1000, focus: r.Intn(2) == 0, edge: r.Intn(3) == 0}
		perturbed := r.Intn(3) == 0
		rm := b.genRoom()
		c := b.genCand(rm)
		// A draft without auth events tells which auth events are needed.
		draft := b.mk(c.typ, c.sender, c.sk, copyM(c.content), nil, c.o)
		pe, err := pdu.Parse(b.v, draft.raw)
		if err != nil {
			continue // e.g. a v1-2 state key too long: no comparison
		}
		var auth []*authEv
		if c.typ != "m.room.create" {
			need, _ := authrules.AuthEventsNeeded(b.v, pe)
			for _, k := range need {
				if e := rm.lookup(k); e != nil {
					auth = append(auth, e)
				}
			}
		}
		pert := ""
		if perturbed {
			auth, pert = b.perturb(rm, auth, c)
		}
		var ids []string
		for _, a := range auth {
			ids = append(ids, a.id)
		}
		final := b.mk(c.typ, c.sender, c.sk, copyM(c.content), ids, c.o)
		rpv, err := runRPAuth(b.v, final.raw, auth)
		if err != nil {
			t.Problem("harness: roomproto error: "+err.Error(), string(final.raw))
			continue
		}
		gv, err := runGMSLAuth(vid, final.raw, final.id, auth, c.o.real, ring)
		if err != nil {
			t.Problem("harness: GMSL error: "+err.Error(), string(final.raw))
			continue
		}
		if rpv.allow == gv.allow {
			t.Agree()
			continue
		}
		ac := &authCase{b: b, rm: rm, c: c, final: final, auth: auth, pert: pert, rp: rpv, g: gv}
		cls := classifyAuth(ac)
		t.Diverge(cls, fmt.Sprintf("v%s %s %s rp=%s gmsl=%s", vid, c.label, pert, short(rpv), short(gv)), ac.example(vid))
	}
}

func short(v authVerdict) string {
	if v.allow {
		return "ALLOW"
	}
	if v.rule != "" {
		return "REJECT:" + v.rule
	}
	m := v.msg
	if i := strings.IndexAny(m, "\"(0123456789"); i > 0 {
		m = m[:i]
	}
	return "REJECT:" + m
}

func (ac *authCase) example(vid string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%s %s", vid, ac.c.label)
	if ac.pert != "" {
		fmt.Fprintf(&b, " [%s]", ac.pert)
	}
	fmt.Fprintf(&b, "\nroomproto: %s\nGMSL: %s\nevent: %s", ac.rp, ac.g, shortEvent(ac.final.raw))
	for _, a := range ac.auth {
		fmt.Fprintf(&b, "\nauth: %s", shortEvent(a.raw))
	}
	return b.String()
}

// shortEvent drops the fields of a generated event that do not matter to the auth rules.
func shortEvent(raw []byte) string {
	m := decode(raw)
	for _, k := range []string{"hashes", "origin_server_ts", "depth", "origin", "room_id", "auth_events"} {
		delete(m, k)
	}
	if s, ok := m["signatures"].(M); ok {
		m["signatures"] = sortedKeys(s)
	}
	return string(enc(m))
}

func contentOf(e *authEv) M {
	if e == nil {
		return nil
	}
	c, _ := decode(e.raw)["content"].(M)
	return c
}

// creatorOK: the creator, as the spec defines it for the room version, is the create event's
// sender (alice).
func (ac *authCase) creatorOK() bool {
	if ac.b.ver >= 11 {
		return true
	}
	cr, _ := contentOf(ac.rm.create)["creator"].(string)
	return cr == authCreator
}

func (ac *authCase) hasAuth(typ string) bool {
	for _, a := range ac.auth {
		if a.typ == typ {
			return true
		}
	}
	return false
}

func (ac *authCase) authMembership(user string) string {
	for _, a := range ac.auth {
		if a.typ == "m.room.member" && a.sk != nil && *a.sk == user {
			ms, _ := contentOf(a)["membership"].(string)
			return ms
		}
	}
	return "none"
}

func (ac *authCase) authJoinRule() string {
	for _, a := range ac.auth {
		if a.typ == "m.room.join_rules" {
			jr, _ := contentOf(a)["join_rule"].(string)
			return jr
		}
	}
	return "(none)"
}

func hasRulePrefix(rule string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(rule, p) {
			return true
		}
	}
	return false
}

// classifyAuth names the class of a divergence, or "" when none explains it.
func classifyAuth(ac *authCase) string {
	c, rp, g, ver := ac.c, ac.rp, ac.g, ac.b.ver
	rpAllow, gAllow := rp.allow, g.allow
	target := ""
	if c.sk != nil {
		target = *c.sk
	}
	ms, _ := c.content["membership"].(string)
	firstJoin := ms == "join" && len(c.o.prev) == 1 && c.o.prev[0] == ac.rm.create.id && target == authCreator

	if !rpAllow && (rp.rule == "2.1" || rp.rule == "2.2") && gAllow {
		return "G-auth-events-rule2"
	}
	// Without a power levels event GMSL gives 100 to the create event's sender (v1-10).
	if c.typ != "m.room.create" && !ac.hasAuth("m.room.power_levels") && !ac.creatorOK() {
		return "G-creator-is-create-sender"
	}
	if c.typ == "m.room.power_levels" && ver <= 5 && rpAllow && !gAllow && strings.Contains(g.msg, "unparseable") {
		if n, ok := c.content["notifications"].(M); ok {
			if _, isInt := n["room"].(int); !isInt {
				return "C-v1-5-notifications-not-validated"
			}
		}
	}
	if c.typ == "m.room.power_levels" && ver >= 10 && !rpAllow && gAllow && strings.Contains(rp.msg, "null") {
		return "G-v10-null-level-accepted"
	}
	switch c.typ {
	case "m.room.create":
		rv, _ := c.content["room_version"].(string)
		if rpAllow && !gAllow && rv == "12" {
			return "C-create-room-version-12"
		}
		if !rpAllow && rp.rule == "1.3" && gAllow && ver == 11 {
			return "G-v11-create-not-checked"
		}
	case "m.room.aliases":
		if ver >= 6 {
			return "G-aliases-special-case-v6plus"
		}
	case "m.room.redaction":
		if ver <= 2 {
			return "G-v1v2-redaction-domain"
		}
	case "m.room.power_levels":
		switch {
		case !rpAllow && gAllow && strings.Contains(rp.msg, "users_default"):
			return "G-users_default-unchecked"
		case !rpAllow && gAllow && strings.Contains(rp.msg, "m.room.third_party_invite"):
			return "G-events-third_party_invite-unchecked"
		case !rpAllow && gAllow && hasRulePrefix(rp.rule, "9.3", "10.3", "9.4", "10.4", "9.5", "10.5", "9.6", "10.6", "9.7", "10.7", "9.8"):
			return "G-pl-defaults-or-ge-compare"
		case rpAllow && !gAllow && (strings.Contains(g.msg, "notification level") || strings.Contains(g.msg, "change level") || strings.Contains(g.msg, "change user")):
			return "G-pl-defaults-or-ge-compare"
		}
	case "m.room.member":
		old := ac.authMembership(target)
		jr := ac.authJoinRule()
		if _, ok := c.content["third_party_invite"]; ok && ms == "invite" {
			if !rpAllow && gAllow && (strings.HasSuffix(rp.rule, ".1.6") || strings.HasSuffix(rp.rule, ".1.1")) {
				return "G-3pid-ban-or-sender-unchecked"
			}
			if rpAllow && !gAllow && strings.Contains(g.msg, "Couldn't verify") {
				if _, ok := contentOf(ac.rm.tpi)["public_keys"]; !ok {
					return "G-3pid-public_key-ignored"
				}
			}
		}
		if tpi, ok := c.content["third_party_invite"].(M); ok && tpi["signed"] != nil && ver == 11 && rpAllow && strings.HasPrefix(g.msg, "VerifyEventSignatures: Bad signature") {
			return "G-v11-signature-over-tpi-signed"
		}
		if !rpAllow && gAllow && ms != "join" && strings.HasSuffix(rp.rule, "2.1") && strings.Contains(rp.msg, "no signature") {
			return "G-authoriser-signature-joins-only"
		}
		if firstJoin && rpAllow && !gAllow {
			return "G-first-join-needs-sender-eq-target"
		}
		if firstJoin && !ac.creatorOK() {
			return "G-creator-is-create-sender"
		}
		if ms == "leave" && target == c.sender && !rpAllow && gAllow && (old == "none" || old == "leave") {
			return "G-leave-from-none-or-leave"
		}
		if ms == "leave" && target != c.sender && !rpAllow && gAllow && old == "ban" {
			return "G-unban-ignores-kick-and-target"
		}
		if ms == "knock" && !rpAllow && gAllow && jr == "knock_restricted" && ver < 10 {
			return "G-knock_restricted-before-v10"
		}
		if ms == "join" && target == c.sender {
			switch {
			case !rpAllow && gAllow && (old == "invite" || old == "join"):
				return "G-join-matrix-invite-join-always-ok"
			case rpAllow && !gAllow && old == "knock" && jr == "public":
				return "G-join-matrix-knock-public-rejected"
			case !rpAllow && gAllow && jr == "knock_restricted" && ver < 10:
				return "G-knock_restricted-before-v10"
			}
		}
	}
	for _, e := range append(append([]*authEv{}, ac.auth...), ac.final) {
		if e.typ != "m.room.power_levels" {
			continue
		}
		for _, big := range []string{"99999999999999999999", "1e20", "1e+20", "-1e+20", "-1e20", "9223372036854775808", "100000000000000000000"} {
			if strings.Contains(string(e.raw), big) {
				return "C-pl-value-beyond-int64"
			}
		}
	}
	return ""
}

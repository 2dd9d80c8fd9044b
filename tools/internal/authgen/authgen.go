// Package authgen generates rooms and candidate events for the auth rules comparisons of the
// differential tools (tools/gmsldiff, area auth; tools/mautrixdiff, area auth): a random room
// state of a room version (create, creator's membership, power levels, join rules, members, a
// third-party invite), a candidate event drawn to reach the auth rules' corners, and
// perturbations of its auth events (extra, duplicated, missing, non-state, foreign).
//
// The generator is oracle-independent: it uses the standard library and roomproto's own
// packages only. What differs between the tools is set on the Builder (HistoryVisibility,
// RealSignFrom); v12 specifics (no room_id in the create event, the room ID derived from it,
// additional_creators, creators absent from users) apply to v12 rooms only, so a tool that
// never draws v12 gets the same events as before v12 support.
package authgen

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

var (
	// Users are the users of generated rooms; the first is the creator.
	Users = []string{"@alice:a.example", "@bob:b.example", "@carol:c.example", "@dave:a.example", "@erin:b.example"}
	// Creator creates every generated room.
	Creator = Users[0]
	// Servers are the users' servers.
	Servers = []string{"a.example", "b.example", "c.example"}
)

const (
	// DefaultRoomID is the room ID of generated rooms before v12.
	DefaultRoomID = "!room:a.example"
	// DummyHash is the content hash of generated events (the SHA-256 of nothing: no event
	// has it).
	DummyHash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
)

// DummySig is the signature of generated events that are not signed for real.
var DummySig = strings.Repeat("A", 86)

// Version returns roomproto's room version id, which must be one of the spec's (the tools pick
// it from their own tables).
func Version(id string) roomversion.Version {
	v, err := roomversion.Lookup(id)
	if err != nil {
		panic(err) // invariant: the harness chose the version from its own table
	}
	return v
}

// KeyFor returns the deterministic ed25519 key "ed25519:<id>" of a server: the seed is the
// SHA-256 of the server name for key "1" (the convention of testdata/signing/bench_corpus.json),
// of "<id> <server>" otherwise.
func KeyFor(server, id string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	if id != "1" {
		seed = sha256.Sum256([]byte(id + " " + server))
	}
	k, err := signing.NewSigningKey(id, seed[:])
	if err != nil {
		panic(err) // invariant: a 32-byte seed and a valid key ID
	}
	return k
}

// Event is an event of a generated room.
type Event struct {
	// Raw is the event's JSON.
	Raw []byte
	// ID is its event ID (from v3 the reference hash of Raw; v1-2 its event_id).
	ID string
	// Type is its type.
	Type string
	// StateKey is its state key, nil for a message event.
	StateKey *string
}

// Opts are the less common fields of an event Builder.Mk builds.
type Opts struct {
	// Prev are the prev_events (default none).
	Prev []string
	// IDDomain is the domain of a v1-2 event_id (default: the sender's).
	IDDomain string
	// Signers are the servers that sign besides the sender's.
	Signers []string
	// Real signs the event for real with the KeyFor keys (candidates where the authoriser's
	// signature is checked); otherwise the signatures are dummies.
	Real bool
	// Redacts is the ID of the event a redaction redacts (content.redacts from v11).
	Redacts string
}

// Builder builds the events of one room and its candidate. One Builder serves one room: from v12
// the create event GenRoom builds sets RoomID.
type Builder struct {
	// V is the room version and Ver its number.
	V   roomversion.Version
	Ver int
	// R draws every random choice, so a seed gives the same events.
	R *rand.Rand
	// N counts the events built; depth, origin_server_ts and v1-2 event IDs derive from it.
	N int
	// Focus biases the candidates towards restricted joins, joined senders, membership and
	// power levels.
	Focus bool
	// Edge lets power levels take unusual values (huge, non-integer, strings, null, ...).
	Edge bool
	// HistoryVisibility gives 3 rooms in 10 an m.room.history_visibility event.
	HistoryVisibility bool
	// RealSignFrom is the first room version in which a membership candidate with
	// join_authorised_via_users_server is signed for real (by the sender, the authoriser's
	// server and, for an invite, the target's); 0 means never.
	RealSignFrom int
	// RoomID is the room ID of v12 rooms, "!" and the create event's ID without its sigil; ""
	// means DefaultRoomID.
	RoomID string
}

// Room returns the room ID of the events built.
func (b *Builder) Room() string {
	if b.RoomID != "" {
		return b.RoomID
	}
	return DefaultRoomID
}

// Sp returns a pointer to s (a state key).
func Sp(s string) *string { return &s }

// FakeID returns an event ID of no event (v1-2 "$fakeN:a.example", from v3 a plausible hash).
func (b *Builder) FakeID() string {
	b.N++
	if b.Ver <= 2 {
		return fmt.Sprintf("$fake%d:a.example", b.N)
	}
	// The hash of a counter: a reference hash's shape, different for every call.
	h := sha256.Sum256([]byte(fmt.Sprintf("fake-event-%d", b.N)))
	return "$" + difftool.B64URL(h[:])
}

// Mk builds an event of the room with the given auth events, sender's dummy or (o.Real) real
// signatures, the dummy content hash and, from v3, its reference hash as ID.
func (b *Builder) Mk(typ, sender string, sk *string, content M, auth []string, o Opts) *Event {
	b.N++
	m := M{
		"room_id": b.Room(), "sender": sender, "type": typ, "content": content,
		"depth": b.N, "origin_server_ts": 1000 + b.N, "hashes": M{"sha256": DummyHash},
	}
	if sk != nil {
		m["state_key"] = *sk
	}
	if b.Ver >= 12 && typ == "m.room.create" {
		delete(m, "room_id")
	}
	if !o.Real {
		sigs := M{}
		for _, s := range append([]string{difftool.DomainOf(sender)}, o.Signers...) {
			if s != "" {
				sigs[s] = M{"ed25519:1": DummySig}
			}
		}
		m["signatures"] = sigs
	}
	prev := o.Prev
	if prev == nil {
		prev = []string{}
	}
	if auth == nil {
		auth = []string{}
	}
	var id string
	if b.Ver <= 2 {
		d := o.IDDomain
		if d == "" {
			d = difftool.DomainOf(sender)
		}
		id = fmt.Sprintf("$e%d:%s", b.N, d)
		m["event_id"] = id
		m["origin"] = difftool.DomainOf(sender)
		pairs := func(ids []string) []any {
			out := []any{}
			for _, x := range ids {
				out = append(out, []any{x, M{"sha256": DummyHash}})
			}
			return out
		}
		m["auth_events"] = pairs(auth)
		m["prev_events"] = pairs(prev)
	} else {
		m["auth_events"] = auth
		m["prev_events"] = prev
	}
	if o.Redacts != "" {
		if b.Ver >= 11 {
			content["redacts"] = o.Redacts
		} else {
			m["redacts"] = o.Redacts
		}
	}
	raw := difftool.Enc(m)
	if o.Real {
		raw = SignAll(b.V, raw, append([]string{difftool.DomainOf(sender)}, o.Signers...))
	}
	if b.Ver > 2 {
		var err error
		if id, err = signing.EventID(b.V, raw); err != nil {
			id = b.FakeID()
		}
	}
	return &Event{Raw: raw, ID: id, Type: typ, StateKey: sk}
}

// SignAll signs an event with the KeyFor keys of the given servers (the first one computes the
// content hash).
func SignAll(v roomversion.Version, raw []byte, servers []string) []byte {
	out, err := signing.SignEvent(v, raw, servers[0], KeyFor(servers[0], "1"))
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	for _, s := range servers[1:] {
		if s == servers[0] {
			continue
		}
		if out, err = signing.CountersignEvent(v, out, s, KeyFor(s, "1")); err != nil {
			panic(err) // invariant: the harness built this input or table itself
		}
	}
	return out
}

// Pick returns one of xs at random.
func (b *Builder) Pick(xs ...any) any { return xs[b.R.Intn(len(xs))] }

// Level returns a random power level value, most often an integer; the other forms (strings,
// floats, huge numbers, and with Edge odd values) depend on the room version and on whether
// the value goes into the room state (forState) or into a candidate.
func (b *Builder) Level(forState bool) any {
	if b.Edge && b.R.Float64() < 0.08 {
		var xs []any
		if b.Ver <= 5 {
			xs = append(xs, json.Number("99999999999999999999"), json.Number("1e20"), json.Number("-1e20"), json.Number("50.999"), json.Number("9223372036854775808"))
		}
		if b.Ver <= 9 {
			xs = append(xs, "\t50\n", "99999999999999999999", "50 ")
			if !forState {
				xs = append(xs, "1_0", "٥٠", "0x10", "", "5 0", "--5")
			}
		}
		if !forState {
			xs = append(xs, true, nil, M{}, []any{})
		}
		if len(xs) > 0 {
			return xs[b.R.Intn(len(xs))]
		}
	}
	r := b.R.Float64()
	switch {
	case r < 0.70:
		return b.Pick(0, 0, 10, 25, 49, 50, 50, 51, 75, 99, 100, 100, 101)
	case r < 0.78:
		return b.Pick(-1, -50, -100)
	case r < 0.83:
		if b.R.Intn(2) == 0 {
			return int64(9007199254740991)
		}
		return int64(-9007199254740991)
	case r < 0.93:
		if b.Ver <= 9 || (!forState && b.R.Intn(4) == 0) {
			return b.Pick("50", " 75 ", "+100", "-10", "0050", "100", "0", "49")
		}
		return b.Pick(0, 50, 100)
	default:
		if b.Ver <= 5 || (!forState && b.R.Intn(6) == 0) {
			return b.Pick(50.0, 49.9, 100.5, -0.5, 1e2)
		}
		return b.Pick(0, 50, 100)
	}
}

var (
	// NamedLevels are the named power levels of m.room.power_levels content.
	NamedLevels = []string{"ban", "kick", "redact", "invite", "events_default", "state_default", "users_default"}
	// EventTypes are the event types of the power levels' events map.
	EventTypes = []string{"m.room.name", "m.room.power_levels", "m.room.topic", "m.room.redaction", "m.room.message", "m.room.join_rules", "m.room.member", "m.room.third_party_invite", "com.example.state", "m.room.history_visibility"}
)

// PLContent returns random m.room.power_levels content (forState as for Level).
func (b *Builder) PLContent(forState bool) M {
	c := M{}
	for _, k := range NamedLevels {
		if b.R.Float64() < 0.5 {
			c[k] = b.Level(forState)
		}
	}
	if b.R.Float64() < 0.9 {
		u := M{}
		if b.R.Float64() < 0.92 {
			if b.Ver < 12 || b.R.Float64() < 0.1 {
				u[Creator] = b.Pick(100, 100, 100, 50, int64(9007199254740991))
			}
		}
		for _, x := range Users[1:] {
			if b.R.Float64() < 0.5 {
				u[x] = b.Level(forState)
			}
		}
		c["users"] = u
	}
	if b.R.Float64() < 0.6 {
		e := M{}
		for _, t := range EventTypes {
			if b.R.Float64() < 0.25 {
				e[t] = b.Level(forState)
			}
		}
		c["events"] = e
	}
	if b.R.Float64() < 0.3 {
		c["notifications"] = M{"room": b.Level(forState)}
	}
	return c
}

// Room is a generated room state.
type Room struct {
	// Create, PL and JR are the create, power levels and join rules events (PL and JR may be
	// nil).
	Create, PL, JR *Event
	// Members are the m.room.member events by state key.
	Members map[string]*Event
	// TPI is an m.room.third_party_invite event (state key "tok1"), or nil; TPIKey its
	// identity server key.
	TPI    *Event
	TPIKey ed25519.PrivateKey
	// PLContent is the content of PL (nil without one).
	PLContent M
	// JoinRule is the join rule of JR, "(none)" without one.
	JoinRule string
	// Order lists every state event, in the order they were built.
	Order []*Event
}

// GenRoom generates a room state.
func (b *Builder) GenRoom() *Room {
	rm := &Room{Members: map[string]*Event{}}
	cc := M{}
	if b.Ver > 1 || b.R.Intn(2) == 0 {
		cc["room_version"] = b.V.ID
	}
	if b.Ver <= 10 {
		if b.R.Float64() < 0.93 {
			cc["creator"] = Creator
		} else if b.R.Intn(2) == 0 {
			cc["creator"] = Users[1]
		}
	} else if b.R.Float64() < 0.15 {
		cc["creator"] = Users[b.R.Intn(2)]
	}
	if b.R.Float64() < 0.15 {
		cc["m.federate"] = b.R.Intn(2) == 0
	}
	if b.Ver >= 12 && b.R.Float64() < 0.3 {
		cc["additional_creators"] = b.Pick([]any{"@bob:b.example"}, []any{"@bob:b.example", "@carol:c.example"}) // only valid ones: an invalid create is rejected (1.4)
	}
	rm.Create = b.Mk("m.room.create", Creator, Sp(""), cc, nil, Opts{})
	if b.Ver >= 12 {
		b.RoomID = "!" + rm.Create.ID[1:]
	}
	rm.Order = append(rm.Order, rm.Create)
	base := []string{rm.Create.ID}
	cj := b.Mk("m.room.member", Creator, Sp(Creator), M{"membership": "join"}, base, Opts{Prev: []string{rm.Create.ID}})
	if b.R.Float64() < 0.07 {
		cj = b.Mk("m.room.member", Creator, Sp(Creator), M{"membership": "leave"}, base, Opts{})
	}
	rm.Members[Creator] = cj
	rm.Order = append(rm.Order, cj)
	if b.R.Float64() < 0.88 {
		rm.PLContent = b.PLContent(true)
		rm.PL = b.Mk("m.room.power_levels", Creator, Sp(""), rm.PLContent, base, Opts{})
		rm.Order = append(rm.Order, rm.PL)
	}
	if b.R.Float64() < 0.9 {
		rules := []string{"public", "invite"}
		if b.Ver >= 7 {
			rules = append(rules, "knock")
		}
		if b.Ver >= 8 {
			rules = append(rules, "restricted", "restricted")
		}
		if b.Ver >= 10 {
			rules = append(rules, "knock_restricted", "knock_restricted")
		}
		if b.R.Float64() < 0.05 {
			rules = append(rules, "private", "knock_restricted", "restricted", "knock")
		}
		rm.JoinRule = rules[b.R.Intn(len(rules))]
		if b.Focus && b.Ver >= 8 && b.R.Float64() < 0.5 {
			rm.JoinRule = "restricted"
			if b.Ver >= 10 && b.R.Intn(2) == 0 {
				rm.JoinRule = "knock_restricted"
			}
		}
		c := M{"join_rule": rm.JoinRule}
		if strings.Contains(rm.JoinRule, "restricted") {
			c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
		}
		rm.JR = b.Mk("m.room.join_rules", Creator, Sp(""), c, base, Opts{})
		rm.Order = append(rm.Order, rm.JR)
	} else {
		rm.JoinRule = "(none)"
	}
	if b.HistoryVisibility && b.R.Float64() < 0.3 {
		hv := b.Mk("m.room.history_visibility", Creator, Sp(""), M{"history_visibility": b.Pick("shared", "joined", "invited", "world_readable").(string)}, base, Opts{})
		rm.Order = append(rm.Order, hv)
	}
	mships := []string{"none", "none", "join", "join", "join", "invite", "leave", "ban"}
	if b.Ver >= 7 {
		mships = append(mships, "knock")
	}
	for _, u := range Users[1:] {
		ms := mships[b.R.Intn(len(mships))]
		if ms == "none" {
			continue
		}
		sender := u
		if ms == "invite" || ms == "ban" || (ms == "leave" && b.R.Intn(3) == 0) {
			sender = Creator
		}
		rm.Members[u] = b.Mk("m.room.member", sender, Sp(u), M{"membership": ms}, base, Opts{})
		rm.Order = append(rm.Order, rm.Members[u])
	}
	if b.R.Float64() < 0.3 {
		seed := make([]byte, 32)
		b.R.Read(seed)
		rm.TPIKey = ed25519.NewKeyFromSeed(seed)
		pk := difftool.B64(rm.TPIKey.Public().(ed25519.PublicKey))
		c := M{"display_name": "x", "key_validity_url": "https://id.example/v", "public_key": pk}
		if b.R.Float64() < 0.85 {
			c["public_keys"] = []any{M{"public_key": pk, "key_validity_url": "https://id.example/v"}}
		}
		s := Creator
		if b.R.Intn(4) == 0 {
			s = Users[1]
		}
		rm.TPI = b.Mk("m.room.third_party_invite", s, Sp("tok1"), c, base, Opts{})
		rm.Order = append(rm.Order, rm.TPI)
	}
	return rm
}

// Lookup returns the state event of rm with the given type and state key, or nil.
func (rm *Room) Lookup(k authrules.StateKey) *Event {
	switch {
	case k.Type == "m.room.create" && k.StateKey == "":
		return rm.Create
	case k.Type == "m.room.power_levels" && k.StateKey == "":
		return rm.PL
	case k.Type == "m.room.join_rules" && k.StateKey == "":
		return rm.JR
	case k.Type == "m.room.member":
		return rm.Members[k.StateKey]
	case k.Type == "m.room.third_party_invite" && rm.TPI != nil && *rm.TPI.StateKey == k.StateKey:
		return rm.TPI
	}
	return nil
}

// Membership returns the membership of user u in rm, "none" without an m.room.member event.
func (rm *Room) Membership(u string) string {
	if e := rm.Members[u]; e != nil {
		ms, _ := ContentOf(e)["membership"].(string)
		return ms
	}
	return "none"
}

// Cand is a candidate event, before its auth events are known.
type Cand struct {
	Type     string
	Sender   string
	StateKey *string
	Content  M
	Opts     Opts
	// Label says what the generator made, e.g. "member:join:self+authvia" or "pl".
	Label string
}

// GenCand generates a candidate event in rm: a membership change, a power levels change, a
// redaction, aliases, a create, a third-party invite, join rules, other state or a message.
func (b *Builder) GenCand(rm *Room) Cand {
	s := Users[b.R.Intn(len(Users))]
	other := Users[b.R.Intn(len(Users))]
	if b.Focus && b.R.Float64() < 0.7 {
		var joined []string
		for _, u := range Users {
			if rm.Membership(u) == "join" {
				joined = append(joined, u)
			}
		}
		if len(joined) > 0 {
			s = joined[b.R.Intn(len(joined))]
		}
	}
	prevDefault := []string{b.FakeID()}
	kind := b.R.Intn(100)
	if b.Focus && b.R.Intn(2) == 0 {
		kind = b.R.Intn(62) // membership and power levels only
	}
	switch {
	case kind < 45: // membership
		target := s
		if b.R.Intn(2) == 0 {
			target = other
		}
		ms := b.Pick("join", "join", "invite", "leave", "leave", "ban", "knock").(string)
		if b.R.Float64() < 0.02 {
			ms = "foo"
		}
		c := M{"membership": ms}
		o := Opts{Prev: prevDefault}
		lab := ""
		authoriser := func() {
			a := Users[b.R.Intn(len(Users))]
			c["join_authorised_via_users_server"] = a
			if b.R.Float64() < 0.9 {
				o.Signers = append(o.Signers, difftool.DomainOf(a))
			}
			// Where the oracle verifies the authoriser's signature, sign for real, with every
			// server it needs but (one time in ten) the authoriser's.
			if b.RealSignFrom > 0 && b.Ver >= b.RealSignFrom {
				o.Real = true
				if ms == "invite" {
					o.Signers = append(o.Signers, difftool.DomainOf(target))
				}
			}
			lab = "+authvia"
		}
		if ms == "join" {
			p := 0.1
			if strings.Contains(rm.JoinRule, "restricted") {
				p = 0.7
			}
			if b.Ver < 8 {
				p /= 3
			}
			if b.R.Float64() < p {
				authoriser()
			}
			if target == Creator && b.R.Intn(3) == 0 {
				o.Prev = []string{rm.Create.ID}
				lab += "+prevcreate"
			}
		} else if b.Ver >= 8 && b.R.Float64() < 0.05 {
			authoriser()
		}
		if ms == "invite" && rm.TPI != nil && b.R.Float64() < 0.4 {
			signed := M{"mxid": target, "token": "tok1"}
			if b.R.Intn(8) == 0 {
				signed["mxid"] = other
			}
			key, _ := signing.NewSigningKey("0", rm.TPIKey.Seed())
			if b.R.Intn(8) == 0 {
				seed := make([]byte, 32)
				b.R.Read(seed)
				key, _ = signing.NewSigningKey("0", seed)
			}
			raw, _ := signing.SignJSON(difftool.Enc(signed), "id.example", key)
			c["third_party_invite"] = M{"display_name": "x", "signed": difftool.Decode(raw)}
			lab += "+3pid"
		}
		if b.R.Float64() < 0.05 {
			c["displayname"] = "X"
		}
		rel := "other"
		if target == s {
			rel = "self"
		}
		return Cand{"m.room.member", s, Sp(target), c, o, fmt.Sprintf("member:%s:%s%s", ms, rel, lab)}
	case kind < 62: // power levels change
		base := M{}
		if rm.PLContent != nil {
			base = difftool.CopyM(rm.PLContent)
		}
		if b.R.Float64() < 0.15 {
			base = b.PLContent(false)
		}
		for i := 1 + b.R.Intn(3); i > 0; i-- {
			switch b.R.Intn(6) {
			case 0, 1:
				u, _ := base["users"].(M)
				if u == nil {
					u = M{}
					base["users"] = u
				}
				x := Users[b.R.Intn(len(Users))]
				if b.R.Intn(5) == 0 {
					delete(u, x)
				} else {
					u[x] = b.Level(false)
				}
			case 2, 3:
				k := NamedLevels[b.R.Intn(len(NamedLevels))]
				if b.R.Intn(5) == 0 {
					delete(base, k)
				} else {
					base[k] = b.Level(false)
				}
			case 4:
				e, _ := base["events"].(M)
				if e == nil {
					e = M{}
					base["events"] = e
				}
				t := EventTypes[b.R.Intn(len(EventTypes))]
				if b.R.Intn(4) == 0 {
					delete(e, t)
				} else {
					e[t] = b.Level(false)
				}
			case 5:
				base["notifications"] = M{"room": b.Level(false)}
			}
		}
		if b.R.Float64() < 0.02 {
			base["users"] = M{"notauser": 10}
		}
		return Cand{"m.room.power_levels", s, Sp(""), base, Opts{Prev: prevDefault}, "pl"}
	case kind < 70: // redaction
		d := Servers[b.R.Intn(3)]
		o := Opts{Prev: prevDefault}
		if b.Ver <= 2 {
			o.Redacts = "$x:" + d
			if b.R.Intn(5) == 0 {
				o.IDDomain = Servers[b.R.Intn(3)]
			}
		} else {
			o.Redacts = b.FakeID()
		}
		return Cand{"m.room.redaction", s, nil, M{}, o, "redaction"}
	case kind < 75: // aliases
		d := difftool.DomainOf(s)
		if b.R.Intn(3) == 0 {
			d = difftool.DomainOf(other)
		}
		return Cand{"m.room.aliases", s, Sp(d), M{"aliases": []any{"#x:" + d}}, Opts{Prev: prevDefault}, "aliases"}
	case kind < 78: // create
		c := M{}
		if b.R.Intn(4) != 0 {
			c["room_version"] = b.Pick(b.V.ID, b.V.ID, "99", "1", "12").(string)
		}
		if b.R.Intn(4) != 0 {
			c["creator"] = s
		}
		o := Opts{}
		if b.R.Intn(4) == 0 {
			o.Prev = prevDefault
		}
		return Cand{"m.room.create", s, Sp(""), c, o, "create"}
	case kind < 81:
		return Cand{"m.room.third_party_invite", s, Sp("tok2"), M{"display_name": "y", "public_key": "AAAA"}, Opts{Prev: prevDefault}, "tpi-event"}
	case kind < 85:
		return Cand{"m.room.join_rules", s, Sp(""), M{"join_rule": b.Pick("public", "invite", "knock").(string)}, Opts{Prev: prevDefault}, "joinrules"}
	case kind < 93:
		t := b.Pick("m.room.name", "m.room.topic", "com.example.state", "m.room.history_visibility").(string)
		key := b.Pick("", "", "x", s, other, "@", "@nobody").(string)
		return Cand{t, s, Sp(key), M{"name": "n"}, Opts{Prev: prevDefault}, "state"}
	default:
		return Cand{b.Pick("m.room.message", "m.room.encrypted", "m.reaction").(string), s, nil, M{"body": "hi"}, Opts{Prev: prevDefault}, "message"}
	}
}

// Perturb changes the auth event list: an extra, duplicated, missing, non-state or foreign
// event, or (3 times in 7) nothing.
func (b *Builder) Perturb(rm *Room, auth []*Event, c Cand) ([]*Event, string) {
	switch b.R.Intn(7) {
	case 0:
		in := map[*Event]bool{}
		for _, a := range auth {
			in[a] = true
		}
		var pool []*Event
		for _, e := range rm.Order {
			if !in[e] {
				pool = append(pool, e)
			}
		}
		if len(pool) == 0 {
			return auth, ""
		}
		e := pool[b.R.Intn(len(pool))]
		return append(append([]*Event{}, auth...), e), "extra:" + e.Type
	case 1:
		if rm.PL != nil && b.R.Intn(2) == 0 {
			alt := b.Mk("m.room.power_levels", Creator, Sp(""), b.PLContent(true), []string{rm.Create.ID}, Opts{})
			if b.R.Intn(2) == 0 {
				return append(append([]*Event{}, auth...), alt), "dup:pl-after"
			}
			return append([]*Event{alt}, auth...), "dup:pl-before"
		}
		alt := b.Mk("m.room.member", c.Sender, Sp(c.Sender), M{"membership": b.Pick("join", "leave", "ban").(string)}, []string{rm.Create.ID}, Opts{})
		return append(append([]*Event{}, auth...), alt), "dup:sender-member"
	case 2:
		if len(auth) == 0 {
			return auth, ""
		}
		i := b.R.Intn(len(auth))
		return append(append([]*Event{}, auth[:i]...), auth[i+1:]...), "missing:" + auth[i].Type
	case 3:
		msg := b.Mk("m.room.message", c.Sender, nil, M{"body": "x"}, []string{rm.Create.ID}, Opts{})
		return append(append([]*Event{}, auth...), msg), "extra:non-state"
	case 4:
		if len(auth) == 0 {
			return auth, ""
		}
		i := b.R.Intn(len(auth))
		m := difftool.Decode(auth[i].Raw)
		m["room_id"] = "!other:b.example"
		raw := difftool.Enc(m)
		id := auth[i].ID
		if b.Ver > 2 {
			id, _ = signing.EventID(b.V, raw)
		}
		out := append([]*Event{}, auth...)
		out[i] = &Event{Raw: raw, ID: id, Type: auth[i].Type, StateKey: auth[i].StateKey}
		return out, "foreign:" + auth[i].Type
	}
	return auth, ""
}

// ContentOf returns the content of e (nil for a nil e).
func ContentOf(e *Event) M {
	if e == nil {
		return nil
	}
	c, _ := difftool.Decode(e.Raw)["content"].(M)
	return c
}

// Assemble builds candidate c in rm: a draft without auth events tells which auth events are
// needed (authrules.AuthEventsNeeded; none for a create event), those rm has are selected and,
// when perturbed, perturbed; then the final event cites them. It returns the final event, its
// auth events and the perturbation label, or an error when the draft is not a PDU (e.g. a v1-2
// state key too long): such a candidate is not compared.
func (b *Builder) Assemble(rm *Room, c Cand, perturbed bool) (final *Event, auth []*Event, pert string, err error) {
	draft := b.Mk(c.Type, c.Sender, c.StateKey, difftool.CopyM(c.Content), nil, c.Opts)
	pe, err := pdu.Parse(b.V, draft.Raw)
	if err != nil {
		return nil, nil, "", err
	}
	if c.Type != "m.room.create" {
		need, _ := authrules.AuthEventsNeeded(b.V, pe)
		for _, k := range need {
			if e := rm.Lookup(k); e != nil {
				auth = append(auth, e)
			}
		}
	}
	if perturbed {
		auth, pert = b.Perturb(rm, auth, c)
	}
	var ids []string
	for _, a := range auth {
		ids = append(ids, a.ID)
	}
	final = b.Mk(c.Type, c.Sender, c.StateKey, difftool.CopyM(c.Content), ids, c.Opts)
	return final, auth, pert, nil
}

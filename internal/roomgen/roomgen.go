// Package roomgen generates synthetic Matrix rooms for tests, benchmarks and the roomproto
// command's example room: deterministic (the same Config gives the same bytes), signed with
// fixed test keys by roomproto's own signing code, of any size.
//
// A generated room is a sequence of events of one room version (8 to 12: versions with
// restricted join rules; in 12 the room ID is the create event's ID and the creator's power,
// infinite, is not listed in power levels), each with correct `auth_events`
// (server-server-api "Auth events selection") and `prev_events` pointing at the previous
// event: the creator's create and join, power levels, a restricted join rule, then members
// joining (most of them through restricted joins authorised by a moderator of another server,
// the rest invited first), messages, power-level changes, name changes, kicks, bans and
// leaves. Optionally some events are
// generated that the authorization rules must reject, and events that cite a rejected event
// among their auth events (auth rule 2.3); [Room.Expect] records which.
//
// Test keys: the key of server S has version "1" and the seed sha256(S), the convention of the
// project's shared benchmark corpus (shared/bench/README.md).
package roomgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// TestKey returns the fixed test signing key of a server: version "1", seed sha256(server).
func TestKey(server string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		// Invariant: a 32-byte seed and the version "1" are always accepted.
		return signing.SigningKey{}
	}
	return k
}

// Config describes the room to generate. The zero value of a field picks its default.
type Config struct {
	// RoomVersion is the room version, "8" to "12"; default "9".
	RoomVersion string
	// Events is the number of events to generate; default 1000, at least 8.
	Events int
	// Servers is the number of homeservers the users live on; default 8.
	Servers int
	// Seed makes different rooms of the same size; the same Config always gives the same room.
	Seed uint64
	// MessageShare is the share of events after the setup that are messages, in percent;
	// default 20. Negative means none.
	MessageShare int
	// BodyBytes is the size of a message body; default 200.
	BodyBytes int
	// Rejected is the share of events, in per mille, that the authorization rules must reject:
	// restricted joins whose authoriser lacks invite power (rule 4.3.5.2), power-level changes
	// by users without the power, messages by users who are not joined; after each, with
	// probability one half, an event citing the rejected one in its auth events (rule 2.3).
	// (Rule numbers of v8-11; v12 numbers each one higher: 5.3.5.2, 3.3.) Default 0.
	Rejected int
}

// Outcome is what the authorization rules must decide for a generated event.
type Outcome struct {
	// Rejected is true when the event must be rejected.
	Rejected bool
	// Rule is the rule that must reject it, numbered as the room version's text numbers it
	// (rooms/fragments/v8-auth-rules.md for 8 to 11, rooms/v12.md), "" when accepted.
	Rule string
	// Note says in words what the event is.
	Note string
}

// Room is a generated room.
type Room struct {
	// Version is the room version.
	Version roomversion.Version
	// RoomID is the room's ID.
	RoomID string
	// Events are the events in the order they were created (each after its auth events and
	// prev events), as canonical JSON.
	Events [][]byte
	// EventIDs are the events' IDs, EventIDs[i] of Events[i].
	EventIDs []string
	// Expect is the verdict the authorization rules must reach for each event.
	Expect []Outcome
	// Keys are the public keys of every server of the room.
	Keys signing.KeyRing
	// Servers are the server names, the creator's first.
	Servers []string
}

// ReplayJSON returns the room in the replay format of the roomproto command:
// {"room_version":"9","events":[...]}.
func (r *Room) ReplayJSON() []byte {
	n := 64
	for _, e := range r.Events {
		n += len(e) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, `{"room_version":`...)
	out = canonicaljson.AppendString(out, r.Version.ID)
	out = append(out, `,"events":[`...)
	for i, e := range r.Events {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, e...)
	}
	return append(out, "]}"...)
}

// ReplayFile returns the room in the replay format laid out for reading, one event per line,
// with the servers' public keys in a "keys" member (the form of cmd/roomproto/exampleroom.json):
// {"room_version":"9",\n"keys":{...},\n"events":[\n...\n]}.
func (r *Room) ReplayFile() []byte {
	var b bytes.Buffer
	b.WriteString(`{"room_version":`)
	b.Write(canonicaljson.AppendString(nil, r.Version.ID))
	b.WriteString(",\n\"keys\":")
	b.Write(r.KeysJSON())
	b.WriteString(",\n\"events\":[\n")
	for i, e := range r.Events {
		b.Write(e)
		if i < len(r.Events)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// KeysJSON returns the room's public keys in the format of the --keys flag:
// {"server": {"ed25519:1": "<unpadded base64>"}}.
func (r *Room) KeysJSON() []byte {
	m := map[string]map[string]string{}
	for s, keys := range r.Keys {
		m[s] = map[string]string{}
		for id, k := range keys {
			m[s][id] = encode(k.Key)
		}
	}
	b, _ := canonicaljson.Marshal(m) // maps of strings always marshal
	return b
}

// Generate makes the room cfg describes.
func Generate(cfg Config) (*Room, error) {
	if cfg.RoomVersion == "" {
		cfg.RoomVersion = "9"
	}
	v, err := roomversion.Lookup(cfg.RoomVersion)
	if err != nil {
		return nil, err
	}
	if !v.Auth.RestrictedJoinRule || v.Format.EventID != roomversion.EventIDHashURLSafe {
		return nil, fmt.Errorf("roomgen: room version %s not supported (want 8 to 12)", v.ID)
	}
	if cfg.Events == 0 {
		cfg.Events = 1000
	}
	if cfg.Events < 8 {
		return nil, errors.New("roomgen: at least 8 events")
	}
	if cfg.Servers <= 0 {
		cfg.Servers = 8
	}
	if cfg.MessageShare == 0 {
		cfg.MessageShare = 20
	}
	if cfg.BodyBytes <= 0 {
		cfg.BodyBytes = 200
	}
	g := newGen(v, cfg)
	if err := g.setup(); err != nil {
		return nil, err
	}
	for len(g.room.Events) < cfg.Events {
		if err := g.step(); err != nil {
			return nil, err
		}
	}
	g.room.Events = g.room.Events[:cfg.Events]
	g.room.EventIDs = g.room.EventIDs[:cfg.Events]
	g.room.Expect = g.room.Expect[:cfg.Events]
	return g.room, nil
}

// stateKey identifies a state entry.
type stateKey struct{ typ, key string }

type gen struct {
	cfg   Config
	v     roomversion.Version
	rng   *rand.Rand
	room  *Room
	keys  map[string]signing.SigningKey
	ts    int64
	depth int64
	prev  string

	state   map[stateKey]string // current state: event ID
	member  map[string]string   // user → membership
	joined  []string            // joined users, for random picks
	joinIdx map[string]int      // user → index in joined
	power   map[string]int64    // users with a power level other than the default 0
	mods    []string            // users with power 50 (invite, kick, ban, redact)
	creator string
	nextUID int
	body    string
}

func newGen(v roomversion.Version, cfg Config) *gen {
	servers := make([]string, cfg.Servers)
	for i := range servers {
		servers[i] = fmt.Sprintf("hs%d.example", i)
	}
	return newGenServers(v, cfg, servers)
}

func newGenServers(v roomversion.Version, cfg Config, servers []string) *gen {
	g := &gen{
		cfg:     cfg,
		v:       v,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x726f6f6d67656e)),
		room:    &Room{Version: v, Keys: signing.KeyRing{}},
		keys:    map[string]signing.SigningKey{},
		ts:      1_700_000_000_000,
		state:   map[stateKey]string{},
		member:  map[string]string{},
		joinIdx: map[string]int{},
		power:   map[string]int64{},
	}
	for _, s := range servers {
		k := TestKey(s)
		g.keys[s] = k
		g.room.Servers = append(g.room.Servers, s)
		g.room.Keys[s] = map[string]signing.PublicKey{k.KeyID(): {Key: k.Public()}}
	}
	b := make([]byte, cfg.BodyBytes)
	const text = "Le cœur a ses raisons que la raison ne connaît point — 心 — "
	for i := range b {
		b[i] = text[i%len(text)]
	}
	g.body = string(b)
	return g
}

func serverOf(user string) string {
	for i := 0; i < len(user); i++ {
		if user[i] == ':' {
			return user[i+1:]
		}
	}
	return ""
}

// newUser returns a fresh user ID on a server picked at random.
func (g *gen) newUser() string {
	g.nextUID++
	return fmt.Sprintf("@u%d:%s", g.nextUID, g.room.Servers[g.rng.IntN(len(g.room.Servers))])
}

// spec of an event to build.
type spec struct {
	sender     string
	typ        string
	stateKey   *string
	content    map[string]any
	redacts    string
	authoriser string   // join_authorised_via_users_server, for the auth events and second signature
	extraAuth  []string // auth events added to the selection (to cite a rejected event)
	outcome    Outcome
}

func sk(s string) *string { return &s }

// authEvents applies the auth events selection to the current state.
func (g *gen) authEvents(s *spec) []string {
	out := []string{} // never null, even when nothing is selected (v12's first join)
	add := func(t, k string) {
		if id, ok := g.state[stateKey{t, k}]; ok {
			for _, x := range out {
				if x == id {
					return
				}
			}
			out = append(out, id)
		}
	}
	if s.typ == "m.room.create" {
		return []string{}
	}
	if g.v.Auth.SelectCreateEvent {
		add("m.room.create", "")
	}
	add("m.room.power_levels", "")
	add("m.room.member", s.sender)
	if s.typ == "m.room.member" && s.stateKey != nil {
		add("m.room.member", *s.stateKey)
		m, _ := s.content["membership"].(string)
		if m == "join" || m == "invite" || m == "knock" {
			add("m.room.join_rules", "")
		}
		if m == "join" && s.authoriser != "" {
			add("m.room.member", s.authoriser)
		}
	}
	return append(out, s.extraAuth...)
}

// emit builds, signs and records an event; when it is expected to be accepted and is a state
// event, it becomes the current state. It returns the event ID.
func (g *gen) emit(s spec) (string, error) {
	g.ts += 1 + int64(g.rng.IntN(5000))
	ev := map[string]any{
		"type":             s.typ,
		"sender":           s.sender,
		"content":          s.content,
		"origin_server_ts": g.ts,
		"depth":            g.depth + 1,
		"auth_events":      g.authEvents(&s),
		"prev_events":      []string{},
	}
	if s.typ != "m.room.create" || !g.v.Format.RoomIDFromCreateEvent {
		ev["room_id"] = g.room.RoomID
	}
	if g.prev != "" {
		ev["prev_events"] = []string{g.prev}
	}
	if s.stateKey != nil {
		ev["state_key"] = *s.stateKey
	}
	if s.redacts != "" {
		if g.v.Format.RedactsInContent {
			s.content["redacts"] = s.redacts
		} else {
			ev["redacts"] = s.redacts
		}
	}
	raw, err := canonicaljson.Marshal(ev)
	if err != nil {
		return "", err
	}
	server := serverOf(s.sender)
	raw, err = signing.SignEvent(g.v, raw, server, g.keys[server])
	if err != nil {
		return "", err
	}
	if s.authoriser != "" {
		if as := serverOf(s.authoriser); as != server {
			if raw, err = signing.SignEvent(g.v, raw, as, g.keys[as]); err != nil {
				return "", err
			}
		}
	}
	id, err := signing.EventID(g.v, raw)
	if err != nil {
		return "", err
	}
	g.room.Events = append(g.room.Events, raw)
	g.room.EventIDs = append(g.room.EventIDs, id)
	g.room.Expect = append(g.room.Expect, s.outcome)
	g.depth++
	g.prev = id
	if !s.outcome.Rejected {
		g.apply(&s, id)
	}
	return id, nil
}

// apply updates the generator's view of the room state after an accepted event.
func (g *gen) apply(s *spec, id string) {
	if s.stateKey == nil {
		return
	}
	g.state[stateKey{s.typ, *s.stateKey}] = id
	if s.typ != "m.room.member" {
		return
	}
	user := *s.stateKey
	m, _ := s.content["membership"].(string)
	was := g.member[user]
	g.member[user] = m
	if m == "join" && was != "join" {
		g.joinIdx[user] = len(g.joined)
		g.joined = append(g.joined, user)
	}
	if m != "join" && was == "join" {
		i := g.joinIdx[user]
		last := g.joined[len(g.joined)-1]
		g.joined[i] = last
		g.joinIdx[last] = i
		g.joined = g.joined[:len(g.joined)-1]
		delete(g.joinIdx, user)
	}
}

func (g *gen) powerLevelsContent() map[string]any {
	users := map[string]any{}
	for u, p := range g.power {
		if u == g.creator && g.v.Auth.InfiniteCreatorPower {
			continue // a creator in `users` is rejected (v12 rule 10.4); its power is infinite
		}
		users[u] = p
	}
	return map[string]any{
		"ban": 50, "kick": 50, "invite": 50, "redact": 50,
		"events_default": 0, "state_default": 50, "users_default": 0,
		"events": map[string]any{
			"m.room.name": 50, "m.room.power_levels": 100, "m.room.history_visibility": 100,
			"m.room.join_rules": 100, "m.room.redaction": 0,
		},
		"users": users,
	}
}

func (g *gen) setup() error {
	g.creator = "@creator:" + g.room.Servers[0]
	if !g.v.Format.RoomIDFromCreateEvent {
		g.room.RoomID = "!room" + strconv.FormatUint(g.cfg.Seed, 10) + ":" + g.room.Servers[0]
	}
	content := map[string]any{"room_version": g.v.ID}
	if g.v.Auth.CreatorInContent {
		content["creator"] = g.creator
	}
	steps := []spec{
		{sender: g.creator, typ: "m.room.create", stateKey: sk(""), content: content, outcome: Outcome{Note: "create"}},
		{sender: g.creator, typ: "m.room.member", stateKey: sk(g.creator), content: map[string]any{"membership": "join", "displayname": "Creator"}, outcome: Outcome{Note: "creator joins"}},
	}
	for _, s := range steps {
		id, err := g.emit(s)
		if err != nil {
			return err
		}
		if s.typ == "m.room.create" && g.v.Format.RoomIDFromCreateEvent {
			g.room.RoomID = "!" + id[1:] // the create event's ID with the sigil `!` (v12)
		}
	}
	g.power[g.creator] = 100
	// A moderator on every other server, so that restricted joins have authorisers everywhere.
	var mods []string
	for i := 1; i < len(g.room.Servers) && i <= 4; i++ {
		m := "@mod:" + g.room.Servers[i]
		g.power[m] = 50
		mods = append(mods, m)
	}
	steps = []spec{
		{sender: g.creator, typ: "m.room.power_levels", stateKey: sk(""), content: g.powerLevelsContent(), outcome: Outcome{Note: "power levels"}},
		{sender: g.creator, typ: "m.room.join_rules", stateKey: sk(""), content: map[string]any{
			"join_rule": "restricted",
			"allow":     []any{map[string]any{"type": "m.room_membership", "room_id": "!space:" + g.room.Servers[0]}},
		}, outcome: Outcome{Note: "restricted join rule"}},
		{sender: g.creator, typ: "m.room.history_visibility", stateKey: sk(""), content: map[string]any{"history_visibility": "shared"}, outcome: Outcome{Note: "history visibility"}},
	}
	for _, s := range steps {
		if _, err := g.emit(s); err != nil {
			return err
		}
	}
	g.mods = append(g.mods, g.creator)
	for _, m := range mods {
		// The moderators are invited by the creator and join.
		if err := g.inviteJoin(g.creator, m); err != nil {
			return err
		}
		g.mods = append(g.mods, m)
	}
	return nil
}

func (g *gen) inviteJoin(inviter, user string) error {
	if _, err := g.emit(spec{sender: inviter, typ: "m.room.member", stateKey: sk(user),
		content: map[string]any{"membership": "invite"}, outcome: Outcome{Note: "invite"}}); err != nil {
		return err
	}
	_, err := g.emit(spec{sender: user, typ: "m.room.member", stateKey: sk(user),
		content: map[string]any{"membership": "join", "displayname": user[1:4]}, outcome: Outcome{Note: "invited user joins"}})
	return err
}

// joinedMod returns a joined moderator (power ≥ 50), preferring one of another server than
// user's.
func (g *gen) joinedMod(user string) string {
	var best string
	for _, i := range g.rng.Perm(len(g.mods)) {
		m := g.mods[i]
		if g.member[m] != "join" {
			continue
		}
		if serverOf(m) != serverOf(user) {
			return m
		}
		best = m
	}
	return best
}

// plainMember returns a joined member with the default power level, or "".
func (g *gen) plainMember() string {
	for tries := 0; tries < 8 && len(g.joined) > 0; tries++ {
		u := g.joined[g.rng.IntN(len(g.joined))]
		if g.power[u] == 0 {
			return u
		}
	}
	return ""
}

// step emits one or two events of a random kind.
func (g *gen) step() error {
	if g.cfg.Rejected > 0 && g.rng.IntN(1000) < g.cfg.Rejected {
		return g.rejectedStep()
	}
	r := g.rng.IntN(100)
	if r < g.cfg.MessageShare && len(g.joined) > 0 {
		u := g.joined[g.rng.IntN(len(g.joined))]
		_, err := g.emit(spec{sender: u, typ: "m.room.message", content: map[string]any{
			"msgtype": "m.text", "body": g.body,
		}, outcome: Outcome{Note: "message"}})
		return err
	}
	r = g.rng.IntN(100)
	switch {
	case r < 60: // restricted join of a new user
		u := g.newUser()
		auth := g.joinedMod(u)
		_, err := g.emit(spec{sender: u, typ: "m.room.member", stateKey: sk(u), authoriser: auth,
			content: map[string]any{"membership": "join", "displayname": u[1:], signing.ContentJoinAuthorisedViaUsersServer: auth},
			outcome: Outcome{Note: "restricted join"}})
		return err
	case r < 75: // invite then join
		return g.inviteJoin(g.joinedMod(""), g.newUser())
	case r < 80: // power level change: promote or demote a plain member
		if u := g.plainMember(); u != "" && len(g.power) < 200 {
			g.power[u] = int64(10 * (1 + g.rng.IntN(4)))
			_, err := g.emit(spec{sender: g.creator, typ: "m.room.power_levels", stateKey: sk(""),
				content: g.powerLevelsContent(), outcome: Outcome{Note: "power levels change"}})
			return err
		}
	case r < 85: // name change by a moderator
		_, err := g.emit(spec{sender: g.joinedMod(""), typ: "m.room.name", stateKey: sk(""),
			content: map[string]any{"name": fmt.Sprintf("Room %d", g.rng.IntN(1_000_000))}, outcome: Outcome{Note: "name"}})
		return err
	case r < 90: // ban
		if u := g.plainMember(); u != "" {
			_, err := g.emit(spec{sender: g.joinedMod(""), typ: "m.room.member", stateKey: sk(u),
				content: map[string]any{"membership": "ban", "reason": "spam"}, outcome: Outcome{Note: "ban"}})
			return err
		}
	case r < 95: // kick
		if u := g.plainMember(); u != "" {
			_, err := g.emit(spec{sender: g.joinedMod(""), typ: "m.room.member", stateKey: sk(u),
				content: map[string]any{"membership": "leave"}, outcome: Outcome{Note: "kick"}})
			return err
		}
	default: // leave
		if u := g.plainMember(); u != "" {
			_, err := g.emit(spec{sender: u, typ: "m.room.member", stateKey: sk(u),
				content: map[string]any{"membership": "leave"}, outcome: Outcome{Note: "leave"}})
			return err
		}
	}
	return nil
}

// rejectedStep emits an event the rules must reject, and maybe one citing it (rule 2.3).
func (g *gen) rejectedStep() error {
	var (
		id     string
		err    error
		sender string
	)
	switch g.rng.IntN(3) {
	case 0: // restricted join authorised by a plain member: rule 4.3.5.2
		auth := g.plainMember()
		if auth == "" {
			return nil
		}
		sender = g.newUser()
		id, err = g.emit(spec{sender: sender, typ: "m.room.member", stateKey: sk(sender), authoriser: auth,
			content: map[string]any{"membership": "join", signing.ContentJoinAuthorisedViaUsersServer: auth},
			outcome: Outcome{Rejected: true, Rule: g.rule("4.3.5.2"), Note: "restricted join, authoriser lacks invite power"}})
		if err != nil {
			return err
		}
		if g.rng.IntN(2) == 0 {
			// The would-be member speaks, citing its rejected join.
			_, err = g.emit(spec{sender: sender, typ: "m.room.message", extraAuth: []string{id},
				content: map[string]any{"msgtype": "m.text", "body": "hello"},
				outcome: Outcome{Rejected: true, Rule: g.rule("2.3"), Note: "message citing a rejected join"}})
		}
		return err
	case 1: // power levels change by a plain member: rule 7 (required power level)
		sender = g.plainMember()
		if sender == "" {
			return nil
		}
		c := g.powerLevelsContent()
		c["users"].(map[string]any)[sender] = 100
		_, err = g.emit(spec{sender: sender, typ: "m.room.power_levels", stateKey: sk(""), content: c,
			outcome: Outcome{Rejected: true, Rule: g.rule("7"), Note: "power levels change without the power"}})
		return err
	default: // message by a user who never joined: rule 5
		sender = g.newUser()
		_, err = g.emit(spec{sender: sender, typ: "m.room.message",
			content: map[string]any{"msgtype": "m.text", "body": "spam"},
			outcome: Outcome{Rejected: true, Rule: g.rule("5"), Note: "message by a non-member"}})
		return err
	}
}

// rule returns the number that the room version's text gives the rule numbered r in room
// versions 8 to 11: from v12, whose room ID names the create event, the new rule 2 ("the
// room_id is an accepted create event") moves every later top-level rule down by one.
func (g *gen) rule(r string) string {
	if !g.v.Format.RoomIDFromCreateEvent {
		return r
	}
	top, rest, _ := strings.Cut(r, ".")
	n, _ := strconv.Atoi(top)
	if rest == "" {
		return strconv.Itoa(n + 1)
	}
	return strconv.Itoa(n+1) + "." + rest
}

// encode is unpadded standard base64 (appendices "Unpadded Base64").
func encode(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

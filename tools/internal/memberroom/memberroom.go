// Package memberroom draws the rooms the membership audits (tools/handshakeref,
// tools/strippedref) run their cases in: rooms of every room version whose events are really
// signed, with the users of four servers in every membership. tools/transitionref draws its
// own rooms with Room's methods (and SpecRefs).
package memberroom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// The servers and users of the rooms: the resident server r.example, remote ones, and the
// invited server l.example.
var (
	Servers    = []string{"r.example", "a.example", "b.example", "l.example"}
	Residents  = []string{"@mod:r.example", "@rob:r.example", "@low:r.example", "@gone:r.example"}
	Remotes    = []string{"@joe:a.example", "@ann:a.example", "@bea:b.example", "@kim:b.example"}
	Locals     = []string{"@lou:l.example", "@lia:l.example"}
	OtherRooms = []string{"!o1:a.example", "!o2:b.example"}
)

// KeyRing returns the public keys of Servers (authgen.KeyFor(server, "1")).
func KeyRing() signing.KeyRing {
	ring := signing.KeyRing{}
	for _, s := range Servers {
		ring[s] = map[string]signing.PublicKey{"ed25519:1": {Key: authgen.KeyFor(s, "1").Public()}}
	}
	return ring
}

// Room is a generated room whose events are really signed.
type Room struct {
	V      roomversion.Version // its room version
	VID    string              // the version's identifier
	Ver    int                 // the version as a number
	RoomID string
	Raws   [][]byte          // the signed events; after Gen, the current state's
	IDs    []string          // their event IDs
	State  *authrules.State  // the current state (after Gen)
	Ms     map[string]string // user → membership
	Rule   string            // the join rule, "(none)" when the room has no join rules event
	N      int               // events made so far (their depth)
	Last   string            // the ID of the last event added
	R      *rand.Rand
	// SpecRefs, set before the first Mk, makes Mk cite as the spec's formats have it: a v1-2
	// reference (Ref) carries the hashes {"sha256": authgen.DummyHash} instead of {}, and in
	// v12, where the room ID names the create event, auth_events stays empty instead of listing
	// it. Gen and Build leave it false.
	SpecRefs bool
}

// Ref is an entry of prev_events/auth_events naming id: the ID, or in v1-2 an [ID, hashes] pair.
func (rm *Room) Ref(id string) any {
	if rm.Ver <= 2 {
		if rm.SpecRefs {
			return []any{id, M{"sha256": authgen.DummyHash}}
		}
		return []any{id, M{}}
	}
	return id
}

// Mk builds an event of the room and signs it with the key of the sender's server (authgen.KeyFor):
// prev_events names the last event added, auth_events the create event (none in v12 with
// SpecRefs).
func (rm *Room) Mk(typ, sender string, sk *string, content M) []byte {
	rm.N++
	ev := M{"type": typ, "sender": sender, "content": content, "depth": rm.N,
		"origin_server_ts": 1_700_000_000_000 + int64(rm.N), "auth_events": []any{}, "prev_events": []any{}}
	if sk != nil {
		ev["state_key"] = *sk
	}
	if !(rm.Ver >= 12 && typ == "m.room.create") {
		ev["room_id"] = rm.RoomID
	}
	if rm.Last != "" {
		ev["prev_events"] = []any{rm.Ref(rm.Last)}
		if !rm.SpecRefs || rm.Ver < 12 {
			ev["auth_events"] = []any{rm.Ref(rm.IDs[0])}
		}
	}
	srv := difftool.DomainOf(sender)
	if rm.Ver <= 2 {
		ev["event_id"] = fmt.Sprintf("$e%d:%s", rm.N, srv)
	}
	out, err := signing.SignEvent(rm.V, difftool.Enc(ev), srv, authgen.KeyFor(srv, "1"))
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	return out
}

// Add makes a state event of the room (Mk) and appends it to Raws and IDs.
func (rm *Room) Add(typ, sender string, sk string, content M) {
	raw := rm.Mk(typ, sender, &sk, content)
	id, err := signing.EventID(rm.V, raw)
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	if rm.Ver >= 12 && typ == "m.room.create" {
		rm.RoomID = "!" + id[1:]
	}
	rm.Raws = append(rm.Raws, raw)
	rm.IDs = append(rm.IDs, id)
	rm.Last = id
}

// Gen draws a room of version vid: a create event by a resident (or a remote) creator, power
// levels, join rules (public, invite, restricted, knock, knock_restricted, or none 1 time in 12;
// knock biases it towards knocking), members of every server with every membership, and some
// stripped-state types. Raws, IDs and State then hold the room's current state.
func Gen(r *rand.Rand, vid string, knock bool) *Room {
	rm := &Room{V: authgen.Version(vid), VID: vid, Ver: difftool.VerNum(vid), R: r, Ms: map[string]string{}}
	creator := "@mod:r.example"
	if r.Intn(4) == 0 {
		creator = "@ann:a.example"
	}
	rm.RoomID = "!room:" + difftool.DomainOf(creator)
	cc := M{"room_version": vid}
	if rm.Ver <= 10 {
		cc["creator"] = creator
	}
	rm.Add("m.room.create", creator, "", cc)
	rm.Add("m.room.member", creator, creator, M{"membership": "join"})
	rm.Ms[creator] = "join"
	pl := M{"users": M{}}
	users := pl["users"].(M)
	if rm.Ver < 12 {
		users[creator] = 100
	}
	pl["invite"] = difftool.Pick(r, 0, 0, 50, 50, 100)
	for _, u := range Residents[:3] {
		if u != creator {
			users[u] = difftool.Pick(r, 0, 50, 100)
		}
	}
	if r.Intn(6) == 0 {
		pl["users_default"] = difftool.Pick(r, 0, 50)
	}
	rm.Add("m.room.power_levels", creator, "", pl)
	rules := []string{"public", "invite", "restricted", "restricted", "knock", "knock_restricted", "knock_restricted"}
	rm.Rule = difftool.Pick(r, rules...)
	if knock {
		rm.Rule = difftool.Pick(r, "knock", "knock_restricted")
	}
	jc := M{"join_rule": rm.Rule}
	if strings.Contains(rm.Rule, "restricted") {
		jc["allow"] = []any{M{"type": "m.room_membership", "room_id": difftool.Pick(r, OtherRooms...)}}
	}
	if r.Intn(12) != 0 {
		rm.Add("m.room.join_rules", creator, "", jc)
	} else {
		rm.Rule = "(none)"
	}
	mships := []string{"join", "join", "join", "", "invite", "leave", "ban"}
	if rm.Ver >= 7 {
		mships = append(mships, "knock")
	}
	for _, u := range append(append(append([]string{}, Residents...), Remotes...), Locals...) {
		if u == creator {
			continue
		}
		m := difftool.Pick(r, mships...)
		if m == "" {
			continue
		}
		sender := u
		if m == "invite" || m == "ban" {
			sender = creator
		}
		rm.Add("m.room.member", sender, u, M{"membership": m})
		rm.Ms[u] = m
	}
	for _, t := range []string{"m.room.name", "m.room.topic", "m.room.avatar", "m.room.canonical_alias",
		"m.room.encryption", "m.room.history_visibility", "com.example.x"} {
		if r.Intn(2) == 0 {
			sk := ""
			if r.Intn(8) == 0 {
				sk = "x"
			}
			rm.Add(t, creator, sk, M{"v": t})
		}
	}
	rm.settle()
	return rm
}

// Spec is the compact description of a room in the fixtures of testdata/membership
// (membership/helpers_test.go roomSpec).
type Spec struct {
	Creator            string            `json:"creator"`
	AdditionalCreators []string          `json:"additional_creators"`
	JoinRules          json.RawMessage   `json:"join_rules"`
	PowerLevels        json.RawMessage   `json:"power_levels"`
	Members            map[string]string `json:"members"`
	CreateContent      map[string]any    `json:"create_content"`
}

// Build makes the room a Spec describes in room version vid as the membership tests do
// (buildRoom): the create event (content.creator up to v10), the creator's join, the power
// levels and join rules when given, then each member in user ID order, invites and bans sent by
// the creator; every event signed for real (Mk). Raws, IDs and State then hold the current state.
func Build(vid string, spec Spec) (*Room, error) {
	rm := &Room{V: authgen.Version(vid), VID: vid, Ver: difftool.VerNum(vid), Ms: map[string]string{},
		RoomID: "!room:" + difftool.DomainOf(spec.Creator)}
	cc := M{"room_version": vid}
	if rm.Ver <= 10 {
		cc["creator"] = spec.Creator
	}
	if len(spec.AdditionalCreators) > 0 {
		cc["additional_creators"] = spec.AdditionalCreators
	}
	for k, x := range spec.CreateContent {
		cc[k] = x
	}
	rm.Add("m.room.create", spec.Creator, "", cc)
	rm.Add("m.room.member", spec.Creator, spec.Creator, M{"membership": "join"})
	rm.Ms[spec.Creator] = "join"
	for _, c := range []struct {
		typ     string
		content json.RawMessage
	}{{"m.room.power_levels", spec.PowerLevels}, {"m.room.join_rules", spec.JoinRules}} {
		if c.content == nil {
			continue
		}
		var content M
		d := json.NewDecoder(bytes.NewReader(c.content))
		d.UseNumber()
		if err := d.Decode(&content); err != nil {
			return nil, fmt.Errorf("memberroom: %s content: %w", c.typ, err)
		}
		rm.Add(c.typ, spec.Creator, "", content)
		if c.typ == "m.room.join_rules" {
			rm.Rule, _ = content["join_rule"].(string)
		}
	}
	users := make([]string, 0, len(spec.Members))
	for u := range spec.Members {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		m := spec.Members[u]
		sender := u
		if m == "invite" || m == "ban" {
			sender = spec.Creator
		}
		rm.Add("m.room.member", sender, u, M{"membership": m})
		rm.Ms[u] = m
	}
	rm.settle()
	return rm, nil
}

// StateEvents returns the current state of Raws: the last event of each (type, state_key),
// parsed, with its raw event and its ID, in the order of each key's first event in Raws. The
// error is the first raw that does not parse.
func (rm *Room) StateEvents() ([]*pdu.Event, [][]byte, []string, error) {
	var evs []*pdu.Event
	seen := map[string]int{}
	var raws [][]byte
	var ids []string
	for i, raw := range rm.Raws {
		e, err := signing.ParseEvent(rm.V, raw)
		if err != nil {
			return nil, nil, nil, err
		}
		k := e.Type + "|" + *e.StateKey
		if j, ok := seen[k]; ok {
			evs[j], raws[j], ids[j] = e, raw, rm.IDs[i]
			continue
		}
		seen[k] = len(evs)
		evs = append(evs, e)
		raws = append(raws, raw)
		ids = append(ids, rm.IDs[i])
	}
	return evs, raws, ids, nil
}

// settle reduces Raws and IDs to the current state (StateEvents) and sets State.
func (rm *Room) settle() {
	evs, raws, ids, err := rm.StateEvents()
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	st, err := authrules.NewState(rm.V, evs)
	if err != nil {
		panic(err) // invariant: the harness built this room and its events itself
	}
	rm.State, rm.Raws, rm.IDs = st, raws, ids
}

// StateJSON returns Raws as JSON values.
func (rm *Room) StateJSON() []json.RawMessage {
	out := make([]json.RawMessage, len(rm.Raws))
	for i, r := range rm.Raws {
		out[i] = r
	}
	return out
}

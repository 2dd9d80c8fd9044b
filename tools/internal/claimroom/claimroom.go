// Package claimroom builds the rooms that the membership tests of the audit packages of tools/
// (claimsf, claimsg) run their cases in. A room is built event by event as a resident
// (a.example) would hold it: every event is signed by its sender's server with the keys of
// internal/authfixture and authorised against the state before it is applied. The builder is
// deterministic: the same calls give the same events, byte for byte (room IDs, event IDs in
// v1-2, timestamps, depths, prev_events and auth_events).
//
// It is kept apart from tools/internal/claimkit so that claimkit stays small and free of the
// authrules, membership and signing imports.
package claimroom

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// M is a JSON object literal.
type M = claimkit.M

// Creator is the room creator in every room of the package (a.example is the resident).
const Creator = "@alice:a.example"

// ring is the public keys of authfixture's servers (a.example ... e.example, id.example).
var ring = authfixture.KeyRing()

// ServerOf returns the server name of a user ID (what follows the first colon).
func ServerOf(id string) string {
	_, s, _ := strings.Cut(id, ":")
	return s
}

// Room is a room being built event by event, every event signed by its sender's server and
// authorised against the state before it is applied, as a resident would hold it.
type Room struct {
	// V is the room version.
	V roomversion.Version
	// ID is the room ID ("" while the create event of a v12 room is made).
	ID string
	// State is the room state the events are authorised against and applied to.
	State *authrules.State
	// Depth is the depth of the last event applied.
	Depth int64
	// Last is the ID of the last event applied: the next event's prev_events.
	Last string
	// N counts the events made; it gives their timestamps and, in v1-2, their event IDs.
	N int
	// ByID holds every event made, accepted or not.
	ByID map[string]*pdu.Event
}

// Options shape a new room; the zero value is the default room.
type Options struct {
	// JoinRule is the join rule ("": invite in v1-6, knock in v7+).
	JoinRule string
	// Create is extra content of the create event.
	Create M
	// PowerLevels is the power levels content (nil: Creator 100 (not in v12), invite 0).
	PowerLevels M
	// ID is the room ID before v12 ("": !room:a.example); v12 rooms take theirs from the
	// create event.
	ID string
}

// New creates a room of version vid: create by Creator, Creator joined, power levels, join
// rules (JoinRules of the rule).
func New(t testing.TB, vid string, o Options) *Room {
	t.Helper()
	v := claimkit.Ver(t, vid)
	r := &Room{V: v, ByID: map[string]*pdu.Event{}}
	cc := M{"room_version": vid}
	if v.Auth.CreatorInContent {
		cc["creator"] = Creator
	}
	for k, x := range o.Create {
		cc[k] = x
	}
	if v.Format.RoomIDFromCreateEvent {
		r.ID = ""
	} else {
		r.ID = "!room:a.example"
		if o.ID != "" {
			r.ID = o.ID
		}
	}
	create := r.Make(t, Creator, pdu.TypeCreate, "", cc, nil)
	if v.Format.RoomIDFromCreateEvent {
		r.ID = "!" + create.EventID[1:]
	}
	st, err := authrules.NewState(v, []*pdu.Event{create})
	if err != nil {
		t.Fatal(err)
	}
	r.State = st
	r.Depth, r.Last = create.Depth, create.EventID
	r.Add(t, Creator, pdu.TypeMember, Creator, M{"membership": "join"})
	pl := o.PowerLevels
	if pl == nil {
		pl = M{"users": M{Creator: 100}, "invite": 0}
		if v.Auth.InfiniteCreatorPower { // v12: creators are not in users
			pl = M{"users": M{}, "invite": 0}
		}
	}
	r.Add(t, Creator, pdu.TypePowerLevels, "", pl)
	jr := o.JoinRule
	if jr == "" {
		jr = "invite"
		if v.Auth.Knocking {
			jr = "knock"
		}
	}
	r.Add(t, Creator, pdu.TypeJoinRules, "", JoinRules(jr))
	return r
}

// JoinRules is the content of an m.room.join_rules event of rule jr; the restricted rules
// allow the members of !other:b.example.
func JoinRules(jr string) M {
	c := M{"join_rule": jr}
	if strings.Contains(jr, "restricted") {
		c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
	}
	return c
}

// Ref is an entry of prev_events / auth_events: the ID, or an [ID, {}] pair in v1-2.
func (r *Room) Ref(id string) any {
	if r.V.Format.ReferencePairs {
		return []any{id, M{}}
	}
	return id
}

// Refs is Ref of each of ids, in order (an empty list, not nil, for none).
func (r *Room) Refs(ids []string) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, r.Ref(id))
	}
	return out
}

// Make builds, signs (as the sender's server) and parses an event of the room, with the auth
// events the state selects and the last event as prev_events, and records it in ByID; it does
// not apply it. edit, when not nil, changes the event's JSON object before it is signed.
func (r *Room) Make(t testing.TB, sender, typ, stateKey string, content M, edit func(M)) *pdu.Event {
	t.Helper()
	raw := r.Raw(t, sender, typ, stateKey, content, edit)
	ev, err := signing.ParseEvent(r.V, raw)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, raw)
	}
	r.ByID[ev.EventID] = ev
	return ev
}

// Raw is Make's signed bytes, unparsed and not recorded; it counts the event in N.
func (r *Room) Raw(t testing.TB, sender, typ, stateKey string, content M, edit func(M)) []byte {
	t.Helper()
	r.N++
	sk := stateKey
	e := M{"type": typ, "sender": sender, "content": content, "state_key": sk, "depth": r.Depth + 1,
		"origin_server_ts": int64(1_700_000_000_000 + r.N), "prev_events": []any{}, "auth_events": []any{},
		"origin": ServerOf(sender)}
	if r.ID != "" {
		e["room_id"] = r.ID
	}
	if r.Last != "" {
		e["prev_events"] = []any{r.Ref(r.Last)}
	}
	if r.State != nil {
		sk := stateKey
		probe := &pdu.Event{Version: r.V, RoomID: r.ID, Sender: sender, Type: typ, StateKey: &sk,
			Content: claimkit.Marshal(t, content)}
		if m, ok := content["membership"].(string); ok {
			probe.Membership = m
		}
		auth, err := r.State.AuthEvents(probe)
		if err != nil {
			t.Fatal(err)
		}
		ids := []string{}
		for _, a := range auth {
			ids = append(ids, a.EventID)
		}
		e["auth_events"] = r.Refs(ids)
	}
	if r.V.Format.HasEventIDField {
		e["event_id"] = fmt.Sprintf("$e%d:%s", r.N, ServerOf(sender))
	}
	if edit != nil {
		edit(e)
	}
	srv := ServerOf(sender)
	out, err := signing.SignEvent(r.V, claimkit.Marshal(t, e), srv, authfixture.Key(srv))
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	return out
}

// Add makes a state event, requires the state to accept it (with authfixture's keys) and
// applies it.
func (r *Room) Add(t testing.TB, sender, typ, stateKey string, content M) *pdu.Event {
	t.Helper()
	ev := r.Make(t, sender, typ, stateKey, content, nil)
	r.Apply(t, ev)
	return ev
}

// Apply requires the state to accept ev (a create event is not checked) and applies it; ev
// becomes the last event.
func (r *Room) Apply(t testing.TB, ev *pdu.Event) {
	t.Helper()
	if ev.Type != pdu.TypeCreate {
		if err := r.State.Check(ev, ring); err != nil {
			t.Fatalf("v%s: the room refuses %s %s: %v", r.V.ID, ev.Type, ev.Raw(), err)
		}
	}
	if err := r.State.Apply(ev); err != nil {
		t.Fatal(err)
	}
	r.ByID[ev.EventID] = ev
	r.Depth = ev.Depth
	r.Last = ev.EventID
}

// Member sets user's membership to m ("" leaves the user out) the way a room gets there:
// invite by Creator; join after an invite; knock by the user (v7+, join rule knock); leave by
// the user after an invite; ban by Creator.
func (r *Room) Member(t testing.TB, user, m string) {
	t.Helper()
	switch m {
	case "":
	case "invite":
		r.Add(t, Creator, pdu.TypeMember, user, M{"membership": "invite"})
	case "join":
		r.Member(t, user, "invite")
		r.Add(t, user, pdu.TypeMember, user, M{"membership": "join"})
	case "knock":
		r.Add(t, user, pdu.TypeMember, user, M{"membership": "knock"})
	case "leave":
		r.Member(t, user, "invite")
		r.Add(t, user, pdu.TypeMember, user, M{"membership": "leave"})
	case "ban":
		r.Add(t, Creator, pdu.TypeMember, user, M{"membership": "ban"})
	default:
		t.Fatalf("membership %q", m)
	}
}

// Force puts a membership event of user, sent by user, into the state without authorising it
// (a state that could not have come about, e.g. a knock in room version 6).
func (r *Room) Force(t testing.TB, user, m string) {
	t.Helper()
	ev := r.Make(t, user, pdu.TypeMember, user, M{"membership": m}, nil)
	if err := r.State.Apply(ev); err != nil {
		t.Fatal(err)
	}
	r.Depth, r.Last = ev.Depth, ev.EventID
}

// Opts are the resident's template options: origin a.example, prev_events the last event.
func (r *Room) Opts() membership.TemplateOptions {
	return membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1_700_000_500_000,
		PrevEvents: []string{r.Last}, Depth: r.Depth + 1}
}

// AuthOf returns the events of ByID that ev names in auth_events, in its order; an unknown ID
// fails the test.
func (r *Room) AuthOf(t testing.TB, ev *pdu.Event) []*pdu.Event {
	t.Helper()
	out := []*pdu.Event{}
	for _, id := range ev.AuthEvents {
		a, ok := r.ByID[id]
		if !ok {
			t.Fatalf("auth event %s unknown", id)
		}
		out = append(out, a)
	}
	return out
}

// SignTemplate completes and signs a handshake template as the user's server
// (membership.SignTemplate at 1_700_000_600_000; in v1-2 with the event ID
// "$"+localpart+":"+server).
func (r *Room) SignTemplate(t testing.TB, tmpl []byte, user, localpart string) []byte {
	t.Helper()
	srv := ServerOf(user)
	signed, err := membership.SignTemplate(r.V, tmpl, srv, 1_700_000_600_000, "$"+localpart+":"+srv, srv, authfixture.Key(srv))
	if err != nil {
		t.Fatalf("SignTemplate: %v", err)
	}
	return signed
}

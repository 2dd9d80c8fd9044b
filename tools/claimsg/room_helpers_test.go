package claimsg

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

// The rooms of the membership tests are built as tools/claimsf builds them (a trimmed copy of
// its helpers): every event signed by its sender's server with authfixture's keys and
// authorised against the state before it is applied. a.example is the resident.

// ring is the public keys of authfixture's servers.
var ring = authfixture.KeyRing()

// creator is the room creator.
const creator = "@alice:a.example"

func serverOf(id string) string {
	_, s, _ := strings.Cut(id, ":")
	return s
}

type room struct {
	v     roomversion.Version
	id    string
	st    *authrules.State
	depth int64
	last  string
	n     int
}

// newRoom creates a room of version vid: create by alice, alice joined, power levels (alice
// 100 before v12), join rules jr; restricted rules allow the members of !other:b.example.
func newRoom(t testing.TB, vid, jr string) *room {
	t.Helper()
	v := claimkit.Ver(t, vid)
	r := &room{v: v}
	cc := M{"room_version": vid}
	if v.Auth.CreatorInContent {
		cc["creator"] = creator
	}
	if !v.Format.RoomIDFromCreateEvent {
		r.id = "!room:a.example"
	}
	create := r.make(t, creator, pdu.TypeCreate, "", cc)
	if v.Format.RoomIDFromCreateEvent {
		r.id = "!" + create.EventID[1:]
	}
	st, err := authrules.NewState(v, []*pdu.Event{create})
	if err != nil {
		t.Fatal(err)
	}
	r.st, r.depth, r.last = st, create.Depth, create.EventID
	r.add(t, creator, pdu.TypeMember, creator, M{"membership": "join"})
	pl := M{"users": M{creator: 100}, "invite": 0}
	if v.Auth.InfiniteCreatorPower {
		pl = M{"users": M{}, "invite": 0}
	}
	r.add(t, creator, pdu.TypePowerLevels, "", pl)
	c := M{"join_rule": jr}
	if strings.Contains(jr, "restricted") {
		c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
	}
	r.add(t, creator, pdu.TypeJoinRules, "", c)
	r.add(t, creator, pdu.TypeTopic, "", M{"topic": "a topic"})
	return r
}

func (r *room) ref(id string) any {
	if r.v.Format.ReferencePairs {
		return []any{id, M{}}
	}
	return id
}

// make builds, signs and parses an event of the room with the auth events the state selects
// and the last event as prev_events; it does not apply it.
func (r *room) make(t testing.TB, sender, typ, stateKey string, content M) *pdu.Event {
	t.Helper()
	r.n++
	e := M{"type": typ, "sender": sender, "content": content, "state_key": stateKey, "depth": r.depth + 1,
		"origin_server_ts": int64(1_700_000_000_000 + r.n), "prev_events": []any{}, "auth_events": []any{},
		"origin": serverOf(sender)}
	if r.id != "" {
		e["room_id"] = r.id
	}
	if r.last != "" {
		e["prev_events"] = []any{r.ref(r.last)}
	}
	if r.st != nil {
		sk := stateKey
		probe := &pdu.Event{Version: r.v, RoomID: r.id, Sender: sender, Type: typ, StateKey: &sk,
			Content: claimkit.Marshal(t, content)}
		if m, ok := content["membership"].(string); ok {
			probe.Membership = m
		}
		auth, err := r.st.AuthEvents(probe)
		if err != nil {
			t.Fatal(err)
		}
		ids := []any{}
		for _, a := range auth {
			ids = append(ids, r.ref(a.EventID))
		}
		e["auth_events"] = ids
	}
	if r.v.Format.HasEventIDField {
		e["event_id"] = fmt.Sprintf("$e%d:%s", r.n, serverOf(sender))
	}
	srv := serverOf(sender)
	out, err := signing.SignEvent(r.v, claimkit.Marshal(t, e), srv, authfixture.Key(srv))
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	ev, err := signing.ParseEvent(r.v, out)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, out)
	}
	return ev
}

// add makes a state event, requires the state to accept it and applies it.
func (r *room) add(t testing.TB, sender, typ, stateKey string, content M) *pdu.Event {
	t.Helper()
	ev := r.make(t, sender, typ, stateKey, content)
	if ev.Type != pdu.TypeCreate {
		if err := r.st.Check(ev, ring); err != nil {
			t.Fatalf("v%s: the room refuses %s: %v", r.v.ID, ev.Raw(), err)
		}
	}
	if err := r.st.Apply(ev); err != nil {
		t.Fatal(err)
	}
	r.depth, r.last = ev.Depth, ev.EventID
	return ev
}

// opts are the resident's template options.
func (r *room) opts() membership.TemplateOptions {
	return membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1_700_000_500_000,
		PrevEvents: []string{r.last}, Depth: r.depth + 1}
}

// sign completes and signs a template as the user's server.
func (r *room) sign(t testing.TB, tmpl []byte, user string) []byte {
	t.Helper()
	srv := serverOf(user)
	signed, err := membership.SignTemplate(r.v, tmpl, srv, 1_700_000_600_000, "$m:"+srv, srv, authfixture.Key(srv))
	if err != nil {
		t.Fatalf("SignTemplate: %v", err)
	}
	return signed
}

package claimsf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// knownFinding skips a case that fails today because of finding id of tools/claimsf/README.md
// (and /work/logs/audit-claimsf.md). CLAIMSF_KNOWN=1 runs it.
//
//lint:ignore U1000 kept for later findings (README "Findings")
func knownFinding(t *testing.T, id string) { t.Helper(); claimkit.KnownFinding(t, "claimsf", id) }

// M is a JSON object literal.
type M = claimkit.M

// ring is the public keys of authfixture's servers (a.example ... e.example, id.example).
var ring = authfixture.KeyRing()

// serverOf returns the server name of a user ID.
func serverOf(id string) string {
	_, s, _ := strings.Cut(id, ":")
	return s
}

// wantErr fails unless err is a *membership.Error with the status, errcode and reason.
func wantErr(t testing.TB, what string, err error, status int, errcode string, reason error) *membership.Error {
	t.Helper()
	var e *membership.Error
	if !errors.As(err, &e) || e.Status != status || e.ErrCode != errcode || !errors.Is(err, reason) {
		t.Fatalf("%s: got %v (%T), want %d %s %v", what, err, err, status, errcode, reason)
	}
	return e
}

// verdict is the comparable part of a membership error: status, errcode and reason sentinel
// ("" for nil).
func verdict(err error) string {
	if err == nil {
		return "allow"
	}
	var e *membership.Error
	if !errors.As(err, &e) {
		return fmt.Sprintf("not an *Error: %T %v", err, err)
	}
	return fmt.Sprintf("%d %s %v", e.Status, e.ErrCode, e.Reason)
}

// room is a room being built event by event, every event signed by its sender's server and
// authorised against the state before it is applied, as a resident would hold it.
type room struct {
	v     roomversion.Version
	id    string
	st    *authrules.State
	depth int64
	last  string
	n     int
	// byID holds every event made, accepted or not.
	byID map[string]*pdu.Event
}

// creator is the room creator in every room of these tests (a.example is the resident).
const creator = "@alice:a.example"

// roomOpts shape a new room.
type roomOpts struct {
	joinRule string // "" : invite (v1-6) or knock (v7+)
	create   M      // extra create content
	pl       M      // power levels content (nil: alice 100 (not in v12), invite 0)
	id       string // the room ID before v12 ("": !room:a.example)
}

// newRoom creates a room of version vid: create by alice, alice joined, power levels, join rules.
func newRoom(t testing.TB, vid string, o roomOpts) *room {
	t.Helper()
	v := claimkit.Ver(t, vid)
	r := &room{v: v, byID: map[string]*pdu.Event{}}
	cc := M{"room_version": vid}
	if v.Auth.CreatorInContent {
		cc["creator"] = creator
	}
	for k, x := range o.create {
		cc[k] = x
	}
	if v.Format.RoomIDFromCreateEvent {
		r.id = ""
	} else {
		r.id = "!room:a.example"
		if o.id != "" {
			r.id = o.id
		}
	}
	create := r.make(t, creator, pdu.TypeCreate, "", cc, nil)
	if v.Format.RoomIDFromCreateEvent {
		r.id = "!" + create.EventID[1:]
	}
	st, err := authrules.NewState(v, []*pdu.Event{create})
	if err != nil {
		t.Fatal(err)
	}
	r.st = st
	r.depth, r.last = create.Depth, create.EventID
	r.add(t, creator, pdu.TypeMember, creator, M{"membership": "join"})
	pl := o.pl
	if pl == nil {
		pl = M{"users": M{creator: 100}, "invite": 0}
		if v.Auth.InfiniteCreatorPower { // v12: creators are not in users
			pl = M{"users": M{}, "invite": 0}
		}
	}
	r.add(t, creator, pdu.TypePowerLevels, "", pl)
	jr := o.joinRule
	if jr == "" {
		jr = "invite"
		if v.Auth.Knocking {
			jr = "knock"
		}
	}
	r.add(t, creator, pdu.TypeJoinRules, "", joinRules(jr))
	return r
}

// joinRules is the content of an m.room.join_rules event of rule jr; the restricted rules
// allow the members of !other:b.example.
func joinRules(jr string) M {
	c := M{"join_rule": jr}
	if strings.Contains(jr, "restricted") {
		c["allow"] = []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}
	}
	return c
}

// ref is an entry of prev_events / auth_events: the ID, or an [ID, {}] pair in v1-2.
func (r *room) ref(id string) any {
	if r.v.Format.ReferencePairs {
		return []any{id, M{}}
	}
	return id
}

func (r *room) refs(ids []string) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, r.ref(id))
	}
	return out
}

// make builds, signs (as the sender's server) and parses an event of the room, with the auth
// events the state selects and the last event as prev_events; it does not apply it.
func (r *room) make(t testing.TB, sender, typ, stateKey string, content M, edit func(M)) *pdu.Event {
	t.Helper()
	raw := r.raw(t, sender, typ, stateKey, content, edit)
	ev, err := signing.ParseEvent(r.v, raw)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, raw)
	}
	r.byID[ev.EventID] = ev
	return ev
}

// raw is make's signed bytes.
func (r *room) raw(t testing.TB, sender, typ, stateKey string, content M, edit func(M)) []byte {
	t.Helper()
	r.n++
	sk := stateKey
	e := M{"type": typ, "sender": sender, "content": content, "state_key": sk, "depth": r.depth + 1,
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
		ids := []string{}
		for _, a := range auth {
			ids = append(ids, a.EventID)
		}
		e["auth_events"] = r.refs(ids)
	}
	if r.v.Format.HasEventIDField {
		e["event_id"] = fmt.Sprintf("$e%d:%s", r.n, serverOf(sender))
	}
	if edit != nil {
		edit(e)
	}
	srv := serverOf(sender)
	out, err := signing.SignEvent(r.v, claimkit.Marshal(t, e), srv, authfixture.Key(srv))
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	return out
}

// add makes a state event, requires the state to accept it (with keys) and applies it.
func (r *room) add(t testing.TB, sender, typ, stateKey string, content M) *pdu.Event {
	t.Helper()
	ev := r.make(t, sender, typ, stateKey, content, nil)
	r.apply(t, ev)
	return ev
}

// apply requires the state to accept ev and applies it.
func (r *room) apply(t testing.TB, ev *pdu.Event) {
	t.Helper()
	if ev.Type != pdu.TypeCreate {
		if err := r.st.Check(ev, ring); err != nil {
			t.Fatalf("v%s: the room refuses %s %s: %v", r.v.ID, ev.Type, ev.Raw(), err)
		}
	}
	if err := r.st.Apply(ev); err != nil {
		t.Fatal(err)
	}
	r.byID[ev.EventID] = ev
	r.depth = ev.Depth
	r.last = ev.EventID
}

// member sets user's membership to m ("" leaves the user out) the way a room gets there:
// invite by alice; join after an invite; knock by the user (v7+, join rule knock); leave by
// the user after an invite; ban by alice.
func (r *room) member(t testing.TB, user, m string) {
	t.Helper()
	switch m {
	case "":
	case "invite":
		r.add(t, creator, pdu.TypeMember, user, M{"membership": "invite"})
	case "join":
		r.member(t, user, "invite")
		r.add(t, user, pdu.TypeMember, user, M{"membership": "join"})
	case "knock":
		r.add(t, user, pdu.TypeMember, user, M{"membership": "knock"})
	case "leave":
		r.member(t, user, "invite")
		r.add(t, user, pdu.TypeMember, user, M{"membership": "leave"})
	case "ban":
		r.add(t, creator, pdu.TypeMember, user, M{"membership": "ban"})
	default:
		t.Fatalf("membership %q", m)
	}
}

// force puts a membership event into the state without authorising it (a state that could not
// have come about, e.g. a knock in room version 6).
func (r *room) force(t testing.TB, user, m string) {
	t.Helper()
	ev := r.make(t, user, pdu.TypeMember, user, M{"membership": m}, nil)
	if err := r.st.Apply(ev); err != nil {
		t.Fatal(err)
	}
	r.depth, r.last = ev.Depth, ev.EventID
}

// opts are the resident's template options: a.example, prev_events the last event.
func (r *room) opts() membership.TemplateOptions {
	return membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1_700_000_500_000,
		PrevEvents: []string{r.last}, Depth: r.depth + 1}
}

// authOf returns the state's events that ev names in auth_events.
func (r *room) authOf(t testing.TB, ev *pdu.Event) []*pdu.Event {
	t.Helper()
	out := []*pdu.Event{}
	for _, id := range ev.AuthEvents {
		a, ok := r.byID[id]
		if !ok {
			t.Fatalf("auth event %s unknown", id)
		}
		out = append(out, a)
	}
	return out
}

// signLeave completes and signs a leave template as the user's server (SignTemplate; in v1-2
// with an event ID of that server).
func (r *room) signLeave(t testing.TB, tmpl []byte, user string) ([]byte, *pdu.Event) {
	t.Helper()
	srv := serverOf(user)
	signed, err := membership.SignTemplate(r.v, tmpl, srv, 1_700_000_600_000, "$leave:"+srv, srv, authfixture.Key(srv))
	if err != nil {
		t.Fatalf("SignTemplate: %v", err)
	}
	ev, err := signing.ParseEvent(r.v, signed)
	if err != nil {
		t.Fatalf("ParseEvent of the signed leave: %v\n%s", err, signed)
	}
	return signed, ev
}

// sendLeave is SendLeave with the path parameters, origin and auth events of a well-behaved
// resident.
func (r *room) sendLeave(t testing.TB, signed []byte, ev *pdu.Event) (membership.SendLeaveResult, error) {
	t.Helper()
	return membership.SendLeave(membership.SendLeaveRequest{State: r.st, RoomID: r.id, EventID: ev.EventID,
		Origin: serverOf(ev.Sender), Event: signed, Keys: ring, AuthEvents: r.authOf(t, ev)})
}

// handLeave is a leave of user built and signed by hand (no make_leave: for users the resident
// would refuse a template), with the auth events the state selects.
func (r *room) handLeave(t testing.TB, user string, content M, edit func(M)) ([]byte, *pdu.Event) {
	t.Helper()
	if content == nil {
		content = M{"membership": "leave"}
	}
	n, d, l := r.n, r.depth, r.last
	raw := r.raw(t, user, pdu.TypeMember, user, content, edit)
	r.n, r.depth, r.last = n+1, d, l
	ev, err := signing.ParseEvent(r.v, raw)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, raw)
	}
	r.byID[ev.EventID] = ev
	return raw, ev
}

// mustJSON decodes b into a map.
func mustObj(t testing.TB, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return m
}

// jsonUnmarshal is json.Unmarshal.
func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// specDir is the spec extract.
const specDir = "/work/shared/spec"

// readSpec returns the spec file rel (under the spec extract), skipping the test when the
// extract is not there.
func readSpec(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(specDir, rel))
	if err != nil {
		t.Skipf("spec extract not available: %v", err)
	}
	return string(b)
}

// specRuleNumber returns the number the markdown list of file gives the item whose text starts
// with prefix: "5.4.1" for the third level of item 5, 4, 1 (items are "N." at indentation 0, 4,
// 8, ...).
func specRuleNumber(t testing.TB, rel, prefix string) string {
	t.Helper()
	var stack []string
	for _, line := range strings.Split(readSpec(t, rel), "\n") {
		trimmed := strings.TrimLeft(line, " ")
		indent := (len(line) - len(trimmed)) / 4
		dot := strings.Index(trimmed, ". ")
		if dot <= 0 || strings.Trim(trimmed[:dot], "0123456789") != "" {
			continue
		}
		if indent > len(stack) {
			continue
		}
		stack = append(stack[:indent], trimmed[:dot])
		text := strings.TrimSpace(trimmed[dot+1:])
		// The item may start with a shortcode ({{% changed-in v=7 %}}) on its own line.
		if strings.HasPrefix(text, prefix) || strings.HasPrefix(claimkit.Flat(text), prefix) {
			return strings.Join(stack, ".")
		}
	}
	return ""
}

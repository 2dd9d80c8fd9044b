package scenarios

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// allVersions are the room versions the flows run in (the brief: 1, 3, 6, 8, 9, 10, 11, 12).
var allVersions = []string{"1", "3", "6", "8", "9", "10", "11", "12"}

// restrictedVersions have restricted join rules.
var restrictedVersions = []string{"8", "9", "10", "11", "12"}

// knockVersions have knocking (v7+) among allVersions.
var knockVersions = restrictedVersions

// knownFinding skips a test that demonstrates a finding of the audit unless SCENARIOS_KNOWN is
// set, so that the suite passes while the finding is open.
func knownFinding(t *testing.T, id string) { claimkit.KnownFinding(t, "scenarios", id) }

// mustVersion looks a room version up.
func mustVersion(t testing.TB, id string) roomversion.Version { return claimkit.Ver(t, id) }

// ruleNo converts a rule number of the v8-11 text to the one of version v: v12 numbers the
// rules after rule 1 one higher (rooms/v12.md inserts rule 2 about the room ID). For v1-7 the
// caller passes the number of that text itself.
func ruleNo(v roomversion.Version, v8rule string) string {
	if !v.AdditionalCreators() {
		return v8rule
	}
	head, tail, _ := strings.Cut(v8rule, ".")
	var n int
	fmt.Sscan(head, &n)
	if n <= 1 {
		return v8rule
	}
	if tail == "" {
		return fmt.Sprint(n + 1)
	}
	return fmt.Sprintf("%d.%s", n+1, tail)
}

// federation is the set of servers of one scenario: every server knows every other server's
// public key (as after a key fetch).
type federation struct {
	v       roomversion.Version
	keys    signing.KeyRing
	servers map[string]*server
	ts      int64
	roomID  string
}

func newFederation(t testing.TB, version string, names ...string) *federation {
	t.Helper()
	f := &federation{v: mustVersion(t, version), keys: signing.KeyRing{}, servers: map[string]*server{}, ts: 1_700_000_000_000}
	for _, n := range names {
		f.addServer(n)
	}
	return f
}

func (f *federation) addServer(name string) *server {
	k := roomgen.TestKey(name)
	f.keys[name] = map[string]signing.PublicKey{k.KeyID(): {Key: k.Public()}}
	s := &server{name: name, key: k, f: f, store: map[string]*pdu.Event{}, rejected: map[string]bool{},
		softFailed: map[string]bool{}, stateAfter: map[string]map[authrules.StateKey]*pdu.Event{},
		current: map[authrules.StateKey]*pdu.Event{}, redacted: map[string][]byte{}, pendingRedactions: map[string][]*pdu.Event{}}
	f.servers[name] = s
	return s
}

func (f *federation) now() int64 { f.ts += 1000; return f.ts }

// server is one homeserver's view of the room.
type server struct {
	name string
	key  signing.SigningKey
	f    *federation

	store      map[string]*pdu.Event // every event that passed checks 1-3, by ID
	rejected   map[string]bool       // rejected by checks 4 or 5
	softFailed map[string]bool
	// stateAfter is the room state after each accepted event (single prev_events, so no
	// state resolution is needed).
	stateAfter map[string]map[authrules.StateKey]*pdu.Event
	current    map[authrules.StateKey]*pdu.Event
	extremity  string // the last accepted, not soft-failed event
	seq        int
	// redacted holds the served form of events a redaction was applied to (ApplyRedaction).
	redacted          map[string][]byte
	pendingRedactions map[string][]*pdu.Event // target ID → redactions waiting for it
}

func sk(typ, key string) authrules.StateKey { return authrules.StateKey{Type: typ, StateKey: key} }

func stateList(m map[authrules.StateKey]*pdu.Event) []*pdu.Event {
	out := make([]*pdu.Event, 0, len(m))
	for _, e := range m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].EventID < out[j].EventID })
	return out
}

func copyState(m map[authrules.StateKey]*pdu.Event) map[authrules.StateKey]*pdu.Event {
	c := make(map[authrules.StateKey]*pdu.Event, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// State returns the server's current state of the room.
func (s *server) State(t testing.TB) *authrules.State {
	t.Helper()
	st, err := authrules.NewState(s.f.v, stateList(s.current))
	if err != nil {
		t.Fatalf("%s: NewState: %v", s.name, err)
	}
	return st
}

// createEvent returns the room's m.room.create from the store.
func (s *server) createEvent() *pdu.Event {
	if e := s.current[sk(pdu.TypeCreate, "")]; e != nil {
		return e
	}
	for _, e := range s.store {
		if e.Type == pdu.TypeCreate {
			return e
		}
	}
	return nil
}

// draft is an event being built by its origin server.
type draft struct {
	Type     string
	Sender   string
	StateKey *string
	Content  map[string]any
	// Redacts is the target of a redaction (top-level before v11, content from v11).
	Redacts string
	// Prev overrides prev_events (default: the server's extremity).
	Prev []string
	// AuthFrom overrides the state the auth events are selected from (default: current).
	AuthFrom map[authrules.StateKey]*pdu.Event
	// Extra top-level members.
	Extra map[string]any
}

func str(s string) *string { return &s }

func (s *server) ref(id string) any {
	if !s.f.v.Format.ReferencePairs {
		return id
	}
	e := s.store[id]
	h, err := signing.ReferenceHash(s.f.v, e.Raw())
	if err != nil {
		panic(err)
	}
	return []any{id, map[string]string{"sha256": base64.RawStdEncoding.EncodeToString(h[:])}}
}

// build makes, hashes and signs an event as this server (the origin), choosing its auth
// events with the exported auth events selection. It does not receive it.
func (s *server) build(t testing.TB, d draft) []byte {
	t.Helper()
	v := s.f.v
	ev := map[string]any{
		"type":             d.Type,
		"sender":           d.Sender,
		"content":          d.Content,
		"origin_server_ts": s.f.now(),
	}
	if d.Content == nil {
		ev["content"] = map[string]any{}
	}
	if d.StateKey != nil {
		ev["state_key"] = *d.StateKey
	}
	isCreate := d.Type == pdu.TypeCreate
	if !(isCreate && v.Format.RoomIDFromCreateEvent) {
		ev["room_id"] = s.f.roomID
	}
	if d.Redacts != "" {
		if v.Format.RedactsInContent {
			ev["content"].(map[string]any)["redacts"] = d.Redacts
		} else {
			ev["redacts"] = d.Redacts
		}
	}
	if v.Format.HasEventIDField {
		s.seq++
		ev["event_id"] = fmt.Sprintf("$%s%d:%s", strings.TrimPrefix(d.Sender, "@")[:1], s.seq, s.name)
	}
	prev := d.Prev
	if prev == nil && s.extremity != "" {
		prev = []string{s.extremity}
	}
	depth := int64(0)
	prevRefs := []any{}
	for _, p := range prev {
		prevRefs = append(prevRefs, s.ref(p))
		if e := s.store[p]; e != nil && e.Depth > depth {
			depth = e.Depth
		}
	}
	ev["prev_events"] = prevRefs
	ev["depth"] = depth + 1
	authRefs := []any{}
	if !isCreate {
		from := d.AuthFrom
		if from == nil {
			from = s.current
		}
		content, _ := json.Marshal(ev["content"])
		hand := &pdu.Event{Type: d.Type, Sender: d.Sender, StateKey: d.StateKey, Content: content, RoomID: s.f.roomID}
		if d.Type == pdu.TypeMember {
			hand.Membership, _ = d.Content["membership"].(string)
		}
		needed, err := authrules.AuthEventsNeeded(v, hand)
		if err != nil {
			t.Fatalf("AuthEventsNeeded: %v", err)
		}
		for _, k := range needed {
			if e := from[k]; e != nil {
				authRefs = append(authRefs, s.ref(e.EventID))
			}
		}
	}
	ev["auth_events"] = authRefs
	for k, x := range d.Extra {
		ev[k] = x
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signing.SignEvent(v, raw, s.name, s.key)
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	return signed
}

// send builds an event as this server and has every server of the federation receive it
// (this one first), failing the test unless each accepts it.
func (s *server) send(t testing.TB, d draft) *pdu.Event {
	t.Helper()
	raw := s.build(t, d)
	var ev *pdu.Event
	for _, name := range s.f.order(s.name) {
		r := s.f.servers[name].receive(t, s.name, raw)
		if r.Outcome != Accepted {
			t.Fatalf("%s receiving %s %s from %s: %v (rule %s): %v", name, d.Type, d.Sender, s.name, r.Outcome, r.Rule, r.Err)
		}
		if name == s.name {
			ev = r.Event
		}
	}
	if ev.Type == pdu.TypeCreate && s.f.roomID == "" {
		s.f.roomID = ev.Room()
	}
	return ev
}

// order lists the server names with first first, the others sorted.
func (f *federation) order(first string) []string {
	out := []string{first}
	var rest []string
	for n := range f.servers {
		if n != first {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Outcome is what the receiving server did with a PDU.
type Outcome string

const (
	Accepted       Outcome = "accepted"
	IgnoredACL     Outcome = "ignored (server ACL)"
	DroppedFormat  Outcome = "dropped (check 1: format)"
	DroppedSig     Outcome = "dropped (check 2: signatures)"
	NeedKey        Outcome = "need key"
	RejectedAuth   Outcome = "rejected (check 4: auth events)"
	RejectedBefore Outcome = "rejected (check 5: state before)"
	SoftFailed     Outcome = "soft failed (check 6: current state)"
	SoftFailedPS   Outcome = "soft failed (check 7: policy server)"
)

// Receipt is the result of receive.
type Receipt struct {
	Outcome  Outcome
	Rule     string     // the rejecting rule, or the allowing rule of check 4
	Err      error      // the error of the failing check
	Redacted bool       // check 3 failed: the redacted form was kept
	Event    *pdu.Event // the event as kept (redacted form after check 3)
	// Redaction is what happened to a received m.room.redaction (v3+: "Handling redactions").
	Redaction redaction.Decision
}

// receive runs server-server-api "Checks performed on receipt of a PDU" on a PDU that
// origin sent in a transaction, then stores it.
func (s *server) receive(t testing.TB, origin string, raw []byte) Receipt {
	t.Helper()
	v := s.f.v
	// The ACL is applied per PDU, on the sending server, against the current state.
	if len(s.current) > 0 {
		if !serveracl.Allowed(s.State(t), origin) {
			return Receipt{Outcome: IgnoredACL}
		}
	}
	// 1. format.
	ev, err := signing.ParseEvent(v, raw)
	if err != nil {
		return Receipt{Outcome: DroppedFormat, Err: err}
	}
	// 2-3. signatures and hashes.
	r := Receipt{}
	switch err := signing.VerifyParsedEvent(ev, s.f.keys); signing.VerdictOf(err) {
	case signing.VerdictValid:
	case signing.VerdictRedact:
		red, rerr := redaction.Redact(v, ev.Raw())
		if rerr != nil {
			t.Fatalf("Redact: %v", rerr)
		}
		ev2, perr := signing.ParseEvent(v, red)
		if perr != nil {
			t.Fatalf("parsing the redacted form: %v", perr)
		}
		if ev2.EventID != ev.EventID {
			t.Fatalf("the redacted form has event ID %s, the event %s", ev2.EventID, ev.EventID)
		}
		ev, r.Redacted = ev2, true
	case signing.VerdictNeedKey:
		return Receipt{Outcome: NeedKey, Err: err}
	default:
		return Receipt{Outcome: DroppedSig, Err: err}
	}
	r.Event = ev
	// 4. auth events.
	var authEvents []*pdu.Event
	for _, id := range ev.AuthEvents {
		if e := s.store[id]; e != nil {
			authEvents = append(authEvents, e)
		}
	}
	opts := authrules.Options{Keys: s.f.keys, Rejected: s.rejected, Allowed: func(rule string) { r.Rule = rule }}
	if v.Format.RoomIDFromCreateEvent && ev.Type != pdu.TypeCreate {
		opts.Create = s.createEvent()
	}
	if err := authrules.CheckWithOptions(v, ev, authEvents, opts); err != nil {
		s.store[ev.EventID] = ev
		s.rejected[ev.EventID] = true
		return Receipt{Outcome: RejectedAuth, Rule: ruleOf(err), Err: err, Event: ev, Redacted: r.Redacted}
	}
	allowRule := r.Rule
	// 5. state before the event (its single prev event's state after).
	before := map[authrules.StateKey]*pdu.Event{}
	if len(ev.PrevEvents) == 1 {
		var ok bool
		if before, ok = s.stateAfter[ev.PrevEvents[0]]; !ok {
			t.Fatalf("%s: prev event %s unknown (the scenario must deliver it first)", s.name, ev.PrevEvents[0])
		}
	} else if len(ev.PrevEvents) > 1 {
		t.Fatalf("the harness handles one prev event only")
	}
	if ev.Type != pdu.TypeCreate {
		st, err := authrules.NewState(v, stateList(before))
		if err != nil {
			t.Fatalf("%s: state before: %v", s.name, err)
		}
		if err := st.CheckWithOptions(ev, authrules.Options{Keys: s.f.keys}); err != nil {
			s.store[ev.EventID] = ev
			s.rejected[ev.EventID] = true
			return Receipt{Outcome: RejectedBefore, Rule: ruleOf(err), Err: err, Event: ev, Redacted: r.Redacted}
		}
	}
	s.store[ev.EventID] = ev
	after := copyState(before)
	if ev.IsState() {
		after[sk(ev.Type, *ev.StateKey)] = ev
	}
	s.stateAfter[ev.EventID] = after
	// 6. current state.
	r.Outcome = Accepted
	if len(s.current) > 0 {
		cur := s.State(t)
		if err := cur.CheckWithOptions(ev, authrules.Options{Keys: s.f.keys}); err != nil {
			s.softFailed[ev.EventID] = true
			return Receipt{Outcome: SoftFailed, Rule: ruleOf(err), Err: err, Event: ev, Redacted: r.Redacted}
		}
		// 7. Policy Server.
		if ps, ok := policyserver.Of(cur); ok {
			if err := ps.Check(ev); err != nil {
				s.softFailed[ev.EventID] = true
				return Receipt{Outcome: SoftFailedPS, Err: err, Event: ev, Redacted: r.Redacted}
			}
		}
	}
	r.Rule = allowRule
	if ev.IsState() {
		s.current[sk(ev.Type, *ev.StateKey)] = ev
	}
	s.extremity = ev.EventID
	// Handling redactions (v3+); v1-2 authorise them by rule 11, which Decide applies too.
	if ev.Type == pdu.TypeRedaction {
		r.Redaction = s.handleRedaction(t, ev)
	}
	if waiting := s.pendingRedactions[ev.EventID]; len(waiting) > 0 {
		delete(s.pendingRedactions, ev.EventID)
		for _, red := range waiting {
			s.handleRedaction(t, red)
		}
	}
	return r
}

// handleRedaction decides a received redaction against its target and applies it.
func (s *server) handleRedaction(t testing.TB, red *pdu.Event) redaction.Decision {
	t.Helper()
	st, err := authrules.NewState(s.f.v, stateList(s.stateAfter[red.PrevEvents[0]]))
	if err != nil {
		t.Fatal(err)
	}
	cmp, ok := st.PowerLevels().CompareUserTo(red.Sender, "redact")
	if !ok {
		t.Fatal("CompareUserTo redact")
	}
	target := s.store[red.Redacts]
	if s.rejected[red.Redacts] {
		target = nil
	}
	d, _ := redaction.DecideCompared(s.f.v, red, target, cmp)
	switch d {
	case redaction.WaitForTarget:
		s.pendingRedactions[red.Redacts] = append(s.pendingRedactions[red.Redacts], red)
	case redaction.Apply:
		out, err := redaction.ApplyRedaction(target, red)
		if err != nil {
			t.Fatalf("ApplyRedaction: %v", err)
		}
		s.redacted[target.EventID] = out
		// From now on the server holds (and authorises against) the redacted form: the
		// PDU without unsigned (Redact), not the client form ApplyRedaction serves, which may
		// exceed the PDU size limit (finding S2).
		pduForm, err := redaction.Redact(s.f.v, target.Raw())
		if err != nil {
			t.Fatal(err)
		}
		kept, err := signing.ParseEvent(s.f.v, pduForm)
		if err != nil {
			t.Fatalf("parsing the redacted form: %v", err)
		}
		if kept.EventID != target.EventID {
			t.Fatalf("ApplyRedaction changed the event ID: %s → %s", target.EventID, kept.EventID)
		}
		s.store[kept.EventID] = kept
		if kept.IsState() {
			key := sk(kept.Type, *kept.StateKey)
			for _, m := range append([]map[authrules.StateKey]*pdu.Event{s.current}, mapsOf(s.stateAfter)...) {
				if e := m[key]; e != nil && e.EventID == kept.EventID {
					m[key] = kept
				}
			}
		}
	}
	return d
}

// ruleOf returns the rule number of an authrules rejection.
func ruleOf(err error) string {
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return rej.Rule
	}
	return ""
}

// member is the content of an m.room.member event.
func member(membership string, extra ...any) map[string]any {
	c := map[string]any{"membership": membership}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i].(string)] = extra[i+1]
	}
	return c
}

// room is a scenario room: the creator's server and the users of each server.
type room struct {
	f       *federation
	creator string // @alice:a.example
	// beforeSendJoin, when set, changes the signed join before send_join (joinOver).
	beforeSendJoin func([]byte) []byte
	// knownSendJoin names the finding a failing CheckSendJoinResponse shows.
	knownSendJoin string
}

// newRoom creates a room on a.example with the given join rule and power levels users, and
// has every other server follow it (each server receives every event). The servers start
// with the same view of the room.
func newRoom(t testing.TB, version string, joinRule string, servers ...string) *room {
	t.Helper()
	return newRoomWith(t, version, joinRule, nil, servers...)
}

// newRoomWith is newRoom with more members in the create event's content.
func newRoomWith(t testing.TB, version string, joinRule string, createExtra map[string]any, servers ...string) *room {
	t.Helper()
	f := newFederation(t, version, append([]string{"a.example"}, servers...)...)
	a := f.servers["a.example"]
	alice := "@alice:a.example"
	createContent := map[string]any{"room_version": version}
	for k, x := range createExtra {
		createContent[k] = x
	}
	if f.v.Auth.CreatorInContent {
		createContent["creator"] = alice
	}
	if !f.v.Format.RoomIDFromCreateEvent {
		f.roomID = "!room:a.example"
	}
	a.send(t, draft{Type: pdu.TypeCreate, Sender: alice, StateKey: str(""), Content: createContent})
	a.send(t, draft{Type: pdu.TypeMember, Sender: alice, StateKey: str(alice), Content: member("join")})
	users := map[string]any{"@mod:b.example": 50}
	if !f.v.Auth.InfiniteCreatorPower {
		users[alice] = 100
	}
	a.send(t, draft{Type: pdu.TypePowerLevels, Sender: alice, StateKey: str(""), Content: map[string]any{
		"users": users, "invite": 50, "kick": 50, "ban": 50, "redact": 50, "state_default": 50, "events_default": 0, "users_default": 0,
	}})
	jr := map[string]any{"join_rule": joinRule}
	if joinRule == "restricted" || joinRule == "knock_restricted" {
		jr["allow"] = []any{map[string]any{"type": "m.room_membership", "room_id": "!space:a.example"}}
	}
	a.send(t, draft{Type: pdu.TypeJoinRules, Sender: alice, StateKey: str(""), Content: jr})
	return &room{f: f, creator: alice}
}

// inviteAndJoin has alice invite user and user's server join by the invite, with every server
// receiving both events directly (no handshake: the invited server is in the federation).
func (r *room) inviteAndJoin(t testing.TB, user string) {
	t.Helper()
	a := r.f.servers["a.example"]
	a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str(user), Content: member("invite")})
	srv, _ := signing.ServerName(user)
	r.f.servers[srv].send(t, draft{Type: pdu.TypeMember, Sender: user, StateKey: str(user), Content: member("join")})
}

// edit decodes a JSON object, lets fn change it and encodes it again (numbers kept as written).
func edit(t testing.TB, raw []byte, fn func(m map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decode decodes a JSON object.
func decode(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mapsOf(m map[string]map[authrules.StateKey]*pdu.Event) []map[authrules.StateKey]*pdu.Event {
	out := make([]map[authrules.StateKey]*pdu.Event, 0, len(m))
	for _, x := range m {
		out = append(out, x)
	}
	return out
}

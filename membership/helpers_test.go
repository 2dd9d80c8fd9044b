package membership

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// serverKey returns the fixed test signing key of a server: seed sha256(server name), key
// version "1", as in the shared benchmark corpus.
func serverKey(t testing.TB, server string) signing.SigningKey {
	t.Helper()
	seed := sha256.Sum256([]byte(server))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		t.Fatalf("NewSigningKey(%s): %v", server, err)
	}
	return k
}

// keyRing returns the public keys of the given servers.
func keyRing(t testing.TB, servers ...string) signing.KeyRing {
	t.Helper()
	r := signing.KeyRing{}
	for _, s := range servers {
		k := serverKey(t, s)
		r[s] = map[string]signing.PublicKey{k.KeyID(): {Key: k.Public()}}
	}
	return r
}

// roomSpec is the compact description of a room in the fixtures.
type roomSpec struct {
	// Creator sends the create event and joins first.
	Creator string `json:"creator"`
	// AdditionalCreators (v12).
	AdditionalCreators []string `json:"additional_creators"`
	// JoinRules is the content of m.room.join_rules; absent: no join rules event.
	JoinRules json.RawMessage `json:"join_rules"`
	// PowerLevels is the content of m.room.power_levels; absent: no power levels event.
	PowerLevels json.RawMessage `json:"power_levels"`
	// Members maps users to memberships, applied in user ID order after the creator's join.
	Members map[string]string `json:"members"`
	// CreateContent holds more keys of the create event's content (e.g. "m.federate": false).
	CreateContent map[string]any `json:"create_content"`
}

// builder makes real, signed events of one room.
type builder struct {
	t      testing.TB
	v      roomversion.Version
	roomID string
	depth  int64
	prev   string
	n      int
	events []*pdu.Event
	byKey  map[[2]string]*pdu.Event
}

func newBuilder(t testing.TB, v roomversion.Version) *builder {
	return &builder{t: t, v: v, roomID: "!room:a.example", byKey: map[[2]string]*pdu.Event{}}
}

// raw builds, signs and parses an event; extra holds additional top-level fields.
func (b *builder) raw(typ, sender string, stateKey *string, content any, extra map[string]any) *pdu.Event {
	t := b.t
	t.Helper()
	b.n++
	b.depth++
	fields := map[string]any{
		"type":             typ,
		"sender":           sender,
		"content":          content,
		"depth":            b.depth,
		"origin_server_ts": int64(1700000000000 + b.n),
		"origin":           serverOf(sender),
	}
	if stateKey != nil {
		fields["state_key"] = *stateKey
	}
	isV12Create := typ == pdu.TypeCreate && b.v.Format.RoomIDFromCreateEvent
	if !isV12Create {
		fields["room_id"] = b.roomID
	}
	var prev, auth []string
	if b.prev != "" {
		prev = []string{b.prev}
	}
	if typ != pdu.TypeCreate {
		for _, k := range [][2]string{{pdu.TypeCreate, ""}, {pdu.TypePowerLevels, ""}, {pdu.TypeMember, sender}} {
			if k[0] == pdu.TypeCreate && !b.v.Auth.SelectCreateEvent {
				continue
			}
			if e := b.byKey[k]; e != nil {
				auth = append(auth, e.EventID)
			}
		}
	}
	fields["prev_events"] = refs(b.v, prev)
	fields["auth_events"] = refs(b.v, auth)
	if b.v.Format.HasEventIDField {
		fields["event_id"] = fmt.Sprintf("$ev%d:%s", b.n, serverOf(sender))
	}
	for k, v := range extra {
		fields[k] = v
	}
	data, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	srv := serverOf(sender)
	signed, err := signing.SignEvent(b.v, data, srv, serverKey(t, srv))
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	ev, err := signing.ParseEvent(b.v, signed)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, signed)
	}
	if isV12Create {
		b.roomID = "!" + ev.EventID[1:]
	}
	b.prev = ev.EventID
	return ev
}

// state adds a state event to the room.
func (b *builder) state(typ, stateKey, sender string, content any) *pdu.Event {
	b.t.Helper()
	sk := stateKey
	ev := b.raw(typ, sender, &sk, content, nil)
	b.byKey[[2]string{typ, stateKey}] = ev
	b.events = append(b.events, ev)
	return ev
}

// current returns the current state events in a stable order.
func (b *builder) current() []*pdu.Event {
	var out []*pdu.Event
	keys := make([][2]string, 0, len(b.byKey))
	for k := range b.byKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		out = append(out, b.byKey[k])
	}
	return out
}

func (b *builder) stateOf() *authrules.State {
	b.t.Helper()
	s, err := authrules.NewState(b.v, b.current())
	if err != nil {
		b.t.Fatalf("NewState: %v", err)
	}
	return s
}

func refs(v roomversion.Version, ids []string) any {
	if ids == nil {
		ids = []string{}
	}
	if !v.Format.ReferencePairs {
		return ids
	}
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = []any{id, map[string]any{}}
	}
	return out
}

// build makes the room a roomSpec describes.
func buildRoom(t testing.TB, v roomversion.Version, spec roomSpec) *builder {
	t.Helper()
	b := newBuilder(t, v)
	create := map[string]any{"room_version": v.ID}
	if v.Auth.CreatorInContent {
		create["creator"] = spec.Creator
	}
	if len(spec.AdditionalCreators) > 0 {
		create["additional_creators"] = spec.AdditionalCreators
	}
	for k, x := range spec.CreateContent {
		create[k] = x
	}
	b.state(pdu.TypeCreate, "", spec.Creator, create)
	b.state(pdu.TypeMember, spec.Creator, spec.Creator, map[string]any{"membership": "join"})
	if spec.PowerLevels != nil {
		b.state(pdu.TypePowerLevels, "", spec.Creator, spec.PowerLevels)
	}
	if spec.JoinRules != nil {
		b.state(pdu.TypeJoinRules, "", spec.Creator, spec.JoinRules)
	}
	users := make([]string, 0, len(spec.Members))
	for u := range spec.Members {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		m := spec.Members[u]
		sender := u
		if m == pdu.MembershipInvite || m == pdu.MembershipBan {
			sender = spec.Creator
		}
		b.state(pdu.TypeMember, u, sender, map[string]any{"membership": m})
	}
	return b
}

// loadCases reads a fixture file of testdata/membership.
func loadCases(t testing.TB, name string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "membership", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func mustVersion(t testing.TB, id string) roomversion.Version {
	t.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// reasons names the sentinel errors for the fixtures.
var reasons = map[string]error{
	"ErrBanned":              ErrBanned,
	"ErrNotInvited":          ErrNotInvited,
	"ErrUnknownJoinRule":     ErrUnknownJoinRule,
	"ErrNoCondition":         ErrNoCondition,
	"ErrUnverifiable":        ErrUnverifiable,
	"ErrNoAuthoriser":        ErrNoAuthoriser,
	"ErrKnockNotAllowed":     ErrKnockNotAllowed,
	"ErrBadEvent":            ErrBadEvent,
	"ErrBadSignature":        ErrBadSignature,
	"ErrAuthRules":           ErrAuthRules,
	"ErrBadTemplate":         ErrBadTemplate,
	"ErrResponseMismatch":    ErrResponseMismatch,
	"ErrBadInput":            ErrBadInput,
	"ErrIncompatibleVersion": ErrIncompatibleVersion,
	"ErrNotFromOrigin":       ErrNotFromOrigin,
	"ErrNotPossible":         ErrNotPossible,
	"ErrInsufficientPower":   ErrInsufficientPower,
	"ErrNotFederated":        ErrNotFederated,
}

func mustState(t testing.TB, v roomversion.Version, evs []*pdu.Event) *authrules.State {
	t.Helper()
	s, err := authrules.NewState(v, evs)
	if err != nil {
		t.Fatalf("NewState: %v", err)
	}
	return s
}

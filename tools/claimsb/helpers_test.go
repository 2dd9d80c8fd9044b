package claimsb

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// M is a JSON object literal.
type M = claimkit.M

func ver(id string) roomversion.Version { return authgen.Version(id) }

const roomID = "!room:a.example"

func serverOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return "a.example"
}

var evCounter int

// raw builds the bytes of a signed event of version v: defaults for every
// required field, then fields (a nil value deletes the key). Signed by the
// sender's server plus extra servers.
func raw(t testing.TB, v roomversion.Version, fields M, extra ...string) []byte {
	t.Helper()
	evCounter++
	e := M{
		"room_id":          roomID,
		"sender":           "@alice:a.example",
		"type":             "m.room.message",
		"content":          M{},
		"prev_events":      []any{},
		"auth_events":      []any{},
		"depth":            1,
		"origin_server_ts": 1000 + evCounter,
	}
	if v.ID == "1" || v.ID == "2" {
		e["event_id"] = "$e" + strings.Repeat("x", evCounter%7) + string(rune('a'+evCounter%26)) + itoa(evCounter) + ":a.example"
	}
	for k, x := range fields {
		if x == nil {
			delete(e, k)
		} else {
			e[k] = x
		}
	}
	sender, _ := e["sender"].(string)
	first := serverOf(sender)
	if !pdu.ValidServerName(first) {
		first = "a.example" // the auth rules do not check signatures
	}
	servers := append([]string{first}, extra...)
	return authgen.SignAll(v, claimkit.Marshal(t, e), servers)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// ev builds and parses (with its event ID) a signed event.
func ev(t testing.TB, v roomversion.Version, fields M, extra ...string) *pdu.Event {
	t.Helper()
	b := raw(t, v, fields, extra...)
	e, err := signing.ParseEvent(v, b)
	if err != nil {
		t.Fatalf("ParseEvent: %v\n%s", err, b)
	}
	return e
}

func sk(s string) *string { return &s }

// ids returns the event IDs in the auth_events form of v.
func refs(v roomversion.Version, evs ...*pdu.Event) []any {
	out := []any{}
	for _, e := range evs {
		if v.ID == "1" || v.ID == "2" {
			out = append(out, []any{e.EventID, M{}})
		} else {
			out = append(out, e.EventID)
		}
	}
	return out
}

// room is a small room of version v (v1-11): create by alice, alice joined,
// power levels (alice 100, users in pl), join rules.
type room struct {
	v                roomversion.Version
	create, join, pl *pdu.Event
	jr               *pdu.Event
	extra            []*pdu.Event
}

func newRoom(t testing.TB, v roomversion.Version, joinRule string, plContent M) *room {
	t.Helper()
	r := &room{v: v}
	cc := M{"room_version": v.ID}
	if !v.AdditionalCreators() {
		cc["creator"] = "@alice:a.example"
	}
	cf := M{"type": "m.room.create", "state_key": "", "content": cc}
	if v.AdditionalCreators() {
		cf["room_id"] = nil
	}
	r.create = ev(t, v, cf)
	rid := roomID
	if v.AdditionalCreators() {
		rid = "!" + strings.TrimPrefix(r.create.EventID, "$")
	}
	ca := refs(v, r.create)
	if v.AdditionalCreators() {
		ca = []any{}
	}
	r.join = ev(t, v, M{"room_id": rid, "type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "join"}, "auth_events": ca, "prev_events": refs(v, r.create), "depth": 2})
	if plContent == nil {
		plContent = M{"users": M{"@alice:a.example": 100}}
		if v.AdditionalCreators() {
			plContent = M{"users": M{}} // rule 10.4: creators are not listed
		}
	}
	r.pl = ev(t, v, M{"room_id": rid, "type": "m.room.power_levels", "state_key": "", "content": plContent, "auth_events": append(append([]any{}, ca...), refs(v, r.join)...), "prev_events": refs(v, r.join), "depth": 3})
	if joinRule != "" {
		r.jr = ev(t, v, M{"room_id": rid, "type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": joinRule}, "auth_events": append(append([]any{}, ca...), refs(v, r.join, r.pl)...), "prev_events": refs(v, r.pl), "depth": 4})
	}
	return r
}

func (r *room) id() string {
	if r.v.AdditionalCreators() {
		return "!" + strings.TrimPrefix(r.create.EventID, "$")
	}
	return roomID
}

func (r *room) events() []*pdu.Event {
	out := []*pdu.Event{r.create, r.join, r.pl}
	if r.jr != nil {
		out = append(out, r.jr)
	}
	return append(out, r.extra...)
}

func (r *room) state(t testing.TB, more ...*pdu.Event) *authrules.State {
	t.Helper()
	s, err := authrules.NewState(r.v, append(r.events(), more...))
	if err != nil {
		t.Fatalf("NewState: %v", err)
	}
	return s
}

// member builds a member event of the room (auth events not listed).
func (r *room) member(t testing.TB, sender, target, membership string, content M, extra ...string) *pdu.Event {
	t.Helper()
	if content == nil {
		content = M{}
	}
	content["membership"] = membership
	return ev(t, r.v, M{"room_id": r.id(), "sender": sender, "type": "m.room.member", "state_key": target, "content": content, "prev_events": refs(r.v, r.pl), "depth": 5}, extra...)
}

// rejection asserts err is a *authrules.Rejection with the rule and sentinel.
func wantRejection(t *testing.T, err error, rule string, sentinel error) {
	t.Helper()
	var rj *authrules.Rejection
	if !errors.As(err, &rj) {
		t.Fatalf("want rejection rule %s (%v), got %v", rule, sentinel, err)
	}
	if rj.Rule != rule || (sentinel != nil && !errors.Is(err, sentinel)) {
		t.Fatalf("want rule %s %v, got rule %s %v (%v)", rule, sentinel, rj.Rule, rj.Err, err)
	}
}

func parseAny(v roomversion.Version, b []byte) (*pdu.Event, error) { return signing.ParseEvent(v, b) }

func authrulesParseJoinRules(s string) string { return authrules.ParseJoinRules([]byte(s)).Rule }

func authrulesParsePL(vid, s string) (int64, error) {
	pl, err := authrules.ParsePowerLevels(ver(vid), []byte(s))
	if err != nil {
		return 0, err
	}
	return pl.BanLevel(), nil
}

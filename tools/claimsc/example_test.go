package claimsc

import (
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// parsedExample is the example room of `replay`, parsed.
type parsedExample struct {
	raw  [][]byte
	evs  []*pdu.Event
	byID map[string][]byte
	keys []byte // the room's keys as a --keys file
}

func example(t testing.TB) parsedExample {
	t.Helper()
	ex, _ := loadExample(t)
	v := claimkit.Ver(t, ex.RoomVersion)
	p := parsedExample{byID: map[string][]byte{}, keys: claimkit.Marshal(t, ex.Keys)}
	for _, r := range ex.Events {
		e, err := signing.ParseEvent(v, r)
		if err != nil {
			t.Fatal(err)
		}
		p.raw = append(p.raw, r)
		p.evs = append(p.evs, e)
		p.byID[e.EventID] = r
	}
	return p
}

// authOf returns the --auth-events file of event i (0-based): its listed auth events.
func (p parsedExample) authOf(t testing.TB, i int) []byte {
	t.Helper()
	var list []json.RawMessage
	for _, id := range p.evs[i].AuthEvents {
		list = append(list, p.byID[id])
	}
	return claimkit.Marshal(t, list)
}

// stateIdx are the events (0-based) of the example room's current state: create, alice,
// power levels, join rules, history visibility, mod's join, bob's ban, the name.
var stateIdx = []int{0, 1, 2, 3, 4, 6, 13, 15}

func (p parsedExample) state() []*pdu.Event {
	var out []*pdu.Event
	for _, i := range stateIdx {
		out = append(out, p.evs[i])
	}
	return out
}

func (p parsedExample) stateJSON(t testing.TB) []byte {
	var list []json.RawMessage
	for _, i := range stateIdx {
		list = append(list, p.raw[i])
	}
	return claimkit.Marshal(t, list)
}

// resign changes event i (0-based) with f and signs it again as each server.
func (p parsedExample) resign(t testing.TB, i int, f func(M), servers ...string) []byte {
	t.Helper()
	var m M
	if err := json.Unmarshal(p.raw[i], &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "signatures")
	delete(m, "hashes")
	f(m)
	return signed(t, claimkit.Ver(t, "9"), m, servers...)
}

func (p parsedExample) mutate(t testing.TB, i int, f func(M)) []byte {
	t.Helper()
	var m M
	if err := json.Unmarshal(p.raw[i], &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	return claimkit.Marshal(t, m)
}

// sig returns the signature of event i (0-based) by server's key ed25519:1.
func (p parsedExample) sig(i int, server string) string {
	s, _ := p.evs[i].Signatures.Get(server, "ed25519:1")
	return s
}

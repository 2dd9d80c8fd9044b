package authrules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// chainFuzzKinds are the events a FuzzCheckAuthChain input draws from: a room's first events and
// a message, each by @alice (the creator) or @bob, in room version 1 whose opaque event IDs
// let auth events form cycles.
var chainFuzzKinds = []struct {
	typ, stateKey, content string
}{
	{pdu.TypeCreate, "", `{"creator":"@alice:a.example"}`},
	{pdu.TypeMember, "@alice:a.example", `{"membership":"join"}`},
	{pdu.TypePowerLevels, "", `{"users":{"@alice:a.example":100}}`},
	{pdu.TypeJoinRules, "", `{"join_rule":"public"}`},
	{pdu.TypeMember, "@bob:b.example", `{"membership":"join"}`},
	{"m.room.message", "-", `{"body":"hi"}`},
	{"m.room.name", "", `{"name":"x"}`},
	{pdu.TypeCreate, "", `{"creator":"@bob:b.example"}`},
}

// chainFuzzSet builds up to eight room version 1 events from data: per event one byte picks the
// kind and the sender, one byte is a bit set of the events it lists in auth_events (any of the
// set, itself included, so cycles happen), and one bit adds an ID that is not in the set. It
// also returns the IDs listed as rejected (ChainOptions.Rejected).
func chainFuzzSet(t *testing.T, v roomversion.Version, data []byte) ([]*pdu.Event, map[string]bool) {
	n := min(len(data)/2, 8)
	const h = `{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}`
	id := func(i int) string { return "$e" + strconv.Itoa(i) + ":a.example" }
	rejected := map[string]bool{}
	var events []*pdu.Event
	for i := range n {
		kindByte, authByte := data[2*i], data[2*i+1]
		k := chainFuzzKinds[kindByte%8]
		sender := "@alice:a.example"
		if kindByte&0x08 != 0 && k.typ != pdu.TypeCreate {
			sender = "@bob:b.example"
		}
		if k.typ == pdu.TypeCreate {
			sender = strings.TrimSuffix(strings.TrimPrefix(k.content, `{"creator":"`), `"}`)
		}
		var refs []string
		for j := range n {
			if authByte&(1<<j) != 0 {
				refs = append(refs, `[`+strconv.Quote(id(j))+`,`+h+`]`)
			}
		}
		if kindByte&0x10 != 0 {
			refs = append(refs, `["$gone:a.example",`+h+`]`)
		}
		if kindByte&0x20 != 0 {
			rejected[id(i)] = true
		}
		if kindByte&0x40 != 0 {
			rejected["$gone:a.example"] = true
		}
		stateKey := ""
		if k.stateKey != "-" {
			stateKey = `"state_key":` + strconv.Quote(k.stateKey) + `,`
		}
		prev := `[]`
		if k.typ != pdu.TypeCreate {
			prev = `[["$e0:a.example",` + h + `]]`
		}
		raw := `{"auth_events":[` + strings.Join(refs, ",") + `],"content":` + k.content + `,"depth":` + strconv.Itoa(i+1) +
			`,"event_id":` + strconv.Quote(id(i)) + `,"hashes":` + h + `,"origin":"a.example","origin_server_ts":1,"prev_events":` + prev +
			`,"room_id":"!room:a.example","sender":` + strconv.Quote(sender) + `,"signatures":{"a.example":{"ed25519:1":"AAAA"}},` +
			stateKey + `"type":` + strconv.Quote(k.typ) + `}`
		ev, err := pdu.Parse(v, []byte(raw))
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, raw)
		}
		events = append(events, ev)
	}
	return events, rejected
}

// FuzzCheckAuthChain: on sets of room version 1 events whose auth events may be missing,
// rejected, listed as rejected, or form cycles (a create event's too), CheckAuthChain
//   - gives every event the verdict CheckWithOptions gives it with its auth events in the set
//     and the set's rejected events, unless the event is in or behind a cycle of the auth
//     events of events other than m.room.create (computed here on its own), where it must fail
//     rule 2 with ErrAuthEventCycle;
//   - gives the same verdicts for the set reversed and with another number of workers;
//   - lists in Order exactly the events it authorised, each after its auth events in the set
//     (but a create event's).
func FuzzCheckAuthChain(f *testing.F) {
	f.Add([]byte{0, 0, 1, 1, 2, 3, 3, 3, 5, 15})                  // a room in order
	f.Add([]byte{0, 2, 1, 1})                                     // the create citing the join that cites it
	f.Add([]byte{0, 1, 1, 3, 5, 4})                               // a create citing itself; a cycle behind
	f.Add([]byte{0, 0, 0x21, 1, 5, 3, 0x45, 1, 0x18, 1, 7, 0x3f}) // rejected, missing, a second create
	v, err := roomversion.Lookup("1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		events, rejected := chainFuzzSet(t, v, data)
		res, err := CheckAuthChain(v, events, &ChainOptions{Rejected: rejected, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]int{}
		for i, ev := range events {
			byID[ev.EventID] = i
		}
		// The cycles, from the auth events of the events that are not creates.
		edges := func(i int) []int {
			if events[i].Type == pdu.TypeCreate {
				return nil
			}
			var out []int
			for _, a := range events[i].AuthEvents {
				if j, ok := byID[a]; ok {
					out = append(out, j)
				}
			}
			return out
		}
		// stuck[i]: i reaches a cycle (itself in one, or behind one).
		stuck := make([]bool, len(events))
		for i := range events {
			seen := map[int]bool{}
			var walk func(j int, path map[int]bool) bool
			walk = func(j int, path map[int]bool) bool {
				if path[j] {
					return true
				}
				if seen[j] {
					return false
				}
				seen[j] = true
				path[j] = true
				defer delete(path, j)
				for _, k := range edges(j) {
					if walk(k, path) {
						return true
					}
				}
				return false
			}
			stuck[i] = walk(i, map[int]bool{})
		}
		notAccepted := map[string]bool{}
		for i, ev := range events {
			if !res.Verdicts[i].Accepted() {
				notAccepted[ev.EventID] = true
			}
		}
		for id := range rejected {
			notAccepted[id] = true
		}
		for i, ev := range events {
			got := res.Verdicts[i]
			if rejected[ev.EventID] {
				if !got.PreRejected {
					t.Fatalf("event %d is listed as rejected: %+v", i, got)
				}
				continue
			}
			if stuck[i] {
				if !errors.Is(got.Err, ErrAuthEventCycle) {
					t.Fatalf("event %d is in or behind a cycle: %v", i, got.Err)
				}
				continue
			}
			var auth []*pdu.Event
			for _, a := range ev.AuthEvents {
				if j, ok := byID[a]; ok {
					auth = append(auth, events[j])
				}
			}
			want := CheckWithOptions(v, ev, auth, Options{Rejected: notAccepted})
			if fmt.Sprint(want) != fmt.Sprint(got.Err) {
				t.Fatalf("event %d (%s): CheckAuthChain %v, Check %v", i, ev.Type, got.Err, want)
			}
		}
		// Order: the authorised events, each after its auth events in the set.
		pos := map[int]int{}
		for k, i := range res.Order {
			pos[i] = k
		}
		for i := range events {
			_, in := pos[i]
			if in != !stuck[i] {
				t.Fatalf("event %d in Order: %v, stuck: %v (order %v)", i, in, stuck[i], res.Order)
			}
			for _, j := range edges(i) {
				if in && pos[j] > pos[i] {
					t.Fatalf("event %d before its auth event %d in %v", i, j, res.Order)
				}
			}
		}
		// The same verdicts reversed, with three workers.
		rev := slices.Clone(events)
		slices.Reverse(rev)
		res2, err := CheckAuthChain(v, rev, &ChainOptions{Rejected: rejected, Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		for i := range events {
			a, b := res.Verdicts[i], res2.Verdicts[len(events)-1-i]
			if a.PreRejected != b.PreRejected || fmt.Sprint(a.Err) != fmt.Sprint(b.Err) {
				t.Fatalf("event %d: %+v, reversed %+v", i, a, b)
			}
		}
	})
}

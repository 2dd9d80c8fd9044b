package authrules_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// The Benchmark...Scale functions of this file measure how the work of authrules grows with
// adversarial input within the protocol's limits (65,536-byte events, large rooms): each runs
// a table of sizes, and ns/op and allocs/op should grow no faster than the input (see
// SECURITY.md, "Resource exhaustion"). Their events are parsed, not signed.

func scaleVersion(tb testing.TB, id string) roomversion.Version {
	tb.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// scaleEvent parses an unsigned event of room version v made of fields, with the fields every
// event needs filled in when absent.
func scaleEvent(tb testing.TB, v roomversion.Version, fields map[string]any) *pdu.Event {
	tb.Helper()
	base := map[string]any{
		"depth": 1, "origin_server_ts": 1, "prev_events": []string{}, "auth_events": []string{},
		"hashes": map[string]string{"sha256": "x"}, "signatures": map[string]any{},
	}
	for k, val := range fields {
		base[k] = val
	}
	raw, err := json.Marshal(base)
	if err != nil {
		tb.Fatal(err)
	}
	ev, err := signing.ParseEvent(v, raw)
	if err != nil {
		tb.Fatalf("%v (%d bytes)", err, len(raw))
	}
	return ev
}

// v12Room returns the create event of a v12 room with k distinct additional creators (the
// largest a 65,536-byte event holds is about 5,000), the room ID, and the creator's join.
func v12Room(tb testing.TB, k int) (create, join *pdu.Event, roomID string) {
	v := scaleVersion(tb, "12")
	extra := make([]string, k)
	for i := range extra {
		extra[i] = fmt.Sprintf("@%d:x", i)
	}
	create = scaleEvent(tb, v, map[string]any{
		"type": "m.room.create", "state_key": "", "sender": "@alice:a.example",
		"content": map[string]any{"room_version": "12", "additional_creators": extra},
	})
	roomID = "!" + create.EventID[1:]
	join = scaleEvent(tb, v, map[string]any{
		"type": "m.room.member", "state_key": "@alice:a.example", "sender": "@alice:a.example", "room_id": roomID,
		"content": map[string]any{"membership": "join"}, "auth_events": []string{create.EventID},
	})
	return create, join, roomID
}

// BenchmarkCreatorsScale: a v12 create event with k additional creators (up to what a
// 65,536-byte event holds). NewState reads the creators once; Check builds a state from the
// auth events on every call, so reads them on every call; State.Check compares a user with
// the creators.
func BenchmarkCreatorsScale(b *testing.B) {
	v := scaleVersion(b, "12")
	for _, k := range []int{50, 500, 5000} {
		create, join, roomID := v12Room(b, k)
		msg := scaleEvent(b, v, map[string]any{
			"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomID,
			"content": map[string]any{"body": "hi"}, "auth_events": []string{join.EventID},
		})
		// bob is no creator: every comparison with the creators fails.
		bobJoin := scaleEvent(b, v, map[string]any{
			"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@bob:b.example", "room_id": roomID,
			"content": map[string]any{"membership": "join"},
		})
		bobMsg := scaleEvent(b, v, map[string]any{
			"type": "m.room.message", "sender": "@bob:b.example", "room_id": roomID,
			"content": map[string]any{"body": "hi"}, "auth_events": []string{bobJoin.EventID},
		})
		b.Run(fmt.Sprintf("NewState/%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := authrules.NewState(v, []*pdu.Event{create, join}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Check/%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := authrules.CheckWithOptions(v, msg, []*pdu.Event{join}, authrules.Options{Create: create}); err != nil {
					b.Fatal(err)
				}
			}
		})
		s, err := authrules.NewState(v, []*pdu.Event{create, join, bobJoin})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("StateCheck/%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Check(bobMsg, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// lenientPowerLevels returns a v1-5 m.room.power_levels content of about size bytes whose
// `notifications` hold n valid levels then n invalid ones: the rules of v1-5 do not check
// notifications, so such an event is accepted, and the state reads it leniently.
func lenientPowerLevels(n int) map[string]any {
	var sb strings.Builder
	sb.WriteString(`{`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `"a%d":1,`, i)
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `"b%d":null,`, i)
	}
	sb.WriteString(`"room":50}`)
	return map[string]any{"users": map[string]int{"@alice:a.example": 100}, "notifications": json.RawMessage(sb.String())}
}

// BenchmarkLenientPowerLevelsScale: a state (NewState) and Check, which builds a state from
// the auth events, reading an accepted v5 power levels event whose `notifications` hold n
// valid and n invalid levels (n = 2,500 fills an event).
func BenchmarkLenientPowerLevelsScale(b *testing.B) {
	v := scaleVersion(b, "5")
	room := "!r:a.example"
	create := scaleEvent(b, v, map[string]any{
		"type": "m.room.create", "state_key": "", "sender": "@alice:a.example", "room_id": room,
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "5"},
	})
	join := scaleEvent(b, v, map[string]any{
		"type": "m.room.member", "state_key": "@alice:a.example", "sender": "@alice:a.example", "room_id": room,
		"content": map[string]any{"membership": "join"}, "auth_events": []string{create.EventID},
	})
	for _, n := range []int{25, 250, 2500} {
		pl := scaleEvent(b, v, map[string]any{
			"type": "m.room.power_levels", "state_key": "", "sender": "@alice:a.example", "room_id": room,
			"content": lenientPowerLevels(n), "auth_events": []string{create.EventID, join.EventID},
		})
		msg := scaleEvent(b, v, map[string]any{
			"type": "m.room.message", "sender": "@alice:a.example", "room_id": room, "content": map[string]any{"body": "hi"},
			"auth_events": []string{create.EventID, pl.EventID, join.EventID},
		})
		auth := []*pdu.Event{create, pl, join}
		if err := authrules.Check(v, pl, []*pdu.Event{create, join}, nil); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("NewState/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := authrules.NewState(v, auth); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("Check/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := authrules.Check(v, msg, auth, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStateCheckWithCreateScale: State.CheckWithOptions of a v12 message against a state
// of n members that holds no m.room.create (a partial state, as state resolution builds), with
// the room's create event in Options.Create.
func BenchmarkStateCheckWithCreateScale(b *testing.B) {
	v := scaleVersion(b, "12")
	create, join, roomID := v12Room(b, 0)
	msg := scaleEvent(b, v, map[string]any{
		"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomID,
		"content": map[string]any{"body": "hi"}, "auth_events": []string{join.EventID},
	})
	for _, n := range []int{1000, 10000, 100000} {
		evs := []*pdu.Event{join}
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("@u%d:b.example", i)
			evs = append(evs, scaleEvent(b, v, map[string]any{
				"type": "m.room.member", "state_key": u, "sender": u, "room_id": roomID,
				"content": map[string]any{"membership": "join"},
			}))
		}
		s, err := authrules.NewState(v, evs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.CheckWithOptions(msg, authrules.Options{Create: create}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// chainWithPowerLevels returns the events of a v10 room: its create event, the creator's
// join, p m.room.power_levels events of `users` entries each (all accepted: none cites
// another), and n messages, message j citing power levels j mod p. grouped orders the
// messages by the power levels they cite; otherwise they cycle through them.
func chainWithPowerLevels(tb testing.TB, p, users, n int, grouped bool) []*pdu.Event {
	v := scaleVersion(tb, "10")
	room := "!r:a.example"
	create := scaleEvent(tb, v, map[string]any{
		"type": "m.room.create", "state_key": "", "sender": "@alice:a.example", "room_id": room,
		"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"},
	})
	join := scaleEvent(tb, v, map[string]any{
		"type": "m.room.member", "state_key": "@alice:a.example", "sender": "@alice:a.example", "room_id": room,
		"content": map[string]any{"membership": "join"}, "auth_events": []string{create.EventID},
		"prev_events": []string{create.EventID},
	})
	// bob joins through a public join rule; his join is decided after every power levels
	// event, so the messages he sends become ready in their input order.
	rules := scaleEvent(tb, v, map[string]any{
		"type": "m.room.join_rules", "state_key": "", "sender": "@alice:a.example", "room_id": room,
		"content": map[string]any{"join_rule": "public"}, "auth_events": []string{create.EventID, join.EventID},
	})
	bob := scaleEvent(tb, v, map[string]any{
		"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@bob:b.example", "room_id": room,
		"content": map[string]any{"membership": "join"}, "auth_events": []string{create.EventID, rules.EventID},
	})
	evs := []*pdu.Event{create, join, rules, bob}
	pls := make([]*pdu.Event, p)
	for i := range pls {
		u := map[string]int{"@alice:a.example": 100}
		for j := 0; j < users; j++ {
			u[fmt.Sprintf("@%d:x", j)] = 1
		}
		pls[i] = scaleEvent(tb, v, map[string]any{
			"type": "m.room.power_levels", "state_key": "", "sender": "@alice:a.example", "room_id": room,
			"content": map[string]any{"users": u, "ban": 50 + i}, "auth_events": []string{create.EventID, join.EventID},
		})
		evs = append(evs, pls[i])
	}
	for j := 0; j < n; j++ {
		i := j % p
		if grouped {
			i = j * p / n
		}
		evs = append(evs, scaleEvent(tb, v, map[string]any{
			"type": "m.room.message", "sender": "@bob:b.example", "room_id": room, "content": map[string]any{"body": j},
			"origin_server_ts": j + 1, // the content is redacted away from the reference hash
			"auth_events":      []string{create.EventID, pls[i].EventID, bob.EventID},
		}))
	}
	return evs
}

// BenchmarkCheckAuthChainScale: CheckAuthChain of n messages citing 65 power levels events of
// 1,000 users each (about 12 KB), in the order that defeats a cache of 64 (cycling) and in the
// order that suits it (grouped). Both rows should cost about the same per event.
func BenchmarkCheckAuthChainScale(b *testing.B) {
	v := scaleVersion(b, "10")
	for _, order := range []string{"grouped", "cycling"} {
		for _, n := range []int{100, 1000, 10000} {
			evs := chainWithPowerLevels(b, 65, 1000, n, order == "grouped")
			b.Run(fmt.Sprintf("%s/%d", order, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					res, err := authrules.CheckAuthChain(v, evs, &authrules.ChainOptions{Workers: 1})
					if err != nil || res.Rejected != 0 {
						b.Fatalf("%v %+v", err, res.ByRule)
					}
				}
			})
		}
	}
}

// BenchmarkParseScale: ParsePowerLevels with n users and ParseJoinRules with n allow
// conditions (n = 5,000 fills an event).
func BenchmarkParseScale(b *testing.B) {
	v := scaleVersion(b, "10")
	for _, n := range []int{50, 500, 5000} {
		users := map[string]int{}
		var allow []any
		for i := 0; i < n; i++ {
			users[fmt.Sprintf("@%d:x", i)] = i
			allow = append(allow, map[string]string{"type": "m.room_membership", "room_id": fmt.Sprintf("!%d:x", i)})
		}
		pl, _ := json.Marshal(map[string]any{"users": users, "events": users})
		jr, _ := json.Marshal(map[string]any{"join_rule": "restricted", "allow": allow})
		b.Run(fmt.Sprintf("ParsePowerLevels/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := authrules.ParsePowerLevels(v, pl); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("ParseJoinRules/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(authrules.ParseJoinRules(jr).Allow) != n {
					b.Fatal("allow")
				}
			}
		})
	}
}

// BenchmarkThirdPartyInviteScale: State.Check of a third-party invite whose `signed` holds
// seven signatures that no key matches, against an m.room.third_party_invite of k public keys
// (about 1,000 fill an event): 7k signature checks, under MaxThirdPartyInviteChecks. pad adds that many bytes to `signed`, which every
// check reads.
func BenchmarkThirdPartyInviteScale(b *testing.B) {
	v := scaleVersion(b, "10")
	room := "!r:a.example"
	base := []*pdu.Event{
		scaleEvent(b, v, map[string]any{"type": "m.room.create", "state_key": "", "sender": "@alice:a.example", "room_id": room,
			"content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}}),
		scaleEvent(b, v, map[string]any{"type": "m.room.member", "state_key": "@alice:a.example", "sender": "@alice:a.example", "room_id": room,
			"content": map[string]any{"membership": "join"}}),
	}
	// Seven genuine signatures over other bytes: each check hashes the signed bytes in full.
	sk := ed25519.NewKeyFromSeed(make([]byte, 32))
	sigs := map[string]string{}
	for i := 0; i < 7; i++ {
		sigs[fmt.Sprintf("ed25519:%d", i)] = base64.RawStdEncoding.EncodeToString(ed25519.Sign(sk, []byte{byte(i)}))
	}
	for _, pad := range []int{0, 50000} {
		signed := map[string]any{"mxid": "@bob:b.example", "token": "tok", "padding": strings.Repeat("x", pad),
			"signatures": map[string]any{"id.example": sigs}}
		invite := scaleEvent(b, v, map[string]any{"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@alice:a.example", "room_id": room,
			"content": map[string]any{"membership": "invite", "third_party_invite": map[string]any{"display_name": "b", "signed": signed}}})
		for _, k := range []int{10, 100, 1000} {
			var keys []any
			for i := 0; i < k; i++ {
				keys = append(keys, map[string]string{"public_key": fmt.Sprintf("%043d", i)})
			}
			tpi := scaleEvent(b, v, map[string]any{"type": "m.room.third_party_invite", "state_key": "tok", "sender": "@alice:a.example", "room_id": room,
				"content": map[string]any{"display_name": "b", "key_validity_url": "https://x", "public_key": fmt.Sprintf("%043d", k), "public_keys": keys}})
			s, err := authrules.NewState(v, append(base[:2:2], tpi))
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("pad%d/%d", pad, k), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := s.Check(invite, nil); !authrules.Rejected(err) {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCheckAuthChainDeepScale: CheckAuthChain of n events each citing the one before
// (a chain of depth n, one event per level; the citations break rule 2.2 but every event is
// still decided in turn).
func BenchmarkCheckAuthChainDeepScale(b *testing.B) {
	v := scaleVersion(b, "10")
	room := "!r:a.example"
	for _, n := range []int{1000, 10000, 100000} {
		evs := []*pdu.Event{scaleEvent(b, v, map[string]any{"type": "m.room.create", "state_key": "", "sender": "@alice:a.example",
			"room_id": room, "content": map[string]any{"creator": "@alice:a.example", "room_version": "10"}})}
		for i := 1; i < n; i++ {
			evs = append(evs, scaleEvent(b, v, map[string]any{"type": "m.room.message", "sender": "@alice:a.example", "room_id": room,
				"content": map[string]any{}, "origin_server_ts": i, "auth_events": []string{evs[0].EventID, evs[i-1].EventID}}))
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := authrules.CheckAuthChain(v, evs, nil)
				if err != nil || res.Accepted != 1 || len(res.Order) != n {
					b.Fatal(err, res.Accepted)
				}
			}
		})
	}
}

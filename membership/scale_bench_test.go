package membership

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// scaleRoom returns the state of a v10 restricted room with n joined users of a.example, every
// one able to invite (users_default 50 = invite): the worst case for choosing an authoriser.
// Events are parsed, not signed (the decision does not verify signatures).
func scaleRoom(b *testing.B, n int) *authrules.State {
	b.Helper()
	v := mustVersion(b, "10")
	var events []*pdu.Event
	add := func(typ, stateKey, sender, content string) {
		raw, _ := json.Marshal(map[string]any{
			"room_id": "!scale:a.example", "type": typ, "state_key": stateKey, "sender": sender,
			"content": json.RawMessage(content), "depth": len(events) + 1, "origin_server_ts": 1,
			"prev_events": []string{}, "auth_events": []string{}, "hashes": map[string]string{"sha256": "x"},
			"signatures": map[string]any{},
		})
		ev, err := signing.ParseEvent(v, raw)
		if err != nil {
			b.Fatal(err)
		}
		events = append(events, ev)
	}
	add("m.room.create", "", "@alice:a.example", `{"creator":"@alice:a.example","room_version":"10"}`)
	add("m.room.member", "@alice:a.example", "@alice:a.example", `{"membership":"join"}`)
	add("m.room.power_levels", "", "@alice:a.example", `{"users":{"@alice:a.example":100},"users_default":50,"invite":50}`)
	add("m.room.join_rules", "", "@alice:a.example", `{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!space:a.example"}]}`)
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("@u%07d:a.example", n-i) // in reverse order
		add("m.room.member", u, u, `{"membership":"join"}`)
	}
	s, err := authrules.NewState(v, events)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkDecideJoinScale: DecideJoin for a restricted join in rooms of 1,000 to 100,000
// joined users who can all authorise it. The work per decision grows as n log n (the able
// users are sorted to pick the authoriser), so ns/op should grow about tenfold, plus a little,
// per row: SECURITY.md ("Resource exhaustion") records the measured figures.
func BenchmarkDecideJoinScale(b *testing.B) {
	rooms := KnownRooms{"!space:a.example": {"@zed:z.example": "join"}}
	for _, n := range []int{1000, 10000, 100000} {
		s := scaleRoom(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := DecideJoin(JoinRequest{State: s, UserID: "@zed:z.example", ResidentServer: "a.example", Rooms: rooms})
				if err != nil || d.AuthorisingUser != "@alice:a.example" {
					b.Fatalf("%+v %v", d, err)
				}
			}
		})
	}
}

// BenchmarkStateCheckJoinScale: State.Check of a join in the same rooms: constant work
// whatever the number of members.
func BenchmarkStateCheckJoinScale(b *testing.B) {
	v := mustVersion(b, "10")
	raw := []byte(`{"room_id":"!scale:a.example","type":"m.room.member","state_key":"@zed:z.example",
		"sender":"@zed:z.example","content":{"membership":"join","join_authorised_via_users_server":"@alice:a.example"},
		"depth":9,"origin_server_ts":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},
		"signatures":{"a.example":{"ed25519:1":"x"},"z.example":{"ed25519:1":"x"}}}`)
	join, err := signing.ParseEvent(v, raw)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1000, 10000, 100000} {
		s := scaleRoom(b, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Check(join, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// creatorsRoom returns the state of a v12 restricted room whose create event names k
// additional creators (about 5,000 fill a 65,536-byte event), with n joined users of
// a.example who can all invite.
func creatorsRoom(b *testing.B, k, n int) *authrules.State {
	b.Helper()
	v := mustVersion(b, "12")
	parse := func(fields map[string]any) *pdu.Event {
		base := map[string]any{
			"depth": 1, "origin_server_ts": 1, "prev_events": []string{}, "auth_events": []string{},
			"hashes": map[string]string{"sha256": "x"}, "signatures": map[string]any{},
		}
		for key, val := range fields {
			base[key] = val
		}
		raw, _ := json.Marshal(base)
		ev, err := signing.ParseEvent(v, raw)
		if err != nil {
			b.Fatal(err)
		}
		return ev
	}
	extra := make([]string, k)
	for i := range extra {
		extra[i] = fmt.Sprintf("@%d:x", i)
	}
	create := parse(map[string]any{"type": "m.room.create", "state_key": "", "sender": "@alice:z.example",
		"content": map[string]any{"room_version": "12", "additional_creators": extra}})
	room := "!" + create.EventID[1:]
	events := []*pdu.Event{create,
		parse(map[string]any{"type": "m.room.power_levels", "state_key": "", "sender": "@alice:z.example", "room_id": room,
			"content": map[string]any{"users_default": 50, "invite": 50}}),
		parse(map[string]any{"type": "m.room.join_rules", "state_key": "", "sender": "@alice:z.example", "room_id": room,
			"content": map[string]any{"join_rule": "restricted", "allow": []any{map[string]any{"type": "m.room_membership", "room_id": "!space:a.example"}}}}),
	}
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("@u%07d:a.example", i)
		events = append(events, parse(map[string]any{"type": "m.room.member", "state_key": u, "sender": u, "room_id": room,
			"content": map[string]any{"membership": "join"}}))
	}
	s, err := authrules.NewState(v, events)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkCreatorsScale: DecideJoin, Authorisers and AuthorisedServers in a v12 room of
// 10,000 able members whose create event names k additional creators: the work per member
// must not grow with k.
func BenchmarkCreatorsScale(b *testing.B) {
	rooms := KnownRooms{"!space:a.example": {"@zed:z.example": "join"}}
	for _, k := range []int{50, 500, 5000} {
		s := creatorsRoom(b, k, 10000)
		b.Run(fmt.Sprintf("DecideJoin/%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := DecideJoin(JoinRequest{State: s, UserID: "@zed:z.example", ResidentServer: "a.example", Rooms: rooms})
				if err != nil || d.AuthorisingUser != "@u0000000:a.example" {
					b.Fatalf("%+v %v", d, err)
				}
			}
		})
		b.Run(fmt.Sprintf("Authorisers/%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(Authorisers(s, "a.example")) != 10000 {
					b.Fatal("wrong authorisers")
				}
			}
		})
		b.Run(fmt.Sprintf("AuthorisedServers/%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(AuthorisedServers(s)) != 1 {
					b.Fatal("wrong servers")
				}
			}
		})
	}
}

// BenchmarkConditionsScale: DecideJoin in a restricted v10 room whose join rules hold n allow
// conditions naming rooms the resident does not know (n = 1,200 fills an event): every
// condition is read and evaluated, and the answer (400 M_UNABLE_TO_AUTHORISE_JOIN) names them.
func BenchmarkConditionsScale(b *testing.B) {
	v := mustVersion(b, "10")
	for _, n := range []int{12, 120, 1200} {
		var allow []any
		for i := 0; i < n; i++ {
			allow = append(allow, map[string]string{"type": ConditionRoomMembership, "room_id": fmt.Sprintf("!%d:x", i)})
		}
		bl := buildRoom(b, v, roomSpec{Creator: "@alice:a.example",
			JoinRules: json.RawMessage(mustJSON(b, map[string]any{"join_rule": "restricted", "allow": allow}))})
		s := bl.stateOf()
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecideJoin(JoinRequest{State: s, UserID: "@zed:z.example", ResidentServer: "a.example"}); !errors.Is(err, ErrUnverifiable) {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStrippedStateScale: CheckStrippedState of n entries that are not events of the
// room version (a request body of n small values): each is parsed once, past MaxStrippedState
// without a report.
func BenchmarkStrippedStateScale(b *testing.B) {
	v := mustVersion(b, "12")
	for _, n := range []int{1000, 10000, 100000} {
		entries := make([]json.RawMessage, n)
		for i := range entries {
			entries[i] = json.RawMessage(`{"type":"m.room.create","state_key":""}`)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, problems := CheckStrippedState(v, "!r:x", entries, nil); len(problems) != MaxStrippedState+1 {
					b.Fatal(len(problems))
				}
			}
		})
	}
}

func mustJSON(b *testing.B, x any) []byte {
	raw, err := json.Marshal(x)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

package membership

import (
	"encoding/json"
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

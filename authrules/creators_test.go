package authrules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// TestManyCreators: a v12 create event naming more additional creators than linearCreators,
// with duplicates and invalid entries, gives the creators in order without repeats (as the
// linear search did), and PowerLevels.IsCreator knows each of them and no one else.
func TestManyCreators(t *testing.T) {
	v := mustVersion(t, "12")
	for _, n := range []int{0, linearCreators - 1, linearCreators, linearCreators + 1, 3 * linearCreators} {
		var extra []any
		want := []string{"@alice:a.example"}
		for i := 0; i < n; i++ {
			u := fmt.Sprintf("@c%d:x", i)
			// Each creator twice (the second time after others), the sender again, junk.
			extra = append(extra, u, "@alice:a.example", 7, "not a user")
			if i > 0 {
				extra = append(extra, fmt.Sprintf("@c%d:x", i-1))
			}
			want = append(want, u)
		}
		raw, _ := json.Marshal(map[string]any{
			"type": "m.room.create", "state_key": "", "sender": "@alice:a.example", "depth": 1,
			"origin_server_ts": 1, "prev_events": []string{}, "auth_events": []string{},
			"hashes": map[string]string{"sha256": "x"}, "signatures": map[string]any{},
			"content": map[string]any{"room_version": "12", "additional_creators": extra},
		})
		create, err := signing.ParseEvent(v, raw)
		if err != nil {
			t.Fatal(err)
		}
		s, err := NewState(v, []*pdu.Event{create})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Creators(); !reflect.DeepEqual(got, want) {
			t.Fatalf("%d: Creators() = %v, want %v", n, got, want)
		}
		pl := s.PowerLevels()
		for _, u := range append(slices.Clone(want), "@bob:b.example", fmt.Sprintf("@c%d:x", n), "") {
			if got, isWant := pl.IsCreator(u), slices.Contains(want, u); got != isWant {
				t.Errorf("%d: IsCreator(%q) = %v", n, u, got)
			}
			if got, isWant := pl.UserLevel(u) == InfiniteLevel, slices.Contains(want, u); got != isWant {
				t.Errorf("%d: UserLevel(%q) = %d", n, u, pl.UserLevel(u))
			}
		}
	}
}

package claimsd

import (
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func TestRoomsBuild(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		r := buildRoom(t, id, "")
		s, err := authrules.NewState(r.v, r.state())
		if err != nil {
			t.Fatalf("v%s: %v", id, err)
		}
		if err := s.Check(r.msg, nil); err != nil {
			t.Errorf("v%s state check msg: %v", id, err)
		}
		if err := authrules.Check(r.v, r.msg, r.authOf(r.msg), nil); err != nil {
			t.Errorf("v%s check msg: %v", id, err)
		}
		o := buildRoom(t, id, "!other:a.example")
		if o.id == r.id {
			t.Errorf("v%s: other room has the same id %s", id, r.id)
		}
	}
}

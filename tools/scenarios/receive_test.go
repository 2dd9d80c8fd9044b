package scenarios

import (
	"testing"
)

// TestSetup builds the base room in every version: every server accepts every event.
func TestSetup(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := newRoom(t, ver, "invite", "b.example", "c.example")
			r.inviteAndJoin(t, "@mod:b.example")
			r.inviteAndJoin(t, "@carol:c.example")
			for _, s := range r.f.servers {
				if got := s.State(t).Membership("@carol:c.example"); got != "join" {
					t.Errorf("%s: carol is %q", s.name, got)
				}
			}
		})
	}
}

package claimse

import (
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// pdu.CreateEventID's doc.
func TestCreateEventID(t *testing.T) {
	cases := []struct {
		name, quote, version, roomID, want string
		ok                                 bool
	}{
		{"v12", "the room ID with the sigil `$` instead of `!`", "12", "!abcDEF_-123", "$abcDEF_-123", true},
		{"v12 not a hash", "It does not check that the rest is an event ID's hash", "12", "!x:a.example", "$x:a.example", true},
		{"v12 two bytes", "`!` followed by something", "12", "!a", "$a", true},
		{"v12 bang only", "a room ID that is not `!` followed by something", "12", "!", "", false},
		{"v12 empty", "a room ID that is not `!` followed by something", "12", "", "", false},
		{"v12 dollar", "a room ID that is not `!` followed by something", "12", "$abc", "", false},
	}
	for _, id := range claimkit.VersionIDs()[:11] {
		cases = append(cases, struct {
			name, quote, version, roomID, want string
			ok                                 bool
		}{"v" + id, "reports false for a version whose room IDs do not name their create event (v1-11)", id, "!abc:a.example", "", false})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := pdu.CreateEventID(claimkit.Ver(t, c.version), c.roomID)
			if got != c.want || ok != c.ok {
				t.Errorf("%q: CreateEventID(%s, %q) = %q, %v; want %q, %v", c.quote, c.version, c.roomID, got, ok, c.want, c.ok)
			}
		})
	}
	// "the inverse of [Event.Room] for a create event"
	evs := roomState(t, "12", nil, "")
	create := evs[0]
	got, ok := pdu.CreateEventID(claimkit.Ver(t, "12"), create.Room())
	if !ok || got != create.EventID {
		t.Errorf("CreateEventID(Room()) = %q, %v; want %q", got, ok, create.EventID)
	}
	if evs[1].Room() != create.Room() {
		t.Errorf("member's room %q, create's %q", evs[1].Room(), create.Room())
	}
}

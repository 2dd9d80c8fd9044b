package authrules_test

import (
	"strconv"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/roomversion"
)

// A key given twice inside users, events or notifications counts with its last occurrence
// (docs/decisions.md pdu "the last duplicate wins", redaction 5), as at the top level of the
// content and as pdu.Parse's canonical form of the same event reads it.
func TestParsePowerLevelsNestedDuplicateLastWins(t *testing.T) {
	cases := []struct {
		content, user, event, notif string
		want                        int64
		from                        int
	}{
		{`{"users":{"@bob:b.example":null,"@bob:b.example":50}}`, "@bob:b.example", "", "", 50, 1},
		{`{"events":{"m.room.name":"x","m.room.name":50}}`, "", "m.room.name", "", 50, 1},
		{`{"notifications":{"room":null,"room":7}}`, "", "", "room", 7, 6},
		{`{"ban":null,"ban":50}`, "", "", "", 50, 1}, // top level: already last-wins
	}
	for _, v := range roomversion.All() {
		n, _ := strconv.Atoi(v.ID)
		for _, c := range cases {
			if n < c.from {
				continue
			}
			pl, err := authrules.ParsePowerLevels(v, []byte(c.content))
			if err != nil {
				t.Errorf("v%s %s: %v", v.ID, c.content, err)
				continue
			}
			var got int64
			switch {
			case c.user != "":
				got = pl.UserLevel(c.user)
			case c.event != "":
				got = pl.EventLevel(c.event, true)
			case c.notif != "":
				got = pl.NotificationLevel(c.notif)
			default:
				got = pl.BanLevel()
			}
			if got != c.want {
				t.Errorf("v%s %s: level %d, want %d", v.ID, c.content, got, c.want)
			}
		}
	}
}

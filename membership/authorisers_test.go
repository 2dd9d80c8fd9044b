package membership

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
)

// referenceInviters is inviters as first written (4ad7809): the joined users in sorted
// order, those reaching the invite level, sorted by level then user ID.
func referenceInviters(s *authrules.State) []ranked {
	pl := s.PowerLevels()
	invite := pl.InviteLevel()
	var out []ranked
	for _, u := range s.Members(pdu.MembershipJoin) {
		if level := pl.UserLevel(u); reaches(pl, u, level, "invite", invite) {
			out = append(out, ranked{u, level})
		}
	}
	slices.SortFunc(out, func(a, b ranked) int {
		if c := byLevel(pl, a, b); c != 0 {
			return c
		}
		return strings.Compare(a.user, b.user)
	})
	return out
}

// referenceAuthorisers is Authorisers as first written.
func referenceAuthorisers(s *authrules.State, server string) []string {
	var out []string
	for _, c := range referenceInviters(s) {
		if serverOf(c.user) == server {
			out = append(out, c.user)
		}
	}
	return out
}

// referenceAuthorisedServers is AuthorisedServers as first written: every able user ranked,
// the first of each server taken, the servers sorted by their best user's level then name.
func referenceAuthorisedServers(s *authrules.State) []string {
	pl := s.PowerLevels()
	best := map[string]ranked{}
	var out []string
	for _, c := range referenceInviters(s) {
		if _, ok := best[serverOf(c.user)]; !ok {
			best[serverOf(c.user)] = c
			out = append(out, serverOf(c.user))
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		if c := byLevel(pl, best[a], best[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}

// TestAuthoriserChoiceIsTheSorted: Authorisers, the single pass DecideJoin uses
// (firstAuthoriser) and AuthorisedServers give what their first forms gave, on random rooms of versions 9
// (levels as strings, beyond int64 included), 10 and 12 (creators, infinite), with ties.
func TestAuthoriserChoiceIsTheSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	found, multi := 0, 0
	servers := []string{"a.example", "b.example", "c.example:8448"}
	levels := []any{0, 10, 50, 50, 100, -5, "50", " 70", "99999999999999999999", "99999999999999999998", "-99999999999999999999"}
	for i := 0; i < 300; i++ {
		vid := []string{"9", "10", "12"}[i%3]
		v := mustVersion(t, vid)
		users := map[string]any{}
		members := map[string]string{}
		var additional []string
		for j := 0; j < 4+r.IntN(24); j++ {
			u := fmt.Sprintf("@u%d:%s", r.IntN(30), servers[r.IntN(len(servers))])
			members[u] = []string{"join", "join", "join", "leave", "invite", "ban"}[r.IntN(6)]
			l := levels[r.IntN(len(levels))]
			if _, isString := l.(string); isString && vid != "9" {
				l = 50
			}
			if vid == "12" && r.IntN(5) == 0 {
				additional = append(additional, u)
				continue // creators may not be in users
			}
			users[u] = l
		}
		pl := map[string]any{"users": users, "invite": []any{0, 50, 60}[r.IntN(3)]}
		if vid == "9" && r.IntN(3) == 0 {
			pl["invite"] = "99999999999999999998"
		}
		if vid != "12" {
			users["@alice:a.example"] = 100
		}
		plJSON, _ := json.Marshal(pl)
		b := buildRoom(t, v, roomSpec{Creator: "@alice:a.example", AdditionalCreators: additional, PowerLevels: plJSON, Members: members})
		s := b.stateOf()
		for _, srv := range append(servers, "d.example") {
			all := referenceAuthorisers(s, srv)
			if got := Authorisers(s, srv); !slices.Equal(got, all) {
				t.Fatalf("case %d (v%s) %s: Authorisers %q, first form %q", i, vid, srv, got, all)
			}
			first, ok := firstAuthoriser(s, srv)
			if ok != (len(all) > 0) || (ok && first != all[0]) {
				t.Fatalf("case %d (v%s) %s: single pass %q %v, sorted %q", i, vid, srv, first, ok, all)
			}
			if ok {
				found++
			}
			if len(all) > 2 {
				multi++
			}
		}
		if got, want := AuthorisedServers(s), referenceAuthorisedServers(s); !slices.Equal(got, want) {
			t.Fatalf("case %d: AuthorisedServers %q, want %q", i, got, want)
		}
	}
	if found < 300 || multi < 100 {
		t.Fatalf("too few interesting cases: %d with an authoriser, %d with three or more", found, multi)
	}
}

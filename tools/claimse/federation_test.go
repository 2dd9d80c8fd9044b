package claimse

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// fedRule is the m.federate rule's number: 3, 4 in room version 12.
func fedRule(id string) string {
	if id == "12" {
		return "4"
	}
	return "3"
}

func state(t *testing.T, id string, fed M, jr string, extra ...string) *authrules.State {
	t.Helper()
	s, err := authrules.NewState(claimkit.Ver(t, id), roomState(t, id, fed, jr, extra...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wantNotFederated checks a membership refusal: 403 M_FORBIDDEN, ErrNotFederated, the authrules
// rejection with rule 3 (v12: 4) as its cause.
func wantNotFederated(t *testing.T, id string, err error) {
	t.Helper()
	var me *membership.Error
	if !errors.As(err, &me) {
		t.Fatalf("v%s: %v, want a *membership.Error", id, err)
	}
	if me.Status != 403 || me.ErrCode != "M_FORBIDDEN" || !errors.Is(err, membership.ErrNotFederated) {
		t.Errorf("v%s: %d %s %v, want 403 M_FORBIDDEN ErrNotFederated", id, me.Status, me.ErrCode, err)
	}
	var rej *authrules.Rejection
	if !errors.As(err, &rej) || rej.Rule != fedRule(id) || !errors.Is(err, authrules.ErrNotFederated) {
		t.Errorf("v%s: cause %v, want the authrules rejection of rule %s", id, rej, fedRule(id))
	}
}

var noFed = M{"m.federate": false}

// decisions.md (membership) 20; authrules.State.CheckFederation's doc.
func TestCheckFederation(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		cases := []struct {
			name, quote string
			fed         M
			user        string
			wantRule    string // "" for nil
		}{
			{"remote user", "a *Rejection matching ErrNotFederated with the rule's number", noFed, "@bob:b.example", fedRule(id)},
			{"creator's server", "returns nil when the rule lets userID's server send events", noFed, "@mod:a.example", ""},
			{"string false", `only JSON false counts (a string "false" federates)`, M{"m.federate": "false"}, "@bob:b.example", ""},
			{"true", "m.federate not false", M{"m.federate": true}, "@bob:b.example", ""},
			{"absent", "m.federate not false", nil, "@bob:b.example", ""},
		}
		for _, c := range cases {
			t.Run("v"+id+"/"+c.name, func(t *testing.T) {
				s := state(t, id, c.fed, "jr_public")
				err := s.CheckFederation(c.user)
				if c.wantRule == "" {
					if err != nil {
						t.Fatalf("%q: %v, want nil", c.quote, err)
					}
					return
				}
				var rej *authrules.Rejection
				if !errors.As(err, &rej) || rej.Rule != c.wantRule || !errors.Is(err, authrules.ErrNotFederated) || !errors.Is(err, authrules.ErrRejected) {
					t.Fatalf("%q: %v, want rule %s ErrNotFederated", c.quote, err, c.wantRule)
				}
			})
		}
	}
	t.Run("nil State", func(t *testing.T) {
		// "A nil State gives an error matching ErrInvalidState."
		var s *authrules.State
		if err := s.CheckFederation("@bob:b.example"); !errors.Is(err, authrules.ErrInvalidState) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("no create", func(t *testing.T) {
		// "also when the state has no create event"
		evs := roomState(t, "9", noFed, "jr_public")
		s, err := authrules.NewState(claimkit.Ver(t, "9"), evs[1:])
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckFederation("@bob:b.example"); err != nil {
			t.Fatalf("%v, want nil", err)
		}
	})
}

// "exactly as Check rejects such a user's event" (State.CheckFederation).
func TestCheckFederationAsCheck(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			evs := roomState(t, id, noFed, "jr_public", `"bob_join"`)
			s, err := authrules.NewState(claimkit.Ver(t, id), evs[:len(evs)-1])
			if err != nil {
				t.Fatal(err)
			}
			bob := evs[len(evs)-1]
			checkErr := s.Check(bob, nil)
			fedErr := s.CheckFederation("@bob:b.example")
			var r1, r2 *authrules.Rejection
			if !errors.As(checkErr, &r1) || !errors.As(fedErr, &r2) {
				t.Fatalf("Check %v, CheckFederation %v", checkErr, fedErr)
			}
			if r1.Rule != r2.Rule || r1.Err != r2.Err || r1.Severity != r2.Severity || r1.Reason != r2.Reason {
				t.Errorf("Check %+v, CheckFederation %+v", r1, r2)
			}
		})
	}
}

// membership.DecideJoin / DecideKnock / CheckTransition docs; decisions.md (membership) 20.
func TestMembershipNotFederated(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			pub := state(t, id, noFed, "jr_public")
			// "for a user of another server than the create event's: 403 ... ErrNotFederated"
			_, err := membership.DecideJoin(membership.JoinRequest{State: pub, UserID: "@bob:b.example", ResidentServer: "a.example"})
			wantNotFederated(t, id, err)
			// "It comes first, before a ban"
			banned := state(t, id, noFed, "jr_public", `"bob_ban"`)
			_, err = membership.DecideJoin(membership.JoinRequest{State: banned, UserID: "@bob:b.example", ResidentServer: "a.example"})
			wantNotFederated(t, id, err)
			// "before ... the join rule": invite-only room
			inv := state(t, id, noFed, "jr_invite")
			_, err = membership.DecideJoin(membership.JoinRequest{State: inv, UserID: "@bob:b.example", ResidentServer: "a.example"})
			wantNotFederated(t, id, err)
			// the creator's server joins a public room
			if _, err := membership.DecideJoin(membership.JoinRequest{State: pub, UserID: "@mod:a.example", ResidentServer: "a.example"}); err != nil {
				t.Errorf("local join: %v", err)
			}
			// "only JSON false counts"
			str := state(t, id, M{"m.federate": "false"}, "jr_public")
			if _, err := membership.DecideJoin(membership.JoinRequest{State: str, UserID: "@bob:b.example", ResidentServer: "a.example"}); err != nil {
				t.Errorf(`"false" string: %v`, err)
			}
			// MakeJoin goes through DecideJoin ("DecideJoin (and so MakeJoin)") - checked on DecideJoin.

			// DecideKnock: before the knock join rule check, every version (knocking or not).
			kn := state(t, id, noFed, "jr_knock")
			wantNotFederated(t, id, membership.DecideKnock(kn, "@bob:b.example"))
			wantNotFederated(t, id, membership.DecideKnock(banned, "@bob:b.example"))

			// CheckTransition: the sender counts.
			_, err = membership.CheckTransition(pub, "@bob:b.example", "@bob:b.example", "join")
			wantNotFederated(t, id, err)
			_, err = membership.CheckTransition(pub, "@bob:b.example", "@alice:a.example", "leave")
			wantNotFederated(t, id, err)
			// a local sender inviting a remote user: rule 3 reads the sender only.
			if _, err := membership.CheckTransition(pub, "@alice:a.example", "@bob:b.example", "invite"); errors.Is(err, membership.ErrNotFederated) {
				t.Errorf("local sender invites remote target: %v", err)
			}
		})
	}
}

// DecideJoin's doc: "a malformed request (no state, an invalid user ID) is a 400
// M_INVALID_PARAM with reason ErrBadInput" also in a room that does not federate, and the
// request checks (Origin, Ver) come "first".
func TestNotFederatedOrder(t *testing.T) {
	s := state(t, "9", noFed, "jr_public")
	_, err := membership.DecideJoin(membership.JoinRequest{State: s, UserID: "bob", ResidentServer: "a.example"})
	if !errors.Is(err, membership.ErrBadInput) {
		t.Errorf("invalid user ID: %v, want ErrBadInput", err)
	}
	_, err = membership.DecideJoin(membership.JoinRequest{State: s, UserID: "@bob:b.example", ResidentServer: "a.example", Ver: []string{"1"}})
	var me *membership.Error
	if !errors.As(err, &me) || me.ErrCode != "M_INCOMPATIBLE_ROOM_VERSION" {
		t.Errorf("unsupported version first: %v", err)
	}
	_, err = membership.DecideJoin(membership.JoinRequest{State: s, UserID: "@bob:b.example", ResidentServer: "a.example", Origin: "c.example"})
	if errors.Is(err, membership.ErrNotFederated) || !errors.As(err, &me) || me.Status != 403 {
		t.Errorf("user not of origin first: %v", err)
	}
}

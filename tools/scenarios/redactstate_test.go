package scenarios

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
)

// redactState has alice redact a state event; every server applies it.
func redactState(t *testing.T, r *room, target *pdu.Event) {
	t.Helper()
	a := r.f.servers["a.example"]
	raw := a.build(t, draft{Type: pdu.TypeRedaction, Sender: r.creator, Redacts: target.EventID, Content: map[string]any{}})
	for _, name := range r.f.order("a.example") {
		s := r.f.servers[name]
		if _, ok := s.store[target.EventID]; !ok {
			continue
		}
		rc := s.receive(t, "a.example", raw)
		if rc.Outcome != Accepted || rc.Redaction != redaction.Apply {
			t.Fatalf("%s: redaction of %s: %v %v %v", name, target.Type, rc.Outcome, rc.Redaction, rc.Err)
		}
	}
}

// TestRedactedRestrictedJoin: the rationale of room version 9 (rooms/v9.md): a restricted
// join that was redacted must still pass the authorization rules, so v9 keeps
// join_authorised_via_users_server; in v8 the redacted join fails rule 4.3.5.2. A server
// that joins later and receives the redacted join in the auth chain sees exactly that, and
// the redacted join keeps its event ID and its signatures.
func TestRedactedRestrictedJoin(t *testing.T) {
	for _, ver := range restrictedVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := restrictedRoom(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			v := r.f.v
			join, raw := joinOver(t, r, b, c, "@carol:c.example", space)
			for _, s := range []*server{b, a, c} {
				if rc := s.receive(t, "b.example", raw); rc.Outcome != Accepted {
					t.Fatal(rc.Outcome, rc.Err)
				}
			}
			redactState(t, r, join)
			served := a.store[join.EventID]
			if served.EventID != join.EventID {
				t.Fatal("event ID")
			}
			_, kept := served.ContentString(signing.ContentJoinAuthorisedViaUsersServer)
			if kept != v.Redaction.KeepJoinAuthorisedViaUsersServer {
				t.Errorf("join_authorised_via_users_server kept: %v", kept)
			}
			// Signatures survive: at most the content hash fails (in v9-10 nothing of the join
			// template's content or top level is removed, so not even that).
			if err := signing.VerifyEvent(v, served.Raw(), r.f.keys); signing.VerdictOf(err) > signing.VerdictRedact {
				t.Errorf("VerifyEvent of the redacted join: %v", err)
			}
			// The redacted join against its auth events, as a server receiving it later does.
			opts := authrules.Options{Keys: r.f.keys}
			if v.Format.RoomIDFromCreateEvent {
				opts.Create = a.createEvent()
			}
			err := authrules.CheckWithOptions(v, served, authEventsOf(t, a, served.Raw()), opts)
			if v.Redaction.KeepJoinAuthorisedViaUsersServer {
				if err != nil {
					t.Errorf("v9+: the redacted restricted join is rejected: %v", err)
				}
			} else if ruleOf(err) != "2.2" || !errors.Is(err, authrules.ErrAuthEventUnexpected) {
				// Without join_authorised_via_users_server the authoriser's membership is no
				// longer one the auth events selection picks: rule 2.2 rejects the join before
				// rule 4.3.5.2 could.
				t.Errorf("v8: the redacted restricted join: %v, want rule 2.2", err)
			}
			// A newcomer's view of the room's auth chain, the join in its redacted form.
			events := a.State(t).Events()
			seen := map[string]bool{}
			var all []*pdu.Event
			var walk func(*pdu.Event)
			walk = func(e *pdu.Event) {
				if e == nil || seen[e.EventID] {
					return
				}
				seen[e.EventID] = true
				all = append(all, e)
				for _, id := range e.AuthEvents {
					walk(a.store[id])
				}
			}
			for _, e := range events {
				walk(e)
			}
			res, err := authrules.CheckAuthChain(v, all, &authrules.ChainOptions{Keys: r.f.keys})
			if err != nil {
				t.Fatal(err)
			}
			wantRejected := 0
			if !v.Redaction.KeepJoinAuthorisedViaUsersServer {
				wantRejected = 1
			}
			if res.Rejected != wantRejected {
				t.Errorf("CheckAuthChain: %d rejected (%v), want %d", res.Rejected, res.ByRule, wantRejected)
			}
		})
	}
}

// TestRedactedJoinRules: v8+ keep `allow` of m.room.join_rules, so a restricted room stays
// joinable through its conditions after its join rules are redacted.
func TestRedactedJoinRules(t *testing.T) {
	for _, ver := range restrictedVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := restrictedRoom(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			redactState(t, r, a.current[sk(pdu.TypeJoinRules, "")])
			jr := b.State(t).JoinRules()
			if jr.Rule != "restricted" || len(jr.Allow) != 1 {
				t.Fatalf("the redacted join rules read %+v", jr)
			}
			_, raw := joinOver(t, r, b, c, "@carol:c.example", space)
			for _, s := range []*server{b, a, c} {
				if rc := s.receive(t, "b.example", raw); rc.Outcome != Accepted || rc.Rule != ruleNo(r.f.v, "4.3.5.3") {
					t.Errorf("%s: %v rule %s %v", s.name, rc.Outcome, rc.Rule, rc.Err)
				}
			}
		})
	}
}

// TestRedactedPowerLevels: redacting m.room.power_levels keeps the levels the algorithm
// keeps: before v11 `invite` is dropped (so the invite level falls to its default, 0) and
// from v11 it is kept; ban, kick, redact, users and the defaults are kept in every version.
// The moderator's kick, citing the redacted power levels, passes everywhere.
func TestRedactedPowerLevels(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			v := r.f.v
			redactState(t, r, a.current[sk(pdu.TypePowerLevels, "")])
			pl := c.State(t).PowerLevels()
			wantInvite := int64(0)
			if v.Redaction.KeepPowerLevelsInvite {
				wantInvite = 50
			}
			if pl.InviteLevel() != wantInvite || pl.KickLevel() != 50 || pl.BanLevel() != 50 || pl.RedactLevel() != 50 || pl.UserLevel("@mod:b.example") != 50 {
				t.Errorf("levels after redaction: invite %d kick %d ban %d redact %d mod %d", pl.InviteLevel(), pl.KickLevel(), pl.BanLevel(), pl.RedactLevel(), pl.UserLevel("@mod:b.example"))
			}
			// carol (0) invites erin: allowed only where the invite level fell to 0.
			raw := c.build(t, draft{Type: pdu.TypeMember, Sender: "@carol:c.example", StateKey: str("@erin:c.example"), Content: member("invite")})
			rc := a.receive(t, "c.example", raw)
			if v.Redaction.KeepPowerLevelsInvite {
				if rc.Outcome != RejectedAuth || !errors.Is(rc.Err, authrules.ErrInsufficientPower) {
					t.Errorf("v11+: carol's invite: %v %v", rc.Outcome, rc.Err)
				}
			} else if rc.Outcome != Accepted {
				t.Errorf("carol's invite: %v %v", rc.Outcome, rc.Err)
			} else {
				for _, s := range []*server{b, c} {
					s.receive(t, "c.example", raw)
				}
			}
			// The same decision through membership.CheckTransition.
			_, err := membership.CheckTransition(b.State(t), "@carol:c.example", "@gus:c.example", "invite")
			if (err == nil) == v.Redaction.KeepPowerLevelsInvite {
				t.Errorf("CheckTransition of carol's invite: %v", err)
			}
			b.send(t, draft{Type: pdu.TypeMember, Sender: "@mod:b.example", StateKey: str("@carol:c.example"), Content: member("leave")})
		})
	}
}

// TestJoinAfterRedactedPowerLevels: a server joining a room whose power levels were redacted
// receives them redacted in the send_join response (their content hash fails, their
// signatures hold), keeps the redacted form and accepts the room.
func TestJoinAfterRedactedPowerLevels(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := newRoom(t, ver, "invite", "b.example")
			r.inviteAndJoin(t, "@mod:b.example")
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			redactState(t, r, a.current[sk(pdu.TypePowerLevels, "")])
			d := r.f.addServer("d.example")
			delete(r.f.servers, "d.example")
			inviteOver(t, r, d, "@dave:d.example")
			r.f.servers["d.example"] = d
			_, raw := joinOver(t, r, a, d, "@dave:d.example", nil)
			for _, s := range []*server{a, b, d} {
				if rc := s.receive(t, "a.example", raw); rc.Outcome != Accepted {
					t.Errorf("%s: %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			if d.State(t).PowerLevels().UserLevel("@mod:b.example") != 50 {
				t.Error("the joiner's power levels")
			}
		})
	}
}

package scenarios

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

// rawList converts events to the []json.RawMessage of invite_room_state.
func rawList(evs []*pdu.Event) []json.RawMessage {
	out := make([]json.RawMessage, len(evs))
	for i, e := range evs {
		out[i] = e.Raw()
	}
	return out
}

// inviteOver has alice invite user, whose server is not yet in the room, through PUT /invite:
// the invited server checks and countersigns the invite (SignInvite), a.example receives the
// countersigned invite and sends it to the other servers.
func inviteOver(t *testing.T, r *room, invitee *server, user string) *pdu.Event {
	t.Helper()
	a := r.f.servers["a.example"]
	raw := a.build(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str(user), Content: member("invite")})
	id, _ := signing.EventID(r.f.v, raw)
	stripped := membership.StrippedState(a.State(t))
	if len(stripped) == 0 || stripped[0].Type != pdu.TypeCreate {
		t.Fatalf("StrippedState: %d events, the first not the create event", len(stripped))
	}
	res, err := membership.SignInvite(membership.InviteRequest{
		RoomVersion: r.f.v, RoomID: r.f.roomID, EventID: id, Origin: "a.example", Event: raw,
		InviteRoomState: rawList(stripped), LocalServer: invitee.name, Key: invitee.key, Keys: r.f.keys,
	})
	if err != nil {
		t.Fatalf("SignInvite: %v", err)
	}
	if len(res.Warnings) != 0 || len(res.RoomState) != len(stripped) {
		t.Errorf("invite_room_state: %d of %d valid, warnings %v", len(res.RoomState), len(stripped), res.Warnings)
	}
	if res.Parsed.EventID != id {
		t.Errorf("SignInvite changed the event ID")
	}
	for _, e := range res.RoomState {
		if _, err := membership.StripEvent(e); err != nil {
			t.Errorf("StripEvent: %v", err)
		}
	}
	for _, name := range r.f.order("a.example") {
		if name == invitee.name {
			continue
		}
		if rc := r.f.servers[name].receive(t, "a.example", res.Event); rc.Outcome != Accepted {
			t.Fatalf("%s: invite %v %v", name, rc.Outcome, rc.Err)
		}
	}
	return res.Parsed
}

// TestInviteAndJoin: alice invites dave of d.example over /invite; dave joins through
// a.example by the invite (make_join, send_join), in every version.
func TestInviteAndJoin(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := newRoom(t, ver, "invite", "b.example")
			r.inviteAndJoin(t, "@mod:b.example")
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			d := r.f.addServer("d.example")
			inviteOver(t, r, d, "@dave:d.example")
			join, raw := joinOver(t, r, a, d, "@dave:d.example", nil)
			if join.ContentField(signing.ContentJoinAuthorisedViaUsersServer) != nil {
				t.Errorf("a join by invite names an authoriser")
			}
			for _, s := range []*server{a, b, d} {
				rc := s.receive(t, "a.example", raw)
				want := ruleNo(r.f.v, "4.3.4") // "If the join_rule is invite or knock then allow if membership state is invite or join"
				switch r.f.v.Auth.RuleSet {
				case "v1", "v3":
					want = "5.2.4" // rule 4 is m.room.aliases in v1-5
				case "v6":
					want = "4.2.4" // no aliases rule, and no join_authorised_via_users_server rule before v8
				}
				if rc.Outcome != Accepted || rc.Rule != want {
					t.Errorf("%s: %v rule %s %v (want rule %s)", s.name, rc.Outcome, rc.Rule, rc.Err, want)
				}
			}
			d.send(t, msg("@dave:d.example", "thanks"))
		})
	}
}

// knockRoom: a knock (or knock_restricted) room with the moderator joined.
func knockRoom(t testing.TB, ver, rule string) *room {
	r := newRoom(t, ver, rule, "b.example")
	r.inviteAndJoin(t, "@mod:b.example")
	return r
}

// TestKnock: frank of d.example knocks through b.example (make_knock, send_knock with
// knock_room_state), alice accepts the knock by inviting him, and he joins.
func TestKnock(t *testing.T) {
	for _, ver := range knockVersions {
		for _, rule := range []string{"knock", "knock_restricted"} {
			if rule == "knock_restricted" && !mustVersion(t, ver).Auth.KnockRestrictedJoinRule {
				continue
			}
			t.Run("v"+ver+"/"+rule, func(t *testing.T) {
				r := knockRoom(t, ver, rule)
				v := r.f.v
				a, b := r.f.servers["a.example"], r.f.servers["b.example"]
				d := r.f.addServer("d.example")
				user := "@frank:d.example"
				if err := membership.CheckMakeRequest(v, user, "d.example", []string{ver}); err != nil {
					t.Fatal(err)
				}
				st := b.State(t)
				ext := b.store[b.extremity]
				tmpl, err := membership.MakeKnock(st, user, membership.TemplateOptions{Origin: "b.example", OriginServerTS: r.f.now(), PrevEvents: []string{ext.EventID}, Depth: ext.Depth + 1})
				if err != nil {
					t.Fatalf("make_knock: %v", err)
				}
				if err := membership.CheckKnockTemplate(r.f.roomID, user, tmpl.Event); err != nil {
					t.Fatal(err)
				}
				signed, err := membership.SignTemplate(v, tmpl.Event, "d.example", r.f.now(), "", "d.example", d.key)
				if err != nil {
					t.Fatal(err)
				}
				id, _ := signing.EventID(v, signed)
				res, err := membership.SendKnock(membership.SendKnockRequest{State: st, RoomID: r.f.roomID, EventID: id, Origin: "d.example",
					Event: signed, Keys: r.f.keys, AuthEvents: authEventsOf(t, b, signed)})
				if err != nil {
					t.Fatalf("send_knock: %v", err)
				}
				var body struct {
					KnockRoomState []json.RawMessage `json:"knock_room_state"`
				}
				if err := json.Unmarshal(res.JSON(), &body); err != nil {
					t.Fatal(err)
				}
				valid, problems := membership.CheckStrippedState(v, r.f.roomID, body.KnockRoomState, r.f.keys)
				if len(problems) != 0 || len(valid) != len(body.KnockRoomState) {
					t.Errorf("knock_room_state: %v", problems)
				}
				// The knock reaches the room's servers.
				for _, s := range []*server{b, a} {
					if rc := s.receive(t, "b.example", signed); rc.Outcome != Accepted || rc.Rule != ruleNo(v, knockAllowRule(v)) {
						t.Errorf("%s: knock %v rule %s %v", s.name, rc.Outcome, rc.Rule, rc.Err)
					}
				}
				// Alice accepts the knock: an invite of frank.
				inv := inviteOver(t, r, d, user)
				if !membership.KnockAccepted(pdu.MembershipKnock, inv) {
					t.Error("KnockAccepted: false for an invite over a knock")
				}
				if tr, ok := membership.ClassifyMemberEvent(v, pdu.MembershipKnock, inv, rule); !ok || tr.Action != membership.ActionInvite {
					t.Errorf("ClassifyMemberEvent: %+v %v", tr, ok)
				}
				_, raw := joinOver(t, r, a, d, user, nil)
				for _, s := range []*server{a, b, d} {
					if rc := s.receive(t, "a.example", raw); rc.Outcome != Accepted {
						t.Errorf("%s: join %v %v", s.name, rc.Outcome, rc.Err)
					}
				}
				// A second knock by a joined user is refused by the resident (403).
				if _, err := membership.MakeKnock(a.State(t), user, membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1, PrevEvents: []string{a.extremity}, Depth: 99}); !errors.Is(err, membership.ErrKnockNotAllowed) {
					t.Errorf("knock by a joined user: %v", err)
				}
			})
		}
	}
}

// knockAllowRule is the rule that allows a knock: 4.7.3 of v8-11 ("If the sender's current
// membership is not ban, invite or join, allow").
func knockAllowRule(v interface{ AdditionalCreators() bool }) string { return "4.7.3" }

// TestTransitionsAgree: for every sender, target and new membership among users of every
// membership, membership.CheckTransition and the authorization rules (State.Check of the
// event) give the same verdict.
func TestTransitionsAgree(t *testing.T) {
	for _, ver := range allVersions {
		for _, rule := range []string{"invite", "public", "knock", "restricted", "knock_restricted"} {
			for _, levels := range []string{"even", "spread"} {
				v := mustVersion(t, ver)
				if !membership.JoinRuleSupported(v, rule) {
					continue
				}
				t.Run("v"+ver+"/"+rule+"/"+levels, func(t *testing.T) {
					r := newRoom(t, ver, rule, "b.example", "c.example")
					a, c := r.f.servers["a.example"], r.f.servers["c.example"]
					r.inviteAndJoin(t, "@mod:b.example")
					r.inviteAndJoin(t, "@carol:c.example")
					a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@erin:c.example"), Content: member("invite")})
					a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@frank:c.example"), Content: member("ban")})
					r.inviteAndJoin(t, "@hank:c.example")
					c.send(t, draft{Type: pdu.TypeMember, Sender: "@hank:c.example", StateKey: str("@hank:c.example"), Content: member("leave")})
					if membership.KnockAllowedByJoinRule(v, rule) {
						c.send(t, draft{Type: pdu.TypeMember, Sender: "@gina:c.example", StateKey: str("@gina:c.example"), Content: member("knock")})
					}
					if levels == "spread" {
						// Every threshold apart: invite 30, kick 40, ban 60; the moderator at 55 and
						// carol at 35, hank at 45 (left), erin at 65 (invited).
						pl := map[string]any{"@mod:b.example": 55, "@carol:c.example": 35, "@hank:c.example": 45, "@erin:c.example": 65}
						if !v.Auth.InfiniteCreatorPower {
							pl[r.creator] = 100
						}
						a.send(t, draft{Type: pdu.TypePowerLevels, Sender: r.creator, StateKey: str(""), Content: map[string]any{
							"users": pl, "invite": 30, "kick": 40, "ban": 60, "redact": 50, "state_default": 50, "events_default": 0, "users_default": 0,
						}})
					}
					st := a.State(t)
					users := []string{r.creator, "@mod:b.example", "@carol:c.example", "@erin:c.example", "@frank:c.example", "@gina:c.example", "@hank:c.example", "@ivan:c.example"}
					tos := []string{"join", "invite", "leave", "ban"}
					if v.Auth.Knocking {
						tos = append(tos, "knock")
					}
					// DecideJoin, as the resident a.example, against the rules on the join it leads to.
					inSpace := membership.KnownRooms{"!space:a.example": {}}
					for _, u := range users {
						inSpace["!space:a.example"][u] = "join"
					}
					for _, u := range users {
						d, derr := membership.DecideJoin(membership.JoinRequest{State: st, UserID: u, ResidentServer: "a.example", Rooms: inSpace})
						srv, _ := signing.ServerName(u)
						content := member("join")
						if derr == nil && d.AuthorisingUser != "" {
							content[signing.ContentJoinAuthorisedViaUsersServer] = d.AuthorisingUser
						}
						raw := r.f.servers[srv].build(t, draft{Type: pdu.TypeMember, Sender: u, StateKey: str(u), Content: content})
						if d.AuthorisingUser != "" {
							var err error
							if raw, err = signing.CountersignEvent(v, raw, "a.example", a.key); err != nil {
								t.Fatal(err)
							}
						}
						ev, err := signing.ParseEvent(v, raw)
						if err != nil {
							t.Fatal(err)
						}
						authErr := st.Check(ev, r.f.keys)
						if (derr == nil) != (authErr == nil) {
							t.Errorf("join of %s (from %q): DecideJoin %+v %v; auth rules %v", u, st.Membership(u), d, derr, authErr)
						}
						if v.Auth.Knocking {
							raw := r.f.servers[srv].build(t, draft{Type: pdu.TypeMember, Sender: u, StateKey: str(u), Content: member("knock")})
							ev, _ := signing.ParseEvent(v, raw)
							kerr := membership.DecideKnock(st, u)
							if authErr := st.Check(ev, r.f.keys); (kerr == nil) != (authErr == nil) {
								t.Errorf("knock of %s (from %q): DecideKnock %v; auth rules %v", u, st.Membership(u), kerr, authErr)
							}
						}
					}
					for _, sender := range users {
						for _, target := range users {
							for _, to := range tos {
								if to == "join" || to == "knock" {
									if sender != target {
										continue // the rules reject these whatever the state (4.3.2, 4.7.2)
									}
								}
								srv, _ := signing.ServerName(sender)
								s := r.f.servers[srv]
								raw := s.build(t, draft{Type: pdu.TypeMember, Sender: sender, StateKey: str(target), Content: member(to)})
								ev, err := signing.ParseEvent(v, raw)
								if err != nil {
									t.Fatal(err)
								}
								authErr := st.Check(ev, r.f.keys)
								tr, trErr := membership.CheckTransition(st, sender, target, to)
								if to == "join" && trErr == nil && tr.Authoriser {
									continue // CheckTransition does not check allow conditions: DecideJoin does
								}
								if (authErr == nil) != (trErr == nil) {
									t.Errorf("%s → %s %s (from %q): auth rules %v; CheckTransition %+v %v", sender, target, to, st.Membership(target), authErr, tr.Action, trErr)
								}
								if authErr == nil && trErr == nil && tr.Rule != authrules.MembershipRule(v, to) {
									t.Errorf("%s → %s %s: transition rule %s, MembershipRule %s", sender, target, to, tr.Rule, authrules.MembershipRule(v, to))
								}
								if authErr == nil {
									// An event the rules accept is a transition ClassifyMemberEvent knows,
									// the same CheckTransition found.
									ct, ok := membership.ClassifyMemberEvent(v, st.Membership(target), ev, rule)
									if !ok || (trErr == nil && (ct.Action != tr.Action || ct.Rule != tr.Rule)) {
										t.Errorf("%s → %s %s (from %q): ClassifyMemberEvent %+v %v, CheckTransition %+v", sender, target, to, st.Membership(target), ct.Action, ok, tr.Action)
									}
								}
							}
						}
					}
				})
			}
		}
	}
}

// TestKnockThenRestrictedJoin: in a knock_restricted room (v10+), a user who knocked and
// satisfies an allow condition joins through an authoriser without waiting for an invite:
// a knock is not an invite, and the join is allowed by rule 4.3.5.3.
func TestKnockThenRestrictedJoin(t *testing.T) {
	for _, ver := range []string{"10", "11", "12"} {
		t.Run("v"+ver, func(t *testing.T) {
			r := newRoom(t, ver, "knock_restricted", "b.example", "c.example")
			r.inviteAndJoin(t, "@mod:b.example")
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			c.send(t, draft{Type: pdu.TypeMember, Sender: "@carol:c.example", StateKey: str("@carol:c.example"), Content: member("knock")})
			d, err := membership.DecideJoin(membership.JoinRequest{State: b.State(t), UserID: "@carol:c.example", ResidentServer: "b.example", Rooms: space})
			if err != nil || d.Basis != membership.BasisCondition {
				t.Fatalf("DecideJoin: %+v %v", d, err)
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

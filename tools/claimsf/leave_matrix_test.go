package claimsf

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
	"github.com/roomproto/roomproto/tools/internal/claimroom"
)

// memberships are the memberships a user may hold before a leave ("" for none).
var memberships = []string{"", "invite", "join", "knock", "leave", "ban"}

// expectLeave is decisions.md (membership) 21 and 22 and DecideLeave's doc: m.federate false
// refuses a user of another server first (403 ErrNotFederated); invite and join may leave, knock
// from room version 7; ban is 403 ErrBanned; no membership, leave (and knock in v1-6) are 403
// ErrNotPossible.
func expectLeave(v roomversion.Version, federates, remote bool, m string) string {
	switch {
	case !federates && remote:
		return verdict(&membership.Error{Status: 403, ErrCode: membership.ErrCodeForbidden, Reason: membership.ErrNotFederated})
	case m == "invite" || m == "join" || (m == "knock" && v.Auth.Knocking):
		return "allow"
	case m == "ban":
		return verdict(&membership.Error{Status: 403, ErrCode: membership.ErrCodeForbidden, Reason: membership.ErrBanned})
	}
	return verdict(&membership.Error{Status: 403, ErrCode: membership.ErrCodeForbidden, Reason: membership.ErrNotPossible})
}

// matrixRoom is a room of version v with one user per (server, membership): @<m>:a.example
// (the resident's server, the room's creator's) and @<m>:d.example, built while the join rule
// is knock (v7+) or invite, then switched to joinRule. In a room that does not federate, the
// events d.example's users would send themselves cannot pass the rules: they are put into the
// state unauthorised (as is a knock in v1-6), the state a resident would hold had they come
// about otherwise.
func matrixRoom(t testing.TB, vid string, federates bool, joinRule string) (*room, map[string]string) {
	t.Helper()
	o := roomOpts{}
	if !federates {
		o.Create = M{"m.federate": false}
	}
	r := newRoom(t, vid, o)
	users := map[string]string{}
	for _, srv := range []string{"a.example", "d.example"} {
		for _, m := range memberships {
			name := m
			if name == "" {
				name = "none"
			}
			u := "@" + name + ":" + srv
			users[u] = m
			selfSent := m == "join" || m == "knock" || m == "leave"
			switch {
			case m == "knock" && !r.V.Auth.Knocking:
				r.Force(t, u, m)
			case selfSent && !federates && srv != "a.example":
				if m != "knock" {
					r.Member(t, u, "invite")
				}
				r.Force(t, u, m)
			default:
				r.Member(t, u, m)
			}
		}
	}
	if joinRule != "" {
		r.Add(t, creator, pdu.TypeJoinRules, "", claimroom.JoinRules(joinRule))
	}
	return r, users
}

// joinRulesOf returns the join rules a leave is tried under in room version v.
func joinRulesOf(v roomversion.Version) []string {
	out := []string{"", "public", "invite"}
	if v.Auth.RestrictedJoinRule {
		out = append(out, "restricted")
	}
	if v.Auth.KnockRestrictedJoinRule {
		out = append(out, "knock_restricted")
	}
	return out
}

// TestWhoMayLeave: decisions.md (membership) 21 "DecideLeave (and so MakeLeave and SendLeave)
// allows a user whose membership is invite (rejecting the invite), join (leaving) or, from room
// version 7, knock (retracting the knock), and refuses everyone else with 403 M_FORBIDDEN: a
// banned user (reason ErrBanned) and a user with no membership or leave (reason ErrNotPossible,
// entry 22); m.federate: false comes first (entry 20). It is CheckTransition with the user as
// sender and target, not a rule of its own." ... "The event the template becomes must pass the
// m.room.member rule ... so a resident that answered anyone else with a template would hand out
// an event its own send_leave must reject. A joined user of a remote server may use the
// handshake too"; entry 22 "make_leave and send_leave for a user whose membership is leave, or
// who has none, are 403 M_FORBIDDEN with reason ErrNotPossible and a message saying the user is
// not a member ... A knock membership in room versions 1-6 ... is refused the same way";
// DecideLeave's and MakeLeave's docs; the m.room.member rules of every version (leave: "If the
// sender matches state_key, allow if and only if that user's current membership state is
// invite or join" (v1-6), "invite, join, or knock" (v7-12)). Every version, m.federate true and
// false, every join rule of the version, users of the resident's server and of another.
func TestWhoMayLeave(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, vid)
		for _, federates := range []bool{true, false} {
			for _, jr := range joinRulesOf(v) {
				t.Run(fmt.Sprintf("v%s/federate=%v/%s", vid, federates, jr), func(t *testing.T) {
					r, users := matrixRoom(t, vid, federates, jr)
					names := make([]string, 0, len(users))
					for u := range users {
						names = append(names, u)
					}
					sort.Strings(names)
					for _, u := range names {
						m := users[u]
						remote := claimroom.ServerOf(u) != "a.example"
						want := expectLeave(v, federates, remote, m)
						what := fmt.Sprintf("%s (membership %q)", u, m)
						derr := membership.DecideLeave(r.State, u)
						if got := verdict(derr); got != want {
							t.Errorf("%s: DecideLeave %s, want %s (%v)", what, got, want, derr)
						}
						_, cerr := membership.CheckTransition(r.State, u, u, pdu.MembershipLeave)
						if got := verdict(cerr); got != want {
							t.Errorf("%s: CheckTransition %s, want %s (it is CheckTransition)", what, got, want)
						}
						if (m == "" || m == "leave") && want != "allow" && federates {
							if !strings.Contains(derr.Error(), "not a member") {
								t.Errorf("%s: message %q does not say the user is not a member", what, derr)
							}
						}
						tmpl, merr := membership.MakeLeave(r.State, u, r.Opts())
						if got := verdict(merr); got != want {
							t.Errorf("%s: MakeLeave %s, want %s", what, got, want)
						}
						// The same leave signed by the user's server, made by hand: the auth rules
						// accept it exactly when the decision allows it, and send_leave answers as
						// the decision does.
						raw, ev := r.handLeave(t, u, nil, nil)
						rerr := r.State.Check(ev, ring)
						if (rerr == nil) != (want == "allow") {
							t.Errorf("%s: the auth rules say %v, the decision %s", what, rerr, want)
						}
						_, serr := r.sendLeave(t, raw, ev)
						if got := verdict(serr); got != want {
							t.Errorf("%s: SendLeave of a leave signed by hand %s, want %s (%v)", what, got, want, serr)
						}
						if merr == nil {
							checkLeaveTemplate(t, r, u, tmpl)
							signed, lev := r.signLeave(t, tmpl.Event, u)
							res, err := r.sendLeave(t, signed, lev)
							if err != nil {
								t.Errorf("%s: SendLeave of the signed template: %v", what, err)
								continue
							}
							checkAccepted(t, r, signed, res, m, jr)
						}
					}
				})
			}
		}
	}
}

// checkLeaveTemplate checks a make_leave template against MakeLeave's doc: "an m.room.member
// event with membership leave, sender and state key userID, the auth events the auth events
// selection picks from the current state, and opts", and that CheckLeaveTemplate passes it.
func checkLeaveTemplate(t testing.TB, r *room, u string, tmpl membership.Template) {
	t.Helper()
	if tmpl.RoomVersion != r.V.ID {
		t.Errorf("%s: template room_version %q", u, tmpl.RoomVersion)
	}
	o := mustObj(t, tmpl.Event)
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := "auth_events content depth origin origin_server_ts prev_events room_id sender state_key type"; strings.Join(keys, " ") != want {
		t.Errorf("%s: template members %v, want %s", u, keys, want)
	}
	opts := r.Opts()
	str := func(k string) string { return string(o[k]) }
	q := func(s string) string { return `"` + s + `"` }
	for k, want := range map[string]string{"type": q("m.room.member"), "room_id": q(r.ID), "sender": q(u), "state_key": q(u),
		"content": `{"membership":"leave"}`, "origin": q(opts.Origin), "origin_server_ts": fmt.Sprint(opts.OriginServerTS),
		"depth": fmt.Sprint(opts.Depth), "prev_events": string(claimkit.Marshal(t, r.Refs(opts.PrevEvents)))} {
		if str(k) != want {
			t.Errorf("%s: template %s = %s, want %s", u, k, str(k), want)
		}
	}
	// The auth events selection (server-server-api "Auth events selection"): the create event
	// (not from v12), the power levels, the sender's membership (the target's is the same); a
	// leave selects no join rules.
	var want []string
	if !r.V.Format.RoomIDFromCreateEvent {
		want = append(want, r.State.Create().EventID)
	}
	if pl := r.State.Get(pdu.TypePowerLevels, ""); pl != nil {
		want = append(want, pl.EventID)
	}
	if me := r.State.Get(pdu.TypeMember, u); me != nil {
		want = append(want, me.EventID)
	}
	var got []string
	var refs []any
	if err := jsonUnmarshal(o["auth_events"], &refs); err != nil {
		t.Fatal(err)
	}
	for _, x := range refs {
		switch x := x.(type) {
		case string:
			got = append(got, x)
		case []any:
			if len(x) != 2 {
				t.Errorf("%s: auth event pair %v", u, x)
				continue
			}
			id, _ := x[0].(string)
			got = append(got, id)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: template auth_events %v, want %v", u, got, want)
	}
	if string(tmpl.JSON()) != `{"event":`+string(tmpl.Event)+`,"room_version":"`+r.V.ID+`"}` {
		t.Errorf("%s: Template.JSON %s", u, tmpl.JSON())
	}
	if err := membership.CheckLeaveTemplate(r.ID, u, tmpl.Event); err != nil {
		t.Errorf("%s: CheckLeaveTemplate refuses MakeLeave's template: %v", u, err)
	}
}

// checkAccepted checks an accepted leave against SendLeaveResult's doc ("the leave is accepted
// into the room as it was received (the resident does not sign it)"), decisions (membership) 23
// ("The resident does not sign a leave ... only the sender's server must sign a leave") and the
// transitions ("a self-leave from invite must classify as a rejected invite, from knock as a
// retracted knock").
func checkAccepted(t testing.TB, r *room, signed []byte, res membership.SendLeaveResult, from, jr string) {
	t.Helper()
	ev := res.Parsed
	if ev == nil || string(ev.Raw()) != string(signed) {
		t.Errorf("accepted leave is not the event sent")
		return
	}
	if string(res.JSON()) != "{}" {
		t.Errorf("SendLeaveResult.JSON() = %s", res.JSON())
	}
	srv := claimroom.ServerOf(ev.Sender)
	for s := range ev.Signatures.Servers() {
		if s != srv {
			t.Errorf("the accepted leave carries a signature of %s", s)
		}
	}
	if err := r.State.Check(ev, ring); err != nil {
		t.Errorf("the state rejects the accepted leave: %v", err)
	}
	rule := r.State.JoinRules().Rule
	tr, ok := membership.ClassifyMemberEvent(r.V, from, ev, rule)
	wantMeaning := map[string]string{"invite": "reject the invite", "knock": "retract the knock", "join": "leave the room"}[from]
	if !ok || tr.Action != membership.ActionLeave || !tr.BySelf || tr.Meaning != wantMeaning || tr.From != from {
		t.Errorf("ClassifyMemberEvent from %q: %+v %v, want %q", from, tr, ok, wantMeaning)
	}
	if ft, ok := membership.FindTransition(r.V, from, pdu.MembershipLeave, true, rule); !ok || ft.Meaning != wantMeaning {
		t.Errorf("FindTransition from %q: %+v %v", from, ft, ok)
	}
}

// TestLeaveRuleNumbers: decisions (membership) 21 cites the self-leave rule as
// "v8-auth-rules.md 4.5.1; invite or join before v7, e.g. v1-auth-rules.md 5.4.1"; DecideLeave's
// doc "rooms/fragments/v8-auth-rules.md rule 4.5.1; ... fragments/v1-auth-rules.md rule 5.4.1".
// The spec's text numbers the rule so, and the auth rules reject a leave from leave by it.
func TestLeaveRuleNumbers(t *testing.T) {
	for _, c := range []struct{ vid, file, rule, quote string }{
		{"1", "content/rooms/fragments/v1-auth-rules.md", "5.4.1", "allow if and only if that user's current membership state is `invite` or `join`."},
		{"8", "content/rooms/fragments/v8-auth-rules.md", "4.5.1", "allow if and only if that user's current membership state is `invite`, `join`, or `knock`."},
	} {
		if got := specRuleNumber(t, c.file, "If the `sender` matches `state_key`, allow if and only if"); got != c.rule {
			t.Errorf("%s numbers the self-leave rule %s, not %s", c.file, got, c.rule)
		}
		if !strings.Contains(claimkit.Flat(readSpec(t, c.file)), claimkit.Flat(c.quote)) {
			t.Errorf("%s does not say %q", c.file, c.quote)
		}
		r := newRoom(t, c.vid, roomOpts{})
		r.Member(t, "@u:d.example", "leave")
		_, ev := r.handLeave(t, "@u:d.example", nil, nil)
		var rej *authrules.Rejection
		if err := r.State.Check(ev, ring); !errors.As(err, &rej) || rej.Rule != c.rule {
			t.Errorf("v%s: a leave from leave is rejected by %v, want rule %s", c.vid, err, c.rule)
		}
		if got := authrules.MembershipRule(claimkit.Ver(t, c.vid), pdu.MembershipLeave) + ".1"; got != c.rule {
			t.Errorf("v%s: MembershipRule(leave) %s", c.vid, got)
		}
	}
}

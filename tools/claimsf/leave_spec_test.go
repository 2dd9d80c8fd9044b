package claimsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
	"github.com/roomproto/roomproto/tools/internal/claimroom"
)

// handshake runs make_leave, the template check, SignTemplate and send_leave for user in r,
// failing on any error, and returns the accepted leave.
func handshake(t testing.TB, r *room, user string) *pdu.Event {
	t.Helper()
	if err := membership.CheckMakeRequest(r.V, user, claimroom.ServerOf(user), nil); err != nil {
		t.Fatal(err)
	}
	tmpl, err := membership.MakeLeave(r.State, user, r.Opts())
	if err != nil {
		t.Fatalf("MakeLeave(%s): %v", user, err)
	}
	if err := membership.CheckLeaveTemplate(r.ID, user, tmpl.Event); err != nil {
		t.Fatal(err)
	}
	signed, ev := r.signLeave(t, tmpl.Event, user)
	res, err := r.sendLeave(t, signed, ev)
	if err != nil {
		t.Fatalf("SendLeave(%s): %v", user, err)
	}
	return res.Parsed
}

// Room version 12 (rooms/v12.md): the room ID is the create event's ID with '!' (appendices
// "Room IDs"), the create event is not an auth event (rule 3.2 "m.room.create is not
// selected"), and the creators (the create event's sender and additional_creators) have
// infinite power but are members like any other for the self-leave rule. The template names
// the room by the create event's ID and lists no create event; a creator who is joined may
// leave, one who never joined may not.
func TestLeaveV12(t *testing.T) {
	r := newRoom(t, "12", roomOpts{Create: M{"additional_creators": []any{"@bob:b.example", "@carl:c.example"}}})
	if r.ID != "!"+r.State.Create().EventID[1:] {
		t.Fatalf("room ID %s", r.ID)
	}
	r.Member(t, "@bob:b.example", "join")
	r.Member(t, leaver, "invite")
	tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
	if err != nil {
		t.Fatal(err)
	}
	o := mustObj(t, tmpl.Event)
	if string(o["room_id"]) != `"`+r.ID+`"` || bytes.Contains(o["auth_events"], []byte(r.State.Create().EventID)) {
		t.Errorf("v12 template: room_id %s, auth_events %s", o["room_id"], o["auth_events"])
	}
	for _, u := range []string{leaver, "@bob:b.example", creator} {
		ev := handshake(t, r, u)
		r.Apply(t, ev)
		if got := r.State.Membership(u); got != pdu.MembershipLeave {
			t.Errorf("%s: %q", u, got)
		}
	}
	wantErr(t, "an additional creator who never joined", membership.DecideLeave(r.State, "@carl:c.example"), 403, membership.ErrCodeForbidden, membership.ErrNotPossible)
}

// A leave with more content than the template's (a reason, spec m.room.member `reason`) signed
// by the leaving server is a valid leave: the rules read only the membership. send_leave
// accepts it as sent, with its reason; the auth rules allow it.
func TestLeaveWithReason(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		withReason := editJSON(t, tmpl.Event, func(m M) {
			m["content"] = M{"membership": "leave", "reason": "not interested", "displayname": "Dave"}
		})
		if err := membership.CheckLeaveTemplate(r.ID, leaver, withReason); err != nil {
			t.Errorf("v%s: %v", vid, err)
		}
		signed, ev := r.signLeave(t, withReason, leaver)
		res, err := r.sendLeave(t, signed, ev)
		if err != nil {
			t.Fatalf("v%s: %v", vid, err)
		}
		if reason, _ := res.Parsed.ContentString("reason"); reason != "not interested" {
			t.Errorf("v%s: reason %q", vid, reason)
		}
	}
}

// leaving-v2.yaml: "The event sender is not a user ID on the origin server" SHOULD be
// M_INVALID_PARAM. A leave of a user of e.example, signed by e.example (valid, allowed by the
// rules), sent by d.example is refused with 400 M_INVALID_PARAM (ErrBadEvent) in every version.
func TestLeaveSenderNotOfOrigin(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := newRoom(t, vid, roomOpts{})
		eve := "@eve:e.example"
		r.Member(t, eve, "invite")
		raw, ev := r.handLeave(t, eve, nil, nil)
		if err := r.State.Check(ev, ring); err != nil {
			t.Fatalf("v%s: %v", vid, err)
		}
		_, err := membership.SendLeave(membership.SendLeaveRequest{State: r.State, RoomID: r.ID, EventID: ev.EventID,
			Origin: "d.example", Event: raw, Keys: ring, AuthEvents: r.AuthOf(t, ev)})
		wantErr(t, "v"+vid, err, 400, membership.ErrCodeInvalidParam, membership.ErrBadEvent)
	}
}

// send_leave of an event that is not the template: the spec keeps no template on the resident
// ("depth ... must be present but is ignored; it may be 0", leaving-v2.yaml), so other depth,
// prev_events and timestamps are accepted; the auth events must pass the rules when SendLeave is
// given them ("against AuthEvents when given"): a leave listing the join rules (which the auth
// events selection does not pick for a leave, rule 2.2 of v8) is refused with 403 ErrAuthRules;
// without AuthEvents only the state is read, as documented.
func TestLeaveNotTheTemplate(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		edits := map[string]func(M){
			"depth 0":               func(m M) { m["depth"] = 0 },
			"depth 1000":            func(m M) { m["depth"] = 1000 },
			"other prev_events":     func(m M) { m["prev_events"] = r.Refs([]string{r.State.Create().EventID}) },
			"other timestamp":       func(m M) { m["origin_server_ts"] = 5 },
			"other origin":          func(m M) { m["origin"] = "elsewhere.example" },
			"no auth_events listed": func(m M) { m["auth_events"] = []any{} },
		}
		for name, f := range edits {
			raw, ev := r.handLeave(t, leaver, nil, f)
			q := leaveReq(t, r, raw, ev)
			_, err := membership.SendLeave(q)
			want := authrules.CheckWithOptions(r.V, ev, q.AuthEvents, authrules.Options{Keys: ring, Create: r.State.Create()})
			if (err == nil) != (want == nil) {
				t.Errorf("v%s %s: SendLeave %v, the rules on its auth events %v", vid, name, err, want)
			}
			if name != "no auth_events listed" && err != nil {
				t.Errorf("v%s %s: %v", vid, name, err)
			}
		}
		jr := r.State.Get(pdu.TypeJoinRules, "")
		raw, ev := r.handLeave(t, leaver, nil, func(m M) {
			m["auth_events"] = append(m["auth_events"].([]any), r.Ref(jr.EventID))
		})
		q := leaveReq(t, r, raw, ev)
		_, err := membership.SendLeave(q)
		wantErr(t, "v"+vid+" join rules among the auth events", err, 403, membership.ErrCodeForbidden, membership.ErrAuthRules)
		q.AuthEvents = nil
		if _, err := membership.SendLeave(q); err != nil {
			t.Errorf("v%s: without AuthEvents: %v", vid, err)
		}
	}
}

// An already-applied leave sent twice (a retried PUT): the spec says nothing; decisions
// (membership) 22 reads "a user who already left ... is refused, not answered idempotently":
// 403 M_FORBIDDEN, ErrNotPossible, "a server that wants leave to be idempotent towards its
// client can treat this reason as success". The same bytes, once applied, get that answer.
func TestLeaveSentTwice(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		signed, ev := r.signLeave(t, tmpl.Event, leaver)
		q := leaveReq(t, r, signed, ev)
		if _, err := membership.SendLeave(q); err != nil {
			t.Fatal(err)
		}
		if _, err := membership.SendLeave(q); err != nil {
			t.Errorf("v%s: the same leave before it is applied: %v", vid, err)
		}
		r.Apply(t, ev)
		_, err = membership.SendLeave(q)
		e := wantErr(t, "v"+vid+" the leave again", err, 403, membership.ErrCodeForbidden, membership.ErrNotPossible)
		if !bytes.Contains([]byte(e.Message), []byte("not a member")) {
			t.Errorf("v%s: %q", vid, e.Message)
		}
	}
}

// Stripped state after a rejected invite (client-server-api "Stripped state": the create event,
// name, avatar, topic, join rules, canonical alias, encryption): the leave changes none of it, so
// the resident's StrippedState is the same before and after; the user, now leave, may knock again
// (v7+, knock rule "no membership, leave, or an earlier knock: allowed") and gets it as
// knock_room_state, m.room.create first.
func TestStrippedStateAfterRejectedInvite(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := newRoom(t, vid, roomOpts{})
		r.Add(t, creator, "m.room.name", "", M{"name": "Room"})
		r.Add(t, creator, "m.room.topic", "", M{"topic": "Topic"})
		r.Member(t, leaver, "invite")
		before := eventIDs(membership.StrippedState(r.State))
		r.Apply(t, handshake(t, r, leaver))
		after := eventIDs(membership.StrippedState(r.State))
		if fmt.Sprint(before) != fmt.Sprint(after) || len(after) != 4 || after[0] != r.State.Create().EventID {
			t.Errorf("v%s: stripped state %v, then %v", vid, before, after)
		}
		if !r.V.Auth.Knocking {
			continue
		}
		if err := membership.DecideKnock(r.State, leaver); err != nil {
			t.Fatalf("v%s: a knock after the rejected invite: %v", vid, err)
		}
		kt, err := membership.MakeKnock(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		knock, kev := r.signLeave(t, kt.Event, leaver)
		res, err := membership.SendKnock(membership.SendKnockRequest{State: r.State, RoomID: r.ID, EventID: kev.EventID,
			Origin: "d.example", Event: knock, Keys: ring, AuthEvents: r.AuthOf(t, kev)})
		if err != nil {
			t.Fatalf("v%s: SendKnock: %v", vid, err)
		}
		if fmt.Sprint(eventIDs(res.KnockRoomState)) != fmt.Sprint(after) {
			t.Errorf("v%s: knock_room_state %v", vid, eventIDs(res.KnockRoomState))
		}
	}
}

func eventIDs(evs []*pdu.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.EventID)
	}
	return out
}

// Misuse: the state of another room (another room ID, the user invited there too) with the path
// room left empty ("empty skips the comparison"): the leave is of another room than the state's,
// which State.Check refuses (authrules: "an event of another room than the state's events"), so
// send_leave must not accept it.
func TestSendLeaveAgainstAnotherRoomsState(t *testing.T) {
	for _, vid := range []string{"1", "6", "10", "11"} {
		r := invitedRoom(t, vid)
		other := newRoom(t, vid, roomOpts{ID: "!other:a.example"})
		other.Member(t, leaver, "invite")
		tmpl, _ := membership.MakeLeave(r.State, leaver, r.Opts())
		signed, _ := r.signLeave(t, tmpl.Event, leaver)
		_, err := membership.SendLeave(membership.SendLeaveRequest{State: other.State, Origin: "d.example", Event: signed, Keys: ring})
		if err == nil {
			t.Errorf("v%s: a leave of %s accepted against the state of %s", vid, r.ID, other.ID)
			continue
		}
		wantErr(t, "v"+vid, err, 403, membership.ErrCodeForbidden, membership.ErrAuthRules)
	}
}

// Misuse: SendLeave with no state or the zero State. DecideLeave's doc answers "No state, a
// state of no room version (the zero authrules.State: the error also matches
// roomversion.ErrUnknownVersion) ...: 400 M_INVALID_PARAM, reason ErrBadInput", and SendLeave
// decides with DecideLeave. F7, fixed: for the zero State SendLeave answered 400 M_BAD_JSON
// ErrBadEvent "event is not a valid room version  event", telling the requesting server its
// valid body is bad JSON for a fault of the resident's (SendKnock and SendJoin too).
func TestSendLeaveNoState(t *testing.T) {
	r := invitedRoom(t, "10")
	tmpl, _ := membership.MakeLeave(r.State, leaver, r.Opts())
	signed, ev := r.signLeave(t, tmpl.Event, leaver)
	q := leaveReq(t, r, signed, ev)
	q.State = nil
	_, err := membership.SendLeave(q)
	wantErr(t, "nil State", err, 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
	q.State = &authrules.State{}
	_, err = membership.SendLeave(q)
	wantErr(t, "zero State", err, 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
	if !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("zero State: %v does not match roomversion.ErrUnknownVersion", err)
	}
}

// Misuse: a body that is not in canonical form (pretty-printed, as some servers send JSON) but
// validly signed is a valid leave (signatures cover the canonical form): accepted, with the
// event's ID and signatures, Parsed.Raw() its canonical form. A body with a duplicate key is
// refused with 400 from v6, read with the last occurrence winning before.
func TestSendLeaveBodyForms(t *testing.T) {
	for _, vid := range []string{"1", "5", "6", "10", "12"} {
		r := invitedRoom(t, vid)
		tmpl, _ := membership.MakeLeave(r.State, leaver, r.Opts())
		signed, ev := r.signLeave(t, tmpl.Event, leaver)
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, signed, "", "  "); err != nil {
			t.Fatal(err)
		}
		res, err := membership.SendLeave(leaveReq(t, r, pretty.Bytes(), ev))
		if err != nil {
			t.Fatalf("v%s: pretty body: %v", vid, err)
		}
		if res.Parsed.EventID != ev.EventID || !bytes.Equal(res.Parsed.Raw(), signed) {
			t.Errorf("v%s: accepted %s as %s", vid, ev.EventID, res.Parsed.EventID)
		}
		// decisions (canonical JSON): v6+ refuses duplicate keys, in v1-5 the last one wins.
		dup := append([]byte(`{"type":"m.room.message",`), signed[1:]...)
		res, err = membership.SendLeave(leaveReq(t, r, dup, ev))
		var e *membership.Error
		if r.V.Format.StrictCanonicalJSON {
			if !errors.As(err, &e) || e.Status != 400 {
				t.Errorf("v%s: a duplicate key: %v", vid, err)
			}
		} else if err != nil || res.Parsed.Type != pdu.TypeMember || res.Parsed.EventID != ev.EventID {
			t.Errorf("v%s: a duplicate key, the last one winning: %v", vid, err)
		}
	}
}

// Room versions 1-2: the leaving server "replaces the event_id with its own"; one in the
// resident's domain would need the resident's signature, which a leave never gets (the resident
// does not sign it): refused (400 M_INVALID_PARAM, ErrBadSignature), as receiveMember documents.
func TestLeaveV1EventIDOfTheResident(t *testing.T) {
	for _, vid := range []string{"1", "2"} {
		r := invitedRoom(t, vid)
		tmpl, _ := membership.MakeLeave(r.State, leaver, r.Opts())
		signed, err := membership.SignTemplate(r.V, tmpl.Event, "d.example", 1, "$leave:a.example", "d.example", authfixture.Key("d.example"))
		if err != nil {
			t.Fatal(err)
		}
		ev, err := signing.ParseEvent(r.V, signed)
		if err != nil {
			t.Fatal(err)
		}
		_, err = membership.SendLeave(leaveReq(t, r, signed, ev))
		wantErr(t, "v"+vid, err, 400, membership.ErrCodeInvalidParam, membership.ErrBadSignature)
	}
}

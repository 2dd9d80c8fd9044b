package claimsg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// scribble overwrites every byte of the buffers, as a server reusing its request buffers does.
func scribble(bufs ...[]byte) {
	for _, b := range bufs {
		for i := range b {
			b[i] = 'X'
		}
	}
}

// snapAll is snap of every event, in order.
func snapAll(evs ...*pdu.Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(snap(e))
		b.WriteByte('\n')
	}
	return b.String()
}

// bodyForms are the forms a request body comes in: canonical (which pdu.Parse would keep
// without a copy) and indented.
var bodyForms = []string{"canonical", "indented"}

func inForm(t testing.TB, form string, data []byte) []byte {
	if form == "indented" {
		return indent(t, data)
	}
	return bytes.Clone(data)
}

// stripped returns the room's stripped state (membership.StrippedState) as request entries of
// their own, in the form.
func stripped(t testing.TB, r *room, form string) ([]json.RawMessage, [][]byte) {
	var entries []json.RawMessage
	var bufs [][]byte
	for _, e := range membership.StrippedState(r.State) {
		b := inForm(t, form, e.Raw())
		entries, bufs = append(entries, b), append(bufs, b)
	}
	return entries, bufs
}

const bob, carol = "@bob:b.example", "@carol:c.example"

// TestHandshakesReturnOwnEvents: docs/decisions.md (membership) 24: "The parsed events that
// SendKnock, SendLeave, CheckSendJoinResponse and CheckStrippedState return are parsed from
// copies of the request body, the response's event and the stripped state entries, so a caller
// may reuse or overwrite its buffers once they return"; "SendJoin and SignInvite already
// returned new signed events (they sign)"; SECURITY.md item 10: "membership's handshakes copy what
// they return, InviteResult.RoomState included (membership 24), so a request body may be reused
// once they return". In every room
// version where the handshake exists, with canonical and indented bodies: after each call every
// byte the caller passed is overwritten, and every event returned (Parsed, the response event,
// the valid stripped state, the invite's RoomState) reads as before, field by field and byte by
// byte; so do the returned byte slices (SendJoin's and SignInvite's Event).
func TestHandshakesReturnOwnEvents(t *testing.T) {
	claimkit.WantText(t, "docs/decisions.md", "The parsed events that `SendKnock`, `SendLeave`, `CheckSendJoinResponse` and `CheckStrippedState` return are parsed from copies of the request body, the response's event and the stripped state entries, so a caller may reuse or overwrite its buffers once they return")
	claimkit.WantText(t, "docs/decisions.md", "`SendJoin` and `SignInvite` already returned new signed events (they sign).")
	claimkit.WantText(t, "SECURITY.md", "`membership`'s handshakes copy what they return, `InviteResult.RoomState` included (membership 24), so a request body may be reused once they return.")
	inSection(t, "docs/decisions.md", "## membership", "### 24. Events returned by the handshakes never share the caller's bytes")
	n := map[string]int{}
	for _, vid := range claimkit.VersionIDs() {
		for _, form := range bodyForms {
			// check calls the handshake, which returns its events and byte slices; the
			// caller's buffers are then overwritten.
			check := func(name string, bufs [][]byte, call func() ([]*pdu.Event, [][]byte, error)) {
				t.Helper()
				evs, outs, err := call()
				if err != nil {
					t.Fatalf("v%s %s %s: %v", vid, form, name, err)
				}
				before, outBefore := snapAll(evs...), fmt.Sprintf("%q", outs)
				scribble(bufs...)
				if after := snapAll(evs...); after != before {
					t.Fatalf("v%s %s %s: the returned events changed with the caller's buffers:\n%s\nwas\n%s", vid, form, name, after, before)
				}
				if got := fmt.Sprintf("%q", outs); got != outBefore {
					t.Fatalf("v%s %s %s: the returned bytes changed with the caller's buffers", vid, form, name)
				}
				n[name]++
			}

			// send_leave: bob, invited, rejects the invite.
			r := newRoom(t, vid, "invite")
			r.Add(t, creator, pdu.TypeMember, bob, M{"membership": "invite"})
			tmpl, err := membership.MakeLeave(r.State, bob, r.Opts())
			if err != nil {
				t.Fatal(err)
			}
			body := inForm(t, form, r.sign(t, tmpl.Event, bob))
			check("SendLeave", [][]byte{body}, func() ([]*pdu.Event, [][]byte, error) {
				res, err := membership.SendLeave(membership.SendLeaveRequest{State: r.State, RoomID: r.ID, Origin: "b.example", Event: body, Keys: ring})
				return []*pdu.Event{res.Parsed}, nil, err
			})

			// CheckStrippedState and SignInvite: carol is invited with the room's stripped state.
			entries, bufs := stripped(t, r, form)
			check("CheckStrippedState", bufs, func() ([]*pdu.Event, [][]byte, error) {
				valid, problems := membership.CheckStrippedState(r.V, r.ID, entries, ring)
				if len(problems) > 0 || len(valid) != len(entries) {
					return nil, nil, fmt.Errorf("%d of %d valid: %v", len(valid), len(entries), problems)
				}
				return valid, nil, nil
			})
			entries, bufs = stripped(t, r, form)
			inv := r.Make(t, creator, pdu.TypeMember, carol, M{"membership": "invite"}, nil)
			invBody := inForm(t, form, inv.Raw())
			check("SignInvite", append(bufs, invBody), func() ([]*pdu.Event, [][]byte, error) {
				res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: r.V, RoomID: r.ID, Origin: "a.example",
					Event: invBody, InviteRoomState: entries, LocalServer: "c.example", Key: authfixture.Key("c.example"), Keys: ring})
				if err == nil && (len(res.RoomState) != len(entries) || len(res.Warnings) > 0) {
					err = fmt.Errorf("room state %d of %d, warnings %v", len(res.RoomState), len(entries), res.Warnings)
				}
				return append([]*pdu.Event{res.Parsed}, res.RoomState...), [][]byte{res.Event}, err
			})

			// send_join and the joining server's check of the response: a restricted join from
			// v8, a public one before.
			jr := "public"
			rooms := membership.KnownRooms{}
			if r.V.Auth.RestrictedJoinRule {
				jr = "restricted"
				rooms = membership.KnownRooms{"!other:b.example": {bob: "join"}}
			}
			r = newRoom(t, vid, jr)
			_, jt, err := membership.MakeJoin(membership.JoinRequest{State: r.State, UserID: bob, ResidentServer: "a.example", Rooms: rooms}, r.Opts())
			if err != nil {
				t.Fatalf("v%s MakeJoin: %v", vid, err)
			}
			signed := r.sign(t, jt.Event, bob)
			joinBody := inForm(t, form, signed)
			var response []byte
			check("SendJoin", [][]byte{joinBody}, func() ([]*pdu.Event, [][]byte, error) {
				res, err := membership.SendJoin(membership.SendJoinRequest{State: r.State, ResidentServer: "a.example", Rooms: rooms,
					RoomID: r.ID, Origin: "b.example", Event: joinBody, Key: authfixture.Key("a.example"), Keys: ring})
				response = bytes.Clone(res.Event)
				return []*pdu.Event{res.Parsed}, [][]byte{res.Event}, err
			})
			if r.V.Auth.RestrictedJoinRule && !bytes.Contains(response, []byte("join_authorised_via_users_server")) {
				t.Fatalf("v%s: not a restricted join: %s", vid, response)
			}
			sent, returned := inForm(t, form, signed), inForm(t, form, response)
			check("CheckSendJoinResponse", [][]byte{sent, returned}, func() ([]*pdu.Event, [][]byte, error) {
				ev, err := membership.CheckSendJoinResponse(r.V, sent, returned, "a.example", ring)
				return []*pdu.Event{ev}, nil, err
			})

			// send_knock, from v7.
			if !r.V.Auth.Knocking {
				continue
			}
			r = newRoom(t, vid, "knock")
			kt, err := membership.MakeKnock(r.State, bob, r.Opts())
			if err != nil {
				t.Fatal(err)
			}
			knockBody := inForm(t, form, r.sign(t, kt.Event, bob))
			check("SendKnock", [][]byte{knockBody}, func() ([]*pdu.Event, [][]byte, error) {
				res, err := membership.SendKnock(membership.SendKnockRequest{State: r.State, RoomID: r.ID, Origin: "b.example", Event: knockBody, Keys: ring})
				return append([]*pdu.Event{res.Parsed}, res.KnockRoomState...), nil, err
			})
		}
	}
	want := map[string]int{"SendLeave": 24, "CheckStrippedState": 24, "SignInvite": 24, "SendJoin": 24, "CheckSendJoinResponse": 24, "SendKnock": 12}
	if fmt.Sprint(n) != fmt.Sprint(want) {
		t.Fatalf("calls checked %v, want %v", n, want)
	}
}

// TestParsedEventsKeepCanonicalInput: SECURITY.md item 10: "Do not modify bytes given to
// pdu.Parse, signing.ParseEvent or signing.ParseAndVerifyEvents while their events are in use:
// an event parsed from canonical JSON keeps those bytes without a copy". For each of the three,
// over the corpus: an event parsed from wire-form (canonical) bytes has them as its Raw, and
// overwriting them changes the event; one parsed from the file's indented form does not share
// them. Also docs/decisions.md's cited entry says so.
func TestParsedEventsKeepCanonicalInput(t *testing.T) {
	claimkit.WantText(t, "SECURITY.md", "10. Do not modify bytes given to `pdu.Parse`, `signing.ParseEvent` or `signing.ParseAndVerifyEvents` while their events are in use: an event parsed from canonical JSON keeps those bytes without a copy (docs/decisions.md, roomversion and pdu).")
	claimkit.WantText(t, "docs/decisions.md", "`Event.Raw()` is that canonical JSON: the caller's bytes themselves when they were already canonical (no copy; the caller must not modify them), a canonical copy otherwise.")
	inSection(t, "docs/decisions.md", "## roomversion and pdu", "**The event keeps its canonical form, read once.**")
	c := loadCorpus(t)
	parsers := map[string]func(data []byte) (*pdu.Event, error){
		"pdu.Parse":          func(data []byte) (*pdu.Event, error) { return pdu.Parse(c.v, data) },
		"signing.ParseEvent": func(data []byte) (*pdu.Event, error) { return signing.ParseEvent(c.v, data) },
		"signing.ParseAndVerifyEvents": func(data []byte) (*pdu.Event, error) {
			evs, errs := signing.ParseAndVerifyEvents(c.v, [][]byte{data}, c.keys, nil)
			return evs[0], errs[0]
		},
	}
	for name, parse := range parsers {
		for i := range c.wire {
			for _, form := range []string{"wire", "file"} {
				data := bytes.Clone(c.wire[i])
				if form == "file" {
					data = bytes.Clone(c.file[i])
				}
				ev, err := parse(data)
				if err != nil {
					t.Fatalf("%s event %d %s: %v", name, i, form, err)
				}
				before := snap(ev)
				kept := sameArray(ev.Raw(), data)
				scribble(data)
				changed := snap(ev) != before
				if kept != (form == "wire") || changed != kept {
					t.Fatalf("%s event %d %s: Raw is the input %v, changed by overwriting it %v", name, i, form, kept, changed)
				}
			}
		}
	}
}

// TestDecisionFoundByMisuse: membership 24's "found by tools/misuse: a leave whose body was
// overwritten after SendLeave returned changed Parsed.Raw()": tools/misuse has that probe.
func TestDecisionFoundByMisuse(t *testing.T) {
	claimkit.WantText(t, "docs/decisions.md", "(found by tools/misuse: a leave whose body was overwritten after `SendLeave` returned changed `Parsed.Raw()`)")
	src := claimkit.ReadRoot(t, "tools/misuse/membership_test.go")
	for _, s := range []string{`"SendLeave/input-not-modified"`, "keep := clone(res.Parsed.Raw())", "scribble(in)", "!bytes.Equal(res.Parsed.Raw(), keep)"} {
		if !strings.Contains(src, s) {
			t.Fatalf("tools/misuse/membership_test.go has no %q", s)
		}
	}
}

// TestDecisionNamesInviteRoomState: membership 24 says "SendJoin and SignInvite already returned
// new bytes (they sign)" and lists the four functions whose events kept the caller's bytes
// "Until 2026-12-02". SignInvite's InviteResult.RoomState did too: its events are
// CheckStrippedState's, parsed from the caller's invite_room_state entries. Run on e2f23cb,
// TestHandshakesReturnOwnEvents fails for SignInvite (canonical entries, v1-12) through RoomState
// alone, and passes for its Event and Parsed; the change to CheckStrippedState fixed RoomState
// as well. The entry (and SECURITY.md item 10) do not say so.
func TestDecisionNamesInviteRoomState(t *testing.T) {
	// Finding G3, settled 2026-12-02: decisions (membership) 24 names InviteResult.RoomState.
	claimkit.WantText(t, "docs/decisions.md", "InviteResult.RoomState")
}

// inSection fails unless the file rel holds text within the section that starts at heading
// (a line of its own) and ends at the next heading of the same level: "membership 24" and
// "roomversion and pdu" name such places.
func inSection(t testing.TB, rel, heading, text string) {
	t.Helper()
	doc := claimkit.ReadRoot(t, rel)
	start := strings.Index(doc, "\n"+heading+"\n")
	if start < 0 {
		t.Fatalf("%s has no section %q", rel, heading)
	}
	level := heading[:strings.Index(heading, " ")+1]
	end := len(doc)
	if i := strings.Index(doc[start+1:], "\n"+level); i >= 0 {
		end = start + 1 + i
	}
	if !strings.Contains(doc[start:end], text) {
		t.Fatalf("%s: section %q does not hold %q", rel, heading, text)
	}
}

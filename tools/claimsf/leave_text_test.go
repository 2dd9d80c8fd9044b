package claimsf

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// SECURITY.md, fuzzing record of 2026-12-01 (the leave handshake): "the new membership
// FuzzSendLeave ... (arbitrary bodies to SendLeave, and the same bytes to CheckLeaveTemplate
// and, when they pass, SignTemplate: every refusal an *Error of status 400 or 403, an accepted
// leave the body itself, a leave of its sender signed by the sender's server that the auth rules
// accept); FuzzJoinDecision, now also calling DecideLeave and MakeLeave and with a prev_events
// in its template options". The targets do so (the figures are a record, not checked).
func TestSecurityFuzzRecord(t *testing.T) {
	claimkit.WantText(t, "SECURITY.md", "every refusal an `*Error` of status 400 or 403, an accepted leave the body in canonical form (until tools/claimsf F6 the target compared it with the body's own bytes, which a validly signed pretty-printed body would have failed), a leave of its sender signed by the sender's server that the auth rules accept")
	f := funcBody(t, "membership/fuzz_test.go", "FuzzSendLeave")
	for _, s := range []string{"SendLeave(", "CheckLeaveTemplate(", "SignTemplate(", "e.Status != 400 && e.Status != 403",
		"bytes.Equal(ev.Raw(), canon)", "json.Indent(&pretty, signed", "VerifyEventSignature(ev, joinSrv", "s.Check(ev, keys)"} {
		if !strings.Contains(f, s) {
			t.Errorf("FuzzSendLeave has no %q", s)
		}
	}
	j := funcBody(t, "membership/fuzz_test.go", "FuzzJoinDecision")
	for _, s := range []string{"DecideLeave(", `"MakeLeave": MakeLeave`, "PrevEvents: []string{"} {
		if !strings.Contains(j, s) {
			t.Errorf("FuzzJoinDecision has no %q", s)
		}
	}
	if !strings.Contains(claimkit.ReadRoot(t, "SECURITY.md"), "FuzzSendLeave") {
		t.Error("SECURITY.md does not name FuzzSendLeave")
	}
}

// SECURITY.md's record (above) said of FuzzSendLeave "an accepted leave the body itself", and
// the target failed unless bytes.Equal(ev.Raw(), data) (F6). SendLeave accepts a validly signed
// body that is not in canonical form (signatures and hashes cover the canonical form), and its
// Parsed.Raw() is the canonical form: the record now says so and the target compares with it.
func TestSecurityAcceptedLeaveIsTheBody(t *testing.T) {
	r := invitedRoom(t, "10")
	tmpl, _ := membership.MakeLeave(r.State, leaver, r.Opts())
	signed, ev := r.signLeave(t, tmpl.Event, leaver)
	body := append([]byte("{ "), signed[1:]...)
	res, err := membership.SendLeave(leaveReq(t, r, body, ev))
	if err != nil {
		t.Fatalf("the body with a space: %v", err)
	}
	if !bytes.Equal(res.Parsed.Raw(), signed) {
		t.Errorf("the accepted leave is not the body in canonical form:\n body %.60s...\n Raw  %.60s...", body, res.Parsed.Raw())
	}
}

// decisions (membership) 23: "The resident does not sign a leave: neither leaving yaml mentions a
// signature of its own, and none is needed (only the sender's server must sign a leave)". The
// servers that must sign a leave are the sender's (and in v1-2 the event ID's domain, the
// leaving server's own); the state accepts the leave with that signature alone.
func TestOnlyTheSendersServerSignsALeave(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		tmpl, _ := membership.MakeLeave(r.State, leaver, r.Opts())
		signed, ev := r.signLeave(t, tmpl.Event, leaver)
		got, err := signing.RequiredSigners(ev)
		if err != nil || !slices.Equal(got, []string{"d.example"}) {
			t.Errorf("v%s: RequiredSigners %v %v", vid, got, err)
		}
		if err := signing.VerifyEvent(r.V, signed, ring); err != nil {
			t.Errorf("v%s: %v", vid, err)
		}
		if err := r.State.Check(ev, ring); err != nil {
			t.Errorf("v%s: %v", vid, err)
		}
	}
}

// decisions (membership) 21: "make_leave has no `ver`"; leaving-v1.yaml's room_version: "If not
// provided, the room version is assumed to be either '1' or '2'". MakeLeave always writes
// room_version (Template.JSON), so a leaving server never has to guess.
func TestMakeLeaveWritesRoomVersion(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			RoomVersion *string         `json:"room_version"`
			Event       json.RawMessage `json:"event"`
		}
		if err := json.Unmarshal(tmpl.JSON(), &body); err != nil || body.RoomVersion == nil || *body.RoomVersion != vid {
			t.Errorf("v%s: %s", vid, tmpl.JSON())
		}
	}
}

// decisions (membership) 21: "server-server-api 'Leaving Rooms (Rejecting Invites)' says why the
// handshake exists (rejecting a remote invite, retracting a remote knock) but not who may use
// it"; SignTemplate's doc quotes it: "the leaving server signs the event and replaces the
// event_id with its own".
func TestSpecLeavingRoomsSection(t *testing.T) {
	ssa := claimkit.Flat(readSpec(t, "content/server-server-api.md"))
	i := strings.Index(ssa, "## Leaving Rooms (Rejecting Invites)")
	j := strings.Index(ssa, "## Third-party invites")
	if i < 0 || j < i {
		t.Fatal("no section")
	}
	sec := ssa[i:j]
	for _, s := range []string{"Remote invites/knocks from other homeservers do not involve the server in the graph and therefore need another approach to reject the invite.",
		"the leaving server signs the event and replaces the `event_id` with its own.",
		"The resident server will then send the event to other servers in the room."} {
		if !strings.Contains(sec, s) {
			t.Errorf("the section does not say %q", s)
		}
	}
	for _, s := range []string{"MUST", "membership state", "allowed to"} {
		if strings.Contains(sec, s) {
			t.Errorf("the section says %q: it may say who may leave", s)
		}
	}
}

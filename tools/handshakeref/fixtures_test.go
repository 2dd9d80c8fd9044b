package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/memberroom"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestLeaveFixturesAgree runs testdata/membership/leave_decision.json through the spec-only
// reference's make_leave decision (leaving-v1.yaml and the self-leave rule) with
// docs/decisions.md's readings (HANDSHAKEREF_DECISIONS=1): each fixture room is built with
// signed events (memberroom.Build); the reference's verdict, and for a refusal the status and
// errcode, must be the fixture's, and so must membership.DecideLeave's on the same room. The
// sentinel error (reason) of a refusal is not expressed by the reference.
func TestLeaveFixturesAgree(t *testing.T) {
	pyref.Require(t)
	ref, err := pyref.Start(pyref.Beside("handshakeref.py"), "HANDSHAKEREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	b, err := os.ReadFile("../../testdata/membership/leave_decision.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name        string          `json:"name"`
		RoomVersion string          `json:"room_version"`
		Room        memberroom.Spec `json:"room"`
		UserID      string          `json:"user_id"`
		Expect      struct {
			Decision string `json:"decision"`
			Status   int    `json:"status"`
			ErrCode  string `json:"errcode"`
		} `json:"expect"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		rm, err := memberroom.Build(c.RoomVersion, c.Room)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		want := "ALLOW"
		if c.Expect.Decision != "allow" {
			want = fmt.Sprintf("%d:%s", c.Expect.Status, c.Expect.ErrCode)
		}
		var a refAns
		if err := ref.Ask(M{"op": "make_leave", "v": c.RoomVersion, "state": rm.StateJSON(), "user_id": c.UserID}, &a); err != nil {
			t.Fatal(err)
		}
		if a.Error != "" || a.Invalid != "" {
			t.Errorf("%s: reference error %q, invalid %q", c.Name, a.Error, a.Invalid)
			continue
		}
		got := "ALLOW"
		if !a.Allow {
			got = "any refusal"
			if len(a.Codes) == 1 {
				got = fmt.Sprintf("%v:%v", a.Codes[0][0], a.Codes[0][1])
			}
		}
		if got != want {
			t.Errorf("%s (v%s): fixture %s; reference %s (%s)", c.Name, c.RoomVersion, want, got, a.Why)
		}
		rp := "ALLOW"
		var e *membership.Error
		if err := membership.DecideLeave(rm.State, c.UserID); errors.As(err, &e) {
			rp = fmt.Sprintf("%d:%s", e.Status, e.ErrCode)
		} else if err != nil {
			rp = err.Error()
		}
		if rp != want {
			t.Errorf("%s (v%s): fixture %s; DecideLeave %s on the signed room", c.Name, c.RoomVersion, want, rp)
		}
	}
	if len(cases) < 40 {
		t.Errorf("compared %d leave_decision cases, want at least 40", len(cases))
	}
	t.Logf("compared %d leave_decision cases", len(cases))
}

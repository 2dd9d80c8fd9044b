package claimse

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// redaction.ApplyRedaction's doc: "the whole redaction under `unsigned` can take it past the
// 65,536-byte size limit, where signing.VerifyEvent and pdu.Parse refuse it; store, verify and
// send over federation the output of [Redact] instead".
func TestApplyRedactionPastLimit(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			evs := roomState(t, id, nil, "jr_public", `"bob_join"`, `{"__base": "message", "content": {"msgtype": "m.text", "body": "`+strings.Repeat("x", 30000)+`"}}`)
			target := evs[len(evs)-1]
			red := `{"type": "m.room.redaction", "sender": "@alice:a.example", "redacts": "` + target.EventID + `", "content": {"reason": "` + strings.Repeat("r", 64500) + `"}}`
			if v.Format.RedactsInContent {
				red = `{"type": "m.room.redaction", "sender": "@alice:a.example", "content": {"redacts": "` + target.EventID + `", "reason": "` + strings.Repeat("r", 64500) + `"}}`
			}
			all := roomState(t, id, nil, "jr_public", `"bob_join"`, `{"__base": "message", "content": {"msgtype": "m.text", "body": "`+strings.Repeat("x", 30000)+`"}}`, red)
			r := all[len(all)-1]
			if all[len(all)-2].EventID != target.EventID {
				t.Fatal("rooms differ")
			}
			out, err := redaction.ApplyRedaction(target, r)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) <= 65536 {
				t.Fatalf("output %d bytes", len(out))
			}
			if _, err := pdu.Parse(v, out); !errors.Is(err, pdu.ErrTooLarge) {
				t.Errorf("pdu.Parse of the client form past the limit: %v, want ErrTooLarge", err)
			}
			if err := signing.VerifyEvent(v, out, authfixture.KeyRing()); !errors.Is(err, signing.ErrMalformed) {
				t.Errorf("VerifyEvent of the client form past the limit: %v, want ErrMalformed", err)
			}
			stored, err := redaction.Redact(v, target.Raw())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pdu.Parse(v, stored); err != nil {
				t.Errorf("Redact's output: %v", err)
			}
			// the signatures hold; the content hash is the redacted event's expected mismatch
			if err := signing.VerifyEvent(v, stored, authfixture.KeyRing()); !errors.Is(err, signing.ErrContentHashMismatch) {
				t.Errorf("Redact's output: %v, want ErrContentHashMismatch only", err)
			}
		})
	}
}

// membership.DecideJoin's doc: "no function of this package reads `m.room.server_acl`";
// SECURITY.md 8 "membership's handshake functions do not read the ACL".
func TestMembershipIgnoresACL(t *testing.T) {
	acl := `{"type": "m.room.server_acl", "state_key": "", "sender": "@alice:a.example", "content": {"allow": ["a.example"], "deny": ["b.example"], "allow_ip_literals": false}}`
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			evs := roomState(t, id, nil, "jr_public", acl)
			s, err := authrules.NewState(claimkit.Ver(t, id), evs)
			if err != nil {
				t.Fatal(err)
			}
			if serveracl.Allowed(s, "b.example") {
				t.Fatal("the ACL allows b.example")
			}
			if _, err := membership.DecideJoin(membership.JoinRequest{State: s, UserID: "@bob:b.example", ResidentServer: "a.example", Origin: "b.example"}); err != nil {
				t.Errorf("DecideJoin: %v", err)
			}
		})
	}
}

// decisions.md (membership) 20: "DecideJoin (and so MakeJoin)" refuses with ErrNotFederated.
func TestMakeJoinNotFederated(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			s := state(t, id, noFed, "jr_public")
			_, _, err := membership.MakeJoin(membership.JoinRequest{State: s, UserID: "@bob:b.example", ResidentServer: "a.example"}, membership.TemplateOptions{})
			wantNotFederated(t, id, err)
			if errors.Is(err, membership.ErrBanned) {
				t.Error("ErrBanned")
			}
		})
	}
}

// README usage line of verify-room and its help summary.
func TestVerifyRoomUsage(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(claimkit.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "roomproto verify-room --keys FILE [--quiet] [--timing] [FILE]\n") {
		t.Error("README usage line")
	}
	h := cli.Run(t, "", nil, "help")
	if !strings.Contains(h.Stdout, "verify-room    verify and authorise a whole room dump --keys FILE [--quiet] [--timing] [FILE]\n") {
		t.Errorf("help: %s", h.Stdout)
	}
	v := cli.Run(t, "", nil, "verify-room", "-h")
	if !strings.Contains(v.Stdout, "-timing\n") || !strings.Contains(v.Stdout, `add "milliseconds" and "events_per_second" to the summary`) {
		t.Errorf("verify-room -h: %s", v.Stdout)
	}
}

package claimsc

import (
	"strconv"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
)

// README "## Packages" table and the prose under "### membership".
func TestReadmePackagesTable(t *testing.T) {
	// roomversion: "every room version 1..12 as a value of flags and rule sets";
	// canonicaljson: "strict integer rules for room versions 6+".
	all := roomversion.All()
	if len(all) != 12 {
		t.Errorf("%d room versions, want 12", len(all))
	}
	for i, v := range all {
		if v.ID != strconv.Itoa(i+1) {
			t.Errorf("version %d has ID %q", i+1, v.ID)
		}
		if v.Format.StrictCanonicalJSON != (i+1 >= 6) {
			t.Errorf("v%s StrictCanonicalJSON %v", v.ID, v.Format.StrictCanonicalJSON)
		}
	}
	// serveracl: "case-sensitive glob matching, IP literals, ports ignored"
	acl, err := serveracl.Parse([]byte(`{"allow":["*"],"deny":["evil.example","*.bad.example"],"allow_ip_literals":false}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"evil.example": false, "evil.example:8448": false, "EVIL.example": true,
		"x.bad.example": false, "x.BAD.example": true, "1.2.3.4": false, "[::1]": false, "1.2.3.4:8448": false, "good.example": true} {
		if acl.Allowed(name) != want {
			t.Errorf("Allowed(%q) = %v, want %v", name, !want, want)
		}
	}
	// "MakeJoin, SendJoin and CheckSendJoinResponse wrap the whole join handshake; MakeKnock,
	// SendKnock, SignInvite and StrippedState the knock and invite handshakes; MakeLeave,
	// CheckLeaveTemplate and SendLeave the leave handshake; FindTransition the membership state
	// diagram"; "roomversion only names each version's algorithm (Version.StateRes)".
	_ = []any{membership.MakeJoin, membership.SendJoin, membership.CheckSendJoinResponse, membership.MakeKnock,
		membership.SendKnock, membership.SignInvite, membership.StrippedState, membership.MakeLeave,
		membership.CheckLeaveTemplate, membership.SendLeave, membership.FindTransition}
	_ = all[0].StateRes
	_ = authrules.CheckAuthChain
	_ = signing.VerifyEvents
}

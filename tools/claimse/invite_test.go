package claimse

import (
	"errors"

	"encoding/json"
	"github.com/roomproto/roomproto/signing"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// decisions.md (membership) 18: CountersignEvent "keeps an `ed25519:policy_server` one, the
// Policy Server's signature when the resident (or the invited server, for SignInvite) is also
// the room's Policy Server".
func TestSignInviteKeepsPolicyServer(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			evs := roomState(t, id, nil, "jr_invite", `"bob_invite"`)
			inv := evs[len(evs)-1]
			var obj map[string]any
			if err := json.Unmarshal(inv.Raw(), &obj); err != nil {
				t.Fatal(err)
			}
			obj["signatures"].(map[string]any)["b.example"] = M{"ed25519:policy_server": "cG9saWN5"}
			raw, _ := json.Marshal(obj)
			res, err := membership.SignInvite(membership.InviteRequest{
				RoomVersion: v, Event: raw, InviteRoomState: []json.RawMessage{evs[0].Raw()},
				LocalServer: "b.example", Key: authfixture.Key("b.example"), Keys: authfixture.KeyRing(),
			})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Signatures map[string]map[string]string `json:"signatures"`
			}
			if err := json.Unmarshal(res.Event, &got); err != nil {
				t.Fatal(err)
			}
			b := got.Signatures["b.example"]
			if b["ed25519:policy_server"] != "cG9saWN5" || b["ed25519:1"] == "" || len(b) != 2 {
				t.Errorf("b.example's signatures: %v", b)
			}
		})
	}
}

// membership.Error's doc: "A refusal because a signature's key is not known to the caller's key
// lookup (... SignInvite without the sending server's key ...) matches signing.ErrUnknownKey".
func TestSignInviteUnknownKey(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			evs := roomState(t, id, nil, "jr_invite", `"bob_invite"`)
			keys := authfixture.KeyRing()
			delete(keys, "a.example")
			_, err := membership.SignInvite(membership.InviteRequest{
				RoomVersion: v, Event: evs[len(evs)-1].Raw(), InviteRoomState: []json.RawMessage{evs[0].Raw()},
				LocalServer: "b.example", Key: authfixture.Key("b.example"), Keys: keys,
			})
			var me *membership.Error
			if !errors.Is(err, signing.ErrUnknownKey) || !errors.As(err, &me) {
				t.Errorf("%v, want a *membership.Error matching signing.ErrUnknownKey", err)
			}
		})
	}
}

package claimsb

// Self-contained versions of the findings that concern library code, importing roomproto's
// packages only, for pasting into the package's own tests (as package <pkg>_test).

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// B5: package membership: "Nothing in this package panics on bad input".
func TestPasteB5MembershipNilPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"(*Error)(nil).JSON":             func() { var e *membership.Error; _ = e.JSON() },
		"(*Error)(nil).TryAnotherServer": func() { var e *membership.Error; _ = e.TryAnotherServer() },
		"Transition.RequiredLevel(nil)": func() {
			membership.Transition{Levels: []membership.Level{membership.LevelBan}}.RequiredLevel(nil)
		},
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s panics: %v", name, r)
				}
			}()
			f()
		}()
	}
}

// B8 (settled: the text): docs/decisions.md (Policy servers) 7: "the response's other members
// are never read, so their shape is not checked".
func TestPasteB8AddSignatureResponseShape(t *testing.T) {
	v, _ := roomversion.Lookup("10")
	seed := sha256.Sum256([]byte("a.example"))
	origin, _ := signing.NewSigningKey("1", seed[:])
	psSeed := sha256.Sum256([]byte("policy.example"))
	psKey, _ := signing.NewSigningKey("policy_server", psSeed[:])
	ev, err := signing.SignEvent(v, []byte(`{"auth_events":[],"content":{"body":"x"},"depth":1,"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","type":"m.room.message"}`), "a.example", origin)
	if err != nil {
		t.Fatal(err)
	}
	withPS, _ := signing.CountersignEvent(v, ev, "policy.example", psKey)
	var m struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	_ = json.Unmarshal(withPS, &m)
	sig := m.Signatures["policy.example"]["ed25519:policy_server"]
	ps := policyserver.Server{Name: "policy.example", PublicKey: base64.RawStdEncoding.EncodeToString(psKey.Public())}
	resp := `{"policy.example":{"ed25519:policy_server":"` + sig + `"},"other.example":null}`
	if _, err := policyserver.AddSignature(v, ev, ps, []byte(resp)); err != nil {
		t.Errorf("response with a null entry of another server: %v, want the signature added", err)
	}
	resp = `{"policy.example":null}`
	if _, err := policyserver.AddSignature(v, ev, ps, []byte(resp)); !errors.Is(err, policyserver.ErrMalformed) {
		t.Errorf("response with a null entry of the Policy Server: %v, want ErrMalformed", err)
	}
}

// B9 (settled: the text): docs/decisions.md (bulk) 5: a missing auth event comes before the
// other checks of its rule; "v12's rule 2 on the room ID comes first, as the spec orders it".
func TestPasteB9MissingBeforeV12Rule2(t *testing.T) {
	v, _ := roomversion.Lookup("12")
	ev, err := pdu.Parse(v, []byte(`{"auth_events":["$missing"],"content":{},"depth":2,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":["$p"],"room_id":"!nosuchroom","sender":"@a:a.example","signatures":{},"type":"m.room.message"}`))
	if err != nil {
		t.Fatal(err)
	}
	ev.EventID = "$e"
	var rj *authrules.Rejection
	err = authrules.Check(v, ev, nil, nil)
	if !errors.As(err, &rj) || rj.Rule != "2" || !errors.Is(err, authrules.ErrRoomIDNotCreate) {
		t.Errorf("Check: %v, want rule 2 ErrRoomIDNotCreate", err)
	}
	res, _ := authrules.CheckAuthChain(v, []*pdu.Event{ev}, nil)
	if !errors.As(res.Verdicts[0].Err, &rj) || rj.Rule != "2" || !errors.Is(res.Verdicts[0].Err, authrules.ErrRoomIDNotCreate) {
		t.Errorf("CheckAuthChain: %v, want rule 2 ErrRoomIDNotCreate", res.Verdicts[0].Err)
	}
}

package membership

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// signKeepingHashes signs event (without hashes and signatures) as server, with `hashes`
// holding the right sha256 and a second algorithm: a valid event that SignEvent, which
// writes `hashes` anew, could not have made.
func signKeepingHashes(t *testing.T, v roomversion.Version, event []byte, server string) []byte {
	t.Helper()
	m := unsignedFields(t, event)
	raw, _ := json.Marshal(m)
	sum, err := signing.ContentHash(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	m["hashes"] = map[string]any{"sha256": base64.RawStdEncoding.EncodeToString(sum[:]), "sha512": "AAAA"}
	raw, _ = json.Marshal(m)
	redacted, err := redaction.Redact(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	signedRedacted, err := signing.SignJSON(redacted, server, serverKey(t, server))
	if err != nil {
		t.Fatal(err)
	}
	var sigs struct {
		Signatures json.RawMessage `json:"signatures"`
	}
	if err := json.Unmarshal(signedRedacted, &sigs); err != nil {
		t.Fatal(err)
	}
	m["signatures"] = sigs.Signatures
	out, _ := json.Marshal(m)
	ev, err := signing.ParseEvent(v, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := signing.VerifyEventSignature(ev, server, keyRing(t, server)); err != nil {
		t.Fatalf("the event made for the test does not verify: %v", err)
	}
	if err := signing.CheckContentHash(v, out); err != nil {
		t.Fatalf("the event made for the test: %v", err)
	}
	return out
}

// TestSendJoinKeepsTheEvent: the resident adds its signature and changes nothing else
// (joins-v2.yaml: the event "including a signature from the resident server"); a second hash
// algorithm in `hashes` stays, the event ID stays, and the joining server's signature still
// holds. The result names the authoriser the event carries, not the resident's own choice.
func TestSendJoinKeepsTheEvent(t *testing.T) {
	for _, version := range []string{"9", "10", "12"} {
		t.Run("v"+version, func(t *testing.T) {
			v := mustVersion(t, version)
			rooms := KnownRooms{spaceID: {joiner: "join"}}
			b := restrictedRoom(t, v, "restricted", nil)
			d, _, signed := joinOnce(t, b, rooms)
			if d.AuthorisingUser != "@alice:a.example" {
				t.Fatalf("make_join chose %q", d.AuthorisingUser)
			}
			// The joining server names @mod (also able to invite) and adds a sha512.
			body := mutate(t, v, signed, joinSrv, func(m map[string]any) {
				m["content"].(map[string]any)["join_authorised_via_users_server"] = "@mod:a.example"
			})
			body = signKeepingHashes(t, v, body, joinSrv)
			sent, err := signing.ParseEvent(v, body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := SendJoin(SendJoinRequest{State: b.stateOf(), ResidentServer: resident, Rooms: rooms, Origin: joinSrv,
				EventID: sent.EventID, Event: body, Key: serverKey(t, resident), Keys: keyRing(t, joinSrv)})
			if err != nil {
				t.Fatalf("SendJoin: %v", err)
			}
			if res.Parsed.EventID != sent.EventID {
				t.Fatalf("event ID %s, sent %s", res.Parsed.EventID, sent.EventID)
			}
			a, _ := withoutSignatures(v, body)
			c, _ := withoutSignatures(v, res.Event)
			if !bytes.Equal(a, c) {
				t.Fatalf("join changed beyond its signatures:\n%s\n%s", a, c)
			}
			if err := signing.VerifyEvent(v, res.Event, keyRing(t, resident, joinSrv)); err != nil {
				t.Fatalf("returned event: %v", err)
			}
			if _, err := CheckSendJoinResponse(v, body, res.Event, resident, keyRing(t, resident, joinSrv)); err != nil {
				t.Fatalf("CheckSendJoinResponse: %v", err)
			}
			if res.Decision.Basis != BasisCondition || res.Decision.AuthorisingUser != "@mod:a.example" {
				t.Fatalf("decision %+v, want the event's authoriser @mod:a.example", res.Decision)
			}
		})
	}
}

// TestSignInviteKeepsTheEvent: the invited server adds its signature and leaves every other
// field untouched (invites-v2.yaml), a second hash algorithm included.
func TestSignInviteKeepsTheEvent(t *testing.T) {
	for _, version := range []string{"2", "9", "12"} {
		t.Run("v"+version, func(t *testing.T) {
			b, inv, _ := inviteSetup(t, version)
			body := signKeepingHashes(t, b.v, inv, resident)
			sent, err := signing.ParseEvent(b.v, body)
			if err != nil {
				t.Fatal(err)
			}
			res, err := SignInvite(InviteRequest{RoomVersion: b.v, EventID: sent.EventID, Origin: resident, Event: body,
				LocalServer: joinSrv, Key: serverKey(t, joinSrv), Keys: keyRing(t, resident), RoomState: StrippedStateSkip})
			if err != nil {
				t.Fatalf("SignInvite: %v", err)
			}
			if res.Parsed.EventID != sent.EventID {
				t.Fatalf("event ID %s, sent %s", res.Parsed.EventID, sent.EventID)
			}
			a, _ := withoutSignatures(b.v, body)
			c, _ := withoutSignatures(b.v, res.Event)
			if !bytes.Equal(a, c) {
				t.Fatalf("invite changed beyond its signatures:\n%s\n%s", a, c)
			}
			if err := signing.VerifyEvent(b.v, res.Event, keyRing(t, resident, joinSrv)); err != nil {
				t.Fatalf("returned event: %v", err)
			}
		})
	}
}

// TestSendJoinEventIDDomainSigns: in room versions 1-2 the server of the event ID's domain
// must also have signed, when it differs from the sender's (server-server-api "Validating
// hashes and signatures on received events"); an ID in the resident's own domain, which the
// joining server had no business minting, is refused.
func TestSendJoinEventIDDomainSigns(t *testing.T) {
	for _, version := range []string{"1", "2"} {
		v := mustVersion(t, version)
		b := restrictedRoom(t, v, "public", nil)
		s := b.stateOf()
		_, tmpl, err := MakeJoin(JoinRequest{State: s, UserID: joiner, ResidentServer: resident}, templateOpts(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			eventID string
			ok      bool
			reason  error
		}{
			{"$join:z.example", true, nil},
			{"$join:a.example", false, ErrBadEvent}, // the resident's own domain
			{"$join:other.example", false, signing.ErrMissingSignature},
		} {
			t.Run("v"+version+"/"+c.eventID, func(t *testing.T) {
				signed, err := SignTemplate(v, tmpl.Event, joinSrv, 1700000200000, c.eventID, joinSrv, serverKey(t, joinSrv))
				if err != nil {
					t.Fatal(err)
				}
				keys := keyRing(t, joinSrv, "other.example")
				res, err := SendJoin(SendJoinRequest{State: s, ResidentServer: resident, Origin: joinSrv, Event: signed,
					Key: serverKey(t, resident), Keys: keys})
				if !c.ok {
					var e *Error
					if !errors.As(err, &e) || e.Status != 400 || e.ErrCode != ErrCodeInvalidParam || !errors.Is(err, c.reason) {
						t.Fatalf("got %v, want 400 M_INVALID_PARAM (%v)", err, c.reason)
					}
					return
				}
				if err != nil {
					t.Fatalf("SendJoin: %v", err)
				}
				if err := signing.VerifyEvent(v, res.Event, keyRing(t, resident, joinSrv)); err != nil {
					t.Fatalf("returned event: %v", err)
				}
				if res.Parsed.Type != pdu.TypeMember {
					t.Fatal("not a member event")
				}
			})
		}
	}
}

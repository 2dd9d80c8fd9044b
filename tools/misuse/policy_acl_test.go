package misuse

import (
	"bytes"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func TestPolicyServer(t *testing.T) {
	v8, v9 := claimkit.Ver(t, "8"), claimkit.Ver(t, "9")
	policy := func(v roomversion.Version, roomID string) obj {
		return obj{"type": "m.room.policy", "state_key": "", "sender": "@alice:a.example", "room_id": roomID,
			"content": obj{"via": "policy.example", "public_keys": obj{"ed25519": b64(key("policy.example").Public())}}}
	}
	pmember := func(roomID string) obj {
		return obj{"type": "m.room.member", "state_key": "@ps:policy.example", "sender": "@ps:policy.example", "room_id": roomID, "content": obj{"membership": "join"}}
	}
	sA := stateOf(t, v9, room(t, v9, roomA, policy(v9, roomA), pmember(roomA)))
	ps, ok := policyserver.Of(sA)
	if !ok {
		t.Fatal("no policy server")
	}
	psSign := func(v roomversion.Version, b []byte) []byte {
		k, _ := signing.NewSigningKey(policyserver.KeyVersion, seedOf("policy.example"))
		out, err := signing.CountersignEvent(v, b, "policy.example", k)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	msgB := func(v roomversion.Version, roomID string) []byte {
		return raw(t, v, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomID, "content": obj{"body": "x"}})
	}
	runProbes(t, []probe{
		{"Check/baseline-signed-and-unsigned", "", func(t *testing.T) {
			if err := policyserver.Check(sA, parse(t, v9, psSign(v9, msgB(v9, roomA)))); err != nil {
				t.Fatal(err)
			}
			if err := policyserver.Check(sA, parse(t, v9, msgB(v9, roomA))); !errors.Is(err, policyserver.ErrMissingSignature) {
				t.Fatal(err)
			}
		}},
		{"Check/event-of-another-room", "", func(t *testing.T) {
			// The State's Policy Server recommends an event of another room. Expected, as
			// State.Check now does: refuse the mismatch instead of a verdict.
			err := policyserver.Check(sA, parse(t, v9, psSign(v9, msgB(v9, roomB))))
			if err == nil {
				t.Fatal("room A's Policy Server recommends an event of room B")
			}
		}},
		{"Check/event-of-another-version", "", func(t *testing.T) {
			err := policyserver.Check(sA, parse(t, v8, psSign(v8, msgB(v8, roomA))))
			if err == nil {
				t.Fatal("a v9 room's Policy Server recommends an event parsed for v8")
			}
		}},
		{"Check/nil-State-nil-event", "", func(t *testing.T) {
			if err := policyserver.Check(nil, parse(t, v9, msgB(v9, roomA))); err != nil {
				t.Fatal(err)
			}
			if err := policyserver.Check(sA, nil); !errors.Is(err, policyserver.ErrMissingSignature) {
				t.Fatal(err)
			}
		}},
		{"Server.Check/zero-Server", "", func(t *testing.T) {
			err := policyserver.Server{}.Check(parse(t, v9, msgB(v9, roomA)))
			var pe *policyserver.Error
			if !errors.As(err, &pe) {
				t.Fatal(err)
			}
		}},
		{"Server.Check/hand-made-event", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.message", Sender: "@a:a.example", RoomID: roomA,
				Signatures: pdu.Signatures{{Server: "policy.example", KeyID: policyserver.KeyID, Value: "AAAA"}}}
			err := ps.Check(e)
			var pe *policyserver.Error
			if !errors.As(err, &pe) {
				t.Fatalf("hand-made event: %v", err)
			}
		}},
		{"Exempt/nil-and-hand-made", "", func(t *testing.T) {
			if policyserver.Exempt(nil) {
				t.Fatal("nil exempt")
			}
			if !policyserver.Exempt(&pdu.Event{Type: "m.room.policy", StateKey: ptr("")}) {
				t.Fatal("hand-made policy event not exempt")
			}
		}},
		{"AddSignature/zero-version-zero-server", "", func(t *testing.T) {
			resp := []byte(`{"policy.example":{"ed25519:policy_server":"AAAA"}}`)
			if _, err := policyserver.AddSignature(roomversion.Version{}, msgB(v9, roomA), ps, resp); !errors.Is(err, roomversion.ErrUnknownVersion) {
				var pe *policyserver.Error
				if !errors.As(err, &pe) {
					t.Fatal(err)
				}
			}
			if _, err := policyserver.AddSignature(v9, msgB(v9, roomA), policyserver.Server{}, resp); !errors.Is(err, policyserver.ErrMalformed) {
				t.Fatal(err)
			}
		}},
		{"AddSignature/input-not-modified-result-not-shared", "", func(t *testing.T) {
			signed := psSign(v9, msgB(v9, roomA))
			e := parse(t, v9, signed)
			sig, _ := e.Signatures.Get("policy.example", policyserver.KeyID)
			resp := []byte(`{"policy.example":{"ed25519:policy_server":"` + sig + `"}}`)
			in := msgB(v9, roomA)
			keep := clone(in)
			out, err := policyserver.AddSignature(v9, in, ps, resp)
			if err != nil || !bytes.Equal(in, keep) {
				t.Fatal(err)
			}
			k2 := clone(out)
			scribble(in)
			scribble(resp)
			if !bytes.Equal(out, k2) {
				t.Fatal("aliased")
			}
		}},
	})
}

func seedOf(server string) []byte {
	k := key(server)
	return k.Private.Seed()
}

func TestServerACL(t *testing.T) {
	v9 := claimkit.Ver(t, "9")
	acl := func(roomID string, allow ...any) obj {
		return obj{"type": "m.room.server_acl", "state_key": "", "sender": "@alice:a.example", "room_id": roomID, "content": obj{"allow": allow}}
	}
	runProbes(t, []probe{
		{"Parse/content-not-aliased", "", func(t *testing.T) {
			c := []byte(`{"allow":["a.example"],"deny":["evil.example"]}`)
			a, err := serveracl.Parse(c)
			if err != nil {
				t.Fatal(err)
			}
			scribble(c)
			if !a.Allowed("a.example") || a.Allowed("evil.example") {
				t.Fatal("aliased")
			}
		}},
		{"Parse/nil", "", func(t *testing.T) {
			if _, err := serveracl.Parse(nil); !errors.Is(err, serveracl.ErrNotObject) {
				t.Fatal(err)
			}
		}},
		{"ACL/zero-value-denies-all", "", func(t *testing.T) {
			// The zero ACL has no Allow: every server is denied (and IP literals too,
			// since AllowIPLiterals is false: the opposite of Parse's default).
			if (serveracl.ACL{}).Allowed("a.example") {
				t.Fatal("zero ACL allows")
			}
		}},
		{"Allowed/nil-State", "", func(t *testing.T) {
			if !serveracl.Allowed(nil, "a.example") {
				t.Fatal("nil state denies")
			}
		}},
		{"Of/Allow-slice-not-shared-between-calls", "", func(t *testing.T) {
			s := stateOf(t, v9, room(t, v9, roomA, acl(roomA, "a.example")))
			a, ok := serveracl.Of(s)
			if !ok {
				t.Fatal("no acl")
			}
			a.Allow[0] = "*"
			a.Deny = append(a.Deny, "x")
			b, _ := serveracl.Of(s)
			if b.Allowed("evil.example") {
				t.Fatal("mutating Of's result changed the next answer")
			}
		}},
		{"Match-Host/empty", "", func(t *testing.T) {
			if !serveracl.Match("", "") || serveracl.Match("", "a") || serveracl.Host("") != "" || serveracl.IsIPLiteral("") {
				t.Fatal("empty")
			}
		}},
	})
	_ = authrules.ErrInvalidState
}

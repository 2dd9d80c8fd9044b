package scenarios

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
)

// policyKey is the Policy Server's signing key (key ID ed25519:policy_server).
func policyKey(t testing.TB) signing.SigningKey {
	k, err := signing.NewSigningKey(policyserver.KeyVersion, roomgen.TestKey("p.example").Private.Seed())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// policySign is what the Policy Server answers to POST /_matrix/policy/v1/sign: its
// signature of the event, {"p.example":{"ed25519:policy_server":"<sig>"}}. roomproto has no
// function for the Policy Server's side; CountersignEvent computes the signature.
func policySign(t testing.TB, ver string, event []byte, key signing.SigningKey) []byte {
	t.Helper()
	v := mustVersion(t, ver)
	signed, err := signing.CountersignEvent(v, event, "p.example", key)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := pdu.Parse(v, signed)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := ev.Signatures.Get("p.example", policyserver.KeyID)
	out, _ := json.Marshal(map[string]map[string]string{"p.example": {policyserver.KeyID: sig}})
	return out
}

// TestPolicyServer: a room that names a Policy Server with a joined user: carol's message
// without its signature is soft failed (check 7) after passing the auth rules; with the
// signature AddSignature adds, it is accepted, also when check 3 redacts it in transit; the
// m.room.policy event itself is exempt.
func TestPolicyServer(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			v := r.f.v
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			p := r.f.addServer("p.example")
			delete(r.f.servers, "p.example") // p.example only signs: it is sent nothing
			pk := policyKey(t)
			a.send(t, draft{Type: policyserver.EventType, Sender: r.creator, StateKey: str(""), Content: map[string]any{
				"via": "p.example", "public_keys": map[string]any{"ed25519": base64.RawStdEncoding.EncodeToString(pk.Public())},
			}})
			if _, ok := policyserver.Of(a.State(t)); ok {
				t.Fatal("a Policy Server without a joined user is in use")
			}
			a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@policy:p.example"), Content: member("invite")})
			// The Policy Server's user joins (its server, with a.example's view of the room,
			// signs as p.example with ed25519:1).
			p.current, p.stateAfter, p.store, p.extremity = copyState(a.current), a.stateAfter, a.store, a.extremity
			pj := p.build(t, draft{Type: pdu.TypeMember, Sender: "@policy:p.example", StateKey: str("@policy:p.example"), Content: member("join")})
			for _, s := range []*server{a, b, c} {
				if rc := s.receive(t, "p.example", pj); rc.Outcome != Accepted {
					t.Fatalf("%s: policy user's join %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			ps, ok := policyserver.Of(a.State(t))
			if !ok || ps.Name != "p.example" {
				t.Fatalf("Of: %+v %v", ps, ok)
			}
			// Unsigned by the Policy Server: soft failed on every server.
			raw := c.build(t, msg("@carol:c.example", "spam?"))
			for _, s := range []*server{a, b} {
				if rc := s.receive(t, "c.example", raw); rc.Outcome != SoftFailedPS || !errors.Is(rc.Err, policyserver.ErrMissingSignature) {
					t.Errorf("%s: %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			// Signed with another key: ErrBadSignature.
			wrong, _ := signing.NewSigningKey(policyserver.KeyVersion, roomgen.TestKey("q.example").Private.Seed())
			raw = c.build(t, msg("@carol:c.example", "forged"))
			if _, err := policyserver.AddSignature(v, raw, ps, policySign(t, ver, raw, wrong)); !errors.Is(err, policyserver.ErrBadSignature) {
				t.Errorf("AddSignature of a wrong key: %v", err)
			}
			forged, _ := signing.CountersignEvent(v, raw, "p.example", wrong)
			if rc := a.receive(t, "c.example", forged); rc.Outcome != SoftFailedPS || !errors.Is(rc.Err, policyserver.ErrBadSignature) {
				t.Errorf("forged: %v %v", rc.Outcome, rc.Err)
			}
			// Carol's server asks for the signature before sending.
			raw = c.build(t, msg("@carol:c.example", "hello"))
			signed, err := policyserver.AddSignature(v, raw, ps, policySign(t, ver, raw, pk))
			if err != nil {
				t.Fatalf("AddSignature: %v", err)
			}
			id1, _ := signing.EventID(v, raw)
			id2, _ := signing.EventID(v, signed)
			if id1 != id2 {
				t.Errorf("AddSignature changed the event ID")
			}
			// Redacted in transit (check 3): the Policy Server's signature covers the redacted
			// form, so the event stays recommended.
			tampered := edit(t, signed, func(m map[string]any) { m["content"].(map[string]any)["body"] = "changed" })
			rc := b.receive(t, "c.example", tampered)
			if rc.Outcome != Accepted || !rc.Redacted {
				t.Errorf("b: redacted in transit: %v %v", rc.Outcome, rc.Err)
			}
			for _, s := range []*server{c, a} {
				if rc := s.receive(t, "c.example", signed); rc.Outcome != Accepted {
					t.Errorf("%s: signed: %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			// Changing the m.room.policy event needs no Policy Server signature.
			if !policyserver.Exempt(a.current[sk(policyserver.EventType, "")]) {
				t.Error("Exempt")
			}
			raw = a.build(t, draft{Type: policyserver.EventType, Sender: r.creator, StateKey: str(""), Content: map[string]any{}})
			if rc := c.receive(t, "a.example", raw); rc.Outcome != Accepted {
				t.Errorf("m.room.policy removal: %v %v", rc.Outcome, rc.Err)
			}
		})
	}
}

// TestServerACL: after an ACL denying c.example, its PDUs are ignored per PDU (the sending
// server is denied), whatever the auth rules say, while the same PDU relayed by an allowed
// server is judged by the rules; the ACL event changes no auth verdict.
func TestServerACL(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			a.send(t, draft{Type: "m.room.server_acl", Sender: r.creator, StateKey: str(""), Content: map[string]any{
				"allow": []any{"*"}, "deny": []any{"c.example", "*.evil.example"}, "allow_ip_literals": false,
			}})
			raw := c.build(t, msg("@carol:c.example", "still here"))
			if rc := a.receive(t, "c.example", raw); rc.Outcome != IgnoredACL {
				t.Errorf("from c.example: %v", rc.Outcome)
			}
			if rc := a.receive(t, "c.example:8448", raw); rc.Outcome != IgnoredACL {
				t.Errorf("from c.example:8448: %v", rc.Outcome)
			}
			if rc := a.receive(t, "b.example", raw); rc.Outcome != Accepted {
				t.Errorf("relayed by b.example: %v %v", rc.Outcome, rc.Err)
			}
			if rc := b.receive(t, "[::1]", raw); rc.Outcome != IgnoredACL {
				t.Errorf("from an IP literal: %v", rc.Outcome)
			}
		})
	}
}

// TestACLHandshakes: the endpoints make_join, send_join, make_knock and send_knock MUST be
// protected by the room's ACL (server-server-api "Server Access Control Lists"): a resident
// answers 403 M_FORBIDDEN to a denied origin. The membership handshake functions take the
// request's Origin and the room's current state, but do not apply the ACL: settled (S1) as
// their documentation says, the caller checks serveracl.Allowed first.
func TestACLHandshakes(t *testing.T) {
	for _, ver := range restrictedVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := restrictedRoom(t, ver)
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			a.send(t, draft{Type: "m.room.server_acl", Sender: r.creator, StateKey: str(""), Content: map[string]any{"allow": []any{"*"}, "deny": []any{"c.example"}}})
			st := b.State(t)
			ext := b.store[b.extremity]
			_, _, err := membership.MakeJoin(membership.JoinRequest{State: st, UserID: "@carol:c.example", ResidentServer: "b.example", Rooms: space, Origin: "c.example"},
				membership.TemplateOptions{Origin: "b.example", OriginServerTS: r.f.now(), PrevEvents: []string{ext.EventID}, Depth: ext.Depth + 1})
			if err != nil {
				t.Errorf("make_join from a server the room's ACL denies: %v; membership reads no ACL (documented)", err)
			}
			if serveracl.Allowed(st, "c.example") {
				t.Errorf("serveracl.Allowed lets the denied origin in")
			}
		})
	}
}

// TestPolicyServerJoin: in a room with a Policy Server, the joining server has its join
// signed by the Policy Server before send_join; the resident's countersignature must keep
// that signature, or every other server soft fails the join (check 7). When the Policy
// Server's name is the resident's own (a homeserver that is also the room's Policy Server),
// SendJoin's CountersignEvent replaces the stale signatures under that name but keeps the
// Policy Server's ed25519:policy_server one (finding S4, fixed: it dropped it).
func TestPolicyServerJoin(t *testing.T) {
	for _, ver := range restrictedVersions {
		for _, via := range []string{"p.example", "b.example"} {
			t.Run("v"+ver+"/via-"+via, func(t *testing.T) {
				r := restrictedRoom(t, ver)
				v := r.f.v
				a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
				pk, err := signing.NewSigningKey(policyserver.KeyVersion, roomgen.TestKey("policy of "+via).Private.Seed())
				if err != nil {
					t.Fatal(err)
				}
				a.send(t, draft{Type: policyserver.EventType, Sender: r.creator, StateKey: str(""), Content: map[string]any{
					"via": via, "public_keys": map[string]any{"ed25519": base64.RawStdEncoding.EncodeToString(pk.Public())},
				}})
				if via == "p.example" {
					p := r.f.addServer("p.example")
					delete(r.f.servers, "p.example")
					a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@policy:p.example"), Content: member("invite")})
					p.current, p.stateAfter, p.store, p.extremity = copyState(a.current), a.stateAfter, a.store, a.extremity
					pj := p.build(t, draft{Type: pdu.TypeMember, Sender: "@policy:p.example", StateKey: str("@policy:p.example"), Content: member("join")})
					for _, s := range []*server{a, b, c} {
						if rc := s.receive(t, "p.example", pj); rc.Outcome != Accepted {
							t.Fatalf("%s: %v %v", s.name, rc.Outcome, rc.Err)
						}
					}
				}
				ps, ok := policyserver.Of(a.State(t))
				if !ok {
					t.Fatal("no Policy Server in use")
				}
				r.beforeSendJoin = func(signed []byte) []byte {
					resp, err := signing.CountersignEvent(v, signed, via, pk)
					if err != nil {
						t.Fatal(err)
					}
					ev, _ := pdu.Parse(v, resp)
					sig, _ := ev.Signatures.Get(via, policyserver.KeyID)
					body, _ := json.Marshal(map[string]map[string]string{via: {policyserver.KeyID: sig}})
					out, err := policyserver.AddSignature(v, signed, ps, body)
					if err != nil {
						t.Fatalf("AddSignature: %v", err)
					}
					return out
				}
				join, raw := joinOver(t, r, b, c, "@carol:c.example", space)
				if err := ps.Check(join); err != nil {
					t.Errorf("the join returned by send_join is not recommended: %v", err)
				}
				if rc := a.receive(t, "b.example", raw); rc.Outcome != Accepted {
					t.Errorf("a: %v %v", rc.Outcome, rc.Err)
				}
			})
		}
	}
}

// TestPolicyServerInvite: the same as TestPolicyServerJoin for /invite: alice invites a
// second user of the Policy Server's own homeserver; the invite carries the Policy Server's
// signature, which SignInvite's countersignature by that homeserver keeps (finding S4, fixed:
// it dropped it, and the other servers soft failed the invite).
func TestPolicyServerInvite(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			v := r.f.v
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			p := r.f.addServer("p.example")
			delete(r.f.servers, "p.example")
			pk := policyKey(t)
			a.send(t, draft{Type: policyserver.EventType, Sender: r.creator, StateKey: str(""), Content: map[string]any{
				"via": "p.example", "public_keys": map[string]any{"ed25519": base64.RawStdEncoding.EncodeToString(pk.Public())},
			}})
			a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@policy:p.example"), Content: member("invite")})
			p.current, p.stateAfter, p.store, p.extremity = copyState(a.current), a.stateAfter, a.store, a.extremity
			pj := p.build(t, draft{Type: pdu.TypeMember, Sender: "@policy:p.example", StateKey: str("@policy:p.example"), Content: member("join")})
			for _, s := range r.f.servers {
				if rc := s.receive(t, "p.example", pj); rc.Outcome != Accepted {
					t.Fatalf("%s: %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			ps, _ := policyserver.Of(a.State(t))
			raw := a.build(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@admin:p.example"), Content: member("invite")})
			raw, err := policyserver.AddSignature(v, raw, ps, policySign(t, ver, raw, pk))
			if err != nil {
				t.Fatal(err)
			}
			id, _ := signing.EventID(v, raw)
			res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: v, RoomID: r.f.roomID, EventID: id, Origin: "a.example",
				Event: raw, InviteRoomState: rawList(membership.StrippedState(a.State(t))), LocalServer: "p.example", Key: p.key, Keys: r.f.keys})
			if err != nil {
				t.Fatal(err)
			}
			rc := b.receive(t, "a.example", res.Event)
			if rc.Outcome != Accepted {
				t.Errorf("b: the countersigned invite: %v %v", rc.Outcome, rc.Err)
			}
		})
	}
}

// TestRedactedACL: redacting m.room.server_acl leaves its content empty (no version keeps a
// key of it), which the ACL rules read as "allow: []": every server is denied, the one that
// sent the redaction included, so the room cannot repair it (the motivation of MSC2870, not
// in the spec). roomproto follows the spec; the only remedy is the homeserver's refusing such a
// redaction from its own clients, as Synapse does.
func TestRedactedACL(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			a, b := r.f.servers["a.example"], r.f.servers["b.example"]
			acl := a.send(t, draft{Type: "m.room.server_acl", Sender: r.creator, StateKey: str(""), Content: map[string]any{"allow": []any{"*"}}})
			redactState(t, r, acl)
			if serveracl.Allowed(b.State(t), "a.example") || serveracl.Allowed(b.State(t), "b.example") {
				t.Fatal("a redacted ACL allows a server")
			}
			fix := a.build(t, draft{Type: "m.room.server_acl", Sender: r.creator, StateKey: str(""), Content: map[string]any{"allow": []any{"*"}}})
			if rc := b.receive(t, "a.example", fix); rc.Outcome != IgnoredACL {
				t.Errorf("the repairing ACL: %v", rc.Outcome)
			}
		})
	}
}

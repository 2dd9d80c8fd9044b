package claimsb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

const psName = "policy.example"

func psKey() signing.SigningKey { return authgen.KeyFor(psName, "policy_server") }

func psPub() string { return base64.RawStdEncoding.EncodeToString(psKey().Public()) }

// policyRoom is a v10 public room with an m.room.policy event and a joined member
// (memberKey) of the policy server.
func policyRoom(t *testing.T, policyContent M, memberKey string) (*room, *authrules.State) {
	t.Helper()
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	var more []*pdu.Event
	if policyContent != nil {
		more = append(more, ev(t, v, M{"type": "m.room.policy", "state_key": "", "content": policyContent}))
	}
	if memberKey != "" {
		more = append(more, ev(t, v, M{"sender": memberKey, "type": "m.room.member", "state_key": memberKey, "content": M{"membership": "join"}}))
	}
	return r, r.state(t, more...)
}

func psSign(t *testing.T, b []byte, server string, key signing.SigningKey) []byte {
	t.Helper()
	out, err := signing.CountersignEvent(ver("10"), b, server, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func parse10(t *testing.T, b []byte) *pdu.Event {
	t.Helper()
	e, err := signing.ParseEvent(ver("10"), b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// go doc policyserver.Of; decisions.md (Policy servers) 1, 2, 6.
func TestPolicyOf(t *testing.T) {
	good := M{"via": psName, "public_keys": M{"ed25519": psPub()}}
	cases := []struct {
		name    string
		content M
		member  string
		want    bool
	}{
		{"enabled", good, "@ps:policy.example", true},
		{"no policy event", nil, "@ps:policy.example", false},
		{"no joined user", good, "", false},
		{"via not a server name (1)", M{"via": "policy example", "public_keys": M{"ed25519": psPub()}}, "@ps:policy example", false},
		{"via with bad port (1)", M{"via": "policy.example:123456", "public_keys": M{"ed25519": psPub()}}, "@ps:policy.example:123456", false},
		{"via not a string", M{"via": 5, "public_keys": M{"ed25519": psPub()}}, "@ps:policy.example", false},
		{"public_keys not object", M{"via": psName, "public_keys": "x"}, "@ps:policy.example", false},
		{"ed25519 not string", M{"via": psName, "public_keys": M{"ed25519": 5}}, "@ps:policy.example", false},
		{"ed25519 not a key still enabled (2)", M{"via": psName, "public_keys": M{"ed25519": "abc"}}, "@ps:policy.example", true},
		{"member state key not user ID (6)", good, "mod:policy.example", false},
		{"member of another port", good, "@ps:policy.example:8448", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, s := policyRoom(t, c.content, c.member)
			ps, ok := policyserver.Of(s)
			if ok != c.want {
				t.Fatalf("Of = %v, want %v", ok, c.want)
			}
			if ok && ps.Name != psName {
				t.Fatalf("Name %q", ps.Name)
			}
		})
	}
}

// go doc policyserver.Server.Check, Exempt, Error; decisions.md (Policy servers) 2, 4.
func TestPolicyCheck(t *testing.T) {
	v := ver("10")
	r, s := policyRoom(t, M{"via": psName, "public_keys": M{"ed25519": psPub()}}, "@ps:policy.example")
	_ = r
	msg := raw(t, v, M{"content": M{"body": "hi"}})
	signed := psSign(t, msg, psName, psKey())
	other := authgen.KeyFor(psName, "policy_server2")
	otherAsPS, _ := signing.NewSigningKey("policy_server", other.Private.Seed())
	badSigned := psSign(t, msg, psName, otherAsPS)
	wrongID := psSign(t, msg, psName, authgen.KeyFor(psName, "1"))
	wrongServer := psSign(t, msg, "other.example", psKey())
	ps, ok := policyserver.Of(s)
	if !ok {
		t.Fatal("no policy server")
	}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"valid", signed, nil},
		{"missing", msg, policyserver.ErrMissingSignature},
		{"bad", badSigned, policyserver.ErrBadSignature},
		{"other key id (4)", wrongID, policyserver.ErrMissingSignature},
		{"other server name (4)", wrongServer, policyserver.ErrMissingSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := parse10(t, c.b)
			for _, err := range []error{ps.Check(e), policyserver.Check(s, e)} {
				if c.want == nil {
					if err != nil {
						t.Fatalf("got %v", err)
					}
					continue
				}
				var pe *policyserver.Error
				if !errors.As(err, &pe) || !errors.Is(err, c.want) {
					t.Fatalf("want %v, got %v", c.want, err)
				}
				if pe.Server != psName || pe.EventID != e.EventID || !strings.HasPrefix(pe.Error(), "policyserver: ") {
					t.Fatalf("Error fields %+v %q", pe, pe.Error())
				}
			}
		})
	}
	// nil event: ErrMissingSignature
	if err := ps.Check(nil); !errors.Is(err, policyserver.ErrMissingSignature) {
		t.Errorf("nil event: %v", err)
	}
	// padded public key and URL-safe alphabet accepted (decisions 2: "as everywhere")
	for _, k := range []string{base64.StdEncoding.EncodeToString(psKey().Public()), base64.RawURLEncoding.EncodeToString(psKey().Public())} {
		p := policyserver.Server{Name: psName, PublicKey: k}
		if err := p.Check(parse10(t, signed)); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
	// invalid key: ErrInvalidKey for events that must sign, policy event with "" exempt
	bad := policyserver.Server{Name: psName, PublicKey: "abc"}
	if err := bad.Check(parse10(t, signed)); !errors.Is(err, policyserver.ErrInvalidKey) {
		t.Errorf("invalid key: %v", err)
	}
	if err := bad.Check(parse10(t, msg)); !errors.Is(err, policyserver.ErrInvalidKey) {
		t.Errorf("invalid key, unsigned event: %v", err)
	}
	pol := ev(t, v, M{"type": "m.room.policy", "state_key": "", "content": M{}})
	if err := bad.Check(pol); err != nil || !policyserver.Exempt(pol) {
		t.Errorf("policy event exempt: %v", err)
	}
	// small-order key: ErrBadSignature (decisions 2)
	ident := make([]byte, 32)
	ident[0] = 1
	so := policyserver.Server{Name: psName, PublicKey: base64.RawStdEncoding.EncodeToString(ident)}
	if err := so.Check(parse10(t, signed)); !errors.Is(err, policyserver.ErrBadSignature) {
		t.Errorf("small-order key: %v", err)
	}
	// Exempt
	for name, c := range map[string]struct {
		f    M
		want bool
	}{
		"policy other state key": {M{"type": "m.room.policy", "state_key": "x"}, false},
		"policy non-state":       {M{"type": "m.room.policy"}, false},
		"message":                {M{}, false},
	} {
		if got := policyserver.Exempt(ev(t, v, c.f)); got != c.want {
			t.Errorf("Exempt %s = %v", name, got)
		}
	}
	// no policy server: every event recommended
	_, s0 := policyRoom(t, nil, "")
	if err := policyserver.Check(s0, parse10(t, msg)); err != nil {
		t.Errorf("no policy server: %v", err)
	}
	// KeyID
	if policyserver.KeyID != "ed25519:policy_server" {
		t.Error(policyserver.KeyID)
	}
}

// decisions.md (Policy servers) 5: VerifyEvent skips ed25519:policy_server only when unknown.
func TestPolicyVerifyEventSkipsUnknownKey(t *testing.T) {
	v := ver("10")
	msg := raw(t, v, M{"sender": "@ps:policy.example"})
	signed := addPS(t, msg)
	ring := signing.KeyRing{psName: {"ed25519:1": {Key: authgen.KeyFor(psName, "1").Public()}}}
	if err := signing.VerifyEvent(v, signed, ring); err != nil {
		t.Fatalf("policy key unknown: %v", err)
	}
	ring[psName]["ed25519:policy_server"] = signing.PublicKey{Key: authgen.KeyFor(psName, "zzz").Public()}
	if err := signing.VerifyEvent(v, signed, ring); err == nil {
		t.Fatal("published other key under ed25519:policy_server: accepted")
	}
}

// go doc policyserver.AddSignature; decisions.md (Policy servers) 7.
func TestPolicyAddSignature(t *testing.T) {
	v := ver("10")
	msg := raw(t, v, M{"content": M{"body": "hi"}})
	signed := psSign(t, msg, psName, psKey())
	var sigs map[string]map[string]string
	var full map[string]json.RawMessage
	_ = json.Unmarshal(signed, &full)
	_ = json.Unmarshal(full["signatures"], &sigs)
	sig := sigs[psName]["ed25519:policy_server"]
	ps := policyserver.Server{Name: psName, PublicKey: psPub()}
	resp := claimkit.Marshal(t, M{psName: M{"ed25519:policy_server": sig}})
	out, err := policyserver.AddSignature(v, msg, ps, resp)
	if err != nil {
		t.Fatalf("AddSignature: %v", err)
	}
	if !bytes.Equal(out, signed) {
		t.Errorf("AddSignature output differs from CountersignEvent's:\n%s\n%s", out, signed)
	}
	id0, _ := signing.EventID(v, msg)
	id1, _ := signing.EventID(v, out)
	if id0 != id1 {
		t.Error("event ID changed")
	}
	// keeps other keys of the same server
	pre := psSign(t, msg, psName, authgen.KeyFor(psName, "1"))
	out2, err := policyserver.AddSignature(v, pre, ps, resp)
	if err != nil || !bytes.Contains(out2, []byte(`"ed25519:1"`)) || !bytes.Contains(out2, []byte(`"ed25519:policy_server"`)) {
		t.Errorf("other key of the same server not kept: %v %s", err, out2)
	}
	badKey := policyserver.Server{Name: psName, PublicKey: "abc"}
	for _, c := range []struct {
		name string
		ps   policyserver.Server
		ev   []byte
		resp string
		want error
	}{
		{"refusal {}", ps, msg, `{}`, policyserver.ErrMissingSignature},
		{"refusal {} with bad key (7)", badKey, msg, `{}`, policyserver.ErrMissingSignature},
		{"bad key with signature", badKey, msg, string(resp), policyserver.ErrInvalidKey},
		{"bad signature", ps, msg, `{"policy.example":{"ed25519:policy_server":"` + authgen.DummySig + `"}}`, policyserver.ErrBadSignature},
		{"null server entry (7)", ps, msg, `{"policy.example":null}`, policyserver.ErrMalformed},
		{"null signature (7)", ps, msg, `{"policy.example":{"ed25519:policy_server":null}}`, policyserver.ErrMalformed},
		{"not an object", ps, msg, `[]`, policyserver.ErrMalformed},
		{"server name invalid (7)", policyserver.Server{Name: "bad name", PublicKey: psPub()}, msg, string(resp), policyserver.ErrMalformed},
		{"event not an event", ps, []byte(`{"a":1}`), string(resp), policyserver.ErrMalformed},
		{"signature of another server only", ps, msg, `{"other.example":{"ed25519:policy_server":"` + sig + `"}}`, policyserver.ErrMissingSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := policyserver.AddSignature(v, c.ev, c.ps, []byte(c.resp))
			var pe *policyserver.Error
			if !errors.As(err, &pe) || !errors.Is(err, c.want) {
				t.Fatalf("want %v, got %v", c.want, err)
			}
		})
	}
	// exempt policy event: signature still checked
	pol := raw(t, v, M{"type": "m.room.policy", "state_key": "", "content": M{}})
	if _, err := policyserver.AddSignature(v, pol, ps, []byte(`{"policy.example":{"ed25519:policy_server":"`+authgen.DummySig+`"}}`)); !errors.Is(err, policyserver.ErrBadSignature) {
		t.Errorf("exempt event with bad signature: %v", err)
	}
	// size limit: an event under 65536 bytes that the signature takes past it (7)
	pad := 65536 - len(msg) - 40
	big := raw(t, v, M{"content": M{"body": strings.Repeat("x", pad)}})
	pad += 65536 - 40 - len(big)
	big = raw(t, v, M{"content": M{"body": strings.Repeat("x", pad)}})
	if len(big) >= 65536 || len(big) < 65536-100 {
		t.Fatalf("setup: %d", len(big))
	}
	_, err = policyserver.AddSignature(v, big, ps, []byte(`{"policy.example":{"ed25519:policy_server":"`+authgen.DummySig+`"}}`))
	if !errors.Is(err, policyserver.ErrMalformed) {
		t.Errorf("event taken past the size limit: %v", err)
	}
}

// addPS adds the Policy Server signature beside the signatures already there.
func addPS(t *testing.T, msg []byte) []byte {
	t.Helper()
	only := psSign(t, msg, psName, psKey())
	var full map[string]json.RawMessage
	var sigs map[string]map[string]string
	_ = json.Unmarshal(only, &full)
	_ = json.Unmarshal(full["signatures"], &sigs)
	out, err := policyserver.AddSignature(ver("10"), msg, policyserver.Server{Name: psName, PublicKey: psPub()},
		claimkit.Marshal(t, M{psName: M{"ed25519:policy_server": sigs[psName]["ed25519:policy_server"]}}))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package claimsb

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
)

// tpSigned returns the `signed` object for mxid/token, signed by id.example's key "0".
func tpSigned(t *testing.T, extraSigs M) M {
	t.Helper()
	b, err := signing.SignJSON([]byte(`{"mxid":"@bob:b.example","token":"tok"}`), "id.example", authgen.KeyFor("id.example", "0"))
	if err != nil {
		t.Fatal(err)
	}
	var m M
	_ = json.Unmarshal(b, &m)
	sigs := m["signatures"].(map[string]any)
	for k, v := range extraSigs {
		sigs[k] = v
	}
	return m
}

func tpCheck(t *testing.T, tpContent M, signed any) error {
	t.Helper()
	v := ver("10")
	r := newRoom(t, v, "invite", nil)
	tpi := ev(t, v, M{"type": "m.room.third_party_invite", "state_key": "tok", "content": tpContent})
	s := r.state(t, tpi)
	tp := M{"display_name": "b"}
	if signed != nil {
		tp["signed"] = signed
	}
	inv := ev(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite", "third_party_invite": tp}})
	return s.Check(inv, nil)
}

func idPub(enc *base64.Encoding) string {
	return enc.EncodeToString(authgen.KeyFor("id.example", "0").Public())
}

// decisions.md (authrules) "Third-party invite public keys" and "Third-party invite signatures".
func TestThirdPartyInvite(t *testing.T) {
	other := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("id.example", "9").Public())
	for _, c := range []struct {
		name    string
		content M
		signed  any
		rule    string // "" allowed
	}{
		{"valid public_key", M{"public_key": idPub(base64.RawStdEncoding)}, tpSigned(t, nil), ""},
		{"padded public_key", M{"public_key": idPub(base64.StdEncoding)}, tpSigned(t, nil), ""},
		{"url-safe public_keys entry", M{"public_key": other, "public_keys": []any{M{"public_key": idPub(base64.RawURLEncoding)}}}, tpSigned(t, nil), ""},
		{"no matching key", M{"public_key": other}, tpSigned(t, nil), "4.4.1.8"},
		{"short key skipped", M{"public_key": "abcd", "public_keys": []any{M{"public_key": idPub(base64.RawStdEncoding)}}}, tpSigned(t, nil), ""},
		{"useless entries tried", M{"public_key": idPub(base64.RawStdEncoding)}, tpSigned(t, M{"x.example": M{"curve25519:1": "abc", "ed25519:2": "!!"}}), ""},
		{"entry not an object", M{"public_key": idPub(base64.RawStdEncoding)}, tpSigned(t, M{"x.example": 5}), "4.4.1.8"},
		{"signature not a string", M{"public_key": idPub(base64.RawStdEncoding)}, tpSigned(t, M{"x.example": M{"ed25519:1": 5}}), "4.4.1.8"},
		{"no signed", M{"public_key": idPub(base64.RawStdEncoding)}, nil, "4.4.1.2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := tpCheck(t, c.content, c.signed)
			if c.rule == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			var rj *authrules.Rejection
			if !errors.As(err, &rj) || !errors.Is(err, authrules.ErrThirdPartyInvite) {
				t.Fatalf("want ErrThirdPartyInvite %s, got %v", c.rule, err)
			}
			if rj.Rule != c.rule {
				t.Fatalf("rule %s, want %s (%v)", rj.Rule, c.rule, err)
			}
			if c.signed == nil && rj.Severity != authrules.SeverityFatal {
				t.Fatalf("no signed: severity %v", rj.Severity)
			}
		})
	}
}

// go doc authrules.MaxThirdPartyInviteChecks; decisions.md (hostile input) 8.
func TestThirdPartyInviteBound(t *testing.T) {
	if authrules.MaxThirdPartyInviteChecks != 8192 {
		t.Fatal(authrules.MaxThirdPartyInviteChecks)
	}
	for _, c := range []struct {
		keys, sigs int
		ok         bool
	}{{1024, 8, true}, {1025, 8, false}, {16, 512, true}, {16, 513, false}} {
		t.Run(fmt.Sprintf("%dx%d", c.keys, c.sigs), func(t *testing.T) {
			var pks []any
			for i := 0; i < c.keys-1; i++ {
				pks = append(pks, M{"public_key": base64.RawStdEncoding.EncodeToString(authgen.KeyFor("k.example", fmt.Sprint(i)).Public())})
			}
			extra := M{}
			for i := 0; i < c.sigs-1; i++ {
				extra[fmt.Sprintf("s%d.example", i)] = M{"ed25519:0": authgen.DummySig}
			}
			content := M{"public_key": idPub(base64.RawStdEncoding), "public_keys": pks}
			err := tpCheck(t, content, tpSigned(t, extra))
			if c.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !c.ok {
				wantRejection(t, err, "4.4.1.8", authrules.ErrThirdPartyInvite)
			}
		})
	}
	_ = strings.Repeat
	_ = pdu.Parse
}

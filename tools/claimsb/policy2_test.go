package claimsb

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/policyserver"
)

// decisions.md (Policy servers) 7: a response that is not an object of objects of strings is
// ErrMalformed, whatever else it holds.
func TestPolicyAddSignatureShape(t *testing.T) {
	v := ver("10")
	msg := raw(t, v, M{"content": M{"body": "shape"}})
	signed := psSign(t, msg, psName, psKey())
	var full map[string]json.RawMessage
	var sigs map[string]map[string]string
	_ = json.Unmarshal(signed, &full)
	_ = json.Unmarshal(full["signatures"], &sigs)
	sig := sigs[psName]["ed25519:policy_server"]
	ps := policyserver.Server{Name: psName, PublicKey: psPub()}
	var accepted []string
	for name, resp := range map[string]string{
		"other server not object": `{"policy.example":{"ed25519:policy_server":"` + sig + `"},"other.example":5}`,
		"other key not string":    `{"policy.example":{"ed25519:policy_server":"` + sig + `","ed25519:x":5}}`,
		"other server null sig":   `{"policy.example":{"ed25519:policy_server":"` + sig + `"},"other.example":{"k":null}}`,
	} {
		_, err := policyserver.AddSignature(v, msg, ps, []byte(resp))
		if !errors.Is(err, policyserver.ErrMalformed) {
			accepted = append(accepted, name+": "+fmt.Sprint(err))
		}
	}
	// decisions.md Policy servers 7 (settled by B8): the other members are never read.
	if len(accepted) != 3 {
		t.Errorf("only %d of the 3 responses with malformed other members accepted: %v", len(accepted), accepted)
	}
	// extra well-formed entries are fine
	out, err := policyserver.AddSignature(v, msg, ps, []byte(`{"policy.example":{"ed25519:policy_server":"`+sig+`","ed25519:x":"abc"},"other.example":{"k":"v"}}`))
	if err != nil {
		t.Errorf("extra entries: %v", err)
	} else if string(out) != string(signed) {
		t.Errorf("extra entries added to the event: %s", out)
	}
}

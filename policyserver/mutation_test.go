package policyserver_test

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/policyserver"
)

// TestMutationPaddedSignature: the /sign response may carry the signature as padded base64
// (88 characters, the longest an ed25519 signature has, maxSignatureLength).
func TestMutationPaddedSignature(t *testing.T) {
	// policyserver/policyserver.go:265 '88' -> '87'
	r := newRoom(t, "10")
	key := roomKey(t)
	ps := policyserver.Server{Name: psServer, PublicKey: base64.RawStdEncoding.EncodeToString(key.Public())}
	raw := r.raw("m.room.message", nil, psUser, `{"body":"x"}`)
	signedByPS, err := addPolicySignature(t, r.v, raw, key)
	if err != nil {
		t.Fatal(err)
	}
	sig := policySignatureOf(t, signedByPS) + "=="
	if len(sig) != 88 {
		t.Fatalf("padded signature of %d characters", len(sig))
	}
	out, err := policyserver.AddSignature(r.v, raw, ps, []byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, sig)))
	if err != nil || !bytes.Contains(out, []byte(`"`+policyserver.KeyID+`":"`+sig+`"`)) {
		t.Errorf("AddSignature with the padded signature: %v\n%s", err, out)
	}
}

// TestMutationRoundFour (round four, /work/logs/audit-mutation4.md).
func TestMutationRoundFour(t *testing.T) {
	// policyserver/policyserver.go:190 '&&' -> '||' (Check with a nil state or a nil event:
	// no room, or no event, to compare; a room without a Policy Server recommends anything)
	r := newRoom(t, "10")
	ev := r.parse(r.raw("m.room.message", nil, sender, `{"body":"x"}`))
	if err := policyserver.Check(nil, ev); err != nil {
		t.Errorf("Check(nil, event) = %v, want nil", err)
	}
	if err := policyserver.Check(r.state(), nil); err != nil {
		t.Errorf("Check(state without a Policy Server, nil) = %v, want nil", err)
	}

	// policyserver/policyserver.go:276 '88' -> '89' (89 characters are longer than any base64
	// of 64 bytes)
	key := roomKey(t)
	ps := policyserver.Server{Name: psServer, PublicKey: base64.RawStdEncoding.EncodeToString(key.Public())}
	raw := r.raw("m.room.message", nil, psUser, `{"body":"x"}`)
	sig := strings.Repeat("A", 89)
	_, err := policyserver.AddSignature(r.v, raw, ps, []byte(fmt.Sprintf(`{%q:{%q:%q}}`, psServer, policyserver.KeyID, sig)))
	var pe *policyserver.Error
	if !errors.As(err, &pe) || !errors.Is(err, policyserver.ErrBadSignature) || pe.Detail != "the signature is longer than the base64 of 64 bytes" {
		t.Errorf("AddSignature with an 89-character signature: %v, want ErrBadSignature, longer than the base64 of 64 bytes", err)
	}
}

package policyserver_test

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"bytes"
	"encoding/base64"
	"fmt"
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

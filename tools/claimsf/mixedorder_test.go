package claimsf

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// order8 is the encoding of a point of order 8 (libsodium's blocklist, signing/ed25519.go).
const order8 = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"

// signedBytes returns the bytes an event's signatures cover: the redacted event without
// `signatures` and `unsigned`, in canonical JSON (server-server-api "Signing Events").
func signedBytes(t testing.TB, v roomversion.Version, raw []byte) []byte {
	t.Helper()
	red, err := redaction.Redact(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(red, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "signatures")
	delete(m, "unsigned")
	out, err := canonicaljson.Append(nil, claimkit.Marshal(t, m), canonicaljson.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mixedOrderEvent returns a message event of v signed by a.example with a mixed-order public
// key A + T (A = a·B, T of order 8), by a signature that the cofactorless check accepts: its
// nonce is chosen so that the challenge k is a multiple of 8, so k·T vanishes.
func mixedOrderEvent(t testing.TB, v roomversion.Version) ([]byte, ed25519.PublicKey) {
	t.Helper()
	var a scalar.Scalar
	seed := sha512.Sum512([]byte("claimsf mixed-order key"))
	if _, err := a.SetBytesModOrderWide(seed[:]); err != nil {
		t.Fatal(err)
	}
	var A, T, AT curve.EdwardsPoint
	A.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &a)
	tb, _ := hex.DecodeString(order8)
	var tc curve.CompressedEdwardsY
	if _, err := tc.SetBytes(tb); err != nil {
		t.Fatal(err)
	}
	if _, err := T.SetCompressedY(&tc); err != nil {
		t.Fatal(err)
	}
	AT.Add(&A, &T)
	var pc curve.CompressedEdwardsY
	pc.SetEdwardsPoint(&AT)
	pub := ed25519.PublicKey(pc[:])
	// Hashes from SignEvent (any key); the signature is replaced below.
	raw := signAs(t, v, message(t, v, 7), "a.example", authfixture.Key("a.example"))
	msg := signedBytes(t, v, raw)
	for i := 0; i < 1000; i++ {
		var r, k, s scalar.Scalar
		rs := sha512.Sum512(append([]byte("nonce"), byte(i), byte(i>>8)))
		if _, err := r.SetBytesModOrderWide(rs[:]); err != nil {
			t.Fatal(err)
		}
		var R curve.EdwardsPoint
		R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r)
		var rc curve.CompressedEdwardsY
		rc.SetEdwardsPoint(&R)
		h := sha512.New()
		h.Write(rc[:])
		h.Write(pub)
		h.Write(msg)
		if _, err := k.SetBytesModOrderWide(h.Sum(nil)); err != nil {
			t.Fatal(err)
		}
		var kb [32]byte
		if err := k.ToBytes(kb[:]); err != nil {
			t.Fatal(err)
		}
		if kb[0]%8 != 0 {
			continue
		}
		s.Mul(&k, &a)
		s.Add(&s, &r)
		sig := make([]byte, 64)
		copy(sig, rc[:])
		if err := s.ToBytes(sig[32:]); err != nil {
			t.Fatal(err)
		}
		if !ed25519.Verify(pub, msg, sig) {
			t.Fatal("crypto/ed25519 refuses the mixed-order signature")
		}
		return editJSON(t, raw, func(m M) {
			m["signatures"] = M{"a.example": M{"ed25519:1": base64.RawStdEncoding.EncodeToString(sig)}}
		}), pub
	}
	t.Fatal("no nonce gave a challenge divisible by 8")
	return nil, nil
}

// preparable reports whether a prepared-key table can be made of pub: the canonical encoding of
// a point of large order without torsion (signing's newFastKey leaves every other key to
// crypto/ed25519).
func preparable(pub []byte) bool {
	var c, back curve.CompressedEdwardsY
	var p curve.EdwardsPoint
	if _, err := c.SetBytes(pub); err != nil {
		return false
	}
	if _, err := p.SetCompressedY(&c); err != nil {
		return false
	}
	back.SetEdwardsPoint(&p)
	return string(back[:]) == string(pub) && !p.IsSmallOrder() && p.IsTorsionFree()
}

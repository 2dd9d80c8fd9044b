package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"math/big"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// fieldP is p = 2^255 − 19.
var fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// le32 is the 32-byte little-endian encoding of n < 2^256.
func le32(n *big.Int) []byte {
	be := n.FillBytes(make([]byte, 32))
	out := make([]byte, 32)
	for i := range be {
		out[i] = be[31-i]
	}
	return out
}

// TestSmallOrderBlocklist: the blocklist is exactly the y coordinates of the eight-torsion
// points plus the non-canonical encodings p and p + 1 (of 0 and 1).
func TestSmallOrderBlocklist(t *testing.T) {
	want := map[[32]byte]bool{}
	for i, pt := range curve.EIGHT_TORSION {
		var c curve.CompressedEdwardsY
		c.SetEdwardsPoint(pt)
		if !smallOrderEncoding(c[:]) {
			t.Errorf("torsion point %d (%x) not in the blocklist", i, c[:])
		}
		c[31] ^= 0x80 // the other sign of x: same y
		if !smallOrderEncoding(c[:]) {
			t.Errorf("torsion point %d with the other sign not in the blocklist", i)
		}
		c[31] &= 0x7f
		want[c] = true
	}
	for _, n := range []*big.Int{fieldP, new(big.Int).Add(fieldP, big.NewInt(1))} {
		want[[32]byte(le32(n))] = true
	}
	if len(want) != len(smallOrderBlocklist) {
		t.Fatalf("%d distinct small-order encodings, blocklist has %d", len(want), len(smallOrderBlocklist))
	}
	for i, b := range smallOrderBlocklist {
		if !want[b] {
			t.Errorf("blocklist entry %d (%x) is not a small-order encoding", i, b[:])
		}
	}
	// A real public key is not in the list.
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	if smallOrderEncoding(pub) {
		t.Fatal("an ordinary public key is reported as small order")
	}
}

func TestCanonicalPoint(t *testing.T) {
	pMinus1 := le32(new(big.Int).Sub(fieldP, big.NewInt(1)))
	p := le32(fieldP)
	max := le32(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(1)))
	signed := func(b []byte) []byte { c := bytes.Clone(b); c[31] |= 0x80; return c }
	for _, tt := range []struct {
		name string
		in   []byte
		want bool
	}{
		{"zero", make([]byte, 32), true},
		{"p-1", pMinus1, true},
		{"p-1 with the sign bit", signed(pMinus1), true},
		{"p", p, false},
		{"p with the sign bit", signed(p), false},
		{"p+2", le32(new(big.Int).Add(fieldP, big.NewInt(2))), false},
		{"2^255-1", max, false},
		{"ordinary key", ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey), true},
	} {
		if got := canonicalPoint(tt.in); got != tt.want {
			t.Errorf("%s: canonicalPoint = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// forgeSmallR signs msg with priv's scalar but with R the identity point: S = k·a mod L, so
// that S·B − k·A = R holds without the cofactor. crypto/ed25519 accepts such a signature;
// libsodium refuses it.
func forgeSmallR(t *testing.T, priv ed25519.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha512.Sum512(priv.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	var a, k, s scalar.Scalar
	if _, err := a.SetBytesModOrder(h[:32]); err != nil {
		t.Fatal(err)
	}
	r := make([]byte, 32)
	r[0] = 1 // the identity: y = 1
	d := sha512.New()
	d.Write(r)
	d.Write(priv.Public().(ed25519.PublicKey))
	d.Write(msg)
	if _, err := k.SetBytesModOrderWide(d.Sum(nil)); err != nil {
		t.Fatal(err)
	}
	s.Mul(&k, &a)
	sig := append(r, make([]byte, 32)...)
	if err := s.ToBytes(sig[32:]); err != nil {
		t.Fatal(err)
	}
	return sig
}

// TestVerifyEd25519LibsodiumRules: signatures crypto/ed25519 accepts and libsodium refuses are
// refused by every verification path of this package.
func TestVerifyEd25519LibsodiumRules(t *testing.T) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte(`{"a":1}`)
	identity := make([]byte, 32)
	identity[0] = 1
	identitySig := append(bytes.Clone(identity), make([]byte, 32)...)
	cases := []struct {
		name      string
		pub       ed25519.PublicKey
		sig       []byte
		stdlib    bool // crypto/ed25519's verdict
		libsodium bool // the verdict wanted
	}{
		{"honest signature", pub, ed25519.Sign(priv, msg), true, true},
		{"R of small order, ordinary key", pub, forgeSmallR(t, priv, msg), true, false},
		{"identity key, identity R, S = 0", identity, identitySig, true, false},
		{"identity R with the sign bit set", pub, func() []byte { s := forgeSmallR(t, priv, msg); s[31] |= 0x80; return s }(), false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ed25519.Verify(c.pub, msg, c.sig); got != c.stdlib {
				t.Fatalf("ed25519.Verify = %v, want %v (the case does not test what it says)", got, c.stdlib)
			}
			if got := verifyEd25519(c.pub, msg, c.sig); got != c.libsodium {
				t.Fatalf("verifyEd25519 = %v, want %v", got, c.libsodium)
			}
			if fk := newFastKey(c.pub); fk != nil {
				if got := fk.verify(sha512.New(), msg, c.sig); got != c.libsodium {
					t.Fatalf("prepared key: %v, want %v", got, c.libsodium)
				}
			}
			w := newBatchWorker()
			defer w.release()
			for round := range 3 { // plain check, then prepared, then cached
				if got := w.verify(c.pub, msg, c.sig); got != c.libsodium {
					t.Fatalf("batch worker, use %d: %v, want %v", round+1, got, c.libsodium)
				}
			}
			// Through the JSON signing API.
			obj := []byte(`{"a":1,"signatures":{"s.example":{"ed25519:1":"` + encodeBase64(c.sig) + `"}}}`)
			keys := KeyRing{"s.example": {"ed25519:1": PublicKey{Key: c.pub}}}
			err := VerifyJSON(obj, keys)
			if c.libsodium != (err == nil) || (!c.libsodium && !errors.Is(err, ErrBadSignature)) {
				t.Fatalf("VerifyJSON: %v", err)
			}
			if ok, _ := HasValidSignature(obj, c.pub); ok != c.libsodium {
				t.Fatalf("HasValidSignature = %v", ok)
			}
		})
	}
}

package main

// Crafted ed25519 signatures: the edge cases on which implementations of "ed25519 as
// implemented by NACL" disagree (non-canonical S, small-order and non-canonical R and keys,
// mixed-order keys and R, wrong lengths). Each case is built from a secret scalar the harness
// knows, so that the cofactorless equation S·B − k·A = R holds where the case needs it (then
// crypto/ed25519 accepts, and only the extra libsodium checks can refuse).

import (
	"crypto/ed25519"
	"crypto/sha512"
	"math/big"
	"math/rand"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

var (
	orderL = func() *big.Int {
		l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
		return l
	}()
	fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
)

// le32 is the 32-byte little-endian encoding of 0 <= n < 2^256.
func le32(n *big.Int) []byte {
	be := n.FillBytes(make([]byte, 32))
	out := make([]byte, 32)
	for i := range be {
		out[i] = be[31-i]
	}
	return out
}

func fromLE(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

func encodePoint(p *curve.EdwardsPoint) []byte {
	var c curve.CompressedEdwardsY
	c.SetEdwardsPoint(p)
	return append([]byte(nil), c[:]...)
}

func decodePoint(b []byte) *curve.EdwardsPoint {
	c, err := curve.NewCompressedEdwardsYFromBytes(b)
	if err != nil {
		return nil
	}
	p, err := curve.NewEdwardsPoint().SetCompressedY(c)
	if err != nil {
		return nil
	}
	return p
}

func scalarBytes(s *scalar.Scalar) []byte {
	out := make([]byte, 32)
	if err := s.ToBytes(out); err != nil {
		panic(err) // invariant: 32-byte buffer
	}
	return out
}

// challenge is k = SHA-512(R ‖ A ‖ msg) mod L.
func challenge(r, a, msg []byte) *scalar.Scalar {
	h := sha512.New()
	h.Write(r)
	h.Write(a)
	h.Write(msg)
	k, err := scalar.NewFromBytesModOrderWide(h.Sum(nil))
	if err != nil {
		panic(err) // invariant: 64-byte input
	}
	return k
}

// secretScalar is the clamped scalar a of an ed25519 private key (A = a·B).
func secretScalar(priv ed25519.PrivateKey) *scalar.Scalar {
	h := sha512.Sum512(priv.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	a, err := scalar.NewFromBytesModOrder(h[:32])
	if err != nil {
		panic(err) // invariant: 32-byte input
	}
	return a
}

// torsion returns the i-th point of the eight-torsion group (i mod 8).
func torsion(i int) *curve.EdwardsPoint {
	return curve.NewEdwardsPoint().Set(curve.EIGHT_TORSION[((i%8)+8)%8])
}

// edCase is one crafted case: for the message msg(nonce) it returns the public key and the
// signature, or ok false when the nonce does not suit the case (the caller tries the next).
type edCase struct {
	name  string
	craft func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) (pub, sig []byte, ok bool)
}

func addL(sig []byte, times int64) []byte {
	s := fromLE(sig[32:])
	s.Add(s, new(big.Int).Mul(orderL, big.NewInt(times)))
	if s.BitLen() > 256 {
		return nil
	}
	out := append([]byte(nil), sig[:32]...)
	return append(out, le32(s)...)
}

func randScalar(r *rand.Rand) *scalar.Scalar {
	var b [64]byte
	r.Read(b[:])
	s, _ := scalar.NewFromBytesModOrderWide(b[:])
	return s
}

// mixedOrderSig signs msg honestly with priv's scalar but under the mixed-order key A+T (T a
// random torsion point), and keeps the signature only when k·T is the identity (identity set),
// where the plain equation holds, or only when it is not, where only the cofactored one does.
func mixedOrderSig(r *rand.Rand, priv ed25519.PrivateKey, msg []byte, identity bool) ([]byte, []byte, bool) {
	a := secretScalar(priv)
	t := torsion(1 + r.Intn(7))
	pub := encodePoint(curve.NewEdwardsPoint().Add(decodePoint(priv.Public().(ed25519.PublicKey)), t))
	nonce := randScalar(r)
	rEnc := encodePoint(curve.NewEdwardsPoint().MulBasepoint(curve.ED25519_BASEPOINT_TABLE, nonce))
	k := challenge(rEnc, pub, msg)
	if curve.NewEdwardsPoint().Mul(t, k).IsIdentity() != identity {
		return nil, nil, false
	}
	return pub, sigWith(rEnc, scalar.New().Add(nonce, scalar.New().Mul(k, a))), true
}

// torsionR finds, among the eight-torsion points from index from on, an R with R = −k·t for the
// challenge k = H(R ‖ pub ‖ msg), and returns R's encoding and k.
func torsionR(t *curve.EdwardsPoint, pub, msg []byte, from int) ([]byte, *scalar.Scalar, bool) {
	for j := from; j < 8; j++ {
		rEnc := encodePoint(torsion(j))
		k := challenge(rEnc, pub, msg)
		lhs := curve.NewEdwardsPoint().Mul(t, k)
		lhs.Neg(lhs)
		if string(encodePoint(lhs)) == string(rEnc) {
			return rEnc, k, true
		}
	}
	return nil, nil, false
}

// forgeSmall returns, for public key pubPt (encoded as pubEnc) whose secret part is a, a
// signature with R = rEnc and S = k·a + extra, where the caller arranged that S·B − k·A = R.
func sigWith(rEnc []byte, s *scalar.Scalar) []byte {
	return append(append([]byte(nil), rEnc...), scalarBytes(s)...)
}

var identityEnc = func() []byte { b := make([]byte, 32); b[0] = 1; return b }()

var edCases = []edCase{
	{"honest", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg), true
	}},
	{"honest, other message", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, append([]byte("x"), msg...)), true
	}},
	{"honest, other key", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		h := sha512.Sum512(priv.Seed())
		other := ed25519.NewKeyFromSeed(h[:32])
		return other.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg), true
	}},
	{"non-canonical S: S+L", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		s := addL(ed25519.Sign(priv, msg), 1)
		return priv.Public().(ed25519.PublicKey), s, s != nil
	}},
	{"non-canonical S: S+kL, k in 2..15", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		s := addL(ed25519.Sign(priv, msg), int64(2+r.Intn(14)))
		return priv.Public().(ed25519.PublicKey), s, s != nil
	}},
	{"S = L", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		s := ed25519.Sign(priv, msg)
		return priv.Public().(ed25519.PublicKey), append(s[:32:32], le32(orderL)...), true
	}},
	{"S with the top bit set", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		s := ed25519.Sign(priv, msg)
		s[63] |= 0x80
		return priv.Public().(ed25519.PublicKey), s, true
	}},
	{"R = identity, S = k·a", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		pub := priv.Public().(ed25519.PublicKey)
		k := challenge(identityEnc, pub, msg)
		return pub, sigWith(identityEnc, scalar.New().Mul(k, secretScalar(priv))), true
	}},
	{"R = identity with the sign bit, S = k·a", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		pub := priv.Public().(ed25519.PublicKey)
		r := append([]byte(nil), identityEnc...)
		r[31] |= 0x80
		k := challenge(r, pub, msg)
		return pub, sigWith(r, scalar.New().Mul(k, secretScalar(priv))), true
	}},
	{"R = identity non-canonical (y = p+1), S = k·a", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		pub := priv.Public().(ed25519.PublicKey)
		r := le32(new(big.Int).Add(fieldP, big.NewInt(1)))
		k := challenge(r, pub, msg)
		return pub, sigWith(r, scalar.New().Mul(k, secretScalar(priv))), true
	}},
	{"R of small order (2, 4, 8), mixed-order key A+T, equation holds", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		// A' = A + T; with S = k·a, S·B − k·A' = −k·T, which must be R (a torsion point).
		a := secretScalar(priv)
		t := torsion(1 + r.Intn(7))
		pubPt := curve.NewEdwardsPoint().Add(decodePoint(priv.Public().(ed25519.PublicKey)), t)
		pub := encodePoint(pubPt)
		if rEnc, k, ok := torsionR(t, pub, msg, 1); ok {
			return pub, sigWith(rEnc, scalar.New().Mul(k, a)), true
		}
		return nil, nil, false
	}},
	{"key of small order, S = 0, R = −k·A", func(r *rand.Rand, _ ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		t := torsion(1 + r.Intn(7))
		pub := encodePoint(t)
		if rEnc, _, ok := torsionR(t, pub, msg, 0); ok {
			return pub, sigWith(rEnc, scalar.New()), true
		}
		return nil, nil, false
	}},
	{"identity key, R = identity, S = 0", func(_ *rand.Rand, _ ed25519.PrivateKey, _ []byte) ([]byte, []byte, bool) {
		return identityEnc, sigWith(identityEnc, scalar.New()), true
	}},
	{"non-canonical identity key (y = p+1), R = identity, S = 0", func(_ *rand.Rand, _ ed25519.PrivateKey, _ []byte) ([]byte, []byte, bool) {
		return le32(new(big.Int).Add(fieldP, big.NewInt(1))), sigWith(identityEnc, scalar.New()), true
	}},
	{"non-canonical key (y = p+d, d in 2..18), honest signature of y = d", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		var ds []int64
		for d := int64(2); d <= 18; d++ {
			if decodePoint(le32(big.NewInt(d))) != nil {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			return nil, nil, false
		}
		enc := le32(new(big.Int).Add(fieldP, big.NewInt(ds[r.Intn(len(ds))])))
		if r.Intn(2) == 0 {
			enc[31] |= 0x80
		}
		return enc, ed25519.Sign(priv, msg), true
	}},
	{"mixed-order key A+T, honest R, k·T = 0 (equation holds)", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return mixedOrderSig(r, priv, msg, true)
	}},
	{"mixed-order key A+T, honest R, k·T != 0 (only the cofactored equation holds)", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return mixedOrderSig(r, priv, msg, false)
	}},
	{"mixed-order R = r·B + T (only the cofactored equation holds)", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		pub := priv.Public().(ed25519.PublicKey)
		a := secretScalar(priv)
		nonce := randScalar(r)
		rPt := curve.NewEdwardsPoint().MulBasepoint(curve.ED25519_BASEPOINT_TABLE, nonce)
		rPt.Add(rPt, torsion(1+r.Intn(7)))
		rEnc := encodePoint(rPt)
		k := challenge(rEnc, pub, msg)
		return pub, sigWith(rEnc, scalar.New().Add(nonce, scalar.New().Mul(k, a))), true
	}},
	{"non-canonical R (y >= p), S = k·a", func(r *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		pub := priv.Public().(ed25519.PublicKey)
		rEnc := le32(new(big.Int).Add(fieldP, big.NewInt(int64(r.Intn(19)))))
		if r.Intn(2) == 0 {
			rEnc[31] |= 0x80
		}
		k := challenge(rEnc, pub, msg)
		return pub, sigWith(rEnc, scalar.New().Mul(k, secretScalar(priv))), true
	}},
	{"R with the sign bit flipped", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		s := ed25519.Sign(priv, msg)
		s[31] ^= 0x80
		return priv.Public().(ed25519.PublicKey), s, true
	}},
	{"key with the sign bit flipped", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		pub := append([]byte(nil), priv.Public().(ed25519.PublicKey)...)
		pub[31] ^= 0x80
		return pub, ed25519.Sign(priv, msg), true
	}},
	{"all-zero signature", func(_ *rand.Rand, priv ed25519.PrivateKey, _ []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey), make([]byte, 64), true
	}},
	{"all-zero key (small order), all-zero signature", func(_ *rand.Rand, _ ed25519.PrivateKey, _ []byte) ([]byte, []byte, bool) {
		return make([]byte, 32), make([]byte, 64), true
	}},
	{"signature of 63 bytes", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg)[:63], true
	}},
	{"signature of 65 bytes", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey), append(ed25519.Sign(priv, msg), 0), true
	}},
	{"empty signature", func(_ *rand.Rand, priv ed25519.PrivateKey, _ []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey), []byte{}, true
	}},
	{"key of 31 bytes", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return priv.Public().(ed25519.PublicKey)[:31], ed25519.Sign(priv, msg), true
	}},
	{"key of 33 bytes", func(_ *rand.Rand, priv ed25519.PrivateKey, msg []byte) ([]byte, []byte, bool) {
		return append(append([]byte(nil), priv.Public().(ed25519.PublicKey)...), 0), ed25519.Sign(priv, msg), true
	}},
	{"random key bytes (often not a point), random signature", func(r *rand.Rand, _ ed25519.PrivateKey, _ []byte) ([]byte, []byte, bool) {
		pub, sig := make([]byte, 32), make([]byte, 64)
		r.Read(pub)
		r.Read(sig)
		sig[63] &= 0x0f
		return pub, sig, true
	}},
}

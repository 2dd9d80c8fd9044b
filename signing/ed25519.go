package signing

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
)

// verifyEd25519 reports whether sig is a valid ed25519 signature of msg by pub under the rules
// of libsodium's crypto_sign_verify_detached, the implementation of "ed25519 as implemented by
// NACL" (appendices "Signing Details") that Synapse uses through PyNaCl:
//
//   - crypto/ed25519's check: S below the group order, and the encoding of S·B − k·A exactly the
//     R of the signature, with k = SHA-512(R ‖ A ‖ msg) (RFC 8032 section 5.1.7 without the
//     cofactor);
//   - and three refusals crypto/ed25519 does not make: a public key whose encoding is not
//     canonical (y ≥ p), a public key of small order, and an R of small order.
//
// Honest signers never produce what the extra checks refuse (R = r·B for a secret r, A = a·B),
// but a server can craft such a signature with its ordinary key; without the checks roomproto
// would accept an event that Synapse rejects (docs/decisions.md (signing) 11).
func verifyEd25519(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	if !canonicalPoint(pub) || smallOrderEncoding(pub) || smallOrderEncoding(sig[:32]) {
		return false
	}
	return ed25519.Verify(pub, msg, sig)
}

// smallOrderBlocklist holds the y coordinates, little-endian, of the points of order 1, 2, 4
// and 8 of edwards25519, and the non-canonical encodings of two of them (y = p and y = p + 1
// stand for 0 and 1), as libsodium's ge25519_has_small_order lists them. The sign bit of x is
// not part of the comparison. TestSmallOrderBlocklist checks it against the eight-torsion group.
// It is never modified.
var smallOrderBlocklist = [7][32]byte{
	// y = 0: the two points of order 4.
	{},
	// y = 1: the identity (order 1).
	{0x01},
	// The points of order 8 with y = 2707385501144840649318225287225658788936804267575313519463743609750303402022.
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	// The points of order 8 with y = p − that value.
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
	// y = p − 1: the point of order 2.
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	// y = p, a non-canonical 0.
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
	// y = p + 1, a non-canonical 1.
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}

// smallOrderEncoding reports whether the 32-byte point encoding p is one of
// smallOrderBlocklist, whatever its sign bit. Keys and signatures are public, so the comparison
// need not take constant time: the first eight bytes rule out almost every encoding.
func smallOrderEncoding(p []byte) bool {
	head := binary.LittleEndian.Uint64(p)
	for i := range smallOrderBlocklist {
		b := &smallOrderBlocklist[i]
		if head == binary.LittleEndian.Uint64(b[:8]) && bytes.Equal(p[8:31], b[8:31]) && p[31]&0x7f == b[31] {
			return true
		}
	}
	return false
}

// canonicalPoint reports whether the 32-byte point encoding p holds a y coordinate below
// p = 2^255 − 19 (the sign bit of x aside), as libsodium's ge25519_is_canonical does.
func canonicalPoint(p []byte) bool {
	if p[31]&0x7f != 0x7f {
		return true
	}
	for i := 30; i > 0; i-- {
		if p[i] != 0xff {
			return true
		}
	}
	return p[0] < 0xed
}

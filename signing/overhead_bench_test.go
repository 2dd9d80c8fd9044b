package signing

import (
	"crypto/ed25519"
	"testing"
)

// BenchmarkVerifyEventAroundEd25519 runs every step of VerifyEvent except the ed25519 checks
// themselves, which a stub that accepts every signature replaces: what it measures is
// VerifyEvent's overhead over a bare ed25519.Verify (parse, redaction, signature and key
// handling, content hash), on its own, so that a change to it shows without the noise of a
// verification 10-20 times its size. Under scripts/instructions its count is deterministic but
// for the garbage collector's share (set GOGC=off to leave that out).
func BenchmarkVerifyEventAroundEd25519(b *testing.B) {
	c := loadCorpus(b)
	accept := func(pub ed25519.PublicKey, msg, sig []byte) bool { return true }
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := verifyEventWith(accept, c.Version, bc.event, c.Keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

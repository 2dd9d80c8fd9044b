package signing

import (
	"crypto/sha256"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
)

// BenchmarkVerifySteps times each step of VerifyEvent on its own, for the breakdown in
// BENCHMARKS.md: canonicalisation of the received event (and of an already canonical one),
// pdu.Parse of the canonical form, the redaction, the stripping of `signatures`/`unsigned`, the
// content hash, and SHA-256 alone over the canonical event.
func BenchmarkVerifySteps(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range benchCases(b) {
		canon, _ := canonicalObject(nil, bc.event, true)
		red, _ := redaction.RedactCanonical(c.Version, canon)
		b.Run("canon/"+bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			for b.Loop() {
				canonicalObject(buf[:0], bc.event, true)
			}
		})
		b.Run("canon-of-canon/"+bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			for b.Loop() {
				canonicalObject(buf[:0], canon, true)
			}
		})
		b.Run("parse/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pdu.Parse(c.Version, canon)
			}
		})
		b.Run("redact/"+bc.name, func(b *testing.B) {
			for b.Loop() {
				redaction.RedactCanonical(c.Version, canon)
			}
		})
		b.Run("strip/"+bc.name, func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			for b.Loop() {
				appendStripped(buf[:0], red, dropSignatures|dropUnsigned)
			}
		})
		b.Run("hashstrip/"+bc.name, func(b *testing.B) {
			sc := getScratch()
			for b.Loop() {
				contentHashOfCanonical(sc, canon)
			}
		})
		b.Run("sha256/"+bc.name, func(b *testing.B) {
			for b.Loop() {
				sha256.Sum256(canon)
			}
		})
	}
}

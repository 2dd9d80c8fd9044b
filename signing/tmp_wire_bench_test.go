package signing

import (
	"crypto/ed25519"
	"testing"
)

func BenchmarkTmpWire(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range wireCases(b) {
		ev, msg, sigs := bareVerifyInputs(b, c, bc.event)
		_ = ev
		b.Run("full/"+bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := VerifyEvent(c.Version, bc.event, c.Keys); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("bare/"+bc.name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range sigs {
					if !ed25519.Verify(s.pub, msg, s.sig) {
						b.Fatal("bad")
					}
				}
			}
		})
	}
}

package signing

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/cpubench"
	"github.com/roomproto/roomproto/pdu"
)

// benchCases picks the corpus events the issue names: a message with a 1 KB body, the
// power_levels event with 50 users, a plain join and a restricted join (two signatures).
func benchCases(b *testing.B) []struct {
	name  string
	event []byte
} {
	c := loadCorpus(b)
	pick := map[string]int{"message": 10, "power_levels": 2, "join": 9, "restricted_join": 7}
	var out []struct {
		name  string
		event []byte
	}
	for _, n := range []string{"message", "power_levels", "join", "restricted_join"} {
		out = append(out, struct {
			name  string
			event []byte
		}{n, c.Events[pick[n]]})
	}
	return out
}

// wireCases are benchCases as servers send the events: in canonical JSON (Synapse encodes its
// federation requests with encode_canonical_json), not indented as the corpus file holds them.
func wireCases(b *testing.B) []struct {
	name  string
	event []byte
} {
	out := benchCases(b)
	for i := range out {
		wire, err := canonicaljson.CanonicalStrict(out[i].event)
		if err != nil {
			b.Fatal(err)
		}
		out[i].name += "_wire"
		out[i].event = wire
	}
	return out
}

// BenchmarkVerifyEvent times VerifyEvent on the corpus events as the file holds them and as
// servers send them (the "_wire" cases, canonical JSON); BenchmarkBareEd25519Verify times the
// signature checks alone, on the same events.
func BenchmarkVerifyEvent(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.event)))
			for b.Loop() {
				if err := VerifyEvent(c.Version, bc.event, c.Keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyParsedEvent(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range benchCases(b) {
		ev, err := pdu.Parse(c.Version, bc.event)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := VerifyParsedEvent(ev, c.Keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// signedKey is a public key and a signature by it, decoded.
type signedKey struct {
	pub ed25519.PublicKey
	sig []byte
}

// bareVerifyInputs parses event and returns it, the bytes its signatures cover, and the
// signatures VerifyEvent checks with their keys: what a bare ed25519.Verify of the event needs.
func bareVerifyInputs(b *testing.B, c *corpus, event []byte) (*pdu.Event, []byte, []signedKey) {
	ev, err := pdu.Parse(c.Version, event)
	if err != nil {
		b.Fatal(err)
	}
	sc := getScratch()
	defer putScratch(sc)
	if err := signedEventBytes(sc, c.Version, event); err != nil {
		b.Fatal(err)
	}
	msg := append([]byte(nil), sc.msg...)
	var sigs []signedKey
	signers, _ := RequiredSigners(ev)
	for _, s := range signers {
		for _, sig := range ev.Signatures.Server(s) {
			pk, _ := c.Keys.PublicKey(s, sig.KeyID)
			raw := make([]byte, 64)
			decodeBase64(raw, sig.Value)
			sigs = append(sigs, signedKey{pk.Key, raw})
		}
	}
	return ev, msg, sigs
}

// bareVerify checks each signature of sigs over msg with ed25519.Verify alone: the reference
// the overhead benchmarks compare VerifyEvent with.
func bareVerify(b *testing.B, msg []byte, sigs []signedKey) {
	for _, s := range sigs {
		if !ed25519.Verify(s.pub, msg, s.sig) {
			b.Fatal("bad signature")
		}
	}
}

// BenchmarkBareEd25519Verify times ed25519.Verify alone over the very bytes VerifyEvent
// verifies (the redacted, canonical event without signatures), once per signature it checks.
func BenchmarkBareEd25519Verify(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		_, msg, sigs := bareVerifyInputs(b, c, bc.event)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bareVerify(b, msg, sigs)
			}
		})
	}
}

func BenchmarkContentHash(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range benchCases(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.event)))
			for b.Loop() {
				if _, err := ContentHash(c.Version, bc.event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// verifyInMode verifies the corpus event raw with VerifyEvent when mode is "VerifyEvent", and
// its parsed form ev with VerifyParsedEvent otherwise: the two modes of the overhead benchmarks.
func verifyInMode(mode string, c *corpus, raw []byte, ev *pdu.Event) error {
	if mode == "VerifyEvent" {
		return VerifyEvent(c.Version, raw, c.Keys)
	}
	return VerifyParsedEvent(ev, c.Keys)
}

// BenchmarkVerifyOverheadPhases is BenchmarkVerifyOverhead measured the way the other bars are
// (internal/cpubench): VerifyEvent or VerifyParsedEvent and the bare ed25519.Verify calls run in
// alternating phases of 20 ms, and "overhead-%" compares the CPU time of the whole process per
// call, garbage collection included (which VerifyEvent's parsing makes). It is a second measure
// of the same bar, independent of how the steps interleave within one loop iteration.
func BenchmarkVerifyOverheadPhases(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		ev, msg, sigs := bareVerifyInputs(b, c, bc.event)
		for _, mode := range []string{"VerifyEvent", "VerifyParsedEvent"} {
			b.Run(mode+"/"+bc.name, func(b *testing.B) {
				cpubench.Overhead(b, func() {
					if err := verifyInMode(mode, c, bc.event, ev); err != nil {
						b.Fatal(err)
					}
				}, func() { bareVerify(b, msg, sigs) })
			})
		}
	}
}

// BenchmarkVerifyOverheadFloor measures, as BenchmarkVerifyOverheadPhases does, what parts of
// VerifyEvent's work cost on their own next to the bare ed25519.Verify calls, which gives a floor
// under VerifyEvent's "overhead-%":
//
//   - "canonicalise+SHA-256": canonicaljson.Append of the event into a reused buffer, then the
//     SHA-256 of the bytes the content hash covers (made beforehand). VerifyEvent must do at least
//     this much to check the content hash, whatever else it does.
//   - "ContentHash": the public function, which also indexes the event and copies those bytes.
//   - "json.Valid+SHA-256": encoding/json's Valid (a scan that writes nothing) in place of the
//     canonicalisation: the floor for a canonicaliser as fast as the standard library's scanner.
//
// BENCHMARKS.md (twenty-second) uses it.
func BenchmarkVerifyOverheadFloor(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		_, msg, sigs := bareVerifyInputs(b, c, bc.event)
		canon, err := canonicalObject(nil, bc.event, true)
		if err != nil {
			b.Fatal(err)
		}
		hashed, _, err := appendStripped(nil, canon, dropSignatures|dropUnsigned|dropHashes)
		if err != nil {
			b.Fatal(err)
		}
		// floor runs the bare verification plus step against the bare verification alone.
		floor := func(name string, step func(b *testing.B)) {
			b.Run(name+"/"+bc.name, func(b *testing.B) {
				bare := func() { bareVerify(b, msg, sigs) }
				cpubench.Overhead(b, func() { bare(); step(b) }, bare)
			})
		}
		buf := make([]byte, 0, 2*len(bc.event))
		floor("canonicalise+SHA-256", func(b *testing.B) {
			var err error
			if buf, err = canonicaljson.Append(buf[:0], bc.event, canonicaljson.Options{Strict: true}); err != nil {
				b.Fatal(err)
			}
			sha256.Sum256(hashed)
		})
		floor("ContentHash", func(b *testing.B) {
			if _, err := ContentHash(c.Version, bc.event); err != nil {
				b.Fatal(err)
			}
		})
		floor("json.Valid+SHA-256", func(b *testing.B) {
			if !json.Valid(bc.event) {
				b.Fatal("invalid")
			}
			sha256.Sum256(hashed)
		})
	}
}

// BenchmarkKeyCachePhases is BenchmarkVerifyOverheadPhases for KeyCache.VerifyEvent with a
// warm cache (the keys prepared by earlier calls), against the same bare ed25519.Verify: a
// negative "overhead-%" means the cached call takes less CPU time than crypto/ed25519 alone. It
// measures the cache, not issue 2's bar, which is VerifyEvent's.
func BenchmarkKeyCachePhases(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		_, msg, sigs := bareVerifyInputs(b, c, bc.event)
		var cache KeyCache
		for range 2 {
			if err := cache.VerifyEvent(c.Version, bc.event, c.Keys); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			cpubench.Overhead(b, func() {
				if err := cache.VerifyEvent(c.Version, bc.event, c.Keys); err != nil {
					b.Fatal(err)
				}
			}, func() { bareVerify(b, msg, sigs) })
		})
	}
}

func BenchmarkEventID(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range benchCases(b) {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.event)))
			for b.Loop() {
				if _, err := EventID(c.Version, bc.event); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyOverhead alternates VerifyEvent (or VerifyParsedEvent) with a bare
// ed25519.Verify of the same bytes with the same key(s), one call each in turn, measuring the
// CPU time of the benchmark's own thread (cpubench.ThreadCPU), so that both see the same machine state
// and time spent descheduled is not counted. It reports VerifyEvent's CPU time over the bare verification's as "overhead-%" (the
// issue's bar: 10) and the difference per event as "overhead-ns/op".
func BenchmarkVerifyOverhead(b *testing.B) {
	c := loadCorpus(b)
	for _, bc := range append(benchCases(b), wireCases(b)...) {
		ev, msg, sigs := bareVerifyInputs(b, c, bc.event)
		for _, mode := range []string{"VerifyEvent", "VerifyParsedEvent"} {
			b.Run(mode+"/"+bc.name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var full, bare time.Duration
				var err error
				n := 0
				for b.Loop() {
					t0 := cpubench.ThreadCPU()
					err = verifyInMode(mode, c, bc.event, ev)
					t1 := cpubench.ThreadCPU()
					bareVerify(b, msg, sigs)
					t2 := cpubench.ThreadCPU()
					if err != nil {
						b.Fatal(err)
					}
					full += t1 - t0
					bare += t2 - t1
					n++
				}
				b.ReportMetric(100*(float64(full)/float64(bare)-1), "overhead-%")
				b.ReportMetric(float64(full-bare)/float64(n), "overhead-ns/op")
				b.ReportMetric(float64(bare)/float64(n), "bare-cpu-ns/op")
			})
		}
	}
}

package canonicaljson_test

import (
	"os"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/cpubench"
)

// benchInputs are the realistic events timed by the benchmarks: the two built
// here and, when ../shared/bench/corpus.json is there, its 18 events.
func benchInputs(b *testing.B) []struct {
	name string
	data []byte
} {
	inputs := []struct {
		name string
		data []byte
	}{
		{"message_1KB", messageEvent()},
		{"power_levels_50_users", powerLevelsEvent()},
	}
	if _, err := os.Stat(corpusPath); err == nil {
		var all []byte
		events := corpusEvents(b)
		// The corpus as one JSON array: one op canonicalises all 18 events.
		all = append(all, '[')
		for i, ev := range events {
			if i > 0 {
				all = append(all, ',')
			}
			all = append(all, ev...)
		}
		all = append(all, ']')
		inputs = append(inputs, struct {
			name string
			data []byte
		}{"corpus_18_events", all})
	}
	// The same events as servers send them: in canonical JSON (Synapse encodes its federation
	// requests with encode_canonical_json), which Append returns as it is after checking it.
	for _, in := range inputs[:len(inputs):len(inputs)] {
		wire, err := canonicaljson.CanonicalStrict(in.data)
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, struct {
			name string
			data []byte
		}{in.name + "_wire", wire})
	}
	return inputs
}

func BenchmarkCanonical(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if _, err := canonicaljson.Canonical(in.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCanonicalStrict(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if _, err := canonicaljson.CanonicalStrict(in.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidStrict(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if err := canonicaljson.Valid(in.data, canonicaljson.Options{Strict: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReferenceDecodeSortEncode is the baseline: encoding/json decode
// into interface{}, then a sorted re-encode with the spec's escaping.
func BenchmarkReferenceDecodeSortEncode(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				if _, err := referenceCanonical(in.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEachMember(b *testing.B) {
	ev := messageEvent()
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		if err := canonicaljson.EachMember(ev, func(string, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendStrict is CanonicalStrict into a reused buffer, as pdu.Parse
// calls it: the canonicalising work without the allocation of the output.
func BenchmarkAppendStrict(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			buf := make([]byte, 0, 2*len(in.data))
			for b.Loop() {
				var err error
				if buf, err = canonicaljson.Append(buf[:0], in.data, canonicaljson.Options{Strict: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSpeedupVsReference is issue 2's bar for canonical JSON as one figure: how many times
// less process CPU time (garbage collection included) Canonical and CanonicalStrict take than
// the decode-into-interface, sort, re-encode baseline of BenchmarkReferenceDecodeSortEncode, in
// alternating phases (internal/cpubench). The bar is "speedup-x" >= 10.
func BenchmarkSpeedupVsReference(b *testing.B) {
	for _, in := range benchInputs(b) {
		for _, mode := range []struct {
			name string
			fn   func([]byte) ([]byte, error)
		}{{"strict", canonicaljson.CanonicalStrict}, {"lenient", canonicaljson.Canonical}} {
			b.Run(mode.name+"/"+in.name, func(b *testing.B) {
				cpubench.Speedup(b, func() {
					if _, err := mode.fn(in.data); err != nil {
						b.Fatal(err)
					}
				}, func() {
					if _, err := referenceCanonical(in.data); err != nil {
						b.Fatal(err)
					}
				})
			})
		}
	}
}

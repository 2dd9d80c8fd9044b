//go:build !race

package pdu_test

import (
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestEventBufferAllocations: with an EventBuffer warmed by an event as large, parsing an event
// not in canonical form allocates once (the string of the event's string fields): the canonical
// copy, the lists and the signatures reuse the buffer's memory, and the pooled scratch is
// returned to its pool. Parse allocates the Event and its own copy of the canonical form besides,
// and the arrays of the lists and signatures of the second event.
// (Not under -race, whose sync.Pool drops items at random.)
func TestEventBufferAllocations(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	var buf pdu.EventBuffer
	for _, tt := range []struct {
		name  string
		parse func(data []byte) error
		max   [2]float64 // per event of bufferEvents
	}{
		{"EventBuffer.ParseIndexed", func(data []byte) error { _, err := buf.ParseIndexed(v, data, nil); return err }, [2]float64{1, 1}},
		{"Parse", func(data []byte) error { _, err := pdu.Parse(v, data); return err }, [2]float64{3, 5}},
	} {
		for i, e := range bufferEvents {
			data := []byte(e)
			if err := tt.parse([]byte(bufferEvents[1])); err != nil { // the larger event first
				t.Fatal(err)
			}
			got := testing.AllocsPerRun(100, func() {
				if err := tt.parse(data); err != nil {
					t.Fatal(err)
				}
			})
			if got > tt.max[i] {
				t.Errorf("%s of event %d: %v allocations per call, want at most %v", tt.name, i, got, tt.max[i])
			}
		}
	}
}

// TestParseAllocationsOnEveryPath: Parse returns its pooled scratch on every path, refusals
// included, and keeps a buffer it had to grow for the next call, so that the same input parsed
// again allocates no more than the first time once warm: a canonical form that does not parse
// (ErrNotJSON), one over the size limit (ErrTooLarge), a v1-5 depth written with an exponent
// (checkIntegerLiterals), and an event larger than the pooled buffer's first size. (Not under
// -race.)
func TestParseAllocationsOnEveryPath(t *testing.T) {
	v5, err := roomversion.Lookup("5")
	if err != nil {
		t.Fatal(err)
	}
	v9, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	large := strings.Replace(bufferEvents[0], `"first"`, `"`+strings.Repeat("x", 6000)+`"`, 1)
	tooLarge := strings.Replace(bufferEvents[0], `"first"`, `"`+strings.Repeat("x", 70000)+`"`, 1)
	for _, tt := range []struct {
		name string
		v    roomversion.Version
		data string
		ok   bool
		max  float64
	}{
		{"float", v9, `{ "depth": 1.5 }`, false, 4},
		{"too large", v9, tooLarge, false, 4},
		{"exponent depth, v5", v5, strings.Replace(bufferEvents[0], `"depth": 1`, `"depth": 1e0`, 1), false, 4},
		{"larger than the pooled buffer", v9, large, true, 3},
	} {
		data := []byte(tt.data)
		parse := func() {
			if _, err := pdu.Parse(tt.v, data); (err == nil) != tt.ok {
				t.Fatalf("%s: Parse error %v", tt.name, err)
			}
		}
		parse() // warm: the pool holds a scratch grown to this input
		if got := testing.AllocsPerRun(50, parse); got > tt.max {
			t.Errorf("%s: %v allocations per call, want at most %v", tt.name, got, tt.max)
		}
	}
}

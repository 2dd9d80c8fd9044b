package pdu_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// The Benchmark...Scale functions of this file measure how the work of pdu.Parse grows with
// adversarial input: three sizes ten times apart; ns/op and allocs/op should grow no faster
// than the input up to MaxEventSize, and past it a v6+ input with more than 6 × MaxEventSize
// bytes besides whitespace should be refused without being read further (SECURITY.md,
// "Limits"). Inputs are built only when the benchmark runs.

func scaleVersion(tb testing.TB, id string) roomversion.Version {
	tb.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func scaleEvent(content, extra string) []byte {
	return []byte(`{"type":"m.room.message","sender":"@a:x","room_id":"!r:x","origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},` + extra + `"content":` + content + `}`)
}

func scaleParse(b *testing.B, v roomversion.Version, data []byte, wantErr bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pdu.Parse(v, data); (err != nil) != wantErr {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseScale: events below the limit with wide content, many signatures, deep content.
func BenchmarkParseScale(b *testing.B) {
	v := scaleVersion(b, "10")
	inputs := []struct {
		name  string
		build func(n int) []byte
	}{
		{"wide_content", func(n int) []byte {
			var s strings.Builder
			s.WriteByte('{')
			for i := range n {
				if i > 0 {
					s.WriteByte(',')
				}
				fmt.Fprintf(&s, `"c%d":%d`, n-i, i)
			}
			return scaleEvent(s.String()+"}", `"signatures":{},`)
		}},
		{"signatures", func(n int) []byte {
			var s strings.Builder
			s.WriteString(`"signatures":{`)
			for i := range n {
				if i > 0 {
					s.WriteByte(',')
				}
				fmt.Fprintf(&s, `"s%d":{"ed25519:1":"","ed25519:2":""}`, n-i)
			}
			return scaleEvent(`{}`, s.String()+"},")
		}},
		{"deep_content", func(n int) []byte {
			return scaleEvent(`{"a":`+strings.Repeat(`{"b":[`, 60)+`"`+strings.Repeat(`\n`, n*10)+`"`+strings.Repeat(`],"a":0}`, 60)+`}`, `"signatures":{},`)
		}},
	}
	for _, in := range inputs {
		for _, n := range []int{15, 150, 1500} {
			data := in.build(n)
			b.Run(fmt.Sprintf("%s/%d", in.name, n), func(b *testing.B) { scaleParse(b, v, data, false) })
		}
	}
}

// BenchmarkParseTooLargeScale: inputs of 1, 10 and 100 MB. v10: past 6 × MaxEventSize bytes
// besides whitespace they are refused once that many are counted (constant time); whitespace around a
// small event is skipped. v5 (lenient): canonicalised whole before being measured, as
// documented (its canonical form can shrink without bound).
func BenchmarkParseTooLargeScale(b *testing.B) {
	v10, v5 := scaleVersion(b, "10"), scaleVersion(b, "5")
	big := func(n int) []byte { return scaleEvent(`{"body":"`+strings.Repeat("x", n)+`"}`, `"signatures":{},`) }
	sizes := []int{1 << 20, 10 << 20, 100 << 20}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("v10_dense/%d", n), func(b *testing.B) { scaleParse(b, v10, big(n), true) })
	}
	for _, n := range sizes {
		data := append([]byte(strings.Repeat(" ", n)), big(10)...)
		b.Run(fmt.Sprintf("v10_whitespace/%d", n), func(b *testing.B) { scaleParse(b, v10, data, false) })
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("v5_dense/%d", n), func(b *testing.B) { scaleParse(b, v5, big(n), true) })
	}
}

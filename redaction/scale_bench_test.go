package redaction_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
)

// The Benchmark...Scale functions of this file measure how the work of redaction grows with
// adversarial content: three sizes ten times apart; ns/op and allocs/op should grow no faster
// than the input (times log n for the sorting of Redact's canonicalisation). Redact takes
// events of any size; the parsed paths are bounded by pdu.MaxEventSize, so their sizes stop
// below it. Inputs are built only when the benchmark runs.

// scaleContents are contents of n units: an object of n members out of order, an array of n
// elements, a string of n escapes, and n members of `users` (kept by the redaction of power
// levels).
var scaleContents = []struct {
	name, typ string
	content   func(n int) string
}{
	{"wide_object", "m.room.message", func(n int) string {
		var s strings.Builder
		s.WriteByte('{')
		for i := range n {
			if i > 0 {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, `"k%d":{"x":[%d]}`, n-i, i)
		}
		return s.String() + "}"
	}},
	{"wide_array", "m.room.message", func(n int) string {
		return `{"a":[` + strings.TrimSuffix(strings.Repeat(`{"b":1,"a":2},`, n), ",") + `]}`
	}},
	{"escapes", "m.room.message", func(n int) string { return `{"body":"` + strings.Repeat(`\n\"\\`, n) + `"}` }},
	{"kept_users", "m.room.power_levels", func(n int) string {
		var s strings.Builder
		s.WriteString(`{"users":{`)
		for i := range n {
			if i > 0 {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, `"@u%d:x":%d`, n-i, i)
		}
		return s.String() + `},"x":1}`
	}},
	{"deep", "m.room.member", func(n int) string {
		// membership is kept; the rest of the content, nested 120 deep with n bytes inside,
		// is dropped.
		return `{"membership":"join","z":` + strings.Repeat(`{"b":`, 120) + `"` + strings.Repeat("x", n*10) + `"` + strings.Repeat(`,"a":0}`, 120) + `}`
	}},
}

func scaleEvent(typ, content string) []byte {
	return []byte(`{"type":"` + typ + `","state_key":"","sender":"@a:x","room_id":"!r:x","origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{"x":{"ed25519:1":"y"}},"unsigned":{"age":1},"content":` + content + `}`)
}

func BenchmarkRedactScale(b *testing.B) {
	v := lookup(b, "11")
	for _, c := range scaleContents {
		for _, n := range []int{100, 1_000, 10_000} {
			ev := scaleEvent(c.typ, c.content(n))
			b.Run(fmt.Sprintf("Redact/%s/%d", c.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(ev)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := redaction.Redact(v, ev); err != nil {
						b.Fatal(err)
					}
				}
			})
			canon, err := canonicaljson.CanonicalStrict(ev)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("RedactCanonical/%s/%d", c.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(ev)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := redaction.RedactCanonical(v, canon); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("AppendSignedBytes/%s/%d", c.name, n), func(b *testing.B) {
				b.SetBytes(int64(len(ev)))
				b.ReportAllocs()
				var out []byte
				for b.Loop() {
					if out, err = redaction.AppendSignedBytes(out[:0], v, canon); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkApplyRedactionScale: ApplyRedaction of a target whose content is wide, at sizes
// below the event limit (parsed events).
func BenchmarkApplyRedactionScale(b *testing.B) {
	v := lookup(b, "11")
	red, err := pdu.Parse(v, []byte(`{"type":"m.room.redaction","sender":"@a:x","room_id":"!r:x","origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{},"content":{"redacts":"$t"}}`))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{30, 300, 3000} {
		target, err := pdu.Parse(v, scaleEvent("m.room.power_levels", scaleContents[3].content(n)))
		if err != nil {
			b.Fatal(err)
		}
		target.EventID = "$t"
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(target.Raw())))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := redaction.ApplyRedaction(target, red); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package canonicaljson_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

// The Benchmark...Scale functions of this file measure how the work of canonicaljson grows
// with adversarial input: each runs three sizes, ten times apart, and ns/op and allocs/op
// should grow no faster than the input (times log n where keys are sorted; times the depth
// where nested objects are reordered), see SECURITY.md, "Resource exhaustion". Inputs are built
// only when the benchmark runs.

var scaleSizes = []int{1_000, 10_000, 100_000}

// runScale runs fn under b.Run for each n, with the input build(n).
func runScale(b *testing.B, sizes []int, build func(n int) []byte, fn func(b *testing.B, data []byte)) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := build(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			fn(b, data)
		})
	}
}

// scaleObject writes an object of n members whose keys key(i) come in a shuffled order.
func scaleObject(n int, key func(i int) string, value string) []byte {
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for j, i := range order {
		if j > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "%q:%s", key(i), value)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

func appendStrict(b *testing.B, data []byte) {
	out := make([]byte, 0, len(data))
	for b.Loop() {
		var err error
		if out, err = canonicaljson.Append(out[:0], data, canonicaljson.Options{Strict: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func appendLenient(b *testing.B, data []byte) {
	out := make([]byte, 0, len(data))
	for b.Loop() {
		var err error
		if out, err = canonicaljson.Append(out[:0], data, canonicaljson.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWideObjectScale: one object of n members in shuffled order (sorted: n log n).
func BenchmarkWideObjectScale(b *testing.B) {
	build := func(n int) []byte { return scaleObject(n, func(i int) string { return fmt.Sprintf("k%07d", i) }, "1") }
	b.Run("append", func(b *testing.B) { runScale(b, scaleSizes, build, appendStrict) })
	b.Run("valid", func(b *testing.B) {
		runScale(b, scaleSizes, build, func(b *testing.B, data []byte) {
			for b.Loop() {
				if err := canonicaljson.Valid(data, canonicaljson.Options{Strict: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("each_member", func(b *testing.B) {
		runScale(b, scaleSizes, build, func(b *testing.B, data []byte) {
			for b.Loop() {
				if err := canonicaljson.EachMember(data, func(string, []byte) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkCommonPrefixKeysScale: n keys sharing a 1 KB prefix, shuffled, so that every
// comparison of the sort reads the whole prefix (input n KB; expected n log n · 1 KB).
func BenchmarkCommonPrefixKeysScale(b *testing.B) {
	prefix := strings.Repeat("p", 1024)
	build := func(n int) []byte {
		return scaleObject(n, func(i int) string { return fmt.Sprintf("%s%07d", prefix, i) }, "1")
	}
	runScale(b, []int{100, 1_000, 10_000}, build, appendStrict)
}

// BenchmarkEscapedKeysScale: n keys written with escapes (unescaped into scratch to sort them).
func BenchmarkEscapedKeysScale(b *testing.B) {
	build := func(n int) []byte {
		order := rand.New(rand.NewPCG(1, 2)).Perm(n)
		var buf bytes.Buffer
		buf.WriteByte('{')
		for j, i := range order {
			if j > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `"\u0041\n%07d":1`, i)
		}
		buf.WriteByte('}')
		return buf.Bytes()
	}
	runScale(b, scaleSizes, build, appendStrict)
}

// BenchmarkDuplicateKeysScale: n members with the same key (lenient: the last one is kept).
func BenchmarkDuplicateKeysScale(b *testing.B) {
	build := func(n int) []byte {
		return []byte("{" + strings.TrimSuffix(strings.Repeat(`"a":[1],`, n), ",") + "}")
	}
	runScale(b, scaleSizes, build, appendLenient)
}

// BenchmarkEscapesScale: a string of n escapes (\u00e9, \n, \/), as a value and through Unquote.
func BenchmarkEscapesScale(b *testing.B) {
	sizes := []int{10_000, 100_000, 1_000_000}
	build := func(n int) []byte { return []byte(`"` + strings.Repeat(`\u00e9\n\/`, n/3) + `"`) }
	b.Run("append", func(b *testing.B) { runScale(b, sizes, build, appendStrict) })
	b.Run("unquote", func(b *testing.B) {
		runScale(b, sizes, build, func(b *testing.B, data []byte) {
			for b.Loop() {
				if _, err := canonicaljson.Unquote(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkNumbersScale: lenient numbers with n digits: an integer, and 0 with an n-digit
// exponent (written as 0).
func BenchmarkNumbersScale(b *testing.B) {
	sizes := []int{10_000, 100_000, 1_000_000}
	b.Run("integer", func(b *testing.B) {
		runScale(b, sizes, func(n int) []byte { return []byte("[1" + strings.Repeat("7", n) + "]") }, appendLenient)
	})
	b.Run("exponent", func(b *testing.B) {
		runScale(b, sizes, func(n int) []byte { return []byte("[1.5e-" + strings.Repeat("9", n) + "]") }, appendLenient)
	})
}

// BenchmarkDeepReorderScale: objects nested d deep, each out of order ({"b":{...},"a":0}),
// around a 64 KB string: each level copies the levels inside it when it is sorted, so the work
// is the input times the depth (bounded by DefaultMaxDepth).
func BenchmarkDeepReorderScale(b *testing.B) {
	build := func(d int) []byte {
		return []byte(strings.Repeat(`{"b":`, d) + `"` + strings.Repeat("x", 1<<16) + `"` + strings.Repeat(`,"a":0}`, d))
	}
	runScale(b, []int{12, 40, 126}, build, appendStrict)
}

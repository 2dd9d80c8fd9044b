//go:build !race

package redaction_test

import (
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/redaction"
)

// TestRedactAllocatesItsOutputOnce: Redact's output is one allocation of exactly its size (its
// working memory is pooled), whether the event comes as the corpus file holds it or in canonical
// form; AppendSignedBytes into a destination with room allocates nothing. (Not under -race, whose
// sync.Pool drops items at random.)
func TestRedactAllocatesItsOutputOnce(t *testing.T) {
	c := loadCorpus(t)
	for i, e := range c.events {
		wire, err := canonicaljson.CanonicalStrict(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range [][]byte{e, wire} {
			out, err := redaction.Redact(c.version, form)
			if err != nil {
				t.Fatal(err)
			}
			if cap(out) != len(out) {
				t.Errorf("event %d: Redact's output has capacity %d for %d bytes", i, cap(out), len(out))
			}
			if got := testing.AllocsPerRun(50, func() { _, _ = redaction.Redact(c.version, form) }); got != 1 {
				t.Errorf("event %d: Redact makes %v allocations, want 1", i, got)
			}
		}
		dst := make([]byte, 0, len(wire))
		if got := testing.AllocsPerRun(50, func() { _, _ = redaction.AppendSignedBytes(dst, c.version, wire) }); got != 0 {
			t.Errorf("event %d: AppendSignedBytes into room makes %v allocations, want 0", i, got)
		}
	}
}

package canonicaljson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

// TestCrossCheckReference compares Canonical with the encoding/json based
// reference on generated documents without floats, and checks the
// properties every output must have.
func TestCrossCheckReference(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g := newDocGen(1)
	dups := 0
	for i := 0; i < n; i++ {
		doc, hasDup := g.doc()
		if hasDup {
			dups++
		}
		want, err := referenceCanonical(doc)
		if err != nil {
			t.Fatalf("doc %d: the reference refuses %q: %v", i, doc, err)
		}
		got, err := canonicaljson.Canonical(doc)
		if err != nil {
			t.Fatalf("doc %d: Canonical(%q): %v", i, doc, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("doc %d: Canonical(%q)\n got %q\nwant %q", i, doc, got, want)
		}
		strict, err := canonicaljson.CanonicalStrict(doc)
		switch {
		case hasDup:
			if !errors.Is(err, canonicaljson.ErrDuplicateKey) {
				t.Fatalf("doc %d: CanonicalStrict(%q) = %v, want ErrDuplicateKey", i, doc, err)
			}
		case err != nil || !bytes.Equal(strict, want):
			t.Fatalf("doc %d: CanonicalStrict(%q) = %q, %v; want %q", i, doc, strict, err, want)
		}
		if err := canonicaljson.Valid(doc, canonicaljson.Options{Strict: !hasDup}); err != nil {
			t.Fatalf("doc %d: Valid: %v", i, err)
		}
		// Properties: a fixed point, and valid strict JSON.
		again, err := canonicaljson.CanonicalStrict(got)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("doc %d: output %q is not a strict fixed point: %q, %v", i, got, again, err)
		}
	}
	if dups == 0 || dups == n {
		t.Errorf("generator made %d documents with duplicate keys out of %d", dups, n)
	}
}

// TestCorpus canonicalises the benchmark corpus events and compares with the
// reference; a version 9 room's events must pass the strict rules.
func TestCorpus(t *testing.T) {
	events := append(corpusEvents(t), messageEvent(), powerLevelsEvent())
	for i, ev := range events {
		want, err := referenceCanonical(ev)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		got, err := canonicaljson.CanonicalStrict(ev)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("event %d: CanonicalStrict = %v\n got %q\nwant %q", i, err, got, want)
		}
		var v map[string]any
		if err := json.Unmarshal(got, &v); err != nil {
			t.Errorf("event %d: output is not JSON: %v", i, err)
		}
	}
}

package redaction_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// TestRedactCanonicalMatchesRedact: for every fixture accepted by Redact, in every version,
// redacting the canonical form with RedactCanonical gives the same bytes.
func TestRedactCanonicalMatchesRedact(t *testing.T) {
	n := 0
	for _, c := range loadCases(t) {
		for _, v := range roomversion.All() {
			want, err := redaction.Redact(v, c.input)
			if err != nil {
				continue
			}
			canon, err := canonicaljson.Append(nil, c.input, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
			if err != nil {
				t.Fatalf("%s v%s: %v", c.name, v.ID, err)
			}
			got, err := redaction.RedactCanonical(v, canon)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s v%s: RedactCanonical = %q, %v; Redact = %q", c.name, v.ID, got, err, want)
			}
			// AppendSignedBytes: the same without `signatures`, appended after what dst holds.
			wantSigned := withoutSignatures(t, want)
			signed, err := redaction.AppendSignedBytes([]byte("prefix"), v, canon)
			if err != nil || string(signed) != "prefix"+string(wantSigned) {
				t.Fatalf("%s v%s: AppendSignedBytes = %q, %v; want prefix%s", c.name, v.ID, signed, err, wantSigned)
			}
			// AppendSignedBytesIndexed: the same, reading the members from the index.
			var idx canonicaljson.Index
			if _, err := canonicaljson.AppendIndexed(nil, canon, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, &idx); err != nil {
				t.Fatalf("%s v%s: %v", c.name, v.ID, err)
			}
			signed, err = redaction.AppendSignedBytesIndexed([]byte("prefix"), v, canon, &idx)
			if err != nil || string(signed) != "prefix"+string(wantSigned) {
				t.Fatalf("%s v%s: AppendSignedBytesIndexed = %q, %v; want prefix%s", c.name, v.ID, signed, err, wantSigned)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d fixture/version pairs compared", n)
	}
	v, _ := roomversion.Lookup("9")
	for _, in := range []string{`[]`, ``, `"x"`} {
		if _, err := redaction.RedactCanonical(v, []byte(in)); !errors.Is(err, redaction.ErrNotObject) {
			t.Errorf("RedactCanonical(%q) = %v, want ErrNotObject", in, err)
		}
	}
	if _, err := redaction.RedactCanonical(v, []byte(`{"a":`)); !errors.Is(err, redaction.ErrInvalidJSON) {
		t.Errorf("truncated input: %v, want ErrInvalidJSON", err)
	}
	if out, err := redaction.AppendSignedBytes([]byte("x"), v, []byte(`{"a":`)); !errors.Is(err, redaction.ErrInvalidJSON) || string(out) != "x" {
		t.Errorf("AppendSignedBytes(truncated) = %q, %v; want dst unchanged and ErrInvalidJSON", out, err)
	}
	if _, err := redaction.AppendSignedBytes(nil, v, []byte(`[]`)); !errors.Is(err, redaction.ErrNotObject) {
		t.Errorf("AppendSignedBytes([]) = %v, want ErrNotObject", err)
	}
}

// TestAppendSignedBytesIndexedBadIndex: an index that does not describe the event gives
// ErrInvalidJSON (dst unchanged), never a panic; a nil index is AppendSignedBytes.
func TestAppendSignedBytesIndexedBadIndex(t *testing.T) {
	v, _ := roomversion.Lookup("9")
	canon := []byte(`{"content":{"body":"x"},"signatures":{},"type":"m.room.message"}`)
	var good canonicaljson.Index
	if _, err := canonicaljson.AppendIndexed(nil, canon, canonicaljson.Options{Strict: true}, &good); err != nil {
		t.Fatal(err)
	}
	want := `{"content":{},"type":"m.room.message"}`
	if got, err := redaction.AppendSignedBytesIndexed(nil, v, canon, &good); err != nil || string(got) != want {
		t.Fatalf("good index: %q, %v; want %s", got, err, want)
	}
	if got, err := redaction.AppendSignedBytesIndexed(nil, v, canon, nil); err != nil || string(got) != want {
		t.Fatalf("nil index: %q, %v; want %s", got, err, want)
	}
	member := func(start, value, end, ns, ne int) canonicaljson.Member {
		return canonicaljson.Member{Start: start, Value: value, End: end, NestedStart: ns, NestedEnd: ne}
	}
	n := len(canon)
	for _, c := range []struct {
		name string
		idx  canonicaljson.Index
	}{
		{"negative start", canonicaljson.Index{Members: []canonicaljson.Member{member(-1, 5, 8, 0, 0)}}},
		{"key shorter than its quotes", canonicaljson.Index{Members: []canonicaljson.Member{member(4, 5, 8, 0, 0)}}},
		{"empty value", canonicaljson.Index{Members: []canonicaljson.Member{member(1, 11, 11, 0, 0)}}},
		{"end past the event", canonicaljson.Index{Members: []canonicaljson.Member{member(1, 11, n+1, 0, 0)}}},
		{"nested range past Nested", canonicaljson.Index{Members: []canonicaljson.Member{member(1, 11, 23, 0, 1)}}},
		{"nested range reversed", canonicaljson.Index{Members: []canonicaljson.Member{member(1, 11, 23, 1, 0)}}},
		// "type" is at 40..46 and its value at 47: a string value cut to its opening quote.
		{"string value without its closing quote", canonicaljson.Index{Members: []canonicaljson.Member{member(40, 47, 48, 0, 0)}}},
		{"nested member past the event", canonicaljson.Index{Members: []canonicaljson.Member{member(1, 11, 23, 0, 1)},
			Nested: []canonicaljson.Member{member(12, 19, n+5, 0, 0)}}},
	} {
		got, err := redaction.AppendSignedBytesIndexed([]byte("dst"), v, canon, &c.idx)
		if !errors.Is(err, redaction.ErrInvalidJSON) || string(got) != "dst" {
			t.Errorf("%s: %q, %v; want dst unchanged and ErrInvalidJSON", c.name, got, err)
		}
	}
}

// withoutSignatures rebuilds the canonical object obj without its top-level `signatures`.
func withoutSignatures(t *testing.T, obj []byte) []byte {
	t.Helper()
	out := []byte{'{'}
	err := canonicaljson.EachMember(obj, func(k string, v []byte) error {
		if k == "signatures" {
			return nil
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = canonicaljson.AppendString(out, k)
		out = append(append(out, ':'), v...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '}')
}

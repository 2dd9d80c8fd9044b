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

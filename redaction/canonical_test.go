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
}

package redaction

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
)

// TestMutationDomainOf: the server name of an ID is everything after its first colon, also
// when the colon is the first byte (pdu.Parse accepts such a sender).
func TestMutationDomainOf(t *testing.T) {
	tests := []struct {
		mutant string
		id     string
		want   string
	}{
		{"redaction/handling.go:141 '>=' -> '>'", ":b.example", "b.example"},
		{"(a user ID)", "@a:b.example", "b.example"},
		{"(a port)", "@a:b.example:8448", "b.example:8448"},
		{"(no colon)", "@ab", ""},
	}
	for _, tt := range tests {
		if got := domainOf(tt.id); got != tt.want {
			t.Errorf("%s: domainOf(%q) = %q, want %q", tt.mutant, tt.id, got, tt.want)
		}
	}
}

// TestMutationUnknownVersion: RedactCanonical and AppendSignedBytes refuse a Version that
// Lookup would not return, with roomversion.ErrUnknownVersion and no output.
func TestMutationUnknownVersion(t *testing.T) {
	// redaction/redaction.go:264 'err' -> 'nil'
	canon := []byte(`{"content":{"body":"x"},"type":"m.room.message"}`)
	out, err := RedactCanonical(roomversion.Version{}, canon)
	if out != nil || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("RedactCanonical: %q, %v; want nil, ErrUnknownVersion", out, err)
	}
	dst := []byte("keep")
	out, err = AppendSignedBytes(dst, roomversion.Version{}, canon)
	if string(out) != "keep" || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("AppendSignedBytes: %q, %v; want dst unchanged, ErrUnknownVersion", out, err)
	}
}

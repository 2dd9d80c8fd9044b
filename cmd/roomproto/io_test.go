package main

import (
	"io"
	"strings"
	"testing"
)

// endless is a reader of unlimited 'x' bytes that counts what is read from it.
type endless struct{ n int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// TestReadAtMost checks the input bound at its edge: exactly limit bytes are read, one more is
// refused, and an endless input is refused after reading limit+1 bytes, so that the tool's
// memory is bounded by maxInput whatever it is given.
func TestReadAtMost(t *testing.T) {
	const limit = 1000
	for _, c := range []struct {
		name    string
		n       int
		wantErr bool
	}{{"empty", 0, false}, {"at the limit", limit, false}, {"one over", limit + 1, true}} {
		t.Run(c.name, func(t *testing.T) {
			data, err := readAtMost(strings.NewReader(strings.Repeat("x", c.n)), limit)
			if (err != nil) != c.wantErr || err == nil && len(data) != c.n {
				t.Fatalf("%d bytes: %d read, error %v", c.n, len(data), err)
			}
			if err != nil && err.Error() != "input larger than 1000 bytes" {
				t.Fatalf("error %q", err)
			}
		})
	}
	r := &endless{}
	if _, err := readAtMost(io.Reader(r), limit); err == nil || r.n > limit+1 {
		t.Fatalf("endless input: error %v after reading %d bytes", err, r.n)
	}
	if maxInput != 1<<30 {
		t.Fatalf("maxInput is %d; SECURITY.md says 1 GiB", maxInput)
	}
}

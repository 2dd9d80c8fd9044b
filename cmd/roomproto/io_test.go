package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
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

// counting is a reader of a JSON prefix and then unlimited 'x' bytes, counting what is read.
type counting struct {
	prefix string
	n      int64
}

func (c *counting) Read(p []byte) (int, error) {
	k := copy(p, c.prefix)
	c.prefix = c.prefix[k:]
	for i := k; i < len(p); i++ {
		p[i] = 'x'
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestEventInputBounded: a command that reads one event stops reading its input past
// maxEventInput (128 × pdu.MaxEventSize bytes) and exits 1 with one line, from standard input
// or from a file (refused by its size, unread); commands whose input may be large (canonical,
// a room dump, --state) keep the 1 GiB bound. Finding C8 of tools/climisuse: every command
// used to read up to 1 GiB.
func TestEventInputBounded(t *testing.T) {
	if maxEventInput != 8388608 {
		t.Fatalf("maxEventInput is %d; SECURITY.md and decisions say 8 MiB", maxEventInput)
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	auth := filepath.Join(dir, "auth.json")
	key := filepath.Join(dir, "a.key")
	big := filepath.Join(dir, "big.json")
	for _, f := range []struct{ path, data string }{{keys, "{}"}, {auth, "[]"}, {key, "ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n"}} {
		if err := os.WriteFile(f.path, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxEventInput + 1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.Close()
	for _, args := range [][]string{
		{"redact", "--room-version", "9"},
		{"content-hash"},
		{"event-id", "--room-version", "9"},
		{"sign-event", "--room-version", "9", "--server-name", "a.example", "--key", key},
		{"verify-event", "--room-version", "9", "--keys", keys},
		{"auth-events", "--room-version", "9"},
		{"auth", "--room-version", "9", "--auth-events", auth},
		{"policy-check", "--room-version", "9", "--state", auth},
	} {
		in := &counting{prefix: `{"type":"m.room.message","content":{"body":"`}
		var stdout, stderr bytes.Buffer
		code := run(args, in, &stdout, &stderr)
		if code != 1 || stdout.Len() != 0 || stderr.String() != "roomproto "+args[0]+": input larger than 8388608 bytes\n" {
			t.Errorf("%v on endless input: exit %d, stdout %q, stderr %q", args, code, stdout.String(), stderr.String())
		}
		if in.n > maxEventInput+64<<10 {
			t.Errorf("%v read %d bytes of an input that cannot be an event", args, in.n)
		}
		stdout.Reset()
		stderr.Reset()
		code = run(append(args, big), strings.NewReader(""), &stdout, &stderr)
		if code != 1 || stderr.String() != "roomproto "+args[0]+": input larger than 8388608 bytes\n" {
			t.Errorf("%v on a file of 8 MiB + 1: exit %d, stderr %q", args, code, stderr.String())
		}
	}
	// canonical reads past the event bound.
	var stdout, stderr bytes.Buffer
	body := strings.Repeat("x", maxEventInput)
	if code := run([]string{"canonical"}, strings.NewReader(`"`+body+`"`), &stdout, &stderr); code != 0 || stdout.Len() != maxEventInput+2 {
		t.Errorf("canonical of a %d-byte string: exit %d, %d bytes out, stderr %q", maxEventInput+2, code, stdout.Len(), stderr.String())
	}
}

// failWriter is a standard output on a full disk.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestHelpWriteError: help, help COMMAND and COMMAND -h exit 1 with one line on standard error
// when their output cannot be written, as every command does (finding C1 of tools/climisuse:
// they exited 0).
func TestHelpWriteError(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "event-id"}, {"event-id", "-h"}, {"join-decision", "--help"}} {
		var stderr bytes.Buffer
		code := run(args, strings.NewReader(""), failWriter{}, &stderr)
		if code != 1 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "no space left on device") {
			t.Errorf("%v on a full disk: exit %d, stderr %q; want exit 1 and one line", args, code, stderr.String())
		}
	}
}

// TestParseFlags: where the flags end, and flags given twice (findings C2 and C7 of
// tools/climisuse).
func TestParseFlags(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		wantS   string
		wantB   bool
		wantPos []string
		wantErr string
	}{
		{"flags around a file", []string{"--s", "x", "f", "--b"}, "x", true, []string{"f"}, ""},
		{"-- ends the flags", []string{"--s", "x", "--", "--b"}, "x", false, []string{"--b"}, ""},
		{"-- as a value", []string{"--s", "--", "f", "--b"}, "--", true, []string{"f"}, ""},
		{"-- as a value, then -- ends the flags", []string{"--s", "--", "--", "--b"}, "--", false, []string{"--b"}, ""},
		{"-- as an = value", []string{"--s=--", "f", "--b"}, "--", true, []string{"f"}, ""},
		{"-- after a boolean flag ends the flags", []string{"--b", "--", "--s", "y"}, "", true, []string{"--s", "y"}, ""},
		{"-- after a file ends the flags", []string{"f", "--", "--s", "y"}, "", false, []string{"f", "--s", "y"}, ""},
		{"- is a file", []string{"-", "--s", "y"}, "y", false, []string{"-"}, ""},
		{"a value flag twice", []string{"--s", "x", "--s", "y"}, "", false, nil, "--s given twice"},
		{"a value flag twice, = form", []string{"--s=x", "f", "-s", "y"}, "", false, nil, "--s given twice"},
		{"a boolean flag twice", []string{"--b", "f", "--b"}, "", false, nil, "--b given twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := newFlags("t")
			s := fs.String("s", "", "")
			b := fs.Bool("b", false, "")
			err := parseFlags(fs, c.args)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || *s != c.wantS || *b != c.wantB || strings.Join(fs.Args(), "|") != strings.Join(c.wantPos, "|") {
				t.Fatalf("s %q, b %v, args %q, error %v; want %q, %v, %q", *s, *b, fs.Args(), err, c.wantS, c.wantB, c.wantPos)
			}
		})
	}
}

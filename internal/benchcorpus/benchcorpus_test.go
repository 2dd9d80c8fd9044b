package benchcorpus

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCorpus reads the project's corpus (Path is relative to a directory one level below
// the module root; this package is two levels below) and checks that each event is the text of
// the file, byte for byte.
func TestReadCorpus(t *testing.T) {
	path := filepath.Join("..", Path)
	c, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.RoomVersion != "9" || len(c.Events) != 18 || len(c.EventIDs) != 18 || !json.Valid(c.Keys) {
		t.Fatalf("version %q, %d events, %d IDs, keys %s", c.RoomVersion, len(c.Events), len(c.EventIDs), c.Keys)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for i, e := range c.Events {
		n := bytes.Index(data[at:], e)
		if n < 0 || e[0] != '{' || !bytes.Contains(e, []byte("\n")) {
			t.Fatalf("event %d is not, in order, the indented text of the file:\n%s", i, e)
		}
		at += n + len(e)
	}
}

func TestReadErrors(t *testing.T) {
	if _, err := Read(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"room_version": "9"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var fe *FormatError
	if _, err := Read(bad); !errors.As(err, &fe) || fe.Path != bad || !strings.Contains(err.Error(), bad) {
		t.Errorf("Read of a file without keys: %v, want a *FormatError naming the file", err)
	}
	var syntax *json.SyntaxError
	if _, err := Parse([]byte(`{`)); !errors.As(err, &syntax) {
		t.Errorf("Parse({) = %v, want it to wrap a *json.SyntaxError", err)
	}
	for _, tc := range []struct{ data, detail string }{
		{`[]`, "cannot decode"},
		{`{"room_version": "9", "keys": {}, "events": [{}]`, "cannot decode"},
		{`{"keys": {}, "events": [], "event_ids": []}`, `no "room_version"`},
		{`{"room_version": "9", "events": [], "event_ids": []}`, `no "keys"`},
		{`{"room_version": "9", "keys": {}, "event_ids": []}`, `no "events"`},
		{`{"room_version": "9", "keys": {}, "events": []}`, `no "event_ids"`},
		{`{"room_version": "9", "keys": {}, "events": [{}, {}], "event_ids": ["$a"]}`, "2 events and 1 event IDs"},
	} {
		_, err := Parse([]byte(tc.data))
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Path != "" || !strings.HasPrefix(err.Error(), "benchcorpus: "+tc.detail) {
			t.Errorf("Parse(%s) = %v, want a *FormatError %q", tc.data, err, tc.detail)
		}
	}
}

// Package benchcorpus reads the project's benchmark corpus, testdata/signing/bench_corpus.json:
// a copy of the shared corpus ../shared/bench/corpus.json (see its README), which holds the
// signed events of a room version 9 room, their event IDs and the public keys of their servers.
//
// The tests and benchmarks of several packages read the corpus through it. It imports only the
// standard library, so that in-package tests (package signing, package pdu) can import it
// without an import cycle; each caller turns the fields into its own types (a key ring, a room
// version, parsed events).
package benchcorpus

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Path is the corpus file relative to a directory one level below the module root, such as
// signing or pdu: the directory in which `go test` runs a package's tests and benchmarks.
const Path = "../testdata/signing/bench_corpus.json"

// Corpus is the content of a corpus file.
type Corpus struct {
	// RoomVersion is the identifier of the events' room version, such as "9".
	RoomVersion string
	// Keys is the file's "keys" member as it is written there:
	// {"server name": {"key ID": "unpadded base64 public key"}}.
	Keys json.RawMessage
	// Events are the events in the order of the file, each byte for byte the text of its JSON
	// object in the file, indentation included (not canonical JSON).
	Events [][]byte
	// EventIDs are the events' IDs: EventIDs[i] is the ID of Events[i].
	EventIDs []string
}

// FormatError reports a corpus file whose content is not a corpus.
type FormatError struct {
	// Path is the file, or "" for content given to Parse.
	Path string
	// Err says what is wrong. It wraps the encoding/json error when the content cannot be
	// decoded.
	Err error
}

// Error returns the file and what is wrong with it.
func (e *FormatError) Error() string {
	if e.Path == "" {
		return "benchcorpus: " + e.Err.Error()
	}
	return "benchcorpus: " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns Err.
func (e *FormatError) Unwrap() error { return e.Err }

// Read reads and decodes the corpus file at path, as Parse does. If the file cannot be read,
// the error is the one os.ReadFile returns, so errors.Is(err, fs.ErrNotExist) reports a missing
// file; if its content is not a corpus, the error is a *FormatError.
func Read(path string) (*Corpus, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data)
}

// Parse decodes the content of a corpus file: a JSON object with the members "room_version",
// "keys", "events" and "event_ids". It returns a *FormatError if data is not such an object, if
// a member is missing, or if the number of events and of event IDs differ. The events and the
// keys are copies of their text in data.
func Parse(data []byte) (*Corpus, error) {
	return parse("", data)
}

func parse(path string, data []byte) (*Corpus, error) {
	var raw struct {
		RoomVersion *string           `json:"room_version"`
		Keys        json.RawMessage   `json:"keys"`
		Events      []json.RawMessage `json:"events"`
		EventIDs    []string          `json:"event_ids"`
	}
	bad := func(err error) (*Corpus, error) { return nil, &FormatError{Path: path, Err: err} }
	if err := json.Unmarshal(data, &raw); err != nil {
		return bad(fmt.Errorf("cannot decode: %w", err))
	}
	switch {
	case raw.RoomVersion == nil:
		return bad(errors.New(`no "room_version"`))
	case raw.Keys == nil:
		return bad(errors.New(`no "keys"`))
	case raw.Events == nil:
		return bad(errors.New(`no "events"`))
	case raw.EventIDs == nil:
		return bad(errors.New(`no "event_ids"`))
	case len(raw.Events) != len(raw.EventIDs):
		return bad(fmt.Errorf("%d events and %d event IDs", len(raw.Events), len(raw.EventIDs)))
	}
	c := &Corpus{RoomVersion: *raw.RoomVersion, Keys: raw.Keys, Events: make([][]byte, len(raw.Events)), EventIDs: raw.EventIDs}
	for i, e := range raw.Events {
		c.Events[i] = e
	}
	return c, nil
}

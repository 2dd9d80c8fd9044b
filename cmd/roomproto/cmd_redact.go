package main

import "github.com/roomproto/roomproto/redaction"

// runRedact implements `roomproto redact --room-version V [FILE]`: it prints the redacted form of
// the event read from FILE or standard input (canonical JSON, redaction.Redact) on one line.
func runRedact(e *env, args []string) error {
	fs := newFlags("redact")
	version := fs.String("room-version", "", "room version of the event's room (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*version)
	if err != nil {
		return err
	}
	data, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	out, err := redaction.Redact(v, data)
	if err != nil {
		return err
	}
	return writeJSONLine(e, out)
}

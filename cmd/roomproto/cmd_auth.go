package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// runAuthEvents: auth-events --room-version V [FILE] — prints the JSON array of [type,
// state_key] pairs the auth events selection needs for the event.
func runAuthEvents(e *env, args []string) error {
	fs := newFlags("auth-events")
	version := fs.String("room-version", "", "room version of the event")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*version)
	if err != nil {
		return err
	}
	in, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	ev, err := pdu.Parse(v, in)
	if err != nil {
		return err
	}
	keys, err := authrules.AuthEventsNeeded(v, ev)
	if err != nil {
		return err
	}
	out := []byte{'['}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '[')
		out = canonicaljson.AppendString(out, k.Type)
		out = append(out, ',')
		out = canonicaljson.AppendString(out, k.StateKey)
		out = append(out, ']')
	}
	out = append(out, ']')
	return writeJSONLine(e, out)
}

// runAuth: auth --room-version V --auth-events FILE [--keys FILE] [FILE] — authorises the
// event against its auth events and prints {"allowed":true} or {"allowed":false,"rule":...,
// "severity":...,"reason":...}. Any verdict exits 0.
func runAuth(e *env, args []string) error {
	fs := newFlags("auth")
	version := fs.String("room-version", "", "room version of the event")
	authFile := fs.String("auth-events", "", "file holding a JSON array of the event's auth events")
	keysFile := fs.String("keys", "", "file holding {server: {key ID: public key}}")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*version)
	if err != nil {
		return err
	}
	if *authFile == "" {
		return usagef("missing --auth-events")
	}
	in, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	var keys signing.KeyLookup
	if *keysFile != "" {
		data, err := readFlagFile(e, "keys", *keysFile, maxInput)
		if err != nil {
			return err
		}
		ring, err := signing.ParseKeyRing(data)
		if err != nil {
			return fmt.Errorf("--keys: %w", err)
		}
		keys = ring
	}
	authData, err := readFlagFile(e, "auth-events", *authFile, maxInput)
	if err != nil {
		return err
	}
	authEvents, err := parseEventList(v, authData)
	if err != nil {
		return fmt.Errorf("--auth-events: %w", err)
	}
	if err := usableObject(in); err != nil {
		return err
	}
	ev, err := signing.ParseEvent(v, in)
	if err != nil {
		// A JSON object that is no event of the room version (a required field missing, a
		// float in v6+, ...) fails before any auth rule (check 1 of "Checks performed on
		// receipt of a PDU"): DESIGN.md's fatal verdict, "the event could not be parsed or
		// misses a required field", without a rule number.
		return writeVerdict(e, &authrules.Rejection{Severity: authrules.SeverityFatal, Reason: err.Error(), Err: authrules.ErrMalformed})
	}
	return writeVerdict(e, authrules.Check(v, ev, authEvents, keys))
}

// parseEventList parses a JSON array of events, filling in their event IDs.
func parseEventList(v roomversion.Version, data []byte) ([]*pdu.Event, error) {
	if canonicaljson.KindOf(data) != canonicaljson.Array {
		return nil, errors.New("want a JSON array of events")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, err
	}
	out := make([]*pdu.Event, 0, len(items))
	for i, item := range items {
		ev, err := signing.ParseEvent(v, item)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// writeVerdict prints the verdict of an authorization check as one JSON line.
func writeVerdict(e *env, verdict error) error {
	if verdict == nil {
		return writeJSONLine(e, []byte(`{"allowed":true}`))
	}
	var rej *authrules.Rejection
	if !errors.As(verdict, &rej) {
		return verdict
	}
	out := []byte(`{"allowed":false`)
	if rej.Rule != "" {
		out = append(out, `,"rule":`...)
		out = canonicaljson.AppendString(out, rej.Rule)
	}
	out = append(out, `,"severity":`...)
	out = canonicaljson.AppendString(out, rej.Severity.String())
	out = append(out, `,"reason":`...)
	out = canonicaljson.AppendString(out, rej.Reason)
	out = append(out, '}')
	return writeJSONLine(e, out)
}

package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// runContentHash: content-hash [FILE] — prints {"sha256":"<unpadded base64>"}, the content hash
// of the event (server-server-api "Calculating the content hash for an event"). There is no
// room version, so the JSON is canonicalised with the lenient rules of room versions 1-5.
func runContentHash(e *env, args []string) error {
	fs := newFlags("content-hash")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	lenient, err := roomversion.Lookup("1")
	if err != nil {
		return err
	}
	sum, err := signing.ContentHash(lenient, in)
	if err != nil {
		return err
	}
	out := append([]byte(`{"sha256":`), canonicaljson.AppendString(nil, base64.RawStdEncoding.EncodeToString(sum[:]))...)
	return writeJSONLine(e, append(out, '}'))
}

// runEventID: event-id --room-version V [FILE] — prints the event's ID: for room versions 1-2 its
// own event_id, from version 3 "$" and the base64 of its reference hash.
func runEventID(e *env, args []string) error {
	fs := newFlags("event-id")
	rv := fs.String("room-version", "", "room version of the event")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*rv)
	if err != nil {
		return err
	}
	in, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	id, err := signing.EventID(v, in)
	if err != nil {
		return err
	}
	if strings.ContainsAny(id, lineBreaks) {
		// A v1-2 event ID may hold control characters (appendices "Event IDs"); the output
		// is one line, which cannot carry a line break (docs/decisions.md, hostile input 4).
		return fmt.Errorf("event ID %q holds a line break, which the one-line output cannot carry", id)
	}
	_, err = fmt.Fprintln(e.stdout, id)
	return err
}

// lineBreaks are the characters that end a line for common line readers: \n and \r, and
// also vertical tab, form feed, the file, group and record separators, NEL and the Unicode
// line and paragraph separators, which Python's str.splitlines takes as line ends.
const lineBreaks = "\n\r\v\f\x1c\x1d\x1e\u0085\u2028\u2029"

// runSign: sign --server-name S --key FILE [FILE] — prints the JSON object with S's signature
// added (appendices "Signing Details").
func runSign(e *env, args []string) error {
	fs := newFlags("sign")
	server := fs.String("server-name", "", "name of the signing server")
	keyFile := fs.String("key", "", `signing key file: "ed25519 <version> <base64 seed>"`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	key, err := signingKeyFlags(e, *server, *keyFile)
	if err != nil {
		return err
	}
	in, err := readInput(e, fs, maxInput)
	if err != nil {
		return err
	}
	out, err := signing.SignJSON(in, *server, key)
	if err != nil {
		return err
	}
	return writeJSONLine(e, out)
}

// runSignEvent: sign-event --room-version V --server-name S --key FILE [FILE] — prints the event
// with its content hash and S's signature added (server-server-api "Adding hashes and
// signatures to outgoing events").
func runSignEvent(e *env, args []string) error {
	fs := newFlags("sign-event")
	rv := fs.String("room-version", "", "room version of the event")
	server := fs.String("server-name", "", "name of the signing server")
	keyFile := fs.String("key", "", `signing key file: "ed25519 <version> <base64 seed>"`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*rv)
	if err != nil {
		return err
	}
	key, err := signingKeyFlags(e, *server, *keyFile)
	if err != nil {
		return err
	}
	in, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	out, err := signing.SignEvent(v, in, *server, key)
	if err != nil {
		return err
	}
	return writeJSONLine(e, out)
}

// runVerify: verify --keys FILE [FILE] — prints {"valid":true} when at least one signature of
// the object is by a known key and every signature by a known key holds (others are skipped),
// else {"valid":false,"reason":"..."}.
func runVerify(e *env, args []string) error {
	fs := newFlags("verify")
	keysFile := fs.String("keys", "", `public keys: {"server": {"ed25519:v": "<base64>"}}`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	keys, in, err := readKeysAndInput(e, fs, *keysFile, maxInput)
	if err != nil {
		return err
	}
	if err := usableObject(in); err != nil {
		return err
	}
	return writeValidity(e, signing.VerifyJSON(in, keys))
}

// runVerifyEvent: verify-event --room-version V --keys FILE [FILE] — prints {"valid":true} when
// every server the room version requires has signed with a known key, all those signatures hold
// and the content hash matches, else {"valid":false,"reason":"..."}.
func runVerifyEvent(e *env, args []string) error {
	fs := newFlags("verify-event")
	rv := fs.String("room-version", "", "room version of the event")
	keysFile := fs.String("keys", "", `public keys: {"server": {"ed25519:v": "<base64>"}}`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*rv)
	if err != nil {
		return err
	}
	keys, in, err := readKeysAndInput(e, fs, *keysFile, maxEventInput)
	if err != nil {
		return err
	}
	if err := usableObject(in); err != nil {
		return err
	}
	return writeValidity(e, signing.VerifyEvent(v, in, keys))
}

// usableObject refuses input verify and verify-event cannot give a verdict on (exit status 1):
// text that is not JSON by the lenient rules, checked before the room version's strict ones,
// which report the first problem they meet, so that a float before a syntax error does not
// pass the malformed text off as an invalid event; and JSON that is not an object.
func usableObject(in []byte) error {
	if err := canonicaljson.Valid(in, canonicaljson.Options{}); errors.Is(err, canonicaljson.ErrSyntax) || errors.Is(err, canonicaljson.ErrTooDeep) {
		return err
	}
	if k := canonicaljson.KindOf(in); k != canonicaljson.Object {
		return fmt.Errorf("input must be a JSON object, got %s", k)
	}
	return nil
}

// signingKeyFlags checks --server-name and reads the --key file.
func signingKeyFlags(e *env, server, keyFile string) (signing.SigningKey, error) {
	if server == "" {
		return signing.SigningKey{}, usagef("missing --server-name")
	}
	if keyFile == "" {
		return signing.SigningKey{}, usagef("missing --key")
	}
	data, err := readFlagFile(e, "key", keyFile, maxEventInput)
	if err != nil {
		return signing.SigningKey{}, err
	}
	return signing.ParseSigningKey(data)
}

// readKeysAndInput reads the --keys file and the input.
func readKeysAndInput(e *env, fs *flag.FlagSet, keysFile string, limit int64) (signing.KeyRing, []byte, error) {
	if keysFile == "" {
		return nil, nil, usagef("missing --keys")
	}
	data, err := readFlagFile(e, "keys", keysFile, maxInput)
	if err != nil {
		return nil, nil, err
	}
	keys, err := signing.ParseKeyRing(data)
	if err != nil {
		return nil, nil, err
	}
	in, err := readInput(e, fs, limit)
	return keys, in, err
}

// writeValidity prints {"valid":true} or {"valid":false,"reason":...}. Input that is not JSON
// at all is unusable (exit status 1), not a verdict.
func writeValidity(e *env, err error) error {
	if err == nil {
		return writeJSONLine(e, []byte(`{"valid":true}`))
	}
	if errors.Is(err, canonicaljson.ErrSyntax) || errors.Is(err, canonicaljson.ErrTooDeep) {
		return err
	}
	out := append([]byte(`{"reason":`), canonicaljson.AppendString(nil, err.Error())...)
	return writeJSONLine(e, append(out, `,"valid":false}`...))
}

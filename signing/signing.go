// Package signing signs and verifies Matrix JSON objects and events with ed25519: signing keys,
// public key lookup, signed JSON, content hashes, reference hashes, event IDs and the
// signatures every room version requires on an event.
//
// Everything here follows the spec's "Signing JSON" (appendices: "Signing Details", "Checking for
// a Signature", "Unpadded Base64") and "Signing Events" (server-server-api: "Adding hashes and
// signatures to outgoing events", "Validating hashes and signatures on received events",
// "Calculating the reference hash for an event", "Calculating the content hash for an event"),
// with the per-version rules read from [roomversion.Version]: how event IDs are formed
// (Format.EventID), how strictly canonical JSON is enforced (Format.StrictCanonicalJSON), and
// which servers must sign and whether key validity is enforced (Signing).
//
// Hashes and signatures are always computed over the received bytes, canonicalised by the
// canonicaljson package and redacted by the redaction package: never over a re-encoding of a Go
// struct. Public keys come from the caller through the [KeyLookup] interface; the package never
// fetches keys.
//
// # Verdicts
//
// [VerifyEvent] returns nil or an error that is a [*VerificationError] whose sentinel says what a
// receiving server does with the event:
//
//   - [ErrContentHashMismatch]: the signatures hold but the content hash does not: the event
//     was redacted in transit (or tampered with in its redactable parts). Keep the redacted form
//     (redaction.Redact), do not reject.
//   - [ErrMissingSignature], [ErrBadSignature], [ErrNoContentHash], [ErrMalformed]: reject
//     (drop) the event.
//   - [ErrUnknownKey], [ErrKeyExpired]: no usable key is known for a server that must have
//     signed; fetch (fresh) keys for [VerificationError.Server] and verify again; if none can
//     be had, reject.
//
// # Many events
//
// VerifyEvents, VerifyParsedEvents and ParseAndVerifyEvents verify many events at once on all
// cores; a KeyCache verifies events one at a time as they arrive, keeping the keys it has used
// more than once prepared for the calls that follow. Both give exactly VerifyEvent's verdicts.
//
// Everything in this package is safe for concurrent use.
//
// A roomversion.Version must be one roomversion.Lookup or roomversion.All returns: the zero
// Version, or a copy renamed to an ID the spec does not define, is refused with an error
// matching roomversion.ErrUnknownVersion rather than read as a room version without rules.
package signing

import (
	"errors"
	"fmt"
)

// ErrNotImplemented was returned by the API skeleton; no function returns it.
//
// Deprecated: kept so that code written against the skeleton still compiles.
var ErrNotImplemented = errors.New("signing: not implemented")

// Sentinel errors, matched with errors.Is against a [*VerificationError].
var (
	// ErrMalformed: the input is not what the function needs: not a JSON object (canonical JSON
	// for the room version), `signatures` not an object of objects of strings, an event that
	// does not have the format of its room version (the *pdu.FormatError is the Cause), an ID
	// without a server name. Reject.
	ErrMalformed = errors.New("malformed input")
	// ErrMissingSignature: a server that must sign has no ed25519 signature on the object
	// (appendices "Checking for a Signature", steps 1-2). Reject.
	ErrMissingSignature = errors.New("missing signature")
	// ErrUnknownKey: the server has signed, but with no key the KeyLookup knows (step 3). The
	// caller may fetch the server's keys and verify again; otherwise reject.
	ErrUnknownKey = errors.New("no known key for the signature")
	// ErrMissingKey is ErrUnknownKey under another name.
	ErrMissingKey = ErrUnknownKey
	// ErrKeyExpired: room versions 5 and later: every known key the server signed with expired
	// before the event's `origin_server_ts` (rooms/fragments/v5-signing-requirements.md). The
	// caller may fetch fresher keys and verify again; otherwise reject.
	ErrKeyExpired = errors.New("signing key expired before origin_server_ts")
	// ErrBadSignature: a signature by a known, valid key does not verify, or cannot be decoded
	// (steps 4-7). Reject.
	ErrBadSignature = errors.New("bad signature")
	// ErrNoContentHash: where any JSON object is accepted, `hashes.sha256` is absent or not a
	// string (in a PDU those break the event format: [ErrMalformed]). Reject. A string that is
	// not base64 of the computed hash is [ErrContentHashMismatch].
	ErrNoContentHash = errors.New("no valid content hash")
	// ErrContentHashMismatch: the signatures hold but the content hash does not match the event
	// (server-server-api "Validating hashes and signatures on received events"). Use the
	// redacted form of the event instead of rejecting it.
	ErrContentHashMismatch = errors.New("content hash mismatch")
)

// VerificationError is the error type of hashing, signing and verification: Err is one of the
// sentinel errors above, Server and KeyID say whose signature is at fault when one is.
type VerificationError struct {
	// Server is the server whose signature (or key) is at fault, "" when none is.
	Server string
	// KeyID is the key at fault ("ed25519:1"), "" when none is. For [ErrUnknownKey] it is the
	// first, in byte order, of the server's key IDs that the KeyLookup does not know (Detail
	// lists the others): the key to fetch. For [ErrKeyExpired] it is the first expired key.
	KeyID string
	// Err is the sentinel error: ErrBadSignature, ErrMissingSignature, ...
	Err error
	// Detail says in words what was wrong.
	Detail string
	// Cause is the underlying error (a *pdu.FormatError, a canonicaljson error), if any.
	Cause error
}

// Error names the sentinel, the server and key, and the detail.
func (e *VerificationError) Error() string {
	msg := "signing: " + e.Err.Error()
	if e.Server != "" {
		msg += fmt.Sprintf(" (server %q", e.Server)
		if e.KeyID != "" {
			msg += fmt.Sprintf(", key %q", truncate(e.KeyID)) // a relay can put any key ID in
		}
		msg += ")"
	}
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns the sentinel and the cause, so that errors.Is and errors.As match both.
func (e *VerificationError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// Redactable reports whether err says the event should be kept in its redacted form rather than
// rejected: its signatures hold but its content hash does not ([ErrContentHashMismatch]).
func Redactable(err error) bool { return errors.Is(err, ErrContentHashMismatch) }

func malformed(cause error, format string, args ...any) *VerificationError {
	return &VerificationError{Err: ErrMalformed, Detail: fmt.Sprintf(format, args...), Cause: cause}
}

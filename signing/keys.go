package signing

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
)

// AlgorithmEd25519 is the only signing algorithm of the spec (appendices "Signing Details"):
// key IDs are "ed25519:" followed by the key version.
const AlgorithmEd25519 = "ed25519"

const keyIDPrefix = AlgorithmEd25519 + ":"

// ErrInvalidKey is matched (errors.Is) by every [*KeyError].
var ErrInvalidKey = errors.New("signing: invalid key")

// KeyError reports a signing key file or a key ring that cannot be used.
type KeyError struct {
	// Server and KeyID locate the key in a key ring, when known.
	Server, KeyID string
	// Detail says what is wrong.
	Detail string
	// Cause is the underlying error (a canonicaljson error), if any.
	Cause error
}

// Error says which key is wrong and why.
func (e *KeyError) Error() string {
	where := ""
	switch {
	case e.Server != "":
		where = fmt.Sprintf(" %q of %q", e.KeyID, e.Server)
	case e.KeyID != "":
		where = fmt.Sprintf(" %q", e.KeyID)
	}
	return "signing: invalid key" + where + ": " + e.Detail
}

// Unwrap returns ErrInvalidKey and the cause.
func (e *KeyError) Unwrap() []error {
	if e.Cause != nil {
		return []error{ErrInvalidKey, e.Cause}
	}
	return []error{ErrInvalidKey}
}

// SigningKey is a server's ed25519 signing key and its version ("1" in key ID "ed25519:1").
// Make one with NewSigningKey or ParseSigningKey; the signing functions also take one built by
// hand, after checking that its private key's public half is its seed's (one ed25519 key
// derivation per signature, which keys from NewSigningKey skip).
type SigningKey struct {
	// Version is the key version: the part of the key ID after "ed25519:".
	Version string
	// Private is the ed25519 private key.
	Private ed25519.PrivateKey
	// made is Private as NewSigningKey derived it from its seed: while Private still holds
	// these bytes, they need no check.
	made [ed25519.PrivateKeySize]byte
}

// KeyID returns "ed25519:" + Version, the signing key identifier of appendices "Signing Details".
func (k SigningKey) KeyID() string { return keyIDPrefix + k.Version }

// Public returns the public half of the key.
func (k SigningKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// validKeyVersion reports whether s is a key version roomproto signs with: 1 to 255 characters
// from [a-zA-Z0-9_], the character set of the spec's server key IDs ("algorithm:version").
func validKeyVersion(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// NewSigningKey makes a signing key from a 32-byte ed25519 seed (RFC 8032), the form in which the
// spec's test vectors give their key (appendices "Cryptographic Test Vectors"). version must be
// 1 to 255 characters from [a-zA-Z0-9_].
func NewSigningKey(version string, seed []byte) (SigningKey, error) {
	if !validKeyVersion(version) {
		return SigningKey{}, &KeyError{KeyID: keyIDPrefix + version, Detail: "key version must be 1-255 characters from [a-zA-Z0-9_]"}
	}
	if len(seed) != ed25519.SeedSize {
		return SigningKey{}, &KeyError{KeyID: keyIDPrefix + version, Detail: fmt.Sprintf("seed is %d bytes, want %d", len(seed), ed25519.SeedSize)}
	}
	k := SigningKey{Version: version, Private: ed25519.NewKeyFromSeed(seed)}
	copy(k.made[:], k.Private)
	return k, nil
}

// ParseSigningKey parses a signing key in the common homeserver key file format: one line
// "ed25519 <key version> <unpadded base64 32-byte seed>". Whitespace around the line (a trailing
// newline, CRLF) is ignored, and the fields may be separated by runs of spaces or tabs; no other
// character (a vertical tab, a form feed, Unicode spaces) separates or surrounds them. The
// seed may also be padded base64 (appendices "Unpadded Base64": decoders SHOULD accept padding).
// A file holding more than one key is refused: roomproto would not know which to sign with.
func ParseSigningKey(data []byte) (SigningKey, error) {
	line := bytes.Trim(data, " \t\r\n")
	if len(line) == 0 {
		return SigningKey{}, &KeyError{Detail: "empty key file"}
	}
	if bytes.ContainsAny(line, "\r\n") {
		return SigningKey{}, &KeyError{Detail: "key file holds more than one line; want one key \"ed25519 <version> <seed>\""}
	}
	f := strings.FieldsFunc(string(line), func(r rune) bool { return r == ' ' || r == '\t' })
	if len(f) != 3 {
		return SigningKey{}, &KeyError{Detail: fmt.Sprintf("want 3 fields \"ed25519 <version> <seed>\", got %d", len(f))}
	}
	if f[0] != AlgorithmEd25519 {
		return SigningKey{}, &KeyError{Detail: fmt.Sprintf("algorithm %q, want %q", truncate(f[0]), AlgorithmEd25519)}
	}
	var seed [ed25519.SeedSize]byte
	if n, ok := decodeBase64(seed[:], f[2]); !ok || n != len(seed) {
		return SigningKey{}, &KeyError{KeyID: keyIDPrefix + f[1], Detail: "seed is not the base64 of 32 bytes"}
	}
	return NewSigningKey(f[1], seed[:])
}

// PublicKey is a server's public verification key.
type PublicKey struct {
	// Key is the ed25519 public key. A key that is not ed25519.PublicKeySize (32) bytes long
	// counts as unknown: the signature it would check is skipped, as one by an unknown key
	// ([ErrUnknownKey] when no other key of the server verifies; docs/decisions.md signing 17).
	Key ed25519.PublicKey
	// ValidUntilTS is the `valid_until_ts` of the key, in milliseconds since the epoch: from
	// room version 5 a key is only used for events whose `origin_server_ts` is at most this
	// (rooms/fragments/v5-signing-requirements.md). 0 means no expiry is known: the key is
	// valid for every event. The spec's cap ("the lesser of valid_until_ts and 7 days into the
	// future") is the job of the caller that fetches the keys: it must put the capped value
	// here. For old keys (`old_verify_keys`) put their `expired_ts`.
	ValidUntilTS int64
}

// KeyLookup supplies public keys. PublicKey returns the key with the given ID ("ed25519:1") of
// the named server, and whether it is known. Implementations must be safe for concurrent use if
// the functions of this package are called concurrently with them. PublicKey is called once for
// each ed25519 key ID a server that must sign put in `signatures`, and an event may name a few
// hundred (the spec sets no limit and relays may add signatures), so it should answer from keys
// already held: fetch a server's keys once, before verifying, not on each call.
type KeyLookup interface {
	// PublicKey returns the key keyID of serverName and true, or false when it is unknown.
	PublicKey(serverName, keyID string) (PublicKey, bool)
}

// KeyRing is a KeyLookup backed by a map: server name → key ID → key.
type KeyRing map[string]map[string]PublicKey

// PublicKey implements KeyLookup.
func (r KeyRing) PublicKey(serverName, keyID string) (PublicKey, bool) {
	k, ok := r[serverName][keyID]
	return k, ok
}

// ParseKeyRing parses public keys in the form the roomproto CLI's --keys flag takes:
// {"server.name": {"ed25519:<key version>": "<unpadded base64 public key>"}}. A key may also be
// given as an object {"key": "<base64>", "valid_until_ts": <ms>} to set
// [PublicKey.ValidUntilTS] (roomproto's extension, shaped like the spec's server key response);
// valid_until_ts must then be a positive integer, since 0 stands for "no expiry known".
// Key IDs must be "<algorithm>:<version>", both non-empty; those of another algorithm than
// ed25519 are skipped, as a verifier "removes any signing key identifiers from the entry with
// algorithms it doesn't understand" (appendices "Checking for a Signature"), whatever their
// value. Keys must be the base64 of 32 bytes (padding accepted). When a server or key ID occurs
// twice, the last occurrence counts.
func ParseKeyRing(data []byte) (KeyRing, error) {
	if canonicaljson.KindOf(data) != canonicaljson.Object {
		return nil, &KeyError{Detail: "key ring must be a JSON object {server: {key ID: key}}"}
	}
	ring := KeyRing{}
	servers, err := lastMembers(data)
	if err != nil {
		return nil, &KeyError{Detail: err.Error(), Cause: err}
	}
	for _, sm := range servers {
		server, keys := sm.key, sm.value
		if canonicaljson.KindOf(keys) != canonicaljson.Object {
			return nil, &KeyError{Server: server, Detail: "keys of a server must be an object {key ID: key}"}
		}
		m := map[string]PublicKey{}
		ring[server] = m
		ids, err := lastMembers(keys)
		if err != nil {
			return nil, &KeyError{Server: server, Detail: err.Error(), Cause: err}
		}
		for _, km := range ids {
			keyID := km.key
			switch alg, version, ok := strings.Cut(keyID, ":"); {
			case !ok || alg == "" || version == "":
				return nil, &KeyError{Server: server, KeyID: keyID, Detail: "key ID must be \"<algorithm>:<version>\", such as \"ed25519:1\""}
			case alg != AlgorithmEd25519:
				continue // an algorithm roomproto does not verify: skipped
			}
			pk, kerr := parsePublicKey(km.value)
			if kerr != nil {
				kerr.Server, kerr.KeyID = server, keyID
				return nil, kerr
			}
			m[keyID] = pk
		}
	}
	return ring, nil
}

// member is one member of a JSON object: its key, unescaped, and its value's text.
type member struct {
	key   string
	value []byte
}

// lastMembers returns the members of the JSON object data with each key once, holding the value
// of its last occurrence (the reading of every JSON decoder the key files meet: Synapse's,
// encoding/json's; docs/decisions.md canonicaljson 11), in the order of those occurrences, so
// that an earlier, invalid occurrence of a key is never looked at.
func lastMembers(data []byte) ([]member, error) {
	var ms []member
	at := map[string]int{}
	err := canonicaljson.EachMember(data, func(k string, v []byte) error {
		if i, dup := at[k]; dup {
			ms[i].value = nil // superseded
		}
		at[k] = len(ms)
		ms = append(ms, member{k, v})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := ms[:0]
	for _, m := range ms {
		if m.value != nil {
			out = append(out, m)
		}
	}
	return out, nil
}

// parsePublicKey parses "<base64>" or {"key": "<base64>", "valid_until_ts": n}.
func parsePublicKey(value []byte) (PublicKey, *KeyError) {
	var (
		pk     PublicKey
		keyRaw []byte
	)
	switch canonicaljson.KindOf(value) {
	case canonicaljson.String:
		keyRaw = value
	case canonicaljson.Object:
		members, err := lastMembers(value)
		if err != nil {
			return PublicKey{}, &KeyError{Detail: err.Error(), Cause: err}
		}
		for _, m := range members {
			switch m.key {
			case "key":
				keyRaw = m.value
			case "valid_until_ts":
				n, err := strconv.ParseInt(string(m.value), 10, 64)
				if err != nil || canonicaljson.KindOf(m.value) != canonicaljson.Number {
					return PublicKey{}, &KeyError{Detail: "valid_until_ts must be an integer"}
				}
				if n <= 0 {
					// 0 is PublicKey's "no expiry known"; a stated time at or before the
					// epoch would read as the opposite of what it says.
					return PublicKey{}, &KeyError{Detail: "valid_until_ts must be a positive number of milliseconds (omit it for a key without known expiry)"}
				}
				pk.ValidUntilTS = n
			}
		}
	default:
		return PublicKey{}, &KeyError{Detail: "key must be a base64 string or {\"key\": ..., \"valid_until_ts\": ...}"}
	}
	if keyRaw == nil || canonicaljson.KindOf(keyRaw) != canonicaljson.String {
		return PublicKey{}, &KeyError{Detail: "key must be a base64 string"}
	}
	s, err := canonicaljson.Unquote(keyRaw)
	if err != nil {
		return PublicKey{}, &KeyError{Detail: err.Error(), Cause: err}
	}
	var key [ed25519.PublicKeySize]byte
	if n, ok := decodeBase64(key[:], s); !ok || n != len(key) {
		return PublicKey{}, &KeyError{Detail: "public key is not the base64 of 32 bytes"}
	}
	pk.Key = ed25519.PublicKey(key[:])
	return pk, nil
}

// truncate shortens s for an error message.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// DecodePublicKey decodes an ed25519 public key written in base64, as in the `public_key` and
// `public_keys` of `m.room.third_party_invite` content or a server key response: unpadded base64
// as the spec writes it, padding and the URL-safe alphabet accepted too (appendices "Unpadded
// Base64"). Errors: a [*KeyError] when s is not the base64 of 32 bytes.
func DecodePublicKey(s string) (ed25519.PublicKey, error) {
	var key [ed25519.PublicKeySize]byte
	if n, ok := decodeBase64(key[:], s); !ok || n != len(key) {
		return nil, &KeyError{Detail: "public key is not the base64 of 32 bytes"}
	}
	return ed25519.PublicKey(key[:]), nil
}

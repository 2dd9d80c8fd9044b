package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/jsonscan"
	"github.com/roomproto/roomproto/pdu"
)

// Top-level members that appendStripped can leave out.
const (
	dropSignatures = 1 << iota
	dropUnsigned
	dropHashes
)

func dropped(key string, mask int) bool {
	switch key {
	case "signatures":
		return mask&dropSignatures != 0
	case "unsigned":
		return mask&dropUnsigned != 0
	case "hashes":
		return mask&dropHashes != 0
	}
	return false
}

// appendStripped appends to dst the JSON object canon without the top-level members named by
// mask. canon must be the canonical JSON of an object, as canonicaljson.Append and
// redaction.Redact write it (no whitespace, sorted keys, no duplicates, keys written in their
// one canonical form), so the result is canonical too: the kept members are copied byte for
// byte. It also returns the raw value of `signatures` (nil if absent). It does not validate
// canon beyond what it needs to find the members: it is only given bytes this package or its
// dependencies have just produced.
func appendStripped(dst, canon []byte, mask int) (out, signatures []byte, err error) {
	return appendStrippedFrom(dst, canon, 1, mask)
}

// appendStrippedFrom is appendStripped for a canon whose bytes before offset from — 1 (just
// after the '{'), or the end of a member's value — are all kept: they are copied as they are and
// the scan starts at from. The caller must know that no member named by mask starts before from
// (a `signatures` member before from is not returned either).
func appendStrippedFrom(dst, canon []byte, from, mask int) (out, signatures []byte, err error) {
	n := len(canon)
	if n < 2 || canon[0] != '{' || canon[n-1] != '}' || from < 1 || from >= n {
		return dst, nil, malformed(nil, "not a canonical JSON object") // invariant: canon is canonical
	}
	out = append(dst, canon[:from]...)
	kept := from > 1 // members in out, so the next one kept needs a ','
	pos := from
	if pos == 1 && canon[1] == '}' {
		return append(out, '}'), nil, nil
	}
	for {
		if pos > 1 { // after a value: ',' or the closing '}'
			switch canon[pos] {
			case '}':
				if pos != n-1 {
					return dst, nil, malformed(nil, "data after the object at offset %d", pos) // invariant
				}
				return append(out, '}'), signatures, nil
			case ',':
				pos++
			default:
				return dst, nil, malformed(nil, "not a canonical JSON object at offset %d", pos) // invariant
			}
		}
		keyEnd := jsonscan.SkipString(canon, pos)
		if keyEnd < 0 || keyEnd >= n || canon[keyEnd] != ':' {
			return dst, nil, malformed(nil, "not a canonical JSON object at offset %d", pos) // invariant
		}
		valueEnd := jsonscan.SkipValue(canon, keyEnd+1)
		if valueEnd < 0 || valueEnd >= n {
			return dst, nil, malformed(nil, "not a canonical JSON object at offset %d", keyEnd+1) // invariant
		}
		key := canon[pos+1 : keyEnd-1]
		if string(key) == "signatures" {
			signatures = canon[keyEnd+1 : valueEnd]
		}
		if !droppedRaw(key, mask) {
			if kept {
				out = append(out, ',')
			}
			kept = true
			out = append(out, canon[pos:valueEnd]...)
		}
		pos = valueEnd
	}
}

// appendStrippedIndexed is appendStripped for the object canon whose members idx locates (the
// index canonicaljson.AppendIndexed made of it): it copies the kept members without a scan.
func appendStrippedIndexed(dst, canon []byte, idx *canonicaljson.Index, mask int) (out, signatures []byte) {
	out = append(dst, '{')
	kept := false
	// Kept members that follow each other are copied as one piece, with the commas between
	// them: canon[start:end] is the piece not yet copied (none while end is 0).
	start, end := 0, 0
	for i := range idx.Members {
		// In place, and the key sliced as Member.Key does: a copy of each member (which a call of
		// Key, with its value receiver, makes) costs more than the rest of the loop.
		m := &idx.Members[i]
		// Only keys of the lengths of "signatures", "unsigned" and "hashes" are read: the key
		// is `"key":`, so m.Value-m.Start-3 long.
		switch m.Value - m.Start - 3 {
		case len("signatures"), len("unsigned"), len("hashes"):
			key := canon[m.Start+1 : m.Value-2]
			if string(key) == "signatures" {
				signatures = canon[m.Value:m.End]
			}
			if dropped(string(key), mask) {
				continue
			}
		}
		if end > 0 && m.Start == end+1 {
			end = m.End // canon[end] is the comma between the two
			continue
		}
		if end > 0 {
			if kept {
				out = append(out, ',')
			}
			kept = true
			out = append(out, canon[start:end]...)
		}
		start, end = m.Start, m.End
	}
	if end > 0 {
		if kept {
			out = append(out, ',')
		}
		out = append(out, canon[start:end]...)
	}
	return append(out, '}'), signatures
}

// droppedRaw is dropped for a key as written in canonical JSON (without its quotes). The names
// concerned need no escapes, so their canonical spelling is unique.
func droppedRaw(key []byte, mask int) bool {
	switch len(key) {
	case len("signatures"), len("unsigned"), len("hashes"):
		return dropped(string(key), mask)
	}
	return false
}

// canonicalObject appends the canonical JSON of the object in data to dst.
func canonicalObject(dst, data []byte, strict bool) ([]byte, error) {
	return canonicalObjectIndexed(dst, data, strict, nil)
}

// canonicalObjectIndexed is canonicalObject that, when idx is not nil, also has
// canonicaljson.AppendIndexed record in idx where the object's members are.
func canonicalObjectIndexed(dst, data []byte, strict bool, idx *canonicaljson.Index) ([]byte, error) {
	if k := canonicaljson.KindOf(data); k != canonicaljson.Object {
		// Input that is not JSON at all says so (a *canonicaljson.SyntaxError in the chain),
		// whatever its first byte looks like.
		if err := canonicaljson.Valid(data, canonicaljson.Options{Strict: strict}); err != nil {
			return dst, malformed(err, "%v", err)
		}
		return dst, malformed(nil, "want a JSON object, got %v", k)
	}
	var out []byte
	var err error
	if idx == nil {
		out, err = canonicaljson.Append(dst, data, canonicaljson.Options{Strict: strict})
	} else {
		out, err = canonicaljson.AppendIndexed(dst, data, canonicaljson.Options{Strict: strict}, idx)
	}
	if err != nil {
		return dst, malformed(err, "%v", err)
	}
	return out, nil
}

// readSignatures reads the signatures of a `signatures` value of canonical JSON, server name →
// key ID → base64 signature, as a list in its (canonical) order (none when raw is nil: the object
// has no `signatures`). With all, every server's entry is read; otherwise only server's.
//
// It reads them as appendices "Checking for a Signature" does: only the signing entity's entry
// matters (step 1) and key IDs of algorithms other than ed25519 are removed before anything else
// (step 2), so an entry that is not an object is an error only when it is the one asked for
// (not all), and is skipped otherwise, and a key ID other than "ed25519:..." is skipped
// whatever its value. An ed25519 signature that is not a string is listed with an empty Value,
// which decodes to no signature (step 4: the check fails when that key is known).
func readSignatures(raw []byte, server string, all bool) (pdu.Signatures, error) {
	if raw == nil {
		return nil, nil // no `signatures`
	}
	if canonicaljson.KindOf(raw) != canonicaljson.Object {
		return nil, malformed(nil, "signatures must be an object")
	}
	var out pdu.Signatures
	err := canonicaljson.EachMember(raw, func(name string, keys []byte) error {
		if !all && name != server {
			return nil
		}
		if canonicaljson.KindOf(keys) != canonicaljson.Object {
			if !all {
				return malformed(nil, "signatures of %q must be an object", name)
			}
			return nil
		}
		return canonicaljson.EachMember(keys, func(keyID string, sig []byte) error {
			if !strings.HasPrefix(keyID, keyIDPrefix) {
				return nil
			}
			if canonicaljson.KindOf(sig) != canonicaljson.String {
				out = append(out, pdu.Signature{Server: name, KeyID: keyID})
				return nil
			}
			s, err := canonicaljson.Unquote(sig)
			if err != nil {
				return malformed(err, "signature %q of %q: %v", keyID, name, err)
			}
			out = append(out, pdu.Signature{Server: name, KeyID: keyID, Value: s})
			return nil
		})
	})
	if err != nil {
		var ve *VerificationError
		if errors.As(err, &ve) {
			return nil, ve
		}
		return nil, malformed(err, "signatures: %v", err)
	}
	return out, nil
}

// checkSignaturesShape checks that a `signatures` value of canonical JSON has the shape the event
// format and the schema of a third-party invite's `signed` give it: an object of objects of
// strings ([ErrMalformed] otherwise).
func checkSignaturesShape(raw []byte) error {
	if canonicaljson.KindOf(raw) != canonicaljson.Object {
		return malformed(nil, "signatures must be an object")
	}
	err := canonicaljson.EachMember(raw, func(server string, keys []byte) error {
		if canonicaljson.KindOf(keys) != canonicaljson.Object {
			return malformed(nil, "signatures of %q must be an object", server)
		}
		return canonicaljson.EachMember(keys, func(keyID string, sig []byte) error {
			if canonicaljson.KindOf(sig) != canonicaljson.String {
				return malformed(nil, "signature %q of %q must be a string", keyID, server)
			}
			return nil
		})
	})
	if err != nil {
		var ve *VerificationError
		if errors.As(err, &ve) {
			return ve
		}
		return malformed(err, "signatures: %v", err)
	}
	return nil
}

// SignJSON signs the JSON object obj as the server serverName with key, following appendices
// "Signing Details": `signatures` and `unsigned` are removed, the rest is encoded as canonical
// JSON (lenient rules, as for room versions 1-5), signed, and the unpadded base64 signature is
// added under signatures[serverName][key.KeyID()]. Every other member of `signatures` is kept
// as it is, whatever it holds, and so are serverName's other signatures (one by the same key ID
// is replaced) and `unsigned`. The result is the signed object as canonical JSON. Errors: obj is
// not a JSON object, its `signatures` is not an object, or signatures[serverName] is there and is
// not an object, or serverName is empty or not UTF-8 ([ErrMalformed]); key is not one
// [NewSigningKey] could make: a version outside [a-zA-Z0-9_]{1,255}, or a private key that is
// not 64 bytes or whose public half is not its seed's ([*KeyError]).
func SignJSON(obj []byte, serverName string, key SigningKey) ([]byte, error) {
	canon, err := canonicalObject(nil, obj, false)
	if err != nil {
		return nil, err
	}
	return signCanonicalWith(canon, canon, serverName, key, false, false, false)
}

// checkUsable refuses a signing key that NewSigningKey could not have made: a key version
// outside [a-zA-Z0-9_]{1,255} (an empty one would sign as "ed25519:", a key ID key rings refuse;
// others would not be accepted as key IDs by other servers), or a private key that is not 64
// bytes or whose public half is not the one its seed gives (ed25519.Sign reads the stored half,
// so the signature would verify with neither key).
func checkUsable(key SigningKey) error {
	if len(key.Private) != ed25519.PrivateKeySize {
		return &KeyError{KeyID: key.KeyID(), Detail: "no ed25519 private key"}
	}
	if !validKeyVersion(key.Version) {
		return &KeyError{KeyID: key.KeyID(), Detail: "key version must be 1-255 characters from [a-zA-Z0-9_]"}
	}
	if subtle.ConstantTimeCompare(key.made[:], key.Private) != 1 &&
		!bytes.Equal(ed25519.NewKeyFromSeed(key.Private.Seed())[ed25519.SeedSize:], key.Private[ed25519.SeedSize:]) {
		return &KeyError{KeyID: key.KeyID(), Detail: "the private key's public half is not its seed's"}
	}
	return nil
}

// signCanonicalWith signs msgSource (a canonical object: `signatures` and `unsigned` are stripped
// from it to form the signed bytes) and adds the signature to the canonical object canon, which
// it returns canonical again (strict: as room versions 6+ require). With replace, the signatures
// already under serverName are dropped rather than kept beside the new one. With event, canon is
// an event, whose format requires `signatures` to be an object of objects of strings
// (checkSignaturesShape); a plain JSON object's other entries may hold anything.
func signCanonicalWith(canon, msgSource []byte, serverName string, key SigningKey, strict, replace, event bool) ([]byte, error) {
	if err := checkUsable(key); err != nil {
		return nil, err
	}
	// JSON holds Unicode text: a name that is not UTF-8 would be written as another name.
	switch {
	case !utf8.ValidString(serverName):
		return nil, malformed(nil, "the server name %q is not valid UTF-8", serverName)
	case serverName == "":
		return nil, malformed(nil, "the server name is empty")
	case event && !pdu.ValidServerName(serverName):
		return nil, malformed(nil, "%q is not a server name (appendices \"Server Name\")", serverName)
	}
	msg, _, err := appendStripped(nil, msgSource, dropSignatures|dropUnsigned)
	if err != nil {
		return nil, err
	}
	sig := encodeBase64(ed25519.Sign(key.Private, msg))
	rest, sigsRaw, err := appendStripped(nil, canon, dropSignatures)
	if err != nil {
		return nil, err
	}
	if event && sigsRaw != nil {
		if err := checkSignaturesShape(sigsRaw); err != nil {
			return nil, err
		}
	}
	// rest is canonical and ends with '}': add the signatures member and sort again. Every
	// entry but the signer's is copied as it is, whatever it holds (appendices "Signing
	// Details" adds one signature; other entries are no concern of the signer's).
	out := rest[:len(rest)-1]
	if len(out) > 1 {
		out = append(out, ',')
	}
	out = append(out, `"signatures":`...)
	if out, err = appendWithSignature(out, sigsRaw, serverName, key.KeyID(), sig, replace); err != nil {
		return nil, err
	}
	out = append(out, '}')
	res, err := canonicaljson.Append(nil, out, canonicaljson.Options{Strict: strict})
	if err != nil {
		return nil, malformed(err, "%v", err) // invariant: out is JSON built from canonical parts
	}
	return res, nil
}

// policyServerKeyID is the key ID of a Policy Server's signature, which stands under the
// Policy Server's server name beside its homeserver signatures: "The Key ID for the ed25519 key
// in m.room.policy is *always* ed25519:policy_server" (server-server-api "Validating Policy
// Server signatures").
const policyServerKeyID = "ed25519:policy_server"

// appendWithSignature writes the `signatures` object sigsRaw (canonical JSON, nil when absent)
// with the signature sig of serverName by keyID added: the signer's other signatures are kept
// (with replace, dropped but for its policyServerKeyID one) and one by the same key ID is
// replaced; every other member is copied
// byte for byte. The members are not in canonical order: the caller sorts them. The signer's
// entry must be an object ([ErrMalformed] otherwise).
func appendWithSignature(dst, sigsRaw []byte, serverName, keyID, sig string, replace bool) ([]byte, error) {
	dst = append(dst, '{')
	// member writes the key of a member, given as written in canonical JSON without its quotes.
	member := func(rawKey []byte) {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = append(append(append(dst, '"'), rawKey...), '"', ':')
	}
	own := func() {
		dst = canonicaljson.AppendString(dst, keyID)
		dst = append(dst, ':')
		dst = canonicaljson.AppendString(dst, sig)
	}
	var err error
	signed := false
	if sigsRaw != nil {
		if sigsRaw[0] != '{' {
			return nil, malformed(nil, "signatures must be an object")
		}
		end := jsonscan.EachMember(sigsRaw, 0, func(rawServer []byte, _, vs int) int {
			ve := jsonscan.SkipValue(sigsRaw, vs)
			if ve < 0 || !rawKeyIs(rawServer, serverName) {
				if ve >= 0 {
					member(rawServer)
					dst = append(dst, sigsRaw[vs:ve]...)
				}
				return ve
			}
			if sigsRaw[vs] != '{' {
				err = malformed(nil, "signatures of %q must be an object", serverName)
				return -1
			}
			signed = true
			member(rawServer)
			dst = append(dst, '{')
			jsonscan.EachMember(sigsRaw, vs, func(rawKeyID []byte, _, kvs int) int {
				kve := jsonscan.SkipValue(sigsRaw, kvs)
				// With replace only the Policy Server's signature is kept: it is no
				// signature by the server's published keys (see CountersignEvent).
				if kve >= 0 && !rawKeyIs(rawKeyID, keyID) && (!replace || rawKeyIs(rawKeyID, policyServerKeyID)) {
					dst = append(append(append(dst, '"'), rawKeyID...), '"', ':')
					dst = append(append(dst, sigsRaw[kvs:kve]...), ',')
				}
				return kve
			})
			own()
			dst = append(dst, '}')
			return ve
		})
		if err != nil {
			return nil, err
		}
		if end < 0 {
			return nil, malformed(nil, "signatures: not a JSON object") // invariant: sigsRaw is canonical
		}
	}
	if !signed {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = canonicaljson.AppendString(dst, serverName)
		dst = append(dst, ':', '{')
		own()
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// rawKeyIs reports whether the object key rawKey, as written in canonical JSON without its
// quotes, is name.
func rawKeyIs(rawKey []byte, name string) bool {
	if bytes.IndexByte(rawKey, '\\') < 0 {
		return string(rawKey) == name
	}
	q := make([]byte, 0, len(rawKey)+2)
	s, err := canonicaljson.Unquote(append(append(append(q, '"'), rawKey...), '"'))
	return err == nil && s == name
}

// VerifyJSON verifies a signed JSON object the way the roomproto CLI's `verify` command does:
// signatures by servers or key IDs that keys does not know are skipped; the object is valid when
// at least one signature is by a known key and every signature by a known key holds (appendices
// "Checking for a Signature", steps 4-7, for every known key). The signed bytes are the
// canonical JSON of obj without `signatures` and `unsigned`. Key validity periods are not
// checked: a JSON object has no timestamp to check them against. As the steps say, what is not
// an ed25519 signature is ignored whatever it holds: an entry of `signatures` that is not an
// object, and a key ID of another algorithm (steps 1-2); an ed25519 signature that is not a
// string fails as one that is not base64 does (step 4) when its key is known.
//
// Errors ([*VerificationError]): [ErrMalformed] (not an object, `signatures` not an object),
// [ErrMissingSignature] (no ed25519 signature at all), [ErrUnknownKey] (none by a known key),
// [ErrBadSignature] (a known key's signature does not verify; Server and KeyID name it).
func VerifyJSON(obj []byte, keys KeyLookup) error {
	msg, sigsRaw, err := signedBytes(obj)
	if err != nil {
		return err
	}
	sigs, err := readSignatures(sigsRaw, "", true)
	if err != nil {
		return err
	}
	verified, signed := 0, false
	for _, sig := range sigs {
		if !strings.HasPrefix(sig.KeyID, keyIDPrefix) {
			continue
		}
		signed = true
		pk, ok := lookupKey(keys, sig.Server, sig.KeyID)
		if !ok || len(pk.Key) != ed25519.PublicKeySize {
			continue
		}
		if err := verifyOne(msg, sig.Server, sig.KeyID, sig.Value, pk.Key); err != nil {
			return err
		}
		verified++
	}
	switch {
	case verified > 0:
		return nil
	case signed:
		return &VerificationError{Err: ErrUnknownKey, Detail: "no signature is by a known key"}
	}
	return &VerificationError{Err: ErrMissingSignature, Detail: "the object has no ed25519 signature"}
}

// VerifyJSONServer checks that the server serverName has signed the JSON object obj (appendices
// "Checking for a Signature"): it has at least one ed25519 signature by a key that keys knows,
// and every signature of that server by a known key holds. Signatures by keys that keys does not
// know are skipped; other servers' entries are not read at all (step 1), so they may hold
// anything. Key validity periods are not checked. Errors as for [VerifyJSON], plus
// [ErrMissingSignature] when serverName has not signed at all and [ErrMalformed] when its entry
// is not an object.
func VerifyJSONServer(obj []byte, serverName string, keys KeyLookup) error {
	msg, sigsRaw, err := signedBytes(obj)
	if err != nil {
		return err
	}
	sigs, err := readSignatures(sigsRaw, serverName, false)
	if err != nil {
		return err
	}
	return checkServer(msg, serverName, sigs, keys, false, 0)
}

// HasValidSignature reports whether any ed25519 signature in obj's `signatures`, by any server,
// verifies with pub over the canonical JSON of obj without `signatures` and `unsigned`. It
// implements the check of a third-party invite's `signed` object against the public keys of the
// `m.room.third_party_invite` event (auth rules, e.g. rooms/fragments/v8-auth-rules.md rule
// 4.4.1.7: "If any signature in signed matches any public key ..."). Signatures that are not
// base64 simply do not match. The error is non-nil only when obj is not a JSON object or its
// `signatures` is not an object of objects of strings ([ErrMalformed]): unlike [VerifyJSON], it
// holds `signatures` to the shape the schema of a third-party invite's `signed` gives it, so the
// auth rules agree with the implementations that decode `signed` into typed maps
// (docs/decisions.md (authrules) "Third-party invite signatures"). To check one object against
// many keys, [ParseSignedObject] reads it once.
func HasValidSignature(obj []byte, pub ed25519.PublicKey) (bool, error) {
	o, err := ParseSignedObject(obj)
	if err != nil {
		return false, err
	}
	return o.HasValidSignature(pub), nil
}

// SignedObject is a JSON object read for signature checks: the bytes its signatures cover and
// its ed25519 signatures, decoded. It is what [HasValidSignature] reads from an object before it
// tries a key, kept so that trying many keys reads the object once.
type SignedObject struct {
	msg  []byte
	sigs [][ed25519.SignatureSize]byte
}

// ParseSignedObject reads obj for [SignedObject.HasValidSignature]. Errors as for
// [HasValidSignature].
func ParseSignedObject(obj []byte) (*SignedObject, error) {
	msg, sigsRaw, err := signedBytes(obj)
	if err != nil {
		return nil, err
	}
	if sigsRaw != nil {
		if err := checkSignaturesShape(sigsRaw); err != nil {
			return nil, err
		}
	}
	sigs, err := readSignatures(sigsRaw, "", true)
	if err != nil {
		return nil, err
	}
	o := &SignedObject{msg: msg}
	for _, s := range sigs {
		if !strings.HasPrefix(s.KeyID, keyIDPrefix) {
			continue
		}
		var sig [ed25519.SignatureSize]byte
		if n, ok := decodeBase64(sig[:], s.Value); ok && n == len(sig) {
			o.sigs = append(o.sigs, sig)
		}
	}
	return o, nil
}

// HasValidSignature reports whether any ed25519 signature of o verifies with pub, as
// [HasValidSignature] does for the object o was read from. A nil o (what a failed
// [ParseSignedObject] returns) has no valid signature.
func (o *SignedObject) HasValidSignature(pub ed25519.PublicKey) bool {
	if o == nil {
		return false
	}
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	for i := range o.sigs {
		if verifyEd25519(pub, o.msg, o.sigs[i][:]) {
			return true
		}
	}
	return false
}

// signedBytes returns the bytes a signature of obj covers and obj's `signatures`, canonical JSON
// (nil when absent).
func signedBytes(obj []byte) ([]byte, []byte, error) {
	sc := getScratch()
	defer putScratch(sc)
	canon, err := canonicalObjectIndexed(sc.canon[:0], obj, false, &sc.index)
	if err != nil {
		return nil, nil, err
	}
	sc.canon = canon
	msg, sigsRaw := appendStrippedIndexed(nil, canon, &sc.index, dropSignatures|dropUnsigned)
	if sigsRaw == nil {
		return msg, nil, nil
	}
	// sigsRaw points into sc.canon, which goes back to the pool.
	return msg, append([]byte(nil), sigsRaw...), nil
}

// verifyFunc reports whether sig is a valid ed25519 signature of msg by pub. It is
// verifyEd25519, or the bulk path's precomputed check with exactly its verdicts (batch.go). The
// functions that take one read nil as verifyEd25519, which they then call directly.
type verifyFunc func(pub ed25519.PublicKey, msg, sig []byte) bool

// verifyOne checks one base64 signature over msg with a 32-byte public key.
func verifyOne(msg []byte, server, keyID, sigB64 string, pub ed25519.PublicKey) error {
	return verifyOneWith(nil, msg, server, keyID, sigB64, pub)
}

// verifyOneWith is verifyOne with the given signature check (nil: verifyEd25519).
func verifyOneWith(verify verifyFunc, msg []byte, server, keyID, sigB64 string, pub ed25519.PublicKey) error {
	// The decoded signature stays on the stack when verifyEd25519 is called directly; a call
	// through verify, whose target the compiler cannot see, gets a copy on the heap.
	var sig [ed25519.SignatureSize]byte
	n, ok := decodeBase64(sig[:], sigB64)
	if !ok || n != len(sig) {
		return &VerificationError{Server: server, KeyID: keyID, Err: ErrBadSignature, Detail: "signature is not the base64 of 64 bytes"}
	}
	if verify == nil {
		ok = verifyEd25519(pub, msg, sig[:])
	} else {
		heapSig := sig
		ok = verify(pub, msg, heapSig[:])
	}
	if !ok {
		return &VerificationError{Server: server, KeyID: keyID, Err: ErrBadSignature, Detail: "signature does not verify"}
	}
	return nil
}

// checkServer applies appendices "Checking for a Signature" for one server whose signatures are
// sigs (its signatures, in key ID order): it succeeds when at least one signature is by a known (and, when
// enforce is set, unexpired at ts) key and every such signature verifies over msg. Signatures
// by unknown keys, by keys of other algorithms and (with enforce) by keys expired before ts are
// skipped.
func checkServer(msg []byte, server string, sigs pdu.Signatures, keys KeyLookup, enforce bool, ts int64) error {
	return checkServerWith(nil, msg, server, sigs, keys, enforce, ts)
}

// checkServerWith is checkServer with the given signature check (nil: verifyEd25519).
func checkServerWith(verify verifyFunc, msg []byte, server string, sigs pdu.Signatures, keys KeyLookup, enforce bool, ts int64) error {
	var (
		verified, unknown, expired, seen int
		expiredID                        string
		unknownArr                       [maxNamedUnknownKeys]string
		unknownIDs                       = unknownArr[:0] // the first few, for the error
	)
	for _, sig := range sigs { // in key ID order, so errors are deterministic
		keyID := sig.KeyID
		if !strings.HasPrefix(keyID, keyIDPrefix) {
			continue
		}
		seen++
		pk, ok := lookupKey(keys, server, keyID)
		if !ok || len(pk.Key) != ed25519.PublicKeySize {
			if unknown < maxNamedUnknownKeys {
				unknownIDs = append(unknownIDs, keyID)
			}
			unknown++
			continue
		}
		if enforce && pk.ValidUntilTS != 0 && pk.ValidUntilTS < ts {
			if expired == 0 {
				expiredID = keyID
			}
			expired++
			continue
		}
		if err := verifyOneWith(verify, msg, server, keyID, sig.Value, pk.Key); err != nil {
			return err
		}
		verified++
	}
	switch {
	case verified > 0:
		return nil
	case expired > 0:
		return &VerificationError{Server: server, KeyID: expiredID, Err: ErrKeyExpired,
			Detail: "every known key of the server expired before the event's origin_server_ts"}
	case seen > 0:
		detail := "the server signed with no known key:"
		for i, id := range unknownIDs {
			if i > 0 {
				detail += ","
			}
			detail += " " + strconv.Quote(truncate(id))
		}
		if unknown > len(unknownIDs) {
			detail += " and " + strconv.Itoa(unknown-len(unknownIDs)) + " more"
		}
		return &VerificationError{Server: server, KeyID: unknownIDs[0], Err: ErrUnknownKey, Detail: detail}
	}
	return &VerificationError{Server: server, Err: ErrMissingSignature, Detail: "the server has no ed25519 signature on it"}
}

// maxNamedUnknownKeys is how many unknown key IDs an ErrUnknownKey error names: a relay may have
// put hundreds in `signatures`.
const maxNamedUnknownKeys = 4

// lookupKey asks keys for a server's key; a nil KeyLookup knows no key, so every signature
// counts as by an unknown key ([ErrUnknownKey]) instead of a nil interface call.
func lookupKey(keys KeyLookup, server, keyID string) (PublicKey, bool) {
	if keys == nil {
		return PublicKey{}, false
	}
	return keys.PublicKey(server, keyID)
}

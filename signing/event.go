package signing

import (
	"crypto/sha256"
	"errors"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// ParseEvent parses the event in data for room version v (pdu.Parse) and fills in its EventID:
// for room versions 1 and 2 the event's own `event_id` (which pdu.Parse reads), from version 3
// the reference hash ([EventID]). Format errors are the *pdu.FormatError of pdu.Parse, unchanged.
// Like pdu.Parse, the Event may keep data (when it is already canonical): the caller must not
// modify it afterwards.
func ParseEvent(v roomversion.Version, data []byte) (*pdu.Event, error) {
	ev, err := pdu.Parse(v, data)
	if err != nil {
		return nil, err
	}
	if err := setEventID(ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// setEventID computes the ID of a parsed event of room version 3 or later.
func setEventID(ev *pdu.Event) error {
	if ev.Version.Format.EventID == roomversion.EventIDOpaque {
		return nil // pdu.Parse has read `event_id`
	}
	enc := encodingFor(ev.Version)
	if enc == nil {
		return malformed(nil, "room version %q has no event ID format", ev.Version.ID)
	}
	sc := getScratch()
	defer putScratch(sc)
	if err := signedCanonicalEventBytes(sc, ev.Version, ev.Raw(), nil); err != nil {
		return err
	}
	ev.EventID = hashEventID(enc, sha256.Sum256(sc.msg))
	return nil
}

// SignEvent hashes and signs an event as the server serverName (server-server-api "Adding hashes
// and signatures to outgoing events"): it computes the content hash ([ContentHash]) and stores it
// as `hashes` {"sha256": "<unpadded base64>"} (replacing any previous `hashes`), redacts the
// result with the algorithm of room version v, signs the redacted form as [SignJSON] does, and
// adds the signature to the unredacted event's `signatures`, keeping the signatures already
// there. The result is the signed event as canonical JSON (strict from room version 6). The
// event need not be a complete PDU (the spec's own test vectors are not), only a JSON object
// valid for v. Errors: [ErrMalformed] (also for a serverName outside the grammar of appendices
// "Server Name", [pdu.ValidServerName]), [*KeyError] for an unusable key (see [SignJSON]).
func SignEvent(v roomversion.Version, event []byte, serverName string, key SigningKey) ([]byte, error) {
	strict := v.Format.StrictCanonicalJSON
	var idx canonicaljson.Index
	canon, err := canonicalObjectIndexed(nil, event, strict, &idx)
	if err != nil {
		return nil, err
	}
	hashIn, _ := appendStrippedIndexed(nil, canon, &idx, dropSignatures|dropUnsigned|dropHashes)
	sum := sha256.Sum256(hashIn)

	// The event without `hashes`, plus the new `hashes`, sorted again.
	rest, _ := appendStrippedIndexed(hashIn[:0], canon, &idx, dropHashes)
	rest = rest[:len(rest)-1]
	if len(rest) > 1 {
		rest = append(rest, ',')
	}
	rest = append(rest, `"hashes":{"sha256":`...)
	rest = canonicaljson.AppendString(rest, encodeBase64(sum[:]))
	rest = append(rest, "}}"...)
	hashed, err := canonicaljson.Append(nil, rest, canonicaljson.Options{Strict: strict})
	if err != nil {
		return nil, malformed(err, "%v", err) // invariant: rest is JSON built from canonical parts
	}

	redacted, err := redaction.Redact(v, hashed)
	if err != nil {
		return nil, malformed(err, "%v", err)
	}
	return signCanonicalWith(hashed, redacted, serverName, key, strict, false, true)
}

// CountersignEvent adds serverName's signature to an event that its origin has already hashed
// and signed, and changes nothing else: `hashes`, the other servers' signatures and every other
// member stay as they are, so the event ID (v3+, a hash of the redacted event without
// `signatures`) does not change. Signatures already under serverName are replaced by the new
// one: on an event another server made they can only be forged or stale, and a receiver that
// knows the key of one of them would reject the event for it (every known-key signature of a
// required server must hold). The one exception is a signature by the key ID
// `ed25519:policy_server`, kept as it is: when serverName is also the room's Policy Server, it
// is that Policy Server's signature, which "appears alongside the normal event signatures" and is
// checked with the room's `m.room.policy` key, not the server's (server-server-api "Validating
// Policy Server signatures"; package policyserver). It is what a resident server does on /send_join (joins-v2.yaml: "including a
// signature from the resident server") and an invited server on /invite (invites-v2.yaml: "the
// event with the invited server's signature added. All other fields of the events should
// remain untouched"). [SignEvent], which computes `hashes` anew, is for the event's origin: a
// new `hashes` would break the origin's signature (server-server-api "Example code": "We
// cannot add new hashes without invalidating existing signatures").
//
// The event is redacted with the algorithm of room version v and the redacted form is signed
// as [SignJSON] does; the result is the event as canonical JSON (strict from room version 6).
// It does not verify the event: check it first ([VerifyEvent]). Errors: [ErrMalformed] (also
// for a serverName outside the grammar of appendices "Server Name"), [*KeyError] for an
// unusable key (see [SignJSON]).
func CountersignEvent(v roomversion.Version, event []byte, serverName string, key SigningKey) ([]byte, error) {
	strict := v.Format.StrictCanonicalJSON
	canon, err := canonicalObject(nil, event, strict)
	if err != nil {
		return nil, err
	}
	redacted, err := redaction.RedactCanonical(v, canon)
	if err != nil {
		return nil, malformed(err, "%v", err)
	}
	return signCanonicalWith(canon, redacted, serverName, key, strict, true, true)
}

// ServerName returns the server name of a Matrix ID ("@user:example.org:8448" →
// "example.org:8448"): everything after the first ':' (appendices "Common Identifier Format").
// It reports false when there is no ':' or nothing after it.
func ServerName(id string) (string, bool) {
	i := strings.IndexByte(id, ':')
	if i < 0 || i == len(id)-1 {
		return "", false
	}
	return id[i+1:], true
}

// ContentJoinAuthorisedViaUsersServer is the `m.room.member` content key naming the user whose
// server authorised a restricted join (rooms/fragments/v8-auth-rules.md rule 4.2).
const ContentJoinAuthorisedViaUsersServer = "join_authorised_via_users_server"

// IsThirdPartyInvite reports whether ev is an `m.room.member` invite whose content has a
// `third_party_invite` property: the events that server-server-api "Validating hashes and
// signatures on received events" exempts from the sender's server's signature.
func IsThirdPartyInvite(ev *pdu.Event) bool {
	return ev != nil && ev.Type == pdu.TypeMember && ev.Membership == pdu.MembershipInvite &&
		ev.ContentField("third_party_invite") != nil
}

// RequiredSigners returns the servers that must have signed the event, each once, in this order
// (server-server-api "Validating hashes and signatures on received events"):
//
//   - the server of `sender` (the originating server) — except for a third-party invite
//     ([IsThirdPartyInvite]), which "the server which actually sends the event", possibly
//     another one, signs: [VerifyEvent] then asks for a valid signature by any server;
//   - room versions 1-2 (Signing.EventIDDomainSigns): the server of the `event_id` domain,
//     "if it differs from the originating server" (so not for a third-party invite whose
//     event ID has the sender's domain);
//   - room versions 8+ (Signing.AuthorisingServerSigns): for an `m.room.member` join whose
//     content has `join_authorised_via_users_server`, that user's server (auth rule 4.2 of
//     rooms/fragments/v8-auth-rules.md; the auth rules check it for other memberships with
//     [VerifyEventSignature]).
//
// Server names are the part of the ID after the first ':'. Errors ([ErrMalformed]): an ID
// without a server name, a `join_authorised_via_users_server` that is not a string, a nil
// event.
func RequiredSigners(ev *pdu.Event) ([]string, error) {
	var buf [3]string
	return requiredSigners(ev, buf[:0])
}

func requiredSigners(ev *pdu.Event, out []string) ([]string, error) {
	if ev == nil {
		return nil, malformed(nil, "nil event")
	}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sender, ok := ServerName(ev.Sender)
	if !ok {
		return nil, malformed(nil, "sender %q has no server name", truncate(ev.Sender))
	}
	if !IsThirdPartyInvite(ev) {
		add(sender)
	}
	v := ev.Version
	if v.Signing.EventIDDomainSigns {
		domain, ok := ServerName(ev.EventID)
		if !ok {
			return nil, malformed(nil, "event_id %q has no domain", truncate(ev.EventID))
		}
		// "if it differs from the originating server": a third-party invite whose event ID
		// has the sender's domain needs no signature of that domain.
		if domain != sender {
			add(domain)
		}
	}
	if v.Signing.AuthorisingServerSigns && ev.Type == pdu.TypeMember && ev.Membership == pdu.MembershipJoin {
		if raw := ev.ContentField(ContentJoinAuthorisedViaUsersServer); raw != nil {
			// Read from the value found, without a second scan: Unquote refuses anything but
			// a string.
			user, err := canonicaljson.Unquote(raw)
			if err != nil {
				return nil, malformed(nil, "content.join_authorised_via_users_server must be a user ID string")
			}
			server, ok := ServerName(user)
			if !ok {
				return nil, malformed(nil, "content.join_authorised_via_users_server %q has no server name", truncate(user))
			}
			add(server)
		}
	}
	return out, nil
}

// VerifyEvent parses event for room version v (pdu.Parse) and verifies it as
// [VerifyParsedEvent] does. A format error is returned as a [*VerificationError] with
// [ErrMalformed] whose Cause is the *pdu.FormatError (errors.As reaches it).
func VerifyEvent(v roomversion.Version, event []byte, keys KeyLookup) error {
	return verifyEventWith(nil, v, event, keys)
}

// verifyEventWith is VerifyEvent with the signature check verify (nil: verifyEd25519).
func verifyEventWith(verify verifyFunc, v roomversion.Version, event []byte, keys KeyLookup) error {
	// pdu.ParseIndexed validates the JSON once and keeps its canonical form, which every later
	// step reads without validating it again, and its index of the members spares the
	// redaction and the content hash a scan for them. The Event is parsed into the scratch's
	// buffer, as it is not needed beyond this call.
	sc := getScratch()
	defer putScratch(sc)
	ev, err := sc.events.ParseIndexed(v, event, &sc.index)
	if err != nil {
		return &VerificationError{Err: ErrMalformed, Detail: err.Error(), Cause: err}
	}
	return verifyParsedWith(verify, sc, ev, &sc.index, keys)
}

// VerifyParsedEvent checks the hashes and signatures of a parsed event as a receiving server
// must (server-server-api "Validating hashes and signatures on received events", appendices
// "Checking for a Signature"), in this order:
//
//  1. The event is redacted (ev.Version's algorithm) and every server of [RequiredSigners] must
//     have signed the redacted form with at least one key that keys knows; every signature of
//     those servers by a known key must hold. Signatures by unknown keys are skipped, and from
//     room version 5 (Signing.EnforceKeyValidity, rooms/fragments/v5-signing-requirements.md)
//     so are those by keys whose ValidUntilTS is below the event's `origin_server_ts` (equal is
//     valid). For a third-party invite at least one server listed in `signatures` must pass
//     this check. When several checks fail, a failure that no key can change (a bad or missing
//     signature) is returned before [ErrUnknownKey] or [ErrKeyExpired], which therefore mean
//     that fetching keys could make the event pass (docs/decisions.md (signing) 16).
//  2. The content hash ([ContentHash]) must equal `hashes.sha256`.
//
// It returns nil or a [*VerificationError] ([ErrMalformed] for a nil event); see the package
// documentation for which errors mean "reject" and which (only [ErrContentHashMismatch]) mean
// "keep the redacted form".
func VerifyParsedEvent(ev *pdu.Event, keys KeyLookup) error {
	sc := getScratch()
	defer putScratch(sc)
	return verifyParsed(sc, ev, nil, keys)
}

// verifyParsed is VerifyParsedEvent with working memory sc and, when not nil, the index
// pdu.ParseIndexed made of ev.Raw().
func verifyParsed(sc *scratch, ev *pdu.Event, idx *canonicaljson.Index, keys KeyLookup) error {
	return verifyParsedWith(nil, sc, ev, idx, keys)
}

// verifyParsedWith is verifyParsed with the signature check verify (nil: verifyEd25519; the bulk
// functions pass their prepared-key check, which gives the same verdict).
func verifyParsedWith(verify verifyFunc, sc *scratch, ev *pdu.Event, idx *canonicaljson.Index, keys KeyLookup) error {
	var buf [3]string
	signers, err := requiredSigners(ev, buf[:0])
	if err != nil {
		return err
	}
	// ev.Raw() is the canonical JSON pdu.Parse wrote (the only way to make an Event with bytes).
	if err := signedCanonicalEventBytes(sc, ev.Version, ev.Raw(), idx); err != nil {
		return err
	}
	return checkSigned(verify, sc, ev, signers, idx, keys)
}

// checkSigned is the rest of verification once sc.msg holds the event's signed bytes: the
// signatures (checkSigners), then the content hash.
func checkSigned(verify verifyFunc, sc *scratch, ev *pdu.Event, signers []string, idx *canonicaljson.Index, keys KeyLookup) error {
	if err := checkSigners(verify, sc.msg, ev, signers, keys); err != nil {
		return err
	}
	got, err := contentHashOfEvent(sc, ev, idx)
	if err != nil {
		return err
	}
	return compareContentHash(ev.ContentHash, got)
}

// checkSigners checks the signatures over msg (the event's signed bytes) that verification
// requires: every server of signers, and for a third-party invite some server listed in
// `signatures`. When several checks fail it returns the failure that decides the event: one
// that no key could change (a bad or missing signature of a required server, or of every
// server of a third-party invite) before one that a key might change ([ErrUnknownKey],
// [ErrKeyExpired]), which it returns only when fetching keys could make the event pass
// (docs/decisions.md (signing) 16). Among failures of one kind, the first in the order of
// signers, then the invite's.
func checkSigners(verify verifyFunc, msg []byte, ev *pdu.Event, signers []string, keys KeyLookup) error {
	enforce, ts := ev.Version.Signing.EnforceKeyValidity, ev.OriginServerTS
	var pending error // the first failure that a key might change
	for _, server := range signers {
		if err := checkServerWith(verify, msg, server, ev.Signatures.Server(server), keys, enforce, ts); err != nil {
			if !needsKey(err) {
				return err
			}
			if pending == nil {
				pending = err
			}
		}
	}
	if IsThirdPartyInvite(ev) {
		if err := checkAnyServerWith(verify, msg, ev.Signatures, keys, enforce, ts); err != nil {
			if !needsKey(err) {
				return err
			}
			if pending == nil {
				pending = err
			}
		}
	}
	return pending
}

// needsKey reports whether a failed signature check might pass with keys the caller does not
// have yet: a signature by an unknown key, or by one whose known validity ended too early.
func needsKey(err error) bool {
	return errors.Is(err, ErrUnknownKey) || errors.Is(err, ErrKeyExpired)
}

// signedCanonicalEventBytes sets sc.msg to the bytes an event signature covers: the redacted event
// without `signatures` and `unsigned`, for an event already in canonical form (an Event's Raw()),
// which spares the redaction its own validating pass.
func signedCanonicalEventBytes(sc *scratch, v roomversion.Version, canon []byte, idx *canonicaljson.Index) error {
	var err error
	if sc.msg, err = redaction.AppendSignedBytesIndexed(sc.msg[:0], v, canon, idx); err != nil {
		return malformed(err, "%v", err)
	}
	return nil
}

// checkAnyServerWith succeeds when at least one server in sigs passes checkServerWith (with the
// signature check verify). Otherwise it returns the most telling failure: an expired key, then
// an unknown key (either might pass once keys are fetched), a bad signature, and a missing
// signature.
func checkAnyServerWith(verify verifyFunc, msg []byte, sigs pdu.Signatures, keys KeyLookup, enforce bool, ts int64) error {
	var best *VerificationError
	// A server whose key is missing might still pass once it is fetched, so its failure ranks
	// before those that no key changes (docs/decisions.md (signing) 6 and 16).
	rank := func(err error) int {
		for i, s := range []error{ErrKeyExpired, ErrUnknownKey, ErrBadSignature} {
			if errors.Is(err, s) {
				return i
			}
		}
		return 3
	}
	for server := range sigs.Servers() {
		err := checkServerWith(verify, msg, server, sigs.Server(server), keys, enforce, ts)
		if err == nil {
			return nil
		}
		var ve *VerificationError
		if errors.As(err, &ve) && (best == nil || rank(ve) < rank(best)) {
			best = ve
		}
	}
	if best == nil {
		return &VerificationError{Err: ErrMissingSignature, Detail: "the third-party invite has no signature"}
	}
	return best
}

// VerifyEventSignature checks that the server serverName has signed the parsed event: the
// redacted event (ev.Version's algorithm) carries at least one signature of serverName by a key
// that keys knows (and, from room version 5, that is valid at the event's `origin_server_ts`),
// and every such signature holds (appendices "Checking for a Signature"). The auth rules use it
// for rule 4.2 of rooms/fragments/v8-auth-rules.md ("If the event is not validly signed by the
// homeserver of the user ID denoted by the key, reject"). It does not check the content hash.
// Errors: [ErrMissingSignature], [ErrUnknownKey], [ErrKeyExpired], [ErrBadSignature],
// [ErrMalformed].
func VerifyEventSignature(ev *pdu.Event, serverName string, keys KeyLookup) error {
	if ev == nil {
		return malformed(nil, "nil event")
	}
	v := ev.Version
	sc := getScratch()
	defer putScratch(sc)
	if err := signedCanonicalEventBytes(sc, v, ev.Raw(), nil); err != nil {
		return err
	}
	return checkServer(sc.msg, serverName, ev.Signatures.Server(serverName), keys, v.Signing.EnforceKeyValidity, ev.OriginServerTS)
}

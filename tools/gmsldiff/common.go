package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built or mutated.
type M = difftool.M

// versions are the room versions both sides implement.
var versions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}

// gVersion returns GMSL's room version id, which must exist.
func gVersion(id string) gmsl.IRoomVersion {
	v, err := gmsl.GetRoomVersion(gmsl.RoomVersion(id))
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return v
}

// lenient says whether a room version predates strict canonical JSON (v1-5).
func lenient(ver string) bool { return difftool.VerNum(ver) <= 5 }

// safe runs f, turning a panic into an error whose text starts with "PANIC".
func safe[T any](f func() (T, error)) (out T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("PANIC: %v", p)
		}
	}()
	return f()
}

// keyDB is a gomatrixserverlib KeyDatabase that knows the authgen.KeyFor keys of some servers.
type keyDB struct {
	servers    map[string]bool // servers whose "ed25519:1" key is known
	withKey2   bool            // their "ed25519:2" keys are known too
	validUntil int64           // 0: far in the future
}

// FetcherName implements gmsl.KeyFetcher.
func (d keyDB) FetcherName() string { return "gmsldiff" }

// FetchKeys implements gmsl.KeyFetcher.
func (d keyDB) FetchKeys(_ context.Context, reqs map[gmsl.PublicKeyLookupRequest]spec.Timestamp) (map[gmsl.PublicKeyLookupRequest]gmsl.PublicKeyLookupResult, error) {
	out := map[gmsl.PublicKeyLookupRequest]gmsl.PublicKeyLookupResult{}
	for req := range reqs {
		s := string(req.ServerName)
		if !d.servers[s] {
			continue
		}
		var pub ed25519.PublicKey
		switch {
		case req.KeyID == "ed25519:1":
			pub = authgen.KeyFor(s, "1").Public()
		case req.KeyID == "ed25519:2" && d.withKey2:
			pub = authgen.KeyFor(s, "2").Public()
		default:
			continue
		}
		vu := spec.Timestamp(1 << 52)
		if d.validUntil != 0 {
			vu = spec.Timestamp(d.validUntil)
		}
		out[req] = gmsl.PublicKeyLookupResult{VerifyKey: gmsl.VerifyKey{Key: spec.Base64Bytes(pub)}, ValidUntilTS: vu, ExpiredTS: gmsl.PublicKeyNotExpired}
	}
	return out, nil
}

// StoreKeys implements gmsl.KeyDatabase.
func (d keyDB) StoreKeys(context.Context, map[gmsl.PublicKeyLookupRequest]gmsl.PublicKeyLookupResult) error {
	return nil
}

// keyRings returns GMSL's key ring and roomproto's over the "ed25519:1" keys of servers.
func keyRings(servers ...string) (*gmsl.KeyRing, signing.KeyRing) {
	db := keyDB{servers: map[string]bool{}}
	rp := signing.KeyRing{}
	for _, s := range servers {
		db.servers[s] = true
		rp[s] = map[string]signing.PublicKey{"ed25519:1": {Key: authgen.KeyFor(s, "1").Public()}}
	}
	return &gmsl.KeyRing{KeyDatabase: db}, rp
}

// userIDForSender is GMSL's sender-to-user mapping outside pseudo-ID rooms.
func userIDForSender(_ spec.RoomID, s spec.SenderID) (*spec.UserID, error) {
	return spec.NewUserID(string(s), true)
}

// gParseTrusted parses an event for GMSL as trusted JSON; from v3 with the given event ID.
func gParseTrusted(ver string, raw []byte, eventID string) (gmsl.PDU, error) {
	return safe(func() (gmsl.PDU, error) {
		g := gVersion(ver)
		if g.EventFormat() == gmsl.EventFormatV1 {
			return g.NewEventFromTrustedJSON(raw, false)
		}
		return g.NewEventFromTrustedJSONWithEventID(eventID, raw, false)
	})
}

// withContentHash sets hashes.sha256 of an event to roomproto's content hash.
func withContentHash(v roomversion.Version, raw []byte) []byte {
	h, err := signing.ContentHash(v, raw)
	if err != nil {
		return raw
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	m["hashes"] = json.RawMessage(difftool.Enc(M{"sha256": difftool.B64(h[:])}))
	return difftool.Enc(m)
}

// bytesOutcome is what the two sides made of one input in the areas that compare bytes
// (canon, redact): each an output or an error.
type bytesOutcome struct {
	rp, g      []byte
	rerr, gerr error
}

// agree reports whether both sides refused the input, or both wrote the same bytes.
func (o bytesOutcome) agree() bool {
	if o.rerr != nil || o.gerr != nil {
		return o.rerr != nil && o.gerr != nil
	}
	return string(o.rp) == string(o.g)
}

// String renders the outcome for examples.
func (o bytesOutcome) String() string {
	r, g := string(o.rp), string(o.g)
	if o.rerr != nil {
		r = "error: " + o.rerr.Error()
	}
	if o.gerr != nil {
		g = "error: " + o.gerr.Error()
	}
	return "roomproto: " + clip(r, 300) + "\nGMSL: " + clip(g, 300)
}

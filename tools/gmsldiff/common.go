package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// M is a JSON object being built or mutated.
type M = map[string]any

// versions are the room versions both sides implement.
var versions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}

// rpVersion returns roomproto's room version id, which must exist.
func rpVersion(id string) roomversion.Version {
	v, err := roomversion.Lookup(id)
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return v
}

// gVersion returns GMSL's room version id, which must exist.
func gVersion(id string) gmsl.IRoomVersion {
	v, err := gmsl.GetRoomVersion(gmsl.RoomVersion(id))
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return v
}

// verNum is the number of a room version id ("10" -> 10).
func verNum(id string) int {
	n := 0
	fmt.Sscan(id, &n)
	return n
}

// lenient says whether a room version predates strict canonical JSON (v1-5).
func lenient(ver string) bool { return verNum(ver) <= 5 }

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

// enc encodes v as JSON with sorted keys and no HTML escaping (for the values built here, which
// hold no floats, that is canonical JSON).
func enc(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// decode parses a JSON object keeping numbers as json.Number, so re-encoding loses nothing.
func decode(b []byte) M {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m M
	if err := d.Decode(&m); err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return m
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	}
	return v
}

// copyM copies a JSON object.
func copyM(m M) M { return deepCopy(m).(M) }

// sortedKeys returns the keys of m in order (so that random choices over them are repeatable).
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// domainOf returns what follows the first ':' of an ID, or "".
func domainOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

// safe runs f, turning a panic into an error whose text starts with "PANIC".
func safe[T any](f func() (T, error)) (out T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("PANIC: %v", p)
		}
	}()
	return f()
}

// keyFor returns the deterministic ed25519 key "ed25519:<id>" of a server: the seed is the
// SHA-256 of the server name for key "1" (the convention of testdata/signing/bench_corpus.json),
// of "<id> <server>" otherwise.
func keyFor(server, id string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	if id != "1" {
		seed = sha256.Sum256([]byte(id + " " + server))
	}
	k, err := signing.NewSigningKey(id, seed[:])
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return k
}

// b64 is unpadded standard base64.
func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// b64URL is unpadded URL-safe base64.
func b64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// keyDB is a gomatrixserverlib KeyDatabase that knows the keyFor keys of some servers.
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
			pub = keyFor(s, "1").Public()
		case req.KeyID == "ed25519:2" && d.withKey2:
			pub = keyFor(s, "2").Public()
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
		rp[s] = map[string]signing.PublicKey{"ed25519:1": {Key: keyFor(s, "1").Public()}}
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
	m["hashes"] = json.RawMessage(enc(M{"sha256": b64(h[:])}))
	return enc(m)
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

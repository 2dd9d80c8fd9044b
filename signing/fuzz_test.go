package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
)

// fuzzSeeds returns events and objects from the fixtures and the corpus.
func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	c := loadCorpus(f)
	seeds = append(seeds, c.Events...)
	for _, o := range loadOracle(f) {
		seeds = append(seeds, o.Input, o.Signed)
	}
	var sv specVectors
	loadFixture(f, "spec_vectors.json", &sv)
	for _, e := range sv.EventSigning {
		seeds = append(seeds, e.Input, e.Expect)
	}
	for _, j := range sv.JSONSigning {
		seeds = append(seeds, j.Input, j.Expect)
	}
	var vj []struct {
		Input     json.RawMessage `json:"input"`
		InputText string          `json:"input_text"`
	}
	loadFixture(f, "verify_json.json", &vj)
	for _, j := range vj {
		seeds = append(seeds, j.Input, []byte(j.InputText))
	}
	return seeds
}

// fuzzVersion picks a room version from a byte.
func fuzzVersion(b byte) roomversion.Version {
	all := roomversion.All()
	return all[int(b)%len(all)]
}

func FuzzVerifyEvent(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(byte(8+i%5), s) // mostly v9
	}
	c := loadCorpus(f)
	keys := c.Keys
	keys["domain"] = map[string]PublicKey{"ed25519:1": {Key: testPublic(f, "z.example:1")}}
	// One cache for the whole run: from the second input on it holds the corpus's keys
	// prepared, and must give VerifyEvent's errors exactly.
	var cache KeyCache
	f.Fuzz(func(t *testing.T, vb byte, data []byte) {
		v := fuzzVersion(vb)
		err := VerifyEvent(v, data, keys)
		for range 2 {
			if cerr := cache.VerifyEvent(v, data, keys); (err == nil) != (cerr == nil) || (err != nil && err.Error() != cerr.Error()) {
				t.Fatalf("KeyCache.VerifyEvent %v, VerifyEvent %v", cerr, err)
			}
		}
		if err != nil {
			var ve *VerificationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *VerificationError: %v", err, err)
			}
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("error without a sentinel: %v", err)
			}
		}
		// Stable: the same verdict again, and on the parsed path.
		if err2 := VerifyEvent(v, data, keys); (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("unstable: %v then %v", err, err2)
		}
		if ev, perr := ParseEvent(v, data); perr == nil {
			if err2 := VerifyParsedEvent(ev, keys); (err == nil) != (err2 == nil) {
				t.Fatalf("VerifyParsedEvent %v, VerifyEvent %v", err2, err)
			}
		}
	})
}

func FuzzEventID(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(byte(i), s)
	}
	f.Fuzz(func(t *testing.T, vb byte, data []byte) {
		v := fuzzVersion(vb)
		id, err := EventID(v, data)
		id2, err2 := EventID(v, data)
		if id != id2 || (err == nil) != (err2 == nil) {
			t.Fatalf("unstable: %q %v, %q %v", id, err, id2, err2)
		}
		if err != nil {
			return
		}
		if v.Format.EventID != roomversion.EventIDOpaque {
			if len(id) != 44 || id[0] != '$' {
				t.Fatalf("event ID %q", id)
			}
			// Signatures and unsigned do not change the ID; redaction does not either.
			ref, _ := ReferenceHash(v, data)
			if hashEventID(encodingFor(v), ref) != id {
				t.Fatal("EventID and ReferenceHash disagree")
			}
		}
	})
}

func FuzzContentHash(f *testing.F) {
	for i, s := range fuzzSeeds(f) {
		f.Add(byte(i), s)
	}
	f.Fuzz(func(t *testing.T, vb byte, data []byte) {
		v := fuzzVersion(vb)
		sum, err := ContentHash(v, data)
		sum2, err2 := ContentHash(v, data)
		if sum != sum2 || (err == nil) != (err2 == nil) {
			t.Fatal("unstable")
		}
		cerr := CheckContentHash(v, data)
		if err != nil {
			if cerr == nil {
				t.Fatalf("ContentHash fails (%v), CheckContentHash does not", err)
			}
			return
		}
		// The scanner agrees with canonicaljson on every canonical object, and the hash of the
		// scanning path with ContentHash's (indexed).
		if canon, err := canonicaljson.Append(nil, data, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}); err == nil {
			checkStrip(t, canon)
			if scanned, err := contentHashOfCanonical(getScratch(), canon); err != nil || scanned != sum {
				t.Fatalf("ContentHash and the scanning path disagree (%v)", err)
			}
		}
		// Whitespace outside the object changes nothing.
		if s3, err := ContentHash(v, append(append([]byte(" \n"), data...), '\t')); err != nil || s3 != sum {
			t.Fatalf("surrounding whitespace changed the hash: %v", err)
		}
		if cerr != nil && !errors.Is(cerr, ErrNoContentHash) && !errors.Is(cerr, ErrContentHashMismatch) && !errors.Is(cerr, ErrMalformed) {
			t.Fatalf("CheckContentHash: %v", cerr)
		}
	})
}

func FuzzVerifyJSON(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	_, key := loadSpecVectorsKey(f)
	ring := KeyRing{"domain": {"ed25519:1": {Key: key.Public()}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := VerifyJSON(data, ring)
		if err2 := VerifyJSON(data, ring); (err == nil) != (err2 == nil) {
			t.Fatal("unstable")
		}
		serverErr := VerifyJSONServer(data, "domain", ring)
		if err == nil && serverErr != nil {
			t.Fatalf("VerifyJSON accepts, VerifyJSONServer: %v", serverErr)
		}
		// HasValidSignature holds `signatures` to the shape of a third-party invite's `signed`
		// (an object of objects of strings): it agrees with VerifyJSON unless that shape is
		// broken, which is ErrMalformed.
		ok, herr := HasValidSignature(data, key.Public())
		if err == nil && herr == nil && !ok {
			t.Fatal("VerifyJSON accepts, HasValidSignature finds no valid signature")
		}
		if herr != nil && !errors.Is(herr, ErrMalformed) {
			t.Fatalf("HasValidSignature: %v", herr)
		}
		// Signing then verifying succeeds for every object, and signing keeps every other
		// member of `signatures` as it is, empty objects and values of any type included.
		if signed, err := SignJSON(data, "domain", key); err == nil {
			if err := VerifyJSON(signed, ring); err != nil && !bytes.Contains(data, []byte("domain")) {
				t.Fatalf("sign then verify: %v\n%s", err, signed)
			}
			want := signatureMembers(t, data)
			if want["domain"] == nil {
				want["domain"] = map[string]string{}
			}
			got := signatureMembers(t, signed)
			want["domain"]["ed25519:1"] = got["domain"]["ed25519:1"]
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("SignJSON changed the other signatures:\n%v\n%v", want, got)
			}
		}
	})
}

// signatureMembers reads the `signatures` of the JSON object obj (as canonicaljson's lenient
// form reads it): server → key ID → the value's canonical bytes; an empty server object is an
// empty map, and a value that is not an object one member with an impossible key ID.
func signatureMembers(t *testing.T, obj []byte) map[string]map[string]string {
	t.Helper()
	canon, err := canonicaljson.Append(nil, obj, canonicaljson.Options{})
	if err != nil {
		t.Fatalf("signed input is not canonicalisable: %v", err)
	}
	out := map[string]map[string]string{}
	err = canonicaljson.EachMember(canon, func(k string, v []byte) error {
		if k != "signatures" {
			return nil
		}
		return canonicaljson.EachMember(v, func(server string, keys []byte) error {
			m := map[string]string{}
			out[server] = m
			if canonicaljson.KindOf(keys) != canonicaljson.Object {
				m["\x00 not an object"] = string(keys) // kept as it is
				return nil
			}
			return canonicaljson.EachMember(keys, func(keyID string, sig []byte) error {
				m[keyID] = string(sig)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatalf("signatures of a signed input: %v", err)
	}
	return out
}

func FuzzParseKeys(f *testing.F) {
	var sk []struct {
		Input string `json:"input"`
	}
	loadFixture(f, "signing_keys.json", &sk)
	for _, k := range sk {
		f.Add([]byte(k.Input))
	}
	var kr []struct {
		Input json.RawMessage `json:"input"`
	}
	loadFixture(f, "key_rings.json", &kr)
	for _, k := range kr {
		f.Add([]byte(k.Input))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if k, err := ParseSigningKey(data); err == nil && (len(k.Private) != 64 || !validKeyVersion(k.Version)) {
			t.Fatalf("bad key accepted: %v", k)
		}
		if ring, err := ParseKeyRing(data); err == nil {
			for _, keys := range ring {
				for _, pk := range keys {
					if len(pk.Key) != 32 {
						t.Fatal("short key accepted")
					}
				}
			}
		}
	})
}

func loadSpecVectorsKey(f *testing.F) (specVectors, SigningKey) {
	var sv specVectors
	loadFixture(f, "spec_vectors.json", &sv)
	var seed [32]byte
	decodeBase64(seed[:], sv.Seed)
	key, err := NewSigningKey("1", seed[:])
	if err != nil {
		f.Fatal(err)
	}
	return sv, key
}

package signing

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

type specVectors struct {
	Seed        string `json:"seed"`
	Server      string `json:"server"`
	KeyID       string `json:"key_id"`
	JSONSigning []struct {
		Name   string          `json:"name"`
		Spec   string          `json:"spec"`
		Input  json.RawMessage `json:"input"`
		Expect json.RawMessage `json:"expect"`
	} `json:"json_signing"`
	EventSigning []struct {
		Name         string          `json:"name"`
		Spec         string          `json:"spec"`
		RoomVersions []string        `json:"room_versions"`
		Input        json.RawMessage `json:"input"`
		Expect       json.RawMessage `json:"expect"`
	} `json:"event_signing"`
}

func loadSpecVectors(t *testing.T) (specVectors, SigningKey) {
	var sv specVectors
	loadFixture(t, "spec_vectors.json", &sv)
	seed, err := base64.RawStdEncoding.DecodeString(sv.Seed)
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewSigningKey("1", seed)
	if err != nil {
		t.Fatal(err)
	}
	if key.KeyID() != sv.KeyID {
		t.Fatalf("key ID %q, want %q", key.KeyID(), sv.KeyID)
	}
	return sv, key
}

// TestSpecJSONSigning: appendices "Cryptographic Test Vectors" / "JSON Signing".
func TestSpecJSONSigning(t *testing.T) {
	sv, key := loadSpecVectors(t)
	ring := KeyRing{sv.Server: {sv.KeyID: {Key: key.Public()}}}
	for _, c := range sv.JSONSigning {
		t.Run(c.Name, func(t *testing.T) {
			got, err := SignJSON(c.Input, sv.Server, key)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := canonicalObject(nil, c.Expect, true)
			if string(got) != string(want) {
				t.Fatalf("SignJSON = %s\nwant      %s", got, want)
			}
			if err := VerifyJSON(c.Expect, ring); err != nil {
				t.Fatalf("VerifyJSON(spec output): %v", err)
			}
			if err := VerifyJSONServer(c.Expect, sv.Server, ring); err != nil {
				t.Fatalf("VerifyJSONServer(spec output): %v", err)
			}
			if ok, err := HasValidSignature(c.Expect, key.Public()); !ok || err != nil {
				t.Fatalf("HasValidSignature = %v, %v", ok, err)
			}
		})
	}
}

// TestSpecEventSigning: appendices "Cryptographic Test Vectors" / "Event Signing", in every
// room version whose redaction algorithm keeps `origin` (v1-10, see the spec README's note).
func TestSpecEventSigning(t *testing.T) {
	sv, key := loadSpecVectors(t)
	for _, c := range sv.EventSigning {
		for _, id := range c.RoomVersions {
			t.Run(c.Name+"/v"+id, func(t *testing.T) {
				v := version(t, id)
				got, err := SignEvent(v, c.Input, sv.Server, key)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := canonicalObject(nil, c.Expect, true)
				if string(got) != string(want) {
					t.Fatalf("SignEvent = %s\nwant        %s", got, want)
				}
				if err := CheckContentHash(v, c.Expect); err != nil {
					t.Fatalf("CheckContentHash(spec output): %v", err)
				}
				sum, err := ContentHash(v, c.Input)
				if err != nil {
					t.Fatal(err)
				}
				var hashes struct{ Sha256 string }
				json.Unmarshal(field(t, c.Expect, "hashes"), &hashes)
				if encodeBase64(sum[:]) != hashes.Sha256 {
					t.Fatalf("ContentHash = %s, want %s", encodeBase64(sum[:]), hashes.Sha256)
				}
			})
		}
		// v11 and v12 drop `origin` when redacting: same content hash, another signature.
		for _, id := range []string{"11", "12"} {
			t.Run(c.Name+"/v"+id, func(t *testing.T) {
				v := version(t, id)
				got, err := SignEvent(v, c.Input, sv.Server, key)
				if err != nil {
					t.Fatal(err)
				}
				if !sameJSON(t, field(t, got, "hashes"), field(t, c.Expect, "hashes")) {
					t.Fatalf("content hash differs in v%s: %s", id, field(t, got, "hashes"))
				}
				if sameJSON(t, field(t, got, "signatures"), field(t, c.Expect, "signatures")) {
					t.Fatalf("v%s reproduced the v1-10 signature, but its redaction drops origin", id)
				}
			})
		}
	}
}

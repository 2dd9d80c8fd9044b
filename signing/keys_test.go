package signing

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseSigningKey(t *testing.T) {
	var cases []struct {
		Name   string `json:"name"`
		Spec   string `json:"spec"`
		Input  string `json:"input"`
		KeyID  string `json:"key_id"`
		Public string `json:"public"`
		Error  bool   `json:"error"`
	}
	loadFixture(t, "signing_keys.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			k, err := ParseSigningKey([]byte(c.Input))
			if c.Error {
				var ke *KeyError
				if !errors.As(err, &ke) || !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("error %v, want a *KeyError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.KeyID() != c.KeyID || encodeBase64(k.Public()) != c.Public {
				t.Fatalf("key %s %s, want %s %s", k.KeyID(), encodeBase64(k.Public()), c.KeyID, c.Public)
			}
		})
	}
}

func TestNewSigningKey(t *testing.T) {
	if _, err := NewSigningKey("1", make([]byte, 31)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("31-byte seed: %v", err)
	}
	if _, err := NewSigningKey("", make([]byte, 32)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("empty version: %v", err)
	}
	if _, err := SignJSON([]byte(`{}`), "s", SigningKey{Version: "1"}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("signing with no private key: %v", err)
	}
}

func TestParseKeyRing(t *testing.T) {
	var cases []struct {
		Name   string          `json:"name"`
		Spec   string          `json:"spec"`
		Input  json.RawMessage `json:"input"`
		Expect map[string]map[string]struct {
			Key          string `json:"key"`
			ValidUntilTS int64  `json:"valid_until_ts"`
		} `json:"expect"`
		Error bool `json:"error"`
	}
	loadFixture(t, "key_rings.json", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ring, err := ParseKeyRing(c.Input)
			if c.Error {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("error %v, want ErrInvalidKey", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ring) != len(c.Expect) {
				t.Fatalf("%d servers, want %d", len(ring), len(c.Expect))
			}
			for server, keys := range c.Expect {
				if len(ring[server]) != len(keys) {
					t.Fatalf("%s: %d keys, want %d", server, len(ring[server]), len(keys))
				}
				for id, want := range keys {
					got, ok := ring.PublicKey(server, id)
					if !ok || encodeBase64(got.Key) != want.Key || got.ValidUntilTS != want.ValidUntilTS {
						t.Fatalf("%s %s = %v, want %v", server, id, got, want)
					}
				}
			}
		})
	}
}

func TestDecodeBase64(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // hex of the decoded bytes, or "!" for failure
	}{
		{"", ""}, {"Zg", "66"}, {"Zg==", "66"}, {"Zm8", "666f"}, {"Zm8=", "666f"},
		{"Zm9v", "666f6f"}, {"Zm9vYg", "666f6f62"}, // appendices "Unpadded Base64" examples
		{"Zg=", "66"}, // partial padding (Synapse and ruma accept it)
		{"Z", "!"}, {"Zm9v=", "!"}, {"Zm8==", "!"}, {"Zg===", "!"}, {"Z=g=", "!"}, {"=", "!"}, {"==", "!"},
		{"-_8", "fbff"}, {"+/8", "fbff"}, {"+_8", "fbff"}, {"-/8=", "fbff"}, // alphabets mixed, as Synapse reads them
		{"Zm\n9v", "!"}, {"Zm 9v", "!"}, {"Zm9v\n", "!"},
		{"Zh", "66"}, // unused low bits ignored
	} {
		var dst [8]byte
		n, ok := decodeBase64(dst[:], c.in)
		got := "!"
		if ok {
			got = ""
			for _, b := range dst[:n] {
				got += string("0123456789abcdef"[b>>4]) + string("0123456789abcdef"[b&15])
			}
		}
		if got != c.want {
			t.Errorf("decodeBase64(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestDecodePublicKey(t *testing.T) {
	const spec = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI" // appendices test vector key
	for in, ok := range map[string]bool{spec: true, spec + "=": true, spec[:42]: false, "": false, spec + "AAAA": false} {
		k, err := DecodePublicKey(in)
		if (err == nil) != ok || (ok && encodeBase64(k) != spec) {
			t.Errorf("DecodePublicKey(%q) = %v, %v", in, k, err)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Errorf("error %v is not ErrInvalidKey", err)
		}
	}
}

// TestSignRefusesUnusableKeys: SignJSON, SignEvent and CountersignEvent refuse, with a
// *KeyError, a SigningKey that NewSigningKey could not have made — a key version outside
// [a-zA-Z0-9_]{1,255} (an empty one would sign as "ed25519:", a key ID that key rings refuse) or
// a private key whose public half is not its seed's (ed25519.Sign would make a signature that
// verifies with neither) — and a server name that is not one: empty for SignJSON, outside the
// grammar of appendices "Server Name" for the events (ErrMalformed).
func TestSignRefusesUnusableKeys(t *testing.T) {
	v := version(t, "10")
	_, good := testKey(t, "a.example")
	mismatched := append(append(ed25519.PrivateKey{}, good.Private.Seed()...), make([]byte, 32)...)
	_, other := testKey(t, "b.example")
	swapped := append(append(ed25519.PrivateKey{}, good.Private.Seed()...), other.Public()...)
	// A key NewSigningKey made whose bytes were changed afterwards, in place.
	changed, err := NewSigningKey("1", good.Private.Seed())
	if err != nil {
		t.Fatal(err)
	}
	changed.Private[40] ^= 1
	// One whose seed was changed: its public half is no longer the seed's.
	reseeded, _ := NewSigningKey("1", good.Private.Seed())
	reseeded.Private[3] ^= 1
	event := []byte(`{"auth_events":[],"content":{},"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@u:a.example","signatures":{},"type":"m.room.message"}`)
	sign := map[string]func(server string, key SigningKey) error{
		"SignJSON": func(server string, key SigningKey) error {
			_, err := SignJSON([]byte(`{"a":1}`), server, key)
			return err
		},
		"SignEvent": func(server string, key SigningKey) error {
			_, err := SignEvent(v, event, server, key)
			return err
		},
		"CountersignEvent": func(server string, key SigningKey) error {
			_, err := CountersignEvent(v, event, server, key)
			return err
		},
	}
	for _, tc := range []struct {
		name string
		key  SigningKey
	}{
		{"empty version", SigningKey{Version: "", Private: good.Private}},
		{"version with a colon", SigningKey{Version: "a:b", Private: good.Private}},
		{"version with a space", SigningKey{Version: "a b", Private: good.Private}},
		{"version with NUL", SigningKey{Version: "\x00", Private: good.Private}},
		{"version of 256 characters", SigningKey{Version: strings.Repeat("k", 256), Private: good.Private}},
		{"public half zero", SigningKey{Version: "1", Private: mismatched}},
		{"public half of another key", SigningKey{Version: "1", Private: swapped}},
		{"no private key", SigningKey{Version: "1"}},
		{"public half changed after NewSigningKey", changed},
		{"seed changed after NewSigningKey", reseeded},
	} {
		for fn, call := range sign {
			var ke *KeyError
			if err := call("a.example", tc.key); !errors.As(err, &ke) || !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s with %s: %v, want a *KeyError", fn, tc.name, err)
			}
		}
	}
	for _, tc := range []struct {
		server string
		ok     map[string]bool // the functions that accept it
	}{
		{"", map[string]bool{}},
		{"a.example:8448", map[string]bool{"SignJSON": true, "SignEvent": true, "CountersignEvent": true}},
		{"[::1]:8448", map[string]bool{"SignJSON": true, "SignEvent": true, "CountersignEvent": true}},
		{"under_score.example", map[string]bool{"SignJSON": true}},
		{"a.example:99999999", map[string]bool{"SignJSON": true}},
		{"a b", map[string]bool{"SignJSON": true}},
	} {
		for fn, call := range sign {
			err := call(tc.server, good)
			if tc.ok[fn] {
				if err != nil {
					t.Errorf("%s as %q: %v", fn, tc.server, err)
				}
			} else if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s as %q: %v, want ErrMalformed", fn, tc.server, err)
			}
		}
	}
	// The keys NewSigningKey makes sign, with versions of one and of 255 characters.
	for _, ver := range []string{"1", "a_B_9", strings.Repeat("k", 255)} {
		k, err := NewSigningKey(ver, good.Private.Seed())
		if err != nil {
			t.Fatal(err)
		}
		for fn, call := range sign {
			if err := call("a.example", k); err != nil {
				t.Errorf("%s with version %q: %v", fn, ver, err)
			}
		}
	}
}

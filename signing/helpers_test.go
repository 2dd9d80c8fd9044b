package signing

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// sentinels maps the error names used in the fixtures to the sentinel errors.
var sentinels = map[string]error{
	"ErrMalformed":           ErrMalformed,
	"ErrMissingSignature":    ErrMissingSignature,
	"ErrUnknownKey":          ErrUnknownKey,
	"ErrKeyExpired":          ErrKeyExpired,
	"ErrBadSignature":        ErrBadSignature,
	"ErrNoContentHash":       ErrNoContentHash,
	"ErrContentHashMismatch": ErrContentHashMismatch,
}

// loadFixture decodes testdata/signing/<name> into v.
func loadFixture(tb testing.TB, name string, v any) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "signing", name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
}

func version(tb testing.TB, id string) roomversion.Version {
	tb.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// testKey returns the signing key named "server:version". Version 1 uses the bench corpus
// convention (seed = sha256(server name)); other versions use sha256("server:version").
func testKey(tb testing.TB, spec string) (server string, key SigningKey) {
	tb.Helper()
	server, ver, ok := strings.Cut(spec, ":")
	if !ok {
		server, ver = spec, "1"
	}
	seed := sha256.Sum256([]byte(server + ":" + ver))
	if ver == "1" {
		seed = sha256.Sum256([]byte(server))
	}
	key, err := NewSigningKey(ver, seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return server, key
}

func testPublic(tb testing.TB, spec string) ed25519.PublicKey {
	_, k := testKey(tb, spec)
	return k.Public()
}

// wantErr checks err against a fixture's expected error name ("" for none).
func wantErr(tb testing.TB, err error, want string) {
	tb.Helper()
	if want == "" {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	s, ok := sentinels[want]
	if !ok {
		tb.Fatalf("fixture names unknown error %q", want)
	}
	if !errors.Is(err, s) {
		tb.Fatalf("error %v, want %s", err, want)
	}
	var ve *VerificationError
	if !errors.As(err, &ve) {
		tb.Fatalf("error %T is not a *VerificationError", err)
	}
}

// setFields returns the object with the given top-level members replaced (or added).
func setFields(tb testing.TB, obj []byte, fields map[string]json.RawMessage) []byte {
	tb.Helper()
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(obj, &m); err != nil {
		tb.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// field returns a top-level member of obj.
func field(tb testing.TB, obj []byte, name string) json.RawMessage {
	tb.Helper()
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(obj, &m); err != nil {
		tb.Fatal(err)
	}
	return m[name]
}

// sameJSON reports whether a and b have the same canonical JSON.
func sameJSON(tb testing.TB, a, b []byte) bool {
	tb.Helper()
	ca, err := canonicaljson.Canonical(a)
	if err != nil {
		tb.Fatal(err)
	}
	cb, err := canonicaljson.Canonical(b)
	if err != nil {
		tb.Fatal(err)
	}
	return string(ca) == string(cb)
}

// signKeepingHashes signs an event without touching its `hashes`, by a path independent of
// SignEvent: redaction.Redact, then SignJSON, then the signatures are copied back.
func signKeepingHashes(tb testing.TB, v roomversion.Version, event []byte, spec string) []byte {
	tb.Helper()
	server, key := testKey(tb, spec)
	red, err := redaction.Redact(v, event)
	if err != nil {
		tb.Fatal(err)
	}
	signed, err := SignJSON(red, server, key)
	if err != nil {
		tb.Fatal(err)
	}
	return setFields(tb, event, map[string]json.RawMessage{"signatures": field(tb, signed, "signatures")})
}

// signedEventBytes sets sc.msg to the bytes an event signature covers: the redacted event
// without `signatures` and `unsigned`, canonical.
func signedEventBytes(sc *scratch, v roomversion.Version, event []byte) error {
	red, err := redaction.Redact(v, event)
	if err != nil {
		return malformed(err, "%v", err)
	}
	sc.msg, _, err = appendStripped(sc.msg[:0], red, dropSignatures|dropUnsigned)
	return err
}

// TestContentHashOfEvent: the shortcut past `content` gives the hash of the full scan for every
// corpus event, whatever Content is set to after parsing.
func TestContentHashOfEvent(t *testing.T) {
	c := loadCorpus(t)
	sc := getScratch()
	defer putScratch(sc)
	n := 0
	for _, raw := range c.Events {
		ev, err := pdu.Parse(c.Version, raw)
		if err != nil {
			t.Fatal(err)
		}
		want, err := contentHashOfCanonical(sc, ev.Raw())
		if err != nil {
			t.Fatal(err)
		}
		got, err := contentHashOfEvent(sc, ev, nil)
		if err != nil || got != want {
			t.Fatalf("contentHashOfEvent = %x, %v; want %x", got, err, want)
		}
		// What Content is set to afterwards does not matter: the span is Parse's.
		ev.Content = ev.Content[:1]
		got, err = contentHashOfEvent(sc, ev, nil)
		if err != nil || got != want {
			t.Fatalf("with a changed Content: %x, %v; want %x", got, err, want)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no events")
	}
}

package claimsa

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// skey returns a deterministic signing key of server with version kv.
func skey(t testing.TB, server, version string) signing.SigningKey {
	t.Helper()
	seed := sha256.Sum256([]byte(version + " " + server))
	k, err := signing.NewSigningKey(version, seed[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// ring builds a KeyRing of the given keys (server/version pairs), none expiring.
func ring(t testing.TB, pairs ...string) signing.KeyRing {
	r := signing.KeyRing{}
	for i := 0; i+1 < len(pairs); i += 2 {
		k := skey(t, pairs[i], pairs[i+1])
		if r[pairs[i]] == nil {
			r[pairs[i]] = map[string]signing.PublicKey{}
		}
		r[pairs[i]][k.KeyID()] = signing.PublicKey{Key: k.Public()}
	}
	return r
}

// signedEvent signs the base event of id (with mods) by each server in turn with key "1";
// the first computes the hash (SignEvent), the others countersign.
func signedEvent(t testing.TB, id string, servers []string, mods ...kv) []byte {
	t.Helper()
	mods = append([]kv{{"signatures", `{}`}}, mods...)
	data := mkEvent(id, mods...)
	v := claimkit.Ver(t, id)
	out, err := signing.SignEvent(v, data, servers[0], skey(t, servers[0], "1"))
	if err != nil {
		t.Fatalf("SignEvent: %v", err)
	}
	for _, s := range servers[1:] {
		out, err = signing.CountersignEvent(v, out, s, skey(t, s, "1"))
		if err != nil {
			t.Fatalf("CountersignEvent: %v", err)
		}
	}
	return out
}

// setTop replaces (or adds, or with raw "-" removes) a top-level member of a JSON object,
// returning canonical JSON (lenient).
func setTop(t testing.TB, obj []byte, k, raw string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	if raw == "-" {
		delete(m, k)
	} else {
		m[k] = json.RawMessage(raw)
	}
	b, _ := json.Marshal(m)
	c, err := canonicaljson.Canonical(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// topField returns the raw value of a top-level member.
func topField(t testing.TB, obj []byte, k string) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	return string(m[k])
}

// verr asserts err is a *VerificationError with sentinel want (nil: no error).
func verr(t *testing.T, claim string, err, want error, known string) *signing.VerificationError {
	t.Helper()
	var ve *signing.VerificationError
	if want == nil {
		if err != nil {
			if known != "" {
				knownFinding(t, known)
			}
			t.Errorf("%s: %v, want nil", claim, err)
		}
		return nil
	}
	if !errors.As(err, &ve) || ve.Err != want || !errors.Is(err, want) {
		if known != "" {
			knownFinding(t, known)
		}
		t.Errorf("%s: %v, want *VerificationError %v", claim, err, want)
		return nil
	}
	return ve
}

// TestSpecVectors checks decisions.md signing 10 and the appendix's JSON signing vectors.
func TestSpecVectors(t *testing.T) {
	seed, _ := base64.RawStdEncoding.DecodeString("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
	key, err := signing.NewSigningKey("1", seed)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := signing.ParseSigningKey([]byte("ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n"))
	if err != nil || !bytes.Equal(pk.Private, key.Private) {
		t.Errorf("ParseSigningKey of the spec seed (non-zero unused bits, signing 1): %v", err)
	}
	for in, want := range map[string]string{
		`{}`:                      `{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}`,
		`{"one": 1, "two":"Two"}`: `{"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}`,
	} {
		got, err := signing.SignJSON([]byte(in), "domain", key)
		if err != nil || string(got) != want {
			t.Errorf("SignJSON(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	ev1 := `{"room_id":"!x:domain","sender":"@a:domain","origin":"domain","origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X","content":{},"prev_events":[],"auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}}`
	want1 := `{"auth_events":[],"content":{},"depth":3,"hashes":{"sha256":"5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},"origin":"domain","origin_server_ts":1000000,"prev_events":[],"room_id":"!x:domain","sender":"@a:domain","signatures":{"domain":{"ed25519:1":"KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"}},"type":"X","unsigned":{"age_ts":1000000}}`
	ev2 := `{"content":{"body":"Here is the message content"},"event_id":"$0:domain","origin":"domain","origin_server_ts":1000000,"type":"m.room.message","room_id":"!r:domain","sender":"@u:domain","signatures":{},"unsigned":{"age_ts":1000000}}`
	want2 := `{"content":{"body":"Here is the message content"},"event_id":"$0:domain","hashes":{"sha256":"onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"},"origin":"domain","origin_server_ts":1000000,"room_id":"!r:domain","sender":"@u:domain","signatures":{"domain":{"ed25519:1":"Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"}},"type":"m.room.message","unsigned":{"age_ts":1000000}}`
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		for i, c := range [][2]string{{ev1, want1}, {ev2, want2}} {
			got, err := signing.SignEvent(v, []byte(c[0]), "domain", key)
			if err != nil {
				t.Errorf("v%s vector %d: %v", id, i+1, err)
				continue
			}
			if inRange(id, 1, 10) {
				if string(got) != c[1] {
					t.Errorf("v%s vector %d:\n got %s\nwant %s", id, i+1, got, c[1])
				}
			} else {
				if topField(t, got, "hashes") != topField(t, []byte(c[1]), "hashes") || topField(t, got, "signatures") == topField(t, []byte(c[1]), "signatures") {
					t.Errorf("v%s vector %d: want same hash, other signature (signing 10)", id, i+1)
				}
			}
		}
	}
}

// TestBase64 checks decisions.md signing 1 through DecodePublicKey, signatures, content
// hashes and key file seeds.
func TestBase64(t *testing.T) {
	k := skey(t, "a.example", "1")
	pub := []byte(k.Public())
	std := base64.RawStdEncoding.EncodeToString(pub)
	// A key whose encoding has both '+' and '/' lets mixing be tested.
	var mixedPub []byte
	for i := 0; mixedPub == nil; i++ {
		kk := skey(t, "a.example", "k"+string(rune('a'+i%26))+strings.Repeat("x", i/26))
		s := base64.RawStdEncoding.EncodeToString(kk.Public())
		if strings.Contains(s, "+") && strings.Contains(s, "/") {
			mixedPub = kk.Public()
		}
	}
	ms := base64.RawStdEncoding.EncodeToString(mixedPub)
	mixed := strings.Replace(ms, "+", "-", 1) // '-' and '/' in one string
	good := []struct{ claim, s string }{
		{"unpadded", std},
		{"padded", base64.StdEncoding.EncodeToString(pub)},
		{"url-safe", base64.RawURLEncoding.EncodeToString(pub)},
		{"url-safe padded", base64.URLEncoding.EncodeToString(pub)},
		{"mixed alphabets", mixed},
		{"unused low bits ignored", std[:42] + string(flipLowBits(std[42]))},
	}
	for _, g := range good {
		got, err := signing.DecodePublicKey(g.s)
		want := pub
		if g.claim == "mixed alphabets" {
			want = mixedPub
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("DecodePublicKey %s (%q): %v", g.claim, g.s, err)
		}
	}
	bad := []struct{ claim, s string }{
		{"newline", std[:20] + "\n" + std[20:]},
		{"space", std + " "},
		{"excess =", std + "=="},
		{"misplaced =", std[:10] + "=" + std[10:]},
		{"31 bytes", base64.RawStdEncoding.EncodeToString(pub[:31])},
		{"33 bytes", base64.RawStdEncoding.EncodeToString(append(slices.Clone(pub), 0))},
		{"empty", ""},
		{"bad char", "!" + std[1:]},
	}
	for _, b := range bad {
		_, err := signing.DecodePublicKey(b.s)
		var ke *signing.KeyError
		if !errors.As(err, &ke) || !errors.Is(err, signing.ErrInvalidKey) {
			t.Errorf("DecodePublicKey %s (%q) = %v, want *KeyError", b.claim, b.s, err)
		}
	}
	// Signatures: 64 bytes = 86 chars + "==": partial padding "=" accepted, "===" refused.
	obj, err := signing.SignJSON([]byte(`{"a":1}`), "a.example", k)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	_ = json.Unmarshal(obj, &m)
	sig := m.Signatures["a.example"]["ed25519:1"]
	r := ring(t, "a.example", "1")
	raw, _ := base64.RawStdEncoding.DecodeString(sig)
	sigURL := base64.RawURLEncoding.EncodeToString(raw)
	for _, c := range []struct {
		claim, s string
		want     error
	}{
		{"sig unpadded", sig, nil},
		{"sig one =", sig + "=", nil},
		{"sig ==", sig + "==", nil},
		{"sig url-safe", sigURL, nil},
		{"sig ===", sig + "===", signing.ErrBadSignature},
		{"sig with newline", sig[:40] + "\n" + sig[40:], signing.ErrBadSignature},
		{"sig empty", "", signing.ErrBadSignature},
	} {
		o := setTop(t, obj, "signatures", `{"a.example":{"ed25519:1":`+jsonString(c.s)+`}}`)
		verr(t, c.claim, signing.VerifyJSON(o, r), c.want, "")
	}
	// Content hash: padded, url-safe, mixed alphabets.
	v := claimkit.Ver(t, "10")
	var mixedHashEv []byte
	var hstd string
	for i := 0; mixedHashEv == nil; i++ {
		e := mkEvent("10", kv{"depth", jsonInt(i + 1)})
		h, err := signing.ContentHash(v, e)
		if err != nil {
			t.Fatal(err)
		}
		s := base64.RawStdEncoding.EncodeToString(h[:])
		if strings.Contains(s, "+") && strings.Contains(s, "/") {
			mixedHashEv, hstd = e, s
		}
	}
	for _, c := range []struct {
		claim, s string
		want     error
		known    string
	}{
		{"hash unpadded", hstd, nil, ""},
		{"hash padded", hstd + "=", nil, ""},
		{"hash url-safe", strings.NewReplacer("+", "-", "/", "_").Replace(hstd), nil, ""},
		{"hash mixed alphabets (signing 1: accepted)", strings.Replace(hstd, "+", "-", 1), nil, ""},
		{"hash excess padding", hstd + "==", signing.ErrContentHashMismatch, ""},
		{"hash empty", "", signing.ErrContentHashMismatch, ""},
		{"hash not base64", "!!!!", signing.ErrContentHashMismatch, ""},
		{"hash other length", hstd[:40], signing.ErrContentHashMismatch, ""},
		{"hash whitespace", " " + hstd, signing.ErrContentHashMismatch, ""},
	} {
		t.Run(c.claim, func(t *testing.T) {
			e := setTop(t, mixedHashEv, "hashes", `{"sha256":`+jsonString(c.s)+`}`)
			verr(t, c.claim, signing.CheckContentHash(v, e), c.want, c.known)
		})
	}
}

func flipLowBits(c byte) byte {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(alpha, c)
	return alpha[i^1]
}

func jsonString(s string) string { return string(canonicaljson.AppendString(nil, s)) }

func jsonInt(i int) string { b, _ := json.Marshal(i); return string(b) }

var (
	_ = ed25519.PublicKeySize
	_ = pdu.MaxEventSize
	_ = redaction.Apply
	_ roomversion.Version
)

// TestKeyFiles checks decisions.md signing 2, 3 (key ring part) and go doc
// ParseSigningKey, NewSigningKey, ParseKeyRing, KeyRing.PublicKey.
func TestKeyFiles(t *testing.T) {
	seed := sha256.Sum256([]byte("seed"))
	s := base64.RawStdEncoding.EncodeToString(seed[:])
	want, _ := signing.NewSigningKey("a_1", seed[:])
	good := []string{
		"ed25519 a_1 " + s,
		"ed25519 a_1 " + s + "\n",
		"ed25519 a_1 " + s + "\r\n",
		"  ed25519\t\ta_1   " + s + " \n\n",
		"ed25519 a_1 " + s + "=",
		"ed25519 a_1 " + base64.RawURLEncoding.EncodeToString(seed[:]),
	}
	for _, in := range good {
		k, err := signing.ParseSigningKey([]byte(in))
		if err != nil || k.Version != "a_1" || !bytes.Equal(k.Private, want.Private) || k.KeyID() != "ed25519:a_1" || !bytes.Equal(k.Public(), want.Public()) {
			t.Errorf("ParseSigningKey(%q) = %v, %v", in, k.Version, err)
		}
	}
	bad := []string{
		"ed25519 a_1 " + s + "\ned25519 b " + s,
		"ed25519 a-1 " + s,
		"ed25519 a.1 " + s,
		"ed25519  " + s,
		"ed25519 " + strings.Repeat("a", 256) + " " + s,
		"ed25519 a_1 " + s + "\v",
		"ed25519\fa_1 " + s,
		"ed25519\u00a0a_1 " + s,
		"ed25519 a_1 " + s[:20],
		"curve25519 a_1 " + s,
		"ed25519 a_1 " + s + " extra",
		"",
	}
	for _, in := range bad {
		if _, err := signing.ParseSigningKey([]byte(in)); !errors.Is(err, signing.ErrInvalidKey) {
			t.Errorf("ParseSigningKey(%q) = %v, want ErrInvalidKey", in, err)
		}
	}
	if _, err := signing.ParseSigningKey([]byte("ed25519 " + strings.Repeat("a", 255) + " " + s)); err != nil {
		t.Errorf("255-char version: %v", err)
	}
	for _, v := range []string{"", "a-b", "é", strings.Repeat("x", 256)} {
		if _, err := signing.NewSigningKey(v, seed[:]); err == nil {
			t.Errorf("NewSigningKey(%q) accepted", v)
		}
	}
	if _, err := signing.NewSigningKey("1", seed[:31]); err == nil {
		t.Errorf("NewSigningKey with 31-byte seed accepted")
	}
	// Key rings.
	k1 := skey(t, "a.example", "1")
	p1 := base64.RawStdEncoding.EncodeToString(k1.Public())
	k2 := skey(t, "a.example", "2")
	p2 := base64.RawStdEncoding.EncodeToString(k2.Public())
	r, err := signing.ParseKeyRing([]byte(`{"a.example":{"ed25519:1":"` + p1 + `=","ed25519:2":{"key":"` + p2 + `","valid_until_ts":5},"curve:x":5,"ed25519:1":"` + p2 + `"}}`))
	if err != nil {
		t.Fatalf("ParseKeyRing: %v", err)
	}
	if pk, ok := r.PublicKey("a.example", "ed25519:1"); !ok || !bytes.Equal(pk.Key, k2.Public()) || pk.ValidUntilTS != 0 {
		t.Errorf("duplicate key ID: last occurrence must count")
	}
	if pk, ok := r.PublicKey("a.example", "ed25519:2"); !ok || pk.ValidUntilTS != 5 {
		t.Errorf("object form: %v %v", pk, ok)
	}
	if _, ok := r.PublicKey("a.example", "curve:x"); ok {
		t.Errorf("other algorithm kept")
	}
	if _, ok := r.PublicKey("b.example", "ed25519:1"); ok {
		t.Errorf("unknown server")
	}
	for _, in := range []string{
		`{"a.example":{"ed25519:2":{"key":"` + p2 + `","valid_until_ts":0}}}`,
		`{"a.example":{"ed25519:2":{"key":"` + p2 + `","valid_until_ts":-1}}}`,
		`{"a.example":{"ed25519:2":{"key":"` + p2 + `","valid_until_ts":1.5}}}`,
		`{"a.example":{"ed25519:":"` + p1 + `"}}`,
		`{"a.example":{":1":"` + p1 + `"}}`,
		`{"a.example":{"ed25519":"` + p1 + `"}}`,
		`{"a.example":{"ed25519:1":"` + p1[:40] + `"}}`,
		`[]`,
	} {
		if _, err := signing.ParseKeyRing([]byte(in)); err == nil {
			t.Errorf("ParseKeyRing(%s) accepted", in)
		}
	}
	r2, err := signing.ParseKeyRing([]byte(`{"a.example":{"ed25519:1":"` + p1 + `"},"a.example":{"ed25519:2":"` + p2 + `"}}`))
	if err != nil {
		t.Fatalf("ParseKeyRing duplicate server: %v", err)
	}
	if _, ok := r2.PublicKey("a.example", "ed25519:1"); ok {
		t.Errorf("duplicate server: last occurrence must count (got the first's key too)")
	}
	if _, ok := r2.PublicKey("a.example", "ed25519:2"); !ok {
		t.Errorf("duplicate server: last occurrence missing")
	}
	if signing.ErrMissingKey != signing.ErrUnknownKey {
		t.Errorf("ErrMissingKey is not ErrUnknownKey")
	}
}

// TestSignJSONClaims checks go doc SignJSON and decisions.md signing 13, 15.
func TestSignJSONClaims(t *testing.T) {
	k := skey(t, "a.example", "1")
	r := ring(t, "a.example", "1")
	in := `{"z":1,"signatures":{"b.example":{"x":5},"c.example":{},"d.example":"\ud800","a.example":{"ed25519:9":"old","ed25519:1":"stale"}},"unsigned":null}`
	out, err := signing.SignJSON([]byte(in), "a.example", k)
	if err != nil {
		t.Fatalf("SignJSON: %v", err)
	}
	sigs := topField(t, out, "signatures")
	for _, want := range []string{`"b.example":{"x":5}`, `"c.example":{}`, `"d.example":"\ud800"`, `"ed25519:9":"old"`} {
		if !strings.Contains(sigs, want) {
			t.Errorf("SignJSON lost %s: %s (signing 13: copied byte for byte)", want, sigs)
		}
	}
	if strings.Contains(sigs, "stale") {
		t.Errorf("same key ID not replaced")
	}
	if topField(t, out, "unsigned") != "null" {
		t.Errorf("unsigned null not kept (signing 15): %s", out)
	}
	if c, _ := canonicaljson.Canonical(out); !bytes.Equal(c, out) {
		t.Errorf("SignJSON output not canonical")
	}
	// The new signature verifies under VerifyJSONServer (other entries are not read).
	verr(t, "VerifyJSONServer after SignJSON", signing.VerifyJSONServer(out, "a.example", r), nil, "")
	// Errors.
	for _, c := range []struct {
		claim, obj, server string
	}{
		{"not an object", `[1]`, "a.example"},
		{"not JSON", `{`, "a.example"},
		{"signatures not an object", `{"signatures":[]}`, "a.example"},
		{"signer's entry not an object", `{"signatures":{"a.example":"x"}}`, "a.example"},
		{"empty server name", `{}`, ""},
		{"server name not UTF-8", `{}`, "a\xff"},
	} {
		_, err := signing.SignJSON([]byte(c.obj), c.server, k)
		verr(t, "SignJSON "+c.claim, err, signing.ErrMalformed, "")
	}
	// SignJSON takes any UTF-8 server name (only events need the grammar).
	if _, err := signing.SignJSON([]byte(`{}`), "not a server name", k); err != nil {
		t.Errorf("SignJSON with a non-grammar name: %v (doc: only empty or not UTF-8 refused)", err)
	}
	// Keys.
	bad := []signing.SigningKey{
		{Version: "", Private: k.Private},
		{Version: "a-b", Private: k.Private},
		{Version: "1", Private: k.Private[:63]},
		{Version: "1", Private: append(slices.Clone(k.Private[:32]), skey(t, "x", "1").Public()...)},
	}
	for i, bk := range bad {
		_, err := signing.SignJSON([]byte(`{}`), "a.example", bk)
		var ke *signing.KeyError
		if !errors.As(err, &ke) {
			t.Errorf("bad key %d: %v, want *KeyError", i, err)
		}
		_, err = signing.SignEvent(claimkit.Ver(t, "10"), mkEvent("10"), "a.example", bk)
		if !errors.As(err, &ke) {
			t.Errorf("SignEvent bad key %d: %v, want *KeyError", i, err)
		}
	}
	hand := signing.SigningKey{Version: "1", Private: slices.Clone(k.Private)}
	if o, err := signing.SignJSON([]byte(`{}`), "a.example", hand); err != nil || signing.VerifyJSON(o, r) != nil {
		t.Errorf("hand-built consistent key: %v", err)
	}
}

// TestVerifyJSONClaims checks go doc VerifyJSON / VerifyJSONServer / HasValidSignature
// and decisions.md signing 14, 17.
func TestVerifyJSONClaims(t *testing.T) {
	ka := skey(t, "a.example", "1")
	r := ring(t, "a.example", "1", "b.example", "1")
	base, _ := signing.SignJSON([]byte(`{"x":1,"unsigned":{"u":1}}`), "a.example", ka)
	sigA := topField(t, base, "signatures")
	inner := strings.TrimSuffix(strings.TrimPrefix(sigA, `{"a.example":`), "}")
	with := func(sigs string) []byte { return setTop(t, base, "signatures", sigs) }
	cases := []struct {
		claim  string
		obj    []byte
		server string // for VerifyJSONServer; "" skips it
		all    error  // VerifyJSON
		one    error  // VerifyJSONServer
		known  string
	}{
		{"valid", base, "a.example", nil, nil, ""},
		{"unsigned changed: not signed", setTop(t, base, "unsigned", `{"u":2}`), "a.example", nil, nil, ""},
		{"content changed", setTop(t, base, "x", `2`), "a.example", signing.ErrBadSignature, signing.ErrBadSignature, ""},
		{"other server's entry not an object", with(`{"a.example":` + inner + `,"c.example":5}`), "a.example", nil, nil, ""},
		{"other server's non-ed25519 key ID any value", with(`{"a.example":` + inner + `,"c.example":{"curve:1":{}}}`), "a.example", nil, nil, ""},
		{"non-ed25519 key ID in own entry", with(`{"a.example":{"ed25519:1":` + strings.TrimSuffix(strings.Split(inner, ":")[2], "}") + `,"foo:1":5}}`), "a.example", nil, nil, ""},
		{"known key's non-string signature: bad", with(`{"a.example":` + inner + `,"b.example":{"ed25519:1":5}}`), "a.example", signing.ErrBadSignature, nil, ""},
		{"unknown key's non-string signature: skipped", with(`{"a.example":` + inner + `,"b.example":{"ed25519:9":5}}`), "a.example", nil, nil, ""},
		{"known key of other server bad: VerifyJSON fails, server check not", with(`{"a.example":` + inner + `,"b.example":{"ed25519:1":"AAAA"}}`), "a.example", signing.ErrBadSignature, nil, ""},
		{"own entry not an object", with(`{"a.example":5}`), "a.example", signing.ErrMissingSignature, signing.ErrMalformed, ""},
		{"signatures not an object", with(`5`), "a.example", signing.ErrMalformed, signing.ErrMalformed, ""},
		{"no signatures at all", setTop(t, base, "signatures", "-"), "a.example", signing.ErrMissingSignature, signing.ErrMissingSignature, ""},
		{"only unknown keys", with(`{"c.example":{"ed25519:1":"AAAA"}}`), "c.example", signing.ErrUnknownKey, signing.ErrUnknownKey, ""},
		{"server has not signed", base, "b.example", nil, signing.ErrMissingSignature, ""},
		{"server entry without ed25519 key ID", with(`{"a.example":` + inner + `,"b.example":{"foo:1":"x"}}`), "b.example", nil, signing.ErrMissingSignature, ""},
		{"not an object", []byte(`[1]`), "a.example", signing.ErrMalformed, signing.ErrMalformed, ""},
	}
	for _, c := range cases {
		t.Run(c.claim, func(t *testing.T) {
			verr(t, "VerifyJSON "+c.claim, signing.VerifyJSON(c.obj, r), c.all, c.known)
			if c.server != "" {
				verr(t, "VerifyJSONServer "+c.claim, signing.VerifyJSONServer(c.obj, c.server, r), c.one, c.known)
			}
		})
	}
	// ErrBadSignature names Server and KeyID.
	ve := verr(t, "bad names", signing.VerifyJSON(setTop(t, base, "x", `2`), r), signing.ErrBadSignature, "")
	if ve != nil && (ve.Server != "a.example" || ve.KeyID != "ed25519:1") {
		t.Errorf("ErrBadSignature Server/KeyID = %q/%q", ve.Server, ve.KeyID)
	}
	// Wrong-length key is unknown (signing 17).
	short := signing.KeyRing{"a.example": {"ed25519:1": {Key: ka.Public()[:31]}}}
	verr(t, "31-byte key: unknown", signing.VerifyJSON(base, short), signing.ErrUnknownKey, "")
	// HasValidSignature / ParseSignedObject.
	ok, err := signing.HasValidSignature(base, ka.Public())
	if !ok || err != nil {
		t.Errorf("HasValidSignature: %v %v", ok, err)
	}
	ok, err = signing.HasValidSignature(with(`{"z.example":{"ed25519:x":"!!"},"a.example":`+inner+`}`), ka.Public())
	if !ok || err != nil {
		t.Errorf("HasValidSignature (any server, non-base64 ignored): %v %v", ok, err)
	}
	ok, err = signing.HasValidSignature(base, skey(t, "b.example", "1").Public())
	if ok || err != nil {
		t.Errorf("HasValidSignature other key: %v %v", ok, err)
	}
	for _, bad := range [][]byte{[]byte(`[1]`), with(`{"a.example":5}`), with(`{"a.example":{"ed25519:1":5}}`), with(`5`)} {
		if _, err := signing.HasValidSignature(bad, ka.Public()); !errors.Is(err, signing.ErrMalformed) {
			t.Errorf("HasValidSignature(%s) err = %v, want ErrMalformed", bad, err)
		}
		if _, err := signing.ParseSignedObject(bad); !errors.Is(err, signing.ErrMalformed) {
			t.Errorf("ParseSignedObject(%s) err = %v, want ErrMalformed", bad, err)
		}
	}
	so, err := signing.ParseSignedObject(base)
	if err != nil || !so.HasValidSignature(ka.Public()) || so.HasValidSignature(skey(t, "b.example", "1").Public()) {
		t.Errorf("SignedObject.HasValidSignature")
	}
}

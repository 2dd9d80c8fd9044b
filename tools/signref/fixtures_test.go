package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// The event fixture tables of the signing package, run through signref.py with
// docs/decisions.md's readings (SIGNREF_DECISIONS=1, which sets VERIFYREF_DECISIONS for the
// verdicts it asks verifyref.py): testdata/signing/hash_cases.json, oracle_events.json,
// spec_vectors.json (event signing), bench_corpus.json and verify_event.json.

type fxSign struct {
	t   *testing.T
	ref *pyref.Process
}

// ask sends req; the answer's "out" as a string ("" when absent), its err kind and kinds.
func (s fxSign) ask(req map[string]any) (out, errKind string, kinds []string) {
	s.t.Helper()
	var a refAns
	if err := s.ref.Ask(req, &a); err != nil {
		s.t.Fatal(err)
	}
	if a.Error != "" {
		s.t.Fatalf("reference error: %s (request %v)", a.Error, req)
	}
	return a.str(), a.Err, a.Kinds
}

// fxSeed is the seed of the signing tests' key "server:version" (signing/helpers_test.go
// testKey): sha256(server) for version 1, else sha256("server:version"), unpadded base64.
func fxSeed(spec string) (server, version, seed string) {
	server, version, ok := strings.Cut(spec, ":")
	if !ok {
		version = "1"
	}
	sum := sha256.Sum256([]byte(server + ":" + version))
	if version == "1" {
		sum = sha256.Sum256([]byte(server))
	}
	return server, version, base64.RawStdEncoding.EncodeToString(sum[:])
}

// sign signs ev as spec ("server:version") with the reference; counter adds the signature
// alone, keeping the event's hashes.
func (s fxSign) sign(v, ev, spec string, counter bool) (string, string) {
	server, kv, seed := fxSeed(spec)
	op := "sign"
	if counter {
		op = "countersign"
	}
	out, e, _ := s.ask(map[string]any{"op": op, "v": v, "ev": ev, "server": server, "seed": seed, "kv": kv})
	return out, e
}

func (s fxSign) public(spec string) string {
	_, kv, seed := fxSeed(spec)
	out, e, _ := s.ask(map[string]any{"op": "new_key", "seed": seed, "kv": kv})
	if e != "" {
		s.t.Fatalf("new_key %s: %s", spec, e)
	}
	return out
}

func fxLoad(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/signing/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// fxSame reports whether two JSON texts hold the same value (numbers compared as written).
func fxSame(a, b string) bool {
	var x, y any
	for _, p := range []struct {
		s string
		v *any
	}{{a, &x}, {b, &y}} {
		d := json.NewDecoder(strings.NewReader(p.s))
		d.UseNumber()
		if d.Decode(p.v) != nil {
			return false
		}
	}
	return reflect.DeepEqual(x, y)
}

// fxSet returns the object text with the given top-level members replaced or added (as the
// signing tests' setFields).
func fxSet(t *testing.T, obj string, fields map[string]json.RawMessage) string {
	t.Helper()
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fxField(t *testing.T, obj, name string) string {
	t.Helper()
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		t.Fatal(err)
	}
	return string(m[name])
}

// fxVerdict is the verdict and error kind (as verifyref names them) of a fixture's sentinel.
func fxVerdict(name string) (verdict, kind string) {
	errs := map[string]error{
		"ErrMalformed": signing.ErrMalformed, "ErrMissingSignature": signing.ErrMissingSignature,
		"ErrUnknownKey": signing.ErrUnknownKey, "ErrKeyExpired": signing.ErrKeyExpired,
		"ErrBadSignature": signing.ErrBadSignature, "ErrNoContentHash": signing.ErrNoContentHash,
		"ErrContentHashMismatch": signing.ErrContentHashMismatch,
	}
	kinds := map[string]string{
		"ErrMalformed": "malformed", "ErrMissingSignature": "missing", "ErrUnknownKey": "unknown",
		"ErrKeyExpired": "expired", "ErrBadSignature": "bad", "ErrNoContentHash": "nohash",
		"ErrContentHashMismatch": "hash",
	}
	if name == "" {
		return signing.VerdictOf(nil).String(), ""
	}
	if errs[name] == nil {
		return "unknown fixture error " + name, ""
	}
	return signing.VerdictOf(errs[name]).String(), kinds[name]
}

func TestFixturesAgree(t *testing.T) {
	pyref.Require(t, "cryptography")
	p, err := pyref.Start(pyref.Beside("signref.py"), "SIGNREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s := fxSign{t, p}
	counts := map[string]int{}

	// hash_cases.json: EventID, ContentHash, ReferenceHash, CheckContentHash.
	var hc []struct {
		Name        string
		Func        string
		RoomVersion string `json:"room_version"`
		Input       json.RawMessage
		InputText   string `json:"input_text"`
		Expect      string
		Error       string
	}
	fxLoad(t, "hash_cases.json", &hc)
	ops := map[string]string{"event_id": "event_id", "content_hash": "content_hash",
		"reference_hash": "ref_hash", "check_content_hash": "check_hash"}
	errNames := map[string]string{"malformed": "ErrMalformed", "nohash": "ErrNoContentHash", "mismatch": "ErrContentHashMismatch"}
	for _, c := range hc {
		in := string(c.Input)
		if c.InputText != "" {
			in = c.InputText
		}
		out, e, _ := s.ask(map[string]any{"op": ops[c.Func], "v": c.RoomVersion, "ev": in})
		got := out
		if e != "" {
			got = "error " + errNames[e]
			if errNames[e] == "" {
				got = "error " + e
			}
		} else if c.Func == "check_content_hash" {
			got = ""
		}
		want := c.Expect
		if c.Error != "" {
			want = "error " + c.Error
		}
		if got != want {
			t.Errorf("hash_cases.json/%s: fixture %q; reference %q", c.Name, want, got)
		}
		counts["hash_cases"]++
	}

	// oracle_events.json: content hash, the event signed by each server in turn, its event ID,
	// and the verdict with the signers' keys.
	var oc []struct {
		Name        string
		RoomVersion string `json:"room_version"`
		Servers     []string
		Input       json.RawMessage
		ContentHash string `json:"content_hash"`
		EventID     string `json:"event_id"`
		Signed      json.RawMessage
	}
	fxLoad(t, "oracle_events.json", &oc)
	for _, c := range oc {
		v := c.RoomVersion
		if h, e, _ := s.ask(map[string]any{"op": "content_hash", "v": v, "ev": string(c.Input)}); h != c.ContentHash {
			t.Errorf("oracle_events.json/%s: content hash: fixture %s; reference %s %s", c.Name, c.ContentHash, h, e)
		}
		signed := string(c.Input)
		keys := map[string]map[string]map[string]any{}
		for _, srv := range c.Servers {
			var e string
			if signed, e = s.sign(v, signed, srv+":1", false); e != "" {
				t.Fatalf("oracle_events.json/%s: signing as %s: %s", c.Name, srv, e)
			}
			keys[srv] = map[string]map[string]any{"ed25519:1": {"key": s.public(srv + ":1"), "vu": nil}}
		}
		if !fxSame(signed, string(c.Signed)) {
			t.Errorf("oracle_events.json/%s: signed event:\nfixture   %s\nreference %s", c.Name, c.Signed, signed)
		}
		if id, e, _ := s.ask(map[string]any{"op": "event_id", "v": v, "ev": string(c.Signed)}); id != c.EventID {
			t.Errorf("oracle_events.json/%s: event ID: fixture %s; reference %s %s", c.Name, c.EventID, id, e)
		}
		if verdict, _, kinds := s.ask(map[string]any{"op": "verify", "v": v, "ev": string(c.Signed), "keys": keys}); verdict != "valid" {
			t.Errorf("oracle_events.json/%s: the signed event is not valid for the reference: %s %v", c.Name, verdict, kinds)
		}
		counts["oracle_events"]++
	}

	// spec_vectors.json, event signing: the spec's signed event in the listed room versions
	// (v1-10); in v11 and v12, whose redaction drops `origin`, the same content hash and
	// another signature.
	var sv struct {
		Seed, Server string
		KeyID        string `json:"key_id"`
		EventSigning []struct {
			Name         string
			RoomVersions []string `json:"room_versions"`
			Input        json.RawMessage
			Expect       json.RawMessage
		} `json:"event_signing"`
	}
	fxLoad(t, "spec_vectors.json", &sv)
	kv := strings.TrimPrefix(sv.KeyID, "ed25519:")
	for _, c := range sv.EventSigning {
		for _, v := range append(slices.Clone(c.RoomVersions), "11", "12") {
			out, e, _ := s.ask(map[string]any{"op": "sign", "v": v, "ev": string(c.Input), "server": sv.Server, "seed": sv.Seed, "kv": kv})
			if e != "" {
				t.Errorf("spec_vectors.json/%s/v%s: reference refuses to sign: %s", c.Name, v, e)
				continue
			}
			counts["spec_vectors event signing"]++
			if slices.Contains(c.RoomVersions, v) {
				if !fxSame(out, string(c.Expect)) {
					t.Errorf("spec_vectors.json/%s/v%s:\nfixture   %s\nreference %s", c.Name, v, c.Expect, out)
				}
				continue
			}
			if !fxSame(fxField(t, out, "hashes"), fxField(t, string(c.Expect), "hashes")) ||
				fxSame(fxField(t, out, "signatures"), fxField(t, string(c.Expect), "signatures")) {
				t.Errorf("spec_vectors.json/%s/v%s: want the same hashes and another signature; reference %s", c.Name, v, out)
			}
		}
	}

	// bench_corpus.json: every event's ID, and every event valid with the corpus keys.
	var bc struct {
		RoomVersion string `json:"room_version"`
		Keys        map[string]map[string]string
		Events      []json.RawMessage
		EventIDs    []string `json:"event_ids"`
	}
	fxLoad(t, "bench_corpus.json", &bc)
	bkeys := map[string]map[string]map[string]any{}
	for srv, ks := range bc.Keys {
		bkeys[srv] = map[string]map[string]any{}
		for kid, k := range ks {
			bkeys[srv][kid] = map[string]any{"key": k, "vu": nil}
		}
	}
	for i, ev := range bc.Events {
		if id, e, _ := s.ask(map[string]any{"op": "event_id", "v": bc.RoomVersion, "ev": string(ev)}); id != bc.EventIDs[i] {
			t.Errorf("bench_corpus.json event %d: event ID: fixture %s; reference %s %s", i, bc.EventIDs[i], id, e)
		}
		if verdict, _, kinds := s.ask(map[string]any{"op": "verify", "v": bc.RoomVersion, "ev": string(ev), "keys": bkeys}); verdict != "valid" {
			t.Errorf("bench_corpus.json event %d: the reference says %s %v", i, verdict, kinds)
		}
		counts["bench_corpus"]++
	}

	// verify_event.json: the event signed as the listed servers (with the reference), changed
	// as listed, then judged with the listed keys: the reference's verdict must be the one of
	// the fixture's error, and its kinds must include the fixture's. The server and key ID the
	// fixture names (error_server, error_key) are not expressed by the reference.
	var ve []struct {
		Name        string
		RoomVersion string `json:"room_version"`
		Event       json.RawMessage
		Sign        []string
		KeepHashes  bool `json:"keep_hashes"`
		Keys        map[string]map[string]struct {
			Of           string `json:"of"`
			ValidUntilTS int64  `json:"valid_until_ts"`
		}
		Tamper map[string]json.RawMessage
		Error  string
	}
	fxLoad(t, "verify_event.json", &ve)
	for _, c := range ve {
		v := c.RoomVersion
		event := string(c.Event)
		for _, spec := range c.Sign {
			var e string
			if event, e = s.sign(v, event, spec, c.KeepHashes); e != "" {
				t.Fatalf("verify_event.json/%s: the reference refuses to sign as %s: %s", c.Name, spec, e)
			}
		}
		if c.Tamper != nil {
			event = fxSet(t, event, c.Tamper)
		}
		keys := map[string]map[string]map[string]any{}
		for srv, ks := range c.Keys {
			keys[srv] = map[string]map[string]any{}
			for kid, k := range ks {
				of := k.Of
				if of == "" {
					of = srv + ":" + strings.TrimPrefix(kid, "ed25519:")
				}
				var vu any
				if k.ValidUntilTS != 0 {
					vu = k.ValidUntilTS
				}
				keys[srv][kid] = map[string]any{"key": s.public(of), "vu": vu}
			}
		}
		verdict, _, kinds := s.ask(map[string]any{"op": "verify", "v": v, "ev": event, "keys": keys})
		wantVerdict, wantKind := fxVerdict(c.Error)
		if verdict != wantVerdict || (wantKind != "" && !slices.Contains(kinds, wantKind)) {
			t.Errorf("verify_event.json/%s (v%s): fixture %s (%s/%s); reference %s/%s", c.Name, v, c.Error,
				wantVerdict, wantKind, verdict, strings.Join(kinds, "|"))
		}
		counts["verify_event"]++
	}

	min := map[string]int{"hash_cases": 14, "oracle_events": 50, "spec_vectors event signing": 24,
		"bench_corpus": 18, "verify_event": 55}
	for k, n := range min {
		if counts[k] < n {
			t.Errorf("%s: %d cases compared, want at least %d", k, counts[k], n)
		}
	}
	t.Logf("compared: %s", fmt.Sprint(counts))
}

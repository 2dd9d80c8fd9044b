package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// The fixture tables of the signing package that keysref expresses, run through it with
// docs/decisions.md's readings (KEYSREF_DECISIONS=1): testdata/signing/spec_vectors.json (JSON
// signing), verify_json.json, key_rings.json and signing_keys.json.

type fxKeys struct {
	t   *testing.T
	ref *pyref.Process
}

func (k fxKeys) ask(req refReq) refAns {
	k.t.Helper()
	var a refAns
	if err := k.ref.Ask(req, &a); err != nil {
		k.t.Fatal(err)
	}
	if a.Error != "" {
		k.t.Fatalf("reference error: %s", a.Error)
	}
	return a
}

// ring is the reference's reading of a key ring text (op parse_ring), as the key map its other
// ops take (padded base64 keys), or the reference's outcome when it refuses the ring.
func (k fxKeys) ring(text []byte) (map[string]map[string]string, string) {
	a := k.ask(refReq{Op: "parse_ring", TextB64: b64std(text)})
	if !strings.HasPrefix(a.Out, "ok ") {
		return nil, a.Out
	}
	var parsed map[string]map[string][2]any
	if err := json.Unmarshal([]byte(a.Out[3:]), &parsed); err != nil {
		k.t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for srv, ks := range parsed {
		out[srv] = map[string]string{}
		for kid, v := range ks {
			raw, err := base64.RawStdEncoding.DecodeString(v[0].(string))
			if err != nil {
				k.t.Fatal(err)
			}
			out[srv][kid] = b64std(raw)
		}
	}
	return out, ""
}

func loadSigningFixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/signing/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// sameJSONValue reports whether two JSON texts hold the same value (numbers compared as written).
func sameJSONValue(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	for _, p := range []struct {
		b []byte
		v *any
	}{{a, &x}, {b, &y}} {
		d := json.NewDecoder(strings.NewReader(string(p.b)))
		d.UseNumber()
		if err := d.Decode(p.v); err != nil {
			return false
		}
	}
	return reflect.DeepEqual(x, y)
}

var fxErrOut = map[string]string{ // fixture sentinel -> keysref outcome of verify
	"": "valid", "ErrMalformed": "err malformed", "ErrMissingSignature": "err missing",
	"ErrUnknownKey": "err unknown", "ErrBadSignature": "err bad",
}

func TestFixturesAgree(t *testing.T) {
	pyref.Require(t, "cryptography")
	p, err := pyref.Start(pyref.Beside("keysref.py"), "KEYSREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	k := fxKeys{t, p}

	// spec_vectors.json, JSON signing: sign_json of the input gives the spec's object, which
	// verifies (verify and verify_server) with the spec's key.
	var sv struct {
		Seed, Server string
		KeyID        string `json:"key_id"`
		JSONSigning  []struct {
			Name   string
			Input  json.RawMessage
			Expect json.RawMessage
		} `json:"json_signing"`
	}
	loadSigningFixture(t, "spec_vectors.json", &sv)
	seed, err := base64.RawStdEncoding.DecodeString(sv.Seed)
	if err != nil {
		t.Fatal(err)
	}
	version, _ := strings.CutPrefix(sv.KeyID, "ed25519:")
	pub := k.ask(refReq{Op: "new_key", Seed: b64std(seed), Version: version}).Out
	pubRaw, _ := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(pub, "ok "))
	specRing := map[string]map[string]string{sv.Server: {sv.KeyID: b64std(pubRaw)}}
	vectors := 0
	for _, c := range sv.JSONSigning {
		vectors++
		a := k.ask(refReq{Op: "sign", ObjB64: b64std(c.Input), Server: sv.Server, Version: version, Seed: b64std(seed)})
		if !strings.HasPrefix(a.Out, "ok ") || !sameJSONValue(t, []byte(a.Out[3:]), c.Expect) {
			t.Errorf("spec_vectors.json/%s: fixture %s; reference %s", c.Name, c.Expect, a.Out)
		}
		for _, op := range []string{"verify", "verify_server"} {
			if a := k.ask(refReq{Op: op, ObjB64: b64std(c.Expect), Server: sv.Server, Keys: specRing}); a.Out != "valid" {
				t.Errorf("spec_vectors.json/%s: %s of the expected object: %s (%s)", c.Name, op, a.Out, a.Why)
			}
		}
	}

	// verify_json.json: VerifyJSON with the CLI `verify` semantics; the key ring is read by the
	// reference too.
	var vj []struct {
		Name      string
		Input     json.RawMessage
		InputText string `json:"input_text"`
		Keys      json.RawMessage
		Error     string
	}
	loadSigningFixture(t, "verify_json.json", &vj)
	for _, c := range vj {
		in := []byte(c.Input)
		if c.InputText != "" {
			in = []byte(c.InputText)
		}
		ring, refused := k.ring(c.Keys)
		if refused != "" {
			t.Errorf("verify_json.json/%s: the reference refuses the key ring: %s", c.Name, refused)
			continue
		}
		want, ok := fxErrOut[c.Error]
		if !ok {
			t.Fatalf("verify_json.json/%s: unknown error %q", c.Name, c.Error)
		}
		if a := k.ask(refReq{Op: "verify", ObjB64: b64std(in), Keys: ring}); a.Out != want {
			t.Errorf("verify_json.json/%s: fixture %s; reference %s (%s)", c.Name, want, a.Out, a.Why)
		}
	}

	// key_rings.json: ParseKeyRing.
	var kr []struct {
		Name   string
		Input  json.RawMessage
		Expect map[string]map[string]struct {
			Key          string `json:"key"`
			ValidUntilTS int64  `json:"valid_until_ts"`
		}
		Error bool
	}
	loadSigningFixture(t, "key_rings.json", &kr)
	for _, c := range kr {
		a := k.ask(refReq{Op: "parse_ring", TextB64: b64std(c.Input)})
		want := "err"
		if !c.Error {
			exp := map[string]map[string][2]any{}
			for srv, ks := range c.Expect {
				exp[srv] = map[string][2]any{}
				for kid, v := range ks {
					exp[srv][kid] = [2]any{v.Key, v.ValidUntilTS}
				}
			}
			b, _ := json.Marshal(exp)
			want = "ok " + string(b)
		}
		if want == "err" && a.Out == "err" {
			continue
		}
		if want == "err" || !strings.HasPrefix(a.Out, "ok ") || !sameJSONValue(t, []byte(want[3:]), []byte(a.Out[3:])) {
			t.Errorf("key_rings.json/%s: fixture %s; reference %s (%s)", c.Name, want, a.Out, a.Why)
		}
	}

	// signing_keys.json: ParseSigningKey, then the key ID and public key of the key read.
	var sk []struct {
		Name   string
		Input  string
		KeyID  string `json:"key_id"`
		Public string
		Error  bool
	}
	loadSigningFixture(t, "signing_keys.json", &sk)
	for _, c := range sk {
		a := k.ask(refReq{Op: "parse_key", TextB64: b64std([]byte(c.Input))})
		got := a.Out
		if f := strings.Fields(a.Out); len(f) == 3 && f[0] == "ok" {
			seed, err := base64.RawStdEncoding.DecodeString(f[2])
			if err != nil {
				t.Fatal(err)
			}
			p := k.ask(refReq{Op: "new_key", Seed: b64std(seed), Version: f[1]})
			got = "ok ed25519:" + f[1] + " " + strings.TrimPrefix(p.Out, "ok ")
		}
		want := "err"
		if !c.Error {
			want = "ok " + c.KeyID + " " + c.Public
		}
		if got != want {
			t.Errorf("signing_keys.json/%s: fixture %s; reference %s (%s)", c.Name, want, got, a.Why)
		}
	}
	if vectors < 2 || len(vj) < 25 || len(kr) < 20 || len(sk) < 25 {
		t.Errorf("compared %d JSON signing vectors, %d verify_json, %d key_rings, %d signing_keys cases: want at least 2, 25, 20, 25",
			vectors, len(vj), len(kr), len(sk))
	}
	t.Logf("agree: %d JSON signing vectors, %d verify_json, %d key_rings, %d signing_keys cases", vectors, len(vj), len(kr), len(sk))
}

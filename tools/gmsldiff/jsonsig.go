package main

// Area jsonsig: signing JSON objects. signing.SignJSON against GMSL SignJSON (byte equality), then
// signing.VerifyJSONServer / VerifyJSON against GMSL VerifyJSON on mutated signed objects.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var jsonsigArea = &Area{
	Name:     "jsonsig",
	Title:    "signing.SignJSON / VerifyJSONServer / VerifyJSON vs GMSL SignJSON / VerifyJSON",
	Unit:     "random objects, each signed, then verified after ~32 mutations, two ways",
	DefaultN: 4000,
	Run:      runJSONSig,
	Classes: []*Class{
		{ID: "J1-padded-signature", Cat: GMSLDeparts, Desc: "a signature written with = padding: roomproto accepts it, GMSL refuses (RawStdEncoding only)",
			Spec: "appendices.md \"Unpadded Base64\": \"SHOULD accept input with or without padding characters wherever possible\"; decisions.md (signing) 1"},
		{ID: "J2-malformed-other-signature-voids", Cat: GMSLDeparts, Desc: "a malformed signature (bad base64, not a string) or entry (not an object) of another server, or of an unknown algorithm, makes GMSL refuse a valid signature (it decodes the whole signatures map first)",
			Spec: "appendices.md \"Checking for a Signature\" steps 1-2: only the entity's entry counts, unknown algorithms are removed before decoding"},
		{ID: "J3-whitespace-in-signature", Cat: GMSLDeparts, Desc: "a line break inside the signature: GMSL's decoder skips it and accepts, roomproto refuses",
			Spec: "RFC 4648 alphabet (appendices.md \"Unpadded Base64\"); decisions.md (signing) 1 \"Line breaks ... are refused\""},
	},
}

func randValue(r *rand.Rand, depth int) any {
	switch k := r.Intn(10); {
	case k < 3:
		return difftool.Pick(r, "", "x", "hello world", "é€😀", "a\"b\\c", "\u0001ctl", "<html>&")
	case k < 5:
		return difftool.Pick[any](r, 0, 1, -1, 42, 9007199254740991, -9007199254740991, 1700000000000)
	case k == 5:
		return difftool.Pick[any](r, true, false, nil)
	case k < 8 && depth < 3:
		return randObj(r, depth+1)
	case depth < 3:
		a := make([]any, r.Intn(4))
		for i := range a {
			a[i] = randValue(r, depth+1)
		}
		return a
	}
	return "leaf"
}

func randObj(r *rand.Rand, depth int) M {
	m := M{}
	for i := r.Intn(5); i > 0; i-- {
		k := difftool.Pick(r, "a", "b", "one", "two", "content", "origin", "é", "😀", "A", "z", "signatures", "unsigned", "key")
		if depth == 0 && (k == "signatures" || k == "unsigned") {
			continue
		}
		m[k] = randValue(r, depth)
	}
	return m
}

// jsonsigExpected maps a verify mutation and the pair of verdicts to its class.
var jsonsigExpected = map[[3]string]string{
	{"padded base64 signature", "valid", "invalid"}:                              "J1-padded-signature",
	{"other server: malformed base64 signature", "valid", "invalid"}:             "J2-malformed-other-signature-voids",
	{"other server: padded signature", "valid", "invalid"}:                       "J2-malformed-other-signature-voids",
	{"same server: extra non-ed25519 algorithm, bad base64", "valid", "invalid"}: "J2-malformed-other-signature-voids",
	{"other server: entry not an object", "valid", "invalid"}:                    "J2-malformed-other-signature-voids",
	{"other server: signature is int", "valid", "invalid"}:                       "J2-malformed-other-signature-voids",
	{"signature with whitespace", "invalid", "valid"}:                            "J3-whitespace-in-signature",
}

func okStr(err error) string {
	if err == nil {
		return "valid"
	}
	return "invalid"
}

func runJSONSig(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	other := authgen.KeyFor("other.test", "9")
	for i := 0; i < n; i++ {
		ver := difftool.Pick(r, "1", "abc", "a_b", "0", "AAAA")
		server := difftool.Pick(r, "s.test", "s.test:8448", "[::1]:8448")
		sk := authgen.KeyFor(server, ver)
		keyID := sk.KeyID()
		obj := randObj(r, 0)
		if r.Intn(3) == 0 {
			obj["unsigned"] = difftool.Pick[any](r, M{"age": 5}, M{"x": M{"y": 1}}, "str", 5, nil, []any{1})
		}
		if r.Intn(3) == 0 {
			o2, _ := signing.SignJSON(difftool.Enc(obj), "other.test", other)
			obj = difftool.Decode(o2)
		}
		if r.Intn(6) == 0 {
			obj["signatures"] = difftool.Pick[any](r, M{server: M{keyID: "AAAA"}}, M{server: M{"ed25519:zz": "AAAA"}}, M{"x.test": M{}}, M{})
		}
		raw := difftool.Enc(obj)
		rpOut, rpErr := signing.SignJSON(raw, server, sk)
		gOut, gErr := gmsl.SignJSON(server, gmsl.KeyID(keyID), sk.Private, raw)
		switch {
		case (rpErr == nil) != (gErr == nil):
			t.Diverge("", "SignJSON: one side fails", fmt.Sprintf("%s\nroomproto: %v\nGMSL: %v", raw, rpErr, gErr))
			continue
		case rpErr != nil:
			t.Agree()
			continue
		case !bytes.Equal(rpOut, gOut):
			t.Diverge("", "SignJSON output differs", fmt.Sprintf("%s\nroomproto: %s\nGMSL: %s", raw, rpOut, gOut))
		default:
			t.Agree()
		}
		pub := sk.Public()
		ring := signing.KeyRing{server: {keyID: signing.PublicKey{Key: pub}}}
		for _, mu := range verifyMutations() {
			mraw, ok := mu.f(difftool.Decode(rpOut), rpOut, server, keyID)
			if !ok {
				continue
			}
			compare := func(how string, rpErr, gErr error) {
				rv, gv := okStr(rpErr), okStr(gErr)
				if rv == gv {
					t.Agree()
					return
				}
				cls := jsonsigExpected[[3]string{mu.name, rv, gv}]
				t.Diverge(cls, fmt.Sprintf("%s | %s: rp=%s gmsl=%s", how, mu.name, rv, gv),
					fmt.Sprintf("%s (%s, server %s, key %s): %s\nroomproto: %v\nGMSL: %v", mu.name, how, server, keyID, mraw, rpErr, gErr))
			}
			// One key: VerifyJSONServer vs GMSL VerifyJSON.
			compare("one key", signing.VerifyJSONServer(mraw, server, ring), gmsl.VerifyJSON(server, gmsl.KeyID(keyID), pub, mraw))
			// Every known key (roomproto's VerifyJSON contract), GMSL VerifyJSON in a loop.
			compare("all known keys", signing.VerifyJSON(mraw, ring), gmslVerifyAll(mraw, ring))
		}
	}
}

// gmslVerifyAll: valid iff there is a signature by a known key and every known-key signature
// verifies with GMSL's VerifyJSON.
func gmslVerifyAll(raw []byte, ring signing.KeyRing) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return err
	}
	var sigs map[string]map[string]json.RawMessage
	if err := json.Unmarshal(top["signatures"], &sigs); err != nil {
		return err
	}
	n := 0
	for _, srv := range difftool.SortedKeys(sigs) {
		for _, kid := range difftool.SortedKeys(sigs[srv]) {
			pk, ok := ring.PublicKey(srv, kid)
			if !ok {
				continue
			}
			n++
			if err := gmsl.VerifyJSON(srv, gmsl.KeyID(kid), pk.Key, raw); err != nil {
				return err
			}
		}
	}
	if n == 0 {
		return errors.New("no signature by a known key")
	}
	return nil
}

type verifyMut struct {
	name string
	f    func(m M, signed []byte, server, keyID string) ([]byte, bool)
}

func sigOf(m M, server, keyID string) string {
	s, _ := m["signatures"].(M)
	ss, _ := s[server].(M)
	v, _ := ss[keyID].(string)
	return v
}

func setSig(m M, server, keyID string, v any) {
	s, _ := m["signatures"].(M)
	ss, _ := s[server].(M)
	ss[keyID] = v
}

func verifyMutations() []verifyMut {
	std2url := strings.NewReplacer("+", "-", "/", "_")
	sigs := func(m M) M { return m["signatures"].(M) }
	return []verifyMut{
		{"none", func(m M, b []byte, s, k string) ([]byte, bool) { return b, true }},
		{"non-canonical input (indented)", func(m M, b []byte, s, k string) ([]byte, bool) {
			var out bytes.Buffer
			json.Indent(&out, b, "", "  ")
			return out.Bytes(), true
		}},
		{"add unsigned", func(m M, b []byte, s, k string) ([]byte, bool) {
			m["unsigned"] = M{"age": 1}
			return difftool.Enc(m), true
		}},
		{"change unsigned to non-object", func(m M, b []byte, s, k string) ([]byte, bool) { m["unsigned"] = 5; return difftool.Enc(m), true }},
		{"change a signed value", func(m M, b []byte, s, k string) ([]byte, bool) { m["zzz_added"] = 1; return difftool.Enc(m), true }},
		{"remove signatures", func(m M, b []byte, s, k string) ([]byte, bool) { delete(m, "signatures"); return difftool.Enc(m), true }},
		{"signatures=null", func(m M, b []byte, s, k string) ([]byte, bool) { m["signatures"] = nil; return difftool.Enc(m), true }},
		{"signatures=array", func(m M, b []byte, s, k string) ([]byte, bool) {
			m["signatures"] = []any{}
			return difftool.Enc(m), true
		}},
		{"padded base64 signature", func(m M, b []byte, s, k string) ([]byte, bool) {
			setSig(m, s, k, sigOf(m, s, k)+"==")
			return difftool.Enc(m), true
		}},
		{"URL-safe base64 signature", func(m M, b []byte, s, k string) ([]byte, bool) {
			sig := sigOf(m, s, k)
			u := std2url.Replace(sig)
			setSig(m, s, k, u)
			return difftool.Enc(m), u != sig
		}},
		{"signature with whitespace", func(m M, b []byte, s, k string) ([]byte, bool) {
			sig := sigOf(m, s, k)
			setSig(m, s, k, sig[:10]+"\n"+sig[10:])
			return difftool.Enc(m), true
		}},
		{"truncated signature", func(m M, b []byte, s, k string) ([]byte, bool) {
			sig := sigOf(m, s, k)
			setSig(m, s, k, sig[:len(sig)-4])
			return difftool.Enc(m), true
		}},
		{"signature not base64", func(m M, b []byte, s, k string) ([]byte, bool) { setSig(m, s, k, "!!!!"); return difftool.Enc(m), true }},
		{"signature is int", func(m M, b []byte, s, k string) ([]byte, bool) { setSig(m, s, k, 5); return difftool.Enc(m), true }},
		{"flip a signature bit", func(m M, b []byte, s, k string) ([]byte, bool) {
			raw, _ := base64.RawStdEncoding.DecodeString(sigOf(m, s, k))
			raw[5] ^= 1
			setSig(m, s, k, difftool.B64(raw))
			return difftool.Enc(m), true
		}},
		{"other server: malformed base64 signature", func(m M, b []byte, s, k string) ([]byte, bool) {
			sigs(m)["other2.test"] = M{"ed25519:1": "!!!!"}
			return difftool.Enc(m), true
		}},
		{"other server: padded signature", func(m M, b []byte, s, k string) ([]byte, bool) {
			sigs(m)["other2.test"] = M{"ed25519:1": "AAAA=="}
			return difftool.Enc(m), true
		}},
		{"other server: signature is int", func(m M, b []byte, s, k string) ([]byte, bool) {
			sigs(m)["other2.test"] = M{"ed25519:1": 5}
			return difftool.Enc(m), true
		}},
		{"other server: entry not an object", func(m M, b []byte, s, k string) ([]byte, bool) {
			sigs(m)["other2.test"] = "x"
			return difftool.Enc(m), true
		}},
		{"same server: extra unknown ed25519 key", func(m M, b []byte, s, k string) ([]byte, bool) {
			setSig(m, s, "ed25519:unknown", "AAAA")
			return difftool.Enc(m), true
		}},
		{"same server: extra non-ed25519 algorithm", func(m M, b []byte, s, k string) ([]byte, bool) {
			setSig(m, s, "curve25519:x", "AAAA")
			return difftool.Enc(m), true
		}},
		{"same server: extra non-ed25519 algorithm, bad base64", func(m M, b []byte, s, k string) ([]byte, bool) {
			setSig(m, s, "rsa:x", "!!")
			return difftool.Enc(m), true
		}},
		{"key ID renamed (unknown key)", func(m M, b []byte, s, k string) ([]byte, bool) {
			sigs(m)[s] = M{"ed25519:renamed": sigOf(m, s, k)}
			return difftool.Enc(m), true
		}},
		{"key ID algorithm uppercased", func(m M, b []byte, s, k string) ([]byte, bool) {
			sigs(m)[s] = M{"ED25519:" + strings.TrimPrefix(k, "ed25519:"): sigOf(m, s, k)}
			return difftool.Enc(m), true
		}},
		{"signed by another key under the same key ID", func(m M, b []byte, s, k string) ([]byte, bool) {
			impostor := authgen.KeyFor("impostor", strings.TrimPrefix(k, "ed25519:"))
			delete(m, "signatures")
			out, err := signing.SignJSON(difftool.Enc(m), s, impostor)
			return out, err == nil
		}},
		{"server name differs only by case", func(m M, b []byte, s, k string) ([]byte, bool) {
			v := sigs(m)[s]
			delete(sigs(m), s)
			sigs(m)[strings.ToUpper(s)] = v
			return difftool.Enc(m), true
		}},
		{"nested signatures changed", func(m M, b []byte, s, k string) ([]byte, bool) {
			m["content"] = M{"signatures": M{s: M{k: "x"}}}
			return difftool.Enc(m), true
		}},
		{"duplicate top-level key (raw)", func(m M, b []byte, s, k string) ([]byte, bool) {
			return append([]byte(`{"dup":1,"dup":2,`), b[1:]...), true
		}},
		{"duplicate signatures key (raw, second empty)", func(m M, b []byte, s, k string) ([]byte, bool) {
			return append(append([]byte{}, b[:len(b)-1]...), `,"signatures":{}}`...), true
		}},
		{"duplicate signatures key (raw, first empty)", func(m M, b []byte, s, k string) ([]byte, bool) {
			return append([]byte(`{"signatures":{},`), b[1:]...), true
		}},
		{"float value added after signing", func(m M, b []byte, s, k string) ([]byte, bool) {
			return append([]byte(`{"zzf":1.0,`), b[1:]...), true
		}},
		{`escaped key \u0061 equals existing 'a'`, func(m M, b []byte, s, k string) ([]byte, bool) {
			if _, ok := m["a"]; !ok {
				return nil, false
			}
			return bytes.Replace(b, []byte(`"a":`), []byte(`"\u0061":`), 1), true
		}},
		{"top-level not an object", func(m M, b []byte, s, k string) ([]byte, bool) {
			return append(append([]byte("["), b...), ']'), true
		}},
	}
}

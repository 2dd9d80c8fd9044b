package main

// Area verify: signed objects (signed by roomproto, which area sign checks against
// signedjson), then mutated, verified by signing.VerifyJSONServer / VerifyJSON and by
// Synapse's Keyring logic over signedjson.sign.verify_signed_json.

import (
	"crypto/ed25519"
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var verifyClasses = []*Class{
	{ID: "V1-base64-beyond-rfc4648", Cat: OracleDeparts,
		Desc: "a signature with characters outside the base64 alphabet (space, line break, '!', '=' inside) or excess '=' padding: Python's b64decode (validate=False) skips them and accepts, roomproto refuses",
		Spec: "appendices.md \"Unpadded Base64\": \"'standard' Base64 encoding as defined in RFC 4648\" (RFC 4648 section 3.3: such characters MUST be rejected unless the referring spec says otherwise); decisions.md (signing) 1"},
	{ID: "V2-message-float-repr", Cat: SpecSilent,
		Desc: "a float in the signed object: the signed bytes differ as in class P1 (Python's float repr), so roomproto's signature fails in Synapse",
		Spec: "as P1: appendices.md \"Canonical JSON\"; decisions.md (canonicaljson) 10"},
	{ID: "V3-message-lone-surrogate", Cat: SpecSilent,
		Desc: "an unpaired surrogate in the signed object: Python cannot encode the message, so Synapse refuses; roomproto verifies its \\udxxx form",
		Spec: "as P4: decisions.md (canonicaljson) 12"},
	{ID: "V4-message-int-too-long", Cat: SpecSilent,
		Desc: "an integer of more than 4300 digits in the signed object: Python cannot read the message (as class P3), so Synapse refuses; roomproto verifies it",
		Spec: "as P3: decisions.md (canonicaljson) 10"},
}

var verifyArea = &Area{
	Name:     "verify",
	Title:    "signing.VerifyJSONServer / VerifyJSON vs Synapse's Keyring over signedjson.verify_signed_json",
	Unit:     "signed objects, each verified after about 45 mutations, two ways",
	DefaultN: 400,
	Classes:  verifyClasses,
	Run:      runVerify,
}

// vctx is one signed object and what verifies it.
type vctx struct {
	signed []byte // canonical, signed by key (and maybe key2)
	server string
	keyID  string
	sig    string // the signature text of key
	ring   map[string]map[string][]byte
	priv   ed25519.PrivateKey
	priv2  ed25519.PrivateKey
}

// setSig replaces the signature text of key in the signed object.
func (c *vctx) setSig(s string) []byte {
	return []byte(strings.Replace(string(c.signed), `"`+c.sig+`"`, s, 1))
}

// addSig adds a member to signatures[server] (or, with other, a server entry).
func (c *vctx) addToServer(member string) []byte {
	return []byte(strings.Replace(string(c.signed), `"`+c.keyID+`":"`+c.sig+`"`, member+`,"`+c.keyID+`":"`+c.sig+`"`, 1))
}

func (c *vctx) addServer(member string) []byte {
	return []byte(strings.Replace(string(c.signed), `"signatures":{`, `"signatures":{`+member+`,`, 1))
}

func (c *vctx) addTop(member string) []byte {
	return []byte("{" + member + "," + string(c.signed[1:]))
}

type vmut struct {
	name string
	f    func(c *vctx, r *rand.Rand) ([]byte, map[string]map[string][]byte)
}

func sigMut(f func(s string) string) func(*vctx, *rand.Rand) ([]byte, map[string]map[string][]byte) {
	return func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) { return c.setSig(f(c.sig)), nil }
}

func insertAt(s string, i int, x string) string { return s[:i] + x + s[i:] }

var b64alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var verifyMutations = []vmut{
	{"as signed", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) { return c.signed, nil }},
	{"re-encoded with whitespace", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return []byte(" " + strings.ReplaceAll(strings.Replace(string(c.signed), "{", "{ ", 1), `,"signatures"`, " ,\n\t\"signatures\"") + "\r\n"), nil
	}},
	{"signatures key escaped", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return []byte(strings.Replace(string(c.signed), `"signatures"`, `"\u0073ignatures"`, 1)), nil
	}},
	{"unsigned added (object)", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addTop(`"unsigned":{"age":1}`), nil
	}},
	{"unsigned added (string)", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addTop(`"unsigned":"x"`), nil
	}},
	{"unsigned added (null)", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addTop(`"unsigned":null`), nil
	}},
	{"member added", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addTop(`"zz_added":1`), nil
	}},
	{"duplicate signatures member, bogus first", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addTop(`"signatures":{"` + c.server + `":{"` + c.keyID + `":"AAAA"}}`), nil
	}},
	{"duplicate signatures member, bogus last", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		s := string(c.signed)
		return []byte(s[:len(s)-1] + `,"signatures":{"` + c.server + `":{"` + c.keyID + `":"AAAA"}}}`), nil
	}},
	{"padded signature (==)", sigMut(func(s string) string { return `"` + s + `=="` })},
	{"padded signature (=)", sigMut(func(s string) string { return `"` + s + `="` })},
	{"excess padding (===)", sigMut(func(s string) string { return `"` + s + `==="` })},
	{"URL-safe alphabet", sigMut(func(s string) string {
		return `"` + strings.NewReplacer("+", "-", "/", "_").Replace(s) + `"`
	})},
	{"mixed alphabets", sigMut(func(s string) string {
		i := strings.IndexAny(s, "+/")
		if i < 0 {
			return `"` + s + `"`
		}
		return `"` + s[:i] + strings.NewReplacer("+", "-", "/", "_").Replace(s[i:i+1]) + s[i+1:] + `"`
	})},
	{"unused trailing bits set", sigMut(func(s string) string {
		last := strings.IndexByte(b64alpha, s[len(s)-1])
		return `"` + s[:len(s)-1] + string(b64alpha[last|0x0f]) + `"`
	})},
	{"space inside", sigMut(func(s string) string { return `"` + insertAt(s, 10, " ") + `"` })},
	{"line break inside", sigMut(func(s string) string { return `"` + insertAt(s, 10, `\n`) + `"` })},
	{"tab at the end", sigMut(func(s string) string { return `"` + s + `\t"` })},
	{"'!' inside", sigMut(func(s string) string { return `"` + insertAt(s, 20, "!") + `"` })},
	{"'=' inside", sigMut(func(s string) string { return `"` + insertAt(s, 20, "=") + `"` })},
	{"truncated by one character", sigMut(func(s string) string { return `"` + s[:len(s)-1] + `"` })},
	{"one character added", sigMut(func(s string) string { return `"` + s + `A"` })},
	{"two characters added", sigMut(func(s string) string { return `"` + s + `AA"` })},
	{"four characters added", sigMut(func(s string) string { return `"` + s + `AAAA"` })},
	{"signature is a number", sigMut(func(string) string { return `5` })},
	{"signature is null", sigMut(func(string) string { return `null` })},
	{"signature is empty", sigMut(func(string) string { return `""` })},
	{"signature escaped (\\u0041 style)", sigMut(func(s string) string { return `"\u00` + fmt.Sprintf("%x", s[0]) + s[1:] + `"` })},
	{"server entry not an object", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return []byte(strings.Replace(string(c.signed), `"`+c.server+`":{"`+c.keyID+`":"`+c.sig+`"}`, `"`+c.server+`":["`+c.sig+`"]`, 1)), nil
	}},
	{"signatures not an object", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		s := string(c.signed)
		i := strings.Index(s, `"signatures":`)
		return []byte(s[:i] + `"signatures":[]}`), nil
	}},
	{"signatures removed", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		s := string(c.signed)
		i := strings.Index(s, `"signatures":`)
		if i > 1 {
			return []byte(s[:i-1] + "}"), nil
		}
		return []byte("{}"), nil
	}},
	{"other server, valid signature by an unknown key", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addServer(`"other.test":{"ed25519:1":"` + c.sig + `"}`), nil
	}},
	{"other server: entry not an object", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addServer(`"other.test":5`), nil
	}},
	{"other server: signature is a number", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addServer(`"other.test":{"ed25519:1":5}`), nil
	}},
	{"other server: bad base64", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addServer(`"other.test":{"ed25519:1":"!!"}`), nil
	}},
	{"same server: unknown key, bad base64", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addToServer(`"ed25519:zz":"!!"`), nil
	}},
	{"same server: other algorithm, number", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addToServer(`"curve25519:1":5`), nil
	}},
	{"same server: key ID 'ed25519' without a version", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addToServer(`"ed25519":"AAAA"`), nil
	}},
	{"key ID in upper case", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return []byte(strings.Replace(string(c.signed), `"`+c.keyID+`"`, `"`+strings.ToUpper(c.keyID[:7])+c.keyID[7:]+`"`, 1)), nil
	}},
	{"only an unknown key signed", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return []byte(strings.Replace(string(c.signed), `"`+c.keyID+`"`, `"ed25519:unknown"`, 1)), nil
	}},
	{"second known key, valid signature", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		out, err := signing.SignJSON(c.signed, c.server, signing.SigningKey{Version: "two", Private: c.priv2})
		if err != nil {
			panic(err) // invariant: an object the harness signed already
		}
		return out, c.ringWith2()
	}},
	{"second known key, bad signature", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.addToServer(`"ed25519:two":"` + c.sig + `"`), c.ringWith2()
	}},
	{"second known key, not signed by it", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		return c.signed, c.ringWith2()
	}},
	{"known key of another server signed validly too", func(c *vctx, _ *rand.Rand) ([]byte, map[string]map[string][]byte) {
		out, err := signing.SignJSON(c.signed, "third.test", signing.SigningKey{Version: "two", Private: c.priv2})
		if err != nil {
			panic(err) // invariant: an object the harness signed already
		}
		ring := c.ringWith2()
		ring["third.test"] = map[string][]byte{"ed25519:two": c.priv2.Public().(ed25519.PublicKey)}
		return out, ring
	}},
}

func (c *vctx) ringWith2() map[string]map[string][]byte {
	return map[string]map[string][]byte{c.server: {c.keyID: c.ring[c.server][c.keyID], "ed25519:two": c.priv2.Public().(ed25519.PublicKey)}}
}

// verifyExpected maps (mutation, roomproto verdict, Synapse verdict) to a class, for the
// mutations where the two sides are known to differ.
var verifyExpected = map[[3]string]string{
	{"excess padding (===)", "invalid", "valid"}: "V1-base64-beyond-rfc4648",
	{"space inside", "invalid", "valid"}:         "V1-base64-beyond-rfc4648",
	{"line break inside", "invalid", "valid"}:    "V1-base64-beyond-rfc4648",
	{"tab at the end", "invalid", "valid"}:       "V1-base64-beyond-rfc4648",
	{"'!' inside", "invalid", "valid"}:           "V1-base64-beyond-rfc4648",
	{"'=' inside", "invalid", "valid"}:           "V1-base64-beyond-rfc4648",
}

func runVerify(t *Tally, n int, seed int64) {
	py := theOracle()
	r := rand.New(rand.NewSource(seed))
	g := &jgen{r: r, floats: true, surrogates: true}
	for i := 0; i < n; i++ {
		server := difftool.Pick(r, signServers...)
		priv, priv2 := randPriv(r), randPriv(r)
		key := signing.SigningKey{Version: difftool.Pick(r, signVersions...), Private: priv}
		// Mostly integer-only objects; one in four may hold floats or surrogates.
		g.floats, g.surrogates = r.Intn(4) == 0, r.Intn(4) == 0
		obj := g.object(1 + r.Intn(2))
		if obj[0] != '{' || strings.Contains(obj, `"signatures"`) || strings.Contains(obj, `"unsigned"`) {
			obj = `{"a":1}`
		}
		signed, err := signing.SignJSON([]byte(obj), server, key)
		if err != nil {
			t.Problem("harness: roomproto cannot sign a generated object: "+err.Error(), obj)
			continue
		}
		c := &vctx{signed: signed, server: server, keyID: key.KeyID(), priv: priv, priv2: priv2,
			ring: map[string]map[string][]byte{server: {key.KeyID(): priv.Public().(ed25519.PublicKey)}}}
		c.sig = signatureIn(signed, server, key.KeyID())
		for _, m := range verifyMutations {
			in, ring := m.f(c, r)
			if ring == nil {
				ring = c.ring
			}
			kr := signing.KeyRing{}
			for s, ks := range ring {
				kr[s] = map[string]signing.PublicKey{}
				for k, v := range ks {
					kr[s][k] = signing.PublicKey{Key: v}
				}
			}
			one := func(how string, rpErr error, pa pyAnswer) {
				rv, pv := verdict(rpErr == nil), verdict(pa.OK)
				if rv == pv {
					t.Agree()
					return
				}
				cls := verifyExpected[[3]string{m.name, rv, pv}]
				sig := fmt.Sprintf("%s | %s: roomproto %s, Synapse %s", how, m.name, rv, pv)
				if cls == "" {
					cls = classifyVerifyByMessage(py, in, rv, pv)
				}
				t.Diverge(cls, sig, fmt.Sprintf("%s (%s, server %s, key %s): %s\nroomproto: %v\nSynapse: %s", m.name, how, server, key.KeyID(), in, rpErr, pa.Err))
			}
			one("one server", signing.VerifyJSONServer(in, server, kr), py.verify(in, server, ring))
			one("every known key", signing.VerifyJSON(in, kr), py.verify(in, "", ring))
		}
	}
}

// classifyVerifyByMessage: roomproto valid and Synapse invalid because the signed bytes differ
// (a float, a lone surrogate, an integer Python refuses to read).
func classifyVerifyByMessage(py *oracle, in []byte, rv, pv string) string {
	if rv != "valid" || pv != "invalid" {
		return ""
	}
	msg := stripForMessage(in)
	if msg == nil {
		return ""
	}
	o := canonBoth(py, msg, false)
	if o.agree() {
		return ""
	}
	switch cls, _ := classifyCanon(py, false, msg, o); cls {
	case "P1-float-repr", "P2-float-out-of-range":
		return "V2-message-float-repr"
	case "P4-lone-surrogate":
		return "V3-message-lone-surrogate"
	case "P3-int-too-long":
		return "V4-message-int-too-long"
	}
	return ""
}

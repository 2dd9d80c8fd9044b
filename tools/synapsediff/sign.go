package main

// Area sign: signing.SignJSON against signedjson.sign.sign_json with the same seed, key
// version and server name. ed25519 is deterministic, so the signatures must be byte-identical
// whenever the two sides sign the same canonical bytes.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"regexp"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// signClasses: the signed bytes differ for a reason of area canon (lenient mode, which
// SignJSON uses), or the objects around the signature differ.
var signClasses = func() []*Class {
	var cs []*Class
	for _, c := range canonClasses[:4] {
		cs = append(cs, &Class{ID: "G-" + c.ID, Cat: c.Cat, Desc: "the canonical input, hence the signed bytes or the output, differs (or Python cannot write it) as in area canon: " + c.Desc, Spec: c.Spec})
	}
	return append(cs,
		&Class{ID: "G-unsigned-null-dropped", Cat: SpecSilent,
			Desc: "\"unsigned\": null: sign_json drops it (it re-adds unsigned only when it is not None), SignJSON keeps it; the signatures are identical",
			Spec: "appendices.md \"Signing Details\" (unsigned \"is added back\"; the spec's own sample code has the same `if unsigned is not None`); unsigned is not signed; decisions.md (signing) 15"},
	)
}()

var signArea = &Area{
	Name:     "sign",
	Title:    "signing.SignJSON vs signedjson.sign.sign_json (same seed, key version and server)",
	Unit:     "generated objects, with existing signatures and unsigned in some",
	DefaultN: 6000,
	Classes:  signClasses,
	Run:      runSign,
}

var signVersions = []string{"1", "k", "a_b", "0", "AAAA", "auto"}
var signServers = []string{"s.test", "s.test:8448", "[::1]:8448", "例え.test"}

// existingSignatures are `signatures` values put in some inputs before signing.
var existingSignatures = []string{
	`{}`, `{"other.test":{"ed25519:1":"AAAA"}}`, `{"%s":{"ed25519:old":"AAAA"}}`, `{"%s":{"%s":"replaced"}}`,
	`{"other.test":{}}`, `{"other.test":{"ed25519:1":"\ud800"}}`,
	`{"other.test":5}`, `{"other.test":{"ed25519:1":5}}`, `{"other.test":[]}`, `{"other.test":{"k":null}}`,
}

var existingUnsigned = []string{`{"age":5}`, `{"x":{"y":[1,2]}}`, `"str"`, `5`, `null`, `[]`, `{}`}

func runSign(t *Tally, n int, seed int64) {
	py := theOracle()
	r := rand.New(rand.NewSource(seed))
	g := &jgen{r: r, floats: true, surrogates: true, dups: true}
	for i := 0; i < n; i++ {
		server := difftool.Pick(r, signServers...)
		ver := difftool.Pick(r, signVersions...)
		seedBytes := make([]byte, 32)
		r.Read(seedBytes)
		key, err := signing.NewSigningKey(ver, seedBytes)
		if err != nil {
			panic(err) // invariant: the harness's own key versions and 32-byte seeds
		}
		obj := g.object(1 + r.Intn(2))
		if obj == "{}" || obj[0] != '{' {
			obj = `{"a":1}`
		}
		body := obj[1 : len(obj)-1]
		if r.Intn(3) == 0 {
			s := difftool.Pick(r, existingSignatures...)
			s = fmt.Sprintf(s, server, key.KeyID())
			s = trimExtra(s)
			body = `"signatures":` + s + sep(body) + body
		}
		if r.Intn(3) == 0 {
			body = `"unsigned":` + difftool.Pick(r, existingUnsigned...) + sep(body) + body
		}
		in := []byte("{" + body + "}")
		compareSign(t, py, in, server, key, seedBytes)
	}
}

// trimExtra removes the %!(EXTRA ...) fmt adds when a template uses fewer verbs.
func trimExtra(s string) string {
	if i := bytes.Index([]byte(s), []byte("%!(EXTRA")); i >= 0 {
		return s[:i]
	}
	return s
}

func sep(body string) string {
	if body == "" {
		return ""
	}
	return ","
}

func compareSign(t *Tally, py *oracle, in []byte, server string, key signing.SigningKey, seed []byte) {
	rpOut, rpErr := signing.SignJSON(in, server, key)
	pa := py.sign(in, server, key.Version, seed)
	ex := fmt.Sprintf("%q (server %s, key %s)\nroomproto: %s %v\nSynapse:   %s %s", in, server, key.KeyID(), rpOut, rpErr, outOrNil(pa), pa.Err)
	switch {
	case rpErr != nil && pa.Err != "":
		t.Agree()
		return
	case rpErr == nil && pa.Err == "" && bytes.Equal(rpOut, pa.out()):
		t.Agree()
		return
	}
	cls, sig := classifySign(py, in, server, key, rpOut, rpErr, pa)
	t.Diverge(cls, sig, ex)
}

func outOrNil(a pyAnswer) []byte {
	if a.Err != "" {
		return nil
	}
	return a.out()
}

// classifySign explains a signing divergence: first by the signed bytes (area canon's
// classes on the message), then by the rest of the object.
func classifySign(py *oracle, in []byte, server string, key signing.SigningKey, rpOut []byte, rpErr error, pa pyAnswer) (string, string) {
	// The canonical form of the whole input on each side (the message is part of it).
	if o := canonBoth(py, in, false); !o.agree() {
		if cls, sig := classifyCanon(py, false, in, o); cls != "" {
			return "G-" + cls, "canonical input: " + sig
		}
	}
	if pa.Err != "" && strings.Contains(pa.Err, "surrogates not allowed") && hasLoneSurrogate(in) {
		return "G-P4-lone-surrogate", "Synapse cannot encode a lone surrogate"
	}
	if rpErr != nil {
		return "", "roomproto refuses (" + rpErr.Error() + "), Synapse signs"
	}
	if pa.Err != "" {
		return "", "Synapse refuses (" + pyErrKind(pa) + "), roomproto signs"
	}
	rpSig, pySig := signatureIn(rpOut, server, key.KeyID()), pa.Sig
	if rpSig != pySig {
		return "", "signatures differ"
	}
	// Same signature; the objects differ.
	var rv, pv map[string]json.RawMessage
	if json.Unmarshal(rpOut, &rv) == nil && json.Unmarshal(pa.out(), &pv) == nil {
		if string(rv["unsigned"]) == "null" && pv["unsigned"] == nil {
			delete(rv, "unsigned")
			if a, b := canonOf(rv), canonOf(pv); a != nil && bytes.Equal(a, b) {
				return "G-unsigned-null-dropped", "unsigned null"
			}
		}
	}
	return "", "same signature, objects differ"
}

func canonOf(m map[string]json.RawMessage) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	c, err := canonicaljson.Canonical(b)
	if err != nil {
		return nil
	}
	return c
}

// stripForMessage returns roomproto's lenient canonical form of the object in without its
// top-level signatures and unsigned (lone surrogates stay escapes), or nil when in is not an
// object roomproto can read.
func stripForMessage(in []byte) []byte {
	var idx canonicaljson.Index
	c, err := canonicaljson.AppendIndexed(nil, in, canonicaljson.Options{}, &idx)
	if err != nil || canonicaljson.KindOf(c) != canonicaljson.Object {
		return nil
	}
	var parts [][]byte
	for _, m := range idx.Members {
		if k := string(m.Key(c)); k == "signatures" || k == "unsigned" {
			continue
		}
		parts = append(parts, c[m.Start:m.End])
	}
	return append(append([]byte("{"), bytes.Join(parts, []byte(","))...), '}')
}

// loneSurrogateEscape matches an unpaired surrogate as roomproto's lenient output writes it.
var loneSurrogateEscape = regexp.MustCompile(`(^|[^\\])(\\\\)*\\ud[89a-f]`)

// hasLoneSurrogate reports whether in holds an unpaired surrogate escape anywhere.
func hasLoneSurrogate(in []byte) bool {
	c, err := canonicaljson.Canonical(in)
	return err == nil && loneSurrogateEscape.Match(c)
}

func signatureIn(out []byte, server, keyID string) string {
	// Other entries of `signatures` may hold anything (both sides keep them as they are).
	var v struct {
		Signatures map[string]json.RawMessage `json:"signatures"`
	}
	var entry map[string]json.RawMessage
	var sig string
	if json.Unmarshal(out, &v) != nil || json.Unmarshal(v.Signatures[server], &entry) != nil ||
		json.Unmarshal(entry[keyID], &sig) != nil {
		return ""
	}
	return sig
}

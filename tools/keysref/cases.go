package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// gen draws the cases from one seed.
type gen struct {
	r *rand.Rand
}

func newGen(r *rand.Rand) *gen { return &gen{r: r} }

// signer is a signing key of a server.
type signer struct {
	server string
	key    signing.SigningKey
}

var (
	servers     = []string{"a.example", "b.example", "c.example:8448", "d.example"}
	keyVersions = []string{"1", "2", "auto2", "abc_123"}
	// odd key IDs a signature may be relabelled to
	oddKeyIDs = []string{"ed25519", "ED25519:1", "ed25519:", "ed25519:1 ", "curve25519:1", ":1",
		"ed25519:a:b", "ed25519:é", "ed25519:a-b", "ed25519:a.b", "ed25519: 1", "Ed25519:1", "ed25519:\x00"}
	oddVersions = []string{"", "a-b", "a.b", "a:b", "é", "a b", "\t", strings.Repeat("v", 255),
		strings.Repeat("v", 256), "1\n", "~", "0", "_"}
	specSeed, _ = base64.RawStdEncoding.DecodeString("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1")
)

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *gen) signer() signer {
	if g.r.Intn(12) == 0 {
		k, err := signing.NewSigningKey("1", specSeed)
		if err == nil {
			return signer{"domain", k}
		}
	}
	s := g.pick(servers...)
	return signer{s, authgen.KeyFor(s, g.pick(keyVersions...))}
}

// b64variant writes b in base64, most often as the spec writes it, else in a variant a decoder
// may or may not accept.
func (g *gen) b64variant(b []byte) (string, string) {
	c := difftool.B64(b)
	switch g.r.Intn(18) {
	case 0:
		return base64.StdEncoding.EncodeToString(b), "padded"
	case 1:
		return base64.RawURLEncoding.EncodeToString(b), "urlsafe"
	case 2:
		if len(b)%3 != 0 && len(c) > 0 {
			const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
			i := strings.IndexByte(alpha, c[len(c)-1])
			return c[:len(c)-1] + string(alpha[i|1]), "pad-bits"
		}
	case 3:
		if len(c) > 2 {
			i := 1 + g.r.Intn(len(c)-1)
			return c[:i] + g.pick(" ", "\n", "\r\n", "\t") + c[i:], "whitespace"
		}
	case 4:
		if len(c) > 0 {
			return c[:len(c)-1], "truncated"
		}
	case 5:
		if len(c) > 0 {
			i := g.r.Intn(len(c))
			return c[:i] + g.pick("*", "!", ".", "é") + c[i+1:], "bad-char"
		}
	case 6:
		return c + g.pick("=", "===", "====", "=="), "odd-padding"
	case 7:
		if len(c) > 4 {
			return c[:4] + "=" + c[4:], "mid-padding"
		}
	case 8:
		return "", "empty"
	case 9:
		return difftool.B64(append(slices.Clone(b), 0)), "one-byte-more"
	case 10:
		if len(b) > 0 {
			return difftool.B64(b[:len(b)-1]), "one-byte-less"
		}
	case 11:
		return base64.URLEncoding.EncodeToString(b), "urlsafe-padded"
	}
	return c, "plain"
}

// nonObject returns JSON text that is not an object, or not JSON at all.
func (g *gen) nonObject() string {
	return g.pick("[]", `"x"`, "1", "null", "true", "{", "", "{\"a\":\"\xff\"}", "{} x", "{}{}", " {} ",
		"\ufeff{}", `{"a":1,}`, `{"a":NaN}`, `{'a':1}`, `{"a":"\ud800"}`, `[{"signatures":{}}]`, "\x00{}")
}

// addMember inserts a member at a random place.
func (g *gen) addMember(o jobj, k string, v jv) jobj {
	i := g.r.Intn(len(o) + 1)
	return slices.Insert(o, i, kv{k, v})
}

// caseSign compares SignJSON.
func (g *gen) caseSign() {
	sg := g.signer()
	var label []string
	var text string
	if g.r.Intn(15) == 0 {
		text = g.nonObject()
		label = append(label, "non-object")
	} else {
		body := g.object(0, g.r.Intn(6) == 0)
		other := g.pick(servers...)
		if other == sg.server {
			other = "z.example"
		}
		fake := jstr(strings.Repeat("A", 86))
		switch g.r.Intn(12) {
		case 4:
			body = g.addMember(body, "signatures", jobj{})
			label = append(label, "sigs-empty")
		case 5, 6:
			body = g.addMember(body, "signatures", jobj{{other, jobj{{"ed25519:1", fake}, {"curve25519:x", jlit("7")}}}})
			label = append(label, "sigs-other-server")
		case 7:
			body = g.addMember(body, "signatures", jobj{{sg.server, jobj{{"ed25519:zz", fake}}}, {other, jobj{}}})
			label = append(label, "sigs-own-other-key")
		case 8:
			body = g.addMember(body, "signatures", jobj{{sg.server, jobj{{sg.key.KeyID(), fake}, {"ed25519:zz", fake}}}})
			label = append(label, "sigs-own-same-key")
		case 9:
			body = g.addMember(body, "signatures", g.oddShape())
			label = append(label, "sigs-shape")
		case 10:
			body = g.addMember(body, "signatures", jobj{{sg.server, g.oddShape()}})
			label = append(label, "sigs-own-entry-shape")
		case 11:
			body = g.addMember(body, "signatures", jobj{{other, g.oddShape()}, {sg.server, jobj{}}})
			label = append(label, "sigs-other-entry-shape")
		}
		switch g.r.Intn(10) {
		case 0, 1:
			body = g.addMember(body, "unsigned", jobj{{"age_ts", jlit("922834800000")}})
			label = append(label, "unsigned")
		case 2:
			body = g.addMember(body, "unsigned", jlit("null"))
			label = append(label, "unsigned-null")
		case 3:
			body = g.addMember(body, "unsigned", g.oddShape())
			label = append(label, "unsigned-shape")
		}
		if g.r.Intn(30) == 0 {
			body = append(body, kv{"signatures", jobj{}})
			label = append(label, "dup-signatures")
		}
		text = g.text(body)
	}
	rp := safe(func() string {
		out, err := signing.SignJSON([]byte(text), sg.server, sg.key)
		if err != nil {
			return errKind(err)
		}
		return "ok " + string(out)
	})
	a, ok := ask(refReq{Op: "sign", ObjB64: b64std([]byte(text)), Server: sg.server, Version: sg.key.Version,
		Seed: b64std(sg.key.Private.Seed())})
	if !ok {
		return
	}
	lbl := fmt.Sprintf("server=%s key=%s %s", sg.server, sg.key.KeyID(), strings.Join(label, " "))
	compare("SignJSON", lbl, text, rp, a)
	if strings.HasPrefix(rp, "ok ") && rp == a.Out {
		// round trip: the signer's own check of what it signed
		out := rp[3:]
		ring := signing.KeyRing{sg.server: {sg.key.KeyID(): {Key: sg.key.Public()}}}
		refRing := map[string]map[string]string{sg.server: {sg.key.KeyID(): b64std(sg.key.Public())}}
		g.compareVerify(true, sg.server, "roundtrip "+lbl, out, ring, refRing, nil)
	}
}

// oddShape is a value that is not an object of strings.
func (g *gen) oddShape() jv {
	return []jv{jarr{}, jstr("x"), jlit("null"), jlit("1"), jarr{jstr("ed25519:1")}, jobj{{"ed25519:1", jlit("1")}}}[g.r.Intn(6)]
}

// signedObject draws an object signed by one to three keys, a key ring knowing some of them,
// and one or two mutations. It returns the text, the ring (as roomproto and as the reference
// take it), the signers, labels, and extra amb flags for corners only the Go API can reach.
func (g *gen) signedObject() (text string, ring signing.KeyRing, refRing map[string]map[string]string, sgs []signer, label []string, extra []string) {
	body := g.object(0, g.r.Intn(8) == 0)
	text = g.text(body)
	ring = signing.KeyRing{}
	refRing = map[string]map[string]string{}
	put := func(srv, kid string, pub []byte) {
		if ring[srv] == nil {
			ring[srv] = map[string]signing.PublicKey{}
			refRing[srv] = map[string]string{}
		}
		ring[srv][kid] = signing.PublicKey{Key: pub}
		refRing[srv][kid] = b64std(pub)
	}
	for i, n := 0, 1+g.r.Intn(3); i < n; i++ {
		sg := g.signer()
		out, err := signing.SignJSON([]byte(text), sg.server, sg.key)
		if err != nil {
			label = append(label, "presign-failed")
			break
		}
		text = string(out)
		sgs = append(sgs, sg)
		if g.r.Intn(10) < 7 {
			put(sg.server, sg.key.KeyID(), sg.key.Public())
		}
	}
	if g.r.Intn(5) == 0 {
		s := g.pick(servers...)
		put(s, "ed25519:"+g.pick(keyVersions...), authgen.KeyFor(s, "9").Public())
		label = append(label, "ring-extra")
	}
	m := difftool.Decode([]byte(text))
	sigs, _ := m["signatures"].(map[string]any)
	pickSig := func() (string, string, bool) {
		var all [][2]string
		for _, s := range difftool.SortedKeys(sigs) {
			if e, ok := sigs[s].(map[string]any); ok {
				for _, k := range difftool.SortedKeys(e) {
					all = append(all, [2]string{s, k})
				}
			}
		}
		if len(all) == 0 {
			return "", "", false
		}
		p := all[g.r.Intn(len(all))]
		return p[0], p[1], true
	}
	textMut := ""
	for i, n := 0, g.r.Intn(3); i < n && sigs != nil; i++ {
		s, k, ok := pickSig()
		if !ok {
			break
		}
		e := sigs[s].(map[string]any)
		cur, _ := e[k].(string)
		raw, _ := base64.RawStdEncoding.DecodeString(cur)
		switch g.r.Intn(17) {
		case 0:
			if len(raw) == 64 {
				raw = slices.Clone(raw)
				raw[g.r.Intn(64)] ^= 1 << g.r.Intn(8)
				e[k] = difftool.B64(raw)
				label = append(label, "sig-corrupt")
			}
		case 1, 2:
			v, l := g.b64variant(raw)
			e[k] = v
			label = append(label, "sig-"+l)
		case 3:
			e[k] = []any{nil, 1.0, map[string]any{}, []any{}, true}[g.r.Intn(5)]
			label = append(label, "sig-not-string")
		case 4, 5:
			nk := g.pick(oddKeyIDs...)
			delete(e, k)
			e[nk] = cur
			label = append(label, "relabel:"+nk)
			if g.r.Intn(2) == 0 {
				if pk, ok := ring[s][k]; ok {
					put(s, nk, pk.Key)
					label = append(label, "ring-knows-relabelled")
				}
			}
		case 6:
			e["curve25519:1"] = "garbage!"
			label = append(label, "other-alg-sig")
		case 7:
			m["zz"] = 1.0
			label = append(label, "body-changed")
		case 8:
			m["unsigned"] = map[string]any{"age": 1.0, "x": []any{}}
			label = append(label, "unsigned-added")
		case 9:
			delete(sigs, s)
			label = append(label, "entry-dropped")
		case 10:
			sigs[s] = []any{[]any{}, "x", nil, 1.0}[g.r.Intn(4)]
			label = append(label, "entry-shape")
		case 11:
			m["signatures"] = []any{[]any{}, "x", nil, 1.0, map[string]any{}}[g.r.Intn(5)]
			label = append(label, "sigs-shape")
			sigs = nil
		case 12:
			delete(m, "signatures")
			label = append(label, "sigs-absent")
			sigs = nil
		case 13:
			if _, ok := ring[s][k]; ok {
				put(s, k, authgen.KeyFor(s, "8").Public())
				label = append(label, "ring-wrong-key")
			}
		case 14:
			if pk, ok := ring[s][k]; ok && g.r.Intn(3) == 0 {
				var short []byte
				switch g.r.Intn(3) {
				case 0:
					short = slices.Clone([]byte(pk.Key[:31]))
				case 1:
					short = []byte{}
				default:
					short = append(slices.Clone([]byte(pk.Key)), 0)
				}
				put(s, k, short)
				label = append(label, fmt.Sprintf("ring-key-%d-bytes", len(short)))
				extra = append(extra, "ring-key-wrong-length") // signing decision 17 (was finding F3)
			}
		case 15:
			to := g.pick(servers...)
			if to != s {
				ent := sigs[s]
				delete(sigs, s)
				sigs[to] = ent
				label = append(label, "entry-moved")
			}
		case 16:
			textMut = g.pick("dup-signatures", "non-object")
		}
	}
	text = string(difftool.Enc(m))
	switch textMut {
	case "dup-signatures":
		text = text[:len(text)-1] + `,"signatures":{}}`
		label = append(label, "dup-signatures")
	case "non-object":
		text = g.nonObject()
		label = append(label, "non-object")
	}
	return
}

// compareVerify runs VerifyJSON or VerifyJSONServer and compares it with the reference,
// blame included.
func (g *gen) compareVerify(server bool, srv, label, text string, ring signing.KeyRing, refRing map[string]map[string]string, extra []string) {
	op, refOp := "VerifyJSON", "verify"
	if server {
		op, refOp = "VerifyJSONServer", "verify_server"
	}
	var blame [2]string
	rp := safe(func() string {
		var err error
		if server {
			err = signing.VerifyJSONServer([]byte(text), srv, ring)
		} else {
			err = signing.VerifyJSON([]byte(text), ring)
		}
		var ve *signing.VerificationError
		if errors.As(err, &ve) {
			blame = [2]string{ve.Server, ve.KeyID}
		}
		return errKind(err)
	})
	a, ok := ask(refReq{Op: refOp, ObjB64: b64std([]byte(text)), Server: srv, Keys: refRing})
	if !ok {
		return
	}
	a.Amb = append(a.Amb, extra...)
	slices.Sort(a.Amb)
	if server {
		label = "server=" + srv + " " + label
	}
	input := text + "\nring=" + string(difftool.Enc(refRing))
	if rp == "err bad" && a.Out == "err bad" && len(a.Blame) > 0 &&
		!slices.ContainsFunc(a.Blame, func(b []string) bool { return len(b) == 2 && b[0] == blame[0] && b[1] == blame[1] }) {
		a.Out = fmt.Sprintf("err bad blaming one of %v", a.Blame)
		record("BLAME", op, label, input, fmt.Sprintf("err bad blaming %v", blame), a)
		return
	}
	compare(op, label, input, rp, a)
}

// caseVerify compares VerifyJSON (server false) or VerifyJSONServer.
func (g *gen) caseVerify(server bool) {
	text, ring, refRing, sgs, label, extra := g.signedObject()
	srv := g.pick(servers...)
	if len(sgs) > 0 && g.r.Intn(4) != 0 {
		srv = sgs[g.r.Intn(len(sgs))].server
	}
	g.compareVerify(server, srv, strings.Join(label, " "), text, ring, refRing, extra)
}

// caseHasValid compares HasValidSignature and ParseSignedObject + HasValidSignature.
func (g *gen) caseHasValid() {
	text, _, _, sgs, label, _ := g.signedObject()
	var pub ed25519.PublicKey
	switch k := g.r.Intn(10); {
	case k < 6 && len(sgs) > 0:
		pub = sgs[g.r.Intn(len(sgs))].key.Public()
		label = append(label, "pub-of-signer")
	case k < 8:
		pub = authgen.KeyFor("z.example", "1").Public()
		label = append(label, "pub-other")
	default:
		n := []int{0, 31, 33}[g.r.Intn(3)]
		pub = make(ed25519.PublicKey, n)
		label = append(label, fmt.Sprintf("pub-%d-bytes", n))
	}
	render := func(ok bool, err error) string {
		if err != nil {
			return errKind(err)
		}
		return fmt.Sprint(ok)
	}
	rp := safe(func() string { return render(signing.HasValidSignature([]byte(text), pub)) })
	rp2 := safe(func() string {
		o, err := signing.ParseSignedObject([]byte(text))
		if err != nil {
			return errKind(err)
		}
		return fmt.Sprint(o.HasValidSignature(pub))
	})
	a, ok := ask(refReq{Op: "has_valid", ObjB64: b64std([]byte(text)), Pub: b64std(pub)})
	if !ok {
		return
	}
	lbl := strings.Join(label, " ")
	compare("HasValidSignature", lbl, text, rp, a)
	if rp2 != rp {
		record("API", "ParseSignedObject", lbl, text, rp2, refAns{Out: "as HasValidSignature: " + rp})
	}
}

// caseParseKey compares ParseSigningKey on key file text.
func (g *gen) caseParseKey() {
	seed := make([]byte, 32)
	g.r.Read(seed)
	var label []string
	line := func() string {
		ver := g.pick(keyVersions...)
		if g.r.Intn(6) == 0 {
			ver = g.pick(oddVersions...)
			label = append(label, "odd-version")
		}
		s, l := difftool.B64(seed), "plain"
		if g.r.Intn(3) == 0 {
			sd := seed
			if g.r.Intn(4) == 0 {
				sd = append(slices.Clone(seed), 1)
			}
			s, l = g.b64variant(sd)
		}
		label = append(label, "seed-"+l)
		alg := "ed25519"
		if g.r.Intn(12) == 0 {
			alg = g.pick("ED25519", "ed448", "curve25519", "ed25519:", "")
			label = append(label, "alg="+alg)
		}
		sep := func() string {
			if g.r.Intn(6) == 0 {
				label = append(label, "sep")
				return g.pick("  ", "\t", " \t", "\v", "\u00a0", "")
			}
			return " "
		}
		ln := alg + sep() + ver + sep() + s
		if g.r.Intn(15) == 0 {
			ln += " extra"
			label = append(label, "fourth-field")
		}
		return ln
	}
	text := line()
	switch g.r.Intn(14) {
	case 0, 1, 2, 3:
		text += "\n"
	case 4:
		text += "\r\n"
		label = append(label, "crlf")
	case 5:
		text = g.pick(" ", "\t", "\n", "\r\n") + text + g.pick(" ", "\t", "\n\n", " \n")
		label = append(label, "outer-space")
	case 6:
		text += "\n" + line() + "\n"
		label = append(label, "two-keys")
	case 7:
		text = "# comment\n" + text + "\n"
		label = append(label, "comment")
	case 8:
		text = "\ufeff" + text
		label = append(label, "bom")
	case 9:
		text = text + "\n\x00"
		label = append(label, "nul")
	case 10:
		text = g.pick("", "\n", " ", "ed25519", "ed25519 1")
		label = []string{"short"}
	}
	rp := safe(func() string {
		k, err := signing.ParseSigningKey([]byte(text))
		if err != nil {
			var ke *signing.KeyError
			if !errors.As(err, &ke) || !errors.Is(err, signing.ErrInvalidKey) {
				return "err not a *KeyError (" + err.Error() + ")"
			}
			return "err"
		}
		if len(k.Private) != ed25519.PrivateKeySize {
			return "ok but private key of " + fmt.Sprint(len(k.Private))
		}
		return "ok " + k.Version + " " + difftool.B64(k.Private.Seed())
	})
	a, ok := ask(refReq{Op: "parse_key", TextB64: b64std([]byte(text))})
	if ok {
		compare("ParseSigningKey", strings.Join(label, " "), fmt.Sprintf("%q", text), rp, a)
	}
}

// caseParseRing compares ParseKeyRing on --keys text, and the ring as a KeyLookup.
func (g *gen) caseParseRing() {
	var label []string
	top := jobj{}
	if g.r.Intn(25) == 0 {
		text := g.pick(`[]`, `null`, `"x"`, `{`, ``, `{"a.example":null}`, `{"a.example":[]}`, `{"a.example":"k"}`,
			`{"a.example":{}} // comment`, `/* c */ {"a.example":{}}`, `# c`+"\n"+`{"a.example":{}}`, `{"a.example":{}}{"b.example":{}}`)
		g.compareRing(text, []string{"shape"})
		return
	}
	for i, n := 0, g.r.Intn(4); i < n; i++ {
		srv := g.pick(servers...)
		if g.r.Intn(20) == 0 {
			srv = g.pick("", "é.example", " a.example")
			label = append(label, "odd-server")
		}
		keys := jobj{}
		for j, m := 0, g.r.Intn(4); j < m; j++ {
			kid := "ed25519:" + g.pick(keyVersions...)
			if g.r.Intn(6) == 0 {
				kid = g.pick(oddKeyIDs...)
				label = append(label, "kid="+kid)
			}
			pub := authgen.KeyFor(servers[j%len(servers)], g.pick(keyVersions...)).Public()
			var raw []byte = pub
			if g.r.Intn(10) == 0 {
				raw = []byte(pub)[:g.pick("0", "1", "2")[0]-'0'+30]
				label = append(label, fmt.Sprintf("key-%d-bytes", len(raw)))
			}
			s, l := difftool.B64(raw), "plain"
			if g.r.Intn(4) == 0 {
				s, l = g.b64variant(raw)
				label = append(label, "key-"+l)
			}
			var val jv = jstr(s)
			switch g.r.Intn(12) {
			case 0:
				val = jobj{{"key", jstr(s)}}
				label = append(label, "object-form")
			case 1:
				vu := g.pick("1", "1700000000000", "0", "-1", "1.5", `"5"`, "null", "9007199254740993", "1e3", "-0")
				val = jobj{{"key", jstr(s)}, {"valid_until_ts", jlit(vu)}}
				label = append(label, "object-form vu="+vu)
			case 2:
				val = jobj{{"key", jstr(s)}, {"expired_ts", jlit("1532645052628")}}
				label = append(label, "object-form expired_ts")
			case 3:
				val = []jv{jlit("null"), jlit("1"), jarr{}, jobj{}, jobj{{"valid_until_ts", jlit("5")}}}[g.r.Intn(5)]
				label = append(label, "value-shape")
			}
			keys = append(keys, kv{kid, val})
		}
		if g.r.Intn(15) == 0 && len(keys) > 0 {
			keys = append(keys, kv{keys[0].k, jstr(difftool.B64(authgen.KeyFor(srv, "7").Public()))})
			label = append(label, "dup-key-id")
		}
		top = append(top, kv{srv, keys})
	}
	if g.r.Intn(15) == 0 && len(top) > 0 {
		top = append(top, kv{top[0].k, jobj{}})
		label = append(label, "dup-server")
	}
	s := style{r: g.r, spaces: g.r.Intn(3) == 0}
	var b strings.Builder
	s.write(&b, top)
	text := b.String()
	if g.r.Intn(10) == 0 {
		text = g.pick("\n", "\r\n", " ", "\ufeff") + text + g.pick("\n", "\r\n", " x", "")
		label = append(label, "around")
	}
	g.compareRing(text, label)
}

func (g *gen) compareRing(text string, label []string) {
	var ring signing.KeyRing
	rp := safe(func() string {
		r, err := signing.ParseKeyRing([]byte(text))
		if err != nil {
			var ke *signing.KeyError
			if !errors.As(err, &ke) || !errors.Is(err, signing.ErrInvalidKey) {
				return "err not a *KeyError (" + err.Error() + ")"
			}
			return "err"
		}
		ring = r
		return "ok " + renderRing(r)
	})
	a, ok := ask(refReq{Op: "parse_ring", TextB64: b64std([]byte(text))})
	if !ok {
		return
	}
	if strings.HasPrefix(a.Out, "ok ") {
		a.Out = "ok " + renderRefRing(a.Out[3:])
	}
	compare("ParseKeyRing", strings.Join(label, " "), text, rp, a)
	// KeyRing as a KeyLookup: every entry is found, under its exact server and key ID only.
	for srv, ks := range ring {
		for kid, pk := range ks {
			got, ok := ring.PublicKey(srv, kid)
			if !ok || !got.Key.Equal(pk.Key) || got.ValidUntilTS != pk.ValidUntilTS {
				record("API", "KeyRing.PublicKey", srv+" "+kid, text, "not found", refAns{Out: "found"})
			}
			if _, ok := ring.PublicKey(srv, strings.ToUpper(kid)); ok && strings.ToUpper(kid) != kid {
				if _, there := ks[strings.ToUpper(kid)]; !there {
					record("API", "KeyRing.PublicKey", srv+" "+kid, text, "found under upper case", refAns{Out: "not found"})
				}
			}
		}
	}
	var nilRing signing.KeyRing
	if _, ok := nilRing.PublicKey("a.example", "ed25519:1"); ok {
		record("API", "KeyRing.PublicKey", "nil ring", "", "found", refAns{Out: "not found"})
	}
}

// renderRing writes a ring as sorted lines "server key_id b64 valid_until_ts".
func renderRing(r signing.KeyRing) string {
	var lines []string
	for s, ks := range r {
		for k, pk := range ks {
			lines = append(lines, fmt.Sprintf("%q %q %s %d", s, k, difftool.B64(pk.Key), pk.ValidUntilTS))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

func renderRefRing(js string) string {
	var m map[string]map[string][2]any
	d := difftool.Decode([]byte(js))
	m = map[string]map[string][2]any{}
	for s, ks := range d {
		m[s] = map[string][2]any{}
		for k, v := range ks.(map[string]any) {
			a := v.([]any)
			m[s][k] = [2]any{a[0], a[1]}
		}
	}
	var lines []string
	for s, ks := range m {
		for k, v := range ks {
			lines = append(lines, fmt.Sprintf("%q %q %s %v", s, k, v[0], v[1]))
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "; ")
}

// caseDecodePub compares DecodePublicKey.
func (g *gen) caseDecodePub() {
	n := 32
	if g.r.Intn(4) == 0 {
		n = []int{0, 16, 31, 33, 64}[g.r.Intn(5)]
	}
	b := make([]byte, n)
	g.r.Read(b)
	s, l := g.b64variant(b)
	rp := safe(func() string {
		k, err := signing.DecodePublicKey(s)
		if err != nil {
			var ke *signing.KeyError
			if !errors.As(err, &ke) {
				return "err not a *KeyError (" + err.Error() + ")"
			}
			return "err"
		}
		return "ok " + difftool.B64(k)
	})
	a, ok := ask(refReq{Op: "decode_pub", S: s})
	if ok {
		compare("DecodePublicKey", fmt.Sprintf("%d bytes %s", n, l), fmt.Sprintf("%q", s), rp, a)
	}
}

// caseNewKey compares NewSigningKey.
func (g *gen) caseNewKey() {
	n := 32
	if g.r.Intn(4) == 0 {
		n = []int{0, 31, 33, 64}[g.r.Intn(4)]
	}
	seed := make([]byte, n)
	g.r.Read(seed)
	ver := g.pick(keyVersions...)
	if g.r.Intn(2) == 0 {
		ver = g.pick(oddVersions...)
	}
	rp := safe(func() string {
		k, err := signing.NewSigningKey(ver, seed)
		if err != nil {
			var ke *signing.KeyError
			if !errors.As(err, &ke) {
				return "err not a *KeyError (" + err.Error() + ")"
			}
			return "err"
		}
		if k.KeyID() != "ed25519:"+ver || k.Version != ver {
			return "ok but key ID " + k.KeyID()
		}
		return "ok " + difftool.B64(k.Public())
	})
	a, ok := ask(refReq{Op: "new_key", Seed: b64std(seed), Version: ver})
	if ok {
		compare("NewSigningKey", fmt.Sprintf("seed %d bytes, version %q", n, ver), fmt.Sprintf("%q %x", ver, seed), rp, a)
	}
}

// fixedCases are the spec's test vectors (appendices "Cryptographic Test Vectors") and the
// key file lines of the DESIGN.
func fixedCases(g *gen) {
	key, err := signing.NewSigningKey("1", specSeed)
	if err != nil {
		record("VECTOR", "NewSigningKey", "spec seed", "", errKind(err), refAns{Out: "ok"})
		return
	}
	vectors := []struct{ in, want string }{
		{`{}`, `{"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}`},
		{"{\n    \"one\": 1,\n    \"two\": \"Two\"\n}", `{"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}`},
	}
	ring := signing.KeyRing{"domain": {"ed25519:1": {Key: key.Public()}}}
	refRing := map[string]map[string]string{"domain": {"ed25519:1": b64std(key.Public())}}
	for _, v := range vectors {
		out, err := signing.SignJSON([]byte(v.in), "domain", key)
		rp := errKind(err)
		if err == nil {
			rp = "ok " + string(out)
		}
		a, ok := ask(refReq{Op: "sign", ObjB64: b64std([]byte(v.in)), Server: "domain", Version: "1", Seed: b64std(specSeed)})
		if !ok {
			continue
		}
		compare("SignJSON", "spec vector", v.in, rp, a)
		if rp != "ok "+v.want {
			record("VECTOR", "SignJSON", "spec vector", v.in, rp, refAns{Out: "ok " + v.want})
		} else {
			compared++
		}
		g.compareVerify(false, "", "spec vector", v.want, ring, refRing, nil)
		g.compareVerify(true, "domain", "spec vector", v.want, ring, refRing, nil)
	}
	// The appendix's example of a signed object (Signing Details) has a key of its own: the
	// vector key's signature does not hold for it.
	ex := `{"name":"example.org","signing_keys":{"ed25519:1":"XSl0kuyvrXNj6A+7/tkrB9sxSbRi08Of5uRhxOqZtEQ"},"unsigned":{"age_ts":922834800000},"signatures":{"example.org":{"ed25519:1":"s76RUgajp8w172am0zQb/iPTHsRnb4SkrzGoeCOSFfcBY2V/1c8QfrmdXHpvnc2jK5BD1WiJIxiMW95fMjK7Bw"}}}`
	exRing := signing.KeyRing{"example.org": {"ed25519:1": {Key: key.Public()}}}
	g.compareVerify(false, "", "appendix example, vector key", ex, exRing, map[string]map[string]string{"example.org": {"ed25519:1": b64std(key.Public())}}, nil)
	pub, err := signing.DecodePublicKey("XSl0kuyvrXNj6A+7/tkrB9sxSbRi08Of5uRhxOqZtEQ")
	if err == nil {
		g.compareVerify(false, "", "appendix example, its own signing_keys", ex,
			signing.KeyRing{"example.org": {"ed25519:1": {Key: pub}}},
			map[string]map[string]string{"example.org": {"ed25519:1": b64std(pub)}}, nil)
	}
	for _, text := range []string{
		"ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1\n",
		"ed25519 1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1",
		"ed25519 a_1 YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0=\r\n",
	} {
		rp := "err"
		if k, err := signing.ParseSigningKey([]byte(text)); err == nil {
			rp = "ok " + k.Version + " " + difftool.B64(k.Private.Seed())
		}
		if a, ok := ask(refReq{Op: "parse_key", TextB64: b64std([]byte(text))}); ok {
			compare("ParseSigningKey", "fixed", fmt.Sprintf("%q", text), rp, a)
		}
	}
	// server_key.json's keys are not 32 bytes ("This should be a real ed25519 payload").
	g.compareRing(`{"example.org":{"ed25519:abc123":"VGhpcyBzaG91bGQgYmUgYSByZWFsIGVkMjU1MTkgcGF5bG9hZA"}}`, []string{"server_key.json"})
	g.compareRing(`{"domain":{"ed25519:1":"`+difftool.B64(key.Public())+`"}}`, []string{"vector key"})
	apiChecks(key)
	severalKeysOfOneServer(g)
}

// apiChecks are checks of the documented API that need no reference: VerdictOf and Redactable
// on wrapped and foreign errors, and SignJSON on a server name or key version JSON cannot hold
// (signing decision 13).
func apiChecks(key signing.SigningKey) {
	check := func(what, got, want string) {
		compared++
		if got != want {
			record("API", what, "", "", got, refAns{Out: want})
		}
	}
	hash := &signing.VerificationError{Err: signing.ErrContentHashMismatch}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, "valid"},
		{"hash mismatch", hash, "redact"},
		{"wrapped hash mismatch", fmt.Errorf("event 3: %w", hash), "redact"},
		{"unknown key", &signing.VerificationError{Err: signing.ErrUnknownKey}, "need-key"},
		{"expired key", &signing.VerificationError{Err: signing.ErrKeyExpired}, "need-key"},
		{"bad signature", &signing.VerificationError{Err: signing.ErrBadSignature}, "reject"},
		{"malformed", &signing.VerificationError{Err: signing.ErrMalformed}, "reject"},
		{"foreign error", errors.New("disk full"), "reject"},
	} {
		v := signing.VerdictOf(c.err)
		check("VerdictOf("+c.name+")", v.String(), c.want)
		check("Redactable("+c.name+")", fmt.Sprint(signing.Redactable(c.err)), fmt.Sprint(c.want == "redact"))
	}
	for _, srv := range []string{"a\xff.example", ""} {
		_, err := signing.SignJSON([]byte(`{}`), srv, key)
		got := "signed"
		if err != nil {
			got = "error"
		}
		want := "error"
		if srv == "" {
			want = got // spec-silent: an empty entity name; recorded in the tally only
			tally["SignJSON with an empty server name: "+got]++
		}
		check(fmt.Sprintf("SignJSON(server %q)", srv), got, want)
	}
	bad := signing.SigningKey{Version: "a\xff", Private: key.Private}
	_, err := signing.SignJSON([]byte(`{}`), "domain", bad)
	check("SignJSON(key version not UTF-8)", fmt.Sprint(err != nil), "true")
	short := signing.SigningKey{Version: "1", Private: key.Private[:10]}
	got := safe(func() string {
		_, err := signing.SignJSON([]byte(`{}`), "domain", short)
		return fmt.Sprint(err != nil)
	})
	check("SignJSON(private key of 10 bytes)", got, "true")
}

// severalKeysOfOneServer: one server signs with two keys, one signature is bad; the ring knows
// both, only the good one, only the bad one (appendices "Checking for a Signature", DESIGN's
// "every signature by a known key holds").
func severalKeysOfOneServer(g *gen) {
	k1, k2 := authgen.KeyFor("a.example", "1"), authgen.KeyFor("a.example", "2")
	out, err := signing.SignJSON([]byte(`{"x":1}`), "a.example", k1)
	if err == nil {
		out, err = signing.SignJSON(out, "a.example", k2)
	}
	if err != nil {
		record("HARNESS", "SignJSON", "two keys", "", err.Error(), refAns{Out: "signed"})
		return
	}
	m := difftool.Decode(out)
	e := m["signatures"].(map[string]any)["a.example"].(map[string]any)
	sig := []byte(e["ed25519:2"].(string))
	sig[10] ^= 1
	e["ed25519:2"] = string(sig)
	text := string(difftool.Enc(m))
	for _, known := range [][]string{{"1", "2"}, {"1"}, {"2"}} {
		ring := signing.KeyRing{"a.example": {}}
		refRing := map[string]map[string]string{"a.example": {}}
		for _, v := range known {
			pub := authgen.KeyFor("a.example", v).Public()
			ring["a.example"]["ed25519:"+v] = signing.PublicKey{Key: pub}
			refRing["a.example"]["ed25519:"+v] = b64std(pub)
		}
		label := fmt.Sprintf("two keys of one server, ed25519:2 bad, ring knows %v", known)
		g.compareVerify(false, "", label, text, ring, refRing, nil)
		g.compareVerify(true, "a.example", label, text, ring, refRing, nil)
	}
}

//go:build goexperiment.jsonv2

package pducmp

// Area sign: sign with one side, mutate, verify with both; also byte equality of the two sides'
// signed events. Area corpus: the shared benchmark corpus (v9), event IDs and verification, then
// the same mutations.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	jsonv1 "encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"maunium.net/go/mautrix/crypto/canonicaljson"
	"maunium.net/go/mautrix/federation/pdu"
	"maunium.net/go/mautrix/id"
)

func init() {
	register(
		&Class{"S-padded-signature", "sign", CatMtx, "a signature with = padding: roomproto accepts it, mautrix (RawStdEncoding) rejects the event",
			"appendices.md \"Unpadded Base64\": \"implementations SHOULD accept input with or without padding characters wherever possible\"; decisions.md (signing) 1"},
		&Class{"S-urlsafe-signature", "sign", CatSilent, "a signature in the URL-safe base64 alphabet: roomproto accepts it, mautrix rejects",
			"appendices.md \"Unpadded Base64\" (standard alphabet); decisions.md (signing) 1"},
		&Class{"S-v3plus-event_id-added", "sign", CatSilent, "a top-level event_id added to a signed v3+ event: roomproto rejects (the key is covered by the signature, which no longer holds), mautrix drops it before checking and keeps the event redacted (content hash mismatch)",
			"rooms/fragments/v11-redactions.md lists event_id among kept keys; decisions.md (pdu) \"Event IDs from v3 ...\" (TestStrayEventIDKey)"},
		&Class{"S-hashes-padded", "sign", CatMtx, "the origin's content hash written with = padding (and signed so): roomproto accepts the event, mautrix cannot parse it",
			"appendices.md \"Unpadded Base64\" SHOULD accept padding; decisions.md (signing) 1"},
		&Class{"S-missing-hashes", "sign", CatSilent, "no hashes at all: roomproto rejects (malformed), mautrix keeps it redacted when the signatures hold (they cannot here), so ... (see verdicts)",
			"pdu_base.yaml requires hashes; decisions.md (signing) 7"},
	)
}

func seedFor(server, ver string) []byte {
	s := server
	if ver != "1" {
		s = server + "#" + ver
	}
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func keyFor(server, ver string) signing.SigningKey {
	k, err := signing.NewSigningKey(ver, seedFor(server, ver))
	if err != nil {
		panic(err) // invariant: a 32-byte seed and a key version of the harness's own
	}
	return k
}

// KeySet: the keys both verifiers know.
type KeySet struct {
	keys map[string]map[string]pubKey // server -> key ID -> key
}
type pubKey struct {
	key        ed25519.PublicKey
	validUntil int64 // 0 = no expiry
}

func (ks KeySet) ring() signing.KeyRing {
	r := signing.KeyRing{}
	for s, m := range ks.keys {
		r[s] = map[string]signing.PublicKey{}
		for kid, k := range m {
			r[s][kid] = signing.PublicKey{Key: k.key, ValidUntilTS: k.validUntil}
		}
	}
	return r
}

func (ks KeySet) getKey(server string, keyID id.KeyID, _ time.Time) (id.SigningKey, time.Time, error) {
	k, ok := ks.keys[server][string(keyID)]
	if !ok {
		return "", time.Time{}, nil
	}
	vu := time.UnixMilli(k.validUntil)
	if k.validUntil == 0 {
		vu = time.UnixMilli(1 << 60)
	}
	return id.SigningKey(base64.RawStdEncoding.EncodeToString(k.key)), vu, nil
}

func stdKeySet(withKey2 bool) KeySet {
	ks := KeySet{keys: map[string]map[string]pubKey{}}
	for _, s := range servers {
		ks.keys[s] = map[string]pubKey{"ed25519:1": {key: keyFor(s, "1").Public()}}
		if withKey2 {
			ks.keys[s]["ed25519:2"] = pubKey{key: keyFor(s, "2").Public()}
		}
	}
	return ks
}

func rpVerdict(ver int, raw []byte, ks KeySet) string {
	err := signing.VerifyEvent(rpV(ver), raw, ks.ring())
	switch signing.VerdictOf(err) {
	case signing.VerdictValid:
		return "valid"
	case signing.VerdictRedact:
		return "redact"
	}
	for _, e := range []error{signing.ErrMalformed, signing.ErrMissingSignature, signing.ErrUnknownKey, signing.ErrKeyExpired, signing.ErrBadSignature, signing.ErrNoContentHash} {
		if errors.Is(err, e) {
			return "reject"
		}
	}
	return "reject"
}

func domain(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// mtxRequired: the servers whose signatures the harness asks mautrix to verify (mautrix has no
// such function): the sender's; v1-2 the event ID's; v8+ the authorising server's on joins.
func mtxRequired(ver int, p mtxPDU) []string {
	var sender, eid, membership, via, typ string
	var content []byte
	switch x := p.(type) {
	case *pdu.PDU:
		sender, typ, content = string(x.Sender), x.Type, x.Content
	case *pdu.RoomV1PDU:
		sender, typ, content, eid = string(x.Sender), x.Type, x.Content, string(x.EventID)
	}
	out := []string{domain(sender)}
	if ver <= 2 && domain(eid) != "" && domain(eid) != domain(sender) {
		out = append(out, domain(eid))
	}
	if ver >= 8 && typ == "m.room.member" {
		var c map[string]any
		_ = jsonv1.Unmarshal(content, &c)
		membership, _ = c["membership"].(string)
		via, _ = c["join_authorised_via_users_server"].(string)
		if membership == "join" && via != "" && domain(via) != domain(sender) {
			out = append(out, domain(via))
		}
	}
	return out
}

func mtxVerdict(ver int, raw []byte, ks KeySet) (v string) {
	defer func() {
		if r := recover(); r != nil {
			v = "panic"
		}
	}()
	p, err := mtxParse(ver, raw)
	if err != nil {
		return "reject"
	}
	for _, s := range mtxRequired(ver, p) {
		var err error
		switch x := p.(type) {
		case *pdu.PDU:
			err = x.VerifySignature(mtxV(ver), s, ks.getKey)
		case *pdu.RoomV1PDU:
			err = x.VerifySignature(mtxV(ver), s, ks.getKey)
		}
		if err != nil {
			return "reject"
		}
	}
	if !p.VerifyContentHash() {
		return "redact"
	}
	return "valid"
}

// signers of an unsigned event: sender, v1-2 event ID domain, v8+ authoriser on joins.
func signersOf(ver int, ev map[string]any) []string {
	sender, _ := ev["sender"].(string)
	out := []string{domain(sender)}
	if eid, _ := ev["event_id"].(string); ver <= 2 && domain(eid) != domain(sender) {
		out = append(out, domain(eid))
	}
	if c, ok := ev["content"].(map[string]any); ok && ver >= 8 && ev["type"] == "m.room.member" {
		if via, _ := c["join_authorised_via_users_server"].(string); via != "" && c["membership"] == "join" && domain(via) != domain(sender) {
			out = append(out, domain(via))
		}
	}
	return out
}

func rpSign(ver int, raw []byte, signers []string, key string) ([]byte, error) {
	out, err := signing.SignEvent(rpV(ver), raw, signers[0], keyFor(signers[0], key))
	if err != nil {
		return nil, err
	}
	for _, s := range signers[1:] {
		if out, err = signing.CountersignEvent(rpV(ver), out, s, keyFor(s, key)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func mtxSign(ver int, raw []byte, signers []string, key string) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic %v", r)
		}
	}()
	p, err := mtxParse(ver, raw)
	if err != nil {
		return nil, err
	}
	for _, s := range signers {
		k := keyFor(s, key)
		switch x := p.(type) {
		case *pdu.PDU:
			err = x.Sign(mtxV(ver), s, id.KeyID("ed25519:"+key), k.Private)
		case *pdu.RoomV1PDU:
			err = x.Sign(mtxV(ver), s, id.KeyID("ed25519:"+key), k.Private)
		}
		if err != nil {
			return nil, err
		}
	}
	return canonicaljson.Marshal(p)
}

// M is a JSON object being built.
type M = difftool.M

// a signing-area base event: a valid PDU of the version.
func genSignEvent(r *rand.Rand, ver int) M {
	tries := 0
	for {
		g := genEvent(r, ver)
		if g.Base != nil {
			g.Ev = g.Base
		}
		ev := g.Ev.del("hashes").del("signatures")
		if g.Type == "m.room.member" {
			c, _ := ev.get("content")
			co, _ := c.(Obj)
			co = co.del("third_party_invite").set("membership", difftool.Pick(r, "join", "join", "leave", "invite", "knock"))
			if ver >= 8 && r.Intn(2) == 0 {
				co = co.set("join_authorised_via_users_server", "@auth:"+difftool.Pick(r, servers...))
			} else {
				co = co.del("join_authorised_via_users_server")
			}
			ev = ev.set("content", co)
		}
		m := difftool.Decode(enc(ev))
		_, err := signing.ParseEvent(rpV(ver), withHash(ver, difftool.Enc(m)))
		if err != nil && tries > 1000 {
			panic(err) // invariant: the generator yields a valid event well within 1,000 tries
		}
		tries++
		if err == nil && mtxParseErr(ver, difftool.Enc(m)) == nil {
			return m
		}
	}
}

type mutation struct {
	name string
	ks   func(ver int, m M) KeySet // nil: std keys
	f    func(r *rand.Rand, ver int, m M, signers []string) M
}

func sigOf(m M, server string) map[string]any {
	s, _ := m["signatures"].(map[string]any)
	if s == nil {
		return nil
	}
	x, _ := s[server].(map[string]any)
	return x
}

func senderServer(m M) string { s, _ := m["sender"].(string); return domain(s) }

func tsOf(m M) int64 {
	n, _ := m["origin_server_ts"].(jsonv1.Number).Int64()
	return n
}

var mutations = []mutation{
	{name: "none"},
	{name: "content-unkept-changed", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		c, _ := m["content"].(map[string]any)
		c["zz_extra"] = "x"
		return m
	}},
	{name: "kept-depth-changed", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		m["depth"] = jsonv1.Number("9999")
		return m
	}},
	{name: "room_id-changed", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		if _, ok := m["room_id"]; ok {
			m["room_id"] = "!other:a.example"
		}
		return m
	}},
	{name: "origin-changed", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		m["origin"] = "zz.example"
		return m
	}},
	{name: "membership-or-via-changed", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		c, _ := m["content"].(map[string]any)
		if _, ok := c["join_authorised_via_users_server"]; ok {
			c["join_authorised_via_users_server"] = "@other:" + senderServer(m)
		} else if _, ok := c["membership"]; ok {
			c["membership"] = "ban"
		}
		return m
	}},
	{name: "top-unknown-added", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		m["zz_unknown"] = M{"a": jsonv1.Number("1")}
		return m
	}},
	{name: "unsigned-added", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		m["unsigned"] = M{"age": jsonv1.Number("5")}
		return m
	}},
	{name: "event_id-added", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		if ver >= 3 {
			m["event_id"] = "$stray:a.example"
		}
		return m
	}},
	{name: "sender-sig-dropped", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		delete(m["signatures"].(map[string]any), senderServer(m))
		return m
	}},
	{name: "other-required-sig-dropped", f: func(r *rand.Rand, ver int, m M, signers []string) M {
		if len(signers) > 1 {
			delete(m["signatures"].(map[string]any), signers[len(signers)-1])
		}
		return m
	}},
	{name: "sig-byte-flipped", f: func(r *rand.Rand, ver int, m M, signers []string) M {
		s := sigOf(m, difftool.Pick(r, signers...))
		b, _ := base64.RawStdEncoding.DecodeString(s["ed25519:1"].(string))
		b[r.Intn(len(b))] ^= 1 << r.Intn(8)
		s["ed25519:1"] = base64.RawStdEncoding.EncodeToString(b)
		return m
	}},
	{name: "sig-padded", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		s := sigOf(m, senderServer(m))
		s["ed25519:1"] = s["ed25519:1"].(string) + "=="
		return m
	}},
	{name: "sig-urlsafe", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		s := sigOf(m, senderServer(m))
		v := s["ed25519:1"].(string)
		s["ed25519:1"] = strings.NewReplacer("+", "-", "/", "_").Replace(v)
		return m
	}},
	{name: "unknown-keyid-added", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		sigOf(m, senderServer(m))["ed25519:zz"] = "garbage"
		sigOf(m, senderServer(m))["curve25519:1"] = "garbage"
		return m
	}},
	{name: "bad-sig-known-key2", ks: func(int, M) KeySet { return stdKeySet(true) }, f: func(r *rand.Rand, ver int, m M, _ []string) M {
		sigOf(m, senderServer(m))["ed25519:2"] = sigOf(m, senderServer(m))["ed25519:1"]
		return m
	}},
	{name: "key-expired", ks: func(ver int, m M) KeySet {
		ks := stdKeySet(false)
		s := senderServer(m)
		ks.keys[s]["ed25519:1"] = pubKey{key: ks.keys[s]["ed25519:1"].key, validUntil: tsOf(m) - 1}
		return ks
	}},
	{name: "key-valid-until-equal", ks: func(ver int, m M) KeySet {
		ks := stdKeySet(false)
		s := senderServer(m)
		ks.keys[s]["ed25519:1"] = pubKey{key: ks.keys[s]["ed25519:1"].key, validUntil: tsOf(m)}
		return ks
	}},
	{name: "sender-key-unknown", ks: func(ver int, m M) KeySet {
		ks := stdKeySet(false)
		delete(ks.keys, senderServer(m))
		return ks
	}},
	{name: "hashes-removed", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		delete(m, "hashes")
		return m
	}},
	{name: "hashes-other", f: func(r *rand.Rand, ver int, m M, _ []string) M {
		m["hashes"] = M{"sha256": difftool.B64(randHash(r))}
		return m
	}},
}

var mutationByName = map[string]mutation{}

func init() {
	for _, mu := range mutations {
		mutationByName[mu.name] = mu
	}
}

func runSign(rc *recorder, seed int64, n int) {
	r := rand.New(rand.NewSource(seed + 1000))
	for i := 0; i < n; i++ {
		ver := 1 + i%12
		m := genSignEvent(r, ver)
		signers := signersOf(ver, m)
		raw := difftool.Enc(m)
		// the two sides' signed events must be the same bytes (ed25519 is deterministic)
		rpOut, rpErr := rpSign(ver, raw, signers, "1")
		mtxOut, mtxErr := mtxSign(ver, raw, signers, "1")
		o1, o2 := Outcome{Val: string(rpOut)}, Outcome{Val: string(mtxOut)}
		if rpErr != nil {
			o1 = errOut(rpErr)
		}
		if mtxErr != nil {
			o2 = errOut(mtxErr)
		}
		if agree(o1, o2) {
			rc.record("sign-bytes", true, "", "")
		} else {
			rc.record("sign-bytes", false, "sign-bytes "+verBand(ver)+" "+shape(o1, o2), fmt.Sprintf("v%d %s | rp=%s | mtx=%s", ver, raw, o1, o2))
		}
		for _, sd := range []struct {
			side   string
			signed []byte
		}{{"rp", rpOut}, {"mtx", mtxOut}} {
			side, signed := sd.side, sd.signed
			if signed == nil {
				continue
			}
			for _, mu := range mutations {
				compareVerdicts(rc, "sign", r, ver, signed, signers, side, mu)
			}
		}
	}
}

func compareVerdicts(rc *recorder, area string, r *rand.Rand, ver int, signed []byte, signers []string, side string, mu mutation) {
	m := difftool.Decode(signed)
	if mu.f != nil {
		m = mu.f(r, ver, m, signers)
	}
	ks := stdKeySet(false)
	if mu.ks != nil {
		ks = mu.ks(ver, m)
	}
	raw := difftool.Enc(m)
	rv, mv := rpVerdict(ver, raw, ks), mtxVerdict(ver, raw, ks)
	if rv == mv {
		rc.record(area, true, "", "")
		return
	}
	class := classifySign(ver, mu.name, rv, mv)
	rc.record(area, false, class, fmt.Sprintf("v%d signed-by=%s mutation=%s %s | rp=%s | mtx=%s", ver, side, mu.name, raw, rv, mv))
}

func classifySign(ver int, mu, rv, mv string) string {
	switch {
	case mu == "sig-padded" && rv == "valid" && mv == "reject":
		return "S-padded-signature"
	case mu == "sig-urlsafe" && rv == "valid" && mv == "reject":
		return "S-urlsafe-signature"
	case mu == "unknown-keyid-added" && ver <= 2 && rv == "valid" && mv == "reject":
		return "S-v1-2-unknown-keyid-rejects"
	case mu == "event_id-added" && ver >= 3 && rv == "reject" && mv == "redact":
		return "S-v3plus-event_id-added"
	}
	return fmt.Sprintf("%s %s rp=%s mtx=%s", mu, verBand(ver), rv, mv)
}

// corpus

type corpusFile struct {
	RoomVersion string                       `json:"room_version"`
	Keys        map[string]map[string]string `json:"keys"`
	Events      []jsonv1.RawMessage          `json:"events"`
	EventIDs    []string                     `json:"event_ids"`
}

func runCorpus(rc *recorder, seed int64, path string, n int) {
	data, err := os.ReadFile(path)
	if err != nil {
		rc.t.Problem("corpus: "+err.Error(), path)
		return
	}
	var c corpusFile
	if err := jsonv1.Unmarshal(data, &c); err != nil {
		rc.t.Problem("corpus: "+err.Error(), path)
		return
	}
	ver := 9
	// the corpus keys are the harness's keys (seed sha256(server), version 1): check
	for s, m := range c.Keys {
		for kid, k := range m {
			if kid != "ed25519:1" || k != base64.RawStdEncoding.EncodeToString(keyFor(s, "1").Public()) {
				rc.t.Problem("corpus key differs from the harness's", s+" "+kid)
				return
			}
		}
	}
	ks := stdKeySet(false)
	r := rand.New(rand.NewSource(seed + 2000))
	for i, ev := range c.Events {
		raw := []byte(ev)
		want := Outcome{Val: c.EventIDs[i]}
		for _, x := range []struct {
			name string
			got  Outcome
		}{{"rp", rpEventID(ver, raw)}, {"mtx", mtxEventID(ver, raw)}} {
			name, got := x.name, x.got
			ok := agree(want, got)
			cls := ""
			if !ok {
				cls = "corpus-event-id-" + name
			}
			rc.record("corpus-id", ok, cls, fmt.Sprintf("event %d: want %s got %s", i, want, got))
		}
		rv, mv := rpVerdict(ver, raw, ks), mtxVerdict(ver, raw, ks)
		if rv == "valid" && mv == "valid" {
			rc.record("corpus-verify", true, "", "")
		} else {
			rc.record("corpus-verify", false, "corpus-verify rp="+rv+" mtx="+mv, fmt.Sprintf("event %d", i))
		}
		m := difftool.Decode(raw)
		signers := signersOf(ver, m)
		// the corpus's own signatures, mutated; each mutation n/len times at random
		names := make([]string, 0, len(mutations))
		for _, mu := range mutations {
			names = append(names, mu.name)
		}
		sort.Strings(names)
		for j := 0; j < n; j++ {
			compareVerdicts(rc, "corpus-mut", r, ver, raw, signers, "corpus", mutationByName[names[j%len(names)]])
		}
	}
}

// withHash: the event with some hashes member, for the parse check only.
func withHash(ver int, raw []byte) []byte {
	m := difftool.Decode(raw)
	m["hashes"] = M{"sha256": difftool.B64(make([]byte, 32))}
	m["signatures"] = M{}
	return difftool.Enc(m)
}

package main

// Areas ed25519 and bulk: crafted ed25519 signatures (craft.go) checked by roomproto and by
// PyNaCl (libsodium's crypto_sign_open). SECURITY.md says roomproto checks ed25519 "as
// libsodium checks it (which Synapse uses)": these areas have no known class, every divergence
// is a finding against that claim.

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

var edArea = &Area{
	Name:     "ed25519",
	Title:    "signing.HasValidSignature / VerifyJSONServer vs PyNaCl VerifyKey.verify / signedjson on crafted signatures",
	Unit:     "crafted signatures (the cases in turn), each checked two ways",
	DefaultN: 6000,
	Run:      runEd,
}

var bulkArea = &Area{
	Name:     "bulk",
	Title:    "signing.VerifyEvents (one worker: plain, then prepared and cached keys), VerifyEvent and KeyCache.VerifyEvent vs PyNaCl on v10 events with crafted signatures",
	Unit:     "keys, each signing 6 events with one crafted case",
	DefaultN: 600,
	Run:      runBulk,
}

// caseStat counts, for one crafted case, how often each side accepted.
type caseStat struct{ n, sodium, roomproto, stdlib int }

var (
	caseStatsMu sync.Mutex
	caseStats   = map[string]*caseStat{}
)

func noteCase(name string, sodium, rp, std bool) {
	caseStatsMu.Lock()
	defer caseStatsMu.Unlock()
	s := caseStats[name]
	if s == nil {
		s = &caseStat{}
		caseStats[name] = s
	}
	s.n++
	for _, x := range []struct {
		ok bool
		c  *int
	}{{sodium, &s.sodium}, {rp, &s.roomproto}, {std, &s.stdlib}} {
		if x.ok {
			*x.c++
		}
	}
}

// caseTable is the per-case table of the runs so far (Markdown).
func caseTable() string {
	caseStatsMu.Lock()
	defer caseStatsMu.Unlock()
	var b strings.Builder
	b.WriteString("| crafted case | checks | libsodium accepts | roomproto accepts | crypto/ed25519 accepts |\n|---|---:|---:|---:|---:|\n")
	order := map[string]int{}
	for i, c := range edCases {
		order[c.name] = i
	}
	names := make([]string, 0, len(caseStats))
	for k := range caseStats {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return order[names[i]] < order[names[j]] })
	for _, k := range names {
		s := caseStats[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", k, s.n, s.sodium, s.roomproto, s.stdlib)
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "valid"
	}
	return "invalid"
}

const edServer, edKeyID = "s.test", "ed25519:k"

// withSignature returns the canonical object msg with signatures[edServer][edKeyID] = sig.
func withSignature(msg, sig []byte) []byte {
	s := `"signatures":{"` + edServer + `":{"` + edKeyID + `":"` + base64.RawStdEncoding.EncodeToString(sig) + `"}}}`
	if string(msg) == "{}" {
		return []byte("{" + s)
	}
	return []byte(string(msg[:len(msg)-1]) + "," + s)
}

// craftFor tries nonces until the case can be built; msgFor gives the message of a nonce.
func craftFor(c edCase, caseSeed int64, priv ed25519.PrivateKey, msgFor func(int) []byte) (msg, pub, sig []byte, ok bool) {
	for nonce := 0; nonce < 400; nonce++ {
		msg = msgFor(nonce)
		if pub, sig, ok = c.craft(rand.New(rand.NewSource(caseSeed)), priv, msg); ok {
			return msg, pub, sig, true
		}
	}
	return nil, nil, nil, false
}

func randPriv(r *rand.Rand) ed25519.PrivateKey {
	seed := make([]byte, 32)
	r.Read(seed)
	return ed25519.NewKeyFromSeed(seed)
}

func runEd(t *Tally, n int, seed int64) {
	py := theOracle()
	r := rand.New(rand.NewSource(seed))
	g := &jgen{r: r}
	for i := 0; i < n; i++ {
		c := edCases[i%len(edCases)]
		priv := randPriv(r)
		base := canonicalBase(g)
		msg, pub, sig, ok := craftFor(c, r.Int63(), priv, func(nonce int) []byte {
			return []byte(strings.Replace(base, "«N»", fmt.Sprint(nonce), 1))
		})
		if !ok {
			t.Problem("harness: case "+c.name+" could not be built", base)
			continue
		}
		obj := withSignature(msg, sig)
		sodium := py.raw(msg, sig, pub).OK
		std := len(pub) == ed25519.PublicKeySize && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig)
		rpRaw, _ := signing.HasValidSignature(obj, pub)
		noteCase(c.name, sodium, rpRaw, std)
		ex := fmt.Sprintf("%s\nmsg %q\npub %x\nsig %x\nobject %s\ncrypto/ed25519: %s", c.name, msg, pub, sig, obj, verdict(std))
		compareVerdicts(t, "HasValidSignature vs PyNaCl", c.name, rpRaw, sodium, ex, std)

		ring := signing.KeyRing{edServer: {edKeyID: signing.PublicKey{Key: pub}}}
		rpErr := signing.VerifyJSONServer(obj, edServer, ring)
		pa := py.verify(obj, edServer, map[string]map[string][]byte{edServer: {edKeyID: pub}})
		compareVerdicts(t, "VerifyJSONServer vs signedjson", c.name, rpErr == nil, pa.OK, fmt.Sprintf("%s\nroomproto: %v\nSynapse: %s", ex, rpErr, pa.Err), std)
	}
}

func compareVerdicts(t *Tally, how, name string, rp, py bool, example string, std bool) {
	if rp == py {
		t.Agree()
		return
	}
	t.Diverge("", fmt.Sprintf("%s | %s: roomproto %s, libsodium %s (crypto/ed25519 %s)", how, name, verdict(rp), verdict(py), verdict(std)), example)
}

// canonicalBase is a small canonical object with a «N» placeholder for the nonce.
func canonicalBase(g *jgen) string {
	var parts []string
	for i := g.r.Intn(4); i > 0; i-- {
		parts = append(parts, fmt.Sprintf(`"%s":%s`, pickKey(g), g.value(2)))
	}
	parts = append(parts, `"nonce":«N»`)
	raw := "{" + strings.Join(parts, ",") + "}"
	c, err := canonicaljson.CanonicalStrict([]byte(strings.Replace(raw, "«N»", "0", 1)))
	if err != nil {
		return `{"nonce":«N»}`
	}
	return strings.Replace(string(c), `"nonce":0`, `"nonce":«N»`, 1)
}

func pickKey(g *jgen) string {
	for {
		k := g.r.Intn(1000)
		s := fmt.Sprintf("k%d", k)
		if s != "nonce" {
			return s
		}
	}
}

// v10Event returns a v10 PDU with no content (redaction leaves it unchanged), its content hash
// set, unsigned: its canonical form is the message its signatures cover.
func v10Event(v roomversion.Version, ts int) []byte {
	ev := fmt.Sprintf(`{"auth_events":[],"content":{},"depth":1,"origin_server_ts":%d,"prev_events":[],"room_id":"!r:s.test","sender":"@u:s.test","type":"m.room.message"}`, 1700000000000+ts)
	h, err := signing.ContentHash(v, []byte(ev))
	if err != nil {
		panic(err) // invariant: the harness's own event
	}
	ev = strings.Replace(ev, `"origin_server_ts"`, `"hashes":{"sha256":"`+base64.RawStdEncoding.EncodeToString(h[:])+`"},"origin_server_ts"`, 1)
	c, err := canonicaljson.CanonicalStrict([]byte(ev))
	if err != nil {
		panic(err) // invariant: the harness's own event
	}
	return c
}

const bulkEvents = 6

func runBulk(t *Tally, n int, seed int64) {
	py := theOracle()
	v, err := roomversion.Lookup("10")
	if err != nil {
		panic(err) // invariant: a room version of the spec
	}
	r := rand.New(rand.NewSource(seed))
	// Self-check: an honest signature of the harness's event verifies.
	{
		priv := randPriv(r)
		ev := v10Event(v, 0)
		obj := withSignature(ev, ed25519.Sign(priv, ev))
		ring := signing.KeyRing{edServer: {edKeyID: signing.PublicKey{Key: priv.Public().(ed25519.PublicKey)}}}
		if err := signing.VerifyEvent(v, obj, ring); err != nil {
			t.Problem("harness: the honest event does not verify", fmt.Sprintf("%s\n%v", obj, err))
			return
		}
	}
	for i := 0; i < n; i++ {
		c := edCases[i%len(edCases)]
		priv := randPriv(r)
		caseSeed := r.Int63()
		var events [][]byte
		var msgs, sigs [][]byte
		var pub0 []byte
		next := 0
		for len(events) < bulkEvents {
			msg, pub, sig, ok := craftFor(c, caseSeed, priv, func(nonce int) []byte { return v10Event(v, next+nonce) })
			if !ok {
				break
			}
			next += 1000
			if pub0 == nil {
				pub0 = pub
			} else if string(pub) != string(pub0) {
				continue
			}
			events = append(events, withSignature(msg, sig))
			msgs = append(msgs, msg)
			sigs = append(sigs, sig)
		}
		if len(events) == 0 {
			t.Problem("harness: case "+c.name+" could not be built", "")
			continue
		}
		ring := signing.KeyRing{edServer: {edKeyID: signing.PublicKey{Key: pub0}}}
		bulk := signing.VerifyEvents(v, events, ring, &signing.BatchOptions{Workers: 1})
		var cache signing.KeyCache // the key is prepared at its second event
		for j, ev := range events {
			sodium := py.raw(msgs[j], sigs[j], pub0).OK
			std := len(pub0) == ed25519.PublicKeySize && len(sigs[j]) == ed25519.SignatureSize && ed25519.Verify(pub0, msgs[j], sigs[j])
			single := signing.VerifyEvent(v, ev, ring)
			ex := fmt.Sprintf("%s, event %d of %d\npub %x\nevent %s\ncrypto/ed25519: %s", c.name, j+1, len(events), pub0, ev, verdict(std))
			compareVerdicts(t, "VerifyEvents (bulk) vs PyNaCl", c.name, bulk[j] == nil, sodium, fmt.Sprintf("%s\nroomproto: %v", ex, bulk[j]), std)
			compareVerdicts(t, "VerifyEvent vs PyNaCl", c.name, single == nil, sodium, fmt.Sprintf("%s\nroomproto: %v", ex, single), std)
			cached := cache.VerifyEvent(v, ev, ring)
			compareVerdicts(t, "KeyCache.VerifyEvent vs PyNaCl", c.name, cached == nil, sodium, fmt.Sprintf("%s\nroomproto: %v", ex, cached), std)
		}
	}
}

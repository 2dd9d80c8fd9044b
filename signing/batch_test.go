package signing

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	voied "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// Test helpers of this file are prefixed "bt" to keep clear of the other test files of the
// package.

func btKey(server string) SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, err := NewSigningKey("1", seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

func btVersion(t testing.TB, id string) roomversion.Version {
	t.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const btServers = 6

func btServer(i int) string { return fmt.Sprintf("hs%d.example", i) }

// btRing holds the keys of every test server, plus an expired second key of hs5.
func btRing() KeyRing {
	r := KeyRing{}
	for i := 0; i < btServers; i++ {
		s := btServer(i)
		r[s] = map[string]PublicKey{"ed25519:1": {Key: btKey(s).Public()}}
	}
	return r
}

// btEvent builds and signs a random event of version v: messages, member events (restricted
// joins with an authorising server in v8+, third-party invites), name changes.
func btEvent(t testing.TB, v roomversion.Version, rng *rand.Rand, i int) []byte {
	t.Helper()
	senderSrv := btServer(rng.IntN(btServers))
	sender := fmt.Sprintf("@u%d:%s", i, senderSrv)
	ev := map[string]any{
		"room_id":          "!r:hs0.example",
		"sender":           sender,
		"origin_server_ts": 1_700_000_000_000 + int64(i)*1000,
		"depth":            i + 1,
		"prev_events":      []any{},
		"auth_events":      []any{},
	}
	if v.Format.HasEventIDField {
		ev["event_id"] = fmt.Sprintf("$e%d:%s", i, btServer(rng.IntN(btServers)))
	}
	signers := []string{senderSrv}
	switch rng.IntN(5) {
	case 0, 1:
		ev["type"] = "m.room.message"
		ev["content"] = map[string]any{"msgtype": "m.text", "body": strings.Repeat("é", rng.IntN(400))}
	case 2:
		ev["type"] = "m.room.member"
		ev["state_key"] = sender
		c := map[string]any{"membership": "join", "displayname": fmt.Sprint("user ", i)}
		if v.Auth.RestrictedJoinRule && rng.IntN(2) == 0 {
			as := btServer(rng.IntN(btServers))
			c[ContentJoinAuthorisedViaUsersServer] = "@mod:" + as
			signers = append(signers, as)
		}
		ev["content"] = c
	case 3:
		// A third-party invite, signed by a server other than the sender's.
		ev["type"] = "m.room.member"
		ev["state_key"] = fmt.Sprintf("@invitee%d:hs1.example", i)
		ev["content"] = map[string]any{"membership": "invite", "third_party_invite": map[string]any{
			"display_name": "x", "signed": map[string]any{"mxid": "@x:hs1.example", "token": "t"}}}
		signers = []string{btServer(rng.IntN(btServers))}
	default:
		ev["type"] = "m.room.name"
		ev["state_key"] = ""
		ev["content"] = map[string]any{"name": fmt.Sprint("room ", i)}
	}
	if v.Format.HasEventIDField {
		d, _ := ServerName(ev["event_id"].(string))
		signers = append(signers, d)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = canonicaljson.Append(nil, raw, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, s := range signers {
		if done[s] {
			continue
		}
		done[s] = true
		if raw, err = SignEvent(v, raw, s, btKey(s)); err != nil {
			t.Fatal(err)
		}
	}
	return raw
}

// btEdit decodes an event to its top-level members, lets f change them, and re-encodes it.
func btEdit(t testing.TB, v roomversion.Version, raw []byte, f func(m map[string]json.RawMessage)) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if out, err = canonicaljson.Append(nil, out, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}); err != nil {
		t.Fatal(err)
	}
	return out
}

// btSigs returns the event's signatures.
func btSigs(t testing.TB, m map[string]json.RawMessage) map[string]map[string]string {
	var sigs map[string]map[string]string
	if err := json.Unmarshal(m["signatures"], &sigs); err != nil {
		t.Fatal(err)
	}
	return sigs
}

func btSetSigs(m map[string]json.RawMessage, sigs map[string]map[string]string) {
	m["signatures"], _ = json.Marshal(sigs)
}

// btMutate applies one of the kinds of damage a room dump can hold; kind 0 leaves the event
// alone.
func btMutate(t testing.TB, v roomversion.Version, rng *rand.Rand, raw []byte, kind int) []byte {
	switch kind {
	case 0:
		return raw
	case 1: // flip a bit of one signature → bad signature
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			sigs := btSigs(t, m)
			for s, ks := range sigs {
				for id, sig := range ks {
					b, _ := base64.RawStdEncoding.DecodeString(sig)
					b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
					ks[id] = base64.RawStdEncoding.EncodeToString(b)
					_ = s
					btSetSigs(m, sigs)
					return
				}
			}
		})
	case 2: // change content that redaction removes → content hash mismatch (or bad signature
		// when the key is one redaction keeps)
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			var c map[string]json.RawMessage
			_ = json.Unmarshal(m["content"], &c)
			c["tampered"] = json.RawMessage(`"yes"`)
			m["content"], _ = json.Marshal(c)
		})
	case 3: // change a field redaction keeps → bad signature
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			m["origin_server_ts"] = json.RawMessage(`12345`)
		})
	case 4: // sign with an unknown key ID → unknown key
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			sigs := btSigs(t, m)
			for _, ks := range sigs {
				for id, sig := range ks {
					delete(ks, id)
					ks["ed25519:other"] = sig
					break
				}
				break
			}
			btSetSigs(m, sigs)
		})
	case 5: // drop a server's signatures → missing signature
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			sigs := btSigs(t, m)
			for s := range sigs {
				delete(sigs, s)
				break
			}
			btSetSigs(m, sigs)
		})
	case 6: // signature that is not base64 of 64 bytes
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			sigs := btSigs(t, m)
			for _, ks := range sigs {
				for id := range ks {
					ks[id] = "AAAA"
				}
			}
			btSetSigs(m, sigs)
		})
	case 7: // an extra signature by a known key that is wrong, beside the right one
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
			sigs := btSigs(t, m)
			for _, ks := range sigs {
				ks["ed25519:2"] = base64.RawStdEncoding.EncodeToString(make([]byte, 64))
			}
			btSetSigs(m, sigs)
		})
	case 8: // a signature whose R has a small-order component: cofactored checks accept it
		return btTorsionSign(t, v, raw)
	case 9: // not an event
		return []byte(`{"type":`)
	default: // remove the content hash → no content hash / malformed
		return btEdit(t, v, raw, func(m map[string]json.RawMessage) { delete(m, "hashes") })
	}
}

const btKinds = 11

// btRingWithExtras is btRing plus a second key "ed25519:2" for hs0-hs2 (so that signatures
// by it are checked) and an expired key "ed25519:1" for hs5.
func btRingWithExtras() KeyRing {
	r := btRing()
	for i := 0; i < 3; i++ {
		s := btServer(i)
		r[s]["ed25519:2"] = PublicKey{Key: btKey(s + "/2").Public()}
	}
	r[btServer(5)]["ed25519:1"] = PublicKey{Key: btKey(btServer(5)).Public(), ValidUntilTS: 1_700_000_000_000 + 500_000}
	return r
}

// TestVerifyEventsMatchesVerifyEvent is the differential test of issue 6: on large random
// mixes of good and damaged events of several room versions, VerifyEvents must return for
// every event exactly the error VerifyEvent returns.
func TestVerifyEventsMatchesVerifyEvent(t *testing.T) {
	n := 1500
	if testing.Short() {
		n = 400
	}
	keys := btRingWithExtras()
	for _, vid := range []string{"1", "3", "5", "9", "10", "11"} {
		t.Run("v"+vid, func(t *testing.T) {
			v := btVersion(t, vid)
			rng := rand.New(rand.NewPCG(uint64(len(vid)), 42))
			events := make([][]byte, n)
			for i := range events {
				kind := 0
				if rng.IntN(3) == 0 {
					kind = 1 + rng.IntN(btKinds-1)
				}
				events[i] = btMutate(t, v, rng, btEvent(t, v, rng, i), kind)
			}
			got := VerifyEvents(v, events, keys, &BatchOptions{Workers: 4})
			counts := map[Verdict]int{}
			for i, raw := range events {
				want := VerifyEvent(v, raw, keys)
				btSameError(t, i, got[i], want)
				counts[VerdictOf(want)]++
			}
			// The mix must hold every verdict, else the test proves little.
			for _, vd := range []Verdict{VerdictValid, VerdictRedact, VerdictNeedKey, VerdictReject} {
				if counts[vd] == 0 {
					t.Errorf("no event with verdict %v in the mix: %v", vd, counts)
				}
			}
			// ParseAndVerifyEvents: the events of ParseEvent, the errors of VerifyEvent.
			pevs, perrs := ParseAndVerifyEvents(v, events, keys, &BatchOptions{Workers: 3})
			for i, raw := range events {
				btSameError(t, i, perrs[i], VerifyEvent(v, raw, keys))
				want, werr := ParseEvent(v, raw)
				if (werr == nil) != (pevs[i] != nil) || (werr == nil && pevs[i].EventID != want.EventID) {
					t.Fatalf("event %d: ParseAndVerifyEvents gives %v, ParseEvent %v, %v", i, pevs[i], want, werr)
				}
			}
			// Parsed events give the same answers.
			parsed := make([]*pdu.Event, len(events))
			for i, raw := range events {
				parsed[i], _ = pdu.Parse(v, raw) // nil for the unparsable ones
			}
			gotParsed := VerifyParsedEvents(parsed, keys, nil)
			for i, ev := range parsed {
				if ev == nil {
					if VerdictOf(gotParsed[i]) != VerdictReject {
						t.Fatalf("nil event %d: %v", i, gotParsed[i])
					}
					continue
				}
				btSameError(t, i, gotParsed[i], VerifyParsedEvent(ev, keys))
			}
		})
	}
}

func btSameError(t *testing.T, i int, got, want error) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("event %d: VerifyEvents says %v, VerifyEvent says %v", i, got, want)
	}
	if got == nil {
		return
	}
	if got.Error() != want.Error() {
		t.Fatalf("event %d: VerifyEvents says %q, VerifyEvent says %q", i, got, want)
	}
	var g, w *VerificationError
	if errors.As(got, &g) != errors.As(want, &w) {
		t.Fatalf("event %d: error types differ: %T, %T", i, got, want)
	}
	if g != nil && (g.Err != w.Err || g.Server != w.Server || g.KeyID != w.KeyID) {
		t.Fatalf("event %d: %+v, want %+v", i, g, w)
	}
}

// btTorsionPoint is a point of order 8 (the small-order public key of speccheck case 0).
var btTorsionPoint = func() curve.EdwardsPoint {
	b, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa")
	var c curve.CompressedEdwardsY
	var p curve.EdwardsPoint
	if _, err := c.SetBytes(b); err != nil {
		panic(err)
	}
	if _, err := p.SetCompressedY(&c); err != nil {
		panic(err)
	}
	return p
}()

// btMixedOrderSign signs msg with priv as a dishonest signer can: R = r·B + T with T of order
// 8, S = r + H(R‖A‖M)·a. Then S·B − k·A = R − T ≠ R (cofactorless verification fails) while
// [8](S·B − k·A − R) = 0 (cofactored verification, and so every batch verification, passes).
func btMixedOrderSign(priv ed25519.PrivateKey, msg []byte) []byte {
	h := sha512.Sum512(priv.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	var a, r, k, s scalar.Scalar
	if _, err := a.SetBytesModOrder(h[:32]); err != nil {
		panic(err)
	}
	rh := sha512.Sum512(append([]byte("nonce"), msg...))
	if _, err := r.SetBytesModOrderWide(rh[:]); err != nil {
		panic(err)
	}
	var R curve.EdwardsPoint
	R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r)
	R.Add(&R, &btTorsionPoint)
	var Rc curve.CompressedEdwardsY
	Rc.SetEdwardsPoint(&R)
	kh := sha512.New()
	kh.Write(Rc[:])
	kh.Write(priv.Public().(ed25519.PublicKey))
	kh.Write(msg)
	if _, err := k.SetBytesModOrderWide(kh.Sum(nil)); err != nil {
		panic(err)
	}
	s.Mul(&k, &a)
	s.Add(&s, &r)
	sig := make([]byte, 64)
	copy(sig, Rc[:])
	if err := s.ToBytes(sig[32:]); err != nil {
		panic(err)
	}
	return sig
}

// btTorsionSign replaces the sender server's signature of an event with a mixed-order one.
func btTorsionSign(t testing.TB, v roomversion.Version, raw []byte) []byte {
	ev, err := pdu.Parse(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	sc := getScratch()
	defer putScratch(sc)
	canon, err := canonicalObject(nil, raw, v.Format.StrictCanonicalJSON)
	if err != nil {
		t.Fatal(err)
	}
	if err := signedEventBytes(sc, v, canon); err != nil {
		t.Fatal(err)
	}
	server, _ := ServerName(ev.Sender)
	sig := btMixedOrderSign(btKey(server).Private, sc.msg)
	return btEdit(t, v, raw, func(m map[string]json.RawMessage) {
		sigs := btSigs(t, m)
		if sigs[server] == nil {
			sigs[server] = map[string]string{}
		}
		sigs[server]["ed25519:1"] = base64.RawStdEncoding.EncodeToString(sig)
		btSetSigs(m, sigs)
	})
}

// TestBatchEquationIsCofactored records why VerifyEvents does not use ed25519 batch
// verification: a mixed-order signature passes curve25519-voi's batch verifier (and its
// cofactored single verification) while crypto/ed25519 rejects it. VerifyEvents must reject it.
func TestBatchEquationIsCofactored(t *testing.T) {
	priv := btKey("hs0.example").Private
	pub := priv.Public().(ed25519.PublicKey)
	msg := []byte("an event's signed bytes")
	sig := btMixedOrderSign(priv, msg)
	if ed25519.Verify(pub, msg, sig) {
		t.Fatal("crypto/ed25519 accepts the mixed-order signature")
	}
	bv := voied.NewBatchVerifier()
	bv.Add(voied.PublicKey(pub), msg, sig)
	good := ed25519.Sign(priv, []byte("honest"))
	bv.Add(voied.PublicKey(pub), []byte("honest"), good)
	if !bv.VerifyBatchOnly(nil) {
		t.Fatal("the batch verifier rejects the mixed-order signature; the decision in docs/decisions.md (bulk) needs revisiting")
	}
	w := newBatchWorker()
	defer w.release()
	if w.verify(pub, msg, sig) {
		t.Fatal("batchWorker.verify accepts the mixed-order signature")
	}
	if !w.verify(pub, []byte("honest"), good) {
		t.Fatal("batchWorker.verify rejects a good signature")
	}
}

// TestFastVerifyEdgeVectors compares the signature checks of this package (verifyEd25519, and
// the prepared keys and cache of VerifyEvents) with libsodium on the C2SP ed25519vectors
// (small-order and non-canonical keys, R and S) and the "Taming the many EdDSAs" speccheck
// cases, copied from curve25519-voi's test data to testdata/bulk. libsodium's verdicts were
// recorded from libsodium 1.0.18 (testdata/bulk/libsodium_verdicts.json); every vector it
// accepts crypto/ed25519 accepts too.
func TestFastVerifyEdgeVectors(t *testing.T) {
	type vec struct{ pub, msg, sig []byte }
	var vecs []vec
	load := func(name string, v any) {
		f, err := os.Open("../testdata/bulk/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(zr).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var c2sp []struct{ A, R, S, M string }
	load("ed25519vectors.json.gz", &c2sp)
	for _, c := range c2sp {
		vecs = append(vecs, vec{unhex(c.A), []byte(c.M), append(unhex(c.R), unhex(c.S)...)})
	}
	var spec []struct {
		Message   string `json:"message"`
		PubKey    string `json:"pub_key"`
		Signature string `json:"signature"`
	}
	load("speccheck_cases.json.gz", &spec)
	for _, c := range spec {
		vecs = append(vecs, vec{unhex(c.PubKey), unhex(c.Message), unhex(c.Signature)})
	}
	if len(vecs) < 700 {
		t.Fatalf("only %d vectors", len(vecs))
	}
	raw, err := os.ReadFile("../testdata/bulk/libsodium_verdicts.json")
	if err != nil {
		t.Fatal(err)
	}
	var sodium struct{ Verdicts []*bool }
	if err := json.Unmarshal(raw, &sodium); err != nil || len(sodium.Verdicts) != len(vecs) {
		t.Fatalf("libsodium verdicts: %v, %d for %d vectors", err, len(sodium.Verdicts), len(vecs))
	}
	accepted, fast, stricter := 0, 0, 0
	for i, x := range vecs {
		if len(x.pub) != 32 || sodium.Verdicts[i] == nil {
			continue
		}
		want := *sodium.Verdicts[i]
		if std := ed25519.Verify(x.pub, x.msg, x.sig); want && !std {
			t.Errorf("vector %d: libsodium accepts what crypto/ed25519 rejects", i)
		} else if std && !want {
			stricter++
		}
		if got := verifyEd25519(x.pub, x.msg, x.sig); got != want {
			t.Errorf("vector %d: verifyEd25519 = %v, libsodium = %v", i, got, want)
		}
		w := newBatchWorker()
		// First round: a key seen once is checked by verifyEd25519; second: it is prepared;
		// third: it comes from the cache.
		for round := 0; round < 3; round++ {
			if got := w.verify(x.pub, x.msg, x.sig); got != want {
				t.Errorf("vector %d: verify = %v, libsodium = %v", i, got, want)
			}
		}
		// The prepared-key path alone, on every key it takes.
		if fk := newFastKey(x.pub); fk != nil {
			fast++
			if got := fk.verify(sha512.New(), x.msg, x.sig); got != want {
				t.Errorf("vector %d: fastKey.verify = %v, libsodium = %v", i, got, want)
			}
		}
		w.release()
		if want {
			accepted++
		}
	}
	// Most C2SP keys have a small-order component and go to verifyEd25519; some vectors are
	// ones crypto/ed25519 accepts and libsodium does not.
	if accepted == 0 || fast < 20 || stricter == 0 {
		t.Fatalf("vectors exercise too little: %d accepted, %d on the fast path, %d only crypto/ed25519 accepts", accepted, fast, stricter)
	}
}

// TestFastVerifyRandom compares the fast path with crypto/ed25519 on random keys, messages and
// (mostly damaged) signatures.
func TestFastVerifyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w := newBatchWorker()
	defer w.release()
	for i := 0; i < 2000; i++ {
		priv := btKey(fmt.Sprint("k", i%17))
		msg := make([]byte, rng.IntN(300))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		sig := ed25519.Sign(priv.Private, msg)
		switch rng.IntN(9) {
		case 1:
			sig[rng.IntN(64)] ^= byte(1 << rng.IntN(8))
		case 2:
			sig = btMixedOrderSign(priv.Private, msg)
		case 3:
			if len(msg) > 0 {
				msg[0] ^= 1
			}
		case 4: // S + L: the same value mod L, not canonical
			btAddL(sig[32:])
		case 5: // R with a non-canonical y (y + p when y < 19) or the sign bit flipped
			if rng.IntN(2) == 0 {
				sig[31] ^= 0x80
			} else {
				copy(sig[:32], btNonCanonicalY(rng))
			}
		case 6: // a small-order R
			copy(sig[:32], btSmallOrder[rng.IntN(len(btSmallOrder))])
		case 7: // truncated or extended
			if rng.IntN(2) == 0 {
				sig = sig[:63]
			} else {
				sig = append(sig, 0)
			}
		case 8: // high bits of S set
			sig[63] |= 0xe0
		}
		pub := priv.Public()
		if got, want := w.verify(pub, msg, sig), ed25519.Verify(pub, msg, sig); got != want {
			t.Fatalf("case %d: verify = %v, crypto/ed25519 = %v", i, got, want)
		}
	}
}

// btAddL adds the group order L to the little-endian scalar s (in place; s < 2^253 so no
// overflow past 256 bits).
func btAddL(s []byte) {
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	carry := 0
	for i := range 32 {
		v := int(s[i]) + int(l[i]) + carry
		s[i], carry = byte(v), v>>8
	}
}

// btSmallOrder are encodings of points of small order (from the C2SP vectors).
var btSmallOrder = func() [][]byte {
	var out [][]byte
	for _, h := range []string{
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	} {
		b, _ := hex.DecodeString(h)
		out = append(out, b)
	}
	return out
}()

// btNonCanonicalY returns y + p for a small y: an encoding with y ≥ p.
func btNonCanonicalY(rng *rand.Rand) []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = 0xff
	}
	b[31] = 0x7f
	b[0] = byte(0xed + rng.IntN(19)) // p = 2^255 - 19 ends in 0xed
	if rng.IntN(2) == 0 {
		b[31] |= 0x80
	}
	return b
}

// TestVerifyEventsWorkersAndProgress: the result does not depend on the number of workers, and
// progress is monotonic and complete.
func TestVerifyEventsWorkersAndProgress(t *testing.T) {
	v := btVersion(t, "9")
	rng := rand.New(rand.NewPCG(3, 4))
	events := make([][]byte, 500)
	for i := range events {
		events[i] = btMutate(t, v, rng, btEvent(t, v, rng, i), rng.IntN(btKinds))
	}
	keys := btRing()
	ref := VerifyEvents(v, events, keys, &BatchOptions{Workers: 1})
	for _, workers := range []int{0, 2, 3, 16, 1000} {
		var (
			mu    sync.Mutex
			calls []int
		)
		got := VerifyEvents(v, events, keys, &BatchOptions{Workers: workers, Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			if total != len(events) {
				t.Errorf("total %d", total)
			}
			calls = append(calls, done)
		}})
		for i := range ref {
			btSameError(t, i, got[i], ref[i])
		}
		if !sort.IntsAreSorted(calls) || len(calls) == 0 || calls[len(calls)-1] != len(events) {
			t.Fatalf("workers %d: progress %v", workers, calls)
		}
	}
	for i, err := range VerifyEvents(v, events[:50], nil, nil) {
		if want := VerdictOf(VerifyEvent(v, events[i], KeyRing{})); VerdictOf(err) != want {
			t.Fatalf("nil keys, event %d: %v, want verdict %v", i, err, want)
		}
	}
	if out := VerifyEvents(v, nil, keys, nil); len(out) != 0 {
		t.Fatal("results for no events")
	}
	if out := VerifyParsedEvents([]*pdu.Event{nil}, keys, nil); !errors.Is(out[0], ErrMalformed) {
		t.Fatalf("nil event: %v", out[0])
	}
	for _, vd := range []Verdict{VerdictValid, VerdictRedact, VerdictNeedKey, VerdictReject, 9} {
		if vd.String() == "" {
			t.Fatal("empty verdict name")
		}
	}
}

// btCorpus makes n signed events of version 9 for the benchmarks: 1 KB messages and member
// events, like a room's state and auth chain.
func btCorpus(b testing.TB, n int) (roomversion.Version, [][]byte, KeyRing) {
	v := btVersion(b, "9")
	rng := rand.New(rand.NewPCG(5, 6))
	events := make([][]byte, n)
	for i := range events {
		events[i] = btEvent(b, v, rng, i)
	}
	return v, events, btRing()
}

// btCPU returns the CPU time (user + system) the process has used: on a machine shared with
// other work, wall-clock figures mislead; CPU time per event does not.
func btCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerifyEvents times VerifyEvents on 10k events with one worker and with all cores,
// against the one-by-one reference (VerifyEvent in a loop, crypto/ed25519) on one core.
func BenchmarkVerifyEvents(b *testing.B) {
	v, events, keys := btCorpus(b, 10_000)
	b.Run("one-by-one/ParseEvent+VerifyParsedEvent", func(b *testing.B) {
		cpu := btCPU()
		for b.Loop() {
			for _, e := range events {
				ev, err := ParseEvent(v, e)
				if err != nil {
					b.Fatal(err)
				}
				if err := VerifyParsedEvent(ev, keys); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64((btCPU()-cpu).Microseconds())/float64(len(events)*b.N), "cpu-µs/event")
	})
	b.Run("one-by-one/VerifyEvent", func(b *testing.B) {
		cpu := btCPU()
		for b.Loop() {
			for _, e := range events {
				if err := VerifyEvent(v, e, keys); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64((btCPU()-cpu).Microseconds())/float64(len(events)*b.N), "cpu-µs/event")
	})
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("VerifyEvents/workers=%d", workers), func(b *testing.B) {
			cpu := btCPU()
			for b.Loop() {
				for _, err := range VerifyEvents(v, events, keys, &BatchOptions{Workers: workers}) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((btCPU()-cpu).Microseconds())/float64(len(events)*b.N), "cpu-µs/event")
		})
		b.Run(fmt.Sprintf("ParseAndVerifyEvents/workers=%d", workers), func(b *testing.B) {
			cpu := btCPU()
			for b.Loop() {
				_, errs := ParseAndVerifyEvents(v, events, keys, &BatchOptions{Workers: workers})
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(events)*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64((btCPU()-cpu).Microseconds())/float64(len(events)*b.N), "cpu-µs/event")
		})
	}
}

// BenchmarkSignatureCheck times the signature check alone: crypto/ed25519.Verify against the
// prepared-key path of VerifyEvents (fixed-base tables for the key), on 1.3 KB messages.
func BenchmarkSignatureCheck(b *testing.B) {
	priv := btKey("hs0.example").Private
	pub := priv.Public().(ed25519.PublicKey)
	msg := make([]byte, 1300)
	sig := ed25519.Sign(priv, msg)
	b.Run("crypto-ed25519", func(b *testing.B) {
		cpu := btCPU()
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal()
			}
		}
		b.ReportMetric(float64((btCPU()-cpu).Nanoseconds())/float64(b.N)/1000, "cpu-µs/sig")
	})
	b.Run("prepared-key", func(b *testing.B) {
		w := newBatchWorker()
		defer w.release()
		w.verify(pub, msg, sig) // a key is prepared at its second use
		w.verify(pub, msg, sig)
		cpu := btCPU()
		for b.Loop() {
			if !w.verify(pub, msg, sig) {
				b.Fatal()
			}
		}
		b.ReportMetric(float64((btCPU()-cpu).Nanoseconds())/float64(b.N)/1000, "cpu-µs/sig")
	})
	b.Run("prepare-key", func(b *testing.B) {
		for b.Loop() {
			if newFastKey(pub) == nil {
				b.Fatal()
			}
		}
	})
	for _, n := range []int{64, 1024} {
		b.Run(fmt.Sprintf("voi-batch-cofactored/%d", n), func(b *testing.B) {
			cpu := btCPU()
			for b.Loop() {
				bv := voied.NewBatchVerifierWithCapacity(n)
				for range n {
					bv.Add(voied.PublicKey(pub), msg, sig)
				}
				if !bv.VerifyBatchOnly(nil) {
					b.Fatal()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/sig")
			b.ReportMetric(float64((btCPU()-cpu).Nanoseconds())/float64(b.N*n)/1000, "cpu-µs/sig")
		})
	}
	b.Run("voi-torsion-check-of-R", func(b *testing.B) {
		var c curve.CompressedEdwardsY
		var p curve.EdwardsPoint
		_, _ = c.SetBytes(sig[:32])
		_, _ = p.SetCompressedY(&c)
		cpu := btCPU()
		for b.Loop() {
			if !p.IsTorsionFree() {
				b.Fatal()
			}
		}
		b.ReportMetric(float64((btCPU()-cpu).Nanoseconds())/float64(b.N)/1000, "cpu-µs/sig")
	})
}

// FuzzParseAndVerifyEvents: on any bytes, ParseAndVerifyEvents gives the event of ParseEvent and
// the error of VerifyEvent, and never panics.
func FuzzParseAndVerifyEvents(f *testing.F) {
	keys := btRingWithExtras()
	rng := rand.New(rand.NewPCG(8, 8))
	for _, vid := range []string{"1", "9", "11"} {
		v := btVersion(f, vid)
		for i := 0; i < 4; i++ {
			f.Add(vid, btMutate(f, v, rng, btEvent(f, v, rng, i), i*2))
		}
	}
	f.Add("9", []byte(`{}`))
	f.Add("3", []byte(`not json`))
	f.Fuzz(func(t *testing.T, vid string, raw []byte) {
		v, err := roomversion.Lookup(vid)
		if err != nil {
			return
		}
		evs, errs := ParseAndVerifyEvents(v, [][]byte{raw}, keys, &BatchOptions{Workers: 1})
		btSameError(t, 0, errs[0], VerifyEvent(v, raw, keys))
		want, werr := ParseEvent(v, raw)
		if (werr == nil) != (evs[0] != nil) || (werr == nil && want.EventID != evs[0].EventID) {
			t.Fatalf("ParseAndVerifyEvents gives %v, ParseEvent %v, %v", evs[0], want, werr)
		}
		if got := VerifyEvents(v, [][]byte{raw}, keys, nil); fmt.Sprint(got[0]) != fmt.Sprint(errs[0]) {
			t.Fatalf("VerifyEvents %v, ParseAndVerifyEvents %v", got[0], errs[0])
		}
	})
}

// TestVerifyEventsSharedCorpus: the independently made benchmark corpus of shared/bench verifies
// in bulk, with the event IDs it lists.
func TestVerifyEventsSharedCorpus(t *testing.T) {
	data, err := os.ReadFile("../../shared/bench/corpus.json")
	if err != nil {
		t.Skip("shared/bench/corpus.json not found beside the project")
	}
	c, err := benchcorpus.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseKeyRing(c.Keys)
	if err != nil {
		t.Fatal(err)
	}
	v := btVersion(t, c.RoomVersion)
	events, ids := c.Events, c.EventIDs
	evs, errs := ParseAndVerifyEvents(v, events, keys, nil)
	for i := range events {
		if errs[i] != nil || evs[i] == nil || evs[i].EventID != ids[i] {
			t.Fatalf("corpus event %d: %v, id %v want %s", i, errs[i], evs[i], ids[i])
		}
	}
}

// TestBatchWorkerKeyCacheIsBounded gives one worker more distinct keys than maxCachedKeys (each
// prepared key is about 30 KiB), each used twice, and checks that it keeps no more than that,
// and that keys past the bound, left to verifyEd25519, still give crypto/ed25519's verdicts.
func TestBatchWorkerKeyCacheIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("prepares over a thousand keys")
	}
	w := newBatchWorker()
	defer w.release()
	msg := []byte("bounded")
	for i := 0; i < maxCachedKeys+8; i++ {
		var seed [ed25519.SeedSize]byte
		binary.BigEndian.PutUint32(seed[:], uint32(i))
		priv := ed25519.NewKeyFromSeed(seed[:])
		pub := priv.Public().(ed25519.PublicKey)
		sig := ed25519.Sign(priv, msg)
		if !w.verify(pub, msg, sig) {
			t.Fatalf("key %d: good signature refused", i)
		}
		bad := bytes.Clone(sig)
		bad[0] ^= 1
		if w.verify(pub, msg, bad) {
			t.Fatalf("key %d: damaged signature accepted", i)
		}
		if len(w.keys) > maxCachedKeys {
			t.Fatalf("%d keys cached; bound %d", len(w.keys), maxCachedKeys)
		}
	}
	if len(w.keys) != maxCachedKeys {
		t.Fatalf("%d keys cached, want the bound %d", len(w.keys), maxCachedKeys)
	}
}

// TestBatchWorkerPreparesKeysUsedTwice checks when a worker prepares a key: not at its first
// use (a plain check), at its second, and never once the cache is full; and that the set of
// keys seen once stays bounded. The verdicts are crypto/ed25519's throughout.
func TestBatchWorkerPreparesKeysUsedTwice(t *testing.T) {
	w := newBatchWorker()
	defer w.release()
	msg := []byte("twice")
	key := func(i int) (ed25519.PublicKey, []byte) {
		var seed [ed25519.SeedSize]byte
		binary.BigEndian.PutUint32(seed[:], uint32(i))
		priv := ed25519.NewKeyFromSeed(seed[:])
		return priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, msg)
	}
	pub, sig := key(0)
	if !w.verify(pub, msg, sig) || len(w.keys) != 0 {
		t.Fatalf("first use: %d keys prepared, want 0", len(w.keys))
	}
	bad := bytes.Clone(sig)
	bad[5] ^= 1
	if w.verify(pub, msg, bad) || len(w.keys) != 1 {
		t.Fatalf("second use: %d keys prepared, want 1", len(w.keys))
	}
	if !w.verify(pub, msg, sig) || len(w.keys) != 1 {
		t.Fatal("third use: the prepared key does not verify")
	}
	for i := 1; i <= maxSeenKeys+8; i++ {
		p, s := key(i)
		if !w.verify(p, msg, s) {
			t.Fatalf("key %d: good signature refused", i)
		}
		if len(w.seen) > maxSeenKeys {
			t.Fatalf("%d keys remembered; bound %d", len(w.seen), maxSeenKeys)
		}
	}
	if len(w.keys) != 1 {
		t.Fatalf("%d keys prepared after single uses, want 1", len(w.keys))
	}
}

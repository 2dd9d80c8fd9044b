package signing

import (
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"

	"github.com/roomproto/roomproto/pdu"
)

// TestKeyCacheMatchesVerifyEvent: on random mixes of good and damaged events (every kind of
// btMutate) of several room versions, a KeyCache gives exactly the error VerifyEvent and
// VerifyParsedEvent give, on the first use of each key (checked without preparing), the second
// (prepared) and later ones (from the cache).
func TestKeyCacheMatchesVerifyEvent(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 100
	}
	keys := btRingWithExtras()
	for _, vid := range []string{"1", "3", "5", "9", "11", "12"} {
		t.Run("v"+vid, func(t *testing.T) {
			v := btVersion(t, vid)
			rng := rand.New(rand.NewPCG(uint64(len(vid)), 7))
			events := make([][]byte, n)
			for i := range events {
				kind := 0
				if rng.IntN(3) == 0 {
					kind = 1 + rng.IntN(btKinds-1)
				}
				events[i] = btMutate(t, v, rng, btEvent(t, v, rng, i), kind)
			}
			var c KeyCache
			counts := map[Verdict]int{}
			for pass := 0; pass < 3; pass++ {
				for i, raw := range events {
					want := VerifyEvent(v, raw, keys)
					btSameError(t, i, c.VerifyEvent(v, raw, keys), want)
					if ev, err := pdu.Parse(v, raw); err == nil {
						btSameError(t, i, c.VerifyParsedEvent(ev, keys), VerifyParsedEvent(ev, keys))
					}
					counts[VerdictOf(want)]++
				}
			}
			for _, vd := range []Verdict{VerdictValid, VerdictRedact, VerdictNeedKey, VerdictReject} {
				if counts[vd] == 0 {
					t.Errorf("no event with verdict %v in the mix: %v", vd, counts)
				}
			}
			// Each server's first key signs many events, so it is prepared by now; the three
			// second keys and the expiring one may be (the ring has btServers+3 keys).
			if got := c.Len(); got < btServers || got > btServers+3 {
				t.Errorf("Len() = %d, want %d to %d prepared keys", got, btServers, btServers+3)
			}
		})
	}
}

// verifyConcurrently verifies n random events of room version 10 (some damaged; rng seeded
// with seed) from goroutines sharing c, each going over all of them passes times from its own
// starting point, and checks every verdict against VerifyEvent's. It returns the most keys
// c.Len() reported during the run.
func verifyConcurrently(t *testing.T, c *KeyCache, seed uint64, n, goroutines, passes int) int {
	t.Helper()
	v := btVersion(t, "10")
	rng := rand.New(rand.NewPCG(seed, seed+1))
	events := make([][]byte, n)
	for i := range events {
		events[i] = btMutate(t, v, rng, btEvent(t, v, rng, i), rng.IntN(btKinds))
	}
	keys := btRingWithExtras()
	want := make([]error, len(events))
	for i, raw := range events {
		want[i] = VerifyEvent(v, raw, keys)
	}
	got := make([][]error, goroutines)
	lens := make([]int, goroutines)
	var wg sync.WaitGroup
	for g := range got {
		got[g] = make([]error, len(events))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pass := range passes {
				for j := range events {
					i := (j + g*len(events)/len(got) + pass) % len(events) // each starts elsewhere
					got[g][i] = c.VerifyEvent(v, events[i], keys)
					lens[g] = max(lens[g], c.Len())
				}
			}
		}()
	}
	wg.Wait()
	for g := range got {
		for i := range events {
			btSameError(t, i, got[g][i], want[i])
		}
	}
	return slices.Max(lens)
}

// TestKeyCacheConcurrent: many goroutines sharing one KeyCache get the verdicts of
// VerifyEvent (run with -race: the cache's maps are shared).
func TestKeyCacheConcurrent(t *testing.T) {
	var c KeyCache
	verifyConcurrently(t, &c, 11, 120, 6, 1)
	if c.Len() == 0 {
		t.Error("no key prepared")
	}
}

// TestKeyCacheConcurrentEviction: goroutines sharing a cache of two keys while the events are
// signed by nine, so that keys are prepared, evicted and marked as used at once (run with
// -race: the sweep clears the marks other calls set); every verdict is VerifyEvent's and the
// cache never holds more than its limit.
func TestKeyCacheConcurrentEviction(t *testing.T) {
	c := KeyCache{maxKeys: 2}
	if most := verifyConcurrently(t, &c, 13, 90, 4, 3); most > 2 {
		t.Errorf("%d keys prepared during the run, limit 2", most)
	}
	if n := c.Len(); n == 0 || n > 2 {
		t.Errorf("%d keys prepared at the end, want 1 or 2", n)
	}
}

// TestKeyCacheLimit: a cache full of prepared keys checks the signatures of other keys without
// preparing them, with the same verdicts.
func TestKeyCacheLimit(t *testing.T) {
	v := btVersion(t, "9")
	rng := rand.New(rand.NewPCG(13, 14))
	events := make([][]byte, 90)
	for i := range events {
		events[i] = btEvent(t, v, rng, i)
	}
	keys := btRing()
	c := KeyCache{maxKeys: 2}
	for pass := 0; pass < 3; pass++ {
		for i, raw := range events {
			btSameError(t, i, c.VerifyEvent(v, raw, keys), VerifyEvent(v, raw, keys))
		}
	}
	if got := c.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2 (the limit)", got)
	}
	// The keys seen once are bounded too (4 × the limit), whether or not keys get prepared.
	var d KeyCache
	d.maxKeys = 2
	for i := 0; i < 100; i++ {
		var k [ed25519.PublicKeySize]byte
		k[0], k[1] = byte(i), 1
		if d.secondUse(k) {
			t.Fatalf("first use of key %d counted as its second", i)
		}
		if n := len(d.seen); n > 8 || n == 0 {
			t.Fatalf("after %d keys, %d remembered as seen once; want 1 to 8", i+1, n)
		}
	}
	var k [ed25519.PublicKeySize]byte
	k[0], k[1] = 99, 1
	if !d.secondUse(k) {
		t.Error("the second use of a key (the last one seen) is not its second")
	}
}

// TestKeyCacheEvictsColdKeys: a full cache makes room for a key at its second use by removing
// a key no call has used since the last sweep (clock), and keeps the keys in use.
func TestKeyCacheEvictsColdKeys(t *testing.T) {
	v := btVersion(t, "9")
	rng := rand.New(rand.NewPCG(19, 20))
	byServer := map[string][]byte{}
	for i := 0; len(byServer) < 4 && i < 200; i++ {
		raw := btEvent(t, v, rng, i)
		ev, err := pdu.Parse(v, raw)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := ServerName(ev.Sender); byServer[s] == nil && requiredSignerCount(t, ev) == 1 {
			byServer[s] = raw
		}
	}
	if len(byServer) < 4 {
		t.Fatalf("only %d servers' events", len(byServer))
	}
	var servers []string
	for s := range byServer {
		servers = append(servers, s)
	}
	sort.Strings(servers)
	keys := btRing()
	key := func(s string) [ed25519.PublicKeySize]byte {
		var k [ed25519.PublicKeySize]byte
		copy(k[:], keys[s]["ed25519:1"].Key)
		return k
	}
	c := KeyCache{maxKeys: 2}
	check := func(s string) {
		t.Helper()
		if err := c.VerifyEvent(v, byServer[s], keys); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	holds := func(s string) bool {
		c.mu.RLock()
		defer c.mu.RUnlock()
		return c.keys[key(s)] != nil
	}
	a, b, x, y := servers[0], servers[1], servers[2], servers[3]
	check(a)
	check(a)
	check(b)
	check(b)
	if !holds(a) || !holds(b) || c.Len() != 2 {
		t.Fatalf("a and b used twice: held %v %v, Len %d", holds(a), holds(b), c.Len())
	}
	// x's second use needs room: a sweep clears both marks (both were used since they were
	// stored) and removes the first it met; x takes its place.
	check(x)
	check(x)
	if !holds(x) || c.Len() != 2 || holds(a) == holds(b) {
		t.Fatalf("x used twice: held a %v b %v x %v, Len %d", holds(a), holds(b), holds(x), c.Len())
	}
	kept := a
	if holds(b) {
		kept = b
	}
	// No call has used kept since the sweep; x was stored after it (a key stored is marked).
	// y's second use removes kept, not x, whichever key the sweep meets first. (That a key used
	// again since a sweep stays: TestMutationKeyCacheClock.)
	check(y)
	check(y)
	if !holds(y) || holds(kept) || !holds(x) || c.Len() != 2 {
		t.Fatalf("y used twice: held kept %v x %v y %v, Len %d", holds(kept), holds(x), holds(y), c.Len())
	}
}

// requiredSignerCount returns how many servers must sign ev.
func requiredSignerCount(t *testing.T, ev *pdu.Event) int {
	t.Helper()
	s, err := RequiredSigners(ev)
	if err != nil {
		t.Fatal(err)
	}
	return len(s)
}

// TestKeyCacheUnpreparableKeys: keys newFastKey leaves to crypto/ed25519 (not the canonical
// encoding of a point of large order without torsion) are remembered as such and keep the
// verdicts of VerifyEvent (a rejection); so do keys of the wrong length (unknown keys).
func TestKeyCacheUnpreparableKeys(t *testing.T) {
	v := btVersion(t, "9")
	rng := rand.New(rand.NewPCG(15, 16))
	raw := btEvent(t, v, rng, 0)
	ev, err := pdu.Parse(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := ServerName(ev.Sender)
	identity, _ := hex.DecodeString("0100000000000000000000000000000000000000000000000000000000000000")
	order8, _ := hex.DecodeString("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	for name, pub := range map[string][]byte{
		"identity":        identity,
		"order 8":         order8,
		"non-canonical y": btNonCanonicalY(rng),
		"31 bytes":        btKey(server).Public()[:31],
		// The right key plus a point of order 8: a mixed-order key.
		"mixed order": btMixedOrderKey(t, btKey(server).Public()),
	} {
		t.Run(name, func(t *testing.T) {
			keys := btRing()
			keys[server]["ed25519:1"] = PublicKey{Key: pub}
			want := VerifyEvent(v, raw, keys)
			if want == nil {
				t.Fatal("VerifyEvent accepts the event")
			}
			var c KeyCache
			for pass := 0; pass < 3; pass++ {
				btSameError(t, 0, c.VerifyEvent(v, raw, keys), want)
			}
			if c.Len() != 0 {
				t.Errorf("Len() = %d: an unpreparable key counted as prepared", c.Len())
			}
		})
	}
}

// btMixedOrderKey returns A + T for the public key A and a point T of order 8: the encoding of
// a point with a small-order component, which newFastKey refuses.
func btMixedOrderKey(t *testing.T, pub []byte) []byte {
	t.Helper()
	var c curve.CompressedEdwardsY
	var p curve.EdwardsPoint
	if _, err := c.SetBytes(pub); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetCompressedY(&c); err != nil {
		t.Fatal(err)
	}
	p.Add(&p, &btTorsionPoint)
	c.SetEdwardsPoint(&p)
	if newFastKey(c[:]) != nil {
		t.Fatal("newFastKey prepared a mixed-order key")
	}
	return append([]byte(nil), c[:]...)
}

// btMixedOrderKeySign signs msg for the mixed-order key A' = A + T (btMixedOrderKey) as its
// dishonest owner can: S = r + k·a with k = SHA-512(R ‖ A' ‖ msg), the nonce r drawn again
// until 8 divides k, so that S·B − k·A' = R − k·T = R and the cofactorless check (and
// libsodium's, which refuses only small-order keys) accepts it.
func btMixedOrderKeySign(t *testing.T, priv ed25519.PrivateKey, mixed, msg []byte) []byte {
	t.Helper()
	h := sha512.Sum512(priv.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	var a scalar.Scalar
	if _, err := a.SetBytesModOrder(h[:32]); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		var r, k, s scalar.Scalar
		rh := sha512.Sum512(append([]byte{byte(i), byte(i >> 8)}, msg...))
		if _, err := r.SetBytesModOrderWide(rh[:]); err != nil {
			t.Fatal(err)
		}
		var R curve.EdwardsPoint
		R.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &r)
		var Rc curve.CompressedEdwardsY
		Rc.SetEdwardsPoint(&R)
		kh := sha512.New()
		kh.Write(Rc[:])
		kh.Write(mixed)
		kh.Write(msg)
		if _, err := k.SetBytesModOrderWide(kh.Sum(nil)); err != nil {
			t.Fatal(err)
		}
		var kb [32]byte
		if err := k.ToBytes(kb[:]); err != nil {
			t.Fatal(err)
		}
		if kb[0]%8 != 0 {
			continue
		}
		s.Mul(&k, &a)
		s.Add(&s, &r)
		sig := make([]byte, 64)
		copy(sig, Rc[:])
		if err := s.ToBytes(sig[32:]); err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatal("no nonce with 8 | k in 1000 draws")
	return nil
}

// TestKeyCacheMixedOrderKeyAccepted: a signature by a mixed-order key that the cofactorless
// equation accepts (btMixedOrderKeySign) is valid for VerifyEvent, and stays valid through a
// KeyCache, which leaves such keys to crypto/ed25519.
func TestKeyCacheMixedOrderKeyAccepted(t *testing.T) {
	v := btVersion(t, "9")
	rng := rand.New(rand.NewPCG(17, 18))
	raw := btEvent(t, v, rng, 0)
	ev, err := pdu.Parse(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := ServerName(ev.Sender)
	mixed := btMixedOrderKey(t, btKey(server).Public())
	sc := getScratch()
	defer putScratch(sc)
	if err := signedEventBytes(sc, v, ev.Raw()); err != nil {
		t.Fatal(err)
	}
	sig := btMixedOrderKeySign(t, btKey(server).Private, mixed, sc.msg)
	raw = btEdit(t, v, raw, func(m map[string]json.RawMessage) {
		btSetSigs(m, map[string]map[string]string{server: {"ed25519:1": base64.RawStdEncoding.EncodeToString(sig)}})
	})
	keys := btRing()
	keys[server]["ed25519:1"] = PublicKey{Key: mixed}
	if err := VerifyEvent(v, raw, keys); err != nil {
		t.Fatalf("VerifyEvent: %v, want a valid event (cofactorless check of a mixed-order key)", err)
	}
	var c KeyCache
	for pass := 0; pass < 3; pass++ {
		if err := c.VerifyEvent(v, raw, keys); err != nil {
			t.Fatalf("pass %d: %v", pass, err)
		}
	}
	if c.Len() != 0 {
		t.Errorf("Len() = %d: the mixed-order key was prepared", c.Len())
	}
}

// TestKeyCacheErrors: malformed events and nil events get VerifyEvent's errors.
func TestKeyCacheErrors(t *testing.T) {
	v := btVersion(t, "9")
	var c KeyCache
	for _, raw := range [][]byte{nil, []byte(`{`), []byte(`[]`), []byte(`{"type":"m.room.message"}`)} {
		btSameError(t, 0, c.VerifyEvent(v, raw, btRing()), VerifyEvent(v, raw, btRing()))
	}
	if err := c.VerifyParsedEvent(nil, btRing()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil event: %v", err)
	}
	// A nil *KeyCache verifies as the package functions do and holds nothing.
	var none *KeyCache
	raw := btEvent(t, v, rand.New(rand.NewPCG(21, 22)), 0)
	for range 3 {
		btSameError(t, 0, none.VerifyEvent(v, raw, btRing()), VerifyEvent(v, raw, btRing()))
	}
	ev, err := pdu.Parse(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	btSameError(t, 0, none.VerifyParsedEvent(ev, btRing()), VerifyParsedEvent(ev, btRing()))
	if none.Len() != 0 {
		t.Fatal("a nil cache holds keys")
	}
	btSameError(t, 0, c.VerifyParsedEvent(nil, nil), VerifyParsedEvent(nil, nil))
}

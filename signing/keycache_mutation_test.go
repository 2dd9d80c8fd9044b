package signing

// Tests that kill KeyCache mutants which survived the rest of the package's tests (tools/mutcheck,
// round six, tools/mutcheck/README.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'". A cache never changes a verdict (every step checks it
// anyway), so these are about its bookkeeping: which keys it holds, which are marked as used
// since the last sweep, and what a key held is checked with.

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/pdu"
)

// mutCacheKeys returns n key pairs of fixed seeds, every one preparable, with a signature of
// msg by each.
func mutCacheKeys(t *testing.T, n int, msg []byte) ([]ed25519.PublicKey, [][]byte) {
	t.Helper()
	pubs := make([]ed25519.PublicKey, n)
	sigs := make([][]byte, n)
	for i := range pubs {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), 0x6c
		priv := ed25519.NewKeyFromSeed(seed)
		pubs[i] = priv.Public().(ed25519.PublicKey)
		if newFastKey(pubs[i]) == nil {
			t.Fatalf("key %d not preparable", i)
		}
		sigs[i] = ed25519.Sign(priv, msg)
	}
	return pubs, sigs
}

// mutCacheState returns the indices (into pubs) of the keys c holds, and of those marked as
// used since the last sweep.
func mutCacheState(c *KeyCache, pubs []ed25519.PublicKey) (held, marked []int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i, pub := range pubs {
		if e := c.keys[[ed25519.PublicKeySize]byte(pub)]; e != nil {
			held = append(held, i)
			if e.used.Load() {
				marked = append(marked, i)
			}
		}
	}
	return held, marked
}

// TestMutationKeyCacheSteps: after each check of a signature through a KeyCache (valid, or
// damaged when bad), the keys it holds prepared (Len and which ones) and the number of keys
// it remembers as seen once.
func TestMutationKeyCacheSteps(t *testing.T) {
	type step struct {
		key  int
		bad  bool  // the signature damaged: the verdict must be false
		held []int // keys held afterwards (all preparable, so Len() is their number)
		seen int   // len(c.seen) afterwards
	}
	msg := []byte("round six")
	pubs, sigs := mutCacheKeys(t, 3, msg)
	for _, tt := range []struct {
		name    string
		mutants string
		maxKeys int
		steps   []step
	}{
		{
			name: "a key is prepared at its second use, not its first", maxKeys: 2,
			mutants: "signing/keycache.go:136 'ok' -> '!(ok)' (a key not held is prepared at its first use)",
			steps: []step{
				{key: 0, seen: 1},
				{key: 0, held: []int{0}},
				{key: 1, bad: true, held: []int{0}, seen: 1},
				{key: 1, held: []int{0, 1}},
				{key: 0, bad: true, held: []int{0, 1}},
			},
		},
		{
			name: "two keys used in turn are both prepared", maxKeys: 2,
			mutants: "signing/keycache.go:146 'len(c.seen) >= 4*c.limit()' -> '!(len(c.seen) >= 4*c.limit())' " +
				"(the set of keys seen once emptied at every first use: only a key used twice in a row is prepared)",
			steps: []step{
				{key: 0, seen: 1},
				{key: 1, seen: 2},
				{key: 0, held: []int{0}, seen: 1},
				{key: 2, held: []int{0}, seen: 2},
				{key: 1, bad: true, held: []int{0, 1}, seen: 1},
				{key: 0, held: []int{0, 1}, seen: 1},
			},
		},
		{
			name: "a limit of one key", maxKeys: 1,
			mutants: "signing/keycache.go:93 '0' -> '1' (maxKeys 1 ignored: the limit is 1,024); " +
				"signing/keycache.go:140 'delete(c.seen, k)' -> '' (a key prepared stays in the set of keys " +
				"seen once, and is prepared again at its first use after it was evicted)",
			steps: []step{
				{key: 0, seen: 1},
				{key: 0, held: []int{0}},
				{key: 1, held: []int{0}, seen: 1},
				{key: 1, held: []int{1}},
				{key: 0, bad: true, held: []int{1}, seen: 1},
				{key: 0, held: []int{0}},
				{key: 2, held: []int{0}, seen: 1},
				{key: 0, held: []int{0}, seen: 1},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := KeyCache{maxKeys: tt.maxKeys}
			for i, s := range tt.steps {
				sig := slices.Clone(sigs[s.key])
				if s.bad {
					sig[5] ^= 4
				}
				if got := c.verify(pubs[s.key], msg, sig); got == s.bad {
					t.Fatalf("step %d: verify(key %d, damaged %v) = %v", i, s.key, s.bad, got)
				}
				held, _ := mutCacheState(&c, pubs)
				if !slices.Equal(held, s.held) || c.Len() != len(s.held) || len(c.seen) != s.seen {
					t.Errorf("step %d (key %d): held %v, Len %d, %d seen once; want held %v, %d seen once (kills %s)",
						i, s.key, held, c.Len(), len(c.seen), s.held, s.seen, tt.mutants)
				}
			}
		})
	}
}

// TestMutationKeyCacheClock: the clock sweep of a full cache of n keys, step by step. A key
// stored is marked; the sweep that makes room when every key is marked clears every mark and
// removes one key; a held key used again is marked again; the next sweep removes the one held
// key no call used since (u), whichever key the map's iteration starts at, and keeps every
// other. The marks are checked directly (which key the first sweep removes depends on map
// order, so the behaviour alone would kill some of these mutants only by chance). Survivors:
// keycache.go:169 (both) and keycache.go:186 (its Store deleted); the others listed were
// killed in the round by TestKeyCacheEvictsColdKeys, whose last step depended on map order (see
// tools/mutcheck/README.md, round six), and are killed here every time.
//
//	signing/keycache.go:114 '!e.used.Load()' -> '!(!e.used.Load())', keycache.go:115
//	'e.used.Store(true)' -> '' and 'true' -> 'false' (a held key used again is not marked: the
//	keys used since the first sweep are left unmarked, and the second may remove one of them);
//	keycache.go:169 'e.used.Store(true)' -> '' and 'true' -> 'false' (a key is stored unmarked);
//	keycache.go:182 '!e.used.Load()' -> '!(!e.used.Load())' (the sweep removes the first marked
//	key, clearing no mark: u stays); keycache.go:186 'e.used.Store(false)' -> '' and 'false' ->
//	'true' (the sweep clears no mark)
func TestMutationKeyCacheClock(t *testing.T) {
	msg := []byte("clock")
	for _, tt := range []struct {
		n     int  // the limit; keys 0..n-1 fill the cache, n and n+1 come after
		uLast bool // u is the last old key still held (else the first)
	}{
		{2, false}, {3, false}, {3, true}, {8, false}, {8, true}, {17, false}, {17, true},
	} {
		t.Run(fmt.Sprintf("n=%d,uLast=%v", tt.n, tt.uLast), func(t *testing.T) {
			pubs, sigs := mutCacheKeys(t, tt.n+2, msg)
			c := KeyCache{maxKeys: tt.n}
			use := func(i int) {
				t.Helper()
				if !c.verify(pubs[i], msg, sigs[i]) {
					t.Fatalf("key %d: valid signature refused", i)
				}
			}
			state := func(when string, wantHeld, wantMarked []int) {
				t.Helper()
				held, marked := mutCacheState(&c, pubs)
				if !slices.Equal(held, wantHeld) || !slices.Equal(marked, wantMarked) || c.Len() != len(wantHeld) {
					t.Fatalf("%s: held %v, marked %v, Len %d; want held %v, marked %v", when, held, marked, c.Len(), wantHeld, wantMarked)
				}
			}
			var old []int
			for i := 0; i < tt.n; i++ {
				use(i)
				use(i)
				old = append(old, i)
			}
			state("cache filled", old, old)
			// Key n at its second use: every key is marked, so the sweep clears every mark and
			// removes one key (the first the map's iteration met).
			use(tt.n)
			use(tt.n)
			held, _ := mutCacheState(&c, pubs)
			var kept []int
			for _, i := range held {
				if i < tt.n {
					kept = append(kept, i)
				}
			}
			if len(kept) != tt.n-1 {
				t.Fatalf("after the first sweep: held %v, want %d of the old keys", held, tt.n-1)
			}
			state("after the first sweep", append(slices.Clone(kept), tt.n), []int{tt.n})
			// Every old key held but u is used again (marked); u is not.
			u := kept[0]
			if tt.uLast {
				u = kept[len(kept)-1]
			}
			var again []int
			for _, i := range kept {
				if i != u {
					use(i)
					again = append(again, i)
				}
			}
			state("old keys but u used again", append(slices.Clone(kept), tt.n), append(slices.Clone(again), tt.n))
			// Key n+1 at its second use: the sweep removes u, the only key not marked.
			use(tt.n + 1)
			use(tt.n + 1)
			want := append(slices.Clone(again), tt.n, tt.n+1)
			held, _ = mutCacheState(&c, pubs)
			if !slices.Equal(held, want) || c.Len() != tt.n {
				t.Fatalf("after the second sweep: held %v, Len %d; want %v (u = %d removed)", held, c.Len(), want, u)
			}
		})
	}
}

// TestMutationKeyCacheHeldKey: a key the cache holds is checked with the prepared form it holds
// (here, on purpose, another key's, so that the verdict shows which was used), and secondUse of
// a held key (stored by another call after this one looked) says to prepare it (store then
// returns the held one) without remembering it as seen once.
//
//	signing/keycache.go:117 'fk = e.key' -> '' (a held key checked by crypto/ed25519, the
//	prepared form unused: the cache no longer saves any work)
//	signing/keycache.go:137 'true' -> 'false' (a held key counted as a first use)
func TestMutationKeyCacheHeldKey(t *testing.T) {
	msg := []byte("held")
	pubs, sigs := mutCacheKeys(t, 2, msg)
	k0 := [ed25519.PublicKeySize]byte(pubs[0])
	for _, tt := range []struct {
		name string
		sig  []byte
		want bool
	}{
		{"key 0's signature, checked with key 1's table", sigs[0], false},
		{"key 1's signature, checked with key 1's table", sigs[1], true},
	} {
		var c KeyCache
		c.store(k0, newFastKey(pubs[1]))
		if got := c.verify(pubs[0], msg, tt.sig); got != tt.want {
			t.Errorf("%s: verify = %v, want %v (the held prepared form)", tt.name, got, tt.want)
		}
	}
	var c KeyCache
	fk := newFastKey(pubs[0])
	if got := c.store(k0, fk); got != fk {
		t.Fatalf("store returned %p, want %p", got, fk)
	}
	if !c.secondUse(k0) || len(c.seen) != 0 {
		t.Errorf("secondUse of a held key: false or remembered (%d seen once); want true, none", len(c.seen))
	}
	if got := c.store(k0, newFastKey(pubs[0])); got != fk || c.Len() != 1 {
		t.Errorf("store of a held key returned %p (Len %d), want the held %p (Len 1)", got, c.Len(), fk)
	}
}

// TestMutationKeyCacheNil: a nil *KeyCache gives the errors of VerifyEvent and
// VerifyParsedEvent for damaged events too (every kind of btMutate), not only valid ones.
//
//	signing/keycache.go:54 'VerifyEvent(v, event, keys)' -> 'nil'
//	signing/keycache.go:68 'VerifyParsedEvent(ev, keys)' -> 'nil'
func TestMutationKeyCacheNil(t *testing.T) {
	v := btVersion(t, "9")
	rng := rand.New(rand.NewPCG(61, 62))
	keys := btRingWithExtras()
	var none *KeyCache
	refused, refusedParsed := 0, 0
	for kind := 0; kind < btKinds; kind++ {
		raw := btMutate(t, v, rng, btEvent(t, v, rng, kind), kind)
		want := VerifyEvent(v, raw, keys)
		if want != nil {
			refused++
		}
		btSameError(t, kind, none.VerifyEvent(v, raw, keys), want)
		if ev, err := pdu.Parse(v, raw); err == nil {
			want := VerifyParsedEvent(ev, keys)
			if want != nil {
				refusedParsed++
			}
			btSameError(t, kind, none.VerifyParsedEvent(ev, keys), want)
		}
	}
	if refused < 6 || refusedParsed < 5 {
		t.Errorf("only %d events (%d parsed ones) refused by the package functions: too few damaged", refused, refusedParsed)
	}
}

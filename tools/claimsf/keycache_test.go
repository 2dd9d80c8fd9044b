package claimsf

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// KeyCache doc: "Every verdict is exactly the one the package functions give (same error,
// server, key ID and text): the cache changes how a signature is checked, never whether it
// holds."; VerifyEvent and VerifyParsedEvent: "[VerifyEvent] with the cache's prepared keys";
// package doc: "VerifyEvents, VerifyParsedEvents and ParseAndVerifyEvents verify many events at
// once ...; a KeyCache verifies events one at a time ... Both give exactly VerifyEvent's
// verdicts"; decisions (bulk) 10: "The verdicts are the package functions' exactly". Every room
// version 1-12, every kind of damage, six key sets, three passes over one cache per key set
// (first use, prepared, from the cache).
func TestKeyCacheSameVerdictsEveryVersion(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			var names []string
			events := map[string][]byte{}
			for n := 0; n < 3; n++ {
				for name, raw := range damaged(t, v, n) {
					k := fmt.Sprintf("%s #%d", name, n)
					names = append(names, k)
					events[k] = raw
				}
			}
			sort.Strings(names)
			raws := make([][]byte, len(names))
			for i, k := range names {
				raws[i] = events[k]
			}
			seen := map[signing.Verdict]bool{}
			defer func() {
				for _, vd := range []signing.Verdict{signing.VerdictValid, signing.VerdictRedact, signing.VerdictNeedKey, signing.VerdictReject} {
					if !seen[vd] {
						t.Errorf("no case with verdict %v: the mix does not cover it", vd)
					}
				}
			}()
			for lname, keys := range lookups() {
				var c signing.KeyCache
				want := make([]error, len(raws))
				for i, raw := range raws {
					want[i] = signing.VerifyEvent(v, raw, keys)
					seen[signing.VerdictOf(want[i])] = true
				}
				for pass := 0; pass < 3; pass++ {
					for i, raw := range raws {
						what := fmt.Sprintf("%s, keys %s, pass %d", names[i], lname, pass)
						sameError(t, what+": KeyCache.VerifyEvent", c.VerifyEvent(v, raw, keys), want[i])
						if ev := parsed(v, raw); ev != nil {
							sameError(t, what+": KeyCache.VerifyParsedEvent", c.VerifyParsedEvent(ev, keys), signing.VerifyParsedEvent(ev, keys))
							sameError(t, what+": VerifyParsedEvent", signing.VerifyParsedEvent(ev, keys), want[i])
						}
					}
				}
				batch := signing.VerifyEvents(v, raws, keys, nil)
				_, pav := signing.ParseAndVerifyEvents(v, raws, keys, nil)
				var evs []*pdu.Event
				var idx []int
				for i, raw := range raws {
					if ev := parsed(v, raw); ev != nil {
						evs = append(evs, ev)
						idx = append(idx, i)
					}
				}
				pbatch := signing.VerifyParsedEvents(evs, keys, nil)
				for i := range raws {
					sameError(t, names[i]+", keys "+lname+": VerifyEvents", batch[i], want[i])
					sameError(t, names[i]+", keys "+lname+": ParseAndVerifyEvents", pav[i], want[i])
				}
				for j, i := range idx {
					sameError(t, names[i]+", keys "+lname+": VerifyParsedEvents", pbatch[j], want[i])
				}
			}
		})
	}
}

// decisions (bulk) 10: "a key is prepared at its second use"; KeyCache doc: "a public key used
// a second time is prepared once ... and kept for the calls that follow"; Len: "the number of
// keys the cache holds prepared"; ExampleKeyCache ("The key was prepared at its second use").
func TestKeyCachePreparedAtSecondUse(t *testing.T) {
	for _, id := range []string{"1", "5", "10", "12"} {
		v := claimkit.Ver(t, id)
		var c signing.KeyCache
		for i, want := range []int{0, 1, 1, 1, 1} {
			raw := signAs(t, v, message(t, v, i), "a.example", authfixture.Key("a.example"))
			if err := c.VerifyEvent(v, raw, ring); err != nil {
				t.Fatal(err)
			}
			if got := c.Len(); got != want {
				t.Errorf("v%s: after use %d, Len() = %d, want %d", id, i+1, got, want)
			}
		}
	}
}

// signing package doc (# Many events): "a KeyCache verifies events one at a time as they
// arrive, keeping the keys it has used more than once prepared for the calls that follow" (F2,
// fixed: it said "the keys it has used"). A key used once is not kept prepared; at its second
// use it is.
func TestKeyCachePackageDocKeysItHasUsed(t *testing.T) {
	claimkit.WantText(t, "signing/signing.go", "keeping the keys it has used more than once prepared for the calls that follow")
	v := claimkit.Ver(t, "10")
	var c signing.KeyCache
	for i, want := range []int{0, 1} {
		if err := c.VerifyEvent(v, signAs(t, v, message(t, v, 1), "a.example", authfixture.Key("a.example")), ring); err != nil {
			t.Fatal(err)
		}
		if c.Len() != want {
			t.Fatalf("after %d calls with one key, Len() = %d, want %d", i+1, c.Len(), want)
		}
	}
}

// keyFamily verifies one event with a lookup that answers key pubs[i] on the i-th call group.
type keyFamily struct {
	v      roomversion.Version
	raw    []byte
	cur    ed25519.PublicKey
	lookup signing.KeyLookup
}

func newKeyFamily(t testing.TB) *keyFamily {
	f := &keyFamily{v: claimkit.Ver(t, "10")}
	f.raw = signAs(t, f.v, message(t, f.v, 1), "a.example", seedKey(0))
	f.lookup = lookupFunc(func(server, keyID string) (signing.PublicKey, bool) {
		return signing.PublicKey{Key: f.cur}, true
	})
	return f
}

// use verifies the event with key pub as a.example's ed25519:1, n times, requiring the verdict
// of VerifyEvent each time.
func (f *keyFamily) use(t testing.TB, c *signing.KeyCache, pub ed25519.PublicKey, n int) {
	t.Helper()
	f.cur = pub
	want := signing.VerifyEvent(f.v, f.raw, f.lookup)
	for range n {
		sameError(t, "cache", c.VerifyEvent(f.v, f.raw, f.lookup), want)
	}
}

// KeyCache doc: "at most 1,024 prepared keys ...; further keys are checked without being
// prepared"; decisions (bulk) 10: "at most 1,024 prepared keys per cache"; SECURITY.md limits:
// "1,024 keys ... none: further keys are checked without being prepared, with the same
// verdicts". At the edge and one past it.
func TestKeyCacheLimitAtTheEdge(t *testing.T) {
	f := newKeyFamily(t)
	var c signing.KeyCache
	for i := 1; i <= 1024; i++ {
		f.use(t, &c, seedKey(i).Public(), 2)
	}
	if got := c.Len(); got != 1024 {
		t.Fatalf("1,024 keys used twice: Len() = %d, want 1024", got)
	}
	f.use(t, &c, seedKey(1025).Public(), 3)
	if got := c.Len(); got != 1024 {
		t.Fatalf("the 1,025th key used three times: Len() = %d, want 1024", got)
	}
	// The key that signed the event is checked unprepared, with the same verdict (valid).
	f.use(t, &c, seedKey(0).Public(), 3)
	if err := c.VerifyEvent(f.v, f.raw, f.lookup); err != nil || c.Len() != 1024 {
		t.Fatalf("past the bound: %v, Len() = %d", err, c.Len())
	}
}

// decisions (bulk) 10: "the set of keys seen once bounded at 4,096 and emptied when full";
// SECURITY.md: "plus 4,096 keys remembered as seen once (32 bytes each; the set is emptied when
// full)". A key used once, then 4,095 other keys once each, is still remembered (its second use
// prepares it); after 4,096 other keys the set was emptied first, so its second use does not.
// Keys of any 32 bytes count (they need not be points: a use is a signature check).
func TestKeyCacheSeenSetAtTheEdge(t *testing.T) {
	f := newKeyFamily(t)
	junk := func(i int) ed25519.PublicKey {
		k := make(ed25519.PublicKey, 32)
		copy(k, fmt.Sprintf("junk key %d ...........................", i))
		return k
	}
	for _, tc := range []struct {
		others  int
		prepare bool
	}{{4095, true}, {4096, false}} {
		var c signing.KeyCache
		f.use(t, &c, seedKey(0).Public(), 1)
		for i := range tc.others {
			f.use(t, &c, junk(i), 1)
		}
		f.use(t, &c, seedKey(0).Public(), 1)
		if got := c.Len() == 1; got != tc.prepare {
			t.Errorf("key, %d other keys once, key again: prepared %v, want %v", tc.others, got, tc.prepare)
		}
		f.use(t, &c, seedKey(0).Public(), 1)
		if c.Len() != 1 {
			t.Errorf("%d others: the key's use after that did not prepare it (Len %d)", tc.others, c.Len())
		}
	}
}

// KeyCache doc: "at most 1,024 prepared keys (about 30 KiB each, so about 30 MiB at most)";
// decisions (bulk) 10: "at most 1,024 prepared keys per cache (about 30 MiB)"; SECURITY.md:
// "1,024 keys (about 30 KiB each, so about 30 MiB)". The heap a cache holds per prepared key,
// measured; "about 40 KiB" is taken as 34 to 46 KiB (F1, fixed: the texts said 30 KiB and 30
// MiB, the figure without AVX2).
func TestKeyCacheMemoryPerKey(t *testing.T) {
	f := newKeyFamily(t)
	const n = 256
	var ms0, ms1 runtime.MemStats
	c := new(signing.KeyCache)
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	for i := 1; i <= n; i++ {
		f.use(t, c, seedKey(i).Public(), 2)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	if c.Len() != n {
		t.Fatalf("Len() = %d", c.Len())
	}
	per := (float64(ms1.HeapAlloc) - float64(ms0.HeapAlloc)) / n / 1024
	runtime.KeepAlive(c)
	t.Logf("%.1f KiB per prepared key (%s/%s): %.1f MiB for 1,024", per, runtime.GOOS, runtime.GOARCH, per*1024/1024)
	if per < 34 || per > 46 {
		t.Errorf("a prepared key holds %.1f KiB of heap, not about 40 KiB: 1,024 of them hold %.0f MiB, not about 40 MiB", per, per)
	}
}

// decisions (bulk) 10: "Keys are still looked up in the caller's KeyLookup on every call";
// KeyCache doc: "keys are looked up on every call". The cache makes exactly the lookups
// VerifyEvent makes, on every call, prepared or not.
func TestKeyCacheLooksUpEveryCall(t *testing.T) {
	for _, id := range []string{"1", "2", "4", "9", "12"} {
		v := claimkit.Ver(t, id)
		for name, raw := range damaged(t, v, 1) {
			plain, cached := &counting{keys: ring}, &counting{keys: ring}
			var c signing.KeyCache
			for call := 0; call < 4; call++ {
				plain.n.Store(0)
				cached.n.Store(0)
				_ = signing.VerifyEvent(v, raw, plain)
				_ = c.VerifyEvent(v, raw, cached)
				if plain.n.Load() != cached.n.Load() {
					t.Errorf("v%s %s call %d: %d lookups by the cache, %d by VerifyEvent", id, name, call, cached.n.Load(), plain.n.Load())
				}
			}
		}
	}
}

// KeyCache doc: "It holds public keys only (never what a KeyLookup says of them: keys are
// looked up on every call, so a key the lookup drops or expires is treated as the lookup
// says)"; decisions (bulk) 10: "the cache holds only the public key's table, never whether the
// lookup knows or trusts it". Once the key is prepared, the lookup drops it, expires it (v5+),
// answers another key under the same key ID, a key of the wrong length, then the key again.
func TestKeyCacheHoldsNoTrust(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		key := authfixture.Key("a.example")
		raw := signAs(t, v, message(t, v, 1), "a.example", key)
		var answer *signing.PublicKey
		lookup := lookupFunc(func(server, keyID string) (signing.PublicKey, bool) {
			if server != "a.example" || keyID != "ed25519:1" || answer == nil {
				return signing.PublicKey{}, false
			}
			return *answer, true
		})
		var c signing.KeyCache
		steps := []struct {
			name   string
			answer *signing.PublicKey
			want   error // sentinel, nil for valid
		}{
			{"known", &signing.PublicKey{Key: key.Public()}, nil},
			{"known again (prepared)", &signing.PublicKey{Key: key.Public()}, nil},
			{"dropped", nil, signing.ErrUnknownKey},
			{"expired", &signing.PublicKey{Key: key.Public(), ValidUntilTS: 1}, signing.ErrKeyExpired},
			{"another key, same ID", &signing.PublicKey{Key: authfixture.Key("b.example").Public()}, signing.ErrBadSignature},
			{"wrong length", &signing.PublicKey{Key: key.Public()[:16]}, signing.ErrUnknownKey},
			{"known once more", &signing.PublicKey{Key: key.Public()}, nil},
		}
		for _, s := range steps {
			answer = s.answer
			want := signing.VerifyEvent(v, raw, lookup)
			got := c.VerifyEvent(v, raw, lookup)
			sameError(t, fmt.Sprintf("v%s %s", id, s.name), got, want)
			wantSentinel := s.want
			if s.name == "expired" && !v.Signing.EnforceKeyValidity {
				wantSentinel = nil // before v5 key validity is not enforced
			}
			if (wantSentinel == nil) != (got == nil) || (wantSentinel != nil && !errors.Is(got, wantSentinel)) {
				t.Errorf("v%s %s: %v, want %v", id, s.name, got, wantSentinel)
			}
		}
		if c.Len() != 1 {
			t.Errorf("v%s: Len() = %d", id, c.Len())
		}
	}
}

// KeyCache doc: "The zero value is ready to use."
func TestKeyCacheZeroValue(t *testing.T) {
	v := claimkit.Ver(t, "11")
	raw := signAs(t, v, message(t, v, 1), "a.example", authfixture.Key("a.example"))
	var c signing.KeyCache
	if c.Len() != 0 {
		t.Fatal(c.Len())
	}
	if err := c.VerifyEvent(v, raw, ring); err != nil {
		t.Fatal(err)
	}
	var d signing.KeyCache
	if err := d.VerifyParsedEvent(parsed(v, raw), ring); err != nil {
		t.Fatal(err)
	}
}

// KeyCache doc: "A KeyCache is safe for concurrent use" (go test -race). 16 goroutines share
// one cache over events of four room versions, damaged and not, with key sets that change
// under the same key ID between calls, while others call Len.
func TestKeyCacheConcurrent(t *testing.T) {
	type item struct {
		v    roomversion.Version
		raw  []byte
		keys signing.KeyLookup
		want error
	}
	var items []item
	for _, id := range []string{"2", "6", "10", "12"} {
		v := claimkit.Ver(t, id)
		for _, raw := range damaged(t, v, 2) {
			for _, keys := range lookups() {
				items = append(items, item{v, raw, keys, signing.VerifyEvent(v, raw, keys)})
			}
		}
	}
	var c signing.KeyCache
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 3 * len(items) {
				it := items[(j*7+g*13)%len(items)]
				got := c.VerifyEvent(it.v, it.raw, it.keys)
				if fmt.Sprint(got) != fmt.Sprint(it.want) {
					select {
					case errs <- fmt.Sprintf("%v, want %v", got, it.want):
					default:
					}
					return
				}
				if j%50 == 0 {
					_ = c.Len()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if c.Len() == 0 {
		t.Error("no key prepared")
	}
}

// KeyCache doc: "it must not be copied after first use": the type holds a lock, so go vet's
// copylocks check reports a copy.
func TestKeyCacheHoldsALock(t *testing.T) {
	typ := reflect.TypeFor[signing.KeyCache]()
	locker := reflect.TypeFor[sync.Locker]()
	for i := range typ.NumField() {
		if reflect.PointerTo(typ.Field(i).Type).Implements(locker) {
			return
		}
	}
	t.Fatal("KeyCache holds no lock: go vet would not report a copy")
}

// decisions (bulk) 10: "The package functions are unchanged (no hidden cache: the package keeps
// no mutable state)"; "held by the caller". Two caches share nothing: one's prepared keys do not
// appear in the other's Len.
func TestKeyCachesShareNothing(t *testing.T) {
	v := claimkit.Ver(t, "9")
	var a, b signing.KeyCache
	for i := range 3 {
		raw := signAs(t, v, message(t, v, i), "a.example", authfixture.Key("a.example"))
		if err := a.VerifyEvent(v, raw, ring); err != nil {
			t.Fatal(err)
		}
		if err := signing.VerifyEvent(v, raw, ring); err != nil {
			t.Fatal(err)
		}
	}
	if a.Len() != 1 || b.Len() != 0 {
		t.Fatalf("a.Len %d, b.Len %d", a.Len(), b.Len())
	}
}

// decisions (bulk) 10: "including keys that are never prepared: a mixed-order key whose
// signature the cofactorless check accepts stays valid (TestKeyCacheMixedOrderKeyAccepted)".
// A key A + T (T of order 8) signs an event whose challenge k is a multiple of 8, so that
// S·B − k·(A+T) = R: VerifyEvent accepts it, and so does the cache, every time, without
// preparing it.
func TestKeyCacheMixedOrderKey(t *testing.T) {
	v := claimkit.Ver(t, "10")
	raw, pub := mixedOrderEvent(t, v)
	keys := signing.KeyRing{"a.example": {"ed25519:1": {Key: pub}}}
	if err := signing.VerifyEvent(v, raw, keys); err != nil {
		t.Fatalf("VerifyEvent refuses the mixed-order key's event: %v", err)
	}
	var c signing.KeyCache
	for i := range 5 {
		if err := c.VerifyEvent(v, raw, keys); err != nil {
			t.Fatalf("use %d: %v", i+1, err)
		}
	}
	if c.Len() != 0 {
		t.Errorf("Len() = %d: the mixed-order key was prepared", c.Len())
	}
	// And the same key signing other bytes (k not a multiple of 8) is refused by both.
	bad := editJSON(t, raw, func(m M) { m["origin_server_ts"] = 1 })
	sameError(t, "changed event", c.VerifyEvent(v, bad, keys), signing.VerifyEvent(v, bad, keys))
}

// Misuse: a KeyLookup of nil (an interface holding nothing, and a nil KeyRing) knows no key,
// for the cache as for VerifyEvent; keys of the wrong length are unknown keys and never
// prepared (PublicKey.Key doc).
func TestKeyCacheNilLookupAndWrongLengths(t *testing.T) {
	v := claimkit.Ver(t, "8")
	raw := signAs(t, v, message(t, v, 1), "a.example", authfixture.Key("a.example"))
	var c signing.KeyCache
	for _, keys := range []signing.KeyLookup{nil, signing.KeyRing(nil), signing.KeyRing{}} {
		for range 2 {
			got := c.VerifyEvent(v, raw, keys)
			sameError(t, fmt.Sprintf("%#v", keys), got, signing.VerifyEvent(v, raw, keys))
			sameError(t, "parsed", c.VerifyParsedEvent(parsed(v, raw), keys), signing.VerifyParsedEvent(parsed(v, raw), keys))
		}
	}
	pub := authfixture.Key("a.example").Public()
	for _, n := range []int{0, 1, 31, 33, 64} {
		k := make([]byte, n)
		copy(k, pub)
		keys := signing.KeyRing{"a.example": {"ed25519:1": {Key: k}}}
		for range 3 {
			sameError(t, fmt.Sprintf("%d-byte key", n), c.VerifyEvent(v, raw, keys), signing.VerifyEvent(v, raw, keys))
		}
	}
	if c.Len() != 0 {
		t.Errorf("Len() = %d", c.Len())
	}
}

// Misuse: events parsed for another room version than they were made for, an Event made by
// hand (zero Version), a nil event and the zero Version: the cache answers exactly as the
// package functions.
func TestKeyCacheOtherVersionsAndZeroValues(t *testing.T) {
	var c signing.KeyCache
	for _, made := range claimkit.VersionIDs() {
		mv := claimkit.Ver(t, made)
		raw := signAs(t, mv, message(t, mv, 1), "a.example", authfixture.Key("a.example"))
		for _, as := range claimkit.VersionIDs() {
			av := claimkit.Ver(t, as)
			sameError(t, "v"+made+" event as v"+as, c.VerifyEvent(av, raw, ring), signing.VerifyEvent(av, raw, ring))
			if ev := parsed(av, raw); ev != nil {
				for range 2 {
					sameError(t, "v"+made+" event parsed as v"+as, c.VerifyParsedEvent(ev, ring), signing.VerifyParsedEvent(ev, ring))
				}
			}
		}
		sameError(t, "zero Version", c.VerifyEvent(roomversion.Version{}, raw, ring), signing.VerifyEvent(roomversion.Version{}, raw, ring))
	}
	hand := &pdu.Event{Type: "m.room.message", Sender: creator, RoomID: "!r:a.example"}
	sameError(t, "hand-made event", c.VerifyParsedEvent(hand, ring), signing.VerifyParsedEvent(hand, ring))
	sameError(t, "nil event", c.VerifyParsedEvent(nil, ring), signing.VerifyParsedEvent(nil, ring))
}

// Misuse: a nil *KeyCache (a struct field left nil). The package's rule is "no panics on bad
// input" (misuse M4: a nil *SignedObject now answers false). F3, fixed: a nil cache verifies as
// the package functions do, with Len 0 (it panicked).
func TestKeyCacheNilPointer(t *testing.T) {
	v := claimkit.Ver(t, "10")
	raw := signAs(t, v, message(t, v, 1), "a.example", authfixture.Key("a.example"))
	var c *signing.KeyCache
	call := func(what string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s on a nil *KeyCache panics: %v", what, r)
			}
		}()
		f()
	}
	call("VerifyEvent", func() { sameError(t, "nil cache", c.VerifyEvent(v, raw, ring), signing.VerifyEvent(v, raw, ring)) })
	call("VerifyParsedEvent", func() { _ = c.VerifyParsedEvent(parsed(v, raw), ring) })
	call("Len", func() { _ = c.Len() })
}

// The bound counts every key the cache has seen twice, prepared or not: 1,024 keys of 32 bytes
// that are not points (any server's key set may hold such junk), each used twice, fill it with
// Len() 0. Before the clock eviction no key was prepared after them for the cache's life (O1 of
// the report); KeyCache doc: "when it is full, a key at its second use takes the place of one
// that no call has used since the cache last looked for room".
func TestKeyCacheFilledByUnpreparableKeys(t *testing.T) {
	f := newKeyFamily(t)
	var c signing.KeyCache
	for i, n := 0, 0; n < 1024; i++ {
		k := make(ed25519.PublicKey, 32)
		copy(k, fmt.Sprintf("not a point %d ..........................", i))
		if preparable(k) {
			continue
		}
		f.use(t, &c, k, 2)
		n++
	}
	if c.Len() != 0 {
		t.Fatalf("Len() = %d", c.Len())
	}
	// O1, settled: a full cache makes room (a clock sweep), so a key used after them is
	// prepared in the place of one of them.
	f.use(t, &c, seedKey(0).Public(), 5)
	if c.Len() != 1 {
		t.Fatalf("after 1,024 unpreparable keys, a good key used five times: Len() = %d, want 1", c.Len())
	}
}

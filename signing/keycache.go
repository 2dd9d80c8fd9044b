package signing

import (
	"crypto/ed25519"
	"crypto/sha512"
	"hash"
	"sync"
	"sync/atomic"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// KeyCache verifies events one at a time, as [VerifyEvent] and [VerifyParsedEvent] do, with
// the signature check of [VerifyEvents]: a public key used a second time is prepared once
// (decoded into a table of multiples of −A, docs/decisions.md (bulk) 2) and kept for the calls
// that follow, which then check its signatures in about 40% of the time crypto/ed25519 takes.
// It is for a server that verifies events as they arrive (a transaction's PDUs, send_join,
// invites) rather than in batches: it holds one KeyCache for all those calls.
//
// Every verdict is exactly the one the package functions give (same error, server, key ID and
// text): the cache changes how a signature is checked, never whether it holds. It holds public
// keys only (never what a KeyLookup says of them: keys are looked up on every call, so a key
// the lookup drops or expires is treated as the lookup says). It keeps at most 1,024 keys
// (about 40 KiB each, measured on amd64 with AVX2: about 40 MiB at most); when it is
// full, a key at its second use takes the place of one that no call has used since the cache
// last looked for room (a clock sweep), so that keys no longer used make way and keys in use
// stay (docs/decisions.md (bulk) 12).
//
// The zero value is ready to use, and a nil *KeyCache verifies as the package functions do,
// keeping nothing. A KeyCache is safe for concurrent use; it must not be copied after first
// use.
type KeyCache struct {
	mu   sync.RWMutex
	keys map[[ed25519.PublicKeySize]byte]*cacheEntry
	seen map[[ed25519.PublicKeySize]byte]struct{} // keys checked once, not prepared yet
	// maxKeys, when not zero, replaces maxCachedKeys (tests).
	maxKeys int
}

// cacheEntry is a key the cache holds: prepared, or nil when newFastKey leaves it to
// verifyEd25519 (remembered so that it is not decoded again).
type cacheEntry struct {
	key  *fastKey
	used atomic.Bool // used since the last sweep (KeyCache.evict) passed it
}

// sha512Pool holds SHA-512 states for KeyCache's checks (fastKey.verify hashes R ‖ A ‖ msg).
var sha512Pool = sync.Pool{New: func() any { return sha512.New() }}

// VerifyEvent is [VerifyEvent] with the cache's prepared keys.
func (c *KeyCache) VerifyEvent(v roomversion.Version, event []byte, keys KeyLookup) error {
	if c == nil {
		return VerifyEvent(v, event, keys)
	}
	return verifyEventWith(c.verify, v, event, keys)
}

// VerifyParsedEvent is [VerifyParsedEvent] with the cache's prepared keys.
func (c *KeyCache) VerifyParsedEvent(ev *pdu.Event, keys KeyLookup) error {
	if c == nil {
		return VerifyParsedEvent(ev, keys)
	}
	sc := getScratch()
	defer putScratch(sc)
	return verifyParsedWith(c.verify, sc, ev, nil, keys)
}

// Len returns the number of keys the cache holds prepared (0 for a nil cache).
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, e := range c.keys {
		if e.key != nil {
			n++
		}
	}
	return n
}

// limit is the largest number of keys the cache holds.
func (c *KeyCache) limit() int {
	if c.maxKeys > 0 {
		return c.maxKeys
	}
	return maxCachedKeys
}

// verify reports whether sig is a valid signature of msg by pub, with exactly the verdict of
// verifyEd25519, as batchWorker.verify does: a key is prepared at its second use, outside the
// lock (preparing takes about 140 µs).
func (c *KeyCache) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return verifyEd25519(pub, msg, sig)
	}
	var k [ed25519.PublicKeySize]byte
	copy(k[:], pub)
	c.mu.RLock()
	e := c.keys[k]
	c.mu.RUnlock()
	var fk *fastKey
	switch {
	case e != nil:
		if !e.used.Load() { // a store only when it changes: no shared write per call
			e.used.Store(true)
		}
		fk = e.key
	case c.secondUse(k):
		fk = c.store(k, newFastKey(pub))
	}
	if fk == nil {
		return verifyEd25519(pub, msg, sig)
	}
	h := sha512Pool.Get().(hash.Hash)
	defer sha512Pool.Put(h)
	return fk.verify(h, msg, sig)
}

// secondUse records a use of the key k, not held by the cache when the caller looked, and
// reports whether to prepare it now: at its second use (or when another call has stored it
// meanwhile: store then returns that one). The set of keys seen once is emptied when full, as
// a batch worker's is.
func (c *KeyCache) secondUse(k [ed25519.PublicKeySize]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.keys[k]; ok {
		return true
	}
	if _, again := c.seen[k]; again {
		delete(c.seen, k)
		return true
	}
	if c.seen == nil {
		c.seen = make(map[[ed25519.PublicKeySize]byte]struct{})
	}
	if len(c.seen) >= 4*c.limit() {
		clear(c.seen)
	}
	c.seen[k] = struct{}{}
	return false
}

// store keeps fk (nil for a key left to verifyEd25519) as the prepared form of k, making room
// when the cache is full (evict), unless another call stored one first, and returns the one to
// use.
func (c *KeyCache) store(k [ed25519.PublicKeySize]byte, fk *fastKey) *fastKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.keys[k]; ok {
		return old.key
	}
	if c.keys == nil {
		c.keys = make(map[[ed25519.PublicKeySize]byte]*cacheEntry)
	}
	for len(c.keys) >= c.limit() {
		c.evict()
	}
	e := &cacheEntry{key: fk}
	e.used.Store(true)
	c.keys[k] = e
	return fk
}

// evict removes one key from the cache (which is not empty), the way of the clock algorithm:
// it goes over the keys, from wherever map iteration starts, clearing the mark of each key used
// since the last sweep, and removes the first key without one. When every key was marked, it
// removes the first key it cleared. c.mu must be held for writing.
func (c *KeyCache) evict() {
	var first [ed25519.PublicKeySize]byte
	seen := false
	for k, e := range c.keys {
		if !e.used.Load() {
			delete(c.keys, k)
			return
		}
		e.used.Store(false)
		if !seen {
			first, seen = k, true
		}
	}
	delete(c.keys, first)
}

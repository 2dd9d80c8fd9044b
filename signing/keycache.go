package signing

import (
	"crypto/ed25519"
	"crypto/sha512"
	"hash"
	"sync"

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
// the lookup drops or expires is treated as the lookup says), at most 1,024 prepared keys
// (about 30 KiB each, so about 30 MiB at most); further keys are checked without being
// prepared.
//
// The zero value is ready to use. A KeyCache is safe for concurrent use; it must not be copied
// after first use.
type KeyCache struct {
	mu   sync.RWMutex
	keys map[[ed25519.PublicKeySize]byte]*fastKey // prepared keys; nil: left to verifyEd25519
	seen map[[ed25519.PublicKeySize]byte]struct{} // keys checked once, not prepared yet
	// maxKeys, when not zero, replaces maxCachedKeys (tests).
	maxKeys int
}

// sha512Pool holds SHA-512 states for KeyCache's checks (fastKey.verify hashes R ‖ A ‖ msg).
var sha512Pool = sync.Pool{New: func() any { return sha512.New() }}

// VerifyEvent is [VerifyEvent] with the cache's prepared keys.
func (c *KeyCache) VerifyEvent(v roomversion.Version, event []byte, keys KeyLookup) error {
	sc := getScratch()
	defer putScratch(sc)
	ev, err := pdu.ParseIndexed(v, event, &sc.index)
	if err != nil {
		return &VerificationError{Err: ErrMalformed, Detail: err.Error(), Cause: err}
	}
	return verifyParsedWith(c.verify, sc, ev, &sc.index, keys)
}

// VerifyParsedEvent is [VerifyParsedEvent] with the cache's prepared keys.
func (c *KeyCache) VerifyParsedEvent(ev *pdu.Event, keys KeyLookup) error {
	sc := getScratch()
	defer putScratch(sc)
	return verifyParsedWith(c.verify, sc, ev, nil, keys)
}

// Len returns the number of keys the cache holds prepared.
func (c *KeyCache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, fk := range c.keys {
		if fk != nil {
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
// verifyEd25519, as batchWorker.verify does: a key is prepared at its second use while the
// cache has room, outside the lock (preparing takes about 140 µs).
func (c *KeyCache) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize {
		return verifyEd25519(pub, msg, sig)
	}
	var k [ed25519.PublicKeySize]byte
	copy(k[:], pub)
	c.mu.RLock()
	fk, found := c.keys[k]
	c.mu.RUnlock()
	if !found {
		var prepare bool
		if fk, found, prepare = c.use(k); prepare {
			fk, found = c.store(k, newFastKey(pub)), true
		}
	}
	if !found || fk == nil {
		return verifyEd25519(pub, msg, sig)
	}
	h := sha512Pool.Get().(hash.Hash)
	defer sha512Pool.Put(h)
	return fk.verify(h, msg, sig)
}

// use records a use of the key k and says what to do with it: the prepared key when another
// call has stored it meanwhile (found), else whether to prepare it now (its second use, with
// room in the cache) or check the signature without it. The set of keys seen once is emptied
// when full, as a batch worker's is.
func (c *KeyCache) use(k [ed25519.PublicKeySize]byte) (fk *fastKey, found, prepare bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fk, found = c.keys[k]; found {
		return fk, true, false
	}
	if len(c.keys) >= c.limit() {
		return nil, false, false
	}
	if _, again := c.seen[k]; again {
		delete(c.seen, k)
		return nil, false, true
	}
	if c.seen == nil {
		c.seen = make(map[[ed25519.PublicKeySize]byte]struct{})
	}
	if len(c.seen) >= 4*c.limit() {
		clear(c.seen)
	}
	c.seen[k] = struct{}{}
	return nil, false, false
}

// store keeps fk (nil for a key left to verifyEd25519) as the prepared form of k, unless
// another call stored one first or the cache is full, and returns the one to use.
func (c *KeyCache) store(k [ed25519.PublicKeySize]byte, fk *fastKey) *fastKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.keys[k]; ok {
		return old
	}
	if len(c.keys) >= c.limit() {
		return fk
	}
	if c.keys == nil {
		c.keys = make(map[[ed25519.PublicKeySize]byte]*fastKey)
	}
	c.keys[k] = fk
	return fk
}

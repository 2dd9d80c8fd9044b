package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"hash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// This file verifies many events at once (issue 6: joining a large room means verifying the
// whole state and auth chain of the send_join response).
//
// The verdict for every event is, by construction and by test, the one [VerifyEvent] (or
// [VerifyParsedEvent]) returns for it: the same hashing, redaction and signature policy, in the
// same order, with the same errors. What changes is how each ed25519 signature is checked:
//
//   - Public keys are decoded once per call and worker, at their second use (a room has a handful
//     of signing keys and tens of thousands of signatures; preparing a key costs more than one
//     plain check, so a key used once is not prepared), into a table of multiples of −A for curve25519-voi's
//     fixed-base scalar multiplication. A signature check then computes S·B − k·A with two
//     table multiplications (no doublings) and compares its encoding with R: the cofactorless
//     equation of crypto/ed25519, with its encoding rules (S < L, R compared as bytes). Keys
//     that are not canonical encodings of torsion-free points — never the case for a key made
//     by a real signer — are checked with crypto/ed25519 itself.
//   - The events are spread over all cores.
//
// Why not ed25519 batch verification: every batch verification equation is cofactored (it
// checks [8](S·B − k·A − R) = 0: the random linear combination cannot be sound for the torsion
// part otherwise), while crypto/ed25519, and with it [VerifyEvent] and libsodium-based servers,
// check the cofactorless equation S·B − k·A = R. A signer can make signatures whose R carries a
// small-order component that the batch accepts and crypto/ed25519 rejects (see
// TestBatchEquationIsCofactored and docs/decisions.md (bulk)): with batch verification a
// malicious server could make roomproto accept events every other server rejects, which splits
// the room. Closing that gap needs a prime-order subgroup check of every R, which costs more
// than a whole verification (measured CPU time per signature: subgroup check 33-42 µs, batch of
// 1024 14.5 µs, the prepared-key check here 18-19 µs, crypto/ed25519 46 µs), so no exact batch
// construction is faster than the per-signature path used here.

// Verdict is what a receiving server does with an event after checking its hashes and
// signatures, derived from the error [VerifyEvent] returns ([VerdictOf]).
type Verdict uint8

// The verdicts, from best to worst.
const (
	// VerdictValid: signatures and content hash hold (nil error).
	VerdictValid Verdict = iota
	// VerdictRedact: the signatures hold but the content hash does not
	// ([ErrContentHashMismatch]): keep the redacted form of the event.
	VerdictRedact
	// VerdictNeedKey: a server that must sign has signed only with keys that are unknown
	// ([ErrUnknownKey]) or expired ([ErrKeyExpired]), and no other signature check failed for
	// good: fetch keys and verify again, else reject (docs/decisions.md (signing) 16).
	VerdictNeedKey
	// VerdictReject: anything else: a bad or missing signature, a malformed event, no content
	// hash. Drop the event.
	VerdictReject
)

// String returns "valid", "redact", "need-key" or "reject".
func (v Verdict) String() string {
	switch v {
	case VerdictValid:
		return "valid"
	case VerdictRedact:
		return "redact"
	case VerdictNeedKey:
		return "need-key"
	case VerdictReject:
		return "reject"
	}
	return "verdict(?)"
}

// VerdictOf classifies an error returned by [VerifyEvent], [VerifyParsedEvent],
// [VerifyEvents] or [VerifyParsedEvents].
func VerdictOf(err error) Verdict {
	switch {
	case err == nil:
		return VerdictValid
	case errors.Is(err, ErrContentHashMismatch):
		return VerdictRedact
	case errors.Is(err, ErrUnknownKey), errors.Is(err, ErrKeyExpired):
		return VerdictNeedKey
	}
	return VerdictReject
}

// BatchOptions tunes [VerifyEvents], [VerifyParsedEvents] and [ParseAndVerifyEvents]. The zero value (or a nil
// pointer) uses every core and reports no progress.
type BatchOptions struct {
	// Workers is the number of goroutines that verify; 0 or less means runtime.GOMAXPROCS(0).
	Workers int
	// Progress, when not nil, is called now and then with the number of events verified so
	// far and the total. Calls are serialised (never two at once) and done never decreases;
	// the last call has done == total. It runs on a worker goroutine: keep it short.
	Progress func(done, total int)
}

// batchChunk is the number of consecutive events a worker takes at a time.
const batchChunk = 32

// maxCachedKeys bounds the prepared keys one worker keeps (about 40 KiB each, measured on amd64
// with AVX2): a KeyLookup
// serving more distinct keys than that to one call is not a room's key set; the extra keys are
// checked with verifyEd25519, without being prepared.
const maxCachedKeys = 1024

// maxSeenKeys bounds the keys one worker remembers having checked once (32 bytes each): a key
// is prepared at its second use only, since preparing it costs more than a plain check (about
// 1.7 crypto/ed25519 verifications, and 40 KiB). When the set is full it is emptied: a key used
// rarely among many others may then never be prepared, which costs a plain check each time,
// never more.
const maxSeenKeys = 4 * maxCachedKeys

// VerifyEvents verifies the hashes and signatures of many events of room version v, using all
// cores. The result has one entry per event, in order: exactly the error [VerifyEvent] returns
// for that event (nil when it is valid); [VerdictOf] classifies it. keys must be safe for
// concurrent use (a [KeyRing] that is not modified meanwhile is); nil knows no key. Events are
// independent: a bad event does not affect the verdict of another.
func VerifyEvents(v roomversion.Version, events [][]byte, keys KeyLookup, opts *BatchOptions) []error {
	keys = orNoKeys(keys)
	out := make([]error, len(events))
	runBatch(len(events), opts, func(w *batchWorker, i int) {
		ev, err := pdu.ParseIndexed(v, events[i], &w.sc.index)
		if err != nil {
			out[i] = &VerificationError{Err: ErrMalformed, Detail: err.Error(), Cause: err}
			return
		}
		out[i] = w.verifyParsed(ev, &w.sc.index, keys)
	})
	return out
}

// VerifyParsedEvents is [VerifyEvents] for events already parsed (by pdu.Parse or
// [ParseEvent]), each for its own ev.Version: the result holds, per event, exactly the error
// [VerifyParsedEvent] returns for it. A nil event gets an [ErrMalformed] error.
func VerifyParsedEvents(events []*pdu.Event, keys KeyLookup, opts *BatchOptions) []error {
	keys = orNoKeys(keys)
	out := make([]error, len(events))
	runBatch(len(events), opts, func(w *batchWorker, i int) {
		if events[i] == nil {
			out[i] = malformed(nil, "nil event")
			return
		}
		out[i] = w.verifyParsed(events[i], nil, keys)
	})
	return out
}

// orNoKeys turns a nil KeyLookup into one that knows no key, so that every signature is by an
// unknown key ([ErrUnknownKey]) rather than a nil interface call.
func orNoKeys(keys KeyLookup) KeyLookup {
	if keys == nil {
		return KeyRing(nil)
	}
	return keys
}

// runBatch calls fn for every index in [0, n) on opts.Workers goroutines, each with its own
// batchWorker, and reports progress.
func runBatch(n int, opts *BatchOptions, fn func(w *batchWorker, i int)) {
	if n == 0 {
		if opts != nil && opts.Progress != nil {
			opts.Progress(0, 0)
		}
		return
	}
	workers := 0
	var progress func(done, total int)
	if opts != nil {
		workers, progress = opts.Workers, opts.Progress
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, (n+batchChunk-1)/batchChunk)
	var (
		next     atomic.Int64 // next index to hand out
		done     atomic.Int64 // indices finished
		reportMu sync.Mutex
		reported int
	)
	report := func(add int) {
		d := int(done.Add(int64(add)))
		if progress == nil {
			return
		}
		reportMu.Lock()
		if d > reported { // keep done monotonic even if two workers race here
			reported = d
			progress(d, n)
		}
		reportMu.Unlock()
	}
	work := func() {
		w := newBatchWorker()
		defer w.release()
		for {
			start := int(next.Add(batchChunk)) - batchChunk
			if start >= n {
				return
			}
			end := min(start+batchChunk, n)
			for i := start; i < end; i++ {
				fn(w, i)
			}
			report(end - start)
		}
	}
	if workers == 1 {
		work()
		return
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work()
		}()
	}
	wg.Wait()
}

// batchWorker is the state of one verifying goroutine: its buffers and its expanded keys.
type batchWorker struct {
	sc   *scratch
	keys map[[ed25519.PublicKeySize]byte]*fastKey
	seen map[[ed25519.PublicKeySize]byte]struct{} // keys checked once, not prepared yet
	h    hash.Hash                                // SHA-512
}

func newBatchWorker() *batchWorker {
	return &batchWorker{sc: getScratch(), keys: make(map[[ed25519.PublicKeySize]byte]*fastKey),
		seen: make(map[[ed25519.PublicKeySize]byte]struct{}), h: sha512.New()}
}

func (w *batchWorker) release() { putScratch(w.sc) }

// verifyParsed is the package's verifyParsed (VerifyParsedEvent, and VerifyEvent once it has
// parsed, with idx) with the worker's buffers and signature check.
func (w *batchWorker) verifyParsed(ev *pdu.Event, idx *canonicaljson.Index, keys KeyLookup) error {
	return verifyParsedWith(w.verify, w.sc, ev, idx, keys)
}

// parseAndVerify is ParseEvent followed by VerifyParsedEvent, computing the reference hash of
// the event (its ID from room version 3) from the redacted bytes the signature check needs
// anyway: they are the same bytes (server-server-api "Calculating the reference hash for an
// event", "Signing Events"), so the event is redacted once instead of twice.
func (w *batchWorker) parseAndVerify(v roomversion.Version, raw []byte, keys KeyLookup) (*pdu.Event, error) {
	idx := &w.sc.index
	ev, err := pdu.ParseIndexed(v, raw, idx)
	if err != nil {
		return nil, &VerificationError{Err: ErrMalformed, Detail: err.Error(), Cause: err}
	}
	enc := encodingFor(v)
	if v.Format.EventID == roomversion.EventIDOpaque || enc == nil {
		// pdu.Parse has read the `event_id` of v1-2; an unknown ID format is ParseEvent's to
		// report.
		parsed, perr := ParseEvent(v, raw)
		if perr != nil {
			parsed = nil
		}
		return parsed, w.verifyParsed(ev, idx, keys)
	}
	var buf [3]string
	signers, serr := requiredSigners(ev, buf[:0])
	if err := signedCanonicalEventBytes(w.sc, v, ev.Raw(), idx); err != nil {
		// No reference hash: ParseEvent fails too. Keep VerifyParsedEvent's order of errors.
		if serr != nil {
			return nil, serr
		}
		return nil, err
	}
	ev.EventID = hashEventID(enc, sha256.Sum256(w.sc.msg))
	if serr != nil {
		return ev, serr
	}
	return ev, checkSigned(w.verify, w.sc, ev, signers, idx, keys)
}

// ParseAndVerifyEvents parses many events of room version v as [ParseEvent] does and verifies
// them as [VerifyEvent] does, using all cores: events[i] is what ParseEvent returns for raw[i]
// (nil when it fails), errs[i] what VerifyEvent returns ([VerdictOf] classifies it). It is
// faster than the two calls: the redacted form of each event serves both its event ID and its
// signatures. keys must be safe for concurrent use.
func ParseAndVerifyEvents(v roomversion.Version, raw [][]byte, keys KeyLookup, opts *BatchOptions) (events []*pdu.Event, errs []error) {
	keys = orNoKeys(keys)
	events, errs = make([]*pdu.Event, len(raw)), make([]error, len(raw))
	runBatch(len(raw), opts, func(w *batchWorker, i int) {
		events[i], errs[i] = w.parseAndVerify(v, raw[i], keys)
	})
	return events, errs
}

// verify reports whether sig is a valid signature of msg by the 32-byte key pub, with exactly
// the verdict of verifyEd25519. A key is prepared (newFastKey) at its second use, while the
// cache has room; otherwise verifyEd25519 checks the signature. So a key used once, or one
// that finds the cache full (more than maxCachedKeys distinct keys in one call, in whatever
// order), costs a plain check and allocates nothing, rather than a prepared key thrown away.
func (w *batchWorker) verify(pub ed25519.PublicKey, msg, sig []byte) bool {
	var k [ed25519.PublicKeySize]byte
	copy(k[:], pub)
	fk, ok := w.keys[k]
	if !ok {
		if len(w.keys) >= maxCachedKeys {
			return verifyEd25519(pub, msg, sig)
		}
		if _, again := w.seen[k]; !again {
			if len(w.seen) >= maxSeenKeys {
				clear(w.seen)
			}
			w.seen[k] = struct{}{}
			return verifyEd25519(pub, msg, sig)
		}
		delete(w.seen, k)
		fk = newFastKey(pub)
		w.keys[k] = fk
	}
	if fk == nil {
		return verifyEd25519(pub, msg, sig)
	}
	return fk.verify(w.h, msg, sig)
}

// fastKey is a public key prepared for many verifications: a table of multiples of −A for
// curve25519-voi's fixed-base scalar multiplication (about 40 KiB on amd64 with AVX2), so that k·(−A) costs table
// additions instead of 253 doublings.
type fastKey struct {
	pub  [ed25519.PublicKeySize]byte
	negA *curve.EdwardsBasepointTable
}

// newFastKey prepares pub, or returns nil when pub must be left to verifyEd25519: when it is
// not the canonical encoding of a point (non-canonical y, "negative zero" x), or the point is
// of small order or has a small-order component. For such keys the two libraries' decoding
// rules might differ; real signing keys are never of that kind (a key made from a seed is a
// multiple of the base point).
func newFastKey(pub ed25519.PublicKey) *fastKey {
	var (
		c, back curve.CompressedEdwardsY
		p       curve.EdwardsPoint
	)
	if _, err := c.SetBytes(pub); err != nil {
		return nil
	}
	if _, err := p.SetCompressedY(&c); err != nil {
		return nil
	}
	back.SetEdwardsPoint(&p)
	if !bytes.Equal(back[:], pub) || p.IsSmallOrder() || !p.IsTorsionFree() {
		return nil
	}
	fk := &fastKey{}
	copy(fk.pub[:], pub)
	var neg curve.EdwardsPoint
	neg.Neg(&p)
	fk.negA = curve.NewEdwardsBasepointTable(&neg)
	return fk
}

// verify is verifyEd25519 for a prepared key (which is canonical and not of small order): R
// must not be of small order, S must be below the group order L, k = SHA-512(R ‖ A ‖ msg) mod
// L, and the encoding of S·B − k·A must be exactly the 32 bytes R of the signature (so a
// non-canonical R fails). h is the worker's SHA-512 state.
func (fk *fastKey) verify(h hash.Hash, msg, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize || smallOrderEncoding(sig[:32]) {
		return false
	}
	var s, k scalar.Scalar
	if _, err := s.SetCanonicalBytes(sig[32:]); err != nil {
		return false
	}
	var digest [sha512.Size]byte
	h.Reset()
	h.Write(sig[:32])
	h.Write(fk.pub[:])
	h.Write(msg)
	if _, err := k.SetBytesModOrderWide(h.Sum(digest[:0])); err != nil {
		return false
	}
	var sB, kNegA curve.EdwardsPoint
	sB.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &s)
	kNegA.MulBasepoint(fk.negA, &k)
	sB.Add(&sB, &kNegA)
	var r curve.CompressedEdwardsY
	r.SetEdwardsPoint(&sB)
	return bytes.Equal(r[:], sig[:32])
}

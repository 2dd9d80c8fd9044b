// Package claimsg holds tests only: an adversarial audit of what was added to the library on
// 2026-12-02 in commits e2f23cb..152da6d (pdu.EventBuffer; canonicaljson.CanonicalIndexed;
// signing's VerifyEvent and KeyCache.VerifyEvent parsing into a pooled EventBuffer; the
// membership handshakes returning events of their own, docs/decisions.md (membership) 24 and
// SECURITY.md "What the caller must do" item 10). Part 1 turns every sentence of the new text
// into a test of exactly what it says; part 2 calls the new APIs as a homeserver developer
// would, wrongly too. See README.md.
package claimsg

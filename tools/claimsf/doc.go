// Package claimsf holds tests only: an adversarial audit of what was added to the library on
// 2026-12-01 from commit a9a5d56 on (signing.KeyCache; the leave handshake of membership:
// DecideLeave, MakeLeave, CheckLeaveTemplate, SendLeave). Part 1 turns every sentence of the new
// text (docs/decisions.md bulk 10 and membership 21-23, README.md, SECURITY.md and the new doc
// comments) into a test of exactly what it says; part 2 calls the new APIs as a homeserver
// developer would, wrongly too, and compares the leave handshake with the spec. See README.md.
package claimsf

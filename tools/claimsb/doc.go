// Package claimsb holds the claims audit (part b) of roomproto: table-driven
// tests that check the concrete claims of docs/decisions.md (sections
// authrules, membership, Policy servers, Server ACLs, Bulk verification and
// the sections after it) and of the go doc of packages authrules, membership,
// policyserver and serveracl. The nine claims it found false (B1-B9) were settled
// on 2026-12-01, in the code or in the text; the tests assert the settled readings.
package claimsb

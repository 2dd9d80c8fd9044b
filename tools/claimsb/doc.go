// Package claimsb holds the claims audit (part b) of roomproto: table-driven
// tests that check the concrete claims of docs/decisions.md (sections
// authrules, membership, Policy servers, Server ACLs, Bulk verification and
// the sections after it) and of the go doc of packages authrules, membership,
// policyserver and serveracl. Failing claims are marked with knownFinding and
// reported in /work/logs/audit-claims-b.md.
package claimsb

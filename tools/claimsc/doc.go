// Package claimsc holds only tests: every checkable claim of roomproto's user-facing texts
// that the earlier audits (tools/claimsa: docs/decisions.md; tools/claimsb: the go doc of
// every identifier) did not cover — README.md (its commands and API snippets), the command
// line tool's help and usage texts and the CLI contract of DESIGN.md, SECURITY.md,
// BENCHMARKS.md, testdata READMEs and the package overviews. See README.md.
package claimsc

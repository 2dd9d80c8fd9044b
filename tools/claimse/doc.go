// Package claimse holds tests only: every checkable sentence added or changed since ee134ec in
// docs/decisions.md, README.md, SECURITY.md, the library's doc comments and the CLI's help,
// one named case per claim (see README.md).
package claimse

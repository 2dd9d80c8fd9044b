// Package claimsd holds tests only: every checkable sentence added or changed since bbad259 in
// docs/decisions.md, README.md, SECURITY.md, the library's doc comments and the CLI's help,
// one named case per claim (see README.md).
package claimsd

// Package limitstest holds only tests: the limits roomproto documents against hostile input
// (SECURITY.md), each checked at its edge and one past it across the packages that enforce it,
// and the "one reading of the bytes" checks — every package reads the same bytes the same way,
// and the bytes path and the parsed path of an operation agree.
package limitstest

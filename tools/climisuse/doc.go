// Package climisuse holds table-driven probes of what the roomproto command does with input
// its users get wrong: framing, flags, key files, events of other formats, room dumps and the
// shape of the output. Everything is in its _test.go files; README.md lists the findings.
package climisuse

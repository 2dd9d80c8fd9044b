package authrules

import (
	"strings"
	"unicode/utf8"

	"github.com/roomproto/roomproto/pdu"
)

// maxIDLength is the largest permitted length in bytes of a user ID (appendices "User
// Identifiers").
const maxIDLength = 255

// domainOf returns the part of a user, room or (v1-2) event ID after its first ':', and
// whether there is one. A server name may itself hold a ':' (a port), so the first one
// separates (appendices "Common Identifier Format").
func domainOf(id string) (string, bool) {
	i := strings.IndexByte(id, ':')
	if i < 0 {
		return "", false
	}
	return id[i+1:], true
}

// sameDomain reports whether two IDs both have a domain and it is the same.
func sameDomain(a, b string) bool {
	da, okA := domainOf(a)
	db, okB := domainOf(b)
	return okA && okB && da == db
}

// ValidUserID reports whether s is a user ID the rules accept (appendices "User Identifiers",
// with "Historical User IDs"): `@`, a localpart of any Unicode code points except `:` and NUL
// (possibly empty, as historical IDs may be), `:`, and a server name obeying the grammar of
// appendices "Server Name"; at most 255 bytes in all.
func ValidUserID(s string) bool {
	if len(s) < 3 || len(s) > maxIDLength || s[0] != '@' || !utf8.ValidString(s) {
		return false
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return false
	}
	if strings.IndexByte(s[:i], 0) >= 0 {
		return false
	}
	return pdu.ValidServerName(s[i+1:])
}

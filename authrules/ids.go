package authrules

import (
	"strings"
	"unicode/utf8"
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
	return validServerName(s[i+1:])
}

// validServerName checks server_name = hostname [ ":" port ] (appendices "Server Name").
func validServerName(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		host, port = s[:end+1], s[end+1:]
		if !validIPv6Literal(host[1 : len(host)-1]) {
			return false
		}
	} else {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i:]
		}
		if !validDNSName(host) {
			return false
		}
	}
	if port == "" {
		return true
	}
	if port[0] != ':' || len(port) < 2 || len(port) > 6 {
		return false
	}
	for i := 1; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// validDNSName checks dns-name = 1*255dns-char, dns-char = DIGIT / ALPHA / "-" / "."; an IPv4
// literal (1*3DIGIT "." ...) is also matched by it.
func validDNSName(s string) bool {
	if len(s) == 0 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validIPv6Literal checks IPv6address = 2*45IPv6char (0-9, A-F, a-f, ':', '.').
func validIPv6Literal(s string) bool {
	if len(s) < 2 || len(s) > 45 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

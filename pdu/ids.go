package pdu

import "strings"

// ValidServerName reports whether s obeys the grammar of appendices "Server Name":
// server_name = hostname [ ":" port ], where hostname is an IPv4 literal, a bracketed IPv6
// literal or a DNS name of 1 to 255 characters from [0-9A-Za-z.-], and port is 1 to 5 digits.
func ValidServerName(s string) bool {
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

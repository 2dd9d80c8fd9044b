package main

import (
	"net"
	"strings"
	"unicode/utf8"
)

// This file holds the harness's own reading of the spec (the reference) and a model of
// Dendrite's procedure whose departures from that reading can be switched off one at a time.
// The model explains divergences; it never decides a comparison. Its configuration with no
// switch is checked against Dendrite itself on every divergence, and with every switch it is
// the reference, which is checked against roomproto on every comparison (also where roomproto
// and Dendrite agree).

// matchOpts selects how a glob is matched: the spec's reading (the zero value) or one of
// Dendrite's departures.
type matchOpts struct {
	// unanchored: the pattern may match any substring of the name (Dendrite compiles the
	// pattern to a regular expression without ^ and $ and calls MatchString).
	unanchored bool
	// newlineBlocks: `*` and `?` do not match "\n" (they become the regular expression `.`,
	// which excludes it without the s flag).
	newlineBlocks bool
	// invalidIsFFFD: a byte that is not UTF-8 reads as U+FFFD (Go's regexp decodes the subject
	// so), so it matches a literal U+FFFD of the pattern.
	invalidIsFFFD bool
}

// units splits s into its characters: the bytes of each UTF-8 code point, and each byte that
// does not start a valid sequence on its own.
func units(s string) []string {
	out := make([]string, 0, len(s))
	for i := 0; i < len(s); {
		_, w := utf8.DecodeRuneInString(s[i:])
		out = append(out, s[i:i+w])
		i += w
	}
	return out
}

func isInvalidByte(u string) bool { return len(u) == 1 && u[0] >= utf8.RuneSelf }

// unitEq compares a pattern character with a name character.
func unitEq(p, n string, o matchOpts) bool {
	if p == n {
		return true
	}
	if o.invalidIsFFFD {
		ff := func(u string) bool { return u == "\uFFFD" || isInvalidByte(u) }
		return ff(p) && ff(n)
	}
	return false
}

// refMatch reports whether name matches the glob pattern (appendices "Glob-style matching": `*`
// matches zero or more characters, `?` exactly one, any other character itself), read with the
// options. It runs over the set of name positions the pattern's prefix can end at, a boolean
// slice: simple, and independent of roomproto's bit-set matcher.
func refMatch(pattern, name string, o matchOpts) bool {
	p, n := units(pattern), units(name)
	wildOK := func(u string) bool { return !(o.newlineBlocks && u == "\n") }
	cur := make([]bool, len(n)+1)
	next := make([]bool, len(n)+1)
	cur[0] = true
	if o.unanchored {
		for i := range cur {
			cur[i] = true
		}
	}
	for _, pu := range p {
		clear(next)
		switch pu {
		case "*":
			next[0] = cur[0]
			for i := 1; i <= len(n); i++ {
				next[i] = cur[i] || next[i-1] && wildOK(n[i-1])
			}
		case "?":
			for i := 0; i < len(n); i++ {
				next[i+1] = cur[i] && wildOK(n[i])
			}
		default:
			for i := 0; i < len(n); i++ {
				next[i+1] = cur[i] && unitEq(pu, n[i], o)
			}
		}
		cur, next = next, cur
	}
	if o.unanchored {
		for _, b := range cur {
			if b {
				return true
			}
		}
		return false
	}
	return cur[len(n)]
}

// refValidServerName is appendices "Server Name": server_name = hostname [ ":" port ], port =
// 1*5DIGIT, hostname = IPv4address / "[" IPv6address "]" / dns-name, IPv6address =
// 2*45IPv6char (0-9, A-F, a-f, ':', '.'), dns-name = 1*255dns-char (DIGIT / ALPHA / '-' /
// '.'). An IPv4address is also a dns-name. The grammar alone: RFC 3513 is not applied to the
// IPv6 literal (see the README).
func refValidServerName(s string) bool {
	host, port := refSplit(s)
	if strings.HasPrefix(s, "[") {
		inner, ok := strings.CutSuffix(strings.TrimPrefix(host, "["), "]")
		if !ok || len(inner) < 2 || len(inner) > 45 || !allBytes(inner, "0123456789abcdefABCDEF:.") {
			return false
		}
	} else if len(host) < 1 || len(host) > 255 || !allBytes(host, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.") {
		return false
	}
	if port == "" {
		return !strings.Contains(s[len(host):], ":")
	}
	return len(port) <= 5 && allBytes(port, "0123456789")
}

// refSplit cuts a server name into hostname and port (without its ':'): after the first ']'
// for a name starting with '[', else at the first ':'.
func refSplit(s string) (host, port string) {
	if strings.HasPrefix(s, "[") {
		i := strings.IndexByte(s, ']')
		if i < 0 {
			return s, ""
		}
		host, rest := s[:i+1], s[i+1:]
		if p, ok := strings.CutPrefix(rest, ":"); ok {
			return host, p
		}
		if rest != "" {
			return s, "" // not a server name
		}
		return host, ""
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func allBytes(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// refIsIPLiteral: a bracketed IPv6 literal, or "a sequence of four decimal numbers in the range 0
// to 255, separated by ." (appendices "Server Name"), each of 1*3DIGIT as IPv4address has it.
func refIsIPLiteral(host string) bool {
	if strings.HasPrefix(host, "[") {
		return true
	}
	return isDottedQuad(host)
}

func isDottedQuad(host string) bool {
	parts := strings.Split(host, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 3 || !allBytes(p, "0123456789") {
			return false
		}
		v := 0
		for i := 0; i < len(p); i++ {
			v = v*10 + int(p[i]-'0')
		}
		if v > 255 {
			return false
		}
	}
	return true
}

// refACL is an ACL as the spec's schema reads it.
type refACL struct {
	allowIP     bool
	allow, deny []string
}

// refAllowed is the reference verdict: the schema's order (m.room.server_acl: IP literal with
// allow_ip_literals false, then deny, then allow, otherwise deny), on the hostname without its
// port, after docs/decisions.md (server ACLs) 3 (a string that is no server name is denied).
func refAllowed(a refACL, name string) bool { return modelAllowed(a, name, fixAll) }

// The switches of the model, in the order the classifier turns them on: each moves the model
// from Dendrite's procedure one step towards the reference.
const (
	fixNone          = iota
	fixInvalidName   // deny a string that is no server name (decisions.md (server ACLs) 3)
	fixLeadingZero   // an IPv4 literal with leading zeros is one (decisions.md (server ACLs) 1)
	fixBracketNoPort // "[...]" without a port is an IPv6 literal
	fixBracketHost   // the hostname keeps its brackets when a port is cut off; IP literals as the spec
	fixAnchored      // patterns match the whole hostname
	fixAll           = fixAnchored
)

// dendriteOpts is how Dendrite matches: its patterns are unanchored regular expressions.
var dendriteOpts = matchOpts{unanchored: true, newlineBlocks: true, invalidIsFFFD: true}

// modelAllowed runs Dendrite's IsServerBannedFromRoom procedure (cut the port with
// net.SplitHostPort when it succeeds; IP literal when net.ParseCIDR accepts host+"/0"; deny
// patterns, then allow patterns, as unanchored regular expressions) with the switches up to
// fix turned towards the reference, and returns the verdict (true: allowed).
func modelAllowed(a refACL, name string, fix int) bool {
	if fix >= fixInvalidName && !refValidServerName(name) {
		return false
	}
	var host string
	var ip bool
	if fix >= fixBracketHost {
		host, _ = refSplit(name)
		ip = refIsIPLiteral(host)
	} else {
		host = name
		if h, _, err := net.SplitHostPort(name); err == nil {
			host = h
		}
		_, _, err := net.ParseCIDR(host + "/0")
		ip = err == nil
		if fix >= fixLeadingZero && isDottedQuad(host) {
			ip = true
		}
		if fix >= fixBracketNoPort && strings.HasPrefix(host, "[") {
			ip = true
		}
	}
	if ip && !a.allowIP {
		return false
	}
	o := dendriteOpts
	if fix >= fixAnchored {
		o = matchOpts{}
	}
	for _, p := range a.deny {
		if refMatch(p, host, o) {
			return false
		}
	}
	for _, p := range a.allow {
		if refMatch(p, host, o) {
			return true
		}
	}
	return false
}

// isRFC3513 reports whether s is a textual IPv6 address (RFC 3513 section 2.2, which Go's
// net.ParseIP implements, RFC 4291 being its successor); used only to describe names.
func isRFC3513(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && strings.Contains(s, ":")
}

// Package serveracl implements room server access control lists: which servers a room's
// `m.room.server_acl` state event lets participate (server-server-api "Server Access Control
// Lists (ACLs)"; the event's schema, `m.room.server_acl`, gives the order of the checks).
//
// A server that a room's ACL denies may not make the federation requests of that room: the
// receiving server answers 403 M_FORBIDDEN on make_join, send_join, invite, state, backfill and
// the other protected endpoints, and ignores each PDU of a transaction whose room denies the
// sending server (and the typing notifications and receipts of that room). ACLs are not
// authorization rules: they act at the network layer, on the server that sends a request, and
// never change the verdict of the auth rules on an event.
//
// Everything in this package is a pure function and safe for concurrent use. The readings the
// spec leaves open are recorded in docs/decisions.md ("Server ACLs").
package serveracl

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
)

// EventType is the type of the state event (empty state key) that holds a room's ACL.
const EventType = "m.room.server_acl"

// ErrNotObject is returned by [Parse] for content that is not a JSON object.
var ErrNotObject = errors.New("serveracl: content is not a JSON object")

// ACL is a room's server access control list, as read from the content of its
// m.room.server_acl event by [Parse].
type ACL struct {
	// AllowIPLiterals is `allow_ip_literals`: false denies every server whose name is an IP
	// address literal. It "defaults to true if missing or otherwise not a boolean".
	AllowIPLiterals bool
	// Allow is `allow`: glob-style patterns of the server names allowed. It "defaults to an
	// empty list when not provided, effectively disallowing every server". Entries that are
	// not strings are left out.
	Allow []string
	// Deny is `deny`: glob-style patterns of the server names denied, which win over Allow.
	// Entries that are not strings are left out.
	Deny []string
}

// Parse reads an ACL from the content of an m.room.server_acl event, with the schema's
// defaults: `allow_ip_literals` is true unless it is the boolean false, and `allow` and `deny`
// are empty unless they are arrays; in an array only the strings count
// (docs/decisions.md (server ACLs) 4). The only error is [ErrNotObject].
func Parse(content []byte) (ACL, error) {
	acl := ACL{AllowIPLiterals: true}
	if canonicaljson.KindOf(content) != canonicaljson.Object {
		return ACL{}, ErrNotObject
	}
	err := canonicaljson.EachMember(content, func(key string, value []byte) error {
		switch key {
		case "allow_ip_literals":
			acl.AllowIPLiterals = string(value) != "false"
		case "allow":
			acl.Allow = stringsOf(value)
		case "deny":
			acl.Deny = stringsOf(value)
		}
		return nil
	})
	if err != nil {
		return ACL{}, ErrNotObject
	}
	return acl, nil
}

// stringsOf returns the strings of a JSON array, in order, leaving out the other elements;
// nil when value is not an array.
func stringsOf(value []byte) []string {
	var out []string
	_ = canonicaljson.EachElement(value, func(elem []byte) error {
		if canonicaljson.KindOf(elem) != canonicaljson.String {
			return nil
		}
		if s, err := canonicaljson.Unquote(elem); err == nil {
			out = append(out, s)
		}
		return nil
	})
	return out
}

// Of returns the ACL of the room whose state is s (its m.room.server_acl event with an empty
// state key), and false when the room has none, which allows every server. Content that
// cannot be read counts as an empty object: every server is denied, as by an ACL without
// `allow`. s should be the room's current state, which the receiving server checks requests
// against.
func Of(s *authrules.State) (ACL, bool) {
	if s == nil {
		return ACL{}, false
	}
	ev := s.Get(EventType, "")
	if ev == nil {
		return ACL{}, false
	}
	acl, err := Parse(ev.Content)
	if err != nil {
		return ACL{AllowIPLiterals: true}, true
	}
	return acl, true
}

// Allowed reports whether the room whose state is s lets serverName participate: true when the
// room has no ACL, otherwise [ACL.Allowed].
func Allowed(s *authrules.State, serverName string) bool {
	acl, ok := Of(s)
	return !ok || acl.Allowed(serverName)
}

// Allowed reports whether the ACL lets serverName participate, in the schema's order:
//
//  1. the server name is an IP address literal and AllowIPLiterals is false: deny;
//  2. it matches an entry of Deny: deny;
//  3. it matches an entry of Allow: allow;
//  4. otherwise deny.
//
// The port is not considered ("evil.com, evil.com:8448, and evil.com:1234 would all match
// rules that apply to evil.com"). Matching is [Match]: glob-style and, as the spec treats
// server names, case-sensitive (docs/decisions.md (server ACLs) 2). A serverName that is not
// a server name by the grammar of appendices "Server Name" (pdu.ValidServerName) is denied:
// it names no server the ACL could be about (docs/decisions.md (server ACLs) 3).
func (a ACL) Allowed(serverName string) bool {
	if !pdu.ValidServerName(serverName) {
		return false
	}
	host := Host(serverName)
	if !a.AllowIPLiterals && IsIPLiteral(host) {
		return false
	}
	m := nameMatcher{name: host} // one matcher for every pattern
	for _, p := range a.Deny {
		if m.match(p) {
			return false
		}
	}
	for _, p := range a.Allow {
		if m.match(p) {
			return true
		}
	}
	return false
}

// Host returns serverName without its port: the hostname of appendices "Server Name"
// (`server_name = hostname [ ":" port ]`), a bracketed IPv6 literal kept whole. Of a string
// that is not a server name it returns what comes before the first ':' (after a first ']'
// when it starts with '['), so that Host(Host(s)) == Host(s).
func Host(serverName string) string {
	if strings.HasPrefix(serverName, "[") {
		if i := strings.IndexByte(serverName, ']'); i >= 0 {
			return serverName[:i+1]
		}
		return serverName
	}
	if i := strings.IndexByte(serverName, ':'); i >= 0 {
		return serverName[:i]
	}
	return serverName
}

// IsIPLiteral reports whether host (a server name without its port) is an IP address literal
// as appendices "Server Name" defines them: an IPv6 literal in brackets, or an IPv4 literal, "a
// sequence of four decimal numbers in the range 0 to 255, separated by ." (one to three digits
// each, as the grammar writes them; docs/decisions.md (server ACLs) 1).
func IsIPLiteral(host string) bool {
	if strings.HasPrefix(host, "[") {
		// The grammar's bracketed IPv6address, 2*45IPv6char, as a server name holds it.
		return len(host) > 2 && host[len(host)-1] == ']' && pdu.ValidServerName(host)
	}
	groups, digits, value := 1, 0, 0
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case c >= '0' && c <= '9':
			if digits++; digits > 3 {
				return false
			}
			if value = value*10 + int(c-'0'); value > 255 {
				return false
			}
		case c == '.' && digits > 0:
			groups, digits, value = groups+1, 0, 0
		default:
			return false
		}
	}
	return groups == 4 && digits > 0
}

// Match reports whether name matches the glob-style pattern (appendices "Glob-style
// matching"): `*` matches zero or more characters, `?` exactly one, and every other
// character only itself (case-sensitive). Characters are Unicode code points (a byte that is
// not UTF-8 is one character of its own). The time is the pattern's length times a
// sixty-fourth of the name's, whatever the pattern (see nameMatcher).
func Match(pattern, name string) bool {
	var m nameMatcher
	m.name = name
	return m.match(pattern)
}

// isPlainASCII reports whether s is ASCII without the wildcards '*' and '?'.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '*' || c == '?' {
			return false
		}
	}
	return true
}

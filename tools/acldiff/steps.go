package main

import (
	"strings"

	"github.com/roomproto/roomproto/serveracl"
)

// A content step rewrites a content so that one known cause of divergence is gone while
// roomproto's reading (serveracl.Parse) stays the same (the classifier checks that it does).
// The classifier applies them in this order, each on the result of the ones before, and names
// a divergence after the step that makes Dendrite agree.
type contentStep struct {
	class string // the class of a divergence this step removes
	apply func(c content) content
}

var contentSteps = []contentStep{
	// Members whose key is allow, deny or allow_ip_literals only to a case-insensitive reader.
	{"D-case-insensitive-keys", func(c content) content {
		var out []member
		for _, m := range c.members {
			if !isACLKey(m.key) && foldsToACLKey(m.key) {
				continue
			}
			out = append(out, m)
		}
		c.members = out
		return c
	}},
	// allow_ip_literals that is neither a boolean nor null: true, as roomproto reads it.
	{"D-ip-literals-mistyped-drops-acl", func(c content) content {
		for i, m := range c.members {
			if m.key == "allow_ip_literals" && m.v.kind != 'b' && m.v.kind != 'n' {
				c.members[i].v = jBool(true)
			}
		}
		return c
	}},
	// allow_ip_literals null or absent: true, written out.
	{"D-ip-literals-default-false", func(c content) content {
		found := false
		for i, m := range c.members {
			if m.key == "allow_ip_literals" {
				found = true
				if m.v.kind == 'n' {
					c.members[i].v = jBool(true)
				}
			}
		}
		if !found {
			c.members = append(c.members, member{key: "allow_ip_literals", klit: `"allow_ip_literals"`, v: jBool(true)})
		}
		return c
	}},
	// allow or deny that is neither an array nor null: an empty array.
	{"C-list-not-array", func(c content) content {
		for i, m := range c.members {
			if isListKey(m.key) && m.v.kind != 'a' && m.v.kind != 'n' {
				c.members[i].v = jArr()
			}
		}
		return c
	}},
	// Entries of allow or deny that are neither strings nor null: left out.
	{"C-entry-not-string", func(c content) content {
		return filterEntries(c, func(e jv) bool { return e.kind == 's' || e.kind == 'n' })
	}},
	// null entries of allow or deny: left out.
	{"C-null-entry", func(c content) content {
		return filterEntries(c, func(e jv) bool { return e.kind == 's' })
	}},
}

func isACLKey(k string) bool  { return k == "allow" || k == "deny" || k == "allow_ip_literals" }
func isListKey(k string) bool { return k == "allow" || k == "deny" }

// foldsToACLKey: encoding/json matches a key to a struct field's name case-insensitively
// (strings.EqualFold's simple folding, so "allow_ip_literal\u017f" too).
func foldsToACLKey(k string) bool {
	for _, a := range aclKeys {
		if strings.EqualFold(k, a) {
			return true
		}
	}
	return false
}

func filterEntries(c content, keep func(jv) bool) content {
	for i, m := range c.members {
		if !isListKey(m.key) || m.v.kind != 'a' {
			continue
		}
		var e []jv
		for _, x := range m.v.elems {
			if keep(x) {
				e = append(e, x)
			}
		}
		c.members[i].v = jArr(e...)
	}
	return c
}

// canonicalContent writes roomproto's reading of a content as a content every reader takes
// alike: the three keys, allow_ip_literals a boolean, the lists arrays of strings.
func canonicalContent(a serveracl.ACL) content {
	list := func(ps []string) jv {
		e := make([]jv, 0, len(ps))
		for _, p := range ps {
			e = append(e, jStr(p))
		}
		return jArr(e...)
	}
	return content{members: []member{
		{key: "allow_ip_literals", klit: `"allow_ip_literals"`, v: jBool(a.AllowIPLiterals)},
		{key: "allow", klit: `"allow"`, v: list(a.Allow)},
		{key: "deny", klit: `"deny"`, v: list(a.Deny)},
	}}
}

// sameACL compares two readings of roomproto (nil and empty lists alike).
func sameACL(a, b serveracl.ACL) bool {
	return a.AllowIPLiterals == b.AllowIPLiterals && sameList(a.Allow, b.Allow) && sameList(a.Deny, b.Deny)
}

func sameList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

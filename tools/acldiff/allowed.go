package main

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// Spec paths: the server_acl schema is data/event-schemas/schema/m.room.server_acl.yaml of the
// matrix-spec repository, outside the extract (docs/decisions.md (server ACLs) quotes it).
const (
	specSchema = "m.room.server_acl.yaml"
	specName   = "appendices.md \"Server Name\""
	specGlob   = "appendices.md \"Glob-style matching\""
)

// namesPerACL is the number of server names checked against each generated ACL.
const namesPerACL = 24

var allowedArea = &difftool.Area{
	Name:     "allowed",
	Title:    "serveracl.Parse + ACL.Allowed (and Allowed on a room state) vs Dendrite OnServerACLUpdate + IsServerBannedFromRoom",
	Unit:     "ACL contents, each checked against 24 server names",
	DefaultN: 20000,
	Classes: []*difftool.Class{
		{ID: "D-case-insensitive-keys", Cat: difftool.OracleDeparts,
			Desc: "Dendrite reads Allow, DENY, allow_ip_literalS (and allow_ip_literal\u017f) as the ACL's keys (encoding/json folds case into its struct)",
			Spec: specSchema + " names the keys allow, deny, allow_ip_literals; JSON keys are case-sensitive (RFC 8259); decisions.md (pdu) \"Keys are exact\""},
		{ID: "D-ip-literals-mistyped-drops-acl", Cat: difftool.OracleDeparts,
			Desc: "allow_ip_literals that is not a boolean (\"false\", 0, {}, []): Dendrite fails to decode the content and keeps no ACL for the room, so it allows every server",
			Spec: specSchema + " allow_ip_literals: \"Defaults to true if missing or otherwise not a boolean\" (the rest of the ACL still applies)"},
		{ID: "D-ip-literals-default-false", Cat: difftool.OracleDeparts,
			Desc: "allow_ip_literals absent or null: Dendrite reads false (Go's zero value) and denies IP literals",
			Spec: specSchema + " \"Defaults to true if missing or otherwise not a boolean\"; rule 2 \"allow_ip_literals is present and false\""},
		{ID: "C-list-not-array", Cat: difftool.SpecSilent,
			Desc: "allow or deny that is not an array (a string, number, boolean or object): Dendrite keeps no ACL (every server allowed); roomproto reads an empty list",
			Spec: specSchema + " (allow, deny: arrays of strings, defaults for absent lists only); decisions.md (server ACLs) 4"},
		{ID: "C-entry-not-string", Cat: difftool.SpecSilent,
			Desc: "an entry of allow or deny that is a number, boolean, object or array: Dendrite keeps no ACL (every server allowed); roomproto leaves the entry out",
			Spec: specSchema + " (items: string); decisions.md (server ACLs) 4"},
		{ID: "C-null-entry", Cat: difftool.SpecSilent,
			Desc: "a null entry of allow or deny: Dendrite reads the pattern \"\", which its unanchored matching finds in every name (deny: every server denied; allow: every server not denied allowed); roomproto leaves it out",
			Spec: specSchema + " (items: string); decisions.md (server ACLs) 4"},
		{ID: "C-invalid-name-denied", Cat: difftool.SpecSilent,
			Desc: "a string that is no server name (\"evil.com:\", \"evil.com:80:80\", \"::1\", \"évil.com\", \"\"): roomproto denies it; Dendrite cuts what net.SplitHostPort finds and matches the rest",
			Spec: specName + " grammar; decisions.md (server ACLs) 3"},
		{ID: "C-ipv4-leading-zeros", Cat: difftool.SpecSilent,
			Desc: "an IPv4 literal with leading zeros (01.2.3.4) and allow_ip_literals false: roomproto denies it as an IP literal; Go's net.ParseCIDR refuses leading zeros, so Dendrite matches it as a name",
			Spec: specName + " IPv4address = 1*3DIGIT \".\" ... (\"four decimal numbers in the range 0 to 255\"); decisions.md (server ACLs) 1"},
		{ID: "D-bracketed-ipv6-not-literal", Cat: difftool.OracleDeparts,
			Desc: "a bracketed IPv6 literal without a port ([::1]) and allow_ip_literals false: Dendrite's net.ParseCIDR does not take the brackets, so it is no IP literal to Dendrite and an allow pattern admits it",
			Spec: specName + " (hostname = ... \"[\" IPv6address \"]\"; \"an IPv6 address literal surrounded with square brackets\"); " + specSchema + " rule 2"},
		{ID: "D-port-strips-ipv6-brackets", Cat: difftool.OracleDeparts,
			Desc: "a bracketed literal with a port ([::1]:8448): Dendrite's net.SplitHostPort drops the brackets with the port, so patterns such as [::1] no longer match it (and ::1 or *::1 do), and [..]:80 is no IP literal to it",
			Spec: specSchema + " \"the suspect server's port number must not be considered\"; " + specName + " (the hostname is \"[\" IPv6address \"]\")"},
		{ID: "D-unanchored-patterns", Cat: difftool.OracleDeparts,
			Desc: "Dendrite's patterns are unanchored regular expressions: evil.com also matches notevil.com, evil.com.au, evil.com. and sub.evil.community; \"\" matches every name",
			Spec: specGlob + " (a glob matches the whole name: * is what matches \"zero or more characters\"); " + specSchema + " (\"evil.com, evil.com:8448, and evil.com:1234 would all match rules that apply to evil.com\": only the port is set aside)"},
	},
	Run: runAllowed,
}

// fixClass names the class of each switch of the model.
var fixClass = map[int]string{
	fixInvalidName:   "C-invalid-name-denied",
	fixLeadingZero:   "C-ipv4-leading-zeros",
	fixBracketNoPort: "D-bracketed-ipv6-not-literal",
	fixBracketHost:   "D-port-strips-ipv6-brackets",
	fixAnchored:      "D-unanchored-patterns",
}

func verdict(allowed bool) string {
	if allowed {
		return "allow"
	}
	return "deny"
}

// stateVersion is the room version of the states the harness builds: v5 reads content with
// the lenient canonical JSON rules, so duplicate keys and unpaired surrogates get through.
var stateVersion, _ = roomversion.Lookup("5")

// roomState returns a room state whose m.room.server_acl has the content (none when hasACL is
// false), or nil when pdu.Parse refuses the event.
func roomState(content string, hasACL bool) *authrules.State {
	event := func(typ, content string) *pdu.Event {
		raw := `{"type":"` + typ + `","state_key":"","sender":"@a:a.example","room_id":"!r:a.example","depth":1,` +
			`"origin_server_ts":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"x"},"signatures":{},"content":` + content + `}`
		ev, err := pdu.Parse(stateVersion, []byte(raw))
		if err != nil {
			return nil
		}
		return ev
	}
	events := []*pdu.Event{event(pdu.TypeCreate, `{"creator":"@a:a.example"}`)}
	if hasACL {
		ev := event(serveracl.EventType, content)
		if ev == nil {
			return nil
		}
		events = append(events, ev)
	}
	s, err := authrules.NewState(stateVersion, events)
	if err != nil {
		return nil
	}
	return s
}

func runAllowed(t *difftool.Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	noACLState := roomState("", false)
	for range n {
		if r.Intn(50) == 0 { // a room without m.room.server_acl
			d := newDendriteACL(nil, false)
			for range namesPerACL {
				name := genName(r, nil)
				rp, dv := serveracl.Allowed(noACLState, name), d.allowed(name)
				if rp == dv {
					t.Agree()
				} else {
					t.Diverge("", "no ACL: "+verdict(rp)+"/"+verdict(dv), fmt.Sprintf("no m.room.server_acl, server %q: roomproto %s, Dendrite %s", name, verdict(rp), verdict(dv)))
				}
			}
			continue
		}
		c := genContent(r)
		names := make([]string, namesPerACL)
		pats := patternsOf(c)
		for i := range names {
			names[i] = genName(r, pats)
		}
		compareAllowed(t, c, names)
	}
}

// compareAllowed checks the names against the content on both sides, and roomproto's verdicts
// against its state path and against the reference.
func compareAllowed(t *difftool.Tally, c content, names []string) {
	text := c.String()
	acl, err := serveracl.Parse([]byte(text))
	if err != nil {
		t.Problem("harness: serveracl.Parse refuses a generated object", text)
		return
	}
	st := roomState(text, true)
	if st == nil {
		t.Problem("harness: no room state holds the content (pdu.Parse or authrules.NewState refuses it)", text)
	}
	d := newDendriteACL([]byte(text), true)
	ref := refACL{allowIP: acl.AllowIPLiterals, allow: acl.Allow, deny: acl.Deny}
	for _, name := range names {
		rp := acl.Allowed(name)
		ex := fmt.Sprintf("content %s\nserver %q: roomproto %s", text, name, verdict(rp))
		if st != nil && serveracl.Allowed(st, name) != rp {
			t.Problem("roomproto: Allowed on the room state differs from ACL.Allowed", ex)
		}
		if want := refAllowed(ref, name); want != rp {
			t.Problem("roomproto differs from the reference reading of the spec ("+nameShape(name)+")", ex+", reference "+verdict(want))
		}
		dv := d.allowed(name)
		if dv == rp {
			t.Agree()
			continue
		}
		class, sig := classifyAllowed(c, acl, name, rp)
		t.Diverge(class, sig, ex+", Dendrite "+verdict(dv))
	}
}

// classifyAllowed names the cause of a divergence on name: the first content step after which
// Dendrite agrees, or else the first switch of the model (run on roomproto's reading, written
// out canonically) after which it does.
func classifyAllowed(c content, acl serveracl.ACL, name string, rp bool) (class, sig string) {
	shape := nameShape(name)
	cur := c.clone()
	last := !rp
	for _, st := range contentSteps {
		cur = st.apply(cur.clone())
		if got, err := serveracl.Parse([]byte(cur.String())); err != nil || !sameACL(got, acl) {
			return "", "harness: step " + st.class + " changed roomproto's reading"
		}
		last = newDendriteACL([]byte(cur.String()), true).allowed(name)
		if last == rp {
			return st.class, "roomproto " + verdict(rp) + "; " + shape
		}
	}
	canon := canonicalContent(acl).String()
	if got, err := serveracl.Parse([]byte(canon)); err != nil || !sameACL(got, acl) {
		return "", "harness: the canonical content changes roomproto's reading"
	}
	dc := newDendriteACL([]byte(canon), true).allowed(name)
	if dc != last {
		return "", "content: Dendrite reads the canonical content otherwise than the rewritten one"
	}
	da, err := dendriteRead([]byte(canon))
	if err != nil {
		return "", "harness: Dendrite cannot decode the canonical content"
	}
	dref := refACL{allowIP: da.AllowIPLiterals, allow: da.Allowed, deny: da.Denied}
	if modelAllowed(dref, name, fixNone) != dc {
		return "", "harness: the model of Dendrite differs from Dendrite (" + shape + ")"
	}
	for fix := fixInvalidName; fix <= fixAll; fix++ {
		if modelAllowed(dref, name, fix) == rp {
			return fixClass[fix], "roomproto " + verdict(rp) + "; " + shape
		}
	}
	return "", "no known cause: roomproto " + verdict(rp) + "; " + shape
}

// nameShape describes a server name for the signatures of -v.
func nameShape(name string) string {
	if !refValidServerName(name) {
		return "no server name"
	}
	host, port := refSplit(name)
	var s string
	switch {
	case strings.HasPrefix(host, "["):
		if ip := strings.Trim(host, "[]"); isRFC3513(ip) {
			s = "bracketed IPv6"
		} else {
			s = "bracketed, not an RFC 3513 address"
		}
	case isDottedQuad(host):
		s = "IPv4"
		for _, part := range strings.Split(host, ".") {
			if len(part) > 1 && part[0] == '0' {
				s = "IPv4 with leading zeros"
			}
		}
	default:
		s = "DNS name"
	}
	if port != "" {
		s += " with a port"
	}
	return s
}

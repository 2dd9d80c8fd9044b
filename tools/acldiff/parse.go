package main

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/matrix-org/dendrite/roomserver/acls"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var parseArea = &difftool.Area{
	Name:     "parse",
	Title:    "serveracl.Parse vs Dendrite's decoding of the content (encoding/json into acls.ServerACL, as OnServerACLUpdate does)",
	Unit:     "contents",
	DefaultN: 30000,
	Classes: []*difftool.Class{
		allowedClass("D-case-insensitive-keys"),
		allowedClass("D-ip-literals-mistyped-drops-acl"),
		allowedClass("D-ip-literals-default-false"),
		allowedClass("C-list-not-array"),
		allowedClass("C-entry-not-string"),
		allowedClass("C-null-entry"),
		{ID: "C-lone-surrogate", Cat: difftool.SpecSilent,
			Desc: "a pattern with an unpaired surrogate escape (\\ud800): roomproto keeps its WTF-8 bytes, Dendrite U+FFFD (no server name holds either, so no verdict changes)",
			Spec: "the spec has no rule for unpaired surrogates; decisions.md (canonicaljson) 18"},
		{ID: "D-null-content", Cat: difftool.OracleDeparts,
			Desc: "content null: Dendrite decodes it as an ACL with every field at its zero value (allow_ip_literals false, no lists), roomproto refuses it (ErrNotObject; Of then denies every server too)",
			Spec: specSchema + " (content: type: object)"},
		{ID: "C-content-not-json", Cat: difftool.SpecSilent,
			Desc: "invalid UTF-8 in a string, or nesting deeper than 127 in a key nobody reads: roomproto refuses the content, Dendrite decodes it (U+FFFD for each bad byte; it skips the deep value)",
			Spec: "appendices.md \"Canonical JSON\" (UTF-8 JSON); decisions.md (canonicaljson) 13"},
	},
	Run: runParse,
}

// allowedClass returns the class of area allowed with the ID (the same cause shows in both).
func allowedClass(id string) *difftool.Class {
	for _, c := range allowedArea.Classes {
		if c.ID == id {
			return c
		}
	}
	panic("no class " + id) // invariant: the harness's own tables
}

// rawContents are contents that are not generated objects.
var rawContents = []string{
	"null", "[]", "5", `"x"`, "true", "", "{", `{"allow":["*"]}x`, ` {"allow_ip_literals":false, "allow":["*"]}\n`, "{\"allow\":[\"\xff\"]}",
	"{\"allow\":[\"*\"],\"deny\":[\"e\xc0\xafvil.com\"]}", `{"allow":` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `}`,
	`{"allow":["*"],"foo":` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `}`, `{"allow":["*"],}`, `{'allow':['*']}`,
}

// reading is one side's reading of a content.
type reading struct {
	ok          bool
	allowIP     bool
	allow, deny []string
}

func (r reading) String() string {
	if !r.ok {
		return "refused"
	}
	return fmt.Sprintf("allow_ip_literals %v, allow %q, deny %q", r.allowIP, r.allow, r.deny)
}

func (r reading) equal(o reading) bool {
	if r.ok != o.ok {
		return false
	}
	return !r.ok || r.allowIP == o.allowIP && sameList(r.allow, o.allow) && sameList(r.deny, o.deny)
}

func roomprotoReading(text string) reading {
	a, err := serveracl.Parse([]byte(text))
	if err != nil {
		return reading{}
	}
	return reading{ok: true, allowIP: a.AllowIPLiterals, allow: a.Allow, deny: a.Deny}
}

func dendriteReading(text string) reading {
	a, err := dendriteRead([]byte(text))
	if err != nil {
		return reading{}
	}
	return fromDendrite(a)
}

func fromDendrite(a acls.ServerACL) reading {
	return reading{ok: true, allowIP: a.AllowIPLiterals, allow: a.Allowed, deny: a.Denied}
}

func runParse(t *difftool.Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	for range n {
		var c content
		if r.Intn(20) == 0 {
			c = content{isRaw: true, raw: rawContents[r.Intn(len(rawContents))]}
		} else {
			c = genContent(r)
		}
		compareParse(t, c)
	}
}

func compareParse(t *difftool.Tally, c content) {
	text := c.String()
	rp, dr := roomprotoReading(text), dendriteReading(text)
	if rp.equal(dr) {
		t.Agree()
		return
	}
	class, sig := classifyParse(c, rp, dr)
	t.Diverge(class, sig, fmt.Sprintf("content %s\nroomproto: %s\nDendrite:  %s", text, rp, dr))
}

func classifyParse(c content, rp, dr reading) (class, sig string) {
	if c.isRaw {
		switch {
		case strings.TrimSpace(c.raw) == "null" && dr.ok && !rp.ok:
			return "D-null-content", "null"
		case !rp.ok && dr.ok:
			return "C-content-not-json", "roomproto refuses, Dendrite reads"
		}
		return "", "raw content: " + rp.String() + " / " + dr.String()
	}
	// A content may hold several causes: the class is the first step (in contentSteps' order)
	// that changes Dendrite's reading, and after every step the readings must be the same.
	cur, class := c.clone(), ""
	prev := dr
	for _, st := range contentSteps {
		cur = st.apply(cur.clone())
		if !roomprotoReading(cur.String()).equal(rp) {
			return "", "harness: step " + st.class + " changed roomproto's reading"
		}
		now := dendriteReading(cur.String())
		if class == "" && !now.equal(prev) {
			class = st.class
		}
		prev = now
	}
	if prev.equal(rp) {
		return class, class
	}
	// What remains may be the unpaired surrogates: roomproto's WTF-8 bytes, Dendrite's U+FFFD.
	if rp.ok && prev.ok && prev.allowIP == rp.allowIP && sameList(prev.allow, fffd(rp.allow)) && sameList(prev.deny, fffd(rp.deny)) {
		if class == "" {
			class = "C-lone-surrogate"
		}
		return class, class + " (and an unpaired surrogate)"
	}
	return "", "no known cause: " + rp.String() + " / " + prev.String()
}

// fffd replaces the WTF-8 form of each unpaired surrogate with U+FFFD.
func fffd(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		var b strings.Builder
		for j := 0; j < len(s); {
			if j+2 < len(s) && s[j] == 0xed && s[j+1] >= 0xa0 && s[j+1] <= 0xbf {
				b.WriteString("\uFFFD")
				j += 3
				continue
			}
			b.WriteByte(s[j])
			j++
		}
		out[i] = b.String()
	}
	return out
}

package main

// Area redact: roomproto redaction.Redact against GMSL RedactEventJSON (then CanonicalJSON), on
// random and hand-written events, in every room version.

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var redactArea = &Area{
	Name:     "redact",
	Title:    "redaction.Redact vs GMSL RedactEventJSON + CanonicalJSON (byte equality)",
	Unit:     "generated events, each redacted in v1-11",
	DefaultN: 12000,
	Run:      runRedact,
	Classes:  redactClasses,
}

var redactClasses = []*Class{
	{ID: "R1-v11-tpi-signed-dropped", Cat: GMSLDeparts, Desc: "v11 m.room.member: GMSL drops third_party_invite.signed, which the v11 algorithm keeps",
		Spec: "rooms/fragments/v11-redactions.md \"Additionally, it allows the signed key of the third_party_invite key\""},
	{ID: "R1c-v11-tpi-without-signed", Cat: SpecSilent, Desc: "v11 m.room.member: a third_party_invite object without signed stays as {} in roomproto, GMSL drops it",
		Spec: "rooms/fragments/v11-redactions.md; decisions.md (redaction) 3"},
	{ID: "R2-case-variant-keys", Cat: GMSLDeparts, Desc: "GMSL matches keys case-insensitively (encoding/json into structs): Sender, TYPE, Content, Membership... change its output",
		Spec: "RFC 8259 keys are case-sensitive; the kept-key lists (rooms/fragments/v1-redactions.md ...) name exact keys; decisions.md (pdu) \"Keys are exact\""},
	{ID: "R3-float64-numbers", Cat: GMSLDeparts, Desc: "v1-5: GMSL decodes content numbers through float64: kept ones change (9007199254740993 -> ...992, 1.0 -> 1), and 1e400 makes it refuse the event",
		Spec: "appendices.md \"Canonical JSON\" (v1-5 events \"might not be fully compliant\"); rooms/fragments/v1-canonical-json.md \"MUST NOT strictly enforce\""},
	{ID: "R4-content-or-type-mistyped", Cat: SpecSilent, Desc: "content not an object or type not a string: roomproto redacts (content {}), GMSL refuses or panics",
		Spec: "the rules speak of \"the content object\" only; decisions.md (redaction) 2 and 6"},
	{ID: "R5-type-missing-or-null", Cat: SpecSilent, Desc: "no type (or type null): GMSL writes \"type\":\"\", roomproto keeps the bytes",
		Spec: "type is required of every PDU (pdu_base.yaml); roomproto never invents a key: decisions.md (redaction) 1-2"},
	{ID: "R6-content-missing-or-null", Cat: SpecSilent, Desc: "no content (or content null): roomproto writes {}, GMSL null",
		Spec: "decisions.md (redaction) 1 (content is always emitted as an object)"},
	{ID: "R7-number-form", Cat: SpecSilent, Desc: "lenient canonical JSON: GMSL keeps exponents (1e3) and other number forms that roomproto writes as integers",
		Spec: "appendices.md \"Canonical JSON\" example {\"b\": 1e10} -> 10000000000; decisions.md (canonicaljson) 10"},
	{ID: "R7-number-sign-dropped", Cat: GMSLDeparts, Desc: "GMSL's CompactJSON drops the minus sign before a 0 (-0.5 -> 0.5): the value changes",
		Spec: "RFC 8259 numbers; appendices.md \"Canonical JSON\" (canonicalising never changes a value)"},
	{ID: "R7-duplicate-keys", Cat: SpecSilent, Desc: "v1-5 duplicate keys: GMSL keeps both members, roomproto the last",
		Spec: "spec silent (RFC 8259 leaves duplicates undefined); decisions.md (canonicaljson) 11, (redaction) 5"},
	{ID: "R7-lone-surrogate", Cat: SpecSilent, Desc: "v1-5 lone surrogate escapes: GMSL drops or mangles them, roomproto keeps the escape",
		Spec: "spec silent (no UTF-8 form); decisions.md (canonicaljson) 12"},
	{ID: "R8-strict-float", Cat: GMSLDeparts, Desc: "v6+: an event with a float or exponent (1E2, 0.0, -0.0) is refused by roomproto; GMSL redacts it and its receive check accepts it",
		Spec: "appendices.md \"Canonical JSON\" \"Float values are not permitted\"; rooms/fragments/v6-canonical-json.md \"MUST strictly enforce\"; decisions.md (canonicaljson) 4"},
	{ID: "R8-strict-dup-or-surrogate", Cat: SpecSilent, Desc: "v6+: an event with duplicate keys or a lone surrogate is refused by roomproto; GMSL redacts it and its receive check accepts it",
		Spec: "decisions.md (canonicaljson) 7-8, (redaction) 4"},
}

var redactTypes = []string{`"m.room.member"`, `"m.room.create"`, `"m.room.join_rules"`, `"m.room.power_levels"`,
	`"m.room.history_visibility"`, `"m.room.aliases"`, `"m.room.redaction"`, `"m.room.message"`, `"org.example.custom"`,
	`"m.room.name"`, `"m.room.third_party_invite"`}

var oddTypes = []string{`5`, `null`, `"M.room.member"`, `"m.room.\u006dember"`, `["m.room.member"]`, `""`}

var contentKeys = []string{"membership", "join_authorised_via_users_server", "third_party_invite", "creator",
	"room_version", "predecessor", "m.federate", "join_rule", "allow", "ban", "events", "events_default", "kick",
	"redact", "state_default", "users", "users_default", "invite", "notifications", "history_visibility", "aliases",
	"redacts", "displayname", "body", "random", "reason", "additional_creators", "type"}

var topExtra = []string{"origin", "membership", "prev_state", "unsigned", "random", "redacts", "event_id", "age_ts",
	"outlier", "destinations", "Origin", "Content", "TYPE", "Sender", "Membership", "EVENT_ID", "Hashes", "State_key"}

var topBase = []string{"type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth",
	"prev_events", "auth_events", "origin_server_ts"}

// jsonGen generates JSON text. strict restricts numbers to those valid in strict canonical
// JSON; noDupes keeps the keys of generated objects distinct.
type jsonGen struct {
	r       *rand.Rand
	noDupes bool
}

func (g jsonGen) value(depth int, strict bool) string {
	r := g.r
	k := r.Intn(14)
	if depth > 3 && k >= 10 {
		k = r.Intn(10)
	}
	switch k {
	case 0:
		return fmt.Sprint(r.Intn(200) - 50)
	case 1:
		return difftool.Pick(r, `"join"`, `"invite"`, `"leave"`, `"ban"`, `"knock"`, `"public"`, `"restricted"`, `"shared"`, `"@bob:b.example"`, `"$ev:a.example"`, `"#a:a.example"`)
	case 2:
		return `null`
	case 3:
		return difftool.Pick(r, `true`, `false`)
	case 4:
		return g.str()
	case 5:
		if strict {
			return difftool.Pick(r, `9007199254740991`, `-9007199254740991`, `0`, `100`, `"50"`, `" 50 "`)
		}
		return difftool.Pick(r, `9007199254740993`, `1e3`, `-0`, `1.5`, `50.0`, `1E2`, `123456789012345678901234567890`, `-0.0`, `0.5e1`, `1e400`, `-0.5`)
	case 6, 7:
		return `"` + difftool.Pick(r, "m.room.message", "@alice:a.example", "", "x", "📎", "a\\u0000b", "é") + `"`
	case 8:
		return fmt.Sprint(r.Int63n(1 << 40))
	case 9:
		return `{}`
	case 10, 11:
		var parts []string
		for i := r.Intn(4); i > 0; i-- {
			parts = append(parts, g.value(depth+1, strict))
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		var parts []string
		used := map[string]bool{}
		for i := r.Intn(4); i > 0; i-- {
			key := difftool.Pick(r, "a", "b", "@alice:a.example", "m.room.name", "signed", "type", "room_id", "users", "é", "\\u00e9", "mxid", "token")
			if g.noDupes && (used[key] || key == "é" && used["\\u00e9"] || key == "\\u00e9" && used["é"]) {
				continue
			}
			used[key] = true
			parts = append(parts, `"`+key+`":`+g.value(depth+1, strict))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
}

func (g jsonGen) str() string {
	var b strings.Builder
	b.WriteByte('"')
	for i := g.r.Intn(5); i >= 0; i-- {
		b.WriteString(difftool.Pick(g.r, "a", "\\n", "\\u0041", "\\/", "é", "\\u00e9", "\\ud83d\\ude00", "😀", "\\u2028", "<>&", "\\\"", "\\\\", "\\u001f", "\\u007f", "\\t", " "))
	}
	b.WriteByte('"')
	return b.String()
}

func (g jsonGen) contentValue(key string, strict bool) string {
	r := g.r
	if r.Intn(3) == 0 {
		return g.value(1, strict)
	}
	switch key {
	case "membership":
		return difftool.Pick(r, `"join"`, `"invite"`, `"leave"`)
	case "join_authorised_via_users_server":
		return difftool.Pick(r, `"@bob:b.example"`, `"@c:c.example"`)
	case "third_party_invite":
		return difftool.Pick(r, `{"display_name":"x","signed":{"mxid":"@a:a.example","token":"t","signatures":{"a.example":{"ed25519:1":"sig"}}}}`,
			`{"display_name":"x"}`, `{"signed":null}`, `{"signed":"str"}`, `[]`, `"x"`, `{"signed":{},"other":{"signed":1}}`)
	case "allow":
		return difftool.Pick(r, `[{"type":"m.room_membership","room_id":"!r:a.example"}]`, `[]`, `"x"`)
	case "users", "events", "notifications":
		return difftool.Pick(r, `{"@alice:a.example":100}`, `{"m.room.name":50,"m.room.power_levels":"100"}`, `{"room":50}`)
	case "redacts":
		return `"$target:a.example"`
	}
	return g.value(1, strict)
}

// event generates a loosely event-shaped JSON object: the usual keys with occasional odd
// values, extra and case-variant top-level keys, in random order.
func (g jsonGen) event(strict bool) string {
	r := g.r
	var parts []string
	typ := difftool.Pick(r, redactTypes...)
	if r.Intn(25) == 0 {
		typ = difftool.Pick(r, oddTypes...)
	}
	for _, k := range topBase {
		if r.Intn(8) == 0 {
			continue
		}
		var v string
		switch k {
		case "type":
			v = typ
		case "content":
			switch r.Intn(20) {
			case 0:
				v = `[]`
			case 1:
				v = `null`
			case 2:
				v = `"text"`
			case 3:
				v = `5`
			default:
				var cp []string
				for i := r.Intn(7); i >= 0; i-- {
					ck := difftool.Pick(r, contentKeys...)
					cp = append(cp, `"`+ck+`":`+g.contentValue(ck, strict))
				}
				v = "{" + strings.Join(cp, ",") + "}"
			}
		case "room_id":
			v = `"!r:a.example"`
		case "sender":
			v = `"@alice:a.example"`
		case "state_key":
			v = difftool.Pick(r, `""`, `"@alice:a.example"`)
		case "hashes":
			v = `{"sha256":"abc"}`
		case "signatures":
			v = `{"a.example":{"ed25519:1":"sig"}}`
		case "depth":
			v = "3"
		case "prev_events", "auth_events":
			v = `["$x"]`
		case "origin_server_ts":
			v = "1700000000000"
		}
		if r.Intn(15) == 0 {
			v = g.value(1, strict)
		}
		parts = append(parts, `"`+k+`":`+v)
	}
	for i := r.Intn(4); i > 0; i-- {
		parts = append(parts, `"`+difftool.Pick(r, topExtra...)+`":`+g.value(1, strict))
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + strings.Join(parts, ",") + "}"
}

// redactEdge are hand-written inputs, redacted in every version.
var redactEdge = []string{
	`{"type":"m.room.create","content":{"creator":"@a:a.example","room_version":"11","x":{"y":[1,2]}}}`,
	`{"type":"m.room.create"}`,
	`{"type":"m.room.create","content":null}`,
	`{"type":"m.room.member"}`,
	`{"type":"m.room.member","content":{"membership":"join","third_party_invite":{"signed":{"mxid":"@a:a.example"},"display_name":"d"}}}`,
	`{"type":"m.room.member","content":{"membership":"invite","third_party_invite":{"display_name":"d"}}}`,
	`{"type":"m.room.member","content":{"membership":"invite","third_party_invite":"x"}}`,
	`{"type":"m.room.member","content":{"membership":"join","join_authorised_via_users_server":"@b:b.example"}}`,
	`{"type":"m.room.join_rules","content":{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!x:y"}]}}`,
	`{"type":"m.room.power_levels","content":{"invite":50,"ban":50,"notifications":{"room":50}}}`,
	`{"type":"m.room.aliases","content":{"aliases":["#a:a.example"]}}`,
	`{"type":"m.room.redaction","content":{"redacts":"$x","reason":"r"},"redacts":"$x"}`,
	`{"type":"m.room.history_visibility","content":{"history_visibility":"shared","other":1}}`,
	`{"type":"m.room.message","content":{"body":"x"},"origin":"a.example","membership":"join","prev_state":[],"unsigned":{"age":1},"random":1}`,
	`{"type":"m.room.member","content":{"membership":"join"},"Origin":"a.example"}`,
	`{"type":"m.room.member","content":{"membership":"join"},"Sender":"@evil:e.example"}`,
	`{"type":"m.room.member","content":{"membership":"join"},"Content":{"membership":"ban"}}`,
	`{"type":"m.room.member","TYPE":"m.room.create","content":{"membership":"join","creator":"x"}}`,
	`{"type":"m.room.member","content":{"membership":"join","Membership":"leave"}}`,
	`{"type":"m.room.power_levels","content":{"ban":9007199254740993,"kick":1.0,"redact":1e2}}`,
	`{"type":"m.room.power_levels","content":{"users":{"@a:a.example":12345678901234567890}}}`,
	`{"type":"m.room.member","content":{"membership":"join","membership":"leave"}}`,
	`{"type":"m.room.member","content":{"membership":"join"},"content":{"membership":"leave"}}`,
	`{"type":"m.room.member","content":{"membership":"\ud800"}}`,
	`{"type":"m.room.member","content":{"membership":"join"},"state_key":null,"room_id":null}`,
	`[]`, `"x"`, `5`, `null`,
}

// gmslReceives says whether GMSL's receive path would let the JSON through its canonical JSON
// checks (gjson validity and, from v6, its strict check).
func gmslReceives(ver string, in []byte) bool {
	if gVersion(ver).CheckCanonicalJSON(in) != nil {
		return false
	}
	_, err := gmsl.CanonicalJSON(in)
	return err == nil
}

func redactBoth(ver string, in []byte) bytesOutcome {
	var o bytesOutcome
	o.rp, o.rerr = redaction.Redact(authgen.Version(ver), in)
	o.g, o.gerr = safe(func() ([]byte, error) { return gVersion(ver).RedactEventJSON(in) })
	if o.gerr == nil {
		o.g, o.gerr = gmsl.CanonicalJSON(o.g)
	}
	return o
}

func runRedact(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	g := jsonGen{r: r}
	one := func(ev string) {
		for _, ver := range versions {
			in := []byte(ev)
			o := redactBoth(ver, in)
			if o.agree() {
				t.Agree()
				continue
			}
			if o.rerr != nil && !gmslReceives(ver, in) {
				t.Agree() // GMSL refuses such an event on receipt: both refuse it
				continue
			}
			cls, sig := classifyRedact(ver, in, o, ablateAll)
			t.Diverge(cls, sig, fmt.Sprintf("v%s %s\n%s", ver, in, o))
		}
	}
	for i := 0; i < n; i++ {
		one(g.event(r.Intn(4) != 0))
	}
	for _, ev := range redactEdge {
		one(ev)
	}
}

var rpCanonErrors = []error{canonicaljson.ErrDuplicateKey, canonicaljson.ErrLoneSurrogate, canonicaljson.ErrInvalidUTF8,
	canonicaljson.ErrTooDeep, canonicaljson.ErrFloat, canonicaljson.ErrIntegerRange, canonicaljson.ErrNegativeZero,
	canonicaljson.ErrTrailingData}

func rpErrName(err error) string {
	for _, e := range rpCanonErrors {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if errors.Is(err, canonicaljson.ErrSyntax) {
		return "syntax"
	}
	return "other"
}

// caseVariants returns the top-level and content keys of an event that are not all lower case
// (the generators' case variants of kept keys).
func caseVariants(m M) (top, content []string) {
	for _, k := range difftool.SortedKeys(m) {
		if k != strings.ToLower(k) {
			top = append(top, k)
		}
	}
	if c, ok := m["content"].(M); ok {
		for _, k := range difftool.SortedKeys(c) {
			if k != strings.ToLower(k) {
				content = append(content, k)
			}
		}
	}
	return
}

// Ablation stages of classifyRedact: first the case-variant keys are removed, then the
// duplicate keys (keeping the last occurrence).
const (
	ablateNothing = iota
	ablateDuplicates
	ablateAll
)

// classifyRedact names the class of a redaction divergence, and a signature for it. Inputs with
// case-variant keys, then with duplicate keys, are first run again without them: if the
// divergence goes away it is R2 (resp. R7-duplicate-keys), otherwise the reduced input is
// classified.
func classifyRedact(ver string, in []byte, o bytesOutcome, stage int) (string, string) {
	m, isObj := func() (M, bool) {
		v, err := decodeAny(in)
		if err != nil {
			return nil, false
		}
		m, ok := v.(M)
		return m, ok
	}()
	if o.rerr != nil && o.gerr == nil {
		name := rpErrName(o.rerr)
		switch {
		case difftool.VerNum(ver) >= 6 && errors.Is(o.rerr, canonicaljson.ErrFloat):
			return "R8-strict-float", "rp refuses: " + name
		case difftool.VerNum(ver) >= 6 && (errors.Is(o.rerr, canonicaljson.ErrDuplicateKey) || errors.Is(o.rerr, canonicaljson.ErrLoneSurrogate)):
			return "R8-strict-dup-or-surrogate", "rp refuses: " + name
		}
		return "", "roomproto refuses (" + name + "), GMSL redacts"
	}
	retry := func(in2 []byte, class string, next int) (string, string) {
		o2 := redactBoth(ver, in2)
		if o2.agree() || o2.rerr != nil && !gmslReceives(ver, in2) {
			return class, ""
		}
		return classifyRedact(ver, in2, o2, next)
	}
	if stage >= ablateAll && isObj {
		if top, content := caseVariants(m); len(top)+len(content) > 0 {
			variant := func(k string) bool { return k != strings.ToLower(k) }
			in2, err := dropMembers(in, variant, func(k string, v []byte) []byte {
				if k != "content" {
					return v
				}
				if c, err := dropMembers(v, variant, nil); err == nil {
					return c
				}
				return v
			})
			if err == nil {
				return retry(in2, "R2-case-variant-keys", ablateDuplicates)
			}
		}
	}
	if o.gerr != nil {
		if isObj {
			c, hasC := m["content"]
			_, cObj := c.(M)
			ty, hasT := m["type"]
			_, tStr := ty.(string)
			if hasC && c != nil && !cObj || hasT && ty != nil && !tStr {
				return "R4-content-or-type-mistyped", "GMSL refuses mistyped content/type"
			}
		}
		if strings.Contains(o.gerr.Error(), "cannot unmarshal number") && lenient(ver) {
			return "R3-float64-numbers", "GMSL refuses a number beyond float64"
		}
		return "", "GMSL refuses, roomproto redacts: " + clip(o.gerr.Error(), 60)
	}
	if stage >= ablateDuplicates && isObj && hasDuplicateKey(in) && !hasLoneSurrogate(string(in)) {
		return retry(difftool.Enc(m), "R7-duplicate-keys", ablateNothing)
	}
	items, err := jsonDiff(o.rp, o.g)
	if err != nil {
		return "", "outputs not JSON"
	}
	if len(items) == 0 {
		switch {
		case hasDuplicateKey(in):
			return "R7-duplicate-keys", "duplicate keys"
		case hasLoneSurrogate(string(in)):
			return "R7-lone-surrogate", "lone surrogate"
		}
		if c, err := canonicaljson.Canonical(o.g); err == nil && string(c) == string(o.rp) {
			return "R7-number-form", "GMSL canonical form"
		}
		if lenient(ver) && numberTextsDiffer(o.rp, o.g) {
			return "R3-float64-numbers", "same values, number literals rewritten"
		}
		return "", "same values, different bytes"
	}
	best := -1
	var unexplained []string
	for _, it := range items {
		cls := redactItemClass(ver, in, m, it)
		if cls == "" {
			unexplained = append(unexplained, strings.Join(it.path, "."))
			continue
		}
		if i := classIndex(redactClasses, cls); best < 0 || i < best {
			best = i
		}
	}
	if len(unexplained) > 0 {
		return "", "outputs differ at " + strings.Join(unexplained, ",")
	}
	return redactClasses[best].ID, ""
}

func classIndex(classes []*Class, id string) int {
	for i, c := range classes {
		if c.ID == id {
			return i
		}
	}
	panic("unknown class " + id) // invariant: the harness built this input or table itself
}

// redactItemClass explains one difference between the two redacted outputs.
func redactItemClass(ver string, in []byte, m M, it diffItem) string {
	_, aAbsent := it.a.(absent)
	_, bAbsent := it.b.(absent)
	if a, b, ok := numbersOf(it); ok {
		switch {
		case signDropped(a, b):
			return "R7-number-sign-dropped"
		case numCmp(a, b) == 0:
			return "R7-number-form"
		case lenient(ver):
			return "R3-float64-numbers"
		}
		return ""
	}
	p := it.path
	switch {
	case len(p) == 1 && p[0] == "type":
		ty, hasT := m["type"]
		if it.b == "" && (!hasT && aAbsent || hasT && ty == nil && it.a == nil) {
			return "R5-type-missing-or-null"
		}
	case len(p) == 1 && p[0] == "content":
		c, hasC := m["content"]
		if (!hasC || c == nil) && (it.b == nil || bAbsent) {
			if a, ok := it.a.(M); ok && len(a) == 0 {
				return "R6-content-missing-or-null"
			}
		}
	case len(p) == 2 && p[0] == "content" && p[1] == "third_party_invite" && ver == "11" && m["type"] == "m.room.member" && bAbsent && !aAbsent:
		if tpi, ok := it.a.(M); ok {
			if _, ok := tpi["signed"]; ok {
				return "R1-v11-tpi-signed-dropped"
			}
			return "R1c-v11-tpi-without-signed"
		}
	}
	if _, ok := it.a.(string); ok && hasLoneSurrogate(string(in)) {
		return "R7-lone-surrogate"
	}
	if hasDuplicateKey(in) {
		return "R7-duplicate-keys" // kept when the input also has lone surrogates
	}
	return ""
}

package main

// Area hash: event IDs (signing.EventID vs GMSL PDU.EventID) and content hashes (roomproto's
// hash written into the event; GMSL must not find it redacted), on the signing corpus relabelled
// into every room version, mutated and re-encoded.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var hashArea = &Area{
	Name:     "hash",
	Title:    "signing.EventID / ContentHash vs GMSL EventID / Redacted()",
	Unit:     "random combinations of corpus mutations, each in v1-11 (plus every single mutation in 6 encodings)",
	DefaultN: 1000,
	Run:      runHash,
	Classes: []*Class{
		{ID: "H1-gmsl-strips-age_ts-outlier-destinations", Cat: SpecSilent, Desc: "GMSL (like Synapse) deletes top-level age_ts, outlier and destinations before the content hash; roomproto hashes them",
			Spec: "server-server-api.md \"Calculating the content hash\" removes unsigned, signatures and hashes only; decisions.md (signing) 12"},
		{ID: "H2-lenient-number-forms", Cat: SpecSilent, Desc: "v1-5 content with 1e10 or -0.5: the canonical forms differ (C2), so the content hashes do",
			Spec: "appendices.md \"Canonical JSON\" example; decisions.md (canonicaljson) 10"},
		{ID: "H3-stray-event_id-v3plus", Cat: SpecSilent, Desc: "v3+ event with a top-level event_id: roomproto hashes it (a relay's key breaks the hash and signature), GMSL deletes it on receipt",
			Spec: "rooms/fragments/v*-redactions.md keep event_id; server-server-api.md \"Calculating the reference hash\"; decisions.md (pdu) \"Event IDs from v3\""},
	},
}

// corpusPath is the signing corpus of the repository (flag -corpus).
var corpusPath = "../../testdata/signing/bench_corpus.json"

type corpus struct {
	RoomVersion string                       `json:"room_version"`
	Keys        map[string]map[string]string `json:"keys"`
	Events      []json.RawMessage            `json:"events"`
	EventIDs    []string                     `json:"event_ids"`
}

func loadCorpus() (corpus, error) {
	var c corpus
	b, err := os.ReadFile(corpusPath)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

// style is a way of writing JSON that keeps the value: keys in reverse order, non-ASCII as \u
// escapes, indentation, escaped slashes.
type style struct {
	reverse, escapeNonASCII, indent, escapeSlash bool
}

var styles = []style{{}, {reverse: true}, {escapeNonASCII: true}, {indent: true}, {escapeSlash: true}, {reverse: true, escapeNonASCII: true, indent: true}}

// encodeStyled writes v (decoded with json.Number) in the given style.
func encodeStyled(v any, st style) []byte {
	var b bytes.Buffer
	nl := func(depth int) {
		if st.indent {
			b.WriteString("\n" + strings.Repeat("  ", depth))
		}
	}
	str := func(s string) {
		if !st.escapeNonASCII && !st.escapeSlash {
			b.Write(difftool.Enc(s))
			return
		}
		b.WriteByte('"')
		for _, r := range s {
			switch {
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '/' && st.escapeSlash:
				b.WriteString(`\/`)
			case r < 0x20:
				fmt.Fprintf(&b, `\u%04X`, r)
			case r > 0x7e && st.escapeNonASCII && r > 0xffff:
				r -= 0x10000
				fmt.Fprintf(&b, `\u%04x\u%04X`, 0xd800+(r>>10)&0x3ff, 0xdc00+r&0x3ff)
			case r > 0x7e && st.escapeNonASCII:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch t := v.(type) {
		case map[string]any:
			keys := difftool.SortedKeys(t)
			if st.reverse {
				sort.Sort(sort.Reverse(sort.StringSlice(keys)))
			}
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteByte(',')
				}
				nl(depth + 1)
				str(k)
				b.WriteByte(':')
				if st.indent {
					b.WriteByte(' ')
				}
				walk(t[k], depth+1)
			}
			if len(keys) > 0 {
				nl(depth)
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, x := range t {
				if i > 0 {
					b.WriteByte(',')
				}
				nl(depth + 1)
				walk(x, depth+1)
			}
			if len(t) > 0 {
				nl(depth)
			}
			b.WriteByte(']')
		case string:
			str(t)
		default:
			b.Write(difftool.Enc(t))
		}
	}
	walk(v, 0)
	return b.Bytes()
}

// relabel turns a corpus event (v9) into an event of room version ver: v1-2 get an event_id
// and reference pairs; a create event's room_version follows.
func relabel(m M, ver string, r *rand.Rand) {
	if ver == "1" || ver == "2" {
		m["event_id"] = fmt.Sprintf("$ev%d:%s", r.Intn(1000), difftool.Pick(r, "a.example", "b.example", "c.example"))
		for _, k := range []string{"prev_events", "auth_events"} {
			if arr, ok := m[k].([]any); ok {
				pairs := []any{}
				for _, x := range arr {
					pairs = append(pairs, []any{x, M{"sha256": "aGFzaA"}})
				}
				m[k] = pairs
			}
		}
	}
	if c, ok := m["content"].(M); ok {
		if _, ok := c["room_version"]; ok {
			c["room_version"] = ver
		}
	}
}

type hashMutation struct {
	name string
	f    func(m M, ver string, r *rand.Rand) bool // false: not applicable
}

func setContent(k string, v any) func(m M, ver string, r *rand.Rand) bool {
	return func(m M, ver string, r *rand.Rand) bool {
		c, ok := m["content"].(M)
		if ok {
			c[k] = v
		}
		return ok
	}
}

func setTop(k string, v any) func(m M, ver string, r *rand.Rand) bool {
	return func(m M, ver string, r *rand.Rand) bool { m[k] = difftool.DeepCopy(v); return true }
}

var hashMutations = []hashMutation{
	{"top:origin", setTop("origin", "z.example")},
	{"top:age_ts", setTop("age_ts", json.Number("5"))},
	{"top:outlier", setTop("outlier", true)},
	{"top:destinations", setTop("destinations", []any{"x"})},
	{"top:event_id(v3+)", func(m M, v string, r *rand.Rand) bool {
		if v == "1" || v == "2" {
			return false
		}
		m["event_id"] = "$fake:a.example"
		return true
	}},
	{"top:foo", setTop("foo", M{"bar": []any{json.Number("1")}})},
	{"top:membership", setTop("membership", "join")},
	{"top:prev_state", setTop("prev_state", []any{})},
	{"top:redacts", setTop("redacts", "$t:a.example")},
	{"unsigned:stuff", setTop("unsigned", M{"age": json.Number("12"), "redacted_because": M{"x": "y"}})},
	{"content:unicode", setContent("uni", "é😀\u2028\u007f<>&/\"\\\t\x01")},
	{"content:unicode-keys", func(m M, v string, r *rand.Rand) bool {
		c, ok := m["content"].(M)
		if ok {
			c["\uffff"], c["😀"], c["é"], c["Z"] = json.Number("1"), json.Number("2"), json.Number("3"), json.Number("4")
		}
		return ok
	}},
	{"content:bigint(v1-5)", func(m M, v string, r *rand.Rand) bool {
		return lenient(v) && setContent("big", json.Number("123456789012345678901234567890"))(m, v, r)
	}},
	{"content:float(v1-5)", func(m M, v string, r *rand.Rand) bool {
		return lenient(v) && setContent("f", json.Number(difftool.Pick(r, "1.5", "1.0", "1e10", "-0", "0.5e1", "-0.5", "1E2")))(m, v, r)
	}},
	{"content:maxint", setContent("max", []any{json.Number("9007199254740991"), json.Number("-9007199254740991")})},
	{"content:nested", setContent("n", M{"b": []any{nil, true, false, M{}}, "a": ""})},
	{"content:change", setContent("displayname", "changed")},
	{"hashes:extra", func(m M, v string, r *rand.Rand) bool {
		if h, ok := m["hashes"].(M); ok {
			h["sha512"] = "x"
		}
		return true
	}},
}

func gmslEventID(ver string, ev []byte) (string, error) {
	return safe(func() (string, error) {
		p, err := gVersion(ver).NewEventFromTrustedJSON(ev, false)
		if err != nil {
			return "", err
		}
		return p.EventID(), nil
	})
}

// gmslRefID computes GMSL's reference hash of an event from its public pieces (RedactEventJSON,
// encoding/json of the members, CanonicalJSON), for v3+ events with an event_id member, for
// which PDU.EventID() returns the member instead.
func gmslRefID(ver string, ev []byte) (string, error) {
	red, err := safe(func() ([]byte, error) { return gVersion(ver).RedactEventJSON(ev) })
	if err != nil {
		return "", err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(red, &m); err != nil {
		return "", err
	}
	delete(m, "signatures")
	delete(m, "unsigned")
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	if b, err = gmsl.CanonicalJSON(b); err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	if ver == "3" {
		return "$" + base64.RawStdEncoding.EncodeToString(h[:]), nil
	}
	return "$" + difftool.B64URL(h[:]), nil
}

func runHash(t *Tally, n int, seed int64) {
	c, err := loadCorpus()
	if err != nil {
		t.Problem("harness: corpus: "+err.Error(), corpusPath)
		return
	}
	r := rand.New(rand.NewSource(seed))
	v9 := authgen.Version("9")
	// 0. The corpus as it is: both sides must give the recorded IDs and accept the hashes.
	for i, raw := range c.Events {
		id, err := signing.EventID(v9, raw)
		gid, gerr := gmslEventID("9", raw)
		if err != nil || gerr != nil || id != c.EventIDs[i] || gid != c.EventIDs[i] {
			t.Diverge("", "corpus event ID", fmt.Sprintf("want %s, roomproto %s %v, GMSL %s %v", c.EventIDs[i], id, err, gid, gerr))
		} else {
			t.Agree()
		}
		p, gerr := gVersion("9").NewEventFromUntrustedJSON(raw)
		if err := signing.CheckContentHash(v9, raw); err != nil || gerr != nil || p.Redacted() {
			t.Diverge("", "corpus content hash", fmt.Sprintf("roomproto %v, GMSL %v", err, gerr))
		} else {
			t.Agree()
		}
	}
	var bases []M
	for _, raw := range c.Events {
		bases = append(bases, difftool.Decode(raw))
	}
	// 1. Every single mutation (and none), every corpus event, version and style.
	for _, base := range bases {
		for _, ver := range versions {
			for mi := -1; mi < len(hashMutations); mi++ {
				for _, st := range styles {
					m := difftool.CopyM(base)
					relabel(m, ver, r)
					names := []string{"none"}
					if mi >= 0 {
						if !hashMutations[mi].f(m, ver, r) {
							continue
						}
						names = []string{hashMutations[mi].name}
					}
					hashCompare(t, ver, m, st, names)
				}
			}
		}
	}
	// 2. Random combinations of mutations.
	for i := 0; i < n; i++ {
		base := difftool.Pick(r, bases...)
		for _, ver := range versions {
			m := difftool.CopyM(base)
			relabel(m, ver, r)
			var names []string
			for k := r.Intn(4); k > 0; k-- {
				mu := difftool.Pick(r, hashMutations...)
				if mu.f(m, ver, r) {
					names = append(names, mu.name)
				}
			}
			hashCompare(t, ver, m, difftool.Pick(r, styles...), names)
		}
	}
}

// hashIDs returns both sides' event IDs.
func hashIDs(ver string, m M, ev []byte) (string, error, string, error) {
	id, err := signing.EventID(authgen.Version(ver), ev)
	var gid string
	var gerr error
	if _, has := m["event_id"]; has && difftool.VerNum(ver) >= 3 {
		gid, gerr = gmslRefID(ver, ev) // PDU.EventID() would return the member
	} else {
		gid, gerr = gmslEventID(ver, ev)
	}
	return id, err, gid, gerr
}

// hashRedacted writes roomproto's content hash into the event and says whether GMSL then
// treats it as redacted (its hash check failed).
func hashRedacted(ver string, m M, st style) (ev2 []byte, redacted bool, err error) {
	h, err := signing.ContentHash(authgen.Version(ver), encodeStyled(m, st))
	if err != nil {
		return nil, false, fmt.Errorf("roomproto ContentHash: %w", err)
	}
	m2 := difftool.CopyM(m)
	hm, _ := m2["hashes"].(M)
	if hm == nil {
		hm = M{}
		m2["hashes"] = hm
	}
	hm["sha256"] = difftool.B64(h[:])
	ev2 = encodeStyled(m2, st)
	if err := signing.CheckContentHash(authgen.Version(ver), ev2); err != nil {
		return ev2, false, fmt.Errorf("roomproto CheckContentHash refuses its own hash: %w", err)
	}
	redacted, err = safe(func() (bool, error) {
		p, err := gVersion(ver).NewEventFromUntrustedJSON(ev2)
		if err != nil {
			return false, fmt.Errorf("GMSL NewEventFromUntrustedJSON: %w", err)
		}
		return p.Redacted(), nil
	})
	return ev2, redacted, err
}

func hashCompare(t *Tally, ver string, m M, st style, names []string) {
	ev := encodeStyled(m, st)
	label := strings.Join(names, "+")
	id, err, gid, gerr := hashIDs(ver, m, ev)
	if _, has := m["event_id"]; !has && difftool.VerNum(ver) >= 3 && gerr == nil {
		// The harness's copy of GMSL's reference hash (used for events with an event_id) must
		// give what PDU.EventID() gives.
		if g2, e2 := gmslRefID(ver, ev); e2 != nil || g2 != gid {
			t.Problem("harness: gmslRefID differs from PDU.EventID()", fmt.Sprintf("v%s %s\n%s %v / %s", ver, ev, g2, e2, gid))
		}
	}
	switch {
	case err != nil && gerr != nil:
		t.Agree()
	case err != nil || gerr != nil || id != gid:
		t.Diverge("", "event ID ["+label+"]", fmt.Sprintf("v%s %s\nroomproto: %s %v\nGMSL: %s %v", ver, ev, id, err, gid, gerr))
	default:
		t.Agree()
	}
	ev2, redacted, err := hashRedacted(ver, m, st)
	switch {
	case err != nil:
		t.Diverge("", clip(err.Error(), 70), fmt.Sprintf("v%s %s", ver, ev))
	case !redacted:
		t.Agree()
	default:
		t.Diverge(classifyHash(ver, m, st), "content hash ["+label+"]", fmt.Sprintf("v%s %s\nGMSL finds roomproto's content hash wrong (treats the event as redacted)", ver, ev2))
	}
}

// hashFeatures are the event features known to change the content hash between the two sides,
// in class order, each with the ablation that removes it.
var hashFeatures = []struct {
	class   string
	present func(m M, ver string) bool
	remove  func(m M)
}{
	{"H1-gmsl-strips-age_ts-outlier-destinations",
		func(m M, ver string) bool {
			return m["age_ts"] != nil || m["outlier"] != nil || m["destinations"] != nil
		},
		func(m M) { delete(m, "age_ts"); delete(m, "outlier"); delete(m, "destinations") }},
	{"H3-stray-event_id-v3plus",
		func(m M, ver string) bool { _, ok := m["event_id"]; return ok && difftool.VerNum(ver) >= 3 },
		func(m M) { delete(m, "event_id") }},
	{"H2-lenient-number-forms",
		func(m M, ver string) bool { return lenient(ver) && len(oddNumbers(m)) > 0 },
		func(m M) {
			c, _ := m["content"].(M)
			for _, k := range oddNumbers(m) {
				delete(c, k)
			}
		}},
}

// oddNumbers are the content keys whose value is a number that is not a plain integer.
func oddNumbers(m M) []string {
	c, _ := m["content"].(M)
	var out []string
	for _, k := range difftool.SortedKeys(c) {
		if n, ok := c[k].(json.Number); ok && (strings.ContainsAny(string(n), ".eE") || string(n) == "-0") {
			out = append(out, k)
		}
	}
	return out
}

// classifyHash explains a content hash divergence: by the first feature present whose removal
// alone makes it go away, else by the first one present if removing all of them does.
func classifyHash(ver string, m M, st style) string {
	fixed := func(ms M) bool {
		_, redacted, err := hashRedacted(ver, ms, st)
		return err == nil && !redacted
	}
	all := difftool.CopyM(m)
	first := ""
	for _, f := range hashFeatures {
		if !f.present(m, ver) {
			continue
		}
		if first == "" {
			first = f.class
		}
		one := difftool.CopyM(m)
		f.remove(one)
		if fixed(one) {
			return f.class
		}
		f.remove(all)
	}
	if first != "" && fixed(all) {
		return first
	}
	return ""
}

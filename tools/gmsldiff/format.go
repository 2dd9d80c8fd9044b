package main

// Area format: event format validation. roomproto pdu.Parse (and signing.ParseEvent, which must
// agree with it) against GMSL NewEventFromUntrustedJSON, accept/refuse, on named mutations of
// random events with a correct content hash; when both accept, the fields both read.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var formatArea = &Area{
	Name:     "format",
	Title:    "pdu.Parse vs GMSL NewEventFromUntrustedJSON (accept/refuse, then the parsed fields)",
	Unit:     "random events, each with every one of ~280 mutations",
	DefaultN: 300,
	Run:      runFormat,
	Classes:  formatClasses,
}

var formatClasses = []*Class{
	{ID: "F1-missing-required-field", Cat: GMSLDeparts, Desc: "an event without content, depth, origin_server_ts, signatures or type (v1-2 also event_id, prev_events, auth_events): GMSL accepts it with zero values",
		Spec: "pdu_base.yaml required: [sender, origin_server_ts, type, content, depth, hashes, signatures]; pdu_v1.yaml"},
	{ID: "F2-mistyped-field", Cat: GMSLDeparts, Desc: "content not an object, null depth/origin_server_ts/type/state_key, odd signatures, null references: GMSL accepts zero values",
		Spec: "pdu_base.yaml / pdu_v1.yaml / pdu_v3.yaml types (object, integer, string, object of objects of strings, array of strings)"},
	{ID: "F3-case-variant-keys", Cat: GMSLDeparts, Desc: "Type, Sender, Content, State_Key, Redacts...: GMSL reads them as the lower-case keys",
		Spec: "the PDU schemas name exact keys; JSON keys are case-sensitive (RFC 8259)"},
	{ID: "F4-reference-counts", Cat: GMSLDeparts, Desc: "more than 10 auth_events or 20 prev_events: GMSL accepts",
		Spec: "auth_events_prev_events_v4.yaml / pdu_v1.yaml \"Must contain less than or equal to 10 / 20 events\""},
	{ID: "F5-event-id-length", Cat: GMSLDeparts, Desc: "an event ID of 256 bytes (v1-2 event_id, or in prev_events/auth_events): GMSL accepts",
		Spec: "appendices.md \"Event IDs\": \"MUST NOT exceed 255 bytes\""},
	{ID: "F6-origin_server_ts-range", Cat: GMSLDeparts, Desc: "origin_server_ts -1, -0 or -2^63 refused by GMSL (unsigned), 2^63 accepted",
		Spec: "pdu_base.yaml origin_server_ts: integer, format: int64"},
	{ID: "F7-underscore-key", Cat: GMSLDeparts, Desc: "a top-level key starting with _: GMSL refuses it (its internal headered format)",
		Spec: "no event format forbids such a key"},
	{ID: "F8-v1-pair-hash-forms", Cat: GMSLDeparts, Desc: "v1-2 reference pair whose second element is a string or bad base64: GMSL refuses",
		Spec: "pdu_v1.yaml: second element anyOf string / event_hash; decisions.md (pdu) \"Keys outside the format\""},
	{ID: "F9-v11-redacts-any-type", Cat: GMSLDeparts, Desc: "v11 top-level redacts that is not a string: GMSL refuses, though v11 has no top-level redacts",
		Spec: "pdu_v11.yaml (the v6 event without redacts); decisions.md (pdu)"},
	{ID: "F10-redacts-null", Cat: GMSLDeparts, Desc: "v1-10 redacts: null is accepted by GMSL",
		Spec: "pdu_v1.yaml / pdu_v6.yaml redacts: type: string; decisions.md (pdu)"},
	{ID: "F11-unsigned-not-object", Cat: GMSLDeparts, Desc: "unsigned that is not an object: GMSL deletes it and accepts",
		Spec: "pdu_base.yaml unsigned: type: object; decisions.md (pdu)"},
	{ID: "F12-size-with-unsigned", Cat: SpecSilent, Desc: "an event over 65,536 bytes only through unsigned: roomproto refuses, GMSL measures after deleting unsigned",
		Spec: "client-server-api \"Size limits\" (\"The complete event ... including any signatures\"); decisions.md (pdu) \"Size is measured on the canonical form\""},
	{ID: "F13-room_id-grammar", Cat: SpecSilent, Desc: "room_id that is not !opaque:domain (\"r:a.test\", \"\", \"!r\"): roomproto parses it, GMSL refuses",
		Spec: "room_id_before_v12.yaml types room_id as a string; decisions.md (pdu) \"room_id is a string of at most 255 bytes; its grammar is not checked\""},
	{ID: "F13s-sender-grammar", Cat: SpecSilent, Desc: "sender that is not a user ID (\"alice:a.test\", \"@alice\", \"\"): roomproto parses it, GMSL refuses",
		Spec: "decisions.md (authrules) \"Rule 1.4 (v12)\": no rule checks the grammar of sender itself"},
	{ID: "F14-gmsl-roomid-panics", Cat: GMSLDeparts, Desc: "room_id \"!:a.test\" or \"!r:\": both accept, GMSL's PDU.RoomID() then panics",
		Spec: "a GMSL robustness bug (roomproto accepts, F13)"},
	{ID: "F15-canonical-json", Cat: SpecSilent, Desc: "invalid UTF-8, a lone surrogate, duplicate keys (v6+) in the event: roomproto refuses, GMSL accepts",
		Spec: "area canon C3-C5; decisions.md (canonicaljson) 7, 8, 13"},
	{ID: "F16-v1-event_id-grammar", Cat: GMSLDeparts, Desc: "v1-2 event_id that is not $opaque:domain: GMSL accepts",
		Spec: "rooms/fragments/v1-event-ids.md \"$opaque_id:domain\"; decisions.md (pdu) \"v1-2 event_id format\""},
	{ID: "F17-negative-depth", Cat: SpecSilent, Desc: "depth -1 (or -2^63 in v1-5): roomproto refuses, GMSL accepts",
		Spec: "the schemas give no minimum; decisions.md (pdu) \"depth must be a JSON integer from 0\""},
	{ID: "F18-redacts-non-redaction", Cat: SpecSilent, Desc: "v1-10 top-level redacts on an event that is no m.room.redaction: both accept, roomproto leaves Event.Redacts empty, GMSL's Redacts() returns it (no rule reads it: both check the type first)",
		Spec: "pdu_v1.yaml / pdu_v6.yaml redacts: \"For redaction events\"; decisions.md (pdu) \"Redacts is read for m.room.redaction events only\""},
}

// formatMutation changes a base event (mut, on the decoded map) or its bytes (raw).
type formatMutation struct {
	name string
	mut  func(m M, v roomversion.Version, r *rand.Rand)
	raw  func(base []byte, v roomversion.Version, r *rand.Rand) []byte
}

func formatBase(r *rand.Rand, v roomversion.Version, seq int) M {
	m := M{
		"room_id":          "!r:a.test",
		"sender":           difftool.Pick(r, "@alice:a.test", "@bob:b.test"),
		"depth":            1 + r.Intn(1000),
		"origin_server_ts": 1700000000000 + seq,
		"signatures":       M{"a.test": M{"ed25519:1": "c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"}},
	}
	switch r.Intn(3) {
	case 0:
		m["type"] = "m.room.message"
		m["content"] = M{"body": fmt.Sprintf("hello %d", seq), "msgtype": "m.text"}
	case 1:
		m["type"] = "m.room.member"
		m["state_key"] = m["sender"]
		m["content"] = M{"membership": "join"}
	default:
		m["type"] = "m.room.topic"
		m["state_key"] = ""
		m["content"] = M{"topic": "t"}
	}
	var prev, auth []any
	for i := 1 + r.Intn(3); i > 0; i-- {
		prev = append(prev, refFor(v, fmt.Sprintf("p%d_%d", seq, i)))
	}
	for i := 1 + r.Intn(4); i > 0; i-- {
		auth = append(auth, refFor(v, fmt.Sprintf("a%d_%d", seq, i)))
	}
	m["prev_events"] = prev
	m["auth_events"] = auth
	if v.Format.HasEventIDField {
		m["event_id"] = fmt.Sprintf("$e%d:a.test", seq)
	}
	return m
}

func refFor(v roomversion.Version, id string) any {
	if v.Format.ReferencePairs {
		return []any{"$" + id + ":a.test", M{"sha256": "aGFzaGhhc2g"}}
	}
	return "$" + id + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}

// idOfLen builds an ID of n bytes with the given sigil and domain, padded with unit.
func idOfLen(sigil, domain, unit string, n int) string {
	s := sigil + strings.Repeat(unit, (n-len(sigil)-1-len(domain))/len(unit))
	for len(s)+1+len(domain) < n {
		s += "x"
	}
	return s + ":" + domain
}

func formatMutations() []formatMutation {
	var ms []formatMutation
	add := func(name string, f func(m M, v roomversion.Version, r *rand.Rand)) {
		ms = append(ms, formatMutation{name: name, mut: f})
	}
	addRaw := func(name string, f func(base []byte, v roomversion.Version, r *rand.Rand) []byte) {
		ms = append(ms, formatMutation{name: name, raw: f})
	}
	// In content: a raw member inserted first.
	inContent := func(name, member string) {
		addRaw(name, func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
			return bytes.Replace(b, []byte(`"content":{`), []byte(`"content":{`+member+`,`), 1)
		})
	}
	add("none", func(m M, v roomversion.Version, r *rand.Rand) {})
	fields := []string{"room_id", "sender", "type", "content", "prev_events", "auth_events", "depth", "origin_server_ts", "hashes", "signatures", "event_id", "state_key"}
	for _, f := range fields {
		add("missing "+f, func(m M, v roomversion.Version, r *rand.Rand) { delete(m, f) })
	}
	odd := map[string]any{"string": "s", "int": 5, "null": nil, "array": []any{}, "object": M{}, "bool": true}
	for _, f := range append(fields, "unsigned", "redacts", "origin") {
		for _, on := range []string{"string", "int", "null", "array", "object", "bool"} {
			add("mistyped "+f+"="+on, func(m M, v roomversion.Version, r *rand.Rand) { m[f] = difftool.DeepCopy(odd[on]) })
		}
	}
	for _, e := range []struct {
		k string
		v any
	}{{"origin", "a.test"}, {"unsigned", M{"age": 5}}, {"unsigned", M{"age": "x", "foo": []any{1}}}, {"foo", "bar"}, {"_foo", 1}, {"outlier", true},
		{"prev_state", []any{}}, {"membership", "join"}, {"age_ts", 5}, {"destinations", []any{}}, {"redacts", "$x:a.test"}, {"Type", "m.room.create"}, {"State_Key", ""}} {
		add(fmt.Sprintf("extra %s=%s", e.k, difftool.Enc(e.v)), func(m M, v roomversion.Version, r *rand.Rand) { m[e.k] = difftool.DeepCopy(e.v) })
	}
	for _, f := range []string{"type", "state_key", "sender", "room_id", "content", "depth", "origin_server_ts", "prev_events", "redacts"} {
		add("rename "+f+" to case variant", func(m M, v roomversion.Version, r *rand.Rand) {
			x, ok := m[f]
			if !ok && f == "state_key" {
				x, ok = "", true
			}
			if !ok && f == "redacts" {
				x, ok = "$r:a.test", true
			}
			if ok {
				delete(m, f)
				m[strings.ToUpper(f[:1])+f[1:]] = x
			}
		})
	}
	add("extra event_id (v3+ only)", func(m M, v roomversion.Version, r *rand.Rand) {
		if !v.Format.HasEventIDField {
			m["event_id"] = "$x:a.test"
		}
	})
	add("hashes={}", func(m M, v roomversion.Version, r *rand.Rand) { m["hashes"] = M{} })
	add("hashes.sha256=5", func(m M, v roomversion.Version, r *rand.Rand) { m["hashes"] = M{"sha256": 5} })
	add("hashes extra sha512", func(m M, v roomversion.Version, r *rand.Rand) { m["hashes"] = M{"sha256": "x", "sha512": "y"} })
	add("signatures server=string", func(m M, v roomversion.Version, r *rand.Rand) { m["signatures"] = M{"a.test": "x"} })
	add("signatures sig=int", func(m M, v roomversion.Version, r *rand.Rand) { m["signatures"] = M{"a.test": M{"ed25519:1": 5}} })
	add("signatures={}", func(m M, v roomversion.Version, r *rand.Rand) { m["signatures"] = M{} })
	for _, x := range []struct{ f, v string }{{"room_id", "r:a.test"}, {"room_id", "!r"}, {"room_id", ""}, {"room_id", "$r:a.test"}, {"room_id", "!:a.test"}, {"room_id", "!r:"},
		{"sender", "alice:a.test"}, {"sender", "@alice"}, {"sender", "@:a.test"}, {"sender", "@alice:"}, {"sender", "@Alice:a.test"}, {"sender", "@al ice:a.test"}, {"sender", "@alice:bad_host!"}, {"sender", ""},
		{"type", ""}, {"event_id", "x"}, {"event_id", "$x"}, {"event_id", "$x:"}, {"event_id", "$x:bad_host!"}} {
		add(fmt.Sprintf("%s=%q", x.f, x.v), func(m M, v roomversion.Version, r *rand.Rand) {
			if x.f == "event_id" && !v.Format.HasEventIDField {
				return
			}
			m[x.f] = x.v
			if x.f == "sender" && m["state_key"] != nil && m["type"] == "m.room.member" {
				m["state_key"] = x.v
			}
		})
	}
	for _, f := range []string{"room_id", "sender", "type", "state_key", "event_id"} {
		for _, n := range []int{255, 256} {
			for _, unit := range []string{"a", "é", "€"} {
				add(fmt.Sprintf("len(%s)=%d bytes unit=%s", f, n, unit), func(m M, v roomversion.Version, r *rand.Rand) {
					var s string
					switch f {
					case "room_id":
						s = idOfLen("!", "a.test", unit, n)
					case "sender":
						s = idOfLen("@", "a.test", unit, n)
						if m["type"] == "m.room.member" {
							m["state_key"] = s
						}
					case "event_id":
						if !v.Format.HasEventIDField {
							return
						}
						s = idOfLen("$", "a.test", unit, n)
					case "type":
						s = "m." + strings.Repeat(unit, (n-2)/len(unit))
						for len(s) < n {
							s += "x"
						}
					case "state_key":
						if m["type"] == "m.room.member" {
							m["type"] = "m.room.topic"
						}
						s = strings.Repeat(unit, n/len(unit))
						for len(s) < n {
							s += "x"
						}
					}
					m[f] = s
				})
			}
		}
	}
	for _, cnt := range []int{0, 10, 11, 20, 21} {
		for _, f := range []string{"prev_events", "auth_events"} {
			add(fmt.Sprintf("%s count=%d", f, cnt), func(m M, v roomversion.Version, r *rand.Rand) {
				l := []any{}
				for i := 0; i < cnt; i++ {
					l = append(l, refFor(v, fmt.Sprintf("c%d", i)))
				}
				m[f] = l
			})
		}
	}
	for _, rm := range []struct {
		name string
		val  func(v roomversion.Version) any
	}{
		{"plain id", func(v roomversion.Version) any { return "$plainAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }},
		{"pair", func(v roomversion.Version) any { return []any{"$x:a.test", M{"sha256": "aGFzaA"}} }},
		{"pair len1", func(v roomversion.Version) any { return []any{"$x:a.test"} }},
		{"pair len3", func(v roomversion.Version) any { return []any{"$x:a.test", M{}, 1} }},
		{"pair 2nd=string", func(v roomversion.Version) any { return []any{"$x:a.test", "hash"} }},
		{"pair 2nd={}", func(v roomversion.Version) any { return []any{"$x:a.test", M{}} }},
		{"pair 2nd=int", func(v roomversion.Version) any { return []any{"$x:a.test", 5} }},
		{"pair 2nd bad base64", func(v roomversion.Version) any { return []any{"$x:a.test", M{"sha256": "!!"}} }},
		{"pair 1st=int", func(v roomversion.Version) any { return []any{5, M{}} }},
		{"int", func(v roomversion.Version) any { return 5 }},
		{"null", func(v roomversion.Version) any { return nil }},
		{"id no $", func(v roomversion.Version) any {
			if v.Format.ReferencePairs {
				return []any{"x:a.test", M{"sha256": "aGFzaA"}}
			}
			return "xAAAA"
		}},
		{"empty id", func(v roomversion.Version) any {
			if v.Format.ReferencePairs {
				return []any{"", M{"sha256": "aGFzaA"}}
			}
			return ""
		}},
		{"id 256 bytes", func(v roomversion.Version) any {
			if v.Format.ReferencePairs {
				return []any{idOfLen("$", "a.test", "a", 256), M{"sha256": "aGFzaA"}}
			}
			return "$" + strings.Repeat("A", 255)
		}},
	} {
		for _, f := range []string{"prev_events", "auth_events"} {
			add(fmt.Sprintf("%s element=%s", f, rm.name), func(m M, v roomversion.Version, r *rand.Rand) { m[f] = []any{rm.val(v)} })
		}
	}
	add("prev_events duplicate ids", func(m M, v roomversion.Version, r *rand.Rand) {
		m["prev_events"] = []any{refFor(v, "d"), refFor(v, "d")}
	})
	for _, f := range []string{"depth", "origin_server_ts"} {
		for _, n := range []struct{ name, lit string }{{"-1", "-1"}, {"0", "0"}, {"2^53-1", "9007199254740991"}, {"2^53", "9007199254740992"},
			{"2^63-1", "9223372036854775807"}, {"2^63", "9223372036854775808"}, {"-2^63", "-9223372036854775808"},
			{"1.5", "1.5"}, {"1e3", "1e3"}, {"5.0", "5.0"}, {"-0", "-0"}, {`"5"`, `"5"`}} {
			add(fmt.Sprintf("%s=%s", f, n.name), func(m M, v roomversion.Version, r *rand.Rand) { m[f] = json.RawMessage(n.lit) })
		}
	}
	for _, target := range []int{65535, 65536, 65537, 70000} {
		for _, where := range []string{"content", "unsigned", "content-multibyte", "content-escapes"} {
			add(fmt.Sprintf("size=%d via %s", target, where), func(m M, v roomversion.Version, r *rand.Rand) { padTo(m, target, where) })
		}
	}
	addRaw("whitespace", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		return bytes.Replace(b, []byte(`,"`), []byte(`, "`), 1)
	})
	addRaw("pretty-printed", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		var out bytes.Buffer
		json.Indent(&out, b, "", "  ")
		return out.Bytes()
	})
	addRaw("unsorted keys", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		var m map[string]json.RawMessage
		json.Unmarshal(b, &m)
		t := m["type"]
		delete(m, "type")
		return append([]byte(`{"type":`+string(t)+`,`), difftool.Enc(m)[1:]...)
	})
	inContent(`escaped \u0041 in content`, `"\u0041":1`)
	inContent(`escaped \/ in content`, `"a\/b":1`)
	inContent("float 1.5 in content", `"AAA":1.5`)
	inContent("int 2^53 in content", `"AAA":9007199254740992`)
	inContent("int -2^53+1 in content", `"AAA":-9007199254740991`)
	inContent("exponent 1e2 in content", `"AAA":1e2`)
	inContent("-0 in content", `"AAA":-0`)
	inContent("duplicate key in content", `"AAA":1,"AAA":2`)
	addRaw("duplicate top-level depth", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		return bytes.Replace(b, []byte(`{`), []byte(`{"depth":3,`), 1)
	})
	inContent(`uppercase hex escape \u00E9`, `"AAA":"\u00E9"`)
	inContent(`escaped control \u001f`, `"AAA":"\u001f"`)
	inContent(`lone surrogate \ud800`, `"AAA":"\ud800"`)
	inContent("invalid UTF-8 byte", "\"AAA\":\"\xff\"")
	inContent("raw control char in string", "\"AAA\":\"\x01\"")
	addRaw("trailing comma", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		return append(b[:len(b)-1:len(b)-1], `,}`...)
	})
	addRaw("trailing garbage", func(b []byte, v roomversion.Version, r *rand.Rand) []byte { return append(append([]byte{}, b...), 'x') })
	addRaw("trailing whitespace", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		return append(append([]byte{}, b...), '\n')
	})
	inContent("NaN", `"AAA":NaN`)
	addRaw("top-level array", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		return append(append([]byte("["), b...), ']')
	})
	addRaw("BOM prefix", func(b []byte, v roomversion.Version, r *rand.Rand) []byte {
		return append([]byte("\xef\xbb\xbf"), b...)
	})
	return ms
}

// padTo grows the event so that its canonical JSON is target bytes.
func padTo(m M, target int, where string) {
	unit := "a"
	if where == "content-multibyte" {
		unit = "é"
	}
	set := func(s string) {
		if where == "unsigned" {
			m["unsigned"] = M{"pad": s}
			return
		}
		c := difftool.CopyM(m["content"].(M))
		c["pad"] = s
		m["content"] = c
	}
	set("")
	m["hashes"] = M{"sha256": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	need := target - len(difftool.Enc(m))
	if need < 0 {
		return
	}
	if where == "content-escapes" {
		set(strings.Repeat("\n", need/2) + strings.Repeat("a", need%2)) // \n is 2 bytes in canonical JSON
		return
	}
	set(strings.Repeat(unit, need/len(unit)) + strings.Repeat("a", need%len(unit)))
}

// formatVerdict is accept or refuse, with a reason.
type formatVerdict struct {
	ok     bool
	reason string
}

// String renders the value for examples.
func (v formatVerdict) String() string {
	if v.ok {
		return "accept"
	}
	return "refuse"
}

func rpParse(v roomversion.Version, raw []byte) formatVerdict {
	_, err := pdu.Parse(v, raw)
	if err == nil {
		return formatVerdict{ok: true}
	}
	return formatVerdict{reason: err.Error()}
}

func gParse(vid string, raw []byte) formatVerdict {
	_, err := safe(func() (gmsl.PDU, error) { return gVersion(vid).NewEventFromUntrustedJSON(raw) })
	if err == nil {
		return formatVerdict{ok: true}
	}
	var ve gmsl.EventValidationError
	if errors.As(err, &ve) && ve.Persistable {
		return formatVerdict{reason: "persistable: " + ve.Message}
	}
	return formatVerdict{reason: err.Error()}
}

// formatExpected maps a mutation and an outcome ("rp=refuse gmsl=accept", "rp=accept
// gmsl=refuse" or "fields") to its class.
var formatExpected = func() map[[2]string]string {
	m := map[[2]string]string{}
	const ra, ar, fd = "rp=refuse gmsl=accept", "rp=accept gmsl=refuse", "fields"
	set := func(class, outcome string, muts ...string) {
		for _, mu := range muts {
			m[[2]string{mu, outcome}] = class
		}
	}
	set("F1-missing-required-field", ra, "missing content", "missing depth", "missing origin_server_ts", "missing signatures", "missing type",
		"missing event_id", "missing prev_events", "missing auth_events")
	for _, t := range []string{"string", "int", "null", "array", "bool"} {
		set("F2-mistyped-field", ra, "mistyped content="+t)
	}
	for _, t := range []string{"string", "int", "null", "array", "bool"} {
		set("F2-mistyped-field", ra, "mistyped signatures="+t)
		set("F11-unsigned-not-object", ra, "mistyped unsigned="+t)
	}
	set("F2-mistyped-field", ra, "mistyped depth=null", "mistyped origin_server_ts=null", "mistyped type=null", "mistyped state_key=null",
		"mistyped event_id=null", "mistyped prev_events=null", "mistyped auth_events=null", "signatures server=string", "signatures sig=int",
		"prev_events element=null", "auth_events element=null")
	for _, f := range []string{"type", "sender", "room_id", "content", "depth", "origin_server_ts", "prev_events"} {
		set("F3-case-variant-keys", ra, "rename "+f+" to case variant")
	}
	set("F3-case-variant-keys", fd, "rename state_key to case variant", "rename redacts to case variant", `extra State_Key=""`)
	set("F4-reference-counts", ra, "auth_events count=11", "auth_events count=20", "auth_events count=21", "prev_events count=21")
	set("F5-event-id-length", ra, "len(event_id)=256 bytes unit=a", "len(event_id)=256 bytes unit=é", "len(event_id)=256 bytes unit=€",
		"prev_events element=id 256 bytes", "auth_events element=id 256 bytes")
	set("F6-origin_server_ts-range", ar, "origin_server_ts=-1", "origin_server_ts=-0", "origin_server_ts=-2^63")
	set("F6-origin_server_ts-range", ra, "origin_server_ts=2^63")
	set("F7-underscore-key", ar, "extra _foo=1")
	set("F8-v1-pair-hash-forms", ar, "prev_events element=pair 2nd=string", "prev_events element=pair 2nd bad base64",
		"auth_events element=pair 2nd=string", "auth_events element=pair 2nd bad base64")
	set("F9-v11-redacts-any-type", ar, "mistyped redacts=array", "mistyped redacts=bool", "mistyped redacts=int", "mistyped redacts=object")
	set("F10-redacts-null", ra, "mistyped redacts=null")
	set("F12-size-with-unsigned", ra, "size=65537 via unsigned", "size=70000 via unsigned")
	set("F13-room_id-grammar", ar, `room_id="r:a.test"`, `room_id="!r"`, `room_id=""`, `room_id="$r:a.test"`, "mistyped room_id=string")
	set("F13s-sender-grammar", ar, `sender="alice:a.test"`, `sender="@alice"`, `sender=""`, "mistyped sender=string")
	set("F14-gmsl-roomid-panics", fd, `room_id="!:a.test"`, `room_id="!r:"`)
	set("F15-canonical-json", ra, "invalid UTF-8 byte", `lone surrogate \ud800`, "duplicate key in content", "duplicate top-level depth")
	set("F16-v1-event_id-grammar", ra, `event_id="x"`, `event_id="$x"`, `event_id="$x:"`, `event_id="$x:bad_host!"`, "mistyped event_id=string")
	set("F17-negative-depth", ra, "depth=-1", "depth=-2^63")
	set("F18-redacts-non-redaction", fd, `extra redacts="$x:a.test"`, "mistyped redacts=string")
	return m
}()

func runFormat(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	muts := formatMutations()
	for i := 0; i < n; i++ {
		for _, mu := range muts {
			vid := difftool.Pick(r, versions...)
			v := authgen.Version(vid)
			base := formatBase(r, v, i)
			var raw []byte
			if mu.mut != nil {
				mu.mut(base, v, r)
				raw = withContentHash(v, difftool.Enc(base))
			} else {
				raw = mu.raw(withContentHash(v, difftool.Enc(base)), v, r)
			}
			a := rpParse(v, raw)
			if _, serr := signing.ParseEvent(v, raw); (serr == nil) != a.ok {
				t.Problem("roomproto: pdu.Parse and signing.ParseEvent disagree on "+mu.name, fmt.Sprintf("v%s %s\npdu.Parse: %v\nParseEvent: %v", vid, raw, a.reason, serr))
			}
			b := gParse(vid, raw)
			example := fmt.Sprintf("v%s %s: %s\nroomproto: %s %s\nGMSL: %s %s", vid, mu.name, raw, a, a.reason, b, b.reason)
			switch {
			case a.ok && b.ok:
				if d := fieldDiff(v, vid, raw); d != "" {
					t.Diverge(formatExpected[[2]string{mu.name, "fields"}], mu.name+" | fields differ: "+d, example+"\nfields differ: "+d)
					continue
				}
				t.Agree()
			case a.ok == b.ok:
				t.Agree()
			default:
				outcome := fmt.Sprintf("rp=%s gmsl=%s", a, b)
				t.Diverge(formatExpected[[2]string{mu.name, outcome}], mu.name+" | "+outcome, example)
			}
		}
	}
}

// fieldDiff compares the fields both parsers read from an event both accept.
func fieldDiff(v roomversion.Version, vid string, raw []byte) string {
	pe, err := pdu.Parse(v, raw)
	if err != nil {
		return ""
	}
	ge, err := gVersion(vid).NewEventFromUntrustedJSON(raw)
	if err != nil {
		return ""
	}
	var d []string
	if pe.Type != ge.Type() {
		d = append(d, fmt.Sprintf("type rp=%q gmsl=%q", pe.Type, ge.Type()))
	}
	rsk, gsk := "<none>", "<none>"
	if pe.StateKey != nil {
		rsk = *pe.StateKey
	}
	if ge.StateKey() != nil {
		gsk = *ge.StateKey()
	}
	if rsk != gsk {
		d = append(d, fmt.Sprintf("state_key rp=%q gmsl=%q", rsk, gsk))
	}
	if pe.Sender != string(ge.SenderID()) {
		d = append(d, "sender")
	}
	if _, err := safe(func() (string, error) { return ge.RoomID().String(), nil }); err != nil {
		d = append(d, "GMSL RoomID() panics")
	} else if pe.RoomID != ge.RoomID().String() {
		d = append(d, "room_id")
	}
	if pe.Depth != ge.Depth() {
		d = append(d, fmt.Sprintf("depth rp=%d gmsl=%d", pe.Depth, ge.Depth()))
	}
	if pe.OriginServerTS != int64(ge.OriginServerTS()) {
		d = append(d, fmt.Sprintf("origin_server_ts rp=%d gmsl=%d", pe.OriginServerTS, ge.OriginServerTS()))
	}
	if strings.Join(pe.PrevEvents, ",") != strings.Join(ge.PrevEventIDs(), ",") {
		d = append(d, "prev_events")
	}
	if strings.Join(pe.AuthEvents, ",") != strings.Join(ge.AuthEventIDs(), ",") {
		d = append(d, "auth_events")
	}
	if !v.Format.RedactsInContent && pe.Redacts != ge.Redacts() {
		d = append(d, fmt.Sprintf("redacts rp=%q gmsl=%q", pe.Redacts, ge.Redacts()))
	}
	if v.Format.HasEventIDField && pe.EventID != ge.EventID() {
		d = append(d, "event_id")
	}
	return strings.Join(d, "; ")
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/eventmut"
)

// mutations are tools/formatref's (eventmut.FormatMutations, in their order) and then the value
// mutations of this audit: what is read from an accepted event. Some are listed twice, which
// doubles their weight in the draw; the order and the repeats are part of what a seed draws.
func mutations() []eventmut.Mutation {
	return append(eventmut.FormatMutations(),
		eventmut.Mutation{Name: "dupval", Fn: mutDupVal},
		eventmut.Mutation{Name: "escape", Fn: mutEscape},
		eventmut.Mutation{Name: "statekey", Fn: mutStateKey},
		eventmut.Mutation{Name: "membership", Fn: mutMembership},
		eventmut.Mutation{Name: "redacts", Fn: mutRedacts},
		eventmut.Mutation{Name: "unsigned", Fn: mutUnsigned},
		eventmut.Mutation{Name: "origin", Fn: mutOrigin},
		eventmut.Mutation{Name: "sigset", Fn: mutSigSet},
		eventmut.Mutation{Name: "pairs", Fn: mutPairs},
		eventmut.Mutation{Name: "intval", Fn: mutIntVal},
		eventmut.Mutation{Name: "contentval", Fn: mutContentVal},
		eventmut.Mutation{Name: "v12room", Fn: mutV12Room},
		eventmut.Mutation{Name: "shadow", Fn: mutShadow},
		eventmut.Mutation{Name: "shadow", Fn: mutShadow},
		eventmut.Mutation{Name: "manykeys", Fn: mutManyKeys},
		eventmut.Mutation{Name: "none", Fn: eventmut.None},
		eventmut.Mutation{Name: "escape", Fn: mutEscape},
		eventmut.Mutation{Name: "dupval", Fn: mutDupVal},
	)
}

// objDup writes the member key:val (key encoded, val as it is) as the first member of the object
// value of the top-level member obj, so that the key occurs twice when that object already has
// it: the first occurrence is the inserted one. It returns nil when raw has no such object.
func objDup(raw []byte, obj, key, val string) []byte {
	return eventmut.InsertMember(raw, obj, eventmut.JS(key)+":"+val)
}

// mutDupVal gives a key twice with two different values (v1-5 accept it: which one is read?),
// at the top level and inside content, hashes, signatures and unsigned.
func mutDupVal(c *eventmut.Case) ([]byte, string) {
	raw := c.O.Render()
	switch c.R.Intn(9) {
	case 0:
		f := c.Pick("sender", "type", "room_id", "origin")
		return eventmut.TopDup(raw, f, eventmut.JS("@dup:first.example")), "dupval=top:" + f
	case 1:
		return eventmut.TopDup(raw, "depth", "7"), "dupval=top:depth"
	case 2:
		return eventmut.TopDup(raw, "origin_server_ts", "12345"), "dupval=top:origin_server_ts"
	case 3:
		o := c.O.Copy()
		o["state_key"] = `"second"`
		return eventmut.TopDup(o.Render(), "state_key", `"first"`), "dupval=top:state_key"
	case 4:
		return eventmut.TopDup(raw, "content", `{"first":true}`), "dupval=top:content"
	case 5:
		f := c.Pick("membership", "redacts", "body", "x")
		return objDup(raw, "content", f, eventmut.JS("first")), "dupval=content:" + f
	case 6:
		return objDup(raw, "hashes", "sha256", eventmut.JS("Zmlyc3Q")), "dupval=hashes"
	case 7:
		o := c.O.Copy()
		o["unsigned"] = `{"age":2}`
		return objDup(o.Render(), "unsigned", "age", "1"), "dupval=unsigned"
	default:
		srv := "a.example"
		var sigs map[string]json.RawMessage
		if json.Unmarshal([]byte(c.O["signatures"]), &sigs) == nil {
			for k := range sigs {
				srv = k
			}
		}
		return objDup(raw, "signatures", srv, `{"ed25519:first":"Zmlyc3Q"}`), "dupval=signatures"
	}
}

// escapeAll writes every character of s that is not ASCII, and every third ASCII letter, as a
// \uXXXX escape (surrogate pairs above U+FFFF): the same string, other input bytes.
func escapeAll(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '/':
			sb.WriteString(`\/`)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(&sb, `\u%04X\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		case r < 0x20 || r > 0x7e || i%3 == 0:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}

var oddStrings = []string{"", "é", "😀", "a\"b", "a\\b", "\x01", "\x7f", "\u2028", "\t\n", "/", "\u00e9\u0301",
	"\ufeff", "\U0010FFFF", "m.room.member", "$x:a.example", "@a:b", " "}

// mutEscape writes a string field (or a key) with escapes, or gives it unicode and control
// characters: the value read must be the decoded string.
func mutEscape(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	switch c.R.Intn(7) {
	case 6: // a top-level key the format does not define, with odd characters (HasKey)
		k := c.Pick(oddStrings...)
		o[k] = c.Pick(`1`, `null`, `"x"`, `{}`)
		return c.Sign(o).Render(), fmt.Sprintf("escape=top-key:%q", k)
	case 0: // escaped top-level keys: "\u0074ype" is "type"
		f := c.Pick("type", "sender", "content", "depth", "state_key", "room_id", "hashes", "signatures")
		if v, ok := o[f]; ok {
			delete(o, f)
			raw := o.Render()
			return append([]byte(`{`+escapeAll(f)+`:`+v+`,`), raw[1:]...), "escape=key:" + f
		}
		return o.Render(), "escape=key-absent:" + f
	case 1: // every string value of the event written with escapes
		var sb strings.Builder
		raw := c.O.Render()
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m any
		if dec.Decode(&m) != nil {
			return raw, "escape=all-strings:undecodable"
		}
		writeEscaped(&sb, m)
		return []byte(sb.String()), "escape=all-strings"
	case 2: // odd but valid characters in the string fields (re-signed)
		f := c.Pick("sender", "type", "state_key", "room_id", "origin", "redacts", "event_id")
		s := c.Pick(oddStrings...)
		var cur string
		if json.Unmarshal([]byte(o[f]), &cur) != nil {
			cur = "x"
		}
		o[f] = eventmut.JS(cur + s)
		return c.Sign(o).Render(), fmt.Sprintf("escape=value:%s:%q", f, s)
	case 3: // content with odd keys and values, escaped in the input
		k := c.Pick(oddStrings...)
		val := c.Pick(oddStrings...)
		return objDupEsc(c.O.Render(), k, val), fmt.Sprintf("escape=content:%q:%q", k, val)
	case 4: // content.membership / redacts / body written with escapes
		k := c.Pick("membership", "redacts", "body", "join_rule")
		val := c.Pick("join", "leave", "$x:a.example", "😀", "a\"b")
		return objDupEsc(c.O.Render(), k, val), fmt.Sprintf("escape=content:%q:%q", k, val)
	default: // signatures with odd server names and key IDs
		srv := c.Pick("a.example", "é.example", "Z.example", "a\"b", "😀", "", "a.example:8448", "[::1]")
		kid := c.Pick("ed25519:1", "ed25519:é", "", "ed25519:\x01")
		o["signatures"] = `{` + eventmut.JS(srv) + `:{` + eventmut.JS(kid) + `:"c2ln"},"a.example":{"ed25519:0":"c2ln"}}`
		return o.Render(), fmt.Sprintf("escape=signatures:%q:%q", srv, kid)
	}
}

// objDupEsc inserts key:val (both written with escapes) as the first member of content; if the
// key is already there, it now occurs twice. It returns raw as it is when raw has no content
// object.
func objDupEsc(raw []byte, key, val string) []byte {
	if out := eventmut.InsertMember(raw, "content", escapeAll(key)+":"+escapeAll(val)); out != nil {
		return out
	}
	return raw
}

// writeEscaped writes v as JSON with every string written by escapeAll and spaces around ':'.
func writeEscaped(sb *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		sb.WriteByte('{')
		for i, k := range ks {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(escapeAll(k) + " : ")
			writeEscaped(sb, x[k])
		}
		sb.WriteByte('}')
	case []any:
		sb.WriteByte('[')
		for i, y := range x {
			if i > 0 {
				sb.WriteByte(',')
			}
			writeEscaped(sb, y)
		}
		sb.WriteByte(']')
	case string:
		sb.WriteString(escapeAll(x))
	case json.Number:
		sb.WriteString(string(x))
	default:
		sb.Write(difftool.Enc(x))
	}
}

// mutStateKey: state_key absent, "", null, a value, unicode, on state and non-state types.
func mutStateKey(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	val := c.Pick("absent", `""`, `null`, `"x"`, `"@alice:a.example"`, `"é😀"`, `"\u0000"`, `" "`, `0`, `[]`)
	if val == "absent" {
		delete(o, "state_key")
	} else {
		o["state_key"] = val
	}
	if c.R.Intn(3) == 0 {
		o["type"] = c.Pick(`"m.room.create"`, `"m.room.member"`, `"m.room.message"`, `"m.room.power_levels"`)
	}
	return c.Sign(o).Render(), "statekey=" + val + ":" + o["type"]
}

func setContent(o eventmut.Obj, key, val string) {
	var content map[string]json.RawMessage
	if json.Unmarshal([]byte(o["content"]), &content) != nil || content == nil {
		content = map[string]json.RawMessage{}
	}
	if val == "absent" {
		delete(content, key)
	} else {
		content[key] = json.RawMessage(val)
	}
	o["content"] = string(difftool.Enc(content))
}

// mutMembership: content.membership of every JSON type, on member and other events.
func mutMembership(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	val := c.Pick("absent", `"join"`, `"leave"`, `"JOIN"`, `""`, `null`, `1`, `true`, `["join"]`, `{"a":"join"}`, `"knock"`, `"x"`)
	setContent(o, "membership", val)
	if c.R.Intn(3) == 0 {
		o["type"] = c.Pick(`"m.room.member"`, `"m.room.message"`, `"m.room.create"`)
		if c.R.Intn(2) == 0 {
			o["state_key"] = `"@bob:b.example"`
		}
	}
	if c.R.Intn(4) == 0 {
		o["membership"] = c.Pick(`"join"`, `"ban"`, `5`)
	}
	return c.Sign(o).Render(), "membership=" + val + ":" + o["type"]
}

// mutRedacts: redacts top-level, in content, both, neither, of other types, on redactions and
// on other events.
func mutRedacts(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	if c.R.Intn(4) != 0 {
		o["type"] = `"m.room.redaction"`
		delete(o, "state_key")
	}
	top := c.Pick("absent", `"$top:a.example"`, `"`+"$"+strings.Repeat("T", 43)+`"`, `""`, `5`, `null`, `{}`)
	inContent := c.Pick("absent", `"$content:a.example"`, `"`+"$"+strings.Repeat("C", 43)+`"`, `""`, `5`, `null`, `["$x"]`)
	delete(o, "redacts")
	if top != "absent" {
		o["redacts"] = top
	}
	setContent(o, "redacts", inContent)
	return c.Sign(o).Render(), fmt.Sprintf("redacts=top:%s:content:%s:%s", top, inContent, o["type"])
}

// mutUnsigned: unsigned of each type and shape.
func mutUnsigned(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	val := c.Pick("absent", `{}`, `{"age":5}`, `{"age":"5"}`, `{"b":1,"a":{"y":2,"x":1}}`, `null`, `5`, `"x"`, `[]`,
		`{"age_ts":1000000,"redacted_because":{"type":"m.room.redaction"}}`, `{"é":"😀","\u0001":"\u0000"}`, `{"prev_content":{"membership":"join"}}`)
	if val == "absent" {
		delete(o, "unsigned")
	} else {
		o["unsigned"] = val
	}
	return c.Sign(o).Render(), "unsigned=" + val
}

// mutOrigin: the deprecated top-level origin of each type.
func mutOrigin(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	val := c.Pick("absent", `"a.example"`, `""`, `"é"`, `5`, `null`, `{}`, `[]`, `true`)
	if val == "absent" {
		delete(o, "origin")
	} else {
		o["origin"] = val
	}
	return c.Sign(o).Render(), "origin=" + val
}

// mutSigSet: signatures of several servers and keys, given in any order, some empty.
func mutSigSet(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	servers := []string{"b.example", "a.example", "A.example", "a.example:8448", "z", "é.example", "1.2.3.4", "[::1]", "a-b.example", "😀"}
	keys := []string{"ed25519:1", "ed25519:0", "ed25519:a", "ed25519:A", "curve:1", "ed25519:é", "ed25519:10", "ed25519:9"}
	n := 1 + c.R.Intn(5)
	parts := []string{}
	for i := 0; i < n; i++ {
		srv := servers[c.R.Intn(len(servers))]
		var ks []string
		for j := c.R.Intn(4); j > 0; j-- {
			k := keys[c.R.Intn(len(keys))]
			ks = append(ks, eventmut.JS(k)+`:`+eventmut.JS(fmt.Sprintf("sig%d%d", i, j)))
		}
		parts = append(parts, eventmut.JS(srv)+`:{`+strings.Join(ks, ",")+`}`)
	}
	// written in drawing order (not sorted), duplicates possible (v1-5: the last counts)
	o["signatures"] = "{" + strings.Join(parts, ",") + "}"
	raw := o.Render()
	return raw, fmt.Sprintf("sigset=%d", n)
}

// mutPairs: v1-2 pairs of odd shapes; v3+ lists with unusual IDs.
func mutPairs(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	f := c.Pick("prev_events", "auth_events")
	h := `{"sha256":"` + authgen.DummyHash + `"}`
	var items []string
	for k := c.R.Intn(4); k >= 0; k-- {
		id := eventmut.JS(c.Pick("$a:a.example", "$é:a.example", "$"+strings.Repeat("Q", 43), "", "$", c.B.FakeID(), "$x\u0001:a.example"))
		if c.Ver <= 2 {
			items = append(items, "["+id+","+c.Pick(h, `{}`, `{"sha256":5}`, eventmut.JS("hash"), `{"sha256":"x","sha512":"y"}`)+"]")
		} else {
			items = append(items, id)
		}
	}
	o[f] = "[" + strings.Join(items, ",") + "]"
	return c.Sign(o).Render(), "pairs=" + f
}

// mutIntVal: depth and origin_server_ts at the edges that should be accepted and read exactly.
func mutIntVal(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	f := c.Pick("depth", "origin_server_ts")
	val := c.Pick("0", "1", "-1", "9007199254740991", "-9007199254740991", "9007199254740990", "4294967296",
		"9223372036854775807", "-9223372036854775808", "2147483648", "1.0", "1e2", "-0", "100", "0.5")
	o[f] = val
	return c.Sign(o).Render(), fmt.Sprintf("intval=%s:%s", f, val)
}

// mutContentVal: content members of every JSON type, nested, with numbers in every notation.
func mutContentVal(c *eventmut.Case) ([]byte, string) {
	raw := c.O.Render()
	val := c.Pick(`1.0`, `1e2`, `1E+2`, `-0`, `0.1`, `12345678901234567890`, `-9007199254740991`, `[1,{"b":1,"a":2}]`,
		`{"z":1,"y":{"x":[]}}`, `null`, `true`, `"\ud83d\ude00"`, `"\u00e9"`, `{}`, `[]`, `1e400`, `"a\u0000b"`)
	k := c.Pick("n", "membership", "body", "redacts", "")
	return objDup(raw, "content", k, val), fmt.Sprintf("contentval=%q:%s", k, val)
}

// mutV12Room: v12 creates with and without room_id, with several state keys (Room()).
func mutV12Room(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	o["type"] = `"m.room.create"`
	sk := c.Pick(`""`, "absent", `"x"`)
	if sk == "absent" {
		delete(o, "state_key")
	} else {
		o["state_key"] = sk
	}
	rid := c.Pick("absent", "absent", `"!room:a.example"`, `""`)
	if rid == "absent" {
		delete(o, "room_id")
	} else {
		o["room_id"] = rid
	}
	return c.Sign(o).Render(), "v12room=sk:" + sk + ":room_id:" + rid
}

// shadowFields are keys of the event's own fields, written where they are not the event's:
// inside content, unsigned, an extra top-level object that sorts first, nested deeper, as text
// inside strings, and as near-miss names.
var shadowFields = []string{"type", "state_key", "room_id", "sender", "content", "depth", "origin_server_ts",
	"redacts", "membership", "hashes", "signatures", "unsigned", "prev_events", "auth_events", "event_id", "origin"}

func shadowObj(c *eventmut.Case) string {
	var parts []string
	for _, f := range shadowFields {
		if c.R.Intn(2) == 0 {
			continue
		}
		var val string
		switch f {
		case "content", "hashes", "signatures", "unsigned":
			val = c.Pick(`{"membership":"ban","redacts":"$evil:e.example","sha256":"ZXZpbA"}`, `{"e.example":{"ed25519:1":"ZXZpbA"}}`, `{}`)
		case "depth", "origin_server_ts":
			val = c.Pick(`666`, `-1`, `"666"`)
		case "prev_events", "auth_events":
			val = c.Pick(`["$evil:e.example"]`, `[["$evil:e.example",{}]]`)
		default:
			val = c.Pick(`"evil"`, `"$evil:e.example"`, `"@evil:e.example"`, `"ban"`, `5`, `null`)
		}
		parts = append(parts, eventmut.JS(f)+":"+val)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// mutShadow puts the event's field names where a scanner that matched keys by their text, not
// by their position in the top-level object, would read them.
func mutShadow(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	var label string
	switch c.R.Intn(6) {
	case 0: // a top-level object that sorts before every field
		o[c.Pick("aaa", "\u0001", "Z", "0")] = shadowObj(c)
		label = "shadow=top-object"
	case 1: // inside content (before and after "membership")
		var content map[string]json.RawMessage
		if json.Unmarshal([]byte(o["content"]), &content) != nil || content == nil {
			content = map[string]json.RawMessage{}
		}
		content[c.Pick("a", "x", "m.relates_to", "membershi", "membership ")] = json.RawMessage(shadowObj(c))
		o["content"] = string(difftool.Enc(content))
		label = "shadow=content-nested"
	case 2: // inside unsigned
		o["unsigned"] = shadowObj(c)
		label = "shadow=unsigned"
	case 3: // as text inside a string value
		var content map[string]json.RawMessage
		if json.Unmarshal([]byte(o["content"]), &content) != nil || content == nil {
			content = map[string]json.RawMessage{}
		}
		content["body"] = json.RawMessage(eventmut.JS(c.Pick(`","membership":"ban`, `"}, "state_key":"evil","x":{"`,
			`\",\"redacts\":\"$evil:e.example`, `,"type":"m.room.create"`, `{"membership":"ban"}`)))
		o["content"] = string(difftool.Enc(content))
		label = "shadow=string"
	case 4: // near-miss top-level names
		k := c.Pick("types", "typ", "type ", "Type", "state_key_", "state_ke", "room_id2", "sender\u0000", "contents", "depth_",
			"redacts2", "redact", "origin_server_ts_", "signature", "hash", "unsigned_", "prev_event", "auth_events_")
		o[k] = c.Pick(`"evil"`, `{"membership":"ban"}`, `5`, `["$evil:e.example"]`)
		label = fmt.Sprintf("shadow=near-miss:%q", k)
	default: // the top-level fields of a whole event nested in prev_content
		o["unsigned"] = `{"prev_content":` + o["content"] + `,"redacted_because":` + string(c.O.Render()) + `}`
		label = "shadow=unsigned-event"
	}
	return c.Sign(o).Render(), label
}

// mutManyKeys gives content (or unsigned, or signatures) hundreds to thousands of members, so
// that the reused canonicaljson.Index grows past what the next, smaller, event needs.
func mutManyKeys(c *eventmut.Case) ([]byte, string) {
	o := c.O.Copy()
	n := []int{100, 1000, 1025, 3000}[c.R.Intn(4)]
	where := c.Pick("content", "unsigned", "signatures", "top")
	parts := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if where == "signatures" {
			parts = append(parts, fmt.Sprintf(`"s%d.example":{"ed25519:1":"c2ln"}`, i))
		} else {
			parts = append(parts, fmt.Sprintf(`"k%d":%d`, i, i))
		}
	}
	switch where {
	case "top":
		for i := 0; i < n; i++ {
			o[fmt.Sprintf("k%d", i)] = fmt.Sprint(i)
		}
	case "content":
		o["content"] = "{" + strings.Join(parts, ",") + "}"
	default:
		o[where] = "{" + strings.Join(parts, ",") + "}"
	}
	if where == "signatures" {
		return o.Render(), fmt.Sprintf("manykeys=%s:%d", where, n)
	}
	return c.Sign(o).Render(), fmt.Sprintf("manykeys=%s:%d", where, n)
}

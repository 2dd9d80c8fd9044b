package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// obj is a top-level JSON object being mutated: key → raw JSON value.
type obj map[string]string

func (o obj) render() []byte {
	ks := make([]string, 0, len(o))
	for k := range o {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range ks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jstr(k))
		b.WriteByte(':')
		b.WriteString(o[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func parseObj(raw []byte) obj {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err) // invariant: the harness built this input itself
	}
	o := obj{}
	for k, v := range m {
		o[k] = string(v)
	}
	return o
}

// jstr encodes s as a JSON string the canonical way (no HTML escapes).
func jstr(s string) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		panic(err) // invariant: a string always encodes
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func js(s string) string { return string(jstr(s)) }

// tcase is one base event and what is needed to mutate and re-sign it.
type tcase struct {
	r      *rand.Rand
	v      string
	ver    int
	rv     roomversion.Version
	b      *authgen.Builder
	o      obj // the signed base event
	create bool
}

func newCase(r *rand.Rand, v string, i int) *tcase {
	b := &authgen.Builder{V: authgen.Version(v), Ver: difftool.VerNum(v), R: r, N: i * 1000}
	rm := b.GenRoom()
	var pool []*authgen.Event
	pool = append(pool, rm.Order...)
	if final, _, _, err := b.Assemble(rm, b.GenCand(rm), false); err == nil {
		pool = append(pool, final, final, final)
	}
	ev := pool[r.Intn(len(pool))]
	c := &tcase{r: r, v: v, ver: b.Ver, rv: b.V, b: b}
	o := parseObj(ev.Raw)
	// some prev_events
	if k := r.Intn(4); k > 0 && o["type"] != `"m.room.create"` {
		ids := make([]string, k)
		for j := range ids {
			ids[j] = b.FakeID()
		}
		o["prev_events"] = c.refList(ids)
	}
	c.create = o["type"] == `"m.room.create"`
	c.o = c.sign(o)
	return c
}

// refList renders IDs as prev_events/auth_events of the version: [id, {sha256}] pairs in v1-2.
func (c *tcase) refList(ids []string) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		if c.ver <= 2 {
			parts[i] = "[" + js(id) + `,{"sha256":"` + authgen.DummyHash + `"}]`
		} else {
			parts[i] = js(id)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func (c *tcase) fakeIDs(k int) []string {
	ids := make([]string, k)
	for i := range ids {
		ids[i] = c.b.FakeID()
	}
	return ids
}

func (o obj) copy() obj {
	n := obj{}
	for k, v := range o {
		n[k] = v
	}
	return n
}

// sign hashes and signs o as its sender's server; when SignEvent refuses it, o is kept as is.
func (c *tcase) sign(o obj) obj {
	raw, ok := c.signRaw(o)
	if !ok {
		return o
	}
	return parseObj(raw)
}

func (c *tcase) signRaw(o obj) ([]byte, bool) {
	srv := "a.example"
	var sender string
	if json.Unmarshal([]byte(o["sender"]), &sender) == nil {
		if d := difftool.DomainOf(sender); d != "" {
			srv = d
		}
	}
	raw, err := signing.SignEvent(c.rv, o.render(), srv, authgen.KeyFor(srv, "1"))
	if err != nil {
		return o.render(), false
	}
	return raw, true
}

func (c *tcase) pick(xs ...string) string { return xs[c.r.Intn(len(xs))] }

// pad returns a string of exactly n bytes of UTF-8 made of filler, with the multibyte character
// mb (possibly "") as its last character, so that a limit falls inside or right after it.
func pad(n int, mb string) string {
	if len(mb) > n {
		mb = ""
	}
	return strings.Repeat("a", n-len(mb)) + mb
}

var multibytes = []string{"", "", "é", "€", "😀", "\x01", "\""}

// mutations, by name; each returns the bytes to parse and a label (name=parameters).
var mutations = []struct {
	name string
	fn   func(c *tcase) ([]byte, string)
}{
	{"none", func(c *tcase) ([]byte, string) { return c.o.render(), "none" }},
	{"size", mutSize},
	{"idlen", mutIDLen},
	{"count", mutCount},
	{"int", mutInt},
	{"type", mutType},
	{"missing", mutMissing},
	{"extra", mutExtra},
	{"hashes", mutHashes},
	{"sigs", mutSigs},
	{"pair", mutPair},
	{"ref", mutRef},
	{"grammar", mutGrammar},
	{"json", mutJSON},
	{"v12", mutV12},
	// the mutations of this audit: what is read from an accepted event
	{"dupval", mutDupVal},
	{"escape", mutEscape},
	{"statekey", mutStateKey},
	{"membership", mutMembership},
	{"redacts", mutRedacts},
	{"unsigned", mutUnsigned},
	{"origin", mutOrigin},
	{"sigset", mutSigSet},
	{"pairs", mutPairs},
	{"intval", mutIntVal},
	{"contentval", mutContentVal},
	{"v12room", mutV12Room},
	{"shadow", mutShadow},
	{"shadow", mutShadow},
	{"manykeys", mutManyKeys},
	{"none", func(c *tcase) ([]byte, string) { return c.o.render(), "none" }},
	{"escape", mutEscape},
	{"dupval", mutDupVal},
}

func (c *tcase) mutate(only string) ([]byte, string) {
	var ms []int
	for i, m := range mutations {
		if only == "" || strings.HasPrefix(m.name, only) || strings.HasPrefix(only, m.name+"=") {
			ms = append(ms, i)
		}
	}
	if len(ms) == 0 {
		return nil, ""
	}
	m := mutations[ms[c.r.Intn(len(ms))]]
	raw, label := m.fn(c)
	if only != "" && !strings.HasPrefix(label, only) && !strings.HasPrefix(only, label) {
		return nil, ""
	}
	return raw, label
}

// mutSize pads content so that the signed event's canonical JSON is exactly 65536 bytes plus a
// delta, sometimes with multibyte characters, escapes or non-canonical input around it.
func mutSize(c *tcase) ([]byte, string) {
	delta := []int{-1, 0, 0, 1, 1, 2, -100, 1000}[c.r.Intn(8)]
	target := 65536 + delta
	form := c.pick("ascii", "multibyte", "control", "escaped-input", "spaced-input", "unsigned")
	o := c.o.copy()
	key := "pad"
	if form == "unsigned" {
		key = "unsigned"
	}
	mk := func(n int) string {
		switch form {
		case "multibyte":
			// n bytes of canonical JSON text: "é" is 2 bytes, one ASCII to fix the parity
			s := strings.Repeat("é", n/2)
			if n%2 == 1 {
				s += "a"
			}
			return js(s)
		case "control":
			// "\u0001" is 6 bytes of canonical JSON for 1 byte of string
			s := strings.Repeat("\x01", n/6) + strings.Repeat("a", n%6)
			return js(s)
		}
		return js(strings.Repeat("a", n))
	}
	setPad := func(n int) {
		if n < 0 {
			n = 0
		}
		if key == "unsigned" {
			o["unsigned"] = `{"pad":` + mk(n) + `}`
			return
		}
		var content map[string]json.RawMessage
		if json.Unmarshal([]byte(c.o["content"]), &content) != nil {
			content = map[string]json.RawMessage{}
		}
		content["pad"] = json.RawMessage(mk(n))
		o["content"] = string(difftool.Enc(content))
	}
	setPad(0)
	raw, ok := c.signRaw(o)
	if !ok {
		return nil, ""
	}
	n := target - len(raw)
	setPad(n)
	raw, _ = c.signRaw(o)
	if len(raw) != target {
		// a parity the form cannot reach: fall back to ASCII
		form = "ascii"
		setPad(n)
		raw, _ = c.signRaw(o)
	}
	label := fmt.Sprintf("size=%d:%s", len(raw)-65536, form)
	switch form {
	case "escaped-input":
		// the same event with its pad written with \u0061 escapes: more input bytes, same
		// canonical form
		raw = bytes.Replace(raw, []byte(`"pad":"aaaaaa`), []byte(`"pad":"\u0061\u0061\u0061\u0061\u0061\u0061`), 1)
	case "spaced-input":
		raw = bytes.ReplaceAll(raw, []byte(`,"`), []byte(`, "`))
	}
	return raw, label
}

func idFields(c *tcase) []string {
	fs := []string{"sender", "type", "state_key", "room_id", "prev_events", "auth_events"}
	if c.ver <= 2 {
		fs = append(fs, "event_id")
	}
	if c.ver <= 10 {
		fs = append(fs, "redacts")
	}
	return fs
}

// mutIDLen sets an ID field to exactly 254, 255 or 256 bytes (or 300), with a multibyte
// character, a control character or a quote at the edge.
func mutIDLen(c *tcase) ([]byte, string) {
	f := c.pick(idFields(c)...)
	n := []int{254, 255, 255, 256, 256, 257, 300}[c.r.Intn(7)]
	mb := multibytes[c.r.Intn(len(multibytes))]
	o := c.o.copy()
	var val string
	switch f {
	case "sender":
		dom := ":a.example"
		val = "@" + pad(n-1-len(dom), mb) + dom
	case "room_id":
		dom := ":a.example"
		val = "!" + pad(n-1-len(dom), mb) + dom
		if c.ver >= 12 {
			val = "!" + pad(n-1, mb)
		}
	case "type":
		val = "com.example." + pad(n-12, mb)
	case "state_key":
		val = pad(n, mb)
	case "event_id", "redacts", "prev_events", "auth_events":
		if c.ver <= 2 {
			dom := ":a.example"
			val = "$" + pad(n-1-len(dom), mb) + dom
		} else {
			val = "$" + pad(n-1, mb)
		}
	}
	switch f {
	case "prev_events", "auth_events":
		o[f] = c.refList([]string{val})
	default:
		o[f] = js(val)
	}
	mbName := map[string]string{"": "ascii", "é": "2byte", "€": "3byte", "😀": "4byte", "\x01": "ctl", "\"": "quote"}[mb]
	return c.sign(o).render(), fmt.Sprintf("idlen=%s:%d:%s", f, len([]byte(val)), mbName)
}

// mutCount gives prev_events or auth_events a number of entries around their limit.
func mutCount(c *tcase) ([]byte, string) {
	o := c.o.copy()
	f := c.pick("prev_events", "auth_events")
	var k int
	if f == "prev_events" {
		k = []int{0, 1, 19, 20, 20, 21, 21, 22, 40}[c.r.Intn(9)]
	} else {
		k = []int{0, 1, 9, 10, 10, 11, 11, 12, 30}[c.r.Intn(9)]
	}
	ids := c.fakeIDs(k)
	if k > 1 && c.r.Intn(4) == 0 {
		ids[1] = ids[0] // a duplicate entry
	}
	o[f] = c.refList(ids)
	return c.sign(o).render(), fmt.Sprintf("count=%s:%d", f, k)
}

var intValues = []string{
	"0", "1", "-1", "9007199254740990", "9007199254740991", "9007199254740992", "9007199254740993",
	"-9007199254740991", "-9007199254740992", "9223372036854775806", "9223372036854775807",
	"9223372036854775808", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
	"1.0", "5.5", "1e3", "1E3", "1e0", "-0", "-0.0", "0.0", "1e400", "123456789012345678901234567890",
}

// mutInt sets depth or origin_server_ts to a value around the integer limits.
func mutInt(c *tcase) ([]byte, string) {
	f := c.pick("depth", "depth", "origin_server_ts", "unsigned.age")
	val := intValues[c.r.Intn(len(intValues))]
	o := c.o.copy()
	if f == "unsigned.age" {
		o["unsigned"] = `{"age":` + val + `}`
	} else {
		o[f] = val
	}
	return o.render(), fmt.Sprintf("int=%s:%s", f, val)
}

var wrongValues = []string{`null`, `true`, `false`, `1`, `-1`, `"x"`, `""`, `[]`, `{}`, `["x"]`, `{"a":1}`, `0`}

var typedFields = []string{"sender", "type", "room_id", "state_key", "event_id", "redacts",
	"content", "hashes", "signatures", "unsigned", "prev_events", "auth_events", "depth",
	"origin_server_ts", "origin", "membership", "prev_state"}

// mutType gives a top-level field a value of another JSON type.
func mutType(c *tcase) ([]byte, string) {
	f := c.pick(typedFields...)
	val := wrongValues[c.r.Intn(len(wrongValues))]
	o := c.o.copy()
	o[f] = val
	return o.render(), fmt.Sprintf("type=%s:%s", f, val)
}

// mutMissing removes one top-level field.
func mutMissing(c *tcase) ([]byte, string) {
	ks := make([]string, 0, len(c.o))
	for k := range c.o {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	f := ks[c.r.Intn(len(ks))]
	o := c.o.copy()
	delete(o, f)
	return o.render(), "missing=" + f
}

// mutExtra adds a field the format does not define, or one it defines for other versions.
func mutExtra(c *tcase) ([]byte, string) {
	o := c.o.copy()
	var f, val string
	switch c.r.Intn(7) {
	case 0:
		f, val = "com.example.extra", c.pick(`1`, `"x"`, `{"a":[1,2]}`, `null`)
	case 1:
		f = "event_id"
		val = c.pick(js(c.b.FakeID()), `"$x:a.example"`, `5`, `null`)
	case 2:
		f, val = "redacts", c.pick(js(c.b.FakeID()), `5`, `null`, `{}`)
	case 3:
		f, val = "origin", c.pick(`"a.example"`, `5`, `null`, `{}`)
	case 4:
		f, val = "unsigned", c.pick(`{}`, `{"age":5}`, `{"age":"5"}`, `{"x":{"y":1}}`, `{"age":null}`)
	case 5:
		f, val = "state_key", c.pick(`""`, `"x"`)
	default:
		f, val = "prev_state", c.pick(`[]`, `5`)
	}
	o[f] = val
	return c.sign(o).render(), fmt.Sprintf("extra=%s:%s", f, val)
}

// mutHashes changes the shape of hashes.
func mutHashes(c *tcase) ([]byte, string) {
	o := c.o.copy()
	val := c.pick(`{}`, `{"sha256":1}`, `{"sha256":null}`, `{"sha256":""}`, `{"sha256":"x"}`,
		`{"sha256":"`+authgen.DummyHash+`","sha512":5}`, `{"SHA256":"`+authgen.DummyHash+`"}`,
		`{"sha256":["x"]}`, `{"sha256":{}}`)
	o["hashes"] = val
	return o.render(), "hashes=" + val
}

// mutSigs changes the shape of signatures.
func mutSigs(c *tcase) ([]byte, string) {
	o := c.o.copy()
	val := c.pick(`{}`, `{"a.example":{}}`, `{"a.example":"x"}`, `{"a.example":{"ed25519:1":5}}`,
		`{"a.example":null}`, `{"a.example":{"ed25519:1":null}}`, `{"a.example":[]}`,
		`{"a.example":{"ed25519:1":"x"},"b.example":5}`, `{"":{"":""}}`, `{"a.example":{"ed25519:1":{}}}`)
	o["signatures"] = val
	return o.render(), "sigs=" + val
}

// mutPair breaks the [event ID, hash] pairs of v1-2 (and puts pairs where v3+ wants strings).
func mutPair(c *tcase) ([]byte, string) {
	o := c.o.copy()
	f := c.pick("prev_events", "auth_events")
	id := js(c.b.FakeID())
	h := `{"sha256":"` + authgen.DummyHash + `"}`
	item := c.pick("["+id+"]", "["+id+","+h+",1]", "["+id+","+js(authgen.DummyHash)+"]",
		"["+h+","+id+"]", "["+id+",{}]", "["+id+`,{"sha256":1}]`, id, "[1,"+h+"]", "[]",
		"["+id+","+h+"]", "null", "1", "["+id+`,{"sha256":"x","other":1}]`)
	o[f] = "[" + item + "]"
	return c.sign(o).render(), fmt.Sprintf("pair=%s:%s", f, item)
}

// mutRef puts event IDs of the wrong format into prev_events, auth_events, event_id or redacts.
func mutRef(c *tcase) ([]byte, string) {
	o := c.o.copy()
	fs := []string{"prev_events", "auth_events"}
	if c.ver <= 2 {
		fs = append(fs, "event_id", "event_id")
	}
	if c.ver <= 10 {
		fs = append(fs, "redacts")
	}
	f := c.pick(fs...)
	h43 := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
	id := c.pick("$"+h43, "$"+h43[:42], "$"+h43+"R", "$"+h43[:41]+"+/", "$"+h43[:41]+"-_",
		"$"+h43+"=", h43, "", "$", "$x:a.example", "$:a.example", "$x:", "$x", "x:a.example",
		"$x:a.example:8448", "$x:a.example:123456", "$x:[::1]", "$x:[::1]:80", "$x:[zz]",
		"$x:1.2.3.4", "$x:bad_host", "$x:a b", "$x\x00y:a.example", "$x:y:a.example", "$😀:a.example",
		"$x:A.EXAMPLE", "!x:a.example", "$x:a.example:", "$x:.", "$x:-",
		"$x:a.example:0", "$x:a.example:99999", "$x:a.example:65536", "$x:a..b", "$x:-a.example",
		"$x:1.2.3.256", "$x:[]", "$x:[:]", "$x:[::]", "$x:[::1]:", "$x:[::1]x", "$x:[::1]:123456",
		"$x:["+strings.Repeat("a", 45)+"]", "$x:["+strings.Repeat("a", 46)+"]", "$x:[::g]",
		"$x:"+strings.Repeat("a", 243), `$x:a.example\n`, `$\ud800:a.example`, `$x\udc00:a.example`,
		`$x:a.ex\u0000ample`, `$\u0001\u001f:a.example`, "$ :a.example", "$x: a.example", "$$x:a.example",
		"$x:a.example/", "$x:ä.example")
	raw := js(id)
	if strings.Contains(id, `\`) {
		// a JSON escape written as it is (lone surrogates and control characters)
		raw = `"` + id + `"`
	}
	switch f {
	case "prev_events", "auth_events":
		o[f] = c.refList([]string{id})
		if strings.Contains(id, `\`) {
			o[f] = strings.Replace(o[f], js(id), raw, 1)
		}
	default:
		o[f] = raw
	}
	return c.sign(o).render(), fmt.Sprintf("ref=%s:%q", f, id)
}

// mutGrammar gives sender or room_id a value that breaks (or stretches) the identifier grammar.
func mutGrammar(c *tcase) ([]byte, string) {
	o := c.o.copy()
	f := c.pick("sender", "sender", "room_id")
	var id string
	if f == "sender" {
		id = c.pick("alice", "@alice", "@:a.example", "@Alice:a.example", "@a:b:c", "@alice:a.example:8448",
			"@alice:", "@al\x00ice:a.example", "@alice:bad host", "@alice:[::1]:80", "!alice:a.example",
			"@alice:a.example:99999", "@alice:a.example:123456", "@ali:ce:a.example", "@😀:a.example",
			"@alice:1.2.3.4", "@alice:[1234:5678::abcd]", "@alice:[::1", "@alice:a_b.example", "")
	} else {
		h43 := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
		id = c.pick("!room:a.example", "room:a.example", "!room", "!:a.example", "!room:", "!ro\x00om:a.example",
			"!room:bad host", "!"+h43, "!"+h43[:42], "!"+h43[:41]+"+/", "!"+h43[:41]+"-_", "$"+h43, "!😀:a.example", "")
	}
	o[f] = js(id)
	return c.sign(o).render(), fmt.Sprintf("grammar=%s:%q", f, id)
}

// mutJSON changes the JSON text: duplicate keys, numbers, strings and bytes that canonical JSON
// refuses or the JSON grammar itself refuses.
func mutJSON(c *tcase) ([]byte, string) {
	raw := c.o.render()
	insert := func(member string) []byte { // right after the opening brace of content
		i := bytes.Index(raw, []byte(`"content":{`))
		if i < 0 {
			return nil
		}
		i += len(`"content":{`)
		sep := ","
		if raw[i] == '}' {
			sep = ""
		}
		out := append([]byte(nil), raw[:i]...)
		out = append(out, member+sep...)
		return append(out, raw[i:]...)
	}
	k := c.r.Intn(16)
	switch k {
	case 0: // duplicate top-level key
		f := c.pick("depth", "type", "sender", "content")
		return append([]byte(`{`+js(f)+`:`+c.o[f]+`,`), raw[1:]...), "json=dup-top:" + f
	case 1:
		return insert(`"x":1,"x":2`), "json=dup-content"
	case 2:
		val := c.pick("1.5", "2.0", "1e3", "-0", "9007199254740992", "-9007199254740992", "9007199254740991",
			"-9007199254740991", "18446744073709551616", "1E+2", "0.1e1")
		return insert(`"n":` + val), "json=number:" + val
	case 3:
		val := c.pick(`"\ud800"`, `"\udc00x"`, `"\ud83d\ude00"`, `"\u0000"`, `"\u00e9"`, `"\/"`, `"\u0041"`)
		return insert(`"s":` + val), "json=string:" + val
	case 4:
		b := c.pick("\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\x7f")
		return insert(`"s":"` + b + `"`), fmt.Sprintf("json=bytes:%q", b)
	case 5:
		return insert(`"s":"a` + c.pick("\x01", "\n", "\t") + `"`), "json=raw-control"
	case 6:
		tail := c.pick(" ", "\n", "x", "{}", "\x00")
		return append(raw, tail...), fmt.Sprintf("json=trailing:%q", tail)
	case 7:
		return append([]byte("\xef\xbb\xbf"), raw...), "json=bom"
	case 8:
		return []byte(c.pick(`[]`, `"x"`, `1`, `null`, ``, `{`, `[{}]`)), "json=not-object"
	case 9:
		return bytes.ReplaceAll(raw, []byte(`,`), []byte(" ,\n ")), "json=whitespace"
	case 10: // keys out of order: move the first member to the end
		o := c.o.copy()
		first := "auth_events"
		v := o[first]
		delete(o, first)
		r := o.render()
		return append(r[:len(r)-1], []byte(`,"auth_events":`+v+`}`)...), "json=key-order"
	case 11:
		d := 10 + c.r.Intn(2)*500
		return insert(`"deep":` + strings.Repeat("[", d) + strings.Repeat("]", d)), fmt.Sprintf("json=nesting:%d", d)
	case 12:
		val := c.pick("NaN", "Infinity", "-Infinity", "01", "+1", "0x10", ".5", "1.", "--1", "true1")
		return insert(`"n":` + val), "json=bad-number:" + val
	case 13: // duplicate inside hashes / signatures
		return bytes.Replace(raw, []byte(`"hashes":{`), []byte(`"hashes":{"sha256":"x",`), 1), "json=dup-hashes"
	case 14: // a key with an escape that canonical form writes otherwise
		return insert(`"\u0061b":1`), "json=escaped-key"
	default: // duplicate key with the same value
		return insert(`"y":1,"y":1`), "json=dup-same"
	}
}

// mutV12 covers the v12 room ID rules: create with or without room_id, others without one,
// room IDs of other versions' format.
func mutV12(c *tcase) ([]byte, string) {
	o := c.o.copy()
	var label string
	switch c.r.Intn(5) {
	case 0:
		o["room_id"] = c.pick(`"!room:a.example"`, `""`, `5`, `null`, js("!"+strings.Repeat("A", 43)))
		label = "v12=room_id:" + o["room_id"]
	case 1:
		delete(o, "room_id")
		label = "v12=no-room_id"
	case 2:
		o["type"] = `"m.room.create"`
		o["state_key"] = `""`
		delete(o, "room_id")
		label = "v12=as-create-without-room_id"
	case 3:
		o["type"] = `"m.room.create"`
		delete(o, "state_key")
		label = "v12=create-without-state_key"
	default:
		o["type"] = c.pick(`"m.room.creat"`, `"m.room.create "`, `"M.room.create"`)
		label = "v12=almost-create:" + o["type"]
	}
	return c.sign(o).render(), label
}

// ---------------------------------------------------------------- value mutations (pduref)

// topDup writes the member key:val before the first member of raw (a top-level object), so that
// the key occurs twice when raw already has it: the first occurrence is the inserted one.
func topDup(raw []byte, key, val string) []byte {
	return append([]byte(`{`+js(key)+`:`+val+`,`), raw[1:]...)
}

// objDup does the same inside the object value of the top-level member obj.
func objDup(raw []byte, obj, key, val string) []byte {
	pre := []byte(`"` + obj + `":{`)
	i := bytes.Index(raw, pre)
	if i < 0 {
		return nil
	}
	i += len(pre)
	sep := ","
	if raw[i] == '}' {
		sep = ""
	}
	out := append([]byte(nil), raw[:i]...)
	out = append(out, js(key)+":"+val+sep...)
	return append(out, raw[i:]...)
}

// mutDupVal gives a key twice with two different values (v1-5 accept it: which one is read?),
// at the top level and inside content, hashes, signatures and unsigned.
func mutDupVal(c *tcase) ([]byte, string) {
	raw := c.o.render()
	switch c.r.Intn(9) {
	case 0:
		f := c.pick("sender", "type", "room_id", "origin")
		return topDup(raw, f, js("@dup:first.example")), "dupval=top:" + f
	case 1:
		return topDup(raw, "depth", "7"), "dupval=top:depth"
	case 2:
		return topDup(raw, "origin_server_ts", "12345"), "dupval=top:origin_server_ts"
	case 3:
		o := c.o.copy()
		o["state_key"] = `"second"`
		return topDup(o.render(), "state_key", `"first"`), "dupval=top:state_key"
	case 4:
		return topDup(raw, "content", `{"first":true}`), "dupval=top:content"
	case 5:
		f := c.pick("membership", "redacts", "body", "x")
		return objDup(raw, "content", f, js("first")), "dupval=content:" + f
	case 6:
		return objDup(raw, "hashes", "sha256", js("Zmlyc3Q")), "dupval=hashes"
	case 7:
		o := c.o.copy()
		o["unsigned"] = `{"age":2}`
		return objDup(o.render(), "unsigned", "age", "1"), "dupval=unsigned"
	default:
		srv := "a.example"
		var sigs map[string]json.RawMessage
		if json.Unmarshal([]byte(c.o["signatures"]), &sigs) == nil {
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
func mutEscape(c *tcase) ([]byte, string) {
	o := c.o.copy()
	switch c.r.Intn(7) {
	case 6: // a top-level key the format does not define, with odd characters (HasKey)
		k := c.pick(oddStrings...)
		o[k] = c.pick(`1`, `null`, `"x"`, `{}`)
		return c.sign(o).render(), fmt.Sprintf("escape=top-key:%q", k)
	case 0: // escaped top-level keys: "\u0074ype" is "type"
		f := c.pick("type", "sender", "content", "depth", "state_key", "room_id", "hashes", "signatures")
		if v, ok := o[f]; ok {
			delete(o, f)
			raw := o.render()
			return append([]byte(`{`+escapeAll(f)+`:`+v+`,`), raw[1:]...), "escape=key:" + f
		}
		return o.render(), "escape=key-absent:" + f
	case 1: // every string value of the event written with escapes
		var sb strings.Builder
		raw := c.o.render()
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var m any
		if dec.Decode(&m) != nil {
			return raw, "escape=all-strings:undecodable"
		}
		writeEscaped(&sb, m)
		return []byte(sb.String()), "escape=all-strings"
	case 2: // odd but valid characters in the string fields (re-signed)
		f := c.pick("sender", "type", "state_key", "room_id", "origin", "redacts", "event_id")
		s := c.pick(oddStrings...)
		var cur string
		if json.Unmarshal([]byte(o[f]), &cur) != nil {
			cur = "x"
		}
		o[f] = js(cur + s)
		return c.sign(o).render(), fmt.Sprintf("escape=value:%s:%q", f, s)
	case 3: // content with odd keys and values, escaped in the input
		k := c.pick(oddStrings...)
		val := c.pick(oddStrings...)
		return objDupEsc(c.o.render(), k, val), fmt.Sprintf("escape=content:%q:%q", k, val)
	case 4: // content.membership / redacts / body written with escapes
		k := c.pick("membership", "redacts", "body", "join_rule")
		val := c.pick("join", "leave", "$x:a.example", "😀", "a\"b")
		return objDupEsc(c.o.render(), k, val), fmt.Sprintf("escape=content:%q:%q", k, val)
	default: // signatures with odd server names and key IDs
		srv := c.pick("a.example", "é.example", "Z.example", "a\"b", "😀", "", "a.example:8448", "[::1]")
		kid := c.pick("ed25519:1", "ed25519:é", "", "ed25519:\x01")
		o["signatures"] = `{` + js(srv) + `:{` + js(kid) + `:"c2ln"},"a.example":{"ed25519:0":"c2ln"}}`
		return o.render(), fmt.Sprintf("escape=signatures:%q:%q", srv, kid)
	}
}

// objDupEsc inserts key:val (both written with escapes) as the first member of content; if the
// key is already there, it now occurs twice.
func objDupEsc(raw []byte, key, val string) []byte {
	pre := []byte(`"content":{`)
	i := bytes.Index(raw, pre)
	if i < 0 {
		return raw
	}
	i += len(pre)
	sep := ","
	if raw[i] == '}' {
		sep = ""
	}
	out := append([]byte(nil), raw[:i]...)
	out = append(out, escapeAll(key)+":"+escapeAll(val)+sep...)
	return append(out, raw[i:]...)
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
func mutStateKey(c *tcase) ([]byte, string) {
	o := c.o.copy()
	val := c.pick("absent", `""`, `null`, `"x"`, `"@alice:a.example"`, `"é😀"`, `"\u0000"`, `" "`, `0`, `[]`)
	if val == "absent" {
		delete(o, "state_key")
	} else {
		o["state_key"] = val
	}
	if c.r.Intn(3) == 0 {
		o["type"] = c.pick(`"m.room.create"`, `"m.room.member"`, `"m.room.message"`, `"m.room.power_levels"`)
	}
	return c.sign(o).render(), "statekey=" + val + ":" + o["type"]
}

func setContent(o obj, key, val string) {
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
func mutMembership(c *tcase) ([]byte, string) {
	o := c.o.copy()
	val := c.pick("absent", `"join"`, `"leave"`, `"JOIN"`, `""`, `null`, `1`, `true`, `["join"]`, `{"a":"join"}`, `"knock"`, `"x"`)
	setContent(o, "membership", val)
	if c.r.Intn(3) == 0 {
		o["type"] = c.pick(`"m.room.member"`, `"m.room.message"`, `"m.room.create"`)
		if c.r.Intn(2) == 0 {
			o["state_key"] = `"@bob:b.example"`
		}
	}
	if c.r.Intn(4) == 0 {
		o["membership"] = c.pick(`"join"`, `"ban"`, `5`)
	}
	return c.sign(o).render(), "membership=" + val + ":" + o["type"]
}

// mutRedacts: redacts top-level, in content, both, neither, of other types, on redactions and
// on other events.
func mutRedacts(c *tcase) ([]byte, string) {
	o := c.o.copy()
	if c.r.Intn(4) != 0 {
		o["type"] = `"m.room.redaction"`
		delete(o, "state_key")
	}
	top := c.pick("absent", `"$top:a.example"`, `"`+"$"+strings.Repeat("T", 43)+`"`, `""`, `5`, `null`, `{}`)
	inContent := c.pick("absent", `"$content:a.example"`, `"`+"$"+strings.Repeat("C", 43)+`"`, `""`, `5`, `null`, `["$x"]`)
	delete(o, "redacts")
	if top != "absent" {
		o["redacts"] = top
	}
	setContent(o, "redacts", inContent)
	return c.sign(o).render(), fmt.Sprintf("redacts=top:%s:content:%s:%s", top, inContent, o["type"])
}

// mutUnsigned: unsigned of each type and shape.
func mutUnsigned(c *tcase) ([]byte, string) {
	o := c.o.copy()
	val := c.pick("absent", `{}`, `{"age":5}`, `{"age":"5"}`, `{"b":1,"a":{"y":2,"x":1}}`, `null`, `5`, `"x"`, `[]`,
		`{"age_ts":1000000,"redacted_because":{"type":"m.room.redaction"}}`, `{"é":"😀","\u0001":"\u0000"}`, `{"prev_content":{"membership":"join"}}`)
	if val == "absent" {
		delete(o, "unsigned")
	} else {
		o["unsigned"] = val
	}
	return c.sign(o).render(), "unsigned=" + val
}

// mutOrigin: the deprecated top-level origin of each type.
func mutOrigin(c *tcase) ([]byte, string) {
	o := c.o.copy()
	val := c.pick("absent", `"a.example"`, `""`, `"é"`, `5`, `null`, `{}`, `[]`, `true`)
	if val == "absent" {
		delete(o, "origin")
	} else {
		o["origin"] = val
	}
	return c.sign(o).render(), "origin=" + val
}

// mutSigSet: signatures of several servers and keys, given in any order, some empty.
func mutSigSet(c *tcase) ([]byte, string) {
	o := c.o.copy()
	servers := []string{"b.example", "a.example", "A.example", "a.example:8448", "z", "é.example", "1.2.3.4", "[::1]", "a-b.example", "😀"}
	keys := []string{"ed25519:1", "ed25519:0", "ed25519:a", "ed25519:A", "curve:1", "ed25519:é", "ed25519:10", "ed25519:9"}
	n := 1 + c.r.Intn(5)
	parts := []string{}
	for i := 0; i < n; i++ {
		srv := servers[c.r.Intn(len(servers))]
		var ks []string
		for j := c.r.Intn(4); j > 0; j-- {
			k := keys[c.r.Intn(len(keys))]
			ks = append(ks, js(k)+`:`+js(fmt.Sprintf("sig%d%d", i, j)))
		}
		parts = append(parts, js(srv)+`:{`+strings.Join(ks, ",")+`}`)
	}
	// written in drawing order (not sorted), duplicates possible (v1-5: the last counts)
	o["signatures"] = "{" + strings.Join(parts, ",") + "}"
	raw := o.render()
	return raw, fmt.Sprintf("sigset=%d", n)
}

// mutPairs: v1-2 pairs of odd shapes; v3+ lists with unusual IDs.
func mutPairs(c *tcase) ([]byte, string) {
	o := c.o.copy()
	f := c.pick("prev_events", "auth_events")
	h := `{"sha256":"` + authgen.DummyHash + `"}`
	var items []string
	for k := c.r.Intn(4); k >= 0; k-- {
		id := js(c.pick("$a:a.example", "$é:a.example", "$"+strings.Repeat("Q", 43), "", "$", c.b.FakeID(), "$x\u0001:a.example"))
		if c.ver <= 2 {
			items = append(items, "["+id+","+c.pick(h, `{}`, `{"sha256":5}`, js("hash"), `{"sha256":"x","sha512":"y"}`)+"]")
		} else {
			items = append(items, id)
		}
	}
	o[f] = "[" + strings.Join(items, ",") + "]"
	return c.sign(o).render(), "pairs=" + f
}

// mutIntVal: depth and origin_server_ts at the edges that should be accepted and read exactly.
func mutIntVal(c *tcase) ([]byte, string) {
	o := c.o.copy()
	f := c.pick("depth", "origin_server_ts")
	val := c.pick("0", "1", "-1", "9007199254740991", "-9007199254740991", "9007199254740990", "4294967296",
		"9223372036854775807", "-9223372036854775808", "2147483648", "1.0", "1e2", "-0", "100", "0.5")
	o[f] = val
	return c.sign(o).render(), fmt.Sprintf("intval=%s:%s", f, val)
}

// mutContentVal: content members of every JSON type, nested, with numbers in every notation.
func mutContentVal(c *tcase) ([]byte, string) {
	raw := c.o.render()
	val := c.pick(`1.0`, `1e2`, `1E+2`, `-0`, `0.1`, `12345678901234567890`, `-9007199254740991`, `[1,{"b":1,"a":2}]`,
		`{"z":1,"y":{"x":[]}}`, `null`, `true`, `"\ud83d\ude00"`, `"\u00e9"`, `{}`, `[]`, `1e400`, `"a\u0000b"`)
	k := c.pick("n", "membership", "body", "redacts", "")
	return objDup(raw, "content", k, val), fmt.Sprintf("contentval=%q:%s", k, val)
}

// mutV12Room: v12 creates with and without room_id, with several state keys (Room()).
func mutV12Room(c *tcase) ([]byte, string) {
	o := c.o.copy()
	o["type"] = `"m.room.create"`
	sk := c.pick(`""`, "absent", `"x"`)
	if sk == "absent" {
		delete(o, "state_key")
	} else {
		o["state_key"] = sk
	}
	rid := c.pick("absent", "absent", `"!room:a.example"`, `""`)
	if rid == "absent" {
		delete(o, "room_id")
	} else {
		o["room_id"] = rid
	}
	return c.sign(o).render(), "v12room=sk:" + sk + ":room_id:" + rid
}

// shadowFields are keys of the event's own fields, written where they are not the event's:
// inside content, unsigned, an extra top-level object that sorts first, nested deeper, as text
// inside strings, and as near-miss names.
var shadowFields = []string{"type", "state_key", "room_id", "sender", "content", "depth", "origin_server_ts",
	"redacts", "membership", "hashes", "signatures", "unsigned", "prev_events", "auth_events", "event_id", "origin"}

func shadowObj(c *tcase) string {
	var parts []string
	for _, f := range shadowFields {
		if c.r.Intn(2) == 0 {
			continue
		}
		var val string
		switch f {
		case "content", "hashes", "signatures", "unsigned":
			val = c.pick(`{"membership":"ban","redacts":"$evil:e.example","sha256":"ZXZpbA"}`, `{"e.example":{"ed25519:1":"ZXZpbA"}}`, `{}`)
		case "depth", "origin_server_ts":
			val = c.pick(`666`, `-1`, `"666"`)
		case "prev_events", "auth_events":
			val = c.pick(`["$evil:e.example"]`, `[["$evil:e.example",{}]]`)
		default:
			val = c.pick(`"evil"`, `"$evil:e.example"`, `"@evil:e.example"`, `"ban"`, `5`, `null`)
		}
		parts = append(parts, js(f)+":"+val)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// mutShadow puts the event's field names where a scanner that matched keys by their text, not
// by their position in the top-level object, would read them.
func mutShadow(c *tcase) ([]byte, string) {
	o := c.o.copy()
	var label string
	switch c.r.Intn(6) {
	case 0: // a top-level object that sorts before every field
		o[c.pick("aaa", "\u0001", "Z", "0")] = shadowObj(c)
		label = "shadow=top-object"
	case 1: // inside content (before and after "membership")
		var content map[string]json.RawMessage
		if json.Unmarshal([]byte(o["content"]), &content) != nil || content == nil {
			content = map[string]json.RawMessage{}
		}
		content[c.pick("a", "x", "m.relates_to", "membershi", "membership ")] = json.RawMessage(shadowObj(c))
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
		content["body"] = json.RawMessage(js(c.pick(`","membership":"ban`, `"}, "state_key":"evil","x":{"`,
			`\",\"redacts\":\"$evil:e.example`, `,"type":"m.room.create"`, `{"membership":"ban"}`)))
		o["content"] = string(difftool.Enc(content))
		label = "shadow=string"
	case 4: // near-miss top-level names
		k := c.pick("types", "typ", "type ", "Type", "state_key_", "state_ke", "room_id2", "sender\u0000", "contents", "depth_",
			"redacts2", "redact", "origin_server_ts_", "signature", "hash", "unsigned_", "prev_event", "auth_events_")
		o[k] = c.pick(`"evil"`, `{"membership":"ban"}`, `5`, `["$evil:e.example"]`)
		label = fmt.Sprintf("shadow=near-miss:%q", k)
	default: // the top-level fields of a whole event nested in prev_content
		o["unsigned"] = `{"prev_content":` + o["content"] + `,"redacted_because":` + string(c.o.render()) + `}`
		label = "shadow=unsigned-event"
	}
	return c.sign(o).render(), label
}

// mutManyKeys gives content (or unsigned, or signatures) hundreds to thousands of members, so
// that the reused canonicaljson.Index grows past what the next, smaller, event needs.
func mutManyKeys(c *tcase) ([]byte, string) {
	o := c.o.copy()
	n := []int{100, 1000, 1025, 3000}[c.r.Intn(4)]
	where := c.pick("content", "unsigned", "signatures", "top")
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
		return o.render(), fmt.Sprintf("manykeys=%s:%d", where, n)
	}
	return c.sign(o).render(), fmt.Sprintf("manykeys=%s:%d", where, n)
}

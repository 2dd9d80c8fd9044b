//go:build goexperiment.jsonv2

package pducmp

// An ordered JSON builder that can carry raw (possibly odd) tokens, and the event generator.

import (
	"crypto/sha256"
	"fmt"
	"math/rand"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

type KV struct {
	K   string
	Raw bool // K is written as is (already quoted, maybe with escapes)
	V   any
}
type Obj []KV
type Arr []any
type RawTok string // written as is

func (o Obj) get(k string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].K == k && !o[i].Raw {
			return o[i].V, true
		}
	}
	return nil, false
}

func (o Obj) set(k string, v any) Obj {
	for i := range o {
		if o[i].K == k && !o[i].Raw {
			o[i].V = v
			return o
		}
	}
	return append(o, KV{K: k, V: v})
}

func (o Obj) del(k string) Obj {
	out := Obj{}
	for _, kv := range o {
		if kv.K == k && !kv.Raw {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (o Obj) clone() Obj { return cloneV(o).(Obj) }

func cloneV(v any) any {
	switch x := v.(type) {
	case Obj:
		out := make(Obj, len(x))
		for i, kv := range x {
			out[i] = KV{kv.K, kv.Raw, cloneV(kv.V)}
		}
		return out
	case Arr:
		out := make(Arr, len(x))
		for i, e := range x {
			out[i] = cloneV(e)
		}
		return out
	}
	return v
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func write(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case string:
		b.WriteString(quote(x))
	case RawTok:
		b.WriteString(string(x))
	case Obj:
		b.WriteByte('{')
		for i, kv := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if kv.Raw {
				b.WriteString(kv.K)
			} else {
				b.WriteString(quote(kv.K))
			}
			b.WriteByte(':')
			write(b, kv.V)
		}
		b.WriteByte('}')
	case Arr:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			write(b, e)
		}
		b.WriteByte(']')
	default:
		panic(fmt.Sprintf("write: %T", v)) // invariant: the generator builds values of the types above only
	}
}

func enc(v any) []byte {
	var b strings.Builder
	write(&b, v)
	return []byte(b.String())
}

func randHash(r *rand.Rand) []byte {
	h := sha256.Sum256([]byte(strconv.Itoa(r.Int())))
	return h[:]
}

var servers = []string{"a.example", "b.example", "c.example"}

func user(r *rand.Rand) string {
	return "@" + difftool.Pick(r, "alice", "bob", "carol") + ":" + difftool.Pick(r, servers...)
}

func eventRef(r *rand.Rand, ver int) any {
	h := randHash(r)
	switch {
	case ver <= 2:
		return Arr{"$" + strconv.Itoa(r.Intn(1000)) + ":" + difftool.Pick(r, servers...), Obj{{K: "sha256", V: difftool.B64(h)}}}
	case ver == 3:
		return "$" + difftool.B64(h)
	default:
		return "$" + difftool.B64URL(h)
	}
}

var eventTypes = []string{"m.room.create", "m.room.member", "m.room.join_rules", "m.room.power_levels",
	"m.room.history_visibility", "m.room.redaction", "m.room.aliases", "m.room.message", "m.room.name",
	"m.room.third_party_invite", "m.room.topic", "org.example.custom"}

// content keys tried per type: every key some version keeps, plus others.
var contentKeys = map[string][]string{
	"m.room.create":             {"creator", "room_version", "m.federate", "predecessor", "additional_creators", "type", "foo"},
	"m.room.member":             {"membership", "join_authorised_via_users_server", "third_party_invite", "displayname", "avatar_url", "reason", "is_direct", "foo"},
	"m.room.join_rules":         {"join_rule", "allow", "foo"},
	"m.room.power_levels":       {"ban", "events", "events_default", "invite", "kick", "redact", "state_default", "users", "users_default", "notifications", "foo"},
	"m.room.history_visibility": {"history_visibility", "foo"},
	"m.room.redaction":          {"redacts", "reason", "foo"},
	"m.room.aliases":            {"aliases", "foo"},
	"m.room.message":            {"body", "msgtype", "membership", "aliases", "foo"},
	"m.room.name":               {"name", "foo"},
	"m.room.third_party_invite": {"display_name", "key_validity_url", "public_key", "public_keys", "foo"},
	"m.room.topic":              {"topic", "foo"},
	"org.example.custom":        {"membership", "join_rule", "users", "foo"},
}

// sensible values for a content key, or a random value.
func contentValue(r *rand.Rand, typ, k string) any {
	if r.Intn(6) == 0 {
		return randValue(r, 2)
	}
	switch k {
	case "membership":
		return difftool.Pick(r, "join", "invite", "leave", "ban", "knock")
	case "join_authorised_via_users_server", "creator":
		return user(r)
	case "third_party_invite":
		o := Obj{{K: "display_name", V: "x"}}
		if r.Intn(4) != 0 {
			o = append(o, KV{K: "signed", V: Obj{{K: "mxid", V: user(r)}, {K: "token", V: "tok" + strconv.Itoa(r.Intn(3))}, {K: "signatures", V: Obj{}}}})
		}
		return o
	case "room_version":
		return strconv.Itoa(1 + r.Intn(12))
	case "join_rule":
		return difftool.Pick(r, "public", "invite", "restricted", "knock")
	case "allow":
		return Arr{Obj{{K: "type", V: "m.room_membership"}, {K: "room_id", V: "!other:a.example"}}}
	case "ban", "kick", "redact", "invite", "events_default", "state_default", "users_default":
		return r.Intn(101)
	case "events", "notifications":
		return Obj{{K: "m.room.name", V: 50}}
	case "users":
		return Obj{{K: user(r), V: 100}}
	case "history_visibility":
		return difftool.Pick(r, "shared", "joined", "world_readable")
	case "redacts":
		return eventRef(r, 4)
	case "aliases":
		return Arr{"#a:a.example"}
	}
	return randValue(r, 2)
}

func randValue(r *rand.Rand, depth int) any {
	n := r.Intn(9)
	if depth <= 0 && n >= 6 {
		n = r.Intn(6)
	}
	switch n {
	case 0:
		return nil
	case 1:
		return r.Intn(2) == 0
	case 2:
		return r.Intn(2000) - 1000
	case 3:
		return difftool.Pick(r, "x", "", "héllo", "a\u2028b", "tab\there", "\u007f", "emoji 😀", "<&>")
	case 4:
		return difftool.Pick(r, "x", "y")
	case 5:
		return int64(1) << 52
	case 6, 7:
		o := Obj{}
		for i := r.Intn(3); i > 0; i-- {
			o = append(o, KV{K: difftool.Pick(r, "a", "b", "signed", "membership", "Z", "é"), V: randValue(r, depth-1)})
		}
		return dedupe(o)
	default:
		a := Arr{}
		for i := r.Intn(3); i > 0; i-- {
			a = append(a, randValue(r, depth-1))
		}
		return a
	}
}

func dedupe(o Obj) Obj {
	seen := map[string]bool{}
	out := Obj{}
	for _, kv := range o {
		if seen[kv.K] {
			continue
		}
		seen[kv.K] = true
		out = append(out, kv)
	}
	return out
}

func isState(typ string) bool {
	return typ != "m.room.message" && typ != "m.room.redaction"
}

// Gen is one generated event with the single odd feature applied to it ("" when none).
type Gen struct {
	Ver     int
	Type    string
	Ev      Obj
	Feature string
	Base    Obj // the event before the odd feature was applied
}

func genEvent(r *rand.Rand, ver int) Gen {
	typ := difftool.Pick(r, eventTypes...)
	ev := Obj{}
	if ver <= 2 {
		ev = append(ev, KV{K: "event_id", V: "$" + strconv.Itoa(r.Intn(100000)) + ":" + difftool.Pick(r, servers...)})
	}
	if !(ver >= 12 && typ == "m.room.create") {
		ev = append(ev, KV{K: "room_id", V: "!room:a.example"})
	}
	ev = append(ev, KV{K: "type", V: typ}, KV{K: "sender", V: user(r)})
	if isState(typ) || r.Intn(10) == 0 {
		sk := ""
		if typ == "m.room.member" {
			sk = user(r)
		}
		ev = append(ev, KV{K: "state_key", V: sk})
	}
	content := Obj{}
	for _, k := range contentKeys[typ] {
		if r.Intn(2) == 0 {
			content = append(content, KV{K: k, V: contentValue(r, typ, k)})
		}
	}
	if typ == "m.room.member" {
		if _, ok := content.get("membership"); !ok && r.Intn(3) > 0 {
			content = append(content, KV{K: "membership", V: "join"})
		}
	}
	ev = append(ev, KV{K: "content", V: content})
	nref := r.Intn(3)
	prev, auth := Arr{}, Arr{}
	for i := 0; i < nref; i++ {
		prev = append(prev, eventRef(r, ver))
		auth = append(auth, eventRef(r, ver))
	}
	ev = append(ev, KV{K: "prev_events", V: prev}, KV{K: "auth_events", V: auth},
		KV{K: "depth", V: 1 + r.Intn(100)}, KV{K: "origin_server_ts", V: int64(1700000000000) + int64(r.Intn(1000000))})
	ev = append(ev, KV{K: "hashes", V: Obj{{K: "sha256", V: difftool.B64(randHash(r))}}})
	ev = append(ev, KV{K: "signatures", V: Obj{{K: difftool.Pick(r, servers...), V: Obj{{K: "ed25519:1", V: difftool.B64(append(randHash(r), randHash(r)...))}}}}})
	if r.Intn(2) == 0 {
		ev = append(ev, KV{K: "origin", V: difftool.Pick(r, servers...)})
	}
	if r.Intn(2) == 0 {
		ev = append(ev, KV{K: "unsigned", V: Obj{{K: "age", V: r.Intn(1000)}}})
	}
	if typ == "m.room.redaction" && (ver <= 10 || r.Intn(3) == 0) {
		ev = append(ev, KV{K: "redacts", V: eventRef(r, 4)})
	}
	if r.Intn(8) == 0 {
		ev = append(ev, KV{K: "membership", V: "join"})
	}
	if r.Intn(12) == 0 {
		ev = append(ev, KV{K: "prev_state", V: Arr{}})
	}
	if r.Intn(3) == 0 {
		ev = append(ev, KV{K: difftool.Pick(r, "foo", "age_ts", "outlier", "destinations", "Type"), V: randValue(r, 1)})
	}
	g := Gen{Ver: ver, Type: typ, Ev: ev}
	if r.Intn(3) == 0 {
		g.Base = ev.clone()
		applyOdd(r, &g)
	}
	return g
}

// the odd features; each event carries at most one.
var oddFeatures = []string{
	"event_id-v3plus", "content-array", "content-string", "content-null", "content-missing",
	"state_key-null", "hashes-null", "hashes-empty", "hashes-padded", "hashes-url", "hashes-notb64", "hashes-extra-key",
	"hashes-trailing-bits", "float", "float-unsigned", "bigint", "bigint-unsigned", "minus-zero", "dup-content-key", "dup-top-key",
	"lone-surrogate", "invalid-utf8", "escaped-kept-key", "escaped-type", "tpi-no-signed", "tpi-nonobject",
	"drop-depth", "drop-sender", "drop-type", "drop-auth_events", "drop-prev_events", "drop-origin_server_ts",
	"drop-room_id", "room_id-empty", "type-nonstring", "sticky", "signatures-empty", "signatures-null",
	"redacts-nonstring", "nested-deep-kept", "control-escape", "slash-escape", "upper-hex-escape", "depth-float", "v1-ref-string",
	"sender-nonstring", "kept-key-null", "unicode-key-order",
}

func applyOdd(r *rand.Rand, g *Gen) {
	f := difftool.Pick(r, oddFeatures...)
	ev := g.Ev
	content, _ := ev.get("content")
	co, _ := content.(Obj)
	setContent := func(c Obj) { ev = ev.set("content", c) }
	switch f {
	case "event_id-v3plus":
		if g.Ver <= 2 {
			f = ""
			break
		}
		ev = ev.set("event_id", "$abc:a.example")
	case "content-array":
		ev = ev.set("content", Arr{Obj{{K: "membership", V: "join"}}})
	case "content-string":
		ev = ev.set("content", "join")
	case "content-null":
		ev = ev.set("content", nil)
	case "content-missing":
		ev = ev.del("content")
	case "state_key-null":
		ev = ev.set("state_key", nil)
	case "hashes-null":
		ev = ev.set("hashes", nil)
	case "hashes-empty":
		ev = ev.set("hashes", Obj{})
	case "hashes-padded":
		ev = ev.set("hashes", Obj{{K: "sha256", V: difftool.B64(randHash(r)) + "="}})
	case "hashes-url":
		h := randHash(r)
		h[0] = 0xfb // make sure a URL-safe character appears
		ev = ev.set("hashes", Obj{{K: "sha256", V: difftool.B64URL(h)}})
	case "hashes-notb64":
		ev = ev.set("hashes", Obj{{K: "sha256", V: "not base64!"}})
	case "hashes-extra-key":
		ev = ev.set("hashes", Obj{{K: "sha256", V: difftool.B64(randHash(r))}, {K: "sha512", V: "abc"}})
	case "hashes-trailing-bits":
		s := difftool.B64(randHash(r))
		// last char of 43 chars carries 2 unused bits: set them
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", s[42])
		s = s[:42] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last|1])
		ev = ev.set("hashes", Obj{{K: "sha256", V: s}})
	case "float":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok(difftool.Pick(r, "1.5", "1e3", "1.0", "2E0"))}).dedupeLast())
	case "float-unsigned":
		ev = ev.set("unsigned", Obj{{K: "age", V: RawTok("1.5")}})
	case "bigint":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok(difftool.Pick(r, "9007199254740993", "9223372036854775808", "-9007199254740992"))}).dedupeLast())
	case "bigint-unsigned":
		ev = ev.set("unsigned", Obj{{K: "age", V: RawTok("9007199254740993")}})
	case "minus-zero":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok("-0")}).dedupeLast())
	case "dup-content-key":
		k := difftool.Pick(r, contentKeys[g.Type]...)
		setContent(append(co, KV{K: k, V: "first"}, KV{K: k, V: contentValue(r, g.Type, k)}))
	case "dup-top-key":
		ev = append(ev, KV{K: "depth", V: 7})
	case "lone-surrogate":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok(`"a\ud800b"`)}).dedupeLast())
	case "invalid-utf8":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok("\"a\xffb\"")}).dedupeLast())
	case "escaped-kept-key":
		k := difftool.Pick(r, contentKeys[g.Type]...)
		co = co.del(k)
		esc := `"` + strings.Replace(k, "e", `\u0065`, 1) + `"`
		if !strings.Contains(k, "e") {
			esc = `"\u` + fmt.Sprintf("%04x", k[0]) + k[1:] + `"`
		}
		setContent(append(co, KV{K: esc, Raw: true, V: contentValue(r, g.Type, k)}))
	case "escaped-type":
		ev = ev.del("type")
		ev = append(ev, KV{K: "type", V: RawTok(`"` + strings.Replace(g.Type, "m.room.", `m.room\u002e`, 1) + `"`)})
	case "tpi-no-signed":
		if g.Type != "m.room.member" {
			f = ""
			break
		}
		setContent(co.set("third_party_invite", Obj{{K: "display_name", V: "x"}}))
	case "tpi-nonobject":
		if g.Type != "m.room.member" {
			f = ""
			break
		}
		setContent(co.set("third_party_invite", difftool.Pick[any](r, "x", Arr{Obj{{K: "signed", V: Obj{}}}}, 5, nil)))
	case "drop-depth", "drop-sender", "drop-type", "drop-auth_events", "drop-prev_events", "drop-origin_server_ts", "drop-room_id":
		ev = ev.del(strings.TrimPrefix(f, "drop-"))
	case "room_id-empty":
		ev = ev.set("room_id", "")
	case "type-nonstring":
		ev = ev.set("type", difftool.Pick[any](r, 5, nil, Obj{}, Arr{}))
	case "sticky":
		ev = ev.set("msc4354_sticky", Obj{{K: "duration_ms", V: 1000}})
	case "signatures-empty":
		ev = ev.set("signatures", Obj{})
	case "signatures-null":
		ev = ev.set("signatures", nil)
	case "redacts-nonstring":
		ev = ev.set("redacts", Obj{})
	case "nested-deep-kept":
		k := difftool.Pick(r, contentKeys[g.Type]...)
		var v any = Obj{{K: "a", V: Arr{nil, Obj{{K: "b", V: Arr{1, "x", Obj{}}}}, Arr{}}}, {K: "Z", V: true}}
		setContent(co.set(k, v))
	case "control-escape":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok(difftool.Pick(r, `"\u0001\b\f\n\r\t"`, `"\u001F\u007f"`, `"\u0000"`))}).dedupeLast())
	case "slash-escape":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok(`"a\/b\u00e9\u2028"`)}).dedupeLast())
	case "upper-hex-escape":
		setContent(append(co, KV{K: difftool.Pick(r, contentKeys[g.Type]...), V: RawTok(`"\u00E9\uD83D\uDE00"`)}).dedupeLast())
	case "depth-float":
		ev = ev.set("depth", RawTok(difftool.Pick(r, "5.0", "5e0")))
	case "v1-ref-string":
		if g.Ver > 2 {
			f = ""
			break
		}
		ev = ev.set("prev_events", Arr{Arr{"$1:a.example", "somehash"}})
	case "sender-nonstring":
		ev = ev.set("sender", 5)
	case "kept-key-null":
		k := difftool.Pick(r, contentKeys[g.Type]...)
		setContent(co.set(k, nil))
	case "unicode-key-order":
		setContent(append(co, KV{K: "\U0001F600", V: 1}, KV{K: "\uFF5E", V: 2}, KV{K: "é", V: 3}))
	}
	g.Ev = ev
	g.Feature = f
}

// dedupeLast keeps the last occurrence of each key.
func (o Obj) dedupeLast() Obj {
	out := Obj{}
	for i, kv := range o {
		later := false
		for _, kv2 := range o[i+1:] {
			if kv2.K == kv.K && kv2.Raw == kv.Raw {
				later = true
			}
		}
		if !later {
			out = append(out, kv)
		}
	}
	return out
}

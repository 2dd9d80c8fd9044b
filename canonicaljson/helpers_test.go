package canonicaljson_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roomproto/roomproto/internal/benchcorpus"
)

// corpusPath is testdata/signing/bench_corpus.json, the project's copy of the shared
// benchmark corpus ../shared/bench/corpus.json (see its README; signing's
// TestCorpusCopyIsTheShared checks they are the same): 18 signed events of a version 9 room.
const corpusPath = benchcorpus.Path

// corpusEvents returns the raw bytes of the corpus events, exactly as stored
// in the file; the test is skipped when the corpus is not there.
func corpusEvents(t testing.TB) [][]byte {
	t.Helper()
	c, err := benchcorpus.Read(corpusPath)
	if os.IsNotExist(err) {
		t.Skipf("%s not found", corpusPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c.Events
}

// messageEvent builds an m.room.message event as a server receives it over
// federation: keys in no particular order, a 1 KB body of non-ASCII text and
// HTML (with the escapes encoding/json and other encoders emit), mentions.
func messageEvent() []byte {
	var body strings.Builder
	for body.Len() < 1024 {
		body.WriteString(`Grüße aus Köln! 日本語のテキスト, ελληνικά, emoji 😀🎉 \"quoted\" \u003cb\u003ebold\u003c/b\u003e \u0026amp; \n`)
	}
	var html strings.Builder
	for html.Len() < 1024 {
		html.WriteString(`<p>Grüße <b>aus</b> Köln! <a href=\"https://matrix.to/#/@bob:b.example\">Bob</a> 日本語 😀</p>\n`)
	}
	return []byte(`{"type":"m.room.message","sender":"@alice:a.example","room_id":"!room:a.example",` +
		`"content":{"msgtype":"m.text","body":"` + body.String() + `","format":"org.matrix.custom.html",` +
		`"formatted_body":"` + html.String() + `","m.mentions":{"user_ids":["@bob:b.example","@carol:c.example"]}},` +
		`"origin_server_ts":1700000000123,"depth":4711,` +
		`"prev_events":["$Vk0i8BwS3xJq2cYyrYxQxQ0oZgb3e9kPqzqYpQlY9Zs"],` +
		`"auth_events":["$aXoDg6ORnqOwCMGCnzJEYAjWs2lvQFB5oh1Dc1ntkdc","$8R9aXK0pJq3tr0pl5K1KxIJ8T2dBnp0Se8v6bhIhYIs","$qJcLo5BhoIYqD2G0UzBN3O6CBtKsfEqkwEKzAZHuFsE"],` +
		`"hashes":{"sha256":"o+Ex1x2Kx5c0cQIDdTIvW9sDWKEpRsRQYRBwhUwZy5I"},` +
		`"signatures":{"a.example":{"ed25519:1":"bC1PvSyH3DfMvbGL+8MkpnbjsXmKMO1IVfIPaR4Xbm6E4kS6ItKiL+lBdz3t+uJvaXL7FdeFSVGuDzRa+TrTBA"}},` +
		`"unsigned":{"age_ts":1700000000200}}`)
}

// powerLevelsEvent builds an m.room.power_levels event with 50 users, in the
// layout a typical encoder produces (indented, keys unsorted).
func powerLevelsEvent() []byte {
	var users strings.Builder
	for i := 49; i >= 0; i-- { // reverse order: the worst case for sorting
		fmt.Fprintf(&users, "\n      \"@user%02d:%c.example\": %d", i, 'a'+rune(i%3), []int{0, 50, 100}[i%7%3])
		if i > 0 {
			users.WriteByte(',')
		}
	}
	return []byte(`{
  "type": "m.room.power_levels",
  "state_key": "",
  "sender": "@alice:a.example",
  "room_id": "!room:a.example",
  "content": {
    "users": {` + users.String() + `
    },
    "users_default": 0,
    "events": {
      "m.room.name": 50, "m.room.power_levels": 100, "m.room.history_visibility": 100,
      "m.room.canonical_alias": 50, "m.room.avatar": 50, "m.room.tombstone": 100,
      "m.room.server_acl": 100, "m.room.encryption": 100
    },
    "events_default": 0, "state_default": 50, "ban": 50, "kick": 50, "redact": 50, "invite": 0,
    "notifications": {"room": 50}
  },
  "origin_server_ts": 1700000000000,
  "depth": 3,
  "prev_events": ["$Vk0i8BwS3xJq2cYyrYxQxQ0oZgb3e9kPqzqYpQlY9Zs"],
  "auth_events": ["$aXoDg6ORnqOwCMGCnzJEYAjWs2lvQFB5oh1Dc1ntkdc", "$8R9aXK0pJq3tr0pl5K1KxIJ8T2dBnp0Se8v6bhIhYIs"],
  "hashes": {"sha256": "o+Ex1x2Kx5c0cQIDdTIvW9sDWKEpRsRQYRBwhUwZy5I"},
  "signatures": {"a.example": {"ed25519:1": "bC1PvSyH3DfMvbGL+8MkpnbjsXmKMO1IVfIPaR4Xbm6E4kS6ItKiL+lBdz3t+uJvaXL7FdeFSVGuDzRa+TrTBA"}},
  "unsigned": {"age_ts": 1700000000200}
}`)
}

// fixtureInputs returns every fixture input (spec examples and cases.json), the two benchmark
// events, and n documents of newDocGen(seed).
func fixtureInputs(t testing.TB, seed uint64, n int) [][]byte {
	var inputs [][]byte
	for _, c := range loadSpecExamples(t) {
		inputs = append(inputs, []byte(c.Input))
	}
	for _, c := range loadCases(t) {
		inputs = append(inputs, c.input(t))
	}
	inputs = append(inputs, messageEvent(), powerLevelsEvent())
	g := newDocGen(seed)
	for i := 0; i < n; i++ {
		doc, _ := g.doc()
		inputs = append(inputs, doc)
	}
	return inputs
}

// docGen generates random JSON documents without floats, -0 or unpaired
// surrogates, with random whitespace, escapes and key orders: inputs on which
// Canonical must agree with referenceCanonical.
type docGen struct {
	r        *rand.Rand
	b        []byte
	dupOK    bool // may this document repeat keys?
	hasDup   bool // did it?
	maxDepth int
}

func newDocGen(seed uint64) *docGen {
	return &docGen{r: rand.New(rand.NewPCG(seed, 0x5eed)), maxDepth: 6}
}

// doc returns a new document and whether it repeats a key in some object.
func (g *docGen) doc() ([]byte, bool) {
	g.b = g.b[:0]
	g.hasDup = false
	g.dupOK = g.r.IntN(4) == 0
	g.ws()
	g.value(0)
	g.ws()
	return bytes.Clone(g.b), g.hasDup
}

func (g *docGen) ws() {
	if g.r.IntN(3) != 0 {
		return
	}
	for n := g.r.IntN(3) + 1; n > 0; n-- {
		g.b = append(g.b, " \t\n\r"[g.r.IntN(4)])
	}
}

func (g *docGen) value(depth int) {
	k := g.r.IntN(6)
	if depth >= g.maxDepth {
		k = 2 + g.r.IntN(4)
	}
	switch k {
	case 0:
		g.object(depth + 1)
	case 1:
		g.array(depth + 1)
	case 2:
		g.encodeString(g.randString())
	case 3:
		g.integer()
	case 4:
		g.b = append(g.b, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	default:
		if g.r.IntN(2) == 0 {
			g.object(depth + 1)
		} else {
			g.encodeString(g.randString())
		}
	}
}

func (g *docGen) object(depth int) {
	g.b = append(g.b, '{')
	g.ws()
	n := g.r.IntN(7)
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		if i > 0 {
			g.b = append(g.b, ',')
			g.ws()
		}
		var key string
		for try := 0; ; try++ {
			key = g.randKey()
			if !seen[key] || (g.dupOK && g.r.IntN(2) == 0) || try > 50 {
				break
			}
		}
		if seen[key] {
			g.hasDup = true
		}
		seen[key] = true
		g.encodeString(key)
		g.ws()
		g.b = append(g.b, ':')
		g.ws()
		g.value(depth)
		g.ws()
	}
	g.b = append(g.b, '}')
}

func (g *docGen) array(depth int) {
	g.b = append(g.b, '[')
	g.ws()
	for i, n := 0, g.r.IntN(5); i < n; i++ {
		if i > 0 {
			g.b = append(g.b, ',')
			g.ws()
		}
		g.value(depth)
		g.ws()
	}
	g.b = append(g.b, ']')
}

func (g *docGen) integer() {
	const maxSafe = 1<<53 - 1
	var v int64
	switch g.r.IntN(6) {
	case 0:
		v = 0
	case 1:
		v = maxSafe
	case 2:
		v = -maxSafe
	case 3:
		v = g.r.Int64N(100) - 50
	default:
		v = g.r.Int64N(2*maxSafe+1) - maxSafe
	}
	g.b = fmt.Appendf(g.b, "%d", v)
}

// specialKeys are keys whose order tests code point (not UTF-16) ordering and
// the unescaped comparison of keys.
var specialKeys = []string{"a", "b", "A", "", "\ue000", "\uffff", "\uff5e", "😀", "\U00010000", "\U0010ffff",
	"\"", "\\", "#", "\x00", "\n", "\x1f", "\x7f", "é", "日", "a\"", "a#", "/", "\u2028"}

func (g *docGen) randKey() string {
	if g.r.IntN(2) == 0 {
		return specialKeys[g.r.IntN(len(specialKeys))]
	}
	return g.randString()
}

func (g *docGen) randString() string {
	var sb strings.Builder
	for n := g.r.IntN(10); n > 0; n-- {
		var r rune
		switch g.r.IntN(10) {
		case 0:
			r = rune(g.r.IntN(0x20))
		case 1:
			r = []rune{'"', '\\', '/', 0x7f, 0x2028, 0x2029, 0xfeff, 0xfffd}[g.r.IntN(8)]
		case 2:
			r = rune(0x80 + g.r.IntN(0x800-0x80))
		case 3:
			r = rune(0x800 + g.r.IntN(0xd800-0x800))
		case 4:
			r = rune(0xe000 + g.r.IntN(0x10000-0xe000))
		case 5:
			r = rune(0x10000 + g.r.IntN(0x110000-0x10000))
		default:
			r = rune(0x20 + g.r.IntN(0x7f-0x20))
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// encodeString writes s as a JSON string literal, choosing at random among
// the ways JSON allows to write each character.
func (g *docGen) encodeString(s string) {
	g.b = append(g.b, '"')
	for _, r := range s {
		short := map[rune]byte{'"': '"', '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't'}[r]
		mustEscape := r < 0x20 || r == '"' || r == '\\'
		switch {
		case short != 0 && g.r.IntN(2) == 0:
			g.b = append(g.b, '\\', short)
		case r == '/' && g.r.IntN(2) == 0:
			g.b = append(g.b, '\\', '/')
		case mustEscape || g.r.IntN(5) == 0:
			g.b = g.appendU(r)
		default:
			g.b = utf8.AppendRune(g.b, r)
		}
	}
	g.b = append(g.b, '"')
}

func (g *docGen) appendU(r rune) []byte {
	format := "\\u%04x"
	if g.r.IntN(2) == 0 {
		format = "\\u%04X"
	}
	if r >= 0x10000 {
		r -= 0x10000
		return fmt.Appendf(fmt.Appendf(g.b, format, 0xd800+(r>>10)), format, 0xdc00+(r&0x3ff))
	}
	return fmt.Appendf(g.b, format, r)
}

package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// M is a JSON object being built.
type M = difftool.M

// raw is a JSON literal written as it is (a float, a big integer, -0).
type raw string

// dup is an object whose members are written in this order, duplicates included.
type dup [][2]any

// signer is a server and one of its signing keys.
type signer struct {
	Server string
	Key    signing.SigningKey
}

// servers are the server names drawn: DNS names with and without ports, IPv4 and IPv6 literals.
var servers = []string{"a.example", "b.example:8448", "[1234:5678::abcd]:5678", "1.2.3.4", "c.example", "[::1]"}

// keyVersions are the key versions drawn for signing: the usual and the odd.
var keyVersions = []string{"1", "1", "1", "a_b", "Key9", "0", strings.Repeat("k", 255), "auto", "x-y", "a:b", "é", "a b", "", strings.Repeat("k", 256), "a.b", "a/b"}

// signerFor returns a signer of server with key version kv: the key of authgen.KeyFor for "1",
// else a key whose seed is the SHA-256 of "signref <kv> <server>" (authgen.KeyFor refuses key
// versions outside [a-zA-Z0-9_], which this harness draws on purpose).
func signerFor(server, kv string) signer {
	if kv == "1" {
		return signer{server, authgen.KeyFor(server, kv)}
	}
	seed := sha256.Sum256([]byte("signref " + kv + " " + server))
	return signer{server, signing.SigningKey{Version: kv, Private: ed25519.NewKeyFromSeed(seed[:])}}
}

var userNames = []string{"alice", "bob", "mod"}

func user(r *rand.Rand, srv string) string { return "@" + difftool.Pick(r, userNames...) + ":" + srv }

// strs are string values with escapes, non-ASCII and characters canonical JSON writes raw.
var strs = []string{
	"plain", "tab\there", "nl\nq\"bs\\", "ctl\u0001\u001f\u007f", "é日本語", "emoji 😀", "sep\u2028\u2029",
	"slash/</script>", "amp&<>", "nul\u0000", "bom\ufeff", "",
}

// oddKeys are object keys whose code point order differs from UTF-16 order or byte tricks.
var oddKeys = []string{"a", "B", "\uffff", "😀", "é", "日", "_", "a b", "\u0000k", "Z"}

func pickStr(r *rand.Rand) string { return difftool.Pick(r, strs...) }

// genEvent draws an event shaped for room version w (which may differ from the version it is
// signed as) with one or more of the corners of the audit.
func genEvent(r *rand.Rand, w int) (M, string) {
	srv := difftool.Pick(r, servers...)
	sender := user(r, srv)
	room := "!room:" + difftool.Pick(r, servers...)
	ev := M{
		"room_id":          room,
		"sender":           sender,
		"origin_server_ts": int64(1_700_000_000_000 + r.Intn(1000)),
		"depth":            int64(r.Intn(50) + 1),
		"hashes":           M{"sha256": difftool.B64(bytes.Repeat([]byte{byte(r.Intn(256))}, 32))},
		"signatures":       M{},
	}
	ids := func(n int) []any {
		out := []any{}
		for i := 0; i < n; i++ {
			var id string
			switch {
			case w <= 2:
				id = fmt.Sprintf("$e%d:%s", r.Intn(99), difftool.Pick(r, servers...))
			case w == 3:
				id = "$" + difftool.B64(bytes.Repeat([]byte{byte(r.Intn(256))}, 32))
			default:
				id = "$" + difftool.B64URL(bytes.Repeat([]byte{byte(r.Intn(256))}, 32))
			}
			if w <= 2 {
				out = append(out, []any{id, M{"sha256": "abc"}})
			} else {
				out = append(out, id)
			}
		}
		return out
	}
	ev["prev_events"] = ids(r.Intn(3))
	ev["auth_events"] = ids(r.Intn(4))
	if w <= 2 {
		ev["event_id"] = fmt.Sprintf("$%d:%s", r.Intn(1000), difftool.Pick(r, srv, srv, srv, difftool.Pick(r, servers...)))
	}
	label := ""
	switch k := r.Intn(12); k {
	case 0:
		ev["type"] = "m.room.create"
		ev["state_key"] = ""
		c := M{"room_version": fmt.Sprint(w)}
		if w <= 10 {
			c["creator"] = sender
		}
		if r.Intn(3) == 0 {
			c["m.federate"] = r.Intn(2) == 0
		}
		ev["content"] = c
		ev["prev_events"] = []any{}
		ev["auth_events"] = []any{}
		if w >= 12 && r.Intn(5) != 0 {
			delete(ev, "room_id")
			label = "v12-create"
		} else {
			label = "create"
		}
	case 1, 2:
		ev["type"] = "m.room.member"
		ev["state_key"] = sender
		m := difftool.Pick(r, "join", "join", "invite", "leave", "knock", "ban")
		c := M{"membership": m, "displayname": pickStr(r)}
		label = "member-" + m
		if r.Intn(2) == 0 {
			c["join_authorised_via_users_server"] = user(r, difftool.Pick(r, servers...))
			if r.Intn(10) == 0 {
				c["join_authorised_via_users_server"] = difftool.Pick[any](r, "nocolon", int64(5), "@x:")
			}
			label += "-authvia"
		}
		if m == "invite" && r.Intn(2) == 0 {
			ev["state_key"] = user(r, difftool.Pick(r, servers...))
			c["third_party_invite"] = M{"display_name": "x", "signed": M{"mxid": ev["state_key"], "token": "t",
				"signatures": M{"id.example": M{"ed25519:0": authgen.DummySig}}}, "other": 1}
			label += "-3pid"
		}
		ev["content"] = c
	case 3:
		ev["type"] = "m.room.power_levels"
		ev["state_key"] = ""
		ev["content"] = M{"users": M{sender: int64(100)}, "ban": int64(50), "invite": int64(0), "events": M{"m.room.name": int64(50)}, "notifications": M{"room": int64(50)}, "other": "x"}
		label = "power_levels"
	case 4:
		ev["type"] = "m.room.join_rules"
		ev["state_key"] = ""
		ev["content"] = M{"join_rule": "restricted", "allow": []any{M{"type": "m.room_membership", "room_id": "!o:a.example"}}, "x": 1}
		label = "join_rules"
	case 5:
		ev["type"] = "m.room.redaction"
		target := "$t:" + srv
		if w >= 11 {
			ev["content"] = M{"redacts": target, "reason": pickStr(r)}
		} else {
			ev["redacts"] = target
			ev["content"] = M{"reason": pickStr(r)}
		}
		label = "redaction"
	case 6:
		ev["type"] = difftool.Pick(r, "m.room.aliases", "m.room.history_visibility")
		ev["state_key"] = srv
		ev["content"] = M{"aliases": []any{"#a:" + srv}, "history_visibility": "shared", "other": true}
		label = "aliases-hv"
	default:
		ev["type"] = "m.room.message"
		c := M{"body": pickStr(r), "msgtype": "m.text"}
		for i := r.Intn(3); i > 0; i-- {
			c[difftool.Pick(r, oddKeys...)] = pickStr(r)
		}
		ev["content"] = c
		label = "message"
	}
	return ev, label
}

// corner applies one of the audit's corners to ev and names it.
func corner(r *rand.Rand, ev M, w int, self string) string {
	switch k := r.Intn(25); k {
	case 0:
		ev["unsigned"] = M{"age_ts": int64(1000), "age": int64(5), "x": pickStr(r)}
		return "unsigned"
	case 1:
		ev["age_ts"] = int64(1_700_000_000_000)
		return "age_ts"
	case 2:
		ev["origin"] = difftool.Pick[any](r, "a.example", int64(7))
		ev["membership"] = "join"
		ev["prev_state"] = []any{}
		return "dropped-top-level"
	case 3:
		ev["foo"] = M{"bar": pickStr(r)}
		ev["unsigned"] = difftool.Pick[any](r, "not-object", []any{}, nil)
		return "extra-top-level"
	case 4:
		ev["content"] = difftool.Pick[any](r, "str", []any{int64(1)}, int64(3), nil, M{})
		return "nonobject-content"
	case 5:
		delete(ev, "content")
		return "no-content"
	case 6:
		ev["hashes"] = M{"sha256": "x", "sha512": "y"}
		return "hashes-extra"
	case 7:
		delete(ev, "hashes")
		return "no-hashes"
	case 8:
		ev["hashes"] = difftool.Pick[any](r, "str", nil, []any{})
		return "hashes-nonobject"
	case 9:
		ev["signatures"] = M{"z.example": M{"ed25519:1": authgen.DummySig}, "y.example": M{"ed25519:x": "bad"}}
		return "sigs-other"
	case 10:
		ev["signatures"] = M{self: M{"ed25519:1": authgen.DummySig, "ed25519:old": authgen.DummySig}}
		if r.Intn(2) == 0 {
			// the signer is also the room's Policy Server: its signature stays (signing 13)
			ev["signatures"].(M)[self].(M)["ed25519:policy_server"] = authgen.DummySig
		}
		return "sigs-self"
	case 11:
		ev["signatures"] = M{self: M{"ed25519:1": authgen.DummySig}, "z.example": "not-object"}
		return "sigs-weird"
	case 12:
		ev["signatures"] = difftool.Pick[any](r, "str", []any{}, M{self: "str"}, M{self: []any{}})
		return "sigs-nonobject"
	case 13:
		if w >= 3 {
			ev["event_id"] = "$x:a.example"
		} else {
			ev["event_id"] = difftool.Pick[any](r, int64(5), "$nodomain", "$x:", nil, "x:a.example", "$x\x00y:a.example", "$x:bad_name!")
		}
		return "event_id"
	case 20:
		c, _ := ev["content"].(M)
		if c != nil {
			c[rawKey+difftool.Pick(r, `"\ud800"`, `"\udfff"`, `"\ud7ff"`, `"\ue000"`, `"\ud83d\ude00"`, `"\uffff"`)] = "k"
			c[rawKey+`"\ud801"`] = "l"
		}
		return "escaped-keys"
	case 14:
		ev["big"] = raw(difftool.Pick(r, "9007199254740993", "-9007199254740993", "9223372036854775807", "18446744073709551616"))
		return "big-int"
	case 15:
		ev["num"] = raw(difftool.Pick(r, "1.5", "1e10", "1E2", "-0", "1.0", "0.1", "-0.0", "1e400", "100000000000000000000000.0"))
		return "non-int-number"
	case 16:
		c, _ := ev["content"].(M)
		if c != nil {
			c["esc"] = raw(difftool.Pick(r, `"\u00e9\u65E5"`, `"\ud83d\ude00"`, `"\ud800"`, `"\/x"`, `"\u0041\u001F\u007f"`, `"\udc00x"`))
		}
		return "escapes"
	case 17:
		return "dup-keys"
	case 19:
		var deep any = M{}
		for i := 0; i < 122+r.Intn(8); i++ { // content at depth 2: 126..133 levels in all
			deep = []any{deep}
		}
		ev["content"] = M{"deep": deep}
		return "deep"
	case 18:
		ev["unsigned"] = M{"age_ts": int64(1000)}
		ev["hashes"] = M{"sha256": "x"}
		ev["signatures"] = M{self: M{"ed25519:1": authgen.DummySig}}
		return "resign"
	}
	return "plain"
}

// rawKey starts an object key that encode writes verbatim (the rest of the key is its JSON text).
const rawKey = "\x01raw"

// encode writes v as JSON; pretty adds whitespace, shuffle reorders object members and escape
// writes non-ASCII as \u escapes. dup members and raw literals are written as they are.
func encode(r *rand.Rand, v any, pretty, shuffle, escape bool) string {
	var b strings.Builder
	var w func(v any, ind string)
	str := func(s string) {
		var bb bytes.Buffer
		enc := json.NewEncoder(&bb)
		enc.SetEscapeHTML(escape) // escaped: <, >, & as \u; U+2028/9 always
		_ = enc.Encode(s)
		out := strings.TrimSuffix(bb.String(), "\n")
		if escape {
			var e strings.Builder
			for _, c := range out {
				if c > 0x7e {
					if c > 0xffff {
						c -= 0x10000
						fmt.Fprintf(&e, "\\u%04x\\u%04x", 0xd800+(c>>10), 0xdc00+(c&0x3ff))
					} else {
						fmt.Fprintf(&e, "\\u%04X", c)
					}
					continue
				}
				e.WriteRune(c)
			}
			out = e.String()
		}
		b.WriteString(out)
	}
	sp := func(ind string) {
		if pretty {
			b.WriteString("\n" + ind)
		}
	}
	w = func(v any, ind string) {
		switch x := v.(type) {
		case raw:
			b.WriteString(string(x))
		case dup:
			b.WriteString("{")
			for i, kv := range x {
				if i > 0 {
					b.WriteString(",")
				}
				sp(ind + "  ")
				if k := kv[0].(string); strings.HasPrefix(k, rawKey) {
					b.WriteString(strings.TrimPrefix(k, rawKey))
				} else {
					str(k)
				}
				b.WriteString(":")
				if pretty {
					b.WriteString(" ")
				}
				w(kv[1], ind+"  ")
			}
			sp(ind)
			b.WriteString("}")
		case M:
			keys := difftool.SortedKeys(x)
			if shuffle {
				r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			}
			d := dup{}
			for _, k := range keys {
				d = append(d, [2]any{k, x[k]})
			}
			w(d, ind)
		case []any:
			b.WriteString("[")
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				w(e, ind)
			}
			b.WriteString("]")
		case string:
			str(x)
		default:
			bs, err := json.Marshal(x)
			if err != nil {
				b.WriteString("null")
			}
			b.Write(bs)
		}
	}
	w(v, "")
	return b.String()
}

// withDup returns ev as a dup with one member given twice: first a decoy value, then the real.
func withDup(r *rand.Rand, ev M) dup {
	keys := difftool.SortedKeys(ev)
	d := dup{}
	k := difftool.Pick(r, keys...)
	d = append(d, [2]any{k, difftool.Pick[any](r, "decoy", int64(1), M{"decoy": true})})
	for _, kk := range keys {
		d = append(d, [2]any{kk, ev[kk]})
	}
	return d
}

// ids drawn for ServerName.
var idForms = []string{
	"@u:a.example", "@u:a.example:8448", "@u:[1234:5678::abcd]:5678", "@u:[::1]", "@u:1.2.3.4:1",
	"!r:a.example", "$e:b.example", "@u:", "@u", "", ":a.example", "@u::x", "@u:a:b:c",
	"@u:A.EXAMPLE", "@u:exa mple", "@é:日本", "@u:a.example:99999999", "#a:b",
}

// sortStrings sorts a copy.
func sortStrings(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

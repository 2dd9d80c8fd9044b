package main

// Mutations of a signed event and of the key ring it is verified against.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// mutation kinds, drawn uniformly; "none" keeps the signed event as it is.
var mutKinds = []string{
	"none", "none",
	"sig:remove-server", "sig:remove-key", "sig:empty-server", "sig:empty-all",
	"sig:corrupt", "sig:corrupt-extra", "sig:garbage", "sig:truncate", "sig:padded", "sig:urlsafe",
	"sig:unknown-key", "sig:add-unknown", "sig:add-bad-second", "sig:add-good-second",
	"sig:non-ed25519", "sig:add-non-ed25519", "sig:odd-keyid", "sig:move-server",
	"sig:by-other-server", "sig:add-unknown-server",
	"key:unknown", "key:wrong", "key:expiry", "key:expiry-one-of-two",
	"content:redactable", "content:kept", "content:add", "content:remove-kept",
	"top:edit", "top:add", "top:remove-unkept",
	"unsigned:edit", "unsigned:remove",
	"hash:corrupt", "hash:padded", "hash:urlsafe", "hash:garbage", "hash:extra-alg", "hash:wrong-type",
	"redacted-copy", "reformat", "dup-key",
	"authvia:other-user", "authvia:remove-sig", "authvia:not-string",
	"multi:needkey+fail", "multi:fail+needkey",
	"num:float", "num:float-int", "num:exp-int", "num:big", "num:neg-zero",
}

// mutate applies kind to the signed event ev (decoded), possibly changing the ring; it
// returns the event's new JSON text and a detail label ("" when kind does not apply).
func mutate(r *rand.Rand, g *gen, kind string, signed []byte, ring map[string]map[string]*ringKey) ([]byte, string) {
	ev := difftool.Decode(signed)
	sigs := ev["signatures"].(M)
	srvs := difftool.SortedKeys(sigs)
	// target: a server whose signature matters (the sender's most often)
	target := g.sender
	if r.Intn(3) == 0 {
		target = difftool.Pick(r, srvs...)
	}
	ent, _ := sigs[target].(M)
	keyIDs := difftool.SortedKeys(ent)
	pickKey := func() string {
		if len(keyIDs) == 0 {
			return ""
		}
		return difftool.Pick(r, keyIDs...)
	}
	content := ev["content"].(M)
	enc := func() ([]byte, string) { return difftool.Enc(ev), "" }
	detail := ""
	switch kind {
	case "none":
	case "sig:remove-server":
		delete(sigs, target)
		detail = target
	case "sig:remove-key":
		if len(keyIDs) < 2 {
			return nil, ""
		}
		delete(ent, pickKey())
	case "sig:empty-server":
		sigs[target] = M{}
	case "sig:empty-all":
		ev["signatures"] = M{}
	case "sig:corrupt", "sig:corrupt-extra", "sig:garbage", "sig:truncate", "sig:padded", "sig:urlsafe":
		k := pickKey()
		if k == "" {
			return nil, ""
		}
		s := ent[k].(string)
		switch kind {
		case "sig:corrupt":
			b, _ := base64.RawStdEncoding.DecodeString(s)
			b[r.Intn(len(b))] ^= byte(1 << r.Intn(8))
			s = base64.RawStdEncoding.EncodeToString(b)
		case "sig:corrupt-extra":
			// corrupt the signature of a server that need not sign (c.example countersigns)
			if _, ok := sigs["c.example"]; !ok || target == "c.example" {
				return nil, ""
			}
			e2 := sigs["c.example"].(M)
			for _, k2 := range difftool.SortedKeys(e2) {
				b, _ := base64.RawStdEncoding.DecodeString(e2[k2].(string))
				b[0] ^= 1
				e2[k2] = base64.RawStdEncoding.EncodeToString(b)
			}
			return difftool.Enc(ev), "c.example"
		case "sig:garbage":
			s = difftool.Pick(r, "!!notbase64!!", "", "A", "AAAA", s+"A", "é")
		case "sig:truncate":
			s = s[:len(s)-4]
		case "sig:padded":
			s += "=="
		case "sig:urlsafe":
			if !strings.ContainsAny(s, "+/") {
				return nil, ""
			}
			s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
		}
		ent[k] = s
		detail = target
	case "sig:unknown-key":
		k := pickKey()
		if k == "" {
			return nil, ""
		}
		ent["ed25519:9"] = ent[k]
		delete(ent, k)
	case "sig:add-unknown":
		if ent == nil {
			return nil, ""
		}
		ent["ed25519:"+difftool.Pick(r, "9", "new", "x_1")] = difftool.Pick(r, authgen.DummySig, "!!", "")
	case "sig:add-bad-second", "sig:add-good-second":
		if ent == nil {
			return nil, ""
		}
		other := "2"
		if g.keyOf[target] == "2" {
			other = "1"
		}
		if _, ok := ent["ed25519:"+other]; ok {
			return nil, ""
		}
		// a second signature of the same server by its other known key
		out, err := signing.CountersignEvent(g.v, signed, target, authgen.KeyFor(target, other))
		if err != nil {
			return nil, ""
		}
		s2 := difftool.Decode(out)["signatures"].(M)[target].(M)["ed25519:"+other].(string)
		if kind == "sig:add-bad-second" {
			b, _ := base64.RawStdEncoding.DecodeString(s2)
			b[5] ^= 0x20
			s2 = base64.RawStdEncoding.EncodeToString(b)
		}
		ent["ed25519:"+other] = s2
		detail = target
	case "sig:non-ed25519":
		k := pickKey()
		if k == "" {
			return nil, ""
		}
		ent[difftool.Pick(r, "curve25519", "ed448", "hmac", "ED25519")+k[len("ed25519"):]] = ent[k]
		delete(ent, k)
	case "sig:add-non-ed25519":
		if ent == nil {
			return nil, ""
		}
		ent[difftool.Pick(r, "curve25519:1", "ed448:1", "foo:bar")] = difftool.Pick(r, authgen.DummySig, "!!")
	case "sig:odd-keyid":
		k := pickKey()
		if k == "" {
			return nil, ""
		}
		odd := difftool.Pick(r, "ed25519:", "ed25519", "ed25519:1:x", "ed25519: 1", "ed25519:1 ", " ed25519:1", "ed25519::1")
		ent[odd] = ent[k]
		if r.Intn(2) == 0 {
			delete(ent, k)
			detail = "replace"
		} else {
			detail = "add"
		}
		// the ring may know the odd key ID with the right key
		if r.Intn(2) == 0 {
			if rg := ring[target]; rg != nil {
				if rk := rg[k]; rk != nil {
					rg[odd] = &ringKey{server: target, id: odd, key: rk.key}
					detail += "+ring"
				}
			}
		}
		detail += " " + fmt.Sprintf("%q", odd)
	case "sig:move-server":
		if ent == nil {
			return nil, ""
		}
		to := difftool.Pick(r, servers...)
		if to == target {
			return nil, ""
		}
		sigs[to] = ent
		delete(sigs, target)
		detail = target + "->" + to
	case "sig:by-other-server":
		// the event re-signed from scratch by another server instead of the sender's
		other := difftool.Pick(r, servers...)
		if other == g.sender {
			return nil, ""
		}
		g2 := *g
		g2.signers = []string{other}
		g2.keyOf = map[string]string{other: "1"}
		m := difftool.CopyM(g.m)
		out, err := g2.sign(difftool.Enc(m))
		if err != nil {
			return nil, ""
		}
		return out, other
	case "sig:add-unknown-server":
		sigs["unknown.example"] = M{"ed25519:1": authgen.DummySig}
	case "key:unknown":
		k := pickKey()
		if k == "" || ring[target] == nil {
			return nil, ""
		}
		delete(ring[target], k)
		if r.Intn(3) == 0 {
			delete(ring, target)
		}
	case "key:wrong":
		k := pickKey()
		if k == "" || ring[target] == nil || ring[target][k] == nil {
			return nil, ""
		}
		ring[target][k].key = authgen.KeyFor("wrong.example", "1").Public()
	case "key:expiry", "key:expiry-one-of-two":
		ts := toInt(ev["origin_server_ts"])
		k := pickKey()
		if k == "" || ring[target] == nil || ring[target][k] == nil {
			return nil, ""
		}
		if kind == "key:expiry-one-of-two" {
			other := "ed25519:2"
			if k == "ed25519:2" {
				other = "ed25519:1"
			}
			if _, ok := ent[other]; !ok {
				out, err := signing.CountersignEvent(g.v, signed, target, authgen.KeyFor(target, other[len("ed25519:"):]))
				if err != nil {
					return nil, ""
				}
				ent[other] = difftool.Decode(out)["signatures"].(M)[target].(M)[other]
			}
		}
		d := difftool.Pick[int64](r, -1000, -1, 0, 1, 1000)
		ring[target][k].vu = ts + d
		detail = fmt.Sprintf("vu=ts%+d", d)
	case "content:redactable", "content:kept", "content:add", "content:remove-kept":
		kept := keptContent(g.ver, ev["type"].(string), content)
		var redactable []string
		for _, k := range difftool.SortedKeys(content) {
			if !contains(kept, k) {
				redactable = append(redactable, k)
			}
		}
		switch kind {
		case "content:redactable":
			if len(redactable) == 0 {
				return nil, ""
			}
			k := difftool.Pick(r, redactable...)
			content[k] = "edited"
			detail = k
		case "content:kept", "content:remove-kept":
			if len(kept) == 0 {
				return nil, ""
			}
			k := difftool.Pick(r, kept...)
			if kind == "content:kept" {
				content[k] = "edited"
			} else {
				delete(content, k)
			}
			detail = k
		case "content:add":
			k := difftool.Pick(r, "extra", "membership", "join_rule", "allow", "history_visibility", "creator",
				"redacts", "aliases", "invite", "join_authorised_via_users_server", "third_party_invite")
			if _, ok := content[k]; ok {
				return nil, ""
			}
			content[k] = "added"
			detail = k
		}
	case "top:edit":
		k := difftool.Pick(r, "origin_server_ts", "depth", "origin", "room_id", "type", "state_key", "prev_events",
			"auth_events", "redacts", "membership", "event_id", "sender")
		x, ok := ev[k]
		if !ok {
			return nil, ""
		}
		switch k {
		case "origin_server_ts", "depth":
			ev[k] = toInt(x) + 1
		case "prev_events", "auth_events":
			ev[k] = refList(r, g.ver, 1)
		case "sender":
			ev[k] = userOf(r, g.sender) // same server, another user
		default:
			ev[k] = x.(string) + "x"
		}
		detail = k
	case "top:add":
		k := difftool.Pick(r, "origin", "membership", "prev_state", "extra", "redacts", "event_id", "age_ts", "outlier")
		if _, ok := ev[k]; ok {
			return nil, ""
		}
		switch k {
		case "prev_state":
			ev[k] = []any{}
		case "event_id":
			ev[k] = fakeID(r, 2, g.sender)
		case "redacts":
			ev[k] = fakeID(r, g.ver, g.sender)
		default:
			ev[k] = "added"
		}
		detail = k
	case "top:remove-unkept":
		for _, k := range []string{"origin", "redacts", "membership", "unsigned"} {
			if _, ok := ev[k]; ok {
				delete(ev, k)
				detail += k + " "
			}
		}
		if detail == "" {
			return nil, ""
		}
	case "unsigned:edit":
		ev["unsigned"] = M{"age": 5, "replaces_state": "$x", "signatures": "y"}
	case "unsigned:remove":
		if _, ok := ev["unsigned"]; !ok {
			return nil, ""
		}
		delete(ev, "unsigned")
	case "hash:corrupt", "hash:padded", "hash:urlsafe", "hash:garbage", "hash:extra-alg", "hash:wrong-type":
		h := ev["hashes"].(M)
		s := h["sha256"].(string)
		switch kind {
		case "hash:corrupt":
			b, _ := base64.RawStdEncoding.DecodeString(s)
			b[r.Intn(len(b))] ^= 4
			h["sha256"] = base64.RawStdEncoding.EncodeToString(b)
		case "hash:padded":
			h["sha256"] = s + "="
		case "hash:urlsafe":
			if !strings.ContainsAny(s, "+/") {
				return nil, ""
			}
			h["sha256"] = strings.NewReplacer("+", "-", "/", "_").Replace(s)
		case "hash:garbage":
			h["sha256"] = difftool.Pick(r, "", "!!", "AAAA", s[:10])
		case "hash:extra-alg":
			h["sha512"] = "AAAA"
		case "hash:wrong-type":
			h["sha256"] = difftool.Pick[any](r, 1, nil, M{}, []any{s})
		}
	case "redacted-copy":
		red := redactGo(g, ev)
		if u, ok := ev["unsigned"]; ok && r.Intn(2) == 0 {
			red["unsigned"] = u
		}
		return difftool.Enc(red), ""
	case "reformat":
		var b bytes.Buffer
		writeShuffled(&b, r, ev, 0)
		return b.Bytes(), ""
	case "dup-key":
		// a duplicate key inside content, the last occurrence being the signed one
		raw := difftool.Enc(ev)
		i := bytes.Index(raw, []byte(`"content":{`))
		if i < 0 {
			return nil, ""
		}
		j := i + len(`"content":{`)
		ins := []byte(`"dup":1,"dup":2,`)
		if len(content) > 0 {
			k := difftool.SortedKeys(content)[0]
			ins = []byte(fmt.Sprintf(`%q:"first",`, k))
			detail = k
		}
		out := append(append(append([]byte{}, raw[:j]...), ins...), raw[j:]...)
		return out, detail
	case "authvia:other-user", "authvia:remove-sig", "authvia:not-string":
		if g.authvia == "" {
			return nil, ""
		}
		switch kind {
		case "authvia:other-user":
			to := difftool.Pick(r, servers...)
			if to == g.authvia {
				return nil, ""
			}
			content["join_authorised_via_users_server"] = userOf(r, to)
			detail = g.authvia + "->" + to
		case "authvia:remove-sig":
			if g.authvia == g.sender || (g.ver <= 2 && g.authvia == g.idDom) {
				return nil, ""
			}
			delete(sigs, g.authvia)
		case "authvia:not-string":
			content["join_authorised_via_users_server"] = difftool.Pick[any](r, nil, 1, "nocolon", M{})
		}
	case "multi:needkey+fail", "multi:fail+needkey":
		// two required servers (sender's, and the v1-2 event ID domain or the authoriser of a
		// join): one signed only with an unknown key, the other's signature missing or bad
		s2 := ""
		if g.ver <= 2 && g.idDom != g.sender {
			s2 = g.idDom
		} else if g.authvia != "" && g.authvia != g.sender && g.ver >= 8 && content["membership"] == "join" {
			s2 = g.authvia
		}
		if s2 == "" {
			return nil, ""
		}
		nk, fl := g.sender, s2
		if kind == "multi:fail+needkey" {
			nk, fl = s2, g.sender
		}
		if e, ok := sigs[nk].(M); ok {
			for _, k := range difftool.SortedKeys(e) {
				delete(e, k)
				e["ed25519:9"] = authgen.DummySig
			}
		} else {
			sigs[nk] = M{"ed25519:9": authgen.DummySig}
		}
		if r.Intn(2) == 0 {
			delete(sigs, fl)
			detail = "missing"
		} else {
			sigs[fl] = M{"ed25519:1": authgen.DummySig}
			detail = "bad"
		}
		detail = fmt.Sprintf("needkey=%s %s=%s", nk, detail, fl)
	default:
		panic("unknown mutation " + kind) // invariant: kinds come from the harness's own list
	}
	if detail == "" {
		return enc()
	}
	b, _ := enc()
	return b, detail
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func toInt(x any) int64 {
	switch t := x.(type) {
	case int64:
		return t
	case int:
		return int64(t)
	}
	var n int64
	fmt.Sscan(fmt.Sprint(x), &n)
	return n
}

// keptContent lists the content keys of an event of this type that redaction keeps (the
// harness's own table, used only to aim mutations; the verdicts come from the two sides).
func keptContent(ver int, typ string, content M) []string {
	var keep []string
	switch typ {
	case "m.room.member":
		keep = []string{"membership"}
		if ver >= 9 {
			keep = append(keep, "join_authorised_via_users_server")
		}
		if ver >= 11 {
			keep = append(keep, "third_party_invite")
		}
	case "m.room.create":
		if ver >= 11 {
			return difftool.SortedKeys(content)
		}
		keep = []string{"creator"}
	case "m.room.join_rules":
		keep = []string{"join_rule"}
		if ver >= 8 {
			keep = append(keep, "allow")
		}
	case "m.room.power_levels":
		keep = []string{"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
		if ver >= 11 {
			keep = append(keep, "invite")
		}
	case "m.room.history_visibility":
		keep = []string{"history_visibility"}
	case "m.room.aliases":
		if ver <= 5 {
			keep = []string{"aliases"}
		}
	case "m.room.redaction":
		if ver >= 11 {
			keep = []string{"redacts"}
		}
	}
	var out []string
	for _, k := range keep {
		if _, ok := content[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// redactGo makes the redacted copy a server would relay, with the harness's own table (the
// verdict on it is still computed by both sides).
func redactGo(g *gen, ev M) M {
	top := []string{"event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
		"depth", "prev_events", "auth_events", "origin_server_ts"}
	if g.ver <= 10 {
		top = append(top, "prev_state", "origin", "membership")
	}
	out := M{}
	for _, k := range top {
		if x, ok := ev[k]; ok {
			out[k] = x
		}
	}
	c := ev["content"].(M)
	nc := M{}
	for _, k := range keptContent(g.ver, ev["type"].(string), c) {
		nc[k] = c[k]
	}
	if g.ver >= 11 && ev["type"] == "m.room.member" {
		if t, ok := c["third_party_invite"].(M); ok {
			nc["third_party_invite"] = M{"signed": t["signed"]}
		}
	}
	out["content"] = nc
	return out
}

// writeShuffled writes v as JSON with object keys in random order and random whitespace.
func writeShuffled(b *bytes.Buffer, r *rand.Rand, v any, depth int) {
	ws := func() {
		if r.Intn(3) == 0 {
			b.WriteString(difftool.Pick(r, " ", "\n", "\t", "  \r\n"))
		}
	}
	switch t := v.(type) {
	case M:
		ks := difftool.SortedKeys(t)
		r.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
		b.WriteByte('{')
		for i, k := range ks {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			b.Write(difftool.Enc(k))
			ws()
			b.WriteByte(':')
			ws()
			writeShuffled(b, r, t[k], depth+1)
		}
		ws()
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			writeShuffled(b, r, x, depth+1)
		}
		b.WriteByte(']')
	case string:
		// sometimes escape a non-ASCII or ordinary character
		s := difftool.Enc(t)
		if r.Intn(4) == 0 && len(t) > 0 && t[0] < 0x80 && t[0] != '"' && t[0] != '\\' {
			s = append([]byte(fmt.Sprintf(`"\u%04x`, t[0])), s[2:]...)
		}
		b.Write(s)
	default:
		b.Write(difftool.Enc(t))
	}
}

// numLiteral is the number a "num:" mutation puts in a redactable content key before signing.
func numLiteral(kind string) string {
	switch kind {
	case "num:float":
		return "1.5"
	case "num:float-int":
		return "2.0"
	case "num:exp-int":
		return "1e3"
	case "num:big":
		return "9007199254740993"
	case "num:neg-zero":
		return "-0"
	}
	return ""
}

// sortedRing lists the ring's keys in order (for the request to the reference).
func sortedRing(ring map[string]map[string]*ringKey) []*ringKey {
	var out []*ringKey
	for _, s := range difftool.SortedKeys(ring) {
		for _, k := range difftool.SortedKeys(ring[s]) {
			out = append(out, ring[s][k])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].server < out[j].server })
	return out
}

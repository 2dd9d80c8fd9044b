package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

// Case is one run of the binary: its arguments (an argument "@name" stands for the path of
// files[name]), its standard input and its files.
type Case struct {
	Label string
	Args  []string
	Stdin []byte
	Files map[string][]byte
}

// gen draws the cases of one seed.
type gen struct {
	r *rand.Rand
}

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

// room draws a room of version vid and a candidate event with its auth events, every event
// signed for real by its sender's server (and the servers authgen adds).
func (g *gen) room(vid string) (ev []byte, auth [][]byte, create []byte, rm *authgen.Room, b *authgen.Builder) {
	v := authgen.Version(vid)
	b = &authgen.Builder{V: v, Ver: difftool.VerNum(vid), R: g.r, Focus: g.chance(0.5), Edge: g.chance(0.2), RealSignFrom: 8}
	for {
		rm = b.GenRoom()
		c := b.GenCand(rm)
		final, aev, _, err := b.Assemble(rm, c, g.chance(0.3))
		if err != nil {
			continue
		}
		ev = resign(vid, final.Raw)
		for _, a := range aev {
			auth = append(auth, a.Raw)
		}
		if rm.Create != nil {
			create = rm.Create.Raw
		}
		return
	}
}

// resign replaces an event's dummy signatures by real ones of the same servers.
func resign(vid string, raw []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	var sigs map[string]any
	_ = json.Unmarshal(m["signatures"], &sigs)
	var sender string
	_ = json.Unmarshal(m["sender"], &sender)
	servers := []string{difftool.DomainOf(sender)}
	for _, s := range difftool.SortedKeys(sigs) {
		if !slices.Contains(servers, s) {
			servers = append(servers, s)
		}
	}
	delete(m, "signatures")
	if servers[0] == "" {
		return raw
	}
	out, err := json.Marshal(m)
	if err != nil {
		return raw
	}
	return authgen.SignAll(authgen.Version(vid), out, servers)
}

// form writes JSON text in one of the forms a checker may hand the tool.
func (g *gen) form(raw []byte) ([]byte, string) {
	switch g.r.Intn(14) {
	case 0:
		var b bytes.Buffer
		_ = json.Indent(&b, raw, "", "    ")
		return b.Bytes(), "indented"
	case 1:
		return append(bytes.Clone(raw), '\n'), "trailing-newline"
	case 2:
		var b bytes.Buffer
		_ = json.Indent(&b, raw, "", "  ")
		return bytes.ReplaceAll(append(b.Bytes(), '\n'), []byte("\n"), []byte("\r\n")), "crlf"
	case 3:
		return append([]byte("\xef\xbb\xbf"), raw...), "bom"
	case 4:
		return append(bytes.Clone(raw), []byte(g.pick(" x", "}", "{}", "\n{}", " null", ","))...), "trailing-garbage"
	case 5:
		return []byte(g.pick("", "\n", "  ")), "empty"
	case 6:
		if i := bytes.IndexByte(raw, '"'); i >= 0 {
			j := bytes.IndexByte(raw[i+1:], '"')
			if j > 0 {
				o := bytes.Clone(raw)
				return append(append(o[:i+1+j:i+1+j], 0xff), raw[i+1+j:]...), "non-utf8"
			}
		}
		return raw, "compact"
	case 7:
		return []byte(" \t\n" + string(raw) + " \n\n"), "whitespace"
	case 8:
		return raw[:len(raw)/2], "truncated"
	default:
		return raw, "compact"
	}
}

// value draws arbitrary JSON text (not always canonical, not always valid canonical JSON).
func (g *gen) value(d int) string {
	k := g.r.Intn(12)
	if d > 3 && k < 4 {
		k = 4 + g.r.Intn(8)
	}
	switch k {
	case 0, 1:
		n := g.r.Intn(5)
		keys := []string{}
		for i := 0; i < n; i++ {
			keys = append(keys, g.str())
		}
		if n > 1 && g.chance(0.1) {
			keys = append(keys, keys[0]) // a duplicate key
		}
		parts := []string{}
		for _, k := range keys {
			parts = append(parts, k+g.pick(":", " : ", ":\n ")+g.value(d+1))
		}
		return "{" + strings.Join(parts, g.pick(",", ", ", ",\n")) + "}"
	case 2, 3:
		n := g.r.Intn(4)
		parts := []string{}
		for i := 0; i < n; i++ {
			parts = append(parts, g.value(d+1))
		}
		return "[" + strings.Join(parts, g.pick(",", ", ")) + "]"
	case 4, 5:
		return g.str()
	case 6, 7:
		return g.num()
	default:
		return g.pick("true", "false", "null")
	}
}

func (g *gen) num() string {
	return g.pick("0", "1", "-1", "42", "-0", "9007199254740991", "-9007199254740991", "9007199254740992",
		"-9007199254740992", "18446744073709551616", "123456789012345678901234567890", "1.5", "1e3", "1E10",
		"2.0", "-0.0", "1e400", "0.1", "100", "-17", fmt.Sprint(g.r.Int63n(1<<53)))
}

func (g *gen) str() string {
	return g.pick(`"a"`, `""`, `"b"`, `"é"`, `"\u00e9"`, `"\u0000"`, `"\u001f"`, `"\u007f"`, `"\/"`,
		`"\ud83d\ude00"`, `"😀"`, `"\n\t\b\f\r"`, `"\"\\"`, `"\ud800"`, `"日本"`, `"\uFFFF"`, `"Z"`, `"aa"`,
		`"\u00E9"`, `"<&>"`, `"\u2028"`, `"k`+fmt.Sprint(g.r.Intn(5))+`"`)
}

// keyLine is the --key file of a server's authgen key, in one of the forms a checker may write.
func (g *gen) keyLine(server string) ([]byte, string) {
	k := authgen.KeyFor(server, "1")
	seed := difftool.B64(k.Private.Seed())
	line := "ed25519 1 " + seed
	switch g.r.Intn(16) {
	case 0:
		return []byte(line), "key-no-newline"
	case 1:
		return []byte(line + "\r\n"), "key-crlf"
	case 2:
		return []byte("ed25519  1 " + seed + "\n"), "key-double-space"
	case 3:
		return []byte(" " + line + " \n"), "key-spaces"
	case 4:
		return []byte("# key\n" + line + "\n"), "key-comment"
	case 5:
		o := authgen.KeyFor(server, "2")
		return []byte(line + "\ned25519 2 " + difftool.B64(o.Private.Seed()) + "\n"), "key-two"
	case 6:
		return []byte("curve25519 1 " + seed + "\n"), "key-unknown-alg"
	case 7:
		return []byte("ed25519 1 " + seed + "=\n"), "key-padded"
	case 8:
		return []byte("ed25519 1 " + seed[:20] + "\n"), "key-short"
	case 9:
		return []byte(""), "key-empty"
	case 10:
		return []byte("ed25519 1\n"), "key-two-fields"
	case 11:
		return []byte("ed25519 a_b-c " + seed + "\n"), "key-version-odd"
	default:
		return []byte(line + "\n"), "key-plain"
	}
}

// keysFile is a --keys file for the given servers' authgen keys, in one of several forms.
func (g *gen) keysFile(servers []string) ([]byte, string) {
	m := M{}
	label := "keys-plain"
	for _, s := range servers {
		m[s] = M{"ed25519:1": difftool.B64(authgen.KeyFor(s, "1").Public())}
	}
	switch g.r.Intn(12) {
	case 0:
		m["extra.example"] = M{"ed25519:1": difftool.B64(authgen.KeyFor("extra.example", "1").Public())}
		label = "keys-extra-server"
	case 1:
		for _, s := range servers {
			m[s].(M)["curve25519:x"] = difftool.B64(authgen.KeyFor("curve.example", "1").Public())
		}
		label = "keys-unknown-alg"
	case 2:
		if len(servers) > 0 {
			m[servers[0]] = M{"ed25519:1": difftool.B64(authgen.KeyFor("wrong.example", "1").Public())}
		}
		label = "keys-wrong-key"
	case 3:
		if len(servers) > 0 {
			delete(m, servers[0])
		}
		label = "keys-missing-server"
	case 4:
		if len(servers) > 0 {
			m[servers[0]] = M{"ed25519:2": difftool.B64(authgen.KeyFor(servers[0], "2").Public())}
		}
		label = "keys-other-keyid"
	case 5:
		if len(servers) > 0 {
			m[servers[0]].(M)["ed25519:2"] = difftool.B64(authgen.KeyFor(servers[0], "2").Public())
		}
		label = "keys-two-keys"
	}
	b, _ := json.Marshal(m)
	if g.chance(0.3) {
		var o bytes.Buffer
		_ = json.Indent(&o, b, "", "  ")
		b = append(o.Bytes(), '\n')
		label += "+indented"
	}
	return b, label
}

// version draws a room version argument, now and then one that is not a room version.
func (g *gen) version() string {
	if g.chance(0.04) {
		return g.pick("13", "0", "v9", "", "1.0", "9 ", "org.example.custom", "01")
	}
	return pyref.Versions[g.r.Intn(len(pyref.Versions))]
}

// flagArgs writes the flags in one of the accepted forms, in random order, now and then with
// one missing, unknown, or after the FILE.
func (g *gen) flagArgs(cmd string, flags [][2]string, input string) ([]string, string) {
	label := ""
	g.r.Shuffle(len(flags), func(i, j int) { flags[i], flags[j] = flags[j], flags[i] })
	if len(flags) > 0 && g.chance(0.04) {
		flags = flags[1:]
		label = "missing-flag"
	}
	args := []string{cmd}
	eq := g.chance(0.3)
	if eq {
		label += "+eq"
	}
	if len(flags) > 0 && g.chance(0.03) {
		flags = append(flags, flags[0])
		label += "+repeated"
	}
	for _, f := range flags {
		dash := "--"
		if g.chance(0.02) {
			dash = "-"
			label += "+single-dash"
		}
		if f[1] == "\x00bool" {
			if g.chance(0.1) {
				args = append(args, dash+f[0]+"="+g.pick("true", "false", "1", "yes"))
				label += "+bool-value"
				continue
			}
			args = append(args, dash+f[0])
			continue
		}
		if eq {
			args = append(args, dash+f[0]+"="+f[1])
		} else {
			args = append(args, dash+f[0], f[1])
		}
	}
	if g.chance(0.03) {
		args = append(args, g.pick("--bogus", "--bogus=1", "--room_version"))
		label += "+unknown-flag"
	}
	if input != "" {
		if g.chance(0.04) && len(args) > 1 {
			args = append([]string{cmd, input}, args[1:]...)
			label += "+file-first"
		} else {
			args = append(args, input)
		}
	}
	return args, strings.TrimPrefix(label, "+")
}

// input puts data in a file or on stdin.
func (g *gen) input(c *Case, data []byte) string {
	if g.chance(0.5) {
		c.Files["in.json"] = data
		c.Label += " file"
		return "@in.json"
	}
	c.Stdin = data
	c.Label += " stdin"
	return ""
}

func senderServers(raw []byte) []string {
	var m struct {
		Sender     string                    `json:"sender"`
		Signatures map[string]map[string]any `json:"signatures"`
	}
	_ = json.Unmarshal(raw, &m)
	out := []string{difftool.DomainOf(m.Sender)}
	for _, s := range difftool.SortedKeys(m.Signatures) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mutate changes a signed event now and then: a content change (hash mismatch), a dropped
// signature, a redactable field change (bad signature), a float or a huge number.
func (g *gen) mutate(raw []byte) ([]byte, string) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return raw, ""
	}
	label := ""
	switch g.r.Intn(10) {
	case 0:
		if c, ok := m["content"].(map[string]any); ok {
			c["body"] = "changed"
		}
		label = "mut-content"
	case 1:
		delete(m, "signatures")
		label = "mut-unsigned"
	case 2:
		m["origin_server_ts"] = json.Number("12345")
		label = "mut-ts"
	case 3:
		m["unsigned"] = M{"age": 5}
		label = "mut-add-unsigned"
	case 4:
		if c, ok := m["content"].(map[string]any); ok {
			c["x"] = json.Number(g.pick("1.5", "9007199254740993", "-0", "1e2"))
		}
		label = "mut-number"
	case 5:
		delete(m, g.pick("hashes", "depth", "auth_events", "type", "sender", "content"))
		label = "mut-drop-field"
	default:
		return raw, ""
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(m)
	return bytes.TrimRight(b.Bytes(), "\n"), label
}

// draw draws one case.
func (g *gen) draw() Case {
	c := Case{Files: map[string][]byte{}}
	cmds := []string{"canonical", "canonical", "redact", "content-hash", "event-id", "sign", "sign-event",
		"verify", "verify-event", "verify-event", "auth-events", "auth", "auth", "join-decision"}
	cmd := cmds[g.r.Intn(len(cmds))]
	c.Label = cmd
	if g.chance(0.01) {
		c.Args = []string{g.pick("bogus", "Canonical", "--strict", "eventid")}
		c.Label += " unknown-command"
		return c
	}
	vid := g.version()
	genVid := vid
	if !slices.Contains(pyref.Versions, vid) {
		genVid = "9"
	}
	var flags [][2]string
	var data []byte
	switch cmd {
	case "canonical":
		data = []byte(g.value(0))
		if g.chance(0.3) {
			data, _ = g.form(data)
		}
		if g.chance(0.5) {
			flags = append(flags, [2]string{"strict", "\x00bool"})
		}
	case "sign", "verify":
		ev, _, _, _, _ := g.room(genVid)
		if g.chance(0.3) {
			var m map[string]any
			_ = json.Unmarshal([]byte(g.value(1)), &m)
			if m != nil {
				b, _ := json.Marshal(m)
				ev = b
			}
		}
		if g.chance(0.5) {
			var ml string
			ev, ml = g.mutateSig(ev)
			c.Label += " " + ml
		}
		if cmd == "sign" {
			srv := g.pick("a.example", "b.example", "new.example")
			key, kl := g.keyLine(srv)
			c.Files["key"] = key
			c.Label += " " + kl
			flags = append(flags, [2]string{"server-name", srv}, [2]string{"key", "@key"})
		} else {
			ev, _ = g.mutate(ev)
			kf, kl := g.keysFile(senderServers(ev))
			c.Files["keys"] = kf
			c.Label += " " + kl
			flags = append(flags, [2]string{"keys", "@keys"})
		}
		data, _ = g.form(ev)
		if g.chance(0.7) {
			data = ev
		}
	case "join-decision":
		_, _, _, rm, _ := g.room(genVid)
		if difftool.VerNum(genVid) >= 8 && g.chance(0.7) {
			// Restricted rooms, where an authoriser is chosen.
			for i := 0; i < 30 && !strings.Contains(rm.JoinRule, "restricted"); i++ {
				_, _, _, rm, _ = g.room(genVid)
			}
		}
		var state []json.RawMessage
		for _, e := range rm.Order {
			state = append(state, e.Raw)
		}
		user := authgen.Users[g.r.Intn(len(authgen.Users))]
		if g.chance(0.5) {
			user = g.pick("@new:d.example", "@zed:b.example")
		}
		rooms := M{}
		if g.chance(0.7) {
			rooms["!other:b.example"] = M{user: g.pick("join", "join", "join", "invite", "leave", "ban")}
		}
		req := M{"room_version": vid, "state": state, "user_id": user,
			"resident_server": g.pick("a.example", "a.example", "a.example", "b.example", "c.example"), "rooms": rooms}
		data, _ = json.Marshal(req)
		if g.chance(0.2) {
			data, _ = g.form(data)
		}
	default:
		ev, auth, create, _, _ := g.room(genVid)
		switch cmd {
		case "redact", "event-id", "auth-events":
			ev, _ = g.mutate(ev)
			flags = append(flags, [2]string{"room-version", vid})
		case "content-hash":
			ev, _ = g.mutate(ev)
		case "sign-event":
			srv := g.pick("a.example", "b.example")
			key, kl := g.keyLine(srv)
			c.Files["key"] = key
			c.Label += " " + kl
			flags = append(flags, [2]string{"room-version", vid}, [2]string{"server-name", srv}, [2]string{"key", "@key"})
		case "verify-event":
			var ml string
			ev, ml = g.mutate(ev)
			kf, kl := g.keysFile(senderServers(ev))
			c.Files["keys"] = kf
			c.Label += " " + kl + " " + ml
			flags = append(flags, [2]string{"room-version", vid}, [2]string{"keys", "@keys"})
		case "auth":
			var list []json.RawMessage
			for _, a := range auth {
				list = append(list, a)
			}
			if genVid == "12" && create != nil && g.chance(0.9) {
				if !slices.ContainsFunc(list, func(x json.RawMessage) bool { return bytes.Equal(x, create) }) {
					list = append(list, create)
				}
			}
			if len(list) > 1 && g.chance(0.08) {
				i := g.r.Intn(len(list))
				list = append(list[:i:i], list[i+1:]...)
				c.Label += " auth-file-missing-one"
			}
			if create != nil && g.chance(0.05) {
				other, _, _, _, _ := g.room(genVid)
				list = append(list, other)
				c.Label += " auth-file-extra"
			}
			if g.chance(0.5) {
				var ml string
				ev, ml = forgeAuthoriser(ev)
				c.Label += ml
			}
			b, _ := json.Marshal(list)
			c.Files["auth"] = b
			flags = append(flags, [2]string{"room-version", vid}, [2]string{"auth-events", "@auth"})
			if g.chance(0.4) {
				kf, kl := g.keysFile([]string{"a.example", "b.example", "c.example"})
				c.Files["keys"] = kf
				c.Label += " " + kl
				flags = append(flags, [2]string{"keys", "@keys"})
			}
		}
		data = ev
		if g.chance(0.3) {
			var fl string
			data, fl = g.form(ev)
			c.Label += " " + fl
		}
	}
	c.Label += " v" + vid
	in := g.input(&c, data)
	var fl string
	c.Args, fl = g.flagArgs(cmd, flags, in)
	if fl != "" {
		c.Label += " " + fl
	}
	return c
}

// mutateSig changes the signatures and unsigned members of an object to be signed or verified.
func (g *gen) mutateSig(raw []byte) ([]byte, string) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return raw, ""
	}
	label := ""
	switch g.r.Intn(8) {
	case 0:
		m["unsigned"] = M{"age_ts": 5}
		label = "sig-unsigned"
	case 1:
		m["unsigned"] = nil
		label = "sig-unsigned-null"
	case 2:
		m["signatures"] = M{"other.example": "not-an-object"}
		label = "sig-entry-not-object"
	case 3:
		m["signatures"] = M{}
		label = "sig-empty"
	case 4:
		if s, ok := m["signatures"].(map[string]any); ok {
			s["z.example"] = M{"ed25519:1": DummySigOrBad(g)}
		}
		label = "sig-extra-unknown-server"
	case 5:
		if s, ok := m["signatures"].(map[string]any); ok {
			for _, e := range s {
				if em, ok := e.(map[string]any); ok {
					em["ed25519:9"] = "AAAA"
				}
			}
		}
		label = "sig-extra-unknown-keyid"
	default:
		return raw, ""
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(m)
	return bytes.TrimRight(b.Bytes(), "\n"), label
}

// DummySigOrBad is a signature that does not verify, well-formed or not.
func DummySigOrBad(g *gen) string {
	return g.pick(authgen.DummySig, "!!", "")
}

// forgeAuthoriser replaces the signature of the server of join_authorised_via_users_server by
// one that does not verify (well-formed base64 of 64 bytes).
func forgeAuthoriser(raw []byte) ([]byte, string) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return raw, ""
	}
	c, _ := m["content"].(map[string]any)
	a, _ := c["join_authorised_via_users_server"].(string)
	sigs, _ := m["signatures"].(map[string]any)
	dom := difftool.DomainOf(a)
	if dom == "" || sigs == nil {
		return raw, ""
	}
	sigs[dom] = M{"ed25519:1": authgen.DummySig}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(m)
	return bytes.TrimRight(b.Bytes(), "\n"), " forged-authoriser"
}

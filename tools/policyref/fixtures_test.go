package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// TestFixturesAgree runs testdata/policyserver/check.json through the spec-only reference with
// docs/decisions.md's readings (POLICYREF_DECISIONS=1). Each case's room is built as the
// library's test builds it (policyserver_test.go: create, the creator's and @bob's joins, the
// Policy Server user's membership, another joined user, the m.room.policy event naming the
// room's Policy Server key), the checked event is signed the case's way with the spec-only
// signing reference (tools/signref, SIGNREF_DECISIONS=1: countersign, which adds a signature
// over the redacted event and keeps the hashes) and changed as the case says; the reference's
// verdict must be the fixture's. The servers' own signatures, which neither the fixture nor
// policyref looks at, are placeholders.
func TestFixturesAgree(t *testing.T) {
	pyref.Require(t, "cryptography")
	b, err := os.ReadFile("../../testdata/policyserver/check.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name         string          `json:"name"`
		RoomVersion  string          `json:"room_version"`
		Policy       json.RawMessage `json:"policy"`
		PSMembership *string         `json:"ps_membership"`
		ExtraJoined  string          `json:"extra_joined"`
		Event        *struct {
			Type     string          `json:"type"`
			StateKey *string         `json:"state_key"`
			Sender   string          `json:"sender"`
			Content  json.RawMessage `json:"content"`
		} `json:"event"`
		Sign   string `json:"sign"`
		Tamper string `json:"tamper"`
		Expect string `json:"expect"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	ref, err := pyref.Start(pyref.Beside("policyref.py"), "POLICYREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	sref, err := pyref.Start(filepath.Join("..", "signref", "signref.py"), "SIGNREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer sref.Close()
	signref := func(req map[string]any) string {
		t.Helper()
		var a struct {
			Out   string `json:"out"`
			Err   string `json:"err"`
			Error string `json:"error"`
		}
		if err := sref.Ask(req, &a); err != nil {
			t.Fatal(err)
		}
		if a.Err != "" || a.Error != "" {
			t.Fatalf("signref %v: %s %s", req["op"], a.Err, a.Error)
		}
		return a.Out
	}
	seed := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return base64.RawStdEncoding.EncodeToString(h[:])
	}
	const (
		creator, sender, psServer, psUser = "@alice:a.example", "@bob:b.example", "policy.example", "@ps:policy.example"
		kv, keyID                         = "policy_server", "ed25519:policy_server"
	)
	roomSeed := seed("room policy key")
	pub := signref(map[string]any{"op": "new_key", "seed": roomSeed, "kv": kv})
	edit := func(raw string, f func(m map[string]any)) string {
		d := json.NewDecoder(strings.NewReader(raw))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	counter := func(v, raw, server, seed, kv string) string {
		return signref(map[string]any{"op": "countersign", "v": v, "ev": raw, "server": server, "seed": seed, "kv": kv})
	}

	compared := 0
	for _, c := range cases {
		v := c.RoomVersion
		if v == "" {
			v = "10"
		}
		n, roomID := 0, "!room:a.example"
		mk := func(typ string, sk *string, from, content string) string {
			n++
			server := from[strings.LastIndex(from, ":")+1:]
			ev := map[string]any{"type": typ, "sender": from, "content": json.RawMessage(content), "depth": n,
				"origin_server_ts": 1700000000000 + n, "prev_events": []any{}, "auth_events": []any{},
				"hashes":     map[string]any{"sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
				"signatures": map[string]any{server: map[string]any{"ed25519:1": "c2lnbmF0dXJl"}}}
			if sk != nil {
				ev["state_key"] = *sk
			}
			if !(v == "12" && typ == "m.room.create") {
				ev["room_id"] = roomID
			}
			if v == "1" || v == "2" {
				ev["event_id"] = fmt.Sprintf("$e%d:%s", n, server)
			}
			out, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
		sp := func(s string) *string { return &s }
		var state []string
		add := func(typ string, sk *string, from, content string) {
			state = append(state, mk(typ, sk, from, content))
		}
		add("m.room.create", sp(""), creator, fmt.Sprintf(`{"creator":%q,"room_version":%q}`, creator, v))
		if v == "12" {
			roomID = "!" + signref(map[string]any{"op": "event_id", "v": v, "ev": state[0]})[1:]
		}
		add("m.room.member", sp(creator), creator, `{"membership":"join"}`)
		add("m.room.member", sp(sender), sender, `{"membership":"join"}`)
		if c.PSMembership == nil {
			c.PSMembership = sp("join")
		}
		if *c.PSMembership != "" {
			add("m.room.member", sp(psUser), psUser, fmt.Sprintf(`{"membership":%q}`, *c.PSMembership))
		}
		if c.ExtraJoined != "" {
			add("m.room.member", sp(c.ExtraJoined), c.ExtraJoined, `{"membership":"join"}`)
		}
		policy := string(c.Policy)
		if c.Policy == nil {
			policy = `{"via":"policy.example","public_keys":{"ed25519":"$POLICY_KEY"}}`
		}
		if policy != "null" {
			add("m.room.policy", sp(""), creator, strings.ReplaceAll(policy, "$POLICY_KEY", pub))
		}

		typ, sk, from, content := "m.room.message", (*string)(nil), sender, `{"msgtype":"m.text","body":"hello"}`
		if e := c.Event; e != nil {
			typ, sk, content = e.Type, e.StateKey, string(e.Content)
			if e.Sender != "" {
				from = e.Sender
			}
		}
		raw := mk(typ, sk, from, content)
		policySig := func() string {
			var sig string
			edit(counter(v, raw, psServer, roomSeed, kv), func(m map[string]any) {
				sig = m["signatures"].(map[string]any)[psServer].(map[string]any)[keyID].(string)
			})
			return sig
		}
		setPolicySig := func(sig string) {
			raw = edit(raw, func(m map[string]any) {
				sigs := m["signatures"].(map[string]any)
				if sigs[psServer] == nil {
					sigs[psServer] = map[string]any{}
				}
				sigs[psServer].(map[string]any)[keyID] = sig
			})
		}
		switch c.Sign {
		case "none":
		case "policy":
			setPolicySig(policySig())
		case "published":
			raw = counter(v, raw, psServer, seed(psServer), "1")
		case "other-server":
			raw = counter(v, raw, "other.example", roomSeed, kv)
		case "wrong-key":
			raw = counter(v, raw, psServer, seed("another key"), kv)
		case "garbage":
			setPolicySig("!!not base64!!")
		default:
			t.Fatalf("%s: unknown sign %q", c.Name, c.Sign)
		}
		switch c.Tamper {
		case "":
		case "origin_server_ts":
			raw = edit(raw, func(m map[string]any) { m["origin_server_ts"] = json.Number("1") })
		case "content":
			raw = edit(raw, func(m map[string]any) { m["content"].(map[string]any)["body"] = "changed" })
		default:
			t.Fatalf("%s: unknown tamper %q", c.Name, c.Tamper)
		}

		var a struct {
			Uses    bool   `json:"uses"`
			Server  string `json:"server"`
			Verdict string `json:"verdict"`
			Invalid string `json:"invalid"`
			Error   string `json:"error"`
		}
		if err := ref.Ask(map[string]any{"op": "check", "v": v, "state": state, "event": raw}, &a); err != nil {
			t.Fatal(err)
		}
		if a.Error != "" || a.Invalid != "" {
			t.Errorf("%s: reference error %q, invalid %q", c.Name, a.Error, a.Invalid)
			continue
		}
		compared++
		got := map[string]string{"ok": "recommended", "missing": "missing", "bad": "bad", "invalid_key": "invalid-key"}[a.Verdict]
		if !a.Uses {
			got = "not-in-use"
		} else if a.Server != psServer {
			got += " (Policy Server " + a.Server + ")"
		}
		if got != c.Expect {
			t.Errorf("%s (v%s): fixture %s; reference %s", c.Name, v, c.Expect, got)
		}
	}
	if compared < 35 {
		t.Errorf("compared %d cases, want at least 35", compared)
	}
	t.Logf("compared %d check.json cases", compared)
}

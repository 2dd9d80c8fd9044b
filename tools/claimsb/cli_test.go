package claimsb

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
	"github.com/roomproto/roomproto/tools/internal/clitest"
)

// cliBinary is the roomproto command, built once per test run.
var cliBinary = &clitest.Binary{Root: "../..", Path: filepath.Join(os.TempDir(), "claimsb-roomproto")}

// cli runs the roomproto command with stdin and returns stdout, stderr and the exit status.
func cli(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	r := cliBinary.Run(t, "", stdin, args...)
	return r.Stdout, r.Stderr, r.Code
}

func file(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// unusable asserts exit 1, empty stdout and exactly one line on stderr (hostile input 3).
func unusable(t *testing.T, name string, out, errOut string, code int) {
	t.Helper()
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") {
		t.Errorf("%s: want exit 1, empty stdout, one stderr line; got %d %q %q", name, code, out, errOut)
	}
}

func keysFile(t *testing.T, servers ...string) string {
	m := M{}
	for _, s := range servers {
		m[s] = M{"ed25519:1": base64.RawStdEncoding.EncodeToString(authgen.KeyFor(s, "1").Public())}
	}
	return file(t, "keys.json", claimkit.Marshal(t, m))
}

// decisions.md (hostile input) 3: exit codes and streams; go doc ./cmd/roomproto.
func TestCLIExitCodes(t *testing.T) {
	o, e, c := cli(t, nil)
	unusable(t, "no command", o, e, c)
	o, e, c = cli(t, nil, "bogus")
	unusable(t, "unknown command", o, e, c)
	o, e, c = cli(t, nil, "help")
	if c != 0 || e != "" || !strings.Contains(o, "verify-room") {
		t.Errorf("help: %d %q", c, e)
	}
	o, e, c = cli(t, []byte(`{}`), "canonical", "--bogus")
	unusable(t, "unknown flag", o, e, c)
	o, e, c = cli(t, []byte(`{}`), "event-id")
	unusable(t, "missing flag", o, e, c)
	o, e, c = cli(t, []byte(`{}`), "event-id", "--room-version", "99")
	unusable(t, "unknown room version", o, e, c)
}

// go doc ./cmd/roomproto (settled by B1): exit 1 "also [for] no command or an unknown one, with
// one line on standard error".
func TestCLIDocExitTwo(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {}} {
		o, e, c := cli(t, nil, args...)
		unusable(t, fmt.Sprintf("command %q", args), o, e, c)
	}
}

// decisions.md (hostile input) 3 and 3a: verify/verify-event/auth on non-objects and non-JSON.
func TestCLIVerifyInputs(t *testing.T) {
	keys := keysFile(t, "a.example")
	for _, c := range []struct {
		name string
		in   string
		args []string
	}{
		{"verify cut float", `{"a":1.5,`, []string{"verify", "--keys", keys}},
		{"verify array", `[1]`, []string{"verify", "--keys", keys}},
		{"verify empty", ``, []string{"verify", "--keys", keys}},
		{"verify-event array", `[1]`, []string{"verify-event", "--room-version", "10", "--keys", keys}},
		{"verify-event bare word", `true`, []string{"verify-event", "--room-version", "10", "--keys", keys}},
		{"auth array", `[1]`, []string{"auth", "--room-version", "10", "--auth-events", file(t, "ae.json", []byte(`[]`))}},
	} {
		o, e, code := cli(t, []byte(c.in), c.args...)
		unusable(t, c.name, o, e, code)
	}
	// verify-event on an object that is no event: a verdict
	o, e, code := cli(t, []byte(`{"a":1}`), "verify-event", "--room-version", "10", "--keys", keys)
	if code != 0 || e != "" || !strings.HasPrefix(o, `{"reason":`) || !strings.HasSuffix(o, `"valid":false}`+"\n") {
		t.Errorf("verify-event non-event object: %d %q %q", code, o, e)
	}
	// auth on an object that is no event: fatal verdict without rule, exit 0, DESIGN.md key order
	o, e, code = cli(t, []byte(`{"type":"m.room.message"}`), "auth", "--room-version", "10", "--auth-events", file(t, "ae.json", []byte(`[]`)))
	if code != 0 || e != "" || !strings.HasPrefix(o, `{"allowed":false,"severity":"fatal","reason":`) || strings.Contains(o, `"rule"`) {
		t.Errorf("auth non-event object: %d %q %q", code, o, e)
	}
}

// decisions.md (Cross-package decisions) "Command line" (settled by B2): JSON that is not an
// object is unusable input (exit 1) in every command, verify included.
func TestCLICrossPackageNonObjectVerdict(t *testing.T) {
	keys := keysFile(t, "a.example")
	o, e, code := cli(t, []byte(`[1]`), "verify", "--keys", keys)
	unusable(t, "verify [1]", o, e, code)
}

// decisions.md (hostile input) 3a: outputs beyond DESIGN.md.
func TestCLIOutputs(t *testing.T) {
	v := ver("10")
	b := raw(t, v, M{"content": M{"body": "hi"}})
	o, e, c := cli(t, []byte(`{"b":1,"a":2}`), "canonical")
	if c != 0 || e != "" || o != `{"a":2,"b":1}` {
		t.Errorf("canonical %q", o)
	}
	o, _, c = cli(t, b, "event-id", "--room-version", "10")
	idOut := o
	if c != 0 || !strings.HasPrefix(o, "$") || !strings.HasSuffix(o, "\n") || strings.Count(o, "\n") != 1 {
		t.Errorf("event-id %q", o)
	}
	o, _, c = cli(t, b, "content-hash")
	if c != 0 || !strings.HasPrefix(o, `{"sha256":"`) || !strings.HasSuffix(o, "}\n") {
		t.Errorf("content-hash %q", o)
	}
	keys := keysFile(t, "a.example")
	o, e, c = cli(t, b, "verify-event", "--room-version", "10", "--keys", keys)
	if c != 0 || e != "" || o != `{"valid":true}`+"\n" {
		t.Errorf("verify-event %q %q", o, e)
	}
	signedObj, err := signing.SignJSON([]byte(`{"a":1}`), "a.example", authgen.KeyFor("a.example", "1"))
	if err != nil {
		t.Fatal(err)
	}
	o, e, c = cli(t, signedObj, "verify", "--keys", keys)
	if c != 0 || e != "" || o != `{"valid":true}`+"\n" {
		t.Errorf("verify %q %q", o, e)
	}
	// flags after the file; "--" ends the flags; "-" is stdin
	f := file(t, "ev.json", b)
	o1, _, c1 := cli(t, nil, "event-id", f, "--room-version", "10")
	o2, _, c2 := cli(t, nil, "event-id", "--room-version", "10", "--", f)
	o3, _, c3 := cli(t, b, "event-id", "--room-version", "10", "-")
	if c1 != 0 || c2 != 0 || c3 != 0 || o1 != idOut || o1 != o2 || o2 != o3 {
		t.Errorf("flag placement: %d %d %d %q %q %q", c1, c2, c3, o1, o2, o3)
	}
	// --keys: other algorithms skipped, malformed key IDs refused
	pub := base64.RawStdEncoding.EncodeToString(authgen.KeyFor("a.example", "1").Public())
	k2 := file(t, "k2.json", claimkit.Marshal(t, M{"a.example": M{"ed25519:1": pub, "curve25519:x": "abc"}}))
	o, e, c = cli(t, b, "verify-event", "--room-version", "10", "--keys", k2)
	if c != 0 || o != `{"valid":true}`+"\n" {
		t.Errorf("other algorithm key: %d %q %q", c, o, e)
	}
	for _, kid := range []string{"ed25519", ":1", "ed25519:"} {
		k3 := file(t, "k3.json", claimkit.Marshal(t, M{"a.example": M{"ed25519:1": pub, kid: pub}}))
		o, e, c = cli(t, b, "verify-event", "--room-version", "10", "--keys", k3)
		unusable(t, "malformed key ID "+kid, o, e, c)
	}
	// join-decision: malformed input is exit 1
	o, e, c = cli(t, []byte(`{"room_version":"10"`), "join-decision")
	unusable(t, "join-decision not JSON", o, e, c)
	o, e, c = cli(t, []byte(`{"room_version":"10","state":[],"user_id":"@b:b.example","resident_server":"a.example"}`), "join-decision")
	unusable(t, "join-decision without create", o, e, c)
}

// decisions.md (hostile input) 4 and Cross-package "v1-2 event_id format".
func TestCLIEventIDLineBreaks(t *testing.T) {
	v := ver("1")
	for _, c := range []struct {
		name string
		id   string
		ok   bool
	}{
		{"plain", "$abc:a.example", true},
		{"empty opaque", "$:a.example", true},
		{"SOH", "$a\x01b:a.example", true},
		{"US 0x1f", "$a\x1fb:a.example", true},
		{"tab", "$a\tb:a.example", true},
		{"LF", "$a\nb:a.example", false},
		{"CR", "$a\rb:a.example", false},
		{"VT", "$a\vb:a.example", false},
		{"FF", "$a\fb:a.example", false},
		{"FS", "$a\x1cb:a.example", false},
		{"GS", "$a\x1db:a.example", false},
		{"RS", "$a\x1eb:a.example", false},
		{"NEL", "$a\u0085b:a.example", false},
		{"LS", "$a\u2028b:a.example", false},
		{"PS", "$a\u2029b:a.example", false},
		{"255 bytes", "$" + strings.Repeat("x", 244) + ":a.example", true},
		{"256 bytes", "$" + strings.Repeat("x", 245) + ":a.example", false},
		{"bad domain", "$abc:a_b", false},
		{"no domain", "$abc", false},
	} {
		m := M{"event_id": c.id, "room_id": roomID, "sender": "@a:a.example", "type": "m.room.message", "content": M{}, "prev_events": []any{}, "auth_events": []any{}, "depth": 1, "origin_server_ts": 1, "hashes": M{"sha256": "x"}, "signatures": M{}}
		b, _ := json.Marshal(m)
		o, e, code := cli(t, b, "event-id", "--room-version", "1")
		if c.ok {
			if code != 0 || o != c.id+"\n" || e != "" {
				t.Errorf("%s: %d %q %q", c.name, code, o, e)
			}
		} else {
			unusable(t, c.name, o, e, code)
		}
		_ = v
	}
}

// decisions.md (bulk) 9: replay output, no FILE, "-", another room.
func TestCLIReplay(t *testing.T) {
	o, e, c := cli(t, []byte(`{"room_version":"10","events":[]}`), "replay")
	lines := strings.Split(strings.TrimSuffix(o, "\n"), "\n")
	if c != 0 || e != "" || len(lines) < 3 || !strings.HasPrefix(lines[len(lines)-1], "summary:") || !strings.HasPrefix(lines[0], "#") {
		t.Errorf("replay without FILE: %d %q", c, e)
	}
	builtin := len(lines)
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	bj := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": refs(v, r.create, r.pl, r.jr), "prev_events": refs(v, r.jr), "depth": 5})
	foreign := ev(t, v, M{"room_id": "!other:a.example", "type": "m.room.topic", "state_key": "", "content": M{"topic": "x"}, "auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, bj), "depth": 6})
	var evs []json.RawMessage
	for _, e := range append(r.events(), bj, foreign, bj) {
		evs = append(evs, e.Raw())
	}
	dump := claimkit.Marshal(t, M{"room_version": "10", "events": evs})
	o, e, c = cli(t, dump, "replay", "-")
	lines = strings.Split(strings.TrimSuffix(o, "\n"), "\n")
	if c != 0 || e != "" || len(lines) != 2+7 || len(lines) == builtin {
		t.Fatalf("replay -: %d %q\n%s", c, e, o)
	}
	if !strings.Contains(lines[6], "rejected") || strings.Contains(lines[6], "rule") {
		t.Errorf("foreign event row: %q", lines[6])
	}
	if !strings.Contains(lines[7], "accepted") {
		t.Errorf("second copy row: %q", lines[7])
	}
	if !strings.Contains(lines[8], "another room") {
		t.Errorf("summary: %q", lines[8])
	}
	o2, _, _ := cli(t, nil, "replay", file(t, "dump.json", dump))
	if o2 != o {
		t.Error("replay FILE differs from replay -")
	}
}

// decisions.md (bulk) 10 and hostile input 5: verify-room JSON lines, counts, forged copy.
func TestCLIVerifyRoom(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	msg := raw(t, v, M{"content": M{"body": "hi"}, "auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.jr), "depth": 5})
	var m map[string]any
	_ = json.Unmarshal(msg, &m)
	m["signatures"] = M{"a.example": M{"ed25519:1": authgen.DummySig}}
	forged := claimkit.Marshal(t, m)
	_ = json.Unmarshal(msg, &m)
	m["content"] = M{"body": "changed"}
	hashBad := claimkit.Marshal(t, m) // same redacted form: redacted
	var evs []json.RawMessage
	for _, e := range r.events() {
		evs = append(evs, e.Raw())
	}
	evs = append(evs, msg, forged, hashBad)
	dump := claimkit.Marshal(t, M{"room_version": "10", "events": evs})
	o, e, c := cli(t, dump, "verify-room", "--keys", keysFile(t, "a.example"), "--quiet")
	if c != 0 || e != "" {
		t.Fatalf("verify-room: %d %q", c, e)
	}
	lines := strings.Split(strings.TrimSuffix(o, "\n"), "\n")
	var sum struct {
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Summary == nil {
		t.Fatalf("summary line %q", lines[len(lines)-1])
	}
	s := map[string]int{}
	for k, x := range sum.Summary {
		if f, ok := x.(float64); ok {
			s[k] = int(f)
		}
	}
	if s["events"] != 7 || s["valid"]+s["redacted"]+s["rejected"]+s["bad_signature"]+s["missing_key"]+s["malformed"] != s["events"] {
		t.Errorf("summary %v", s)
	}
	if s["valid"] != 5 || s["bad_signature"] != 1 || s["redacted"] != 1 {
		t.Errorf("forged copy must not taint the genuine event: %v\n%s", s, o)
	}
	for _, l := range lines[:len(lines)-1] {
		var x map[string]any
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Errorf("not a JSON line: %q", l)
		}
	}
	// unusable dump: exit 1, one line
	o, e, c = cli(t, []byte(`{"room_version":"10","events":`), "verify-room", "--keys", keysFile(t, "a.example"))
	unusable(t, "verify-room bad dump", o, e, c)
}

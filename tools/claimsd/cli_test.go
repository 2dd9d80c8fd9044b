package claimsd

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// joinInput is a join-decision input for bob's... carol's join to the v9 room of buildRoom.
func joinInput(t *testing.T, extra M) []byte {
	r := buildRoom(t, "9", "")
	var state []json.RawMessage
	for _, e := range r.state() {
		state = append(state, e.Raw())
	}
	in := M{"room_version": "9", "state": state, "user_id": "@carol:c.example", "resident_server": "a.example"}
	for k, v := range extra {
		in[k] = v
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// docs/decisions.md membership 16: "The join-decision input takes optional origin and ver
// members for the same checks; absent, they are not checked, and a present origin must name
// the requesting server: "origin": "" is refused as bad input (400 M_BAD_JSON), not read as
// "not checked"". membership's input doc: "a present "origin" must not be empty (400
// M_BAD_JSON ...)".
func TestJoinDecisionEmptyOrigin(t *testing.T) {
	for _, c := range []struct {
		name   string
		extra  M
		code   int
		stdout string
	}{
		{"absent", nil, 0, `{"decision":"allow"}` + "\n"},
		{"the user's server", M{"origin": "c.example"}, 0, `{"decision":"allow"}` + "\n"},
		{"another server", M{"origin": "x.example"}, 0, `{"decision":"reject","errcode":"M_FORBIDDEN","error":"@carol:c.example is not a user of the requesting server x.example","status":403}` + "\n"},
		{"empty", M{"origin": ""}, 1, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := joinInput(t, c.extra)
			res := cli.Run(t, "", in, "join-decision")
			if res.Code != c.code || res.Stdout != c.stdout {
				t.Errorf("exit %d stdout %q stderr %q; want %d %q", res.Code, res.Stdout, res.Stderr, c.code, c.stdout)
			}
			_, err := membership.ParseJoinRequest(in)
			if c.code == 0 {
				if err != nil {
					t.Errorf("ParseJoinRequest: %v", err)
				}
				return
			}
			if res.Stderr != "roomproto join-decision: membership: 400 M_BAD_JSON: origin is empty\n" {
				t.Errorf("stderr %q", res.Stderr)
			}
			var me *membership.Error
			if !errors.As(err, &me) || me.Status != 400 || me.ErrCode != "M_BAD_JSON" {
				t.Errorf("ParseJoinRequest: %v, want 400 M_BAD_JSON", err)
			}
		})
	}
}

// commandNames are the commands `roomproto help` lists.
func commandNames(t *testing.T) []string {
	res := cli.Run(t, "", nil, "help")
	var names []string
	for _, l := range strings.Split(res.Stdout, "\n") {
		if f := strings.Fields(l); strings.HasPrefix(l, "  ") && len(f) > 1 {
			names = append(names, f[0])
		}
	}
	if len(names) != 14 {
		t.Fatalf("help lists %d commands: %q", len(names), res.Stdout)
	}
	return names
}

// README: "roomproto help lists the commands and roomproto <command> -h prints a command's
// usage and flags (exit 0)"; cmd/roomproto doc: "roomproto <command> -h the command's usage
// and flags (exit 0)"; docs/decisions.md CLI 3b: "<command> -h / --help, which prints the
// command's usage line and flags on standard output and exits 0".
func TestCommandHelp(t *testing.T) {
	helpLine := map[string]string{}
	res := cli.Run(t, "", nil, "help")
	for _, l := range strings.Split(res.Stdout, "\n") {
		if f := strings.Fields(l); strings.HasPrefix(l, "  ") && len(f) > 1 {
			helpLine[f[0]] = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), f[0]))
		}
	}
	flagRe := regexp.MustCompile(`--([a-z-]+)`)
	for _, name := range commandNames(t) {
		for _, form := range [][]string{{name, "-h"}, {name, "--help"}, {name, "-help"}, {name, "x.json", "-h"}} {
			t.Run(strings.Join(form, " "), func(t *testing.T) {
				res := cli.Run(t, t.TempDir(), nil, form...)
				if res.Code != 0 || res.Stderr != "" {
					t.Fatalf("exit %d stderr %q", res.Code, res.Stderr)
				}
				lines := strings.Split(res.Stdout, "\n")
				want := "usage: roomproto " + name + ": " + helpLine[name]
				if lines[0] != want {
					t.Errorf("first line %q, want %q", lines[0], want)
				}
				// every flag the help line names is listed under "flags:"
				for _, m := range flagRe.FindAllStringSubmatch(helpLine[name], -1) {
					if !strings.Contains(res.Stdout, "flags:\n") || !strings.Contains(res.Stdout, "  -"+m[1]+" ") && !strings.Contains(res.Stdout, "  -"+m[1]+"\n") {
						t.Errorf("flag --%s not listed:\n%s", m[1], res.Stdout)
					}
				}
			})
		}
	}
	t.Run("-h after --", func(t *testing.T) {
		// after "--" -h is a FILE: no help, a missing file (exit 1)
		res := cli.Run(t, t.TempDir(), nil, "canonical", "--", "-h")
		if res.Code != 1 || res.Stdout != "" {
			t.Errorf("exit %d stdout %q", res.Code, res.Stdout)
		}
	})
}

// README usage lines "roomproto verify-room --keys FILE [--quiet] [--timing] [FILE]" and "roomproto replay
// [--keys FILE] [FILE]"; decisions CLI 3b: "The README's usage lines and roomproto help list
// them."
func TestUsageLinesListNewFlags(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(claimkit.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	help := cli.Run(t, "", nil, "help").Stdout
	for _, c := range []struct{ readme, help string }{
		{"roomproto verify-room --keys FILE [--quiet] [--timing] [FILE]\n", "verify and authorise a whole room dump --keys FILE [--quiet] [--timing] [FILE]\n"},
		{"roomproto replay [--keys FILE] [FILE]\n", "through the auth rules [--keys FILE] [FILE]\n"},
	} {
		if !strings.Contains(string(readme), c.readme) {
			t.Errorf("README lacks %q", c.readme)
		}
		if !strings.Contains(help, c.help) {
			t.Errorf("help lacks %q", c.help)
		}
	}
}

// exampleRoom reads cmd/roomproto/exampleroom.json.
func exampleRoom(t *testing.T) M {
	b, err := os.ReadFile(filepath.Join(claimkit.Root(), "cmd/roomproto/exampleroom.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m M
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeJSON(t *testing.T, dir, name string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// README: "A room dump, the input of replay and verify-room, is {"room_version": "9", "events":
// [...]} with an optional "keys" member in the --keys format (roomproto's extension); replay
// --keys FILE replaces it"; "the built-in example room carries its keys, so its restricted
// join's signature is verified"; decisions CLI 3b: "replay --keys FILE (its key set replaces
// the dump's)".
func TestReplayKeys(t *testing.T) {
	ex := exampleRoom(t)
	keys := ex["keys"].(map[string]any)
	dir := t.TempDir()
	noKeys := M{"room_version": ex["room_version"], "events": ex["events"]}
	writeJSON(t, dir, "nokeys.json", noKeys)
	writeJSON(t, dir, "keys.json", keys)
	bad := M{}
	for k, v := range keys {
		bad[k] = v
	}
	bad["b.example"] = keys["c.example"] // b.example's key replaced by another
	writeJSON(t, dir, "bad.json", bad)
	withBad := M{"room_version": ex["room_version"], "events": ex["events"], "keys": bad}
	writeJSON(t, dir, "withbad.json", withBad)
	const joinID = "$zIX20AsMQcPqskgjhH_tQ5m2g8QSaB7dEbuyXS6DwRQ"
	line := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, joinID) {
				return l
			}
		}
		return ""
	}
	builtin := cli.Run(t, dir, nil, "replay")
	for _, c := range []struct {
		name string
		args []string
		want string // the end of the restricted join's line
	}{
		{"built-in", []string{"replay"}, "accepted rule 4.3.5.3"},
		{"dump without keys", []string{"replay", "nokeys.json"}, `accepted rule 4.3.5.3 (warning, rule 4.2.1: signature by "b.example" present but not verified (no keys given): the caller must verify it)`},
		{"dump without keys, --keys", []string{"replay", "--keys", "keys.json", "nokeys.json"}, "accepted rule 4.3.5.3"},
		{"built-in, bad --keys", []string{"replay", "--keys", "bad.json"}, `rejected rule 4.2.1: no valid signature by "b.example", the server of authorising user "@mod:b.example": signing: bad signature (server "b.example", key "ed25519:1"): signature does not verify`},
		{"dump with bad keys", []string{"replay", "withbad.json"}, `rejected rule 4.2.1: no valid signature by "b.example", the server of authorising user "@mod:b.example": signing: bad signature (server "b.example", key "ed25519:1"): signature does not verify`},
		{"dump with bad keys, good --keys", []string{"replay", "withbad.json", "--keys", "keys.json"}, "accepted rule 4.3.5.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := cli.Run(t, dir, nil, c.args...)
			if res.Code != 0 {
				t.Fatalf("exit %d %q", res.Code, res.Stderr)
			}
			if l := line(res.Stdout); !strings.HasSuffix(strings.TrimSpace(l), c.want) {
				t.Errorf("line %q, want it to end with %q", l, c.want)
			}
		})
	}
	if !strings.Contains(builtin.Stdout, "summary: room version 9, 16 events, 12 accepted, 4 rejected") || builtin.Stderr != "" {
		t.Errorf("built-in: %q %q", builtin.Stdout, builtin.Stderr)
	}
}

// README: "--keys takes {...}, where a key may also be {"key": "<unpadded base64>",
// "valid_until_ts": <ms>} to give its validity (signing.ParseKeyRing)"; decisions CLI 3b.
func TestKeysObjectForm(t *testing.T) {
	ex := exampleRoom(t)
	keys := ex["keys"].(map[string]any)
	dir := t.TempDir()
	obj := M{}
	for s, ks := range keys {
		m := M{}
		for id, k := range ks.(map[string]any) {
			m[id] = M{"key": k, "valid_until_ts": int64(4102444800000)}
		}
		obj[s] = m
	}
	writeJSON(t, dir, "obj.json", obj)
	writeJSON(t, dir, "plain.json", keys)
	writeJSON(t, dir, "room.json", M{"room_version": ex["room_version"], "events": ex["events"]})
	norm := regexp.MustCompile(`"(events_per_second|milliseconds)":\d+`)
	a := cli.Run(t, dir, nil, "verify-room", "--keys", "plain.json", "room.json")
	b := cli.Run(t, dir, nil, "verify-room", "--keys", "obj.json", "room.json")
	if a.Code != 0 || b.Code != 0 || norm.ReplaceAllString(a.Stdout, "") != norm.ReplaceAllString(b.Stdout, "") {
		t.Errorf("plain %d %q\nobject %d %q %q", a.Code, a.Stdout, b.Code, b.Stdout, b.Stderr)
	}
	r := cli.Run(t, dir, nil, "replay", "--keys", "obj.json", "room.json")
	if r.Code != 0 || strings.Contains(r.Stdout, "warning, rule 4.2.1") || strings.Contains(r.Stdout, "rejected rule 4.2.1") {
		t.Errorf("replay with object keys: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
}

// README: "verify-room --quiet leaves out the progress shown on standard error"; the output is
// the same with and without it.
func TestVerifyRoomQuiet(t *testing.T) {
	ex := exampleRoom(t)
	dir := t.TempDir()
	writeJSON(t, dir, "keys.json", ex["keys"])
	norm := regexp.MustCompile(`"(events_per_second|milliseconds)":\d+`)
	a := cli.Run(t, "", nil, "verify-room", "--keys", filepath.Join(dir, "keys.json"), "cmd/roomproto/exampleroom.json")
	b := cli.Run(t, "", nil, "verify-room", "--quiet", "--keys", filepath.Join(dir, "keys.json"), "cmd/roomproto/exampleroom.json")
	c := cli.Run(t, "", nil, "verify-room", "--keys", filepath.Join(dir, "keys.json"), "cmd/roomproto/exampleroom.json", "--quiet")
	if a.Code != 0 || b.Code != 0 || c.Code != 0 || b.Stderr != "" || c.Stderr != "" ||
		norm.ReplaceAllString(a.Stdout, "") != norm.ReplaceAllString(b.Stdout, "") || b.Stdout == "" ||
		norm.ReplaceAllString(c.Stdout, "") != norm.ReplaceAllString(b.Stdout, "") {
		t.Errorf("without %d %q %q\nwith %d %q %q", a.Code, a.Stdout, a.Stderr, b.Code, b.Stdout, b.Stderr)
	}
}

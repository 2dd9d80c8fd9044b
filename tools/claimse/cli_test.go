package claimse

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/pdu"
)

const eventBound = 8388608 // "8 MiB (maxEventInput, 128 × 65,536 bytes)"

// files writes the inputs the CLI cases use into a temporary directory.
type files struct {
	dir                                   string
	key, keys, obj, signedObj, ev, ae, st string
}

func writeFiles(t *testing.T) files {
	t.Helper()
	d := t.TempDir()
	f := files{dir: d}
	w := func(name string, data []byte) string {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k := authfixture.Key("a.example")
	f.key = w("a.key", []byte("ed25519 "+k.Version+" "+base64.RawStdEncoding.EncodeToString(k.Private.Seed())+"\n"))
	keys, _ := json.Marshal(M{"a.example": M{k.KeyID(): base64.RawStdEncoding.EncodeToString(k.Public())}})
	f.keys = w("keys.json", keys)
	f.obj = w("obj.json", []byte(`{"a":1}`))
	r := cli.Run(t, d, nil, "sign", "--server-name", "a.example", "--key", f.key, f.obj)
	if r.Code != 0 {
		t.Fatalf("sign: %+v", r)
	}
	f.signedObj = w("signed.json", []byte(r.Stdout))
	evs := roomState(t, "9", nil, "jr_public", `"bob_join"`)
	f.ev = w("ev.json", evs[len(evs)-1].Raw())
	arr := func(es []*pdu.Event) []byte {
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range es {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(e.Raw())
		}
		b.WriteByte(']')
		return b.Bytes()
	}
	f.ae = w("auth.json", arr(evs[:len(evs)-1]))
	f.st = w("state.json", arr(evs[:len(evs)-1]))
	return f
}

func oneLine(s string) bool { return strings.Count(s, "\n") == 1 && strings.HasSuffix(s, "\n") }

// decisions.md (CLI) 3c "A flag given twice is unusable input (exit 1, "--keys given twice"),
// whatever its form"; README "Flags may come before or after FILE, each at most once".
func TestFlagsTwice(t *testing.T) {
	f := writeFiles(t)
	dump := writeDump(t, f.dir, "9")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"--keys twice", []string{"verify", "--keys", f.keys, "--keys", f.keys, f.signedObj}, "--keys given twice"},
		{"-keys= then --keys", []string{"verify", "-keys=" + f.keys, f.signedObj, "--keys", f.keys}, "--keys given twice"},
		{"--keys= twice", []string{"verify", "--keys=" + f.keys, "--keys=" + f.keys, f.signedObj}, "--keys given twice"},
		{"boolean twice", []string{"canonical", "--strict", "--strict", f.obj}, "--strict given twice"},
		{"boolean =true and bare", []string{"canonical", "--strict=true", f.obj, "-strict"}, "--strict given twice"},
		{"--quiet twice", []string{"verify-room", "--keys", f.keys, "--quiet", dump, "--quiet"}, "--quiet given twice"},
		{"--timing twice", []string{"verify-room", "--keys", f.keys, "--timing", "--timing", dump}, "--timing given twice"},
		{"--room-version twice", []string{"event-id", "--room-version", "9", "--room-version", "9", f.ev}, "--room-version given twice"},
		{"--server-name twice", []string{"sign", "--server-name", "a.example", "--key", f.key, "--server-name", "a.example", f.obj}, "--server-name given twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cli.Run(t, f.dir, nil, c.args...)
			if r.Code != 1 || !strings.Contains(r.Stderr, c.want) || !oneLine(r.Stderr) || r.Stdout != "" {
				t.Errorf("%v: %+v, want exit 1, one line with %q", c.args, r, c.want)
			}
		})
	}
}

// decisions.md (CLI) 3c "`--` ends the flags except where it is a flag's value:
// `sign --server-name -- obj.json --key k` signs as server `--`".
func TestDashDashAsValue(t *testing.T) {
	f := writeFiles(t)
	r := cli.Run(t, f.dir, nil, "sign", "--server-name", "--", f.obj, "--key", f.key)
	var got struct {
		Signatures map[string]map[string]string `json:"signatures"`
	}
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &got) != nil || got.Signatures["--"]["ed25519:1"] == "" {
		t.Fatalf("%+v", r)
	}
	// `--` as another flag's value: the file named "--"
	kb, _ := os.ReadFile(f.keys)
	if err := os.WriteFile(filepath.Join(f.dir, "--"), kb, 0o644); err != nil {
		t.Fatal(err)
	}
	want := cli.Run(t, f.dir, nil, "verify", "--keys", f.keys, f.signedObj)
	if got := cli.Run(t, f.dir, nil, "verify", "--keys", "--", f.signedObj); got != want || want.Code != 0 {
		t.Errorf("--keys --: %+v, want %+v", got, want)
	}
	// "`--` ends the flags": a later "--strict" is a file name.
	if err := os.WriteFile(filepath.Join(f.dir, "--strict"), []byte(`{"b":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := cli.Run(t, f.dir, nil, "canonical", "--", "--strict"); got.Code != 0 || strings.TrimSpace(got.Stdout) != `{"b":2}` {
		t.Errorf("canonical -- --strict: %+v", got)
	}
	// and `--` still ends the flags otherwise: a later "--key" is a file name.
	r = cli.Run(t, f.dir, nil, "sign", "--server-name", "a.example", "--key", f.key, "--", f.obj)
	if r.Code != 0 {
		t.Errorf("-- before FILE: %+v", r)
	}
}

// decisions.md (CLI) 3c "`-` names standard input for a flag's file too (`--keys -`, `--key -`,
// `--auth-events -`, `--state -`); standard input is read once, so a second reader ... is
// unusable input naming both"; README "a flag's file may be `-` too, when standard input is not
// already the input".
func TestDashForFlagFiles(t *testing.T) {
	f := writeFiles(t)
	dump := writeDump(t, f.dir, "9")
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name       string
		stdin      []byte
		dash, file []string
	}{
		{"--keys - (verify)", read(f.keys), []string{"verify", "--keys", "-", f.signedObj}, []string{"verify", "--keys", f.keys, f.signedObj}},
		{"--keys - (verify-room)", read(f.keys), []string{"verify-room", "--quiet", "--keys", "-", dump}, []string{"verify-room", "--quiet", "--keys", f.keys, dump}},
		{"--key -", read(f.key), []string{"sign", "--server-name", "a.example", "--key", "-", f.obj}, []string{"sign", "--server-name", "a.example", "--key", f.key, f.obj}},
		{"--auth-events -", read(f.ae), []string{"auth", "--room-version", "9", "--auth-events", "-", f.ev}, []string{"auth", "--room-version", "9", "--auth-events", f.ae, f.ev}},
		{"--state -", read(f.st), []string{"policy-check", "--room-version", "9", "--state", "-", f.ev}, []string{"policy-check", "--room-version", "9", "--state", f.st, f.ev}},
		{"--keys - (replay)", read(f.keys), []string{"replay", "--keys", "-", dump}, []string{"replay", "--keys", f.keys, dump}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := cli.Run(t, f.dir, nil, c.file...)
			got := cli.Run(t, f.dir, c.stdin, c.dash...)
			if want.Code != 0 || got != want {
				t.Errorf("%v: %+v; with the file: %+v", c.dash, got, want)
			}
		})
	}
	second := []struct {
		name string
		args []string
	}{
		{"--keys - and no FILE", []string{"verify", "--keys", "-"}},
		{"--keys - and FILE -", []string{"verify", "--keys", "-", "-"}},
		{"--key - and no FILE", []string{"sign", "--server-name", "a.example", "--key", "-"}},
		{"two flag files -", []string{"auth", "--room-version", "9", "--auth-events", "-", "--keys", "-", f.ev}},
		{"--state - and no FILE", []string{"policy-check", "--room-version", "9", "--state", "-"}},
		{"verify-room --keys - and no FILE", []string{"verify-room", "--keys", "-"}},
		{"replay - --keys -", []string{"replay", "-", "--keys", "-"}},
		{"--auth-events - and FILE -", []string{"auth", "--room-version", "9", "--auth-events", "-", "-"}},
	}
	for _, c := range second {
		t.Run(c.name, func(t *testing.T) {
			in := []byte(`{}`)
			switch c.args[0] {
			case "sign":
				in = read(f.key)
			case "replay":
				in = read(dump) // the dump is read first, then --keys
			}
			r := cli.Run(t, f.dir, in, c.args...)
			if r.Code != 1 || !oneLine(r.Stderr) || r.Stdout != "" {
				t.Fatalf("%v: %+v, want exit 1 with one line", c.args, r)
			}
			// "naming both": a flag and the input
			n := 0
			if strings.Contains(r.Stderr, "input") {
				n++
			}
			for _, w := range []string{"--keys", "--key", "--auth-events", "--state"} {
				if strings.Contains(r.Stderr, w) {
					n++
					break
				}
			}
			if n < 2 {
				t.Errorf("%v: %q does not name both readers", c.args, r.Stderr)
			}
		})
	}
	// README: "`replay` without FILE replays its built-in example room", so `replay --keys -`
	// has one reader of standard input.
	r := cli.Run(t, f.dir, []byte(`{}`), "replay", "--keys", "-")
	if r.Code != 0 || !strings.Contains(r.Stdout, "summary: room version") {
		t.Errorf("replay --keys - (example room): %+v", r)
	}
}

// decisions.md (CLI) 3c and SECURITY.md "CLI input of one event": "The commands that read one
// event (...) and the `--key` file stop at 8 MiB ... with exit 1, "input larger than 8388608
// bytes"; a regular file is refused by its size, unread. Other inputs ... keep the 1 GiB bound."
func TestEventInputBound(t *testing.T) {
	f := writeFiles(t)
	evRaw, _ := os.ReadFile(f.ev)
	pad := func(b []byte, n int) []byte {
		out := make([]byte, n)
		copy(out, b)
		for i := len(b); i < n; i++ {
			out[i] = ' '
		}
		return out
	}
	cmds := [][]string{
		{"redact", "--room-version", "9"},
		{"content-hash"},
		{"event-id", "--room-version", "9"},
		{"sign-event", "--room-version", "9", "--server-name", "a.example", "--key", f.key},
		{"verify-event", "--room-version", "9", "--keys", f.keys},
		{"auth-events", "--room-version", "9"},
		{"auth", "--room-version", "9", "--auth-events", f.ae},
		{"policy-check", "--room-version", "9", "--state", f.st},
	}
	over := pad(evRaw, eventBound+1)
	at := pad(evRaw, eventBound)
	overFile := filepath.Join(f.dir, "over.json")
	if err := os.WriteFile(overFile, over, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(f.dir, "sparse.json")
	sf, err := os.Create(sparse)
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.Truncate(2 << 30); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	for _, c := range cmds {
		t.Run(c[0], func(t *testing.T) {
			r := cli.Run(t, f.dir, at, append(c, "-")...)
			if strings.Contains(r.Stderr, "input larger") {
				t.Errorf("exactly %d bytes: %+v", eventBound, r)
			}
			for name, args := range map[string][]string{
				"stdin":  append(append([]string{}, c...), "-"),
				"file":   append(append([]string{}, c...), overFile),
				"sparse": append(append([]string{}, c...), sparse),
			} {
				var in []byte
				if name == "stdin" {
					in = over
				}
				r := cli.Run(t, f.dir, in, args...)
				if r.Code != 1 || !strings.Contains(r.Stderr, "input larger than 8388608 bytes") || !oneLine(r.Stderr) {
					t.Errorf("%s one past: %d %q", name, r.Code, r.Stderr)
				}
			}
		})
	}
	t.Run("--key file", func(t *testing.T) {
		kb, _ := os.ReadFile(f.key)
		big := filepath.Join(f.dir, "big.key")
		if err := os.WriteFile(big, pad(kb, eventBound+1), 0o644); err != nil {
			t.Fatal(err)
		}
		r := cli.Run(t, f.dir, nil, "sign", "--server-name", "a.example", "--key", big, f.obj)
		if r.Code != 1 || !strings.Contains(r.Stderr, "input larger than 8388608 bytes") {
			t.Errorf("%+v", r)
		}
	})
	// "Other inputs (room dumps, `--state`, `--auth-events`, `--keys`, `canonical`, `sign`,
	// `verify`, `join-decision`) keep the 1 GiB bound."
	t.Run("1 GiB inputs", func(t *testing.T) {
		objBig := pad([]byte(`{"a":1}`), eventBound+10)
		bigObj := filepath.Join(f.dir, "bigobj.json")
		if err := os.WriteFile(bigObj, objBig, 0o644); err != nil {
			t.Fatal(err)
		}
		w := func(src string) string {
			b, _ := os.ReadFile(src)
			p := src + ".big"
			if err := os.WriteFile(p, pad(b, eventBound+10), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		dump := writeDump(t, f.dir, "9")
		cases := map[string][]string{
			"canonical":     {"canonical", bigObj},
			"sign":          {"sign", "--server-name", "a.example", "--key", f.key, bigObj},
			"verify":        {"verify", "--keys", f.keys, w(f.signedObj)},
			"--keys":        {"verify", "--keys", w(f.keys), f.signedObj},
			"--auth-events": {"auth", "--room-version", "9", "--auth-events", w(f.ae), f.ev},
			"--state":       {"policy-check", "--room-version", "9", "--state", w(f.st), f.ev},
			"room dump":     {"verify-room", "--quiet", "--keys", f.keys, w(dump)},
			"join-decision": {"join-decision", bigObj},
		}
		for name, args := range cases {
			r := cli.Run(t, f.dir, nil, args...)
			if strings.Contains(r.Stderr, "input larger") || (name != "join-decision" && r.Code != 0) {
				t.Errorf("%s: %+v", name, r)
			}
		}
	})
}

// README "`roomproto help <command>` or `roomproto <command> -h` prints a command's usage and
// flags (exit 0)"; decisions.md (CLI) 3b "as does `roomproto help <command>` (it used to print
// the list of commands)".
func TestHelpCommand(t *testing.T) {
	list := cli.Run(t, "", nil, "help")
	if list.Code != 0 {
		t.Fatal(list)
	}
	var names []string
	for _, l := range strings.Split(list.Stdout, "\n") {
		if strings.HasPrefix(l, "  ") {
			names = append(names, strings.Fields(l)[0])
		}
	}
	if len(names) != 14 {
		t.Fatalf("commands %v", names)
	}
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			h := cli.Run(t, "", nil, "help", n)
			d := cli.Run(t, "", nil, n, "-h")
			dd := cli.Run(t, "", nil, n, "--help")
			if h.Code != 0 || h != d || h != dd || !strings.HasPrefix(h.Stdout, "usage: roomproto "+n+": ") || h.Stdout == list.Stdout {
				t.Errorf("help %s: %+v; -h: %+v; --help: %+v", n, h, d, dd)
			}
		})
	}
	// "1 for unusable input (... an unknown command) with one line on standard error"
	for _, args := range [][]string{{"help", "nosuch"}, {"help", "sign", "verify"}} {
		r := cli.Run(t, "", nil, args...)
		if r.Code != 1 || !oneLine(r.Stderr) || r.Stdout != "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
}

// decisions.md (CLI) 3c "`help`, `help <command>` and `<command> -h` exit 1 with one line when
// standard output cannot be written".
func TestHelpWriteError(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full")
	}
	defer full.Close()
	bin := cli.Build(t)
	// "as every other command does"
	f := writeFiles(t)
	for _, args := range [][]string{{"help"}, {"help", "sign"}, {"sign", "-h"}, {"verify-room", "--help"}, {"-h"}, {"--help"},
		{"canonical", f.obj}, {"event-id", "--room-version", "9", f.ev}, {"replay"}, {"verify", "--keys", f.keys, f.signedObj}} {
		cmd := exec.Command(bin, args...)
		var e bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &e
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != 1 || !oneLine(e.String()) {
			t.Errorf("%v to /dev/full: exit %d, stderr %q", args, code, e.String())
		}
	}
}

// writeDump writes a generated room dump of version id (with its "keys" member) and its keys.
func writeDump(t testing.TB, dir, id string) string {
	t.Helper()
	r, err := roomgen.Generate(roomgen.Config{RoomVersion: id, Events: 12})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "dump"+id+".json")
	if err := os.WriteFile(p, r.ReplayFile(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys"+id+".json"), r.KeysJSON(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

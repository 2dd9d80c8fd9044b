package climisuse

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
	"github.com/roomproto/roomproto/tools/internal/clitest"
)

// knownFinding skips a case that fails today: finding id of tools/climisuse/README.md.
// CLIMISUSE_KNOWN=1 runs it.
func knownFinding(t *testing.T, id string) { t.Helper(); claimkit.KnownFinding(t, "climisuse", id) }

// cli is the roomproto binary, built once per test process under a name of its own (removed
// by TestMain).
var cli = &clitest.Binary{Root: claimkit.Root(), Path: filepath.Join(os.TempDir(), "climisuse-roomproto-"+strconv.Itoa(os.Getpid()))}

// run runs the binary in the fixture directory with stdin (nil: none) and args.
func run(t testing.TB, stdin []byte, args ...string) clitest.Result {
	t.Helper()
	return cli.Run(t, fixtures(t), stdin, args...)
}

// want is the expected result of one run.
type want struct {
	code int
	// stdout, when out is nil and code is 0, is the exact standard output.
	stdout string
	// out, when set, checks standard output instead.
	out func(string) string
	// errHas: for exit 1, substrings the one stderr line must hold.
	errHas []string
}

// ok wants exit 0, empty stderr and exactly stdout.
func ok(stdout string) want { return want{stdout: stdout} }

// okOut wants exit 0, empty stderr and a stdout that check accepts ("" = accepted).
func okOut(check func(string) string) want { return want{out: check} }

// fails wants exit 1, nothing on stdout and one line on stderr holding each of has.
func fails(has ...string) want { return want{code: 1, errHas: has} }

// cliCase is one probe: the command line, its standard input, what must happen, and the
// finding that makes it fail today ("" when it passes).
type cliCase struct {
	name    string
	stdin   []byte
	args    []string
	want    want
	finding string
}

// check asserts w on r for the command cmd.
func (w want) check(t *testing.T, cmd string, r clitest.Result) {
	t.Helper()
	if r.Code != w.code {
		t.Errorf("exit %d, want %d (stdout %.300q, stderr %.300q)", r.Code, w.code, r.Stdout, r.Stderr)
		return
	}
	if w.code != 0 {
		if r.Stdout != "" {
			t.Errorf("stdout %.300q on exit %d, want nothing", r.Stdout, r.Code)
		}
		if strings.Count(r.Stderr, "\n") != 1 || !strings.HasSuffix(r.Stderr, "\n") {
			t.Errorf("stderr %q: want exactly one line", r.Stderr)
		}
		if prefix := "roomproto " + cmd + ": "; cmd != "" && !strings.HasPrefix(r.Stderr, prefix) {
			t.Errorf("stderr %q: want prefix %q", r.Stderr, prefix)
		}
		for _, h := range w.errHas {
			if !strings.Contains(r.Stderr, h) {
				t.Errorf("stderr %q: want it to hold %q", r.Stderr, h)
			}
		}
		return
	}
	if r.Stderr != "" {
		t.Errorf("stderr %q on exit 0, want nothing", r.Stderr)
	}
	if w.out != nil {
		if msg := w.out(r.Stdout); msg != "" {
			t.Errorf("stdout %.400q: %s", r.Stdout, msg)
		}
	} else if r.Stdout != w.stdout {
		t.Errorf("stdout %.400q\nwant   %.400q", r.Stdout, w.stdout)
	}
}

// runCases runs each case as a subtest.
func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("case name %q twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			if c.finding != "" {
				knownFinding(t, c.finding)
			}
			cmd := c.args[0]
			if !isCommand(cmd) {
				cmd = "" // "roomproto: unknown command"
			}
			c.want.check(t, cmd, run(t, c.stdin, c.args...))
		})
	}
}

// Fixture files, written once into a temporary directory that is every run's working
// directory. Servers sign with seed sha256(server name), key version "1" (the convention of
// the example room and shared/bench/corpus.json).
var (
	fixOnce sync.Once
	fixDir  string
	fixErr  error
	fix     = map[string][]byte{}
)

func seed(server string) []byte { s := sha256.Sum256([]byte(server)); return s[:] }

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

func pubKey(server string) string {
	return b64(ed25519.NewKeyFromSeed(seed(server)).Public().(ed25519.PublicKey))
}

func keyLine(server string) string { return "ed25519 1 " + b64(seed(server)) + "\n" }

func ver(id string) roomversion.Version {
	v, err := roomversion.Lookup(id)
	if err != nil {
		panic(err)
	}
	return v
}

// signEvent signs ev (a JSON object) for room version rv as server a.example.
func signEvent(rv string, ev []byte) []byte {
	k, err := signing.ParseSigningKey([]byte(keyLine("a.example")))
	if err != nil {
		panic(err)
	}
	out, err := signing.SignEvent(ver(rv), ev, "a.example", k)
	if err != nil {
		panic(err)
	}
	return out
}

// setField returns the JSON object obj with key set to the JSON value val (compact, sorted).
func setField(obj []byte, key, val string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		panic(err)
	}
	if val == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(val)
	}
	return mustJSON(m)
}

func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

const (
	createV9  = `{"type":"m.room.create","state_key":"","sender":"@alice:a.example","room_id":"!r:a.example","content":{"creator":"@alice:a.example","room_version":"9"},"origin_server_ts":1000,"depth":1,"prev_events":[],"auth_events":[]}`
	createV12 = `{"type":"m.room.create","state_key":"","sender":"@alice:a.example","content":{"room_version":"12"},"origin_server_ts":1000,"depth":1,"prev_events":[],"auth_events":[]}`
)

// exampleDump is the built-in example room of `replay` (a v9 restricted room with its keys).
type exampleDump struct {
	RoomVersion string                       `json:"room_version"`
	Keys        map[string]map[string]string `json:"keys"`
	Events      []json.RawMessage            `json:"events"`
}

func loadExample() exampleDump {
	data, err := os.ReadFile(filepath.Join(claimkit.Root(), "cmd/roomproto/exampleroom.json"))
	if err != nil {
		panic(err)
	}
	var d exampleDump
	if err := json.Unmarshal(data, &d); err != nil {
		panic(err)
	}
	return d
}

// dump makes a room dump of version rv with events and, when keys is set, the example's keys.
func dump(rv string, keys bool, events ...json.RawMessage) []byte {
	m := map[string]any{"room_version": rv, "events": events}
	if keys {
		m["keys"] = loadExample().Keys
	}
	return mustJSON(m)
}

// fixtures writes the fixture files once and returns their directory.
func fixtures(t testing.TB) string {
	t.Helper()
	fixOnce.Do(func() {
		fixDir, fixErr = os.MkdirTemp("", "climisuse-")
		if fixErr != nil {
			return
		}
		ex := loadExample()
		sev := signEvent("9", []byte(createV9))
		v1 := signEvent("1", setField([]byte(createV9), "event_id", `"$abc:a.example"`))
		files := map[string][]byte{
			"a.key":       []byte(keyLine("a.example")),
			"keys.json":   []byte(`{"a.example":{"ed25519:1":"` + pubKey("a.example") + `"}}`),
			"bkeys.json":  []byte(`{"b.example":{"ed25519:1":"` + pubKey("b.example") + `"}}`),
			"nokeys.json": []byte(`{}`),
			"ev.json":     []byte(createV9),
			"sev.json":    sev,
			"sev_v1.json": v1,
			"sev12.json":  signEvent("12", []byte(createV12)),
			"obj.json":    []byte(`{"a":1}`),
			"empty.json":  nil,
			"room.json":   dump("9", true, ex.Events...),
			"erkeys.json": mustJSON(ex.Keys),
			"ae3.json":    mustJSON(ex.Events[:3]),
			"st5.json":    mustJSON(ex.Events[:5]),
			"msg.json":    ex.Events[10],
			"jd.json": mustJSON(map[string]any{"room_version": "9", "state": ex.Events[:5],
				"user_id": "@joiner:remote.example", "resident_server": "a.example", "rooms": map[string]any{}}),
		}
		if fixErr = os.Mkdir(filepath.Join(fixDir, "dir"), 0o755); fixErr != nil {
			return
		}
		for n, c := range files {
			fix[n] = c
			if fixErr = os.WriteFile(filepath.Join(fixDir, n), c, 0o644); fixErr != nil {
				return
			}
		}
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fixDir
}

// file returns the bytes of fixture n.
func file(t testing.TB, n string) []byte {
	t.Helper()
	fixtures(t)
	b, ok := fix[n]
	if !ok {
		t.Fatalf("no fixture %q", n)
	}
	return b
}

// writeFile writes a fixture of the test's own into the fixture directory and returns its name.
func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(fixtures(t), name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixDir != "" {
		os.RemoveAll(fixDir)
	}
	os.Remove(cli.Path)
	os.Exit(code)
}

// command is one roomproto command with its flags and a valid input fixture.
type command struct {
	args  []string
	input string
}

// allCommands are every command with working flags; replay and verify-room read standard
// input through "-".
var allCommands = []command{
	{[]string{"canonical"}, "obj.json"},
	{[]string{"redact", "--room-version", "9"}, "sev.json"},
	{[]string{"content-hash"}, "sev.json"},
	{[]string{"event-id", "--room-version", "9"}, "sev.json"},
	{[]string{"sign", "--server-name", "a.example", "--key", "a.key"}, "obj.json"},
	{[]string{"sign-event", "--room-version", "9", "--server-name", "a.example", "--key", "a.key"}, "ev.json"},
	{[]string{"verify", "--keys", "keys.json"}, "sev.json"},
	{[]string{"verify-event", "--room-version", "9", "--keys", "keys.json"}, "sev.json"},
	{[]string{"auth-events", "--room-version", "9"}, "msg.json"},
	{[]string{"auth", "--room-version", "9", "--auth-events", "ae3.json"}, "msg.json"},
	{[]string{"policy-check", "--room-version", "9", "--state", "st5.json"}, "msg.json"},
	{[]string{"join-decision"}, "jd.json"},
	{[]string{"replay", "-"}, "room.json"},
	{[]string{"verify-room", "--keys", "erkeys.json", "--quiet", "-"}, "room.json"},
}

// with returns args followed by more.
func with(args []string, more ...string) []string {
	return append(append([]string(nil), args...), more...)
}

// timing matches verify-room's two timing members of the summary line.
var timing = regexp.MustCompile(`"(events_per_second|milliseconds)":[0-9]+,?`)

// stripTiming removes verify-room's timing members (finding C3).
func stripTiming(s string) string { return timing.ReplaceAllString(s, "") }

// isCommand reports whether name is a roomproto command.
func isCommand(name string) bool {
	for _, c := range allCommands {
		if c.args[0] == name {
			return true
		}
	}
	return false
}

package claimsc

import (
	"regexp"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// README: "Input is JSON from FILE or standard input (no FILE, or `-` ...). Flags may come before
// or after FILE; `--` ends them." For every command: the same output whichever way the input
// comes.
func TestReadmeEveryCommandStdinAndFile(t *testing.T) {
	p := example(t)
	_, room := loadExample(t)
	join := claimkit.Marshal(t, M{"room_version": "9", "state": rawList(p.stateJSON(t)), "user_id": "@j:r.example",
		"resident_server": "b.example", "rooms": M{"!space:a.example": M{"@j:r.example": "join"}}})
	dir := writeFiles(t, map[string][]byte{
		"key": keyFile("x.example"), "keys": p.keys, "auth": p.authOf(t, 7), "state": p.stateJSON(t),
		"ev": p.raw[7], "join": join, "room": room, "any": []byte(`{"b": [1, 2.5e1], "a": "\u00e9"}`),
	})
	timing := regexp.MustCompile(`"(events_per_second|milliseconds)":\d+`)
	for _, c := range []struct {
		args  []string
		input string
	}{
		{[]string{"canonical"}, "any"},
		{[]string{"canonical", "--strict"}, "ev"},
		{[]string{"redact", "--room-version", "9"}, "ev"},
		{[]string{"content-hash"}, "ev"},
		{[]string{"event-id", "--room-version", "9"}, "ev"},
		{[]string{"sign", "--server-name", "x.example", "--key", "key"}, "any"},
		{[]string{"sign-event", "--room-version", "9", "--server-name", "x.example", "--key", "key"}, "ev"},
		{[]string{"verify", "--keys", "keys"}, "ev"},
		{[]string{"verify-event", "--room-version", "9", "--keys", "keys"}, "ev"},
		{[]string{"auth-events", "--room-version", "9"}, "ev"},
		{[]string{"auth", "--room-version", "9", "--auth-events", "auth", "--keys", "keys"}, "ev"},
		{[]string{"auth", "--room-version", "9", "--auth-events", "auth"}, "ev"},
		{[]string{"join-decision"}, "join"},
		{[]string{"policy-check", "--room-version", "9", "--state", "state"}, "ev"},
		{[]string{"verify-room", "--keys", "keys"}, "room"},
		{[]string{"replay"}, "room"},
	} {
		name := c.args[0] + " " + c.input
		t.Run(name, func(t *testing.T) {
			in := readFile(t, dir, c.input)
			norm := func(s string) string { return timing.ReplaceAllString(s, `"$1":0`) }
			want := norm(run(t, dir, nil, append(append([]string{}, c.args...), c.input)...).ok(t))
			if want == "" {
				t.Fatal("no output")
			}
			forms := map[string]struct {
				args  []string
				stdin []byte
			}{
				"-":          {append(append([]string{}, c.args...), "-"), in},
				"flags last": {append([]string{c.args[0], c.input}, c.args[1:]...), nil},
				"--":         {append(append([]string{}, c.args...), "--", c.input), nil},
			}
			if c.args[0] != "replay" {
				forms["stdin"] = struct {
					args  []string
					stdin []byte
				}{c.args, in}
			}
			for fname, f := range forms {
				if got := norm(run(t, dir, f.stdin, f.args...).ok(t)); got != want {
					t.Errorf("%s: %q, want %q", fname, got, want)
				}
			}
		})
	}
}

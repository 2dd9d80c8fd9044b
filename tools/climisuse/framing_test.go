package climisuse

import (
	"bytes"
	"testing"
)

// TestFraming: every command refuses input that is not exactly one JSON value (exit 1,
// nothing on stdout, one line on stderr), accepts any JSON whitespace (CRLF included) with
// the same output, and reads a file, "-" and standard input alike.
func TestFraming(t *testing.T) {
	fixtures(t)
	var cases []cliCase
	for _, c := range allCommands {
		name := c.args[0]
		valid := file(t, c.input)
		good := run(t, valid, c.args...)
		if good.Code != 0 {
			t.Fatalf("%s on its valid input: %+v", name, good)
		}
		bad := map[string][]byte{
			"empty":              {},
			"only whitespace":    []byte(" \r\n\t "),
			"UTF-8 BOM":          append([]byte("\xef\xbb\xbf"), valid...),
			"two values":         append(append([]byte(nil), valid...), valid...),
			"trailing garbage":   append(append([]byte(nil), valid...), " x"...),
			"NUL after value":    append(append([]byte(nil), valid...), 0),
			"cut off":            valid[:len(valid)-1],
			"invalid UTF-8 text": append([]byte{0xff}, valid...),
			"UTF-16":             []byte("\xff\xfe{\x00}\x00"),
		}
		for _, k := range []string{"empty", "only whitespace", "UTF-8 BOM", "two values", "trailing garbage", "NUL after value", "cut off", "invalid UTF-8 text", "UTF-16"} {
			cases = append(cases, cliCase{name: name + "/" + k, stdin: bad[k], args: c.args, want: fails()})
		}
		base := c.args // without the "-" of replay and verify-room
		if base[len(base)-1] == "-" {
			base = base[:len(base)-1]
		}
		crlf := append([]byte("\r\n"), bytes.Replace(valid, []byte("{"), []byte("{\r\n "), 1)...)
		cases = append(cases,
			cliCase{name: name + "/CRLF whitespace", stdin: append(crlf, "\r\n"...), args: c.args, want: okOut(sameAs(good.Stdout, name))},
			cliCase{name: name + "/missing file", args: with(base, "no-such.json"), want: fails("no-such.json", "no such file")},
			cliCase{name: name + "/directory", args: with(base, "dir"), want: fails("dir", "is a directory")},
			cliCase{name: name + "/unreadable file", args: with(base, "/proc/self/mem"), want: fails("/proc/self/mem")},
		)
		if name != "replay" && name != "verify-room" { // their args end with "-" already
			cases = append(cases,
				cliCase{name: name + "/dash is stdin", stdin: valid, args: with(c.args, "-"), want: ok(good.Stdout)},
				cliCase{name: name + "/file is stdin", args: with(c.args, c.input), want: ok(good.Stdout)},
				cliCase{name: name + "/two files", args: with(c.args, c.input, c.input), want: fails("at most one")},
			)
		} else {
			file := with(base, c.input)
			cases = append(cases,
				cliCase{name: name + "/file is stdin", args: file, want: okOut(sameAs(good.Stdout, name))},
				cliCase{name: name + "/two files", args: with(file, c.input), want: fails("at most one")},
			)
		}
	}
	// Invalid UTF-8 and NUL inside a string, in the commands that read events.
	for _, c := range allCommands[:12] {
		cases = append(cases,
			cliCase{name: c.args[0] + "/invalid UTF-8 in a string", stdin: []byte("{\"a\":\"\xff\"}"), args: c.args, want: fails()},
			cliCase{name: c.args[0] + "/raw NUL in a string", stdin: []byte("{\"a\":\"\x00\"}"), args: c.args, want: fails()})
	}
	runCases(t, cases)
}

// sameAs compares outputs, ignoring verify-room's timing members (finding C3).
func sameAs(want, cmd string) func(string) string {
	return func(got string) string {
		if cmd == "verify-room" {
			got, want = stripTiming(got), stripTiming(want)
		}
		if got != want {
			return "differs from the output for the same input on stdin: " + want
		}
		return ""
	}
}

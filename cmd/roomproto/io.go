package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// maxInput bounds what the tool reads from a file or standard input where the input may be
// large: a room dump, a room's state (--state), auth events (--auth-events), key files, and
// the JSON of canonical, sign, verify and join-decision.
const maxInput = 1 << 30

// maxEventInput bounds the input of the commands that read one event (redact, content-hash,
// event-id, sign-event, verify-event, auth-events, auth, policy-check) and the --key file: an
// event is at most pdu.MaxEventSize (65,536) bytes of canonical JSON, and 128 times that
// leaves room for any indentation of one; reading on would only spend memory on an input that
// cannot be an event.
const maxEventInput = 128 * pdu.MaxEventSize

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors. Flags may come before or
// after the file argument (`event-id ev.json --room-version 12`); "--" ends the flags (but not
// when it is the value of a flag: `--server-name --` names the server "--"), and "-" is an
// argument (standard input). A flag given twice is refused: with Go's flag package the last
// one would silently win, and `--keys a --keys b` would drop a's keys without a word.
func parseFlags(fs *flag.FlagSet, args []string) error {
	// The values are wrapped while parsing only: the flag package's usage output reads the
	// type of each value (the "string" of "-keys string") and a zero value of it.
	given := map[string]bool{}
	original := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(f *flag.Flag) {
		original[f] = f.Value
		o := onceValue{Value: f.Value, name: f.Name, given: given}
		if b, ok := f.Value.(boolFlag); ok && b.IsBoolFlag() {
			f.Value = onceBool{o}
		} else {
			f.Value = o
		}
	})
	defer func() {
		for f, v := range original {
			f.Value = v
		}
	}()
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return &helpRequest{fs}
			}
			return usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if endedByDashDash(fs, args[:len(args)-len(rest)]) {
			positional = append(positional, rest...) // everything after "--"
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	// Leave exactly the arguments in fs.Args().
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// boolFlag is the interface of the flag package's boolean flag values.
type boolFlag interface{ IsBoolFlag() bool }

// onceValue wraps a flag's value so that setting it a second time is an error.
type onceValue struct {
	flag.Value
	name  string
	given map[string]bool
}

func (o onceValue) Set(s string) error {
	if o.given[o.name] {
		return fmt.Errorf("--%s given twice", o.name)
	}
	o.given[o.name] = true
	return o.Value.Set(s)
}

// onceBool is onceValue for a boolean flag, which takes no value argument.
type onceBool struct{ onceValue }

func (onceBool) IsBoolFlag() bool { return true }

// endedByDashDash reports whether the flag package stopped parsing consumed (the arguments it
// took as flags and their values) at a "--" that ends the flags rather than one that is a
// flag's value. It walks consumed as the flag package does: "--" alone ends the flags; a flag
// written without "=" takes the next argument as its value unless it is a boolean flag.
func endedByDashDash(fs *flag.FlagSet, consumed []string) bool {
	for i := 0; i < len(consumed); i++ {
		s := consumed[i]
		if s == "--" {
			return true
		}
		name := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(boolFlag); !ok || !b.IsBoolFlag() {
				i++ // its value, whatever it looks like
			}
		}
	}
	return false
}

// readInput reads the single FILE argument, or standard input when there is none or it is "-",
// refusing more than limit bytes.
func readInput(e *env, fs *flag.FlagSet, limit int64) ([]byte, error) {
	switch fs.NArg() {
	case 0:
		return e.readStdin("the input", limit)
	case 1:
		if fs.Arg(0) == "-" {
			return e.readStdin("the input", limit)
		}
		return readFile(fs.Arg(0), limit)
	default:
		return nil, usagef("expected at most one input file, got %d", fs.NArg())
	}
}

// readFlagFile reads the file a flag names (--keys, --key, --auth-events, --state), refusing
// more than limit bytes; "-" is standard input, when the input itself is not read from it.
func readFlagFile(e *env, flagName, path string, limit int64) ([]byte, error) {
	if path == "-" {
		return e.readStdin("--"+flagName, limit)
	}
	return readFile(path, limit)
}

// readStdin reads standard input for who (the input, or a flag's file), at most once per run:
// two readers cannot both have it.
func (e *env) readStdin(who string, limit int64) ([]byte, error) {
	if e.stdinReader != "" {
		return nil, usagef("standard input is already read for %s, so %s cannot be read from it: give one of them as a file", e.stdinReader, who)
	}
	e.stdinReader = who
	return readAtMost(e.stdin, limit)
}

// readFile reads the file at path, refusing more than limit bytes. The buffer of a regular
// file is sized from its length, so that reading it takes about its size in memory.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if st.Size() > limit {
			return nil, fmt.Errorf("input larger than %d bytes", limit)
		}
		return readAtMostSized(f, limit, st.Size())
	}
	return readAtMost(f, limit)
}

// readAtMost reads all of r, which must hold at most limit bytes: it reads no more than
// limit+1 bytes to find out.
func readAtMost(r io.Reader, limit int64) ([]byte, error) { return readAtMostSized(r, limit, 512) }

// readAtMostSized is readAtMost with a first buffer of about sizeHint bytes (a file's length),
// which grows as needed.
func readAtMostSized(r io.Reader, limit, sizeHint int64) ([]byte, error) {
	buf := make([]byte, 0, min(sizeHint, limit)+1)
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) > limit {
		return nil, fmt.Errorf("input larger than %d bytes", limit)
	}
	return buf, nil
}

// roomVersionFlag returns the room version named by --room-version, which is required.
func roomVersionFlag(id string) (roomversion.Version, error) {
	if id == "" {
		return roomversion.Version{}, usagef("missing --room-version")
	}
	return roomversion.Lookup(id)
}

// writeJSONLine writes canonical JSON bytes to stdout followed by a newline.
func writeJSONLine(e *env, b []byte) error {
	if _, err := e.stdout.Write(b); err != nil {
		return err
	}
	_, err := io.WriteString(e.stdout, "\n")
	return err
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/roomproto/roomproto/roomversion"
)

// maxInput bounds what the tool reads from a file or standard input (a room dump can be large;
// an event is at most 64 KiB).
const maxInput = 1 << 30

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args, turning flag errors into usage errors. Flags may come before or
// after the file argument (`event-id ev.json --room-version 12`); "--" ends the flags, and "-"
// is an argument (standard input).
func parseFlags(fs *flag.FlagSet, args []string) error {
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
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
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

// readInput reads the single FILE argument, or standard input when there is none or it is "-".
func readInput(e *env, fs *flag.FlagSet) ([]byte, error) {
	switch fs.NArg() {
	case 0:
		return readAllLimited(e.stdin)
	case 1:
		if fs.Arg(0) == "-" {
			return readAllLimited(e.stdin)
		}
		return readFile(fs.Arg(0))
	default:
		return nil, usagef("expected at most one input file, got %d", fs.NArg())
	}
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f)
}

func readAllLimited(r io.Reader) ([]byte, error) { return readAtMost(r, maxInput) }

// readAtMost reads all of r, which must hold at most limit bytes: it reads no more than
// limit+1 bytes to find out.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("input larger than %d bytes", limit)
	}
	return data, nil
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

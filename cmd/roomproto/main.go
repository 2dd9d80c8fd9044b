// Command roomproto asks roomproto's questions from the shell: canonical JSON, redaction,
// hashes, event IDs, signatures, authorization verdicts, restricted-join decisions, Policy Server
// recommendations and room replays. It reads JSON from a file argument or standard input and writes to standard output.
//
// Exit status: 0 when the command did its job (also when the verdict is "rejected" or
// "invalid"), 1 when the input is unusable (malformed JSON, unknown room version, missing or bad
// flag, unreadable file, and also no command or an unknown one), with one line on standard
// error. `roomproto help` prints the list of commands, and `roomproto help <command>` or
// `roomproto <command> -h` the command's usage and flags (exit 0).
//
// Usage:
//
//	roomproto <command> [flags] [FILE]
//
// Run "roomproto help" for the list of commands.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// command is one subcommand of the tool.
type command struct {
	summary string
	run     func(env *env, args []string) error
}

// env is what a command may touch: its standard streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stdinReader names what read standard input ("" while nothing has): it is read once.
	stdinReader string
	// progressDelay is how long verify-room works before it draws its progress bar (0: at
	// once); run sets one second.
	progressDelay time.Duration
}

// helpRequest is a command's answer to -h or --help: run prints the command's usage and its
// flags on standard output (exit status 0).
type helpRequest struct{ flags *flag.FlagSet }

func (*helpRequest) Error() string { return "help requested" }

// usageError marks a mistake in how the command was called (exit status 1 with its message).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func commands() map[string]command {
	return map[string]command{
		"canonical":     {"print the canonical JSON of the input [--strict]", runCanonical},
		"redact":        {"redact an event --room-version V", runRedact},
		"content-hash":  {"print {\"sha256\":...} of an event", runContentHash},
		"event-id":      {"print the event ID --room-version V", runEventID},
		"sign":          {"sign a JSON object --server-name S --key FILE", runSign},
		"sign-event":    {"hash and sign an event --room-version V --server-name S --key FILE", runSignEvent},
		"verify":        {"verify a signed JSON object --keys FILE", runVerify},
		"verify-event":  {"verify an event's signatures and content hash --room-version V --keys FILE", runVerifyEvent},
		"auth-events":   {"list the (type, state_key) pairs an event's auth events need --room-version V", runAuthEvents},
		"auth":          {"authorise an event --room-version V --auth-events FILE [--keys FILE]", runAuth},
		"replay":        {"replay a room dump (or the built-in example room) through the auth rules [--keys FILE] [FILE]", runReplay},
		"join-decision": {"decide a make_join/send_join request in a restricted room", runJoinDecision},
		"policy-check":  {"is the event recommended by the room's Policy Server --room-version V --state FILE", runPolicyCheck},
		"verify-room":   {"verify and authorise a whole room dump --keys FILE [--quiet] [--timing] [FILE]", runVerifyRoom},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the tool and returns its exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(args, &env{stdin: stdin, stdout: stdout, stderr: stderr, progressDelay: time.Second})
}

// runEnv is run with the streams and settings of e.
func runEnv(args []string, e *env) int {
	stdout, stderr := e.stdout, e.stderr
	cmds := commands()
	if len(args) == 0 {
		fmt.Fprintln(stderr, "roomproto: no command given; usage: roomproto <command> [flags] [FILE] (try: roomproto help)")
		return 1
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		return runHelp(args, stdout, stderr, cmds)
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "roomproto: unknown command %q (try: roomproto help)\n", args[0])
		return 1
	}
	if err := c.run(e, args[1:]); err != nil {
		if help, ok := err.(*helpRequest); ok {
			err = writeCommandHelp(stdout, args[0], c, help.flags)
			if err == nil {
				return 0
			}
		}
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(stderr, "roomproto %s: %s\n", args[0], msg)
		return 1
	}
	return 0
}

// hasFlags reports whether fs defines a flag.
func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// runHelp implements `roomproto help [COMMAND]` (also -h and --help): the list of commands,
// or with COMMAND that command's usage and flags, as `roomproto COMMAND -h` prints them. Like
// every command, it exits 1 with one line on standard error when it cannot write its output.
func runHelp(args []string, stdout, stderr io.Writer, cmds map[string]command) int {
	var err error
	switch len(args) {
	case 1:
		err = writeHelp(stdout, cmds)
	case 2:
		c, ok := cmds[args[1]]
		if !ok {
			fmt.Fprintf(stderr, "roomproto help: unknown command %q (try: roomproto help)\n", args[1])
			return 1
		}
		fs := newFlags(args[1])
		if rerr := c.run(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}, []string{"-h"}); rerr != nil {
			if h, ok := rerr.(*helpRequest); ok {
				fs = h.flags
			}
		}
		err = writeCommandHelp(stdout, args[1], c, fs)
	default:
		err = usagef("expected at most one command, got %d arguments", len(args)-1)
	}
	if err != nil {
		fmt.Fprintf(stderr, "roomproto help: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return 1
	}
	return 0
}

// writeCommandHelp writes a command's usage line and, when it has flags, its flags.
func writeCommandHelp(w io.Writer, name string, c command, flags *flag.FlagSet) error {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: roomproto %s: %s\n", name, c.summary)
	if hasFlags(flags) {
		b.WriteString("flags:\n")
		flags.SetOutput(&b)
		flags.PrintDefaults()
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeHelp writes the tool's usage and the list of its commands.
func writeHelp(w io.Writer, cmds map[string]command) error {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: roomproto <command> [flags] [FILE]\n")
	b.WriteString("commands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-14s %s\n", n, cmds[n].summary)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Package pyref runs a reference implementation written in Python beside a Go harness (the
// tools authref, memberref, verifyref and their like): the script reads one JSON request per
// line on its standard input and answers each with one JSON line on its standard output; its
// standard error is the harness's.
package pyref

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// WriteRun writes the files of a run into dir, as the reference harnesses lay them out:
// tally.tsv and coverage.txt as given, and divergences.jsonl with one JSON line per group. It
// writes nothing when dir is empty.
func WriteRun[G any](dir, tally, coverage string, groups []G) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var div []byte
	for _, g := range groups {
		b, err := json.Marshal(g)
		if err != nil {
			return err
		}
		div = append(append(div, b...), '\n')
	}
	return errors.Join(
		os.WriteFile(filepath.Join(dir, "tally.tsv"), []byte(tally), 0o644),
		os.WriteFile(filepath.Join(dir, "coverage.txt"), []byte(coverage), 0o644),
		os.WriteFile(filepath.Join(dir, "divergences.jsonl"), div, 0o644))
}

// Process is a running reference. It is not safe for concurrent use: requests and answers
// alternate on one pipe.
type Process struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	w     *bufio.Writer
	r     *bufio.Reader
}

// Beside returns the path of the file name in the directory of the caller's source file, where
// each tool keeps its script.
func Beside(name string) string {
	_, file, _, _ := runtime.Caller(1)
	return filepath.Join(filepath.Dir(file), name)
}

// Start runs python3 on script with the environment of this process plus env ("NAME=value").
func Start(script string, env ...string) (*Process, error) {
	cmd := exec.Command("python3", script)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start python3 %s: %w", script, err)
	}
	return &Process{cmd: cmd, stdin: stdin, w: bufio.NewWriter(stdin), r: bufio.NewReaderSize(stdout, 1<<20)}, nil
}

// MustStart is Start for a harness: it ends the program with status 2 (a harness failure) when
// the script cannot be started.
func MustStart(script string, env ...string) *Process {
	p, err := Start(script, env...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return p
}

// Env returns the environment entry kv ("NAME=value") when on, and nothing otherwise: how a
// harness passes its flags (-decisions) to its script.
func Env(on bool, kv string) []string {
	if on {
		return []string{kv}
	}
	return nil
}

// ErrBadAnswer is returned (wrapped, with the line) when an answer is not the JSON expected.
var ErrBadAnswer = errors.New("pyref: bad answer")

// Ask sends req as one JSON line and decodes the answer line into resp. An error other than
// ErrBadAnswer means the process is gone or the pipe broke.
func (p *Process) Ask(req, resp any) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	p.w.Write(b)
	p.w.WriteByte('\n')
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("pyref: write: %w", err)
	}
	line, err := p.r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("pyref: read: %w", err)
	}
	if err := json.Unmarshal(line, resp); err != nil {
		return fmt.Errorf("%w: %v: %.200s", ErrBadAnswer, err, line)
	}
	return nil
}

// MustAsk is Ask for a harness: a broken pipe ends the program with status 2 (a harness
// failure, not a divergence), and a bad answer is returned.
func (p *Process) MustAsk(req, resp any) error {
	err := p.Ask(req, resp)
	if err != nil && !errors.Is(err, ErrBadAnswer) {
		fmt.Fprintln(os.Stderr, "python:", err)
		os.Exit(2)
	}
	return err
}

// MustAskNote is MustAsk for a harness that keeps a bad answer as data: the error of a bad
// answer is written to *note (the answer's own error field, say) rather than returned.
func (p *Process) MustAskNote(req, resp any, note *string) {
	if err := p.MustAsk(req, resp); err != nil {
		*note = err.Error()
	}
}

// Close ends the script's input and waits for it to exit.
func (p *Process) Close() error {
	p.stdin.Close()
	return p.cmd.Wait()
}

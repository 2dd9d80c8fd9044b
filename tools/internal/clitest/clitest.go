// Package clitest builds the roomproto command once per test process and runs it, for the
// tools whose tests check the command line (tools/claimsb and climisuse; claimsc, claimsd and
// claimse through tools/internal/claimkit).
package clitest

import (
	"bytes"
	"fmt"
	"os/exec"
	"sync"
	"testing"
)

// Binary is the roomproto command of the module whose root is Root, built into Path the first
// time it is needed. The zero value is not usable; a Binary must not be copied after first use.
type Binary struct {
	// Root is the module's root directory, as the test's working directory sees it ("../..").
	Root string
	// Path is where the binary is built.
	Path string

	once sync.Once
	err  error
}

// Build builds the binary the first time and returns its path; a failed build fails t (every
// later call too).
func (b *Binary) Build(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		cmd := exec.Command("go", "build", "-o", b.Path, "./cmd/roomproto")
		cmd.Dir = b.Root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.Path
}

// Result is one run of the binary.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs the binary with args in dir ("" for the test's working directory) with stdin as
// its standard input (nil for none). Only an exit status is a result; failing to start the
// binary fails t.
func (b *Binary) Run(t testing.TB, dir string, stdin []byte, args ...string) Result {
	t.Helper()
	cmd := exec.Command(b.Build(t), args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("exec %v: %v", args, err)
	}
	return Result{code, o.String(), e.String()}
}

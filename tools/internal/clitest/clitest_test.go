package clitest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun builds the command once and reports stdout, stderr and the exit status.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	b := &Binary{Root: "../../..", Path: filepath.Join(t.TempDir(), "roomproto")}
	r := b.Run(t, "", nil, "help")
	if r.Code != 0 || r.Stderr != "" || !strings.HasPrefix(r.Stdout, "usage: roomproto <command>") {
		t.Errorf("help: %+v", r)
	}
	r = b.Run(t, "", []byte(`{"b":1,"a":2}`), "canonical")
	if r.Code != 0 || r.Stdout != `{"a":2,"b":1}` {
		t.Errorf("canonical from stdin: %+v", r)
	}
	r = b.Run(t, os.TempDir(), nil, "no-such-command")
	if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "unknown command") {
		t.Errorf("unknown command: %+v", r)
	}
}

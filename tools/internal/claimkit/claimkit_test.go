package claimkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRoot finds the module root three levels up from this package.
func TestRoot(t *testing.T) {
	want, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if got := Root(); got != want {
		t.Errorf("Root() = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(Root(), "cmd", "roomproto")); err != nil {
		t.Errorf("no cmd/roomproto below the root: %v", err)
	}
}

// TestVersions: the twelve spec versions, each known to roomversion, in a new slice each call.
func TestVersions(t *testing.T) {
	ids := VersionIDs()
	if len(ids) != 12 || ids[0] != "1" || ids[11] != "12" {
		t.Fatalf("VersionIDs() = %v", ids)
	}
	for _, id := range ids {
		if v := Ver(t, id); v.ID != id {
			t.Errorf("Ver(%q).ID = %q", id, v.ID)
		}
	}
	ids[0] = "x"
	if VersionIDs()[0] != "1" {
		t.Error("VersionIDs shares its slice")
	}
}

// TestTemplates reads testdata/authrules once.
func TestTemplates(t *testing.T) {
	a, b := Templates(t), Templates(t)
	if len(a) == 0 {
		t.Fatal("no templates")
	}
	if _, ok := a["create"]; !ok {
		t.Error(`no template "create"`)
	}
	a["claimkit test"] = nil
	defer delete(a, "claimkit test")
	if _, ok := b["claimkit test"]; !ok {
		t.Error("Templates read the files twice")
	}
}

// TestMarshal: compact, sorted keys, no HTML escaping.
func TestMarshal(t *testing.T) {
	got := string(Marshal(t, M{"b": "<&>", "a": []any{1, M{}}}))
	if want := `{"a":[1,{}],"b":"<&>"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
}

// TestKnownFinding skips unless CLAIMKIT_KNOWN is set.
func TestKnownFinding(t *testing.T) {
	t.Setenv("CLAIMKIT_KNOWN", "")
	ran := false
	t.Run("off", func(t *testing.T) {
		KnownFinding(t, "claimkit", "K1")
		ran = true
	})
	if ran {
		t.Error("the case ran without CLAIMKIT_KNOWN")
	}
	t.Setenv("CLAIMKIT_KNOWN", "1")
	t.Run("on", func(t *testing.T) {
		KnownFinding(t, "claimkit", "K1")
		ran = true
	})
	if !ran {
		t.Error("the case was skipped with CLAIMKIT_KNOWN=1")
	}
}

// TestCLI builds the command and runs it from the module root.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	c := NewCLI("claimkit")
	c.bin.Path = filepath.Join(t.TempDir(), "roomproto")
	if p := c.Build(t); p != c.bin.Path {
		t.Errorf("Build = %q, want %q", p, c.bin.Path)
	}
	r := c.Run(t, "", nil, "help")
	if r.Code != 0 || r.Stderr != "" || !strings.HasPrefix(r.Stdout, "usage: roomproto <command>") {
		t.Errorf("help: %+v", r)
	}
	// "" is the module root: a relative path from there resolves.
	r = c.Run(t, "", nil, "canonical", "cmd/roomproto/exampleroom.json")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "{") {
		t.Errorf("canonical cmd/roomproto/exampleroom.json from the root: %+v", r)
	}
}

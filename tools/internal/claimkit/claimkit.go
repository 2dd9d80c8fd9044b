// Package claimkit holds the test helpers that the audit packages of tools/ (claimsa,
// claimsb, claimsc, claimsd, claimse, claimsf, claimsg, climisuse, misuse) share: the module
// root, the room version list and lookup, the auth rules templates of testdata/authrules, JSON
// building, the known-finding switch and the roomproto command run from the module root.
package claimkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/clitest"
)

// M is a JSON object literal.
type M = map[string]any

// root finds the module root once: the nearest directory at or above the working directory
// (a test's is its package's) that holds a go.mod.
var root = sync.OnceValues(func() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("claimkit: no go.mod at or above the working directory")
		}
		d = up
	}
})

// Root returns the module root as an absolute path (for a package under tools/, "../.." made
// absolute). It panics when no go.mod is found, as it is used in package-level variables
// where no test is at hand.
func Root() string {
	d, err := root()
	if err != nil {
		panic(err) // invariant: the audit packages that call Root live inside the module, under its go.mod
	}
	return d
}

// ReadRoot returns the file rel (a slash-separated path) of the module root.
func ReadRoot(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Root(), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Flat returns s with every run of white space (line breaks included) made one space, so that
// a sentence wrapped over lines can be found.
func Flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// HasText reports whether the file rel of the module root holds the sentence, white space
// flattened; in a .go file, the comment markers are left out, so that a doc comment's sentence
// is found across its lines.
func HasText(t testing.TB, rel, sentence string) bool {
	t.Helper()
	text := ReadRoot(t, rel)
	if strings.HasSuffix(rel, ".go") {
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(strings.TrimSpace(l), "//")
		}
		text = strings.Join(lines, "\n")
	}
	return strings.Contains(Flat(text), Flat(sentence))
}

// WantText fails the test unless the file rel of the module root holds the sentence (as
// HasText finds it): the claim a test checks is still the text's.
func WantText(t testing.TB, rel, sentence string) {
	t.Helper()
	if !HasText(t, rel, sentence) {
		t.Fatalf("%s no longer says %q: the claim this test checks changed", rel, sentence)
	}
}

// VersionIDs returns the spec's room version identifiers, oldest first ("1" to "12"), in a new
// slice each call. The list is written out here, not taken from roomversion, so that an audit
// does not take the list from the code it checks.
func VersionIDs() []string {
	return []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}
}

// Ver returns the room version id, failing t when roomversion does not know it.
func Ver(t testing.TB, id string) roomversion.Version {
	t.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", id, err)
	}
	return v
}

var templates = sync.OnceValues(func() (map[string]json.RawMessage, error) {
	return authfixture.LoadTemplates(filepath.Join(Root(), "testdata", "authrules"))
})

// Templates returns the event templates of testdata/authrules (authfixture.LoadTemplates), read
// once per test process; a failed read fails t (every later call too). The map is shared:
// callers must not change it.
func Templates(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	m, err := templates()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Marshal returns v as compact JSON with sorted object keys and no HTML escaping, failing t
// when v cannot be encoded.
func Marshal(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// KnownFinding skips t unless the environment variable PKG_KNOWN (pkg in upper case) is set:
// the case fails today because of finding id, which tools/PKG/README.md reports. Running with
// PKG_KNOWN=1 shows the failure, until the code or the text is fixed and the marker removed.
func KnownFinding(t testing.TB, pkg, id string) {
	t.Helper()
	env := strings.ToUpper(pkg) + "_KNOWN"
	if os.Getenv(env) == "" {
		t.Skipf("known finding %s (see tools/%s/README.md); %s=1 runs it", id, pkg, env)
	}
}

// CLI is the roomproto command of the module, built the first time a test needs it. It must
// not be copied.
type CLI struct {
	bin *clitest.Binary
}

// NewCLI returns the command to be built into NAME-roomproto in the temporary directory
// (os.TempDir), name being the audit package's.
func NewCLI(name string) *CLI {
	return &CLI{&clitest.Binary{Root: Root(), Path: filepath.Join(os.TempDir(), name+"-roomproto")}}
}

// Build builds the command the first time and returns its path; a failed build fails t.
func (c *CLI) Build(t testing.TB) string {
	t.Helper()
	return c.bin.Build(t)
}

// Run runs the command with args in dir (the module root when "") with stdin (nil: none) as
// its standard input. Only an exit status is a result; failing to start the command fails t.
func (c *CLI) Run(t testing.TB, dir string, stdin []byte, args ...string) clitest.Result {
	t.Helper()
	if dir == "" {
		dir = Root()
	}
	return c.bin.Run(t, dir, stdin, args...)
}

//go:build goexperiment.jsonv2

package pducmp

import (
	"sync"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// Cat is the category of a divergence class (difftool's letters).
type Cat = difftool.Category

const (
	// CatMtx (b): mautrix departs from the spec, roomproto follows it.
	CatMtx = difftool.OracleDeparts
	// CatSilent (c): the spec is silent; roomproto's reading is in docs/decisions.md.
	CatSilent = difftool.SpecSilent
)

// Class is a known divergence class of this package, with the group ("event", "sign",
// "select") whose comparisons it explains.
type Class struct {
	Name, Area string
	Cat        Cat
	Desc, Spec string
}

var (
	classByName = map[string]*Class{}
	classOrder  []*Class
	dtClasses   = map[string]*difftool.Class{}
)

func register(cs ...*Class) {
	for _, c := range cs {
		if classByName[c.Name] != nil {
			panic("duplicate class " + c.Name) // invariant: the tables are the harness's own
		}
		classByName[c.Name] = c
		classOrder = append(classOrder, c)
		dtClasses[c.Name] = &difftool.Class{ID: c.Name, Cat: c.Cat, Desc: c.Desc, Spec: c.Spec}
	}
}

// Classes returns the known classes of the groups ("event", "sign", "select"), in the order
// they are registered.
func Classes(groups ...string) []*difftool.Class {
	var out []*difftool.Class
	for _, c := range classOrder {
		for _, g := range groups {
			if c.Area == g {
				out = append(out, dtClasses[c.Name])
			}
		}
	}
	return out
}

// ClassByID returns the difftool class of the name (nil if unknown), so that another package
// can list the same class in its own area.
func ClassByID(name string) *difftool.Class { return dtClasses[name] }

// The comparisons of this package record into one tally at a time: runMu serialises the runs
// of the package's areas (areas run in parallel otherwise), cur is the tally of the running one
// and want the comparisons (sub-areas) it records.
var (
	runMu sync.Mutex
	cur   *difftool.Tally
	want  map[string]bool
)

func begin(t *difftool.Tally, subs ...string) func() {
	runMu.Lock()
	cur, want = t, map[string]bool{}
	for _, s := range subs {
		want[s] = true
	}
	return func() { cur, want = nil, nil; runMu.Unlock() }
}

func wanted(sub string) bool { return want[sub] }

// record one comparison of the sub-area. agree means both sides gave the same answer; class
// names a registered class or, when it is not one, the signature of an unclassified divergence.
func record(sub string, agree bool, class, example string) {
	if !want[sub] {
		return
	}
	if agree {
		cur.Agree()
		return
	}
	example = stableErr(example)
	if classByName[class] != nil && cur.Known(class) {
		cur.Diverge(class, sub, example)
		return
	}
	cur.Diverge("", sub+" | "+class, example)
}

// RunRedact compares redaction (whole event, then content only) on n generated events in each
// room version 1-12.
func RunRedact(t *difftool.Tally, n int, seed int64) {
	defer begin(t, "redact", "redact-content")()
	runEvent(seed, n)
}

// RunHash compares the content hash, reference hash and event ID on n generated events in each
// room version 1-12.
func RunHash(t *difftool.Tally, n int, seed int64) {
	defer begin(t, "content-hash", "ref-hash", "event-id")()
	runEvent(seed, n)
}

// RunSign signs n generated events with each side, then verifies them with both after every
// mutation.
func RunSign(t *difftool.Tally, n int, seed int64) {
	defer begin(t, "sign-bytes", "sign")()
	runSign(seed, n)
}

// RunSelect compares the auth events selection on n generated events.
func RunSelect(t *difftool.Tally, n int, seed int64) {
	defer begin(t, "select")()
	runSelect(seed, n)
}

// RunCorpus checks the signing corpus at path (event IDs, verification) on both sides, then n
// mutations of each event.
func RunCorpus(t *difftool.Tally, path string, n int, seed int64) {
	defer begin(t, "corpus-id", "corpus-verify", "corpus-mut")()
	runCorpus(seed, path, n)
}

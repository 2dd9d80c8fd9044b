//go:build goexperiment.jsonv2

package pducmp

import (
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

// recorder records the comparisons of one run of an area into its tally: those of the
// sub-areas it wants (areas redact and hash share one generator, each recording its own).
type recorder struct {
	t    *difftool.Tally
	want map[string]bool
}

func newRecorder(t *difftool.Tally, subs ...string) *recorder {
	rc := &recorder{t: t, want: map[string]bool{}}
	for _, s := range subs {
		rc.want[s] = true
	}
	return rc
}

func (rc *recorder) wanted(sub string) bool { return rc.want[sub] }

// record one comparison of the sub-area. agree means both sides gave the same answer; class
// names a registered class or, when it is not one, the signature of an unclassified divergence.
func (rc *recorder) record(sub string, agree bool, class, example string) {
	if !rc.want[sub] {
		return
	}
	if agree {
		rc.t.Agree()
		return
	}
	example = stableErr(example)
	if classByName[class] != nil && rc.t.Known(class) {
		rc.t.Diverge(class, sub, example)
		return
	}
	rc.t.Diverge("", sub+" | "+class, example)
}

// RunRedact compares redaction (whole event, then content only) on n generated events in each
// room version 1-12.
func RunRedact(t *difftool.Tally, n int, seed int64) {
	runEvent(newRecorder(t, "redact", "redact-content"), seed, n)
}

// RunHash compares the content hash, reference hash and event ID on n generated events in each
// room version 1-12.
func RunHash(t *difftool.Tally, n int, seed int64) {
	runEvent(newRecorder(t, "content-hash", "ref-hash", "event-id"), seed, n)
}

// RunSign signs n generated events with each side, then verifies them with both after every
// mutation.
func RunSign(t *difftool.Tally, n int, seed int64) {
	runSign(newRecorder(t, "sign-bytes", "sign"), seed, n)
}

// RunSelect compares the auth events selection on n generated events.
func RunSelect(t *difftool.Tally, n int, seed int64) {
	runSelect(newRecorder(t, "select"), seed, n)
}

// RunCorpus checks the signing corpus at path (event IDs, verification) on both sides, then n
// mutations of each event.
func RunCorpus(t *difftool.Tally, path string, n int, seed int64) {
	runCorpus(newRecorder(t, "corpus-id", "corpus-verify", "corpus-mut"), seed, path, n)
}

// Package difftool is the oracle-independent part of the differential tools under tools/
// (gmsldiff, mautrixdiff): known classes of divergence, areas, tallies, the printed report and
// the command line (areas, -n, -seed, -j, -v, -md, -classes, exit status), the small-run check
// of their tests (CheckRun) and the JSON helpers of their generators (Enc, Decode, CopyM, ...).
//
// An oracle is another implementation of the Matrix room protocol run side by side with
// roomproto. It is not an authority: the Matrix spec is. Every known class of divergence says
// which of two things it is: the oracle departs from the spec (b), or the spec is silent and
// roomproto's reading is recorded in docs/decisions.md (c). A third category (d) records a
// difference of API scope: a duty one side leaves to its caller.
//
// The package uses the standard library only, so that the root module does not grow a
// dependency; each tool is a nested module that imports it.
package difftool

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// Category says who is right when a known class of divergence occurs.
type Category string

const (
	// OracleDeparts (b): the oracle departs from the spec; roomproto follows it.
	OracleDeparts Category = "b"
	// SpecSilent (c): the spec does not decide; roomproto's reading is recorded in
	// docs/decisions.md.
	SpecSilent Category = "c"
	// APIScope (d): the two APIs differ in scope: the oracle leaves to its caller a check that
	// roomproto makes (or the reverse), so the harness sees a divergence no caller would.
	APIScope Category = "d"
)

// Class is a known kind of divergence between roomproto and an oracle.
type Class struct {
	// ID names the class in the output, e.g. "G-leave-from-none-or-leave".
	ID string
	// Cat is the class's category.
	Cat Category
	// Desc says in one line what differs and why.
	Desc string
	// Spec is the spec text (path under the spec's content/ or data/ folder, and section or
	// rule) that decides the case, and for category (c) the docs/decisions.md entry.
	Spec string
}

// Area is one comparison run: a generator, the two sides and a classifier.
type Area struct {
	// Name is the command-line name of the area.
	Name string
	// Title says what is compared with what.
	Title string
	// Unit names what N counts.
	Unit string
	// DefaultN is the number of generated inputs when -n is not given.
	DefaultN int
	// Classes are the known divergence classes of the area.
	Classes []*Class
	// Run generates n inputs from seed and records every comparison in t.
	Run func(t *Tally, n int, seed int64)
}

// bucket counts the divergences of a class (or of an unclassified signature) and keeps the
// smallest example.
type bucket struct {
	count   int
	example string
}

func (b *bucket) add(example string) {
	b.count++
	if b.count == 1 || len(example) < len(b.example) || len(example) == len(b.example) && example < b.example {
		b.example = example
	}
}

// Tally records the comparisons of one area: how many were made, how many agreed, and for each
// divergence its class (or, when no class explains it, a signature describing it).
type Tally struct {
	area    *Area
	classes map[string]*Class
	// Compared counts the comparisons made.
	Compared int
	// Agreed counts the comparisons where both sides gave the same answer.
	Agreed       int
	byClass      map[string]*bucket
	unclassified map[string]*bucket
	classSigs    map[string]map[string]int // class -> signature -> count (for -v)
}

// NewTally returns an empty tally for the area. It panics when two classes of the area share
// an ID.
func NewTally(a *Area) *Tally {
	t := &Tally{area: a, classes: map[string]*Class{}, byClass: map[string]*bucket{}, unclassified: map[string]*bucket{}, classSigs: map[string]map[string]int{}}
	for _, c := range a.Classes {
		if t.classes[c.ID] != nil {
			panic("duplicate class " + c.ID) // invariant: the harness built this table itself
		}
		t.classes[c.ID] = c
	}
	return t
}

// Area returns the area the tally records.
func (t *Tally) Area() *Area { return t.area }

// Known reports whether class is one of the area's known classes.
func (t *Tally) Known(class string) bool { return t.classes[class] != nil }

// Agree records a comparison where both sides agree.
func (t *Tally) Agree() {
	t.Compared++
	t.Agreed++
}

// Diverge records a divergence of a known class. An empty class records it as unclassified
// under the signature sig. A class the area does not know is a harness bug: Diverge panics.
func (t *Tally) Diverge(class, sig, example string) {
	t.Compared++
	if class == "" {
		t.bucket(t.unclassified, sig).add(example)
		return
	}
	if t.classes[class] == nil {
		panic(fmt.Sprintf("area %s: unknown class %q", t.area.Name, class)) // invariant: the harness built this table itself
	}
	t.bucket(t.byClass, class).add(example)
	if t.classSigs[class] == nil {
		t.classSigs[class] = map[string]int{}
	}
	t.classSigs[class][sig]++
}

// Problem records something that is not a comparison but must not pass unseen (a harness
// error, a roomproto self-check that failed): it counts as unclassified.
func (t *Tally) Problem(sig, example string) {
	t.bucket(t.unclassified, sig).add(example)
}

func (t *Tally) bucket(m map[string]*bucket, k string) *bucket {
	b := m[k]
	if b == nil {
		b = &bucket{}
		m[k] = b
	}
	return b
}

// Count returns how many divergences fell in the class.
func (t *Tally) Count(class string) int {
	if b := t.byClass[class]; b != nil {
		return b.count
	}
	return 0
}

// Classified returns the number of divergences that fell in a known class.
func (t *Tally) Classified() int {
	n := 0
	for _, b := range t.byClass {
		n += b.count
	}
	return n
}

// Unclassified returns the number of divergences no class explains (and of problems).
func (t *Tally) Unclassified() int {
	n := 0
	for _, b := range t.unclassified {
		n += b.count
	}
	return n
}

// maxExample bounds how much of an example is printed.
const maxExample = 1500

// Clip returns s, or its first n bytes followed by the full length when it is longer.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf(" ...[%d bytes]", len(s))
}

// Print writes the area's figures: comparisons, agreements, then each class with its count and
// smallest example, then the unclassified divergences with theirs.
func (t *Tally) Print(w io.Writer, verbose bool) {
	a := t.area
	div := t.Compared - t.Agreed
	fmt.Fprintf(w, "== %s: %s\n", a.Name, a.Title)
	fmt.Fprintf(w, "   compared %d, agreed %d, diverged %d (unclassified %d)\n", t.Compared, t.Agreed, div, t.Unclassified())
	for _, c := range a.Classes {
		b := t.byClass[c.ID]
		if b == nil {
			fmt.Fprintf(w, "   %-44s (%s) %7d\n", c.ID, c.Cat, 0)
			continue
		}
		fmt.Fprintf(w, "   %-44s (%s) %7d  %s\n", c.ID, c.Cat, b.count, c.Desc)
		fmt.Fprintf(w, "      smallest: %s\n", indent(Clip(b.example, maxExample)))
		if verbose {
			sigs := t.classSigs[c.ID]
			keys := make([]string, 0, len(sigs))
			for k := range sigs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "      %7d  %s\n", sigs[k], k)
			}
		}
	}
	if len(t.unclassified) > 0 {
		keys := make([]string, 0, len(t.unclassified))
		for k := range t.unclassified {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			bi, bj := t.unclassified[keys[i]], t.unclassified[keys[j]]
			if bi.count != bj.count {
				return bi.count > bj.count
			}
			return keys[i] < keys[j]
		})
		fmt.Fprintf(w, "   UNCLASSIFIED divergences (%d signatures):\n", len(keys))
		for i, k := range keys {
			if i == 20 {
				fmt.Fprintf(w, "   ... %d more signatures\n", len(keys)-i)
				break
			}
			b := t.unclassified[k]
			fmt.Fprintf(w, "   UNCLASSIFIED %6d  %s\n", b.count, k)
			fmt.Fprintf(w, "      smallest: %s\n", indent(Clip(b.example, maxExample)))
		}
	}
	fmt.Fprintln(w)
}

// indent makes an example printable: continuation lines indented, invalid UTF-8 and control
// characters other than newline and tab written as escapes.
func indent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString("\n                ")
		case r < 0x20 && r != '\t' || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// ClassTable writes the area's known classes as a Markdown table.
func (a *Area) ClassTable(w io.Writer) {
	fmt.Fprintf(w, "| class | cat | what differs | spec / decision |\n|---|---|---|---|\n")
	for _, c := range a.Classes {
		fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", c.ID, c.Cat, mdCell(c.Desc), mdCell(c.Spec))
	}
}

// Markdown writes the area's figures as a Markdown table.
func (t *Tally) Markdown(w io.Writer) {
	fmt.Fprintf(w, "**%s**: %d compared, %d agreed, %d diverged (%d unclassified)\n\n", t.area.Name, t.Compared, t.Agreed, t.Compared-t.Agreed, t.Unclassified())
	fmt.Fprintf(w, "| class | cat | count |\n|---|---|---:|\n")
	for _, c := range t.area.Classes {
		fmt.Fprintf(w, "| `%s` | %s | %d |\n", c.ID, c.Cat, t.Count(c.ID))
	}
	fmt.Fprintln(w)
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

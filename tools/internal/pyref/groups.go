package pyref

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// Group is one class of divergence of a harness: the cases whose divergence has the same key,
// counted per room version, with the first example met and the smallest one.
type Group[E any] struct {
	Key      string         `json:"key"`
	Count    int            `json:"count"`
	Versions map[string]int `json:"versions,omitempty"` // room version ("1", "12") -> cases
	First    E              `json:"first"`
	Small    E              `json:"smallest"`
	size     int            // the size of Small
	replaced bool           // Small is no longer First
}

// Groups are the divergence groups of a run, by their key.
type Groups[E any] map[string]*Group[E]

// Add counts the example ex of size size (bytes, as the harness measures them) in the group
// key, creating the group at its first example; ex becomes the group's smallest example when
// it is smaller than the one kept. An empty version is not counted in Versions.
func (gs Groups[E]) Add(key, version string, ex E, size int) *Group[E] {
	g := gs[key]
	if g == nil {
		g = &Group[E]{Key: key, Versions: map[string]int{}, First: ex, Small: ex, size: size}
		gs[key] = g
	} else if size < g.size {
		g.Small, g.size, g.replaced = ex, size, true
	}
	g.Count++
	if version != "" {
		g.Versions[version]++
	}
	return g
}

// Sorted returns the groups in the order of their keys (as pyref.WriteRun writes them).
func (gs Groups[E]) Sorted() []*Group[E] {
	return difftool.SortedValues(gs)
}

// Print writes each group in the order of the keys: its count, key and versions, then its
// smallest example as indented JSON, with verbose its first example before when it is another.
// show, when not nil, gives what is printed of an example (the full one is in WriteRun's file).
func (gs Groups[E]) Print(w io.Writer, verbose bool, show func(E) any) {
	for _, g := range gs.Sorted() {
		fmt.Fprintf(w, "%6d  %s  versions %s\n", g.Count, g.Key, FormatVersions(g.Versions))
		exs := []E{g.Small}
		if verbose && g.replaced {
			exs = []E{g.First, g.Small}
		}
		for _, ex := range exs {
			var v any = ex
			if show != nil {
				v = show(ex)
			}
			b, _ := json.MarshalIndent(v, "        ", "  ")
			fmt.Fprintf(w, "        %s\n", b)
		}
	}
}

// FormatVersions formats counts per room version in the order of the versions, as "v1:3 v12:5".
func FormatVersions(m map[string]int) string {
	var parts []string
	for _, k := range difftool.SortedVersions(m) {
		parts = append(parts, fmt.Sprintf("v%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// StripDetail returns s without the detail in parentheses that ends it: the part before " (",
// as group keys name an outcome ("reject (rule 4.2)" -> "reject").
func StripDetail(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		return s[:i]
	}
	return s
}

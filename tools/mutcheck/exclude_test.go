package main

import (
	"slices"
	"testing"
)

// TestExclude checks that an earlier run's mutants are left out: by ID, and by the nearest
// mutant of the same kind when the earlier ID moved (its file was edited since).
func TestExclude(t *testing.T) {
	ms, err := Enumerate("p", "p/p.go", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	// The same source with two lines inserted above f: every mutant of f moved by two lines.
	moved, err := Enumerate("p", "p/p.go", []byte("package p\n\n\n"+tiny[len("package p\n"):]))
	if err != nil {
		t.Fatal(err)
	}
	prev := []Mutant{ms[0], ms[2]} // int+1 of the const, negate-if of line 6
	out := Exclude(ms, prev)
	if len(out) != len(ms)-2 || slices.ContainsFunc(out, func(m Mutant) bool { return m.ID == ms[0].ID || m.ID == ms[2].ID }) {
		t.Fatalf("same IDs: %d of %d left", len(out), len(ms))
	}
	out = Exclude(moved, prev)
	if len(out) != len(moved)-2 {
		t.Fatalf("moved: %d of %d left, want %d", len(out), len(moved), len(moved)-2)
	}
	for _, m := range out {
		if (m.Op == "int+1" && m.Func == "") || m.Op == "negate-if" && m.Line == 8 {
			t.Errorf("moved mutant %s not excluded", m.ID)
		}
	}
	if got := Cap(ms, 3, 2); len(got) != 3 {
		t.Errorf("Cap: %d mutants, want 3", len(got))
	}
}

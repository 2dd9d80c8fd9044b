package main

import "github.com/roomproto/roomproto/tools/internal/difftool"

// The classes, areas, tallies and report printing are shared with tools/mautrixdiff through
// tools/internal/difftool; these names keep the area files short.

// Category says who is right when a known class of divergence occurs.
type Category = difftool.Category

const (
	// GMSLDeparts (b): gomatrixserverlib departs from the spec; roomproto follows it.
	GMSLDeparts = difftool.OracleDeparts
	// SpecSilent (c): the spec does not decide; roomproto's reading is recorded in
	// docs/decisions.md.
	SpecSilent = difftool.SpecSilent
)

// Class is a known kind of divergence between roomproto and gomatrixserverlib.
type Class = difftool.Class

// Area is one comparison run: a generator, the two sides and a classifier.
type Area = difftool.Area

// Tally records the comparisons of one area.
type Tally = difftool.Tally

// NewTally returns an empty tally for the area.
func NewTally(a *Area) *Tally { return difftool.NewTally(a) }

func clip(s string, n int) string { return difftool.Clip(s, n) }

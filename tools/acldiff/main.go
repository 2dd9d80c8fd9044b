// Command acldiff runs roomproto's serveracl and Dendrite's server ACLs (github.com/matrix-org/
// dendrite v0.13.8, package roomserver/acls, Apache-2.0) side by side on generated m.room.
// server_acl contents and server names, and sorts every divergence into a known class.
// Dendrite is an oracle, not an authority: the Matrix spec is. A known class is either a
// place where Dendrite departs from the spec (b) or one where the spec is silent and
// roomproto's reading is recorded in docs/decisions.md (c).
//
// Usage, from tools/acldiff:
//
//	go run . [area ...] [-n N] [-seed S] [-j J] [-v] [-md] [-classes]
//
// The areas are allowed, parse, match, and all (the default). The exit status is 0 when every
// divergence falls in a known class, 1 when some divergence is unclassified (its smallest
// examples are printed), 2 on bad usage.
package main

import (
	"io"
	"os"

	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/sirupsen/logrus"
)

// areas lists every area in the order of the output.
var areas = []*difftool.Area{allowedArea, parseArea, matchArea}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	tool := &difftool.Tool{
		Name:   "acldiff",
		Banner: "roomproto serveracl vs " + dendriteVersion + " (roomserver/acls)",
		Areas:  areas,
		Setup:  func() { logrus.SetOutput(io.Discard) }, // Dendrite logs each content it cannot decode
	}
	return tool.Run(args, stdout, stderr)
}

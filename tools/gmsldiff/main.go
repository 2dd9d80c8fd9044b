// Command gmsldiff runs roomproto and gomatrixserverlib (GMSL) side by side on generated
// inputs and sorts every divergence into a known class. GMSL is an oracle, not an authority:
// the Matrix spec is. A known class is either a place where GMSL departs from the spec (b) or
// one where the spec is silent and roomproto's reading is recorded in docs/decisions.md (c).
//
// Usage, from tools/gmsldiff:
//
//	go run . [area ...] [-n N] [-seed S] [-j J]
//
// The areas are auth, redact, canon, hash, sign, join, select, format, jsonsig, and all (the
// default). The exit status is 0 when every divergence falls in a known class, 1 when some
// divergence is unclassified (its smallest examples are printed): a sign that a change of
// roomproto (or of the harness) moved a verdict. 2 means bad usage.
package main

import (
	"flag"
	"io"
	"os"

	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/sirupsen/logrus"
)

// areas lists every area in the order of the output.
var areas = []*Area{authArea, redactArea, canonArea, hashArea, signArea, joinArea, selectArea, formatArea, jsonsigArea}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	tool := &difftool.Tool{
		Name:   "gmsldiff",
		Banner: "roomproto vs gomatrixserverlib",
		Areas:  areas,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&corpusPath, "corpus", corpusPath, "the signing corpus (areas hash and sign)")
		},
		Setup: func() { logrus.SetOutput(io.Discard) }, // GMSL logs refusals through logrus
	}
	return tool.Run(args, stdout, stderr)
}

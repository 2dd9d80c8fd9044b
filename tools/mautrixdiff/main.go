//go:build goexperiment.jsonv2

// Command mautrixdiff runs roomproto and mautrix-go (maunium.net/go/mautrix v0.32.0, packages
// federation/pdu and federation/eventauth) side by side on generated inputs and sorts every
// divergence into a known class. mautrix is an oracle, not an authority: the Matrix spec is. A
// known class is a place where mautrix departs from the spec (b), one where the spec is silent
// and roomproto's reading is recorded in docs/decisions.md (c), or a difference of API scope
// (d).
//
// Usage, from tools/mautrixdiff (mautrix needs the jsonv2 experiment):
//
//	GOEXPERIMENT=jsonv2 go run . [area ...] [-n N] [-seed S] [-j J] [-v] [-md] [-classes]
//
// The areas are auth, v12, create, redact, hash, sign, select, corpus, and all (the default).
// The exit status is 0 when every divergence falls in a known class, 1 when some divergence is
// unclassified (its smallest examples are printed), 2 on bad usage.
package main

import (
	"flag"
	"io"
	"os"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// areas lists every area in the order of the output.
var areas = []*difftool.Area{authArea, v12Area, createArea, redactArea, hashArea, signArea, selectArea, corpusArea}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	tool := &difftool.Tool{
		Name:   "mautrixdiff",
		Banner: "roomproto vs mautrix-go v0.32.0",
		Areas:  areas,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&corpusPath, "corpus", corpusPath, "the signing corpus (area corpus)")
		},
	}
	return tool.Run(args, stdout, stderr)
}

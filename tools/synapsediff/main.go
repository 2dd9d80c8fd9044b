// Command synapsediff runs roomproto and Synapse's own JSON libraries (canonicaljson,
// signedjson, PyNaCl/libsodium, as Debian packages them) side by side on generated inputs and
// sorts every place where they disagree into a known class. See README.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

type (
	Class = difftool.Class
	Area  = difftool.Area
	Tally = difftool.Tally
)

const (
	OracleDeparts = difftool.OracleDeparts
	SpecSilent    = difftool.SpecSilent
	APIScope      = difftool.APIScope
)

var areas = []*Area{canonArea, signArea, verifyArea, edArea, bulkArea}

var (
	pythonPath = defaultPython
	printCases bool
	oracleOnce sync.Once
	oracleVal  *oracle
	oracleErr  error
)

// theOracle returns the shared helper, started on first use. It stops the program (harnessFailed)
// when the helper cannot start: main checks that first, the tests skip.
func theOracle() *oracle {
	o, err := getOracle()
	if err != nil {
		harnessFailed(err)
	}
	return o
}

// harnessFailed reports a failure of the Python helper, without which no comparison can go on,
// and exits with status 2, as when the helper cannot be started.
func harnessFailed(err error) {
	fmt.Fprintf(os.Stderr, "synapsediff: %v\n", err)
	os.Exit(2)
}

func getOracle() (*oracle, error) {
	oracleOnce.Do(func() { oracleVal, oracleErr = startOracle(pythonPath) })
	return oracleVal, oracleErr
}

func main() {
	tool := &difftool.Tool{
		Name:   "synapsediff",
		Banner: "roomproto vs Synapse's canonicaljson and signedjson (PyNaCl, libsodium)",
		Areas:  areas,
		Flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&printCases, "cases", false, "after the run, print per crafted ed25519 case how often libsodium, roomproto and crypto/ed25519 accepted")
			fs.StringVar(&pythonPath, "python", defaultPython, "the interpreter that has Debian's python3-canonicaljson and python3-signedjson")
		},
		Setup: func() {
			o, err := getOracle()
			if err != nil {
				fmt.Fprintf(os.Stderr, "synapsediff: %s: %v\n", pythonPath, err)
				os.Exit(2)
			}
			v, _ := o.version()
			fmt.Printf("oracle: %s\n", v)
		},
	}
	code := tool.Run(os.Args[1:], os.Stdout, os.Stderr)
	if printCases && code != 2 {
		fmt.Print("\n" + caseTable())
	}
	os.Exit(code)
}

package pyref

import (
	"flag"
	"math/rand"
	"strings"
)

// Versions are the room versions of the spec, in order: -versions' default.
var Versions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

// VerboseHelp is -v's help text when Define is given none.
const VerboseHelp = "print the first example of each group too"

// Flags are the flags the reference harnesses share. Define them with Define (and -out with
// DefineOut) before flag.Parse and read them after.
type Flags struct {
	// N is -n: how many cases to draw.
	N int
	// Seed is -seed: the seed of the run's *rand.Rand (Rand).
	Seed int64
	// Versions is -versions: the room versions to draw from, comma-separated (VersionList).
	Versions string
	// Decisions is -decisions: the reference adopts docs/decisions.md readings.
	Decisions bool
	// Out is -out: the directory for WriteRun's files ("": none). Only DefineOut defines it.
	Out string
	// Verbose is -v: print more of each divergence group.
	Verbose bool
	// env is the environment variable that tells the script about -decisions.
	env string
}

// Define defines -n (default n), -seed, -versions, -decisions and -v on fs. env is the
// environment variable Start sets to "1" for the script when -decisions is on
// ("MEMBERREF_DECISIONS", say), named in -decisions' help; decisions is -decisions' default;
// verbose is -v's help text (VerboseHelp when empty).
func (f *Flags) Define(fs *flag.FlagSet, n int, env string, decisions bool, verbose string) {
	if verbose == "" {
		verbose = VerboseHelp
	}
	f.env = env
	fs.IntVar(&f.N, "n", n, "cases")
	fs.Int64Var(&f.Seed, "seed", 1, "seed")
	fs.StringVar(&f.Versions, "versions", strings.Join(Versions, ","), "room versions")
	fs.BoolVar(&f.Decisions, "decisions", decisions, "the reference adopts docs/decisions.md readings ("+env+"=1)")
	fs.BoolVar(&f.Verbose, "v", false, verbose)
}

// DefineOut defines -out on fs: the directory WriteRun writes the run's files into.
func (f *Flags) DefineOut(fs *flag.FlagSet) {
	fs.StringVar(&f.Out, "out", "", "directory for tally.tsv, coverage.txt and divergences.jsonl (none if empty)")
}

// VersionList returns -versions split at its commas.
func (f *Flags) VersionList() []string { return strings.Split(f.Versions, ",") }

// Rand returns a new *rand.Rand seeded with -seed.
func (f *Flags) Rand() *rand.Rand { return rand.New(rand.NewSource(f.Seed)) }

// Start is MustStart for script with the environment variable given to Define set to "1" when
// -decisions is on. Pass the script as Beside("name.py") from the harness's own source.
func (f *Flags) Start(script string) *Process {
	return MustStart(script, Env(f.Decisions, f.env+"=1")...)
}

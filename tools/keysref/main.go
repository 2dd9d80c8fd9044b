// Command keysref compares roomproto's JSON signing, signature checks, signing keys and key
// rings (signing.SignJSON, VerifyJSON, VerifyJSONServer, HasValidSignature, ParseSignedObject,
// NewSigningKey, ParseSigningKey, ParseKeyRing, DecodePublicKey, KeyRing) with an independent
// Python reference written from the spec text only (keysref.py in this directory), and checks
// that the batch paths (VerifyEvents, VerifyParsedEvents, ParseAndVerifyEvents, with every
// BatchOptions field) give, event for event, exactly the error of the single-event paths
// (VerifyEvent, ParseEvent + VerifyParsedEvent), whose verdict (VerdictOf, Redactable) is also
// compared with the reference on a sample.
//
//	go run ./tools/keysref -n 3000 -seed 1 [-decisions] [-out DIR] [-v]
//
// It first runs the fixed cases (the appendix's test vectors, the example key file and key
// ring lines), then n random cases. Divergences are grouped by kind, operation, both answers
// and the reference's spec-silent corners (amb); each group is printed with its smallest
// example. Exit status 1 on any divergence or harness error, 2 when the reference cannot be
// started.
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// refReq is one request to keysref.py.
type refReq struct {
	Op      string                       `json:"op"`
	ObjB64  string                       `json:"obj_b64,omitempty"`
	TextB64 string                       `json:"text_b64,omitempty"`
	Server  string                       `json:"server,omitempty"`
	Version string                       `json:"version,omitempty"`
	Seed    string                       `json:"seed,omitempty"`
	Pub     string                       `json:"pub,omitempty"`
	S       string                       `json:"s,omitempty"`
	Keys    map[string]map[string]string `json:"keys,omitempty"`
}

// refAns is the reference's answer.
type refAns struct {
	Out   string     `json:"out"`
	Blame [][]string `json:"blame"`
	Why   string     `json:"why"`
	Amb   []string   `json:"amb"`
	Error string     `json:"error"`
}

// example is one divergent case, as printed and written to divergences.jsonl.
type example struct {
	Op    string   `json:"op"`
	Label string   `json:"label"`
	Input string   `json:"input"`
	RP    string   `json:"roomproto"`
	Ref   string   `json:"reference"`
	Why   string   `json:"why,omitempty"`
	Amb   []string `json:"amb,omitempty"`
}

var (
	ref    *pyref.Process
	groups = pyref.Groups[*example]{}
	// openGroups are the divergences of the open findings (openTag).
	openGroups = pyref.Groups[*example]{}
	tally      = map[string]int{}
	ambSeen    = map[string]int{}
	harness    int
	diverged   int
	compared   int
	decisions  bool
)

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// ask sends a request; a harness error is counted and reported.
func ask(req any) (refAns, bool) {
	var a refAns
	if err := ref.MustAsk(req, &a); err != nil {
		a.Error = err.Error()
	}
	if a.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(a.Error, 2000))
		return a, false
	}
	return a, true
}

// class shortens an outcome for a group key ("ok {...}" -> "ok").
func class(s string) string {
	if strings.HasPrefix(s, "ok ") {
		return "ok"
	}
	return s
}

// record counts a comparison and reports a divergence.
func record(kind, op, label, input, rp string, a refAns) {
	compared++
	tally[op+" "+class(rp)]++
	for _, f := range a.Amb {
		ambSeen[op+" "+f]++
	}
	if kind == "" {
		return
	}
	gs := groups
	if tag := openTag(op, input, rp, a); tag != "" {
		gs, kind = openGroups, "OPEN("+tag+") "+kind
	} else {
		diverged++
	}
	ex := &example{Op: op, Label: label, Input: difftool.Clip(input, 1500), RP: difftool.Clip(rp, 600),
		Ref: difftool.Clip(a.Out, 600), Why: a.Why, Amb: a.Amb}
	key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", kind, op, difftool.Clip(class(rp), 80), difftool.Clip(class(a.Out), 80), strings.Join(a.Amb, ","))
	gs.Add(key, "", ex, len(input)+len(label))
}

// unquote undoes the %q of an input, leaving other inputs as they are.
func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// openTag names the open finding (see the README) a divergence belongs to, or "". Cases of an
// open finding are kept apart so that a run shows whether anything else diverges; with
// -accept-open they do not fail the run.
func openTag(op, input, rp string, a refAns) string {
	for _, f := range a.Amb {
		if strings.HasPrefix(f, "open:") {
			return strings.TrimPrefix(f, "open:")
		}
	}
	switch {
	case op == "ParseKeyRing" && rp == "err" && strings.HasPrefix(a.Out, "ok") && slices.Contains(a.Amb, "duplicate-keys"):
		// F1: an earlier occurrence of a duplicate member is validated although the last counts
		return "F1-ring-duplicate-validated"
	case op == "ParseSigningKey" && strings.HasPrefix(rp, "ok") && a.Out == "err" && strings.ContainsFunc(unquote(input), func(c rune) bool {
		return unicode.IsSpace(c) && !strings.ContainsRune(" \t\n\r", c)
	}):
		// F2: whitespace other than spaces and tabs separates or surrounds the fields
		return "F2-keyfile-unicode-space"
	}
	return ""
}

// compare compares roomproto's outcome with the reference's.
func compare(op, label, input, rp string, a refAns) {
	kind := ""
	switch {
	case rp == a.Out:
	case class(rp) == class(a.Out):
		kind = "OUTPUT"
	default:
		kind = "VERDICT"
	}
	record(kind, op, label, input, rp, a)
}

// errKind renders an error of the verify functions as the reference does.
func errKind(err error) string {
	switch {
	case err == nil:
		return "valid"
	case errors.Is(err, signing.ErrMalformed):
		return "err malformed"
	case errors.Is(err, signing.ErrMissingSignature):
		return "err missing"
	case errors.Is(err, signing.ErrUnknownKey):
		return "err unknown"
	case errors.Is(err, signing.ErrBadSignature):
		return "err bad"
	case errors.Is(err, signing.ErrKeyExpired):
		return "err expired"
	}
	return "err other (" + err.Error() + ")"
}

// safe runs f and turns a panic into an outcome.
func safe(f func() string) (out string) {
	defer func() {
		if p := recover(); p != nil {
			out = fmt.Sprintf("PANIC (%v)", p)
		}
	}()
	return f()
}

func main() {
	n := flag.Int("n", 3000, "random cases")
	seed := flag.Int64("seed", 1, "seed")
	flag.BoolVar(&decisions, "decisions", false, "the reference adopts docs/decisions.md readings (KEYSREF_DECISIONS=1)")
	outDir := flag.String("out", "", "directory for tally.tsv, coverage.txt and divergences.jsonl (none if empty)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	acceptOpen := flag.Bool("accept-open", false, "divergences of the open findings F1-F3 (README) do not fail the run")
	flag.Parse()

	ref = pyref.MustStart(pyref.Beside("keysref.py"), pyref.Env(decisions, "KEYSREF_DECISIONS=1")...)
	g := newGen(rand.New(rand.NewSource(*seed)))
	fixedCases(g)
	if *n >= 2000 {
		g.manyKeysBatch(4200, 1100)
	} else if *n >= 300 {
		g.manyKeysBatch(300, 1100)
	}
	for i := 0; i < *n; i++ {
		k := g.r.Intn(100)
		switch {
		case k < 20:
			g.caseSign()
		case k < 40:
			g.caseVerify(false)
		case k < 50:
			g.caseVerify(true)
		case k < 58:
			g.caseHasValid()
		case k < 68:
			g.caseParseKey()
		case k < 80:
			g.caseParseRing()
		case k < 86:
			g.caseDecodePub()
		case k < 90:
			g.caseNewKey()
		default:
			g.caseBatch()
		}
	}
	ref.Close()

	var tallyText, covText strings.Builder
	for _, k := range difftool.SortedKeys(tally) {
		fmt.Printf("%7d  %s\n", tally[k], k)
		fmt.Fprintf(&tallyText, "%s\t%d\n", k, tally[k])
	}
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Printf("%7d  amb %s\n", ambSeen[k], k)
		fmt.Fprintf(&covText, "amb %s\t%d\n", k, ambSeen[k])
	}
	if len(openGroups) > 0 {
		fmt.Println("open findings (README):")
		openGroups.Print(os.Stdout, *verbose, nil)
		fmt.Println("other divergences:")
	}
	groups.Print(os.Stdout, *verbose, nil)
	if err := pyref.WriteRun(*outDir, tallyText.String(), covText.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		harness++
	}
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", compared, harness, diverged, len(groups))
	if len(openGroups) > 0 {
		fmt.Printf("open findings: %d groups\n", len(openGroups))
	}
	if harness > 0 || len(groups) > 0 || (len(openGroups) > 0 && !*acceptOpen) {
		os.Exit(1)
	}
}

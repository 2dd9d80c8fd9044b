// Package membercmp is the comparison plumbing the membership audits (tools/handshakeref,
// tools/strippedref) share: roomproto's verdict read as a status and an errcode, the part of
// the reference's answer every comparison reads, the grouping of divergences and the counters a
// run prints. Each tool embeds Ans in its own answer type for the fields only it reads.
// tools/transitionref uses Ans (with its String) and Example only: its verdicts (a refusal that
// is not a *membership.Error is always ERRCODE, third-party invite outcomes), its report (inputs
// clipped at 3000 bytes) and its counters (amb counted per request) stay its own.
package membercmp

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// Ans is the part of the reference's answer every comparison reads.
type Ans struct {
	// Allow is the reference's verdict.
	Allow bool `json:"allow"`
	// Codes are the [status, errcode] pairs the reference accepts for a refusal; nil accepts any.
	Codes [][]any `json:"codes"`
	// Why is the reference's reason.
	Why string `json:"why"`
	// Amb are the spec-silent corners the case met.
	Amb []string `json:"amb"`
	// Problems are what the reference found wrong in an allowed output.
	Problems []string `json:"problems"`
	// Invalid, when set, says why the case is not one to compare (skipped).
	Invalid string `json:"invalid"`
	// Error is a failure of the reference itself (a harness error).
	Error string `json:"error"`
}

// String renders the answer for a report.
func (a Ans) String() string {
	if a.Allow {
		if len(a.Problems) > 0 {
			return "ALLOW with problems (" + strings.Join(a.Problems, "; ") + ")"
		}
		return "ALLOW"
	}
	var cs []string
	for _, c := range a.Codes {
		cs = append(cs, fmt.Sprintf("%v:%v", c[0], c[1]))
	}
	if a.Codes == nil {
		cs = []string{"any refusal"}
	}
	return strings.Join(cs, "|") + " (" + difftool.Clip(a.Why, 300) + ")"
}

// RP is roomproto's verdict.
type RP struct {
	Allow   bool
	Status  int
	ErrCode string
	Why     string
}

// RPOf reads roomproto's error as a verdict: allowed, or the status and errcode of a
// *membership.Error (status -1 for any other error).
func RPOf(err error) RP {
	if err == nil {
		return RP{Allow: true}
	}
	var me *membership.Error
	if errors.As(err, &me) {
		return RP{Status: me.Status, ErrCode: me.ErrCode, Why: me.Message}
	}
	return RP{Status: -1, ErrCode: "(not *Error)", Why: err.Error()}
}

// String renders the verdict for a report.
func (a RP) String() string {
	if a.Allow {
		return "ALLOW"
	}
	return fmt.Sprintf("%d:%s (%s)", a.Status, a.ErrCode, difftool.Clip(a.Why, 200))
}

// Example is one divergent case as the report keeps it.
type Example struct {
	Version string `json:"version"`
	Op      string `json:"op"`
	Label   string `json:"label"`
	RP      string `json:"roomproto"`
	Ref     string `json:"reference"`
	Input   string `json:"input"`
}

// Run holds what a run has compared and found.
type Run struct {
	Groups   pyref.Groups[*Example]
	Tally    map[string]int
	AmbSeen  map[string]int
	Outcomes map[string]int
	Harness  int
	Diverged int
	Compared int
	// RefKey and AmbKey, when set, make the reference's answer and its flags into the parts of
	// a divergence's group key; unset, they are pyref.StripDetail and the flags as they are.
	RefKey func(ref string) string
	AmbKey func(amb []string) []string
}

// NewRun returns an empty run.
func NewRun() *Run {
	return &Run{Groups: pyref.Groups[*Example]{}, Tally: map[string]int{}, AmbSeen: map[string]int{}, Outcomes: map[string]int{}}
}

// Report records a divergence of the given kind.
func (r *Run) Report(kind, vid, op, label, rp, ref string, input any, amb []string) {
	r.Diverged++
	in := string(difftool.Enc(input))
	ex := &Example{Version: vid, Op: op, Label: label, RP: rp, Ref: ref, Input: difftool.Clip(in, 1500)}
	refKey := pyref.StripDetail(ref)
	if r.RefKey != nil {
		refKey = r.RefKey(ref)
	}
	if r.AmbKey != nil {
		amb = r.AmbKey(amb)
	}
	key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", kind, op, pyref.StripDetail(rp), refKey, strings.Join(amb, ","))
	r.Groups.Add(key, vid, ex, len(in))
}

// Verdict compares roomproto's verdict with the reference's: the verdict, the status and
// errcode of a refusal, and the problems of an allowed output.
func (r *Run) Verdict(vid, op, label string, rp RP, ref Ans, input any) {
	r.Compared++
	r.Tally["v"+vid+" "+op]++
	oc := "ALLOW"
	if !rp.Allow {
		oc = fmt.Sprintf("%d:%s", rp.Status, rp.ErrCode)
	}
	r.Outcomes[op+" "+oc]++
	if i := strings.Index(label, "mut="); i >= 0 {
		r.Outcomes[op+" "+strings.Fields(label[i:])[0]+" -> "+oc]++
	}
	for _, f := range ref.Amb {
		r.AmbSeen[op+" "+f]++
	}
	kind := ""
	switch {
	case rp.Allow != ref.Allow:
		kind = "VERDICT"
	case !rp.Allow && ref.Codes != nil && !slices.ContainsFunc(ref.Codes, func(c []any) bool {
		return fmt.Sprint(c[0]) == fmt.Sprint(rp.Status) && c[1] == rp.ErrCode
	}):
		kind = "ERRCODE"
	case rp.Allow && len(ref.Problems) > 0:
		kind = "OUTPUT"
	}
	if kind != "" {
		r.Report(kind, vid, op, label, rp.String(), ref.String(), input, ref.Amb)
	}
}

// Usable reports whether the reference's answer can be compared, counting a harness error
// (printed on standard error) or a skipped case when it cannot.
func (r *Run) Usable(a Ans) bool {
	if a.Error != "" {
		r.Harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(a.Error, 2000))
		return false
	}
	if a.Invalid != "" {
		r.Tally["skipped: "+a.Invalid]++
		return false
	}
	return true
}

// Print writes the counters, the groups of divergences (with their first example when
// verbose) and the summary line to standard output, and reports whether the run failed: a
// harness error or a divergence.
func (r *Run) Print(verbose bool) (failed bool) {
	for _, k := range difftool.SortedKeys(r.Tally) {
		fmt.Printf("%7d  %s\n", r.Tally[k], k)
	}
	for _, k := range difftool.SortedKeys(r.Outcomes) {
		fmt.Printf("%7d  outcome %s\n", r.Outcomes[k], k)
	}
	for _, k := range difftool.SortedKeys(r.AmbSeen) {
		fmt.Printf("%7d  amb %s\n", r.AmbSeen[k], k)
	}
	r.Groups.Print(os.Stdout, verbose, nil)
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", r.Compared, r.Harness, r.Diverged, len(r.Groups))
	return r.Harness > 0 || len(r.Groups) > 0
}

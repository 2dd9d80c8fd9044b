// Command aclref compares roomproto's server ACLs (package serveracl: Parse, ACL.Allowed, Of,
// Allowed, Match, Host, IsIPLiteral, and pdu.ValidServerName which ACL.Allowed relies on) with
// an independent Python reference written from the spec text only (aclref.py in this
// directory).
//
//	go run ./tools/aclref -n 20000 -seed 1 [-decisions] [-out DIR] [-v]
//	go run ./tools/aclref -perf
//
// Each case draws a few server names (DNS names, IPv4 literals in and out of range, bracketed
// and bare IPv6, malformed names, ports and malformed ports, very long names), glob patterns
// made mostly from those names (wildcards in place of characters, case changes, ports,
// brackets), an ACL content (defaults, `allow_ip_literals` of every JSON type, lists and
// non-lists, non-string entries, content that is not an object) and a room state of a random
// version holding zero, one or two ACL events (empty or other state keys, other event types).
// It compares per name: Match of every pattern, ValidServerName, Host, IsIPLiteral, the parsed
// ACL, ACL.Allowed, Of and Allowed. -perf times Match and ACL.Allowed on adversarial patterns
// instead.
//
// Divergences are grouped; each group is printed with its smallest example (-v adds the first;
// DIR/divergences.jsonl has both). Exit status 1 on any divergence or harness error, 2 when the
// reference cannot be started.
package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

// refReq is a request to aclref.py.
type refReq struct {
	Op      string     `json:"op"`
	Pattern hexStr     `json:"pattern"`
	Name    hexStr     `json:"name"`
	Host    hexStr     `json:"host"`
	Content hexStr     `json:"content,omitempty"`
	Events  []stateArg `json:"events,omitempty"`
}

// stateArg is an event of the room state as the reference sees it.
type stateArg struct {
	Type     string `json:"type"`
	StateKey string `json:"state_key"`
	Content  hexStr `json:"content"`
}

// hexStr is a string that travels as the hex of its bytes: Go strings may hold bytes that are
// not UTF-8, which JSON would replace by U+FFFD.
type hexStr string

func (h hexStr) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString([]byte(h))) }

func (h *hexStr) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := hex.DecodeString(s)
	*h = hexStr(d)
	return err
}

// refResp is an answer of aclref.py.
type refResp struct {
	Match           *bool    `json:"match"`
	Host            hexStr   `json:"host"`
	Valid           *bool    `json:"valid"`
	IP              *bool    `json:"ip"`
	NotObject       *bool    `json:"not_object"`
	AllowIPLiterals bool     `json:"allow_ip_literals"`
	Allow           []string `json:"allow"`
	Deny            []string `json:"deny"`
	Allowed         *bool    `json:"allowed"`
	HasACL          *bool    `json:"has_acl"`
	Amb             []string `json:"amb"`
	Error           string   `json:"error"`
}

// example is one divergent comparison, as printed and written to divergences.jsonl.
type example struct {
	Check   string     `json:"check"`
	Pattern string     `json:"pattern,omitempty"`
	Name    *string    `json:"name,omitempty"`
	Content string     `json:"content,omitempty"`
	Events  []aclEvent `json:"acl_events,omitempty"`
	Type    string     `json:"acl_type,omitempty"`
	RP      string     `json:"roomproto"`
	Ref     string     `json:"reference"`
	Amb     []string   `json:"amb,omitempty"`
}

func main() {
	n := flag.Int("n", 20000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings (ACLREF_DECISIONS=1)")
	outDir := flag.String("out", "", "directory for tally.tsv, coverage.txt and divergences.jsonl (none if empty)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	perf := flag.Bool("perf", false, "time Match and ACL.Allowed on adversarial patterns instead")
	flag.Parse()
	if *perf {
		runPerf()
		return
	}

	ref := pyref.MustStart(pyref.Beside("aclref.py"), pyref.Env(*decisions, "ACLREF_DECISIONS=1")...)
	r := rand.New(rand.NewSource(*seed))
	g := &gen{r: r}
	groups := pyref.Groups[*example]{}
	coverage := map[string]int{}
	checks := map[string][2]int{} // check -> compared, diverged
	var harness, divs int
	ask := func(req refReq) (refResp, bool) {
		var rv refResp
		if err := ref.MustAsk(req, &rv); err != nil {
			rv.Error = err.Error()
		}
		if rv.Error != "" {
			harness++
			fmt.Fprintln(os.Stderr, "reference error:", rv.Error, req)
			return rv, false
		}
		for _, a := range rv.Amb {
			coverage["amb "+req.Op+" "+a]++
		}
		return rv, true
	}
	diverged := false
	cmp := func(check, version string, rp, rf string, ex *example, amb []string) {
		c := checks[check]
		c[0]++
		if rp != rf {
			c[1]++
			diverged = true
			ex.Check, ex.RP, ex.Ref, ex.Amb = check, rp, rf, amb
			key := fmt.Sprintf("%s: roomproto %s, reference %s", check, clip(rp), clip(rf))
			if len(amb) > 0 {
				key += " amb=" + strings.Join(amb, ",")
			}
			size := len(ex.Pattern) + len(ex.Content) + len(ex.RP)
			if ex.Name != nil {
				size += len(*ex.Name)
			}
			for _, e := range ex.Events {
				size += len(e.Content) + 20
			}
			groups.Add(key, version, ex, size)
		}
		checks[check] = c
	}

	// The spec's own cases first: the schema's port example, the default and warning texts,
	// the order of the checks.
	for _, fc := range fixedCases() {
		fc := fc
		av, ok := ask(refReq{Op: "allowed", Content: hexStr(fc.content), Name: hexStr(fc.name)})
		if !ok {
			continue
		}
		acl, err := serveracl.Parse([]byte(fc.content))
		got := "error " + fmt.Sprint(err)
		if err == nil {
			got = fmt.Sprint(acl.Allowed(fc.name))
		}
		coverage[fmt.Sprintf("fixed ACL.Allowed %v", *av.Allowed)]++
		cmp("ACL.Allowed (fixed)", "", got, fmt.Sprint(*av.Allowed), &example{Content: fc.content, Name: &fc.name}, av.Amb)
	}

	cases := 0
	for i := 0; i < *n; i++ {
		cases++
		diverged = false
		names := make([]string, 1+r.Intn(3))
		for k := range names {
			names[k] = g.name()
		}
		// Match: patterns made from the names, against every name and its host.
		for k := 0; k < 3; k++ {
			p := g.pattern(names[r.Intn(len(names))])
			for _, nm := range names {
				for _, subject := range []string{nm, serveracl.Host(nm)} {
					rv, ok := ask(refReq{Op: "match", Pattern: hexStr(p), Name: hexStr(subject)})
					if !ok {
						continue
					}
					got := serveracl.Match(p, subject)
					coverage[fmt.Sprintf("match %v", *rv.Match)]++
					s := subject
					cmp("Match", "", fmt.Sprint(got), fmt.Sprint(*rv.Match), &example{Pattern: p, Name: &s}, rv.Amb)
				}
			}
		}
		// Names of lengths near multiples of 64 with their patterns.
		for k := 0; k < 2; k++ {
			nm, p := g.wordName()
			if rv, ok := ask(refReq{Op: "match", Pattern: hexStr(p), Name: hexStr(nm)}); ok {
				coverage[fmt.Sprintf("match (64) %v", *rv.Match)]++
				cmp("Match (64)", "", fmt.Sprint(serveracl.Match(p, nm)), fmt.Sprint(*rv.Match), &example{Pattern: p, Name: &nm}, rv.Amb)
			}
		}
		// Server names: ValidServerName, Host, IsIPLiteral.
		for _, nm := range names {
			nm := nm
			rv, ok := ask(refReq{Op: "host", Name: hexStr(nm)})
			if !ok {
				continue
			}
			valid := pdu.ValidServerName(nm)
			coverage[fmt.Sprintf("name valid=%v", *rv.Valid)]++
			cmp("ValidServerName", "", fmt.Sprint(valid), fmt.Sprint(*rv.Valid), &example{Name: &nm}, rv.Amb)
			h := serveracl.Host(nm)
			if *rv.Valid {
				cmp("Host", "", h, string(rv.Host), &example{Name: &nm}, rv.Amb)
			}
			if serveracl.Host(h) != h {
				cmp("Host idempotent", "", serveracl.Host(h), h, &example{Name: &nm}, nil)
			}
			for _, host := range []string{h, string(rv.Host)} {
				iv, ok := ask(refReq{Op: "ipl", Host: hexStr(host)})
				if !ok {
					continue
				}
				coverage[fmt.Sprintf("ip literal %v", *iv.IP)]++
				hh := host
				cmp("IsIPLiteral", "", fmt.Sprint(serveracl.IsIPLiteral(host)), fmt.Sprint(*iv.IP), &example{Name: &hh}, iv.Amb)
			}
		}
		// Content: Parse and ACL.Allowed.
		content := g.content(names)
		pv, ok := ask(refReq{Op: "parse", Content: hexStr(content)})
		if ok {
			acl, err := serveracl.Parse([]byte(content))
			rpParse := describeACL(acl, err)
			rfParse := "error not-object"
			if !*pv.NotObject {
				rfParse = describeACL(serveracl.ACL{AllowIPLiterals: pv.AllowIPLiterals, Allow: pv.Allow, Deny: pv.Deny}, nil)
			}
			coverage["parse "+firstWord(rfParse)]++
			cmp("Parse", "", rpParse, rfParse, &example{Content: content}, pv.Amb)
			if err == nil {
				for _, nm := range names {
					nm := nm
					av, ok := ask(refReq{Op: "allowed", Content: hexStr(content), Name: hexStr(nm)})
					if !ok {
						continue
					}
					got := acl.Allowed(nm)
					coverage[fmt.Sprintf("ACL.Allowed %v", *av.Allowed)]++
					cmp("ACL.Allowed", "", fmt.Sprint(got), fmt.Sprint(*av.Allowed), &example{Content: content, Name: &nm}, av.Amb)
				}
			}
		}
		// A room state: Of and Allowed.
		vid := difftool.Pick(r, pyref.Versions...)
		evs, typ := g.stateEvents(names)
		state, why := mkState(r, vid, evs, typ)
		if why != "" {
			coverage["state skipped ("+why+")"]++
		} else {
			s, err := authrules.NewState(authgen.Version(vid), state)
			if err != nil {
				coverage["state skipped (authrules.NewState: "+firstWords(err.Error())+")"]++
			} else {
				var args []stateArg
				for _, e := range evs {
					args = append(args, stateArg{Type: typ, StateKey: e.StateKey, Content: hexStr(e.Content)})
				}
				for _, nm := range names {
					nm := nm
					sv, ok := ask(refReq{Op: "state", Events: args, Name: hexStr(nm)})
					if !ok {
						continue
					}
					acl, has := serveracl.Of(s)
					got := serveracl.Allowed(s, nm)
					coverage[fmt.Sprintf("state has_acl=%v allowed=%v", *sv.HasACL, *sv.Allowed)]++
					ex := func() *example { return &example{Name: &nm, Events: evs, Type: typ} }
					cmp("Of (has ACL)", vid, fmt.Sprint(has), fmt.Sprint(*sv.HasACL), ex(), sv.Amb)
					cmp("Allowed", vid, fmt.Sprint(got), fmt.Sprint(*sv.Allowed), ex(), sv.Amb)
					if has {
						cmp("Of(s).Allowed vs Allowed", vid, fmt.Sprint(acl.Allowed(nm)), fmt.Sprint(got), ex(), nil)
					}
				}
			}
		}
		if diverged {
			divs++
		}
	}
	ref.Close()

	var tally strings.Builder
	fmt.Fprintf(&tally, "check\tcompared\tdiverge\n")
	for _, k := range difftool.SortedKeys(checks) {
		fmt.Fprintf(&tally, "%s\t%d\t%d\n", k, checks[k][0], checks[k][1])
	}
	var cov strings.Builder
	for _, k := range difftool.SortedKeys(coverage) {
		fmt.Fprintf(&cov, "%d\t%s\n", coverage[k], k)
	}
	if err := pyref.WriteRun(*outDir, tally.String(), cov.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	groups.Print(os.Stdout, *verbose, nil)
	if *verbose {
		fmt.Print(tally.String(), cov.String())
	}
	fmt.Printf("cases %d, harness errors %d, divergences %d, groups %d\n", cases, harness, divs, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

// describeACL is the comparable text of a parsed ACL or of Parse's error.
func describeACL(a serveracl.ACL, err error) string {
	switch {
	case errors.Is(err, serveracl.ErrNotObject):
		return "error not-object"
	case err != nil:
		return "error other: " + err.Error()
	}
	q := func(xs []string) string {
		ys := slices.Clone(xs)
		if ys == nil {
			ys = []string{}
		}
		return fmt.Sprintf("%q", ys)
	}
	return fmt.Sprintf("ok allow_ip_literals=%v allow=%s deny=%s", a.AllowIPLiterals, q(a.Allow), q(a.Deny))
}

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i > 0 {
		return s[:i]
	}
	return s
}

func clip(s string) string {
	if strings.HasPrefix(s, "ok ") || len(s) > 40 {
		return firstWord(s)
	}
	return s
}

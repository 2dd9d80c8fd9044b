// Command condref compares the small decision helpers of roomproto's membership package —
// ParseAllowConditions, EvaluateConditions (over KnownRooms), JoinRuleSupported,
// KnockAllowedByJoinRule, ShouldTryAnotherServer, DecisionJSON, ParseJoinRequest and
// CheckMakeRequest — with an independent Python reference written from the spec text only
// (condref.py in this directory).
//
//	go run ./tools/condref -n 3000 -seed 1 [-decisions] [-v]
//
// Every join rule of every room version and every (status, errcode) pair of a fixed list are
// compared exhaustively once per run; then n cases are drawn from the seed: `allow` contents of
// every shape, conditions against rooms with every membership, join decisions and errors,
// make_join requests, and join-decision inputs built from really signed rooms (memberroom.Gen)
// with one hostile mutation each. Exit status 1 on any divergence or harness error, 2 when the
// reference cannot be started.
package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

// parsedReq is the reference's reading of a join-decision input.
type parsedReq struct {
	Version  string                       `json:"version"`
	User     string                       `json:"user"`
	Resident string                       `json:"resident"`
	Origin   string                       `json:"origin"`
	Ver      []string                     `json:"ver"`
	Rooms    map[string]map[string]string `json:"rooms"`
	State    map[string]string            `json:"state"`
}

// refAns is the reference's answer to any op.
type refAns struct {
	Err          bool       `json:"err"`
	Why          string     `json:"why"`
	Conds        [][]string `json:"conds"`
	Met          bool       `json:"met"`
	Sat          []string   `json:"sat"`
	Unver        []string   `json:"unver"`
	Supported    bool       `json:"supported"`
	Knock        bool       `json:"knock"`
	Retry        bool       `json:"retry"`
	JSON         *string    `json:"json"`
	AnyErrorText bool       `json:"any_error_text"`
	Any          bool       `json:"any"`
	OK           bool       `json:"ok"`
	Codes        [][]any    `json:"codes"`
	RoomVersion  string     `json:"room_version"`
	RVAny        bool       `json:"rv_any"`
	Req          *parsedReq `json:"req"`
	Either       []string   `json:"either"`
	Amb          []string   `json:"amb"`
	Error        string     `json:"error"`
}

// example is one divergent case as the report keeps it.
type example struct {
	Version string `json:"version,omitempty"`
	Op      string `json:"op"`
	Label   string `json:"label"`
	RP      string `json:"roomproto"`
	Ref     string `json:"reference"`
	Input   string `json:"input"`
}

var (
	ask       func(req M) refAns
	groups    = pyref.Groups[*example]{}
	tally     = map[string]int{}
	outcomes  = map[string]int{}
	ambSeen   = map[string]int{}
	harness   int
	diverged  int
	compared  int
	decisions bool
	nilErr    bool
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// report records a divergence in its group.
func report(kind, vid, op, label, rp, ref string, input any, amb []string) {
	diverged++
	var in string
	if s, ok := input.(string); ok {
		in = s
	} else {
		in = string(difftool.Enc(input))
	}
	ex := &example{Version: vid, Op: op, Label: label, RP: difftool.Clip(rp, 600), Ref: difftool.Clip(ref, 600), Input: difftool.Clip(in, 1500)}
	key := fmt.Sprintf("%s %s %s amb=%s", kind, op, label, strings.Join(amb, ","))
	groups.Add(key, vid, ex, len(in))
}

// call asks the reference, counting its bugs as harness errors.
func call(req M) (refAns, bool) {
	a := ask(req)
	if a.Error != "" {
		harness++
		fmt.Fprintln(os.Stderr, "reference error:", difftool.Clip(a.Error, 2000))
		return a, false
	}
	for _, f := range a.Amb {
		ambSeen[req["op"].(string)+" "+f]++
	}
	return a, true
}

// protect runs f, turning a panic into an error string (the package promises none).
func protect(f func()) (p string) {
	defer func() {
		if r := recover(); r != nil {
			p = fmt.Sprint("PANIC: ", r)
		}
	}()
	f()
	return ""
}

func codeIn(codes [][]any, status int, errcode string) bool {
	if codes == nil {
		return true
	}
	return slices.ContainsFunc(codes, func(c []any) bool {
		return fmt.Sprint(c[0]) == fmt.Sprint(status) && c[1] == errcode
	})
}

func codesString(codes [][]any) string {
	if codes == nil {
		return "any refusal"
	}
	var cs []string
	for _, c := range codes {
		cs = append(cs, fmt.Sprintf("%v:%v", c[0], c[1]))
	}
	return strings.Join(cs, "|")
}

func errOf(err error) (*membership.Error, string) {
	if err == nil {
		return nil, "OK"
	}
	var me *membership.Error
	if errors.As(err, &me) && me != nil {
		s := fmt.Sprintf("%d:%s (%s)", me.Status, me.ErrCode, difftool.Clip(me.Message, 200))
		if me.RoomVersion != "" {
			s += " room_version=" + me.RoomVersion
		}
		return me, s
	}
	return nil, "not *Error: " + err.Error()
}

func main() {
	n := flag.Int("n", 3000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	flag.BoolVar(&decisions, "decisions", false, "the reference adopts docs/decisions.md readings (CONDREF_DECISIONS=1)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	flag.BoolVar(&nilErr, "nilerr", true, "also pass DecisionJSON a nil *membership.Error (it panics: report finding F1)")
	flag.Parse()

	ref := pyref.MustStart(pyref.Beside("condref.py"), pyref.Env(decisions, "CONDREF_DECISIONS=1")...)
	ask = func(req M) refAns {
		var a refAns
		if err := ref.MustAsk(req, &a); err != nil {
			a.Error = err.Error()
		}
		return a
	}

	compareJoinRules()
	compareRetry()
	g := newGen(*seed)
	for i := 0; i < *n; i++ {
		switch k := g.r.Intn(20); {
		case k < 5:
			caseAllow(g)
		case k < 9:
			caseEvaluate(g)
		case k < 12:
			caseDecision(g)
		case k < 14:
			caseMake(g)
		default:
			caseParseJoin(g)
		}
	}
	ref.Close()

	for _, k := range difftool.SortedKeys(tally) {
		fmt.Printf("%7d  %s\n", tally[k], k)
	}
	for _, k := range difftool.SortedKeys(outcomes) {
		fmt.Printf("%7d  outcome %s\n", outcomes[k], k)
	}
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Printf("%7d  amb %s\n", ambSeen[k], k)
	}
	groups.Print(os.Stdout, *verbose, nil)
	fmt.Printf("compared %d, harness errors %d, divergences %d, groups %d\n", compared, harness, diverged, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

// compareJoinRules compares JoinRuleSupported and KnockAllowedByJoinRule for every version and
// a list of rules, the defined ones and others.
func compareJoinRules() {
	rules := []string{"public", "invite", "knock", "restricted", "knock_restricted", "private",
		"", "Public", "INVITE", "restricted ", " knock", "knock_restricted\x00", "none",
		"m.restricted", "knockrestricted", "public\u200b"}
	for _, vid := range pyref.Versions {
		v, err := roomversion.Lookup(vid)
		if err != nil {
			harness++
			continue
		}
		for _, rule := range rules {
			a, ok := call(M{"op": "joinrule", "v": vid, "rule": rule})
			if !ok {
				continue
			}
			compared++
			tally["joinrule v"+vid]++
			js, kn := membership.JoinRuleSupported(v, rule), membership.KnockAllowedByJoinRule(v, rule)
			in := M{"v": vid, "rule": rule}
			if js != a.Supported {
				report("VERDICT", vid, "JoinRuleSupported", fmt.Sprintf("rule=%q", rule), fmt.Sprint(js), fmt.Sprint(a.Supported), in, a.Amb)
			}
			if kn != a.Knock {
				report("VERDICT", vid, "KnockAllowedByJoinRule", fmt.Sprintf("rule=%q", rule), fmt.Sprint(kn), fmt.Sprint(a.Knock), in, a.Amb)
			}
		}
	}
}

// compareRetry compares ShouldTryAnotherServer on every pair of a list of statuses and errcodes.
func compareRetry() {
	statuses := []int{0, 200, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503, -400}
	codes := []string{"M_UNABLE_TO_AUTHORISE_JOIN", "M_UNABLE_TO_GRANT_JOIN", "M_FORBIDDEN",
		"M_INCOMPATIBLE_ROOM_VERSION", "M_NOT_FOUND", "M_UNKNOWN", "M_LIMIT_EXCEEDED", "M_BAD_JSON",
		"M_NOT_JSON", "M_INVALID_PARAM", "M_MISSING_PARAM", "M_CANNOT_ALLOW", "", "m_unable_to_grant_join",
		" M_UNABLE_TO_GRANT_JOIN", "M_UNABLE_TO_AUTHORISE_JOIN\n", "M_UNRECOGNIZED"}
	for _, st := range statuses {
		for _, c := range codes {
			a, ok := call(M{"op": "retry", "status": st, "errcode": c})
			if !ok {
				continue
			}
			compared++
			tally["retry"]++
			got := membership.ShouldTryAnotherServer(st, c)
			if got != a.Retry {
				report("VERDICT", "", "ShouldTryAnotherServer", fmt.Sprintf("%d %q", st, c), fmt.Sprint(got), fmt.Sprint(a.Retry), M{"status": st, "errcode": c}, a.Amb)
			}
			// Error.TryAnotherServer on a refusal of the resident (not a template fault) must agree
			e := &membership.Error{Status: st, ErrCode: c, Message: "x", Reason: membership.ErrNoCondition}
			if e.TryAnotherServer() != a.Retry {
				report("VERDICT", "", "Error.TryAnotherServer", fmt.Sprintf("%d %q", st, c), fmt.Sprint(e.TryAnotherServer()), fmt.Sprint(a.Retry), M{"status": st, "errcode": c}, a.Amb)
			}
		}
	}
}

// sortedConds renders conditions for comparison.
func condsString(cs [][]string) string {
	b, _ := json.Marshal(cs)
	return string(b)
}

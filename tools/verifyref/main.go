// Command verifyref compares roomproto's signing.VerifyEvent with an independent Python
// reference of how a receiving server checks the hashes and signatures of a PDU (verifyref.py
// in this directory, written from the spec text only), on signed events of every room version
// (gen.go) and mutations of them and of the key ring (mutate.go).
//
//	go run ./tools/verifyref -n 20000 -seed 1 [-decisions] [-versions 1,5,8,12] [-out /tmp/verifyref]
//
// It prints a tally per room version and mutation kind and every divergence group with its
// first and smallest example (also written to -out/divergences.jsonl). Exit status 1 on any
// divergence or harness error, 2 when the Python reference cannot be started.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

type refKey struct {
	Key string `json:"key"`
	VU  *int64 `json:"vu"`
}

type refReq struct {
	V    string                       `json:"v"`
	Ev   string                       `json:"ev"`
	Keys map[string]map[string]refKey `json:"keys"`
}

type refResp struct {
	Verdict string   `json:"verdict"`
	Kinds   []string `json:"kinds"`
	Why     string   `json:"why"`
	Amb     []string `json:"amb"`
	Error   string   `json:"error"`
}

type example struct {
	Version  string          `json:"version"`
	Label    string          `json:"label"`
	Mutation string          `json:"mutation"`
	Event    json.RawMessage `json:"event,omitempty"`
	EventStr string          `json:"event_text,omitempty"`
	Keys     json.RawMessage `json:"keys"`
	RP       string          `json:"roomproto"`
	RPErr    string          `json:"roomproto_error,omitempty"`
	Ref      string          `json:"reference"`
	RefWhy   string          `json:"reference_why,omitempty"`
	Amb      []string        `json:"amb,omitempty"`
}

// labeledGroup is a group as divergences.jsonl has it: with the generator labels of its events.
type labeledGroup struct {
	*pyref.Group[*example]
	Labels map[string]int `json:"labels"`
}

// kindOf names the sentinel of a VerifyEvent error as the reference names its kinds.
func kindOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, signing.ErrContentHashMismatch):
		return "hash"
	case errors.Is(err, signing.ErrMalformed):
		return "malformed"
	case errors.Is(err, signing.ErrMissingSignature):
		return "missing"
	case errors.Is(err, signing.ErrBadSignature):
		return "bad"
	case errors.Is(err, signing.ErrUnknownKey):
		return "unknown"
	case errors.Is(err, signing.ErrKeyExpired):
		return "expired"
	case errors.Is(err, signing.ErrNoContentHash):
		return "nohash"
	}
	return "other"
}

func main() {
	n := flag.Int("n", 5000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", "1,2,3,4,5,6,7,8,9,10,11,12", "room versions")
	outDir := flag.String("out", "/tmp/verifyref", "output directory")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings where the spec is silent (VERIFYREF_DECISIONS=1)")
	only := flag.String("only", "", "only mutation kinds containing this")
	quiet := flag.Bool("q", false, "print only the summary and the group keys")
	flag.Parse()

	ref := pyref.MustStart(pyref.Beside("verifyref.py"), pyref.Env(*decisions, "VERIFYREF_DECISIONS=1")...)
	ask := func(req refReq) refResp {
		var r refResp
		ref.MustAsk(req, &r)
		return r
	}

	kinds := mutKinds
	if *only != "" {
		kinds = nil
		for _, k := range mutKinds {
			if strings.Contains(k, *only) {
				kinds = append(kinds, k)
			}
		}
	}
	versions := strings.Split(*vers, ",")
	r := rand.New(rand.NewSource(*seed))
	type tally struct{ cases, diverge int }
	byVer := map[string]*tally{}
	byMut := map[string]*tally{}
	byVerdict := map[string]int{}
	groups := pyref.Groups[*example]{}
	labels := map[string]map[string]int{} // group key -> generator label -> cases
	var harness, skipped, compared int
	ambSeen := map[string]int{}
	for i := 0; i < *n; i++ {
		vid := difftool.Pick(r, versions...)
		v, err := roomversion.Lookup(vid)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ver := difftool.VerNum(vid)
		g := genEvent(r, v, ver, i)
		kind := difftool.Pick(r, kinds...)
		unsignedRaw := difftool.Enc(g.m)
		if lit := numLiteral(kind); lit != "" {
			if g.label != "message" {
				skipped++
				continue
			}
			g.m["content"].(M)["n"] = "__NUM__"
			unsignedRaw = bytes.Replace(difftool.Enc(g.m), []byte(`"__NUM__"`), []byte(lit), 1)
		}
		signed, err := g.sign(unsignedRaw)
		if err != nil {
			if numLiteral(kind) == "" {
				harness++
				fmt.Fprintln(os.Stderr, "sign:", err, string(unsignedRaw))
				continue
			}
			// v6+ refuses to sign the number: sign without it and put it in afterwards
			delete(g.m["content"].(M), "n")
			if signed, err = g.sign(difftool.Enc(g.m)); err != nil {
				harness++
				continue
			}
			lit := numLiteral(kind)
			signed = bytes.Replace(signed, []byte(`"content":{`), []byte(`"content":{"n":`+lit+`,`), 1)
		}
		ring := baseRing()
		evRaw := signed
		detail := ""
		if numLiteral(kind) == "" {
			evRaw, detail = mutate(r, g, kind, signed, ring)
			if evRaw == nil {
				skipped++
				continue
			}
		}
		// the Go key ring and the reference's
		kr := signing.KeyRing{}
		rk := map[string]map[string]refKey{}
		for _, k := range sortedRing(ring) {
			if kr[k.server] == nil {
				kr[k.server] = map[string]signing.PublicKey{}
				rk[k.server] = map[string]refKey{}
			}
			kr[k.server][k.id] = signing.PublicKey{Key: k.key, ValidUntilTS: k.vu}
			x := refKey{Key: base64.RawStdEncoding.EncodeToString(k.key)}
			if k.vu != 0 {
				vu := k.vu
				x.VU = &vu
			}
			rk[k.server][k.id] = x
		}
		rpErr := signing.VerifyEvent(v, evRaw, kr)
		rpVerdict := signing.VerdictOf(rpErr).String()
		rpKind := kindOf(rpErr)
		rv := ask(refReq{V: vid, Ev: string(evRaw), Keys: rk})
		if rv.Error != "" {
			harness++
			fmt.Fprintln(os.Stderr, "reference error:", rv.Error, string(evRaw))
			continue
		}
		compared++
		for _, f := range rv.Amb {
			ambSeen[f]++
		}
		byVerdict[rv.Verdict]++
		mlabel := kind
		for _, t := range []struct {
			m   map[string]*tally
			key string
		}{{byVer, "v" + vid}, {byMut, mlabel}} {
			if t.m[t.key] == nil {
				t.m[t.key] = &tally{}
			}
			t.m[t.key].cases++
		}
		agree := rpVerdict == rv.Verdict && (rpKind == "" || contains(rv.Kinds, rpKind))
		if agree {
			continue
		}
		byVer["v"+vid].diverge++
		byMut[mlabel].diverge++
		what := "VERDICT"
		if rpVerdict == rv.Verdict {
			what = "kind-only"
		}
		refS := rv.Verdict
		if len(rv.Kinds) > 0 {
			refS += "/" + strings.Join(rv.Kinds, "|")
		}
		rpS := rpVerdict
		if rpKind != "" {
			rpS += "/" + rpKind
		}
		key := fmt.Sprintf("%s %s rp=%s ref=%s amb=%s", what, kind, rpS, refS, strings.Join(rv.Amb, ","))
		if kind == "sig:odd-keyid" || kind == "hash:wrong-type" || kind == "sig:garbage" || kind == "sig:non-ed25519" {
			key += " " + detail
		}
		keysJSON, _ := json.Marshal(rk)
		ex := &example{Version: vid, Label: g.label, Mutation: kind + " " + detail, Keys: keysJSON,
			RP: rpS, Ref: refS, RefWhy: rv.Why, Amb: rv.Amb}
		if rpErr != nil {
			ex.RPErr = rpErr.Error()
		}
		if json.Valid(evRaw) && !bytes.Contains(evRaw, []byte(`"first",`)) {
			ex.Event = evRaw
		} else {
			ex.EventStr = string(evRaw)
		}
		groups.Add(key, vid, ex, len(evRaw))
		if labels[key] == nil {
			labels[key] = map[string]int{}
		}
		labels[key][g.label]++
	}
	ref.Close()

	var tallyText strings.Builder
	fmt.Fprintf(&tallyText, "key\tcases\tdiverge\n")
	printT := func(m map[string]*tally, less func(a, b string) bool) {
		ks := difftool.SortedKeys(m)
		sort.Slice(ks, func(i, j int) bool { return less(ks[i], ks[j]) })
		for _, k := range ks {
			fmt.Fprintf(&tallyText, "%s\t%d\t%d\n", k, m[k].cases, m[k].diverge)
			if !*quiet {
				fmt.Printf("  %-26s %6d cases %5d divergent\n", k, m[k].cases, m[k].diverge)
			}
		}
	}
	printT(byVer, func(a, b string) bool { return difftool.VerNum(a[1:]) < difftool.VerNum(b[1:]) })
	printT(byMut, func(a, b string) bool { return a < b })
	if !*quiet {
		fmt.Printf("reference verdicts: %v\n", byVerdict)
		var ks []string
		for k := range ambSeen {
			ks = append(ks, fmt.Sprintf("%s=%d", k, ambSeen[k]))
		}
		sort.Strings(ks)
		fmt.Printf("spec-silent corners reached (amb): %s\n", strings.Join(ks, " "))
	}
	var gs []labeledGroup
	for _, gr := range groups.Sorted() {
		gs = append(gs, labeledGroup{gr, labels[gr.Key]})
		fmt.Printf("%5d  %s\n       versions=%v events=%v\n", gr.Count, gr.Key, difftool.SortedKeys(gr.Versions), difftool.SortedKeys(labels[gr.Key]))
		if !*quiet {
			b, _ := json.MarshalIndent(gr.Small, "       ", "  ")
			fmt.Printf("       smallest: %s\n", b)
		}
	}
	var covText strings.Builder
	for _, k := range difftool.SortedKeys(ambSeen) {
		fmt.Fprintf(&covText, "%d\tamb %s\n", ambSeen[k], k)
	}
	if err := pyref.WriteRun(*outDir, tallyText.String(), covText.String(), gs); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	fmt.Printf("compared %d, skipped %d (mutation not applicable), harness errors %d, groups %d\n", compared, skipped, harness, len(gs))
	if harness > 0 || len(gs) > 0 {
		os.Exit(1)
	}
}

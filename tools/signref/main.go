// Command signref compares, byte for byte, the events roomproto's signing package makes
// (SignEvent, CountersignEvent) and the hashes and IDs it computes (ContentHash,
// CheckContentHash, ReferenceHash, EventID, ParseEvent, RequiredSigners, IsThirdPartyInvite,
// ServerName, NewSigningKey) with an independent Python reference written from the spec text
// only (signref.py in this directory), in room versions 1-12.
//
//	go run ./tools/signref -n 2000 -seed 1 [-decisions] [-versions 1,6,12] [-v] [-out DIR]
//
// Every case draws an event (shaped for its room version or, one time in six, for another),
// one corner of the audit (existing hashes or signatures, unsigned, age_ts, keys the redaction
// drops, non-object content, escapes and non-ASCII, big or non-integer numbers, duplicate
// keys, v3+ event_id, v12 create events, restricted joins, third-party invites, server names
// with ports and IPv6 literals, odd key versions) and an encoding (canonical, whitespace,
// unsorted keys, \u escapes). It compares the output bytes or the error kind of each function
// with the reference's, then checks the round trips: the signature SignEvent adds verifies,
// the content hash checks, the event ID is the reference's, VerifyEvent's verdict is the
// reference's (verifyref), countersigning changes only the signer's entry of `signatures`, and
// after countersigning and redacting both servers' signatures still verify. The spec's test
// vectors (appendices "Cryptographic Test Vectors") run first as fixed cases. Exit status 1 on
// any divergence or harness error, 2 when the reference cannot be started.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// ex is one divergence: the operation, the room version it ran as (and the one the event was
// shaped for), the corner drawn, the input and both sides' answers.
type ex struct {
	Op     string   `json:"op"`
	V      string   `json:"v"`
	W      string   `json:"shaped_for,omitempty"`
	Corner string   `json:"corner,omitempty"`
	In     string   `json:"in"`
	Extra  string   `json:"extra,omitempty"`
	RP     string   `json:"roomproto"`
	Ref    string   `json:"reference"`
	Amb    []string `json:"amb,omitempty"`
}

// refAns is one answer of signref.py.
type refAns struct {
	Out   json.RawMessage `json:"out"`
	OK    *bool           `json:"ok"`
	Err   string          `json:"err"`
	Why   string          `json:"why"`
	Kinds []string        `json:"kinds"`
	Amb   []string        `json:"amb"`
	Error string          `json:"error"`
}

func (a refAns) str() string {
	var s string
	if json.Unmarshal(a.Out, &s) == nil {
		return s
	}
	return string(a.Out)
}

var (
	ref         *pyref.Process
	groups      = pyref.Groups[ex]{}
	harnessErrs int
	compared    = map[string]int{}
	divs        int
)

func ask(req M) (refAns, bool) {
	var a refAns
	if err := ref.MustAsk(req, &a); err != nil {
		a.Error = err.Error()
	}
	if a.Error != "" {
		harnessErrs++
		fmt.Fprintf(os.Stderr, "reference error: %s on %s\n", a.Error, difftool.Clip(string(difftool.Enc(req)), 300))
		return a, false
	}
	return a, true
}

// diverge records a divergence in the group op | what | amb.
func diverge(e ex, what string) {
	key := e.Op + " | " + what
	divs++
	if len(e.Amb) > 0 {
		key += " | amb=" + strings.Join(e.Amb, ",")
	}
	groups.Add(key, e.V, e, len(e.In)+len(e.Extra))
}

// kindOf names the error kind of a roomproto error as the reference names its own.
func kindOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, signing.ErrInvalidKey):
		return "key"
	case errors.Is(err, signing.ErrNoContentHash):
		return "nohash"
	case errors.Is(err, signing.ErrContentHashMismatch):
		return "mismatch"
	case errors.Is(err, signing.ErrMalformed):
		return "malformed"
	}
	return "other: " + err.Error()
}

// cmpOut compares an output or an error kind of roomproto with the reference's.
func cmpOut(e ex, rpOut string, rpErr error, a refAns) {
	compared[e.Op]++
	e.Amb = a.Amb
	rk := kindOf(rpErr)
	switch {
	case rk != "" && a.Err != "":
		if rk != a.Err {
			e.RP, e.Ref = "err "+rk, "err "+a.Err
			diverge(e, "error kinds differ")
		}
	case rk != "":
		e.RP, e.Ref = "err "+rk+": "+rpErr.Error(), a.str()
		diverge(e, "roomproto errs, reference answers")
	case a.Err != "":
		e.RP, e.Ref = rpOut, "err "+a.Err+": "+a.Why
		diverge(e, "reference errs, roomproto answers")
	default:
		if rpOut != a.str() {
			e.RP, e.Ref = rpOut, a.str()
			diverge(e, "outputs differ"+where(rpOut, a.str()))
		}
	}
}

// where names the top-level members that differ between two JSON objects, when both are.
func where(x, y string) string {
	a, b := decode(x), decode(y)
	if a == nil || b == nil {
		return ""
	}
	var d []string
	for k := range a {
		if !reflect.DeepEqual(a[k], b[k]) {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k)
		}
	}
	sort.Strings(d)
	if sigs, ok := a["signatures"].(map[string]any); ok && len(d) == 1 && d[0] == "signatures" {
		sb, _ := b["signatures"].(map[string]any)
		var ss []string
		for s := range sigs {
			if !reflect.DeepEqual(sigs[s], sb[s]) {
				ss = append(ss, s)
			}
		}
		for s := range sb {
			if _, ok := sigs[s]; !ok {
				ss = append(ss, s)
			}
		}
		return fmt.Sprintf(" in signatures (%d servers)", len(ss))
	}
	return " in " + strings.Join(d, ",")
}

func decode(s string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// invariant records a round-trip failure of roomproto (no reference answer involved).
func invariant(e ex, what string, err error) {
	compared["roundtrip"]++
	if err == nil {
		return
	}
	e.Op = "roundtrip"
	e.RP = err.Error()
	diverge(e, what)
}

func version(vid string) roomversion.Version {
	v, err := roomversion.Lookup(vid)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	return v
}

// ringAll holds the "1" key of every drawn server and the extra signers' keys.
func rings(extra ...signer) (signing.KeyRing, map[string]map[string]M) {
	kr := signing.KeyRing{}
	rk := map[string]map[string]M{}
	add := func(s signer) {
		if kr[s.Server] == nil {
			kr[s.Server] = map[string]signing.PublicKey{}
			rk[s.Server] = map[string]M{}
		}
		kr[s.Server][s.Key.KeyID()] = signing.PublicKey{Key: s.Key.Public()}
		rk[s.Server][s.Key.KeyID()] = M{"key": difftool.B64(s.Key.Public()), "vu": nil}
	}
	for _, s := range servers {
		add(signerFor(s, "1"))
	}
	for _, s := range extra {
		add(s)
	}
	return kr, rk
}

func seedOf(s signer) string { return difftool.B64(s.Key.Private.Seed()) }

// verdictCmp compares VerifyEvent's verdict with the reference's (verifyref).
func verdictCmp(e ex, v roomversion.Version, text string, kr signing.KeyRing, rk map[string]map[string]M) {
	err := signing.VerifyEvent(v, []byte(text), kr)
	a, ok := ask(M{"op": "verify", "v": v.ID, "ev": text, "keys": rk})
	if !ok {
		return
	}
	compared[e.Op]++
	got := signing.VerdictOf(err).String()
	if got != a.str() {
		e.In, e.RP, e.Ref, e.Amb = text, got+": "+fmt.Sprint(err), a.str()+": "+a.Why, a.Amb
		diverge(e, "verdicts differ "+got+"/"+a.str())
	}
}

// parseCmp compares ParseEvent, its event ID, RequiredSigners and IsThirdPartyInvite.
func parseCmp(e ex, v roomversion.Version, text string) *pdu.Event {
	pe, perr := signing.ParseEvent(v, []byte(text))
	a, ok := ask(M{"op": "parse", "v": v.ID, "ev": text})
	if !ok {
		return pe
	}
	e.Op, e.In = "ParseEvent", text
	if perr != nil || a.Err != "" {
		// The event format is formatref's audit: only a disagreement on parsing is noted.
		if (perr == nil) != (a.Err == "") {
			cmpOut(e, "", perr, a)
		}
		return pe
	}
	compared["ParseEvent"]++
	var res struct {
		EventID  string   `json:"event_id"`
		TPI      bool     `json:"tpi"`
		Required []string `json:"required"`
		ReqErr   *string  `json:"required_err"`
	}
	if err := json.Unmarshal(a.Out, &res); err != nil {
		harnessErrs++
		return pe
	}
	e.Amb = a.Amb
	if pe.EventID != res.EventID {
		e.RP, e.Ref = pe.EventID, res.EventID
		diverge(e, "event IDs differ")
	}
	if t := signing.IsThirdPartyInvite(pe); t != res.TPI {
		e.Op, e.RP, e.Ref = "IsThirdPartyInvite", fmt.Sprint(t), fmt.Sprint(res.TPI)
		diverge(e, "answers differ")
	}
	compared["IsThirdPartyInvite"]++
	compared["RequiredSigners"]++
	req, rerr := signing.RequiredSigners(pe)
	e.Op = "RequiredSigners"
	switch {
	case rerr != nil && res.ReqErr != nil:
	case rerr != nil:
		e.RP, e.Ref = "err "+kindOf(rerr), strings.Join(res.Required, ",")
		diverge(e, "roomproto errs, reference answers")
	case res.ReqErr != nil:
		e.RP, e.Ref = strings.Join(req, ","), "err "+*res.ReqErr
		diverge(e, "reference errs, roomproto answers")
	case strings.Join(req, ",") != strings.Join(res.Required, ","):
		e.RP, e.Ref = strings.Join(req, ","), strings.Join(res.Required, ",")
		if strings.Join(sortStrings(req), ",") == strings.Join(sortStrings(res.Required), ",") {
			diverge(e, "order differs")
		} else {
			diverge(e, "servers differ")
		}
	}
	return pe
}

// hashes compares ContentHash, ReferenceHash, EventID and CheckContentHash on text.
func hashes(e ex, v roomversion.Version, text string) {
	e.In = text
	ch, err := signing.ContentHash(v, []byte(text))
	a, ok := ask(M{"op": "content_hash", "v": v.ID, "ev": text})
	if ok {
		e.Op = "ContentHash"
		cmpOut(e, difftool.B64(ch[:]), err, a)
	}
	rh, err := signing.ReferenceHash(v, []byte(text))
	if a, ok := ask(M{"op": "ref_hash", "v": v.ID, "ev": text}); ok {
		e.Op = "ReferenceHash"
		cmpOut(e, difftool.B64(rh[:]), err, a)
	}
	id, err := signing.EventID(v, []byte(text))
	if a, ok := ask(M{"op": "event_id", "v": v.ID, "ev": text}); ok {
		e.Op = "EventID"
		cmpOut(e, id, err, a)
	}
	err = signing.CheckContentHash(v, []byte(text))
	if a, ok := ask(M{"op": "check_hash", "v": v.ID, "ev": text}); ok {
		e.Op = "CheckContentHash"
		cmpOut(e, "ok", err, a)
	}
}

// sign runs SignEvent or CountersignEvent on both sides; it returns roomproto's output when
// both agree it succeeds.
func sign(e ex, v roomversion.Version, text string, s signer, counter bool) (string, bool) {
	op, f := "sign", signing.SignEvent
	e.Op = "SignEvent"
	if counter {
		op, f, e.Op = "countersign", signing.CountersignEvent, "CountersignEvent"
	}
	e.In = text
	e.Extra = "server " + s.Server + " key " + s.Key.KeyID()
	out, err := f(v, []byte(text), s.Server, s.Key)
	a, ok := ask(M{"op": op, "v": v.ID, "ev": text, "server": s.Server, "seed": seedOf(s), "kv": s.Key.Version})
	if !ok {
		return "", false
	}
	cmpOut(e, string(out), err, a)
	return string(out), err == nil && a.Err == ""
}

// sigHolds checks that server's signatures by s's key verify on the parsed event.
func sigHolds(e ex, v roomversion.Version, text string, s signer, what string) {
	pe, err := pdu.Parse(v, []byte(text))
	if err != nil {
		return // not a PDU of v: VerifyEventSignature needs one
	}
	kr := signing.KeyRing{s.Server: {s.Key.KeyID(): {Key: s.Key.Public()}}}
	e.In = text
	invariant(e, what, signing.VerifyEventSignature(pe, s.Server, kr))
}

// oneCase draws and compares one case.
func oneCase(r *rand.Rand, versions []string) {
	vid := difftool.Pick(r, versions...)
	v := version(vid)
	w := difftool.VerNum(vid)
	if r.Intn(6) == 0 {
		w = difftool.VerNum(difftool.Pick(r, pyref.Versions...))
	}
	ev, label := genEvent(r, w)
	self := difftool.DomainOf(ev["sender"].(string))
	if r.Intn(8) == 0 {
		self = difftool.Pick(r, servers...)
	}
	kv := "1"
	if r.Intn(4) == 0 {
		kv = difftool.Pick(r, keyVersions...)
	}
	s := signerFor(self, kv)
	c := corner(r, ev, w, self)
	var doc any = ev
	if c == "dup-keys" {
		doc = withDup(r, ev)
	}
	mode := r.Intn(6)
	text := encode(r, doc, mode == 1 || mode == 4, mode == 2 || mode == 4, mode == 3 || mode == 5)
	e := ex{V: vid, Corner: label + "/" + c + fmt.Sprintf("/enc%d", mode)}
	if w != difftool.VerNum(vid) {
		e.W = fmt.Sprint(w)
	}

	hashes(e, v, text)
	parseCmp(e, v, text)
	out, ok := sign(e, v, text, s, false)
	if r.Intn(3) == 0 {
		t := signerFor(difftool.Pick(r, servers...), difftool.Pick(r, "1", "1", "2", kv))
		sign(e, v, text, t, true)
	}
	if !ok {
		return
	}
	// Round trips on roomproto's signed event.
	hashes(e, v, out)
	e.In = out
	invariant(e, "SignEvent output fails CheckContentHash", signing.CheckContentHash(v, []byte(out)))
	sigHolds(e, v, out, s, "SignEvent's signature does not verify")
	parseCmp(e, v, out)
	hashVariants(r, e, v, out)
	kr, rk := rings(s)
	e.Op = "VerifyEvent(signed)"
	verdictCmp(e, v, out, kr, rk)

	t := signerFor(difftool.Pick(r, servers...), difftool.Pick(r, "1", "1", "2", "k_3"))
	cs, ok := sign(e, v, out, t, true)
	if !ok {
		return
	}
	e.In = out
	e.Extra = cs
	a, b := decode(out), decode(cs)
	if a != nil && b != nil {
		sa, _ := a["signatures"].(map[string]any)
		sb, _ := b["signatures"].(map[string]any)
		if sa != nil && sb != nil {
			delete(sa, t.Server)
			delete(sb, t.Server)
		}
		if !reflect.DeepEqual(a, b) {
			invariant(e, "CountersignEvent changed more than the signer's signatures", errors.New(where(out, cs)))
		} else {
			invariant(e, "", nil)
		}
	}
	sigHolds(e, v, cs, t, "CountersignEvent's signature does not verify")
	if t.Server != s.Server {
		sigHolds(e, v, cs, s, "origin's signature lost by CountersignEvent")
	}
	kr, rk = rings(s, t)
	e.Op = "VerifyEvent(countersigned)"
	verdictCmp(e, v, cs, kr, rk)
	red, err := redaction.Redact(v, []byte(cs))
	if err != nil {
		e.In = cs
		invariant(e, "Redact fails on a countersigned event", err)
		return
	}
	sigHolds(e, v, string(red), t, "countersigner's signature fails after redaction")
	if t.Server != s.Server {
		sigHolds(e, v, string(red), s, "origin's signature fails after countersign+redaction")
	}
	e.Op = "VerifyEvent(countersigned+redacted)"
	verdictCmp(e, v, string(red), kr, rk)
}

// hashVariants rewrites the content hash of a signed event (padded, URL-safe, unused low bits
// set, truncated, empty, not a string) and compares CheckContentHash.
func hashVariants(r *rand.Rand, e ex, v roomversion.Version, out string) {
	m := decode(out)
	if m == nil {
		return
	}
	h, _ := m["hashes"].(map[string]any)
	cur, _ := h["sha256"].(string)
	if cur == "" {
		return
	}
	var nv any
	switch r.Intn(7) {
	case 0:
		nv = cur + "="
	case 1:
		nv = strings.NewReplacer("+", "-", "/", "_").Replace(cur)
		if nv == cur {
			nv = cur + "="
		}
	case 2: // the last character carries 2 unused bits: set them
		last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", cur[len(cur)-1])
		nv = cur[:len(cur)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last|3])
	case 3:
		nv = cur[:len(cur)-4]
	case 4:
		nv = ""
	case 5:
		nv = int64(5)
	default:
		nv = cur + "=="
	}
	h["sha256"] = nv
	text := string(difftool.Enc(m))
	err := signing.CheckContentHash(v, []byte(text))
	if a, ok := ask(M{"op": "check_hash", "v": v.ID, "ev": text}); ok {
		e.Op, e.In = "CheckContentHash(variant)", text
		cmpOut(e, "ok", err, a)
	}
}

// keyCase compares NewSigningKey (and SignEvent with a hand-made key of that version).
func keyCase(r *rand.Rand) {
	kv := difftool.Pick(r, keyVersions...)
	seed := bytes.Repeat([]byte{byte(r.Intn(256))}, 32)
	if r.Intn(10) == 0 {
		seed = seed[:31]
	}
	k, err := signing.NewSigningKey(kv, seed)
	a, ok := ask(M{"op": "new_key", "kv": kv, "seed": difftool.B64(seed)})
	if !ok {
		return
	}
	e := ex{Op: "NewSigningKey", In: fmt.Sprintf("version %q seed %d bytes", kv, len(seed))}
	out := ""
	if err == nil {
		out = difftool.B64(k.Public())
	}
	cmpOut(e, out, err, a)
}

// nameCase compares ServerName.
func nameCase(r *rand.Rand) {
	id := difftool.Pick(r, idForms...)
	name, ok := signing.ServerName(id)
	a, aok := ask(M{"op": "server_name", "id": id})
	if !aok {
		return
	}
	compared["ServerName"]++
	if name != a.str() || a.OK == nil || ok != *a.OK {
		ro := false
		if a.OK != nil {
			ro = *a.OK
		}
		diverge(ex{Op: "ServerName", In: id, RP: fmt.Sprintf("%q %v", name, ok), Ref: fmt.Sprintf("%q %v", a.str(), ro), Amb: a.Amb}, "answers differ")
	}
}

func main() {
	n := flag.Int("n", 2000, "cases")
	seed := flag.Int64("seed", 1, "seed")
	vers := flag.String("versions", strings.Join(pyref.Versions, ","), "room versions")
	decisions := flag.Bool("decisions", false, "the reference adopts docs/decisions.md readings (SIGNREF_DECISIONS=1)")
	verbose := flag.Bool("v", false, "print the first example of each group too")
	outDir := flag.String("out", "", "write tally.tsv, coverage.txt and divergences.jsonl into this directory")
	flag.Parse()

	ref = pyref.MustStart(pyref.Beside("signref.py"), pyref.Env(*decisions, "SIGNREF_DECISIONS=1")...)
	versions := strings.Split(*vers, ",")
	fixed(versions)
	r := rand.New(rand.NewSource(*seed))
	for i := 0; i < *n; i++ {
		oneCase(r, versions)
		keyCase(r)
		nameCase(r)
	}
	ref.Close()

	groups.Print(os.Stdout, *verbose, nil)
	var tally strings.Builder
	total := 0
	for _, op := range difftool.SortedKeys(compared) {
		fmt.Fprintf(&tally, "%s\t%d\n", op, compared[op])
		total += compared[op]
	}
	fmt.Print(tally.String())
	fmt.Printf("cases %d, comparisons %d\n", *n, total)
	if err := pyref.WriteRun(*outDir, tally.String(), "", groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	fmt.Printf("harness errors %d, divergences %d, groups %d\n", harnessErrs, divs, len(groups))
	if harnessErrs > 0 || divs > 0 {
		os.Exit(1)
	}
}

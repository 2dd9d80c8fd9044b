// Command policyref compares roomproto's policyserver package (Of, Exempt, Check and
// AddSignature) with an independent Python reference written from the spec text only
// (policyref.py in this directory): server-server-api "Policy Servers" and check 7 of "Checks
// performed on receipt of a PDU".
//
//	go run ./tools/policyref -n 20000 -seed 1 [-decisions] [-versions 10,11,12] [-out DIR] [-v]
//
// It draws rooms of room versions 1-12 with and without an m.room.policy state event (valid,
// or with a malformed `via` or `public_keys`, a `via` server with or without a joined user,
// keys in bad base64, of wrong lengths, padded, ...), candidate events of every kind (exempt
// and not, state and not, by the Policy Server's own users or not) carrying a Policy Server
// signature or not (good, bad, wrong key ID, other server, stale key, made with another room
// version's redaction, ...), and /sign responses for AddSignature (well-formed, extra servers
// and key IDs, invalid signatures, non-JSON, ...). Per case it compares: for "check", whether
// the room uses a Policy Server and which (Of), Exempt, and Check's verdict and error kind;
// for "add", AddSignature's error kind and, on success, the exact bytes of the signed event.
//
// Divergences are grouped; each group is printed with its smallest example (-v: also its
// first). Exit status 1 on any divergence or harness error, 2 when the reference cannot be
// started.
package main

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

type refReq struct {
	Op       string   `json:"op"`
	V        string   `json:"v"`
	State    []string `json:"state,omitempty"`
	Event    string   `json:"event"`
	PS       *psJSON  `json:"ps,omitempty"`
	Response *string  `json:"response,omitempty"`
}

type psJSON struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

type refResp struct {
	Uses    bool     `json:"uses"`
	Server  string   `json:"server"`
	Key     string   `json:"key"`
	Exempt  bool     `json:"exempt"`
	Verdict string   `json:"verdict"`
	Out     string   `json:"out"`
	Amb     []string `json:"amb"`
	Invalid string   `json:"invalid"`
	Error   string   `json:"error"`
}

// answer is one side's decision in a comparable form.
type answer struct {
	Uses    bool   `json:"uses,omitempty"`
	Server  string `json:"server,omitempty"`
	Key     string `json:"key,omitempty"`
	Exempt  bool   `json:"exempt,omitempty"`
	Verdict string `json:"verdict"`
	Out     string `json:"out,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

type example struct {
	Version string   `json:"version"`
	Label   string   `json:"label"`
	Request refReq   `json:"request"`
	RP      answer   `json:"roomproto"`
	Ref     answer   `json:"reference"`
	Amb     []string `json:"amb,omitempty"`
}

func main() {
	var fl pyref.Flags
	fl.Define(flag.CommandLine, 20000, "POLICYREF_DECISIONS", false, "print the first example of every group too")
	fl.DefineOut(flag.CommandLine)
	flag.Parse()

	ref := fl.Start(pyref.Beside("policyref.py"))
	ask := func(req refReq) (r refResp) {
		ref.MustAskNote(req, &r, &r.Error)
		return r
	}

	versions := fl.VersionList()
	r := fl.Rand()
	tallies := pyref.NewOpTally("ok")
	groups := pyref.Groups[*example]{}
	outcomes := map[string]int{}
	var skipped, harness int
	for i := 0; i < fl.N; i++ {
		vid := difftool.Pick(r, versions...)
		c := genCase(r, vid, i)
		var rp answer
		if c.req.Op == "check" {
			var skip string
			rp, skip = runCheck(c)
			if skip != "" {
				skipped++
				outcomes["skipped (roomproto): "+skip]++
				continue
			}
		} else {
			rp = runAdd(c)
		}
		rv := ask(c.req)
		if rv.Error != "" {
			harness++
			fmt.Fprintln(os.Stderr, "reference error:", rv.Error)
			continue
		}
		if rv.Invalid != "" {
			skipped++
			outcomes["skipped (reference): "+rv.Invalid]++
			continue
		}
		ref := answer{Uses: rv.Uses, Server: rv.Server, Key: rv.Key, Exempt: rv.Exempt, Verdict: rv.Verdict, Out: rv.Out}
		t := tallies.Case(vid, c.req.Op, ref.Verdict == "ok")
		kind := c.req.Op + " " + ref.Verdict
		if c.req.Op == "check" {
			kind = fmt.Sprintf("check uses=%v exempt=%v %s", ref.Uses, ref.Exempt, ref.Verdict)
		}
		outcomes[kind]++
		for _, l := range strings.Fields(c.label) {
			outcomes["label "+c.req.Op+" "+l+" -> "+ref.Verdict]++
		}
		for _, f := range rv.Amb {
			outcomes["amb "+c.req.Op+" "+f]++
		}
		d := compare(c.req.Op, rp, ref)
		if d == "" {
			continue
		}
		t.Diverge++
		ex := &example{Version: vid, Label: c.label, Request: c.req, RP: rp, Ref: ref, Amb: rv.Amb}
		b, _ := json.Marshal(c.req)
		key := fmt.Sprintf("%s %s rp=%s ref=%s corner=%s", d, c.req.Op, rp.Verdict, ref.Verdict, corner(rv.Amb))
		groups.Add(key, vid, ex, len(b))
	}
	ref.Close()

	tallyText, total, divs := tallies.Table()
	var covText strings.Builder
	for _, k := range difftool.SortedKeys(outcomes) {
		fmt.Fprintf(&covText, "%d\t%s\n", outcomes[k], k)
	}
	if err := pyref.WriteRun(fl.Out, tallyText, covText.String(), groups.Sorted()); err != nil {
		fmt.Fprintln(os.Stderr, "writing the run:", err)
	}
	groups.Print(os.Stdout, fl.Verbose, func(ex *example) any { return summarize(ex) })
	fmt.Printf("compared %d, skipped %d, harness errors %d, divergences %d, groups %d\n",
		total, skipped, harness, divs, len(groups))
	if harness > 0 || len(groups) > 0 {
		os.Exit(1)
	}
}

// decisive are the reference's `amb` flags that can change a verdict or an error kind, in the
// order a divergence is attributed to them (the others only describe the case).
var decisive = []string{"member-not-user-id", "name-not-server-name", "via-not-server-name", "b64-urlsafe-or-partial-padding",
	"libsodium-refusal", "missing-and-invalid-key", "entry-null", "sig-null", "too-large-and-not-ok"}

// corner names the spec-silent corner a divergence went through, "none" if none.
func corner(amb []string) string {
	for _, f := range decisive {
		for _, a := range amb {
			if a == f {
				return f
			}
		}
	}
	return "none"
}

// compare returns "" when the two answers agree, else the kind of divergence.
func compare(op string, rp, ref answer) string {
	if op == "check" {
		switch {
		case rp.Uses != ref.Uses:
			return "USES"
		case rp.Uses && (rp.Server != ref.Server || rp.Key != ref.Key):
			return "SERVER"
		case rp.Exempt != ref.Exempt:
			return "EXEMPT"
		case (rp.Verdict == "ok") != (ref.Verdict == "ok"):
			return "VERDICT"
		case rp.Verdict != ref.Verdict:
			return "ERRKIND"
		}
		return ""
	}
	switch {
	case (rp.Verdict == "ok") != (ref.Verdict == "ok"):
		return "VERDICT"
	case rp.Verdict != ref.Verdict:
		return "ERRKIND"
	case rp.Out != ref.Out:
		return "OUTPUT"
	}
	return ""
}

// kindOf maps an error of the policyserver package to the reference's verdict names.
func kindOf(err error) (string, string) {
	if err == nil {
		return "ok", ""
	}
	var pe *policyserver.Error
	detail := err.Error()
	if !errors.As(err, &pe) {
		return "not-a-policyserver.Error", detail
	}
	switch {
	case errors.Is(err, policyserver.ErrMissingSignature):
		return "missing", detail
	case errors.Is(err, policyserver.ErrBadSignature):
		return "bad", detail
	case errors.Is(err, policyserver.ErrInvalidKey):
		return "invalid_key", detail
	case errors.Is(err, policyserver.ErrMalformed):
		return "malformed", detail
	}
	return "unknown-kind", detail
}

// runCheck asks roomproto about a "check" case: Of, Exempt and Check. A state or event that
// roomproto cannot parse is skipped (the reason is returned).
func runCheck(c tcase) (answer, string) {
	v := authgen.Version(c.req.V)
	var evs []*pdu.Event
	for _, raw := range c.req.State {
		e, err := signing.ParseEvent(v, []byte(raw))
		if err != nil {
			return answer{}, "state: " + skipReason(err)
		}
		evs = append(evs, e)
	}
	st, err := authrules.NewState(v, evs)
	if err != nil {
		return answer{}, "state: " + skipReason(err)
	}
	ev, err := signing.ParseEvent(v, []byte(c.req.Event))
	if err != nil {
		return answer{}, "event: " + skipReason(err)
	}
	var a answer
	ps, ok := policyserver.Of(st)
	if ok {
		a.Uses, a.Server, a.Key = true, ps.Name, ps.PublicKey
	}
	a.Exempt = policyserver.Exempt(ev)
	a.Verdict, a.Detail = kindOf(policyserver.Check(st, ev))
	return a, ""
}

// runAdd asks roomproto's AddSignature about an "add" case.
func runAdd(c tcase) answer {
	v := authgen.Version(c.req.V)
	out, err := policyserver.AddSignature(v, []byte(c.req.Event),
		policyserver.Server{Name: c.req.PS.Name, PublicKey: c.req.PS.Key}, []byte(*c.req.Response))
	a := answer{}
	a.Verdict, a.Detail = kindOf(err)
	if err == nil {
		a.Out = string(out)
	}
	return a
}

// skipReason is err's message without offsets, so skips group.
func skipReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " at offset"); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

// --- generation ---------------------------------------------------------------------------

// tcase is one generated case.
type tcase struct {
	req   refReq
	label string
}

// psKeys are the keys a Policy Server may sign with: the one in the room's m.room.policy
// (current), one the room named before (stale), and its published federation key.
type psKeys struct {
	cur, stale, published signing.SigningKey
}

func keysOf(name string) psKeys {
	return psKeys{
		cur:       authgen.KeyFor(name, "policy_server"),
		stale:     authgen.KeyFor(name, "old_policy_server"),
		published: authgen.KeyFor(name, "1"),
	}
}

func b64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// genCase draws a room of version vid and an event (check) or an event and a /sign response
// (add).
func genCase(r *rand.Rand, vid string, i int) tcase {
	ver := difftool.VerNum(vid)
	b := &authgen.Builder{V: authgen.Version(vid), Ver: ver, R: r, N: i * 100}
	var labels []string
	lab := func(s string) { labels = append(labels, s) }

	psName := difftool.Pick(r, "ps.example", "ps.example", "ps.example", "ps.example:8448", "a.example", "r.example")
	keys := keysOf(psName)
	creator := "@alice:r.example"
	if ver < 12 {
		b.RoomID = "!room:r.example"
	}
	cc := M{"room_version": vid}
	if ver <= 10 {
		cc["creator"] = creator
	}
	create := b.Mk("m.room.create", creator, authgen.Sp(""), cc, nil, authgen.Opts{})
	if ver >= 12 {
		b.RoomID = "!" + create.ID[1:]
	}
	base := []string{create.ID}
	state := [][]byte{create.Raw}
	mk := func(typ, sender, sk string, content M) {
		state = append(state, b.Mk(typ, sender, authgen.Sp(sk), content, base, authgen.Opts{}).Raw)
	}
	mk("m.room.member", creator, creator, M{"membership": "join"})
	// members of several servers, the Policy Server's among them
	psUsers := []string{"@mod:" + psName, "@bot:" + psName}
	others := []string{"@bob:a.example", "@carl:b.example", "@dora:ps.example", "@eve:ps.example:8448", "@fred:PS.EXAMPLE"}
	psJoined := false
	for _, u := range append(append([]string{}, psUsers...), others...) {
		if u == creator {
			continue
		}
		m := difftool.Pick(r, "", "", "join", "join", "join", "invite", "leave", "ban")
		if m == "" {
			continue
		}
		if m == "join" && strings.HasSuffix(u, ":"+psName) {
			psJoined = true
		}
		mk("m.room.member", creator, u, M{"membership": m})
	}
	if psJoined {
		lab("ps-joined")
	}
	if r.Intn(25) == 0 {
		// a joined "member" whose state key is no user ID but ends in the Policy Server's name
		mk("m.room.member", creator, difftool.Pick(r, "mod:"+psName, psName, "@:"+psName), M{"membership": "join"})
		lab("member-not-user-id")
	}
	// the m.room.policy state event (and sometimes one with another state key)
	curPub := b64(keys.cur.Public())
	policyKey := curPub
	if r.Intn(8) != 0 {
		content, l := policyContent(r, psName, keys, &policyKey)
		lab(l)
		if l == "via-weird" {
			// a member of the server the odd `via` denotes, if any could exist
			if via, ok := content["via"].(string); ok && r.Intn(2) == 0 {
				mk("m.room.member", creator, "@w:"+via, M{"membership": "join"})
			}
		}
		mk(policyserver.EventType, creator, "", content)
	} else {
		lab("no-policy")
	}
	if r.Intn(6) == 0 {
		lab("policy-other-state-key")
		mk(policyserver.EventType, creator, difftool.Pick(r, "x", " ", "ps"), M{"via": psName, "public_keys": M{"ed25519": curPub}})
	}
	if r.Intn(3) == 0 {
		mk("m.room.name", creator, "", M{"name": "room"})
	}

	// the event
	ev, evLabel := genEvent(r, b, ver, psName, psUsers, base)
	lab(evLabel)

	if r.Intn(2) == 0 {
		// check: the event, maybe with a Policy Server signature
		raw, sl := signVariant(r, b, ev, psName, keys)
		lab(sl)
		req := refReq{Op: "check", V: vid, Event: string(raw)}
		for _, s := range state {
			req.State = append(req.State, string(s))
		}
		return tcase{req: req, label: strings.Join(labels, " ")}
	}

	// add: the event (maybe with stale Policy Server signatures already), a Server, a response
	labels = labels[:0]
	lab(evLabel)
	raw := ev
	if r.Intn(5) == 0 {
		raw, _ = signVariant(r, b, ev, psName, keys)
		lab("pre-signed")
	}
	ps := psJSON{Name: psName, Key: curPub}
	switch r.Intn(16) {
	case 0:
		ps.Key, _ = badKey(r, keys)
		lab("ps-key-odd")
	case 1:
		ps.Name = difftool.Pick(r, "", "ps example", "PS.EXAMPLE", "ps.example:99999", "ps.example/x", "[::1]:8448", "1.2.3.4")
		lab("ps-name-odd")
	}
	resp, rl := genResponse(r, b, ev, ps.Name, psName, keys)
	lab(rl)
	switch r.Intn(30) {
	case 0:
		raw = []byte(difftool.Pick(r, "", "not json", "[]", "null", `{"type":`))
		lab("event-not-json")
	case 1:
		raw = bigEvent(r, b, ev)
		lab("event-near-limit")
	}
	return tcase{req: refReq{Op: "add", V: vid, Event: string(raw), PS: &ps, Response: &resp}, label: strings.Join(labels, " ")}
}

// policyContent returns m.room.policy content: valid most of the time, otherwise with one
// malformed part. key is set to the key a valid content names.
func policyContent(r *rand.Rand, psName string, keys psKeys, key *string) (M, string) {
	pk := M{"ed25519": *key}
	c := M{"via": psName, "public_keys": pk}
	switch k := r.Intn(30); {
	case k < 14:
		if r.Intn(4) == 0 {
			pk["curve25519"] = "c29tZSBvdGhlciBrZXk"
		}
		return c, "policy-valid"
	case k < 17:
		kk, l := badKey(r, keys)
		pk["ed25519"] = kk
		*key = kk
		return c, "policy-" + l
	case k == 17:
		delete(c, "via")
		return c, "via-missing"
	case k == 18:
		c["via"] = difftool.Pick[any](r, 5, nil, []any{psName}, M{"name": psName}, true)
		return c, "via-not-string"
	case k == 19:
		c["via"] = difftool.Pick(r, "", "ps example", "PS.EXAMPLE", psName+" ", "ps.example:99999", "ps.example/x", "a.example")
		return c, "via-weird"
	case k == 20:
		c["via"] = "nobody.example"
		return c, "via-no-members"
	case k == 21:
		delete(c, "public_keys")
		return c, "keys-missing"
	case k == 22:
		c["public_keys"] = difftool.Pick[any](r, *key, []any{*key}, nil, 1)
		return c, "keys-not-object"
	case k == 23:
		pk["ed25519"] = difftool.Pick[any](r, nil, 1, []any{*key}, M{"k": *key}, false)
		return c, "key-not-string"
	case k == 24:
		delete(pk, "ed25519")
		pk["curve25519"] = *key
		return c, "key-ed25519-missing"
	case k == 25:
		pk["curve25519"] = difftool.Pick[any](r, 5, nil, M{})
		return c, "keys-other-not-string"
	case k == 26:
		return M{}, "policy-redacted"
	case k == 27:
		c["public_key"] = *key
		delete(c, "public_keys")
		return c, "keys-singular"
	case k == 28:
		pk["ed25519:policy_server"] = *key
		delete(pk, "ed25519")
		return c, "keys-by-key-id"
	}
	c["extra"] = M{"x": 1}
	return c, "policy-valid-extra"
}

// badKey returns an `ed25519` value that is not the current key: malformed, of the wrong
// length, padded, stale, the published key, a non-point, ...
func badKey(r *rand.Rand, keys psKeys) (string, string) {
	pub := []byte(keys.cur.Public())
	switch r.Intn(12) {
	case 0:
		return difftool.Pick(r, "", "!!!", "not base64", "AAAA AAAA", "A"), "key-bad-b64"
	case 1:
		return b64(pub[:31]), "key-31"
	case 2:
		return b64(append(append([]byte{}, pub...), 0)), "key-33"
	case 3:
		return b64(append(append([]byte{}, pub...), pub...)), "key-64"
	case 4:
		return base64.StdEncoding.EncodeToString(pub), "key-padded"
	case 5:
		return base64.RawURLEncoding.EncodeToString(pub), "key-urlsafe"
	case 6:
		return b64(keys.stale.Public()), "key-stale"
	case 7:
		return b64(keys.published.Public()), "key-published"
	case 8:
		return b64(make([]byte, 32)), "key-zero"
	case 9:
		x := make([]byte, 32)
		r.Read(x)
		return b64(x), "key-random32"
	case 10:
		// the last character with non-zero leftover bits
		s := b64(pub)
		last := s[len(s)-1]
		alpha := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		idx := strings.IndexByte(alpha, last)
		return s[:len(s)-1] + string(alpha[idx|1]), "key-trailing-bits"
	}
	return b64(pub)[:10], "key-short"
}

// genEvent draws the candidate event (unsigned by the Policy Server): every kind.
func genEvent(r *rand.Rand, b *authgen.Builder, ver int, psName string, psUsers, base []string) ([]byte, string) {
	sender := difftool.Pick(r, "@alice:r.example", "@bob:a.example", "@carl:b.example")
	label := "ev-"
	if r.Intn(5) == 0 {
		sender = difftool.Pick(r, psUsers...)
		label = "ev-ps-user-"
	}
	var typ string
	var sk *string
	var content M
	o := authgen.Opts{}
	switch r.Intn(11) {
	case 0, 1:
		typ = "m.room.message"
		content = M{"msgtype": "m.text", "body": difftool.Pick(r, "hi", "caf\u00e9", "line\nbreak\t\"q\"", "\u2028\u007f\u0001", "\U0001F600")}
	case 2:
		typ, sk = policyserver.EventType, authgen.Sp("")
		content = M{"via": psName, "public_keys": M{"ed25519": "AAAA"}}
		label += "policy-state"
	case 3:
		typ, sk = policyserver.EventType, authgen.Sp(difftool.Pick(r, "x", " ", "\u0000"))
		content = M{"via": psName}
		label += "policy-state-key"
	case 4:
		typ = policyserver.EventType
		content = M{"via": psName}
		label += "policy-nonstate"
	case 5:
		typ, sk = "m.room.member", authgen.Sp(sender)
		content = M{"membership": "join", "displayname": "x"}
	case 6:
		typ, sk = "m.room.power_levels", authgen.Sp("")
		content = M{"users": M{"@alice:r.example": 100}, "invite": 50, "events_default": 0}
	case 7:
		typ = "m.room.redaction"
		o.Redacts = b.FakeID()
		content = M{"reason": "spam"}
	case 8:
		typ, sk = "m.room.name", authgen.Sp("")
		content = M{"name": "new"}
	case 9:
		typ, sk = difftool.Pick(r, "m.room.Policy", "m.room.policy ", "m.room.create"), authgen.Sp("")
		content = M{"via": psName}
		label += "policy-lookalike"
	default:
		typ, sk = "com.example.state", authgen.Sp(difftool.Pick(r, "", "k"))
		content = M{"k": "v"}
	}
	if typ == "m.room.create" && ver >= 12 {
		typ = "m.room.topic"
	}
	if label == "ev-" || label == "ev-ps-user-" {
		if sk != nil {
			label += "state"
		} else {
			label += "message"
		}
	}
	e := b.Mk(typ, sender, sk, content, base, o)
	m := difftool.Decode(e.Raw)
	// top-level keys that some versions' redaction keeps and others strip
	if ver >= 3 && r.Intn(3) == 0 {
		m["origin"] = difftool.DomainOf(sender)
	}
	if r.Intn(5) == 0 {
		m["unsigned"] = M{"age": 5}
	}
	if sk != nil && r.Intn(8) == 0 {
		m["prev_state"] = []any{}
	}
	return difftool.Enc(m), label
}

// sigWith returns the unpadded base64 signature of event by key with the redaction of room
// version v (as roomproto signs an event), or "" when roomproto cannot sign it.
func sigWith(v roomversion.Version, event []byte, key signing.SigningKey) string {
	out, err := signing.CountersignEvent(v, event, "sig.invalid", key)
	if err != nil {
		return ""
	}
	m := difftool.Decode(out)
	s, _ := m["signatures"].(M)["sig.invalid"].(M)[key.KeyID()].(string)
	return s
}

// withSig adds signatures[server][keyID] = sig to event, keeping the others.
func withSig(event []byte, server, keyID, sig string) []byte {
	m := difftool.Decode(event)
	sigs, _ := m["signatures"].(M)
	if sigs == nil {
		sigs = M{}
		m["signatures"] = sigs
	}
	entry, _ := sigs[server].(M)
	if entry == nil {
		entry = M{}
		sigs[server] = entry
	}
	entry[keyID] = sig
	return difftool.Enc(m)
}

func flip(sig string) string {
	if sig == "" {
		return "AAAA"
	}
	c := byte('A')
	if sig[3] == 'A' {
		c = 'B'
	}
	return sig[:3] + string(c) + sig[4:]
}

// otherVersion returns a room version whose redaction differs from v's for some events but
// whose event format roomproto can still sign with.
func otherVersion(ver int) roomversion.Version {
	if ver <= 10 {
		return authgen.Version("11")
	}
	return authgen.Version("10")
}

// policySig is a Policy Server signature variant on event: what it is and the value.
func policySig(r *rand.Rand, b *authgen.Builder, event []byte, keys psKeys) (sig, label string) {
	good := sigWith(b.V, event, keys.cur)
	switch k := r.Intn(20); {
	case k < 9:
		return good, "good"
	case k == 9:
		return flip(good), "flipped"
	case k == 10:
		return sigWith(b.V, event, keys.stale), "stale-key"
	case k == 11:
		return sigWith(b.V, event, keys.published), "published-key"
	case k == 12:
		return sigWith(otherVersion(b.Ver), event, keys.cur), "other-version-redaction"
	case k == 13:
		return difftool.Pick(r, "", "!!!", "not base64 at all", good[:40]), "sig-not-b64-or-short"
	case k == 14:
		raw, _ := base64.RawStdEncoding.DecodeString(good)
		return base64.StdEncoding.EncodeToString(raw), "sig-padded"
	case k == 15:
		raw, _ := base64.RawStdEncoding.DecodeString(good)
		return base64.RawURLEncoding.EncodeToString(raw), "sig-urlsafe"
	case k == 16:
		raw, _ := base64.RawStdEncoding.DecodeString(good)
		return b64(append(raw, 0)), "sig-65-bytes"
	case k == 17:
		if r.Intn(2) == 0 {
			return identityRSig(b.V, event, keys.cur), "sig-identity-R"
		}
		return authgen.DummySig, "sig-dummy"
	case k == 18:
		other := difftool.Decode(event)
		other["origin_server_ts"] = json.Number("1")
		return sigWith(b.V, difftool.Enc(other), keys.cur), "sig-of-other-event"
	}
	// good, then the event is changed in a part the redaction strips (content of most types,
	// unsigned): the signature still holds (the content hash is another check)
	return good, "good-then-content-changed"
}

// identityRSig returns a signature by key of event whose R is the identity point (S = k·a):
// it satisfies the cofactorless equation that crypto/ed25519 checks, and libsodium refuses it
// (docs/decisions.md (signing) 11). An honest signer never makes one.
func identityRSig(v roomversion.Version, event []byte, key signing.SigningKey) string {
	canon, err := canonicaljson.Canonical(event)
	if err != nil {
		return ""
	}
	msg, err := redaction.AppendSignedBytes(nil, v, canon)
	if err != nil {
		return ""
	}
	h := sha512.Sum512(key.Private.Seed())
	h[0] &= 248
	h[31] &= 127
	h[31] |= 64
	a := new(big.Int).SetBytes(reverse(h[:32]))
	rEnc := make([]byte, 32)
	rEnc[0] = 1
	kh := sha512.New()
	kh.Write(rEnc)
	kh.Write(key.Public())
	kh.Write(msg)
	k := new(big.Int).SetBytes(reverse(kh.Sum(nil)))
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	sc := new(big.Int).Mul(k, a)
	sc.Mod(sc, l)
	sb := make([]byte, 32)
	sc.FillBytes(sb)
	return b64(append(rEnc, reverse(sb)...))
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

// signVariant returns event with (or without) a Policy Server signature in some form.
func signVariant(r *rand.Rand, b *authgen.Builder, event []byte, psName string, keys psKeys) ([]byte, string) {
	if r.Intn(4) == 0 {
		return event, "sig-none"
	}
	sig, l := policySig(r, b, event, keys)
	server, kid := psName, policyserver.KeyID
	switch r.Intn(12) {
	case 0:
		kid = difftool.Pick(r, "ed25519:1", "ed25519:policy_server2", "ed25519:Policy_server", "curve25519:policy_server", "ed25519:")
		l += "+wrong-key-id"
	case 1:
		server = difftool.Pick(r, "a.example", "PS.EXAMPLE", "ps.example:8448", "r.example", "policy.example")
		if server == psName {
			server = "other.example"
		}
		l += "+other-server"
	}
	out := withSig(event, server, kid, sig)
	if l == "good-then-content-changed" {
		m := difftool.Decode(out)
		c, _ := m["content"].(M)
		if c != nil {
			c["added_after_signing"] = "x"
		}
		m["unsigned"] = M{"age": 99}
		out = difftool.Enc(m)
	}
	return out, l
}

// genResponse draws the body of a /sign answer for event, for a Policy Server named name
// (psName is the server the keys are of).
func genResponse(r *rand.Rand, b *authgen.Builder, event []byte, name, psName string, keys psKeys) (string, string) {
	sig, sl := policySig(r, b, event, keys)
	enc := func(v any) string { return string(difftool.Enc(v)) }
	switch k := r.Intn(24); {
	case k < 10:
		return enc(M{name: M{policyserver.KeyID: sig}}), "resp-" + sl
	case k == 10:
		return enc(M{name: M{policyserver.KeyID: sig}, "a.example": M{"ed25519:1": authgen.DummySig}}), "resp-extra-server+" + sl
	case k == 11:
		return enc(M{name: M{policyserver.KeyID: sig, "ed25519:1": authgen.DummySig}}), "resp-extra-key-id+" + sl
	case k == 12:
		return enc(M{name: M{"ed25519:1": sig}}), "resp-wrong-key-id"
	case k == 13:
		return enc(M{"other.example": M{policyserver.KeyID: sig}}), "resp-other-server"
	case k == 14:
		return "{}", "resp-empty"
	case k == 15:
		return enc(M{"errcode": "M_FORBIDDEN", "error": "spam"}), "resp-error-body"
	case k == 16:
		return enc(M{name: difftool.Pick[any](r, "x", nil, []any{sig}, 5)}), "resp-entry-not-object"
	case k == 17:
		return enc(M{name: M{policyserver.KeyID: difftool.Pick[any](r, 5, nil, []any{sig}, M{})}}), "resp-sig-not-string"
	case k == 18:
		return difftool.Pick(r, "[]", `"x"`, "null", "5", "true"), "resp-not-object"
	case k == 19:
		return difftool.Pick(r, "", "<html>", "{", `{"a":1}x`, "{'a':1}"), "resp-not-json"
	case k == 20:
		return enc(M{name: M{policyserver.KeyID: sig}, "other.example": "x"}), "resp-extra-server-malformed+" + sl
	case k == 21:
		return enc(M{name: M{policyserver.KeyID: sig, "ed25519:1": 5}}), "resp-extra-key-malformed+" + sl
	case k == 22:
		return enc(M{name: M{}}), "resp-entry-empty"
	}
	// whitespace and key order of a real HTTP body
	return fmt.Sprintf("{\n  %q : { %q : %q }\n}\n", name, policyserver.KeyID, sig), "resp-pretty+" + sl
}

// bigEvent pads event's content so that it is just below or around the 65536-byte limit.
func bigEvent(r *rand.Rand, b *authgen.Builder, event []byte) []byte {
	m := difftool.Decode(event)
	c, _ := m["content"].(M)
	if c == nil {
		c = M{}
		m["content"] = c
	}
	cur := len(difftool.Enc(m))
	target := 65536 - r.Intn(200)
	if target > cur+10 {
		c["pad"] = strings.Repeat("x", target-cur-10)
	}
	return difftool.Enc(m)
}

// summarize returns an example with the parts the decisions read: the m.room.policy events and
// the joined members instead of the whole state, and the event without its auth and prev
// events and hashes. The whole case is in DIR/divergences.jsonl with -out.
func summarize(ex *example) M {
	out := M{"version": ex.Version, "label": ex.Label, "op": ex.Request.Op,
		"roomproto": ex.RP, "reference": ex.Ref}
	if len(ex.Amb) > 0 {
		out["amb"] = ex.Amb
	}
	if ex.Request.Op == "check" {
		var policies []any
		var joined []string
		for _, raw := range ex.Request.State {
			m := difftool.Decode([]byte(raw))
			switch m["type"] {
			case policyserver.EventType:
				policies = append(policies, M{"state_key": m["state_key"], "content": m["content"]})
			case "m.room.member":
				if c, _ := m["content"].(M); c != nil && c["membership"] == "join" {
					sk, _ := m["state_key"].(string)
					joined = append(joined, sk)
				}
			}
		}
		out["policy_events"] = policies
		out["joined"] = joined
	} else {
		out["ps"] = ex.Request.PS
		out["response"] = *ex.Request.Response
	}
	out["event"] = shortEvent(ex.Request.Event)
	return out
}

func shortEvent(raw string) any {
	var m M
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return difftool.Clip(raw, 200)
	}
	for _, k := range []string{"auth_events", "prev_events", "hashes", "depth", "origin_server_ts", "room_id"} {
		delete(m, k)
	}
	if c, ok := m["content"].(map[string]any); ok {
		if p, ok := c["pad"].(string); ok {
			c["pad"] = fmt.Sprintf("(%d bytes of x)", len(p))
		}
	}
	return m
}

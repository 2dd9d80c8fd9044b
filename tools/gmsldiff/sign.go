package main

// Area sign: event signatures. Corpus events relabelled into every version, signed with
// signing.SignEvent/CountersignEvent, mutated, then verified by signing.VerifyEvent and by GMSL
// (NewEventFromUntrustedJSON + VerifyEventSignatures with a KeyRing): valid / redact / reject.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var signArea = &Area{
	Name:     "sign",
	Title:    "signing.VerifyEvent vs GMSL VerifyEventSignatures (+ Redacted()): valid / redact / reject",
	Unit:     "corpus events, each signed in v1-11 in ~35 scenarios",
	DefaultN: 120,
	Run:      runSign,
	Classes: []*Class{
		{ID: "S1-invite-needs-invitee-signature", Cat: GMSLDeparts, Desc: "v3+ invite of a user on another server, signed by the sender's server only: GMSL requires the invited server's signature",
			Spec: "server-server-api.md \"Validating hashes and signatures on received events\": from v3 only the originating server's signature is required (the /invite flow is another matter)"},
		{ID: "S2-3pid-invite-other-signer", Cat: SpecSilent, Desc: "third-party invite signed by a server other than the sender's: roomproto accepts (some server must sign), GMSL wants the sender's and invitee's",
			Spec: "server-server-api.md (3rd party invites: \"the server which actually sends the event may be a different server\"); decisions.md (signing) 6"},
		{ID: "S3-every-known-key-must-verify", Cat: SpecSilent, Desc: "a second signature by a known key that does not verify: roomproto rejects, GMSL accepts one good key",
			Spec: "server-server-api.md \"If all signatures from known unexpired keys ... are found to be valid\"; decisions.md (signing) 4"},
		{ID: "S4-padded-base64", Cat: GMSLDeparts, Desc: "a padded signature or content hash: roomproto accepts, GMSL refuses (reject or redact)",
			Spec: "appendices.md \"Unpadded Base64\": \"SHOULD accept input with or without padding characters\"; decisions.md (signing) 1"},
		{ID: "S5-authoriser-without-server", Cat: SpecSilent, Desc: "v8+ join whose join_authorised_via_users_server is \"@x:\": roomproto refuses it as malformed, GMSL skips the empty server",
			Spec: "v8-auth-rules.md 4.2.1 (\"validly signed by the homeserver of the user ID denoted by the key\": @x: names none); decisions.md (signing) 5"},
		{ID: "S6-content-deleted", Cat: GMSLDeparts, Desc: "content removed after signing: roomproto refuses a non-PDU, GMSL accepts it as redacted",
			Spec: "pdu_base.yaml requires content; server-server-api.md \"Checks performed on receipt of a PDU\" (the event format of the room version)"},
	},
}

var signServers = []string{"a.example", "b.example", "c.example", "b.example:8448", "c.example:8448"}

// signKeys says which keys each side knows.
type signKeys struct {
	withKey2   bool   // the "ed25519:2" keys too
	validUntil int64  // 0: no expiry
	unknown    string // this server's keys are unknown
}

func (ks signKeys) rings() (*gmsl.KeyRing, signing.KeyRing) {
	db := keyDB{servers: map[string]bool{}, withKey2: ks.withKey2, validUntil: ks.validUntil}
	rp := signing.KeyRing{}
	for _, s := range signServers {
		if s == ks.unknown {
			continue
		}
		db.servers[s] = true
		rp[s] = map[string]signing.PublicKey{"ed25519:1": {Key: authgen.KeyFor(s, "1").Public(), ValidUntilTS: ks.validUntil}}
		if ks.withKey2 {
			rp[s]["ed25519:2"] = signing.PublicKey{Key: authgen.KeyFor(s, "2").Public(), ValidUntilTS: ks.validUntil}
		}
	}
	return &gmsl.KeyRing{KeyDatabase: db}, rp
}

func rpSignVerdict(ver string, ev []byte, ring signing.KeyRing) string {
	err := signing.VerifyEvent(authgen.Version(ver), ev, ring)
	switch {
	case err == nil:
		return "valid"
	case signing.Redactable(err):
		return "redact"
	}
	for _, e := range []error{signing.ErrMalformed, signing.ErrMissingSignature, signing.ErrUnknownKey, signing.ErrKeyExpired, signing.ErrBadSignature, signing.ErrNoContentHash} {
		if errors.Is(err, e) {
			return "reject(" + e.Error() + ")"
		}
	}
	return "reject(" + err.Error() + ")"
}

func gSignVerdict(ver string, ev []byte, ring *gmsl.KeyRing) string {
	v, err := safe(func() (string, error) {
		p, err := gVersion(ver).NewEventFromUntrustedJSON(ev)
		if err != nil {
			return "reject(parse)", nil
		}
		if err := gmsl.VerifyEventSignatures(context.Background(), p, ring, userIDForSender); err != nil {
			return "reject(signature)", nil
		}
		if p.Redacted() {
			return "redact", nil
		}
		return "valid", nil
	})
	if err != nil {
		return "PANIC"
	}
	return v
}

func coarse(v string) string {
	if strings.HasPrefix(v, "reject") {
		return "reject"
	}
	return v
}

// signExpected maps a scenario and the pair of coarse verdicts to its class.
var signExpected = map[[3]string]string{
	{"invite, invitee server has not signed", "valid", "reject"}:                  "S1-invite-needs-invitee-signature",
	{"3pid invite signed by the sender", "valid", "reject"}:                       "S1-invite-needs-invitee-signature",
	{"3pid invite signed only by another server", "valid", "reject"}:              "S2-3pid-invite-other-signer",
	{"extra known-key signature that does not verify", "reject", "valid"}:         "S3-every-known-key-must-verify",
	{"signature padded base64", "valid", "reject"}:                                "S4-padded-base64",
	{"content hash padded base64 (re-signed)", "valid", "redact"}:                 "S4-padded-base64",
	{"join with odd join_authorised_via_users_server \"@x:\"", "reject", "valid"}: "S5-authoriser-without-server",
	{"random: delete top content", "reject", "redact"}:                            "S6-content-deleted",
}

func runSign(t *Tally, n int, seed int64) {
	c, err := loadCorpus()
	if err != nil {
		t.Problem("harness: corpus: "+err.Error(), corpusPath)
		return
	}
	for _, s := range []string{"a.example", "b.example", "c.example"} {
		if difftool.B64(authgen.KeyFor(s, "1").Public()) != c.Keys[s]["ed25519:1"] {
			t.Problem("harness: corpus key convention", s)
		}
	}
	r := rand.New(rand.NewSource(seed))
	var bases []M
	for _, raw := range c.Events {
		bases = append(bases, difftool.Decode(raw))
	}
	type ringPair struct {
		g  *gmsl.KeyRing
		rp signing.KeyRing
	}
	rings := map[signKeys]ringPair{}
	compare := func(scenario, ver string, ev []byte, ks signKeys) {
		rp, ok := rings[ks]
		if !ok {
			rp.g, rp.rp = ks.rings()
			rings[ks] = rp
		}
		rv := rpSignVerdict(ver, ev, rp.rp)
		gv := gSignVerdict(ver, ev, rp.g)
		if coarse(rv) == coarse(gv) {
			t.Agree()
			return
		}
		cls := signExpected[[3]string{scenario, coarse(rv), coarse(gv)}]
		t.Diverge(cls, fmt.Sprintf("%s: rp %s / gmsl %s", scenario, rv, gv), fmt.Sprintf("v%s %s: roomproto %s, GMSL %s\n%s", ver, scenario, rv, gv, ev))
	}
	for it := 0; it < n; it++ {
		base := difftool.Pick(r, bases...)
		for _, ver := range versions {
			m := prepareSigned(base, ver, r)
			sender := difftool.DomainOf(m["sender"].(string))
			other := "c.example"
			if sender == "c.example" {
				other = "b.example"
			}
			delete(m["content"].(M), "join_authorised_via_users_server")
			member := m["type"] == "m.room.member"
			ev := signAs(ver, m, sender)
			none := signKeys{}
			compare("signed by the sender", ver, ev, none)
			compare("redactable content key changed", ver, setPath(ev, func(x M) { x["content"].(M)["zzz"] = "new" }), none)
			compare("top-level unknown key added", ver, setPath(ev, func(x M) { x["zzz"] = "new" }), none)
			compare("unsigned changed", ver, setPath(ev, func(x M) { x["unsigned"] = M{"age": 5} }), none)
			compare("origin_server_ts changed", ver, setPath(ev, func(x M) { x["origin_server_ts"] = json.Number("1700000000001") }), none)
			compare("depth changed", ver, setPath(ev, func(x M) { x["depth"] = json.Number("77") }), none)
			compare("origin changed", ver, setPath(ev, func(x M) { x["origin"] = "z.example" }), none)
			compare("hashes changed", ver, setPath(ev, func(x M) { x["hashes"] = M{"sha256": difftool.B64(make([]byte, 32))} }), none)
			if member {
				compare("membership changed", ver, setPath(ev, func(x M) { x["content"].(M)["membership"] = "leave" }), none)
				for _, ms := range []string{"join", "leave", "invite", "knock"} {
					mm := difftool.CopyM(m)
					mm["content"].(M)["membership"] = ms
					mm["content"].(M)["join_authorised_via_users_server"] = "@auth:" + other
					compare(ms+" with an authoriser that has not signed", ver, signAs(ver, mm, sender), none)
					compare(ms+" with an authoriser that has signed", ver, signAs(ver, mm, sender, other), none)
					compare(ms+" with an authoriser that has signed, its key unknown", ver, signAs(ver, mm, sender, other), signKeys{unknown: other})
					for _, odd := range []any{json.Number("5"), "noserver", "@x:", nil, []any{"@a:" + other}} {
						mm["content"].(M)["join_authorised_via_users_server"] = odd
						compare(fmt.Sprintf("%s with odd join_authorised_via_users_server %s", ms, difftool.Enc(odd)), ver, signAs(ver, mm, sender, other), none)
					}
				}
				mm := difftool.CopyM(m)
				mm["content"].(M)["membership"] = "invite"
				mm["state_key"] = "@invitee:" + other
				compare("invite, invitee server has not signed", ver, signAs(ver, mm, sender), none)
				compare("invite, invitee server has signed", ver, signAs(ver, mm, sender, other), none)
				mm["content"].(M)["third_party_invite"] = M{"display_name": "x", "signed": M{"mxid": "@invitee:" + other, "token": "t", "signatures": M{}}}
				compare("3pid invite signed only by another server", ver, signAs(ver, mm, other), none)
				compare("3pid invite signed by the sender", ver, signAs(ver, mm, sender), none)
			}
			if ver == "1" || ver == "2" {
				mm := difftool.CopyM(m)
				mm["event_id"] = "$x:" + other
				compare("v1-2 event_id domain has not signed", ver, signAs(ver, mm, sender), none)
				compare("v1-2 event_id domain has signed", ver, signAs(ver, mm, sender, other), none)
				mm["event_id"] = "$x:" + other + ":8448"
				compare("v1-2 event_id domain with port, signed as host:port", ver, signAs(ver, mm, sender, other+":8448"), none)
				mm["event_id"] = "$nodomain"
				compare("v1-2 event_id without domain", ver, signAs(ver, mm, sender), none)
			}
			bad := setPath(ev, func(x M) {
				s := x["signatures"].(M)[sender].(M)
				s["ed25519:2"] = s["ed25519:1"]
			})
			compare("extra known-key signature that does not verify", ver, bad, signKeys{withKey2: true})
			compare("extra signature by an unknown key ID", ver, bad, none)
			compare("sender's server key unknown", ver, ev, signKeys{unknown: sender})
			for _, padded := range []bool{true, false} {
				recode := func(s string) string {
					b, _ := base64.RawStdEncoding.DecodeString(s)
					if padded {
						return base64.StdEncoding.EncodeToString(b)
					}
					return difftool.B64URL(b)
				}
				name := map[bool]string{true: "padded", false: "URL-safe"}[padded]
				compare("signature "+name+" base64", ver, setPath(ev, func(x M) {
					s := x["signatures"].(M)[sender].(M)
					s["ed25519:1"] = recode(s["ed25519:1"].(string))
				}), none)
				e3 := setPath(ev, func(x M) {
					h := x["hashes"].(M)
					h["sha256"] = recode(h["sha256"].(string))
				})
				compare("content hash "+name+" base64 (re-signed)", ver, resign(ver, e3, sender), none)
			}
			compare("key valid_until_ts < origin_server_ts", ver, ev, signKeys{validUntil: 1700000000000 - 1})
			compare("key valid_until_ts == origin_server_ts", ver, ev, signKeys{validUntil: 1700000000000})
			for k := 0; k < 5; k++ {
				name, e2 := randomMutation(r, ev)
				compare("random: "+name, ver, e2, none)
			}
		}
	}
}

// prepareSigned turns a corpus event into an unsigned event of version ver.
func prepareSigned(base M, ver string, r *rand.Rand) M {
	m := difftool.CopyM(base)
	delete(m, "signatures")
	delete(m, "hashes")
	relabel(m, ver, r)
	if ver == "1" || ver == "2" {
		m["event_id"] = fmt.Sprintf("$ev%d:%s", r.Intn(1000), difftool.DomainOf(m["sender"].(string)))
	}
	return m
}

func signAs(ver string, m M, signers ...string) []byte {
	return authgen.SignAll(authgen.Version(ver), encodeStyled(m, style{}), signers)
}

func setPath(ev []byte, f func(m M)) []byte {
	m := difftool.Decode(ev)
	f(m)
	return encodeStyled(m, style{})
}

// resign signs an event again after its hashes changed, keeping them.
func resign(ver string, ev []byte, sender string) []byte {
	m := difftool.Decode(ev)
	delete(m, "signatures")
	out, err := signing.CountersignEvent(authgen.Version(ver), encodeStyled(m, style{}), sender, authgen.KeyFor(sender, "1"))
	if err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return out
}

func randomMutation(r *rand.Rand, ev []byte) (string, []byte) {
	m := difftool.Decode(ev)
	keys := difftool.SortedKeys(m)
	c, _ := m["content"].(M)
	ck := difftool.SortedKeys(c)
	switch r.Intn(4) {
	case 0:
		k := difftool.Pick(r, keys...)
		delete(m, k)
		return "delete top " + k, encodeStyled(m, style{})
	case 1:
		if len(ck) == 0 {
			return "none", ev
		}
		k := difftool.Pick(r, ck...)
		c[k] = "mutated"
		return "change content " + k, encodeStyled(m, style{})
	case 2:
		if len(ck) == 0 {
			return "none", ev
		}
		k := difftool.Pick(r, ck...)
		delete(c, k)
		return "delete content " + k, encodeStyled(m, style{})
	default:
		k := difftool.Pick(r, keys...)
		s, ok := m[k].(string)
		if !ok {
			return "none", ev
		}
		m[k] = s + "x"
		return "change top " + k, encodeStyled(m, style{})
	}
}

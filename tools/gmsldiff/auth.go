package main

// Area auth: roomproto authrules.Check against gomatrixserverlib Allowed, on random rooms and
// candidate events, with the auth events roomproto selects (or a perturbed list).

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var authArea = &Area{
	Name:     "auth",
	Title:    "authrules.Check vs GMSL Allowed (plus VerifyEventSignatures where rule 4.2.1 applies)",
	Unit:     "candidate events",
	DefaultN: 50000,
	Run:      runAuth,
	Classes: []*Class{
		{ID: "G-auth-events-rule2", Cat: GMSLDeparts, Desc: "GMSL has no rule 2.1/2.2: duplicate or unselected auth events are tolerated (its map keeps the last duplicate)",
			Spec: "rooms/fragments/v8-auth-rules.md 2.1 \"duplicate entries for a given type and state_key\", 2.2 \"entries whose type and state_key don't match ... the auth events selection\""},
		{ID: "G-leave-from-none-or-leave", Cat: GMSLDeparts, Desc: "GMSL treats no membership as leave and allows leave -> leave (its NOTSPEC)",
			Spec: "v8-auth-rules.md 4.5.1 \"allow if and only if that user's current membership state is invite, join, or knock\""},
		{ID: "G-aliases-special-case-v6plus", Cat: GMSLDeparts, Desc: "GMSL keeps the m.room.aliases special case after v5",
			Spec: "rooms/v6.md \"Rule 4, which related specifically to events of type m.room.aliases, is removed\""},
		{ID: "G-3pid-ban-or-sender-unchecked", Cat: GMSLDeparts, Desc: "third-party invite: GMSL checks neither a banned target nor the sender of the m.room.third_party_invite",
			Spec: "v8-auth-rules.md 4.4.1.1 \"If target user is banned, reject\", 4.4.1.6 \"If sender does not match sender of the m.room.third_party_invite, reject\""},
		{ID: "G-pl-defaults-or-ge-compare", Cat: GMSLDeparts, Desc: "power level changes: GMSL compares defaulted values and uses >= for notifications (added/removed named levels: decisions.md (authrules) \"an added or removed named level\")",
			Spec: "v8-auth-rules.md 9.4-9.7 (\"each entry being changed in, or removed from\"; \"added to, or changed in\")"},
		{ID: "C-pl-value-beyond-int64", Cat: SpecSilent, Desc: "power level values beyond int64 (v1-9): GMSL fails to parse or wraps them; roomproto compares exactly",
			Spec: "rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md (no range); decisions.md (authrules) \"Power level values before v10\""},
		{ID: "G-first-join-needs-sender-eq-target", Cat: GMSLDeparts, Desc: "first join after the create event: GMSL also requires sender == state_key",
			Spec: "v8-auth-rules.md 4.3.1 \"If the only previous event is an m.room.create and the state_key is the creator, allow\""},
		{ID: "G-creator-is-create-sender", Cat: GMSLDeparts, Desc: "v1-10: GMSL takes the create event's sender as the creator, not content.creator",
			Spec: "v8-auth-rules.md 1.4/4.3.1 and m.room.power_levels.yaml (creator = content.creator before v11); decisions.md (authrules) \"Creators\""},
		{ID: "G-unban-ignores-kick-and-target", Cat: GMSLDeparts, Desc: "unban: GMSL checks only the ban level",
			Spec: "v8-auth-rules.md 4.5.3-4.5.5 and its note: unban needs the kick and ban levels and more than the target's level"},
		{ID: "G-authoriser-signature-joins-only", Cat: GMSLDeparts, Desc: "join_authorised_via_users_server on a non-join membership: GMSL requires the authoriser's signature on joins only",
			Spec: "v8-auth-rules.md 4.2.1 (under rule 4, before the membership cases); decisions.md (authrules) \"Rule 4.2.1 applies to every membership\""},
		{ID: "C-create-room-version-12", Cat: SpecSilent, Desc: "a create event with room_version \"12\": roomproto knows v12, this GMSL does not",
			Spec: "v8-auth-rules.md 1.3 \"not a recognised version\"; decisions.md (authrules) \"Rule 1.3\""},
		{ID: "G-users_default-unchecked", Cat: GMSLDeparts, Desc: "GMSL does not check changes of users_default",
			Spec: "v8-auth-rules.md 9.3 \"For the properties users_default, ... check if they were added, changed or removed\""},
		{ID: "G-join-matrix-invite-join-always-ok", Cat: GMSLDeparts, Desc: "GMSL lets an invited or joined user join under any join rule (private, undefined knock/knock_restricted)",
			Spec: "v8-auth-rules.md 4.3.4-4.3.7 (only invite/knock/restricted rules allow it; otherwise reject)"},
		{ID: "G-3pid-public_key-ignored", Cat: GMSLDeparts, Desc: "GMSL reads only public_keys, not the m.room.third_party_invite's public_key",
			Spec: "v8-auth-rules.md 4.4.1.7 \"A single public key in the public_key property\""},
		{ID: "G-join-matrix-knock-public-rejected", Cat: GMSLDeparts, Desc: "GMSL refuses knock -> join in a public room",
			Spec: "v8-auth-rules.md 4.3.6 \"If the join_rule is public, allow\""},
		{ID: "G-v1v2-redaction-domain", Cat: GMSLDeparts, Desc: "v1-2 redaction: GMSL compares the sender's domain, not the event IDs' domains",
			Spec: "rooms/fragments/v1-auth-rules.md 11.2 \"the domain of the event_id of the event being redacted is the same as the domain of the event_id of the m.room.redaction\""},
		{ID: "C-v1-5-notifications-not-validated", Cat: SpecSilent, Desc: "v1-5: GMSL refuses a power levels event whose notifications it cannot parse; no v1-5 rule reads notifications",
			Spec: "v1-auth-rules.md 10 (only users is validated); decisions.md (authrules) \"Power level values before v10\""},
		{ID: "G-events-third_party_invite-unchecked", Cat: GMSLDeparts, Desc: "GMSL skips events[\"m.room.third_party_invite\"] when checking power level changes",
			Spec: "v8-auth-rules.md 9.4/9.5 (every entry of events)"},
		{ID: "G-v11-create-not-checked", Cat: GMSLDeparts, Desc: "v11: GMSL does not check a create event's room_version",
			Spec: "rooms/v11.md \"If content.room_version is present and is not a recognised version, reject\""},
		{ID: "G-v10-null-level-accepted", Cat: GMSLDeparts, Desc: "v10+: GMSL accepts null power levels (json null into int64 is a no-op)",
			Spec: "rooms/v10.md 9.1/9.2 \"present and not an integer, reject\""},
		{ID: "G-v11-signature-over-tpi-signed", Cat: GMSLDeparts, Desc: "v11 invite with a third_party_invite (and a rule 4.2.1 signature check): GMSL's v11 redaction drops third_party_invite.signed, so the sender's signature fails",
			Spec: "rooms/fragments/v11-redactions.md \"it allows the signed key of the third_party_invite key\" (area redact, R1)"},
		{ID: "G-knock_restricted-before-v10", Cat: GMSLDeparts, Desc: "GMSL honours knock_restricted before v10",
			Spec: "v8-auth-rules.md 4.7.1 \"If the join_rule is anything other than knock, reject\" (knock_restricted is added in rooms/v10.md)"},
	},
}

// authVerdict is one side's answer.
type authVerdict struct {
	allow bool
	rule  string // roomproto's Rejection.Rule
	msg   string
}

// String renders the value for examples.
func (v authVerdict) String() string {
	switch {
	case v.allow:
		return "ALLOW"
	case v.rule != "":
		return "REJECT " + v.rule + " " + v.msg
	}
	return "REJECT " + v.msg
}

func runRPAuth(v roomversion.Version, raw []byte, auth []*authgen.Event) (authVerdict, error) {
	e, err := pdu.Parse(v, raw)
	if err != nil {
		return authVerdict{}, err
	}
	var aes []*pdu.Event
	for _, a := range auth {
		pe, err := pdu.Parse(v, a.Raw)
		if err != nil {
			return authVerdict{}, fmt.Errorf("auth event: %w", err)
		}
		aes = append(aes, pe)
	}
	err = authrules.Check(v, e, aes, nil)
	if err == nil {
		return authVerdict{allow: true}, nil
	}
	var rj *authrules.Rejection
	if errors.As(err, &rj) {
		return authVerdict{rule: rj.Rule, msg: rj.Reason}, nil
	}
	return authVerdict{}, err // not a rejection: an error of the harness
}

func runGMSLAuth(ver string, raw []byte, id string, auth []*authgen.Event, verifySigs bool, ring *gmsl.KeyRing) (authVerdict, error) {
	return safe(func() (authVerdict, error) {
		e, err := gParseTrusted(ver, raw, id)
		if err != nil {
			return authVerdict{}, err
		}
		var aes []gmsl.PDU
		for _, a := range auth {
			pe, err := gParseTrusted(ver, a.Raw, a.ID)
			if err != nil {
				return authVerdict{}, fmt.Errorf("auth event: %w", err)
			}
			aes = append(aes, pe)
		}
		if verifySigs {
			if err := gmsl.VerifyEventSignatures(context.Background(), e, ring, userIDForSender); err != nil {
				return authVerdict{msg: "VerifyEventSignatures: " + err.Error()}, nil
			}
		}
		prov, err := gmsl.NewAuthEvents(aes), nil
		if err := gmsl.Allowed(e, &prov, userIDForSender); err != nil {
			return authVerdict{msg: err.Error()}, nil
		}
		return authVerdict{allow: true}, err
	})
}

// authCase is one comparison, for the classifier and the example.
type authCase struct {
	b     *authgen.Builder
	rm    *authgen.Room
	c     authgen.Cand
	final *authgen.Event
	auth  []*authgen.Event
	pert  string
	rp, g authVerdict
}

func runAuth(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	ring, _ := keyRings(authgen.Servers...)
	for i := 0; i < n; i++ {
		vid := difftool.Pick(r, versions...)
		// From v8 rule 4.2.1 asks for the authoriser's signature, which GMSL checks in
		// VerifyEventSignatures: sign for real from v8.
		b := &authgen.Builder{V: authgen.Version(vid), Ver: difftool.VerNum(vid), R: r, N: i * 1000, Focus: r.Intn(2) == 0, Edge: r.Intn(3) == 0, RealSignFrom: 8}
		perturbed := r.Intn(3) == 0
		rm := b.GenRoom()
		c := b.GenCand(rm)
		final, auth, pert, err := b.Assemble(rm, c, perturbed)
		if err != nil {
			continue // e.g. a v1-2 state key too long: no comparison
		}
		rpv, err := runRPAuth(b.V, final.Raw, auth)
		if err != nil {
			t.Problem("harness: roomproto error: "+err.Error(), string(final.Raw))
			continue
		}
		gv, err := runGMSLAuth(vid, final.Raw, final.ID, auth, c.Opts.Real, ring)
		if err != nil {
			t.Problem("harness: GMSL error: "+err.Error(), string(final.Raw))
			continue
		}
		if rpv.allow == gv.allow {
			t.Agree()
			continue
		}
		ac := &authCase{b: b, rm: rm, c: c, final: final, auth: auth, pert: pert, rp: rpv, g: gv}
		cls := classifyAuth(ac)
		t.Diverge(cls, fmt.Sprintf("v%s %s %s rp=%s gmsl=%s", vid, c.Label, pert, short(rpv), short(gv)), ac.example(vid))
	}
}

func short(v authVerdict) string {
	if v.allow {
		return "ALLOW"
	}
	if v.rule != "" {
		return "REJECT:" + v.rule
	}
	m := v.msg
	if i := strings.IndexAny(m, "\"(0123456789"); i > 0 {
		m = m[:i]
	}
	return "REJECT:" + m
}

func (ac *authCase) example(vid string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%s %s", vid, ac.c.Label)
	if ac.pert != "" {
		fmt.Fprintf(&b, " [%s]", ac.pert)
	}
	fmt.Fprintf(&b, "\nroomproto: %s\nGMSL: %s\nevent: %s", ac.rp, ac.g, shortEvent(ac.final.Raw))
	for _, a := range ac.auth {
		fmt.Fprintf(&b, "\nauth: %s", shortEvent(a.Raw))
	}
	return b.String()
}

// shortEvent drops the fields of a generated event that do not matter to the auth rules.
func shortEvent(raw []byte) string {
	m := difftool.Decode(raw)
	for _, k := range []string{"hashes", "origin_server_ts", "depth", "origin", "room_id", "auth_events"} {
		delete(m, k)
	}
	if s, ok := m["signatures"].(M); ok {
		m["signatures"] = difftool.SortedKeys(s)
	}
	return string(difftool.Enc(m))
}

// creatorOK: the creator, as the spec defines it for the room version, is the create event's
// sender (alice).
func (ac *authCase) creatorOK() bool {
	if ac.b.Ver >= 11 {
		return true
	}
	cr, _ := authgen.ContentOf(ac.rm.Create)["creator"].(string)
	return cr == authgen.Creator
}

func (ac *authCase) hasAuth(typ string) bool {
	for _, a := range ac.auth {
		if a.Type == typ {
			return true
		}
	}
	return false
}

func (ac *authCase) authMembership(user string) string {
	for _, a := range ac.auth {
		if a.Type == "m.room.member" && a.StateKey != nil && *a.StateKey == user {
			ms, _ := authgen.ContentOf(a)["membership"].(string)
			return ms
		}
	}
	return "none"
}

func (ac *authCase) authJoinRule() string {
	for _, a := range ac.auth {
		if a.Type == "m.room.join_rules" {
			jr, _ := authgen.ContentOf(a)["join_rule"].(string)
			return jr
		}
	}
	return "(none)"
}

func hasRulePrefix(rule string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(rule, p) {
			return true
		}
	}
	return false
}

// classifyAuth names the class of a divergence, or "" when none explains it.
func classifyAuth(ac *authCase) string {
	c, rp, g, ver := ac.c, ac.rp, ac.g, ac.b.Ver
	rpAllow, gAllow := rp.allow, g.allow
	target := ""
	if c.StateKey != nil {
		target = *c.StateKey
	}
	ms, _ := c.Content["membership"].(string)
	firstJoin := ms == "join" && len(c.Opts.Prev) == 1 && c.Opts.Prev[0] == ac.rm.Create.ID && target == authgen.Creator

	if !rpAllow && (rp.rule == "2.1" || rp.rule == "2.2") && gAllow {
		return "G-auth-events-rule2"
	}
	// Without a power levels event GMSL gives 100 to the create event's sender (v1-10).
	if c.Type != "m.room.create" && !ac.hasAuth("m.room.power_levels") && !ac.creatorOK() {
		return "G-creator-is-create-sender"
	}
	if c.Type == "m.room.power_levels" && ver <= 5 && rpAllow && !gAllow && strings.Contains(g.msg, "unparseable") {
		if n, ok := c.Content["notifications"].(M); ok {
			if _, isInt := n["room"].(int); !isInt {
				return "C-v1-5-notifications-not-validated"
			}
		}
	}
	if c.Type == "m.room.power_levels" && ver >= 10 && !rpAllow && gAllow && strings.Contains(rp.msg, "null") {
		return "G-v10-null-level-accepted"
	}
	switch c.Type {
	case "m.room.create":
		rv, _ := c.Content["room_version"].(string)
		if rpAllow && !gAllow && rv == "12" {
			return "C-create-room-version-12"
		}
		if !rpAllow && rp.rule == "1.3" && gAllow && ver == 11 {
			return "G-v11-create-not-checked"
		}
	case "m.room.aliases":
		if ver >= 6 {
			return "G-aliases-special-case-v6plus"
		}
	case "m.room.redaction":
		if ver <= 2 {
			return "G-v1v2-redaction-domain"
		}
	case "m.room.power_levels":
		switch {
		case !rpAllow && gAllow && strings.Contains(rp.msg, "users_default"):
			return "G-users_default-unchecked"
		case !rpAllow && gAllow && strings.Contains(rp.msg, "m.room.third_party_invite"):
			return "G-events-third_party_invite-unchecked"
		case !rpAllow && gAllow && hasRulePrefix(rp.rule, "9.3", "10.3", "9.4", "10.4", "9.5", "10.5", "9.6", "10.6", "9.7", "10.7", "9.8", "9.9"):
			return "G-pl-defaults-or-ge-compare"
		case rpAllow && !gAllow && (strings.Contains(g.msg, "notification level") || strings.Contains(g.msg, "change level") || strings.Contains(g.msg, "change user")):
			return "G-pl-defaults-or-ge-compare"
		}
	case "m.room.member":
		old := ac.authMembership(target)
		jr := ac.authJoinRule()
		if _, ok := c.Content["third_party_invite"]; ok && ms == "invite" {
			if !rpAllow && gAllow && (strings.HasSuffix(rp.rule, ".1.6") || strings.HasSuffix(rp.rule, ".1.1")) {
				return "G-3pid-ban-or-sender-unchecked"
			}
			if rpAllow && !gAllow && strings.Contains(g.msg, "Couldn't verify") {
				if _, ok := authgen.ContentOf(ac.rm.TPI)["public_keys"]; !ok {
					return "G-3pid-public_key-ignored"
				}
			}
		}
		if tpi, ok := c.Content["third_party_invite"].(M); ok && tpi["signed"] != nil && ver == 11 && rpAllow && strings.HasPrefix(g.msg, "VerifyEventSignatures: Bad signature") {
			return "G-v11-signature-over-tpi-signed"
		}
		if !rpAllow && gAllow && ms != "join" && strings.HasSuffix(rp.rule, "2.1") && strings.Contains(rp.msg, "no signature") {
			return "G-authoriser-signature-joins-only"
		}
		if firstJoin && rpAllow && !gAllow {
			return "G-first-join-needs-sender-eq-target"
		}
		if firstJoin && !ac.creatorOK() {
			return "G-creator-is-create-sender"
		}
		if ms == "leave" && target == c.Sender && !rpAllow && gAllow && (old == "none" || old == "leave") {
			return "G-leave-from-none-or-leave"
		}
		if ms == "leave" && target != c.Sender && !rpAllow && gAllow && old == "ban" {
			return "G-unban-ignores-kick-and-target"
		}
		if ms == "knock" && !rpAllow && gAllow && jr == "knock_restricted" && ver < 10 {
			return "G-knock_restricted-before-v10"
		}
		if ms == "join" && target == c.Sender {
			switch {
			case !rpAllow && gAllow && (old == "invite" || old == "join"):
				return "G-join-matrix-invite-join-always-ok"
			case rpAllow && !gAllow && old == "knock" && jr == "public":
				return "G-join-matrix-knock-public-rejected"
			case !rpAllow && gAllow && jr == "knock_restricted" && ver < 10:
				return "G-knock_restricted-before-v10"
			}
		}
	}
	for _, e := range append(append([]*authgen.Event{}, ac.auth...), ac.final) {
		if e.Type != "m.room.power_levels" {
			continue
		}
		for _, big := range []string{"99999999999999999999", "1e20", "1e+20", "-1e+20", "-1e20", "9223372036854775808", "100000000000000000000"} {
			if strings.Contains(string(e.Raw), big) {
				return "C-pl-value-beyond-int64"
			}
		}
	}
	return ""
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/memberroom"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// gen draws the cases of a run from its seed.
type gen struct {
	r *rand.Rand
}

func newGen(seed int64) *gen { return &gen{r: rand.New(rand.NewSource(seed))} }

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

var condRooms = []string{"!o1:a.example", "!o2:b.example", "!o3:c.example", "!x:r.example"}

// allowEntry draws one raw JSON entry of `allow`, with a label for its shape.
func (g *gen) allowEntry() (string, string) {
	r := g.pick(condRooms...)
	switch g.r.Intn(26) {
	case 0, 1, 2, 3, 4, 5:
		if g.r.Intn(2) == 0 {
			return fmt.Sprintf(`{"room_id":%q,"type":"m.room_membership"}`, r), "valid"
		}
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q}`, r), "valid"
	case 6:
		return fmt.Sprintf(`{"type":%q,"room_id":%q}`, g.pick("m.room_membershi", "m.space_membership", "M.ROOM_MEMBERSHIP", "", "m.room_membership "), r), "unknown-type"
	case 7:
		return fmt.Sprintf(`{"room_id":%q}`, r), "no-type"
	case 8:
		return fmt.Sprintf(`{"type":%s,"room_id":%q}`, g.pick("1", "null", `["m.room_membership"]`, `{"a":1}`, "true"), r), "type-not-string"
	case 9:
		return `{"type":"m.room_membership"}`, "no-room_id"
	case 10:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%s}`, g.pick("1", "null", "{}", `["!o1:a.example"]`, "false")), "room_id-not-string"
	case 11:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q}`, g.pick("#alias:a.example", "o1:a.example", "", " !o1:a.example", "@o1:a.example")), "room_id-no-sigil"
	case 12:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q}`, g.pick("!", "!abc", "!o1:", "!\u00e9:a.example")), "room_id-odd"
	case 13:
		return `{"type":"m.room_membership","room_id":"!` + strings.Repeat("A", 43) + `"}`, "room_id-v12"
	case 14:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q,"via":["a.example"],"x":{"y":[1,2]}}`, r), "extra-keys"
	case 15:
		return g.pick(`"m.room_membership"`, `1`, `null`, `[]`, `true`, `[{"type":"m.room_membership","room_id":"!o1:a.example"}]`), "not-object"
	case 16:
		return fmt.Sprintf(`{"type":"x","type":"m.room_membership","room_id":%q}`, r), "dupkey-type-last-valid"
	case 17:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q,"type":"x"}`, r), "dupkey-type-last-invalid"
	case 18:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q,"room_id":1}`, r), "dupkey-room_id-last-invalid"
	case 19:
		return `{"type":"m.room\u005fmembership","room\u005fid":"\u0021o1:a.example"}`, "escapes"
	case 20:
		return `{"type":"m.room_membership","room_id":"!o1:a.example","room_id":"!o2:b.example"}`, "dupkey-room_id-both-valid"
	case 21:
		return `{"type":"m.room_membership","room_id":"!o\u0000:a.example"}`, "room_id-nul"
	case 24:
		return fmt.Sprintf(`{%q:"m.room_membership",%q:%q}`, g.pick("Type", "TYPE", "type"), g.pick("Room_ID", "room_Id", "ROOM_ID"), r), "key-case"
	case 25:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q,%q:"!o3:c.example"}`, r, g.pick("Room_ID", "ROOM_ID")), "key-case-after-valid"
	case 22:
		if g.r.Intn(2) == 0 {
			return `{"type":"m.room_membership","room_id":"!o\ud800:a.example"}`, "room_id-lone-surrogate"
		}
		return `{}`, "empty-object"
	default:
		return fmt.Sprintf(`{"type":"m.room_membership","room_id":%q}`, r), "valid"
	}
}

// caseAllow compares ParseAllowConditions on an `m.room.join_rules` content of some shape.
func caseAllow(g *gen) {
	var content, label string
	entries := func(k int) (string, []string) {
		var es, ls []string
		for range k {
			e, l := g.allowEntry()
			es = append(es, e)
			ls = append(ls, l)
		}
		// duplicates
		if len(es) > 0 && g.r.Intn(4) == 0 {
			es = append(es, es[0])
			ls = append(ls, "dup")
		}
		return "[" + strings.Join(es, ",") + "]", ls
	}
	switch k := g.r.Intn(20); {
	case k < 10:
		list, ls := entries(g.r.Intn(7))
		content = `{"join_rule":"restricted","allow":` + list + `}`
		label = "list " + shapes(ls)
	case k < 11:
		var es []string
		m := 1000 + g.r.Intn(1200)
		for i := range m {
			es = append(es, fmt.Sprintf(`{"type":"m.room_membership","room_id":"!r%d:a.example"}`, i))
		}
		if g.r.Intn(2) == 0 {
			es[len(es)-1] = `{"type":"x"}`
		}
		content = `{"join_rule":"restricted","allow":[` + strings.Join(es, ",") + `]}`
		label = "long list"
	case k < 13:
		content = `{"join_rule":"restricted","allow":` + g.pick(`{"type":"m.room_membership","room_id":"!o1:a.example"}`, `"!o1:a.example"`, `1`, `null`, `true`, `{}`) + `}`
		label = "allow not a list"
	case k < 14:
		if g.r.Intn(2) == 0 {
			list, _ := entries(1 + g.r.Intn(2))
			content = `{"join_rule":"restricted","` + g.pick("Allow", "ALLOW", "allow ") + `":` + list + `}`
			label = "allow key case"
			break
		}
		content = `{"join_rule":"restricted"}`
		label = "no allow"
	case k < 15:
		list, _ := entries(1 + g.r.Intn(3))
		if g.r.Intn(2) == 0 {
			content = `{"allow":` + list + `,"join_rule":"restricted","allow":"x"}`
			label = "dup allow, last invalid"
		} else {
			content = `{"allow":"x","join_rule":"restricted","allow":` + list + `}`
			label = "dup allow, last list"
		}
	case k < 16:
		content = g.pick(`[]`, `"restricted"`, `null`, `1`, `[{"allow":[]}]`, `true`)
		label = "content not an object"
	case k < 17:
		list, _ := entries(2)
		c := `{"join_rule":"restricted","allow":` + list + `}`
		switch g.r.Intn(5) {
		case 0:
			content, label = c[:len(c)-1], "truncated"
		case 1:
			content, label = c+"x", "trailing garbage"
		case 2:
			content, label = "\ufeff"+c, "BOM"
		case 3:
			content, label = " \n\t"+c+" \r\n", "whitespace"
		default:
			content, label = c+c, "two values"
		}
	case k < 18:
		content = `{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!o1:a.example` + "\xff" + `"},{"type":"m.room_membership","room_id":"!o2:b.example"}]}`
		label = "invalid UTF-8 in room_id"
	case k < 19:
		content = `{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!o1:a.example","n":1.5e400},{"type":"m.room_membership","room_id":"!o2:b.example","n":-0}]}`
		label = "odd numbers"
	default:
		content = `{"join_rule":"restricted","allow":[` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,{"type":"m.room_membership","room_id":"!o2:b.example"}]}`
		label = "deep nesting"
	}
	a, ok := call(M{"op": "parse_allow", "b64": b64([]byte(content))})
	if !ok {
		return
	}
	compared++
	tally["ParseAllowConditions"]++
	var conds []membership.AllowCondition
	var err error
	if p := protect(func() { conds, err = membership.ParseAllowConditions([]byte(content)) }); p != "" {
		report("PANIC", "", "ParseAllowConditions", label, p, "", content, a.Amb)
		return
	}
	if (err != nil) != a.Err {
		if strings.HasPrefix(label, "list ") {
			label = "list"
		}
		report("VERDICT", "", "ParseAllowConditions", label, fmt.Sprintf("err=%v conds=%v", err, conds), fmt.Sprintf("err=%v (%s) conds=%s", a.Err, a.Why, condsString(a.Conds)), content, a.Amb)
		return
	}
	if err != nil {
		return
	}
	oc := label
	if strings.HasPrefix(label, "list ") {
		oc = "list"
	}
	outcomes[fmt.Sprintf("ParseAllowConditions %s -> %d conditions", oc, min(len(conds), 3))]++
	got := [][]string{}
	for _, c := range conds {
		got = append(got, []string{c.Type, surrogates(c.RoomID)})
	}
	want := a.Conds
	if want == nil {
		want = [][]string{}
	}
	if !reflect.DeepEqual(got, want) {
		if strings.HasPrefix(label, "list ") {
			label = "list"
		}
		report("OUTPUT", "", "ParseAllowConditions", label, condsString(got), condsString(want), content, a.Amb)
	}
}

// surrogates replaces each UTF-8-encoded surrogate (ED A0..BF xx), which roomproto keeps for an
// unpaired surrogate escape (docs/decisions.md, canonicaljson 18), by U+FFFD, which is what a
// lone surrogate of the reference becomes on the pipe.
func surrogates(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0xED && i+2 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF {
			sb.WriteString("\ufffd")
			i += 2
			continue
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

func shapes(ls []string) string {
	seen := map[string]bool{}
	var out []string
	for _, l := range ls {
		if l != "valid" && l != "dup" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return "(valid)"
	}
	return strings.Join(out, "+")
}

// caseEvaluate compares EvaluateConditions on a few conditions and what the server knows.
func caseEvaluate(g *gen) {
	user := g.pick("@joe:a.example", "@lou:r.example", "@ann:b.example")
	var conds []membership.AllowCondition
	var rc [][]string
	odd := false
	for range g.r.Intn(6) {
		c := membership.AllowCondition{Type: membership.ConditionRoomMembership, RoomID: g.pick(condRooms...)}
		if g.r.Intn(25) == 0 {
			c.Type = g.pick("m.other", "")
			odd = true
		}
		if g.r.Intn(25) == 0 {
			c.RoomID = g.pick("", "o1:a.example")
			odd = true
		}
		conds = append(conds, c)
		rc = append(rc, []string{c.Type, c.RoomID})
	}
	var rooms membership.RoomMemberships
	var refRooms any
	label := "known-rooms"
	if g.r.Intn(15) == 0 {
		rooms, refRooms, label = nil, nil, "nil-interface"
	} else {
		kr := membership.KnownRooms{}
		if g.r.Intn(12) == 0 {
			kr, label = nil, "nil-map"
		}
		if kr != nil {
			for _, room := range condRooms {
				if g.r.Intn(3) == 0 {
					continue // unknown
				}
				if g.r.Intn(15) == 0 {
					kr[room] = nil
					continue
				}
				ms := map[string]string{}
				for _, u := range []string{"@joe:a.example", "@lou:r.example", "@ann:b.example"} {
					if m := g.pick("join", "invite", "leave", "ban", "knock", "-", "-", "JOIN", ""); m != "-" {
						ms[u] = m
					}
				}
				kr[room] = ms
			}
		}
		rooms, refRooms = kr, kr
	}
	own := g.r.Intn(3) == 0
	if odd {
		label += " odd-conditions"
	}
	if own {
		label += " own"
	}
	a, ok := call(M{"op": "evaluate", "conds": rc, "user": user, "rooms": refRooms, "own": own})
	if !ok {
		return
	}
	compared++
	tally["EvaluateConditions"]++
	var res membership.ConditionsResult
	in := M{"conds": rc, "user": user, "rooms": refRooms, "knowsOwnUsers": own}
	if p := protect(func() { res = membership.EvaluateConditions(conds, user, rooms, own) }); p != "" {
		report("PANIC", "", "EvaluateConditions", label, p, "", in, a.Amb)
		return
	}
	got := fmt.Sprintf("met=%v sat=%v unver=%v", res.Met, satOf(res), nz(res.Unverifiable))
	want := fmt.Sprintf("met=%v sat=%v unver=%v", a.Met, a.Sat, nz(a.Unver))
	if !res.Met {
		got = fmt.Sprintf("met=false unver=%v", nz(res.Unverifiable))
		want = fmt.Sprintf("met=%v unver=%v", a.Met, nz(a.Unver))
	}
	outcomes[fmt.Sprintf("EvaluateConditions met=%v unverifiable=%d", res.Met, len(res.Unverifiable))]++
	if got != want {
		report("OUTPUT", "", "EvaluateConditions", label, got, want, in, a.Amb)
	}
}

func satOf(r membership.ConditionsResult) []string {
	return []string{r.Satisfied.Type, r.Satisfied.RoomID}
}

func nz(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

var messages = []string{"You are not invited to this room", "", "<script>&amp;'\"", "quote\"back\\slash/",
	"line\nbreak\ttab\r", "\u2028\u2029", "\x00\x01\x1f\x7f", "é😀 \u00a0", "\xff\xfe bad utf-8"}

// caseDecision compares DecisionJSON on a decision or an error.
func caseDecision(g *gen) {
	var d membership.JoinDecision
	var err error
	req := M{"op": "decision"}
	label := ""
	switch k := g.r.Intn(10); {
	case k < 4:
		d.Basis = membership.Basis(g.r.Intn(6))
		if d.Basis == membership.BasisCondition || g.r.Intn(6) == 0 {
			d.AuthorisingUser = g.pick("@mod:r.example", "", "@<&>:r.example", "@é:r.example", "@a\u2028:r.example", "@a\x01:r.example")
			d.Condition = membership.AllowCondition{Type: membership.ConditionRoomMembership, RoomID: "!o1:a.example"}
		}
		req["basis"], req["auth"], req["err"] = int(d.Basis), d.AuthorisingUser, nil
		label = fmt.Sprintf("allow basis=%d auth=%v", d.Basis, d.AuthorisingUser != "")
	default:
		e := &membership.Error{
			Status:  []int{400, 403, 400, 400, 403, 500, 502, 404, 0, 200}[g.r.Intn(10)],
			ErrCode: g.pick("M_FORBIDDEN", "M_UNABLE_TO_AUTHORISE_JOIN", "M_UNABLE_TO_GRANT_JOIN", "M_INCOMPATIBLE_ROOM_VERSION", "M_INVALID_PARAM", "M_BAD_JSON", "M_UNKNOWN", ""),
			Message: g.pick(messages...),
			Reason:  membership.ErrNoCondition,
		}
		if e.ErrCode == membership.ErrCodeIncompatibleRoomVersion || g.r.Intn(10) == 0 {
			e.RoomVersion = g.pick("9", "12", "")
		}
		kind := "membership"
		switch g.r.Intn(12) {
		case 0:
			kind = "wrapped"
			err = fmt.Errorf("context: %w", e)
		case 1:
			kind = "other"
			err = errors.New(g.pick("disk on fire", "<&>", ""))
		case 2:
			if !nilErr {
				err = e
				break
			}
			kind = "nilptr"
			err = (*membership.Error)(nil)
		default:
			err = e
		}
		d = membership.JoinDecision{Basis: membership.Basis(g.r.Intn(5))}
		req["err"] = M{"kind": kind, "status": e.Status, "errcode": e.ErrCode, "message": perByteValid(e.Message),
			"room_version": e.RoomVersion, "bad_utf8": !utf8.ValidString(e.Message)}
		req["basis"] = int(d.Basis)
		label = fmt.Sprintf("reject %s rv=%v", kind, e.RoomVersion != "")
	}
	a, ok := call(req)
	if !ok {
		return
	}
	compared++
	tally["DecisionJSON"]++
	var out []byte
	in := M{"decision": M{"basis": int(d.Basis), "auth": d.AuthorisingUser}, "err": req["err"]}
	if p := protect(func() { out = membership.DecisionJSON(d, err) }); p != "" {
		report("PANIC", "", "DecisionJSON", label, p, "", in, a.Amb)
		return
	}
	if a.Any {
		if len(a.Either) > 0 {
			tally["undecided (either answer accepted) DecisionJSON "+strings.Join(a.Either, ",")]++
		}
		if !json.Valid(out) {
			report("OUTPUT", "", "DecisionJSON", label, string(out), "(valid JSON)", in, a.Amb)
		}
		return
	}
	want := *a.JSON
	got := string(out)
	if a.AnyErrorText {
		var m map[string]any
		if json.Unmarshal(out, &m) == nil {
			if _, has := m["error"]; has {
				m["error"] = "*"
			}
			got = string(canon(m))
		}
	}
	if got != want {
		report("OUTPUT", "", "DecisionJSON", label, got, want, in, a.Amb)
	}
}

// perByteValid replaces each invalid byte of s by U+FFFD, as encoding/json does.
func perByteValid(s string) string {
	var sb strings.Builder
	for _, r := range s {
		sb.WriteRune(r)
	}
	return sb.String()
}

// canon is a small canonical JSON encoder for the harness's own comparisons (no HTML escaping,
// sorted keys).
func canon(v any) []byte {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return []byte(strings.TrimSuffix(sb.String(), "\n"))
}

// caseMake compares CheckMakeRequest.
func caseMake(g *gen) {
	vid := g.pick(pyref.Versions...)
	v, _ := roomversion.Lookup(vid)
	var ver []string
	verLabel := "nil"
	switch g.r.Intn(9) {
	case 0:
	case 1:
		ver, verLabel = []string{}, "empty"
	case 2:
		ver, verLabel = []string{vid}, "exact"
	case 3:
		ver, verLabel = []string{"1"}, "default-1"
	case 4:
		ver, verLabel = append([]string{}, pyref.Versions...), "all"
	case 5:
		ver, verLabel = []string{vid + " ", "0" + vid, "v" + vid}, "near-misses"
	case 6:
		for _, x := range pyref.Versions {
			if x != vid {
				ver = append(ver, x)
			}
		}
		verLabel = "all-but"
	case 7:
		ver, verLabel = []string{vid, vid, "org.example.custom"}, "dups+custom"
	default:
		ver, verLabel = []string{"1", "2", vid}, "with"
	}
	user := g.pick("@joe:a.example", "@joe:a.example", "@joe:A.example", "@joe:a.example:8448", "joe:a.example",
		"@joe", "@:a.example", "@joe:", "@Jo e:a.example", "@joe:a.example\x00", "@joe:b.example", "@joe:[::1]",
		"@"+strings.Repeat("j", 250)+":a.example", "@joe:a.example.")
	origin := g.pick("", "a.example", "a.example", "a.example", "A.example", "b.example", "a.example:8448", "a.example.")
	req := M{"op": "make", "v": vid, "user": user, "origin": origin, "ver": ver}
	if ver == nil {
		req["ver"] = nil
	}
	a, ok := call(req)
	if !ok {
		return
	}
	compared++
	tally["CheckMakeRequest v"+vid]++
	label := fmt.Sprintf("ver=%s user=%q origin=%q", verLabel, user, origin)
	var err error
	if p := protect(func() { err = membership.CheckMakeRequest(v, user, origin, ver) }); p != "" {
		report("PANIC", vid, "CheckMakeRequest", label, p, "", req, a.Amb)
		return
	}
	me, s := errOf(err)
	outcomes["CheckMakeRequest -> "+strings.SplitN(s, " (", 2)[0]]++
	if (err == nil) != a.OK {
		report("VERDICT", vid, "CheckMakeRequest", label, s, fmt.Sprintf("ok=%v %s", a.OK, codesString(a.Codes)), req, a.Amb)
		return
	}
	if err == nil {
		return
	}
	if me == nil || !codeIn(a.Codes, me.Status, me.ErrCode) {
		report("ERRCODE", vid, "CheckMakeRequest", label, s, codesString(a.Codes), req, a.Amb)
		return
	}
	if !a.RVAny && me.RoomVersion != a.RoomVersion {
		report("OUTPUT", vid, "CheckMakeRequest room_version", label, s, "room_version="+a.RoomVersion, req, a.Amb)
	}
	if me.ErrCode == membership.ErrCodeForbidden && !errors.Is(err, membership.ErrNotFromOrigin) {
		report("REASON", vid, "CheckMakeRequest", label, s, "reason ErrNotFromOrigin", req, a.Amb)
	}
	if me.ErrCode == membership.ErrCodeInvalidParam && !errors.Is(err, membership.ErrBadInput) {
		report("REASON", vid, "CheckMakeRequest", label, s, "reason ErrBadInput", req, a.Amb)
	}
	if me.ErrCode == membership.ErrCodeIncompatibleRoomVersion && !errors.Is(err, membership.ErrIncompatibleVersion) {
		report("OUTPUT", vid, "CheckMakeRequest reason", label, s, "reason ErrIncompatibleVersion", req, a.Amb)
	}
}

// room draws a signed room of version vid (memberroom.Gen).
func (g *gen) room(vid string) *memberroom.Room {
	return memberroom.Gen(g.r, vid, g.r.Intn(3) == 0)
}

var _ = difftool.Enc

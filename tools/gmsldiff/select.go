package main

// Area select: auth events selection. roomproto authrules.AuthEventsNeeded and State.AuthEvents
// against GMSL StateNeededForAuth, StateNeededForProtoEvent and
// StateNeeded.AuthEventReferences, on random events against random states.

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	gmsl "github.com/matrix-org/gomatrixserverlib"
	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var selectArea = &Area{
	Name:     "select",
	Title:    "AuthEventsNeeded / State.AuthEvents vs GMSL StateNeededForAuth / StateNeededForProtoEvent / AuthEventReferences",
	Unit:     "random events, each compared three ways",
	DefaultN: 40000,
	Run:      runSelect,
	Classes:  selectClasses,
}

const selSpec = "server-server-api.md \"Auth events selection\""

var selectClasses = []*Class{
	{ID: "G1-aliases-create-only", Cat: GMSLDeparts, Desc: "m.room.aliases: GMSL selects only the create event, not the power levels and the sender's member event",
		Spec: selSpec + ": the power levels and the sender's member event are selected for every event but the create event"},
	{ID: "G2-case-insensitive-content-keys", Cat: GMSLDeparts, Desc: "GMSL reads Membership, Signed/Token, Join_Authorised_Via_Users_Server as if they were the lower-case keys",
		Spec: selSpec + " names membership, signed.token, join_authorised_via_users_server; JSON keys are exact (m.room.member.yaml)"},
	{ID: "G3-3pi-for-non-invite", Cat: GMSLDeparts, Desc: "GMSL selects the m.room.third_party_invite for memberships other than invite",
		Spec: selSpec + " \"If membership is invite and content contains a third_party_invite property\""},
	{ID: "G4-empty-token-ignored", Cat: GMSLDeparts, Desc: "GMSL selects no m.room.third_party_invite for signed.token \"\" (a valid state key)",
		Spec: selSpec + " (no exception for an empty token)"},
	{ID: "G5-authoriser-before-v8", Cat: GMSLDeparts, Desc: "GMSL selects the authoriser's member event in room versions without restricted joins (v1-7)",
		Spec: selSpec + " \"and the room version supports restricted rooms\""},
	{ID: "G6-authoriser-non-join", Cat: GMSLDeparts, Desc: "GMSL selects the authoriser's member event for memberships other than join",
		Spec: selSpec + " \"If membership is join, content.join_authorised_via_users_server is present ...\""},
	{ID: "G7-empty-authoriser-ignored", Cat: GMSLDeparts, Desc: "GMSL ignores join_authorised_via_users_server \"\" (the key is present: the member event with state_key \"\" is selected)",
		Spec: selSpec + " (the key is present)"},
	{ID: "G8-broken-3pi-stops-selection", Cat: GMSLDeparts, Desc: "GMSL returns before the authoriser step when third_party_invite has no usable token",
		Spec: selSpec + " (the authoriser step does not depend on third_party_invite)"},
	{ID: "P1-builder-refuses-content", Cat: GMSLDeparts, Desc: "StateNeededForProtoEvent errors on member content it cannot decode (membership not a string, third_party_invite without token); the selection is defined all the same",
		Spec: selSpec + " defines the selection of every event; the rules then reject such events"},
}

var selUsers = []string{"@alice:a.test", "@bob:b.test", "@carol:a.test", "@dave:c.test", "@eve:a.test:8448"}

// selEvent is a generated event and the labels of its features.
type selEvent struct {
	m      M
	labels []string
}

func (se selEvent) label(prefix string) string {
	for _, l := range se.labels {
		if strings.HasPrefix(l, prefix+"=") {
			return l
		}
	}
	return prefix + "=-"
}

func oddValue(r *rand.Rand) (any, string) {
	switch r.Intn(7) {
	case 0:
		return 5, "int"
	case 1:
		return nil, "null"
	case 2:
		return []any{"join"}, "array"
	case 3:
		return M{"x": 1}, "object"
	case 4:
		return true, "bool"
	case 5:
		return "", "emptystr"
	}
	return "JOIN", "upper"
}

func genSelEvent(r *rand.Rand, v roomversion.Version, seq int) selEvent {
	se := selEvent{m: M{}}
	lab := func(s string) { se.labels = append(se.labels, s) }
	sender := difftool.Pick(r, selUsers...)
	typ := difftool.Pick(r, "m.room.member", "m.room.member", "m.room.member", "m.room.member", "m.room.member",
		"m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.aliases", "m.room.third_party_invite",
		"m.room.message", "m.room.redaction", "org.example.state", "m.room.name", "m.room.history_visibility")
	content := M{}
	var stateKey any = ""
	hasSK := true
	switch typ {
	case "m.room.member":
		switch x := r.Intn(12); {
		case x < 7:
			ms := difftool.Pick(r, "join", "invite", "leave", "ban", "knock")
			content["membership"] = ms
			lab("ms=" + ms)
		case x == 7:
			lab("ms=absent")
		case x == 8:
			k := difftool.Pick(r, "Membership", "MEMBERSHIP", "memberShip")
			ms := difftool.Pick(r, "join", "invite", "knock")
			content[k] = ms
			lab("ms=casevariant-key:" + ms)
		default:
			ov, l := oddValue(r)
			content["membership"] = ov
			lab("ms=odd:" + l)
		}
		switch x := r.Intn(10); {
		case x < 5:
			stateKey = difftool.Pick(r, selUsers...)
			lab("sk=user")
		case x < 7:
			stateKey = sender
			lab("sk=sender")
		case x == 7:
			stateKey = ""
			lab("sk=empty")
		case x == 8:
			stateKey = "notauser"
			lab("sk=notauser")
		default:
			hasSK = false
			lab("sk=absent")
		}
		if r.Intn(3) == 0 {
			var tpi any
			switch r.Intn(11) {
			case 0, 1, 2:
				tpi = M{"display_name": "x", "signed": M{"mxid": difftool.Pick(r, selUsers...), "token": difftool.Pick(r, "tok1", "tok2"), "signatures": M{"id.test": M{"ed25519:0": "abc"}}}}
				lab("tpi=full")
			case 3:
				tpi = M{"signed": M{"token": "tok1"}}
				lab("tpi=tokenonly")
			case 4:
				tpi = M{"display_name": "x"}
				lab("tpi=nosigned")
			case 5:
				tpi = M{"signed": M{"mxid": "@a:b"}}
				lab("tpi=notoken")
			case 6:
				tpi = M{"signed": M{"token": ""}}
				lab("tpi=emptytoken")
			case 7:
				ov, l := oddValue(r)
				tpi = M{"signed": M{"token": ov}}
				lab("tpi=token-odd:" + l)
			case 8:
				ov, l := oddValue(r)
				tpi = M{"signed": ov}
				lab("tpi=signed-odd:" + l)
			case 9:
				ov, l := oddValue(r)
				tpi = ov
				lab("tpi=odd:" + l)
			default:
				tpi = M{"Signed": M{"Token": "tok1"}}
				lab("tpi=casevariant")
			}
			content["third_party_invite"] = tpi
		}
		if r.Intn(3) == 0 {
			switch r.Intn(8) {
			case 0, 1, 2:
				content["join_authorised_via_users_server"] = difftool.Pick(r, selUsers...)
				lab("auth=user")
			case 3:
				content["join_authorised_via_users_server"] = difftool.Pick(r, "notauser", "@nocolon", "!room:a.test")
				lab("auth=notuserid")
			case 4:
				content["join_authorised_via_users_server"] = ""
				lab("auth=empty")
			case 5:
				content["join_authorised_via_users_server"] = sender
				lab("auth=sender")
			case 6:
				ov, l := oddValue(r)
				content["join_authorised_via_users_server"] = ov
				lab("auth=odd:" + l)
			default:
				content["Join_Authorised_Via_Users_Server"] = difftool.Pick(r, selUsers...)
				lab("auth=casevariant-key")
			}
		}
		if r.Intn(4) == 0 {
			content["displayname"] = "D"
		}
	case "m.room.create":
		content["creator"] = sender
		content["room_version"] = v.ID
	case "m.room.aliases":
		stateKey = "a.test"
		content["aliases"] = []any{"#x:a.test"}
	case "m.room.third_party_invite":
		stateKey = "tok1"
		content["display_name"] = "x"
		content["public_key"] = "AAAA"
	case "m.room.message", "m.room.redaction":
		hasSK = r.Intn(5) == 0 // occasionally a state_key on a message
		content["body"] = "hi"
		if typ == "m.room.redaction" {
			if v.Format.RedactsInContent {
				content["redacts"] = "$x"
			} else {
				se.m["redacts"] = "$x:a.test"
			}
		}
		if !hasSK && r.Intn(3) == 0 {
			// member-like content on a non-member event
			content["membership"] = "join"
			content["join_authorised_via_users_server"] = difftool.Pick(r, selUsers...)
		}
	case "org.example.state":
		stateKey = difftool.Pick(r, "", sender, "@other:x.test", "x")
	case "m.room.power_levels":
		content["users"] = M{sender: 100}
	case "m.room.join_rules":
		content["join_rule"] = "public"
	}
	if typ != "m.room.member" && typ != "m.room.message" && typ != "m.room.redaction" && r.Intn(10) == 0 {
		hasSK = false
		lab("nonstate")
	}
	lab("type=" + typ)
	se.m["type"] = typ
	se.m["sender"] = sender
	se.m["room_id"] = "!room:a.test"
	se.m["content"] = content
	if hasSK {
		se.m["state_key"] = stateKey
	}
	se.m["depth"] = 5
	se.m["origin_server_ts"] = 1700000000000 + seq
	se.m["signatures"] = M{}
	se.m["hashes"] = M{"sha256": "x"}
	if v.Format.ReferencePairs {
		se.m["event_id"] = fmt.Sprintf("$e%d:a.test", seq)
		se.m["prev_events"] = []any{[]any{"$p:a.test", M{"sha256": "aGFzaA"}}}
	} else {
		se.m["prev_events"] = []any{"$p"}
	}
	se.m["auth_events"] = []any{}
	if typ == "m.room.create" {
		se.m["prev_events"] = []any{}
	}
	return se
}

// selState builds a random state: create; power levels and join rules (80%); third-party
// invites under tok1, tok2 and ""; members for the users and for odd state keys (75% each).
func selState(r *rand.Rand, v roomversion.Version, seq int) [][]byte {
	var out [][]byte
	n := 0
	mk := func(typ, sk string, content M) {
		n++
		m := M{"type": typ, "state_key": sk, "sender": "@alice:a.test", "room_id": "!room:a.test", "content": content,
			"depth": n, "origin_server_ts": 1600000000000 + n, "signatures": M{}, "hashes": M{"sha256": "x"},
			"prev_events": []any{}, "auth_events": []any{}}
		if v.Format.ReferencePairs {
			m["event_id"] = fmt.Sprintf("$s%d_%d:a.test", seq, n)
		}
		out = append(out, difftool.Enc(m))
	}
	mk("m.room.create", "", M{"creator": "@alice:a.test", "room_version": v.ID})
	if r.Intn(5) != 0 {
		mk("m.room.power_levels", "", M{"users": M{"@alice:a.test": 100}})
	}
	if r.Intn(5) != 0 {
		mk("m.room.join_rules", "", M{"join_rule": "public"})
	}
	for _, tok := range []string{"tok1", "tok2", ""} {
		if r.Intn(2) == 0 {
			mk("m.room.third_party_invite", tok, M{"display_name": "x", "public_key": "AAAA"})
		}
	}
	for _, u := range append(append([]string{}, selUsers...), "notauser", "", "!room:a.test", "@nocolon") {
		if r.Intn(4) != 0 {
			mk("m.room.member", u, M{"membership": difftool.Pick(r, "join", "invite", "leave", "ban")})
		}
	}
	return out
}

func tupleSet(ks []authrules.StateKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Type+"|"+k.StateKey)
	}
	sort.Strings(out)
	return out
}

func gTupleSet(ts []gmsl.StateKeyTuple) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		s := t.EventType + "|" + t.StateKey
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func setDiff(a, b []string) (onlyA, onlyB []string) {
	ma, mb := map[string]bool{}, map[string]bool{}
	for _, x := range a {
		ma[x] = true
	}
	for _, x := range b {
		mb[x] = true
	}
	for _, x := range a {
		if !mb[x] {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !ma[x] {
			onlyB = append(onlyB, x)
		}
	}
	return
}

// roleOf names what a selected (type, state_key) is to the event.
func roleOf(tuple string, ev M) string {
	typ, sk, _ := strings.Cut(tuple, "|")
	if typ == "m.room.third_party_invite" {
		if sk == "" {
			return `3pi("")`
		}
		return "3pi(token)"
	}
	if typ != "m.room.member" {
		return typ
	}
	content, _ := ev["content"].(M)
	role := "member(other)"
	if av, ok := content["join_authorised_via_users_server"].(string); ok && av == sk {
		role = "member(authoriser)"
	}
	if esk, ok := ev["state_key"].(string); ok && esk == sk {
		role = "member(target)"
	}
	if ev["sender"] == sk {
		role = "member(sender)"
	}
	return role
}

// selCause names the class of one tuple selected by one side only ("rp" or "gmsl").
func selCause(side, role string, se selEvent, v roomversion.Version) string {
	ms, tpi, auth, typ := se.label("ms"), se.label("tpi"), se.label("auth"), se.label("type")
	// GMSL finds no usable token in a third_party_invite present (not null) without a non-empty
	// signed.token string: encoding/json allocates the struct even when the value has the
	// wrong type.
	tpiBroken := tpi != "tpi=-" && tpi != "tpi=full" && tpi != "tpi=tokenonly" && tpi != "tpi=casevariant" &&
		tpi != "tpi=token-odd:upper" && tpi != "tpi=odd:null"
	authoriserLike := role == "member(authoriser)" || role == "member(other)"
	switch {
	case typ == "type=m.room.aliases" && side == "rp":
		return "G1-aliases-create-only"
	case typ != "type=m.room.member":
		return ""
	case strings.HasPrefix(ms, "ms=casevariant") && (role == "m.room.join_rules" || strings.HasPrefix(role, "3pi")) && side == "gmsl":
		return "G2-case-insensitive-content-keys"
	case strings.HasPrefix(role, "3pi") && side == "gmsl" && tpi == "tpi=casevariant":
		return "G2-case-insensitive-content-keys"
	case strings.HasPrefix(role, "3pi") && side == "gmsl" && ms != "ms=invite":
		return "G3-3pi-for-non-invite"
	case role == `3pi("")` && side == "rp":
		return "G4-empty-token-ignored"
	case auth == "auth=casevariant-key" && side == "gmsl":
		return "G2-case-insensitive-content-keys"
	case authoriserLike && side == "gmsl" && !v.Auth.RestrictedJoinRule:
		return "G5-authoriser-before-v8"
	case authoriserLike && side == "gmsl" && ms != "ms=join":
		return "G6-authoriser-non-join"
	case role == "member(authoriser)" && side == "rp" && (auth == "auth=empty" || auth == "auth=odd:emptystr"):
		return "G7-empty-authoriser-ignored"
	case role == "member(authoriser)" && side == "rp" && tpiBroken:
		return "G8-broken-3pi-stops-selection"
	}
	return ""
}

// selClass explains a difference of selections: the class of its first-listed cause, or ""
// when some tuple has none.
func selClass(onlyRP, onlyG []string, se selEvent, v roomversion.Version) (string, string) {
	best := -1
	var unexplained []string
	for _, x := range []struct {
		side   string
		tuples []string
	}{{"rp", onlyRP}, {"gmsl", onlyG}} {
		for _, t := range x.tuples {
			role := roleOf(t, se.m)
			cls := selCause(x.side, role, se, v)
			if cls == "" {
				unexplained = append(unexplained, x.side+"-only "+role+" ("+strings.Join(se.labels, " ")+")")
				continue
			}
			if i := classIndex(selectClasses, cls); best < 0 || i < best {
				best = i
			}
		}
	}
	if len(unexplained) > 0 {
		return "", strings.Join(unexplained, "; ")
	}
	return selectClasses[best].ID, ""
}

func runSelect(t *Tally, n int, seed int64) {
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < n; i++ {
		vid := difftool.Pick(r, versions...)
		se := genSelEvent(r, authgen.Version(vid), i)
		selectCompare(t, r, vid, se, i)
	}
}

// selectCompare makes the three comparisons for one event; the state comes from r.
func selectCompare(t *Tally, r *rand.Rand, vid string, se selEvent, i int) {
	v := authgen.Version(vid)
	raw := difftool.Enc(se.m)
	rpEv, err := signing.ParseEvent(v, raw)
	if err != nil {
		t.Problem("harness: roomproto ParseEvent: "+err.Error(), string(raw))
		return
	}
	gev, err := gParseTrusted(vid, raw, rpEv.EventID)
	if err != nil {
		t.Problem("harness: GMSL parse: "+clip(err.Error(), 80), string(raw))
		return
	}
	example := func(what string, rp, g any) string {
		return fmt.Sprintf("v%s %s\n%s\nroomproto: %v\nGMSL: %v", vid, what, raw, rp, g)
	}
	rpKeys, rpErr := authrules.AuthEventsNeeded(v, rpEv)
	rpSet := tupleSet(rpKeys)
	gNeed := gmsl.StateNeededForAuth([]gmsl.PDU{gev})
	gSet := gTupleSet(gNeed.Tuples())

	// 1. AuthEventsNeeded vs StateNeededForAuth.
	switch oa, ob := setDiff(rpSet, gSet); {
	case rpErr != nil:
		t.Diverge("", "roomproto AuthEventsNeeded error", example("needed", rpErr, gSet))
	case len(oa)+len(ob) == 0:
		t.Agree()
	default:
		cls, sig := selClass(oa, ob, se, v)
		t.Diverge(cls, "needed: "+sig, example("AuthEventsNeeded vs StateNeededForAuth", rpSet, gSet))
	}

	// 2. The same against the event builder's selection.
	var pe gmsl.ProtoEvent
	if json.Unmarshal(raw, &pe) == nil {
		pn, perr := gmsl.StateNeededForProtoEvent(&pe)
		pSet := gTupleSet(pn.Tuples())
		switch oa, ob := setDiff(rpSet, pSet); {
		case perr != nil:
			msg := perr.Error()
			if se.m["type"] == "m.room.member" && (strings.Contains(msg, "unparseable member event content") || strings.Contains(msg, "could not get third-party token")) {
				t.Diverge("P1-builder-refuses-content", "", example("AuthEventsNeeded vs StateNeededForProtoEvent", rpSet, perr))
			} else {
				t.Diverge("", "builder error: "+clip(msg, 60), example("AuthEventsNeeded vs StateNeededForProtoEvent", rpSet, perr))
			}
		case len(oa)+len(ob) == 0:
			t.Agree()
		default:
			cls, sig := selClass(oa, ob, se, v)
			t.Diverge(cls, "builder: "+sig, example("AuthEventsNeeded vs StateNeededForProtoEvent", rpSet, pSet))
		}
	}

	// 3. State.AuthEvents vs AuthEventReferences, against a random state.
	stRaw := selState(r, v, i)
	var rpState []*pdu.Event
	var gState []gmsl.PDU
	byID := map[string]string{}
	for _, s := range stRaw {
		p, err := signing.ParseEvent(v, s)
		if err != nil {
			t.Problem("harness: state event: "+err.Error(), string(s))
			continue
		}
		g, err := gParseTrusted(vid, s, p.EventID)
		if err != nil {
			t.Problem("harness: GMSL state event: "+err.Error(), string(s))
			continue
		}
		rpState = append(rpState, p)
		gState = append(gState, g)
		byID[p.EventID] = p.Type + "|" + *p.StateKey
	}
	st, err := authrules.NewState(v, rpState)
	if err != nil {
		t.Problem("harness: NewState: "+err.Error(), string(raw))
		return
	}
	rpAuth, err := st.AuthEvents(rpEv)
	if err != nil {
		t.Diverge("", "roomproto State.AuthEvents error", example("State.AuthEvents", err, ""))
		return
	}
	var rpIDs, want []string
	for _, e := range rpAuth {
		rpIDs = append(rpIDs, e.EventID)
	}
	sort.Strings(rpIDs)
	// roomproto's two functions must agree: State.AuthEvents = AuthEventsNeeded ∩ state.
	for id, tuple := range byID {
		for _, k := range rpSet {
			if k == tuple {
				want = append(want, id)
			}
		}
	}
	sort.Strings(want)
	if strings.Join(want, ",") != strings.Join(rpIDs, ",") {
		t.Problem("roomproto: State.AuthEvents differs from AuthEventsNeeded ∩ state", example("self-check", want, rpIDs))
	}
	ae := gmsl.NewAuthEvents(gState)
	gRefs, gerr := gNeed.AuthEventReferences(&ae)
	sort.Strings(gRefs)
	if gerr != nil {
		t.Diverge("", "GMSL AuthEventReferences error", example("State.AuthEvents vs AuthEventReferences", rpIDs, gerr))
		return
	}
	oa, ob := setDiff(rpIDs, gRefs)
	if len(oa)+len(ob) == 0 {
		t.Agree()
		return
	}
	var ta, tb []string
	for _, x := range oa {
		ta = append(ta, byID[x])
	}
	for _, x := range ob {
		tb = append(tb, byID[x])
	}
	cls, sig := selClass(ta, tb, se, v)
	t.Diverge(cls, "state: "+sig, example("State.AuthEvents vs AuthEventReferences", ta, tb))
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

const ts = int64(1_800_000_000_000)

func decode(b []byte) M {
	var m M
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

// memberships of a version, and odd values for the lookups.
func mships(ver int) []string {
	ms := []string{"join", "invite", "leave", "ban"}
	if ver >= 7 {
		ms = append(ms, "knock")
	}
	return ms
}

// compareTable compares Transitions and FindTransition of one version with the reference's
// table.
func compareTable(vid string) {
	v := authgen.Version(vid)
	ref, ok := call(M{"op": "table", "v": vid})
	if !ok {
		return
	}
	// Transitions, expanded over their join rules
	got := map[string][]membership.Transition{}
	for _, t := range membership.Transitions(v) {
		rules := t.JoinRules
		if rules == nil {
			rules = ref.Rules
		}
		for _, jr := range rules {
			self := "other"
			if t.BySelf {
				self = "self"
			}
			k := fmt.Sprintf("%s|%s|%s|%s", t.From, t.To, self, jr)
			got[k] = append(got[k], t)
		}
	}
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range ref.Table {
		keys[k] = true
	}
	for _, k := range difftool.SortedKeys(keys) {
		compared++
		tally["v"+vid+" Transitions"]++
		g, want := got[k], ref.Table[k]
		jr := k[strings.LastIndex(k, "|")+1:]
		switch {
		case len(g) > 1:
			report("OVERLAP", vid, "Transitions", k, fmt.Sprintf("%d transitions", len(g)), "one", M{"key": k}, nil)
		case len(g) == 0:
			report("MISSING", vid, "Transitions", k, "absent", want.Action, M{"key": k}, nil)
		case want == nil:
			if !slices.Contains(ref.Rules, jr) {
				report("EXTRA", vid, "Transitions", k, string(g[0].Action)+" (join rule not of the version)", "absent", M{"key": k}, nil)
			} else {
				report("EXTRA", vid, "Transitions", k, string(g[0].Action), "absent", M{"key": k, "t": g[0]}, nil)
			}
		default:
			if d := trDiff(g[0], want, jr); d != nil {
				report("TRANSITION", vid, "Transitions", k, strings.Join(d, "; "), "", M{"key": k}, nil)
			}
		}
	}
	// FindTransition, also on values outside the table
	froms := append(append([]string{}, mships(difftool.VerNum(vid))...), "", "knock", "custom")
	tos := append(append([]string{}, mships(difftool.VerNum(vid))...), "knock", "custom", "")
	jrs := append(append([]string{}, ref.Rules...), "", "private", "knock", "restricted", "knock_restricted", "Public")
	for _, from := range froms {
		for _, to := range tos {
			for _, self := range []bool{true, false} {
				for _, jr := range jrs {
					a, ok := call(M{"op": "find", "v": vid, "from": from, "to": to, "by_self": self, "join_rule": jr})
					if !ok {
						continue
					}
					compared++
					tally["v"+vid+" FindTransition"]++
					t, exists := membership.FindTransition(v, from, to, self, jr)
					key := fmt.Sprintf("from=%q to=%q self=%v jr=%q", from, to, self, jr)
					if exists != (a.Tr != nil) {
						rp, rs := "none", "none"
						if exists {
							rp = string(t.Action)
						}
						if a.Tr != nil {
							rs = a.Tr.Action
						}
						report("VERDICT", vid, "FindTransition", key, rp, rs, M{"key": key}, a.Amb)
						continue
					}
					if exists {
						if d := trDiff(t, a.Tr, jr); d != nil {
							report("TRANSITION", vid, "FindTransition", key, strings.Join(d, "; "), "", M{"key": key}, a.Amb)
						}
					}
				}
			}
		}
	}
}

func caseCheckTransition(r *rand.Rand, rm *room) {
	pool := append(append([]string{}, users...), "@new:a.example", "@new:r.example")
	sender := difftool.Pick(r, pool...)
	target := sender
	if r.Intn(3) != 0 {
		target = difftool.Pick(r, pool...)
	}
	tos := append(mships(rm.Ver), "knock")
	if r.Intn(30) == 0 {
		tos = []string{"custom", ""}
	}
	to := difftool.Pick(r, tos...)
	t, err := membership.CheckTransition(rm.State, sender, target, to)
	a, ok := call(M{"op": "check_transition", "v": rm.VID, "state": rm.StateJSON(), "state_ids": rm.IDs,
		"room_id": rm.RoomID, "sender": sender, "target": target, "to": to})
	if !ok {
		return
	}
	compared++
	tally["v"+rm.VID+" CheckTransition"]++
	rs := reasonOf(err)
	outcomes["CheckTransition "+rs]++
	label := fmt.Sprintf("rule=%s %s(%s)->%s(%s) to=%s", rm.Rule, sender, rm.Ms[sender], target, rm.Ms[target], to)
	in := M{"sender": sender, "target": target, "to": to, "members": rm.Ms, "rule": rm.Rule, "state": rm.StateJSON()}
	refS := "ALLOW"
	if !a.Allow {
		refS = strings.Join(a.Reasons, "|") + " (" + a.Why + ")"
	}
	switch {
	case (err == nil) != a.Allow:
		report("VERDICT", rm.VID, "CheckTransition", label, rs+" ("+fmt.Sprint(err)+")", refS, in, a.Amb)
		return
	case err != nil && statusOf(err) != "403:M_FORBIDDEN":
		report("ERRCODE", rm.VID, "CheckTransition", label, statusOf(err), "403:M_FORBIDDEN", in, a.Amb)
	case err != nil && !slices.Contains(a.Reasons, rs):
		report("REASON", rm.VID, "CheckTransition", label, rs+" ("+fmt.Sprint(err)+")", refS, in, a.Amb)
	}
	if a.Tr == nil {
		return
	}
	if err != nil && t.To == "" {
		report("TRANSITION", rm.VID, "CheckTransition", label, "no Transition returned with "+rs, a.Tr.Action, in, a.Amb)
		return
	}
	if d := trDiff(t, a.Tr, ruleName(rm)); d != nil {
		report("TRANSITION", rm.VID, "CheckTransition", label, strings.Join(d, "; "), "", in, a.Amb)
	}
	compared++
	tally["v"+rm.VID+" RequiredLevel"]++
	got := t.RequiredLevel(rm.State.PowerLevels())
	if a.Required == nil || fmt.Sprint(got) != a.Required.String() {
		report("LEVEL", rm.VID, "RequiredLevel", label, fmt.Sprint(got), fmt.Sprint(a.Required), in, a.Amb)
	}
}

func ruleName(rm *room) string {
	if strings.HasPrefix(rm.Rule, "(") { // (none), (missing), (number): no rule to look for
		return ""
	}
	return rm.Rule
}

func caseClassify(r *rand.Rand, rm *room) {
	from := difftool.Pick(r, append(mships(rm.Ver), "", "", "knock")...)
	sender := difftool.Pick(r, users...)
	target := sender
	if r.Intn(2) == 0 {
		target = difftool.Pick(r, users...)
	}
	to := difftool.Pick(r, append(mships(rm.Ver), "knock", "invite")...)
	c := M{"membership": to}
	if r.Intn(8) == 0 {
		c = M{"membership": difftool.Pick[any](r, "custom", 5, nil, "Join")}
	}
	if r.Intn(4) == 0 {
		c["join_authorised_via_users_server"] = "@rob:r.example"
	}
	if r.Intn(10) == 0 {
		c["third_party_invite"] = M{"display_name": "x", "signed": M{"mxid": target, "token": "tok1", "signatures": M{}}}
	}
	typ := "m.room.member"
	sk := &target
	switch r.Intn(20) {
	case 0:
		typ = "m.room.name"
	case 1:
		sk = nil
	}
	raw := rm.Mk(typ, sender, sk, c)
	ev, err := signing.ParseEvent(rm.V, raw)
	if err != nil {
		tally["skipped: classify event not parsed"]++
		return
	}
	jr := difftool.Pick(r, "public", "invite", "knock", "restricted", "knock_restricted", "", "private")
	t, ok := membership.ClassifyMemberEvent(rm.V, from, ev, jr)
	evj := decode(raw)
	a, aok := call(M{"op": "classify", "v": rm.VID, "from": from, "ev": evj, "join_rule": jr})
	label := fmt.Sprintf("from=%q jr=%q", from, jr)
	in := M{"from": from, "join_rule": jr, "event": string(raw)}
	if aok {
		compared++
		tally["v"+rm.VID+" ClassifyMemberEvent"]++
		switch {
		case ok != (a.Tr != nil):
			rp, rs := "none", "none"
			if ok {
				rp = string(t.Action)
			}
			if a.Tr != nil {
				rs = a.Tr.Action
			}
			report("VERDICT", rm.VID, "ClassifyMemberEvent", label, rp, rs, in, a.Amb)
		case ok:
			if d := trDiff(t, a.Tr, jr); d != nil {
				report("TRANSITION", rm.VID, "ClassifyMemberEvent", label, strings.Join(d, "; "), "", in, a.Amb)
			}
		}
	}
	ka := membership.KnockAccepted(from, ev)
	b, bok := call(M{"op": "knock_accepted", "v": rm.VID, "previous": from, "ev": evj})
	if bok {
		compared++
		tally["v"+rm.VID+" KnockAccepted"]++
		if ka != b.Accepted {
			report("VERDICT", rm.VID, "KnockAccepted", fmt.Sprintf("previous=%q", from), fmt.Sprint(ka), fmt.Sprint(b.Accepted), in, b.Amb)
		}
	}
}

func listedIDs(v int, tmpl M) []string {
	var out []string
	ae, _ := tmpl["auth_events"].([]any)
	for _, a := range ae {
		if p, ok := a.([]any); ok && v <= 2 && len(p) > 0 {
			out = append(out, fmt.Sprint(p[0]))
		} else {
			out = append(out, fmt.Sprint(a))
		}
	}
	return out
}

func knownRooms(r *rand.Rand, user string) membership.KnownRooms {
	kr := membership.KnownRooms{}
	for _, o := range otherRooms {
		if r.Intn(4) == 0 {
			continue
		}
		m := map[string]string{}
		if r.Intn(4) != 0 {
			m[user] = "join"
		}
		kr[o] = m
	}
	return kr
}

func (rm *room) opts() membership.TemplateOptions {
	return membership.TemplateOptions{Origin: resident, OriginServerTS: ts, PrevEvents: []string{rm.Last}, Depth: int64(rm.N + 1)}
}

// makeTemplate asks MakeJoin or MakeKnock; when they refuse, it builds a template by hand
// listing the auth events the reference selects.
func makeTemplate(r *rand.Rand, rm *room, kind, user string, rooms membership.KnownRooms, content M) (M, string) {
	var tm membership.Template
	var err error
	if kind == "join" {
		_, tm, err = membership.MakeJoin(membership.JoinRequest{State: rm.State, UserID: user, ResidentServer: resident, Rooms: rooms}, rm.opts())
	} else {
		tm, err = membership.MakeKnock(rm.State, user, rm.opts())
	}
	if err == nil {
		t := decode(tm.Event)
		if content != nil {
			c := t["content"].(M)
			for k, x := range content {
				c[k] = x
			}
		}
		return t, "make=allow"
	}
	c := M{"membership": kind}
	for k, x := range content {
		c[k] = x
	}
	if kind == "join" && rm.Ver >= 8 && r.Intn(2) == 0 {
		c["join_authorised_via_users_server"] = difftool.Pick(r, "@mod:r.example", "@rob:r.example", "@low:r.example")
	}
	t := M{"type": "m.room.member", "room_id": rm.RoomID, "sender": user, "state_key": user,
		"origin": resident, "origin_server_ts": ts, "depth": rm.N + 1,
		"prev_events": []any{rm.Ref(rm.Last)}, "content": c}
	a, ok := call(M{"op": "selection", "v": rm.VID, "ev": t, "state": rm.StateJSON(), "state_ids": rm.IDs})
	var ae []any
	if ok {
		for _, id := range a.IDs {
			ae = append(ae, rm.Ref(id))
		}
	}
	t["auth_events"] = ae
	return t, "make=refused"
}

func caseMake(r *rand.Rand, rm *room) {
	user := difftool.Pick(r, append(append([]string{}, users...), "@new:a.example", "@new:b.example", "@new:r.example")...)
	kind := "join"
	if rm.Ver >= 7 && (rm.knockish || r.Intn(3) == 0) {
		kind = "knock"
	}
	var tm membership.Template
	var err error
	if kind == "join" {
		_, tm, err = membership.MakeJoin(membership.JoinRequest{State: rm.State, UserID: user, ResidentServer: resident, Rooms: knownRooms(r, user)}, rm.opts())
	} else {
		tm, err = membership.MakeKnock(rm.State, user, rm.opts())
	}
	op := "MakeJoin"
	if kind == "knock" {
		op = "MakeKnock"
	}
	if err != nil {
		outcomes[op+" refused"]++
		return
	}
	outcomes[op+" template"]++
	t := decode(tm.Event)
	a, ok := call(M{"op": "selection", "v": rm.VID, "ev": t, "state": rm.StateJSON(), "state_ids": rm.IDs})
	if !ok {
		return
	}
	compared++
	tally["v"+rm.VID+" "+op+"(auth_events)"]++
	got := listedIDs(rm.Ver, t)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(a.IDs, ",") {
		report("AUTHEVENTS", rm.VID, op, "rule="+rm.Rule+" user="+rm.Ms[user], strings.Join(got, ","), strings.Join(a.IDs, ","),
			M{"template": string(tm.Event), "state": rm.StateJSON()}, a.Amb)
	}
}

var authMuts = []string{"nil", "listed", "listed", "listed", "drop", "extra", "dup-jr", "stale-jr", "mismatch-jr",
	"other-room", "nonstate", "empty", "drop-authvia", "drop-create", "add-create", "stale-pl", "stale-pl", "stale-own", "stale-own", "stale-authvia", "dup-pass", "dup-listed", "extra-pass"}

// parsed parses raw events; nil on failure.
func (rm *room) parsed(raws [][]byte) []*pdu.Event {
	out := make([]*pdu.Event, 0, len(raws))
	for _, raw := range raws {
		e, err := signing.ParseEvent(rm.V, raw)
		if err != nil {
			return nil
		}
		out = append(out, e)
	}
	return out
}

func (rm *room) stateEvent(typ, sk string) (string, bool) {
	for i, raw := range rm.Raws {
		e := decode(raw)
		if e["type"] == typ && e["state_key"] == sk {
			return rm.IDs[i], true
		}
	}
	return "", false
}

func caseSendAuth(r *rand.Rand, rm *room) {
	user := difftool.Pick(r, append(append([]string{}, users[3:]...), "@new:a.example", "@new:b.example", "@rob:r.example")...)
	kind := "join"
	if rm.Ver >= 7 && (rm.knockish || r.Intn(3) == 0) {
		kind = "knock"
	}
	rooms := knownRooms(r, user)
	t, label := makeTemplate(r, rm, kind, user, rooms, nil)
	mut := difftool.Pick(r, authMuts...)
	sendAuth(r, rm, kind, user, rooms, t, mut, label)
}

// sendAuth signs the template after applying the auth events mutation, calls SendJoin or
// SendKnock with AuthEvents and compares.
func sendAuth(r *rand.Rand, rm *room, kind, user string, rooms membership.KnownRooms, t M, mut, label string) {
	listed := listedIDs(rm.Ver, t)
	pass := append([]string{}, listed...) // IDs of the events passed as AuthEvents
	extraRaw := map[string][]byte{}
	jrID, hasJR := rm.stateEvent("m.room.join_rules", "")
	replace := func(xs []string, old, nw string) []string {
		out := []string{}
		for _, x := range xs {
			if x == old {
				x = nw
			}
			out = append(out, x)
		}
		return out
	}
	remove := func(xs []string, id string) []string {
		return slices.DeleteFunc(slices.Clone(xs), func(x string) bool { return x == id })
	}
	switch mut {
	case "drop":
		if len(listed) > 0 {
			id := difftool.Pick(r, listed...)
			listed, pass = remove(listed, id), remove(pass, id)
		}
	case "drop-create":
		if id, ok := rm.stateEvent("m.room.create", ""); ok {
			listed, pass = remove(listed, id), remove(pass, id)
		}
	case "drop-authvia":
		if av, ok := t["content"].(M)["join_authorised_via_users_server"].(string); ok {
			if id, ok := rm.stateEvent("m.room.member", av); ok && av != user {
				listed, pass = remove(listed, id), remove(pass, id)
			}
		}
	case "extra":
		k := difftool.Pick(r, users...)
		if id, ok := rm.stateEvent("m.room.member", k); ok && !slices.Contains(listed, id) {
			listed, pass = append(listed, id), append(pass, id)
		} else if id, ok := rm.stateEvent("m.room.name", ""); ok {
			listed, pass = append(listed, id), append(pass, id)
		}
	case "dup-jr":
		if rm.oldJR != "" && hasJR && slices.Contains(listed, jrID) {
			listed, pass = append(listed, rm.oldJR), append(pass, rm.oldJR)
		}
	case "stale-jr":
		if rm.oldJR != "" && hasJR {
			listed, pass = replace(listed, jrID, rm.oldJR), replace(pass, jrID, rm.oldJR)
		}
	case "mismatch-jr":
		if rm.oldJR != "" && hasJR {
			pass = replace(pass, jrID, rm.oldJR)
		}
	case "other-room":
		o := genRoom(rand.New(rand.NewSource(r.Int63())), rm.VID, false)
		for i := len(o.Raws) - 1; i >= 0; i-- {
			e := decode(o.Raws[i])
			if e["type"] == "m.room.power_levels" || (e["type"] == "m.room.member" && e["state_key"] == user) {
				id := o.IDs[i]
				extraRaw[id] = o.Raws[i]
				if old, ok := rm.stateEvent(fmt.Sprint(e["type"]), fmt.Sprint(e["state_key"])); ok && slices.Contains(listed, old) {
					listed, pass = replace(listed, old, id), replace(pass, old, id)
				} else {
					listed, pass = append(listed, id), append(pass, id)
				}
				break
			}
		}
	case "empty":
		pass = []string{}
	case "extra-pass":
		if id, ok := rm.stateEvent("m.room.name", ""); ok {
			pass = append(pass, id)
		} else if rm.oldJR != "" {
			pass = append(pass, rm.oldJR)
		}
	case "dup-pass":
		if len(pass) > 0 {
			pass = append(pass, difftool.Pick(r, pass...))
		}
	case "dup-listed":
		if len(listed) > 0 {
			listed = append(listed, difftool.Pick(r, listed...))
		}
	case "stale-pl":
		if id, ok := rm.stateEvent("m.room.power_levels", ""); ok && rm.oldPL != "" {
			listed, pass = replace(listed, id, rm.oldPL), replace(pass, id, rm.oldPL)
		}
	case "stale-own":
		if id, ok := rm.stateEvent("m.room.member", user); ok && rm.oldMem[user] != "" {
			listed, pass = replace(listed, id, rm.oldMem[user]), replace(pass, id, rm.oldMem[user])
		}
	case "stale-authvia":
		if av, ok := t["content"].(M)["join_authorised_via_users_server"].(string); ok && rm.oldMem[av] != "" {
			if id, ok := rm.stateEvent("m.room.member", av); ok {
				listed, pass = replace(listed, id, rm.oldMem[av]), replace(pass, id, rm.oldMem[av])
			}
		}
	case "add-create":
		if id, ok := rm.stateEvent("m.room.create", ""); ok && !slices.Contains(listed, id) {
			listed, pass = append(listed, id), append(pass, id)
		}
	case "nonstate":
		raw := rm.Mk("m.room.message", rm.creator, nil, M{"body": "x"})
		id, _ := signing.EventID(rm.V, raw)
		extraRaw[id] = raw
		listed, pass = append(listed, id), append(pass, id)
	}
	var ae []any
	for _, id := range listed {
		ae = append(ae, rm.Ref(id))
	}
	if ae == nil {
		ae = []any{}
	}
	t["auth_events"] = ae
	srv := difftool.DomainOf(user)
	eventID := fmt.Sprintf("$j%d:%s", r.Intn(1000), srv)
	signed, err := membership.SignTemplate(rm.V, difftool.Enc(t), srv, ts, eventID, srv, authgen.KeyFor(srv, "1"))
	if err != nil {
		tally["skipped: SignTemplate: "+difftool.Clip(err.Error(), 60)]++
		return
	}
	if rm.Ver > 2 {
		eventID, _ = signing.EventID(rm.V, signed)
	}
	var passRaws [][]byte
	for _, id := range pass {
		raw := rm.all[id]
		if raw == nil {
			raw = extraRaw[id]
		}
		passRaws = append(passRaws, raw)
	}
	var authEvs []*pdu.Event
	if mut != "nil" {
		authEvs = rm.parsed(passRaws)
		if authEvs == nil {
			tally["skipped: auth event not parsed"]++
			return
		}
	}
	var authJSON []json.RawMessage
	for _, raw := range passRaws {
		authJSON = append(authJSON, raw)
	}
	req := M{"op": "send_" + kind, "v": rm.VID, "state": rm.StateJSON(), "state_ids": rm.IDs, "resident": resident,
		"rooms": rooms, "room_id": rm.RoomID, "event_id": eventID, "origin": srv, "event": string(signed), "keys": refKeys}
	if mut != "nil" {
		req["auth_events"] = authJSON
		if authJSON == nil {
			req["auth_events"] = []any{}
		}
		if pass == nil {
			pass = []string{}
		}
		req["auth_ids"] = pass
	}
	var rpErr error
	op := "SendJoin"
	if kind == "join" {
		res, err := membership.SendJoin(membership.SendJoinRequest{State: rm.State, ResidentServer: resident, Rooms: rooms,
			RoomID: rm.RoomID, EventID: eventID, Origin: srv, Event: signed, Key: authgen.KeyFor(resident, "1"), Keys: keyRing,
			AuthEvents: authEvs})
		rpErr = err
		if err == nil {
			req["result"] = string(res.Event)
		}
	} else {
		op = "SendKnock"
		res, err := membership.SendKnock(membership.SendKnockRequest{State: rm.State, RoomID: rm.RoomID, EventID: eventID,
			Origin: srv, Event: signed, Keys: keyRing, AuthEvents: authEvs})
		rpErr = err
		if err == nil {
			var ks []any
			for _, e := range res.KnockRoomState {
				ks = append(ks, string(e.Raw()))
			}
			req["knock_room_state"] = ks
		}
	}
	a, ok := call(req)
	if !ok {
		return
	}
	label += " rule=" + rm.Rule + " user=" + rm.Ms[user] + " mut=" + mut
	in := M{"event": string(signed), "auth_ids": pass, "members": rm.Ms, "rule": rm.Rule, "old_rule": rm.oldRule}
	verdict(rm.VID, op, label, rpErr, a, in)
}

func rpString(err error) string {
	if err == nil {
		return "ALLOW"
	}
	var me *membership.Error
	if errors.As(err, &me) {
		return fmt.Sprintf("%d:%s (%s)", me.Status, me.ErrCode, difftool.Clip(me.Message, 200))
	}
	return "(not *Error) " + err.Error()
}

// verdict compares a handshake verdict with the reference's.
func verdict(vid, op, label string, err error, ref refAns, input any) {
	compared++
	tally["v"+vid+" "+op]++
	oc := "ALLOW"
	var me *membership.Error
	if err != nil {
		oc = statusOf(err)
	}
	outcomes[op+" "+oc]++
	if i := strings.Index(label, "mut="); i >= 0 {
		outcomes[op+" "+strings.Fields(label[i:])[0]+" -> "+oc]++
	}
	if strings.HasPrefix(label, "3pid ") {
		f := strings.Fields(label)
		rule := ""
		if i := strings.Index(label, " rule="); i >= 0 {
			rule = strings.Fields(label[i:])[0]
		}
		outcomes[op+" "+f[0]+" "+f[1]+" tpi-content="+fmt.Sprint(strings.Contains(label, "tpi-content"))+" "+rule+" -> "+oc]++
	}
	kind := ""
	switch {
	case (err == nil) != ref.Allow:
		kind = "VERDICT"
	case err != nil && !errors.As(err, &me):
		kind = "ERRCODE"
	case err != nil && ref.Codes != nil && !slices.ContainsFunc(ref.Codes, func(c []any) bool {
		return fmt.Sprint(c[0]) == fmt.Sprint(me.Status) && c[1] == me.ErrCode
	}):
		kind = "ERRCODE"
	case err == nil && len(ref.Problems) > 0:
		kind = "OUTPUT"
	}
	if kind != "" {
		report(kind, vid, op, label, rpString(err), ref.String(), input, ref.Amb)
	}
}

// idKey is the identity server's key that signs third-party invites.
var idKey = authgen.KeyFor("id.example", "0")

var tpiMuts = []string{"none", "none", "none", "mxid", "token", "no-signed", "no-mxid", "no-token", "wrong-key",
	"bad-sig", "sender-other", "only-public_keys", "target-banned", "target-joined", "sender-not-joined", "extra-field",
	"no-keys", "not-signed", "sig-other-server", "extra-bad-sig", "urlsafe-key", "keys-no-public_key", "signed-unsigned"}

// caseThirdParty draws an m.room.third_party_invite, the m.room.member invite that exchanges it
// (checked against the state by authrules and the reference), and the invited user's join
// with a third_party_invite block through SendJoin, with or without AuthEvents.
func caseThirdParty(r *rand.Rand, rm *room) {
	mut := difftool.Pick(r, tpiMuts...)
	inviter := rm.creator
	if mut == "sender-not-joined" {
		inviter = "@kim:b.example"
		rm.add("m.room.member", inviter, inviter, M{"membership": "leave"})
		rm.Ms[inviter] = "leave"
	}
	pub := difftool.B64(idKey.Public())
	other := difftool.B64(authgen.KeyFor("id2.example", "0").Public())
	tc := M{"display_name": "e...@x", "key_validity_url": "https://id.example/isvalid", "public_key": pub,
		"public_keys": []any{M{"public_key": other}}}
	switch mut {
	case "only-public_keys":
		tc["public_key"] = other
		tc["public_keys"] = []any{M{"public_key": other}, M{"public_key": pub, "key_validity_url": "https://id.example/v"}}
	case "no-keys":
		tc = M{"display_name": "e...@x"}
	case "urlsafe-key":
		tc["public_key"] = difftool.B64URL(idKey.Public())
	case "keys-no-public_key":
		tc["public_key"] = other
		tc["public_keys"] = []any{M{"key_validity_url": "https://id.example/v"}, "x", M{"public_key": 5}}
	}
	rm.add("m.room.third_party_invite", inviter, "tok1", tc)
	target := "@new:a.example"
	switch mut {
	case "target-banned":
		target = "@bea:b.example"
		rm.add("m.room.member", rm.creator, target, M{"membership": "ban"})
		rm.Ms[target] = "ban"
	case "target-joined":
		target = "@joe:a.example"
		rm.add("m.room.member", target, target, M{"membership": "join"})
		rm.Ms[target] = "join"
	}
	if r.Intn(3) != 0 {
		rm.add("m.room.join_rules", rm.creator, "", M{"join_rule": "invite"})
		rm.Rule = "invite"
	}
	if !rm.build() {
		return
	}
	signed := M{"mxid": target, "token": "tok1"}
	switch mut {
	case "mxid":
		signed["mxid"] = "@someone:a.example"
	case "token":
		signed["token"] = "tok2"
	case "extra-field":
		signed["ts"] = 5
	}
	key := idKey
	if mut == "wrong-key" {
		key = authgen.KeyFor("id3.example", "0")
	}
	sb, err := signing.SignJSON(difftool.Enc(signed), "id.example", key)
	if err != nil {
		panic(err) // invariant: a JSON object built here
	}
	sj := decode(sb)
	switch mut {
	case "no-mxid":
		delete(sj, "mxid")
	case "no-token":
		delete(sj, "token")
	case "bad-sig":
		sj["signatures"] = M{"id.example": M{"ed25519:0": authgen.DummySig}}
	case "not-signed":
		delete(sj, "signatures")
	case "sig-other-server":
		sj["signatures"] = M{"elsewhere.example": sj["signatures"].(M)["id.example"]}
	case "extra-bad-sig":
		sj["signatures"].(M)["bad.example"] = M{"ed25519:0": authgen.DummySig}
	case "signed-unsigned":
		sj["unsigned"] = M{"x": 1}
	}
	tpi := M{"display_name": "e...@x", "signed": sj}
	if mut == "no-signed" {
		delete(tpi, "signed")
	}
	sender := inviter
	if mut == "sender-other" {
		sender = difftool.Pick(r, "@rob:r.example", "@joe:a.example")
	}
	inv := rm.Mk("m.room.member", sender, &target, M{"membership": "invite", "third_party_invite": tpi})
	ev, err := signing.ParseEvent(rm.V, inv)
	if err != nil {
		tally["skipped: tpi invite not parsed"]++
		return
	}
	cerr := rm.State.Check(ev, keyRing)
	a, ok := call(M{"op": "state_check", "v": rm.VID, "event": string(inv), "state": rm.StateJSON(), "state_ids": rm.IDs})
	if !ok {
		return
	}
	compared++
	tally["v"+rm.VID+" State.Check(3pid invite)"]++
	label := "mut=" + mut + " rule=" + rm.Rule
	in := M{"event": string(inv), "tpi": tc, "members": rm.Ms}
	rule := ""
	var rej *authrules.Rejection
	if errors.As(cerr, &rej) {
		rule = rej.Rule
	}
	refRule := ""
	if a.Rule != nil {
		refRule = *a.Rule
	}
	outcomes[fmt.Sprintf("3pid invite %s -> %v", mut, cerr == nil)]++
	switch {
	case (cerr == nil) != a.Allow:
		report("VERDICT", rm.VID, "State.Check(3pid invite)", label, fmt.Sprint(cerr), fmt.Sprintf("allow=%v %s %s", a.Allow, refRule, a.Why), in, a.Amb)
		return
	case cerr != nil && rule != refRule:
		report("RULE", rm.VID, "State.Check(3pid invite)", label, rule, refRule+" "+a.Why, in, a.Amb)
	}
	if mut == "target-banned" || mut == "target-joined" {
		return
	}
	// the exchanged invite enters the state when it passed; then the target joins.
	invited := cerr == nil
	if invited {
		id, _ := signing.EventID(rm.V, inv)
		rm.Raws = append(rm.Raws, inv)
		rm.IDs = append(rm.IDs, id)
		rm.all[id] = inv
		rm.Last = id
		rm.Ms[target] = "invite"
		if !rm.build() {
			return
		}
	}
	content := M{"third_party_invite": tpi}
	tag := " tpi-content"
	if r.Intn(4) == 0 {
		content, tag = nil, ""
	}
	rooms := knownRooms(r, target)
	t, lbl := makeTemplate(r, rm, "join", target, rooms, content)
	m := difftool.Pick(r, "nil", "listed", "listed")
	sendAuth(r, rm, "join", target, rooms, t, m, fmt.Sprintf("3pid invited=%v %s %s%s", invited, mut, lbl, tag))
}

package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
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
	d.Decode(&m)
	return m
}

// template builds a make_join, make_knock or make_leave template by hand, for the requests
// MakeJoin, MakeKnock or MakeLeave refuse.
func (rm *room) template(kind, user string, authvia string) []byte {
	t := M{"type": "m.room.member", "room_id": rm.RoomID, "sender": user, "state_key": user,
		"origin": resident, "origin_server_ts": ts, "depth": rm.N + 1,
		"prev_events": []any{rm.Ref(rm.Last)}, "auth_events": []any{rm.Ref(rm.IDs[0])},
		"content": M{"membership": kind}}
	if authvia != "" {
		t["content"].(M)["join_authorised_via_users_server"] = authvia
	}
	return difftool.Enc(t)
}

var joinMuts = []string{"none", "none", "none", "none", "room_id", "sender", "state_key", "membership",
	"type", "authvia-drop", "authvia-able", "authvia-low", "authvia-remote", "authvia-notuser",
	"origin", "bad-sig", "no-sig", "wrong-key", "hash", "post-membership", "event_id", "sender-invalid",
	"not-json", "bad-json", "unsigned", "eventid-resident", "extra-bad-sig", "eventid-other", "eventid-other-unsigned"}

// mutate changes the template before it is signed (pre) or the signed event (post). It returns
// the event, the SendJoin origin and event ID to use.
func mutate(r *rand.Rand, rm *room, mut, kind string, tmpl []byte, user string) (ev []byte, origin, eventID string) {
	srv := difftool.DomainOf(user)
	origin = srv
	t := decode(tmpl)
	c, _ := t["content"].(M)
	switch mut {
	case "room_id":
		t["room_id"] = "!elsewhere:b.example"
	case "sender":
		t["sender"] = "@someone:" + srv
	case "state_key":
		t["state_key"] = difftool.Pick(r, "@someone:"+srv, remotes[0], "")
	case "membership":
		c["membership"] = difftool.Pick(r, "invite", "leave", "knock", "join", "ban")
	case "type":
		t["type"] = difftool.Pick(r, "m.room.membr", "m.room.message", "m.room.name")
	case "authvia-drop":
		delete(c, "join_authorised_via_users_server")
	case "authvia-able":
		c["join_authorised_via_users_server"] = difftool.Pick(r, residents...)
	case "authvia-low":
		c["join_authorised_via_users_server"] = difftool.Pick(r, "@low:r.example", "@gone:r.example", "@nobody:r.example")
	case "authvia-remote":
		c["join_authorised_via_users_server"] = difftool.Pick(r, remotes...)
	case "authvia-notuser":
		c["join_authorised_via_users_server"] = difftool.Pick[any](r, "r.example", "mod", 5)
	case "origin":
		origin = difftool.Pick(r, "b.example", "r.example", "a.example")
	case "sender-invalid":
		u := difftool.Pick(r, "joe:"+srv, "@joe", "@joe:", "@j\x00e:"+srv)
		t["sender"], t["state_key"] = u, u
	}
	pre := difftool.Enc(t)
	eventID = "$j" + fmt.Sprint(r.Intn(1000)) + ":" + srv
	if mut == "eventid-resident" {
		eventID = "$j1:" + resident
	}
	if mut == "eventid-other" || mut == "eventid-other-unsigned" {
		eventID = "$j1:b.example"
	}
	key := authgen.KeyFor(srv, "1")
	if mut == "wrong-key" {
		key = authgen.KeyFor("b.example", "1")
		key.Version = "1"
	}
	signed, err := membership.SignTemplate(rm.V, pre, srv, ts, eventID, srv, key)
	if err != nil {
		// SignTemplate refuses (e.g. an invalid template): sign it ourselves
		tt := decode(pre)
		tt["origin"], tt["origin_server_ts"] = srv, ts
		if rm.Ver <= 2 {
			tt["event_id"] = eventID
		}
		signed, err = signing.SignEvent(rm.V, difftool.Enc(tt), srv, key)
		if err != nil {
			signed = difftool.Enc(tt)
		}
	}
	s := decode(signed)
	switch mut {
	case "bad-sig":
		sig := s["signatures"].(M)[srv].(M)
		sig["ed25519:1"] = authgen.DummySig
	case "no-sig":
		delete(s["signatures"].(M), srv)
	case "hash":
		s["content"].(M)["displayname"] = "changed after signing"
	case "post-membership":
		s["content"].(M)["membership"] = difftool.Pick(r, "invite", "leave")
	case "unsigned":
		s["unsigned"] = M{"age": 5}
	case "extra-bad-sig":
		s["signatures"].(M)["b.example"] = M{"ed25519:1": authgen.DummySig}
	case "eventid-other":
		if rm.Ver <= 2 && srv != "b.example" {
			b, err := signing.CountersignEvent(rm.V, difftool.Enc(s), "b.example", authgen.KeyFor("b.example", "1"))
			if err == nil {
				s = decode(b)
			}
		}
	case "bad-json":
		delete(s, difftool.Pick(r, "depth", "auth_events", "hashes"))
	}
	ev = difftool.Enc(s)
	if mut == "not-json" {
		ev = append([]byte("{"), ev...)
	}
	if rm.Ver > 2 {
		if id, err := signing.EventID(rm.V, ev); err == nil {
			eventID = id
		}
	} else if e, ok := s["event_id"].(string); ok {
		eventID = e
	}
	if mut == "event_id" {
		eventID = "$wrong:" + srv
	}
	return ev, origin, eventID
}

func knownRooms(r *rand.Rand, user string) map[string]map[string]string {
	kr := map[string]map[string]string{}
	for _, o := range otherRooms {
		if r.Intn(5) == 0 {
			continue
		}
		m := map[string]string{}
		if r.Intn(3) != 0 {
			m[user] = difftool.Pick(r, "join", "join", "leave")
		}
		kr[o] = m
	}
	return kr
}

func caseJoin(r *rand.Rand, rm *room) {
	pool := append(append([]string{}, remotes...), "@new:a.example", "@new:b.example", "@rob:r.example", "@gone:r.example")
	user := difftool.Pick(r, pool...)
	rooms := knownRooms(r, user)
	d, tm, err := membership.MakeJoin(membership.JoinRequest{State: rm.State, UserID: user, ResidentServer: resident,
		Rooms: membership.KnownRooms(rooms)}, membership.TemplateOptions{Origin: resident, OriginServerTS: ts,
		PrevEvents: []string{rm.Last}, Depth: int64(rm.N + 1)})
	var tmpl []byte
	label := "rule=" + rm.Rule + " user=" + rm.Ms[user] + rm.fed(user)
	if ref, ok := call(M{"op": "make_join", "v": rm.VID, "state": rm.StateJSON(), "user_id": user, "resident": resident,
		"rooms": rooms}); ok {
		verdict(rm.VID, "MakeJoin", label, rpOf(err), ref, M{"user": user, "rooms": rooms, "members": rm.Ms})
	}
	if err == nil {
		tmpl = tm.Event
		// the template must pass the joining server's checks, and name an authoriser exactly
		// when the decision needs one
		ref, ok := call(M{"op": "check_template", "kind": "join", "room_id": rm.RoomID, "user_id": user, "template": string(tmpl)})
		if ok {
			verdict(rm.VID, "MakeJoin(template)", label, rpAns{Allow: true}, ref, M{"template": string(tmpl)})
		}
		av, _ := decode(tmpl)["content"].(M)["join_authorised_via_users_server"].(string)
		if av != d.AuthorisingUser {
			report("OUTPUT", rm.VID, "MakeJoin(authvia)", label, av, d.AuthorisingUser, M{"template": string(tmpl)}, nil)
		}
		if tm.RoomVersion != rm.VID {
			report("OUTPUT", rm.VID, "MakeJoin(room_version)", label, tm.RoomVersion, rm.VID, nil, nil)
		}
		label += " make_join=allow"
	} else {
		av := ""
		if rm.Ver >= 8 && r.Intn(2) == 0 {
			av = difftool.Pick(r, residents...)
		}
		tmpl = rm.template("join", user, av)
		label += " make_join=refused"
	}
	mut := difftool.Pick(r, joinMuts...)
	label += " mut=" + mut
	srv := difftool.DomainOf(user)
	// SignTemplate on an unmutated template
	if mut == "none" {
		eid := "$st1:" + srv
		out, err := membership.SignTemplate(rm.V, tmpl, srv, ts, eid, srv, authgen.KeyFor(srv, "1"))
		if err == nil {
			ref, ok := call(M{"op": "sign_template", "v": rm.VID, "template": string(tmpl), "out": string(out),
				"origin": srv, "ts": ts, "event_id": eid, "keys": refKeys})
			if ok {
				verdict(rm.VID, "SignTemplate", label, rpAns{Allow: true}, ref, M{"template": string(tmpl), "out": string(out)})
			}
		} else {
			report("VERDICT", rm.VID, "SignTemplate", label, rpOf(err).String(), "ALLOW", M{"template": string(tmpl)}, nil)
		}
	}
	ev, origin, eventID := mutate(r, rm, mut, "join", tmpl, user)
	res, err := membership.SendJoin(membership.SendJoinRequest{State: rm.State, ResidentServer: resident,
		Rooms: membership.KnownRooms(rooms), RoomID: rm.RoomID, EventID: eventID, Origin: origin, Event: ev,
		Key: authgen.KeyFor(resident, "1"), Keys: keyRing})
	req := M{"op": "send_join", "v": rm.VID, "state": rm.StateJSON(), "state_ids": rm.IDs, "resident": resident,
		"rooms": rooms, "room_id": rm.RoomID, "event_id": eventID, "origin": origin, "event": string(ev), "keys": refKeys}
	if err == nil {
		req["result"] = string(res.Event)
	}
	ref, ok := call(req)
	if ok {
		in := M{"event": string(ev), "origin": origin, "event_id": eventID, "rooms": rooms, "members": rm.Ms, "room_id": rm.RoomID}
		verdict(rm.VID, "SendJoin", label, rpOf(err), ref, in)
	}
	if err == nil {
		caseResponse(r, rm, ev, res.Event, label)
	}
}

var respMuts = []string{"none", "none", "none", "unsigned", "extra-bad-sig", "drop-resident", "bad-resident", "drop-joiner",
	"content", "extra-field", "other-event", "resident-wrong-key"}

func caseResponse(r *rand.Rand, rm *room, sent, returned []byte, label string) {
	mut := difftool.Pick(r, respMuts...)
	s := decode(returned)
	sigs := s["signatures"].(M)
	joiner := difftool.DomainOf(fmt.Sprint(s["sender"]))
	switch mut {
	case "unsigned":
		s["unsigned"] = M{"age": 1}
	case "drop-resident":
		delete(sigs, resident)
	case "bad-resident":
		if x, ok := sigs[resident].(M); ok {
			x["ed25519:1"] = authgen.DummySig
		}
	case "drop-joiner":
		if joiner != resident {
			delete(sigs, joiner)
		}
	case "content":
		s["content"].(M)["displayname"] = "x"
	case "extra-bad-sig":
		sigs["c.example"] = M{"ed25519:1": authgen.DummySig}
	case "extra-field":
		s["origin"] = "evil.example"
	case "other-event":
		s["depth"] = 99999
	case "resident-wrong-key":
		if joiner != resident {
			delete(sigs, resident)
			b, _ := signing.CountersignEvent(rm.V, difftool.Enc(s), resident, authgen.KeyFor("b.example", "1"))
			s = decode(b)
		}
	}
	ret := difftool.Enc(s)
	_, err := membership.CheckSendJoinResponse(rm.V, sent, ret, resident, keyRing)
	ref, ok := call(M{"op": "send_join_resp", "v": rm.VID, "sent": string(sent), "returned": string(ret),
		"resident": resident, "keys": refKeys})
	if ok {
		verdict(rm.VID, "CheckSendJoinResponse", label+" resp="+mut, rpOf(err), ref, M{"sent": string(sent), "returned": string(ret)})
	}
}

var knockMuts = []string{"none", "none", "none", "none", "room_id", "sender", "state_key", "membership", "type",
	"origin", "bad-sig", "no-sig", "wrong-key", "hash", "event_id", "sender-invalid", "not-json", "bad-json", "unsigned"}

// residentTemplate asks makeFn (MakeKnock or MakeLeave, named op) for user's template of the
// membership kind: a template it answers must pass the reference's template checks (op
// "(template)"); for a request it refuses a template is made by hand. It returns the template
// and makeFn's error.
func residentTemplate(rm *room, kind, op, user, label string, makeFn func(*authrules.State, string, membership.TemplateOptions) (membership.Template, error)) ([]byte, error) {
	tm, err := makeFn(rm.State, user, membership.TemplateOptions{Origin: resident, OriginServerTS: ts,
		PrevEvents: []string{rm.Last}, Depth: int64(rm.N + 1)})
	if err != nil {
		return rm.template(kind, user, ""), err
	}
	if ref, ok := call(M{"op": "check_template", "kind": kind, "room_id": rm.RoomID, "user_id": user, "template": string(tm.Event)}); ok {
		verdict(rm.VID, op+"(template)", label, rpAns{Allow: true}, ref, M{"template": string(tm.Event)})
	}
	return tm.Event, nil
}

func caseKnock(r *rand.Rand, rm *room) {
	pool := append(append([]string{}, remotes...), "@new:a.example", "@rob:r.example")
	user := difftool.Pick(r, pool...)
	label := "rule=" + rm.Rule + " user=" + rm.Ms[user] + rm.fed(user)
	tmpl, err := residentTemplate(rm, "knock", "MakeKnock", user, label, membership.MakeKnock)
	if ref, ok := call(M{"op": "make_knock", "v": rm.VID, "state": rm.StateJSON(), "user_id": user}); ok {
		verdict(rm.VID, "MakeKnock", label, rpOf(err), ref, M{"user": user, "members": rm.Ms})
	}
	mut := difftool.Pick(r, knockMuts...)
	label += " mut=" + mut
	ev, origin, eventID := mutate(r, rm, mut, "knock", tmpl, user)
	res, err := membership.SendKnock(membership.SendKnockRequest{State: rm.State, RoomID: rm.RoomID, EventID: eventID,
		Origin: origin, Event: ev, Keys: keyRing})
	req := M{"op": "send_knock", "v": rm.VID, "state": rm.StateJSON(), "state_ids": rm.IDs, "resident": resident,
		"room_id": rm.RoomID, "event_id": eventID, "origin": origin, "event": string(ev), "keys": refKeys}
	if err == nil {
		var krs []string
		for _, e := range res.KnockRoomState {
			krs = append(krs, string(e.Raw()))
		}
		req["knock_room_state"] = krs
	}
	ref, ok := call(req)
	if ok {
		verdict(rm.VID, "SendKnock", label, rpOf(err), ref, M{"event": string(ev), "origin": origin, "event_id": eventID, "members": rm.Ms})
	}
}

var leaveMuts = append(append([]string{}, knockMuts...), "authvia-able", "authvia-remote", "post-membership", "extra-bad-sig")

// caseLeave: make_leave (MakeLeave's verdict and template) and send_leave (SendLeave) for a user
// of any membership, with one mutation of the signed leave.
func caseLeave(r *rand.Rand, rm *room) {
	pool := append(append(append(append([]string{}, remotes...), residents...), locals...), "@new:a.example")
	user := difftool.Pick(r, pool...)
	label := "rule=" + rm.Rule + " user=" + rm.Ms[user] + rm.fed(user)
	tmpl, err := residentTemplate(rm, "leave", "MakeLeave", user, label, membership.MakeLeave)
	if ref, ok := call(M{"op": "make_leave", "v": rm.VID, "state": rm.StateJSON(), "user_id": user}); ok {
		verdict(rm.VID, "MakeLeave", label, rpOf(err), ref, M{"user": user, "members": rm.Ms})
	}
	amut, authRaws, tmpl := leaveAuthEvents(r, rm, user, tmpl, label)
	mut := difftool.Pick(r, leaveMuts...)
	if authRaws != nil && r.Intn(2) == 0 {
		mut = "none" // half the leaves with AuthEvents reach check 4 unmutated
	}
	label += " mut=" + mut + " auth=" + amut
	ev, origin, eventID := mutate(r, rm, mut, "leave", tmpl, user)
	var authEvents []*pdu.Event
	authT := []string{} // the events as the reference reads them
	for _, raw := range authRaws {
		e, err := signing.ParseEvent(rm.V, raw)
		if err != nil {
			panic(err) // invariant: the harness built these events itself
		}
		authEvents = append(authEvents, e)
		authT = append(authT, string(raw))
	}
	res, err := membership.SendLeave(membership.SendLeaveRequest{State: rm.State, RoomID: rm.RoomID, EventID: eventID,
		Origin: origin, Event: ev, Keys: keyRing, AuthEvents: authEvents})
	req := M{"op": "send_leave", "v": rm.VID, "state": rm.StateJSON(), "state_ids": rm.IDs,
		"room_id": rm.RoomID, "event_id": eventID, "origin": origin, "event": string(ev), "keys": refKeys}
	if authRaws != nil {
		req["leave_auth_events"] = authT
	}
	if err == nil {
		req["result"] = string(res.Parsed.Raw())
		req["body"] = json.RawMessage(res.JSON())
	}
	if ref, ok := call(req); ok {
		in := M{"event": string(ev), "origin": origin, "event_id": eventID, "members": rm.Ms}
		if authRaws != nil {
			in["auth_events"] = authT
		}
		verdict(rm.VID, "SendLeave", label, rpOf(err), ref, in)
	}
}

// authMuts are the AuthEvents drawn for a send_leave: none (""), the auth events selection of
// the current state ("right"), the template's own auth_events ("template"), and wrong sets:
// without the create event ("no-create"; in room version 12, where the create event must not be
// selected, with it), the power levels of another room ("other-room-pl"), an event the
// selection would not pick for a leave ("not-selected": join rules, name, topic, ...), the member
// event of another user ("other-member"), without the user's own member event ("no-own-member"),
// two power levels events ("duplicate-pl").
var authMuts = []string{"", "", "", "", "", "right", "right", "template", "no-create", "other-room-pl",
	"not-selected", "other-member", "no-own-member", "duplicate-pl"}

// leaveAuthEvents draws the AuthEvents of a send_leave (authMuts) and makes the template list
// exactly their IDs in auth_events, so that they are the leave's own auth events once signed.
// It returns the variant drawn, the events (nil for none) and the template.
func leaveAuthEvents(r *rand.Rand, rm *room, user string, tmpl []byte, label string) (string, [][]byte, []byte) {
	amut := difftool.Pick(r, authMuts...)
	if amut == "" {
		return "none", nil, tmpl
	}
	t := decode(tmpl)
	idx := map[string]int{} // type|state_key -> index in rm.Raws
	for i, raw := range rm.Raws {
		e := decode(raw)
		idx[fmt.Sprint(e["type"])+"|"+fmt.Sprint(e["state_key"])] = i
	}
	creator := fmt.Sprint(decode(rm.Raws[0])["sender"])
	var raws [][]byte
	add := func(key string) {
		if i, ok := idx[key]; ok {
			raws = append(raws, rm.Raws[i])
		}
	}
	if amut == "template" {
		// the template's auth_events: MakeLeave's auth events selection, or the harness's own
		// template (the create event) when MakeLeave refused
		ae, _ := t["auth_events"].([]any)
		for _, a := range ae {
			if p, ok := a.([]any); ok && len(p) > 0 { // v1-2: [event_id, hashes]
				a = p[0]
			}
			i := slices.Index(rm.IDs, fmt.Sprint(a))
			if i < 0 {
				report("OUTPUT", rm.VID, "MakeLeave(auth_events)", label, fmt.Sprint(ae), "events of the current state",
					M{"template": string(tmpl)}, nil)
				return "none", nil, tmpl
			}
			raws = append(raws, rm.Raws[i])
		}
		return amut, raws, tmpl
	}
	if rm.Ver < 12 && amut != "no-create" {
		add("m.room.create|")
	}
	if rm.Ver >= 12 && amut == "no-create" {
		add("m.room.create|") // v12: "m.room.create MUST NOT be selected"
		amut = "with-create"
	}
	if amut == "other-room-pl" {
		old := rm.RoomID
		rm.RoomID = "!elsewhere:b.example"
		raws = append(raws, rm.Mk("m.room.power_levels", creator, authgen.Sp(""), M{"users": M{}}))
		rm.RoomID = old
	} else {
		add("m.room.power_levels|")
	}
	if amut == "duplicate-pl" {
		raws = append(raws, rm.Mk("m.room.power_levels", creator, authgen.Sp(""), M{"users": M{}, "kick": 0}))
	}
	if amut != "no-own-member" {
		add("m.room.member|" + user)
	}
	switch amut {
	case "not-selected":
		var keys []string
		for _, k := range difftool.SortedKeys(idx) {
			if !strings.HasPrefix(k, "m.room.create|") && !strings.HasPrefix(k, "m.room.power_levels|") &&
				!strings.HasPrefix(k, "m.room.member|") {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			add(difftool.Pick(r, keys...))
			break
		}
		amut = "other-member"
		fallthrough
	case "other-member":
		var keys []string
		for _, k := range difftool.SortedKeys(idx) {
			if strings.HasPrefix(k, "m.room.member|") && k != "m.room.member|"+user {
				keys = append(keys, k)
			}
		}
		if len(keys) > 0 {
			add(difftool.Pick(r, keys...))
		}
	}
	refs := []any{}
	for _, raw := range raws {
		id, err := signing.EventID(rm.V, raw)
		if err != nil {
			panic(err) // invariant: the harness built these events itself
		}
		refs = append(refs, rm.Ref(id))
	}
	t["auth_events"] = refs
	return amut, raws, difftool.Enc(t)
}

var inviteMuts = []string{"none", "none", "none", "none", "type", "membership", "origin", "target-remote",
	"target-invalid", "room_id", "event_id", "bad-sig", "no-sig", "hash", "not-json", "bad-json", "eventid-local", "extra-bad-sig"}
var irsMuts = []string{"none", "none", "none", "drop-create", "other-room", "bad-sig", "unknown-key", "bad-format",
	"redacted-topic", "non-state", "member", "v12-create-room_id", "duplicate", "extra-types"}

func caseInvite(r *rand.Rand, rm *room) {
	inviter := "@mod:r.example"
	if r.Intn(3) == 0 {
		inviter = difftool.Pick(r, remotes...)
	}
	target := difftool.Pick(r, locals...)
	mut := difftool.Pick(r, inviteMuts...)
	imut := difftool.Pick(r, irsMuts...)
	label := "mut=" + mut + " irs=" + imut + rm.fed(inviter)
	srv := difftool.DomainOf(inviter)
	origin := srv
	t := M{"type": "m.room.member", "room_id": rm.RoomID, "sender": inviter, "state_key": target,
		"origin_server_ts": ts, "depth": rm.N + 1, "prev_events": []any{rm.Ref(rm.Last)},
		"auth_events": []any{rm.Ref(rm.IDs[0])}, "content": M{"membership": "invite"}}
	eventID := "$i1:" + srv
	if mut == "eventid-local" {
		eventID = "$i1:" + local
	}
	if rm.Ver <= 2 {
		t["event_id"] = eventID
	}
	switch mut {
	case "type":
		t["type"] = "m.room.memberx"
	case "membership":
		t["content"].(M)["membership"] = difftool.Pick(r, "join", "ban", "knock")
	case "origin":
		origin = difftool.Pick(r, "b.example", "l.example")
	case "target-remote":
		t["state_key"] = difftool.Pick(r, remotes...)
	case "target-invalid":
		t["state_key"] = difftool.Pick(r, "lou:l.example", "@lou", "l.example")
	case "room_id":
		t["room_id"] = "!elsewhere:b.example"
	}
	signed, _ := signing.SignEvent(rm.V, difftool.Enc(t), srv, authgen.KeyFor(srv, "1"))
	s := decode(signed)
	switch mut {
	case "bad-sig":
		s["signatures"].(M)[srv].(M)["ed25519:1"] = authgen.DummySig
	case "no-sig":
		delete(s["signatures"].(M), srv)
	case "extra-bad-sig":
		s["signatures"].(M)["b.example"] = M{"ed25519:1": authgen.DummySig}
	case "hash":
		s["content"].(M)["reason"] = "changed"
	case "bad-json":
		delete(s, "depth")
	}
	ev := difftool.Enc(s)
	if mut == "not-json" {
		ev = ev[:len(ev)-1]
	}
	if rm.Ver > 2 {
		if id, err := signing.EventID(rm.V, ev); err == nil {
			eventID = id
		}
	}
	if mut == "event_id" {
		eventID = "$wrong:" + srv
	}
	// invite_room_state
	var irs []json.RawMessage
	for _, e := range membership.StrippedState(rm.State) {
		irs = append(irs, json.RawMessage(e.Raw()))
	}
	mk := func(typ, sender string, sk *string, content M) []byte { return rm.Mk(typ, sender, sk, content) }
	sp := authgen.Sp
	switch imut {
	case "drop-create":
		irs = irs[1:]
	case "other-room":
		old := rm.RoomID
		rm.RoomID = "!elsewhere:b.example"
		irs = append(irs, mk("m.room.name", "@mod:r.example", sp(""), M{"name": "x"}))
		rm.RoomID = old
	case "bad-sig":
		i := r.Intn(len(irs))
		m := decode(irs[i])
		for srv := range m["signatures"].(M) {
			m["signatures"].(M)[srv].(M)["ed25519:1"] = authgen.DummySig
		}
		irs[i] = difftool.Enc(m)
	case "unknown-key":
		raw := mk("m.room.topic", "@mod:r.example", sp(""), M{"topic": "t"})
		m := decode(raw)
		m["signatures"] = M{"r.example": M{"ed25519:zzz": m["signatures"].(M)["r.example"].(M)["ed25519:1"]}}
		irs = append(irs, difftool.Enc(m))
	case "bad-format":
		i := r.Intn(len(irs))
		m := decode(irs[i])
		delete(m, difftool.Pick(r, "depth", "sender", "hashes", "auth_events"))
		irs[i] = difftool.Enc(m)
	case "redacted-topic":
		m := decode(mk("m.room.topic", "@mod:r.example", sp(""), M{"topic": "secret"}))
		m["content"] = M{}
		irs = append(irs, difftool.Enc(m))
	case "non-state":
		irs = append(irs, mk("m.room.message", "@mod:r.example", nil, M{"body": "hi"}))
	case "member":
		irs = append(irs, mk("m.room.member", "@mod:r.example", sp("@mod:r.example"), M{"membership": "join"}))
	case "v12-create-room_id":
		i := 0
		m := decode(irs[i])
		if _, ok := m["room_id"]; !ok && m["type"] == "m.room.create" {
			m["room_id"] = rm.RoomID
			b, _ := signing.SignEvent(rm.V, difftool.Enc(M{"x": 1}), "r.example", authgen.KeyFor("r.example", "1"))
			_ = b
			delete(m, "signatures")
			delete(m, "hashes")
			sb, err := signing.SignEvent(rm.V, difftool.Enc(m), difftool.DomainOf(fmt.Sprint(m["sender"])),
				authgen.KeyFor(difftool.DomainOf(fmt.Sprint(m["sender"])), "1"))
			if err == nil {
				irs[i] = sb
			}
		}
	case "duplicate":
		irs = append(irs, irs[0])
	case "extra-types":
		for _, raw := range rm.Raws {
			if strings.Contains(string(raw), "history_visibility") || strings.Contains(string(raw), "com.example.x") {
				irs = append(irs, raw)
			}
		}
	}
	res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: rm.V, RoomID: rm.RoomID, EventID: eventID,
		Origin: origin, Event: ev, InviteRoomState: irs, LocalServer: local, Key: authgen.KeyFor(local, "1"), Keys: keyRing})
	irsT := []string{} // an empty invite_room_state is the JSON list [], not null
	for _, e := range irs {
		irsT = append(irsT, string(e))
	}
	req := M{"op": "sign_invite", "v": rm.VID, "room_id": rm.RoomID, "event_id": eventID, "origin": origin,
		"local": local, "event": string(ev), "irs": irsT, "keys": refKeys}
	if err == nil {
		req["result"] = string(res.Event)
	}
	ref, ok := call(req)
	if !ok {
		return
	}
	in := M{"event": string(ev), "origin": origin, "event_id": eventID, "room_id": rm.RoomID, "irs": irsT}
	rp := rpOf(err)
	verdict(rm.VID, "SignInvite", label, rp, ref, in)
	if err == nil && ref.Allow {
		if (len(res.Warnings) > 0) != ref.Warnings {
			var ws []string
			for _, w := range res.Warnings {
				ws = append(ws, w.Error())
			}
			report("WARNINGS", rm.VID, "SignInvite", label, fmt.Sprintf("%d warnings (%s)", len(res.Warnings), difftool.Clip(strings.Join(ws, "; "), 300)),
				fmt.Sprintf("problems=%v (%s)", ref.Warnings, strings.Join(ref.IRSProblems, "; ")), in, ref.Amb)
		}
		if len(res.RoomState) != ref.Valid {
			report("VALID-COUNT", rm.VID, "SignInvite", label, fmt.Sprint(len(res.RoomState)), fmt.Sprintf("%d (%s)", ref.Valid, strings.Join(ref.IRSProblems, "; ")), in, ref.Amb)
		}
	}
}

var tmplMuts = []string{"none", "room_id", "sender", "state_key", "type", "membership", "content-missing",
	"membership-missing", "not-object", "not-json", "extra-fields"}

func caseTemplate(r *rand.Rand, rm *room) {
	kind := difftool.Pick(r, "join", "knock", "leave")
	user := difftool.Pick(r, remotes...)
	t := decode(rm.template(kind, user, ""))
	mut := difftool.Pick(r, tmplMuts...)
	switch mut {
	case "room_id":
		t["room_id"] = difftool.Pick[any](r, "!elsewhere:b.example", nil, strings.ToUpper(rm.RoomID))
	case "sender":
		t["sender"] = difftool.Pick[any](r, "@other:a.example", nil, 5)
	case "state_key":
		t["state_key"] = difftool.Pick[any](r, "@other:a.example", "", nil)
	case "type":
		t["type"] = difftool.Pick(r, "m.room.message", "m.room.Member")
	case "membership":
		t["content"].(M)["membership"] = difftool.Pick[any](r, "invite", "knock", "join", "JOIN", nil)
	case "content-missing":
		delete(t, "content")
	case "membership-missing":
		t["content"] = M{}
	case "extra-fields":
		t["hashes"] = M{"sha256": "x"}
		t["unsigned"] = M{"age": 1}
	}
	b := difftool.Enc(t)
	if mut == "not-object" {
		b = []byte(`["m.room.member"]`)
	}
	if mut == "not-json" {
		b = []byte(`{"type":`)
	}
	check := map[string]func(string, string, []byte) error{"join": membership.CheckJoinTemplate,
		"knock": membership.CheckKnockTemplate, "leave": membership.CheckLeaveTemplate}[kind]
	op := map[string]string{"join": "CheckJoinTemplate", "knock": "CheckKnockTemplate", "leave": "CheckLeaveTemplate"}[kind]
	err := check(rm.RoomID, user, b)
	ref, ok := call(M{"op": "check_template", "kind": kind, "room_id": rm.RoomID, "user_id": user, "template": string(b)})
	if ok {
		verdict(rm.VID, op, "mut="+mut, rpOf(err), ref, M{"template": string(b), "room_id": rm.RoomID, "user": user})
	}
}

func caseStripped(r *rand.Rand, rm *room) {
	evs := membership.StrippedState(rm.State)
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Raw()))
	}
	ref, ok := call(M{"op": "stripped_state", "state": rm.StateJSON(), "out": out})
	if ok {
		verdict(rm.VID, "StrippedState", "rule="+rm.Rule+rm.fed(""), rpAns{Allow: true}, ref, M{"out": out})
	}
	for _, raw := range rm.Raws {
		e, err := pdu.Parse(rm.V, raw)
		if err != nil {
			continue
		}
		b, err := membership.StripEvent(e)
		if err != nil {
			report("VERDICT", rm.VID, "StripEvent", "", err.Error(), "ALLOW", M{"event": string(raw)}, nil)
			continue
		}
		ref, ok := call(M{"op": "strip_event", "event": string(raw), "out": string(b)})
		if ok {
			verdict(rm.VID, "StripEvent", "", rpAns{Allow: true}, ref, M{"event": string(raw), "out": string(b)})
		}
	}
}

// compareTransitions compares FindTransition with the reference's table for one version.
func compareTransitions(vid string) {
	v := authgen.Version(vid)
	ref, ok := call(M{"op": "transitions", "v": vid})
	if !ok {
		return
	}
	for _, key := range difftool.SortedKeys(ref.Table) {
		var from, to, jr string
		var self bool
		f := strings.Fields(key)
		ft := strings.SplitN(f[0], ">", 2)
		from, to = ft[0], ft[1]
		if from == "-" {
			from = ""
		}
		self = f[1] == "self=True"
		jr = strings.TrimPrefix(f[2], "jr=")
		want := ref.Table[key]
		got, exists := membership.FindTransition(v, from, to, self, jr)
		run.Compared++
		run.Tally["v"+vid+" FindTransition"]++
		rp := "none"
		if exists {
			var lv []string
			for _, l := range got.Levels {
				lv = append(lv, string(l))
			}
			rp = fmt.Sprintf("levels=%v outranks=%v joined=%v authoriser=%v (%s %s)", lv, got.OutranksTarget,
				got.SenderJoined, got.Authoriser, got.Action, got.Meaning)
		}
		rs := "none"
		if want != nil {
			rs = fmt.Sprintf("levels=%v outranks=%v joined=%v authoriser=%v", want.Levels, want.Outranks,
				want.SenderJoined, want.Authoriser)
		}
		kind := ""
		switch {
		case exists != (want != nil):
			kind = "VERDICT"
		case exists && !sameLevels(got.Levels, want.Levels):
			kind = "LEVELS"
		case exists && (got.OutranksTarget != want.Outranks || got.SenderJoined != want.SenderJoined || got.Authoriser != want.Authoriser):
			kind = "FIELDS"
		}
		if kind != "" {
			report(kind, vid, "FindTransition", key, rp, rs, M{"key": key}, nil)
		}
	}
}

func sameLevels(a []membership.Level, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range b {
		m[x] = true
	}
	for _, x := range a {
		if !m[string(x)] {
			return false
		}
	}
	return true
}

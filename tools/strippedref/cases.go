package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"strings"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

const ts = int64(1_800_000_000_000)

// idServer is the identity server of third-party invites; its key is in no server key ring.
const idServer = "id.example"

func decode(b []byte) M {
	var m M
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	return m
}

var parens = regexp.MustCompile(`\([^)]*\)`)

var policies = []membership.StrippedStatePolicy{membership.StrippedStateDefault, membership.StrippedStateWarn,
	membership.StrippedStateError, membership.StrippedStateSkip}
var policyNames = []string{"default", "warn", "error", "skip"}

// entryKinds are the kinds of invite_room_state / knock_room_state entries drawn.
var entryKinds = []string{"state", "state", "state", "state-sk", "duplicate", "other-room", "bad-sig", "hash",
	"unknown-key", "no-sig", "client-form", "non-object", "non-state", "missing-field", "create-other-room",
	"create-client-form", "create-room_id", "create-sk", "extra-sig-bad", "extra-sig-good", "create-impostor",
	"dup-key", "float", "create-other-version", "redacted-create"}

// entry draws one invite_room_state entry of the given kind.
func (rm *room) entry(r *rand.Rand, kind string) []byte {
	sp := authgen.Sp
	pickState := func() []byte { return rm.Raws[r.Intn(len(rm.Raws))] }
	switch kind {
	case "state":
		return pickState()
	case "state-sk":
		t := difftool.Pick(r, "m.room.name", "m.room.topic", "m.room.create", "m.room.join_rules", "com.example.y")
		return rm.Mk(t, "@mod:r.example", sp(difftool.Pick(r, "x", "@mod:r.example", "")), M{"v": 1})
	case "duplicate":
		return rm.Raws[0]
	case "other-room":
		old := rm.RoomID
		rm.RoomID = difftool.Pick(r, "!elsewhere:b.example", otherRooms[0])
		b := rm.Mk(difftool.Pick(r, "m.room.name", "m.room.join_rules", "m.room.member"), "@mod:r.example", sp(""), M{"name": "x"})
		rm.RoomID = old
		return b
	case "bad-sig", "hash", "unknown-key", "no-sig", "missing-field", "extra-sig-bad", "extra-sig-good", "client-form":
		m := decode(pickState())
		srv := difftool.DomainOf(fmt.Sprint(m["sender"]))
		sigs := m["signatures"].(M)
		switch kind {
		case "bad-sig":
			sigs[srv].(M)["ed25519:1"] = authgen.DummySig
		case "hash":
			m["content"].(M)["zz"] = "changed"
		case "unknown-key":
			sigs[srv] = M{"ed25519:zzz": sigs[srv].(M)["ed25519:1"]}
		case "no-sig":
			delete(sigs, srv)
		case "missing-field":
			delete(m, difftool.Pick(r, "depth", "sender", "hashes", "auth_events", "prev_events", "content", "type"))
		case "extra-sig-bad":
			sigs["b.example"] = M{"ed25519:1": authgen.DummySig}
		case "extra-sig-good":
			return authgen.SignAll(rm.V, pickState(), []string{"b.example"})
		case "client-form":
			return difftool.Enc(M{"type": m["type"], "state_key": m["state_key"], "sender": m["sender"], "content": m["content"]})
		}
		return difftool.Enc(m)
	case "non-object":
		return []byte(difftool.Pick(r, `1`, `"m.room.create"`, `[]`, `null`, `[{"type":"m.room.create"}]`, `true`))
	case "non-state":
		return rm.Mk(difftool.Pick(r, "m.room.message", "m.room.create", "m.room.name"), "@mod:r.example", nil, M{"body": "hi"})
	case "create-other-room":
		// a create event signed for real but of another room
		cc := M{"room_version": rm.VID}
		if rm.Ver <= 10 {
			cc["creator"] = "@bea:b.example"
		}
		old, oldN := rm.RoomID, rm.N
		rm.RoomID = "!other:b.example"
		b := rm.Mk("m.room.create", "@bea:b.example", sp(""), cc)
		rm.RoomID, rm.N = old, oldN+1
		return b
	case "create-impostor":
		// a create event naming the room, made and validly signed by another server (v1-11;
		// in v12 it is a create of another room, whose ID is its own hash)
		cc := M{"room_version": rm.VID}
		if rm.Ver <= 10 {
			cc["creator"] = "@bea:b.example"
		}
		oldN := rm.N
		b := rm.Mk("m.room.create", "@bea:b.example", sp(""), cc)
		rm.N = oldN + 1
		return b
	case "create-other-version":
		// the room's create event re-made and signed as an event of another room version
		m := decode(rm.Raws[0])
		delete(m, "signatures")
		delete(m, "hashes")
		ov := authgen.Version(difftool.Pick(r, "1", "3", "4", "11", "12"))
		srv := difftool.DomainOf(fmt.Sprint(m["sender"]))
		b, err := signing.SignEvent(ov, difftool.Enc(m), srv, authgen.KeyFor(srv, "1"))
		if err != nil {
			return difftool.Enc(m)
		}
		return b
	case "redacted-create":
		m := decode(rm.Raws[0])
		m["content"] = M{}
		return difftool.Enc(m)
	case "dup-key":
		raw := pickState()
		return append([]byte(`{"type":"m.room.x",`), raw[1:]...)
	case "float":
		m := decode(pickState())
		m["content"].(M)["f"] = json.Number("1.5")
		delete(m, "signatures")
		delete(m, "hashes")
		srv := difftool.DomainOf(fmt.Sprint(m["sender"]))
		b, err := signing.SignEvent(authgen.Version("5"), difftool.Enc(m), srv, authgen.KeyFor(srv, "1"))
		if err != nil {
			return difftool.Enc(m)
		}
		return b
	case "create-client-form":
		m := decode(rm.Raws[0])
		return difftool.Enc(M{"type": m["type"], "state_key": m["state_key"], "sender": m["sender"], "content": m["content"]})
	case "create-room_id":
		m := decode(rm.Raws[0])
		m["room_id"] = rm.RoomID
		delete(m, "signatures")
		delete(m, "hashes")
		srv := difftool.DomainOf(fmt.Sprint(m["sender"]))
		b, err := signing.SignEvent(rm.V, difftool.Enc(m), srv, authgen.KeyFor(srv, "1"))
		if err != nil {
			return difftool.Enc(m)
		}
		return b
	case "create-sk":
		m := decode(rm.Raws[0])
		m["state_key"] = "x"
		delete(m, "signatures")
		delete(m, "hashes")
		srv := difftool.DomainOf(fmt.Sprint(m["sender"]))
		b, _ := signing.SignEvent(rm.V, difftool.Enc(m), srv, authgen.KeyFor(srv, "1"))
		return b
	}
	fmt.Fprintln(os.Stderr, "unknown entry kind", kind)
	run.Harness++
	return []byte("{}")
}

// drawEntries draws an invite_room_state list: StrippedState's selection, sometimes without the
// create event, plus a few entries of random kinds, shuffled or not; over the limit sometimes.
func (rm *room) drawEntries(r *rand.Rand) ([]json.RawMessage, string) {
	var irs []json.RawMessage
	for _, e := range membership.StrippedState(rm.State) {
		irs = append(irs, json.RawMessage(e.Raw()))
	}
	var kinds []string
	if r.Intn(5) == 0 {
		irs = irs[1:]
		kinds = append(kinds, "drop-create")
	}
	for n := r.Intn(4); n > 0; n-- {
		k := difftool.Pick(r, entryKinds...)
		kinds = append(kinds, k)
		irs = append(irs, rm.entry(r, k))
	}
	if r.Intn(3) == 0 {
		r.Shuffle(len(irs), func(i, j int) { irs[i], irs[j] = irs[j], irs[i] })
		kinds = append(kinds, "shuffled")
	}
	if r.Intn(30) == 0 {
		// past MaxStrippedState: the bound filled with valid entries, then k creates of other
		// rooms (or forged), then the room's create
		var out []json.RawMessage
		for len(out) < membership.MaxStrippedState {
			out = append(out, rm.entry(r, difftool.Pick(r, "state", "bad-sig")))
		}
		k := difftool.Pick(r, 0, 1, 5, 255, 256, 300)
		fk := difftool.Pick(r, "create-other-room", "create-client-form", "bad-sig-create")
		for i := 0; i < k; i++ {
			if fk == "bad-sig-create" {
				m := decode(rm.Raws[0])
				for srv := range m["signatures"].(M) {
					m["signatures"].(M)[srv].(M)["ed25519:1"] = authgen.DummySig
				}
				out = append(out, difftool.Enc(m))
			} else {
				out = append(out, rm.entry(r, fk))
			}
			if r.Intn(3) == 0 {
				out = append(out, rm.entry(r, "state"))
			}
		}
		out = append(out, rm.Raws[0])
		return out, fmt.Sprintf("over-limit-creates(%d,%s)", k, fk)
	}
	if r.Intn(12) == 0 {
		// past MaxStrippedState: filler, with the create event before or after the bound
		total := membership.MaxStrippedState + 1 + r.Intn(40)
		fill := difftool.Pick(r, "state", "bad-sig", "non-object", "create-other-room")
		var out []json.RawMessage
		for len(out) < total {
			out = append(out, rm.entry(r, fill))
		}
		pos := difftool.Pick(r, 0, membership.MaxStrippedState-1, membership.MaxStrippedState, total-1)
		if r.Intn(4) != 0 {
			out[pos] = rm.Raws[0]
		}
		irs = out
		kinds = append(kinds, fmt.Sprintf("over-limit(%d,%s,create@%d)", total, fill, pos))
	}
	return irs, strings.Join(kinds, ",")
}

func texts(rs []json.RawMessage) []string {
	out := make([]string, len(rs))
	for i, b := range rs {
		out[i] = string(b)
	}
	return out
}

func raws(evs []*pdu.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Raw())
	}
	return out
}

// caseCheckStripped compares CheckStrippedState on a drawn list.
func caseCheckStripped(r *rand.Rand, rm *room) {
	irs, label := rm.drawEntries(r)
	valid, probs := membership.CheckStrippedState(rm.V, rm.RoomID, irs, keyRing)
	for _, p := range probs {
		var me *membership.Error
		if !asErr(p, &me) {
			report("PROBLEM-TYPE", rm.VID, "CheckStrippedState", label, p.Error(), "*membership.Error", nil, nil)
		} else if me.Status != 400 || me.ErrCode != "M_INVALID_PARAM" {
			report("PROBLEM-CODE", rm.VID, "CheckStrippedState", label, fmt.Sprintf("%d %s", me.Status, me.ErrCode), "400 M_INVALID_PARAM", nil, nil)
		}
	}
	req := M{"op": "check_stripped", "v": rm.VID, "room_id": rm.RoomID, "entries": texts(irs), "keys": refKeys,
		"rp_valid": raws(valid), "rp_problems": len(probs)}
	ref, ok := call(req)
	if !ok {
		return
	}
	in := M{"room_id": rm.RoomID, "entries": texts(irs)}
	verdict(rm.VID, "CheckStrippedState", label, rpAns{Allow: true}, ref, in)
	res := "clean"
	if len(probs) > 0 {
		res = "problems"
	}
	for _, k := range strings.Split(parens.ReplaceAllString(label, ""), ",") {
		if i := strings.Index(k, "("); i >= 0 {
			k = k[:i]
		}
		if k != "" {
			run.Outcomes["CheckStrippedState "+k+" -> "+res]++
		}
	}
}

var inviteMuts = []string{"none", "none", "none", "none", "type", "membership", "origin", "target-remote",
	"target-invalid", "room_id", "event_id", "bad-sig", "no-sig", "hash", "not-json", "bad-json",
	"extra-bad-sig", "extra-good-sig", "local-sig", "local-sig-bad", "wrong-version", "unsigned",
	"3pid", "3pid", "3pid", "3pid", "eventid-local", "sender-invalid", "target-port", "membership-nonstring", "no-path"}

var tpiMuts = []string{"good", "good", "bad-sig", "mxid", "no-token", "no-signed", "no-mxid", "signed-not-object",
	"sigs-empty", "other-server-signs", "no-server-sig"}

// caseInvite compares SignInvite.
func caseInvite(r *rand.Rand, rm *room) {
	inviter := difftool.Pick(r, "@mod:r.example", "@mod:r.example", remotes[0], remotes[2], locals[1])
	target := difftool.Pick(r, locals...)
	mut := difftool.Pick(r, inviteMuts...)
	tmut := ""
	if mut == "3pid" {
		tmut = difftool.Pick(r, tpiMuts...)
	}
	pi := r.Intn(len(policies))
	label := "mut=" + mut + " policy=" + policyNames[pi]
	if tmut != "" {
		label += " tpi=" + tmut
	}
	srv := difftool.DomainOf(inviter)
	origin := srv
	if inviter == locals[1] && r.Intn(2) == 0 {
		origin = "r.example"
	}
	if r.Intn(10) == 0 {
		origin = ""
	}
	t := M{"type": "m.room.member", "room_id": rm.RoomID, "sender": inviter, "state_key": target,
		"origin_server_ts": ts, "depth": rm.N + 1, "prev_events": []any{rm.Ref(rm.Last)},
		"auth_events": []any{rm.Ref(rm.IDs[0])}, "content": M{"membership": "invite"}}
	if r.Intn(4) == 0 {
		t["origin"] = srv
	}
	eventID := "$i1:" + srv
	if mut == "eventid-local" {
		eventID = "$i1:" + local
	}
	if rm.Ver <= 2 {
		t["event_id"] = eventID
	}
	switch mut {
	case "type":
		t["type"] = difftool.Pick(r, "m.room.memberx", "m.room.name")
	case "membership":
		t["content"].(M)["membership"] = difftool.Pick(r, "join", "ban", "knock", "leave", "INVITE")
	case "origin":
		origin = difftool.Pick(r, "b.example", "l.example")
	case "target-remote":
		t["state_key"] = difftool.Pick(r, remotes...)
	case "target-invalid":
		t["state_key"] = difftool.Pick(r, "lou:l.example", "@lou", "l.example", "@:l.example")
	case "room_id":
		t["room_id"] = "!elsewhere:b.example"
	case "sender-invalid":
		t["sender"] = difftool.Pick(r, "joe:"+srv, "@joe", "@:"+srv, "@joe:"+srv+":x")
	case "target-port":
		t["state_key"] = difftool.Pick(r, "@lou:l.example:8448", "@lou:L.example", "@lou:l.example.")
	case "membership-nonstring":
		t["content"].(M)["membership"] = difftool.Pick[any](r, nil, 1, []any{"invite"})
	case "unsigned":
		t["unsigned"] = M{"age": 5}
	case "3pid":
		tok := "tok" + fmt.Sprint(r.Intn(3))
		signed := M{"mxid": target, "token": tok}
		sb, _ := signing.SignJSON(difftool.Enc(signed), idServer, authgen.KeyFor(idServer, "0"))
		sm := decode(sb)
		switch tmut {
		case "bad-sig":
			sm["signatures"].(M)[idServer].(M)["ed25519:0"] = authgen.DummySig
		case "mxid":
			sm["mxid"] = difftool.Pick(r, locals[0], remotes[0], "x")
			if sm["mxid"] == target {
				sm["mxid"] = remotes[1]
			}
		case "no-token":
			delete(sm, "token")
		case "no-mxid":
			delete(sm, "mxid")
		case "sigs-empty":
			sm["signatures"] = M{}
		}
		tpi := M{"display_name": "a...@example.com", "signed": sm}
		switch tmut {
		case "no-signed":
			delete(tpi, "signed")
		case "signed-not-object":
			tpi["signed"] = "x"
		}
		t["content"].(M)["third_party_invite"] = tpi
	}
	signer := srv
	if tmut == "other-server-signs" {
		signer = "b.example"
	}
	signed, err := signing.SignEvent(rm.V, difftool.Enc(t), signer, authgen.KeyFor(signer, "1"))
	if err != nil {
		signed = difftool.Enc(t)
	}
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
	case "local-sig-bad":
		s["signatures"].(M)[local] = M{"ed25519:1": authgen.DummySig}
	case "bad-json":
		delete(s, difftool.Pick(r, "depth", "prev_events", "hashes"))
	}
	if tmut == "no-server-sig" {
		s["signatures"] = M{}
	}
	ev := difftool.Enc(s)
	switch mut {
	case "extra-good-sig":
		ev = authgen.SignAll(rm.V, ev, []string{"b.example"})
	case "local-sig":
		// the invited server's own signature already there (by a key of another ID)
		ev, _ = signing.SignJSON(ev, local, authgen.KeyFor(local, "2"))
	case "not-json":
		ev = ev[:len(ev)-1]
	}
	v, vid := rm.V, rm.VID
	if mut == "wrong-version" {
		vid = difftool.Pick(r, pyref.Versions...)
		if vid == rm.VID {
			vid = difftool.Pick(r, "1", "3", "11", "12")
		}
		v = authgen.Version(vid)
		label += " as=v" + vid
	}
	if rm.Ver > 2 || mut == "wrong-version" {
		if id, err := signing.EventID(v, ev); err == nil {
			eventID = id
		}
	}
	if mut == "event_id" {
		eventID = "$wrong:" + srv
	}
	roomID := rm.RoomID
	if r.Intn(10) == 0 || mut == "no-path" {
		eventID = ""
	}
	if mut == "no-path" {
		roomID = ""
	}
	irs, irsLabel := rm.drawEntries(r)
	label += " irs=" + irsLabel
	res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: v, RoomID: roomID, EventID: eventID,
		Origin: origin, Event: ev, InviteRoomState: irs, LocalServer: local, Key: authgen.KeyFor(local, "1"), Keys: keyRing,
		RoomState: policies[pi]})
	req := M{"op": "sign_invite", "v": vid, "policy": policyNames[pi], "room_id": roomID, "event_id": eventID,
		"origin": origin, "local": local, "event": string(ev), "irs": texts(irs), "keys": refKeys}
	if err == nil {
		req["result"] = string(res.Event)
		req["rp_valid"] = raws(res.RoomState)
		req["rp_warnings"] = len(res.Warnings)
		if body := decode(res.JSON()); len(body) != 1 || string(difftool.Enc(body["event"])) != string(difftool.Enc(decode(res.Event))) {
			report("OUTPUT", vid, "SignInvite", label, "JSON() = "+difftool.Clip(string(res.JSON()), 300), `{"event": Event} (invites-v2.yaml 200)`, nil, nil)
		}
		if res.Parsed == nil || string(res.Parsed.Raw()) != string(res.Event) {
			report("OUTPUT", vid, "SignInvite", label, "Parsed does not hold Event", "Parsed.Raw() == Event", nil, nil)
		}
	}
	ref, ok := call(req)
	if !ok {
		return
	}
	in := M{"v": vid, "event": string(ev), "origin": origin, "event_id": eventID, "room_id": rm.RoomID,
		"policy": policyNames[pi], "irs": difftool.Clip(strings.Join(texts(irs), "\n"), 3000)}
	verdict(vid, "SignInvite", label, rpOf(err), ref, in)
}

// caseStripped compares StrippedState and StripEvent on every event of a room (and a few
// non-state events).
func caseStripped(r *rand.Rand, rm *room) {
	evs := membership.StrippedState(rm.State)
	ref, ok := call(M{"op": "stripped_state", "v": rm.VID, "state": texts(rm.StateJSON()), "out": raws(evs)})
	if ok {
		verdict(rm.VID, "StrippedState", "rule="+rm.Rule, rpAns{Allow: true}, ref, M{"out": raws(evs)})
	}
	all := append([][]byte{}, rm.Raws...)
	all = append(all, rm.Mk("m.room.message", "@mod:r.example", nil, M{"body": "hi"}))
	all = append(all, rm.Mk("m.room.topic", "@mod:r.example", authgen.Sp("@mod:r.example"), M{"topic": "t", "n": M{"a": []any{1, "\u00e9"}}}))
	for _, raw := range all {
		e, err := pdu.Parse(rm.V, raw)
		if err != nil {
			continue
		}
		req := M{"op": "strip_event", "event": string(raw)}
		b, err := membership.StripEvent(e)
		if err != nil {
			req["err"] = err.Error()
		} else {
			req["out"] = string(b)
		}
		ref, ok := call(req)
		if ok {
			verdict(rm.VID, "StripEvent", "", rpAns{Allow: true}, ref, M{"event": string(raw), "out": string(b)})
		}
	}
}

func main() {
	var fl pyref.Flags
	fl.Define(flag.CommandLine, 2000, "STRIPPEDREF_DECISIONS", false, "")
	flag.Parse()

	ref := fl.Start(pyref.Beside("strippedref.py"))
	ask = func(req M) (a refAns) {
		ref.MustAskNote(req, &a, &a.Error)
		return a
	}
	versions := fl.VersionList()
	r := fl.Rand()
	for i := 0; i < fl.N; i++ {
		vid := difftool.Pick(r, versions...)
		rm := genRoom(r, vid, false)
		switch k := r.Intn(10); {
		case k < 4:
			caseCheckStripped(r, rm)
		case k < 9:
			caseInvite(r, rm)
		default:
			caseStripped(r, rm)
		}
	}
	ref.Close()
	summary(fl.Verbose)
}

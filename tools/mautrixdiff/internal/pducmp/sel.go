//go:build goexperiment.jsonv2

package pducmp

// Area select: mautrix PDU.AuthEventSelection vs authrules.AuthEventsNeeded.

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

func init() {
	register(
		&Class{"SEL-create-without-state_key", "select", CatSilent, "an m.room.create event without state_key: roomproto selects nothing (the create event's auth events are empty), mautrix selects as for any event (create, power levels, sender's member)",
			"server-server-api.md \"Auth events selection\": \"The auth_events for the m.room.create event in a room is empty\" (a create without state_key is not a valid create event; auth rule 1 rejects it either way); not in decisions.md (AuthEventsNeeded doc comment)"},
		&Class{"SEL-member-without-state_key", "select", CatSilent, "an m.room.member event without state_key: roomproto still adds m.room.join_rules (join/invite/knock), the third-party invite and the authoriser's member; mautrix adds nothing beyond the common three",
			"server-server-api.md \"Auth events selection\" (the join_rules/third_party_invite/authoriser items do not depend on a target); auth rule 4.1 rejects such events anyway; recorded in AuthEventsNeeded's doc comment, not decisions.md"},
		&Class{"SEL-empty-string-token-or-authoriser", "select", CatMtx, "third_party_invite.signed.token \"\" (invite) or join_authorised_via_users_server \"\" (v8+ join): roomproto selects (m.room.third_party_invite, \"\") / (m.room.member, \"\"), mautrix skips empty strings",
			"server-server-api.md \"Auth events selection\": \"with state_key matching content.third_party_invite.signed.token\"; \"If membership is join, content.join_authorised_via_users_server is present, ...\" (\"\" is present and matches state_key \"\")"},
		&Class{"S-v1-2-unknown-keyid-rejects", "sign", CatMtx, "v1-2: a signature of a required server under a key ID the verifier does not know (ed25519:zz, curve25519:1) next to a valid one: mautrix's RoomV1PDU.VerifySignature fails on it (v3+ PDU skips it), roomproto skips it",
			"server-server-api.md \"If all signatures from known unexpired keys from the originating server(s) are found to be valid\" (unknown keys do not count); appendices.md \"Checking for a Signature\" (only ed25519 is checked); decisions.md (signing) 4"},
	)
}

func genSelectEvent(r *rand.Rand, ver int) []byte {
	for tries := 0; ; tries++ {
		g := genEvent(r, ver)
		if g.Base != nil {
			g.Ev = g.Base
		}
		ev := g.Ev
		if r.Intn(3) > 0 {
			ev = ev.set("type", "m.room.member")
			if _, ok := ev.get("state_key"); !ok || r.Intn(4) == 0 {
				ev = ev.set("state_key", user(r))
			}
			co := Obj{{K: "membership", V: difftool.Pick[any](r, "join", "invite", "knock", "leave", "ban", "JOIN", 5, nil)}}
			if r.Intn(2) == 0 {
				co = append(co, KV{K: "join_authorised_via_users_server", V: difftool.Pick[any](r, user(r), "", 5, nil, "@auth:c.example")})
			}
			if r.Intn(2) == 0 {
				var tok any = difftool.Pick[any](r, "tok1", "", 7, nil)
				signed := Obj{{K: "mxid", V: user(r)}, {K: "token", V: tok}}
				if r.Intn(6) == 0 {
					signed = signed.del("token")
				}
				tpi := difftool.Pick[any](r, Obj{{K: "signed", V: signed}}, Obj{{K: "signed", V: signed}}, Obj{}, "x")
				co = append(co, KV{K: "third_party_invite", V: tpi})
			}
			ev = ev.set("content", co)
		}
		if r.Intn(15) == 0 {
			ev = ev.set("type", "m.room.create")
			if r.Intn(3) == 0 {
				ev = ev.del("state_key")
			}
			ev = ev.set("content", Obj{{K: "creator", V: user(r)}, {K: "room_version", V: fmt.Sprint(ver)}})
			if ver >= 12 {
				ev = ev.del("room_id")
			}
		}
		if r.Intn(20) == 0 {
			ev = ev.del("state_key")
		}
		raw := enc(ev)
		if _, err := pdu.Parse(rpV(ver), raw); err == nil || tries > 50 {
			return raw
		}
	}
}

func runSelect(rc *recorder, seed int64, n int) {
	r := rand.New(rand.NewSource(seed + 3000))
	for i := 0; i < n; i++ {
		ver := 1 + i%12
		selectOne(rc, ver, genSelectEvent(r, ver))
	}
}

// selectOne compares the selection of one event (events pdu.Parse refuses are not compared).
func selectOne(rc *recorder, ver int, raw []byte) {
	ev, err := pdu.Parse(rpV(ver), raw)
	if err != nil {
		return
	}
	rpKeys, err := authrules.AuthEventsNeeded(rpV(ver), ev)
	var rpS, mtxS []string
	rpO := Outcome{}
	if err != nil {
		rpO = errOut(err)
	} else {
		for _, k := range rpKeys {
			rpS = append(rpS, k.Type+"|"+k.StateKey)
		}
		rpO.Val = strings.Join(rpS, " ; ")
	}
	p, perr := mtxParse(ver, raw)
	mtxO := Outcome{}
	if perr != nil {
		mtxO = errOut(perr)
	} else {
		for _, k := range p.AuthEventSelection(mtxV(ver)) {
			mtxS = append(mtxS, k.Type+"|"+k.StateKey)
		}
		mtxO.Val = strings.Join(mtxS, " ; ")
	}
	if agree(rpO, mtxO) {
		rc.record("select", true, "", "")
		return
	}
	rc.record("select", false, classifySelect(ver, raw, rpO, mtxO), fmt.Sprintf("v%d %s | rp=[%s] | mtx=[%s]", ver, raw, rpO, mtxO))
}

func classifySelect(ver int, raw []byte, rp, mtx Outcome) string {
	m := difftool.Decode(raw)
	_, hasSK := m["state_key"]
	if m["type"] == "m.room.create" && !hasSK && rp.Val == "" {
		return "SEL-create-without-state_key"
	}
	c, _ := m["content"].(map[string]any)
	if m["type"] == "m.room.member" && !hasSK {
		return "SEL-member-without-state_key"
	}
	if m["type"] == "m.room.member" {
		via, viaOK := c["join_authorised_via_users_server"].(string)
		var tok any
		if t, ok := c["third_party_invite"].(map[string]any); ok {
			if sg, ok := t["signed"].(map[string]any); ok {
				tok = sg["token"]
			}
		}
		if (viaOK && via == "" && c["membership"] == "join" && ver >= 8) || (tok == "" && c["membership"] == "invite") {
			return "SEL-empty-string-token-or-authoriser"
		}
	}
	return fmt.Sprintf("membership=%v via=%T tpi=%T", c["membership"], c["join_authorised_via_users_server"], c["third_party_invite"]) + " " + "select " + verBand(ver) + " " + shape(rp, mtx)
}

//go:build goexperiment.jsonv2

package v12cmp

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"maunium.net/go/mautrix/id"
)

// runSelect compares the auth events selection for v11 and v12 events.
func runSelect(t *difftool.Tally, r *rand.Rand, n int) {
	for i := 0; i < n; i++ {
		verS := difftool.Pick(r, "11", "12", "12")
		v := authgen.Version(verS)
		typ := difftool.Pick(r, "m.room.member", "m.room.member", "m.room.member", "m.room.message", "m.room.power_levels", "m.room.create", "m.room.third_party_invite", "m.room.join_rules")
		sender := randUser(r)
		m := M{"type": typ, "sender": sender, "prev_events": A{}, "auth_events": A{}, "depth": 3, "origin_server_ts": 1,
			"hashes": M{"sha256": "AAAA"}, "signatures": M{}, "room_id": "!" + strings.Repeat("R", 43)}
		content := M{}
		if typ != "m.room.message" || r.Intn(5) == 0 {
			m["state_key"] = ""
		}
		if typ == "m.room.create" {
			if verS == "12" && r.Intn(3) != 0 {
				delete(m, "room_id")
			}
		}
		if typ == "m.room.member" {
			m["state_key"] = difftool.Pick(r, sender, randUser(r), "", "notauser")
			if r.Intn(10) == 0 {
				delete(m, "state_key")
			}
			content["membership"] = difftool.Pick[any](r, "join", "invite", "leave", "ban", "knock", "bogus", 5, nil)
			if content["membership"] == nil {
				delete(content, "membership")
			}
			if r.Intn(3) == 0 {
				content["join_authorised_via_users_server"] = difftool.Pick[any](r, carol, bob, "", 5, "notauser", sender)
			}
			if r.Intn(3) == 0 {
				content["third_party_invite"] = difftool.Pick[any](r,
					M{"signed": M{"token": "tok", "mxid": zed}},
					M{"signed": M{"token": ""}},
					M{"signed": M{"token": 5}},
					M{"signed": "x"},
					M{},
					"x")
			}
		}
		m["content"] = content
		raw := difftool.Enc(m)
		e, err := pdu.Parse(v, raw)
		if err != nil {
			continue
		}
		mp, err := unmarshalMx(raw)
		if err != nil {
			continue
		}
		s := area(t, "select-v"+verS)
		rk, rerr := authrules.AuthEventsNeeded(v, e)
		rs := []string{}
		for _, k := range rk {
			rs = append(rs, k.Type+"|"+k.StateKey)
		}
		ms := []string{}
		for _, k := range mp.AuthEventSelection(id.RoomVersion(verS)) {
			ms = append(ms, k.Type+"|"+k.StateKey)
		}
		sort.Strings(rs)
		sort.Strings(ms)
		rj, mj := strings.Join(rs, ","), strings.Join(ms, ",")
		if rerr != nil {
			rj = "ERR " + rerr.Error()
		}
		if rj == mj {
			s.ok()
			continue
		}
		s.diverge(classifySelect(verS, m, rs, ms, rerr), jsonStr(raw), rj, mj)
	}
}

func classifySelect(verS string, m M, rs, ms []string, rerr error) string {
	d := diffSets(rs, ms)
	content := m["content"].(M)
	_, hasSK := m["state_key"]
	if m["type"] == "m.room.member" && !hasSK && !strings.Contains(d, "mx-only") {
		return "select-member-without-state-key"
	}
	if !strings.Contains(d, "mx-only") {
		ok := true
		for _, part := range strings.Split(d, ",") {
			switch part {
			case "rp-only:m.room.third_party_invite":
				tpi, _ := content["third_party_invite"].(M)
				sg, _ := tpi["signed"].(M)
				if sg["token"] != "" {
					ok = false
				}
			case "rp-only:m.room.member":
				if content["join_authorised_via_users_server"] != "" {
					ok = false
				}
			default:
				ok = false
			}
		}
		if ok {
			return "select-empty-token-or-authoriser"
		}
	}
	return fmt.Sprintf("?sel|%v", d)
}

func diffSets(a, b []string) string {
	in := map[string]int{}
	for _, x := range a {
		in[x] |= 1
	}
	for _, x := range b {
		in[x] |= 2
	}
	var out []string
	for k, v := range in {
		switch v {
		case 1:
			out = append(out, "rp-only:"+strings.SplitN(k, "|", 2)[0])
		case 2:
			out = append(out, "mx-only:"+strings.SplitN(k, "|", 2)[0])
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

//go:build goexperiment.jsonv2

package v12cmp

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

var acVariants = []any{
	nil, // absent
	A{}, A{carol}, A{carol, carol}, A{alice}, A{alice, carol}, "@carol:c.example", "jsonnull", 5, A{5}, A{nil}, A{A{carol}},
	A{"@carol"}, A{"carol:c.example"}, A{"@carol:c e"}, A{"@:c.example"}, A{"@Carol:c.example"}, A{"@x:a_b.example"},
	A{"@x:[::1]"}, A{"@x:c.example:99999"}, A{"@x:c.example:8448"}, A{"@x:1.2.3.4"}, A{"@x\u00e9:c.example"}, M{},
	A{"@" + strings.Repeat("x", 260) + ":c.example"}, A{"!room:c.example"}, A{"@x:"}, A{":c.example"},
}

// runCreate compares rule 1 on mutated v12 create events.
func runCreate(t *difftool.Tally, r *rand.Rand, n int) {
	k := newKeyring()
	for i := 0; i < n; i++ {
		cc := M{"room_version": "12"}
		tags := []string{}
		switch r.Intn(8) {
		case 0:
			delete(cc, "room_version")
			tags = append(tags, "rv-absent")
		case 1:
			cc["room_version"] = difftool.Pick[any](r, "11", "99", 12, "")
			tags = append(tags, fmt.Sprintf("rv:%v", cc["room_version"]))
		}
		ac := acVariants[r.Intn(len(acVariants))]
		jsonNullAC := false
		if ac != nil {
			if ac == "jsonnull" {
				jsonNullAC = true
				cc["additional_creators"] = nil
			} else {
				cc["additional_creators"] = deep(ac)
			}
			tags = append(tags, "ac:"+string(difftool.Enc(cc["additional_creators"])))
		}
		if r.Intn(5) == 0 {
			cc["m.federate"] = difftool.Pick[any](r, false, true, "false")
		}
		if r.Intn(6) == 0 {
			cc["creator"] = alice
		}
		m := M{"type": "m.room.create", "sender": difftool.Pick(r, alice, alice, alice, "@alice:a.example:8448"), "state_key": "", "content": cc,
			"prev_events": A{}, "auth_events": A{}, "depth": 1, "origin_server_ts": 1700000000000 + r.Intn(1000),
			"hashes": M{"sha256": "AAAA"}, "signatures": M{}}
		switch r.Intn(6) {
		case 0:
			m["room_id"] = difftool.Pick[any](r, "", nil, "!x:a.example", "!abc", 5)
			tags = append(tags, "roomid:"+string(difftool.Enc(m["room_id"])))
		}
		if r.Intn(10) == 0 {
			m["prev_events"] = A{"$" + strings.Repeat("B", 43)}
			tags = append(tags, "prev")
		}
		if r.Intn(10) == 0 {
			m["auth_events"] = A{"$" + strings.Repeat("C", 43)}
			tags = append(tags, "auth")
		}
		if r.Intn(8) == 0 {
			delete(m, "state_key")
			tags = append(tags, "no-state-key")
		}
		_ = jsonNullAC
		sender := m["sender"].(string)
		raw, err := signing.SignEvent(v12, difftool.Enc(m), serverOf(sender), k.priv[serverOf(sender)])
		s := area(t, "create-v12")
		input := fmt.Sprintf("tags=%v event=%s", tags, jsonStr(difftool.Enc(m)))
		if err != nil {
			s.diverge("sign-refused", input, err.Error(), "")
			continue
		}
		e, err := parseBoth(v12, raw)
		if err != nil {
			// roomproto refuses the event format; what does mautrix say?
			var p = tryMx(raw)
			if p == nil {
				s.ok()
				continue
			}
			mv := mxVerdict(safeAuthorize("12", p, nil, nil, k))
			if !mv.allow {
				s.ok()
				continue
			}
			s.diverge(classifyCreate(tags, verdict{rule: "parse", msg: err.Error()}, mv), input, "REFUSED by pdu.Parse: "+err.Error(), mv.String())
			continue
		}
		rv := rpVerdict(authrules.Check(v12, e.rp, nil, k))
		mv := mxVerdict(safeAuthorize("12", e.mx, nil, nil, k))
		if rv.allow == mv.allow {
			s.ok()
			continue
		}
		s.diverge(classifyCreate(tags, rv, mv), input, rv.String(), mv.String())
	}
}

func tryMx(raw []byte) *mpduPDU {
	p, err := unmarshalMx(raw)
	if err != nil {
		return nil
	}
	return p
}

func hasTag(tags []string, prefix string) (string, bool) {
	for _, t := range tags {
		if strings.HasPrefix(t, prefix) {
			return strings.TrimPrefix(t, prefix), true
		}
	}
	return "", false
}

func classifyCreate(tags []string, rv, mv verdict) string {
	if rv.rule == "1.3" && mv.allow {
		return "create-room-version-content-not-read"
	}
	if v, ok := hasTag(tags, "roomid:"); ok && (v == `""` || v == "null") && mv.allow {
		return "create-room-id-empty-or-null"
	}
	if v, ok := hasTag(tags, "ac:"); ok && rv.rule == "1.4" && mv.allow {
		if v == "null" {
			return "additional-creators-null"
		}
		if arr, ok := decodeAny([]byte(v)).([]any); ok {
			long, badServer := false, false
			for _, x := range arr {
				u, _ := x.(string)
				if len(u) > 255 {
					long = true
				}
				if i := strings.IndexByte(u, ':'); i > 0 && !pdu.ValidServerName(u[i+1:]) {
					badServer = true
				}
			}
			if long {
				return "additional-creators-user-id-too-long"
			}
			if badServer {
				return "additional-creators-bad-server-name"
			}
		}
	}
	return fmt.Sprintf("?%v|rp=%s|mx=%s|%v", rv.allow, rv.rule, mv.rule, tags)
}

var _ = pdu.Parse

//go:build goexperiment.jsonv2

package v12cmp

import (
	"bytes"
	"fmt"
	"math/rand"
	"strings"

	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	mcanon "maunium.net/go/mautrix/crypto/canonicaljson"
	"maunium.net/go/mautrix/id"
)

// runHash compares redaction, content hash, event ID and (creates) room ID for v12 (and v11) events.
func runHash(t *difftool.Tally, r *rand.Rand, n int) {
	k := newKeyring()
	for i := 0; i < n; i++ {
		verS := difftool.Pick(r, "12", "12", "11")
		v := authgen.Version(verS)
		typ := difftool.Pick(r, "m.room.create", "m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules", "m.room.redaction", "m.room.message", "m.room.history_visibility", "m.room.name")
		tags := []string{"v" + verS, typ}
		m := M{"type": typ, "sender": alice, "prev_events": A{"$" + strings.Repeat("P", 43)}, "auth_events": A{}, "depth": 5,
			"origin_server_ts": 1700000000000 + r.Intn(1000), "room_id": "!" + strings.Repeat("R", 43), "signatures": M{}, "hashes": M{"sha256": "AAAA"}}
		content := M{"x": 1, "body": "b"}
		switch typ {
		case "m.room.create":
			m["state_key"] = ""
			m["prev_events"] = A{}
			content = M{"room_version": verS, "additional_creators": A{carol}, "m.federate": true, "predecessor": M{"room_id": "!old"}, "extra": "x"}
			if verS == "12" && r.Intn(4) != 0 {
				delete(m, "room_id")
				tags = append(tags, "no-room-id")
			}
			if r.Intn(5) == 0 {
				content["creator"] = alice
			}
			if verS == "12" && r.Intn(8) == 0 {
				m["room_id"] = ""
				tags = append(tags, "roomid-empty")
			}
		case "m.room.member":
			m["state_key"] = difftool.Pick(r, alice, carol)
			content = M{"membership": difftool.Pick(r, "join", "invite", "leave"), "displayname": "A", "join_authorised_via_users_server": carol,
				"third_party_invite": difftool.Pick[any](r, M{"display_name": "x", "signed": M{"mxid": carol, "token": "t", "signatures": M{}}}, M{"display_name": "x"}, "str")}
			if tpi, ok := content["third_party_invite"].(M); ok {
				if _, ok := tpi["signed"]; !ok {
					tags = append(tags, "tpi-nosigned")
				}
			}
		case "m.room.power_levels":
			m["state_key"] = ""
			content = M{"ban": 50, "events": M{"a": 1}, "events_default": 0, "invite": 0, "kick": 50, "redact": 50, "state_default": 50, "users": M{bob: 100}, "users_default": 0, "notifications": M{"room": 50}, "x": 1}
		case "m.room.join_rules":
			m["state_key"] = ""
			content = M{"join_rule": "restricted", "allow": A{M{"type": "m.room_membership", "room_id": "!x"}}, "x": 1}
		case "m.room.redaction":
			content = M{"redacts": "$" + strings.Repeat("T", 43), "reason": "r"}
			if r.Intn(2) == 0 {
				m["redacts"] = "$" + strings.Repeat("T", 43)
				tags = append(tags, "top-redacts")
			}
		case "m.room.history_visibility":
			m["state_key"] = ""
			content = M{"history_visibility": "shared", "x": 1}
		case "m.room.name":
			m["state_key"] = ""
		}
		m["content"] = content
		// top-level extras
		for _, extra := range []string{"origin", "membership", "prev_state", "unsigned", "event_id", "x_unknown", "hashes_extra", "age_ts"} {
			if r.Intn(7) != 0 {
				continue
			}
			tags = append(tags, "top:"+extra)
			switch extra {
			case "origin":
				m["origin"] = "a.example"
			case "membership":
				m["membership"] = "join"
			case "prev_state":
				m["prev_state"] = A{}
			case "unsigned":
				m["unsigned"] = M{"age": 5}
			case "event_id":
				m["event_id"] = "$" + strings.Repeat("E", 43)
			case "x_unknown":
				m["x_unknown"] = M{"y": 1}
			case "hashes_extra":
				m["hashes"] = M{"sha256": "AAAA", "sha512": "BBBB"}
			case "age_ts":
				m["age_ts"] = 5
			}
		}
		raw, err := signing.SignEvent(v, difftool.Enc(m), "a.example", k.priv["a.example"])
		s := area(t, "hash-v"+verS)
		input := fmt.Sprintf("tags=%v event=%s", tags, jsonStr(difftool.Enc(m)))
		if err != nil {
			s.diverge("rp-sign-refused", input, err.Error(), "")
			continue
		}
		mp, err := unmarshalMx(raw)
		if err != nil {
			s.diverge("mx-unmarshal-refused", input, "", err.Error())
			continue
		}
		// redaction
		rred, rerr := redaction.Redact(v, raw)
		mred, merr := mcanon.Marshal(mp.Clone().Redact(id.RoomVersion(verS)))
		if rerr != nil || merr != nil || !bytes.Equal(rred, mred) {
			s.diverge(classifyHash("redact", tags, string(rred), string(mred)), input, fmt.Sprint(string(rred), rerr), fmt.Sprint(string(mred), merr))
		} else {
			s.ok()
		}
		// content hash
		rh, rerr := signing.ContentHash(v, raw)
		mh, merr := mp.CalculateContentHash()
		if rerr != nil || merr != nil || rh != mh {
			s.diverge(classifyHash("content-hash", tags, "", ""), input, fmt.Sprint(rh, rerr), fmt.Sprint(mh, merr))
		} else {
			s.ok()
		}
		// event ID
		rid, rerr := signing.EventID(v, raw)
		mid, merr := mp.GetEventID(id.RoomVersion(verS))
		if rerr != nil || merr != nil || rid != string(mid) {
			s.diverge(classifyHash("event-id", tags, "", ""), input, fmt.Sprint(rid, rerr), fmt.Sprint(mid, merr))
		} else {
			s.ok()
		}
		// v11 and v12 give the same ID (same redaction algorithm) -- roomproto self-check
		other := authgen.Version(map[string]string{"11": "12", "12": "11"}[verS])
		if oid, oerr := signing.EventID(other, raw); oerr == nil && oid != rid {
			area(t, "self").diverge("rp-v11-v12-id-differ", input, rid, oid)
		}
		// signature check both ways (mautrix verifies roomproto's signature)
		if err := mp.VerifySignature(id.RoomVersion(verS), "a.example", k.mtxKey); err != nil {
			s.diverge(classifyHash("mx-verify-rp-signature", tags, "", ""), input, "signed by roomproto", err.Error())
		} else {
			s.ok()
		}
		// create: room ID
		if typ == "m.room.create" && verS == "12" {
			mroom, merr := mp.GetRoomID()
			rroom := "!" + rid[1:]
			if merr != nil || string(mroom) != rroom {
				s.diverge(classifyHash("create-room-id", tags, "", ""), input, rroom, fmt.Sprint(mroom, merr))
			} else {
				s.ok()
			}
		}
	}
}

func classifyHash(what string, tags []string, rp, mx string) string {
	has := func(t string) bool {
		for _, x := range tags {
			if x == t {
				return true
			}
		}
		return false
	}
	// the one known cause for IDs and redaction: a top-level event_id (mautrix has no such field)
	if has("top:event_id") && what != "content-hash" {
		return "redact-drops-event-id-key"
	}
	if has("roomid-empty") {
		return "create-room-id-empty-or-null"
	}
	if has("tpi-nosigned") && what != "content-hash" {
		return "redact-3pi-object-without-signed"
	}
	return "?" + what + fmt.Sprint(tags)
}

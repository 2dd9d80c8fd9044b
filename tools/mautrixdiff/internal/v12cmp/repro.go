//go:build goexperiment.jsonv2

package v12cmp

import (
	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// ReproduceCreate checks a v12 create event by @alice:a.example with the content and top-level
// extra keys (e.g. room_id) on both sides, as area create does, and returns whether they agree,
// the tool's class of a divergence (or the classifier's signature) and both verdicts.
func ReproduceCreate(content, extra map[string]any) (agree bool, class, rp, mx string) {
	k := newKeyring()
	m := M{"type": "m.room.create", "sender": alice, "state_key": "", "content": content, "prev_events": A{}, "auth_events": A{},
		"depth": 1, "origin_server_ts": 1700000000000}
	var tags []string
	if ac, ok := content["additional_creators"]; ok {
		tags = append(tags, "ac:"+string(difftool.Enc(ac)))
	}
	for key, v := range extra {
		m[key] = v
		if key == "room_id" {
			tags = append(tags, "roomid:"+string(difftool.Enc(v)))
		}
	}
	raw, err := signing.SignEvent(v12, difftool.Enc(m), "a.example", k.priv["a.example"])
	if err != nil {
		return false, "", "sign: " + err.Error(), ""
	}
	var rv, mv verdict
	e, err := parseBoth(v12, raw)
	if err != nil {
		// as area create: roomproto refuses the format, which counts as a rejection
		p := tryMx(raw)
		if p == nil {
			return true, "", "not a PDU: " + err.Error(), "not a PDU"
		}
		rv = verdict{rule: "parse", msg: err.Error()}
		mv = mxVerdict(safeAuthorize("12", p, nil, nil, k))
	} else {
		rv = rpVerdict(authrules.Check(v12, e.rp, nil, k))
		mv = mxVerdict(safeAuthorize("12", e.mx, nil, nil, k))
	}
	if rv.allow == mv.allow {
		return true, "", rv.String(), mv.String()
	}
	c := classifyCreate(tags, rv, mv)
	if id := merged[c]; id != "" {
		c = id
	}
	return false, c, rv.String(), mv.String()
}

//go:build goexperiment.jsonv2

package pducmp

// Area event: redaction (whole event and content only), content hash, reference hash, event ID.

import (
	"fmt"
	"math/rand"

	"github.com/roomproto/roomproto/canonicaljson"
)

func shape(rp, mtx Outcome) string {
	switch {
	case rp.Err != "" && mtx.Err == "":
		return "rp-refuses"
	case rp.Err == "" && mtx.Err != "":
		return "mtx-refuses"
	}
	return "differ"
}

func example(g Gen, raw []byte, rp, mtx Outcome) string {
	return fmt.Sprintf("v%d %s | rp=%s | mtx=%s", g.Ver, short(raw), rp, mtx)
}

func runEvent(rc *recorder, seed int64, n int) {
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < n; i++ {
		for ver := 1; ver <= 12; ver++ {
			g := genEvent(r, ver)
			raw := enc(g.Ev)
			compareEvent(rc, g, raw)
		}
	}
}

func compareEvent(rc *recorder, g Gen, raw []byte) {
	ver := g.Ver
	do := func(area string, rp, mtx Outcome) {
		if agree(rp, mtx) {
			rc.record(area, true, "", "")
			return
		}
		rc.record(area, false, classifyEvent(area, g, raw, rp, mtx), example(g, raw, rp, mtx))
	}
	if rc.wanted("redact") || rc.wanted("redact-content") {
		rpR, mtxR := rpRedact(ver, raw), mtxRedact(ver, raw)
		do("redact", rpR, mtxR)
		// content only: mautrix RedactContent on the canonical content, vs the content of roomproto's output
		if rpR.Err == "" && rc.wanted("redact-content") {
			if typ, content, ok := typeAndContent(ver, raw); ok {
				rpc := memberOf([]byte(rpR.Val), "content")
				do("redact-content", Outcome{Val: string(rpc)}, mtxRedactContent(ver, typ, content))
			}
		}
	}
	if rc.wanted("content-hash") {
		do("content-hash", rpContentHash(ver, raw), mtxContentHash(ver, raw))
	}
	if rc.wanted("ref-hash") {
		do("ref-hash", rpRefHash(ver, raw), mtxRefHash(ver, raw))
	}
	if rc.wanted("event-id") {
		do("event-id", rpEventID(ver, raw), mtxEventID(ver, raw))
	}
}

// typeAndContent reads type (a string) and content (canonical, any JSON) with roomproto's canonicaljson.
func typeAndContent(ver int, raw []byte) (string, []byte, bool) {
	canon, err := canonicaljson.Append(nil, raw, canonicaljson.Options{Strict: ver >= 6})
	if err != nil {
		return "", nil, false
	}
	var typ string
	var content []byte
	hasType := false
	_ = canonicaljson.EachMember(canon, func(k string, v []byte) error {
		switch k {
		case "type":
			if s, err := canonicaljson.Unquote(v); err == nil {
				typ, hasType = s, true
			}
		case "content":
			content = v
		}
		return nil
	})
	if !hasType || content == nil {
		return "", nil, false
	}
	return typ, content, true
}

func memberOf(obj []byte, key string) []byte {
	var out []byte
	_ = canonicaljson.EachMember(obj, func(k string, v []byte) error {
		if k == key {
			out = v
		}
		return nil
	})
	return out
}

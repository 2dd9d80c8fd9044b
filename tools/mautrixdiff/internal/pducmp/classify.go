//go:build goexperiment.jsonv2

package pducmp

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

func verBand(ver int) string {
	switch {
	case ver <= 2:
		return "v1-2"
	case ver <= 5:
		return "v3-5"
	}
	return "v6+"
}

const (
	spRedV1  = "rooms/fragments/v1-redactions.md (kept top-level keys ... content object \"must also be stripped of all keys\" unless listed)"
	spRedV11 = "rooms/fragments/v11-redactions.md \"it allows the signed key of the third_party_invite key\""
)

func init() {
	register(
		&Class{"E-tpi-without-signed", "event", CatSilent, "v11+ m.room.member whose third_party_invite object has no signed: roomproto keeps third_party_invite as {}, mautrix drops the key (so reference hash / event ID / signatures differ)",
			spRedV11 + "; rooms/v11.md \"will only contain the signed key\"; decisions.md (redaction) 3"},
		&Class{"E-v3plus-event_id-key", "event", CatSilent, "v3+ event carrying a top-level event_id: roomproto keeps it in the redacted form (so it is covered by the reference hash / event ID), mautrix drops it as an unknown key",
			"rooms/fragments/v11-redactions.md and v1-redactions.md list event_id among kept keys; v3+ formats have no event_id; decisions.md (pdu) \"Event IDs from v3 are not computed by pdu\""},
		&Class{"E-missing-field-invented", "event", CatSilent, "a required top-level field missing (depth, sender, type, prev_events, auth_events, origin_server_ts, content, v1-2 room_id, hashes.sha256) or type:null: mautrix's struct writes a zero value (\"depth\":0, \"type\":\"\", [] , \"content\":null, \"sha256\":\"\") into the bytes it redacts and hashes; roomproto never invents a key",
			"pdu_v*.yaml mark these fields required (such events are refused on receipt by pdu.Parse); decisions.md (redaction) 1-2, (signing) 8"},
		&Class{"E-null-or-empty-omitted", "event", CatSilent, "state_key/hashes/signatures null or room_id \"\": mautrix omits the key (omitzero on a nil pointer / empty string) from the bytes it hashes; roomproto keeps the bytes as received",
			"pdu_v*.yaml: state_key is a string, room_id a room ID, hashes an object; such events are not valid PDUs; decisions.md (pdu) room_id grammar unchecked, (signing) 8"},
		&Class{"E-content-not-object", "event", CatSilent, "content null/array/string in v11+ m.room.create (\"allows all keys\"): roomproto writes {}, mautrix keeps the value",
			"rooms/fragments/v11-redactions.md \"m.room.create allows all keys\"; decisions.md (redaction) 2"},
		&Class{"E-hashes-padded-refused", "event", CatMtx, "hashes.sha256 with = padding: mautrix cannot parse the event (jsonbytes.UnpaddedBytes, RawStdEncoding), so it has no redaction, reference hash or event ID",
			"appendices.md \"Unpadded Base64\": \"implementations SHOULD accept input with or without padding characters wherever possible\"; decisions.md (signing) 1"},
		&Class{"E-hashes-urlsafe-refused", "event", CatSilent, "hashes.sha256 in the URL-safe alphabet: mautrix cannot parse the event",
			"appendices.md \"Unpadded Base64\" (standard alphabet); decisions.md (signing) 1 accepts - and _"},
		&Class{"E-hashes-not-base64-refused", "event", CatMtx, "hashes.sha256 a string that is not base64: mautrix cannot parse the event, roomproto computes the hashes/ID (the event is kept redacted)",
			"server-server-api.md \"If the hash check fails, then it is assumed that this is because we have only been given a redacted version of the event\"; decisions.md (signing) 7"},
		&Class{"E-hashes-reencoded", "event", CatMtx, "hashes.sha256 whose last base64 character has non-zero unused bits: mautrix decodes and re-encodes it, so it redacts/hashes/signs other bytes than those received (other reference hash and event ID)",
			"rooms/fragments/v4-event-ids.md / server-server-api.md \"Calculating the reference hash for an event\": the hash is over the redacted event as received; decisions.md (signing) 1 (unused bits ignored on decode, bytes kept)"},
		&Class{"E-lenient-numbers-refused", "event", CatMtx, "v1-5 event with a float (1.5) or an integer beyond 2^53 in content: mautrix's canonical JSON refuses it in every room version, so it has no content hash / reference hash / event ID",
			"rooms/fragments/v1-canonical-json.md: servers \"MUST NOT strictly enforce\" canonical JSON in v1-5; appendices.md \"Canonical JSON\""},
		&Class{"E-lenient-float-form", "event", CatSilent, "v1-5 content number 1.0 (or 2E0-style forms mautrix rewrites): roomproto copies a non-integer-exponent-free float verbatim (1.0), mautrix's canonical JSON writes 1, so content hash / reference hash / event ID differ",
			"appendices.md \"Canonical JSON\" defines no float form; rooms/fragments/v1-canonical-json.md \"MUST NOT strictly enforce\"; decisions.md (canonicaljson) 10 (1.0 copied verbatim, as Synapse/Python writes it)"},
		&Class{"E-depth-not-integer", "event", CatSilent, "depth 5.0 / 5e0: mautrix cannot parse it into int64; roomproto's hash functions take any JSON object (pdu.Parse refuses it)",
			"pdu_v*.yaml depth: integer; decisions.md (pdu) \"Integer fields are integers as received\", (signing) 8"},
		&Class{"E-dup-keys-v1-5-refused", "event", CatSilent, "v1-5 duplicate keys: mautrix (encoding/json/v2) refuses the event, roomproto keeps the last occurrence",
			"RFC 8259 leaves duplicates undefined; rooms/fragments/v1-canonical-json.md \"MUST NOT strictly enforce\"; decisions.md (canonicaljson) 11, (redaction) 5"},
		&Class{"E-lone-surrogate-v1-5-refused", "event", CatSilent, "v1-5 lone surrogate escape (\\ud800): mautrix refuses, roomproto keeps the escape",
			"spec silent (no UTF-8 form); decisions.md (canonicaljson) 12"},
		&Class{"E-v6-strict-whole-event", "event", CatSilent, "v6+ event with an invalid number (float, out-of-range integer, -0) only in keys that redaction or hashing removes (unsigned, unkept content keys): roomproto refuses the whole event, mautrix never looks at them",
			"rooms/fragments/v6-canonical-json.md \"MUST strictly enforce\"; decisions.md (redaction) 4"},
		&Class{"E-v6-float-or-minus-zero-normalised", "event", CatMtx, "v6+ event with 1.0, 1e3, 2E0 or -0: mautrix's canonical JSON rewrites them (jsontext CanonicalizeRawFloats/Ints) to 1, 1000, 2, 0 and accepts; roomproto refuses",
			"appendices.md \"Canonical JSON\": integers \"represented without exponents or decimal places, and negative zero -0 MUST NOT appear\", \"Float values are not permitted\"; v6-canonical-json.md \"MUST strictly enforce\"; decisions.md (canonicaljson) 4-6 (matrix-spec#2424 open)"},
		&Class{"E-mistyped-field-refused", "event", CatSilent, "sender/type not a string (5, {}, []) or v1-10 top-level redacts not a string: mautrix cannot parse the event; roomproto's redaction/hash functions take any JSON object",
			"pdu_v*.yaml types these fields; pdu.Parse refuses them; decisions.md (signing) 8, (redaction) 2, 6"},
		&Class{"E-v11-redacts-object-refused", "event", CatMtx, "v11+ event with a non-string top-level redacts: mautrix cannot parse it (typed field), though from v11 top-level redacts is not part of the format (an unknown key any value may take)",
			"pdu_v11.yaml \"v11 is the v6 event, but without redacts\"; rooms/v11.md (redacts moved into content); decisions.md (pdu) \"Keys outside the format take any value\""},
		&Class{"E-v1-ref-pair-string-refused", "event", CatMtx, "v1-2 prev_events/auth_events pair whose second element is a string: mautrix cannot parse the event",
			"pdu_v1.yaml prev_events/auth_events items: each element \"anyOf\" a string and components/event_hash.yaml; decisions.md (pdu) last entry"},
	)
}

// classifyEvent returns the class of a divergence of area event (or an unregistered signature).
func classifyEvent(area string, g Gen, raw []byte, rp, mtx Outcome) string {
	// 1. a v11+ member third_party_invite without signed explains it if fixing it makes both agree
	// (the key may be the odd feature's escaped form of "third_party_invite": both sides read keys
	// unescaped, so it is found and fixed in its plain form)
	ev := g.Ev
	if g.Feature == "escaped-kept-key" {
		ev = unescapedContentKeys(ev)
	}
	if g.Ver >= 11 && g.Type == "m.room.member" && hasTPIWithoutSigned(ev) {
		fixed := enc(fixTPI(ev))
		if againAgree(area, g, fixed) {
			return "E-tpi-without-signed"
		}
		if g.Feature == "" || g.Feature == "tpi-no-signed" {
			return fmt.Sprintf("tpi+? %s %s", verBand(g.Ver), shape(rp, mtx))
		}
	}
	if g.Feature != "" && g.Base != nil {
		base := g.Base
		if g.Ver >= 11 && g.Type == "m.room.member" {
			base = fixTPI(base)
		}
		if !againAgree(area, g, enc(base)) {
			return fmt.Sprintf("base-diverges %s %s %s", g.Feature, verBand(g.Ver), shape(rp, mtx))
		}
	}
	if c := featureClass(area, g, rp, mtx); c != "" {
		return c
	}
	return fmt.Sprintf("%s %s %s", g.Feature, verBand(g.Ver), shape(rp, mtx))
}

func againAgree(area string, g Gen, raw []byte) bool {
	ver := g.Ver
	switch area {
	case "redact":
		return agree(rpRedact(ver, raw), mtxRedact(ver, raw))
	case "redact-content":
		rpR := rpRedact(ver, raw)
		if rpR.Err != "" {
			return false
		}
		typ, content, ok := typeAndContent(ver, raw)
		if !ok {
			return true
		}
		return agree(Outcome{Val: string(memberOf([]byte(rpR.Val), "content"))}, mtxRedactContent(ver, typ, content))
	case "content-hash":
		return agree(rpContentHash(ver, raw), mtxContentHash(ver, raw))
	case "ref-hash":
		return agree(rpRefHash(ver, raw), mtxRefHash(ver, raw))
	case "event-id":
		return agree(rpEventID(ver, raw), mtxEventID(ver, raw))
	}
	return false
}

// unescapedContentKeys returns a copy of ev whose escaped (raw) content keys are written
// plainly, as JSON decoding reads them.
func unescapedContentKeys(ev Obj) Obj {
	ev = ev.clone()
	c, _ := ev.get("content")
	co, ok := c.(Obj)
	if !ok {
		return ev
	}
	for i, kv := range co {
		var k string
		if kv.Raw && json.Unmarshal([]byte(kv.K), &k) == nil && utf8.ValidString(k) {
			co[i] = KV{K: k, V: kv.V}
		}
	}
	return ev.set("content", co)
}

func hasTPIWithoutSigned(ev Obj) bool {
	c, _ := ev.get("content")
	co, ok := c.(Obj)
	if !ok {
		return false
	}
	t, ok := co.get("third_party_invite")
	if !ok {
		return false
	}
	to, ok := t.(Obj)
	if !ok {
		return false
	}
	_, has := to.get("signed")
	return !has
}

func fixTPI(ev Obj) Obj {
	ev = ev.clone()
	c, _ := ev.get("content")
	co, ok := c.(Obj)
	if !ok {
		return ev
	}
	t, ok := co.get("third_party_invite")
	if to, isObj := t.(Obj); ok && isObj {
		if _, has := to.get("signed"); !has {
			co = co.set("third_party_invite", append(to, KV{K: "signed", V: Obj{}}))
			ev = ev.set("content", co)
		}
	}
	return ev
}

func featureClass(area string, g Gen, rp, mtx Outcome) string {
	sh := shape(rp, mtx)
	v := g.Ver
	switch g.Feature {
	case "tpi-no-signed":
		return "E-tpi-without-signed"
	case "event_id-v3plus":
		return "E-v3plus-event_id-key"
	case "drop-depth", "drop-sender", "drop-type", "drop-auth_events", "drop-prev_events", "drop-origin_server_ts", "content-missing", "hashes-empty":
		if sh == "differ" {
			return "E-missing-field-invented"
		}
	case "drop-room_id":
		if sh == "differ" && v <= 2 {
			return "E-missing-field-invented"
		}
	case "type-nonstring":
		if sh == "differ" {
			return "E-missing-field-invented" // type:null read as ""
		}
		if sh == "mtx-refuses" {
			return "E-mistyped-field-refused"
		}
	case "sender-nonstring":
		if sh == "mtx-refuses" {
			return "E-mistyped-field-refused"
		}
	case "redacts-nonstring":
		if sh == "mtx-refuses" {
			if v >= 11 {
				return "E-v11-redacts-object-refused"
			}
			return "E-mistyped-field-refused"
		}
	case "state_key-null", "hashes-null", "signatures-null", "room_id-empty":
		if sh == "differ" {
			return "E-null-or-empty-omitted"
		}
	case "content-null", "content-array", "content-string":
		if sh == "differ" && v >= 11 && g.Type == "m.room.create" {
			return "E-content-not-object"
		}
		if sh == "differ" && g.Feature == "content-null" && area == "content-hash" {
			return "" // not expected: both hash "content":null
		}
	case "hashes-padded":
		if sh == "mtx-refuses" {
			return "E-hashes-padded-refused"
		}
	case "hashes-url":
		if sh == "mtx-refuses" {
			return "E-hashes-urlsafe-refused"
		}
	case "hashes-notb64":
		if sh == "mtx-refuses" {
			return "E-hashes-not-base64-refused"
		}
	case "hashes-trailing-bits":
		if sh == "differ" {
			return "E-hashes-reencoded"
		}
	case "float", "bigint":
		if v <= 5 && sh == "differ" && g.Feature == "float" {
			return "E-lenient-float-form"
		}
		if v <= 5 && sh == "mtx-refuses" {
			return "E-lenient-numbers-refused"
		}
		if v >= 6 && sh == "rp-refuses" {
			if g.Feature == "float" && mtx.Err == "" && mtxSeesNumber(area, g) {
				return "E-v6-float-or-minus-zero-normalised"
			}
			return "E-v6-strict-whole-event"
		}
	case "minus-zero":
		if v >= 6 && sh == "rp-refuses" && mtxSeesNumber(area, g) {
			return "E-v6-float-or-minus-zero-normalised"
		}
		if v >= 6 && sh == "rp-refuses" {
			return "E-v6-strict-whole-event"
		}
		if false {
			return "E-v6-float-or-minus-zero-normalised"
		}
	case "float-unsigned", "bigint-unsigned":
		if v >= 6 && sh == "rp-refuses" {
			return "E-v6-strict-whole-event"
		}
		if v <= 5 && sh == "mtx-refuses" {
			return "E-lenient-numbers-refused"
		}
	case "depth-float":
		if sh == "mtx-refuses" {
			return "E-depth-not-integer"
		}
	case "dup-content-key", "dup-top-key":
		if v <= 5 && sh == "mtx-refuses" {
			return "E-dup-keys-v1-5-refused"
		}
	case "lone-surrogate":
		if v <= 5 && sh == "mtx-refuses" {
			return "E-lone-surrogate-v1-5-refused"
		}
	case "v1-ref-string":
		if sh == "mtx-refuses" {
			return "E-v1-ref-pair-string-refused"
		}
	}
	return ""
}

// mtxSeesNumber: replacing the odd number by 1.5 (which mautrix refuses) makes mautrix refuse,
// so the number is where mautrix reads it and it accepted it by rewriting it.
func mtxSeesNumber(area string, g Gen) bool {
	s := string(enc(g.Ev))
	for _, t := range []string{":1e3", ":1.0", ":2E0", ":-0,", ":-0}"} {
		s = strings.ReplaceAll(s, t, ":1.5"+t[len(t)-1:][:len(t[len(t)-1:])*boolInt(t[len(t)-1] == ',' || t[len(t)-1] == '}')])
	}
	raw := []byte(s)
	var o Outcome
	switch area {
	case "redact":
		o = mtxRedact(g.Ver, raw)
	case "content-hash":
		o = mtxContentHash(g.Ver, raw)
	case "ref-hash":
		o = mtxRefHash(g.Ver, raw)
	case "event-id":
		o = mtxEventID(g.Ver, raw)
	default:
		return false
	}
	return o.Err != ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

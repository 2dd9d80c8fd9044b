package claimsc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// SECURITY.md "Duplicate keys and canonical-form confusion": "Room versions 6+: a duplicate key
// anywhere in the event is refused by every path (canonicaljson.ErrDuplicateKey, wrapped in
// pdu.ErrNotJSON, redaction.ErrInvalidJSON, signing.ErrMalformed), and so are unpaired
// surrogate escapes."
func TestSecurityDuplicateKeysEveryPath(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	goodC, _ := canonicaljson.CanonicalStrict(p.raw[10])
	good := string(goodC)
	for name, c := range map[string]struct {
		bad      string
		sentinel error
	}{
		"top level":        {strings.Replace(good, `"depth":11`, `"depth":11,"depth":11`, 1), canonicaljson.ErrDuplicateKey},
		"in content":       {strings.Replace(good, `"msgtype":"m.text"`, `"msgtype": "m.text", "m\u0073gtype": "m.text"`, 1), canonicaljson.ErrDuplicateKey},
		"in signatures":    {strings.Replace(good, `"c.example":{`, `"c.example":{"ed25519:2":"AA","ed25519:2":"AA",`, 1), canonicaljson.ErrDuplicateKey},
		"deep":             {strings.Replace(good, `"msgtype":"m.text"`, `"msgtype": "m.text", "x": [{"a": 1, "a": 1}]`, 1), canonicaljson.ErrDuplicateKey},
		"lone surrogate":   {strings.Replace(good, `"msgtype":"m.text"`, `"msgtype": "m.text", "x": "\ud800"`, 1), canonicaljson.ErrLoneSurrogate},
		"lone surrogate k": {strings.Replace(good, `"msgtype":"m.text"`, `"msgtype": "m.text", "\udc00": 1`, 1), canonicaljson.ErrLoneSurrogate},
	} {
		if name != "lone surrogate" && name != "lone surrogate k" && !strings.Contains(c.bad, `"`) {
			t.Fatal("no change")
		}
		if c.bad == good {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		t.Run(name, func(t *testing.T) {
			bad := []byte(c.bad)
			check := func(path string, err error, wrapper error) {
				if !errors.Is(err, c.sentinel) || !errors.Is(err, wrapper) {
					t.Errorf("%s: %v, want %v wrapped in %v", path, err, c.sentinel, wrapper)
				}
			}
			_, err := pdu.Parse(v, bad)
			check("pdu.Parse", err, pdu.ErrNotJSON)
			_, err = signing.ParseEvent(v, bad)
			check("signing.ParseEvent", err, pdu.ErrNotJSON)
			_, err = redaction.Redact(v, bad)
			check("redaction.Redact", err, redaction.ErrInvalidJSON)
			_, err = signing.ContentHash(v, bad)
			check("signing.ContentHash", err, signing.ErrMalformed)
			_, err = signing.ReferenceHash(v, bad)
			check("signing.ReferenceHash", err, signing.ErrMalformed)
			_, err = signing.EventID(v, bad)
			check("signing.EventID", err, signing.ErrMalformed)
			check("signing.VerifyEvent", signing.VerifyEvent(v, bad, keyRing("c.example")), signing.ErrMalformed)
			check("signing.CheckContentHash", signing.CheckContentHash(v, bad), signing.ErrMalformed)
			_, err = signing.SignEvent(v, bad, "c.example", keyFor("c.example"))
			check("signing.SignEvent", err, signing.ErrMalformed)
			_, err = signing.CountersignEvent(v, bad, "x.example", keyFor("x.example"))
			check("signing.CountersignEvent", err, signing.ErrMalformed)
			errs := signing.VerifyEvents(v, [][]byte{bad}, keyRing("c.example"), nil)
			check("signing.VerifyEvents", errs[0], signing.ErrMalformed)
			_, errs = signing.ParseAndVerifyEvents(v, [][]byte{bad}, keyRing("c.example"), nil)
			check("signing.ParseAndVerifyEvents", errs[0], signing.ErrMalformed)
		})
	}
}

// SECURITY.md: "Room versions 1-5 ...: the last occurrence wins in every package ... so the
// event is exactly its last-wins canonical form; a signature over that form holds, and a later
// unsigned duplicate makes verification fail"; "Case variants are other keys: ignored by the
// rules, removed by redaction, covered by the content hash."
func TestSecurityLenientDuplicates(t *testing.T) {
	v := claimkit.Ver(t, "5")
	ev := signed(t, v, baseEvent(v, M{"content": M{"body": "hi"}, "hashes": nil, "signatures": nil}), "a.example")
	ring := keyRing("a.example")
	if err := signing.VerifyEvent(v, ev, ring); err != nil {
		t.Fatal(err)
	}
	s := string(ev)
	earlier := strings.Replace(s, `"sender":"@a:a.example"`, `"sender":"@evil:a.example","sender":"@a:a.example"`, 1)
	later := strings.Replace(s, `"sender":"@a:a.example"`, `"sender":"@a:a.example","sender":"@evil:a.example"`, 1)
	if err := signing.VerifyEvent(v, []byte(earlier), ring); err != nil {
		t.Errorf("an earlier duplicate (the signed value last): %v, want valid", err)
	}
	if e, _ := pdu.Parse(v, []byte(earlier)); e == nil || e.Sender != "@a:a.example" {
		t.Errorf("parsed sender of the earlier duplicate: %+v", e)
	}
	if err := signing.VerifyEvent(v, []byte(later), ring); err == nil {
		t.Errorf("a later unsigned duplicate: valid, want verification to fail")
	}
	if e, _ := pdu.Parse(v, []byte(later)); e == nil || e.Sender != "@evil:a.example" {
		t.Errorf("parsed sender of the later duplicate: %+v", e)
	}
	// case variants
	cv := signed(t, v, baseEvent(v, M{"content": M{"body": "hi"}, "Sender": "@evil:a.example", "hashes": nil, "signatures": nil}), "a.example")
	e, err := pdu.Parse(v, cv)
	if err != nil || e.Sender != "@a:a.example" {
		t.Errorf("case variant read as the key: %v %+v", err, e)
	}
	red, _ := redaction.Redact(v, cv)
	if strings.Contains(string(red), "Sender") {
		t.Errorf("case variant kept by redaction: %s", red)
	}
	h1, _ := signing.ContentHash(v, cv)
	h2, _ := signing.ContentHash(v, []byte(strings.Replace(string(cv), `"Sender":"@evil:a.example"`, `"Sender":"@evil2:a.example"`, 1)))
	if h1 == h2 {
		t.Errorf("the content hash does not cover the case variant")
	}
}

// SECURITY.md "Re-encoded events and signatures": "any encoding of the same JSON value gives
// the same parsed fields, redaction, content hash, event ID, signature verdict and auth events
// selection"; "alternative base64 spellings of one signature are one signature"; "signatures
// are never part of the event ID or the content hash"; "Room versions 6+ refuse floats, -0 and
// integers outside ±(2^53-1) outright; versions 1-5 canonicalise -0 and integral exponent forms
// exactly and copy other numbers verbatim".
func TestSecurityReencoded(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	ring := keyRing("b.example", "c.example")
	c, _ := canonicaljson.CanonicalStrict(p.raw[7])
	orig := []byte(strings.ReplaceAll(string(c), ",", ", "))
	sig := p.sig(7, "b.example")
	std, _ := base64.RawStdEncoding.DecodeString(sig)
	forms := map[string][]byte{
		"canonical":  c,
		"indented":   []byte(strings.ReplaceAll(string(c), ",", ",\n   ")),
		"escaped":    []byte(strings.Replace(string(orig), `"sender"`, `"\u0073ender"`, 1)),
		"slash":      []byte(strings.Replace(string(orig), `"join"`, `"jo\u0069n"`, 1)),
		"padded sig": []byte(strings.Replace(string(orig), sig, base64.StdEncoding.EncodeToString(std), 1)),
		"url-safe":   []byte(strings.Replace(string(orig), sig, base64.RawURLEncoding.EncodeToString(std), 1)),
	}
	id0, _ := signing.EventID(v, orig)
	h0, _ := signing.ContentHash(v, orig)
	r0, _ := redaction.Redact(v, orig)
	e0, _ := pdu.Parse(v, orig)
	n0, _ := authrules.AuthEventsNeeded(v, e0)
	for name, f := range forms {
		if string(f) == string(orig) {
			t.Fatalf("%s: no change", name)
		}
		id, err1 := signing.EventID(v, f)
		h, err2 := signing.ContentHash(v, f)
		r, err3 := redaction.Redact(v, f)
		e, err4 := pdu.Parse(v, f)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || id != id0 || h != h0 || (string(r) != string(r0) && !strings.Contains(name, "sig") && name != "url-safe") || e.Sender != e0.Sender || e.Membership != e0.Membership {
			t.Errorf("%s: a different reading (%v %v %v %v)", name, err1, err2, err3, err4)
			continue
		}
		n, _ := authrules.AuthEventsNeeded(v, e)
		if fmt.Sprint(n) != fmt.Sprint(n0) {
			t.Errorf("%s: auth events selection %v, want %v", name, n, n0)
		}
		if err := signing.VerifyEvent(v, f, ring); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// signatures are never part of the event ID or the content hash
	nosig := p.mutate(t, 7, func(m M) { m["signatures"] = M{"z.example": M{"ed25519:1": "AAAA"}} })
	if id, _ := signing.EventID(v, nosig); id != id0 {
		t.Errorf("event ID depends on signatures")
	}
	if h, _ := signing.ContentHash(v, nosig); h != h0 {
		t.Errorf("content hash depends on signatures")
	}
}

// SECURITY.md "Forged signatures": "From v5 keys whose valid_until_ts is before the event's
// origin_server_ts are not used (ErrKeyExpired)"; "Unknown keys and other algorithms are
// skipped, never trusted"; "VerifyJSONServer reads only the server's own entry of a signed JSON
// object's signatures, so a relay or notary cannot void a valid signature by adding junk beside
// it"; "VerifyJSON ... ignores entries that are not objects and other algorithms' key IDs".
func TestSecurityForgedSignatures(t *testing.T) {
	for _, id := range []string{"4", "5", "9"} {
		v := claimkit.Ver(t, id)
		ev := signed(t, v, baseEvent(v, M{"origin_server_ts": 5000, "hashes": nil, "signatures": nil}), "a.example")
		for ts, wantExpired := range map[int64]bool{4999: id != "4", 5000: false, 0: false} {
			ring := signing.KeyRing{"a.example": {"ed25519:1": {Key: keyFor("a.example").Public(), ValidUntilTS: ts}}}
			err := signing.VerifyEvent(v, ev, ring)
			if wantExpired != errors.Is(err, signing.ErrKeyExpired) || !wantExpired && err != nil {
				t.Errorf("v%s valid_until_ts %d: %v, want expired %v", id, ts, err, wantExpired)
			}
		}
		// another algorithm's key ID by the sender's server: skipped
		other := []byte(strings.Replace(string(ev), `"a.example":{`, `"a.example":{"curve25519:1":"garbage",`, 1))
		if err := signing.VerifyEvent(v, other, keyRing("a.example")); err != nil {
			t.Errorf("v%s other algorithm's key ID: %v", id, err)
		}
		// unknown key ID of the same server beside the known one: skipped
		unk := []byte(strings.Replace(string(ev), `"a.example":{`, `"a.example":{"ed25519:zz":"AAAA",`, 1))
		if err := signing.VerifyEvent(v, unk, keyRing("a.example")); err != nil {
			t.Errorf("v%s unknown key ID: %v", id, err)
		}
	}
	obj, _ := signing.SignJSON([]byte(`{"a":1}`), "a.example", keyFor("a.example"))
	for name, junk := range map[string]string{
		"not an object":    `"x.example":"junk"`,
		"number":           `"x.example":5`,
		"array":            `"x.example":[1]`,
		"bad sig of other": `"x.example":{"ed25519:1":"AAAA"}`,
		"other algorithm":  `"x.example":{"curve25519:1":5}`,
	} {
		j := []byte(strings.Replace(string(obj), `"signatures":{`, `"signatures":{`+junk+`,`, 1))
		if err := signing.VerifyJSONServer(j, "a.example", keyRing("a.example")); err != nil {
			t.Errorf("VerifyJSONServer beside junk %s: %v", name, err)
		}
		if name == "bad sig of other" {
			continue // a known key's bad signature fails VerifyJSON, by design
		}
		if err := signing.VerifyJSON(j, keyRing("a.example")); err != nil {
			t.Errorf("VerifyJSON beside junk %s: %v", name, err)
		}
	}
}

// SECURITY.md "Caller": "pdu.Parse refuses, from room version 6, an input with more than 6 ×
// 65,536 bytes besides whitespace without canonicalising it": whitespace does not count.
func TestSecurityWhitespaceNotCounted(t *testing.T) {
	v := claimkit.Ver(t, "9")
	ev := string(claimkit.Marshal(t, baseEvent(v, nil)))
	ws := strings.Replace(ev, `,"type"`, strings.Repeat(" \n\t\r", 200000)+`,"type"`, 1)
	if len(ws) < 6*65536 {
		t.Fatal("too short")
	}
	if _, err := pdu.Parse(v, []byte(ws)); err != nil {
		t.Errorf("a small event with 800,000 bytes of whitespace: %v", err)
	}
	big := strings.Replace(ev, `"body":"x"`, `"body":"`+strings.Repeat("x", 6*65536)+`"`, 1)
	_, err := pdu.Parse(v, []byte(big))
	wantFormat(t, "6 × 65,536 bytes besides whitespace", err, "", pdu.ErrTooLarge)
}

// SECURITY.md "What roomproto guarantees", "Typed errors": every refusal matches a sentinel
// with errors.Is and carries the package's error type, except serveracl.Parse (its sentinel
// itself) and authrules.NewState / CheckAuthChain (an error wrapping ErrInvalidState /
// ErrChainInput); signing has KeyError for keys and VerificationError for everything else.
// (Finding C4: the text said "the package's one error type".)
func TestSecurityTypedErrors(t *testing.T) {
	v := claimkit.Ver(t, "9")
	p := example(t)
	_, errACL := serveracl.Parse([]byte(`[]`))
	_, errState := authrules.NewState(v, []*pdu.Event{p.evs[10]})
	_, errKey := signing.ParseSigningKey([]byte(`x`))
	_, errSig := signing.SignJSON([]byte(`[]`), "a.example", keyFor("a.example"))
	if errACL != serveracl.ErrNotObject {
		t.Errorf("serveracl.Parse: %T %v, want the sentinel itself", errACL, errACL)
	}
	var rej *authrules.Rejection
	if !errors.Is(errState, authrules.ErrInvalidState) || errors.As(errState, &rej) {
		t.Errorf("authrules.NewState: %T %v, want an error wrapping ErrInvalidState", errState, errState)
	}
	var ke *signing.KeyError
	var ve *signing.VerificationError
	if !errors.As(errKey, &ke) || !errors.As(errSig, &ve) || !errors.Is(errSig, signing.ErrMalformed) {
		t.Errorf("signing: %T for a key, %T for input", errKey, errSig)
	}
}

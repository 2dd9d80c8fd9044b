package claimsa

import (
	"encoding/base64"
	"errors"
	"github.com/roomproto/roomproto/redaction"
	"math"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestSurrogateKeys checks decisions.md canonicaljson 11-12 and pdu "HasKey takes the
// unescaped key" for keys holding an unpaired surrogate (room versions 1-5).
func TestSurrogateKeys(t *testing.T) {
	runCJ(t, []cjCase{
		{claim: "cj11+12 \\ud800 and \\uD800 are one key, last wins", in: `{"\ud800":1,"\uD800":2}`, out: `{"\ud800":2}`},
		{claim: "cj12 \\ud800 and \\ufffd differ", in: `{"\ufffd":1,"\ud800":2}`, out: `{"\ud800":2,"` + "\ufffd" + `":1}`},
	})
	for _, id := range claimkit.VersionIDs()[:5] {
		ev, err := pdu.Parse(claimkit.Ver(t, id), mkEvent(id, kv{"content", `{"\ud800":1}`}))
		if err != nil {
			t.Fatal(err)
		}
		raw := []byte(`{"\ud800":null,` + string(ev.Raw()[1:]))
		ev, err = pdu.Parse(claimkit.Ver(t, id), raw)
		if err != nil {
			t.Fatal(err)
		}
		if !ev.HasKey("\xed\xa0\x80") || ev.HasKey("\ufffd") {
			t.Errorf("v%s HasKey of a surrogate key: WTF-8 %v, U+FFFD %v", id, ev.HasKey("\xed\xa0\x80"), ev.HasKey("\ufffd"))
		}
		if string(ev.ContentField("\xed\xa0\x80")) != "1" || ev.ContentField("\ufffd") != nil {
			t.Errorf("v%s ContentField of a surrogate key", id)
		}
	}
}

// TestEachErrorsAreSyntaxErrors checks the package doc of canonicaljson ("Every error is a
// *SyntaxError") for EachMember / EachElement on the wrong kind of value.
func TestEachErrorsAreSyntaxErrors(t *testing.T) {
	var se *canonicaljson.SyntaxError
	if err := canonicaljson.EachMember([]byte(`[1]`), func(string, []byte) error { return nil }); !errors.As(err, &se) {
		t.Errorf("EachMember([1]) = %T %v, want *SyntaxError", err, err)
	}
	if err := canonicaljson.EachElement([]byte(`{}`), func([]byte) error { return nil }); !errors.As(err, &se) {
		t.Errorf("EachElement({}) = %T %v, want *SyntaxError", err, err)
	}
}

// TestExpiredBadSkipped checks decisions.md signing 3-4: an expired key's signature is
// skipped (even a bad one) when another known key's signature holds; and go doc
// VerificationError.KeyID ("Detail lists the others").
func TestExpiredBadSkipped(t *testing.T) {
	e := signedEvent(t, "10", []string{"a.example"})
	bad, _ := signing.SignJSON(e, "a.example", skey(t, "a.example", "9")) // over the unredacted event: bad
	r := signing.KeyRing{"a.example": {
		"ed25519:1": {Key: skey(t, "a.example", "1").Public()},
		"ed25519:9": {Key: skey(t, "a.example", "9").Public(), ValidUntilTS: 999},
	}}
	verr(t, "expired bad signature skipped", signing.VerifyEvent(claimkit.Ver(t, "10"), bad, r), nil, "")
	r["a.example"]["ed25519:9"] = signing.PublicKey{Key: skey(t, "a.example", "9").Public(), ValidUntilTS: 1000}
	verr(t, "unexpired bad signature fails", signing.VerifyEvent(claimkit.Ver(t, "10"), bad, r), signing.ErrBadSignature, "")
	// Three unknown keys: KeyID the first, Detail lists the others.
	x := bad
	for _, kid := range []string{"b", "c"} {
		x, _ = signing.SignJSON(x, "a.example", skey(t, "a.example", kid))
	}
	ve := verr(t, "unknown keys", signing.VerifyEvent(claimkit.Ver(t, "10"), x, signing.KeyRing{}), signing.ErrUnknownKey, "")
	if ve != nil && (ve.KeyID != "ed25519:1" || !strings.Contains(ve.Detail, "ed25519:9") || !strings.Contains(ve.Detail, "ed25519:b") || !strings.Contains(ve.Detail, "ed25519:c")) {
		t.Errorf("ErrUnknownKey KeyID %q Detail %q: want ed25519:1 and the others listed", ve.KeyID, ve.Detail)
	}
}

// TestStrayEventID checks decisions.md pdu "Event IDs from v3 are not computed by pdu": an
// `event_id` added by a relay breaks the origin's signature (ErrBadSignature) and changes the
// event ID; one the origin signed verifies.
func TestStrayEventID(t *testing.T) {
	for _, id := range claimkit.VersionIDs()[2:] {
		v := claimkit.Ver(t, id)
		r := ring(t, "a.example", "1")
		e := signedEvent(t, id, []string{"a.example"})
		relay := setTop(t, e, "event_id", `"$x"`)
		verr(t, "v"+id+" relay-added event_id", signing.VerifyEvent(v, relay, r), signing.ErrBadSignature, "")
		id1, _ := signing.EventID(v, e)
		id2, _ := signing.EventID(v, relay)
		if id1 == id2 {
			t.Errorf("v%s event_id key does not change the event ID", id)
		}
		origin := signedEvent(t, id, []string{"a.example"}, kv{"event_id", `"$x"`})
		verr(t, "v"+id+" origin-signed event_id", signing.VerifyEvent(v, origin, r), nil, "")
		if pev, err := signing.ParseEvent(v, origin); err != nil || pev.EventID == "$x" {
			t.Errorf("v%s ParseEvent EventID = %v, %v: want the reference hash, not the key", id, pev, err)
		}
	}
}

// TestMarshalNegZeroAndEmptyRedacts checks go doc canonicaljson.Marshal (-0 is an error)
// and redaction.ErrWrongTarget ("its redacts is empty").
func TestMarshalNegZeroAndEmptyRedacts(t *testing.T) {
	if _, err := canonicaljson.Marshal(math.Copysign(0, -1)); !errors.Is(err, canonicaljson.ErrNegativeZero) {
		t.Errorf("Marshal(-0.0) = %v, want ErrNegativeZero", err)
	}
	for _, id := range []string{"4", "11"} {
		mods := []kv{{"type", `"m.room.redaction"`}, {"redacts", `""`}}
		if id == "11" {
			mods = append(mods, kv{"content", `{"redacts":""}`})
		}
		red := parsed(t, id, evJSON(id, mods...), "$r")
		tgt := parsed(t, id, evJSON(id), "$t")
		if _, err := redaction.ApplyRedaction(tgt, red); !errors.Is(err, redaction.ErrWrongTarget) {
			t.Errorf("v%s empty redacts: %v, want ErrWrongTarget", id, err)
		}
		if d, _ := redaction.Decide(claimkit.Ver(t, id), red, tgt, 100, 0); d != redaction.Ignore {
			t.Errorf("v%s empty redacts: Decide = %v", id, d)
		}
		if d, _ := redaction.Decide(claimkit.Ver(t, id), red, nil, 100, 0); d != redaction.Ignore {
			t.Errorf("v%s empty redacts, no target: Decide = %v, want ignore (doc Ignore: no redacts)", id, d)
		}
	}
}

// TestUnusedBits checks decisions.md signing 1 ("Unused low bits of the last character are
// ignored") for signatures and content hashes.
func TestUnusedBits(t *testing.T) {
	k := skey(t, "a.example", "1")
	obj, _ := signing.SignJSON([]byte(`{"a":1}`), "a.example", k)
	sig := strings.TrimSuffix(strings.Split(topField(t, obj, "signatures"), `"ed25519:1":"`)[1], `"}}`)
	alt := sig[:len(sig)-1] + string(flipLowBits(sig[len(sig)-1]))
	o := setTop(t, obj, "signatures", `{"a.example":{"ed25519:1":"`+alt+`"}}`)
	verr(t, "signature with other unused bits", signing.VerifyJSON(o, ring(t, "a.example", "1")), nil, "")
	v := claimkit.Ver(t, "10")
	e := mkEvent("10")
	h, _ := signing.ContentHash(v, e)
	hs := base64.RawStdEncoding.EncodeToString(h[:])
	hs = hs[:42] + string(flipLowBits(hs[42]))
	verr(t, "hash with other unused bits", signing.CheckContentHash(v, setTop(t, e, "hashes", `{"sha256":"`+hs+`"}`)), nil, "")
}

package claimsa

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestCanonicalMoreNumbers adds lenient number cases of decisions.md canonicaljson 10.
func TestCanonicalMoreNumbers(t *testing.T) {
	cases := []cjCase{
		{claim: "cj10 0.0e0 -> 0", in: `0.0e0`, out: `0`},
		{claim: "cj10 -1.5e1 -> -15", in: `-1.5e1`, out: `-15`},
		{claim: "cj10 1.25e1 verbatim", in: `1.25e1`, out: `1.25e1`},
		{claim: "cj10 12e-1 verbatim", in: `12e-1`, out: `12e-1`},
		{claim: "cj10 10e-1 -> 1", in: `10e-1`, out: `1`},
		{claim: "cj10 1e-400 verbatim", in: `1e-400`, out: `1e-400`},
		{claim: "cj10 -9007199254740991e0", in: `-9007199254740991e0`, out: `-9007199254740991`},
		{claim: "cj10 -9007199254740992e0 verbatim", in: `-9007199254740992e0`, out: `-9007199254740992e0`},
		{claim: "cj10 9007199254740991.0e0", in: `9007199254740991.0e0`, out: `9007199254740991`},
		{claim: "cj10 100000000000000000000e-5", in: `100000000000000000000e-5`, out: `1000000000000000`},
		{claim: "cj10 1e15", in: `1e15`, out: `1000000000000000`},
		{claim: "cj10 -0e-5 -> 0", in: `-0e-5`, out: `0`},
		{claim: "cj10 0e999999999999", in: `0e999999999999`, out: `0`},
		{claim: "cj10 1e999999999999 verbatim", in: `1e999999999999`, out: `1e999999999999`},
		{claim: "cj10 -0 in array", in: `[-0,-0]`, out: `[0,0]`},
		{claim: "cj10 big negative integer copied", in: `-123456789012345678901234567890`, out: `-123456789012345678901234567890`},
		{claim: "cj7 three occurrences: second reported", in: `{"a":1,"a":2,"a":3}`, strict: true, err: canonicaljson.ErrDuplicateKey, off: 7},
		{claim: "cj13 NUL raw in string", in: "\"\x00\"", err: canonicaljson.ErrSyntax, off: 1},
		{claim: "cj13 raw DEL allowed", in: "\"\x7f\"", out: "\"\x7f\""},
		{claim: "cj13 lone low surrogate strict in key", in: `{"\udc00":1}`, strict: true, err: canonicaljson.ErrLoneSurrogate, off: 2},
	}
	runCJ(t, cases)
}

// TestCanonicalAllocs checks go doc canonicaljson.Valid ("it allocates only the error it
// returns") and redaction.AppendSignedBytes ("without allocating when dst has room").
func TestCanonicalAllocs(t *testing.T) {
	inputs := []string{
		`{"a":1,"b":[1,2,{"c":"d"}]}`,
		`{"b":1,"a":{"d":1,"c":"\u0041\/"}}`,
		` { "z" : 1.5e1 , "y" : [ -0 ] , "\u00e9" : "x" } `,
		`{"b":1,"a":1,"b":2}`,
	}
	for _, in := range inputs {
		b := []byte(in)
		n := testing.AllocsPerRun(50, func() { _ = canonicaljson.Valid(b, canonicaljson.Options{}) })
		if n != 0 {
			t.Errorf("Valid(%s) allocates %.1f times per call; doc: only the error it returns", in, n)
		}
	}
	v := claimkit.Ver(t, "10")
	canon, _ := canonicaljson.CanonicalStrict(mkEvent("10", kv{"type", `"m.room.member"`}, kv{"state_key", `"@u:a.example"`}, kv{"content", `{"membership":"join","x":1}`}))
	dst := make([]byte, 0, 4096)
	n := testing.AllocsPerRun(50, func() { _, _ = redaction.AppendSignedBytes(dst[:0], v, canon) })
	if n != 0 {
		t.Errorf("AppendSignedBytes allocates %.1f times with room in dst", n)
	}
}

// TestIndexReset checks go doc canonicaljson.Index.Reset (lets go of memory past 1,024
// members) and Index reuse (keeps its memory).
func TestIndexReset(t *testing.T) {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i < 2000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"k%04d":1`, i)
	}
	sb.WriteByte('}')
	var idx canonicaljson.Index
	if _, err := canonicaljson.AppendIndexed(nil, []byte(sb.String()), canonicaljson.Options{}, &idx); err != nil || len(idx.Members) != 2000 {
		t.Fatalf("index 2000 members: %v %d", err, len(idx.Members))
	}
	idx.Reset()
	if cap(idx.Members)+cap(idx.Nested) > 1024 {
		t.Errorf("Reset kept room for %d members after a 2000-member input", cap(idx.Members)+cap(idx.Nested))
	}
	var small canonicaljson.Index
	_, _ = canonicaljson.AppendIndexed(nil, []byte(`{"a":1,"b":2,"c":3}`), canonicaljson.Options{}, &small)
	c := cap(small.Members)
	_, _ = canonicaljson.AppendIndexed(nil, []byte(`{"a":1}`), canonicaljson.Options{}, &small)
	if cap(small.Members) != c || len(small.Members) != 1 {
		t.Errorf("reuse: cap %d -> %d, len %d", c, cap(small.Members), len(small.Members))
	}
}

// countingKeys counts PublicKey calls per server/key ID.
type countingKeys struct {
	mu    sync.Mutex
	ring  signing.KeyRing
	calls map[string]int
}

func (c *countingKeys) PublicKey(server, keyID string) (signing.PublicKey, bool) {
	c.mu.Lock()
	c.calls[server+" "+keyID]++
	c.mu.Unlock()
	return c.ring.PublicKey(server, keyID)
}

// TestKeyLookupCalls checks go doc signing.KeyLookup ("PublicKey is called once for each
// ed25519 key ID a server that must sign put in signatures") and decisions.md pdu
// "Signature counts" (only the ed25519: key IDs of the servers that must sign).
func TestKeyLookupCalls(t *testing.T) {
	for _, id := range []string{"2", "10", "12"} {
		e := signedEvent(t, id, []string{"a.example"})
		e = setTop(t, e, "signatures", strings.Replace(topField(t, e, "signatures"), `{"ed25519:1"`,
			`{"ed25519:z":"AAAA","foo:1":"x","ed25519:1"`, 1)+"")
		sigs := topField(t, e, "signatures")
		e = setTop(t, e, "signatures", strings.TrimSuffix(sigs, "}")+`,"other.example":{"ed25519:1":"AAAA","ed25519:2":"BBBB"}}`)
		ck := &countingKeys{ring: ring(t, "a.example", "1"), calls: map[string]int{}}
		err := signing.VerifyEvent(claimkit.Ver(t, id), e, ck)
		if err != nil {
			t.Errorf("v%s: %v", id, err)
		}
		want := map[string]int{"a.example ed25519:1": 1, "a.example ed25519:z": 1}
		if fmt.Sprint(ck.calls) != fmt.Sprint(want) {
			t.Errorf("v%s PublicKey calls = %v, want %v", id, ck.calls, want)
		}
	}
}

// TestErrorKeyIDs checks go doc VerificationError.KeyID (ErrUnknownKey: the first unknown
// key ID in byte order; ErrKeyExpired: the first expired key) and decisions.md signing 3
// (expired with an unknown key beside it is still ErrKeyExpired).
func TestErrorKeyIDs(t *testing.T) {
	e := signedEvent(t, "10", []string{"a.example"})
	for _, kid := range []string{"b", "a", "c"} {
		var err error
		e, err = signing.SignJSON(e, "a.example", skey(t, "a.example", kid)) // signatures over the unredacted event
		if err != nil {
			t.Fatal(err)
		}
	}
	// Keys b and c unknown, a and 1 unknown: all unknown.
	ve := verr(t, "all unknown", signing.VerifyEvent(claimkit.Ver(t, "10"), e, signing.KeyRing{}), signing.ErrUnknownKey, "")
	if ve != nil && (ve.KeyID != "ed25519:1" || ve.Server != "a.example") {
		t.Errorf("ErrUnknownKey KeyID = %q Server %q, want ed25519:1 (first in byte order)", ve.KeyID, ve.Server)
	}
	// Key 1 known but expired, the others unknown: ErrKeyExpired, KeyID ed25519:1.
	exp := signing.KeyRing{"a.example": {"ed25519:1": {Key: skey(t, "a.example", "1").Public(), ValidUntilTS: 5}}}
	ve = verr(t, "expired + unknown", signing.VerifyEvent(claimkit.Ver(t, "10"), e, exp), signing.ErrKeyExpired, "")
	if ve != nil && ve.KeyID != "ed25519:1" {
		t.Errorf("ErrKeyExpired KeyID = %q", ve.KeyID)
	}
	// Two expired keys: the first (byte order).
	e2 := signedEvent(t, "10", []string{"a.example"})
	red := mustRedact(t, "10", e2)
	for _, kid := range []string{"9", "5"} {
		s, _ := signing.SignJSON(red, "a.example", skey(t, "a.example", kid))
		red = setTop(t, red, "signatures", topField(t, s, "signatures"))
	}
	e2 = setTop(t, e2, "signatures", topField(t, red, "signatures"))
	exp2 := signing.KeyRing{"a.example": {
		"ed25519:9": {Key: skey(t, "a.example", "9").Public(), ValidUntilTS: 5},
		"ed25519:5": {Key: skey(t, "a.example", "5").Public(), ValidUntilTS: 5},
	}}
	ve = verr(t, "two expired", signing.VerifyEvent(claimkit.Ver(t, "10"), e2, exp2), signing.ErrKeyExpired, "")
	if ve != nil && ve.KeyID != "ed25519:5" {
		t.Errorf("ErrKeyExpired KeyID = %q, want ed25519:5 (the first expired)", ve.KeyID)
	}
	// One expired, one valid: valid.
	exp3 := signing.KeyRing{"a.example": {
		"ed25519:9": {Key: skey(t, "a.example", "9").Public(), ValidUntilTS: 5},
		"ed25519:5": {Key: skey(t, "a.example", "5").Public()},
	}}
	verr(t, "expired + valid", signing.VerifyEvent(claimkit.Ver(t, "10"), e2, exp3), nil, "")
}

// TestUnknownVersionEverywhere checks the package docs of pdu, redaction and signing: the
// zero Version and a renamed copy are refused with an error matching ErrUnknownVersion.
func TestUnknownVersionEverywhere(t *testing.T) {
	var zero roomversion.Version
	ren := claimkit.Ver(t, "10")
	ren.ID = "10x"
	good := claimkit.Ver(t, "10")
	e := signedEvent(t, "10", []string{"a.example"})
	canon, _ := canonicaljson.CanonicalStrict(e)
	k := skey(t, "a.example", "1")
	r := ring(t, "a.example", "1")
	for name, v := range map[string]roomversion.Version{"zero": zero, "renamed": ren} {
		calls := map[string]error{}
		_, calls["pdu.Parse"] = pdu.Parse(v, e)
		_, calls["pdu.ParseIndexed"] = pdu.ParseIndexed(v, e, &canonicaljson.Index{})
		_, calls["redaction.Redact"] = redaction.Redact(v, e)
		_, calls["redaction.RedactCanonical"] = redaction.RedactCanonical(v, canon)
		_, calls["redaction.AppendSignedBytes"] = redaction.AppendSignedBytes(nil, v, canon)
		_, calls["signing.ContentHash"] = signing.ContentHash(v, e)
		_, calls["signing.ReferenceHash"] = signing.ReferenceHash(v, e)
		_, calls["signing.EventID"] = signing.EventID(v, e)
		calls["signing.CheckContentHash"] = signing.CheckContentHash(v, e)
		_, calls["signing.SignEvent"] = signing.SignEvent(v, e, "a.example", k)
		_, calls["signing.CountersignEvent"] = signing.CountersignEvent(v, e, "b.example", k)
		calls["signing.VerifyEvent"] = signing.VerifyEvent(v, e, r)
		_, calls["signing.ParseEvent"] = signing.ParseEvent(v, e)
		calls["signing.VerifyEvents"] = signing.VerifyEvents(v, [][]byte{e}, r, nil)[0]
		_, errs := signing.ParseAndVerifyEvents(v, [][]byte{e}, r, nil)
		calls["signing.ParseAndVerifyEvents"] = errs[0]
		for fn, err := range calls {
			if !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Errorf("%s with %s Version: %v, want an error matching ErrUnknownVersion", fn, name, err)
			}
		}
		// Decide with a bad version must not apply.
		red := parsed(t, "10", evJSON("10", kv{"type", `"m.room.redaction"`}, kv{"redacts", `"$t"`}), "$r")
		tgt := parsed(t, "10", evJSON("10"), "$t")
		if d, _ := redaction.Decide(v, red, tgt, 100, 0); d != redaction.Ignore {
			t.Errorf("Decide with %s Version = %v", name, d)
		}
	}
	_ = good
}

// TestMiscSigning checks go doc IsThirdPartyInvite, VerifyEventSignature, and
// ParseSigningKey's surrounding characters.
func TestMiscSigning(t *testing.T) {
	v := claimkit.Ver(t, "10")
	tp, _ := pdu.Parse(v, mkEvent("10", tpiMods()...))
	if !signing.IsThirdPartyInvite(tp) {
		t.Errorf("IsThirdPartyInvite false for a 3pid invite")
	}
	for _, mods := range [][]kv{
		{{"type", `"m.room.member"`}, {"state_key", `"@w:z"`}, {"content", `{"membership":"join","third_party_invite":{}}`}},
		{{"type", `"m.room.member"`}, {"state_key", `"@w:z"`}, {"content", `{"membership":"invite"}`}},
		{{"type", `"m.room.message"`}, {"content", `{"membership":"invite","third_party_invite":{}}`}},
	} {
		ev, _ := pdu.Parse(v, mkEvent("10", mods...))
		if signing.IsThirdPartyInvite(ev) {
			t.Errorf("IsThirdPartyInvite true for %v", mods)
		}
	}
	// third_party_invite of any value counts as "has a property"?
	ev, _ := pdu.Parse(v, mkEvent("10", kv{"type", `"m.room.member"`}, kv{"state_key", `"@w:z"`}, kv{"content", `{"membership":"invite","third_party_invite":null}`}))
	t.Logf("IsThirdPartyInvite with third_party_invite null: %v", signing.IsThirdPartyInvite(ev))
	// VerifyEventSignature.
	e := signedEvent(t, "10", []string{"a.example", "c.example"})
	pev, _ := signing.ParseEvent(v, e)
	verr(t, "VerifyEventSignature ok", signing.VerifyEventSignature(pev, "c.example", ring(t, "c.example", "1")), nil, "")
	verr(t, "VerifyEventSignature missing", signing.VerifyEventSignature(pev, "d.example", ring(t, "d.example", "1")), signing.ErrMissingSignature, "")
	verr(t, "VerifyEventSignature unknown", signing.VerifyEventSignature(pev, "c.example", signing.KeyRing{}), signing.ErrUnknownKey, "")
	exp := signing.KeyRing{"c.example": {"ed25519:1": {Key: skey(t, "c.example", "1").Public(), ValidUntilTS: 999}}}
	verr(t, "VerifyEventSignature expired", signing.VerifyEventSignature(pev, "c.example", exp), signing.ErrKeyExpired, "")
	bad := setTop(t, e, "content", `{"body":"changed"}`)
	pbad, _ := pdu.Parse(v, bad)
	verr(t, "VerifyEventSignature ignores content hash", signing.VerifyEventSignature(pbad, "c.example", ring(t, "c.example", "1")), nil, "")
	verr(t, "VerifyEventSignature nil", signing.VerifyEventSignature(nil, "c.example", ring(t, "c.example", "1")), signing.ErrMalformed, "")
	for _, in := range []string{"\u00a0ed25519 a b", "ed25519 a_1 AAAA\u2028"} {
		if _, err := signing.ParseSigningKey([]byte(in)); err == nil {
			t.Errorf("ParseSigningKey(%q) accepted", in)
		}
	}
}

// TestPDUSizeShortcut checks decisions.md pdu "Size is measured on the canonical form":
// from v6, more than 6 x 65,536 bytes besides whitespace is ErrTooLarge even when not JSON;
// at 6 x 65,536 the verdict is canonicalising's; before v6 there is no shortcut.
func TestPDUSizeShortcut(t *testing.T) {
	notJSON := func(n int) []byte { // n bytes, none whitespace, not JSON
		return []byte(`{"a":"` + strings.Repeat("q", n-10) + `",,}`)
	}
	for _, id := range claimkit.VersionIDs() {
		for _, c := range []struct {
			n        int
			spaces   int
			wantV6   error
			wantV1_5 error
		}{
			{6 * 65536, 0, pdu.ErrNotJSON, pdu.ErrNotJSON},
			{6*65536 + 1, 0, pdu.ErrTooLarge, pdu.ErrNotJSON},
			{6 * 65536, 100000, pdu.ErrNotJSON, pdu.ErrNotJSON},
		} {
			data := notJSON(c.n)
			if c.spaces > 0 {
				data = append([]byte(strings.Repeat(" ", c.spaces)), data...)
			}
			_, err := pdu.Parse(claimkit.Ver(t, id), data)
			want := c.wantV1_5
			if inRange(id, 6, 12) {
				want = c.wantV6
			}
			if !errors.Is(err, want) {
				t.Errorf("v%s %d non-ws bytes (+%d spaces), not JSON: %v, want %v", id, c.n, c.spaces, err, want)
			}
		}
	}
}

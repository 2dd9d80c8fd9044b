package claimsa

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestMembershipOnlyForMember checks go doc pdu.Event.Membership: "content.membership of an
// m.room.member event when it is a string".
func TestMembershipOnlyForMember(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		ev, err := pdu.Parse(claimkit.Ver(t, id), mkEvent(id, kv{"content", `{"membership":"join"}`}))
		if err != nil {
			t.Fatal(err)
		}
		if ev.Membership != "" {
			t.Errorf("v%s m.room.message with content.membership: Membership = %q, want \"\"", id, ev.Membership)
		}
		ev, _ = pdu.Parse(claimkit.Ver(t, id), mkEvent(id, kv{"type", `"m.room.member"`}, kv{"state_key", `"@u:a"`}, kv{"content", `{"membership":5}`}))
		if ev == nil || ev.Membership != "" {
			t.Errorf("v%s non-string membership: %v", id, ev)
		}
	}
}

// TestFastPathSameAsParser checks decisions.md canonicaljson 26 and the package doc "Input
// that is already canonical": output, error and Index are those of the parser alone. A
// leading space makes the input non-canonical, so the parser handles it.
func TestFastPathSameAsParser(t *testing.T) {
	inputs := []string{
		`{"a":{"b":[1,"x\n"],"c":{}},"content":{"k":"v","z":[]},"d":-5}`,
		`[1,{"a":null}]`,
		`"\u0001"`,
		`{"a":1,"a":2}`,
		`{"b":1,"a":2}`,
		`{"a":"\u00e9"}`,
		`{"a":1.5}`,
		`{"a":-0}`,
	}
	for _, in := range inputs {
		for _, strict := range []bool{false, true} {
			o := canonicaljson.Options{Strict: strict}
			var i1, i2 canonicaljson.Index
			a, e1 := canonicaljson.AppendIndexed(nil, []byte(in), o, &i1)
			b, e2 := canonicaljson.AppendIndexed(nil, []byte(" "+in), o, &i2)
			var s1, s2 *canonicaljson.SyntaxError
			if errors.As(e1, &s1) != errors.As(e2, &s2) || (s1 != nil && (s1.Err != s2.Err || s1.Offset+1 != s2.Offset)) {
				t.Errorf("%s strict=%v: errors differ: %v / %v", in, strict, e1, e2)
				continue
			}
			if e1 != nil {
				continue
			}
			if !bytes.Equal(a, b) || !reflect.DeepEqual(i1.Members, i2.Members) || !reflect.DeepEqual(i1.Nested, i2.Nested) {
				t.Errorf("%s strict=%v: fast path differs: %s %v / %s %v", in, strict, a, i1.Members, b, i2.Members)
			}
		}
	}
}

// TestEscapeOffsetsEveryEntryPoint checks decisions.md canonicaljson 19a: "one convention
// holds for every entry point (Append, Valid, EachMember, EachElement, Unquote)".
func TestEscapeOffsetsEveryEntryPoint(t *testing.T) {
	check := func(name string, err error, want int64) {
		t.Helper()
		var se *canonicaljson.SyntaxError
		if !errors.As(err, &se) || se.Offset != want {
			t.Errorf("%s: %v, want offset %d", name, err, want)
		}
	}
	check("Unquote bad escape", func() error { _, err := canonicaljson.Unquote([]byte(`"ab\x"`)); return err }(), 3)
	check("Unquote bad hex", func() error { _, err := canonicaljson.Unquote([]byte(`"ab\u00G0"`)); return err }(), 3)
	check("Unquote unterminated", func() error { _, err := canonicaljson.Unquote([]byte(`"abc`)); return err }(), 4)
	check("Unquote invalid UTF-8", func() error { _, err := canonicaljson.Unquote([]byte("\"ab\xff\"")); return err }(), 3)
	nop := func(string, []byte) error { return nil }
	check("EachMember bad escape in key", canonicaljson.EachMember([]byte(`{"a\x":1}`), nop), 3)
	check("EachMember bad escape in value", canonicaljson.EachMember([]byte(`{"a":"\q"}`), nop), 6)
	check("EachMember raw control", canonicaljson.EachMember([]byte("{\"a\":\"x\x01\"}"), nop), 7)
	check("EachElement bad escape", canonicaljson.EachElement([]byte(`["x","\u12"]`), func([]byte) error { return nil }), 6)
	check("Valid bad escape", canonicaljson.Valid([]byte(`{"k":"ab\x"}`), canonicaljson.Options{}), 8)
}

// TestMarshalOffset checks go doc canonicaljson.Marshal: "its offset is into the
// encoding/json output".
func TestMarshalOffset(t *testing.T) {
	_, err := canonicaljson.Marshal(map[string]any{"a": 1.5})
	var se *canonicaljson.SyntaxError
	if !errors.As(err, &se) || se.Offset != 5 {
		t.Errorf("Marshal({a:1.5}) = %v, want offset 5 into {\"a\":1.5}", err)
	}
}

// TestRedactCanonicalNoPanic checks go doc RedactCanonical / AppendSignedBytesIndexed:
// "for anything else the result is unspecified (though never a panic)".
func TestRedactCanonicalNoPanic(t *testing.T) {
	garbage := []string{``, `{`, `}`, `{"a"`, `{"a":}`, `{"content":{"membership":`, `{"b":1,"a":2}`, `{"type":"m.room.member","content":[}`, "{\"\xff\":1}", `{"signatures":{"a":`, `null`, `{"a":1}}}`, `{"type":5,"content":{"x":{"y":`}
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		for _, g := range garbage {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("v%s RedactCanonical/AppendSignedBytes(%q) panicked: %v", id, g, r)
					}
				}()
				_, _ = redaction.RedactCanonical(v, []byte(g))
				_, _ = redaction.AppendSignedBytes(nil, v, []byte(g))
			}()
		}
		// An index of another text, with offsets inside canon.
		var idx canonicaljson.Index
		other, _ := canonicaljson.AppendIndexed(nil, []byte(`{"content":{"a":1,"b":2},"type":"m.room.member","z":1}`), canonicaljson.Options{}, &idx)
		canon := []byte(strings.Repeat("x", len(other)))
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("v%s AppendSignedBytesIndexed with a foreign index panicked: %v", id, r)
				}
			}()
			_, _ = redaction.AppendSignedBytesIndexed(nil, v, canon, &idx)
		}()
	}
}

// TestEventsNotModified checks go doc pdu.Event: "An Event is never modified by the
// functions of roomproto".
func TestEventsNotModified(t *testing.T) {
	for _, id := range []string{"2", "10", "11"} {
		v := claimkit.Ver(t, id)
		red := mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `"$t:a.example"`}, kv{"content", `{"redacts":"$t:a.example"}`}, kv{"event_id", `"$r:a.example"`})
		if !inRange(id, 1, 2) {
			red = setTop(t, red, "event_id", "-")
		}
		tgtData := mkEvent(id, kv{"event_id", `"$t:a.example"`})
		if !inRange(id, 1, 2) {
			tgtData = setTop(t, tgtData, "event_id", "-")
		}
		r, err := pdu.Parse(v, red)
		if err != nil {
			t.Fatal(err)
		}
		tg, _ := pdu.Parse(v, tgtData)
		r.EventID, tg.EventID = "$r:a.example", "$t:a.example"
		rc, tc := *r, *tg
		rc.Signatures = append(pdu.Signatures(nil), r.Signatures...)
		_, _ = signing.RequiredSigners(r)
		_ = signing.VerifyParsedEvent(r, ring(t, "a.example", "1"))
		_ = signing.VerifyEventSignature(r, "a.example", ring(t, "a.example", "1"))
		_ = signing.VerifyParsedEvents([]*pdu.Event{r, tg}, ring(t, "a.example", "1"), nil)
		_, _ = redaction.Decide(v, r, tg, 0, 50)
		_, _ = redaction.ApplyRedaction(tg, r)
		_ = signing.IsThirdPartyInvite(r)
		if !reflect.DeepEqual(rc, *r) || !reflect.DeepEqual(tc, *tg) {
			t.Errorf("v%s: an Event was modified", id)
		}
	}
}

// TestVerifyMore checks go doc VerifyJSON (no validity periods), HasValidSignature (unsigned
// not covered), VerifyEvents independence, RequiredSigners authoriser without ':', and
// decisions.md signing 6 (bad before missing) and 16 (order of required servers).
func TestVerifyMore(t *testing.T) {
	k := skey(t, "a.example", "1")
	obj, _ := signing.SignJSON([]byte(`{"a":1,"unsigned":{"x":1}}`), "a.example", k)
	exp := signing.KeyRing{"a.example": {"ed25519:1": {Key: k.Public(), ValidUntilTS: 1}}}
	verr(t, "VerifyJSON ignores validity", signing.VerifyJSON(obj, exp), nil, "")
	verr(t, "VerifyJSONServer ignores validity", signing.VerifyJSONServer(obj, "a.example", exp), nil, "")
	if ok, err := signing.HasValidSignature(setTop(t, obj, "unsigned", `{"y":2}`), k.Public()); !ok || err != nil {
		t.Errorf("HasValidSignature with changed unsigned: %v %v", ok, err)
	}
	// VerifyEvents: a bad event does not affect another.
	good := signedEvent(t, "10", []string{"a.example"})
	bad := setTop(t, good, "depth", "77")
	errs := signing.VerifyEvents(claimkit.Ver(t, "10"), [][]byte{bad, good, []byte(`{`), good}, ring(t, "a.example", "1"), &signing.BatchOptions{Workers: 2})
	if errs[1] != nil || errs[3] != nil || !errors.Is(errs[0], signing.ErrBadSignature) || !errors.Is(errs[2], signing.ErrMalformed) {
		t.Errorf("VerifyEvents mixed = %v", errs)
	}
	// Authoriser without a server name.
	ev, _ := pdu.Parse(claimkit.Ver(t, "10"), mkEvent("10", kv{"type", `"m.room.member"`}, kv{"state_key", `"@u:a.example"`}, kv{"content", `{"membership":"join","join_authorised_via_users_server":"@x"}`}))
	if _, err := signing.RequiredSigners(ev); !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("authoriser without server name: %v, want ErrMalformed", err)
	}
	// 3pid: bad before missing.
	tp := signedEvent(t, "10", []string{"z.example"}, tpiMods()...)
	tp = setTop(t, tp, "depth", "99") // z's signature now bad
	sigs := topField(t, tp, "signatures")
	tp = setTop(t, tp, "signatures", strings.TrimSuffix(sigs, "}")+`,"y.example":{"foo:1":"x"}}`)
	verr(t, "signing 6: bad before missing", signing.VerifyEvent(claimkit.Ver(t, "10"), tp, ring(t, "z.example", "1")), signing.ErrBadSignature, "")
	// 16: v2, both required servers unknown -> the sender's server is named.
	e2 := signedEvent(t, "2", []string{"a.example", "b.example"}, kv{"event_id", `"$e:b.example"`})
	ve := verr(t, "signing 16 both unknown", signing.VerifyEvent(claimkit.Ver(t, "2"), e2, signing.KeyRing{}), signing.ErrUnknownKey, "")
	if ve != nil && ve.Server != "a.example" {
		t.Errorf("both unknown: Server = %q, want a.example (first required server)", ve.Server)
	}
	e2b := setTop(t, e2, "depth", "99")
	ve = verr(t, "signing 16 both bad", signing.VerifyEvent(claimkit.Ver(t, "2"), e2b, ring(t, "a.example", "1", "b.example", "1")), signing.ErrBadSignature, "")
	if ve != nil && ve.Server != "a.example" {
		t.Errorf("both bad: Server = %q, want a.example", ve.Server)
	}
	// 16: sender unknown, event-ID domain bad -> bad first.
	ve = verr(t, "signing 16 unknown + bad", signing.VerifyEvent(claimkit.Ver(t, "2"), e2b, ring(t, "b.example", "1")), signing.ErrBadSignature, "")
	if ve != nil && ve.Server != "b.example" {
		t.Errorf("unknown + bad: Server = %q, want b.example", ve.Server)
	}
}

// TestDecideV12CreateWithRoomID checks decisions.md pdu "A v12 create event is one by its
// type" and redaction 9 together: a v12 create's room is derived from its ID whatever
// room_id it carries.
func TestDecideV12CreateWithRoomID(t *testing.T) {
	create := parsed(t, "12", evJSON("12", kv{"type", `"m.room.create"`}, kv{"state_key", `""`}, kv{"room_id", `"!other:x"`}, kv{"sender", `"@v:b.example"`}), "$abc")
	red := parsed(t, "12", evJSON("12", kv{"type", `"m.room.redaction"`}, kv{"room_id", `"!abc"`}, kv{"content", `{"redacts":"$abc"}`}), "$r")
	if d, r := redaction.Decide(claimkit.Ver(t, "12"), red, create, 100, 50); d != redaction.Apply {
		t.Errorf("v12 create with room_id: %v (%s), want apply", d, r)
	}
	red2 := parsed(t, "12", evJSON("12", kv{"type", `"m.room.redaction"`}, kv{"room_id", `"!other:x"`}, kv{"content", `{"redacts":"$abc"}`}), "$r")
	if d, _ := redaction.Decide(claimkit.Ver(t, "12"), red2, create, 100, 50); d != redaction.Ignore {
		t.Errorf("v12 create, redaction in the room_id it carries: %v, want ignore", d)
	}
}

// TestParseIndexedReuse checks go doc pdu.ParseIndexed: "On success idx describes the
// returned Event's Raw() (whatever it held before)".
func TestParseIndexedReuse(t *testing.T) {
	var idx canonicaljson.Index
	big := mkEvent("10", kv{"content", `{"a":1,"b":2,"c":3,"d":4}`}, kv{"unsigned", `{"x":1,"y":2}`})
	if _, err := pdu.ParseIndexed(claimkit.Ver(t, "10"), big, &idx); err != nil {
		t.Fatal(err)
	}
	small := []byte(" " + string(mkEvent("10")))
	ev, err := pdu.ParseIndexed(claimkit.Ver(t, "10"), small, &idx)
	if err != nil {
		t.Fatal(err)
	}
	var fresh canonicaljson.Index
	_, _ = canonicaljson.AppendIndexed(nil, ev.Raw(), canonicaljson.Options{Strict: true}, &fresh)
	if !reflect.DeepEqual(idx.Members, fresh.Members) || !reflect.DeepEqual(idx.Nested, fresh.Nested) {
		t.Errorf("ParseIndexed index differs from AppendIndexed of Raw()")
	}
}

package claimsc

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// baseEvent is a message of version v with fields replaced (nil deletes).
func baseEvent(v roomversion.Version, fields M) M {
	m := M{"room_id": "!r:a.example", "sender": "@a:a.example", "type": "m.room.message",
		"content": M{"body": "x"}, "prev_events": []any{}, "auth_events": []any{}, "depth": 1,
		"origin_server_ts": 1, "hashes": M{"sha256": "AAAA"}, "signatures": M{}}
	if v.ID == "1" || v.ID == "2" {
		m["event_id"] = "$e:a.example"
	}
	for k, x := range fields {
		if x == nil {
			delete(m, k)
		} else {
			m[k] = x
		}
	}
	return m
}

func wantFormat(t *testing.T, what string, err error, field string, sentinel error) {
	t.Helper()
	var fe *pdu.FormatError
	if !errors.As(err, &fe) || fe.Field != field || !errors.Is(err, sentinel) {
		t.Errorf("%s: %v, want *pdu.FormatError{Field: %q} matching %v", what, err, field, sentinel)
	}
}

func refsN(v roomversion.Version, n int) []any {
	out := []any{}
	for i := 0; i < n; i++ {
		id := "$" + strings.Repeat("A", 42) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if v.ID == "1" || v.ID == "2" {
			out = append(out, []any{"$e" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ":a.example", M{}})
		} else {
			out = append(out, id)
		}
	}
	return out
}

// SECURITY.md "Limits": pdu.MaxEventSize, MaxIDLength, MaxPrevEvents, MaxAuthEvents, depth,
// at the edge and one past it, with the error the table names.
func TestSecurityPduLimits(t *testing.T) {
	if pdu.MaxEventSize != 65536 || pdu.MaxIDLength != 255 || pdu.MaxPrevEvents != 20 || pdu.MaxAuthEvents != 10 {
		t.Fatalf("constants %d %d %d %d", pdu.MaxEventSize, pdu.MaxIDLength, pdu.MaxPrevEvents, pdu.MaxAuthEvents)
	}
	for _, v := range roomversion.All() {
		t.Run("v"+v.ID, func(t *testing.T) {
			// MaxEventSize: "65,536 bytes of canonical JSON, hashes and signatures included"
			small := claimkit.Marshal(t, baseEvent(v, nil))
			pad := func(n int) []byte {
				return claimkit.Marshal(t, baseEvent(v, M{"content": M{"body": strings.Repeat("x", n)}}))
			}
			edge := pad(pdu.MaxEventSize - len(small) + 1)
			if len(edge) != pdu.MaxEventSize {
				t.Fatalf("edge %d", len(edge))
			}
			if _, err := pdu.Parse(v, edge); err != nil {
				t.Errorf("event of exactly %d bytes: %v", len(edge), err)
			}
			over := pad(pdu.MaxEventSize - len(small) + 2)
			_, err := pdu.Parse(v, over)
			wantFormat(t, "65,537 bytes", err, "", pdu.ErrTooLarge)
			err = signing.VerifyEvent(v, over, signing.KeyRing{})
			var ve *signing.VerificationError
			if !errors.As(err, &ve) || !errors.Is(err, signing.ErrMalformed) || !errors.Is(err, pdu.ErrTooLarge) {
				t.Errorf("VerifyEvent of 65,537 bytes: %v, want *signing.VerificationError, ErrMalformed wrapping ErrTooLarge", err)
			}
			// MaxIDLength: 255 bytes of UTF-8 after unescaping
			for _, f := range []string{"sender", "room_id", "type"} {
				mk := func(n int) string {
					pre, suf := "", ""
					switch f {
					case "sender":
						pre, suf = "@", ":a.example"
					case "room_id":
						pre, suf = "!", ":a.example"
					}
					k := n - len(pre) - len(suf)
					return pre + strings.Repeat("é", k/2) + strings.Repeat("x", k%2) + suf
				}
				okID, longID := mk(255), mk(256)
				if len(okID) != 255 || len(longID) != 256 {
					t.Fatalf("%s: %d %d", f, len(okID), len(longID))
				}
				if _, err := pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{f: okID}))); err != nil {
					t.Errorf("%s of %d bytes: %v", f, len(okID), err)
				}
				_, err := pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{f: longID})))
				wantFormat(t, f+" of 256+ bytes", err, f, pdu.ErrTooLarge)
			}
			// escaped: 255 bytes after unescaping, 6 times longer written
			esc := `"type":"` + strings.Repeat(`\u0061`, 255) + `"`
			if _, err := pdu.Parse(v, []byte(strings.Replace(string(small), `"type":"m.room.message"`, esc, 1))); err != nil {
				t.Errorf("type of 255 bytes written escaped: %v", err)
			}
			sk := strings.Repeat("k", 256)
			_, err = pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{"state_key": sk})))
			wantFormat(t, "state_key of 256 bytes", err, "state_key", pdu.ErrTooLarge)
			// prev_events 20 / 21, auth_events 10 / 11
			if _, err := pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{"prev_events": refsN(v, 20)}))); err != nil {
				t.Errorf("20 prev_events: %v", err)
			}
			_, err = pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{"prev_events": refsN(v, 21)})))
			wantFormat(t, "21 prev_events", err, "prev_events", pdu.ErrTooMany)
			if _, err := pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{"auth_events": refsN(v, 10)}))); err != nil {
				t.Errorf("10 auth_events: %v", err)
			}
			_, err = pdu.Parse(v, claimkit.Marshal(t, baseEvent(v, M{"auth_events": refsN(v, 11)})))
			wantFormat(t, "11 auth_events", err, "auth_events", pdu.ErrTooMany)
			// depth: "0 to 2^63-1 (v1-5), 0 to 2^53-1 (v6+)"; "ErrOutOfRange below 0;
			// ErrWrongType beyond int64 (v1-5); ErrNotJSON wrapping canonicaljson.ErrIntegerRange (v6+)"
			withDepth := func(d string) []byte {
				return []byte(strings.Replace(string(small), `"depth":1`, `"depth":`+d, 1))
			}
			if _, err := pdu.Parse(v, withDepth("0")); err != nil {
				t.Errorf("depth 0: %v", err)
			}
			_, err = pdu.Parse(v, withDepth("-1"))
			wantFormat(t, "depth -1", err, "depth", pdu.ErrOutOfRange)
			if want := map[bool]int64{true: 1<<53 - 1, false: 1<<63 - 1}[v.Format.StrictCanonicalJSON]; v.Format.MaxDepth != want {
				t.Errorf("Format.MaxDepth %d, want %d", v.Format.MaxDepth, want)
			}
			if v.Format.StrictCanonicalJSON {
				if _, err := pdu.Parse(v, withDepth("9007199254740991")); err != nil {
					t.Errorf("depth 2^53-1: %v", err)
				}
				_, err = pdu.Parse(v, withDepth("9007199254740992"))
				if !errors.Is(err, pdu.ErrNotJSON) || !errors.Is(err, canonicaljson.ErrIntegerRange) {
					t.Errorf("depth 2^53: %v, want ErrNotJSON wrapping ErrIntegerRange", err)
				}
			} else {
				if _, err := pdu.Parse(v, withDepth("9223372036854775807")); err != nil {
					t.Errorf("depth 2^63-1: %v", err)
				}
				// SECURITY.md and docs/decisions.md (pdu): ErrOutOfRange beyond int64 (finding C2:
				// the table said ErrWrongType).
				_, err = pdu.Parse(v, withDepth("9223372036854775808"))
				wantFormat(t, "depth 2^63", err, "depth", pdu.ErrOutOfRange)
			}
		})
	}
}

func nested(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// SECURITY.md "Limits": canonicaljson.DefaultMaxDepth "127 levels of arrays and objects ([] is
// 1 ...)" enforced by canonicaljson, pdu.Parse, redaction.Redact, every signing function:
// *canonicaljson.SyntaxError{Err: ErrTooDeep}, wrapped in pdu.ErrNotJSON,
// redaction.ErrInvalidJSON, signing.ErrMalformed; HardMaxDepth "4,096: a larger
// Options.MaxDepth is capped".
func TestSecurityDepthLimits(t *testing.T) {
	if canonicaljson.DefaultMaxDepth != 127 || canonicaljson.HardMaxDepth != 4096 {
		t.Fatal("constants")
	}
	var se *canonicaljson.SyntaxError
	if _, err := canonicaljson.Canonical([]byte(nested(127))); err != nil {
		t.Errorf("127 levels: %v", err)
	}
	_, err := canonicaljson.Canonical([]byte(nested(128)))
	if !errors.As(err, &se) || !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("128 levels: %v", err)
	}
	if _, err := canonicaljson.Append(nil, []byte(nested(4096)), canonicaljson.Options{MaxDepth: 100000}); err != nil {
		t.Errorf("4096 levels with MaxDepth 100000: %v", err)
	}
	if _, err := canonicaljson.Append(nil, []byte(nested(4097)), canonicaljson.Options{MaxDepth: 100000}); !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("4097 levels with MaxDepth 100000: %v, want ErrTooDeep (capped at 4096)", err)
	}
	for _, v := range []roomversion.Version{claimkit.Ver(t, "5"), claimkit.Ver(t, "9")} {
		// content nested so that the event is 127 levels deep (the event object is 1)
		okEv := strings.Replace(string(claimkit.Marshal(t, baseEvent(v, nil))), `{"body":"x"}`, `{"a":`+nested(125)+`}`, 1)
		deep := strings.Replace(string(claimkit.Marshal(t, baseEvent(v, nil))), `{"body":"x"}`, `{"a":`+nested(126)+`}`, 1)
		if _, err := pdu.Parse(v, []byte(okEv)); err != nil {
			t.Errorf("v%s event of 127 levels: %v", v.ID, err)
		}
		_, err := pdu.Parse(v, []byte(deep))
		if !errors.As(err, &se) || !errors.Is(err, canonicaljson.ErrTooDeep) || !errors.Is(err, pdu.ErrNotJSON) {
			t.Errorf("v%s pdu.Parse 128 levels: %v", v.ID, err)
		}
		_, err = redaction.Redact(v, []byte(deep))
		if !errors.Is(err, canonicaljson.ErrTooDeep) || !errors.Is(err, redaction.ErrInvalidJSON) {
			t.Errorf("v%s Redact 128 levels: %v", v.ID, err)
		}
		for name, f := range map[string]func() error{
			"ContentHash": func() error { _, err := signing.ContentHash(v, []byte(deep)); return err },
			"EventID":     func() error { _, err := signing.EventID(v, []byte(deep)); return err },
			"VerifyEvent": func() error { return signing.VerifyEvent(v, []byte(deep), signing.KeyRing{}) },
			"VerifyJSON":  func() error { return signing.VerifyJSON([]byte(`{"a":`+nested(127)+`}`), signing.KeyRing{}) },
			"SignJSON": func() error {
				_, err := signing.SignJSON([]byte(`{"a":`+nested(127)+`}`), "a.example", keyFor("a.example"))
				return err
			},
		} {
			if err := f(); !errors.Is(err, canonicaljson.ErrTooDeep) || !errors.Is(err, signing.ErrMalformed) {
				t.Errorf("v%s %s 128 levels: %v, want ErrMalformed wrapping ErrTooDeep", v.ID, name, err)
			}
		}
	}
}

// SECURITY.md "Limits": "events supplied to authrules.Check | 40 (4 × pdu.MaxAuthEvents) |
// authrules.Check, CheckWithOptions, CheckAuthChain | fatal *authrules.Rejection{Rule: "2"}
// (v12: "3") wrapping ErrMalformed"; MaxAuthEvents "authrules.Check for hand-built events |
// fatal *authrules.Rejection with ErrMalformed".
func TestSecurityAuthLimits(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	ev := p.evs[10]
	supplied := func(n int) []*pdu.Event {
		var out []*pdu.Event
		for len(out) < n {
			out = append(out, p.evs[len(out)%len(p.evs)])
		}
		return out
	}
	if err := authrules.Check(v, ev, supplied(40), nil); err != nil {
		t.Errorf("40 events supplied: %v", err)
	}
	err := authrules.Check(v, ev, supplied(41), nil)
	var rej *authrules.Rejection
	if !errors.As(err, &rej) || rej.Rule != "2" || rej.Severity != authrules.SeverityFatal || !errors.Is(err, authrules.ErrMalformed) {
		t.Errorf("41 events supplied: %v, want fatal rule 2 ErrMalformed", err)
	}
	// hand-built event listing 11 auth events
	hb := *ev
	hb.AuthEvents = nil
	for _, e := range p.evs[:11] {
		hb.AuthEvents = append(hb.AuthEvents, e.EventID)
	}
	err = authrules.Check(v, &hb, p.evs[:11], nil)
	if !errors.As(err, &rej) || rej.Severity != authrules.SeverityFatal || !errors.Is(err, authrules.ErrMalformed) {
		t.Errorf("hand-built event with %d auth events: %v, want fatal ErrMalformed", len(hb.AuthEvents), err)
	}
	// user ID length 255
	for n, want := range map[int]bool{255: true, 256: false} {
		id := "@" + strings.Repeat("u", n-len("@:a.example")) + ":a.example"
		if authrules.ValidUserID(id) != want {
			t.Errorf("ValidUserID of %d bytes = %v", len(id), !want)
		}
	}
	if authrules.MaxChainEvents != 10_000_000 || authrules.MaxThirdPartyInviteChecks != 8192 {
		t.Errorf("constants")
	}
}

// SECURITY.md "Limits": v1-2 event_id "at most 255 bytes, no NUL, valid UTF-8 | pdu.Parse,
// signing.EventID | *pdu.FormatError{Field: "event_id"} with ErrTooLarge or ErrWrongType;
// signing.ErrMalformed wrapping it"; "entries of signatures: none of its own" (17 servers of 17
// keys each are read).
func TestSecurityEventIDAndSignatures(t *testing.T) {
	v := claimkit.Ver(t, "1")
	mk := func(id string) []byte { return claimkit.Marshal(t, baseEvent(v, M{"event_id": id})) }
	ok := "$" + strings.Repeat("o", 255-len("$:a.example")) + ":a.example"
	long := "$" + strings.Repeat("o", 256-len("$:a.example")) + ":a.example"
	if _, err := pdu.Parse(v, mk(ok)); err != nil {
		t.Errorf("255-byte event_id: %v", err)
	}
	for name, c := range map[string]struct {
		id   string
		sent error
	}{
		"256 bytes": {long, pdu.ErrTooLarge}, "NUL": {"$a\x00b:a.example", pdu.ErrWrongType},
	} {
		_, err := pdu.Parse(v, mk(c.id))
		wantFormat(t, name, err, "event_id", c.sent)
		_, err = signing.EventID(v, mk(c.id))
		var fe *pdu.FormatError
		if !errors.Is(err, signing.ErrMalformed) || !errors.As(err, &fe) || !errors.Is(err, c.sent) {
			t.Errorf("EventID %s: %v, want ErrMalformed wrapping the FormatError", name, err)
		}
	}
	bad := []byte(strings.Replace(string(mk("$ab:a.example")), "$ab", "$a\\udc00b", 1))
	_, err := pdu.Parse(v, bad)
	wantFormat(t, "lone surrogate (not UTF-8)", err, "event_id", pdu.ErrWrongType)
	// signatures: no limit of their own
	sigs := M{}
	for s := 0; s < 17; s++ {
		keys := M{}
		for k := 0; k < 17; k++ {
			keys["ed25519:"+string(rune('a'+k))] = strings.Repeat("A", 86)
		}
		sigs[string(rune('a'+s))+".example"] = keys
	}
	for _, id := range []string{"5", "9"} {
		if _, err := pdu.Parse(claimkit.Ver(t, id), claimkit.Marshal(t, baseEvent(claimkit.Ver(t, id), M{"signatures": sigs}))); err != nil {
			t.Errorf("v%s: 17 servers of 17 keys: %v", id, err)
		}
	}
}

// SECURITY.md "Limits": membership.MaxKnownRooms "10,000 rooms in rooms | ParseJoinRequest |
// *membership.Error 400 M_BAD_JSON, ErrBadInput".
func TestSecurityMembershipLimits(t *testing.T) {
	if membership.MaxStateEvents != 100000 || membership.MaxKnownRooms != 10000 || membership.MaxKnownMembers != 1000000 || membership.MaxStrippedState != 256 {
		t.Fatal("constants")
	}
	p := example(t)
	mk := func(n int) []byte {
		rooms := M{}
		for i := 0; i < n; i++ {
			rooms["!r"+itoa(i)+":a.example"] = M{}
		}
		return []byte(`{"room_version":"9","state":` + string(p.stateJSON(t)) + `,"user_id":"@j:r.example","resident_server":"b.example","rooms":` + string(claimkit.Marshal(t, rooms)) + `}`)
	}
	if _, err := membership.ParseJoinRequest(mk(10000)); err != nil {
		t.Errorf("10,000 rooms: %v", err)
	}
	_, err := membership.ParseJoinRequest(mk(10001))
	var me *membership.Error
	if !errors.As(err, &me) || me.Status != 400 || me.ErrCode != "M_BAD_JSON" || !errors.Is(err, membership.ErrBadInput) {
		t.Errorf("10,001 rooms: %v, want 400 M_BAD_JSON ErrBadInput", err)
	}
}

func itoa(i int) string { return strings.TrimSpace(string(marshalInt(i))) }

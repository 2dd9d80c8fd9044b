package limitstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// "Never accept two different readings of the same bytes" (issue 7): every package reads an
// event the same way, and an operation gives the same answer on the received bytes as on the
// parsed event, the canonical form or any other encoding of the same JSON value.

// reencode writes the same JSON value differently: indented, with encoding/json's escapes
// (\u003c for <, \u2028, ...) and the keys of every object in reverse order. Numbers keep
// their text. Duplicate keys are not preserved, so only use it on JSON without them.
func reencode(tb testing.TB, raw []byte) []byte {
	tb.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	writeReversed(&b, v)
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "\t"); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

func writeReversed(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// reverse sorted order
		for i := 0; i < len(keys); i++ {
			for j := i + 1; j < len(keys); j++ {
				if keys[j] > keys[i] {
					keys[i], keys[j] = keys[j], keys[i]
				}
			}
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			writeReversed(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeReversed(b, e)
		}
		b.WriteByte(']')
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}

// signingSentinels are the verdicts of signing.VerifyEvent.
var signingSentinels = []error{
	signing.ErrMalformed, signing.ErrMissingSignature, signing.ErrUnknownKey, signing.ErrKeyExpired,
	signing.ErrBadSignature, signing.ErrNoContentHash, signing.ErrContentHashMismatch,
}

func signingVerdict(err error) string {
	if err == nil {
		return "valid"
	}
	for _, s := range signingSentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "unexpected error type: " + err.Error()
}

// eventFields is what the rules read of a parsed event.
func eventFields(ev *pdu.Event) string {
	sk := "<none>"
	if ev.StateKey != nil {
		sk = *ev.StateKey
	}
	return fmt.Sprintf("id=%q room=%q sender=%q type=%q sk=%q prev=%q auth=%q depth=%d ts=%d origin=%q redacts=%q hash=%q sigs=%v membership=%q",
		ev.EventID, ev.RoomID, ev.Sender, ev.Type, sk, ev.PrevEvents, ev.AuthEvents, ev.Depth, ev.OriginServerTS,
		ev.Origin, ev.Redacts, ev.ContentHash, ev.Signatures, ev.Membership)
}

// checkOneReading checks that every path reads raw, an event of version v, as its canonical
// form and (when reenc is set) as a re-encoding of the same JSON value. It returns false when
// raw does not parse.
// integerLiteralRefusal reports whether err is Parse refusing, in a room version 1-5 event, a
// `depth` or `origin_server_ts` written with an exponent: the one refusal that looks at the
// received bytes rather than the canonical form, which writes `0e0` as `0` (docs/decisions.md
// (roomversion and pdu) "Integer fields are integers as received").
func integerLiteralRefusal(v roomversion.Version, err error) bool {
	var fe *pdu.FormatError
	return !v.Format.StrictCanonicalJSON && errors.As(err, &fe) && errors.Is(err, pdu.ErrWrongType) &&
		(fe.Field == "depth" || fe.Field == "origin_server_ts")
}

func checkOneReading(t *testing.T, v roomversion.Version, raw []byte, keys signing.KeyLookup, reenc bool) bool {
	t.Helper()
	ev, err := signing.ParseEvent(v, raw)
	canon, cerr := canonicaljson.Append(nil, raw, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	verr := signing.VerifyEvent(v, raw, keys)
	if err != nil {
		// Refused by the parser: refused by verification, and the canonical form is refused too.
		if verr == nil || !errors.Is(verr, signing.ErrMalformed) {
			t.Fatalf("v%s: ParseEvent refuses (%v) but VerifyEvent says %v", v.ID, err, verr)
		}
		if cerr == nil && !integerLiteralRefusal(v, err) {
			if _, err2 := signing.ParseEvent(v, canon); err2 == nil {
				t.Fatalf("v%s: ParseEvent refuses the bytes (%v) but accepts their canonical form", v.ID, err)
			}
		}
		return false
	}
	if cerr != nil {
		t.Fatalf("v%s: ParseEvent accepts bytes that canonicaljson refuses: %v", v.ID, cerr)
	}
	encodings := [][]byte{canon}
	if reenc {
		encodings = append(encodings, reencode(t, raw))
	}
	id, idErr := signing.EventID(v, raw)
	red, redErr := redaction.Redact(v, raw)
	ch, chErr := signing.ContentHash(v, raw)
	if idErr != nil || redErr != nil || chErr != nil {
		t.Fatalf("v%s: parsed event, but EventID %v, Redact %v, ContentHash %v", v.ID, idErr, redErr, chErr)
	}
	// Bytes path against parsed path.
	if id != ev.EventID {
		t.Fatalf("v%s: EventID(bytes) %s, ParseEvent %s", v.ID, id, ev.EventID)
	}
	if red2, _ := redaction.Redact(v, ev.Raw()); !bytes.Equal(red, red2) {
		t.Fatalf("v%s: Redact(bytes) and Redact(parsed.Raw()) differ", v.ID)
	}
	if red2, err := redaction.RedactCanonical(v, canon); err != nil || !bytes.Equal(red, red2) {
		t.Fatalf("v%s: Redact(bytes) and RedactCanonical(canonical form) differ (%v)", v.ID, err)
	}
	if pv := signing.VerifyParsedEvent(ev, keys); signingVerdict(pv) != signingVerdict(verr) {
		t.Fatalf("v%s: VerifyEvent %v, VerifyParsedEvent %v", v.ID, verr, pv)
	}
	bulk := signing.VerifyEvents(v, [][]byte{raw}, keys, &signing.BatchOptions{Workers: 1})
	if fmt.Sprint(bulk[0]) != fmt.Sprint(verr) {
		t.Fatalf("v%s: VerifyEvents %v, VerifyEvent %v", v.ID, bulk[0], verr)
	}
	needed, nerr := authrules.AuthEventsNeeded(v, ev)
	// Every encoding of the same value.
	for i, enc := range encodings {
		ev2, err := signing.ParseEvent(v, enc)
		if err != nil {
			t.Fatalf("v%s encoding %d: refused (%v), the original is accepted", v.ID, i, err)
		}
		if eventFields(ev2) != eventFields(ev) || !bytes.Equal(canonicalOf(t, ev2.Content), canonicalOf(t, ev.Content)) {
			t.Fatalf("v%s encoding %d: parsed differently:\n%s\n%s", v.ID, i, eventFields(ev), eventFields(ev2))
		}
		if red2, err := redaction.Redact(v, enc); err != nil || !bytes.Equal(red, red2) {
			t.Fatalf("v%s encoding %d: Redact differs (%v)", v.ID, i, err)
		}
		if ch2, err := signing.ContentHash(v, enc); err != nil || ch2 != ch {
			t.Fatalf("v%s encoding %d: ContentHash differs (%v)", v.ID, i, err)
		}
		if v2 := signing.VerifyEvent(v, enc, keys); signingVerdict(v2) != signingVerdict(verr) {
			t.Fatalf("v%s encoding %d: VerifyEvent %v, original %v", v.ID, i, v2, verr)
		}
		n2, nerr2 := authrules.AuthEventsNeeded(v, ev2)
		if !reflect.DeepEqual(n2, needed) || (nerr == nil) != (nerr2 == nil) {
			t.Fatalf("v%s encoding %d: AuthEventsNeeded %v / %v", v.ID, i, n2, needed)
		}
	}
	// Redaction output is canonical and idempotent.
	if c, err := canonicaljson.Append(nil, red, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}); err != nil || !bytes.Equal(c, red) {
		t.Fatalf("v%s: redacted form is not canonical (%v)", v.ID, err)
	}
	if again, err := redaction.Redact(v, red); err != nil || !bytes.Equal(again, red) {
		t.Fatalf("v%s: redaction is not idempotent (%v)", v.ID, err)
	}
	return true
}

func canonicalOf(tb testing.TB, raw []byte) []byte {
	out, err := canonicaljson.Canonical(raw)
	if err != nil {
		tb.Fatalf("%v: %s", err, raw)
	}
	return out
}

// TestBytesPathMatchesParsedPath runs checkOneReading over the events of a small room in
// every version, signed and tampered with, with text that re-encodes differently.
func TestBytesPathMatchesParsedPath(t *testing.T) {
	for _, id := range versions {
		t.Run("v"+id, func(t *testing.T) {
			r := newRoom(t, id)
			keys := ring("a.example", "z.example")
			msg := r.message(t)
			raws := [][]byte{r.createRaw, r.joinRaw, r.plRaw, r.jr, msg.Raw()}
			odd := baseEvent(r.v).with("room_id", r.roomID(), "content", fields{
				"body": "<b>é & \u2028 😀 \"q\" \\ \t</b>", "n": json.RawMessage("-9007199254740991"),
				"nested": fields{"z": []any{1, "a", nil, true, fields{}}, "a": fields{"b": "c"}}})
			raws = append(raws, sign(t, r.v, odd.bytes(t), "a.example"))
			tampered := bytes.Replace(raws[len(raws)-1], []byte("😀"), []byte("😁"), 1)
			raws = append(raws, tampered)
			for i, raw := range raws {
				if !checkOneReading(t, r.v, raw, keys, true) {
					t.Fatalf("event %d does not parse", i)
				}
			}
		})
	}
}

// TestCheckMatchesStateCheck: for an event whose auth events are exactly the state it is
// checked against, authrules.Check (against its auth events, check 4) and State.Check (against
// the state, check 5) give the same verdict.
func TestCheckMatchesStateCheck(t *testing.T) {
	for _, id := range versions {
		t.Run("v"+id, func(t *testing.T) {
			r := newRoom(t, id)
			keys := ring("a.example", "z.example")
			var authEvents []*pdu.Event
			if r.v.Auth.SelectCreateEvent {
				authEvents = append(authEvents, r.create)
			}
			ref := func(evs ...*pdu.Event) []any {
				var out []any
				for _, e := range evs {
					out = append(out, r.ref(e))
				}
				return out
			}
			withAuth := func(f fields, evs ...*pdu.Event) *pdu.Event {
				all := append(append([]*pdu.Event{}, authEvents...), evs...)
				return mustParse(t, r.v, sign(t, r.v, f.with("room_id", r.roomID(), "auth_events", ref(all...)).bytes(t), "a.example", "z.example"))
			}
			base := baseEvent(r.v)
			cases := []struct {
				name string
				ev   *pdu.Event
				auth []*pdu.Event
			}{
				{"alice's message", withAuth(base, r.pl, r.join), []*pdu.Event{r.pl, r.join}},
				{"stranger's message", withAuth(base.with("sender", "@zed:z.example"), r.pl), []*pdu.Event{r.pl}},
				{"alice changes the name", withAuth(base.with("type", "m.room.name", "state_key", "", "content", fields{"name": "n"}), r.pl, r.join), []*pdu.Event{r.pl, r.join}},
				{"stranger joins", withAuth(base.with("type", "m.room.member", "sender", "@zed:z.example", "state_key", "@zed:z.example",
					"content", fields{"membership": "join"}), r.pl, r.joinRules), []*pdu.Event{r.pl, r.joinRules}},
				{"restricted join via alice", withAuth(base.with("type", "m.room.member", "sender", "@zed:z.example", "state_key", "@zed:z.example",
					"content", fields{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}), r.pl, r.joinRules, r.join),
					[]*pdu.Event{r.pl, r.joinRules, r.join}},
				{"alice invites", withAuth(base.with("type", "m.room.member", "state_key", "@zed:z.example",
					"content", fields{"membership": "invite"}), r.pl, r.join, r.joinRules), []*pdu.Event{r.pl, r.join, r.joinRules}},
				{"power levels raise", withAuth(base.with("type", "m.room.power_levels", "state_key", "", "sender", "@zed:z.example",
					"content", fields{"users": fields{"@zed:z.example": 100}}), r.pl), []*pdu.Event{r.pl}},
			}
			for _, c := range cases {
				if strings.HasPrefix(c.name, "restricted") && !r.v.Auth.RestrictedJoinRule {
					continue // the authoriser's membership is not an auth event before v8
				}
				supplied := append(append([]*pdu.Event{}, authEvents...), c.auth...)
				if r.v.Format.RoomIDFromCreateEvent {
					supplied = append(supplied, r.create)
				}
				// The state check sees the whole state; give Check the same events by
				// restricting the state to the auth events.
				s, err := authrules.NewState(r.v, append([]*pdu.Event{r.create}, c.auth...))
				if err != nil {
					t.Fatal(err)
				}
				byAuth := authrules.Check(r.v, c.ev, supplied, keys)
				byState := s.Check(c.ev, keys)
				if verdict(byAuth) != verdict(byState) {
					t.Errorf("%s: Check %v, State.Check %v", c.name, byAuth, byState)
				}
			}
		})
	}
}

func verdict(err error) string {
	if err == nil {
		return "allowed"
	}
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return "rule " + rej.Rule + " " + rej.Severity.String()
	}
	return "error " + err.Error()
}

// TestDuplicateKeysOneReading: a key given twice (spelled the same, or with escapes that
// decode to the same key) has one reading. Room versions 1-5 read the last occurrence
// everywhere — parser, redaction, hashes, signatures, auth events selection — so the event
// is exactly its last-wins form; room versions 6+ refuse it on every path.
func TestDuplicateKeysOneReading(t *testing.T) {
	type dup struct {
		name         string
		path, member string // inserted member: an earlier occurrence of an existing key
		build        func(v roomversion.Version) fields
	}
	member := func(v roomversion.Version) fields {
		return baseEvent(v).with("type", "m.room.member", "state_key", "@alice:a.example", "content", fields{"membership": "join"})
	}
	dups := []dup{
		{"sender", "", `"sender":"@mallory:m.example"`, baseEvent},
		{"\\u0073ender", "", `"\u0073ender":"@mallory:m.example"`, baseEvent},
		{"type", "", `"ty\u0070e":"m.room.create"`, baseEvent},
		{"state_key", "", `"state_key":"@mallory:m.example"`, member},
		{"content.membership", "content", `"membershi\u0070":"ban"`, member},
		{"hashes.sha256", "hashes", `"sha256":"AAAA"`, baseEvent},
		{"signatures.a.example", "signatures", `"a.exampl\u0065":{"ed25519:1":"AAAA"}`, baseEvent},
	}
	for _, id := range versions {
		v := version(t, id)
		for _, d := range dups {
			t.Run(fmt.Sprintf("v%s/%s", id, d.name), func(t *testing.T) {
				clean := sign(t, v, d.build(v).bytes(t), "a.example")
				// Inserted as the object's first member, the duplicate is the earlier
				// occurrence; the signed value comes last.
				raw := insertFirst(t, clean, d.path, d.member)
				keys := ring("a.example", "m.example")
				if v.Format.StrictCanonicalJSON {
					checkRefusedEverywhere(t, v, raw, keys, canonicaljson.ErrDuplicateKey)
					return
				}
				// Lenient: the bytes read exactly as the clean event (the last occurrence).
				canon, err := canonicaljson.Canonical(raw)
				if err != nil || !bytes.Equal(canon, clean) {
					t.Fatalf("canonical form %s (%v), want the last-wins event %s", canon, err, clean)
				}
				if !checkOneReading(t, v, raw, keys, false) {
					t.Fatal("does not parse")
				}
				ev := mustParse(t, v, raw)
				cleanEv := mustParse(t, v, clean)
				if eventFields(ev) != eventFields(cleanEv) {
					t.Fatalf("parsed as\n%s\nwant\n%s", eventFields(ev), eventFields(cleanEv))
				}
				if err := signing.VerifyEvent(v, raw, keys); err != nil {
					t.Fatalf("VerifyEvent: %v (the last-wins event is signed)", err)
				}
				n1, _ := authrules.AuthEventsNeeded(v, ev)
				n2, _ := authrules.AuthEventsNeeded(v, cleanEv)
				if !reflect.DeepEqual(n1, n2) {
					t.Fatalf("AuthEventsNeeded %v, want %v", n1, n2)
				}

				// The duplicate after the signed value: it is the one read, on every path,
				// and the signed event is no longer what the bytes say.
				after := insertLast(t, clean, d.path, d.member)
				if !checkOneReading(t, v, after, keys, false) {
					t.Fatal("does not parse")
				}
				if err := signing.VerifyEvent(v, after, keys); err == nil {
					t.Fatal("VerifyEvent accepts the event with a later, unsigned duplicate")
				}
				if d.name == "sender" && mustParse(t, v, after).Sender != "@mallory:m.example" {
					t.Fatalf("sender %q, want the last occurrence", mustParse(t, v, after).Sender)
				}
			})
		}
	}
}

// insertFirst inserts member as the first member of the object at path.
func insertFirst(tb testing.TB, raw []byte, path, member string) []byte {
	tb.Helper()
	start := 0
	if path != "" {
		key := []byte(`"` + path + `":{`)
		i := bytes.Index(raw, key)
		if i < 0 {
			tb.Fatalf("no %s in %s", path, raw)
		}
		start = i + len(key) - 1
	}
	out := append([]byte{}, raw[:start+1]...)
	out = append(out, member...)
	if raw[start+1] != '}' {
		out = append(out, ',')
	}
	return append(out, raw[start+1:]...)
}

// insertLast inserts member as the last member of the object at path.
func insertLast(tb testing.TB, raw []byte, path, member string) []byte {
	tb.Helper()
	if path == "" {
		return append(append([]byte{}, raw[:len(raw)-1]...), ","+member+"}"...)
	}
	key := []byte(`"` + path + `":{`)
	i := bytes.Index(raw, key)
	if i < 0 {
		tb.Fatalf("no %s in %s", path, raw)
	}
	// The object's closing brace: the values at these paths hold no strings with braces.
	depth, j := 0, i+len(key)-1
	for ; j < len(raw); j++ {
		if raw[j] == '{' {
			depth++
		} else if raw[j] == '}' {
			if depth--; depth == 0 {
				break
			}
		}
	}
	sep := ","
	if raw[j-1] == '{' {
		sep = ""
	}
	out := append([]byte{}, raw[:j]...)
	out = append(out, sep+member...)
	return append(out, raw[j:]...)
}

// checkRefusedEverywhere: every reader of the bytes refuses them with the canonicaljson
// sentinel.
func checkRefusedEverywhere(t *testing.T, v roomversion.Version, raw []byte, keys signing.KeyLookup, sentinel error) {
	t.Helper()
	_, err := pdu.Parse(v, raw)
	wantFormatErr(t, err, "", pdu.ErrNotJSON)
	errs := map[string]error{
		"pdu.Parse":              err,
		"redaction.Redact":       second(redaction.Redact(v, raw)),
		"signing.ParseEvent":     second(signing.ParseEvent(v, raw)),
		"signing.ContentHash":    second(signing.ContentHash(v, raw)),
		"signing.ReferenceHash":  second(signing.ReferenceHash(v, raw)),
		"signing.VerifyEvent":    signing.VerifyEvent(v, raw, keys),
		"signing.SignEvent":      second(signing.SignEvent(v, raw, "a.example", signingKey(t, "a.example"))),
		"VerifyEvents":           signing.VerifyEvents(v, [][]byte{raw}, keys, nil)[0],
		"canonicaljson (strict)": second(canonicaljson.CanonicalStrict(raw)),
	}
	if !v.Format.HasEventIDField {
		errs["signing.EventID"] = second(signing.EventID(v, raw))
	}
	for name, err := range errs {
		if !errors.Is(err, sentinel) {
			t.Errorf("%s: %v, want an error wrapping %v", name, err, sentinel)
		}
	}
	if err := errs["redaction.Redact"]; !errors.Is(err, redaction.ErrInvalidJSON) {
		t.Errorf("redaction.Redact: %v, want ErrInvalidJSON", err)
	}
	if err := errs["signing.VerifyEvent"]; !errors.Is(err, signing.ErrMalformed) {
		t.Errorf("VerifyEvent: %v, want ErrMalformed", err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestCaseVariantKeys: keys are case-sensitive and exact: "Sender", "Type", "Content",
// "Membership" are other keys, ignored by the rules, dropped by redaction, covered by the
// content hash; they never stand in for the real ones.
func TestCaseVariantKeys(t *testing.T) {
	for _, id := range versions {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			f := baseEvent(v).with("type", "m.room.member", "state_key", "@alice:a.example",
				"content", fields{"membership": "join", "Membership": "ban"},
				"Sender", "@mallory:m.example", "Type", "m.room.create", "State_key", "", "Content", fields{"creator": "@mallory:m.example"})
			raw := sign(t, v, f.bytes(t), "a.example")
			keys := ring("a.example", "m.example")
			if !checkOneReading(t, v, raw, keys, true) {
				t.Fatal("does not parse")
			}
			ev := mustParse(t, v, raw)
			if ev.Sender != "@alice:a.example" || ev.Type != pdu.TypeMember || ev.Membership != "join" || !ev.StateKeyEquals("@alice:a.example") {
				t.Fatalf("case variants read as the real keys: %s", eventFields(ev))
			}
			if err := signing.VerifyEvent(v, raw, keys); err != nil {
				t.Fatalf("VerifyEvent: %v", err)
			}
			signers, _ := signing.RequiredSigners(ev)
			for _, s := range signers {
				if s == "m.example" {
					t.Fatalf("required signers %v name the server of \"Sender\"", signers)
				}
			}
			red, _ := redaction.Redact(v, raw)
			for _, k := range []string{`"Sender"`, `"Type"`, `"Content"`, `"State_key"`, `"Membership"`} {
				if bytes.Contains(red, []byte(k)) {
					t.Fatalf("redaction keeps %s: %s", k, red)
				}
			}
			// The content hash covers the variant keys: changing one is a hash mismatch.
			changed := bytes.Replace(raw, []byte(`"Sender":"@mallory:m.example"`), []byte(`"Sender":"@eve:m.example"`), 1)
			if err := signing.VerifyEvent(v, changed, keys); !errors.Is(err, signing.ErrContentHashMismatch) {
				t.Fatalf("changed \"Sender\": %v, want ErrContentHashMismatch", err)
			}
			if id1, id2 := mustParse(t, v, raw).EventID, mustParse(t, v, changed).EventID; id1 != id2 {
				t.Fatalf("event ID depends on a redacted key: %s / %s", id1, id2)
			}
		})
	}
}

// TestEscapedKeysAreTheSameKeys: a key written with escapes is the same key ("\u0073ender" is
// "sender"): it is read, redacted, hashed and signed as such, and a signature over one
// spelling holds over the other.
func TestEscapedKeysAreTheSameKeys(t *testing.T) {
	for _, id := range versions {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			clean := sign(t, v, baseEvent(v).with("type", "m.room.member", "state_key", "@alice:a.example",
				"content", fields{"membership": "join"}).bytes(t), "a.example")
			escaped := bytes.Replace(clean, []byte(`"sender"`), []byte(`"\u0073ender"`), 1)
			escaped = bytes.Replace(escaped, []byte(`"membership"`), []byte(`"m\u0065mbership"`), 1)
			escaped = bytes.Replace(escaped, []byte(`"m.room.member"`), []byte(`"m.room.m\u0065mber"`), 1)
			if bytes.Equal(escaped, clean) {
				t.Fatal("no replacement")
			}
			if !checkOneReading(t, v, escaped, ring("a.example"), false) {
				t.Fatal("does not parse")
			}
			if err := signing.VerifyEvent(v, escaped, ring("a.example")); err != nil {
				t.Fatalf("VerifyEvent of the escaped spelling: %v", err)
			}
			if a, b := eventFields(mustParse(t, v, escaped)), eventFields(mustParse(t, v, clean)); a != b {
				t.Fatalf("escaped spelling parsed as\n%s\nwant\n%s", a, b)
			}
		})
	}
}

// TestEventIDBytesPath: in room versions 1-2 the event ID is the event's own event_id: the
// bytes path (signing.EventID) and the parser agree on its value and on duplicate event_id keys.
func TestEventIDBytesPath(t *testing.T) {
	for _, id := range []string{"1", "2"} {
		v := version(t, id)
		raw := baseEvent(v).with("event_id", "$real:a.example").bytes(t)
		raw = insertFirst(t, raw, "", `"event_id":"$decoy:m.example"`)
		got, err := signing.EventID(v, raw)
		ev, perr := pdu.Parse(v, raw)
		if err != nil || perr != nil || got != "$real:a.example" || ev.EventID != got {
			t.Fatalf("v%s: EventID %q (%v), Parse %v (%v)", id, got, err, ev, perr)
		}
	}
}

// TestOpaqueEventIDs: room versions 1-2 event IDs are checked the same way by the parser and
// by signing.EventID (pdu.CheckOpaqueEventID): `$opaque_id:domain` with a server-name domain,
// at most 255 bytes, an opaque part of non-surrogate code points but NUL (control characters
// included, none at all allowed), as for the opaque_id of a room ID.
func TestOpaqueEventIDs(t *testing.T) {
	for _, id := range []string{"1", "2"} {
		v := version(t, id)
		for _, c := range []struct {
			id string
			ok bool
		}{
			{"$0:domain", true},
			{idOfLen("$", 255), true},
			{idOfLen("$", 256), false},
			{`$0:domain\n$1:domain`, false}, // the domain holds the line break
			{`$0:dom\u0000ain`, false},
			{`$e\u0001v:domain`, true},
			{`$e\u007fv:domain`, true},
			{`$e\nv:domain`, true},
			{`$e\u0000v:domain`, false},
			{`$e\ud800v:domain`, false}, // an unpaired surrogate
			{`$e\ud83d\ude00v:domain`, true},
			{"0:domain", false},
			{"$0", false},
			{"$0:", false},
			{"$:domain", true},
			// The domain is a server name (rooms/fragments/v1-event-ids.md, appendices
			// "Server Name"), after the first ':'.
			{"$0:example.org:8448", true},
			{"$0:[::1]:8448", true},
			{"$0:1.2.3.4", true},
			{"$0:ex ample", false},
			{"$0:exa_mple.org", false},
			{"$0:example.org:port", false},
			{"$0:example.org:123456", false},
			{"$0:[zz]", false},
			{`$0:é.org`, false},
			{"$a:b:example.org", false},
		} {
			raw := baseEvent(v).with("event_id", "ID").bytes(t)
			raw = bytes.Replace(raw, []byte(`"ID"`), []byte(`"`+c.id+`"`), 1)
			got, err := signing.EventID(v, raw)
			_, perr := pdu.Parse(v, raw)
			if c.ok != (err == nil) || c.ok != (perr == nil) {
				t.Errorf("v%s %q: EventID %q %v, Parse %v; want ok=%v", id, c.id, got, err, perr, c.ok)
			}
			if !c.ok && !errors.Is(perr, pdu.ErrTooLarge) && !errors.Is(perr, pdu.ErrWrongType) {
				t.Errorf("v%s %q: Parse %v, want ErrTooLarge or ErrWrongType", id, c.id, perr)
			}
		}
	}
}

func TestReencodeHelper(t *testing.T) {
	raw := []byte(`{"a":"<é>","b":[1,-0,1.5]}`)
	out := reencode(t, raw)
	if bytes.Equal(out, raw) || !strings.Contains(string(out), `\u003c`) {
		t.Fatalf("reencode: %s", out)
	}
	c1, _ := canonicaljson.Canonical(raw)
	c2, _ := canonicaljson.Canonical(out)
	if !bytes.Equal(c1, c2) {
		t.Fatalf("reencode changed the value: %s / %s", c1, c2)
	}
}

package limitstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// The limits of package pdu (SECURITY.md "Limits"), each at its edge and one past it, in every
// kind of room version.

// padTo returns the event f with content.body grown so that its canonical JSON is exactly n
// bytes long.
func padTo(tb testing.TB, f fields, n int) []byte {
	tb.Helper()
	base := len(f.with("content", fields{"body": ""}).bytes(tb))
	if n < base {
		tb.Fatalf("event is already %d bytes", base)
	}
	out := f.with("content", fields{"body": strings.Repeat("x", n-base)}).bytes(tb)
	if len(out) != n {
		tb.Fatalf("padded to %d bytes, want %d", len(out), n)
	}
	return out
}

func TestMaxEventSize(t *testing.T) {
	if pdu.MaxEventSize != 65536 {
		t.Fatalf("pdu.MaxEventSize = %d, the spec says 65536 (client-server-api \"Size limits\")", pdu.MaxEventSize)
	}
	for _, id := range versions {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			at := padTo(t, baseEvent(v), pdu.MaxEventSize)
			if _, err := pdu.Parse(v, at); err != nil {
				t.Fatalf("%d bytes: %v", len(at), err)
			}
			past := padTo(t, baseEvent(v), pdu.MaxEventSize+1)
			_, err := pdu.Parse(v, past)
			wantFormatErr(t, err, "", pdu.ErrTooLarge)
			_, err = signing.ParseEvent(v, past)
			wantFormatErr(t, err, "", pdu.ErrTooLarge)

			// The limit is on the canonical form: insignificant whitespace does not count.
			var indented bytes.Buffer
			if err := json.Indent(&indented, at, "", "    "); err != nil {
				t.Fatal(err)
			}
			if indented.Len() <= pdu.MaxEventSize {
				t.Fatal("indenting did not grow the event")
			}
			if _, err := pdu.Parse(v, indented.Bytes()); err != nil {
				t.Fatalf("indented %d-byte event of %d canonical bytes: %v", indented.Len(), len(at), err)
			}
			indented.Reset()
			_ = json.Indent(&indented, past, "", "  ")
			_, err = pdu.Parse(v, indented.Bytes())
			wantFormatErr(t, err, "", pdu.ErrTooLarge)
		})
	}
}

// TestMaxEventSizeSigned: the limit counts the hashes and signatures ("including any
// signatures"), and VerifyEvent enforces the same edge as pdu.Parse.
func TestMaxEventSizeSigned(t *testing.T) {
	for _, id := range []string{"1", "5", "9", "12"} {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			f := baseEvent(v).with("hashes", nil, "signatures", nil)
			small := sign(t, v, f.with("content", fields{"body": ""}).bytes(t), "a.example")
			for _, n := range []int{pdu.MaxEventSize, pdu.MaxEventSize + 1} {
				// Hash and signature have fixed lengths, so the padding adds exactly its bytes.
				body := strings.Repeat("x", n-len(small))
				signed := sign(t, v, f.with("content", fields{"body": body}).bytes(t), "a.example")
				if len(signed) != n {
					t.Fatalf("signed event is %d bytes, want %d", len(signed), n)
				}
				err := signing.VerifyEvent(v, signed, ring("a.example"))
				_, perr := pdu.Parse(v, signed)
				if n == pdu.MaxEventSize {
					if err != nil || perr != nil {
						t.Fatalf("%d bytes: VerifyEvent %v, Parse %v", n, err, perr)
					}
					continue
				}
				if !errors.Is(err, signing.ErrMalformed) || !errors.Is(err, pdu.ErrTooLarge) {
					t.Fatalf("%d bytes: VerifyEvent %v, want ErrMalformed wrapping pdu.ErrTooLarge", n, err)
				}
				wantFormatErr(t, perr, "", pdu.ErrTooLarge)
			}
		})
	}
}

// TestMaxEventSizeLenientNumbers: in room versions 1-5 the canonical form of a number in
// exponent notation can be four times longer than the input ("9e15" is 9000000000000000,
// docs/decisions.md (canonicaljson) 10), so an input below 65536 bytes can have a canonical form
// above it. The limit is on the canonical form (client-server-api "Size limits"), and
// signing.VerifyEvent, which parses the canonical form, refuses such an event: pdu.Parse must
// too, or the two paths read the same bytes differently.
func TestMaxEventSizeLenientNumbers(t *testing.T) {
	for _, id := range []string{"1", "3", "5"} {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			const k = 2000 // numbers "9e15": 4 bytes in, 16 out
			for _, n := range []int{pdu.MaxEventSize, pdu.MaxEventSize + 1} {
				f := baseEvent(v)
				shell := f.with("content", fields{"n": "NUMS", "pad": ""}).bytes(t)
				expanded := 1 + k*17 - 1 + 1 // "[" + k numbers of 16 digits with k-1 commas + "]"
				pad := n - (len(shell) - len(`"NUMS"`) + expanded)
				raw := f.with("content", fields{"n": "NUMS", "pad": strings.Repeat("p", pad)}).bytes(t)
				raw = bytes.Replace(raw, []byte(`"NUMS"`), []byte("["+strings.TrimSuffix(strings.Repeat("9e15,", k), ",")+"]"), 1)
				canon, err := canonicaljson.Canonical(raw)
				if err != nil {
					t.Fatal(err)
				}
				if len(canon) != n || len(raw) >= pdu.MaxEventSize {
					t.Fatalf("construction: input %d bytes, canonical %d, want canonical %d", len(raw), len(canon), n)
				}
				_, err = pdu.Parse(v, raw)
				_, cerr := pdu.Parse(v, canon)
				if n == pdu.MaxEventSize {
					if err != nil || cerr != nil {
						t.Fatalf("canonical %d bytes: Parse(input) %v, Parse(canonical) %v", n, err, cerr)
					}
					continue
				}
				wantFormatErr(t, cerr, "", pdu.ErrTooLarge)
				if err == nil {
					t.Fatalf("pdu.Parse accepts a %d-byte input whose canonical form is %d bytes (limit %d); "+
						"signing.VerifyEvent refuses the same bytes", len(raw), len(canon), pdu.MaxEventSize)
				}
				wantFormatErr(t, err, "", pdu.ErrTooLarge)
			}
		})
	}
}

// idOfLen returns an ID of exactly n bytes with the sigil and ":a.example".
func idOfLen(sigil string, n int) string {
	return sigil + strings.Repeat("i", n-len(sigil)-len(":a.example")) + ":a.example"
}

func TestMaxIDLength(t *testing.T) {
	if pdu.MaxIDLength != 255 {
		t.Fatalf("pdu.MaxIDLength = %d, the spec says 255 (appendices \"Identifier Grammar\")", pdu.MaxIDLength)
	}
	type idField struct {
		name string
		val  func(n int) string
	}
	idFields := []idField{
		{"sender", func(n int) string { return idOfLen("@", n) }},
		{"room_id", func(n int) string { return idOfLen("!", n) }},
		{"type", func(n int) string { return "m." + strings.Repeat("t", n-2) }},
		{"state_key", func(n int) string { return strings.Repeat("s", n) }},
		{"event_id", func(n int) string { return idOfLen("$", n) }},
	}
	for _, id := range versions {
		v := version(t, id)
		for _, fld := range idFields {
			if fld.name == "event_id" && !v.Format.HasEventIDField {
				continue
			}
			t.Run(fmt.Sprintf("v%s/%s", id, fld.name), func(t *testing.T) {
				at := baseEvent(v).with(fld.name, fld.val(pdu.MaxIDLength)).bytes(t)
				if _, err := pdu.Parse(v, at); err != nil {
					t.Fatalf("255 bytes: %v", err)
				}
				past := baseEvent(v).with(fld.name, fld.val(pdu.MaxIDLength+1)).bytes(t)
				_, err := pdu.Parse(v, past)
				wantFormatErr(t, err, fld.name, pdu.ErrTooLarge)
			})
		}
	}
}

// TestMaxIDLengthCountsDecodedBytes: the limit is on the string's UTF-8 bytes, after JSON
// unescaping: escapes do not count extra, multi-byte characters count by their bytes.
func TestMaxIDLengthCountsDecodedBytes(t *testing.T) {
	v := version(t, "9")
	euro := strings.Repeat("€", 85) // 255 bytes
	for _, c := range []struct {
		name  string
		key   string // raw JSON text of the state_key value
		valid bool
	}{
		{"255 bytes of 3-byte characters", `"` + euro + `"`, true},
		{"256 bytes", `"` + euro + `x"`, false},
		{"255 bytes written with escapes", `"` + strings.Repeat(`\u0073`, 255) + `"`, true},
		{"256 bytes written with escapes", `"` + strings.Repeat(`\u0073`, 256) + `"`, false},
		{"255 bytes written as \\u20ac escapes", `"` + strings.Repeat(`\u20ac`, 85) + `"`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := baseEvent(v).with("state_key", "SK").bytes(t)
			raw = bytes.Replace(raw, []byte(`"SK"`), []byte(c.key), 1)
			_, err := pdu.Parse(v, raw)
			if c.valid && err != nil {
				t.Fatal(err)
			}
			if !c.valid {
				wantFormatErr(t, err, "state_key", pdu.ErrTooLarge)
			}
		})
	}
}

// TestReferenceIDLength: the IDs in prev_events and auth_events are event IDs, limited to 255
// bytes like event_id (docs/decisions.md (roomversion and pdu) "ID limits"); one past is a size
// error, pdu.ErrTooLarge, as for every other ID.
func TestReferenceIDLength(t *testing.T) {
	for _, id := range versions {
		v := version(t, id)
		for _, field := range []string{"prev_events", "auth_events"} {
			t.Run(fmt.Sprintf("v%s/%s", id, field), func(t *testing.T) {
				at := baseEvent(v).with(field, refs(v, 2, pdu.MaxIDLength)).bytes(t)
				if _, err := pdu.Parse(v, at); err != nil {
					t.Fatalf("255-byte IDs: %v", err)
				}
				past := baseEvent(v).with(field, refs(v, 2, pdu.MaxIDLength+1)).bytes(t)
				_, err := pdu.Parse(v, past)
				wantFormatErr(t, err, field, pdu.ErrTooLarge)
			})
		}
	}
}

func TestMaxReferences(t *testing.T) {
	if pdu.MaxPrevEvents != 20 || pdu.MaxAuthEvents != 10 {
		t.Fatalf("pdu.MaxPrevEvents, MaxAuthEvents = %d, %d; the PDU schemas say 20, 10", pdu.MaxPrevEvents, pdu.MaxAuthEvents)
	}
	for _, id := range versions {
		v := version(t, id)
		for _, c := range []struct {
			field string
			limit int
		}{{"prev_events", pdu.MaxPrevEvents}, {"auth_events", pdu.MaxAuthEvents}} {
			t.Run(fmt.Sprintf("v%s/%s", id, c.field), func(t *testing.T) {
				at := baseEvent(v).with(c.field, refs(v, c.limit, 0)).bytes(t)
				ev, err := pdu.Parse(v, at)
				if err != nil {
					t.Fatalf("%d entries: %v", c.limit, err)
				}
				got := ev.PrevEvents
				if c.field == "auth_events" {
					got = ev.AuthEvents
				}
				if len(got) != c.limit {
					t.Fatalf("%d entries parsed, want %d", len(got), c.limit)
				}
				past := baseEvent(v).with(c.field, refs(v, c.limit+1, 0)).bytes(t)
				_, err = pdu.Parse(v, past)
				wantFormatErr(t, err, c.field, pdu.ErrTooMany)
				// The bytes path refuses it the same way.
				if err := signing.VerifyEvent(v, past, ring("a.example")); !errors.Is(err, pdu.ErrTooMany) {
					t.Fatalf("VerifyEvent: %v, want pdu.ErrTooMany", err)
				}
			})
		}
	}
}

// signatures returns a `signatures` value with the given number of servers and keys each.
func signaturesOf(servers, keys int) fields {
	out := fields{}
	for s := 0; s < servers; s++ {
		m := fields{}
		for k := 0; k < keys; k++ {
			m[fmt.Sprintf("ed25519:k%d", k)] = strings.Repeat("A", 86)
		}
		out[fmt.Sprintf("s%d.example", s)] = m
	}
	return out
}

// TestManySignatures: `signatures` may hold any number of servers and key IDs (the spec sets no
// limit and intermediate servers may add signatures): an event signed by its origin parses and
// verifies whatever junk others added, and verification looks up only the key IDs of the
// servers that must sign.
func TestManySignatures(t *testing.T) {
	for _, id := range versions {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			for _, c := range []struct {
				name          string
				servers, keys int
			}{
				{"40 servers", 40, 1},
				{"40 key IDs", 1, 40},
				{"20 servers of 20 key IDs", 20, 20},
			} {
				raw := baseEvent(v).with("signatures", signaturesOf(c.servers, c.keys)).bytes(t)
				ev, err := pdu.Parse(v, raw)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				if n := len(slices.Collect(ev.Signatures.Servers())); n != c.servers || len(ev.Signatures) != c.servers*c.keys {
					t.Fatalf("%s: %d servers, %d signatures parsed", c.name, n, len(ev.Signatures))
				}
			}
			// The origin's real signature plus 30 unknown key IDs of its own and 30 other servers.
			signed := sign(t, v, baseEvent(v).bytes(t), "a.example")
			var obj map[string]any
			if err := json.Unmarshal(signed, &obj); err != nil {
				t.Fatal(err)
			}
			sigs := obj["signatures"].(map[string]any)
			mine := sigs["a.example"].(map[string]any)
			for k := 0; k < 30; k++ {
				mine[fmt.Sprintf("ed25519:junk%d", k)] = strings.Repeat("A", 86)
				sigs[fmt.Sprintf("relay%d.example", k)] = map[string]any{"ed25519:1": strings.Repeat("A", 86)}
			}
			raw, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			keys := &counting{KeyLookup: ring("a.example")}
			if err := signing.VerifyEvent(v, raw, keys); err != nil {
				t.Fatalf("VerifyEvent with extra signatures: %v", err)
			}
			if want := 31; keys.n != want {
				t.Fatalf("%d key lookups, want %d (the origin's key IDs only)", keys.n, want)
			}
		})
	}
}

// TestDepthField: `depth` is an integer in [0, Format.MaxDepth] (2^63-1 before v6, 2^53-1
// from v6).
func TestDepthField(t *testing.T) {
	for _, id := range versions {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			max := v.Format.MaxDepth
			raw := baseEvent(v).with("depth", json.RawMessage(fmt.Sprint(max))).bytes(t)
			if _, err := pdu.Parse(v, raw); err != nil {
				t.Fatalf("depth %d: %v", max, err)
			}
			raw = baseEvent(v).with("depth", json.RawMessage("-1")).bytes(t)
			_, err := pdu.Parse(v, raw)
			wantFormatErr(t, err, "depth", pdu.ErrOutOfRange)
			past := []byte(strings.Replace(string(baseEvent(v).with("depth", 7).bytes(t)), `"depth":7`, fmt.Sprintf(`"depth":%d`, uint64(max)+1), 1))
			_, err = pdu.Parse(v, past)
			if v.Format.StrictCanonicalJSON {
				if !errors.Is(err, pdu.ErrNotJSON) || !errors.Is(err, canonicaljson.ErrIntegerRange) {
					t.Fatalf("depth 2^53: %v, want ErrNotJSON wrapping ErrIntegerRange", err)
				}
			} else {
				// 2^63: an integer beyond the signed 64-bit range, out of range like -1
				// (docs/decisions.md (pdu) "depth").
				wantFormatErr(t, err, "depth", pdu.ErrOutOfRange)
			}
		})
	}
}

// nested returns content nested n arrays deep: {"a":[[...]]}; the event object is depth 1,
// content depth 2, so the event's depth is n+2.
func nested(n int) json.RawMessage {
	return json.RawMessage(`{"a":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
}

// TestNestingDepth: canonicaljson.DefaultMaxDepth (127) is enforced by every package that reads
// an event, at the same edge.
func TestNestingDepth(t *testing.T) {
	if canonicaljson.DefaultMaxDepth != 127 || canonicaljson.HardMaxDepth != 4096 {
		t.Fatalf("DefaultMaxDepth, HardMaxDepth = %d, %d; SECURITY.md says 127, 4096", canonicaljson.DefaultMaxDepth, canonicaljson.HardMaxDepth)
	}
	for _, id := range versions {
		v := version(t, id)
		t.Run("v"+id, func(t *testing.T) {
			at := baseEvent(v).with("content", nested(canonicaljson.DefaultMaxDepth-2)).bytes(t)
			past, err := json.Marshal(baseEvent(v).with("content", nested(canonicaljson.DefaultMaxDepth-1)))
			if err != nil {
				t.Fatal(err)
			}
			paths := map[string]func([]byte) error{
				"pdu.Parse":           func(b []byte) error { _, err := pdu.Parse(v, b); return err },
				"signing.ParseEvent":  func(b []byte) error { _, err := signing.ParseEvent(v, b); return err },
				"redaction.Redact":    func(b []byte) error { _, err := redaction.Redact(v, b); return err },
				"signing.EventID":     func(b []byte) error { _, err := signing.EventID(v, b); return err },
				"signing.ContentHash": func(b []byte) error { _, err := signing.ContentHash(v, b); return err },
				"canonicaljson.Valid": func(b []byte) error {
					return canonicaljson.Valid(b, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
				},
			}
			for name, fn := range paths {
				if name == "signing.EventID" && v.Format.HasEventIDField {
					continue // v1-2: the event's own event_id, read without walking content
				}
				if err := fn(at); err != nil {
					t.Errorf("%s at depth %d: %v", name, canonicaljson.DefaultMaxDepth, err)
				}
				if err := fn(past); !errors.Is(err, canonicaljson.ErrTooDeep) {
					t.Errorf("%s at depth %d: %v, want ErrTooDeep", name, canonicaljson.DefaultMaxDepth+1, err)
				}
			}
			if _, err := pdu.Parse(v, past); !errors.Is(err, pdu.ErrNotJSON) {
				t.Errorf("pdu.Parse: %v, want pdu.ErrNotJSON", err)
			}
			if err := signing.VerifyEvent(v, past, ring("a.example")); !errors.Is(err, signing.ErrMalformed) || !errors.Is(err, canonicaljson.ErrTooDeep) {
				t.Errorf("VerifyEvent: %v, want ErrMalformed wrapping ErrTooDeep", err)
			}
		})
	}
}

func TestCanonicalJSONDepthLimits(t *testing.T) {
	deep := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	for _, strict := range []bool{false, true} {
		for _, c := range []struct {
			max, n int
			ok     bool
		}{
			{0, canonicaljson.DefaultMaxDepth, true},
			{0, canonicaljson.DefaultMaxDepth + 1, false},
			{10, 10, true},
			{10, 11, false},
			{1 << 30, canonicaljson.HardMaxDepth, true},
			{1 << 30, canonicaljson.HardMaxDepth + 1, false},
		} {
			opts := canonicaljson.Options{Strict: strict, MaxDepth: c.max}
			_, err := canonicaljson.Append(nil, deep(c.n), opts)
			verr := canonicaljson.Valid(deep(c.n), opts)
			if c.ok && (err != nil || verr != nil) {
				t.Errorf("strict=%v MaxDepth=%d depth %d: %v / %v", strict, c.max, c.n, err, verr)
			}
			if !c.ok {
				var se *canonicaljson.SyntaxError
				if !errors.Is(err, canonicaljson.ErrTooDeep) || !errors.As(err, &se) || !errors.Is(verr, canonicaljson.ErrTooDeep) {
					t.Errorf("strict=%v MaxDepth=%d depth %d: %v / %v, want *SyntaxError ErrTooDeep", strict, c.max, c.n, err, verr)
				}
			}
		}
	}
	// EachMember counts the object itself as depth 1, with the default limit.
	obj := func(n int) []byte { return []byte(`{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`) }
	noop := func(string, []byte) error { return nil }
	if err := canonicaljson.EachMember(obj(canonicaljson.DefaultMaxDepth), noop); err != nil {
		t.Errorf("EachMember at depth 64: %v", err)
	}
	if err := canonicaljson.EachMember(obj(canonicaljson.DefaultMaxDepth+1), noop); !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("EachMember at depth 65: %v, want ErrTooDeep", err)
	}
}

// TestUnknownRoomVersion: an unknown version is an error, never a default.
func TestUnknownRoomVersion(t *testing.T) {
	for _, id := range []string{"", "0", "13", "9 ", "org.example.custom", strings.Repeat("9", 1000)} {
		_, err := roomversion.Lookup(id)
		var uv *roomversion.UnknownVersionError
		if !errors.Is(err, roomversion.ErrUnknownVersion) || !errors.As(err, &uv) {
			t.Errorf("Lookup(%.20q): %v, want *UnknownVersionError", id, err)
		}
	}
}

// TestHugeStrictInputRefusedUnread: from room version 6 an input with more than 6 × 65,536
// bytes besides whitespace cannot be canonical JSON of 65,536 bytes (no escape shrinks more than
// six to one), so Parse refuses it without canonicalising it: little memory whatever its size.
// At the edge the event is canonicalised and measured as usual (and refused all the same:
// its body of `\u0041` escapes is 65,536 bytes or more once canonical).
func TestHugeStrictInputRefusedUnread(t *testing.T) {
	v := version(t, "10")
	build := func(nonSpace int) []byte {
		base := padTo(t, baseEvent(v), 400) // {"...","content":{"body":"xx…"},...}
		i := bytes.Index(base, []byte(`"body":"`)) + len(`"body":"`)
		head, tail := base[:i], base[i:]
		fill := nonSpace - len(base)
		var b bytes.Buffer
		b.Write(head)
		b.WriteString(strings.Repeat(`\u0041`, fill/6))
		b.WriteString(strings.Repeat("x", fill%6))
		b.Write(tail)
		b.WriteString(strings.Repeat(" ", 1<<20)) // whitespace does not count
		return b.Bytes()
	}
	const edge = 6 * pdu.MaxEventSize
	for _, tc := range []struct {
		nonSpace int
		early    bool
	}{{edge, false}, {edge + 1, true}, {40 * edge, true}} {
		data := build(tc.nonSpace)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := pdu.Parse(v, data)
		runtime.ReadMemStats(&after)
		wantFormatErr(t, err, "", pdu.ErrTooLarge)
		early := strings.Contains(err.Error(), "besides whitespace")
		if early != tc.early {
			t.Errorf("%d bytes besides whitespace: refused before canonicalising %v, want %v (%v)", tc.nonSpace, early, tc.early, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; tc.early && alloc > 64<<10 {
			t.Errorf("%d bytes besides whitespace: %d bytes allocated to refuse it", tc.nonSpace, alloc)
		}
	}
	// Lenient versions canonicalise whatever the size (their canonical form can shrink without
	// bound: duplicate keys, exponents), and still refuse.
	lv := version(t, "5")
	_, err := pdu.Parse(lv, build(edge+1))
	wantFormatErr(t, err, "", pdu.ErrTooLarge)
}

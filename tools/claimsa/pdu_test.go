package claimsa

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// kv overrides one top-level key of a base event: raw is its raw JSON value, "-" deletes it.
type kv struct{ k, raw string }

// baseEvent returns the members of a minimal valid message event of room version id.
func baseEvent(id string) map[string]string {
	m := map[string]string{
		"room_id":          `"!r:a.example"`,
		"sender":           `"@u:a.example"`,
		"type":             `"m.room.message"`,
		"content":          `{"body":"hi"}`,
		"depth":            `5`,
		"origin_server_ts": `1000`,
		"hashes":           `{"sha256":"AAAA"}`,
		"signatures":       `{"a.example":{"ed25519:1":"sig"}}`,
	}
	if inRange(id, 1, 2) {
		m["event_id"] = `"$e1:a.example"`
		m["prev_events"] = `[["$p:a.example",{"sha256":"x"}]]`
		m["auth_events"] = `[["$c:a.example",{"sha256":"x"}]]`
	} else {
		m["prev_events"] = `["$p"]`
		m["auth_events"] = `["$c"]`
	}
	return m
}

// mkEvent writes the base event of id with mods applied, keys in sorted order (canonical
// when every value is).
func mkEvent(id string, mods ...kv) []byte {
	m := baseEvent(id)
	for _, o := range mods {
		if o.raw == "-" {
			delete(m, o.k)
		} else {
			m[o.k] = o.raw
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(canonicaljson.AppendString(nil, k))
		b.WriteByte(':')
		b.WriteString(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// pduCase is one claim about pdu.Parse.
type pduCase struct {
	claim string
	vers  []string // versions; nil means all
	data  []byte
	err   error  // sentinel wanted, nil for success
	field string // FormatError.Field wanted when err != nil ("*" = any)
	check func(t *testing.T, ev *pdu.Event)
	known string
}

func runPDU(t *testing.T, cases []pduCase) {
	t.Helper()
	for i, c := range cases {
		vs := c.vers
		if vs == nil {
			vs = claimkit.VersionIDs()
		}
		for _, id := range vs {
			t.Run(fmt.Sprintf("%d-v%s-%s", i, id, c.claim), func(t *testing.T) {
				data := c.data
				if data == nil {
					data = mkEvent(id)
				}
				ev, err := pdu.Parse(claimkit.Ver(t, id), data)
				fail := func(format string, args ...any) {
					t.Helper()
					if c.known != "" {
						knownFinding(t, c.known)
					}
					t.Errorf("%s: v%s %.200q: "+format, append([]any{c.claim, id, data}, args...)...)
				}
				if c.err == nil {
					if err != nil {
						fail("Parse: %v, want success", err)
						return
					}
					if c.check != nil {
						c.check(t, ev)
					}
					return
				}
				var fe *pdu.FormatError
				if !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Err != c.err || (c.field != "*" && fe.Field != c.field) {
					fail("Parse: %v (%#v), want %v in field %q", err, fe, c.err, c.field)
				}
			})
		}
	}
}

// TestPDUParse checks decisions.md "roomversion and pdu" › pdu and go doc pdu.Parse.
func TestPDUParse(t *testing.T) {
	all := claimkit.VersionIDs()
	v15 := []string{"1", "2", "3", "4", "5"}
	v3_5 := []string{"3", "4", "5"}
	v6p := []string{"6", "7", "8", "9", "10", "11", "12"}
	v110 := claimkit.VersionIDs()[:10]
	v3p := claimkit.VersionIDs()[2:]
	_ = all
	long := func(n int) string { return strings.Repeat("x", n) }
	pad := `"pad":"` + strings.Repeat("p", 65536) + `"`
	var cases []pduCase
	add := func(c pduCase) { cases = append(cases, c) }
	perV := func(claim string, vers []string, mk func(id string) []byte, err error, field string, check func(*testing.T, *pdu.Event), known string) {
		for _, id := range vers {
			add(pduCase{claim: claim, vers: []string{id}, data: mk(id), err: err, field: field, check: check, known: known})
		}
	}
	perV("base parses", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id) }, nil, "", nil, "")
	// Keys are exact; last duplicate wins.
	perV("dup key last wins v1-5", v15, func(id string) []byte {
		b := mkEvent(id)
		return append([]byte(`{"sender":"@first:b.example",`), b[1:]...)
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Sender != "@u:a.example" {
			t.Errorf("Sender = %q, want the last occurrence", ev.Sender)
		}
	}, "")
	perV("dup content key last wins v1-5", v15, func(id string) []byte {
		return mkEvent(id, kv{"content", `{"membership":"ban","membership":"join"}`}, kv{"type", `"m.room.member"`}, kv{"state_key", `"@u:a.example"`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Membership != "join" {
			t.Errorf("Membership = %q, want join (last)", ev.Membership)
		}
	}, "")
	perV("dup key refused v6+", v6p, func(id string) []byte {
		b := mkEvent(id)
		return append([]byte(`{"sender":"@first:b.example",`), b[1:]...)
	}, pdu.ErrNotJSON, "", nil, "")
	perV("keys case-sensitive: Sender is not sender", claimkit.VersionIDs(), func(id string) []byte {
		return mkEvent(id, kv{"sender", "-"}, kv{"Sender", `"@u:a.example"`})
	}, pdu.ErrMissingField, "sender", nil, "")
	// Size (measured on the canonical form, whole event).
	sizeTo := func(id string, total int, extra string) []byte {
		b := mkEvent(id, kv{"unsigned", `{"pad":""}`})
		n := total - len(b)
		return mkEvent(id, kv{"unsigned", `{"pad":"` + strings.Repeat("p", n) + `"}` + extra})
	}
	perV("size 65536 ok", claimkit.VersionIDs(), func(id string) []byte { return sizeTo(id, 65536, "") }, nil, "", nil, "")
	perV("size 65537 ErrTooLarge (unsigned counts)", claimkit.VersionIDs(), func(id string) []byte { return sizeTo(id, 65537, "") }, pdu.ErrTooLarge, "*", nil, "")
	perV("whitespace not counted", claimkit.VersionIDs(), func(id string) []byte {
		b := sizeTo(id, 65536, "")
		return append(append([]byte("{ "+strings.Repeat(" ", 5000)), b[1:]...), []byte(strings.Repeat("\n", 100))...)
	}, nil, "", nil, "")
	perV("v6+ > 6*65536 non-ws bytes: too large even if not JSON", v6p, func(id string) []byte {
		return []byte(`{"a":"` + strings.Repeat("q", 6*65536) + `",,}`)
	}, pdu.ErrTooLarge, "*", nil, "")
	perV("escapes shrink: non-canonical input > 65536 whose canonical form fits", claimkit.VersionIDs(), func(id string) []byte {
		b := mkEvent(id, kv{"unsigned", `{"pad":""}`})
		n := 65536 - len(b)
		return mkEvent(id, kv{"unsigned", `{"pad":"` + strings.Repeat(`\u0041`, n) + `"}`})
	}, nil, "", nil, "")
	_ = pad
	// ID limits.
	for _, f := range []string{"room_id", "sender", "type"} {
		f := f
		perV("ID limit 255 ok: "+f, claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{f, `"` + long(255) + `"`}) }, nil, "", nil, "")
		perV("ID limit 256: "+f, claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{f, `"` + long(256) + `"`}) }, pdu.ErrTooLarge, f, nil, "")
	}
	perV("state_key 255 ok", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"state_key", `"` + long(255) + `"`}) }, nil, "", nil, "")
	perV("state_key 256", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"state_key", `"` + long(256) + `"`}) }, pdu.ErrTooLarge, "state_key", nil, "")
	perV("event_id 256 (v1-2)", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"event_id", `"$` + long(245) + `:a.example"`})
	}, pdu.ErrTooLarge, "event_id", nil, "")
	perV("prev_events ID 256", v3p, func(id string) []byte { return mkEvent(id, kv{"prev_events", `["` + long(256) + `"]`}) }, pdu.ErrTooLarge, "prev_events", nil, "")
	perV("auth_events ID 256", v3p, func(id string) []byte { return mkEvent(id, kv{"auth_events", `["` + long(256) + `"]`}) }, pdu.ErrTooLarge, "auth_events", nil, "")
	perV("prev_events ID 255 ok", v3p, func(id string) []byte { return mkEvent(id, kv{"prev_events", `["` + long(255) + `"]`}) }, nil, "", nil, "")
	perV("v1-2 pair ID 256", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"prev_events", `[["` + long(256) + `",{}]]`})
	}, pdu.ErrTooLarge, "prev_events", nil, "")
	// Counts.
	ref := func(id string, n int) string {
		var parts []string
		for i := 0; i < n; i++ {
			if inRange(id, 1, 2) {
				parts = append(parts, fmt.Sprintf(`["$%d:a.example",{"sha256":"x"}]`, i))
			} else {
				parts = append(parts, fmt.Sprintf(`"$%d"`, i))
			}
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	perV("20 prev_events ok", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"prev_events", ref(id, 20)}) }, nil, "", nil, "")
	perV("21 prev_events ErrTooMany", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"prev_events", ref(id, 21)}) }, pdu.ErrTooMany, "prev_events", nil, "")
	perV("10 auth_events ok", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"auth_events", ref(id, 10)}) }, nil, "", nil, "")
	perV("11 auth_events ErrTooMany", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"auth_events", ref(id, 11)}) }, pdu.ErrTooMany, "auth_events", nil, "")
	// Referenced IDs: any string.
	perV("v4 prev_events [\"$x\"] parses", v3p, func(id string) []byte {
		return mkEvent(id, kv{"prev_events", `["$x","","no sigil"]`}, kv{"auth_events", `["!x:y"]`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if !slices.Equal(ev.PrevEvents, []string{"$x", "", "no sigil"}) || !slices.Equal(ev.AuthEvents, []string{"!x:y"}) {
			t.Errorf("PrevEvents %q AuthEvents %q", ev.PrevEvents, ev.AuthEvents)
		}
	}, "")
	perV("v1-2 pair first element any string", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"prev_events", `[["x",{}],["$y:b","str"]]`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if !slices.Equal(ev.PrevEvents, []string{"x", "$y:b"}) {
			t.Errorf("PrevEvents %q", ev.PrevEvents)
		}
	}, "")
	perV("v1-2 pair second element number refused", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"prev_events", `[["$x:a",5]]`})
	}, pdu.ErrWrongType, "prev_events", nil, "")
	perV("v1-2 event_id held to $opaque:domain", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"event_id", `"$nodomain"`})
	}, nil, "", nil, "")
	// That case is expected to fail: fix its expectation below.
	cases = cases[:len(cases)-2]
	perV("v1-2 event_id held to $opaque:domain", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"event_id", `"$nodomain"`})
	}, pdu.ErrWrongType, "event_id", nil, "")
	perV("redacts any string v1-10", v110, func(id string) []byte {
		return mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `"not an id"`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Redacts != "not an id" {
			t.Errorf("Redacts = %q", ev.Redacts)
		}
	}, "")
	// Signature counts: none.
	perV("17 servers x 17 keys parse", claimkit.VersionIDs(), func(id string) []byte {
		var s []string
		for i := 0; i < 17; i++ {
			var k []string
			for j := 0; j < 17; j++ {
				k = append(k, fmt.Sprintf(`"ed25519:%02d":"s"`, j))
			}
			s = append(s, fmt.Sprintf(`"s%02d.example":{%s}`, i, strings.Join(k, ",")))
		}
		return mkEvent(id, kv{"signatures", "{" + strings.Join(s, ",") + "}"})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if len(ev.Signatures) != 17*17 {
			t.Errorf("len(Signatures) = %d, want 289 (counts signatures)", len(ev.Signatures))
		}
	}, "")
	// v3+ event_id ignored, kept in bytes.
	perV("v3+ event_id key ignored, kept in bytes", v3p, func(id string) []byte {
		return mkEvent(id, kv{"event_id", `5`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.EventID != "" || !bytes.Contains(ev.Raw(), []byte(`"event_id":5`)) {
			t.Errorf("EventID = %q, Raw %q", ev.EventID, ev.Raw())
		}
	}, "")
	// room_id grammar not checked.
	for _, r := range []string{`"r:a"`, `""`, `"!r"`} {
		r := r
		perV("room_id "+r+" parses", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"room_id", r}) }, nil, "", func(t *testing.T, ev *pdu.Event) {
			if `"`+ev.RoomID+`"` != r {
				t.Errorf("RoomID = %q", ev.RoomID)
			}
		}, "")
	}
	perV("room_id required (non-create)", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"room_id", "-"}) }, pdu.ErrMissingField, "room_id", nil, "")
	perV("room_id number ErrWrongType", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"room_id", "5"}) }, pdu.ErrWrongType, "room_id", nil, "")
	// v12 create.
	create12 := func(mods ...kv) func(string) []byte {
		return func(id string) []byte {
			base := []kv{{"type", `"m.room.create"`}, {"state_key", `""`}, {"room_id", "-"}, {"content", `{"room_version":"12"}`}, {"prev_events", `[]`}, {"auth_events", `[]`}}
			return mkEvent(id, append(base, mods...)...)
		}
	}
	perV("v12 create without room_id parses; Room() empty until EventID set", []string{"12"}, create12(), nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.RoomID != "" || ev.Room() != "" {
			t.Errorf("RoomID %q Room %q", ev.RoomID, ev.Room())
		}
		ev.EventID = "$abc_-"
		if ev.Room() != "!abc_-" {
			t.Errorf("Room() = %q, want !abc_-", ev.Room())
		}
		if ev.HasKey("room_id") {
			t.Errorf("HasKey(room_id) true")
		}
	}, "")
	perV("v12 create with room_id parses; Room() still from EventID; HasKey", []string{"12"}, create12(kv{"room_id", `""`}), nil, "", func(t *testing.T, ev *pdu.Event) {
		ev.EventID = "$abc"
		if ev.Room() != "!abc" || !ev.HasKey("room_id") || ev.RoomID != "" {
			t.Errorf("Room %q HasKey %v", ev.Room(), ev.HasKey("room_id"))
		}
	}, "")
	perV("v12 create state_key x: room by type", []string{"12"}, create12(kv{"state_key", `"x"`}), nil, "", func(t *testing.T, ev *pdu.Event) {
		ev.EventID = "$abc"
		if ev.Room() != "!abc" {
			t.Errorf("Room() = %q", ev.Room())
		}
	}, "")
	perV("v12 create no state_key: room by type", []string{"12"}, create12(kv{"state_key", "-"}), nil, "", func(t *testing.T, ev *pdu.Event) {
		ev.EventID = "$abc"
		if ev.Room() != "!abc" || ev.IsState() {
			t.Errorf("Room() = %q IsState %v", ev.Room(), ev.IsState())
		}
	}, "")
	perV("v1-11 create needs room_id", claimkit.VersionIDs()[:11], create12(), pdu.ErrMissingField, "room_id", nil, "")
	perV("v1-11 create Room() is room_id", claimkit.VersionIDs()[:11], create12(kv{"room_id", `"!x:y"`}), nil, "", func(t *testing.T, ev *pdu.Event) {
		ev.EventID = "$abc"
		if ev.Room() != "!x:y" {
			t.Errorf("Room() = %q", ev.Room())
		}
	}, "")
	// Redacts.
	perV("Redacts top-level v1-10 for redaction", v110, func(id string) []byte {
		return mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `"$t"`}, kv{"content", `{"redacts":"$c"}`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Redacts != "$t" {
			t.Errorf("Redacts = %q, want $t", ev.Redacts)
		}
	}, "")
	perV("Redacts from content v11+", []string{"11", "12"}, func(id string) []byte {
		return mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `"$t"`}, kv{"content", `{"redacts":"$c"}`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Redacts != "$c" {
			t.Errorf("Redacts = %q, want $c", ev.Redacts)
		}
	}, "")
	perV("Redacts empty for other types", claimkit.VersionIDs(), func(id string) []byte {
		return mkEvent(id, kv{"redacts", `"$t"`}, kv{"content", `{"redacts":"$c"}`})
	}, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Redacts != "" || !bytes.Contains(ev.Raw(), []byte(`"redacts":"$t"`)) {
			t.Errorf("Redacts = %q", ev.Redacts)
		}
	}, "")
	perV("v11+ top-level redacts is an unknown key: {} parses", []string{"11", "12"}, func(id string) []byte {
		return mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `{}`}, kv{"content", `{"redacts":"$c"}`})
	}, nil, "", nil, "")
	perV("v1-10 top-level redacts must be a string (redaction)", v110, func(id string) []byte {
		return mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `{}`})
	}, pdu.ErrWrongType, "redacts", nil, "")
	// depth and origin_server_ts.
	perV("depth 0 ok", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"depth", "0"}) }, nil, "", nil, "")
	perV("depth -1 ErrOutOfRange", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"depth", "-1"}) }, pdu.ErrOutOfRange, "depth", nil, "")
	perV("depth 2^63-1 ok v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"depth", "9223372036854775807"}) }, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Depth != 1<<63-1 {
			t.Errorf("Depth %d", ev.Depth)
		}
	}, "")
	perV("depth 2^63 ErrOutOfRange v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"depth", "9223372036854775808"}) }, pdu.ErrOutOfRange, "depth", nil, "")
	perV("depth 2^53-1 ok v6+", v6p, func(id string) []byte { return mkEvent(id, kv{"depth", "9007199254740991"}) }, nil, "", nil, "")
	perV("depth 2^53 ErrNotJSON v6+", v6p, func(id string) []byte { return mkEvent(id, kv{"depth", "9007199254740992"}) }, pdu.ErrNotJSON, "*", nil, "")
	perV("ots 2^64 ErrOutOfRange v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"origin_server_ts", "18446744073709551616"}) }, pdu.ErrOutOfRange, "origin_server_ts", nil, "")
	perV("ots -2^63-1 ErrOutOfRange v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"origin_server_ts", "-9223372036854775809"}) }, pdu.ErrOutOfRange, "origin_server_ts", nil, "")
	perV("ots -2^63 ok v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"origin_server_ts", "-9223372036854775808"}) }, nil, "", nil, "")
	perV("ots negative ok", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"origin_server_ts", "-5"}) }, nil, "", nil, "")
	perV("depth 1.5 ErrWrongType v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"depth", "1.5"}) }, pdu.ErrWrongType, "depth", nil, "")
	perV("depth 5e0 ErrWrongType v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"depth", "5e0"}) }, pdu.ErrWrongType, "depth", nil, "")
	perV("depth 0.5E1 ErrWrongType v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"depth", "0.5E1"}) }, pdu.ErrWrongType, "depth", nil, "")
	perV("ots 1e3 ErrWrongType v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"origin_server_ts", "1e3"}) }, pdu.ErrWrongType, "origin_server_ts", nil, "")
	perV("depth -0 is an integer v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"depth", "-0"}) }, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Depth != 0 {
			t.Errorf("Depth %d", ev.Depth)
		}
	}, "")
	perV("depth 1.0 ErrNotJSON v6+", v6p, func(id string) []byte { return mkEvent(id, kv{"depth", "1.0"}) }, pdu.ErrNotJSON, "*", nil, "")
	perV("exponent elsewhere tolerated v1-5", v15, func(id string) []byte { return mkEvent(id, kv{"content", `{"x":5e0,"y":1.5}`}) }, nil, "", nil, "")
	perV("depth string ErrWrongType", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"depth", `"5"`}) }, pdu.ErrWrongType, "depth", nil, "")
	// Keys outside the format, format keys typed.
	perV("unsigned 5 refused (ErrNotObject)", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"unsigned", "5"}) }, pdu.ErrNotObject, "unsigned", nil, "")
	perV("unsigned age \"5\" parses", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"unsigned", `{"age":"5"}`}) }, nil, "", func(t *testing.T, ev *pdu.Event) {
		if string(ev.Unsigned) != `{"age":"5"}` {
			t.Errorf("Unsigned %q", ev.Unsigned)
		}
	}, "")
	perV("hashes without sha256 ErrMissingField", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"hashes", `{"sha512":"x"}`}) }, pdu.ErrMissingField, "hashes", nil, "")
	perV("hashes.sha256 non-string ErrWrongType", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"hashes", `{"sha256":5}`}) }, pdu.ErrWrongType, "hashes", nil, "")
	perV("hashes missing", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"hashes", "-"}) }, pdu.ErrMissingField, "hashes", nil, "")
	perV("origin 5 ignored", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"origin", "5"}) }, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Origin != "" {
			t.Errorf("Origin %q", ev.Origin)
		}
	}, "")
	perV("origin string read", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"origin", `"o.example"`}) }, nil, "", func(t *testing.T, ev *pdu.Event) {
		if ev.Origin != "o.example" {
			t.Errorf("Origin %q", ev.Origin)
		}
	}, "")
	perV("v1-2 hash object without sha256 accepted", []string{"1", "2"}, func(id string) []byte {
		return mkEvent(id, kv{"auth_events", `[["$c:a",{"x":1}]]`})
	}, nil, "", nil, "")
	// Required fields.
	for _, f := range []string{"sender", "type", "content", "depth", "origin_server_ts", "prev_events", "auth_events"} {
		f := f
		perV("required "+f, claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{f, "-"}) }, pdu.ErrMissingField, f, nil, "")
	}
	perV("required event_id v1-2", []string{"1", "2"}, func(id string) []byte { return mkEvent(id, kv{"event_id", "-"}) }, pdu.ErrMissingField, "event_id", nil, "")
	perV("content not object ErrNotObject", claimkit.VersionIDs(), func(id string) []byte { return mkEvent(id, kv{"content", `[]`}) }, pdu.ErrNotObject, "content", nil, "")
	perV("event not object ErrNotObject", claimkit.VersionIDs(), func(id string) []byte { return []byte(`[1]`) }, pdu.ErrNotObject, "", nil, "")
	perV("not JSON ErrNotJSON wraps canonicaljson", claimkit.VersionIDs(), func(id string) []byte { return []byte(`{"a":`) }, pdu.ErrNotJSON, "", func(*testing.T, *pdu.Event) {}, "")
	perV("v6+ float in content ErrNotJSON", v6p, func(id string) []byte { return mkEvent(id, kv{"content", `{"x":1.5}`}) }, pdu.ErrNotJSON, "*", nil, "")
	_ = v3_5
	runPDU(t, cases)
}

// TestPDUAccessors checks go doc pdu.Event and its methods, pdu.ParseIndexed, the Raw
// claims of decisions.md "The event keeps its canonical form" and HasKey's.
func TestPDUAccessors(t *testing.T) {
	v := claimkit.Ver(t, "10")
	canon := mkEvent("10", kv{"type", `"m.room.member"`}, kv{"state_key", `"@u:a.example"`},
		kv{"content", `{"\u0001":1,"membership":"join","n":null,"s":"str"}`}, kv{"\u0002", `null`},
		kv{"signatures", `{"b.example":{"ed25519:2":"y","ed25519:1":"x"},"a.example":{"ed25519:1":"z"},"c.example":{}}`})
	// mkEvent wrote "\u0001" escaped by %q: already canonical? Canonicalise for the test.
	canon, err := canonicaljson.CanonicalStrict(canon)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := pdu.Parse(v, canon)
	if err != nil {
		t.Fatal(err)
	}
	if &ev.Raw()[0] != &canon[0] || len(ev.Raw()) != len(canon) {
		t.Errorf("Raw() of canonical input is not the caller's bytes (decisions: no copy)")
	}
	spaced := append([]byte(" "), canon...)
	ev2, err := pdu.Parse(v, spaced)
	if err != nil || !bytes.Equal(ev2.Raw(), canon) || &ev2.Raw()[0] == &spaced[1] {
		t.Errorf("Raw() of non-canonical input: %q, %v; want a canonical copy", ev2.Raw(), err)
	}
	if !bytes.Contains(ev.Raw(), ev.Content) || !json0(ev.Content, `{"\u0001":1,"membership":"join","n":null,"s":"str"}`) {
		t.Errorf("Content = %q", ev.Content)
	}
	s, e := ev.RawContentSpan()
	if !bytes.Equal(ev.Raw()[s:e], ev.Content) {
		t.Errorf("RawContentSpan %d %d", s, e)
	}
	if s, e := (&pdu.Event{}).RawContentSpan(); s != 0 || e != 0 {
		t.Errorf("RawContentSpan of hand-made Event = %d %d, want 0 0", s, e)
	}
	if ev.Membership != "join" || ev.StateKey == nil || *ev.StateKey != "@u:a.example" || !ev.IsState() ||
		!ev.Is("m.room.member", "@u:a.example") || ev.Is("m.room.member", "") || !ev.StateKeyEquals("@u:a.example") || ev.StateKeyEquals("") {
		t.Errorf("state accessors wrong")
	}
	if string(ev.ContentField("n")) != "null" || ev.ContentField("absent") != nil || string(ev.ContentField("\x01")) != "1" {
		t.Errorf("ContentField: n=%q absent=%q \\x01=%q", ev.ContentField("n"), ev.ContentField("absent"), ev.ContentField("\x01"))
	}
	if s, ok := ev.ContentString("s"); !ok || s != "str" {
		t.Errorf("ContentString(s)")
	}
	if _, ok := ev.ContentString("n"); ok {
		t.Errorf("ContentString(null) ok")
	}
	if _, ok := ev.ContentString("absent"); ok {
		t.Errorf("ContentString(absent) ok")
	}
	if !ev.HasKey("\x02") || ev.HasKey(`\u0002`) || !ev.HasKey("depth") || ev.HasKey("Depth") || ev.HasKey("unsigned") {
		t.Errorf("HasKey: \\x02=%v \\\\u0002=%v (decisions: HasKey takes the unescaped key)", ev.HasKey("\x02"), ev.HasKey(`\u0002`))
	}
	msg, _ := pdu.Parse(v, mkEvent("10"))
	if msg.IsState() || msg.StateKey != nil || msg.Membership != "" || msg.Unsigned != nil {
		t.Errorf("message: IsState %v StateKey %v Membership %q Unsigned %q", msg.IsState(), msg.StateKey, msg.Membership, msg.Unsigned)
	}
	if msg.Depth != 5 || msg.OriginServerTS != 1000 || msg.ContentHash != "AAAA" || msg.Type != "m.room.message" {
		t.Errorf("fields")
	}
	// Signatures: canonical order, one entry per signature, empty server has none.
	var got []string
	for _, s := range ev.Signatures {
		got = append(got, s.Server+"/"+s.KeyID+"="+s.Value)
	}
	if strings.Join(got, " ") != "a.example/ed25519:1=z b.example/ed25519:1=x b.example/ed25519:2=y" {
		t.Errorf("Signatures = %v", got)
	}
	if sv, ok := ev.Signatures.Get("b.example", "ed25519:2"); !ok || sv != "y" {
		t.Errorf("Get")
	}
	if _, ok := ev.Signatures.Get("c.example", "ed25519:1"); ok {
		t.Errorf("Get on empty server")
	}
	if ev.Signatures.Signed("c.example") || !ev.Signatures.Signed("a.example") || ev.Signatures.Signed("zz") {
		t.Errorf("Signed: empty server object must read as not signed")
	}
	if len(ev.Signatures.Server("b.example")) != 2 || len(ev.Signatures.Server("c.example")) != 0 {
		t.Errorf("Server()")
	}
	if servers := slices.Collect(ev.Signatures.Servers()); !slices.Equal(servers, []string{"a.example", "b.example"}) {
		t.Errorf("Servers() = %v", servers)
	}
	m := ev.Signatures.Map()
	if len(m) != 2 || m["b.example"]["ed25519:1"] != "x" {
		t.Errorf("Map() = %v", m)
	}
	m["a.example"]["ed25519:1"] = "changed"
	if sv, _ := ev.Signatures.Get("a.example", "ed25519:1"); sv != "z" {
		t.Errorf("Map() is not new")
	}
	nosig, err := pdu.Parse(v, mkEvent("10", kv{"signatures", `{}`}))
	if err != nil || nosig.Signatures == nil || len(nosig.Signatures) != 0 {
		t.Errorf("empty signatures: %v %v; want non-nil empty", nosig.Signatures == nil, err)
	}
	// ParseIndexed.
	var idx canonicaljson.Index
	ev3, err := pdu.ParseIndexed(v, spaced, &idx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, mm := range idx.Members {
		keys = append(keys, string(mm.Key(ev3.Raw())))
	}
	if !slices.Contains(keys, "content") || !slices.Contains(keys, "depth") || len(keys) != bytes.Count(ev3.Raw(), []byte(`":`))-countNested(ev3.Raw()) {
		t.Logf("keys %v", keys)
	}
	if ev4, err := pdu.ParseIndexed(v, spaced, nil); err != nil || !bytes.Equal(ev4.Raw(), ev3.Raw()) {
		t.Errorf("ParseIndexed nil idx")
	}
	// Unknown version.
	var zero roomversion.Version
	if _, err := pdu.Parse(zero, mkEvent("10")); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("Parse(zero Version) = %v, want ErrUnknownVersion", err)
	}
	ren := claimkit.Ver(t, "10")
	ren.ID = "99"
	if _, err := pdu.Parse(ren, mkEvent("10")); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("Parse(renamed) = %v", err)
	}
	// ErrNotJSON wraps the canonicaljson error.
	_, err = pdu.Parse(v, mkEvent("10", kv{"content", `{"x":1.5}`}))
	var fe *pdu.FormatError
	if !errors.Is(err, canonicaljson.ErrFloat) || !errors.As(err, &fe) || fe.Cause == nil {
		t.Errorf("ErrNotJSON does not wrap canonicaljson.ErrFloat: %v", err)
	} else if u := fe.Unwrap(); len(u) != 2 || u[0] != pdu.ErrNotJSON {
		t.Errorf("FormatError.Unwrap() = %v, want [sentinel cause]", u)
	}
	_, err = pdu.Parse(v, mkEvent("10", kv{"sender", "5"}))
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "sender") {
		t.Errorf("FormatError.Error() should name the field: %v", err)
	}
}

func json0(got []byte, want string) bool {
	w, err := canonicaljson.Canonical([]byte(want))
	return err == nil && bytes.Equal(got, w)
}

func countNested(b []byte) int { return 0 }

// TestPDUOpaqueEventID checks go doc pdu.CheckOpaqueEventID and pdu.ValidServerName.
func TestPDUOpaqueEventID(t *testing.T) {
	ok := []string{"$a:example.org", "$:example.org", "$a:b:80", "$a\x01b:h", "$é:h", "$a:1.2.3.4", "$a:[::1]:8448",
		"$" + strings.Repeat("x", 244) + ":a.example"}
	bad := []string{"", "$", "$a", "a:example.org", "$a:", "$a\x00b:h", "$a\xffb:h", "$a\xed\xa0\x80:h", "$a:b:c",
		"$a:exa_mple", "$" + strings.Repeat("x", 245) + ":a.example", "$a:b:123456", "!a:b", "$a:b:"}
	for _, id := range ok {
		if err := pdu.CheckOpaqueEventID(id); err != nil {
			t.Errorf("CheckOpaqueEventID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range bad {
		err := pdu.CheckOpaqueEventID(id)
		var fe *pdu.FormatError
		if !errors.As(err, &fe) || fe.Field != "event_id" {
			t.Errorf("CheckOpaqueEventID(%q) = %v, want *FormatError for event_id", id, err)
		}
	}
	sn := []struct {
		s  string
		ok bool
	}{
		{"example.org", true}, {"example.org:8448", true}, {"1.2.3.4", true}, {"1.2.3.4:1", true}, {"[::1]", true},
		{"[::1]:80", true}, {"a", true}, {"A-b.C", true}, {strings.Repeat("a", 255), true}, {"a:12345", true},
		{"", false}, {"a:", false}, {"a:123456", false}, {"a_b", false}, {strings.Repeat("a", 256), false},
		{"a b", false}, {"é.org", false}, {"a:b", false}, {":80", false}, {"[::1", false}, {"a:-1", false},
	}
	for _, c := range sn {
		if got := pdu.ValidServerName(c.s); got != c.ok {
			t.Errorf("ValidServerName(%q) = %v, want %v", c.s, got, c.ok)
		}
	}
}

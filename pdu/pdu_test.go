package pdu_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

type parseCase struct {
	Name        string          `json:"name"`
	RoomVersion string          `json:"room_version"`
	Spec        string          `json:"spec"`
	Event       json.RawMessage `json:"event"`
	Raw         *string         `json:"raw"`
	Expect      struct {
		OK          bool     `json:"ok"`
		Error       string   `json:"error"`
		Field       *string  `json:"field"`
		EventID     *string  `json:"event_id"`
		RoomID      *string  `json:"room_id"`
		Sender      *string  `json:"sender"`
		Type        *string  `json:"type"`
		StateKey    *string  `json:"state_key"`
		PrevEvents  []string `json:"prev_events"`
		AuthEvents  []string `json:"auth_events"`
		Depth       *int64   `json:"depth"`
		ContentHash *string  `json:"content_hash"`
		Redacts     *string  `json:"redacts"`
		Membership  *string  `json:"membership"`
	} `json:"expect"`
}

var errorKinds = map[string]error{
	"missing":    pdu.ErrMissingField,
	"type":       pdu.ErrWrongType,
	"too_large":  pdu.ErrTooLarge,
	"too_many":   pdu.ErrTooMany,
	"range":      pdu.ErrOutOfRange,
	"json":       pdu.ErrNotJSON,
	"not_object": pdu.ErrNotObject,
}

func loadCases(t testing.TB) []parseCase {
	raw, err := os.ReadFile("../testdata/pdu/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []parseCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func (c parseCase) input() []byte {
	if c.Raw != nil {
		return []byte(*c.Raw)
	}
	return c.Event
}

func TestParse(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			v, err := roomversion.Lookup(c.RoomVersion)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := pdu.Parse(v, c.input())
			if c.Expect.Error != "" {
				want := errorKinds[c.Expect.Error]
				if want == nil {
					t.Fatalf("fixture names unknown error kind %q", c.Expect.Error)
				}
				if !errors.Is(err, want) {
					t.Fatalf("Parse error = %v, want %v", err, want)
				}
				var fe *pdu.FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %T is not a *pdu.FormatError", err)
				}
				if c.Expect.Field != nil && fe.Field != *c.Expect.Field {
					t.Fatalf("error names field %q, want %q (%v)", fe.Field, *c.Expect.Field, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			check := func(name string, got any, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", name, got, want)
				}
			}
			x := c.Expect
			if x.EventID != nil {
				check("EventID", ev.EventID, *x.EventID)
			}
			if x.RoomID != nil {
				check("RoomID", ev.RoomID, *x.RoomID)
			}
			if x.Sender != nil {
				check("Sender", ev.Sender, *x.Sender)
			}
			if x.Type != nil {
				check("Type", ev.Type, *x.Type)
			}
			if x.StateKey != nil {
				if ev.StateKey == nil {
					t.Errorf("StateKey = nil, want %q", *x.StateKey)
				} else {
					check("StateKey", *ev.StateKey, *x.StateKey)
				}
			}
			if x.PrevEvents != nil {
				check("PrevEvents", ev.PrevEvents, x.PrevEvents)
			}
			if x.AuthEvents != nil {
				check("AuthEvents", ev.AuthEvents, x.AuthEvents)
			}
			if x.Depth != nil {
				check("Depth", ev.Depth, *x.Depth)
			}
			if x.ContentHash != nil {
				check("ContentHash", ev.ContentHash, *x.ContentHash)
			}
			if x.Redacts != nil {
				check("Redacts", ev.Redacts, *x.Redacts)
			}
			if x.Membership != nil {
				check("Membership", ev.Membership, *x.Membership)
			}
			in := c.input()
			want, err := canonicaljson.Append(nil, in, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
			if err != nil {
				t.Fatal(err)
			}
			if string(ev.Raw()) != string(want) {
				t.Errorf("Raw() = %s, want the canonical form %s", ev.Raw(), want)
			}

		})
	}
}

func TestContentAccessors(t *testing.T) {
	v, _ := roomversion.Lookup("9")
	ev, err := pdu.Parse(v, []byte(`{"room_id":"!r:e","sender":"@a:e","type":"m.room.member","state_key":"@a:e",
		"content":{"membership":"join","n":5,"join_authorised_via_users_server":"@m:e"},
		"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"h"},"signatures":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := ev.ContentString("join_authorised_via_users_server"); !ok || s != "@m:e" {
		t.Errorf("ContentString = %q, %v", s, ok)
	}
	if _, ok := ev.ContentString("n"); ok {
		t.Error("ContentString reports a number as a string")
	}
	if _, ok := ev.ContentString("absent"); ok {
		t.Error("ContentString reports an absent key")
	}
	if got := string(ev.ContentField("n")); got != "5" {
		t.Errorf("ContentField(n) = %q", got)
	}
	if !ev.IsState() || !ev.Is(pdu.TypeMember, "@a:e") || ev.Is(pdu.TypeMember, "@b:e") {
		t.Error("IsState/Is wrong")
	}
}

// TestHasKey: HasKey sees top-level keys whatever their value, as written or escaped in the
// received bytes, and not the keys of content.
func TestHasKey(t *testing.T) {
	v, _ := roomversion.Lookup("12")
	ev, err := pdu.Parse(v, []byte(`{"sender":"@a:e","type":"m.room.create","state_key":"","r\u006fom_id":"",
		"content":{"room_version":"12","creator":"@a:e"},"extra":null,"\u0001":1,"a\"b":2,"t\tn\n":3,
		"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"h"},"signatures":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"room_id", true}, // escaped as received, empty value
		{"extra", true},   // null value
		{"depth", true},
		{"signatures", true},
		{"creator", false}, // a key of content
		{"\x01", true},     // written "\u0001" in the canonical form
		{"a\"b", true},     // written "a\"b"
		{"t\tn\n", true},   // written "t\tn\n"
		{"\\u0001", false},
		{"u0001", false},
		{"room_version", false},
		{"unsigned", false},
		{"", false},
	} {
		if got := ev.HasKey(c.key); got != c.want {
			t.Errorf("HasKey(%q) = %v, want %v", c.key, got, c.want)
		}
	}
	if ev.RoomID != "" {
		t.Errorf("RoomID = %q", ev.RoomID)
	}
}

// TestRoom: the room of an event is its room_id, except for a version 12 create event, whose room
// is its own event ID with '!' whatever room_id it carries.
func TestRoom(t *testing.T) {
	const rest = `"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"h"},"signatures":{}}`
	for _, c := range []struct {
		name, version, event, eventID, want string
	}{
		{"v12 create", "12", `{"sender":"@a:e","type":"m.room.create","state_key":"","content":{},` + rest, "$abc", "!abc"},
		{"v12 create with room_id", "12", `{"sender":"@a:e","type":"m.room.create","state_key":"","room_id":"!x:e","content":{},` + rest, "$abc", "!abc"},
		{"v12 create, ID unknown", "12", `{"sender":"@a:e","type":"m.room.create","state_key":"","content":{},` + rest, "", ""},
		{"v12 create, ID without sigil", "12", `{"sender":"@a:e","type":"m.room.create","state_key":"","content":{},` + rest, "abc", ""},
		{"v12 message", "12", `{"sender":"@a:e","type":"m.room.message","room_id":"!abc","content":{},` + rest, "$m", "!abc"},
		// Rules 1 and 2 of rooms/v12.md go by type alone: every m.room.create is the create
		// event of its own room (decision "A v12 create event is one by its type").
		{"v12 create type, not state", "12", `{"sender":"@a:e","type":"m.room.create","room_id":"!r","content":{},` + rest, "$abc", "!abc"},
		{"v12 create type, other state key", "12", `{"sender":"@a:e","type":"m.room.create","state_key":"x","room_id":"!r","content":{},` + rest, "$abc", "!abc"},
		{"v12 create type, other state key, no room_id", "12", `{"sender":"@a:e","type":"m.room.create","state_key":"x","content":{},` + rest, "$abc", "!abc"},
		{"v12 create type, not state, no room_id", "12", `{"sender":"@a:e","type":"m.room.create","content":{},` + rest, "$abc", "!abc"},
		{"v11 create", "11", `{"sender":"@a:e","type":"m.room.create","state_key":"","room_id":"!r:e","content":{},` + rest, "$abc", "!r:e"},
	} {
		v, err := roomversion.Lookup(c.version)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := pdu.Parse(v, []byte(c.event))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ev.EventID = c.eventID
		if got := ev.Room(); got != c.want {
			t.Errorf("%s: Room() = %q, want %q", c.name, got, c.want)
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts keeps its bytes and respects the limits.
func FuzzParse(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.RoomVersion, c.input())
	}
	var buf pdu.EventBuffer // reused from input to input, as a verifier reuses one
	f.Fuzz(func(t *testing.T, version string, data []byte) {
		v, err := roomversion.Lookup(version)
		if err != nil {
			v, _ = roomversion.Lookup("9")
		}
		ev, err := pdu.Parse(v, data)
		checkParseIndexed(t, v, data, ev, err, &buf)
		if err != nil {
			var fe *pdu.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *pdu.FormatError: %v", err, err)
			}
			return
		}
		if len(ev.PrevEvents) > pdu.MaxPrevEvents || len(ev.AuthEvents) > pdu.MaxAuthEvents {
			t.Fatal("accepted too many references")
		}
		if ev.Depth < 0 || ev.Depth > v.Format.MaxDepth {
			t.Fatal("accepted depth out of range")
		}
		if len(ev.Sender) > pdu.MaxIDLength || len(ev.Type) > pdu.MaxIDLength {
			t.Fatal("accepted an over-long ID")
		}
		// One reading: the fields read from the canonical form agree with a validating walk
		// of the bytes as received (last occurrence wins), and parsing the canonical form
		// again gives the same event.
		checkReading(t, v, data, ev)
		checkSignatureOrder(t, ev.Signatures)
		if s, e := ev.RawContentSpan(); string(ev.Raw()[s:e]) != string(ev.Content) {
			t.Fatalf("RawContentSpan %d:%d does not hold Content", s, e)
		}
		// HasKey takes the unescaped key, as EachMember gives it, and not its escaped text.
		_ = canonicaljson.EachMember(ev.Raw(), func(k string, _ []byte) error {
			if !ev.HasKey(k) {
				t.Fatalf("HasKey(%q) is false for a key of the event", k)
			}
			if q := string(canonicaljson.AppendString(nil, k)); q[1:len(q)-1] != k && ev.HasKey(q[1:len(q)-1]) && canonicaljson.EachMember(ev.Raw(), func(k2 string, _ []byte) error {
				if k2 == q[1:len(q)-1] {
					return errors.New("found")
				}
				return nil
			}) == nil {
				t.Fatalf("HasKey(%q), the escaped text of key %q, is true", q[1:len(q)-1], k)
			}
			return nil
		})
		again, err := pdu.Parse(v, ev.Raw())
		if err != nil {
			t.Fatalf("the canonical form of an accepted event is refused: %v", err)
		}
		if !reflect.DeepEqual(again, ev) {
			t.Fatalf("parsing the canonical form reads %+v, the input %+v", again, ev)
		}
	})
}

// TestParseIndexed: for every fixture, ParseIndexed returns what Parse returns, and its index is
// the one canonicaljson.AppendIndexed makes of the event's canonical bytes; so does
// EventBuffer.ParseIndexed with one buffer for all the fixtures, whose events have from none to
// the most references and signatures, in turn.
func TestParseIndexed(t *testing.T) {
	n := 0
	var buf pdu.EventBuffer
	for range 2 {
		for _, c := range loadCases(t) {
			v, err := roomversion.Lookup(c.RoomVersion)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := pdu.Parse(v, c.input())
			if checkParseIndexed(t, v, c.input(), ev, err, &buf) {
				n++
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d accepted fixtures compared", n)
	}
}

// checkParseIndexed checks that ParseIndexed(v, data) gives ev and err, as Parse did, and so
// does buf.ParseIndexed, and when it succeeds an index of ev.Raw() equal to AppendIndexed's
// (Members and Nested). It reports whether the event was accepted.
func checkParseIndexed(t *testing.T, v roomversion.Version, data []byte, ev *pdu.Event, err error, buf *pdu.EventBuffer) bool {
	t.Helper()
	var bidx canonicaljson.Index
	bgot, berr := buf.ParseIndexed(v, data, &bidx)
	if (err == nil) != (berr == nil) || err != nil && err.Error() != berr.Error() || (bgot == nil) != (ev == nil) {
		t.Fatalf("EventBuffer.ParseIndexed error %v, Parse error %v", berr, err)
	}
	if err == nil && !reflect.DeepEqual(bgot, ev) {
		t.Fatalf("EventBuffer.ParseIndexed reads %+v, Parse %+v", bgot, ev)
	}
	idx := canonicaljson.Index{Members: make([]canonicaljson.Member, 3)} // stale entries to overwrite
	got, gerr := pdu.ParseIndexed(v, data, &idx)
	if (err == nil) != (gerr == nil) || err != nil && err.Error() != gerr.Error() {
		t.Fatalf("ParseIndexed error %v, Parse error %v", gerr, err)
	}
	if err != nil {
		return false
	}
	if !reflect.DeepEqual(got, ev) {
		t.Fatalf("ParseIndexed reads %+v, Parse %+v", got, ev)
	}
	if !slices.Equal(bidx.Members, idx.Members) || !slices.Equal(bidx.Nested, idx.Nested) {
		t.Fatal("EventBuffer.ParseIndexed and ParseIndexed index the event differently")
	}
	var want canonicaljson.Index
	if _, err := canonicaljson.AppendIndexed(nil, got.Raw(), canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, &want); err != nil {
		t.Fatalf("the canonical form does not index: %v", err)
	}
	if !slices.Equal(idx.Members, want.Members) || !slices.Equal(idx.Nested, want.Nested) {
		t.Fatalf("ParseIndexed index %+v / %+v, want %+v / %+v", idx.Members, idx.Nested, want.Members, want.Nested)
	}
	return true
}

// checkReading compares ev with the members of data as canonicaljson.EachMember reads them.
func checkReading(t *testing.T, v roomversion.Version, data []byte, ev *pdu.Event) {
	t.Helper()
	str := map[string]string{}
	var content []byte
	err := canonicaljson.EachMember(data, func(k string, val []byte) error {
		switch k {
		case "origin":
			// Not part of any event format: read only when it is a string.
			if canonicaljson.KindOf(val) != canonicaljson.String {
				str[k] = ""
				return nil
			}
			s, err := canonicaljson.Unquote(val)
			if err != nil {
				return err
			}
			str[k] = s
		case "type", "sender", "room_id", "state_key":
			s, err := canonicaljson.Unquote(val)
			if err != nil {
				return err
			}
			str[k] = s
		case "content":
			content = val
		}
		return nil
	})
	if err != nil {
		t.Fatalf("an accepted event does not walk: %v", err)
	}
	got := map[string]string{"type": ev.Type, "sender": ev.Sender, "room_id": ev.RoomID, "origin": ev.Origin}
	for k, want := range got {
		if str[k] != want {
			t.Fatalf("%s is read as %q, the received bytes say %q", k, want, str[k])
		}
	}
	if sk, ok := str["state_key"]; ok != ev.IsState() || ok && sk != *ev.StateKey {
		t.Fatalf("state_key is read as %v, the received bytes say %q (present %v)", ev.StateKey, sk, ok)
	}
	c, err := canonicaljson.Append(nil, content, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	if err != nil || !bytes.Equal(c, ev.Content) {
		t.Fatalf("content is %s, the received content canonicalises to %s (%v)", ev.Content, c, err)
	}
}

func BenchmarkParse(b *testing.B) {
	corpus, err := benchcorpus.Read(benchcorpus.Path)
	if err != nil {
		b.Fatal(err)
	}
	v, _ := roomversion.Lookup(corpus.RoomVersion)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range corpus.Events {
			if _, err := pdu.Parse(v, e); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestParseKeepsCanonicalInput: Parse keeps canonical input itself and a canonical copy of any
// other input, so that the caller's buffer is shared only when nothing had to change.
func TestParseKeepsCanonicalInput(t *testing.T) {
	v, _ := roomversion.Lookup("10")
	canonical := []byte(`{"auth_events":[],"content":{},"depth":1,"hashes":{"sha256":"h"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:e","sender":"@a:e","signatures":{},"type":"m.t"}`)
	spaced := append([]byte(" "), canonical...)
	for _, tc := range []struct {
		name  string
		in    []byte
		share bool
	}{
		{"canonical", canonical, true},
		{"with whitespace", spaced, false},
	} {
		ev, err := pdu.Parse(v, tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(ev.Raw(), canonical) {
			t.Errorf("%s: Raw() = %s", tc.name, ev.Raw())
		}
		if shared := &ev.Raw()[0] == &tc.in[0]; shared != tc.share {
			t.Errorf("%s: Raw() shares the input: %v, want %v", tc.name, shared, tc.share)
		}
	}
}

// TestLoneSurrogateIDsStayDistinct: in room versions 1-5 an unpaired surrogate escape in an ID
// decodes to its own bytes, so a sender and a state key that differ in the JSON differ in the
// Event (the auth rules compare them), and never equal a real U+FFFD.
func TestLoneSurrogateIDsStayDistinct(t *testing.T) {
	v, _ := roomversion.Lookup("3")
	seen := map[string]string{}
	for _, sk := range []string{`@a\ud800:x.example`, `@a\udc00:x.example`, `@a\ufffd:x.example`, `@a\uD800:x.example`} {
		raw := []byte(`{"room_id":"!r:x.example","sender":"@a\ufffd:x.example","type":"m.room.member",` +
			`"state_key":"` + sk + `","content":{"membership":"join"},"origin_server_ts":1,"depth":1,` +
			`"prev_events":[],"auth_events":[],"hashes":{"sha256":"h"},"signatures":{}}`)
		ev, err := pdu.Parse(v, raw)
		if err != nil {
			t.Fatalf("%s: %v", sk, err)
		}
		same := *ev.StateKey == ev.Sender
		if want := sk == `@a\ufffd:x.example`; same != want {
			t.Errorf("state_key %s: equals the sender %v, want %v", sk, same, want)
		}
		if prev, dup := seen[*ev.StateKey]; dup && !strings.EqualFold(prev, sk) {
			t.Errorf("state keys %s and %s read the same", prev, sk)
		}
		seen[*ev.StateKey] = sk
	}
	if len(seen) != 3 { // \ud800 and \uD800 are the same code point
		t.Errorf("%d distinct state keys, want 3", len(seen))
	}
}

// TestRedactsOnlyOfRedactions: Redacts is read for m.room.redaction events only, in every room
// version: from the top level before v11, from content from v11 (pdu_v*.yaml: "For redaction
// events, the ID of the event being redacted"). A `redacts` on another event stays in its
// bytes.
func TestRedactsOnlyOfRedactions(t *testing.T) {
	const rest = `"depth":1,"hashes":{"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},"origin_server_ts":1,"prev_events":[],"auth_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{}}`
	for _, c := range []struct {
		version, event, want string
	}{
		{"6", `{"type":"m.room.redaction","redacts":"$x:a.example","content":{},` + rest, "$x:a.example"},
		{"6", `{"type":"m.room.message","redacts":"$x:a.example","content":{},` + rest, ""},
		{"1", `{"type":"m.room.create","state_key":"","redacts":"$x:a.example","event_id":"$c:a.example","content":{},` + rest, ""},
		{"10", `{"type":"m.room.redaction","redacts":"$x","content":{"redacts":"$y"},` + rest, "$x"},
		{"10", `{"type":"m.room.member","state_key":"@a:a.example","redacts":"$x","content":{"membership":"join"},` + rest, ""},
		{"11", `{"type":"m.room.redaction","redacts":"$x","content":{"redacts":"$y"},` + rest, "$y"},
		{"11", `{"type":"m.room.message","content":{"redacts":"$y"},` + rest, ""},
		{"12", `{"type":"m.room.message","redacts":"$x","content":{"redacts":"$y"},` + rest, ""},
	} {
		v, err := roomversion.Lookup(c.version)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := pdu.Parse(v, []byte(c.event))
		if err != nil {
			t.Fatalf("v%s %s: %v", c.version, c.event, err)
		}
		if ev.Redacts != c.want {
			t.Errorf("v%s %s: Redacts = %q, want %q", c.version, ev.Type, ev.Redacts, c.want)
		}
	}
}

// TestCreateEventID: in room version 12 a room ID names its create event ("!" → "$"); earlier
// versions' room IDs name none; Event.Room of a v12 create event maps back to the room ID
// (tools/scenarios S7: homeservers needed the helper to find the create event of a v12 room).
func TestCreateEventID(t *testing.T) {
	v12, _ := roomversion.Lookup("12")
	v11, _ := roomversion.Lookup("11")
	for _, c := range []struct {
		v      roomversion.Version
		roomID string
		want   string
		ok     bool
	}{
		{v12, "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", "$31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", true},
		{v12, "!", "", false},
		{v12, "", "", false},
		{v12, "$abc", "", false},
		{v11, "!r:a.example", "", false},
		{roomversion.Version{}, "!abc", "", false},
	} {
		got, ok := pdu.CreateEventID(c.v, c.roomID)
		if got != c.want || ok != c.ok {
			t.Errorf("pdu.CreateEventID(v%q, %q) = %q, %v; want %q, %v", c.v.ID, c.roomID, got, ok, c.want, c.ok)
		}
	}
	ev := &pdu.Event{Version: v12, Type: pdu.TypeCreate, EventID: "$abc"}
	if id, ok := pdu.CreateEventID(v12, ev.Room()); !ok || id != ev.EventID {
		t.Errorf("round trip: %q, %v", id, ok)
	}
}

// TestEventBuffer: an EventBuffer gives the Event Parse gives, with non-nil lists when they are
// empty (also in a new buffer), for canonical input and other, whatever event it held before,
// and Reset lets go of the event.
func TestEventBuffer(t *testing.T) {
	v, _ := roomversion.Lookup("5")
	bare := []byte(`{"auth_events":[],"content":{},"depth":1,"hashes":{"sha256":"a"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:e","sender":"@a:e","signatures":{},"type":"x"}`)
	full := []byte(`{"auth_events":["$a","$b","$c"],"content":{"membership":"join"},"depth":1,"hashes":{"sha256":"a"},"origin_server_ts":1,"prev_events":["$p"],"room_id":"!r:e","sender":"@a:e","signatures":{"e":{"ed25519:1":"s","ed25519:2":"t"}},"state_key":"@a:e","type":"m.room.member"}`)
	spaced := append([]byte(" "), full...) // not canonical: its canonical copy is the buffer's
	var buf pdu.EventBuffer
	for _, data := range [][]byte{bare, full, bare, spaced, full, spaced, spaced} {
		want, err := pdu.Parse(v, data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := buf.ParseIndexed(v, data, nil)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("EventBuffer.ParseIndexed = %+v, %v; Parse %+v", got, err, want)
		}
		if got.PrevEvents == nil || got.AuthEvents == nil || got.Signatures == nil {
			t.Fatal("an empty list is nil")
		}
	}
	ev, _ := buf.ParseIndexed(v, full, nil)
	if _, err := buf.ParseIndexed(v, []byte(`{}`), nil); err == nil {
		t.Fatal("{} is accepted")
	}
	if ev.Raw() != nil || ev.Sender != "" {
		t.Fatal("a failed parse leaves the buffer's last event in place")
	}
	ev, _ = buf.ParseIndexed(v, full, nil)
	buf.Reset()
	if ev.Raw() != nil || ev.StateKey != nil || ev.PrevEvents != nil {
		t.Fatal("Reset leaves the event in place")
	}
}

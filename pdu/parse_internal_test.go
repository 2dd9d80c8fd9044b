package pdu

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/roomversion"
)

// sameAsReference checks that parseCanonical reads the canonical form of data, for room
// version v, exactly as refParseCanonical does: the same Event, field by field, or the same
// error (field, kind, detail, cause).
func sameAsReference(t *testing.T, v roomversion.Version, data []byte) {
	t.Helper()
	var idx canonicaljson.Index
	canon, err := canonicaljson.AppendIndexed(nil, data, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, &idx)
	if err != nil {
		return
	}
	want, wantErr := refParseCanonical(v, canon)
	// With the index, as Parse calls it, and with the scan.
	for _, idx := range []*canonicaljson.Index{&idx, nil} {
		got, gotErr := parseCanonical(v, canon, idx, nil, nil)
		sameEvent(t, v, canon, got, gotErr, want, wantErr)
	}
}

func sameEvent(t *testing.T, v roomversion.Version, canon []byte, got *Event, gotErr error, want *Event, wantErr error) {
	t.Helper()
	if !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("v%s %s:\nerror %#v (%v)\nwant  %#v (%v)", v.ID, canon, gotErr, gotErr, wantErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("v%s %s:\nevent %+v\nwant  %+v", v.ID, canon, got, want)
	}
	if got == nil {
		return
	}
	// The reference lists have their own arrays: appending to one must not change the other.
	_ = append(got.PrevEvents, "$appended")
	if !reflect.DeepEqual(got.AuthEvents, want.AuthEvents) {
		t.Fatalf("v%s %s: appending to PrevEvents changed the lists", v.ID, canon)
	}
}

// referenceInputs returns the events of the parse cases and of the signing bench corpus, and
// variants of them with one top-level member set to each of a list of values that are right or
// wrong for some field (wrong types, escapes, over-long IDs, too many references, odd signatures).
func referenceInputs(t testing.TB) (events, variants [][]byte) {
	var inputs [][]byte
	raw, err := os.ReadFile("../testdata/pdu/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Event json.RawMessage `json:"event"`
		Raw   *string         `json:"raw"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Raw != nil {
			inputs = append(inputs, []byte(*c.Raw))
		} else {
			inputs = append(inputs, c.Event)
		}
	}
	corpus, err := benchcorpus.Read(benchcorpus.Path)
	if err != nil {
		t.Fatal(err)
	}
	inputs = append(inputs, corpus.Events...)

	id := func(n int) string { return `"$` + strings.Repeat("a", n) + `:e.example"` }
	list := func(n int, item string) string {
		items := make([]string, n)
		for i := range items {
			items[i] = item
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	values := []string{
		`1`, `-1`, `0`, `9007199254740991`, `9007199254740992`, `1.5`, `true`, `null`, `"s"`, `""`,
		`"\u00e9\"\\\n"`, `"a\u0000b"`, `"$x:e.example"`, `"$x:"`, `"$\u0000:e.example"`, `"x"`,
		id(240), id(241), id(300), `"` + strings.Repeat(`\u00e9`, 128) + `"`, `"m.room.member"`,
		`"m.room.redaction"`, `"m.room.create"`, `{}`, `[]`, `{"sha256":"h"}`, `{"sha256":1}`,
		`{"sha256":"\u0068"}`, `{"a":1,"sha256":"x","z":2}`, `{"other":"h"}`, `[1]`, `["$a:e"]`,
		list(10, `"$a:e.example"`), list(11, `"$a:e.example"`), list(20, `"$a:e.example"`),
		list(21, `"$a:e.example"`), `[` + id(300) + `]`, `["$a:e",{}]`, `[["$a:e",{}]]`,
		`[["$a:e","h"]]`, `[["$a:e",1]]`, `[["$a:e"]]`, `[["$a:e",{},1]]`, `[[1,{}]]`, `[["$a\u00e9:e",{}],"x"]`,
		`{"e.example":{"ed25519:1":"sig"}}`, `{"e.example":{"ed25519:1":"sig","ed25519:2":"sig2"},"f.example":{}}`,
		`{"e.example":1}`, `{"e.example":{"k":1}}`, `{"e\"x":{"k\\y":"s\u00e9"}}`, `{"e\u0001x":{"k":"s"}}`,
		`{"a":{"1":"x"},"b":{"2":"y"},"c":{"3":"z"},"d":{"4":"w"},"e":{"5":"v","6":"u","7":"t","8":"s","9":"r"}}`,
		`{"membership":"join"}`, `{"membership":1}`, `{"membership":"\u006aoin"}`, `{"redacts":"$r:e.example"}`,
		`{"redacts":"\u0024r:e"}`, `{"redacts":1,"membership":"ban"}`, `{"a":{"membership":"x"}}`,
	}
	keys := []string{"event_id", "room_id", "sender", "type", "state_key", "content", "prev_events",
		"auth_events", "depth", "origin_server_ts", "origin", "redacts", "hashes", "signatures", "unsigned"}
	for _, in := range inputs {
		var m map[string]json.RawMessage
		if json.Unmarshal(in, &m) != nil {
			continue
		}
		for _, k := range keys {
			old, had := m[k]
			for _, val := range append(values, "") {
				if val == "" {
					delete(m, k)
				} else {
					m[k] = json.RawMessage(val)
				}
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				variants = append(variants, b)
			}
			if had {
				m[k] = old
			} else {
				delete(m, k)
			}
		}
	}
	return inputs, variants
}

// TestParseCanonicalMatchesReference: the fields and errors of every input and variant, in every
// room version, are those of the reference.
func TestParseCanonicalMatchesReference(t *testing.T) {
	events, variants := referenceInputs(t)
	n := 0
	for _, v := range roomversion.All() {
		for _, in := range events {
			sameAsReference(t, v, in)
			n++
		}
		// The variants in the versions whose formats differ: pairs and event_id, lenient
		// JSON, strict JSON, redacts in content, create events without room_id.
		if map[string]bool{"1": true, "3": true, "6": true, "11": true, "12": true}[v.ID] {
			for _, in := range variants {
				sameAsReference(t, v, in)
				n++
			}
		}
	}
	if testing.Verbose() {
		fmt.Println(n, "readings compared")
	}
}

// FuzzParseCanonicalMatchesReference: the same on arbitrary bytes.
func FuzzParseCanonicalMatchesReference(f *testing.F) {
	events, variants := referenceInputs(f)
	for i, in := range events {
		f.Add(uint8(i), in)
	}
	for i := 0; i < len(variants); i += 37 {
		f.Add(uint8(i), variants[i])
	}
	all := roomversion.All()
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		sameAsReference(t, all[int(sel)%len(all)], data)
	})
}

// TestNonSpaceOver: whitespace is not counted, and the answer is exact at the limit.
func TestNonSpaceOver(t *testing.T) {
	for _, c := range []struct {
		data  string
		limit int
		want  bool
	}{
		{"", 0, false},
		{"a", 0, true},
		{" \n\r\t", 0, false},
		{"ab", 2, false},
		{"a b c", 2, true},
		{" a \t b \n", 2, false},
		{"\x00\x0b\x0c", 2, true}, // other control characters are not JSON whitespace
		{"\u00a0", 1, true},       // nor is U+00A0 (two bytes)
	} {
		if got := nonSpaceOver([]byte(c.data), c.limit); got != c.want {
			t.Errorf("nonSpaceOver(%q, %d) = %v, want %v", c.data, c.limit, got, c.want)
		}
	}
}

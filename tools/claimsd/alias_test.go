package claimsd

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// withSpare returns a copy of b in a buffer with n bytes of spare capacity, all zero.
func withSpare(b []byte, n int) []byte {
	return append(make([]byte, 0, len(b)+n), b...)
}

// spareUntouched reports whether the spare capacity of buf is still all zero.
func spareUntouched(buf []byte) bool {
	return bytes.Count(buf[len(buf):cap(buf)], []byte{0}) == cap(buf)-len(buf)
}

// docs/decisions.md cross-package "Slices handed out are capped": "Every slice of an event's
// bytes that pdu hands out (Raw(), Content, Unsigned, a ContentField value) and every value
// canonicaljson.EachMember / EachElement pass has its capacity end with it, so that append on
// it allocates instead of writing into the event or the caller's buffer". EachMember's doc: "A
// value is a slice of data whose capacity ends with it"; EachElement's: "An element is a slice
// of data whose capacity ends with it".
func TestSlicesHandedOutAreCapped(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		r := buildRoom(t, id, "")
		// an event with unsigned, in canonical form, in a buffer with spare capacity
		base := r.msg.Raw()
		withUnsigned := bytes.Replace(base, []byte(`"type":`), []byte(`"type":`), 1)
		if !bytes.Contains(withUnsigned, []byte(`"unsigned"`)) {
			withUnsigned = bytes.Replace(base, []byte(`,"type":`), []byte(`,"type":`), 1)
			i := bytes.LastIndexByte(withUnsigned, '}')
			withUnsigned = append(append(append([]byte{}, withUnsigned[:i]...), `,"unsigned":{"age":5}`...), '}')
		}
		for _, p := range []struct {
			name  string
			parse func([]byte) (*pdu.Event, error)
		}{
			{"pdu.Parse", func(b []byte) (*pdu.Event, error) { return pdu.Parse(r.v, b) }},
			{"pdu.ParseIndexed", func(b []byte) (*pdu.Event, error) {
				return pdu.ParseIndexed(r.v, b, &canonicaljson.Index{})
			}},
			{"signing.ParseEvent", func(b []byte) (*pdu.Event, error) { return signing.ParseEvent(r.v, b) }},
		} {
			for _, form := range []string{"canonical", "indented"} {
				t.Run("v"+id+"/"+p.name+"/"+form, func(t *testing.T) {
					in := withUnsigned
					if form == "indented" {
						var ib bytes.Buffer
						if err := json.Indent(&ib, withUnsigned, "", "  "); err != nil {
							t.Fatal(err)
						}
						in = ib.Bytes()
					}
					buf := withSpare(in, 64)
					ev, err := p.parse(buf)
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range []struct {
						name string
						b    []byte
					}{
						{"Raw()", ev.Raw()}, {"Content", ev.Content}, {"Unsigned", ev.Unsigned},
						{"ContentField(body)", ev.ContentField("body")}, {"ContentField(msgtype)", ev.ContentField("msgtype")},
					} {
						if s.b == nil {
							t.Errorf("%s is nil", s.name)
							continue
						}
						if cap(s.b) != len(s.b) {
							t.Errorf("%s: len %d cap %d", s.name, len(s.b), cap(s.b))
						}
						raw := bytes.Clone(ev.Raw())
						_ = append(s.b, "XXXXXXXX"...)
						if !bytes.Equal(ev.Raw(), raw) || !spareUntouched(buf) {
							t.Errorf("append to %s wrote into the event or the caller's buffer", s.name)
						}
					}
				})
			}
		}
	}
	data := withSpare([]byte(`{"a":[1,"x",{"b":2}],"c":"d","e":{"f":[]}}`), 64)
	t.Run("EachMember", func(t *testing.T) {
		err := canonicaljson.EachMember(data, func(k string, v []byte) error {
			if cap(v) != len(v) {
				t.Errorf("%s: len %d cap %d", k, len(v), cap(v))
			}
			_ = append(v, "XXXX"...)
			return nil
		})
		if err != nil || string(data) != `{"a":[1,"x",{"b":2}],"c":"d","e":{"f":[]}}` || !spareUntouched(data) {
			t.Errorf("err %v, data %s", err, data)
		}
	})
	t.Run("EachElement", func(t *testing.T) {
		arr := withSpare([]byte(`[1,"x",{"b":2},[3]]`), 64)
		err := canonicaljson.EachElement(arr, func(v []byte) error {
			if cap(v) != len(v) {
				t.Errorf("%s: len %d cap %d", v, len(v), cap(v))
			}
			_ = append(v, "XXXX"...)
			return nil
		})
		if err != nil || string(arr) != `[1,"x",{"b":2},[3]]` || !spareUntouched(arr) {
			t.Errorf("err %v, data %s", err, arr)
		}
	})
}

// The same entry: "canonicaljson.Append / AppendIndexed and redaction.AppendSignedBytes* copy
// their input first when the spare capacity of dst overlaps it (Append(buf[:0], buf, ...)
// canonicalises in place)". Append's doc: "dst may share memory with data (Append(buf[:0],
// buf, opts) canonicalises buf in place)"; AppendSignedBytes's doc: "dst may share memory with
// canon: canon is then copied first".
func TestAppendInPlace(t *testing.T) {
	inputs := []string{
		`{"b":1, "a":[2,  3],"c":"\u00e9"}`,
		"{\n  \"z\": {\"y\": [1, 2, {\"x\": \"\\u0041\"}]},\n  \"a\": true\n}",
		`[1e2, 10E1, 0.5e1]`, // lenient: the output is longer than the input
		`"\ud83d\ude00 \u0000"`,
		`{"a":1}`, // already canonical
	}
	for i, in := range inputs {
		want, err := canonicaljson.Canonical([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		for _, c := range []struct {
			name string
			do   func(buf []byte, off, dstLen int) ([]byte, error)
		}{
			{"Append", func(buf []byte, off, dstLen int) ([]byte, error) {
				return canonicaljson.Append(buf[:dstLen], buf[off:], canonicaljson.Options{})
			}},
			{"AppendIndexed", func(buf []byte, off, dstLen int) ([]byte, error) {
				return canonicaljson.AppendIndexed(buf[:dstLen], buf[off:], canonicaljson.Options{}, &canonicaljson.Index{})
			}},
		} {
			// (offset of data in buf, len of dst): in place, data after a prefix, dst's spare
			// starting inside the prefix.
			for _, pos := range [][2]int{{0, 0}, {3, 3}, {3, 1}, {8, 2}} {
				name := c.name + "/" + string(rune('a'+i)) + "/" + strings.Repeat("+", pos[0]) + "/" + strings.Repeat("-", pos[1])
				t.Run(name, func(t *testing.T) {
					buf := append([]byte(strings.Repeat("P", pos[0])), in...)
					buf = withSpare(buf, 0)
					got, err := c.do(buf, pos[0], pos[1])
					if err != nil {
						t.Fatal(err)
					}
					wantAll := strings.Repeat("P", pos[1]) + string(want)
					if string(got) != wantAll {
						t.Errorf("got %q, want %q", got, wantAll)
					}
				})
			}
		}
	}
}

func TestAppendSignedBytesInPlace(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		r := buildRoom(t, id, "")
		raw := r.pl.Raw()
		want, err := redaction.AppendSignedBytes(nil, r.v, raw)
		if err != nil {
			t.Fatal(err)
		}
		idx := &canonicaljson.Index{}
		if _, err := canonicaljson.AppendIndexed(nil, raw, canonicaljson.Options{}, idx); err != nil {
			t.Fatal(err)
		}
		for _, pos := range [][2]int{{0, 0}, {4, 4}, {4, 1}} {
			prefix := strings.Repeat("P", pos[0])
			buf := append([]byte(prefix), raw...)
			got, err := redaction.AppendSignedBytes(buf[:pos[1]], r.v, buf[pos[0]:])
			if err != nil || string(got) != strings.Repeat("P", pos[1])+string(want) {
				t.Errorf("v%s AppendSignedBytes %v: %v\n got %s\nwant %s", id, pos, err, got, want)
			}
			buf = append([]byte(prefix), raw...)
			got, err = redaction.AppendSignedBytesIndexed(buf[:pos[1]], r.v, buf[pos[0]:], idx)
			if err != nil || string(got) != strings.Repeat("P", pos[1])+string(want) {
				t.Errorf("v%s AppendSignedBytesIndexed %v: %v\n got %s\nwant %s", id, pos, err, got, want)
			}
		}
	}
}

// Append's doc: "On error it returns dst unchanged (its first len(dst) bytes are untouched)"
// and "Append(buf[:0], buf, opts) canonicalises buf in place". In place, dst has length 0, so
// the first sentence promises nothing about buf, which is also the caller's input: an Append
// in place that fails has overwritten part of the input. The text does not say so.
func TestAppendInPlaceErrorKeepsInput(t *testing.T) {
	for _, in := range []string{`{"b": 1, "a": [1, 2], "c": tru}`, `[1, 2, 3, {"x": "y"}, 1.5e]`} {
		buf := []byte(in)
		_, err := canonicaljson.Append(buf[:0], buf, canonicaljson.Options{})
		if err == nil {
			t.Fatalf("%s: no error", in)
		}
		if string(buf) != in { // finding D9, fixed: the output is made apart in place
			t.Errorf("failed in-place Append left the input %q, was %q", buf, in)
		}
	}
}

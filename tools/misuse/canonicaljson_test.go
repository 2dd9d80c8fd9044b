package misuse

import (
	"bytes"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

func TestCanonicalJSON(t *testing.T) {
	canon := []byte(`{"a":1,"b":{"c":[1,2]}}`)
	noncanon := []byte(`{ "b":{"c":[1,2]}, "a":1 }`)
	runProbes(t, []probe{
		{"Canonical/input-not-modified", "", func(t *testing.T) {
			for _, in := range [][]byte{canon, noncanon} {
				in = clone(in)
				keep := clone(in)
				if _, err := canonicaljson.Canonical(in); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(in, keep) {
					t.Fatalf("input modified: %s", in)
				}
			}
		}},
		{"Canonical/result-independent-of-canonical-input", "", func(t *testing.T) {
			// Append "appends to dst ... and returns the extended buffer": with dst nil
			// the result is a new buffer, so the caller reusing data must not change it.
			in := clone(canon)
			out, err := canonicaljson.Canonical(in)
			if err != nil {
				t.Fatal(err)
			}
			scribble(in)
			if !bytes.Equal(out, canon) {
				t.Fatalf("result aliases input: %s", out)
			}
		}},
		{"Append/append-on-result-does-not-clobber-input", "", func(t *testing.T) {
			buf := append(clone(canon), `trailing`...)
			in := buf[:len(canon)]
			out, err := canonicaljson.Append(nil, in, canonicaljson.Options{})
			if err != nil {
				t.Fatal(err)
			}
			_ = append(out, 'Z')
			if string(buf[len(canon):]) != "trailing" {
				t.Fatalf("append on result wrote into the caller's buffer: %s", buf)
			}
		}},
		{"Append/dst-prefix-kept", "", func(t *testing.T) {
			dst := []byte("prefix:")
			out, err := canonicaljson.Append(dst, noncanon, canonicaljson.Options{})
			if err != nil || string(out) != `prefix:{"a":1,"b":{"c":[1,2]}}` {
				t.Fatalf("%s %v", out, err)
			}
		}},
		{"Append/error-leaves-dst", "", func(t *testing.T) {
			dst := make([]byte, 3, 64)
			copy(dst, "abc")
			out, err := canonicaljson.Append(dst, []byte(`{"a":1,"b":`), canonicaljson.Options{})
			if err == nil || string(out) != "abc" || string(dst[:3]) != "abc" {
				t.Fatalf("%q %v", out, err)
			}
		}},
		{"Append/in-place-dst-is-data", "", func(t *testing.T) {
			// A caller canonicalising a buffer into itself: Append(buf[:0], buf).
			// The docs are silent; the expected answer is either the right bytes or
			// a documented refusal, never silently wrong output.
			buf := clone(noncanon)
			out, err := canonicaljson.Append(buf[:0], buf, canonicaljson.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != `{"a":1,"b":{"c":[1,2]}}` {
				t.Fatalf("in-place canonicalisation gives %s", out)
			}
		}},
		{"AppendIndexed/index-reuse-after-error", "", func(t *testing.T) {
			var idx canonicaljson.Index
			if _, err := canonicaljson.AppendIndexed(nil, []byte(`{"z":1,"y":{"x":2}}`), canonicaljson.Options{}, &idx); err != nil {
				t.Fatal(err)
			}
			if _, err := canonicaljson.AppendIndexed(nil, []byte(`{"a":1,"b":`), canonicaljson.Options{}, &idx); err == nil {
				t.Fatal("no error")
			}
			out, err := canonicaljson.AppendIndexed(nil, []byte(`{"b":2,"a":1}`), canonicaljson.Options{}, &idx)
			if err != nil {
				t.Fatal(err)
			}
			if len(idx.Members) != 2 || len(idx.Nested) != 0 || string(idx.Members[0].Key(out)) != "a" || string(out[idx.Members[1].Value:idx.Members[1].End]) != "2" {
				t.Fatalf("stale index: %+v", idx)
			}
		}},
		{"AppendIndexed/index-of-non-object-is-empty", "", func(t *testing.T) {
			var idx canonicaljson.Index
			canonicaljson.AppendIndexed(nil, []byte(`{"a":{"b":1}}`), canonicaljson.Options{}, &idx)
			if _, err := canonicaljson.AppendIndexed(nil, []byte(`[1,2]`), canonicaljson.Options{}, &idx); err != nil {
				t.Fatal(err)
			}
			if len(idx.Members) != 0 || len(idx.Nested) != 0 {
				t.Fatalf("index of an array holds %+v", idx)
			}
		}},
		{"Index/Reset-zero-and-nil-safe", "", func(t *testing.T) {
			var idx canonicaljson.Index
			idx.Reset()
			if _, err := canonicaljson.AppendIndexed(nil, canon, canonicaljson.Options{}, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"Member.Key/out-of-range-member", "", func(t *testing.T) {
			// A Member used with another output than its own: documented as out's
			// slice; a zero Member on an empty out should not panic? It is a plain
			// slice expression, so it may panic like any out-of-range slice.
			m := canonicaljson.Member{Start: 0, Value: 4, End: 5}
			if string(m.Key([]byte(`"a":1`))) != "a" {
				t.Fatal("wrong key")
			}
		}},
		{"EachMember/nil-and-empty", "", func(t *testing.T) {
			for _, in := range [][]byte{nil, {}} {
				err := canonicaljson.EachMember(in, func(string, []byte) error { return nil })
				var se *canonicaljson.SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("EachMember(%q) = %v", in, err)
				}
			}
		}},
		{"Valid/nil", "", func(t *testing.T) {
			if err := canonicaljson.Valid(nil, canonicaljson.Options{}); !errors.Is(err, canonicaljson.ErrSyntax) {
				t.Fatal(err)
			}
		}},
		{"Marshal/nil-and-typed-nil", "", func(t *testing.T) {
			out, err := canonicaljson.Marshal(nil)
			if err != nil || string(out) != "null" {
				t.Fatalf("%s %v", out, err)
			}
			var m map[string]int
			out, err = canonicaljson.Marshal(m)
			if err != nil || string(out) != "null" {
				t.Fatalf("%s %v", out, err)
			}
		}},
		{"Unquote/nil", "", func(t *testing.T) {
			if _, err := canonicaljson.Unquote(nil); err == nil {
				t.Fatal("no error")
			}
		}},
	})
}

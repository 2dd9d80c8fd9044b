package canonicaljson_test

import (
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

// TestAppendInPlace: Append and AppendIndexed into the memory of their own input give the
// canonical form, as into a fresh buffer (docs/decisions.md, Cross-package "Slices handed out
// are capped; Append functions may write over their input"; tools/misuse M1).
func TestAppendInPlace(t *testing.T) {
	const in = `{ "b":{"c":[1,2], "a":"\u00e9"}, "a":1 }`
	const want = `{"a":1,"b":{"a":"é","c":[1,2]}}`
	for _, strict := range []bool{false, true} {
		buf := []byte(in)
		out, err := canonicaljson.Append(buf[:0], buf, canonicaljson.Options{Strict: strict})
		if err != nil || string(out) != want {
			t.Errorf("Append in place (strict %v) = %s, %v; want %s", strict, out, err, want)
		}
		buf = []byte(in)
		var idx canonicaljson.Index
		out, err = canonicaljson.AppendIndexed(buf[:0], buf, canonicaljson.Options{Strict: strict}, &idx)
		if err != nil || string(out) != want || len(idx.Members) != 2 {
			t.Errorf("AppendIndexed in place (strict %v) = %s, %v, %d members", strict, out, err, len(idx.Members))
		}
		// dst's written part before the input: the output follows it.
		buf = append([]byte("xx"), in...)
		out, err = canonicaljson.Append(buf[:2], buf[2:], canonicaljson.Options{Strict: strict})
		if err != nil || string(out) != "xx"+want {
			t.Errorf("Append after a prefix = %s, %v", out, err)
		}
	}
}

// TestAppendInPlaceErrorLeavesInput: an error of Append or AppendIndexed in place leaves the
// input as it was, and the index of an in-place AppendIndexed after a prefix points into the
// returned slice.
func TestAppendInPlaceErrorLeavesInput(t *testing.T) {
	const bad = `{ "b":{"c":[1,2]}, "a":1, }`
	buf := []byte(bad)
	if _, err := canonicaljson.Append(buf[:0], buf, canonicaljson.Options{}); err == nil || string(buf) != bad {
		t.Errorf("Append in place of bad input: %v; input now %s", err, buf)
	}
	var idx canonicaljson.Index
	if _, err := canonicaljson.AppendIndexed(buf[:0], buf, canonicaljson.Options{}, &idx); err == nil || string(buf) != bad {
		t.Errorf("AppendIndexed in place of bad input: %v; input now %s", err, buf)
	}
	buf = append([]byte("xx"), `{ "b":1, "a":2 }`...)
	out, err := canonicaljson.AppendIndexed(buf[:2], buf[2:], canonicaljson.Options{}, &idx)
	if err != nil || string(out) != `xx{"a":2,"b":1}` {
		t.Fatalf("AppendIndexed after a prefix = %s, %v", out, err)
	}
	if len(idx.Members) != 2 || string(idx.Members[0].Key(out)) != "a" || string(out[idx.Members[1].Value:idx.Members[1].End]) != "1" {
		t.Errorf("index %+v does not point into %s", idx.Members, out)
	}
}

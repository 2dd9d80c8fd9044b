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

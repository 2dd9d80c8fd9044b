package signing

import (
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

// stripReference is appendStripped written with canonicaljson.EachMember: the members of the
// canonical object canon, except those named by mask, re-encoded.
func stripReference(tb testing.TB, canon []byte, mask int) []byte {
	out := []byte{'{'}
	err := canonicaljson.EachMember(canon, func(key string, value []byte) error {
		if dropped(key, mask) {
			return nil
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = appendKey(out, key)
		out = append(out, ':')
		out = append(out, value...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return append(out, '}')
}

// appendKey writes key, as EachMember decoded it, back in canonical form: AppendString, except
// that the three-byte WTF-8 form EachMember gives an unpaired surrogate escape (room versions 1-5)
// is written as that escape again, in lowercase, as canonicaljson's lenient output has it.
func appendKey(dst []byte, key string) []byte {
	dst = append(dst, '"')
	plain := func(s string) {
		q := canonicaljson.AppendString(nil, s)
		dst = append(dst, q[1:len(q)-1]...)
	}
	start := 0
	for i := 0; i+3 <= len(key); i++ {
		if key[i] == 0xed && key[i+1] >= 0xa0 && key[i+1] <= 0xbf {
			plain(key[start:i])
			dst = fmt.Appendf(dst, `\u%04x`, rune(key[i]&0x0f)<<12|rune(key[i+1]&0x3f)<<6|rune(key[i+2]&0x3f))
			i += 2
			start = i + 1
		}
	}
	plain(key[start:])
	return append(dst, '"')
}

// checkStrip compares appendStripped, and appendStrippedIndexed with canonicaljson's index of
// canon, with the reference for every mask.
func checkStrip(tb testing.TB, canon []byte) {
	var idx canonicaljson.Index
	if again, err := canonicaljson.AppendIndexed(nil, canon, canonicaljson.Options{}, &idx); err != nil || string(again) != string(canon) {
		tb.Fatalf("%s is not canonical: %v", canon, err)
	}
	for mask := 0; mask < 8; mask++ {
		got, sigs, err := appendStripped(nil, canon, mask)
		if err != nil {
			tb.Fatalf("appendStripped(%s): %v", canon, err)
		}
		want := stripReference(tb, canon, mask)
		if string(got) != string(want) {
			tb.Fatalf("appendStripped(%s, %d) = %s, want %s", canon, mask, got, want)
		}
		got, sigs2 := appendStrippedIndexed([]byte("dst"), canon, &idx, mask)
		if string(got) != "dst"+string(want) || string(sigs2) != string(sigs) || (sigs == nil) != (sigs2 == nil) {
			tb.Fatalf("appendStrippedIndexed(%s, %d) = %s, %s; want %s, %s", canon, mask, got, sigs2, want, sigs)
		}
	}
}

func TestAppendStripped(t *testing.T) {
	for _, in := range []string{
		`{}`,
		`{"signatures":{}}`,
		`{"a":1,"hashes":{"sha256":"x"},"signatures":{"s":{"k":"v"}},"unsigned":{"a":[1,{"b":"}"}]}}`,
		`{"a":"\"","b":"\\","c":"\\\"","d":"\\\\","hashes":"]}","z":[[],[[]],{}]}`,
		`{"a":"q\\\\\\\"}","signatures":-1,"unsigned":null,"zz":true}`,
		`{"content":{"body":"x\",\"signatures\":{"},"signatures":{"a":{"b":"c"}},"type":"m"}`,
		`{"a":[1,2,{"x":[3,"]"]}],"b":false,"unsigned":12345678901234567890}`,
		`{"hashes":1}`,
		`{"é":"日本","😀":"\u0000"}`,
		`{"\ud800":{},"a\udbffb\ud7ff\udc00":1,"hashes":{"\udfff":"x"}}`, // unpaired surrogates (lenient)
	} {
		canon, err := canonicaljson.Canonical([]byte(in))
		if err != nil {
			t.Fatal(in, err)
		}
		checkStrip(t, canon)
	}
	for _, bad := range []string{``, `{`, `[]`, `{"a":1`, `{"a"}`, `{"a":"x}`, `{"a":1}x`, `{"a":[}`} {
		if _, _, err := appendStripped(nil, []byte(bad), 7); err == nil {
			t.Errorf("appendStripped(%s) succeeded", bad)
		}
	}
	c := loadCorpus(t)
	for _, e := range c.Events {
		canon, _ := canonicaljson.Canonical(e)
		checkStrip(t, canon)
	}
}

package claimsg

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// The sixteenth session also changed how strings are scanned (plainMask, eight bytes at a time)
// and how base64 is decoded (decodeBase64, eight characters at a time), under BENCHMARKS.md's
// "no verdict, error or error order changed". These tests check both through the public API at
// every alignment against references written here from the spec's rules.

// stringCase is a JSON string body (the text between the quotes) and its canonical form, or
// "" with bad true when the text is not a valid JSON string.
type stringCase struct {
	text, canon string
	bad         bool
}

// canonEscape is the canonical form of one code point r in a string (appendices "Canonical
// JSON": shortest escapes, \uXXXX lowercase for the other control characters, the rest as
// UTF-8).
func canonEscape(r rune) string {
	switch r {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	}
	if r < 0x20 {
		return fmt.Sprintf(`\u%04x`, r)
	}
	return string(r)
}

// stringCases puts each of many units (every raw byte, every \u00XX escape, the short escapes,
// multi-byte UTF-8 and broken sequences) at positions 0 to 17 of a 24-character ASCII string,
// so that it falls at every place of the eight-byte blocks the scanner reads.
func stringCases() []stringCase {
	type unit struct {
		text, canon string
		bad         bool
	}
	var units []unit
	for b := range 256 {
		s := string([]byte{byte(b)})
		switch {
		case b < 0x20, b == '"', b == '\\', b >= 0x80:
			units = append(units, unit{s, "", true})
		default:
			units = append(units, unit{s, s, false})
		}
		units = append(units, unit{fmt.Sprintf(`\u%04x`, b), canonEscape(rune(b)), false},
			unit{fmt.Sprintf(`\u%04X`, b), canonEscape(rune(b)), false})
	}
	for _, e := range []string{`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`} {
		r := map[string]rune{`\"`: '"', `\\`: '\\', `\/`: '/', `\b`: '\b', `\f`: '\f', `\n`: '\n', `\r`: '\r', `\t`: '\t'}[e]
		units = append(units, unit{e, canonEscape(r), false})
	}
	for _, s := range []string{"é", "€", "😀", "\u2028", "\u007f", "\U0010ffff", `\u00e9`, `\u20ac`, `\ud83d\ude00`, `\u2028`} {
		canon := s
		if strings.HasPrefix(s, `\u`) {
			var r []rune
			for _, part := range strings.Split(s[2:], `\u`) {
				var x rune
				fmt.Sscanf(part, "%x", &x)
				r = append(r, x)
			}
			if len(r) == 2 {
				r = []rune{(r[0]-0xd800)<<10 + (r[1] - 0xdc00) + 0x10000}
			}
			canon = string(r)
		}
		units = append(units, unit{s, canon, false})
	}
	for _, s := range []string{"\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", `\x`, `\u12`, `\u00g0`} {
		units = append(units, unit{s, "", true})
	}
	var out []stringCase
	for _, u := range units {
		for p := range 18 {
			pre, post := strings.Repeat("a", p), strings.Repeat("x", 24-p) // no escape letter after a '\\'

			if u.bad {
				out = append(out, stringCase{pre + u.text + post, "", true})
			} else {
				out = append(out, stringCase{pre + u.text + post, pre + u.canon + post, false})
			}
		}
	}
	return out
}

// TestStringScanAtEveryAlignment: every unit of stringCases at every position, in a key and in a
// value, strict and lenient, through CanonicalIndexed (the checker's fast path) and Append: valid
// strings come out in the reference's canonical form (and same exactly when the text is already
// canonical, with no escaped key), invalid ones are errors (ErrInvalidUTF8 for broken UTF-8).
func TestStringScanAtEveryAlignment(t *testing.T) {
	var idx canonicaljson.Index
	n := 0
	for _, c := range stringCases() {
		for _, where := range []string{"value", "key"} {
			data := []byte(`{"k":"` + c.text + `"}`)
			want := `{"k":"` + c.canon + `"}`
			if where == "key" {
				data = []byte(`{"` + c.text + `":1}`)
				want = `{"` + c.canon + `":1}`
			}
			for _, strict := range []bool{true, false} {
				opts := canonicaljson.Options{Strict: strict}
				out, same, err := canonicaljson.CanonicalIndexed(nil, data, opts, &idx)
				app, aerr := canonicaljson.Append(nil, data, opts)
				if errKey(err) != errKey(aerr) || !bytes.Equal(out, app) {
					t.Fatalf("%q: CanonicalIndexed %q %v, Append %q %v", data, out, err, app, aerr)
				}
				if c.bad {
					if err == nil {
						t.Fatalf("%q (%s, strict %v) is accepted: %q", data, where, strict, out)
					}
					if !utf8.ValidString(c.text) && !strings.ContainsAny(c.text, "\"\\") && !errors.Is(err, canonicaljson.ErrInvalidUTF8) {
						t.Fatalf("%q: %v, not ErrInvalidUTF8", data, err)
					}
					continue
				}
				if err != nil || string(out) != want {
					t.Fatalf("%q (%s, strict %v): %q %v, want %q", data, where, strict, out, err, want)
				}
				if canonical := string(data) == want; same != (canonical && !(where == "key" && strings.Contains(c.canon, `\`))) {
					t.Fatalf("%q (%s): same %v", data, where, same)
				}
				n++
			}
		}
	}
	if n < 30000 {
		t.Fatalf("only %d", n)
	}
}

// base64Case is a signature text and what decodeBase64 must read it as (the spec's unpadded
// base64 and the tolerances its doc lists), by the reference below.
func refBase64(s string) ([]byte, bool) {
	pad := 0
	for pad < 2 && len(s) > pad && s[len(s)-1-pad] == '=' {
		pad++
	}
	body := s[:len(s)-pad]
	if pad > 0 {
		if r := len(body) % 4; r < 2 || pad > 4-r {
			return nil, false
		}
	}
	if len(body) > 96 || strings.ContainsAny(body, "\r\n=") {
		return nil, false
	}
	body = strings.NewReplacer("-", "+", "_", "/").Replace(body)
	b, err := base64.RawStdEncoding.DecodeString(body)
	return b, err == nil
}

// TestSignatureBase64AtEveryPosition: an event's signature changed at each of its 86 positions to
// each of 24 characters (both alphabets, '=', characters outside base64, a non-ASCII letter, a
// line break), and cut, padded and lengthened: VerifyEvent answers exactly as the reference
// decoding says: the base64 of other than 64 bytes is "not the base64 of 64 bytes", other bytes
// do not verify, the same bytes (a change in the last character's unused bits, the other
// alphabet's character for the same value) verify.
func TestSignatureBase64AtEveryPosition(t *testing.T) {
	v := claimkit.Ver(t, "10")
	e := synth(t, v, shape{prev: 1, auth: 1}, 1)
	signed, err := signing.SignEvent(v, e, "a.example", authfixture.Key("a.example"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := pdu.Parse(v, signed)
	if err != nil {
		t.Fatal(err)
	}
	var sig string
	for _, s := range ev.Signatures {
		if s.Server == "a.example" {
			sig = s.Value
		}
	}
	orig, _ := refBase64(sig)
	if len(sig) != 86 || len(orig) != 64 {
		t.Fatalf("signature %q", sig)
	}
	if err := signing.VerifyEvent(v, signed, ring); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for p := range len(sig) {
		for _, c := range []string{"A", "B", "Q", "g", "w", "z", "0", "9", "+", "/", "-", "_", "=", "!", ".", "~", " ", "é", "\n", "*", "@", "[", "{", string(sig[p])} {
			texts = append(texts, sig[:p]+c+sig[p+1:])
		}
		texts = append(texts, sig[:p], sig[:p]+sig[p+1:])
	}
	texts = append(texts, sig+"=", sig+"==", sig+"===", sig+"A", sig+"AA", sig+"AAA", sig+"AAAA",
		sig+strings.Repeat("A", 10), strings.NewReplacer("+", "-", "/", "_").Replace(sig), "", "=", "==")
	kinds := map[string]int{}
	for _, text := range texts {
		data := bytes.Replace(signed, []byte(`"`+sig+`"`), canonicaljson.AppendString(nil, text), 1)
		got := signing.VerifyEvent(v, data, ring)
		b, ok := refBase64(text)
		var want string
		switch {
		case !ok || len(b) != 64:
			want = "signature is not the base64 of 64 bytes"
		case !bytes.Equal(b, orig):
			want = "signature does not verify"
		}
		var ve *signing.VerificationError
		if want == "" && got != nil || want != "" && (!errors.As(got, &ve) || ve.Detail != want || ve.Err != signing.ErrBadSignature || ve.Server != "a.example") {
			t.Fatalf("signature %q: %v; want %q", text, got, want)
		}
		kinds[want]++
	}
	t.Logf("%d signatures: %v", len(texts), kinds)
	if len(kinds) != 3 || kinds[""] < 40 {
		t.Fatalf("kinds %v", kinds)
	}
}

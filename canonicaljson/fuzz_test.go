package canonicaljson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/roomproto/roomproto/canonicaljson"
)

// addSeeds seeds a fuzz target with every fixture input and a few generated
// documents; testdata/fuzz/<target>/ holds more.
func addSeeds(f *testing.F) {
	for _, c := range loadSpecExamples(f) {
		f.Add([]byte(c.Input))
	}
	for _, c := range loadCases(f) {
		f.Add(c.input(f))
	}
	f.Add(messageEvent())
	f.Add(powerLevelsEvent())
	g := newDocGen(7)
	for i := 0; i < 20; i++ {
		doc, _ := g.doc()
		f.Add(doc)
	}
}

// checkErr asserts that err is a *SyntaxError with a known sentinel and an
// offset inside the input.
func checkErr(t *testing.T, err error, n int) *canonicaljson.SyntaxError {
	t.Helper()
	var se *canonicaljson.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *SyntaxError", err, err)
	}
	known := false
	for _, s := range sentinels {
		known = known || se.Err == s
	}
	if !known {
		t.Fatalf("error %v carries an unknown sentinel", err)
	}
	if se.Offset < 0 || se.Offset > int64(n) {
		t.Fatalf("error offset %d outside the input of %d bytes", se.Offset, n)
	}
	return se
}

func FuzzCanonical(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lenient, lerr := canonicaljson.Canonical(data)
		strict, serr := canonicaljson.CanonicalStrict(data)

		// Valid agrees with Append, error for error.
		for _, c := range []struct {
			err  error
			opts canonicaljson.Options
		}{{lerr, canonicaljson.Options{}}, {serr, canonicaljson.Options{Strict: true}}} {
			verr := canonicaljson.Valid(data, c.opts)
			if (verr == nil) != (c.err == nil) {
				t.Fatalf("Valid(%+v) = %v, Append error %v", c.opts, verr, c.err)
			}
			if verr != nil {
				a, b := checkErr(t, verr, len(data)), checkErr(t, c.err, len(data))
				if a.Err != b.Err || a.Offset != b.Offset {
					t.Fatalf("Valid error %v differs from Append error %v", verr, c.err)
				}
			}
		}

		if lerr == nil {
			// Accepted JSON is JSON, and the output is a fixed point.
			if !json.Valid(data) || !json.Valid(lenient) {
				t.Fatalf("accepted %q (output %q) that encoding/json refuses", data, lenient)
			}
			again, err := canonicaljson.Canonical(lenient)
			if err != nil || !bytes.Equal(again, lenient) {
				t.Fatalf("not a fixed point: %q -> %q -> %q, %v", data, lenient, again, err)
			}
			if !utf8.Valid(lenient) {
				t.Fatalf("output %q is not UTF-8", lenient)
			}
		} else if json.Valid(data) && utf8.Valid(data) && !errors.Is(lerr, canonicaljson.ErrTooDeep) {
			// What is JSON and UTF-8 is refused only for its depth.
			t.Fatalf("lenient refused valid JSON %q: %v", data, lerr)
		}

		if serr == nil {
			// Strict acceptance implies lenient acceptance with the same output,
			// a strict fixed point, and agreement with encoding/json.
			if lerr != nil || !bytes.Equal(strict, lenient) {
				t.Fatalf("strict %q, %v but lenient %q, %v", strict, serr, lenient, lerr)
			}
			again, err := canonicaljson.CanonicalStrict(strict)
			if err != nil || !bytes.Equal(again, strict) {
				t.Fatalf("not a strict fixed point: %q -> %q, %v", strict, again, err)
			}
			if ref, err := referenceCanonical(data); err != nil || !bytes.Equal(ref, strict) {
				t.Fatalf("strict output %q, reference %q, %v", strict, ref, err)
			}
		} else if lerr == nil {
			// Strict refuses accepted JSON only for a strict rule.
			se := checkErr(t, serr, len(data))
			switch se.Err {
			case canonicaljson.ErrFloat, canonicaljson.ErrNegativeZero, canonicaljson.ErrIntegerRange,
				canonicaljson.ErrDuplicateKey, canonicaljson.ErrLoneSurrogate:
			default:
				t.Fatalf("lenient accepts %q but strict says %v", data, serr)
			}
		}

		// Append keeps dst and appends exactly the output.
		dst := []byte("dst")
		out, err := canonicaljson.Append(dst, data, canonicaljson.Options{})
		if (err == nil) != (lerr == nil) || !bytes.Equal(out, append([]byte("dst"), lenient...)) {
			t.Fatalf("Append(dst) = %q, %v", out, err)
		}
	})
}

func FuzzEachMember(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		type kv struct {
			key   string
			value []byte
		}
		var members []kv
		err := canonicaljson.EachMember(data, func(key string, value []byte) error {
			if !validWTF8(key) {
				t.Fatalf("key %q is not UTF-8 with WTF-8 surrogates", key)
			}
			if err := canonicaljson.Valid(value, canonicaljson.Options{}); err != nil {
				t.Fatalf("value %q of %q is not valid: %v", value, key, err)
			}
			if len(value) == 0 || value[0] == ' ' || value[len(value)-1] == ' ' {
				t.Fatalf("value %q is not trimmed", value)
			}
			members = append(members, kv{key, value})
			return nil
		})
		canon, cerr := canonicaljson.Canonical(data)
		isObject := canonicaljson.KindOf(data) == canonicaljson.Object
		if err != nil {
			checkErr(t, err, len(data))
			if cerr == nil && isObject {
				t.Fatalf("EachMember refused %q that Canonical accepts: %v", data, err)
			}
			return
		}
		if cerr != nil || !isObject {
			t.Fatalf("EachMember accepted %q; Canonical: %v, kind %v", data, cerr, canonicaljson.KindOf(data))
		}
		// Rebuilding the object from the members gives the same canonical
		// form (when no key had an unpaired surrogate, which EachMember gives
		// as WTF-8 bytes that AppendString does not write back).
		if _, serr := canonicaljson.CanonicalStrict(data); serr != nil {
			return
		}
		rebuilt := []byte{'{'}
		for i, m := range members {
			if i > 0 {
				rebuilt = append(rebuilt, ',')
			}
			rebuilt = canonicaljson.AppendString(rebuilt, m.key)
			rebuilt = append(rebuilt, ':')
			rebuilt = append(rebuilt, m.value...)
		}
		rebuilt = append(rebuilt, '}')
		got, err := canonicaljson.CanonicalStrict(rebuilt)
		if err != nil || !bytes.Equal(got, canon) {
			t.Fatalf("rebuilt %q: %q, %v; want %q", rebuilt, got, err, canon)
		}
	})
}

// validWTF8 reports whether s is UTF-8 except for surrogates in their three-byte
// generalised form (ED A0..BF 80..BF), which is what Unquote and EachMember
// make of unpaired surrogate escapes.
func validWTF8(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			if i+3 > len(s) || s[i] != 0xed || s[i+1] < 0xa0 || s[i+1] > 0xbf || s[i+2]&0xc0 != 0x80 {
				return false
			}
			n = 3
		}
		i += n
	}
	return true
}

package canonicaljson

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestMutationDuplicateKeyMessage: the error for a duplicate key quotes at most 64 bytes of
// the key, then "...".
func TestMutationDuplicateKeyMessage(t *testing.T) {
	tests := []struct {
		mutant string
		key    string
		want   string
	}{
		{"canonicaljson/canonical.go:599 '64' -> '65' (65 bytes: cut)", strings.Repeat("k", 65), `duplicate key "` + strings.Repeat("k", 64) + `"... in object`},
		{"(64 bytes: whole)", strings.Repeat("k", 64), `duplicate key "` + strings.Repeat("k", 64) + `" in object`},
	}
	for _, tt := range tests {
		_, err := CanonicalStrict([]byte(`{"` + tt.key + `":1,"` + tt.key + `":2}`))
		if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want ErrDuplicateKey with %q", tt.mutant, err, tt.want)
		}
	}
}

// TestMutationLeadingZeroFastPath: a number with a leading zero followed by seven more bytes
// (the eight-byte fast path of the canonical check) is not canonical JSON, nor JSON.
func TestMutationLeadingZeroFastPath(t *testing.T) {
	// canonicaljson/check.go:106 '1' -> '2' ("01" taken as a canonical number)
	for _, in := range []string{"[01,0,0,0,0]", "[-01,0,0,0,0]", "[0012345,0]"} {
		for name, f := range map[string]func([]byte) ([]byte, error){"Canonical": Canonical, "CanonicalStrict": CanonicalStrict} {
			out, err := f([]byte(in))
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("%s(%s) = %q, %v; want ErrSyntax", name, in, out, err)
			}
		}
	}
}

// TestMutationErrorMessages: exact error texts the other tests did not pin.
func TestMutationErrorMessages(t *testing.T) {
	tests := []struct {
		mutant string
		in     string
		want   string
	}{
		{"canonicaljson/errors.go:98 '0x7f' -> '128' (DEL is a byte, not a character)", "\x7f",
			"canonicaljson: invalid character byte 0x7f looking for beginning of value at offset 0"},
		{"(the last printable ASCII byte)", "~",
			"canonicaljson: invalid character '~' looking for beginning of value at offset 0"},
		{"canonicaljson/number.go:207 '40' -> '41' (a 41-byte token is cut to 40)", strings.Repeat("9", 41),
			"canonicaljson: integer " + strings.Repeat("9", 40) + "... is outside [-(2**53)+1, (2**53)-1] at offset 0"},
		{"(a 40-byte token is whole)", strings.Repeat("9", 40),
			"canonicaljson: integer " + strings.Repeat("9", 40) + " is outside [-(2**53)+1, (2**53)-1] at offset 0"},
	}
	for _, tt := range tests {
		_, err := CanonicalStrict([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: %v, want %s", tt.mutant, err, tt.want)
		}
	}
}

// TestMutationHardMaxDepth (round two, /work/logs/audit-mutation2.md): a MaxDepth above
// HardMaxDepth means exactly 4096 levels.
// canonicaljson/canonical.go:48 '4096' -> '4097'
func TestMutationHardMaxDepth(t *testing.T) {
	deep := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	for _, strict := range []bool{false, true} {
		opts := Options{Strict: strict, MaxDepth: 100000}
		if out, err := Append(nil, deep(4096), opts); err != nil || len(out) != 2*4096 {
			t.Errorf("strict=%v, depth 4096: %v", strict, err)
		}
		if _, err := Append(nil, deep(4097), opts); !errors.Is(err, ErrTooDeep) {
			t.Errorf("strict=%v, depth 4097: %v, want ErrTooDeep", strict, err)
		}
	}
}

// TestMutationCheckerKeys: object keys in the canonical check (the fast path for input that is
// already canonical).
func TestMutationCheckerKeys(t *testing.T) {
	// canonicaljson/check.go:283 '8' -> '7' (the prefix of a 7-byte key kept its closing
	// quote, 0x22, so "abcdefg!" (0x21) seemed to sort before "abcdefg")
	for in, want := range map[string]string{
		`{"abcdefg!":1,"abcdefg":2}`:         `{"abcdefg":2,"abcdefg!":1}`,
		`{"x":{"abcdefg!":1,"abcdefg":2}}`:   `{"x":{"abcdefg":2,"abcdefg!":1}}`,
		`{"abcdefg":2,"abcdefg!":1}`:         `{"abcdefg":2,"abcdefg!":1}`,
		`{"abcdefg ":1,"abcdefg":2,"b":[0]}`: `{"abcdefg":2,"abcdefg ":1,"b":[0]}`,
	} {
		for name, f := range map[string]func([]byte) ([]byte, error){"Canonical": Canonical, "CanonicalStrict": CanonicalStrict} {
			if out, err := f([]byte(in)); err != nil || string(out) != want {
				t.Errorf("%s(%s) = %s, %v; want %s", name, in, out, err, want)
			}
		}
	}
}

// TestMutationIndexReset: Reset keeps the memory of an Index with room for 1,024 members in
// all, and lets go of a larger one (documented on Reset).
// canonicaljson/index.go:43 '1024' -> '1023'
func TestMutationIndexReset(t *testing.T) {
	idx := Index{Members: make([]Member, 3, 1000), Nested: make([]Member, 0, 24)}
	idx.Reset()
	if len(idx.Members) != 0 || cap(idx.Members) != 1000 || cap(idx.Nested) != 24 {
		t.Errorf("1,024 members of room: Members %d/%d, Nested cap %d; want 0/1000, 24", len(idx.Members), cap(idx.Members), cap(idx.Nested))
	}
	idx = Index{Members: make([]Member, 0, 1000), Nested: make([]Member, 0, 25)}
	idx.Reset()
	if cap(idx.Members) != 0 || cap(idx.Nested) != 0 {
		t.Errorf("1,025 members of room: caps %d, %d; want 0, 0", cap(idx.Members), cap(idx.Nested))
	}
}

// TestMutationSurrogateBounds: \ue000 is not a low surrogate, and \udc00 is not a high one.
func TestMutationSurrogateBounds(t *testing.T) {
	// canonicaljson/strings.go:214 '<' -> '<=' (\ud800\ue000 was paired into U+10400)
	tests := []struct{ in, want string }{
		{`"\ud800\ue000"`, "\"\\ud800\ue000\""},
		{`["\ud800\ue000"]`, "[\"\\ud800\ue000\"]"},
		{`"\ud800\udfff"`, "\"\U000103ff\""},
		// canonicaljson/strings.go:326 '0xdc00' -> '56321' (the key \udc00\udc00 sorts as the
		// bytes of two lone surrogates, ED B0 80 ED B0 80, before U+E000's EE 80 80; paired, it
		// became U+FFFD, EF BF BD, after it)
		{`{"\ue000":2,"\udc00\udc00":1}`, "{\"\\udc00\\udc00\":1,\"\ue000\":2}"},
	}
	for _, tt := range tests {
		if out, err := Canonical([]byte(tt.in)); err != nil || string(out) != tt.want {
			t.Errorf("Canonical(%s) = %q, %v; want %q", tt.in, out, err, tt.want)
		}
	}
	if out, err := CanonicalStrict([]byte(`"\ud800\ue000"`)); !errors.Is(err, ErrLoneSurrogate) {
		t.Errorf(`CanonicalStrict("\ud800\ue000") = %q, %v; want ErrLoneSurrogate`, out, err)
	}
}

// TestMutationUnquoteSurrogates (round three, /work/logs/audit-mutation3.md): Unquote pairs a
// high surrogate escape only with a low one; before anything else it is a lone surrogate (its
// WTF-8 bytes ED A0 80).
func TestMutationUnquoteSurrogates(t *testing.T) {
	// canonicaljson/strings.go:327 '&&' -> '||' (\ud800 was paired with any following \u escape)
	for in, want := range map[string]string{
		`"\ud800\u0041"`: "\xed\xa0\x80A",
		`"\ud800\ue000"`: "\xed\xa0\x80\ue000",
		`"\ud800\udc00"`: "\U00010000",
	} {
		if got, err := Unquote([]byte(in)); err != nil || got != want {
			t.Errorf("Unquote(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestMutationTruncatedLiteralOffset (round four, /work/logs/audit-mutation4.md): the error
// for a literal cut short by the end of the input is at the end of the input, where the next
// byte is missing, not at the literal's first byte; also on the parser's paths (lenient
// input that is not canonical, Append, Valid).
//
//	canonicaljson/canonical.go:291 'p.pos += i' -> ''
func TestMutationTruncatedLiteralOffset(t *testing.T) {
	for _, tt := range []struct {
		in  string
		lit string
	}{
		{`tru`, "true"}, {`[tru`, "true"}, {`{"b":1,"a":tru`, "true"}, {`[1.0,tru`, "true"},
		{`{"a":fals`, "false"}, {` nul`, "null"}, {`[1.0, {"b":1,"a":nul`, "null"},
	} {
		want := "canonicaljson: unexpected end of input in literal " + tt.lit + " at offset " + strconv.Itoa(len(tt.in))
		for name, f := range map[string]func() error{
			"Canonical": func() error { _, err := Canonical([]byte(tt.in)); return err },
			"Append":    func() error { _, err := Append(nil, []byte(tt.in), Options{}); return err },
			"Valid":     func() error { return Valid([]byte(tt.in), Options{}) },
		} {
			var se *SyntaxError
			if err := f(); !errors.As(err, &se) || !errors.Is(err, ErrSyntax) || se.Offset != int64(len(tt.in)) || err.Error() != want {
				t.Errorf("%s(%s) = %v, want %q", name, tt.in, err, want)
			}
		}
	}
}

// TestMutationEndAfterBrace (round four): input that ends right after a '{' is a syntax error
// at the end of the input (the canonical checker must not read past it).
//
//	canonicaljson/check.go:245 '<' -> '<=' (index out of range)
func TestMutationEndAfterBrace(t *testing.T) {
	for _, in := range []string{`{`, `[{`, `{"a":{`, ` {`, `[1,{`} {
		want := "canonicaljson: unexpected end of input looking for object key at offset " + strconv.Itoa(len(in))
		if _, err := Canonical([]byte(in)); !errors.Is(err, ErrSyntax) || err.Error() != want {
			t.Errorf("Canonical(%s) = %v, want %q", in, err, want)
		}
		var idx Index
		if _, err := AppendIndexed(nil, []byte(in), Options{Strict: true}, &idx); !errors.Is(err, ErrSyntax) || err.Error() != want {
			t.Errorf("AppendIndexed(%s) = %v, want %q", in, err, want)
		}
	}
}

// TestMutationEmptyArrayTrailingData (round five, /work/logs/audit-mutation5.md): EachElement
// of an empty array followed by more than whitespace is a trailing-data error at the first
// byte after it, and calls fn for nothing; surrounded by whitespace it is no error.
//
//	canonicaljson/members.go:162 'p.end()' -> 'nil'
func TestMutationEmptyArrayTrailingData(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{`[]x`, "canonicaljson: invalid character 'x' after top-level value at offset 2"},
		{`[] x`, "canonicaljson: invalid character 'x' after top-level value at offset 3"},
		{`[],`, "canonicaljson: invalid character ',' after top-level value at offset 2"},
		{`[]]`, "canonicaljson: invalid character ']' after top-level value at offset 2"},
		{` [ ] `, ""},
	} {
		calls := 0
		err := EachElement([]byte(tt.in), func([]byte) error { calls++; return nil })
		var se *SyntaxError
		switch {
		case calls != 0:
			t.Errorf("EachElement(%q): fn called %d times", tt.in, calls)
		case tt.want == "" && err != nil:
			t.Errorf("EachElement(%q) = %v, want nil", tt.in, err)
		case tt.want != "" && (!errors.As(err, &se) || !errors.Is(err, ErrTrailingData) || err.Error() != tt.want):
			t.Errorf("EachElement(%q) = %v, want ErrTrailingData %q", tt.in, err, tt.want)
		}
	}
}

// TestMutationSurrogateKeys (round five): a key of two high surrogate escapes is two lone
// surrogates, not a pair: it is neither a duplicate of U+FFFF nor sorted as one (its WTF-8 form,
// ED A0 80 ED AF BF, sorts before U+FFFF's EF BF BF), and it is written with its escapes.
//
//	canonicaljson/strings.go:327 '0xdc00' -> '56319' (\udbff taken as a low surrogate: the
//	pair decoded to U+FFFF, a duplicate of the second key, which replaced it)
func TestMutationSurrogateKeys(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"\ud800\udbff":1,"\uffff":2}`, "{\"\\ud800\\udbff\":1,\"\uffff\":2}"},
		{`{"\uffff":2,"\ud800\udbff":1}`, "{\"\\ud800\\udbff\":1,\"\uffff\":2}"},
		{`{"\ud800\udc00":2,"\ud800\udbff":1}`, "{\"\\ud800\\udbff\":1,\"\U00010000\":2}"},
	} {
		if out, err := Canonical([]byte(tt.in)); err != nil || string(out) != tt.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.in, out, err, tt.want)
		}
	}
}

// TestMutationIndentAndSmallIntegers (round six, tools/mutcheck/README.md): the two fast paths
// of commit 6a068bd. skipIndent skips a newline and the spaces after it, and nothing else: a
// byte just above or below ' ' after the newline (at each of its four call sites: after '[', a
// comma of an array, '{', a comma of an object) is still an invalid character. The inline
// small-integer path of an object's values (eight bytes or more left) takes digits only, no
// number with a leading zero and none with an exponent: those get number's verdicts.
func TestMutationIndentAndSmallIntegers(t *testing.T) {
	const (
		value = "looking for beginning of value at offset "
		key   = "looking for beginning of object key string at offset "
	)
	for _, tt := range []struct {
		mutant string
		in     string
		want   string // the error of Canonical and CanonicalStrict
	}{
		{"canonicaljson/canonical.go:262 '0x2020202020202020' -> '2314885530818453537' ('!' after a newline skipped as a space)",
			"[\n!2345678]", "invalid character '!' " + value + "2"},
		{"(same, after a comma of an array)", "[1,\n!2345678]", "invalid character '!' " + value + "4"},
		{"(same, after '{')", "{\n!\"a\":12345678}", "invalid character '!' " + key + "2"},
		{"(same, after a comma of an object)", "{\"a\":1,\n!\"b\":2345678}", "invalid character '!' " + key + "8"},
		{"canonicaljson/canonical.go:262 '0x2020202020202020' -> '2314885530818453535' (0x1f after a newline skipped as a space)",
			"[\n\x1f2345678]", "invalid character byte 0x1f " + value + "2"},
		{"(same, after a comma of an array)", "[1,\n\x1f2345678]", "invalid character byte 0x1f " + value + "4"},
		{"(same, after '{')", "{\n\x1f\"a\":12345678}", "invalid character byte 0x1f " + key + "2"},
		{"(same, after a comma of an object)", "{\"a\":1,\n\x1f\"b\":2345678}", "invalid character byte 0x1f " + key + "8"},
		{"canonicaljson/canonical.go:462 '9' -> '10' (':' taken for a digit: an empty value)",
			`{"a":::::::::}`, "invalid character ':' " + value + "5"},
		{"canonicaljson/canonical.go:475 '9' -> '10' (':' taken for a digit near the end: number's error)",
			`{"a"::}`, "invalid character ':' " + value + "5"},
		{"canonicaljson/canonical.go:466 '!=' -> '==', '==' -> '!=' (a leading zero taken by the fast path)",
			`{"a":0123456,"b":1}`, "invalid leading zero in numeric literal at offset 6"},
		{"canonicaljson/canonical.go:466 '!=' -> '==', '==' -> '!=', '1' -> '2' (\"05\" taken by the fast path)",
			`{"a":05,"b":123}`, "invalid leading zero in numeric literal at offset 6"},
	} {
		for name, f := range map[string]func([]byte) ([]byte, error){"Canonical": Canonical, "CanonicalStrict": CanonicalStrict} {
			out, err := f([]byte(tt.in))
			if want := "canonicaljson: " + tt.want; !errors.Is(err, ErrSyntax) || err.Error() != want {
				t.Errorf("%s: %s(%q) = %q, %v; want %q", tt.mutant, name, tt.in, out, err, want)
			}
		}
	}
	// canonicaljson/canonical.go:466 '!=' -> '==' (only an integer an exponent follows taken by
	// the fast path, which stops at the 'e'): number's verdicts, a value for Canonical, an
	// integers-only error for CanonicalStrict.
	for _, tt := range []struct{ in, want, strict string }{
		{`{"a":1e5,"b":123}`, `{"a":100000,"b":123}`, "number 1e5 has a fraction or exponent (canonical JSON allows integers only) at offset 5"},
		{`{"a":12E5,"b":123}`, `{"a":1200000,"b":123}`, "number 12E5 has a fraction or exponent (canonical JSON allows integers only) at offset 5"},
		{`{"a":0,"b":12345}`, `{"a":0,"b":12345}`, ""},
	} {
		if out, err := Canonical([]byte(tt.in)); err != nil || string(out) != tt.want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", tt.in, out, err, tt.want)
		}
		out, err := CanonicalStrict([]byte(tt.in))
		switch {
		case tt.strict == "" && (err != nil || string(out) != tt.want):
			t.Errorf("CanonicalStrict(%s) = %s, %v; want %s", tt.in, out, err, tt.want)
		case tt.strict != "" && (err == nil || err.Error() != "canonicaljson: "+tt.strict):
			t.Errorf("CanonicalStrict(%s) = %s, %v; want %q", tt.in, out, err, tt.strict)
		}
	}
}

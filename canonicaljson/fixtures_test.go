package canonicaljson_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

const fixtureDir = "../testdata/canonicaljson"

// sentinels maps the error names used in the fixtures to the sentinels.
var sentinels = map[string]error{
	"ErrSyntax":        canonicaljson.ErrSyntax,
	"ErrTrailingData":  canonicaljson.ErrTrailingData,
	"ErrFloat":         canonicaljson.ErrFloat,
	"ErrNegativeZero":  canonicaljson.ErrNegativeZero,
	"ErrIntegerRange":  canonicaljson.ErrIntegerRange,
	"ErrDuplicateKey":  canonicaljson.ErrDuplicateKey,
	"ErrLoneSurrogate": canonicaljson.ErrLoneSurrogate,
	"ErrInvalidUTF8":   canonicaljson.ErrInvalidUTF8,
	"ErrTooDeep":       canonicaljson.ErrTooDeep,
}

// specExample is one case of spec_examples.json: the appendix's "Examples".
type specExample struct {
	Name        string `json:"name"`
	Section     string `json:"section"`
	Input       string `json:"input"`
	Expected    string `json:"expected"`               // lenient output; also strict unless StrictError
	StrictError string `json:"strict_error,omitempty"` // the sentinel strict mode returns instead
	Note        string `json:"note,omitempty"`
}

// outcome is the expected result of one mode: exact output bytes or an error.
type outcome struct {
	Output *string `json:"output,omitempty"`
	Error  string  `json:"error,omitempty"`
	// Offset, when set, is the exact SyntaxError.Offset of Error (docs/decisions.md
	// canonicaljson 9 and 19a).
	Offset *int64 `json:"offset,omitempty"`
}

// fixtureCase is one case of cases.json.
type fixtureCase struct {
	Name     string  `json:"name"`
	Input    *string `json:"input,omitempty"`
	InputHex string  `json:"input_hex,omitempty"` // for inputs that are not valid UTF-8
	Strict   outcome `json:"strict"`
	Lenient  outcome `json:"lenient"`
	MaxDepth int     `json:"max_depth,omitempty"`
	Source   string  `json:"source,omitempty"`
}

func (c fixtureCase) input(t testing.TB) []byte {
	if c.Input != nil {
		return []byte(*c.Input)
	}
	b, err := hex.DecodeString(c.InputHex)
	if err != nil {
		t.Fatalf("%s: bad input_hex: %v", c.Name, err)
	}
	return b
}

func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func loadSpecExamples(t testing.TB) []specExample {
	var cases []specExample
	loadJSON(t, "spec_examples.json", &cases)
	if len(cases) == 0 {
		t.Fatal("no spec examples")
	}
	return cases
}

func loadCases(t testing.TB) []fixtureCase {
	var cases []fixtureCase
	loadJSON(t, "cases.json", &cases)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	return cases
}

// checkOutcome runs Append and Valid with opts on input and compares with want.
func checkOutcome(t *testing.T, input []byte, opts canonicaljson.Options, want outcome) {
	t.Helper()
	prefix := []byte("prefix:")
	got, err := canonicaljson.Append(bytes.Clone(prefix), input, opts)
	verr := canonicaljson.Valid(input, opts)
	if want.Error != "" {
		sentinel, ok := sentinels[want.Error]
		if !ok {
			t.Fatalf("fixture names unknown error %q", want.Error)
		}
		checkError(t, err, sentinel, len(input))
		var se *canonicaljson.SyntaxError
		if want.Offset != nil && errors.As(err, &se) && se.Offset != *want.Offset {
			t.Errorf("Append(%q, %+v): %v at offset %d, want offset %d", input, opts, err, se.Offset, *want.Offset)
		}
		if !bytes.Equal(got, prefix) {
			t.Errorf("Append on error returned %q, want the unchanged dst %q", got, prefix)
		}
		checkSameError(t, verr, err)
		return
	}
	if want.Output == nil {
		t.Fatal("fixture has neither output nor error")
	}
	if err != nil {
		t.Fatalf("Append(%q, %+v): unexpected error %v", input, opts, err)
	}
	if verr != nil {
		t.Errorf("Valid(%q, %+v) = %v, want nil", input, opts, verr)
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("Append clobbered dst: %q", got)
	}
	got = got[len(prefix):]
	if string(got) != *want.Output {
		t.Errorf("Append(%q, %+v)\n got %q\nwant %q", input, opts, got, *want.Output)
	}
	checkFixedPoint(t, got, opts)
}

// checkError asserts that err is a *SyntaxError for sentinel (exactly, not
// just errors.Is) with an offset inside the input.
func checkError(t *testing.T, err, sentinel error, inputLen int) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v is not %v", err, sentinel)
	}
	var se *canonicaljson.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %T is not a *SyntaxError", err)
	}
	if se.Err != sentinel {
		t.Errorf("SyntaxError.Err = %v, want exactly %v", se.Err, sentinel)
	}
	if se.Offset < 0 || se.Offset > int64(inputLen) {
		t.Errorf("offset %d outside the input of %d bytes", se.Offset, inputLen)
	}
	if se.Msg == "" || se.Error() == "" {
		t.Error("empty error message")
	}
}

// checkSameError asserts that Valid found the same problem as Append.
func checkSameError(t *testing.T, verr, err error) {
	t.Helper()
	var a, b *canonicaljson.SyntaxError
	if !errors.As(verr, &a) || !errors.As(err, &b) {
		t.Fatalf("Valid error %v, Append error %v", verr, err)
	}
	if a.Err != b.Err || a.Offset != b.Offset {
		t.Errorf("Valid error %v differs from Append error %v", verr, err)
	}
}

// checkFixedPoint asserts that canonicalising canonical output changes
// nothing and that the output is what strict accepts whenever its input was.
func checkFixedPoint(t *testing.T, out []byte, opts canonicaljson.Options) {
	t.Helper()
	again, err := canonicaljson.Append(nil, out, opts)
	if err != nil {
		t.Fatalf("canonical output %q is refused: %v", out, err)
	}
	if !bytes.Equal(again, out) {
		t.Errorf("not a fixed point:\n once %q\ntwice %q", out, again)
	}
	if opts.Strict {
		if err := canonicaljson.Valid(out, opts); err != nil {
			t.Errorf("strict output %q is not valid strict JSON: %v", out, err)
		}
	}
	if !json.Valid(out) {
		t.Errorf("output %q is not JSON for encoding/json", out)
	}
}

func TestSpecExamples(t *testing.T) {
	for _, c := range loadSpecExamples(t) {
		t.Run(c.Name, func(t *testing.T) {
			want := c.Expected
			checkOutcome(t, []byte(c.Input), canonicaljson.Options{}, outcome{Output: &want})
			if c.StrictError != "" {
				checkOutcome(t, []byte(c.Input), canonicaljson.Options{Strict: true}, outcome{Error: c.StrictError})
			} else {
				checkOutcome(t, []byte(c.Input), canonicaljson.Options{Strict: true}, outcome{Output: &want})
			}
		})
	}
}

func TestCases(t *testing.T) {
	names := map[string]bool{}
	for _, c := range loadCases(t) {
		if names[c.Name] {
			t.Errorf("duplicate case name %q", c.Name)
		}
		names[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			in := c.input(t)
			t.Run("strict", func(t *testing.T) {
				checkOutcome(t, in, canonicaljson.Options{Strict: true, MaxDepth: c.MaxDepth}, c.Strict)
			})
			t.Run("lenient", func(t *testing.T) {
				checkOutcome(t, in, canonicaljson.Options{MaxDepth: c.MaxDepth}, c.Lenient)
			})
			if c.Strict.Output != nil && (c.Lenient.Output == nil || *c.Lenient.Output != *c.Strict.Output) {
				t.Error("fixture: strict accepts but lenient output differs")
			}
			if c.MaxDepth == 0 {
				// The convenience functions are the two modes with default options.
				if out, err := canonicaljson.Canonical(in); (err == nil) != (c.Lenient.Output != nil) ||
					(err == nil && string(out) != *c.Lenient.Output) {
					t.Errorf("Canonical = %q, %v", out, err)
				}
				if out, err := canonicaljson.CanonicalStrict(in); (err == nil) != (c.Strict.Output != nil) ||
					(err == nil && string(out) != *c.Strict.Output) {
					t.Errorf("CanonicalStrict = %q, %v", out, err)
				}
			}
		})
	}
}

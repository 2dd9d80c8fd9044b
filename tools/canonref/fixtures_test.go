package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// fixtureKinds maps the sentinel names of testdata/canonicaljson to canonref's error kinds.
var fixtureKinds = map[string]string{
	"ErrSyntax": "syntax", "ErrTrailingData": "trailing", "ErrFloat": "float",
	"ErrNegativeZero": "negzero", "ErrIntegerRange": "range", "ErrDuplicateKey": "dup",
	"ErrLoneSurrogate": "surrogate", "ErrInvalidUTF8": "utf8", "ErrTooDeep": "deep",
}

// fixtureOutcome is one mode of a case of testdata/canonicaljson/cases.json.
type fixtureOutcome struct {
	Output *string `json:"output"`
	Error  string  `json:"error"`
	Offset *int64  `json:"offset"`
}

// TestFixturesAgree runs every case of testdata/canonicaljson (cases.json in strict and lenient
// mode, with its max_depth; spec_examples.json in both modes) through the spec-only reference
// with docs/decisions.md's readings (CANONREF_DECISIONS=1): the reference must give the exact
// output bytes, or refuse with the fixture's error kind among its acceptable kinds and, where the
// fixture states the offset, at exactly that offset.
func TestFixturesAgree(t *testing.T) {
	pyref.Require(t)
	ref, err := pyref.Start(pyref.Beside("canonref.py"), "CANONREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	compared, errs, offsets := 0, 0, 0
	check := func(name string, in []byte, strict bool, maxDepth int, want fixtureOutcome) {
		compared++
		var a refAns
		if err := ref.Ask(refReq{Op: "canon", In: base64.StdEncoding.EncodeToString(in), Strict: strict, MaxDepth: maxDepth}, &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Error != "" {
			t.Errorf("%s (strict %v): reference error: %s", name, strict, a.Error)
			return
		}
		got := ""
		if a.OK != nil {
			got = fmt.Sprintf("output %q", unb64(*a.OK))
		} else {
			got = fmt.Sprintf("error %s at %d (alt %v)", strings.Join(a.Kinds, "|"), a.Off, a.Alt)
		}
		switch {
		case want.Output != nil:
			if a.OK != nil && string(unb64(*a.OK)) == *want.Output {
				return
			}
			t.Errorf("%s (strict %v): fixture output %q; reference %s", name, strict, *want.Output, got)
		default:
			kind, ok := fixtureKinds[want.Error]
			if !ok {
				t.Fatalf("%s: unknown fixture error %q", name, want.Error)
			}
			errs++
			if a.OK == nil && slices.Contains(a.Kinds, kind) && (want.Offset == nil || *want.Offset == a.Off) {
				if want.Offset != nil {
					offsets++
				}
				return
			}
			exp := "error " + want.Error
			if want.Offset != nil {
				exp += fmt.Sprintf(" at %d", *want.Offset)
			}
			t.Errorf("%s (strict %v): fixture %s; reference %s", name, strict, exp, got)
		}
	}

	var examples []struct {
		Name        string `json:"name"`
		Input       string `json:"input"`
		Expected    string `json:"expected"`
		StrictError string `json:"strict_error"`
	}
	loadFixture(t, "spec_examples.json", &examples)
	for _, c := range examples {
		want := c.Expected
		check("spec_examples.json/"+c.Name, []byte(c.Input), false, 0, fixtureOutcome{Output: &want})
		if c.StrictError != "" {
			check("spec_examples.json/"+c.Name, []byte(c.Input), true, 0, fixtureOutcome{Error: c.StrictError})
		} else {
			check("spec_examples.json/"+c.Name, []byte(c.Input), true, 0, fixtureOutcome{Output: &want})
		}
	}
	nExamples := compared

	var cases []struct {
		Name     string         `json:"name"`
		Input    *string        `json:"input"`
		InputHex string         `json:"input_hex"`
		Strict   fixtureOutcome `json:"strict"`
		Lenient  fixtureOutcome `json:"lenient"`
		MaxDepth int            `json:"max_depth"`
	}
	loadFixture(t, "cases.json", &cases)
	for _, c := range cases {
		in := []byte(nil)
		if c.Input != nil {
			in = []byte(*c.Input)
		} else if in, err = hex.DecodeString(c.InputHex); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		check("cases.json/"+c.Name, in, true, c.MaxDepth, c.Strict)
		check("cases.json/"+c.Name, in, false, c.MaxDepth, c.Lenient)
	}
	if nExamples < 20 || compared-nExamples < 460 || errs < 150 || offsets < 10 {
		t.Errorf("compared %d spec example modes, %d case modes (%d errors, %d offsets): want at least 20, 460 (150, 10)",
			nExamples, compared-nExamples, errs, offsets)
	}
	t.Logf("%d spec example modes and %d case modes agree (%d errors, %d of them with the offset)",
		nExamples, compared-nExamples, errs, offsets)
}

func loadFixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/canonicaljson/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

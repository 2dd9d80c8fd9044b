package redaction_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// redactCase is one fixture of testdata/redaction/cases.json.
type redactCase struct {
	name     string
	spec     string
	versions []string
	input    []byte
	output   []byte // exact expected bytes, nil for an error case
	err      string // expected sentinel of this package: "invalid_json", "not_object"
	cause    string // expected canonicaljson sentinel, if any
}

var sentinels = map[string]error{
	"invalid_json": redaction.ErrInvalidJSON,
	"not_object":   redaction.ErrNotObject,
}

var causes = map[string]error{
	"syntax":         canonicaljson.ErrSyntax,
	"trailing_data":  canonicaljson.ErrTrailingData,
	"float":          canonicaljson.ErrFloat,
	"negative_zero":  canonicaljson.ErrNegativeZero,
	"integer_range":  canonicaljson.ErrIntegerRange,
	"duplicate_key":  canonicaljson.ErrDuplicateKey,
	"lone_surrogate": canonicaljson.ErrLoneSurrogate,
	"invalid_utf8":   canonicaljson.ErrInvalidUTF8,
	"too_deep":       canonicaljson.ErrTooDeep,
}

// loadCases reads the fixture table. The case envelopes are decoded into maps with exact keys;
// the event input is taken byte for byte from the file ("input"), from a string ("input_raw")
// or from base64 ("input_base64", for bytes that are not UTF-8).
func loadCases(t testing.TB) []redactCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "redaction", "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	str := func(m map[string]json.RawMessage, k string) string {
		var s string
		if v, ok := m[k]; ok {
			if err := json.Unmarshal(v, &s); err != nil {
				t.Fatalf("field %s: %v", k, err)
			}
		}
		return s
	}
	out := make([]redactCase, 0, len(raw))
	for i, m := range raw {
		c := redactCase{name: str(m, "name"), spec: str(m, "spec"), err: str(m, "error"), cause: str(m, "cause")}
		if c.name == "" || c.spec == "" {
			t.Fatalf("case %d: missing name or spec", i)
		}
		if err := json.Unmarshal(m["versions"], &c.versions); err != nil || len(c.versions) == 0 {
			t.Fatalf("case %q: bad versions", c.name)
		}
		switch {
		case m["input"] != nil:
			c.input = []byte(m["input"])
		case m["input_raw"] != nil:
			c.input = []byte(str(m, "input_raw"))
		case m["input_base64"] != nil:
			if c.input, err = base64.StdEncoding.DecodeString(str(m, "input_base64")); err != nil {
				t.Fatalf("case %q: %v", c.name, err)
			}
		default:
			t.Fatalf("case %q: no input", c.name)
		}
		if _, ok := m["output"]; ok {
			c.output = []byte(str(m, "output"))
		}
		if (c.output == nil) == (c.err == "") {
			t.Fatalf("case %q: needs exactly one of output and error", c.name)
		}
		if c.err != "" && sentinels[c.err] == nil {
			t.Fatalf("case %q: unknown error kind %q", c.name, c.err)
		}
		if c.cause != "" && causes[c.cause] == nil {
			t.Fatalf("case %q: unknown cause %q", c.name, c.cause)
		}
		out = append(out, c)
	}
	return out
}

func lookup(t testing.TB, id string) roomversion.Version {
	t.Helper()
	v, err := roomversion.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRedactFixtures(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 40 {
		t.Fatalf("only %d fixtures", len(cases))
	}
	covered := map[string]bool{}
	for _, c := range cases {
		for _, id := range c.versions {
			covered[id] = true
			v := lookup(t, id)
			t.Run(c.name+"/v"+id, func(t *testing.T) {
				in := bytes.Clone(c.input)
				got, err := redaction.Redact(v, in)
				if !bytes.Equal(in, c.input) {
					t.Fatal("Redact modified its input")
				}
				if c.err != "" {
					if err == nil {
						t.Fatalf("got %s, want error %s/%s", got, c.err, c.cause)
					}
					var re *redaction.Error
					if !errors.As(err, &re) {
						t.Fatalf("error %T %v is not a *redaction.Error", err, err)
					}
					if !errors.Is(err, sentinels[c.err]) {
						t.Fatalf("error %v, want %s", err, c.err)
					}
					if c.cause != "" && !errors.Is(err, causes[c.cause]) {
						t.Fatalf("error %v, want cause %s", err, c.cause)
					}
					if got != nil {
						t.Fatalf("output %q alongside an error", got)
					}
					return
				}
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !bytes.Equal(got, c.output) {
					t.Fatalf("got  %s\nwant %s", got, c.output)
				}
				checkRedactedProperties(t, v, c.input, got)
			})
		}
	}
	for _, v := range roomversion.All() {
		if !covered[v.ID] {
			t.Errorf("no fixture for room version %s", v.ID)
		}
	}
}

// checkRedactedProperties asserts what must hold for every successful redaction: the output is
// canonical JSON of the version, redacting it again changes nothing, and the reference hash
// (server-server-api "Calculating the reference hash for an event") of the original equals that
// of the redacted copy, so signatures and event IDs survive redaction.
func checkRedactedProperties(t *testing.T, v roomversion.Version, original, redacted []byte) {
	t.Helper()
	canon, err := canonicaljson.Append(nil, redacted, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	if err != nil {
		t.Fatalf("output is not valid JSON for v%s: %v", v.ID, err)
	}
	if !bytes.Equal(canon, redacted) {
		t.Fatalf("output is not canonical:\n%s\n%s", redacted, canon)
	}
	again, err := redaction.Redact(v, redacted)
	if err != nil {
		t.Fatalf("redacting the output: %v", err)
	}
	if !bytes.Equal(again, redacted) {
		t.Fatalf("not idempotent:\nonce  %s\ntwice %s", redacted, again)
	}
	h1, err := referenceHash(v, original)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := referenceHash(v, redacted)
	if err != nil {
		t.Fatal(err)
	}
	if h1 != h2 {
		t.Fatalf("reference hash of original %x differs from that of redacted copy %x", h1, h2)
	}
}

// referenceHash computes the reference hash as the spec defines it (server-server-api
// "Calculating the reference hash for an event"): redact, remove `signatures` and `unsigned`,
// canonicalise, sha256. Redact already drops `unsigned`.
func referenceHash(v roomversion.Version, event []byte) ([32]byte, error) {
	red, err := redaction.Redact(v, event)
	if err != nil {
		return [32]byte{}, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	err = canonicaljson.EachMember(red, func(key string, value []byte) error {
		if key == "signatures" || key == "unsigned" {
			return nil
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		b.Write(canonicaljson.AppendString(nil, key))
		b.WriteByte(':')
		b.Write(value)
		return nil
	})
	if err != nil {
		return [32]byte{}, err
	}
	b.WriteByte('}')
	canon, err := canonicaljson.Append(nil, b.Bytes(), canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(canon), nil
}

// TestRedactVersionsDifferOnlyByRules checks that Redact depends on the room version only
// through its redaction rules and JSON strictness: two versions with equal rules give equal
// output for every fixture.
func TestRedactVersionsDifferOnlyByRules(t *testing.T) {
	cases := loadCases(t)
	all := roomversion.All()
	for _, c := range cases {
		for i := range all {
			for j := i + 1; j < len(all); j++ {
				a, b := all[i], all[j]
				if a.Redaction != b.Redaction || a.Format.StrictCanonicalJSON != b.Format.StrictCanonicalJSON {
					continue
				}
				ra, ea := redaction.Redact(a, c.input)
				rb, eb := redaction.Redact(b, c.input)
				if !bytes.Equal(ra, rb) || (ea == nil) != (eb == nil) {
					t.Errorf("%s: v%s and v%s share rules but differ: %s / %s", c.name, a.ID, b.ID, ra, rb)
				}
			}
		}
	}
}

// TestRedactDoesNotAlias checks that the output never shares memory with the input.
func TestRedactDoesNotAlias(t *testing.T) {
	v := lookup(t, "11")
	in := []byte(`{"type":"m.room.create","content":{"a":1}}`)
	out, err := redaction.Redact(v, in)
	if err != nil {
		t.Fatal(err)
	}
	want := string(out)
	for i := range in {
		in[i] = ' '
	}
	if string(out) != want {
		t.Fatal("output changed when the input was overwritten")
	}
}

func TestErrorMessages(t *testing.T) {
	_, err := redaction.Redact(lookup(t, "9"), []byte(`[1]`))
	if got, want := err.Error(), "redaction: event is not a JSON object: got array"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	_, err = redaction.Redact(lookup(t, "9"), []byte(`{"a":1.5}`))
	var re *redaction.Error
	if !errors.As(err, &re) || re.Cause == nil || !errors.Is(err, canonicaljson.ErrFloat) {
		t.Fatalf("got %v", err)
	}
}

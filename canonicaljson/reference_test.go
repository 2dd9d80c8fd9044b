package canonicaljson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// referenceCanonical is the obvious, slow way to canonical JSON: decode into
// interface{} with encoding/json (numbers kept as written), then re-encode
// with keys sorted and the spec's string escaping. It is the oracle of the
// cross-check tests and the baseline of the benchmarks. It agrees with
// Canonical for inputs without floats, -0, unpaired surrogate escapes or
// invalid UTF-8 (which encoding/json replaces with U+FFFD).
func referenceCanonical(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("reference: trailing data")
	}
	var b bytes.Buffer
	referenceEncode(&b, v)
	return b.Bytes(), nil
}

func referenceEncode(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(string(v))
	case string:
		referenceString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			referenceEncode(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys) // Go compares strings byte-wise: code point order for UTF-8
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			referenceString(b, k)
			b.WriteByte(':')
			referenceEncode(b, v[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("reference: unexpected %T", v))
	}
}

// referenceString writes s as the spec's grammar says, one rune at a time.
func referenceString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// referenceStringOf is referenceString as a string result; ranging over a
// string yields U+FFFD for each byte that is not valid UTF-8.
func referenceStringOf(s string) string {
	var b bytes.Buffer
	referenceString(&b, s)
	return b.String()
}

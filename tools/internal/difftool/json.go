package difftool

// Small JSON, random and naming helpers of the tools' generators and classifiers.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
)

// M is a JSON object being built or mutated.
type M = map[string]any

// Enc encodes v as JSON with sorted keys and no HTML escaping (for values that hold no floats,
// that is canonical JSON). It panics when v cannot be encoded: the tools encode only values they
// built themselves.
func Enc(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Decode parses a JSON object keeping numbers as json.Number, so re-encoding loses nothing. It
// panics when b is not a JSON object: the tools decode only what they encoded.
func Decode(b []byte) M {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m M
	if err := d.Decode(&m); err != nil {
		panic(err) // invariant: the harness built this input or table itself
	}
	return m
}

// DeepCopy copies a decoded JSON value (objects and arrays recursively).
func DeepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = DeepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = DeepCopy(x)
		}
		return a
	}
	return v
}

// CopyM copies a JSON object.
func CopyM(m M) M { return DeepCopy(m).(M) }

// SortedKeys returns the keys of m in order (so that random choices over them are repeatable).
func SortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// SortedValues returns the values of m in the order of their keys.
func SortedValues[V any](m map[string]V) []V {
	vs := make([]V, 0, len(m))
	for _, k := range SortedKeys(m) {
		vs = append(vs, m[k])
	}
	return vs
}

// DomainOf returns what follows the first ':' of an ID, or "".
func DomainOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

// Pick returns a random element of xs.
func Pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

// VerNum is the number of a room version ID ("10" -> 10; 0 when it does not start with one).
func VerNum(id string) int {
	n := 0
	fmt.Sscan(id, &n)
	return n
}

// SortedVersions returns the keys of m, room version IDs, in the order of their numbers
// (VerNum): "2" before "10".
func SortedVersions[V any](m map[string]V) []string {
	ks := SortedKeys(m)
	sort.Slice(ks, func(i, j int) bool { return VerNum(ks[i]) < VerNum(ks[j]) })
	return ks
}

// B64 is unpadded standard base64.
func B64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// B64URL is unpadded URL-safe base64.
func B64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

//go:build goexperiment.jsonv2

package authcmp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

type M = map[string]any

// v12 is included lightly (one candidate in 12); a separate audit covers it in depth.
var versions = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}

func rpVersion(id string) roomversion.Version {
	v, err := roomversion.Lookup(id)
	if err != nil {
		panic(err)
	}
	return v
}

func verNum(id string) int {
	n := 0
	fmt.Sscan(id, &n)
	return n
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

func enc(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func decode(b []byte) M {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m M
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	return m
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	}
	return v
}

func copyM(m M) M { return deepCopy(m).(M) }

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func domainOf(id string) string {
	if i := strings.IndexByte(id, ':'); i >= 0 {
		return id[i+1:]
	}
	return ""
}

func keyFor(server, id string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	if id != "1" {
		seed = sha256.Sum256([]byte(id + " " + server))
	}
	k, err := signing.NewSigningKey(id, seed[:])
	if err != nil {
		panic(err)
	}
	return k
}

func b64(b []byte) string    { return base64.RawStdEncoding.EncodeToString(b) }
func b64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// absent stands for a member one side does not have.
type absent struct{}

// diffItem is one place where two JSON documents differ.
type diffItem struct {
	path []string
	a, b any // the values; absent{} when missing
}

// String renders the value for examples.
func (d diffItem) String() string {
	return fmt.Sprintf("%s: %s / %s", strings.Join(d.path, "."), show(d.a), show(d.b))
}

func show(v any) string {
	if _, ok := v.(absent); ok {
		return "(absent)"
	}
	return string(difftool.Enc(v))
}

// decodeAny parses a JSON value keeping numbers as json.Number.
func decodeAny(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// jsonDiff lists where two JSON documents differ as values: numbers are compared by exact
// value (so 1e3 and 1000 are equal), duplicate keys count by their last occurrence.
func jsonDiff(a, b []byte) ([]diffItem, error) {
	va, err := decodeAny(a)
	if err != nil {
		return nil, err
	}
	vb, err := decodeAny(b)
	if err != nil {
		return nil, err
	}
	var out []diffItem
	walkDiff(nil, va, vb, &out)
	return out, nil
}

func walkDiff(path []string, a, b any, out *[]diffItem) {
	item := func() { *out = append(*out, diffItem{append([]string{}, path...), a, b}) }
	switch ta := a.(type) {
	case map[string]any:
		tb, ok := b.(map[string]any)
		if !ok {
			item()
			return
		}
		keys := map[string]bool{}
		for k := range ta {
			keys[k] = true
		}
		for k := range tb {
			keys[k] = true
		}
		for _, k := range difftool.SortedKeys(keys) {
			x, okx := ta[k]
			y, oky := tb[k]
			if !okx {
				x = absent{}
			}
			if !oky {
				y = absent{}
			}
			if okx && oky {
				walkDiff(append(path, k), x, y, out)
			} else {
				*out = append(*out, diffItem{append(append([]string{}, path...), k), x, y})
			}
		}
	case []any:
		tb, ok := b.([]any)
		if !ok || len(ta) != len(tb) {
			item()
			return
		}
		for i := range ta {
			walkDiff(append(path, fmt.Sprint(i)), ta[i], tb[i], out)
		}
	case json.Number:
		tb, ok := b.(json.Number)
		if !ok || numCmp(ta, tb) != 0 || strings.HasPrefix(string(ta), "-") != strings.HasPrefix(string(tb), "-") {
			item() // a signed zero counts as a difference
		}
	default:
		if fmt.Sprint(a) != fmt.Sprint(b) || fmt.Sprintf("%T", a) != fmt.Sprintf("%T", b) {
			item()
		}
	}
}

// numValue is the exact value of a JSON number (nil if it does not parse).
func numValue(n json.Number) *big.Float {
	f, _, err := big.ParseFloat(string(n), 10, 4096, big.ToNearestEven)
	if err != nil {
		return nil
	}
	return f
}

// numCmp compares two JSON numbers by value; unparseable numbers compare by text.
func numCmp(a, b json.Number) int {
	fa, fb := numValue(a), numValue(b)
	if fa == nil || fb == nil {
		return strings.Compare(string(a), string(b))
	}
	return fa.Cmp(fb)
}

// numbersOf returns the two values of an item when both are numbers.
func numbersOf(d diffItem) (json.Number, json.Number, bool) {
	a, ok1 := d.a.(json.Number)
	b, ok2 := d.b.(json.Number)
	return a, b, ok1 && ok2
}

// signDropped: b is a without its minus sign (-0.5 and 0.5, -0.0 and 0.0).
func signDropped(a, b json.Number) bool {
	return strings.HasPrefix(string(a), "-") && !strings.HasPrefix(string(b), "-") && numCmp(a[1:], b) == 0
}

// hasLoneSurrogate says whether JSON text holds a \u escape of a surrogate that is not part
// of a high-low pair.
func hasLoneSurrogate(s string) bool {
	hex4 := func(i int) (int, bool) {
		if i+6 > len(s) || s[i] != '\\' || s[i+1] != 'u' {
			return 0, false
		}
		var n int
		if _, err := fmt.Sscanf(s[i+2:i+6], "%04x", &n); err != nil {
			return 0, false
		}
		return n, true
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			continue
		}
		c, ok := hex4(i)
		if !ok {
			i++ // another escape: skip the escaped byte
			continue
		}
		switch {
		case c >= 0xd800 && c <= 0xdbff:
			if lo, ok := hex4(i + 6); ok && lo >= 0xdc00 && lo <= 0xdfff {
				i += 11
				continue
			}
			return true
		case c >= 0xdc00 && c <= 0xdfff:
			return true
		}
		i += 5
	}
	return false
}

// hasDuplicateKey says whether a JSON document has an object with a repeated key.
func hasDuplicateKey(b []byte) bool {
	_, err := canonicaljson.CanonicalStrict(b)
	return err != nil && strings.Contains(err.Error(), canonicaljson.ErrDuplicateKey.Error()) ||
		dupScan(b)
}

// dupScan finds repeated keys with a token scan (CanonicalStrict stops at the first error,
// which may be another one).
func dupScan(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token is a key
	}
	var st []*frame
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(st) > 0 {
			top = st[len(st)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				if top != nil && top.obj {
					top.expect = true
				}
				st = append(st, &frame{obj: true, keys: map[string]bool{}, expect: true})
				continue
			case '[':
				if top != nil && top.obj {
					top.expect = true
				}
				st = append(st, &frame{})
				continue
			default:
				st = st[:len(st)-1]
				if len(st) > 0 && st[len(st)-1].obj {
					st[len(st)-1].expect = true
				}
				continue
			}
		case string:
			if top != nil && top.obj && top.expect {
				if top.keys[t] {
					return true
				}
				top.keys[t] = true
				top.expect = false
				continue
			}
		}
		if top != nil && top.obj {
			top.expect = true
		}
	}
}

// dropMembers rebuilds a JSON object without the members drop selects; the others keep their
// bytes (duplicates included), except that edit may rewrite a member's value.
func dropMembers(obj []byte, drop func(key string) bool, edit func(key string, val []byte) []byte) ([]byte, error) {
	out := []byte{'{'}
	err := canonicaljson.EachMember(obj, func(key string, val []byte) error {
		if drop(key) {
			return nil
		}
		if edit != nil {
			val = edit(key, val)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, difftool.Enc(key)...), ':'), val...)
		return nil
	})
	return append(out, '}'), err
}

// numberTextsDiffer says whether two documents hold the same numbers in the same order, some
// written differently (50.0 and 50).
func numberTextsDiffer(a, b []byte) bool {
	na, nb := numberTexts(a), numberTexts(b)
	if len(na) != len(nb) {
		return false
	}
	differ := false
	for i := range na {
		if numCmp(na[i], nb[i]) != 0 {
			return false
		}
		differ = differ || na[i] != nb[i]
	}
	return differ
}

func numberTexts(b []byte) []json.Number {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out []json.Number
	for {
		tok, err := d.Token()
		if err != nil {
			return out
		}
		if n, ok := tok.(json.Number); ok {
			out = append(out, n)
		}
	}
}

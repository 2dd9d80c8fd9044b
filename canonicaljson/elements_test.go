package canonicaljson_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
)

func TestEachElement(t *testing.T) {
	cases := []struct {
		name  string
		input string
		want  []string
		err   error
	}{
		{"empty", ` [ ] `, nil, nil},
		{"values", `[1, "a" ,{"b":[2]},[],null,true]`, []string{`1`, `"a"`, `{"b":[2]}`, `[]`, `null`, `true`}, nil},
		{"nested pair", `[["$a",{"sha256":"x"}]]`, []string{`["$a",{"sha256":"x"}]`}, nil},
		{"not an array", `{"a":1}`, nil, canonicaljson.ErrSyntax},
		{"empty input", ``, nil, canonicaljson.ErrSyntax},
		{"trailing comma", `[1,]`, []string{`1`}, canonicaljson.ErrSyntax},
		{"missing comma", `[1 2]`, []string{`1`}, canonicaljson.ErrSyntax},
		{"unterminated", `[1`, []string{`1`}, canonicaljson.ErrSyntax},
		{"trailing data", `[1] x`, []string{`1`}, canonicaljson.ErrTrailingData},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			err := canonicaljson.EachElement([]byte(c.input), func(v []byte) error {
				got = append(got, string(v))
				return nil
			})
			if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, c.err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("elements = %q, want %q", got, c.want)
			}
		})
	}
	stop := errors.New("stop")
	n := 0
	if err := canonicaljson.EachElement([]byte(`[1,2,3]`), func([]byte) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("callback error not returned as is: %v after %d calls", err, n)
	}
}

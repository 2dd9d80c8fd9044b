package main

import (
	"fmt"
	"os"

	"github.com/roomproto/roomproto/canonicaljson"
)

func main() {
	for _, s := range os.Args[1:] {
		for _, strict := range []bool{false, true} {
			out, err := canonicaljson.Append(nil, []byte(s), canonicaljson.Options{Strict: strict})
			var idx canonicaljson.Index
			_, err2 := canonicaljson.AppendIndexed([]byte("PRE"), []byte(s), canonicaljson.Options{Strict: strict}, &idx)
			fmt.Printf("%q strict=%v -> %q %v | %v %+v %+v\n", s, strict, out, err, err2, idx.Members, idx.Nested)
		}
	}
}

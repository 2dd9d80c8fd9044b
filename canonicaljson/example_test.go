package canonicaljson_test

import (
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/canonicaljson"
)

func ExampleCanonical() {
	in := []byte(`{
		"b": "2",
		"a": {"日": 1, "\u00e9": "caf\u00e9 \ud83d\ude00", "z": [1e10, -0]}
	}`)
	out, err := canonicaljson.Canonical(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"a":{"z":[10000000000,0],"é":"café 😀","日":1},"b":"2"}
}

func ExampleCanonicalStrict() {
	out, err := canonicaljson.CanonicalStrict([]byte(`{"depth": 12, "type": "m.room.message"}`))
	fmt.Println(string(out), err)

	_, err = canonicaljson.CanonicalStrict([]byte(`{"weight": 1.5}`))
	fmt.Println(errors.Is(err, canonicaljson.ErrFloat), err)

	_, err = canonicaljson.CanonicalStrict([]byte(`{"a": 1, "\u0061": 2}`))
	fmt.Println(errors.Is(err, canonicaljson.ErrDuplicateKey), err)
	// Output:
	// {"depth":12,"type":"m.room.message"} <nil>
	// true canonicaljson: number 1.5 has a fraction or exponent (canonical JSON allows integers only) at offset 11
	// true canonicaljson: duplicate key "a" in object at offset 9
}

func ExampleEachMember() {
	event := []byte(`{"type": "m.room.member", "content": {"membership": "join"}, "state_key": "@alice:example.org"}`)
	err := canonicaljson.EachMember(event, func(key string, value []byte) error {
		fmt.Printf("%s (%v): %s\n", key, canonicaljson.KindOf(value), value)
		return nil
	})
	fmt.Println(err)
	// Output:
	// type (string): "m.room.member"
	// content (object): {"membership": "join"}
	// state_key (string): "@alice:example.org"
	// <nil>
}

func ExampleUnquote() {
	s, err := canonicaljson.Unquote([]byte(`"caf\u00e9 \ud83d\ude00"`))
	fmt.Println(s, err)
	// Output: café 😀 <nil>
}

func ExampleAppendString() {
	fmt.Println(string(canonicaljson.AppendString(nil, "tab\there \"quoted\" \x01 </b> é")))
	// Output: "tab\there \"quoted\" \u0001 </b> é"
}

func ExampleMarshal() {
	out, err := canonicaljson.Marshal(map[string]any{"b": []int{1, 2}, "a": "<html>"})
	fmt.Println(string(out), err)
	// Output: {"a":"<html>","b":[1,2]} <nil>
}

func ExampleAppendIndexed() {
	event := []byte(`{"type": "m.room.member", "unsigned": {"age": 5},
		"content": {"membership": "join", "displayname": "Alice"}}`)
	var idx canonicaljson.Index
	out, err := canonicaljson.AppendIndexed(nil, event, canonicaljson.Options{Strict: true}, &idx)
	if err != nil {
		panic(err)
	}
	for _, m := range idx.Members {
		fmt.Printf("%s = %s\n", m.Key(out), out[m.Value:m.End])
		for _, n := range idx.Nested[m.NestedStart:m.NestedEnd] {
			fmt.Printf("  %s = %s\n", n.Key(out), out[n.Value:n.End])
		}
	}
	// Output:
	// content = {"displayname":"Alice","membership":"join"}
	//   displayname = "Alice"
	//   membership = "join"
	// type = "m.room.member"
	// unsigned = {"age":5}
	//   age = 5
}

// AppendIndexedUnsorted leaves the top level and the objects that are its members' values in
// input order, for a caller that picks members from the index and writes its own output, as
// redaction does; everything below them is in canonical form and key order.
func ExampleAppendIndexedUnsorted() {
	event := []byte(`{"type": "m.room.member", "unsigned": {"age": 5},
		"content": {"membership": "join", "displayname": "Alice", "info": {"b": 1, "a": 2}}}`)
	var idx canonicaljson.Index
	out, err := canonicaljson.AppendIndexedUnsorted(nil, event, canonicaljson.Options{Strict: true}, &idx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", out)
	for _, m := range idx.Members {
		fmt.Printf("%s = %s\n", m.Key(out), out[m.Value:m.End])
	}
	// Output:
	// {"type":"m.room.member","unsigned":{"age":5},"content":{"membership":"join","displayname":"Alice","info":{"a":2,"b":1}}}
	// type = "m.room.member"
	// unsigned = {"age":5}
	// content = {"membership":"join","displayname":"Alice","info":{"a":2,"b":1}}
}

// CanonicalIndexed returns input already in canonical form as it is (same is true), so that a
// caller keeping data when it is canonical need neither copy it nor compare a copy with it;
// other input is written into buf. The index describes the output either way. same is no
// verdict on data: a canonical text with an escaped key is written into buf too.
func ExampleCanonicalIndexed() {
	var idx canonicaljson.Index
	buf := make([]byte, 0, 256)
	for _, data := range [][]byte{
		[]byte(`{"content":{"body":"hi"},"type":"m.room.message"}`),
		[]byte(`{"type": "m.room.message", "content": {"body": "hi"}}`),
		[]byte(`{"a\"b":1}`),
		[]byte(`{"depth": 1.5}`),
	} {
		out, same, err := canonicaljson.CanonicalIndexed(buf[:0], data, canonicaljson.Options{Strict: true}, &idx)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s same=%v data itself=%v written into buf=%v\n", out, same, &out[0] == &data[0], &out[0] == &buf[:1][0])
		for _, m := range idx.Members {
			fmt.Printf("  %s = %s\n", m.Key(out), out[m.Value:m.End])
		}
	}
	// Output:
	// {"content":{"body":"hi"},"type":"m.room.message"} same=true data itself=true written into buf=false
	//   content = {"body":"hi"}
	//   type = "m.room.message"
	// {"content":{"body":"hi"},"type":"m.room.message"} same=false data itself=false written into buf=true
	//   content = {"body":"hi"}
	//   type = "m.room.message"
	// {"a\"b":1} same=false data itself=false written into buf=true
	//   a\"b = 1
	// canonicaljson: number 1.5 has a fraction or exponent (canonical JSON allows integers only) at offset 10
}

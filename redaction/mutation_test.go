package redaction

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestMutationDomainOf: the server name of an ID is everything after its first colon, also
// when the colon is the first byte (pdu.Parse accepts such a sender).
func TestMutationDomainOf(t *testing.T) {
	tests := []struct {
		mutant string
		id     string
		want   string
	}{
		{"redaction/handling.go:141 '>=' -> '>'", ":b.example", "b.example"},
		{"(a user ID)", "@a:b.example", "b.example"},
		{"(a port)", "@a:b.example:8448", "b.example:8448"},
		{"(no colon)", "@ab", ""},
	}
	for _, tt := range tests {
		if got := domainOf(tt.id); got != tt.want {
			t.Errorf("%s: domainOf(%q) = %q, want %q", tt.mutant, tt.id, got, tt.want)
		}
	}
}

// TestMutationUnknownVersion: RedactCanonical and AppendSignedBytes refuse a Version that
// Lookup would not return, with roomversion.ErrUnknownVersion and no output.
func TestMutationUnknownVersion(t *testing.T) {
	// redaction/redaction.go:264 'err' -> 'nil'
	canon := []byte(`{"content":{"body":"x"},"type":"m.room.message"}`)
	out, err := RedactCanonical(roomversion.Version{}, canon)
	if out != nil || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("RedactCanonical: %q, %v; want nil, ErrUnknownVersion", out, err)
	}
	dst := []byte("keep")
	out, err = AppendSignedBytes(dst, roomversion.Version{}, canon)
	if string(out) != "keep" || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("AppendSignedBytes: %q, %v; want dst unchanged, ErrUnknownVersion", out, err)
	}
}

// TestMutationRoundThree (round three, /work/logs/audit-mutation3.md): exact outputs and errors
// of round three's survivors.
func TestMutationRoundThree(t *testing.T) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		t.Fatal(err)
	}
	member := []byte(`{"auth_events":[],"content":{"displayname":"A","membership":"join"},"depth":1,"hashes":{"sha256":"x"},` +
		`"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{"a.example":{"ed25519:1":"s"}},` +
		`"state_key":"@a:a.example","type":"m.room.member","unsigned":{"membership":"leave","prev_content":{"membership":"invite"}}}`)

	// redaction/redaction.go:674 '||' -> '&&' (only `content` is searched for the keys it keeps:
	// `hashes` holding "membership" is not; RedactCanonical scans, Redact reads the index)
	out, err := RedactCanonical(v, []byte(strings.Replace(string(member), `"hashes":{"sha256":"x"}`, `"hashes":{"membership":"leave","sha256":"x"}`, 1)))
	want := `{"auth_events":[],"content":{"membership":"join"},"depth":1,"hashes":{"membership":"leave","sha256":"x"},"origin_server_ts":1,"prev_events":[],` +
		`"room_id":"!r:a.example","sender":"@a:a.example","signatures":{"a.example":{"ed25519:1":"s"}},"state_key":"@a:a.example","type":"m.room.member"}`
	if err != nil || string(out) != want {
		t.Errorf("RedactCanonical: %s, %v\nwant %s", out, err, want)
	}

	// redaction/redaction.go:275 'to = nil' -> '' (AppendSignedBytes into dst whose spare
	// capacity is the input, the writing ahead of the reading: the output is made apart)
	wantSigned, err := AppendSignedBytes(nil, v, member)
	if err != nil {
		t.Fatal(err)
	}
	buf := append([]byte(nil), member...)
	got, err := AppendSignedBytes(buf[:16], v, buf)
	if w := string(member[:16]) + string(wantSigned); err != nil || string(got) != w {
		t.Errorf("AppendSignedBytes(buf[:16], v, buf): %s, %v\nwant %s", got, err, w)
	}

	// redaction/handling.go:197 '&Error{Err: ErrInvalidJSON, ...}' -> 'nil' (a redaction event
	// made by hand, without bytes: ErrInvalidJSON, as documented)
	target, err := pdu.Parse(v, member)
	if err != nil {
		t.Fatal(err)
	}
	target.EventID = "$target" // pdu.Parse leaves it to the caller (signing.ParseEvent fills it in)
	red := &pdu.Event{Version: v, Type: pdu.TypeRedaction, Redacts: target.EventID, RoomID: target.RoomID, Sender: "@a:a.example"}
	if out, err := ApplyRedaction(target, red); !errors.Is(err, ErrInvalidJSON) || out != nil {
		t.Errorf("ApplyRedaction with a hand-made redaction: %s, %v; want ErrInvalidJSON", out, err)
	}
}

// TestMutationInKeyOrder: inKeyOrder says "in order" for keys in code point order without
// escapes (so that Redact does not sort kept objects that are in order already), and "out of
// order" for keys out of order, or in byte order only because of an escape.
func TestMutationInKeyOrder(t *testing.T) {
	tests := []struct {
		mutant string
		object string // canonicaljson's output for one object
		want   bool
	}{
		{"redaction/redaction.go:303 'true' -> 'false'", `{"a":1,"b":2,"c":{"z":0}}`, true},
		{"(one member)", `{"b":2}`, true},
		{"(out of order)", `{"b":1,"a":2}`, false},
		{"(an escape after A: '\"' sorts before 'A')", `{"A":1,"\"":2}`, false},
		{"(an escape in the first key)", `{"\"":1,"a":2}`, true},
		{"(in order, but not byte-wise as written: counted out of order, which costs a sort)", `{"\"":1,"A":2}`, false},
	}
	for _, tt := range tests {
		var idx canonicaljson.Index
		b, err := canonicaljson.AppendIndexedUnsorted(nil, []byte(`{"o":`+tt.object+`}`), canonicaljson.Options{Strict: true}, &idx)
		if err != nil || len(idx.Members) != 1 {
			t.Fatalf("%s: %v", tt.object, err)
		}
		m := idx.Members[0]
		if got := inKeyOrder(b, idx.Nested[m.NestedStart:m.NestedEnd]); got != tt.want {
			t.Errorf("%s: inKeyOrder(%s) = %v, want %v", tt.mutant, tt.object, got, tt.want)
		}
	}
}

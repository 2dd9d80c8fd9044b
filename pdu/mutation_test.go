package pdu

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
)

// TestMutationIPv6LiteralLength: appendices "Server Name": IPv6address = 2*45IPv6char.
func TestMutationIPv6LiteralLength(t *testing.T) {
	tests := []struct {
		mutant string
		name   string
		want   bool
	}{
		{"pdu/ids.go:58 '2' -> '3' (two characters)", "[::]", true},
		{"(one character)", "[:]", false},
		{"(two characters and a port)", "[::]:8448", true},
	}
	for _, tt := range tests {
		if got := ValidServerName(tt.name); got != tt.want {
			t.Errorf("%s: ValidServerName(%q) = %v, want %v", tt.mutant, tt.name, got, tt.want)
		}
	}
}

// TestMutationFormatErrorCause: a FormatError made from a canonicaljson error matches both
// its sentinel and the canonicaljson error.
func TestMutationFormatErrorCause(t *testing.T) {
	// pdu/pdu.go:232 'e.Cause != nil' -> '!(e.Cause != nil)'
	v, err := roomversion.Lookup("10")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in    string
		cause error
	}{{`{"a":`, canonicaljson.ErrSyntax}, {`{"a":1,"a":2}`, canonicaljson.ErrDuplicateKey}} {
		_, err := Parse(v, []byte(tt.in))
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrNotJSON) || !errors.Is(err, tt.cause) {
			t.Errorf("Parse(%s) = %v; want a FormatError matching ErrNotJSON and %v", tt.in, err, tt.cause)
		}
	}
}

// TestMutationOpaqueEventIDLength: an event ID of MaxIDLength (255) bytes is accepted, one
// byte more is ErrTooLarge.
func TestMutationOpaqueEventIDLength(t *testing.T) {
	// pdu/pdu.go:698 '>' -> '>=' (not in the sample; it survives the other tests)
	const domain = ":a.example"
	for _, tt := range []struct {
		n    int
		want error
	}{{MaxIDLength, nil}, {MaxIDLength + 1, ErrTooLarge}} {
		id := "$" + strings.Repeat("x", tt.n-1-len(domain)) + domain
		err := CheckOpaqueEventID(id)
		if (tt.want == nil) != (err == nil) || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%d bytes: %v, want %v", len(id), err, tt.want)
		}
	}
}

// TestMutationEscapeAtStart: a string field whose first character is escaped is decoded.
func TestMutationEscapeAtStart(t *testing.T) {
	// pdu/pdu.go:765 '0' -> '1' (an escape at offset 0 went unnoticed)
	v, err := roomversion.Lookup("10")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Parse(v, []byte(`{"auth_events":[],"content":{},"depth":1,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{},"state_key":"\\k","type":"\"t"}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != `"t` || ev.StateKey == nil || *ev.StateKey != `\k` {
		t.Errorf("type %q, state_key %v; want %q, %q", ev.Type, ev.StateKey, `"t`, `\k`)
	}
}

// mutV3Event is a room version 3 event (lenient JSON) with the given depth and content.
func mutV3Event(depth, content string) []byte {
	return []byte(`{"auth_events":[],"content":` + content + `,"depth":` + depth + `,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":[],"room_id":"!r:a.example","sender":"@a:a.example","signatures":{},"type":"t"}`)
}

// TestMutationNonIntegerDepthText: the error for a depth with a fraction quotes it, cut to
// 32 bytes.
func TestMutationNonIntegerDepthText(t *testing.T) {
	// pdu/pdu.go:1018 'len(b) > 32' -> '!(len(b) > 32)'
	v, _ := roomversion.Lookup("3")
	long := "1." + strings.Repeat("5", 40)
	for _, tt := range []struct{ depth, want string }{
		{"1.5", "pdu: event field depth: field has the wrong type: must be an integer, got 1.5"},
		{long, "pdu: event field depth: field has the wrong type: must be an integer, got " + long[:32] + "…"},
	} {
		_, err := Parse(v, mutV3Event(tt.depth, "{}"))
		if !errors.Is(err, ErrWrongType) || err.Error() != tt.want {
			t.Errorf("depth %s: %v, want %s", tt.depth, err, tt.want)
		}
	}
}

// TestMutationLenientShrink: in room versions 1-5 the input is always canonicalised before its
// size is judged, since lenient JSON shrinks without bound (here a duplicate key drops 400,000
// bytes): only strict input of more than six times MaxEventSize is refused unread.
func TestMutationLenientShrink(t *testing.T) {
	// pdu/pdu.go:277 'v.Format.StrictCanonicalJSON && len(data) > maxStrictShrink*MaxEventSize' -> '!(...)'
	v, _ := roomversion.Lookup("3")
	ev, err := Parse(v, mutV3Event("1", `{"pad":"`+strings.Repeat("a", 400000)+`","pad":"x"}`))
	if err != nil || string(ev.Content) != `{"pad":"x"}` {
		t.Fatalf("%v", err)
	}
}

// TestMutationRoundThree (round three, /work/logs/audit-mutation3.md).
func TestMutationRoundThree(t *testing.T) {
	// pdu/ids.go:49 '<=' -> '<' (dns-char = DIGIT / ALPHA / "-" / ".": 'Z' is an ALPHA)
	for _, name := range []string{"Z.example", "aZ", "example.ORZ"} {
		if !ValidServerName(name) {
			t.Errorf("ValidServerName(%q) = false, want true", name)
		}
	}
	// pdu/pdu.go:708 'formatErr("event_id", ErrWrongType, "%q does not start ...")' -> 'nil'
	for _, id := range []string{"!abc:a.example", "abc:a.example", "$"} {
		err := CheckOpaqueEventID(id)
		var fe *FormatError
		if !errors.Is(err, ErrWrongType) || !errors.As(err, &fe) || fe.Field != "event_id" || !strings.Contains(err.Error(), "does not start with the sigil $") {
			t.Errorf("CheckOpaqueEventID(%q) = %v, want ErrWrongType for event_id", id, err)
		}
	}
}

// TestMutationRoundFour (round four, /work/logs/audit-mutation4.md).
func TestMutationRoundFour(t *testing.T) {
	// pdu/pdu.go:852 '>' -> '>=' (the signed 64-bit range includes -2**63; 2**63 is out)
	v, _ := roomversion.Lookup("3")
	for _, tt := range []struct {
		ts   string
		want int64
		err  error
	}{
		{"-9223372036854775808", -9223372036854775808, nil},
		{"9223372036854775807", 9223372036854775807, nil},
		{"9223372036854775808", 0, ErrOutOfRange},
		{"-9223372036854775809", 0, ErrOutOfRange},
	} {
		raw := strings.Replace(string(mutV3Event("1", "{}")), `"origin_server_ts":1`, `"origin_server_ts":`+tt.ts, 1)
		ev, err := Parse(v, []byte(raw))
		switch {
		case tt.err != nil && !errors.Is(err, tt.err):
			t.Errorf("origin_server_ts %s: %v, want %v", tt.ts, err, tt.err)
		case tt.err == nil && (err != nil || ev.OriginServerTS != tt.want):
			t.Errorf("origin_server_ts %s: %v, want %d", tt.ts, err, tt.want)
		}
	}
}

// TestMutationRoundFive (round five, /work/logs/audit-mutation5.md): a value quoted in an
// error is cut only past 32 bytes (32 bytes are quoted whole, 33 are cut to 32 and "…"); an
// IPv6 literal may hold an 'A'; Parse refuses a room version it does not know.
func TestMutationRoundFive(t *testing.T) {
	// pdu/pdu.go:1038 '>' -> '>='
	v, _ := roomversion.Lookup("3")
	ones, zeros := strings.Repeat("1", 32), strings.Repeat("0", 30)
	for _, tt := range []struct{ ts, want string }{
		{ones, "pdu: event field origin_server_ts: number out of range: must be in the signed 64-bit range, got " + ones},
		{ones + "1", "pdu: event field origin_server_ts: number out of range: must be in the signed 64-bit range, got " + ones + "…"},
		{"1." + zeros, "pdu: event field origin_server_ts: field has the wrong type: must be an integer, got 1." + zeros},
		{"1." + zeros + "0", "pdu: event field origin_server_ts: field has the wrong type: must be an integer, got 1." + zeros + "…"},
	} {
		raw := strings.Replace(string(mutV3Event("1", "{}")), `"origin_server_ts":1`, `"origin_server_ts":`+tt.ts, 1)
		_, err := Parse(v, []byte(raw))
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Field != "origin_server_ts" || err.Error() != tt.want {
			t.Errorf("origin_server_ts %s (%d bytes): %v, want %s", tt.ts, len(tt.ts), err, tt.want)
		}
	}

	// pdu/ids.go:63 '>=' -> '>' (IPv6char includes 'A': an IPv6 literal may hold it)
	for _, name := range []string{"[A::1]", "[::A]", "[2001:DB8::A]:8448"} {
		if !ValidServerName(name) {
			t.Errorf("ValidServerName(%q) = false, want true", name)
		}
	}

	// pdu/pdu.go:285 'err' -> 'nil' (Parse with a version it does not know gave no event and
	// no error)
	for _, uv := range []roomversion.Version{{}, {ID: "99"}} {
		want := `roomversion: unknown room version "` + uv.ID + `"`
		for _, raw := range []string{string(mutV3Event("1", "{}")), `{}`, `[`} {
			ev, err := Parse(uv, []byte(raw))
			if ev != nil || !errors.Is(err, roomversion.ErrUnknownVersion) || err.Error() != want {
				t.Errorf("Parse(version %q, %s) = %v, %v; want nil, %s", uv.ID, raw, ev, err, want)
			}
			if ev, err := ParseIndexed(uv, []byte(raw), nil); ev != nil || !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Errorf("ParseIndexed(version %q, %s) = %v, %v; want nil, %s", uv.ID, raw, ev, err, want)
			}
		}
	}
}

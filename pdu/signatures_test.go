package pdu_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// eventWithSignatures parses a v10 event whose `signatures` is sigs (JSON).
func eventWithSignatures(t *testing.T, version, sigs string) *pdu.Event {
	t.Helper()
	v, err := roomversion.Lookup(version)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := pdu.Parse(v, []byte(`{"room_id":"!r:a.example","sender":"@u:a.example","type":"m.t","content":{},
		"origin_server_ts":1,"depth":1,"prev_events":[],"auth_events":[],"hashes":{"sha256":"h"},"signatures":`+sigs+`}`))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestSignatures: the list is in canonical order whatever the order received, a server's
// signatures are found by name, and an empty server object is no signature.
func TestSignatures(t *testing.T) {
	for _, c := range []struct {
		name, version, sigs string
		want                []pdu.Signature // the whole list, in order
		servers             []string
		lookups             map[string][]string // server → its key IDs, as Server returns them
	}{
		{name: "none", version: "10", sigs: `{}`, want: []pdu.Signature{}, servers: nil,
			lookups: map[string][]string{"a.example": nil, "": nil}},
		{name: "one", version: "10", sigs: `{"a.example":{"ed25519:1":"s1"}}`,
			want:    []pdu.Signature{{"a.example", "ed25519:1", "s1"}},
			servers: []string{"a.example"},
			lookups: map[string][]string{"a.example": {"ed25519:1"}, "b.example": nil, "a.exampl": nil, "a.example.": nil}},
		{name: "sorted by server then key ID, from any order (v1-5 reorder)", version: "5",
			sigs: `{"z.example":{"ed25519:b":"zb","ed25519:a":"za"},"a.example":{"ed25519:2":"a2","ed25519:10":"a10"},"m.example":{}}`,
			want: []pdu.Signature{{"a.example", "ed25519:10", "a10"}, {"a.example", "ed25519:2", "a2"},
				{"z.example", "ed25519:a", "za"}, {"z.example", "ed25519:b", "zb"}},
			servers: []string{"a.example", "z.example"},
			lookups: map[string][]string{"a.example": {"ed25519:10", "ed25519:2"}, "m.example": nil, "z.example": {"ed25519:a", "ed25519:b"}}},
		{name: "code point order beyond the BMP, escapes decoded", version: "10",
			sigs:    `{"\u00e9.example":{"k":"e"},"a.example":{"k":"a"},"😀.example":{"k":"x"},"\uffff.example":{"k":"f"}}`,
			want:    []pdu.Signature{{"a.example", "k", "a"}, {"é.example", "k", "e"}, {"\uffff.example", "k", "f"}, {"😀.example", "k", "x"}},
			servers: []string{"a.example", "é.example", "\uffff.example", "😀.example"},
			lookups: map[string][]string{"é.example": {"k"}, "😀.example": {"k"}}},
		{name: "a lone surrogate sorts as its code point (v1-5)", version: "3",
			sigs:    `{"\ud800":{"k":"s"},"\ue000":{"k":"p"},"\ud7ff":{"k":"b"}}`,
			want:    []pdu.Signature{{"\ud7ff", "k", "b"}, {"\xed\xa0\x80", "k", "s"}, {"\ue000", "k", "p"}},
			servers: []string{"\ud7ff", "\xed\xa0\x80", "\ue000"},
			lookups: map[string][]string{"\xed\xa0\x80": {"k"}, "\ue000": {"k"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := eventWithSignatures(t, c.version, c.sigs)
			if got := []pdu.Signature(ev.Signatures); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Signatures = %q, want %q", got, c.want)
			}
			if got := slices.Collect(ev.Signatures.Servers()); !slices.Equal(got, c.servers) {
				t.Fatalf("Servers = %q, want %q", got, c.servers)
			}
			for server, keyIDs := range c.lookups {
				var got []string
				for _, s := range ev.Signatures.Server(server) {
					if s.Server != server {
						t.Fatalf("Server(%q) holds a signature of %q", server, s.Server)
					}
					got = append(got, s.KeyID)
				}
				if !slices.Equal(got, keyIDs) {
					t.Fatalf("Server(%q) key IDs = %q, want %q", server, got, keyIDs)
				}
				if signed := ev.Signatures.Signed(server); signed != (len(keyIDs) > 0) {
					t.Fatalf("Signed(%q) = %v", server, signed)
				}
			}
			m := ev.Signatures.Map()
			n := 0
			for _, s := range c.want {
				if got, ok := ev.Signatures.Get(s.Server, s.KeyID); !ok || got != s.Value {
					t.Fatalf("Get(%q, %q) = %q, %v, want %q", s.Server, s.KeyID, got, ok, s.Value)
				}
				if m[s.Server][s.KeyID] != s.Value {
					t.Fatalf("Map()[%q][%q] = %q, want %q", s.Server, s.KeyID, m[s.Server][s.KeyID], s.Value)
				}
				n++
			}
			total := 0
			for _, keys := range m {
				total += len(keys)
			}
			if total != n || len(m) != len(c.servers) {
				t.Fatalf("Map() = %q", m)
			}
			for _, miss := range [][2]string{{"a.example", "ed25519:3"}, {"nobody.example", "k"}, {"a.example", ""}} {
				if got, ok := ev.Signatures.Get(miss[0], miss[1]); ok {
					t.Fatalf("Get(%q, %q) = %q, true", miss[0], miss[1], got)
				}
			}
		})
	}
}

// TestSignaturesZero: the methods work on a nil list, as on a zero Event.
func TestSignaturesZero(t *testing.T) {
	var s pdu.Signatures
	if len(s.Server("a")) != 0 || s.Signed("a") || len(s.Map()) != 0 || len(slices.Collect(s.Servers())) != 0 {
		t.Fatal("a nil list has signatures")
	}
	if _, ok := s.Get("a", "b"); ok {
		t.Fatal("Get on a nil list found a signature")
	}
}

// checkSignatureOrder fails unless sigs is strictly increasing by (server, key ID) and each
// signature is found by Get and by Server.
func checkSignatureOrder(t *testing.T, sigs pdu.Signatures) {
	t.Helper()
	for i, s := range sigs {
		if i > 0 {
			p := sigs[i-1]
			if c := strings.Compare(p.Server, s.Server); c > 0 || c == 0 && p.KeyID >= s.KeyID {
				t.Fatalf("signatures out of order or repeated: %q before %q", p, s)
			}
		}
		if v, ok := sigs.Get(s.Server, s.KeyID); !ok || v != s.Value {
			t.Fatalf("Get(%q, %q) = %q, %v, want %q", s.Server, s.KeyID, v, ok, s.Value)
		}
	}
}

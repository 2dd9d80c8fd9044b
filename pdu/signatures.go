package pdu

import (
	"iter"
	"sort"
)

// Signature is one signature of an event's `signatures` object: the signature Value that the
// server Server made with its key KeyID (server-server-api "Signing Events"; appendices "Signing
// JSON").
type Signature struct {
	// Server is the server name, a key of `signatures`.
	Server string
	// KeyID is the key ID, such as "ed25519:1", a key of signatures[Server].
	KeyID string
	// Value is the signature as received: unpadded base64 for ed25519 keys, not checked here.
	Value string
}

// Signatures is an event's `signatures` object, server name → key ID → signature, as one entry
// per signature in the order of the event's canonical JSON: by server name, then by key ID, each
// by Unicode code point (appendices "Canonical JSON"), which is also the order of Go's string
// comparison of the names. A name holds no duplicate: canonical JSON has none.
//
// A server whose object is empty (`{"example.org": {}}`) has no entry, so it reads as a server
// that has not signed, which is what it is.
//
// The list costs about 48 bytes per signature, where a map per server cost some 300-400 bytes, so
// `signatures` that a relay filled with thousands of servers no longer makes a parsed event many
// times larger than its bytes (SECURITY.md). Its methods look a server up by binary search, so
// they need the order above: a list built by hand must be sorted (slices.SortFunc by Server,
// then KeyID) and hold no name twice.
type Signatures []Signature

// Server returns the signatures of the server name, in key ID order; empty when it has none.
// The result shares the list's memory.
func (s Signatures) Server(name string) Signatures {
	lo := sort.Search(len(s), func(i int) bool { return s[i].Server >= name })
	hi := lo
	for hi < len(s) && s[hi].Server == name {
		hi++
	}
	return s[lo:hi:hi]
}

// Get returns the signature of server by keyID, and whether there is one.
func (s Signatures) Get(server, keyID string) (string, bool) {
	sigs := s.Server(server)
	i := sort.Search(len(sigs), func(i int) bool { return sigs[i].KeyID >= keyID })
	if i < len(sigs) && sigs[i].KeyID == keyID {
		return sigs[i].Value, true
	}
	return "", false
}

// Signed reports whether server has at least one signature in the list, of any key.
func (s Signatures) Signed(server string) bool {
	return len(s.Server(server)) > 0
}

// Servers yields each server name that has a signature, once, in order.
func (s Signatures) Servers() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range s {
			if i > 0 && s[i].Server == s[i-1].Server {
				continue
			}
			if !yield(s[i].Server) {
				return
			}
		}
	}
}

// Map returns the signatures as a new map, server name → key ID → signature, the shape of the
// JSON object. It allocates a map per server; the methods above do not.
func (s Signatures) Map() map[string]map[string]string {
	m := make(map[string]map[string]string)
	for _, sig := range s {
		keys := m[sig.Server]
		if keys == nil {
			keys = make(map[string]string, 1)
			m[sig.Server] = keys
		}
		keys[sig.KeyID] = sig.Value
	}
	return m
}

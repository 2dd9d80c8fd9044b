package claimsc

import (
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

type countingLookup struct {
	mu    sync.Mutex
	ring  signing.KeyRing
	calls []string
}

func (c *countingLookup) PublicKey(server, keyID string) (signing.PublicKey, bool) {
	c.mu.Lock()
	c.calls = append(c.calls, server+" "+keyID)
	c.mu.Unlock()
	return c.ring.PublicKey(server, keyID)
}

// SECURITY.md "Limits": "key lookups / signature checks per event | one lookup per ed25519: key
// ID of each required server (at most 3 servers ...), one check per known key"; signing.KeyLookup
// doc: "PublicKey is called once for each ed25519 key ID a server that must sign put in
// signatures". The bulk functions likewise.
func TestSecurityKeyLookupsPerEvent(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	// bob's restricted join: required c.example (sender) and b.example (authoriser); add two more
	// key IDs of c.example, one of another algorithm, and a non-required server.
	ev := p.mutate(t, 7, func(m M) {
		s := m["signatures"].(M)
		s["c.example"].(M)["ed25519:zz"] = strings.Repeat("A", 86)
		s["c.example"].(M)["ed25519:yy"] = strings.Repeat("A", 86)
		s["c.example"].(M)["curve25519:1"] = "x"
		s["relay.example"] = M{"ed25519:1": strings.Repeat("A", 86)}
	})
	want := []string{"b.example ed25519:1", "c.example ed25519:1", "c.example ed25519:yy", "c.example ed25519:zz"}
	for name, f := range map[string]func(signing.KeyLookup){
		"VerifyEvent":          func(k signing.KeyLookup) { signing.VerifyEvent(v, ev, k) },
		"VerifyEvents":         func(k signing.KeyLookup) { signing.VerifyEvents(v, [][]byte{ev}, k, nil) },
		"ParseAndVerifyEvents": func(k signing.KeyLookup) { signing.ParseAndVerifyEvents(v, [][]byte{ev}, k, nil) },
	} {
		c := &countingLookup{ring: keyRing("b.example", "c.example", "relay.example")}
		f(c)
		sort.Strings(c.calls)
		if strings.Join(c.calls, ",") != strings.Join(want, ",") {
			t.Errorf("%s: lookups %v, want %v", name, c.calls, want)
		}
	}
}

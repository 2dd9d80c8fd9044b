package roomgen

import (
	"bytes"
	"testing"

	"github.com/roomproto/roomproto/signing"
)

func TestGenerateDeterministicAndValid(t *testing.T) {
	cfg := Config{Events: 300, Seed: 7, Rejected: 30}
	a, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Events) != 300 || !bytes.Equal(a.ReplayJSON(), b.ReplayJSON()) {
		t.Fatalf("not deterministic or wrong size: %d", len(a.Events))
	}
	keys, err := signing.ParseKeyRing(a.KeysJSON())
	if err != nil {
		t.Fatal(err)
	}
	rejected := 0
	for i, raw := range a.Events {
		if err := signing.VerifyEvent(a.Version, raw, keys); err != nil {
			t.Fatalf("event %d (%s) does not verify: %v", i, a.Expect[i].Note, err)
		}
		id, err := signing.EventID(a.Version, raw)
		if err != nil || id != a.EventIDs[i] {
			t.Fatalf("event %d: id %q, want %q (%v)", i, id, a.EventIDs[i], err)
		}
		if a.Expect[i].Rejected {
			rejected++
		}
	}
	if rejected == 0 {
		t.Fatal("no rejected events generated")
	}
	for _, v := range []string{"8", "10", "11", "12"} {
		if _, err := Generate(Config{RoomVersion: v, Events: 50}); err != nil {
			t.Fatalf("version %s: %v", v, err)
		}
	}
	for _, v := range []string{"7", "nope"} {
		if _, err := Generate(Config{RoomVersion: v, Events: 50}); err == nil {
			t.Fatalf("version %s accepted", v)
		}
	}
}

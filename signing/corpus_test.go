package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/roomversion"
)

// corpus is testdata/signing/bench_corpus.json, a copy of the project's shared benchmark corpus
// (../shared/bench/corpus.json): 18 signed events of a room version 9 room, their event IDs and
// the public keys of their servers.
type corpus struct {
	Version  roomversion.Version
	Keys     KeyRing
	Events   [][]byte
	EventIDs []string
}

func loadCorpus(tb testing.TB) *corpus {
	tb.Helper()
	raw, err := benchcorpus.Read(benchcorpus.Path)
	if err != nil {
		tb.Fatal(err)
	}
	c := &corpus{Events: raw.Events, EventIDs: raw.EventIDs}
	if c.Version, err = roomversion.Lookup(raw.RoomVersion); err != nil {
		tb.Fatal(err)
	}
	if c.Keys, err = ParseKeyRing(raw.Keys); err != nil {
		tb.Fatal(err)
	}
	if len(c.Events) != 18 || len(c.EventIDs) != 18 {
		tb.Fatalf("corpus has %d events and %d IDs, want 18", len(c.Events), len(c.EventIDs))
	}
	return c
}

// TestCorpus cross-checks the shared benchmark corpus, made independently of roomproto: every
// event ID matches, every event verifies (the restricted joins with both servers' signatures),
// and signing the events again with the corpus seeds reproduces their hashes and signatures.
func TestCorpus(t *testing.T) {
	c := loadCorpus(t)
	for i, e := range c.Events {
		id, err := EventID(c.Version, e)
		if err != nil || id != c.EventIDs[i] {
			t.Errorf("event %d: EventID = %q, %v; want %q", i, id, err, c.EventIDs[i])
		}
		ev, err := ParseEvent(c.Version, e)
		if err != nil || ev.EventID != c.EventIDs[i] {
			t.Errorf("event %d: ParseEvent ID %v, %v", i, ev, err)
			continue
		}
		if err := VerifyEvent(c.Version, e, c.Keys); err != nil {
			t.Errorf("event %d (%s): VerifyEvent: %v", i, ev.Type, err)
		}
		if err := CheckContentHash(c.Version, e); err != nil {
			t.Errorf("event %d: CheckContentHash: %v", i, err)
		}
		signers, err := RequiredSigners(ev)
		if err != nil {
			t.Fatal(err)
		}
		for server := range ev.Signatures.Servers() {
			if err := VerifyEventSignature(ev, server, c.Keys); err != nil {
				t.Errorf("event %d: VerifyEventSignature(%s): %v", i, server, err)
			}
		}
		if _, ok := ev.ContentString(ContentJoinAuthorisedViaUsersServer); ok {
			if servers := slices.Collect(ev.Signatures.Servers()); len(signers) != 2 || !slices.Equal(servers, slices.Sorted(slices.Values(signers))) {
				t.Errorf("event %d: restricted join: signers %v, signatures %v", i, signers, ev.Signatures)
			}
		}
		// Re-sign from scratch: the first signer is the sender's server.
		unsigned := setFields(t, e, map[string]json.RawMessage{"signatures": json.RawMessage(`{}`), "hashes": json.RawMessage(`{}`)})
		resigned := unsigned
		for _, server := range signers {
			_, key := testKey(t, server+":1")
			if resigned, err = SignEvent(c.Version, resigned, server, key); err != nil {
				t.Fatal(err)
			}
		}
		if !sameJSON(t, resigned, e) {
			t.Errorf("event %d: re-signing gives\n%s\nwant\n%s", i, resigned, e)
		}
	}
}

// TestCorpusCopyIsTheShared: testdata/signing/bench_corpus.json, which the tests and benchmarks
// of every package read, is byte for byte the independently made ../shared/bench/corpus.json
// when that is beside the project (as in CI).
func TestCorpusCopyIsTheShared(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "bench", "corpus.json"))
	if err != nil {
		t.Skipf("shared corpus not beside the project: %v", err)
	}
	copied, err := os.ReadFile(benchcorpus.Path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, copied) {
		t.Fatal("testdata/signing/bench_corpus.json differs from ../shared/bench/corpus.json")
	}
}

// TestStrayEventIDKey pins what happens to a room version 3+ event that carries a top-level
// `event_id` key, which its format does not have (docs/decisions.md, pdu: "Event IDs from v3"):
// the key stays in the bytes, the redaction algorithm keeps it, so it is covered by the
// reference hash (a different event ID) and by the signatures. Added by a relay, it breaks the
// origin's signature and the event is rejected; signed by the origin, it verifies under its own ID.
func TestStrayEventIDKey(t *testing.T) {
	c := loadCorpus(t)
	stray := setFields(t, c.Events[0], map[string]json.RawMessage{"event_id": json.RawMessage(`"$stray:a.example"`)})
	id, err := EventID(c.Version, stray)
	if err != nil {
		t.Fatal(err)
	}
	if id == c.EventIDs[0] || id[0] != '$' {
		t.Errorf("EventID with a stray event_id = %q; the corpus ID without it is %q", id, c.EventIDs[0])
	}
	if err := VerifyEvent(c.Version, stray, c.Keys); !errors.Is(err, ErrBadSignature) {
		t.Errorf("relayed with a stray event_id: VerifyEvent = %v, want ErrBadSignature", err)
	}
	ev, err := ParseEvent(c.Version, stray)
	if err != nil {
		t.Fatal(err)
	}
	if ev.EventID != id {
		t.Errorf("ParseEvent ID %q, EventID %q", ev.EventID, id)
	}
	_, key := testKey(t, "a.example:1")
	signed, err := SignEvent(c.Version, setFields(t, stray, map[string]json.RawMessage{"signatures": json.RawMessage(`{}`)}), "a.example", key)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyEvent(c.Version, signed, c.Keys); err != nil {
		t.Errorf("signed by the origin with the stray event_id: VerifyEvent = %v", err)
	}
	if got, _ := EventID(c.Version, signed); got == c.EventIDs[0] {
		t.Errorf("the origin-signed event has the corpus ID %s", got)
	}
}

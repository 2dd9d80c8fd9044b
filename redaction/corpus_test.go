package redaction_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/internal/cpubench"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// benchCorpus is testdata/signing/bench_corpus.json, the project's copy of the shared benchmark
// corpus ../shared/bench/corpus.json (see its README): 18 signed events of a room version 9
// room and their event IDs.
type benchCorpus struct {
	version  roomversion.Version
	events   [][]byte
	eventIDs []string
}

// readCorpus reads the corpus file.
func readCorpus(tb testing.TB) *benchcorpus.Corpus {
	tb.Helper()
	c, err := benchcorpus.Read(benchcorpus.Path)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func loadCorpus(tb testing.TB) benchCorpus {
	tb.Helper()
	raw := readCorpus(tb)
	c := benchCorpus{events: raw.Events, eventIDs: raw.EventIDs}
	var err error
	if c.version, err = roomversion.Lookup(raw.RoomVersion); err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestCorpusEventIDs cross-checks Redact against an independently made corpus: the event ID of
// a room version 4+ event is "$" + URL-safe unpadded base64 of its reference hash, which is
// computed over the redacted event (rooms/fragments/v4-event-ids.md, server-server-api
// "Calculating the reference hash for an event"). A single wrong key kept or dropped changes
// every ID.
func TestCorpusEventIDs(t *testing.T) {
	c := loadCorpus(t)
	if len(c.events) != len(c.eventIDs) || len(c.events) == 0 {
		t.Fatalf("%d events, %d IDs", len(c.events), len(c.eventIDs))
	}
	for i, e := range c.events {
		h, err := referenceHash(c.version, e)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got := "$" + base64.RawURLEncoding.EncodeToString(h[:]); got != c.eventIDs[i] {
			t.Errorf("event %d: ID %s, corpus says %s", i, got, c.eventIDs[i])
		}
		red, err := redaction.Redact(c.version, e)
		if err != nil {
			t.Fatal(err)
		}
		checkRedactedProperties(t, c.version, e, red)
	}
}

// powerLevelsEvent returns the corpus's m.room.power_levels event (50 users).
func powerLevelsEvent(tb testing.TB, c benchCorpus) []byte {
	for _, e := range c.events {
		if bytes.Contains(e, []byte(`"m.room.power_levels"`)) {
			return e
		}
	}
	tb.Fatal("no power levels event in the corpus")
	return nil
}

// BenchmarkRedactCorpus redacts each of the 18 corpus events once per iteration.
func BenchmarkRedactCorpus(b *testing.B) {
	c := loadCorpus(b)
	n := 0
	for _, e := range c.events {
		n += len(e)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range c.events {
			if _, err := redaction.Redact(c.version, e); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRedactPowerLevels redacts the corpus's 50-user power levels event.
func BenchmarkRedactPowerLevels(b *testing.B) {
	c := loadCorpus(b)
	e := powerLevelsEvent(b, c)
	b.SetBytes(int64(len(e)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := redaction.Redact(c.version, e); err != nil {
			b.Fatal(err)
		}
	}
}

// naiveRedactPowerLevels is the baseline the issue compares against: decode into interface
// values, filter with the v1-v10 lists, re-encode. With canonical set, the re-encoding goes
// through canonicaljson.Marshal, which a correct implementation needs (encoding/json escapes
// <, > and & and is not canonical JSON); without it, json.Marshal alone is the cheapest form of
// the approach. Neither keeps numbers exact in general (they become float64).
func naiveRedactPowerLevels(b *testing.B, canonical bool) {
	c := loadCorpus(b)
	e := powerLevelsEvent(b, c)
	b.SetBytes(int64(len(e)))
	b.ReportAllocs()
	for b.Loop() {
		if err := naiveRedact(e, canonical); err != nil {
			b.Fatal(err)
		}
	}
}

// The v1-v10 lists of naiveRedact: kept top-level keys and kept power levels content keys.
var (
	naiveTop = map[string]bool{"event_id": true, "type": true, "room_id": true, "sender": true, "state_key": true,
		"content": true, "hashes": true, "signatures": true, "depth": true, "prev_events": true, "prev_state": true,
		"auth_events": true, "origin": true, "origin_server_ts": true, "membership": true}
	naivePowerLevels = map[string]bool{"ban": true, "events": true, "events_default": true, "kick": true, "redact": true,
		"state_default": true, "users": true, "users_default": true}
)

// naiveRedact redacts a power levels event the baseline's way.
func naiveRedact(e []byte, canonical bool) error {
	var ev map[string]any
	if err := json.Unmarshal(e, &ev); err != nil {
		return err
	}
	out := map[string]any{}
	for k, v := range ev {
		if naiveTop[k] {
			out[k] = v
		}
	}
	content, _ := ev["content"].(map[string]any)
	nc := map[string]any{}
	for k, v := range content {
		if naivePowerLevels[k] {
			nc[k] = v
		}
	}
	out["content"] = nc
	var err error
	if canonical {
		_, err = canonicaljson.Marshal(out)
	} else {
		_, err = json.Marshal(out)
	}
	return err
}

// BenchmarkRedactPowerLevelsNaive: decode into interface, filter, json.Marshal.
func BenchmarkRedactPowerLevelsNaive(b *testing.B) { naiveRedactPowerLevels(b, false) }

// BenchmarkRedactPowerLevelsNaiveCanonical: decode into interface, filter, canonicaljson.Marshal.
func BenchmarkRedactPowerLevelsNaiveCanonical(b *testing.B) { naiveRedactPowerLevels(b, true) }

// BenchmarkSpeedupVsNaive is issue 3's bar as one figure: how many times less process CPU time
// (garbage collection included) Redact takes on the 50-user power levels event than the
// decode-into-interface, filter, re-encode baseline (json.Marshal: its cheapest form; with
// canonicaljson.Marshal in "canonical"), in alternating phases (internal/cpubench). The bar is
// "speedup-x" >= 15.
func BenchmarkSpeedupVsNaive(b *testing.B) {
	c := loadCorpus(b)
	// The event as the corpus file holds it (indented), and as servers send it: in canonical JSON
	// (Synapse encodes its federation requests with encode_canonical_json).
	wire, err := canonicaljson.CanonicalStrict(powerLevelsEvent(b, c))
	if err != nil {
		b.Fatal(err)
	}
	for _, form := range []struct {
		name  string
		event []byte
	}{{"", powerLevelsEvent(b, c)}, {"wire/", wire}} {
		for _, canonical := range []bool{false, true} {
			name := "json.Marshal"
			if canonical {
				name = "canonical"
			}
			speedupVsNaive(b, form.name+name, c.version, form.event, canonical)
		}
	}
}

// speedupVsNaive runs one figure of BenchmarkSpeedupVsNaive: Redact against naiveRedact on e.
func speedupVsNaive(b *testing.B, name string, version roomversion.Version, e []byte, canonical bool) {
	b.Run(name, func(b *testing.B) {
		cpubench.Speedup(b, func() {
			if _, err := redaction.Redact(version, e); err != nil {
				b.Fatal(err)
			}
		}, func() {
			if err := naiveRedact(e, canonical); err != nil {
				b.Fatal(err)
			}
		})
	})
}

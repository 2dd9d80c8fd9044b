package redaction_test

import (
	"testing"

	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
)

// TestReferenceHashSurvivesRedaction is the property the issue asks for, through the signing
// package: for every fixture and every version it lists, the reference hash of the original
// equals that of the redacted copy (server-server-api "Calculating the reference hash for an
// event"), so event IDs and signatures survive redaction.
func TestReferenceHashSurvivesRedaction(t *testing.T) {
	n := 0
	for _, c := range loadCases(t) {
		if c.output == nil {
			continue
		}
		for _, id := range c.versions {
			v := lookup(t, id)
			h1, err := signing.ReferenceHash(v, c.input)
			if err != nil {
				t.Fatalf("%s v%s: %v", c.name, id, err)
			}
			h2, err := signing.ReferenceHash(v, c.output)
			if err != nil {
				t.Fatalf("%s v%s: %v", c.name, id, err)
			}
			if h1 != h2 {
				t.Errorf("%s v%s: reference hash changed by redaction", c.name, id)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no cases checked")
	}
}

// TestCorpusSignaturesSurviveRedaction verifies the benchmark corpus's events after redacting
// them: every signature must still hold, only the content hash may differ (the spec's
// "redacted, not rejected" outcome), and the event ID must be unchanged.
func TestCorpusSignaturesSurviveRedaction(t *testing.T) {
	c := loadCorpus(t)
	keys := corpusKeys(t)
	for i, e := range c.events {
		red, err := redaction.Redact(c.version, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := signing.VerifyEvent(c.version, red, keys); err != nil && !signing.Redactable(err) {
			t.Errorf("event %d: redacted copy fails verification: %v", i, err)
		}
		id, err := signing.EventID(c.version, red)
		if err != nil || id != c.eventIDs[i] {
			t.Errorf("event %d: redacted copy has ID %s (%v), want %s", i, id, err, c.eventIDs[i])
		}
	}
}

func corpusKeys(t *testing.T) signing.KeyRing {
	t.Helper()
	keys, err := signing.ParseKeyRing(readCorpus(t).Keys)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

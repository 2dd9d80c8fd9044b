package signing

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// oracleCase is one case of oracle_events.json, whose expected values were computed by
// gen_oracle.py (Python json, hashlib and cryptography's Ed25519), not by this package.
type oracleCase struct {
	Name        string          `json:"name"`
	Spec        string          `json:"spec"`
	RoomVersion string          `json:"room_version"`
	Servers     []string        `json:"servers"`
	Input       json.RawMessage `json:"input"`
	ContentHash string          `json:"content_hash"`
	EventID     string          `json:"event_id"`
	Signed      json.RawMessage `json:"signed"`
}

func loadOracle(tb testing.TB) []oracleCase {
	var cases []oracleCase
	loadFixture(tb, "oracle_events.json", &cases)
	if len(cases) == 0 {
		tb.Fatal("no oracle cases")
	}
	return cases
}

func ringFor(tb testing.TB, servers ...string) KeyRing {
	ring := KeyRing{}
	for _, s := range servers {
		ring[s] = map[string]PublicKey{"ed25519:1": {Key: testPublic(tb, s+":1")}}
	}
	return ring
}

// TestOracle: content hash, signing, event ID and verification per room version 1-12 against
// the independent oracle.
func TestOracle(t *testing.T) {
	for _, c := range loadOracle(t) {
		t.Run(c.Name, func(t *testing.T) {
			v := version(t, c.RoomVersion)
			sum, err := ContentHash(v, c.Input)
			if err != nil || encodeBase64(sum[:]) != c.ContentHash {
				t.Fatalf("ContentHash = %s, %v; want %s", encodeBase64(sum[:]), err, c.ContentHash)
			}
			signed := []byte(c.Input)
			for _, s := range c.Servers {
				_, key := testKey(t, s+":1")
				if signed, err = SignEvent(v, signed, s, key); err != nil {
					t.Fatal(err)
				}
			}
			want, _ := canonicaljson.Canonical(c.Signed)
			if string(signed) != string(want) {
				t.Fatalf("SignEvent =\n%s\nwant\n%s", signed, want)
			}
			id, err := EventID(v, signed)
			if err != nil || id != c.EventID {
				t.Fatalf("EventID = %q, %v; want %q", id, err, c.EventID)
			}
			if err := VerifyEvent(v, signed, ringFor(t, c.Servers...)); err != nil {
				t.Fatalf("VerifyEvent: %v", err)
			}
			ev, err := ParseEvent(v, signed)
			if err != nil || ev.EventID != c.EventID {
				t.Fatalf("ParseEvent: %v, %v", ev, err)
			}
			signers, err := RequiredSigners(ev)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(signers)
			servers := slices.Sorted(slices.Values(c.Servers))
			if v.Signing.AuthorisingServerSigns || len(c.Servers) == 1 {
				if !slices.Equal(signers, servers) {
					t.Fatalf("RequiredSigners = %v, want %v", signers, servers)
				}
			}
		})
	}
}

// TestTamper changes every byte of signed events, one at a time, outside `signatures` and
// `unsigned`: every change that alters the event's JSON must make VerifyEvent fail, with
// ErrContentHashMismatch exactly when the signed (redacted) bytes are unchanged and no server
// that has not signed became required (then the signatures must still verify:
// VerifyEventSignature); otherwise with another error (bad or missing signature, malformed).
func TestTamper(t *testing.T) {
	for _, c := range loadOracle(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			v := version(t, c.RoomVersion)
			ring := ringFor(t, c.Servers...)
			orig, _ := canonicaljson.Canonical(c.Signed)
			origSigned := signedForm(t, v, orig)
			origEv, err := pdu.Parse(v, orig)
			if err != nil {
				t.Fatal(err)
			}
			origSigners, _ := RequiredSigners(origEv)
			skip := spanOf(t, orig, "signatures", "unsigned")
			stride := 1
			if testing.Short() {
				stride = 11
			}
			for i := 0; i < len(orig); i += stride {
				if skip(i) {
					continue
				}
				for _, flip := range []byte{0x01, 0x20} {
					m := slices.Clone(orig)
					m[i] ^= flip
					canon, err := canonicaljson.Canonical(m)
					if err == nil && string(canon) == string(orig) {
						continue // the same JSON written differently
					}
					err = VerifyEvent(v, m, ring)
					if err == nil {
						t.Fatalf("byte %d (%q→%q) changed, VerifyEvent = nil\n%s", i, orig[i], m[i], m)
					}
					ev, perr := pdu.Parse(v, m)
					if perr != nil {
						if !errors.Is(err, ErrMalformed) {
							t.Fatalf("byte %d: unparsable event, error %v", i, err)
						}
						continue
					}
					signers, serr := RequiredSigners(ev)
					sameSigned := serr == nil && subset(signers, origSigners) && string(signedForm(t, v, m)) == string(origSigned)
					if sameSigned != errors.Is(err, ErrContentHashMismatch) {
						t.Fatalf("byte %d (%q→%q): signed bytes unchanged %v, error %v", i, orig[i], m[i], sameSigned, err)
					}
					if sameSigned {
						for _, s := range signers {
							if err := VerifyEventSignature(ev, s, ring); err != nil {
								t.Fatalf("byte %d: redactable change broke %s's signature: %v", i, s, err)
							}
						}
					}
				}
			}
		})
	}
}

// signedForm is the redacted event without signatures: what the signatures cover.
func signedForm(tb testing.TB, v roomversion.Version, event []byte) []byte {
	red, err := redaction.Redact(v, event)
	if err != nil {
		return nil
	}
	out, _, err := appendStripped(nil, red, dropSignatures|dropUnsigned)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// spanOf returns a function reporting whether an offset of the canonical object canon lies in
// one of the named top-level members.
func spanOf(tb testing.TB, canon []byte, names ...string) func(int) bool {
	var spans [][2]int
	start := 1
	err := canonicaljson.EachMember(canon, func(key string, value []byte) error {
		// canon is canonical: a member is its key written canonically, ':', its value.
		end := start + len(canonicaljson.AppendString(nil, key)) + 1 + len(value)
		if slices.Contains(names, key) {
			spans = append(spans, [2]int{start, end})
		}
		start = end + 1
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return func(i int) bool {
		for _, s := range spans {
			if i >= s[0] && i < s[1] {
				return true
			}
		}
		return false
	}
}

// TestTamperSignature changes every character of every signature: the event stays valid only
// when the change is in the unused low bits of the last base64 character (the decoded bytes are
// the same), and is otherwise ErrBadSignature.
func TestTamperSignature(t *testing.T) {
	c := loadCorpus(t)
	e := c.Events[7] // a restricted join: two servers' signatures
	ev, err := pdu.Parse(c.Version, e)
	if err != nil {
		t.Fatal(err)
	}
	for _, es := range ev.Signatures {
		server, keyID, sig := es.Server, es.KeyID, es.Value
		orig := make([]byte, 64)
		decodeBase64(orig, sig)
		for i := range sig {
			b := []byte(sig)
			b[i] ^= 0x01
			if b[i] == '=' || b[i] == '\\' || b[i] == '"' {
				continue
			}
			tampered := ev.Signatures.Map()
			tampered[server][keyID] = string(b)
			m := setFields(t, e, map[string]json.RawMessage{"signatures": mustJSON(t, tampered)})
			err := VerifyEvent(c.Version, m, c.Keys)
			dec := make([]byte, 64)
			n, ok := decodeBase64(dec, string(b))
			if ok && n == 64 && string(dec) == string(orig) {
				if err != nil {
					t.Fatalf("%s char %d: same decoded signature, error %v", server, i, err)
				}
				continue
			}
			if !errors.Is(err, ErrBadSignature) {
				t.Fatalf("%s char %d (%q): error %v, want ErrBadSignature", server, i, b[i], err)
			}
		}
	}
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

func mustJSON(tb testing.TB, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

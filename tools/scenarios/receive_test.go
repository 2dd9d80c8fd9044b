package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
)

// threeServers is the base room of the receive flows: alice (a, 100), the moderator (b, 50)
// and carol (c, 0) joined; invite, kick, ban, redact at 50.
func threeServers(t testing.TB, ver string) *room {
	t.Helper()
	r := newRoom(t, ver, "invite", "b.example", "c.example")
	r.inviteAndJoin(t, "@mod:b.example")
	r.inviteAndJoin(t, "@carol:c.example")
	return r
}

// notJoinedRule is the number of "If the sender's current membership state is not join,
// reject" in the room version's text: 6 in v1-5 (rules/fragments/v1-auth-rules.md,
// v3-auth-rules.md: the aliases rule is 4), 5 in v6-11 (rooms/v6.md ... v11.md), 6 in v12.
func notJoinedRule(t testing.TB, ver string) string {
	switch mustVersion(t, ver).Auth.RuleSet {
	case "v1", "v3", "v12":
		return "6"
	}
	return "5"
}

// otherwiseAllowRule is the number of the last rule, "Otherwise, allow": 12 in v1-2, 11 in
// v3-5, 10 in v6-11, 11 in v12.
func otherwiseAllowRule(t testing.TB, ver string) string {
	switch mustVersion(t, ver).Auth.RuleSet {
	case "v1":
		return "12"
	case "v3", "v12":
		return "11"
	}
	return "10"
}

func msg(sender, body string) draft {
	return draft{Type: pdu.TypeMessage, Sender: sender, Content: map[string]any{"msgtype": "m.text", "body": body}}
}

// TestReceiveChecks runs a PDU through checks 1-6 on each server, one failure at a time.
func TestReceiveChecks(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			v := r.f.v

			// A valid message: accepted everywhere, by the last rule, "Otherwise, allow".
			raw := c.build(t, msg("@carol:c.example", "hello"))
			for _, s := range []*server{c, a, b} {
				rc := s.receive(t, "c.example", raw)
				if rc.Outcome != Accepted {
					t.Fatalf("%s: %v %v", s.name, rc.Outcome, rc.Err)
				}
				if want := otherwiseAllowRule(t, ver); rc.Rule != want {
					t.Errorf("%s: allowed by rule %q, want %q", s.name, rc.Rule, want)
				}
			}

			// Check 1: an event without depth is dropped with a *pdu.FormatError.
			bad := edit(t, c.build(t, msg("@carol:c.example", "x")), func(m map[string]any) { delete(m, "depth") })
			if rc := a.receive(t, "c.example", bad); rc.Outcome != DroppedFormat || !errors.Is(rc.Err, pdu.ErrMissingField) {
				t.Errorf("no depth: %v %v", rc.Outcome, rc.Err)
			}

			// Check 2: a signed event whose origin_server_ts was changed in transit.
			bad = edit(t, c.build(t, msg("@carol:c.example", "x")), func(m map[string]any) { m["origin_server_ts"] = json.Number("1") })
			if rc := a.receive(t, "c.example", bad); rc.Outcome != DroppedSig || !errors.Is(rc.Err, signing.ErrBadSignature) {
				t.Errorf("changed timestamp: %v %v", rc.Outcome, rc.Err)
			}
			// Check 2: signed by a key the receiver does not know: fetch keys.
			other := roomgen.TestKey("elsewhere")
			other.Version = "2"
			k2, err := signing.NewSigningKey("2", other.Private.Seed())
			if err != nil {
				t.Fatal(err)
			}
			unsigned := edit(t, c.build(t, msg("@carol:c.example", "k")), func(m map[string]any) { delete(m, "signatures") })
			resigned, err := signing.SignEvent(v, unsigned, "c.example", k2)
			if err != nil {
				t.Fatal(err)
			}
			if rc := a.receive(t, "c.example", resigned); rc.Outcome != NeedKey || !errors.Is(rc.Err, signing.ErrUnknownKey) {
				t.Errorf("unknown key: %v %v", rc.Outcome, rc.Err)
			} else {
				var ve *signing.VerificationError
				if !errors.As(rc.Err, &ve) || ve.Server != "c.example" || ve.KeyID != "ed25519:2" {
					t.Errorf("unknown key: the error names %+v, want c.example ed25519:2", ve)
				}
			}

			// Check 2, key validity: b.example's key expired before the event's timestamp. From
			// v5 the key may not be used (fetch fresher keys); before v5 it is used.
			expired := c.build(t, msg("@carol:c.example", "late"))
			saved := r.f.keys["c.example"]
			r.f.keys["c.example"] = map[string]signing.PublicKey{"ed25519:1": {Key: saved["ed25519:1"].Key, ValidUntilTS: 1000}}
			ev, _ := signing.ParseEvent(v, expired)
			err = signing.VerifyParsedEvent(ev, r.f.keys)
			r.f.keys["c.example"] = saved
			if v.Signing.EnforceKeyValidity {
				if !errors.Is(err, signing.ErrKeyExpired) || signing.VerdictOf(err) != signing.VerdictNeedKey {
					t.Errorf("expired key: %v", err)
				}
			} else if err != nil {
				t.Errorf("expired key before v5: %v", err)
			}

			// Check 3: the content changed in transit: the redacted form is kept, with the same
			// event ID, and it is accepted (a message needs no content).
			orig := c.build(t, msg("@carol:c.example", "secret"))
			origID, _ := signing.EventID(v, orig)
			tampered := edit(t, orig, func(m map[string]any) { m["content"].(map[string]any)["body"] = "changed" })
			rc := a.receive(t, "c.example", tampered)
			if rc.Outcome != Accepted || !rc.Redacted {
				t.Fatalf("content changed: %v redacted=%v %v", rc.Outcome, rc.Redacted, rc.Err)
			}
			if rc.Event.EventID != origID || !bytes.Contains(rc.Event.Raw(), []byte(`"content":{}`)) {
				t.Errorf("content changed: kept %s as %s", rc.Event.EventID, rc.Event.Raw())
			}
			for _, s := range []*server{b, c} {
				if rc := s.receive(t, "c.example", tampered); rc.Outcome != Accepted || !rc.Redacted {
					t.Fatalf("%s: content changed: %v", s.name, rc.Outcome)
				}
			}

			// Check 4: dave, who never joined, sends a message: rejected by its auth events.
			d := r.f.addServer("d.example")
			d.current, d.stateAfter, d.extremity, d.store = c.current, c.stateAfter, c.extremity, c.store
			raw = d.build(t, msg("@dave:d.example", "spam"))
			if rc := a.receive(t, "d.example", raw); rc.Outcome != RejectedAuth || rc.Rule != notJoinedRule(t, ver) || !errors.Is(rc.Err, authrules.ErrSenderNotJoined) {
				t.Errorf("not joined: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
			}
			delete(r.f.servers, "d.example")

			// Check 5: alice bans carol; carol's server then sends a message after the ban
			// (prev event: the ban) citing the auth events of the state before it: its auth
			// events allow it, the state before it does not.
			beforeBan := copyState(a.current)
			a.send(t, draft{Type: pdu.TypeMember, Sender: r.creator, StateKey: str("@carol:c.example"), Content: member("ban")})
			raw = c.build(t, draft{Type: pdu.TypeMessage, Sender: "@carol:c.example", Content: map[string]any{"body": "after"}, AuthFrom: beforeBan})
			if rc := a.receive(t, "c.example", raw); rc.Outcome != RejectedBefore || rc.Rule != notJoinedRule(t, ver) {
				t.Errorf("after the ban: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
			}
		})
	}
}

// TestSoftFailure: an event that its auth events and the state before it allow but the
// current state refuses is soft failed (check 6), not rejected, and does not become the
// extremity.
func TestSoftFailure(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			fork := c.extremity
			forkState := copyState(c.current)
			// The moderator kicks carol; c.example has not received it yet.
			kick := b.build(t, draft{Type: pdu.TypeMember, Sender: "@mod:b.example", StateKey: str("@carol:c.example"), Content: member("leave")})
			for _, s := range []*server{b, a} {
				if rc := s.receive(t, "b.example", kick); rc.Outcome != Accepted {
					t.Fatalf("%s: kick %v %v", s.name, rc.Outcome, rc.Err)
				}
			}
			raw := c.build(t, draft{Type: pdu.TypeMessage, Sender: "@carol:c.example", Content: map[string]any{"body": "concurrent"}, Prev: []string{fork}, AuthFrom: forkState})
			for _, s := range []*server{a, b} {
				ext := s.extremity
				rc := s.receive(t, "c.example", raw)
				if rc.Outcome != SoftFailed || rc.Rule != notJoinedRule(t, ver) || !errors.Is(rc.Err, authrules.ErrSenderNotJoined) {
					t.Errorf("%s: %v rule %s %v", s.name, rc.Outcome, rc.Rule, rc.Err)
				}
				if s.extremity != ext {
					t.Errorf("%s: a soft-failed event became the extremity", s.name)
				}
			}
			// The server that did not see the kick accepts it.
			if rc := c.receive(t, "c.example", raw); rc.Outcome != Accepted {
				t.Errorf("c: %v %v", rc.Outcome, rc.Err)
			}
		})
	}
}

// TestRedactionOrder: a redaction received before its target waits for it, and is applied
// when the target arrives; after it, the served event carries unsigned.redacted_because,
// keeps its event ID, and its signatures still verify (only its content hash fails, as for
// every redacted event).
func TestRedactionOrder(t *testing.T) {
	for _, ver := range allVersions {
		for _, targetFirst := range []bool{false, true} {
			name := "v" + ver + "/redaction-first"
			if targetFirst {
				name = "v" + ver + "/target-first"
			}
			t.Run(name, func(t *testing.T) {
				r := threeServers(t, ver)
				a, b := r.f.servers["a.example"], r.f.servers["b.example"]
				v := r.f.v
				fork := b.extremity
				target := b.build(t, msg("@mod:b.example", "oops"))
				targetID, _ := signing.EventID(v, target)
				if rc := b.receive(t, "b.example", target); rc.Outcome != Accepted {
					t.Fatal(rc.Outcome, rc.Err)
				}
				// The moderator redacts their own message; the redaction's prev event is the one
				// before the target, so a receiver can check it without the target.
				red := b.build(t, draft{Type: pdu.TypeRedaction, Sender: "@mod:b.example", Redacts: targetID, Prev: []string{fork}, Content: map[string]any{}})
				if rc := b.receive(t, "b.example", red); rc.Outcome != Accepted || rc.Redaction != redaction.Apply {
					t.Fatalf("b: %v %v %v", rc.Outcome, rc.Redaction, rc.Err)
				}
				first, second := red, target
				if targetFirst {
					first, second = target, red
				}
				rc := a.receive(t, "b.example", first)
				if rc.Outcome != Accepted {
					t.Fatal(rc.Outcome, rc.Err)
				}
				if !targetFirst && rc.Redaction != redaction.WaitForTarget {
					t.Errorf("redaction before its target: %v, want wait-for-target", rc.Redaction)
				}
				rc = a.receive(t, "b.example", second)
				if rc.Outcome != Accepted {
					t.Fatal(rc.Outcome, rc.Err)
				}
				if targetFirst && rc.Redaction != redaction.Apply {
					t.Errorf("redaction after its target: %v, want apply", rc.Redaction)
				}
				served, ok := a.redacted[targetID]
				if !ok {
					t.Fatalf("the redaction was not applied")
				}
				if !bytes.Equal(served, b.redacted[targetID]) {
					t.Errorf("a and b serve different redacted events:\n%s\n%s", served, b.redacted[targetID])
				}
				m := decode(t, served)
				rb, _ := json.Marshal(m["unsigned"].(map[string]any)["redacted_because"])
				redID, _ := signing.EventID(v, red)
				if id, err := signing.EventID(v, rb); err != nil || id != redID {
					t.Errorf("redacted_because is %s (%v), want the redaction %s", id, err, redID)
				}
				if id, err := signing.EventID(v, served); err != nil || id != targetID {
					t.Errorf("the redacted event's ID is %s (%v), want %s", id, err, targetID)
				}
				if err := signing.VerifyEvent(v, served, r.f.keys); signing.VerdictOf(err) != signing.VerdictRedact {
					t.Errorf("VerifyEvent of the served redacted event: %v, want a content hash mismatch", err)
				}
			})
		}
	}
}

// TestRedactionPermission: carol (power 0, c.example) may not redact the moderator's
// message: v3+ receive the redaction and ignore it (Handling redactions); v1-2 reject it by
// auth rule 11.
func TestRedactionPermission(t *testing.T) {
	for _, ver := range allVersions {
		t.Run("v"+ver, func(t *testing.T) {
			r := threeServers(t, ver)
			a, b, c := r.f.servers["a.example"], r.f.servers["b.example"], r.f.servers["c.example"]
			target := b.send(t, msg("@mod:b.example", "mine"))
			raw := c.build(t, draft{Type: pdu.TypeRedaction, Sender: "@carol:c.example", Redacts: target.EventID, Content: map[string]any{}})
			rc := a.receive(t, "c.example", raw)
			if r.f.v.Auth.RedactionRule {
				if rc.Outcome != RejectedAuth || rc.Rule != "11.3" || !errors.Is(rc.Err, authrules.ErrRedactionNotAllowed) {
					t.Errorf("v1-2: %v rule %s %v", rc.Outcome, rc.Rule, rc.Err)
				}
				return
			}
			if rc.Outcome != Accepted || rc.Redaction != redaction.Ignore {
				t.Errorf("%v %v %v", rc.Outcome, rc.Redaction, rc.Err)
			}
			if _, ok := a.redacted[target.EventID]; ok {
				t.Error("applied")
			}
		})
	}
}

// TestAppliedRedactionIsAnEvent: ApplyRedaction's output "still has the target's event ID and
// signatures" (its doc): VerifyEvent on it gives the verdict of a redacted event
// (VerdictRedact), whatever the size of the redaction it carries in
// unsigned.redacted_because. With a redaction near the size limit the output exceeds
// pdu.MaxEventSize and VerifyEvent rejects it as malformed (finding S2).
func TestAppliedRedactionIsAnEvent(t *testing.T) {
	for _, ver := range allVersions {
		for _, reason := range []int{10, 64500} {
			t.Run(fmt.Sprintf("v%s/reason-%d", ver, reason), func(t *testing.T) {
				r := threeServers(t, ver)
				a, b := r.f.servers["a.example"], r.f.servers["b.example"]
				target := b.send(t, msg("@mod:b.example", "x"))
				red := b.send(t, draft{Type: pdu.TypeRedaction, Sender: "@mod:b.example", Redacts: target.EventID, Content: map[string]any{"reason": strings.Repeat("r", reason)}})
				served := a.redacted[target.EventID]
				if served == nil {
					t.Fatal("not applied")
				}
				_ = red
				err := signing.VerifyEvent(r.f.v, served, r.f.keys)
				// Settled (S2) as ApplyRedaction documents: its output is the client form; past
				// the size limit it is no PDU, and VerifyEvent refuses it.
				switch {
				case reason < 1000 && signing.VerdictOf(err) > signing.VerdictRedact:
					t.Errorf("VerifyEvent of ApplyRedaction's output (%d bytes): %v", len(served), err)
				case reason > 1000 && !errors.Is(err, signing.ErrMalformed):
					t.Errorf("VerifyEvent of ApplyRedaction's output of %d bytes: %v, want ErrMalformed (size)", len(served), err)
				}
			})
		}
	}
}

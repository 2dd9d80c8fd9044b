package claimsc

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// SECURITY.md "Rejected auth events": "Rule 2.3 rejects an event whose auth events were
// rejected — when it knows: authrules.Options.Rejected"; "An auth event that is listed but not
// supplied is a rejection (ErrAuthEventMissing), and a supplied event that is not listed is
// ignored"; "Auth events are matched by event ID: the one signing.ParseEvent computed from their
// bytes (from v3), so a substituted event does not match. An EventID the caller sets on a
// pdu.Event itself is trusted."
func TestSecurityRejectedAuthEvents(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	ev := p.evs[10] // bob's message
	auth := authOfEvents(p, 10)
	if err := authrules.Check(v, ev, auth, nil); err != nil {
		t.Fatal(err)
	}
	var rej *authrules.Rejection
	err := authrules.CheckWithOptions(v, ev, auth, authrules.Options{Rejected: map[string]bool{auth[1].EventID: true}})
	if !errors.As(err, &rej) || rej.Rule != "2.3" || !errors.Is(err, authrules.ErrAuthEventRejected) {
		t.Errorf("a rejected auth event: %v, want rule 2.3", err)
	}
	err = authrules.Check(v, ev, auth[1:], nil)
	if !errors.Is(err, authrules.ErrAuthEventMissing) {
		t.Errorf("a listed auth event not supplied: %v, want ErrAuthEventMissing", err)
	}
	if err := authrules.Check(v, ev, append(append([]*pdu.Event{}, auth...), p.evs[15], p.evs[4]), nil); err != nil {
		t.Errorf("supplied events not listed: %v, want them ignored", err)
	}
	// a substituted event: another power levels event (the refused one, 11) under ... its own ID
	sub := append([]*pdu.Event{}, auth...)
	for i, a := range sub {
		if a.Type == "m.room.power_levels" {
			sub[i] = p.evs[11]
		}
	}
	if err := authrules.Check(v, ev, sub, nil); !errors.Is(err, authrules.ErrAuthEventMissing) && !errors.Is(err, authrules.ErrAuthEventUnexpected) {
		t.Errorf("a substituted power levels event: %v, want it not to match", err)
	}
	// an EventID set by hand is trusted
	forged := *p.evs[11]
	for _, a := range auth {
		if a.Type == "m.room.power_levels" {
			forged.EventID = a.EventID
		}
	}
	for i, a := range sub {
		if a.Type == "m.room.power_levels" {
			sub[i] = &forged
		}
	}
	if err := authrules.Check(v, ev, sub, nil); err != nil {
		t.Errorf("a hand-set EventID: %v, want it trusted", err)
	}
}

// SECURITY.md "What the caller must do" 2: "fetch keys on ErrUnknownKey / ErrKeyExpired (returned
// only when no other signature check failed for good, so a key could still make the event pass)".
func TestSecurityUnknownKeyOnlyWhenNothingFailedForGood(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	join := p.mutate(t, 7, func(m M) { m["signatures"].(M)["c.example"].(M)["ed25519:1"] = p.sig(10, "c.example") })
	// b.example's key unknown, c.example's signature bad
	err := signing.VerifyEvent(v, join, keyRing("c.example"))
	if errors.Is(err, signing.ErrUnknownKey) || !errors.Is(err, signing.ErrBadSignature) {
		t.Errorf("bad sender signature and unknown authoriser key: %v, want ErrBadSignature", err)
	}
	if err := signing.VerifyEvent(v, p.raw[7], keyRing("c.example")); !errors.Is(err, signing.ErrUnknownKey) {
		t.Errorf("only the authoriser's key unknown: %v, want ErrUnknownKey", err)
	}
}

// SECURITY.md "Resource exhaustion": "ACL.Allowed denies names that are not server names, so the
// names it matches are at most 261 bytes".
func TestSecurityACLNames(t *testing.T) {
	acl, err := serveracl.Parse([]byte(`{"allow":["*"],"allow_ip_literals":true}`))
	if err != nil {
		t.Fatal(err)
	}
	label := strings.Repeat("a", 63)
	long := label + "." + label + "." + label + "." + label + ".example" // 263 bytes, DNS-like
	for name, want := range map[string]bool{
		"a.example": true, "a.example:8448": true, "not a server!": false, "": false, long: false,
		"a.example:99999999": false, "[::1]:8448": true,
	} {
		if got := acl.Allowed(name); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", name, got, want)
		}
	}
}

// SECURITY.md "Known issues": "a keys file's "valid_until_ts": 0 switched expiry off (now
// refused)".
func TestSecurityKeysFileValidUntilZero(t *testing.T) {
	p := example(t)
	for ts, ok := range map[string]bool{"0": false, "-1": false, "1.5": false, "1700000099999": true} {
		d := writeFiles(t, map[string][]byte{"k": []byte(`{"c.example":{"ed25519:1":{"key":"` + base64Pub("c.example") + `","valid_until_ts":` + ts + `}}}`)})
		r := run(t, d, p.raw[10], "verify-event", "--room-version", "9", "--keys", "k")
		if ok {
			if out := r.ok(t); out != "{\"valid\":true}\n" {
				t.Errorf("valid_until_ts %s: %q", ts, out)
			}
		} else {
			r.usageError(t, "roomproto verify-event: ", "valid_until_ts")
		}
	}
}

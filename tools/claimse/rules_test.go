package claimse

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// authorisedRule is rule 4.2.1 (v12: 5.2.1).
func authorisedRule(id string) string {
	if id == "12" {
		return "5.2.1"
	}
	return "4.2.1"
}

// leaveWithAuthoriser builds bob's leave carrying join_authorised_via_users_server
// "@alice:a.example", signed by b.example and with a forged a.example signature, and its auth
// events (v12: the create is returned apart).
func leaveWithAuthoriser(t *testing.T, id string) (ev *pdu.Event, auth []*pdu.Event, create *pdu.Event) {
	t.Helper()
	evs := roomState(t, id, nil, "jr_public", `"bob_join"`,
		`{"type": "m.room.member", "state_key": "@bob:b.example", "sender": "@bob:b.example", "content": {"membership": "leave", "join_authorised_via_users_server": "@alice:a.example"}}`)
	leave := evs[len(evs)-1]
	var obj map[string]any
	if err := json.Unmarshal(leave.Raw(), &obj); err != nil {
		t.Fatal(err)
	}
	v := claimkit.Ver(t, id)
	// auth events: the create (not in v12), power levels, bob's join
	ids := []any{evs[2].EventID, evs[4].EventID}
	if !v.Format.RoomIDFromCreateEvent {
		ids = append(ids, evs[0].EventID)
	}
	obj["auth_events"] = ids
	for _, k := range []string{"signatures", "hashes", "unsigned"} {
		delete(obj, k)
	}
	raw, _ := json.Marshal(obj)
	raw, err := signing.SignEvent(v, raw, "b.example", authfixture.Key("b.example"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	obj["signatures"].(map[string]any)["a.example"] = M{"ed25519:1": strings.Repeat("A", 86)}
	raw, _ = json.Marshal(obj)
	p, err := pdu.Parse(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.EventID, err = signing.EventID(v, raw); err != nil {
		t.Fatal(err)
	}
	auth = []*pdu.Event{evs[2], evs[4]} // power levels, bob's join
	if v.Format.RoomIDFromCreateEvent {
		return p, auth, evs[0]
	}
	return p, append(auth, evs[0]), nil
}

// authrules.Options.Keys doc ("a leave carrying a forged authoriser signature passes with nil
// Keys"; "rule 4.2.1 of v8, which reads the key on every membership"); SECURITY.md caller's
// duty 9 ("step 2 covers it for joins only").
func TestAuthoriserOnLeave(t *testing.T) {
	for _, id := range []string{"8", "9", "10", "11", "12"} {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			ev, auth, create := leaveWithAuthoriser(t, id)
			var warned []*authrules.Rejection
			err := authrules.CheckWithOptions(v, ev, auth, authrules.Options{Create: create, Warn: func(r *authrules.Rejection) { warned = append(warned, r) }})
			if err != nil {
				t.Fatalf("nil Keys: %v, want allowed", err)
			}
			if len(warned) != 1 || warned[0].Rule != authorisedRule(id) {
				t.Errorf("nil Keys: warnings %v, want one of rule %s", warned, authorisedRule(id))
			}
			err = authrules.CheckWithOptions(v, ev, auth, authrules.Options{Create: create, Keys: authfixture.KeyRing()})
			var rej *authrules.Rejection
			if !errors.As(err, &rej) || rej.Rule != authorisedRule(id) {
				t.Errorf("with Keys: %v, want rule %s", err, authorisedRule(id))
			}
			// check 2 (RequiredSigners) does not cover a leave's authoriser
			signers, err := signing.RequiredSigners(ev)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range signers {
				if s == "a.example" {
					t.Errorf("RequiredSigners of a leave: %v", signers)
				}
			}
			if err := signing.VerifyEventSignature(ev, "a.example", authfixture.KeyRing()); err == nil {
				t.Error("VerifyEventSignature accepts the forged signature")
			}
		})
	}
}

// README "Without --keys, auth checks rule 4.2.1 (v8+: a membership event carrying
// join_authorised_via_users_server ...) only for the presence of that signature ... and its
// {"allowed":true} does not say so (exit 0 keeps stderr empty): pass --keys".
func TestCLIAuthoriserOnLeave(t *testing.T) {
	d := t.TempDir()
	ev, auth, _ := leaveWithAuthoriser(t, "9")
	evp := filepath.Join(d, "leave.json")
	if err := os.WriteFile(evp, ev.Raw(), 0o644); err != nil {
		t.Fatal(err)
	}
	var raws []json.RawMessage
	for _, a := range auth {
		raws = append(raws, a.Raw())
	}
	ap := writeJSON(t, d, "auth.json", raws)
	kr, _ := json.Marshal(M{"a.example": M{"ed25519:1": base64.RawStdEncoding.EncodeToString(authfixture.Key("a.example").Public())},
		"b.example": M{"ed25519:1": base64.RawStdEncoding.EncodeToString(authfixture.Key("b.example").Public())}})
	kp := filepath.Join(d, "keys.json")
	_ = os.WriteFile(kp, kr, 0o644)
	r := cli.Run(t, d, nil, "auth", "--room-version", "9", "--auth-events", ap, evp)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != `{"allowed":true}` || r.Stderr != "" {
		t.Errorf("without --keys: %+v", r)
	}
	r = cli.Run(t, d, nil, "auth", "--room-version", "9", "--auth-events", ap, "--keys", kp, evp)
	if r.Code != 0 || !strings.Contains(r.Stdout, `"allowed":false`) || !strings.Contains(r.Stdout, `"4.2.1"`) {
		t.Errorf("with --keys: %+v (keys %s)", r, kr)
	}
}

// decisions.md (authrules) "A redacted v8 restricted join fails rule 2.2, not 4.3.5.2 ...
// v9-12 keep the key and the redacted join passes".
func TestRedactedRestrictedJoin(t *testing.T) {
	for _, id := range []string{"8", "9", "10", "11", "12"} {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			evs := roomState(t, id, nil, "jr_restricted", `"restricted_join"`)
			join := evs[len(evs)-1]
			red, err := redaction.Redact(v, join.Raw())
			if err != nil {
				t.Fatal(err)
			}
			rj, err := pdu.Parse(v, red)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Format.HasEventIDField {
				rj.EventID = join.EventID
			}
			var auth []*pdu.Event
			var create *pdu.Event
			for _, e := range evs[:len(evs)-1] {
				if e.Type == "m.room.create" && v.Format.RoomIDFromCreateEvent {
					create = e
					continue
				}
				for _, a := range join.AuthEvents {
					if a == e.EventID {
						auth = append(auth, e)
					}
				}
			}
			// the unredacted join passes
			if err := authrules.CheckWithOptions(v, join, auth, authrules.Options{Create: create, Keys: authfixture.KeyRing()}); err != nil {
				t.Fatalf("unredacted join: %v", err)
			}
			err = authrules.CheckWithOptions(v, rj, auth, authrules.Options{Create: create, Keys: authfixture.KeyRing()})
			if id == "8" {
				var rej *authrules.Rejection
				if !errors.As(err, &rej) || rej.Rule != "2.2" {
					t.Errorf("v8 redacted join: %v, want rule 2.2", err)
				}
			} else if err != nil {
				t.Errorf("v%s redacted join: %v, want allowed", id, err)
			}
		})
	}
}

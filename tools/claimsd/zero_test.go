package claimsd

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// unknownVersions are Versions Lookup would not return: the zero Version, and a copy of v9
// whose rules were altered.
func unknownVersions(t *testing.T) map[string]roomversion.Version {
	altered := claimkit.Ver(t, "9")
	altered.Auth.Knocking = false
	return map[string]roomversion.Version{"zero": {}, "altered v9": altered}
}

// docs/decisions.md cross-package "The zero Version reads as no room version everywhere":
// "Functions without an error result answer "nothing" for a Version roomversion.Lookup would
// not return: membership.Transitions is empty, FindTransition, ClassifyMemberEvent and
// JoinRuleSupported false, authrules.DefaultPowerLevels the defaults without creators,
// authrules.MembershipRule """. Transitions' doc: "it is empty for a Version Lookup would not
// return"; JoinRuleSupported's doc: "false for a Version Lookup would not return";
// DefaultPowerLevels' doc: "the defaults alone: no creator is granted a level".
func TestZeroVersionAnswersNothing(t *testing.T) {
	r := buildRoom(t, "9", "")
	joinRules := []string{"public", "invite", "knock", "restricted", "knock_restricted", "private"}
	memberships := []string{"", "join", "invite", "leave", "ban", "knock"}
	for name, v := range unknownVersions(t) {
		t.Run(name+"/Transitions", func(t *testing.T) {
			if got := membership.Transitions(v); got == nil || len(got) != 0 {
				t.Errorf("Transitions = %v (nil %v), want empty", got, got == nil)
			}
		})
		t.Run(name+"/FindTransition", func(t *testing.T) {
			for _, from := range memberships {
				for _, to := range memberships[1:] {
					for _, self := range []bool{true, false} {
						for _, jr := range joinRules {
							if tr, ok := membership.FindTransition(v, from, to, self, jr); ok {
								t.Errorf("FindTransition(%q→%q self %v %s) = %+v", from, to, self, jr, tr)
							}
						}
					}
				}
			}
		})
		t.Run(name+"/ClassifyMemberEvent", func(t *testing.T) {
			for _, ev := range []*pdu.Event{r.bob, handMade(r.bob), r.alice} {
				for _, jr := range joinRules {
					if tr, ok := membership.ClassifyMemberEvent(v, "", ev, jr); ok {
						t.Errorf("ClassifyMemberEvent(%s, %s) = %+v", *ev.StateKey, jr, tr)
					}
				}
			}
		})
		t.Run(name+"/JoinRuleSupported", func(t *testing.T) {
			for _, jr := range joinRules {
				if membership.JoinRuleSupported(v, jr) {
					t.Errorf("JoinRuleSupported(%s) = true", jr)
				}
			}
		})
		t.Run(name+"/DefaultPowerLevels", func(t *testing.T) {
			pl := authrules.DefaultPowerLevels(v, []string{"@alice:a.example"})
			if len(pl.Users()) != 0 || pl.IsCreator("@alice:a.example") || pl.UserLevel("@alice:a.example") != 0 {
				t.Errorf("users %v, creator %v, level %d; want no creator", pl.Users(), pl.IsCreator("@alice:a.example"), pl.UserLevel("@alice:a.example"))
			}
			def := authrules.DefaultPowerLevels(claimkit.Ver(t, "9"), nil)
			if pl.BanLevel() != def.BanLevel() || pl.StateDefault() != def.StateDefault() || pl.EventsDefault() != def.EventsDefault() || pl.InviteLevel() != def.InviteLevel() {
				t.Errorf("levels differ from the defaults")
			}
		})
		t.Run(name+"/MembershipRule", func(t *testing.T) {
			for _, m := range memberships[1:] {
				if got := authrules.MembershipRule(v, m); got != "" {
					t.Errorf("MembershipRule(%s) = %q", m, got)
				}
			}
		})
		// Not listed, but "Functions without an error result" covers them too.
		t.Run(name+"/KnockAllowedByJoinRule (not listed)", func(t *testing.T) {
			for _, jr := range joinRules {
				if membership.KnockAllowedByJoinRule(v, jr) {
					t.Errorf("KnockAllowedByJoinRule(%s) = true", jr)
				}
			}
		})
		t.Run(name+"/redaction.Decide (not listed)", func(t *testing.T) {
			red := redactionOf(t, r)
			hr, ht := handMade(red), handMade(r.msg)
			if d, why := redaction.Decide(v, hr, ht, 100, 50); d == redaction.Apply { // D4, fixed
				t.Errorf("Decide = Apply (%s)", why)
			}
			if d, why := redaction.DecideCompared(v, hr, ht, 1); d == redaction.Apply { // D4, fixed
				t.Errorf("DecideCompared = Apply (%s)", why)
			}
		})
	}
}

// The same entry: "... the others refuse it with roomversion.ErrUnknownVersion." Every exported
// function with a Version parameter and an error result.
func TestZeroVersionRefusedByTheOthers(t *testing.T) {
	r := buildRoom(t, "9", "")
	raw := r.msg.Raw()
	key := authgen.KeyFor("a.example", "1")
	idx := &canonicaljson.Index{}
	if _, err := canonicaljson.AppendIndexed(nil, raw, canonicaljson.Options{}, idx); err != nil {
		t.Fatal(err)
	}
	for name, v := range unknownVersions(t) {
		for _, c := range []struct {
			fn  string
			err func() error
		}{
			{"authrules.Check", func() error { return authrules.Check(v, r.msg, r.authOf(r.msg), nil) }},
			{"authrules.Check hand-made", func() error { return authrules.Check(v, handMade(r.msg), r.authOf(r.msg), nil) }},
			{"authrules.CheckWithOptions", func() error {
				return authrules.CheckWithOptions(v, handMade(r.msg), r.authOf(r.msg), authrules.Options{})
			}},
			{"authrules.CheckAuthChain", func() error { _, err := authrules.CheckAuthChain(v, r.state(), nil); return err }},
			{"authrules.ParsePowerLevels", func() error { _, err := authrules.ParsePowerLevels(v, r.pl.Content); return err }},
			{"authrules.NewState", func() error { _, err := authrules.NewState(v, nil); return err }},
			{"authrules.AuthEventsNeeded", func() error { _, err := authrules.AuthEventsNeeded(v, handMade(r.msg)); return err }},
			{"redaction.Redact", func() error { _, err := redaction.Redact(v, raw); return err }},
			{"redaction.RedactCanonical", func() error { _, err := redaction.RedactCanonical(v, raw); return err }},
			{"redaction.AppendSignedBytes", func() error { _, err := redaction.AppendSignedBytes(nil, v, raw); return err }},
			{"redaction.AppendSignedBytesIndexed", func() error {
				_, err := redaction.AppendSignedBytesIndexed(nil, v, raw, idx)
				return err
			}},
			{"signing.CheckContentHash", func() error { return signing.CheckContentHash(v, raw) }},
			{"signing.ContentHash", func() error { _, err := signing.ContentHash(v, raw); return err }},
			{"signing.CountersignEvent", func() error { _, err := signing.CountersignEvent(v, raw, "a.example", key); return err }},
			{"signing.EventID", func() error { _, err := signing.EventID(v, raw); return err }},
			{"signing.ParseEvent", func() error { _, err := signing.ParseEvent(v, raw); return err }},
			{"signing.ReferenceHash", func() error { _, err := signing.ReferenceHash(v, raw); return err }},
			{"signing.SignEvent", func() error { _, err := signing.SignEvent(v, raw, "a.example", key); return err }},
			{"signing.VerifyEvent", func() error { return signing.VerifyEvent(v, raw, signing.KeyRing{}) }},
			{"signing.VerifyEvents[0]", func() error { return signing.VerifyEvents(v, [][]byte{raw}, signing.KeyRing{}, nil)[0] }},
			{"signing.ParseAndVerifyEvents[0]", func() error {
				_, errs := signing.ParseAndVerifyEvents(v, [][]byte{raw}, signing.KeyRing{}, nil)
				return errs[0]
			}},
			{"pdu.Parse", func() error { _, err := pdu.Parse(v, raw); return err }},
			{"pdu.ParseIndexed", func() error { _, err := pdu.ParseIndexed(v, raw, idx); return err }},
			{"membership.CheckMakeRequest", func() error {
				return membership.CheckMakeRequest(v, "@bob:b.example", "b.example", []string{"9"})
			}},
			{"membership.SignTemplate", func() error {
				_, err := membership.SignTemplate(v, raw, "b.example", 1, "", "b.example", key)
				return err
			}},
			{"membership.CheckSendJoinResponse", func() error {
				_, err := membership.CheckSendJoinResponse(v, raw, raw, "a.example", signing.KeyRing{})
				return err
			}},
			{"membership.CheckStrippedState problems[0]", func() error {
				_, problems := membership.CheckStrippedState(v, r.id, []json.RawMessage{raw}, nil)
				if len(problems) == 0 {
					return nil
				}
				return problems[0]
			}},
			{"policyserver.AddSignature", func() error {
				_, err := policyserver.AddSignature(v, raw, policyserver.Server{Name: "p.example", PublicKey: "AAAA"}, []byte(`{}`))
				return err
			}},
		} {
			t.Run(name+"/"+c.fn, func(t *testing.T) {
				err := c.err()
				if !errors.Is(err, roomversion.ErrUnknownVersion) {
					t.Errorf("err = %v, want one matching roomversion.ErrUnknownVersion", err)
				}
			})
		}
	}
}

// membership.ClassifyMemberEvent's doc: "ok is also false for an event parsed for another room
// version than v (one made by hand, with the zero Version, is read as an event of v)".
func TestClassifyMemberEventOtherVersion(t *testing.T) {
	for _, p := range pairs {
		asked, parsed := buildRoom(t, p[0], ""), buildRoom(t, p[1], "")
		t.Run("v"+p[0]+" event of v"+p[1], func(t *testing.T) {
			if tr, ok := membership.ClassifyMemberEvent(asked.v, "", parsed.bob, "public"); ok {
				t.Errorf("classified: %+v", tr)
			}
			if _, ok := membership.ClassifyMemberEvent(asked.v, "", handMade(parsed.bob), "public"); !ok {
				t.Errorf("hand-made: not classified")
			}
			if _, ok := membership.ClassifyMemberEvent(asked.v, "", asked.bob, "public"); !ok {
				t.Errorf("own version: not classified")
			}
		})
	}
}

// membership.StripEvent's doc: "An event whose Content is not a JSON object (one made by hand
// without it) is refused (ErrBadInput)."
func TestStripEventContentNotObject(t *testing.T) {
	r := buildRoom(t, "9", "")
	for _, c := range []struct {
		name    string
		content []byte
		ok      bool
	}{
		{"nil", nil, false}, {"empty", []byte{}, false}, {"array", []byte(`[]`), false},
		{"string", []byte(`"x"`), false}, {"null", []byte(`null`), false}, {"number", []byte(`1`), false},
		{"object", []byte(`{"join_rule":"public"}`), true}, {"empty object", []byte(`{}`), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev := handMade(r.jr)
			ev.Content = c.content
			out, err := membership.StripEvent(ev)
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				want := `{"content":` + string(c.content) + `,"sender":"@alice:a.example","state_key":"","type":"m.room.join_rules"}`
				if string(out) != want {
					t.Errorf("%s, want %s", out, want)
				}
				return
			}
			var me *membership.Error
			if !errors.Is(err, membership.ErrBadInput) || !errors.As(err, &me) {
				t.Errorf("err = %v (%T), want a *membership.Error matching ErrBadInput", err, err)
			}
		})
	}
}

// signing.SignedObject.HasValidSignature's doc: "A nil o (what a failed ParseSignedObject
// returns) has no valid signature."
func TestNilSignedObject(t *testing.T) {
	o, err := signing.ParseSignedObject([]byte(`[]`))
	if err == nil || o != nil {
		t.Fatalf("ParseSignedObject([]) = %v, %v; want nil and an error", o, err)
	}
	key := authgen.KeyFor("a.example", "1")
	pub := key.Private.Public().(ed25519.PublicKey)
	for _, p := range []ed25519.PublicKey{nil, make([]byte, 32), pub} {
		if o.HasValidSignature(p) {
			t.Errorf("nil SignedObject has a valid signature for %x", p)
		}
	}
}

package authrules

// The fixture harness: testdata/authrules/*.json hold tables of cases, one case per object,
// read and built by internal/authfixture (see its documentation for the fields and the
// placeholders). tools/authref runs the same cases through its spec-only reference.

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

const fixtureDir = "../testdata/authrules"

type fixtureCase = authfixture.Case

// builtCase is a case with its events built and parsed.
type builtCase struct{ *authfixture.Built }

// builder builds fixture events of one room (authfixture.Builder).
type builder = authfixture.Builder

func testKeyRing(t testing.TB) signing.KeyRing { return authfixture.KeyRing() }

var sentinels = map[string]error{
	"ErrMalformed": ErrMalformed, "ErrCreatePrevEvents": ErrCreatePrevEvents, "ErrCreateRoomID": ErrCreateRoomID,
	"ErrCreateRoomVersion": ErrCreateRoomVersion, "ErrCreateNoCreator": ErrCreateNoCreator,
	"ErrCreateAdditionalCreators": ErrCreateAdditionalCreators, "ErrRoomIDNotCreate": ErrRoomIDNotCreate,
	"ErrAuthEventDuplicate": ErrAuthEventDuplicate, "ErrAuthEventUnexpected": ErrAuthEventUnexpected,
	"ErrAuthEventRejected": ErrAuthEventRejected, "ErrAuthEventNoCreate": ErrAuthEventNoCreate,
	"ErrAuthEventWrongRoom": ErrAuthEventWrongRoom, "ErrAuthEventMissing": ErrAuthEventMissing,
	"ErrNotFederated": ErrNotFederated, "ErrAliases": ErrAliases, "ErrAuthoriserSignature": ErrAuthoriserSignature,
	"ErrSenderNotTarget": ErrSenderNotTarget, "ErrBanned": ErrBanned, "ErrJoinNotAllowed": ErrJoinNotAllowed,
	"ErrRestrictedAuthoriser": ErrRestrictedAuthoriser, "ErrThirdPartyInvite": ErrThirdPartyInvite,
	"ErrSenderNotJoined": ErrSenderNotJoined, "ErrTargetJoined": ErrTargetJoined,
	"ErrInsufficientPower": ErrInsufficientPower, "ErrLeaveNotAllowed": ErrLeaveNotAllowed,
	"ErrKnockNotAllowed": ErrKnockNotAllowed, "ErrUnknownMembership": ErrUnknownMembership,
	"ErrStateKeyNotSender": ErrStateKeyNotSender, "ErrPowerLevelsInvalid": ErrPowerLevelsInvalid,
	"ErrRedactionNotAllowed": ErrRedactionNotAllowed,
}

// loadFixtures reads every case of testdata/authrules/*.json except common.json.
func loadFixtures(t testing.TB) []fixtureCase {
	t.Helper()
	cases, err := authfixture.Load(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	return cases
}

// loadTemplates returns the events of common.json.
func loadTemplates(t testing.TB) map[string]json.RawMessage {
	t.Helper()
	templates, err := authfixture.LoadTemplates(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	return templates
}

// newBuilder returns a builder of events of room roomID in version v.
func newBuilder(t testing.TB, v roomversion.Version, roomID string) *builder {
	return authfixture.NewBuilder(v, loadTemplates(t), roomID)
}

func buildCase(t testing.TB, c fixtureCase, templates map[string]json.RawMessage) (*builtCase, error) {
	b, err := authfixture.BuildCase(c, templates)
	if err != nil {
		return nil, err
	}
	return &builtCase{b}, nil
}

// runCase runs one case and returns the rule that allowed, the warnings and the verdict.
func (bc *builtCase) run(c fixtureCase) (string, []*Rejection, error) {
	var allowedBy string
	var warnings []*Rejection
	calls := 0
	opts := Options{Keys: bc.Keys, Rejected: bc.Rejected, Create: bc.Create,
		Allowed: func(rule string) { allowedBy = rule; calls++ },
		Warn:    func(r *Rejection) { warnings = append(warnings, r) }}
	var verdict error
	if c.State != nil {
		s, err := NewState(bc.V, bc.List)
		if err != nil {
			return "", nil, err
		}
		verdict = s.CheckWithOptions(bc.Event, opts)
	} else {
		verdict = CheckWithOptions(bc.V, bc.Event, bc.List, opts)
	}
	// Options.Allowed is called once for an accepted event, never for a rejected one.
	if verdict == nil && calls != 1 || verdict != nil && calls != 0 {
		allowedBy = fmt.Sprintf("Allowed called %d times (verdict %v)", calls, verdict)
	}
	return allowedBy, warnings, verdict
}

func TestFixtures(t *testing.T) {
	templates := loadTemplates(t)
	for _, c := range loadFixtures(t) {
		t.Run(c.File+"/"+c.Name, func(t *testing.T) {
			bc, err := buildCase(t, c, templates)
			if err != nil {
				t.Fatalf("building the case: %v", err)
			}
			allowedBy, warnings, verdict := bc.run(c)
			checkVerdict(t, c, verdict, allowedBy, warnings)
		})
	}
}

func checkVerdict(t *testing.T, c fixtureCase, verdict error, allowedBy string, warnings []*Rejection) {
	t.Helper()
	if *c.Allowed {
		if verdict != nil {
			t.Fatalf("want allowed by rule %s, got %v", c.Rule, verdict)
		}
		if allowedBy != c.Rule {
			t.Errorf("allowed by rule %q, want rule %q", allowedBy, c.Rule)
		}
	} else {
		var rej *Rejection
		if !errors.As(verdict, &rej) {
			t.Fatalf("want rejection by rule %s, got %v (allowed by %q)", c.Rule, verdict, allowedBy)
		}
		if rej.Rule != c.Rule {
			t.Errorf("rejected by rule %q (%v), want rule %q", rej.Rule, rej, c.Rule)
		}
		if allowedBy != "" {
			t.Errorf("rejected, yet Options.Allowed reported %q", allowedBy)
		}
		wantSev := c.Severity
		if wantSev == "" {
			wantSev = "error"
		}
		if rej.Severity.String() != wantSev {
			t.Errorf("severity %s, want %s (%v)", rej.Severity, wantSev, rej)
		}
		if c.Error != "" {
			s, ok := sentinels[c.Error]
			if !ok {
				t.Fatalf("unknown sentinel %q", c.Error)
			}
			if !errors.Is(verdict, s) {
				t.Errorf("verdict %v does not match %s", verdict, c.Error)
			}
		}
		if !errors.Is(verdict, ErrRejected) || !Rejected(verdict) {
			t.Errorf("rejection does not match ErrRejected")
		}
		if rej.Reason == "" {
			t.Errorf("rejection without reason")
		}
	}
	if c.Warn != "" {
		found := false
		for _, w := range warnings {
			found = found || strings.Contains(w.Reason, c.Warn) && w.Severity == SeverityWarn
		}
		if !found {
			t.Errorf("no warning containing %q in %v", c.Warn, warnings)
		}
	}
}

// TestFixtureCoverage checks that every numbered rule of every rule set (the texts of room
// versions 1-2, 3-5, 6, 7, 8-9, 10, 11 and 12) has at least one allowed and one rejected case
// in the table. A case counts for the rule that decided it (rule) and for the rules it
// exercises on their passing side (covers: for example a join in a public room covers 4.3.2,
// "sender does not match state_key", on its allowing side). The cases of translated_v*.json
// were written from those of versions 8-9 (TestTranslateFixtures) for this coverage.
func TestFixtureCoverage(t *testing.T) {
	// From v10 the power levels rule itself (9, in v12 10) is cited only for a content that is
	// not JSON, which parsing refuses first: its sub-rules check the values. Before v10 it is
	// the rule of invalid values (docs/decisions.md, authrules).
	unreachable := map[string]string{"v10": "9", "v11": "9", "v12": "10"}
	seen := coverage(t, loadFixtures(t))
	done := map[string]bool{}
	for _, v := range roomversion.All() {
		rs := v.Auth.RuleSet
		if done[rs] {
			continue
		}
		done[rs] = true
		if seen[rs] == nil {
			t.Errorf("rule set %s (room version %s): no case", rs, v.ID)
			continue
		}
		want := map[string]bool{}
		for _, n := range numbersFor(rs) {
			if n != "" && n != unreachable[rs] {
				want[n] = true
			}
		}
		var missing []string
		for n := range want {
			s := seen[rs][n]
			switch {
			case s == nil:
				missing = append(missing, n+": no case")
			case !s.allow:
				missing = append(missing, n+": no allowed case")
			case !s.reject:
				missing = append(missing, n+": no rejected case")
			}
		}
		for n := range seen[rs] {
			if !want[n] {
				t.Errorf("rule set %s: the table cites %q, which the text does not number", rs, n)
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("rule set %s rule %s", rs, m)
		}
	}
	if len(done) != 8 {
		t.Errorf("%d rule sets, want 8", len(done))
	}
}

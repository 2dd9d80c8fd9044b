package claimsa

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestRoomVersionLookup checks go doc roomversion.Lookup / All / Known / Default and
// decisions.md "roomversion": "Versions are values, unknown is an error".
func TestRoomVersionLookup(t *testing.T) {
	all := roomversion.All()
	if len(all) != 12 {
		t.Fatalf("All: %d versions, want 12 (decisions roomversion: twelve values)", len(all))
	}
	for i, v := range all {
		if v.ID != claimkit.VersionIDs()[i] {
			t.Errorf("All()[%d].ID = %q, want %q (oldest first)", i, v.ID, claimkit.VersionIDs()[i])
		}
		if !v.Stable {
			t.Errorf("v%s: Stable false; rooms/_index.md lists every version as Stable", v.ID)
		}
		if err := v.Check(); err != nil {
			t.Errorf("v%s: Check() = %v, want nil (go doc Version.Check)", v.ID, err)
		}
		if !roomversion.Known(v.ID) {
			t.Errorf("Known(%q) = false", v.ID)
		}
		if !roomversion.ValidIdentifier(v.ID) {
			t.Errorf("ValidIdentifier(%q) = false", v.ID)
		}
	}
	// Lookup returns a copy: changing it changes no later Lookup.
	v9, _ := roomversion.Lookup("9")
	v9.Auth.StringPowerLevels = false
	v9.Format.MaxDepth = 1
	if v := claimkit.Ver(t, "9"); !v.Auth.StringPowerLevels || v.Format.MaxDepth != 1<<53-1 {
		t.Errorf("Lookup does not return a copy (decisions roomversion: \"returns a copy\")")
	}
	all[0].ID = "x"
	if roomversion.All()[0].ID != "1" {
		t.Errorf("All() shares memory with later calls")
	}
	if roomversion.Default != "12" || !roomversion.Known(roomversion.Default) {
		t.Errorf("Default = %q, want \"12\"", roomversion.Default)
	}
	for _, id := range []string{"", "0", "13", "1.0", "01", " 1", "1 ", "org.matrix.msc2176", "org.matrix.hydra.11", "V1", "99"} {
		v, err := roomversion.Lookup(id)
		var uve *roomversion.UnknownVersionError
		if err == nil || !errors.Is(err, roomversion.ErrUnknownVersion) || !errors.As(err, &uve) || uve.ID != id {
			t.Errorf("Lookup(%q) = %v, %v; want *UnknownVersionError{ID:%q} matching ErrUnknownVersion", id, v.ID, err, id)
			continue
		}
		if !strings.Contains(err.Error(), "unknown room version") || !strings.Contains(err.Error(), id) {
			t.Errorf("UnknownVersionError.Error() = %q: want \"unknown room version\" and the ID", err.Error())
		}
		if uve.Unwrap() != roomversion.ErrUnknownVersion {
			t.Errorf("Unwrap() != ErrUnknownVersion")
		}
		if roomversion.Known(id) {
			t.Errorf("Known(%q) = true", id)
		}
	}
}

// TestRoomVersionCheck checks go doc roomversion.Version.Check: nil for a version Lookup
// returns, an *UnknownVersionError otherwise (zero Version, renamed copy).
func TestRoomVersionCheck(t *testing.T) {
	var zero roomversion.Version
	var uve *roomversion.UnknownVersionError
	if err := zero.Check(); !errors.As(err, &uve) || !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("zero Version: Check() = %v, want *UnknownVersionError", err)
	}
	v := claimkit.Ver(t, "10")
	v.ID = "10.1"
	if err := v.Check(); !errors.As(err, &uve) {
		t.Errorf("renamed copy: Check() = %v, want *UnknownVersionError", err)
	}
	// "Check returns nil when v is a room version the spec defines (one Lookup or All
	// returns)": a copy with another version's flags is not one Lookup returns.
	t.Run("altered-flags", func(t *testing.T) {
		v := claimkit.Ver(t, "10")
		v.Format.StrictCanonicalJSON = false
		v.Redaction = claimkit.Ver(t, "1").Redaction
		if err := v.Check(); !errors.As(err, &uve) || !uve.Altered {
			t.Errorf("v10 with v1 redaction rules and lenient JSON: Check() = %v; doc: nil only for \"one Lookup or All returns\"", err)
		}
	})
}

// TestRoomVersionGrammar checks go doc roomversion.ValidIdentifier.
func TestRoomVersionGrammar(t *testing.T) {
	cases := []struct {
		id   string
		want bool
	}{
		{"1", true}, {"org.matrix.msc1234", true}, {"a-b.c", true}, {strings.Repeat("a", 32), true},
		{strings.Repeat("a", 33), false}, {"", false}, {"A", false}, {"a_b", false}, {"a b", false},
		{"é", false}, {"a:b", false}, {"-", true}, {".", true},
	}
	for _, c := range cases {
		if got := roomversion.ValidIdentifier(c.id); got != c.want {
			t.Errorf("ValidIdentifier(%q) = %v, want %v", c.id, got, c.want)
		}
	}
}

// TestRoomVersionFlags checks every documented range of the flags of Version
// (go doc roomversion.AuthRules, EventFormat, RedactionRules, SigningRules, StateRes and
// the methods) and decisions.md "roomversion" (float ends at v6, rule-set names).
func TestRoomVersionFlags(t *testing.T) {
	type flag struct {
		name   string
		get    func(roomversion.Version) bool
		lo, hi int
	}
	flags := []flag{
		{"Auth.RedactionRule", func(v roomversion.Version) bool { return v.Auth.RedactionRule }, 1, 2},
		{"Auth.SpecialCaseAliases", func(v roomversion.Version) bool { return v.Auth.SpecialCaseAliases }, 1, 5},
		{"Auth.NotificationsPowerLevels", func(v roomversion.Version) bool { return v.Auth.NotificationsPowerLevels }, 6, 12},
		{"Auth.Knocking", func(v roomversion.Version) bool { return v.Auth.Knocking }, 7, 12},
		{"Knocking()", func(v roomversion.Version) bool { return v.Knocking() }, 7, 12},
		{"Auth.RestrictedJoinRule", func(v roomversion.Version) bool { return v.Auth.RestrictedJoinRule }, 8, 12},
		{"RestrictedJoins()", func(v roomversion.Version) bool { return v.RestrictedJoins() }, 8, 12},
		{"Auth.KnockRestrictedJoinRule", func(v roomversion.Version) bool { return v.Auth.KnockRestrictedJoinRule }, 10, 12},
		{"KnockRestrictedJoins()", func(v roomversion.Version) bool { return v.KnockRestrictedJoins() }, 10, 12},
		{"Auth.StringPowerLevels", func(v roomversion.Version) bool { return v.Auth.StringPowerLevels }, 1, 9},
		{"Auth.FloatPowerLevels", func(v roomversion.Version) bool { return v.Auth.FloatPowerLevels }, 1, 5},
		{"Auth.IntegerPowerLevels", func(v roomversion.Version) bool { return v.Auth.IntegerPowerLevels }, 10, 12},
		{"Auth.CreatorInContent", func(v roomversion.Version) bool { return v.Auth.CreatorInContent }, 1, 10},
		{"Auth.CreateRoomIDDomain", func(v roomversion.Version) bool { return v.Auth.CreateRoomIDDomain }, 1, 11},
		{"Auth.SelectCreateEvent", func(v roomversion.Version) bool { return v.Auth.SelectCreateEvent }, 1, 11},
		{"Auth.InfiniteCreatorPower", func(v roomversion.Version) bool { return v.Auth.InfiniteCreatorPower }, 12, 12},
		{"AdditionalCreators()", func(v roomversion.Version) bool { return v.AdditionalCreators() }, 12, 12},
		{"Format.HasEventIDField", func(v roomversion.Version) bool { return v.Format.HasEventIDField }, 1, 2},
		{"Format.ReferencePairs", func(v roomversion.Version) bool { return v.Format.ReferencePairs }, 1, 2},
		{"Format.RedactsInContent", func(v roomversion.Version) bool { return v.Format.RedactsInContent }, 11, 12},
		{"Format.RoomIDFromCreateEvent", func(v roomversion.Version) bool { return v.Format.RoomIDFromCreateEvent }, 12, 12},
		{"Format.StrictCanonicalJSON", func(v roomversion.Version) bool { return v.Format.StrictCanonicalJSON }, 6, 12},
		{"Format.StrictStrippedState", func(v roomversion.Version) bool { return v.Format.StrictStrippedState }, 12, 12},
		{"Redaction.KeepOriginMembershipPrevState", func(v roomversion.Version) bool { return v.Redaction.KeepOriginMembershipPrevState }, 1, 10},
		{"Redaction.KeepAliases", func(v roomversion.Version) bool { return v.Redaction.KeepAliases }, 1, 5},
		{"Redaction.KeepCreateCreatorOnly", func(v roomversion.Version) bool { return v.Redaction.KeepCreateCreatorOnly }, 1, 10},
		{"Redaction.KeepAllCreateContent", func(v roomversion.Version) bool { return v.Redaction.KeepAllCreateContent }, 11, 12},
		{"Redaction.KeepJoinRulesAllow", func(v roomversion.Version) bool { return v.Redaction.KeepJoinRulesAllow }, 8, 12},
		{"Redaction.KeepJoinAuthorisedViaUsersServer", func(v roomversion.Version) bool { return v.Redaction.KeepJoinAuthorisedViaUsersServer }, 9, 12},
		{"Redaction.KeepPowerLevelsInvite", func(v roomversion.Version) bool { return v.Redaction.KeepPowerLevelsInvite }, 11, 12},
		{"Redaction.KeepThirdPartyInviteSigned", func(v roomversion.Version) bool { return v.Redaction.KeepThirdPartyInviteSigned }, 11, 12},
		{"Redaction.KeepRedactionRedacts", func(v roomversion.Version) bool { return v.Redaction.KeepRedactionRedacts }, 11, 12},
		{"Signing.EventIDDomainSigns", func(v roomversion.Version) bool { return v.Signing.EventIDDomainSigns }, 1, 2},
		{"Signing.EnforceKeyValidity", func(v roomversion.Version) bool { return v.Signing.EnforceKeyValidity }, 5, 12},
		{"Signing.AuthorisingServerSigns", func(v roomversion.Version) bool { return v.Signing.AuthorisingServerSigns }, 8, 12},
	}
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		for _, f := range flags {
			if got, want := f.get(v), inRange(id, f.lo, f.hi); got != want {
				t.Errorf("v%s %s = %v, want %v (doc: v%d-%d)", id, f.name, got, want, f.lo, f.hi)
			}
		}
		var wantID roomversion.EventIDFormat
		switch {
		case inRange(id, 1, 2):
			wantID = roomversion.EventIDOpaque
		case id == "3":
			wantID = roomversion.EventIDHashStd
		default:
			wantID = roomversion.EventIDHashURLSafe
		}
		if v.Format.EventID != wantID {
			t.Errorf("v%s Format.EventID = %v, want %v", id, v.Format.EventID, wantID)
		}
		wantDepth := int64(1<<63 - 1)
		if inRange(id, 6, 12) {
			wantDepth = 1<<53 - 1
		}
		if v.Format.MaxDepth != wantDepth {
			t.Errorf("v%s Format.MaxDepth = %d, want %d", id, v.Format.MaxDepth, wantDepth)
		}
		wantSR := roomversion.StateResV2
		switch id {
		case "1":
			wantSR = roomversion.StateResV1
		case "12":
			wantSR = roomversion.StateResV2_1
		}
		if v.StateRes != wantSR {
			t.Errorf("v%s StateRes = %v, want %v", id, v.StateRes, wantSR)
		}
		rs := map[string]string{"1": "v1", "2": "v1", "3": "v3", "4": "v3", "5": "v3", "6": "v6", "7": "v7",
			"8": "v8", "9": "v8", "10": "v10", "11": "v11", "12": "v12"}[id]
		if v.Auth.RuleSet != rs {
			t.Errorf("v%s Auth.RuleSet = %q, want %q (go doc AuthRules.RuleSet, decisions \"Rule-set names\")", id, v.Auth.RuleSet, rs)
		}
	}
	names := map[string]bool{}
	for _, f := range []roomversion.EventIDFormat{roomversion.EventIDOpaque, roomversion.EventIDHashStd, roomversion.EventIDHashURLSafe} {
		names[f.String()] = true
	}
	for _, a := range []roomversion.StateResAlgorithm{roomversion.StateResV1, roomversion.StateResV2, roomversion.StateResV2_1} {
		names[a.String()] = true
	}
	if len(names) != 6 {
		t.Errorf("String() names not distinct: %v", names)
	}
}

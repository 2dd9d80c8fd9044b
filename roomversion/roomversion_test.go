package roomversion_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
)

// TestFeatureMatrix checks every version against the feature matrix of rooms/_index.md.
func TestFeatureMatrix(t *testing.T) {
	raw, err := os.ReadFile("../testdata/roomversion/feature_matrix.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Versions []string          `json:"versions"`
		Features map[string][]bool `json:"features"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	probes := map[string]func(roomversion.Version) bool{
		"knocking":                   roomversion.Version.Knocking,
		"restricted_join_rules":      roomversion.Version.RestrictedJoins,
		"knock_restricted_join_rule": roomversion.Version.KnockRestrictedJoins,
		"additional_room_creators":   roomversion.Version.AdditionalCreators,
	}
	if len(m.Features) != len(probes) {
		t.Fatalf("fixture has %d features, test knows %d", len(m.Features), len(probes))
	}
	for name, want := range m.Features {
		probe := probes[name]
		if probe == nil {
			t.Fatalf("no probe for feature %q", name)
		}
		for i, id := range m.Versions {
			v, err := roomversion.Lookup(id)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", id, err)
			}
			if got := probe(v); got != want[i] {
				t.Errorf("version %s: %s = %v, matrix says %v", id, name, got, want[i])
			}
		}
	}
}

// TestVersionRules pins the per-version switches that the spec's changelog describes
// (spec README "What changed in each room version").
func TestVersionRules(t *testing.T) {
	type row struct {
		id                                 string
		eventID                            roomversion.EventIDFormat
		eventIDField, pairs, strict        bool
		keyValidity, eventIDDomainSigns    bool
		redactionRule, aliases, notifPL    bool
		stringPL, floatPL, intPL           bool
		creatorInContent, selectCreate     bool
		redactsInContent, roomIDFromCreate bool
		ruleSet                            string
		stateRes                           roomversion.StateResAlgorithm
		maxDepth                           int64
	}
	const d63, d53 = 1<<63 - 1, 1<<53 - 1
	rows := []row{
		{"1", roomversion.EventIDOpaque, true, true, false, false, true, true, true, false, true, true, false, true, true, false, false, "v1", roomversion.StateResV1, d63},
		{"2", roomversion.EventIDOpaque, true, true, false, false, true, true, true, false, true, true, false, true, true, false, false, "v1", roomversion.StateResV2, d63},
		{"3", roomversion.EventIDHashStd, false, false, false, false, false, false, true, false, true, true, false, true, true, false, false, "v3", roomversion.StateResV2, d63},
		{"4", roomversion.EventIDHashURLSafe, false, false, false, false, false, false, true, false, true, true, false, true, true, false, false, "v3", roomversion.StateResV2, d63},
		{"5", roomversion.EventIDHashURLSafe, false, false, false, true, false, false, true, false, true, true, false, true, true, false, false, "v3", roomversion.StateResV2, d63},
		{"6", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, true, false, false, true, true, false, false, "v6", roomversion.StateResV2, d53},
		{"7", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, true, false, false, true, true, false, false, "v7", roomversion.StateResV2, d53},
		{"8", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, true, false, false, true, true, false, false, "v8", roomversion.StateResV2, d53},
		{"9", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, true, false, false, true, true, false, false, "v8", roomversion.StateResV2, d53},
		{"10", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, false, false, true, true, true, false, false, "v10", roomversion.StateResV2, d53},
		{"11", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, false, false, true, false, true, true, false, "v11", roomversion.StateResV2, d53},
		{"12", roomversion.EventIDHashURLSafe, false, false, true, true, false, false, false, true, false, false, true, false, false, true, true, "v12", roomversion.StateResV2_1, d53},
	}
	for _, r := range rows {
		v, err := roomversion.Lookup(r.id)
		if err != nil {
			t.Fatal(err)
		}
		got := row{
			v.ID, v.Format.EventID, v.Format.HasEventIDField, v.Format.ReferencePairs, v.Format.StrictCanonicalJSON,
			v.Signing.EnforceKeyValidity, v.Signing.EventIDDomainSigns,
			v.Auth.RedactionRule, v.Auth.SpecialCaseAliases, v.Auth.NotificationsPowerLevels,
			v.Auth.StringPowerLevels, v.Auth.FloatPowerLevels, v.Auth.IntegerPowerLevels,
			v.Auth.CreatorInContent, v.Auth.SelectCreateEvent,
			v.Format.RedactsInContent, v.Format.RoomIDFromCreateEvent,
			v.Auth.RuleSet, v.StateRes, v.Format.MaxDepth,
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("version %s:\n got %+v\nwant %+v", r.id, got, r)
		}
	}
}

// TestRedactionRules pins which keys each version's redaction algorithm keeps (rooms fragments
// v1-redactions, v6-redactions, v8 "Redactions", v9-redactions, v11-redactions).
func TestRedactionRules(t *testing.T) {
	want := map[string]roomversion.RedactionRules{
		"1":  {KeepOriginMembershipPrevState: true, KeepAliases: true, KeepCreateCreatorOnly: true},
		"5":  {KeepOriginMembershipPrevState: true, KeepAliases: true, KeepCreateCreatorOnly: true},
		"6":  {KeepOriginMembershipPrevState: true, KeepCreateCreatorOnly: true},
		"7":  {KeepOriginMembershipPrevState: true, KeepCreateCreatorOnly: true},
		"8":  {KeepOriginMembershipPrevState: true, KeepCreateCreatorOnly: true, KeepJoinRulesAllow: true},
		"9":  {KeepOriginMembershipPrevState: true, KeepCreateCreatorOnly: true, KeepJoinRulesAllow: true, KeepJoinAuthorisedViaUsersServer: true},
		"10": {KeepOriginMembershipPrevState: true, KeepCreateCreatorOnly: true, KeepJoinRulesAllow: true, KeepJoinAuthorisedViaUsersServer: true},
		"11": {KeepAllCreateContent: true, KeepJoinRulesAllow: true, KeepJoinAuthorisedViaUsersServer: true, KeepPowerLevelsInvite: true, KeepThirdPartyInviteSigned: true, KeepRedactionRedacts: true},
		"12": {KeepAllCreateContent: true, KeepJoinRulesAllow: true, KeepJoinAuthorisedViaUsersServer: true, KeepPowerLevelsInvite: true, KeepThirdPartyInviteSigned: true, KeepRedactionRedacts: true},
	}
	for id, w := range want {
		v, _ := roomversion.Lookup(id)
		if v.Redaction != w {
			t.Errorf("version %s redaction rules:\n got %+v\nwant %+v", id, v.Redaction, w)
		}
	}
}

func TestStrictStrippedStateFromV12(t *testing.T) {
	for _, v := range roomversion.All() {
		if want := v.ID == "12"; v.Format.StrictStrippedState != want {
			t.Errorf("version %s: StrictStrippedState = %v, want %v", v.ID, v.Format.StrictStrippedState, want)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, id := range []string{"", "0", "13", "1.0", "org.matrix.msc2176", " 9", "9 "} {
		_, err := roomversion.Lookup(id)
		if !errors.Is(err, roomversion.ErrUnknownVersion) {
			t.Errorf("Lookup(%q) error = %v, want ErrUnknownVersion", id, err)
		}
		var uv *roomversion.UnknownVersionError
		if !errors.As(err, &uv) || uv.ID != id {
			t.Errorf("Lookup(%q): want *UnknownVersionError naming the ID, got %#v", id, err)
		}
		if roomversion.Known(id) {
			t.Errorf("Known(%q) = true", id)
		}
	}
}

func TestAllIsOrderedAndIndependent(t *testing.T) {
	all := roomversion.All()
	if len(all) != 12 {
		t.Fatalf("All() has %d versions, want 12", len(all))
	}
	for i, v := range all {
		if want := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}[i]; v.ID != want || !v.Stable {
			t.Errorf("All()[%d] = %s (stable %v), want %s stable", i, v.ID, v.Stable, want)
		}
	}
	all[8].Auth.RestrictedJoinRule = false // a caller's copy: must not affect the package
	if v, _ := roomversion.Lookup("9"); !v.Auth.RestrictedJoinRule {
		t.Fatal("modifying All()'s result changed the package's versions")
	}
	if roomversion.Default != "12" || !roomversion.Known(roomversion.Default) {
		t.Fatal("Default must be the spec's recommended version 12")
	}
}

func TestValidIdentifier(t *testing.T) {
	cases := map[string]bool{
		"1": true, "1.2": true, "1.2-beta": true, "com.example.version": true,
		"": false, "A": false, "a_b": false, "a b": false, "33333333333333333333333333333333": true,
		"333333333333333333333333333333333": false,
	}
	for id, want := range cases {
		if got := roomversion.ValidIdentifier(id); got != want {
			t.Errorf("ValidIdentifier(%q) = %v, want %v", id, got, want)
		}
	}
}

func ExampleLookup() {
	v, err := roomversion.Lookup("9")
	if err != nil {
		panic(err)
	}
	fmt.Println(v.RestrictedJoins(), v.KnockRestrictedJoins(), v.Format.EventID)
	// Output: true false reference-hash-urlsafe-base64
}

// TestCheck: a Version Lookup or All returns passes Check; the zero Version, a copy renamed to
// an ID the spec does not define, and a copy of a defined version with one rule changed (Altered)
// are *UnknownVersionError values matching ErrUnknownVersion.
func TestCheck(t *testing.T) {
	for _, v := range roomversion.All() {
		if err := v.Check(); err != nil {
			t.Errorf("version %s: %v", v.ID, err)
		}
	}
	renamed, _ := roomversion.Lookup("9")
	renamed.ID = "org.example.nine"
	floaty, _ := roomversion.Lookup("10")
	floaty.Auth.FloatPowerLevels = true
	lenient, _ := roomversion.Lookup("6")
	lenient.Format.StrictCanonicalJSON = false
	v1Rules, _ := roomversion.Lookup("1")
	v1Rules.ID = "10"
	for _, c := range []struct {
		v       roomversion.Version
		altered bool
	}{{roomversion.Version{}, false}, {renamed, false}, {roomversion.Version{ID: "9x"}, false},
		{roomversion.Version{ID: "0"}, false}, {roomversion.Version{ID: "13"}, false}, {roomversion.Version{ID: "01"}, false},
		{roomversion.Version{ID: "1/"}, false}, {roomversion.Version{ID: "1a"}, false}, {roomversion.Version{ID: "100"}, false},
		{roomversion.Version{ID: "9"}, true}, {floaty, true}, {lenient, true}, {v1Rules, true}} {
		err := c.v.Check()
		var uve *roomversion.UnknownVersionError
		if !errors.As(err, &uve) || uve.ID != c.v.ID || uve.Altered != c.altered || !errors.Is(err, roomversion.ErrUnknownVersion) {
			t.Errorf("Check of %q: %v, want an *UnknownVersionError for it (altered %v)", c.v.ID, err, c.altered)
		}
	}
}

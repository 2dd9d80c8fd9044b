// Package roomversion describes every room version of the Matrix specification as data.
//
// A room version fixes the rules every homeserver must apply to the events of a room: the event
// format and how event IDs are derived, the redaction algorithm, the authorization rules, which
// servers must sign an event, how strictly canonical JSON is enforced and which state resolution
// algorithm is used (spec: "Room Versions", rooms/_index.md and rooms/v1.md … rooms/v12.md).
//
// Each version is a [Version] value built from its predecessor ("version 9 is version 8, except
// …"), so a reader sees exactly what changed and the other packages of roomproto never switch on
// the version string: they read the flags of the Version they are given. An unknown version is
// an error ([ErrUnknownVersion]), never a default.
package roomversion

import (
	"errors"
	"fmt"
)

// EventIDFormat says how the ID of an event is obtained (spec: rooms/fragments/v1-event-ids.md,
// rooms/v3.md "Event IDs", rooms/fragments/v4-event-ids.md).
type EventIDFormat int

const (
	// EventIDOpaque: the origin server chooses the ID (`$opaque_id:domain`) and sends it in the
	// event's `event_id` field (room versions 1 and 2).
	EventIDOpaque EventIDFormat = iota + 1
	// EventIDHashStd: the ID is `$` followed by the unpadded standard base64 of the event's
	// reference hash (room version 3).
	EventIDHashStd
	// EventIDHashURLSafe: the ID is `$` followed by the unpadded URL-safe base64 of the event's
	// reference hash (room versions 4 and later).
	EventIDHashURLSafe
)

// String returns a short name of the format.
func (f EventIDFormat) String() string {
	switch f {
	case EventIDOpaque:
		return "opaque"
	case EventIDHashStd:
		return "reference-hash-base64"
	case EventIDHashURLSafe:
		return "reference-hash-urlsafe-base64"
	}
	return fmt.Sprintf("EventIDFormat(%d)", int(f))
}

// StateResAlgorithm names a state resolution algorithm (spec: rooms/v1.md "State resolution",
// rooms/fragments/v2-state-res.md, rooms/v12.md "State resolution").
type StateResAlgorithm int

const (
	// StateResV1 is the original algorithm of room version 1.
	StateResV1 StateResAlgorithm = iota + 1
	// StateResV2 is State Resolution Version 2 (room versions 2 to 11).
	StateResV2
	// StateResV2_1 is the revision of version 2 used by room version 12: resolution starts from
	// an empty state map and includes the conflicted state subgraph.
	StateResV2_1
)

// String returns the algorithm's name as the spec writes it.
func (a StateResAlgorithm) String() string {
	switch a {
	case StateResV1:
		return "v1"
	case StateResV2:
		return "v2"
	case StateResV2_1:
		return "v2.1"
	}
	return fmt.Sprintf("StateResAlgorithm(%d)", int(a))
}

// EventFormat describes the shape of the events (PDUs) of a room version (spec:
// server-server-api "PDUs", data/api/server-server/definitions/pdu_v*.yaml).
type EventFormat struct {
	// EventID says how event IDs are obtained.
	EventID EventIDFormat
	// HasEventIDField: events carry their own `event_id` (v1, v2).
	HasEventIDField bool
	// ReferencePairs: `auth_events` and `prev_events` are lists of `[event_id, {hashes}]` pairs
	// (v1, v2); from v3 they are plain lists of event IDs.
	ReferencePairs bool
	// RedactsInContent: `m.room.redaction` names its target in `content.redacts` rather than in
	// a top-level `redacts` (v11 and later).
	RedactsInContent bool
	// RoomIDFromCreateEvent: the room ID is the create event's ID with the sigil `!`, and the
	// create event itself carries no `room_id` (v12 and later).
	RoomIDFromCreateEvent bool
	// MaxDepth is the largest permitted `depth` (2^63-1 before v6, 2^53-1 from v6).
	MaxDepth int64
	// StrictCanonicalJSON: events must be strictly canonical JSON — integers only, in range, no
	// duplicate keys (v6 and later; rooms/fragments/v6-canonical-json.md). Before v6 servers MUST
	// NOT enforce this (rooms/fragments/v1-canonical-json.md).
	StrictCanonicalJSON bool
	// StrictStrippedState: invalid `invite_room_state` / `knock_room_state` (a missing
	// `m.room.create`, entries not formatted as stripped state or from another room) is an
	// error rather than a warning (room versions after 11; server-server-api "Inviting to a
	// room", invites-v2.yaml).
	StrictStrippedState bool
}

// RedactionRules is the redaction algorithm of a room version: which keys survive (spec:
// rooms/fragments/v1-redactions.md, v6-redactions.md, rooms/v8.md "Redactions",
// v9-redactions.md, v11-redactions.md).
type RedactionRules struct {
	// KeepOriginMembershipPrevState keeps the top-level `origin`, `membership` and `prev_state`
	// keys (v1 to v10; dropped from v11).
	KeepOriginMembershipPrevState bool
	// KeepAliases keeps `aliases` in the content of `m.room.aliases` (v1 to v5).
	KeepAliases bool
	// KeepCreateCreatorOnly keeps only `creator` in the content of `m.room.create` (v1 to v10).
	KeepCreateCreatorOnly bool
	// KeepAllCreateContent keeps every key of the content of `m.room.create` (v11 and later).
	KeepAllCreateContent bool
	// KeepJoinRulesAllow keeps `allow` in the content of `m.room.join_rules` (v8 and later).
	KeepJoinRulesAllow bool
	// KeepJoinAuthorisedViaUsersServer keeps `join_authorised_via_users_server` in the content
	// of `m.room.member` (v9 and later).
	KeepJoinAuthorisedViaUsersServer bool
	// KeepPowerLevelsInvite keeps `invite` in the content of `m.room.power_levels` (v11+).
	KeepPowerLevelsInvite bool
	// KeepThirdPartyInviteSigned keeps `third_party_invite.signed` in the content of
	// `m.room.member` (v11 and later).
	KeepThirdPartyInviteSigned bool
	// KeepRedactionRedacts keeps `redacts` in the content of `m.room.redaction` (v11+).
	KeepRedactionRedacts bool
}

// AuthRules holds the switches of the authorization rules of a room version (spec:
// rooms/fragments/v1-auth-rules.md, v3-auth-rules.md, v8-auth-rules.md and the inline rules of
// rooms/v6.md, v7.md, v10.md, v11.md, v12.md).
type AuthRules struct {
	// RuleSet names the text whose rule numbers rejections cite: "v1" (rooms 1-2), "v3" (3-5),
	// "v6", "v7", "v8" (8-9), "v10", "v11", "v12".
	RuleSet string
	// RedactionRule: `m.room.redaction` events are authorised by a rule of their own (rule 11
	// in v1-2: redact level or same domain as the target). From v3 redactions are authorised
	// like any other event and "Handling redactions" decides whether to apply them.
	RedactionRule bool
	// SpecialCaseAliases: `m.room.aliases` events are allowed when the state key is the
	// sender's domain, before the power level checks (v1 to v5).
	SpecialCaseAliases bool
	// NotificationsPowerLevels: changes to `notifications` in `m.room.power_levels` are
	// checked like the other levels (v6 and later).
	NotificationsPowerLevels bool
	// Knocking: the `knock` join rule and membership exist (v7 and later).
	Knocking bool
	// RestrictedJoinRule: the `restricted` join rule and `join_authorised_via_users_server`
	// exist (v8 and later).
	RestrictedJoinRule bool
	// KnockRestrictedJoinRule: the `knock_restricted` join rule exists (v10 and later).
	KnockRestrictedJoinRule bool
	// StringPowerLevels: power level values may be strings holding integers (v1 to v9,
	// rooms/fragments/v1-stringy-power-levels.md).
	StringPowerLevels bool
	// FloatPowerLevels: power level values may be floats, truncated to integers (v1 to v5,
	// rooms/fragments/v1-floaty-power-levels.md).
	FloatPowerLevels bool
	// IntegerPowerLevels: every power level value must be a JSON integer, else the
	// `m.room.power_levels` event is rejected (v10 and later).
	IntegerPowerLevels bool
	// CreatorInContent: the room creator is `content.creator` of `m.room.create`, which must be
	// present (v1 to v10). From v11 the creator is the create event's `sender`.
	CreatorInContent bool
	// CreateRoomIDDomain: the create event's `room_id` domain must match its sender's domain
	// (v1 to v11). From v12 the create event has no `room_id` at all.
	CreateRoomIDDomain bool
	// SelectCreateEvent: `m.room.create` is one of the auth events selected for every event
	// (v1 to v11); from v12 it MUST NOT be selected and the room ID names it instead.
	SelectCreateEvent bool
	// InfiniteCreatorPower: room creators (create `sender` plus `additional_creators`) have an
	// infinite power level and cannot appear in `users` of power levels (v12 and later).
	InfiniteCreatorPower bool
}

// SigningRules says which servers must sign an event and how keys are checked (spec:
// server-server-api "Validating hashes and signatures on received events",
// rooms/fragments/v5-signing-requirements.md, rooms/fragments/v8-auth-rules.md rule 4.2).
type SigningRules struct {
	// EventIDDomainSigns: the server of the `event_id` domain must also sign (v1, v2).
	EventIDDomainSigns bool
	// EnforceKeyValidity: a key's `valid_until_ts` must be at least the event's
	// `origin_server_ts` (v5 and later).
	EnforceKeyValidity bool
	// AuthorisingServerSigns: a join carrying `join_authorised_via_users_server` must also be
	// signed by that user's server (v8 and later).
	AuthorisingServerSigns bool
}

// Version is one room version: its identifier and every rule set that depends on it.
// Versions are plain values; obtain them with [Lookup] or [All].
type Version struct {
	// ID is the version identifier as used in `m.room.create` content, e.g. "9".
	ID string
	// Stable reports whether the spec lists the version as stable.
	Stable bool
	// Format is the event format.
	Format EventFormat
	// Redaction is the redaction algorithm.
	Redaction RedactionRules
	// Auth are the authorization rule switches.
	Auth AuthRules
	// Signing are the signature requirements.
	Signing SigningRules
	// StateRes is the state resolution algorithm.
	StateRes StateResAlgorithm
}

// Knocking reports whether the version supports knocking (feature matrix, rooms/_index.md).
func (v Version) Knocking() bool { return v.Auth.Knocking }

// RestrictedJoins reports whether the version supports the `restricted` join rule.
func (v Version) RestrictedJoins() bool { return v.Auth.RestrictedJoinRule }

// KnockRestrictedJoins reports whether the version supports the `knock_restricted` join rule.
func (v Version) KnockRestrictedJoins() bool { return v.Auth.KnockRestrictedJoinRule }

// AdditionalCreators reports whether the version has room creators with infinite power
// (`additional_creators`, v12 and later).
func (v Version) AdditionalCreators() bool { return v.Auth.InfiniteCreatorPower }

// ErrUnknownVersion is matched (errors.Is) by every error about a room version roomproto does
// not know.
var ErrUnknownVersion = errors.New("roomversion: unknown room version")

// UnknownVersionError reports a room version identifier that is not one of the spec's.
type UnknownVersionError struct {
	// ID is the identifier that was looked up.
	ID string
	// Altered is set by Version.Check when ID names a room version the spec defines but the
	// Version's rules are not that version's (a copy whose flags were changed).
	Altered bool
}

// Error returns "unknown room version" and the version string.
func (e *UnknownVersionError) Error() string {
	if e.Altered {
		return fmt.Sprintf("roomversion: room version %q with rules other than its own", e.ID)
	}
	return fmt.Sprintf("roomversion: unknown room version %q", e.ID)
}

// Unwrap returns ErrUnknownVersion.
func (e *UnknownVersionError) Unwrap() error { return ErrUnknownVersion }

const (
	maxDepthBeforeV6 = 1<<63 - 1
	maxDepthFromV6   = 1<<53 - 1
)

// v1 is the initial room version (rooms/v1.md).
func v1() Version {
	return Version{
		ID:     "1",
		Stable: true,
		Format: EventFormat{
			EventID:         EventIDOpaque,
			HasEventIDField: true,
			ReferencePairs:  true,
			MaxDepth:        maxDepthBeforeV6,
		},
		Redaction: RedactionRules{
			KeepOriginMembershipPrevState: true,
			KeepAliases:                   true,
			KeepCreateCreatorOnly:         true,
		},
		Auth: AuthRules{
			RuleSet:            "v1",
			RedactionRule:      true,
			SpecialCaseAliases: true,
			StringPowerLevels:  true,
			FloatPowerLevels:   true,
			CreatorInContent:   true,
			CreateRoomIDDomain: true,
			SelectCreateEvent:  true,
		},
		Signing:  SigningRules{EventIDDomainSigns: true},
		StateRes: StateResV1,
	}
}

// v2 is v1 with State Resolution Version 2 (rooms/v2.md).
func v2() Version {
	v := v1()
	v.ID = "2"
	v.StateRes = StateResV2
	return v
}

// v3 is v2 with reference-hash event IDs, plain ID lists, redactions moved out of the auth
// rules and no signature required from the event ID's domain (rooms/v3.md).
func v3() Version {
	v := v2()
	v.ID = "3"
	v.Format.EventID = EventIDHashStd
	v.Format.HasEventIDField = false
	v.Format.ReferencePairs = false
	v.Auth.RuleSet = "v3"
	v.Auth.RedactionRule = false
	v.Signing.EventIDDomainSigns = false
	return v
}

// v4 is v3 with URL-safe base64 event IDs (rooms/v4.md).
func v4() Version {
	v := v3()
	v.ID = "4"
	v.Format.EventID = EventIDHashURLSafe
	return v
}

// v5 is v4 with signing key validity enforced (rooms/v5.md).
func v5() Version {
	v := v4()
	v.ID = "5"
	v.Signing.EnforceKeyValidity = true
	return v
}

// v6 is v5 with strict canonical JSON, the aliases rule removed, notifications power levels
// checked and aliases no longer kept by redaction (rooms/v6.md).
func v6() Version {
	v := v5()
	v.ID = "6"
	v.Format.StrictCanonicalJSON = true
	v.Format.MaxDepth = maxDepthFromV6
	v.Redaction.KeepAliases = false
	v.Auth.RuleSet = "v6"
	v.Auth.SpecialCaseAliases = false
	v.Auth.NotificationsPowerLevels = true
	v.Auth.FloatPowerLevels = false // floats are not canonical JSON, so cannot reach the rules
	return v
}

// v7 is v6 with knocking (rooms/v7.md).
func v7() Version {
	v := v6()
	v.ID = "7"
	v.Auth.RuleSet = "v7"
	v.Auth.Knocking = true
	return v
}

// v8 is v7 with the `restricted` join rule; redaction keeps `allow` (rooms/v8.md).
func v8() Version {
	v := v7()
	v.ID = "8"
	v.Auth.RuleSet = "v8"
	v.Auth.RestrictedJoinRule = true
	v.Redaction.KeepJoinRulesAllow = true
	v.Signing.AuthorisingServerSigns = true
	return v
}

// v9 is v8 with redaction keeping `join_authorised_via_users_server` (rooms/v9.md).
func v9() Version {
	v := v8()
	v.ID = "9"
	v.Redaction.KeepJoinAuthorisedViaUsersServer = true
	return v
}

// v10 is v9 with integer-only power levels and the `knock_restricted` join rule (rooms/v10.md).
func v10() Version {
	v := v9()
	v.ID = "10"
	v.Auth.RuleSet = "v10"
	v.Auth.KnockRestrictedJoinRule = true
	v.Auth.StringPowerLevels = false
	v.Auth.IntegerPowerLevels = true
	return v
}

// v11 is v10 with the clarified redaction algorithm, `redacts` in content and the creator
// taken from the create event's sender (rooms/v11.md).
func v11() Version {
	v := v10()
	v.ID = "11"
	v.Format.RedactsInContent = true
	v.Redaction.KeepOriginMembershipPrevState = false
	v.Redaction.KeepCreateCreatorOnly = false
	v.Redaction.KeepAllCreateContent = true
	v.Redaction.KeepPowerLevelsInvite = true
	v.Redaction.KeepThirdPartyInviteSigned = true
	v.Redaction.KeepRedactionRedacts = true
	v.Auth.RuleSet = "v11"
	v.Auth.CreatorInContent = false
	return v
}

// v12 is v11 with room IDs derived from the create event, infinite creator power and state
// resolution v2.1 (rooms/v12.md).
func v12() Version {
	v := v11()
	v.ID = "12"
	v.Format.RoomIDFromCreateEvent = true
	v.Format.StrictStrippedState = true
	v.Auth.RuleSet = "v12"
	v.Auth.CreateRoomIDDomain = false
	v.Auth.SelectCreateEvent = false
	v.Auth.InfiniteCreatorPower = true
	v.StateRes = StateResV2_1
	return v
}

// known holds every version in order. It is written once, here, and never modified: Lookup
// and All hand out copies.
var known = [...]Version{v1(), v2(), v3(), v4(), v5(), v6(), v7(), v8(), v9(), v10(), v11(), v12()}

// Lookup returns the room version with the given identifier, or an error wrapping
// [ErrUnknownVersion] (an [*UnknownVersionError]) if the spec defines no such version.
func Lookup(id string) (Version, error) {
	for i := range known {
		if known[i].ID == id {
			return known[i], nil
		}
	}
	return Version{}, &UnknownVersionError{ID: id}
}

// Check returns nil when v is a room version the spec defines (one Lookup or All returns, every
// rule as it returns it), and otherwise an [*UnknownVersionError] (with Altered set for a copy of
// a defined version whose rules were changed). The functions of roomproto that take a Version
// call it, so that the zero Version, which has no rules at all, is refused rather than read as a
// room version in which nothing is checked, and a version's ID always means its rules.
func (v Version) Check() error {
	i := knownIndex(v.ID)
	switch {
	case i < 0:
		return &UnknownVersionError{ID: v.ID}
	case known[i] != v:
		return &UnknownVersionError{ID: v.ID, Altered: true}
	}
	return nil
}

// knownIndex returns the index in known of the version whose identifier is id ("1" to "12"),
// or -1: a lookup without a loop, as Check runs at the entry of every hot path.
func knownIndex(id string) int {
	var n int
	switch len(id) {
	case 1:
		n = int(id[0]) - '0'
	case 2:
		if id[0] != '1' {
			return -1
		}
		n = 10 + int(id[1]) - '0'
	default:
		return -1
	}
	if n < 1 || n > len(known) || known[n-1].ID != id {
		return -1
	}
	return n - 1
}

// Known reports whether id is a room version the spec defines.
func Known(id string) bool {
	_, err := Lookup(id)
	return err == nil
}

// All returns every room version the spec defines, oldest first.
func All() []Version {
	out := make([]Version, len(known))
	copy(out, known[:])
	return out
}

// Default is the identifier of the room version servers SHOULD use for new rooms
// (rooms/_index.md "Complete list of room versions").
const Default = "12"

// ValidIdentifier reports whether id obeys the room version grammar (rooms/_index.md "Room
// version grammar"): 1 to 32 characters from a-z, 0-9, '.' and '-'. A valid identifier need not
// be a known version.
func ValidIdentifier(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

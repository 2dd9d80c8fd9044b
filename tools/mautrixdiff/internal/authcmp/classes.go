//go:build goexperiment.jsonv2

package authcmp

import (
	mpdu "maunium.net/go/mautrix/federation/pdu"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// v1-2 events are converted into mautrix PDUs with their event_id as InternalMeta.EventID, which
// GetEventID returns only with this switch on (the other areas never set InternalMeta.EventID).
func init() { mpdu.UseInternalMetaForGetEventID = true }

func cls(id string, cat difftool.Category, desc, spec string) *difftool.Class {
	return &difftool.Class{ID: id, Cat: cat, Desc: desc, Spec: spec}
}

const (
	b = difftool.OracleDeparts
	c = difftool.SpecSilent
)

// Classes are the known divergence classes of authrules against eventauth.Authorize. Spec
// paths are under the spec's content/; "v8 4.3.1" is rule 4.3.1 of
// rooms/fragments/v8-auth-rules.md (mautrix cites the v12 numbering, one more).
var Classes = []*difftool.Class{
	cls("M-aliases-rule-missing", b, "v1-5: mautrix has no m.room.aliases rule: it applies rule 6 (sender joined) and 8 (event level) instead and never checks the state_key against the sender's domain",
		"rooms/fragments/v1-auth-rules.md, v3-auth-rules.md rule 4 \"If type is m.room.aliases ... If sender's domain doesn't match state_key, reject\"; rooms/v6.md \"Rule 4 ... is removed\""),
	cls("M-first-join-single-auth-event", b, "first join (v8 4.3.1, v12 5.3.1): mautrix also requires len(auth_events) <= 1",
		"v8 4.3.1 \"If the only previous event is an m.room.create and the state_key is the creator, allow\" (no condition on auth_events); rooms/v12.md 5.3.1"),
	cls("M-authvia-checked-before-v8", b, "v1-7: mautrix applies the join_authorised_via_users_server signature rule, which exists only from v8 (and always fails it in v1-2)",
		"v8-auth-rules.md 4.2 is {{% added-in v=8 %}}; v1/v3 auth rules, rooms/v6.md and v7.md have no such rule"),
	cls("M-3pid-signature-never-verified", b, "third-party invite: mautrix reads public keys from the member event's content (public_key.token, public_keys as strings) and verifies signed.Str (empty): no valid invite passes",
		"v8 4.4.1.7 \"If any signature in signed matches any public key in the m.room.third_party_invite event, allow. The public keys are in content of m.room.third_party_invite\""),
	cls("M-create-content-room-version-unchecked", b, "rule 1.3: mautrix checks the room version it is called with, never the create's content.room_version (\"99\", 12 as a number)",
		"v1/v8 auth rules 1.3, rooms/v12.md 1.3 \"If content.room_version is present and is not a recognised version, reject\""),
	cls("M-v1v2-redaction-rule-missing", b, "v1-2: mautrix has no m.room.redaction rule 11",
		"rooms/fragments/v1-auth-rules.md 11 \"If type is m.room.redaction\" (redact level, or the same domain of event IDs, else reject)"),
	cls("M-notifications-checked-before-v6", b, "v1-5: mautrix checks changes of notifications, which the rules name only from v6",
		"rooms/v6.md \"the authorisation rules for events of type m.room.power_levels now include a notifications property\"; v1-auth-rules.md 10.4/10.5 name only events"),
	cls("M-creator-is-create-sender", b, "v1-10 without power levels: mautrix gives 100 to the create event's sender, not to content.creator (as GMSL's G-creator-is-create-sender)",
		"m.room.power_levels.yaml \"the room's creator has a power level of 100\"; the creator is content.creator before v11 (rooms/v11.md); decisions.md (authrules) \"Creators\""),
	cls("M-users-key-validation-lax", b, "power levels users keys: mautrix's id.UserID.Parse accepts keys that are not valid user IDs (a server name with a space, '_' or a bad port, over 255 bytes)",
		"v1 10.1 / v8 9.1 / v12 10.3 \"keys that are valid user IDs\"; appendices.md \"Server Name\" (dns-char = DIGIT / ALPHA / \"-\" / \".\") and \"User Identifiers\" (at most 255 bytes)"),
	cls("M-users-bool-level-accepted", b, "v1-9: mautrix reads a users value true/false as 1/0 (Python int())",
		"v8 9.1 \"values that are integers (or a string that is an integer)\"; decisions.md (authrules) \"Booleans ... are never levels\""),
	cls("C-authvia-not-a-user-id", c, "v8+: join_authorised_via_users_server that is not a string naming a user ID (\"\", 5, {}, \"notauser\"): roomproto rejects under 4.2.1, mautrix ignores the key",
		"v8 4.2 (the spec does not say what a value naming no user means); decisions.md (authrules) \"Rule 4.2.1 applies to every membership, not only joins\""),
	cls("C-v1-9-named-level-not-a-level", c, "v1-9: a named level or events value that is not a level (null, a bool, \"1_0\", \"0x5\"): roomproto rejects the new power levels (rule 9, v1-5: 10), mautrix ignores it",
		"v1 10.1 / v8 9.1 validate only users; rooms/fragments/v1-floaty-power-levels.md; decisions.md (authrules) \"Power level values before v10\""),
	cls("C-pl-value-beyond-int64", c, "power level values beyond int64 (strings v1-9, numbers v1-5): mautrix's strconv.Atoi/gjson cannot read them (and an unreadable users value drops every later users entry); roomproto compares exactly",
		"rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md (no range); decisions.md (authrules) \"Power level values before v10\""),
	cls("C-join-rule-not-a-string", c, "join_rules content whose join_rule is not a string: mautrix reads it as invite, roomproto as matching no rule (joins 4.3.7 and knocks 4.7.1 rejected)",
		"the spec gives no default; decisions.md (authrules) \"No m.room.join_rules event, or no join_rule, means invite\" (\"A join_rule that is not a string matches no rule\")"),
}

// ClassByID returns the class of the ID (nil if none).
func ClassByID(id string) *difftool.Class {
	for _, x := range Classes {
		if x.ID == id {
			return x
		}
	}
	return nil
}

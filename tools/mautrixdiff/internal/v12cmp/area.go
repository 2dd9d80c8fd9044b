//go:build goexperiment.jsonv2

package v12cmp

import (
	"math/rand"

	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// Classes found only by this package. The others it finds are the auth, event and selection
// classes of packages authcmp and pducmp; classify* return the names of the scratch harness,
// which merged maps to the tool's class IDs.
var (
	// RoomIDNamesNonCreate: rule 2 with a room ID naming an event that is not a create.
	RoomIDNamesNonCreate = &difftool.Class{ID: "V12-roomid-names-non-create-event", Cat: difftool.OracleDeparts,
		Desc: "v12 room_id = '!' + the ID of an event that is not an m.room.create: mautrix takes whatever event getEvents returns as the create; roomproto rejects (rule 2)",
		Spec: "rooms/v12.md auth rule 2 \"If the event's room_id is not an event ID for an accepted (not rejected) m.room.create event, with the sigil ! instead of $, reject\""}
	// RoomIDWrongSigil: rule 2 with a "$" room ID.
	RoomIDWrongSigil = &difftool.Class{ID: "V12-roomid-wrong-sigil", Cat: difftool.OracleDeparts,
		Desc: "v12 room_id with the '$' sigil (the create's event ID itself): mautrix strips the first character whatever it is and finds the create; roomproto rejects (rule 2: the sigil must be '!')",
		Spec: "rooms/v12.md auth rule 2 \"with the sigil ! instead of $\"; appendices.md \"Room IDs\""}
	// CreateRoomIDEmptyOrNull: a v12 create with room_id "" or null.
	CreateRoomIDEmptyOrNull = &difftool.Class{ID: "V12-create-room-id-empty-or-null", Cat: difftool.OracleDeparts,
		Desc: "v12 create with \"room_id\": \"\" or null: roomproto rejects 1.2 (the key is present); mautrix decodes it to the zero string and drops it (omitzero), so it allows the create and hashes it without the key (other event and room ID)",
		Spec: "rooms/v12.md auth rule 1.2 \"If the event has a room_id, reject\"; rooms/fragments/v11-redactions.md (room_id is a kept key)"}
	// AdditionalCreatorsBadServer: rule 1.4 with a bad server name.
	AdditionalCreatorsBadServer = &difftool.Class{ID: "V12-additional-creators-bad-server-name", Cat: difftool.OracleDeparts,
		Desc: "additional_creators entry whose server name breaks the grammar (\"@carol:c e\", \"@x:a_b.example\"): roomproto rejects 1.4, mautrix accepts any '@..:..'",
		Spec: "rooms/v12.md auth rule 1.4 \"each string passes the same user ID validation applied to sender\"; appendices.md \"Server Name\" (dns-char = DIGIT / ALPHA / \"-\" / \".\"); decisions.md (authrules) \"Rule 1.4 (v12)\""}
	// AdditionalCreatorsTooLong: rule 1.4 with a user ID over 255 bytes.
	AdditionalCreatorsTooLong = &difftool.Class{ID: "V12-additional-creators-user-id-too-long", Cat: difftool.OracleDeparts,
		Desc: "additional_creators entry longer than 255 bytes: roomproto rejects 1.4, mautrix accepts",
		Spec: "rooms/v12.md auth rule 1.4; appendices.md \"User Identifiers\" \"The length of a user ID, including the @ sigil and the domain, MUST NOT exceed 255 bytes\""}
	// AdditionalCreatorsNull: rule 1.4 with null (registered, both reject so far).
	AdditionalCreatorsNull = &difftool.Class{ID: "V12-additional-creators-null", Cat: difftool.SpecSilent,
		Desc: "\"additional_creators\": null: roomproto rejects 1.4 (present and not an array); mautrix has so far rejected it too",
		Spec: "rooms/v12.md auth rule 1.4 \"If the additional_creators property is present and is not an array of strings\"; decisions.md (authrules) \"Rule 1.4 (v12)\""}
	// CreateWithoutRoomVersion: a v12 room whose create has no or another room_version.
	CreateWithoutRoomVersion = &difftool.Class{ID: "V12-create-without-room-version", Cat: difftool.SpecSilent,
		Desc: "v12 room whose create has no (or another) room_version: roomproto applies the v12 rules throughout (creators infinitely high); mautrix reads room_version from the create content to decide the creators' power",
		Spec: "rooms/v12.md \"The power level of room creators is infinitely high\"; decisions.md (authrules) \"Rule 1.3\" (absent means v1; the caller's room version rules)"}
	// StateOfAnotherRoom: the state mode given an event of another room.
	StateOfAnotherRoom = &difftool.Class{ID: "D-state-of-another-room", Cat: difftool.APIScope,
		Desc: "state mode, the event's room_id is not the state's room: roomproto rejects (v12: rule 2 against the state's create; v1-11: a fatal refusal, no rule), mautrix trusts the auth events its caller precomputed",
		Spec: "rooms/v12.md auth rule 2; decisions.md (authrules) \"Events of another room against a State\"; which room a state belongs to is the caller's business in mautrix (Authorize with precomputed auth events)"}
)

// Own lists the classes above.
var Own = []*difftool.Class{RoomIDNamesNonCreate, RoomIDWrongSigil, CreateRoomIDEmptyOrNull, AdditionalCreatorsBadServer,
	AdditionalCreatorsTooLong, AdditionalCreatorsNull, CreateWithoutRoomVersion, StateOfAnotherRoom}

// merged maps the scratch harness's class names to the tool's class IDs.
var merged = map[string]string{
	"pl-users-key-bad-server-name":         "M-users-key-validation-lax",
	"state-mode-event-of-another-room":     StateOfAnotherRoom.ID,
	"roomid-names-non-create-event":        RoomIDNamesNonCreate.ID,
	"roomid-wrong-sigil":                   RoomIDWrongSigil.ID,
	"tpi-keys-read-from-member-event":      "M-3pid-signature-never-verified",
	"select-member-without-state-key":      "SEL-member-without-state_key",
	"select-empty-token-or-authoriser":     "SEL-empty-string-token-or-authoriser",
	"first-join-5.3.1-auth-events-count":   "M-first-join-single-auth-event",
	"create-room-version-content-not-read": "M-create-content-room-version-unchecked",
	"create-room-id-empty-or-null":         CreateRoomIDEmptyOrNull.ID,
	"additional-creators-bad-server-name":  AdditionalCreatorsBadServer.ID,
	"additional-creators-user-id-too-long": AdditionalCreatorsTooLong.ID,
	"additional-creators-null":             AdditionalCreatorsNull.ID,
	"create-without-room-version-v12":      CreateWithoutRoomVersion.ID,
	"redact-drops-event-id-key":            "E-v3plus-event_id-key",
	"redact-3pi-object-without-signed":     "E-tpi-without-signed",
}

// MergedID returns the tool's class ID for a class name of the scratch harness ("" if none).
func MergedID(name string) string { return merged[name] }

// stat records the comparisons of one sub-area (e.g. "auth-events-v12") into the area's tally.
type stat struct {
	t   *difftool.Tally
	sub string
}

func area(t *difftool.Tally, sub string) stat { return stat{t, sub} }

func (s stat) ok() { s.t.Agree() }

func (s stat) diverge(class, input, rp, mx string) {
	ex := stableErr(input + "\nroomproto: " + rp + "\nmautrix:   " + mx)
	if id := merged[class]; id != "" && s.t.Known(id) {
		s.t.Diverge(id, s.sub, ex)
		return
	}
	s.t.Diverge("", s.sub+" | "+class, ex)
}

// RunAuth compares the auth rules on n random rooms (four in five v12, one in five v11), about
// 60 candidates each, against the auth events and against the state, then the hand-built v12
// scenarios.
func RunAuth(t *difftool.Tally, n int, seed int64) {
	runAuth(t, rand.New(rand.NewSource(seed)), n)
	runHand(t, newKeyring())
}

// RunCreate compares rule 1 on n mutated v12 create events.
func RunCreate(t *difftool.Tally, n int, seed int64) {
	runCreate(t, rand.New(rand.NewSource(seed)), n)
}

// RunSelect compares the auth events selection (as sets) on n v11 and v12 events.
func RunSelect(t *difftool.Tally, n int, seed int64) {
	runSelect(t, rand.New(rand.NewSource(seed)), n)
}

// RunHash compares redaction, content hash, event ID, mautrix's verification of roomproto's
// signature and the v12 room ID on n v11 and v12 events.
func RunHash(t *difftool.Tally, n int, seed int64) {
	runHash(t, rand.New(rand.NewSource(seed)), n)
}

//go:build goexperiment.jsonv2

package main

import (
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/mautrixdiff/internal/authcmp"
	"github.com/roomproto/roomproto/tools/mautrixdiff/internal/pducmp"
	"github.com/roomproto/roomproto/tools/mautrixdiff/internal/v12cmp"
)

// corpusPath is the signing corpus of area corpus (18 signed v9 events with their IDs).
var corpusPath = "../../testdata/signing/bench_corpus.json"

func list(cs ...*difftool.Class) []*difftool.Class {
	for _, c := range cs {
		if c == nil {
			panic("a class of an area is missing") // invariant: the IDs below are the packages' own
		}
	}
	return cs
}

var authArea = &difftool.Area{
	Name:     "auth",
	Title:    "authrules.CheckWithOptions (auth events, check 4) and State.CheckWithOptions (state, checks 5/6) vs eventauth.Authorize, room versions 1-12",
	Unit:     "candidate events, each compared in both modes",
	DefaultN: 25000,
	Classes:  authcmp.Classes,
	Run:      authcmp.RunAuth,
}

var v12Area = &difftool.Area{
	Name:     "v12",
	Title:    "room version 12 in depth: authrules vs eventauth.Authorize on random v12 (and v11) rooms, against the auth events and the state, and hand-built v12 scenarios",
	Unit:     "random rooms of 60 candidates (four in five v12)",
	DefaultN: 300,
	Classes: list(v12cmp.RoomIDNamesNonCreate, v12cmp.RoomIDWrongSigil, v12cmp.CreateWithoutRoomVersion, v12cmp.StateOfAnotherRoom,
		authcmp.ClassByID("M-users-key-validation-lax"), authcmp.ClassByID("M-first-join-single-auth-event"),
		authcmp.ClassByID("M-3pid-signature-never-verified")),
	Run: v12cmp.RunAuth,
}

var createArea = &difftool.Area{
	Name:     "create",
	Title:    "v12 create events (rule 1): authrules.Check vs eventauth.Authorize",
	Unit:     "mutated v12 create events",
	DefaultN: 6000,
	Classes: list(v12cmp.CreateRoomIDEmptyOrNull, v12cmp.AdditionalCreatorsBadServer, v12cmp.AdditionalCreatorsTooLong,
		v12cmp.AdditionalCreatorsNull, authcmp.ClassByID("M-create-content-room-version-unchecked")),
	Run: v12cmp.RunCreate,
}

var redactArea = &difftool.Area{
	Name:     "redact",
	Title:    "redaction.Redact vs PDU.Redact + canonicaljson.Marshal (byte equality), and the content alone vs pdu.RedactContent",
	Unit:     "generated events, each in v1-12",
	DefaultN: 3000,
	Classes:  pducmp.Classes("event"),
	Run:      pducmp.RunRedact,
}

var hashArea = &difftool.Area{
	Name:     "hash",
	Title:    "signing.ContentHash, ReferenceHash, EventID vs CalculateContentHash, GetReferenceHash, GetEventID (v1-12), plus v11/v12 events: redaction, IDs, GetRoomID, mautrix verifying roomproto's signature",
	Unit:     "generated events, each in v1-12 (and twice as many v11/v12 events)",
	DefaultN: 3000,
	Classes:  append(pducmp.Classes("event"), v12cmp.CreateRoomIDEmptyOrNull),
	Run: func(t *difftool.Tally, n int, seed int64) {
		pducmp.RunHash(t, n, seed)
		v12cmp.RunHash(t, 2*n, seed)
	},
}

var signArea = &difftool.Area{
	Name:     "sign",
	Title:    "signing.SignEvent / VerifyEvent vs PDU.Sign / VerifySignature + VerifyContentHash (byte-identical signed events, then valid/redact/reject after 21 mutations)",
	Unit:     "generated events (v1-12 in turn), each signed by both sides",
	DefaultN: 1200,
	Classes:  pducmp.Classes("sign"),
	Run:      pducmp.RunSign,
}

var selectArea = &difftool.Area{
	Name:     "select",
	Title:    "authrules.AuthEventsNeeded vs PDU.AuthEventSelection (v1-12 as ordered lists, and v11/v12 events as sets)",
	Unit:     "generated events (and 3/5 as many v11/v12 events)",
	DefaultN: 20000,
	Classes:  pducmp.Classes("select"),
	Run: func(t *difftool.Tally, n int, seed int64) {
		pducmp.RunSelect(t, n, seed)
		v12cmp.RunSelect(t, n*3/5, seed)
	},
}

var corpusArea = &difftool.Area{
	Name:     "corpus",
	Title:    "the signing corpus (v9): both sides reproduce its event IDs and verify it, then verify it after mutations",
	Unit:     "mutations of each corpus event",
	DefaultN: 60,
	Classes:  pducmp.Classes("sign"),
	Run: func(t *difftool.Tally, n int, seed int64) {
		pducmp.RunCorpus(t, corpusPath, n, seed)
	},
}

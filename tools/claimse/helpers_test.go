package claimse

import (
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// knownFinding skips a case that fails today: finding id of tools/claimse/README.md.
// CLAIMSE_KNOWN=1 runs it. No case uses it now that finding E1 is settled; it stays for the
// next ones.
//
//lint:ignore U1000 kept for later findings (README "Findings")
func knownFinding(t *testing.T, id string) { t.Helper(); claimkit.KnownFinding(t, "claimse", id) }

// M is a JSON object literal.
type M = claimkit.M

// roomState builds the state events of a room of version id whose create event has the extra
// content members fed (nil: none) and whose join rule is jr (a template name), with alice
// (a.example, the creator) joined, power levels, and the extra templates given.
func roomState(t testing.TB, id string, fed M, jr string, extra ...string) []*pdu.Event {
	t.Helper()
	v := claimkit.Ver(t, id)
	bid := "!room:a.example"
	if v.Format.RoomIDFromCreateEvent {
		bid = ""
	}
	b := authfixture.NewBuilder(v, claimkit.Templates(t), bid)
	content := M{"creator": "@alice:a.example", "room_version": id}
	plT := "pl"
	if v.Format.RoomIDFromCreateEvent {
		content = M{"room_version": id}
		plT = "pl12"
	}
	for k, x := range fed {
		content[k] = x
	}
	createRaw, _ := json.Marshal(M{"__base": "create", "content": content})
	build := func(raw []byte, auth ...*pdu.Event) *pdu.Event {
		t.Helper()
		ids := []any{}
		for _, a := range auth {
			if a != nil {
				ids = append(ids, a.EventID)
			}
		}
		ev, err := b.Build(json.RawMessage(raw), ids)
		if err != nil {
			t.Fatalf("v%s build %s: %v", id, raw, err)
		}
		return ev
	}
	create := build(createRaw)
	c := create
	if v.Format.RoomIDFromCreateEvent {
		c = nil
		b.RoomID = "!" + create.EventID[1:]
	}
	alice := build([]byte(`"alice_join"`), c)
	pl := build([]byte(`"`+plT+`"`), c, alice)
	evs := []*pdu.Event{create, alice, pl}
	var jrEv *pdu.Event
	if jr != "" {
		jrEv = build([]byte(`"`+jr+`"`), c, alice, pl)
		evs = append(evs, jrEv)
	}
	for _, x := range extra {
		evs = append(evs, build([]byte(x), c, alice, pl, jrEv))
	}
	return evs
}

// cli is the roomproto command, built once per run (claimse-roomproto in the temporary directory).
var cli = claimkit.NewCLI("claimse")

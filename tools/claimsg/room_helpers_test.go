package claimsg

import (
	"testing"

	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/tools/internal/claimroom"
)

// The rooms of the membership tests are built by tools/internal/claimroom, the builder
// tools/claimsf uses too: every event signed by its sender's server with authfixture's keys
// and authorised against the state before it is applied. a.example is the resident.

// ring is the public keys of authfixture's servers.
var ring = authfixture.KeyRing()

// creator is the room creator.
const creator = claimroom.Creator

// room is a room of the shared builder with this package's template signing.
type room struct{ *claimroom.Room }

// newRoom creates a room of version vid: create by alice, alice joined, power levels (alice
// 100 before v12), join rules jr (restricted rules allow the members of !other:b.example),
// and a topic.
func newRoom(t testing.TB, vid, jr string) *room {
	t.Helper()
	r := claimroom.New(t, vid, claimroom.Options{JoinRule: jr})
	r.Add(t, creator, pdu.TypeTopic, "", M{"topic": "a topic"})
	return &room{r}
}

// sign completes and signs a template as the user's server (in v1-2 with the event ID
// "$m:" + server).
func (r *room) sign(t testing.TB, tmpl []byte, user string) []byte {
	t.Helper()
	return r.SignTemplate(t, tmpl, user, "m")
}

package main

import (
	"context"
	"encoding/json"

	"github.com/matrix-org/dendrite/roomserver/acls"
	"github.com/matrix-org/dendrite/roomserver/storage/tables"
	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
)

// dendriteVersion is the Dendrite module the tool compares with (Apache-2.0; the matrix-org
// module, not its AGPL successor).
const dendriteVersion = "github.com/matrix-org/dendrite v0.13.8"

// emptyDB is the database Dendrite's acls.NewServerACLs reads the rooms with ACLs from at
// start-up: it knows none, so the ServerACLs starts empty and each room's ACL is given to it
// with OnServerACLUpdate, as the roomserver does when an m.room.server_acl event enters the
// room's current state.
type emptyDB struct{}

func (emptyDB) RoomsWithACLs(context.Context) ([]string, error) { return nil, nil }

func (emptyDB) GetBulkStateContent(context.Context, []string, []gomatrixserverlib.StateKeyTuple, bool) ([]tables.StrippedEvent, error) {
	return nil, nil
}

// dendriteRoom is the ID of the only room of each ServerACLs the harness makes.
const dendriteRoom = "!room:acldiff.example"

// dendriteACL is a Dendrite ServerACLs holding one room, whose m.room.server_acl content is
// given (hasACL false: the room has no such event).
type dendriteACL struct{ s *acls.ServerACLs }

// newDendriteACL makes a fresh ServerACLs (its regexp cache grows with every pattern it
// compiles, so each content gets its own) and gives it the room's ACL content.
func newDendriteACL(content []byte, hasACL bool) dendriteACL {
	s := acls.NewServerACLs(emptyDB{})
	if hasACL {
		s.OnServerACLUpdate(tables.StrippedEvent{
			RoomID: dendriteRoom, EventType: acls.MRoomServerACL, StateKey: "", ContentValue: string(content),
		})
	}
	return dendriteACL{s}
}

// allowed is Dendrite's verdict on serverName: not IsServerBannedFromRoom.
func (d dendriteACL) allowed(serverName string) bool {
	return !d.s.IsServerBannedFromRoom(spec.ServerName(serverName), dendriteRoom)
}

// dendriteRead is Dendrite's reading of an ACL content: what OnServerACLUpdate decodes
// (encoding/json into acls.ServerACL); on error it logs and keeps no ACL for the room.
func dendriteRead(content []byte) (acls.ServerACL, error) {
	var a acls.ServerACL
	err := json.Unmarshal(content, &a)
	return a, err
}

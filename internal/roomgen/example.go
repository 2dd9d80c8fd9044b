package roomgen

import "github.com/roomproto/roomproto/roomversion"

// ExampleRoom returns the example room of the roomproto command's `replay`: a room version 9
// restricted room of four servers (a.example to d.example, signed with their TestKey) that
// shows the rules at work, one event of each kind:
//
//   - @alice:a.example creates the room and joins; power levels (alice 100, @mod:b.example
//     50; invite, kick, ban and redact at 50); a restricted join rule allowing the members of
//     !space:a.example; history visibility;
//   - alice invites @mod:b.example, who joins;
//   - @bob:c.example joins through a restricted join authorised by @mod:b.example: allowed;
//   - @carol:d.example joins through a restricted join "authorised" by bob, who lacks invite
//     power: rejected, rule 4.3.5.2;
//   - @dave:d.example knocks: rejected, the join rule is restricted, not knock (rule 4.7.1);
//   - bob sends a message; the moderator tries to raise himself to 100: rejected; alice
//     redacts bob's message; the moderator bans bob; bob, banned, sends a message: rejected
//     (rule 5); alice names the room.
func ExampleRoom() (*Room, error) {
	v, err := roomversion.Lookup("9")
	if err != nil {
		return nil, err
	}
	servers := []string{"a.example", "b.example", "c.example", "d.example"}
	g := newGenServers(v, Config{RoomVersion: "9", Seed: 1}, servers)
	g.room.RoomID = "!example:a.example"
	alice, mod, bob, carol, dave := "@alice:a.example", "@mod:b.example", "@bob:c.example", "@carol:d.example", "@dave:d.example"
	g.creator = alice
	g.power[alice] = 100
	g.power[mod] = 50
	pl := func() map[string]any {
		c := g.powerLevelsContent()
		// Power levels at state_default (50), so that the moderator may try to change them.
		delete(c["events"].(map[string]any), "m.room.power_levels")
		return c
	}
	var msgID string
	steps := []func() error{
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.create", stateKey: sk(""),
				content: map[string]any{"creator": alice, "room_version": "9"}, outcome: Outcome{Note: "create"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.member", stateKey: sk(alice),
				content: map[string]any{"membership": "join", "displayname": "Alice"}, outcome: Outcome{Note: "creator joins"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.power_levels", stateKey: sk(""), content: pl(), outcome: Outcome{Note: "power levels"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.join_rules", stateKey: sk(""), content: map[string]any{
				"join_rule": "restricted",
				"allow":     []any{map[string]any{"type": "m.room_membership", "room_id": "!space:a.example"}},
			}, outcome: Outcome{Note: "restricted join rule"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.history_visibility", stateKey: sk(""),
				content: map[string]any{"history_visibility": "shared"}, outcome: Outcome{Note: "history visibility"}})
			return err
		},
		func() error { return g.inviteJoin(alice, mod) },
		func() error {
			_, err := g.emit(spec{sender: bob, typ: "m.room.member", stateKey: sk(bob), authoriser: mod,
				content: map[string]any{"membership": "join", "displayname": "Bob", "join_authorised_via_users_server": mod},
				outcome: Outcome{Note: "restricted join via an authoriser"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: carol, typ: "m.room.member", stateKey: sk(carol), authoriser: bob,
				content: map[string]any{"membership": "join", "displayname": "Carol", "join_authorised_via_users_server": bob},
				outcome: Outcome{Rejected: true, Rule: "4.3.5.2", Note: "restricted join, authoriser lacks invite power"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: dave, typ: "m.room.member", stateKey: sk(dave),
				content: map[string]any{"membership": "knock", "displayname": "Dave"},
				outcome: Outcome{Rejected: true, Rule: "4.7.1", Note: "knock in a restricted room"}})
			return err
		},
		func() (err error) {
			msgID, err = g.emit(spec{sender: bob, typ: "m.room.message",
				content: map[string]any{"msgtype": "m.text", "body": "Hello, room!"}, outcome: Outcome{Note: "message"}})
			return err
		},
		func() error {
			c := pl()
			c["users"].(map[string]any)[mod] = 100
			_, err := g.emit(spec{sender: mod, typ: "m.room.power_levels", stateKey: sk(""), content: c,
				outcome: Outcome{Rejected: true, Rule: "9.7.1", Note: "moderator raises himself above his level"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.redaction", redacts: msgID,
				content: map[string]any{"reason": "off topic"}, outcome: Outcome{Note: "redaction"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: mod, typ: "m.room.member", stateKey: sk(bob),
				content: map[string]any{"membership": "ban", "reason": "spam"}, outcome: Outcome{Note: "ban"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: bob, typ: "m.room.message",
				content: map[string]any{"msgtype": "m.text", "body": "Am I still here?"},
				outcome: Outcome{Rejected: true, Rule: "5", Note: "message by a banned user"}})
			return err
		},
		func() error {
			_, err := g.emit(spec{sender: alice, typ: "m.room.name", stateKey: sk(""),
				content: map[string]any{"name": "Example room"}, outcome: Outcome{Note: "name"}})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return g.room, nil
}

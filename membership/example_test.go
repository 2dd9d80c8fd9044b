package membership_test

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// key returns a server's signing key (seed: sha256 of its name; for examples only).
func key(server string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, _ := signing.NewSigningKey("1", seed[:])
	return k
}

// exampleRoom returns the current state of a restricted room of version 10 resident on
// a.example: members of !space:a.example may join. @alice:a.example (100) and
// @mod:a.example (50) are joined; inviting needs 50; @alice has invited the invited users. It
// also returns the last event's ID and depth, for the templates.
func exampleRoom(invited ...string) (*authrules.State, string, int64) {
	v, _ := roomversion.Lookup("10")
	var (
		events []*pdu.Event
		prev   []string
		depth  int64
	)
	add := func(typ, stateKey, sender string, content string) {
		depth++
		authEvents := []string{}
		if len(events) > 0 {
			authEvents = append(authEvents, events[0].EventID) // enough for an example state
		}
		fields := map[string]any{
			"room_id": "!restricted:a.example", "type": typ, "state_key": stateKey, "sender": sender,
			"content": json.RawMessage(content), "depth": depth, "origin_server_ts": 1700000000000 + depth,
			"prev_events": append([]string{}, prev...), "auth_events": authEvents,
		}
		raw, _ := json.Marshal(fields)
		signed, err := signing.SignEvent(v, raw, "a.example", key("a.example"))
		if err != nil {
			panic(err)
		}
		ev, err := signing.ParseEvent(v, signed)
		if err != nil {
			panic(err)
		}
		events = append(events, ev)
		prev = []string{ev.EventID}
	}
	add("m.room.create", "", "@alice:a.example", `{"creator":"@alice:a.example","room_version":"10"}`)
	add("m.room.member", "@alice:a.example", "@alice:a.example", `{"membership":"join"}`)
	add("m.room.power_levels", "", "@alice:a.example", `{"users":{"@alice:a.example":100,"@mod:a.example":50},"invite":50}`)
	add("m.room.join_rules", "", "@alice:a.example", `{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!space:a.example"}]}`)
	add("m.room.member", "@mod:a.example", "@mod:a.example", `{"membership":"join"}`)
	for _, u := range invited {
		add("m.room.member", u, "@alice:a.example", `{"membership":"invite"}`)
	}
	s, err := authrules.NewState(v, events)
	if err != nil {
		panic(err)
	}
	return s, prev[0], depth
}

// A resident server answers /make_join for @zed:z.example, who is joined to the allowed
// room !space:a.example: the template names an authorising user of the resident server.
func ExampleMakeJoin() {
	state, last, depth := exampleRoom()
	rooms := membership.KnownRooms{"!space:a.example": {"@zed:z.example": "join"}}

	d, tmpl, err := membership.MakeJoin(
		membership.JoinRequest{State: state, UserID: "@zed:z.example", ResidentServer: "a.example", Rooms: rooms},
		membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1700000001000, PrevEvents: []string{last}, Depth: depth + 1},
	)
	if err != nil {
		var e *membership.Error
		errors.As(err, &e)
		fmt.Println(e.Status, string(e.JSON())) // the error response to send
		return
	}
	var ev struct {
		Content json.RawMessage `json:"content"`
	}
	_ = json.Unmarshal(tmpl.Event, &ev)
	fmt.Println("basis:", d.Basis)
	fmt.Println("content:", string(ev.Content))
	// Output:
	// basis: condition
	// content: {"join_authorised_via_users_server":"@alice:a.example","membership":"join"}
}

// When the resident server does not participate in any allowed room it cannot check the
// conditions: the joining server should try another resident.
func ExampleMakeJoin_unverifiable() {
	state, last, depth := exampleRoom()
	_, _, err := membership.MakeJoin(
		membership.JoinRequest{State: state, UserID: "@zed:z.example", ResidentServer: "a.example"},
		membership.TemplateOptions{Origin: "a.example", PrevEvents: []string{last}, Depth: depth + 1},
	)
	var e *membership.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.ErrCode, "try another server:", e.TryAnotherServer())
	}
	// Output:
	// 400 M_UNABLE_TO_AUTHORISE_JOIN try another server: true
}

// The whole handshake: the resident's make_join, the joining server's checks and signature,
// the resident's send_join (which adds its own signature), and the joining server's check of
// the event it gets back.
func ExampleSendJoin() {
	state, last, depth := exampleRoom()
	v := state.Version()
	rooms := membership.KnownRooms{"!space:a.example": {"@zed:z.example": "join"}}
	zKey, aKey := key("z.example"), key("a.example")
	keys := signing.KeyRing{
		"z.example": {zKey.KeyID(): {Key: zKey.Public()}},
		"a.example": {aKey.KeyID(): {Key: aKey.Public()}},
	}

	// Resident: GET /make_join.
	_, tmpl, err := membership.MakeJoin(
		membership.JoinRequest{State: state, UserID: "@zed:z.example", ResidentServer: "a.example", Rooms: rooms},
		membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1700000001000, PrevEvents: []string{last}, Depth: depth + 1},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Joining server: check the template, complete and sign it.
	if err := membership.CheckJoinTemplate("!restricted:a.example", "@zed:z.example", tmpl.Event); err != nil {
		fmt.Println(err)
		return
	}
	join, err := membership.SignTemplate(v, tmpl.Event, "z.example", 1700000002000, "", "z.example", zKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Resident: PUT /send_join.
	res, err := membership.SendJoin(membership.SendJoinRequest{
		State: state, ResidentServer: "a.example", Rooms: rooms, Origin: "z.example",
		Event: join, Key: aKey, Keys: keys,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accepted:", res.Parsed.Type, res.Parsed.StateKey != nil && *res.Parsed.StateKey == "@zed:z.example")
	fmt.Println("signed by a.example:", res.Parsed.Signatures.Signed("a.example"))
	// Joining server: the response's `event` is the event sent, plus the resident's signature.
	if _, err := membership.CheckSendJoinResponse(v, join, res.Event, "a.example", keys); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("response checked")

	// A joining server that swaps in a user who cannot invite is refused by the auth rules.
	var m map[string]any
	_ = json.Unmarshal(join, &m)
	m["content"] = map[string]any{"membership": "join", "join_authorised_via_users_server": "@nobody:a.example"}
	delete(m, "signatures")
	bad, _ := json.Marshal(m)
	bad, _ = signing.SignEvent(v, bad, "z.example", zKey)
	_, err = membership.SendJoin(membership.SendJoinRequest{State: state, ResidentServer: "a.example", Rooms: rooms, Event: bad, Key: aKey, Keys: keys})
	var e *membership.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.ErrCode, errors.Is(err, membership.ErrAuthRules))
	}
	// Output:
	// accepted: m.room.member true
	// signed by a.example: true
	// response checked
	// 403 M_FORBIDDEN true
}

// @zed:z.example, invited by @alice, rejects the invite through the resident a.example: the
// resident's make_leave, the leaving server's checks and signature, and the resident's
// send_leave, which accepts the leave as it is (it adds no signature) and answers {} (v2).
// Once the leave is in the room, a second one is refused: zed is no longer in the room.
func ExampleSendLeave() {
	state, last, depth := exampleRoom("@zed:z.example")
	v := state.Version()
	zKey := key("z.example")
	keys := signing.KeyRing{"z.example": {zKey.KeyID(): {Key: zKey.Public()}}}

	// Resident: GET /make_leave (after CheckMakeRequest with the request's origin, and the ACL).
	if err := membership.CheckMakeRequest(v, "@zed:z.example", "z.example", nil); err != nil {
		fmt.Println(err)
		return
	}
	tmpl, err := membership.MakeLeave(state, "@zed:z.example",
		membership.TemplateOptions{Origin: "a.example", OriginServerTS: 1700000001000, PrevEvents: []string{last}, Depth: depth + 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Leaving server: check the template, complete and sign it.
	if err := membership.CheckLeaveTemplate("!restricted:a.example", "@zed:z.example", tmpl.Event); err != nil {
		fmt.Println(err)
		return
	}
	leave, err := membership.SignTemplate(v, tmpl.Event, "z.example", 1700000002000, "", "z.example", zKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Resident: PUT /send_leave.
	res, err := membership.SendLeave(membership.SendLeaveRequest{State: state, Origin: "z.example", Event: leave, Keys: keys})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accepted:", res.Parsed.Membership, "signed by a.example:", res.Parsed.Signatures.Signed("a.example"))
	fmt.Println("v2 body:", string(res.JSON()))

	// The resident applies the leave; a second make_leave is refused.
	if err := state.Apply(res.Parsed); err != nil {
		fmt.Println(err)
		return
	}
	_, err = membership.MakeLeave(state, "@zed:z.example", membership.TemplateOptions{Origin: "a.example", PrevEvents: []string{res.Parsed.EventID}, Depth: depth + 2})
	var e *membership.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, string(e.JSON()))
	}
	// Output:
	// accepted: leave signed by a.example: false
	// v2 body: {}
	// 403 {"errcode":"M_FORBIDDEN","error":"@zed:z.example is not a member, so cannot leave: a user leaves only from invite, join or knock in room version 10 (auth rule 4.5.1)"}
}

// The membership state machine answers what a moderator may do with a knock.
func ExampleFindTransition() {
	v, _ := roomversion.Lookup("10")
	for _, to := range []string{"invite", "leave", "ban"} {
		t, _ := membership.FindTransition(v, "knock", to, false, "knock")
		fmt.Printf("%s → %s: %s (%s, needs %v)\n", t.From, t.To, t.Meaning, t.Action, t.Levels)
	}
	// Output:
	// knock → invite: accept the knock (invite, needs [invite])
	// knock → leave: reject the knock (kick, needs [kick])
	// knock → ban: reject the knock and ban the user (ban, needs [ban])
}

// A resident server decides three join requests for its restricted room: a user joined to
// the allowed room (allowed, with an authorising user), a user who is not (403), and a user
// whose membership of the allowed room the resident cannot see (400: try another server).
func ExampleDecideJoin() {
	state, _, _ := exampleRoom()
	rooms := membership.KnownRooms{"!space:a.example": {"@zed:z.example": "join"}}
	for _, req := range []membership.JoinRequest{
		{State: state, UserID: "@zed:z.example", ResidentServer: "a.example", Rooms: rooms},
		{State: state, UserID: "@eve:e.example", ResidentServer: "a.example", Rooms: rooms},
		{State: state, UserID: "@zed:z.example", ResidentServer: "a.example"}, // rooms unknown
	} {
		d, err := membership.DecideJoin(req)
		var e *membership.Error
		if errors.As(err, &e) {
			fmt.Println(e.Status, string(e.JSON()), "try another server:", e.TryAnotherServer())
			continue
		}
		fmt.Println(d.Basis, d.AuthorisingUser)
	}
	// Output:
	// condition @alice:a.example
	// 403 {"errcode":"M_FORBIDDEN","error":"@eve:e.example is not joined to any room the join rules allow"} try another server: false
	// 400 {"errcode":"M_UNABLE_TO_AUTHORISE_JOIN","error":"a.example cannot check whether @zed:z.example is joined to !space:a.example; try another server"} try another server: true
}

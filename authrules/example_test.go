package authrules_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// event parses an example event; hashes and signatures are placeholders, which the
// authorization rules do not look at.
func event(v roomversion.Version, json string) *pdu.Event {
	ev, err := signing.ParseEvent(v, []byte(json))
	if err != nil {
		panic(err)
	}
	return ev
}

const common = `"room_id":"!room:a.example","origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{},"prev_events":[]`

// A message is authorised against its auth events: the create event, the power levels and the
// sender's membership.
func ExampleCheck() {
	v, _ := roomversion.Lookup("9")
	create := event(v, `{"type":"m.room.create","state_key":"","sender":"@alice:a.example","content":{"creator":"@alice:a.example","room_version":"9"},"depth":1,"auth_events":[],`+common+`}`)
	join := event(v, `{"type":"m.room.member","state_key":"@bob:b.example","sender":"@bob:b.example","content":{"membership":"join"},"depth":2,"auth_events":[],`+common+`}`)
	pl := event(v, `{"type":"m.room.power_levels","state_key":"","sender":"@alice:a.example","content":{"users":{"@alice:a.example":100},"events_default":10},"depth":3,"auth_events":[],`+common+`}`)

	msg := event(v, fmt.Sprintf(`{"type":"m.room.message","sender":"@bob:b.example","content":{"body":"hi"},"depth":4,"auth_events":[%q,%q,%q],`+common+`}`,
		create.EventID, pl.EventID, join.EventID))
	err := authrules.Check(v, msg, []*pdu.Event{create, pl, join}, nil)

	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		fmt.Println("rejected by rule", rej.Rule, "-", rej.Severity)
		fmt.Println(rej.Reason)
		fmt.Println(errors.Is(err, authrules.ErrInsufficientPower))
	}
	// Output:
	// rejected by rule 7 - error
	// sender level 0 is below the level 10 required for "m.room.message"
	// true
}

// A State parses the room state once; many events are then checked against it cheaply (the
// "current state" check that decides soft failure).
func ExampleState_Check() {
	v, _ := roomversion.Lookup("9")
	state, err := authrules.NewState(v, []*pdu.Event{
		event(v, `{"type":"m.room.create","state_key":"","sender":"@alice:a.example","content":{"creator":"@alice:a.example","room_version":"9"},"depth":1,"auth_events":[],`+common+`}`),
		event(v, `{"type":"m.room.member","state_key":"@alice:a.example","sender":"@alice:a.example","content":{"membership":"join"},"depth":2,"auth_events":[],`+common+`}`),
		event(v, `{"type":"m.room.join_rules","state_key":"","sender":"@alice:a.example","content":{"join_rule":"invite"},"depth":3,"auth_events":[],`+common+`}`),
		event(v, `{"type":"m.room.member","state_key":"@eve:e.example","sender":"@alice:a.example","content":{"membership":"ban"},"depth":4,"auth_events":[],`+common+`}`),
	})
	if err != nil {
		panic(err)
	}
	for _, who := range []string{"@bob:b.example", "@eve:e.example"} {
		join := event(v, `{"type":"m.room.member","state_key":"`+who+`","sender":"`+who+`","content":{"membership":"join"},"depth":5,"auth_events":[],`+common+`}`)
		fmt.Println(who, state.Check(join, nil))
	}
	fmt.Println("join rule:", state.JoinRules().Rule, "- alice's level:", state.PowerLevels().UserLevel("@alice:a.example"))
	// Output:
	// @bob:b.example authrules: rule 4.3.7: join rule "invite" does not let "@bob:b.example" join from membership none
	// @eve:e.example authrules: rule 4.3.3: sender "@eve:e.example" is banned
	// join rule: invite - alice's level: 100
}

// The auth events a restricted join needs include the authorising user's membership.
func ExampleAuthEventsNeeded() {
	v, _ := roomversion.Lookup("9")
	join := event(v, `{"type":"m.room.member","state_key":"@bob:b.example","sender":"@bob:b.example","content":{"membership":"join","join_authorised_via_users_server":"@alice:a.example"},"depth":5,"auth_events":[],`+common+`}`)
	keys, _ := authrules.AuthEventsNeeded(v, join)
	for _, k := range keys {
		fmt.Printf("%s %q\n", k.Type, k.StateKey)
	}
	// Output:
	// m.room.create ""
	// m.room.power_levels ""
	// m.room.member "@bob:b.example"
	// m.room.join_rules ""
	// m.room.member "@alice:a.example"
}

// Power levels are read with the spec's defaults; before room version 10 values may be strings.
func ExampleParsePowerLevels() {
	v9, _ := roomversion.Lookup("9")
	pl, _ := authrules.ParsePowerLevels(v9, []byte(`{"users":{"@mod:a.example":" 50 "},"ban":"75"}`))
	fmt.Println(pl.UserLevel("@mod:a.example"), pl.BanLevel(), pl.KickLevel(), pl.StateDefault(), pl.EventLevel("m.room.message", false))

	v10, _ := roomversion.Lookup("10")
	_, err := authrules.ParsePowerLevels(v10, []byte(`{"ban":"75"}`))
	fmt.Println(err)
	// Output:
	// 50 75 50 50 0
	// authrules: rule 9.1: power levels ban is "75", not an integer
}

// CheckAuthChain authorises a set of events, such as the state and auth chain of a send_join
// response, each against its own auth events found in the set, in any input order.
func ExampleCheckAuthChain() {
	v, _ := roomversion.Lookup("9")
	ev := func(typ, stateKey, sender, content string, depth int, prev []string, auth ...*pdu.Event) *pdu.Event {
		ids := []string{}
		for _, a := range auth {
			ids = append(ids, a.EventID)
		}
		fields, _ := json.Marshal(map[string]any{"type": typ, "state_key": stateKey, "sender": sender,
			"content": json.RawMessage(content), "depth": depth, "prev_events": prev, "auth_events": ids,
			"room_id": "!room:a.example", "origin_server_ts": 1, "hashes": map[string]string{"sha256": "x"}, "signatures": map[string]any{}})
		return event(v, string(fields))
	}
	create := ev("m.room.create", "", "@alice:a.example", `{"creator":"@alice:a.example","room_version":"9"}`, 1, []string{})
	alice := ev("m.room.member", "@alice:a.example", "@alice:a.example", `{"membership":"join"}`, 2, []string{create.EventID}, create)
	public := ev("m.room.join_rules", "", "@alice:a.example", `{"join_rule":"public"}`, 3, []string{alice.EventID}, create, alice)
	bob := ev("m.room.member", "@bob:b.example", "@bob:b.example", `{"membership":"join"}`, 4, []string{public.EventID}, create, public)
	// eve's join names no join rules: without them the room is invite-only (rule 4.3.7).
	eve := ev("m.room.member", "@eve:e.example", "@eve:e.example", `{"membership":"join"}`, 4, []string{public.EventID}, create)

	events := []*pdu.Event{eve, bob, public, alice, create}
	res, err := authrules.CheckAuthChain(v, events, nil)
	if err != nil {
		panic(err)
	}
	for i, e := range events {
		fmt.Printf("%s %q: %v\n", e.Type, *e.StateKey, res.Verdicts[i].Err)
	}
	fmt.Println(res.Accepted, "accepted,", res.Rejected, "rejected:", res.ByRule)
	// Output:
	// m.room.member "@eve:e.example": authrules: rule 4.3.7: join rule "invite" does not let "@eve:e.example" join from membership none
	// m.room.member "@bob:b.example": <nil>
	// m.room.join_rules "": <nil>
	// m.room.member "@alice:a.example": <nil>
	// m.room.create "": <nil>
	// 4 accepted, 1 rejected: map[4.3.7:1]
}

package climisuse

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDumpKeys: the optional "keys" member of a room dump (README: part of the dump format of
// replay and verify-room; `replay --keys FILE` replaces it). Finding C4: verify-room never
// uses it (it requires --keys even when the dump carries keys), yet refuses a dump whose keys
// member is malformed; replay --keys refuses the member it replaces.
func TestDumpKeys(t *testing.T) {
	fixtures(t)
	ex := loadExample()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(file(t, "room.json"), &m); err != nil {
		t.Fatal(err)
	}
	m["keys"] = json.RawMessage(`{"a.example":"bad"}`)
	bad := writeFile(t, "dump-badkeys.json", mustJSON(m))
	noKeys := writeFile(t, "dump-nokeys.json", dump("9", false, ex.Events...))
	const exampleVR = `{"summary":{"bad_signature":0,"events":16,"malformed":0,"missing_key":0,"redacted":0,"rejected":4,"rejected_by_rule":{"4.3.5.2":1,"4.7.1":1,"5":1,"9.7.1":1},"valid":12}}`
	runCases(t, []cliCase{
		{name: "replay: malformed dump keys", args: []string{"replay", bad}, want: fails("keys")},
		{name: "replay: dump without keys warns on 4.2.1", args: []string{"replay", noKeys}, want: okOut(func(s string) string {
			if !strings.Contains(s, "4.2.1") {
				return "want the rule 4.2.1 warning"
			}
			return ""
		})},
		{name: "replay --keys replaces malformed dump keys", args: []string{"replay", "--keys", "erkeys.json", bad}, want: okOut(func(s string) string {
			if !strings.HasPrefix(lastLine(s), "summary: room version 9, 16 events, 12 accepted") {
				return "want the example room's verdicts"
			}
			return ""
		})},
		// Decided (C4): verify-room never takes keys from the data it verifies.
		{name: "verify-room: without --keys refuses, whatever keys the dump holds", args: []string{"verify-room", "--quiet", "room.json"}, want: fails("missing --keys")},
		{name: "verify-room: malformed dump keys it does not use", args: []string{"verify-room", "--quiet", "--keys", "erkeys.json", bad}, want: vrSummary(exampleVR)},
	})
}

// TestStateInputs: join-decision's input and policy-check's --state, auth's --auth-events.
func TestStateInputs(t *testing.T) {
	fixtures(t)
	ex := loadExample()
	var jd map[string]json.RawMessage
	if err := json.Unmarshal(file(t, "jd.json"), &jd); err != nil {
		t.Fatal(err)
	}
	jdWith := func(name, key, val string) string {
		return writeFile(t, "jd-"+name+".json", setField(mustJSON(jd), key, val))
	}
	st := func(name string, events ...json.RawMessage) string {
		return writeFile(t, "state-"+name+".json", mustJSON(events))
	}
	dupState := st("dup", append(append([]json.RawMessage{}, ex.Events[:5]...), ex.Events[:5]...)...)
	reject := has(`"decision":"reject"`, `"errcode":"M_UNABLE_TO_AUTHORISE_JOIN"`, `"status":400`)
	runCases(t, []cliCase{
		{name: "join-decision: the room cannot be checked", args: []string{"join-decision", "jd.json"}, want: reject},
		{name: "join-decision: room_version a number", args: []string{"join-decision", jdWith("rvnum", "room_version", `9`)}, want: fails("room_version")},
		{name: "join-decision: unknown room_version", args: []string{"join-decision", jdWith("rv99", "room_version", `"99"`)}, want: fails("unknown room version")},
		{name: "join-decision: no state", args: []string{"join-decision", jdWith("nostate", "state", "")}, want: fails("state")},
		{name: "join-decision: state an object", args: []string{"join-decision", jdWith("stateobj", "state", `{}`)}, want: fails("state")},
		{name: "join-decision: state without create", args: []string{"join-decision", jdWith("nocreate", "state", `[]`)}, want: fails("m.room.create")},
		{name: "join-decision: rooms an array", args: []string{"join-decision", jdWith("roomsarr", "rooms", `[]`)}, want: fails("rooms")},
		{name: "join-decision: user_id no user ID", args: []string{"join-decision", jdWith("baduser", "user_id", `"joiner"`)}, want: fails("user_id")},
		{name: "join-decision: unknown member ignored", args: []string{"join-decision", jdWith("extra", "foo", `1`)}, want: reject},
		{name: "join-decision: state events of v9 read as v1", args: []string{"join-decision", jdWith("v1", "room_version", `"1"`)}, want: fails("event_id")},
		{name: "policy-check: no Policy Server", args: []string{"policy-check", "--room-version", "9", "--state", "st5.json", "msg.json"}, want: ok(`{"recommended":true,"policy_server":null}` + "\n")},
		{name: "policy-check: state given twice", args: []string{"policy-check", "--room-version", "9", "--state", dupState, "msg.json"}, want: fails("--state", "share the state key")},
		{name: "policy-check: state of two rooms", args: []string{"policy-check", "--room-version", "9", "--state", st("tworooms", append(append([]json.RawMessage{}, ex.Events[:5]...), json.RawMessage(signEvent("9", setField(ex.Events[15], "room_id", `"!other:a.example"`))))...), "msg.json"}, want: fails("--state", "!other:a.example")},
		{name: "policy-check: state an object", args: []string{"policy-check", "--room-version", "9", "--state", "obj.json", "msg.json"}, want: fails("--state", "JSON array")},
		{name: "policy-check: state a missing file", args: []string{"policy-check", "--room-version", "9", "--state", "no-such.json", "msg.json"}, want: fails("no-such.json")},
		{name: "auth: auth events given twice", args: []string{"auth", "--room-version", "9", "--auth-events", dupState, "msg.json"}, want: has(`"allowed":false`, `"rule":"2"`, "not supplied")},
		{name: "auth: auth events an object", args: []string{"auth", "--room-version", "9", "--auth-events", "obj.json", "msg.json"}, want: fails("--auth-events")},
		{name: "auth: auth events with a number", args: []string{"auth", "--room-version", "9", "--auth-events", writeFile(t, "ae-num.json", []byte(`[1]`)), "msg.json"}, want: fails("--auth-events", "event 0")},
		{name: "auth: auth events trailing garbage", args: []string{"auth", "--room-version", "9", "--auth-events", writeFile(t, "ae-trail.json", append(file(t, "ae3.json"), " x"...)), "msg.json"}, want: fails("--auth-events")},
		{name: "auth: too many auth events", args: []string{"auth", "--room-version", "9", "--auth-events", writeFile(t, "ae-many.json", mustJSON(repeat(ex.Events[:5], 20))), "msg.json"}, want: has(`"allowed":false`, `"severity":"fatal"`, "limit")},
	})
}

// repeat returns n copies of events.
func repeat(events []json.RawMessage, n int) []json.RawMessage {
	var out []json.RawMessage
	for range n {
		out = append(out, events...)
	}
	return out
}

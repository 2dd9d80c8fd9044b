package limitstest

import (
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
)

func jsonRaw(b []byte) json.RawMessage {
	if !json.Valid(b) {
		return json.RawMessage(`"not JSON"`)
	}
	return json.RawMessage(b)
}

// jsonMarshal encodes f and returns its lenient canonical form (the parser then applies the
// version's own rules).
func jsonMarshal(f fields) ([]byte, error) {
	raw, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return canonicaljson.Canonical(raw)
}

// FuzzOneReading: for arbitrary bytes read as an event of some room version, every path gives
// one reading: ParseEvent, VerifyEvent and the canonical form agree on whether it is an event;
// when it is, the bytes path and the parsed path agree (event ID, redaction, signature
// verdict, bulk verification, auth events selection) and so does its canonical form; the
// redacted form is canonical and idempotent (checkOneReading).
func FuzzOneReading(f *testing.F) {
	for i, id := range versions {
		r := newRoom(f, id)
		for _, raw := range [][]byte{r.createRaw, r.joinRaw, r.plRaw, r.jr} {
			f.Add(uint8(i), raw)
		}
		v := r.v
		f.Add(uint8(i), insertFirst(f, baseEvent(v).bytes(f), "", `"\u0073ender":"@m:m.example"`))
		f.Add(uint8(i), insertLast(f, baseEvent(v).bytes(f), "content", `"body":"again"`))
		f.Add(uint8(i), []byte(`{"type":"m.room.message","content":{"a":1e2,"b":-0},"Sender":"x"}`))
	}
	keys := ring("a.example", "z.example")
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		v := version(t, versions[int(sel)%len(versions)])
		checkOneReading(t, v, data, keys, false)
	})
}

// FuzzCheckMatchesState: an event whose auth events are exactly what the auth events selection
// picks from a room's state gets the same verdict from authrules.Check (against its auth
// events), State.Check (against a state holding those events) and CheckAuthChain (over the
// room's events and this one). The fuzzer chooses the
// version, type, sender and state key, and writes the content.
func FuzzCheckMatchesState(f *testing.F) {
	types := []string{"m.room.member", "m.room.power_levels", "m.room.join_rules", "m.room.message", "m.room.name",
		"m.room.create", "m.room.third_party_invite", "m.room.redaction", "m.room.aliases"}
	users := []string{"@alice:a.example", "@zed:z.example", "@mallory:m.example"}
	stateKeys := []string{"", "@alice:a.example", "@zed:z.example", "@mallory:m.example", "a.example"}
	rooms := map[string]*room{}
	for _, id := range versions {
		rooms[id] = newRoom(f, id)
	}
	for _, c := range []string{
		`{"membership":"join"}`, `{"membership":"invite"}`, `{"membership":"leave"}`, `{"membership":"ban"}`,
		`{"membership":"knock"}`, `{"membership":"join","join_authorised_via_users_server":"@alice:a.example"}`,
		`{"users":{"@zed:z.example":100}}`, `{"users":{"@alice:a.example":"100"},"ban":1.5}`, `{"join_rule":"public"}`,
		`{"body":"x"}`, `{"membership":"invite","third_party_invite":{"signed":{"mxid":"@zed:z.example","token":"t"}}}`,
	} {
		for sel := 0; sel < 64; sel += 7 {
			f.Add(uint8(sel), uint8(sel*3), []byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, sel, who uint8, content []byte) {
		r := rooms[versions[int(sel)%len(versions)]]
		v := r.v
		typ := types[int(sel/8)%len(types)]
		sender := users[int(who)%len(users)]
		ef := baseEvent(v).with("room_id", r.roomID(), "type", typ, "sender", sender, "depth", 9)
		if sk := int(who/4) % (len(stateKeys) + 1); sk < len(stateKeys) {
			ef["state_key"] = stateKeys[sk]
		}
		ef["content"] = jsonRaw(content)
		raw, err := jsonMarshal(ef)
		if err != nil {
			return
		}
		probe, err := signing.ParseEvent(v, raw)
		if err != nil {
			return
		}
		needed, err := authrules.AuthEventsNeeded(v, probe)
		if err != nil {
			return
		}
		var auth []*pdu.Event
		var refs []any
		for _, e := range []*pdu.Event{r.create, r.join, r.pl, r.joinRules} {
			for _, k := range needed {
				if e.Type == k.Type && e.StateKeyEquals(k.StateKey) {
					auth = append(auth, e)
					refs = append(refs, r.ref(e))
				}
			}
		}
		if refs == nil {
			refs = []any{}
		}
		ef["auth_events"] = refs
		if raw, err = jsonMarshal(ef); err != nil {
			return
		}
		ev, err := signing.ParseEvent(v, raw)
		if err != nil {
			return
		}
		supplied := auth
		if v.Format.RoomIDFromCreateEvent {
			supplied = append(append([]*pdu.Event{}, auth...), r.create)
		}
		stateEvents := auth
		if v.Format.RoomIDFromCreateEvent || len(auth) == 0 || auth[0] != r.create {
			stateEvents = append([]*pdu.Event{r.create}, auth...)
		}
		s, err := authrules.NewState(v, stateEvents)
		if err != nil {
			t.Fatal(err)
		}
		byAuth := authrules.Check(v, ev, supplied, nil)
		byState := s.Check(ev, nil)
		if verdict(byAuth) != verdict(byState) {
			t.Fatalf("v%s %s by %s: Check %v, State.Check %v\n%s", v.ID, typ, sender, byAuth, byState, raw)
		}
		// A third path: CheckAuthChain over the room's events and this one.
		chain := []*pdu.Event{r.create, r.join, r.pl, r.joinRules, ev}
		res, err := authrules.CheckAuthChain(v, chain, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, cv := range res.Verdicts[:len(chain)-1] {
			if !cv.Accepted() {
				t.Fatalf("v%s: the room's own event %d is rejected: %v", v.ID, i, cv.Err)
			}
		}
		if byChain := res.Verdicts[len(chain)-1].Err; verdict(byChain) != verdict(byAuth) {
			t.Fatalf("v%s %s by %s: Check %v, CheckAuthChain %v\n%s", v.ID, typ, sender, byAuth, byChain, raw)
		}
	})
}

package claimsb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// decisions.md (authrules) "Power level values before v10": whitespace is Python's str.isspace().
func TestPowerLevelWhitespace(t *testing.T) {
	// python3 -c "print([hex(c) for c in range(0x110000) if chr(c).isspace()])"
	spaces := []rune{0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000}
	isSpace := map[rune]bool{}
	for _, r := range spaces {
		isSpace[r] = true
	}
	v := ver("9")
	for r := rune(1); r < 0x3100; r++ {
		if (r >= 0xd800 && r < 0xe000) || (r >= '0' && r <= '9') {
			continue
		}
		content, _ := json.Marshal(map[string]any{"users": map[string]any{"@b:b.example": string(r) + "5" + string(r)}})
		_, err := authrules.ParsePowerLevels(v, content)
		if isSpace[r] != (err == nil) {
			t.Errorf("U+%04X: isspace=%v, ParsePowerLevels err=%v", r, isSpace[r], err)
		}
	}
	for _, r := range []rune{0x180e, 0x200b, 0xfeff} {
		content, _ := json.Marshal(map[string]any{"users": map[string]any{"@b:b.example": string(r) + "5"}})
		if _, err := authrules.ParsePowerLevels(v, content); err == nil {
			t.Errorf("U+%04X accepted", r)
		}
	}
}

// decisions.md (authrules) "Power level values": floats are binary64 values, compared exactly with
// big integers; rejection messages print the exact value.
func TestPowerLevelExactBig(t *testing.T) {
	v := ver("5")
	pl, err := authrules.ParsePowerLevels(v, []byte(`{"users":{"@a:a.example":1e23,"@b:b.example":"99999999999999991611392","@c:c.example":"99999999999999991611393","@d:d.example":9223372036854775808,"@e:e.example":"9223372036854775808"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if pl.CompareUsers("@a:a.example", "@b:b.example") != 0 || pl.CompareUsers("@a:a.example", "@c:c.example") != -1 {
		t.Error("1e23 is not 99999999999999991611392")
	}
	if pl.CompareUsers("@d:d.example", "@e:e.example") != 0 {
		t.Error("2^63 integer vs string")
	}
	// a rejection naming a big value prints it exactly
	r := newRoom(t, ver("9"), "public", M{"users": M{"@alice:a.example": "9223372036854775812"}})
	s := r.state(t)
	np := ev(t, ver("9"), M{"type": "m.room.power_levels", "state_key": "", "content": M{"users": M{"@alice:a.example": "9223372036854775812", "@b:b.example": "9223372036854775817"}}})
	err = s.Check(np, nil)
	var rj *authrules.Rejection
	if !errors.As(err, &rj) || !strings.Contains(rj.Reason, "9223372036854775817") || !strings.Contains(rj.Reason, "9223372036854775812") {
		t.Errorf("reason does not print exact values: %v", err)
	}
	long := "1" + strings.Repeat("0", 69)
	np = ev(t, ver("9"), M{"type": "m.room.power_levels", "state_key": "", "content": M{"users": M{"@alice:a.example": "9223372036854775812", "@b:b.example": long}}})
	err = s.Check(np, nil)
	if !errors.As(err, &rj) || strings.Contains(rj.Reason, long) {
		t.Errorf("70-digit value not abbreviated: %v", err)
	}
	// ParsePowerLevels knows no creators; State.PowerLevels in v12 gives creators InfiniteLevel
	if pl.IsCreator("@a:a.example") {
		t.Error("ParsePowerLevels knows a creator")
	}
	r12 := newRoom(t, ver("12"), "public", nil)
	if r12.state(t).PowerLevels().UserLevel("@alice:a.example") != authrules.InfiniteLevel {
		t.Error("v12 creator with a power levels event")
	}
}

// go doc CheckAuthChain: "The verdicts do not depend on the order of the input nor on the number
// of workers."
func TestChainOrderIndependent(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "invite", nil)
	base := refs(v, r.create, r.pl)
	evs := r.events()
	bj := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": append(append([]any{}, base...), refs(v, r.jr)...), "prev_events": refs(v, r.jr), "depth": 5})
	inv := ev(t, v, M{"type": "m.room.member", "state_key": "@carol:c.example", "content": M{"membership": "invite"}, "auth_events": append(append([]any{}, base...), refs(v, r.jr, r.join)...), "prev_events": refs(v, r.jr), "depth": 5})
	cj := ev(t, v, M{"sender": "@carol:c.example", "type": "m.room.member", "state_key": "@carol:c.example", "content": M{"membership": "join"}, "auth_events": append(append([]any{}, base...), refs(v, r.jr, inv)...), "prev_events": refs(v, inv), "depth": 6})
	cm := ev(t, v, M{"sender": "@carol:c.example", "auth_events": append(append([]any{}, base...), refs(v, cj)...), "prev_events": refs(v, cj), "depth": 7})
	bm := ev(t, v, M{"sender": "@bob:b.example", "auth_events": append(append([]any{}, base...), refs(v, bj)...), "prev_events": refs(v, bj), "depth": 7})
	evs = append(evs, bj, inv, cj, cm, bm)
	want := map[string]string{}
	rng := rand.New(rand.NewSource(1))
	for round := 0; round < 20; round++ {
		perm := append([]*pdu.Event(nil), evs...)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		res, err := authrules.CheckAuthChain(v, perm, &authrules.ChainOptions{Workers: 1 + round%3})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range perm {
			got := fmt.Sprint(res.Verdicts[i].Err)
			if w, ok := want[e.EventID]; ok && w != got {
				t.Fatalf("round %d: %s %q vs %q", round, e.EventID, got, w)
			}
			want[e.EventID] = got
		}
	}
	if want[bj.EventID] == "<nil>" || want[bm.EventID] == "<nil>" || want[cm.EventID] != "<nil>" {
		t.Errorf("verdicts %v", want)
	}
}

// decisions.md (Cross-package decisions): strict stripped state is a flag set from v12;
// lenient size is measured on the canonical form; v1-2 event_id format.
func TestCrossPackage(t *testing.T) {
	for _, v := range roomversion.All() {
		if v.Format.StrictStrippedState != (v.ID == "12") && v.Stable {
			t.Errorf("v%s StrictStrippedState=%v", v.ID, v.Format.StrictStrippedState)
		}
	}
	// lenient size: a v1 event under 65536 bytes whose canonical form is over it
	v := ver("1")
	var nums []string
	for i := 0; i < 5000; i++ {
		nums = append(nums, "9e15")
	}
	body := `{"event_id":"$a:a.example","room_id":"!r:a.example","sender":"@a:a.example","type":"m.x","content":{"n":[` + strings.Join(nums, ",") + `]},"prev_events":[],"auth_events":[],"depth":1,"origin_server_ts":1,"hashes":{"sha256":"x"},"signatures":{}}`
	if len(body) >= pdu.MaxEventSize {
		t.Fatalf("setup %d", len(body))
	}
	if _, err := pdu.Parse(v, []byte(body)); !errors.Is(err, pdu.ErrTooLarge) {
		t.Errorf("pdu.Parse: %v", err)
	}
	if err := signing.VerifyEvent(v, []byte(body), ring); err == nil {
		t.Error("VerifyEvent accepted")
	}
	// v1-2 event IDs
	for id, ok := range map[string]bool{
		"$:a.example": true, "$a\x01b:a.example": true, "$a:b:c.example": false, "a:a.example": false,
		"$a:a_b": false, "$a:[::1]:80": true, "$" + strings.Repeat("x", 244) + ":a.example": true, "$" + strings.Repeat("x", 245) + ":a.example": false,
	} {
		b, _ := json.Marshal(M{"event_id": id, "room_id": "!r:a.example", "sender": "@a:a.example", "type": "m.x", "content": M{}, "prev_events": []any{}, "auth_events": []any{}, "depth": 1, "origin_server_ts": 1, "hashes": M{"sha256": "x"}, "signatures": M{}})
		_, err := pdu.Parse(v, b)
		_, err2 := signing.EventID(v, b)
		if (err == nil) != ok || (err2 == nil) != ok {
			t.Errorf("event_id %q: Parse %v, EventID %v, want ok=%v", id, err, err2, ok)
		}
	}
}

// decisions.md (membership) 11: MaxStrippedState and create events past it.
func TestStrippedStateBound(t *testing.T) {
	v := ver("11")
	r := newRoom(t, v, "invite", nil)
	badCreate := raw(t, v, M{"sender": "@eve:b.example", "type": "m.room.create", "state_key": "", "content": M{"room_version": "11"}})
	var base []json.RawMessage
	for i := 0; i < membership.MaxStrippedState; i++ {
		base = append(base, r.jr.Raw())
	}
	// 256 entries, one invalid create, then the valid one: accepted, no problems
	in := append(append(append([]json.RawMessage{}, base...), badCreate), r.create.Raw())
	valid, problems := membership.CheckStrippedState(v, roomID, in, ring)
	if len(problems) != 0 {
		t.Errorf("valid create after 256+1: problems %v", problems)
	}
	hasCreate := false
	for _, e := range valid {
		if e.Type == "m.room.create" {
			hasCreate = true
		}
	}
	if !hasCreate || len(valid) != membership.MaxStrippedState+1 {
		t.Errorf("valid %d, create %v", len(valid), hasCreate)
	}
	// 256 entries, 256 invalid creates, then the valid one: refused
	in = append([]json.RawMessage{}, base...)
	for i := 0; i < membership.MaxStrippedState; i++ {
		in = append(in, badCreate)
	}
	in = append(in, r.create.Raw())
	_, problems = membership.CheckStrippedState(v, roomID, in, ring)
	if len(problems) == 0 {
		t.Error("valid create after 256+256 invalid: accepted")
	}
	// 255 invalid creates then the valid one: accepted
	in = append(append([]json.RawMessage{}, base...), in[membership.MaxStrippedState+1:]...)
	_, problems = membership.CheckStrippedState(v, roomID, in, ring)
	if len(problems) != 0 {
		t.Errorf("valid create after 256+255 invalid: %d problems", len(problems))
	}
}

// go doc ParseJoinRequest limits (MaxVer, MaxKnownRooms), duplicate keys.
func TestParseJoinRequestLimits(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "restricted", nil)
	var st []json.RawMessage
	for _, e := range r.events() {
		st = append(st, e.Raw())
	}
	base := func() M {
		return M{"room_version": "10", "state": st, "user_id": "@bob:b.example", "resident_server": "a.example"}
	}
	vers := make([]string, membership.MaxVer)
	for i := range vers {
		vers[i] = "10"
	}
	if _, err := membership.ParseJoinRequest(claimkit.Marshal(t, with(base(), "ver", vers))); err != nil {
		t.Errorf("MaxVer entries: %v", err)
	}
	_, err := membership.ParseJoinRequest(claimkit.Marshal(t, with(base(), "ver", append(vers, "1"))))
	wantErr(t, err, 400, membership.ErrCodeBadJSON, membership.ErrBadInput)
	rooms := M{}
	for i := 0; i < membership.MaxKnownRooms; i++ {
		rooms[fmt.Sprintf("!r%d:x", i)] = M{}
	}
	if _, err := membership.ParseJoinRequest(claimkit.Marshal(t, with(base(), "rooms", rooms))); err != nil {
		t.Errorf("MaxKnownRooms rooms: %v", err)
	}
	rooms["!extra:x"] = M{}
	_, err = membership.ParseJoinRequest(claimkit.Marshal(t, with(base(), "rooms", rooms)))
	wantErr(t, err, 400, membership.ErrCodeBadJSON, membership.ErrBadInput)
	// duplicate key: the last counts
	b := claimkit.Marshal(t, base())
	b = append(b[:len(b)-1], []byte(`,"user_id":"@carol:c.example"}`)...)
	req, err := membership.ParseJoinRequest(b)
	if err != nil || req.UserID != "@carol:c.example" {
		t.Errorf("duplicate user_id: %q %v", req.UserID, err)
	}
	// origin and ver are read
	req, err = membership.ParseJoinRequest(claimkit.Marshal(t, with(with(base(), "origin", "b.example"), "ver", []string{"9"})))
	if err != nil || req.Origin != "b.example" || len(req.Ver) != 1 {
		t.Errorf("origin/ver: %+v %v", req, err)
	}
	if _, err := membership.DecideJoin(req); !errors.Is(err, membership.ErrIncompatibleVersion) {
		t.Errorf("DecideJoin with ver [9]: %v", err)
	}
}

// go doc SignTemplate, CheckSendJoinResponse, SendKnock, Template.JSON, InviteResult.JSON.
func TestHandshakeOutputs(t *testing.T) {
	v := ver("10")
	tmpl := claimkit.Marshal(t, M{"room_id": roomID, "sender": "@bob:b.example", "state_key": "@bob:b.example", "type": "m.room.member", "content": M{"membership": "join"}, "prev_events": []any{}, "auth_events": []any{}, "depth": 3, "origin": "a.example", "origin_server_ts": 1, "hashes": M{"sha256": "junk"}, "signatures": M{"a.example": M{"ed25519:1": "junk"}}, "unsigned": M{"x": 1}})
	out, err := membership.SignTemplate(v, tmpl, "b.example", 77, "$ignored:b.example", "b.example", authgen.KeyFor("b.example", "1"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(out, &m)
	if m["origin"] != "b.example" || m["origin_server_ts"] != float64(77) || m["unsigned"] != nil || m["event_id"] != nil {
		t.Errorf("SignTemplate fields %s", out)
	}
	if sigs := m["signatures"].(map[string]any); len(sigs) != 1 || sigs["b.example"] == nil {
		t.Errorf("SignTemplate signatures %v", sigs)
	}
	if err := signing.VerifyEvent(v, out, ring); err != nil {
		t.Errorf("SignTemplate output: %v", err)
	}
	// v1: event_id set
	v1 := ver("1")
	tmpl1 := claimkit.Marshal(t, M{"room_id": roomID, "sender": "@bob:b.example", "state_key": "@bob:b.example", "type": "m.room.member", "content": M{"membership": "join"}, "prev_events": []any{}, "auth_events": []any{}, "depth": 3, "origin_server_ts": 1})
	out1, err := membership.SignTemplate(v1, tmpl1, "b.example", 77, "$j:b.example", "b.example", authgen.KeyFor("b.example", "1"))
	if err != nil || !strings.Contains(string(out1), `"event_id":"$j:b.example"`) {
		t.Errorf("v1 SignTemplate %s %v", out1, err)
	}
	// CheckSendJoinResponse: returned without the resident's signature, or dropping one
	if _, err := membership.CheckSendJoinResponse(v, out, out, "a.example", ring); err == nil {
		t.Error("response without resident signature accepted")
	} else {
		var me *membership.Error
		if !errors.As(err, &me) || me.Status != 502 {
			t.Errorf("status: %v", err)
		}
	}
	res, err := signing.CountersignEvent(v, out, "a.example", authgen.KeyFor("a.example", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := membership.CheckSendJoinResponse(v, out, res, "a.example", ring); err != nil {
		t.Errorf("good response: %v", err)
	}
	// a returned event with changed content
	_ = json.Unmarshal(res, &m)
	m["content"] = M{"membership": "join", "displayname": "x"}
	if _, err := membership.CheckSendJoinResponse(v, out, claimkit.Marshal(t, m), "a.example", ring); !errors.Is(err, membership.ErrResponseMismatch) && !errors.Is(err, membership.ErrBadSignature) {
		t.Errorf("changed response: %v", err)
	}
	// Template.JSON
	tj := membership.Template{RoomVersion: "10", Event: []byte(`{"a":1}`)}.JSON()
	if string(tj) != `{"event":{"a":1},"room_version":"10"}` {
		t.Errorf("Template.JSON %s", tj)
	}
	// SendKnock: not signed by the resident, stripped state with create first
	r := newRoom(t, v, "knock", nil)
	s := r.state(t)
	knock := raw(t, v, M{"room_id": r.id(), "sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "knock"}, "auth_events": refs(v, r.create, r.pl, r.jr), "prev_events": refs(v, r.jr), "depth": 5})
	kr, err := membership.SendKnock(membership.SendKnockRequest{State: s, Origin: "b.example", Event: knock, Keys: ring})
	if err != nil {
		t.Fatalf("SendKnock: %v", err)
	}
	nsrv := 0
	for range kr.Parsed.Signatures.Servers() {
		nsrv++
	}
	if nsrv != 1 || len(kr.KnockRoomState) == 0 || kr.KnockRoomState[0].Type != "m.room.create" {
		t.Errorf("SendKnock result %d %d", nsrv, len(kr.KnockRoomState))
	}
	if !strings.HasPrefix(string(kr.JSON()), `{"knock_room_state":[`) {
		t.Errorf("SendKnockResult.JSON %s", kr.JSON())
	}
	_, err = membership.SendKnock(membership.SendKnockRequest{State: s, Origin: "c.example", Event: knock, Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	_ = rand.Int
}

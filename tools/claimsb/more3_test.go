package claimsb

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// decisions.md (authrules) "Auth events selection" (member without state_key: 4.1 fatal),
// "The current-state check skips rule 2"; go doc Check (no signature check), Options.Create.
func TestAuthMisc(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	s := r.state(t)
	noSK := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "content": M{"membership": "join"}})
	err := s.Check(noSK, nil)
	var rj *authrules.Rejection
	if !errors.As(err, &rj) || rj.Rule != "4.1" || rj.Severity != authrules.SeverityFatal {
		t.Errorf("member without state_key: %v", err)
	}
	junk := ev(t, v, M{"auth_events": []any{"$x", "$x", "$y"}})
	if err := s.Check(junk, nil); err != nil {
		t.Errorf("State.Check reads auth_events: %v", err)
	}
	// Check does not verify the sender's signature
	b := raw(t, v, M{"auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.jr), "depth": 5})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["signatures"] = M{"a.example": M{"ed25519:1": authgen.DummySig}}
	forged, _ := signing.ParseEvent(v, claimkit.Marshal(t, m))
	if err := authrules.Check(v, forged, []*pdu.Event{r.create, r.pl, r.join}, ring); err != nil {
		t.Errorf("Check verified the sender's signature: %v", err)
	}
	// Options.Create ignored before v12
	other := newRoom(t, ver("10"), "public", nil)
	_ = other
	cr2 := ev(t, v, M{"room_id": "!zz:a.example", "type": "m.room.create", "state_key": "", "content": M{"creator": "@x:a.example"}})
	if err := authrules.CheckWithOptions(v, forged, []*pdu.Event{r.create, r.pl, r.join}, authrules.Options{Create: cr2}); err != nil {
		t.Errorf("v10 Options.Create not ignored: %v", err)
	}
	// v12: supplying the unlisted create gives no warning
	v12 := ver("12")
	r12 := newRoom(t, v12, "public", nil)
	msg := ev(t, v12, M{"room_id": r12.id(), "auth_events": refs(v12, r12.pl, r12.join), "prev_events": refs(v12, r12.pl), "depth": 4})
	var warns []*authrules.Rejection
	if err := authrules.CheckWithOptions(v12, msg, []*pdu.Event{r12.pl, r12.join, r12.create}, authrules.Options{Warn: func(w *authrules.Rejection) { warns = append(warns, w) }}); err != nil || len(warns) != 0 {
		t.Errorf("v12 supplied create: %v %v", err, warns)
	}
}

// go doc SendJoin step 1 (EventID), decisions.md (membership) 8 (invite hash mismatch 400),
// 18 (SignInvite event ID in the invited server's domain; CountersignEvent replaces).
func TestHandshakeMore(t *testing.T) {
	v := ver("10")
	r, s := restrictedRoom(t, v, "public", nil)
	j := raw(t, v, M{"room_id": r.id(), "sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": refs(v, r.create, r.pl, r.jr), "prev_events": refs(v, r.jr), "depth": 5})
	key := authgen.KeyFor("a.example", "1")
	_, err := membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", EventID: "$other", Event: j, Key: key, Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	_, err = membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", RoomID: "!other:a.example", Event: j, Key: key, Keys: ring})
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	// a bogus signature already under the resident's name is replaced
	stale, _ := signing.CountersignEvent(v, j, "a.example", authgen.KeyFor("a.example", "9"))
	var m map[string]any
	_ = json.Unmarshal(stale, &m)
	// keep b.example's signature too (CountersignEvent only adds/replaces a.example)
	res, err := membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: "a.example", Event: stale, Key: key, Keys: ring})
	if err != nil {
		t.Fatalf("SendJoin with stale resident signature: %v", err)
	}
	if strings.Contains(string(res.Event), `"ed25519:9"`) {
		t.Errorf("stale signature kept: %s", res.Event)
	}
	// invite with content hash mismatch: 400
	inv := raw(t, v, M{"type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite"}})
	_ = json.Unmarshal(inv, &m)
	m["content"] = M{"membership": "invite", "displayname": "x"}
	req := membership.InviteRequest{RoomVersion: v, Origin: "a.example", Event: claimkit.Marshal(t, m), InviteRoomState: []json.RawMessage{r.create.Raw()}, LocalServer: "b.example", Key: authgen.KeyFor("b.example", "1"), Keys: ring}
	_, err = membership.SignInvite(req)
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	// v1: invite whose event ID is in the invited server's domain
	v1 := ver("1")
	r1 := newRoom(t, v1, "invite", nil)
	inv1 := raw(t, v1, M{"event_id": "$i:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite"}})
	req = membership.InviteRequest{RoomVersion: v1, Origin: "a.example", Event: inv1, InviteRoomState: []json.RawMessage{r1.create.Raw()}, LocalServer: "b.example", Key: authgen.KeyFor("b.example", "1"), Keys: ring}
	_, err = membership.SignInvite(req)
	wantErr(t, err, 400, membership.ErrCodeInvalidParam, nil)
	inv1ok := raw(t, v1, M{"event_id": "$i:a.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "invite"}})
	req.Event = inv1ok
	if _, err := membership.SignInvite(req); err != nil {
		t.Errorf("v1 invite with the inviting server's ID: %v", err)
	}
}

// go doc MaxStrippedState: entries past the bound are parsed but ignored; decisions 11: a
// redacted copy is held in its redacted form.
func TestStrippedStatePastBound(t *testing.T) {
	v := ver("12")
	r := newRoom(t, v, "invite", nil)
	var in []json.RawMessage
	for i := 0; i < membership.MaxStrippedState; i++ {
		in = append(in, r.jr.Raw())
	}
	in = append(in, json.RawMessage(`{"a":1}`), json.RawMessage(`nope`), r.create.Raw())
	valid, problems := membership.CheckStrippedState(v, r.id(), in, ring)
	if len(problems) != 0 || len(valid) != membership.MaxStrippedState+1 {
		t.Errorf("past the bound: %d valid, problems %v", len(valid), problems)
	}
	topic := raw(t, v, M{"room_id": r.id(), "type": "m.room.topic", "state_key": "", "content": M{"topic": "t"}})
	var m map[string]any
	_ = json.Unmarshal(topic, &m)
	m["content"] = M{"topic": "evil"}
	valid, problems = membership.CheckStrippedState(v, r.id(), []json.RawMessage{r.create.Raw(), claimkit.Marshal(t, m)}, ring)
	if len(problems) != 0 || len(valid) != 2 || string(valid[1].Content) != "{}" {
		t.Errorf("tampered topic: %d valid, %v, content %s", len(valid), problems, valid[len(valid)-1].Content)
	}
}

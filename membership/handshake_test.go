package membership

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

const (
	resident = "a.example"
	joiner   = "@zed:z.example"
	joinSrv  = "z.example"
	spaceID  = "!space:a.example"
)

// restrictedRoom builds a restricted room (or knock_restricted, public, ...) resident on
// a.example with @alice:a.example (100), @mod:a.example (50) and @low:a.example (0) joined;
// the invite level is 50.
func restrictedRoom(t testing.TB, v roomversion.Version, joinRule string, members map[string]string) *builder {
	t.Helper()
	jr := map[string]any{"join_rule": joinRule, "allow": []any{map[string]any{"type": "m.room_membership", "room_id": spaceID}}}
	jrJSON, _ := json.Marshal(jr)
	m := map[string]string{"@mod:a.example": "join", "@low:a.example": "join"}
	for k, v := range members {
		m[k] = v
	}
	return buildRoom(t, v, roomSpec{
		Creator:     "@alice:a.example",
		JoinRules:   jrJSON,
		PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":100,"@mod:a.example":50},"invite":50}`),
		Members:     m,
	})
}

func templateOpts(b *builder) TemplateOptions {
	return TemplateOptions{Origin: resident, OriginServerTS: 1700000100000, PrevEvents: []string{b.prev}, Depth: b.depth + 1}
}

// joinOnce runs make_join and signs the template as the joining server; it returns the
// template and the signed join.
func joinOnce(t *testing.T, b *builder, rooms RoomMemberships) (JoinDecision, Template, []byte) {
	t.Helper()
	s := b.stateOf()
	d, tmpl, err := MakeJoin(JoinRequest{State: s, UserID: joiner, ResidentServer: resident, Rooms: rooms}, templateOpts(b))
	if err != nil {
		t.Fatalf("MakeJoin: %v", err)
	}
	roomID, _ := roomIDOf(s)
	if err := CheckJoinTemplate(roomID, joiner, tmpl.Event); err != nil {
		t.Fatalf("CheckJoinTemplate: %v\n%s", err, tmpl.Event)
	}
	signed, err := SignTemplate(b.v, tmpl.Event, joinSrv, 1700000200000, "$join:z.example", joinSrv, serverKey(t, joinSrv))
	if err != nil {
		t.Fatalf("SignTemplate: %v", err)
	}
	return d, tmpl, signed
}

// TestJoinHandshakeRoundTrip runs make_join, the joining server's signing, send_join and the
// joining server's check of the response with real signatures in every room version where
// the join rule exists.
func TestJoinHandshakeRoundTrip(t *testing.T) {
	cases := []struct {
		version, rule string
		members       map[string]string
		wantAuth      string
	}{
		{"1", "public", nil, ""},
		{"3", "public", nil, ""},
		{"6", "invite", map[string]string{joiner: "invite"}, ""},
		{"7", "knock", map[string]string{joiner: "invite"}, ""},
		{"8", "restricted", nil, "@alice:a.example"},
		{"9", "restricted", nil, "@alice:a.example"},
		{"9", "restricted", map[string]string{joiner: "invite"}, ""},
		{"10", "knock_restricted", nil, "@alice:a.example"},
		{"10", "knock_restricted", map[string]string{joiner: "knock"}, "@alice:a.example"},
		{"11", "restricted", nil, "@alice:a.example"},
		{"12", "restricted", nil, "@alice:a.example"},
		{"12", "public", nil, ""},
	}
	for _, c := range cases {
		t.Run("v"+c.version+"/"+c.rule, func(t *testing.T) {
			v := mustVersion(t, c.version)
			b := restrictedRoom(t, v, c.rule, c.members)
			rooms := KnownRooms{spaceID: {joiner: "join"}}
			d, tmpl, signed := joinOnce(t, b, rooms)
			if d.AuthorisingUser != c.wantAuth {
				t.Fatalf("authoriser %q, want %q", d.AuthorisingUser, c.wantAuth)
			}
			if tmpl.RoomVersion != c.version {
				t.Fatalf("template room version %q", tmpl.RoomVersion)
			}
			var body map[string]json.RawMessage
			if err := json.Unmarshal(tmpl.JSON(), &body); err != nil || body["event"] == nil || body["room_version"] == nil {
				t.Fatalf("template JSON %s: %v", tmpl.JSON(), err)
			}
			ev, err := signing.ParseEvent(v, signed)
			if err != nil {
				t.Fatal(err)
			}
			if auth, _ := ev.ContentString(signing.ContentJoinAuthorisedViaUsersServer); auth != c.wantAuth {
				t.Fatalf("template authoriser %q, want %q", auth, c.wantAuth)
			}
			s := b.stateOf()
			// The event's own auth events, from the state.
			var authEvents []*pdu.Event
			for _, id := range ev.AuthEvents {
				for _, se := range s.Events() {
					if se.EventID == id {
						authEvents = append(authEvents, se)
					}
				}
			}
			if len(authEvents) != len(ev.AuthEvents) || len(authEvents) == 0 {
				t.Fatalf("auth events %v not all in the state", ev.AuthEvents)
			}
			keys := keyRing(t, joinSrv, resident)
			res, err := SendJoin(SendJoinRequest{
				State: s, ResidentServer: resident, Rooms: rooms, RoomID: ev.RoomID, EventID: ev.EventID,
				Origin: joinSrv, Event: signed, Key: serverKey(t, resident), Keys: keyRing(t, joinSrv), AuthEvents: authEvents,
			})
			if err != nil {
				t.Fatalf("SendJoin: %v", err)
			}
			if res.Parsed.EventID != ev.EventID {
				t.Fatalf("event ID changed: %s → %s", ev.EventID, res.Parsed.EventID)
			}
			if !res.Parsed.Signatures.Signed(resident) || !res.Parsed.Signatures.Signed(joinSrv) {
				t.Fatalf("signatures %v", res.Parsed.Signatures)
			}
			if err := signing.VerifyEvent(v, res.Event, keys); err != nil {
				t.Fatalf("VerifyEvent: %v", err)
			}
			if err := s.Check(res.Parsed, keys); err != nil {
				t.Fatalf("auth rules: %v", err)
			}
			got, err := CheckSendJoinResponse(v, signed, res.Event, resident, keys)
			if err != nil {
				t.Fatalf("CheckSendJoinResponse: %v", err)
			}
			if got.EventID != ev.EventID {
				t.Fatal("response event ID")
			}
		})
	}
}

// unsignedFields returns the fields of a JSON event without `signatures` and `hashes`.
func unsignedFields(t *testing.T, event []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(event, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "signatures")
	delete(m, "hashes")
	return m
}

// mutate re-signs a JSON event after applying fn to its fields.
func mutate(t *testing.T, v roomversion.Version, event []byte, server string, fn func(map[string]any)) []byte {
	t.Helper()
	m := unsignedFields(t, event)
	fn(m)
	data, _ := json.Marshal(m)
	out, err := signing.SignEvent(v, data, server, serverKey(t, server))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSendJoinRefusals(t *testing.T) {
	v := mustVersion(t, "10")
	rooms := KnownRooms{spaceID: {joiner: "join"}}
	b := restrictedRoom(t, v, "restricted", nil)
	_, _, signed := joinOnce(t, b, rooms)
	ev, _ := signing.ParseEvent(v, signed)
	s := b.stateOf()
	content := func(m map[string]any) map[string]any { return m["content"].(map[string]any) }

	type tc struct {
		name    string
		event   []byte
		edit    func(*SendJoinRequest)
		status  int
		errcode string
		reason  error
	}
	cases := []tc{
		{name: "not JSON", event: []byte(`{"type":`), status: 400, errcode: ErrCodeNotJSON, reason: ErrBadEvent},
		{name: "not an event", event: []byte(`{"type":"m.room.member"}`), status: 400, errcode: ErrCodeBadJSON, reason: ErrBadEvent},
		{name: "JSON but not an object", event: []byte(`[]`), status: 400, errcode: ErrCodeBadJSON, reason: ErrBadEvent},
		{name: "a float in a v10 event", event: []byte(strings.Replace(string(signed), `"depth":`, `"x":1.5,"depth":`, 1)), status: 400, errcode: ErrCodeBadJSON, reason: ErrBadEvent},
		{name: "type is not m.room.member", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["type"] = "m.room.message" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "membership is not join", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { content(m)["membership"] = "leave" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "state_key is not the sender", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { m["state_key"] = "@other:z.example" }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "no state_key", event: mutate(t, v, signed, joinSrv, func(m map[string]any) { delete(m, "state_key") }), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "sender not on the origin server", event: signed, edit: func(r *SendJoinRequest) { r.Origin = "evil.example" }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "room ID differs from the path", event: signed, edit: func(r *SendJoinRequest) { r.RoomID = "!elsewhere:a.example" }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "event ID differs from the path", event: signed, edit: func(r *SendJoinRequest) { r.EventID = "$nope" }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "signed by the wrong key", event: mutate(t, v, signed, "evil.example", func(m map[string]any) {}), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadSignature},
		{name: "joining server's key unknown", event: signed, edit: func(r *SendJoinRequest) { r.Keys = signing.KeyRing{} }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadSignature},
		{name: "content changed after signing", event: []byte(strings.Replace(string(signed), `"membership":"join"`, `"displayname":"x","membership":"join"`, 1)), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadSignature},
		{name: "authoriser on another server", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			content(m)["join_authorised_via_users_server"] = "@bob:b.example"
		}), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "authoriser not a string", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			content(m)["join_authorised_via_users_server"] = 5
		}), status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadEvent},
		{name: "another able authoriser is fine", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			content(m)["join_authorised_via_users_server"] = "@mod:a.example"
		})},
		{name: "authoriser removed by the joining server", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			delete(content(m), "join_authorised_via_users_server")
		}), status: 403, errcode: ErrCodeForbidden, reason: ErrAuthRules},
		{name: "authoriser below the invite level", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			content(m)["join_authorised_via_users_server"] = "@low:a.example"
		}), status: 403, errcode: ErrCodeForbidden, reason: ErrAuthRules},
		{name: "authoriser not joined", event: mutate(t, v, signed, joinSrv, func(m map[string]any) {
			content(m)["join_authorised_via_users_server"] = "@ghost:a.example"
		}), status: 403, errcode: ErrCodeForbidden, reason: ErrAuthRules},
		{name: "condition no longer satisfied", event: signed, edit: func(r *SendJoinRequest) { r.Rooms = KnownRooms{spaceID: {}} }, status: 403, errcode: ErrCodeForbidden, reason: ErrNoCondition},
		{name: "condition now unverifiable", event: signed, edit: func(r *SendJoinRequest) { r.Rooms = nil }, status: 400, errcode: ErrCodeUnableToAuthoriseJoin, reason: ErrUnverifiable},
		{name: "banned since make_join", event: signed, edit: func(r *SendJoinRequest) {
			bb := restrictedRoom(t, v, "restricted", map[string]string{joiner: "ban"})
			r.State = bb.stateOf()
		}, status: 403, errcode: ErrCodeForbidden, reason: ErrBanned},
		{name: "no state", event: signed, edit: func(r *SendJoinRequest) { r.State = nil }, status: 400, errcode: ErrCodeInvalidParam, reason: ErrBadInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := SendJoinRequest{
				State: s, ResidentServer: resident, Rooms: rooms, RoomID: ev.RoomID,
				Origin: joinSrv, Event: c.event, Key: serverKey(t, resident), Keys: keyRing(t, joinSrv),
			}
			if c.edit != nil {
				c.edit(&req)
			}
			_, err := SendJoin(req)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status || e.ErrCode != c.errcode || !errors.Is(err, c.reason) {
				t.Fatalf("got %v, want %d %s (%v)", err, c.status, c.errcode, c.reason)
			}
			if c.reason == ErrAuthRules {
				var rej *authrules.Rejection
				if !errors.As(err, &rej) {
					t.Fatalf("no authrules rejection in %v", err)
				}
			}
			var body map[string]string
			if err := json.Unmarshal(e.JSON(), &body); err != nil || body["errcode"] != c.errcode || body["error"] == "" {
				t.Fatalf("error JSON %s", e.JSON())
			}
		})
	}
}

// acceptedRestrictedJoin is a restricted join of joiner in a room version 9 room, signed by
// joinSrv (signed), and the resident's send_join answer to it.
func acceptedRestrictedJoin(t *testing.T) (v roomversion.Version, signed []byte, res SendJoinResult) {
	t.Helper()
	v = mustVersion(t, "9")
	rooms := KnownRooms{spaceID: {joiner: "join"}}
	b := restrictedRoom(t, v, "restricted", nil)
	_, _, signed = joinOnce(t, b, rooms)
	res, err := SendJoin(SendJoinRequest{State: b.stateOf(), ResidentServer: resident, Rooms: rooms, Event: signed,
		Key: serverKey(t, resident), Keys: keyRing(t, joinSrv)})
	if err != nil {
		t.Fatal(err)
	}
	return v, signed, res
}

func TestCheckSendJoinResponseRefusals(t *testing.T) {
	v, signed, res := acceptedRestrictedJoin(t)
	keys := keyRing(t, joinSrv, resident)
	// The resident's answer with a different display name, re-signed by both.
	changed := mutate(t, v, res.Event, joinSrv, func(m map[string]any) {
		m["content"].(map[string]any)["displayname"] = "Mallory"
	})
	changed, _ = signing.SignEvent(v, changed, resident, serverKey(t, resident))
	// The resident's answer without the joining server's signature.
	var m map[string]any
	_ = json.Unmarshal(res.Event, &m)
	delete(m["signatures"].(map[string]any), joinSrv)
	dropped, _ := json.Marshal(m)
	// Signed by another key claiming to be the resident.
	evil := serverKey(t, "evil.example")
	forged, _ := signing.SignEvent(v, signed, resident, signing.SigningKey{Version: "1", Private: evil.Private})

	cases := []struct {
		name     string
		returned []byte
		resident string
		keys     signing.KeyLookup
		reason   error
	}{
		{"unsigned by the resident", signed, resident, keys, ErrBadSignature},
		{"content changed", changed, resident, keys, ErrResponseMismatch},
		{"joining signature dropped", dropped, resident, keys, ErrResponseMismatch},
		{"forged resident signature", forged, resident, keys, ErrBadSignature},
		{"resident key unknown", res.Event, resident, keyRing(t, joinSrv), ErrBadSignature},
		{"not an event", []byte(`[]`), resident, keys, ErrResponseMismatch},
		{"another resident expected", res.Event, "c.example", keyRing(t, joinSrv, resident, "c.example"), ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := CheckSendJoinResponse(v, signed, c.returned, c.resident, c.keys)
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, c.reason) || e.Status != 502 {
				t.Fatalf("got %v, want %v", err, c.reason)
			}
		})
	}
	if _, err := CheckSendJoinResponse(v, []byte(`{}`), res.Event, resident, keys); !errors.Is(err, ErrBadInput) {
		t.Fatalf("bad sent event: %v", err)
	}
	// A changed member that redaction removes leaves the event ID as it was: the message says
	// so rather than print one ID twice.
	var sameID map[string]any
	_ = json.Unmarshal(res.Event, &sameID)
	sameID["content"].(map[string]any)["displayname"] = "Mallory"
	sameIDRaw, _ := json.Marshal(sameID)
	_, err := CheckSendJoinResponse(v, signed, sameIDRaw, resident, keys)
	if err == nil || !strings.Contains(err.Error(), "changed copy of event") {
		t.Fatalf("content changed: %v", err)
	}
}

func TestCheckJoinTemplate(t *testing.T) {
	good := `{"type":"m.room.member","room_id":"!r:a.example","sender":"@zed:z.example","state_key":"@zed:z.example","content":{"membership":"join"}}`
	if err := CheckJoinTemplate("!r:a.example", joiner, []byte(good)); err != nil {
		t.Fatal(err)
	}
	if err := CheckKnockTemplate("!r:a.example", joiner, []byte(good)); !errors.Is(err, ErrBadTemplate) {
		t.Fatalf("join template accepted as knock: %v", err)
	}
	bad := map[string]string{
		"not JSON":       `{"type"`,
		"not an object":  `["m.room.member"]`,
		"other room":     strings.Replace(good, "!r:a.example", "!x:a.example", 1),
		"other sender":   strings.Replace(good, `"sender":"@zed:z.example"`, `"sender":"@eve:z.example"`, 1),
		"other target":   strings.Replace(good, `"state_key":"@zed:z.example"`, `"state_key":"@eve:z.example"`, 1),
		"no state_key":   strings.Replace(good, `"state_key":"@zed:z.example",`, ``, 1),
		"other type":     strings.Replace(good, `"m.room.member"`, `"m.room.message"`, 1),
		"leave":          strings.Replace(good, `"join"`, `"leave"`, 1),
		"no content":     strings.Replace(good, `,"content":{"membership":"join"}`, ``, 1),
		"content string": strings.Replace(good, `{"membership":"join"}`, `"join"`, 1),
	}
	for name, tmpl := range bad {
		err := CheckJoinTemplate("!r:a.example", joiner, []byte(tmpl))
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrBadTemplate) || !e.TryAnotherServer() {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMakeJoinRefusals(t *testing.T) {
	v := mustVersion(t, "9")
	b := restrictedRoom(t, v, "restricted", nil)
	s := b.stateOf()
	req := JoinRequest{State: s, UserID: joiner, ResidentServer: resident, Rooms: KnownRooms{spaceID: {joiner: "join"}}}
	for name, opts := range map[string]TemplateOptions{
		"no prev events":  {Origin: resident, Depth: 5},
		"21 prev events":  {Origin: resident, Depth: 5, PrevEvents: make([]string, 21)},
		"negative depth":  {Origin: resident, Depth: -1, PrevEvents: []string{"$x"}},
		"depth too large": {Origin: resident, Depth: 1 << 60, PrevEvents: []string{"$x"}},
	} {
		if _, _, err := MakeJoin(req, opts); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	req.Rooms = nil
	if _, _, err := MakeJoin(req, templateOpts(b)); !errors.Is(err, ErrUnverifiable) {
		t.Fatalf("unverifiable: %v", err)
	}
}

// TestTemplateAuthEvents checks the auth events of the template against the auth events
// selection, including the authoriser's membership (server-server-api "Auth events
// selection").
func TestTemplateAuthEvents(t *testing.T) {
	for _, id := range []string{"9", "12"} {
		v := mustVersion(t, id)
		b := restrictedRoom(t, v, "restricted", nil)
		_, tmpl, err := MakeJoin(JoinRequest{State: b.stateOf(), UserID: joiner, ResidentServer: resident,
			Rooms: KnownRooms{spaceID: {joiner: "join"}}}, templateOpts(b))
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			AuthEvents []string `json:"auth_events"`
		}
		if err := json.Unmarshal(tmpl.Event, &got); err != nil {
			t.Fatal(err)
		}
		want := []string{}
		for _, k := range [][2]string{{pdu.TypeCreate, ""}, {pdu.TypePowerLevels, ""}, {pdu.TypeJoinRules, ""}, {pdu.TypeMember, "@alice:a.example"}} {
			if k[0] == pdu.TypeCreate && !v.Auth.SelectCreateEvent {
				continue
			}
			want = append(want, b.byKey[k].EventID)
		}
		if len(got.AuthEvents) != len(want) {
			t.Fatalf("v%s: auth events %v, want %v", id, got.AuthEvents, want)
		}
		for _, w := range want {
			found := false
			for _, g := range got.AuthEvents {
				found = found || g == w
			}
			if !found {
				t.Fatalf("v%s: auth events %v miss %s", id, got.AuthEvents, w)
			}
		}
		if _, err := canonicaljson.CanonicalStrict(tmpl.Event); err != nil {
			t.Fatal(err)
		}
	}
}

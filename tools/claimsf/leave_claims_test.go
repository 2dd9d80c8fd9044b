package claimsf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

const leaver = "@dave:d.example"

// invitedRoom is a room of version vid (join rule knock from v7, else invite) where dave of
// d.example is invited.
func invitedRoom(t testing.TB, vid string) *room {
	t.Helper()
	r := newRoom(t, vid, roomOpts{})
	r.Member(t, leaver, "invite")
	return r
}

// DecideLeave's doc: "No state, a state of no room version (the zero authrules.State: the error
// also matches roomversion.ErrUnknownVersion), a userID that is not a user ID: 400
// M_INVALID_PARAM, reason ErrBadInput." MakeLeave calls DecideLeave ("A refusal is the [*Error]
// to send").
func TestDecideLeaveBadInput(t *testing.T) {
	r := invitedRoom(t, "10")
	for _, s := range []*authrules.State{nil, {}} {
		for name, f := range map[string]func() error{
			"DecideLeave": func() error { return membership.DecideLeave(s, leaver) },
			"MakeLeave":   func() error { _, err := membership.MakeLeave(s, leaver, r.Opts()); return err },
		} {
			err := f()
			wantErr(t, fmt.Sprintf("%s(%v)", name, s == nil), err, 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
			if s != nil && !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Errorf("%s of the zero State: %v does not match roomversion.ErrUnknownVersion", name, err)
			}
		}
	}
	for _, u := range []string{"", "dave", "@dave", "dave:d.example", "#dave:d.example", "@dave:"} {
		wantErr(t, "DecideLeave("+u+")", membership.DecideLeave(r.State, u), 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
		_, err := membership.MakeLeave(r.State, u, r.Opts())
		wantErr(t, "MakeLeave("+u+")", err, 400, membership.ErrCodeInvalidParam, membership.ErrBadInput)
	}
}

// templateBad returns MakeLeave's template with f applied to its members.
func templateBad(t testing.TB, tmpl []byte, f func(M)) []byte { return editJSON(t, tmpl, f) }

// CheckLeaveTemplate's doc: "the checks the leaving server MUST make before signing the
// template and calling /send_leave (spec: ... leaving-v1.yaml: room_id is roomID, sender and
// state_key are userID, type is m.room.member, content.membership is leave; otherwise 'the
// response MUST be treated as malformed and discarded. The caller MAY try to leave through
// another server'): 502 M_UNKNOWN, reason ErrBadTemplate, [Error.TryAnotherServer] true";
// decisions (membership) 23: "CheckLeaveTemplate refuses a bad template as entry 9 says".
func TestCheckLeaveTemplate(t *testing.T) {
	for _, vid := range []string{"1", "3", "7", "10", "12"} {
		r := invitedRoom(t, vid)
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		if err := membership.CheckLeaveTemplate(r.ID, leaver, tmpl.Event); err != nil {
			t.Fatalf("v%s: %v", vid, err)
		}
		bad := map[string][]byte{
			"not JSON":                  []byte(`{"type":`),
			"an array":                  []byte(`[]`),
			"another room":              templateBad(t, tmpl.Event, func(m M) { m["room_id"] = "!elsewhere:a.example" }),
			"no room_id":                templateBad(t, tmpl.Event, func(m M) { delete(m, "room_id") }),
			"another sender":            templateBad(t, tmpl.Event, func(m M) { m["sender"] = "@eve:d.example" }),
			"no sender":                 templateBad(t, tmpl.Event, func(m M) { delete(m, "sender") }),
			"another state_key":         templateBad(t, tmpl.Event, func(m M) { m["state_key"] = "@eve:d.example" }),
			"no state_key":              templateBad(t, tmpl.Event, func(m M) { delete(m, "state_key") }),
			"state_key not a string":    templateBad(t, tmpl.Event, func(m M) { m["state_key"] = 1 }),
			"type m.room.message":       templateBad(t, tmpl.Event, func(m M) { m["type"] = "m.room.message" }),
			"membership join":           templateBad(t, tmpl.Event, func(m M) { m["content"] = M{"membership": "join"} }),
			"membership knock":          templateBad(t, tmpl.Event, func(m M) { m["content"] = M{"membership": "knock"} }),
			"membership ban":            templateBad(t, tmpl.Event, func(m M) { m["content"] = M{"membership": "ban"} }),
			"no membership":             templateBad(t, tmpl.Event, func(m M) { m["content"] = M{} }),
			"content not an object":     templateBad(t, tmpl.Event, func(m M) { m["content"] = "leave" }),
			"membership not a string":   templateBad(t, tmpl.Event, func(m M) { m["content"] = M{"membership": []any{"leave"}} }),
			"room_id of another letter": templateBad(t, tmpl.Event, func(m M) { m["room_id"] = strings.ToUpper(r.ID) }),
		}
		for name, b := range bad {
			err := membership.CheckLeaveTemplate(r.ID, leaver, b)
			e := wantErr(t, fmt.Sprintf("v%s %s", vid, name), err, 502, membership.ErrCodeUnknown, membership.ErrBadTemplate)
			if !e.TryAnotherServer() {
				t.Errorf("v%s %s: TryAnotherServer false", vid, name)
			}
		}
		// A leave template is no join or knock template, and the other way round.
		if membership.CheckJoinTemplate(r.ID, leaver, tmpl.Event) == nil || membership.CheckKnockTemplate(r.ID, leaver, tmpl.Event) == nil {
			t.Errorf("v%s: a join or knock template check passes a leave template", vid)
		}
		if r.V.Auth.Knocking {
			k := "@kim:d.example"
			kt, err := membership.MakeKnock(r.State, k, r.Opts())
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, "knock template", membership.CheckLeaveTemplate(r.ID, k, kt.Event), 502, membership.ErrCodeUnknown, membership.ErrBadTemplate)
		}
	}
	// leaving-v1.yaml's own example of a make_leave response event passes.
	example := `{"room_id":"!somewhere:example.org","type":"m.room.member","state_key":"@someone:example.org","origin":"example.org","origin_server_ts":1549041175876,"sender":"@someone:example.org","content":{"membership":"leave"}}`
	if err := membership.CheckLeaveTemplate("!somewhere:example.org", "@someone:example.org", []byte(example)); err != nil {
		t.Errorf("leaving-v1.yaml's example: %v", err)
	}
}

// SignTemplate's doc (changed): "it sets origin and origin_server_ts, for room versions 1 and 2
// sets event_id to eventID (ignored from version 3, where the ID is the reference hash), drops
// any hashes, signatures and unsigned the template carried, and hashes and signs the event with
// key as serverName. It reads no membership: check the template first"; server-server-api
// "Leaving Rooms": "the leaving server signs the event and replaces the event_id with its own".
func TestSignTemplateLeave(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		dirty := templateBad(t, tmpl.Event, func(m M) {
			m["event_id"] = "$resident:a.example"
			m["hashes"] = M{"sha256": "AAAA"}
			m["signatures"] = M{"a.example": M{"ed25519:1": "AAAA"}}
			m["unsigned"] = M{"age": 1}
			m["origin"] = "a.example"
			m["content"] = M{"membership": "ban"} // read by no one
		})
		out, err := membership.SignTemplate(r.V, dirty, "d.example", 1_700_000_700_000, "$mine:d.example", "d.example", authfixture.Key("d.example"))
		if err != nil {
			t.Fatalf("v%s: %v", vid, err)
		}
		o := mustObj(t, out)
		if string(o["origin"]) != `"d.example"` || string(o["origin_server_ts"]) != "1700000700000" {
			t.Errorf("v%s: origin %s, origin_server_ts %s", vid, o["origin"], o["origin_server_ts"])
		}
		id, has := o["event_id"]
		if r.V.Format.HasEventIDField != has || (has && string(id) != `"$mine:d.example"`) {
			t.Errorf("v%s: event_id %s (present %v)", vid, id, has)
		}
		if _, ok := o["unsigned"]; ok {
			t.Errorf("v%s: unsigned kept", vid)
		}
		if string(o["content"]) != `{"membership":"ban"}` {
			t.Errorf("v%s: content %s: SignTemplate reads no membership", vid, o["content"])
		}
		var sigs map[string]map[string]string
		_ = json.Unmarshal(o["signatures"], &sigs)
		if len(sigs) != 1 || len(sigs["d.example"]) != 1 {
			t.Errorf("v%s: signatures %v", vid, sigs)
		}
		if err := signing.CheckContentHash(r.V, out); err != nil {
			t.Errorf("v%s: content hash %v", vid, err)
		}
		ev, err := signing.ParseEvent(r.V, out)
		if err != nil {
			t.Fatalf("v%s: %v", vid, err)
		}
		if err := signing.VerifyEventSignature(ev, "d.example", ring); err != nil {
			t.Errorf("v%s: %v", vid, err)
		}
	}
}

// leaveReq is a SendLeave request for the leave signed and ev of room r as a well-behaved
// resident makes it.
func leaveReq(t testing.TB, r *room, signed []byte, ev *pdu.Event) membership.SendLeaveRequest {
	t.Helper()
	return membership.SendLeaveRequest{State: r.State, RoomID: r.ID, EventID: ev.EventID, Origin: "d.example",
		Event: signed, Keys: ring, AuthEvents: r.AuthOf(t, ev)}
}

// sendCase is a refusal SendLeave must give.
type sendCase struct {
	name    string
	req     membership.SendLeaveRequest
	status  int
	errcode string
	reason  error
}

// sendLeaveCases are the body checks of SendLeave's doc and decisions (membership) 23 for room
// r, where dave is invited: "the body must be an event of the room version (400 M_NOT_JSON /
// M_BAD_JSON) and, as leaving-v2.yaml asks (400 M_INVALID_PARAM, reasons ErrBadEvent and
// ErrBadSignature): of type m.room.member with membership leave, whose state_key is its sender,
// a user of Origin, in room RoomID with ID EventID, validly signed by the sender's server (room
// versions 1-2: also by the event ID's domain when it differs) with a matching content hash. The
// leave must then be allowed ([DecideLeave], 403 M_FORBIDDEN) and pass the authorization rules
// against State, and against AuthEvents when given (403 M_FORBIDDEN, reason ErrAuthRules)."
func sendLeaveCases(t testing.TB, r *room) []sendCase {
	t.Helper()
	tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
	if err != nil {
		t.Fatal(err)
	}
	signed, ev := r.signLeave(t, tmpl.Event, leaver)
	ok := leaveReq(t, r, signed, ev)
	with := func(f func(*membership.SendLeaveRequest)) membership.SendLeaveRequest {
		q := ok
		f(&q)
		return q
	}
	resign := func(f func(M)) membership.SendLeaveRequest {
		return with(func(q *membership.SendLeaveRequest) {
			b := editJSON(t, signed, func(m M) {
				delete(m, "signatures")
				delete(m, "hashes")
				f(m)
			})
			b = signAs(t, r.V, mustM(t, b), "d.example", authfixture.Key("d.example"))
			q.Event = b
			q.EventID = ""
		})
	}
	bad := func(name string, q membership.SendLeaveRequest, reason error) sendCase {
		return sendCase{name, q, 400, membership.ErrCodeInvalidParam, reason}
	}
	cases := []sendCase{
		{"not JSON", with(func(q *membership.SendLeaveRequest) { q.Event = []byte(`{"type":`) }), 400, membership.ErrCodeNotJSON, membership.ErrBadEvent},
		{"JSON, not an event", with(func(q *membership.SendLeaveRequest) { q.Event = []byte(`{}`) }), 400, membership.ErrCodeBadJSON, membership.ErrBadEvent},
		{"an array", with(func(q *membership.SendLeaveRequest) { q.Event = []byte(`[]`) }), 400, membership.ErrCodeBadJSON, membership.ErrBadEvent},
		bad("type m.room.message", resign(func(m M) { m["type"] = "m.room.message" }), membership.ErrBadEvent),
		bad("membership join", resign(func(m M) { m["content"] = M{"membership": "join"} }), membership.ErrBadEvent),
		bad("membership knock", resign(func(m M) { m["content"] = M{"membership": "knock"} }), membership.ErrBadEvent),
		bad("membership invite", resign(func(m M) { m["content"] = M{"membership": "invite"} }), membership.ErrBadEvent),
		bad("membership ban", resign(func(m M) { m["content"] = M{"membership": "ban"} }), membership.ErrBadEvent),
		bad("no membership", resign(func(m M) { m["content"] = M{} }), membership.ErrBadEvent),
		bad("no state_key", resign(func(m M) { delete(m, "state_key") }), membership.ErrBadEvent),
		bad("state_key another user (a kick)", resign(func(m M) { m["state_key"] = "@eve:d.example" }), membership.ErrBadEvent),
		bad("sender not of Origin", with(func(q *membership.SendLeaveRequest) { q.Origin = "e.example" }), membership.ErrBadEvent),
		bad("another room in the path", with(func(q *membership.SendLeaveRequest) { q.RoomID = "!elsewhere:a.example" }), membership.ErrBadEvent),
		bad("another event ID in the path", with(func(q *membership.SendLeaveRequest) { q.EventID = "$other:d.example" }), membership.ErrBadEvent),
		bad("no signature", with(func(q *membership.SendLeaveRequest) {
			q.Event = editJSON(t, signed, func(m M) { m["signatures"] = M{} })
		}), membership.ErrBadSignature),
		bad("signed by another key", ok, nil), // the request is made below
		bad("content hash mismatch", with(func(q *membership.SendLeaveRequest) {
			q.Event = editJSON(t, signed, func(m M) { m["content"].(map[string]any)["reason"] = "added after signing" })
		}), membership.ErrBadSignature),
		bad("unknown key", with(func(q *membership.SendLeaveRequest) {
			q.Keys = authfixture.KeyRing()
			delete(q.Keys.(signing.KeyRing), "d.example")
		}), membership.ErrBadSignature),
		bad("no keys", with(func(q *membership.SendLeaveRequest) { q.Keys = nil }), membership.ErrBadSignature),
	}
	for i := range cases {
		if cases[i].name == "signed by another key" {
			cases[i].req = with(func(q *membership.SendLeaveRequest) {
				b := editJSON(t, signed, func(m M) { delete(m, "signatures") })
				q.Event = signAs(t, r.V, mustM(t, b), "d.example", authfixture.Key("e.example"))
			})
			cases[i].reason = membership.ErrBadSignature
		}
	}
	if r.V.Format.HasEventIDField {
		cases = append(cases, bad("v1-2: event ID of another domain, not signed by it", resign(func(m M) { m["event_id"] = "$x:e.example" }), membership.ErrBadSignature))
	}
	// The decision and the auth rules.
	banned := newRoom(t, r.V.ID, roomOpts{})
	banned.Member(t, leaver, "ban")
	cases = append(cases,
		sendCase{"banned", with(func(q *membership.SendLeaveRequest) { q.State = banned.State; q.AuthEvents = nil; q.RoomID = banned.ID }), 403, membership.ErrCodeForbidden, membership.ErrBanned},
		sendCase{"auth events lack the member event", with(func(q *membership.SendLeaveRequest) {
			var keep []*pdu.Event
			for _, a := range q.AuthEvents {
				if a.Type != pdu.TypeMember {
					keep = append(keep, a)
				}
			}
			q.AuthEvents = keep
		}), 403, membership.ErrCodeForbidden, membership.ErrAuthRules},
	)
	if r.V.Auth.RestrictedJoinRule {
		cases = append(cases, sendCase{"join_authorised_via_users_server its server did not sign (rule 4.2.1)",
			resign(func(m M) { m["content"] = M{"membership": "leave", "join_authorised_via_users_server": creator} }),
			403, membership.ErrCodeForbidden, membership.ErrAuthRules})
	}
	return cases
}

// mustM decodes b into an M.
func mustM(t testing.TB, b []byte) M {
	t.Helper()
	var m M
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSendLeaveRefusals: every check of SendLeave's doc and decisions (membership) 23, with its
// exact status, errcode and reason, in every room version; the unknown key also matches
// signing.ErrUnknownKey.
func TestSendLeaveRefusals(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		r := invitedRoom(t, vid)
		for _, c := range sendLeaveCases(t, r) {
			_, err := membership.SendLeave(c.req)
			wantErr(t, "v"+vid+" "+c.name, err, c.status, c.errcode, c.reason)
			// decisions (membership) 23: "e.g. a leave carrying a join_authorised_via_users_server
			// its server did not sign, rule 4.2.1" (v8 numbering; 5.2.1 in v12).
			if strings.HasPrefix(c.name, "join_authorised_via_users_server") {
				var rej *authrules.Rejection
				want := "4.2.1"
				if r.V.Format.RoomIDFromCreateEvent {
					want = "5.2.1"
				}
				if !errors.As(err, &rej) || rej.Rule != want {
					t.Errorf("v%s: %v, want rule %s", vid, err, want)
				}
			}
			if c.name == "unknown key" && !errors.Is(err, signing.ErrUnknownKey) {
				t.Errorf("v%s unknown key: %v does not match signing.ErrUnknownKey", vid, err)
			}
		}
		// Without the join rule of the restricted versions the field is no rule's: accepted.
		if !r.V.Auth.RestrictedJoinRule {
			raw, ev := r.handLeave(t, leaver, M{"membership": "leave", "join_authorised_via_users_server": creator}, nil)
			if _, err := membership.SendLeave(leaveReq(t, r, raw, ev)); err != nil {
				t.Errorf("v%s: %v", vid, err)
			}
		}
	}
}

// decisions (membership) 23: "SendLeave makes the checks SendKnock makes (one helper)"; doc of
// SendLeave: "with the checks [SendKnock] makes for knocks". The same damage to a knock and to a
// leave gets the same status, errcode and reason from SendKnock and SendLeave.
func TestSendLeaveChecksAreSendKnocks(t *testing.T) {
	for _, vid := range []string{"7", "9", "10", "11", "12"} {
		r := invitedRoom(t, vid)
		knocker := "@kim:d.example"
		kt, err := membership.MakeKnock(r.State, knocker, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		knock, kev := r.signLeave(t, kt.Event, knocker) // SignTemplate signs any template
		if _, err := membership.SendKnock(membership.SendKnockRequest{State: r.State, RoomID: r.ID, EventID: kev.EventID,
			Origin: "d.example", Event: knock, Keys: ring, AuthEvents: r.AuthOf(t, kev)}); err != nil {
			t.Fatalf("v%s: the knock: %v", vid, err)
		}
		lt, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		leave, lev := r.signLeave(t, lt.Event, leaver)
		damage := map[string]func(M){
			"type":              func(m M) { m["type"] = "m.room.message" },
			"state_key":         func(m M) { m["state_key"] = "@eve:d.example" },
			"sender of another": func(m M) { m["sender"] = "@eve:e.example"; m["state_key"] = "@eve:e.example" },
			"no state_key":      func(m M) { delete(m, "state_key") },
			"no signature":      func(m M) { m["signatures"] = M{} },
			"hash":              func(m M) { m["content"].(map[string]any)["x"] = 1 },
			"truncated":         nil,
			"path room":         nil,
			"path event ID":     nil,
			"origin":            nil,
		}
		for name, f := range damage {
			kq := membership.SendKnockRequest{State: r.State, RoomID: r.ID, EventID: kev.EventID, Origin: "d.example", Event: knock, Keys: ring}
			lq := membership.SendLeaveRequest{State: r.State, RoomID: r.ID, EventID: lev.EventID, Origin: "d.example", Event: leave, Keys: ring}
			switch name {
			case "truncated":
				kq.Event, lq.Event = knock[:40], leave[:40]
			case "path room":
				kq.RoomID, lq.RoomID = "!x:a.example", "!x:a.example"
			case "path event ID":
				kq.EventID, lq.EventID = "$x:d.example", "$x:d.example"
			case "origin":
				kq.Origin, lq.Origin = "e.example", "e.example"
			default:
				kq.Event, lq.Event = editJSON(t, knock, f), editJSON(t, leave, f)
				kq.EventID, lq.EventID = "", ""
			}
			_, kerr := membership.SendKnock(kq)
			_, lerr := membership.SendLeave(lq)
			if verdict(kerr) != verdict(lerr) || kerr == nil {
				t.Errorf("v%s %s: SendKnock %s, SendLeave %s", vid, name, verdict(kerr), verdict(lerr))
			}
		}
	}
}

// SendLeaveResult.JSON's doc: "the body of a successful version 2 /send_leave, `{}` ... The
// deprecated version 1 endpoint answers `[200, {}]` (leaving-v1.yaml): its body is `[200,`,
// JSON() and `]`"; decisions (membership) 23.
func TestSendLeaveResultJSON(t *testing.T) {
	for _, r := range []membership.SendLeaveResult{{}, {Parsed: &pdu.Event{}}} {
		if string(r.JSON()) != "{}" {
			t.Errorf("JSON() = %s", r.JSON())
		}
		var v1 []any
		if err := json.Unmarshal([]byte("[200,"+string(r.JSON())+"]"), &v1); err != nil || len(v1) != 2 || v1[0] != float64(200) || !reflect.DeepEqual(v1[1], map[string]any{}) {
			t.Errorf("v1 body: %v %v", v1, err)
		}
	}
}

// SendLeaveRequest's doc: "the fields of [SendKnockRequest]"; decisions (membership) 23:
// "SendLeaveRequest is SendKnockRequest's struct under its own name: the two requests carry the
// same things."
func TestSendLeaveRequestIsSendKnockRequest(t *testing.T) {
	l, k := reflect.TypeFor[membership.SendLeaveRequest](), reflect.TypeFor[membership.SendKnockRequest]()
	if l == k || !l.ConvertibleTo(k) || !k.ConvertibleTo(l) || l.NumField() != k.NumField() {
		t.Fatalf("%v and %v", l, k)
	}
	for i := range l.NumField() {
		if l.Field(i).Name != k.Field(i).Name || l.Field(i).Type != k.Field(i).Type {
			t.Errorf("field %d: %v / %v", i, l.Field(i), k.Field(i))
		}
	}
}

// SendLeave's doc: "As for every handshake, the room's server ACL is the caller's
// ([CheckMakeRequest])"; decisions (membership) 21: "the ACL (server-server-api lists
// /make_leave and /send_leave among the protected endpoints) is the caller's". A room whose ACL
// denies d.example still answers its make_leave and send_leave; the spec lists the endpoints.
func TestLeaveACLIsTheCallers(t *testing.T) {
	ssa := claimkit.Flat(readSpec(t, "content/server-server-api.md"))
	for _, e := range []string{"`/_matrix/federation/v1/make_leave`", "`/_matrix/federation/v1/send_leave`", "`/_matrix/federation/v2/send_leave`"} {
		i := strings.Index(ssa, "The following endpoint prefixes MUST be protected:")
		if i < 0 || !strings.Contains(ssa[i:i+800], e) {
			t.Errorf("the spec's ACL list lacks %s", e)
		}
	}
	for _, vid := range []string{"3", "10", "12"} {
		r := invitedRoom(t, vid)
		r.Add(t, creator, "m.room.server_acl", "", M{"allow": []any{"*"}, "deny": []any{"d.example"}, "allow_ip_literals": false})
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatalf("v%s: MakeLeave with d.example denied by the ACL: %v", vid, err)
		}
		signed, ev := r.signLeave(t, tmpl.Event, leaver)
		if _, err := membership.SendLeave(leaveReq(t, r, signed, ev)); err != nil {
			t.Errorf("v%s: SendLeave: %v", vid, err)
		}
	}
}

// decisions (membership) 21: "The make_leave request has no ver: CheckMakeRequest(v, user,
// origin, nil) checks only that the user is of the requesting server ('This MUST be a user ID on
// the origin server', leaving-v1.yaml)"; MakeLeave's doc: "call [CheckMakeRequest] first, with a
// nil ver (make_leave has none)".
func TestCheckMakeRequestForLeave(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, vid)
		if err := membership.CheckMakeRequest(v, leaver, "d.example", nil); err != nil {
			t.Errorf("v%s: %v", vid, err)
		}
		wantErr(t, "v"+vid+" another origin", membership.CheckMakeRequest(v, leaver, "e.example", nil), 403, membership.ErrCodeForbidden, membership.ErrNotFromOrigin)
	}
}

// decisions (membership) 21: "A banned user cannot leave: the leave would lift the ban, which
// only another user's unban (kick and ban levels) can."; DecideLeave's doc ("a leave would lift
// the ban, which only another user's unban can").
func TestBanLiftedOnlyByUnban(t *testing.T) {
	for _, vid := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, vid)
		if _, ok := membership.FindTransition(v, pdu.MembershipBan, pdu.MembershipLeave, true, ""); ok {
			t.Errorf("v%s: a self-leave from ban exists", vid)
		}
		tr, ok := membership.FindTransition(v, pdu.MembershipBan, pdu.MembershipLeave, false, "")
		if !ok || tr.Action != membership.ActionUnban || !slices.Equal(tr.Levels, []membership.Level{membership.LevelKick, membership.LevelBan}) {
			t.Errorf("v%s: %+v %v", vid, tr, ok)
		}
	}
}

// decisions (membership) 21 and the section's introduction: "leaving-v1.yaml and leaving-v2.yaml
// are outside the spec extract; they were read from the matrix-spec repository".
func TestLeavingYamlsOutsideTheExtract(t *testing.T) {
	readSpec(t, "README.md")
	for _, f := range []string{"leaving-v1.yaml", "leaving-v2.yaml"} {
		if _, err := os.Stat(filepath.Join(specDir, "data/api/server-server", f)); err == nil {
			t.Errorf("%s is in the spec extract", f)
		}
	}
	claimkit.WantText(t, "docs/decisions.md", "leaving-v1.yaml and leaving-v2.yaml are outside the spec extract; they were read from the matrix-spec repository.")
}

// README (membership): "MakeLeave, CheckLeaveTemplate and SendLeave the leave handshake
// (rejecting an invite, retracting a knock)"; the packages table: "join/invite/knock/leave
// handshakes"; the package doc: "[DecideLeave], [MakeLeave] and [SendLeave] do it for leaves
// through another server: rejecting an invite, retracting a knock, or leaving". The handshake end
// to end does each (TestWhoMayLeave checks the classification in every version).
func TestReadmeLeaveHandshake(t *testing.T) {
	claimkit.WantText(t, "README.md", "`MakeLeave`, `CheckLeaveTemplate` and `SendLeave` the leave handshake (rejecting an invite, retracting a knock)")
	claimkit.WantText(t, "README.md", "| `membership` | make_join/send_join decisions in restricted rooms, join/invite/knock/leave handshakes, membership transitions |")
	for from, meaning := range map[string]string{"invite": "reject the invite", "knock": "retract the knock", "join": "leave the room"} {
		r := newRoom(t, "11", roomOpts{})
		r.Member(t, leaver, from)
		if err := membership.CheckMakeRequest(r.V, leaver, "d.example", nil); err != nil {
			t.Fatal(err)
		}
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		if err := membership.CheckLeaveTemplate(r.ID, leaver, tmpl.Event); err != nil {
			t.Fatal(err)
		}
		signed, ev := r.signLeave(t, tmpl.Event, leaver)
		res, err := membership.SendLeave(leaveReq(t, r, signed, ev))
		if err != nil {
			t.Fatal(err)
		}
		if tr, ok := membership.ClassifyMemberEvent(r.V, from, res.Parsed, "knock"); !ok || tr.Meaning != meaning {
			t.Errorf("from %s: %+v", from, tr)
		}
	}
}

// README: "and `handshakeref` for the leave decisions" (fixture tables run through a spec-only
// reference); "tools/handshakeref extends memberref to ... join, knock and leave templates and
// their checks, SignTemplate, SendJoin/SendKnock/SendLeave, MakeLeave's decision".
func TestReadmeHandshakeref(t *testing.T) {
	claimkit.WantText(t, "README.md", "and `handshakeref` for the leave decisions")
	f := funcBody(t, "tools/handshakeref/fixtures_test.go", "TestLeaveFixturesAgree")
	if !strings.Contains(f, "leave_decision.json") || !strings.Contains(f, "DecideLeave") {
		t.Error("TestLeaveFixturesAgree does not run leave_decision.json through DecideLeave")
	}
	cases := claimkit.ReadRoot(t, "tools/handshakeref/cases.go")
	for _, fn := range []string{"membership.MakeLeave", "membership.SendLeave", "membership.CheckLeaveTemplate", "membership.SignTemplate"} {
		if !strings.Contains(cases, fn) {
			t.Errorf("tools/handshakeref/cases.go does not call %s", fn)
		}
	}
}

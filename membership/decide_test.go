package membership

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

type joinCase struct {
	Name           string                       `json:"name"`
	Spec           string                       `json:"spec"`
	RoomVersion    string                       `json:"room_version"`
	Room           roomSpec                     `json:"room"`
	UserID         string                       `json:"user_id"`
	ResidentServer string                       `json:"resident_server"`
	Rooms          map[string]map[string]string `json:"rooms"`
	Origin         string                       `json:"origin"`
	Ver            []string                     `json:"ver"` // nil: absent; [] is sent as []
	Expect         struct {
		Decision        string `json:"decision"`
		AuthorisingUser string `json:"authorising_user"`
		Basis           string `json:"basis"`
		Status          int    `json:"status"`
		ErrCode         string `json:"errcode"`
		Reason          string `json:"reason"`
		RoomVersion     string `json:"room_version"`
	} `json:"expect"`
}

// joinInput builds the join-decision JSON input of a case, with real signed state events.
func joinInput(t testing.TB, c joinCase) []byte {
	t.Helper()
	data, _ := joinInputRoom(t, c)
	return data
}

func joinInputRoom(t testing.TB, c joinCase) ([]byte, *builder) {
	t.Helper()
	b := buildRoom(t, mustVersion(t, c.RoomVersion), c.Room)
	var state []json.RawMessage
	for _, ev := range b.current() {
		state = append(state, ev.Raw())
	}
	in := map[string]any{
		"room_version":    c.RoomVersion,
		"state":           state,
		"user_id":         c.UserID,
		"resident_server": c.ResidentServer,
	}
	if c.Origin != "" {
		in["origin"] = c.Origin
	}
	if c.Ver != nil {
		in["ver"] = c.Ver
	}
	if c.Rooms != nil {
		in["rooms"] = c.Rooms
	}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return data, b
}

// TestJoinDecisionFixtures runs testdata/membership/join_decision.json through the whole
// join-decision path: ParseJoinRequest, DecideJoin, DecisionJSON.
func TestJoinDecisionFixtures(t *testing.T) {
	var cases []joinCase
	loadCases(t, "join_decision.json", &cases)
	if len(cases) < 40 {
		t.Fatalf("only %d cases loaded", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Spec == "" {
				t.Fatal("case without spec section")
			}
			input, b := joinInputRoom(t, c)
			req, err := ParseJoinRequest(input)
			if err != nil {
				t.Fatalf("ParseJoinRequest: %v", err)
			}
			d, err := DecideJoin(req)
			var out struct {
				Decision        string `json:"decision"`
				AuthorisingUser string `json:"authorising_user"`
				Status          int    `json:"status"`
				ErrCode         string `json:"errcode"`
				Error           string `json:"error"`
				RoomVersion     string `json:"room_version"`
			}
			js := DecisionJSON(d, err)
			if err := json.Unmarshal(js, &out); err != nil {
				t.Fatalf("DecisionJSON output %s: %v", js, err)
			}
			e := c.Expect
			if out.Decision != e.Decision || out.AuthorisingUser != e.AuthorisingUser || out.Status != e.Status || out.ErrCode != e.ErrCode || out.RoomVersion != e.RoomVersion {
				t.Fatalf("got %s (err %v)\nwant decision=%s authorising_user=%q status=%d errcode=%s", js, err, e.Decision, e.AuthorisingUser, e.Status, e.ErrCode)
			}
			if e.Decision == "allow" {
				if err != nil {
					t.Fatalf("allow with error %v", err)
				}
				if e.Basis != "" && d.Basis.String() != e.Basis {
					t.Fatalf("basis %s, want %s", d.Basis, e.Basis)
				}
				if (d.AuthorisingUser != "") != (d.Basis == BasisCondition) {
					t.Fatalf("authoriser %q with basis %s", d.AuthorisingUser, d.Basis)
				}
				// The auth rules accept the join this decision leads to.
				if err := authCheckJoin(t, b, c.UserID, d.AuthorisingUser); err != nil {
					t.Fatalf("auth rules reject the allowed join: %v", err)
				}
				return
			}
			if out.Error == "" {
				t.Fatal("reject without error message")
			}
			want, ok := reasons[e.Reason]
			if !ok {
				t.Fatalf("unknown reason %q in fixture", e.Reason)
			}
			if !errors.Is(err, want) {
				t.Fatalf("error %v is not %s", err, e.Reason)
			}
			var me *Error
			if !errors.As(err, &me) || me.Status != e.Status || me.ErrCode != e.ErrCode {
				t.Fatalf("error %#v", err)
			}
			// Refusals the auth rules make themselves: a plain join is rejected too.
			switch want {
			case ErrBanned, ErrNotInvited, ErrUnknownJoinRule:
				if err := authCheckJoin(t, b, c.UserID, ""); err == nil {
					t.Fatal("the auth rules accept a join DecideJoin refuses")
				}
			}
			// Every 400 means another resident may answer differently, except a room version
			// the joining server lacks: the room's version is the same everywhere.
			if me.TryAnotherServer() != (e.Status == 400 && e.ErrCode != ErrCodeIncompatibleRoomVersion) {
				t.Fatalf("TryAnotherServer() = %v for %d %s", me.TryAnotherServer(), me.Status, me.ErrCode)
			}
		})
	}
}

// TestDecideJoinDeterministic checks that the authoriser does not depend on the order of the
// state events.
func TestDecideJoinDeterministic(t *testing.T) {
	v := mustVersion(t, "9")
	spec := roomSpec{
		Creator:     "@alice:a.example",
		JoinRules:   json.RawMessage(`{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!s:a.example"}]}`),
		PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":50,"@b:a.example":50,"@c:a.example":50,"@a:a.example":50},"invite":50}`),
		Members:     map[string]string{"@b:a.example": "join", "@c:a.example": "join", "@a:a.example": "join"},
	}
	b := buildRoom(t, v, spec)
	evs := b.current()
	for i := 0; i < len(evs); i++ {
		// rotate the events
		rot := append(append([]*pdu.Event(nil), evs[i:]...), evs[:i]...)
		s := mustState(t, v, rot)
		d, err := DecideJoin(JoinRequest{State: s, UserID: "@z:z.example", ResidentServer: "a.example",
			Rooms: KnownRooms{"!s:a.example": {"@z:z.example": "join"}}})
		if err != nil || d.AuthorisingUser != "@a:a.example" {
			t.Fatalf("rotation %d: %+v %v", i, d, err)
		}
	}
}

func TestDecideJoinBadInput(t *testing.T) {
	if _, err := DecideJoin(JoinRequest{}); !errors.Is(err, ErrBadInput) {
		t.Fatalf("nil state: %v", err)
	}
	b := buildRoom(t, mustVersion(t, "9"), roomSpec{Creator: "@alice:a.example", JoinRules: json.RawMessage(`{"join_rule":"public"}`)})
	for _, u := range []string{"", "zed", "@zed", "@:", "zed:z.example", "@zed:"} {
		_, err := DecideJoin(JoinRequest{State: b.stateOf(), UserID: u, ResidentServer: "a.example"})
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || e.ErrCode != ErrCodeInvalidParam || !errors.Is(err, ErrBadInput) {
			t.Errorf("user %q: %v", u, err)
		}
	}
}

// authCheckJoin builds the join of userID (with authoriser when not empty), signed by the
// joining server and the authoriser's server, and runs the auth rules on it against the
// room's current state.
func authCheckJoin(t testing.TB, b *builder, userID, authoriser string) error {
	t.Helper()
	content := map[string]any{"membership": "join"}
	if authoriser != "" {
		content["join_authorised_via_users_server"] = authoriser
	}
	sk := userID
	ev := b.raw(pdu.TypeMember, userID, &sk, content, nil)
	raw := ev.Raw()
	servers := []string{serverOf(userID)}
	if authoriser != "" {
		srv := serverOf(authoriser)
		servers = append(servers, srv)
		signed, err := signing.SignEvent(b.v, raw, srv, serverKey(t, srv))
		if err != nil {
			t.Fatal(err)
		}
		if ev, err = signing.ParseEvent(b.v, signed); err != nil {
			t.Fatal(err)
		}
	}
	return b.stateOf().Check(ev, keyRing(t, servers...))
}

// TestParseJoinRequestInvalid: testdata/membership/join_request_invalid.json. Cases marked
// after_state get a valid state spliced in, so that the error is the one about `rooms`.
func TestParseJoinRequestInvalid(t *testing.T) {
	var cases []struct {
		Name           string `json:"name"`
		Spec           string `json:"spec"`
		Input          string `json:"input"`
		ErrCode        string `json:"errcode"`
		UnknownVersion bool   `json:"unknown_version"`
		AfterState     bool   `json:"after_state"`
		About          string `json:"about"` // the member the error names; "rooms" by default
	}
	loadCases(t, "join_request_invalid.json", &cases)
	create := buildRoom(t, mustVersion(t, "9"), roomSpec{Creator: "@alice:a.example"}).byKey[[2]string{pdu.TypeCreate, ""}].Raw()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			in := c.Input
			if c.AfterState {
				in = strings.Replace(in, `"state":[]`, `"state":[`+string(create)+`]`, 1)
			}
			_, err := ParseJoinRequest([]byte(in))
			var e *Error
			if !errors.As(err, &e) || e.Status != 400 || e.ErrCode != c.ErrCode || !errors.Is(err, ErrBadInput) {
				t.Fatalf("got %v, want 400 %s", err, c.ErrCode)
			}
			if c.UnknownVersion != errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatalf("unknown version: %v", err)
			}
			about := c.About
			if about == "" {
				about = "rooms"
			}
			if c.AfterState && !strings.HasPrefix(e.Message, about) {
				t.Fatalf("error not about %s: %v", about, err)
			}
		})
	}
}

func TestAuthorisedServers(t *testing.T) {
	b := buildRoom(t, mustVersion(t, "9"), roomSpec{
		Creator:     "@alice:a.example",
		PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":50,"@c:c.example":100,"@b:b.example":50,"@b2:b.example":20,"@d:d.example":50,"@e:e.example":100},"invite":20}`),
		Members:     map[string]string{"@c:c.example": "join", "@b:b.example": "join", "@b2:b.example": "join", "@d:d.example": "join", "@e:e.example": "invite", "@f:f.example": "join"},
	})
	s := b.stateOf()
	got := AuthorisedServers(s)
	want := []string{"c.example", "a.example", "b.example", "d.example"}
	if !slices.Equal(got, want) {
		t.Fatalf("AuthorisedServers = %v, want %v", got, want)
	}
	if got := Authorisers(s, "b.example"); !slices.Equal(got, []string{"@b:b.example", "@b2:b.example"}) {
		t.Fatalf("Authorisers = %v", got)
	}
	if AuthorisedServers(nil) != nil || Authorisers(nil, "a") != nil {
		t.Fatal("nil state")
	}
}

// TestAuthorisersExactLevels: in a v9 room whose levels are integer strings beyond the int64
// range, authorisers reach the invite level and are ranked exactly, as the auth rules compare
// levels (rule 4.3.5.2 of v8-auth-rules.md, with rooms/fragments/v1-stringy-power-levels.md):
// with the int64 getters, which saturate, every level here would be 9223372036854775807.
func TestAuthorisersExactLevels(t *testing.T) {
	v := mustVersion(t, "9")
	b := buildRoom(t, v, roomSpec{
		Creator:   "@alice:a.example",
		JoinRules: json.RawMessage(`{"join_rule":"restricted","allow":[{"type":"m.room_membership","room_id":"!s:a.example"}]}`),
		PowerLevels: json.RawMessage(`{"users":{
			"@alice:a.example":"100000000000000000007","@z:a.example":"100000000000000000010",
			"@y:a.example":"99999999999999999999999","@b:a.example":" +000100000000000000000005",
			"@c:a.example":"100000000000000000004","@d:a.example":"9223372036854775807","@e:a.example":"-100000000000000000005",
			"@q:b.example":"9999999999999999999999999","@r:c.example":"100000000000000000006","@s:d.example":"100000000000000000004"},
			"invite":"100000000000000000005"}`),
		Members: map[string]string{"@z:a.example": "join", "@y:a.example": "join", "@b:a.example": "join", "@c:a.example": "join",
			"@d:a.example": "join", "@e:a.example": "join", "@q:b.example": "join", "@r:c.example": "join", "@s:d.example": "join"},
	})
	s := b.stateOf()
	if pl := s.PowerLevels(); pl.InviteLevel() != pl.UserLevel("@c:a.example") {
		t.Fatalf("the int64 getters must saturate: invite %d, @c %d", pl.InviteLevel(), pl.UserLevel("@c:a.example"))
	}
	tests := []struct {
		server string
		want   []string
	}{
		// ...10^23 > ...10 > ...07 > ...05 (written with sign, zeros and spaces); ...04 and
		// 2^63-1 are below the invite level, as is a negative level.
		{"a.example", []string{"@y:a.example", "@z:a.example", "@alice:a.example", "@b:a.example"}},
		{"b.example", []string{"@q:b.example"}},
		{"c.example", []string{"@r:c.example"}},
		{"d.example", nil}, // its only user is at ...04, one below the invite level
	}
	for _, tt := range tests {
		if got := Authorisers(s, tt.server); !slices.Equal(got, tt.want) {
			t.Errorf("Authorisers(%s) = %v, want %v", tt.server, got, tt.want)
		}
	}
	if got, want := AuthorisedServers(s), []string{"b.example", "a.example", "c.example"}; !slices.Equal(got, want) {
		t.Errorf("AuthorisedServers = %v, want %v", got, want)
	}
	joins := []struct {
		resident, user string
		err            error
	}{
		{"a.example", "@y:a.example", nil},
		{"c.example", "@r:c.example", nil},
		{"d.example", "", ErrNoAuthoriser},
	}
	for _, tt := range joins {
		d, err := DecideJoin(JoinRequest{State: s, UserID: "@new:n.example", ResidentServer: tt.resident,
			Rooms: KnownRooms{"!s:a.example": {"@new:n.example": "join"}}})
		if !errors.Is(err, tt.err) || err == nil && d.AuthorisingUser != tt.user {
			t.Errorf("DecideJoin via %s: %+v, %v; want %s, %v", tt.resident, d, err, tt.user, tt.err)
		}
	}
}

func TestErrorForms(t *testing.T) {
	e := newError(400, ErrCodeUnableToGrantJoin, ErrNoAuthoriser, nil, `say "hi"`)
	if e.Error() != `membership: 400 M_UNABLE_TO_GRANT_JOIN: say "hi"` {
		t.Fatal(e.Error())
	}
	b, err := json.Marshal(e)
	if err != nil || string(b) != `{"errcode":"M_UNABLE_TO_GRANT_JOIN","error":"say \"hi\""}` {
		t.Fatalf("%s %v", b, err)
	}
	for _, c := range []struct {
		status int
		code   string
		want   bool
	}{
		{400, ErrCodeUnableToAuthoriseJoin, true}, {400, ErrCodeUnableToGrantJoin, true},
		{403, ErrCodeForbidden, false}, {403, ErrCodeUnableToGrantJoin, false}, {400, ErrCodeInvalidParam, false},
	} {
		if ShouldTryAnotherServer(c.status, c.code) != c.want {
			t.Errorf("%d %s", c.status, c.code)
		}
	}
	if got := DecisionJSON(JoinDecision{}, errors.New("boom")); string(got) != `{"decision":"reject","errcode":"M_UNKNOWN","error":"boom","status":500}` {
		t.Fatalf("%s", got)
	}
}

// TestDecideJoinConcurrent runs decisions on one state from many goroutines (go test -race).
func TestDecideJoinConcurrent(t *testing.T) {
	v := mustVersion(t, "10")
	b := restrictedRoom(t, v, "knock_restricted", nil)
	s := b.stateOf()
	rooms := KnownRooms{spaceID: {joiner: "join"}}
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			var err error
			for j := 0; j < 20 && err == nil; j++ {
				var d JoinDecision
				d, err = DecideJoin(JoinRequest{State: s, UserID: joiner, ResidentServer: resident, Rooms: rooms})
				if err == nil && d.AuthorisingUser != "@alice:a.example" {
					err = errors.New("authoriser " + d.AuthorisingUser)
				}
				_ = StrippedState(s)
				_, _ = CheckTransition(s, "@alice:a.example", joiner, "invite")
			}
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckMakeRequest: the request checks of /make_join and /make_knock (joins-v1.yaml,
// knocks.yaml), with the exact error bodies.
func TestCheckMakeRequest(t *testing.T) {
	v10 := mustVersion(t, "10")
	cases := []struct {
		name         string
		user, origin string
		ver          []string
		status       int
		reason       error
		body         string
	}{
		{name: "nothing to check", user: "@a:b.example"},
		{name: "ver lists the version", user: "@a:b.example", origin: "b.example", ver: []string{"9", "10"}},
		{name: "ver without the version", user: "@a:b.example", ver: []string{"9", "1"}, status: 400, reason: ErrIncompatibleVersion,
			body: `{"errcode":"M_INCOMPATIBLE_ROOM_VERSION","error":"the room's version \"10\" is not one the requesting server supports","room_version":"10"}`},
		{name: "empty ver", user: "@a:b.example", ver: []string{}, status: 400, reason: ErrIncompatibleVersion},
		{name: "ver entries are exact strings", user: "@a:b.example", ver: []string{"10 ", "010"}, status: 400, reason: ErrIncompatibleVersion},
		{name: "user of another server", user: "@a:b.example", origin: "c.example", status: 403, reason: ErrNotFromOrigin,
			body: `{"errcode":"M_FORBIDDEN","error":"@a:b.example is not a user of the requesting server c.example"}`},
		{name: "server names compare exactly", user: "@a:B.example", origin: "b.example", status: 403, reason: ErrNotFromOrigin},
		{name: "invalid user ID", user: "a:b.example", origin: "b.example", status: 400, reason: ErrBadInput},
		{name: "version before origin", user: "@a:b.example", origin: "c.example", ver: []string{"1"}, status: 400, reason: ErrIncompatibleVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := CheckMakeRequest(v10, c.user, c.origin, c.ver)
			if c.status == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != c.status || !errors.Is(err, c.reason) {
				t.Fatalf("got %v, want %d %v", err, c.status, c.reason)
			}
			if c.body != "" && string(e.JSON()) != c.body {
				t.Fatalf("body %s\nwant %s", e.JSON(), c.body)
			}
			if e.TryAnotherServer() {
				t.Fatal("TryAnotherServer: every resident answers a request check alike")
			}
		})
	}
}

// TestConditionAfterManyNonConditions: every `allow` entry is read (docs/decisions.md
// (membership) 6). A valid condition after 1,024 entries that are not conditions still lets
// the user in, with an authoriser the auth rules accept; a bound on the entries read once
// refused this join with 403.
func TestConditionAfterManyNonConditions(t *testing.T) {
	allow := strings.Repeat("0,", 1024) + `{"type":"m.room_membership","room_id":"!space:a.example"}`
	c := joinCase{
		RoomVersion: "9",
		Room: roomSpec{
			Creator:     "@alice:a.example",
			JoinRules:   json.RawMessage(`{"join_rule":"restricted","allow":[` + allow + `]}`),
			PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":100}}`),
		},
		UserID:         "@zed:z.example",
		ResidentServer: "a.example",
		Rooms:          map[string]map[string]string{"!space:a.example": {"@zed:z.example": "join"}},
	}
	input, b := joinInputRoom(t, c)
	req, err := ParseJoinRequest(input)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecideJoin(req)
	if err != nil {
		t.Fatalf("DecideJoin: %v", err)
	}
	if d.Basis != BasisCondition || d.AuthorisingUser != "@alice:a.example" || d.Condition.RoomID != "!space:a.example" {
		t.Fatalf("decision %+v", d)
	}
	if err := authCheckJoin(t, b, c.UserID, d.AuthorisingUser); err != nil {
		t.Fatalf("auth rules reject the allowed join: %v", err)
	}
}

// TestDecisionJSONNilErrorPointer: a nil *Error, passed or wrapped (a caller's `var e *Error;
// return e`), is a 500 M_UNKNOWN rejection, not a panic (found by tools/condref, F1).
func TestDecisionJSONNilErrorPointer(t *testing.T) {
	var e *Error
	for _, err := range []error{e, fmt.Errorf("wrapped: %w", e)} {
		var out []byte
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("DecisionJSON(%T nil) panicked: %v", err, r)
				}
			}()
			out = DecisionJSON(JoinDecision{}, err)
		}()
		if want := `{"decision":"reject","errcode":"M_UNKNOWN","error":"nil *membership.Error","status":500}`; string(out) != want {
			t.Errorf("DecisionJSON(nil *Error) = %s, want %s", out, want)
		}
	}
}

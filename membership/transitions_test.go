package membership

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

func TestTransitionTableFixtures(t *testing.T) {
	var fx struct {
		Table []struct {
			Name        string `json:"name"`
			Spec        string `json:"spec"`
			RoomVersion string `json:"room_version"`
			From        string `json:"from"`
			To          string `json:"to"`
			BySelf      bool   `json:"by_self"`
			JoinRule    string `json:"join_rule"`
			Expect      struct {
				Action         *string  `json:"action"`
				Levels         []string `json:"levels"`
				InDiagram      bool     `json:"in_diagram"`
				Meaning        string   `json:"meaning"`
				Rule           string   `json:"rule"`
				Authoriser     bool     `json:"authoriser"`
				OutranksTarget *bool    `json:"outranks_target"`
			} `json:"expect"`
		} `json:"table"`
	}
	loadCases(t, "transitions.json", &fx)
	if len(fx.Table) < 20 {
		t.Fatalf("only %d cases", len(fx.Table))
	}
	for _, c := range fx.Table {
		t.Run(c.Name, func(t *testing.T) {
			if c.Spec == "" {
				t.Fatal("case without spec section")
			}
			tr, ok := FindTransition(mustVersion(t, c.RoomVersion), c.From, c.To, c.BySelf, c.JoinRule)
			e := c.Expect
			if e.Action == nil {
				if ok {
					t.Fatalf("found %+v, want none", tr)
				}
				return
			}
			if !ok {
				t.Fatal("no transition found")
			}
			levels := make([]string, len(tr.Levels))
			for i, l := range tr.Levels {
				levels[i] = string(l)
			}
			if e.Levels == nil {
				e.Levels = []string{}
			}
			if string(tr.Action) != *e.Action || !slices.Equal(levels, e.Levels) || tr.InDiagram != e.InDiagram || tr.Authoriser != e.Authoriser {
				t.Fatalf("got %+v", tr)
			}
			if e.Meaning != "" && tr.Meaning != e.Meaning {
				t.Fatalf("meaning %q, want %q", tr.Meaning, e.Meaning)
			}
			if e.Rule != "" && tr.Rule != e.Rule {
				t.Fatalf("rule %q, want %q", tr.Rule, e.Rule)
			}
			if e.OutranksTarget != nil && tr.OutranksTarget != *e.OutranksTarget {
				t.Fatalf("outranks %v", tr.OutranksTarget)
			}
			if tr.SenderJoined == tr.BySelf {
				t.Fatalf("SenderJoined %v for BySelf %v", tr.SenderJoined, tr.BySelf)
			}
		})
	}
}

func TestTransitionChecksFixtures(t *testing.T) {
	var fx struct {
		Checks []struct {
			Name        string   `json:"name"`
			Spec        string   `json:"spec"`
			RoomVersion string   `json:"room_version"`
			Room        roomSpec `json:"room"`
			Sender      string   `json:"sender"`
			Target      string   `json:"target"`
			To          string   `json:"to"`
			Expect      struct {
				Action        string `json:"action"`
				RequiredLevel int64  `json:"required_level"`
				Status        int    `json:"status"`
				ErrCode       string `json:"errcode"`
				Reason        string `json:"reason"`
			} `json:"expect"`
		} `json:"checks"`
	}
	loadCases(t, "transitions.json", &fx)
	if len(fx.Checks) < 15 {
		t.Fatalf("only %d cases", len(fx.Checks))
	}
	for _, c := range fx.Checks {
		t.Run(c.Name, func(t *testing.T) {
			s := buildRoom(t, mustVersion(t, c.RoomVersion), c.Room).stateOf()
			tr, err := CheckTransition(s, c.Sender, c.Target, c.To)
			e := c.Expect
			if e.Status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if string(tr.Action) != e.Action || tr.RequiredLevel(s.PowerLevels()) != e.RequiredLevel {
					t.Fatalf("got %s needing %d", tr.Action, tr.RequiredLevel(s.PowerLevels()))
				}
				return
			}
			var me *Error
			if !errors.As(err, &me) || me.Status != e.Status || me.ErrCode != e.ErrCode || !errors.Is(err, reasons[e.Reason]) {
				t.Fatalf("got %v, want %d %s %s", err, e.Status, e.ErrCode, e.Reason)
			}
		})
	}
}

// TestTransitionsMatchDiagram checks that every edge of the spec's membership diagram
// (static/diagrams/membership.drawio, decoded from seed 004) is in the table of the latest
// room version, marked InDiagram, and that no other edge is.
func TestTransitionsMatchDiagram(t *testing.T) {
	type edge struct {
		from, to string
		action   Action
	}
	diagram := []edge{
		{"invite", "join", ActionJoin}, {"invite", "leave", ActionLeave}, {"join", "leave", ActionLeave},
		{"join", "leave", ActionKick}, {"join", "ban", ActionBan}, {"ban", "leave", ActionUnban},
		{"leave", "join", ActionJoin}, {"leave", "invite", ActionInvite}, {"leave", "ban", ActionBan},
		{"leave", "knock", ActionKnock}, {"knock", "invite", ActionInvite}, {"knock", "leave", ActionLeave},
		{"knock", "leave", ActionKick}, {"knock", "ban", ActionBan}, {"invite", "ban", ActionBan},
	}
	v := mustVersion(t, roomversion.Default)
	seen := map[edge]bool{}
	for _, tr := range Transitions(v) {
		if tr.InDiagram {
			seen[edge{tr.From, tr.To, tr.Action}] = true
		}
	}
	for _, e := range diagram {
		if !seen[e] {
			t.Errorf("diagram edge %v missing", e)
		}
		delete(seen, e)
	}
	for e := range seen {
		t.Errorf("edge %v marked InDiagram but not drawn", e)
	}
	// Versions without knocking have no knock edges; the table is a fresh copy.
	for _, tr := range Transitions(mustVersion(t, "6")) {
		if tr.From == pdu.MembershipKnock || tr.To == pdu.MembershipKnock {
			t.Fatalf("knock transition in v6: %+v", tr)
		}
	}
	a := Transitions(v)
	a[0].Levels = append(a[0].Levels, LevelBan)
	a[0].JoinRules[0] = "mutated"
	if b := Transitions(v); slices.Contains(b[0].Levels, LevelBan) || b[0].JoinRules[0] == "mutated" {
		t.Fatal("Transitions shares its slices")
	}
}

func TestClassifyMemberEvent(t *testing.T) {
	v := mustVersion(t, "10")
	b := knockRoom(t, "10", "knock", nil)
	kick := b.state(pdu.TypeMember, joiner, "@alice:a.example", map[string]any{"membership": "leave"})
	tr, ok := ClassifyMemberEvent(v, pdu.MembershipKnock, kick, "knock")
	if !ok || tr.Action != ActionKick || tr.Meaning != "reject the knock" {
		t.Fatalf("kick of a knock: %+v", tr)
	}
	if KnockAccepted(pdu.MembershipKnock, kick) {
		t.Fatal("kick accepted the knock")
	}
	retract := b.state(pdu.TypeMember, joiner, joiner, map[string]any{"membership": "leave"})
	if tr, ok := ClassifyMemberEvent(v, pdu.MembershipKnock, retract, "knock"); !ok || tr.Meaning != "retract the knock" {
		t.Fatalf("retract: %+v", tr)
	}
	ban := b.state(pdu.TypeMember, joiner, "@alice:a.example", map[string]any{"membership": "ban"})
	if tr, ok := ClassifyMemberEvent(v, pdu.MembershipKnock, ban, "knock"); !ok || tr.Action != ActionBan {
		t.Fatalf("ban: %+v", tr)
	}
	name := b.state(pdu.TypeName, "", "@alice:a.example", map[string]any{"name": "x"})
	if _, ok := ClassifyMemberEvent(v, "", name, "knock"); ok {
		t.Fatal("a name event classified")
	}
	if _, ok := ClassifyMemberEvent(v, "", nil, "knock"); ok {
		t.Fatal("nil classified")
	}
	inv := b.state(pdu.TypeMember, joiner, "@alice:a.example", map[string]any{"membership": "invite"})
	if KnockAccepted(pdu.MembershipLeave, inv) {
		t.Fatal("an invite without a knock accepted a knock")
	}
}

// TestCheckTransitionExactLevels: in a v9 room whose levels are integer strings beyond the
// int64 range, CheckTransition compares the sender's level with the invite, kick and ban
// levels and with the target's level exactly, as the member rules do (rules 4.4.4, 4.5.3,
// 4.5.4 and 4.6.2 of v8-auth-rules.md); the int64 getters saturate all of them to
// 9223372036854775807.
func TestCheckTransitionExactLevels(t *testing.T) {
	v := mustVersion(t, "9")
	s := buildRoom(t, v, roomSpec{
		Creator: "@alice:a.example",
		PowerLevels: json.RawMessage(`{"users":{"@alice:a.example":"100000000000000000009",
			"@big:a.example":"100000000000000000007","@mod:a.example":"100000000000000000005",
			"@peer:a.example":"100000000000000000005","@low:a.example":"100000000000000000004"},
			"invite":"100000000000000000005","kick":"100000000000000000005","ban":"100000000000000000006"}`),
		Members: map[string]string{"@big:a.example": "join", "@mod:a.example": "join", "@peer:a.example": "join",
			"@low:a.example": "join", "@zero:a.example": "join", "@banned:b.example": "ban"},
	}).stateOf()
	tests := []struct {
		sender, target, to string
		action             Action // "" when refused
		note               bool   // the refusal explains the saturated levels
	}{
		{"@mod:a.example", "@low:a.example", "leave", ActionKick, false},
		{"@mod:a.example", "@peer:a.example", "leave", "", true}, // equal levels: no outranking
		{"@low:a.example", "@zero:a.example", "leave", "", true}, // ...04 below the kick level ...05
		{"@mod:a.example", "@low:a.example", "ban", "", true},    // ...05 below the ban level ...06
		{"@big:a.example", "@low:a.example", "ban", ActionBan, false},
		{"@big:a.example", "@banned:b.example", "leave", ActionUnban, false},
		{"@mod:a.example", "@banned:b.example", "leave", "", true}, // unban needs the ban level too
		{"@mod:a.example", "@new:n.example", "invite", ActionInvite, false},
		{"@low:a.example", "@new:n.example", "invite", "", true},
		{"@big:a.example", "@alice:a.example", "leave", "", true}, // ...07 does not outrank ...09
	}
	for _, tt := range tests {
		tr, err := CheckTransition(s, tt.sender, tt.target, tt.to)
		if tt.action != "" {
			if err != nil || tr.Action != tt.action {
				t.Errorf("%s %s -> %s: %s, %v; want %s", tt.sender, tt.target, tt.to, tr.Action, err, tt.action)
			}
			continue
		}
		if !errors.Is(err, ErrInsufficientPower) {
			t.Errorf("%s %s -> %s: %v, want ErrInsufficientPower", tt.sender, tt.target, tt.to, err)
			continue
		}
		if got := strings.Contains(err.Error(), "compared exactly"); got != tt.note {
			t.Errorf("%s %s -> %s: %v: note %v, want %v", tt.sender, tt.target, tt.to, err, got, tt.note)
		}
	}
}

// TestClassifyRestrictedJoinNeedsAuthoriser: a join through an allow condition (from none, leave
// or knock, in a restricted or knock_restricted room) names its authoriser in
// join_authorised_via_users_server, or rule 4.3.5.2 (v8 numbering) rejects it whatever the
// state, so ClassifyMemberEvent says ok=false without a string there (found by
// tools/transitionref). Joins that need no authoriser (an invited user's, a public room's) are
// unaffected.
func TestClassifyRestrictedJoinNeedsAuthoriser(t *testing.T) {
	for _, id := range []string{"8", "10", "12"} {
		v := mustVersion(t, id)
		b := knockRoom(t, id, "restricted", nil)
		for _, c := range []struct {
			name    string
			content map[string]any
			from    string
			rule    string
			want    bool
		}{
			{"named", map[string]any{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}, "", "restricted", true},
			{"named, from leave", map[string]any{"membership": "join", "join_authorised_via_users_server": "@alice:a.example"}, pdu.MembershipLeave, "restricted", true},
			{"none named", map[string]any{"membership": "join"}, "", "restricted", false},
			{"none named, from leave", map[string]any{"membership": "join"}, pdu.MembershipLeave, "restricted", false},
			{"none named, from knock", map[string]any{"membership": "join"}, pdu.MembershipKnock, "knock_restricted", false},
			{"not a string", map[string]any{"membership": "join", "join_authorised_via_users_server": 5}, "", "restricted", false},
			{"invited: no authoriser needed", map[string]any{"membership": "join"}, pdu.MembershipInvite, "restricted", true},
			{"public room", map[string]any{"membership": "join"}, "", "public", true},
		} {
			if c.rule == "knock_restricted" && id == "8" {
				continue // v8 has no knock_restricted
			}
			ev := b.state(pdu.TypeMember, joiner, joiner, c.content)
			tr, ok := ClassifyMemberEvent(v, c.from, ev, c.rule)
			if ok != c.want {
				t.Errorf("v%s %s: ok=%v (%+v), want %v", id, c.name, ok, tr, c.want)
			}
			if ok && c.rule == "restricted" && c.from != pdu.MembershipInvite && !tr.Authoriser {
				t.Errorf("v%s %s: %+v has no Authoriser", id, c.name, tr)
			}
		}
	}
}

// TestNilReceiversAnswer: the methods of a nil *Error answer as DecisionJSON answers a nil
// *Error (500 M_UNKNOWN, no other server to try), and RequiredLevel of nil power levels reads
// the spec's defaults (invite 0, kick and ban 50): nothing in the package panics on them.
func TestNilReceiversAnswer(t *testing.T) {
	var e *Error
	if got, want := string(e.JSON()), `{"errcode":"M_UNKNOWN","error":"nil *membership.Error"}`; got != want {
		t.Errorf("JSON() = %s, want %s", got, want)
	}
	if got, want := e.Error(), "membership: 500 M_UNKNOWN: nil *membership.Error"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if e.TryAnotherServer() || e.Unwrap() != nil {
		t.Errorf("TryAnotherServer() = %v, Unwrap() = %v", e.TryAnotherServer(), e.Unwrap())
	}
	if b, err := e.MarshalJSON(); err != nil || string(b) != string(e.JSON()) {
		t.Errorf("MarshalJSON() = %s, %v", b, err)
	}
	for _, c := range []struct {
		levels []Level
		want   int64
	}{
		{nil, 0},
		{[]Level{LevelInvite}, 0},
		{[]Level{LevelKick}, 50},
		{[]Level{LevelBan}, 50},
		{[]Level{LevelKick, LevelBan}, 50},
	} {
		if got := (Transition{Levels: c.levels}).RequiredLevel(nil); got != c.want {
			t.Errorf("RequiredLevel(nil) of %v = %d, want %d", c.levels, got, c.want)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/memberroom"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// fxRoom is the compact room of testdata/membership (membership/helpers_test.go roomSpec).
type fxRoom = memberroom.Spec

// fxState is the room's current state as the membership tests build it (buildRoom): the create
// event (content.creator up to v10), the creator's join, the power levels and join rules when
// given, then each member in user ID order (invites and bans sent by the creator), a later
// event replacing an earlier one of the same type and state key. memberref reads only the
// type, state key, sender and content of state events.
func fxState(t *testing.T, v string, r fxRoom) []json.RawMessage {
	t.Helper()
	type ev struct {
		Type     string `json:"type"`
		StateKey string `json:"state_key"`
		Sender   string `json:"sender"`
		Content  any    `json:"content"`
	}
	var order []string
	byKey := map[string]ev{}
	add := func(e ev) {
		k := e.Type + "\x00" + e.StateKey
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = e
	}
	create := map[string]any{"room_version": v}
	if verNum(v) <= 10 {
		create["creator"] = r.Creator
	}
	if len(r.AdditionalCreators) > 0 {
		create["additional_creators"] = r.AdditionalCreators
	}
	for k, x := range r.CreateContent {
		create[k] = x
	}
	add(ev{"m.room.create", "", r.Creator, create})
	add(ev{"m.room.member", r.Creator, r.Creator, map[string]any{"membership": "join"}})
	if r.PowerLevels != nil {
		add(ev{"m.room.power_levels", "", r.Creator, r.PowerLevels})
	}
	if r.JoinRules != nil {
		add(ev{"m.room.join_rules", "", r.Creator, r.JoinRules})
	}
	users := make([]string, 0, len(r.Members))
	for u := range r.Members {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		sender := u
		if m := r.Members[u]; m == "invite" || m == "ban" {
			sender = r.Creator
		}
		add(ev{"m.room.member", u, sender, map[string]any{"membership": r.Members[u]}})
	}
	var out []json.RawMessage
	for _, k := range order {
		b, err := json.Marshal(byKey[k])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func verNum(v string) int {
	n := 0
	for _, c := range v {
		n = n*10 + int(c-'0')
	}
	return n
}

func fxLoad(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/membership/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// fxBasis is the reference's reason of an allowed join for each basis of DecideJoin: the
// reference does not tell an invited user from a joined one.
var fxBasis = map[string]string{"invited": "invited or joined", "joined": "invited or joined",
	"condition": "condition", "public": "public"}

// TestFixturesAgree runs testdata/membership/join_decision.json and knock_decision.json through
// the spec-only reference with docs/decisions.md's readings (MEMBERREF_DECISIONS=1): the verdict,
// the status and errcode of a refusal (and the room version an M_INCOMPATIBLE_ROOM_VERSION
// names), the basis of an allowed join, and its authorising user, which must be the one
// decisions.md (membership) 7 picks among those the reference finds able to authorise. The
// sentinel error (reason) of a refusal is not expressed by the reference.
func TestFixturesAgree(t *testing.T) {
	pyref.Require(t)
	ref, err := pyref.Start(pyref.Beside("memberref.py"), "MEMBERREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	type expect struct {
		Decision        string `json:"decision"`
		AuthorisingUser string `json:"authorising_user"`
		Basis           string `json:"basis"`
		Status          int    `json:"status"`
		ErrCode         string `json:"errcode"`
		RoomVersion     string `json:"room_version"`
	}
	check := func(name, v string, req refReq, e expect) {
		t.Helper()
		var a refResp
		if err := ref.Ask(req, &a); err != nil {
			t.Fatal(err)
		}
		if a.Error != "" || a.Invalid != "" {
			t.Errorf("%s: reference error %q, invalid %q", name, a.Error, a.Invalid)
			return
		}
		pref := ""
		if a.Preferred != nil {
			pref = *a.Preferred
		}
		switch {
		case e.Decision == "allow" && !a.Allow:
			t.Errorf("%s (v%s): fixture allows (%s %s); reference refuses %d %s (%s)", name, v, e.Basis, e.AuthorisingUser, a.Status, a.ErrCode, a.Why)
		case e.Decision == "allow":
			if e.Basis != "" && fxBasis[e.Basis] != a.Why {
				t.Errorf("%s (v%s): fixture basis %s; reference %s", name, v, e.Basis, a.Why)
			}
			if e.AuthorisingUser != pref || (pref != "" && !slices.Contains(a.Authorisers, pref)) {
				t.Errorf("%s (v%s): fixture authorising user %q; reference %q of %v", name, v, e.AuthorisingUser, pref, a.Authorisers)
			}
		case a.Allow:
			t.Errorf("%s (v%s): fixture refuses %d %s; reference allows (%s, authoriser %q)", name, v, e.Status, e.ErrCode, a.Why, pref)
		case a.Status != e.Status || a.ErrCode != e.ErrCode:
			t.Errorf("%s (v%s): fixture refuses %d %s; reference %d %s (%s)", name, v, e.Status, e.ErrCode, a.Status, a.ErrCode, a.Why)
		case e.ErrCode == "M_INCOMPATIBLE_ROOM_VERSION" && e.RoomVersion != v:
			t.Errorf("%s (v%s): fixture names room version %q", name, v, e.RoomVersion)
		}
	}

	var joins []struct {
		Name           string                       `json:"name"`
		RoomVersion    string                       `json:"room_version"`
		Room           fxRoom                       `json:"room"`
		UserID         string                       `json:"user_id"`
		ResidentServer string                       `json:"resident_server"`
		Rooms          map[string]map[string]string `json:"rooms"`
		Origin         string                       `json:"origin"`
		Ver            []string                     `json:"ver"`
		Expect         expect                       `json:"expect"`
	}
	fxLoad(t, "join_decision.json", &joins)
	for _, c := range joins {
		req := refReq{Op: "join", V: c.RoomVersion, State: fxState(t, c.RoomVersion, c.Room), UserID: c.UserID,
			Resident: c.ResidentServer, Ver: c.Ver, Rooms: c.Rooms}
		if c.Origin != "" {
			o := c.Origin
			req.Origin = &o
		}
		check("join_decision.json/"+c.Name, c.RoomVersion, req, c.Expect)
	}
	var knocks []struct {
		Name        string `json:"name"`
		RoomVersion string `json:"room_version"`
		Room        fxRoom `json:"room"`
		UserID      string `json:"user_id"`
		Expect      expect `json:"expect"`
	}
	fxLoad(t, "knock_decision.json", &knocks)
	for _, c := range knocks {
		check("knock_decision.json/"+c.Name, c.RoomVersion,
			refReq{Op: "knock", V: c.RoomVersion, State: fxState(t, c.RoomVersion, c.Room), UserID: c.UserID}, c.Expect)
	}
	if len(joins) < 70 || len(knocks) < 15 {
		t.Errorf("compared %d join and %d knock cases: want at least 70 and 15", len(joins), len(knocks))
	}
	t.Logf("compared %d join_decision and %d knock_decision cases", len(joins), len(knocks))
}

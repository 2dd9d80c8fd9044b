package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/memberroom"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// fxRoom is the compact room of testdata/membership (membership/helpers_test.go roomSpec).
type fxRoom = memberroom.Spec

// fxState builds the room as the membership tests do (buildRoom: the create event, the creator's
// join, the power levels and join rules when given, then each member in user ID order, invites
// and bans sent by the creator) as PDUs of room version v, and returns the current state, its
// event IDs and the room ID. The references take any signature present as valid and the IDs
// they are given: events carry placeholder hashes and signatures, and IDs of the version's form.
func fxState(v string, r fxRoom) (state []json.RawMessage, ids []string, roomID string) {
	n := difftool.VerNum(v)
	roomID = "!room:a.example"
	hashID := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return "$" + base64.RawURLEncoding.EncodeToString(h[:])
	}
	type entry struct {
		raw []byte
		id  string
	}
	byKey := map[string]entry{}
	var order []string
	k, last := 0, ""
	add := func(typ, sk, sender string, content any) {
		k++
		ev := M{"type": typ, "state_key": sk, "sender": sender, "content": content, "depth": k,
			"origin_server_ts": 1_700_000_000_000 + int64(k), "auth_events": []any{}, "prev_events": []any{},
			"hashes":     M{"sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"},
			"signatures": M{difftool.DomainOf(sender): M{"ed25519:1": "c2lnbmF0dXJl"}}}
		id := hashID(fmt.Sprint("e", k))
		if n <= 2 {
			id = fmt.Sprintf("$e%d:%s", k, difftool.DomainOf(sender))
			ev["event_id"] = id
		}
		if n >= 12 && typ == "m.room.create" {
			roomID = "!" + id[1:]
		} else {
			ev["room_id"] = roomID
		}
		if last != "" {
			if n <= 2 {
				ev["prev_events"] = []any{[]any{last, M{"sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}}}
			} else {
				ev["prev_events"] = []any{last}
			}
		}
		last = id
		key := typ + "\x00" + sk
		if _, ok := byKey[key]; !ok {
			order = append(order, key)
		}
		byKey[key] = entry{difftool.Enc(ev), id}
	}
	create := M{"room_version": v}
	if n <= 10 {
		create["creator"] = r.Creator
	}
	if len(r.AdditionalCreators) > 0 {
		create["additional_creators"] = r.AdditionalCreators
	}
	for k, x := range r.CreateContent {
		create[k] = x
	}
	add("m.room.create", "", r.Creator, create)
	add("m.room.member", r.Creator, r.Creator, M{"membership": "join"})
	if r.PowerLevels != nil {
		add("m.room.power_levels", "", r.Creator, r.PowerLevels)
	}
	if r.JoinRules != nil {
		add("m.room.join_rules", "", r.Creator, r.JoinRules)
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
		add("m.room.member", u, sender, M{"membership": r.Members[u]})
	}
	for _, key := range order {
		state = append(state, byKey[key].raw)
		ids = append(ids, byKey[key].id)
	}
	return state, ids, roomID
}

// fxReasons maps the sentinels of transitions.json to the reference's reasons.
var fxReasons = map[string]string{"ErrBanned": "banned", "ErrInsufficientPower": "insufficient", "ErrNotPossible": "not_possible",
	"ErrNotFederated": "not_federated"}

// TestFixturesAgree runs testdata/membership/transitions.json through the spec-only reference
// with docs/decisions.md's readings (TRANSITIONREF_DECISIONS=1): each case of "table"
// (FindTransition) must be the reference's transition (none, or the same action, levels,
// sender-outranks-target, authoriser, rule number, and a meaning with the spec's word for the
// edge); each case of "checks" (CheckTransition over the room) must get the reference's
// verdict, reason (403 M_FORBIDDEN), and action and required level. in_diagram is not
// expressed: the membership diagram is not in the spec copy.
func TestFixturesAgree(t *testing.T) {
	pyref.Require(t, "cryptography")
	b, err := os.ReadFile("../../testdata/membership/transitions.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Table []struct {
			Name        string `json:"name"`
			RoomVersion string `json:"room_version"`
			From        string `json:"from"`
			To          string `json:"to"`
			BySelf      bool   `json:"by_self"`
			JoinRule    string `json:"join_rule"`
			Expect      struct {
				Action         *string  `json:"action"`
				Levels         []string `json:"levels"`
				Meaning        string   `json:"meaning"`
				Rule           string   `json:"rule"`
				OutranksTarget *bool    `json:"outranks_target"`
				Authoriser     bool     `json:"authoriser"`
			} `json:"expect"`
		} `json:"table"`
		Checks []struct {
			Name        string `json:"name"`
			RoomVersion string `json:"room_version"`
			Room        fxRoom `json:"room"`
			Sender      string `json:"sender"`
			Target      string `json:"target"`
			To          string `json:"to"`
			Expect      struct {
				Action        string `json:"action"`
				RequiredLevel int64  `json:"required_level"`
				Status        int    `json:"status"`
				ErrCode       string `json:"errcode"`
				Reason        string `json:"reason"`
			} `json:"expect"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	ref, err := pyref.Start(pyref.Beside("transitionref.py"), "TRANSITIONREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	askRef := func(name string, req M) (refAns, bool) {
		var a refAns
		if err := ref.Ask(req, &a); err != nil {
			t.Fatal(err)
		}
		if a.Error != "" || a.Invalid != "" {
			t.Errorf("%s: reference error %q, invalid %q", name, a.Error, a.Invalid)
			return a, false
		}
		return a, true
	}

	for _, c := range fx.Table {
		a, ok := askRef(c.Name, M{"op": "find", "v": c.RoomVersion, "from": c.From, "to": c.To, "by_self": c.BySelf, "join_rule": c.JoinRule})
		if !ok {
			continue
		}
		e := c.Expect
		if e.Action == nil || a.Tr == nil {
			if (e.Action == nil) != (a.Tr == nil) {
				t.Errorf("table/%s: fixture %v; reference %+v", c.Name, e.Action, a.Tr)
			}
			continue
		}
		var d []string
		levels := slices.Clone(e.Levels)
		sort.Strings(levels)
		if *e.Action != a.Tr.Action {
			d = append(d, "action "+*e.Action+" ≠ "+a.Tr.Action)
		}
		if strings.Join(levels, ",") != strings.Join(a.Tr.Levels, ",") {
			d = append(d, fmt.Sprintf("levels %v ≠ %v", levels, a.Tr.Levels))
		}
		if e.Authoriser != a.Tr.Authoriser {
			d = append(d, fmt.Sprintf("authoriser %v ≠ %v", e.Authoriser, a.Tr.Authoriser))
		}
		if e.OutranksTarget != nil && *e.OutranksTarget != a.Tr.Outranks {
			d = append(d, fmt.Sprintf("outranks_target %v ≠ %v", *e.OutranksTarget, a.Tr.Outranks))
		}
		if e.Rule != "" && e.Rule != a.Tr.Rule {
			d = append(d, "rule "+e.Rule+" ≠ "+a.Tr.Rule)
		}
		if m := strings.ToLower(e.Meaning); m != "" && a.Tr.Words != nil &&
			!slices.ContainsFunc(a.Tr.Words, func(w string) bool { return strings.Contains(m, w) }) {
			d = append(d, fmt.Sprintf("meaning %q without any of %v", e.Meaning, a.Tr.Words))
		}
		if d != nil {
			t.Errorf("table/%s (v%s): fixture ≠ reference: %s", c.Name, c.RoomVersion, strings.Join(d, "; "))
		}
	}

	for _, c := range fx.Checks {
		state, ids, roomID := fxState(c.RoomVersion, c.Room)
		a, ok := askRef(c.Name, M{"op": "check_transition", "v": c.RoomVersion, "state": state, "state_ids": ids,
			"room_id": roomID, "sender": c.Sender, "target": c.Target, "to": c.To})
		if !ok {
			continue
		}
		e := c.Expect
		if e.Status == 0 {
			req := ""
			if a.Required != nil {
				req = a.Required.String()
			}
			if !a.Allow || a.Tr == nil || a.Tr.Action != e.Action || req != fmt.Sprint(e.RequiredLevel) {
				t.Errorf("checks/%s (v%s): fixture allows %s needing %d; reference allow=%v %+v needing %s (%s)",
					c.Name, c.RoomVersion, e.Action, e.RequiredLevel, a.Allow, a.Tr, req, a.Why)
			}
			continue
		}
		if a.Allow || e.Status != 403 || e.ErrCode != "M_FORBIDDEN" || !slices.Contains(a.Reasons, fxReasons[e.Reason]) {
			t.Errorf("checks/%s (v%s): fixture refuses %d %s %s; reference allow=%v reasons %v (%s)",
				c.Name, c.RoomVersion, e.Status, e.ErrCode, e.Reason, a.Allow, a.Reasons, a.Why)
		}
	}
	if len(fx.Table) < 30 || len(fx.Checks) < 30 {
		t.Errorf("compared %d table and %d checks cases: want at least 30 and 30", len(fx.Table), len(fx.Checks))
	}
	t.Logf("compared %d table and %d checks cases", len(fx.Table), len(fx.Checks))
}

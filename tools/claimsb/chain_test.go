package claimsb

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
)

func chainRejection(t *testing.T, v authrules.ChainVerdict, rule string, sentinel error) {
	t.Helper()
	wantRejection(t, v.Err, rule, sentinel)
}

// decisions.md (bulk) 5, 6; go doc CheckAuthChain, ChainResult, ChainOptions.
func TestChainBasics(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	base := refs(v, r.create, r.pl)
	bj := ev(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": "join"}, "auth_events": append(append([]any{}, base...), refs(v, r.jr)...), "prev_events": refs(v, r.jr), "depth": 5})
	msg := ev(t, v, M{"sender": "@bob:b.example", "auth_events": append(append([]any{}, base...), refs(v, bj)...), "prev_events": refs(v, bj), "depth": 6})
	missing := ev(t, v, M{"auth_events": append(append([]any{}, base...), "$nothere"), "prev_events": refs(v, bj), "depth": 6})
	// the create event lists events that are missing: still accepted (bulk 5)
	create2 := ev(t, v, M{"room_id": "!c2:a.example", "type": "m.room.create", "state_key": "", "content": M{"room_version": "10", "creator": "@alice:a.example"}, "auth_events": []any{"$nothere"}})
	rejMsg := ev(t, v, M{"sender": "@bob:b.example", "content": M{"body": "x"}, "auth_events": append(append([]any{}, base...), refs(v, bj)...), "prev_events": refs(v, bj), "depth": 6})
	citesPre := ev(t, v, M{"sender": "@bob:b.example", "content": M{"body": "y"}, "auth_events": append(append([]any{}, base...), refs(v, bj)...), "prev_events": refs(v, bj), "depth": 7})
	_ = citesPre
	events := []*pdu.Event{msg, bj, r.create, r.join, r.pl, r.jr, missing, msg, create2, nil, rejMsg}
	var calls [][2]int
	res, err := authrules.CheckAuthChain(v, events, &authrules.ChainOptions{Workers: 2, Progress: func(d, tot int) { calls = append(calls, [2]int{d, tot}) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Verdicts) != len(events) {
		t.Fatalf("verdicts %d", len(res.Verdicts))
	}
	for i, want := range []bool{true, true, true, true, true, true, false, true, true, false, true} {
		if res.Verdicts[i].Accepted() != want {
			t.Errorf("event %d accepted=%v want %v (%v)", i, res.Verdicts[i].Accepted(), want, res.Verdicts[i].Err)
		}
	}
	chainRejection(t, res.Verdicts[6], "2", authrules.ErrAuthEventMissing)
	var rj *authrules.Rejection
	if !errors.As(res.Verdicts[9].Err, &rj) || rj.Severity != authrules.SeverityFatal || !errors.Is(rj, authrules.ErrMalformed) {
		t.Errorf("nil event: %v", res.Verdicts[9].Err)
	}
	for _, i := range res.Order {
		if i == 7 || i == 9 {
			t.Errorf("Order holds %d", i)
		}
	}
	pos := map[int]int{}
	for p, i := range res.Order {
		pos[i] = p
	}
	if pos[1] > pos[0] || pos[2] > pos[1] {
		t.Errorf("Order not topological: %v", res.Order)
	}
	if res.Accepted != 9 || res.Rejected != 2 || res.ByRule["2"] != 1 || res.ByRule[""] != 1 {
		t.Errorf("counts %d %d %v", res.Accepted, res.Rejected, res.ByRule)
	}
	if len(calls) == 0 || calls[len(calls)-1][0] != calls[len(calls)-1][1] {
		t.Errorf("progress %v", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Errorf("progress decreases %v", calls)
		}
	}
	// Rejected: bj pre-rejected; msg fails 2.3; an ID listed but absent fails rule 2 missing
	opts := &authrules.ChainOptions{Rejected: map[string]bool{bj.EventID: true, "$ghost": true}}
	ghost := ev(t, v, M{"auth_events": append(append([]any{}, base...), "$ghost"), "prev_events": refs(v, bj), "depth": 6})
	res, err = authrules.CheckAuthChain(v, []*pdu.Event{r.create, r.join, r.pl, r.jr, bj, msg, ghost}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verdicts[4].PreRejected || res.Verdicts[4].Accepted() {
		t.Errorf("pre-rejected: %+v", res.Verdicts[4])
	}
	chainRejection(t, res.Verdicts[5], "2.3", authrules.ErrAuthEventRejected)
	chainRejection(t, res.Verdicts[6], "2", authrules.ErrAuthEventMissing)
	if res.ByRule[""] != 1 || res.Rejected != 3 {
		t.Errorf("ByRule %v rejected %d", res.ByRule, res.Rejected)
	}
	// event without event ID: fatal ErrMalformed
	noID := *msg
	noID.EventID = ""
	res, _ = authrules.CheckAuthChain(v, []*pdu.Event{&noID}, nil)
	if res.Verdicts[0].Accepted() || !errors.Is(res.Verdicts[0].Err, authrules.ErrMalformed) {
		t.Errorf("no event ID: %v", res.Verdicts[0].Err)
	}
	// event of another room version: fatal ErrMalformed
	other := ev(t, ver("9"), M{})
	res, _ = authrules.CheckAuthChain(v, []*pdu.Event{other}, nil)
	if res.Verdicts[0].Accepted() || !errors.Is(res.Verdicts[0].Err, authrules.ErrMalformed) {
		t.Errorf("other room version: %v", res.Verdicts[0].Err)
	}
}

// decisions.md (bulk) 5: v1 cycles; a create citing events is never in a cycle.
func TestChainCycles(t *testing.T) {
	v := ver("1")
	r := newRoom(t, v, "public", nil)
	base := refs(v, r.create, r.pl, r.join)
	a := ev(t, v, M{"event_id": "$ca:a.example", "auth_events": append(append([]any{}, base...), []any{"$cb:a.example", M{}}), "prev_events": refs(v, r.jr), "depth": 5})
	b := ev(t, v, M{"event_id": "$cb:a.example", "auth_events": append(append([]any{}, base...), []any{"$ca:a.example", M{}}), "prev_events": refs(v, r.jr), "depth": 5})
	behind := ev(t, v, M{"event_id": "$cc:a.example", "auth_events": append(append([]any{}, base...), []any{"$ca:a.example", M{}}), "prev_events": refs(v, r.jr), "depth": 6})
	self := ev(t, v, M{"event_id": "$cs:a.example", "auth_events": append(append([]any{}, base...), []any{"$cs:a.example", M{}}), "prev_events": refs(v, r.jr), "depth": 6})
	// a create event citing itself and an event citing it
	cr := ev(t, v, M{"event_id": "$cr:c.example", "room_id": "!r2:c.example", "sender": "@c:c.example", "type": "m.room.create", "state_key": "", "content": M{"creator": "@c:c.example"}, "auth_events": []any{[]any{"$cr:c.example", M{}}}})
	res, err := authrules.CheckAuthChain(v, []*pdu.Event{r.create, r.join, r.pl, r.jr, a, b, behind, self, cr}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4, 5, 6, 7} {
		chainRejection(t, res.Verdicts[i], "2", authrules.ErrAuthEventCycle)
	}
	if !res.Verdicts[8].Accepted() {
		t.Errorf("create citing itself: %v", res.Verdicts[8].Err)
	}
	for _, i := range res.Order {
		if i >= 4 && i <= 7 {
			t.Errorf("Order holds cycle event %d", i)
		}
	}
}

// decisions.md (bulk) 7; go doc ChainOptions.SignaturesVerified.
func TestChainSignaturesVerified(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "", nil)
	r.jr = ev(t, v, M{"type": "m.room.join_rules", "state_key": "", "content": M{"join_rule": "restricted", "allow": []any{cond("!x:x.example")}}, "auth_events": refs(v, r.create, r.pl, r.join), "prev_events": refs(v, r.pl), "depth": 4})
	base := refs(v, r.create, r.pl, r.jr, r.join)
	// a.example "signature" made with the wrong key
	fakeA, _ := signing.NewSigningKey("1", []byte("0123456789abcdef0123456789abcdef"))
	mk := func(m string) *pdu.Event {
		ae := base
		if m == "leave" {
			ae = refs(v, r.create, r.pl)
		}
		b := raw(t, v, M{"sender": "@bob:b.example", "type": "m.room.member", "state_key": "@bob:b.example", "content": M{"membership": m, "join_authorised_via_users_server": "@alice:a.example"}, "auth_events": ae, "prev_events": refs(v, r.jr), "depth": 5})
		b, err := signing.CountersignEvent(v, b, "a.example", fakeA)
		if err != nil {
			t.Fatal(err)
		}
		e, err := signing.ParseEvent(v, b)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	join, leave := mk("join"), mk("leave")
	events := []*pdu.Event{r.create, r.join, r.pl, r.jr, join, leave}
	res, _ := authrules.CheckAuthChain(v, events, &authrules.ChainOptions{Keys: ring})
	chainRejection(t, res.Verdicts[4], "4.2.1", authrules.ErrAuthoriserSignature)
	res, _ = authrules.CheckAuthChain(v, events, &authrules.ChainOptions{Keys: ring, SignaturesVerified: true})
	if !res.Verdicts[4].Accepted() {
		t.Errorf("join with SignaturesVerified: %v", res.Verdicts[4].Err)
	}
	// leave: still verified (the leave of a non-member is rejected by 4.5 anyway, but 4.2.1 comes first)
	chainRejection(t, res.Verdicts[5], "4.2.1", authrules.ErrAuthoriserSignature)
	_ = authgen.DummySig
}

// decisions.md (bulk) 5: v12 create is an implicit auth event.
func TestChainV12ImplicitCreate(t *testing.T) {
	v := ver("12")
	r := newRoom(t, v, "public", nil)
	res, err := authrules.CheckAuthChain(v, []*pdu.Event{r.jr, r.pl, r.join, r.create}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, vd := range res.Verdicts {
		if !vd.Accepted() {
			t.Errorf("event %d: %v", i, vd.Err)
		}
	}
	// without the create: rule 2
	res, _ = authrules.CheckAuthChain(v, []*pdu.Event{r.join}, nil)
	chainRejection(t, res.Verdicts[0], "2", authrules.ErrRoomIDNotCreate)
	// create pre-rejected: every event fails rule 2
	res, _ = authrules.CheckAuthChain(v, []*pdu.Event{r.create, r.join}, &authrules.ChainOptions{Rejected: map[string]bool{r.create.EventID: true}})
	chainRejection(t, res.Verdicts[1], "2", authrules.ErrRoomIDNotCreate)
}

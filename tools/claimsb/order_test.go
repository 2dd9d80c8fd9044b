package claimsb

import (
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
)

// decisions.md (bulk) 5 and (authrules) "Missing auth events": a missing auth event comes before
// the other checks of rule 2 (2.1, 2.2, 2.5, v12's rule 2).
func TestMissingBeforeOtherRule2(t *testing.T) {
	v := ver("10")
	r := newRoom(t, v, "public", nil)
	pl2 := ev(t, v, M{"type": "m.room.power_levels", "state_key": "", "content": M{"users": M{"@alice:a.example": 100}, "ban": 1}, "auth_events": refs(v, r.create, r.join), "prev_events": refs(v, r.jr), "depth": 5})
	foreign := ev(t, v, M{"room_id": "!f:a.example", "type": "m.room.member", "state_key": "@alice:a.example", "content": M{"membership": "join"}})
	msg := ev(t, v, M{"auth_events": append(refs(v, r.create, r.pl, pl2, r.join), "$missing"), "prev_events": refs(v, r.jr), "depth": 6})
	wantRejection(t, authrules.Check(v, msg, []*pdu.Event{r.create, r.pl, pl2, r.join}, nil), "2", authrules.ErrAuthEventMissing)
	res, _ := authrules.CheckAuthChain(v, []*pdu.Event{r.create, r.join, r.pl, pl2, msg}, nil)
	wantRejection(t, res.Verdicts[4].Err, "2", authrules.ErrAuthEventMissing)
	msg2 := ev(t, v, M{"auth_events": append(refs(v, r.create, r.pl, foreign), "$missing"), "prev_events": refs(v, r.jr), "depth": 6})
	wantRejection(t, authrules.Check(v, msg2, []*pdu.Event{r.create, r.pl, foreign}, nil), "2", authrules.ErrAuthEventMissing)
	msg3 := ev(t, v, M{"auth_events": append(refs(v, r.create, r.pl, r.jr, r.join), "$missing"), "prev_events": refs(v, r.jr), "depth": 6})
	wantRejection(t, authrules.Check(v, msg3, []*pdu.Event{r.create, r.pl, r.jr, r.join}, nil), "2", authrules.ErrAuthEventMissing)
	// v12: before rule 2 on the room ID
	v12 := ver("12")
	r12 := newRoom(t, v12, "public", nil)
	m12 := ev(t, v12, M{"room_id": "!nosuchroom", "auth_events": append(refs(v12, r12.pl, r12.join), "$missing"), "prev_events": refs(v12, r12.pl), "depth": 4})
	pl12b := ev(t, v12, M{"room_id": r12.id(), "type": "m.room.power_levels", "state_key": "", "content": M{"users": M{}, "ban": 1}})
	m12b := ev(t, v12, M{"room_id": r12.id(), "auth_events": append(refs(v12, r12.pl, pl12b, r12.join), "$missing"), "prev_events": refs(v12, r12.pl), "depth": 4})
	wantRejection(t, authrules.Check(v12, m12b, []*pdu.Event{r12.pl, pl12b, r12.join, r12.create}, nil), "3", authrules.ErrAuthEventMissing)
	single := authrules.Check(v12, m12, []*pdu.Event{r12.pl, r12.join}, nil)
	res, _ = authrules.CheckAuthChain(v12, []*pdu.Event{r12.pl, r12.join, m12}, nil)
	chain := res.Verdicts[2].Err
	t.Logf("v12 Check: %v", single)
	t.Logf("v12 CheckAuthChain: %v", chain)
	// both verdicts reject; the finding is which rule is cited
	if !authrules.Rejected(single) || !authrules.Rejected(chain) {
		t.Fatalf("not rejected: %v / %v", single, chain)
	}
	var a, b *authrules.Rejection
	asRejection(single, &a)
	asRejection(chain, &b)
	// decisions.md bulk 5 (settled by B9): v12's rule 2 on the room ID comes first.
	if a.Rule != "2" || b.Rule != "2" {
		t.Errorf("v12 event of an unknown room with a missing auth event: rules %s and %s, want 2 (the room ID)", a.Rule, b.Rule)
	}
}

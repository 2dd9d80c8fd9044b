package membership

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/roomproto/roomproto/pdu"
)

// TestResultsDoNotShareInput: the events SendKnock, SendLeave, CheckSendJoinResponse and
// CheckStrippedState return are their own (docs/decisions.md (membership) 24): after the call,
// overwriting every byte the caller passed leaves each returned event's Raw() as it was.
func TestResultsDoNotShareInput(t *testing.T) {
	scribble := func(bufs ...[]byte) {
		for _, b := range bufs {
			for i := range b {
				b[i] = 'X'
			}
		}
	}
	cases := []struct {
		name string
		// run calls the function on buffers of its own, and returns the events it returned
		// and the buffers it passed.
		run func(t *testing.T) ([]*pdu.Event, [][]byte)
	}{
		{"SendLeave", func(t *testing.T) ([]*pdu.Event, [][]byte) {
			_, s, _, signed := leaveSetup(t, "10")
			body := bytes.Clone(signed)
			res, err := SendLeave(SendLeaveRequest{State: s, Origin: joinSrv, Event: body, Keys: keyRing(t, joinSrv)})
			if err != nil {
				t.Fatal(err)
			}
			return []*pdu.Event{res.Parsed}, [][]byte{body}
		}},
		{"SendKnock", func(t *testing.T) ([]*pdu.Event, [][]byte) {
			_, s, signed := knockSetup(t)
			res, err := SendKnock(SendKnockRequest{State: s, Origin: joinSrv, Event: signed, Keys: keyRing(t, joinSrv)})
			if err != nil {
				t.Fatal(err)
			}
			return []*pdu.Event{res.Parsed}, [][]byte{signed}
		}},
		{"CheckSendJoinResponse", func(t *testing.T) ([]*pdu.Event, [][]byte) {
			v, signed, res := acceptedRestrictedJoin(t)
			sent, returned := bytes.Clone(signed), bytes.Clone(res.Event)
			ev, err := CheckSendJoinResponse(v, sent, returned, resident, keyRing(t, joinSrv, resident))
			if err != nil {
				t.Fatal(err)
			}
			return []*pdu.Event{ev}, [][]byte{sent, returned}
		}},
		{"CheckStrippedState", func(t *testing.T) ([]*pdu.Event, [][]byte) {
			b, inv, irs := inviteSetup(t, "11")
			ev, err := pdu.Parse(b.v, inv)
			if err != nil {
				t.Fatal(err)
			}
			entries := make([]json.RawMessage, len(irs))
			bufs := make([][]byte, len(irs))
			for i, e := range irs {
				entries[i] = bytes.Clone(e)
				bufs[i] = entries[i]
			}
			valid, problems := CheckStrippedState(b.v, ev.RoomID, entries, keyRing(t, resident))
			if len(problems) != 0 || len(valid) != len(irs) {
				t.Fatalf("%d valid of %d, problems %v", len(valid), len(irs), problems)
			}
			return valid, bufs
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, bufs := c.run(t)
			before := make([][]byte, len(evs))
			for i, e := range evs {
				before[i] = bytes.Clone(e.Raw())
			}
			scribble(bufs...)
			for i, e := range evs {
				if !bytes.Equal(e.Raw(), before[i]) {
					t.Fatalf("event %d changed with the caller's buffer: %.40s", i, e.Raw())
				}
			}
		})
	}
}

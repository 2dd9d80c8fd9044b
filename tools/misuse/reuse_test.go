package misuse

import (
	"bytes"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func TestReuse(t *testing.T) {
	v9 := claimkit.Ver(t, "9")
	a9 := room(t, v9, roomA)
	runProbes(t, []probe{
		{"Check/does-not-set-EventID-of-caller-events", "", func(t *testing.T) {
			// "An Event is never modified by the functions of roomproto": Check computes the
			// IDs of auth events whose EventID is empty; it must not store them in them.
			var auth []*pdu.Event
			for _, e := range a9[:4] {
				p, err := pdu.Parse(v9, e.Raw())
				if err != nil {
					t.Fatal(err)
				}
				auth = append(auth, p)
			}
			j := ev(t, v9, obj{"type": "m.room.member", "state_key": "@bob:c.example", "sender": "@bob:c.example", "room_id": roomA,
				"auth_events": []any{a9[0].EventID, a9[2].EventID, a9[3].EventID}, "content": obj{"membership": "join"}})
			if err := authrules.Check(v9, j, auth, nil); err != nil {
				t.Fatal(err)
			}
			for _, e := range auth {
				if e.EventID != "" {
					t.Fatal("Check set EventID on a caller's event")
				}
			}
		}},
		{"CheckAuthChain/input-events-unchanged", "", func(t *testing.T) {
			in := slices.Clone(a9)
			ids := make([]string, len(in))
			for i, e := range in {
				ids[i] = e.EventID
			}
			if _, err := authrules.CheckAuthChain(v9, in, nil); err != nil {
				t.Fatal(err)
			}
			for i, e := range in {
				if e != a9[i] || e.EventID != ids[i] {
					t.Fatal("changed")
				}
			}
		}},
		{"AppendSignedBytesIndexed/index-of-another-event-within-bounds", "", func(t *testing.T) {
			// "idx must describe canon exactly; given anything else the result is unspecified
			// (though never a panic as long as idx's offsets lie within canon)".
			small := a9[1]
			big := ev(t, v9, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA,
				"content": obj{"body": string(bytes.Repeat([]byte("x"), 2000))}})
			var idx canonicaljson.Index
			if _, err := pdu.ParseIndexed(v9, small.Raw(), &idx); err != nil {
				t.Fatal(err)
			}
			_, _ = redaction.AppendSignedBytesIndexed(nil, v9, big.Raw(), &idx)
		}},
		{"ParseIndexed/index-reused-for-two-events", "", func(t *testing.T) {
			var idx canonicaljson.Index
			e1, _ := pdu.ParseIndexed(v9, a9[1].Raw(), &idx)
			e2, err := pdu.ParseIndexed(v9, a9[2].Raw(), &idx)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := redaction.AppendSignedBytes(nil, v9, e2.Raw())
			got, err := redaction.AppendSignedBytesIndexed(nil, v9, e2.Raw(), &idx)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%v", err)
			}
			_ = e1
		}},
		{"VerifyParsedEvent-then-Redact/order", "", func(t *testing.T) {
			// Results fed to each other in another order: the redacted event still verifies
			// (signatures cover the redacted form), and its content hash does not.
			red, err := redaction.Redact(v9, a9[2].Raw())
			if err != nil {
				t.Fatal(err)
			}
			err = signing.VerifyEvent(v9, red, ring())
			if signing.VerdictOf(err) != signing.VerdictRedact {
				t.Fatalf("redacted event: %v", err)
			}
			e, _ := signing.ParseEvent(v9, red)
			if e.EventID != a9[2].EventID {
				t.Fatal("event ID changed by redaction")
			}
		}},
		{"State/Apply-after-failed-Check", "", func(t *testing.T) {
			s := stateOf(t, v9, a9)
			bad := ev(t, v9, obj{"type": "m.room.power_levels", "state_key": "", "sender": "@eve:c.example", "room_id": roomA, "content": obj{"users": obj{"@eve:c.example": 100}}})
			if err := s.Check(bad, nil); !authrules.Rejected(err) {
				t.Fatal(err)
			}
			// Apply does not authorise (documented): the caller must not Apply a rejected
			// event. Assert the documented behaviour: it is applied.
			if err := s.Apply(bad); err != nil {
				t.Fatal(err)
			}
			if s.PowerLevels().UserLevel("@eve:c.example") != 100 {
				t.Fatal("not applied")
			}
		}},
	})
}

package claimsd

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// fatalMalformed asserts a fatal *authrules.Rejection matching ErrMalformed with rule.
func fatalMalformed(t *testing.T, err error, rule string) {
	t.Helper()
	var rej *authrules.Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("err = %v (%T), want a *authrules.Rejection", err, err)
	}
	if !errors.Is(err, authrules.ErrMalformed) || rej.Severity != authrules.SeverityFatal || rej.Rule != rule {
		t.Errorf("err = %v (rule %q, severity %v), want fatal ErrMalformed rule %q", err, rej.Rule, rej.Severity, rule)
	}
}

// pairs are (asked version, version the events were parsed for): every neighbour, and the
// pairs that change a format (event IDs v3, canonical JSON v6, redacts v11, room ID v12).
var pairs = [][2]string{
	{"1", "2"}, {"2", "1"}, {"2", "3"}, {"3", "2"}, {"3", "4"}, {"4", "3"}, {"4", "5"}, {"5", "4"},
	{"5", "6"}, {"6", "5"}, {"6", "7"}, {"7", "6"}, {"7", "8"}, {"8", "7"}, {"8", "9"}, {"9", "8"},
	{"9", "10"}, {"10", "9"}, {"10", "11"}, {"11", "10"}, {"11", "12"}, {"12", "11"}, {"1", "12"},
	{"12", "1"}, {"1", "11"}, {"11", "1"},
}

// docs/decisions.md authrules "Events parsed for another room version are refused": "Check,
// CheckWithOptions, State.Check and State.CheckWithOptions answer a fatal rejection matching
// ErrMalformed (rule "", or rule 2/3 for an auth event) when the event, an auth event or
// Options.Create was parsed for another room version than the one asked". Check's doc: "Every
// event must have been parsed for v ... refused with a fatal rejection matching ErrMalformed";
// State.Check's doc: "An event parsed for another room version than the state's is refused as
// Check refuses it". SECURITY.md: "authrules (every entry point) ... refuse it".
func TestOtherVersionEventRefused(t *testing.T) {
	for _, p := range pairs {
		asked, parsed := buildRoom(t, p[0], ""), buildRoom(t, p[1], "")
		v := asked.v
		s, err := authrules.NewState(v, asked.state())
		if err != nil {
			t.Fatal(err)
		}
		name := "v" + p[0] + " event of v" + p[1]
		// the event of the other version, with the auth events of its own room.
		ev := parsed.msg
		t.Run(name+"/Check", func(t *testing.T) {
			fatalMalformed(t, authrules.Check(v, ev, parsed.authOf(ev), nil), "")
		})
		t.Run(name+"/CheckWithOptions", func(t *testing.T) {
			fatalMalformed(t, authrules.CheckWithOptions(v, ev, parsed.authOf(ev), authrules.Options{}), "")
		})
		t.Run(name+"/State.Check", func(t *testing.T) {
			fatalMalformed(t, s.Check(ev, nil), "")
		})
		t.Run(name+"/State.CheckWithOptions", func(t *testing.T) {
			fatalMalformed(t, s.CheckWithOptions(ev, authrules.Options{}), "")
		})
		t.Run(name+"/State.Check of a create", func(t *testing.T) {
			fatalMalformed(t, s.Check(parsed.create, nil), "")
		})
		// an auth event of the other version: rule 2 (v12: 3).
		authRule := "2"
		if v.Format.RoomIDFromCreateEvent {
			authRule = "3"
		}
		t.Run(name+"/Check auth event", func(t *testing.T) {
			auth := asked.authOf(asked.msg)
			auth[0] = parsed.pl // another version's power levels
			fatalMalformed(t, authrules.Check(v, asked.msg, auth, nil), authRule)
		})
		t.Run(name+"/NewState", func(t *testing.T) {
			_, err := authrules.NewState(v, append(asked.state()[:4:4], parsed.bob))
			if !errors.Is(err, authrules.ErrInvalidState) {
				t.Errorf("err = %v, want ErrInvalidState", err)
			}
		})
		t.Run(name+"/State.Apply", func(t *testing.T) {
			s2, _ := authrules.NewState(v, asked.state())
			if err := s2.Apply(parsed.bob); !errors.Is(err, authrules.ErrInvalidState) {
				t.Errorf("err = %v, want ErrInvalidState", err)
			}
		})
		t.Run(name+"/AuthEventsNeeded", func(t *testing.T) {
			_, err := authrules.AuthEventsNeeded(v, parsed.bob)
			fatalMalformed(t, err, "")
		})
		t.Run(name+"/State.AuthEvents", func(t *testing.T) {
			_, err := s.AuthEvents(parsed.bob)
			fatalMalformed(t, err, "")
		})
		t.Run(name+"/CheckAuthChain", func(t *testing.T) {
			res, err := authrules.CheckAuthChain(v, append(asked.state(), parsed.msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			fatalMalformed(t, res.Verdicts[len(res.Verdicts)-1].Err, "")
		})
		t.Run(name+"/redaction.Decide", func(t *testing.T) {
			red := redactionOf(t, parsed)
			if d, why := redaction.Decide(v, red, asked.msg, 100, 50); d != redaction.Ignore {
				t.Errorf("redaction of v%s: Decide = %v (%s), want Ignore", p[1], d, why)
			}
			own := redactionOf(t, asked)
			if d, why := redaction.Decide(v, own, asked.msg, 100, 50); d != redaction.Apply {
				t.Errorf("control: Decide = %v (%s), want Apply", d, why)
			}
		})
	}
}

// decisions: "when ... Options.Create was parsed for another room version than the one asked".
// The Options.Create doc: "Before room version 12 both ignore it".
func TestOtherVersionOptionsCreate(t *testing.T) {
	for _, p := range pairs {
		asked, parsed := buildRoom(t, p[0], ""), buildRoom(t, p[1], "")
		v := asked.v
		s, _ := authrules.NewState(v, asked.state())
		opts := authrules.Options{Create: parsed.create}
		name := "v" + p[0] + " Options.Create of v" + p[1]
		t.Run(name+"/CheckWithOptions", func(t *testing.T) {
			fatalMalformed(t, authrules.CheckWithOptions(v, asked.msg, asked.authOf(asked.msg), opts), "")
		})
		t.Run(name+"/State.CheckWithOptions", func(t *testing.T) {
			err := s.CheckWithOptions(asked.msg, opts)
			fatalMalformed(t, err, "")
		})
	}
}

// Options.Create's doc: "Before room version 12 both ignore it (the create event is then one of
// the auth events, rule 2.4, and part of the state), except that one parsed for another room
// version is refused, as every event is." (Finding D1: the text said "ignore it" without the
// exception.)
func TestOptionsCreateIgnoredBeforeV12(t *testing.T) {
	for _, id := range claimkit.VersionIDs()[:11] {
		r := buildRoom(t, id, "")
		s, _ := authrules.NewState(r.v, r.state())
		// The room's own create of the same version: ignored, the verdict is the usual one.
		same := authrules.Options{Create: r.create}
		if err := authrules.CheckWithOptions(r.v, r.msg, r.authOf(r.msg), same); err != nil {
			t.Errorf("v%s CheckWithOptions with its own create as Options.Create: %v, want nil (ignored)", id, err)
		}
		if err := s.CheckWithOptions(r.msg, same); err != nil {
			t.Errorf("v%s State.CheckWithOptions with its own create: %v, want nil (ignored)", id, err)
		}
		// One parsed for another room version: refused.
		other := buildRoom(t, "12", "")
		opts := authrules.Options{Create: other.create}
		fatalMalformed(t, authrules.CheckWithOptions(r.v, r.msg, r.authOf(r.msg), opts), "")
		fatalMalformed(t, s.CheckWithOptions(r.msg, opts), "")
	}
}

// decisions: "An Event made by hand, whose Version is the zero Version, is read as an event of
// the version asked (membership.MakeJoin builds its templates so)". Same in Check's, NewState's
// and AuthEventsNeeded's docs.
func TestHandMadeEventReadAsVersionAsked(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		r := buildRoom(t, id, "")
		v := r.v
		hm := handMade(r.msg)
		auth := r.authOf(r.msg)
		for i := range auth {
			auth[i] = handMade(auth[i])
		}
		t.Run("v"+id+"/Check", func(t *testing.T) {
			if err := authrules.Check(v, hm, auth, nil); err != nil {
				t.Errorf("hand-made: %v", err)
			}
		})
		t.Run("v"+id+"/CheckWithOptions Create", func(t *testing.T) {
			if err := authrules.CheckWithOptions(v, hm, auth[:len(auth)-1], authrules.Options{Create: handMade(r.create)}); err != nil && v.Format.RoomIDFromCreateEvent {
				t.Errorf("hand-made create: %v", err)
			}
		})
		t.Run("v"+id+"/NewState Apply Check", func(t *testing.T) {
			st := []*pdu.Event{}
			for _, e := range r.state() {
				st = append(st, handMade(e))
			}
			s, err := authrules.NewState(v, st[:4])
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Apply(st[4]); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(hm, nil); err != nil {
				t.Error(err)
			}
			if _, err := authrules.AuthEventsNeeded(v, hm); err != nil {
				t.Error(err)
			}
		})
	}
}

// redactionOf builds a redaction of r's message in r's room, sent by alice.
func redactionOf(t *testing.T, r *room) *pdu.Event {
	t.Helper()
	b := authfixture.NewBuilder(r.v, claimkit.Templates(t), r.id)
	id := r.msg.EventID
	auth := []any{r.pl.EventID, r.alice.EventID}
	if !r.v.Format.RoomIDFromCreateEvent {
		auth = append(auth, r.create.EventID)
	}
	raw, _ := json.Marshal(M{"type": "m.room.redaction", "sender": "@alice:a.example", "redacts": id, "content": M{"redacts": id}})
	ev, err := b.Build(raw, auth)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Redacts != id {
		t.Fatalf("redacts %q", ev.Redacts)
	}
	return ev
}

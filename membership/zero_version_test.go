package membership

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// TestZeroVersionAndMixedEvents: the zero Version reads as no room version (Transitions empty,
// FindTransition, ClassifyMemberEvent and JoinRuleSupported false), ClassifyMemberEvent does not
// classify an event parsed for another version, and StripEvent refuses an event without a
// content object (docs/decisions.md, Cross-package "The zero Version reads as no room version
// everywhere"; tools/misuse M7-M9).
func TestZeroVersionAndMixedEvents(t *testing.T) {
	var zero roomversion.Version
	if got := Transitions(zero); len(got) != 0 {
		t.Errorf("Transitions(zero): %d transitions", len(got))
	}
	if _, ok := FindTransition(zero, "leave", "join", true, JoinRulePublic); ok {
		t.Error("FindTransition(zero) found a transition")
	}
	if JoinRuleSupported(zero, JoinRulePublic) {
		t.Error("JoinRuleSupported(zero, public)")
	}
	sk := "@bob:b.example"
	join := &pdu.Event{Type: pdu.TypeMember, Sender: sk, StateKey: &sk, Membership: "join", Content: []byte(`{"membership":"join"}`)}
	if _, ok := ClassifyMemberEvent(zero, "", join, JoinRulePublic); ok {
		t.Error("ClassifyMemberEvent(zero) classified a join")
	}
	v6, _ := roomversion.Lookup("6")
	v9, _ := roomversion.Lookup("9")
	if _, ok := ClassifyMemberEvent(v6, "", join, JoinRulePublic); !ok {
		t.Error("a hand-made join (zero Version) is not read as an event of v6")
	}
	parsed9 := *join
	parsed9.Version = v9
	if _, ok := ClassifyMemberEvent(v6, "", &parsed9, JoinRulePublic); ok {
		t.Error("a join parsed for v9 classified under v6")
	}
	empty := ""
	_, err := StripEvent(&pdu.Event{Type: "m.room.name", Sender: "@a:a.example", StateKey: &empty})
	var me *Error
	if !errors.As(err, &me) || !errors.Is(err, ErrBadInput) {
		t.Errorf("StripEvent without content: %v", err)
	}
}

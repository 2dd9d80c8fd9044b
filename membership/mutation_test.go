package membership

// Tests that kill mutants which survived the rest of the package's tests (tools/mutcheck,
// /work/logs/audit-mutation.md). Each case names the mutant it kills as
// "file:line 'original' -> 'mutated'".

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
)

// TestMutationExactNote: the note about saturated levels is added only in room versions
// 1-9, for two equal levels at the int64 limit.
func TestMutationExactNote(t *testing.T) {
	// membership/transitions.go:286 '&&' -> '||'
	v9, _ := roomversion.Lookup("9")
	v10, _ := roomversion.Lookup("10")
	const note = " (levels beyond the int64 range are shown saturated and compared exactly)"
	for _, tt := range []struct {
		v    roomversion.Version
		a, b int64
		want string
	}{
		{v9, 50, 100, ""},
		{v9, 100, 100, ""},
		{v9, math.MaxInt64, math.MaxInt64, note},
		{v9, math.MinInt64, math.MinInt64, note},
		{v10, math.MaxInt64, math.MaxInt64, ""},
	} {
		if got := exactNote(tt.v, tt.a, tt.b); got != tt.want {
			t.Errorf("v%s %d %d: %q, want %q", tt.v.ID, tt.a, tt.b, got, tt.want)
		}
	}
}

// TestMutationStrippedStateBound: CheckStrippedState reports the problems of the first
// MaxStrippedState (256) entries; past them it only looks for the create event, so 300
// entries that are not events give 256 problems and the missing create event.
func TestMutationStrippedStateBound(t *testing.T) {
	// membership/stripped.go:30 '256' -> '257'
	v, _ := roomversion.Lookup("10")
	entries := make([]json.RawMessage, 300)
	for i := range entries {
		entries[i] = json.RawMessage(`{"x":1}`)
	}
	valid, problems := CheckStrippedState(v, "!r:a.example", entries, nil)
	if len(valid) != 0 || len(problems) != MaxStrippedState+1 {
		t.Fatalf("%d valid, %d problems; want 0 and %d", len(valid), len(problems), MaxStrippedState+1)
	}
	for i, p := range problems {
		if !errors.Is(p, ErrBadEvent) {
			t.Errorf("problem %d: %v, want ErrBadEvent", i, p)
		}
	}
	if !strings.Contains(problems[255].Error(), "stripped state entry 255 ") || !strings.Contains(problems[256].Error(), "stripped state has no valid m.room.create event") {
		t.Errorf("last problems: %v; %v", problems[255], problems[256])
	}
}

// TestMutationStateEventsLimit: a join request's state may hold MaxStateEvents (100,000)
// entries; one more is refused for its size, before any entry is read.
func TestMutationStateEventsLimit(t *testing.T) {
	// membership/input.go:19 '100000' -> '100001'
	for _, tt := range []struct {
		n       int
		limited bool
	}{{MaxStateEvents, false}, {MaxStateEvents + 1, true}} {
		state := "[" + strings.Repeat("0,", tt.n-1) + "0]"
		_, err := ParseJoinRequest([]byte(`{"resident_server":"a.example","room_version":"10","state":` + state + `,"user_id":"@u:b.example"}`))
		limited := err != nil && strings.Contains(err.Error(), "state holds 100001 events, limit 100000")
		if err == nil || limited != tt.limited {
			t.Errorf("%d entries: %v; want the size limit: %v", tt.n, err, tt.limited)
		}
	}
}

package membercmp

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/membership"
)

// TestVerdict: each kind of divergence is told apart, and agreement records none.
func TestVerdict(t *testing.T) {
	forbidden := &membership.Error{Status: 403, ErrCode: "M_FORBIDDEN", Message: "no"}
	for _, c := range []struct {
		name string
		rp   RP
		ref  Ans
		kind string // "" for agreement
	}{
		{"both allow", RPOf(nil), Ans{Allow: true}, ""},
		{"verdict", RPOf(nil), Ans{Codes: [][]any{{403, "M_FORBIDDEN"}}}, "VERDICT"},
		{"same refusal", RPOf(forbidden), Ans{Codes: [][]any{{403.0, "M_FORBIDDEN"}}}, ""},
		{"any refusal", RPOf(forbidden), Ans{}, ""},
		{"errcode", RPOf(forbidden), Ans{Codes: [][]any{{400, "M_BAD_JSON"}}}, "ERRCODE"},
		{"not a membership error", RPOf(errors.New("x")), Ans{Codes: [][]any{{403, "M_FORBIDDEN"}}}, "ERRCODE"},
		{"output", RPOf(nil), Ans{Allow: true, Problems: []string{"p"}}, "OUTPUT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := NewRun()
			r.Verdict("9", "op", "label mut=x", c.rp, c.ref, map[string]any{"a": 1})
			if r.Compared != 1 || r.Tally["v9 op"] != 1 {
				t.Errorf("counters: %+v", r)
			}
			var got string
			for k := range r.Groups {
				got = k
			}
			if (c.kind == "") != (r.Diverged == 0) || (c.kind != "" && (len(got) < len(c.kind) || got[:len(c.kind)] != c.kind)) {
				t.Errorf("divergence %q (%d), want kind %q", got, r.Diverged, c.kind)
			}
		})
	}
	r := NewRun()
	if r.Usable(Ans{Invalid: "no"}) || r.Tally["skipped: no"] != 1 || r.Usable(Ans{Error: "boom"}) || r.Harness != 1 || !r.Usable(Ans{}) {
		t.Errorf("Usable: %+v", r)
	}
}

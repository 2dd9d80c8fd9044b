package claimsb

import "testing"

func TestSmoke(t *testing.T) {
	for _, id := range []string{"1", "10", "12"} {
		r := newRoom(t, ver(id), "invite", nil)
		s := r.state(t)
		if s.Len() != 4 {
			t.Fatal(s.Len())
		}
		m := r.member(t, "@alice:a.example", "@bob:b.example", "invite", nil)
		if err := s.Check(m, nil); err != nil {
			t.Fatal(id, err)
		}
	}
}

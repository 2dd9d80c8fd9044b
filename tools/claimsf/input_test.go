package claimsf

import (
	"bytes"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/membership"
)

// joinRequest returns a join request of room version 10 whose rooms member is rooms (raw JSON).
func joinRequest(t testing.TB, rooms []byte) []byte {
	t.Helper()
	r := newRoom(t, "10", roomOpts{JoinRule: "restricted"})
	var b bytes.Buffer
	b.WriteString(`{"room_version":"10","user_id":"@dave:d.example","resident_server":"a.example","state":[`)
	for i, ev := range r.State.Events() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(ev.Raw())
	}
	b.WriteString(`],"rooms":`)
	b.Write(rooms)
	b.WriteByte('}')
	return b.Bytes()
}

// members returns `"@u:b.example":"join"` n times, the last one with membership last.
func members(n int, last string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		m := "join"
		if i == n-1 {
			m = last
		}
		b.WriteString(`"@u:b.example":"` + m + `"`)
	}
	return b.String()
}

// membership.MaxKnownMembers' new sentence: "the largest total number of memberships in a join
// request's rooms, counted as written: a user ID given twice in one room (the last one counts)
// or a room given twice counts each time, so that the limit bounds the work of reading the
// input". One user ID written 1,000,000 times is read (the last one counts), 1,000,001 times is
// refused; a room written twice with 500,000 and 500,001 memberships is refused, with 500,000
// each read (the later counts). About 13 MB per request: skipped under -short and -race, as
// SECURITY.md's MaxKnownMembers case is.
func TestMaxKnownMembersCountedAsWritten(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("13 MB requests (12 s under -race, and no concurrency): not under -short or -race")
	}
	if membership.MaxKnownMembers != 1000000 {
		t.Fatalf("MaxKnownMembers = %d", membership.MaxKnownMembers)
	}
	req, err := membership.ParseJoinRequest(joinRequest(t, []byte(`{"!o:b.example":{`+members(1000000, "leave")+`}}`)))
	if err != nil {
		t.Fatalf("1,000,000 times one user ID: %v", err)
	}
	if m, _ := req.Rooms.RoomMembership("!o:b.example", "@u:b.example"); m != "leave" {
		t.Errorf("the last one counts: %q", m)
	}
	_, err = membership.ParseJoinRequest(joinRequest(t, []byte(`{"!o:b.example":{`+members(1000001, "join")+`}}`)))
	wantErr(t, "1,000,001 times one user ID", err, 400, membership.ErrCodeBadJSON, membership.ErrBadInput)
	_, err = membership.ParseJoinRequest(joinRequest(t, []byte(`{"!o:b.example":{`+members(500000, "join")+`},"!o:b.example":{`+members(500001, "join")+`}}`)))
	wantErr(t, "a room twice, 1,000,001 in all", err, 400, membership.ErrCodeBadJSON, membership.ErrBadInput)
	req, err = membership.ParseJoinRequest(joinRequest(t, []byte(`{"!o:b.example":{`+members(500000, "join")+`},"!o:b.example":{`+members(500000, "ban")+`}}`)))
	if err != nil {
		t.Fatalf("a room twice, 1,000,000 in all: %v", err)
	}
	if m, _ := req.Rooms.RoomMembership("!o:b.example", "@u:b.example"); m != "ban" {
		t.Errorf("the later room counts: %q", m)
	}
}

//go:build goexperiment.jsonv2

package v12cmp

import (
	"fmt"
	"strings"

	"github.com/roomproto/roomproto/pdu"
)

func userKeyBadServer(tags []string) bool {
	for _, t := range tags {
		if strings.HasPrefix(t, "pl-userkey:") {
			u := strings.TrimPrefix(t, "pl-userkey:")
			i := strings.IndexByte(u, ':')
			if i > 0 && !pdu.ValidServerName(u[i+1:]) {
				return true
			}
		}
	}
	return false
}

func classifyAuth(areaName string, rm *room, c *candidate, e *evt, rv, mv verdict) string {
	state := strings.HasPrefix(areaName, "state")
	switch {
	case !rv.allow && (rv.rule == "10.3" || rv.rule == "9.3") && mv.allow && userKeyBadServer(c.tags):
		return "pl-users-key-bad-server-name"
	case state && !rv.allow && rv.rule == "2" && c.has("mut:roomid-noncreate"):
		return "roomid-names-non-create-event"
	case !rv.allow && rv.rule == "2" && mv.allow && strings.HasPrefix(e.rp.RoomID, "$"):
		return "roomid-wrong-sigil"
	case state && !rv.allow && rv.rule == "2" && (c.has("mut:roomid-other") || c.has("mut:roomid-rejected-create")):
		return "state-mode-event-of-another-room"
	case state && !rv.allow && rv.rule == "" && strings.Contains(rv.msg, "not of the state's room") && roomIDMutated(c):
		// v1-11: State.Check refuses an event of another room (fatal, no rule number).
		return "state-mode-event-of-another-room"
	case rv.allow && !mv.allow && strings.HasPrefix(mv.rule, "5.3.") && len(e.rp.PrevEvents) == 1 && e.rp.PrevEvents[0] == rm.create.id && len(e.rp.AuthEvents) > 1:
		// mautrix skips the first-join rule (more than one auth event) and then rejects under
		// whichever later rule of 5.3 the join rule leads to (5.3.2, 5.3.5.2, 5.3.7, ...).
		return "first-join-5.3.1-auth-events-count"
	}
	return fmt.Sprintf("?%v|rp=%s|mx=%s|%v", rv.allow, rv.rule, mv.rule, c.tags)
}

// roomIDMutated reports whether the candidate's room_id was changed by one of the room ID mutations.
func roomIDMutated(c *candidate) bool {
	for _, t := range c.tags {
		if strings.HasPrefix(t, "mut:roomid-") {
			return true
		}
	}
	return false
}

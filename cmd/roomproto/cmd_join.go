package main

import "github.com/roomproto/roomproto/membership"

// runJoinDecision: join-decision [FILE] — decides a make_join/send_join request in a
// restricted room as the resident server would (membership.DecideJoin). The input is
// {"room_version", "state", "user_id", "resident_server", "rooms"}, with the optional "origin"
// and "ver" of a make_join request (membership.ParseJoinRequest);
// the output one JSON line: {"decision":"allow"[,"authorising_user":...]} or
// {"decision":"reject","status":...,"errcode":...,"error":...}. Every decision exits 0; an
// unusable input exits 1.
func runJoinDecision(e *env, args []string) error {
	fs := newFlags("join-decision")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	in, err := readInput(e, fs, maxInput)
	if err != nil {
		return err
	}
	req, err := membership.ParseJoinRequest(in)
	if err != nil {
		return err
	}
	d, err := membership.DecideJoin(req)
	return writeJSONLine(e, membership.DecisionJSON(d, err))
}

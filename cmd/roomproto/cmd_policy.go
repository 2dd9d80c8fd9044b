package main

import (
	"errors"
	"fmt"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/signing"
)

// runPolicyCheck: policy-check --room-version V --state FILE [FILE] — says whether the event is
// recommended for inclusion by the Policy Server of the room whose current state FILE holds (a
// JSON array of state events): {"recommended":true,"policy_server":null} when the room uses
// none, {"recommended":true,"policy_server":"S"} when the event is exempt or S signed it, and
// {"recommended":false,"policy_server":"S","reason":"..."} otherwise (soft failure). Any
// verdict exits 0.
func runPolicyCheck(e *env, args []string) error {
	fs := newFlags("policy-check")
	version := fs.String("room-version", "", "room version of the event")
	stateFile := fs.String("state", "", "file holding a JSON array of the room's current state events")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := roomVersionFlag(*version)
	if err != nil {
		return err
	}
	if *stateFile == "" {
		return usagef("missing --state")
	}
	in, err := readInput(e, fs, maxEventInput)
	if err != nil {
		return err
	}
	stateData, err := readFlagFile(e, "state", *stateFile, maxInput)
	if err != nil {
		return err
	}
	events, err := parseEventList(v, stateData)
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	state, err := authrules.NewState(v, events)
	if err != nil {
		return fmt.Errorf("--state: %w", err)
	}
	ev, err := signing.ParseEvent(v, in)
	if err != nil {
		return err
	}
	ps, inUse := policyserver.Of(state)
	if !inUse {
		return writeJSONLine(e, []byte(`{"recommended":true,"policy_server":null}`))
	}
	verdict := ps.Check(ev)
	out := []byte(`{"recommended":`)
	if verdict == nil {
		out = append(out, "true"...)
	} else {
		out = append(out, "false"...)
	}
	out = append(out, `,"policy_server":`...)
	out = canonicaljson.AppendString(out, ps.Name)
	if verdict != nil {
		var pe *policyserver.Error
		if !errors.As(verdict, &pe) {
			return verdict
		}
		out = append(out, `,"reason":`...)
		out = canonicaljson.AppendString(out, pe.Error())
	}
	out = append(out, '}')
	return writeJSONLine(e, out)
}

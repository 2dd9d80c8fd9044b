package main

//go:generate go run ../../internal/roomgen/cmd/exampleroom -o exampleroom.json

import (
	"bytes"
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// exampleRoom is the room `replay` runs without FILE: a room version 9 restricted room made and
// signed by internal/roomgen (ExampleRoom) with fixed test keys. Regenerate it with
// `go generate ./cmd/roomproto`; TestExampleRoomUpToDate fails when it is stale.
//
//go:embed exampleroom.json
var exampleRoom []byte

// roomDump is a room in the replay format: {"room_version":"9","events":[...]}, with an
// optional "keys" member in the --keys format (roomproto's extension, as in the shared
// benchmark corpus).
type roomDump struct {
	version roomversion.Version
	events  [][]byte
	keys    signing.KeyRing // the keys replay uses: --keys, or the dump's (nil when none)
	// keysRaw is the dump's "keys" member as it stands (nil when it has none). It is parsed
	// only where it is used (replay without --keys): a member that --keys replaces, or that
	// verify-room does not read, cannot make the dump unusable.
	keysRaw []byte
}

// parseRoomDump reads the replay format. The events are kept as the bytes of the dump.
//
// The dump is checked as JSON (lenient) with nesting up to canonicaljson.HardMaxDepth, not the
// default limit of an event: the dump adds two levels around each event, and an event too
// deep to be an event must be that event's problem (a rejected row), not the whole room's.
func parseRoomDump(data []byte) (*roomDump, error) {
	if canonicaljson.KindOf(data) != canonicaljson.Object {
		return nil, errors.New(`room dump must be a JSON object {"room_version":"...","events":[...]}`)
	}
	if err := canonicaljson.Valid(data, canonicaljson.Options{MaxDepth: canonicaljson.HardMaxDepth}); err != nil {
		return nil, fmt.Errorf("room dump: %w", err)
	}
	var (
		d                           roomDump
		versionRaw, eventsRaw, kRaw []byte
	)
	for _, m := range splitTop(data) {
		key, value, err := splitMember(m)
		if err != nil {
			return nil, fmt.Errorf("room dump: %w", err)
		}
		switch key { // the last occurrence of a key counts, as in canonicaljson's lenient mode
		case "room_version":
			versionRaw = value
		case "events":
			eventsRaw = value
		case "keys":
			kRaw = value
		}
	}
	if versionRaw == nil {
		return nil, errors.New("room dump has no room_version")
	}
	if canonicaljson.KindOf(versionRaw) != canonicaljson.String {
		return nil, errors.New("room dump: room_version must be a string")
	}
	id, err := canonicaljson.Unquote(versionRaw)
	if err != nil {
		return nil, fmt.Errorf("room dump: room_version: %w", err)
	}
	if d.version, err = roomversion.Lookup(id); err != nil {
		return nil, err
	}
	if canonicaljson.KindOf(eventsRaw) != canonicaljson.Array {
		return nil, errors.New("room dump: events must be an array of events")
	}
	// The whole dump is valid JSON, so the array splits on its top-level commas; each event
	// keeps its bytes exactly as they are in the dump (sub-slices, no copy).
	d.events = splitTop(eventsRaw)
	d.keysRaw = kRaw
	return &d, nil
}

// splitMember splits a member `"key": value` of a valid JSON object (an element of splitTop)
// into its unescaped key and its value.
func splitMember(m []byte) (string, []byte, error) {
	end := 1 // the closing quote of the key
	for ; end < len(m) && m[end] != '"'; end++ {
		if m[end] == '\\' {
			end++ // the escaped byte cannot end the string
		}
	}
	key, err := canonicaljson.Unquote(m[:end+1])
	if err != nil {
		return "", nil, err
	}
	rest := bytes.TrimSpace(m[end+1:])
	return key, bytes.TrimSpace(rest[1:]), nil // rest[0] is the colon
}

// splitTop returns the elements of a JSON array, or the members (`"key": value`) of a JSON
// object, that is known to be valid (checked by canonicaljson), as sub-slices of arr with
// surrounding whitespace trimmed. It keeps no stack: the nesting depth is only counted.
func splitTop(arr []byte) [][]byte {
	var (
		out      [][]byte
		depth    int
		inString bool
		start    = -1
	)
	flush := func(end int) {
		if start >= 0 {
			out = append(out, bytes.TrimSpace(arr[start:end]))
		}
		start = -1
	}
	for i := 0; i < len(arr); i++ {
		c := arr[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			if depth == 1 {
				continue // the container itself
			}
		case ']', '}':
			depth--
			if depth == 0 {
				flush(i)
				return out
			}
		case ',':
			if depth == 1 {
				flush(i)
				continue
			}
		case ' ', '\t', '\n', '\r':
			continue
		}
		if depth >= 1 && start < 0 {
			start = i
		}
	}
	return out
}

// replayVerdict is what replay decided for one event.
type replayVerdict struct {
	ev       *pdu.Event // nil when the event does not parse
	parseErr error
	// otherRoom is set (room versions 1-11) when the event's room_id is not the room's.
	otherRoom error
	// dupOf is the number (from 1) of the event's first copy in the dump when this is a later
	// copy of the same event (same event ID and content hash), 0 otherwise. A later copy is
	// not checked again: it has the first copy's verdict.
	dupOf int
	// idTaken is set when the event claims the event ID of an earlier, different event: a
	// server keeps the first event it has with an ID.
	idTaken error
	// byAuth is the verdict against the event's own auth_events (check 4), nil when accepted;
	// authChecked is false when some auth event is not in the dump before the event.
	byAuth      error
	authChecked bool
	// byState is the verdict against the state at the event (check 5): the state after its
	// prev event when that is not the event just before it in the dump, else the state of the
	// accepted events before it.
	byState error
	// bySoft is the verdict against the room's current state (check 6), set only when the
	// state at the event is another: when it rejects an event checks 4 and 5 accept, the
	// event is soft failed, not rejected.
	bySoft error
	// prevs is the number of prev_events when more than one: the state at such an event needs
	// state resolution, which replay does not do; it uses the dump's state so far.
	prevs int
	// notKept is set when the state after the event's prev event was not kept (more than
	// maxBranchStates of them): the dump's state so far stands in for it.
	notKept bool
	// hashMismatch is set when the event's content hash does not match it (check 3 of
	// "Checks performed on receipt of a PDU"): replay does not act on it (a server would
	// redact the event before checks 4-6, as verify-room does), but says so.
	hashMismatch bool
	// allowAuth and allowState are the rules that allowed the event in checks 4 and 5
	// (authrules Options.Allowed), "" when the check did not run or rejected it.
	allowAuth, allowState string
	// warning is the first warning of the checks (authrules Options.Warn), such as rule 4.2.1
	// seeing the authorising server's signature without keys to verify it: printed beside an
	// accepted verdict.
	warning *authrules.Rejection
}

// final is the printed verdict: the event is rejected when either check rejects it. The check
// against its own auth events (check 4 of server-server-api "Checks performed on receipt of a
// PDU") comes first in the spec's order, so its rejection is the one printed when both reject.
func (r *replayVerdict) final() error {
	if r.parseErr != nil {
		return r.parseErr
	}
	if r.otherRoom != nil {
		return r.otherRoom
	}
	if r.idTaken != nil {
		return r.idTaken
	}
	if r.byAuth != nil {
		return r.byAuth
	}
	return r.byState
}

// warn keeps the first warning of the event's checks.
func (r *replayVerdict) warn(w *authrules.Rejection) {
	if r.warning == nil {
		r.warning = w
	}
}

// softFailed reports whether the event passed checks 4 and 5 but not check 6.
func (r *replayVerdict) softFailed() bool { return r.final() == nil && r.bySoft != nil }

// maxBranchStates bounds the copies of the state replay keeps for events whose prev event is
// not the line before them (each costs the size of the state): a dump of a linear room needs
// none, a room with a few late events a few; past the bound, the dump's state so far stands in.
const maxBranchStates = 1024

// replayRoom authorises the events of a dump in order (see runReplay).
func replayRoom(d *roomDump) ([]replayVerdict, error) {
	state, err := authrules.NewState(d.version, nil)
	if err != nil {
		return nil, err
	}
	// The state after each event that is the only prev event of an event further on than the
	// line just after it: the state at that later event (a branch of the DAG that left the
	// dump's order, as a message sent from before a ban). lastUse says when a kept state can
	// be dropped; at most maxBranchStates are made, each a copy of the state.
	lastUse := map[string]int{}
	after := map[string]*authrules.State{}
	made := 0
	var keys signing.KeyLookup
	if d.keys != nil {
		keys = d.keys
	}
	seen := map[string]*pdu.Event{}
	rejected := map[string]bool{}
	out := make([]replayVerdict, len(d.events))
	firstAt := map[string]int{} // event ID → index of its first event
	for i, raw := range d.events {
		out[i].ev, out[i].parseErr = signing.ParseEvent(d.version, raw)
		ev := out[i].ev
		if ev == nil {
			continue
		}
		out[i].hashMismatch = errors.Is(signing.CheckContentHash(d.version, ev.Raw()), signing.ErrContentHashMismatch)
		// Its only prev event came earlier, but not on the line just before it: the state at
		// the event is the state after that prev event, which later events changed.
		if len(ev.PrevEvents) == 1 {
			if j, ok := firstAt[ev.PrevEvents[0]]; ok && j != i-1 {
				lastUse[ev.PrevEvents[0]] = i
			}
		}
		if _, ok := firstAt[ev.EventID]; !ok {
			firstAt[ev.EventID] = i
		}
	}
	parsed := make([]*pdu.Event, len(out))
	for i := range out {
		parsed[i] = out[i].ev
	}
	roomID := dumpRoom(d.version, parsed)
	for i := range out {
		r := &out[i]
		ev := r.ev
		if ev == nil {
			continue
		}
		if j := firstAt[ev.EventID]; j != i {
			// The event ID again. The same event (same content hash): the first copy stands
			// for it and its verdict holds. Another event with that ID (v1-2, where the ID is
			// a field, or a v3+ copy whose content was changed): the first one is kept.
			if sameEvent(d.version, out[j].ev, ev) {
				hashMismatch := r.hashMismatch
				*r = out[j]
				r.ev, r.dupOf, r.hashMismatch = ev, j+1, hashMismatch
			} else {
				r.idTaken = fmt.Errorf("event %d, a different event, has this event ID: the first is kept", j+1)
				if out[j].hashMismatch && !r.hashMismatch {
					r.idTaken = fmt.Errorf("event %d, a different event, has this event ID: the first is kept (event %d fails its content hash, this one does not: a server that has event %d keeps its redacted form)", j+1, j+1, j+1)
				}
			}
			continue
		}
		switch room := eventRoom(d.version, ev); {
		case room == roomID:
		case !d.version.Format.RoomIDFromCreateEvent:
			// No auth rule of v1-11 reads the event's own room_id (a server files events by
			// room before it checks them; from v12 rule 2 does): an event of another room
			// is kept out of this room's state.
			r.otherRoom = fmt.Errorf("an event of another room: room_id %q, but the dump's room is %q", ev.RoomID, roomID)
			rejected[ev.EventID] = true
			continue
		case ev.RoomID == "":
			// v12: a create event whose ID gives another room. Rule 1 accepts any create on
			// its own; it starts that other room and must not replace this room's create.
			// (Other events of another room fail rule 2, whose number the row shows.)
			r.otherRoom = fmt.Errorf("the create event of another room: its event ID gives room %q, but the dump's room is %q", room, roomID)
			rejected[ev.EventID] = true
			continue
		}
		auth := make([]*pdu.Event, 0, len(ev.AuthEvents))
		r.authChecked = true
		for _, id := range ev.AuthEvents {
			ae := seen[id]
			if ae == nil {
				r.authChecked = false
				break
			}
			auth = append(auth, ae)
		}
		if r.authChecked {
			opts := authrules.Options{Keys: keys, Rejected: rejected}
			if id, ok := pdu.CreateEventID(d.version, ev.RoomID); ok {
				// v12: the create event is not an auth event; the room ID names it
				// (rooms/v12.md rule 2). Absent from the dump, rule 2 rejects.
				opts.Create = seen[id]
			}
			opts.Warn = r.warn
			opts.Allowed = func(rule string) { r.allowAuth = rule }
			r.byAuth = authrules.CheckWithOptions(d.version, ev, auth, opts)
		}
		at := state
		switch {
		case len(ev.PrevEvents) > 1:
			r.prevs = len(ev.PrevEvents)
		case len(ev.PrevEvents) == 1 && after[ev.PrevEvents[0]] != nil:
			at = after[ev.PrevEvents[0]]
			if lastUse[ev.PrevEvents[0]] == i {
				delete(after, ev.PrevEvents[0])
			}
		case len(ev.PrevEvents) == 1 && firstAt[ev.PrevEvents[0]] < i-1:
			if _, fork := lastUse[ev.PrevEvents[0]]; fork {
				r.notKept = true // more branch points than maxBranchStates
			}
		}
		r.byState = at.CheckWithOptions(ev, authrules.Options{Keys: keys, Rejected: rejected, Warn: r.warn,
			Allowed: func(rule string) { r.allowState = rule }})
		if at != state && r.final() == nil {
			r.bySoft = state.CheckWithOptions(ev, authrules.Options{Keys: keys, Rejected: rejected})
		}
		seen[ev.EventID] = ev
		switch {
		case r.final() != nil:
			rejected[ev.EventID] = true
		case r.bySoft != nil:
			// Soft failed: a valid event the room's current state does not admit. It is
			// not rejected (events may cite it), but nothing builds on it here: it does not
			// enter the current state (server-server-api "Soft failure").
		case ev.IsState():
			if err := state.Apply(ev); err != nil {
				return nil, err
			}
		}
		if _, fork := lastUse[ev.EventID]; fork && made < maxBranchStates {
			made++
			if after[ev.EventID], err = authrules.NewState(d.version, state.Events()); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// dumpRoom returns the room of a dump: the room most of its parsed events are of (eventRoom;
// on a tie, the one that reached that count first), so that a few events of another room,
// wherever they are (a create event first included), cannot make the dump's own events look
// foreign.
func dumpRoom(v roomversion.Version, events []*pdu.Event) string {
	count := map[string]int{}
	best, bestN := "", 0
	for _, ev := range events {
		if ev == nil {
			continue
		}
		room := eventRoom(v, ev)
		count[room]++
		if n := count[room]; n > bestN {
			best, bestN = room, n
		}
	}
	return best
}

// eventRoom is the room of an event: its room_id, or for a version 12 m.room.create, which has
// none, the room ID its event ID gives (rooms/v12.md).
func eventRoom(v roomversion.Version, ev *pdu.Event) string {
	if v.Format.RoomIDFromCreateEvent && ev.RoomID == "" && ev.Type == pdu.TypeCreate && len(ev.EventID) > 1 {
		return "!" + ev.EventID[1:]
	}
	return ev.RoomID
}

// sameEvent reports whether two events with the same event ID are the same event: their
// content hashes (everything but hashes, signatures and unsigned) are equal.
func sameEvent(v roomversion.Version, a, b *pdu.Event) bool {
	ha, err1 := signing.ContentHash(v, a.Raw())
	hb, err2 := signing.ContentHash(v, b.Raw())
	return err1 == nil && err2 == nil && ha == hb
}

// runReplay implements `roomproto replay [--keys FILE] [FILE]`: it authorises the events of a
// room dump ({"room_version":"9","events":[...]}, in order; without FILE the built-in example
// room) and prints one line per event: its number, ID, type, state key and verdict with the
// rule that decided it, then a summary line.
//
// Each event is checked twice: against its own auth_events, when they all appear earlier in
// the dump (check 4 of "Checks performed on receipt of a PDU"), and against the state built
// from the accepted events before it (check 5). It is rejected when either check rejects it;
// the rule printed is that of the auth-events check when it rejects, else that of the state
// check, and a note says when the two checks disagree. Keys for rule 4.2.1 (the authorising
// server's signature of a restricted join) come from --keys or the dump's "keys" member;
// without them the rule only requires the signature to be present. Signatures are not checked
// here, and an event whose content hash does not match is checked as it is, with a note saying
// so: acting on them (dropping, redacting) is verify-room's job.
func runReplay(e *env, args []string) error {
	fs := newFlags("replay")
	keysFile := fs.String("keys", "", "public keys {server: {key ID: key}} for the authorising server's signatures")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var data []byte
	switch fs.NArg() {
	case 0:
		data = exampleRoom
	case 1:
		var err error
		data, err = readInput(e, fs, maxInput)
		if err != nil {
			return err
		}
	default:
		return usagef("expected at most one room file, got %d", fs.NArg())
	}
	d, err := parseRoomDump(data)
	if err != nil {
		return err
	}
	if *keysFile != "" {
		kdata, err := readFlagFile(e, "keys", *keysFile, maxInput)
		if err != nil {
			return err
		}
		if d.keys, err = signing.ParseKeyRing(kdata); err != nil {
			return err
		}
	} else if d.keysRaw != nil {
		if d.keys, err = signing.ParseKeyRing(d.keysRaw); err != nil {
			return fmt.Errorf("room dump: keys: %w", err)
		}
	}
	verdicts, err := replayRoom(d)
	if err != nil {
		return err
	}
	return printReplay(e.stdout, d, verdicts)
}

// printReplay writes the table and the summary line.
func printReplay(w io.Writer, d *roomDump, verdicts []replayVerdict) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "#\tEVENT ID\tTYPE\tSTATE KEY\tVERDICT\n")
	accepted, softFailed := 0, 0
	byRule := map[string]int{}
	for i, r := range verdicts {
		id, typ, sk := "-", "-", "-"
		if r.ev != nil {
			id, typ = cell(r.ev.EventID), cell(r.ev.Type)
			if r.ev.StateKey != nil {
				sk = cell(*r.ev.StateKey)
			}
		}
		verdict := "accepted"
		if r.softFailed() {
			softFailed++
			verdict = "soft-failed"
			if rule := ruleOf(r.bySoft); rule != "" {
				verdict += " rule " + rule
			}
			verdict += ": " + reasonOf(r.bySoft) + " (the state at the event allows it; the room's current state does not)"
		} else if err := r.final(); err != nil {
			rule := ruleOf(err)
			switch {
			case rule != "":
				byRule["rule "+rule]++
			case r.otherRoom != nil:
				byRule["another room"]++
			case r.idTaken != nil:
				byRule["event ID taken"]++
			default:
				byRule["unparsable"]++
			}
			verdict = "rejected"
			if rule != "" {
				verdict += " rule " + rule
			}
			verdict += ": " + reasonOf(err)
		} else {
			accepted++
			// The rule that allowed it: check 4's, first in the spec's order, else check 5's.
			if rule := cmp.Or(r.allowAuth, r.allowState); rule != "" {
				verdict += " rule " + rule
			}
		}
		if note := r.disagreement(); note != "" {
			verdict += " (" + note + ")"
		}
		if w := r.warning; w != nil && r.final() == nil {
			verdict += " (warning, rule " + w.Rule + ": " + w.Reason + ")"
		}
		if r.hashMismatch {
			verdict += " (content hash mismatch: checked unredacted here; a server, as verify-room, would redact it first)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, id, typ, sk, oneLine(verdict))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	rules := make([]string, 0, len(byRule))
	for rule := range byRule {
		rules = append(rules, rule)
	}
	sort.Strings(rules)
	var parts []string
	for _, rule := range rules {
		parts = append(parts, fmt.Sprintf("%s: %d", rule, byRule[rule]))
	}
	summary := fmt.Sprintf("summary: room version %s, %d events, %d accepted", d.version.ID, len(verdicts), accepted)
	if softFailed > 0 {
		summary += fmt.Sprintf(", %d soft-failed", softFailed)
	}
	summary += fmt.Sprintf(", %d rejected", len(verdicts)-accepted-softFailed)
	if len(parts) > 0 {
		summary += " (" + strings.Join(parts, ", ") + ")"
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

// disagreement says when the two checks of an event differ, or that they were not run again.
func (r *replayVerdict) disagreement() string {
	if r.dupOf > 0 {
		return "a copy of event " + strconv.Itoa(r.dupOf) + ", whose verdict it has: not checked again"
	}
	if r.parseErr != nil || r.otherRoom != nil || r.idTaken != nil {
		return ""
	}
	if r.prevs > 1 {
		return strconv.Itoa(r.prevs) + " prev events: the state at the event needs state resolution; checked against the dump's state so far"
	}
	if r.notKept {
		return "the state after its prev event was not kept (more than " + strconv.Itoa(maxBranchStates) + " such states): checked against the dump's state so far"
	}
	if !r.authChecked {
		return "auth events not all in the dump: checked against the state only"
	}
	switch {
	case r.byAuth == nil && r.byState != nil:
		return "its auth events allow it; the state before it does not"
	case r.byAuth != nil && r.byState == nil:
		return "the state before it allows it; its auth events do not"
	case r.byAuth != nil && r.byState != nil && ruleOf(r.byAuth) != ruleOf(r.byState):
		return "the state check says rule " + ruleOf(r.byState)
	}
	return ""
}

// ruleOf returns the rule of an authrules rejection, "" for other errors.
func ruleOf(err error) string {
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return rej.Rule
	}
	return ""
}

// reasonOf returns the reason of an authrules rejection, or the error text.
func reasonOf(err error) string {
	var rej *authrules.Rejection
	if errors.As(err, &rej) {
		return rej.Reason
	}
	return err.Error()
}

// cell renders an ID, type or state key for the replay table: as it is, or Go-quoted when it is
// empty or holds a character that would break the table (a space, a control character, a
// non-printable rune, or invalid UTF-8), so that every row stays one line of five columns, or
// when it could be read as another cell: "-" (the mark of no state key) and text starting with
// a double quote.
func cell(s string) string {
	if s == "" || s == "-" || s[0] == '"' {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == utf8.RuneError || r == ' ' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(s)
}

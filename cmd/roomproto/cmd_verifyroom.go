package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// Problems verify-room reports, the "problem" of its output lines.
const (
	problemMalformed    = "malformed"     // the event does not have the format of the room version
	problemBadSignature = "bad_signature" // a signature fails, is missing, or no content hash
	problemMissingKey   = "missing_key"   // a required server signed only with unknown or expired keys
	problemRedacted     = "redacted"      // the content hash fails: authorised in its redacted form
	problemRejected     = "rejected"      // the authorization rules reject it
)

// roomCheck is the outcome of verifying and authorising a room dump.
type roomCheck struct {
	events  []*pdu.Event // parsed events (nil when malformed); the redacted form for a hash mismatch
	sigErrs []error      // signing verdicts (signing.VerifyEvent's error)
	// unredactable marks events whose content hash fails and whose redacted form cannot be
	// parsed: they are rejected.
	unredactable []bool
	// dropped says, for each event ID whose standing copy failed verification (and so counts
	// as rejected for rule 2.3), why: the reason an event citing it is given.
	dropped map[string]string
	// otherRoom[i] says why event i is not of the dump's room (dumpRoom), "" when it is:
	// such an event is rejected without being authorised, as replay rejects it (from v12 only
	// a create event: the others of another room fail rule 2 on their own).
	otherRoom []string
	// warnings are said in the summary: the dump's room_version is not the one its create
	// event gives (replay's "warning, rule 1.3").
	warnings []string
	// rep[i] is the index in chain.Verdicts of the copy that stands for the ID of event i
	// (-1 for a malformed event).
	rep      []int
	chain    *authrules.ChainResult
	duration time.Duration
}

// checkRoom verifies the hashes and signatures of every event of the dump
// (signing.ParseAndVerifyEvents, all cores), replaces the events whose content hash fails by
// their redacted form, and authorises the whole set against each event's own auth events
// (authrules.CheckAuthChain), with the events that failed verification counted as rejected
// for rule 2.3. When several copies share an event ID (a forged copy of a genuine event has
// its ID: the ID is the hash of the redacted form), the first copy that passed verification
// stands for the ID, so a forged copy cannot taint the genuine one; the copies that failed are
// reported for themselves. progress, when not nil, receives the stage and its progress.
func checkRoom(d *roomDump, keys signing.KeyRing, progress func(stage string, done, total int)) (*roomCheck, error) {
	start := time.Now()
	report := func(stage string) func(done, total int) {
		if progress == nil {
			return nil
		}
		return func(done, total int) { progress(stage, done, total) }
	}
	events, errs := signing.ParseAndVerifyEvents(d.version, d.events, keys, &signing.BatchOptions{Progress: report("verifying")})
	rc := &roomCheck{events: events, sigErrs: errs, unredactable: make([]bool, len(events)), otherRoom: make([]string, len(events)), rep: make([]int, len(events)), dropped: map[string]string{}}
	passed := make([]bool, len(events))
	for i, err := range errs {
		ev := events[i]
		if ev == nil {
			continue
		}
		switch signing.VerdictOf(err) {
		case signing.VerdictValid:
			passed[i] = true
		case signing.VerdictRedact:
			// server-server-api "Checks performed on receipt of a PDU", check 3: the event is
			// redacted before further processing. Its ID is unchanged (the reference hash is
			// taken of the redacted form).
			if red, rerr := redaction.Redact(d.version, ev.Raw()); rerr == nil {
				if rev, perr := signing.ParseEvent(d.version, red); perr == nil && rev.EventID == ev.EventID {
					events[i], passed[i] = rev, true
					continue
				}
			}
			rc.unredactable[i] = true
		}
	}
	// The dump is one room: the room most of its events are of, as replay decides it.
	room := dumpRoom(d.version, events)
	for i, ev := range events {
		if ev == nil {
			continue
		}
		switch r := eventRoom(d.version, ev); {
		case r == room:
		case !d.version.Format.RoomIDFromCreateEvent:
			rc.otherRoom[i] = fmt.Sprintf("an event of another room: room_id %q, but the dump's room is %q", ev.RoomID, room)
		case ev.RoomID == "":
			rc.otherRoom[i] = fmt.Sprintf("the create event of another room: its event ID gives room %q, but the dump's room is %q", r, room)
		}
	}
	if w := versionWarning(d.version, events, room); w != "" {
		rc.warnings = append(rc.warnings, w)
	}
	// One copy per event ID goes to the auth chain: the first that passed, else the first.
	chosen := make(map[string]int, len(events))
	for i, ev := range events {
		if ev == nil {
			continue
		}
		if j, ok := chosen[ev.EventID]; !ok || (passed[i] && !passed[j]) {
			chosen[ev.EventID] = i
		}
	}
	chainEvents := make([]*pdu.Event, 0, len(chosen))
	chainIndex := make(map[string]int, len(chosen))
	rejected := map[string]bool{}
	for i, ev := range events {
		if ev == nil || chosen[ev.EventID] != i {
			continue
		}
		chainIndex[ev.EventID] = len(chainEvents)
		chainEvents = append(chainEvents, ev)
		switch {
		case !passed[i]:
			rejected[ev.EventID] = true
			rc.dropped[ev.EventID] = droppedWhy(signing.VerdictOf(errs[i]), rc.unredactable[i])
		case rc.otherRoom[i] != "":
			rejected[ev.EventID] = true
			rc.dropped[ev.EventID] = "it is of another room"
		}
	}
	for i, ev := range events {
		rc.rep[i] = -1
		if ev != nil {
			rc.rep[i] = chainIndex[ev.EventID]
		}
	}
	chain, err := authrules.CheckAuthChain(d.version, chainEvents, &authrules.ChainOptions{
		Keys: keys, Rejected: rejected, SignaturesVerified: true, Progress: report("authorising"),
	})
	if err != nil {
		return nil, err
	}
	rc.chain = chain
	rc.duration = time.Since(start)
	return rc, nil
}

// versionWarning says, when the create event of the dump's room gives another room version
// than the dump's room_version, which (the version is the create event's: content.room_version,
// "1" when absent); "" otherwise, also when the room has no create event or its room_version
// is not a recognised version (which rule 1.3 rejects).
func versionWarning(v roomversion.Version, events []*pdu.Event, room string) string {
	for _, ev := range events {
		if ev == nil || ev.Type != pdu.TypeCreate || ev.StateKey == nil || *ev.StateKey != "" || eventRoom(v, ev) != room {
			continue
		}
		id := "1"
		if raw := ev.ContentField("room_version"); raw != nil {
			s, err := canonicaljson.Unquote(raw)
			if err != nil || !roomversion.Known(s) {
				return ""
			}
			id = s
		}
		if id == v.ID {
			return ""
		}
		return fmt.Sprintf("event %s (m.room.create), rule 1.3: content.room_version is %q but the event is checked as room version %q", ev.EventID, id, v.ID)
	}
	return ""
}

// droppedWhy says why an event failed verification, for the events citing it.
func droppedWhy(v signing.Verdict, unredactable bool) string {
	switch {
	case unredactable:
		return "its content hash fails and its redacted form does not parse"
	case v == signing.VerdictNeedKey:
		return "missing_key, no known key verifies its signature"
	default:
		return "bad_signature, it failed its signature checks"
	}
}

// droppedNote completes the reason of a rule 2.3 rejection when the auth event it names was
// not rejected by the authorization rules but dropped on receipt (checks 1-3): it says why.
func (rc *roomCheck) droppedNote(ev *pdu.Event, reason string) string {
	for _, id := range ev.AuthEvents {
		if why, ok := rc.dropped[id]; ok && strings.Contains(reason, "auth event "+id+" ") {
			return " (dropped on receipt: " + why + ")"
		}
	}
	return ""
}

// runVerifyRoom implements `roomproto verify-room --keys FILE [FILE]`: it verifies and
// authorises a whole room dump in the replay format (see checkRoom) and writes, as JSON lines
// on standard output, one line per event with a problem —
// {"index":i,"event_id":...,"type":...,"problem":"bad_signature"|"missing_key"|"malformed"|
// "redacted"|"rejected","rule":...,"reason":...} — then a summary line
// {"summary":{"events":n,"valid":n,"redacted":n,"rejected":n,"bad_signature":n,"missing_key":n,
// "malformed":n,"rejected_by_rule":{...}}}, with "milliseconds" and "events_per_second" under
// --timing (without it the output is the same on every run), and "warnings" when there are
// any. The counts split the events: an event is counted once, under its first problem. The
// dump is one room (dumpRoom): an event of another room is rejected (without a rule), as replay
// rejects it. The dump's own "keys" member is not used: the keys that vouch for the signatures
// come from --keys, never from the data being verified. When the work takes longer than a
// second, a progress bar is drawn on standard error.
func runVerifyRoom(e *env, args []string) error {
	fs := newFlags("verify-room")
	keysFile := fs.String("keys", "", "public keys {server: {key ID: key}} (required)")
	quiet := fs.Bool("quiet", false, "no progress bar on standard error")
	timing := fs.Bool("timing", false, `add "milliseconds" and "events_per_second" to the summary (they change from run to run)`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *keysFile == "" {
		return usagef("missing --keys")
	}
	kdata, err := readFlagFile(e, "keys", *keysFile, maxInput)
	if err != nil {
		return err
	}
	keys, err := signing.ParseKeyRing(kdata)
	if err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return usagef("expected at most one room file, got %d", fs.NArg())
	}
	data, err := readInput(e, fs, maxInput)
	if err != nil {
		return err
	}
	d, err := parseRoomDump(data)
	if err != nil {
		return err
	}
	if len(d.events) > authrules.MaxChainEvents {
		return fmt.Errorf("room dump has %d events, more than the %d verify-room checks", len(d.events), authrules.MaxChainEvents)
	}
	// The bar starts once the input is known to be usable: an exit 1 must leave exactly one
	// line on standard error, and lines already drawn (stderr not a terminal) stay.
	var progress func(string, int, int)
	if !*quiet {
		bar := startProgress(e.stderr, e.progressDelay)
		defer bar.stop()
		progress = bar.set
	}
	rc, err := checkRoom(d, keys, progress)
	if err != nil {
		return err
	}
	return writeRoomReport(e.stdout, rc, *timing)
}

// writeRoomReport writes the problem lines and the summary line.
func writeRoomReport(w io.Writer, rc *roomCheck, timing bool) error {
	counts := map[string]int{}
	byRule := map[string]int{}
	valid := 0
	var line []byte
	for i, ev := range rc.events {
		problem, rule, reason := "", "", ""
		sigVerdict := signing.VerdictOf(rc.sigErrs[i])
		var chainVerdict authrules.ChainVerdict
		if rc.rep[i] >= 0 {
			chainVerdict = rc.chain.Verdicts[rc.rep[i]]
		}
		switch {
		case ev == nil:
			problem, reason = problemMalformed, rc.sigErrs[i].Error()
		case sigVerdict == signing.VerdictReject:
			problem, reason = problemBadSignature, rc.sigErrs[i].Error()
		case sigVerdict == signing.VerdictNeedKey:
			problem, reason = problemMissingKey, rc.sigErrs[i].Error()
		case rc.unredactable[i]:
			problem, reason = problemRejected, "content hash mismatch and its redacted form cannot be parsed"
			byRule[""]++
		case rc.otherRoom[i] != "":
			problem, reason = problemRejected, rc.otherRoom[i]
			if sigVerdict == signing.VerdictRedact {
				reason = "(redacted: content hash mismatch) " + reason
			}
			byRule[""]++
		case !chainVerdict.Accepted():
			problem = problemRejected
			if chainVerdict.Err != nil {
				rule, reason = ruleOf(chainVerdict.Err), reasonOf(chainVerdict.Err)
				if errors.Is(chainVerdict.Err, authrules.ErrAuthEventRejected) {
					reason += rc.droppedNote(ev, reason)
				}
			} else {
				reason = "another copy of this event ID failed verification"
			}
			if sigVerdict == signing.VerdictRedact {
				reason = "(redacted: content hash mismatch) " + reason
			}
			byRule[rule]++
		case sigVerdict == signing.VerdictRedact:
			problem, reason = problemRedacted, rc.sigErrs[i].Error()
		default:
			valid++
			continue
		}
		counts[problem]++
		line = append(line[:0], `{"index":`...)
		line = fmt.Appendf(line, "%d", i)
		if ev != nil {
			line = append(line, `,"event_id":`...)
			line = canonicaljson.AppendString(line, ev.EventID)
			line = append(line, `,"type":`...)
			line = canonicaljson.AppendString(line, ev.Type)
		}
		line = append(line, `,"problem":`...)
		line = canonicaljson.AppendString(line, problem)
		if rule != "" {
			line = append(line, `,"rule":`...)
			line = canonicaljson.AppendString(line, rule)
		}
		line = append(line, `,"reason":`...)
		line = canonicaljson.AppendString(line, reason)
		line = append(line, "}\n"...)
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	n := len(rc.events)
	secs := rc.duration.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(n) / secs
	}
	summary := map[string]any{
		"events": n, "valid": valid,
		problemRedacted: counts[problemRedacted], problemRejected: counts[problemRejected],
		problemBadSignature: counts[problemBadSignature], problemMissingKey: counts[problemMissingKey],
		problemMalformed: counts[problemMalformed], "rejected_by_rule": byRule,
	}
	if timing {
		summary["milliseconds"], summary["events_per_second"] = int64(rc.duration/time.Millisecond), int64(rate)
	}
	if len(rc.warnings) > 0 {
		summary["warnings"] = rc.warnings
	}
	out, err := canonicaljson.Marshal(map[string]any{"summary": summary})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// progressBar draws "stage [#####.....] done/total" on a writer (standard error) once the work
// has run longer than a delay, so that quick runs print nothing. On a terminal it redraws one
// line; otherwise it writes a line every few seconds.
type progressBar struct {
	w        io.Writer
	tty      bool
	mu       sync.Mutex
	stage    string
	done     int
	total    int
	shown    atomic.Bool
	quit     chan struct{}
	finished chan struct{}
}

func startProgress(w io.Writer, delay time.Duration) *progressBar {
	p := &progressBar{w: w, quit: make(chan struct{}), finished: make(chan struct{})}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	if delay <= 0 {
		p.draw() // at once, before any work: the bar is shown whatever the work takes
	}
	go p.run(delay)
	return p
}

func (p *progressBar) set(stage string, done, total int) {
	p.mu.Lock()
	p.stage, p.done, p.total = stage, done, total
	p.mu.Unlock()
}

func (p *progressBar) run(delay time.Duration) {
	defer close(p.finished)
	if delay > 0 {
		select {
		case <-p.quit:
			return
		case <-time.After(delay):
		}
		p.draw()
	}
	every := 200 * time.Millisecond
	if !p.tty {
		every = 3 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
		}
		p.draw()
	}
}

func (p *progressBar) draw() {
	p.mu.Lock()
	stage, done, total := p.stage, p.done, p.total
	p.mu.Unlock()
	if stage == "" {
		stage = "starting"
	}
	const width = 30
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	end := "\n"
	if p.tty {
		end = "\x1b[K"
		fmt.Fprint(p.w, "\r")
	}
	fmt.Fprintf(p.w, "verify-room: %-11s [%s] %d/%d%s", stage, bar, done, total, end)
	p.shown.Store(true)
}

func (p *progressBar) stop() {
	close(p.quit)
	<-p.finished
	if p.shown.Load() && p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

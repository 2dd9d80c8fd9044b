package authrules

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// This file authorises a whole set of events at once — the state and auth chain of a
// send_join response (issue 6) — each against its own auth events (check 4 of server-server-api
// "Checks performed on receipt of a PDU"), in an order where every event comes after its auth
// events, so that an event citing a rejected auth event is rejected by rule 2.3 (v8 numbering).

// ErrAuthEventCycle reports that the event's auth events lead into a cycle (back to the event
// itself, or to events that lead back to themselves), so it can never be authorised (rule 2 as
// a whole). Event IDs that are hashes (room version 3 and later) cannot form cycles; the opaque
// IDs of versions 1 and 2 can. An m.room.create event is never in or behind one: rule 1
// decides it without its auth events.
var ErrAuthEventCycle = errors.New("auth events form a cycle")

// ErrChainInput is matched (errors.Is) by the errors of [CheckAuthChain] about its input as a
// whole (too many events, a room version without auth rules); verdicts about single events are
// in the result.
var ErrChainInput = errors.New("authrules: unusable auth chain input")

// MaxChainEvents bounds the number of events [CheckAuthChain] accepts: ten times the largest
// send_join responses seen in practice, and about 2 GB of parsed events.
const MaxChainEvents = 10_000_000

// ChainOptions tunes [CheckAuthChain]. The zero value (or a nil pointer) is ready to use.
type ChainOptions struct {
	// Keys verifies the authorising server's signature of restricted joins (see
	// [Options.Keys]); nil leaves that to the caller's signature checks.
	Keys signing.KeyLookup
	// Rejected holds the IDs of events already rejected by earlier checks (a bad signature, a
	// content hash that could not be checked, ...). Such an event among the input is not
	// authorised ([ChainVerdict.PreRejected]), and an event citing it in its auth events fails
	// rule 2.3. An event citing a listed ID that is not among the input fails rule 2 as
	// citing a missing auth event, as [CheckWithOptions] answers (rules 2.1 and 2.2 need its
	// type and state key). The map is only read.
	Rejected map[string]bool
	// SignaturesVerified tells that every event not listed in Rejected passed
	// signing.VerifyParsedEvent (or signing.VerifyParsedEvents) with Keys. From room version 8
	// that check already verified the signature of the authorising server of a restricted join
	// (a required signer), so rule 4.2.1 does not verify it again for joins; it still does for
	// the other memberships that carry join_authorised_via_users_server, which the signature
	// check does not cover.
	SignaturesVerified bool
	// Workers is the number of goroutines that authorise events of the same depth in the auth
	// graph at once; 0 or less means runtime.GOMAXPROCS(0).
	Workers int
	// Progress, when not nil, is called now and then with the number of events decided so
	// far and the total, from the calling goroutine; done never decreases and the last call
	// has done == total.
	Progress func(done, total int)
}

// ChainVerdict is the verdict of [CheckAuthChain] on one event.
type ChainVerdict struct {
	// Err is nil when the event is accepted, otherwise the *Rejection that rejects it (rule
	// 2.3 for an event citing a rejected auth event, a fatal ErrMalformed for a nil event or
	// one without an event ID or of another room version).
	Err error
	// PreRejected is true when the event was listed in ChainOptions.Rejected: it was not
	// authorised and counts as rejected.
	PreRejected bool
}

// Accepted reports whether the event is accepted.
func (c ChainVerdict) Accepted() bool { return c.Err == nil && !c.PreRejected }

// ChainResult is the outcome of [CheckAuthChain].
type ChainResult struct {
	// Verdicts holds the verdict of each input event, in input order.
	Verdicts []ChainVerdict
	// Order holds the indices of the input events in the order they were authorised: every
	// event after the events of its auth_events that are in the input (but an m.room.create
	// event, whose auth events are not followed). Events that were not
	// authorised are not in it: those in or behind an auth cycle, nil events, events without
	// an event ID or of another room version, and the later occurrences of an event ID.
	Order []int
	// Accepted and Rejected count the events (PreRejected ones among the rejected).
	Accepted, Rejected int
	// ByRule counts the rejected events by the rule that rejected them ("" for the fatal
	// verdicts without a rule and for the PreRejected events).
	ByRule map[string]int
}

// CheckAuthChain authorises every event of a set — typically the state and auth chain of a
// room, as a send_join response carries them — against its own auth events found in the set,
// following the authorization rules of room version v, exactly as [CheckWithOptions] does for
// one event: an event is checked after the events its auth_events names, and an auth event that
// was rejected (by the rules, or listed in opts.Rejected) makes the events citing it fail rule
// 2.3. An auth event missing from the set fails rule 2 ([ErrAuthEventMissing]); events whose
// auth events lead into a cycle fail rule 2 ([ErrAuthEventCycle]). Both come before the other
// checks of rule 2, as in [CheckWithOptions]. The auth events of an m.room.create event are not
// followed: rule 1 decides it without them.
//
// The events must have their EventID set (signing.ParseEvent does). An event ID that occurs
// twice keeps its first occurrence; later ones get its verdict. Events at the same depth of
// the auth graph are authorised in parallel. The verdicts do not depend on the order of the
// input nor on the number of workers.
func CheckAuthChain(v roomversion.Version, events []*pdu.Event, opts *ChainOptions) (*ChainResult, error) {
	if opts == nil {
		opts = &ChainOptions{}
	}
	if len(events) > MaxChainEvents {
		return nil, fmt.Errorf("%w: %d events, limit %d", ErrChainInput, len(events), MaxChainEvents)
	}
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChainInput, err)
	}
	if numbersFor(v.Auth.RuleSet) == nil {
		return nil, fmt.Errorf("%w: room version %q has an unknown rule set", ErrChainInput, v.ID)
	}
	n := len(events)
	res := &ChainResult{Verdicts: make([]ChainVerdict, n), Order: make([]int, 0, n), ByRule: map[string]int{}}

	// Index the events by ID; note the unusable ones.
	index := make(map[string]int32, n)
	alias := map[int]int{} // duplicate index → first index
	usable := make([]bool, n)
	for i, ev := range events {
		switch {
		case ev == nil:
			res.Verdicts[i].Err = newRejection("", SeverityFatal, ErrMalformed, "event "+strconv.Itoa(i)+" is nil")
			continue
		case ev.EventID == "":
			res.Verdicts[i].Err = newRejection("", SeverityFatal, ErrMalformed, "event "+strconv.Itoa(i)+" has no event ID (parse it with signing.ParseEvent)")
			continue
		case ev.Version.ID != v.ID:
			res.Verdicts[i].Err = newRejection("", SeverityFatal, ErrMalformed, "event "+ev.EventID+" was parsed for room version "+strconv.Quote(ev.Version.ID)+", not "+strconv.Quote(v.ID))
			continue
		}
		if first, dup := index[ev.EventID]; dup {
			alias[i] = int(first)
			continue
		}
		index[ev.EventID] = int32(i)
		usable[i] = true
	}

	// Room version 12: the room's create event, named by the room ID, is an implicit auth event
	// of every other event of the room.
	creates := map[string]int32{}
	if v.Format.RoomIDFromCreateEvent {
		for i, ev := range events {
			if usable[i] && ev.Type == pdu.TypeCreate && len(ev.EventID) > 1 {
				creates["!"+ev.EventID[1:]] = int32(i)
			}
		}
	}
	// eachAuth calls fn with the index of every auth event of event i that is in the set. An
	// m.room.create event depends on none: rule 1 decides it without its auth_events, so
	// whatever it lists (even events that cite it back) neither delays nor rejects it.
	eachAuth := func(i int, fn func(j int32)) {
		ev := events[i]
		if ev.Type == pdu.TypeCreate {
			return
		}
		for _, a := range ev.AuthEvents {
			if j, ok := index[a]; ok {
				fn(j)
			}
		}
		if c, ok := creates[ev.RoomID]; ok {
			fn(c)
		}
	}

	// The auth graph: pending[i] counts the auth events of i in the set not yet decided;
	// deps[depStart[j]:depStart[j+1]] lists the events citing j.
	pending := make([]int32, n)
	depCount := make([]int32, n+1)
	for i := range events {
		if usable[i] {
			eachAuth(i, func(j int32) {
				pending[i]++
				depCount[j+1]++
			})
		}
	}
	for j := 1; j <= n; j++ {
		depCount[j] += depCount[j-1]
	}
	deps := make([]int32, depCount[n])
	fill := make([]int32, n)
	for i := range events {
		if usable[i] {
			eachAuth(i, func(j int32) {
				deps[depCount[j]+fill[j]] = int32(i)
				fill[j]++
			})
		}
	}
	fill = nil

	// rejected is read by the checks of one level and written between levels.
	rejected := make(map[string]bool, len(opts.Rejected)+16)
	for id, r := range opts.Rejected {
		if r {
			rejected[id] = true
		}
	}

	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, maxChainWorkers, max(1, n/minPerWorker))
	var level, next []int32
	for i := range events {
		if usable[i] && pending[i] == 0 {
			level = append(level, int32(i))
		}
	}
	decided := 0
	report := func() {
		if opts.Progress != nil {
			opts.Progress(decided, n)
		}
	}
	ws := make([]*chainWorker, workers)
	parsed := newParsedEvents()
	for k := range ws {
		ws[k] = newChainWorker(v, parsed)
	}
	for len(level) > 0 {
		checkLevel(v, events, level, index, creates, rejected, opts, ws, res.Verdicts)
		next = next[:0]
		for _, i := range level {
			ev := events[i]
			if !res.Verdicts[i].Accepted() {
				rejected[ev.EventID] = true
			}
			res.Order = append(res.Order, int(i))
			for _, d := range deps[depCount[i]:depCount[i+1]] {
				if pending[d]--; pending[d] == 0 {
					next = append(next, d)
				}
			}
		}
		decided += len(level)
		report()
		level, next = next, level
	}

	// Events never reached are in (or behind) an auth cycle.
	for i := range events {
		if usable[i] && pending[i] > 0 {
			res.Verdicts[i].Err = newRejection(numbersFor(v.Auth.RuleSet)[rAuth], SeverityError, ErrAuthEventCycle,
				"the auth events of "+events[i].EventID+" lead into a cycle")
			if opts.Rejected[events[i].EventID] {
				res.Verdicts[i] = ChainVerdict{PreRejected: true}
			}
		}
	}
	for i, first := range alias {
		res.Verdicts[i] = res.Verdicts[first]
	}
	for _, vd := range res.Verdicts {
		if vd.Accepted() {
			res.Accepted++
			continue
		}
		res.Rejected++
		rule := ""
		var rej *Rejection
		if errors.As(vd.Err, &rej) {
			rule = rej.Rule
		}
		res.ByRule[rule]++
	}
	if decided != n {
		decided = n
		report()
	}
	return res, nil
}

// minPerWorker is the smallest share of a level worth a goroutine; maxChainWorkers bounds the
// goroutines (and their caches) whatever ChainOptions.Workers says.
const (
	minPerWorker    = 64
	maxChainWorkers = 256
)

// checkLevel authorises the events of one level (whose auth events are all decided), in
// parallel when the level is large enough to pay for it.
func checkLevel(v roomversion.Version, events []*pdu.Event, level []int32, index, creates map[string]int32,
	rejected map[string]bool, opts *ChainOptions, ws []*chainWorker, out []ChainVerdict) {
	workers := min(len(ws), len(level)/minPerWorker)
	checkOne := func(w *chainWorker, i int32) {
		ev := events[i]
		if opts.Rejected[ev.EventID] {
			out[i] = ChainVerdict{PreRejected: true}
			return
		}
		w.authBuf = w.authBuf[:0]
		for _, a := range ev.AuthEvents {
			if j, ok := index[a]; ok {
				w.authBuf = append(w.authBuf, events[j])
			}
		}
		o := Options{Keys: opts.Keys, Rejected: rejected}
		if opts.SignaturesVerified && v.Signing.AuthorisingServerSigns && ev.Type == pdu.TypeMember && ev.Membership == pdu.MembershipJoin {
			o.Keys = nil // verified as a required signer: signing.RequiredSigners
		}
		if c, ok := creates[ev.RoomID]; ok {
			o.Create = events[c]
		}
		if rej := w.check(v, ev, w.authBuf, &o); rej != nil {
			out[i] = ChainVerdict{Err: rej}
		}
	}
	if workers <= 1 {
		for _, i := range level {
			checkOne(ws[0], i)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(level) + workers - 1) / workers
	for k := 0; k*per < len(level); k++ {
		part := level[k*per : min((k+1)*per, len(level))]
		wg.Add(1)
		go func(w *chainWorker) {
			defer wg.Done()
			for _, i := range part {
				checkOne(w, i)
			}
		}(ws[k])
	}
	wg.Wait()
}

// chainWorker is the state of one goroutine of CheckAuthChain: a State it refills for every
// event (nothing keeps a reference to it after a check) and the values derived from the create,
// power levels and join rules events it has seen, so that an m.room.power_levels cited by
// thousands of events is not read again for each of them.
//
// Two levels of cache hold them. parsed, shared by the workers of one call, reads each cited
// event once per call: its size is bounded by the input, which already holds the events, and
// no order of the events can make CheckAuthChain read one event more than once (with a cache
// bounded by a count, events citing 65 large power levels events in turn made every check read
// one, about 40 times the work per input byte). The worker's own maps, bounded by
// maxCachedDerived, spare the lock of parsed for the usual case, events citing the same few
// events in a row; a miss costs a lookup in parsed and no reading.
type chainWorker struct {
	s       *State
	parsed  *parsedEvents
	creates map[*pdu.Event]createInfo
	pls     map[[2]*pdu.Event]*PowerLevels // (power levels, create) → levels with the creators
	jrs     map[*pdu.Event]JoinRules
	authBuf []*pdu.Event
}

// createInfo is what State.deriveCreate reads from a create event, and the set of its
// creators for PowerLevels.IsCreator when they are many.
type createInfo struct {
	creators     []string
	creatorSet   map[string]struct{}
	federate     bool
	createDomain string
	roomID       string
}

// maxCachedDerived bounds each cache of a chainWorker; a full cache is emptied. Events citing
// the same power levels are close together in the topological order, so a small cache keeps
// almost every hit.
const maxCachedDerived = 64

// parsedEvents holds what was read from each create, power levels and join rules event cited
// in one CheckAuthChain call, for all its workers. The values are pure functions of the
// (immutable) events; a value computed twice by two workers at once is the same value.
type parsedEvents struct {
	mu      sync.Mutex
	creates map[*pdu.Event]createInfo
	pls     map[*pdu.Event]*PowerLevels // without the creators; nil key: no power levels event
	jrs     map[*pdu.Event]JoinRules
}

func newParsedEvents() *parsedEvents {
	return &parsedEvents{
		creates: map[*pdu.Event]createInfo{},
		pls:     map[*pdu.Event]*PowerLevels{},
		jrs:     map[*pdu.Event]JoinRules{},
	}
}

// lookup returns m[key], computing and storing it with read (outside the lock) when absent.
func lookup[V any](p *parsedEvents, m map[*pdu.Event]V, key *pdu.Event, read func() V) V {
	p.mu.Lock()
	val, ok := m[key]
	p.mu.Unlock()
	if ok {
		return val
	}
	val = read()
	p.mu.Lock()
	m[key] = val
	p.mu.Unlock()
	return val
}

// newChainWorker returns a worker of a CheckAuthChain call whose workers share parsed.
func newChainWorker(v roomversion.Version, parsed *parsedEvents) *chainWorker {
	s, _ := newEmptyState(v, pdu.MaxAuthEvents+1) // CheckAuthChain checked the rule set
	return &chainWorker{
		s:       s,
		parsed:  parsed,
		creates: map[*pdu.Event]createInfo{},
		pls:     map[[2]*pdu.Event]*PowerLevels{},
		jrs:     map[*pdu.Event]JoinRules{},
	}
}

// derive is State.derive with the worker's caches. The derived values are pure functions of
// the (immutable) events, so a cached value is the value derive would compute.
func (w *chainWorker) derive(s *State) {
	create := s.events[StateKey{pdu.TypeCreate, ""}]
	ci, ok := w.creates[create]
	if !ok {
		ci = lookup(w.parsed, w.parsed.creates, create, func() createInfo {
			s.deriveCreateFrom(create)
			return createInfo{s.creators, creatorSetOf(s.v, s.creators), s.federate, s.createDomain, s.roomID}
		})
		if len(w.creates) >= maxCachedDerived {
			clear(w.creates)
		}
		w.creates[create] = ci
	}
	s.create = create
	s.creators, s.federate, s.createDomain, s.roomID = ci.creators, ci.federate, ci.createDomain, ci.roomID
	plEvent := s.events[StateKey{pdu.TypePowerLevels, ""}]
	key := [2]*pdu.Event{plEvent, create}
	if pl, ok := w.pls[key]; ok {
		s.pl = pl
	} else {
		base := lookup(w.parsed, w.parsed.pls, plEvent, func() *PowerLevels { return parsedPowerLevels(s.v, plEvent) })
		s.pl = base.withCreatorsShared(s.v, ci.creators, ci.creatorSet)
		if len(w.pls) >= maxCachedDerived {
			clear(w.pls)
		}
		w.pls[key] = s.pl
	}
	if jr := s.events[StateKey{pdu.TypeJoinRules, ""}]; jr != nil {
		if rules, ok := w.jrs[jr]; ok {
			s.joinRules = rules
		} else {
			s.joinRules = lookup(w.parsed, w.parsed.jrs, jr, func() JoinRules { return ParseJoinRules(jr.Content) })
			if len(w.jrs) >= maxCachedDerived {
				clear(w.jrs)
			}
			w.jrs[jr] = s.joinRules
		}
	} else {
		s.deriveJoinRules()
	}
}

// check is checkAgainstAuthEvents (check.go) with the worker's reusable State and caches, so it
// gives the verdict of CheckWithOptions on every event (TestCheckAuthChainGeneratedRooms and
// TestCheckAuthChainMatchesCheck compare them).
func (w *chainWorker) check(v roomversion.Version, ev *pdu.Event, authEvents []*pdu.Event, opts *Options) *Rejection {
	return checkAgainstAuthEventsWith(v, ev, authEvents, opts, w.build)
}

// build is newAuthState on the worker's State, emptied and refilled, with derive's caches.
func (w *chainWorker) build(_ roomversion.Version, entries []*pdu.Event, create *pdu.Event) (*State, error) {
	s := w.s
	clear(s.events)
	clear(s.members)
	fillAuthState(s, entries, create)
	w.derive(s)
	return s, nil
}

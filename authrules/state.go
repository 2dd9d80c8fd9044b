package authrules

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"sort"
	"strconv"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// ErrInvalidState is matched (errors.Is) by the errors of [NewState] and [State.Apply]: an
// event that cannot be part of a room state; and by those of the methods of a nil *State.
var ErrInvalidState = errors.New("authrules: invalid state")

// State is a room state — state events keyed by `(type, state_key)` — prepared for the
// authorization rules: the m.room.create event, the room creators, the power levels, the join
// rules and every membership are read once, when the state is built, so that authorising many
// events against the same state pays the parsing once ([State.Check]).
//
// A State is safe for concurrent use by any number of readers. [State.Apply] modifies it and
// must not run concurrently with any other method. A State comes from [NewState]; the methods
// of a nil *State answer as an empty state would, and those that return an error (Check,
// CheckWithOptions, Apply, AuthEvents) an error matching [ErrInvalidState], not a verdict.
type State struct {
	v    roomversion.Version
	nums *ruleNumbers

	events  map[StateKey]*pdu.Event
	members map[string]string // user ID → membership of its m.room.member (possibly "")

	create   *pdu.Event
	creators []string
	// federate is false when the create event's content has m.federate set to false.
	federate     bool
	createDomain string // the domain of the create event's sender
	// roomID is, from v12, the room ID the create event's ID gives ("" when unknown).
	roomID string
	// room is the room of the state's events (roomOf), set by the first event: every event of
	// a state is of one room.
	room string

	pl        *PowerLevels
	joinRules JoinRules
}

// NewState builds the state of a room of version v from its state events: each must be a
// state event of the same room (the same `room_id`; in room version 12 an m.room.create names
// its room by its event ID), at most one per `(type, state_key)`. The state need not hold an
// m.room.create (the iterative auth checks of state resolution start from partial states), but
// every event other than a create is rejected against a state without one. An event parsed
// for another room version than v ([pdu.Event.Version]) is refused ([ErrInvalidState]); one
// made by hand (zero Version) is read as an event of v.
//
// An m.room.power_levels or m.room.join_rules in the state is read leniently: a value that
// is not valid for v takes its default (a valid power levels event was checked by rule 9
// before it entered the state).
func NewState(v roomversion.Version, events []*pdu.Event) (*State, error) {
	s, err := newEmptyState(v, len(events))
	if err != nil {
		return nil, err
	}
	for i, ev := range events {
		if ev == nil {
			return nil, fmt.Errorf("%w: event %d is nil", ErrInvalidState, i)
		}
		if ev.StateKey == nil {
			return nil, fmt.Errorf("%w: event %d (%s %q) is not a state event", ErrInvalidState, i, ev.EventID, ev.Type)
		}
		if why := otherVersion(v, ev, "event "+strconv.Itoa(i)+" ("+ev.EventID+")"); why != "" {
			return nil, fmt.Errorf("%w: %s", ErrInvalidState, why)
		}
		if err := s.sameRoom(ev); err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", ErrInvalidState, i, err)
		}
		k := StateKey{ev.Type, *ev.StateKey}
		if prev, dup := s.events[k]; dup {
			return nil, fmt.Errorf("%w: events %q and %q share the state key (%q, %q)", ErrInvalidState, prev.EventID, ev.EventID, k.Type, k.StateKey)
		}
		s.events[k] = ev
		if ev.Type == pdu.TypeMember {
			s.members[*ev.StateKey] = ev.Membership
		}
	}
	s.derive()
	return s, nil
}

func newEmptyState(v roomversion.Version, n int) (*State, error) {
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	nums := numbersFor(v.Auth.RuleSet)
	if nums == nil {
		return nil, fmt.Errorf("%w: room version %q has an unknown rule set %q", ErrInvalidState, v.ID, v.Auth.RuleSet)
	}
	return &State{
		v:       v,
		nums:    nums,
		events:  make(map[StateKey]*pdu.Event, n),
		members: make(map[string]string, n),
	}, nil
}

// derive reads the create event, power levels and join rules from the events.
func (s *State) derive() {
	s.deriveCreate()
	s.derivePowerLevels()
	s.deriveJoinRules()
}

func (s *State) deriveCreate() {
	s.deriveCreateFrom(s.events[StateKey{pdu.TypeCreate, ""}])
}

// deriveCreateFrom sets the create event and what is read from it.
func (s *State) deriveCreateFrom(create *pdu.Event) {
	s.create = create
	s.creators, s.federate, s.createDomain, s.roomID = nil, true, "", ""
	if s.create == nil {
		return
	}
	s.creators = creatorsOf(s.v, s.create)
	s.federate = !federateFalse(s.create)
	s.createDomain, _ = domainOf(s.create.Sender)
	if s.v.Format.RoomIDFromCreateEvent {
		if id, err := eventIDOf(s.v, s.create); err == nil {
			s.roomID = "!" + id[1:]
		}
	}
}

func (s *State) derivePowerLevels() {
	s.pl = parsedPowerLevels(s.v, s.events[StateKey{pdu.TypePowerLevels, ""}]).withCreators(s.v, s.creators)
}

// parsedPowerLevels reads the power levels of the m.room.power_levels event ev (nil: the room
// has none), without the room's creators.
func parsedPowerLevels(v roomversion.Version, ev *pdu.Event) *PowerLevels {
	var content []byte
	if ev != nil {
		content = ev.Content
	}
	pl, rej := parsePowerLevels(v, content, false)
	if rej != nil { // the content is not a JSON object: read as the defaults
		pl = &PowerLevels{named: namedDefaults, exists: true}
	}
	return pl
}

func (s *State) deriveJoinRules() {
	if ev := s.events[StateKey{pdu.TypeJoinRules, ""}]; ev != nil {
		s.joinRules = ParseJoinRules(ev.Content)
	} else {
		s.joinRules = JoinRules{Rule: JoinRuleInvite}
	}
}

// roomOf returns the room of an event: its `room_id`, or for a version 12 m.room.create, which
// has none, the room ID its event ID gives (rooms/v12.md, whose rules 1 and 2 go by type alone,
// as pdu.Event.Room does); "" when that cannot be computed.
func (s *State) roomOf(ev *pdu.Event) string {
	if s.v.Format.RoomIDFromCreateEvent && ev.Type == pdu.TypeCreate {
		if id, err := eventIDOf(s.v, ev); err == nil && len(id) > 1 {
			return "!" + id[1:]
		}
		return ""
	}
	return ev.RoomID
}

// errNilState is what the methods of a nil *State that return an error answer: a caller's
// slip (a State comes from NewState), not a verdict.
var errNilState = fmt.Errorf("%w: nil *State (make one with NewState)", ErrInvalidState)

// sameRoom checks that ev is of the state's room, which the first event sets.
func (s *State) sameRoom(ev *pdu.Event) error {
	room := s.roomOf(ev)
	switch {
	case s.room == "":
		s.room = room
	case room != s.room:
		what := fmt.Sprintf("(%s, %q)", ev.Type, *ev.StateKey)
		if ev.EventID != "" {
			what = ev.EventID + " " + what
		}
		return fmt.Errorf("%s is of room %q, not of the state's room %q", what, room, s.room)
	}
	return nil
}

// Apply puts a state event into the state, replacing the event with the same `(type,
// state_key)`, and updates what was derived from it. It does not authorise the event (see
// [State.Check]), but refuses ([ErrInvalidState]) an event of another room than the state's
// events (their `room_id`; in room version 12 also the room ID an m.room.create's event ID
// gives), which the first event of an empty state sets, and one parsed for another room
// version than the state's. Apply must not run concurrently with any other method of s.
func (s *State) Apply(ev *pdu.Event) error {
	if s == nil {
		return errNilState
	}
	if ev == nil || ev.StateKey == nil {
		return fmt.Errorf("%w: not a state event", ErrInvalidState)
	}
	if why := otherVersion(s.v, ev, "the event"); why != "" {
		return fmt.Errorf("%w: %s", ErrInvalidState, why)
	}
	if err := s.sameRoom(ev); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	s.events[StateKey{ev.Type, *ev.StateKey}] = ev
	switch ev.Type {
	case pdu.TypeMember:
		s.members[*ev.StateKey] = ev.Membership
	case pdu.TypeCreate:
		s.deriveCreate()
		s.derivePowerLevels()
	case pdu.TypePowerLevels:
		s.derivePowerLevels()
	case pdu.TypeJoinRules:
		s.deriveJoinRules()
	}
	return nil
}

// Version returns the room version of the state.
func (s *State) Version() roomversion.Version {
	if s == nil {
		return roomversion.Version{}
	}
	return s.v
}

// Room returns the ID of the room the state's events belong to (the room of its first event:
// NewState and Apply hold events of one room), "" for an empty or nil State.
func (s *State) Room() string {
	if s == nil {
		return ""
	}
	return s.room
}

// CheckFederation applies the m.federate rule (rule 3 of room versions 1-11, rule 4 of 12) to
// a user who is not yet the sender of an event, as a resident server must before it offers a
// join or knock template (membership): "If the content of the m.room.create event in the room
// state has the property m.federate set to false, and the sender domain of the event does not
// match the sender domain of the create event, reject." It returns nil when the rule lets
// userID's server send events into the room (also when the state has no create event, which
// fails other rules), and otherwise a *Rejection matching ErrNotFederated with the rule's
// number, exactly as Check rejects such a user's event. A nil State gives an error matching
// ErrInvalidState.
func (s *State) CheckFederation(userID string) error {
	if s == nil {
		return errNilState
	}
	if s.create == nil {
		return nil
	}
	if rej := s.federationRejection(userID); rej != nil {
		return rej
	}
	return nil
}

// federationRejection is rule 3 (v12: 4) for sender, the state's create event being known:
// nil when m.federate is not false or sender is of the create event's server.
func (s *State) federationRejection(sender string) *Rejection {
	if s.federate {
		return nil
	}
	if d, _ := domainOf(sender); d != s.createDomain {
		return newRejection(s.nums[rFederate], SeverityError, ErrNotFederated,
			"m.federate is false and sender "+strconv.Quote(sender)+" is not from the creator's server "+strconv.Quote(s.createDomain))
	}
	return nil
}

// Get returns the state event with the given type and state key, or nil.
func (s *State) Get(eventType, stateKey string) *pdu.Event {
	if s == nil {
		return nil
	}
	return s.events[StateKey{eventType, stateKey}]
}

// Len returns the number of state events.
func (s *State) Len() int {
	if s == nil {
		return 0
	}
	return len(s.events)
}

// Events returns the state events, sorted by type then state key.
func (s *State) Events() []*pdu.Event {
	if s == nil {
		return nil
	}
	out := make([]*pdu.Event, 0, len(s.events))
	for _, ev := range s.events {
		out = append(out, ev)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return *out[i].StateKey < *out[j].StateKey
	})
	return out
}

// Create returns the m.room.create event, or nil when the state has none.
func (s *State) Create() *pdu.Event {
	if s == nil {
		return nil
	}
	return s.create
}

// Creators returns the room creators: `content.creator` of the create event in v1-10, its
// `sender` in v11, its `sender` followed by the valid entries of
// `content.additional_creators` in v12 (rooms/v12.md "Authorisation rules"). Nil without a
// create event.
func (s *State) Creators() []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s.creators...)
}

// PowerLevels returns the power levels of the state; never nil. Without an
// m.room.power_levels event they are the defaults (m.room.power_levels.yaml): every user at 0
// except the creator at 100 in v1-11; in v12 the creators have [InfiniteLevel] whether or not
// there is a power levels event.
func (s *State) PowerLevels() *PowerLevels {
	if s == nil {
		return &noPowerLevels
	}
	return s.pl
}

// JoinRules returns the join rules of the state. Without an m.room.join_rules event the rule
// is "invite" (docs/decisions.md (authrules): the spec gives no default; "invite" is the
// reading of the reference implementations and the safe one). The result is the caller's: its
// Allow is a copy.
func (s *State) JoinRules() JoinRules {
	if s == nil {
		return JoinRules{Rule: JoinRuleInvite}
	}
	jr := s.joinRules
	jr.Allow = slices.Clone(jr.Allow) // the caller's to modify: the state is shared by readers
	return jr
}

// Membership returns the `membership` of userID's m.room.member event, "" when there is none
// (or its membership is not a string).
func (s *State) Membership(userID string) string {
	if s == nil {
		return ""
	}
	return s.members[userID]
}

// AllMembers returns an iterator over the user IDs whose membership is membership, in no
// particular order: [State.Members] without the sorting and the slice, for a caller that
// scans a large room once. The iterator reads the state while the loop runs, so [State.Apply]
// must not run until the loop has ended.
func (s *State) AllMembers(membership string) iter.Seq[string] {
	return func(yield func(string) bool) {
		if s == nil {
			return
		}
		for u, m := range s.members {
			if m == membership && !yield(u) {
				return
			}
		}
	}
}

// Members returns the user IDs whose membership is membership, sorted.
func (s *State) Members(membership string) []string {
	if s == nil {
		return nil
	}
	var out []string
	for u, m := range s.members {
		if m == membership {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// AuthEvents returns the auth events the auth events selection picks from this state for ev
// (server-server-api "Auth events selection"): the events of [AuthEventsNeeded] that the state
// holds, in that order. ev may be an event being built (see AuthEventsNeeded). An event other
// than an m.room.create (which has no auth events) whose room_id is set and is not the room of
// the state's events is refused (a fatal [*Rejection] matching [ErrMalformed]), as
// [State.Check] refuses it.
func (s *State) AuthEvents(ev *pdu.Event) ([]*pdu.Event, error) {
	if s == nil {
		return nil, errNilState
	}
	keys, err := AuthEventsNeeded(s.v, ev)
	if err != nil {
		return nil, err
	}
	// An event of another room would list this room's events: every server would reject it
	// (rule 2.5 of v8, "auth event of another room"). An event being built may leave its
	// room_id empty.
	if ev.RoomID != "" && ev.Type != pdu.TypeCreate {
		if rej := s.otherRoom("the event", ev.RoomID); rej != nil {
			return nil, rej
		}
	}
	out := make([]*pdu.Event, 0, len(keys))
	for _, k := range keys {
		if e := s.events[k]; e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// creatorsOf returns the room creators named by a create event (see State.Creators).
func creatorsOf(v roomversion.Version, create *pdu.Event) []string {
	if v.Auth.CreatorInContent {
		if c, ok := create.ContentString("creator"); ok {
			return []string{c}
		}
		return nil
	}
	out := []string{create.Sender}
	if !v.Auth.InfiniteCreatorPower {
		return out
	}
	raw := create.ContentField("additional_creators")
	if canonicaljson.KindOf(raw) != canonicaljson.Array {
		return out
	}
	// seen replaces the linear search once the list is long: a 65,536-byte create event names
	// thousands of creators, and a search per entry would be quadratic.
	var seen map[string]struct{}
	_ = eachElement(raw, func(item []byte) error {
		if u, ok := stringValueOK(item); ok && ValidUserID(u) {
			if seen == nil && len(out) >= linearCreators {
				seen = make(map[string]struct{}, 2*len(out))
				for _, have := range out {
					seen[have] = struct{}{}
				}
			}
			if seen != nil {
				if _, dup := seen[u]; dup {
					return nil
				}
				seen[u] = struct{}{}
			} else if slices.Contains(out, u) {
				return nil
			}
			out = append(out, u)
		}
		return nil
	})
	return out
}

// linearCreators is the number of room creators up to which they are searched linearly;
// longer lists are looked up in a map (creatorsOf, PowerLevels.IsCreator).
const linearCreators = 8

// federateFalse reports whether the create content has m.federate set to JSON false.
func federateFalse(create *pdu.Event) bool {
	raw := create.ContentField("m.federate")
	return canonicaljson.KindOf(raw) == canonicaljson.Bool && raw[0] == 'f'
}

// eventIDOf returns the ID of ev: its EventID field when set, otherwise computed from its
// bytes (the reference hash, v3+).
func eventIDOf(v roomversion.Version, ev *pdu.Event) (string, error) {
	if ev.EventID != "" {
		return ev.EventID, nil
	}
	id, err := signing.EventID(v, ev.Raw())
	if err != nil {
		return "", err
	}
	if len(id) < 2 || id[0] != '$' {
		return "", fmt.Errorf("authrules: computed event ID %q is malformed", id)
	}
	return id, nil
}

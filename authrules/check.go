package authrules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// Options tunes a check. The zero value is ready to use.
type Options struct {
	// Keys verifies that an m.room.member event carrying join_authorised_via_users_server is
	// signed by that user's server (rule 4.2.1 of v8, which reads the key on every membership,
	// not only joins). When nil, the rule only requires that a signature by that server is
	// present, and reports a warning: the caller MUST then verify it. For a join, check 2 of
	// server-server-api "Checks performed on receipt of a PDU" already did
	// (signing.RequiredSigners lists the authoriser's server from v8); for any other membership
	// check 2 does not, so verify that signature with signing.VerifyEventSignature, or pass
	// Keys. (tools/scenarios S5: a leave carrying a forged authoriser signature passes with nil
	// Keys.)
	Keys signing.KeyLookup
	// Rejected holds the IDs of events that were themselves rejected. An auth event listed
	// here fails rule 2.3; from v12 a room whose create event is listed here fails rule 2.
	Rejected map[string]bool
	// Create is the room's m.room.create event (room version 12 and later, where it is not
	// among the auth events and the room ID names it). When nil, [CheckWithOptions] looks for
	// it among the events it is given (an m.room.create whose ID is the room ID) and
	// [State.CheckWithOptions] uses the state's. [State.CheckWithOptions] uses it only when
	// the state holds no m.room.create (a partial state), and refuses one of another room than
	// the state's events. Before room version 12 both ignore it (the create event is then one
	// of the auth events, rule 2.4, and part of the state), except that one parsed for another
	// room version is refused, as every event is.
	Create *pdu.Event
	// Warn, when not nil, receives the warnings (severity warn) of an accepted event.
	Warn func(*Rejection)
	// Allowed, when not nil, receives the number of the rule that allowed an accepted event,
	// once, as the room version's text numbers it: "4.3.5.3" for a v8 restricted join through
	// an authorising user, "1.5" for a v1-10 create event, "10" for a v6-v11 event no rule
	// refuses ("Otherwise, allow"). It is not called for a rejected event.
	Allowed func(rule string)
}

// Check authorises ev, an event of a room of version v, against its auth events (the events
// its `auth_events` names), following the authorization rules of v (rooms/v*.md; check 4 of
// server-server-api "Checks performed on receipt of a PDU"). keys may be nil (see
// [Options.Keys]). It returns nil when the event is allowed and a [*Rejection] otherwise; it
// does not check hashes or the signature of the sender's server. A v that Lookup would not
// return (the zero Version) is an error matching roomversion.ErrUnknownVersion, not a verdict.
//
// The auth events are matched to ev.AuthEvents by event ID (computed from their bytes when
// their EventID is empty); an ID without a matching event gives a rejection wrapping
// [ErrAuthEventMissing], and supplied events that ev does not list are ignored (with a
// warning), except for the room's m.room.create in v12 (see [Options.Create]).
//
// Every event must have been parsed for v ([pdu.Event.Version]): the event, an auth event or
// [Options.Create] parsed for another room version is refused with a fatal rejection matching
// [ErrMalformed] (its event ID, `redacts`, room ID and JSON were read by its own version's
// rules). An Event made by hand, whose Version is the zero Version, is read as an event of v.
func Check(v roomversion.Version, ev *pdu.Event, authEvents []*pdu.Event, keys signing.KeyLookup) error {
	return CheckWithOptions(v, ev, authEvents, Options{Keys: keys})
}

// CheckWithOptions is [Check] with options.
func CheckWithOptions(v roomversion.Version, ev *pdu.Event, authEvents []*pdu.Event, opts Options) error {
	if err := v.Check(); err != nil {
		return fmt.Errorf("authrules: %w", err)
	}
	if rej := checkAgainstAuthEvents(v, ev, authEvents, &opts); rej != nil {
		return rej
	}
	return nil
}

// Check authorises ev against this state — the state before the event (check 5 of
// "Checks performed on receipt of a PDU") or the current state of the room (check 6, soft
// failure) — following the authorization rules of the state's room version. It applies every
// rule except those about the event's own auth_events list (rule 2 of v8, 3 of v12: see
// [Check]). It returns nil when the event is allowed and a [*Rejection] otherwise (and, for a
// nil State, an error matching [ErrInvalidState], which is no verdict). keys may be nil (see
// [Options.Keys]). An event parsed for another room version than the state's is refused as
// [Check] refuses it; so is an event of another room than the state's events (in v12, when
// the state holds its create event, rule 2 rejects it), and an [Options.Create] of another
// room. An m.room.create is judged by rule 1 alone, which reads no state, whatever its room.
func (s *State) Check(ev *pdu.Event, keys signing.KeyLookup) error {
	if s == nil {
		return errNilState
	}
	opts := &noOptions // read-only: spares an allocation on the hot path
	if keys != nil {
		opts = &Options{Keys: keys}
	}
	if rej := s.check(ev, opts); rej != nil {
		return rej
	}
	return nil
}

// noOptions is the zero Options. It is never modified.
var noOptions Options

// CheckWithOptions is [State.Check] with options.
func (s *State) CheckWithOptions(ev *pdu.Event, opts Options) error {
	if s == nil {
		return errNilState
	}
	if rej := s.check(ev, &opts); rej != nil {
		return rej
	}
	return nil
}

// checker carries one check: the state it reads, the rule numbers and the options.
type checker struct {
	s    *State
	v    roomversion.Version
	nums *ruleNumbers
	opts *Options
}

func (c *checker) reject(r rule, sentinel error, reason string) *Rejection {
	return newRejection(c.nums[r], SeverityError, sentinel, reason)
}

func (c *checker) fatal(r rule, sentinel error, reason string) *Rejection {
	return newRejection(c.nums[r], SeverityFatal, sentinel, reason)
}

// allow records the rule that allowed the event and returns nil.
func (c *checker) allow(r rule) *Rejection {
	if c.opts.Allowed != nil {
		c.opts.Allowed(c.nums[r])
	}
	return nil
}

func (c *checker) warn(r rule, sentinel error, reason string) {
	if c.opts.Warn != nil {
		c.opts.Warn(newRejection(c.nums[r], SeverityWarn, sentinel, reason))
	}
}

func (s *State) check(ev *pdu.Event, opts *Options) *Rejection {
	if ev == nil {
		return newRejection("", SeverityFatal, ErrMalformed, "no event")
	}
	if rej := otherVersions(s.v, ev, opts); rej != nil {
		return rej
	}
	c := checker{s: s, v: s.v, nums: s.nums, opts: opts}
	if ev.Type == pdu.TypeCreate {
		// Rule 1 judges a create event on its own, without the state: whatever the room, its
		// verdict is Check's.
		return c.checkCreate(ev)
	}
	if c.v.Format.RoomIDFromCreateEvent && opts.Create != nil && opts.Create.Type == pdu.TypeCreate {
		if rej := s.otherRoom("Options.Create", s.roomOf(opts.Create)); rej != nil {
			return rej
		}
		if s.create == nil {
			s = s.withCreate(opts.Create)
			c.s = s
		}
	}
	if c.v.Format.RoomIDFromCreateEvent {
		if rej := c.checkRoomID(ev, s.create, s.roomID); rej != nil {
			return rej
		}
	}
	// v1-11 have no rule for it (rule 2 compares the auth events' rooms), nor has v12 for a state
	// without its create: a state judges the events of its own room only, as NewState and Apply
	// hold events of one room.
	if rej := s.otherRoom("the event", ev.RoomID); rej != nil {
		return rej
	}
	return c.checkDependent(ev)
}

// withCreate returns a copy of s, a state without create event, whose create event is create,
// for the rules of one check. The copy shares the events and members maps of s, and neither
// modifies them, so it costs nothing per state event: its events map does not hold create,
// which the rules read from the create field. Its power levels are those of s (which has no
// creators) with the creators of create, as derivePowerLevels would compute them.
func (s *State) withCreate(create *pdu.Event) *State {
	cp := *s
	cp.deriveCreateFrom(create)
	cp.pl = s.pl.withCreators(cp.v, cp.creators)
	return &cp
}

// checkAgainstAuthEvents is check 4: the event against its own auth events.
func checkAgainstAuthEvents(v roomversion.Version, ev *pdu.Event, authEvents []*pdu.Event, opts *Options) *Rejection {
	return checkAgainstAuthEventsWith(v, ev, authEvents, opts, newAuthState)
}

// newAuthState builds the State the rules after rule 2 read: the auth events entries (which
// rule 2 found distinct and selected) and, from v12, the room's create event.
func newAuthState(v roomversion.Version, entries []*pdu.Event, create *pdu.Event) (*State, error) {
	s, err := newEmptyState(v, len(entries)+1)
	if err != nil {
		return nil, err
	}
	fillAuthState(s, entries, create)
	s.derive()
	return s, nil
}

// fillAuthState puts the auth events entries (and the v12 create event) into s, whose maps
// must be empty; the caller then derives the create, power levels and join rules.
func fillAuthState(s *State, entries []*pdu.Event, create *pdu.Event) {
	for _, ae := range entries {
		s.events[StateKey{ae.Type, *ae.StateKey}] = ae
		if ae.Type == pdu.TypeMember {
			s.members[*ae.StateKey] = ae.Membership
		}
	}
	if s.v.Format.RoomIDFromCreateEvent && create != nil {
		s.events[StateKey{pdu.TypeCreate, ""}] = create
	}
}

// checkAgainstAuthEventsWith is check 4 with the State of the remaining rules made by build
// from the auth events entries and the v12 create event (CheckAuthChain reuses a State and
// caches what it derives).
func checkAgainstAuthEventsWith(v roomversion.Version, ev *pdu.Event, authEvents []*pdu.Event, opts *Options,
	build func(v roomversion.Version, entries []*pdu.Event, create *pdu.Event) (*State, error)) *Rejection {
	if ev == nil {
		return newRejection("", SeverityFatal, ErrMalformed, "no event")
	}
	if rej := otherVersions(v, ev, opts); rej != nil {
		return rej
	}
	nums := numbersFor(v.Auth.RuleSet)
	if nums == nil {
		return newRejection("", SeverityFatal, ErrMalformed, "room version "+strconv.Quote(v.ID)+" has an unknown rule set")
	}
	c := checker{v: v, nums: nums, opts: opts}
	if ev.Type == pdu.TypeCreate {
		return c.checkCreate(ev)
	}
	if len(authEvents) > maxSuppliedAuthEvents {
		return c.fatal(rAuth, ErrMalformed, strconv.Itoa(len(authEvents))+" auth events supplied, limit "+strconv.Itoa(maxSuppliedAuthEvents))
	}

	// Identify the supplied events.
	var idBuf [pdu.MaxAuthEvents + 2]string
	ids := idBuf[:0]
	for i, ae := range authEvents {
		if ae == nil {
			return c.fatal(rAuth, ErrMalformed, "auth event "+strconv.Itoa(i)+" is nil")
		}
		if why := otherVersion(v, ae, "auth event "+strconv.Itoa(i)); why != "" {
			return c.fatal(rAuth, ErrMalformed, why)
		}
		id, err := eventIDOf(v, ae)
		if err != nil {
			return c.fatal(rAuth, ErrMalformed, "auth event "+strconv.Itoa(i)+": cannot compute its event ID: "+err.Error())
		}
		ids = append(ids, id)
	}

	// v12: the room's create event, named by the room ID.
	create := opts.Create
	if v.Format.RoomIDFromCreateEvent && create == nil {
		for i, ae := range authEvents {
			if ae.Type == pdu.TypeCreate && "!"+ids[i][1:] == ev.RoomID {
				create = ae
				break
			}
		}
	}
	var roomID string
	if v.Format.RoomIDFromCreateEvent {
		if create != nil {
			if id, err := eventIDOf(v, create); err == nil {
				roomID = "!" + id[1:]
			}
		}
		if rej := c.checkRoomID(ev, create, roomID); rej != nil {
			return rej
		}
	}

	// The entries of auth_events, in order.
	var entryBuf [pdu.MaxAuthEvents]*pdu.Event
	entries := entryBuf[:0]
	var entryIDs [pdu.MaxAuthEvents]string
	for _, want := range ev.AuthEvents {
		found := -1
		for i := range authEvents {
			if ids[i] == want {
				found = i
				break
			}
		}
		if found < 0 {
			return c.reject(rAuth, ErrAuthEventMissing, "auth event "+want+" was not supplied")
		}
		if len(entries) == len(entryBuf) {
			return c.fatal(rAuth, ErrMalformed, "more than "+strconv.Itoa(pdu.MaxAuthEvents)+" auth events")
		}
		entryIDs[len(entries)] = want
		entries = append(entries, authEvents[found])
	}
	if c.opts.Warn != nil {
		for i, ae := range authEvents {
			listed := false
			for _, want := range ev.AuthEvents {
				listed = listed || want == ids[i]
			}
			if !listed && ae != create {
				c.warn(rAuth, ErrAuthEventUnexpected, "supplied event "+ids[i]+" is not in auth_events; ignored")
			}
		}
	}

	var mc memberContent
	if ev.Type == pdu.TypeMember {
		var err error
		if mc, err = parseMemberContent(ev.Content); err != nil {
			return c.fatal(rMemberMalformed, ErrMalformed, "content of m.room.member: "+err.Error())
		}
	}
	if rej := c.checkAuthEntries(ev, &mc, entries, entryIDs[:len(entries)]); rej != nil {
		return rej
	}

	// The state the remaining rules read: the auth events (and the room's create event).
	s, err := build(v, entries, create)
	if err != nil {
		return c.fatal(rAuth, ErrMalformed, err.Error())
	}
	c.s = s
	return c.checkDependentMember(ev, &mc)
}

// maxSuppliedAuthEvents bounds the events a caller may supply to Check: the auth events
// (pdu.MaxAuthEvents) and the room's create event.
const maxSuppliedAuthEvents = 4 * pdu.MaxAuthEvents

// checkAuthEntries applies rule 2 of v8 (rule 3 of v12): the event's auth_events themselves.
func (c *checker) checkAuthEntries(ev *pdu.Event, mc *memberContent, entries []*pdu.Event, ids []string) *Rejection {
	// 2.1 duplicate (type, state_key) pairs.
	for i, a := range entries {
		for j := 0; j < i; j++ {
			b := entries[j]
			if a.Type == b.Type && sameStateKey(a.StateKey, b.StateKey) {
				return c.reject(rAuthDuplicate, ErrAuthEventDuplicate,
					"auth events "+ids[j]+" and "+ids[i]+" are both ("+a.Type+", "+stateKeyText(a.StateKey)+")")
			}
		}
	}
	// 2.2 entries the auth events selection does not pick.
	var buf [maxNeeded]StateKey
	needed := appendNeeded(buf[:0], c.v, ev, mc)
	for i, a := range entries {
		ok := false
		if a.StateKey != nil {
			k := StateKey{a.Type, *a.StateKey}
			for _, n := range needed {
				if n == k {
					ok = true
					break
				}
			}
		}
		if !ok {
			reason := "auth event " + ids[i] + " (" + a.Type + ", " + stateKeyText(a.StateKey) + ") is not selected for this event"
			if a.Type == pdu.TypeCreate && !c.v.Auth.SelectCreateEvent {
				reason += " (m.room.create MUST NOT be selected in this room version)"
			}
			return c.reject(rAuthUnexpected, ErrAuthEventUnexpected, reason)
		}
	}
	// 2.3 entries that were rejected.
	for i := range entries {
		if c.opts.Rejected[ids[i]] {
			return c.reject(rAuthRejected, ErrAuthEventRejected, "auth event "+ids[i]+" was rejected")
		}
	}
	// 2.4 no m.room.create (v1-11).
	if c.v.Auth.SelectCreateEvent {
		found := false
		for _, a := range entries {
			found = found || a.Type == pdu.TypeCreate
		}
		if !found {
			return c.reject(rAuthNoCreate, ErrAuthEventNoCreate, "no m.room.create among the auth events")
		}
	}
	// 2.5 entries of another room.
	for i, a := range entries {
		if a.RoomID != ev.RoomID {
			return c.reject(rAuthWrongRoom, ErrAuthEventWrongRoom,
				"auth event "+ids[i]+" has room_id "+strconv.Quote(a.RoomID)+", the event "+strconv.Quote(ev.RoomID))
		}
	}
	return nil
}

func sameStateKey(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func stateKeyText(sk *string) string {
	if sk == nil {
		return "no state_key"
	}
	return strconv.Quote(*sk)
}

// checkCreate applies rule 1: m.room.create.
func (c *checker) checkCreate(ev *pdu.Event) *Rejection {
	// 1.1
	if len(ev.PrevEvents) > 0 {
		return c.reject(rCreatePrev, ErrCreatePrevEvents, "m.room.create has "+strconv.Itoa(len(ev.PrevEvents))+" prev_events")
	}
	// 1.2
	if c.v.Auth.CreateRoomIDDomain {
		rd, rok := domainOf(ev.RoomID)
		sd, sok := domainOf(ev.Sender)
		if !rok || !sok || rd != sd {
			return c.reject(rCreateRoomID, ErrCreateRoomID,
				"room_id "+strconv.Quote(ev.RoomID)+" domain does not match sender "+strconv.Quote(ev.Sender)+" domain")
		}
	} else if ev.HasKey("room_id") {
		return c.reject(rCreateRoomID, ErrCreateRoomID, "m.room.create has a room_id (the room ID is the create event's ID)")
	}
	var roomVersion, additional []byte
	var haveCreator bool
	err := canonicaljson.EachMember(ev.Content, func(key string, value []byte) error {
		switch key {
		case "room_version":
			roomVersion = value
		case "creator":
			haveCreator = true
		case "additional_creators":
			additional = value
		}
		return nil
	})
	if err != nil {
		return c.fatal(rCreateVersion, ErrMalformed, "content of m.room.create: "+err.Error())
	}
	// 1.3
	contentVersion := "1"
	if roomVersion != nil {
		s, ok := stringValueOK(roomVersion)
		if !ok || !roomversion.Known(s) {
			return c.reject(rCreateVersion, ErrCreateRoomVersion, "content.room_version "+describe(roomVersion)+" is not a recognised room version")
		}
		contentVersion = s
	}
	if contentVersion != c.v.ID && c.opts.Warn != nil {
		c.warn(rCreateVersion, ErrCreateRoomVersion, "content.room_version is "+strconv.Quote(contentVersion)+" but the event is checked as room version "+strconv.Quote(c.v.ID))
	}
	// 1.4 (v1-10): creator.
	if c.v.Auth.CreatorInContent && !haveCreator {
		return c.fatal(rCreateCreator, ErrCreateNoCreator, "content has no creator")
	}
	// 1.4 (v12): additional_creators.
	if c.v.Auth.InfiniteCreatorPower && additional != nil {
		if canonicaljson.KindOf(additional) != canonicaljson.Array {
			return c.reject(rCreateAdditional, ErrCreateAdditionalCreators, "content.additional_creators is "+describe(additional)+", not an array")
		}
		var bad *Rejection
		_ = eachElement(additional, func(item []byte) error {
			u, ok := stringValueOK(item)
			if !ok || !ValidUserID(u) {
				bad = c.reject(rCreateAdditional, ErrCreateAdditionalCreators, "content.additional_creators entry "+describe(item)+" is not a valid user ID")
				return errStop
			}
			return nil
		})
		if bad != nil {
			return bad
		}
	}
	return c.allow(rCreateAllow)
}

// checkRoomID applies rule 2 of v12: the room ID is the ID of an accepted m.room.create.
func (c *checker) checkRoomID(ev *pdu.Event, create *pdu.Event, roomID string) *Rejection {
	if create == nil {
		return c.reject(rRoomID, ErrRoomIDNotCreate, "the m.room.create event of room "+strconv.Quote(ev.RoomID)+" is not known")
	}
	if create.Type != pdu.TypeCreate {
		return c.reject(rRoomID, ErrRoomIDNotCreate, "the room's create event has type "+strconv.Quote(create.Type))
	}
	if roomID == "" {
		return c.reject(rRoomID, ErrRoomIDNotCreate, "the event ID of the room's m.room.create cannot be computed")
	}
	if ev.RoomID != roomID {
		return c.reject(rRoomID, ErrRoomIDNotCreate, "room_id "+strconv.Quote(ev.RoomID)+" is not the create event's room ID "+strconv.Quote(roomID))
	}
	if len(c.opts.Rejected) > 0 && c.opts.Rejected["$"+roomID[1:]] {
		return c.reject(rRoomID, ErrRoomIDNotCreate, "the m.room.create "+"$"+roomID[1:]+" was rejected")
	}
	return nil
}

// checkDependent applies the rules from rule 3 (v8) on, against c.s.
func (c *checker) checkDependent(ev *pdu.Event) *Rejection {
	var mc memberContent
	if ev.Type == pdu.TypeMember {
		var err error
		if mc, err = parseMemberContent(ev.Content); err != nil {
			return c.fatal(rMemberMalformed, ErrMalformed, "content of m.room.member: "+err.Error())
		}
	}
	return c.checkDependentMember(ev, &mc)
}

func (c *checker) checkDependentMember(ev *pdu.Event, mc *memberContent) *Rejection {
	s := c.s
	if s.create == nil {
		return c.reject(rAuthNoCreate, ErrAuthEventNoCreate, "no m.room.create event")
	}
	// 3: m.federate.
	if rej := s.federationRejection(ev.Sender); rej != nil {
		return rej
	}
	// 4 (v1-5): m.room.aliases.
	if c.v.Auth.SpecialCaseAliases && ev.Type == pdu.TypeAliases {
		if ev.StateKey == nil {
			return c.fatal(rAliasesNoStateKey, ErrAliases, "m.room.aliases has no state_key")
		}
		if d, ok := domainOf(ev.Sender); !ok || d != *ev.StateKey {
			return c.reject(rAliasesDomain, ErrAliases,
				"state_key "+strconv.Quote(*ev.StateKey)+" is not the domain of sender "+strconv.Quote(ev.Sender))
		}
		return c.allow(rAliasesAllow)
	}
	// 4: m.room.member.
	if ev.Type == pdu.TypeMember {
		return c.checkMember(ev, mc)
	}
	// 5: the sender must be joined.
	if m := s.members[ev.Sender]; m != pdu.MembershipJoin {
		return c.reject(rSenderNotJoined, ErrSenderNotJoined, "sender "+strconv.Quote(ev.Sender)+" has membership "+membershipText(m))
	}
	pl := s.pl
	senderLevel := pl.userLevel(ev.Sender)
	// 6: m.room.third_party_invite.
	if ev.Type == pdu.TypeThirdPartyInvite {
		invite := pl.namedLevel(nInvite)
		if !levelLess(senderLevel, invite) {
			return c.allow(rThirdPartyInvite)
		}
		return c.reject(rThirdPartyInvite, ErrInsufficientPower,
			"sender level "+senderLevel.text()+" is below the invite level "+invite.text())
	}
	// 7: the required power level.
	if required := pl.eventLevel(ev.Type, ev.StateKey != nil); levelLess(senderLevel, required) {
		return c.reject(rRequiredPower, ErrInsufficientPower,
			"sender level "+senderLevel.text()+" is below the level "+required.text()+" required for "+strconv.Quote(ev.Type))
	}
	// 8: state keys naming users.
	if ev.StateKey != nil && strings.HasPrefix(*ev.StateKey, "@") && *ev.StateKey != ev.Sender {
		return c.reject(rStateKey, ErrStateKeyNotSender, "state_key "+strconv.Quote(*ev.StateKey)+" is not the sender "+strconv.Quote(ev.Sender))
	}
	// 9: m.room.power_levels.
	if ev.Type == pdu.TypePowerLevels {
		return c.checkPowerLevels(ev, senderLevel)
	}
	// 11 (v1-2): m.room.redaction.
	if c.v.Auth.RedactionRule && ev.Type == pdu.TypeRedaction {
		redact := pl.namedLevel(nRedact)
		if !levelLess(senderLevel, redact) {
			return c.allow(rRedactionLevel)
		}
		if sameDomain(ev.Redacts, ev.EventID) {
			return c.allow(rRedactionDomain)
		}
		return c.reject(rRedactionOtherwise, ErrRedactionNotAllowed,
			"sender level "+senderLevel.text()+" is below the redact level "+redact.text()+
				" and redacted event "+strconv.Quote(ev.Redacts)+" is not from the domain of "+strconv.Quote(ev.EventID))
	}
	return c.allow(rAllow)
}

func membershipText(m string) string {
	if m == "" {
		return "none"
	}
	return strconv.Quote(m)
}

// checkMember applies rule 4 of v8: m.room.member.
func (c *checker) checkMember(ev *pdu.Event, mc *memberContent) *Rejection {
	s := c.s
	// 4.1
	if ev.StateKey == nil {
		return c.fatal(rMemberMalformed, ErrMalformed, "m.room.member has no state_key")
	}
	if !mc.hasMembership {
		return c.fatal(rMemberMalformed, ErrMalformed, "m.room.member content has no membership")
	}
	target := *ev.StateKey
	// 4.2 (v8+): join_authorised_via_users_server must have signed.
	if c.v.Auth.RestrictedJoinRule && mc.hasAuthoriser {
		if rej := c.checkAuthoriserSignature(ev, mc); rej != nil {
			return rej
		}
	}
	senderMembership := s.members[ev.Sender]
	switch ev.Membership {
	case pdu.MembershipJoin:
		return c.checkJoin(ev, mc, target, senderMembership)
	case pdu.MembershipInvite:
		return c.checkInvite(ev, mc, target, senderMembership)
	case pdu.MembershipLeave:
		return c.checkLeave(ev, target, senderMembership)
	case pdu.MembershipBan:
		return c.checkBan(ev, target, senderMembership)
	case pdu.MembershipKnock:
		if c.v.Auth.Knocking {
			return c.checkKnock(ev, target, senderMembership)
		}
	}
	m := strconv.Quote(ev.Membership)
	if ev.Membership == "" {
		m = "not a string"
	}
	return c.reject(rMemberUnknown, ErrUnknownMembership, "membership "+m+" is unknown in room version "+c.v.ID)
}

func (c *checker) checkAuthoriserSignature(ev *pdu.Event, mc *memberContent) *Rejection {
	if !mc.authoriserString || !ValidUserID(mc.authoriser) {
		return c.reject(rAuthoriserSignature, ErrAuthoriserSignature,
			"join_authorised_via_users_server "+describe(objectMember(ev.Content, "join_authorised_via_users_server"))+" is not a valid user ID")
	}
	server, _ := domainOf(mc.authoriser)
	if c.opts.Keys != nil {
		if err := signing.VerifyEventSignature(ev, server, c.opts.Keys); err != nil {
			return c.reject(rAuthoriserSignature, ErrAuthoriserSignature,
				"no valid signature by "+strconv.Quote(server)+", the server of authorising user "+strconv.Quote(mc.authoriser)+": "+err.Error())
		}
		return nil
	}
	if !ev.Signatures.Signed(server) {
		return c.reject(rAuthoriserSignature, ErrAuthoriserSignature,
			"no signature by "+strconv.Quote(server)+", the server of authorising user "+strconv.Quote(mc.authoriser))
	}
	if c.opts.Warn != nil {
		c.warn(rAuthoriserSignature, ErrAuthoriserSignature,
			"signature by "+strconv.Quote(server)+" present but not verified (no keys given): the caller must verify it")
	}
	return nil
}

func (c *checker) checkJoin(ev *pdu.Event, mc *memberContent, target, senderMembership string) *Rejection {
	s := c.s
	// 4.3.1: the creator's first join.
	if len(ev.PrevEvents) == 1 && len(s.creators) > 0 {
		// The creator of 4.3.1 (content.creator in v1-10, the create sender from v11) is the
		// first of the room creators (creatorsOf).
		if creator := s.creators[0]; creator == target {
			if id, err := eventIDOf(c.v, s.create); err == nil && ev.PrevEvents[0] == id {
				return c.allow(rJoinCreator)
			}
		}
	}
	// 4.3.2
	if ev.Sender != target {
		return c.reject(rJoinNotSelf, ErrSenderNotTarget, "sender "+strconv.Quote(ev.Sender)+" cannot join "+strconv.Quote(target))
	}
	// 4.3.3
	if senderMembership == pdu.MembershipBan {
		return c.reject(rJoinBanned, ErrBanned, "sender "+strconv.Quote(ev.Sender)+" is banned")
	}
	rule := s.joinRules.Rule
	invited := senderMembership == pdu.MembershipInvite || senderMembership == pdu.MembershipJoin
	switch {
	// 4.3.4
	case rule == JoinRuleInvite || (c.v.Auth.Knocking && rule == JoinRuleKnock):
		if invited {
			return c.allow(rJoinInvite)
		}
	// 4.3.5 (v8+; knock_restricted from v10)
	case (c.v.Auth.RestrictedJoinRule && rule == JoinRuleRestricted) || (c.v.Auth.KnockRestrictedJoinRule && rule == JoinRuleKnockRestricted):
		if invited {
			return c.allow(rJoinRestrictedMember)
		}
		return c.checkRestrictedAuthoriser(mc)
	// 4.3.6
	case rule == JoinRulePublic:
		return c.allow(rJoinPublic)
	}
	// 4.3.7
	return c.reject(rJoinOtherwise, ErrJoinNotAllowed,
		"join rule "+joinRuleText(rule)+" does not let "+strconv.Quote(ev.Sender)+" join from membership "+membershipText(senderMembership))
}

func joinRuleText(r string) string {
	if r == "" {
		return "(not a string)"
	}
	return strconv.Quote(r)
}

// checkRestrictedAuthoriser applies rule 4.3.5.2: the authorising user must be joined and able
// to invite.
func (c *checker) checkRestrictedAuthoriser(mc *memberContent) *Rejection {
	if !mc.hasAuthoriser || !mc.authoriserString {
		return c.reject(rJoinRestrictedAuthoriser, ErrRestrictedAuthoriser, "restricted join without join_authorised_via_users_server")
	}
	s := c.s
	a := mc.authoriser
	if m := s.members[a]; m != pdu.MembershipJoin {
		return c.reject(rJoinRestrictedAuthoriser, ErrRestrictedAuthoriser,
			"authorising user "+strconv.Quote(a)+" has membership "+membershipText(m)+", not \"join\"")
	}
	if lvl, inv := s.pl.userLevel(a), s.pl.namedLevel(nInvite); levelLess(lvl, inv) {
		return c.reject(rJoinRestrictedAuthoriser, ErrRestrictedAuthoriser,
			"authorising user "+strconv.Quote(a)+" has level "+lvl.text()+", below the invite level "+inv.text())
	}
	return c.allow(rJoinRestrictedAllow)
}

func (c *checker) checkInvite(ev *pdu.Event, mc *memberContent, target, senderMembership string) *Rejection {
	s := c.s
	pl := s.pl
	targetMembership := s.members[target]
	// 4.4.1: third-party invites.
	if mc.thirdParty != nil {
		return c.checkThirdPartyInvite(ev, mc, target, targetMembership)
	}
	// 4.4.2
	if senderMembership != pdu.MembershipJoin {
		return c.reject(rInviteSenderNotJoined, ErrSenderNotJoined, "sender "+strconv.Quote(ev.Sender)+" has membership "+membershipText(senderMembership))
	}
	// 4.4.3
	switch targetMembership {
	case pdu.MembershipJoin:
		return c.reject(rInviteTarget, ErrTargetJoined, "target "+strconv.Quote(target)+" is already joined")
	case pdu.MembershipBan:
		return c.reject(rInviteTarget, ErrBanned, "target "+strconv.Quote(target)+" is banned")
	}
	// 4.4.4
	lvl, invite := pl.userLevel(ev.Sender), pl.namedLevel(nInvite)
	if !levelLess(lvl, invite) {
		return c.allow(rInvitePower)
	}
	// 4.4.5
	return c.reject(rInviteOtherwise, ErrInsufficientPower, "sender level "+lvl.text()+" is below the invite level "+invite.text())
}

func (c *checker) checkLeave(ev *pdu.Event, target, senderMembership string) *Rejection {
	s := c.s
	pl := s.pl
	// 4.5.1
	if ev.Sender == target {
		switch senderMembership {
		case pdu.MembershipInvite, pdu.MembershipJoin:
			return c.allow(rLeaveSelf)
		case pdu.MembershipKnock:
			if c.v.Auth.Knocking {
				return c.allow(rLeaveSelf)
			}
		}
		return c.reject(rLeaveSelf, ErrLeaveNotAllowed, "sender "+strconv.Quote(ev.Sender)+" cannot leave from membership "+membershipText(senderMembership))
	}
	// 4.5.2
	if senderMembership != pdu.MembershipJoin {
		return c.reject(rLeaveSenderNotJoined, ErrSenderNotJoined, "sender "+strconv.Quote(ev.Sender)+" has membership "+membershipText(senderMembership))
	}
	senderLevel := pl.userLevel(ev.Sender)
	// 4.5.3
	if s.members[target] == pdu.MembershipBan {
		if ban := pl.namedLevel(nBan); levelLess(senderLevel, ban) {
			return c.reject(rLeaveBan, ErrInsufficientPower,
				"target "+strconv.Quote(target)+" is banned and sender level "+senderLevel.text()+" is below the ban level "+ban.text())
		}
	}
	// 4.5.4
	targetLevel, kick := pl.userLevel(target), pl.namedLevel(nKick)
	if !levelLess(senderLevel, kick) && levelLess(targetLevel, senderLevel) {
		return c.allow(rLeaveKick)
	}
	// 4.5.5
	return c.reject(rLeaveOtherwise, ErrInsufficientPower,
		"sender level "+senderLevel.text()+" against kick level "+kick.text()+" and target level "+targetLevel.text())
}

func (c *checker) checkBan(ev *pdu.Event, target, senderMembership string) *Rejection {
	pl := c.s.pl
	// 4.6.1
	if senderMembership != pdu.MembershipJoin {
		return c.reject(rBanSenderNotJoined, ErrSenderNotJoined, "sender "+strconv.Quote(ev.Sender)+" has membership "+membershipText(senderMembership))
	}
	// 4.6.2
	senderLevel, targetLevel, ban := pl.userLevel(ev.Sender), pl.userLevel(target), pl.namedLevel(nBan)
	if !levelLess(senderLevel, ban) && levelLess(targetLevel, senderLevel) {
		return c.allow(rBanPower)
	}
	// 4.6.3
	return c.reject(rBanOtherwise, ErrInsufficientPower,
		"sender level "+senderLevel.text()+" against ban level "+ban.text()+" and target level "+targetLevel.text())
}

func (c *checker) checkKnock(ev *pdu.Event, target, senderMembership string) *Rejection {
	rule := c.s.joinRules.Rule
	// 4.7.1
	if rule != JoinRuleKnock && !(c.v.Auth.KnockRestrictedJoinRule && rule == JoinRuleKnockRestricted) {
		return c.reject(rKnockJoinRule, ErrKnockNotAllowed, "join rule "+joinRuleText(rule)+" does not allow knocking")
	}
	// 4.7.2
	if ev.Sender != target {
		return c.reject(rKnockNotSelf, ErrSenderNotTarget, "sender "+strconv.Quote(ev.Sender)+" cannot knock for "+strconv.Quote(target))
	}
	// 4.7.3
	switch senderMembership {
	case pdu.MembershipBan, pdu.MembershipInvite, pdu.MembershipJoin:
	default:
		return c.allow(rKnockAllow)
	}
	// 4.7.4
	return c.reject(rKnockOtherwise, ErrKnockNotAllowed, "sender "+strconv.Quote(ev.Sender)+" cannot knock from membership "+membershipText(senderMembership))
}

// checkThirdPartyInvite applies rule 4.4.1.
func (c *checker) checkThirdPartyInvite(ev *pdu.Event, mc *memberContent, target, targetMembership string) *Rejection {
	// 4.4.1.1
	if targetMembership == pdu.MembershipBan {
		return c.reject(rInvite3pBanned, ErrBanned, "target "+strconv.Quote(target)+" is banned")
	}
	// 4.4.1.2
	signed := objectMember(mc.thirdParty, "signed")
	if signed == nil {
		return c.fatal(rInvite3pNoSigned, ErrThirdPartyInvite, "content.third_party_invite has no signed property")
	}
	// 4.4.1.3
	mxidRaw, tokenRaw := objectMember(signed, "mxid"), objectMember(signed, "token")
	if mxidRaw == nil || tokenRaw == nil {
		return c.fatal(rInvite3pNoMxidToken, ErrThirdPartyInvite, "third_party_invite.signed lacks mxid or token")
	}
	// 4.4.1.4
	if mxid, ok := stringValueOK(mxidRaw); !ok || mxid != target {
		return c.reject(rInvite3pMxid, ErrThirdPartyInvite, "signed.mxid "+describe(mxidRaw)+" does not match state_key "+strconv.Quote(target))
	}
	// 4.4.1.5
	token, ok := stringValueOK(tokenRaw)
	var invite *pdu.Event
	if ok {
		invite = c.s.Get(pdu.TypeThirdPartyInvite, token)
	}
	if invite == nil {
		return c.reject(rInvite3pNoEvent, ErrThirdPartyInvite, "no m.room.third_party_invite with state_key "+describe(tokenRaw))
	}
	// 4.4.1.6
	if invite.Sender != ev.Sender {
		return c.reject(rInvite3pSender, ErrThirdPartyInvite,
			"sender "+strconv.Quote(ev.Sender)+" is not the sender "+strconv.Quote(invite.Sender)+" of the m.room.third_party_invite")
	}
	// 4.4.1.7
	// Every public key is tried against every signature, so the work is keys × signatures;
	// both lists come from untrusted events. Bound it (SECURITY.md, docs/decisions.md).
	nKeys, nSigs := countPublicKeys(invite.Content), countSignatures(signed)
	if nKeys*nSigs > MaxThirdPartyInviteChecks {
		return c.reject(rInvite3pOtherwise, ErrThirdPartyInvite, fmt.Sprintf(
			"%d public keys × %d signatures exceed the limit of %d signature checks for one third-party invite",
			nKeys, nSigs, MaxThirdPartyInviteChecks))
	}
	found := false
	if obj, err := signing.ParseSignedObject(signed); err == nil { // read once for every key
		_ = eachPublicKey(invite.Content, func(pub []byte) bool {
			found = obj.HasValidSignature(pub)
			return !found
		})
	}
	if found {
		return c.allow(rInvite3pSignature)
	}
	// 4.4.1.8
	return c.reject(rInvite3pOtherwise, ErrThirdPartyInvite, "no signature in signed matches a public key of the m.room.third_party_invite")
}

// MaxThirdPartyInviteChecks bounds the signature verifications of rule 4.4.1.7 (v8 numbering):
// an invite whose `signed` block and m.room.third_party_invite would need more (public keys ×
// ed25519 signatures) is rejected under the "otherwise, reject" rule. The spec sets no limit, so
// the bound is set where only a crafted invite reaches it: a 65,536-byte
// m.room.third_party_invite holds at most about 1,070 public keys, so no invite with seven
// signatures or fewer in `signed` is ever refused for it (real invites carry one or two keys
// and one signature), while one invite costs at most 8,192 verifications (about half a second)
// where the event size alone would allow about 700,000.
const MaxThirdPartyInviteChecks = 8192

// countPublicKeys counts the public keys eachPublicKey would try.
func countPublicKeys(content []byte) int {
	n := 0
	_ = eachPublicKey(content, func([]byte) bool { n++; return true })
	return n
}

// countSignatures counts the signatures of a signed JSON object (`signatures` → server → key ID)
// that signing.HasValidSignature tries: string values of key IDs that start with "ed25519:".
func countSignatures(obj []byte) int {
	n := 0
	sigs := objectMember(obj, "signatures")
	if canonicaljson.KindOf(sigs) != canonicaljson.Object {
		return 0
	}
	_ = canonicaljson.EachMember(sigs, func(_ string, server []byte) error {
		if canonicaljson.KindOf(server) == canonicaljson.Object {
			_ = canonicaljson.EachMember(server, func(keyID string, sig []byte) error {
				if strings.HasPrefix(keyID, "ed25519:") && canonicaljson.KindOf(sig) == canonicaljson.String {
					n++
				}
				return nil
			})
		}
		return nil
	})
	return n
}

// eachPublicKey calls fn with each ed25519 public key of an m.room.third_party_invite content:
// `public_key`, then the `public_key` of each entry of `public_keys`, decoded from unpadded
// base64 in the standard or URL-safe alphabet (m.room.third_party_invite.yaml). Keys that do
// not decode to 32 bytes are skipped. fn returns false to stop.
func eachPublicKey(content []byte, fn func(pub []byte) bool) error {
	var single, list []byte
	err := canonicaljson.EachMember(content, func(key string, value []byte) error {
		switch key {
		case "public_key":
			single = value
		case "public_keys":
			list = value
		}
		return nil
	})
	if err != nil {
		return err
	}
	if k, ok := decodePublicKey(single); ok && !fn(k) {
		return nil
	}
	if canonicaljson.KindOf(list) != canonicaljson.Array {
		return nil
	}
	return eachElement(list, func(item []byte) error {
		if k, ok := decodePublicKey(objectMember(item, "public_key")); ok && !fn(k) {
			return errStop
		}
		return nil
	})
}

func decodePublicKey(raw []byte) ([]byte, bool) {
	s, ok := stringValueOK(raw)
	if !ok {
		return nil, false
	}
	k, err := signing.DecodePublicKey(s) // the base64 every signing function reads
	return k, err == nil
}

// checkPowerLevels applies rule 9 of v8 (rule 10 of v12): m.room.power_levels. Every
// comparison is exact, whatever the size of the levels (levelValue).
func (c *checker) checkPowerLevels(ev *pdu.Event, senderLevel levelValue) *Rejection {
	s := c.s
	// 9.1 (v10+: 9.1-9.3): the content's values.
	next, rej := parsePowerLevels(c.v, ev.Content, true)
	if rej != nil {
		return rej
	}
	// 10.4 (v12): no room creator in users.
	if c.v.Auth.InfiniteCreatorPower {
		for _, cr := range s.creators {
			if _, ok := next.UserLevelSet(cr); ok {
				return c.reject(rPLCreators, ErrPowerLevelsInvalid, "users names room creator "+strconv.Quote(cr))
			}
		}
	}
	// 9.2: no previous power levels.
	if s.Get(pdu.TypePowerLevels, "") == nil {
		return c.allow(rPLNoPrevious)
	}
	prev := s.pl
	// 9.3: the named levels.
	for i := 0; i < numNamed; i++ {
		bit := uint8(1) << i
		oldSet, newSet := prev.present&bit != 0, next.present&bit != 0
		oldV, newV := prev.namedLevel(i), next.namedLevel(i)
		if !oldSet && !newSet || oldSet && newSet && levelsEqual(oldV, newV) {
			continue
		}
		if oldSet && levelLess(senderLevel, oldV) {
			return c.reject(rPLNamedOld, ErrInsufficientPower,
				namedKeys[i]+" is changed from "+oldV.text()+", above sender level "+senderLevel.text())
		}
		if newSet && levelLess(senderLevel, newV) {
			return c.reject(rPLNamedNew, ErrInsufficientPower,
				namedKeys[i]+" is set to "+newV.text()+", above sender level "+senderLevel.text())
		}
	}
	notifications := c.v.Auth.NotificationsPowerLevels
	// 9.4: entries of events (and notifications, v6+) changed or removed.
	if rej := c.checkMapOld(kindEvents, prev, next, senderLevel); rej != nil {
		return rej
	}
	if notifications {
		if rej := c.checkMapOld(kindNotifications, prev, next, senderLevel); rej != nil {
			return rej
		}
	}
	// 9.5: entries added or changed.
	if rej := c.checkMapNew(kindEvents, prev, next, senderLevel); rej != nil {
		return rej
	}
	if notifications {
		if rej := c.checkMapNew(kindNotifications, prev, next, senderLevel); rej != nil {
			return rej
		}
	}
	// 9.6: users changed or removed, other than the sender's own entry.
	var failure *Rejection
	diffLevels(kindUsers, prev, next, func(key string, oldV, newV levelValue, oldSet, newSet bool) bool {
		if oldSet && key != ev.Sender && !levelLess(oldV, senderLevel) {
			failure = c.reject(rPLUsersOld, ErrInsufficientPower,
				"users["+strconv.Quote(key)+"] is changed from "+oldV.text()+", not below sender level "+senderLevel.text())
			return false
		}
		return true
	})
	if failure != nil {
		return failure
	}
	// 9.7: users added or changed.
	diffLevels(kindUsers, prev, next, func(key string, oldV, newV levelValue, oldSet, newSet bool) bool {
		if newSet && levelLess(senderLevel, newV) {
			failure = c.reject(rPLUsersNew, ErrInsufficientPower,
				"users["+strconv.Quote(key)+"] is set to "+newV.text()+", above sender level "+senderLevel.text())
			return false
		}
		return true
	})
	if failure != nil {
		return failure
	}
	return c.allow(rPLAllow)
}

// kindName is the content key of events or notifications, for rejection messages.
func kindName(kind levelKind) string {
	if kind == kindNotifications {
		return "notifications"
	}
	return "events"
}

func (c *checker) checkMapOld(kind levelKind, prev, next *PowerLevels, senderLevel levelValue) *Rejection {
	var failure *Rejection
	diffLevels(kind, prev, next, func(key string, oldV, _ levelValue, oldSet, _ bool) bool {
		if oldSet && levelLess(senderLevel, oldV) {
			failure = c.reject(rPLMapOld, ErrInsufficientPower,
				kindName(kind)+"["+strconv.Quote(key)+"] is changed from "+oldV.text()+", above sender level "+senderLevel.text())
			return false
		}
		return true
	})
	return failure
}

func (c *checker) checkMapNew(kind levelKind, prev, next *PowerLevels, senderLevel levelValue) *Rejection {
	var failure *Rejection
	diffLevels(kind, prev, next, func(key string, _, newV levelValue, _, newSet bool) bool {
		if newSet && levelLess(senderLevel, newV) {
			failure = c.reject(rPLMapNew, ErrInsufficientPower,
				kindName(kind)+"["+strconv.Quote(key)+"] is set to "+newV.text()+", above sender level "+senderLevel.text())
			return false
		}
		return true
	})
	return failure
}

// diffLevels calls fn, in key order, for every key of users, events or notifications (kind)
// added, changed or removed between the levels prev and next, until fn returns false. A key
// is changed when its exact values differ (so "50" replacing 50 is not a change, and
// "100000000000000000002" replacing "100000000000000000001" is).
func diffLevels(kind levelKind, prev, next *PowerLevels, fn func(key string, oldV, newV levelValue, oldSet, newSet bool) bool) {
	ps, ns := prev.levels(kind), next.levels(kind)
	i, j := 0, 0
	for i < len(ps) || j < len(ns) {
		switch {
		case j >= len(ns) || i < len(ps) && ps[i].key < ns[j].key: // removed
			if !fn(ps[i].key, prev.exact(kind, ps[i].key, ps[i].value), levelValue{}, true, false) {
				return
			}
			i++
		case i >= len(ps) || ns[j].key < ps[i].key: // added
			if !fn(ns[j].key, levelValue{}, next.exact(kind, ns[j].key, ns[j].value), false, true) {
				return
			}
			j++
		default: // same key
			oldV, newV := prev.exact(kind, ps[i].key, ps[i].value), next.exact(kind, ns[j].key, ns[j].value)
			if !levelsEqual(oldV, newV) && !fn(ps[i].key, oldV, newV, true, true) {
				return
			}
			i++
			j++
		}
	}
}

// otherVersion returns why ev, parsed for another room version than v (its [pdu.Event.Version]),
// cannot be judged by the rules of v: its event ID, `redacts`, room ID and the strictness of its
// JSON were read by the rules of its own version. It returns "" for an event of v, and for an
// Event made by hand (zero Version), which is read as an event of v. what names ev.
func otherVersion(v roomversion.Version, ev *pdu.Event, what string) string {
	if ev.Version.ID == "" || ev.Version.ID == v.ID {
		return ""
	}
	return what + " was parsed for room version " + strconv.Quote(ev.Version.ID) + ", not " + strconv.Quote(v.ID)
}

// otherVersions is the fatal rejection of an event or an Options.Create parsed for another
// room version than v (see otherVersion), or nil.
func otherVersions(v roomversion.Version, ev *pdu.Event, opts *Options) *Rejection {
	why := otherVersion(v, ev, "the event")
	if why == "" && opts.Create != nil {
		why = otherVersion(v, opts.Create, "Options.Create")
	}
	if why == "" {
		return nil
	}
	return newRejection("", SeverityFatal, ErrMalformed, why)
}

// otherRoom is the fatal rejection of what, of room room, by a state of another room, or nil
// (also when the state has no room yet).
func (s *State) otherRoom(what, room string) *Rejection {
	if s.room == "" || room == s.room {
		return nil
	}
	return newRejection("", SeverityFatal, ErrMalformed, what+" is of room "+strconv.Quote(room)+", not of the state's room "+strconv.Quote(s.room))
}

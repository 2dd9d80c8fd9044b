package authrules

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/roomversion"
)

// The named levels of m.room.power_levels, in the order the authorization rules list them
// (rule 9.3 of v8: "users_default, events_default, state_default, ban, redact, kick, invite").
const (
	nUsersDefault = iota
	nEventsDefault
	nStateDefault
	nBan
	nRedact
	nKick
	nInvite
	numNamed
)

var namedKeys = [numNamed]string{"users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"}

// namedDefaults are the values used when a named level is absent or there is no
// m.room.power_levels event (event-schemas m.room.power_levels.yaml; server-server-api
// "Definitions"): users_default 0, events_default 0, state_default 50, ban 50, redact 50,
// kick 50, invite 0.
var namedDefaults = [numNamed]int64{0, 0, 50, 50, 50, 50, 0}

// DefaultNotificationLevel is the level of a notification key absent from `notifications`
// (m.room.power_levels.yaml: `room` defaults to 50).
const DefaultNotificationLevel = 50

// CreatorLevelWithoutPowerLevels is the level of the room creator in room versions 1-11 when
// the room has no m.room.power_levels event (m.room.power_levels.yaml, `users_default`).
const CreatorLevelWithoutPowerLevels = 100

// InfiniteLevel is the level [PowerLevels.UserLevel] reports for a room creator in room
// version 12 and later, whose power level the spec calls infinite (rooms/v12.md
// "Authorisation rules"). No power level value of a v12 event can reach it: canonical JSON
// bounds integers to ±(2^53-1). The rules, [PowerLevels.CompareUsers] and
// [PowerLevels.CompareUserTo] compare a creator above every level all the same, including a
// value outside the int64 range read by [ParsePowerLevels] from content that is not canonical.
const InfiniteLevel int64 = math.MaxInt64

// level is one entry of users, events or notifications. value is saturated to the int64
// range; the exact value of an entry outside it is in PowerLevels.beyond.
type level struct {
	key   string
	value int64
}

// PowerLevels is a parsed m.room.power_levels content with the spec's defaults filled in
// (server-server-api "Definitions", event-schemas m.room.power_levels.yaml). A PowerLevels is
// immutable and safe for concurrent use. A nil *PowerLevels reads as the defaults of a room
// without an m.room.power_levels event and without known creators (every user at 0).
//
// Before room version 10 a level may be an integer of any size (an integer string in v1-9,
// rooms/fragments/v1-stringy-power-levels.md; a JSON integer or a truncated float in v1-5,
// v1-floaty-power-levels.md). The getters return int64 values, saturated to math.MinInt64 /
// math.MaxInt64 outside that range; the authorization rules, [PowerLevels.CompareUsers] and
// [PowerLevels.CompareUserTo] compare the exact values, as Synapse's Python integers do.
type PowerLevels struct {
	named   [numNamed]int64
	present uint8 // bit i: named level i was given in the content
	// users, events and notifications are sorted by key, one entry per key (the last
	// occurrence of a duplicated key wins).
	users         []level
	events        []level
	notifications []level
	// beyond holds the exact values of the levels outside the int64 range, whose int64 holds
	// the saturated value (see levelValue.beyond). Nil when there are none, the common case.
	beyond map[beyondKey]*string
	// creators have InfiniteLevel (v12 and later); creatorSet holds them too when there are
	// more than linearCreators, so that IsCreator does not search a list of thousands.
	creators   []string
	creatorSet map[string]struct{}
	// exists reports whether the levels come from an m.room.power_levels event.
	exists bool
}

// ParsePowerLevels parses the content of an m.room.power_levels event for room version v and
// validates it as the authorization rules of v do for a new power levels event: `users` must
// be an object whose keys are valid user IDs and whose values are integers (rule 9.1 of v8),
// and from v10 every level must be an integer (rules 9.1-9.3 of v10). Before v10 integers may
// be strings ("m.room.power_levels events accept values as strings",
// rooms/fragments/v1-stringy-power-levels.md) and before v6 floats, truncated
// (v1-floaty-power-levels.md). An invalid content gives a [*Rejection] wrapping
// [ErrPowerLevelsInvalid] with the rule number. The result knows no room creators: use
// [State.PowerLevels] for the levels of a room.
func ParsePowerLevels(v roomversion.Version, content []byte) (*PowerLevels, error) {
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("authrules: %w", err)
	}
	pl, rej := parsePowerLevels(v, content, true)
	if rej != nil {
		return nil, rej
	}
	return pl, nil
}

// DefaultPowerLevels returns the levels of a room without an m.room.power_levels event: the
// defaults of every level, and the room creators at 100 (v1-11) or at [InfiniteLevel] (v12).
// The v1-11 creators are `users` entries of the result ([PowerLevels.Users],
// [PowerLevels.UserLevelSet]); the v12 creators are not (docs/decisions.md authrules "Creators").
// For a Version Lookup would not return (the zero Version) it returns the defaults alone: no
// creator is granted a level under unknown rules.
func DefaultPowerLevels(v roomversion.Version, creators []string) *PowerLevels {
	pl := &PowerLevels{named: namedDefaults}
	if v.Check() != nil {
		return pl // no room version's rules: no creator is granted a level
	}
	return pl.withCreators(v, creators)
}

// withCreators returns the levels of a room whose creators are creators: in v12 they get
// InfiniteLevel; before v12, without a power levels event, the creator gets 100.
func (pl *PowerLevels) withCreators(v roomversion.Version, creators []string) *PowerLevels {
	if len(creators) == 0 {
		return pl
	}
	creators = append([]string(nil), creators...)
	return pl.withCreatorsShared(v, creators, creatorSetOf(v, creators))
}

// creatorSetOf returns the set of creators that PowerLevels.IsCreator looks them up in when
// they are more than linearCreators (v12 and later), or nil.
func creatorSetOf(v roomversion.Version, creators []string) map[string]struct{} {
	if !v.Auth.InfiniteCreatorPower || len(creators) <= linearCreators {
		return nil
	}
	set := make(map[string]struct{}, len(creators))
	for _, c := range creators {
		set[c] = struct{}{}
	}
	return set
}

// withCreatorsShared is withCreators with the list and set of creators (creatorSetOf) given,
// which the result shares: the caller must not modify them. It costs the same whatever the
// number of creators.
func (pl *PowerLevels) withCreatorsShared(v roomversion.Version, creators []string, set map[string]struct{}) *PowerLevels {
	if len(creators) == 0 {
		return pl
	}
	out := *pl
	if v.Auth.InfiniteCreatorPower {
		out.creators, out.creatorSet = creators, set
		return &out
	}
	if !pl.exists {
		users := make([]level, 0, len(creators))
		for _, c := range creators {
			users = append(users, level{c, CreatorLevelWithoutPowerLevels})
		}
		out.users = sortLevels(users)
	}
	return &out
}

// noPowerLevels is what a nil *PowerLevels reads as: the defaults of a room without an
// m.room.power_levels event and without known creators. It is never modified.
var noPowerLevels = PowerLevels{named: namedDefaults}

// orDefault returns pl, or for a nil pl the defaults (noPowerLevels), so that no method of a
// nil *PowerLevels panics.
func (pl *PowerLevels) orDefault() *PowerLevels {
	if pl == nil {
		return &noPowerLevels
	}
	return pl
}

// Exists reports whether the levels were read from an m.room.power_levels event rather than
// being the defaults of a room without one.
func (pl *PowerLevels) Exists() bool { return pl.orDefault().exists }

// IsCreator reports whether userID is a room creator with infinite power (v12 and later).
func (pl *PowerLevels) IsCreator(userID string) bool {
	pl = pl.orDefault()
	if pl.creatorSet != nil {
		_, ok := pl.creatorSet[userID]
		return ok
	}
	for _, c := range pl.creators {
		if c == userID {
			return true
		}
	}
	return false
}

// UserLevel returns the power level of userID: [InfiniteLevel] for a room creator in v12 and
// later, otherwise its entry in `users`, otherwise `users_default` (0 when absent); without a
// power levels event, 100 for the creator before v12 and 0 for everyone else. Like every
// getter of PowerLevels it returns the value saturated to the int64 range (see
// [PowerLevels]); use [PowerLevels.CompareUsers] and [PowerLevels.CompareUserTo] to compare
// levels as the rules do.
func (pl *PowerLevels) UserLevel(userID string) int64 {
	pl = pl.orDefault()
	if len(pl.creators) > 0 && pl.IsCreator(userID) {
		return InfiniteLevel
	}
	if v, ok := lookupLevel(pl.users, userID); ok {
		return v
	}
	return pl.named[nUsersDefault]
}

// UserLevelSet returns the entry of userID in `users` (saturated to the int64 range), and
// whether there is one. Without a power levels event the v1-11 creators have an entry (100); a
// v12 creator's entry is the one written, which [PowerLevels.UserLevel] does not use.
func (pl *PowerLevels) UserLevelSet(userID string) (int64, bool) {
	return lookupLevel(pl.orDefault().users, userID)
}

// UsersDefault returns `users_default` (default 0).
func (pl *PowerLevels) UsersDefault() int64 { return pl.orDefault().named[nUsersDefault] }

// InviteLevel returns the *invite level*: `invite`, default 0 (server-server-api
// "Definitions").
func (pl *PowerLevels) InviteLevel() int64 { return pl.orDefault().named[nInvite] }

// KickLevel returns the *kick level*: `kick`, default 50.
func (pl *PowerLevels) KickLevel() int64 { return pl.orDefault().named[nKick] }

// BanLevel returns the *ban level*: `ban`, default 50.
func (pl *PowerLevels) BanLevel() int64 { return pl.orDefault().named[nBan] }

// RedactLevel returns the *redact level*: `redact`, default 50.
func (pl *PowerLevels) RedactLevel() int64 { return pl.orDefault().named[nRedact] }

// StateDefault returns `state_default`, default 50 (also without a power levels event).
func (pl *PowerLevels) StateDefault() int64 { return pl.orDefault().named[nStateDefault] }

// EventsDefault returns `events_default`, default 0.
func (pl *PowerLevels) EventsDefault() int64 { return pl.orDefault().named[nEventsDefault] }

// EventLevel returns the *required power level* of an event type (server-server-api
// "Definitions"): its entry in `events`, otherwise `state_default` for a state event and
// `events_default` for any other.
func (pl *PowerLevels) EventLevel(eventType string, isState bool) int64 {
	pl = pl.orDefault()
	if v, ok := lookupLevel(pl.events, eventType); ok {
		return v
	}
	if isState {
		return pl.named[nStateDefault]
	}
	return pl.named[nEventsDefault]
}

// NotificationLevel returns the level required to trigger the notification key (such as
// "room"): its entry in `notifications`, otherwise [DefaultNotificationLevel].
func (pl *PowerLevels) NotificationLevel(key string) int64 {
	pl = pl.orDefault()
	if v, ok := lookupLevel(pl.notifications, key); ok {
		return v
	}
	return DefaultNotificationLevel
}

// Users returns a copy of `users` as a map, each value saturated to the int64 range. Without a
// power levels event it holds the v1-11 creators at 100 and never the v12 creators; a v12
// creator's entry in the event (which rule 10.4 rejects) is returned as written, though every
// level of a creator is [InfiniteLevel] (docs/decisions.md authrules "Creators").
func (pl *PowerLevels) Users() map[string]int64 {
	pl = pl.orDefault()
	out := make(map[string]int64, len(pl.users))
	for _, l := range pl.users {
		out[l.key] = l.value
	}
	return out
}

func lookupLevel(ls []level, key string) (int64, bool) {
	lo, hi := 0, len(ls)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ls[m].key < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ls) && ls[lo].key == key {
		return ls[lo].value, true
	}
	return 0, false
}

// sortLevels sorts ls by key, keeping only the last of entries with the same key (the JSON
// reading of duplicate keys used throughout roomproto).
func sortLevels(ls []level) []level {
	slices.SortStableFunc(ls, func(a, b level) int { return strings.Compare(a.key, b.key) })
	out := ls[:0]
	for i := range ls {
		if len(out) > 0 && out[len(out)-1].key == ls[i].key {
			out[len(out)-1] = ls[i]
			continue
		}
		out = append(out, ls[i])
	}
	return out
}

// parsePowerLevels reads a power levels content. strict: invalid values give a rejection
// (the checks of a new m.room.power_levels event); otherwise invalid values are skipped and
// take their defaults (reading the levels of the room's state). A nil content gives the
// defaults.
func parsePowerLevels(v roomversion.Version, content []byte, strict bool) (*PowerLevels, *Rejection) {
	pl := &PowerLevels{named: namedDefaults, exists: content != nil}
	if content == nil {
		return pl, nil
	}
	nums := numbersFor(v.Auth.RuleSet)
	if nums == nil {
		return nil, newRejection("", SeverityFatal, ErrMalformed, "unknown rule set "+strconv.Quote(v.Auth.RuleSet))
	}
	var named [numNamed][]byte
	var users, events, notifications []byte
	err := canonicaljson.EachMember(content, func(key string, value []byte) error {
		switch key {
		case "users":
			users = value
		case "events":
			events = value
		case "notifications":
			notifications = value
		default:
			for i, name := range namedKeys {
				if key == name {
					named[i] = value // the last occurrence wins
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, newRejection(nums[rPowerLevels], SeverityFatal, ErrMalformed, "power levels content: "+err.Error())
	}
	var rej *Rejection
	// The text of v1-9 checks users first (rule 9.1); v10 checks the named levels (9.1),
	// then events and notifications (9.2), then users (9.3).
	if !v.Auth.IntegerPowerLevels && users != nil {
		if pl.users, rej = parseUsers(v, nums, users, strict, &pl.beyond); rej != nil {
			return nil, rej
		}
	}
	for i, raw := range named {
		if raw == nil {
			continue
		}
		n, ok := parseLevel(v, raw)
		if !ok {
			if strict {
				return nil, newRejection(nums[rPLNamedType], SeverityError, ErrPowerLevelsInvalid,
					"power levels "+namedKeys[i]+" is "+describe(raw)+", not "+integerWord(v))
			}
			continue
		}
		pl.named[i] = n.n
		setBeyond(&pl.beyond, kindNamed, namedKeys[i], n)
		pl.present |= 1 << i
	}
	if events != nil {
		if pl.events, rej = parseLevelMap(v, nums, kindEvents, events, strict, &pl.beyond); rej != nil {
			return nil, rej
		}
	}
	if notifications != nil {
		// Before v6 the rules ignore notifications: never reject for them there.
		if pl.notifications, rej = parseLevelMap(v, nums, kindNotifications, notifications, strict && v.Auth.NotificationsPowerLevels, &pl.beyond); rej != nil {
			return nil, rej
		}
	}
	if v.Auth.IntegerPowerLevels && users != nil {
		if pl.users, rej = parseUsers(v, nums, users, strict, &pl.beyond); rej != nil {
			return nil, rej
		}
	}
	return pl, nil
}

// parseLevelMap reads `events` or `notifications` (kind): an object of levels. The exact
// values of levels outside the int64 range go into *beyond.
func parseLevelMap(v roomversion.Version, nums *ruleNumbers, kind levelKind, raw []byte, strict bool, beyond *map[beyondKey]*string) ([]level, *Rejection) {
	name := kindName(kind)
	if canonicaljson.KindOf(raw) != canonicaljson.Object {
		if strict {
			return nil, newRejection(nums[rPLMapsType], SeverityError, ErrPowerLevelsInvalid, "power levels "+name+" is "+describe(raw)+", not an object")
		}
		return nil, nil
	}
	var out []level
	var dropped droppedKeys
	var invalid invalidEntries
	err := canonicaljson.EachMember(raw, func(key string, value []byte) error {
		n, ok := parseLevel(v, value)
		if !ok {
			if strict {
				invalid.add(key, value)
				return nil
			}
			dropped.drop(key, len(out)) // a later invalid duplicate hides an earlier valid one
			setBeyond(beyond, kind, key, levelValue{})
			return nil
		}
		invalid.valid(key)
		out = append(out, level{key, n.n})
		setBeyond(beyond, kind, key, n)
		return nil
	})
	if err != nil {
		return nil, newRejection(nums[rPowerLevels], SeverityFatal, ErrMalformed, "power levels "+name+": "+err.Error())
	}
	if key, value, ok := invalid.first(); ok {
		return nil, newRejection(nums[rPLMapsType], SeverityError, ErrPowerLevelsInvalid,
			"power levels "+name+"["+strconv.Quote(key)+"] is "+describe(value)+", not "+integerWord(v))
	}
	return sortLevels(dropped.apply(out)), nil
}

// parseUsers reads `users`: an object whose keys are valid user IDs and whose values are
// levels (rule 9.1 of v8, 9.3 of v10). The exact values of levels outside the int64 range go
// into *beyond.
func parseUsers(v roomversion.Version, nums *ruleNumbers, raw []byte, strict bool, beyond *map[beyondKey]*string) ([]level, *Rejection) {
	if canonicaljson.KindOf(raw) != canonicaljson.Object {
		if strict {
			return nil, newRejection(nums[rPLUsers], SeverityError, ErrPowerLevelsInvalid, "power levels users is "+describe(raw)+", not an object")
		}
		return nil, nil
	}
	var out []level
	var dropped droppedKeys
	var invalid invalidEntries
	var rej *Rejection
	err := canonicaljson.EachMember(raw, func(key string, value []byte) error {
		if strict && !ValidUserID(key) {
			// Every occurrence of the key is the same key: no later one can make it valid.
			rej = newRejection(nums[rPLUsers], SeverityError, ErrPowerLevelsInvalid, "power levels users key "+strconv.Quote(key)+" is not a valid user ID")
			return errStop
		}
		n, ok := parseLevel(v, value)
		if !ok {
			if strict {
				invalid.add(key, value)
				return nil
			}
			dropped.drop(key, len(out))
			setBeyond(beyond, kindUsers, key, levelValue{})
			return nil
		}
		invalid.valid(key)
		out = append(out, level{key, n.n})
		setBeyond(beyond, kindUsers, key, n)
		return nil
	})
	if rej != nil {
		return nil, rej
	}
	if err != nil {
		return nil, newRejection(nums[rPowerLevels], SeverityFatal, ErrMalformed, "power levels users: "+err.Error())
	}
	if key, value, ok := invalid.first(); ok {
		return nil, newRejection(nums[rPLUsers], SeverityError, ErrPowerLevelsInvalid,
			"power levels users["+strconv.Quote(key)+"] is "+describe(value)+", not "+integerWord(v))
	}
	return sortLevels(dropped.apply(out)), nil
}

// droppedKeys records the invalid entries of a leniently read object of levels, each of which
// removes the valid entries of its key read before it (the last occurrence of a key wins, and
// an invalid value takes the default). Removing them as they come would scan the entries once
// per invalid one, quadratic in an event of thousands of entries; instead each key keeps the
// position of its last invalid occurrence, and apply removes every entry before it at the end.
type droppedKeys map[string]int

// drop records an invalid entry for key, read after the first n valid entries.
func (d *droppedKeys) drop(key string, n int) {
	if *d == nil {
		*d = droppedKeys{}
	}
	(*d)[key] = n
}

// apply removes from ls, the valid entries in the order read, those an invalid entry of the
// same key came after.
func (d droppedKeys) apply(ls []level) []level {
	if len(d) == 0 {
		return ls
	}
	out := ls[:0]
	for i, l := range ls {
		if n, ok := d[l.key]; ok && i < n {
			continue
		}
		out = append(out, l)
	}
	return out
}

// invalidEntries collects the invalid entries of a strictly read object of levels. A key given
// twice counts with its last occurrence (docs/decisions.md pdu, "the last duplicate wins"), as at
// the top level of the content and in the canonical form pdu.Parse gives the event: an invalid
// entry rejects only when no valid entry of its key follows it. Nothing is allocated while every
// entry is valid.
type invalidEntries struct {
	entries []invalidEntry
	// latest maps each key with an invalid entry to the index in entries of its last invalid
	// occurrence, or -1 when a valid occurrence came after it.
	latest map[string]int
}

type invalidEntry struct {
	key   string
	value []byte
}

// add records an invalid entry.
func (e *invalidEntries) add(key string, value []byte) {
	if e.latest == nil {
		e.latest = map[string]int{}
	}
	e.entries = append(e.entries, invalidEntry{key, value})
	e.latest[key] = len(e.entries) - 1
}

// valid records a valid entry of key, which supersedes its earlier invalid ones.
func (e *invalidEntries) valid(key string) {
	if len(e.latest) == 0 {
		return
	}
	if _, ok := e.latest[key]; ok {
		e.latest[key] = -1
	}
}

// first returns the first invalid entry, in the order read, that is its key's last occurrence.
func (e *invalidEntries) first() (key string, value []byte, ok bool) {
	for i, en := range e.entries {
		if e.latest[en.key] == i {
			return en.key, en.value, true
		}
	}
	return "", nil, false
}

// errStop ends an EachMember iteration early; it never leaves this package.
var errStop = stopError{}

type stopError struct{}

func (stopError) Error() string { return "stop" }

func integerWord(v roomversion.Version) string {
	switch {
	case v.Auth.FloatPowerLevels:
		return "an integer, an integer string or a finite number"
	case v.Auth.StringPowerLevels:
		return "an integer or an integer string"
	}
	return "an integer"
}

// describe names a JSON value for a reason text, quoting short values.
func describe(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}

// parseLevel reads one power level value of room version v:
//   - a JSON integer (from v10 the only form accepted);
//   - v1-9: a string holding an integer in the format of
//     rooms/fragments/v1-stringy-power-levels.md;
//   - v1-5: a number with a fraction or exponent, truncated toward zero
//     (v1-floaty-power-levels.md); a value outside the binary64 range is invalid.
//
// The result is exact whatever the size of the integer (see levelValue): its int64 is the
// value saturated to math.MinInt64 / math.MaxInt64, what the public getters return, and a
// value outside the int64 range (an integer string in v1-9; a JSON integer or a float up to
// about 1.8e308 in v1-5, where canonical JSON is not enforced) also keeps its digits, so that
// the rules compare it exactly, as Synapse's Python integers do.
func parseLevel(v roomversion.Version, raw []byte) (levelValue, bool) {
	switch canonicaljson.KindOf(raw) {
	case canonicaljson.Number:
		s := strings.TrimSpace(string(raw))
		if isIntegerLiteral(s) {
			return integerLevel(s)
		}
		if !v.Auth.FloatPowerLevels {
			return levelValue{}, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return levelValue{}, false
		}
		return floatLevel(f), true
	case canonicaljson.String:
		if !v.Auth.StringPowerLevels {
			return levelValue{}, false
		}
		s, err := canonicaljson.Unquote(raw)
		if err != nil {
			return levelValue{}, false
		}
		return parseStringLevel(s)
	}
	return levelValue{}, false
}

// isIntegerLiteral reports whether a JSON number literal has no fraction and no exponent.
func isIntegerLiteral(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".eE")
}

// parseStringLevel reads a power level written as a string (v1-9): any leading and trailing
// whitespace, an optional single '+' or '-', one or more ASCII decimal digits (leading zeros
// allowed), of any size. Whitespace is what Python's str.isspace() accepts, the reading of the
// servers the rule was written for (docs/decisions.md (authrules)).
func parseStringLevel(s string) (levelValue, bool) {
	s = strings.TrimFunc(s, isPythonSpace)
	digits := s
	if len(digits) > 0 && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" {
		return levelValue{}, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return levelValue{}, false
		}
	}
	return integerLevel(s)
}

// isPythonSpace reports whether Python's str.isspace() holds for r: the Unicode White_Space
// characters plus U+001C..U+001F.
func isPythonSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x1c, 0x1d, 0x1e, 0x1f, 0x85, 0xa0, 0x1680,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

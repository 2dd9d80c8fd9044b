package authrules

import (
	"math"
	"math/big"
	"strconv"
	"strings"
)

// levelValue is a power level value as the authorization rules compare it: exactly, for every
// value, as Synapse compares its Python integers. Before v10 a level may be an integer string
// of any size (rooms/fragments/v1-stringy-power-levels.md) and before v6 a JSON integer of any
// size or a float up to about 1.8e308, truncated (v1-floaty-power-levels.md).
//
// The common case costs nothing beyond the int64: beyond is nil for every value in the int64
// range, and only values outside it carry their digits.
type levelValue struct {
	// n is the value saturated to the int64 range: what the public getters return.
	n int64
	// beyond is nil when n is the exact value. Otherwise n is math.MaxInt64 or math.MinInt64
	// and the exact value lies strictly beyond that limit: *beyond is its magnitude in decimal,
	// without sign or leading zeros. For a room creator of v12 (InfiniteLevel) it is
	// infiniteBeyond, above every value.
	beyond *string
}

// infiniteBeyond marks the level of a room creator of v12 and later, which the spec calls
// infinite (rooms/v12.md "Authorisation rules"); it is recognised by its address.
var infiniteBeyond = new("∞")

// creatorLevel is the level of a room creator in v12 and later.
var creatorLevel = levelValue{n: InfiniteLevel, beyond: infiniteBeyond}

// saturatedLimit reports whether n is an int64 limit, the only values that can stand for a
// level beyond the int64 range.
func saturatedLimit(n int64) bool { return n == math.MaxInt64 || n == math.MinInt64 }

// levelLess reports whether a < b, exactly. Saturation is monotonic, so different int64s
// already order the exact values, and equal int64s are equal values unless one of them carries
// digits. It is written to be inlined (the rules compare levels on every event): only values
// beyond the int64 range reach the call.
func levelLess(a, b levelValue) bool {
	return a.n < b.n || a.n == b.n && a.beyond != b.beyond && beyondLess(a, b)
}

// beyondLess is levelLess for two levels with the same int64 and different digits. It is kept
// out of line so that levelLess stays within the inlining budget.
//
//go:noinline
func beyondLess(a, b levelValue) bool { return compareBeyond(a, b) < 0 }

// levelsEqual reports whether a == b, exactly (inlined like levelLess).
func levelsEqual(a, b levelValue) bool {
	return a.n == b.n && (a.beyond == b.beyond || compareBeyond(a, b) == 0)
}

// compareLevels compares two levels exactly: -1 when a < b, 0 when equal, +1 when a > b.
func compareLevels(a, b levelValue) int {
	switch {
	case a.n < b.n:
		return -1
	case a.n > b.n:
		return 1
	}
	return compareBeyond(a, b)
}

// compareBeyond compares two levels with the same int64 (saturated to the same limit when
// either carries digits).
func compareBeyond(a, b levelValue) int {
	switch {
	case a.beyond == b.beyond: // both exactly n, or the same digits
		return 0
	case a.beyond == infiniteBeyond:
		return 1
	case b.beyond == infiniteBeyond:
		return -1
	}
	// Magnitudes without leading zeros: the longer is larger, then byte order is numeric order;
	// no digits (exactly at the limit) is the smallest magnitude.
	da, db := digitsOf(a), digitsOf(b)
	c := len(da) - len(db)
	if c == 0 {
		c = strings.Compare(da, db)
	}
	switch {
	case c == 0:
		return 0
	case (c > 0) == (a.n > 0): // beyond MaxInt64 a larger magnitude is higher; beyond MinInt64 lower
		return 1
	}
	return -1
}

func digitsOf(l levelValue) string {
	if l.beyond == nil {
		return ""
	}
	return *l.beyond
}

// integerLevel reads an optionally signed run of ASCII digits (the caller has checked the
// syntax; a leading '+' is allowed). Values outside the int64 range keep their digits.
func integerLevel(s string) (levelValue, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return levelValue{n: n}, true
	}
	if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
		return levelValue{}, false
	}
	neg := s[0] == '-'
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	// Out of range: at least one non-zero digit remains after the leading zeros.
	digits := new(strings.Clone(strings.TrimLeft(s, "0")))
	if neg {
		return levelValue{n: math.MinInt64, beyond: digits}, true
	}
	return levelValue{n: math.MaxInt64, beyond: digits}, true
}

// floatLevel truncates a finite float toward zero (v1-floaty-power-levels.md). The truncated
// value of a float64 is an exact integer; outside the int64 range its digits are kept.
func floatLevel(f float64) levelValue {
	f = math.Trunc(f)
	switch {
	case f >= 0x1p63:
		return levelValue{n: math.MaxInt64, beyond: floatDigits(f)}
	case f < -0x1p63: // -2^63 itself is math.MinInt64
		return levelValue{n: math.MinInt64, beyond: floatDigits(-f)}
	}
	return levelValue{n: int64(f)}
}

// floatDigits writes a positive integral float64 in decimal, exactly.
func floatDigits(f float64) *string {
	i, _ := new(big.Float).SetFloat64(f).Int(nil)
	return new(i.String())
}

// text writes the level for a rejection message: its exact decimal value (long runs of digits
// abbreviated, as describe does for raw values), or "infinite (room creator)".
func (l levelValue) text() string {
	switch {
	case l.beyond == nil:
		return strconv.FormatInt(l.n, 10)
	case l.beyond == infiniteBeyond:
		return "infinite (room creator)"
	}
	d := *l.beyond
	if len(d) > maxLevelDigits {
		d = d[:maxLevelDigits] + "…(" + strconv.Itoa(len(*l.beyond)) + " digits)"
	}
	if l.n < 0 {
		return "-" + d
	}
	return d
}

// maxLevelDigits bounds the digits of a level written in a rejection message: a level string
// may be tens of thousands of digits long.
const maxLevelDigits = 64

// levelKind names the part of m.room.power_levels a level comes from.
type levelKind uint8

const (
	kindNamed levelKind = iota
	kindUsers
	kindEvents
	kindNotifications
)

// beyondKey locates a level whose value lies outside the int64 range: a named level (key is
// its name in namedKeys) or an entry of users, events or notifications.
type beyondKey struct {
	kind levelKind
	key  string
}

// setBeyond records the exact value of the level (kind, key) when it lies outside the int64
// range, and forgets any earlier one otherwise (the last occurrence of a duplicated key wins).
func setBeyond(m *map[beyondKey]*string, kind levelKind, key string, l levelValue) {
	switch {
	case l.beyond != nil:
		if *m == nil {
			*m = map[beyondKey]*string{}
		}
		(*m)[beyondKey{kind, key}] = l.beyond
	case *m != nil:
		delete(*m, beyondKey{kind, key})
	}
}

// exact returns the exact value of the level (kind, key) whose saturated value is n.
func (pl *PowerLevels) exact(kind levelKind, key string, n int64) levelValue {
	if pl.beyond != nil && saturatedLimit(n) {
		return levelValue{n: n, beyond: pl.beyond[beyondKey{kind, key}]}
	}
	return levelValue{n: n}
}

// userLevel is [PowerLevels.UserLevel], exact: a v12 room creator is above every value.
func (pl *PowerLevels) userLevel(userID string) levelValue {
	if len(pl.creators) > 0 && pl.IsCreator(userID) {
		return creatorLevel
	}
	if v, ok := lookupLevel(pl.users, userID); ok {
		return pl.exact(kindUsers, userID, v)
	}
	return pl.namedLevel(nUsersDefault)
}

// namedLevel is the exact value of the named level i (with its default).
func (pl *PowerLevels) namedLevel(i int) levelValue {
	return pl.exact(kindNamed, namedKeys[i], pl.named[i])
}

// eventLevel is [PowerLevels.EventLevel], exact.
func (pl *PowerLevels) eventLevel(eventType string, isState bool) levelValue {
	if v, ok := lookupLevel(pl.events, eventType); ok {
		return pl.exact(kindEvents, eventType, v)
	}
	if isState {
		return pl.namedLevel(nStateDefault)
	}
	return pl.namedLevel(nEventsDefault)
}

// levels returns the entries of users, events or notifications.
func (pl *PowerLevels) levels(kind levelKind) []level {
	switch kind {
	case kindUsers:
		return pl.users
	case kindEvents:
		return pl.events
	case kindNotifications:
		return pl.notifications
	}
	return nil
}

// CompareUsers compares the power levels of users a and b exactly, as the authorization rules
// do (for example rule 4.5.4 of rooms/fragments/v8-auth-rules.md: "the target user's power
// level is less than the sender's power level"): -1 when a's level is lower than b's, 0 when
// they are equal, +1 when it is higher. Before room version 10 a level may be an integer of
// any size (rooms/fragments/v1-stringy-power-levels.md, v1-floaty-power-levels.md), which
// [PowerLevels.UserLevel] saturates to the int64 range; this method compares the exact
// values. A room creator of v12 and later is above every level and equal to another creator.
func (pl *PowerLevels) CompareUsers(a, b string) int {
	pl = pl.orDefault()
	return compareLevels(pl.userLevel(a), pl.userLevel(b))
}

// CompareUserTo compares the power level of userID exactly with the named level name of
// m.room.power_levels — "invite", "kick", "ban", "redact", "state_default", "events_default"
// or "users_default", with its default when absent (server-server-api "Definitions") — as the
// authorization rules do (for example rule 4.4.4 of rooms/fragments/v8-auth-rules.md: "If the
// sender's power level is greater than or equal to the invite level, allow"): -1 when the
// user's level is below it, 0 when equal, +1 when above. Unlike the int64 getters, which
// saturate the levels of room versions 1-9 that lie outside the int64 range, it compares the
// exact values. ok is false when name is not one of these seven names.
func (pl *PowerLevels) CompareUserTo(userID, name string) (c int, ok bool) {
	pl = pl.orDefault()
	for i, k := range namedKeys {
		if k == name {
			return compareLevels(pl.userLevel(userID), pl.namedLevel(i)), true
		}
	}
	return 0, false
}

package authrules

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// x1e300 is the exact value of the float64 nearest to 1e300.
const x1e300 = "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160"

// TestParseLevelExact: parseLevel keeps the exact value of every level outside the int64 range
// (normalised: no sign, no leading zeros), saturates its int64, and keeps no digits for a value
// inside the range, the limits included.
func TestParseLevelExact(t *testing.T) {
	maxFloat := strconv.FormatFloat(math.MaxFloat64, 'f', 0, 64) // exact: 309 digits
	tests := []struct {
		version, raw string
		n            int64
		beyond       string
		ok           bool
	}{
		// JSON integers (any size before v6; the parser reads them in every version).
		{"1", `9223372036854775807`, math.MaxInt64, "", true},
		{"1", `9223372036854775808`, math.MaxInt64, "9223372036854775808", true},
		{"1", `-9223372036854775808`, math.MinInt64, "", true},
		{"1", `-9223372036854775809`, math.MinInt64, "9223372036854775809", true},
		{"5", `100000000000000000005`, math.MaxInt64, "100000000000000000005", true},
		{"5", `-100000000000000000005`, math.MinInt64, "100000000000000000005", true},
		{"10", `9223372036854775808`, math.MaxInt64, "9223372036854775808", true},
		// Integer strings (v1-9): sign, leading zeros and whitespace.
		{"9", `"9223372036854775807"`, math.MaxInt64, "", true},
		{"9", `"9223372036854775808"`, math.MaxInt64, "9223372036854775808", true},
		{"9", `"-9223372036854775808"`, math.MinInt64, "", true},
		{"9", `"-9223372036854775809"`, math.MinInt64, "9223372036854775809", true},
		{"9", `"  +000100000000000000000005\t"`, math.MaxInt64, "100000000000000000005", true},
		{"9", `"\u3000-0000009223372036854775809 "`, math.MinInt64, "9223372036854775809", true},
		{"9", `"000000000000000000000000000000042"`, 42, "", true},
		{"9", `"-0000000000000000000000000000000"`, 0, "", true},
		{"6", `"99999999999999999999999999999999999999999999"`, math.MaxInt64, "99999999999999999999999999999999999999999999", true},
		{"9", `"1_00000000000000000000"`, 0, "", false},
		{"10", `"100000000000000000005"`, 0, "", false},
		// Floats (v1-5): truncated, then exact.
		{"5", `1e300`, math.MaxInt64, x1e300, true},
		{"5", `-1e300`, math.MinInt64, x1e300, true},
		{"5", `9.3e18`, math.MaxInt64, "9300000000000000000", true},
		{"5", `-9.3e18`, math.MinInt64, "9300000000000000000", true},
		{"5", `9223372036854775807.0`, math.MaxInt64, "9223372036854775808", true},  // the float is 2^63
		{"5", `9223372036854774784.9`, 9223372036854774784, "", true},               // the largest float below 2^63
		{"5", `-9223372036854775808.5`, math.MinInt64, "", true},                    // the float is -2^63
		{"5", `-9223372036854777856.0`, math.MinInt64, "9223372036854777856", true}, // the next float below
		{"5", `1.7976931348623157e308`, math.MaxInt64, maxFloat, true},
		{"5", `1e400`, 0, "", false},
		{"6", `1e300`, 0, "", false},
	}
	for _, tt := range tests {
		got, ok := parseLevel(mustVersion(t, tt.version), []byte(tt.raw))
		if got.n != tt.n || digitsOf(got) != tt.beyond || ok != tt.ok {
			t.Errorf("v%s parseLevel(%s) = {%d %s}, %v; want {%d %s}, %v", tt.version, tt.raw, got.n, digitsOf(got), ok, tt.n, tt.beyond, tt.ok)
		}
	}
	// The exact value of a float agrees with math/big.
	for _, f := range []float64{1e300, 1e19, 0x1p63, 0x1p64 + 0x1p12, math.MaxFloat64} {
		want, _ := new(big.Float).SetFloat64(f).Int(nil)
		if got := floatLevel(f); digitsOf(got) != want.String() || got.n != math.MaxInt64 {
			t.Errorf("floatLevel(%g) = {%d %s}, want digits %s", f, got.n, digitsOf(got), want)
		}
	}
}

// lv reads a level for the comparison tests: a decimal integer of any size, or "creator".
func lv(t *testing.T, s string) levelValue {
	t.Helper()
	if s == "creator" {
		return creatorLevel
	}
	l, ok := parseStringLevel(s)
	if !ok {
		t.Fatalf("bad level %q", s)
	}
	return l
}

// TestCompareLevels: the comparison is exact for every value, as Python's integers compare.
func TestCompareLevels(t *testing.T) {
	const (
		max  = "9223372036854775807"
		max1 = "9223372036854775808"
		min  = "-9223372036854775808"
		min1 = "-9223372036854775809"
	)
	tests := []struct {
		a, b string
		want int
	}{
		{"0", "0", 0}, {"-5", "5", -1}, {"50", "49", 1},
		{max, max, 0}, {max, max1, -1}, {max1, max1, 0}, {"9223372036854775806", max, -1},
		{min, min, 0}, {min, min1, 1}, {min1, min1, 0}, {"-9223372036854775807", min, 1},
		{"100000000000000000005", "100000000000000000010", -1},
		{"100000000000000000010", "100000000000000000005", 1},
		{"100000000000000000004", "100000000000000000005", -1},
		{"100000000000000000005", " +0000100000000000000000005 ", 0},
		{"100000000000000000001", "100000000000000000002", -1},
		{"1000000000000000000000", "999999999999999999999", 1}, // more digits is higher
		{"-100000000000000000005", "-100000000000000000010", 1},
		{"-1000000000000000000000", "-999999999999999999999", -1},
		{max1, min1, 1}, {min1, "0", -1}, {max1, max, 1},
		{x1e300, "1" + strings.Repeat("0", 300), 1},
		{"creator", "creator", 0}, {"creator", max, 1}, {"creator", max1, 1},
		{"creator", "1" + strings.Repeat("0", 5000), 1}, {"creator", min1, 1},
	}
	for _, tt := range tests {
		a, b := lv(t, tt.a), lv(t, tt.b)
		if got := compareLevels(a, b); got != tt.want {
			t.Errorf("compareLevels(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareLevels(b, a); got != -tt.want {
			t.Errorf("compareLevels(%s, %s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
		if levelLess(a, b) != (tt.want < 0) || levelLess(b, a) != (tt.want > 0) || levelsEqual(a, b) != (tt.want == 0) {
			t.Errorf("levelLess / levelsEqual of %s and %s disagree with %d", tt.a, tt.b, tt.want)
		}
	}
	// Floats against integers: 1e300 is exactly x1e300; 1e300 < 1e301.
	f300, f301 := floatLevel(1e300), floatLevel(1e301)
	if compareLevels(f300, lv(t, x1e300)) != 0 || compareLevels(f300, f301) != -1 || compareLevels(floatLevel(-1e301), floatLevel(-1e300)) != -1 {
		t.Errorf("float comparisons are not exact")
	}
}

// TestPowerLevelsExact: the getters saturate, the exact accessors and the exported comparisons
// do not; duplicates keep the last occurrence, exact value included.
func TestPowerLevelsExact(t *testing.T) {
	v9 := mustVersion(t, "9")
	pl, err := ParsePowerLevels(v9, []byte(`{"users":{"@a:x":"100000000000000000005","@b:x":"100000000000000000004","@c:x":"100000000000000000005",`+
		`"@d:x":"9223372036854775807","@e:x":50,"@f:x":"-100000000000000000001"},`+
		`"invite":"100000000000000000005","kick":"9223372036854775808","ban":"-9223372036854775809","events":{"m.x":"100000000000000000006"}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"@a:x", "@b:x", "@c:x", "@d:x"} {
		if pl.UserLevel(u) != math.MaxInt64 {
			t.Errorf("UserLevel(%s) = %d, want the saturated math.MaxInt64", u, pl.UserLevel(u))
		}
	}
	if pl.InviteLevel() != math.MaxInt64 || pl.KickLevel() != math.MaxInt64 || pl.BanLevel() != math.MinInt64 ||
		pl.EventLevel("m.x", false) != math.MaxInt64 || pl.UserLevel("@f:x") != math.MinInt64 || pl.Users()["@a:x"] != math.MaxInt64 {
		t.Errorf("getters must saturate")
	}
	if l := pl.userLevel("@a:x"); l.text() != "100000000000000000005" {
		t.Errorf("userLevel(@a:x) = %s", l.text())
	}
	if l := pl.eventLevel("m.x", false); l.text() != "100000000000000000006" {
		t.Errorf("eventLevel(m.x) = %s", l.text())
	}
	if l := pl.namedLevel(nBan); l.text() != "-9223372036854775809" {
		t.Errorf("namedLevel(ban) = %s", l.text())
	}
	users := []struct {
		a, b string
		want int
	}{
		{"@a:x", "@b:x", 1}, {"@b:x", "@a:x", -1}, {"@a:x", "@c:x", 0}, {"@d:x", "@b:x", -1}, {"@e:x", "@d:x", -1},
		{"@f:x", "@nobody:x", -1}, {"@nobody:x", "@e:x", -1},
	}
	for _, tt := range users {
		if got := pl.CompareUsers(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareUsers(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	named := []struct {
		user, name string
		want       int
	}{
		{"@a:x", "invite", 0}, {"@b:x", "invite", -1}, {"@d:x", "kick", -1}, {"@b:x", "kick", 1},
		{"@f:x", "ban", -1}, {"@e:x", "ban", 1}, {"@e:x", "state_default", 0}, {"@nobody:x", "users_default", 0}, {"@f:x", "events_default", -1},
	}
	for _, tt := range named {
		if got, ok := pl.CompareUserTo(tt.user, tt.name); got != tt.want || !ok {
			t.Errorf("CompareUserTo(%s, %s) = %d, %v, want %d", tt.user, tt.name, got, ok, tt.want)
		}
	}
	for _, name := range []string{"users", "notifications", "Invite", ""} {
		if _, ok := pl.CompareUserTo("@a:x", name); ok {
			t.Errorf("CompareUserTo with the unknown name %q reports ok", name)
		}
	}

	// v12 creators are above every level, a huge one included (possible only through content
	// that is not canonical JSON, given to ParsePowerLevels).
	v12 := mustVersion(t, "12")
	pl12, err := ParsePowerLevels(v12, []byte(`{"users":{"@h:x":100000000000000000005},"invite":100000000000000000006}`))
	if err != nil {
		t.Fatal(err)
	}
	pl12 = pl12.withCreators(v12, []string{"@c1:x", "@c2:x"})
	c1Invite, _ := pl12.CompareUserTo("@c1:x", "invite")
	hInvite, _ := pl12.CompareUserTo("@h:x", "invite")
	if pl12.CompareUsers("@c1:x", "@h:x") != 1 || pl12.CompareUsers("@c1:x", "@c2:x") != 0 || c1Invite != 1 ||
		pl12.UserLevel("@c1:x") != InfiniteLevel || hInvite != -1 {
		t.Errorf("v12 creators must compare above every level")
	}

	// Duplicates (v1-5 may carry them): the last occurrence wins, exact value included, and a
	// later invalid value hides an earlier valid one when reading the state.
	v1 := mustVersion(t, "1")
	dup, err := ParsePowerLevels(v1, []byte(`{"users":{"@a:x":"100000000000000000005","@a:x":9223372036854775807,"@b:x":50,"@b:x":1e300},`+
		`"ban":"100000000000000000005","ban":"9223372036854775807","events":{"m.x":1e300,"m.x":"9223372036854775807"}}`))
	if err != nil {
		t.Fatal(err)
	}
	exactMax := func(l levelValue) bool { return l.n == math.MaxInt64 && l.beyond == nil }
	if l := dup.userLevel("@a:x"); !exactMax(l) {
		t.Errorf("duplicate users: %s", l.text())
	}
	if l := dup.userLevel("@b:x"); digitsOf(l) != x1e300 {
		t.Errorf("duplicate users: %s", l.text())
	}
	if l := dup.namedLevel(nBan); !exactMax(l) {
		t.Errorf("duplicate ban: %s", l.text())
	}
	if l := dup.eventLevel("m.x", true); !exactMax(l) {
		t.Errorf("duplicate events: %s", l.text())
	}
	lenient, rej := parsePowerLevels(v1, []byte(`{"users":{"@a:x":"100000000000000000005","@a:x":"x"},"users_default":"9223372036854775807"}`), false)
	if rej != nil {
		t.Fatal(rej)
	}
	if l := lenient.userLevel("@a:x"); !exactMax(l) || len(lenient.beyond) != 0 {
		t.Errorf("invalid duplicate: %s, beyond %v", l.text(), lenient.beyond)
	}

	// In-range levels keep no exact values.
	plain, err := ParsePowerLevels(v9, []byte(`{"users":{"@a:x":"9223372036854775807","@b:x":-9223372036854775808},"ban":"9223372036854775807"}`))
	if err != nil || plain.beyond != nil {
		t.Errorf("in-range levels: beyond %v, %v", plain.beyond, err)
	}
}

// TestDiffLevelsExact: a change between two values beyond the int64 range is a change, and the
// same value written differently is not.
func TestDiffLevelsExact(t *testing.T) {
	v9 := mustVersion(t, "9")
	parse := func(content string) *PowerLevels {
		pl, err := ParsePowerLevels(v9, []byte(content))
		if err != nil {
			t.Fatal(err)
		}
		return pl
	}
	prev := parse(`{"users":{"@a:x":"100000000000000000001","@b:x":"100000000000000000001","@c:x":"-100000000000000000001"},"events":{"m.x":"100000000000000000001"}}`)
	next := parse(`{"users":{"@a:x":"100000000000000000002","@b:x":" 0100000000000000000001","@c:x":"-100000000000000000002"},"events":{"m.x":"9223372036854775807"}}`)
	var changed []string
	diffLevels(kindUsers, prev, next, func(key string, oldV, newV levelValue, _, _ bool) bool {
		changed = append(changed, key+":"+oldV.text()+">"+newV.text())
		return true
	})
	diffLevels(kindEvents, prev, next, func(key string, oldV, newV levelValue, _, _ bool) bool {
		changed = append(changed, key+":"+oldV.text()+">"+newV.text())
		return true
	})
	want := "@a:x:100000000000000000001>100000000000000000002 @c:x:-100000000000000000001>-100000000000000000002 m.x:100000000000000000001>9223372036854775807"
	if got := strings.Join(changed, " "); got != want {
		t.Errorf("changes %q, want %q", got, want)
	}
}

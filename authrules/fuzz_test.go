package authrules

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// fuzzVersions are the versions a fuzz input's first byte picks from.
var fuzzVersions = roomversion.All()

// FuzzCheck: Check, State.Check, AuthEventsNeeded and NewState never panic, hang or return
// anything but nil or a *Rejection, on arbitrary events and auth events. Seeded from the
// fixtures.
func FuzzCheck(f *testing.F) {
	templates := loadTemplates(f)
	for _, c := range loadFixtures(f) {
		bc, err := buildCase(f, c, templates)
		if err != nil {
			f.Fatalf("%s: %v", c.Name, err)
		}
		var list [][]byte
		for _, ev := range bc.List {
			list = append(list, ev.Raw())
		}
		if bc.Create != nil {
			list = append(list, bc.Create.Raw())
		}
		arr, _ := json.Marshal(rawList(list))
		f.Add(versionIndex(bc.V.ID), bc.Event.Raw(), arr)
	}
	keys := testKeyRing(f)
	f.Fuzz(func(t *testing.T, vi byte, event, authList []byte) {
		v := fuzzVersions[int(vi)%len(fuzzVersions)]
		ev, err := pdu.Parse(v, event)
		if err != nil {
			return
		}
		var auth []*pdu.Event
		if canonicaljson.KindOf(authList) == canonicaljson.Array {
			var items []json.RawMessage
			if json.Unmarshal(authList, &items) == nil {
				for _, it := range items {
					if ae, err := pdu.Parse(v, it); err == nil {
						auth = append(auth, ae)
					}
				}
			}
		}
		for _, k := range []Options{{}, {Keys: keys}, {Warn: func(*Rejection) {}, Create: firstCreate(auth)}} {
			checkVerdictShape(t, CheckWithOptions(v, ev, auth, k))
		}
		if _, err := AuthEventsNeeded(v, ev); err != nil {
			var rej *Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("AuthEventsNeeded error %T %v", err, err)
			}
		}
		var stateEvents []*pdu.Event
		seen := map[StateKey]bool{}
		for _, ae := range auth {
			if ae.StateKey != nil && !seen[StateKey{ae.Type, *ae.StateKey}] {
				seen[StateKey{ae.Type, *ae.StateKey}] = true
				stateEvents = append(stateEvents, ae)
			}
		}
		s, err := NewState(v, stateEvents)
		if errors.Is(err, ErrInvalidState) && strings.Contains(err.Error(), "is of room") {
			return // auth events of several rooms
		}
		if err != nil {
			t.Fatalf("NewState: %v", err)
		}
		checkVerdictShape(t, s.Check(ev, nil))
		checkVerdictShape(t, s.Check(ev, keys))
		_, _ = s.AuthEvents(ev)
		_ = s.Members(pdu.MembershipJoin)
		if ev.StateKey != nil {
			_ = s.Apply(ev)
			checkVerdictShape(t, s.Check(ev, nil))
		}
	})
}

type rawList [][]byte

func (l rawList) MarshalJSON() ([]byte, error) {
	out := []byte{'['}
	for i, r := range l {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, r...)
	}
	return append(out, ']'), nil
}

func versionIndex(id string) byte {
	for i, v := range fuzzVersions {
		if v.ID == id {
			return byte(i)
		}
	}
	return 0
}

func firstCreate(evs []*pdu.Event) *pdu.Event {
	for _, e := range evs {
		if e.Type == pdu.TypeCreate {
			return e
		}
	}
	return nil
}

func checkVerdictShape(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var rej *Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("verdict %T %v is not a *Rejection", err, err)
	}
	if rej.Severity != SeverityFatal && rej.Severity != SeverityError {
		t.Fatalf("rejection with severity %v", rej.Severity)
	}
	if rej.Err == nil || rej.Reason == "" {
		t.Fatalf("rejection without sentinel or reason: %#v", rej)
	}
	if !Rejected(err) {
		t.Fatalf("rejection does not match ErrRejected")
	}
}

// FuzzParsePowerLevels: ParsePowerLevels (and ParseJoinRules on the same content) never panics;
// what the strict reading accepts, the lenient reading of a room state reads the same way.
func FuzzParsePowerLevels(f *testing.F) {
	for _, s := range []string{
		`{"users":{"@a:b":100},"ban":"50","events":{"x":" +7 "},"notifications":{"room":1}}`,
		`{"users":{"@a:b":1.5e1},"kick":-0,"invite":1e400}`,
		`{"users":[],"events":5}`, `{"users":{"bad":1}}`, `{"state_default":"\u00a050\u3000"}`,
		`{"ban":true,"redact":null,"users_default":{}}`, `{}`, `{"users":{"@a:b":1,"@a:b":"x"}}`,
	} {
		for i := range fuzzVersions {
			f.Add(byte(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, vi byte, content []byte) {
		v := fuzzVersions[int(vi)%len(fuzzVersions)]
		if canonicaljson.Valid(content, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}) != nil ||
			canonicaljson.KindOf(content) != canonicaljson.Object {
			return
		}
		_ = ParseJoinRules(content) // never panics, whatever the content
		strict, err := ParsePowerLevels(v, content)
		lenient, rej := parsePowerLevels(v, content, false)
		if rej != nil {
			t.Fatalf("lenient reading failed: %v", rej)
		}
		if err != nil {
			var r *Rejection
			if !errors.As(err, &r) || !errors.Is(err, ErrPowerLevelsInvalid) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if strict.named != lenient.named || len(strict.users) != len(lenient.users) || len(strict.events) != len(lenient.events) {
			t.Fatalf("strict %+v and lenient %+v readings differ", strict, lenient)
		}
		if !maps.EqualFunc(strict.beyond, lenient.beyond, func(a, b *string) bool { return *a == *b }) {
			t.Fatalf("exact values: strict %v, lenient %v", strict.beyond, lenient.beyond)
		}
		for _, l := range strict.users {
			if strict.UserLevel(l.key) != lenient.UserLevel(l.key) {
				t.Fatalf("user %q: %d vs %d", l.key, strict.UserLevel(l.key), lenient.UserLevel(l.key))
			}
			if compareLevels(strict.userLevel(l.key), lenient.userLevel(l.key)) != 0 {
				t.Fatalf("user %q: %+v vs %+v", l.key, strict.userLevel(l.key), lenient.userLevel(l.key))
			}
		}
	})
}

// FuzzCompareLevels: two integer strings compare as math/big compares them (as Python's
// integers do), and their int64s are the values saturated.
func FuzzCompareLevels(f *testing.F) {
	for _, s := range [][2]string{
		{"0", "0"}, {"9223372036854775807", "9223372036854775808"}, {"-9223372036854775808", "-9223372036854775809"},
		{"100000000000000000005", "100000000000000000010"}, {" +000100000000000000000005", "100000000000000000005"},
		{"-100000000000000000005", "-00100000000000000000004\t"}, {"99999999999999999999", "-99999999999999999999"},
	} {
		f.Add(s[0], s[1])
	}
	minInt, maxInt := big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	exact := func(s string) *big.Int {
		x, ok := new(big.Int).SetString(strings.TrimFunc(s, isPythonSpace), 10)
		if !ok {
			panic("unparseable level " + s)
		}
		return x
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		la, okA := parseStringLevel(a)
		lb, okB := parseStringLevel(b)
		if !okA || !okB {
			return
		}
		xa, xb := exact(a), exact(b)
		want := xa.Cmp(xb)
		if got := compareLevels(la, lb); got != want {
			t.Fatalf("compareLevels(%q, %q) = %d, math/big says %d", a, b, got, want)
		}
		if levelLess(la, lb) != (want < 0) || levelsEqual(la, lb) != (want == 0) {
			t.Fatalf("levelLess / levelsEqual(%q, %q) disagree with math/big's %d", a, b, want)
		}
		for _, c := range []struct {
			l levelValue
			x *big.Int
		}{{la, xa}, {lb, xb}} {
			sat := c.x
			if sat.Cmp(maxInt) > 0 {
				sat = maxInt
			} else if sat.Cmp(minInt) < 0 {
				sat = minInt
			}
			if c.l.n != sat.Int64() || (c.l.beyond != nil) != (c.x.Cmp(sat) != 0) {
				t.Fatalf("level {%d %s} of %s: not the saturated value with its digits", c.l.n, digitsOf(c.l), c.x)
			}
			if c.l.beyond != nil && c.l.text() != c.x.String() && len(*c.l.beyond) <= maxLevelDigits {
				t.Fatalf("text %q of %s", c.l.text(), c.x)
			}
		}
	})
}

package authrules

import (
	"encoding/json"
	"errors"
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
		for _, ev := range bc.list {
			list = append(list, ev.Raw())
		}
		if bc.create != nil {
			list = append(list, bc.create.Raw())
		}
		arr, _ := json.Marshal(rawList(list))
		f.Add(versionIndex(bc.v.ID), bc.event.Raw(), arr)
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
		for _, l := range strict.users {
			if strict.UserLevel(l.key) != lenient.UserLevel(l.key) {
				t.Fatalf("user %q: %d vs %d", l.key, strict.UserLevel(l.key), lenient.UserLevel(l.key))
			}
		}
	})
}

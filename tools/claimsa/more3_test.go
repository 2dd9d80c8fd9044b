package claimsa

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// TestPDUDuplicatesV1to5 checks decisions.md pdu "Keys are exact; the last duplicate wins"
// together with "Integer fields are integers as received" and "Size is measured on the
// canonical form", for room versions 1-5.
func TestPDUDuplicatesV1to5(t *testing.T) {
	for _, id := range claimkit.VersionIDs()[:5] {
		v := claimkit.Ver(t, id)
		base := string(mkEvent(id, kv{"unsigned", `{}`}))
		withFirst := func(k, raw string) []byte { return []byte(`{"` + k + `":` + raw + `,` + base[1:]) }
		withLast := func(k, raw string) []byte { return []byte(base[:len(base)-1] + `,"` + k + `":` + raw + `}`) }
		cases := []struct {
			claim string
			data  []byte
			want  error
			depth int64
		}{
			{"depth 5e0 then 5: last (integer) wins", withFirst("depth", "5e0"), nil, 5},
			{"depth 1.5 then 5: last wins", withFirst("depth", "1.5"), nil, 5},
			{"depth 5 then 7e0: last is an exponent", withLast("depth", "7e0"), pdu.ErrWrongType, 0},
			{"depth 5 then 9: last wins", withLast("depth", "9"), nil, 9},
			{"depth 2^63 then 5: last wins", withFirst("depth", "9223372036854775808"), nil, 5},
			{"ots 1e3 then 1000: last wins", withFirst("origin_server_ts", "1e3"), nil, 5},
			{"huge first unsigned dropped: canonical form small", withFirst("unsigned", `{"pad":"`+strings.Repeat("p", 70000)+`"}`), nil, 5},
			{"huge first unsigned > 6x65536 dropped", withFirst("unsigned", `{"pad":"`+strings.Repeat("p", 400000)+`"}`), nil, 5},
			{"sender 5 then string: last wins", withFirst("sender", "5"), nil, 5},
			{"content [] then object: last wins", withFirst("content", "[]"), nil, 5},
		}
		for _, c := range cases {
			ev, err := pdu.Parse(v, c.data)
			if c.want == nil {
				if err != nil {
					t.Errorf("v%s %s: %v", id, c.claim, err)
				} else if ev.Depth != c.depth {
					t.Errorf("v%s %s: Depth %d, want %d", id, c.claim, ev.Depth, c.depth)
				}
				continue
			}
			if !errors.Is(err, c.want) {
				t.Errorf("v%s %s: %v, want %v", id, c.claim, err, c.want)
			}
		}
	}
}

// TestPDUMoreFormat checks further typed-field claims of decisions.md pdu.
func TestPDUMoreFormat(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		cases := []struct {
			claim string
			mods  []kv
			want  error
			field string
		}{
			{"hashes not object", []kv{{"hashes", "5"}}, pdu.ErrNotObject, "hashes"},
			{"unsigned array", []kv{{"unsigned", "[]"}}, pdu.ErrNotObject, "unsigned"},
			{"unsigned null", []kv{{"unsigned", "null"}}, pdu.ErrNotObject, "unsigned"},
			{"signatures not object", []kv{{"signatures", "5"}}, pdu.ErrNotObject, "signatures"},
			{"state_key number", []kv{{"state_key", "5"}}, pdu.ErrWrongType, "state_key"},
			{"type null", []kv{{"type", "null"}}, pdu.ErrWrongType, "type"},
			{"prev_events object", []kv{{"prev_events", "{}"}}, pdu.ErrWrongType, "prev_events"},
		}
		for _, c := range cases {
			_, err := pdu.Parse(v, mkEvent(id, c.mods...))
			var fe *pdu.FormatError
			if !errors.Is(err, c.want) || !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("v%s %s: %v, want %v in %s", id, c.claim, err, c.want, c.field)
			}
		}
		if _, err := pdu.Parse(v, mkEvent(id, kv{"signatures", `{"a":{"ed25519:1":5}}`})); err == nil {
			t.Errorf("v%s signatures with a non-string signature parsed (decisions signing 14: events hold signatures to object of objects of strings)", id)
		}
		if _, err := pdu.Parse(v, mkEvent(id, kv{"signatures", `{"a":5}`})); err == nil {
			t.Errorf("v%s signatures with a non-object entry parsed", id)
		}
	}
}

// TestPDURedactsLimit checks decisions.md pdu "Referenced event IDs are strings of at most
// 255 bytes": "a top-level `redacts` (v1-10) may be any string, of any length".
func TestPDURedactsLimit(t *testing.T) {
	for _, id := range claimkit.VersionIDs()[:10] {
		t.Run("v"+id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			for _, n := range []int{254, 255, 1000} {
				ev, err := pdu.Parse(v, mkEvent(id, kv{"type", `"m.room.redaction"`}, kv{"redacts", `"$` + strings.Repeat("r", n) + `"`}))
				if err != nil || len(ev.Redacts) != n+1 {
					t.Errorf("v%s %d-byte top-level redacts of an m.room.redaction: %v", id, n+1, err)
				}
			}
		})
	}
}

// TestSignLenient checks go doc SignJSON ("lenient rules, as for room versions 1-5"),
// CountersignEvent ("does not verify the event"; output canonical, strict from v6) and
// SignEvent (strict from v6).
func TestSignLenient(t *testing.T) {
	k := skey(t, "a.example", "1")
	r := ring(t, "a.example", "1")
	for _, in := range []string{`{"a":1.5}`, `{"a":1,"a":2}`, `{"a":"\ud800"}`, `{"a":1e400}`} {
		o, err := signing.SignJSON([]byte(in), "a.example", k)
		if err != nil {
			t.Errorf("SignJSON(%s): %v", in, err)
			continue
		}
		verr(t, "VerifyJSON after lenient SignJSON "+in, signing.VerifyJSON(o, r), nil, "")
	}
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		e := signedEvent(t, id, []string{"a.example"})
		broken := setTop(t, e, "content", `{"body":"x"}`)
		spaced := []byte(" " + strings.Replace(string(broken), ",", " , ", -1))
		cs, err := signing.CountersignEvent(v, spaced, "b.example", skey(t, "b.example", "1"))
		if err != nil {
			t.Errorf("v%s CountersignEvent of an event with a bad hash: %v (doc: does not verify)", id, err)
			continue
		}
		if c, _ := canonicaljson.Append(nil, cs, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}); string(c) != string(cs) {
			t.Errorf("v%s CountersignEvent output not canonical", id)
		}
		_, err = signing.SignEvent(v, mkEvent(id, kv{"content", `{"x":1.5}`}), "a.example", k)
		if v.Format.StrictCanonicalJSON {
			verr(t, "SignEvent strict float", err, signing.ErrMalformed, "")
		} else if err != nil {
			t.Errorf("v%s SignEvent lenient float: %v", id, err)
		}
	}
}

// TestConcurrentUse exercises the "safe for concurrent use" claims of canonicaljson,
// redaction and signing; it is meaningful under -race (run once for the report).
func TestConcurrentUse(t *testing.T) {
	v := claimkit.Ver(t, "10")
	e := signedEvent(t, "10", []string{"a.example"})
	r := ring(t, "a.example", "1")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := canonicaljson.Canonical([]byte(`{"b":1,"a":[1,2]}`)); err != nil {
					t.Error(err)
				}
				if _, err := redaction.Redact(v, e); err != nil {
					t.Error(err)
				}
				if err := signing.VerifyEvent(v, e, r); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	ev, _ := pdu.Parse(v, e)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = ev.Raw()
			_ = ev.HasKey("depth")
			_ = signing.VerifyParsedEvent(ev, r)
		}()
	}
	wg.Wait()
}

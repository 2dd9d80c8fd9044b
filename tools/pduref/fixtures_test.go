package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"reflect"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// fixtureKinds maps the error kinds of testdata/pdu/cases.json to the reference's.
var fixtureKinds = map[string]string{
	"missing": "missing", "type": "wrongtype", "too_large": "toolarge", "too_many": "toomany",
	"range": "outofrange", "json": "notjson", "not_object": "notobject",
}

// TestFixturesAgree runs every case of testdata/pdu/cases.json (pdu.Parse) through the spec-only
// references with docs/decisions.md's readings (PDUREF_DECISIONS=1, which sets them for
// formatref.py and verifyref.py too): a refused case must be refused with the fixture's error
// kind (or "grammar", which no sentinel names) naming the fixture's field; an accepted case must
// be accepted, with every field value the fixture lists read the same.
func TestFixturesAgree(t *testing.T) {
	pyref.Require(t)
	data, err := os.ReadFile("../../testdata/pdu/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name        string          `json:"name"`
		RoomVersion string          `json:"room_version"`
		Event       json.RawMessage `json:"event"`
		Raw         *string         `json:"raw"`
		Expect      map[string]json.RawMessage
	}
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	ref, err := pyref.Start(pyref.Beside("pduref.py"), "PDUREF_DECISIONS=1")
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	str := func(b json.RawMessage) string {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		return s
	}
	// the fixture's expect fields and the reference's names for them; string values travel
	// as base64
	fields := map[string]string{"event_id": "EventID", "room_id": "RoomID", "sender": "Sender",
		"type": "Type", "state_key": "StateKey", "prev_events": "PrevEvents", "auth_events": "AuthEvents",
		"depth": "Depth", "content_hash": "ContentHash", "redacts": "Redacts", "membership": "Membership"}
	refused, accepted, values := 0, 0, 0
	for _, c := range cases {
		in := []byte(c.Event)
		if c.Raw != nil {
			in = []byte(*c.Raw)
		}
		var resp refResp
		if err := ref.Ask(refReq{Op: "event", V: c.RoomVersion, Ev: base64.StdEncoding.EncodeToString(in)}, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Error != "" {
			t.Errorf("%s: reference error: %s", c.Name, resp.Error)
			continue
		}
		if e, ok := c.Expect["error"]; ok {
			refused++
			kind := fixtureKinds[str(e)]
			if kind == "" {
				t.Fatalf("%s: unknown error kind %s", c.Name, e)
			}
			field, named := "", false
			if f, ok := c.Expect["field"]; ok {
				field, named = str(f), true
			}
			kindOK, fieldOK := false, !named
			for _, kf := range resp.Fields {
				if kf[0] == kind || kf[0] == "grammar" {
					kindOK = true
					fieldOK = fieldOK || kf[1] == field
				}
			}
			if resp.Verdict != "refuse" || !kindOK || !fieldOK {
				t.Errorf("%s (v%s): fixture refuses (%s, field %q); reference %s %v (%s)", c.Name, c.RoomVersion,
					kind, field, resp.Verdict, resp.Fields, resp.Why)
			}
			continue
		}
		accepted++
		if resp.Verdict != "accept" {
			t.Errorf("%s (v%s): fixture accepts; reference refuses %v (%s)", c.Name, c.RoomVersion, resp.Fields, resp.Why)
			continue
		}
		for name, want := range c.Expect {
			if name == "ok" {
				continue
			}
			refName, ok := fields[name]
			if !ok {
				t.Fatalf("%s: unknown expect field %q", c.Name, name)
			}
			values++
			var got, exp any
			if err := json.Unmarshal(want, &exp); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(resp.Event[refName], &got); err != nil {
				t.Fatal(err)
			}
			switch g := got.(type) {
			case string:
				got = unb64(g)
			case []any:
				for i, x := range g {
					if s, ok := x.(string); ok {
						g[i] = unb64(s)
					}
				}
			}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("%s (v%s): %s: fixture %v; reference %v", c.Name, c.RoomVersion, name, exp, got)
			}
		}
	}
	if refused < 45 || accepted < 20 || values < 25 {
		t.Errorf("compared %d refused and %d accepted cases (%d field values): want at least 45, 20 (25)", refused, accepted, values)
	}
	t.Logf("%d refused and %d accepted cases agree (%d field values)", refused, accepted, values)
}

package claimsa

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// keptTop are the top-level keys the redaction algorithm keeps (rooms/fragments/
// v1-redactions.md; v11-redactions.md drops origin, membership, prev_state).
func keptTop(id string) []string {
	k := []string{"event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures", "depth", "prev_events", "auth_events", "origin_server_ts"}
	if inRange(id, 1, 10) {
		k = append(k, "origin", "membership", "prev_state")
	}
	return k
}

// keptContent are the content keys kept per type, from the spec's fragments (nil: all).
func keptContent(id, typ string) (keys []string, all bool) {
	switch typ {
	case "m.room.member":
		keys = []string{"membership"}
		if inRange(id, 9, 12) {
			keys = append(keys, "join_authorised_via_users_server")
		}
	case "m.room.create":
		if inRange(id, 11, 12) {
			return nil, true
		}
		keys = []string{"creator"}
	case "m.room.join_rules":
		keys = []string{"join_rule"}
		if inRange(id, 8, 12) {
			keys = append(keys, "allow")
		}
	case "m.room.power_levels":
		keys = []string{"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
		if inRange(id, 11, 12) {
			keys = append(keys, "invite")
		}
	case "m.room.history_visibility":
		keys = []string{"history_visibility"}
	case "m.room.aliases":
		if inRange(id, 1, 5) {
			keys = []string{"aliases"}
		}
	case "m.room.redaction":
		if inRange(id, 11, 12) {
			keys = []string{"redacts"}
		}
	}
	return keys, false
}

// modelRedact is this audit's own reading of the fragments, for inputs without duplicate keys.
func modelRedact(t *testing.T, id string, data []byte) []byte {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatalf("model: %v", err)
	}
	out := map[string]json.RawMessage{}
	for _, k := range keptTop(id) {
		if v, ok := top[k]; ok {
			out[k] = v
		}
	}
	var typ string
	_ = json.Unmarshal(top["type"], &typ)
	content := map[string]json.RawMessage{}
	var in map[string]json.RawMessage
	if json.Unmarshal(top["content"], &in) == nil && in != nil {
		keys, all := keptContent(id, typ)
		for k, v := range in {
			if all || slices.Contains(keys, k) {
				content[k] = v
			}
		}
		if typ == "m.room.member" && inRange(id, 11, 12) {
			var tpi map[string]json.RawMessage
			if raw, ok := in["third_party_invite"]; ok && json.Unmarshal(raw, &tpi) == nil && tpi != nil {
				kept := map[string]json.RawMessage{}
				if s, ok := tpi["signed"]; ok {
					kept["signed"] = s
				}
				b, _ := json.Marshal(kept)
				content["third_party_invite"] = b
			}
		}
	}
	cb, _ := json.Marshal(content)
	out["content"] = cb
	b, _ := json.Marshal(out)
	c, err := canonicaljson.Canonical(b)
	if err != nil {
		t.Fatalf("model canonical: %v", err)
	}
	return c
}

// redEvent makes an event of type typ with the given content and every top-level key the
// algorithms know, plus extras.
func redEvent(typ, content string) []byte {
	return []byte(fmt.Sprintf(`{"auth_events":[],"content":%s,"depth":3,"event_id":"$e:a.example","extra":{"x":1},`+
		`"hashes":{"sha256":"h"},"membership":"join","origin":"a.example","origin_server_ts":7,"prev_events":[],"prev_state":[],`+
		`"redacts":"$t","room_id":"!r:a.example","sender":"@u:a.example","signatures":{"a.example":{"ed25519:1":"s"}},`+
		`"state_key":"","type":%s,"unsigned":{"age":1}}`, content, typ))
}

// TestRedactKeptKeys checks decisions.md redaction "Flags checked" and entries 1, 2, 3, 6
// against this audit's reading of the fragments, in every version.
func TestRedactKeptKeys(t *testing.T) {
	contents := map[string]string{
		`"m.room.member"`:             `{"membership":"join","join_authorised_via_users_server":"@a:b","displayname":"x","third_party_invite":{"signed":{"k":1},"display_name":"d"}}`,
		`"m.room.create"`:             `{"creator":"@u:a.example","room_version":"1","m.federate":false}`,
		`"m.room.join_rules"`:         `{"join_rule":"restricted","allow":[{"type":"m.room_membership"}],"other":1}`,
		`"m.room.power_levels"`:       `{"ban":50,"events":{},"events_default":0,"invite":0,"kick":50,"redact":50,"state_default":50,"users":{},"users_default":0,"notifications":{"room":50},"historical":100}`,
		`"m.room.history_visibility"`: `{"history_visibility":"shared","x":1}`,
		`"m.room.aliases"`:            `{"aliases":["#a:b"],"x":1}`,
		`"m.room.redaction"`:          `{"redacts":"$t","reason":"r"}`,
		`"m.room.message"`:            `{"body":"hi"}`,
		`"m.room.\u006dember"`:        `{"membership":"join","displayname":"x"}`,
		`"M.room.member"`:             `{"membership":"join"}`,
		`5`:                           `{"membership":"join"}`,
		`"m.room.member "`:            `{"membership":"join"}`,
	}
	// Extra third_party_invite shapes (entry 3).
	tpi := []string{
		`{"membership":"invite","third_party_invite":{"display_name":"d"}}`,
		`{"membership":"invite","third_party_invite":"str"}`,
		`{"membership":"invite","third_party_invite":{"signed":5}}`,
		`{"membership":"invite","third_party_invite":{"signed":null,"x":1}}`,
		`{"membership":"invite","third_party_invite":[1]}`,
	}
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		var inputs [][]byte
		for typ, c := range contents {
			inputs = append(inputs, redEvent(typ, c))
		}
		for _, c := range tpi {
			inputs = append(inputs, redEvent(`"m.room.member"`, c))
		}
		for _, c := range []string{`[]`, `"s"`, `5`, `true`, `null`} { // entry 2
			for _, typ := range []string{`"m.room.create"`, `"m.room.member"`, `"m.room.message"`} {
				inputs = append(inputs, redEvent(typ, c))
			}
		}
		inputs = append(inputs, []byte(`{"type":"m.room.member","sender":"@u:a"}`)) // entry 1: no content
		inputs = append(inputs, []byte(`{"content":{"membership":"join"}}`))        // entry 6: no type
		for _, in := range inputs {
			if !v.Format.StrictCanonicalJSON || true {
				got, err := redaction.Redact(v, in)
				want := modelRedact(t, id, in)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("v%s Redact(%s)\n got %s (%v)\nwant %s", id, in, got, err, want)
					continue
				}
				again, err := redaction.Redact(v, got)
				if err != nil || !bytes.Equal(again, got) {
					t.Errorf("v%s Redact not idempotent on %s: %s", id, got, again)
				}
			}
		}
	}
}

// TestRedactErrors checks go doc redaction.Redact and decisions.md redaction 4, 5, 7.
func TestRedactErrors(t *testing.T) {
	type c struct {
		claim string
		vers  []string
		in    string
		out   string // wanted output
		err   error
		cj    error // canonicaljson sentinel wrapped
	}
	v15 := claimkit.VersionIDs()[:5]
	v6p := claimkit.VersionIDs()[5:]
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []c{
		{"r4 float in unsigned v6+", v6p, `{"type":"m.room.message","unsigned":{"x":1.5}}`, "", redaction.ErrInvalidJSON, canonicaljson.ErrFloat},
		{"r4 big int in removed key v6+", v6p, `{"type":"m.room.message","extra":9007199254740992}`, "", redaction.ErrInvalidJSON, canonicaljson.ErrIntegerRange},
		{"r4 lone surrogate in removed content v6+", v6p, `{"type":"m.room.message","content":{"body":"\ud800"}}`, "", redaction.ErrInvalidJSON, canonicaljson.ErrLoneSurrogate},
		{"r4 float in unsigned ok v1-5", v15, `{"type":"m.room.message","unsigned":{"x":1.5}}`, `{"content":{},"type":"m.room.message"}`, nil, nil},
		{"r4 kept float copied canonical v1-5", v15, `{"type":"m.room.power_levels","content":{"ban":5e1,"kick":1.5}}`, `{"content":{"ban":50,"kick":1.5},"type":"m.room.power_levels"}`, nil, nil},
		{"r5 dup top-level last wins v1-5", v15, `{"type":"m.room.message","type":"m.room.member","content":{"membership":"join"}}`, `{"content":{"membership":"join"},"type":"m.room.member"}`, nil, nil},
		{"r5 dup content last wins v1-5", v15, `{"type":"m.room.member","content":{"membership":"join","membership":"leave"}}`, `{"content":{"membership":"leave"},"type":"m.room.member"}`, nil, nil},
		{"r5 dup nested last wins v1-5", v15, `{"type":"m.room.power_levels","content":{"users":{"@a:b":1,"@a:b":2}}}`, `{"content":{"users":{"@a:b":2}},"type":"m.room.power_levels"}`, nil, nil},
		{"r5 dup content v6+ error", v6p, `{"type":"m.room.member","content":{"membership":"join","membership":"leave"}}`, "", redaction.ErrInvalidJSON, canonicaljson.ErrDuplicateKey},
		{"r5 dup in removed key v6+ error", v6p, `{"type":"m.room.message","x":{"a":1,"a":1}}`, "", redaction.ErrInvalidJSON, canonicaljson.ErrDuplicateKey},
		{"r7 depth 127 ok", claimkit.VersionIDs(), `{"type":"m.room.message","x":` + deep(126) + `}`, `{"content":{},"type":"m.room.message"}`, nil, nil},
		{"r7 depth 128 in removed key", claimkit.VersionIDs(), `{"type":"m.room.message","x":` + deep(127) + `}`, "", redaction.ErrInvalidJSON, canonicaljson.ErrTooDeep},
		{"not JSON", claimkit.VersionIDs(), `{"type":`, "", redaction.ErrInvalidJSON, canonicaljson.ErrSyntax},
		{"not object", claimkit.VersionIDs(), `[1]`, "", redaction.ErrNotObject, nil},
		{"not object string", claimkit.VersionIDs(), `"x"`, "", redaction.ErrNotObject, nil},
		{"r1 empty object", claimkit.VersionIDs(), `{}`, `{"content":{}}`, nil, nil},
		{"whitespace and order", claimkit.VersionIDs(), ` { "type" : "m.room.member" , "content" : { "membership" : "join" , "x" : 1 } } `, `{"content":{"membership":"join"},"type":"m.room.member"}`, nil, nil},
	}
	for _, cs := range cases {
		for _, id := range cs.vers {
			in := []byte(cs.in)
			orig := slices.Clone(in)
			got, err := redaction.Redact(claimkit.Ver(t, id), in)
			if !bytes.Equal(in, orig) {
				t.Errorf("%s v%s: Redact modified its input", cs.claim, id)
			}
			if cs.err == nil {
				if err != nil || string(got) != cs.out {
					t.Errorf("%s v%s: %s, %v; want %s", cs.claim, id, got, err, cs.out)
				}
				if len(got) > 0 && len(in) > 0 && &got[0] == &in[0] {
					t.Errorf("%s: result shares memory with data", cs.claim)
				}
				continue
			}
			var re *redaction.Error
			if !errors.As(err, &re) || re.Err != cs.err || !errors.Is(err, cs.err) || (cs.cj != nil && !errors.Is(err, cs.cj)) || got != nil {
				t.Errorf("%s v%s: %q, %v; want *Error %v wrapping %v", cs.claim, id, got, err, cs.err, cs.cj)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "redaction: ") {
				t.Errorf("Error() = %q, want prefix \"redaction: \"", err.Error())
			}
		}
	}
	var zero roomversion.Version
	if _, err := redaction.Redact(zero, []byte(`{}`)); !errors.Is(err, roomversion.ErrUnknownVersion) {
		t.Errorf("Redact(zero Version) = %v, want ErrUnknownVersion", err)
	}
}

// TestRedactCanonical checks go doc RedactCanonical, AppendSignedBytes,
// AppendSignedBytesIndexed.
func TestRedactCanonical(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		in := redEvent(`"m.room.member"`, `{"membership":"join","join_authorised_via_users_server":"@a:b","x":1,"third_party_invite":{"signed":{"a":1},"b":2}}`)
		canon, err := canonicaljson.Append(nil, in, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON})
		if err != nil {
			t.Fatal(err)
		}
		r1, e1 := redaction.Redact(v, in)
		r2, e2 := redaction.RedactCanonical(v, canon)
		if e1 != nil || e2 != nil || !bytes.Equal(r1, r2) {
			t.Errorf("v%s RedactCanonical != Redact: %s %v / %s %v", id, r1, e1, r2, e2)
		}
		// Signed bytes: redacted minus signatures.
		var m map[string]json.RawMessage
		_ = json.Unmarshal(r1, &m)
		delete(m, "signatures")
		b, _ := json.Marshal(m)
		want, _ := canonicaljson.Canonical(b)
		dst := []byte("pre")
		got, err := redaction.AppendSignedBytes(dst, v, canon)
		if err != nil || string(got) != "pre"+string(want) {
			t.Errorf("v%s AppendSignedBytes = %s, %v; want pre%s", id, got, err, want)
		}
		var idx canonicaljson.Index
		canon2, _ := canonicaljson.AppendIndexed(nil, in, canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}, &idx)
		got2, err := redaction.AppendSignedBytesIndexed(nil, v, canon2, &idx)
		if err != nil || !bytes.Equal(got2, want) {
			t.Errorf("v%s AppendSignedBytesIndexed = %s, %v", id, got2, err)
		}
		got3, err := redaction.AppendSignedBytesIndexed(nil, v, canon2, nil)
		if err != nil || !bytes.Equal(got3, want) {
			t.Errorf("v%s AppendSignedBytesIndexed(nil idx) = %s, %v", id, got3, err)
		}
		// Errors.
		if _, err := redaction.RedactCanonical(v, []byte(`[1]`)); !errors.Is(err, redaction.ErrNotObject) {
			t.Errorf("RedactCanonical([1]) = %v, want ErrNotObject", err)
		}
		d := make([]byte, 2, 16)
		copy(d, "ab")
		o, err := redaction.AppendSignedBytes(d, v, []byte(`[1]`))
		if err == nil || string(o) != "ab" {
			t.Errorf("AppendSignedBytes error: %q %v; want dst unchanged", o, err)
		}
	}
}

// parsed parses data for version id and sets its EventID (as signing.ParseEvent would).
func parsed(t *testing.T, id string, data string, eventID string) *pdu.Event {
	t.Helper()
	ev, err := pdu.Parse(claimkit.Ver(t, id), []byte(data))
	if err != nil {
		t.Fatalf("parse %s: %v", data, err)
	}
	if eventID != "" {
		ev.EventID = eventID
	}
	return ev
}

// evJSON builds a minimal PDU of version id.
func evJSON(id string, mods ...kv) string {
	return string(mkEvent(id, mods...))
}

// TestDecide checks go doc redaction.Decide / DecideCompared and decisions.md redaction 8-11.
func TestDecide(t *testing.T) {
	type c struct {
		claim    string
		vers     []string
		red      []kv // mods to the redaction event (type set to m.room.redaction)
		tgt      []kv // mods to the target; nil: target absent
		tgtID    string
		noTarget bool
		pl, rl   int64
		want     redaction.Decision
		known    string
	}
	v3p := claimkit.VersionIDs()[2:]
	v12 := []string{"1", "2"}
	redacts := func(id, target string) []kv {
		if inRange(id, 11, 12) {
			return []kv{{"content", fmt.Sprintf(`{"redacts":%q}`, target)}}
		}
		return []kv{{"redacts", fmt.Sprintf(`%q`, target)}}
	}
	cases := []c{
		{claim: "power >= redact: apply", vers: claimkit.VersionIDs(), pl: 50, rl: 50, tgt: []kv{{"sender", `"@v:b.example"`}}, tgtID: "$t:b.example", want: redaction.Apply},
		{claim: "r8 below level, other sender domain: ignore", vers: v3p, pl: 0, rl: 50, tgt: []kv{{"sender", `"@v:b.example"`}}, tgtID: "$t:b.example", want: redaction.Ignore},
		{claim: "below level, same sender domain: apply (v3+)", vers: v3p, pl: 0, rl: 50, tgt: []kv{{"sender", `"@v:a.example"`}}, tgtID: "$t:b.example", want: redaction.Apply},
		{claim: "r11 port included: a.example:8448 != a.example", vers: v3p, pl: 0, rl: 50, tgt: []kv{{"sender", `"@v:a.example:8448"`}}, tgtID: "$t", want: redaction.Ignore},
		{claim: "r11 no domain matches nothing", vers: v3p, pl: 0, rl: 50, red: []kv{{"sender", `"@u"`}}, tgt: []kv{{"sender", `"@u"`}}, tgtID: "$t", want: redaction.Ignore},
		{claim: "target absent: wait (v3+)", vers: v3p, pl: 0, rl: 50, noTarget: true, want: redaction.WaitForTarget},
		{claim: "r9 target ID differs: ignore", vers: claimkit.VersionIDs(), pl: 100, rl: 50, tgt: []kv{}, tgtID: "$other:a.example", want: redaction.Ignore},
		{claim: "r9 target in another room: ignore", vers: claimkit.VersionIDs(), pl: 100, rl: 50, tgt: []kv{{"room_id", `"!other:a.example"`}}, tgtID: "$t:b.example", want: redaction.Ignore},
		{claim: "r9 target EventID unset: ignore", vers: v3p, pl: 100, rl: 50, tgt: []kv{}, tgtID: "-", want: redaction.Ignore},
		{claim: "not a redaction: ignore", vers: claimkit.VersionIDs(), pl: 100, rl: 50, red: []kv{{"type", `"m.room.message"`}}, tgt: []kv{}, tgtID: "$t:b.example", want: redaction.Ignore},
		// v1-2 rule 11.
		{claim: "r10 v1-2 below level, event ID domains equal: wait", vers: v12, pl: 0, rl: 50, red: []kv{{"event_id", `"$r:b.example"`}}, noTarget: true, want: redaction.WaitForTarget},
		{claim: "r10 v1-2 below level, event ID domains equal: apply", vers: v12, pl: 0, rl: 50, red: []kv{{"event_id", `"$r:b.example"`}}, tgt: []kv{{"sender", `"@v:c.example"`}}, tgtID: "$t:b.example", want: redaction.Apply},
		{claim: "r10 v1-2 below level, event ID domains differ: ignore at once", vers: v12, pl: 0, rl: 50, noTarget: true, want: redaction.Ignore},
		{claim: "r10 v1-2 sender domains equal but event ID domains differ: ignore", vers: v12, pl: 0, rl: 50, tgt: []kv{{"sender", `"@v:a.example"`}}, tgtID: "$t:b.example", want: redaction.Ignore},
		{claim: "r10 v1-2 power enough, no target: wait", vers: v12, pl: 50, rl: 50, noTarget: true, want: redaction.WaitForTarget},
		{claim: "r11 int64 extremes", vers: claimkit.VersionIDs(), pl: -1 << 63, rl: 1<<63 - 1, tgt: []kv{{"sender", `"@v:b.example"`}}, tgtID: "$t:b.example", want: redaction.Ignore},
	}
	for _, cs := range cases {
		for _, id := range cs.vers {
			t.Run(id+"-"+cs.claim, func(t *testing.T) {
				target := "$t:b.example"
				rmods := append([]kv{{"type", `"m.room.redaction"`}}, redacts(id, target)...)
				if inRange(id, 1, 2) {
					rmods = append(rmods, kv{"event_id", `"$r:a.example"`})
				}
				rmods = append(rmods, cs.red...)
				red := parsed(t, id, evJSON(id, rmods...), "")
				if !inRange(id, 1, 2) {
					red.EventID = "$r"
				}
				var tgt *pdu.Event
				if !cs.noTarget {
					tmods := []kv{}
					if inRange(id, 1, 2) {
						eid := cs.tgtID
						if eid == "-" {
							eid = "$t:b.example"
						}
						tmods = append(tmods, kv{"event_id", fmt.Sprintf("%q", eid)})
					}
					tmods = append(tmods, cs.tgt...)
					tgt = parsed(t, id, evJSON(id, tmods...), "")
					if cs.tgtID == "-" {
						tgt.EventID = ""
					} else {
						tgt.EventID = cs.tgtID
					}
				}
				got, reason := redaction.Decide(claimkit.Ver(t, id), red, tgt, cs.pl, cs.rl)
				if got != cs.want {
					if cs.known != "" {
						knownFinding(t, cs.known)
					}
					t.Errorf("%s v%s: Decide = %v (%s), want %v", cs.claim, id, got, reason, cs.want)
				}
				if reason == "" {
					t.Errorf("empty reason")
				}
				cmp := 0
				if cs.pl < cs.rl {
					cmp = -1
				} else if cs.pl > cs.rl {
					cmp = 1
				}
				if got2, _ := redaction.DecideCompared(claimkit.Ver(t, id), red, tgt, cmp); got2 != got {
					t.Errorf("DecideCompared(%d) = %v, Decide = %v", cmp, got2, got)
				}
			})
		}
	}
	// Version mismatches (go doc Decide: ignored).
	red := parsed(t, "9", evJSON("9", kv{"type", `"m.room.redaction"`}, kv{"redacts", `"$t"`}), "$r")
	tgt := parsed(t, "9", evJSON("9"), "$t")
	tgt10 := parsed(t, "10", evJSON("10"), "$t")
	if d, _ := redaction.Decide(claimkit.Ver(t, "9"), red, tgt, 100, 50); d != redaction.Apply {
		t.Errorf("baseline: %v", d)
	}
	if d, _ := redaction.Decide(claimkit.Ver(t, "10"), red, tgt10, 100, 50); d != redaction.Ignore {
		t.Errorf("redaction parsed for v9, Decide v10: %v, want ignore", d)
	}
	if d, _ := redaction.Decide(claimkit.Ver(t, "9"), red, tgt10, 100, 50); d != redaction.Ignore {
		t.Errorf("target parsed for v10: %v, want ignore", d)
	}
	// DecideCompared exactness: the sign is all that counts.
	for cmp, want := range map[int]redaction.Decision{-5: redaction.Ignore, 0: redaction.Apply, 7: redaction.Apply} {
		tgtB := parsed(t, "9", evJSON("9", kv{"sender", `"@v:b.example"`}), "$t")
		if d, _ := redaction.DecideCompared(claimkit.Ver(t, "9"), red, tgtB, cmp); d != want {
			t.Errorf("DecideCompared(%d) = %v, want %v", cmp, d, want)
		}
	}
	// v12 create target: its room is "!" + its ID without "$".
	create := parsed(t, "12", evJSON("12", kv{"type", `"m.room.create"`}, kv{"state_key", `""`}, kv{"room_id", "-"}, kv{"sender", `"@v:b.example"`}), "$abc")
	red12 := parsed(t, "12", evJSON("12", kv{"type", `"m.room.redaction"`}, kv{"room_id", `"!abc"`}, kv{"content", `{"redacts":"$abc"}`}), "$r")
	if d, r := redaction.Decide(claimkit.Ver(t, "12"), red12, create, 100, 50); d != redaction.Apply {
		t.Errorf("v12 create target: %v (%s), want apply (decision r9)", d, r)
	}
	for d, s := range map[redaction.Decision]string{redaction.Apply: "apply", redaction.WaitForTarget: "wait-for-target", redaction.Ignore: "ignore"} {
		if d.String() != s {
			t.Errorf("Decision.String() = %q, want %q", d.String(), s)
		}
	}
	var zero roomversion.Version
	if d, _ := redaction.Decide(zero, red, tgt, 100, 50); d == redaction.Apply {
		t.Errorf("Decide(zero Version) = apply")
	}
}

// TestApplyRedaction checks go doc ApplyRedaction and decisions.md redaction 12.
func TestApplyRedaction(t *testing.T) {
	for _, id := range claimkit.VersionIDs() {
		t.Run(id, func(t *testing.T) {
			v := claimkit.Ver(t, id)
			tmods := []kv{{"type", `"m.room.member"`}, {"state_key", `"@v:b.example"`}, {"content", `{"membership":"join","displayname":"x"}`}, {"unsigned", `{"age":5,"x":{"y":1}}`}}
			rmods := []kv{{"type", `"m.room.redaction"`}, {"unsigned", `{"age":1}`}}
			if inRange(id, 11, 12) {
				rmods = append(rmods, kv{"content", `{"redacts":"$t:b.example"}`})
			} else {
				rmods = append(rmods, kv{"redacts", `"$t:b.example"`})
			}
			if inRange(id, 1, 2) {
				tmods = append(tmods, kv{"event_id", `"$t:b.example"`})
				rmods = append(rmods, kv{"event_id", `"$r:a.example"`})
			}
			tgt := parsed(t, id, " "+evJSON(id, tmods...), "$t:b.example")
			red := parsed(t, id, evJSON(id, rmods...)+" ", "$r:a.example")
			out, err := redaction.ApplyRedaction(tgt, red)
			if err != nil {
				t.Fatalf("ApplyRedaction: %v", err)
			}
			want, _ := redaction.Redact(v, tgt.Raw())
			var m map[string]json.RawMessage
			_ = json.Unmarshal(want, &m)
			m["unsigned"] = json.RawMessage(`{"redacted_because":` + string(red.Raw()) + `}`)
			b, _ := json.Marshal(m)
			wantC, _ := canonicaljson.Canonical(b)
			if !bytes.Equal(out, wantC) {
				t.Errorf("ApplyRedaction =\n%s\nwant\n%s", out, wantC)
			}
			if !bytes.Contains(out, append(append([]byte(`"unsigned":{"redacted_because":`), red.Raw()...), '}')) {
				t.Errorf("redacted_because is not redaction.Raw() byte for byte")
			}
			// Errors.
			var re *redaction.Error
			notRed := parsed(t, id, evJSON(id, kv{"redacts", `"$t:b.example"`}), "$x")
			if _, err := redaction.ApplyRedaction(tgt, notRed); !errors.As(err, &re) || !errors.Is(err, redaction.ErrNotRedaction) {
				t.Errorf("not a redaction: %v", err)
			}
			other := parsed(t, id, " "+evJSON(id, tmods...), "$other:b.example")
			if _, err := redaction.ApplyRedaction(other, red); !errors.Is(err, redaction.ErrWrongTarget) {
				t.Errorf("other target: %v", err)
			}
			unset := parsed(t, id, " "+evJSON(id, tmods...), "")
			unset.EventID = ""
			if _, err := redaction.ApplyRedaction(unset, red); !errors.Is(err, redaction.ErrWrongTarget) {
				t.Errorf("unset target ID: %v", err)
			}
			room := parsed(t, id, " "+evJSON(id, append(tmods, kv{"room_id", `"!o:a.example"`})...), "$t:b.example")
			if _, err := redaction.ApplyRedaction(room, red); !errors.Is(err, redaction.ErrWrongTarget) {
				t.Errorf("other room: %v", err)
			}
			oid := "10"
			if id == "10" {
				oid = "9"
			}
			if inRange(id, 1, 2) == inRange(oid, 1, 2) && inRange(id, 11, 12) == inRange(oid, 11, 12) {
				tOther := parsed(t, oid, " "+evJSON(oid, tmods...), "$t:b.example")
				if _, err := redaction.ApplyRedaction(tOther, red); !errors.Is(err, redaction.ErrWrongTarget) {
					t.Errorf("versions differ: %v, want ErrWrongTarget", err)
				}
			}
		})
	}
}

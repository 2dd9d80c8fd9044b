package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// member is one member of a join-decision input object, as raw JSON.
type member struct{ k, v string }

func render(ms []member) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%q:%s", m.k, m.v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func rawArray(xs []json.RawMessage) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, string(x))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func set(ms []member, k, v string) []member {
	for i := range ms {
		if ms[i].k == k {
			ms[i].v = v
			return ms
		}
	}
	return append(ms, member{k, v})
}

func drop(ms []member, k string) []member {
	var out []member
	for _, m := range ms {
		if m.k != k {
			out = append(out, m)
		}
	}
	return out
}

var joinMuts = []string{"none", "none", "none", "origin+ver", "rooms-absent", "rooms-null", "rooms-empty",
	"rooms-not-object", "rooms-value-not-object", "rooms-value-null", "membership-not-string", "membership-odd",
	"version-missing", "version-number", "version-unknown", "version-padded", "version-null",
	"state-missing", "state-null", "state-object", "state-empty", "state-entry-not-object",
	"state-event-missing-field", "state-non-state-event", "state-duplicate-key", "state-same-event-twice",
	"state-other-room", "state-other-version", "state-other-version-all", "state-float", "state-bigint",
	"state-no-create", "v12-create-room_id",
	"user-missing", "user-number", "user-invalid", "resident-missing", "resident-number", "resident-empty",
	"origin-number", "origin-null", "ver-string", "ver-numbers", "ver-null", "ver-empty",
	"dup-user", "dup-version", "dup-rooms", "extra-members", "not-json", "truncated", "top-array",
	"invalid-utf8", "trailing", "dup-inner-state-key", "ver-long", "rooms-many", "deep-extra", "rooms-dup-room", "rooms-dup-user", "key-case", "key-case-dup", "key-escaped"}

// caseParseJoin compares ParseJoinRequest on a join-decision input built from a signed room
// with one mutation.
func caseParseJoin(g *gen) {
	vid := g.pick(pyref.Versions...)
	rm := g.room(vid)
	state := rm.StateJSON()
	rooms := `{"!o1:a.example":{"@joe:a.example":"join","@ann:a.example":"leave"},"!o2:b.example":{}}`
	ms := []member{{"room_version", fmt.Sprintf("%q", vid)}, {"state", rawArray(state)},
		{"user_id", `"@joe:a.example"`}, {"resident_server", `"r.example"`}, {"rooms", rooms}}
	if g.r.Intn(2) == 0 {
		g.r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	}
	mut := g.pick(joinMuts...)
	var text string
	switch mut {
	case "origin+ver":
		ms = append(ms, member{"origin", `"a.example"`}, member{"ver", `["1","` + vid + `"]`})
	case "rooms-absent":
		ms = drop(ms, "rooms")
	case "rooms-null":
		ms = set(ms, "rooms", "null")
	case "rooms-empty":
		ms = set(ms, "rooms", "{}")
	case "rooms-not-object":
		ms = set(ms, "rooms", g.pick(`[]`, `"!o1:a.example"`, `1`, `[{"!o1:a.example":{}}]`))
	case "rooms-value-not-object":
		ms = set(ms, "rooms", `{"!o1:a.example":`+g.pick(`[]`, `"join"`, `1`, `["@joe:a.example"]`)+`}`)
	case "rooms-value-null":
		ms = set(ms, "rooms", `{"!o1:a.example":null}`)
	case "membership-not-string":
		ms = set(ms, "rooms", `{"!o1:a.example":{"@joe:a.example":`+g.pick(`1`, `null`, `true`, `{"membership":"join"}`, `["join"]`)+`}}`)
	case "membership-odd":
		ms = set(ms, "rooms", `{"!o1:a.example":{"@joe:a.example":`+g.pick(`"JOIN"`, `""`, `"joined"`, `"join "`)+`}}`)
	case "version-missing":
		ms = drop(ms, "room_version")
	case "version-number":
		ms = set(ms, "room_version", vid)
	case "version-unknown":
		ms = set(ms, "room_version", g.pick(`"13"`, `"0"`, `""`, `"org.example.v1"`, `"1.0"`))
	case "version-padded":
		ms = set(ms, "room_version", g.pick(`"0`+vid+`"`, `" `+vid+`"`, `"`+vid+`\u0000"`))
	case "version-null":
		ms = set(ms, "room_version", "null")
	case "state-missing":
		ms = drop(ms, "state")
	case "state-null":
		ms = set(ms, "state", "null")
	case "state-object":
		ms = set(ms, "state", `{"a":`+string(state[0])+`}`)
	case "state-empty":
		ms = set(ms, "state", "[]")
	case "state-entry-not-object":
		ms = set(ms, "state", rawArray(append(append([]json.RawMessage{}, state...), json.RawMessage(g.pick(`1`, `"x"`, `null`, `[]`)))))
	case "state-event-missing-field", "state-non-state-event", "state-float", "state-bigint", "v12-create-room_id", "dup-inner-state-key":
		i := g.r.Intn(len(state))
		if mut == "v12-create-room_id" {
			i = 0
		}
		ev := difftool.Decode(state[i])
		switch mut {
		case "state-event-missing-field":
			delete(ev, g.pick("sender", "type", "content", "depth", "hashes", "signatures", "auth_events", "prev_events", "origin_server_ts"))
		case "state-non-state-event":
			delete(ev, "state_key")
		case "state-float":
			ev["content"].(M)["x"] = json.Number("1.5")
		case "state-bigint":
			ev["content"].(M)["x"] = json.Number("9007199254740993")
		case "v12-create-room_id":
			ev["room_id"] = rm.RoomID
		}
		b := difftool.Enc(ev)
		if mut == "dup-inner-state-key" {
			// a second state_key member naming another key: the last one counts
			b = []byte(strings.TrimSuffix(string(b), "}") + `,"state_key":"@dup:x.example"}`)
		}
		st := append([]json.RawMessage{}, state...)
		st[i] = b
		ms = set(ms, "state", rawArray(st))
	case "state-duplicate-key":
		// a second event with the type and state key of one in the state
		other := g.room(vid)
		if len(other.Raws) > 0 && vid != "12" {
			ev := difftool.Decode(other.Raws[len(other.Raws)-1])
			ev["room_id"] = rm.RoomID
			ms = set(ms, "state", rawArray(append(append([]json.RawMessage{}, state...), difftool.Enc(ev))))
			// the same type and state key may or may not be in state: the reference decides
		}
	case "state-same-event-twice":
		ms = set(ms, "state", rawArray(append(append([]json.RawMessage{}, state...), state[len(state)-1])))
	case "state-other-room":
		other := g.room(vid)
		st := append(append([]json.RawMessage{}, state...), json.RawMessage(other.Raws[len(other.Raws)-1]))
		ms = set(ms, "state", rawArray(st))
	case "state-other-version", "state-other-version-all":
		ov := g.pick(pyref.Versions...)
		other := g.room(ov)
		if mut == "state-other-version-all" {
			ms = set(ms, "state", rawArray(other.StateJSON()))
		} else {
			st := append(append([]json.RawMessage{}, state...), json.RawMessage(other.Raws[len(other.Raws)-1]))
			ms = set(ms, "state", rawArray(st))
		}
		mut += "(" + ov + ")"
	case "state-no-create":
		ms = set(ms, "state", rawArray(state[1:]))
	case "user-missing":
		ms = drop(ms, "user_id")
	case "user-number":
		ms = set(ms, "user_id", g.pick("1", "null", `["@joe:a.example"]`))
	case "user-invalid":
		ms = set(ms, "user_id", g.pick(`"joe"`, `""`, `"@joe"`, `"@joe:"`))
	case "resident-missing":
		ms = drop(ms, "resident_server")
	case "resident-number":
		ms = set(ms, "resident_server", g.pick("1", "null", "{}"))
	case "resident-empty":
		ms = set(ms, "resident_server", `""`)
	case "origin-number":
		ms = append(ms, member{"origin", g.pick("1", "{}", "[]")})
	case "origin-null":
		ms = append(ms, member{"origin", "null"})
	case "ver-string":
		ms = append(ms, member{"ver", `"` + vid + `"`})
	case "ver-numbers":
		ms = append(ms, member{"ver", `[1,9]`})
	case "ver-null":
		ms = append(ms, member{"ver", "null"})
	case "ver-empty":
		ms = append(ms, member{"ver", "[]"})
	case "dup-user":
		ms = append([]member{{"user_id", `"@first:a.example"`}}, ms...)
	case "dup-version":
		ms = append([]member{{"room_version", `"` + g.pick(pyref.Versions...) + `"`}}, ms...)
	case "dup-rooms":
		ms = append(ms, member{"rooms", `{"!o3:c.example":{"@joe:a.example":"join"}}`})
	case "key-case":
		k := g.pick("user_id", "room_version", "resident_server", "state", "rooms")
		for i := range ms {
			if ms[i].k == k {
				ms[i].k = strings.ToUpper(k[:1]) + k[1:]
			}
		}
		mut += "(" + k + ")"
	case "key-case-dup":
		// a second member whose name differs only in case, after the real one
		ms = append(ms, member{g.pick("User_ID", "USER_ID", "Room_Version", "Resident_Server"), `"x"`})
	case "key-escaped":
		text = strings.Replace(render(ms), `"user_id"`, `"user\u005fid"`, 1)
	case "rooms-dup-room":
		ms = set(ms, "rooms", `{"!o1:a.example":{"@joe:a.example":"join"},"!o2:b.example":{},"!o1:a.example":{"@ann:a.example":"join"}}`)
	case "rooms-dup-user":
		ms = set(ms, "rooms", `{"!o1:a.example":{"@joe:a.example":"join","@ann:a.example":"leave","@joe:a.example":"`+g.pick("leave", "ban", "join")+`"}}`)
	case "ver-long":
		vs := make([]string, membership.MaxVer+g.r.Intn(2))
		for i := range vs {
			vs[i] = fmt.Sprintf("%q", fmt.Sprint(i%13))
		}
		ms = append(ms, member{"ver", "[" + strings.Join(vs, ",") + "]"})
	case "rooms-many":
		k := membership.MaxKnownRooms + g.r.Intn(2)
		var rs []string
		for i := range k {
			rs = append(rs, fmt.Sprintf(`"!r%d:a.example":{"@joe:a.example":"join"}`, i))
		}
		ms = set(ms, "rooms", "{"+strings.Join(rs, ",")+"}")
	case "deep-extra":
		d := 120 + g.r.Intn(16)
		ms = append(ms, member{"extra", strings.Repeat("[", d) + strings.Repeat("]", d)})
	case "extra-members":
		ms = append(ms, member{"unknown", `{"a":[1,2,{"b":null}]}`}, member{"event", "null"})
	}
	if text == "" {
		text = render(ms)
	}
	switch mut {
	case "not-json":
		text = "not json"
	case "truncated":
		text = text[:len(text)/2]
	case "top-array":
		text = "[" + text + "]"
	case "invalid-utf8":
		text = strings.Replace(text, `"@joe:a.example"`, "\"@joe\xff:a.example\"", 1)
	case "trailing":
		text += g.pick(" x", "{}", "]")
	}
	a, ok := call(M{"op": "parse_join", "b64": b64([]byte(text))})
	if !ok {
		return
	}
	compared++
	tally["ParseJoinRequest v"+vid]++
	var jr membership.JoinRequest
	var err error
	if p := protect(func() { jr, err = membership.ParseJoinRequest([]byte(text)) }); p != "" {
		report("PANIC", vid, "ParseJoinRequest", mut, p, "", text, a.Amb)
		return
	}
	me, s := errOf(err)
	oc := "accepted"
	if me != nil {
		oc = fmt.Sprintf("%d %s", me.Status, me.ErrCode)
	}
	outcomes["ParseJoinRequest "+strings.SplitN(mut, "(", 2)[0]+" -> "+oc]++
	if err != nil && a.OK && len(a.Either) > 0 && me != nil && me.Status == 400 && me.ErrCode == membership.ErrCodeBadJSON {
		tally["undecided (either answer accepted) ParseJoinRequest "+strings.Join(a.Either, ",")+": roomproto refuses"]++
		return
	}
	if err == nil && len(a.Either) > 0 {
		tally["undecided (either answer accepted) ParseJoinRequest "+strings.Join(a.Either, ",")+": roomproto accepts"]++
	}
	if (err == nil) != a.OK {
		report("VERDICT", vid, "ParseJoinRequest", mut, s, fmt.Sprintf("ok=%v %s (%s)", a.OK, codesString(a.Codes), a.Why), text, a.Amb)
		return
	}
	if err != nil {
		if me == nil || !codeIn(a.Codes, me.Status, me.ErrCode) {
			report("ERRCODE", vid, "ParseJoinRequest", mut, s, codesString(a.Codes)+" ("+a.Why+")", text, a.Amb)
		} else if !errors.Is(err, membership.ErrBadInput) {
			report("REASON", vid, "ParseJoinRequest", mut, s, "reason ErrBadInput", text, a.Amb)
		} else if a.Why == "unknown room version" && !errors.Is(err, roomversion.ErrUnknownVersion) {
			report("REASON", vid, "ParseJoinRequest", mut, s, "wraps roomversion.ErrUnknownVersion", text, a.Amb)
		}
		return
	}
	want := a.Req
	got := &parsedReq{User: jr.UserID, Resident: jr.ResidentServer, Origin: jr.Origin, Ver: jr.Ver, Rooms: map[string]map[string]string{}, State: map[string]string{}}
	if jr.State != nil {
		got.Version = jr.State.Version().ID
		for _, ev := range jr.State.Events() {
			sk := ""
			if ev.StateKey != nil {
				sk = *ev.StateKey
			}
			got.State[ev.Type+"\x00"+sk] = ev.EventID
		}
	}
	switch r := jr.Rooms.(type) {
	case nil:
	case membership.KnownRooms:
		for k, v := range r {
			if v == nil {
				v = map[string]string{}
			}
			got.Rooms[k] = v
		}
	default:
		got.Rooms = map[string]map[string]string{"(not KnownRooms)": {fmt.Sprintf("%T", r): ""}}
	}
	if want.Rooms == nil {
		want.Rooms = map[string]map[string]string{}
	}
	for k, v := range want.Rooms {
		if v == nil {
			want.Rooms[k] = map[string]string{}
		}
	}
	diff := []string{}
	if got.Version != want.Version || got.User != want.User || got.Resident != want.Resident || got.Origin != want.Origin {
		diff = append(diff, "fields")
	}
	if (got.Ver == nil) != (want.Ver == nil) || !reflect.DeepEqual(nz(got.Ver), nz(want.Ver)) {
		diff = append(diff, "ver")
	}
	if !reflect.DeepEqual(got.Rooms, want.Rooms) {
		diff = append(diff, "rooms")
	}
	if !reflect.DeepEqual(got.State, want.State) {
		diff = append(diff, "state")
	}
	if len(diff) > 0 {
		report("OUTPUT", vid, "ParseJoinRequest "+strings.Join(diff, "+"), mut, string(difftool.Enc(got)), string(difftool.Enc(want)), text, a.Amb)
	}
}

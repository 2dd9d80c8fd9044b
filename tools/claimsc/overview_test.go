package claimsc

import (
	"errors"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// go doc ./canonicaljson, "Strict and lenient rules", "Strings", "Errors and limits".
func TestOverviewCanonicaljson(t *testing.T) {
	for _, c := range []struct {
		claim, in, lenient, strict string // "" output: refused
	}{
		{"lenient copies integers of any size", `[123456789012345678901234567890]`, `[123456789012345678901234567890]`, ""},
		{"-0 as 0", `[-0]`, `[0]`, ""},
		{"exponent integer in range as that integer (1e10)", `[1e10]`, `[10000000000]`, ""},
		{"exponent integer: 1E2, 2.5e1", `[1E2,2.5e1]`, `[100,25]`, ""},
		{"exponent beyond the strict range copied verbatim", `[1e16]`, `[1e16]`, ""},
		{"1.0, 1.5, 1e400 verbatim", `[1.0,1.5,1e400]`, `[1.0,1.5,1e400]`, ""},
		{"last duplicate wins", `{"a":1,"a":2}`, `{"a":2}`, ""},
		{"unpaired surrogate as lowercase \\udXXX", `["\uD800"]`, `["\ud800"]`, ""},
		{"strict range edge", `[9007199254740991,-9007199254740991]`, `[9007199254740991,-9007199254740991]`, `[9007199254740991,-9007199254740991]`},
		{"strict range past the edge", `[-9007199254740992]`, `[-9007199254740992]`, ""},
		{"top level of any type, surrounded by whitespace", " \t\n\r\"x\" \n", `"x"`, `"x"`},
		{"top-level null", `null`, `null`, `null`},
		{"short escapes", `["\"\\\b\t\n\f\r"]`, `["\"\\\b\t\n\f\r"]`, `["\"\\\b\t\n\f\r"]`},
		{"other control characters as \\u00XX lowercase", `["\u001F\u0000\u000B"]`, `["\u001f\u0000\u000b"]`, `["\u001f\u0000\u000b"]`},
		{"redundant escapes decoded", `["\/\u0041\u00e9\ud83d\ude00"]`, `["/Aé😀"]`, `["/Aé😀"]`},
		{"U+007F and U+2028 raw", `["\u007f\u2028"]`, "[\"\x7f\u2028\"]", "[\"\x7f\u2028\"]"},
		{"keys sorted by code point", `{"\uE000":1,"\uD83D\uDE00":2,"b":3,"B":4}`, `{"B":4,"b":3,"` + "\ue000" + `":1,"😀":2}`, `{"B":4,"b":3,"` + "\ue000" + `":1,"😀":2}`},
	} {
		out, err := canonicaljson.Canonical([]byte(c.in))
		if c.lenient == "" && err == nil || c.lenient != "" && (err != nil || string(out) != c.lenient) {
			t.Errorf("%s: Canonical(%s) = %s, %v; want %q", c.claim, c.in, out, err, c.lenient)
		}
		out, err = canonicaljson.CanonicalStrict([]byte(c.in))
		if c.strict == "" && err == nil || c.strict != "" && (err != nil || string(out) != c.strict) {
			t.Errorf("%s: CanonicalStrict(%s) = %s, %v; want %q", c.claim, c.in, out, err, c.strict)
		}
	}
	// "In both modes invalid UTF-8 and nesting deeper than Options.MaxDepth are refused, and so is
	// anything that is not JSON (RFC 8259): leading zeros, a leading '+', NaN, comments, trailing
	// commas, single quotes." "Every error is a *SyntaxError carrying the input offset and a sentinel."
	for _, in := range []string{"[\xff]", "[\"\xc3\"]", "[01]", "[+1]", "[NaN]", "[1]//c", "[1]/*c*/", "[1,]", `{"a":1,}`, `['a']`, "", "[", `{"a"}`, `[1] [2]`, "[.5]", "[1.]", "[1e]", "[Infinity]", "[-]", `["\x"]`, "[\"\t\"]"} {
		for _, strict := range []bool{false, true} {
			_, err := canonicaljson.Append(nil, []byte(in), canonicaljson.Options{Strict: strict})
			var se *canonicaljson.SyntaxError
			if !errors.As(err, &se) || se.Err == nil || !errors.Is(err, se.Err) || se.Offset < 0 || se.Offset > int64(len(in)) {
				t.Errorf("Append(%q, strict %v) = %v, want a *SyntaxError with a sentinel and an offset", in, strict, err)
			}
		}
	}
	if _, err := canonicaljson.Append(nil, []byte(nested(3)), canonicaljson.Options{MaxDepth: 2}); !errors.Is(err, canonicaljson.ErrTooDeep) {
		t.Errorf("MaxDepth 2, depth 3: %v", err)
	}
	// Strict: "numbers are integers in [-(2**53)+1, (2**53)-1] without fraction, exponent or -0"
	for in, sentinel := range map[string]error{"[1.5]": canonicaljson.ErrFloat, "[1e2]": canonicaljson.ErrFloat, "[-0]": canonicaljson.ErrNegativeZero,
		"[9007199254740992]": canonicaljson.ErrIntegerRange, `{"a":1,"a":1}`: canonicaljson.ErrDuplicateKey, `["\udc00"]`: canonicaljson.ErrLoneSurrogate} {
		if _, err := canonicaljson.CanonicalStrict([]byte(in)); !errors.Is(err, sentinel) {
			t.Errorf("CanonicalStrict(%s) = %v, want %v", in, err, sentinel)
		}
	}
}

// The package overviews of pdu, redaction, signing, authrules and membership: "A
// roomversion.Version must be one roomversion.Lookup or roomversion.All returns: the zero
// Version, or a copy renamed to an ID the spec does not define, is refused with an error
// matching roomversion.ErrUnknownVersion rather than read as a room version without rules."
func TestOverviewUnknownVersionRefused(t *testing.T) {
	p := example(t)
	v9 := claimkit.Ver(t, "9")
	renamed := v9
	renamed.ID = "org.example.custom"
	for name, v := range map[string]roomversion.Version{"zero": {}, "renamed": renamed} {
		t.Run(name, func(t *testing.T) {
			for fn, err := range map[string]error{
				"pdu.Parse":          func() error { _, err := pdu.Parse(v, p.raw[10]); return err }(),
				"redaction.Redact":   func() error { _, err := redaction.Redact(v, p.raw[10]); return err }(),
				"signing.ParseEvent": func() error { _, err := signing.ParseEvent(v, p.raw[10]); return err }(),
				"signing.EventID":    func() error { _, err := signing.EventID(v, p.raw[10]); return err }(),
				"signing.ContentHash": func() error {
					_, err := signing.ContentHash(v, p.raw[10])
					return err
				}(),
				"signing.VerifyEvent":  signing.VerifyEvent(v, p.raw[10], keyRing("c.example")),
				"signing.SignEvent":    func() error { _, err := signing.SignEvent(v, p.raw[10], "c.example", keyFor("c.example")); return err }(),
				"authrules.NewState":   func() error { _, err := authrules.NewState(v, p.state()); return err }(),
				"authrules.Check":      authrules.Check(v, p.evs[10], p.state(), nil),
				"authrules.AuthEvents": func() error { _, err := authrules.AuthEventsNeeded(v, p.evs[10]); return err }(),
				"authrules.CheckChain": func() error { _, err := authrules.CheckAuthChain(v, p.evs, nil); return err }(),
				"redaction.AppendSignedBytes": func() error {
					_, err := redaction.AppendSignedBytes(nil, v, p.evs[10].Raw())
					return err
				}(),
			} {
				if !errors.Is(err, roomversion.ErrUnknownVersion) {
					t.Errorf("%s with a %s Version: %v, want ErrUnknownVersion", fn, name, err)
				}
			}
		})
	}
}

// go doc ./pdu: "Keys are matched exactly as written (JSON object keys are case-sensitive);
// when a key occurs twice, which strict canonical JSON (room versions 6+) refuses, the last
// occurrence wins"; "Hashes and signatures are always computed over the canonical JSON ...
// so an Event keeps it: see Event.Raw".
func TestOverviewPdu(t *testing.T) {
	for _, id := range []string{"5", "9"} {
		v := claimkit.Ver(t, id)
		base := string(claimkit.Marshal(t, baseEvent(v, nil)))
		dup := strings.Replace(base, `"sender":"@a:a.example"`, `"sender":"@x:a.example","sender":"@a:a.example","Sender":"@c:a.example"`, 1)
		ev, err := pdu.Parse(v, []byte(dup))
		if id == "5" {
			if err != nil || ev.Sender != "@a:a.example" {
				t.Errorf("v5 duplicate sender: %v, %+v; want the last (and Sender ignored)", err, ev)
			}
			c, _ := canonicaljson.Canonical([]byte(dup))
			if string(ev.Raw()) != string(c) {
				t.Errorf("Raw is not the canonical form")
			}
		} else if !errors.Is(err, canonicaljson.ErrDuplicateKey) {
			t.Errorf("v9 duplicate sender: %v, want refused", err)
		}
	}
}

// go doc ./redaction: "every value it keeps is copied in canonical form ("Canonical JSON",
// appendices), so `50` stays `50` and a string stays a string"; ApplyRedaction "with the
// redaction recorded in unsigned.redacted_because".
func TestOverviewRedaction(t *testing.T) {
	p := example(t)
	for _, id := range []string{"5", "9"} {
		v := claimkit.Ver(t, id)
		pl := string(claimkit.Marshal(t, baseEvent(v, M{"type": "m.room.power_levels", "state_key": "", "content": M{"ban": "50", "kick": 50, "junk": 1}})))
		out, err := redaction.Redact(v, []byte(pl))
		if err != nil || !strings.Contains(string(out), `"ban":"50"`) || !strings.Contains(string(out), `"kick":50`) || strings.Contains(string(out), "junk") {
			t.Errorf("v%s: %s, %v", id, out, err)
		}
	}
	v5 := claimkit.Ver(t, "5")
	exp := strings.Replace(string(claimkit.Marshal(t, baseEvent(v5, M{"type": "m.room.power_levels", "state_key": "", "content": M{"kick": 1}}))), `"kick":1`, `"kick":5e1`, 1)
	if out, err := redaction.Redact(v5, []byte(exp)); err != nil || !strings.Contains(string(out), `"kick":50`) {
		t.Errorf("v5 5e1: %s, %v; want it copied in canonical form (50)", out, err)
	}
	out, err := redaction.ApplyRedaction(p.evs[10], p.evs[12])
	if err != nil || !strings.Contains(string(out), `"redacted_because":{`) || strings.Contains(string(out), "Hello") {
		t.Errorf("ApplyRedaction: %s, %v", out, err)
	}
}

// go doc ./authrules: "A verdict is nil (allowed) or a *Rejection carrying the rule number
// ("4.3.5.2"), a Severity and a reason, and matching a sentinel error with errors.Is"; "Event
// content is read with the canonicaljson package (exact keys, last duplicate wins)".
func TestOverviewAuthrules(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	s, err := authrules.NewState(v, p.state())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{8, 9, 11, 14} {
		err := s.Check(p.evs[i], nil)
		if i == 11 || i == 14 {
			err = authrules.Check(v, p.evs[i], authOfEvents(p, i), nil)
		}
		var rej *authrules.Rejection
		if !errors.As(err, &rej) || rej.Rule == "" || rej.Reason == "" || rej.Severity != authrules.SeverityError || rej.Err == nil || !errors.Is(err, rej.Err) {
			t.Errorf("event %d: %#v", i, err)
		}
	}
	// last duplicate wins in content (v5): a join whose membership is "leave" then "join"
	v5 := claimkit.Ver(t, "5")
	create := signed(t, v5, baseEvent(v5, M{"type": "m.room.create", "state_key": "", "content": M{"creator": "@a:a.example"}, "prev_events": []any{}, "auth_events": []any{}, "event_id": nil, "hashes": nil, "signatures": nil}), "a.example")
	ce, err := signing.ParseEvent(v5, create)
	if err != nil {
		t.Fatal(err)
	}
	join := strings.Replace(string(claimkit.Marshal(t, baseEvent(v5, M{"type": "m.room.member", "state_key": "@a:a.example", "content": M{"membership": "join"},
		"prev_events": []any{ce.EventID}, "auth_events": []any{ce.EventID}, "depth": 2, "hashes": nil, "signatures": nil}))), `"membership":"join"`, `"membership":"leave","membership":"join"`, 1)
	raw := []byte(join)
	// sign the bytes with the duplicate kept: SignEvent returns the canonical (last-wins) form
	sj, err := signing.SignEvent(v5, raw, "a.example", keyFor("a.example"))
	if err != nil {
		t.Fatal(err)
	}
	jev, err := signing.ParseEvent(v5, sj)
	if err != nil {
		t.Fatal(err)
	}
	if err := authrules.Check(v5, jev, []*pdu.Event{ce}, nil); err != nil {
		t.Errorf("creator's join with membership leave then join (last wins): %v", err)
	}
}

func authOfEvents(p parsedExample, i int) []*pdu.Event {
	var out []*pdu.Event
	for _, id := range p.evs[i].AuthEvents {
		for _, e := range p.evs {
			if e.EventID == id {
				out = append(out, e)
			}
		}
	}
	return out
}

// go doc ./membership: "ShouldTryAnotherServer and Error.TryAnotherServer say whether an error
// means "try another resident" (the two 400s) or "stop" (403)"; "Every refusal is an *Error".
func TestOverviewMembership(t *testing.T) {
	p := example(t)
	v := claimkit.Ver(t, "9")
	state, _ := authrules.NewState(v, p.state())
	for name, c := range map[string]struct {
		req  membership.JoinRequest
		next bool
	}{
		"403":                        {membership.JoinRequest{State: state, UserID: "@j:r.example", ResidentServer: "b.example", Rooms: membership.KnownRooms{"!space:a.example": {}}}, false},
		"M_UNABLE_TO_AUTHORISE_JOIN": {membership.JoinRequest{State: state, UserID: "@j:r.example", ResidentServer: "b.example"}, true},
		"M_UNABLE_TO_GRANT_JOIN":     {membership.JoinRequest{State: state, UserID: "@j:r.example", ResidentServer: "z.example", Rooms: membership.KnownRooms{"!space:a.example": {"@j:r.example": "join"}}}, true},
		"banned":                     {membership.JoinRequest{State: state, UserID: "@bob:c.example", ResidentServer: "b.example"}, false},
		"nil state":                  {membership.JoinRequest{UserID: "@j:r.example", ResidentServer: "b.example"}, false},
	} {
		_, err := membership.DecideJoin(c.req)
		var me *membership.Error
		if !errors.As(err, &me) {
			t.Errorf("%s: %v, want *membership.Error", name, err)
			continue
		}
		if me.TryAnotherServer() != c.next || membership.ShouldTryAnotherServer(me.Status, me.ErrCode) != c.next {
			t.Errorf("%s: %d %s TryAnotherServer %v, want %v", name, me.Status, me.ErrCode, me.TryAnotherServer(), c.next)
		}
	}
}

package authrules

// The fixture harness: testdata/authrules/*.json hold tables of cases, one case per object.
// Events in fixtures are written compactly and completed here (room_id, depth, timestamps,
// prev_events, auth_events, hashes and real ed25519 signatures), then parsed with
// signing.ParseEvent exactly as received events are.
//
// Case fields:
//
//	name         what the case shows
//	room_version the room version
//	spec         the section (file and rule) the case comes from
//	create       (v12, auth mode) the room's m.room.create, not an auth event
//	auth_events  the auth events: Check is used (check 4)
//	state        the state: State.Check is used (checks 5/6); exclusive with auth_events
//	rejected     indices into auth_events (or "create") of events that were rejected
//	keys         pass the harness key ring (else nil keys)
//	event        the event under test
//	allowed      the expected verdict
//	rule         the expected rule number: of the rejection, or of the rule that allowed
//	severity     the expected severity of a rejection ("error" when absent)
//	error        the expected sentinel's name (e.g. "ErrBanned"), for rejections
//	warn         a substring expected in a warning
//	covers       rule numbers the case exercises without their deciding (see TestFixtureCoverage)
//
// An event is an object, a template name from common.json, or {"__base": name, ...} which
// overrides the template's top-level keys. Special keys and strings in events:
//
//	"__sign": [servers]      servers that sign the event (default: the sender's server)
//	"#id:N", "#id:create"    the ID of event N of the list (or of the create)
//	"#room"                  the room ID (the default room_id)
//	"#room-of:N"             event N's ID with the sigil '!': the room ID it would name (v12)
//	"#version"               the room version
//	"#pub:S", "#pub-url:S"   server S's public key, standard / URL-safe unpadded base64
//	"#num:N"                 the JSON number N written as is (floats before v6)
//	"signatures": "#sign:S"  inside content: replaced by S's signature of the enclosing object
//	"__more_signatures": {}  beside it: members added to that `signatures` after signing

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

const fixtureDir = "../testdata/authrules"

type fixtureCase struct {
	Name        string            `json:"name"`
	RoomVersion string            `json:"room_version"`
	Spec        string            `json:"spec"`
	Create      json.RawMessage   `json:"create"`
	AuthEvents  []json.RawMessage `json:"auth_events"`
	State       []json.RawMessage `json:"state"`
	Rejected    []json.RawMessage `json:"rejected"`
	Keys        bool              `json:"keys"`
	Event       json.RawMessage   `json:"event"`
	Allowed     *bool             `json:"allowed"`
	Rule        string            `json:"rule"`
	Severity    string            `json:"severity"`
	Error       string            `json:"error"`
	Warn        string            `json:"warn"`
	Covers      []string          `json:"covers"`

	file string
}

// testKeys are deterministic keys: the seed of server S is sha256(S), as in the bench corpus.
var testServers = []string{"a.example", "b.example", "c.example", "d.example", "e.example", "id.example"}

func testKey(t testing.TB, server string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		t.Fatalf("key for %s: %v", server, err)
	}
	return k
}

func testKeyRing(t testing.TB) signing.KeyRing {
	ring := signing.KeyRing{}
	for _, s := range testServers {
		ring[s] = map[string]signing.PublicKey{"ed25519:1": {Key: testKey(t, s).Public(), ValidUntilTS: 1 << 62}}
	}
	return ring
}

var sentinels = map[string]error{
	"ErrMalformed": ErrMalformed, "ErrCreatePrevEvents": ErrCreatePrevEvents, "ErrCreateRoomID": ErrCreateRoomID,
	"ErrCreateRoomVersion": ErrCreateRoomVersion, "ErrCreateNoCreator": ErrCreateNoCreator,
	"ErrCreateAdditionalCreators": ErrCreateAdditionalCreators, "ErrRoomIDNotCreate": ErrRoomIDNotCreate,
	"ErrAuthEventDuplicate": ErrAuthEventDuplicate, "ErrAuthEventUnexpected": ErrAuthEventUnexpected,
	"ErrAuthEventRejected": ErrAuthEventRejected, "ErrAuthEventNoCreate": ErrAuthEventNoCreate,
	"ErrAuthEventWrongRoom": ErrAuthEventWrongRoom, "ErrAuthEventMissing": ErrAuthEventMissing,
	"ErrNotFederated": ErrNotFederated, "ErrAliases": ErrAliases, "ErrAuthoriserSignature": ErrAuthoriserSignature,
	"ErrSenderNotTarget": ErrSenderNotTarget, "ErrBanned": ErrBanned, "ErrJoinNotAllowed": ErrJoinNotAllowed,
	"ErrRestrictedAuthoriser": ErrRestrictedAuthoriser, "ErrThirdPartyInvite": ErrThirdPartyInvite,
	"ErrSenderNotJoined": ErrSenderNotJoined, "ErrTargetJoined": ErrTargetJoined,
	"ErrInsufficientPower": ErrInsufficientPower, "ErrLeaveNotAllowed": ErrLeaveNotAllowed,
	"ErrKnockNotAllowed": ErrKnockNotAllowed, "ErrUnknownMembership": ErrUnknownMembership,
	"ErrStateKeyNotSender": ErrStateKeyNotSender, "ErrPowerLevelsInvalid": ErrPowerLevelsInvalid,
	"ErrRedactionNotAllowed": ErrRedactionNotAllowed,
}

// loadFixtures reads every case of testdata/authrules/*.json except common.json.
func loadFixtures(t testing.TB) []fixtureCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	var all []fixtureCase
	names := map[string]string{}
	for _, f := range files {
		if filepath.Base(f) == "common.json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cases []fixtureCase
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i := range cases {
			c := &cases[i]
			c.file = filepath.Base(f)
			if c.Name == "" || c.RoomVersion == "" || c.Spec == "" || c.Allowed == nil || c.Event == nil {
				t.Fatalf("%s case %d (%q): name, room_version, spec, event and allowed are required", f, i, c.Name)
			}
			if c.Rule == "" {
				t.Fatalf("%s case %q: rule is required", f, c.Name)
			}
			if prev, dup := names[c.Name]; dup {
				t.Fatalf("case name %q in both %s and %s", c.Name, prev, c.file)
			}
			names[c.Name] = c.file
			all = append(all, *c)
		}
	}
	return all
}

// templates are the events of common.json.
func loadTemplates(t testing.TB) map[string]json.RawMessage {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "common.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// builtCase is a case with its events built and parsed.
type builtCase struct {
	v        roomversion.Version
	create   *pdu.Event
	list     []*pdu.Event // auth_events or state
	event    *pdu.Event
	rejected map[string]bool
	keys     signing.KeyLookup
}

type builder struct {
	t         testing.TB
	v         roomversion.Version
	templates map[string]json.RawMessage
	ids       []string
	createID  string
	roomID    string
	counter   int
}

func buildCase(t testing.TB, c fixtureCase, templates map[string]json.RawMessage) (*builtCase, error) {
	v, err := roomversion.Lookup(c.RoomVersion)
	if err != nil {
		return nil, err
	}
	b := &builder{t: t, v: v, templates: templates, roomID: "!r:a.example"}
	bc := &builtCase{v: v, rejected: map[string]bool{}}
	if c.Keys {
		bc.keys = testKeyRing(t)
	}
	list := c.AuthEvents
	if c.State != nil {
		list = c.State
	}
	// v12: the room ID comes from the create event, which must be built first.
	if c.Create != nil {
		ev, err := b.build(c.Create, nil)
		if err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
		bc.create = ev
		b.createID = ev.EventID
		b.roomID = "!" + ev.EventID[1:]
	}
	for i, raw := range list {
		ev, err := b.build(raw, nil)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if v.Format.RoomIDFromCreateEvent && ev.Type == pdu.TypeCreate && b.createID == "" {
			b.createID = ev.EventID
			b.roomID = "!" + ev.EventID[1:]
		}
		b.ids = append(b.ids, ev.EventID)
		bc.list = append(bc.list, ev)
	}
	var defaultAuth []any
	if c.State == nil {
		for _, id := range b.ids {
			defaultAuth = append(defaultAuth, id)
		}
	}
	if defaultAuth == nil {
		defaultAuth = []any{}
	}
	ev, err := b.build(c.Event, defaultAuth)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	bc.event = ev
	for _, r := range c.Rejected {
		var idx int
		if string(r) == `"create"` {
			bc.rejected[b.createID] = true
			continue
		}
		if err := json.Unmarshal(r, &idx); err != nil || idx < 0 || idx >= len(b.ids) {
			return nil, fmt.Errorf("bad rejected entry %s", r)
		}
		bc.rejected[b.ids[idx]] = true
	}
	return bc, nil
}

// build completes, signs and parses one fixture event. defaultAuth is the default
// auth_events (nil: []).
func (b *builder) build(raw json.RawMessage, defaultAuth []any) (*pdu.Event, error) {
	obj, err := b.resolve(raw)
	if err != nil {
		return nil, err
	}
	signers, _ := obj["__sign"].([]any)
	delete(obj, "__sign")
	sub, err := b.substitute(obj)
	if err != nil {
		return nil, err
	}
	obj = sub.(map[string]any)
	b.counter++
	typ, _ := obj["type"].(string)
	sender, _ := obj["sender"].(string)
	isV12Create := b.v.Format.RoomIDFromCreateEvent && typ == pdu.TypeCreate
	if _, ok := obj["room_id"]; !ok && !isV12Create {
		obj["room_id"] = b.roomID
	}
	if _, ok := obj["origin_server_ts"]; !ok {
		obj["origin_server_ts"] = json.Number("1700000000000")
	}
	if _, ok := obj["depth"]; !ok {
		obj["depth"] = json.Number(strconv.Itoa(b.counter))
	}
	if _, ok := obj["prev_events"]; !ok {
		obj["prev_events"] = []any{}
	}
	if _, ok := obj["auth_events"]; !ok {
		if defaultAuth == nil {
			defaultAuth = []any{}
		}
		obj["auth_events"] = defaultAuth
	}
	if _, ok := obj["content"]; !ok {
		obj["content"] = map[string]any{}
	}
	if b.v.Format.ReferencePairs {
		for _, key := range []string{"prev_events", "auth_events"} {
			if list, ok := obj[key].([]any); ok {
				pairs := make([]any, 0, len(list))
				for _, id := range list {
					if _, isString := id.(string); isString {
						pairs = append(pairs, []any{id, map[string]any{"sha256": "aGFzaA"}})
					} else {
						pairs = append(pairs, id)
					}
				}
				obj[key] = pairs
			}
		}
		if _, ok := obj["event_id"]; !ok {
			domain, _ := domainOf(sender)
			obj["event_id"] = fmt.Sprintf("$ev%d:%s", b.counter, domain)
		}
	}
	if _, ok := obj["hashes"]; !ok {
		obj["hashes"] = map[string]any{"sha256": "placeholder"}
	}
	if _, ok := obj["signatures"]; !ok {
		obj["signatures"] = map[string]any{}
		if signers == nil {
			if d, ok := domainOf(sender); ok {
				signers = []any{d}
			}
		}
	}
	// Before v6 events need not be canonical JSON (floats may appear): encode them as written.
	marshal := canonicaljson.Marshal
	if !b.v.Format.StrictCanonicalJSON {
		marshal = json.Marshal
	}
	data, err := marshal(obj)
	if err != nil {
		return nil, err
	}
	for _, s := range signers {
		server, _ := s.(string)
		if data, err = signing.SignEvent(b.v, data, server, testKey(b.t, server)); err != nil {
			return nil, fmt.Errorf("signing by %s: %w", server, err)
		}
	}
	return signing.ParseEvent(b.v, data)
}

// resolve turns a template name or {"__base": name, ...} into a fresh object.
func (b *builder) resolve(raw json.RawMessage) (map[string]any, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		tmpl, ok := b.templates[name]
		if !ok {
			return nil, fmt.Errorf("no template %q", name)
		}
		return b.resolve(tmpl)
	}
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if base, ok := obj["__base"].(string); ok {
		tmpl, ok := b.templates[base]
		if !ok {
			return nil, fmt.Errorf("no template %q", base)
		}
		out, err := b.resolve(tmpl)
		if err != nil {
			return nil, err
		}
		for k, v := range obj {
			if k == "__delete" {
				for _, d := range v.([]any) {
					delete(out, d.(string))
				}
				continue
			}
			if k != "__base" {
				out[k] = v
			}
		}
		return out, nil
	}
	return obj, nil
}

func (b *builder) substitute(x any) (any, error) {
	switch x := x.(type) {
	case string:
		return b.placeholder(x)
	case []any:
		for i := range x {
			v, err := b.substitute(x[i])
			if err != nil {
				return nil, err
			}
			x[i] = v
		}
		return x, nil
	case map[string]any:
		var signer string
		more, _ := x["__more_signatures"].(map[string]any)
		delete(x, "__more_signatures")
		for k, v := range x {
			if s, ok := v.(string); ok && k == "signatures" && strings.HasPrefix(s, "#sign:") {
				signer = strings.TrimPrefix(s, "#sign:")
				delete(x, k)
				continue
			}
			nv, err := b.substitute(v)
			if err != nil {
				return nil, err
			}
			x[k] = nv
		}
		if signer != "" {
			data, err := canonicaljson.Marshal(x)
			if err != nil {
				return nil, err
			}
			signed, err := signing.SignJSON(data, signer, testKey(b.t, signer))
			if err != nil {
				return nil, err
			}
			var out map[string]any
			dec := json.NewDecoder(bytes.NewReader(signed))
			dec.UseNumber()
			if err := dec.Decode(&out); err != nil {
				return nil, err
			}
			for k, v := range more {
				out["signatures"].(map[string]any)[k] = v
			}
			return out, nil
		}
		return x, nil
	}
	return x, nil
}

func (b *builder) placeholder(s string) (any, error) {
	switch {
	case s == "#room":
		return b.roomID, nil
	case s == "#version":
		return b.v.ID, nil
	case s == "#id:create":
		if b.createID == "" {
			return nil, errors.New("#id:create before the create event")
		}
		return b.createID, nil
	case strings.HasPrefix(s, "#id:"):
		n, err := strconv.Atoi(s[4:])
		if err != nil || n < 0 || n >= len(b.ids) {
			return nil, fmt.Errorf("bad reference %q", s)
		}
		return b.ids[n], nil
	case strings.HasPrefix(s, "#room-of:"):
		n, err := strconv.Atoi(s[9:])
		if err != nil || n < 0 || n >= len(b.ids) {
			return nil, fmt.Errorf("bad reference %q", s)
		}
		return "!" + b.ids[n][1:], nil
	case strings.HasPrefix(s, "#num:"):
		return json.Number(s[5:]), nil
	case strings.HasPrefix(s, "#pub:"):
		return base64.RawStdEncoding.EncodeToString(testKey(b.t, s[5:]).Public()), nil
	case strings.HasPrefix(s, "#pub-url:"):
		pub := testKey(b.t, s[9:]).Public()
		return base64.RawURLEncoding.EncodeToString(pub), nil
	}
	return s, nil
}

// runCase runs one case and returns the rule that allowed, the warnings and the verdict.
func (bc *builtCase) run(c fixtureCase) (string, []*Rejection, error) {
	var allowedBy string
	var warnings []*Rejection
	calls := 0
	opts := Options{Keys: bc.keys, Rejected: bc.rejected, Create: bc.create,
		Allowed: func(rule string) { allowedBy = rule; calls++ },
		Warn:    func(r *Rejection) { warnings = append(warnings, r) }}
	var verdict error
	if c.State != nil {
		s, err := NewState(bc.v, bc.list)
		if err != nil {
			return "", nil, err
		}
		verdict = s.CheckWithOptions(bc.event, opts)
	} else {
		verdict = CheckWithOptions(bc.v, bc.event, bc.list, opts)
	}
	// Options.Allowed is called once for an accepted event, never for a rejected one.
	if verdict == nil && calls != 1 || verdict != nil && calls != 0 {
		allowedBy = fmt.Sprintf("Allowed called %d times (verdict %v)", calls, verdict)
	}
	return allowedBy, warnings, verdict
}

func TestFixtures(t *testing.T) {
	templates := loadTemplates(t)
	for _, c := range loadFixtures(t) {
		t.Run(c.file+"/"+c.Name, func(t *testing.T) {
			bc, err := buildCase(t, c, templates)
			if err != nil {
				t.Fatalf("building the case: %v", err)
			}
			allowedBy, warnings, verdict := bc.run(c)
			checkVerdict(t, c, verdict, allowedBy, warnings)
		})
	}
}

func checkVerdict(t *testing.T, c fixtureCase, verdict error, allowedBy string, warnings []*Rejection) {
	t.Helper()
	if *c.Allowed {
		if verdict != nil {
			t.Fatalf("want allowed by rule %s, got %v", c.Rule, verdict)
		}
		if allowedBy != c.Rule {
			t.Errorf("allowed by rule %q, want rule %q", allowedBy, c.Rule)
		}
	} else {
		var rej *Rejection
		if !errors.As(verdict, &rej) {
			t.Fatalf("want rejection by rule %s, got %v (allowed by %q)", c.Rule, verdict, allowedBy)
		}
		if rej.Rule != c.Rule {
			t.Errorf("rejected by rule %q (%v), want rule %q", rej.Rule, rej, c.Rule)
		}
		if allowedBy != "" {
			t.Errorf("rejected, yet Options.Allowed reported %q", allowedBy)
		}
		wantSev := c.Severity
		if wantSev == "" {
			wantSev = "error"
		}
		if rej.Severity.String() != wantSev {
			t.Errorf("severity %s, want %s (%v)", rej.Severity, wantSev, rej)
		}
		if c.Error != "" {
			s, ok := sentinels[c.Error]
			if !ok {
				t.Fatalf("unknown sentinel %q", c.Error)
			}
			if !errors.Is(verdict, s) {
				t.Errorf("verdict %v does not match %s", verdict, c.Error)
			}
		}
		if !errors.Is(verdict, ErrRejected) || !Rejected(verdict) {
			t.Errorf("rejection does not match ErrRejected")
		}
		if rej.Reason == "" {
			t.Errorf("rejection without reason")
		}
	}
	if c.Warn != "" {
		found := false
		for _, w := range warnings {
			found = found || strings.Contains(w.Reason, c.Warn) && w.Severity == SeverityWarn
		}
		if !found {
			t.Errorf("no warning containing %q in %v", c.Warn, warnings)
		}
	}
}

// TestFixtureCoverage checks that every numbered rule of the v8 text has at least one allowed
// and one rejected case in room versions 8-9. A case counts for the rule that decided it
// (rule) and for the rules it exercises on their passing side (covers: for example a join in
// a public room covers 4.3.2, "sender does not match state_key", on its allowing side).
func TestFixtureCoverage(t *testing.T) {
	type side struct{ allow, reject bool }
	seen := map[string]*side{}
	mark := func(n string, allowed bool) {
		s := seen[n]
		if s == nil {
			s = &side{}
			seen[n] = s
		}
		if allowed {
			s.allow = true
		} else {
			s.reject = true
		}
	}
	for _, c := range loadFixtures(t) {
		if c.RoomVersion != "8" && c.RoomVersion != "9" {
			continue
		}
		mark(c.Rule, *c.Allowed)
		for _, n := range c.Covers {
			mark(n, *c.Allowed)
		}
	}
	want := map[string]bool{}
	for _, n := range numbersV8 {
		if n != "" {
			want[n] = true
		}
	}
	var missing []string
	for n := range want {
		s := seen[n]
		switch {
		case s == nil:
			missing = append(missing, n+": no case")
		case !s.allow:
			missing = append(missing, n+": no allowed case")
		case !s.reject:
			missing = append(missing, n+": no rejected case")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("v8 rule %s", m)
	}
}

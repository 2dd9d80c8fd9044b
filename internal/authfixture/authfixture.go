// Package authfixture reads and builds the authorization-rule fixtures of testdata/authrules:
// tables of cases, one JSON object per case, whose events are written compactly and completed
// here (room_id, depth, timestamps, prev_events, auth_events, hashes and real ed25519
// signatures), then parsed with signing.ParseEvent exactly as received events are.
//
// The authrules tests run the cases against the package; tools/authref runs the same cases
// through its reference written from the specification text only, so that every expected verdict
// and rule number of the table is confirmed by an implementation that does not share its code.
//
// Case fields:
//
//	name         what the case shows
//	room_version the room version
//	spec         the section (file and rule) the case comes from
//	create       (v12, auth mode) the room's m.room.create, not an auth event
//	auth_events  the auth events: authrules.Check is used (check 4)
//	state        the state: State.Check is used (checks 5/6); exclusive with auth_events
//	rejected     indices into auth_events (or "create") of events that were rejected
//	keys         pass the harness key ring (else nil keys)
//	event        the event under test
//	allowed      the expected verdict
//	rule         the expected rule number: of the rejection, or of the rule that allowed
//	severity     the expected severity of a rejection ("error" when absent)
//	error        the expected sentinel's name (e.g. "ErrBanned"), for rejections
//	warn         a substring expected in a warning
//	covers       rule numbers the case exercises without their deciding
//
// An event is an object, a template name from common.json, or {"__base": name, ...} which
// overrides the template's top-level keys ("__delete": [keys] removes some). Special keys and
// strings in events:
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
//
// This package is for tests and tools only; it is internal to the module.
package authfixture

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
)

// Case is one fixture case (see the package documentation for its fields).
type Case struct {
	Name        string            `json:"name"`
	RoomVersion string            `json:"room_version"`
	Spec        string            `json:"spec"`
	Create      json.RawMessage   `json:"create,omitempty"`
	AuthEvents  []json.RawMessage `json:"auth_events,omitempty"`
	State       []json.RawMessage `json:"state,omitempty"`
	Rejected    []json.RawMessage `json:"rejected,omitempty"`
	Keys        bool              `json:"keys,omitempty"`
	Event       json.RawMessage   `json:"event"`
	Allowed     *bool             `json:"allowed"`
	Rule        string            `json:"rule"`
	Severity    string            `json:"severity,omitempty"`
	Error       string            `json:"error,omitempty"`
	Warn        string            `json:"warn,omitempty"`
	Covers      []string          `json:"covers,omitempty"`

	// File is the base name of the file the case was read from.
	File string `json:"-"`
}

// Servers are the servers the harness has keys for.
var Servers = []string{"a.example", "b.example", "c.example", "d.example", "e.example", "id.example"}

// Key returns the deterministic signing key of server: key ID ed25519:1, seed sha256(server), as
// in the benchmark corpus.
func Key(server string) signing.SigningKey {
	seed := sha256.Sum256([]byte(server))
	k, err := signing.NewSigningKey("1", seed[:])
	if err != nil {
		panic("authfixture: " + err.Error()) // invariant: a 32-byte seed and version "1" always make a key
	}
	return k
}

// KeyRing returns the public keys of Servers, valid for ever.
func KeyRing() signing.KeyRing {
	ring := signing.KeyRing{}
	for _, s := range Servers {
		ring[s] = map[string]signing.PublicKey{"ed25519:1": {Key: Key(s).Public(), ValidUntilTS: 1 << 62}}
	}
	return ring
}

// Load reads every case of dir/*.json except common.json, checking that each has its required
// fields and a name unique over all files.
func Load(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no fixtures in %s: %v", dir, err)
	}
	var all []Case
	names := map[string]string{}
	for _, f := range files {
		if filepath.Base(f) == "common.json" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cases []Case
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cases); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range cases {
			c := &cases[i]
			c.File = filepath.Base(f)
			if c.Name == "" || c.RoomVersion == "" || c.Spec == "" || c.Allowed == nil || c.Event == nil {
				return nil, fmt.Errorf("%s case %d (%q): name, room_version, spec, event and allowed are required", f, i, c.Name)
			}
			if c.Rule == "" {
				return nil, fmt.Errorf("%s case %q: rule is required", f, c.Name)
			}
			if prev, dup := names[c.Name]; dup {
				return nil, fmt.Errorf("case name %q in both %s and %s", c.Name, prev, c.File)
			}
			names[c.Name] = c.File
			all = append(all, *c)
		}
	}
	return all, nil
}

// LoadTemplates reads the event templates of dir/common.json.
func LoadTemplates(dir string) (map[string]json.RawMessage, error) {
	data, err := os.ReadFile(filepath.Join(dir, "common.json"))
	if err != nil {
		return nil, err
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("common.json: %w", err)
	}
	return out, nil
}

// Built is a case with its events built and parsed.
type Built struct {
	V roomversion.Version
	// Create is the case's `create` (v12), nil when it has none.
	Create *pdu.Event
	// List is auth_events or state, in order.
	List []*pdu.Event
	// Event is the event under test.
	Event *pdu.Event
	// Rejected holds the IDs of the events the case marks rejected.
	Rejected map[string]bool
	// Keys is KeyRing() when the case asks for keys, else nil.
	Keys signing.KeyLookup
}

// Builder completes, signs and parses fixture events of one room, numbering them as it goes.
type Builder struct {
	// V is the room version.
	V roomversion.Version
	// Templates are the events of common.json.
	Templates map[string]json.RawMessage
	// RoomID is the room_id given to events without one; Build sets it from a v12 create.
	RoomID string

	ids      []string
	createID string
	counter  int
}

// NewBuilder returns a Builder for room version v, with the templates and room ID given.
func NewBuilder(v roomversion.Version, templates map[string]json.RawMessage, roomID string) *Builder {
	return &Builder{V: v, Templates: templates, RoomID: roomID}
}

// BuildCase builds the events of c.
func BuildCase(c Case, templates map[string]json.RawMessage) (*Built, error) {
	v, err := roomversion.Lookup(c.RoomVersion)
	if err != nil {
		return nil, err
	}
	b := NewBuilder(v, templates, "!r:a.example")
	bc := &Built{V: v, Rejected: map[string]bool{}}
	if c.Keys {
		bc.Keys = KeyRing()
	}
	list := c.AuthEvents
	if c.State != nil {
		list = c.State
	}
	// v12: the room ID comes from the create event, which must be built first.
	if c.Create != nil {
		ev, err := b.Build(c.Create, nil)
		if err != nil {
			return nil, fmt.Errorf("create: %w", err)
		}
		bc.Create = ev
		b.createID = ev.EventID
		b.RoomID = "!" + ev.EventID[1:]
	}
	for i, raw := range list {
		ev, err := b.Build(raw, nil)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		if v.Format.RoomIDFromCreateEvent && ev.Type == pdu.TypeCreate && b.createID == "" {
			b.createID = ev.EventID
			b.RoomID = "!" + ev.EventID[1:]
		}
		b.ids = append(b.ids, ev.EventID)
		bc.List = append(bc.List, ev)
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
	ev, err := b.Build(c.Event, defaultAuth)
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	bc.Event = ev
	for _, r := range c.Rejected {
		var idx int
		if string(r) == `"create"` {
			bc.Rejected[b.createID] = true
			continue
		}
		if err := json.Unmarshal(r, &idx); err != nil || idx < 0 || idx >= len(b.ids) {
			return nil, fmt.Errorf("bad rejected entry %s", r)
		}
		bc.Rejected[b.ids[idx]] = true
	}
	return bc, nil
}

// Build completes, signs and parses one fixture event. defaultAuth is the default auth_events
// (nil: []).
func (b *Builder) Build(raw json.RawMessage, defaultAuth []any) (*pdu.Event, error) {
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
	isV12Create := b.V.Format.RoomIDFromCreateEvent && typ == pdu.TypeCreate
	if _, ok := obj["room_id"]; !ok && !isV12Create {
		obj["room_id"] = b.RoomID
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
	if b.V.Format.ReferencePairs {
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
	if !b.V.Format.StrictCanonicalJSON {
		marshal = json.Marshal
	}
	data, err := marshal(obj)
	if err != nil {
		return nil, err
	}
	for _, s := range signers {
		server, _ := s.(string)
		if data, err = signing.SignEvent(b.V, data, server, Key(server)); err != nil {
			return nil, fmt.Errorf("signing by %s: %w", server, err)
		}
	}
	return signing.ParseEvent(b.V, data)
}

// domainOf returns what follows the first ':' of id.
func domainOf(id string) (string, bool) {
	i := strings.IndexByte(id, ':')
	if i < 0 {
		return "", false
	}
	return id[i+1:], true
}

// resolve turns a template name or {"__base": name, ...} into a fresh object.
func (b *Builder) resolve(raw json.RawMessage) (map[string]any, error) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		tmpl, ok := b.Templates[name]
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
		tmpl, ok := b.Templates[base]
		if !ok {
			return nil, fmt.Errorf("no template %q", base)
		}
		out, err := b.resolve(tmpl)
		if err != nil {
			return nil, err
		}
		for k, v := range obj {
			if k == "__delete" {
				list, _ := v.([]any)
				for _, d := range list {
					if s, ok := d.(string); ok {
						delete(out, s)
					}
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

func (b *Builder) substitute(x any) (any, error) {
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
			signed, err := signing.SignJSON(data, signer, Key(signer))
			if err != nil {
				return nil, err
			}
			var out map[string]any
			dec := json.NewDecoder(bytes.NewReader(signed))
			dec.UseNumber()
			if err := dec.Decode(&out); err != nil {
				return nil, err
			}
			sigs, _ := out["signatures"].(map[string]any)
			for k, v := range more {
				sigs[k] = v
			}
			return out, nil
		}
		return x, nil
	}
	return x, nil
}

func (b *Builder) placeholder(s string) (any, error) {
	switch {
	case s == "#room":
		return b.RoomID, nil
	case s == "#version":
		return b.V.ID, nil
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
		return base64.RawStdEncoding.EncodeToString(Key(s[5:]).Public()), nil
	case strings.HasPrefix(s, "#pub-url:"):
		return base64.RawURLEncoding.EncodeToString(Key(s[9:]).Public()), nil
	}
	return s, nil
}

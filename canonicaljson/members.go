package canonicaljson

// Kind is the kind of a JSON value, one of the alternatives of the grammar's
// "value" rule in "Canonical JSON" (appendices).
type Kind int

// The kinds of JSON values reported by KindOf.
const (
	Invalid Kind = iota // not the start of a JSON value
	Object              // {...}
	Array               // [...]
	String              // "..."
	Number              // -12, 3.5, 1e10
	Bool                // true or false
	Null                // null
)

var kindNames = [...]string{"invalid", "object", "array", "string", "number", "bool", "null"}

// String returns the lowercase name of k: "object", "array", ...
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + itoa(int(k)) + ")"
}

// KindOf reports the kind of the JSON value in data from its first byte that
// is not whitespace: '{' Object, '[' Array, '"' String, '-' or a digit
// Number, 't' or 'f' Bool, 'n' Null, anything else (or nothing) Invalid. It
// does not validate the value; use Valid for that.
func KindOf(data []byte) Kind {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return Object
		case '[':
			return Array
		case '"':
			return String
		case 't', 'f':
			return Bool
		case 'n':
			return Null
		case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			return Number
		}
		return Invalid
	}
	return Invalid
}

// EachMember calls fn for each member of the JSON object in data, in input
// order, with the unescaped key and the raw value bytes (exactly as in the
// input, surrounding whitespace trimmed). It validates the object syntax as it
// goes, with the tolerant rules of room versions 1-5 ("Canonical JSON",
// appendices; fragment v1-canonical-json) and DefaultMaxDepth counting the
// object itself as depth 1: an unpaired surrogate escape in a key becomes its
// WTF-8 bytes, as in Unquote, and a duplicate key is passed to fn each time it
// occurs. Errors: data is not an object, syntax errors (also those found after
// some calls of fn), trailing data. If fn returns an error, iteration stops
// and that error is returned as it is. A value is a slice of data whose capacity ends with it:
// appending to it allocates rather than writing into data.
func EachMember(data []byte, fn func(key string, value []byte) error) error {
	p := parser{data: data, maxDepth: DefaultMaxDepth}
	p.skipSpace()
	if p.pos >= len(data) {
		return p.eof("looking for beginning of object")
	}
	if data[p.pos] != '{' {
		return newError(p.pos, ErrSyntax, "invalid character "+quoteChar(data[p.pos])+" looking for beginning of object")
	}
	p.depth = 1
	p.pos++
	p.skipSpace()
	if p.pos < len(data) && data[p.pos] == '}' {
		p.pos++
		return p.end()
	}
	for {
		if p.pos >= len(data) {
			return p.eof("looking for object key")
		}
		if data[p.pos] != '"' {
			return newError(p.pos, ErrSyntax, "invalid character "+quoteChar(data[p.pos])+" looking for beginning of object key string")
		}
		keyStart := p.pos
		_, escaped, err := p.str(nil)
		if err != nil {
			return err
		}
		body := data[keyStart+1 : p.pos-1]
		var key string
		if escaped {
			key = string(appendUnescaped(make([]byte, 0, len(body)), body))
		} else {
			key = internKey(body)
		}
		p.skipSpace()
		if p.pos >= len(data) {
			return p.eof("after object key")
		}
		if data[p.pos] != ':' {
			return newError(p.pos, ErrSyntax, "invalid character "+quoteChar(data[p.pos])+" after object key")
		}
		p.pos++
		p.skipSpace()
		valueStart := p.pos
		if _, err := p.value(nil); err != nil {
			return err
		}
		if err := fn(key, data[valueStart:p.pos:p.pos]); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(data) {
			return p.eof("after object key:value pair")
		}
		switch c := data[p.pos]; c {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			return p.end()
		default:
			return newError(p.pos, ErrSyntax, "invalid character "+quoteChar(c)+" after object key:value pair")
		}
	}
}

// end checks that only whitespace follows the top-level value.
func (p *parser) end() error {
	p.skipSpace()
	if p.pos < len(p.data) {
		return newError(p.pos, ErrTrailingData, "invalid character "+quoteChar(p.data[p.pos])+" after top-level value")
	}
	return nil
}

// EachElement calls fn for each element of the JSON array in data, in order, with the raw value
// bytes (exactly as in the input, surrounding whitespace trimmed). It validates the array syntax
// as it goes, with the same tolerant rules and depth limit as EachMember. Errors: data is not an
// array, syntax errors, trailing data. If fn returns an error, iteration stops and that error is
// returned as it is. An element is a slice of data whose capacity ends with it, as in EachMember.
func EachElement(data []byte, fn func(value []byte) error) error {
	p := parser{data: data, maxDepth: DefaultMaxDepth}
	p.skipSpace()
	if p.pos >= len(data) {
		return p.eof("looking for beginning of array")
	}
	if data[p.pos] != '[' {
		return newError(p.pos, ErrSyntax, "invalid character "+quoteChar(data[p.pos])+" looking for beginning of array")
	}
	p.depth = 1
	p.pos++
	p.skipSpace()
	if p.pos < len(data) && data[p.pos] == ']' {
		p.pos++
		return p.end()
	}
	for {
		if p.pos >= len(data) {
			return p.eof("looking for array element")
		}
		start := p.pos
		if _, err := p.value(nil); err != nil {
			return err
		}
		if err := fn(data[start:p.pos:p.pos]); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(data) {
			return p.eof("after array element")
		}
		switch c := data[p.pos]; c {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return p.end()
		default:
			return newError(p.pos, ErrSyntax, "invalid character "+quoteChar(c)+" after array element")
		}
	}
}

// internKey returns body as a string, without allocating for the keys that the room protocol's
// rules look up again and again (the top-level keys of events and the content keys of the
// state events that affect authorisation). The switch compiles to comparisons that do not
// allocate; any other key is copied.
func internKey(body []byte) string {
	switch string(body) {
	case "auth_events":
		return "auth_events"
	case "content":
		return "content"
	case "depth":
		return "depth"
	case "event_id":
		return "event_id"
	case "hashes":
		return "hashes"
	case "origin":
		return "origin"
	case "origin_server_ts":
		return "origin_server_ts"
	case "prev_events":
		return "prev_events"
	case "redacts":
		return "redacts"
	case "room_id":
		return "room_id"
	case "sender":
		return "sender"
	case "signatures":
		return "signatures"
	case "state_key":
		return "state_key"
	case "type":
		return "type"
	case "unsigned":
		return "unsigned"
	case "sha256":
		return "sha256"
	case "membership":
		return "membership"
	case "join_authorised_via_users_server":
		return "join_authorised_via_users_server"
	case "third_party_invite":
		return "third_party_invite"
	case "displayname":
		return "displayname"
	case "avatar_url":
		return "avatar_url"
	case "join_rule":
		return "join_rule"
	case "allow":
		return "allow"
	case "room_version":
		return "room_version"
	case "creator":
		return "creator"
	case "m.federate":
		return "m.federate"
	case "additional_creators":
		return "additional_creators"
	case "users":
		return "users"
	case "users_default":
		return "users_default"
	case "events":
		return "events"
	case "events_default":
		return "events_default"
	case "state_default":
		return "state_default"
	case "ban":
		return "ban"
	case "kick":
		return "kick"
	case "invite":
		return "invite"
	case "redact":
		return "redact"
	case "notifications":
		return "notifications"
	case "ed25519:1":
		return "ed25519:1"
	}
	return string(body)
}

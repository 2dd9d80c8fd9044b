package claimsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/benchcorpus"
	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// M is a JSON object literal.
type M = claimkit.M

// corpus is the shared benchmark corpus (../shared/bench/corpus.json, or the module's copy of
// it, testdata/signing/bench_corpus.json, when the shared directory is not beside the module):
// 18 signed events of a room version 9 room in the file's indented form and in wire form
// (canonical JSON), with their event IDs and the servers' public keys.
type corpus struct {
	v          roomversion.Version
	keys       signing.KeyRing
	file, wire [][]byte
	ids        []string
}

var corpusOnce = sync.OnceValues(func() (*corpus, error) {
	path := filepath.Join(claimkit.Root(), "..", "shared", "bench", "corpus.json")
	data, err := os.ReadFile(path)
	if err != nil {
		data, err = os.ReadFile(filepath.Join(claimkit.Root(), "testdata", "signing", "bench_corpus.json"))
		if err != nil {
			return nil, err
		}
	}
	raw, err := benchcorpus.Parse(data)
	if err != nil {
		return nil, err
	}
	c := &corpus{ids: raw.EventIDs}
	if c.v, err = roomversion.Lookup(raw.RoomVersion); err != nil {
		return nil, err
	}
	if c.keys, err = signing.ParseKeyRing(raw.Keys); err != nil {
		return nil, err
	}
	for _, e := range raw.Events {
		wire, err := canonicaljson.CanonicalStrict(e)
		if err != nil {
			return nil, err
		}
		c.file, c.wire = append(c.file, e), append(c.wire, wire)
	}
	if len(c.file) != 18 || len(c.ids) != 18 {
		return nil, fmt.Errorf("corpus has %d events and %d IDs, want 18", len(c.file), len(c.ids))
	}
	return c, nil
})

func loadCorpus(t testing.TB) *corpus {
	t.Helper()
	c, err := corpusOnce()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rooms are small roomgen rooms of versions 8 to 12 (restricted joins, invites, messages,
// kicks, bans), with some events the auth rules reject.
var roomsOnce = sync.OnceValues(func() ([]*roomgen.Room, error) {
	var out []*roomgen.Room
	for _, id := range []string{"8", "9", "10", "11", "12"} {
		r, err := roomgen.Generate(roomgen.Config{RoomVersion: id, Events: 40, Servers: 3, Seed: 7, Rejected: 100, BodyBytes: 60})
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
})

func rooms(t testing.TB) []*roomgen.Room {
	t.Helper()
	r, err := roomsOnce()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// input is an event to parse: its room version and bytes. ok is whether pdu.Parse accepts it.
type input struct {
	name string
	v    roomversion.Version
	data []byte
}

// indent returns data laid out with json.Indent (not canonical).
func indent(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		t.Fatalf("indent %.60s: %v", data, err)
	}
	return b.Bytes()
}

// shape describes a synthetic event.
type shape struct {
	prev, auth, sigs, servers int // references and signatures (over servers servers)
	state                     bool
	typ                       string
	content                   M
	unsigned                  M
	redacts                   string
	origin                    any
}

// synth builds an event of room version v with the shape, canonical (claimkit.Marshal sorts
// the keys and writes no white space). Event IDs are of the version's format; hashes and
// signatures are not real (pdu does not check them).
func synth(t testing.TB, v roomversion.Version, s shape, n int) []byte {
	t.Helper()
	id := func(i int) string {
		if v.Format.HasEventIDField {
			return fmt.Sprintf("$e%d_%d:a.example", n, i)
		}
		return fmt.Sprintf("$%043d", n*1000+i)
	}
	ref := func(i int) any {
		if v.Format.ReferencePairs {
			return []any{id(i), M{"sha256": "aGFzaA"}}
		}
		return id(i)
	}
	prev, auth := []any{}, []any{}
	for i := range s.prev {
		prev = append(prev, ref(i))
	}
	for i := range s.auth {
		auth = append(auth, ref(100+i))
	}
	sigs := M{}
	servers := max(s.servers, 1)
	for i := range s.sigs {
		srv := fmt.Sprintf("s%d.example", i%servers)
		m, _ := sigs[srv].(M)
		if m == nil {
			m = M{}
			sigs[srv] = m
		}
		m[fmt.Sprintf("ed25519:k%d", i)] = fmt.Sprintf("c2ln%d", i)
	}
	typ := s.typ
	if typ == "" {
		typ = "m.room.message"
	}
	content := s.content
	if content == nil {
		content = M{"body": fmt.Sprintf("hi %d", n), "msgtype": "m.text"}
	}
	e := M{"room_id": "!r:a.example", "sender": "@alice:a.example", "type": typ, "content": content,
		"depth": 1 + n, "origin_server_ts": 1_700_000_000_000 + n, "prev_events": prev, "auth_events": auth,
		"hashes": M{"sha256": fmt.Sprintf("aGFzaA%d", n)}, "signatures": sigs}
	if v.Format.HasEventIDField {
		e["event_id"] = id(999)
	}
	if s.state {
		e["state_key"] = fmt.Sprintf("@u%d:a.example", n)
	}
	if s.unsigned != nil {
		e["unsigned"] = s.unsigned
	}
	if s.redacts != "" {
		e["redacts"] = s.redacts
	}
	if s.origin != nil {
		e["origin"] = s.origin
	}
	return claimkit.Marshal(t, e)
}

// shapes are the synthetic events of each version: from no references and no signatures to the
// most references and 200 signatures, state and not, with unsigned, redacts and origin.
func shapes() []shape {
	return []shape{
		{},
		{prev: 1, auth: 2, sigs: 1},
		{prev: pdu.MaxPrevEvents, auth: pdu.MaxAuthEvents, sigs: 2, servers: 2, state: true, typ: "m.room.member",
			content: M{"membership": "join", "displayname": "Ä \u2028 x"}, unsigned: M{"age": 5}},
		{prev: 3, auth: 3, sigs: 50, servers: 7, origin: "a.example"},
		{sigs: 200, servers: 3, state: true, typ: "m.room.topic", content: M{"topic": strings.Repeat("t", 3000)}},
		{prev: 2, auth: 1, sigs: 9, servers: 9, typ: "m.room.redaction", redacts: "$x:a.example",
			content: M{"redacts": "$y:a.example"}, origin: 5},
		{prev: 1, auth: 1, sigs: 1, state: true, typ: "m.room.member", content: M{"membership": 7}},
		{prev: 1, auth: 1, sigs: 8, servers: 2, content: M{"body": strings.Repeat("é", 20000)}},
	}
}

// malformed returns damaged forms of the canonical event good of version v: each is refused by
// pdu.Parse for at least some versions (the tests compare whatever Parse answers).
func malformed(good []byte) map[string][]byte {
	rep := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	big := strings.Repeat("x", pdu.MaxEventSize)
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	many := func(key string, n int) []byte {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("%q", fmt.Sprintf("$r%d:a.example", i))
		}
		return rep(`"`+key+`":[`, `"`+key+`":[`+strings.Join(ids, ",")+",")
	}
	return map[string][]byte{
		"empty":            {},
		"null":             []byte("null"),
		"array":            []byte("[]"),
		"object":           []byte("{}"),
		"half":             good[:len(good)/2],
		"trailing":         append(bytes.Clone(good), 'x'),
		"float depth":      rep(`"depth":`, `"depth":1.5,"x":`),
		"exponent depth":   rep(`"depth":`, `"depth":1e3,"x":`),
		"negative depth":   rep(`"depth":`, `"depth":-1,"x":`),
		"huge integer":     rep(`"depth":`, `"depth":9007199254740993,"x":`),
		"string depth":     rep(`"depth":`, `"depth":"1","x":`),
		"numeric type":     rep(`"type":`, `"type":5,"x":`),
		"no sender":        rep(`"sender":`, `"x":`),
		"duplicate key":    rep(`"sender":`, `"sender":"@b:a.example","sender":`),
		"too many prev":    many("prev_events", pdu.MaxPrevEvents+1),
		"too many auth":    many("auth_events", pdu.MaxAuthEvents+1),
		"too large":        rep(`"content":{`, `"content":{"big":"`+big+`",`),
		"lone surrogate":   rep(`"content":{`, `"content":{"s":"\ud800",`),
		"invalid utf-8":    rep(`"content":{`, "\"content\":{\"s\":\"\xff\","),
		"deep":             rep(`"content":{`, `"content":{"d":`+deep+`,`),
		"long sender":      rep(`"sender":"`, `"sender":"@`+strings.Repeat("a", 300)),
		"signatures array": rep(`"signatures":`, `"signatures":[],"x":`),
		"hashes no sha256": rep(`"hashes":{`, `"hashes":{"md5":"x"},"y":{`),
		"spaced float":     append([]byte(" "), rep(`"depth":`, `"depth":2.5,"x":`)...),
		"nested error":     rep(`"content":{`, `"content":{"a":{"b":[1,2,}]},`),
	}
}

// allInputs returns the events the equivalence tests parse, in a fixed order: the pdu fixtures
// (testdata/pdu/cases.json, versions 1-12, accepted and refused), the corpus in both forms, the
// roomgen rooms in wire form and indented, the synthetic shapes of every version (canonical and
// indented) with their damaged forms, and events given the zero Version.
func allInputs(t testing.TB) []input {
	t.Helper()
	var in []input
	var cases []struct {
		Name        string          `json:"name"`
		RoomVersion string          `json:"room_version"`
		Event       json.RawMessage `json:"event"`
		Raw         *string         `json:"raw"`
	}
	if err := json.Unmarshal([]byte(claimkit.ReadRoot(t, "testdata/pdu/cases.json")), &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		v, err := roomversion.Lookup(c.RoomVersion)
		if err != nil {
			v = roomversion.Version{} // a fixture of an unknown version: the error is compared
		}
		data := []byte(c.Event)
		if c.Raw != nil {
			data = []byte(*c.Raw)
		}
		in = append(in, input{"fixture " + c.Name, v, data})
	}
	c := loadCorpus(t)
	for i := range c.file {
		in = append(in, input{fmt.Sprintf("corpus %d file", i), c.v, c.file[i]}, input{fmt.Sprintf("corpus %d wire", i), c.v, c.wire[i]})
	}
	for _, r := range rooms(t) {
		for i, e := range r.Events {
			if i%3 == 0 {
				in = append(in, input{fmt.Sprintf("roomgen v%s %d indented", r.Version.ID, i), r.Version, indent(t, e)})
			}
			in = append(in, input{fmt.Sprintf("roomgen v%s %d", r.Version.ID, i), r.Version, e})
		}
	}
	n := 0
	for _, id := range claimkit.VersionIDs() {
		v := claimkit.Ver(t, id)
		for si, s := range shapes() {
			n++
			e := synth(t, v, s, n)
			in = append(in, input{fmt.Sprintf("v%s shape %d", id, si), v, e},
				input{fmt.Sprintf("v%s shape %d indented", id, si), v, indent(t, e)})
			if si == 1 || si == 2 {
				for name, bad := range sortedMap(malformed(e)) {
					in = append(in, input{fmt.Sprintf("v%s shape %d %s", id, si, name), v, bad})
				}
			}
		}
	}
	in = append(in, input{"zero version", roomversion.Version{}, c.wire[3]})
	renamed := c.v
	renamed.ID = "9.1"
	in = append(in, input{"renamed version", renamed, c.wire[3]})
	return in
}

// sortedMap returns the entries of m in key order, as a slice of pairs for a range.
func sortedMap(m map[string][]byte) func(func(string, []byte) bool) {
	return func(yield func(string, []byte) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sortStrings(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// shuffled returns a copy of in in a fixed pseudo-random order.
func shuffled(in []input, seed uint64) []input {
	out := append([]input(nil), in...)
	r := rand.New(rand.NewPCG(seed, 1))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// pduSentinels are the sentinels a parse error may match.
var pduSentinels = []error{pdu.ErrNotJSON, pdu.ErrNotObject, pdu.ErrMissingField, pdu.ErrWrongType,
	pdu.ErrTooLarge, pdu.ErrTooMany, pdu.ErrOutOfRange, roomversion.ErrUnknownVersion,
	canonicaljson.ErrSyntax, canonicaljson.ErrTrailingData, canonicaljson.ErrFloat,
	canonicaljson.ErrNegativeZero, canonicaljson.ErrIntegerRange, canonicaljson.ErrDuplicateKey,
	canonicaljson.ErrLoneSurrogate, canonicaljson.ErrTooDeep, canonicaljson.ErrInvalidUTF8}

// errKey is what two errors must share to be the same error: nil, or the dynamic type, the
// text, every sentinel errors.Is finds, and the fields of a *pdu.FormatError (its Cause's type
// and text) and of a *canonicaljson.SyntaxError in the chain.
func errKey(err error) string {
	if err == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%T %q is:", err, err.Error())
	for i, s := range pduSentinels {
		if errors.Is(err, s) {
			fmt.Fprintf(&b, " %d", i)
		}
	}
	var fe *pdu.FormatError
	if errors.As(err, &fe) {
		fmt.Fprintf(&b, " format{%q %v %q %T %v}", fe.Field, fe.Err, fe.Detail, fe.Cause, fe.Cause)
	}
	var se *canonicaljson.SyntaxError
	if errors.As(err, &se) {
		fmt.Fprintf(&b, " syntax{%d %v %q}", se.Offset, se.Err, se.Msg)
	}
	return b.String()
}

// snap writes out everything a caller can read of ev: every exported field (the lists and
// signatures element by element, the state key's value), Raw, the content span and the
// accessors' answers. Two events with the same snap read the same.
func snap(ev *pdu.Event) string {
	if ev == nil {
		return "<nil event>"
	}
	sk := "<nil>"
	if ev.StateKey != nil {
		sk = fmt.Sprintf("%q", *ev.StateKey)
	}
	cs, ce := ev.RawContentSpan()
	return fmt.Sprintf("v=%q id=%q room=%q sender=%q type=%q sk=%s content=%q prev=%q(nil %v) auth=%q(nil %v) depth=%d ts=%d origin=%q redacts=%q hash=%q sigs=%q(nil %v) membership=%q unsigned=%q(nil %v) raw=%q span=%d,%d",
		ev.Version.ID, ev.EventID, ev.RoomID, ev.Sender, ev.Type, sk, ev.Content, ev.PrevEvents, ev.PrevEvents == nil,
		ev.AuthEvents, ev.AuthEvents == nil, ev.Depth, ev.OriginServerTS, ev.Origin, ev.Redacts, ev.ContentHash,
		fmt.Sprint(ev.Signatures), ev.Signatures == nil, ev.Membership, ev.Unsigned, ev.Unsigned == nil, ev.Raw(), cs, ce)
}

// strs is the strings of an Event, copied out of it (strings are values: the copy holds the
// same bytes as the Event's fields, wherever they live).
type strs struct {
	fields []string
}

func keepStrings(ev *pdu.Event) strs {
	f := []string{ev.EventID, ev.RoomID, ev.Sender, ev.Type, ev.Origin, ev.Redacts, ev.ContentHash, ev.Membership}
	if ev.StateKey != nil {
		f = append(f, *ev.StateKey)
	}
	f = append(f, ev.PrevEvents...)
	f = append(f, ev.AuthEvents...)
	for _, s := range ev.Signatures {
		f = append(f, s.Server, s.KeyID, s.Value)
	}
	return strs{f}
}

func (s strs) String() string { return fmt.Sprintf("%q", s.fields) }

// sameArray reports whether a and b start at the same element of the same array.
func sameArray[T any](a, b []T) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0]
}

// inParallel runs work(g) for g = 0..n-1 in n goroutines at once, and fails the test with each
// message a goroutine returns ("" when it found nothing).
func inParallel(t *testing.T, n int, work func(g int) string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e := work(g); e != "" {
				errs <- e
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

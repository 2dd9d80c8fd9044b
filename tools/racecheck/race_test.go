package racecheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/internal/roomgen"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/policyserver"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/serveracl"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// goroutines is how many goroutines call the same functions on the same inputs at once.
const goroutines = 8

// rounds is how many times each goroutine goes over every input.
const rounds = 1

// worker is what one goroutine owns: an Index and a buffer reused from call to call (the
// documented way to reuse them), never shared with another goroutine.
type worker struct {
	idx canonicaljson.Index
	buf []byte
	// kept are outputs the goroutine holds on to, with a copy of what they held when
	// returned: a function that hands out memory it later reuses (a pooled buffer given back
	// too early) shows as a kept output that changed.
	kept    []keptOut
	keptEvs []keptEv
}

type keptOut struct {
	what string
	b    []byte
	want string
}

// keep holds on to out (not a copy) until the goroutine ends, and returns it.
func (w *worker) keep(what string, out []byte) []byte {
	if len(out) > 0 {
		w.kept = append(w.kept, keptOut{what, out, string(out)})
	}
	return out
}

// keepEvent holds on to a parsed event's bytes and fields.
func (w *worker) keepEvent(what string, e *pdu.Event) *pdu.Event {
	if e != nil {
		w.keep(what+" Raw", e.Raw())
		w.keep(what+" Content", e.Content)
		w.keptEvs = append(w.keptEvs, keptEv{what, e, evSum(e)})
	}
	return e
}

type keptEv struct {
	what string
	e    *pdu.Event
	want string
}

// checkKept reports the kept outputs that changed since they were returned.
func (w *worker) checkKept() []string {
	var bad []string
	for _, k := range w.kept {
		if k.b != nil && string(k.b) != k.want {
			bad = append(bad, fmt.Sprintf("output of %s changed after it was returned:\n  was %s\n  now %s", k.what, clip(k.want), clip(string(k.b))))
		}
	}
	for _, k := range w.keptEvs {
		if s := evSum(k.e); s != k.want {
			bad = append(bad, fmt.Sprintf("event returned by %s changed after it was returned:\n  was %s\n  now %s", k.what, clip(k.want), clip(s)))
		}
	}
	w.kept, w.keptEvs = w.kept[:0], w.keptEvs[:0]
	return bad
}

// hammer calls fn(w, i) for every i in [0, n): first once in order on one goroutine, which
// gives the expected results, then from `goroutines` goroutines at once, each going over every
// input `rounds` times from its own starting point and direction, so that the same input is
// being read by several calls at the same moment and pooled buffers pass between inputs of
// very different sizes. Every result that differs from the sequential one, and every panic,
// fails the test.
func hammer(t *testing.T, name string, n int, fn func(w *worker, i int) string) {
	t.Helper()
	if n == 0 {
		t.Fatalf("%s: no inputs", name)
	}
	begin := time.Now()
	defer func() { t.Logf("%s: %d inputs, %v", name, n, time.Since(begin).Round(time.Millisecond)) }()
	want := make([]string, n)
	seq := &worker{}
	for i := range n {
		want[i] = fn(seq, i)
	}
	for _, bad := range seq.checkKept() {
		t.Errorf("%s: sequential run: %s", name, bad)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fails []string
	)
	report := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		if len(fails) < 10 {
			fails = append(fails, s)
		}
	}
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{}
			cur := -1
			defer func() {
				if r := recover(); r != nil {
					report(fmt.Sprintf("goroutine %d: panic on input %d: %v\n%s", g, cur, r, debug.Stack()))
				}
			}()
			start := g * n / goroutines
			for k := range rounds * n {
				i := (start + k) % n
				if g%2 == 1 {
					i = (start + n - k%n) % n
				}
				cur = i
				if len(w.kept) > 4000 {
					for _, bad := range w.checkKept() {
						report(fmt.Sprintf("goroutine %d: %s", g, bad))
					}
				}
				if got := fn(w, i); got != want[i] {
					d := firstDiff(want[i], got)
					report(fmt.Sprintf("goroutine %d: input %d: concurrent result differs from the sequential one at byte %d:\n  want ...%s\n  got  ...%s",
						g, i, d, clip(want[i][max(0, d-200):]), clip(got[max(0, d-200):])))
				}
			}
			for _, bad := range w.checkKept() {
				report(fmt.Sprintf("goroutine %d: %s", g, bad))
			}
		}()
	}
	wg.Wait()
	for _, f := range fails {
		t.Errorf("%s: %s", name, f)
	}
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// clip shortens a result for a failure message around its first difference-worthy part.
func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

// show renders results as a string that two runs can compare: bytes quoted, errors by type
// and text, events by every field, never a pointer address.
func show(vals ...any) string {
	var b strings.Builder
	for _, v := range vals {
		showTo(&b, v)
		b.WriteByte('|')
	}
	return b.String()
}

func showTo(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("<nil>")
	case []byte:
		switch {
		case x == nil:
			b.WriteString("<nil bytes>")
		case len(x) > 1024: // a digest keeps the comparison cheap
			h := sha256.Sum256(x)
			b.WriteString(strconv.Itoa(len(x)))
			b.WriteString(":")
			b.Write(x[:64])
			b.WriteString("...")
			b.WriteString(hex.EncodeToString(h[:12]))
		default: // length-prefixed: cheaper than quoting, as unambiguous
			b.WriteString(strconv.Itoa(len(x)))
			b.WriteString(":")
			b.Write(x)
		}
	case string:
		b.WriteString(strconv.Itoa(len(x)))
		b.WriteString(":")
		b.WriteString(x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case *pdu.Event:
		b.WriteString(evSum(x))
	case []*pdu.Event:
		fmt.Fprintf(b, "[%d:", len(x))
		for _, e := range x {
			b.WriteString(evSum(e))
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case []error:
		fmt.Fprintf(b, "[%d:", len(x))
		for _, e := range x {
			showTo(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case error:
		fmt.Fprintf(b, "%T(%s)", x, x.Error())
		var se *canonicaljson.SyntaxError
		if errors.As(x, &se) {
			fmt.Fprintf(b, "{off %d}", se.Offset)
		}
	case *authrules.ChainResult:
		if x == nil {
			b.WriteString("<nil result>")
			return
		}
		for _, cv := range x.Verdicts {
			fmt.Fprintf(b, "%v/", cv.PreRejected)
			showTo(b, cv.Err)
			b.WriteByte(';')
		}
		fmt.Fprintf(b, "order %v acc %d rej %d byrule %v", x.Order, x.Accepted, x.Rejected, x.ByRule)
	case *authrules.PowerLevels:
		b.WriteString(plSum(x))
	default:
		fmt.Fprintf(b, "%#v", x)
	}
}

// evSum renders every exported field of a parsed event and its bytes.
func evSum(e *pdu.Event) string {
	if e == nil {
		return "<nil event>"
	}
	sk := "<none>"
	if e.StateKey != nil {
		sk = "=" + *e.StateKey
	}
	s, en := e.RawContentSpan()
	var b strings.Builder
	b.WriteString("{")
	for _, f := range []string{e.Version.ID, e.EventID, e.RoomID, e.Sender, e.Type, sk, e.Origin, e.Redacts, e.ContentHash, e.Membership} {
		showTo(&b, f)
		b.WriteByte(' ')
	}
	for _, l := range [][]string{e.PrevEvents, e.AuthEvents} {
		b.WriteString(strconv.Itoa(len(l)))
		for _, f := range l {
			showTo(&b, f)
		}
	}
	for _, sig := range e.Signatures {
		showTo(&b, sig.Server)
		showTo(&b, sig.KeyID)
		showTo(&b, sig.Value)
	}
	for _, v := range []any{e.Content, e.Unsigned, e.Depth, e.OriginServerTS, s, en, e.Raw()} {
		b.WriteByte(' ')
		showTo(&b, v)
	}
	b.WriteString("}")
	return b.String()
}

// plSum renders what every getter of a PowerLevels answers for the users and types of the
// generated rooms.
func plSum(pl *authrules.PowerLevels) string {
	if pl == nil {
		return "<nil pl>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ban %d kick %d inv %d red %d ev %d st %d ud %d ex %v notif %d users %v;",
		pl.BanLevel(), pl.KickLevel(), pl.InviteLevel(), pl.RedactLevel(), pl.EventsDefault(),
		pl.StateDefault(), pl.UsersDefault(), pl.Exists(), pl.NotificationLevel("room"), sortedMap(pl.Users()))
	users := append([]string{"@nobody:z.example"}, authgen.Users...)
	users = append(users, "@alice:a.example", "@mod:b.example", "@bob:c.example")
	for _, u := range users {
		l, set := pl.UserLevelSet(u)
		fmt.Fprintf(&b, "%s=%d/%d/%v/%v", u, pl.UserLevel(u), l, set, pl.IsCreator(u))
		for _, n := range []string{"invite", "kick", "ban", "redact", "state_default", "events_default", "users_default", "bogus"} {
			c, ok := pl.CompareUserTo(u, n)
			fmt.Fprintf(&b, ",%d%v", c, ok)
		}
		for _, u2 := range users[:3] {
			fmt.Fprintf(&b, ",%d", pl.CompareUsers(u, u2))
		}
		b.WriteByte(';')
	}
	for _, typ := range authgen.EventTypes {
		fmt.Fprintf(&b, "%s=%d/%d;", typ, pl.EventLevel(typ, true), pl.EventLevel(typ, false))
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedMap[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%q:%v,", k, m[k])
	}
	return b.String()
}

// guard remembers inputs and their contents so that a test can check afterwards that no
// function wrote to a slice it was given.
type guard struct {
	names []string
	live  [][]byte
	orig  [][]byte
	evs   []*pdu.Event
	evSum []string
}

// bytes registers an input slice and returns it.
func (g *guard) bytes(name string, b []byte) []byte {
	g.names = append(g.names, name)
	g.live = append(g.live, b)
	g.orig = append(g.orig, bytes.Clone(b))
	return b
}

// event registers a parsed event, shared read-only by the calls.
func (g *guard) event(e *pdu.Event) *pdu.Event {
	if e != nil {
		g.evs = append(g.evs, e)
		g.evSum = append(g.evSum, evSum(e))
	}
	return e
}

// check fails the test for every input that changed.
func (g *guard) check(t *testing.T) {
	t.Helper()
	bad := 0
	for i, b := range g.live {
		if !bytes.Equal(b, g.orig[i]) && bad < 10 {
			bad++
			t.Errorf("input %s was modified:\n  before %q\n  after  %q", g.names[i], clip(string(g.orig[i])), clip(string(b)))
		}
	}
	for i, e := range g.evs {
		if s := evSum(e); s != g.evSum[i] && bad < 10 {
			bad++
			t.Errorf("shared parsed event %d was modified:\n  before %s\n  after  %s", i, clip(g.evSum[i]), clip(s))
		}
	}
}

// item is one event of the corpus: its bytes as received and its room version.
type item struct {
	name string
	v    roomversion.Version
	raw  []byte
}

// corpusData is built once for every test of the package.
type corpusData struct {
	items []item
	// rooms are the roomgen rooms; ring knows the keys of every server of every room.
	rooms []*roomgen.Room
	ring  signing.KeyRing
	// agen are the authgen rooms and candidates.
	agen []agenCase
}

// agenCase is one authgen room of some version with candidates built in it.
type agenCase struct {
	v     roomversion.Version
	state []*pdu.Event // the room's state, one event per (type, state_key)
	cands []agenCand
}

type agenCand struct {
	raw  []byte
	auth [][]byte
}

var (
	corpusOnce sync.Once
	corpusVal  *corpusData
	corpusErr  error
)

func version(id string) roomversion.Version { return authgen.Version(id) }

// corpus builds (once) the rooms and events every test draws from: signed roomgen rooms of
// versions 8-12 with message bodies from 10 bytes to 20 kB (so that inputs of very different
// sizes follow each other through the pools), authgen rooms of every version 1-12 with
// candidate events, and variants of those events: indented (not canonical), with a changed
// body (content hash mismatch), without signatures, cut short, and a 60 kB one.
func corpus(t *testing.T) *corpusData {
	t.Helper()
	corpusOnce.Do(func() { corpusVal, corpusErr = buildCorpus() })
	if corpusErr != nil {
		t.Fatal(corpusErr)
	}
	return corpusVal
}

func buildCorpus() (*corpusData, error) {
	c := &corpusData{ring: signing.KeyRing{}}
	cfgs := []roomgen.Config{
		{RoomVersion: "9", Events: 24, Servers: 4, Seed: 1, BodyBytes: 10, Rejected: 150},
		{RoomVersion: "10", Events: 12, Servers: 3, Seed: 2, BodyBytes: 6000, MessageShare: 40},
		{RoomVersion: "12", Events: 24, Servers: 4, Seed: 3, BodyBytes: 300, Rejected: 150},
		{RoomVersion: "8", Events: 10, Servers: 2, Seed: 4, BodyBytes: 1500},
		{RoomVersion: "11", Events: 10, Servers: 3, Seed: 5, BodyBytes: 50},
	}
	ex, err := roomgen.ExampleRoom()
	if err != nil {
		return nil, err
	}
	c.rooms = append(c.rooms, ex)
	for _, cfg := range cfgs {
		r, err := roomgen.Generate(cfg)
		if err != nil {
			return nil, fmt.Errorf("roomgen %+v: %w", cfg, err)
		}
		c.rooms = append(c.rooms, r)
	}
	for ri, r := range c.rooms {
		for s, keys := range r.Keys {
			if c.ring[s] == nil {
				c.ring[s] = map[string]signing.PublicKey{}
			}
			for id, k := range keys {
				c.ring[s][id] = k
			}
		}
		for i, raw := range r.Events {
			c.items = append(c.items, item{fmt.Sprintf("room%d/%d", ri, i), r.Version, raw})
		}
	}
	for _, s := range append(append([]string{}, authgen.Servers...), "e.example", "f.example", "z.example") {
		if c.ring[s] == nil {
			c.ring[s] = map[string]signing.PublicKey{}
		}
		c.ring[s]["ed25519:1"] = signing.PublicKey{Key: authgen.KeyFor(s, "1").Public()}
	}
	// authgen rooms of every version.
	r := rand.New(rand.NewSource(7))
	for _, v := range roomversion.All() {
		for k := range 1 {
			b := &authgen.Builder{V: v, Ver: difftool.VerNum(v.ID), R: r, N: k * 1000, Focus: v.ID >= "6", RealSignFrom: 8}
			rm := b.GenRoom()
			ac := agenCase{v: v}
			seen := map[authrules.StateKey]bool{}
			for _, e := range rm.Order {
				if e.StateKey == nil {
					continue
				}
				sk := authrules.StateKey{Type: e.Type, StateKey: *e.StateKey}
				if seen[sk] {
					continue
				}
				seen[sk] = true
				cur := rm.Lookup(sk)
				ev, err := signing.ParseEvent(v, cur.Raw)
				if err != nil {
					return nil, fmt.Errorf("authgen v%s state: %w", v.ID, err)
				}
				ac.state = append(ac.state, ev)
				c.items = append(c.items, item{fmt.Sprintf("agen%s.%d/%s", v.ID, k, cur.ID), v, cur.Raw})
			}
			for range 6 {
				cand := b.GenCand(rm)
				final, auth, _, err := b.Assemble(rm, cand, r.Intn(3) == 0)
				if err != nil {
					continue
				}
				ca := agenCand{raw: final.Raw}
				for _, a := range auth {
					ca.auth = append(ca.auth, a.Raw)
				}
				ac.cands = append(ac.cands, ca)
				c.items = append(c.items, item{fmt.Sprintf("agen%s.%d/cand", v.ID, k), v, final.Raw})
			}
			c.agen = append(c.agen, ac)
		}
	}
	// Variants.
	base := len(c.items)
	for i := 0; i < base; i += 8 {
		it := c.items[i]
		var ind bytes.Buffer
		if err := jsonIndent(&ind, it.raw); err == nil {
			c.items = append(c.items, item{it.name + "/indented", it.v, ind.Bytes()})
		}
		if j := bytes.Index(it.raw, []byte(`"content":{`)); j >= 0 {
			mod := bytes.Clone(it.raw)
			mod = append(mod[:j+11:j+11], append([]byte(`"x":1,`), it.raw[j+11:]...)...)
			c.items = append(c.items, item{it.name + "/changed", it.v, mod})
		}
		if j := bytes.Index(it.raw, []byte(`"signatures":{`)); j >= 0 {
			mod := append(bytes.Clone(it.raw[:j+14]), it.raw[j+14:]...)
			mod = bytes.Replace(mod, []byte(`"signatures":{"`), []byte(`"signatures":{"zz.example":{},"`), 1)
			c.items = append(c.items, item{it.name + "/extrasig", it.v, mod})
		}
		c.items = append(c.items, item{it.name + "/cut", it.v, bytes.Clone(it.raw[:len(it.raw)/2])})
	}
	// One event close to the 64 kB limit, and one above it.
	big := func(n int) []byte {
		return []byte(`{"auth_events":[],"content":{"body":"` + strings.Repeat("é", n) +
			`","msgtype":"m.text"},"depth":5,"hashes":{"sha256":"` + authgen.DummyHash + `"},"origin_server_ts":1,` +
			`"prev_events":[],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{},"type":"m.room.message"}`)
	}
	for _, id := range []string{"9", "11"} {
		v := version(id)
		for _, n := range []int{map[string]int{"9": 32000, "11": 33000}[id]} {
			raw, err := signing.SignEvent(v, big(n), "a.example", authgen.KeyFor("a.example", "1"))
			if err != nil {
				return nil, err
			}
			c.items = append(c.items, item{fmt.Sprintf("big%d/v%s", n, id), v, raw})
		}
	}
	return c, nil
}

func jsonIndent(dst *bytes.Buffer, src []byte) error { return json.Indent(dst, src, "", "  ") }

// handcrafted are canonical JSON corner cases: numbers of every form, duplicates, surrogates,
// escapes, invalid UTF-8, nesting around the limits, non-objects, whitespace, trailing data,
// and an object of 2000 members (past the 1,024 members after which Index.Reset lets go).
func handcrafted() [][]byte {
	var many strings.Builder
	many.WriteString("{")
	for i := 1100; i > 0; i-- {
		fmt.Fprintf(&many, `"k%04d":{"n":%d,"s":"\u00e9"},`, i, i)
	}
	many.WriteString(`"z":[]}`)
	deep := func(n int) string { return strings.Repeat(`{"a":[`, n) + "1" + strings.Repeat("]}", n) }
	return [][]byte{
		[]byte(`{}`), []byte(`[]`), []byte(` {"b":1, "a":2} `), []byte(`"str"`), []byte(`"\ud83d\ude00\u0041\/\u00e9"`),
		[]byte(`1`), []byte(`-0`), []byte(`1e10`), []byte(`1.5`), []byte(`1e400`), []byte(`9007199254740992`),
		[]byte(`{"a":-0,"b":1E2,"c":[1.0,2e-1]}`), []byte(`{"a":1,"a":2}`), []byte(`{"a":1,"\u0061":2}`),
		[]byte(`{"s":"\ud800x"}`), []byte(`{"\udc00":1}`), []byte("{\"a\":\"\xff\"}"), []byte("\"\xc0\xaf\""),
		[]byte(`{"a":1,}`), []byte(`[01]`), []byte(`{"a":1} x`), []byte(`nul`), []byte(``), []byte(`   `),
		[]byte(`true`), []byte(`[null,false,true,"\u0000\u001f\b\f\n\r\t"]`), []byte(`{"<>&":"\u003c\u2028"}`),
		[]byte(`{"content":{"b":{"y":1,"x":2},"a":[3,{"d":4,"c":5}]},"signatures":{"b":{"k":"v"},"a":{}}}`),
		[]byte(deep(20)), []byte(deep(63)), []byte(deep(64)), []byte(deep(300)),
		[]byte(many.String()),
	}
}

// TestCanonicalJSON calls every function of canonicaljson on the same inputs from many
// goroutines, each reusing its own Index and output buffer across inputs of 2 bytes to 60 kB.
func TestCanonicalJSON(t *testing.T) {
	c := corpus(t)
	var g guard
	var ins [][]byte
	for _, in := range handcrafted() {
		ins = append(ins, g.bytes("handcrafted", in))
	}
	for _, it := range subset(c.items, 12, 2) {
		ins = append(ins, g.bytes(it.name, it.raw))
	}
	// Values for Marshal, decoded once and read by every goroutine.
	vals := make([]any, len(ins))
	for i, in := range ins {
		var v any
		if len(in) < 4000 && json.Unmarshal(in, &v) == nil {
			vals[i] = v
		}
	}
	hammer(t, "canonicaljson", len(ins), func(w *worker, i int) string {
		in := ins[i]
		var b strings.Builder
		out, err := canonicaljson.Canonical(in)
		b.WriteString(show("Canonical", w.keep("Canonical", out), err))
		out, err = canonicaljson.CanonicalStrict(in)
		b.WriteString(show("Strict", w.keep("Strict", out), err))
		dst := append(make([]byte, 0, 3+len(in)%7), "pre"...)
		out, err = canonicaljson.Append(dst, in, canonicaljson.Options{MaxDepth: 64})
		b.WriteString(show("Append64", w.keep("Append64", out), err))
		if string(out[:3]) != "pre" {
			b.WriteString("PREFIX CHANGED")
		}
		for _, strict := range []bool{false, true} {
			opts := canonicaljson.Options{Strict: strict}
			w.buf, err = canonicaljson.AppendIndexed(w.buf[:0], in, opts, &w.idx)
			b.WriteString(show("Indexed", string(w.buf), err)) // nil and empty dst are the same here
			if err == nil {
				h := sha256.New()
				for _, m := range slices.Concat(w.idx.Members, w.idx.Nested) {
					for _, n := range []int{m.Start, m.Value, m.End, m.NestedStart, m.NestedEnd} {
						h.Write(strconv.AppendInt(nil, int64(n), 10))
						h.Write([]byte{','})
					}
					h.Write(m.Key(w.buf))
					h.Write([]byte{';'})
				}
				fmt.Fprintf(&b, "index %d+%d %x", len(w.idx.Members), len(w.idx.Nested), h.Sum(nil)[:12])
			}
			b.WriteString(show("Valid", canonicaljson.Valid(in, opts)))
		}
		if i%3 == 0 {
			w.idx.Reset()
		}
		em := sha256.New()
		err = canonicaljson.EachMember(in, func(k string, v []byte) error {
			em.Write([]byte(k))
			em.Write([]byte{0})
			em.Write(v)
			em.Write([]byte{0})
			if k == "stop" {
				return errors.New("stop")
			}
			return nil
		})
		b.WriteString(show("EachMember", em.Sum(nil), err))
		err = canonicaljson.EachElement(in, func(v []byte) error { fmt.Fprintf(&b, "%q,", v); return nil })
		b.WriteString(show("EachElement", err))
		fmt.Fprintf(&b, "is %v %v %v;", errors.Is(err, canonicaljson.ErrSyntax), errors.Is(err, canonicaljson.ErrFloat), errors.Is(err, canonicaljson.ErrTooDeep))
		s, err := canonicaljson.Unquote(in)
		b.WriteString(show("Unquote", s, err))
		b.WriteString(show("Kind", canonicaljson.KindOf(in).String(), canonicaljson.AppendString([]byte("x"), string(in[:min(len(in), 300)]))))
		out, err = canonicaljson.Marshal(vals[i])
		b.WriteString(show("Marshal", w.keep("Marshal", out), err))
		return b.String()
	})
	g.check(t)
}

// subset returns every k-th item of at most 5000 bytes, and maxBig of the larger ones (at
// least one under the size limit and one over it), so that every test mixes sizes.
func subset(items []item, k, maxBig int) []item {
	var out, big []item
	for i, it := range items {
		if len(it.raw) > 5000 {
			big = append(big, it)
		} else if i%k == 0 {
			out = append(out, it)
		}
	}
	// The largest two first (64 kB and just over the limit), then the others.
	slices.SortStableFunc(big, func(a, b item) int { return len(b.raw) - len(a.raw) })
	for i, it := range big[:min(maxBig, len(big))] {
		// Spread the big ones among the small ones.
		at := (i*7 + 3) * len(out) / (7*maxBig + 3)
		out = slices.Insert(out, at, it)
	}
	return out
}

// parsedItems parses every corpus item (sequentially) for its version.
func parsedItems(c *corpusData) (evs []*pdu.Event, its []item) {
	for _, it := range c.items {
		if ev, err := signing.ParseEvent(it.v, it.raw); err == nil {
			evs = append(evs, ev)
			its = append(its, it)
		}
	}
	return evs, its
}

// TestPDU parses the same bytes from many goroutines (Parse, ParseIndexed) and reads the same
// parsed events through every method.
func TestPDU(t *testing.T) {
	c := corpus(t)
	var g guard
	its := subset(c.items, 4, 3)
	its = slices.Insert(its, len(its)/2, item{"huge", version("10"), hugeEvent()})
	for _, it := range its {
		g.bytes(it.name, it.raw)
	}
	hammer(t, "pdu.Parse", len(its), func(w *worker, i int) string {
		it := its[i]
		ev, err := pdu.Parse(it.v, it.raw)
		s := show(w.keepEvent("Parse", ev), err)
		ev2, err2 := pdu.ParseIndexed(it.v, it.raw, &w.idx)
		w.keepEvent("ParseIndexed", ev2)
		s += show(ev2, err2)
		if err2 == nil {
			for _, m := range w.idx.Members {
				s += string(m.Key(ev2.Raw())) + ","
			}
		}
		var fe *pdu.FormatError
		if errors.As(err, &fe) {
			s += show(fe.Field, fe.Detail, errors.Is(err, pdu.ErrNotJSON), errors.Is(err, pdu.ErrTooLarge))
		}
		return s
	})
	evs, _ := parsedItems(c)
	evs = evs[:len(evs)/3]
	for _, e := range evs {
		g.event(e)
	}
	hammer(t, "pdu.Event methods", len(evs), func(w *worker, i int) string {
		e := evs[i]
		var b strings.Builder
		for _, k := range []string{"membership", "body", "join_rule", "users", "creator", "redacts", "nope", "\x01"} {
			v := e.ContentField(k)
			s, ok := e.ContentString(k)
			fmt.Fprintf(&b, "%q%q%v%v,", v, s, ok, e.HasKey(k))
		}
		for _, k := range []string{"content", "room_id", "state_key", "unsigned", "redacts"} {
			fmt.Fprintf(&b, "%v", e.HasKey(k))
		}
		cs, ce := e.RawContentSpan()
		fmt.Fprintf(&b, "%v%v%v%v%q%d%d", e.IsState(), e.Is(pdu.TypeMember, e.Sender), e.Is(e.Type, ""),
			e.StateKeyEquals(""), e.Room(), cs, ce)
		fmt.Fprintf(&b, "%s", sortedMap(e.Signatures.Map()))
		for srv := range e.Signatures.Servers() {
			v, ok := e.Signatures.Get(srv, "ed25519:1")
			fmt.Fprintf(&b, "%s%v%q%v%v,", srv, e.Signatures.Signed(srv), v, ok, e.Signatures.Server(srv))
		}
		fmt.Fprintf(&b, "%v%v%v", pdu.CheckOpaqueEventID(e.EventID), pdu.ValidServerName(e.Origin), pdu.ValidServerName(e.Sender))
		return b.String() + evSum(e)
	})
	g.check(t)
}

// TestRedaction redacts the same bytes and parsed events from many goroutines: Redact (the
// validating path), RedactCanonical and AppendSignedBytes (pooled scratch), the Indexed form
// with each goroutine's own Index, ApplyRedaction and Decide on redaction/target pairs.
func TestRedaction(t *testing.T) {
	c := corpus(t)
	var g guard
	its := subset(c.items, 4, 2)
	for _, it := range its {
		g.bytes(it.name, it.raw)
	}
	v1, v11 := version("1"), version("11")
	canons := make([][]byte, len(its))
	for i, it := range its {
		if canon, err := canonicaljson.Append(nil, it.raw, canonicaljson.Options{Strict: it.v.Format.StrictCanonicalJSON}); err == nil {
			canons[i] = g.bytes(it.name+" canonical", canon)
		}
	}
	hammer(t, "redaction bytes", len(its), func(w *worker, i int) string {
		it := its[i]
		var b strings.Builder
		for _, v := range []roomversion.Version{it.v, v1, v11} {
			out, err := redaction.Redact(v, it.raw)
			b.WriteString(show("Redact"+v.ID, w.keep("Redact", out), err))
		}
		canon := canons[i] // shared by every goroutine
		if canon == nil {
			return b.String()
		}
		out, err := redaction.RedactCanonical(it.v, canon)
		b.WriteString(show("RedactCanonical", w.keep("RedactCanonical", out), err))
		dst := append(make([]byte, 0, 2+i%5), "pr"...)
		out, err = redaction.AppendSignedBytes(dst, it.v, canon)
		b.WriteString(show("AppendSignedBytes", w.keep("AppendSignedBytes", out), err))
		w.buf, err = canonicaljson.AppendIndexed(w.buf[:0], it.raw, canonicaljson.Options{Strict: it.v.Format.StrictCanonicalJSON}, &w.idx)
		if err == nil {
			before := string(w.buf)
			out, err = redaction.AppendSignedBytesIndexed(nil, it.v, w.buf, &w.idx)
			b.WriteString(show("Indexed", w.keep("Indexed", out), err))
			if string(w.buf) != before {
				b.WriteString("AppendSignedBytesIndexed MODIFIED ITS INPUT")
			}
		}
		return b.String()
	})
	// Redaction / target pairs: every redaction of the corpus with its target, with every
	// other event of its room, and with nil.
	evs, _ := parsedItems(c)
	byID := map[string]*pdu.Event{}
	for _, e := range evs {
		g.event(e)
		byID[e.EventID] = e
	}
	type pair struct{ red, target *pdu.Event }
	var pairs []pair
	for i, e := range evs {
		if e.Type != pdu.TypeRedaction {
			continue
		}
		pairs = append(pairs, pair{e, byID[e.Redacts]}, pair{e, nil}, pair{e, evs[(i+1)%len(evs)]}, pair{evs[(i+3)%len(evs)], e})
	}
	if len(pairs) == 0 {
		t.Fatal("no redaction in the corpus")
	}
	hammer(t, "redaction pairs", len(pairs), func(w *worker, i int) string {
		p := pairs[i]
		var b strings.Builder
		for _, lv := range [][2]int64{{0, 50}, {100, 50}, {50, 50}} {
			d, why := redaction.Decide(p.red.Version, p.red, p.target, lv[0], lv[1])
			b.WriteString(show(d.String(), why))
		}
		for _, cmp := range []int{-1, 0, 1} {
			d, why := redaction.DecideCompared(p.red.Version, p.red, p.target, cmp)
			b.WriteString(show(d.String(), why))
		}
		if p.target != nil {
			out, err := redaction.ApplyRedaction(p.target, p.red)
			b.WriteString(show("Apply", w.keep("Apply", out), err))
			var re *redaction.Error
			if errors.As(err, &re) {
				b.WriteString(show(re.Detail, errors.Is(err, redaction.ErrWrongTarget)))
			}
		}
		return b.String()
	})
	g.check(t)
}

// sharedKeys are signing keys read by every goroutine.
var (
	keyZ  = authgen.KeyFor("z.example", "1")
	keyZ2 = authgen.KeyFor("z.example", "2")
)

// TestSigning calls the hashing, signing and verifying functions on the same bytes, the same
// parsed events and the same KeyRing from many goroutines.
func TestSigning(t *testing.T) {
	c := corpus(t)
	var g guard
	its := subset(c.items, 26, 1)
	for _, it := range its {
		g.bytes(it.name, it.raw)
	}
	// Parsed once, shared: the event and a SignedObject per input.
	evs := make([]*pdu.Event, len(its))
	noID := make([]*pdu.Event, len(its)) // parsed by pdu.Parse: no EventID from v3
	objs := make([]*signing.SignedObject, len(its))
	for i, it := range its {
		evs[i], _ = signing.ParseEvent(it.v, it.raw)
		g.event(evs[i])
		noID[i], _ = pdu.Parse(it.v, it.raw)
		g.event(noID[i])
		objs[i], _ = signing.ParseSignedObject(it.raw)
	}
	ring := c.ring
	pubs := []ed25519.PublicKey{authgen.KeyFor("a.example", "1").Public(), keyZ.Public()}
	// Shared caches: one of the default size, and a nil one.
	var cache signing.KeyCache
	var nilCache *signing.KeyCache
	hammer(t, "signing", len(its), func(w *worker, i int) string {
		it, ev := its[i], evs[i]
		var b strings.Builder
		h, err := signing.ContentHash(it.v, it.raw)
		b.WriteString(show("ContentHash", h[:], err, signing.CheckContentHash(it.v, it.raw)))
		h, err = signing.ReferenceHash(it.v, it.raw)
		b.WriteString(show("ReferenceHash", h[:], err))
		id, err := signing.EventID(it.v, it.raw)
		b.WriteString(show("EventID", id, err))
		pe, err := signing.ParseEvent(it.v, it.raw)
		w.keepEvent("ParseEvent", pe)
		b.WriteString(show("ParseEvent", pe, err))
		err = signing.VerifyEvent(it.v, it.raw, ring)
		b.WriteString(show("VerifyEvent", err, signing.VerdictOf(err).String(), signing.Redactable(err)))
		// The cache never changes a verdict: its answers are rendered as VerifyEvent's.
		b.WriteString(show("VerifyEvent", cache.VerifyEvent(it.v, it.raw, ring), nilCache.VerifyEvent(it.v, it.raw, ring)))
		if ev != nil {
			b.WriteString(show("VerifyParsedEvent", cache.VerifyParsedEvent(ev, ring), nilCache.VerifyParsedEvent(ev, ring)))
		}
		var ve *signing.VerificationError
		if errors.As(err, &ve) {
			b.WriteString(show(ve.Server, ve.KeyID, ve.Detail))
		}
		out, err := signing.SignEvent(it.v, it.raw, "z.example", keyZ)
		b.WriteString(show("SignEvent", w.keep("SignEvent", out), err))
		out, err = signing.CountersignEvent(it.v, it.raw, "z.example", keyZ2)
		b.WriteString(show("Countersign", w.keep("Countersign", out), err))
		out, err = signing.SignJSON(it.raw, "z.example", keyZ)
		b.WriteString(show("SignJSON", w.keep("SignJSON", out), err))
		b.WriteString(show("VerifyJSON", signing.VerifyJSON(it.raw, ring), signing.VerifyJSONServer(it.raw, "a.example", ring)))
		for k, pub := range pubs {
			ok, err := signing.HasValidSignature(it.raw, pub)
			b.WriteString(show("HasValid", ok, err))
			if objs[i] != nil {
				b.WriteString(show(objs[i].HasValidSignature(pub)))
			}
			_ = k
		}
		if ev != nil {
			err = signing.VerifyParsedEvent(ev, ring)
			b.WriteString(show("VerifyParsed", err))
			rs, err := signing.RequiredSigners(ev)
			b.WriteString(show("Required", rs, err, signing.IsThirdPartyInvite(ev)))
			srv, ok := signing.ServerName(ev.Sender)
			b.WriteString(show("VerifyEventSignature", srv, ok, signing.VerifyEventSignature(ev, srv, ring)))
		}
		if e := noID[i]; e != nil {
			rs, err := signing.RequiredSigners(e)
			b.WriteString(show("without ID", signing.VerifyParsedEvent(e, ring), rs, err, signing.VerifyEventSignature(e, "a.example", ring)))
		}
		return b.String()
	})
	// Hashes of inputs around the size past which the scratch pool drops its buffers.
	hits := slices.Clone(subset(c.items, 30, 1))
	hits = slices.Insert(hits, len(hits)/2, item{"huge", version("10"), g.bytes("huge", hugeEvent())})
	hammer(t, "signing hashes", len(hits), func(w *worker, i int) string {
		it := hits[i]
		h, err := signing.ContentHash(it.v, it.raw)
		r, rerr := signing.ReferenceHash(it.v, it.raw)
		id, iderr := signing.EventID(it.v, it.raw)
		return show(h[:], err, r[:], rerr, id, iderr, signing.CheckContentHash(it.v, it.raw))
	})
	// Keys: parsing and the KeyRing read by everyone.
	keyLines := [][]byte{
		g.bytes("keyline", []byte("ed25519 a_1 "+base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))+"\n")),
		g.bytes("keyline", []byte("ed25519\tb \t"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))+"\r\n")),
		g.bytes("keyline", []byte("ed25519 c bad")),
		g.bytes("keyline", []byte("ed25519 d AAAA\ned25519 e AAAA")),
	}
	ringJSON := [][]byte{
		g.bytes("ring", c.rooms[0].KeysJSON()),
		g.bytes("ring", []byte(`{"x.example":{"ed25519:1":{"key":"`+base64.RawStdEncoding.EncodeToString(pubs[0])+`","valid_until_ts":5},"other:1":"zz"}}`)),
		g.bytes("ring", []byte(`{"x.example":{"ed25519:1":"short"}}`)),
	}
	hammer(t, "signing keys", len(keyLines)*len(ringJSON), func(w *worker, i int) string {
		var b strings.Builder
		k, err := signing.ParseSigningKey(keyLines[i%len(keyLines)])
		b.WriteString(show("ParseSigningKey", k.Version, []byte(k.Private), err))
		if err == nil {
			b.WriteString(show(k.KeyID(), []byte(k.Public())))
		}
		var ke *signing.KeyError
		if errors.As(err, &ke) {
			b.WriteString(show(ke.Server, ke.KeyID, ke.Detail))
		}
		r, err := signing.ParseKeyRing(ringJSON[i/len(keyLines)])
		b.WriteString(show("ParseKeyRing", sortedMap(r), err))
		for _, srv := range sortedKeys(ring) {
			for _, id := range sortedKeys(ring[srv]) {
				pk, ok := ring.PublicKey(srv, id)
				b.WriteString(show(srv, id, []byte(pk.Key), pk.ValidUntilTS, ok))
			}
		}
		nk, err := signing.NewSigningKey(fmt.Sprint("v", i), bytes.Repeat([]byte{byte(i)}, 32))
		b.WriteString(show("NewSigningKey", nk.KeyID(), []byte(nk.Public()), err))
		pk, err := signing.DecodePublicKey(base64.RawURLEncoding.EncodeToString(pubs[i%len(pubs)]))
		b.WriteString(show("DecodePublicKey", []byte(pk), err))
		for _, v := range []signing.Verdict{signing.VerdictValid, signing.VerdictRedact, signing.VerdictNeedKey, signing.VerdictReject} {
			b.WriteString(v.String())
		}
		return b.String()
	})
	g.check(t)
}

// progressCheck returns a Progress callback that records whether calls overlapped, whether
// done ever decreased, and the last call, for a batch of total events.
func progressCheck() (func(done, total int), func() string) {
	var mu sync.Mutex
	busy, overlap, decreased := false, false, false
	last, lastTotal, calls := -1, -1, 0
	fn := func(done, total int) {
		mu.Lock()
		if busy {
			overlap = true
		}
		busy = true
		if done < last {
			decreased = true
		}
		last, lastTotal = done, total
		calls++
		mu.Unlock()
		mu.Lock()
		busy = false
		mu.Unlock()
	}
	return fn, func() string {
		mu.Lock()
		defer mu.Unlock()
		return fmt.Sprintf("progress overlap=%v decreased=%v last=%d/%d called=%v", overlap, decreased, last, lastTotal, calls > 0)
	}
}

// TestBatchVerify runs the batch verifiers (VerifyEvents, VerifyParsedEvents,
// ParseAndVerifyEvents) with 1 to 4 workers, several batches at once, over the same slices,
// and compares each answer with the sequential one and with VerifyEvent per event.
func TestBatchVerify(t *testing.T) {
	c := corpus(t)
	var g guard
	byVer := map[string][][]byte{}
	var vids []string
	for _, it := range subset(c.items, 3, 2) {
		if !slices.Contains([]string{"1", "9", "12"}, it.v.ID) {
			continue
		}
		if byVer[it.v.ID] == nil {
			vids = append(vids, it.v.ID)
		}
		byVer[it.v.ID] = append(byVer[it.v.ID], g.bytes(it.name, it.raw))
	}
	sort.Strings(vids)
	for _, vid := range vids {
		t.Logf("batch of version %s: %d events", vid, len(byVer[vid]))
	}
	evs, _ := parsedItems(c)
	evs = append(evs[:len(evs)/8:len(evs)/8], nil) // mixed versions, and a nil event
	for _, e := range evs {
		g.event(e)
	}
	// What one VerifyEvent per event answers.
	single := map[string][]string{}
	for _, vid := range vids {
		for _, raw := range byVer[vid] {
			single[vid] = append(single[vid], show(signing.VerifyEvent(version(vid), raw, c.ring)))
		}
	}
	workers := []int{1, 4}
	n := len(vids) * len(workers)
	hammer(t, "batch verify", n+len(workers), func(w *worker, i int) string {
		if i >= n { // VerifyParsedEvents over mixed versions
			prog, summary := progressCheck()
			errs := signing.VerifyParsedEvents(evs, c.ring, &signing.BatchOptions{Workers: workers[i-n], Progress: prog})
			return show(errs) + summary()
		}
		vid, wk := vids[i/len(workers)], workers[i%len(workers)]
		v := version(vid)
		raws := byVer[vid]
		var b strings.Builder
		prog, summary := progressCheck()
		errs := signing.VerifyEvents(v, raws, c.ring, &signing.BatchOptions{Workers: wk, Progress: prog})
		b.WriteString(summary())
		for k, e := range errs {
			if s := show(e); s != single[vid][k] {
				fmt.Fprintf(&b, "VerifyEvents[%d]=%s but VerifyEvent=%s;", k, s, single[vid][k])
			}
		}
		b.WriteString(show(errs))
		pevs, perrs := signing.ParseAndVerifyEvents(v, raws, c.ring, &signing.BatchOptions{Workers: wk})
		for _, e := range pevs {
			w.keepEvent("ParseAndVerifyEvents", e)
		}
		for k, e := range perrs {
			if s := show(e); s != single[vid][k] {
				fmt.Fprintf(&b, "ParseAndVerifyEvents[%d]=%s but VerifyEvent=%s;", k, s, single[vid][k])
			}
		}
		b.WriteString(show(pevs, perrs))
		if wk == 1 {
			b.WriteString(show(signing.VerifyEvents(v, raws, nil, nil)))
		}
		return b.String()
	})
	g.check(t)
}

// authCase is one candidate event checked against a shared State and its own auth events.
type authCase struct {
	v     roomversion.Version
	state *authrules.State
	pl    *authrules.PowerLevels // the state's power levels, shared
	ev    *pdu.Event
	auth  []*pdu.Event
	// evNoID and authNoID are the same events parsed by pdu.Parse, which leaves EventID empty
	// from room version 3: Check then computes the IDs from the bytes, on events that every
	// goroutine shares.
	evNoID   *pdu.Event
	authNoID []*pdu.Event
}

// authCases builds one shared State per authgen room and per roomgen room (every accepted
// state event applied in order), with the candidates of the room, or every event of the
// roomgen room, to check against it.
func authCases(t *testing.T, c *corpusData, g *guard) []authCase {
	t.Helper()
	var cases []authCase
	for _, ac := range c.agen {
		s, err := authrules.NewState(ac.v, ac.state)
		if err != nil {
			t.Fatalf("NewState v%s: %v", ac.v.ID, err)
		}
		for _, e := range ac.state {
			g.event(e)
		}
		pl := s.PowerLevels()
		for _, cand := range ac.cands {
			ev, err := signing.ParseEvent(ac.v, g.bytes("cand", cand.raw))
			if err != nil {
				continue
			}
			ac := authCase{v: ac.v, state: s, pl: pl, ev: g.event(ev)}
			for _, a := range cand.auth {
				if ae, err := signing.ParseEvent(ac.v, g.bytes("auth", a)); err == nil {
					ac.auth = append(ac.auth, g.event(ae))
				}
			}
			cases = append(cases, ac)
		}
	}
	for _, r := range c.rooms {
		evs := roomEvents(t, r)
		s, err := authrules.NewState(r.Version, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range evs {
			if e.IsState() && !r.Expect[i].Rejected {
				if err := s.Apply(e); err != nil {
					t.Fatalf("Apply: %v", err)
				}
			}
		}
		pl := s.PowerLevels()
		byID := map[string]*pdu.Event{}
		for _, e := range evs {
			byID[e.EventID] = g.event(e)
		}
		for i, e := range evs {
			if i%4 != 0 {
				continue
			}
			ac := authCase{v: r.Version, state: s, pl: pl, ev: e}
			for _, id := range e.AuthEvents {
				if a := byID[id]; a != nil {
					ac.auth = append(ac.auth, a)
				}
			}
			cases = append(cases, ac)
		}
	}
	return cases
}

// roomEvents parses the events of a roomgen room (sequentially).
func roomEvents(t *testing.T, r *roomgen.Room) []*pdu.Event {
	t.Helper()
	evs := make([]*pdu.Event, len(r.Events))
	for i, raw := range r.Events {
		e, err := signing.ParseEvent(r.Version, raw)
		if err != nil {
			t.Fatalf("roomgen event %d: %v", i, err)
		}
		evs[i] = e
	}
	return evs
}

// TestAuthrules checks candidate events against shared States (8 goroutines on each State at
// once), reads every getter of the shared States and PowerLevels, and calls the package's
// functions on the same parsed events.
func TestAuthrules(t *testing.T) {
	c := corpus(t)
	var g guard
	cases := authCases(t, c, &g)
	for i := range cases {
		ac := &cases[i]
		ac.evNoID = g.event(mustParse(t, ac.v, ac.ev.Raw()))
		for _, a := range ac.auth {
			ac.authNoID = append(ac.authNoID, g.event(mustParse(t, ac.v, a.Raw())))
		}
	}
	rejected := map[string]bool{}
	for i, ac := range cases {
		if i%5 == 0 && len(ac.auth) > 0 {
			rejected[ac.auth[len(ac.auth)-1].EventID] = true
		}
	}
	users := append([]string{"@nobody:z.example", "@mod:b.example", "@bob:c.example"}, authgen.Users...)
	hammer(t, "authrules", len(cases), func(w *worker, i int) string {
		ac := cases[i]
		var b strings.Builder
		var warns []string
		warn := func(r *authrules.Rejection) { warns = append(warns, r.Error()) }
		err := ac.state.Check(ac.ev, c.ring)
		b.WriteString(show("State.Check", err, authrules.Rejected(err)))
		var rj *authrules.Rejection
		if errors.As(err, &rj) {
			b.WriteString(show(rj.Rule, rj.Severity.String(), rj.Reason, errors.Is(err, authrules.ErrRejected)))
		}
		b.WriteString(show("State.CheckWithOptions", ac.state.CheckWithOptions(ac.ev, authrules.Options{Keys: c.ring, Rejected: rejected, Warn: warn})))
		b.WriteString(show("State.Check nil keys", ac.state.Check(ac.ev, nil)))
		b.WriteString(show("Check", authrules.Check(ac.v, ac.ev, ac.auth, c.ring)))
		b.WriteString(show("CheckWithOptions", authrules.CheckWithOptions(ac.v, ac.ev, ac.auth,
			authrules.Options{Keys: c.ring, Rejected: rejected, Warn: warn, Create: ac.state.Create()})))
		b.WriteString(show("Check without IDs", authrules.Check(ac.v, ac.evNoID, ac.authNoID, c.ring), ac.state.Check(ac.evNoID, nil)))
		fmt.Fprintf(&b, "warns %q;", warns)
		need, err := authrules.AuthEventsNeeded(ac.v, ac.ev)
		b.WriteString(show("AuthEventsNeeded", need, err))
		ae, err := ac.state.AuthEvents(ac.ev)
		b.WriteString(show("State.AuthEvents", ae, err))
		b.WriteString(show(authrules.ValidUserID(ac.ev.Sender), ac.state.Version().ID, ac.state.Len(), ac.state.Creators(), ac.state.Create()))
		if i%2 == 1 {
			return b.String()
		}
		for _, m := range []string{"join", "invite", "ban", "leave", "knock"} {
			all := slices.Sorted(ac.state.AllMembers(m))
			b.WriteString(show(m, ac.state.Members(m), all))
		}
		for _, u := range users {
			b.WriteString(show(u, ac.state.Membership(u), ac.state.Get(pdu.TypeMember, u) != nil))
		}
		b.WriteString(show(ac.state.Get(pdu.TypePowerLevels, ""), ac.state.JoinRules()))
		if i%4 == 0 {
			b.WriteString(show(ac.state.Events()))
		}
		if i%3 == 0 {
			b.WriteString(show(ac.pl, ac.state.PowerLevels()))
		}
		if ac.ev.Type == pdu.TypePowerLevels {
			pl, err := authrules.ParsePowerLevels(ac.v, ac.ev.Content)
			b.WriteString(show("ParsePowerLevels", pl, err))
		}
		if ac.ev.Type == pdu.TypeJoinRules {
			b.WriteString(show("ParseJoinRules", authrules.ParseJoinRules(ac.ev.Content)))
		}
		if i%5 == 0 {
			b.WriteString(show(authrules.DefaultPowerLevels(ac.v, ac.state.Creators())))
		}
		return b.String()
	})
	g.check(t)
}

// TestCheckAuthChain runs CheckAuthChain with 1 to 4 workers, several runs at once, over the
// same parsed events of the roomgen rooms (which hold events the rules reject and events
// citing them), and compares each result with the sequential one.
func TestCheckAuthChain(t *testing.T) {
	c := corpus(t)
	var g guard
	type chain struct {
		v   roomversion.Version
		evs []*pdu.Event
		rej map[string]bool
	}
	var chains []chain
	for _, r := range c.rooms {
		evs := roomEvents(t, r)
		for _, e := range evs {
			g.event(e)
		}
		chains = append(chains, chain{r.Version, evs, nil})
		// Shuffled, with a duplicate and a nil, and one event pre-rejected.
		sh := slices.Clone(evs)
		rand.New(rand.NewSource(int64(len(evs)))).Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
		sh = append(sh, evs[len(evs)/2], nil)
		chains = append(chains, chain{r.Version, sh, map[string]bool{evs[3].EventID: true}})
	}
	workers := []int{1, 4, 0}
	hammer(t, "CheckAuthChain", len(chains)*len(workers), func(w *worker, i int) string {
		ch, wk := chains[i/len(workers)], workers[i%len(workers)]
		var b strings.Builder
		last, decreased := -1, false
		opts := &authrules.ChainOptions{Keys: c.ring, Rejected: ch.rej, SignaturesVerified: i%2 == 0, Workers: wk,
			Progress: func(done, total int) {
				if done < last {
					decreased = true
				}
				last = done
			}}
		res, err := authrules.CheckAuthChain(ch.v, ch.evs, opts)
		b.WriteString(show(res, err))
		fmt.Fprintf(&b, "progress decreased=%v last=%d/%d;", decreased, last, len(ch.evs))
		if res != nil {
			for _, cv := range res.Verdicts {
				fmt.Fprintf(&b, "%v", cv.Accepted())
			}
		}
		if wk == 1 {
			res, err := authrules.CheckAuthChain(ch.v, ch.evs, nil)
			b.WriteString(show(res, err))
		}
		return b.String()
	})
	g.check(t)
}

// srvOf is the server name of a user ID.
func srvOf(u string) string {
	s, _ := signing.ServerName(u)
	return s
}

// roomIDOf returns the room ID of a state's events.
func roomIDOf(s *authrules.State) string {
	for _, e := range s.Events() {
		if e.RoomID != "" {
			return e.RoomID
		}
	}
	return ""
}

// memberCase is a user trying to join, knock and be invited in a room whose state is shared
// by every goroutine, with the signed events of the handshakes made beforehand (shared too).
type memberCase struct {
	v                                       roomversion.Version
	s                                       *authrules.State
	user, resident, roomID                  string
	rooms                                   membership.KnownRooms
	topts                                   membership.TemplateOptions
	joinTpl, joinSigned, joinResp, knockTpl []byte
	knockSigned, invite, joinReqJSON        []byte
	leaveTpl, leaveSigned                   []byte
	leaveAccepted                           bool
	stripped                                []json.RawMessage
}

// memberStates are the rooms of the membership tests: the example room (v9, restricted), the
// roomgen room of v12, and authgen rooms of v7, v10, v11 and v12 (whose join rules
// vary: public, invite, knock, restricted).
func memberStates(t *testing.T, c *corpusData) (states []*authrules.State, residents []string) {
	t.Helper()
	for _, ri := range []int{0, 3} {
		r := c.rooms[ri]
		s, err := authrules.NewState(r.Version, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range roomEvents(t, r) {
			if e.IsState() && !r.Expect[i].Rejected {
				if err := s.Apply(e); err != nil {
					t.Fatal(err)
				}
			}
		}
		states, residents = append(states, s), append(residents, r.Servers[0])
	}
	for _, ac := range c.agen {
		if ac.v.ID == "10" || ac.v.ID == "12" {
			s, err := authrules.NewState(ac.v, ac.state)
			if err != nil {
				t.Fatal(err)
			}
			states, residents = append(states, s), append(residents, "a.example")
		}
	}
	return states, residents
}

// sign completes and signs a template as the user's server; nil when it cannot.
func sign(v roomversion.Version, tpl []byte, server string) []byte {
	out, err := membership.SignTemplate(v, tpl, server, 1_700_000_000_123, "$tpl1:"+server, server, authgen.KeyFor(server, "1"))
	if err != nil {
		return nil
	}
	return out
}

func memberCases(t *testing.T, c *corpusData, g *guard) []memberCase {
	t.Helper()
	states, residents := memberStates(t, c)
	var cases []memberCase
	for si, s := range states {
		v := s.Version()
		users := []string{"@zed:e.example"}
		if j := s.Members("join"); len(j) > 1 {
			users = append(users, j[len(j)-1])
		}
		evs := s.Events()
		last := evs[len(evs)-1]
		for _, u := range users {
			mc := memberCase{v: v, s: s, user: u, resident: residents[si], roomID: roomIDOf(s),
				rooms: membership.KnownRooms{"!space:a.example": {u: "join"}, "!other:b.example": {u: "join"}},
				topts: membership.TemplateOptions{Origin: residents[si], OriginServerTS: 1_700_000_000_000,
					PrevEvents: []string{last.EventID}, Depth: last.Depth + 1}}
			jr := membership.JoinRequest{State: s, UserID: u, ResidentServer: mc.resident, Rooms: mc.rooms, Origin: srvOf(u), Ver: []string{v.ID}}
			if _, tpl, err := membership.MakeJoin(jr, mc.topts); err == nil {
				mc.joinTpl = g.bytes("joinTpl", tpl.Event)
				mc.joinSigned = sign(v, tpl.Event, srvOf(u))
				if mc.joinSigned != nil {
					g.bytes("joinSigned", mc.joinSigned)
					res, err := membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: mc.resident, Rooms: mc.rooms,
						Origin: srvOf(u), Event: mc.joinSigned, Key: authgen.KeyFor(mc.resident, "1"), Keys: c.ring})
					if err == nil {
						mc.joinResp = g.bytes("joinResp", res.Event)
					}
				}
				// An invite of the user by the room's creator, made from the join template.
				var m map[string]any
				if json.Unmarshal(tpl.Event, &m) == nil {
					if cont, ok := m["content"].(map[string]any); ok {
						delete(cont, "join_authorised_via_users_server")
						cont["membership"] = "invite"
						inviter := s.Creators()[0]
						m["sender"] = inviter
						if raw, err := json.Marshal(m); err == nil {
							mc.invite = sign(v, raw, srvOf(inviter))
							if mc.invite != nil {
								g.bytes("invite", mc.invite)
							}
						}
					}
				}
			}
			if tpl, err := membership.MakeKnock(s, u, mc.topts); err == nil {
				mc.knockTpl = g.bytes("knockTpl", tpl.Event)
				mc.knockSigned = sign(v, tpl.Event, srvOf(u))
				g.bytes("knockSigned", mc.knockSigned)
			}
			if tpl, err := membership.MakeLeave(s, u, mc.topts); err == nil {
				mc.leaveTpl = g.bytes("leaveTpl", tpl.Event)
				if mc.leaveSigned = sign(v, tpl.Event, srvOf(u)); mc.leaveSigned != nil {
					g.bytes("leaveSigned", mc.leaveSigned)
					_, err := membership.SendLeave(membership.SendLeaveRequest{State: s, Origin: srvOf(u), Event: mc.leaveSigned, Keys: c.ring})
					mc.leaveAccepted = err == nil
				}
			}
			for _, e := range membership.StrippedState(s) {
				mc.stripped = append(mc.stripped, json.RawMessage(g.bytes("stripped", e.Raw())))
			}
			var state []json.RawMessage
			for _, e := range evs {
				state = append(state, e.Raw())
			}
			req, _ := json.Marshal(map[string]any{"room_version": v.ID, "state": state, "user_id": u,
				"resident_server": mc.resident, "rooms": mc.rooms})
			mc.joinReqJSON = g.bytes("joinReq", req)
			cases = append(cases, mc)
		}
		for _, e := range evs {
			g.event(e)
		}
	}
	return cases
}

// showMemberErr renders a membership error with every field.
func showMemberErr(err error) string {
	var me *membership.Error
	if !errors.As(err, &me) {
		return show(err)
	}
	j, jerr := me.MarshalJSON()
	return show(err, me.Status, me.ErrCode, me.Message, me.Reason, me.Err, me.RoomVersion, me.JSON(), j, jerr, me.TryAnotherServer())
}

// TestMembership runs the join, knock, leave and invite handshakes of several users in several rooms
// from many goroutines at once, on shared States and shared signed events.
func TestMembership(t *testing.T) {
	c := corpus(t)
	var g guard
	cases := memberCases(t, c, &g)
	var nj, nr, nk, ni, nl, na int
	for _, mc := range cases {
		nj += btoi(mc.joinSigned != nil)
		nr += btoi(mc.joinResp != nil)
		nk += btoi(mc.knockSigned != nil)
		ni += btoi(mc.invite != nil)
		nl += btoi(mc.leaveSigned != nil)
		na += btoi(mc.leaveAccepted)
	}
	t.Logf("%d cases: %d signed joins, %d accepted by SendJoin, %d signed knocks, %d invites, %d signed leaves, %d accepted by SendLeave", len(cases), nj, nr, nk, ni, nl, na)
	if na == 0 {
		t.Error("no case has a leave that SendLeave accepts")
	}
	hammer(t, "membership", len(cases), func(w *worker, i int) string {
		mc := cases[i]
		var b strings.Builder
		s, v, u := mc.s, mc.v, mc.user
		jr := membership.JoinRequest{State: s, UserID: u, ResidentServer: mc.resident, Rooms: mc.rooms, Origin: srvOf(u), Ver: []string{v.ID}}
		d, err := membership.DecideJoin(jr)
		b.WriteString(show("DecideJoin", d, d.Basis.String(), showMemberErr(err), membership.DecisionJSON(d, err)))
		d, tpl, err := membership.MakeJoin(jr, mc.topts)
		b.WriteString(show("MakeJoin", d, tpl.RoomVersion, w.keep("MakeJoin", tpl.Event), tpl.JSON(), showMemberErr(err)))
		if mc.joinTpl != nil {
			b.WriteString(show("CheckJoinTemplate", membership.CheckJoinTemplate(mc.roomID, u, mc.joinTpl), w.keep("SignTemplate", sign(v, mc.joinTpl, srvOf(u)))))
		}
		if mc.joinSigned != nil {
			res, err := membership.SendJoin(membership.SendJoinRequest{State: s, ResidentServer: mc.resident, Rooms: mc.rooms,
				Origin: srvOf(u), Event: mc.joinSigned, Key: authgen.KeyFor(mc.resident, "1"), Keys: c.ring})
			b.WriteString(show("SendJoin", w.keep("SendJoin", res.Event), w.keepEvent("SendJoin", res.Parsed), res.Decision, showMemberErr(err)))
		}
		if mc.joinResp != nil {
			ev, err := membership.CheckSendJoinResponse(v, mc.joinSigned, mc.joinResp, mc.resident, c.ring)
			b.WriteString(show("CheckSendJoinResponse", ev, showMemberErr(err)))
		}
		b.WriteString(show("DecideKnock", showMemberErr(membership.DecideKnock(s, u))))
		ktpl, err := membership.MakeKnock(s, u, mc.topts)
		b.WriteString(show("MakeKnock", ktpl.RoomVersion, ktpl.Event, showMemberErr(err)))
		if mc.knockTpl != nil {
			b.WriteString(show("CheckKnockTemplate", membership.CheckKnockTemplate(mc.roomID, u, mc.knockTpl)))
		}
		if mc.knockSigned != nil {
			res, err := membership.SendKnock(membership.SendKnockRequest{State: s, Origin: srvOf(u), Event: mc.knockSigned, Keys: c.ring})
			b.WriteString(show("SendKnock", res.Parsed, res.KnockRoomState, showMemberErr(err)))
			if err == nil {
				b.WriteString(show(res.JSON()))
			}
		}
		b.WriteString(show("DecideLeave", showMemberErr(membership.DecideLeave(s, u))))
		ltpl, err := membership.MakeLeave(s, u, mc.topts)
		b.WriteString(show("MakeLeave", ltpl.RoomVersion, ltpl.Event, ltpl.JSON(), showMemberErr(err)))
		if mc.leaveTpl != nil {
			b.WriteString(show("CheckLeaveTemplate", membership.CheckLeaveTemplate(mc.roomID, u, mc.leaveTpl)))
		}
		if mc.leaveSigned != nil {
			res, err := membership.SendLeave(membership.SendLeaveRequest{State: s, Origin: srvOf(u), Event: mc.leaveSigned, Keys: c.ring})
			b.WriteString(show("SendLeave", w.keepEvent("SendLeave", res.Parsed), showMemberErr(err)))
			if err == nil {
				b.WriteString(show(res.JSON()))
			}
		}
		if mc.invite != nil {
			for _, pol := range []membership.StrippedStatePolicy{membership.StrippedStateDefault} {
				res, err := membership.SignInvite(membership.InviteRequest{RoomVersion: v, RoomID: mc.roomID, Origin: srvOf(s.Creators()[0]),
					Event: mc.invite, InviteRoomState: mc.stripped, LocalServer: srvOf(u), Key: authgen.KeyFor(srvOf(u), "1"), Keys: c.ring, RoomState: pol})
				b.WriteString(show("SignInvite", w.keep("SignInvite", res.Event), w.keepEvent("SignInvite", res.Parsed), res.RoomState, res.Warnings, showMemberErr(err)))
				if err == nil {
					b.WriteString(show(res.JSON()))
				}
			}
		}
		valid, problems := membership.CheckStrippedState(v, mc.roomID, mc.stripped, c.ring)
		b.WriteString(show("CheckStrippedState", valid, problems))
		b.WriteString(show("servers", membership.AuthorisedServers(s)))
		for _, srv := range []string{"a.example", "b.example", "c.example", mc.resident} {
			b.WriteString(show(membership.Authorisers(s, srv)))
		}
		ss := membership.StrippedState(s)
		b.WriteString(show("StrippedState", ss))
		for _, e := range ss {
			out, err := membership.StripEvent(e)
			b.WriteString(show(w.keep("StripEvent", out), err))
		}
		jrule := s.JoinRules().Rule
		members := append(s.Members("join"), u)
		for _, to := range []string{"join", "invite", "leave", "ban", "knock"} {
			for _, sender := range members[:min(3, len(members))] {
				tr, err := membership.CheckTransition(s, sender, u, to)
				b.WriteString(show(tr, showMemberErr(err)))
			}
			for _, from := range []string{"", "join", "invite", "leave", "ban", "knock"} {
				tr, ok := membership.FindTransition(v, from, to, from == "join", jrule)
				b.WriteString(show(tr, ok))
			}
		}
		for _, e := range s.Events() {
			if e.Type == pdu.TypeMember {
				tr, ok := membership.ClassifyMemberEvent(v, "knock", e, jrule)
				b.WriteString(show(tr, ok, membership.KnockAccepted("knock", e)))
			}
		}
		for _, tr := range membership.Transitions(v) {
			b.WriteString(show(tr.RequiredLevel(s.PowerLevels())))
		}
		for _, rule := range []string{"public", "invite", "knock", "restricted", "knock_restricted", "private", ""} {
			b.WriteString(show(membership.KnockAllowedByJoinRule(v, rule), membership.JoinRuleSupported(v, rule)))
		}
		b.WriteString(show(showMemberErr(membership.CheckMakeRequest(v, u, srvOf(u), []string{"1", v.ID})),
			showMemberErr(membership.CheckMakeRequest(v, u, "other.example", nil)),
			membership.ShouldTryAnotherServer(400, membership.ErrCodeForbidden)))
		if jre := s.Get(pdu.TypeJoinRules, ""); jre != nil {
			conds, err := membership.ParseAllowConditions(jre.Content)
			b.WriteString(show("conds", conds, err, membership.EvaluateConditions(conds, u, mc.rooms, i%2 == 0)))
		}
		m, known := mc.rooms.RoomMembership("!space:a.example", u)
		b.WriteString(show(m, known))
		req, err := membership.ParseJoinRequest(mc.joinReqJSON)
		b.WriteString(show("ParseJoinRequest", req.UserID, req.ResidentServer, req.State != nil, err))
		if err == nil {
			d, err := membership.DecideJoin(req)
			b.WriteString(show(d, showMemberErr(err)))
		}
		return b.String()
	})
	g.check(t)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// stateEvent makes a signed state event of the example room (version 9).
func stateEvent(t *testing.T, v roomversion.Version, roomID, typ, sender string, content map[string]any) *pdu.Event {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"auth_events": []string{}, "content": content, "depth": 90,
		"origin_server_ts": 1_700_000_000_000, "prev_events": []string{}, "room_id": roomID, "sender": sender,
		"state_key": "", "type": typ, "signatures": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := srvOf(sender)
	raw, err = signing.SignEvent(v, raw, srv, authgen.KeyFor(srv, "1"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := signing.ParseEvent(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// withEvents returns a new State of s's events plus extra.
func withEvents(t *testing.T, s *authrules.State, extra ...*pdu.Event) *authrules.State {
	t.Helper()
	n, err := authrules.NewState(s.Version(), append(s.Events(), extra...))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPolicyServer checks events against rooms that use a Policy Server (shared States and
// parsed events) and adds its signatures to the same event bytes from many goroutines.
func TestPolicyServer(t *testing.T) {
	c := corpus(t)
	var g guard
	states, _ := memberStates(t, c)
	base := states[0] // the example room, v9
	v, roomID := base.Version(), roomIDOf(base)
	psKey, err := signing.NewSigningKey(policyserver.KeyVersion, bytes.Repeat([]byte{42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	pub := base64.RawStdEncoding.EncodeToString(psKey.Public())
	policy := g.event(stateEvent(t, v, roomID, policyserver.EventType, "@alice:a.example",
		map[string]any{"via": "b.example", "public_keys": map[string]any{"ed25519": pub}}))
	badKey := g.event(stateEvent(t, v, roomID, policyserver.EventType, "@alice:a.example",
		map[string]any{"via": "b.example", "public_keys": map[string]any{"ed25519": "abc"}}))
	withPS, withBad := withEvents(t, base, policy), withEvents(t, base, badKey)
	ps, ok := policyserver.Of(withPS)
	if !ok {
		t.Fatal("the room uses no Policy Server")
	}
	type psCase struct {
		ev, signed              *pdu.Event
		raw, resp, badResp, emp []byte
	}
	var cases []psCase
	for _, it := range subset(c.items, 9, 2) {
		if it.v.ID != v.ID {
			continue
		}
		ev, err := signing.ParseEvent(v, g.bytes(it.name, it.raw))
		if err != nil {
			continue
		}
		pc := psCase{ev: g.event(ev), raw: it.raw, emp: g.bytes("empty", []byte(`{}`))}
		if out, err := signing.CountersignEvent(v, it.raw, "b.example", psKey); err == nil {
			if se, err := signing.ParseEvent(v, out); err == nil {
				pc.signed = g.event(se)
				sig, _ := se.Signatures.Get("b.example", policyserver.KeyID)
				pc.resp = g.bytes("resp", []byte(`{"b.example":{"`+policyserver.KeyID+`":"`+sig+`"}}`))
				pc.badResp = g.bytes("bad", []byte(`{"b.example":{"`+policyserver.KeyID+`":"`+strings.Repeat("B", 86)+`"}}`))
			}
		}
		cases = append(cases, pc)
	}
	cases = append(cases, psCase{ev: policy, raw: policy.Raw()})
	hammer(t, "policyserver", len(cases), func(w *worker, i int) string {
		pc := cases[i]
		var b strings.Builder
		for _, s := range []*authrules.State{base, withPS, withBad} {
			srv, ok := policyserver.Of(s)
			b.WriteString(show("Of", srv, ok, policyserver.Check(s, pc.ev)))
			if pc.signed != nil {
				b.WriteString(show(policyserver.Check(s, pc.signed)))
			}
		}
		b.WriteString(show("Server.Check", ps.Check(pc.ev), policyserver.Exempt(pc.ev)))
		var pe *policyserver.Error
		if err := ps.Check(pc.ev); errors.As(err, &pe) {
			b.WriteString(show(pe.Server, pe.EventID, pe.Detail, pe.Cause))
		}
		for _, r := range [][]byte{pc.resp, pc.badResp, pc.emp} {
			if r != nil {
				out, err := policyserver.AddSignature(v, pc.raw, ps, r)
				b.WriteString(show("AddSignature", w.keep("AddSignature", out), err))
			}
		}
		return b.String()
	})
	g.check(t)
}

// TestServerACL matches server names against the same parsed ACLs, and rooms with an ACL in
// their shared State, from many goroutines.
func TestServerACL(t *testing.T) {
	c := corpus(t)
	var g guard
	contents := [][]byte{
		[]byte(`{"allow":["*"],"deny":["evil.com","*.evil.com","1.2.3.4"],"allow_ip_literals":false}`),
		[]byte(`{"allow":["*.example","a?.example",7,"[::1]"],"deny":["b.example"]}`),
		[]byte(`{"allow":["*"],"allow_ip_literals":"no"}`),
		[]byte(`{"deny":["*"]}`),
		[]byte(`{}`), []byte(`[]`), []byte(`{"allow":"*"}`),
		[]byte(`{"allow":["` + strings.Repeat("*a", 300) + `", "é*", "\u00e9?"]}`),
	}
	for _, ct := range contents {
		g.bytes("acl", ct)
	}
	acls := make([]serveracl.ACL, len(contents))
	for i, ct := range contents {
		acls[i], _ = serveracl.Parse(ct)
	}
	names := []string{"a.example", "b.example", "ab.example", "evil.com", "x.evil.com:8448", "1.2.3.4", "1.2.3.4:80",
		"[::1]", "[::1]:8448", "é.example", "", "bad name", strings.Repeat("a", 600), "a.example:99999", "A.EXAMPLE"}
	states, _ := memberStates(t, c)
	base := states[0]
	var aclStates []*authrules.State
	for _, ct := range contents[:3] {
		var m map[string]any
		if json.Unmarshal(ct, &m) != nil {
			continue
		}
		aclStates = append(aclStates, withEvents(t, base, g.event(stateEvent(t, base.Version(), roomIDOf(base), serveracl.EventType, "@alice:a.example", m))))
	}
	aclStates = append(aclStates, base)
	hammer(t, "serveracl", len(contents)*len(names), func(w *worker, i int) string {
		ci, name := i/len(names), names[i%len(names)]
		var b strings.Builder
		acl, err := serveracl.Parse(contents[ci])
		b.WriteString(show("Parse", acl, err, errors.Is(err, serveracl.ErrNotObject)))
		host := serveracl.Host(name)
		b.WriteString(show(acls[ci].Allowed(name), host, serveracl.IsIPLiteral(host)))
		for _, p := range slices.Concat(acls[ci].Allow, acls[ci].Deny) { // not append: the shared slices may have room
			b.WriteString(show(serveracl.Match(p, name), serveracl.Match(p, host)))
		}
		for _, s := range aclStates {
			a, ok := serveracl.Of(s)
			b.WriteString(show(a, ok, serveracl.Allowed(s, name)))
		}
		return b.String()
	})
	g.check(t)
}

// TestStateBuild builds States from the same parsed events in many goroutines at once, with
// NewState and with Apply (each goroutine on its own State, as Apply requires), and compares
// what they hold.
func TestStateBuild(t *testing.T) {
	c := corpus(t)
	var g guard
	type build struct {
		v        roomversion.Version
		evs      []*pdu.Event
		accepted []bool
	}
	var builds []build
	for _, r := range c.rooms {
		evs := roomEvents(t, r)
		acc := make([]bool, len(evs))
		for i, e := range evs {
			g.event(e)
			acc[i] = e.IsState() && !r.Expect[i].Rejected
		}
		builds = append(builds, build{r.Version, evs, acc})
	}
	for _, ac := range c.agen {
		for _, e := range ac.state {
			g.event(e)
		}
		acc := make([]bool, len(ac.state))
		for i := range acc {
			acc[i] = true
		}
		builds = append(builds, build{ac.v, ac.state, acc})
	}
	hammer(t, "NewState/Apply", 2*len(builds), func(w *worker, i int) string {
		bd := builds[i/2]
		var s *authrules.State
		var err error
		if i%2 == 0 {
			var sel []*pdu.Event
			seen := map[authrules.StateKey]int{}
			for k, e := range bd.evs {
				if bd.accepted[k] {
					sk := authrules.StateKey{Type: e.Type, StateKey: *e.StateKey}
					if at, ok := seen[sk]; ok {
						sel[at] = e
					} else {
						seen[sk] = len(sel)
						sel = append(sel, e)
					}
				}
			}
			s, err = authrules.NewState(bd.v, sel)
		} else {
			s, err = authrules.NewState(bd.v, nil)
			for k, e := range bd.evs {
				if err == nil && bd.accepted[k] {
					err = s.Apply(e)
				}
			}
		}
		if err != nil {
			return show(err)
		}
		return show(s.Events(), s.Creators(), s.JoinRules(), s.Members("join"), s.Len(), s.PowerLevels())
	})
	g.check(t)
}

// TestResultsNotShared reports (without failing: the docs promise nothing) which getters
// return memory that two calls share, which a caller that modifies a result would then
// change for every other goroutine.
func TestResultsNotShared(t *testing.T) {
	c := corpus(t)
	states, _ := memberStates(t, c)
	s := states[0]
	same := func(name string, a, b []string) {
		if len(a) > 0 && len(b) > 0 && &a[0] == &b[0] {
			t.Logf("note: %s returns the same backing array on every call", name)
		}
	}
	same("State.Creators", s.Creators(), s.Creators())
	same("State.Members", s.Members("join"), s.Members("join"))
	same("membership.AuthorisedServers", membership.AuthorisedServers(s), membership.AuthorisedServers(s))
	same("membership.Authorisers", membership.Authorisers(s, "b.example"), membership.Authorisers(s, "b.example"))
	e1, e2 := s.Events(), s.Events()
	if len(e1) > 0 && &e1[0] == &e2[0] {
		t.Logf("note: State.Events returns the same backing array on every call")
	}
	t1, t2 := membership.Transitions(s.Version()), membership.Transitions(s.Version())
	if len(t1) > 0 && &t1[0] == &t2[0] {
		t.Logf("note: membership.Transitions returns the same backing array on every call")
	}
	if len(t1) > 0 && len(t1[0].Levels) > 0 && &t1[0].Levels[0] == &t2[0].Levels[0] {
		t.Logf("note: membership.Transitions shares Transition.Levels between calls")
	}
	ss1, ss2 := membership.StrippedState(s), membership.StrippedState(s)
	if len(ss1) > 0 && &ss1[0] == &ss2[0] {
		t.Logf("note: membership.StrippedState returns the same backing array on every call")
	}
	jr1, jr2 := s.JoinRules(), s.JoinRules()
	if len(jr1.Allow) > 0 && &jr1.Allow[0] == &jr2.Allow[0] {
		t.Errorf("State.JoinRules shares JoinRules.Allow between calls (R1, fixed 2026-12-01: it returns a copy)")
	}
	ae1, _ := s.AuthEvents(s.Events()[len(s.Events())-1])
	ae2, _ := s.AuthEvents(s.Events()[len(s.Events())-1])
	if len(ae1) > 0 && &ae1[0] == &ae2[0] {
		t.Logf("note: State.AuthEvents returns the same backing array on every call")
	}
	pl1, pl2 := s.PowerLevels().Users(), s.PowerLevels().Users()
	pl1["@x:y"] = 1
	if _, ok := pl2["@x:y"]; ok {
		t.Logf("note: PowerLevels.Users returns the same map on every call")
	}
	aclEv := stateEvent(t, s.Version(), roomIDOf(s), serveracl.EventType, "@alice:a.example",
		map[string]any{"allow": []any{"*", "b.example"}, "deny": []any{"c.example", "d.example"}})
	as := withEvents(t, s, aclEv)
	a1, _ := serveracl.Of(as)
	a2, _ := serveracl.Of(as)
	if len(a1.Allow) > 0 && &a1.Allow[0] == &a2.Allow[0] {
		t.Logf("note: serveracl.Of shares ACL.Allow between calls (cap %d, len %d)", cap(a1.Allow), len(a1.Allow))
	}
	if len(a1.Deny) > 0 && &a1.Deny[0] == &a2.Deny[0] {
		t.Logf("note: serveracl.Of shares ACL.Deny between calls (cap %d, len %d)", cap(a1.Deny), len(a1.Deny))
	}
	ev := s.Events()[0]
	if a, b := ev.Signatures.Server(ev.Signatures[0].Server), ev.Signatures; len(a) > 0 && &a[0] == &b[0] {
		t.Logf("note: pdu.Signatures.Server shares the event's list (documented)")
	}
}

// mustParse is pdu.Parse, which leaves EventID empty from room version 3.
func mustParse(t *testing.T, v roomversion.Version, raw []byte) *pdu.Event {
	t.Helper()
	e, err := pdu.Parse(v, raw)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// hugeEvent is a JSON object of about 150 kB, over the PDU size limit and over the size past
// which the pools drop a buffer instead of keeping it (pdu: 2*MaxEventSize; signing: 128 kB).
func hugeEvent() []byte {
	return []byte(`{"auth_events":[],"content":{"body":"` + strings.Repeat("0123456789abcdef", 9400) +
		`","msgtype":"m.text"},"depth":5,"hashes":{"sha256":"` + authgen.DummyHash + `"},"origin_server_ts":1,` +
		`"prev_events":[],"room_id":"!room:a.example","sender":"@alice:a.example","signatures":{},"type":"m.room.message"}`)
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
	"github.com/roomproto/roomproto/tools/internal/pyref"
)

// M is a JSON object being built.
type M = difftool.M

// evReq is the reference's "event" request (verifyref's protocol).
type evReq struct {
	Op   string                               `json:"op"`
	V    string                               `json:"v"`
	Ev   string                               `json:"ev"`
	Keys map[string]map[string]map[string]any `json:"keys"`
}

// errSig renders everything of an error that the batch paths must reproduce: the sentinel,
// server, key ID, detail, cause, message and verdict.
func errSig(err error) string {
	if err == nil {
		return "nil"
	}
	s := fmt.Sprintf("%T", err)
	var ve *signing.VerificationError
	if errors.As(err, &ve) {
		s = fmt.Sprintf("VerificationError{%v | %q | %q | %q | cause %T %v}", ve.Err, ve.Server, ve.KeyID, ve.Detail, ve.Cause, ve.Cause)
	}
	return fmt.Sprintf("%s :: %s :: %s redactable=%v", s, err.Error(), signing.VerdictOf(err), signing.Redactable(err))
}

// evSig renders a parsed event (nil or its fields).
func evSig(ev *pdu.Event) string {
	if ev == nil {
		return "nil"
	}
	return fmt.Sprintf("%q %q %q %q %v %s %v %v %d %d %q %q %q %v %q %s", ev.EventID, ev.RoomID, ev.Sender, ev.Type,
		ev.StateKey != nil && true, ev.Content, ev.PrevEvents, ev.AuthEvents, ev.Depth, ev.OriginServerTS,
		ev.Origin, ev.Redacts, ev.ContentHash, ev.Signatures, ev.Membership, ev.Unsigned)
}

// batchPool draws a room of version vid and returns its events signed for real, with a few
// mutations, as the pool a batch draws its entries from.
func (g *gen) batchPool(vid string) (pool [][]byte, labels []string, tss []int64) {
	v := authgen.Version(vid)
	b := &authgen.Builder{V: v, Ver: difftool.VerNum(vid), R: g.r}
	rm := b.GenRoom()
	for _, e := range rm.Order {
		m := difftool.Decode(e.Raw)
		sender, _ := m["sender"].(string)
		raw := authgen.SignAll(v, e.Raw, []string{difftool.DomainOf(sender)})
		label := "signed"
		if g.r.Intn(3) == 0 {
			m = difftool.Decode(raw)
			switch g.r.Intn(9) {
			case 0:
				c, _ := m["content"].(map[string]any)
				if c != nil {
					c["zz_extra"] = "x"
				}
				label = "content-changed"
			case 1:
				if sg, ok := m["signatures"].(map[string]any); ok {
					for _, s := range difftool.SortedKeys(sg) {
						if e, ok := sg[s].(map[string]any); ok {
							for _, k := range difftool.SortedKeys(e) {
								e[k] = strings.Repeat("B", 86)
							}
						}
					}
				}
				label = "sig-corrupt"
			case 2:
				m["signatures"] = map[string]any{}
				label = "sigs-empty"
			case 3:
				if sg, ok := m["signatures"].(map[string]any); ok {
					for _, s := range difftool.SortedKeys(sg) {
						sg[s] = map[string]any{"ed25519:unknown": strings.Repeat("A", 86)}
					}
				}
				label = "unknown-key"
			case 4:
				m["origin_server_ts"] = 99999999999999.0
				label = "late-ts"
			case 5:
				delete(m, "hashes")
				label = "no-hashes"
			case 6:
				m["depth"] = "x"
				label = "bad-depth"
			case 7:
				m["unsigned"] = map[string]any{"age": 5.0}
				label = "unsigned-added"
			case 8:
				hs, _ := m["hashes"].(map[string]any)
				if hs != nil {
					hs["sha256"] = strings.Repeat("A", 43)
				}
				label = "hash-wrong"
			}
			raw = difftool.Enc(m)
		}
		if ts, ok := m["origin_server_ts"].(interface{ Int64() (int64, error) }); ok {
			t, _ := ts.Int64()
			tss = append(tss, t)
		}
		pool = append(pool, raw)
		labels = append(labels, label)
	}
	for _, s := range []string{"{", "", "[]", `{"type":"m.room.message"}`, "null"} {
		if g.r.Intn(3) == 0 {
			pool = append(pool, []byte(s))
			labels = append(labels, "malformed")
		}
	}
	pool = append(pool, nil)
	labels = append(labels, "nil")
	return
}

// batchKeys draws the key lookup of a batch: the servers' "1" keys, some unknown, some with a
// ValidUntilTS within the events' timestamps; sometimes no lookup at all.
func (g *gen) batchKeys(tss []int64) (signing.KeyLookup, map[string]map[string]map[string]any, string) {
	switch g.r.Intn(20) {
	case 0:
		return nil, map[string]map[string]map[string]any{}, "keys=nil"
	case 1:
		var r signing.KeyRing
		return r, map[string]map[string]map[string]any{}, "keys=nil-ring"
	}
	ring := signing.KeyRing{}
	ref := map[string]map[string]map[string]any{}
	var label []string
	for _, s := range authgen.Servers {
		if g.r.Intn(8) == 0 {
			label = append(label, "unknown:"+s)
			continue
		}
		pk := signing.PublicKey{Key: authgen.KeyFor(s, "1").Public()}
		if g.r.Intn(4) == 0 && len(tss) > 0 {
			t := tss[g.r.Intn(len(tss))]
			pk.ValidUntilTS = t + int64(g.r.Intn(3)-1)
			label = append(label, fmt.Sprintf("vu:%s", s))
		}
		ring[s] = map[string]signing.PublicKey{"ed25519:1": pk}
		var vu any
		if pk.ValidUntilTS != 0 {
			vu = pk.ValidUntilTS
		}
		ref[s] = map[string]map[string]any{"ed25519:1": {"key": difftool.B64(pk.Key), "vu": vu}}
	}
	return ring, ref, strings.Join(label, ",")
}

// progress checks the Progress contract of BatchOptions.
type progress struct {
	total, calls, last int
	inFlight           int32
	bad                []string
}

func (p *progress) fn(done, total int) {
	if atomic.AddInt32(&p.inFlight, 1) != 1 {
		p.bad = append(p.bad, "concurrent calls")
	}
	p.calls++
	if total != p.total {
		p.bad = append(p.bad, fmt.Sprintf("total %d, want %d", total, p.total))
	}
	if done < p.last || done > total || done < 0 {
		p.bad = append(p.bad, fmt.Sprintf("done %d after %d (total %d)", done, p.last, total))
	}
	p.last = done
	atomic.AddInt32(&p.inFlight, -1)
}

func (p *progress) check() string {
	if p.calls > 0 && p.last != p.total {
		p.bad = append(p.bad, fmt.Sprintf("last call done=%d, total %d", p.last, p.total))
	}
	if p.total > 0 && p.calls == 0 {
		p.bad = append(p.bad, "never called for a non-empty batch")
	}
	if len(p.bad) > 5 {
		p.bad = p.bad[:5]
	}
	return strings.Join(p.bad, "; ")
}

// caseBatch compares VerifyEvents, VerifyParsedEvents and ParseAndVerifyEvents with the
// single-event paths, entry for entry.
func (g *gen) caseBatch() {
	vid := g.pick(pyref.Versions...)
	v := authgen.Version(vid)
	pool, plabels, tss := g.batchPool(vid)
	var size int
	switch k := g.r.Intn(40); {
	case k == 0:
		size = 0
	case k == 1:
		size = 1
	case k < 30:
		size = 2 + g.r.Intn(40)
	case k < 38:
		size = 40 + g.r.Intn(200)
	default:
		size = 300 + g.r.Intn(1300)
	}
	raws := make([][]byte, size)
	labels := make([]string, size)
	for i := range raws {
		j := g.r.Intn(len(pool))
		raws[i], labels[i] = pool[j], plabels[j]
		if g.r.Intn(10) == 0 && raws[i] != nil {
			raws[i] = slices.Clone(raws[i]) // an equal copy, not the same slice
		}
	}
	keys, refKeys, klabel := g.batchKeys(tss)
	var opts *signing.BatchOptions
	prog := &progress{total: size}
	olabel := "opts=nil"
	if g.r.Intn(4) != 0 {
		opts = &signing.BatchOptions{Workers: []int{0, -1, 1, 2, 3, 5, 16, 100}[g.r.Intn(8)]}
		olabel = fmt.Sprintf("workers=%d", opts.Workers)
		if g.r.Intn(2) == 0 {
			opts.Progress = prog.fn
			olabel += "+progress"
		}
	}
	copies := make([][]byte, size)
	for i, r := range raws {
		copies[i] = slices.Clone(r)
	}
	label := fmt.Sprintf("v%s size=%d %s %s", vid, size, olabel, klabel)
	input := func(i int) string {
		return fmt.Sprintf("entry %d (%s): %s", i, labels[i], difftool.Clip(string(raws[i]), 1200))
	}

	// single-event paths
	single := make([]error, size)
	singleSig := make([]string, size)
	parsed := make([]*pdu.Event, size)
	parsedErr := make([]error, size)
	for i, r := range raws {
		single[i] = signing.VerifyEvent(v, r, keys)
		singleSig[i] = errSig(single[i])
		parsed[i], parsedErr[i] = signing.ParseEvent(v, r)
		if parsedErr[i] != nil {
			parsed[i] = nil
		}
	}

	check := func(op string, got []error, err string) {
		if err != "" {
			record("BATCH", op, label, "", err, refAns{Out: "no panic"})
			return
		}
		if len(got) != size {
			record("BATCH", op, label, "", fmt.Sprintf("%d results", len(got)), refAns{Out: fmt.Sprintf("%d results", size)})
			return
		}
		for i := range got {
			compared++
			if s := errSig(got[i]); s != singleSig[i] {
				record("BATCH", op, label, input(i), s, refAns{Out: singleSig[i]})
			}
		}
	}
	run := func(f func()) (msg string) {
		defer func() {
			if p := recover(); p != nil {
				msg = fmt.Sprintf("PANIC (%v)", p)
			}
		}()
		f()
		return ""
	}

	// VerifyEvents
	var got []error
	msg := run(func() { got = signing.VerifyEvents(v, raws, keys, opts) })
	check("VerifyEvents", got, msg)
	if opts != nil && opts.Progress != nil {
		if p := prog.check(); p != "" {
			record("PROGRESS", "VerifyEvents", label, "", p, refAns{Out: "BatchOptions.Progress contract"})
		}
		tally[fmt.Sprintf("progress calls (size %s)", sizeClass(size))] += prog.calls
		prog = &progress{total: size}
		opts.Progress = prog.fn
	}

	// ParseAndVerifyEvents
	var evs []*pdu.Event
	msg = run(func() { evs, got = signing.ParseAndVerifyEvents(v, raws, keys, opts) })
	check("ParseAndVerifyEvents", got, msg)
	if msg == "" && len(evs) == size {
		for i := range evs {
			compared++
			if a, b := evSig(evs[i]), evSig(parsed[i]); a != b {
				record("BATCH", "ParseAndVerifyEvents(events)", label, input(i), a, refAns{Out: b})
			}
		}
	} else if msg == "" {
		record("BATCH", "ParseAndVerifyEvents(events)", label, "", fmt.Sprintf("%d events", len(evs)), refAns{Out: fmt.Sprint(size)})
	}
	if opts != nil && opts.Progress != nil {
		if p := prog.check(); p != "" {
			record("PROGRESS", "ParseAndVerifyEvents", label, "", p, refAns{Out: "BatchOptions.Progress contract"})
		}
		prog = &progress{total: size}
		opts.Progress = prog.fn
	}

	// VerifyParsedEvents: the parsed events, some of another room version, nil entries kept.
	mixed := make([]*pdu.Event, size)
	mixedSig := make([]string, size)
	for i := range mixed {
		mixed[i] = parsed[i]
		if g.r.Intn(8) == 0 && raws[i] != nil {
			// parsed by pdu.Parse: from v3 without its EventID
			if ev, err := pdu.Parse(v, raws[i]); err == nil {
				mixed[i] = ev
			}
		} else if g.r.Intn(8) == 0 && raws[i] != nil {
			ov := authgen.Version(g.pick(pyref.Versions...))
			if ev, err := signing.ParseEvent(ov, raws[i]); err == nil {
				mixed[i] = ev
			}
		}
		mixedSig[i] = errSig(signing.VerifyParsedEvent(mixed[i], keys))
	}
	msg = run(func() { got = signing.VerifyParsedEvents(mixed, keys, opts) })
	if msg != "" || len(got) != size {
		check("VerifyParsedEvents", got, msg)
	} else {
		for i := range got {
			compared++
			if s := errSig(got[i]); s != mixedSig[i] {
				record("BATCH", "VerifyParsedEvents", label, input(i), s, refAns{Out: mixedSig[i]})
			}
			// the parsed path agrees with the one-call path when the version is the batch's
			if mixed[i] != nil && mixed[i] == parsed[i] {
				compared++
				if mixedSig[i] != singleSig[i] {
					record("PATHS", "VerifyParsedEvent vs VerifyEvent", label, input(i), mixedSig[i], refAns{Out: singleSig[i]})
				}
			}
		}
	}
	if opts != nil && opts.Progress != nil {
		if p := prog.check(); p != "" {
			record("PROGRESS", "VerifyParsedEvents", label, "", p, refAns{Out: "BatchOptions.Progress contract"})
		}
	}
	for i := range raws {
		if !bytes.Equal(raws[i], copies[i]) {
			record("BATCH", "input modified", label, input(i), "modified", refAns{Out: "unchanged"})
			break
		}
	}
	tally["batch entries v"+vid] += size
	tally["batches ("+sizeClass(size)+")"]++

	// The single-event verdicts against the reference, on a sample of distinct entries.
	seen := map[string]bool{}
	for n := 0; n < 4 && n < size; n++ {
		i := g.r.Intn(size)
		if raws[i] == nil || seen[string(raws[i])] {
			continue
		}
		seen[string(raws[i])] = true
		a, ok := ask(evReq{Op: "event", V: vid, Ev: string(raws[i]), Keys: refKeys})
		if !ok {
			continue
		}
		rp := signing.VerdictOf(single[i]).String()
		compare("VerdictOf(VerifyEvent)", label+" "+labels[i], string(raws[i])+"\nkeys="+string(difftool.Enc(refKeys)), rp, a)
		if signing.Redactable(single[i]) != (rp == "redact") {
			record("API", "Redactable", label, input(i), fmt.Sprint(signing.Redactable(single[i])), refAns{Out: "VerdictOf says " + rp})
		}
	}
}

func sizeClass(n int) string {
	switch {
	case n == 0:
		return "0"
	case n == 1:
		return "1"
	case n < 40:
		return "2-39"
	case n < 300:
		return "40-299"
	}
	return "300+"
}

// manyKeysBatch is a batch whose events are signed by more distinct keys than a batch worker
// prepares (signing/batch.go: 1,024 prepared keys, 4,096 remembered): singles servers sign one
// event each, pairs servers two each, some signatures and contents damaged, one worker so that
// every key meets the same cache. Each entry must get VerifyEvent's error.
func (g *gen) manyKeysBatch(singles, pairs int) {
	vid := g.pick("4", "10", "11", "12")
	v := authgen.Version(vid)
	ring := signing.KeyRing{}
	var raws [][]byte
	var labels []string
	mk := func(srv string, i int) {
		key := authgen.KeyFor(srv, "1")
		if _, ok := ring[srv]; !ok && g.r.Intn(40) != 0 {
			ring[srv] = map[string]signing.PublicKey{"ed25519:1": {Key: key.Public()}}
		}
		ev := M{"type": "m.room.message", "room_id": "!r:" + srv, "sender": "@u:" + srv,
			"content": M{"body": fmt.Sprint(i)}, "depth": 1, "prev_events": []any{}, "auth_events": []any{},
			"origin_server_ts": 1000 + i, "hashes": M{"sha256": authgen.DummyHash}, "signatures": M{}}
		if vid == "12" {
			delete(ev, "room_id")
			ev["type"], ev["state_key"], ev["content"] = "m.room.create", "", M{"room_version": "12"}
		}
		raw, err := signing.SignEvent(v, difftool.Enc(ev), srv, key)
		if err != nil {
			record("HARNESS", "SignEvent", srv, "", err.Error(), refAns{Out: "signed"})
			return
		}
		label := "signed"
		switch g.r.Intn(12) {
		case 0:
			m := difftool.Decode(raw)
			e := m["signatures"].(map[string]any)[srv].(map[string]any)
			s := []byte(e["ed25519:1"].(string))
			s[5] ^= 1
			e["ed25519:1"] = string(s)
			raw, label = difftool.Enc(m), "sig-corrupt"
		case 1:
			raw, label = bytes.Replace(raw, []byte(`"body":"`), []byte(`"body":"x`), 1), "content-changed"
		}
		raws = append(raws, raw)
		labels = append(labels, label)
	}
	for i := 0; i < pairs; i++ {
		mk(fmt.Sprintf("p%d.example", i), i)
	}
	for i := 0; i < singles; i++ {
		mk(fmt.Sprintf("s%d.example", i), pairs+i)
	}
	for i := 0; i < pairs; i++ {
		mk(fmt.Sprintf("p%d.example", i), pairs+singles+i)
	}
	for _, w := range []int{1, 2} {
		opts := &signing.BatchOptions{Workers: w}
		label := fmt.Sprintf("many keys v%s: %d single-use keys, %d keys used twice, workers=%d", vid, singles, pairs, w)
		got := signing.VerifyEvents(v, raws, ring, opts)
		evs, got2 := signing.ParseAndVerifyEvents(v, raws, ring, opts)
		parsed := make([]*pdu.Event, len(raws))
		for i := range raws {
			parsed[i], _ = signing.ParseEvent(v, raws[i])
		}
		got3 := signing.VerifyParsedEvents(parsed, ring, opts)
		for i, raw := range raws {
			want := errSig(signing.VerifyEvent(v, raw, ring))
			compared += 3
			for _, p := range []struct {
				op  string
				err error
			}{{"VerifyEvents", got[i]}, {"ParseAndVerifyEvents", got2[i]}, {"VerifyParsedEvents", got3[i]}} {
				if s := errSig(p.err); s != want {
					record("BATCH", p.op, label, fmt.Sprintf("entry %d (%s): %s", i, labels[i], raw), s, refAns{Out: want})
				}
			}
			if a, b := evSig(evs[i]), evSig(parsed[i]); a != b {
				record("BATCH", "ParseAndVerifyEvents(events)", label, fmt.Sprintf("entry %d: %s", i, raw), a, refAns{Out: b})
			}
			tally["many-keys batch entries "+signing.VerdictOf(got[i]).String()]++
		}
	}
}

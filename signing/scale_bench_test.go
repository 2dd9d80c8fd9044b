package signing

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
)

// The Benchmark...Scale functions of this file measure how the work of signing grows with
// adversarial input: each runs three sizes, about ten times apart, and ns/op and allocs/op
// should grow no faster than the input (times log n where names are sorted), see SECURITY.md,
// "Resource exhaustion". Inputs are built only when the benchmark runs. Test helpers of this
// file are prefixed "scl".

// sclEvent returns a v10 event (unsigned, unhashed) from sender @u:server with the given
// content and extra top-level members (raw JSON, each `"key":value`), made canonical.
func sclEvent(tb testing.TB, server string, ts int, content string, extra ...string) []byte {
	tb.Helper()
	s := fmt.Sprintf(`{"auth_events":[],"content":%s,"depth":1,"origin_server_ts":%d,"prev_events":[],"room_id":"!r:x","sender":"@u:%s","type":"m.room.message"`, content, ts, server)
	for _, e := range extra {
		s += "," + e
	}
	out, err := canonicalObject(nil, []byte(s+"}"), true)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// sclSigned signs sclEvent as server with btKey(server).
func sclSigned(tb testing.TB, v roomversion.Version, server string, ts int, content string, extra ...string) []byte {
	tb.Helper()
	ev, err := SignEvent(v, sclEvent(tb, server, ts, content, extra...), server, btKey(server))
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// sclInvite returns a third-party invite signed by server.
func sclInvite(tb testing.TB, v roomversion.Version, server string) []byte {
	tb.Helper()
	ev := sclEvent(tb, server, 1, `{"membership":"invite","third_party_invite":{"signed":{}}}`, `"state_key":"@i:y"`)
	ev = bytes.Replace(ev, []byte(`"type":"m.room.message"`), []byte(`"type":"m.room.member"`), 1)
	out, err := SignEvent(v, ev, server, btKey(server))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// sclWithSignatures replaces the `signatures` of the signed event ev by sigs (raw JSON).
func sclWithSignatures(tb testing.TB, ev []byte, sigs string) []byte {
	tb.Helper()
	rest, _, err := appendStripped(nil, ev, dropSignatures)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := canonicalObject(nil, append(append(rest[:len(rest)-1], `,"signatures":`...), sigs+"}"...), true)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func sclRun(b *testing.B, sizes []int, build func(n int) []byte, fn func(b *testing.B, data []byte)) {
	for _, n := range sizes {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			data := build(n)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			fn(b, data)
		})
	}
}

// BenchmarkVerifyEventSignaturesScale: events near the 65,536-byte limit whose `signatures`
// hold, besides the sender's one good signature, n key IDs of the sender unknown to the key
// ring (each a lookup), or n other servers (ignored unless the event is a third-party invite,
// where every one is looked at).
func BenchmarkVerifyEventSignaturesScale(b *testing.B) {
	v := btVersion(b, "10")
	const server = "hs0.example"
	keys := KeyRing{server: {"ed25519:1": {Key: btKey(server).Public()}}}
	good := sclSigned(b, v, server, 1, `{"body":"x"}`)
	parsed, err := ParseEvent(v, good)
	if err != nil {
		b.Fatal(err)
	}
	sig, _ := parsed.Signatures.Get(server, "ed25519:1")
	keyIDs := func(n int) []byte {
		var s strings.Builder
		fmt.Fprintf(&s, `{%q:{"ed25519:1":%q`, server, sig)
		for i := range n {
			fmt.Fprintf(&s, `,"ed25519:k%d":""`, i)
		}
		s.WriteString("}}")
		return sclWithSignatures(b, good, s.String())
	}
	servers := func(n int) []byte {
		var s strings.Builder
		fmt.Fprintf(&s, `{%q:{"ed25519:1":%q}`, server, sig)
		for i := range n {
			fmt.Fprintf(&s, `,"s%d":{"ed25519:1":""}`, i)
		}
		s.WriteString("}")
		return sclWithSignatures(b, good, s.String())
	}
	verify := func(b *testing.B, ev []byte) {
		for b.Loop() {
			if err := VerifyEvent(v, ev, keys); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("key_ids", func(b *testing.B) { sclRun(b, []int{30, 300, 3000}, keyIDs, verify) })
	b.Run("servers", func(b *testing.B) { sclRun(b, []int{20, 200, 2000}, servers, verify) })
	// A third-party invite: every server in `signatures` is tried (none is known but the last).
	inviteSig := func(ev []byte) string {
		p, err := ParseEvent(v, ev)
		if err != nil {
			b.Fatal(err)
		}
		sig, _ := p.Signatures.Get(server, "ed25519:1")
		return sig
	}
	_ = inviteSig
	b.Run("servers_third_party_invite", func(b *testing.B) {
		sclRun(b, []int{20, 200, 2000}, func(n int) []byte {
			ev := sclInvite(b, v, server)
			var s strings.Builder
			fmt.Fprintf(&s, `{%q:{"ed25519:1":%q}`, server, inviteSig(ev))
			for i := range n { // sorted before the good one, so all are tried
				fmt.Fprintf(&s, `,"a%d":{"ed25519:1":""}`, i)
			}
			s.WriteString("}")
			return sclWithSignatures(b, ev, s.String())
		}, verify)
	})
	b.Run("servers_batch", func(b *testing.B) {
		sclRun(b, []int{20, 200, 2000}, servers, func(b *testing.B, ev []byte) {
			evs := [][]byte{ev}
			for b.Loop() {
				if err := VerifyEvents(v, evs, keys, &BatchOptions{Workers: 1})[0]; err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkVerifyEventUnsignedScale: a 1 KB message with `unsigned` of n members (not signed,
// not hashed: only canonicalised and skipped).
func BenchmarkVerifyEventUnsignedScale(b *testing.B) {
	v := btVersion(b, "10")
	const server = "hs0.example"
	keys := KeyRing{server: {"ed25519:1": {Key: btKey(server).Public()}}}
	build := func(n int) []byte {
		var s strings.Builder
		s.WriteString(`"unsigned":{`)
		for i := range n {
			if i > 0 {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, `"u%06d":[%d]`, n-i, i)
		}
		s.WriteString("}")
		return sclSigned(b, v, server, 1, `{"body":"`+strings.Repeat("x", 1000)+`"}`, s.String())
	}
	sclRun(b, []int{30, 300, 3000}, build, func(b *testing.B, ev []byte) {
		for b.Loop() {
			if err := VerifyEvent(v, ev, keys); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyEventsKeysScale: VerifyEvents (one worker) on n events, all signed by one of
// six servers ("shared"), or each by a server of its own ("distinct"), all keys known. Per
// event the work should not depend on n; with distinct keys it grows past maxCachedKeys, where
// keys stop being kept.
func BenchmarkVerifyEventsKeysScale(b *testing.B) {
	v := btVersion(b, "10")
	for _, mode := range []string{"shared", "distinct"} {
		b.Run(mode, func(b *testing.B) {
			for _, n := range []int{300, 3000, 30_000} {
				b.Run(fmt.Sprint(n), func(b *testing.B) {
					keys := KeyRing{}
					events := make([][]byte, n)
					for i := range events {
						server := btServer(i % btServers)
						if mode == "distinct" {
							server = fmt.Sprintf("d%d.example", i)
						}
						if keys[server] == nil {
							keys[server] = map[string]PublicKey{"ed25519:1": {Key: btKey(server).Public()}}
						}
						events[i] = sclSigned(b, v, server, i, `{"body":"hello"}`)
					}
					b.ReportAllocs()
					for b.Loop() {
						for i, err := range VerifyEvents(v, events, keys, &BatchOptions{Workers: 1}) {
							if err != nil {
								b.Fatal(i, err)
							}
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
				})
			}
		})
	}
}

// BenchmarkJSONSignaturesScale: VerifyJSON, HasValidSignature and SignJSON on an object (no
// size limit) with n signatures by other servers, none known.
func BenchmarkJSONSignaturesScale(b *testing.B) {
	key := btKey("hs0.example")
	build := func(n int) []byte {
		var s strings.Builder
		s.WriteString(`{"a":1,"signatures":{`)
		for i := range n {
			if i > 0 {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, `"s%d":{"ed25519:1":"AAAA","ed25519:2":"AAAA"}`, n-i)
		}
		s.WriteString(`}}`)
		signed, err := SignJSON([]byte(s.String()), "hs0.example", key)
		if err != nil {
			b.Fatal(err)
		}
		return signed
	}
	sizes := []int{1_000, 10_000, 100_000}
	keys := KeyRing{"hs0.example": {"ed25519:1": {Key: key.Public()}}}
	b.Run("VerifyJSON", func(b *testing.B) {
		sclRun(b, sizes, build, func(b *testing.B, obj []byte) {
			for b.Loop() {
				if err := VerifyJSON(obj, keys); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	other := btKey("hs1.example").Public()
	b.Run("HasValidSignature", func(b *testing.B) {
		sclRun(b, sizes, build, func(b *testing.B, obj []byte) {
			for b.Loop() {
				if _, err := HasValidSignature(obj, other); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("SignJSON", func(b *testing.B) {
		sclRun(b, sizes, build, func(b *testing.B, obj []byte) {
			for b.Loop() {
				if _, err := SignJSON(obj, "hs0.example", key); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkSignEventScale: SignEvent, CountersignEvent, EventID and ContentHash of a v10 event
// near the size limit with n servers' signatures and content of n members.
func BenchmarkSignEventScale(b *testing.B) {
	v := btVersion(b, "10")
	key := btKey("hs0.example")
	build := func(n int) []byte {
		var c, s strings.Builder
		c.WriteByte('{')
		s.WriteByte('{')
		for i := range n {
			if i > 0 {
				c.WriteByte(',')
				s.WriteByte(',')
			}
			fmt.Fprintf(&c, `"c%d":%d`, n-i, i)
			fmt.Fprintf(&s, `"s%d":{"ed25519:1":"AAAA"}`, n-i)
		}
		c.WriteByte('}')
		s.WriteByte('}')
		return sclEvent(b, "hs0.example", 1, c.String(), `"hashes":{"sha256":"x"}`, `"signatures":`+s.String())
	}
	sizes := []int{15, 150, 1500}
	ops := []struct {
		name string
		fn   func(ev []byte) error
	}{
		{"SignEvent", func(ev []byte) error { _, err := SignEvent(v, ev, "hs0.example", key); return err }},
		{"CountersignEvent", func(ev []byte) error { _, err := CountersignEvent(v, ev, "hs0.example", key); return err }},
		{"EventID", func(ev []byte) error { _, err := EventID(v, ev); return err }},
		{"ContentHash", func(ev []byte) error { _, err := ContentHash(v, ev); return err }},
		{"RequiredSigners+ParseEvent", func(ev []byte) error {
			e, err := ParseEvent(v, ev)
			if err == nil {
				_, err = RequiredSigners(e)
			}
			return err
		}},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			sclRun(b, sizes, build, func(b *testing.B, ev []byte) {
				for b.Loop() {
					if err := op.fn(ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkParseKeyRingScale: a key ring of n servers with one key each, written twice (the
// last occurrence counts).
func BenchmarkParseKeyRingScale(b *testing.B) {
	pub := encodeBase64(btKey("hs0.example").Public())
	build := func(n int) []byte {
		var s bytes.Buffer
		s.WriteByte('{')
		for r := range 2 {
			for i := range n {
				if r+i > 0 {
					s.WriteByte(',')
				}
				fmt.Fprintf(&s, `"s%d":{"ed25519:1":%q,"ed25519:2":{"key":%q,"valid_until_ts":1}}`, i, pub, pub)
			}
		}
		s.WriteByte('}')
		return s.Bytes()
	}
	sclRun(b, []int{1_000, 10_000, 100_000}, build, func(b *testing.B, data []byte) {
		for b.Loop() {
			if _, err := ParseKeyRing(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var _ = ed25519.PublicKeySize

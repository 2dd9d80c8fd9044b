package policyserver_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/roomproto/roomproto/policyserver"
)

// BenchmarkOf finds the Policy Server of a room with 10,000 joined members besides its own
// user, which Of meets wherever the state's member iteration puts it; and of the same room
// whose Policy Server has no joined user, which Of must scan every member to tell.
func BenchmarkOf(b *testing.B) {
	for _, joined := range []bool{true, false} {
		r := newRoom(b, "10")
		for i := range 10000 {
			u := fmt.Sprintf("@u%d:s%d.example", i, i%100)
			r.add("m.room.member", ptr(u), u, `{"membership":"join"}`)
		}
		if joined {
			r.add("m.room.member", ptr(psUser), psUser, `{"membership":"join"}`)
		}
		pub := base64.RawStdEncoding.EncodeToString(roomKey(b).Public())
		r.add(policyserver.EventType, ptr(""), creator, `{"via":"policy.example","public_keys":{"ed25519":"`+pub+`"}}`)
		s := r.state()
		b.Run(fmt.Sprintf("joined=%v", joined), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := policyserver.Of(s); ok != joined {
					b.Fatal(ok)
				}
			}
		})
	}
}

// BenchmarkServerCheck checks the Policy Server signature of a message: one redaction and one
// ed25519 verification.
func BenchmarkServerCheck(b *testing.B) {
	r := newRoom(b, "10")
	key := roomKey(b)
	signed, err := addPolicySignature(b, r.v, r.raw("m.room.message", nil, sender, `{"msgtype":"m.text","body":"hello"}`), key)
	if err != nil {
		b.Fatal(err)
	}
	ev := r.parse(signed)
	ps := policyserver.Server{Name: psServer, PublicKey: base64.RawStdEncoding.EncodeToString(key.Public())}
	b.ReportAllocs()
	for b.Loop() {
		if err := ps.Check(ev); err != nil {
			b.Fatal(err)
		}
	}
}

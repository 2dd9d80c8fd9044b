package claimsf

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/internal/authfixture"
	"github.com/roomproto/roomproto/membership"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// withSig returns raw with a.example's ed25519:1 signature replaced by sig (standard unpadded
// base64) or by the string s when sig is nil.
func withSig(t testing.TB, raw []byte, sig []byte, s string) []byte {
	t.Helper()
	if sig != nil {
		s = base64.RawStdEncoding.EncodeToString(sig)
	}
	return editJSON(t, raw, func(m M) { m["signatures"] = M{"a.example": M{"ed25519:1": s}} })
}

// KeyCache doc: "the cache changes how a signature is checked, never whether it holds". The
// prepared check (fastKey) against crypto/ed25519 with libsodium's refusals, on the signatures a
// forger would craft, for a key the cache holds prepared: S + L (not canonical), S = L, an R of
// small order (the identity, order 2, 4 and 8), all zeros, the wrong length, not base64, R and S
// swapped. Every verdict is VerifyEvent's, on every call.
func TestKeyCacheEdgeSignatures(t *testing.T) {
	L, _ := new(big.Int).SetString("7237005577332262213973186563042994208989711112136952402136869212347301425157", 10) // 2^252 + 27742317777372353535851937790883648493
	le := func(x *big.Int) []byte {
		b := x.FillBytes(make([]byte, 32))
		for i, j := 0, 31; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
		return b
	}
	small := []string{"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", order8}
	for _, id := range []string{"1", "5", "9", "10", "12"} {
		v := claimkit.Ver(t, id)
		good := signAs(t, v, message(t, v, 3), "a.example", authfixture.Key("a.example"))
		var sig []byte
		{
			o := mustObj(t, good)
			var sigs map[string]map[string]string
			_ = jsonUnmarshal(o["signatures"], &sigs)
			sig, _ = base64.RawStdEncoding.DecodeString(sigs["a.example"]["ed25519:1"])
		}
		s := new(big.Int).SetBytes(reverse(sig[32:]))
		cases := map[string][]byte{
			"S + L":           withSig(t, good, append(append([]byte{}, sig[:32]...), le(new(big.Int).Add(s, L))...), ""),
			"S = L":           withSig(t, good, append(append([]byte{}, sig[:32]...), le(L)...), ""),
			"zeros":           withSig(t, good, make([]byte, 64), ""),
			"63 bytes":        withSig(t, good, sig[:63], ""),
			"65 bytes":        withSig(t, good, append(append([]byte{}, sig...), 0), ""),
			"not base64":      withSig(t, good, nil, "!!!!"),
			"R and S swapped": withSig(t, good, append(append([]byte{}, sig[32:]...), sig[:32]...), ""),
			"padded base64":   withSig(t, good, nil, base64.StdEncoding.EncodeToString(sig)),
			"URL-safe base64": withSig(t, good, nil, base64.RawURLEncoding.EncodeToString(sig)),
		}
		for i, h := range small {
			r, _ := hex.DecodeString(h)
			cases[fmt.Sprintf("small-order R %d", i)] = withSig(t, good, append(r, sig[32:]...), "")
		}
		var c signing.KeyCache
		for range 2 {
			if err := c.VerifyEvent(v, good, ring); err != nil {
				t.Fatal(err)
			}
		}
		if c.Len() != 1 {
			t.Fatalf("the key is not prepared")
		}
		for name, raw := range cases {
			want := signing.VerifyEvent(v, raw, ring)
			for pass := range 2 {
				sameError(t, fmt.Sprintf("v%s %s pass %d", id, name, pass), c.VerifyEvent(v, raw, ring), want)
			}
		}
	}
}

func reverse(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

// A user who joined a restricted room through an allow condition (join_authorised_via_users_server,
// signed by the authoriser's server) leaves through the handshake: the template carries no
// authoriser and selects no authoriser's membership; the leave passes the rules (v8-12).
func TestLeaveAfterRestrictedJoin(t *testing.T) {
	for _, vid := range []string{"8", "9", "10", "11", "12"} {
		r := newRoom(t, vid, roomOpts{JoinRule: "restricted"})
		ev := r.Make(t, leaver, pdu.TypeMember, leaver, M{"membership": "join", "join_authorised_via_users_server": creator}, nil)
		signed, err := signing.CountersignEvent(r.V, ev.Raw(), "a.example", authfixture.Key("a.example"))
		if err != nil {
			t.Fatal(err)
		}
		join, err := signing.ParseEvent(r.V, signed)
		if err != nil {
			t.Fatal(err)
		}
		r.Apply(t, join)
		tmpl, err := membership.MakeLeave(r.State, leaver, r.Opts())
		if err != nil {
			t.Fatalf("v%s: %v", vid, err)
		}
		if o := mustObj(t, tmpl.Event); string(o["content"]) != `{"membership":"leave"}` {
			t.Errorf("v%s: content %s", vid, o["content"])
		}
		checkLeaveTemplate(t, r, leaver, tmpl)
		lv := handshake(t, r, leaver)
		if tr, ok := membership.ClassifyMemberEvent(r.V, "join", lv, "restricted"); !ok || tr.Meaning != "leave the room" {
			t.Errorf("v%s: %+v", vid, tr)
		}
	}
}

// README: "Every function is safe for concurrent use". Many goroutines answer make_leave and
// send_leave for different users against one State at once (go test -race).
func TestLeaveConcurrent(t *testing.T) {
	r := newRoom(t, "10", roomOpts{})
	var users []string
	for i := range 12 {
		u := fmt.Sprintf("@u%d:d.example", i)
		r.Member(t, u, []string{"invite", "join", "knock"}[i%3])
		users = append(users, u)
	}
	type prepared struct {
		q membership.SendLeaveRequest
	}
	var reqs []prepared
	for _, u := range users {
		tmpl, err := membership.MakeLeave(r.State, u, r.Opts())
		if err != nil {
			t.Fatal(err)
		}
		signed, ev := r.signLeave(t, tmpl.Event, u)
		reqs = append(reqs, prepared{leaveReq(t, r, signed, ev)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(users)*8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, u := range users {
				j := (i + g) % len(users)
				if _, err := membership.MakeLeave(r.State, users[j], r.Opts()); err != nil {
					errs <- err
				}
				if _, err := membership.SendLeave(reqs[j].q); err != nil {
					errs <- err
				}
				if err := membership.DecideLeave(r.State, u); err != nil {
					errs <- err
				}
				_ = authrules.MembershipRule(r.V, pdu.MembershipLeave)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

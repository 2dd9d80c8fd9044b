package main

// Generation of signed events: messages, state events, memberships (restricted joins with and
// without the authorising server's signature, third-party invites), redactions and creates, for
// every room version, signed by roomproto's signing.SignEvent and signing.CountersignEvent.

import (
	"crypto/sha256"
	"fmt"
	"math/rand"

	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

type M = difftool.M

// servers sign with keys "1" and "2" that the key ring knows; "9" is a key no ring knows, and
// unknown.example a server no ring knows.
var servers = []string{"a.example", "b.example", "c.example", "d.example"}

func userOf(r *rand.Rand, srv string) string {
	return fmt.Sprintf("@%s:%s", difftool.Pick(r, "alice", "bob", "carol", "mod"), srv)
}

// gen is one generated event before its mutation.
type gen struct {
	v      roomversion.Version
	ver    int
	label  string // kind of event
	m      M      // the event being built (unsigned)
	sender string // sender's server
	// signers are the servers that sign, in order; the first computes the hash.
	signers []string
	// keyOf is the key version each signer signs with.
	keyOf map[string]string
	// required are the servers roomproto and the spec require (for mutations that target them);
	// extra are servers that countersign without being required.
	authvia string // server of join_authorised_via_users_server, "" if none
	idDom   string // v1-2 event_id domain
}

func fakeID(r *rand.Rand, ver int, dom string) string {
	if ver <= 2 {
		return fmt.Sprintf("$%d:%s", r.Intn(1e6), dom)
	}
	b := make([]byte, 32)
	r.Read(b)
	if ver == 3 {
		return "$" + difftool.B64(b)
	}
	return "$" + difftool.B64URL(b)
}

func refList(r *rand.Rand, ver, n int) []any {
	out := []any{}
	for i := 0; i < n; i++ {
		id := fakeID(r, ver, difftool.Pick(r, servers...))
		if ver <= 2 {
			h := sha256.Sum256([]byte(id))
			out = append(out, []any{id, M{"sha256": difftool.B64(h[:])}})
		} else {
			out = append(out, id)
		}
	}
	return out
}

// genEvent draws an unsigned event of room version v.
func genEvent(r *rand.Rand, v roomversion.Version, ver int, i int) *gen {
	g := &gen{v: v, ver: ver, keyOf: map[string]string{}}
	sendSrv := difftool.Pick(r, servers[:3]...)
	g.sender = sendSrv
	sender := userOf(r, sendSrv)
	roomID := "!room:a.example"
	if ver >= 12 {
		h := sha256.Sum256([]byte(fmt.Sprint("room", r.Intn(5))))
		roomID = "!" + difftool.B64URL(h[:])
	}
	m := M{
		"room_id":          roomID,
		"sender":           sender,
		"origin_server_ts": int64(1_700_000_000_000) + int64(i)*1000,
		"depth":            1 + r.Intn(1000),
		"prev_events":      refList(r, ver, 1+r.Intn(2)),
		"auth_events":      refList(r, ver, r.Intn(4)),
		"content":          M{},
	}
	if ver <= 10 && r.Intn(2) == 0 || r.Intn(6) == 0 {
		m["origin"] = sendSrv
	}
	if r.Intn(3) == 0 {
		m["unsigned"] = M{"age_ts": 1234, "age": r.Intn(100)}
	}
	sk := func(s string) { m["state_key"] = s }
	kind := r.Intn(20)
	switch {
	case kind < 4:
		g.label = "message"
		m["type"] = "m.room.message"
		m["content"] = M{"msgtype": "m.text", "body": fmt.Sprint("hello ", r.Intn(100))}
	case kind < 5:
		g.label = "state:name"
		m["type"] = "m.room.name"
		sk("")
		m["content"] = M{"name": "Room"}
	case kind < 6:
		g.label = "state:pl"
		m["type"] = "m.room.power_levels"
		sk("")
		m["content"] = M{"users": M{sender: 100}, "ban": 50, "kick": 50, "invite": 0, "redact": 50,
			"events": M{"m.room.name": 50}, "state_default": 50, "events_default": 0, "users_default": 0,
			"notifications": M{"room": 50}}
	case kind < 7:
		g.label = "state:join_rules"
		m["type"] = "m.room.join_rules"
		sk("")
		m["content"] = M{"join_rule": "restricted", "allow": []any{M{"type": "m.room_membership", "room_id": "!other:b.example"}}}
	case kind < 8:
		g.label = "state:history_visibility"
		m["type"] = "m.room.history_visibility"
		sk("")
		m["content"] = M{"history_visibility": "shared", "extra": 1}
	case kind < 9:
		g.label = "state:aliases"
		m["type"] = "m.room.aliases"
		sk(sendSrv)
		m["content"] = M{"aliases": []any{"#a:" + sendSrv}}
	case kind < 10:
		g.label = "create"
		m["type"] = "m.room.create"
		sk("")
		c := M{"room_version": v.ID, "m.federate": true}
		if ver <= 10 {
			c["creator"] = sender
		}
		m["content"] = c
		if ver >= 12 {
			delete(m, "room_id")
		}
		m["prev_events"] = []any{}
		m["auth_events"] = []any{}
	case kind < 12:
		g.label = "redaction"
		m["type"] = "m.room.redaction"
		target := fakeID(r, ver, sendSrv)
		if ver >= 11 {
			m["content"] = M{"redacts": target, "reason": "spam"}
			if r.Intn(3) == 0 {
				m["redacts"] = target
			}
		} else {
			m["redacts"] = target
			m["content"] = M{"reason": "spam"}
		}
	case kind < 13:
		g.label = "member:leave"
		m["type"] = "m.room.member"
		sk(sender)
		m["content"] = M{"membership": difftool.Pick(r, "leave", "ban", "knock")}
		if r.Intn(2) == 0 {
			m["membership"] = m["content"].(M)["membership"]
		}
	case kind < 14:
		g.label = "member:invite"
		m["type"] = "m.room.member"
		sk(userOf(r, difftool.Pick(r, servers...)))
		m["content"] = M{"membership": "invite", "displayname": "X"}
	case kind < 15:
		g.label = "member:3pid"
		m["type"] = "m.room.member"
		sk(userOf(r, difftool.Pick(r, servers...)))
		signed := M{"mxid": m["state_key"], "token": "tok1",
			"signatures": M{"id.example": M{"ed25519:0": authgen.DummySig}}}
		m["content"] = M{"membership": "invite", "third_party_invite": M{"display_name": "x@y", "signed": signed}}
	case kind < 17:
		g.label = "member:join"
		m["type"] = "m.room.member"
		sk(sender)
		m["content"] = M{"membership": "join", "displayname": "Y"}
	default:
		g.label = "member:join+authvia"
		m["type"] = "m.room.member"
		sk(sender)
		g.authvia = difftool.Pick(r, servers[:3]...)
		m["content"] = M{"membership": "join", "join_authorised_via_users_server": userOf(r, g.authvia)}
		if r.Intn(4) == 0 {
			g.label = "member:nonjoin+authvia"
			m["content"].(M)["membership"] = difftool.Pick(r, "leave", "invite", "knock", "ban")
		}
	}
	g.signers = []string{sendSrv}
	if ver <= 2 {
		g.idDom = sendSrv
		if r.Intn(3) == 0 {
			g.idDom = difftool.Pick(r, servers[:3]...)
		}
		m["event_id"] = fmt.Sprintf("$%d:%s", i, g.idDom)
		g.signers = append(g.signers, g.idDom)
	} else if r.Intn(15) == 0 {
		m["event_id"] = fakeID(r, 2, sendSrv) // a stray event_id: kept by redaction
	}
	if g.authvia != "" && r.Intn(5) != 0 {
		g.signers = append(g.signers, g.authvia)
	}
	if g.label == "member:3pid" && r.Intn(3) == 0 {
		// signed by another server only (the server which actually sends the event)
		g.signers = []string{difftool.Pick(r, servers[:3]...)}
		if ver <= 2 {
			g.signers = append(g.signers, g.idDom)
		}
	}
	if r.Intn(5) == 0 {
		g.signers = append(g.signers, "c.example") // a server that need not sign
	}
	g.signers = dedup(g.signers)
	for _, s := range g.signers {
		g.keyOf[s] = "1"
		if r.Intn(4) == 0 {
			g.keyOf[s] = "2"
		}
	}
	g.m = m
	return g
}

func dedup(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// sign signs the event as its signers and returns the signed bytes.
func (g *gen) sign(raw []byte) ([]byte, error) {
	out, err := signing.SignEvent(g.v, raw, g.signers[0], authgen.KeyFor(g.signers[0], g.keyOf[g.signers[0]]))
	if err != nil {
		return nil, err
	}
	for _, s := range g.signers[1:] {
		out, err = signing.CountersignEvent(g.v, out, s, authgen.KeyFor(s, g.keyOf[s]))
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ring is a key ring: every server's keys "1" and "2" (no expiry).
type ringKey struct {
	server, id string
	vu         int64
	key        []byte
}

func baseRing() map[string]map[string]*ringKey {
	rg := map[string]map[string]*ringKey{}
	for _, s := range servers {
		rg[s] = map[string]*ringKey{}
		for _, id := range []string{"1", "2"} {
			rg[s]["ed25519:"+id] = &ringKey{server: s, id: "ed25519:" + id, key: authgen.KeyFor(s, id).Public()}
		}
	}
	return rg
}

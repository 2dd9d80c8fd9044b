//go:build goexperiment.jsonv2

package authcmp

import (
	"math/rand"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"

	mpdu "maunium.net/go/mautrix/federation/pdu"
	mid "maunium.net/go/mautrix/id"
)

// Ev is a hand-written event of a reproducer: the first event of a room must be its create.
type Ev struct {
	Type, Sender string
	// StateKey is nil for an event without state_key.
	StateKey *string
	Content  map[string]any
	// PrevCreate makes the create event the only previous event.
	PrevCreate bool
}

// SK returns a state key.
func SK(s string) *string { return &s }

// Outcome is what Reproduce found.
type Outcome struct {
	// Agree says both sides gave the same verdict.
	Agree bool
	// Class is the class the classifier gives a divergence ("" for none).
	Class string
	// RP and Mtx are the verdicts, as the output prints them.
	RP, Mtx string
}

// Reproduce checks cand against the auth events roomproto selects from the room (check 4) on
// both sides and classifies a divergence as area auth does. label is the generator's label
// (some classes read it, e.g. "@jr-nonstring").
func Reproduce(vid string, room []Ev, cand Ev, label string) Outcome {
	v := rpVersion(vid)
	b := &authBuilder{v: v, ver: verNum(vid), r: rand.New(rand.NewSource(1))}
	rm := &authRoom{members: map[string]*authEv{}}
	for i, e := range room {
		ae := b.mk(e.Type, e.Sender, e.StateKey, copyM(e.Content), nil, authOpts{})
		if i == 0 {
			rm.create = ae
			if b.ver >= 12 {
				b.roomID = "!" + ae.id[1:]
			}
		}
		rm.order = append(rm.order, ae)
	}
	o := authOpts{}
	if cand.PrevCreate {
		o.prev = []string{rm.create.id}
	}
	c := authCand{typ: cand.Type, sender: cand.Sender, sk: cand.StateKey, content: copyM(cand.Content), o: o, label: label}
	draft := b.mk(c.typ, c.sender, c.sk, copyM(c.content), nil, o)
	pe, err := pdu.Parse(v, draft.raw)
	if err != nil {
		return Outcome{RP: "not a PDU: " + err.Error()}
	}
	var auth []*authEv
	var ids []string
	if c.typ != "m.room.create" {
		need, _ := authrules.AuthEventsNeeded(v, pe)
		for _, k := range need {
			for _, e := range rm.order {
				if e.typ == k.Type && e.sk != nil && *e.sk == k.StateKey {
					auth = append(auth, e)
					ids = append(ids, e.id)
				}
			}
		}
	}
	final := b.mk(c.typ, c.sender, c.sk, copyM(c.content), ids, o)
	rpByID := map[string]*pdu.Event{}
	mxByID := map[string]*mpdu.PDU{}
	for _, e := range append(append([]*authEv{}, rm.order...), final) {
		p, err := pdu.Parse(v, e.raw)
		if err != nil {
			return Outcome{RP: "not a PDU: " + err.Error()}
		}
		p.EventID = e.id
		rpByID[e.id] = p
		m, err := mtxParse(b.ver, e.raw, e.id)
		if err != nil {
			return Outcome{Mtx: "mautrix cannot parse: " + err.Error()}
		}
		if b.ver >= 3 {
			m.InternalMeta.EventID = mid.EventID(e.id)
		}
		mxByID[e.id] = m
	}
	mev := mxByID[final.id]
	delete(mxByID, final.id)
	var aes []*pdu.Event
	for _, a := range auth {
		aes = append(aes, rpByID[a.id])
	}
	opts := authrules.Options{Keys: signing.KeyRing{}}
	if b.ver >= 12 {
		opts.Create = rpByID[rm.create.id]
	}
	cc := &caseCtx{vid: vid, ver: b.ver, mode: "auth", b: b, rm: rm, c: c, final: final, auth: auth,
		rp: rpVerdict(authrules.CheckWithOptions(v, rpByID[final.id], aes, opts)), mx: mtxAuthorize(vid, mev, nil, mxByID)}
	out := Outcome{Agree: cc.rp.allow == cc.mx.allow, RP: cc.rp.String(), Mtx: cc.mx.String()}
	if !out.Agree {
		out.Class = classify(cc)
	}
	return out
}

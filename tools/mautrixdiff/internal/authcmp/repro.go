//go:build goexperiment.jsonv2

package authcmp

import (
	"math/rand"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"

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
	v := authgen.Version(vid)
	b := &authgen.Builder{V: v, Ver: difftool.VerNum(vid), R: rand.New(rand.NewSource(1)), HistoryVisibility: true, RealSignFrom: 3}
	rm := &authgen.Room{Members: map[string]*authgen.Event{}}
	for i, e := range room {
		ae := b.Mk(e.Type, e.Sender, e.StateKey, difftool.CopyM(e.Content), nil, authgen.Opts{})
		if i == 0 {
			rm.Create = ae
			if b.Ver >= 12 {
				b.RoomID = "!" + ae.ID[1:]
			}
		}
		rm.Order = append(rm.Order, ae)
	}
	o := authgen.Opts{}
	if cand.PrevCreate {
		o.Prev = []string{rm.Create.ID}
	}
	c := authgen.Cand{Type: cand.Type, Sender: cand.Sender, StateKey: cand.StateKey, Content: difftool.CopyM(cand.Content), Opts: o, Label: label}
	draft := b.Mk(c.Type, c.Sender, c.StateKey, difftool.CopyM(c.Content), nil, o)
	pe, err := pdu.Parse(v, draft.Raw)
	if err != nil {
		return Outcome{RP: "not a PDU: " + err.Error()}
	}
	var auth []*authgen.Event
	var ids []string
	if c.Type != "m.room.create" {
		need, _ := authrules.AuthEventsNeeded(v, pe)
		for _, k := range need {
			for _, e := range rm.Order {
				if e.Type == k.Type && e.StateKey != nil && *e.StateKey == k.StateKey {
					auth = append(auth, e)
					ids = append(ids, e.ID)
				}
			}
		}
	}
	final := b.Mk(c.Type, c.Sender, c.StateKey, difftool.CopyM(c.Content), ids, o)
	rpByID := map[string]*pdu.Event{}
	mxByID := map[string]*mpdu.PDU{}
	for _, e := range append(append([]*authgen.Event{}, rm.Order...), final) {
		p, err := pdu.Parse(v, e.Raw)
		if err != nil {
			return Outcome{RP: "not a PDU: " + err.Error()}
		}
		p.EventID = e.ID
		rpByID[e.ID] = p
		m, err := mtxParse(b.Ver, e.Raw, e.ID)
		if err != nil {
			return Outcome{Mtx: "mautrix cannot parse: " + err.Error()}
		}
		if b.Ver >= 3 {
			m.InternalMeta.EventID = mid.EventID(e.ID)
		}
		mxByID[e.ID] = m
	}
	mev := mxByID[final.ID]
	delete(mxByID, final.ID)
	var aes []*pdu.Event
	for _, a := range auth {
		aes = append(aes, rpByID[a.ID])
	}
	opts := authrules.Options{Keys: signing.KeyRing{}}
	if b.Ver >= 12 {
		opts.Create = rpByID[rm.Create.ID]
	}
	cc := &caseCtx{vid: vid, ver: b.Ver, mode: "auth", b: b, rm: rm, c: c, final: final, auth: auth,
		rp: rpVerdict(authrules.CheckWithOptions(v, rpByID[final.ID], aes, opts)), mx: mtxAuthorize(vid, mev, nil, mxByID)}
	out := Outcome{Agree: cc.rp.allow == cc.mx.allow, RP: cc.rp.String(), Mtx: cc.mx.String()}
	if !out.Agree {
		out.Class = classify(cc)
	}
	return out
}

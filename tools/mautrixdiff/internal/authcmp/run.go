//go:build goexperiment.jsonv2

package authcmp

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"time"

	jsonv2 "encoding/json/v2"

	"github.com/roomproto/roomproto/authrules"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"

	"maunium.net/go/mautrix/federation/eventauth"
	mpdu "maunium.net/go/mautrix/federation/pdu"
	mid "maunium.net/go/mautrix/id"
)

// verdict is one side's answer.
type verdict struct {
	allow bool
	fam   string // family of the rejection (roomproto sentinel name / mapped mautrix error)
	rule  string // rule number as the side cites it
	msg   string
}

func (v verdict) String() string {
	if v.allow {
		return "ALLOW"
	}
	return "REJECT " + v.fam + " [" + v.rule + "] " + v.msg
}

func (v verdict) short() string {
	if v.allow {
		return "ALLOW"
	}
	return "REJECT:" + v.fam
}

var rpFamilies = []struct {
	err  error
	name string
}{
	{authrules.ErrMalformed, "Malformed"},
	{authrules.ErrCreatePrevEvents, "CreatePrev"},
	{authrules.ErrCreateRoomID, "CreateRoomID"},
	{authrules.ErrCreateRoomVersion, "CreateRoomVersion"},
	{authrules.ErrCreateNoCreator, "CreateNoCreator"},
	{authrules.ErrCreateAdditionalCreators, "CreateAdditional"},
	{authrules.ErrRoomIDNotCreate, "RoomIDNotCreate"},
	{authrules.ErrAuthEventDuplicate, "AuthDup"},
	{authrules.ErrAuthEventUnexpected, "AuthUnexpected"},
	{authrules.ErrAuthEventRejected, "AuthRejected"},
	{authrules.ErrAuthEventNoCreate, "AuthNoCreate"},
	{authrules.ErrAuthEventWrongRoom, "AuthWrongRoom"},
	{authrules.ErrAuthEventMissing, "AuthMissing"},
	{authrules.ErrNotFederated, "NotFederated"},
	{authrules.ErrAliases, "Aliases"},
	{authrules.ErrAuthoriserSignature, "AuthoriserSig"},
	{authrules.ErrSenderNotTarget, "SenderNotTarget"},
	{authrules.ErrBanned, "Banned"},
	{authrules.ErrJoinNotAllowed, "JoinNotAllowed"},
	{authrules.ErrRestrictedAuthoriser, "RestrictedAuthoriser"},
	{authrules.ErrThirdPartyInvite, "ThirdPartyInvite"},
	{authrules.ErrSenderNotJoined, "SenderNotJoined"},
	{authrules.ErrTargetJoined, "TargetJoined"},
	{authrules.ErrInsufficientPower, "Power"},
	{authrules.ErrLeaveNotAllowed, "LeaveNotAllowed"},
	{authrules.ErrKnockNotAllowed, "KnockNotAllowed"},
	{authrules.ErrUnknownMembership, "UnknownMembership"},
	{authrules.ErrStateKeyNotSender, "StateKeyNotSender"},
	{authrules.ErrPowerLevelsInvalid, "PLInvalid"},
	{authrules.ErrRedactionNotAllowed, "Redaction"},
}

var mtxFamilies = []struct {
	err  error
	name string
}{
	{eventauth.ErrCreateHasPrevEvents, "CreatePrev"},
	{eventauth.ErrCreateHasRoomID, "CreateRoomID"},
	{eventauth.ErrRoomIDDoesntMatchSender, "CreateRoomID"},
	{eventauth.ErrUnknownRoomVersion, "CreateRoomVersion"},
	{eventauth.ErrInvalidAdditionalCreators, "CreateAdditional"},
	{eventauth.ErrMissingCreator, "CreateNoCreator"},
	{eventauth.ErrInvalidRoomIDLength, "RoomIDNotCreate"},
	{eventauth.ErrFailedToGetCreateEvent, "RoomIDNotCreate"},
	{eventauth.ErrCreateEventNotFound, "RoomIDNotCreate"},
	{eventauth.ErrRejectedCreateEvent, "RoomIDNotCreate"},
	{eventauth.ErrFailedToGetAuthEvents, "AuthMissing"},
	{eventauth.ErrFailedToParsePowerLevels, "MtxPLParse"},
	{eventauth.ErrDuplicateAuthEvent, "AuthDup"},
	{eventauth.ErrNonStateAuthEvent, "AuthUnexpected"},
	{eventauth.ErrMissingAuthEvent, "AuthMissing"},
	{eventauth.ErrUnexpectedAuthEvent, "AuthUnexpected"},
	{eventauth.ErrNoCreateEvent, "AuthNoCreate"},
	{eventauth.ErrRejectedAuthEvent, "AuthRejected"},
	{eventauth.ErrMismatchingRoomIDInAuthEvent, "AuthWrongRoom"},
	{eventauth.ErrFederationDisabled, "NotFederated"},
	{eventauth.ErrMemberNotState, "Malformed"},
	{eventauth.ErrNotSignedByAuthoriser, "AuthoriserSig"},
	{eventauth.ErrCantJoinOtherUser, "SenderNotTarget"},
	{eventauth.ErrCantJoinBanned, "Banned"},
	{eventauth.ErrAuthoriserCantInvite, "RestrictedAuthoriser"},
	{eventauth.ErrAuthoriserNotInRoom, "RestrictedAuthoriser"},
	{eventauth.ErrCantJoinWithoutInvite, "JoinNotAllowed"},
	{eventauth.ErrInvalidJoinRule, "JoinNotAllowed"},
	{eventauth.ErrThirdPartyInviteBanned, "Banned"},
	{eventauth.ErrThirdPartyInviteMissingFields, "ThirdPartyInvite"},
	{eventauth.ErrThirdPartyInviteMXIDMismatch, "ThirdPartyInvite"},
	{eventauth.ErrThirdPartyInviteNotFound, "ThirdPartyInvite"},
	{eventauth.ErrThirdPartyInviteSenderMismatch, "ThirdPartyInvite"},
	{eventauth.ErrThirdPartyInviteNotSigned, "ThirdPartyInvite"},
	{eventauth.ErrInviterNotInRoom, "SenderNotJoined"},
	{eventauth.ErrInviteTargetAlreadyInRoom, "TargetJoined"},
	{eventauth.ErrInviteTargetBanned, "Banned"},
	{eventauth.ErrInsufficientPermissionForInvite, "Power"},
	{eventauth.ErrCantLeaveWithoutBeingInRoom, "LeaveNotAllowed"},
	{eventauth.ErrCantKickWithoutBeingInRoom, "SenderNotJoined"},
	{eventauth.ErrInsufficientPermissionForUnban, "Power"},
	{eventauth.ErrInsufficientPermissionForKick, "Power"},
	{eventauth.ErrCantBanWithoutBeingInRoom, "SenderNotJoined"},
	{eventauth.ErrInsufficientPermissionForBan, "Power"},
	{eventauth.ErrNotKnockableRoom, "KnockNotAllowed"},
	{eventauth.ErrCantKnockOtherUser, "SenderNotTarget"},
	{eventauth.ErrCantKnockWhileInRoom, "KnockNotAllowed"},
	{eventauth.ErrUnknownMembership, "UnknownMembership"},
	{eventauth.ErrNotInRoom, "SenderNotJoined"},
	{eventauth.ErrInsufficientPowerForThirdPartyInvite, "Power"},
	{eventauth.ErrInsufficientPowerLevel, "Power"},
	{eventauth.ErrMismatchingPrivateStateKey, "StateKeyNotSender"},
	{eventauth.ErrTopLevelPLNotInteger, "PLInvalid"},
	{eventauth.ErrPLNotInteger, "PLInvalid"},
	{eventauth.ErrInvalidUserIDInPL, "PLInvalid"},
	{eventauth.ErrUserPLNotInteger, "PLInvalid"},
	{eventauth.ErrCreatorInPowerLevels, "PLInvalid"},
	{eventauth.ErrInvalidPowerChange, "Power"},
	{eventauth.ErrInvalidUserPowerChange, "Power"},
}

func rpVerdict(err error) verdict {
	if err == nil {
		return verdict{allow: true}
	}
	v := verdict{fam: "?", msg: strings.ReplaceAll(err.Error(), "json: unable to ", "json: cannot ")}
	var rj *authrules.Rejection
	if errors.As(err, &rj) {
		v.rule, v.msg = rj.Rule, rj.Reason
	}
	for _, f := range rpFamilies {
		if errors.Is(err, f.err) {
			v.fam = f.name
			break
		}
	}
	return v
}

func mtxVerdict(err error) verdict {
	if err == nil {
		return verdict{allow: true}
	}
	v := verdict{fam: "?", msg: strings.ReplaceAll(err.Error(), "json: unable to ", "json: cannot ")}
	var afe eventauth.AuthFailError
	if errors.As(err, &afe) {
		v.rule = afe.Index
	}
	if strings.HasPrefix(v.msg, "PANIC") {
		v.fam = "PANIC"
		return v
	}
	for _, f := range mtxFamilies {
		if errors.Is(err, f.err) {
			v.fam = f.name
			break
		}
	}
	return v
}

// ---- mautrix side ----

func mtxParse(ver int, raw []byte, eid string) (*mpdu.PDU, error) {
	if ver <= 2 {
		var v1 mpdu.RoomV1PDU
		if err := jsonv2.Unmarshal(raw, &v1); err != nil {
			return nil, err
		}
		p := &mpdu.PDU{Content: v1.Content, Depth: v1.Depth, Hashes: v1.Hashes, OriginServerTS: v1.OriginServerTS,
			Redacts: v1.Redacts, RoomID: v1.RoomID, Sender: v1.Sender, Signatures: v1.Signatures, StateKey: v1.StateKey,
			Type: v1.Type, Unsigned: v1.Unsigned, AuthEvents: []mid.EventID{}, PrevEvents: []mid.EventID{}}
		for _, r := range v1.AuthEvents {
			p.AuthEvents = append(p.AuthEvents, r.ID)
		}
		for _, r := range v1.PrevEvents {
			p.PrevEvents = append(p.PrevEvents, r.ID)
		}
		p.InternalMeta.EventID = v1.EventID
		return p, nil
	}
	var p mpdu.PDU
	if err := jsonv2.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func mtxGetKey(serverName string, keyID mid.KeyID, _ time.Time) (mid.SigningKey, time.Time, error) {
	for _, s := range authgen.Servers {
		if s == serverName && keyID == "ed25519:1" {
			return mid.SigningKey(difftool.B64(authgen.KeyFor(s, "1").Public())), time.UnixMilli(1 << 50), nil
		}
	}
	return "", time.Time{}, nil
}

func mtxAuthorize(vid string, evt *mpdu.PDU, pre []*mpdu.PDU, byID map[string]*mpdu.PDU) (out verdict) {
	defer func() {
		if p := recover(); p != nil {
			out = mtxVerdict(fmt.Errorf("PANIC: %v", p))
		}
	}()
	getEvents := func(ids []mid.EventID) ([]*mpdu.PDU, error) {
		res := make([]*mpdu.PDU, len(ids))
		for i, x := range ids {
			res[i] = byID[string(x)]
		}
		return res, nil
	}
	return mtxVerdict(eventauth.Authorize(mid.RoomVersion(vid), evt, pre, getEvents, mtxGetKey))
}

type caseCtx struct {
	vid           string
	ver           int
	mode          string // "auth" (check 4) or "state" (checks 5/6)
	b             *authgen.Builder
	rm            *authgen.Room
	c             authgen.Cand
	final         *authgen.Event
	auth          []*authgen.Event // auth mode: supplied auth events; state mode: the state's selection
	state         []*authgen.Event // state mode: the state
	pert          string
	rej           string // auth event ID marked rejected
	noCreateState bool
	rp, mx        verdict
}

// RunAuth compares the auth rules on n candidate events, each in a random room of a random
// version 1-12, in two modes: against the auth events (check 4) and against the room state
// (checks 5 and 6).
func RunAuth(t *difftool.Tally, n int, seed int64) {
	ring := signing.KeyRing{}
	for _, s := range authgen.Servers {
		ring[s] = map[string]signing.PublicKey{"ed25519:1": {Key: authgen.KeyFor(s, "1").Public()}}
	}
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < n; i++ {
		vid := difftool.Pick(r, versions...)
		v := authgen.Version(vid)
		// mautrix verifies the authoriser's signature in every room version: sign for real from
		// v3 (v1-2 events cannot be verified by mautrix's PDU type anyway).
		b := &authgen.Builder{V: v, Ver: difftool.VerNum(vid), R: r, N: i * 1000, Focus: r.Intn(2) == 0, Edge: r.Intn(3) == 0,
			HistoryVisibility: true, RealSignFrom: 3}
		runOne(t, b, vid, ring)
	}
}

func runOne(t *difftool.Tally, b *authgen.Builder, vid string, ring signing.KeyRing) {
	v, r := b.V, b.R
	perturbed := r.Intn(3) == 0
	rm := b.GenRoom()
	advR := ""
	if r.Float64() < 0.15 {
		advR = advRoom(b, rm)
	}
	c := b.GenCand(rm)
	if r.Float64() < 0.3 {
		advCand(b, &c, rm)
	}
	if advR != "" {
		c.Label += "@" + advR
	}
	final, auth, pert, err := b.Assemble(rm, c, perturbed)
	if err != nil {
		return // not a PDU: not compared
	}
	rej := ""
	if len(auth) > 0 && r.Float64() < 0.06 {
		rej = auth[r.Intn(len(auth))].ID
		pert += " rejected:" + rej
	}
	// Every event, parsed by both sides, by ID.
	all := append(append([]*authgen.Event{}, rm.Order...), auth...)
	rpByID := map[string]*pdu.Event{}
	mxByID := map[string]*mpdu.PDU{}
	for _, e := range append(all, final) {
		if _, ok := rpByID[e.ID]; ok {
			continue
		}
		p, err := pdu.Parse(v, e.Raw)
		if err != nil {
			return // not a PDU: not compared
		}
		p.EventID = e.ID
		rpByID[e.ID] = p
		m, err := mtxParse(b.Ver, e.Raw, e.ID)
		if err != nil {
			t.Problem("harness: mautrix cannot parse: "+strings.ReplaceAll(err.Error(), "json: unable to ", "json: cannot "), string(e.Raw))
			return
		}
		if b.Ver >= 3 {
			cp := *m
			cp.InternalMeta.EventID = ""
			mxid, err := cp.GetEventID(mid.RoomVersion(vid))
			switch {
			case err != nil:
				// mautrix's canonical JSON cannot re-encode numbers beyond int64/float (v3-5):
				// not an auth-rules matter (area hash: E-lenient-numbers-refused); mautrix gets
				// the ID roomproto computed.
			case string(mxid) != e.ID && b.Ver >= 11 && strings.Contains(string(e.Raw), `"third_party_invite":{`) && !strings.Contains(string(e.Raw), `"signed":`):
				// v11 redaction of a third_party_invite without signed: roomproto keeps {}, mautrix
				// drops it (area hash: E-tpi-without-signed). mautrix gets roomproto's ID.
			case string(mxid) != e.ID:
				t.Problem("harness: event ID mismatch", fmt.Sprintf("%s rp=%s mtx=%s err=%v", e.Raw, e.ID, mxid, err))
				return
			}
			m.InternalMeta.EventID = mid.EventID(e.ID)
		}
		if e.ID == rej {
			m.InternalMeta.Rejected = true
		}
		mxByID[e.ID] = m
	}
	ev, mev := rpByID[final.ID], mxByID[final.ID]
	delete(mxByID, final.ID) // getEvents never offers the candidate itself
	if b.Ver >= 12 {
		if _, ok := mxByID[rm.Create.ID]; !ok {
			t.Problem("harness: v12 create missing", "")
			return
		}
	}

	// Mode auth (check 4).
	{
		var aes []*pdu.Event
		for _, a := range auth {
			aes = append(aes, rpByID[a.ID])
		}
		opts := authrules.Options{Keys: ring}
		if b.Ver >= 12 {
			opts.Create = rpByID[rm.Create.ID]
		}
		if rej != "" {
			opts.Rejected = map[string]bool{rej: true}
		}
		rpv := rpVerdict(authrules.CheckWithOptions(v, ev, aes, opts))
		mxv := mtxAuthorize(vid, mev, nil, mxByID)
		cc := &caseCtx{vid: vid, ver: b.Ver, mode: "auth", b: b, rm: rm, c: c, final: final, auth: auth, pert: pert, rej: rej, rp: rpv, mx: mxv}
		compare(t, cc)
	}
	// Mode state (checks 5/6): the room state; sometimes without its create event.
	{
		var st []*pdu.Event
		var stEv []*authgen.Event
		noCreate := r.Float64() < 0.03
		for _, e := range rm.Order {
			if noCreate && e.Type == "m.room.create" {
				continue
			}
			st = append(st, rpByID[e.ID])
			stEv = append(stEv, e)
		}
		s, err := authrules.NewState(v, st)
		if err != nil {
			t.Problem("harness: NewState: "+err.Error(), "")
			return
		}
		sopts := authrules.Options{Keys: ring}
		if b.Ver >= 12 {
			// mautrix always finds the create event through getEvents (room ID): give it to roomproto too.
			sopts.Create = rpByID[rm.Create.ID]
			if rej == rm.Create.ID {
				// mautrix fetches the create through getEvents, rejected flag included: tell
				// roomproto too (rule 2 applies to the room's create in every mode).
				sopts.Rejected = map[string]bool{rej: true}
			}
		}
		rpv := rpVerdict(s.CheckWithOptions(ev, sopts))
		var sel []*authgen.Event
		var pre []*mpdu.PDU
		if ev.Type != "m.room.create" {
			aes, err := s.AuthEvents(ev)
			if err != nil {
				t.Problem("harness: State.AuthEvents: "+err.Error(), string(final.Raw))
				return
			}
			pre = []*mpdu.PDU{}
			for _, a := range aes {
				m := mxByID[a.EventID]
				cp := *m
				cp.InternalMeta.Rejected = false // the state holds accepted events
				pre = append(pre, &cp)
				for _, e := range stEv {
					if e.ID == a.EventID {
						sel = append(sel, e)
					}
				}
			}
			// mautrix's own AuthEventSelection over the same state differs from this only for
			// a member event without state_key: area select counts that
			// (SEL-member-without-state_key).
		}
		mxv := mtxAuthorize(vid, mev, pre, mxByID)
		cc := &caseCtx{vid: vid, ver: b.Ver, mode: "state", b: b, rm: rm, c: c, final: final, auth: sel, state: stEv, pert: "", noCreateState: noCreate, rp: rpv, mx: mxv}
		if noCreate {
			cc.pert = "state-without-create"
		}
		compare(t, cc)
	}
}

func vgroup(ver int) string {
	switch {
	case ver <= 2:
		return "v1-2"
	case ver <= 5:
		return "v3-5"
	case ver <= 7:
		return "v6-7"
	case ver <= 9:
		return "v8-9"
	}
	return fmt.Sprintf("v%d", ver)
}

func compare(t *difftool.Tally, cc *caseCtx) {
	if cc.rp.allow == cc.mx.allow {
		t.Agree() // both reject under different rule families counts as agreement
		return
	}
	sig := fmt.Sprintf("%s %s %s %s rp=%s mtx=%s", cc.mode, vgroup(cc.ver), cc.c.Label, strings.Fields(cc.pert + " -")[0], cc.rp.short(), cc.mx.short())
	t.Diverge(classify(cc), sig, strings.ReplaceAll(cc.example(), "json: unable to ", "json: cannot "))
}

func (cc *caseCtx) example() string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%s mode=%s %s", cc.vid, cc.mode, cc.c.Label)
	if cc.pert != "" {
		fmt.Fprintf(&b, " [%s]", strings.TrimSpace(cc.pert))
	}
	fmt.Fprintf(&b, "\n  roomproto: %s\n  mautrix:   %s\n  event: %s", cc.rp, cc.mx, shortEvent(cc.final.Raw))
	for _, a := range cc.auth {
		fmt.Fprintf(&b, "\n  auth: %s", shortEvent(a.Raw))
	}
	if cc.mode == "state" {
		fmt.Fprintf(&b, "\n  (state has %d events)", len(cc.state))
	}
	return b.String()
}

func shortEvent(raw []byte) string {
	m := difftool.Decode(raw)
	for _, k := range []string{"hashes", "origin_server_ts", "depth", "origin", "room_id", "signatures"} {
		delete(m, k)
	}
	return string(difftool.Enc(m))
}

var _ = roomversion.Known

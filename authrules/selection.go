package authrules

import (
	"fmt"
	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
)

// StateKey identifies an entry of room state: an event type and a state key (server-server-api
// "Room State Resolution": state maps are keyed by `(event_type, state_key)`).
type StateKey struct {
	Type     string // the event type, such as "m.room.member"
	StateKey string // the state key, "" for most state events
}

// maxNeeded bounds the auth events selection: create, power levels, sender, target, join
// rules, third-party invite, authorising user.
const maxNeeded = 7

// memberContent holds what the rules read from the content of an m.room.member event, read
// in one pass.
type memberContent struct {
	hasMembership bool
	// authoriser is join_authorised_via_users_server when it is a string.
	authoriser       string
	hasAuthoriser    bool // the key is present (whatever its value)
	authoriserString bool // ... and its value is a string
	// thirdParty is the raw third_party_invite value, nil when absent.
	thirdParty []byte
}

func parseMemberContent(content []byte) (memberContent, error) {
	var mc memberContent
	err := canonicaljson.EachMember(content, func(key string, value []byte) error {
		switch key {
		case "membership":
			mc.hasMembership = true
		case "join_authorised_via_users_server":
			mc.hasAuthoriser = true
			mc.authoriser, mc.authoriserString = stringValueOK(value)
		case "third_party_invite":
			mc.thirdParty = value
		}
		return nil
	})
	return mc, err
}

// thirdPartyToken returns content.third_party_invite.signed.token when it is a string.
func thirdPartyToken(thirdParty []byte) (string, bool) {
	signed := objectMember(thirdParty, "signed")
	if signed == nil {
		return "", false
	}
	return stringValueOK(objectMember(signed, "token"))
}

// objectMember returns the raw value of key in the JSON object raw (the last occurrence), or
// nil when raw is not an object or has no such key.
func objectMember(raw []byte, key string) []byte {
	if canonicaljson.KindOf(raw) != canonicaljson.Object {
		return nil
	}
	var out []byte
	if canonicaljson.EachMember(raw, func(k string, v []byte) error {
		if k == key {
			out = v
		}
		return nil
	}) != nil {
		return nil
	}
	return out
}

// AuthEventsNeeded returns the `(type, state_key)` pairs of the state events the auth events
// of ev must be chosen from (server-server-api "Auth events selection"), in this order and
// without duplicates:
//
//   - m.room.create (room versions 1-11; from v12 it MUST NOT be selected), except for an
//     m.room.create event, whose auth events are empty;
//   - m.room.power_levels;
//   - the sender's m.room.member;
//   - for m.room.member events: the target's m.room.member; m.room.join_rules when
//     `membership` is join, invite or knock; for an invite with `third_party_invite`, the
//     m.room.third_party_invite whose state_key is `signed.token`; and from v8 (rooms with
//     restricted joins), for a join with `join_authorised_via_users_server`, that user's
//     m.room.member.
//
// A member event without `state_key` has no target, and a `token` or
// `join_authorised_via_users_server` that is not a string selects nothing: such events are
// rejected by the rules anyway. The error is a fatal [*Rejection] for a nil event, a content
// that cannot be read, or an event parsed for another room version than v.
//
// Only ev's Type, Sender, StateKey, Membership and Content are read, so an event being built,
// which has no `hashes` or `signatures` yet for pdu.Parse to accept, can be given as a
// pdu.Event made by hand with those fields (Content a JSON object; Membership its
// `membership` string for an m.room.member event; Version the zero Version or v), as
// membership.MakeJoin does for its templates.
func AuthEventsNeeded(v roomversion.Version, ev *pdu.Event) ([]StateKey, error) {
	if ev == nil {
		return nil, newRejection("", SeverityFatal, ErrMalformed, "no event")
	}
	if err := v.Check(); err != nil {
		return nil, fmt.Errorf("authrules: %w", err)
	}
	if why := otherVersion(v, ev, "the event"); why != "" {
		return nil, newRejection("", SeverityFatal, ErrMalformed, why)
	}
	var mc memberContent
	if ev.Type == pdu.TypeMember {
		var err error
		if mc, err = parseMemberContent(ev.Content); err != nil {
			return nil, newRejection("", SeverityFatal, ErrMalformed, "content of m.room.member: "+err.Error())
		}
	}
	var buf [maxNeeded]StateKey
	keys := appendNeeded(buf[:0], v, ev, &mc)
	return append([]StateKey(nil), keys...), nil
}

// appendNeeded appends the auth events selection of ev to dst. mc is the parsed content of a
// member event (ignored for other types).
func appendNeeded(dst []StateKey, v roomversion.Version, ev *pdu.Event, mc *memberContent) []StateKey {
	if ev.Type == pdu.TypeCreate {
		return dst
	}
	add := func(k StateKey) {
		for _, have := range dst {
			if have == k {
				return
			}
		}
		dst = append(dst, k)
	}
	if v.Auth.SelectCreateEvent {
		add(StateKey{pdu.TypeCreate, ""})
	}
	add(StateKey{pdu.TypePowerLevels, ""})
	add(StateKey{pdu.TypeMember, ev.Sender})
	if ev.Type != pdu.TypeMember {
		return dst
	}
	if ev.StateKey != nil {
		add(StateKey{pdu.TypeMember, *ev.StateKey})
	}
	switch ev.Membership {
	case pdu.MembershipJoin, pdu.MembershipInvite, pdu.MembershipKnock:
		add(StateKey{pdu.TypeJoinRules, ""})
	}
	if ev.Membership == pdu.MembershipInvite && mc.thirdParty != nil {
		if token, ok := thirdPartyToken(mc.thirdParty); ok {
			add(StateKey{pdu.TypeThirdPartyInvite, token})
		}
	}
	if v.Auth.RestrictedJoinRule && ev.Membership == pdu.MembershipJoin && mc.authoriserString {
		add(StateKey{pdu.TypeMember, mc.authoriser})
	}
	return dst
}

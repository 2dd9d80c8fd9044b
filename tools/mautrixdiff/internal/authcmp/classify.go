//go:build goexperiment.jsonv2

package authcmp

import (
	"strings"
)

func contentStr(e *authEv, key string) string {
	s, _ := contentOf(e)[key].(string)
	return s
}

// selected reports whether the events the rules read hold an event of type typ.
func (cc *caseCtx) has(typ string) bool {
	for _, a := range cc.auth {
		if a.typ == typ {
			return true
		}
	}
	return false
}

func (cc *caseCtx) creatorMismatch() bool {
	if cc.ver >= 11 {
		return false
	}
	return contentStr(cc.rm.create, "creator") != authCreator
}

var bigValues = []string{"99999999999999999999", "1e20", "1e+20", "-1e+20", "-1e20", "9223372036854775808", "100000000000000000000"}

func (cc *caseCtx) hasBig() bool {
	for _, e := range append(append([]*authEv{}, cc.auth...), cc.final) {
		if e.typ != "m.room.power_levels" {
			continue
		}
		for _, big := range bigValues {
			if strings.Contains(string(e.raw), big) {
				return true
			}
		}
	}
	return false
}

func classify(cc *caseCtx) string {
	c, rp, mx, ver := cc.c, cc.rp, cc.mx, cc.ver
	ms, _ := c.content["membership"].(string)
	target := ""
	if c.sk != nil {
		target = *c.sk
	}
	switch c.typ {
	case "m.room.aliases":
		if ver <= 5 {
			return "M-aliases-rule-missing"
		}
	case "m.room.redaction":
		if ver <= 2 && (rp.fam == "Redaction" || mx.fam == "Redaction") {
			return "M-v1v2-redaction-rule-missing"
		}
	case "m.room.create":
		rv, _ := c.content["room_version"].(string)
		if !rp.allow && rp.fam == "CreateRoomVersion" && mx.allow && rv == "99" {
			return "M-create-content-room-version-unchecked"
		}
	}
	if c.typ != "m.room.create" && !cc.has("m.room.power_levels") && cc.creatorMismatch() {
		return "M-creator-is-create-sender"
	}
	if c.typ == "m.room.member" {
		creator := authCreator
		if ver <= 10 {
			creator = contentStr(cc.rm.create, "creator")
		}
		firstJoin := ms == "join" && len(c.o.prev) == 1 && c.o.prev[0] == cc.rm.create.id && target == creator
		if firstJoin && rp.allow && !mx.allow && len(decode(cc.final.raw)["auth_events"].([]any)) > 1 {
			return "M-first-join-single-auth-event"
		}
		if _, ok := c.content["third_party_invite"]; ok && ms == "invite" && rp.allow && mx.fam == "ThirdPartyInvite" {
			return "M-3pid-signature-never-verified"
		}
		if _, ok := c.content["join_authorised_via_users_server"]; ok && ver < 8 && rp.allow && mx.fam == "AuthoriserSig" {
			return "M-authvia-checked-before-v8"
		}
	}
	if c.typ == "m.room.power_levels" {
		if ver <= 5 && rp.allow && !mx.allow && strings.Contains(mx.msg, "notifications.") {
			return "M-notifications-checked-before-v6"
		}
	}
	if c.typ == "m.room.member" {
		if v, ok := c.content["join_authorised_via_users_server"]; ok && ver >= 8 && !rp.allow && rp.fam == "AuthoriserSig" && mx.allow {
			if s, isStr := v.(string); !isStr || !strings.Contains(s, ":") {
				return "C-authvia-not-a-user-id"
			}
		}
		if strings.Contains(c.label, "@jr-nonstring") || strings.Contains(c.label, "@jr-missing") {
			if !rp.allow && mx.allow && (rp.fam == "JoinNotAllowed" || rp.fam == "KnockNotAllowed") {
				return "C-join-rule-not-a-string"
			}
		}
	}
	if c.typ == "m.room.power_levels" && ver <= 9 && !rp.allow && rp.fam == "PLInvalid" && mx.allow && strings.Contains(rp.msg, "users[") && (strings.Contains(rp.msg, "is true") || strings.Contains(rp.msg, "is false")) {
		return "M-users-bool-level-accepted"
	}
	if c.typ == "m.room.power_levels" && !rp.allow && rp.fam == "PLInvalid" && mx.allow && strings.Contains(rp.msg, "is not a valid user ID") {
		return "M-users-key-validation-lax"
	}
	if cc.hasBig() {
		return "C-pl-value-beyond-int64"
	}
	if c.typ == "m.room.power_levels" && ver <= 9 && !rp.allow && rp.fam == "PLInvalid" && mx.allow && (rp.rule == "9" || rp.rule == "10") {
		return "C-v1-9-named-level-not-a-level"
	}
	return ""
}

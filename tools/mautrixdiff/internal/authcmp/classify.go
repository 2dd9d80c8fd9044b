//go:build goexperiment.jsonv2

package authcmp

import (
	"strings"

	"github.com/roomproto/roomproto/tools/internal/authgen"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

func contentStr(e *authgen.Event, key string) string {
	s, _ := authgen.ContentOf(e)[key].(string)
	return s
}

// selected reports whether the events the rules read hold an event of type typ.
func (cc *caseCtx) has(typ string) bool {
	for _, a := range cc.auth {
		if a.Type == typ {
			return true
		}
	}
	return false
}

func (cc *caseCtx) creatorMismatch() bool {
	if cc.ver >= 11 {
		return false
	}
	return contentStr(cc.rm.Create, "creator") != authgen.Creator
}

var bigValues = []string{"99999999999999999999", "1e20", "1e+20", "-1e+20", "-1e20", "9223372036854775808", "100000000000000000000"}

func (cc *caseCtx) hasBig() bool {
	for _, e := range append(append([]*authgen.Event{}, cc.auth...), cc.final) {
		if e.Type != "m.room.power_levels" {
			continue
		}
		for _, big := range bigValues {
			if strings.Contains(string(e.Raw), big) {
				return true
			}
		}
	}
	return false
}

func classify(cc *caseCtx) string {
	c, rp, mx, ver := cc.c, cc.rp, cc.mx, cc.ver
	ms, _ := c.Content["membership"].(string)
	target := ""
	if c.StateKey != nil {
		target = *c.StateKey
	}
	switch c.Type {
	case "m.room.aliases":
		if ver <= 5 {
			return "M-aliases-rule-missing"
		}
	case "m.room.redaction":
		if ver <= 2 && (rp.fam == "Redaction" || mx.fam == "Redaction") {
			return "M-v1v2-redaction-rule-missing"
		}
	case "m.room.create":
		rv, _ := c.Content["room_version"].(string)
		if !rp.allow && rp.fam == "CreateRoomVersion" && mx.allow && rv == "99" {
			return "M-create-content-room-version-unchecked"
		}
	}
	if c.Type != "m.room.create" && !cc.has("m.room.power_levels") && cc.creatorMismatch() {
		return "M-creator-is-create-sender"
	}
	if c.Type == "m.room.member" {
		creator := authgen.Creator
		if ver <= 10 {
			creator = contentStr(cc.rm.Create, "creator")
		}
		firstJoin := ms == "join" && len(c.Opts.Prev) == 1 && c.Opts.Prev[0] == cc.rm.Create.ID && target == creator
		if firstJoin && rp.allow && !mx.allow && len(difftool.Decode(cc.final.Raw)["auth_events"].([]any)) > 1 {
			return "M-first-join-single-auth-event"
		}
		if _, ok := c.Content["third_party_invite"]; ok && ms == "invite" && rp.allow && mx.fam == "ThirdPartyInvite" {
			return "M-3pid-signature-never-verified"
		}
		if _, ok := c.Content["join_authorised_via_users_server"]; ok && ver < 8 && rp.allow && mx.fam == "AuthoriserSig" {
			return "M-authvia-checked-before-v8"
		}
	}
	if c.Type == "m.room.power_levels" {
		if ver <= 5 && rp.allow && !mx.allow && strings.Contains(mx.msg, "notifications.") {
			return "M-notifications-checked-before-v6"
		}
	}
	if c.Type == "m.room.member" {
		if v, ok := c.Content["join_authorised_via_users_server"]; ok && ver >= 8 && !rp.allow && rp.fam == "AuthoriserSig" && mx.allow {
			if s, isStr := v.(string); !isStr || !strings.Contains(s, ":") {
				return "C-authvia-not-a-user-id"
			}
		}
		if strings.Contains(c.Label, "@jr-nonstring") || strings.Contains(c.Label, "@jr-missing") {
			if !rp.allow && mx.allow && (rp.fam == "JoinNotAllowed" || rp.fam == "KnockNotAllowed") {
				return "C-join-rule-not-a-string"
			}
		}
	}
	if c.Type == "m.room.power_levels" && ver <= 9 && !rp.allow && rp.fam == "PLInvalid" && mx.allow && strings.Contains(rp.msg, "users[") && (strings.Contains(rp.msg, "is true") || strings.Contains(rp.msg, "is false")) {
		return "M-users-bool-level-accepted"
	}
	if c.Type == "m.room.power_levels" && !rp.allow && rp.fam == "PLInvalid" && mx.allow && strings.Contains(rp.msg, "is not a valid user ID") {
		return "M-users-key-validation-lax"
	}
	if cc.hasBig() {
		return "C-pl-value-beyond-int64"
	}
	if c.Type == "m.room.power_levels" && ver <= 9 && !rp.allow && rp.fam == "PLInvalid" && mx.allow && (rp.rule == "9" || rp.rule == "10") {
		return "C-v1-9-named-level-not-a-level"
	}
	return ""
}

package redaction_test

import (
	"bytes"
	"errors"
	"sort"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
)

// specLists are the redaction lists copied from the spec text of each fragment, independent of
// the roomversion flags that Redact reads: the model below checks both the flags and the code.
type specLists struct {
	top     []string
	content map[string][]string // nil slice: keep all keys
	tpi     bool                // m.room.member keeps third_party_invite.signed
}

func listsFor(id string) specLists {
	topV1 := []string{"event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
		"depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership"}
	pl := []string{"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
	switch id {
	case "1", "2", "3", "4", "5": // rooms/fragments/v1-redactions.md
		return specLists{top: topV1, content: map[string][]string{
			"m.room.member": {"membership"}, "m.room.create": {"creator"}, "m.room.join_rules": {"join_rule"},
			"m.room.power_levels": pl, "m.room.aliases": {"aliases"},
			"m.room.history_visibility": {"history_visibility"}}}
	case "6", "7": // rooms/fragments/v6-redactions.md
		return specLists{top: topV1, content: map[string][]string{
			"m.room.member": {"membership"}, "m.room.create": {"creator"}, "m.room.join_rules": {"join_rule"},
			"m.room.power_levels": pl, "m.room.history_visibility": {"history_visibility"}}}
	case "8": // rooms/v8.md "Redactions"
		return specLists{top: topV1, content: map[string][]string{
			"m.room.member": {"membership"}, "m.room.create": {"creator"}, "m.room.join_rules": {"join_rule", "allow"},
			"m.room.power_levels": pl, "m.room.history_visibility": {"history_visibility"}}}
	case "9", "10": // rooms/fragments/v9-redactions.md
		return specLists{top: topV1, content: map[string][]string{
			"m.room.member": {"membership", "join_authorised_via_users_server"}, "m.room.create": {"creator"},
			"m.room.join_rules": {"join_rule", "allow"}, "m.room.power_levels": pl,
			"m.room.history_visibility": {"history_visibility"}}}
	case "11", "12": // rooms/fragments/v11-redactions.md
		return specLists{
			top: []string{"event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
				"depth", "prev_events", "auth_events", "origin_server_ts"},
			content: map[string][]string{
				"m.room.member": {"membership", "join_authorised_via_users_server"}, "m.room.create": nil,
				"m.room.join_rules": {"join_rule", "allow"},
				"m.room.power_levels": {"ban", "events", "events_default", "invite", "kick", "redact",
					"state_default", "users", "users_default"},
				"m.room.history_visibility": {"history_visibility"}, "m.room.redaction": {"redacts"}},
			tpi: true}
	}
	panic("no spec lists for room version " + id) // test code
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// modelRedact is a slow, obviously-correct redaction: canonicalise the whole event, read its
// members with canonicaljson.EachMember into maps, filter them by the spec lists, and write the
// object back with sorted keys.
func modelRedact(v roomversion.Version, data []byte) ([]byte, error) {
	opts := canonicaljson.Options{Strict: v.Format.StrictCanonicalJSON}
	canon, err := canonicaljson.Append(nil, data, opts)
	if err != nil {
		return nil, err
	}
	if canonicaljson.KindOf(canon) != canonicaljson.Object {
		return nil, redaction.ErrNotObject
	}
	lists := listsFor(v.ID)
	top := map[string][]byte{}
	if err := canonicaljson.EachMember(canon, func(k string, val []byte) error {
		if contains(lists.top, k) {
			top[k] = val
		}
		return nil
	}); err != nil {
		return nil, err
	}
	typ := ""
	if t, ok := top["type"]; ok && canonicaljson.KindOf(t) == canonicaljson.String {
		typ, _ = canonicaljson.Unquote(t)
	}
	keys, known := lists.content[typ]
	content := map[string][]byte{}
	if c, ok := top["content"]; ok && canonicaljson.KindOf(c) == canonicaljson.Object && known {
		err := canonicaljson.EachMember(c, func(k string, val []byte) error {
			switch {
			case keys == nil, contains(keys, k):
				content[k] = val
			case lists.tpi && typ == "m.room.member" && k == "third_party_invite" && canonicaljson.KindOf(val) == canonicaljson.Object:
				inner := map[string][]byte{}
				err := canonicaljson.EachMember(val, func(k2 string, v2 []byte) error {
					if k2 == "signed" {
						inner[k2] = v2
					}
					return nil
				})
				content[k] = writeObject(inner)
				return err
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	top["content"] = writeObject(content)
	return writeObject(top), nil
}

func writeObject(m map[string][]byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(canonicaljson.AppendString(nil, k))
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

// compareWithModel checks Redact against modelRedact for one input: same bytes, or both errors.
func compareWithModel(t *testing.T, v roomversion.Version, data []byte) {
	t.Helper()
	got, err := redaction.Redact(v, data)
	want, merr := modelRedact(v, data)
	if (err != nil) != (merr != nil) {
		t.Fatalf("v%s %q: Redact error %v, model error %v", v.ID, data, err, merr)
	}
	if err != nil {
		if errors.Is(merr, redaction.ErrNotObject) != errors.Is(err, redaction.ErrNotObject) {
			t.Fatalf("v%s %q: Redact error %v, model error %v", v.ID, data, err, merr)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("v%s %q:\nRedact %s\nmodel  %s", v.ID, data, got, want)
	}
}

// TestRedactMatchesModel runs every fixture input through every room version, not only the
// versions the fixture lists, and compares Redact with the spec-list model.
func TestRedactMatchesModel(t *testing.T) {
	for _, c := range loadCases(t) {
		for _, v := range roomversion.All() {
			compareWithModel(t, v, c.input)
		}
	}
	c := loadCorpus(t)
	for _, e := range c.events {
		for _, v := range roomversion.All() {
			compareWithModel(t, v, e)
		}
	}
}

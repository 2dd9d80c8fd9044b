package misuse

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func TestRoomVersion(t *testing.T) {
	runProbes(t, []probe{
		{"All/mutating-result-does-not-change-Lookup-or-All", "", func(t *testing.T) {
			all := roomversion.All()
			all[0].ID = "x"
			all[8].Auth.RestrictedJoinRule = !all[8].Auth.RestrictedJoinRule
			again := roomversion.All()
			if again[0].ID != "1" {
				t.Fatal("All shares its slice")
			}
			v9, _ := roomversion.Lookup("9")
			if v9.Check() != nil || v9.Auth.RestrictedJoinRule != true {
				t.Fatal("Lookup changed")
			}
		}},
		{"Version/zero-Check-refuses", "", func(t *testing.T) {
			err := roomversion.Version{}.Check()
			var uv *roomversion.UnknownVersionError
			if !errors.Is(err, roomversion.ErrUnknownVersion) || !errors.As(err, &uv) {
				t.Fatal(err)
			}
		}},
		{"Version/altered-copy-Check-refuses", "", func(t *testing.T) {
			v, _ := roomversion.Lookup("9")
			v.Auth.RestrictedJoinRule = false
			var uv *roomversion.UnknownVersionError
			if err := v.Check(); !errors.As(err, &uv) || !uv.Altered {
				t.Fatal(err)
			}
		}},
		{"Version/zero-feature-getters", "", func(t *testing.T) {
			var v roomversion.Version
			if v.Knocking() || v.RestrictedJoins() || v.KnockRestrictedJoins() || v.AdditionalCreators() {
				t.Fatal("zero Version claims a feature")
			}
		}},
	})
}

func TestPDU(t *testing.T) {
	v := claimkit.Ver(t, "9")
	msg := raw(t, v, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA, "content": obj{"body": "hi", "n": obj{"x": 1}}, "unsigned": obj{"age": 5}})
	runProbes(t, []probe{
		{"Parse/zero-version", "", func(t *testing.T) {
			_, err := pdu.Parse(roomversion.Version{}, msg)
			if !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"Parse/input-not-modified", "", func(t *testing.T) {
			in := clone(msg)
			if _, err := pdu.Parse(v, in); err != nil || !bytes.Equal(in, msg) {
				t.Fatal(err)
			}
		}},
		{"Parse/non-canonical-input-is-copied", "", func(t *testing.T) {
			// lenient v1-5: a non-canonical input is copied, so reusing the buffer is safe.
			v1 := claimkit.Ver(t, "4")
			b := raw(t, v1, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA, "content": obj{"body": "hi"}})
			in := append([]byte(" "), b...)
			e, err := pdu.Parse(v1, in)
			if err != nil {
				t.Fatal(err)
			}
			scribble(in)
			if !bytes.Equal(e.Raw(), b) || e.ContentField("body") == nil {
				t.Fatalf("Event shares the non-canonical input: %s", e.Raw())
			}
		}},
		{"Parse/string-fields-survive-buffer-reuse", "", func(t *testing.T) {
			// The docs say the Event keeps canonical data (must not be modified); its string
			// fields are strings, which Go guarantees immutable: check they are copies.
			in := clone(msg)
			e, err := pdu.Parse(v, in)
			if err != nil {
				t.Fatal(err)
			}
			sender, typ, sig := e.Sender, e.Type, e.Signatures[0].Value
			scribble(in)
			if sender != "@alice:a.example" || typ != "m.room.message" || e.Signatures[0].Value != sig {
				t.Fatalf("string fields alias the input: %q %q", sender, typ)
			}
		}},
		{"ContentField/append-on-result-does-not-change-Raw", "", func(t *testing.T) {
			e, _ := pdu.Parse(v, clone(msg))
			before := clone(e.Raw())
			f := e.ContentField("body")
			_ = append(f, `XXXXXXXX`...)
			if !bytes.Equal(e.Raw(), before) {
				t.Fatalf("append on ContentField wrote into Raw: %s", e.Raw())
			}
		}},
		{"Content/append-does-not-change-Raw", "", func(t *testing.T) {
			e, _ := pdu.Parse(v, clone(msg))
			before := clone(e.Raw())
			_ = append(e.Content, `XXXXXXXX`...)
			if !bytes.Equal(e.Raw(), before) {
				t.Fatalf("append on Content wrote into Raw: %s", e.Raw())
			}
		}},
		{"Unsigned/append-does-not-change-Raw", "", func(t *testing.T) {
			e, _ := pdu.Parse(v, clone(msg))
			before := clone(e.Raw())
			_ = append(e.Unsigned, `XXXXXXXX`...)
			if !bytes.Equal(e.Raw(), before) {
				t.Fatalf("append on Unsigned wrote into Raw: %s", e.Raw())
			}
		}},
		{"Raw/append-does-not-change-caller-bytes-beyond", "", func(t *testing.T) {
			buf := append(clone(msg), "tail"...)
			e, err := pdu.Parse(v, buf[:len(msg)])
			if err != nil {
				t.Fatal(err)
			}
			_ = append(e.Raw(), "ZZZZ"...)
			if string(buf[len(msg):]) != "tail" {
				t.Fatalf("append on Raw wrote into the caller's buffer past the event")
			}
		}},
		{"Signatures/Map-is-a-copy", "", func(t *testing.T) {
			e, _ := pdu.Parse(v, clone(msg))
			m := e.Signatures.Map()
			m["a.example"]["ed25519:1"] = "forged"
			if s, _ := e.Signatures.Get("a.example", "ed25519:1"); s == "forged" {
				t.Fatal("Map shares state")
			}
		}},
		{"Signatures/append-on-Server-result", "", func(t *testing.T) {
			// Server "shares the list's memory": append on it may overwrite the next
			// server's entry. Documented sharing; assert append is safe (full slice expr).
			b := raw(t, v, obj{"type": "m.room.message", "sender": "@alice:a.example", "room_id": roomA})
			b2, _ := signingCountersign(t, v, b, "b.example")
			e, err := pdu.Parse(v, b2)
			if err != nil {
				t.Fatal(err)
			}
			before := slices.Clone(e.Signatures)
			_ = append(e.Signatures.Server("a.example"), pdu.Signature{Server: "a.example", KeyID: "ed25519:zz", Value: "x"})
			if !slices.Equal(before, e.Signatures) {
				t.Fatalf("append on Signatures.Server overwrote another server's signature: %v", e.Signatures)
			}
		}},
		{"ParseIndexed/index-reuse-after-error", "", func(t *testing.T) {
			var idx canonicaljson.Index
			if _, err := pdu.ParseIndexed(v, []byte(`{"type":1}`), &idx); err == nil {
				t.Fatal("no error")
			}
			e, err := pdu.ParseIndexed(v, clone(msg), &idx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range idx.Members {
				if string(m.Key(e.Raw())) == "content" && e.Raw()[m.Value] != '{' {
					t.Fatal("index wrong")
				}
			}
		}},
		{"Event/hand-made-methods", "", func(t *testing.T) {
			e := &pdu.Event{Type: "m.room.member"}
			if e.Raw() != nil || e.ContentField("x") != nil || e.HasKey("type") || e.IsState() || e.Room() != "" {
				t.Fatalf("hand-made event: raw=%q hasKey=%v room=%q", e.Raw(), e.HasKey("type"), e.Room())
			}
			if s, ok := e.ContentString("membership"); ok || s != "" {
				t.Fatal("ContentString")
			}
			if a, b := e.RawContentSpan(); a != 0 || b != 0 {
				t.Fatal("span")
			}
		}},
		{"Event/nil-Signatures-methods", "", func(t *testing.T) {
			var s pdu.Signatures
			if s.Signed("a") || len(s.Server("a")) != 0 || len(s.Map()) != 0 {
				t.Fatal("nil Signatures")
			}
			if _, ok := s.Get("a", "b"); ok {
				t.Fatal("Get")
			}
		}},
	})
}

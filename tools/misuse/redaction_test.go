package misuse

import (
	"bytes"
	"errors"
	"testing"

	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/redaction"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

func TestRedaction(t *testing.T) {
	v8, v9, v11 := claimkit.Ver(t, "8"), claimkit.Ver(t, "9"), claimkit.Ver(t, "11")
	target := func(v roomversion.Version, room string) *pdu.Event {
		return ev(t, v, obj{"type": "m.room.message", "sender": "@bob:b.example", "room_id": room, "content": obj{"body": "secret"}})
	}
	red := func(v roomversion.Version, room string, tg *pdu.Event, sender string) *pdu.Event {
		e := obj{"type": "m.room.redaction", "sender": sender, "room_id": room, "content": obj{}}
		if v.Redaction.KeepRedactionRedacts {
			e["content"] = obj{"redacts": tg.EventID}
		} else {
			e["redacts"] = tg.EventID
		}
		return ev(t, v, e)
	}
	t9 := target(v9, roomA)
	r9 := red(v9, roomA, t9, "@alice:a.example")
	runProbes(t, []probe{
		{"Redact/zero-version", "", func(t *testing.T) {
			if _, err := redaction.Redact(roomversion.Version{}, t9.Raw()); !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatal(err)
			}
		}},
		{"Redact/input-not-modified-result-not-shared", "", func(t *testing.T) {
			in := clone(t9.Raw())
			out, err := redaction.Redact(v9, in)
			if err != nil || !bytes.Equal(in, t9.Raw()) {
				t.Fatal(err)
			}
			keep := clone(out)
			scribble(in)
			if !bytes.Equal(out, keep) {
				t.Fatal("result shares input")
			}
		}},
		{"RedactCanonical/result-not-shared", "", func(t *testing.T) {
			in := clone(t9.Raw())
			out, err := redaction.RedactCanonical(v9, in)
			if err != nil {
				t.Fatal(err)
			}
			keep := clone(out)
			scribble(in)
			if !bytes.Equal(out, keep) {
				t.Fatalf("RedactCanonical result aliases its input")
			}
		}},
		{"AppendSignedBytes/zero-version-and-dst-kept", "", func(t *testing.T) {
			dst := []byte("abc")
			out, err := redaction.AppendSignedBytes(dst, roomversion.Version{}, t9.Raw())
			if !errors.Is(err, roomversion.ErrUnknownVersion) || string(out) != "abc" {
				t.Fatalf("%q %v", out, err)
			}
		}},
		{"ApplyRedaction/versions-differ", "", func(t *testing.T) {
			t8 := target(v8, roomA)
			r := red(v9, roomA, t8, "@alice:a.example") // redacts t8's ID, parsed for v9
			if _, err := redaction.ApplyRedaction(t8, r); !errors.Is(err, redaction.ErrWrongTarget) {
				t.Fatal(err)
			}
		}},
		{"ApplyRedaction/other-room", "", func(t *testing.T) {
			r := red(v9, roomB, t9, "@alice:a.example")
			if _, err := redaction.ApplyRedaction(t9, r); !errors.Is(err, redaction.ErrWrongTarget) {
				t.Fatal(err)
			}
		}},
		{"ApplyRedaction/target-without-EventID", "", func(t *testing.T) {
			tg, _ := pdu.Parse(v9, t9.Raw()) // no EventID
			r := red(v9, roomA, &pdu.Event{EventID: ""}, "@alice:a.example")
			if _, err := redaction.ApplyRedaction(tg, r); !errors.Is(err, redaction.ErrWrongTarget) {
				t.Fatal(err)
			}
		}},
		{"ApplyRedaction/nil-events", "", func(t *testing.T) {
			_, err := redaction.ApplyRedaction(nil, r9)
			var re *redaction.Error
			if !errors.As(err, &re) {
				t.Fatalf("ApplyRedaction(nil, r) = %v", err)
			}
			_, err = redaction.ApplyRedaction(t9, nil)
			if !errors.As(err, &re) {
				t.Fatalf("ApplyRedaction(t, nil) = %v", err)
			}
		}},
		{"ApplyRedaction/hand-made-events", "", func(t *testing.T) {
			tg := &pdu.Event{EventID: "$x", RoomID: roomA, Type: "m.room.message"}
			r := &pdu.Event{EventID: "$r", RoomID: roomA, Type: "m.room.redaction", Redacts: "$x"}
			// zero Version: refused as the package doc says for the zero Version.
			_, err := redaction.ApplyRedaction(tg, r)
			if !errors.Is(err, roomversion.ErrUnknownVersion) {
				t.Fatalf("hand-made events: %v", err)
			}
		}},
		{"ApplyRedaction/inputs-not-modified", "", func(t *testing.T) {
			a, b := clone(t9.Raw()), clone(r9.Raw())
			out, err := redaction.ApplyRedaction(t9, r9)
			if err != nil || !bytes.Equal(a, t9.Raw()) || !bytes.Equal(b, r9.Raw()) {
				t.Fatal(err)
			}
			_ = append(out, "zzzzzzzzzzzzzzzz"...)
			if !bytes.Equal(b, r9.Raw()) || !bytes.Equal(a, t9.Raw()) {
				t.Fatal("append on output changed an input")
			}
		}},
		{"Decide/zero-version-not-Apply", "", func(t *testing.T) {
			d, why := redaction.Decide(roomversion.Version{}, r9, t9, 100, 50)
			if d != redaction.Ignore {
				t.Fatalf("Decide(zero Version) = %v (%s)", d, why)
			}
		}},
		{"Decide/redaction-of-other-version-ignored", "", func(t *testing.T) {
			t8 := target(v8, roomA)
			r8 := red(v8, roomA, t8, "@alice:a.example")
			if d, why := redaction.Decide(v9, r8, t8, 100, 50); d != redaction.Ignore {
				t.Fatalf("%v %s", d, why)
			}
		}},
		{"Decide/target-of-other-version-ignored", "", func(t *testing.T) {
			t8 := target(v8, roomA)
			r := red(v9, roomA, t8, "@alice:a.example")
			if d, why := redaction.Decide(v9, r, t8, 100, 50); d != redaction.Ignore {
				t.Fatalf("%v %s", d, why)
			}
		}},
		{"Decide/v11-redacts-in-content-vs-v9", "", func(t *testing.T) {
			t11 := target(v11, roomA)
			r11 := red(v11, roomA, t11, "@alice:a.example")
			if d, why := redaction.Decide(v9, r11, t11, 100, 50); d != redaction.Ignore {
				t.Fatalf("%v %s", d, why)
			}
		}},
		{"Decide/other-room-ignored", "", func(t *testing.T) {
			r := red(v9, roomB, t9, "@alice:a.example")
			if d, why := redaction.Decide(v9, r, t9, 100, 50); d != redaction.Ignore {
				t.Fatalf("%v %s", d, why)
			}
		}},
		{"Decide/nil-redaction", "", func(t *testing.T) {
			if d, why := redaction.Decide(v9, nil, t9, 100, 50); d != redaction.Ignore {
				t.Fatalf("%v %s", d, why)
			}
		}},
		{"Decide/hand-made-redaction-zero-version", "", func(t *testing.T) {
			// Decide requires both events parsed for v; a hand-made one (zero Version) is
			// not, and nothing documents reading it as v (unlike authrules).
			r := &pdu.Event{EventID: "$r", RoomID: roomA, Type: "m.room.redaction", Redacts: t9.EventID, Sender: "@alice:a.example"}
			d, why := redaction.Decide(v9, r, t9, 100, 50)
			t.Logf("hand-made redaction: %v (%s)", d, why)
		}},
		{"Decide/target-without-EventID", "", func(t *testing.T) {
			tg, _ := pdu.Parse(v9, t9.Raw())
			if d, why := redaction.Decide(v9, r9, tg, 100, 50); d == redaction.Apply {
				t.Fatalf("%v %s", d, why)
			}
		}},
		{"DecideCompared/zero-version", "", func(t *testing.T) {
			if d, why := redaction.DecideCompared(roomversion.Version{}, r9, t9, 1); d != redaction.Ignore {
				t.Fatalf("%v %s", d, why)
			}
		}},
	})
}

package claimsd

import (
	"errors"
	"regexp"
	"strconv"
	"testing"

	"github.com/roomproto/roomproto/canonicaljson"
	"github.com/roomproto/roomproto/pdu"
	"github.com/roomproto/roomproto/roomversion"
	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// SECURITY.md limits table, depth row (changed): "0 to 2^63-1 (v1-5), 0 to 2^53-1 (v6+) ...
// pdu.Parse ... ErrOutOfRange below 0 and beyond int64 (v1-5); ErrNotJSON wrapping
// canonicaljson.ErrIntegerRange (v6+)".
func TestDepthLimits(t *testing.T) {
	depthRe := regexp.MustCompile(`"depth":-?\d+`)
	for _, id := range claimkit.VersionIDs() {
		r := buildRoom(t, id, "")
		v := r.v
		strict := v.Format.MaxDepth <= 1<<53 // v6+
		for _, c := range []struct {
			depth string
			want  string // "ok", "range" (FormatError depth ErrOutOfRange), "notjson" (ErrNotJSON + ErrIntegerRange)
		}{
			{"0", "ok"},
			{"-1", "range"},
			{"9007199254740991", "ok"},
			{"9007199254740992", map[bool]string{true: "notjson", false: "ok"}[strict]},
			{"9223372036854775807", map[bool]string{true: "notjson", false: "ok"}[strict]},
			{"9223372036854775808", map[bool]string{true: "notjson", false: "range"}[strict]},
			{"-9223372036854775809", map[bool]string{true: "notjson", false: "range"}[strict]},
			{"100000000000000000000000", map[bool]string{true: "notjson", false: "range"}[strict]},
		} {
			t.Run("v"+id+"/"+c.depth, func(t *testing.T) {
				raw := depthRe.ReplaceAll(r.msg.Raw(), []byte(`"depth":`+c.depth))
				_, err := pdu.Parse(v, raw)
				var fe *pdu.FormatError
				switch c.want {
				case "ok":
					if err != nil {
						t.Errorf("%v", err)
					}
				case "range":
					if !errors.As(err, &fe) || fe.Field != "depth" || !errors.Is(err, pdu.ErrOutOfRange) {
						t.Errorf("%v, want FormatError{depth, ErrOutOfRange}", err)
					}
				case "notjson":
					if !errors.Is(err, pdu.ErrNotJSON) || !errors.Is(err, canonicaljson.ErrIntegerRange) {
						t.Errorf("%v, want ErrNotJSON wrapping ErrIntegerRange", err)
					}
				}
			})
		}
		t.Run("v"+id+"/MaxDepth", func(t *testing.T) {
			want := int64(1<<63 - 1)
			if id >= "6" || len(id) == 2 {
				want = 1<<53 - 1
			}
			if v.Format.MaxDepth != want {
				t.Errorf("MaxDepth %d, want %d", v.Format.MaxDepth, want)
			}
		})
	}
}

// SECURITY.md, thirteenth fuzz session: "Lookup, Known and ValidIdentifier never panic and
// agree; a found version has the identifier asked for and passes Check; any other identifier
// gets an *UnknownVersionError naming it".
func TestLookupKnownAgree(t *testing.T) {
	ids := append([]string{}, claimkit.VersionIDs()...)
	ids = append(ids, "", "0", "13", "1 ", " 1", "01", "org.matrix.msc2176", "9\x00", "é", "a.b-c", strconv.Itoa(1<<30))
	for _, v := range roomversion.All() {
		ids = append(ids, v.ID)
	}
	for _, id := range ids {
		v, err := roomversion.Lookup(id)
		known := roomversion.Known(id)
		if (err == nil) != known {
			t.Errorf("%q: Lookup err %v, Known %v", id, err, known)
		}
		if known && !roomversion.ValidIdentifier(id) {
			t.Errorf("%q known but not a valid identifier", id)
		}
		if err == nil {
			if v.ID != id || v.Check() != nil {
				t.Errorf("%q: found %q, Check %v", id, v.ID, v.Check())
			}
			continue
		}
		var ue *roomversion.UnknownVersionError
		if !errors.As(err, &ue) || ue.ID != id || !errors.Is(err, roomversion.ErrUnknownVersion) {
			t.Errorf("%q: %v (%T), want an *UnknownVersionError naming it", id, err, err)
		}
	}
}

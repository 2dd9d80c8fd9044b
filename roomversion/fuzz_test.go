package roomversion_test

import (
	"errors"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
)

// FuzzLookup feeds Lookup, Known and ValidIdentifier arbitrary identifiers, as a create
// event's `room_version` or make_join's `ver` bring them: they never panic and agree with each
// other; a found version has the identifier asked for and passes Check, and every other
// identifier gets an *UnknownVersionError naming it.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{"", "1", "9", "12", "13", "01", "1 ", "org.matrix.msc2176", "\x00", "12\x00", "ä"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		v, err := roomversion.Lookup(id)
		if (err == nil) != roomversion.Known(id) {
			t.Fatalf("Lookup(%q): %v, Known %v", id, err, roomversion.Known(id))
		}
		if err == nil {
			if v.ID != id || v.Check() != nil || !roomversion.ValidIdentifier(id) {
				t.Fatalf("Lookup(%q) = %q; Check %v; ValidIdentifier %v", id, v.ID, v.Check(), roomversion.ValidIdentifier(id))
			}
			return
		}
		var uv *roomversion.UnknownVersionError
		if !errors.Is(err, roomversion.ErrUnknownVersion) || !errors.As(err, &uv) || uv.ID != id || uv.Altered {
			t.Fatalf("Lookup(%q): %#v", id, err)
		}
		if (roomversion.Version{ID: id}).Check() == nil {
			t.Fatalf("a zero Version named %q passes Check", id)
		}
	})
}

package authrules

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestLenientDuplicateLevels: reading levels leniently (the state's power levels), a key's
// last occurrence wins, and an invalid last occurrence removes the key; checked against a
// sequential reading on random objects full of duplicates, for users, events and
// notifications.
func TestLenientDuplicateLevels(t *testing.T) {
	v := mustVersion(t, "10")
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 500; round++ {
		var sb strings.Builder
		want := map[string]int64{}
		sb.WriteString("{")
		for i, n := 0, rng.IntN(40); i < n; i++ {
			key := fmt.Sprintf("@u%d:x", rng.IntN(8))
			if i > 0 {
				sb.WriteString(",")
			}
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&sb, "%q:\"bad\"", key)
				delete(want, key)
			} else {
				val := rng.Int64N(100)
				fmt.Fprintf(&sb, "%q:%d", key, val)
				want[key] = val
			}
		}
		sb.WriteString("}")
		obj := sb.String()
		content := []byte(`{"users":` + obj + `,"events":` + obj + `,"notifications":` + obj + `}`)
		pl, rej := parsePowerLevels(v, content, false)
		if rej != nil {
			t.Fatalf("%s: %v", content, rej)
		}
		for _, kind := range []levelKind{kindUsers, kindEvents, kindNotifications} {
			got := map[string]int64{}
			for _, l := range pl.levels(kind) {
				got[l.key] = l.value
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("kind %d of %s: got %v, want %v", kind, obj, got, want)
			}
		}
	}
}

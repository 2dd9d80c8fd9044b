package pyref

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGroups(t *testing.T) {
	type ex struct{ Name string }
	gs := Groups[*ex]{}
	a, b, c, d := &ex{"a"}, &ex{"b"}, &ex{"c"}, &ex{"d"}
	gs.Add("k2", "12", a, 10)
	gs.Add("k2", "1", b, 5)
	gs.Add("k2", "12", c, 5) // not smaller than b
	gs.Add("k1", "", d, 1)   // no version
	sorted := gs.Sorted()
	if len(sorted) != 2 || sorted[0].Key != "k1" || sorted[1].Key != "k2" {
		t.Fatalf("Sorted = %+v", sorted)
	}
	g := gs["k2"]
	if g.Count != 3 || g.First != a || g.Small != b || FormatVersions(g.Versions) != "v1:1 v12:2" {
		t.Fatalf("k2 = %+v", g)
	}
	if g := gs["k1"]; g.Count != 1 || g.First != d || g.Small != d || len(g.Versions) != 0 {
		t.Fatalf("k1 = %+v", g)
	}
	j, _ := json.Marshal(gs["k1"])
	if string(j) != `{"key":"k1","count":1,"first":{"Name":"d"},"smallest":{"Name":"d"}}` {
		t.Fatalf("JSON = %s", j)
	}

	var w strings.Builder
	gs.Print(&w, false, nil)
	want := "     1  k1  versions \n        {\n          \"Name\": \"d\"\n        }\n" +
		"     3  k2  versions v1:1 v12:2\n        {\n          \"Name\": \"b\"\n        }\n"
	if w.String() != want {
		t.Fatalf("Print:\n%s\nwant:\n%s", w.String(), want)
	}
	w.Reset()
	gs.Print(&w, true, func(e *ex) any { return e.Name })
	want = "     1  k1  versions \n        \"d\"\n" +
		"     3  k2  versions v1:1 v12:2\n        \"a\"\n        \"b\"\n"
	if w.String() != want {
		t.Fatalf("Print verbose:\n%s\nwant:\n%s", w.String(), want)
	}
}

func TestStripDetail(t *testing.T) {
	for in, want := range map[string]string{"reject (rule 4.2)": "reject", "allow": "allow", "": ""} {
		if got := StripDetail(in); got != want {
			t.Errorf("StripDetail(%q) = %q, want %q", in, got, want)
		}
	}
}

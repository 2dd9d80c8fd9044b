package difftool

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func fakeArea(run func(t *Tally, n int, seed int64)) *Area {
	return &Area{Name: "fake", Title: "a fake area", DefaultN: 3,
		Classes: []*Class{{"K", SpecSilent, "known", "none"}, {"B", OracleDeparts, "oracle | departs", "spec"}},
		Run:     run}
}

func TestTallyCounts(t *testing.T) {
	a := fakeArea(nil)
	tl := NewTally(a)
	tl.Agree()
	tl.Diverge("K", "s1", "a longer example")
	tl.Diverge("K", "s2", "short")
	tl.Diverge("", "new", "x")
	tl.Problem("harness", "y")
	if tl.Compared != 4 || tl.Agreed != 1 || tl.Classified() != 2 || tl.Unclassified() != 2 || tl.Count("K") != 2 || tl.Count("B") != 0 {
		t.Errorf("counts: compared %d agreed %d classified %d unclassified %d", tl.Compared, tl.Agreed, tl.Classified(), tl.Unclassified())
	}
	if !tl.Known("B") || tl.Known("Z") || tl.Area() != a {
		t.Error("Known / Area")
	}
	var b bytes.Buffer
	tl.Print(&b, true)
	for _, want := range []string{"== fake: a fake area", "compared 4, agreed 1, diverged 3 (unclassified 2)", "smallest: short", "      1  s1", "UNCLASSIFIED      1  harness"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Print lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	a.ClassTable(&b)
	if !strings.Contains(b.String(), `oracle \| departs`) {
		t.Errorf("ClassTable does not escape |:\n%s", b.String())
	}
}

func TestUnknownClassPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic on an unknown class")
		}
	}()
	NewTally(fakeArea(nil)).Diverge("nosuch", "", "")
}

func TestToolExitStatus(t *testing.T) {
	var setup bool
	ok := &Tool{Name: "fake", Banner: "x vs y", Setup: func() { setup = true },
		Areas: []*Area{fakeArea(func(t *Tally, n int, seed int64) {
			for range n {
				t.Agree()
			}
			t.Diverge("K", "sig", "example")
		})}}
	var out, errb bytes.Buffer
	if code := ok.Run([]string{"fake", "-seed", "4"}, &out, &errb); code != 0 || !setup {
		t.Errorf("exit %d (setup %v), want 0\n%s", code, setup, out.String())
	}
	if !strings.Contains(out.String(), "fake: x vs y, seed 4") || !strings.Contains(out.String(), "compared 4, agreed 3") {
		t.Errorf("output:\n%s", out.String())
	}
	if code := ok.Run([]string{"nosuch"}, &out, &errb); code != 2 {
		t.Errorf("unknown area: exit %d, want 2", code)
	}
	if code := ok.Run([]string{"-nosuchflag"}, &out, &errb); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	out.Reset()
	if code := ok.Run([]string{"-classes"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "| `K` | c | known | none |") {
		t.Errorf("-classes: exit %d\n%s", code, out.String())
	}
	bad := &Tool{Name: "fake", Areas: []*Area{fakeArea(func(t *Tally, n int, seed int64) {
		t.Diverge("", "new signature", "the smallest example")
		t.Diverge("", "new signature", "a much longer example than the first one")
	})}}
	out.Reset()
	if code := bad.Run(nil, &out, &errb); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{"UNCLASSIFIED      2  new signature", "smallest: the smallest example", "FAIL: 2 divergences"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunAreasIndependentOfJobs(t *testing.T) {
	a := fakeArea(func(t *Tally, n int, seed int64) {
		for i := range n {
			if (int64(i)+seed)%3 == 0 {
				t.Diverge("K", "s", strings.Repeat("x", i))
			} else {
				t.Agree()
			}
		}
	})
	b := *a
	b.Name = "other"
	r1 := Report(RunAreas([]*Area{a, &b}, 50, 2, 1))
	r2 := Report(RunAreas([]*Area{a, &b}, 50, 2, 4))
	if r1 != r2 {
		t.Errorf("reports differ with -j:\n%s\n---\n%s", r1, r2)
	}
}

func TestSortedValues(t *testing.T) {
	got := SortedValues(map[string]int{"b": 2, "a": 1, "c": 3})
	if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("SortedValues = %v", got)
	}
}

func TestSortedVersions(t *testing.T) {
	got := SortedVersions(map[string]int{"10": 1, "2": 1, "1": 1, "12": 1, "9": 1})
	if want := []string{"1", "2", "9", "10", "12"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

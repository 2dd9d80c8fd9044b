package main

import (
	"slices"
	"strings"
	"testing"
)

const tiny = `package p

const limit = 8

func f(a, b int, ok bool) (int, error) {
	if a < limit && ok {
		b = a
	}
	g()
	if err := h(); err != nil {
		return 0, err
	}
	return sub("4.3", 2), nil
}
`

// TestEnumerateTiny checks the exact mutants of a small source: every operator once.
func TestEnumerateTiny(t *testing.T) {
	ms, err := Enumerate("p", "p/p.go", []byte(tiny))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.ID+" "+m.Describe())
	}
	want := []string{
		"p/p.go:3:15:int+1#1 p/p.go:3 '8' -> '9'",
		"p/p.go:3:15:int-1#1 p/p.go:3 '8' -> '7'",
		"p/p.go:6:5:negate-if#1 p/p.go:6 'a < limit && ok' -> '!(a < limit && ok)'",
		"p/p.go:6:7:rel#1 p/p.go:6 '<' -> '<='",
		"p/p.go:6:15:logic#1 p/p.go:6 '&&' -> '||'",
		"p/p.go:7:3:delete#1 p/p.go:7 'b = a' -> ''",
		"p/p.go:9:2:delete#1 p/p.go:9 'g()' -> ''",
		"p/p.go:10:17:negate-if#1 p/p.go:10 'err != nil' -> '!(err != nil)'",
		"p/p.go:10:21:rel#1 p/p.go:10 '!=' -> '=='",
		"p/p.go:11:13:return-nil#1 p/p.go:11 'err' -> 'nil'",
		"p/p.go:13:13:rule#1 p/p.go:13 '\"4.3\"' -> '\"4.4\"'",
		"p/p.go:13:20:rule+1#1 p/p.go:13 '2' -> '3'",
		"p/p.go:13:20:rule-1#1 p/p.go:13 '2' -> '1'",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mutants:\n%q\nwant:\n%q", got, want)
	}
	for _, m := range ms {
		if m.Func == "" && m.Line != 3 {
			t.Errorf("%s: no enclosing function", m.ID)
		}
	}
	if got := string(ms[3].Apply([]byte(tiny))); got != strings.Replace(tiny, "a < limit", "a <= limit", 1) {
		t.Errorf("Apply: %q", got)
	}
}

// TestSampleCoversEveryFunction: a sample smaller than the number of functions still has one
// mutant of each function, and the same seed gives the same sample.
func TestSampleCoversEveryFunction(t *testing.T) {
	src := "package p\nfunc a() bool { return true }\nfunc b() bool { return false }\nfunc c(x int) bool { return x < 1 || x > 2 }\n"
	ms, err := Enumerate("p", "p/p.go", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 9 { // true, false; c: <, >, ||, 1+1, 1-1, 2+1, 2-1
		t.Fatalf("%d mutants, want 9", len(ms))
	}
	s := Sample(ms, 1, 7)
	funcs := map[string]bool{}
	for _, m := range s {
		funcs[m.Func] = true
	}
	if len(s) != 3 || len(funcs) != 3 {
		t.Errorf("sample %v: want one mutant of each of a, b, c", s)
	}
	if !slices.Equal(s, Sample(ms, 1, 7)) {
		t.Error("Sample is not deterministic")
	}
	if len(Sample(ms, 5, 7)) != 5 {
		t.Error("Sample(5) does not give 5")
	}
}

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/signing"
	"github.com/roomproto/roomproto/tools/internal/difftool"
)

// needOracle skips the test when /usr/bin/python3 lacks Debian's python3-canonicaljson and
// python3-signedjson (apt-get install -y python3-canonicaljson python3-signedjson).
func needOracle(t *testing.T) *oracle {
	t.Helper()
	if err := exec.Command(defaultPython, "-c", "import canonicaljson, signedjson.sign, nacl.signing").Run(); err != nil {
		t.Skipf("%s lacks canonicaljson/signedjson (apt-get install -y python3-canonicaljson python3-signedjson): %v", defaultPython, err)
	}
	o, err := getOracle()
	if err != nil {
		t.Skipf("the helper does not start: %v", err)
	}
	return o
}

// TestCanonClassifier: each class of area canon on its minimal reproducer.
func TestCanonClassifier(t *testing.T) {
	py := needOracle(t)
	for _, tc := range []struct {
		in     string
		strict bool
		want   string // "" means the two sides agree
	}{
		{`{"b":1,"a":"\u00e9\ud83d\ude00\u2028"}`, false, ""},
		{`{"\uffff":1,"😀":2}`, true, ""},
		{`["\u001F\b\/",9007199254740993]`, false, ""},
		{`[1e10]`, false, "P1-float-repr"},
		{`[1.50]`, false, "P1-float-repr"},
		{`[-0e5]`, false, "P1-float-repr"},
		{`[1.0]`, false, ""}, // Python's repr is the input
		{`[1e400]`, false, "P2-float-out-of-range"},
		{"[" + strings.Repeat("9", 4301) + "]", false, "P3-int-too-long"},
		{`["\ud800"]`, false, "P4-lone-surrogate"},
		{`["\ud800"]`, true, ""}, // both refuse
		{strings.Repeat("[", 128) + strings.Repeat("]", 128), false, "P5-too-deep"},
		{strings.Repeat("[", 5000) + strings.Repeat("]", 5000), false, ""},
		{`{"a":-0}`, true, "S1-negative-zero-accepted"},
		{`{"a":-0}`, false, ""},
		{`{"a":1,"\u0061":2}`, true, "S2-duplicate-keys"},
		{`{"a":1,"\u0061":2}`, false, ""},
		{`{"a":1.5,"a":2}`, true, "S2-duplicate-keys"}, // the float is hidden from Synapse
		{`[1.5]`, true, ""},
		{`[9007199254740992]`, true, ""},
		{"\ufeff{}", false, ""},
		{`[NaN]`, false, ""},
	} {
		o := canonBoth(py, []byte(tc.in), tc.strict)
		got := ""
		if !o.agree() {
			var sig string
			got, sig = classifyCanon(py, tc.strict, []byte(tc.in), o)
			if got == "" {
				got = "unclassified: " + sig
			}
		}
		if got != tc.want {
			t.Errorf("%s %.60q: got %q, want %q\n%s", modeName(tc.strict), tc.in, got, tc.want, o)
		}
	}
}

// TestSignClassifier: signatures are byte-identical on ordinary input; each class on its
// reproducer.
func TestSignClassifier(t *testing.T) {
	py := needOracle(t)
	seed := make([]byte, 32)
	key, err := signing.NewSigningKey("1", seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"a":1,"é":["x"],"unsigned":{"age":1},"signatures":{"o.test":{"ed25519:1":"AAAA"}}}`, ""},
		{`{"a":1e2}`, "G-P1-float-repr"},
		{`{"a":"\ud800"}`, "G-P4-lone-surrogate"},
		{`{"a":1,"unsigned":null}`, "G-unsigned-null-dropped"},
		{`{"a":1,"signatures":{"o.test":5}}`, ""}, // both sign and keep the entry (F1, fixed)
		{`{"a":1,"signatures":{"s.test":5}}`, ""}, // both refuse
	} {
		var tl = difftool.NewTally(signArea)
		compareSign(tl, py, []byte(tc.in), "s.test", key, seed)
		got := ""
		for _, c := range signArea.Classes {
			if tl.Count(c.ID) > 0 {
				got = c.ID
			}
		}
		if tl.Unclassified() > 0 {
			got = "unclassified"
		}
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestVerifyMessageClassifier: a signature roomproto accepts and Synapse refuses because the
// signed bytes differ is put in the class of what makes them differ.
func TestVerifyMessageClassifier(t *testing.T) {
	py := needOracle(t)
	for _, tc := range []struct{ in, want string }{
		{`{"a":1.50,"signatures":{}}`, "V2-message-float-repr"},
		{`{"a":"\ud800","signatures":{}}`, "V3-message-lone-surrogate"},
		{`{"a":` + strings.Repeat("9", 4301) + `,"signatures":{}}`, "V4-message-int-too-long"},
		{`{"a":1,"signatures":{}}`, ""},
	} {
		if got := classifyVerifyByMessage(py, []byte(tc.in), "valid", "invalid"); got != tc.want {
			t.Errorf("%.40s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFindingF1: a valid signature holds when another server's entry, or another algorithm's
// value, is not an object of strings, in roomproto as in Synapse (finding F1, fixed on
// 2026-11-30: roomproto refused the whole object).
func TestFindingF1(t *testing.T) {
	py := needOracle(t)
	key, _ := signing.NewSigningKey("1", make([]byte, 32))
	signed, err := signing.SignJSON([]byte(`{"a":1}`), "s.test", key)
	if err != nil {
		t.Fatal(err)
	}
	ring := signing.KeyRing{"s.test": {"ed25519:1": signing.PublicKey{Key: key.Public()}}}
	for _, junk := range []string{`"notary.test":5,`, `"notary.test":{"ed25519:1":5},`, `"a.test":[],"z.test":{"ed25519:x":{}},`} {
		obj := []byte(strings.Replace(string(signed), `"signatures":{`, `"signatures":{`+junk, 1))
		rpErr := signing.VerifyJSONServer(obj, "s.test", ring)
		pa := py.verify(obj, "s.test", map[string]map[string][]byte{"s.test": {"ed25519:1": key.Public()}})
		if rpErr != nil || !pa.OK {
			t.Errorf("%s: roomproto %v, Synapse ok=%v %s", junk, rpErr, pa.OK, pa.Err)
		}
		if err := signing.VerifyJSON(obj, ring); err != nil {
			t.Errorf("%s: VerifyJSON: %v", junk, err)
		}
	}
	algo := []byte(strings.Replace(string(signed), `"s.test":{`, `"s.test":{"curve25519:1":5,`, 1))
	if err := signing.VerifyJSONServer(algo, "s.test", ring); err != nil {
		t.Errorf("another algorithm's value a number: %v", err)
	}
}

// TestEd25519Cases: every crafted case can be built, and the cases that matter do what they
// say: crypto/ed25519 accepts them and libsodium refuses (so roomproto's extra checks are
// exercised), or all three accept.
func TestEd25519Cases(t *testing.T) {
	needOracle(t)
	a := *edArea
	if probs := difftool.CheckRun(&a, 2*len(edCases), 3, false); len(probs) > 0 {
		t.Fatal(strings.Join(probs, "\n"))
	}
	caseStatsMu.Lock()
	defer caseStatsMu.Unlock()
	for name, want := range map[string][3]bool{ // libsodium, crypto/ed25519
		"R = identity, S = k·a": {false, true},
		"R of small order (2, 4, 8), mixed-order key A+T, equation holds": {false, true},
		"key of small order, S = 0, R = −k·A":                             {false, true},
		"non-canonical identity key (y = p+1), R = identity, S = 0":       {false, true},
		"mixed-order key A+T, honest R, k·T = 0 (equation holds)":         {true, true},
		"honest, other key": {false, false},
	} {
		s := caseStats[name]
		if s == nil || s.n == 0 {
			t.Errorf("%s: never built", name)
			continue
		}
		if (s.sodium == s.n) != want[0] || (s.stdlib == s.n) != want[1] {
			t.Errorf("%s: %d checks, libsodium accepted %d, crypto/ed25519 %d", name, s.n, s.sodium, s.stdlib)
		}
	}
}

// TestSmallRuns: every area on a small run with seed 7: nothing unclassified, the same output
// twice.
func TestSmallRuns(t *testing.T) {
	needOracle(t)
	for _, a := range areas {
		n := 150
		switch a.Name {
		case "verify", "bulk":
			n = 30
		}
		if probs := difftool.CheckRun(a, n, 7, true); len(probs) > 0 {
			t.Errorf("area %s:\n%s", a.Name, strings.Join(probs, "\n"))
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if oracleVal != nil {
		oracleVal.close()
	}
	os.Exit(code)
}

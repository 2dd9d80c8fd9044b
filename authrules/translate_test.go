package authrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/roomversion"
)

// translate regenerates testdata/authrules/translated_v*.json: go test ./authrules -run
// TestTranslateFixtures -translate.
var translate = flag.Bool("translate", false, "regenerate testdata/authrules/translated_v*.json from the v8-9 cases")

// ruleTexts names the text of each rule set, for the spec field of translated cases.
var ruleTexts = map[string]string{
	"v1": "rooms/fragments/v1-auth-rules.md", "v3": "rooms/fragments/v3-auth-rules.md",
	"v6": "rooms/v6.md", "v7": "rooms/v7.md", "v8": "rooms/fragments/v8-auth-rules.md",
	"v10": "rooms/v10.md", "v11": "rooms/v11.md", "v12": "rooms/v12.md",
}

// translationTargets is one room version per rule set other than v8's.
var translationTargets = []string{"1", "3", "6", "7", "10", "11", "12"}

// TestTranslateFixtures, with -translate, writes the cases of room versions 8 and 9 again for
// one room version of each other rule set, keeping those that add a rule number, on its
// allowing or rejecting side, that the table did not yet cover for that rule set (as
// TestFixtureCoverageAllRuleSets counts). Their expected verdicts and rule numbers are this
// package's, so they are only kept because tools/authref's TestFixturesAgree confirms every
// fixture with the spec-only reference; the covers of a case are carried over (renumbered)
// when its verdict comes from the same rule as in version 8, and dropped otherwise.
func TestTranslateFixtures(t *testing.T) {
	if !*translate {
		t.Skip("run with -translate to regenerate the translated fixtures")
	}
	templates := loadTemplates(t)
	all := loadFixtures(t)
	var base []fixtureCase
	for _, c := range all {
		if strings.HasPrefix(c.File, "translated_") {
			continue
		}
		base = append(base, c)
	}
	covered := coverage(t, base)
	names := map[string]bool{}
	for _, c := range base {
		names[c.Name] = true
	}
	enumOf := map[string]rule{}
	for r := rule(0); r < numRules; r++ {
		if n := numbersV8[r]; n != "" {
			enumOf[n] = r
		}
	}
	for _, target := range translationTargets {
		v := mustVersion(t, target)
		rs := v.Auth.RuleSet
		var out []fixtureCase
		for _, c := range base {
			if c.RoomVersion != "8" && c.RoomVersion != "9" {
				continue
			}
			tc, ok := translateCase(t, c, v)
			if !ok {
				continue
			}
			bc, err := buildCase(t, tc, templates)
			if err != nil {
				continue // an event the version cannot express
			}
			allowedBy, _, verdict := bc.run(tc)
			var rej *Rejection
			switch {
			case verdict == nil:
				tc.Allowed, tc.Rule = ptr(true), allowedBy
			case errors.As(verdict, &rej):
				tc.Allowed, tc.Rule = ptr(false), rej.Rule
				if rej.Severity != SeverityError {
					tc.Severity = rej.Severity.String()
				}
				tc.Error = sentinelName(verdict)
			default:
				continue
			}
			tc.Covers = nil
			if *tc.Allowed == *c.Allowed && tc.Rule == numbersFor(rs)[enumOf[c.Rule]] {
				for _, n := range c.Covers {
					if r, ok := enumOf[n]; ok && numbersFor(rs)[r] != "" {
						tc.Covers = append(tc.Covers, numbersFor(rs)[r])
					}
				}
			}
			tc.Warn = ""
			if !adds(covered, rs, tc) {
				continue
			}
			tc.Spec = fmt.Sprintf("%s rule %s (translated from the v%s case %q)", ruleTexts[rs], tc.Rule, c.RoomVersion, c.Name)
			tc.Name = strings.TrimPrefix(strings.TrimPrefix(c.Name, "v8 "), "v9 ")
			tc.Name = "v" + target + " " + tc.Name
			for names[tc.Name] {
				tc.Name += " (translated)"
			}
			names[tc.Name] = true
			mark(covered, rs, tc)
			out = append(out, tc)
		}
		if err := writeFixtures(filepath.Join(fixtureDir, "translated_v"+target+".json"), out); err != nil {
			t.Fatal(err)
		}
		t.Logf("v%s: %d cases", target, len(out))
	}
}

func ptr[T any](x T) *T { return &x }

// sentinelName is the name of the sentinel of sentinels the verdict matches most closely: the
// one that is not ErrRejected.
func sentinelName(verdict error) string {
	var names []string
	for name, s := range sentinels {
		if errors.Is(verdict, s) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 1 {
		return names[0]
	}
	return ""
}

type coverSide struct{ allow, reject bool }

// coverage counts, per rule set, the sides of each rule number the cases exercise.
func coverage(t *testing.T, cases []fixtureCase) map[string]map[string]*coverSide {
	covered := map[string]map[string]*coverSide{}
	for _, c := range cases {
		v := mustVersion(t, c.RoomVersion)
		mark(covered, v.Auth.RuleSet, c)
	}
	return covered
}

func mark(covered map[string]map[string]*coverSide, rs string, c fixtureCase) {
	if covered[rs] == nil {
		covered[rs] = map[string]*coverSide{}
	}
	for _, n := range append([]string{c.Rule}, c.Covers...) {
		s := covered[rs][n]
		if s == nil {
			s = &coverSide{}
			covered[rs][n] = s
		}
		if *c.Allowed {
			s.allow = true
		} else {
			s.reject = true
		}
	}
}

// adds reports whether c covers a side of a rule that covered does not have.
func adds(covered map[string]map[string]*coverSide, rs string, c fixtureCase) bool {
	for _, n := range append([]string{c.Rule}, c.Covers...) {
		s := covered[rs][n]
		if s == nil || *c.Allowed && !s.allow || !*c.Allowed && !s.reject {
			return true
		}
	}
	return false
}

var idRef = regexp.MustCompile(`^#id:([0-9]+)$`)

// translateCase rewrites c for room version v. For version 12 the create event moves out of
// the auth events into the case's create (state mode keeps it in the state), and references
// to the events after it are renumbered; cases whose create is not the first auth event, or
// that mark it rejected, are not translated.
func translateCase(t *testing.T, c fixtureCase, v roomversion.Version) (fixtureCase, bool) {
	tc := c
	tc.RoomVersion = v.ID
	tc.File = ""
	if !v.Format.RoomIDFromCreateEvent || c.State != nil {
		return tc, true
	}
	if len(c.AuthEvents) == 0 {
		return tc, true // a create event, whose auth events are none
	}
	first := string(c.AuthEvents[0])
	if first != `"create"` && first != `"create_nofed"` {
		return tc, false
	}
	for _, r := range c.Rejected {
		if string(r) == "0" {
			return tc, false
		}
	}
	tc.Create = c.AuthEvents[0]
	renumber := func(raw json.RawMessage) (json.RawMessage, bool) {
		var x any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&x); err != nil {
			return nil, false
		}
		ok := true
		var walk func(any) any
		walk = func(x any) any {
			switch x := x.(type) {
			case string:
				if m := idRef.FindStringSubmatch(x); m != nil {
					n, _ := strconv.Atoi(m[1])
					if n == 0 {
						return "#id:create"
					}
					return "#id:" + strconv.Itoa(n-1)
				}
				if strings.HasPrefix(x, "#room-of:") {
					ok = false
				}
				return x
			case []any:
				for i := range x {
					x[i] = walk(x[i])
				}
			case map[string]any:
				for k := range x {
					x[k] = walk(x[k])
				}
			}
			return x
		}
		x = walk(x)
		out, err := json.Marshal(x)
		return out, ok && err == nil
	}
	tc.AuthEvents = nil
	for _, raw := range c.AuthEvents[1:] {
		r, ok := renumber(raw)
		if !ok {
			return tc, false
		}
		tc.AuthEvents = append(tc.AuthEvents, r)
	}
	if tc.AuthEvents == nil {
		tc.AuthEvents = []json.RawMessage{}
	}
	ev, ok := renumber(c.Event)
	if !ok {
		return tc, false
	}
	// An event that lists its auth events names the create among them: in v12 it has none.
	var obj map[string]json.RawMessage
	if json.Unmarshal(ev, &obj) == nil && obj["auth_events"] != nil {
		var ids []any
		if json.Unmarshal(obj["auth_events"], &ids) == nil {
			kept := []any{}
			for _, id := range ids {
				if id != "#id:create" {
					kept = append(kept, id)
				}
			}
			obj["auth_events"], _ = json.Marshal(kept)
			if ev, err := json.Marshal(obj); err == nil {
				tc.Event = ev
				return tc, true
			}
		}
	}
	tc.Event = ev
	tc.Rejected = nil
	for _, r := range c.Rejected {
		n, err := strconv.Atoi(string(r))
		if err != nil {
			return tc, false
		}
		tc.Rejected = append(tc.Rejected, json.RawMessage(strconv.Itoa(n-1)))
	}
	return tc, true
}

// writeFixtures writes cases one per line, as the hand-written tables are laid out.
func writeFixtures(path string, cases []fixtureCase) error {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, c := range cases {
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c); err != nil {
			return err
		}
		b.WriteString("  ")
		b.Write(bytes.TrimSpace(line.Bytes()))
		if i < len(cases)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return os.WriteFile(path, b.Bytes(), 0o644)
}

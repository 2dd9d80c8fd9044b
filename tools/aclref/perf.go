package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/roomproto/roomproto/serveracl"
)

// perfCase is one adversarial input of -perf: a pattern and a name that force a naive
// backtracking glob matcher into exponential (or high polynomial) time.
type perfCase struct {
	what          string
	pattern, name string
}

func perfCases() []perfCase {
	long := strings.Repeat("a", 253) + ".b" // a valid dns-name of 255 characters
	var cs []perfCase
	for _, k := range []int{8, 16, 32, 64, 128, 1024, 16384} {
		cs = append(cs,
			perfCase{fmt.Sprintf("(*a)x%d+b vs a^255", k), strings.Repeat("*a", k) + "b", long},
			perfCase{fmt.Sprintf("*x%d+b vs a^255", k), strings.Repeat("*", k) + "b", long},
			perfCase{fmt.Sprintf("(a*)x%d+c vs a^255", k), strings.Repeat("a*", k) + "c", long},
			perfCase{fmt.Sprintf("(*?)x%d+b vs a^255", k), strings.Repeat("*?", k) + "b", long},
			perfCase{fmt.Sprintf("(*a?)x%d vs a^255", k), strings.Repeat("*a?", k), long},
		)
	}
	big := strings.Repeat("a", 65536)
	cs = append(cs,
		perfCase{"(*a)x32+b vs a^65536 (Match only)", strings.Repeat("*a", 32) + "b", big},
		perfCase{"(*a)x1024+b vs a^65536 (Match only)", strings.Repeat("*a", 1024) + "b", big},
		perfCase{"*a^32767+b vs a^65536 (Match only)", "*" + strings.Repeat("a", 32767) + "b", big},
		perfCase{"(*a)x16384+b vs a^65536 (Match only)", strings.Repeat("*a", 16384) + "b", big},
	)
	return cs
}

// runPerf times Match and, with a 64 KiB ACL of such patterns, ACL.Allowed.
func runPerf() {
	var worst time.Duration
	var worstWhat string
	for _, c := range perfCases() {
		reps := 1
		start := time.Now()
		for time.Since(start) < 20*time.Millisecond && reps < 1000 {
			serveracl.Match(c.pattern, c.name)
			reps++
		}
		start = time.Now()
		for i := 0; i < reps; i++ {
			serveracl.Match(c.pattern, c.name)
		}
		d := time.Since(start) / time.Duration(reps)
		fmt.Printf("Match %-44s pattern %6d name %6d: %v\n", c.what, len(c.pattern), len(c.name), d)
		if d > worst {
			worst, worstWhat = d, "Match "+c.what
		}
	}
	// An ACL whose deny list fills an event (64 KiB) with adversarial patterns, checked
	// against the longest valid name.
	for _, unit := range []string{"*a", "*", "*?", "a*"} {
		var deny []string
		size := 0
		for size < 60000 {
			p := strings.Repeat(unit, 16) + "b"
			deny = append(deny, p)
			size += len(p) + 3
		}
		acl := serveracl.ACL{AllowIPLiterals: true, Allow: []string{"*"}, Deny: deny}
		name := strings.Repeat("a", 253) + ".b:8448"
		start := time.Now()
		ok := acl.Allowed(name)
		d := time.Since(start)
		fmt.Printf("ACL.Allowed %d deny patterns (%q x16 + b) vs a^253.b:8448: %v (allowed %v)\n", len(deny), unit, d, ok)
		if d > worst {
			worst, worstWhat = d, "ACL.Allowed "+unit
		}
		one := serveracl.ACL{AllowIPLiterals: true, Allow: []string{"*"}, Deny: []string{strings.Repeat(unit, 30000) + "b"}}
		start = time.Now()
		ok = one.Allowed(name)
		d = time.Since(start)
		fmt.Printf("ACL.Allowed 1 deny pattern (%q x30000 + b) vs a^253.b:8448: %v (allowed %v)\n", unit, d, ok)
		if d > worst {
			worst, worstWhat = d, "ACL.Allowed one "+unit
		}
	}
	fmt.Printf("slowest: %s, %v\n", worstWhat, worst)
}

package serveracl_test

import (
	"strings"
	"testing"

	"github.com/roomproto/roomproto/serveracl"
)

// BenchmarkAllowed checks a server name against a typical ACL (allow everything, deny a few
// dozen patterns).
func BenchmarkAllowed(b *testing.B) {
	deny := make([]string, 0, 40)
	for i := range 40 {
		deny = append(deny, "*.spam"+strings.Repeat("x", i%7)+".example")
	}
	acl := serveracl.ACL{AllowIPLiterals: false, Allow: []string{"*"}, Deny: deny}
	b.ReportAllocs()
	for b.Loop() {
		if !acl.Allowed("matrix.good.example:8448") {
			b.Fatal("denied")
		}
	}
}

// BenchmarkAllowedWorstCase: about the slowest ACL an event within the size limit can hold,
// for a server name of 255 bytes: 450 deny patterns "*aaa…ab*" (128 a's) that each almost match
// at every offset (a backtracking matcher would take time proportional to the name's length
// times the patterns' total length, here 255 × 59,000; the bit-set matcher takes the total
// length times four words).
func BenchmarkAllowedWorstCase(b *testing.B) {
	pattern := "*" + strings.Repeat("a", 128) + "b*"
	deny := make([]string, 450)
	for i := range deny {
		deny[i] = pattern
	}
	acl := serveracl.ACL{AllowIPLiterals: true, Allow: []string{"*"}, Deny: deny}
	name := strings.Repeat("a", 255)
	b.ReportAllocs()
	for b.Loop() {
		if !acl.Allowed(name) {
			b.Fatal("denied")
		}
	}
}

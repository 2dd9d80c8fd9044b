package claimsf

import (
	"regexp"
	"strings"
	"testing"

	"github.com/roomproto/roomproto/tools/internal/claimkit"
)

// funcBody returns the text of Go function name in the file rel, from its "func" line to the
// next line starting with "}".
func funcBody(t testing.TB, rel, name string) string {
	t.Helper()
	src := claimkit.ReadRoot(t, rel)
	i := strings.Index(src, "\nfunc "+name+"(")
	if i < 0 {
		t.Fatalf("%s has no func %s", rel, name)
	}
	body := src[i+1:]
	if j := strings.Index(body, "\n}\n"); j >= 0 {
		body = body[:j+2]
	}
	return body
}

// decisions (bulk) 10: "The verdicts are the package functions' exactly
// (TestKeyCacheMatchesVerifyEvent, every kind of damage, six room versions, three passes;
// FuzzVerifyEvent compares them on every input), including keys that are never prepared: ...
// (TestKeyCacheMixedOrderKeyAccepted)"; "Measured (BenchmarkKeyCachePhases, warm cache, CPU
// time)"; SECURITY.md: "(TestKeyCacheLimit)". The cited tests exist and do what the entry says.
func TestKeyCacheCitedTests(t *testing.T) {
	claimkit.WantText(t, "docs/decisions.md", "(`TestKeyCacheMatchesVerifyEvent`, every kind of damage, six room versions, three passes; FuzzVerifyEvent compares them on every input)")
	m := funcBody(t, "signing/keycache_test.go", "TestKeyCacheMatchesVerifyEvent")
	list := regexp.MustCompile(`range \[\]string\{([^}]*)\}`).FindStringSubmatch(m)
	if list == nil || len(strings.Split(list[1], ",")) != 6 {
		t.Errorf("TestKeyCacheMatchesVerifyEvent does not run six room versions: %v", list)
	}
	if !strings.Contains(m, "pass < 3") || !strings.Contains(m, "btKinds") {
		t.Error("TestKeyCacheMatchesVerifyEvent: not three passes over every kind of damage")
	}
	if !strings.Contains(m, "c.VerifyEvent") || !strings.Contains(m, "c.VerifyParsedEvent") {
		t.Error("TestKeyCacheMatchesVerifyEvent does not compare both methods")
	}
	f := funcBody(t, "signing/fuzz_test.go", "FuzzVerifyEvent")
	if !strings.Contains(f, "KeyCache") || !strings.Contains(f, "cache.VerifyEvent(v, data, keys)") {
		t.Error("FuzzVerifyEvent does not compare a KeyCache on its inputs")
	}
	mo := funcBody(t, "signing/keycache_test.go", "TestKeyCacheMixedOrderKeyAccepted")
	if !strings.Contains(mo, "c.Len() != 0") {
		t.Error("TestKeyCacheMixedOrderKeyAccepted does not check the key stays unprepared")
	}
	b := funcBody(t, "signing/bench_test.go", "BenchmarkKeyCachePhases")
	bare := funcBody(t, "signing/bench_test.go", "bareVerify")
	if !strings.Contains(b, "for range 2") || !strings.Contains(b, "bareVerify(b, msg, sigs)") || !strings.Contains(bare, "ed25519.Verify(s.pub, msg, s.sig)") || !strings.Contains(b, "cpubench.Overhead") {
		t.Error("BenchmarkKeyCachePhases: not a warm cache against a bare ed25519.Verify in CPU time")
	}
	funcBody(t, "signing/keycache_test.go", "TestKeyCacheLimit")
}

// SECURITY.md (Limits): "Every limit is tested at its edge and one past it in
// `internal/limits_test` (unless noted)." The KeyCache row named TestKeyCacheLimit, which lowers
// the bound to 2 (F4); it now notes where the real bounds are tested at their edges: this
// package's TestKeyCacheLimitAtTheEdge and TestKeyCacheSeenSetAtTheEdge, which run 1,024/1,025
// and 4,096/4,097.
func TestSecurityKeyCacheLimitTestedAtItsEdge(t *testing.T) {
	claimkit.WantText(t, "SECURITY.md", "Every limit is tested at its edge and one past it in `internal/limits_test` (unless noted).")
	claimkit.WantText(t, "SECURITY.md", "Tested at the edges 1,024/1,025 and 4,096/4,097 in `tools/claimsf` (`TestKeyCacheLimitAtTheEdge`, `TestKeyCacheSeenSetAtTheEdge`), not in `internal/limits_test` (the bound is unexported) |")
	lim := funcBody(t, "tools/claimsf/keycache_test.go", "TestKeyCacheLimitAtTheEdge")
	seen := funcBody(t, "tools/claimsf/keycache_test.go", "TestKeyCacheSeenSetAtTheEdge")
	if !strings.Contains(lim, "i <= 1024") || !strings.Contains(lim, "seedKey(1025)") {
		t.Error("TestKeyCacheLimitAtTheEdge does not run 1,024 and 1,025 keys")
	}
	if !strings.Contains(seen, "{4095, true}, {4096, false}") {
		t.Error("TestKeyCacheSeenSetAtTheEdge does not run 4,095 and 4,096 other keys")
	}
}

// decisions.md, section "Bulk verification, auth chains, replay and verify-room": the KeyCache
// entry was a second "### 10." after entry 11 (F5); it is entry 12, and no two entries of the
// section share a number.
func TestDecisionsBulkNumbering(t *testing.T) {
	src := claimkit.ReadRoot(t, "docs/decisions.md")
	start := strings.Index(src, "\n## Bulk verification, auth chains, replay and verify-room")
	if start < 0 {
		t.Fatal("no bulk section")
	}
	sec := src[start+1:]
	if end := strings.Index(sec, "\n## "); end >= 0 {
		sec = sec[:end]
	}
	if !strings.Contains(sec, "### 12. KeyCache") {
		t.Fatal("the KeyCache entry is not (bulk) 12")
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^### (\d+[a-z]?)\. `).FindAllStringSubmatch(sec, -1) {
		if seen[m[1]] {
			t.Errorf("two entries numbered %s in the bulk section", m[1])
		}
		seen[m[1]] = true
	}
}

// KeyCache doc: "(decoded into a table of multiples of −A, docs/decisions.md (bulk) 2)";
// decisions (bulk) 10: "with the signature check of entry 2", "the set of keys seen once bounded
// at 4,096 and emptied when full, as a batch worker's". Entry 2 is the prepared keys' entry, and
// the cache's bounds and emptying are the batch worker's (4 × the 1,024 prepared keys).
func TestKeyCacheIsTheBatchWorkersCheck(t *testing.T) {
	claimkit.WantText(t, "docs/decisions.md", "### 2. Prepared keys: fixed-base tables for −A (curve25519-voi)")
	batch := claimkit.ReadRoot(t, "signing/batch.go")
	for _, s := range []string{"const maxCachedKeys = 1024", "const maxSeenKeys = 4 * maxCachedKeys", "clear(w.seen)"} {
		if !strings.Contains(batch, s) {
			t.Errorf("signing/batch.go: no %q", s)
		}
	}
	kc := claimkit.ReadRoot(t, "signing/keycache.go")
	for _, s := range []string{"return maxCachedKeys", "len(c.seen) >= 4*c.limit()", "clear(c.seen)", "newFastKey(pub)", "fk.verify("} {
		if !strings.Contains(kc, s) {
			t.Errorf("signing/keycache.go: no %q", s)
		}
	}
}

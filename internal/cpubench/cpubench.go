// Package cpubench measures how many times faster one function is than another in CPU time of
// the whole process, garbage collection included. The benchmarks that check the project's speed
// bars (BENCHMARKS.md: canonical JSON and redaction against a decode-into-interface approach) use
// it, so that each bar is one figure that `go test -bench` prints, measured the same way on every
// machine.
//
// Wall time is a poor measure on a shared machine (the time other processes run is counted), and
// the CPU time of the calling thread leaves out the garbage collector's background work, which
// is most of what the allocating baselines cost beyond their own thread. CPU time of the process
// counts both, and not the time the process waits.
//
// Speedup measures with GOMAXPROCS set to 1. With more, the collector runs "idle" mark workers on
// the processors the benchmark leaves idle for as long as a cycle lasts: CPU time that costs
// nothing on an idle core and does not happen on a busy server, but that the process clock
// counts, for the side that allocates less as much as for the other. With one processor the
// collector's work is done by its dedicated share and by the allocating goroutine's assists, all
// of it needed.
package cpubench

import (
	"runtime"
	"testing"
	"time"
)

// Phase is the CPU time each side runs for in one round of Speedup.
const Phase = 20 * time.Millisecond

// Speedup runs ours and ref in alternating phases of about Phase CPU time each, b.N rounds of
// one phase each, with GOMAXPROCS 1 (see the package documentation), and reports ref's CPU time per call divided by ours' as "speedup-x", with
// "ours-cpu-ns/op" and "ref-cpu-ns/op". Alternating phases lets both sides see the same machine
// state. Garbage collection work that runs across the end of a phase is counted in whichever
// phase it runs: as ours allocates less, this moves some of ref's cost into ours' phases, so the
// reported speedup errs low. The ns/op figure of the benchmark itself is the time of a round
// and means nothing.
func Speedup(b *testing.B, ours, ref func()) {
	b.Helper()
	o, r := phases(b, ours, ref)
	b.ReportMetric(r/o, "speedup-x")
	b.ReportMetric(o, "ours-cpu-ns/op")
	b.ReportMetric(r, "ref-cpu-ns/op")
}

// Overhead measures as Speedup does and reports how much more CPU time per call ours takes than
// ref, in percent of ref's, as "overhead-%" (negative when ours is faster), with
// "ours-cpu-ns/op" and "ref-cpu-ns/op".
func Overhead(b *testing.B, ours, ref func()) {
	b.Helper()
	o, r := phases(b, ours, ref)
	b.ReportMetric(100*(o/r-1), "overhead-%")
	b.ReportMetric(o, "ours-cpu-ns/op")
	b.ReportMetric(r, "ref-cpu-ns/op")
}

// phases runs ours and ref in alternating phases (Speedup) and returns the CPU time per call of
// each, in nanoseconds.
func phases(b *testing.B, ours, ref func()) (oursNs, refNs float64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	oursN, refN := calls(ours), calls(ref)
	var oursCPU, refCPU time.Duration
	var oursCalls, refCalls int
	for i := 0; i < b.N; i++ {
		t0 := ProcessCPU()
		for j := 0; j < oursN; j++ {
			ours()
		}
		t1 := ProcessCPU()
		for j := 0; j < refN; j++ {
			ref()
		}
		t2 := ProcessCPU()
		oursCPU += t1 - t0
		refCPU += t2 - t1
		oursCalls += oursN
		refCalls += refN
	}
	return float64(oursCPU) / float64(oursCalls), float64(refCPU) / float64(refCalls)
}

// calls returns how many calls of f take about Phase of CPU time (at least 1), from a first
// estimate over a few milliseconds.
func calls(f func()) int {
	n := 0
	t0 := ProcessCPU()
	for ProcessCPU()-t0 < 2*time.Millisecond || n == 0 {
		f()
		n++
	}
	per := (ProcessCPU() - t0) / time.Duration(n)
	if per <= 0 {
		return n
	}
	return max(1, int(Phase/per))
}

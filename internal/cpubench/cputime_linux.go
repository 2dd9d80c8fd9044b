//go:build linux

package cpubench

import (
	"syscall"
	"time"
	"unsafe"
)

// The clocks of clock_gettime(2).
const (
	clockProcessCPUTimeID = 2
	clockThreadCPUTimeID  = 3
)

// ProcessCPU returns the CPU time consumed so far by all threads of the process
// (CLOCK_PROCESS_CPUTIME_ID).
func ProcessCPU() time.Duration { return clock(clockProcessCPUTimeID) }

// ThreadCPU returns the CPU time consumed so far by the calling OS thread
// (CLOCK_THREAD_CPUTIME_ID): unlike wall time it does not count the time the thread waits while
// other processes run. The caller must hold runtime.LockOSThread.
func ThreadCPU() time.Duration { return clock(clockThreadCPUTimeID) }

func clock(id uintptr) time.Duration {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

//go:build linux

package signing

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// threadCPU returns the CPU time consumed by the calling OS thread (CLOCK_THREAD_CPUTIME_ID):
// unlike wall time it does not count the time the thread waits while other processes run, so
// overhead measurements stay meaningful on a loaded machine. The caller must hold
// runtime.LockOSThread.
func threadCPU() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

var lockThread = runtime.LockOSThread
var unlockThread = runtime.UnlockOSThread

//go:build linux

package cpubench

import (
	"syscall"
	"time"
	"unsafe"
)

// ProcessCPU returns the CPU time consumed so far by all threads of the process
// (CLOCK_PROCESS_CPUTIME_ID).
func ProcessCPU() time.Duration {
	var ts syscall.Timespec
	const clockProcessCPUTimeID = 2
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

//go:build !linux

package cpubench

import "time"

var start = time.Now()

// ProcessCPU falls back to wall time where no process CPU clock is used.
func ProcessCPU() time.Duration { return time.Since(start) }

// ThreadCPU falls back to wall time where no thread CPU clock is used.
func ThreadCPU() time.Duration { return time.Since(start) }

//go:build !unix

package main

import "time"

// cpuTime is the CPU time this process has used so far: unknown (0) here.
func cpuTime() time.Duration { return 0 }

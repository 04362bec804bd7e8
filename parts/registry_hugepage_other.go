//go:build !linux

package parts

import "unsafe"

// adviseHuge is a no-op outside Linux.
func adviseHuge(p unsafe.Pointer, size uintptr) {}

package parts

import (
	"testing"
	"unsafe"
)

// TestRecordSize keeps a record to one cache line (64 bytes on 64-bit
// machines, 60 where a uint64 is 4-aligned).
func TestRecordSize(t *testing.T) {
	if got := unsafe.Sizeof(record{}); got > 64 {
		t.Errorf("record is %d bytes, want at most 64", got)
	}
}

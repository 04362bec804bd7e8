package sensors

import "math"

// slot is one reading of a window: seconds since epoch and a float32 value,
// 8 bytes.
type slot struct {
	t int32
	v float32
}

// epoch is the zero of window times (2020-01-01T00:00:00Z): int32 seconds
// reach from 1952 to 2088.
const epoch = 1577836800

// secs converts Unix nanoseconds to window seconds.
func secs(ns int64) int32 {
	s := ns/1e9 - epoch
	return int32(max(min(s, math.MaxInt32), math.MinInt32))
}

// push adds a reading to the ring.
func (en *entry) push(t int32, v float64) {
	en.win[en.head] = slot{t, float32(v)}
	if en.head++; int(en.head) == len(en.win) {
		en.head = 0
	}
	if int(en.n) < len(en.win) {
		en.n++
	}
}

// oldest returns the ring index of the oldest reading.
func (en *entry) oldest() int {
	i := int(en.head) - int(en.n)
	if i < 0 {
		i += len(en.win)
	}
	return i
}

// ref returns the oldest value kept at or after from, and its time.
func (en *entry) ref(from int32) (float64, int32, bool) {
	if en.n == 0 {
		return 0, 0, false
	}
	i := en.oldest()
	for range en.n {
		if s := en.win[i]; s.t >= from {
			return float64(s.v), s.t, true
		}
		if i++; i == len(en.win) {
			i = 0
		}
	}
	return 0, 0, false
}

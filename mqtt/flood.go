package mqtt

import (
	"time"

	"citytwin/sensors"
)

// floodMeter counts the readings of each sensor in the current second and
// reports a sensor once per second when it passes the limit. It belongs to
// one worker goroutine; its memory is bounded by the sensors seen in a
// second.
type floodMeter struct {
	limit  int
	second int64
	counts map[sensors.ID]int
}

func newFloodMeter(limit int) *floodMeter {
	return &floodMeter{limit: limit, counts: make(map[sensors.ID]int)}
}

// add counts one reading of id at now and reports whether it is the one
// that passes the limit in this second.
func (f *floodMeter) add(id sensors.ID, now time.Time) bool {
	if s := now.Unix(); s != f.second {
		f.second = s
		clear(f.counts)
	}
	n := f.counts[id] + 1
	f.counts[id] = n
	return n == f.limit+1
}

package sensors_test

import (
	"math"
	"sync/atomic"
	"time"
)

func nan() float64 { return math.NaN() }

// clock is a fake clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

var t0 = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/paulmach/orb"
)

// heavyGate bounds how many expensive queries (POST /parts/within, and
// searches and counts over a big box) run at once, so that they cannot
// take every core from the cheap requests (lookups, edits, tiles) that
// must stay fast. A query waits for a slot at most wait (or its deadline);
// then it is refused with a 503 busy problem and Retry-After. A nil gate
// lets everything through.
type heavyGate struct {
	slots chan struct{}
	wait  time.Duration
}

// newHeavyGate returns a gate of n slots (nil for n <= 0: no bound).
func newHeavyGate(n int, wait time.Duration) *heavyGate {
	if n <= 0 {
		return nil
	}
	return &heavyGate{slots: make(chan struct{}, n), wait: wait}
}

// heavy runs fn in a slot of the gate; route names the query in the
// metrics and in the problem of a refusal.
func (s *Server) heavy(ctx context.Context, route string, fn func() error) error {
	g := s.heavyGate
	if g == nil {
		return fn()
	}
	start := time.Now()
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			s.m.heavyRejected.WithLabelValues(route).Inc()
			return busy(route, g)
		case <-ctx.Done():
			return fmt.Errorf("api: waiting for a slot for %s: %w", route, context.Cause(ctx))
		}
	}
	s.m.heavyWait.Observe(time.Since(start).Seconds())
	defer func() { <-g.slots }()
	return fn()
}

// busy is the 503 of an expensive query that found no slot in time.
func busy(route string, g *heavyGate) *Problem {
	q := newProblem(http.StatusServiceUnavailable, "busy",
		"the server is busy with other expensive queries (areas, big boxes); try again after the time in Retry-After, or narrow the query")
	q.Reason = fmt.Sprintf("%s: no slot of %d within %v", route, cap(g.slots), g.wait)
	q.header = http.Header{"Retry-After": {strconv.Itoa(max(1, int(g.wait.Round(time.Second)/time.Second)))}}
	return q
}

// heavyBox reports whether a search or count over b is expensive enough
// to need a slot: a box over Config.HeavyArea square degrees (the whole
// world when the query gives none).
func (s *Server) heavyBox(b orb.Bound) bool {
	return (b.Max[0]-b.Min[0])*(b.Max[1]-b.Min[1]) > s.cfg.HeavyArea
}

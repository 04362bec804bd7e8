package api

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// accessSampler bounds the access log: at most perSecond lines a second of
// ordinary answers and, apart, at most perSecond lines of server errors
// (5xx), so that a flood of 2xx never hides an error. The lines past the
// limit are counted and reported, one "access log skipped" line for the
// second they fell in, before the next line logged. perSecond 0 logs
// every request.
type accessSampler struct {
	perSecond int
	now       func() time.Time

	mu      sync.Mutex
	second  int64  // the unix second counted
	logged  [2]int // lines logged in it: [ordinary, 5xx]
	skipped [2]int // lines skipped in it
	since   time.Time
}

func newAccessSampler(perSecond int, now func() time.Time) *accessSampler {
	if now == nil {
		now = time.Now
	}
	return &accessSampler{perSecond: perSecond, now: now}
}

// skippedLines is the count of lines a second left out.
type skippedLines struct {
	ordinary, serverErrors int
	since                  time.Time
}

// allow reports whether the line of an answer with status is logged, and
// the lines skipped in an earlier second that are still to be reported.
func (a *accessSampler) allow(status int) (ok bool, report *skippedLines) {
	if a.perSecond <= 0 {
		return true, nil
	}
	class := 0
	if status >= 500 {
		class = 1
	}
	now := a.now()
	sec := now.Unix()
	a.mu.Lock()
	defer a.mu.Unlock()
	if sec != a.second {
		if a.skipped[0]+a.skipped[1] > 0 {
			report = &skippedLines{ordinary: a.skipped[0], serverErrors: a.skipped[1], since: a.since}
		}
		a.second, a.logged, a.skipped, a.since = sec, [2]int{}, [2]int{}, now
	}
	if a.logged[class] >= a.perSecond {
		a.skipped[class]++
		return false, report
	}
	a.logged[class]++
	return true, report
}

// logSkipped writes the report of skipped lines, if any.
func (s *Server) logSkipped(ctx context.Context, r *skippedLines) {
	if r == nil {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "access log skipped",
		slog.Int("requests", r.ordinary),
		slog.Int("server_errors", r.serverErrors),
		slog.Time("second", r.since.Truncate(time.Second)),
		slog.Int("limit_per_second", s.accessLines.perSecond))
}

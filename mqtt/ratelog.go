package mqtt

import (
	"log/slog"
	"sync"
	"time"
)

// rateLog logs at most one line per key and interval, counting the lines it
// held back, so that a flood of bad input cannot flood the log.
type rateLog struct {
	log   *slog.Logger
	every time.Duration
	mu    sync.Mutex
	keys  map[string]*rateKey
}

type rateKey struct {
	last       time.Time
	suppressed int
}

func newRateLog(log *slog.Logger, every time.Duration) *rateLog {
	return &rateLog{log: log, every: every, keys: make(map[string]*rateKey)}
}

// Warn logs msg under key unless a line of key was logged less than every
// ago; then it only counts it.
func (r *rateLog) Warn(key, msg string, args ...any) {
	now := time.Now()
	r.mu.Lock()
	k := r.keys[key]
	if k == nil {
		k = &rateKey{}
		r.keys[key] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < r.every {
		k.suppressed++
		r.mu.Unlock()
		return
	}
	n := k.suppressed
	k.last, k.suppressed = now, 0
	r.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	r.log.Warn(msg, args...)
}

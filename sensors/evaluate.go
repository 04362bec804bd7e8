package sensors

import (
	"math"
	"time"
)

// Evaluate checks r against its sensor's rules. It updates the sensor's
// status and window, and the count, peak and value of alarms already open
// (returned as Updated), and appends proposed Raised and Cleared transitions
// to out without applying them: the caller persists them, then calls Commit
// (or Abort). Until then the alarm is pending: more readings never propose it
// twice. Evaluate does not allocate when out has room, apart from the
// proposals (their reasons).
//
// Errors: ErrUnknownSensor, ErrBadValue (NaN or infinite), ErrFuture (more
// than MaxFuture ahead of Now), ErrTooOld (older than MaxPast), ErrDuplicate
// (the time of the last reading) and ErrOutOfOrder (older than the last).
// A rejected reading changes nothing and is counted in Counts.
func (e *Engine) Evaluate(r Reading, out []Transition) ([]Transition, error) {
	now := e.now().UnixNano()
	sec := r.Time.Unix() // in range before UnixNano, which overflows past 2262
	sh, h := e.shard(r.Sensor)
	sh.mu.Lock()
	en := sh.get(h, r.Sensor)
	var err error
	switch {
	case en == nil:
		sh.counts[cUnknown]++
		err = ErrUnknownSensor
	case math.IsNaN(r.Value) || math.IsInf(r.Value, 0):
		sh.counts[cBadValue]++
		err = ErrBadValue
	case sec > (now+int64(e.maxFuture))/1e9+1:
		sh.counts[cFuture]++
		err = ErrFuture
	case sec < (now-int64(e.maxPast))/1e9-1:
		sh.counts[cTooOld]++
		err = ErrTooOld
	default:
		t := r.Time.UnixNano()
		switch {
		case t > now+int64(e.maxFuture):
			sh.counts[cFuture]++
			err = ErrFuture
		case t < now-int64(e.maxPast):
			sh.counts[cTooOld]++
			err = ErrTooOld
		case t == en.last:
			sh.counts[cDuplicate]++
			err = ErrDuplicate
		case t < en.last:
			sh.counts[cOutOfOrder]++
			err = ErrOutOfOrder
		default:
			sh.counts[cEvaluated]++
			out = e.evaluate(en, t, r.Value, out)
		}
	}
	sh.mu.Unlock()
	return out, err
}

// evaluate runs the rules of en on an accepted reading (shard locked).
func (e *Engine) evaluate(en *entry, t int64, v float64, out []Transition) []Transition {
	en.value, en.last, en.online = v, t, true
	en.readings++
	ts := secs(t)
	rs := en.rs
	for i := range rs.c {
		c := &rs.c[i]
		switch c.kind {
		case kThreshold:
			out = e.threshold(en, i, c, t, v, out)
		case kRate:
			ref, rt, ok := en.ref(ts - c.window)
			if !ok {
				continue
			}
			d := v - ref
			a := en.rec(i)
			switch {
			case math.Abs(d) >= c.delta && (a == nil || a.state == recClosed):
				out = e.raise(en, i, t, v, math.Abs(d), 1, rateReason(d, ts-rt, c, true), out)
			case math.Abs(d) >= c.delta:
				out = en.repeat(a, t, v, math.Abs(d), out)
			case a != nil && a.state == recOpen:
				out = en.clearAlarm(a, t, v, rateReason(d, ts-rt, c, false), out)
			}
		case kSilence:
			if a := en.rec(i); a != nil && a.state == recOpen {
				out = en.clearAlarm(a, t, v, "reading received", out)
			}
		}
	}
	en.push(ts, v)
	return out
}

// threshold runs a threshold rule: raise above Above (below Below), clear
// below ClearBelow (above ClearAbove), hold in between.
func (e *Engine) threshold(en *entry, i int, c *crule, t int64, v float64, out []Transition) []Transition {
	hi := c.up && v > c.above
	lo := c.down && v < c.below
	a := en.rec(i)
	if !hi && !lo {
		if a != nil && a.state == recOpen && v < c.clearBelow && v > c.clearAbove {
			out = en.clearAlarm(a, t, v, clearReason(v, c), out)
		}
		return out
	}
	if a == nil || a.state == recClosed {
		if hi {
			return e.raise(en, i, t, v, v, 1, thresholdReason(v, true, c.above), out)
		}
		return e.raise(en, i, t, v, v, -1, thresholdReason(v, false, c.below), out)
	}
	return en.repeat(a, t, v, v, out)
}

// Sweep raises the silence alarms of sensors that sent no reading for their
// rule's After before now (a sensor never heard from counts from when it was
// Put, so timers restart sanely after a restart), marks them offline, and
// proposes the clear of silence alarms whose sensor has reported since.
// Transitions are appended to out as by Evaluate: Commit them once persisted.
// Each shard is locked in turn, for a few microseconds per thousand sensors.
func (e *Engine) Sweep(now time.Time, out []Transition) []Transition {
	n := now.UnixNano()
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		for _, en := range sh.m {
			for ; en != nil; en = en.next {
				if en.rs.silence {
					out = e.sweep(en, n, out)
				}
			}
		}
		sh.mu.Unlock()
	}
	return out
}

func (e *Engine) sweep(en *entry, n int64, out []Transition) []Transition {
	base := max(en.last, en.since)
	silent := n - base
	for i := range en.rs.c {
		c := &en.rs.c[i]
		if c.kind != kSilence {
			continue
		}
		a := en.rec(i)
		switch {
		case silent >= c.after:
			en.online = false
			s := float64(silent / int64(time.Second))
			if a == nil || a.state == recClosed {
				out = e.raise(en, i, n, en.value, s, 1, silenceReason(time.Duration(silent), c), out)
			} else {
				a.peak = max(a.peak, s)
			}
		case a != nil && a.state == recOpen && en.last > a.raised:
			out = en.clearAlarm(a, n, en.value, "reading received", out)
		}
	}
	return out
}

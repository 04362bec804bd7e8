package sensors

import (
	"math"
	"strconv"
	"time"

	"citytwin/parts"
)

// alarmSet holds the alarm records of a sensor, one per rule that ever
// raised; most sensors never have one.
type alarmSet struct {
	recs []alarmRec
}

// Record states: a raise or a clear is proposed (and the record waits for
// Commit) before it takes effect.
const (
	recClosed   uint8 = iota // no open alarm
	recRaising               // Raised proposed, not yet committed
	recOpen                  // open
	recClearing              // open, Cleared proposed, not yet committed
)

// alarmRec is the alarm of one rule of a sensor. Its id is built once and
// reused by later alarms of the rule.
type alarmRec struct {
	id                       string
	reason                   string
	ruleKind                 RuleKind
	code                     parts.Code
	raised, updated, cleared int64 // Unix ns
	count                    int64
	peak, value              float64
	version                  uint64
	rule                     uint8
	state                    uint8
	dir                      int8 // threshold: +1 above, -1 below
	retired                  bool
}

func (en *entry) rec(rule int) *alarmRec {
	if en.al == nil {
		return nil
	}
	for i := range en.al.recs {
		if int(en.al.recs[i].rule) == rule {
			return &en.al.recs[i]
		}
	}
	return nil
}

func (en *entry) newRec(rule int) *alarmRec {
	if a := en.rec(rule); a != nil {
		return a
	}
	if en.al == nil {
		en.al = &alarmSet{}
	}
	en.al.recs = append(en.al.recs, alarmRec{id: AlarmID(en.id, rule), rule: uint8(rule)})
	return &en.al.recs[len(en.al.recs)-1]
}

// dropAlarms forgets the records that drop selects, except those whose clear
// awaits Commit.
func (en *entry) dropAlarms(drop func(*alarmRec) bool) {
	if en.al == nil {
		return
	}
	recs := en.al.recs[:0]
	for _, a := range en.al.recs {
		if a.state == recClearing || !drop(&a) {
			recs = append(recs, a)
		}
	}
	clear(en.al.recs[len(recs):])
	en.al.recs = recs
	if len(recs) == 0 {
		en.al = nil
	}
}

// alarm returns the record as an Alarm in state st.
func (en *entry) alarm(a *alarmRec, st AlarmState) Alarm {
	return Alarm{
		ID: a.id, Sensor: en.id, Code: a.code, Kind: en.kind, Rule: int(a.rule), RuleKind: a.ruleKind,
		State: st, Raised: fromNanos(a.raised), Updated: fromNanos(a.updated), Cleared: fromNanos(a.cleared),
		Count: int(a.count), Peak: a.peak, Value: a.value, Retired: a.retired, Reason: a.reason, Version: a.version,
	}
}

// committed returns the alarm as committed (a proposed clear is still open);
// false while its raise is only proposed.
func (en *entry) committed(a *alarmRec) (Alarm, bool) {
	switch a.state {
	case recOpen, recClearing:
		return en.alarm(a, AlarmOpen), true
	case recClosed:
		return en.alarm(a, AlarmCleared), true
	}
	return Alarm{}, false
}

// raise proposes a new alarm of rule i.
func (e *Engine) raise(en *entry, i int, t int64, value, peak float64, dir int8, reason string, out []Transition) []Transition {
	a := en.newRec(i)
	*a = alarmRec{
		id: a.id, rule: a.rule, version: a.version, state: recRaising, ruleKind: en.rs.rules[i].Kind, code: en.code,
		raised: t, updated: t, count: 1, peak: peak, value: value, dir: dir, retired: en.retired, reason: reason,
	}
	if en.retired {
		a.reason += "; " + retiredReason(en.code)
	}
	al := en.alarm(a, AlarmOpen)
	al.Version++
	return append(out, Transition{Type: Raised, Alarm: al})
}

// repeat updates an open (or proposed) alarm with another breach; it is
// returned as Updated when the alarm is open.
func (en *entry) repeat(a *alarmRec, t int64, value, peak float64, out []Transition) []Transition {
	if a.state == recClearing {
		return out
	}
	a.count++
	a.value, a.updated = value, t
	if a.dir < 0 {
		a.peak = min(a.peak, peak)
	} else {
		a.peak = max(a.peak, peak)
	}
	if a.state != recOpen {
		return out
	}
	a.version++
	return append(out, Transition{Type: Updated, Alarm: en.alarm(a, AlarmOpen)})
}

// clearAlarm proposes the clear of an open alarm.
func (en *entry) clearAlarm(a *alarmRec, t int64, value float64, reason string, out []Transition) []Transition {
	if a.state != recOpen {
		return out
	}
	a.state = recClearing
	al := en.alarm(a, AlarmCleared)
	al.Cleared, al.Updated, al.Value, al.Reason = fromNanos(t), fromNanos(t), value, reason
	al.Version++
	return append(out, Transition{Type: Cleared, Alarm: al})
}

// Commit applies persisted Raised and Cleared transitions (Updated ones were
// applied when they were returned). A transition whose alarm changed since
// (the sensor was removed or rebound) is ignored.
func (e *Engine) Commit(ts []Transition) {
	e.settle(ts, true)
}

// Abort forgets proposed Raised and Cleared transitions that could not be
// persisted, so that the next reading or Sweep proposes them again.
func (e *Engine) Abort(ts []Transition) {
	e.settle(ts, false)
}

func (e *Engine) settle(ts []Transition, commit bool) {
	for i := range ts {
		t := &ts[i]
		if t.Type != Raised && t.Type != Cleared {
			continue
		}
		sh, h := e.shard(t.Alarm.Sensor)
		sh.mu.Lock()
		var a *alarmRec
		if en := sh.get(h, t.Alarm.Sensor); en != nil {
			a = en.rec(t.Alarm.Rule)
		}
		if a != nil && a.raised == nanos(t.Alarm.Raised) {
			switch {
			case t.Type == Raised && a.state == recRaising && commit:
				a.state, a.version = recOpen, t.Alarm.Version
			case t.Type == Raised && a.state == recRaising:
				a.state = recClosed
			case t.Type == Cleared && a.state == recClearing && commit:
				a.state, a.version = recClosed, t.Alarm.Version
				a.cleared, a.updated, a.value, a.reason = nanos(t.Alarm.Cleared), nanos(t.Alarm.Updated), t.Alarm.Value, t.Alarm.Reason
			case t.Type == Cleared && a.state == recClearing:
				a.state = recOpen
			}
		}
		sh.mu.Unlock()
	}
}

// Alarms returns the open alarms of a sensor.
func (e *Engine) Alarms(id ID) []Alarm {
	sh, h := e.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, id)
	if en == nil || en.al == nil {
		return nil
	}
	return en.appendOpen(nil)
}

func (en *entry) appendOpen(dst []Alarm) []Alarm {
	if en.al == nil {
		return dst
	}
	for i := range en.al.recs {
		if a := &en.al.recs[i]; a.state == recOpen || a.state == recClearing {
			dst = append(dst, en.alarm(a, AlarmOpen))
		}
	}
	return dst
}

// Alarm returns an alarm by its AlarmID: open, or the last cleared one of
// its rule.
func (e *Engine) Alarm(alarmID string) (Alarm, bool) {
	id, rule, ok := parseAlarmID(alarmID)
	if !ok {
		return Alarm{}, false
	}
	sh, h := e.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, id)
	if en == nil {
		return Alarm{}, false
	}
	if a := en.rec(rule); a != nil {
		return en.committed(a)
	}
	return Alarm{}, false
}

// EachAlarm calls fn for every open alarm, in no order, until fn returns
// false. fn runs without any lock held.
func (e *Engine) EachAlarm(fn func(Alarm) bool) {
	var buf []Alarm
	for i := range e.shards {
		sh := &e.shards[i]
		sh.mu.Lock()
		buf = buf[:0]
		for _, en := range sh.m {
			for ; en != nil; en = en.next {
				buf = en.appendOpen(buf)
			}
		}
		sh.mu.Unlock()
		for _, a := range buf {
			if !fn(a) {
				return
			}
		}
	}
}

// RestoreAlarm puts back an open alarm at load (cleared ones are ignored).
// The sensor must have been Put; an alarm of a rule it no longer has is
// ignored.
func (e *Engine) RestoreAlarm(al Alarm) {
	if al.State != AlarmOpen {
		return
	}
	sh, h := e.shard(al.Sensor)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, al.Sensor)
	if en == nil || al.Rule < 0 || al.Rule >= len(en.rs.rules) {
		return
	}
	a := en.newRec(al.Rule)
	var dir int8 = 1
	if c := &en.rs.c[al.Rule]; c.kind == kThreshold && c.down && (!c.up || al.Peak < c.below) {
		dir = -1
	}
	*a = alarmRec{
		id: a.id, rule: a.rule, state: recOpen, ruleKind: en.rs.rules[al.Rule].Kind, code: al.Code,
		raised: nanos(al.Raised), updated: nanos(al.Updated), count: int64(al.Count), peak: al.Peak, value: al.Value,
		dir: dir, retired: al.Retired, reason: al.Reason, version: al.Version,
	}
	if a.code == 0 {
		a.code = en.code
	}
	en.retired = en.retired || (al.Retired && a.code == en.code)
}

// Rebind proposes the clear of every open alarm of a sensor that is about to
// be rebound to another component, have its rules changed or be removed:
// persist them, then Put (or Remove) and Commit.
func (e *Engine) Rebind(id ID, now time.Time) []Transition {
	sh, h := e.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, id)
	if en == nil || en.al == nil {
		return nil
	}
	var out []Transition
	t := now.UnixNano()
	for i := range en.al.recs {
		a := &en.al.recs[i]
		out = en.clearAlarm(a, t, a.value, "sensor "+string(id)+" rebound or removed from "+a.code.String(), out)
	}
	return out
}

// Retired marks the open alarms of the sensors bound to a retired component:
// they stay open and say so (Retired, Reason), and so will later alarms of
// those sensors until they are rebound. The returned transitions are Updated
// and already applied.
func (e *Engine) Retired(code parts.Code, now time.Time) []Transition {
	var out []Transition
	t := now.UnixNano()
	for _, id := range e.ByCode(code) {
		sh, h := e.shard(id)
		sh.mu.Lock()
		if en := sh.get(h, id); en != nil && en.code == code && !en.retired {
			en.retired = true
			if en.al != nil {
				for i := range en.al.recs {
					a := &en.al.recs[i]
					if a.state == recClosed || a.retired {
						continue
					}
					a.retired = true
					a.reason += "; " + retiredReason(code)
					if a.state == recOpen || a.state == recClearing {
						a.updated = t
						a.version++
						out = append(out, Transition{Type: Updated, Alarm: en.alarm(a, AlarmOpen)})
					}
				}
			}
		}
		sh.mu.Unlock()
	}
	return out
}

func retiredReason(code parts.Code) string { return "component " + code.String() + " retired" }

// reasons

func appendNum(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.AppendFloat(b, v, 'f', 0, 64)
	}
	return strconv.AppendFloat(b, v, 'g', 6, 64)
}

func thresholdReason(v float64, above bool, limit float64) string {
	b := make([]byte, 0, 48)
	b = appendNum(append(b, "value "...), v)
	if above {
		b = append(b, " above "...)
	} else {
		b = append(b, " below "...)
	}
	return string(appendNum(b, limit))
}

func clearReason(v float64, c *crule) string {
	b := make([]byte, 0, 48)
	b = appendNum(append(b, "value "...), v)
	switch {
	case c.up && c.down:
		b = appendNum(append(b, " back between "...), c.clearAbove)
		b = appendNum(append(b, " and "...), c.clearBelow)
	case c.up:
		b = appendNum(append(b, " below "...), c.clearBelow)
	default:
		b = appendNum(append(b, " above "...), c.clearAbove)
	}
	return string(b)
}

func rateReason(d float64, span int32, c *crule, raise bool) string {
	b := make([]byte, 0, 64)
	b = appendNum(append(b, "changed by "...), d)
	b = append(append(b, " in "...), Duration(time.Duration(span)*time.Second).String()...)
	if raise {
		b = append(b, ", at least "...)
	} else {
		b = append(b, ", under "...)
	}
	b = appendNum(b, c.delta)
	b = append(append(b, " within "...), Duration(time.Duration(c.window)*time.Second).String()...)
	return string(b)
}

func silenceReason(silent time.Duration, c *crule) string {
	return "no reading for " + Duration(silent.Round(time.Second)).String() + " (after " + Duration(c.after).String() + ")"
}

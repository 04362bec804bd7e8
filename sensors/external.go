package sensors

// ApplyResult is what Engine.Apply did with an alarm.
type ApplyResult uint8

// Results of Apply.
const (
	// ApplyOlder: memory holds this alarm, or a newer one of its rule.
	ApplyOlder ApplyResult = iota
	// ApplyDone: the alarm replaced the record of its rule.
	ApplyDone
	// ApplyPending: this engine proposed a raise or a clear of the rule
	// that awaits Commit or Abort; the alarm was left out (apply it again
	// once they settled).
	ApplyPending
	// ApplyUnknown: the sensor is not registered, or has no such rule.
	ApplyUnknown
)

// Apply puts in memory an alarm that another writer (another replica)
// stored, when it is newer than the one memory holds for its rule: raised
// later; or the same raise, cleared where memory has it open; or the same
// raise in the same state at a higher version. Raise times decide before
// versions because the versions of open alarms in memory run ahead of the
// stored ones (repeats count up in memory only). A cleared alarm is kept
// as the rule's last one (Alarm returns it). The sensor must have been
// Put. It returns the alarm as memory now holds it when it was applied.
func (e *Engine) Apply(al Alarm) (Alarm, ApplyResult) {
	sh, h := e.shard(al.Sensor)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	en := sh.get(h, al.Sensor)
	if en == nil || al.Rule < 0 || al.Rule >= len(en.rs.rules) {
		return Alarm{}, ApplyUnknown
	}
	open := al.State == AlarmOpen
	raised := nanos(al.Raised)
	if a := en.rec(al.Rule); a != nil {
		if a.state == recRaising || a.state == recClearing {
			return Alarm{}, ApplyPending
		}
		switch {
		case raised < a.raised:
			return Alarm{}, ApplyOlder
		case raised > a.raised:
		case !open && a.state == recOpen:
		case open != (a.state == recOpen) || al.Version <= a.version:
			return Alarm{}, ApplyOlder
		}
	}
	a := en.newRec(al.Rule)
	var dir int8 = 1
	if c := &en.rs.c[al.Rule]; c.kind == kThreshold && c.down && (!c.up || al.Peak < c.below) {
		dir = -1
	}
	st := recClosed
	if open {
		st = recOpen
	}
	*a = alarmRec{
		id: a.id, rule: a.rule, state: st, ruleKind: en.rs.rules[al.Rule].Kind, code: al.Code,
		raised: raised, updated: nanos(al.Updated), cleared: nanos(al.Cleared), count: int64(al.Count),
		peak: al.Peak, value: al.Value, dir: dir, retired: al.Retired, reason: al.Reason, version: al.Version,
	}
	if a.code == 0 {
		a.code = en.code
	}
	if open {
		en.retired = en.retired || (al.Retired && a.code == en.code)
		return en.alarm(a, AlarmOpen), ApplyDone
	}
	return en.alarm(a, AlarmCleared), ApplyDone
}

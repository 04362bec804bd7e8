package twin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
)

// PutSensors registers or rebinds sensors, all or nothing. ifVersions, when
// not nil, holds per sensor the version the caller read (0: any). A sensor
// must be bound to a live component; a department may bind sensors only to
// components it owns or maintains. Rebinding a sensor to another component
// clears its open alarms.
func (t *Twin) PutSensors(ctx context.Context, ss []sensors.Sensor, ifVersions []uint64, actor incidents.Actor) ([]sensors.Sensor, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	t.wmu.Lock()
	defer t.wmu.Unlock()
	l := t.live
	now := t.now().UTC()
	var b Batch
	var rebound []sensors.ID // cleared only once every record passed
	out := make([]sensors.Sensor, len(ss))
	olds := make([]*sensors.Sensor, len(ss))
	seen := make(map[sensors.ID]bool, len(ss))
	for i, s := range ss {
		wrap := func(err error) error { return wrapRecord(len(ss), i, err) }
		if err := s.Validate(); err != nil {
			return nil, wrap(err)
		}
		if seen[s.ID] {
			return nil, wrap(&sensors.FieldError{Field: "id", Reason: fmt.Sprintf("sensor %s appears twice in the batch", s.ID)})
		}
		seen[s.ID] = true
		p, err := t.parts.Get(s.Code)
		if err != nil {
			return nil, wrap(err)
		}
		if err := mayTouchPart(actor, &p); err != nil {
			return nil, wrap(err)
		}
		cur, _, exists := l.sens.Get(s.ID)
		var want uint64
		if ifVersions != nil {
			want = ifVersions[i]
		}
		if exists {
			if want != 0 && want != cur.Version {
				return nil, wrap(fmt.Errorf("%w: sensor %s is at version %d, not %d", sensors.ErrVersionMismatch, s.ID, cur.Version, want))
			}
			if cur.Code != s.Code {
				if cp, err := t.parts.Get(cur.Code); err == nil || errors.Is(err, parts.ErrRetired) {
					if err := mayTouchPart(actor, &cp); err != nil {
						return nil, wrap(err)
					}
				}
			}
			// Rebound to another component, or its rules changed: its open
			// alarms no longer hold and are cleared (stored as such).
			if cur.Code != s.Code || !sameRules(cur.Rules, s.Rules) {
				rebound = append(rebound, s.ID)
			}
			c := cur
			olds[i] = &c
			s.Version = cur.Version + 1
		} else {
			if want != 0 {
				return nil, wrap(fmt.Errorf("%w: sensor %s", sensors.ErrNotFound, s.ID))
			}
			s.Version = 1
		}
		s.Updated = now
		b.Sensors = append(b.Sensors, Versioned[sensors.Sensor]{Value: s, Prev: s.Version - 1})
		out[i] = s
	}
	var clears []sensors.Transition
	for _, id := range rebound {
		clears = append(clears, l.sens.Rebind(id, now)...)
	}
	for _, tr := range clears {
		b.Alarms = append(b.Alarms, tr.Alarm)
	}
	t.caseAlarmsLocked(ctx, &b, clears, now)
	if err := t.write(ctx, b); err != nil {
		l.sens.Abort(clears)
		return nil, err
	}
	changes := make([]Change, 0, len(out)+len(clears))
	for i := range out {
		l.sens.Put(out[i])
		t.placeSensor(out[i].ID, out[i].Code)
		s := out[i]
		op := OpAdd
		if olds[i] != nil {
			op = OpModify
		}
		changes = append(changes, Change{Op: op, OldSensor: olds[i], NewSensor: &s})
	}
	changes = append(changes, t.commitAlarmsLocked(clears, b.Cases)...)
	t.emit(changes...)
	return out, nil
}

// DeleteSensor removes a sensor; its open alarms are cleared.
func (t *Twin) DeleteSensor(ctx context.Context, id sensors.ID, ifVersion uint64, actor incidents.Actor) (sensors.Sensor, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	l := t.live
	cur, _, ok := l.sens.Get(id)
	if !ok {
		return sensors.Sensor{}, fmt.Errorf("%w: %s", sensors.ErrNotFound, id)
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return sensors.Sensor{}, fmt.Errorf("%w: sensor %s is at version %d, not %d", sensors.ErrVersionMismatch, id, cur.Version, ifVersion)
	}
	if p, err := t.parts.Get(cur.Code); err == nil || errors.Is(err, parts.ErrRetired) {
		if err := mayTouchPart(actor, &p); err != nil {
			return sensors.Sensor{}, err
		}
	} else if actor.Role != incidents.RoleAdmin {
		return sensors.Sensor{}, fmt.Errorf("%w: only an admin may remove sensor %s of an unknown component", incidents.ErrNotAllowed, id)
	}
	now := t.now().UTC()
	clears := l.sens.Rebind(id, now)
	b := Batch{DeletedSensors: []Versioned[sensors.ID]{{Value: id, Prev: cur.Version}}}
	for _, tr := range clears {
		b.Alarms = append(b.Alarms, tr.Alarm)
	}
	t.caseAlarmsLocked(ctx, &b, clears, now)
	if err := t.write(ctx, b); err != nil {
		l.sens.Abort(clears)
		return sensors.Sensor{}, err
	}
	changes := t.commitAlarmsLocked(clears, b.Cases)
	l.sens.Remove(id)
	t.unplaceSensor(id)
	t.emit(append(changes, Change{Op: OpRetire, OldSensor: &cur})...)
	return cur, nil
}

// mayTouchPart checks that actor may bind sensors to p: an admin always, a
// department when it owns or maintains p, nobody else.
func mayTouchPart(actor incidents.Actor, p *parts.Part) error {
	switch actor.Role {
	case incidents.RoleAdmin:
		return nil
	case incidents.RoleDepartment:
		if actor.Dept != "" && (p.Owner == actor.Dept || p.Maintainer == actor.Dept) {
			return nil
		}
		return fmt.Errorf("%w: department %s neither owns nor maintains component %s", incidents.ErrNotAllowed, actor.Dept, p.Code)
	}
	return fmt.Errorf("%w: role %s may not bind sensors", incidents.ErrNotAllowed, actor.Role)
}

// IngestResult counts what happened to a batch of readings.
type IngestResult struct {
	Accepted int
	Raised   int
	Cleared  int
	// Rejected counts readings refused, by reason (sensors.Reason).
	Rejected map[string]int
	// Err is set when the alarms of the batch could not be stored (they
	// are proposed again by the next reading or sweep).
	Err error
}

func (r *IngestResult) reject(err error) {
	if r.Rejected == nil {
		r.Rejected = make(map[string]int)
	}
	r.Rejected[sensors.Reason(err)]++
}

// Ingester evaluates readings; it keeps a buffer so that evaluation does
// not allocate. One Ingester must not be used by two goroutines at once;
// the twin's own (Twin.Ingest) is guarded.
type Ingester struct {
	t       *Twin
	out     []sensors.Transition
	pending []sensors.Transition
}

// NewIngester returns an ingester of readings into t.
func (t *Twin) NewIngester() *Ingester {
	return &Ingester{t: t, out: make([]sensors.Transition, 0, 16)}
}

// Ingest evaluates readings against their sensors' rules. Raised and
// cleared alarms are persisted with the cases they open or update, in one
// transaction per batch; readings themselves are kept in memory only.
func (in *Ingester) Ingest(ctx context.Context, rs []sensors.Reading) IngestResult {
	var res IngestResult
	eng := in.t.live.sens
	in.pending = in.pending[:0]
	for i := range rs {
		var err error
		in.out, err = eng.Evaluate(rs[i], in.out[:0])
		if err != nil {
			res.reject(err)
			continue
		}
		res.Accepted++
		for _, tr := range in.out {
			switch tr.Type {
			case sensors.Raised:
				res.Raised++
				in.pending = append(in.pending, tr)
			case sensors.Cleared:
				res.Cleared++
				in.pending = append(in.pending, tr)
			}
		}
	}
	if len(in.pending) > 0 {
		res.Err = in.t.applyAlarms(ctx, in.pending)
	}
	return res
}

// Sweep raises silence alarms of the sensors not heard from in time and
// writes the last readings that changed since the previous checkpoint when
// it is due; it also retries the re-location of components left pending by
// a grid write (RelocationsPending). Call it about once a second.
func (t *Twin) Sweep(ctx context.Context) error {
	now := t.now().UTC()
	ts := t.live.sens.Sweep(now, nil)
	var err error
	if len(ts) > 0 {
		err = t.applyAlarms(ctx, ts)
	}
	if t.recs != nil {
		if cerr := t.checkpointStatuses(ctx, now, false); err == nil {
			err = cerr
		}
	}
	if rerr := t.retryRelocations(ctx); err == nil {
		err = rerr
	}
	return err
}

// Checkpoint writes the last reading of every sensor heard from since the
// previous checkpoint (at shutdown, say).
func (t *Twin) Checkpoint(ctx context.Context) error {
	if t.recs == nil {
		return nil
	}
	return t.checkpointStatuses(ctx, t.now().UTC(), true)
}

func (t *Twin) checkpointStatuses(ctx context.Context, now time.Time, force bool) error {
	l := t.live
	l.cpmu.Lock()
	defer l.cpmu.Unlock()
	if !force && now.Sub(l.checkpoint) < l.opts.CheckpointEvery {
		return nil
	}
	since := l.checkpoint
	var sts []sensors.Status
	l.sens.Each(func(_ sensors.Sensor, st sensors.Status) bool {
		if st.Time.After(since) || (!st.Time.IsZero() && st.Time.Equal(since)) {
			sts = append(sts, st)
		}
		return true
	})
	// Not under the write mutex, and in small transactions: last readings
	// are not versioned records, and alarms and cases must not wait behind
	// a hundred thousand of them.
	for lo := 0; lo < len(sts); lo += checkpointChunk {
		if err := t.write(ctx, Batch{Statuses: sts[lo:min(lo+checkpointChunk, len(sts))]}); err != nil {
			return err
		}
	}
	l.checkpoint = now
	return nil
}

// checkpointChunk is how many last readings one transaction of a
// checkpoint writes.
const checkpointChunk = 100

// applyAlarms persists raised and cleared alarms with the cases they open
// or update, then applies them: the sensor side of the single write path.
func (t *Twin) applyAlarms(ctx context.Context, ts []sensors.Transition) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	now := t.now().UTC()
	var b Batch
	for _, tr := range ts {
		b.Alarms = append(b.Alarms, tr.Alarm)
	}
	t.caseAlarmsLocked(ctx, &b, ts, now)
	if err := t.write(ctx, b); err != nil {
		t.live.sens.Abort(ts)
		return err
	}
	t.emit(t.commitAlarmsLocked(ts, b.Cases)...)
	return nil
}

// commitAlarmsLocked applies persisted alarm transitions and the cases
// written with them, and returns the changes to emit.
func (t *Twin) commitAlarmsLocked(ts []sensors.Transition, cases []Versioned[incidents.Case]) []Change {
	l := t.live
	l.sens.Commit(ts)
	changes := make([]Change, 0, len(ts)+len(cases))
	for _, tr := range ts {
		a := tr.Alarm
		op := OpModify
		switch tr.Type {
		case sensors.Raised:
			op = OpAdd
		case sensors.Cleared:
			op = OpRetire
		}
		changes = append(changes, Change{Op: op, Alarm: &a})
	}
	for _, v := range cases {
		changes = append(changes, t.putCaseLocked(v))
	}
	return changes
}

// partAlarms marks the open alarms of retired components and moves the
// sensors of moved ones; called by the part write path after it applied.
func (t *Twin) partAlarmsLocked(ctx context.Context, olds []*parts.Part, news []parts.Part) []Change {
	if t.live == nil {
		return nil
	}
	now := t.now().UTC()
	var ts []sensors.Transition
	for i := range news {
		ids := t.live.sens.ByCode(news[i].Code)
		if len(ids) == 0 {
			continue
		}
		if news[i].Retired && (olds[i] == nil || !olds[i].Retired) {
			ts = append(ts, t.live.sens.Retired(news[i].Code, now)...)
		}
		for _, id := range ids {
			t.placeSensor(id, news[i].Code)
		}
	}
	if len(ts) == 0 {
		return nil
	}
	var b Batch
	for _, tr := range ts {
		b.Alarms = append(b.Alarms, tr.Alarm)
	}
	if t.recs != nil {
		// The component write is already stored; the alarms' retired flag
		// follows in a transaction of its own. Should it fail, memory still
		// says so and the next write of the alarm stores it.
		_ = t.write(ctx, b)
	}
	changes := make([]Change, 0, len(ts))
	for _, tr := range ts {
		a := tr.Alarm
		changes = append(changes, Change{Op: OpModify, Alarm: &a})
	}
	return changes
}

// sameRules reports whether two rule lists say the same.
func sameRules(a, b []sensors.Rule) bool {
	return slices.EqualFunc(a, b, func(x, y sensors.Rule) bool {
		eq := func(p, q *float64) bool { return (p == nil) == (q == nil) && (p == nil || *p == *q) }
		return x.Kind == y.Kind && eq(x.Above, y.Above) && eq(x.ClearBelow, y.ClearBelow) && eq(x.Below, y.Below) &&
			eq(x.ClearAbove, y.ClearAbove) && x.Delta == y.Delta && x.Window == y.Window && x.After == y.After
	})
}

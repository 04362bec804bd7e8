package twin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
)

// system is the actor of what citytwin does by itself: registering and
// dispatching the reports of trusted sources, opening cases for alarms.
var system = incidents.Actor{Name: "citytwin", Role: incidents.RoleAdmin}

// actionMerge is the history entry of a report merged into an open case.
const actionMerge incidents.Action = "merge"

// actionAlarm is the history entry of an alarm added to a case.
const actionAlarm incidents.Action = "alarm"

// Report takes in a report: it is routed to the responsible department
// (the route and its evidence are kept), merged into an open case of the
// same class nearby when there is one (merged is then true), and, from a
// trusted source, registered and dispatched at once with its deadline.
// Reports arriving together are committed together (group commit: one
// store transaction for all of them), so intake is not bound by one
// transaction per report.
func (t *Twin) Report(ctx context.Context, r incidents.Report, actor incidents.Actor) (c incidents.Case, merged bool, err error) {
	if err := r.Validate(); err != nil {
		return incidents.Case{}, false, err
	}
	req := &intakeReq{ctx: ctx, r: r, actor: actor, done: make(chan intakeRes, 1)}
	t.live.intake.submit(req, t.intakeBatch)
	res := <-req.done
	return res.c, res.merged, res.err
}

// newCaseLocked builds a routed case of version 1, state reported, from a
// report.
func (t *Twin) newCaseLocked(ctx context.Context, r incidents.Report, now time.Time) (incidents.Case, error) {
	id, err := incidents.NewID(now, rand.Reader)
	if err != nil {
		return incidents.Case{}, err
	}
	c := incidents.Case{
		ID:          id,
		Version:     1,
		Source:      r.Source,
		Type:        r.Type,
		Class:       r.Class,
		Code:        r.Code,
		Description: r.Description,
		Media:       slices.Clone(r.Media),
		State:       incidents.StateReported,
		Reported:    now,
	}
	if r.Location != nil {
		c.Location = *r.Location
	}
	rep := r.Reporter
	if rep.Time.IsZero() {
		rep.Time = now
	}
	if rep.Source == "" {
		rep.Source = r.Source
	}
	c.Reporters = []incidents.Reporter{rep}
	if c.Code != 0 {
		p, err := t.parts.Get(c.Code)
		if err != nil {
			return incidents.Case{}, fmt.Errorf("%w: %w", incidents.ErrUnknownComponent, err)
		}
		if r.Location == nil {
			c.Location = RepresentativePoint(p.Geometry)
		}
		if c.Class == "" {
			c.Class = p.Code.Class().String()
			c.Type = incidents.TypeComponent
		}
	}
	route, dept, err := t.live.router.Route(ctx, &c)
	if err != nil {
		return incidents.Case{}, err
	}
	c.Route, c.Dept = route, dept
	if c.Grid == "" {
		if g, err := t.grids.Locate(c.Location); err == nil {
			c.Grid = string(g.Code)
		}
	}
	c.History = append(c.History, incidents.Entry{Time: now, Actor: incidents.Actor{Name: rep.Name, Role: incidents.Role(rep.Source)}, Action: "report", To: incidents.StateReported, Note: fmt.Sprintf("routed to %s by %s", dept, route.Rule), Dept: dept})
	return c, nil
}

// admitLocked registers and dispatches a new case from a trusted source,
// setting its deadline, and returns the notifications of the dispatch.
func (t *Twin) admitLocked(c incidents.Case, actor incidents.Actor, now time.Time) (incidents.Case, []incidents.Notification, error) {
	if !slices.Contains(t.live.opts.Trusted, c.Source) {
		return c, nil, nil
	}
	by := system
	if actor.Name != "" {
		by = incidents.Actor{Name: actor.Name + " (trusted source)", Role: incidents.RoleAdmin, Dept: actor.Dept}
	}
	for _, a := range []incidents.Action{incidents.ActionRegister, incidents.ActionDispatch} {
		dept := ""
		if a == incidents.ActionDispatch {
			dept = c.Dept
		}
		next, err := incidents.Transition(c, a, by, "trusted source", dept, now)
		if err != nil {
			return incidents.Case{}, nil, err
		}
		c = next
		if a == incidents.ActionRegister {
			c.Due = t.Calendar().Deadline(now, c.Key())
		}
	}
	c.Version = 1
	ns, err := t.notificationsLocked(c, now)
	return c, ns, err
}

// mergeInto adds the reporters, media and description of report r to the
// open case c.
func mergeInto(c incidents.Case, r incidents.Case, actor incidents.Actor, now time.Time) incidents.Case {
	c.Reporters = append(slices.Clone(c.Reporters), r.Reporters...)
	c.Media = append(slices.Clone(c.Media), r.Media...)
	c.History = append(slices.Clone(c.History), incidents.Entry{
		Time: now, Actor: actor, Action: actionMerge, From: c.State, To: c.State,
		Note: fmt.Sprintf("report by %s (%s) merged: %s", r.Reporters[0].Name, r.Source, r.Description),
	})
	c.Version++
	return c
}

// Act performs an action of the case workflow. ifVersion, when not 0,
// must equal the current version. dept names the department of a
// dispatch (default: the routed one); a dispatch to another department
// than the route's records the note as the reason.
func (t *Twin) Act(ctx context.Context, id incidents.ID, a incidents.Action, note, dept string, ifVersion uint64, actor incidents.Actor) (incidents.Case, error) {
	return t.ActMedia(ctx, id, a, note, dept, nil, ifVersion, actor)
}

// ActMedia is Act with evidence: links to photos or videos kept with the
// history entry (a report back, say).
func (t *Twin) ActMedia(ctx context.Context, id incidents.ID, a incidents.Action, note, dept string, media []string, ifVersion uint64, actor incidents.Actor) (incidents.Case, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	cur, err := t.live.cases.Get(id)
	if err != nil {
		return incidents.Case{}, err
	}
	if ifVersion != 0 && ifVersion != cur.Version {
		return incidents.Case{}, fmt.Errorf("%w: case %s is at version %d, not %d", incidents.ErrVersionMismatch, id, cur.Version, ifVersion)
	}
	if a == incidents.ActionDispatch && dept == "" {
		dept = cur.Dept
	}
	now := t.now().UTC()
	next, err := incidents.TransitionMedia(cur, a, actor, note, dept, media, now)
	if err != nil {
		return incidents.Case{}, err
	}
	if a == incidents.ActionRegister && next.Due.IsZero() {
		next.Due = t.Calendar().Deadline(now, next.Key())
	}
	b := Batch{Cases: []Versioned[incidents.Case]{{Value: next, Prev: cur.Version}}}
	if next.State == incidents.StateDispatched && cur.State != incidents.StateDispatched {
		if b.Notifications, err = t.notificationsLocked(next, now); err != nil {
			return incidents.Case{}, err
		}
	}
	if err := t.write(ctx, b); err != nil {
		return incidents.Case{}, err
	}
	t.emit(t.putCaseLocked(b.Cases[0]))
	return next, nil
}

// putCaseLocked applies a stored case and returns its change.
func (t *Twin) putCaseLocked(v Versioned[incidents.Case]) Change {
	c := v.Value
	ch := Change{Op: OpAdd, NewCase: &c}
	if old, existed := t.live.cases.Put(c); existed {
		ch.Op, ch.OldCase = OpModify, &old
	}
	return ch
}

// notificationsLocked returns the outbox rows that tell c's department of
// its dispatch: its MQTT topic always, its webhook when it has one.
func (t *Twin) notificationsLocked(c incidents.Case, now time.Time) ([]incidents.Notification, error) {
	l := t.live
	d, err := l.dir.Get(c.Dept)
	if err != nil {
		d = incidents.Department{Code: c.Dept}
	}
	if d.Topic == "" {
		d.Topic = l.opts.TopicPrefix + "/dispatch/" + c.Dept
	}
	return incidents.Notifications(c, d, l.opts.Link+"/incidents/"+string(c.ID), now)
}

// caseAlarmsLocked adds to b the cases that alarm transitions open or
// update: one open case per component and problem (the sensor kind); a
// repeat or a second alarm on the same component adds to it. An alarm whose
// case cannot be routed (its component is gone) stands on its own.
func (t *Twin) caseAlarmsLocked(ctx context.Context, b *Batch, ts []sensors.Transition, now time.Time) {
	l := t.live
	touched := map[string]int{} // problem -> index in b.Cases
	for _, tr := range ts {
		if tr.Type != sensors.Raised && tr.Type != sensors.Cleared {
			continue
		}
		a := tr.Alarm
		problem := a.Code.String() + "/" + string(a.Kind)
		var c incidents.Case
		var prev uint64
		i, inBatch := touched[problem]
		switch {
		case inBatch:
			c = b.Cases[i].Value
		default:
			open, ok := l.cases.ByProblem(problem)
			if ok {
				c, prev = open, open.Version
			} else if tr.Type == sensors.Cleared {
				continue
			}
		}
		if c.ID == "" {
			nc, ns, err := t.alarmCaseLocked(ctx, a, problem, now)
			if err != nil {
				// No case can be routed (the component is gone): the alarm
				// stands on its own.
				continue
			}
			touched[problem] = len(b.Cases)
			b.Cases = append(b.Cases, Versioned[incidents.Case]{Value: nc})
			b.Notifications = append(b.Notifications, ns...)
			continue
		}
		note := fmt.Sprintf("alarm %s raised: %s", a.ID, a.Reason)
		if tr.Type == sensors.Cleared {
			note = fmt.Sprintf("alarm %s cleared: %s", a.ID, a.Reason)
		} else if !slices.Contains(c.Alarms, a.ID) {
			c.Alarms = append(slices.Clone(c.Alarms), a.ID)
		}
		c.History = append(slices.Clone(c.History), incidents.Entry{Time: now, Actor: system, Action: actionAlarm, From: c.State, To: c.State, Note: note})
		if !inBatch {
			c.Version++
			touched[problem] = len(b.Cases)
			b.Cases = append(b.Cases, Versioned[incidents.Case]{Value: c, Prev: prev})
		} else {
			b.Cases[i].Value = c
		}
	}
}

// alarmCaseLocked opens the case of a raised alarm on its component.
func (t *Twin) alarmCaseLocked(ctx context.Context, a sensors.Alarm, problem string, now time.Time) (incidents.Case, []incidents.Notification, error) {
	p, err := t.parts.Get(a.Code)
	if err != nil && !errors.Is(err, parts.ErrRetired) {
		return incidents.Case{}, nil, err
	}
	r := incidents.Report{
		Type:        incidents.TypeComponent,
		Class:       a.Code.Class().String(),
		Code:        a.Code,
		Description: fmt.Sprintf("%s alarm on sensor %s: %s", a.Kind, a.Sensor, a.Reason),
		Source:      incidents.SourceSensor,
		Reporter:    incidents.Reporter{Name: "sensor " + string(a.Sensor), Source: incidents.SourceSensor, Time: now},
	}
	if p.Geometry != nil {
		pt := orb.Point(RepresentativePoint(p.Geometry))
		r.Location = &pt
	}
	c, err := t.newCaseLocked(ctx, r, now)
	if err != nil {
		return incidents.Case{}, nil, err
	}
	c.Problem = problem
	c.Alarms = []string{a.ID}
	return t.admitLocked(c, incidents.Actor{}, now)
}

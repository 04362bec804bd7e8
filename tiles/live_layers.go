package tiles

import (
	"context"
	"time"

	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/sensors"
)

// Alarm states of a sensor in the sensors layer.
const (
	SensorAlarmNone    = "none"    // no open alarm
	SensorAlarmOpen    = "open"    // an open alarm
	SensorAlarmRetired = "retired" // open alarms only because its component was retired
)

// sensorItems reads the sensors in the buffered tile: id, kind, name (of
// the kind), code, unit, online, alarm (none, open or retired) and alarms
// (how many are open). Alarmed sensors rank first, then offline ones.
func (l *Live) sensorItems(ctx context.Context, pr *projection) ([]liveItem, error) {
	eng := l.src.Sensors()
	var items []liveItem
	err := l.src.SearchSensors(ctx, pr.lonlat, func(id sensors.ID, at orb.Point) bool {
		x, y, ok := place(pr, at)
		if !ok {
			return true
		}
		s, st, ok := eng.Get(id)
		if !ok {
			return true
		}
		open := eng.Alarms(id)
		state, rank := SensorAlarmNone, int64(0)
		if len(open) > 0 {
			state, rank = SensorAlarmRetired, 2
			for _, a := range open {
				if !a.Retired {
					state, rank = SensorAlarmOpen, 3
					break
				}
			}
		} else if !st.Online {
			rank = 1
		}
		name := string(s.Kind)
		if ki, ok := sensors.LookupKind(s.Kind); ok && ki.Name != "" {
			name = ki.Name
		}
		items = append(items, liveItem{x: x, y: y, rank: rank, id: string(id), count: 1, props: []liveProp{
			propStr("id", string(id)), propStr("kind", string(s.Kind)), propStr("name", name), propStr("code", s.Code.String()),
			propStr("unit", s.Unit), propFlag("online", st.Online), propStr("alarm", state), propNum("alarms", len(open)),
		}})
		return len(items) < l.o.MaxScan
	})
	return items, err
}

// alarmItems reads the open alarms of the sensors in the buffered tile:
// id, sensor, code, kind, rule_kind, count, raised (RFC 3339), retired and
// reason. The most recently raised rank first.
func (l *Live) alarmItems(ctx context.Context, pr *projection) ([]liveItem, error) {
	eng := l.src.Sensors()
	var items []liveItem
	err := l.src.SearchSensors(ctx, pr.lonlat, func(id sensors.ID, at orb.Point) bool {
		x, y, ok := place(pr, at)
		if !ok {
			return true
		}
		for _, a := range eng.Alarms(id) {
			items = append(items, liveItem{x: x, y: y, rank: a.Raised.Unix(), id: a.ID, count: 1, props: []liveProp{
				propStr("id", a.ID), propStr("sensor", string(a.Sensor)), propStr("code", a.Code.String()), propStr("kind", string(a.Kind)),
				propStr("rule_kind", string(a.RuleKind)), propNum("count", a.Count), propStr("raised", a.Raised.UTC().Format(time.RFC3339)),
				propFlag("retired", a.Retired), propStr("reason", a.Reason),
			}})
		}
		return len(items) < l.o.MaxScan
	})
	return items, err
}

// openStates are the states of the cases the incidents layer shows.
func openStates() []incidents.State {
	var out []incidents.State
	for _, s := range incidents.States() {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}

// caseItems reads the open cases in the buffered tile: id, state, type,
// class, dept, grid, code, source, overdue and supervised. Overdue cases
// rank first, then supervised ones.
func (l *Live) caseItems(ctx context.Context, pr *projection, now time.Time) ([]liveItem, error) {
	b := pr.lonlat
	q := incidents.Query{Bound: &b, States: openStates(), Limit: incidents.MaxLimit}
	var items []liveItem
	for {
		page, err := l.src.Cases().Search(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range page.Cases {
			c := &page.Cases[i]
			x, y, ok := place(pr, c.Location)
			if !ok {
				continue
			}
			overdue := c.Overdue(now)
			rank := int64(0)
			if overdue {
				rank += 2
			}
			if c.Supervised {
				rank++
			}
			code := ""
			if c.Code != 0 {
				code = c.Code.String()
			}
			items = append(items, liveItem{x: x, y: y, rank: rank, id: string(c.ID), count: 1, props: []liveProp{
				propStr("id", string(c.ID)), propStr("state", string(c.State)), propStr("type", string(c.Type)), propStr("class", c.Class),
				propStr("dept", c.Dept), propStr("grid", c.Grid), propStr("code", code), propStr("source", string(c.Source)),
				propFlag("overdue", overdue), propFlag("supervised", c.Supervised),
			}})
		}
		if page.Next == "" || len(items) >= l.o.MaxScan {
			return items, nil
		}
		q.Cursor = page.Next
	}
}

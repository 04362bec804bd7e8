package twin

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"citytwin/incidents"
	"citytwin/parts"
	"citytwin/sensors"
	"citytwin/spatial"
)

// CaseOptions configures how cases are opened and routed. The zero value
// gives the defaults.
type CaseOptions struct {
	// Trusted are the sources whose reports are registered and dispatched
	// at once (default: sensor and inspector); others start reported.
	Trusted []incidents.Source
	// MergeDistance and MergeWindow: a report of the same class within
	// this distance (metres, default 30) of an open case reported within
	// this window (default 24 h) is merged into it.
	MergeDistance float64
	MergeWindow   time.Duration
	// MaxDistance is how far a point report looks for a component of its
	// class (metres, default 15).
	MaxDistance float64
	// TopicPrefix is the MQTT topic prefix of dispatch notifications
	// (default "citytwin": citytwin/dispatch/{dept}).
	TopicPrefix string
	// Link is the base URL of case links in notifications (default
	// "http://127.0.0.1:8080").
	Link string
	// AlarmHistory is how far back cleared alarms are loaded (default 7 days).
	AlarmHistory time.Duration
	// CheckpointEvery is how often the last readings are written to the
	// store (default 10 s).
	CheckpointEvery time.Duration
}

func (o CaseOptions) withDefaults() CaseOptions {
	if o.Trusted == nil {
		o.Trusted = []incidents.Source{incidents.SourceSensor, incidents.SourceInspector}
	}
	if o.MergeDistance <= 0 {
		o.MergeDistance = 30
	}
	if o.MergeWindow <= 0 {
		o.MergeWindow = 24 * time.Hour
	}
	if o.MaxDistance <= 0 {
		o.MaxDistance = 15
	}
	if o.TopicPrefix == "" {
		o.TopicPrefix = "citytwin"
	}
	if o.Link == "" {
		o.Link = "http://127.0.0.1:8080"
	}
	if o.AlarmHistory <= 0 {
		o.AlarmHistory = 7 * 24 * time.Hour
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 10 * time.Second
	}
	return o
}

// live is the twin's state beyond components and grids: the sensor
// engine with the places of the sensors, the cases, the departments, the
// responsibility table and the work calendar.
type live struct {
	opts   CaseOptions
	sens   *sensors.Engine
	cases  *incidents.Book
	dir    *incidents.Directory
	table  *incidents.MemTable
	events *incidents.Events
	router *incidents.Router

	cmu sync.RWMutex // guards cal
	cal incidents.Calendar

	smu sync.RWMutex // guards at and ix
	at  map[sensors.ID]orb.Point
	ix  spatial.Index[sensors.ID]

	cpmu       sync.Mutex // serialises checkpoints of the last readings
	checkpoint time.Time  // statuses newer than this are not stored yet (under cpmu)

	intake groupCommit[*intakeReq] // reports committed together
}

func newLive(t *Twin, o Options) *live {
	so := o.Sensors
	if so.Now == nil {
		so.Now = t.now
	}
	l := &live{
		opts:   o.Cases.withDefaults(),
		sens:   sensors.NewEngine(so),
		cases:  incidents.NewBook(),
		dir:    incidents.NewDirectory(),
		table:  incidents.NewMemTable(),
		events: incidents.DefaultEvents(),
		cal:    incidents.DefaultCalendar(),
		at:     make(map[sensors.ID]orb.Point),
	}
	l.router = &incidents.Router{
		Parts:       t.parts,
		Grids:       t.grids,
		Table:       l.table,
		MaxDistance: l.opts.MaxDistance,
		Catalogue:   t.cat,
		Events:      l.events,
	}
	l.checkpoint = t.now()
	return l
}

// loadLive loads sensors, alarms, cases, departments, the responsibility
// table and the calendar from the store.
func (t *Twin) loadLive(ctx context.Context, progress func(string, int, int)) error {
	l := t.live
	r := t.recs
	if err := r.LoadDepartments(ctx, func(d incidents.Department) error {
		l.dir.Put(d)
		return nil
	}); err != nil {
		return fmt.Errorf("twin: loading departments: %w", err)
	}
	if err := r.LoadResponsibilities(ctx, func(x incidents.Responsibility) error {
		l.table.Put(x)
		return nil
	}); err != nil {
		return fmt.Errorf("twin: loading responsibilities: %w", err)
	}
	if l.table.Len() == 0 {
		// A city that has not written its own table yet routes events by
		// the catalogue's usual departments; the first edit stores rows.
		for _, x := range incidents.DefaultResponsibilities(l.events) {
			x.Version = 0 // not stored: the first edit inserts it
			l.table.Put(x)
		}
	}
	cal, ok, err := r.LoadCalendar(ctx)
	if err != nil {
		return fmt.Errorf("twin: loading the calendar: %w", err)
	}
	if ok {
		l.cal = cal
	}
	n := 0
	if err := r.LoadSensors(ctx, func(s sensors.Sensor, st sensors.Status) error {
		l.sens.Put(s)
		if !st.Time.IsZero() {
			l.sens.RestoreStatus(st)
		}
		t.placeSensor(s.ID, s.Code)
		n++
		if n%10000 == 0 {
			progress("sensors", n, 0)
		}
		return ctx.Err()
	}); err != nil {
		return fmt.Errorf("twin: loading sensors: %w", err)
	}
	progress("sensors", n, n)
	if err := r.LoadAlarms(ctx, t.now().Add(-l.opts.AlarmHistory), func(a sensors.Alarm) error {
		l.sens.RestoreAlarm(a)
		return nil
	}); err != nil {
		return fmt.Errorf("twin: loading alarms: %w", err)
	}
	n = 0
	if err := r.LoadCases(ctx, func(c incidents.Case) error {
		l.cases.Put(c)
		n++
		return ctx.Err()
	}); err != nil {
		return fmt.Errorf("twin: loading cases: %w", err)
	}
	progress("cases", n, n)
	return nil
}

// records returns the store of sensors and cases, or ErrReadOnly.
func (t *Twin) records() (Records, error) {
	if t.recs == nil {
		return nil, fmt.Errorf("%w: the store keeps no sensors or cases", ErrReadOnly)
	}
	return t.recs, nil
}

// write persists b, mapping a failure to ErrStore (a conflict stays
// ErrConflict).
func (t *Twin) write(ctx context.Context, b Batch) error {
	if b.IsZero() {
		return nil
	}
	r, err := t.records()
	if err != nil {
		return err
	}
	return storeErr(r.Write(ctx, b))
}

// Sensors returns the sensor engine for reads.
func (t *Twin) Sensors() *sensors.Engine { return t.live.sens }

// Cases returns the cases for reads.
func (t *Twin) Cases() *incidents.Book { return t.live.cases }

// Departments returns the department directory for reads.
func (t *Twin) Departments() *incidents.Directory { return t.live.dir }

// Responsibilities returns the class responsibility table for reads.
func (t *Twin) Responsibilities() *incidents.MemTable { return t.live.table }

// Events returns the event class catalogue.
func (t *Twin) Events() *incidents.Events { return t.live.events }

// Calendar returns the work calendar that sets deadlines.
func (t *Twin) Calendar() incidents.Calendar {
	t.live.cmu.RLock()
	defer t.live.cmu.RUnlock()
	return t.live.cal
}

// SensorAt returns where a sensor is: the representative point of its
// component.
func (t *Twin) SensorAt(id sensors.ID) (orb.Point, bool) {
	t.live.smu.RLock()
	defer t.live.smu.RUnlock()
	p, ok := t.live.at[id]
	return p, ok
}

// SearchSensors calls fn with the sensors whose place is in b until fn
// returns false; it returns ctx.Err().
func (t *Twin) SearchSensors(ctx context.Context, b orb.Bound, fn func(id sensors.ID, at orb.Point) bool) error {
	t.live.smu.RLock()
	var ids []sensors.ID
	err := t.live.ix.SearchContext(ctx, b, func(id sensors.ID) bool {
		ids = append(ids, id)
		return true
	})
	t.live.smu.RUnlock()
	if err != nil {
		return err
	}
	for _, id := range ids {
		p, ok := t.SensorAt(id)
		if ok && b.Contains(p) && !fn(id, p) {
			break
		}
	}
	return ctx.Err()
}

// placeSensor puts sensor id at the representative point of component
// code (nowhere when the code is unknown).
func (t *Twin) placeSensor(id sensors.ID, code parts.Code) {
	l := t.live
	p, err := t.parts.Get(code)
	var at orb.Point
	ok := p.Geometry != nil && (err == nil || p.Retired)
	if ok {
		at = RepresentativePoint(p.Geometry)
	}
	l.smu.Lock()
	defer l.smu.Unlock()
	if old, had := l.at[id]; had {
		l.ix.Delete(orb.Bound{Min: old, Max: old}, id)
		delete(l.at, id)
	}
	if ok {
		l.at[id] = at
		l.ix.Insert(orb.Bound{Min: at, Max: at}, id)
	}
}

func (t *Twin) unplaceSensor(id sensors.ID) {
	l := t.live
	l.smu.Lock()
	defer l.smu.Unlock()
	if old, had := l.at[id]; had {
		l.ix.Delete(orb.Bound{Min: old, Max: old}, id)
		delete(l.at, id)
	}
}

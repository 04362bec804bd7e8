package incidents

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Shanghai on hosts without a zoneinfo database
)

// Units of a Limit.
const (
	UnitHours = "hours" // working hours: only time between DayStart and DayEnd of working days counts
	UnitDays  = "days"  // working days: the deadline is the end of the Nth working day
)

// Limit is the time allowed to handle cases of a class. Class is a class
// key ("event:0102", "component:0101", see ClassKey) or a bare 4-digit
// class that holds for both types.
type Limit struct {
	Class  string `json:"class,omitempty"`
	Amount int    `json:"amount"`
	Unit   string `json:"unit"` // "hours" | "days"
}

// Calendar is the work calendar of a city: working hours, weekends, public
// holidays and swapped working days (调休), and the deadline of each class.
// The zero value is usable: it means DefaultCalendar's hours, zone and
// weekend, no holidays, and a default limit of 2 working days.
type Calendar struct {
	Location string         `json:"location,omitempty"` // IANA zone; "" means Asia/Shanghai
	DayStart string         `json:"dayStart,omitempty"` // "08:30"; "" means 08:30
	DayEnd   string         `json:"dayEnd,omitempty"`   // "17:30"; "" means 17:30
	Weekend  []time.Weekday `json:"weekend,omitempty"`  // nil means Saturday and Sunday; an empty list means none
	Holidays []string       `json:"holidays,omitempty"` // "2026-10-01": days off, weekdays included
	Workdays []string       `json:"workdays,omitempty"` // "2026-10-10": working days, weekend days included (调休)
	Limits   []Limit        `json:"limits,omitempty"`
	Default  Limit          `json:"default"` // for classes without a limit; zero means 2 working days
}

// Defaults of a Calendar.
const (
	DefaultLocation = "Asia/Shanghai"
	DefaultDayStart = "08:30"
	DefaultDayEnd   = "17:30"
)

// maxSearchDays bounds the walk over the calendar (a calendar without
// working days would never end it).
const maxSearchDays = 3660

// DefaultCalendar returns the working calendar of DOMAIN.md: 08:30-17:30,
// Monday to Friday, Asia/Shanghai, and the per-class limits of the rules
// cities publish (exposed rubbish 4 h, road cleaning 2 h, illegal
// construction 4 h to stop, manhole covers 24 h, ...), default 2 working
// days. Holidays are the city's to add, year by year.
func DefaultCalendar() Calendar {
	c := Calendar{
		Location: DefaultLocation,
		DayStart: DefaultDayStart,
		DayEnd:   DefaultDayEnd,
		Weekend:  []time.Weekday{time.Saturday, time.Sunday},
		Default:  Limit{Amount: 2, Unit: UnitDays},
	}
	hours := func(key string, n int) { c.Limits = append(c.Limits, Limit{Class: key, Amount: n, Unit: UnitHours}) }
	days := func(key string, n int) { c.Limits = append(c.Limits, Limit{Class: key, Amount: n, Unit: UnitDays}) }
	// Events.
	hours("event:0101", 4) // illegal construction: stop within 4 h
	hours("event:0102", 4) // exposed rubbish
	hours("event:0103", 8)
	hours("event:0104", 2) // dirty road
	hours("event:0111", 4) // standing water
	days("event:0201", 1)  // illegal flyers
	hours("event:0301", 4) // noise
	hours("event:0302", 4) // dust
	hours("event:0303", 2)
	hours("event:0401", 2) // road collapse
	hours("event:0402", 2) // burst water main
	hours("event:0403", 1) // gas pipe rupture
	hours("event:0404", 4) // blocked drain
	hours("event:0411", 1) // fire
	hours("event:0501", 2) // unlicensed vendors
	hours("event:0505", 1) // illegal parking
	hours("event:0510", 2) // open-air barbecue
	// Components: a missing or damaged manhole cover is fixed within 24 h.
	for _, cl := range []string{"0101", "0102", "0103", "0104", "0105", "0106", "0107", "0108", "0109", "0110",
		"0111", "0112", "0114", "0127", "0128", "0129", "0130"} {
		hours("component:"+cl, 24)
	}
	hours("component:0113", 8) // fire hydrant
	days("component:0118", 2)  // street lamp
	hours("component:0214", 8) // traffic light
	hours("component:0305", 4) // litter bin
	return c
}

// workCal is a Calendar compiled for one computation.
type workCal struct {
	loc        *time.Location
	start, end time.Duration // since midnight
	weekend    [7]bool
	holidays   []string
	workdays   []string
}

func parseClock(field, s, def string) (time.Duration, error) {
	if s == "" {
		s = def
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, &FieldError{Field: field, Reason: fmt.Sprintf("%q is not a time HH:MM", s)}
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// loadLocation loads the calendar's zone; Asia/Shanghai falls back to a
// fixed +08:00 zone should the zone database be missing.
func loadLocation(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultLocation
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		if name == DefaultLocation {
			return chinaTime, nil
		}
		return nil, &FieldError{Field: "location", Reason: fmt.Sprintf("%q is not an IANA time zone", name)}
	}
	return loc, nil
}

func (c Calendar) compile() (*workCal, error) {
	w := &workCal{holidays: c.Holidays, workdays: c.Workdays}
	var err error
	if w.loc, err = loadLocation(c.Location); err != nil {
		return nil, err
	}
	if w.start, err = parseClock("dayStart", c.DayStart, DefaultDayStart); err != nil {
		return nil, err
	}
	if w.end, err = parseClock("dayEnd", c.DayEnd, DefaultDayEnd); err != nil {
		return nil, err
	}
	if w.end <= w.start {
		return nil, &FieldError{Field: "dayEnd", Reason: "the working day must end after it starts"}
	}
	weekend := c.Weekend
	if weekend == nil {
		weekend = []time.Weekday{time.Saturday, time.Sunday}
	}
	for _, d := range weekend {
		if d < time.Sunday || d > time.Saturday {
			return nil, &FieldError{Field: "weekend", Reason: fmt.Sprintf("%d is not a weekday 0-6", d)}
		}
		w.weekend[d] = true
	}
	return w, nil
}

// Validate checks the calendar; errors are *FieldError.
func (c Calendar) Validate() error {
	if _, err := c.compile(); err != nil {
		return err
	}
	for i, d := range c.Holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return &FieldError{Field: fmt.Sprintf("holidays[%d]", i), Reason: fmt.Sprintf("%q is not a date YYYY-MM-DD", d)}
		}
		if slices.Contains(c.Workdays, d) {
			return &FieldError{Field: fmt.Sprintf("holidays[%d]", i), Reason: fmt.Sprintf("%s is also a working day", d)}
		}
	}
	for i, d := range c.Workdays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return &FieldError{Field: fmt.Sprintf("workdays[%d]", i), Reason: fmt.Sprintf("%q is not a date YYYY-MM-DD", d)}
		}
	}
	seen := make(map[string]bool)
	for i, l := range c.Limits {
		f := fmt.Sprintf("limits[%d]", i)
		if l.Class == "" {
			return &FieldError{Field: f + ".class", Reason: "a class is required"}
		}
		cl := l.Class
		if t, rest, ok := strings.Cut(l.Class, ":"); ok {
			if _, err := ParseType(t); err != nil {
				return &FieldError{Field: f + ".class", Reason: fmt.Sprintf("%q: type %q is not component or event", l.Class, t)}
			}
			cl = rest
		}
		if err := validateClass(f+".class", cl); err != nil {
			return err
		}
		if seen[l.Class] {
			return &FieldError{Field: f + ".class", Reason: fmt.Sprintf("%s has two limits", l.Class)}
		}
		seen[l.Class] = true
		if err := l.validate(f); err != nil {
			return err
		}
	}
	if c.Default != (Limit{}) {
		if err := c.Default.validate("default"); err != nil {
			return err
		}
	}
	return nil
}

func (l Limit) validate(field string) error {
	switch l.Unit {
	case UnitHours:
		if l.Amount < 1 || l.Amount > 24*366 {
			return &FieldError{Field: field + ".amount", Reason: fmt.Sprintf("%d hours is not 1..%d", l.Amount, 24*366)}
		}
	case UnitDays:
		if l.Amount < 1 || l.Amount > 366 {
			return &FieldError{Field: field + ".amount", Reason: fmt.Sprintf("%d days is not 1..366", l.Amount)}
		}
	default:
		return &FieldError{Field: field + ".unit", Reason: fmt.Sprintf("%q is not hours or days", l.Unit)}
	}
	return nil
}

// Limit returns the limit of a class key ("event:0102"): the limit with
// that key, else the limit of the bare class ("0102"), else Default (2
// working days when zero).
func (c Calendar) Limit(class string) Limit {
	bare := class
	if _, rest, ok := strings.Cut(class, ":"); ok {
		bare = rest
	}
	var found *Limit
	for i := range c.Limits {
		if c.Limits[i].Class == class {
			return c.Limits[i]
		}
		if found == nil && c.Limits[i].Class == bare {
			found = &c.Limits[i]
		}
	}
	if found != nil {
		return *found
	}
	if c.Default.Amount > 0 {
		return c.Default
	}
	return Limit{Amount: 2, Unit: UnitDays}
}

// IsWorkday reports whether the calendar day of t (in the calendar's
// zone) is a working day: a swapped working day, or not a holiday nor a
// weekend day.
func (c Calendar) IsWorkday(t time.Time) bool {
	w, err := c.compile()
	if err != nil {
		w = c.fallback()
	}
	return w.workday(t.In(w.loc))
}

func (w *workCal) workday(t time.Time) bool {
	var buf [10]byte
	d := string(t.AppendFormat(buf[:0], time.DateOnly))
	if slices.Contains(w.workdays, d) {
		return true
	}
	return !w.weekend[t.Weekday()] && !slices.Contains(w.holidays, d)
}

// fallback is the compiled default calendar, used when a calendar that
// failed Validate is asked for a deadline anyway.
func (c Calendar) fallback() *workCal {
	w := &workCal{loc: chinaTime, start: 8*time.Hour + 30*time.Minute, end: 17*time.Hour + 30*time.Minute,
		holidays: c.Holidays, workdays: c.Workdays}
	w.weekend[time.Saturday], w.weekend[time.Sunday] = true, true
	if loc, err := loadLocation(c.Location); err == nil {
		w.loc = loc
	}
	return w
}

// clock returns the wall-clock time d after the midnight of day (correct
// across DST changes, unlike day.Add(d)).
func clock(day time.Time, d time.Duration) time.Time {
	y, m, dd := day.Date()
	return time.Date(y, m, dd, int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, day.Location())
}

func midnight(t time.Time, addDays int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+addDays, 0, 0, 0, 0, t.Location())
}

// Deadline returns when a case of the class key (see Limit) reported at
// start is due, counting working time only.
//
// Hours count the time between DayStart and DayEnd of working days: a
// report at night or on a holiday starts counting when the next working
// day begins. Days end at DayEnd of the Nth working day: the day of start
// counts as the first when the report came before its working hours began;
// otherwise (during or after working hours) the first is the next working
// day. The result is in the calendar's zone. A calendar that fails
// Validate is read with the default hours and weekend.
func (c Calendar) Deadline(start time.Time, class string) time.Time {
	w, err := c.compile()
	if err != nil {
		w = c.fallback()
	}
	return w.deadline(start.In(w.loc), c.Limit(class))
}

func (w *workCal) deadline(t time.Time, l Limit) time.Time {
	if l.Unit == UnitDays {
		day := midnight(t, 0)
		if !(w.workday(day) && !t.After(clock(day, w.start))) {
			day = midnight(day, 1)
		}
		n := l.Amount
		for i := 0; i < maxSearchDays; i, day = i+1, midnight(day, 1) {
			if w.workday(day) {
				if n--; n <= 0 {
					return clock(day, w.end)
				}
			}
		}
		return t.AddDate(0, 0, l.Amount)
	}
	left := time.Duration(l.Amount) * time.Hour
	for i := 0; i < maxSearchDays; i++ {
		day := midnight(t, 0)
		if w.workday(day) {
			ds, de := clock(day, w.start), clock(day, w.end)
			if t.Before(ds) {
				t = ds
			}
			if t.Before(de) {
				if avail := de.Sub(t); left <= avail {
					return t.Add(left)
				} else {
					left -= avail
				}
			}
		}
		t = midnight(t, 1)
	}
	return t.Add(left)
}

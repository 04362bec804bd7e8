package incidents

import (
	"errors"
	"testing"
	"time"
)

func TestDeadline(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day string, hm string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hm, sh)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	national := []string{"2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"}
	plain := DefaultCalendar()
	holidays := DefaultCalendar()
	holidays.Holidays = national
	swapped := DefaultCalendar()
	swapped.Holidays = national
	swapped.Workdays = []string{"2026-10-10"} // Saturday, a working day (调休)
	tests := map[string]struct {
		cal   Calendar
		start time.Time
		class string
		want  time.Time
	}{
		"hours within a day":                  {plain, at("2026-10-12", "09:00"), "event:0102", at("2026-10-12", "13:00")},
		"hours across the evening":            {plain, at("2026-09-30", "16:30"), "event:0102", at("2026-10-01", "11:30")},
		"a holiday moves the deadline":        {holidays, at("2026-09-30", "16:30"), "event:0102", at("2026-10-08", "11:30")},
		"a weekend is skipped":                {holidays, at("2026-10-09", "16:30"), "event:0102", at("2026-10-12", "11:30")},
		"a swapped working Saturday counts":   {swapped, at("2026-10-09", "16:30"), "event:0102", at("2026-10-10", "11:30")},
		"a night report starts next morning":  {plain, at("2026-10-12", "22:00"), "event:0104", at("2026-10-13", "10:30")},
		"an early report starts at opening":   {plain, at("2026-10-12", "03:00"), "event:0104", at("2026-10-12", "10:30")},
		"a report on Sunday starts on Monday": {plain, at("2026-10-11", "12:00"), "event:0104", at("2026-10-12", "10:30")},
		"ending exactly at closing":           {plain, at("2026-10-12", "13:30"), "event:0102", at("2026-10-12", "17:30")},
		"24 hours of a cover span 3 days":     {plain, at("2026-10-12", "08:30"), "component:0101", at("2026-10-14", "14:30")},
		"days: during work, next day first":   {plain, at("2026-10-12", "10:00"), "event:0699", at("2026-10-14", "17:30")},
		"days: before work, the day counts":   {plain, at("2026-10-12", "07:00"), "event:0699", at("2026-10-13", "17:30")},
		"days: a holiday moves the deadline":  {holidays, at("2026-09-30", "10:00"), "event:0699", at("2026-10-09", "17:30")},
		"days: a swapped Saturday counts":     {swapped, at("2026-10-08", "10:00"), "event:0699", at("2026-10-10", "17:30")},
		"a bare class limit":                  {Calendar{Limits: []Limit{{Class: "0505", Amount: 3, Unit: UnitHours}}}, at("2026-10-12", "09:00"), "event:0505", at("2026-10-12", "12:00")},
		"the zero calendar: 2 working days":   {Calendar{}, at("2026-10-09", "10:00"), "event:0505", at("2026-10-13", "17:30")},
		"a start in UTC":                      {plain, at("2026-10-12", "09:00").UTC(), "event:0102", at("2026-10-12", "13:00")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := tc.cal.Validate(); err != nil {
				t.Fatal(err)
			}
			got := tc.cal.Deadline(tc.start, tc.class)
			if !got.Equal(tc.want) {
				t.Fatalf("Deadline(%s, %s) = %s, want %s", tc.start, tc.class, got, tc.want)
			}
		})
	}
	if !swapped.IsWorkday(at("2026-10-10", "12:00")) || swapped.IsWorkday(at("2026-10-01", "12:00")) || swapped.IsWorkday(at("2026-10-11", "12:00")) {
		t.Error("IsWorkday disagrees with the calendar")
	}
}

func TestCalendarLimit(t *testing.T) {
	c := DefaultCalendar()
	for key, want := range map[string]Limit{
		"event:0102":     {Class: "event:0102", Amount: 4, Unit: UnitHours},
		"event:0104":     {Class: "event:0104", Amount: 2, Unit: UnitHours},
		"event:0101":     {Class: "event:0101", Amount: 4, Unit: UnitHours},
		"component:0101": {Class: "component:0101", Amount: 24, Unit: UnitHours},
		"component:0405": {Amount: 2, Unit: UnitDays},
	} {
		if got := c.Limit(key); got != want {
			t.Errorf("Limit(%s) = %+v, want %+v", key, got, want)
		}
	}
}

func TestCalendarValidate(t *testing.T) {
	tests := map[string]struct {
		mod   func(c *Calendar)
		field string
	}{
		"bad start":        {func(c *Calendar) { c.DayStart = "8h" }, "dayStart"},
		"end before start": {func(c *Calendar) { c.DayEnd = "08:00" }, "dayEnd"},
		"bad zone":         {func(c *Calendar) { c.Location = "Mars/Olympus" }, "location"},
		"bad holiday":      {func(c *Calendar) { c.Holidays = []string{"2026-13-01"} }, "holidays[0]"},
		"holiday and work": {func(c *Calendar) { c.Holidays, c.Workdays = []string{"2026-10-10"}, []string{"2026-10-10"} }, "holidays[0]"},
		"bad unit":         {func(c *Calendar) { c.Limits = []Limit{{Class: "0101", Amount: 1, Unit: "weeks"}} }, "limits[0].unit"},
		"zero amount":      {func(c *Calendar) { c.Limits = []Limit{{Class: "0101", Unit: UnitDays}} }, "limits[0].amount"},
		"bad class":        {func(c *Calendar) { c.Limits = []Limit{{Class: "bus:0101", Amount: 1, Unit: UnitDays}} }, "limits[0].class"},
		"twice":            {func(c *Calendar) { c.Limits = append(c.Limits, c.Limits[0]) }, ""},
		"bad weekday":      {func(c *Calendar) { c.Weekend = []time.Weekday{9} }, "weekend"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := DefaultCalendar()
			tc.mod(&c)
			err := c.Validate()
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want a *FieldError", err)
			}
			if name != "twice" && fe.Field != tc.field {
				t.Fatalf("field %q, want %q (%v)", fe.Field, tc.field, err)
			}
		})
	}
	c := DefaultCalendar()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// An invalid calendar still answers, with the default hours.
	bad := Calendar{DayStart: "nonsense"}
	start := time.Date(2026, 10, 12, 9, 0, 0, 0, chinaTime)
	if got := bad.Deadline(start, "x"); !got.Equal(time.Date(2026, 10, 14, 17, 30, 0, 0, chinaTime)) {
		t.Fatalf("got %s", got)
	}
}

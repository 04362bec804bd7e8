package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"citytwin/incidents"
)

// statsRow is one line of GET /incidents/stats: 结案率 closureRate =
// closed / due and 按期结案率 onTimeRate = closedOnTime / due, in percent
// rounded to 2 decimals.
type statsRow struct {
	Key          string  `json:"key"`
	Due          int     `json:"due"`
	Closed       int     `json:"closed"`
	ClosedOnTime int     `json:"closedOnTime"`
	ClosureRate  float64 `json:"closureRate"`
	OnTimeRate   float64 `json:"onTimeRate"`
}

// statsDoc is the answer of GET /incidents/stats.
type statsDoc struct {
	From  time.Time  `json:"from"`
	To    time.Time  `json:"to"`
	By    string     `json:"by"`
	Rows  []statsRow `json:"rows"`
	Total statsRow   `json:"total"`
}

func statsRowOf(r incidents.Row) statsRow {
	return statsRow{Key: r.Key, Due: r.Due, Closed: r.Closed, ClosedOnTime: r.OnTime, ClosureRate: r.ClosureRate, OnTimeRate: r.OnTimeRate}
}

// incidentStats: GET /incidents/stats?from=&to=&by=dept|street|grid|class.
// A case counts in the period [from, to) when its deadline falls in it;
// from and to are dates (2006-01-02, midnight in the calendar's zone) or
// RFC 3339 times; the default period is the 30 days up to now.
func (a *caseAPI) incidentStats(c echo.Context) error {
	q := c.QueryParams()
	if err := checkParams(q, []string{"from", "to", "by"}); err != nil {
		return err
	}
	now := a.now()
	loc := calendarZone(a.twin.Calendar())
	var errs []error
	when := func(key string, def time.Time) time.Time {
		v, err := oneParam(q, key)
		if err != nil || v == "" {
			errs = append(errs, err)
			return def
		}
		if t, err := time.ParseInLocation(dateLayout, v, loc); err == nil {
			return t
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, badInput(key, "%q is not a date (2006-01-02) or an RFC 3339 time", clipString(v)))
		}
		return t
	}
	to := when("to", now)
	from := when("from", to.AddDate(0, 0, -30))
	by, err := oneParam(q, "by")
	errs = append(errs, err)
	switch by {
	case "", incidents.ByDept, incidents.ByStreet, incidents.ByGrid, incidents.ByClass:
	default:
		errs = append(errs, badInput("by", "%q is not dept, street, grid or class", clipString(by)))
	}
	if err := joinInput(errs...); err != nil {
		return err
	}
	if !to.After(from) {
		return badInput("to", "%s is not after from (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	rows, total, err := incidents.Evaluate(a.twin.Cases().All, from, to, by, now)
	if err != nil {
		return err
	}
	out := statsDoc{From: from, To: to, By: by, Rows: make([]statsRow, len(rows)), Total: statsRowOf(total)}
	for i, r := range rows {
		out.Rows[i] = statsRowOf(r)
	}
	return writeJSON(c, http.StatusOK, mediaJSON, out)
}

// calendarZone is the zone of the work calendar (dates of the stats
// period are days there); UTC+8 when it names no zone this host knows.
func calendarZone(cal incidents.Calendar) *time.Location {
	name := cal.Location
	if name == "" {
		name = incidents.DefaultLocation
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}
